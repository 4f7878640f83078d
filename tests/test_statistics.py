"""Means with their intervals: the cluster-robust t interval, and the cluster Wilson interval for bounded quantities."""

import numpy as np
import pytest

from vidsal_core.statistics import UNIT, mean_interval
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


# --- bounded quantities: the cluster Wilson interval ------------------------------------------------------------


def _clustered_accuracies(rng, n_sets, n_clusters, truth, concentration):
    """Bernoulli outcomes (correct or not), 2–6 clips per cluster; each cluster's accuracy drawn from a beta
    distribution with mean ``truth`` and ``concentration`` (a + b), or ``truth`` itself when it is None."""
    for _ in range(n_sets):
        sizes = rng.integers(2, 7, n_clusters)
        rates = (np.full(n_clusters, truth) if concentration is None else
                 rng.beta(truth * concentration, (1.0 - truth) * concentration, n_clusters))
        values = np.concatenate([(rng.random(size) < rate).astype(float) for rate, size in zip(rates, sizes)])
        yield values, np.repeat(np.arange(n_clusters), sizes)


@pytest.mark.parametrize("concentration", [None, 20.0], ids=["no_between_cluster_variation", "beta_clusters"])
def test_bounded_interval_holds_its_coverage_at_nine_clusters_and_stays_in_range(concentration):
    truth, rng = 0.97, np.random.default_rng(20261207)
    estimates = [mean_interval(values, groups, bounds=UNIT)
                 for values, groups in _clustered_accuracies(rng, 600, 9, truth, concentration)]
    coverage = float(np.mean([estimate.low <= truth <= estimate.high for estimate in estimates]))
    assert coverage >= 0.93, f"the 95% interval covered the truth in only {coverage:.3f} of 600 data sets"
    assert all(0.0 <= estimate.low <= estimate.mean <= estimate.high <= 1.0 for estimate in estimates)
    assert all(estimate.high - estimate.low > 0.0 for estimate in estimates)
    # the t interval it replaces does leave the range on the same kind of data
    rng = np.random.default_rng(20261207)
    unbounded = [mean_interval(values, groups) for values, groups in _clustered_accuracies(rng, 600, 9, truth, concentration)]
    assert any(estimate.high > 1.0 for estimate in unbounded)


def test_all_ones_give_an_interval_that_reaches_one_and_has_width():
    groups = np.repeat(np.arange(9), 4)
    estimate = mean_interval(np.ones(36), groups, bounds=UNIT)
    assert estimate.high == 1.0 and estimate.low < 1.0 and estimate.mean == 1.0
    assert (estimate.count, estimate.units) == (36, 9)
    # the t interval collapses: 1 [1, 1]
    assert mean_interval(np.ones(36), groups).low == 1.0
    # all zeros mirror it, and a percentage scale is the same interval times 100
    zeros = mean_interval(np.zeros(36), groups, bounds=UNIT)
    assert zeros.low == 0.0 and zeros.high == pytest.approx(1.0 - estimate.low, abs=1e-15)
    percent = mean_interval(100 * np.ones(36), groups, bounds=(0, 100))
    assert (percent.low, percent.high) == pytest.approx((100 * estimate.low, 100.0), abs=1e-12)


def test_wilson_interval_worked_by_hand():
    from scipy import stats

    # all ones, 9 persons × 4 clips: design effect taken as 1, n* = 36, interval [n* / (n* + t8²), 1]
    t8 = stats.t.ppf(0.975, 8)
    estimate = mean_interval(np.ones(36), np.repeat(np.arange(9), 4), bounds=UNIT)
    assert estimate.low == pytest.approx(36.0 / (36.0 + t8 ** 2), rel=1e-12)
    # 1 1 | 0 1 | 1 1 (three persons): p = 5/6, n = 6, cluster residual sums 1/3, −2/3, 1/3, so
    # V = (3/2)(2/3)/36 = 1/36 > s²/n = (5/36)/6, n* = p(1 − p)/V = 5, t = t2; Wilson with n* = 5:
    p, n_star, t = 5.0 / 6.0, 5.0, stats.t.ppf(0.975, 2)
    centre = (p + t ** 2 / (2 * n_star)) / (1 + t ** 2 / n_star)
    half = t / (1 + t ** 2 / n_star) * np.sqrt(p * (1 - p) / n_star + t ** 2 / (4 * n_star ** 2))
    estimate = mean_interval([1, 1, 0, 1, 1, 1], list("aabbcc"), bounds=UNIT)
    assert (estimate.low, estimate.high) == pytest.approx((centre - half, centre + half), rel=1e-12)
    assert (estimate.low, estimate.high) == pytest.approx((0.14871, 0.99306), abs=1e-5)


def test_bounded_interval_floors_the_design_effect_at_one():
    # every person has exactly one miss in four clips: the clusters agree perfectly (CR1 variance 0), yet the
    # interval is no narrower than for 36 independent clips (design effect 1, n* = n)
    from scipy import stats

    values, groups = np.tile([1.0, 1.0, 1.0, 0.0], 9), np.repeat(np.arange(9), 4)
    estimate = mean_interval(values, groups, bounds=UNIT)
    p, n, t = 0.75, 36.0, stats.t.ppf(0.975, 8)
    centre = (p + t ** 2 / (2 * n)) / (1 + t ** 2 / n)
    half = t / (1 + t ** 2 / n) * np.sqrt(p * (1 - p) / n + t ** 2 / (4 * n ** 2))
    assert (estimate.low, estimate.high) == pytest.approx((centre - half, centre + half), rel=1e-12)


def test_bounded_interval_is_close_to_the_t_interval_away_from_the_ends():
    rng = np.random.default_rng(5)
    values = np.clip(0.5 + 0.05 * rng.normal(size=(9, 4)) + 0.05 * rng.normal(size=(9, 1)), 0, 1).ravel()
    groups = np.repeat(np.arange(9), 4)
    bounded, unbounded = mean_interval(values, groups, bounds=UNIT), mean_interval(values, groups)
    assert bounded.mean == unbounded.mean
    np.testing.assert_allclose([bounded.low, bounded.high], [unbounded.low, unbounded.high], atol=0.005)


def test_bounded_interval_bad_input():
    with pytest.raises(ConfigError, match=r"values: .*outside bounds"):
        mean_interval([0.5, 1.2], ["a", "b"], bounds=UNIT)
    with pytest.raises(ConfigError, match="bounds="):
        mean_interval([0.5, 0.6], ["a", "b"], bounds=(1, 0))
    with pytest.raises(ConfigError, match="bounds="):
        mean_interval([0.5, 0.6], ["a", "b"], bounds=(0,))
    with pytest.raises(ConfigError, match="method='percentile_bootstrap'"):
        mean_interval([0.5, 0.6], ["a", "b"], bounds=UNIT, method="percentile_bootstrap")
    one = mean_interval([1.0, 0.0, 1.0], ["a", "a", "a"], bounds=UNIT)
    assert one.units == 1 and np.isnan(one.low) and np.isnan(one.high)
