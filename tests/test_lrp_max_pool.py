"""Deep Taylor's proportional max-pool rule (seed 002 §2): a slow float64 reference, a hand case, conservation,
the one-pass engine against Zennit's hooks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from _max_pool_reference import proportional_pool_reference
from test_lrp_sensitivity_fast_zplus import _kaiming_i3d, _tiny_c3d
from vidsal_core.errors import ConfigError
from vidsal_core.models.i3d import SamePadMaxPool3d, same_padding_3d
from vidsal_core.saliency.lrp import ProportionalMaxPool, bias_free_copy, relevance, window_sum
from vidsal_core.saliency.lrp_fast import deep_taylor


def _hooked_pool_relevance(pool: nn.Module, inputs: torch.Tensor, relevance_out: torch.Tensor,
                           stabilizer: float = 1e-6) -> torch.Tensor:
    """The Zennit hook on one pooling layer: the relevance of its input for ``relevance_out``."""
    leaf = inputs.clone().requires_grad_()
    handles = ProportionalMaxPool(stabilizer).copy().register(pool)
    try:
        output = pool(leaf)
        (result,) = torch.autograd.grad(output, leaf, relevance_out)
    finally:
        handles.remove()
    return result


def test_proportional_rule_by_hand():
    """A pool [1, 3] with relevance 1 gives 1/4 and 3/4; winner-take-all gives all of it to the 3."""
    pool = nn.MaxPool1d(2)
    inputs = torch.tensor([[[1.0, 3.0]]], dtype=torch.float64)
    result = _hooked_pool_relevance(pool, inputs, torch.ones(1, 1, 1, dtype=torch.float64), stabilizer=1e-12)
    torch.testing.assert_close(result, torch.tensor([[[0.25, 0.75]]], dtype=torch.float64))


POOLS = {  # name → (pool, input extent, padding before per axis)
    "c3d pool1 (1,2,2)": (nn.MaxPool3d((1, 2, 2), (1, 2, 2)), (3, 6, 6), (0, 0, 0)),
    "c3d pool5 padding (0,1,1)": (nn.MaxPool3d(2, 2, padding=(0, 1, 1)), (4, 5, 5), (0, 1, 1)),
    "overlapping 3/2, padding 1": (nn.MaxPool3d(3, 2, padding=1), (5, 6, 7), (1, 1, 1)),
    "ceil mode": (nn.MaxPool3d(2, 2, ceil_mode=True), (3, 5, 5), (0, 0, 0)),
    "c3d pool5 on a 2×1×1 input": (nn.MaxPool3d(2, 2, padding=(0, 1, 1)), (2, 1, 1), (0, 1, 1)),
}


def _same(kernel, stride, extent):
    pool = SamePadMaxPool3d(kernel, stride)
    pads = same_padding_3d(extent, pool.kernel_size, pool.stride)
    return pool, extent, (pads[4], pads[2], pads[0])


POOLS.update({
    "i3d SAME (1,3,3)/(1,2,2)": _same((1, 3, 3), (1, 2, 2), (3, 7, 8)),
    "i3d SAME 3/2": _same(3, 2, (5, 6, 7)),
    "i3d SAME 3/1 (branch 3)": _same(3, 1, (3, 4, 5)),
})


@pytest.mark.parametrize("name", list(POOLS))
def test_hook_matches_the_slow_float64_reference(name):
    pool, extent, pad_before = POOLS[name]
    torch.manual_seed(0)
    inputs = torch.rand(2, 3, *extent, dtype=torch.float64)
    inputs[0, 0, 0] = 0.0  # a frame of zeros: some pools are all zero
    with torch.no_grad():
        pooled = pool(inputs)
    relevance_out = torch.rand_like(pooled)
    result = _hooked_pool_relevance(pool, inputs, relevance_out)
    kernel = pool.kernel_size if isinstance(pool.kernel_size, tuple) else (pool.kernel_size,) * 3
    stride = pool.stride if isinstance(pool.stride, tuple) else (pool.stride,) * 3
    for index in range(2):
        reference = proportional_pool_reference(inputs[index], relevance_out[index], kernel, stride, pad_before)
        torch.testing.assert_close(result[index], reference, rtol=1e-10, atol=1e-14)
    # conserved, except for the pools of zeros (their relevance is dropped, up to the stabiliser)
    zero_pools = window_sum(pool, inputs) == 0
    kept = relevance_out.masked_fill(zero_pools, 0.0).sum()
    torch.testing.assert_close(result.sum(), kept, rtol=1e-5, atol=0)


def test_window_sum_refuses_a_dilated_pool():
    with pytest.raises(ConfigError, match="dilated"):
        window_sum(nn.MaxPool3d(2, dilation=2), torch.rand(1, 1, 4, 4, 4))


def _model(name: str):
    if name.startswith("c3d"):  # pool5 with padding (0, 1, 1); BatchNorm merged in the second
        return _tiny_c3d(batch_norm=name.endswith("norm")), torch.rand(2, 16, 1, 16, 16, dtype=torch.float64)
    # "SAME" pools with overlapping windows (stem 1×3×3 stride 2, 3×3×3 stride 2, branch 3's 3×3×3 stride 1)
    return _kaiming_i3d(), torch.rand(1, 8, 3, 16, 16, dtype=torch.float64)


@pytest.mark.parametrize("name", ["c3d", "c3d_batch_norm", "i3d"])
@pytest.mark.parametrize("max_pool", ["proportional", "winner_take_all"])
def test_fast_path_equals_zennits_for_both_rules(name, max_pool):
    model, videos = _model(name)
    targets = [1, 2][:videos.shape[0]]
    reference = relevance(model, videos, targets, "deep_taylor", stabilizer=1e-12, max_pool=max_pool)
    fast = deep_taylor(model, videos, targets, stabilizer=1e-12, max_pool=max_pool)
    assert reference.abs().sum() > 0.1
    torch.testing.assert_close(fast, reference, rtol=1e-7, atol=1e-12 * reference.abs().max().item())
    assert all(not module._forward_hooks and not module._forward_pre_hooks for module in model.modules())


@pytest.mark.parametrize("name", ["c3d", "i3d"])
def test_the_two_rules_differ_and_both_conserve_on_bias_free_nets(name):
    """Seeded with the one-hot target, a bias-free net's relevance sums to 1 under either rule."""
    model, videos = _model(name)
    model = bias_free_copy(model)
    maps = {}
    for max_pool in ("proportional", "winner_take_all"):
        maps[max_pool] = deep_taylor(model, videos, 0, stabilizer=1e-12, max_pool=max_pool)
        totals = maps[max_pool].flatten(1).sum(dim=1)
        torch.testing.assert_close(totals, torch.ones_like(totals), rtol=0, atol=1e-8)
        zennit = relevance(model, videos, 0, "deep_taylor", stabilizer=1e-12, max_pool=max_pool).flatten(1).sum(1)
        torch.testing.assert_close(zennit, torch.ones_like(zennit), rtol=0, atol=1e-8)
    difference = (maps["proportional"] - maps["winner_take_all"]).abs().sum() / maps["winner_take_all"].abs().sum()
    assert difference > 0.05


def test_proportional_rule_does_not_depend_on_the_batch():
    model, videos = _model("c3d")
    together = deep_taylor(model, videos, [0, 1])
    apart = torch.cat([deep_taylor(model, videos[i:i + 1], [0, 1][i]) for i in range(2)])
    torch.testing.assert_close(together, apart, rtol=1e-10, atol=1e-14)


def test_an_unknown_rule_is_named():
    model, videos = _model("c3d")
    with pytest.raises(ConfigError, match="max_pool='median'"):
        deep_taylor(model, videos, 0, max_pool="median")
    with pytest.raises(ConfigError, match="max_pool='median'"):
        relevance(model, videos, 0, "deep_taylor", max_pool="median")
