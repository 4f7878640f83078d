"""Small helpers that put saliency maps beside SynthKTH's true motion, frame by frame.

Seed 000 compared its saliency maps with Farnebäck flow by eye. SynthKTH
renders the true displacement of every pixel, at the corpus's resolution
(120 × 160); the models see smaller frames. These helpers bring the truth to
the model's frames and reduce a map to the few numbers a TSR study
reports:

- :func:`motion_magnitude` — true speed ``|u|`` per pixel, averaged onto the
  model's frame size (in pixels per frame *at that size*);
- :func:`spatial_rank_correlation` — Spearman's rank correlation between a
  map and a motion magnitude, per frame, averaged over frames (a frame whose
  map is constant counts as 0, a frame with no motion to rank is skipped);
- :func:`frame_mass_share` — share of a map's mass that falls in chosen
  frames (those without the person, the last third of the clip);
- :func:`naive_pass_count` — forward/backward passes of the naive TSR loop,
  ``1 + T + |{t > α}| · F``.

Scores of a map *against a region* (share of mass on the person, on the legs)
live in :mod:`vidsal_core.metrics.localisation`. A comparison of *two* maps
(one-step against TSR, TSR against the gradient) goes through the one
flat-frame rule of :mod:`vidsal_core.metrics.flat_frames`, which pairs them
frame by frame on the same frames.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.flow import per_frame_spearman


def _as_tensor(values: Any, argument: str) -> torch.Tensor:
    try:
        tensor = torch.as_tensor(values.detach().cpu() if hasattr(values, "detach") else np.asarray(values))
    except (TypeError, ValueError):
        raise ConfigError(f"{argument}: expected an array of numbers, got {type(values).__name__}") from None
    tensor = tensor.double()
    if not bool(torch.isfinite(tensor).all()):
        raise ConfigError(f"{argument}: contains NaN or infinity")
    return tensor


def map_magnitude(saliency: Any, argument: str = "saliency") -> torch.Tensor:
    """``(T, H, W)`` float64 ``Σ_c |s|`` of a ``(T, C, H, W)`` map (``|s|`` of a ``(T, H, W)`` one)."""
    values = _as_tensor(saliency, argument)
    if values.dim() == 4:
        return values.abs().sum(dim=1)
    if values.dim() == 3:
        return values.abs()
    raise ConfigError(f"{argument}: expected (T, C, H, W) or (T, H, W), got shape {tuple(values.shape)}")


def motion_magnitude(flow: Any, size: tuple[int, int] | None = None) -> torch.Tensor:
    """``(T, h, w)`` speed of a ``(T, H, W, 2)`` flow, averaged onto ``size`` and rescaled to its pixels.

    Parameters
    ----------
    flow : array-like
        ``(T, H, W, 2)`` displacement ``(dx, dy)`` in pixels of the ``H × W`` frame,
        e.g. SynthKTH's true flow.
    size : (int, int), optional
        ``(h, w)`` of the model's frames; the speed is area-averaged onto it
        and multiplied by ``h / H`` (a displacement of 2 px at 120 rows is
        1 px at 60). None keeps the flow's own size.
    """
    field = _as_tensor(flow, "flow")
    if field.dim() != 4 or field.shape[-1] != 2:
        raise ConfigError(f"flow: expected (T, H, W, 2), got shape {tuple(field.shape)}")
    speed = torch.linalg.vector_norm(field, dim=-1)
    if size is None or tuple(size) == tuple(speed.shape[1:]):
        return speed
    if len(size) != 2 or any(isinstance(side, bool) or not isinstance(side, int) or side < 1 for side in size):
        raise ConfigError(f"size={size!r}: expected two positive integers (height, width)")
    height, width = speed.shape[1:]
    if size[0] > height or size[1] > width:
        raise ConfigError(f"size={tuple(size)}: larger than the flow's {height}×{width}; only averaging down is supported")
    averaged = torch.nn.functional.interpolate(speed[:, None], size=tuple(size), mode="area")[:, 0]
    return averaged * (size[0] / height)


def spatial_rank_correlation(saliency: Any, motion: Any, frames: Any | None = None) -> tuple[float, np.ndarray]:
    """Mean over frames of Spearman's ρ between a map and a motion magnitude, and the per-frame values.

    Frames where the motion is constant (nothing moves, or the person is out of
    view over a still background) have nothing to rank and are skipped (NaN in
    the per-frame values); frames where the *map* is constant but the motion is
    not count as 0: a flat map says nothing about where the motion is. (TSR
    gives a constant map to every frame below its threshold.)

    Parameters
    ----------
    saliency : array-like
        ``(T, C, H, W)`` or ``(T, H, W)`` map (reduced by :func:`map_magnitude`).
    motion : array-like
        ``(T', H, W)`` motion magnitude; the first ``min(T, T')`` frames are compared.
    frames : array-like, optional
        ``(min(T, T'),)`` bool: compare only these frames.

    Returns
    -------
    (float, numpy.ndarray)
        The mean over the frames compared (NaN if none), and ``(min(T, T'),)`` per-frame values.
    """

    values = map_magnitude(saliency)
    speed = _as_tensor(motion, "motion")
    if speed.dim() != 3 or speed.shape[1:] != values.shape[1:]:
        raise ConfigError(f"motion: shape {tuple(speed.shape)} does not match the map's (T, H, W) = {tuple(values.shape)}")
    count = min(values.shape[0], speed.shape[0])
    values, speed = values[:count], speed[:count]
    rho = per_frame_spearman(values, speed).numpy()
    moving = (speed.flatten(1).max(dim=1).values > speed.flatten(1).min(dim=1).values).numpy()
    flat = (values.flatten(1).max(dim=1).values == values.flatten(1).min(dim=1).values).numpy()
    rho = np.where(moving & flat, 0.0, rho)
    rho = np.where(moving, rho, np.nan)
    if frames is not None:
        keep = np.asarray(frames.detach().cpu() if hasattr(frames, "detach") else frames).astype(bool)
        if keep.shape != (count,):
            raise ConfigError(f"frames: expected {count} booleans (one per compared frame), got shape {keep.shape}")
        rho = np.where(keep, rho, np.nan)
    finite = rho[np.isfinite(rho)]
    return (float(finite.mean()) if finite.size else float("nan")), rho


def frame_mass_share(saliency: Any, frames: Any) -> float:
    """Share of a map's total mass in the chosen frames (NaN for an all-zero map).

    Parameters
    ----------
    saliency : array-like
        ``(T, C, H, W)`` or ``(T, H, W)``.
    frames : array-like
        ``(T,)`` bool.
    """
    mass = map_magnitude(saliency).sum(dim=(1, 2))
    keep = torch.as_tensor(np.asarray(frames.detach().cpu() if hasattr(frames, "detach") else frames)).bool()
    if tuple(keep.shape) != (mass.shape[0],):
        raise ConfigError(f"frames: expected {mass.shape[0]} booleans (one per frame), got shape {tuple(keep.shape)}")
    total = float(mass.sum())
    return float(mass[keep].sum()) / total if total > 0 else float("nan")


def naive_pass_count(n_frames: int, n_selected: int, n_features: int) -> int:
    """Attribution calls of the naive TSR loop: ``1 + T + |{t > α}| · F``.

    One on the unmasked video, one per masked frame, one per masked feature
    of every frame above the threshold (Ismail et al., 2020, Algorithm 1;
    each a full forward and backward pass for a gradient).
    """
    for name, value in (("n_frames", n_frames), ("n_selected", n_selected), ("n_features", n_features)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ConfigError(f"{name}={value!r}: expected a non-negative integer")
    if n_selected > n_frames:
        raise ConfigError(f"n_selected={n_selected}: more than the {n_frames} frames")
    return 1 + int(n_frames) + int(n_selected) * int(n_features)
