"""Clip sampling: index arithmetic checked by hand, resize and crop, and every bad argument."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidsal_core.data.clips import (
    ClipSampling,
    center_crop,
    clip_indices,
    clip_span,
    resize_video,
    sample_clip,
    sliding_clips,
)
from vidsal_core.errors import ClipError, ConfigError


def counting_video(frames: int, height: int = 6, width: int = 8) -> torch.Tensor:
    """A gray video whose frame t has the constant value t / 100."""
    values = torch.arange(frames, dtype=torch.float32) / 100
    return values.view(frames, 1, 1, 1).expand(frames, 1, height, width).contiguous()


def coordinate_video(height: int = 6, width: int = 8) -> torch.Tensor:
    """One frame whose pixel (row, column) holds (row * width + column) / 100."""
    values = torch.arange(height * width, dtype=torch.float32) / 100
    return values.view(1, 1, height, width)


@pytest.mark.parametrize(
    "n_frames, length, step, offset, expected",
    [
        (10, 4, 1, 0, [0, 1, 2, 3]),
        (10, 3, 2, 1, [1, 3, 5]),
        (10, 4, 3, 0, [0, 3, 6, 9]),
        (10, 1, 5, 9, [9]),
        (10, 4, 0, 7, [7, 7, 7, 7]),
        (32, 16, 2, 1, list(range(1, 32, 2))),
    ],
)
def test_clip_indices_by_hand(n_frames, length, step, offset, expected):
    indices = clip_indices(n_frames, length, step, offset)
    assert indices.dtype == np.int64
    assert indices.tolist() == expected


def test_clip_span():
    assert clip_span(16, 1) == 16
    assert clip_span(16, 2) == 31
    assert clip_span(16, 0) == 1
    assert clip_span(1, 7) == 1


def test_too_short_names_everything():
    with pytest.raises(ClipError) as error:
        clip_indices(10, 4, step=3, offset=1)
    message = str(error.value)
    for part in ("n_frames=10", "length=4", "step=3", "offset=1", "needs 11 frames"):
        assert part in message


@pytest.mark.parametrize(
    "arguments, name",
    [
        ((10, 0, 1, 0), "length=0"),
        ((10, 4, -1, 0), "step=-1"),
        ((10, 4, 1, -1), "offset=-1"),
        ((10, 4, 1.5, 0), "step=1.5"),
        ((-1, 4, 1, 0), "n_frames=-1"),
    ],
)
def test_clip_indices_bad_arguments(arguments, name):
    with pytest.raises(ClipError, match=name):
        clip_indices(*arguments)


def test_sliding_clips_by_hand():
    assert sliding_clips(10, 4, step=1, stride=3).tolist() == [0, 3, 6]
    assert sliding_clips(10, 4, step=1).tolist() == [0, 4]
    assert sliding_clips(16, 4, step=2).tolist() == [0, 7]
    assert sliding_clips(10, 4, step=2, stride=1).tolist() == [0, 1, 2, 3]
    assert sliding_clips(4, 4).tolist() == [0]


def test_sliding_clips_every_offset_is_valid():
    for offset in sliding_clips(50, 5, step=3, stride=2):
        assert clip_indices(50, 5, 3, int(offset))[-1] < 50
    assert clip_indices(50, 5, 3, int(sliding_clips(50, 5, 3, 1)[-1]))[-1] == 49


def test_sliding_clips_errors():
    with pytest.raises(ClipError, match="n_frames=3"):
        sliding_clips(3, 4)
    with pytest.raises(ClipError, match="stride=0"):
        sliding_clips(10, 4, stride=0)


def test_sample_clip_takes_exact_frames():
    video = counting_video(40)
    clip = sample_clip(video, 16, step=2, offset=3)
    expected = (3 + 2 * torch.arange(16, dtype=torch.float32)) / 100
    assert clip.shape == (16, 1, 6, 8)
    assert torch.equal(clip[:, 0, 0, 0], expected)
    assert torch.equal(clip, expected.view(16, 1, 1, 1).expand(16, 1, 6, 8))


def test_sample_clip_step_zero_repeats_one_frame():
    clip = sample_clip(counting_video(20), 16, step=0, offset=5)
    assert torch.equal(clip, torch.full((16, 1, 6, 8), 0.05))


def test_sample_clip_too_short():
    with pytest.raises(ClipError, match="n_frames=20"):
        sample_clip(counting_video(20), 16, step=2)


def test_resize_shapes_and_constant_frames():
    video = counting_video(5)
    resized = resize_video(video, (9, 5))
    assert resized.shape == (5, 1, 9, 5)
    assert torch.allclose(resized, video[:, :, :1, :1].expand(5, 1, 9, 5))
    assert resize_video(video, (6, 8)) is video


def test_resize_halving_averages_blocks():
    video = coordinate_video(4, 6)
    half = resize_video(video, (2, 3))
    blocks = video.view(1, 1, 2, 2, 3, 2).mean(dim=(3, 5))
    assert torch.allclose(half, blocks)


def test_center_crop_takes_the_middle():
    video = coordinate_video(6, 8)
    crop = center_crop(video, (2, 4))
    assert torch.equal(crop, video[..., 2:4, 2:6])
    odd = center_crop(video, (3, 3))
    assert torch.equal(odd, video[..., 1:4, 2:5])


def test_sample_clip_resizes_then_crops():
    video = coordinate_video(4, 6).expand(3, 1, 4, 6)
    clip = sample_clip(video, 2, size=(8, 12), crop=(4, 4))
    assert clip.shape == (2, 1, 4, 4)
    assert torch.equal(clip, resize_video(video[:2], (8, 12))[..., 2:6, 4:8])


def test_crop_larger_than_frame():
    with pytest.raises(ClipError, match=r"crop=\(7, 4\).*6x8"):
        center_crop(coordinate_video(6, 8), (7, 4))
    with pytest.raises(ClipError, match="crop"):
        sample_clip(counting_video(4), 2, size=(4, 4), crop=(5, 5))


@pytest.mark.parametrize("size", [(0, 4), (4,), 4, "44", (2.5, 3)])
def test_bad_sizes(size):
    with pytest.raises(ConfigError, match="size"):
        resize_video(counting_video(2), size)


def test_bad_video_shapes():
    with pytest.raises(ConfigError, match="shape"):
        sample_clip(torch.zeros(5, 6, 8), 2)
    with pytest.raises(ConfigError, match="dtype"):
        sample_clip(torch.zeros(5, 1, 6, 8, dtype=torch.uint8), 2)


def test_clip_sampling_checks_and_applies():
    sampling = ClipSampling(clip_length=4, step=2, offset=1, size=[3, 4])
    assert sampling.size == (3, 4)
    clip = sampling.apply(counting_video(10))
    assert clip.shape == (4, 1, 3, 4)
    assert torch.allclose(clip[:, 0, 0, 0], torch.tensor([0.01, 0.03, 0.05, 0.07]))
    with pytest.raises(ConfigError, match="clip_length"):
        ClipSampling(offset=3)
    with pytest.raises(ClipError, match="step=-1"):
        ClipSampling(clip_length=4, step=-1)
