"""Where in time a saliency map puts its mass: share per frame, vanishing index, slope.

Seed 000 (Fig. 2) shows that the input gradient of an LSTM video classifier
*vanishes* for early frames: the saliency concentrates on the last frames,
and input-cell attention (Ismail et al., 2019) is said to fix it. This module
turns that picture into numbers:

* **saliency mass** of frame ``t``: ``m_t = Σ_{c,h,w} |S_{t,c,h,w}|`` — the
  absolute value first, so that positive and negative evidence both count
  (unlike seed 002's signed frame-wise relevance,
  :func:`vidsal_core.metrics.relevance.frame_relevance`);
* **share** of frame ``t``: ``s_t = m_t / Σ_u m_u`` (a uniform share is ``1/T``);
* **vanishing index**: ``V = log10( Σ_{last k} s_t / Σ_{first k} s_t )`` with
  ``k = max(1, floor(fraction · T))`` frames at each end (``fraction = 0.25``:
  the last quarter against the first). ``V = 0``: no preference; ``V = 1``:
  the last quarter holds ten times the share of the first;
* **edge share ratio**: the share of the first ``k`` frames over their uniform
  share ``k / T`` (1: uniform; near 0: the early frames get almost nothing);
* **log-share slope**: the least-squares slope of ``log10 s_t`` on the frame
  index ``t`` (per frame), optionally with a covariate (the person's
  visibility) held fixed. ``(T - 1) · slope`` is the fitted log10 ratio of the
  last frame's share to the first's.

:func:`saliency_shares` computes the shares of a batch of videos chunk by
chunk through :mod:`vidsal_core.saliency.gradients`; the result does not
depend on the chunk size (models in eval mode treat videos independently).
:func:`naive_saliency_shares` is its slow reference: one video at a time,
plain autograd, no Captum.

References
----------
Ismail, A. A., Gunady, M., Pessoa, L., Corrada Bravo, H. and Feizi, S. (2019).
Input-cell attention reduces vanishing saliency of recurrent neural networks.
NeurIPS.
"""

from __future__ import annotations

from vidsal_core.errors import ConfigError
from typing import Any, Sequence
import numpy as np
import torch
from torch import nn
from vidsal_core.saliency.gradients import input_gradient, integrated_gradients


#: Saliency methods :func:`saliency_shares` computes.
METHODS: tuple[str, ...] = ("gradient", "integrated_gradients")


#: Smallest share the log-share slope takes a logarithm of (shares below are raised to it).
SHARE_FLOOR = 1e-12


def _as_array(values: Any) -> np.ndarray:
    """A tensor or array-like as a float64 NumPy array."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().to(torch.float64).numpy()
    return np.asarray(values, dtype=np.float64)


def frame_saliency_mass(saliency: Any) -> np.ndarray:
    """Saliency mass of each frame: ``Σ_{c,h,w} |S_{t,c,h,w}|``.

    Parameters
    ----------
    saliency : torch.Tensor or array-like
        ``(T, C, H, W)`` for one video or ``(B, T, C, H, W)`` for a batch.

    Returns
    -------
    numpy.ndarray
        ``(T,)`` or ``(B, T)`` float64, non-negative.
    """
    values = _as_array(saliency)
    if values.ndim not in (4, 5):
        raise ConfigError(f"saliency: expected (T, C, H, W) or (B, T, C, H, W), got shape {values.shape}")
    return np.abs(values).sum(axis=(-3, -2, -1))


def saliency_share(mass: Any, min_total: float = 0.0) -> np.ndarray:
    """Share of each frame in a video's total saliency mass, ``s_t = m_t / Σ_u m_u``.

    Parameters
    ----------
    mass : array-like
        ``(T,)`` or ``(B, T)`` non-negative frame masses (:func:`frame_saliency_mass`).
    min_total : float, default 0.0
        A video whose total mass is at most this has no share: its row is NaN.

    Returns
    -------
    numpy.ndarray
        The shape of ``mass``; every finite row sums to 1.
    """
    values = _as_array(mass)
    if values.ndim not in (1, 2) or values.shape[-1] < 1:
        raise ConfigError(f"mass: expected (T,) or (B, T), got shape {values.shape}")
    if np.any(values < 0):
        raise ConfigError("mass: saliency mass must be non-negative (take |saliency| first)")
    total = values.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = values / total
    return np.where(total > min_total, share, np.nan)


def edge_frames(n_frames: int, fraction: float = 0.25) -> int:
    """Frames at each end that the vanishing index compares: ``max(1, floor(fraction · T))``.

    Parameters
    ----------
    n_frames : int
        Frames per video, at least 2.
    fraction : float, default 0.25
        Share of the frames at each end, in (0, 0.5].
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 2:
        raise ConfigError(f"n_frames={n_frames!r}: expected an integer of at least 2")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction <= 0.5:
        raise ConfigError(f"fraction={fraction!r}: expected a number in (0, 0.5]")
    return max(1, int(np.floor(fraction * n_frames)))


def vanishing_index(shares: Any, fraction: float = 0.25) -> np.ndarray:
    """``log10`` of the share of the last ``k`` frames over the share of the first ``k``.

    Parameters
    ----------
    shares : array-like
        ``(T,)`` or ``(B, T)`` share vectors (:func:`saliency_share`).
    fraction : float, default 0.25
        ``k = max(1, floor(fraction · T))`` (see :func:`edge_frames`).

    Returns
    -------
    numpy.ndarray
        A scalar array or ``(B,)``: positive when the late frames hold more
        saliency (vanishing for early frames), 0 for no preference; NaN for
        rows with NaN, ``±inf`` where one end holds no saliency at all.
    """
    values = _as_array(shares)
    if values.ndim not in (1, 2):
        raise ConfigError(f"shares: expected (T,) or (B, T), got shape {values.shape}")
    k = edge_frames(values.shape[-1], fraction)
    first = values[..., :k].sum(axis=-1)
    last = values[..., -k:].sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(last) - np.log10(first)


def edge_share_ratio(shares: Any, fraction: float = 0.25, end: str = "first") -> np.ndarray:
    """Share of the first (or last) ``k`` frames relative to a uniform share: ``Σ s_t · T / k``.

    1 means the frames at that end get exactly their uniform share ``k / T``;
    near 0 means they get almost nothing (saliency has *vanished* there).

    Parameters
    ----------
    shares : array-like
        ``(T,)`` or ``(B, T)`` share vectors.
    fraction : float, default 0.25
        ``k = max(1, floor(fraction · T))`` (see :func:`edge_frames`).
    end : {"first", "last"}, default "first"
        Which end of the clip.
    """
    values = _as_array(shares)
    if values.ndim not in (1, 2):
        raise ConfigError(f"shares: expected (T,) or (B, T), got shape {values.shape}")
    if end not in ("first", "last"):
        raise ConfigError(f"end={end!r}: expected 'first' or 'last'")
    n_frames = values.shape[-1]
    k = edge_frames(n_frames, fraction)
    part = values[..., :k] if end == "first" else values[..., -k:]
    return part.sum(axis=-1) * n_frames / k


def log_share_slope(shares: Any, covariate: Any = None, floor: float = SHARE_FLOOR,
                    min_spread: float = 1e-3) -> np.ndarray:
    """Least-squares slope of ``log10 s_t`` on the frame index ``t``, per video.

    With a ``covariate`` ``v_t`` (e.g. the person's visibility) the model is
    ``log10 s_t = a + b t + c v_t`` and ``b`` is returned: the change per frame
    with the covariate held fixed (Frisch–Waugh: ``t`` is first residualised on
    ``1`` and ``v``).

    Parameters
    ----------
    shares : array-like
        ``(T,)`` or ``(B, T)`` share vectors.
    covariate : array-like, optional
        Same shape as ``shares`` (or ``(T,)``, shared by every row).
    floor : float, default :data:`SHARE_FLOOR`
        Shares below are raised to it before the logarithm.
    min_spread : float, default 1e-3
        A row whose frame index, after removing what the covariate explains,
        keeps less than this fraction of its variance has no separate time
        effect: its slope is NaN (e.g. visibility rising linearly with ``t``).

    Returns
    -------
    numpy.ndarray
        A scalar array or ``(B,)``, in log10 units per frame.
    """
    values = _as_array(shares)
    if values.ndim not in (1, 2) or values.shape[-1] < 3:
        raise ConfigError(f"shares: expected (T,) or (B, T) with T >= 3, got shape {values.shape}")
    single = values.ndim == 1
    rows = values[None] if single else values
    n_frames = rows.shape[1]
    time = np.broadcast_to(np.arange(n_frames, dtype=np.float64), rows.shape)
    columns = [np.ones_like(rows)]
    if covariate is not None:
        extra = _as_array(covariate)
        try:
            extra = np.broadcast_to(extra[None] if extra.ndim == 1 else extra, rows.shape)
        except ValueError:
            raise ConfigError(f"covariate: shape {extra.shape} does not match shares {values.shape}") from None
        columns.append(extra)
    design = np.stack(columns, axis=-1)  # (B, T, p)
    projection = design @ np.linalg.pinv(design)  # (B, T, T) hat matrix of the nuisance columns
    residual_time = time - np.einsum("bts,bs->bt", projection, time)
    spread = (residual_time ** 2).sum(axis=1)
    total_spread = ((time - time.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    logs = np.log10(np.maximum(rows, floor))
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (residual_time * logs).sum(axis=1) / spread
    slope = np.where(spread > min_spread * total_spread, slope, np.nan)
    return slope[0] if single else slope


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ConfigError(f"method={method!r}: choose one of {list(METHODS)}")
    return method


def _check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size={batch_size!r}: expected a positive integer")
    return batch_size


def saliency_shares(
    model: nn.Module,
    videos: torch.Tensor,
    targets: Sequence[int] | torch.Tensor,
    method: str = "gradient",
    batch_size: int = 8,
    n_steps: int = 16,
    ig_method: str = "gausslegendre",
    internal_batch_size: int | None = None,
) -> np.ndarray:
    """Saliency share per frame of every video, computed ``batch_size`` videos at a time.

    Parameters
    ----------
    model : nn.Module
        A video classifier in eval mode.
    videos : torch.Tensor
        ``(B, T, C, H, W)``, on any device: each chunk moves to the model's.
    targets : sequence of int or torch.Tensor
        The class explained for each video (one per video).
    method : {"gradient", "integrated_gradients"}, default "gradient"
        ``|input gradient|`` of the target logit, or Integrated Gradients from a
        black video (its absolute value is taken for the mass).
    batch_size : int, default 8
        Videos per call (memory bound; the result does not depend on it).
    n_steps : int, default 16
        Integrated Gradients' path points.
    ig_method : str, default "gausslegendre"
        Captum's integral approximation for Integrated Gradients.
    internal_batch_size : int, optional
        Integrated Gradients: (video, path point) pairs per forward pass
        (Captum's memory bound); None = all of a chunk at once.

    Returns
    -------
    numpy.ndarray
        ``(B, T)`` float64 share vectors.
    """

    _check_method(method)
    _check_batch_size(batch_size)
    if internal_batch_size is not None:
        _check_batch_size(internal_batch_size)
    if not isinstance(videos, torch.Tensor) or videos.ndim != 5:
        raise ConfigError(f"videos: expected a (B, T, C, H, W) tensor, got {getattr(videos, 'shape', type(videos))}")
    targets = torch.as_tensor(targets, dtype=torch.long).reshape(-1)
    if targets.numel() != videos.shape[0]:
        raise ConfigError(f"targets: {targets.numel()} targets for {videos.shape[0]} videos")
    device = next((parameter.device for parameter in model.parameters()), videos.device)
    masses = []
    for start in range(0, videos.shape[0], batch_size):
        chunk = videos[start:start + batch_size].to(device)
        chunk_targets = targets[start:start + batch_size].to(device)
        if method == "gradient":
            saliency = input_gradient(model, chunk, chunk_targets, absolute=True)
        else:
            saliency = integrated_gradients(model, chunk, chunk_targets, n_steps=n_steps, method=ig_method,
                                            internal_batch_size=internal_batch_size or chunk.shape[0] * n_steps)
        masses.append(frame_saliency_mass(saliency))
    return saliency_share(np.concatenate(masses, axis=0))


def naive_saliency_shares(
    model: nn.Module,
    videos: torch.Tensor,
    targets: Sequence[int] | torch.Tensor,
    method: str = "gradient",
    n_steps: int = 16,
) -> np.ndarray:
    """Slow reference of :func:`saliency_shares`: one video at a time, plain autograd.

    Integrated Gradients uses the midpoint rule from a black video,
    ``x · mean_k ∇f((k + ½) / n · x)``, which is Captum's ``"riemann_middle"``.
    """
    _check_method(method)
    targets = [int(target) for target in torch.as_tensor(targets).reshape(-1)]
    shares = []
    for video, target in zip(videos, targets):
        if method == "gradient":
            point = video[None].detach().clone().requires_grad_(True)
            gradient, = torch.autograd.grad(model(point)[0, target], point)
            saliency = gradient[0].abs()
        else:
            total = torch.zeros_like(video)
            for k in range(n_steps):
                point = ((k + 0.5) / n_steps * video)[None].detach().requires_grad_(True)
                gradient, = torch.autograd.grad(model(point)[0, target], point)
                total += gradient[0]
            saliency = (video * total / n_steps).abs()
        mass = saliency.sum(dim=(1, 2, 3))
        shares.append((mass / mass.sum()).detach().cpu().to(torch.float64).numpy())
    return np.stack(shares)
