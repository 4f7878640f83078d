"""The Kinetics-400 I3D explained through the front door, natively and as a wrapped channels-first network.

Published I3D ports take ``(B, C, T, H, W)`` clips in [-1, 1]; :class:`ChannelsFirstI3D` is the library's
I3D without its own input handling, so :func:`~vidsal_core.models.adapter.as_video_model` (``layout="BCTHW"``,
``value_range=(-1, 1)``) must give back the native network's logits and maps, in float64, with a gradient
method, TSR, deep Taylor and Grad-CAM. The wrapped network has no ``model_name``: Grad-CAM's layer is found
from its structure. Tiny clips (8 frames of 48 × 48) keep the test to seconds.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vidsal_core.models.adapter import as_video_model
from vidsal_core.models.i3d import DEFAULT_WEIGHTS_PATH, InceptionI3d, load_i3d
from vidsal_core.saliency.gradcam import structural_layer
from vidsal_core.saliency.registry import explain

pytestmark = pytest.mark.skipif(not DEFAULT_WEIGHTS_PATH.is_file(),
                                reason=f"no I3D weights at {DEFAULT_WEIGHTS_PATH}; fetch them with "
                                       "`python -m vidsal_core.models.i3d_weights`")


class ChannelsFirstI3D(nn.Module):
    """I3D as published ports call it: ``(B, 3, T, H, W)`` in [-1, 1] → logits (the native one's layers)."""

    def __init__(self, i3d: InceptionI3d) -> None:
        super().__init__()
        self.features, self.average_pool, self.global_pool = i3d.features, i3d.average_pool, i3d.global_pool
        self.flatten, self.logits = i3d.flatten, i3d.logits

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.logits(self.flatten(self.global_pool(self.average_pool(self.features(clips)))))


@pytest.fixture(scope="module")
def i3d():
    native = load_i3d().double().eval()
    wrapped = as_video_model(ChannelsFirstI3D(native).eval(), layout="BCTHW", value_range=(-1, 1))
    generator = torch.Generator().manual_seed(0)
    clip = torch.rand(8, 3, 48, 48, generator=generator, dtype=torch.float64)  # (T, C, H, W) in [0, 1]
    return native, wrapped, clip


def test_the_wrapped_network_computes_the_native_logits(i3d):
    native, wrapped, clip = i3d
    with torch.no_grad():
        assert torch.equal(wrapped(clip[None]), native(clip[None]))


@pytest.mark.parametrize("method, options, tolerance", [
    ("input_gradient", {}, 1e-10),
    ("tsr", {"block_size": 24, "variant": "reference_code"}, 1e-9),
    ("deep_taylor", {}, 1e-9),
    ("grad_cam", {}, 1e-10),
])
def test_the_wrapped_i3d_is_explained_as_the_native_one(i3d, method, options, tolerance):
    native, wrapped, clip = i3d
    mine = explain(wrapped, clip, method, **options)
    theirs = explain(native, clip, method, **options)
    assert torch.equal(mine.target, theirs.target)  # the predicted class, the same for both
    assert mine.maps.shape == clip.shape and mine.maps.dtype == torch.float64
    assert bool(torch.isfinite(mine.maps).all()) and float(mine.maps.abs().sum()) > 0
    torch.testing.assert_close(mine.maps, theirs.maps, rtol=tolerance, atol=tolerance * float(theirs.maps.abs().max()))
    if method == "tsr":
        assert torch.equal(mine.details.selected, theirs.details.selected)


def test_grad_cams_layer_comes_from_the_structure(i3d):
    native, wrapped, clip = i3d
    # the last 5-D feature map before the head pools it away: Mixed_5c's output, which the Sequential returns
    assert structural_layer(wrapped, clip) == "net.features"
    assert structural_layer(native, clip) == "features"
    assert explain(wrapped, clip, "grad_cam").options["target_layer"] == "net.features"
    by_structure = explain(native, clip, "grad_cam", target_layer=structural_layer(native, clip))
    torch.testing.assert_close(by_structure.maps, explain(native, clip, "grad_cam").maps, rtol=0, atol=0)
