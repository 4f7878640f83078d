"""Grad-CAM, Grad-CAM++ and XGradCAM (vidsal_core.saliency.gradcam) against hand computations, float64.

The tiny model is ``conv → ReLU → global average pool → linear``: with the
target layer at the ReLU, ``∂ logit_c / ∂ A_k = W_{c,k} / N`` at every one of
the ``N = T'·H'·W'`` positions, so Grad-CAM's weights are ``α_k = W_{c,k} / N``
without any autograd, and XGradCAM's are ``Σ_p (W_{c,k}/N) A_k(p) / Σ_p A_k(p) = W_{c,k}/N``
too. A second model adds a non-linear head (the mean of the squared maps) so that the
gradient differs from position to position and the slow twin computes it with
autograd on the raw activations, independently of the package's hooks.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.saliency import gradcam


class TinyConv3d(nn.Module):
    """``(B, T, C, H, W)`` → conv3d (stride 2) → ReLU → mean (of squares) → linear; the CAM layer is ``features.relu``."""

    model_name = "tiny"

    def __init__(self, channels: int = 2, maps: int = 3, classes: int = 4, squared: bool = False) -> None:
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv", nn.Conv3d(channels, maps, 3, stride=2, padding=1))
        self.features.add_module("relu", nn.ReLU())
        self.classifier = nn.Linear(maps, classes)
        self.squared = squared

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        activations = self.features(videos.transpose(1, 2))
        return self.classifier((activations ** 2 if self.squared else activations).mean(dim=(2, 3, 4)))


def _model(squared: bool = False, seed: int = 0) -> TinyConv3d:
    torch.manual_seed(seed)
    return TinyConv3d(squared=squared).double().eval()


def _videos(batch: int = 3, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 8, 2, 10, 12, generator=generator, dtype=torch.float64)


def _activations(model: TinyConv3d, videos: torch.Tensor) -> torch.Tensor:
    """A = ReLU(conv(x)), computed without the model's forward."""
    conv = model.features.conv
    return torch.relu(torch.nn.functional.conv3d(videos.transpose(1, 2), conv.weight, conv.bias, stride=2, padding=1))


def test_grad_cam_equals_the_hand_computation_on_a_linear_head():
    model, videos = _model(), _videos()
    targets = torch.tensor([0, 3, 1])
    activations = _activations(model, videos)  # (B, K, T', H', W')
    positions = activations[0, 0].numel()
    alpha = model.classifier.weight[targets] / positions  # (B, K): the mean gradient of channel k, by hand
    expected = torch.relu((alpha[:, :, None, None, None] * activations).sum(dim=1)).detach()
    coarse = gradcam.coarse_class_activation_map(model, videos, targets, "grad_cam", "features.relu")
    assert coarse.dtype == torch.float64 and coarse.shape == expected.shape == (3, 4, 5, 6)
    torch.testing.assert_close(coarse, expected, rtol=1e-12, atol=1e-14)
    assert expected.max() > 0 and (expected == 0).any()  # the ReLU matters on this input
    # XGradCAM's weights Σ g A / Σ A equal the mean gradient when the gradient is constant per channel
    xgrad = gradcam.coarse_class_activation_map(model, videos, targets, "xgrad_cam", "features.relu")
    scale = activations.sum(dim=(2, 3, 4)) / (activations.sum(dim=(2, 3, 4)) + 1e-7)
    torch.testing.assert_close(xgrad, torch.relu(((alpha * scale)[:, :, None, None, None] * activations).sum(1)).detach(),
                               rtol=1e-10, atol=1e-14)


def test_grad_cam_slow_twin_on_a_nonlinear_head_before_and_after_upsampling():
    model, videos = _model(squared=True), _videos()
    targets = torch.tensor([2, 0, 1])
    activations = _activations(model, videos).detach().requires_grad_(True)
    logits = model.classifier((activations ** 2).mean(dim=(2, 3, 4)))
    (gradient,) = torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), activations)
    assert gradient[0, 0].std() > 0  # the gradient varies over positions: the mean is a real average
    alpha = gradient.mean(dim=(2, 3, 4))
    expected = torch.relu((alpha[:, :, None, None, None] * activations).sum(dim=1)).detach()
    coarse = gradcam.coarse_class_activation_map(model, videos, targets, "grad_cam", "features.relu")
    torch.testing.assert_close(coarse, expected, rtol=1e-10, atol=1e-14)
    full = gradcam.grad_cam(model, videos, targets, "features.relu")
    upsampled = torch.nn.functional.interpolate(expected[:, None], size=(8, 10, 12), mode="trilinear",
                                                align_corners=False)[:, 0]
    assert full.shape == videos.shape
    torch.testing.assert_close(full, upsampled[:, :, None].expand_as(videos), rtol=1e-10, atol=1e-14)
    assert (full >= 0).all()


def test_grad_cam_plus_plus_matches_its_equation_19():
    model, videos = _model(squared=True), _videos(batch=2)
    targets = torch.tensor([1, 2])
    activations = _activations(model, videos).detach().requires_grad_(True)
    logits = model.classifier((activations ** 2).mean(dim=(2, 3, 4)))
    (g,) = torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), activations)
    a = activations.detach()
    total = a.sum(dim=(2, 3, 4), keepdim=True)
    aij = torch.where(g != 0, g ** 2 / (2 * g ** 2 + total * g ** 3 + 1e-6), torch.zeros_like(g))
    alpha = (torch.relu(g) * aij).sum(dim=(2, 3, 4))
    expected = torch.relu((alpha[:, :, None, None, None] * a).sum(dim=1))
    coarse = gradcam.coarse_class_activation_map(model, videos, targets, "grad_cam_plus_plus", "features.relu")
    torch.testing.assert_close(coarse, expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("method", list(gradcam.CAM_METHODS))
def test_batch_and_single_video_give_the_same_maps(method):
    model, videos = _model(squared=True), _videos()
    together = gradcam.class_activation_map(model, videos, [0, 1, 2], method, "features.relu")
    alone = torch.stack([gradcam.class_activation_map(model, video, target, method, "features.relu")
                         for video, target in zip(videos, [0, 1, 2])])
    torch.testing.assert_close(together, alone, rtol=1e-10, atol=1e-14)
    assert not any(parameter.grad is not None for parameter in model.parameters())  # nothing left on the model


def test_predicted_class_is_the_default_target():
    model, videos = _model(), _videos()
    predicted = model(videos).argmax(dim=1)
    torch.testing.assert_close(gradcam.grad_cam(model, videos, None, "features.relu"),
                               gradcam.grad_cam(model, videos, predicted, "features.relu"))


def test_unknown_layer_name_is_refused_with_the_models_module_names():
    model, videos = _model(), _videos()
    with pytest.raises(ConfigError, match=r"target_layer='features.relu5b'.*no such module.*features.relu"):
        gradcam.grad_cam(model, videos, 0, "features.relu5b")
    with pytest.raises(ConfigError, match="no default layer"):
        gradcam.target_layer_name(model)  # model_name 'tiny' has no default, and no clip to find one on
    layer = gradcam.structural_layer(model, videos)  # found from the structure: its last feature map
    assert torch.equal(gradcam.grad_cam(model, videos, 0), gradcam.grad_cam(model, videos, 0, layer))
    with pytest.raises(ConfigError, match="expected one .B, K, T', H', W'. output"):
        gradcam.grad_cam(model, videos, 0, "classifier")  # a 2-D output has no 3-D map
    with pytest.raises(ConfigError, match="method='score_cam'"):
        gradcam.class_activation_map(model, videos, 0, "score_cam", "features.relu")
    with pytest.raises(ConfigError, match="target=7"):
        gradcam.grad_cam(model, videos, 7, "features.relu")


def test_default_layers_of_c3d_and_i3d_exist_and_give_the_papers_resolution():
    from vidsal_core.models.c3d import C3D
    from vidsal_core.models.i3d import InceptionI3d

    c3d = C3D(3, clip_length=16, input_size=(32, 32), width_multiplier=1 / 16).eval()
    clip = torch.rand(16, 1, 32, 32)
    coarse = gradcam.coarse_class_activation_map(c3d, clip, 0, "grad_cam")
    assert gradcam.target_layer_name(c3d) == "features.relu5b"
    assert coarse.shape == (2, 2, 2)  # 1/8 of the frames, 1/16 of the pixels
    assert gradcam.grad_cam(c3d, clip, 0).shape == clip.shape
    i3d = InceptionI3d(num_classes=5).eval()
    assert gradcam.target_layer_name(i3d) == "features.Mixed_5c"
    i3d_clip = torch.rand(16, 3, 32, 32)
    assert gradcam.coarse_class_activation_map(i3d, i3d_clip, 0).shape[0] == 2  # 1/8 of the frames
    # the border chapter's Grad-CAM-4 layers have four time positions on 16 frames
    from vidsal_study.chapters.border import CAM_BLOCK4_LAYERS, explanation_map

    assert gradcam.coarse_class_activation_map(c3d, clip, 0, target_layer=CAM_BLOCK4_LAYERS["c3d"]).shape[0] == 4
    assert gradcam.coarse_class_activation_map(i3d, i3d_clip, 0, target_layer=CAM_BLOCK4_LAYERS["i3d"]).shape[0] == 4
    torch.testing.assert_close(explanation_map(c3d, clip, 0, "grad_cam_block4"),
                               gradcam.grad_cam(c3d, clip, 0, CAM_BLOCK4_LAYERS["c3d"]))


def test_two_time_positions_leave_no_border_coefficient_and_four_do():
    """Upsampled from 2 time positions, a map's share is a constant plus an odd function of time: border a = 0."""
    from vidsal_core.metrics.relevance import border_coefficient, frame_relevance, lookahead_coefficient, relevance_share

    generator = torch.Generator().manual_seed(3)
    for positions in (2, 4):
        coarse = torch.rand(positions, 3, 4, generator=generator, dtype=torch.float64) + 0.1
        share = relevance_share(frame_relevance(gradcam.upsample_to_video(coarse, (16, 1, 12, 16))))
        border, lookahead = float(border_coefficient(share)), float(lookahead_coefficient(share))
        assert abs(lookahead) > 1e-4
        assert (abs(border) < 1e-12) if positions == 2 else (abs(border) > 1e-4)


@pytest.mark.parametrize("method", list(gradcam.CAM_METHODS))
def test_coarse_map_is_the_packages_own_before_its_resizing(method):
    """pytorch-grad-cam's own __call__ = our coarse map, min-max scaled, zoomed by a cubic spline, cut at 0, scaled."""
    import pytorch_grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from scipy.ndimage import zoom

    class ChannelsFirst(nn.Module):  # the package's layout (B, C, T, H, W) → vidsal's (B, T, C, H, W)
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, volumes):
            return self.model(volumes.transpose(1, 2))

    model, videos = _model(squared=True), _videos(batch=2)
    targets = [1, 3]
    coarse = gradcam.coarse_class_activation_map(model, videos, targets, method, "features.relu").numpy()
    cam = getattr(pytorch_grad_cam, gradcam.CAM_METHODS[method])(ChannelsFirst(model), [model.features.relu])
    try:
        theirs = cam(input_tensor=videos.transpose(1, 2), targets=[ClassifierOutputTarget(t) for t in targets])
    finally:
        cam.activations_and_grads.release()

    def scaled(values):
        values = values - values.min()
        return values / (1e-7 + values.max())

    # cubic spline zoom to (T, H, W) (it overshoots below 0), then ReLU and [0, 1] again (aggregate_multi_layers)
    expected = [scaled(np.maximum(zoom(np.float32(scaled(one)), [8 / 4, 10 / 5, 12 / 6]), 0)) for one in coarse]
    np.testing.assert_allclose(theirs, np.float32(expected), atol=1e-5)
