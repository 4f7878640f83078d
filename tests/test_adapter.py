"""The adapter for video models the library does not know (torchvision's r3d_18): the same maps as the same
network called by hand in (B, T, C, H, W) form, in float64; Grad-CAM's layer found from the structure."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models.video import r3d_18

from vidsal_core.errors import ConfigError
from vidsal_core.models.adapter import as_video_model
from vidsal_core.saliency.gradcam import grad_cam, structural_layer
from vidsal_core.saliency.gradients import input_gradient
from vidsal_core.saliency.lrp import relevance
from vidsal_core.saliency.registry import explain
from vidsal_core.saliency.tsr import temporal_saliency_rescaling

MEAN, STD = (0.43216, 0.394666, 0.37645), (0.22803, 0.22145, 0.216989)  # torchvision's Kinetics normalisation


class ByHand(nn.Module):
    """The same network, called as a user would write it: scale, normalise, move the channels."""

    def __init__(self, net: nn.Module, low: float = 0.0, high: float = 1.0) -> None:
        super().__init__()
        self.net, self.low, self.high = net, low, high

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(MEAN, dtype=videos.dtype).view(1, 1, 3, 1, 1)
        std = torch.tensor(STD, dtype=videos.dtype).view(1, 1, 3, 1, 1)
        return self.net(((videos * (self.high - self.low) + self.low - mean) / std).permute(0, 2, 1, 3, 4))


@pytest.fixture(scope="module")
def r3d():
    torch.manual_seed(0)
    net = r3d_18(weights=None, num_classes=4).double().eval()
    clip = torch.rand(16, 3, 32, 32, dtype=torch.float64)  # (T, C, H, W) in [0, 1]
    return net, clip


def test_the_adapter_computes_what_the_network_computes_by_hand(r3d):
    net, clip = r3d
    model = as_video_model(net, layout="BCTHW", mean=MEAN, std=STD, value_range=(0, 255))
    by_hand = ByHand(net, 0.0, 255.0).eval()
    with torch.no_grad():
        assert torch.equal(model(clip[None]), by_hand(clip[None]))


def test_gradients_and_tsr_of_r3d_18_agree_with_the_network_called_by_hand(r3d):
    net, clip = r3d
    model, by_hand = as_video_model(net, mean=MEAN, std=STD), ByHand(net).eval()
    target = int(model(clip[None]).argmax())
    gradient = input_gradient(model, clip, target)
    assert gradient.shape == clip.shape
    torch.testing.assert_close(gradient, input_gradient(by_hand, clip, target), rtol=1e-10, atol=1e-12)
    adapted = temporal_saliency_rescaling(model, clip, target, block_size=16)
    direct = temporal_saliency_rescaling(by_hand, clip, target, block_size=16)
    assert adapted.saliency.shape == clip.shape
    torch.testing.assert_close(adapted.saliency, direct.saliency, rtol=1e-9, atol=1e-12)
    assert torch.equal(adapted.selected, direct.selected)


def test_grad_cam_finds_the_last_feature_map_of_r3d_18(r3d):
    net, clip = r3d
    model = as_video_model(net, mean=MEAN, std=STD)
    assert structural_layer(model, clip) == "net.layer4"  # before the global average pooling
    found = grad_cam(model, clip)
    named = grad_cam(model, clip, target_layer="net.layer4")
    assert found.shape == clip.shape and bool((found >= 0).all()) and float(found.sum()) > 0
    torch.testing.assert_close(found, named, rtol=0, atol=0)
    assert torch.equal(found, grad_cam(ByHand(net).eval(), clip, target_layer="net.layer4"))


def test_deep_taylor_of_r3d_18_is_the_networks_own_relevance_passed_to_the_clip(r3d):
    net, clip = r3d
    model = as_video_model(net, mean=MEAN, std=STD)
    target = int(model(clip[None]).argmax())

    class Native(nn.Module):
        """The network itself on clips already normalised, with the same ZBox bounds on its first layer."""

        relevance_input_bounds = model.relevance_input_bounds

        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, videos: torch.Tensor) -> torch.Tensor:
            return self.net(videos.transpose(1, 2))

    adapted = relevance(model, clip[None], target, "deep_taylor")
    with torch.no_grad():
        normalised = model.normalise(clip[None])
    native = relevance(Native().eval(), normalised, target, "deep_taylor")
    assert adapted.shape == clip[None].shape and bool(torch.isfinite(adapted).all())
    torch.testing.assert_close(adapted, native, rtol=1e-9, atol=1e-12)  # the value map passes relevance unchanged
    low, high = model.relevance_input_bounds
    expected = -torch.tensor(MEAN, dtype=torch.float64) / torch.tensor(STD, dtype=torch.float64)  # the clip's 0
    assert low.shape == (1, 3, 1, 1, 1) and torch.allclose(low.flatten(), expected, atol=0, rtol=1e-12)
    assert bool((high > low).all())


def test_every_relevance_method_explains_the_predicted_class_without_a_target(r3d):
    net, clip = r3d
    model = as_video_model(net, mean=MEAN, std=STD)
    predicted = int(model(clip[None]).argmax())
    for method in ("deep_taylor", "epsilon_plus_flat", "sensitivity"):  # the registry's LRP entries
        torch.testing.assert_close(explain(model, clip, method, None).maps,
                                   explain(model, clip, method, predicted).maps,
                                   rtol=0, atol=0)
    torch.testing.assert_close(relevance(model, clip[None]), relevance(model, clip[None], predicted), rtol=0, atol=0)


@pytest.mark.parametrize("arguments, message", [
    ({"layout": "NCHW"}, "layout"),
    ({"mean": (0.5, 0.5)}, None),  # refused when called on 3-channel clips
    ({"std": 0.0}, "positive"),
    ({"value_range": (1, 0)}, "low < high"),
])
def test_bad_arguments_are_named(r3d, arguments, message):
    net, clip = r3d
    if message is None:
        model = as_video_model(net, **arguments)
        with pytest.raises(ConfigError, match="2 values for clips of 3 channels"):
            model(clip[None])
    else:
        with pytest.raises(ConfigError, match=message):
            as_video_model(net, **arguments)
