"""Means with 95% confidence intervals, the one way every chapter reports a number.

Videos of the same SynthKTH person share a body and clothes, so they are not
independent; where the person of each value is known the interval comes from a
bootstrap that resamples whole persons
(:func:`vidsal_core.models.evaluation.cluster_bootstrap_interval`), otherwise
from one that resamples the values themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from vidsal_core.errors import ConfigError


@dataclass(frozen=True)
class Estimate:
    """A mean and its confidence interval."""

    mean: float
    low: float
    high: float
    count: int

    def __str__(self) -> str:
        return f"{self.mean:.3g} [{self.low:.3g}, {self.high:.3g}]"


def mean_interval(values: Sequence[float], groups: Sequence[Any] | None = None, confidence: float = 0.95,
                  resamples: int = 2000, seed: int = 0) -> Estimate:
    """Mean of ``values`` with a percentile-bootstrap interval.

    Parameters
    ----------
    values : sequence of float
        One value per unit (video); NaNs are dropped with their groups.
    groups : sequence, optional
        The cluster of each value (e.g. the person); None = every value its own.
    confidence : float
        Coverage (default 0.95).
    resamples : int
        Bootstrap resamples (default 2000).
    seed : int
        Seed of the resampling (default 0).
    """
    from vidsal_core.models.evaluation import cluster_bootstrap_interval

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
    low, high = cluster_bootstrap_interval(list(values), list(groups), confidence, resamples, seed)
    return Estimate(float(values.mean()), low, high, int(values.size))
