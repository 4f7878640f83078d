"""Frame-wise relevance, share vectors, and the border / lookahead fits recover known coefficients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidsal_core.metrics.relevance import (
    border_coefficient,
    effect_estimates,
    fit_linear,
    fit_quadratic,
    frame_positions,
    frame_relevance,
    linear_curve,
    lookahead_coefficient,
    quadratic_curve,
    relevance_share,
    share_summary,
)
from vidsal_core.errors import ConfigError

T = 16


def _shares(border, lookahead, count=1, noise=0.0, seed=0):
    """Share vectors ``1/T + border (u² - mean u²) + lookahead u`` (+ noise that sums to zero)."""
    u = frame_positions(T)
    base = 1.0 / T + border * (u * u - np.mean(u * u)) + lookahead * u
    generator = np.random.default_rng(seed)
    perturbation = generator.normal(0.0, noise, size=(count, T))
    return base + perturbation - perturbation.mean(axis=1, keepdims=True)


def test_frame_relevance_sums_channels_and_pixels_and_share_sums_to_one():
    relevance = torch.arange(2 * 3 * 2 * 4 * 5, dtype=torch.float64).reshape(2, 3, 2, 4, 5)
    frames = frame_relevance(relevance)
    np.testing.assert_allclose(frames, relevance.sum(dim=(2, 3, 4)).numpy())
    np.testing.assert_allclose(frame_relevance(relevance[0]), frames[0])
    shares = relevance_share(frames)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert np.isnan(relevance_share(np.array([[1.0, -1.0, 0.0]]))).all(), "no share of a zero total"
    with pytest.raises(ConfigError):
        frame_relevance(np.zeros((4, 5)))


def test_positions_are_centred_on_the_snippet_and_span_minus_one_to_one():
    u = frame_positions(T)
    assert u[0] == -1.0 and u[-1] == 1.0 and abs(u.mean()) < 1e-15
    assert frame_positions(1).tolist() == [0.0]


@pytest.mark.parametrize("border, lookahead", [(0.03, 0.0), (0.0, 0.01), (-0.02, -0.005), (0.05, 0.02)])
def test_fits_recover_known_coefficients_exactly(border, lookahead):
    shares = _shares(border, lookahead)[0]
    a, b, c = fit_quadratic(shares)
    d, e = fit_linear(shares)
    assert a == pytest.approx(border, abs=1e-12) and b == pytest.approx(lookahead, abs=1e-12)
    assert d == pytest.approx(lookahead, abs=1e-12) and e == pytest.approx(1 / T, abs=1e-12)
    np.testing.assert_allclose(quadratic_curve((a, b, c), T), shares, atol=1e-12)
    assert border_coefficient(shares) == pytest.approx(a) and lookahead_coefficient(shares) == pytest.approx(d)


def test_fits_match_numpy_polyfit_in_frame_units():
    shares = np.random.default_rng(3).dirichlet(np.ones(T), size=5)
    half = (T - 1) / 2
    for row, (a, b, c), (d, e) in zip(shares, fit_quadratic(shares), fit_linear(shares)):
        # polyfit in tau = t - (T-1)/2 frames: tau = half * u, so a = a_tau * half^2, d = d_tau * half
        a_tau, b_tau, c_tau = np.polyfit(np.arange(T) - half, row, 2)
        d_tau, e_tau = np.polyfit(np.arange(T) - half, row, 1)
        assert a == pytest.approx(a_tau * half**2) and b == pytest.approx(b_tau * half)
        assert d == pytest.approx(d_tau * half) and e == pytest.approx(e_tau)
    np.testing.assert_allclose(linear_curve(fit_linear(shares)[0], T), np.polyval(np.polyfit(np.arange(T), shares[0], 1), np.arange(T)))


def test_dataset_fit_is_the_fit_of_the_mean_share_and_its_interval_covers_the_truth():
    shares = _shares(0.02, -0.004, count=60, noise=0.01, seed=1)
    persons = np.repeat(np.arange(12), 5)
    estimates = effect_estimates(shares, persons)
    np.testing.assert_allclose(estimates.quadratic, fit_quadratic(shares.mean(axis=0)), atol=1e-15)
    assert estimates.border.low < 0.02 < estimates.border.high
    assert estimates.lookahead.low < -0.004 < estimates.lookahead.high
    assert estimates.border.count == 60
    assert estimates.border.high - estimates.border.low < 0.01


def test_rows_without_a_share_are_dropped_and_the_summary_has_bands():
    shares = _shares(0.01, 0.0, count=8, noise=0.005)
    shares[3] = np.nan
    summary = share_summary(shares, groups=np.repeat([1, 2, 3, 4], 2))
    assert summary.count == 7 and summary.groups == 4
    assert np.all(summary.low <= summary.mean) and np.all(summary.mean <= summary.high)
    assert np.all(summary.quantiles[0.05] <= summary.quantiles[0.95])
    assert effect_estimates(shares).border.count == 7
    with pytest.raises(ConfigError, match="groups"):
        effect_estimates(shares, groups=[1, 2])
