"""Incremental masked inference for 3-D CNNs (C3D, I3D): recompute only the cone a mask reaches.

A mask that replaces one block of one frame changes, at each convolution or
pooling layer, only the outputs whose window touches the changed input: a
box in ``(T, H, W)`` that grows by the kernel's reach and shrinks by the
stride, layer after layer (a cone). Krypton (Nakandala, Kumar &
Papakonstantinou, 2019) calls the reuse of the unchanged activations
*incremental view maintenance*: run the clean video once and cache every
layer's input; for each masked copy, recompute at each layer only the output
box, from the cached clean input with the changed box patched in, and keep the
clean activations everywhere else. The result is exact: a position outside
the box sees exactly the clean inputs, so its value is the clean one.

How one layer is maintained, for a batch of masks (:class:`Window`):

1. every mask's changed input box ``[a, a + n)`` (per axis) gives the outputs
   ``o`` whose window ``[o s − p, o s − p + d (k − 1)]`` meets it, clipped to
   the output's extent; the boxes of a batch are enlarged to one common length
   (recomputing an unchanged position is harmless), so a whole batch is one
   tensor and one convolution;
2. the input tile those outputs read is gathered from the clean input, padded
   once as the layer pads (zeros for convolutions, ``-inf`` for max pooling,
   TensorFlow's asymmetric "SAME" padding for I3D, extra ``-inf`` on the right
   for ``ceil_mode``), and the changed values are scattered into it;
3. the layer's own operation runs on the tile with no padding, with its
   stride, dilation and groups.

BatchNorm in eval mode, ReLU and I3D's input rescaling act value by value and
keep the box. An Inception module runs its four branches on the same box and
re-boxes their outputs onto the union of their boxes (clean values gathered
from the cached branch outputs) before concatenating them. From the first
layer that mixes every position (C3D's ``fc6``, I3D's average pool and
classifier) on, the full activation of each mask is assembled (clean copy,
box scattered in) and the model's own head runs normally.

The models are walked through an explicit description of their layer graph
(:func:`layer_graph`: C3D a chain named by :data:`~vidsal_core.models.c3d.C3D_CHANNELS`
and :data:`~vidsal_core.models.c3d.C3D_POOLS`, I3D its stem and Inception
modules named by :data:`~vidsal_core.models.i3d.INCEPTION_WIDTHS`); a module
of another type, or a graph that differs from the description, is refused
with a :class:`~vidsal_core.errors.ConfigError` that names it.

Masks are sorted by the shape and frame of their input box before they are
cut into batches, so that the masks of one batch have cones of the same shape
and the enlargement to a common box costs nothing except at the borders.

The slow twin is full re-inference, :func:`masked_logits_reference`
(``model(apply_masks(...))``); the tests show float64 equality, batch-size
invariance and a hand-worked case.

Gradients (TSR)
---------------
Temporal Saliency Rescaling needs ``|∂y/∂x|`` at every masked input, and the
backward pass can reuse nothing of the clean video exactly: the gradient that
reaches the convolutions, ``∂y/∂pool5``, depends on the ReLU pattern of
``fc6`` and ``fc7`` and on every pool5 value, which the mask changes, so it
differs everywhere, and the transposed convolutions must then run over every
whole map for every mask. Only the forward half of each masked attribution
could be maintained incrementally. Measured on the default C3D (16×60×80,
1/8 width, BatchNorm, untrained; one thread, load average 7–10;
``bench/bench_incremental_cnn.py --tasks c3d_tsr``): two-step TSR with the
batched engine took 27.6 s, of which its 353 masked forward passes alone take
9.2 s (33 %); incremental, those forward passes take 2.5 s, so replacing them
bounds TSR's speed-up at 27.6 / (27.6 − 9.2 + 2.5) = 1.32×, far from the 3×
goal. The TSR engine therefore keeps its batched forward and backward passes
for C3D and I3D. What could be reused in principle is the clean backward
operator from pool5 to the input (a 384 × 76,800 Jacobian for the default
C3D, 118 MB in float32) together with a backward cone correction where the
mask changed the ReLU and max-pool patterns; that is not built here.

References
----------
Nakandala, S., Kumar, A. and Papakonstantinou, Y. (2019). Incremental and
approximate inference for faster occlusion-based deep CNN explanations.
SIGMOD, 1589–1606.
"""

from __future__ import annotations

import abc

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from vidsal_core.errors import ConfigError
from vidsal_core.models.c3d import C3D, C3D_CHANNELS, C3D_POOLS
from vidsal_core.models.i3d import (
    INCEPTION_WIDTHS,
    InceptionI3d,
    InceptionModule,
    InputRescale,
    SamePadConv3d,
    SamePadMaxPool3d,
    Unit3D,
    same_padding,
)
from vidsal_core.saliency.checks import check_eval_mode, check_finite
from vidsal_core.saliency.masking import MaskSet, apply_masks, batches

#: Masks maintained together by default. On the default C3D at one thread
#: (10×10 blocks, 768 masks, load average 6–7) 16, 32 and 64 masks per batch
#: took 4.8, 4.5 and 4.1 s (whole frames: 0.35, 0.31, 0.34 s); 32 keeps one
#: batch's tiles of the I3D stem within a few tens of MiB. Results do not depend on it.
DEFAULT_BATCH_SIZE = 32


# ---------------------------------------------------------------------------
# Boxes
# ---------------------------------------------------------------------------

@dataclass
class Box:
    """Changed values of a batch of masks: ``values`` ``(B, C, *lengths)`` at ``starts`` ``(B, 3)`` of a ``(T, H, W)`` map."""

    values: torch.Tensor
    starts: torch.Tensor
    extent: tuple[int, int, int]

    @property
    def lengths(self) -> tuple[int, int, int]:
        return tuple(int(length) for length in self.values.shape[2:])


def _flat_positions(starts: torch.Tensor, lengths: Sequence[int], sizes: Sequence[int]) -> torch.Tensor:
    """``(B, l_t, l_h, l_w)`` flat positions in a ``sizes`` map of the windows at ``starts`` ``(B, 3)``."""
    flat = torch.zeros((), dtype=torch.long, device=starts.device)
    for axis in range(3):
        shape = [starts.shape[0], 1, 1, 1]
        shape[axis + 1] = lengths[axis]
        position = (starts[:, axis, None] + torch.arange(lengths[axis], device=starts.device)).view(shape)
        flat = flat * int(sizes[axis]) + position
    return flat


def _gather(source: torch.Tensor, starts: torch.Tensor, lengths: Sequence[int]) -> torch.Tensor:
    """``(B, C, *lengths)`` windows of ``source`` ``(C, T, H, W)`` starting at ``starts`` ``(B, 3)``."""
    channels, batch = source.shape[0], starts.shape[0]
    flat = _flat_positions(starts, lengths, source.shape[1:]).reshape(-1).to(source.device)
    tiles = source.reshape(channels, -1).index_select(1, flat)
    return tiles.view(channels, batch, *lengths).transpose(0, 1)


def _scatter(tiles: torch.Tensor, values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Write ``values`` ``(B, C, *l)`` into ``tiles`` ``(B, C, *L)`` at ``offsets`` ``(B, 3)``, dropping what falls outside."""
    batch, channels = tiles.shape[:2]
    sizes, lengths = tiles.shape[2:], values.shape[2:]
    offsets = offsets.to(tiles.device)
    flat = torch.zeros((), dtype=torch.long, device=tiles.device)
    inside = torch.ones((), dtype=torch.bool, device=tiles.device)
    for axis in range(3):
        position = offsets[:, axis, None] + torch.arange(lengths[axis], device=tiles.device)  # (B, l)
        shape = [batch, 1, 1, 1]
        shape[axis + 1] = lengths[axis]
        position = position.view(shape)
        inside = inside & (position >= 0) & (position < sizes[axis])
        flat = flat * sizes[axis] + position
    volume = sizes[0] * sizes[1] * sizes[2]
    index = torch.where(inside, flat, volume).reshape(batch, 1, -1).expand(batch, channels, -1)
    out = torch.cat([tiles.reshape(batch, channels, volume), tiles.new_zeros(batch, channels, 1)], dim=2)
    out.scatter_(2, index, values.reshape(batch, channels, -1))
    return out[:, :, :volume].reshape(tiles.shape)


def _whole(box: Box) -> bool:
    """Whether the box covers the whole map (every mask of the batch has reached every position)."""
    return box.lengths == tuple(box.extent)


def _common_box(first: torch.Tensor, last: torch.Tensor, extent: Sequence[int]) -> tuple[torch.Tensor, list[int]]:
    """Starts ``(B, 3)`` and one common length per axis covering ``[first, last]`` of every mask, inside ``extent``."""
    lengths, starts = [], []
    for axis in range(3):
        size = int(extent[axis])
        length = min(size, max(1, int((last[:, axis] - first[:, axis] + 1).max())))
        starts.append(torch.minimum(first[:, axis].clamp(0, size - 1), torch.tensor(size - length)))
        lengths.append(length)
    return torch.stack(starts, dim=1), lengths


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------

class Layer(abc.ABC):
    """One node of a layer graph (an interface: :class:`Pointwise`, :class:`Window`, :class:`Branches`)."""

    name: str

    @abc.abstractmethod
    def clean(self, features: torch.Tensor, cache: dict) -> torch.Tensor:
        """Run the node on the clean video's features, caching what :meth:`update` needs."""

    @abc.abstractmethod
    def update(self, box: Box, cache: dict) -> Box:
        """The node's output on the region a mask changed, from the changed input ``box`` and the cache."""


@dataclass
class Pointwise(Layer):
    """A value-by-value map (eval BatchNorm, ReLU, rescaling): the box stays."""

    name: str
    function: Callable[[torch.Tensor], torch.Tensor]

    def clean(self, features, cache):
        return self.function(features)

    def update(self, box, cache):
        return Box(self.function(box.values), box.starts, box.extent)


@dataclass
class Window(Layer):
    """A convolution or pooling over ``(T, H, W)`` windows, maintained on the box its changed inputs reach.

    ``padding`` is ``None`` for TensorFlow "SAME" padding (computed from the
    input's extent), else ``(before, after)`` per axis ``(T, H, W)``; ``operation``
    runs the layer on an already padded tile.
    """

    name: str
    kernel: tuple[int, int, int]
    stride: tuple[int, int, int]
    dilation: tuple[int, int, int]
    padding: tuple[tuple[int, int], ...] | None
    pad_value: float
    ceil_mode: bool
    operation: Callable[[torch.Tensor], torch.Tensor]

    def geometry(self, extent: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
        """``(pad_before, pad_after, output extent)`` per axis; ``pad_after`` covers ``ceil_mode``'s last window."""
        before, after, output = [], [], []
        for axis, size in enumerate(extent):
            kernel, stride, dilation = self.kernel[axis], self.stride[axis], self.dilation[axis]
            reach = dilation * (kernel - 1)
            if self.padding is None:
                low, high = same_padding(int(size), kernel, stride)
            else:
                low, high = self.padding[axis]
            span = size + low + high - reach - 1
            count = (-(-span // stride) if self.ceil_mode else span // stride) + 1
            if self.ceil_mode and (count - 1) * stride >= size + low:
                count -= 1  # PyTorch: the last window must start inside the input or the left padding
            if count < 1:
                raise ConfigError(f"incremental_cnn: layer {self.name} gets an input of extent {list(extent)}, "
                                  f"smaller than its window")
            before.append(low)
            after.append(max(high, (count - 1) * stride + reach + 1 - size - low))
            output.append(count)
        return before, after, output

    def clean(self, features, cache):
        before, after, output = self.geometry(features.shape[2:])
        padded = F.pad(features, (before[2], after[2], before[1], after[1], before[0], after[0]), value=self.pad_value)
        cache[id(self)] = (padded[0], before, output)
        return self.operation(padded)

    def update(self, box, cache):
        padded, before, output = cache[id(self)]
        reach = torch.tensor([d * (k - 1) for d, k in zip(self.dilation, self.kernel)])
        stride, low = torch.tensor(self.stride), torch.tensor(before)
        lengths = torch.tensor(box.lengths)
        first = torch.div(box.starts + low - reach + stride - 1, stride, rounding_mode="floor")
        last = torch.div(box.starts + lengths - 1 + low, stride, rounding_mode="floor")
        first = torch.maximum(first, torch.zeros_like(first))
        last = torch.minimum(last, torch.tensor(output) - 1)
        starts, out_lengths = _common_box(first, last, output)
        tile_starts = starts * stride  # in padded coordinates
        tile_lengths = [(n - 1) * s + r + 1 for n, s, r in zip(out_lengths, self.stride, reach.tolist())]
        if _whole(box) and out_lengths == output:  # the cone has covered the map: pad the batch itself
            high = [size - length - pad for size, length, pad in zip(padded.shape[1:], box.lengths, before)]
            tiles = F.pad(box.values, (before[2], high[2], before[1], high[1], before[0], high[0]),
                          value=self.pad_value)
        else:
            tiles = _gather(padded, tile_starts, tile_lengths)
            tiles = _scatter(tiles, box.values, box.starts + low - tile_starts)
        return Box(self.operation(tiles), starts, tuple(output))


@dataclass
class Branches(Layer):
    """Parallel chains on one input, concatenated along channels (an Inception module)."""

    name: str
    chains: list[list[Layer]]

    def clean(self, features, cache):
        outputs = [run_clean(chain, features, cache) for chain in self.chains]
        cache[id(self)] = [output[0] for output in outputs]
        return torch.cat(outputs, dim=1)

    def update(self, box, cache):
        boxes = [run_update(chain, box, cache) for chain in self.chains]
        extent = boxes[0].extent
        lengths = torch.tensor([list(part.lengths) for part in boxes])  # (branches, 3)
        first = torch.stack([part.starts for part in boxes]).amin(0)
        last = torch.stack([part.starts + length - 1 for part, length in zip(boxes, lengths)]).amax(0)
        starts, common = _common_box(first, last, extent)
        parts = [part.values if _whole(part) else _scatter(_gather(clean, starts, common), part.values, part.starts - starts)
                 for clean, part in zip(cache[id(self)], boxes)]
        return Box(torch.cat(parts, dim=1), starts, extent)


def run_clean(chain: Sequence[Layer], features: torch.Tensor, cache: dict) -> torch.Tensor:
    """The chain on ``(1, C, T, H, W)`` clean features, caching what :func:`run_update` needs."""
    for layer in chain:
        features = layer.clean(features, cache)
    return features


def run_update(chain: Sequence[Layer], box: Box, cache: dict) -> Box:
    """The chain maintained on a batch's changed boxes."""
    for layer in chain:
        box = layer.update(box, cache)
    return box


# ---------------------------------------------------------------------------
# From modules to layers
# ---------------------------------------------------------------------------

def _unsupported(name: str, module: nn.Module, why: str) -> ConfigError:
    return ConfigError(f"incremental_cnn: module {name!r} ({type(module).__name__}) {why}; "
                       "use engine='full' for this model")


def _conv_layer(name: str, conv: nn.Conv3d) -> Window:
    if conv.padding_mode != "zeros":
        raise _unsupported(name, conv, f"pads with {conv.padding_mode!r}; only zero padding is maintained")
    if isinstance(conv, SamePadConv3d):
        padding = None
    elif conv.padding == "valid":
        padding = ((0, 0),) * 3
    elif conv.padding == "same":  # PyTorch puts the odd pixel after the data
        padding = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                        for d, k in zip(conv.dilation, conv.kernel_size))
    else:
        padding = tuple((p, p) for p in conv.padding)
    if padding is None and any(d != 1 for d in conv.dilation):
        raise _unsupported(name, conv, "combines 'SAME' padding with dilation")

    def operation(tiles: torch.Tensor) -> torch.Tensor:
        return F.conv3d(tiles, conv.weight, conv.bias, conv.stride, 0, conv.dilation, conv.groups)

    return Window(name, tuple(conv.kernel_size), tuple(conv.stride), tuple(conv.dilation), padding, 0.0, False,
                  operation)


def _pool_layer(name: str, pool: nn.Module) -> Window:
    kernel = _triple(pool.kernel_size)
    stride = _triple(pool.stride if pool.stride is not None else pool.kernel_size)
    if isinstance(pool, nn.MaxPool3d):
        if pool.return_indices:
            raise _unsupported(name, pool, "returns indices")
        dilation = _triple(pool.dilation)
        padding = None if isinstance(pool, SamePadMaxPool3d) else tuple((p, p) for p in _triple(pool.padding))
        if isinstance(pool, SamePadMaxPool3d) and (any(d != 1 for d in dilation) or pool.ceil_mode):
            raise _unsupported(name, pool, "combines 'SAME' padding with dilation or ceil_mode")
        return Window(name, kernel, stride, dilation, padding, -math.inf, bool(pool.ceil_mode),
                      lambda tiles: F.max_pool3d(tiles, kernel, stride, 0, dilation))
    if type(pool) is nn.AvgPool3d:
        padding = tuple((p, p) for p in _triple(pool.padding))
        if pool.ceil_mode or pool.divisor_override is not None or (any(map(any, padding)) and not pool.count_include_pad):
            raise _unsupported(name, pool, "averages with ceil_mode, divisor_override or count_include_pad=False; "
                               "only fixed-divisor windows are maintained")
        return Window(name, kernel, stride, (1, 1, 1), padding, 0.0, False,
                      lambda tiles: F.avg_pool3d(tiles, kernel, stride, 0))
    raise _unsupported(name, pool, "is not a pooling layer this engine maintains")


def _triple(value) -> tuple[int, int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value),) * 3


def _batch_norm_layer(name: str, norm: nn.BatchNorm3d) -> Pointwise:
    if norm.running_mean is None or norm.running_var is None:
        raise _unsupported(name, norm, "has no running statistics (track_running_stats=False)")

    def function(features: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(features, norm.running_mean, norm.running_var, norm.weight, norm.bias, False, 0.0,
                            norm.eps)

    return Pointwise(name, function)


def module_layers(name: str, module: nn.Module) -> list[Layer]:
    """The layers of one named leaf (or I3D ``Unit3D``) module; anything else raises :class:`ConfigError` naming it."""
    if type(module) is Unit3D:
        return [layer for child, part in module.named_children() for layer in module_layers(f"{name}.{child}", part)]
    if type(module) in (nn.Conv3d, SamePadConv3d):
        return [_conv_layer(name, module)]
    if type(module) in (nn.MaxPool3d, SamePadMaxPool3d, nn.AvgPool3d):
        return [_pool_layer(name, module)]
    if type(module) is nn.BatchNorm3d:
        return [_batch_norm_layer(name, module)]
    if type(module) is nn.ReLU:
        return [Pointwise(name, F.relu)]
    if type(module) is InputRescale:
        return [Pointwise(name, module)]
    raise _unsupported(name, module, "is not a layer the incremental engine knows")


def _expect_children(parent_name: str, parent: nn.Module, expected: Sequence[str]) -> list[tuple[str, nn.Module]]:
    """``parent``'s children, checked against the described names in order."""
    children = list(parent.named_children())
    names = [name for name, _ in children]
    if names != list(expected):
        extra = [name for name in names if name not in expected]
        missing = [name for name in expected if name not in names]
        raise ConfigError(f"incremental_cnn: {parent_name} does not match its described layer graph "
                          f"(unexpected {extra}, missing {missing}, order {names})")
    return children


@dataclass
class LayerGraph:
    """A model as the incremental engine walks it.

    Attributes
    ----------
    prepare : callable
        ``(B, T, C, H, W)`` videos → ``(B, C, T, H, W)`` network input (after any checks).
    layers : list of Layer
        The maintained part: convolutions, poolings, pointwise maps, Inception modules.
    head : callable
        ``(B, C, T', H', W')`` features → logits, run normally.
    """

    prepare: Callable[[torch.Tensor], torch.Tensor]
    layers: list[Layer]
    head: Callable[[torch.Tensor], torch.Tensor]
    names: list[str] = field(default_factory=list)


def c3d_layer_names(config: dict) -> list[str]:
    """The described chain of C3D's ``features``: conv, (bn), relu, (pool) per entry of ``C3D_CHANNELS``."""
    names = []
    for conv, _ in C3D_CHANNELS:
        names.append(conv)
        if config["batch_norm"]:
            names.append(f"bn{conv[4:]}")
        names.append(f"relu{conv[4:]}")
        if conv in C3D_POOLS:
            names.append(f"pool{conv[4]}")
    return names


def i3d_layer_names() -> list[str]:
    """The described chain of I3D's ``features``: the stem, the Inception modules and their poolings."""
    names = ["Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3"]
    for module in INCEPTION_WIDTHS:
        if module == "Mixed_4b":
            names.append("MaxPool3d_4a_3x3")
        if module == "Mixed_5b":
            names.append("MaxPool3d_5a_2x2")
        names.append(module)
    return names


#: The branches of every Inception module, in concatenation order, with their layers.
INCEPTION_BRANCHES: dict[str, tuple[str, ...]] = {
    "branch_0": ("Conv3d_0a_1x1",),
    "branch_1": ("Conv3d_0a_1x1", "Conv3d_0b_3x3"),
    "branch_2": ("Conv3d_0a_1x1", "Conv3d_0b_3x3"),
    "branch_3": ("MaxPool3d_0a_3x3", "Conv3d_0b_1x1"),
}


def _inception_layer(name: str, module: nn.Module) -> Branches:
    if type(module) is not InceptionModule:
        raise _unsupported(name, module, "stands where the described graph has an InceptionModule")
    chains = []
    for branch_name, branch in _expect_children(name, module, list(INCEPTION_BRANCHES)):
        chain = []
        for child_name, child in _expect_children(f"{name}.{branch_name}", branch, INCEPTION_BRANCHES[branch_name]):
            chain.extend(module_layers(f"{name}.{branch_name}.{child_name}", child))
        chains.append(chain)
    return Branches(name, chains)


def _c3d_graph(model: C3D) -> LayerGraph:
    names = c3d_layer_names(model.config)
    layers = [layer for name, module in _expect_children("c3d.features", model.features, names)
              for layer in module_layers(name, module)]
    size = tuple(model.config["input_size"])

    def prepare(videos: torch.Tensor) -> torch.Tensor:
        if tuple(videos.shape[-2:]) != size:
            raise ConfigError(f"incremental_cnn: c3d resizes frames of {tuple(videos.shape[-2:])} to {size}, which "
                              "mixes pixels across blocks; give frames of the model's input_size or use engine='full'")
        if videos.shape[1] != model.config["clip_length"]:
            raise ConfigError(f"c3d: built for clips of {model.config['clip_length']} frames, got {videos.shape[1]}")
        return videos.transpose(1, 2)

    return LayerGraph(prepare, layers, lambda features: model.classifier(model.flatten(features)), names)


def _i3d_graph(model: InceptionI3d) -> LayerGraph:
    names = i3d_layer_names()
    layers: list[Layer] = module_layers("input_rescale", model.input_rescale)
    for name, module in _expect_children("i3d.features", model.features, names):
        layers.extend([_inception_layer(name, module)] if name.startswith("Mixed") else module_layers(name, module))

    def prepare(videos: torch.Tensor) -> torch.Tensor:
        if videos.shape[2] != 3:
            raise ConfigError(f"i3d: expected (B, T, 3, H, W) videos, got shape {tuple(videos.shape)}")
        return videos.permute(0, 2, 1, 3, 4)

    def head(features: torch.Tensor) -> torch.Tensor:
        return model.logits(model.flatten(model.global_pool(model.average_pool(features))))

    return LayerGraph(prepare, layers, head, names)


def sequential_graph(features: nn.Sequential, head: Callable[[torch.Tensor], torch.Tensor] | None = None,
                     name: str = "features") -> LayerGraph:
    """The layer graph of a plain chain of 3-D layers on ``(B, T, C, H, W)`` videos (a user's own 3-D CNN).

    Parameters
    ----------
    features : nn.Sequential
        Conv3d, MaxPool3d, AvgPool3d, BatchNorm3d and ReLU modules, applied in order
        to ``(B, C, T, H, W)``; anything else raises :class:`ConfigError` naming it.
    head : callable, optional
        Features → logits, run normally; default: flatten.
    name : str, default "features"
        Prefix of the layer names in error messages.
    """
    if not isinstance(features, nn.Sequential):
        raise ConfigError(f"features: expected an nn.Sequential of 3-D layers, got {type(features).__name__}")
    layers = [layer for child, module in features.named_children()
              for layer in module_layers(f"{name}.{child}", module)]
    names = [child for child, _ in features.named_children()]
    return LayerGraph(lambda videos: videos.transpose(1, 2), layers,
                      head if head is not None else (lambda output: output.flatten(1)), names)


def supports(model: nn.Module) -> bool:
    """Whether :func:`layer_graph` describes ``model`` (exactly a C3D or an InceptionI3d)."""
    return type(model) in (C3D, InceptionI3d)


def layer_graph(model: nn.Module) -> LayerGraph:
    """The explicit layer graph of a C3D or I3D; :class:`ConfigError` for any other model or a module it does not know."""
    if type(model) is C3D:
        return _c3d_graph(model)
    if type(model) is InceptionI3d:
        return _i3d_graph(model)
    raise ConfigError(f"incremental_cnn: no layer graph for {type(model).__name__}; the incremental engine "
                      "knows C3D and InceptionI3d (use engine='full')")


# ---------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------

def mask_boxes(masks: MaskSet) -> tuple[torch.Tensor, torch.Tensor]:
    """``(starts, stops)`` ``(M, 3)``: the ``(T, H, W)`` bounding box of every mask.

    Computed from the label map (the bounding box of every label in every
    frame), not from dense masks. A mask that covers nothing (a label absent
    from its frames) gets a box of one pixel at the corner: it changes
    nothing, so any box is exact.
    """
    count = len(masks)
    starts = torch.stack([masks.starts, torch.zeros(count, dtype=torch.long), torch.zeros(count, dtype=torch.long)], 1)
    stops = torch.stack([masks.stops, torch.full((count,), masks.height), torch.full((count,), masks.width)], 1)
    if masks.labels is None or not bool((masks.regions >= 0).any()):
        return starts, stops
    labels = masks.labels.cpu()
    frames, height, width = labels.shape
    regions = int(labels.max()) + 1
    keys = (torch.arange(frames)[:, None, None] * regions + labels).reshape(-1)
    rows = torch.arange(height)[None, :, None].expand(frames, height, width).reshape(-1)
    columns = torch.arange(width)[None, None, :].expand(frames, height, width).reshape(-1)
    bounds = []
    for positions, initial, reduce in ((rows, height, "amin"), (rows, -1, "amax"),
                                       (columns, width, "amin"), (columns, -1, "amax")):
        bounds.append(torch.full((frames * regions,), initial).scatter_reduce(0, keys, positions, reduce)
                      .view(frames, regions))
    for index in torch.nonzero(masks.regions >= 0).flatten().tolist():
        region = int(masks.regions[index])
        span = slice(int(masks.starts[index]), int(masks.stops[index]))
        if region >= regions:
            top, bottom, left, right = 0, -1, 0, -1
        else:
            top, bottom = int(bounds[0][span, region].min()), int(bounds[1][span, region].max())
            left, right = int(bounds[2][span, region].min()), int(bounds[3][span, region].max())
        if bottom < 0:  # the label is absent: nothing changes
            starts[index] = torch.tensor([int(masks.starts[index]), 0, 0])
            stops[index] = starts[index] + 1
        else:
            starts[index, 1:] = torch.tensor([top, left])
            stops[index, 1:] = torch.tensor([bottom + 1, right + 1])
    return starts, stops


def covered_tiles(masks: MaskSet, indices: torch.Tensor, starts: torch.Tensor, lengths: Sequence[int],
                  device=None) -> torch.Tensor:
    """``(m, 1, *lengths)`` bool: which values of the box at ``starts`` each mask in ``indices`` covers."""
    frames = starts[:, 0, None] + torch.arange(lengths[0])  # (m, l_t)
    in_time = (frames >= masks.starts[indices, None]) & (frames < masks.stops[indices, None])
    in_time = in_time[:, :, None, None]
    regions = masks.regions[indices]
    if masks.labels is None:
        covered = in_time.expand(len(indices), *lengths)
    else:
        flat = _flat_positions(starts, lengths, masks.labels.shape)
        labels = masks.labels.reshape(-1).to(flat.device)[flat]  # (m, l_t, l_h, l_w)
        covered = in_time & ((labels == regions[:, None, None, None]) | (regions[:, None, None, None] < 0))
    return covered[:, None].to(device)


class IncrementalCNN:
    """Masked logits of one video through a C3D or I3D, maintained incrementally from one clean pass.

    Parameters
    ----------
    model : nn.Module
        A :class:`~vidsal_core.models.c3d.C3D` or :class:`~vidsal_core.models.i3d.InceptionI3d`, in eval mode.
    video : torch.Tensor
        ``(T, C, H, W)``.
    graph : LayerGraph, optional
        The model's layer graph; default :func:`layer_graph` (C3D, I3D), or
        :func:`sequential_graph` of a user's chain of 3-D layers.

    Attributes
    ----------
    logits : torch.Tensor
        ``(classes,)`` logits of the clean video (through the same layers).
    """

    def __init__(self, model: nn.Module, video: torch.Tensor, graph: LayerGraph | None = None) -> None:
        check_eval_mode(model)
        if not isinstance(video, torch.Tensor) or video.dim() != 4:
            raise ConfigError(f"video: expected a (T, C, H, W) tensor, got {getattr(video, 'shape', type(video))}")
        self.model, self.video = model, video.detach()
        self.graph = layer_graph(model) if graph is None else graph
        self.cache: dict = {}
        with torch.no_grad():
            self.inputs = self.graph.prepare(self.video[None])[0]  # (C, T, H, W)
            self.features = run_clean(self.graph.layers, self.inputs[None], self.cache)[0]
            self.logits = self.graph.head(self.features[None])[0]

    def _batch_logits(self, masks: MaskSet, indices: torch.Tensor, baseline_inputs: torch.Tensor,
                      starts: torch.Tensor, stops: torch.Tensor) -> torch.Tensor:
        box_starts, lengths = _common_box(starts, stops - 1, self.inputs.shape[1:])
        covered = covered_tiles(masks, indices, box_starts, lengths, self.video.device)
        clean = _gather(self.inputs, box_starts, lengths)
        replaced = _gather(baseline_inputs, box_starts, lengths)
        box = Box(torch.where(covered, replaced, clean), box_starts, tuple(self.inputs.shape[1:]))
        box = run_update(self.graph.layers, box, self.cache)
        features = box.values if _whole(box) else _scatter(
            self.features[None].expand(len(indices), *self.features.shape), box.values, box.starts)
        return self.graph.head(features)

    def masked_logits(self, masks: MaskSet, baseline: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """Logits of every masked copy of the video: ``(M, classes)``, equal to full re-inference.

        Parameters
        ----------
        masks : MaskSet
            Masks made for the video.
        baseline : torch.Tensor
            ``(T, C, H, W)`` values masked entries take.
        batch_size : int, optional
            Masks maintained together (default :data:`DEFAULT_BATCH_SIZE`); results do not depend on it.
        """
        masks.check_video(self.video)
        size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(f"batch_size={batch_size!r}: expected a positive integer")
        if tuple(baseline.shape) != tuple(self.video.shape):
            raise ConfigError(f"baseline: shape {tuple(baseline.shape)}, expected the video's {tuple(self.video.shape)}")
        starts, stops = mask_boxes(masks)
        order = _cone_order(starts, stops)
        with torch.no_grad():
            baseline_inputs = self.graph.prepare(baseline.to(self.video)[None])[0]
            outputs = torch.empty(len(masks), self.logits.shape[0], dtype=self.logits.dtype, device=self.logits.device)
            for chunk in batches(len(masks), size):
                indices = order[chunk]
                outputs[indices] = self._batch_logits(masks, indices, baseline_inputs, starts[indices], stops[indices])
        return check_finite(outputs, "model output on masked videos")


def _cone_order(starts: torch.Tensor, stops: torch.Tensor) -> torch.Tensor:
    """Masks sorted by box shape, then position, so that a batch's cones share their shape."""
    keys = torch.cat([stops - starts, starts], dim=1).tolist()
    return torch.tensor(sorted(range(len(keys)), key=keys.__getitem__), dtype=torch.long)


def applies(model: nn.Module, video: torch.Tensor) -> bool:
    """Whether :class:`IncrementalCNN` can run ``model`` on ``video`` (a C3D at its input size, or an I3D)."""
    if not supports(model) or not isinstance(video, torch.Tensor) or video.dim() != 4:
        return False
    try:
        layer_graph(model).prepare(video[None])
    except ConfigError:
        return False
    return True


def incremental_masked_logits(model: nn.Module, video: torch.Tensor, masks: MaskSet, baseline: torch.Tensor,
                              batch_size: int | None = None) -> torch.Tensor:
    """Logits of every masked copy of ``video``, ``(M, classes)``, by incremental inference (:class:`IncrementalCNN`).

    Parameters
    ----------
    model : nn.Module
        A C3D or I3D in eval mode.
    video : torch.Tensor
        ``(T, C, H, W)``.
    masks : MaskSet
        Masks made for the video.
    baseline : torch.Tensor
        ``(T, C, H, W)`` replacement values.
    batch_size : int, optional
        Masks maintained together (default :data:`DEFAULT_BATCH_SIZE`).

    Examples
    --------
    >>> import torch
    >>> from vidsal_core.models.c3d import C3D
    >>> from vidsal_core.saliency.incremental_cnn import incremental_masked_logits, masked_logits_reference
    >>> from vidsal_core.saliency.masking import baseline_video, block_labels, label_masks
    >>> _ = torch.manual_seed(0)
    >>> model = C3D(3, clip_length=16, input_size=(16, 16), width_multiplier=1 / 32).eval()
    >>> video = torch.rand(16, 1, 16, 16)
    >>> masks = label_masks(block_labels(16, 16, 8).expand(16, 16, 16))
    >>> fast = incremental_masked_logits(model, video, masks, baseline_video(video))
    >>> torch.allclose(fast, masked_logits_reference(model, video, masks, baseline_video(video)), atol=1e-5)
    True
    """
    return IncrementalCNN(model, video).masked_logits(masks, baseline, batch_size)


def masked_logits(model: nn.Module, video: torch.Tensor, masks: MaskSet, baseline: torch.Tensor,
                  batch_size: int | None = None) -> torch.Tensor:
    """The engine entry of :func:`vidsal_core.saliency.masking.masked_logits` (its ``INCREMENTAL_ENGINES``).

    As :func:`incremental_masked_logits`, but first refuses, with a :class:`ConfigError` that names the reason,
    a video this model cannot run incrementally (``engine="auto"`` then falls back to full re-inference).
    """
    if not isinstance(video, torch.Tensor) or video.dim() != 4:
        raise ConfigError(f"video: expected a (T, C, H, W) tensor, got {getattr(video, 'shape', type(video))}")
    layer_graph(model).prepare(video[None])  # raises the reason where the model cannot run this video
    return incremental_masked_logits(model, video, masks, baseline, batch_size)


def masked_logits_reference(model: nn.Module, video: torch.Tensor, masks: MaskSet, baseline: torch.Tensor,
                            batch_size: int = DEFAULT_BATCH_SIZE) -> torch.Tensor:
    """The slow twin: every masked copy run through the whole model, ``(M, classes)``."""
    masks.check_video(video)
    with torch.no_grad():
        return torch.cat([model(apply_masks(video, masks, baseline, indices))
                          for indices in batches(len(masks), batch_size)])
