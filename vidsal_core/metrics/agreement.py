"""Does a per-frame importance curve agree with what truly happens in a video?

Per video: Spearman's rank correlation of a per-frame curve (time contribution,
or the 0/1 keyframe indicator) with each true curve (visibility, limb motion);
the AUC of a per-frame score as a detector of the frames where the person is in
view; the keyframe AUC of time contribution (seed 000's own comparison); and
the *synergy* of a window of masked frames, its drop minus the sum of the drops
of its frames masked one at a time, on the log-odds and the probability scale.
"""

from __future__ import annotations

from vidsal_core.errors import ConfigError
import time
from typing import Any
import numpy as np
import torch
from vidsal_core.saliency.keyframes import Keyframes, keyframe_auc, rank_correlation


#: A frame counts as "in view" when at least this share of the figure is inside it.
DEFAULT_IN_VIEW = 0.5


def _curve(values: Any, argument: str) -> np.ndarray:
    array = values.detach().cpu().double().numpy() if isinstance(values, torch.Tensor) else np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ConfigError(f"{argument}: expected one value per frame (T,), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ConfigError(f"{argument}: holds NaN or infinite values")
    return array


def _fraction(value: Any, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{argument}={value!r}: expected a fraction in [0, 1]")
    return float(value)


def in_view(visibility: Any, threshold: float = DEFAULT_IN_VIEW) -> np.ndarray:
    """``(T,)`` bool: frames where at least ``threshold`` of the figure is inside the frame."""
    return _curve(visibility, "visibility") >= _fraction(threshold, "threshold")


def in_view_auc(scores: Any, visibility: Any, threshold: float = DEFAULT_IN_VIEW) -> float:
    """AUC of ``scores`` as a detector of in-view frames (0.5 = chance; NaN if all or no frames are in view).

    Parameters
    ----------
    scores : array-like
        ``(T,)`` per-frame score, e.g. time contribution.
    visibility : array-like
        ``(T,)`` share of the figure inside each frame (SynthKTH's truth).
    threshold : float, default 0.5
        Least visibility of an in-view frame.
    """
    values = _curve(scores, "scores")
    flags = in_view(visibility, threshold)
    if flags.size != values.size:
        raise ConfigError(f"visibility: {flags.size} frames for {values.size} scores")
    return keyframe_auc(flags, values)


def keyframe_indicator(keyframes: Keyframes | Any, n_frames: int) -> np.ndarray:
    """``(T,)`` float: 1 at keyframes, 0 elsewhere.

    Parameters
    ----------
    keyframes : Keyframes or array-like
        Detected keyframes, or their indices.
    n_frames : int
        Frames of the video.
    """
    indices = keyframes.indices if isinstance(keyframes, Keyframes) else keyframes
    indices = np.asarray(indices.cpu() if isinstance(indices, torch.Tensor) else indices, dtype=np.int64).reshape(-1)
    if indices.size and (indices.min() < 0 or indices.max() >= n_frames):
        raise ConfigError(f"keyframes: indices {indices.tolist()} outside the {n_frames} frames")
    flags = np.zeros(n_frames)
    flags[indices] = 1.0
    return flags


def agreement(time_contribution: Any, keyframes: Keyframes | Any, visibility: Any, limb_motion: Any,
              threshold: float = DEFAULT_IN_VIEW) -> dict[str, float]:
    """Every measure of :data:`MEASURES` for one video (NaN where a curve is constant).

    Parameters
    ----------
    time_contribution : array-like
        ``(T,)`` per-frame time contribution.
    keyframes : Keyframes or array-like
        Detected keyframes, or their indices.
    visibility, limb_motion : array-like
        ``(T,)`` SynthKTH's truth for the same frames.
    threshold : float, default 0.5
        Least visibility of an in-view frame.
    """
    contribution = _curve(time_contribution, "time_contribution")
    truth = {"visibility": _curve(visibility, "visibility"), "limb_motion": _curve(limb_motion, "limb_motion")}
    for name, curve in truth.items():
        if curve.size != contribution.size:
            raise ConfigError(f"{name}: {curve.size} frames, time contribution has {contribution.size}")
    indicator = keyframe_indicator(keyframes, contribution.size)
    result = {}
    for name, curve in truth.items():
        result[f"rho_contribution_{name}"] = rank_correlation(contribution, curve)
        result[f"rho_keyframes_{name}"] = rank_correlation(indicator, curve)
    result["auc_contribution_keyframes"] = keyframe_auc(indicator.astype(bool), contribution)
    result["auc_contribution_in_view"] = in_view_auc(contribution, truth["visibility"], threshold)
    result["auc_keyframes_in_view"] = in_view_auc(indicator, truth["visibility"], threshold)
    return {name: result[name] for name in MEASURES}


def window_synergy(window_drops: Any, windows: Any, single_drops: Any) -> np.ndarray:
    """``(M,)`` per window: its drop minus the sum of its frames' single-frame drops.

    The drops may be of the target's probability or of its log-odds
    (:func:`~vidsal_core.saliency.time_contribution.target_log_odds`), both
    from the same masked passes; the two must be on the same scale. Only the
    log-odds synergy is zero for a model whose frames add up in its logits
    (see the module's description).

    Parameters
    ----------
    window_drops : array-like
        ``(M,)`` drop of each window mask.
    windows : array-like
        ``(M, 2)`` first frame and one past the last of each window.
    single_drops : array-like
        ``(T,)`` drop of each frame masked alone (same baseline, same scale).
    """
    drops = _curve(window_drops, "window_drops")
    singles = _curve(single_drops, "single_drops")
    spans = np.asarray(windows.cpu() if isinstance(windows, torch.Tensor) else windows, dtype=np.int64)
    if spans.shape != (drops.size, 2):
        raise ConfigError(f"windows: expected ({drops.size}, 2), got {spans.shape}")
    if spans.size and (spans[:, 0].min() < 0 or spans[:, 1].max() > singles.size or np.any(spans[:, 1] <= spans[:, 0])):
        raise ConfigError(f"windows: spans must lie within the {singles.size} frames and be non-empty")
    cumulative = np.concatenate([[0.0], np.cumsum(singles)])
    return drops - (cumulative[spans[:, 1]] - cumulative[spans[:, 0]])


#: Names of the measures :func:`agreement` returns, with what each means.
MEASURES: dict[str, str] = {
    "rho_contribution_visibility": "Spearman ρ, time contribution vs true visibility",
    "rho_contribution_limb_motion": "Spearman ρ, time contribution vs true limb motion",
    "rho_keyframes_visibility": "Spearman ρ, keyframe indicator vs true visibility",
    "rho_keyframes_limb_motion": "Spearman ρ, keyframe indicator vs true limb motion",
    "auc_contribution_keyframes": "AUC, time contribution as a detector of keyframes",
    "auc_contribution_in_view": "AUC, time contribution as a detector of in-view frames",
    "auc_keyframes_in_view": "AUC, keyframe indicator as a detector of in-view frames",
}
