"""KTH's own practice for clips: ``00sequences.txt`` listings of the frames in which the action is performed.

Real KTH ships ``00sequences.txt``, the 1-based inclusive frame ranges of each
file in which the person performs the action; clips are meant to be cut
inside them (:func:`vidsal_core.data.kth.read_kth_sequences` reads it).
SynthKTH knows, from its ground truth, on which frames the person is in view:
:func:`acting_ranges` turns a video's per-frame visibility into the maximal
runs of frames where at least ``in_view`` of the figure is inside the frame
and no title card is shown, and :func:`write_sequence_listings` writes them
in KTH's format, so that the KTH parser reads a SynthKTH corpus's listing
back unchanged (``tests/test_sequences.py`` checks the round trip).

KTH names one file per (person, action, scenario). A SynthKTH corpus may hold
several seeds or title-card lengths of the same triple, so it gets one listing
per (seed, title frames): ``00sequences.txt`` for the first seed without a
card (KTH's own shape), ``00sequences_s<seed>_t<title frames>.txt`` for the others.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vidsal_core.errors import ConfigError

#: Least share of the figure inside a frame for the frame to count as "in view"
#: (the time-contribution study's threshold).
DEFAULT_IN_VIEW = 0.5
#: KTH's listing file.
LISTING_NAME = "00sequences.txt"


def check_in_view(in_view: Any) -> float:
    """``in_view`` as a float, refused unless it is a number with 0 < in_view <= 1 (a share of the figure).

    Examples
    --------
    >>> check_in_view(0.99)
    0.99
    """
    if isinstance(in_view, bool) or not isinstance(in_view, (int, float, np.integer, np.floating)) \
            or not 0.0 < float(in_view) <= 1.0:
        raise ConfigError(f"in_view={in_view!r}: expected the least share of the figure in view, "
                          "a number above 0 and at most 1")
    return float(in_view)


def acting_ranges(visibility: Any, title_frames: int = 0, in_view: float = DEFAULT_IN_VIEW,
                  min_frames: int = 1) -> tuple[tuple[int, int], ...]:
    """Maximal runs of frames with the person in view, after any title card: 0-based half-open ``(start, stop)``.

    Parameters
    ----------
    visibility : array-like
        ``(T,)`` share of the figure inside each frame (SynthKTH's ground truth).
    title_frames : int, default 0
        Frames of an opening title card (never acting).
    in_view : float, default 0.5
        Least visibility of a frame in view.
    min_frames : int, default 1
        Shorter runs are dropped.

    Examples
    --------
    >>> acting_ranges([0.0, 0.6, 1.0, 0.2, 0.9, 0.9], title_frames=0)
    ((1, 3), (4, 6))
    >>> acting_ranges([1.0, 1.0, 1.0, 1.0], title_frames=2)
    ((2, 4),)
    """
    check_in_view(in_view)
    values = np.asarray(visibility, dtype=float)
    if values.ndim != 1:
        raise ConfigError(f"visibility: expected one value per frame, got shape {values.shape}")
    if isinstance(title_frames, bool) or not isinstance(title_frames, (int, np.integer)) or title_frames < 0:
        raise ConfigError(f"title_frames={title_frames!r}: expected a non-negative number of frames")
    if isinstance(min_frames, bool) or not isinstance(min_frames, (int, np.integer)) or min_frames < 1:
        raise ConfigError(f"min_frames={min_frames!r}: expected a positive number of frames")
    acting = values >= in_view
    acting[:title_frames] = False
    edges = np.flatnonzero(np.diff(np.concatenate([[0], acting.astype(np.int8), [0]])))
    return tuple((int(start), int(stop)) for start, stop in zip(edges[::2], edges[1::2]) if stop - start >= min_frames)


def kth_stem(person: int, action: str, scenario: str) -> str:
    """KTH's name of a (person, action, scenario): ``person02_walking_d1``."""
    return f"person{int(person):02d}_{action}_{scenario}"


def listing_name(seed: int, title_frames: int, first_seed: int) -> str:
    """File name of the listing of one (seed, title frames) group (see the module's description)."""
    return LISTING_NAME if (seed, title_frames) == (first_seed, 0) else f"00sequences_s{seed}_t{title_frames}.txt"


def listing_line(stem: str, ranges: Sequence[tuple[int, int]]) -> str:
    """One line of KTH's format: ``person02_walking_d1\\t\\tframes\\t1-95, 96-185`` (``*missing*`` without a range)."""
    if not ranges:
        return f"{stem}\t\t*missing*"
    return f"{stem}\t\tframes\t" + ", ".join(f"{start + 1}-{stop}" for start, stop in ranges)


def write_sequence_listings(corpus: Any, in_view: float = DEFAULT_IN_VIEW, min_frames: int = 1) -> list[Path]:
    """Write the corpus's ``00sequences.txt``-style listings into its folder (atomically) and return them.

    A video whose person is never in view is listed as ``*missing*``, as KTH
    lists the file it never recorded.
    """
    groups: dict[tuple[int, int], list[str]] = {}
    for entry in sorted(corpus.videos, key=lambda e: (e["seed"], e["title_frames"], e["person"], e["action"], e["scenario"])):
        with np.load(Path(corpus.directory) / "videos" / f"{entry['key']}.npz") as archive:
            visibility = archive["visibility"]  # only this member is decompressed
        ranges = acting_ranges(visibility, int(entry["title_frames"]), in_view, min_frames)
        groups.setdefault((int(entry["seed"]), int(entry["title_frames"])), []).append(
            listing_line(kth_stem(entry["person"], entry["action"], entry["scenario"]), ranges))
    first_seed = min((seed for seed, _ in groups), default=0)
    written = []
    for (seed, title), lines in groups.items():
        path = Path(corpus.directory) / listing_name(seed, title, first_seed)
        header = (f"SynthKTH corpus {corpus.config_hash}: frames in which the person is in view (visibility >= "
                  f"{in_view}) and no title card is shown; seed {seed}, title frames {title}; KTH's format\n\n")
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        temporary.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temporary, path)
        written.append(path)
    return written


#: Where :class:`~vidsal_core.models.train.RandomClips` draws training clips: inside the acting ranges
#: (KTH's practice; a video whose ranges are all shorter than the clip gets the clips holding the most
#: acting frames) or anywhere in the video.
CLIP_REGIONS = ("acting", "anywhere")
#: Where a run's training clips are drawn (a run's ``data.clip_region``):
#: :data:`CLIP_REGIONS`, or ``"inside"``: strictly inside an acting range, the videos without a range
#: as long as the clip left out of every split.
RUN_CLIP_REGIONS = CLIP_REGIONS + ("inside",)


def _check_ranges(ranges: Sequence[tuple[int, int]], n_frames: int, span: int) -> list[tuple[int, int]]:
    if isinstance(span, bool) or not isinstance(span, (int, np.integer)) or span < 1:
        raise ConfigError(f"span={span!r}: expected a positive number of frames")
    if span > n_frames:
        raise ConfigError(f"a clip spanning {span} frames does not fit a video of n_frames={n_frames}")
    checked = []
    for item in ranges:
        start, stop = (int(value) for value in item)
        if not 0 <= start < stop <= n_frames:
            raise ConfigError(f"acting range {tuple(item)}: expected 0 <= start < stop <= n_frames={n_frames}")
        checked.append((start, stop))
    return checked


def acting_offsets(ranges: Sequence[tuple[int, int]], n_frames: int, span: int) -> np.ndarray:
    """Offsets of the clips of ``span`` frames drawn inside a video's acting ranges.

    A clip is inside when all of its span lies in one range (KTH's practice:
    clips are cut inside ``00sequences.txt``'s subsequences). Where no range
    is as long as the clip (a runner crosses a SynthKTH frame in about 20
    frames; a 30-frame clip cannot avoid empty frames), the clips that hold
    the most acting frames are kept instead, so the clip covers the whole
    action and as few empty frames as it must. A video with no acting range
    (the person is never in view) gives every offset.

    Parameters
    ----------
    ranges : sequence of (start, stop)
        0-based half-open acting ranges (:func:`acting_ranges`).
    n_frames : int
        Frames in the video.
    span : int
        Frames a clip covers, first to last (:func:`vidsal_core.data.clips.clip_span`).

    Examples
    --------
    >>> acting_offsets([(2, 9)], n_frames=12, span=4).tolist()
    [2, 3, 4, 5]
    >>> acting_offsets([(4, 6)], n_frames=10, span=4).tolist()   # shorter than the clip: the clips holding it
    [2, 3, 4]
    """
    checked = _check_ranges(ranges, n_frames, span)
    offsets = np.arange(n_frames - span + 1)
    if not checked:
        return offsets
    inside = np.zeros(len(offsets), dtype=bool)
    covered = np.zeros(len(offsets), dtype=np.int64)
    for start, stop in checked:
        inside |= (offsets >= start) & (offsets + span <= stop)
        covered += np.clip(np.minimum(offsets + span, stop) - np.maximum(offsets, start), 0, None)
    if inside.any():
        return offsets[inside]
    return offsets[covered == covered.max()]


def acting_offset(ranges: Sequence[tuple[int, int]], n_frames: int, span: int) -> int:
    """Offset of the evaluation clip: centred on the video's longest acting range (the first of equals).

    The clip is clamped to the video; a video with no acting range gets its
    centre clip, as ``offset="center"`` would.

    Examples
    --------
    >>> acting_offset([(0, 3), (10, 30)], n_frames=48, span=10)
    15
    >>> acting_offset([(40, 48)], n_frames=48, span=30)   # clamped to the video's end
    18
    """
    checked = _check_ranges(ranges, n_frames, span)
    if not checked:
        return (n_frames - span) // 2
    start, stop = max(checked, key=lambda item: item[1] - item[0])
    offset = start + ((stop - start) - span) // 2
    return int(min(max(offset, 0), n_frames - span))
