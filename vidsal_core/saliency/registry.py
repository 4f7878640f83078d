"""One name per saliency method: :func:`explain` maps a method's name and options to its library call.

A study explains clips with many methods, each named in a profile or a
sweep setting. This registry is the one place where a name becomes a call of
:mod:`vidsal_core.saliency`, so the border, evaluation and TSR studies
compute ``"deep_taylor"`` or ``"tsr"`` the same way: ``explain(method, model,
video, target, **options)`` returns the ``(T, C, H, W)`` map of one video and
class, exactly what the direct call returns. Each method takes a documented
set of options (:func:`options_of`); an unknown method or option raises
:class:`~vidsal_core.errors.ConfigError` naming it and listing the known ones.
Options not given take the library function's defaults.

=========================  ==========================================================================================
method                     the call (options)
=========================  ==========================================================================================
``input_gradient``         :func:`~vidsal_core.saliency.gradients.input_gradient`, ``|∂ logit / ∂ x|`` (``absolute``)
``integrated_gradients``   :func:`~vidsal_core.saliency.gradients.integrated_gradients` (``n_steps``, ``baseline``,
                           ``approximation``, ``internal_batch_size``)
``smoothgrad``             :func:`~vidsal_core.saliency.gradients.smoothgrad` (``n_samples``, ``noise_std``,
                           ``absolute``, ``seed``, ``samples_per_batch``)
``sensitivity``            :func:`~vidsal_core.saliency.lrp.relevance`, the squared gradient (``input_bounds``,
                           ``stabilizer``)
``frame_occlusion``        :func:`~vidsal_core.saliency.time_contribution.time_contribution`: the probability drop
                           (negatives set to 0) broadcast over each frame (``baseline``, ``mean``, ``blur_sigma``)
``one_step``               :func:`~vidsal_core.saliency.tsr.one_step_rescaling` of the input gradient by the
                           probability drop (``baseline``, ``mean``, ``blur_sigma``)
``tsr``                    :func:`~vidsal_core.saliency.tsr.temporal_saliency_rescaling` over square blocks
                           (:data:`TSR_OPTIONS`, ``variant``)
``superpixel_tsr``         the same over SLIC superpixels (:data:`TSR_OPTIONS`, ``variant``)
``deep_taylor``            :func:`~vidsal_core.saliency.lrp_fast.deep_taylor` (``max_pool``, ``input_bounds``,
                           ``stabilizer``)
``epsilon_plus_flat``      :func:`~vidsal_core.saliency.lrp.relevance`, Zennit's EpsilonPlusFlat composite
                           (``input_bounds``, ``stabilizer``)
``grad_cam``               :func:`~vidsal_core.saliency.gradcam.class_activation_map`, upsampled to the video
                           (``layer``: default the model's last 3-D conv block)
``grad_cam_plus_plus``     the same with Grad-CAM++ weights (``layer``)
``xgrad_cam``              the same with XGradCAM weights (``layer``)
``flow``                   Farneback flow magnitude (:mod:`~vidsal_core.saliency.flow`; the model is not asked):
                           the last frame repeats the motion into it (``as_clip``; False: the ``(T − 1, H, W)`` map)
``random``                 seeded uniform noise, chance level of every metric (``seed``, default 0)
=========================  ==========================================================================================

:func:`explain_result` returns a method's whole result where it has one (the
:class:`~vidsal_core.saliency.tsr.TSRResult` of the TSR methods, with the
selected frames and the cost), :func:`explain` only its map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS
from vidsal_core.saliency.gradients import input_gradient
from vidsal_core.saliency.gradients import integrated_gradients
from vidsal_core.saliency.gradients import smoothgrad
from vidsal_core.saliency.lrp import relevance
from vidsal_core.saliency.time_contribution import time_contribution
from vidsal_core.saliency.tsr import one_step_rescaling
from vidsal_core.saliency.tsr import temporal_saliency_rescaling
from vidsal_core.saliency.lrp_fast import deep_taylor
from vidsal_core.saliency.gradcam import class_activation_map
from vidsal_core.saliency.flow import farneback_flow, flow_magnitude

#: TSR variants: Ismail et al.'s public code (:data:`~vidsal_core.saliency.tsr.REFERENCE_CODE_OPTIONS`),
#: or Algorithm 1 read literally (the library's defaults).
TSR_VARIANTS: tuple[str, ...] = ("reference_code", "algorithm_1")

#: Options of both TSR methods, each passed to :func:`~vidsal_core.saliency.tsr.temporal_saliency_rescaling`
#: under the same name, except ``attribution`` (its ``method``: the base attribution).
TSR_OPTIONS: dict[str, str] = {
    "attribution": "base attribution, 'gradient' (default) or 'integrated_gradients' (TSR's `method`)",
    "absolute": "|gradient| (default True) or the signed gradient",
    "n_steps": "path points of Integrated Gradients (default 50)",
    "ig_baseline": "Integrated Gradients' starting point (default 'zero')",
    "block_size": "block side in pixels (default 10; blocks only)",
    "n_segments": "SLIC superpixels per frame (default 100; superpixels only)",
    "compactness": "SLIC compactness (default 0.1; superpixels only)",
    "mask_value": "what masked values become (default 'zero'; the reference code: 'first_element')",
    "mask_mean": "dataset mean for mask_value='mean'",
    "threshold_quantile": "alpha's quantile of the scaled time relevance (default 0.55)",
    "time_scaling": "'none' (default) or 'minmax'",
    "feature_scaling": "'none' (default) or 'minmax'",
    "below_threshold": "feature factor of frames at or below alpha (default 0.0)",
    "engine": "'auto' (default), 'factorised' or 'batched'",
    "max_batch_bytes": "memory bound of one batch of masks",
    "batch_size": "masks per batch (results do not depend on it)",
    "max_jacobian_bytes": "memory bound of the factorised engine's Jacobians",
    "variant": "'reference_code' or 'algorithm_1': that variant's options (tsr_variant_options), under the given ones",
}
_LRP_OPTIONS: dict[str, str] = {
    "input_bounds": "the ZBox rule's (low, high) (default the model's relevance_input_bounds, else (0, 1))",
    "stabilizer": "added to the rules' denominators (default 1e-6)",
}
_OCCLUSION_OPTIONS: dict[str, str] = {
    "baseline": "what a masked frame becomes (default 'zero'; see time_contribution)",
    "mean": "dataset mean for baseline='mean'",
    "blur_sigma": "blur for baseline='blur'",
}


@dataclass(frozen=True)
class Method:
    """A registered saliency method.

    Attributes
    ----------
    name : str
        Its name in profiles, sweeps and tables.
    summary : str
        What the map is, in a line.
    options : mapping of str to str
        Every option it takes → what it means (and its default).
    compute : callable
        ``compute(model, video, target, **options)``: the map, or a result holding it.
    result_map : str or None
        The attribute of ``compute``'s result that holds the map (None: the result is the map).
    """

    name: str
    summary: str
    options: Mapping[str, str]
    compute: Callable[..., Any]
    result_map: str | None = None


#: Every method, by name, in the order of the evaluation tables.
METHODS: dict[str, Method] = {}


def _register(name: str, summary: str, options: Mapping[str, str], result_map: str | None = None):
    def add(compute: Callable[..., Any]) -> Callable[..., Any]:
        METHODS[name] = Method(name, summary, dict(options), compute, result_map)
        return compute

    return add


def methods() -> list[str]:
    """The names of every registered method, in :data:`METHODS`' order."""
    return list(METHODS)


def options_of(method: str) -> dict[str, str]:
    """The options ``method`` takes, each with what it means (and its default)."""
    return dict(_method(method).options)


def _method(method: str) -> Method:
    if method not in METHODS:
        raise ConfigError(f"method={method!r}: choose one of {list(METHODS)}")
    return METHODS[method]


def tsr_variant_options(variant: str) -> dict[str, Any]:
    """TSR options of a variant: the reference code's (:data:`~vidsal_core.saliency.tsr.REFERENCE_CODE_OPTIONS`) or Algorithm 1's defaults."""

    if variant == "reference_code":
        return dict(REFERENCE_CODE_OPTIONS)
    if variant == "algorithm_1":
        return {}
    raise ConfigError(f"variant={variant!r}: choose one of {list(TSR_VARIANTS)}")


def explain_result(method: str, model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> Any:
    """What ``method``'s library call returns for one video (a map, or e.g. a TSRResult); arguments as :func:`explain`."""
    entry = _method(method)
    unknown = sorted(set(options) - set(entry.options))
    if unknown:
        raise ConfigError(f"explain({method!r}): unknown option(s) {unknown}; {method} takes {sorted(entry.options)}")
    if not isinstance(video, torch.Tensor) or video.dim() != 4:
        raise ConfigError(f"explain({method!r}): expected one (T, C, H, W) video, got "
                          f"{tuple(video.shape) if isinstance(video, torch.Tensor) else type(video).__name__}")
    return entry.compute(model, video, target, **options)


def explain(method: str, model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:
    """The saliency map of ``method`` for one video and class: the registry's single entry point.

    Parameters
    ----------
    method : str
        A name of :data:`METHODS` (see the module's table; :func:`methods` lists them).
    model : nn.Module
        In eval mode; ``(B, T, C, H, W)`` videos → ``(B, classes)`` logits
        (ignored by ``flow`` and ``random``).
    video : torch.Tensor
        One ``(T, C, H, W)`` video.
    target : int
        The class explained.
    **options
        The method's options (:func:`options_of`), passed to its library call;
        the ones not given take that function's defaults.

    Returns
    -------
    torch.Tensor
        ``(T, C, H, W)``, the video's shape (``flow`` with ``as_clip=False``:
        ``(T − 1, H, W)``), exactly what the direct library call returns.

    Raises
    ------
    ConfigError
        An unknown method or option (the message lists the known ones), or a
        video that is not ``(T, C, H, W)``.

    Examples
    --------
    A linear model of 2 frames of 2 × 2 pixels: the input gradient is the
    class's weights, as the direct call gives it.

    >>> import torch
    >>> from torch import nn
    >>> from vidsal_core.errors import ConfigError
    >>> from vidsal_core.saliency.gradients import input_gradient
    >>> from vidsal_core.saliency.registry import explain, methods, options_of
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 1 * 2 * 2, 3)).eval()
    >>> video = torch.rand(2, 1, 2, 2)
    >>> saliency = explain("input_gradient", model, video, 1)
    >>> saliency.shape
    torch.Size([2, 1, 2, 2])
    >>> torch.equal(saliency, input_gradient(model, video, 1))
    True
    >>> torch.allclose(saliency.flatten(), model[1].weight[1].abs())
    True
    >>> explain("random", model, video, 1, seed=3).shape
    torch.Size([2, 1, 2, 2])
    >>> options_of("deep_taylor").keys()
    dict_keys(['max_pool', 'input_bounds', 'stabilizer'])
    >>> "superpixel_tsr" in methods()
    True
    >>> try:
    ...     explain("input_gradient", model, video, 1, n_steps=8)
    ... except ConfigError as error:
    ...     print(error)
    explain('input_gradient'): unknown option(s) ['n_steps']; input_gradient takes ['absolute']
    """
    entry = _method(method)
    result = explain_result(method, model, video, target, **options)
    return result if entry.result_map is None else getattr(result, entry.result_map)


# --- the methods ---------------------------------------------------------------------------------------------


@_register("input_gradient", "|∂ logit / ∂ x| (Captum Saliency)",
           {"absolute": "|gradient| (default True) or the signed gradient"})
def _input_gradient(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:

    return input_gradient(model, video, target, **options)


@_register("integrated_gradients", "Integrated Gradients (Captum), from a black video by default",
           {"n_steps": "path points (default 50)", "baseline": "the path's start (default 'zero')",
            "approximation": "the integral's rule (default 'gausslegendre'; integrated_gradients' `method`)",
            "internal_batch_size": "path points per forward pass (default all)"})
def _integrated_gradients(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:

    if "approximation" in options:
        options["method"] = options.pop("approximation")
    return integrated_gradients(model, video, target, **options)


@_register("smoothgrad", "SmoothGrad of |gradient| (Captum NoiseTunnel)",
           {"n_samples": "noisy copies (default 25)", "noise_std": "the noise's standard deviation in the video's units (default 0.15)",
            "absolute": "average |gradient| (default True) or the signed gradient", "seed": "noise seed (default 0)",
            "samples_per_batch": "noisy copies per forward pass (default all)"})
def _smoothgrad(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:

    return smoothgrad(model, video, target, **options)


@_register("sensitivity", "the squared gradient (Zennit; seed 002's SA)", _LRP_OPTIONS)
def _sensitivity(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:

    return relevance(model, video[None], target, "sensitivity", **options)[0]


@_register("frame_occlusion", "time contribution (probability drop, negatives set to 0) broadcast over each frame",
           _OCCLUSION_OPTIONS)
def _frame_occlusion(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:

    drop = time_contribution(model, video, target=target, **options).probability_drop.clamp_min(0).to(video)
    return drop[:, None, None, None].expand_as(video).clone()


@_register("one_step", "seed 000's one-step rescaling of |gradient| by time contribution", _OCCLUSION_OPTIONS)
def _one_step(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:

    return one_step_rescaling(input_gradient(model, video, target),
                              time_contribution(model, video, target=target, **options).probability_drop)


def _tsr(features: str, model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> Any:

    variant = options.pop("variant", None)
    if "attribution" in options:
        options["method"] = options.pop("attribution")
    chosen = {**(tsr_variant_options(variant) if variant is not None else {}), **options}
    return temporal_saliency_rescaling(model, video, target, features=features, **chosen)


@_register("tsr", "exact two-step TSR over square blocks (Ismail et al., 2020)", TSR_OPTIONS, result_map="saliency")
def _tsr_blocks(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> Any:
    return _tsr("blocks", model, video, target, **options)


@_register("superpixel_tsr", "exact two-step TSR over SLIC superpixels", TSR_OPTIONS, result_map="saliency")
def _tsr_superpixels(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> Any:
    return _tsr("superpixels", model, video, target, **options)


@_register("deep_taylor", "deep Taylor decomposition in one modified pass (Zennit's result)",
           {"max_pool": "max pooling's rule, 'proportional' (default, seed 002's) or 'winner_take_all'",
            **_LRP_OPTIONS})
def _deep_taylor(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:

    return deep_taylor(model, video[None], target, **options)[0]


@_register("epsilon_plus_flat", "Zennit's EpsilonPlusFlat LRP composite", _LRP_OPTIONS)
def _epsilon_plus_flat(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:

    return relevance(model, video[None], target, "epsilon_plus_flat", **options)[0]


def _cam(kind: str, model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:

    if "layer" in options:
        options["target_layer"] = options.pop("layer")
    return class_activation_map(model, video, target, kind, **options)


_CAM_OPTIONS = {"layer": "the module explained, by name (default the model's last 3-D conv block, DEFAULT_TARGET_LAYERS)"}


@_register("grad_cam", "Grad-CAM (Selvaraju et al., 2017), upsampled trilinearly to the video", _CAM_OPTIONS)
def _grad_cam(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:
    return _cam("grad_cam", model, video, target, **options)


@_register("grad_cam_plus_plus", "Grad-CAM++ at the same layer", _CAM_OPTIONS)
def _grad_cam_plus_plus(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:
    return _cam("grad_cam_plus_plus", model, video, target, **options)


@_register("xgrad_cam", "XGradCAM at the same layer", _CAM_OPTIONS)
def _xgrad_cam(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:
    return _cam("xgrad_cam", model, video, target, **options)


@_register("flow", "Farneback flow magnitude (seed 000's baseline; the model is not asked)",
           {"as_clip": "True (default): float32 (T, C, H, W), the last frame keeping the motion into it; "
                       "False: the (T − 1, H, W) magnitude as flow_magnitude gives it"})
def _flow(model: nn.Module, video: torch.Tensor, target: int, as_clip: bool = True) -> torch.Tensor:

    speed = flow_magnitude(farneback_flow(video))  # (T - 1, H, W): flow to the next frame
    if not as_clip:
        return speed
    speed = speed.float()
    speed = torch.cat([speed, speed[-1:]])  # the last frame keeps the motion into it
    return speed[:, None].expand_as(video).clone()


@_register("random", "seeded uniform noise: chance level of every metric", {"seed": "the noise's seed (default 0)"})
def _random(model: nn.Module, video: torch.Tensor, target: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(int(seed))
    return torch.rand(video.shape, generator=generator)
