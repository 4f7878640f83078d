"""The masking engine: masks known by hand, baselines, batching that changes nothing, bad input."""

from __future__ import annotations

import pytest
import torch

from _saliency_models import LinearFrames
from vidsal_core.errors import ConfigError
from vidsal_core.saliency.masking import (
    MaskSet,
    apply_masks,
    baseline_video,
    block_labels,
    block_masks,
    dataset_mean_frame,
    frame_masks,
    gaussian_blur,
    label_masks,
    masked_logits,
    masks_per_batch,
    superpixel_masks,
    window_masks,
)


def test_block_labels_cut_edge_blocks_short_like_the_seed_loops():
    labels = block_labels(5, 7, 3)
    expected = torch.tensor([
        [0, 0, 0, 1, 1, 1, 2],
        [0, 0, 0, 1, 1, 1, 2],
        [0, 0, 0, 1, 1, 1, 2],
        [3, 3, 3, 4, 4, 4, 5],
        [3, 3, 3, 4, 4, 4, 5],
    ])
    torch.testing.assert_close(labels, expected)
    assert block_labels(120, 160, 10).max() + 1 == 12 * 16


def test_block_masks_cover_each_pixel_of_a_frame_exactly_once():
    masks = block_masks(6, 16, 16, block_size=5, frames=[1, 4])
    assert len(masks) == 2 * 16 and masks.single_frame
    dense = masks.dense()  # (M, T, 1, H, W)
    assert dense.shape == (32, 6, 1, 16, 16)
    per_frame = dense.sum(dim=0)[:, 0]
    assert torch.all(per_frame[[1, 4]] == 1) and torch.all(per_frame[[0, 2, 3, 5]] == 0)
    torch.testing.assert_close(masks.spatial(), dense[torch.arange(32), masks.starts, 0])


def test_window_masks_cover_every_frame_including_a_short_tail():
    masks = window_masks(7, 2, 2, window=3, stride=2)
    assert masks.starts.tolist() == [0, 2, 4]
    assert masks.stops.tolist() == [3, 5, 7]
    assert not masks.single_frame
    assert frame_masks(5, 2, 2).starts.tolist() == [0, 1, 2, 3, 4]


def test_apply_masks_replaces_exactly_the_masked_values():
    video = torch.rand(4, 2, 6, 6)
    values = torch.full_like(video, -1.0)
    masks = block_masks(4, 6, 6, block_size=3, frames=[2])
    masked = apply_masks(video, masks, values, [3])
    expected = video.clone()
    expected[2, :, 3:6, 3:6] = -1.0
    torch.testing.assert_close(masked[0], expected)
    whole = apply_masks(video, window_masks(4, 6, 6, window=2), values, [1])[0]
    assert torch.all(whole[1:3] == -1) and torch.equal(whole[[0, 3]], video[[0, 3]])


def test_baselines():
    video = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert torch.all(baseline_video(video, "zero") == 0)
    assert torch.all(baseline_video(video, "first_element") == video[0, 0, 0, 0])
    assert torch.all(baseline_video(video, 0.25) == 0.25)
    mean_frame = torch.rand(1, 8, 8)
    torch.testing.assert_close(baseline_video(video, "mean", mean=mean_frame)[2], mean_frame)
    torch.testing.assert_close(baseline_video(video, "mean", mean=torch.tensor([0.5]))[1], torch.full((1, 8, 8), 0.5))
    flat = torch.full((2, 1, 8, 8), 0.3)
    torch.testing.assert_close(gaussian_blur(flat, 2.0), flat)
    blurred = baseline_video(video, "blur", blur_sigma=1.5)
    assert blurred.std() < video.std()
    torch.testing.assert_close(blurred.mean(), video.mean(), atol=0.05, rtol=0)


def test_dataset_mean_frame_averages_every_frame():
    class Items:
        videos = [torch.zeros(2, 1, 3, 3), torch.ones(4, 1, 3, 3)]

        def __len__(self):
            return 2

        def __getitem__(self, index):
            return type("Item", (), {"video": self.videos[index]})()

    torch.testing.assert_close(dataset_mean_frame(Items()), torch.full((1, 3, 3), 4 / 6))


def test_masked_logits_are_known_by_hand_and_do_not_depend_on_batch_size():
    weights = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    model = LinearFrames(weights).eval()
    video = torch.rand(4, 1, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    masks = frame_masks(4, 5, 5)
    logits = masked_logits(model, video, masks, baseline_video(video, "zero"), batch_size=1)
    full = float((video.flatten(1).mean(1) * weights).sum())
    expected = full - weights * video.flatten(1).mean(1)
    torch.testing.assert_close(logits[:, 0], expected)
    for size in (2, 3, 4):
        torch.testing.assert_close(masked_logits(model, video, masks, torch.zeros_like(video), batch_size=size), logits)
    assert masks_per_batch(model, video, max_batch_bytes=10**9) > masks_per_batch(model, video, max_batch_bytes=10**4)


def test_superpixels_partition_each_chosen_frame():
    video = torch.zeros(3, 1, 16, 16)
    video[:, :, :, 8:] = 1.0  # two flat halves: superpixels must not straddle the edge
    masks = superpixel_masks(video, n_segments=4, frames=[0, 2])
    assert set(masks.starts.tolist()) == {0, 2}
    dense = masks.dense()[:, :, 0]
    assert torch.all(dense.sum(0)[[0, 2]] == 1) and torch.all(dense.sum(0)[1] == 0)
    for spatial in masks.spatial():
        left, right = spatial[:, :8].any(), spatial[:, 8:].any()
        assert not (left and right)


def test_bad_masks_are_refused():
    with pytest.raises(ConfigError, match="block_size.*larger than the 16×16 frame"):
        block_masks(4, 16, 16, block_size=17)
    with pytest.raises(ConfigError, match="frames: empty"):
        block_masks(4, 16, 16, block_size=4, frames=[])
    with pytest.raises(ConfigError, match="outside the video's frames"):
        block_masks(4, 16, 16, block_size=4, frames=[4])
    with pytest.raises(ConfigError, match="empty"):
        MaskSet(4, 2, 2, torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long),
                torch.zeros(0, dtype=torch.long), None, "frames")
    with pytest.raises(ConfigError, match="window=5"):
        window_masks(4, 2, 2, window=5)
    with pytest.raises(ConfigError, match="labels"):
        label_masks(torch.zeros(4, 4))
    video = torch.rand(4, 1, 8, 8)
    with pytest.raises(ConfigError, match="the masks are for"):
        masked_logits(LinearFrames(torch.ones(4)).eval(), video, frame_masks(5, 8, 8), video)
    with pytest.raises(ConfigError, match="mean="):
        baseline_video(video, "mean")
    with pytest.raises(ConfigError, match="baseline='noise'"):
        baseline_video(video, "noise")
    nan_video = video.clone()
    nan_video[0, 0, 0, 0] = float("nan")
    with pytest.raises(ConfigError, match="video: holds 1 NaN"):
        baseline_video(nan_video)


def test_bytes_per_video_are_measured_once_per_model_and_shape_and_equal_a_fresh_measurement():
    from vidsal_core.saliency.masking import measure_bytes_per_video, model_bytes_per_video

    class Counting(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.calls = 0
            self.layer = torch.nn.Linear(2 * 4 * 4, 3)

        def forward(self, videos):
            self.calls += 1
            return self.layer(videos.flatten(1))

    model, video = Counting(), torch.rand(2, 1, 4, 4)
    first = model_bytes_per_video(model, video)
    assert model_bytes_per_video(model, video) == first == measure_bytes_per_video(model, video)
    assert model.calls == 2  # the cached call and the fresh measurement; the second cached call ran nothing
    assert first == video.numel() * 4 + 3 * 4  # input plus the linear layer's output, float32
    longer = torch.rand(2, 1, 4, 4, dtype=torch.float64)
    assert model_bytes_per_video(model.double(), longer) == longer.numel() * 8 + 3 * 8
    assert model_bytes_per_video(Counting(), video) == first  # another model is measured for itself
