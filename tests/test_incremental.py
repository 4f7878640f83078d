"""The incremental masked forward of per-frame models: equal to full re-inference, batch-invariant, known by hand."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from _saliency_models import LinearFrames
from _toy_videos import TINY_MODELS
from vidsal_core.errors import ConfigError
from vidsal_core.models.registry import build_model
from vidsal_core.saliency import incremental
from vidsal_core.saliency.incremental import IncrementalFrames, supports
from vidsal_core.saliency.masking import (
    MaskSet,
    apply_masks,
    baseline_video,
    block_masks,
    cache_bytes,
    cache_masks_per_batch,
    frame_masks,
    label_masks,
    masked_logits,
    window_masks,
)
from vidsal_core.saliency.time_contribution import time_contribution

FRAMES, SIZE = 7, 16
#: seed 000's network shape in miniature: a residual encoder with a stem pool and a 3-layer LSTM.
SEED000_STYLE = {
    "num_classes": 2, "input_size": [16, 16], "hidden_size": 6, "num_layers": 3, "head_size": 5,
    "encoder": {"stem_channels": 4, "stem_kernel": 7, "stem_pool": True, "channels": [4, 8],
                "stage_strides": [1, 2], "blocks_per_stage": 2, "residual": True, "pool_grid": [1, 1],
                "feature_size": 6, "norm": "batch"},
}
MODELS = {
    "frame_lstm": ("frame_lstm", TINY_MODELS["frame_lstm"]),
    "frame_lstm_differences_2_layers": ("frame_lstm", {**TINY_MODELS["frame_lstm"], "frame_differences": True,
                                                       "num_layers": 2}),
    "ica_lstm": ("ica_lstm", TINY_MODELS["ica_lstm"]),
    "ica_lstm_window_2_flatten_differences": ("ica_lstm", {**TINY_MODELS["ica_lstm"], "window": 2,
                                                           "hop_aggregation": "flatten", "frame_differences": True}),
    "seed000_style": ("frame_lstm", SEED000_STYLE),
}


def tiny(key: str, seed: int = 0) -> nn.Module:
    name, config = MODELS[key]
    model = build_model(name, config, seed=seed).double().eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # non-trivial BatchNorm statistics, so eval-mode normalisation matters
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2, generator=generator)
                module.running_var.uniform_(0.5, 1.5, generator=generator)
    return model


def tiny_video(frames: int = FRAMES, seed: int = 1) -> torch.Tensor:
    return torch.rand(frames, 1, SIZE, SIZE, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def border_masks() -> MaskSet:
    """5×5 blocks of a 16×16 frame (the last row and column cut short) in the first, a middle and the last frame."""
    return block_masks(FRAMES, SIZE, SIZE, block_size=5, frames=[0, 3, FRAMES - 1])


@pytest.mark.parametrize("key", sorted(MODELS))
@pytest.mark.parametrize("baseline", ["zero", "blur"])
def test_equals_full_reinference_in_float64(key, baseline):
    model, video = tiny(key), tiny_video()
    values = baseline_video(video, baseline)
    for masks in (border_masks(), frame_masks(FRAMES, SIZE, SIZE), window_masks(FRAMES, SIZE, SIZE, 3, stride=2)):
        full = masked_logits(model, video, masks, values, engine="full", batch_size=4)
        fast = masked_logits(model, video, masks, values, engine="incremental")
        torch.testing.assert_close(fast, full, rtol=0, atol=1e-12)
        direct = model(apply_masks(video, masks, values))  # the model itself, one call for all masks
        torch.testing.assert_close(fast, direct, rtol=0, atol=1e-12)


def test_masks_change_something_so_the_comparison_can_fail():
    model, video = tiny("ica_lstm"), tiny_video()
    logits = masked_logits(model, video, border_masks(), baseline_video(video))
    with torch.no_grad():
        clean = model(video[None])
    moved = (logits - clean).abs().amax(dim=1) > 1e-9
    assert int(moved.sum()) >= len(logits) - 2  # all but, at most, the one-pixel corner blocks move the logits
    first, last = logits[:16], logits[-16:]
    assert float((first - last).abs().max()) > 1e-6  # masks in different frames do different things


@pytest.mark.parametrize("key", ["frame_lstm_differences_2_layers", "ica_lstm"])
def test_results_do_not_depend_on_batch_size_or_mask_order(key):
    model, video = tiny(key), tiny_video()
    masks, values = border_masks(), baseline_video(video, "blur")
    engine = IncrementalFrames(model, video)
    whole = engine.masked_logits(masks, values, batch_size=1000)
    for size in (1, 3, 16):
        torch.testing.assert_close(engine.masked_logits(masks, values, batch_size=size), whole, rtol=0, atol=1e-12)
    torch.testing.assert_close(engine.masked_logits(masks, values), whole, rtol=0, atol=1e-12)  # cache-sized default
    order = torch.randperm(len(masks), generator=torch.Generator().manual_seed(0))
    shuffled = engine.masked_logits(masks.subset(order), values, batch_size=5)
    torch.testing.assert_close(shuffled, whole[order], rtol=0, atol=1e-12)
    for size in (1, 7):  # the slow twin's own batching ("chunks" of masked videos) changes nothing either
        torch.testing.assert_close(masked_logits(model, video, masks, values, engine="full", batch_size=size),
                                   whole, rtol=0, atol=1e-12)


class LinearRecurrence(nn.Module):
    """``e_t = mean(x_t)``, ``h_t = a·h_{t-1} + e_t``, logits ``(h_T, −h_T)``: the per-frame protocol by hand.

    Records the frames every ``encode`` call is given, so a test can see what was recomputed.
    """

    frame_reach = 0

    def __init__(self, decay: float) -> None:
        super().__init__()
        self.decay = decay
        self.encoded: list[int] = []

    def encode(self, videos):
        return self.encode_from(videos, 0)

    def encode_from(self, videos, first):
        self.encoded.append(videos.shape[0] * (videos.shape[1] - first))
        return videos[:, first:].flatten(2).mean(2, keepdim=True)

    def recurrence_states(self, encodings):
        hidden, state = [], torch.zeros_like(encodings[:, 0, 0])
        for step in range(encodings.shape[1]):
            state = self.decay * state + encodings[:, step, 0]
            hidden.append(state[None, :, None])  # (layers = 1, B, hidden = 1)
        hidden = torch.stack(hidden)
        return hidden, torch.zeros_like(hidden)

    def head_from(self, encodings, states, first):
        state = torch.zeros_like(encodings[:, 0, 0]) if states is None else states[0][0, :, 0]
        for step in range(first, encodings.shape[1]):
            state = self.decay * state + encodings[:, step, 0]
        return torch.stack([state, -state], dim=1)

    def forward(self, videos):
        return self.head_from(self.encode(videos), None, 0)


def test_a_case_worked_by_hand():
    # Frames of 2×2 pixels, all 1, 2 and 3; decay 0.5: h = (1·0.5 + 2)·0.5 + 3 = 4.25.
    video = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64).view(3, 1, 1, 1).expand(3, 1, 2, 2).contiguous()
    model = LinearRecurrence(0.5).eval()
    assert supports(model)
    masks = block_masks(3, 2, 2, block_size=1, frames=[1, 2]).subset([0, 7])  # top-left of frame 1, bottom-right of 2
    model.encoded.clear()
    logits = masked_logits(model, video, masks, torch.zeros_like(video), batch_size=1)
    # Frame 1 loses a 2 of four: e_1 = 1.5, h = (0.5 + 1.5)·0.5 + 3 = 4.0.
    # Frame 2 loses a 3 of four: e_2 = 2.25, h = 2.5·0.5 + 2.25 = 3.5.
    torch.testing.assert_close(logits[:, 0], torch.tensor([4.0, 3.5], dtype=torch.float64), rtol=0, atol=1e-15)
    # The clean video (3 frames) encoded once, and once more by the model's own forward pass; the checks of
    # the split run the model on the video with its middle frame changed (3) and re-encode that frame (1);
    # then one frame per mask: not the whole video per mask.
    assert model.encoded == [3, 3, 3, 1, 1, 1]


def test_icalstm_attention_is_causal_and_forward_from_is_a_slice_of_forward():
    model = tiny("ica_lstm")
    encodings = torch.rand(2, FRAMES, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        whole = model.attention(encodings)
        for first in (0, 3, FRAMES - 1):
            torch.testing.assert_close(model.attention.forward_from(encodings, first), whole[:, first:], rtol=0, atol=0)
        changed = encodings.clone()
        changed[:, 4] += 1.0
        after = model.attention(changed)
    torch.testing.assert_close(after[:, :4], whole[:, :4], rtol=0, atol=0)  # steps before 4 do not see step 4
    assert float((after[:, 4:] - whole[:, 4:]).abs().min()) > 0


def test_time_contribution_takes_the_incremental_path_and_keeps_the_full_one():
    model, video = tiny("frame_lstm_differences_2_layers"), tiny_video()
    fast = time_contribution(model, video, window=2, baseline="blur")
    full = time_contribution(model, video, window=2, baseline="blur", engine="full")
    torch.testing.assert_close(fast.window_probability_drop, full.window_probability_drop, rtol=0, atol=1e-12)
    assert torch.equal(fast.masked_predictions, full.masked_predictions)


class WrongHead(LinearRecurrence):
    """Declares the protocol, but its ``head_from`` disagrees with its forward pass."""

    def forward(self, videos):
        return 2 * super().forward(videos)


def test_engines_are_chosen_and_refused_clearly():
    video = tiny_video(frames=4)
    masks = frame_masks(4, SIZE, SIZE)
    linear = LinearFrames(torch.ones(4, dtype=torch.float64)).eval()
    assert not supports(linear)
    auto = masked_logits(linear, video, masks, torch.zeros_like(video))  # auto: no engine applies, full
    torch.testing.assert_close(auto, masked_logits(linear, video, masks, torch.zeros_like(video), engine="full"))
    with pytest.raises(ConfigError, match="engine='incremental': no incremental engine supports LinearFrames"):
        masked_logits(linear, video, masks, torch.zeros_like(video), engine="incremental")
    with pytest.raises(ConfigError, match=r"engine='fast': choose one of \['auto', 'incremental', 'full'\]"):
        masked_logits(linear, video, masks, torch.zeros_like(video), engine="fast")
    wrong = WrongHead(0.5).eval()
    with pytest.raises(ConfigError, match="per-frame split does not reproduce its logits"):
        masked_logits(wrong, video, masks, torch.zeros_like(video), engine="incremental")
    with pytest.warns(UserWarning, match="falls back to engine='full'"):
        fallback = masked_logits(wrong, video, masks, torch.zeros_like(video))
    torch.testing.assert_close(fallback, wrong(apply_masks(video, masks, torch.zeros_like(video))))
    liar = tiny("frame_lstm_differences_2_layers")
    liar.__class__ = type("Liar", (type(liar),), {"frame_reach": 0})  # claims one frame per encoding: it reads two
    with pytest.raises(ConfigError, match=r"frame 2 changed \(is frame_reach=0 right\?\)"):
        IncrementalFrames(liar, video)
    training = tiny("frame_lstm").train()
    with pytest.raises(ConfigError, match="training mode"):
        IncrementalFrames(training, video)
    engine = IncrementalFrames(tiny("frame_lstm"), video)
    with pytest.raises(ConfigError, match="batch_size=0"):
        engine.masked_logits(masks, torch.zeros_like(video), batch_size=0)
    with pytest.raises(ConfigError, match="baseline: shape"):
        engine.masked_logits(masks, torch.zeros(3, 1, SIZE, SIZE, dtype=torch.float64))
    with pytest.raises(ConfigError, match="the masks are for"):
        engine.masked_logits(frame_masks(5, SIZE, SIZE), torch.zeros_like(video))
    with pytest.raises(ConfigError, match="first=4"):
        tiny("frame_lstm").head_from(torch.zeros(1, 4, 8, dtype=torch.float64), None, 4)


def test_superpixel_and_label_masks_take_the_incremental_path_too():
    model, video = tiny("ica_lstm"), tiny_video()
    labels = (torch.arange(SIZE)[:, None] // 3 + torch.arange(SIZE)[None, :] // 7).expand(FRAMES, SIZE, SIZE)
    masks = label_masks(labels, frames=[0, FRAMES - 1])
    values = baseline_video(video)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast = masked_logits(model, video, masks, values)
    torch.testing.assert_close(fast, masked_logits(model, video, masks, values, engine="full"), rtol=0, atol=1e-12)


def test_cache_size_is_read_from_sysfs_with_a_fallback(tmp_path):
    for index, (level, kind, size, shared) in enumerate(
            [(1, "Data", "32K", "0"), (1, "Instruction", "32K", "0"), (2, "Unified", "1024K", "0"),
             (3, "Unified", "32768K", "0-3")]):
        folder = tmp_path / f"index{index}"
        folder.mkdir()
        for name, value in (("level", level), ("type", kind), ("size", size), ("shared_cpu_list", shared)):
            (folder / name).write_text(f"{value}\n")
    assert cache_bytes(3, root=str(tmp_path)) == 8 * 2**20  # 32 MiB shared by 4 CPUs
    assert cache_bytes(2, root=str(tmp_path)) == 2**20
    assert cache_bytes(1, root=str(tmp_path)) == 32 * 2**10  # the data cache, not the instruction cache
    assert cache_bytes(3, root=str(tmp_path / "missing")) > 0  # sysconf or the documented fallback
    assert cache_masks_per_batch(2**20, cache=2**24, factor=1) == 16
    assert cache_masks_per_batch(2**20, cache=2**24, factor=2) == 32
    assert cache_masks_per_batch(2**26, cache=2**24) == 1
    with pytest.raises(ConfigError, match="bytes_per_mask=0"):
        cache_masks_per_batch(0)


def test_the_module_entry_point_is_the_engine():
    model, video = tiny("frame_lstm"), tiny_video()
    masks, values = border_masks(), baseline_video(video)
    torch.testing.assert_close(incremental.masked_logits(model, video, masks, values, batch_size=4),
                               IncrementalFrames(model, video).masked_logits(masks, values), rtol=0, atol=1e-12)


def test_with_frame_differences_a_mask_re_encodes_its_frame_and_the_next_only():
    model, video = tiny("frame_lstm_differences_2_layers"), tiny_video()
    engine = IncrementalFrames(model, video)
    seen: list[int] = []
    handle = model.encoder.register_forward_hook(lambda _module, inputs, _output: seen.append(inputs[0].shape[0]))
    try:
        engine.masked_logits(border_masks(), baseline_video(video), batch_size=1000)
    finally:
        handle.remove()
    # 16 blocks in each of frames 0, 3 and 6: frames 0-1 and 3-4 are encoded again (frame 2 is read as the
    # previous frame of 3's difference, not encoded), the last frame alone: 16·2 + 16·2 + 16·1 frames.
    assert sorted(seen) == [16, 32, 32]
