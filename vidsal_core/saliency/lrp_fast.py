"""Deep Taylor decomposition as the gradient × input of a modified forward pass: Zennit's result at gradient cost.

:func:`vidsal_core.saliency.lrp.relevance` runs deep Taylor through Zennit's
hooks. In every layer they let the original backward run and throw its result
away, then run the layer again (twice for ``ZPlus``) and differentiate that:
about four convolutions per layer against the gradient's two, so deep Taylor
costs three to four gradients. :func:`deep_taylor` gets the same relevance in
one forward and one backward pass. It carries, instead of the relevance
``R``, a "gradient" ``g`` with ``R = x ⊙ g`` at every layer's input, and makes
each rule a forward pass whose value is the original layer's output ``z`` and
whose gradient is the rule's (Ancona et al., 2018; the formulation Zennit is
built on, Anders et al., 2021):

* z+ on a convolution or linear layer (every one but the first):
  ``out = z + (z⁺ - sg(z⁺)) ⊙ sg(z / z⁺)`` with ``z⁺ = W⁺ x + b⁺`` (and, where
  ``x`` has negative values, ``+ W⁻ x⁻`` as in Zennit's ``ZPlus``), ``sg`` the
  stop-gradient; its backward gives ``x ⊙ W⁺ᵀ (R_out / z⁺)``, the z+ rule;
* ZBox on the first convolution or linear layer (Zennit's first layer: the
  first in module order): the same with ``z_box = W x - W⁺ l - W⁻ h``, the
  box's bounds ``l`` and ``h`` being inputs of their own, so
  ``R = x ⊙ g_x + l ⊙ g_l + h ⊙ g_h``;
* max pooling with the proportional rule (``max_pool="proportional"``, the
  seed's, :class:`~vidsal_core.saliency.lrp.ProportionalMaxPool`):
  ``out = y + (s - sg(s)) ⊙ sg(y / s)`` with ``s`` the sum of each window
  (:func:`~vidsal_core.saliency.lrp.window_sum`, padding as zero) and ``y``
  the max; its backward gives ``x ⊙ ∂sᵀ (R_out / s)``. With
  ``max_pool="winner_take_all"`` the max keeps its own gradient;
* ReLU, dropout (eval), flattening, concatenation, padding and
  merged BatchNorm keep their ordinary gradient, which is exactly Zennit's
  ``Pass`` / routing for them; average pooling's gradient
  is Zennit's ``Norm`` rule (up to its stabiliser);
* modules marked ``relevance_pass_through`` pass the relevance unchanged, and
  whatever lies between the video and the first layer (a permutation, a
  resize) takes the gradient of the relevance, as in Zennit.

Per convolution this costs the original layer, the ``W⁺`` layer and one
transposed convolution: three against the gradient's two. With scalar bounds
the ZBox's three passes become one convolution over the input stacked with a
channel block of ones, weights ``[W, -(l W⁺ + h W⁻)]`` (the first layer of a
video network works on the largest tensors, so this matters most). Measured
with ``bench/bench_lrp.py``, deep Taylor costs about 1.3–1.5 gradients on
C3D and I3D, against 2.4–3.5 through Zennit's hooks. The result equals
:func:`~vidsal_core.saliency.lrp.relevance` with ``method="deep_taylor"``
(tests check C3D and I3D in float64). Non-linear activations other than ReLU
are refused, because Zennit passes relevance through them unchanged while
their gradient would not; activations must be modules, as in Zennit.

References
----------
Ancona, M., Ceolini, E., Öztireli, C. and Gross, M. (2018). Towards better
understanding of gradient-based attribution methods for deep neural networks. ICLR.
Anders, C. J. et al. (2021). Software for dataset-wide XAI: from local
explanations to global insights with Zennit, CoRelAy, and ViRelAy. arXiv:2106.13200.
Montavon, G. et al. (2017). Explaining nonlinear classification decisions with
deep Taylor decomposition. Pattern Recognition 65.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn
from zennit.core import ParamMod, expand
from zennit.rules import ClampMod, zero_bias
from zennit.types import Activation, BatchNorm, Linear, MaxPool

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.lrp import (
    BOUNDS_ATTRIBUTE,
    DEFAULT_INPUT_BOUNDS,
    PASS_THROUGH_ATTRIBUTE,
    SequentialSiblingMergeBatchNorm,
    _check_batch_norms_mergeable,
    _check_videos,
    _target_indices,
    check_max_pool_rule,
    window_sum,
)


def _check_supported(model: nn.Module) -> None:
    """Refuse activations other than ReLU and parametrised layers that no rule covers."""
    for name, module in model.named_modules():
        if isinstance(module, Activation) and type(module) is not nn.ReLU:
            raise ConfigError(
                f"deep_taylor: module {name!r} is a {type(module).__name__}; the fast engine handles ReLU only "
                "(use vidsal_core.saliency.lrp.relevance)"
            )
        own_parameters = list(module.parameters(recurse=False))
        if own_parameters and not isinstance(module, (Linear, BatchNorm)):
            raise ConfigError(f"deep_taylor: no rule for module {name!r} ({type(module).__name__}) with parameters")


def _first_linear(model: nn.Module) -> nn.Module:
    """The first convolution or linear layer in module order (Zennit's choice of first layer)."""
    for module in model.modules():
        if isinstance(module, Linear):
            return module
    raise ConfigError("deep_taylor: the model has no convolution or linear layer")


def _scalar_box(first: nn.Module, low: Any, high: Any) -> tuple[float, float] | None:
    """``(low, high)`` as floats when both are scalars and the first layer is an ungrouped convolution."""
    def scalar(value: Any) -> float | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            return float(value)
        return None

    bounds = scalar(low), scalar(high)
    convolution = isinstance(first, nn.modules.conv._ConvNd) and first.groups == 1 and not first.transposed
    return bounds if convolution and None not in bounds else None


def _modified_output(module: nn.Module, inputs: torch.Tensor, modifier) -> torch.Tensor:
    """The module's forward pass on ``inputs`` with its parameters changed by a Zennit ``ParamMod``."""
    with modifier(module) as modified:
        return modified.forward(inputs)


class _Blend(torch.autograd.Function):
    """Forward: ``value``. Backward: the incoming gradient × ``value / stabilised(rule)``, sent to ``rule``.

    The stabiliser is Zennit's: ``rule + ε`` where ``rule >= 0``, ``rule - ε`` elsewhere (``-0.0`` aside).
    """

    @staticmethod
    def forward(ctx, value: torch.Tensor, rule: torch.Tensor, epsilon: float) -> torch.Tensor:
        ctx.save_for_backward(value, rule)
        ctx.epsilon = epsilon
        return value

    @staticmethod
    def backward(ctx, gradient: torch.Tensor) -> tuple:
        value, rule = ctx.saved_tensors
        epsilon = torch.full((), ctx.epsilon, dtype=rule.dtype, device=rule.device)
        stabilised = torch.copysign(epsilon, rule).add_(rule)
        return None, value.div(stabilised).mul_(gradient), None


class _Engine:
    """Forward hooks that turn a model's forward pass into deep Taylor's modified pass."""

    def __init__(self, model: nn.Module, low, high, stabilizer: float, max_pool: str = "proportional") -> None:
        self.stabilizer = float(stabilizer)
        self.low, self.high = low, high
        self.first = _first_linear(model)
        self.scalar_box = _scalar_box(self.first, low, high)
        self.first_input: torch.Tensor | None = None
        self.leaves: list[torch.Tensor] = []
        self.handles = []
        for module in model.modules():
            if getattr(module, PASS_THROUGH_ATTRIBUTE, False):
                self.handles.append(module.register_forward_hook(self._pass_through))
            elif module is self.first:
                self.handles.append(module.register_forward_pre_hook(self._first_input_leaf))
                self.handles.append(module.register_forward_hook(
                    self._z_box if self.scalar_box is None else self._z_box_stacked))
            elif isinstance(module, Linear):
                self.handles.append(module.register_forward_hook(self._z_plus))
            elif isinstance(module, MaxPool) and max_pool == "proportional":
                self.handles.append(module.register_forward_hook(self._proportional_pool))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def _blend(self, output: torch.Tensor, rule_output: torch.Tensor) -> torch.Tensor:
        """Value ``output``; gradient through ``rule_output`` scaled by ``output / rule_output``."""
        return _Blend.apply(output.detach(), rule_output, self.stabilizer)

    @staticmethod
    def _pass_through(module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        """Value of the module, gradient of the identity (relevance passes unchanged)."""
        return inputs[0] + (output - inputs[0]).detach()

    def _first_input_leaf(self, module: nn.Module, inputs: tuple) -> tuple:
        """Keep the first layer's input and replace it by a leaf, where the ZBox relevance is read."""
        self.first_input = inputs[0]
        leaf = inputs[0].detach().requires_grad_(True)
        self.leaves = [leaf]
        return (leaf,) + tuple(inputs[1:])

    def _z_box(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        """ZBox: ``W x - W⁺ l - W⁻ h`` (biases cancel), with ``l`` and ``h`` leaves of their own."""
        leaf = inputs[0]
        low = expand(self.low, leaf.shape, cut_batch_dim=True).to(leaf).detach().requires_grad_(True)
        high = expand(self.high, leaf.shape, cut_batch_dim=True).to(leaf).detach().requires_grad_(True)
        self.leaves += [low, high]
        # the layer's own output is W x + b (its input is the leaf); Zennit's b - b⁺ - b⁻ = 0 cancels the bias
        box = (
            output
            - _modified_output(module, low, ClampMod(min=0.0))
            - _modified_output(module, high, ClampMod(max=0.0))
        )
        return self._blend(output, box)

    def _z_box_stacked(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        """ZBox with scalar bounds in one convolution: ``[W, -(l W⁺ + h W⁻)]`` over the input stacked with ones.

        With scalar ``l`` and ``h``, ``l ⊙ W⁺ᵀ s + h ⊙ W⁻ᵀ s = (l W⁺ + h W⁻)ᵀ s``, so the
        bounds' two passes become one channel block of a single convolution
        (zero padding included, exactly as Zennit pads its constant inputs).
        """
        leaf = inputs[0]
        ones = torch.ones_like(leaf).requires_grad_(True)
        self.leaves.append(ones)
        low, high = self.scalar_box
        weight = module.weight.detach()
        stacked_weight = torch.cat([weight, -(low * weight.clamp(min=0) + high * weight.clamp(max=0))], dim=1)
        modifier = ParamMod(lambda parameter, name: stacked_weight if name == "weight" else parameter,
                            zero_params=["bias"])
        box = _modified_output(module, torch.cat([leaf, ones], dim=1), modifier)
        return self._blend(output, box)

    def _proportional_pool(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        """Proportional max-pool rule: value the max, gradient through the windows' sums."""
        return self._blend(output, window_sum(module, inputs[0]))

    def _z_plus(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        """z+: ``W⁺ x⁺ + b⁺`` (plus ``W⁻ x⁻`` where the input has negative values, as Zennit's ZPlus)."""
        x = inputs[0]
        if x.min() < 0:
            positive = (_modified_output(module, x.clamp(min=0), ClampMod(min=0.0))
                        + _modified_output(module, x.clamp(max=0), ClampMod(max=0.0, zero_params=zero_bias(None))))
        else:
            positive = _modified_output(module, x, ClampMod(min=0.0))
        return self._blend(output, positive)


def deep_taylor(
    model: nn.Module,
    videos: torch.Tensor,
    target: int | Sequence[int] | torch.Tensor | None = None,
    input_bounds: Sequence[float | torch.Tensor] | None = None,
    stabilizer: float = 1e-6,
    max_pool: str = "proportional",
) -> torch.Tensor:
    """Deep Taylor relevance of the target logit, in one modified forward and backward pass.

    Parameters
    ----------
    model : nn.Module
        In eval mode; ``(B, T, C, H, W)`` videos → ``(B, classes)`` logits;
        ReLU activations as modules; every BatchNorm directly after a
        convolution or linear layer in an ``nn.Sequential``.
    videos : torch.Tensor
        ``(B, T, C, H, W)`` float videos.
    target : int, sequence of int, torch.Tensor or None, default None
        The class to explain: one for all videos, or one per video; None = each video's predicted class.
    input_bounds : (low, high), optional
        The ZBox rule's box; default the model's ``relevance_input_bounds``,
        else (0, 1).
    stabilizer : float, default 1e-6
        Added with their sign to the rules' denominators, as in Zennit.
    max_pool : {"proportional", "winner_take_all"}, default "proportional"
        Max pooling's rule: proportional to the activations in the pool (the
        seed's, seed 002 §2) or winner-take-all (the gradient of the max).

    Returns
    -------
    torch.Tensor
        ``(B, T, C, H, W)``: the relevance :func:`~vidsal_core.saliency.lrp.relevance`
        gives with ``method="deep_taylor"`` (each video's sums to 1 on a
        network without biases).

    Examples
    --------
    The same relevance as :func:`~vidsal_core.saliency.lrp.relevance`, in one
    pass, here of a small 3-D CNN without biases (``Permute`` turns
    ``(B, T, C, H, W)`` into Conv3d's ``(B, C, T, H, W)``):

    >>> import torch
    >>> from torch import nn
    >>> from torchvision.ops import Permute
    >>> from vidsal_core.saliency.lrp_fast import deep_taylor
    >>> from vidsal_core.saliency.lrp import relevance
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(Permute([0, 2, 1, 3, 4]), nn.Conv3d(1, 4, 3, padding=1, bias=False), nn.ReLU(),
    ...                       nn.MaxPool3d(2), nn.Flatten(), nn.Linear(4 * 2 * 2 * 2, 3, bias=False)).eval()
    >>> videos = torch.rand(2, 4, 1, 4, 4)
    >>> maps = deep_taylor(model, videos, target=[0, 2], input_bounds=(0.0, 1.0))
    >>> maps.shape, [round(total, 4) for total in maps.sum(dim=(1, 2, 3, 4)).tolist()]
    (torch.Size([2, 4, 1, 4, 4]), [1.0, 1.0])
    >>> torch.allclose(maps, relevance(model, videos, target=[0, 2], method="deep_taylor"), atol=1e-6)
    True
    """
    _check_videos(videos)
    check_max_pool_rule(max_pool)
    if model.training:
        raise ConfigError("model: is in training mode; call model.eval() first (BatchNorm must use its running statistics)")
    _check_supported(model)
    _check_batch_norms_mergeable(model)
    bounds = input_bounds if input_bounds is not None else getattr(model, BOUNDS_ATTRIBUTE, DEFAULT_INPUT_BOUNDS)
    if len(bounds) != 2:
        raise ConfigError(f"input_bounds={input_bounds!r}: expected (low, high)")
    targets = None if target is None else _target_indices(target, videos.shape[0]).to(videos.device)
    inputs = videos.detach().clone().requires_grad_(True)
    merged = SequentialSiblingMergeBatchNorm().apply(model)
    engine = _Engine(model, bounds[0], bounds[1], stabilizer, max_pool)
    try:
        with torch.enable_grad():
            logits = model(inputs)
            if targets is None:  # the predicted class of each video
                targets = logits.detach().argmax(dim=1)
            if targets.max() >= logits.shape[1] or targets.min() < 0:
                raise ConfigError(f"target={target!r}: the model has {logits.shape[1]} classes")
            chosen = logits.gather(1, targets[:, None])[:, 0].detach()
            # the top layer's relevance is the one-hot target: R = z ⊙ g, so g = 1 / z there
            seed = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits)
            seed = seed / torch.where(chosen == 0, torch.ones_like(chosen), chosen)[:, None]
            # R = x ⊙ g_x + l ⊙ g_l + h ⊙ g_h (or + 1 ⊙ g_1 for the stacked scalar box)
            gradients = torch.autograd.grad(logits, engine.leaves, grad_outputs=seed)
            first_relevance = sum(tensor * gradient for tensor, gradient in zip(engine.leaves, gradients))
            (result,) = torch.autograd.grad(engine.first_input, inputs, grad_outputs=first_relevance)
    finally:
        engine.remove()
        for instance in merged:
            instance.remove()
    return result.detach()
