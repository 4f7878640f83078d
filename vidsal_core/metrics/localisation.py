"""Localisation: does a saliency map point at what carries the action?

SynthKTH knows, for every pixel of every frame, which body part (if any) it
shows, how much of the person is in view and how fast the limbs move
(:mod:`vidsal_core.data.synthkth`). These functions score a saliency map
against that truth. Every function takes plain arrays (NumPy or torch) and
returns floats or NumPy arrays, so other code (e.g. a Quantus comparison) can
call them directly.

A map is reduced to a non-negative *magnitude* per pixel first
(:func:`magnitude`: ``Σ_c |s|`` over channels), the convention of seed 000's
heat maps; the sign of LRP or Integrated Gradients is not scored here.

- :func:`mass_share` — share of the map's mass on a region (the person, the
  legs); its chance level is the region's share of the area
  (:func:`area_share`).
- :func:`pointing_game` — per frame, is the map's maximum on the region
  (Zhang et al., 2018), optionally within a tolerance of ``tolerance`` pixels.
- :func:`frame_auroc` — per frame, the area under the ROC curve of the map's
  values as a detector of the region's pixels (0.5 = chance, 1 = every region
  pixel above every other); its mean over the frames with the person in view
  is the headline localisation score, because it asks only *where*
  in a frame the map points. :func:`frame_auroc_reference` is its naive twin.
- :func:`auroc` — the same AUROC pooled over every pixel of every frame: it
  also rewards a map that is large on the frames where the region is large,
  so it mixes *when* with *where* (reported as the "pooled" AUROC);
  :func:`auroc_reference` is the naive pairwise count it is tested against.
- :func:`temporal_correlation` — Spearman's rank correlation of a per-frame
  score (the map's mass per frame, or a time contribution) with a per-frame
  truth (visibility, limb motion).
- :func:`localisation_metrics` — all of them for one video, as a dict.

These score one map on its own (a constant frame is left out of the
per-frame AUROC). Two maps are compared by the one flat-frame rule of
:mod:`vidsal_core.metrics.flat_frames` (a flat frame at chance, the same
frames for both).

References
----------
Zhang, J., Bargal, S. A., Lin, Z., Brandt, J., Shen, X. and Sclaroff, S. (2018).
Top-down neural attention by excitation backprop. IJCV 126(10).
Hanley, J. A. and McNeil, B. J. (1982). The meaning and use of the area under
a receiver operating characteristic (ROC) curve. Radiology 143(1).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from vidsal_core.errors import ConfigError
from vidsal_core.data.synthkth import PART_INDEX

#: SynthKTH part labels of the legs (thighs, shanks, feet), from :data:`vidsal_core.data.synthkth.PARTS`.
LEG_PARTS: tuple[str, ...] = tuple(f"{side}_{part}" for side in ("left", "right") for part in ("thigh", "shank", "foot"))


def _array(values: Any, argument: str) -> np.ndarray:
    """``values`` as a float64 NumPy array (torch tensors are detached), finite."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{argument}: expected an array of numbers, got {type(values).__name__}") from None
    if not np.all(np.isfinite(array)):
        raise ConfigError(f"{argument}: contains NaN or infinity")
    return array


def _mask(region: Any, argument: str = "region") -> np.ndarray:
    """``region`` as a bool array."""
    if hasattr(region, "detach"):
        region = region.detach().cpu().numpy()
    return np.asarray(region).astype(bool)


def magnitude(saliency: Any) -> np.ndarray:
    """``(T, H, W)`` float64 non-negative map: ``Σ_c |s|`` of a ``(T, C, H, W)`` map, ``|s|`` of a ``(T, H, W)`` one."""
    array = _array(saliency, "saliency")
    if array.ndim == 4:
        return np.abs(array).sum(axis=1)
    if array.ndim == 3:
        return np.abs(array)
    raise ConfigError(f"saliency: expected (T, C, H, W) or (T, H, W), got shape {array.shape}")


def _pair(saliency: Any, region: Any) -> tuple[np.ndarray, np.ndarray]:
    """The map's magnitude and the region, checked to have one shape ``(T, H, W)``."""
    values = magnitude(saliency)
    mask = _mask(region)
    if mask.shape != values.shape:
        raise ConfigError(f"region: shape {mask.shape} does not match the saliency map's {values.shape} (T, H, W)")
    return values, mask


def part_region(parts: Any, names: Sequence[str] | None = None) -> np.ndarray:
    """``(T, H, W)`` bool: pixels of the named SynthKTH parts (None = the whole person, every label > 0).

    Parameters
    ----------
    parts : array-like
        ``(T, H, W)`` integer labels into :data:`vidsal_core.data.synthkth.PARTS`.
    names : sequence of str, optional
        Part names, e.g. :data:`LEG_PARTS`.
    """

    labels = np.asarray(parts.detach().cpu().numpy() if hasattr(parts, "detach") else parts)
    if labels.ndim != 3:
        raise ConfigError(f"parts: expected (T, H, W) labels, got shape {labels.shape}")
    if names is None:
        return labels > 0
    unknown = [name for name in names if name not in PART_INDEX]
    if unknown:
        raise ConfigError(f"names: unknown part(s) {unknown}; SynthKTH has {list(PART_INDEX)}")
    return np.isin(labels, [PART_INDEX[name] for name in names])


def area_share(region: Any, frames: Any | None = None) -> float:
    """Share of the pixels that lie in ``region``: the chance level of :func:`mass_share`."""
    mask = _mask(region)
    if frames is not None:
        mask = mask[_mask(frames)]
    return float(mask.mean()) if mask.size else float("nan")


def mass_share(saliency: Any, region: Any, frames: Any | None = None) -> float:
    """Share of the map's total magnitude that falls in ``region`` (NaN for an all-zero map).

    Parameters
    ----------
    saliency : array-like
        ``(T, C, H, W)`` or ``(T, H, W)``; reduced by :func:`magnitude`.
    region : array-like
        ``(T, H, W)`` bool, e.g. :func:`part_region`.
    frames : array-like, optional
        ``(T,)`` bool: count only these frames (e.g. those where the person is in view).
    """
    values, mask = _pair(saliency, region)
    if frames is not None:
        keep = _frames(frames, values.shape[0])
        values, mask = values[keep], mask[keep]
    total = values.sum()
    return float(values[mask].sum() / total) if total > 0 else float("nan")


def _frames(frames: Any, count: int) -> np.ndarray:
    keep = _mask(frames)
    if keep.shape != (count,):
        raise ConfigError(f"frames: expected {count} booleans (one per frame), got shape {keep.shape}")
    return keep


def _dilate(mask: np.ndarray, tolerance: int) -> np.ndarray:
    """Each frame of a ``(T, H, W)`` mask grown by a disc of ``tolerance`` pixels."""
    if tolerance == 0:
        return mask
    from scipy.ndimage import binary_dilation

    radius = np.arange(-tolerance, tolerance + 1)
    disc = (radius[:, None] ** 2 + radius[None, :] ** 2) <= tolerance ** 2
    return binary_dilation(mask, structure=disc[None])


def pointing_game(saliency: Any, region: Any, frames: Any | None = None, tolerance: int = 0) -> np.ndarray:
    """Per frame, 1.0 if the map's maximum lies on the region (within ``tolerance`` px), else 0.0: ``(T,)``.

    Frames left out (``frames`` False, an empty region, or an all-zero map)
    are NaN, so ``np.nanmean`` of the result is the hit rate. When several
    pixels tie for the maximum, the frame is a hit if any of them is on the
    region; a constant frame (every pixel tied) is left out.

    Parameters
    ----------
    saliency : array-like
        ``(T, C, H, W)`` or ``(T, H, W)``.
    region : array-like
        ``(T, H, W)`` bool.
    frames : array-like, optional
        ``(T,)`` bool: score only these frames (e.g. visibility above a threshold).
    tolerance : int, default 0
        Zhang et al. (2018) count a hit within 15 px of the object at 224 px;
        give the radius in this video's pixels.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, np.integer)) or tolerance < 0:
        raise ConfigError(f"tolerance={tolerance!r}: expected a non-negative whole number of pixels")
    values, mask = _pair(saliency, region)
    hit_region = _dilate(mask, int(tolerance))
    count = values.shape[0]
    keep = np.ones(count, bool) if frames is None else _frames(frames, count)
    result = np.full(count, np.nan)
    for frame in range(count):
        flat = values[frame].ravel()
        if not keep[frame] or not mask[frame].any() or flat.max() == flat.min():
            continue
        result[frame] = float(hit_region[frame].ravel()[flat == flat.max()].any())
    return result


def auroc(saliency: Any, region: Any, frames: Any | None = None) -> float:
    """Area under the ROC curve of the map's magnitude as a detector of the region's pixels.

    The Mann–Whitney statistic from average ranks (ties count one half), over
    every pixel of the chosen frames. NaN when the region is empty or covers
    every pixel.

    Parameters
    ----------
    saliency : array-like
        ``(T, C, H, W)`` or ``(T, H, W)``.
    region : array-like
        ``(T, H, W)`` bool: the positives.
    frames : array-like, optional
        ``(T,)`` bool: pool only these frames.
    """
    from scipy.stats import rankdata

    values, mask = _pair(saliency, region)
    if frames is not None:
        keep = _frames(frames, values.shape[0])
        values, mask = values[keep], mask[keep]
    scores, positives = values.ravel(), mask.ravel()
    n_positive = int(positives.sum())
    n_negative = positives.size - n_positive
    if n_positive == 0 or n_negative == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positives].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def frame_auroc(saliency: Any, region: Any, frames: Any | None = None) -> np.ndarray:
    """Per frame, the AUROC of the map's magnitude as a detector of the region's pixels in that frame: ``(T,)``.

    Frames left out are NaN, as in :func:`pointing_game`: those not in
    ``frames``, those whose region is empty or covers the frame, and constant
    frames (every pixel tied: the map says nothing about place there). So
    ``np.nanmean`` of the result averages over the frames that were scored,
    and a map's per-frame scale (its *when*) cannot change the score.

    Parameters
    ----------
    saliency : array-like
        ``(T, C, H, W)`` or ``(T, H, W)``.
    region : array-like
        ``(T, H, W)`` bool: the positives.
    frames : array-like, optional
        ``(T,)`` bool: score only these frames (e.g. the person in view).
    """
    from scipy.stats import rankdata

    values, mask = _pair(saliency, region)
    count = values.shape[0]
    keep = np.ones(count, bool) if frames is None else _frames(frames, count)
    flat_values, flat_mask = values.reshape(count, -1), mask.reshape(count, -1)
    n_positive = flat_mask.sum(axis=1)
    n_negative = flat_mask.shape[1] - n_positive
    constant = flat_values.max(axis=1) == flat_values.min(axis=1)
    scored = keep & (n_positive > 0) & (n_negative > 0) & ~constant
    result = np.full(count, np.nan)
    if scored.any():
        ranks = rankdata(flat_values[scored], axis=1)
        positives = flat_mask[scored]
        wins = (ranks * positives).sum(axis=1) - n_positive[scored] * (n_positive[scored] + 1) / 2
        result[scored] = wins / (n_positive[scored] * n_negative[scored])
    return result


def frame_auroc_reference(saliency: Any, region: Any, frames: Any | None = None) -> np.ndarray:
    """:func:`frame_auroc` frame by frame with :func:`auroc_reference`'s pairwise count: slow, for tests."""
    values, mask = _pair(saliency, region)
    keep = np.ones(values.shape[0], bool) if frames is None else _frames(frames, values.shape[0])
    result = np.full(values.shape[0], np.nan)
    for frame in range(values.shape[0]):
        if keep[frame] and values[frame].max() != values[frame].min():
            result[frame] = auroc_reference(values[frame][None], mask[frame][None])
    return result


def auroc_reference(saliency: Any, region: Any) -> float:
    """AUROC by counting every (positive, negative) pair: slow, for tests (ties count one half)."""
    values, mask = _pair(saliency, region)
    positive, negative = values[mask], values[~mask]
    if positive.size == 0 or negative.size == 0:
        return float("nan")
    wins = (positive[:, None] > negative[None, :]).sum() + 0.5 * (positive[:, None] == negative[None, :]).sum()
    return float(wins / (positive.size * negative.size))


def frame_mass(saliency: Any) -> np.ndarray:
    """``(T,)`` the map's magnitude summed over each frame."""
    return magnitude(saliency).sum(axis=(1, 2))


def temporal_correlation(scores: Any, truth: Any) -> float:
    """Spearman's rank correlation of a per-frame score with a per-frame truth (NaN if either is constant).

    Parameters
    ----------
    scores : array-like
        ``(T,)``, e.g. :func:`frame_mass` or a time contribution.
    truth : array-like
        ``(T,)``, e.g. SynthKTH's visibility or limb motion.
    """
    from scipy.stats import spearmanr

    x, y = _array(scores, "scores"), _array(truth, "truth")
    if x.ndim != 1 or x.shape != y.shape:
        raise ConfigError(f"truth: shape {y.shape} does not match the scores' {x.shape}; expected two (T,) curves")
    if x.size < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(spearmanr(x, y).statistic)


def localisation_metrics(saliency: Any, parts: Any, visibility: Any, limb_motion: Any,
                         frame_scores: Any | None = None, min_visibility: float = 0.5,
                         tolerance: int = 0) -> dict[str, float]:
    """Every localisation metric of one video's map against SynthKTH's truth.

    Parameters
    ----------
    saliency : array-like
        ``(T, C, H, W)`` or ``(T, H, W)`` map.
    parts : array-like
        ``(T, H, W)`` part labels at the map's size.
    visibility, limb_motion : array-like
        ``(T,)`` truth per frame.
    frame_scores : array-like, optional
        ``(T,)`` the method's own per-frame score for the temporal correlations
        (e.g. a time contribution); default :func:`frame_mass` of the map.
    min_visibility : float, default 0.5
        Frames with at least this share of the person in view are scored by
        the spatial metrics (the person must be there to be pointed at).
    tolerance : int, default 0
        Pointing-game tolerance in pixels.

    Returns
    -------
    dict
        ``person_share``, ``person_area`` (chance), ``legs_share``, ``legs_area``,
        ``pointing`` (hit rate), ``auroc_person``, ``auroc_legs`` (the mean
        of :func:`frame_auroc` over the scored frames: the headline),
        ``pooled_auroc_person``, ``pooled_auroc_legs`` (:func:`auroc` over
        all their pixels at once), ``visibility_correlation``,
        ``motion_correlation`` and ``frames_scored``.
        NaN where a metric is undefined (e.g. no frame with the person in view).
    """
    values = magnitude(saliency)
    person, legs = part_region(parts), part_region(parts, LEG_PARTS)
    if person.shape != values.shape:
        raise ConfigError(f"parts: shape {person.shape} does not match the saliency map's {values.shape} (T, H, W)")
    visible = _array(visibility, "visibility")
    motion = _array(limb_motion, "limb_motion")
    if visible.shape != (values.shape[0],) or motion.shape != (values.shape[0],):
        raise ConfigError(f"visibility, limb_motion: expected {values.shape[0]} values each, got "
                          f"{visible.shape} and {motion.shape}")
    frames = (visible >= min_visibility) & person.any(axis=(1, 2))
    scores = frame_mass(values) if frame_scores is None else _array(frame_scores, "frame_scores")
    nan = float("nan")
    scored = bool(frames.any())
    hits = pointing_game(values, person, frames, tolerance) if scored else np.full(values.shape[0], nan)

    def frame_mean(region: np.ndarray) -> float:
        per_frame = frame_auroc(values, region, frames)
        return float(np.nanmean(per_frame)) if np.isfinite(per_frame).any() else nan

    return {
        "person_share": mass_share(values, person, frames) if scored else nan,
        "person_area": area_share(person, frames) if scored else nan,
        "legs_share": mass_share(values, legs, frames) if scored else nan,
        "legs_area": area_share(legs, frames) if scored else nan,
        "pointing": float(np.nanmean(hits)) if np.isfinite(hits).any() else nan,
        "auroc_person": frame_mean(person) if scored else nan,
        "auroc_legs": frame_mean(legs) if scored else nan,
        "pooled_auroc_person": auroc(values, person, frames) if scored else nan,
        "pooled_auroc_legs": auroc(values, legs, frames) if scored else nan,
        "visibility_correlation": temporal_correlation(scores, visible),
        "motion_correlation": temporal_correlation(scores, motion),
        "frames_scored": int(frames.sum()),
    }

