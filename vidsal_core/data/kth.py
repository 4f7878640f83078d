"""The real KTH action dataset (Schuldt, Laptev and Caputo, ICPR 2004) from its files.

KTH ships 599 files ``personNN_action_dN_uncomp.avi`` (25 persons, 6 actions,
4 scenarios; ``person13_handclapping_d3`` was never recorded) and a listing,
``00sequences.txt``, that cuts each file into about four subsequences, one
repetition of the action each, as 1-based inclusive frame ranges::

    person01_boxing_d1		frames	1-95, 96-185, 186-245, 246-360
    person13_handclapping_d3		*missing*

:class:`KTHDataset` serves either one item per subsequence (the default) or
one per file, from any directory tree holding the files (flat, or KTH's own
one-folder-per-action layout). Inside vidsal every frame range is 0-based and
half-open, ``(start, stop)`` as in ``video[start:stop]``.

Choices where KTH is irregular:

- A file with no line in ``00sequences.txt`` is served whole, as one item
  (``meta["subsequence"] is None``); the dataset lists such files in
  ``files_without_entry`` and warns once when it is built.
- Subsequences that overlap or are listed out of order are kept as listed.
- A subsequence the file cannot deliver in full (a public report says the
  last one of ``person01_boxing_d4`` is truncated) raises
  :class:`~vidsal_core.errors.VideoFileError` when read; leave it out with
  ``exclude=("person01_boxing_d4#3",)`` (or the whole file, ``"person01_boxing_d4"``).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch

from vidsal_core.data.clips import ClipSampling, clip_indices, resize_and_crop
from vidsal_core.data.dataset import (
    KTH_ACTIONS,
    KTH_SCENARIOS,
    KTH_SPLITS,
    VideoDataset,
    VideoItem,
    split_of_person,
)
from vidsal_core.data.video import read_video
from vidsal_core.errors import ClipError, ConfigError, DatasetError, VideoFileError, VideoNotFoundError

#: Name of KTH's subsequence listing.
KTH_SEQUENCES_FILE = "00sequences.txt"
#: Suffix of every KTH video file.
KTH_FILE_SUFFIX = "_uncomp.avi"
#: File extensions :class:`VideoFolderDataset` picks up from a directory.
VIDEO_EXTENSIONS: tuple[str, ...] = (".avi", ".mp4", ".mov", ".mkv", ".mpg", ".mpeg", ".webm", ".m4v")

_RANGE = re.compile(r"(\d+)\s*-\s*(\d+)")


def parse_kth_name(filename: str | Path) -> dict[str, Any]:
    """Read person, action and scenario from a KTH file name.

    Parameters
    ----------
    filename : str or path-like
        ``personNN_action_dN_uncomp.avi``, a path to one, or the bare stem
        ``personNN_action_dN`` used in ``00sequences.txt``.

    Returns
    -------
    dict
        ``stem`` (``personNN_action_dN``), ``person`` (int, 1-25), ``action``
        (one of ``KTH_ACTIONS``), ``scenario`` (one of ``KTH_SCENARIOS``).

    Raises
    ------
    DatasetError
        The name does not follow the pattern, or names a person, action or
        scenario KTH does not have.
    """
    name = Path(filename).name
    stem = name[: -len(KTH_FILE_SUFFIX)] if name.endswith(KTH_FILE_SUFFIX) else name
    parts = stem.split("_")
    if len(parts) != 3 or not parts[0].startswith("person"):
        raise DatasetError(f"{filename}: not a KTH name; expected personNN_action_dN{KTH_FILE_SUFFIX}")
    return {
        "stem": stem,
        "person": _parse_person(filename, parts[0]),
        "action": _parse_member(filename, "action", parts[1], KTH_ACTIONS),
        "scenario": _parse_member(filename, "scenario", parts[2], KTH_SCENARIOS),
    }


def _parse_person(filename: str | Path, part: str) -> int:
    """The person number of ``personNN``: two digits, 01 to 25."""
    digits = part[len("person"):]
    if not re.fullmatch(r"\d\d", digits) or not 1 <= int(digits) <= 25:
        raise DatasetError(f"{filename}: person {part!r} is not one of KTH's person01 to person25")
    return int(digits)


def _parse_member(filename: str | Path, what: str, part: str, known: Sequence[str]) -> str:
    """``part`` if it is one of ``known``, else a DatasetError naming the file."""
    if part not in known:
        raise DatasetError(f"{filename}: {what} {part!r} is not one of KTH's {', '.join(known)}")
    return part


def _parse_ranges(where: str, text: str) -> tuple[tuple[int, int], ...]:
    """``"1-95, 96-185"`` as 0-based half-open ``((0, 95), (95, 185))``."""
    pairs = [(int(first), int(last)) for first, last in _RANGE.findall(text)]
    if not pairs or _RANGE.sub("", text).replace(",", "").strip():
        raise DatasetError(f"{where}: cannot read frame ranges from {text.strip()!r}")
    for first, last in pairs:
        if first < 1 or last < first:
            raise DatasetError(f"{where}: frame range {first}-{last} is not 1-based with first <= last")
    return tuple((first - 1, last) for first, last in pairs)


def _parse_sequence_line(where: str, line: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """One ``personNN_action_dN  frames  a-b, ...`` (or ``*missing*``) line."""
    fields = line.split(None, 1)
    try:
        stem = parse_kth_name(fields[0])["stem"]
    except DatasetError as error:
        raise DatasetError(f"{where}: {error}") from None
    rest = fields[1].strip() if len(fields) > 1 else ""
    if rest == "*missing*":
        return stem, ()
    if not rest.startswith("frames"):
        raise DatasetError(f"{where}: expected 'frames' and ranges or '*missing*' after {stem}, got {rest!r}")
    return stem, _parse_ranges(where, rest[len("frames"):])


def read_kth_sequences(path: str | Path) -> dict[str, tuple[tuple[int, int], ...]]:
    """Read KTH's ``00sequences.txt``.

    Lines that do not start with ``person`` (the header, the split
    declarations, blank lines) are skipped; whitespace between fields may be
    any mix of tabs and spaces.

    Parameters
    ----------
    path : str or path-like
        The listing.

    Returns
    -------
    dict
        File stem (``person01_boxing_d1``) to its subsequences as 0-based
        half-open ``(start, stop)`` pairs, in the listed order; ``()`` for a
        file listed as ``*missing*``.

    Raises
    ------
    DatasetError
        ``path`` does not exist, a ``person`` line cannot be read (the
        message names the line), or a file is listed twice.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(
            f"{path}: no such KTH sequence listing; give sequences_file, or subsequences=False "
            "for one item per file"
        )
    sequences: dict[str, tuple[tuple[int, int], ...]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip().startswith("person"):
            continue
        stem, ranges = _parse_sequence_line(f"{path}, line {number}", line.strip())
        if stem in sequences:
            raise DatasetError(f"{path}, line {number}: {stem} is listed a second time")
        sequences[stem] = ranges
    return sequences


def find_kth_files(root: str | Path) -> dict[str, Path]:
    """Every ``*.avi`` under ``root``, by KTH stem; any other AVI name is an error.

    Raises
    ------
    VideoNotFoundError
        ``root`` is not a directory.
    DatasetError
        An AVI file whose name is not a valid KTH name, or a stem found twice.
    """
    root = Path(root)
    if not root.is_dir():
        raise VideoNotFoundError(f"{root}: no such KTH directory")
    files: dict[str, Path] = {}
    for path in sorted(root.rglob("*.avi")):
        stem = parse_kth_name(path)["stem"]
        if not path.name.endswith(KTH_FILE_SUFFIX):
            raise DatasetError(f"{path}: KTH files end in {KTH_FILE_SUFFIX}")
        if stem in files:
            raise DatasetError(f"{path}: {stem} also found at {files[stem]}")
        files[stem] = path
    return files


def _check_actions(actions: Iterable[str] | None) -> tuple[str, ...]:
    """The chosen actions in KTH order; ConfigError for unknown or repeated ones."""
    if actions is None:
        return KTH_ACTIONS
    if isinstance(actions, str):
        raise ConfigError(f"actions={actions!r}: give a tuple of action names, e.g. ('walking', 'running')")
    chosen = list(actions)
    unknown = [action for action in chosen if action not in KTH_ACTIONS]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        raise ConfigError(
            f"actions={tuple(chosen)!r}: expected distinct names from {', '.join(KTH_ACTIONS)}"
            + (f"; unknown: {', '.join(map(str, unknown))}" if unknown else "")
        )
    return tuple(action for action in KTH_ACTIONS if action in chosen)


def _check_split(split: str | None) -> tuple[int, ...]:
    """Persons of ``split`` (all 25 for ``None``); ConfigError for an unknown split."""
    if split is None:
        return tuple(range(1, 26))
    if split not in KTH_SPLITS:
        raise ConfigError(f"split={split!r}: expected None or one of {', '.join(KTH_SPLITS)}")
    return KTH_SPLITS[split]


def _check_exclude(exclude: Iterable[str]) -> frozenset[str]:
    """Exclusions as a set, each a KTH stem or ``stem#k``; ConfigError for a misspelt one."""
    if isinstance(exclude, str):
        exclude = (exclude,)
    exclude = frozenset(exclude)
    for entry in exclude:
        stem, _, number = str(entry).partition("#")
        try:
            parse_kth_name(stem)
        except DatasetError as error:
            raise ConfigError(f"exclude: {error}") from None
        if "#" in str(entry) and not number.isdigit():
            raise ConfigError(f"exclude: {entry!r} must be a KTH stem or stem#k with k a subsequence index")
    return exclude


class KTHDataset(VideoDataset):
    """Real KTH videos from a directory, one item per subsequence or per file.

    Parameters
    ----------
    root : str or path-like
        Directory holding the ``*_uncomp.avi`` files (in any subfolders) and,
        unless ``sequences_file`` says otherwise, ``00sequences.txt``.
    split : {"train", "validation", "test"} or None, default "train"
        KTH's split by person (``KTH_SPLITS``); ``None`` takes all 25 persons.
    actions : sequence of str or None, default None
        Actions to keep; ``classes`` lists them in KTH order and labels index
        ``classes``. ``None`` keeps all six.
    subsequences : bool, default True
        One item per subsequence of ``00sequences.txt``; ``False``: one per file.
    clip_length : int or None, default None
        Cut each item to this many frames (see ``step``, ``offset``); ``None``
        returns the whole subsequence or file.
    step : int, default 1
        Distance between clip frames.
    offset : int, default 0
        First clip frame, counted from the start of the subsequence or file.
    size : pair of int or None, default None
        Resize frames to ``(height, width)``, bilinear.
    crop : pair of int or None, default None
        Then centre-crop to ``(height, width)``.
    grayscale : bool, default True
        One channel (KTH is gray footage); ``False`` gives three equal channels.
    sequences_file : str or path-like or None, default None
        The listing; ``None`` means ``root / "00sequences.txt"``.
    exclude : iterable of str, default ()
        Files (``"person01_boxing_d4"``) or subsequences
        (``"person01_boxing_d4#3"``, 0-based) to leave out.

    Attributes
    ----------
    classes : tuple of str
        The chosen actions, in KTH order.
    entries : list of dict
        One per item, known without decoding: ``id``, ``path``, ``person``,
        ``action``, ``scenario``, ``split``, ``subsequence`` (0-based index in
        the listing, or ``None`` for a whole file), ``frames`` (``(start,
        stop)`` in the file, or ``None`` for a whole file), ``label``.
    files_without_entry : list of str
        Stems served whole because ``00sequences.txt`` has no line for them.

    Notes
    -----
    Each item's ``meta`` holds the entry's fields plus ``clip_frames``, the
    0-based file frame index of every returned frame, and ``frames`` filled in
    for whole files.
    """

    def __init__(
        self,
        root: str | Path,
        split: str | None = "train",
        actions: Iterable[str] | None = None,
        subsequences: bool = True,
        clip_length: int | None = None,
        step: int = 1,
        offset: int = 0,
        size: Sequence[int] | None = None,
        crop: Sequence[int] | None = None,
        grayscale: bool = True,
        sequences_file: str | Path | None = None,
        exclude: Iterable[str] = (),
    ) -> None:
        self.root = Path(root)
        self.classes = _check_actions(actions)
        self.split = split
        self.sampling = ClipSampling(clip_length, step, offset, size, crop)
        self.grayscale = bool(grayscale)
        exclude = _check_exclude(exclude)
        files = self._select_files(_check_split(split), exclude)
        sequences = None
        if subsequences:
            sequences = read_kth_sequences(sequences_file or self.root / KTH_SEQUENCES_FILE)
            self.files_without_entry = sorted(stem for stem in files if not sequences.get(stem))
        else:
            self.files_without_entry = []
        self.entries = self._build_entries(files, sequences, exclude)
        if not self.entries:
            raise DatasetError(f"{self.root}: no KTH videos for split={split!r}, actions={self.classes!r}")
        if self.files_without_entry:
            warnings.warn(
                f"{self.root}: {len(self.files_without_entry)} file(s) have no subsequences in "
                f"{KTH_SEQUENCES_FILE} and are served whole: {', '.join(self.files_without_entry)}",
                stacklevel=2,
            )

    def _select_files(self, persons: Sequence[int], exclude: frozenset[str]) -> dict[str, Path]:
        """KTH files under ``root`` of the chosen persons and actions, less the excluded ones."""
        selected = {}
        for stem, path in find_kth_files(self.root).items():
            name = parse_kth_name(stem)
            if name["person"] in persons and name["action"] in self.classes and stem not in exclude:
                selected[stem] = path
        return selected

    def _build_entries(
        self,
        files: dict[str, Path],
        sequences: dict[str, tuple[tuple[int, int], ...]] | None,
        exclude: frozenset[str],
    ) -> list[dict[str, Any]]:
        """One entry per subsequence (or file), sorted by class, person, scenario, subsequence."""
        entries = []
        for stem, path in files.items():
            ranges = sequences.get(stem) if sequences is not None else None
            pieces = list(enumerate(ranges)) if ranges else [(None, None)]
            for subsequence, frames in pieces:
                entry = self._entry(stem, path, subsequence, frames)
                if entry["id"] not in exclude:
                    entries.append(entry)
        return sorted(entries, key=lambda e: (e["label"], e["person"], e["scenario"], e["subsequence"] or 0))

    def _entry(
        self, stem: str, path: Path, subsequence: int | None, frames: tuple[int, int] | None
    ) -> dict[str, Any]:
        """Everything known about one item before decoding it."""
        name = parse_kth_name(stem)
        return {
            "id": stem if subsequence is None else f"{stem}#{subsequence}",
            "path": str(path),
            "person": name["person"],
            "action": name["action"],
            "scenario": name["scenario"],
            "split": split_of_person(name["person"]),
            "subsequence": subsequence,
            "frames": frames,
            "label": self.classes.index(name["action"]),
        }

    def __len__(self) -> int:
        """Number of items (subsequences or files)."""
        return len(self.entries)

    def labels(self) -> list[int]:
        """Labels of all items, without decoding any video."""
        return [entry["label"] for entry in self.entries]

    def __getitem__(self, index: int) -> VideoItem:
        """Decode item ``index``: its subsequence (or file), clipped, resized and cropped."""
        entry = self.entries[index]
        if entry["frames"] is None:
            video, meta = self._read_whole(entry)
        else:
            video, meta = self._read_range(entry)
        video = resize_and_crop(video, self.sampling.size, self.sampling.crop)
        return VideoItem(video=video, label=entry["label"], meta=meta)

    def _clip_indices(self, entry: dict[str, Any], n_frames: int) -> np.ndarray:
        """Indices of the clip within an item of ``n_frames``; ClipError naming the item."""
        sampling = self.sampling
        if sampling.clip_length is None:
            return np.arange(n_frames, dtype=np.int64)
        try:
            return clip_indices(n_frames, sampling.clip_length, sampling.step, sampling.offset)
        except ClipError as error:
            raise ClipError(f"{entry['id']} ({entry['path']}): {error}") from None

    def _read_range(self, entry: dict[str, Any]) -> tuple[torch.Tensor, dict[str, Any]]:
        """Read just the frames of a subsequence that its clip needs."""
        start, stop = entry["frames"]
        indices = self._clip_indices(entry, stop - start)
        first, count = start + int(indices.min()), int(indices.max() - indices.min()) + 1
        video = self._read_checked(entry, first, count)
        clip = video[torch.from_numpy(indices - indices.min())]
        return clip, {**entry, "clip_frames": tuple(int(i) for i in start + indices)}

    def _read_checked(self, entry: dict[str, Any], first: int, count: int) -> torch.Tensor:
        """Frames ``first`` to ``first + count`` of the entry's file, all of them or an error."""
        try:
            video = read_video(entry["path"], self.grayscale, max_frames=count, start=first)
        except (ClipError, VideoFileError) as error:
            problem = str(error).removeprefix(f"{entry['path']}: ")
            raise VideoFileError(self._range_problem(entry, problem)) from None
        if video.shape[0] < count:
            problem = f"the file ends after {first + video.shape[0]} frames"
            raise VideoFileError(self._range_problem(entry, problem))
        return video

    def _range_problem(self, entry: dict[str, Any], problem: str) -> str:
        """Message for a subsequence the file cannot deliver."""
        start, stop = entry["frames"]
        return (
            f"{entry['path']}: subsequence {entry['subsequence']} of {KTH_SEQUENCES_FILE} needs frames "
            f"{start} to {stop - 1}, but {problem}; leave it out with exclude=({entry['id']!r},)"
        )

    def _read_whole(self, entry: dict[str, Any]) -> tuple[torch.Tensor, dict[str, Any]]:
        """Read a whole file, then take its clip."""
        video = read_video(entry["path"], self.grayscale)
        indices = self._clip_indices(entry, video.shape[0])
        meta = {**entry, "frames": (0, video.shape[0]), "clip_frames": tuple(int(i) for i in indices)}
        return video[torch.from_numpy(indices)], meta


def _parent_name(path: Path) -> str:
    """Default class of a user's clip: the name of its folder."""
    return path.parent.name


def _list_videos(paths_or_dir: str | Path | Iterable[str | Path], extensions: Sequence[str]) -> list[Path]:
    """Video files of a directory (recursively, by extension) or of an explicit list."""
    if isinstance(paths_or_dir, (str, Path)):
        directory = Path(paths_or_dir)
        if not directory.exists():
            raise VideoNotFoundError(f"{directory}: no such directory or file")
        if directory.is_file():
            return [directory]
        return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in extensions)
    paths = [Path(path) for path in paths_or_dir]
    for path in paths:
        if not path.is_file():
            raise VideoNotFoundError(f"{path}: no such video file")
    return paths


class VideoFolderDataset(VideoDataset):
    """A user's own video files (anything OpenCV reads), one item per file.

    Parameters
    ----------
    paths_or_dir : str, path-like or iterable of them
        A directory (searched recursively for ``extensions``), one file, or a
        list of files.
    label_of : callable or None, default None
        ``label_of(path) -> str``, the class name of a file; ``None`` uses the
        name of the file's folder.
    classes : sequence of str or None, default None
        The class names, in label order; ``None`` sorts the names found.
    grayscale : bool or None, default False
        As in :func:`~vidsal_core.data.video.read_video` (``None``: per file).
    clip_length, step, offset, size, crop
        As in :class:`KTHDataset`, applied to the whole file.
    extensions : sequence of str, default ``VIDEO_EXTENSIONS``
        File endings (lower case, with the dot) taken from a directory.
    """

    def __init__(
        self,
        paths_or_dir: str | Path | Iterable[str | Path],
        label_of: Callable[[Path], str] | None = None,
        classes: Sequence[str] | None = None,
        grayscale: bool | None = False,
        clip_length: int | None = None,
        step: int = 1,
        offset: int = 0,
        size: Sequence[int] | None = None,
        crop: Sequence[int] | None = None,
        extensions: Sequence[str] = VIDEO_EXTENSIONS,
    ) -> None:
        self.paths = _list_videos(paths_or_dir, tuple(extensions))
        if not self.paths:
            raise DatasetError(f"{paths_or_dir}: no video files ending in {', '.join(extensions)}")
        label_of = label_of or _parent_name
        names = [str(label_of(path)) for path in self.paths]
        self.classes = tuple(classes) if classes is not None else tuple(sorted(set(names)))
        for path, name in zip(self.paths, names):
            if name not in self.classes:
                raise DatasetError(f"{path}: class {name!r} is not one of {self.classes!r}")
        self._labels = [self.classes.index(name) for name in names]
        self.grayscale = grayscale
        self.sampling = ClipSampling(clip_length, step, offset, size, crop)

    def __len__(self) -> int:
        """Number of files."""
        return len(self.paths)

    def labels(self) -> list[int]:
        """Labels of all files, without decoding any video."""
        return list(self._labels)

    def __getitem__(self, index: int) -> VideoItem:
        """Decode file ``index`` and cut its clip."""
        path = self.paths[index]
        video = read_video(path, self.grayscale)
        try:
            clip = self.sampling.apply(video)
        except ClipError as error:
            raise ClipError(f"{path}: {error}") from None
        meta = {"path": str(path), "class": self.classes[self._labels[index]], "frames": (0, video.shape[0])}
        return VideoItem(video=clip, label=self._labels[index], meta=meta)
