"""Channels-last C3D (vidsal_core.models.layout) against the default layout, its slow twin."""

from __future__ import annotations

import copy

import pytest
import torch

from vidsal_core.metrics.randomisation import reinitialise_layer
from vidsal_core.models.c3d import C3D
from vidsal_core.models.layout import explaining_layout, has_3d_convolutions
from vidsal_core.models.registry import build_model
from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS, temporal_saliency_rescaling

CHANNELS_LAST = torch.channels_last_3d


def _c3d(size=(60, 80), seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    return C3D(6, 1, 16, size, 0.125, batch_norm=True, dropout=0.2).eval().to(dtype)


def _gradient(model, videos, target=2):
    videos = videos.clone().requires_grad_(True)
    return torch.autograd.grad(model(videos)[:, target].sum(), videos)[0]


def test_only_3d_cnns_are_converted_and_the_conversion_is_idempotent():
    lstm = build_model("frame_lstm", {"num_classes": 2, "input_size": [16, 16], "hidden_size": 8, "head_size": 8})
    before = {name: value.clone() for name, value in lstm.state_dict().items()}
    assert not has_3d_convolutions(lstm) and explaining_layout(lstm) is lstm
    assert all(torch.equal(value, before[name]) for name, value in lstm.state_dict().items())
    model = _c3d()
    assert explaining_layout(explaining_layout(model)) is model
    assert model.features.conv2.weight.is_contiguous(memory_format=CHANNELS_LAST)
    with pytest.raises(TypeError, match="model"):
        explaining_layout("c3d")


def test_float64_gradients_are_equal_in_both_layouts():
    plain = _c3d(size=(32, 40), dtype=torch.float64)
    fast = explaining_layout(copy.deepcopy(plain))
    videos = torch.rand(3, 16, 1, 32, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(_gradient(fast, videos), _gradient(plain, videos), rtol=1e-12, atol=1e-14)


def test_float32_batched_gradients_agree_to_rounding_and_do_not_depend_on_the_batch():
    plain = _c3d()
    fast = explaining_layout(copy.deepcopy(plain))
    videos = torch.rand(6, 16, 1, 60, 80, generator=torch.Generator().manual_seed(2))
    reference = _gradient(plain, videos)
    together = _gradient(fast, videos)
    scale = reference.abs().max()
    assert float((together - reference).abs().max() / scale) < 1e-5
    halves = torch.cat([_gradient(fast, videos[:3]), _gradient(fast, videos[3:])])
    assert float((halves - together).abs().max() / scale) < 1e-5


def test_a_tsr_map_in_channels_last_selects_the_same_frames_and_agrees_to_rounding():
    plain = _c3d(size=(32, 40))
    fast = explaining_layout(copy.deepcopy(plain))
    video = torch.rand(16, 1, 32, 40, generator=torch.Generator().manual_seed(3))
    options = dict(block_size=8, engine="batched", **REFERENCE_CODE_OPTIONS)
    reference = temporal_saliency_rescaling(plain, video, 1, **options)
    result = temporal_saliency_rescaling(fast, video, 1, **options)
    assert torch.equal(result.selected, reference.selected)
    torch.testing.assert_close(result.time_relevance, reference.time_relevance, rtol=1e-4, atol=0)
    assert float((result.saliency - reference.saliency).abs().max() / reference.saliency.abs().max()) < 1e-4


def test_a_channels_last_layer_is_reinitialised_to_the_same_values():
    plain = _c3d()
    fast = explaining_layout(copy.deepcopy(plain))
    reinitialise_layer(plain.features.conv2, seed=7)
    reinitialise_layer(fast.features.conv2, seed=7)
    assert fast.features.conv2.weight.is_contiguous(memory_format=CHANNELS_LAST)
    assert torch.equal(fast.features.conv2.weight, plain.features.conv2.weight)
    assert not torch.equal(plain.features.conv2.weight, _c3d().features.conv2.weight)
