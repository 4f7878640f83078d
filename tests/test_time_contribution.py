"""Time contribution: closed-form probability drops, windows, a dataset, batching, bad input."""

from __future__ import annotations

import pytest
import torch

from _saliency_models import LinearFrames
from _toy_videos import TINY_MODELS, MovingSquares
from vidsal_core.errors import ConfigError
from vidsal_core.models.registry import build_model
from vidsal_core.saliency.time_contribution import dataset_time_contribution, time_contribution

WEIGHTS = torch.tensor([2.0, -1.0, 0.5, 4.0, 0.0], dtype=torch.float64)


def linear_case(seed=0):
    video = torch.rand(5, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return LinearFrames(WEIGHTS).eval(), video


def closed_form_drop(video, removed_frames):
    """``p_0(X) − p_0(X̄)`` for the linear model with ``removed_frames`` set to zero."""
    means = video.flatten(1).mean(1)
    score = float((WEIGHTS * means).sum())
    masked = score - float((WEIGHTS * means)[removed_frames].sum())
    return torch.sigmoid(torch.tensor(score)) - torch.sigmoid(torch.tensor(masked))


def test_probability_drop_is_known_by_hand():
    model, video = linear_case()
    result = time_contribution(model, video, label=0)
    expected = torch.stack([closed_form_drop(video, [frame]) for frame in range(5)]).double()
    torch.testing.assert_close(result.probability_drop, expected)
    assert result.target == 0 and result.label == 0
    assert result.probability_drop[4] == 0  # a frame the model ignores contributes nothing
    assert result.probability_drop[1] < 0  # masking a frame that votes against class 0 helps it


def test_windows_average_over_the_windows_that_cover_a_frame():
    model, video = linear_case(1)
    result = time_contribution(model, video, label=0, window=2)
    windows = torch.stack([closed_form_drop(video, [start, start + 1]) for start in range(4)]).double()
    torch.testing.assert_close(result.window_probability_drop, windows)
    expected = torch.stack([windows[0], (windows[0] + windows[1]) / 2, (windows[1] + windows[2]) / 2,
                            (windows[2] + windows[3]) / 2, windows[3]])
    torch.testing.assert_close(result.probability_drop, expected)
    assert result.windows.tolist() == [[0, 2], [1, 3], [2, 4], [3, 5]]


def test_accuracy_drop_marks_frames_whose_masking_flips_the_prediction():
    model = LinearFrames(torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)).eval()
    video = torch.full((3, 1, 2, 2), 0.5, dtype=torch.float64)
    result = time_contribution(model, video, label=0)  # logit_0 = 0.5 > 0: class 0; masking frame 0 → tie → class 0
    assert result.prediction == 0
    torch.testing.assert_close(result.accuracy_drop, torch.zeros(3, dtype=torch.float64))
    wrong = time_contribution(model, video, label=1)
    torch.testing.assert_close(wrong.accuracy_drop, torch.zeros(3, dtype=torch.float64))
    flipped = time_contribution(LinearFrames(torch.tensor([1.0, -0.4, 0.0], dtype=torch.float64)).eval(), video, label=0)
    torch.testing.assert_close(flipped.accuracy_drop, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))


def test_batch_size_and_baseline_handling():
    model = build_model("frame_lstm", TINY_MODELS["frame_lstm"], seed=2).double()
    video = torch.rand(6, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    one = time_contribution(model, video, batch_size=1)
    for size in (2, 6):
        torch.testing.assert_close(time_contribution(model, video, batch_size=size).probability_drop, one.probability_drop)
    assert one.target == one.prediction
    blurred = time_contribution(model, video, baseline="blur", blur_sigma=2.0)
    assert not torch.allclose(blurred.probability_drop, one.probability_drop)


def test_dataset_time_contribution_aggregates_videos():
    model = build_model("frame_lstm", TINY_MODELS["frame_lstm"], seed=4)
    dataset = MovingSquares(count=4, frames=6, size=16)
    result = dataset_time_contribution(model, dataset, batch_size=3)
    assert result.probability_drop.shape == (4, 6)
    single = time_contribution(model, dataset[2].video, label=dataset[2].label)
    torch.testing.assert_close(result.probability_drop[2], single.probability_drop)
    correct = torch.stack([
        float(r.prediction == r.label) - r.accuracy_drop
        for r in (time_contribution(model, dataset[i].video, label=dataset[i].label) for i in range(4))
    ]).mean(0)
    torch.testing.assert_close(result.masked_accuracy, correct)
    torch.testing.assert_close(result.accuracy_drop, result.accuracy - correct)
    assert result.videos_per_second > 0 and len(result.meta) == 4


def test_bad_input_is_refused():
    model, video = linear_case()
    with pytest.raises(ConfigError, match="label=3.*classes 0 to 1"):
        time_contribution(model, video, label=3)
    with pytest.raises(ConfigError, match="target"):
        time_contribution(model, video, target=-2)
    bad = video.clone()
    bad[0, 0, 0, 0] = float("inf")
    with pytest.raises(ConfigError, match="infinite"):
        time_contribution(model, bad)
    with pytest.raises(ConfigError, match="window=6"):
        time_contribution(model, video, window=6)
    with pytest.raises(ConfigError, match="no videos"):
        dataset_time_contribution(model, MovingSquares(count=0))
