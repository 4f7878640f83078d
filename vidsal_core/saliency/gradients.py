"""Gradient saliency through Captum: input gradient, Integrated Gradients, SmoothGrad.

Each function explains the *logit* of a target class (the predicted class
unless given) of a model in eval mode, and returns a map with the shape of
the videos it was given: ``(B, T, C, H, W)`` for a batch, ``(T, C, H, W)`` for
one video. Gradients run inside :func:`~vidsal_core.models.cudnn.recurrent_backward`,
so recurrent models can be explained on CUDA without switching the model to
training mode (only its dropout-free LSTMs are, which computes the same).

References
----------
Simonyan, K., Vedaldi, A. and Zisserman, A. (2014). Deep inside convolutional
networks: visualising image classification models and saliency maps. ICLR
workshop.
Sundararajan, M., Taly, A. and Yan, Q. (2017). Axiomatic attribution for deep
networks. ICML.
Smilkov, D., Thorat, N., Kim, B., Viégas, F. and Wattenberg, M. (2017).
SmoothGrad: removing noise by adding noise. arXiv:1706.03825.
Kokhlikyan, N. et al. (2020). Captum: a unified and generic model
interpretability library for PyTorch. arXiv:2009.07896.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.models.cudnn import recurrent_backward
from vidsal_core.saliency.checks import (
    as_batch,
    check_eval_mode,
    check_finite,
    model_logits,
    resolve_targets,
)

Target = int | Sequence[int] | torch.Tensor | None

#: Integral approximations Captum offers for Integrated Gradients.
IG_APPROXIMATIONS: tuple[str, ...] = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle")


def predicted_target(model: nn.Module, videos: torch.Tensor) -> torch.Tensor:
    """The predicted class of each video: ``(B,)`` long (a scalar tensor for one video).

    Parameters
    ----------
    model : nn.Module
        In eval mode; ``(B, T, C, H, W)`` → ``(B, classes)`` logits.
    videos : torch.Tensor
        ``(B, T, C, H, W)`` or one ``(T, C, H, W)`` video.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from vidsal_core.saliency.gradients import predicted_target
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 1 * 4 * 4, 3)).eval()
    >>> videos = torch.rand(2, 4, 1, 4, 4)
    >>> torch.equal(predicted_target(model, videos), model(videos).argmax(dim=1))
    True
    >>> predicted_target(model, videos[0]).shape  # one video: a scalar
    torch.Size([])
    """
    batch, single = as_batch(videos)
    check_eval_mode(model)
    predicted = model_logits(model, batch).argmax(dim=1)
    return predicted[0] if single else predicted


def _prepare(model: nn.Module, videos: torch.Tensor, target: Target) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Batch, check, and resolve the targets against the model's logits."""
    batch, single = as_batch(videos)
    check_eval_mode(model)
    targets = resolve_targets(target, model_logits(model, batch))
    return batch, targets, single


def _leaf(videos: torch.Tensor) -> torch.Tensor:
    """A detached copy that requires gradients (Captum warns when it has to set that itself)."""
    return videos.detach().clone().requires_grad_(True)


def _finish(attribution: torch.Tensor, single: bool, method: str) -> torch.Tensor:
    """Detach, check for NaN and infinity, and restore the caller's shape."""
    attribution = check_finite(attribution.detach(), f"{method} attribution")
    return attribution[0] if single else attribution


def input_gradient(
    model: nn.Module,
    videos: torch.Tensor,
    target: Target = None,
    absolute: bool = True,
) -> torch.Tensor:
    """Gradient of the target logit with respect to every input value (Simonyan et al., 2014).

    Parameters
    ----------
    model : nn.Module
        In eval mode; ``(B, T, C, H, W)`` videos → ``(B, classes)`` logits.
    videos : torch.Tensor
        ``(B, T, C, H, W)`` float videos, or one ``(T, C, H, W)`` video.
    target : int, sequence of int, torch.Tensor or None, default None
        Class to explain, one for all or one per video; None = the predicted class.
    absolute : bool, default True
        Return ``|gradient|`` (Captum's ``Saliency`` default, and what TSR's
        reference code uses) or the signed gradient.

    Returns
    -------
    torch.Tensor
        The videos' shape. Unsigned (plot with a sequential map) when
        ``absolute``, signed (diverging map) otherwise.

    Examples
    --------
    The signed gradient of a linear model is its weights:

    >>> import torch
    >>> from torch import nn
    >>> from vidsal_core.saliency.gradients import input_gradient
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 1 * 4 * 4, 3)).eval()
    >>> video = torch.rand(4, 1, 4, 4)
    >>> saliency = input_gradient(model, video, target=2, absolute=False)
    >>> saliency.shape
    torch.Size([4, 1, 4, 4])
    >>> torch.allclose(saliency.flatten(), model[1].weight[2])
    True
    """
    from captum.attr import Saliency

    batch, targets, single = _prepare(model, videos, target)
    with recurrent_backward(model):
        attribution = Saliency(model).attribute(_leaf(batch), target=targets, abs=absolute)
    return _finish(attribution, single, "input_gradient")


def check_ig_baseline(baseline: str | float | torch.Tensor, videos: torch.Tensor) -> torch.Tensor:
    """The Integrated Gradients baseline broadcast to ``videos``' shape.

    Parameters
    ----------
    baseline : "zero", float or torch.Tensor
        ``"zero"`` (a black video), a constant, or a tensor that broadcasts to
        the videos (e.g. a dataset's mean frame ``(C, H, W)``).
    videos : torch.Tensor
        The videos the baseline is for.
    """
    if isinstance(baseline, str):
        if baseline != "zero":
            raise ConfigError(f"baseline={baseline!r}: expected 'zero', a number or a tensor")
        return torch.zeros_like(videos)
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        return check_finite(torch.full_like(videos, float(baseline)), "baseline")
    if isinstance(baseline, torch.Tensor):
        try:
            expanded = baseline.to(videos).expand_as(videos)
        except RuntimeError as error:
            raise ConfigError(
                f"baseline: shape {tuple(baseline.shape)} does not broadcast to the videos' {tuple(videos.shape)}"
            ) from error
        return check_finite(expanded, "baseline")
    raise ConfigError(f"baseline={baseline!r}: expected 'zero', a number or a tensor")


def integrated_gradients(
    model: nn.Module,
    videos: torch.Tensor,
    target: Target = None,
    baseline: str | float | torch.Tensor = "zero",
    n_steps: int = 50,
    method: str = "gausslegendre",
    internal_batch_size: int | None = None,
) -> torch.Tensor:
    """Integrated Gradients of the target logit (Sundararajan et al., 2017), through Captum.

    Parameters
    ----------
    model : nn.Module
        In eval mode; ``(B, T, C, H, W)`` videos → ``(B, classes)`` logits.
    videos : torch.Tensor
        ``(B, T, C, H, W)`` float videos, or one ``(T, C, H, W)`` video.
    target : int, sequence of int, torch.Tensor or None, default None
        Class to explain; None = the predicted class.
    baseline : "zero", float or torch.Tensor, default "zero"
        The reference input the path starts from (see :func:`check_ig_baseline`).
    n_steps : int, default 50
        Points on the path (Captum's default).
    method : str, default "gausslegendre"
        Captum's integral approximation; one of :data:`IG_APPROXIMATIONS`.
    internal_batch_size : int, optional
        Path points evaluated together (Captum's memory bound); None = all at once.

    Returns
    -------
    torch.Tensor
        Signed attributions with the videos' shape (plot with a diverging map).

    Examples
    --------
    From a black video, Integrated Gradients of a linear model is input × weights:

    >>> import torch
    >>> from torch import nn
    >>> from vidsal_core.saliency.gradients import integrated_gradients
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 1 * 4 * 4, 3)).eval()
    >>> videos = torch.rand(2, 4, 1, 4, 4)
    >>> attribution = integrated_gradients(model, videos, target=0, baseline="zero", n_steps=8)
    >>> attribution.shape
    torch.Size([2, 4, 1, 4, 4])
    >>> torch.allclose(attribution.flatten(1), videos.flatten(1) * model[1].weight[0])
    True
    """
    from captum.attr import IntegratedGradients

    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise ConfigError(f"n_steps={n_steps!r}: expected a positive integer")
    if method not in IG_APPROXIMATIONS:
        raise ConfigError(f"method={method!r}: choose one of {list(IG_APPROXIMATIONS)}")
    batch, targets, single = _prepare(model, videos, target)
    baselines = check_ig_baseline(baseline, batch)
    with recurrent_backward(model):
        attribution = IntegratedGradients(model).attribute(
            _leaf(batch), baselines=baselines, target=targets, n_steps=n_steps, method=method,
            internal_batch_size=internal_batch_size,
        )
    return _finish(attribution, single, "integrated_gradients")


def smoothgrad(
    model: nn.Module,
    videos: torch.Tensor,
    target: Target = None,
    n_samples: int = 25,
    noise_std: float = 0.15,
    absolute: bool = True,
    seed: int = 0,
    samples_per_batch: int | None = None,
) -> torch.Tensor:
    """SmoothGrad: the input gradient averaged over noisy copies (Smilkov et al., 2017).

    Parameters
    ----------
    model : nn.Module
        In eval mode; ``(B, T, C, H, W)`` videos → ``(B, classes)`` logits.
    videos : torch.Tensor
        ``(B, T, C, H, W)`` float videos in [0, 1], or one ``(T, C, H, W)`` video.
    target : int, sequence of int, torch.Tensor or None, default None
        Class to explain; None = the predicted class (of the clean videos).
    n_samples : int, default 25
        Noisy copies per video.
    noise_std : float, default 0.15
        Standard deviation of the Gaussian noise in the video's units. Videos
        span [0, 1], so 0.15 is Smilkov et al.'s recommended 15 % of the range.
    absolute : bool, default True
        Average ``|gradient|`` (Captum's ``Saliency`` default) or signed gradients.
    seed : int, default 0
        Seeds the noise (the global generator's state is restored afterwards),
        so the same call gives the same map.
    samples_per_batch : int, optional
        Noisy copies evaluated together (Captum's ``nt_samples_batch_size``).

    Returns
    -------
    torch.Tensor
        The videos' shape.

    Examples
    --------
    A linear model has the same gradient everywhere, so noise leaves it unchanged:

    >>> import torch
    >>> from torch import nn
    >>> from vidsal_core.saliency.gradients import smoothgrad
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 1 * 4 * 4, 3)).eval()
    >>> video = torch.rand(4, 1, 4, 4)
    >>> saliency = smoothgrad(model, video, target=1, n_samples=10, noise_std=0.15, absolute=False, seed=0)
    >>> torch.allclose(saliency.flatten(), model[1].weight[1])
    True
    >>> torch.equal(saliency, smoothgrad(model, video, target=1, n_samples=10, absolute=False, seed=0))  # seeded
    True
    """
    from captum.attr import NoiseTunnel, Saliency

    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ConfigError(f"n_samples={n_samples!r}: expected a positive integer")
    if isinstance(noise_std, bool) or not isinstance(noise_std, (int, float)) or not noise_std >= 0:
        raise ConfigError(f"noise_std={noise_std!r}: expected a non-negative number")
    batch, targets, single = _prepare(model, videos, target)
    devices = [batch.device] if batch.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), recurrent_backward(model):
        torch.manual_seed(seed)
        attribution = NoiseTunnel(Saliency(model)).attribute(
            _leaf(batch), nt_type="smoothgrad", nt_samples=n_samples, stdevs=float(noise_std),
            nt_samples_batch_size=samples_per_batch, target=targets, abs=absolute,
        )
    return _finish(attribution, single, "smoothgrad")
