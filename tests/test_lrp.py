"""LRP and deep Taylor through Zennit: hand-checked cases, a naive float64 reference, conservation on I3D."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from vidsal_core.errors import ConfigError
from vidsal_core.models.i3d import (
    DEFAULT_WEIGHTS_PATH,
    InceptionI3d,
    InputRescale,
    SamePadMaxPool3d,
    Unit3D,
    load_i3d,
    same_padding_3d,
)
from vidsal_core.saliency.lrp import (
    SequentialSiblingMergeBatchNorm,
    bias_free_copy,
    linear_batch_norm_pairs,
    relevance,
)

from _max_pool_reference import proportional_pool_reference

STABILIZER = 1e-6


# --- hand-checkable cases -------------------------------------------------------------------------


class _TwoFrameNet(nn.Module):
    """Two one-pixel frames → Conv3d over time (weights 2, -1) → ReLU → Linear (weight 1) → one logit."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv3d(1, 1, (2, 1, 1), bias=False), nn.ReLU(), nn.Flatten())
        self.classifier = nn.Linear(1, 1, bias=False)
        with torch.no_grad():
            self.features[0].weight.copy_(torch.tensor([2.0, -1.0]).reshape(1, 1, 2, 1, 1))
            self.classifier.weight.fill_(1.0)

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(videos.permute(0, 2, 1, 3, 4)))


def _two_frames(first: float, second: float) -> torch.Tensor:
    return torch.tensor([first, second]).reshape(1, 2, 1, 1, 1)


def test_deep_taylor_zbox_by_hand():
    # x = (3, 1), w = (2, -1), box [0, 4]: R_i ∝ x_i w_i - 0 · w_i⁺ - 4 · w_i⁻ = (6, -1 + 4) = (6, 3)
    result = relevance(_TwoFrameNet().eval(), _two_frames(3.0, 1.0), 0, "deep_taylor", input_bounds=(0.0, 4.0))
    torch.testing.assert_close(result.flatten(), torch.tensor([2 / 3, 1 / 3]), rtol=1e-5, atol=1e-6)


def test_epsilon_plus_flat_by_hand():
    # flat rule: both inputs feed the one neuron with weight 1 → (1/2, 1/2); epsilon rule on the linear layer keeps 1
    result = relevance(_TwoFrameNet().eval(), _two_frames(3.0, 1.0), 0, "epsilon_plus_flat")
    torch.testing.assert_close(result.flatten(), torch.tensor([0.5, 0.5]), rtol=1e-5, atol=1e-6)


def test_gradient_by_hand():
    result = relevance(_TwoFrameNet().eval(), _two_frames(3.0, 1.0), 0, "gradient")
    assert result.flatten().tolist() == [2.0, -1.0]


class _HiddenLayerNet(nn.Module):
    """Frames (1, 2) → identity Conv3d to two channels → ReLU → 1×1×1 Conv3d (3, -1) → one logit."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Conv3d(1, 2, (2, 1, 1), bias=False)
        self.second = nn.Conv3d(2, 1, 1, bias=False)
        self.activation = nn.ReLU()
        with torch.no_grad():
            self.first.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]).reshape(2, 1, 2, 1, 1))
            self.second.weight.copy_(torch.tensor([3.0, -1.0]).reshape(1, 2, 1, 1, 1))

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        return self.second(self.activation(self.first(videos.permute(0, 2, 1, 3, 4)))).flatten(1)


def test_z_plus_ignores_inhibition_by_hand():
    # hidden (1, 2), output 3·1 - 1·2 = 1; z+ keeps only 3·1, so all relevance goes to the first frame
    result = relevance(_HiddenLayerNet().eval(), _two_frames(1.0, 2.0), 0, "deep_taylor", input_bounds=(0.0, 4.0))
    torch.testing.assert_close(result.flatten(), torch.tensor([1.0, 0.0]), rtol=1e-5, atol=1e-6)


# --- an independent, slow reimplementation in float64 ------------------------------------------------


class _SmallI3DLike(nn.Module):
    """Rescale → Unit3D (3×3×3, stride 2) → max pool (1, 3, 3) stride (1, 2, 2) → Unit3D → mean → Linear.

    At 4 × 8 × 8 input every "SAME" padding here is asymmetric (the odd pixel after).
    """

    relevance_input_bounds = (-1.0, 1.0)

    def __init__(self) -> None:
        super().__init__()
        self.input_rescale = InputRescale()
        self.features = nn.Sequential(OrderedDict([
            ("unit_a", Unit3D(3, 4, 3, stride=2)),
            ("pool", SamePadMaxPool3d((1, 3, 3), (1, 2, 2))),
            ("unit_b", Unit3D(4, 5, 3)),
        ]))
        self.global_pool = nn.AdaptiveAvgPool3d(1)
        self.flatten = nn.Flatten()
        self.logits = nn.Linear(5, 3)

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        features = self.features(self.input_rescale(videos.permute(0, 2, 1, 3, 4)))
        return self.logits(self.flatten(self.global_pool(features)))


def _small_model(seed: int = 0) -> _SmallI3DLike:
    torch.manual_seed(seed)
    model = _SmallI3DLike()
    with torch.no_grad():
        for unit in (model.features.unit_a, model.features.unit_b):
            unit.batch_norm.running_mean.normal_(0.0, 0.1)
            unit.batch_norm.running_var.uniform_(0.5, 2.0)
            unit.batch_norm.bias.normal_(0.0, 0.1)
        model.logits.bias.normal_(0.0, 0.1)
    return model.double().eval()


def _stabilize(denominator: torch.Tensor) -> torch.Tensor:
    """Zennit's stabilizer: add epsilon with the sign of each entry (+ for zero)."""
    return denominator + STABILIZER * (torch.sign(denominator) + (denominator == 0))


def _merged_dense(unit: Unit3D, input_shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]:
    """Matrix and bias of convolution + BatchNorm on flattened ``(C, T, H, W)`` vectors, by probing the basis."""
    size = torch.Size(input_shape).numel()
    basis = torch.eye(size, dtype=torch.float64).reshape(size, *input_shape)
    with torch.no_grad():
        responses = unit.conv(basis)
    output_shape = tuple(responses.shape[1:])
    matrix = responses.reshape(size, -1).T
    batch_norm = unit.batch_norm
    scale = batch_norm.weight / torch.sqrt(batch_norm.running_var + batch_norm.eps)
    per_output = scale.repeat_interleave(torch.Size(output_shape[1:]).numel())
    offset = (batch_norm.bias - batch_norm.running_mean * scale).repeat_interleave(per_output.numel() // scale.numel())
    return matrix * per_output[:, None], offset.detach(), output_shape


def _max_pool_sources(activations: torch.Tensor, pool: SamePadMaxPool3d) -> torch.Tensor:
    """For each pooled output, the flat index of the input it takes (padding with -inf, so never a pad)."""
    channels, *extent = activations.shape
    pads = same_padding_3d(extent, pool.kernel_size, pool.stride)
    padded = F.pad(activations[None], pads, value=-float("inf"))[0]
    _, indices = F.max_pool3d(padded, pool.kernel_size, pool.stride, return_indices=True)
    padded_extent = padded.shape[1:]
    t = indices // (padded_extent[1] * padded_extent[2]) - pads[4]
    h = indices // padded_extent[2] % padded_extent[1] - pads[2]
    w = indices % padded_extent[2] - pads[0]
    channel = torch.arange(channels).reshape(-1, 1, 1, 1).expand_as(indices)
    return (((channel * extent[0] + t) * extent[1] + h) * extent[2] + w).flatten()


def _naive_relevance(model: _SmallI3DLike, video: torch.Tensor, target: int, method: str,
                     max_pool: str = "winner_take_all") -> torch.Tensor:
    """Deep Taylor or EpsilonPlusFlat of one ``(T, C, H, W)`` video, layer by layer with explicit matrices.

    ``max_pool``: winner-take-all (index of each pool's maximum) or the proportional rule (explicit loops
    over the pool windows, :mod:`tests._max_pool_reference`).
    """
    inputs = (video.permute(1, 0, 2, 3) * 2 - 1).double()
    matrix_a, offset_a, shape_a = _merged_dense(model.features.unit_a, tuple(inputs.shape))
    activation_a = torch.relu(matrix_a @ inputs.flatten() + offset_a)
    sources = _max_pool_sources(activation_a.reshape(shape_a), model.features.pool)
    pooled = activation_a[sources]
    matrix_b, offset_b, shape_b = _merged_dense(
        model.features.unit_b, (shape_a[0], *_pooled_extent(shape_a[1:], model.features.pool))
    )
    activation_b = torch.relu(matrix_b @ pooled + offset_b)
    positions = torch.Size(shape_b[1:]).numel()
    averaging = torch.block_diag(*[torch.full((1, positions), 1.0 / positions, dtype=torch.float64)] * shape_b[0])
    averaged = averaging @ activation_b
    weight, bias = model.logits.weight.detach(), model.logits.bias.detach()
    relevance_out = F.one_hot(torch.tensor(target), weight.shape[0]).double()

    if method == "deep_taylor":  # z+ on the linear layer
        positive = weight.clamp(min=0)
        denominator = _stabilize(positive @ averaged + bias.clamp(min=0))
        relevance_averaged = averaged * (positive.T @ (relevance_out / denominator))
    else:  # epsilon rule on the linear layer
        relevance_averaged = averaged * (weight.T @ (relevance_out / _stabilize(weight @ averaged + bias)))
    relevance_b = activation_b * (averaging.T @ (relevance_averaged / _stabilize(averaging @ activation_b)))
    positive_b = matrix_b.clamp(min=0)
    denominator_b = _stabilize(positive_b @ pooled + offset_b.clamp(min=0))
    relevance_pooled = pooled * (positive_b.T @ (relevance_b / denominator_b))
    if max_pool == "winner_take_all":
        relevance_a = torch.zeros_like(activation_a).index_add_(0, sources, relevance_pooled)
    else:
        pool = model.features.pool
        pads = same_padding_3d(shape_a[1:], pool.kernel_size, pool.stride)
        relevance_a = proportional_pool_reference(
            activation_a.reshape(shape_a), relevance_pooled.reshape(shape_a[0], *_pooled_extent(shape_a[1:], pool)),
            pool.kernel_size, pool.stride, (pads[4], pads[2], pads[0]), STABILIZER,
        ).flatten()

    if method == "deep_taylor":  # ZBox on the first layer, box [-1, 1]
        low, high = -torch.ones_like(inputs.flatten()), torch.ones_like(inputs.flatten())
        positive_a, negative_a = matrix_a.clamp(min=0), matrix_a.clamp(max=0)
        denominator = matrix_a @ inputs.flatten() - positive_a @ low - negative_a @ high
        share = relevance_a / _stabilize(denominator)
        relevance_in = (
            inputs.flatten() * (matrix_a.T @ share) - low * (positive_a.T @ share) - high * (negative_a.T @ share)
        )
    else:  # flat rule on the first layer
        pattern = (matrix_a != 0).double()
        relevance_in = pattern.T @ (relevance_a / _stabilize(pattern @ torch.ones_like(inputs.flatten())))
    return relevance_in.reshape(inputs.shape).permute(1, 0, 2, 3)


def _pooled_extent(extent, pool: SamePadMaxPool3d) -> tuple[int, ...]:
    """"SAME" output extent: ceil(size / stride)."""
    return tuple(-(-size // stride) for size, stride in zip(extent, pool.stride))


@pytest.mark.parametrize("method, max_pool", [("deep_taylor", "proportional"), ("deep_taylor", "winner_take_all"),
                                              ("epsilon_plus_flat", "winner_take_all")])
def test_zennit_matches_the_naive_float64_reference(method, max_pool):
    model = _small_model()
    torch.manual_seed(1)
    videos = torch.rand(2, 4, 3, 8, 8, dtype=torch.float64)
    targets = [0, 2]
    fast = relevance(model, videos, targets, method, stabilizer=STABILIZER, max_pool=max_pool)
    for video, target, result in zip(videos, targets, fast):
        naive = _naive_relevance(model, video, target, method, max_pool)
        assert naive.abs().sum() > 0.1  # the reference is not vacuous
        torch.testing.assert_close(result, naive, rtol=1e-9, atol=1e-12)


def test_relevance_does_not_depend_on_the_batch():
    model = _small_model()
    torch.manual_seed(2)
    videos = torch.rand(3, 4, 3, 8, 8, dtype=torch.float64)
    together = relevance(model, videos, [0, 1, 2])
    apart = torch.cat([relevance(model, videos[index:index + 1], index) for index in range(3)])
    torch.testing.assert_close(together, apart, rtol=1e-12, atol=1e-15)


# --- I3D: canonizer, conservation, restoration ------------------------------------------------------


def _kaiming_i3d(seed: int = 0) -> InceptionI3d:
    """A randomly initialised I3D whose activations keep their scale through all 58 layers."""
    torch.manual_seed(seed)
    model = InceptionI3d()
    for module in model.modules():
        if isinstance(module, (nn.Conv3d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    return model.eval()


def test_canonizer_merges_every_batch_norm_of_i3d_and_keeps_its_output():
    model = _kaiming_i3d()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm3d):
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 2.0)
                module.bias.normal_(0.0, 0.1)
    batch_norms = [module for module in model.modules() if isinstance(module, nn.BatchNorm3d)]
    assert len(batch_norms) == 57 == len(linear_batch_norm_pairs(model))  # 3 in the stem, 6 × 9 in the modules
    videos = torch.rand(1, 8, 3, 32, 32)
    with torch.no_grad():
        before = model(videos)
        instances = SequentialSiblingMergeBatchNorm().apply(model)
        merged = model(videos)
        assert all(torch.equal(module.running_var, torch.ones_like(module.running_var)) for module in batch_norms)
        for instance in instances:
            instance.remove()
        after = model(videos)
    assert len(instances) == 57
    torch.testing.assert_close(merged, before, rtol=1e-5, atol=1e-5)
    assert torch.equal(after, before)


def test_relevance_leaves_the_model_unchanged():
    model = _kaiming_i3d()
    state = {key: value.clone() for key, value in model.state_dict().items()}
    relevance(model, torch.rand(1, 8, 3, 16, 16), 5, "deep_taylor")
    assert state.keys() == model.state_dict().keys()
    assert all(module.eps == 1e-3 for module in model.modules() if isinstance(module, nn.BatchNorm3d))
    assert all(torch.equal(state[key], value) for key, value in model.state_dict().items())
    assert all(not module._forward_hooks and not module._forward_pre_hooks for module in model.modules())


@pytest.mark.parametrize("method", ["deep_taylor", "epsilon_plus_flat"])
def test_relevance_is_conserved_on_a_bias_free_i3d(method):
    """Seeded with the one-hot target, relevance sums to 1 through all Inception branches (8 × 16 × 16 frames
    still pass every pooling)."""
    model = bias_free_copy(_kaiming_i3d())
    default = relevance(model, torch.rand(2, 8, 3, 16, 16), 7, method).flatten(1).sum(dim=1)
    torch.testing.assert_close(default, torch.ones(2), rtol=0, atol=1e-3)
    # in float64 with a negligible stabilizer the sum is 1 to rounding
    exact = relevance(model.double(), torch.rand(1, 8, 3, 16, 16, dtype=torch.float64), 7, method, stabilizer=1e-12)
    assert abs(exact.sum().item() - 1.0) < 1e-8


def test_deep_taylor_relevance_is_non_negative_and_biases_absorb_some():
    model = _kaiming_i3d()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm3d):
                module.bias.uniform_(0.0, 0.2)  # positive offsets take relevance under z+
    result = relevance(model, torch.rand(1, 8, 3, 32, 32), 7, "deep_taylor")
    assert result.min() >= 0  # z+ and a box holding the input give no negative relevance
    assert 0.0 < result.sum() < 0.999


@pytest.mark.skipif(not DEFAULT_WEIGHTS_PATH.is_file(),
                    reason="no I3D weights; fetch them with `python -m vidsal_core.models.i3d_weights`")
def test_relevance_is_conserved_on_the_bias_free_kinetics_i3d():
    model = bias_free_copy(load_i3d()).double()
    videos = torch.rand(1, 8, 3, 16, 16, dtype=torch.float64)
    total = relevance(model, videos, 0, "deep_taylor", stabilizer=1e-12).sum()
    assert abs(total.item() - 1.0) < 1e-8


# --- bad input ---------------------------------------------------------------------------------------


def test_bad_arguments_are_named():
    model = _small_model()
    videos = torch.rand(2, 4, 3, 8, 8, dtype=torch.float64)
    with pytest.raises(ConfigError, match="method='lrp'"):
        relevance(model, videos, 0, "lrp")
    with pytest.raises(ConfigError, match="videos"):
        relevance(model, videos[0], 0)
    with pytest.raises(ConfigError, match="target"):
        relevance(model, videos, [0, 1, 2])
    with pytest.raises(ConfigError, match="3 classes"):
        relevance(model, videos, 3)
    with pytest.raises(ConfigError, match="training mode"):
        relevance(model.train(), videos, 0)


def test_a_batch_norm_that_cannot_be_merged_is_named():
    class BatchNormFirst(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.normalise = nn.BatchNorm3d(3)
            self.conv = nn.Conv3d(3, 2, 1)

        def forward(self, videos):
            return self.conv(self.normalise(videos.permute(0, 2, 1, 3, 4))).mean(dim=(2, 3, 4))

    with pytest.raises(ConfigError, match="normalise"):
        relevance(BatchNormFirst().eval(), torch.rand(1, 2, 3, 4, 4), 0)
    relevance(BatchNormFirst().eval(), torch.rand(1, 2, 3, 4, 4), 0, "gradient")  # the gradient needs no merging


def test_recurrent_layers_are_warned_about():
    class Recurrent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(3, 4, batch_first=True)
            self.classifier = nn.Linear(4, 2)

        def forward(self, videos):
            output, _ = self.lstm(videos.mean(dim=(3, 4)))
            return self.classifier(output[:, -1])

    with pytest.warns(UserWarning, match="lstm"):
        relevance(Recurrent().eval(), torch.rand(1, 5, 3, 2, 2), 0, "epsilon_plus_flat")
