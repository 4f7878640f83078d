"""SynthKTH corpora: build once, cache under ``data/`` by a hash of the config.

A corpus is a set of rendered SynthKTH videos (see :mod:`vidsal_core.data.synthkth`)
described by a :class:`CorpusConfig`. :func:`build_corpus` renders the videos
that are missing, one ``.npz`` file each, written atomically, so an interrupted
build resumes where it stopped and a finished one is reused as it is. The
folder is named by a hash of the configuration *and* of the renderer's source,
so changing either builds a new corpus beside the old one.

:meth:`Corpus.dataset` exposes a split of the corpus through the shared
:class:`~vidsal_core.data.dataset.VideoDataset` interface, as whole videos or
as clips cut with a length, step size and offset.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from vidsal_core.data.dataset import (
    KTH_ACTIONS,
    KTH_SCENARIOS,
    VideoDataset,
    VideoItem,
    split_of_person,
)
from vidsal_core.data.sequences import DEFAULT_IN_VIEW, LISTING_NAME, acting_ranges, check_in_view, write_sequence_listings
from vidsal_core.errors import ConfigError, DatasetError
from vidsal_core.data.synthkth import render_video
from vidsal_core.data.synthkth import VideoSpec
from vidsal_core.data.clips import clip_span
from vidsal_core.data.clips import clip_indices
from vidsal_core.data.sequences import acting_offset

#: Where corpora live unless told otherwise.
DATA_DIR = Path(os.environ.get("VIDSAL_DATA", Path(__file__).resolve().parents[2] / "data"))

_RENDERER_SOURCES = ("synthkth.py", "kinematics.py")


def renderer_fingerprint() -> str:
    """sha256 of the renderer's source files: a renderer change invalidates caches."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _RENDERER_SOURCES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class CorpusConfig:
    """What to render.

    Parameters
    ----------
    persons : tuple of int
        KTH person numbers, 1 to 25 (default: all).
    actions : tuple of str
        Subset of :data:`KTH_ACTIONS`.
    scenarios : tuple of str
        Subset of :data:`KTH_SCENARIOS`.
    cycle_scenarios : bool
        If True, each (person, action) gets one scenario, cycled through
        ``scenarios`` (used for long videos, to keep the corpus small).
    seeds : tuple of int
        One video per seed for every (person, action, scenario).
    n_frames : int
        Frames per video (KTH's own videos last about 4 s at 25 fps).
    title_frames : tuple of int
        Each video is rendered once per entry: 0 = no title card, k = a static
        title card over the first k frames.
    height, width : int
        Frame size (KTH: 120 x 160).
    actions_per_person : int, optional
        Render only this many actions of each person, rotating: the person at
        position ``i`` of the sorted persons gets actions ``i·k, …, i·k + k − 1``
        (modulo the number of actions).
        None (the default) renders every action. The border study uses it so
        that it renders only the videos it explains.
    """

    persons: tuple[int, ...] = tuple(range(1, 26))
    actions: tuple[str, ...] = KTH_ACTIONS
    scenarios: tuple[str, ...] = KTH_SCENARIOS
    cycle_scenarios: bool = False
    seeds: tuple[int, ...] = (0,)
    n_frames: int = 48
    title_frames: tuple[int, ...] = (0,)
    height: int = 120
    width: int = 160
    actions_per_person: int | None = None

    def __post_init__(self) -> None:
        for name in ("persons", "actions", "scenarios", "seeds", "title_frames"):
            value = getattr(self, name)
            if isinstance(value, (str, int)) or not isinstance(value, Iterable):
                raise ConfigError(f"corpus config {name}={value!r}: expected a list")
            object.__setattr__(self, name, tuple(value))
            if not getattr(self, name):
                raise ConfigError(f"corpus config {name}: must not be empty")
        bad_persons = [p for p in self.persons if not isinstance(p, int) or not 1 <= p <= 25]
        if bad_persons:
            raise ConfigError(f"corpus config persons: {bad_persons} outside KTH's persons 1 to 25")
        bad_actions = [a for a in self.actions if a not in KTH_ACTIONS]
        if bad_actions:
            raise ConfigError(f"corpus config actions: unknown {bad_actions}; KTH has {list(KTH_ACTIONS)}")
        bad_scenarios = [s for s in self.scenarios if s not in KTH_SCENARIOS]
        if bad_scenarios:
            raise ConfigError(f"corpus config scenarios: unknown {bad_scenarios}; KTH has {list(KTH_SCENARIOS)}")
        if self.n_frames < 1:
            raise ConfigError(f"corpus config n_frames={self.n_frames}: must be at least 1")
        count = self.actions_per_person
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                  or not 1 <= count <= len(self.actions)):
            raise ConfigError(f"corpus config actions_per_person={count!r}: expected null or a whole number from 1 "
                              f"to the {len(self.actions)} actions")

    def person_actions(self, person: int) -> tuple[str, ...]:
        """The actions rendered for ``person``: every action, or its ``actions_per_person`` in rotation."""
        if self.actions_per_person is None:
            return self.actions
        position, count = sorted(self.persons).index(person), self.actions_per_person
        return tuple(self.actions[(position * count + j) % len(self.actions)] for j in range(count))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "CorpusConfig":
        """Build from a profile section; ``persons: all`` and ``scenarios: cycle`` are accepted."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"corpus config: unknown keys {unknown}; known keys are {sorted(known)}")
        values = dict(values)
        if values.get("persons") == "all":
            values["persons"] = tuple(range(1, 26))
        if values.get("scenarios") == "cycle":
            values["scenarios"] = KTH_SCENARIOS
            values["cycle_scenarios"] = True
        return cls(**values)

    def specs(self) -> list:
        """Every video of the corpus as a :class:`~vidsal_core.data.synthkth.VideoSpec`."""

        specs = []
        for person in self.persons:
            chosen = self.person_actions(person)
            for action_index, action in enumerate(self.actions):
                if action not in chosen:
                    continue
                if self.cycle_scenarios:
                    scenarios = (self.scenarios[(person + action_index) % len(self.scenarios)],)
                else:
                    scenarios = self.scenarios
                for scenario in scenarios:
                    for seed in self.seeds:
                        for title_frames in self.title_frames:
                            specs.append(VideoSpec(
                                action=action, person=person, scenario=scenario,
                                n_frames=self.n_frames, seed=seed, height=self.height,
                                width=self.width, title_frames=title_frames,
                            ))
        return specs

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict; ``actions_per_person`` only when set (so older corpora keep their hash)."""
        values = asdict(self)
        if values["actions_per_person"] is None:
            del values["actions_per_person"]
        return values

    def config_hash(self) -> str:
        """Hash of this configuration and of the renderer's source."""
        payload = json.dumps({"config": self.to_dict(), "renderer": renderer_fingerprint()}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _video_file(directory: Path, spec) -> Path:
    return directory / "videos" / f"{spec.key()}.npz"


def _save_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an ``.npz`` under a temporary name, then rename: never a half file."""
    temporary = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez_compressed(temporary, **arrays)
    os.replace(temporary, path)


def _render_and_save(directory: Path, spec) -> int:

    rendered = render_video(spec)
    _save_atomically(_video_file(directory, spec), {
        "frames": rendered.frames,
        "parts": rendered.parts,
        "visibility": rendered.visibility,
        "limb_motion": rendered.limb_motion,
        "meta": np.array(json.dumps(rendered.meta, default=_json_default)),
    })
    return spec.n_frames


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _render_worker(arguments: tuple[str, Any]) -> int:
    directory, spec = arguments
    return _render_and_save(Path(directory), spec)


@dataclass
class BuildReport:
    """What :func:`build_corpus` did."""

    videos: int
    rendered: int
    frames_rendered: int
    seconds: float
    bytes_on_disk: int
    workers: int = 1

    @property
    def frames_per_second(self) -> float:
        return self.frames_rendered / self.seconds if self.seconds > 0 else float("nan")


def build_corpus(
    config: CorpusConfig,
    root: str | Path | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> "Corpus":
    """Render what is missing of a corpus and return it.

    Parameters
    ----------
    config : CorpusConfig
        What to render.
    root : path, optional
        Parent folder of corpora (default ``data/synthkth``).
    workers : int, optional
        Processes that render in parallel. By default one per core, at most one
        per 8 missing videos (so a small build stays in this process). A video
        is rendered from its own seed, so the files do not depend on it.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Corpus
        With ``corpus.build_report`` saying how many videos were rendered now.
    """
    from tqdm.auto import tqdm

    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers={workers}: must be at least 1")
    directory = Path(root or DATA_DIR / "synthkth") / config.config_hash()
    (directory / "videos").mkdir(parents=True, exist_ok=True)
    specs = config.specs()
    missing = [spec for spec in specs if not _video_file(directory, spec).exists()]
    if workers is None:
        workers = max(1, min(os.cpu_count() or 1, len(missing) // 8))
    start = time.perf_counter()
    frames_rendered = 0
    bar = tqdm(total=len(specs), initial=len(specs) - len(missing), unit="video",
               desc=f"SynthKTH {directory.name}", disable=not progress)
    if workers == 1:
        for spec in missing:
            frames_rendered += _render_and_save(directory, spec)
            bar.update(1)
    else:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            jobs = [(str(directory), spec) for spec in missing]
            for n_frames in pool.imap_unordered(_render_worker, jobs, chunksize=4):
                frames_rendered += n_frames
                bar.update(1)
    bar.close()
    seconds = time.perf_counter() - start
    index = {
        "config": config.to_dict(),
        "config_hash": config.config_hash(),
        "renderer": renderer_fingerprint(),
        "videos": [
            {"key": spec.key(), "action": spec.action, "person": spec.person,
             "scenario": spec.scenario, "seed": spec.seed, "title_frames": spec.title_frames,
             "n_frames": spec.n_frames, "split": split_of_person(spec.person)}
            for spec in specs
        ],
    }
    index_path = directory / "corpus.json"
    temporary = index_path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(index, indent=1))
    os.replace(temporary, index_path)
    size = sum(path.stat().st_size for path in (directory / "videos").glob("*.npz"))
    corpus = Corpus(directory)
    if missing or not (directory / LISTING_NAME).is_file():
        write_sequence_listings(corpus)  # KTH's 00sequences.txt, from the ground truth (vidsal_core.data.sequences)
    corpus.build_report = BuildReport(len(specs), len(missing), frames_rendered, seconds, size, workers)
    return corpus


class Corpus:
    """A built corpus on disk.

    Parameters
    ----------
    directory : path
        A folder written by :func:`build_corpus` (it holds ``corpus.json``).
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        index_path = self.directory / "corpus.json"
        if not index_path.is_file():
            raise DatasetError(f"{self.directory}: not a SynthKTH corpus (no corpus.json); build it with build_corpus")
        index = json.loads(index_path.read_text())
        self.config = CorpusConfig.from_dict(index["config"])
        self.config_hash: str = index["config_hash"]
        self.videos: list[dict[str, Any]] = index["videos"]
        self.build_report: BuildReport | None = None

    def __len__(self) -> int:
        return len(self.videos)

    def __repr__(self) -> str:
        return f"Corpus({self.directory}, {len(self)} videos of {self.config.n_frames} frames)"

    def load(self, key: str) -> dict[str, np.ndarray]:
        """Arrays of one video: ``frames``, ``parts`` (T, H, W) uint8, ``visibility``, ``limb_motion`` (T,), ``meta``."""
        return _load_npz(str(self.directory / "videos" / f"{key}.npz"))

    def spec(self, entry: dict[str, Any]):
        """The :class:`~vidsal_core.data.synthkth.VideoSpec` of an index entry."""

        return VideoSpec(action=entry["action"], person=entry["person"], scenario=entry["scenario"],
                         n_frames=entry["n_frames"], seed=entry["seed"], height=self.config.height,
                         width=self.config.width, title_frames=entry["title_frames"])

    def render(self, entry: dict[str, Any], with_flow: bool = True):
        """Render an entry again, e.g. with its true motion field (not cached: large, and quick to render)."""

        return render_video(self.spec(entry), with_flow=with_flow)

    def select(
        self,
        split: str | None = None,
        actions: Sequence[str] | None = None,
        scenarios: Sequence[str] | None = None,
        title_frames: int | None = None,
    ) -> list[dict[str, Any]]:
        """Index entries of the videos matching every given filter."""
        if split is not None and split not in ("train", "validation", "test"):
            raise ConfigError(f"split={split!r}: choose train, validation or test")
        for name, values, known in (("actions", actions, KTH_ACTIONS), ("scenarios", scenarios, KTH_SCENARIOS)):
            if values is not None:
                unknown = [v for v in values if v not in known]
                if unknown:
                    raise ConfigError(f"{name}={list(values)}: unknown {unknown}")
        return [
            video for video in self.videos
            if (split is None or video["split"] == split)
            and (actions is None or video["action"] in actions)
            and (scenarios is None or video["scenario"] in scenarios)
            and (title_frames is None or video["title_frames"] == title_frames)
        ]

    def visibility(self, entry: dict[str, Any]) -> np.ndarray:
        """``(T,)`` visibility of one video, read alone from its file (the frames stay compressed)."""
        return _load_visibility(str(self.directory / "videos" / f"{entry['key']}.npz"))

    def inside_entries(self, entries: Sequence[dict[str, Any]], span: int,
                       in_view: float = DEFAULT_IN_VIEW) -> list[dict[str, Any]]:
        """The ``entries`` whose video has a run of at least ``span`` frames with visibility >= ``in_view``.

        A clip spanning ``span`` frames fits wholly inside such a run (KTH's
        practice: clips are cut inside ``00sequences.txt``'s subsequences);
        the other videos hold no such clip. Only each file's ``visibility``
        member is read.
        """
        check_in_view(in_view)
        if isinstance(span, bool) or not isinstance(span, (int, np.integer)) or span < 1:
            raise ConfigError(f"span={span!r}: expected a positive number of frames")
        return [entry for entry in entries
                if acting_ranges(self.visibility(entry), int(entry.get("title_frames", 0)), in_view, min_frames=int(span))]

    def dataset(
        self,
        split: str | None = None,
        actions: Sequence[str] | None = None,
        scenarios: Sequence[str] | None = None,
        clip_length: int | None = None,
        step: int = 1,
        offset: int | str = 0,
        size: tuple[int, int] | None = None,
        title_frames: int | None = None,
        with_truth: bool = False,
        in_view: float = DEFAULT_IN_VIEW,
        inside: bool = False,
    ) -> "SynthKTHDataset":
        """A split of the corpus as a :class:`VideoDataset`.

        Parameters
        ----------
        split : {"train", "validation", "test"}, optional
            KTH's split by person; None = every video.
        actions : sequence of str, optional
            A subset of actions (labels are re-numbered in KTH order).
        clip_length, step, offset : optional
            Cut a clip of ``clip_length`` frames, every ``step``-th frame, from
            frame ``offset`` (``"center"`` centres the clip in the video,
            ``"acting"`` on the longest run of frames with the person in view:
            :func:`vidsal_core.data.sequences.acting_offset`). None = whole
            video. Every item's ``meta["acting_ranges"]`` lists the video's
            acting ranges (0-based, half-open, in video frames).
        size : (H, W), optional
            Resize frames (bilinear) and part maps (nearest).
        with_truth : bool
            Attach part maps, visibility and limb motion as ``item.truth``.
        in_view : float, default 0.5
            Least visibility of a frame in the acting ranges (0 < in_view <= 1;
            :func:`vidsal_core.data.sequences.acting_ranges`).
        inside : bool, default False
            Keep only the videos with an acting range as long as the clip's
            span (:meth:`inside_entries`); with ``offset="acting"`` every clip
            then lies wholly inside the video's longest acting range. Needs
            ``clip_length``.
        """
        return SynthKTHDataset(self, self.select(split, actions, scenarios, title_frames),
                               actions=actions, clip_length=clip_length, step=step,
                               offset=offset, size=size, with_truth=with_truth, in_view=in_view, inside=inside)


@lru_cache(maxsize=64)
def _load_npz(path: str) -> dict[str, np.ndarray]:
    if not Path(path).is_file():
        raise DatasetError(f"{path}: video missing from the corpus; run build_corpus again to render it")
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["meta"] = json.loads(str(arrays["meta"]))
    return arrays


@lru_cache(maxsize=4096)
def _load_visibility(path: str) -> np.ndarray:
    if not Path(path).is_file():
        raise DatasetError(f"{path}: video missing from the corpus; run build_corpus again to render it")
    with np.load(path) as archive:
        visibility = archive["visibility"]  # only this member is decompressed
    visibility.setflags(write=False)
    return visibility


@dataclass
class SynthTruth:
    """Ground truth of one SynthKTH clip, cut like the clip's frames.

    Attributes
    ----------
    parts : torch.Tensor
        ``(T, H, W)`` uint8 body-part labels (0 = background).
    visibility : torch.Tensor
        ``(T,)`` share of the figure inside the frame.
    limb_motion : torch.Tensor
        ``(T,)`` mean true displacement over figure pixels.
    frames : numpy.ndarray
        The indices of the video's frames in the clip.
    """

    parts: torch.Tensor
    visibility: torch.Tensor
    limb_motion: torch.Tensor
    frames: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


class SynthKTHDataset(VideoDataset):
    """Videos (or clips) of a :class:`Corpus` as :class:`VideoItem`; see :meth:`Corpus.dataset`."""

    def __init__(self, corpus: Corpus, entries: list[dict[str, Any]], actions=None,
                 clip_length=None, step=1, offset=0, size=None, with_truth=False,
                 in_view: float = DEFAULT_IN_VIEW, inside: bool = False):

        if isinstance(offset, str) and offset not in ("center", "acting"):
            raise ConfigError(f"offset={offset!r}: give a frame number, 'center' or 'acting'")
        check_in_view(in_view)
        if not isinstance(inside, (bool, np.bool_)):
            raise ConfigError(f"inside={inside!r}: expected True or False")
        if inside and clip_length is None:
            raise ConfigError("inside=True: needs a clip_length (whole videos have no clip to fit inside a run)")
        self.corpus = corpus
        self.in_view = float(in_view)
        self.inside = bool(inside)
        self.entries = corpus.inside_entries(entries, clip_span(clip_length, step), in_view) if inside else entries
        self.classes = tuple(a for a in KTH_ACTIONS if actions is None or a in actions)
        self.clip_length = clip_length
        self.step = step
        self.offset = offset
        self.size = tuple(size) if size is not None else None
        self.with_truth = with_truth

    def __len__(self) -> int:
        return len(self.entries)

    def labels(self) -> list[int]:
        return [self.classes.index(entry["action"]) for entry in self.entries]

    def _clip_frames(self, n_frames: int, ranges: Sequence[tuple[int, int]] = ()) -> np.ndarray:

        if self.clip_length is None:
            return np.arange(n_frames)
        offset = self.offset
        if offset == "center":
            span = (self.clip_length - 1) * self.step + 1
            offset = max((n_frames - span) // 2, 0)
        elif offset == "acting":
            span = clip_span(self.clip_length, self.step)
            if span > n_frames:  # let clip_indices name the misfit
                offset = 0
            else:
                offset = acting_offset(ranges, n_frames, span)
        return clip_indices(n_frames, self.clip_length, step=self.step, offset=offset)

    def __getitem__(self, index: int) -> VideoItem:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} videos")
        entry = self.entries[index]
        arrays = self.corpus.load(entry["key"])
        ranges = acting_ranges(arrays["visibility"], int(entry.get("title_frames", 0)), self.in_view)
        frames = self._clip_frames(arrays["frames"].shape[0], ranges)
        video = torch.from_numpy(arrays["frames"][frames]).float().div_(255.0).unsqueeze(1)
        if self.size is not None:
            video = torch.nn.functional.interpolate(video, size=self.size, mode="bilinear",
                                                    align_corners=False).clamp_(0.0, 1.0)
        truth = None
        if self.with_truth:
            parts = torch.from_numpy(arrays["parts"][frames])
            if self.size is not None:
                parts = torch.nn.functional.interpolate(parts[:, None].float(), size=self.size,
                                                        mode="nearest")[:, 0].to(torch.uint8)
            truth = SynthTruth(parts=parts,
                               visibility=torch.from_numpy(arrays["visibility"][frames]),
                               limb_motion=torch.from_numpy(arrays["limb_motion"][frames]),
                               frames=frames)
        meta = dict(entry, frames=frames.tolist(), source="synthkth", corpus=self.corpus.config_hash,
                    acting_ranges=[list(item) for item in ranges], in_view=self.in_view)
        return VideoItem(video=video, label=self.classes.index(entry["action"]), meta=meta, truth=truth)
