"""Optical flow as a baseline for saliency: Farneback through OpenCV, and comparisons.

Seed 000 (§3, §4.3) expects the saliency of a walking-vs-running classifier
to look like the motion in the video and compares it, by eye, with dense
Farneback flow (Farnebäck, 2003) computed by OpenCV with parameters
``(0.5, 3, 15, 3, 5, 1.2, 0)`` on grayscale frames. vidsal computes the same
flow and puts numbers on the comparison:

- :func:`farneback_flow` — flow from each frame to the next, ``(T − 1, H, W, 2)``
  as ``(dx, dy)``, the convention of SynthKTH's true flow
  (``render_video(spec, with_flow=True).flow``, ``(T, H, W, 2)``, whose last
  frame looks one instant past the clip);
- :func:`flow_magnitude` — per-pixel speed, optionally min-max scaled per frame
  to 0-255 as the seed's ``cv2.normalize(..., NORM_MINMAX)``;
- :func:`per_frame_spearman` — Spearman's rank correlation, frame by frame,
  between a saliency map and a motion magnitude (Farneback's or the truth);
- :func:`endpoint_error` — Farneback's own error against the true flow,
  mean endpoint error per frame, over all pixels or a region (the figure).

References
----------
Farnebäck, G. (2003). Two-frame motion estimation based on polynomial
expansion. Scandinavian Conference on Image Analysis, 363–370.
Baker, S. et al. (2011). A database and evaluation methodology for optical
flow. IJCV 92(1) (endpoint error).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.checks import check_finite, check_video

#: Seed 000's Farneback parameters, by OpenCV's argument names.
SEED_FARNEBACK: dict[str, Any] = {
    "pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2, "flags": 0,
}


def gray_uint8(video: torch.Tensor) -> np.ndarray:
    """``(T, H, W)`` uint8 grayscale (channel mean) of a ``(T, C, H, W)`` video in [0, 1]."""
    check_video(video)
    return (video.detach().cpu().double().mean(dim=1).clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def farneback_flow(
    video: torch.Tensor,
    pyr_scale: float = 0.5,
    levels: int = 3,
    winsize: int = 15,
    iterations: int = 3,
    poly_n: int = 5,
    poly_sigma: float = 1.2,
    flags: int = 0,
) -> torch.Tensor:
    """Dense Farneback flow from each frame to the next: ``(T − 1, H, W, 2)`` float32, ``(dx, dy)``.

    ``flow[t, y, x]`` is where pixel ``(x, y)`` of frame ``t`` moves in frame
    ``t + 1``, minus ``(x, y)``. Frames go to 8-bit grayscale first, as the
    seed's frames were. The defaults are the seed's parameters
    (:data:`SEED_FARNEBACK`), named as OpenCV's ``calcOpticalFlowFarneback``
    names them.

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)`` in [0, 1], at least two frames.
    pyr_scale : float, default 0.5
        Scale between pyramid levels.
    levels : int, default 3
        Pyramid levels.
    winsize : int, default 15
        Averaging window.
    iterations : int, default 3
        Iterations per level.
    poly_n : int, default 5
        Neighbourhood of the polynomial expansion.
    poly_sigma : float, default 1.2
        Gaussian of the polynomial expansion.
    flags : int, default 0
        OpenCV flags.

    Examples
    --------
    A bright square moving one pixel to the right per frame:

    >>> import torch
    >>> from vidsal_core.saliency.flow import farneback_flow
    >>> video = torch.zeros(3, 1, 32, 32)
    >>> for t in range(3):
    ...     video[t, :, 12:20, 10 + t:18 + t] = 1.0
    >>> flow = farneback_flow(video)
    >>> flow.shape  # (T - 1, H, W, (dx, dy))
    torch.Size([2, 32, 32, 2])
    >>> 0.5 < float(flow[:, 12:20, 10:18, 0].mean()) < 1.5  # dx on the square: about one pixel
    True
    """
    import cv2

    frames = gray_uint8(video)
    if frames.shape[0] < 2:
        raise ConfigError(f"video: optical flow needs at least two frames, got {frames.shape[0]}")
    flows = [cv2.calcOpticalFlowFarneback(previous, current, None, pyr_scale, levels, winsize, iterations,
                                          poly_n, poly_sigma, flags)
             for previous, current in zip(frames[:-1], frames[1:])]
    return torch.from_numpy(np.stack(flows)).float()


def _check_flow(flow: Any, argument: str) -> torch.Tensor:
    flow = torch.as_tensor(flow)
    if flow.dim() != 4 or flow.shape[-1] != 2:
        raise ConfigError(f"{argument}: expected (T, H, W, 2) flow, got shape {tuple(flow.shape)}")
    return check_finite(flow.double(), argument)


def flow_magnitude(flow: Any, normalise: str = "none") -> torch.Tensor:
    """``(T, H, W)`` speed ``sqrt(dx² + dy²)`` of a ``(T, H, W, 2)`` flow.

    Parameters
    ----------
    flow : array-like
        ``(T, H, W, 2)``.
    normalise : {"none", "frame_minmax"}, default "none"
        ``"frame_minmax"`` scales each frame to 0-255 as the seed did
        (``cv2.normalize(mag, None, 0, 255, NORM_MINMAX)``); a constant frame becomes 0.

    Examples
    --------
    >>> import torch
    >>> from vidsal_core.saliency.flow import flow_magnitude
    >>> flow = torch.zeros(2, 3, 3, 2)
    >>> flow[..., 0], flow[..., 1] = 3.0, 4.0  # (dx, dy) = (3, 4) everywhere
    >>> speed = flow_magnitude(flow)
    >>> speed.shape, speed.unique().tolist()
    (torch.Size([2, 3, 3]), [5.0])
    >>> flow[1, 0, 0] = 0.0
    >>> flow_magnitude(flow, normalise="frame_minmax")[1, :2, :2].tolist()  # each frame to 0-255 (constant → 0)
    [[0.0, 255.0], [255.0, 255.0]]
    """
    magnitude = torch.linalg.vector_norm(_check_flow(flow, "flow"), dim=-1)
    if normalise == "none":
        return magnitude
    if normalise != "frame_minmax":
        raise ConfigError(f"normalise={normalise!r}: choose 'none' or 'frame_minmax'")
    low = magnitude.flatten(1).min(dim=1).values[:, None, None]
    high = magnitude.flatten(1).max(dim=1).values[:, None, None]
    span = high - low
    return torch.where(span > 0, (magnitude - low) * 255.0 / torch.where(span > 0, span, 1.0), torch.zeros_like(magnitude))


def saliency_magnitude(saliency: torch.Tensor) -> torch.Tensor:
    """``(T, H, W)`` per-pixel magnitude of a ``(T, C, H, W)`` map: ``Σ_c |s|``.

    Examples
    --------
    >>> import torch
    >>> from vidsal_core.saliency.flow import saliency_magnitude
    >>> saliency = torch.full((4, 3, 8, 8), -0.5)  # signed, three channels
    >>> magnitude = saliency_magnitude(saliency)
    >>> magnitude.shape, magnitude.unique().tolist()
    (torch.Size([4, 8, 8]), [1.5])
    """
    check_video(saliency, "saliency")
    return saliency.detach().abs().sum(dim=1).double()


def per_frame_spearman(first: Any, second: Any, region: Any | None = None) -> torch.Tensor:
    """Spearman's rank correlation over the pixels of each frame: ``(T,)`` float64.

    Frames where either map is constant (over the region) give NaN. When the
    two maps have different numbers of frames (saliency has ``T``, Farneback
    flow ``T − 1``), the first ``min`` frames are compared.

    Parameters
    ----------
    first, second : array-like
        ``(T, H, W)`` maps, e.g. :func:`saliency_magnitude` and :func:`flow_magnitude`.
    region : array-like, optional
        ``(T, H, W)`` bool: compare only these pixels (e.g. ``parts > 0``).

    Examples
    --------
    >>> import torch
    >>> from vidsal_core.saliency.flow import per_frame_spearman
    >>> first = torch.arange(2 * 3 * 3, dtype=torch.float64).reshape(2, 3, 3)
    >>> second = first ** 2  # the same order in every frame
    >>> second[1] = 1.0  # frame 1 constant
    >>> [round(rho, 4) for rho in per_frame_spearman(first, second).tolist()]
    [1.0, nan]
    >>> correlation = per_frame_spearman(first, -first, region=first > 3)  # pixels 4-8 of frame 0, all of frame 1
    >>> [round(rho, 4) for rho in correlation.tolist()]
    [-1.0, -1.0]
    """
    from scipy.stats import rankdata

    x = torch.as_tensor(first).double()
    y = torch.as_tensor(second).double()
    if x.dim() != 3 or y.dim() != 3 or x.shape[1:] != y.shape[1:]:
        raise ConfigError(f"per_frame_spearman: expected two (T, H, W) maps of one size, got {tuple(x.shape)} and {tuple(y.shape)}")
    check_finite(x, "first")
    check_finite(y, "second")
    frames = min(x.shape[0], y.shape[0])
    mask = None if region is None else torch.as_tensor(region).bool()
    result = torch.full((frames,), float("nan"), dtype=torch.float64)
    for frame in range(frames):
        a, b = x[frame].flatten().numpy(), y[frame].flatten().numpy()
        if mask is not None:
            keep = mask[frame].flatten().numpy()
            a, b = a[keep], b[keep]
        if a.size < 2 or np.all(a == a[0]) or np.all(b == b[0]):
            continue
        rank_a, rank_b = rankdata(a), rankdata(b)
        result[frame] = float(np.corrcoef(rank_a, rank_b)[0, 1])
    return result


def endpoint_error(estimated: Any, true: Any, region: Any | None = None) -> torch.Tensor:
    """Mean endpoint error ``|estimated − true|`` per frame, in pixels: ``(T',)`` float64.

    Parameters
    ----------
    estimated : array-like
        ``(T', H, W, 2)`` flow, e.g. :func:`farneback_flow` (``T' = T − 1``).
    true : array-like
        ``(T, H, W, 2)`` true flow with ``T ≥ T'``; its first ``T'`` frames are used.
    region : array-like, optional
        ``(T, H, W)`` bool: average only over these pixels (NaN for a frame
        with none), e.g. the figure, ``parts > 0``.

    Examples
    --------
    >>> import torch
    >>> from vidsal_core.saliency.flow import endpoint_error
    >>> true = torch.zeros(3, 4, 4, 2)
    >>> true[..., 0], true[..., 1] = 3.0, 4.0
    >>> estimated = torch.zeros(2, 4, 4, 2)  # T - 1 frames, as from farneback_flow
    >>> endpoint_error(estimated, true).tolist()
    [5.0, 5.0]
    >>> region = torch.zeros(3, 4, 4, dtype=torch.bool)
    >>> region[0, :2] = True  # frame 1 has no pixel in the region
    >>> endpoint_error(estimated, true, region=region).tolist()
    [5.0, nan]
    """
    estimate = _check_flow(estimated, "estimated")
    truth = _check_flow(true, "true")
    frames = estimate.shape[0]
    if truth.shape[0] < frames or truth.shape[1:] != estimate.shape[1:]:
        raise ConfigError(f"true: shape {tuple(truth.shape)} does not cover the estimated flow's {tuple(estimate.shape)}")
    error = torch.linalg.vector_norm(estimate - truth[:frames], dim=-1)  # (T', H, W)
    if region is None:
        return error.flatten(1).mean(dim=1)
    mask = torch.as_tensor(region).bool()[:frames]
    counts = mask.flatten(1).sum(dim=1).double()
    sums = (error * mask).flatten(1).sum(dim=1)
    return torch.where(counts > 0, sums / counts.clamp_min(1), torch.full_like(sums, float("nan")))
