"""Cutting fixed-length clips out of videos, as snippet-based models see them.

A clip is ``length`` frames taken ``step`` frames apart, starting at frame
``offset``: frames ``offset, offset + step, ..., offset + (length - 1) * step``.
``step = 1`` takes consecutive frames; ``step = 0`` repeats frame ``offset``
``length`` times, the first point of the step-size sweep of Anders et al.
(seed 002, Sec. 3.3: "the same frame repeated 16 times"). The clip then
covers a *span* of ``(length - 1) * step + 1`` frames of the video.

Spatially a clip is first resized (bilinear, ``align_corners=False``, no
antialiasing, like ``cv2.resize``) and then centre-cropped, the C3D
preprocessing order (resize to 128 x 171, crop 112 x 112).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from vidsal_core.errors import ClipError, ConfigError


def _check_integer(name: str, value: int, minimum: int) -> int:
    """``value`` as an int; ClipError naming ``name`` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ClipError(f"{name}={value!r} must be an integer >= {minimum}")
    if value < minimum:
        raise ClipError(f"{name}={value!r} must be >= {minimum}")
    return int(value)


def clip_span(length: int, step: int = 1) -> int:
    """Number of video frames a clip covers, first to last inclusive.

    Parameters
    ----------
    length : int
        Frames in the clip, at least 1.
    step : int, default 1
        Distance between consecutive clip frames, at least 0.

    Returns
    -------
    int
        ``(length - 1) * step + 1``.
    """
    length = _check_integer("length", length, 1)
    step = _check_integer("step", step, 0)
    return (length - 1) * step + 1


def clip_indices(n_frames: int, length: int, step: int = 1, offset: int = 0) -> np.ndarray:
    """Frame indices of a clip: ``offset, offset + step, ...``, ``length`` of them.

    Parameters
    ----------
    n_frames : int
        Frames in the video the clip is cut from.
    length : int
        Frames in the clip, at least 1.
    step : int, default 1
        Distance between consecutive clip frames; 1 is consecutive, 0 repeats
        frame ``offset``.
    offset : int, default 0
        Index (0-based) of the clip's first frame.

    Returns
    -------
    numpy.ndarray
        ``(length,)`` int64 indices into the video.

    Raises
    ------
    ClipError
        A bad argument, or a video too short for the clip.
    """
    n_frames = _check_integer("n_frames", n_frames, 0)
    offset = _check_integer("offset", offset, 0)
    span = clip_span(length, step)
    needed = offset + span
    if needed > n_frames:
        raise ClipError(
            f"a clip of length={length}, step={step}, offset={offset} needs {needed} frames "
            f"(frames {offset} to {needed - 1}), but the video has n_frames={n_frames}"
        )
    return offset + np.arange(length, dtype=np.int64) * step


def sliding_clips(n_frames: int, length: int, step: int = 1, stride: int | None = None) -> np.ndarray:
    """Start offsets of every clip that fits, sliding by ``stride`` frames.

    Parameters
    ----------
    n_frames : int
        Frames in the video.
    length : int
        Frames per clip.
    step : int, default 1
        Distance between consecutive frames within a clip.
    stride : int or None, default None
        Distance between the offsets of consecutive clips; ``None`` uses the
        clip's span, so clips tile the video without overlap.

    Returns
    -------
    numpy.ndarray
        ``(K,)`` int64 offsets ``0, stride, 2 * stride, ...``, each a valid
        ``offset`` for :func:`clip_indices`.

    Raises
    ------
    ClipError
        A bad argument, or a video shorter than one clip.
    """
    span = clip_span(length, step)
    stride = span if stride is None else _check_integer("stride", stride, 1)
    clip_indices(n_frames, length, step, 0)
    return np.arange(0, n_frames - span + 1, stride, dtype=np.int64)


def _check_size(name: str, size: Sequence[int]) -> tuple[int, int]:
    """Return ``size`` as an ``(H, W)`` pair of positive ints, or raise ConfigError."""
    if isinstance(size, (str, bytes)) or not isinstance(size, Sequence) or len(size) != 2:
        raise ConfigError(f"{name}={size!r} must be a pair (height, width)")
    for value in size:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name}={size!r} must hold two integers >= 1")
    return int(size[0]), int(size[1])


def _check_video_tensor(video: torch.Tensor) -> torch.Tensor:
    """Return ``video`` as a tensor, or raise ConfigError unless it is ``(T, C, H, W)`` floating point."""
    video = torch.as_tensor(video)
    if video.ndim != 4:
        raise ConfigError(f"video: expected shape (T, C, H, W), got {tuple(video.shape)}")
    if not video.is_floating_point():
        raise ConfigError(f"video: expected a floating-point tensor, got dtype {video.dtype}")
    return video


def resize_video(video: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Resize every frame to ``size`` with bilinear interpolation.

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)`` floating point.
    size : pair of int
        ``(height, width)`` of the output.

    Returns
    -------
    torch.Tensor
        ``(T, C, height, width)``; ``video`` itself when it already has that size.
    """
    video = _check_video_tensor(video)
    height, width = _check_size("size", size)
    if tuple(video.shape[-2:]) == (height, width):
        return video
    return F.interpolate(video, size=(height, width), mode="bilinear", align_corners=False)


def center_crop(video: torch.Tensor, crop: Sequence[int]) -> torch.Tensor:
    """Cut the central ``crop`` region out of every frame.

    When the margin is odd the extra row or column is dropped at the bottom or
    right: the crop starts at row ``(H - height) // 2``, column ``(W - width) // 2``.

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)``.
    crop : pair of int
        ``(height, width)`` of the output, at most ``(H, W)``.

    Returns
    -------
    torch.Tensor
        ``(T, C, height, width)``, a view of ``video``.
    """
    video = _check_video_tensor(video)
    height, width = _check_size("crop", crop)
    frame_height, frame_width = video.shape[-2:]
    if height > frame_height or width > frame_width:
        raise ClipError(
            f"crop={(height, width)} is larger than the frame, {frame_height}x{frame_width} (HxW)"
        )
    top = (frame_height - height) // 2
    left = (frame_width - width) // 2
    return video[..., top:top + height, left:left + width]


def resize_and_crop(
    video: torch.Tensor, size: Sequence[int] | None = None, crop: Sequence[int] | None = None
) -> torch.Tensor:
    """Resize to ``size`` (if given), then centre-crop to ``crop`` (if given)."""
    if size is not None:
        video = resize_video(video, size)
    if crop is not None:
        video = center_crop(video, crop)
    return video


def sample_clip(
    video: torch.Tensor,
    length: int,
    step: int = 1,
    offset: int = 0,
    size: Sequence[int] | None = None,
    crop: Sequence[int] | None = None,
) -> torch.Tensor:
    """Cut one clip out of a video: temporal sampling, then resize, then centre crop.

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)`` floating point.
    length : int
        Frames in the clip.
    step : int, default 1
        Distance between consecutive clip frames (0 repeats one frame).
    offset : int, default 0
        Index of the clip's first frame.
    size : pair of int or None, default None
        Resize frames to ``(height, width)`` with bilinear interpolation.
    crop : pair of int or None, default None
        Then keep the central ``(height, width)`` region.

    Returns
    -------
    torch.Tensor
        ``(length, C, height, width)``: frames ``video[clip_indices(T, length, step, offset)]``.

    Raises
    ------
    ClipError
        The video is too short for the clip, a temporal argument is out of
        range, or the crop is larger than the (resized) frame.
    """
    video = _check_video_tensor(video)
    indices = clip_indices(video.shape[0], length, step, offset)
    clip = video[torch.from_numpy(indices)]
    return resize_and_crop(clip, size, crop)


@dataclass(frozen=True)
class ClipSampling:
    """How a dataset turns a stored video into an item: clip, resize, crop.

    Attributes
    ----------
    clip_length : int or None
        Frames per item (``None``: the whole video or subsequence).
    step, offset : int
        Temporal sampling within the video or subsequence, as in
        :func:`~vidsal_core.data.clips.clip_indices`.
    size, crop : pair of int or None
        Bilinear resize, then centre crop.
    """

    clip_length: int | None = None
    step: int = 1
    offset: int = 0
    size: tuple[int, int] | None = None
    crop: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        """Check every field once, when a dataset is built."""
        if self.clip_length is not None:
            clip_span(self.clip_length, self.step)
            _check_integer("offset", self.offset, 0)
        elif (self.step, self.offset) != (1, 0):
            raise ConfigError(
                f"step={self.step!r}, offset={self.offset!r} apply only to clips; also give clip_length"
            )
        if self.size is not None:
            object.__setattr__(self, "size", _check_size("size", self.size))
        if self.crop is not None:
            object.__setattr__(self, "crop", _check_size("crop", self.crop))

    def apply(self, video: torch.Tensor) -> torch.Tensor:
        """Clip (if ``clip_length``), then resize and crop ``video``."""
        if self.clip_length is not None:
            return sample_clip(video, self.clip_length, self.step, self.offset, self.size, self.crop)
        return resize_and_crop(video, self.size, self.crop)
