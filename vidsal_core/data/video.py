"""Reading and writing video files with OpenCV.

Every video leaves this module as a ``(T, C, H, W)`` float32 tensor in [0, 1]:
``C = 1`` for grayscale, ``C = 3`` for RGB (OpenCV decodes to BGR; we swap the
channels so that channel 0 is red everywhere in vidsal).

Frames are read sequentially (``grab`` to skip to ``start``, never a seek), so
the frame at index ``t`` is the same whatever the codec's seeking accuracy.
``write_video`` uses the lossless FFV1 codec by default, so a video written and
read back is bit-exact after quantisation to 8 bits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

import cv2
import numpy as np
import torch

from vidsal_core.errors import ClipError, ConfigError, VideoFileError, VideoNotFoundError

PathLike = Union[str, os.PathLike]

#: Codec ``write_video`` uses unless told otherwise: lossless, available in
#: opencv-python-headless's FFmpeg build, and stored in an ``.avi`` container.
DEFAULT_CODEC = "FFV1"


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """Turn uint8 frames into a video tensor.

    Parameters
    ----------
    frames : numpy.ndarray
        ``(T, H, W)`` or ``(T, H, W, C)`` uint8 with ``C`` in {1, 3}; channels
        in the order they should keep (RGB for colour).

    Returns
    -------
    torch.Tensor
        ``(T, C, H, W)`` float32, ``frames / 255``.
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise ConfigError(f"frames: expected dtype uint8, got {frames.dtype}")
    if frames.ndim == 3:
        frames = frames[..., np.newaxis]
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        raise ConfigError(
            f"frames: expected shape (T, H, W) or (T, H, W, C) with C in (1, 3), got {frames.shape}"
        )
    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)
    return video.to(torch.float32).div_(255.0)


def to_frames(video: torch.Tensor) -> np.ndarray:
    """Turn a video tensor into uint8 frames, the inverse of :func:`to_tensor`.

    Parameters
    ----------
    video : torch.Tensor or numpy.ndarray
        ``(T, C, H, W)`` with ``C`` in {1, 3}, values in [0, 1].

    Returns
    -------
    numpy.ndarray
        ``(T, H, W, C)`` uint8, ``round(video * 255)``.
    """
    video = torch.as_tensor(video)
    check_frames(video, "video")
    scaled = torch.round(video.detach().to(torch.float64) * 255.0)
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def check_frames(video: torch.Tensor, name: str = "video") -> None:
    """Raise :class:`ConfigError` unless ``video`` is a ``(T, C, H, W)`` float video in [0, 1].

    Parameters
    ----------
    video : torch.Tensor
        The tensor to check.
    name : str, default "video"
        How the error message names it.
    """
    if not isinstance(video, torch.Tensor):
        raise ConfigError(f"{name}: expected a torch.Tensor, got {type(video).__name__}")
    if video.ndim != 4 or video.shape[1] not in (1, 3):
        raise ConfigError(
            f"{name}: expected shape (T, C, H, W) with C in (1, 3), got {tuple(video.shape)}"
        )
    if not video.is_floating_point():
        raise ConfigError(f"{name}: expected a float tensor in [0, 1], got dtype {video.dtype}")
    if video.shape[0] == 0:
        raise ConfigError(f"{name}: has no frames (T = 0)")
    low, high = float(video.min()), float(video.max())
    if not (0.0 <= low and high <= 1.0):
        raise ConfigError(f"{name}: values must lie in [0, 1], found [{low:g}, {high:g}]")


def _check_exists(path: Path) -> None:
    """Raise VideoNotFoundError for a missing path, VideoFileError for a directory."""
    if not path.exists():
        raise VideoNotFoundError(f"{path}: no such video file")
    if path.is_dir():
        raise VideoFileError(f"{path}: is a directory, not a video file")


def _open_capture(path: Path) -> cv2.VideoCapture:
    """Open ``path`` with OpenCV or raise an error naming it."""
    _check_exists(path)
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise VideoFileError(
            f"{path}: OpenCV cannot open this file (not a video, corrupt, or an unsupported codec)"
        )
    return capture


def _declared_frames(capture: cv2.VideoCapture) -> int:
    """Frame count from the container header; 0 when the container does not say."""
    return max(int(round(capture.get(cv2.CAP_PROP_FRAME_COUNT))), 0)


def video_info(path: PathLike) -> dict[str, Any]:
    """Describe a video file without decoding its frames.

    Parameters
    ----------
    path : str or path-like
        Any file OpenCV can open.

    Returns
    -------
    dict
        ``frames`` (int, as the container header declares it; 0 when it does
        not say), ``fps`` (float), ``width`` and ``height`` (int, pixels).
    """
    path = Path(path)
    capture = _open_capture(path)
    try:
        info = {
            "frames": _declared_frames(capture),
            "fps": float(capture.get(cv2.CAP_PROP_FPS)),
            "width": int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            "height": int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        }
    finally:
        capture.release()
    if info["width"] <= 0 or info["height"] <= 0:
        raise VideoFileError(f"{path}: header gives no frame size ({info['width']}x{info['height']})")
    return info


def _check_read_arguments(path: Path, start: int, max_frames: int | None) -> None:
    """Reject a negative ``start`` or a ``max_frames`` below 1."""
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ClipError(f"{path}: start={start!r} must be an integer >= 0")
    if max_frames is not None and (
        isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer)) or max_frames < 1
    ):
        raise ClipError(f"{path}: max_frames={max_frames!r} must be None or an integer >= 1")


def _skip_frames(capture: cv2.VideoCapture, path: Path, start: int, declared: int) -> None:
    """Advance ``capture`` past its first ``start`` frames."""
    for index in range(start):
        if not capture.grab():
            if declared > index:
                raise VideoFileError(
                    f"{path}: decoding stopped at frame {index} of the {declared} frames its header "
                    "declares (corrupt or truncated file)"
                )
            raise ClipError(f"{path}: start={start} is beyond the end; the file has {index} frames")


def _decode_frames(capture: cv2.VideoCapture, max_frames: int | None) -> list[np.ndarray]:
    """Decode BGR frames until the end or until ``max_frames`` of them."""
    frames = []
    while max_frames is None or len(frames) < max_frames:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    return frames


def _read_bgr_frames(path: Path, start: int, max_frames: int | None) -> list[np.ndarray]:
    """Frames ``start`` to ``start + max_frames`` of ``path`` as BGR uint8, checked for shortfall."""
    capture = _open_capture(path)
    try:
        declared = _declared_frames(capture)
        if declared and start >= declared:
            raise ClipError(f"{path}: start={start} is beyond the end; the file has {declared} frames")
        _skip_frames(capture, path, start, declared)
        frames = _decode_frames(capture, max_frames)
    finally:
        capture.release()
    _check_frame_count(path, frames, start, max_frames, declared)
    return frames


def _check_frame_count(
    path: Path, frames: list[np.ndarray], start: int, max_frames: int | None, declared: int
) -> None:
    """Raise when fewer frames decoded than asked for and than the header declares."""
    expected = declared - start if declared else len(frames)
    if max_frames is not None:
        expected = min(expected, max_frames)
    if len(frames) < expected:
        advice = f"; pass max_frames={len(frames)} to read only the frames that decode" if frames else ""
        raise VideoFileError(
            f"{path}: decoded {len(frames)} frames from frame {start} on, but the header declares "
            f"{declared} frames in all (corrupt or truncated file){advice}"
        )
    if not frames:
        if start > 0:
            raise ClipError(f"{path}: start={start} is beyond the end; no frame decodes from there on")
        raise VideoFileError(f"{path}: holds no frames that OpenCV can decode")
    shapes = {frame.shape for frame in frames}
    if len(shapes) != 1:
        raise VideoFileError(f"{path}: frames change size within the file: {sorted(shapes)}")


def _is_gray(frames: np.ndarray) -> bool:
    """Whether ``(T, H, W, 3)`` frames hold equal values in all three channels."""
    return bool(
        np.array_equal(frames[..., 0], frames[..., 1]) and np.array_equal(frames[..., 0], frames[..., 2])
    )


def _convert_channels(frames: np.ndarray, grayscale: bool | None) -> np.ndarray:
    """``(T, H, W, 3)`` BGR frames to ``(T, H, W, 1)`` gray or ``(T, H, W, 3)`` RGB."""
    if grayscale is None:
        grayscale = _is_gray(frames)
    if grayscale:
        gray = np.stack([cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) for frame in frames])
        return gray[..., np.newaxis]
    return frames[..., ::-1]


def read_video(
    path: PathLike,
    grayscale: bool | None = None,
    max_frames: int | None = None,
    start: int = 0,
) -> torch.Tensor:
    """Read a video file into a ``(T, C, H, W)`` float32 tensor in [0, 1].

    Parameters
    ----------
    path : str or path-like
        Any file OpenCV can open (AVI, MP4, ...).
    grayscale : bool or None, default None
        ``True``: one channel, OpenCV's luma ``0.299 R + 0.587 G + 0.114 B``.
        ``False``: three channels, RGB order. ``None``: one channel when every
        decoded frame has equal R, G and B (gray footage such as KTH), else three.
    max_frames : int or None, default None
        Read at most this many frames; ``None`` reads to the end.
    start : int, default 0
        Index (0-based) of the first frame to return.

    Returns
    -------
    torch.Tensor
        ``(T, C, H, W)`` float32 in [0, 1], ``T <= max_frames``.

    Raises
    ------
    VideoNotFoundError
        ``path`` does not exist.
    VideoFileError
        OpenCV cannot open the file, it holds no decodable frame, or it decodes
        fewer frames than its header declares (corrupt or truncated).
    ClipError
        ``start`` is negative or at or beyond the last frame; ``max_frames < 1``.
    """
    path = Path(path)
    if grayscale not in (None, True, False):
        raise ConfigError(f"grayscale={grayscale!r}: expected None, True or False")
    _check_read_arguments(path, start, max_frames)
    frames = np.stack(_read_bgr_frames(path, int(start), max_frames))
    return to_tensor(_convert_channels(frames, grayscale))


def _check_writable(path: Path, video: torch.Tensor, fps: float, codec: str) -> None:
    """Raise ConfigError for arguments the OpenCV writer would silently get wrong."""
    check_frames(video, f"video for {path}")
    height, width = video.shape[-2:]
    if height % 2 or width % 2:
        raise ConfigError(
            f"{path}: frame size {height}x{width} (HxW) is odd; OpenCV's FFmpeg writer would crop it "
            "to even, so give even height and width"
        )
    if not fps > 0:
        raise ConfigError(f"{path}: fps={fps!r} must be positive")
    if not isinstance(codec, str) or len(codec) != 4:
        raise ConfigError(f"{path}: codec={codec!r} must be a four-character code such as 'FFV1'")


def write_video(path: PathLike, video: torch.Tensor, fps: float = 25, codec: str = DEFAULT_CODEC) -> Path:
    """Write a ``(T, C, H, W)`` video in [0, 1] to a file.

    Values are rounded to 8 bits. Grayscale videos (``C = 1``) are stored with
    three equal channels, which :func:`read_video` reads back as one channel.

    Parameters
    ----------
    path : str or path-like
        Output file; its parent directories are created. Use ``.avi`` with the
        default codec.
    video : torch.Tensor or numpy.ndarray
        ``(T, C, H, W)`` float in [0, 1], ``C`` in {1, 3} (RGB), even H and W.
    fps : float, default 25
        Frame rate stored in the header.
    codec : str, default "FFV1"
        FourCC of the codec. FFV1 is lossless; "MJPG" is lossy but widely readable.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    video = torch.as_tensor(video)
    _check_writable(path, video, fps, codec)
    frames = to_frames(video)
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_bgr_frames(path, frames[..., ::-1], fps, codec)
    _check_written(path, frames.shape)
    return path


def _write_bgr_frames(path: Path, frames: np.ndarray, fps: float, codec: str) -> None:
    """Hand ``(T, H, W, 3)`` BGR uint8 frames to an OpenCV writer."""
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), float(fps), (width, height), True)
    if not writer.isOpened():
        raise VideoFileError(f"{path}: OpenCV cannot write codec {codec!r} to this file")
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame))
    finally:
        writer.release()


def _check_written(path: Path, shape: tuple[int, ...]) -> None:
    """Read the header back and raise if it does not describe what was written."""
    info = video_info(path)
    written = (info["frames"], info["height"], info["width"])
    if written != tuple(shape[:3]):
        raise VideoFileError(
            f"{path}: wrote {shape[0]} frames of {shape[1]}x{shape[2]} but the file's header says "
            f"{written[0]} frames of {written[1]}x{written[2]}"
        )
