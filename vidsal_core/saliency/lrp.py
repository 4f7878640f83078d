"""Layer-wise relevance propagation and deep Taylor decomposition for video networks, through Zennit.

:func:`relevance` explains the logit of a target class of any
``nn.Module`` that maps ``(B, T, C, H, W)`` videos to ``(B, classes)``
logits, with one of three methods:

``"deep_taylor"``
    Deep Taylor decomposition (Montavon et al., 2017): the ZBox rule on the
    first linear layer (bounded by the range of that layer's input), the
    z+ rule on every other convolution and linear layer, and max pooling by
    the proportional rule (``max_pool="proportional"``, below). Zennit has no
    composite of that name; this is the one the seed paper on C3D describes
    (seed 002 §2: z+ "in hidden layers", "in pooling layers the
    redistribution is in proportion to the activations inside the pool", the
    z^B rule on the first layer).
``"epsilon_plus_flat"``
    Zennit's ``EpsilonPlusFlat`` (Kohlbrenner et al., 2020): flat rule on
    the first layer, z+ on convolutions, epsilon on fully connected layers.
``"gradient"``
    The plain gradient of the target logit, for comparison.
``"sensitivity"``
    Sensitivity analysis (Simonyan et al., 2014; seed 002 eq. 2): the
    squared gradient ``(∂f/∂x)²`` of the target logit. It decomposes the
    squared gradient norm, so it explains the function's local variation
    rather than its value; non-negative everywhere.

Max pooling has two rules (``max_pool`` of :func:`relevance`):

``"proportional"`` (deep Taylor's default, the seed's)
    ``R_i = Σ_j x_i / Σ_{i' ∈ pool j} x_{i'} · R_j`` over the pools ``j``
    that contain input ``i`` (:class:`ProportionalMaxPool`; Montavon et al.,
    2017, treat max pooling as the sum pooling it bounds). Overlapping
    windows add up their shares; padding holds no activation and takes no
    relevance. A pool of zeros keeps its relevance only up to the
    stabiliser, but under z+ such a pool (an output of 0) receives none.
``"winner_take_all"``
    all of ``R_j`` to the maximum of the pool: the gradient of the max, the
    rule Zennit applies when no rule is registered (and EpsilonPlusFlat's).

In both relevance methods activations pass relevance through, average
pooling redistributes it in proportion to its inputs, concatenations route it unchanged, and every
BatchNorm is first merged into the convolution or linear layer in front of it
(:class:`SequentialSiblingMergeBatchNorm`), across all branches of an
Inception module. Modules with a true ``relevance_pass_through`` attribute
(an elementwise relabelling of the input such as I3D's ``[0, 1] → [-1, 1]``)
pass relevance through unchanged.

Zennit seeds the output with the one-hot target, so on a network without
biases the relevance of a video sums to 1 (conservation, Bach et al., 2015);
with biases the z+ rule lets biases absorb part of it.

References
----------
Bach, S. et al. (2015). On pixel-wise explanations for non-linear classifier
decisions by layer-wise relevance propagation. PLOS ONE 10(7).
Montavon, G. et al. (2017). Explaining nonlinear classification decisions with
deep Taylor decomposition. Pattern Recognition 65.
Anders, C. J. et al. Understanding patch-based learning by explaining
predictions (seed 002).
Kohlbrenner, M. et al. (2020). Towards best practice in explaining neural
network decisions with LRP. IJCNN.
Simonyan, K., Vedaldi, A. and Zisserman, A. (2014). Deep inside convolutional
networks: visualising image classification models and saliency maps. ICLR
workshop.
Anders, C. J. et al. (2021). Software for dataset-wide XAI: from local
explanations to global insights with Zennit, CoRelAy, and ViRelAy. arXiv:2106.13200.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from typing import Sequence

import torch
from torch import nn
from zennit.canonizers import MergeBatchNorm
from zennit.composites import (
    EpsilonPlusFlat,
    MixedComposite,
    NameMapComposite,
    SpecialFirstLayerMapComposite,
    layer_map_base,
)
from torch.nn import functional as F
from zennit.core import Composite, Hook, ParamMod, Stabilizer
from zennit.rules import Pass, ZBox, ZPlus
from zennit.types import BatchNorm, Convolution, Linear, MaxPool

from vidsal_core.errors import ConfigError

#: The methods :func:`relevance` offers.
METHODS: tuple[str, ...] = ("deep_taylor", "epsilon_plus_flat", "gradient", "sensitivity")
#: Deep Taylor's rules for max pooling: the seed's proportional rule (default) and winner-take-all.
MAX_POOL_RULES: tuple[str, ...] = ("proportional", "winner_take_all")
#: A module with this attribute set to True passes relevance through unchanged.
PASS_THROUGH_ATTRIBUTE = "relevance_pass_through"
#: A model may state the range of its first linear layer's input under this attribute.
BOUNDS_ATTRIBUTE = "relevance_input_bounds"
#: Range of the first layer's input assumed when the model states none: a video in [0, 1].
DEFAULT_INPUT_BOUNDS = (0.0, 1.0)


def linear_batch_norm_pairs(model: nn.Module) -> list[tuple[nn.Module, nn.Module]]:
    """Every (linear layer, BatchNorm) that are adjacent children of one ``nn.Sequential``, in that order.

    Adjacent children of a Sequential run one after the other, so the
    BatchNorm normalises exactly that layer's output and can be merged into it.
    """
    pairs = []
    for parent in model.modules():
        if isinstance(parent, nn.Sequential):
            children = list(parent.children())
            pairs.extend(
                (previous, current) for previous, current in zip(children, children[1:])
                if isinstance(previous, Linear) and isinstance(current, BatchNorm)
            )
    return pairs


class SequentialSiblingMergeBatchNorm(MergeBatchNorm):
    """Merge each BatchNorm into the convolution or linear layer just before it in the same Sequential.

    Zennit's ``SequentialMergeBatchNorm`` pairs neighbours in the flattened
    list of all leaves, which may pair a layer at the end of one branch with a
    BatchNorm at the start of the next; pairing siblings of one Sequential
    only merges layers that really run one after the other. Every
    convolution → BatchNorm of I3D (stem and all four branches of every
    Inception module) is such a pair.

    Zennit's merge leaves the BatchNorm computing ``x / sqrt(1 + eps)``
    rather than ``x``; with I3D's ``eps = 1e-3`` that shrinks activations by
    0.05 % per layer (the logits of the bias-free Kinetics I3D by 0.6 %) and
    shifts the share of relevance the biases absorb. Here ``eps`` is set to zero while merged, so
    the merged network computes exactly what the original does; ``remove``
    restores it.
    """

    def register(self, linears: Sequence[nn.Module], batch_norm: nn.Module) -> None:
        """Merge ``batch_norm`` into ``linears`` and make it the exact identity."""
        super().register(linears, batch_norm)
        self.batch_norm_eps = batch_norm.eps
        batch_norm.eps = 0.0

    def remove(self) -> None:
        """Restore the original parameters and ``eps``."""
        super().remove()
        self.batch_norm.eps = self.batch_norm_eps

    def apply(self, root_module: nn.Module) -> list[MergeBatchNorm]:
        """Merge all pairs of ``root_module``; return one registered instance per pair."""
        instances = []
        for linear, batch_norm in linear_batch_norm_pairs(root_module):
            instance = self.copy()
            instance.register((linear,), batch_norm)
            instances.append(instance)
        return instances


def _check_batch_norms_mergeable(model: nn.Module) -> None:
    """Raise :class:`ConfigError` naming BatchNorms that no canonizer can merge."""
    merged = {id(batch_norm) for _, batch_norm in linear_batch_norm_pairs(model)}
    unmerged = [
        name for name, module in model.named_modules() if isinstance(module, BatchNorm) and id(module) not in merged
    ]
    if unmerged:
        raise ConfigError(
            f"model: BatchNorm(s) {unmerged} do not directly follow a convolution or linear layer in an "
            "nn.Sequential, so they cannot be merged for LRP"
        )


def _with_pass_through(model: nn.Module, composite: Composite) -> Composite:
    """Add the Pass rule for the model's pass-through modules in front of ``composite``'s rules."""
    names = [name for name, module in model.named_modules() if getattr(module, PASS_THROUGH_ATTRIBUTE, False)]
    if not names:
        return composite
    return MixedComposite([NameMapComposite([(tuple(names), Pass())]), composite])


class NonNegativeInputZPlus(ZPlus):
    """Zennit's z+ rule, computed in one modified pass when the layer's input has no negative value.

    ``ZPlus`` splits the input into its positive and negative parts and runs
    the layer twice (positive weights on the positive part, negative weights
    on the negative part). After a ReLU, a max pooling or a concatenation of
    such — every hidden layer of C3D and I3D — the negative part is zero and
    its pass contributes nothing; this rule then runs only the first, which
    gives the same relevance with half the work (the bias is clamped at zero
    exactly as ``ZPlus`` clamps it). An input with a negative value takes
    ``ZPlus``'s full path, so the result is always ``ZPlus``'s.
    """

    def __init__(self, stabilizer: float = 1e-6, zero_params: Sequence[str] | None = None) -> None:
        super().__init__(stabilizer=stabilizer, zero_params=zero_params)
        self.stabilizer = stabilizer
        self.zero_params = zero_params
        self._stabilizer_fn = Stabilizer.ensure(stabilizer)

    def backward(self, module: nn.Module, grad_input: tuple, grad_output: tuple) -> tuple:
        """Relevance of the layer's input: ``x · W⁺ᵀ (R / (W⁺ x + b⁺))`` for ``x >= 0``."""
        stored = self.stored_tensors["input"][0]
        if stored.min() < 0:
            return super().backward(module, grad_input, grad_output)
        inputs = stored.detach().requires_grad_()
        with ParamMod.ensure(self.param_modifiers[0])(module) as modified, torch.autograd.enable_grad():
            outputs = modified.forward(inputs)
        (gradient,) = torch.autograd.grad(
            outputs, inputs, grad_outputs=grad_output[0] / self._stabilizer_fn(outputs),
            create_graph=grad_output[0].requires_grad,
        )
        result = inputs * gradient
        return tuple(result if original.shape == result.shape else None for original in grad_input)

    def copy(self) -> "NonNegativeInputZPlus":
        """A fresh hook with the same settings (Zennit copies one hook per module)."""
        return NonNegativeInputZPlus(self.stabilizer, self.zero_params)


def check_max_pool_rule(max_pool: str) -> None:
    """Raise :class:`ConfigError` unless ``max_pool`` is one of :data:`MAX_POOL_RULES`."""
    if max_pool not in MAX_POOL_RULES:
        raise ConfigError(f"max_pool={max_pool!r}: choose one of {list(MAX_POOL_RULES)}")


def _dilation_is_one(module: nn.Module) -> bool:
    dilation = module.dilation
    return all(int(d) == 1 for d in (dilation if isinstance(dilation, (tuple, list)) else (dilation,)))


def window_sum(module: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Sum of ``inputs`` over each window of a max pooling, padding counted as zero: the output's shape.

    The denominator ``Σ_{i ∈ pool j} x_i`` of the proportional rule. A module
    that pads in its own ``forward`` (I3D's "SAME" pools) says how by a
    ``window_sum`` method; ``nn.MaxPool1d/2d/3d`` (any kernel, stride,
    padding, ``ceil_mode``; dilation 1) are sum poolings of the same windows.

    Raises
    ------
    ConfigError
        A dilated or adaptive max pooling (no window sum is defined here).
    """
    own = getattr(module, "window_sum", None)
    if callable(own):
        return own(inputs)
    dims = next((d for kind, d in ((nn.MaxPool3d, 3), (nn.MaxPool2d, 2), (nn.MaxPool1d, 1)) if isinstance(module, kind)),
                None)
    if dims is None or not _dilation_is_one(module):
        raise ConfigError(
            f"max_pool='proportional': no window sum for {type(module).__name__} (dilated or adaptive max pooling); "
            "use max_pool='winner_take_all'"
        )
    kernel, stride, padding = (_per_axis(value, dims) for value in (module.kernel_size, module.stride, module.padding))
    extent = inputs.shape[-dims:]
    outputs = [_pooled_length(n, k, s, p, module.ceil_mode) for n, k, s, p in zip(extent, kernel, stride, padding)]
    # zeros before as the pool pads, and after as far as the last window reaches (ceil_mode's may reach further)
    after = [max(0, (o - 1) * s + k - n - p) for o, k, s, p, n in zip(outputs, kernel, stride, padding, extent)]
    pads = [amount for before, beyond in zip(reversed(padding), reversed(after)) for amount in (before, beyond)]
    padded = F.pad(inputs, pads) if any(pads) else inputs  # (no copy when the windows tile the input)
    if dims == 1:  # avg_pool1d has no divisor_override: pool one row in 2-D
        padded, kernel, stride = padded.unsqueeze(-2), (1, *kernel), (1, *stride)
    summed = (F.avg_pool3d if dims == 3 else F.avg_pool2d)(padded, kernel, stride, divisor_override=1)
    if dims == 1:
        summed = summed.squeeze(-2)
    if tuple(summed.shape[-dims:]) == tuple(outputs):
        return summed
    return summed[(..., *(slice(0, o) for o in outputs))]


def _per_axis(value, dims: int) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * dims


def _pooled_length(extent: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """Windows of a max pooling along one axis (PyTorch's rule: a ceil-mode window starts inside input or left padding)."""
    span = extent + 2 * padding - kernel
    count = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (count - 1) * stride >= extent + padding:
        count -= 1
    return count


class ProportionalMaxPool(Hook):
    """Deep Taylor's max-pool rule: each pool's relevance goes to its inputs in proportion to their activations.

    ``R_i = x_i · Σ_{j ∋ i} R_j / (Σ_{i' ∈ j} x_{i'} + ε)``, summed over every
    window ``j`` that contains ``i`` (overlapping windows, strides and padding
    as the module pools; padding is zero). This is the rule of seed 002 §2
    ("in pooling layers, the redistribution is in proportion to the
    activations inside the pool", after Montavon et al., 2017); computed as
    ``x ⊙ ∂(Σ-pool)ᵀ (R / stabilised Σ-pool)``, i.e. the transpose of a sum
    pooling. ``ε`` (the stabiliser, with the sign of the sum) keeps a pool of
    zeros from dividing by zero: its relevance (zero under z+, since a pool
    of zeros outputs 0) is then dropped. Meant for non-negative inputs
    (after a ReLU), as in every pool of C3D and I3D.

    Parameters
    ----------
    stabilizer : float, default 1e-6
        Added to each window's sum with its sign (Zennit's convention).
    """

    def __init__(self, stabilizer: float = 1e-6) -> None:
        super().__init__()
        self.stabilizer = stabilizer
        self._stabilizer_fn = Stabilizer.ensure(stabilizer)

    def forward(self, module: nn.Module, input: tuple, output: torch.Tensor) -> None:
        """Keep the pool's input for the backward pass."""
        self.stored_tensors["input"] = input

    def backward(self, module: nn.Module, grad_input: tuple, grad_output: tuple) -> tuple:
        """Relevance of the pool's input from the relevance of its output (``grad_output``)."""
        inputs = self.stored_tensors["input"][0].detach().requires_grad_()
        with torch.autograd.enable_grad():
            sums = window_sum(module, inputs)
        (gradient,) = torch.autograd.grad(
            sums, inputs, grad_outputs=grad_output[0] / self._stabilizer_fn(sums),
            create_graph=grad_output[0].requires_grad,
        )
        result = inputs * gradient
        return tuple(result if original.shape == result.shape else None for original in grad_input)

    def copy(self) -> "ProportionalMaxPool":
        """A fresh hook with the same stabiliser (Zennit copies one hook per module)."""
        return ProportionalMaxPool(self.stabilizer)


def deep_taylor_composite(
    model: nn.Module, low: float | torch.Tensor, high: float | torch.Tensor, stabilizer: float = 1e-6,
    max_pool: str = "proportional",
) -> Composite:
    """Deep Taylor decomposition: ZBox(low, high) on the first linear layer, z+ on the others.

    Parameters
    ----------
    model : nn.Module
        The model the composite will be registered on (for its pass-through modules).
    low, high : float or torch.Tensor
        Smallest and largest values the first layer's input can take (broadcast to it).
    stabilizer : float, default 1e-6
        Added to denominators, with their sign.
    max_pool : {"proportional", "winner_take_all"}, default "proportional"
        Max pooling's rule: :class:`ProportionalMaxPool` (the seed's), or the
        gradient of the max (no rule registered).
    """
    check_max_pool_rule(max_pool)
    layer_map = layer_map_base(stabilizer) + [
        (Convolution, NonNegativeInputZPlus(stabilizer=stabilizer)),
        (nn.Linear, NonNegativeInputZPlus(stabilizer=stabilizer)),
    ]
    if max_pool == "proportional":
        layer_map.append((MaxPool, ProportionalMaxPool(stabilizer=stabilizer)))
    first_map = [(Linear, ZBox(low, high, stabilizer=stabilizer))]
    composite = SpecialFirstLayerMapComposite(
        layer_map=layer_map, first_map=first_map, canonizers=[SequentialSiblingMergeBatchNorm()]
    )
    return _with_pass_through(model, composite)


def epsilon_plus_flat_composite(model: nn.Module, epsilon: float = 1e-6, stabilizer: float = 1e-6) -> Composite:
    """Zennit's EpsilonPlusFlat with vidsal's BatchNorm merging and pass-through modules."""
    composite = EpsilonPlusFlat(epsilon=epsilon, stabilizer=stabilizer, canonizers=[SequentialSiblingMergeBatchNorm()])
    return _with_pass_through(model, composite)


def _composite_for(
    method: str, model: nn.Module, input_bounds: Sequence | None, stabilizer: float, max_pool: str = "proportional"
) -> Composite | None:
    """The composite of ``method`` (``None`` for the gradient methods)."""
    if method in ("gradient", "sensitivity"):
        return None
    _check_batch_norms_mergeable(model)
    if method == "epsilon_plus_flat":
        return epsilon_plus_flat_composite(model, epsilon=stabilizer, stabilizer=stabilizer)
    bounds = input_bounds if input_bounds is not None else getattr(model, BOUNDS_ATTRIBUTE, DEFAULT_INPUT_BOUNDS)
    if len(bounds) != 2:
        raise ConfigError(f"input_bounds={input_bounds!r}: expected (low, high)")
    return deep_taylor_composite(model, *bounds, stabilizer=stabilizer, max_pool=max_pool)


def _check_videos(videos: torch.Tensor) -> None:
    """Raise :class:`ConfigError` unless ``videos`` is a ``(B, T, C, H, W)`` float tensor."""
    if not isinstance(videos, torch.Tensor) or videos.dim() != 5 or not videos.is_floating_point():
        shape = tuple(videos.shape) if isinstance(videos, torch.Tensor) else type(videos).__name__
        raise ConfigError(f"videos: expected a float tensor (B, T, C, H, W), got {shape}")


def _target_indices(target: int | Sequence[int] | torch.Tensor, batch: int) -> torch.Tensor:
    """``(B,)`` long tensor of target classes from one class or one per video."""
    indices = torch.as_tensor(target).long().reshape(-1)
    if indices.numel() == 1:
        indices = indices.expand(batch)
    if indices.numel() != batch:
        raise ConfigError(f"target: expected one class or {batch} (one per video), got {indices.numel()}")
    return indices


def _warn_if_recurrent(model: nn.Module, method: str) -> None:
    """Zennit has no LRP rule for recurrent layers and silently uses their gradient."""
    recurrent = [name for name, module in model.named_modules() if isinstance(module, nn.RNNBase)]
    if recurrent and method not in ("gradient", "sensitivity"):
        warnings.warn(
            f"relevance(method={method!r}): Zennit has no LRP rule for recurrent layers {recurrent}; "
            "relevance passes through them as their gradient", stacklevel=3,
        )


def relevance(
    model: nn.Module,
    videos: torch.Tensor,
    target: int | Sequence[int] | torch.Tensor | None = None,
    method: str = "deep_taylor",
    input_bounds: Sequence[float | torch.Tensor] | None = None,
    stabilizer: float = 1e-6,
    max_pool: str = "proportional",
) -> torch.Tensor:
    """Relevance (or gradient) of each input value for the target logit.

    Parameters
    ----------
    model : nn.Module
        In eval mode; ``(B, T, C, H, W)`` videos → ``(B, classes)`` logits.
    videos : torch.Tensor
        ``(B, T, C, H, W)`` float videos.
    target : int, sequence of int, torch.Tensor or None, default None
        The class to explain: one for all videos, or one per video; None = each video's predicted class (on
        the forward pass the relevance is taken from).
    method : {"deep_taylor", "epsilon_plus_flat", "gradient", "sensitivity"}, default "deep_taylor"
        See the module's description.
    input_bounds : (low, high), optional
        Range of the first linear layer's input for the ZBox rule of
        ``"deep_taylor"``; default the model's ``relevance_input_bounds``
        attribute, else (0, 1), the range of a video.
    stabilizer : float, default 1e-6
        Added (with their sign) to the rules' denominators, and the epsilon of
        ``"epsilon_plus_flat"``'s epsilon rule. Relevance that meets a
        denominator near zero is lost in proportion to it: about 6e-5 of the
        total on the Kinetics I3D at the default, 6e-8 at 1e-9.
    max_pool : {"proportional", "winner_take_all"}, default "proportional"
        Max pooling's rule in ``"deep_taylor"`` (see the module's description):
        the seed's proportional rule, or winner-take-all (the gradient).
        ``"epsilon_plus_flat"`` is Zennit's composite and always uses
        winner-take-all.

    Returns
    -------
    torch.Tensor
        ``(B, T, C, H, W)``, the videos' shape. For the relevance methods each
        video's map sums to 1 on a network without biases (up to the
        stabilizer); biases absorb part of the relevance otherwise.

    Raises
    ------
    ConfigError
        Bad ``videos``, ``target`` or ``method``; a model in training mode; a
        BatchNorm that cannot be merged.

    Examples
    --------
    A small 3-D CNN without biases (``Permute`` turns ``(B, T, C, H, W)`` into
    Conv3d's ``(B, C, T, H, W)``): each video's deep Taylor relevance sums to 1.

    >>> import torch
    >>> from torch import nn
    >>> from torchvision.ops import Permute
    >>> from vidsal_core.saliency.lrp import relevance
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(Permute([0, 2, 1, 3, 4]), nn.Conv3d(1, 4, 3, padding=1, bias=False), nn.ReLU(),
    ...                       nn.MaxPool3d(2), nn.Flatten(), nn.Linear(4 * 2 * 2 * 2, 3, bias=False)).eval()
    >>> videos = torch.rand(2, 4, 1, 4, 4)
    >>> maps = relevance(model, videos, target=[0, 2], method="deep_taylor")
    >>> maps.shape, [round(total, 4) for total in maps.sum(dim=(1, 2, 3, 4)).tolist()]
    (torch.Size([2, 4, 1, 4, 4]), [1.0, 1.0])
    >>> gradient = relevance(model, videos, target=1, method="gradient")
    >>> torch.allclose(relevance(model, videos, target=1, method="sensitivity"), gradient ** 2)
    True
    """
    if method not in METHODS:
        raise ConfigError(f"method={method!r}: choose one of {list(METHODS)}")
    check_max_pool_rule(max_pool)
    _check_videos(videos)
    if model.training:
        raise ConfigError(
            "model: is in training mode; call model.eval() first (BatchNorm must use its running statistics)"
        )
    _warn_if_recurrent(model, method)
    targets = None if target is None else _target_indices(target, videos.shape[0]).to(videos.device)
    inputs = videos.detach().clone().requires_grad_(True)
    composite = _composite_for(method, model, input_bounds, stabilizer, max_pool)
    with composite.context(model) if composite is not None else contextlib.nullcontext():
        logits = model(inputs)
        if targets is None:
            targets = logits.detach().argmax(dim=1)
        if targets.max() >= logits.shape[1] or targets.min() < 0:
            raise ConfigError(f"target={target!r}: the model has {logits.shape[1]} classes")
        seed = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits)
        (result,) = torch.autograd.grad(logits, inputs, grad_outputs=seed)
    if method == "sensitivity":
        result = result.square()
    return result.detach()


def bias_free_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode with every bias, BatchNorm offset and BatchNorm mean set to zero.

    After BatchNorm merging such a network has no bias anywhere, so the
    relevance of the deep Taylor and z+ rules is conserved exactly (it sums to
    1 per video); used to show conservation on a real architecture.
    """
    copied = copy.deepcopy(model).eval()
    with torch.no_grad():
        for module in copied.modules():
            if isinstance(getattr(module, "bias", None), torch.Tensor):
                module.bias.zero_()
            if isinstance(module, BatchNorm) and module.running_mean is not None:
                module.running_mean.zero_()
    return copied
