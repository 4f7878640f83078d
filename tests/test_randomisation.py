"""Cascading model-parameter randomisation: known answers, the naive reference, invariances, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from _toy_videos import TINY_MODELS
from vidsal_core.metrics.randomisation import (
    _layer_seed,
    cascading_randomisation,
    cascading_randomisation_reference,
    frame_ssim,
    pool_frames,
    passes_randomisation,
    randomisable_layers,
    randomisation_summary,
    randomised_models,
    reinitialise_layer,
    spearman,
)
from vidsal_core.errors import ConfigError
from vidsal_core.models.registry import build_model
from vidsal_core.saliency.gradients import input_gradient

SHAPE = (4, 1, 8, 8)  # (T, C, H, W) of the linear model's videos


class LinearVideo(nn.Module):
    """``logits = W · vec(video) + b``: the input gradient of class k is ``W[k]`` for every video."""

    def __init__(self, classes: int = 2) -> None:
        super().__init__()
        self.linear = nn.Linear(int(np.prod(SHAPE)), classes)

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        return self.linear(videos.flatten(1))


class NoReset(nn.Module):
    """A layer with a parameter and no ``reset_parameters``."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.full((64,), 3.0) + torch.linspace(-1, 1, 64))

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        return videos * self.scale.reshape(SHAPE[1:]).mean()


def linear_model(seed: int = 0) -> LinearVideo:
    torch.manual_seed(seed)
    return LinearVideo().eval()


def gradient(model, videos, targets):
    return input_gradient(model, videos, targets, absolute=False)


def identity(model, videos, targets):
    """A "method" that ignores the model: the input itself."""
    return videos.clone()


def edges(model, videos, targets):
    """Another model-blind "method": the horizontal intensity difference."""
    difference = torch.zeros_like(videos)
    difference[..., 1:] = videos[..., 1:] - videos[..., :-1]
    return difference


def rand_videos(count: int, shape=SHAPE, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    return torch.rand(count, *shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def tiny(name: str, seed: int = 0, dtype=torch.float32) -> nn.Module:
    return build_model(name, TINY_MODELS[name], seed=seed).to(dtype).eval()


# --------------------------------------------------------------------------- known answers

def test_linear_model_gradient_is_the_weights_and_randomising_it_decorrelates_the_map():
    model = linear_model()
    videos = rand_videos(3)
    frame = cascading_randomisation(model, gradient, videos, targets=[0, 1, 0], seed=5)
    assert list(frame["step"]) == [0, 0, 0, 1, 1, 1]
    assert list(frame["layer"]) == ["trained"] * 3 + ["linear"] * 3
    assert np.allclose(frame.loc[frame.step == 0, ["spearman", "spearman_frames", "ssim", "spearman_signed"]], 1.0)
    # by hand: the randomised map of class k is the re-drawn W'[k]
    random = LinearVideo()
    random.load_state_dict(model.state_dict())
    reinitialise_layer(random.linear, _layer_seed(5, "linear"))
    trained_weights, random_weights = model.linear.weight.detach(), random.linear.weight.detach()
    for video, target in enumerate([0, 1, 0]):
        expected = spearmanr(trained_weights[target].abs(), random_weights[target].abs()).statistic
        row = frame[(frame.step == 1) & (frame.video == video)].iloc[0]
        assert row.spearman == pytest.approx(expected, abs=1e-9)
        signed = spearmanr(trained_weights[target], random_weights[target]).statistic
        assert row.spearman_signed == pytest.approx(signed, abs=1e-9)
        assert abs(row.spearman) < 0.3  # independent weights: uncorrelated maps (256 values)
    assert passes_randomisation(frame, metric="spearman", min_units=3)["result"] == "passes"
    assert passes_randomisation(frame, metric="spearman")["result"] == "underpowered"  # 3 clips < the rule's 8 units


@pytest.mark.parametrize("method", [identity, edges])
def test_a_method_that_ignores_the_model_keeps_spearman_one_and_fails(method):
    model = tiny("frame_lstm")
    videos = rand_videos(3, (4, 1, 16, 16))
    frame = cascading_randomisation(model, method, videos, seed=1)
    assert frame["step"].max() == len(randomisable_layers(model))
    assert np.allclose(frame["spearman"], 1.0)
    assert np.allclose(frame["spearman_frames"], 1.0)
    assert np.allclose(frame["ssim"], 1.0)
    verdict = passes_randomisation(frame, min_units=3)
    assert verdict["passes"] is False and verdict["result"] == "fails" and verdict["metric"] == "spearman_frames"
    assert verdict["mean"] == pytest.approx(1.0)
    assert verdict["step"] == frame["step"].max()


def test_resolution_averages_blocks_and_removes_a_resizes_fixed_zeros():
    values = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_allclose(pool_frames(values, (2, 2))[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    assert pool_frames(values, (4, 4)) is values
    # a model that shrinks 16×16 frames to 4×4 inside: its gradient is zero on fixed pixels whatever its weights
    model = build_model("frame_lstm", dict(TINY_MODELS["frame_lstm"], input_size=[4, 4]), seed=0).eval()
    videos = rand_videos(2, (4, 1, 16, 16))
    as_given = cascading_randomisation(model, gradient, videos, seed=0)
    pooled = cascading_randomisation(model, gradient, videos, seed=0, resolution=(4, 4))
    last = as_given.step.max()
    assert (pooled.loc[pooled.step == last, "spearman_frames"].to_numpy()
            < as_given.loc[as_given.step == last, "spearman_frames"].to_numpy()).all()
    with pytest.raises(ConfigError, match="resolution"):
        cascading_randomisation(model, gradient, videos, resolution=(32, 8))


def test_spearman_and_ssim_match_their_definitions():
    rng = np.random.default_rng(0)
    first, second = rng.random((3, 1, 9, 9)), rng.integers(0, 4, (3, 1, 9, 9)).astype(float)  # ties in second
    assert spearman(first, second) == pytest.approx(spearmanr(first.ravel(), second.ravel()).statistic, abs=1e-12)
    assert np.isnan(spearman(first, np.zeros_like(first)))
    assert frame_ssim(first, first) == pytest.approx(1.0)
    assert frame_ssim(first, 1 - first) < 0.5


# --------------------------------------------------------------------------- layers

def test_layers_follow_the_forward_pass_output_first_and_fold_batch_norm():
    model = tiny("ica_lstm")
    layers = randomisable_layers(model)
    # the ICA-LSTM registers its attention after the head but runs it between encoder and LSTM
    assert layers[:5] == ["head.output", "head.hidden", "lstm", "attention.second", "attention.first"]
    assert layers[5] == "encoder.projection" and layers[-1] == "encoder.stem.conv"
    assert not any(name.endswith("norm") for name in layers)
    unfolded = randomisable_layers(model, fold_batch_norm=False)
    assert unfolded.index("encoder.stem.norm") == unfolded.index("encoder.stem.conv") - 1
    assert set(unfolded) - set(layers) == {name for name in unfolded if name.endswith("norm")}
    # the same order from example videos as from the probe built from model.config
    assert randomisable_layers(model, example=rand_videos(1, (3, 1, 16, 16))) == layers


def test_after_the_last_step_batch_norm_is_as_initialised():
    model = tiny("frame_lstm")
    with torch.no_grad():
        model.encoder.stem.norm.running_mean.fill_(0.5)
        model.encoder.stem.norm.weight.fill_(2.0)
    *_, (step, layer, randomised) = randomised_models(model, seed=0)
    assert layer == "encoder.stem.conv"
    norm = randomised.encoder.stem.norm
    assert torch.equal(norm.running_mean, torch.zeros_like(norm.running_mean))
    assert torch.equal(norm.weight, torch.ones_like(norm.weight))
    assert float(model.encoder.stem.norm.weight.detach()[0]) == 2.0


def test_a_module_without_reset_parameters_gets_a_gaussian_of_its_own_scale():
    layer = NoReset()
    trained = layer.scale.detach().clone()
    state = torch.random.get_rng_state()
    reinitialise_layer(layer, 3)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's generator is untouched
    drawn = layer.scale.detach()
    assert abs(float(drawn.mean())) < 3 * float(trained.std()) / 8
    assert float(drawn.std()) == pytest.approx(float(trained.std()), rel=0.35)
    again = NoReset()
    reinitialise_layer(again, 3)
    assert torch.equal(again.scale, drawn)


def test_layers_can_be_chosen_and_unknown_ones_are_refused():
    model = tiny("frame_lstm")
    videos = rand_videos(2, (4, 1, 16, 16))
    frame = cascading_randomisation(model, gradient, videos, layers=["lstm", "head.output"])
    assert list(frame.drop_duplicates("step")["layer"]) == ["trained", "lstm", "head.output"]
    with pytest.raises(ConfigError, match="layers: unknown layer"):
        cascading_randomisation(model, gradient, videos, layers=["encoder.nope"])
    with pytest.raises(ConfigError, match="layers="):
        cascading_randomisation(model, gradient, videos, layers="lstm")


# --------------------------------------------------------------------------- the reference and invariances

@pytest.mark.parametrize("name, resolution", [("frame_lstm", None), ("ica_lstm", None), ("frame_lstm", (8, 8))])
def test_agrees_with_the_naive_reference_in_float64(name, resolution):
    model = tiny(name, dtype=torch.float64)
    videos = rand_videos(3, (4, 1, 16, 16), dtype=torch.float64)
    targets = torch.tensor([0, 1, 1])
    fast = cascading_randomisation(model, gradient, videos, targets, seed=2, resolution=resolution)
    slow = cascading_randomisation_reference(model, gradient, videos, targets, seed=2, resolution=resolution)
    assert list(fast["layer"]) == list(slow["layer"])
    for column in ("spearman", "spearman_frames", "ssim"):
        np.testing.assert_allclose(fast[column], slow[column], atol=1e-10, err_msg=column)


def test_the_model_is_left_unchanged_and_in_its_mode():
    model = tiny("ica_lstm")
    before = {name: value.clone() for name, value in model.state_dict().items()}
    cascading_randomisation(model, gradient, rand_videos(2, (4, 1, 16, 16)))
    assert not model.training
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_deterministic_under_the_seed_and_different_across_seeds():
    model = tiny("frame_lstm")
    videos = rand_videos(2, (4, 1, 16, 16))
    first = cascading_randomisation(model, gradient, videos, seed=7)
    torch.manual_seed(123)  # the global state must not matter
    second = cascading_randomisation(model, gradient, videos, seed=7)
    pd.testing.assert_frame_equal(first, second)
    other = cascading_randomisation(model, gradient, videos, seed=8)
    assert not np.allclose(first.loc[first.step > 0, "spearman"], other.loc[other.step > 0, "spearman"])


def test_results_per_video_do_not_depend_on_the_batch():
    model = tiny("frame_lstm")
    videos = rand_videos(3, (4, 1, 16, 16))
    targets = torch.tensor([1, 0, 1])
    together = cascading_randomisation(model, gradient, videos, targets, seed=4)
    chunked = cascading_randomisation(model, gradient, videos, targets, seed=4, batch_size=2)
    columns = ["spearman", "spearman_frames", "ssim", "spearman_signed"]
    np.testing.assert_allclose(together[columns], chunked[columns], atol=1e-5)
    alone = cascading_randomisation(model, gradient, videos[2:], targets[2:], seed=4)
    np.testing.assert_allclose(together.loc[together.video == 2, columns], alone[columns], atol=1e-5)


def test_targets_default_to_the_trained_models_prediction():
    model = tiny("frame_lstm")
    videos = rand_videos(3, (4, 1, 16, 16))
    seen = []

    def recording(model, videos, targets):
        seen.append(targets.clone())
        return gradient(model, videos, targets)

    cascading_randomisation(model, recording, videos)
    predicted = model(videos).argmax(1)
    assert all(torch.equal(targets, predicted) for targets in seen)


# --------------------------------------------------------------------------- summaries

def test_summary_gives_a_bootstrap_interval_per_step_and_group():
    frame = pd.DataFrame({
        "video": [0, 1, 2, 0, 1, 2] * 2,
        "step": [0, 0, 0, 1, 1, 1] * 2,
        "layer": ["trained"] * 3 + ["fc"] * 3 + ["trained"] * 3 + ["fc"] * 3,
        "spearman": [1, 1, 1, 0.1, 0.2, 0.3, 1, 1, 1, 0.9, 0.8, np.nan],
        "method": ["a"] * 6 + ["b"] * 6,
    })
    summary = randomisation_summary(frame, by=["method"])
    assert list(summary["method"]) == ["a", "a", "b", "b"]
    row = summary[(summary.method == "a") & (summary.step == 1)].iloc[0]
    assert row.spearman == pytest.approx(0.2) and row.spearman_low <= 0.2 <= row.spearman_high
    assert summary[(summary.method == "b") & (summary.step == 1)].iloc[0].videos == 2
    assert passes_randomisation(frame[frame.method == "a"], metric="spearman", min_units=2)["passes"]
    # two finite clips (0.9, 0.8) give an interval too wide to place against 0.5
    assert passes_randomisation(frame[frame.method == "b"], metric="spearman", min_units=2)["result"] == "inconclusive"
    assert passes_randomisation(frame[frame.method == "a"], threshold=0.25, metric="spearman",
                                min_units=2)["result"] == "inconclusive"


def _last_step(values, persons):
    """A cascading-randomisation frame whose last step has these per-clip similarities, one person each."""
    count = len(values)
    return pd.DataFrame({
        "video": list(range(count)) * 2, "step": [0] * count + [1] * count,
        "layer": ["trained"] * count + ["fc"] * count, "person": list(persons) * 2,
        "spearman": [1.0] * count + list(values), "spearman_frames": [1.0] * count + list(values),
    })


def test_the_one_rule_passes_below_half_fails_above_and_counts_persons_not_clips():
    """Per-frame Spearman per clip, person bootstrap, results.verdict(direction="less", null=0.5)."""
    from vidsal_study.results import verdict

    rng = np.random.default_rng(0)
    persons = np.arange(10)
    low = passes_randomisation(_last_step(0.2 + 0.05 * rng.standard_normal(10), persons), groups="person")
    high = passes_randomisation(_last_step(0.8 + 0.05 * rng.standard_normal(10), persons), groups="person")
    spanning = passes_randomisation(_last_step(0.5 + 0.3 * rng.standard_normal(10), persons), groups="person")
    assert (low["result"], high["result"], spanning["result"]) == ("passes", "fails", "inconclusive")
    assert low["units"] == 10 and low["high"] < 0.5 < high["low"] and spanning["low"] < 0.5 < spanning["high"]
    assert verdict(low["low"], low["high"], low["units"], direction="less", null=0.5) == "reproduced"
    # twelve clips of three persons are three units: too few for a verdict
    clustered = passes_randomisation(_last_step(np.full(12, 0.1), np.repeat([1, 2, 3], 4)), groups="person")
    assert clustered["units"] == 3 and clustered["result"] == "underpowered" and not clustered["passes"]


# --------------------------------------------------------------------------- bad input

def test_bad_input_is_refused_with_the_arguments_name():
    model = linear_model()
    videos = rand_videos(2)
    with pytest.raises(ConfigError, match="videos"):
        cascading_randomisation(model, gradient, videos[0])
    with pytest.raises(ConfigError, match="targets"):
        cascading_randomisation(model, gradient, videos, targets=[0, 1, 0])
    with pytest.raises(ConfigError, match="explain"):
        cascading_randomisation(model, lambda m, v, t: v[:, 0], videos)
    with pytest.raises(ConfigError, match="explain"):
        cascading_randomisation(model, "gradient", videos)
    with pytest.raises(ConfigError, match="batch_size"):
        cascading_randomisation(model, gradient, videos, batch_size=0)
    with pytest.raises(ConfigError, match="seed"):
        cascading_randomisation(model, gradient, videos, seed=0.5)
    frame = cascading_randomisation(model, gradient, videos)
    with pytest.raises(ConfigError, match="threshold"):
        passes_randomisation(frame, threshold=2)
    with pytest.raises(ConfigError, match="metric"):
        passes_randomisation(frame, metric="hog")
    with pytest.raises(ConfigError, match="frame"):
        randomisation_summary(frame.drop(columns="spearman"))
