"""Means with bootstrap intervals."""

import numpy as np
import pytest

from vidsal_core.analysis.statistics import mean_interval
from vidsal_core.errors import ConfigError


def test_interval_brackets_the_mean_and_narrows_with_more_data():
    rng = np.random.default_rng(1)
    small = mean_interval(rng.normal(2.0, 1.0, 20))
    large = mean_interval(rng.normal(2.0, 1.0, 2000))
    assert small.low < small.mean < small.high
    assert large.high - large.low < (small.high - small.low) / 5
    assert large.low < 2.0 < large.high


def test_constant_values_give_a_point_interval_and_nans_are_dropped():
    estimate = mean_interval([3.0, 3.0, float("nan"), 3.0])
    assert (estimate.mean, estimate.low, estimate.high, estimate.count) == (3.0, 3.0, 3.0, 3)


def test_clustered_values_give_a_wider_interval_than_independent_ones():
    # two persons, each with many identical values: only two independent units
    values = [0.0] * 50 + [1.0] * 50
    clustered = mean_interval(values, groups=["a"] * 50 + ["b"] * 50)
    independent = mean_interval(values)
    assert clustered.high - clustered.low > 5 * (independent.high - independent.low)


def test_bad_input():
    with pytest.raises(ConfigError, match="groups"):
        mean_interval([1.0, 2.0], groups=["a"])
    with pytest.raises(ConfigError, match="finite"):
        mean_interval([float("nan")])
