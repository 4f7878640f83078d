"""Frame-wise relevance, its share per frame, and the border and lookahead fits of seed 002.

Anders et al. (seed 002, Sec. 3.2) reduce an explanation ``R`` of a snippet of
``T`` frames to its *frame-wise relevance* ``R_t = Σ_{c,h,w} R_{t,c,h,w}`` and
to the *share vector* ``r_t = R_t / Σ_s R_s``, then summarise the share vectors
of a data set with two least-squares fits. The formulas of eqs. 3 and 4 were
lost from the seed's text; vidsal parameterises them as follows (and every
number in the book uses exactly this):

* frame position, centred and scaled to [-1, 1]:
  ``u_t = 2 t / (T - 1) - 1`` for frames ``t = 0 … T-1``;
* quadratic model (eq. 3), border effect: ``r̂(u) = c + b u + a u²``; the
  **border coefficient** is ``a`` — how much more share the fitted curve gives
  the first and last frames than the centre of the snippet (``r̂(±1) - r̂(0)
  = a ± b``, on average ``a``). Positive: relevance piles up at the borders;
* linear model (eq. 4), lookahead effect: ``r̂(u) = e + d u``; the
  **lookahead coefficient** is ``d`` — half the fitted difference between the
  share of the last and of the first frame. Positive: the later frames count more.

Coefficients are in units of share (a share vector sums to 1, so a uniform one
is ``1/T`` everywhere). Because ``u`` is symmetric about 0, ``u`` is orthogonal
to both ``1`` and ``u²`` over the frames, so the quadratic's ``b`` equals the
linear model's ``d``, and the two effects are read from orthogonal parts of
the share vector.

The seed fits the coefficients to minimise the expected squared error over
the data set, ``E ‖r - r̂‖²``. All videos share one design matrix, so that fit
is the fit of the mean share vector, and — least squares being linear in the
data — equal to the mean of the per-video coefficients. vidsal therefore fits
each video, reports the mean and bootstraps it over persons (videos of one
person are not independent; :func:`vidsal_core.statistics.mean_interval`).

References
----------
Anders, C. J., Montavon, G., Samek, W. and Müller, K.-R. (2019).
Understanding patch-based learning by explaining predictions (seed 002).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from vidsal_core.statistics import Estimate, mean_interval
from vidsal_core.errors import ConfigError

#: Quantiles of the share distribution that :func:`share_summary` reports by default.
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)


def _as_array(values: Any) -> np.ndarray:
    """A tensor or array-like as a float64 NumPy array."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64)


def frame_relevance(relevance: Any) -> np.ndarray:
    """Relevance of each frame: the sum over channels and pixels.

    Parameters
    ----------
    relevance : torch.Tensor or array-like
        ``(T, C, H, W)`` for one video or ``(B, T, C, H, W)`` for a batch
        (an explanation with the video's shape).

    Returns
    -------
    numpy.ndarray
        ``(T,)`` or ``(B, T)`` float64.
    """
    values = _as_array(relevance)
    if values.ndim not in (4, 5):
        raise ConfigError(f"relevance: expected (T, C, H, W) or (B, T, C, H, W), got shape {values.shape}")
    return values.sum(axis=(-3, -2, -1))


def relevance_share(frame_relevance: Any, min_total: float = 1e-12) -> np.ndarray:
    """Share of each frame in the total relevance, ``r_t = R_t / Σ_s R_s``.

    Parameters
    ----------
    frame_relevance : array-like
        ``(T,)`` or ``(N, T)`` frame-wise relevance.
    min_total : float, default 1e-12
        A video whose total ``|Σ_s R_s|`` is at most this has no meaningful
        share; its row is NaN (and is dropped by the summaries).

    Returns
    -------
    numpy.ndarray
        Same shape; each finite row sums to 1.
    """
    values = _as_array(frame_relevance)
    if values.ndim not in (1, 2) or values.shape[-1] < 1:
        raise ConfigError(f"frame_relevance: expected (T,) or (N, T), got shape {values.shape}")
    total = values.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = values / total
    return np.where(np.abs(total) > min_total, share, np.nan)


def frame_positions(n_frames: int) -> np.ndarray:
    """Centred, scaled frame positions ``u_t = 2 t / (T - 1) - 1`` in [-1, 1] (0 for one frame)."""
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 1:
        raise ConfigError(f"n_frames={n_frames!r}: expected a positive integer")
    if n_frames == 1:
        return np.zeros(1)
    return 2.0 * np.arange(n_frames) / (n_frames - 1) - 1.0


def quadratic_design(n_frames: int) -> np.ndarray:
    """``(T, 3)`` design matrix of the border model: columns ``u²``, ``u``, ``1``."""
    u = frame_positions(n_frames)
    return np.stack([u * u, u, np.ones_like(u)], axis=1)


def linear_design(n_frames: int) -> np.ndarray:
    """``(T, 2)`` design matrix of the lookahead model: columns ``u``, ``1``."""
    u = frame_positions(n_frames)
    return np.stack([u, np.ones_like(u)], axis=1)


def _least_squares(shares: Any, design: np.ndarray) -> np.ndarray:
    """Least-squares coefficients of every row of ``shares`` on ``design``."""
    values = _as_array(shares)
    if values.ndim not in (1, 2) or values.shape[-1] != design.shape[0]:
        raise ConfigError(f"shares: expected (T,) or (N, T) with T={design.shape[0]}, got shape {values.shape}")
    if design.shape[0] < design.shape[1]:
        raise ConfigError(f"shares: {design.shape[0]} frames cannot determine {design.shape[1]} coefficients")
    return values @ np.linalg.pinv(design).T


def fit_quadratic(shares: Any) -> np.ndarray:
    """Coefficients ``(a, b, c)`` of ``r̂(u) = c + b u + a u²`` per share vector (eq. 3).

    Parameters
    ----------
    shares : array-like
        ``(T,)`` or ``(N, T)`` share vectors (``T >= 3``).

    Returns
    -------
    numpy.ndarray
        ``(3,)`` or ``(N, 3)``; column 0 is the border coefficient ``a``. A NaN
        row in gives a NaN row out.
    """
    values = _as_array(shares)
    return _least_squares(values, quadratic_design(values.shape[-1]))


def fit_linear(shares: Any) -> np.ndarray:
    """Coefficients ``(d, e)`` of ``r̂(u) = e + d u`` per share vector (eq. 4).

    Returns
    -------
    numpy.ndarray
        ``(2,)`` or ``(N, 2)``; column 0 is the lookahead coefficient ``d``.
    """
    values = _as_array(shares)
    return _least_squares(values, linear_design(values.shape[-1]))


def border_coefficient(shares: Any) -> np.ndarray:
    """The border coefficient ``a`` of each share vector (see the module's description)."""
    return fit_quadratic(shares)[..., 0]


def lookahead_coefficient(shares: Any) -> np.ndarray:
    """The lookahead coefficient ``d`` of each share vector (see the module's description)."""
    return fit_linear(shares)[..., 0]


def quadratic_curve(coefficients: Sequence[float], n_frames: int) -> np.ndarray:
    """The fitted border model ``c + b u + a u²`` at the ``n_frames`` frame positions."""
    return quadratic_design(n_frames) @ _as_array(coefficients)


def linear_curve(coefficients: Sequence[float], n_frames: int) -> np.ndarray:
    """The fitted lookahead model ``e + d u`` at the ``n_frames`` frame positions."""
    return linear_design(n_frames) @ _as_array(coefficients)


def _checked_rows(shares: Any, groups: Sequence[Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """Share rows that are finite and their groups (each row its own group when None)."""
    values = _as_array(shares)
    if values.ndim != 2:
        raise ConfigError(f"shares: expected (N, T) share vectors, got shape {values.shape}")
    groups_array = np.arange(values.shape[0]) if groups is None else np.asarray(groups, dtype=object)
    if groups_array.shape != (values.shape[0],):
        raise ConfigError(f"groups: {groups_array.size} groups for {values.shape[0]} share vectors")
    keep = np.isfinite(values).all(axis=1)
    if not keep.any():
        raise ConfigError("shares: no finite share vector")
    return values[keep], groups_array[keep]


@dataclass(frozen=True)
class ShareSummary:
    """The distribution of share vectors over a data set (seed 002, Fig. 2).

    Attributes
    ----------
    mean, low, high : numpy.ndarray
        ``(T,)`` mean share per frame and its confidence interval.
    quantiles : dict of float to numpy.ndarray
        ``(T,)`` quantiles of the share per frame over the videos.
    count : int
        Videos summarised.
    groups : int
        Distinct groups (persons) among them.
    """

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    quantiles: dict[float, np.ndarray] = field(default_factory=dict)
    count: int = 0
    groups: int = 0


def share_summary(
    shares: Any,
    groups: Sequence[Any] | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> ShareSummary:
    """Mean share per frame with bootstrap intervals, and the spread over videos.

    Parameters
    ----------
    shares : array-like
        ``(N, T)`` share vectors; rows with NaN are dropped.
    groups : sequence, optional
        Group (person) of each row, resampled whole by the bootstrap.
    quantiles : sequence of float
        Quantiles of the distribution over videos (default 5, 25, 50, 75, 95 %).
    confidence, resamples, seed
        Passed to :func:`~vidsal_core.statistics.mean_interval`.
    """
    values, kept_groups = _checked_rows(shares, groups)
    estimates = [mean_interval(values[:, t], kept_groups, confidence, resamples, seed) for t in range(values.shape[1])]
    return ShareSummary(
        mean=np.array([e.mean for e in estimates]), low=np.array([e.low for e in estimates]),
        high=np.array([e.high for e in estimates]),
        quantiles={float(q): np.quantile(values, q, axis=0) for q in quantiles},
        count=int(values.shape[0]), groups=len(set(kept_groups.tolist())),
    )


@dataclass(frozen=True)
class EffectEstimates:
    """Border and lookahead coefficients of a data set, with confidence intervals.

    Attributes
    ----------
    border : Estimate
        Mean border coefficient ``a`` over the videos (= ``a`` of the mean
        share vector) and its bootstrap interval.
    lookahead : Estimate
        Mean lookahead coefficient ``d``, likewise.
    quadratic : numpy.ndarray
        ``(a, b, c)`` of the mean share vector (for drawing the fit).
    linear : numpy.ndarray
        ``(d, e)`` of the mean share vector.
    """

    border: Estimate
    lookahead: Estimate
    quadratic: np.ndarray
    linear: np.ndarray


def effect_estimates(
    shares: Any,
    groups: Sequence[Any] | None = None,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> EffectEstimates:
    """Border and lookahead coefficients of ``shares`` with bootstrap intervals over ``groups``.

    Parameters
    ----------
    shares : array-like
        ``(N, T)`` share vectors (``T >= 3``); rows with NaN are dropped.
    groups : sequence, optional
        Group (person, or source clip) of each row; the bootstrap resamples whole
        groups. None treats every row as independent.
    confidence, resamples, seed
        Passed to :func:`~vidsal_core.statistics.mean_interval`.
    """
    values, kept_groups = _checked_rows(shares, groups)
    quadratic, linear = fit_quadratic(values), fit_linear(values)
    return EffectEstimates(
        border=mean_interval(quadratic[:, 0], kept_groups, confidence, resamples, seed),
        lookahead=mean_interval(linear[:, 0], kept_groups, confidence, resamples, seed),
        quadratic=quadratic.mean(axis=0), linear=linear.mean(axis=0),
    )
