"""Gradient saliency through Captum: known answers, plain-autograd twins, bad input."""

from __future__ import annotations

import pytest
import torch

from _saliency_models import QuadraticFrames
from _toy_videos import TINY_MODELS
from vidsal_core.errors import ConfigError
from vidsal_core.models.registry import build_model
from vidsal_core.saliency.gradients import (
    input_gradient,
    integrated_gradients,
    predicted_target,
    smoothgrad,
)


def quadratic(frames=4, size=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    pixel_weights = torch.randn(1, size, size, generator=generator, dtype=torch.float64)
    time_weights = torch.randn(frames, generator=generator, dtype=torch.float64)
    return QuadraticFrames(pixel_weights, time_weights).eval()


def test_input_gradient_is_known_by_hand():
    model = quadratic()
    video = torch.rand(4, 1, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = model.time_weights.detach()[:, None, None, None] * model.pixel_weights.detach() * video
    torch.testing.assert_close(input_gradient(model, video, target=0, absolute=False), expected)
    torch.testing.assert_close(input_gradient(model, video, target=0), expected.abs())
    torch.testing.assert_close(input_gradient(model, video, target=1, absolute=False), -expected)


def test_integrated_gradients_is_known_by_hand():
    # For the quadratic model, IG from zero of class 0 is exactly ½ c_t a_p x² (completeness per value).
    model = quadratic()
    video = torch.rand(4, 1, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    expected = 0.5 * model.time_weights.detach()[:, None, None, None] * model.pixel_weights.detach() * video ** 2
    torch.testing.assert_close(integrated_gradients(model, video, target=0, n_steps=8), expected)


def test_batched_gradients_match_one_video_at_a_time_on_a_tiny_lstm():
    model = build_model("frame_lstm", TINY_MODELS["frame_lstm"], seed=3).double()
    videos = torch.rand(3, 6, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    batched = input_gradient(model, videos, target=[0, 1, 0], absolute=False)
    for index, target in enumerate([0, 1, 0]):
        inputs = videos[index:index + 1].clone().requires_grad_(True)
        (expected,) = torch.autograd.grad(model(inputs)[0, target], inputs)
        torch.testing.assert_close(batched[index], expected[0])
    integrated = integrated_gradients(model, videos, target=1, n_steps=5)
    torch.testing.assert_close(integrated[1], integrated_gradients(model, videos[1], target=1, n_steps=5))


def test_default_target_is_the_prediction():
    model = build_model("ica_lstm", TINY_MODELS["ica_lstm"], seed=5).double()
    videos = torch.rand(2, 6, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    predicted = predicted_target(model, videos)
    torch.testing.assert_close(input_gradient(model, videos), input_gradient(model, videos, target=predicted))
    assert predicted_target(model, videos[0]).dim() == 0


def test_smoothgrad_is_seeded_and_reduces_to_the_gradient_without_noise():
    model = quadratic()
    video = torch.rand(4, 1, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    first = smoothgrad(model, video, target=0, n_samples=4, seed=3)
    torch.testing.assert_close(first, smoothgrad(model, video, target=0, n_samples=4, seed=3))
    assert not torch.equal(first, smoothgrad(model, video, target=0, n_samples=4, seed=4))
    torch.testing.assert_close(smoothgrad(model, video, target=0, n_samples=3, noise_std=0.0),
                               input_gradient(model, video, target=0))


def test_bad_input_is_refused_with_the_argument_named():
    model = quadratic()
    video = torch.rand(4, 1, 5, 5, dtype=torch.float64)
    bad = video.clone()
    bad[1, 0, 2, 2] = float("nan")
    with pytest.raises(ConfigError, match="video.*NaN"):
        input_gradient(model, bad)
    bad[1, 0, 2, 2] = float("inf")
    with pytest.raises(ConfigError, match="infinite"):
        integrated_gradients(model, bad[None])
    with pytest.raises(ConfigError, match="target=2.*classes 0 to 1"):
        input_gradient(model, video, target=2)
    with pytest.raises(ConfigError, match="target"):
        input_gradient(model, video, target=-1)
    with pytest.raises(ConfigError, match=r"\(T, C, H, W\)|\(B, T, C, H, W\)"):
        input_gradient(model, video[0, 0])
    with pytest.raises(ConfigError, match="n_steps"):
        integrated_gradients(model, video, n_steps=0)
    model.train()
    with pytest.raises(ConfigError, match="training mode"):
        input_gradient(model, video)
