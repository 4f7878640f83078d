"""The factorised engine's fused kernel and resize shortcut: hand cases, naive twins, chunk and batch invariance."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from _toy_videos import TINY_MODELS
from vidsal_core.errors import ConfigError
from vidsal_core.models.registry import build_model
from vidsal_core.saliency.attribution import BaseAttribution
from vidsal_core.saliency.factorised import (
    FactorisedEngine,
    frame_changes,
    frame_changes_reference,
    resize_ownership,
)
from vidsal_core.saliency.masking import baseline_video, block_labels, frame_masks, label_masks
from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS, temporal_saliency_rescaling
from vidsal_core.saliency.tsr_reference import temporal_saliency_rescaling_reference


def relative_error(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    return float((ours - theirs).abs().max() / theirs.abs().max().clamp_min(1e-300))


def test_frame_changes_of_a_case_worked_by_hand():
    coefficients = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    jacobian = torch.tensor([[1.0, -2.0], [3.0, 4.0]], dtype=torch.float64)
    base = torch.tensor([0.5, 1.0], dtype=torch.float64)
    # |[1, -2]| - [0.5, 1] = [0.5, 1] -> 1.5;  |[3, 4]| - [0.5, 1] = [2.5, 3] -> 5.5
    torch.testing.assert_close(frame_changes(coefficients, jacobian, base, True), torch.tensor([1.5, 5.5], dtype=torch.float64))
    # signed: [1, -2] - [0.5, 1] = [0.5, -3] -> 3.5; [3, 4] - base -> 5.5
    torch.testing.assert_close(frame_changes(coefficients, jacobian, base, False), torch.tensor([3.5, 5.5], dtype=torch.float64))
    weights = torch.tensor([2.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(frame_changes(coefficients, jacobian, base, True, weights),
                               torch.tensor([2.0, 8.0], dtype=torch.float64))


@pytest.mark.parametrize("absolute", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_frame_changes_agrees_with_its_naive_twin_whatever_the_chunk(absolute, weighted):
    generator = torch.Generator().manual_seed(0)
    coefficients = torch.randn(7, 5, generator=generator, dtype=torch.float64)
    jacobian = torch.randn(5, 103, generator=generator, dtype=torch.float64)
    base = torch.randn(103, generator=generator, dtype=torch.float64).abs()
    weights = torch.rand(103, generator=generator, dtype=torch.float64) if weighted else None
    expected = frame_changes_reference(coefficients, jacobian, base, absolute, weights)
    for chunk_bytes in (1, 8 * 7 * 10, 8 * 7 * 50, 2**20):
        torch.testing.assert_close(frame_changes(coefficients, jacobian, base, absolute, weights, chunk_bytes),
                                   expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ConfigError, match="chunk_bytes"):
        frame_changes(coefficients, jacobian, base, absolute, weights, 0)


def resize_to(size):
    return lambda frames: F.interpolate(frames, size=size, mode="bilinear", align_corners=False)


def test_resize_ownership_of_a_whole_number_downscaling_is_known_by_hand():
    frame = torch.zeros(1, 4, 6, dtype=torch.float64)
    owner, weight, shape = resize_ownership(resize_to((2, 3)), frame)
    assert shape == (1, 2, 3)
    rows, columns = torch.meshgrid(torch.arange(4), torch.arange(6), indexing="ij")
    torch.testing.assert_close(owner, ((rows // 2) * 3 + columns // 2).flatten())
    torch.testing.assert_close(weight, torch.full((24,), 0.25, dtype=torch.float64))
    # Then A^T y is y[owner] * weight: the same as autograd's adjoint of the resize.
    y = torch.randn(1, 1, 2, 3, dtype=torch.float64)
    leaf = torch.zeros(1, 1, 4, 6, dtype=torch.float64, requires_grad=True)
    (adjoint,) = torch.autograd.grad(resize_to((2, 3))(leaf), leaf, grad_outputs=y)
    torch.testing.assert_close(adjoint.flatten(), y.flatten()[owner] * weight)


def test_resize_ownership_probes_a_resize_that_is_not_separable_pixel_by_pixel():
    gains = torch.rand(1, 1, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.5
    gains[0, 0, 0, 0] = 7.0  # a gain per output pixel: disjoint supports, but no A_h ⊗ A_w

    def resize(frames):
        return F.avg_pool2d(frames, 2) * gains

    frame = torch.zeros(1, 6, 8, dtype=torch.float64)
    owner, weight, shape = resize_ownership(resize, frame, rows_per_pass=5)
    assert shape == (1, 3, 4)
    y = torch.randn(1, 1, 3, 4, dtype=torch.float64)
    leaf = torch.zeros(1, 1, 6, 8, dtype=torch.float64, requires_grad=True)
    (adjoint,) = torch.autograd.grad(resize(leaf), leaf, grad_outputs=y)
    torch.testing.assert_close(adjoint.flatten(), y.flatten()[owner] * weight)


def test_resize_ownership_refuses_overlaps_and_skips_the_identity():
    frame = torch.zeros(1, 12, 12, dtype=torch.float64)
    assert resize_ownership(resize_to((8, 8)), frame) is None  # 12 -> 8: a pixel feeds two resized pixels
    assert resize_ownership(lambda frames: frames, frame) is None
    blurred = lambda frames: F.avg_pool2d(F.pad(frames, (1, 1, 1, 1)), 3, stride=1)[..., ::2, ::2]  # noqa: E731
    assert resize_ownership(blurred, frame) is None  # separable, but pixels feed several resized pixels


RESIZE_CASES = [
    ({}, 32),                                       # 32 -> 16: the shortcut
    (REFERENCE_CODE_OPTIONS, 32),
    ({"method": "integrated_gradients", "n_steps": 3}, 32),
    ({"absolute": False, "mask_value": "blur"}, 32),
    ({}, 24),                                       # 24 -> 16: overlaps, full resolution
]


@pytest.mark.parametrize("options, size", RESIZE_CASES, ids=["algorithm", "reference-code", "ig", "signed", "no-shortcut"])
def test_factorised_tsr_on_resized_frames_agrees_with_the_naive_loop_in_float64(options, size):
    model = build_model("frame_lstm", TINY_MODELS["frame_lstm"], seed=11).double()  # input_size 16 x 16
    video = torch.rand(6, 1, size, size, dtype=torch.float64, generator=torch.Generator().manual_seed(22))
    reference = temporal_saliency_rescaling_reference(model, video, block_size=8, **options)
    fast = temporal_saliency_rescaling(model, video, block_size=8, engine="factorised", **options)
    assert reference.selected.any()
    assert torch.equal(fast.selected, reference.selected)
    assert relative_error(fast.time_relevance, reference.time_relevance) < 1e-9
    assert relative_error(fast.saliency, reference.saliency) < 1e-9
    torch.testing.assert_close(fast.base_attribution, reference.base_attribution)


@pytest.mark.parametrize("method", ["gradient", "integrated_gradients"])
def test_resize_shortcut_chunks_and_batches_change_nothing(method):
    model = build_model("ica_lstm", TINY_MODELS["ica_lstm"], seed=23).double()
    video = torch.rand(4, 1, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(24))
    attribution = BaseAttribution(method=method, n_steps=2)
    values = baseline_video(video, "first_element")
    masks = label_masks(block_labels(32, 32, 8).expand(4, 32, 32), torch.tensor([1, 3]))
    shortcut = FactorisedEngine(model, video, 0, attribution)
    assert shortcut.ownership is not None and shortcut.jacobians.shape[-1] == 16 * 16
    expected = FactorisedEngine(model, video, 0, attribution, use_resize=False).changes(masks, values)
    assert relative_error(shortcut.changes(masks, values), expected) < 1e-10
    for batch_size, chunk_bytes in ((1, 64), (3, 8 * 3 * 7), (50, 2**22)):
        engine = FactorisedEngine(model, video, 0, attribution, batch_size=batch_size, chunk_bytes=chunk_bytes)
        assert relative_error(engine.changes(masks, values), expected) < 1e-10
        frames = engine.changes(frame_masks(4, 32, 32), values)
        assert relative_error(frames, shortcut.changes(frame_masks(4, 32, 32), values)) < 1e-10
