"""Agreement of per-frame curves with the truth: hand-known cases, intervals, verdicts, the study on a tiny model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from _saliency_models import QuadraticFrames
from _toy_videos import TINY_MODELS
from vidsal_core.statistics import Estimate
from vidsal_study.chapters.time_contribution.study import (
    MEASURES, StudySettings, agreement, in_view, in_view_auc, interval, keyframe_indicator,
    paired_difference, position_band, study_video, window_synergy,
)
from vidsal_core.errors import ConfigError
from vidsal_core.models.registry import build_model
from vidsal_core.saliency.keyframes import Keyframes
from vidsal_core.saliency.time_contribution import time_contribution

VISIBILITY = np.array([0.0, 0.2, 0.6, 1.0, 1.0, 0.4])


def test_in_view_auc_is_known_by_hand():
    assert in_view(VISIBILITY).tolist() == [False, False, True, True, True, False]
    # scores rank every in-view frame above every other frame: AUC 1; the reverse: 0
    assert in_view_auc(VISIBILITY, VISIBILITY) == 1.0
    assert in_view_auc(-VISIBILITY, VISIBILITY) == 0.0
    # in view: frames 2, 3, 4 score 1, 0, 1; out of view: frames 0, 1, 5 score 0, 1, 0; count the 9 pairs
    scores = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    wins = sum((a > b) + 0.5 * (a == b) for a in scores[[2, 3, 4]] for b in scores[[0, 1, 5]])
    assert in_view_auc(scores, VISIBILITY) == pytest.approx(wins / 9)
    assert math.isnan(in_view_auc(scores, np.ones(6)))  # every frame in view
    assert in_view_auc(scores, VISIBILITY, threshold=0.1) != in_view_auc(scores, VISIBILITY)


def test_keyframe_indicator_and_agreement():
    assert keyframe_indicator([1, 4], 6).tolist() == [0, 1, 0, 0, 1, 0]
    keyframes = Keyframes(torch.tensor([3, 4]), torch.zeros(6, dtype=torch.float64), torch.zeros(6, dtype=torch.float64), 0.3)
    assert keyframe_indicator(keyframes, 6).tolist() == [0, 0, 0, 1, 1, 0]
    limb_motion = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    result = agreement(VISIBILITY, keyframes, VISIBILITY, limb_motion)
    assert list(result) == list(MEASURES)
    assert result["rho_contribution_visibility"] == pytest.approx(1.0)
    assert result["auc_contribution_in_view"] == 1.0
    assert result["auc_contribution_keyframes"] == 1.0  # keyframes 3 and 4 have the highest contribution (ties count half)
    # indicator in view (frames 2, 3, 4): 0, 1, 1; out of view: 0, 0, 0 → 6 wins and 3 ties of 9 pairs
    assert result["auc_keyframes_in_view"] == pytest.approx((2 * 3 + 0.5 * 3) / 9)
    assert result["rho_keyframes_limb_motion"] > 0
    with pytest.raises(ConfigError, match="keyframes"):
        keyframe_indicator([6], 6)
    with pytest.raises(ConfigError, match="limb_motion"):
        agreement(VISIBILITY, [1], VISIBILITY, limb_motion[:5])
    with pytest.raises(ConfigError, match="visibility"):
        agreement(VISIBILITY, [1], [np.nan] * 6, limb_motion)


def test_window_synergy_is_zero_for_additive_drops_and_known_otherwise():
    singles = np.array([1.0, 2.0, 3.0, 4.0])
    windows = np.array([[0, 2], [1, 3], [2, 4]])
    additive = np.array([3.0, 5.0, 7.0])
    np.testing.assert_allclose(window_synergy(additive, windows, singles), 0.0)
    np.testing.assert_allclose(window_synergy(additive + [1, 0, -2], windows, singles), [1, 0, -2])
    with pytest.raises(ConfigError, match="windows"):
        window_synergy(additive, windows[:2], singles)
    with pytest.raises(ConfigError, match="windows"):
        window_synergy(additive, np.array([[0, 2], [1, 3], [3, 5]]), singles)


def test_intervals_verdicts_and_bands():
    values = np.array([0.2, 0.4, 0.3, np.nan, 0.5])
    estimate = interval(values, groups=["a", "a", "b", "b", "c"], resamples=200)
    assert estimate.mean == pytest.approx(0.35) and estimate.count == 4
    assert estimate.low <= estimate.mean <= estimate.high
    assert math.isnan(interval([np.nan, np.nan]).mean)
    difference = paired_difference([1.0, 2.0, np.nan], [0.5, 1.0, 1.0])
    assert difference.mean == pytest.approx(0.75) and difference.count == 2
    assert (estimate.units, difference.units) == (3, 2)
    band = position_band(np.array([[1.0, 2.0], [3.0, 4.0]]), resamples=100)
    np.testing.assert_allclose(band["mean"], [2.0, 3.0])
    assert np.all(band["low"] <= band["mean"]) and np.all(band["mean"] <= band["high"])
    with pytest.raises(ConfigError, match="values"):
        position_band(np.zeros(3))


def test_settings_are_checked():
    assert StudySettings(windows=(3, 5)).windows == (1, 3, 5)
    with pytest.raises(ConfigError, match="windows"):
        StudySettings(windows=(0,))
    with pytest.raises(ConfigError, match="baseline"):
        StudySettings(baseline="grey")
    with pytest.raises(ConfigError, match="max_videos"):
        StudySettings(max_videos=0)
    with pytest.raises(ConfigError, match="in_view_threshold"):
        StudySettings(in_view_threshold=2)
    assert StudySettings.from_profile("quick").runs == ("frame_lstm_binary", "ica_lstm_binary")


def test_study_video_matches_the_masking_loop():
    model = build_model("frame_lstm", TINY_MODELS["frame_lstm"], seed=0).double().eval()
    video = torch.rand(8, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    keyframes = Keyframes(torch.tensor([2, 5]), torch.zeros(8, dtype=torch.float64), torch.zeros(8, dtype=torch.float64), 0.3)
    settings = StudySettings(windows=(1, 3), baselines=("zero", "blur", "mean"))
    record = study_video(model, video, 1, keyframes, settings, mean=torch.full((1, 16, 16), 0.5, dtype=torch.float64))
    for window in (1, 3):
        reference = time_contribution(model, video, label=1, window=window)
        np.testing.assert_allclose(record["contribution"][window], reference.probability_drop.numpy(), atol=1e-12)
        expected_flips = float((reference.masked_predictions != reference.prediction).double().mean())
        assert record["flips"][window] == expected_flips
    synergy = window_synergy(record["window_drops"][3], record["windows"][3], record["contribution"][1]).mean()
    assert record["synergy"][3] == pytest.approx(synergy)
    # the log-odds synergy comes from the same masks' logits as the masking loop's
    reference_3 = time_contribution(model, video, label=1, window=3)
    reference_1 = time_contribution(model, video, label=1, window=1)
    logit_synergy = window_synergy(reference_3.window_log_odds_drop, reference_3.windows, reference_1.log_odds_drop).mean()
    assert record["logit_synergy"][3] == pytest.approx(logit_synergy, abs=1e-10)
    np.testing.assert_allclose(record["log_odds_contribution"], reference_1.log_odds_drop.numpy(), atol=1e-10)
    blur = time_contribution(model, video, label=1, baseline="blur")
    np.testing.assert_allclose(record["baseline_contribution"]["blur"], blur.probability_drop.numpy(), atol=1e-12)
    assert set(record["baseline_contribution"]) == {"zero", "blur", "mean"}
    assert record["keyframes"].tolist() == [2, 5] and record["label"] == 1


def _frame_additive_model(frames: int) -> QuadraticFrames:
    """Log-odds ``2 Σ_t f(x_t)`` with ``f(x) = ½ Σ_p a_p x_p²``: every frame adds its own term to the logits."""
    return QuadraticFrames(torch.full((1, 4, 4), 0.15, dtype=torch.float64),
                           torch.ones(frames, dtype=torch.float64)).double().eval()


def test_logit_synergy_is_zero_where_frames_add_up_in_the_logits_and_probability_synergy_is_not():
    # 8 frames of values in [0.8, 1]: each frame adds about 2 · 0.15 · 8 · 0.8 ≈ 1 to the log-odds (9 in all,
    # p ≈ 0.9999); masking with zero removes exactly that frame's term, so a window's log-odds drop is the sum
    # of its frames' drops, while the probability, saturated near 1, drops more for the window than for its parts
    frames = 8
    video = 0.8 + 0.2 * torch.rand(frames, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    model = _frame_additive_model(frames)
    keyframes = Keyframes(torch.tensor([2]), torch.zeros(frames, dtype=torch.float64),
                          torch.zeros(frames, dtype=torch.float64), 0.3)
    record = study_video(model, video, 0, keyframes, StudySettings(windows=(1, 3), baselines=("zero",)))
    assert record["probability"] > 0.999
    per_frame = 2 * (0.5 * 0.15 * video ** 2).flatten(1).sum(1)
    np.testing.assert_allclose(record["log_odds_contribution"], per_frame.numpy(), rtol=0, atol=1e-12)
    assert abs(record["logit_synergy"][3]) < 1e-10
    np.testing.assert_allclose(window_synergy(record["window_log_odds_drops"][3], record["windows"][3],
                                              record["log_odds_contribution"]), 0.0, atol=1e-10)
    probability_synergy = window_synergy(record["window_drops"][3], record["windows"][3], record["contribution"][1])
    assert record["synergy"][3] > 0 and np.all(probability_synergy > 0)
    # worked by hand for the first window: σ(ℓ) − σ(ℓ − Δ₀ − Δ₁ − Δ₂) against the sum of the single drops
    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
    total = float(per_frame.sum())
    window = sigmoid(total) - sigmoid(total - float(per_frame[:3].sum()))
    singles = sum(sigmoid(total) - sigmoid(total - float(drop)) for drop in per_frame[:3])
    assert probability_synergy[0] == pytest.approx(window - singles, rel=1e-9)
