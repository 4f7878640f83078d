"""The base attribution ``R(·)`` that Temporal Saliency Rescaling perturbs and compares.

TSR (Ismail et al., 2020) measures how much an attribution map changes when
part of the input is masked: ``Δ = Σ |R(X) − R(X̄)|``. :class:`BaseAttribution`
describes ``R`` as a weighted sum of input gradients along a path, which
covers both base methods the reference code and the issue ask for:

- the input gradient (Captum ``Saliency``): one point, the input itself,
  weight 1, then ``|·|`` (``absolute=True``, Captum's and the reference's
  default) or signed;
- Integrated Gradients (Captum ``IntegratedGradients``): ``K`` points
  ``b + α_k (x − b)`` with Captum's quadrature weights ``w_k``, and the sum
  multiplied by ``x − b``.

Written this way, the same attribution can be computed three ways that must
agree: by Captum one video at a time (:meth:`BaseAttribution.captum`, the
reference loop), for a batch of masked videos at once
(:meth:`BaseAttribution.batch`), and from per-frame Jacobians
(:mod:`vidsal_core.saliency.factorised`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.models.cudnn import recurrent_backward
from vidsal_core.saliency.gradients import IG_APPROXIMATIONS, check_ig_baseline

#: Base methods TSR can rescale.
BASE_METHODS: tuple[str, ...] = ("gradient", "integrated_gradients")


@dataclass(frozen=True)
class BaseAttribution:
    """An attribution method written as a weighted sum of gradients along a path.

    Parameters
    ----------
    method : {"gradient", "integrated_gradients"}, default "gradient"
        The input gradient (Simonyan et al., 2014) or Integrated Gradients
        (Sundararajan et al., 2017).
    absolute : bool, default True
        For ``"gradient"``: take ``|gradient|`` (Captum's ``Saliency``
        default, which TSR's reference code uses). Integrated Gradients is
        always signed.
    n_steps : int, default 50
        Path points of Integrated Gradients (Captum's default).
    approximation : str, default "gausslegendre"
        Captum's integral approximation for Integrated Gradients.
    baseline : "zero", float or torch.Tensor, default "zero"
        Integrated Gradients' starting point (not the masking value of TSR).
    """

    method: str = "gradient"
    absolute: bool = True
    n_steps: int = 50
    approximation: str = "gausslegendre"
    baseline: object = "zero"

    def __post_init__(self) -> None:
        if self.method not in BASE_METHODS:
            raise ConfigError(f"method={self.method!r}: TSR rescales one of {list(BASE_METHODS)}")
        if isinstance(self.n_steps, bool) or not isinstance(self.n_steps, int) or self.n_steps < 1:
            raise ConfigError(f"n_steps={self.n_steps!r}: expected a positive integer")
        if self.approximation not in IG_APPROXIMATIONS:
            raise ConfigError(f"approximation={self.approximation!r}: choose one of {list(IG_APPROXIMATIONS)}")

    @property
    def name(self) -> str:
        """A short label: ``|gradient|``, ``gradient`` or ``integrated gradients``."""
        if self.method == "gradient":
            return "|gradient|" if self.absolute else "gradient"
        return "integrated gradients"

    @property
    def n_points(self) -> int:
        """Gradients per attribution: 1, or ``n_steps`` for Integrated Gradients."""
        return 1 if self.method == "gradient" else self.n_steps

    def path(self, dtype: torch.dtype, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(alphas, weights)``, each ``(K,)``: the path points and their quadrature weights.

        For Integrated Gradients these are Captum's, with the weights rounded
        to float32 first as Captum does, so that the sums match Captum's.
        """
        if self.method == "gradient":
            one = torch.ones(1, dtype=dtype, device=device)
            return one, one.clone()
        from captum.attr._utils.approximation_methods import approximation_parameters

        step_sizes, alphas = approximation_parameters(self.approximation)
        weights = torch.tensor(step_sizes(self.n_steps)).float().to(dtype=dtype, device=device)
        return torch.tensor(alphas(self.n_steps), dtype=dtype, device=device), weights

    def start(self, video: torch.Tensor) -> torch.Tensor:
        """The path's start ``b`` for ``(..., T, C, H, W)`` input: zeros for the gradient."""
        if self.method == "gradient":
            return torch.zeros_like(video)
        return check_ig_baseline(self.baseline, video)

    def finish(self, gradient_sum: torch.Tensor, inputs: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        """Attribution from the weighted gradient sum: ``|g|``, ``g`` or ``(x − b) · g``."""
        if self.method == "gradient":
            return gradient_sum.abs() if self.absolute else gradient_sum
        return (inputs - start) * gradient_sum

    def batch(self, model: nn.Module, videos: torch.Tensor, targets: torch.Tensor,
              points_per_pass: int | None = None) -> torch.Tensor:
        """Attributions of ``(B, T, C, H, W)`` videos, all path points of all videos batched.

        Parameters
        ----------
        model : nn.Module
            In eval mode. Videos must not interact in the forward pass (true
            of every model in eval mode: BatchNorm uses running statistics).
        videos : torch.Tensor
            ``(B, T, C, H, W)``.
        targets : torch.Tensor
            ``(B,)`` classes.
        points_per_pass : int, optional
            Videos (path points × videos) per forward pass; None = all.
        """
        alphas, weights = self.path(videos.dtype, videos.device)
        start = self.start(videos)
        count, batch = alphas.numel(), videos.shape[0]
        points = (start[None] + alphas.view(-1, 1, 1, 1, 1, 1) * (videos - start)[None]).reshape(count * batch, *videos.shape[1:])
        point_targets = targets.repeat(count)
        size = points.shape[0] if points_per_pass is None else points_per_pass
        gradients = []
        with recurrent_backward(model):
            for first in range(0, points.shape[0], size):
                chunk = points[first:first + size].detach().requires_grad_(True)
                logits = model(chunk)
                selected = logits.gather(1, point_targets[first:first + size, None]).sum()
                gradients.append(torch.autograd.grad(selected, chunk)[0])
        gradient = torch.cat(gradients).reshape(count, batch, *videos.shape[1:])
        gradient_sum = (weights.view(-1, 1, 1, 1, 1, 1) * gradient).sum(dim=0)
        return self.finish(gradient_sum, videos, start).detach()

    def captum(self, model: nn.Module, video: torch.Tensor, target: int) -> torch.Tensor:
        """Attribution of one ``(T, C, H, W)`` video by a plain Captum call (the reference's way)."""
        from captum.attr import IntegratedGradients, Saliency

        inputs = video[None].detach().clone().requires_grad_(True)
        with recurrent_backward(model):
            if self.method == "gradient":
                attribution = Saliency(model).attribute(inputs, target=int(target), abs=self.absolute)
            else:
                attribution = IntegratedGradients(model).attribute(
                    inputs, baselines=self.start(inputs), target=int(target), n_steps=self.n_steps,
                    method=self.approximation,
                )
        return attribution[0].detach()
