"""One rule for flat frames: how two maps are compared frame by frame when one of them is constant on a frame.

With the reference code's options, two-step TSR (Ismail et al., 2020) gives
every frame at or below its threshold α one constant value (0.1 times the
frame's time score). Such a *flat* frame says nothing about where in the frame
the evidence lies. Scoring it as 0 in one metric and dropping it in another
settles a comparison before the data can; this module is the one rule both
a study uses to compare two maps:

- a frame's score is a per-frame rank score of the map against the truth
  (:data:`SCORES`: the AUROC of the map as a detector of a region's pixels, or
  Spearman's ρ with a motion magnitude); a flat frame scores *chance*
  (:data:`CHANCE`: AUROC 0.5, ρ 0), a frame whose truth has nothing to rank
  (empty or full region, constant motion) is not scored (NaN);
- two maps are compared on the *same* frames, paired frame by frame within the
  clip, in two versions (:data:`FRAME_SETS`):

  ``in_view``   every in-view frame: flat frames score chance;
  ``selected``  only the in-view frames TSR selected (above α): a frame is
                excluded only because TSR did not select it (a selected frame
                whose map happens to be flat still scores chance);

- the clip's value is the mean over those frames of ``first − second``
  (:func:`compare_maps`); a study then averages clips and give an interval
  over persons (:func:`vidsal_core.statistics.mean_interval`).

:func:`frame_scores_reference` is the slow twin of :func:`frame_scores`
(pairwise counts and explicit ranks, frame by frame).

References
----------
Ismail, A. A., Gunady, M., Corrada Bravo, H. and Feizi, S. (2020).
Benchmarking deep learning interpretability in time series predictions. NeurIPS 33.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidsal_core.metrics.localisation import auroc_reference, frame_auroc, magnitude
from vidsal_core.statistics import mean_interval
from vidsal_core.errors import ConfigError

#: Per-frame scores of a map against a truth, and the value a flat frame gets (chance).
CHANCE: dict[str, float] = {"auroc": 0.5, "spearman": 0.0}
#: Per-frame scores the rule knows.
SCORES: tuple[str, ...] = tuple(CHANCE)
#: The two versions of every comparison, and what they score, in words.
FRAME_SETS: dict[str, str] = {
    "in_view": "every in-view frame (a flat map scores chance)",
    "selected": "the in-view frames TSR selected (above α), for both maps",
}


def _bools(values: Any, count: int, argument: str) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.shape != (count,):
        raise ConfigError(f"{argument}: expected {count} booleans (one per frame), got shape {array.shape}")
    return array.astype(bool)


def _check_score(score: str) -> None:
    if score not in SCORES:
        raise ConfigError(f"score={score!r}: choose one of {list(SCORES)}")


def flat_frames(saliency: Any) -> np.ndarray:
    """``(T,)`` bool: the frames on which the map's magnitude is one constant value.

    Parameters
    ----------
    saliency : array-like
        ``(T, C, H, W)`` or ``(T, H, W)`` (reduced by :func:`~vidsal_core.metrics.localisation.magnitude`).
    """
    values = magnitude(saliency)
    flat = values.reshape(values.shape[0], -1)
    return flat.max(axis=1) == flat.min(axis=1)


def _truth(truth: Any, shape: tuple[int, ...], score: str) -> np.ndarray:
    if hasattr(truth, "detach"):
        truth = truth.detach().cpu().numpy()
    array = np.asarray(truth)
    if array.shape != shape:
        raise ConfigError(f"truth: shape {array.shape} does not match the map's (T, H, W) = {shape}")
    if score == "auroc":
        return array.astype(bool)
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ConfigError("truth: contains NaN or infinity")
    return array


def _rankable(truth: np.ndarray, score: str) -> np.ndarray:
    """``(T,)`` bool: frames whose truth has something to rank (a region neither empty nor full; motion not constant)."""
    flat = truth.reshape(truth.shape[0], -1)
    if score == "auroc":
        return flat.any(axis=1) & ~flat.all(axis=1)
    return flat.max(axis=1) > flat.min(axis=1)


def frame_scores(saliency: Any, truth: Any, score: str) -> np.ndarray:
    """Per-frame score of a map against the truth under the flat-frame rule: ``(T,)`` float64.

    A flat frame scores :data:`CHANCE` (AUROC 0.5, ρ 0); a frame whose truth
    has nothing to rank is NaN.

    Parameters
    ----------
    saliency : array-like
        ``(T, C, H, W)`` or ``(T, H, W)``.
    truth : array-like
        ``(T, H, W)``: a bool region (``score="auroc"``: the positives) or a
        motion magnitude (``score="spearman"``).
    score : {"auroc", "spearman"}
        The per-frame score (:data:`SCORES`).
    """
    _check_score(score)
    values = magnitude(saliency)
    target = _truth(truth, values.shape, score)
    rankable = _rankable(target, score)
    flat = flat_frames(values)
    result = np.full(values.shape[0], np.nan)
    ranked = rankable & ~flat
    if ranked.any():
        if score == "auroc":
            result[ranked] = frame_auroc(values, target, ranked)[ranked]
        else:
            from scipy.stats import rankdata

            x = rankdata(values[ranked].reshape(int(ranked.sum()), -1), axis=1)
            y = rankdata(target[ranked].reshape(int(ranked.sum()), -1), axis=1)
            x -= x.mean(axis=1, keepdims=True)
            y -= y.mean(axis=1, keepdims=True)
            result[ranked] = (x * y).sum(axis=1) / np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))
    result[rankable & flat] = CHANCE[score]
    return result


def frame_scores_reference(saliency: Any, truth: Any, score: str) -> np.ndarray:
    """:func:`frame_scores` frame by frame: pairwise AUROC counts, ρ as Pearson's of explicit average ranks (slow, for tests)."""
    from scipy.stats import rankdata

    _check_score(score)
    values = magnitude(saliency)
    target = _truth(truth, values.shape, score)
    result = np.full(values.shape[0], np.nan)
    for frame in range(values.shape[0]):
        here, truth_here = values[frame].ravel(), target[frame].ravel()
        if score == "auroc":
            if truth_here.all() or not truth_here.any():
                continue
            if here.max() == here.min():
                result[frame] = 0.5
                continue
            result[frame] = auroc_reference(values[frame][None], target[frame][None])
        else:
            if truth_here.max() == truth_here.min():
                continue
            if here.max() == here.min():
                result[frame] = 0.0
                continue
            result[frame] = float(np.corrcoef(rankdata(here), rankdata(truth_here))[0, 1])
    return result


def scored_frames(in_view: Any, selected: Any, frame_set: str) -> np.ndarray:
    """``(T,)`` bool: the frames a comparison of :data:`FRAME_SETS` scores.

    Parameters
    ----------
    in_view : array-like
        ``(T,)`` bool: the person is in view (the visibility rule).
    selected : array-like
        ``(T,)`` bool: TSR's selected frames (above α) of the clip.
    frame_set : {"in_view", "selected"}
    """
    if frame_set not in FRAME_SETS:
        raise ConfigError(f"frame_set={frame_set!r}: choose one of {list(FRAME_SETS)}")
    keep = np.asarray(in_view.detach().cpu().numpy() if hasattr(in_view, "detach") else in_view).astype(bool)
    if keep.ndim != 1:
        raise ConfigError(f"in_view: expected (T,) booleans, got shape {keep.shape}")
    chosen = _bools(selected, keep.shape[0], "selected")
    return keep & chosen if frame_set == "selected" else keep


def paired_frame_mean(first_scores: Any, second_scores: Any, frames: Any) -> dict[str, float]:
    """Means over the frames both maps score, among ``frames``: ``first``, ``second``, ``difference``, ``frames``.

    A frame counts when it is in ``frames`` and both scores are finite, so the
    two maps are compared on the same frames. NaN means (and ``frames`` 0)
    when no frame counts.
    """
    first = np.asarray(first_scores, dtype=np.float64)
    second = np.asarray(second_scores, dtype=np.float64)
    if first.ndim != 1 or first.shape != second.shape:
        raise ConfigError(f"second_scores: shape {second.shape} does not match first_scores' {first.shape}; "
                          "expected two (T,) arrays")
    keep = _bools(frames, first.shape[0], "frames") & np.isfinite(first) & np.isfinite(second)
    if not keep.any():
        return {"first": float("nan"), "second": float("nan"), "difference": float("nan"), "frames": 0}
    return {"first": float(first[keep].mean()), "second": float(second[keep].mean()),
            "difference": float((first[keep] - second[keep]).mean()), "frames": int(keep.sum())}


def compare_maps(first: Any, second: Any, truth: Any, score: str, in_view: Any, selected: Any) -> dict[str, dict[str, float]]:
    """Two maps of one clip compared under the flat-frame rule, in both versions of :data:`FRAME_SETS`.

    Parameters
    ----------
    first, second : array-like
        ``(T, C, H, W)`` or ``(T, H, W)`` maps of the same clip (only the first
        ``T`` frames of the longer are used when their lengths differ).
    truth : array-like
        ``(T', H, W)``: the region (``"auroc"``) or motion magnitude (``"spearman"``).
    score : {"auroc", "spearman"}
    in_view, selected : array-like
        ``(T',)`` bool: the person in view; TSR's selected frames.

    Returns
    -------
    dict
        Frame set → :func:`paired_frame_mean`'s ``first``, ``second``, ``difference`` and ``frames``.

    Examples
    --------
    >>> import numpy as np
    >>> region = np.zeros((2, 2, 2), bool); region[:, 0, 0] = True
    >>> good = np.where(region, 1.0, 0.0)           # the region on top in both frames: AUROC 1
    >>> tsr = good.copy(); tsr[1] = 0.1              # frame 1 below α: flat
    >>> result = compare_maps(tsr, good, region, "auroc", [True, True], [True, False])
    >>> result["in_view"]["difference"], result["selected"]["difference"]
    (-0.25, 0.0)
    """
    a, b = magnitude(first), magnitude(second)
    count = min(a.shape[0], b.shape[0])
    target = truth.detach().cpu().numpy() if hasattr(truth, "detach") else np.asarray(truth)
    count = min(count, target.shape[0])
    first_scores = frame_scores(a[:count], target[:count], score)
    second_scores = frame_scores(b[:count], target[:count], score)
    view = np.asarray(in_view.detach().cpu().numpy() if hasattr(in_view, "detach") else in_view)[:count]
    chosen = np.asarray(selected.detach().cpu().numpy() if hasattr(selected, "detach") else selected)[:count]
    return {frame_set: paired_frame_mean(first_scores, second_scores, scored_frames(view, chosen, frame_set))
            for frame_set in FRAME_SETS}


def paired_estimate(comparisons: Any, persons: Any, frame_set: str, part: str = "difference"):
    """Mean over clips of one part of :func:`compare_maps`' results, with its interval over persons.

    Parameters
    ----------
    comparisons : sequence of dict
        One :func:`compare_maps` result per clip.
    persons : sequence
        The clip's person (the independent unit), one per comparison.
    frame_set : {"in_view", "selected"}
    part : {"difference", "first", "second"}

    Returns
    -------
    Estimate or None
        :func:`~vidsal_core.statistics.mean_interval` over the clips
        with a finite value; None when no clip has one.
    """
    if frame_set not in FRAME_SETS:
        raise ConfigError(f"frame_set={frame_set!r}: choose one of {list(FRAME_SETS)}")
    if part not in ("difference", "first", "second"):
        raise ConfigError(f"part={part!r}: choose 'difference', 'first' or 'second'")
    comparisons, persons = list(comparisons), list(persons)
    if len(comparisons) != len(persons):
        raise ConfigError(f"persons: {len(persons)} values for {len(comparisons)} comparisons")
    values = np.array([float(comparison[frame_set][part]) for comparison in comparisons], dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return None
    return mean_interval(values[finite], [person for person, keep in zip(persons, finite) if keep])


def in_view_frames(visibility: Any, region: Any, min_visibility: float = 0.5) -> np.ndarray:
    """``(T,)`` bool: frames with at least ``min_visibility`` of the person in view and some of its pixels in the frame.

    The frames a comparison scores: those with at least ``min_visibility`` of the
    person in view.
    """
    seen = np.asarray(visibility.detach().cpu().numpy() if hasattr(visibility, "detach") else visibility, dtype=np.float64)
    person = np.asarray(region.detach().cpu().numpy() if hasattr(region, "detach") else region).astype(bool)
    if person.ndim != 3 or seen.shape != (person.shape[0],):
        raise ConfigError(f"visibility: expected {person.shape[0] if person.ndim == 3 else 'T'} values beside a "
                          f"(T, H, W) region, got {seen.shape} and {person.shape}")
    return (seen >= min_visibility) & person.any(axis=(1, 2))
