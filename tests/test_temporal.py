"""Saliency share per frame, the vanishing index and the log-share slope (vidsal_study.chapters.vanishing.temporal)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _saliency_models import LinearFrames
from vidsal_study.chapters.vanishing.temporal import (
    edge_frames, frame_saliency_mass, log_share_slope, naive_saliency_shares, saliency_share, saliency_shares,
    vanishing_index,
)
from vidsal_core.errors import ConfigError
from vidsal_core.models.lstm import FrameLSTM, ICALSTM

TINY_ENCODER = {"stem_channels": 2, "channels": [3], "stage_strides": [2], "pool_grid": [1, 1], "feature_size": 3}


def tiny_videos(batch=5, frames=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, frames, 1, 8, 10, generator=generator)


def tiny_model(kind, dtype=torch.float32):
    torch.manual_seed(0)
    cls = FrameLSTM if kind == "frame_lstm" else ICALSTM
    extra = {} if kind == "frame_lstm" else {"attention_hops": 2, "attention_size": 3}
    model = cls(num_classes=2, input_size=None, encoder=TINY_ENCODER, hidden_size=4, head_size=3, **extra)
    return model.to(dtype).eval()


# --- mass, share, index: hand-known cases -------------------------------------------------------

def test_mass_is_the_sum_of_absolute_values_per_frame():
    saliency = torch.zeros(3, 1, 2, 2)
    saliency[0, 0, 0, 0], saliency[0, 0, 1, 1] = 1.0, -2.0
    saliency[2] = 0.5
    np.testing.assert_allclose(frame_saliency_mass(saliency), [3.0, 0.0, 2.0])
    np.testing.assert_allclose(frame_saliency_mass(saliency[None]), [[3.0, 0.0, 2.0]])
    with pytest.raises(ConfigError, match="saliency"):
        frame_saliency_mass(torch.zeros(3, 4))


def test_share_sums_to_one_and_empty_videos_are_nan():
    share = saliency_share([[1.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(share[0], [0.25, 0.25, 0.5])
    assert np.isnan(share[1]).all()
    with pytest.raises(ConfigError, match="non-negative"):
        saliency_share([1.0, -1.0])


def test_vanishing_index_of_uniform_and_geometric_shares():
    frames = 30
    assert edge_frames(frames) == 7
    assert vanishing_index(np.full(frames, 1 / frames)) == pytest.approx(0.0, abs=1e-12)
    # share ∝ r^t: the last k frames hold r^(T-k) times the first k
    ratio = 1.3
    geometric = ratio ** np.arange(frames)
    shares = saliency_share(geometric)
    assert vanishing_index(shares) == pytest.approx((frames - 7) * np.log10(ratio))
    assert vanishing_index(shares[::-1].copy()) == pytest.approx(-(frames - 7) * np.log10(ratio))
    # one frame at each end with fraction small
    assert vanishing_index([0.1, 0.2, 0.3, 0.4], fraction=0.1) == pytest.approx(np.log10(4.0))
    with pytest.raises(ConfigError, match="fraction"):
        vanishing_index(shares, fraction=0.6)


def test_log_share_slope_recovers_a_geometric_rate():
    ratio = 1.2
    shares = saliency_share(ratio ** np.arange(20))
    assert log_share_slope(shares) == pytest.approx(np.log10(ratio))
    # batch of rows = row by row
    batch = np.stack([shares, shares[::-1]])
    np.testing.assert_allclose(log_share_slope(batch), [np.log10(ratio), -np.log10(ratio)])


def test_log_share_slope_holds_a_covariate_fixed():
    frames = 24
    time = np.arange(frames, dtype=float)
    visibility = (np.sin(time / 3.0) > 0).astype(float)  # a person coming and going
    # log10 share = 0.05 t + 0.7 v + const: the time slope with visibility held fixed is 0.05
    logs = 0.05 * time + 0.7 * visibility
    shares = saliency_share(10 ** logs)
    assert log_share_slope(shares, visibility) == pytest.approx(0.05)
    assert log_share_slope(shares) != pytest.approx(0.05, abs=1e-3)
    # a constant covariate changes nothing
    assert log_share_slope(shares, np.ones(frames)) == pytest.approx(log_share_slope(shares))
    # a covariate that is the frame index itself leaves no time effect to estimate
    assert np.isnan(log_share_slope(shares, time / frames))
    with pytest.raises(ConfigError, match="covariate"):
        log_share_slope(shares, np.ones(frames + 1))


# --- saliency_shares: hand-known model, reference agreement, batch invariance ------------------

def test_shares_of_a_linear_model_are_known_by_hand():
    # logit_0 = Σ_t c_t mean(x_t): |gradient| of frame t is |c_t| / pixels, so the share is |c_t| / Σ|c|;
    # Integrated Gradients from black: c_t x / pixels, so the share is |c_t| Σ x_t / Σ_u |c_u| Σ x_u
    weights = torch.tensor([0.5, -1.0, 2.0, 0.0, 1.5])
    model = LinearFrames(weights).eval()
    videos = tiny_videos(batch=3, frames=5)
    expected = weights.abs() / weights.abs().sum()
    gradient = saliency_shares(model, videos, [0, 0, 0], "gradient")
    np.testing.assert_allclose(gradient, np.tile(expected.numpy(), (3, 1)), rtol=1e-5, atol=1e-7)
    integrated = saliency_shares(model, videos, [0, 0, 0], "integrated_gradients", n_steps=4)
    mass = weights.abs() * videos.sum(dim=(2, 3, 4))
    np.testing.assert_allclose(integrated, (mass / mass.sum(1, keepdim=True)).numpy(), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("kind", ["frame_lstm", "ica_lstm"])
@pytest.mark.parametrize("method", ["gradient", "integrated_gradients"])
def test_shares_agree_with_the_naive_reference_in_float64(kind, method):
    model = tiny_model(kind, torch.float64)
    videos = tiny_videos().to(torch.float64)
    targets = [0, 1, 0, 1, 1]
    fast = saliency_shares(model, videos, targets, method, batch_size=2, n_steps=6, ig_method="riemann_middle")
    slow = naive_saliency_shares(model, videos, targets, method, n_steps=6)
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.sum(axis=1), 1.0)


@pytest.mark.parametrize("method", ["gradient", "integrated_gradients"])
def test_shares_do_not_depend_on_the_batch_size(method):
    model = tiny_model("ica_lstm")
    videos = tiny_videos(batch=7)
    targets = [0, 1, 1, 0, 0, 1, 0]
    one = saliency_shares(model, videos, targets, method, batch_size=1, n_steps=5)
    three = saliency_shares(model, videos, targets, method, batch_size=3, n_steps=5)
    every = saliency_shares(model, videos, targets, method, batch_size=7, n_steps=5)
    np.testing.assert_allclose(one, three, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(one, every, rtol=1e-4, atol=1e-7)


def test_bad_arguments_are_named():
    model = tiny_model("frame_lstm")
    videos = tiny_videos(batch=2)
    with pytest.raises(ConfigError, match="method"):
        saliency_shares(model, videos, [0, 1], "smooth")
    with pytest.raises(ConfigError, match="batch_size"):
        saliency_shares(model, videos, [0, 1], batch_size=0)
    with pytest.raises(ConfigError, match="targets"):
        saliency_shares(model, videos, [0])
    with pytest.raises(ConfigError, match="videos"):
        saliency_shares(model, videos[0], [0])


# --- chapter helpers ----------------------------------------------------------------------------

def test_spread_entries_cycles_scenarios_and_keeps_counts():
    from vidsal_study.chapters.vanishing.temporal import spread_entries

    entries = [{"person": p, "action": a, "scenario": s, "key": f"{p}{a}{s}"}
               for p in (2, 3) for a in ("walking", "running") for s in ("d1", "d2", "d3", "d4")]
    one = spread_entries(entries, 1)
    assert len(one) == 4
    assert len({entry["scenario"] for entry in one}) == 4  # four (person, action) cells, four scenarios
    two = spread_entries(entries, 2)
    assert len(two) == 8 and all(entry in entries for entry in two)
    assert spread_entries(entries, None) == entries
    assert len(spread_entries(entries, 10)) == len(entries)
    with pytest.raises(ConfigError, match="per_person_action"):
        spread_entries(entries, 0)


def test_interval_or_nan_gives_nan_without_values():
    from vidsal_study.chapters.vanishing.temporal import interval_or_nan

    assert np.isnan(interval_or_nan([np.nan, np.nan]).mean)
    estimate = interval_or_nan([1.0, 2.0, np.nan, 3.0], ["a", "b", "c", "c"])
    assert estimate.mean == pytest.approx(2.0) and estimate.count == 3


def test_chapter_settings_and_window_variant_of_the_quick_profile():
    from vidsal_study.chapters.vanishing.temporal import chapter_settings, window_variant
    from vidsal_study.runs import build_run

    settings = chapter_settings("quick")
    assert len(settings["videos_per_person_action"]) == len(settings["pairs"])
    variant = window_variant("quick", "ica_lstm_binary", 7, "ica_lstm_binary_window7")
    base = build_run("quick", "ica_lstm_binary")
    assert variant.spec.model_config["window"] == 7
    assert {k: v for k, v in variant.spec.model_config.items() if k != "window"} == \
        {k: v for k, v in base.spec.model_config.items() if k != "window"}
    assert variant.spec.training == base.spec.training and variant.data == base.data
    with pytest.raises(ConfigError, match="window"):
        window_variant("quick", "ica_lstm_binary", 0, "bad")
    with pytest.raises(ConfigError, match="not an ica_lstm"):
        window_variant("quick", "frame_lstm_binary", 5, "bad")
    with pytest.raises(ConfigError, match="name"):
        window_variant("quick", "ica_lstm_binary", 5, "frame_lstm_binary")


def test_chapter_window_variant_is_the_run_the_vanishing_chapter_trains():
    from vidsal_study.chapters.vanishing.temporal import chapter_settings, chapter_window_variant

    settings = chapter_settings("default")
    run = chapter_window_variant("default")
    variant = settings["window_variant"]
    assert run.name == f"{variant['base_run']}_window{variant['window']}" == "ica_lstm_binary_window10"
    assert run.spec.model_config["window"] == 10
    assert chapter_window_variant("default", {**settings, "window_variant": None}) is None
    changed = chapter_window_variant("default", {**settings, "window_variant": {"base_run": "ica_lstm_binary",
                                                                                "window": 4}})
    assert changed.name == "ica_lstm_binary_window4" and changed.spec.model_config["window"] == 4


def test_edge_share_ratio_is_one_for_uniform_shares_and_known_otherwise():
    from vidsal_study.chapters.vanishing.temporal import edge_share_ratio

    assert edge_share_ratio(np.full(20, 0.05)) == pytest.approx(1.0)
    shares = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.0, 0.0, 0.0])  # k = 2 of T = 8
    assert edge_share_ratio(shares) == pytest.approx(0.1 * 8 / 2)
    assert edge_share_ratio(shares, end="last") == pytest.approx(0.0)
    np.testing.assert_allclose(edge_share_ratio(np.stack([shares, shares[::-1]])), [0.4, 0.0])
    with pytest.raises(ConfigError, match="end"):
        edge_share_ratio(shares, end="middle")


def test_integrated_gradients_memory_bound_does_not_change_the_shares():
    model = tiny_model("frame_lstm")
    videos = tiny_videos(batch=3)
    whole = saliency_shares(model, videos, [0, 1, 0], "integrated_gradients", batch_size=3, n_steps=6)
    bounded = saliency_shares(model, videos, [0, 1, 0], "integrated_gradients", batch_size=3, n_steps=6,
                              internal_batch_size=4)
    np.testing.assert_allclose(whole, bounded, rtol=1e-4, atol=1e-7)
    with pytest.raises(ConfigError, match="batch_size"):
        saliency_shares(model, videos, [0, 1, 0], "integrated_gradients", internal_batch_size=0)
