"""C3D, the 3D convolutional network that seed 002 explains with deep Taylor / LRP.

Topology of Tran et al. (2015), "Learning Spatiotemporal Features with 3D
Convolutional Networks", ICCV: all kernels 3×3×3 with padding 1; conv1 64 →
pool1 (1, 2, 2); conv2 128 → pool2; conv3a/b 256 → pool3; conv4a/b 512 →
pool4; conv5a/b 512 → pool5 (padding (0, 1, 1)); fc6 4096, fc7 4096 with
dropout 0.5; fc8 classes. Input 16 frames at 112×112.

``width_multiplier`` scales every channel count and fully connected width
(1.0 is the paper's), and ``input_size`` sets the frame size, so the same
topology trains on a CPU at 1/8 width and 60×80 frames. ``bias=False`` builds
it without biases, so that LRP's conservation can be tested exactly (Montavon
et al., 2017). Every activation, pooling and flattening is a module, with the
names of the paper's layers, so Zennit can attach rules to them.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.models.resize import FrameResize, check_frame_size, check_videos

#: Output channels of the eight convolutions at width multiplier 1.0 (Tran et al., 2015).
C3D_CHANNELS: tuple[tuple[str, int], ...] = (
    ("conv1", 64), ("conv2", 128), ("conv3a", 256), ("conv3b", 256),
    ("conv4a", 512), ("conv4b", 512), ("conv5a", 512), ("conv5b", 512),
)
#: Width of fc6 and fc7 at width multiplier 1.0.
C3D_FC_WIDTH = 4096
#: Pooling after each of these convolutions: (kernel, stride, padding) per (T, H, W).
C3D_POOLS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    "conv1": ((1, 2, 2), (1, 2, 2), (0, 0, 0)),
    "conv2": ((2, 2, 2), (2, 2, 2), (0, 0, 0)),
    "conv3b": ((2, 2, 2), (2, 2, 2), (0, 0, 0)),
    "conv4b": ((2, 2, 2), (2, 2, 2), (0, 0, 0)),
    "conv5b": ((2, 2, 2), (2, 2, 2), (0, 1, 1)),
}


def scaled_width(width: int, width_multiplier: float) -> int:
    """``width × width_multiplier``, rounded, at least 1."""
    return max(1, int(round(width * width_multiplier)))


def pooled_extent(extent: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a max pool along one axis (floor mode)."""
    return (extent + 2 * padding - kernel) // stride + 1


def feature_shape(clip_length: int, input_size: Sequence[int]) -> tuple[int, int, int]:
    """``(T, H, W)`` after pool5 for clips of ``clip_length`` frames of ``input_size``.

    Raises
    ------
    ConfigError
        If the clip is too short or the frames too small to survive the five poolings.
    """
    extents = [clip_length, *input_size]
    for kernel, stride, padding in C3D_POOLS.values():
        extents = [pooled_extent(extent, k, s, p) for extent, k, s, p in zip(extents, kernel, stride, padding)]
        if min(extents) < 1:
            raise ConfigError(
                f"c3d clip_length={clip_length}, input_size={list(input_size)}: too small for C3D's "
                "five poolings (needs at least 16 frames of 16×16 pixels)"
            )
    return extents[0], extents[1], extents[2]


class C3D(nn.Module):
    """C3D with a width multiplier; ``(B, T, C, H, W)`` videos in [0, 1] → logits.

    Parameters
    ----------
    num_classes : int
        Number of classes.
    in_channels : int, default 1
        Channels of a frame (3 in the paper; 1 for grayscale KTH).
    clip_length : int, default 16
        Frames per snippet (16 in the paper). fc6's input size depends on it.
    input_size : (int, int), default (112, 112)
        Frame ``(height, width)`` the network runs at; frames of another size
        are resized inside the model.
    width_multiplier : float, default 1.0
        Scales all channel counts and fc widths (1.0 is the paper's).
    bias : bool, default True
        ``False`` removes every bias, for exact relevance conservation.
    dropout : float, default 0.5
        Dropout after fc6 and fc7 (0.5 in the paper).
    batch_norm : bool, default False
        Insert BatchNorm after every convolution (``bn1``, ``bn2``, ``bn3a``,
        ...), a common variant that trains from scratch much faster than the
        paper's plain network. For LRP, merge each BatchNorm into the
        convolution before it (Zennit's ``SequentialMergeBatchNorm``); the
        merged convolution has a bias even when ``bias=False``.
    """

    model_name = "c3d"

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 1,
        clip_length: int = 16,
        input_size: Sequence[int] = (112, 112),
        width_multiplier: float = 1.0,
        bias: bool = True,
        dropout: float = 0.5,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        size = check_frame_size(input_size, "input_size")
        if isinstance(width_multiplier, bool) or not isinstance(width_multiplier, (int, float)) or width_multiplier <= 0:
            raise ConfigError(f"width_multiplier={width_multiplier!r}: expected a positive number")
        if not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout={dropout!r}: expected a dropout probability in [0, 1)")
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels), ("clip_length", clip_length)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name}={value!r}: expected a positive integer")
        self.config: dict[str, Any] = {
            "num_classes": num_classes, "in_channels": in_channels, "clip_length": clip_length,
            "input_size": list(size), "width_multiplier": float(width_multiplier),
            "bias": bool(bias), "dropout": float(dropout), "batch_norm": bool(batch_norm),
        }
        self.resize = FrameResize(size)
        self.features = self._features()
        self.flatten = nn.Flatten()
        self.classifier = self._classifier()
        self._initialise()

    def _initialise(self) -> None:
        """He initialisation of every convolution and linear layer, zero biases.

        Without BatchNorm, PyTorch's default initialisation shrinks the signal
        at every one of the eleven layers, and C3D trained from scratch barely
        moves; He et al. (2015) keep its variance constant through ReLUs.
        """
        for module in self.modules():
            if isinstance(module, (nn.Conv3d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def _features(self) -> nn.Sequential:
        """The eight convolutions, their ReLUs and the five poolings."""
        config = self.config
        layers: list[tuple[str, nn.Module]] = []
        in_channels = config["in_channels"]
        for index, (name, width) in enumerate(C3D_CHANNELS):
            out_channels = scaled_width(width, config["width_multiplier"])
            layers.append((name, nn.Conv3d(in_channels, out_channels, 3, padding=1, bias=config["bias"])))
            if config["batch_norm"]:
                layers.append((f"bn{name[4:]}", nn.BatchNorm3d(out_channels)))
            layers.append((f"relu{name[4:]}", nn.ReLU()))
            if name in C3D_POOLS:
                kernel, stride, padding = C3D_POOLS[name]
                layers.append((f"pool{name[4]}", nn.MaxPool3d(kernel, stride=stride, padding=padding)))
            in_channels = out_channels
        return nn.Sequential(OrderedDict(layers))

    def _classifier(self) -> nn.Sequential:
        """fc6, fc7 (ReLU, dropout) and fc8."""
        config = self.config
        time, height, width = feature_shape(config["clip_length"], config["input_size"])
        channels = scaled_width(C3D_CHANNELS[-1][1], config["width_multiplier"])
        fc_width = scaled_width(C3D_FC_WIDTH, config["width_multiplier"])
        return nn.Sequential(OrderedDict([
            ("fc6", nn.Linear(channels * time * height * width, fc_width, bias=config["bias"])),
            ("relu6", nn.ReLU()),
            ("dropout6", nn.Dropout(config["dropout"])),
            ("fc7", nn.Linear(fc_width, fc_width, bias=config["bias"])),
            ("relu7", nn.ReLU()),
            ("dropout7", nn.Dropout(config["dropout"])),
            ("fc8", nn.Linear(fc_width, config["num_classes"], bias=config["bias"])),
        ]))

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)`` of ``(B, T, C, H, W)`` snippets in [0, 1]."""
        check_videos(videos, self.config["in_channels"], self.model_name)
        if videos.shape[1] != self.config["clip_length"]:
            raise ConfigError(
                f"c3d: built for clips of {self.config['clip_length']} frames, got {videos.shape[1]} "
                f"(shape {tuple(videos.shape)})"
            )
        volumes = self.resize(videos).transpose(1, 2)  # (B, C, T, H, W)
        return self.classifier(self.flatten(self.features(volumes)))
