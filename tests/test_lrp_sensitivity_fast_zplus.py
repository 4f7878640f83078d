"""Sensitivity analysis (seed 002 eq. 2) and the one-pass z+ rule: same relevance as Zennit's ZPlus."""

from __future__ import annotations

from unittest import mock

import pytest
import torch
from torch import nn
from zennit.rules import ZPlus

from vidsal_core.models.c3d import C3D
from vidsal_core.saliency import lrp
from vidsal_core.saliency.lrp import NonNegativeInputZPlus, relevance


def _tiny_c3d(seed: int = 0, batch_norm: bool = False) -> C3D:
    torch.manual_seed(seed)
    model = C3D(num_classes=3, clip_length=16, input_size=(16, 16), width_multiplier=1 / 32,
                batch_norm=batch_norm).double().eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv3d, nn.Linear)):  # activations keep their scale; biases stay small
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                module.bias.uniform_(-0.01, 0.01)
            if isinstance(module, nn.BatchNorm3d):
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.05)
    return model


def test_sensitivity_is_the_squared_gradient():
    model = _tiny_c3d()
    videos = torch.rand(2, 16, 1, 16, 16, dtype=torch.float64)
    gradient = relevance(model, videos, [0, 2], "gradient")
    torch.testing.assert_close(relevance(model, videos, [0, 2], "sensitivity"), gradient.square())
    assert relevance(model, videos, 1, "sensitivity").min() >= 0


def test_one_pass_z_plus_equals_zennits_z_plus_on_c3d():
    model = _tiny_c3d()
    videos = torch.rand(2, 16, 1, 16, 16, dtype=torch.float64)
    fast = relevance(model, videos, [1, 2], "deep_taylor")
    with mock.patch.object(lrp, "NonNegativeInputZPlus", ZPlus):
        reference = relevance(model, videos, [1, 2], "deep_taylor")
    assert reference.abs().sum() > 0.1
    torch.testing.assert_close(fast, reference, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("shift", [0.0, -0.5])
def test_one_pass_z_plus_falls_back_to_zplus_on_negative_inputs(shift):
    torch.manual_seed(3)
    layer = nn.Linear(6, 4).double()
    inputs = (torch.rand(5, 6, dtype=torch.float64) + shift).requires_grad_()
    results = []
    for rule in (NonNegativeInputZPlus(), ZPlus()):
        handles = rule.copy().register(layer)
        output = layer(inputs)
        (gradient,) = torch.autograd.grad(output, inputs, torch.ones_like(output))
        handles.remove()
        results.append(gradient)
    torch.testing.assert_close(results[0], results[1], rtol=1e-12, atol=1e-14)


# --- the one-pass engine (vidsal_core.saliency.lrp_fast) against Zennit ----------------------------


def _kaiming_i3d(seed: int = 0):
    from vidsal_core.models.i3d import InceptionI3d

    torch.manual_seed(seed)
    model = InceptionI3d(num_classes=5)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv3d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if isinstance(module, nn.BatchNorm3d):
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 2.0)
                module.bias.normal_(0.0, 0.05)
    return model.double().eval()


@pytest.mark.parametrize("name", ["c3d", "c3d_batch_norm", "i3d"])
def test_fast_deep_taylor_equals_zennits(name):
    from vidsal_core.saliency.lrp_fast import deep_taylor

    if name.startswith("c3d"):
        model, videos = _tiny_c3d(batch_norm=name.endswith("norm")), torch.rand(2, 16, 1, 16, 16, dtype=torch.float64)
    else:  # Inception branches, "SAME" padding, average pools, the pass-through rescaling, ZBox on [-1, 1]
        model, videos = _kaiming_i3d(), torch.rand(1, 8, 3, 16, 16, dtype=torch.float64)
    targets = [1, 2][:videos.shape[0]]
    state = {key: value.clone() for key, value in model.state_dict().items()}
    reference = relevance(model, videos, targets, "deep_taylor", stabilizer=1e-12)
    fast = deep_taylor(model, videos, targets, stabilizer=1e-12)
    assert reference.abs().sum() > 0.1
    torch.testing.assert_close(fast, reference, rtol=1e-7, atol=1e-12 * reference.abs().max().item())
    assert all(torch.equal(state[key], value) for key, value in model.state_dict().items())
    assert all(not module._forward_hooks and not module._forward_pre_hooks for module in model.modules())


def test_fast_deep_taylor_conserves_relevance_without_biases_and_refuses_other_activations():
    from vidsal_core.errors import ConfigError
    from vidsal_core.saliency.lrp import bias_free_copy
    from vidsal_core.saliency.lrp_fast import deep_taylor

    model = bias_free_copy(_tiny_c3d())
    total = deep_taylor(model, torch.rand(1, 16, 1, 16, 16, dtype=torch.float64), 0, stabilizer=1e-12).sum()
    assert abs(total.item() - 1.0) < 1e-8
    model.features.relu1 = nn.Tanh()
    with pytest.raises(ConfigError, match="Tanh"):
        deep_taylor(model, torch.rand(1, 16, 1, 16, 16, dtype=torch.float64), 0)


def test_fast_deep_taylor_with_a_box_of_tensors_equals_zennits():
    """Bounds that vary over the input take the three-pass ZBox (the scalar box stacks them into one convolution)."""
    from vidsal_core.saliency.lrp_fast import deep_taylor

    model, videos = _tiny_c3d(), torch.rand(2, 16, 1, 16, 16, dtype=torch.float64)
    # one bound per frame, broadcast (as Zennit does) over the first layer's input (B, C, T, H, W)
    low = torch.linspace(-0.5, 0.0, 16, dtype=torch.float64).reshape(1, 1, 16, 1, 1)
    high = torch.linspace(1.0, 1.5, 16, dtype=torch.float64).reshape(1, 1, 16, 1, 1)
    reference = relevance(model, videos, [0, 1], "deep_taylor", input_bounds=(low, high), stabilizer=1e-12)
    fast = deep_taylor(model, videos, [0, 1], input_bounds=(low, high), stabilizer=1e-12)
    torch.testing.assert_close(fast, reference, rtol=1e-7, atol=1e-12 * reference.abs().max().item())
    scalar = deep_taylor(model, videos, [0, 1], input_bounds=(torch.tensor(-0.5), 1.5), stabilizer=1e-12)
    torch.testing.assert_close(scalar, relevance(model, videos, [0, 1], "deep_taylor", input_bounds=(-0.5, 1.5),
                                                 stabilizer=1e-12), rtol=1e-7, atol=1e-14)
