"""Video files: round trips through OpenCV, channel order, ranges, and every bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidsal_core.data.video import read_video, to_frames, to_tensor, video_info, write_video
from vidsal_core.errors import ClipError, ConfigError, VideoFileError, VideoNotFoundError

HEIGHT, WIDTH = 12, 16


def random_video(frames: int, channels: int, seed: int = 0) -> torch.Tensor:
    """A video of random 8-bit values, so that a lossless round trip is exact."""
    generator = np.random.default_rng(seed)
    values = generator.integers(0, 256, size=(frames, channels, HEIGHT, WIDTH), dtype=np.uint8)
    return torch.from_numpy(values).float() / 255


def ramp_video(frames: int) -> torch.Tensor:
    """A gray video whose frame t has the constant value 8 t / 255."""
    values = 8.0 * torch.arange(frames, dtype=torch.float32) / 255
    return values.view(frames, 1, 1, 1).expand(frames, 1, HEIGHT, WIDTH).contiguous()


def test_rgb_round_trip_is_exact(tmp_path):
    video = random_video(10, 3)
    path = write_video(tmp_path / "rgb.avi", video)
    read = read_video(path, grayscale=False)
    assert read.dtype == torch.float32
    assert read.shape == (10, 3, HEIGHT, WIDTH)
    assert torch.equal(read, video)


def test_gray_round_trip_is_exact_and_detected(tmp_path):
    video = random_video(6, 1)
    path = write_video(tmp_path / "gray.avi", video)
    assert torch.equal(read_video(path), video)
    assert torch.equal(read_video(path, grayscale=True), video)
    three = read_video(path, grayscale=False)
    assert three.shape == (6, 3, HEIGHT, WIDTH)
    assert torch.equal(three, video.expand(6, 3, HEIGHT, WIDTH))


def test_channel_zero_is_red(tmp_path):
    video = torch.zeros(2, 3, HEIGHT, WIDTH)
    video[:, 0] = 1.0
    read = read_video(write_video(tmp_path / "red.avi", video))
    assert read.shape[1] == 3
    assert torch.equal(read, video)


def test_grayscale_of_colour_is_luma(tmp_path):
    video = random_video(3, 3, seed=1)
    gray = read_video(write_video(tmp_path / "colour.avi", video), grayscale=True)
    luma = 0.299 * video[:, 0] + 0.587 * video[:, 1] + 0.114 * video[:, 2]
    assert gray.shape == (3, 1, HEIGHT, WIDTH)
    assert torch.allclose(gray[:, 0], luma, atol=1 / 255 + 1e-6)


def test_mjpg_round_trip_within_jpeg_error(tmp_path):
    video = ramp_video(8)
    read = read_video(write_video(tmp_path / "ramp_mjpg.avi", video, codec="MJPG"))
    assert read.shape == video.shape
    assert float((read - video).abs().max()) <= 2 / 255


def test_start_and_max_frames_select_frames(tmp_path):
    video = ramp_video(20)
    path = write_video(tmp_path / "ramp.avi", video)
    assert torch.equal(read_video(path, start=5, max_frames=3), video[5:8])
    assert torch.equal(read_video(path, start=17), video[17:])
    assert torch.equal(read_video(path, max_frames=100), video)


def test_video_info_reads_header(tmp_path):
    path = write_video(tmp_path / "info.avi", ramp_video(14), fps=10)
    assert video_info(path) == {"frames": 14, "fps": 10.0, "width": WIDTH, "height": HEIGHT}


def test_to_tensor_and_to_frames_are_inverse():
    frames = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
    video = to_tensor(frames)
    assert video.shape == (2, 3, 3, 4)
    assert float(video[1, 2, 0, 3]) == pytest.approx(frames[1, 0, 3, 2] / 255)
    assert np.array_equal(to_frames(video), frames)
    assert to_tensor(frames[..., 0]).shape == (2, 1, 3, 4)


def test_to_tensor_rejects_other_dtypes_and_shapes():
    with pytest.raises(ConfigError, match="uint8"):
        to_tensor(np.zeros((2, 3, 4), dtype=np.float32))
    with pytest.raises(ConfigError, match="shape"):
        to_tensor(np.zeros((2, 3, 4, 2), dtype=np.uint8))


def test_missing_file_names_path(tmp_path):
    path = tmp_path / "absent.avi"
    with pytest.raises(VideoNotFoundError, match="absent.avi"):
        read_video(path)
    with pytest.raises(VideoNotFoundError, match="absent.avi"):
        video_info(path)


def test_garbage_file_names_path(tmp_path):
    path = tmp_path / "garbage.avi"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(VideoFileError, match="garbage.avi"):
        read_video(path)
    with pytest.raises(VideoFileError, match="garbage.avi"):
        video_info(path)


def test_directory_is_not_a_video(tmp_path):
    with pytest.raises(VideoFileError, match="directory"):
        read_video(tmp_path)


def test_truncated_file_is_an_error(tmp_path):
    path = write_video(tmp_path / "whole.avi", random_video(20, 3, seed=2))
    data = path.read_bytes()
    truncated = tmp_path / "truncated.avi"
    truncated.write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(VideoFileError, match="truncated.avi"):
        read_video(truncated)


def test_zero_frame_file(tmp_path):
    import cv2

    path = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 25, (WIDTH, HEIGHT), True)
    writer.release()
    with pytest.raises(VideoFileError, match="empty.avi.*no frames"):
        read_video(path)


def test_start_beyond_end_names_file(tmp_path):
    path = write_video(tmp_path / "short.avi", ramp_video(5))
    with pytest.raises(ClipError, match=r"short.avi.*start=5.*5 frames"):
        read_video(path, start=5)
    with pytest.raises(ClipError, match="start=-1"):
        read_video(path, start=-1)
    with pytest.raises(ClipError, match="max_frames=0"):
        read_video(path, max_frames=0)


@pytest.mark.parametrize(
    "video, problem",
    [
        (torch.zeros(3, HEIGHT, WIDTH), "shape"),
        (torch.zeros(2, 2, HEIGHT, WIDTH), "shape"),
        (torch.full((2, 1, HEIGHT, WIDTH), 1.5), r"\[0, 1\]"),
        (torch.zeros(2, 1, HEIGHT, WIDTH, dtype=torch.uint8), "float"),
        (torch.zeros(2, 1, 11, WIDTH), "odd"),
    ],
)
def test_write_rejects_bad_video(tmp_path, video, problem):
    with pytest.raises(ConfigError, match=problem):
        write_video(tmp_path / "bad.avi", video)
    assert not (tmp_path / "bad.avi").exists()


def test_write_rejects_bad_fps_and_codec(tmp_path):
    with pytest.raises(ConfigError, match="fps"):
        write_video(tmp_path / "a.avi", ramp_video(2), fps=0)
    with pytest.raises(ConfigError, match="codec"):
        write_video(tmp_path / "a.avi", ramp_video(2), codec="FFV")
