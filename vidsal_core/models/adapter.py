"""Explain a video model you already have: an adapter to the library's input convention.

Every method of :mod:`vidsal_core.saliency` takes a model that maps clips
``(B, T, C, H, W)`` with values in [0, 1] to logits ``(B, classes)``, and
returns maps of the clips' shape, in the frames' own pixels. Most published
video networks (torchvision's ``r3d_18``, ``mc3_18``, ``r2plus1d_18`` and
``s3d``; PyTorchVideo's and MMAction2's recognisers) take ``(B, C, T, H, W)``
instead, normalised by a per-channel mean and standard deviation.
:func:`as_video_model` wraps such a network so that the library can explain it,
and the maps stay in the clip's pixels and value range::

    from torchvision.models.video import r3d_18
    from vidsal_core.models.adapter import as_video_model
    from vidsal_core.saliency.gradients import input_gradient

    model = as_video_model(r3d_18(weights=None).eval(), layout="BCTHW",
                           mean=(0.43216, 0.394666, 0.37645), std=(0.22803, 0.22145, 0.216989))
    saliency = input_gradient(model, clip)   # clip: (T, 3, H, W) in [0, 1]

The wrapper adds no parameters and changes no number the network computes: it
rescales the values (``value_range``), normalises them, and moves the channel
axis where the network wants it, all inside ``forward``, so gradients, masked
passes and relevance reach the clip itself. Grad-CAM finds its layer in any
wrapped network from the network's structure
(:func:`vidsal_core.saliency.gradcam.structural_layer`).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from vidsal_core.errors import ConfigError

#: The input layouts :func:`as_video_model` adapts: the library's own, and the channels-first one of most
#: published video networks.
LAYOUTS = ("BTCHW", "BCTHW")


def _per_channel(values: Sequence[float] | float | None, name: str, default: float) -> torch.Tensor:
    if values is None:
        values = [default]
    elif isinstance(values, (int, float)) and not isinstance(values, bool):
        values = [values]
    try:
        tensor = torch.as_tensor([float(value) for value in values], dtype=torch.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={values!r}: expected a number or one number per channel") from None
    if tensor.numel() == 0 or not torch.isfinite(tensor).all():
        raise ConfigError(f"{name}={values!r}: expected finite numbers, one per channel")
    return tensor


class Normalise(nn.Module):
    """The wrapper's value map, ``(x · (high − low) + low − mean) / std`` per channel of ``(B, T, C, H, W)`` clips.

    A module of its own so that relevance passes it unchanged (``relevance_pass_through``): deep Taylor's
    relevance of the network's input is the relevance of the clip's values, and still sums to the logit.
    """

    relevance_pass_through = True

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, low: float, high: float) -> None:
        super().__init__()
        self.low, self.high = low, high
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        channels = videos.shape[2]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if values.numel() not in (1, channels):
                raise ConfigError(f"{name}: {values.numel()} values for clips of {channels} channels")
        shape = (1, 1, -1, 1, 1)
        scaled = videos * (self.high - self.low) + self.low
        return (scaled - self.mean.to(videos).view(shape)) / self.std.to(videos).view(shape)


class VideoModel(nn.Module):
    """A video network behind the library's convention: ``(B, T, C, H, W)`` clips in [0, 1] → logits.

    Parameters
    ----------
    net : nn.Module
        The network, called on ``(B, C, T, H, W)`` (``layout="BCTHW"``) or ``(B, T, C, H, W)`` clips.
    layout : {"BCTHW", "BTCHW"}
        The network's own input layout.
    mean, std : float or sequence of float, optional
        The network's per-channel normalisation, applied after ``value_range``: ``(x − mean) / std``.
        None: none (0 and 1).
    value_range : (float, float), default (0, 1)
        The value range the network was trained on; the clip's [0, 1] is mapped onto it (``(0, 255)`` for
        networks fed raw bytes).

    Attributes
    ----------
    net : nn.Module
        The wrapped network, so its layers are ``net.<name>`` (e.g. ``net.layer4``).
    normalise : Normalise
        The value map in front of it (relevance passes it unchanged).
    model_name : None
        Wrapped networks carry no name of the library's models (C3D, I3D); :mod:`vidsal_core.saliency.gradcam`
        finds their layer from their structure.
    """

    model_name = None

    def __init__(self, net: nn.Module, layout: str = "BCTHW", mean: Sequence[float] | float | None = None,
                 std: Sequence[float] | float | None = None, value_range: Sequence[float] = (0.0, 1.0)) -> None:
        super().__init__()
        if not isinstance(net, nn.Module):
            raise ConfigError(f"net: expected a torch.nn.Module, got {type(net).__name__}")
        if layout not in LAYOUTS:
            raise ConfigError(f"layout={layout!r}: expected one of {list(LAYOUTS)} (the network's own input layout)")
        low_high = list(value_range) if isinstance(value_range, (list, tuple)) else None
        if (low_high is None or len(low_high) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                               for v in low_high) or not low_high[0] < low_high[1]):
            raise ConfigError(f"value_range={value_range!r}: expected (low, high) with low < high")
        mean_values, std_values = _per_channel(mean, "mean", 0.0), _per_channel(std, "std", 1.0)
        if (std_values <= 0).any():
            raise ConfigError(f"std={std!r}: expected positive numbers")
        if mean_values.numel() != std_values.numel() and 1 not in (mean_values.numel(), std_values.numel()):
            raise ConfigError(f"mean={mean!r}, std={std!r}: give as many values of each (one per channel), or one")
        self.normalise = Normalise(mean_values, std_values, float(low_high[0]), float(low_high[1]))
        self.net, self.layout = net, layout

    @property
    def relevance_input_bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The range of the network's input, per channel and in its layout: the clip's [0, 1] after the value
        map (deep Taylor's ZBox rule on the first layer, :func:`vidsal_core.saliency.lrp.relevance`)."""
        normalise = self.normalise
        ends = [(end - normalise.mean) / normalise.std for end in (normalise.low, normalise.high)]
        shape = (1, -1, 1, 1, 1) if self.layout == "BCTHW" else (1, 1, -1, 1, 1)
        dtype = next((parameter.dtype for parameter in self.net.parameters()), torch.float32)
        return torch.minimum(*ends).view(shape).to(dtype), torch.maximum(*ends).view(shape).to(dtype)

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        """``(B, T, C, H, W)`` clips in [0, 1] → the network's logits."""
        if videos.dim() != 5:
            raise ConfigError(f"videos: expected (B, T, C, H, W), got shape {tuple(videos.shape)}")
        normalised = self.normalise(videos)
        return self.net(normalised.transpose(1, 2) if self.layout == "BCTHW" else normalised)


def as_video_model(net: nn.Module, layout: str = "BCTHW", mean: Sequence[float] | float | None = None,
                   std: Sequence[float] | float | None = None,
                   value_range: Sequence[float] = (0.0, 1.0)) -> VideoModel:
    """Wrap ``net`` so that every method of :mod:`vidsal_core.saliency` can explain it (:class:`VideoModel`).

    The wrapper takes ``net``'s mode (call ``net.eval()`` first: the methods refuse a model in training mode).

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(4, 2))
    >>> model = as_video_model(net.eval(), layout="BCTHW", mean=(0.5, 0.5, 0.5), std=0.25)
    >>> model(torch.rand(2, 8, 3, 16, 16)).shape     # (B, T, C, H, W) in, logits out
    torch.Size([2, 2])
    """
    model = VideoModel(net, layout, mean, std, value_range)
    return model.train(net.training)
