"""Resizing frames inside a model, so saliency maps keep the video's own shape.

A model is trained at a small frame size (say 60×80) for speed. Putting the
resize in the model rather than in the data means the model accepts a video at
any size, and a gradient or relevance map comes back at the size of the video
that was fed in.

The resize is bilinear with ``align_corners=False`` and no antialiasing, the
same as :meth:`vidsal_core.data.corpus.Corpus.dataset` with ``size=`` (and
``cv2.resize``), so a model sees the same pixels whether the corpus or the
model shrinks the frames. At KTH's 120×160 → 60×80 this is the mean of each
2×2 block. Each output pixel is a convex combination of input pixels, so the
resize's adjoint preserves sums: relevance passed back through it is conserved
(Bach et al., 2015).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from vidsal_core.errors import ConfigError


def check_frame_size(size: Sequence[int] | None, argument: str) -> tuple[int, int] | None:
    """Validate a ``(height, width)`` pair of positive integers (or ``None``).

    Parameters
    ----------
    size : sequence of two ints or None
        The frame size to check.
    argument : str
        The argument's name, used in the error message.
    """
    if size is None:
        return None
    try:
        height, width = (int(value) for value in size)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{argument}={size!r}: expected (height, width), two positive integers") from error
    if height < 1 or width < 1:
        raise ConfigError(f"{argument}={size!r}: height and width must be positive")
    return height, width


class FrameResize(nn.Module):
    """Resize every frame of ``(B, T, C, H, W)`` videos to ``size``.

    Parameters
    ----------
    size : (int, int) or None
        Target ``(height, width)``; ``None`` keeps the frames as they are.

    Notes
    -----
    Videos that already have the target size pass through untouched, so the
    module costs nothing when the data are prepared at the model's size.
    """

    def __init__(self, size: Sequence[int] | None) -> None:
        super().__init__()
        self.size = check_frame_size(size, "size")

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        """Return the videos with frames of the target size."""
        if self.size is None or tuple(videos.shape[-2:]) == self.size:
            return videos
        batch, time = videos.shape[:2]
        frames = videos.reshape(batch * time, *videos.shape[2:])
        resized = F.interpolate(frames, size=self.size, mode="bilinear", align_corners=False)
        return resized.reshape(batch, time, *resized.shape[1:])

    def extra_repr(self) -> str:
        return f"size={self.size}"


def check_videos(videos: torch.Tensor, channels: int, model_name: str) -> None:
    """Raise :class:`ConfigError` unless ``videos`` is ``(B, T, channels, H, W)``."""
    if videos.dim() != 5:
        raise ConfigError(
            f"{model_name}: videos must be (B, T, C, H, W), got a tensor of shape {tuple(videos.shape)}"
        )
    if videos.shape[2] != channels:
        raise ConfigError(
            f"{model_name}: expected {channels} channel(s) at dimension 2 of (B, T, C, H, W), "
            f"got shape {tuple(videos.shape)}"
        )
