"""Incremental masked inference for 3-D CNNs against full re-inference (its slow twin), in float64."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.models.c3d import C3D
from vidsal_core.models.i3d import INCEPTION_WIDTHS, InceptionI3d, InceptionModule, SamePadMaxPool3d, Unit3D
from vidsal_core.saliency.incremental_cnn import (
    Box,
    IncrementalCNN,
    applies,
    incremental_masked_logits,
    layer_graph,
    mask_boxes,
    masked_logits_reference,
    run_update,
    sequential_graph,
    supports,
)
from vidsal_core.saliency.masking import (
    MaskSet,
    baseline_video,
    block_labels,
    frame_masks,
    label_masks,
    masked_logits,
    window_masks,
)


def _randomise_batch_norms(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Non-trivial running statistics and offsets, so that BatchNorm is really tested."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm3d):
                module.running_mean.copy_(torch.rand(module.num_features, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
                module.bias.copy_(torch.rand(module.num_features, generator=generator) - 0.5)
    return model


def tiny_c3d(batch_norm: bool, size=(16, 20)) -> C3D:
    torch.manual_seed(0)
    model = C3D(4, clip_length=16, input_size=size, width_multiplier=1 / 32, batch_norm=batch_norm)
    return _randomise_batch_norms(model, torch.Generator().manual_seed(1)).double().eval()


def tiny_i3d(classes: int = 5) -> InceptionI3d:
    """I3D's graph (stem, nine Inception modules, "SAME" pools) at 1/16 of its widths."""
    torch.manual_seed(0)
    model = InceptionI3d(classes)
    layers = OrderedDict([
        ("Conv3d_1a_7x7", Unit3D(3, 4, 7, stride=2)),
        ("MaxPool3d_2a_3x3", SamePadMaxPool3d((1, 3, 3), (1, 2, 2))),
        ("Conv3d_2b_1x1", Unit3D(4, 4, 1)),
        ("Conv3d_2c_3x3", Unit3D(4, 12, 3)),
        ("MaxPool3d_3a_3x3", SamePadMaxPool3d((1, 3, 3), (1, 2, 2))),
    ])
    channels = 12
    for name, widths in INCEPTION_WIDTHS.items():
        if name == "Mixed_4b":
            layers["MaxPool3d_4a_3x3"] = SamePadMaxPool3d(3, 2)
        if name == "Mixed_5b":
            layers["MaxPool3d_5a_2x2"] = SamePadMaxPool3d(2, 2)
        layers[name] = InceptionModule(channels, [max(1, width // 16) for width in widths])
        channels = layers[name].out_channels
    model.features = nn.Sequential(layers)
    model.logits = nn.Linear(channels, classes)
    return _randomise_batch_norms(model, torch.Generator().manual_seed(1)).double().eval()


def _video(frames, channels, height, width, seed=2):
    return torch.rand(frames, channels, height, width, generator=torch.Generator().manual_seed(seed),
                      dtype=torch.float64)


def _agree(model, video, masks, baseline, batch_size=7, graph=None):
    fast = IncrementalCNN(model, video, graph).masked_logits(masks, baseline, batch_size)
    slow = masked_logits_reference(model, video, masks, baseline)
    assert fast.shape == slow.shape
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)
    return fast


# --- float64 equality with full re-inference -------------------------------------------------------

@pytest.mark.parametrize("batch_norm", [False, True])
def test_c3d_blocks_equal_full_inference(batch_norm):
    """Every 6×6 block of the first, last and inner frames (6 does not divide 16 or 20: border blocks, pools straddle blocks)."""
    model, video = tiny_c3d(batch_norm), _video(16, 1, 16, 20)
    masks = label_masks(block_labels(16, 20, 6).expand(16, 16, 20), frames=[0, 1, 8, 14, 15])
    _agree(model, video, masks, baseline_video(video, "zero"))


def test_c3d_frames_windows_and_blur_baseline_equal_full_inference():
    model, video = tiny_c3d(True), _video(16, 1, 16, 20)
    for masks in (frame_masks(16, 16, 20), window_masks(16, 16, 20, window=3, stride=5)):
        _agree(model, video, masks, baseline_video(video, "blur"))


def test_c3d_channels_last_equals_full_inference():
    model = tiny_c3d(True).to(memory_format=torch.channels_last_3d)
    video = _video(16, 1, 16, 20)
    masks = label_masks(block_labels(16, 20, 7).expand(16, 16, 20), frames=[0, 7, 15])
    _agree(model, video, masks, baseline_video(video, "zero"))


def test_i3d_blocks_equal_full_inference():
    """Tiny I3D: strided 7×7×7 stem, "SAME" pools with asymmetric padding, Inception concatenations."""
    model, video = tiny_i3d(), _video(9, 3, 25, 27)
    masks = label_masks(block_labels(25, 27, 9).expand(9, 25, 27), frames=[0, 4, 8])
    _agree(model, video, masks, baseline_video(video, "zero"), batch_size=5)
    _agree(model, video, frame_masks(9, 25, 27), baseline_video(video, "blur"), batch_size=4)


def test_i3d_channels_last_equals_full_inference():
    model = tiny_i3d().to(memory_format=torch.channels_last_3d)
    video = _video(8, 3, 24, 24)
    masks = label_masks(block_labels(24, 24, 8).expand(8, 24, 24), frames=[0, 7])
    _agree(model, video, masks, baseline_video(video, "zero"), batch_size=6)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_strided_dilated_ceil_mode_and_average_pools_equal_full_inference():
    """Stride, dilation, padding, groups, max pooling in ceil_mode (windows past the end), average pooling."""
    torch.manual_seed(3)
    features = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv3d(2, 4, 3, stride=(1, 2, 2), padding=(1, 2, 1), dilation=(1, 2, 1))),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool3d((2, 3, 3), stride=(2, 2, 2), padding=(0, 1, 1), ceil_mode=True)),
        ("conv2", nn.Conv3d(4, 4, (2, 3, 3), padding="same", groups=2)),
        ("pool2", nn.AvgPool3d((1, 2, 2), stride=(1, 1, 2), padding=(0, 1, 1))),
        ("pool3", nn.MaxPool3d((1, 2, 2), stride=1, dilation=(1, 2, 2))),
    ])).double().eval()
    graph = sequential_graph(features)

    class Chain(nn.Module):
        def forward(self, videos):
            return features(videos.transpose(1, 2)).flatten(1)

    model, video = Chain().eval(), _video(7, 2, 17, 19)
    masks = label_masks(block_labels(17, 19, 4).expand(7, 17, 19))
    _agree(model, video, masks, baseline_video(video, "zero"), graph=graph)


# --- independence of batch size ----------------------------------------------------------------------

def test_results_do_not_depend_on_batch_size():
    model, video = tiny_c3d(True), _video(16, 1, 16, 20)
    masks = label_masks(block_labels(16, 20, 6).expand(16, 16, 20), frames=[0, 3, 15])
    engine = IncrementalCNN(model, video)
    baseline = baseline_video(video, "zero")
    results = [engine.masked_logits(masks, baseline, size) for size in (1, 5, len(masks))]
    for result in results[1:]:
        torch.testing.assert_close(result, results[0], rtol=1e-13, atol=1e-13)


# --- a case worked by hand -----------------------------------------------------------------------------

def _two_layer_net() -> nn.Sequential:
    """conv1 sums two consecutive frames (kernel (2, 1, 1)); conv2 sums 2×2 pixel blocks (stride 2)."""
    conv1 = nn.Conv3d(1, 1, (2, 1, 1), bias=False)
    conv2 = nn.Conv3d(1, 1, (1, 2, 2), stride=(1, 2, 2), bias=False)
    with torch.no_grad():
        conv1.weight.fill_(1.0)
        conv2.weight.fill_(1.0)
    return nn.Sequential(OrderedDict([("conv1", conv1), ("conv2", conv2)])).double().eval()


def test_hand_worked_two_layer_conv_net():
    """A white 3-frame 4×4 video: every output is 2 frames × 4 pixels = 8.

    Zeroing the top-left 2×2 block of frame 1 leaves 4 in the two outputs
    whose windows hold it (times 0 and 1, block (0, 0)); zeroing one pixel
    of frame 0 leaves 7 in output (0, 0, 0) only. The cone at conv1 is
    frames 0–1 of that block, at conv2 one block of two time steps.
    """
    net = _two_layer_net()
    graph = sequential_graph(net)
    video = torch.ones(3, 1, 4, 4, dtype=torch.float64)
    labels = torch.zeros(3, 4, 4, dtype=torch.long)
    labels[1, :2, :2] = 1
    labels[0, 0, 1] = 2
    # mask 0: region 1 of frame 1; mask 1: region 2 of frame 0
    masks = MaskSet(3, 4, 4, torch.tensor([1, 0]), torch.tensor([2, 1]), torch.tensor([1, 2]), labels, "blocks")
    engine = IncrementalCNN(net, video, graph)
    logits = engine.masked_logits(masks, torch.zeros_like(video), batch_size=1)
    expected = torch.full((2, 2, 2, 2), 8.0, dtype=torch.float64)  # (mask, t, h, w)
    expected[0, 0, 0, 0] = expected[0, 1, 0, 0] = 4.0
    expected[1, 0, 0, 0] = 7.0
    assert torch.equal(logits, expected.flatten(1))
    starts, stops = mask_boxes(masks)
    assert starts.tolist() == [[1, 0, 0], [0, 0, 1]] and stops.tolist() == [[2, 2, 2], [1, 1, 2]]
    box = Box(torch.zeros(1, 1, 1, 2, 2, dtype=torch.float64), starts[:1], (3, 4, 4))
    after_conv1 = run_update(graph.layers[:1], box, engine.cache)
    assert after_conv1.starts.tolist() == [[0, 0, 0]] and after_conv1.lengths == (2, 2, 2)
    assert after_conv1.values.flatten().tolist() == [1.0] * 8  # 1 + 0 in both frame pairs
    after_conv2 = run_update(graph.layers, box, engine.cache)
    assert after_conv2.starts.tolist() == [[0, 0, 0]] and after_conv2.lengths == (2, 1, 1)
    assert after_conv2.values.flatten().tolist() == [4.0, 4.0]


def test_mask_boxes_are_the_bounding_boxes():
    labels = block_labels(10, 12, 5).expand(4, 10, 12)
    masks = label_masks(labels, frames=[0, 3])
    starts, stops = mask_boxes(masks)
    dense = masks.dense()[:, :, 0]
    for index in range(len(masks)):
        where = torch.nonzero(dense[index])
        assert starts[index].tolist() == where.amin(0).tolist()
        assert stops[index].tolist() == (where.amax(0) + 1).tolist()


# --- the masking engine uses it -------------------------------------------------------------------------

def test_masked_logits_engines_agree_and_auto_is_incremental(monkeypatch):
    model, video = tiny_c3d(True), _video(16, 1, 16, 20)
    masks = label_masks(block_labels(16, 20, 10).expand(16, 16, 20), frames=[0, 15])
    baseline = baseline_video(video, "zero")
    full = masked_logits(model, video, masks, baseline, engine="full")
    incremental = masked_logits(model, video, masks, baseline, engine="incremental")
    torch.testing.assert_close(incremental, full, rtol=1e-12, atol=1e-12)
    calls = []
    monkeypatch.setattr(IncrementalCNN, "masked_logits",
                        lambda self, *args: calls.append(1) or full)
    masked_logits(model, video, masks, baseline)
    assert calls == [1]


def test_masked_logits_refuses_incremental_where_it_cannot_apply():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16 * 1 * 4 * 4, 2)).double().eval()
    video = _video(16, 1, 4, 4)
    masks = frame_masks(16, 4, 4)
    with pytest.raises(ConfigError, match="no incremental engine supports Sequential"):
        masked_logits(model, video, masks, baseline_video(video), engine="incremental")
    with pytest.raises(ConfigError, match="engine='fast'"):
        masked_logits(model, video, masks, baseline_video(video), engine="fast")
    # auto: the full passes
    assert masked_logits(model, video, masks, baseline_video(video)).shape == (16, 2)
    c3d, small = tiny_c3d(False), _video(16, 1, 10, 14)
    assert not applies(c3d, small)
    with pytest.raises(ConfigError, match="resizes frames"):
        masked_logits(c3d, small, frame_masks(16, 10, 14), baseline_video(small), engine="incremental")


# --- refusals -----------------------------------------------------------------------------------------

def test_unknown_modules_are_refused_by_name():
    model = tiny_c3d(False)
    model.features.relu3a = nn.LeakyReLU()
    assert supports(model)
    with pytest.raises(ConfigError, match=r"'relu3a' \(LeakyReLU\)"):
        layer_graph(model)
    model = tiny_c3d(False)
    model.features.add_module("extra", nn.Identity())
    with pytest.raises(ConfigError, match=r"c3d.features does not match.*unexpected \['extra'\]"):
        layer_graph(model)
    model = tiny_i3d()
    model.features.Mixed_4c.branch_3.MaxPool3d_0a_3x3 = nn.AdaptiveMaxPool3d(2)
    with pytest.raises(ConfigError, match=r"Mixed_4c.branch_3.MaxPool3d_0a_3x3' \(AdaptiveMaxPool3d\)"):
        layer_graph(model)
    with pytest.raises(ConfigError, match="pads with 'reflect'"):
        sequential_graph(nn.Sequential(nn.Conv3d(1, 1, 3, padding=1, padding_mode="reflect")))
    with pytest.raises(ConfigError, match="ceil_mode"):
        sequential_graph(nn.Sequential(nn.AvgPool3d(2, ceil_mode=True)))


def test_bad_arguments_are_refused():
    model, video = tiny_c3d(False), _video(16, 1, 16, 20)
    masks = frame_masks(16, 16, 20)
    engine = IncrementalCNN(model, video)
    with pytest.raises(ConfigError, match="batch_size=0"):
        engine.masked_logits(masks, baseline_video(video), 0)
    with pytest.raises(ConfigError, match="baseline: shape"):
        engine.masked_logits(masks, video[:3], 4)
    with pytest.raises(ConfigError, match="masks are for"):
        engine.masked_logits(frame_masks(16, 20, 20), baseline_video(video), 4)
    with pytest.raises(ConfigError, match="training mode"):
        IncrementalCNN(model.train(), video)
    with pytest.raises(ConfigError, match="built for clips of 16 frames"):
        incremental_masked_logits(model.eval(), video[:8], frame_masks(8, 16, 20), baseline_video(video[:8]))
