"""The library sits below the study: import-linter's contracts hold (pyproject.toml), and no library module names
a chapter of the book or imports the study."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "vidsal_core"


def _lint_imports() -> str:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if found is None:
        pytest.skip("import-linter is not installed (make venv installs it)")
    return found


def test_the_import_contracts_hold():
    result = subprocess.run([_lint_imports()], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 kept, 0 broken" in result.stdout


def test_a_library_module_importing_the_study_breaks_the_contracts(tmp_path):
    """The contracts can fail: a copy of the project whose library imports the study is refused."""
    copy = tmp_path / "project"
    for name in ("vidsal_core", "vidsal_study"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    errors = copy / "vidsal_core" / "errors.py"
    errors.write_text(errors.read_text() + "\n\ndef _late():\n    from vidsal_study import results  # noqa: F401\n")
    result = subprocess.run([_lint_imports()], cwd=copy, capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert "vidsal_core.errors -> vidsal_study.results" in result.stdout


def test_no_library_module_names_a_chapter_or_the_study():
    offenders = []
    for path in sorted(LIBRARY.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"chapter|vidsal_study", line, re.IGNORECASE):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
