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


def _clustered_data_sets(rng, n_sets, n_clusters, truth):
    """Simulated clustered data: a random effect per cluster, noise per clip, 2–6 clips per cluster."""
    for _ in range(n_sets):
        sizes = rng.integers(2, 7, n_clusters)
        effects = rng.normal(0.0, 1.0, n_clusters)
        values = np.concatenate([truth + effect + rng.normal(0.0, 1.0, size) for effect, size in zip(effects, sizes)])
        groups = np.repeat(np.arange(n_clusters), sizes)
        yield values, groups


def test_cluster_t_interval_holds_its_coverage_at_nine_clusters():
    truth, rng = 0.7, np.random.default_rng(20261201)
    covered = [estimate.low <= truth <= estimate.high
               for estimate in (mean_interval(values, groups) for values, groups in
                                _clustered_data_sets(rng, 600, 9, truth))]
    coverage = float(np.mean(covered))
    assert coverage >= 0.93, f"the 95% interval covered the truth in only {coverage:.3f} of 600 data sets"


def test_percentile_bootstrap_over_few_clusters_undercovers():
    # the reason for the default: a percentile bootstrap over 3 clusters covers far less than 95%
    truth, rng = 0.7, np.random.default_rng(7)
    covered = [estimate.low <= truth <= estimate.high
               for estimate in (mean_interval(values, groups, resamples=400, method="percentile_bootstrap")
                                for values, groups in _clustered_data_sets(rng, 300, 3, truth))]
    assert float(np.mean(covered)) < 0.85


def test_equal_clusters_give_the_t_interval_over_cluster_means():
    from scipy import stats

    rng = np.random.default_rng(3)
    values = rng.normal(size=(9, 4))
    estimate = mean_interval(values.ravel(), np.repeat(np.arange(9), 4))
    means = values.mean(axis=1)
    half = stats.t.ppf(0.975, 8) * means.std(ddof=1) / 3.0
    np.testing.assert_allclose([estimate.low, estimate.high], [means.mean() - half, means.mean() + half], rtol=1e-12)
    assert (estimate.count, estimate.units) == (36, 9)


def test_one_cluster_has_no_interval_and_methods_are_checked():
    estimate = mean_interval([1.0, 2.0, 3.0], groups=["a", "a", "a"])
    assert estimate.units == 1 and np.isnan(estimate.low) and np.isnan(estimate.high)
    with pytest.raises(ConfigError, match="method='bca'"):
        mean_interval([1.0, 2.0], method="bca")
