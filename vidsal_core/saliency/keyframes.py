"""Keyframes by frame differencing, and how well they agree with time contribution and the truth.

Seed 000 (§6.4, Figs. 1 and 18) checks its time contribution against
"keyframes detected (threshold of 30%)". vidsal uses the standard
frame-difference detector of the widely used ``video-keyframe-detector``
(Ibaceta), built on PeakUtils (Negri and Vestri):

1. each frame to grayscale (channel mean), 8-bit, blurred by a 9 × 9 Gaussian;
2. the difference of frame ``t`` to frame ``t − 1`` is the number of pixels
   that got brighter (OpenCV's saturating ``subtract`` of 8-bit images, then
   ``countNonZero``); frame 0 is compared with itself (difference 0);
3. a slowly varying baseline is removed from the difference curve
   (PeakUtils' iterative polynomial baseline, degree 2);
4. keyframes are the peaks of what is left above ``min + 0.3 · (max − min)``
   (PeakUtils' normalised threshold; the seed's 30 %).

Agreement measures compare any two per-frame curves (time contribution,
frame difference, SynthKTH's true visibility and limb motion) by Spearman's
rank correlation, and a set of keyframes with a curve by the area under the
ROC curve: the probability that a keyframe scores higher than a non-keyframe.

References
----------
Ibaceta, J. video-keyframe-detector (GitHub ``joelibaceta/video-keyframe-detector``).
Negri, L. H. and Vestri, C. (2017). lucashn/peakutils. Zenodo.
Spearman, C. (1904). The proof and measurement of association between two
things. American Journal of Psychology 15(1).
Hanley, J. A. and McNeil, B. J. (1982). The meaning and use of the area under a
receiver operating characteristic (ROC) curve. Radiology 143(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.checks import check_finite, check_video

#: Seed 000's keyframe threshold: 30 % of the range of the difference curve.
DEFAULT_THRESHOLD = 0.3


def _to_numpy(values: Any, argument: str) -> np.ndarray:
    array = values.detach().cpu().double().numpy() if isinstance(values, torch.Tensor) else np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ConfigError(f"{argument}: expected one value per frame (T,), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ConfigError(f"{argument}: holds NaN or infinite values")
    return array


def frame_differences(video: torch.Tensor, blur_kernel: int = 9) -> torch.Tensor:
    """``(T,)`` float64: pixels that got brighter from frame ``t − 1`` to ``t`` (0 for frame 0).

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)`` in [0, 1].
    blur_kernel : int, default 9
        Odd size of the Gaussian blur applied first (OpenCV's sigma from size).
    """
    import cv2

    check_video(video)
    if isinstance(blur_kernel, bool) or not isinstance(blur_kernel, int) or blur_kernel < 1 or blur_kernel % 2 == 0:
        raise ConfigError(f"blur_kernel={blur_kernel!r}: expected a positive odd integer")
    gray = (video.detach().cpu().double().mean(dim=1).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    blurred = [cv2.GaussianBlur(frame, (blur_kernel, blur_kernel), 0.0) for frame in gray]
    differences = [0.0] + [float(cv2.countNonZero(cv2.subtract(current, previous)))
                           for previous, current in zip(blurred[:-1], blurred[1:])]
    return torch.tensor(differences, dtype=torch.float64)


def polynomial_baseline(values: Any, degree: int = 2, max_iterations: int = 100, tolerance: float = 1e-3) -> np.ndarray:
    """The baseline of a curve by iterative polynomial fitting (PeakUtils' ``baseline``).

    Each iteration fits a polynomial of ``degree`` by least squares and clips
    the curve to it from above, so peaks stop pulling the fit up; it stops
    when the coefficients change by less than ``tolerance`` (relative).

    Parameters
    ----------
    values : array-like
        ``(T,)`` curve.
    degree : int, default 2
        Polynomial degree (the keyframe detector uses 2).
    max_iterations : int, default 100
        Upper bound on iterations.
    tolerance : float, default 1e-3
        Relative change of the coefficients that ends the iteration.
    """
    curve = _to_numpy(values, "values").copy()
    order = degree + 1
    top = curve.max()
    if top <= 0:
        return np.zeros_like(curve)
    abscissa = np.linspace(0.0, top ** (1.0 / order), curve.size)  # PeakUtils' conditioning
    vandermonde = np.vander(abscissa, order)
    pseudo_inverse = np.linalg.pinv(vandermonde)
    coefficients = np.ones(order)
    base = curve.copy()
    for _ in range(max_iterations):
        new_coefficients = pseudo_inverse @ curve
        if np.linalg.norm(new_coefficients - coefficients) / np.linalg.norm(coefficients) < tolerance:
            break
        coefficients = new_coefficients
        base = vandermonde @ coefficients
        curve = np.minimum(curve, base)
    return base


def peak_indices(values: Any, threshold: float = DEFAULT_THRESHOLD, min_distance: int = 1) -> np.ndarray:
    """Indices of the peaks of a curve above a normalised threshold (PeakUtils' ``indexes``).

    A peak is a point where the curve rises before and falls after; on a
    plateau, the slope on its left is carried to the left half and the slope
    on its right to the rest, so a flat top yields one peak at its middle.
    Only peaks above ``min + threshold · (max − min)`` count; with
    ``min_distance > 1`` the highest peaks win where peaks are closer.

    Parameters
    ----------
    values : array-like
        ``(T,)`` curve.
    threshold : float, default 0.3
        Fraction of the curve's range.
    min_distance : int, default 1
        Least distance between kept peaks.
    """
    curve = _to_numpy(values, "values")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"threshold={threshold!r}: expected a fraction in [0, 1]")
    level = threshold * (curve.max() - curve.min()) + curve.min()
    slope = np.diff(curve)
    flat = np.flatnonzero(slope == 0)
    if curve.size < 3 or flat.size == slope.size:
        return np.zeros(0, dtype=np.int64)
    if flat.size:
        runs = np.split(flat, np.flatnonzero(np.diff(flat) != 1) + 1)
        if runs[0][0] == 0:
            slope[runs[0]] = slope[runs[0][-1] + 1]
            runs = runs[1:]
        if runs and runs[-1][-1] == slope.size - 1:
            slope[runs[-1]] = slope[runs[-1][0] - 1]
            runs = runs[:-1]
        for run in runs:
            middle = np.median(run)
            slope[run[run < middle]] = slope[run[0] - 1]
            slope[run[run >= middle]] = slope[run[-1] + 1]
    peaks = np.flatnonzero((np.append(slope, 0.0) < 0) & (np.insert(slope, 0, 0.0) > 0) & (curve > level))
    if peaks.size > 1 and min_distance > 1:
        removed = np.ones(curve.size, dtype=bool)
        removed[peaks] = False
        for peak in peaks[np.argsort(curve[peaks])][::-1]:
            if not removed[peak]:
                removed[max(0, peak - min_distance):peak + min_distance + 1] = True
                removed[peak] = False
        peaks = np.flatnonzero(~removed)
    return peaks.astype(np.int64)


@dataclass
class Keyframes:
    """Keyframes of one video.

    Attributes
    ----------
    indices : torch.Tensor
        Long indices of the keyframes, ascending.
    differences : torch.Tensor
        ``(T,)`` frame differences (:func:`frame_differences`).
    baseline : torch.Tensor
        ``(T,)`` the baseline removed before peak picking.
    threshold : float
        The normalised threshold used.
    """

    indices: torch.Tensor
    differences: torch.Tensor
    baseline: torch.Tensor
    threshold: float

    def mask(self) -> torch.Tensor:
        """``(T,)`` bool, true at keyframes."""
        flags = torch.zeros(self.differences.numel(), dtype=torch.bool)
        flags[self.indices] = True
        return flags


def detect_keyframes(
    video: torch.Tensor,
    threshold: float = DEFAULT_THRESHOLD,
    min_distance: int = 1,
    baseline_degree: int = 2,
    blur_kernel: int = 9,
) -> Keyframes:
    """Keyframes by frame differencing with the seed's 30 % threshold (see the module's description).

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)`` in [0, 1].
    threshold : float, default 0.3
        Normalised peak threshold (seed 000: 30 %).
    min_distance : int, default 1
        Least distance between keyframes.
    baseline_degree : int, default 2
        Degree of the polynomial baseline removed from the difference curve.
    blur_kernel : int, default 9
        Gaussian blur before differencing.

    Examples
    --------
    A dark clip with one bright flash at frame 3:

    >>> import torch
    >>> from vidsal_core.saliency.keyframes import detect_keyframes
    >>> video = torch.zeros(8, 1, 16, 16)
    >>> video[3] = 1.0
    >>> keyframes = detect_keyframes(video, threshold=0.3)
    >>> keyframes.indices.tolist(), keyframes.differences.tolist()[2:5]  # all 256 pixels brighten at frame 3
    ([3], [0.0, 256.0, 0.0])
    >>> keyframes.mask().tolist()
    [False, False, False, True, False, False, False, False]
    """
    differences = frame_differences(video, blur_kernel)
    baseline = polynomial_baseline(differences, baseline_degree)
    indices = peak_indices(differences.numpy() - baseline, threshold, min_distance)
    return Keyframes(torch.from_numpy(indices), differences, torch.from_numpy(baseline), float(threshold))


def rank_correlation(first: Any, second: Any) -> float:
    """Spearman's rank correlation of two per-frame curves (NaN if either is constant).

    Parameters
    ----------
    first, second : array-like
        ``(T,)`` each.

    Examples
    --------
    >>> from vidsal_core.saliency.keyframes import rank_correlation
    >>> round(rank_correlation([0.1, 0.2, 0.3, 0.4], [10, 20, 40, 30]), 4)  # one pair of frames out of order
    0.8
    >>> rank_correlation([0.1, 0.2, 0.3, 0.4], [1, 1, 1, 1])  # a constant curve has no ranks
    nan
    """
    from scipy.stats import spearmanr

    x, y = _to_numpy(first, "first"), _to_numpy(second, "second")
    if x.size != y.size:
        raise ConfigError(f"rank_correlation: curves of {x.size} and {y.size} frames")
    if x.size < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(spearmanr(x, y).statistic)


def keyframe_auc(keyframes: Any, scores: Any) -> float:
    """Probability that a keyframe scores higher than a non-keyframe (ties count half).

    The area under the ROC curve of ``scores`` as a detector of keyframes
    (Hanley and McNeil, 1982); 0.5 is chance, NaN if all or no frames are keyframes.

    Parameters
    ----------
    keyframes : array-like
        Keyframe indices, or a ``(T,)`` bool mask.
    scores : array-like
        ``(T,)`` e.g. time contribution.

    Examples
    --------
    >>> from vidsal_core.saliency.keyframes import keyframe_auc
    >>> scores = [0.1, 0.2, 0.9, 0.3]
    >>> keyframe_auc([2], scores)  # the keyframe outscores every other frame
    1.0
    >>> round(keyframe_auc([1], scores), 4), keyframe_auc([False, True, True, False], scores)
    (0.3333, 0.75)
    """
    values = _to_numpy(scores, "scores")
    flags = np.asarray(keyframes.cpu() if isinstance(keyframes, torch.Tensor) else keyframes)
    if flags.dtype != bool:
        indices = flags.astype(np.int64).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= values.size):
            raise ConfigError(f"keyframes: indices outside the {values.size} frames")
        flags = np.zeros(values.size, dtype=bool)
        flags[indices] = True
    if flags.size != values.size:
        raise ConfigError(f"keyframes: mask of {flags.size} frames for {values.size} scores")
    positive, negative = values[flags], values[~flags]
    if positive.size == 0 or negative.size == 0:
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).sum()
    ties = (positive[:, None] == negative[None, :]).sum()
    return float((greater + 0.5 * ties) / (positive.size * negative.size))


def temporal_agreement(
    time_contribution: Any,
    keyframes: Keyframes | Any,
    truth: Mapping[str, Any] | Any | None = None,
) -> dict[str, float]:
    """Agreement between time contribution, keyframes and (for SynthKTH) the true visibility and motion.

    Parameters
    ----------
    time_contribution : array-like
        ``(T,)`` per-frame time contribution.
    keyframes : Keyframes or array-like
        Detected keyframes (a :class:`Keyframes`, indices or a bool mask).
    truth : mapping or SynthTruth, optional
        ``visibility`` and ``limb_motion`` per frame (``item.truth`` of a
        SynthKTH dataset with ``with_truth=True``).

    Returns
    -------
    dict
        ``keyframe_auc`` of the time contribution; with a :class:`Keyframes`,
        ``spearman_contribution_difference``; with truth, Spearman correlations
        of time contribution (and frame difference) with visibility and limb
        motion, and the keyframe AUC of each true curve.

    Examples
    --------
    >>> from vidsal_core.saliency.keyframes import temporal_agreement
    >>> contribution = [0.0, 0.1, 0.9, 0.2]
    >>> temporal_agreement(contribution, [2])
    {'keyframe_auc': 1.0}
    >>> truth = {"visibility": [0.2, 0.4, 1.0, 0.6], "limb_motion": [0.0, 1.0, 3.0, 2.0]}
    >>> agreement = temporal_agreement(contribution, [2], truth)
    >>> agreement["spearman_contribution_visibility"], agreement["keyframe_auc_limb_motion"]
    (1.0, 1.0)
    """
    contribution = _to_numpy(time_contribution, "time_contribution")
    indices = keyframes.indices if isinstance(keyframes, Keyframes) else keyframes
    result = {"keyframe_auc": keyframe_auc(indices, contribution)}
    if isinstance(keyframes, Keyframes):
        result["spearman_contribution_difference"] = rank_correlation(contribution, keyframes.differences)
    if truth is not None:
        for name in ("visibility", "limb_motion"):
            curve = truth[name] if isinstance(truth, Mapping) else getattr(truth, name)
            curve = check_finite(torch.as_tensor(curve, dtype=torch.float64), f"truth {name}")
            result[f"spearman_contribution_{name}"] = rank_correlation(contribution, curve)
            result[f"keyframe_auc_{name}"] = keyframe_auc(indices, curve)
            if isinstance(keyframes, Keyframes):
                result[f"spearman_difference_{name}"] = rank_correlation(keyframes.differences, curve)
    return result
