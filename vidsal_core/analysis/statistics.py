"""Means with 95% confidence intervals, the one way every chapter reports a number.

Videos of the same SynthKTH person share a body and clothes, so they are not
independent; the unit of every interval is the independent cluster (a person,
or a source video for real footage), never the clip.

The default interval is a **cluster-robust t interval**: the mean of all values,
its standard error from the clusters' summed residuals with the small-sample
factor ``G / (G − 1)`` (the "CR1" sandwich estimator; Cameron & Miller, 2015,
§VI), and Student's t quantile with ``G − 1`` degrees of freedom. With equal
cluster sizes it is exactly the t interval over cluster means. Unlike a
percentile bootstrap over clusters, it keeps its coverage at the 8–12 clusters
this study has: a percentile bootstrap over 3 clusters has only 10 distinct
resamples and its "95%" interval covers far less (tests/test_statistics.py
simulates both). The percentile bootstrap stays available as
``method="percentile_bootstrap"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from vidsal_core.errors import ConfigError

#: Interval methods of :func:`mean_interval`.
INTERVAL_METHODS = ("cluster_t", "percentile_bootstrap")


@dataclass(frozen=True)
class Estimate:
    """A mean, its confidence interval, the values averaged and the independent units behind them.

    Attributes
    ----------
    mean, low, high : float
        The mean and its interval (NaN when nothing could be measured).
    count : int
        Values averaged (clips).
    units : int or None
        Independent clusters among them (persons or source videos); None when unknown.
    """

    mean: float
    low: float
    high: float
    count: int
    units: int | None = None

    def __str__(self) -> str:
        return interval_text(self.mean, self.low, self.high, missing=None)

    def text(self, spec: str = ".3g", scale: float = 1.0, missing: str | None = "—") -> str:
        """``mean [low, high]``: :func:`interval_text` of this estimate."""
        return interval_text(self.mean, self.low, self.high, spec=spec, scale=scale, missing=missing)


def interval_text(mean: float, low: float, high: float, spec: str = ".3g", scale: float = 1.0,
                  missing: str | None = "—") -> str:
    """An estimate and its interval as the book writes them: ``mean [low, high]``, each times ``scale``.

    The one interval format of the study: every chapter and table writes an
    interval through it (with :meth:`Estimate.text` or
    :func:`vidsal_core.book.glue`).

    Parameters
    ----------
    spec : str
        A format spec for each number (``".3g"``, ``"+.2f"`` for a signed
        difference, ...).
    missing : str or None
        The text for an estimate whose mean is not finite (nothing could be
        measured); None formats the numbers anyway (``nan [nan, nan]``).

    Examples
    --------
    >>> interval_text(0.01234, 0.004, 0.02)
    '0.0123 [0.004, 0.02]'
    >>> interval_text(0.012, 0.004, 0.02, spec="+.3g", scale=100)
    '+1.2 [+0.4, +2]'
    >>> interval_text(float("nan"), float("nan"), float("nan"))
    '—'
    """
    if missing is not None and not math.isfinite(mean):
        return missing
    try:
        return f"{scale * mean:{spec}} [{scale * low:{spec}}, {scale * high:{spec}}]"
    except (TypeError, ValueError) as error:
        raise ConfigError(f"interval_text: cannot format {mean!r} [{low!r}, {high!r}] with spec={spec!r}: {error}") from error


def cluster_t_interval(values: Sequence[float], groups: Sequence[Any], confidence: float = 0.95) -> tuple[float, float]:
    """Cluster-robust (CR1) t interval of the mean of ``values``, clusters given by ``groups``.

    Parameters
    ----------
    values : sequence of float
        Finite values, one per clip.
    groups : sequence
        The cluster of each value.
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    (low, high) : tuple of float
        NaN, NaN when there is only one cluster (no spread between clusters can be measured).

    Examples
    --------
    Equal clusters give the t interval over cluster means:

    >>> low, high = cluster_t_interval([1.0, 1.0, 2.0, 2.0, 3.0, 3.0], ["a", "a", "b", "b", "c", "c"])
    >>> round(low, 3), round(high, 3)
    (-0.484, 4.484)
    """
    from scipy import stats

    values = np.asarray(values, dtype=float)
    names, group_of = np.unique(np.asarray([str(group) for group in groups]), return_inverse=True)
    count = len(names)
    if values.size == 0 or group_of.size != values.size:
        raise ConfigError(f"cluster_t_interval: {values.size} values but {group_of.size} groups")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence={confidence!r}: expected a number between 0 and 1")
    if count < 2:
        return math.nan, math.nan
    mean = values.mean()
    residual_sums = np.bincount(group_of, weights=values - mean, minlength=count)
    variance = count / (count - 1) * float(np.sum(residual_sums ** 2)) / values.size ** 2
    half = float(stats.t.ppf(0.5 + confidence / 2.0, count - 1)) * math.sqrt(variance)
    return float(mean - half), float(mean + half)


def mean_interval(values: Sequence[float], groups: Sequence[Any] | None = None, confidence: float = 0.95,
                  resamples: int = 2000, seed: int = 0, method: str = "cluster_t") -> Estimate:
    """Mean of ``values`` with a confidence interval over independent clusters.

    Parameters
    ----------
    values : sequence of float
        One value per clip; NaNs are dropped with their groups.
    groups : sequence, optional
        The cluster of each value (the person, or the source video); None = every value its own.
    confidence : float
        Coverage (default 0.95).
    resamples : int
        Bootstrap resamples (default 2000), for ``method="percentile_bootstrap"`` only.
    seed : int
        Seed of the resampling (default 0), for ``method="percentile_bootstrap"`` only.
    method : {"cluster_t", "percentile_bootstrap"}
        The cluster-robust t interval (default; see the module's docstring) or
        a percentile bootstrap that resamples whole clusters.

    Examples
    --------
    >>> estimate = mean_interval([0.2, 0.4, 0.3, 0.5], groups=["p1", "p1", "p2", "p2"])
    >>> round(estimate.mean, 6), estimate.count, estimate.units
    (0.35, 4, 2)
    """
    if method not in INTERVAL_METHODS:
        raise ConfigError(f"method={method!r}: expected one of {list(INTERVAL_METHODS)}")
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ConfigError(f"values: expected one value per unit, got shape {values.shape}")
    groups = np.arange(values.size) if groups is None else np.asarray(groups, dtype=object)
    if groups.shape != values.shape:
        raise ConfigError(f"groups: {groups.size} groups for {values.size} values")
    keep = np.isfinite(values)
    values, groups = values[keep], groups[keep]
    if values.size == 0:
        raise ConfigError("values: no finite value to average")
    units = len({str(group) for group in groups})
    if method == "cluster_t":
        low, high = cluster_t_interval(values, groups, confidence)
    else:
        from vidsal_core.models.evaluation import cluster_bootstrap_interval

        low, high = cluster_bootstrap_interval(list(values), list(groups), confidence, resamples, seed)
    return Estimate(float(values.mean()), low, high, int(values.size), units)
