"""Time contribution from frame encodings: agrees with the masking loop, known by hand, batch-invariant, refuses bad input."""

from __future__ import annotations

import pytest
import torch

from _saliency_models import BrokenSplit, QuadraticFrames
from _toy_videos import TINY_MODELS
from vidsal_core.errors import ConfigError
from vidsal_core.models.registry import build_model
from vidsal_core.saliency.masking import block_masks, window_masks
from vidsal_core.saliency.time_contribution import time_contribution
from vidsal_core.saliency.time_contribution_factorised import (
    EncodedVideo, contribution_from_logits, factorised_time_contribution,
)


def tiny(name, seed=0):
    return build_model(name, TINY_MODELS[name], seed=seed).double().eval()


def tiny_video(frames=7, seed=1):
    return torch.rand(frames, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", ["frame_lstm", "ica_lstm"])
@pytest.mark.parametrize("window", [1, 3])
@pytest.mark.parametrize("baseline", ["zero", "mean", "blur", "first_element"])
def test_agrees_with_the_masking_loop_in_float64(name, window, baseline):
    model, video = tiny(name), tiny_video()
    mean = torch.full((1, 16, 16), 0.4, dtype=torch.float64) if baseline == "mean" else None
    reference = time_contribution(model, video, label=1, window=window, baseline=baseline, mean=mean, batch_size=1)
    fast = factorised_time_contribution(model, video, label=1, window=window, baseline=baseline, mean=mean)
    torch.testing.assert_close(fast.probability_drop, reference.probability_drop, rtol=0, atol=1e-12)
    torch.testing.assert_close(fast.window_probability_drop, reference.window_probability_drop, rtol=0, atol=1e-12)
    torch.testing.assert_close(fast.log_odds_drop, reference.log_odds_drop, rtol=0, atol=1e-10)
    torch.testing.assert_close(fast.window_log_odds_drop, reference.window_log_odds_drop, rtol=0, atol=1e-10)
    torch.testing.assert_close(fast.accuracy_drop, reference.accuracy_drop)
    assert torch.equal(fast.masked_predictions, reference.masked_predictions)
    assert torch.equal(fast.windows, reference.windows)
    assert (fast.prediction, fast.target, fast.label) == (reference.prediction, reference.target, reference.label)
    assert fast.probability == pytest.approx(reference.probability, abs=1e-12)


def test_one_encoded_video_serves_every_window_and_baseline():
    model, video = tiny("frame_lstm"), tiny_video(frames=6)
    encoded = EncodedVideo(model, video)
    for window, stride, baseline in ((1, 1, "zero"), (2, 2, "blur"), (4, 1, 0.5)):
        reference = time_contribution(model, video, window=window, stride=stride, baseline=baseline)
        fast = encoded.time_contribution(window=window, stride=stride, baseline=baseline)
        torch.testing.assert_close(fast.probability_drop, reference.probability_drop, rtol=0, atol=1e-12)


@pytest.mark.parametrize("batch_size", [1, 2, 5, 1000])
def test_results_do_not_depend_on_the_batch_size(batch_size):
    model, video = tiny("ica_lstm"), tiny_video(frames=9)
    whole = factorised_time_contribution(model, video, window=2)
    chunked = factorised_time_contribution(model, video, window=2, batch_size=batch_size)
    torch.testing.assert_close(chunked.window_probability_drop, whole.window_probability_drop, rtol=0, atol=1e-12)
    torch.testing.assert_close(chunked.window_log_odds_drop, whole.window_log_odds_drop, rtol=0, atol=1e-10)


def test_probability_drop_is_known_by_hand():
    """QuadraticFrames: logit_0 = Σ_t c_t e_t = −logit_1, so p_0 = σ(2 s); a zero frame has e_t = 0."""
    time_weights = torch.tensor([1.0, -2.0, 0.0, 0.5], dtype=torch.float64)
    pixel_weights = torch.rand(1, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = QuadraticFrames(pixel_weights, time_weights).eval()
    video = tiny_video(frames=4)[:, :, :3, :3]
    encodings = (0.5 * pixel_weights * video ** 2).flatten(1).sum(1)
    score = float((time_weights * encodings).sum())
    expected = torch.stack([torch.sigmoid(torch.tensor(2 * score))
                            - torch.sigmoid(torch.tensor(2 * (score - float(time_weights[t] * encodings[t]))))
                            for t in range(4)]).double()
    result = factorised_time_contribution(model, video, label=0)
    torch.testing.assert_close(result.probability_drop, expected)
    assert result.probability_drop[2] == 0  # a frame the model ignores contributes nothing
    # a window of two: the drop of each window is known, each frame gets the mean of its windows
    pairs = factorised_time_contribution(model, video, label=0, window=2)
    window_expected = torch.stack([torch.sigmoid(torch.tensor(2 * score)) - torch.sigmoid(torch.tensor(
        2 * (score - float((time_weights[s:s + 2] * encodings[s:s + 2]).sum())))) for s in range(3)]).double()
    torch.testing.assert_close(pairs.window_probability_drop, window_expected)
    torch.testing.assert_close(pairs.probability_drop[1], (window_expected[0] + window_expected[1]) / 2)


def test_contribution_from_logits_reads_the_prediction_and_the_flips():
    masks = window_masks(3, 2, 2, window=1)
    logits = torch.tensor([[2.0, 0.0]])
    masked = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    result = contribution_from_logits(logits, masked, masks)
    assert result.prediction == 0 and result.label == 0
    assert result.accuracy_drop.tolist() == [0.0, 1.0, 0.0]
    assert result.probability_drop[0] == 0 and result.probability_drop[1] > result.probability_drop[2] > 0
    with pytest.raises(ConfigError, match="masked"):
        contribution_from_logits(logits, masked[:2], masks)


def test_bad_input_is_refused_with_the_arguments_name():
    model, video = tiny("frame_lstm"), tiny_video()
    with pytest.raises(ConfigError, match="per-frame encoder"):
        factorised_time_contribution(build_model("c3d", TINY_MODELS["c3d"]).double().eval(), tiny_video(frames=16))
    broken = BrokenSplit(torch.ones(1, 16, 16, dtype=torch.float64), torch.ones(7, dtype=torch.float64)).eval()
    with pytest.raises(ConfigError, match="split"):
        factorised_time_contribution(broken, video)
    with pytest.raises(ConfigError, match="training mode"):
        factorised_time_contribution(tiny("frame_lstm").train(), video)
    with pytest.raises(ConfigError, match="video"):
        factorised_time_contribution(model, video[0])
    with pytest.raises(ConfigError, match="window"):
        factorised_time_contribution(model, video, window=8)
    with pytest.raises(ConfigError, match="batch_size"):
        factorised_time_contribution(model, video, batch_size=0)
    with pytest.raises(ConfigError, match="whole-frame"):
        encoded = EncodedVideo(model, video)
        encoded.masked_logits(block_masks(7, 16, 16, 8), encoded.baseline_encodings())
