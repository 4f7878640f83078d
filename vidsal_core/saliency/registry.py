"""One front door for every saliency method: ``explain(model, video, method, target=None, **options)``.

A practitioner explains a clip, or a batch of clips, with any method by its
name, and gets the same kind of answer from each; a study names its
methods in profiles and sweep settings, and this registry is the one place
where a name becomes a call of :mod:`vidsal_core.saliency`, so every study
computes ``"deep_taylor"`` or ``"tsr"`` the same way.

* ``video`` is one ``(T, C, H, W)`` video or a ``(B, T, C, H, W)`` batch; the
  maps come back with the input's shape. A batch is explained in one call where
  the method's library function treats the videos independently (the gradient,
  LRP and class activation methods), and video by video otherwise, so a
  batch's maps are each video's own.
* ``target`` is a class for every video, one per video, or None: each video's
  predicted class (the argmax of the model's logits).
* ``**options`` carry the direct function's parameter names and defaults
  (:func:`options_of` lists them). The one word that cannot be passed on is
  ``method``, which here names the saliency method: Integrated Gradients'
  ``method`` (Captum's integral rule) is the option ``approximation``, and
  TSR's ``method`` (its base attribution) is the option ``attribution``.
* The result is an :class:`Explanation`, the same fields for every method:
  ``maps``, ``target``, ``method``, ``options`` (every option the call used,
  defaults filled in) and ``details`` (the method's own extra result, e.g.
  the :class:`~vidsal_core.saliency.tsr.TSRResult` with TSR's selected frames
  and cost, or None).

Bad input raises :class:`~vidsal_core.errors.ConfigError` naming the argument:
an unknown method or option (the message lists the known ones), or a video
that is neither ``(T, C, H, W)`` nor ``(B, T, C, H, W)``.

Whose defaults
--------------
Options not given take the library function's defaults. Where the vidsal study runs
a method with other settings, it passes them; the library's defaults
are not the study's:

* TSR (``tsr``, ``superpixel_tsr``): the library's defaults read Algorithm 1 of
  Ismail et al. (2020) literally (``mask_value="zero"``, no min-max scaling,
  ``below_threshold=0``, 10 × 10-pixel blocks as in seed 000); the study's TSR
  and evaluation measurements run ``variant="reference_code"``, the settings of
  Ismail et al.'s public code (:data:`~vidsal_core.saliency.tsr.REFERENCE_CODE_OPTIONS`),
  with the profile's block size.
* ``deep_taylor``: ``max_pool="proportional"``, seed 002's rule; the study's
  border measurements also run ``"winner_take_all"``.
* ``integrated_gradients`` (50 Gauss-Legendre points, Captum's default) and
  ``smoothgrad`` (25 samples, noise 0.15): the study's evaluation passes the
  profile's ``ig_steps`` and ``smoothgrad_samples``.
* ``grad_cam`` and its siblings: ``target_layer=None`` is the model's last
  3-D feature map, C3D's ``features.relu5b`` and I3D's ``features.Mixed_5c``
  (:data:`~vidsal_core.saliency.gradcam.DEFAULT_TARGET_LAYERS`), and in any
  other network (one wrapped by :func:`vidsal_core.models.adapter.as_video_model`)
  the last 5-D feature map found from its structure
  (:func:`~vidsal_core.saliency.gradcam.structural_layer`); the study's border
  measurements also explain C3D's block 4. The layer used is in ``options["target_layer"]``.
* ``random``: seed 0, the same noise for every video.

=========================  ==========================================================================================
method                     the call (options)
=========================  ==========================================================================================
``input_gradient``         :func:`~vidsal_core.saliency.gradients.input_gradient`, ``|∂ logit / ∂ x|`` (``absolute``)
``integrated_gradients``   :func:`~vidsal_core.saliency.gradients.integrated_gradients` (``n_steps``, ``baseline``,
                           ``approximation`` (its ``method``), ``internal_batch_size``)
``smoothgrad``             :func:`~vidsal_core.saliency.gradients.smoothgrad` (``n_samples``, ``noise_std``,
                           ``absolute``, ``seed``, ``samples_per_batch``)
``sensitivity``            :func:`~vidsal_core.saliency.lrp.relevance`, the squared gradient (``input_bounds``,
                           ``stabilizer``)
``frame_occlusion``        :func:`~vidsal_core.saliency.time_contribution.time_contribution`: the probability drop
                           (negatives set to 0) broadcast over each frame (``baseline``, ``mean``, ``blur_sigma``)
``one_step``               :func:`~vidsal_core.saliency.tsr.one_step_rescaling` of the input gradient by the
                           probability drop (``baseline``, ``mean``, ``blur_sigma``)
``tsr``                    :func:`~vidsal_core.saliency.tsr.temporal_saliency_rescaling` over square blocks
                           (:data:`TSR_OPTIONS`, ``variant``); ``details``: its TSRResult
``superpixel_tsr``         the same over SLIC superpixels (:data:`TSR_OPTIONS`, ``variant``)
``deep_taylor``            :func:`~vidsal_core.saliency.lrp_fast.deep_taylor` (``max_pool``, ``input_bounds``,
                           ``stabilizer``)
``epsilon_plus_flat``      :func:`~vidsal_core.saliency.lrp.relevance`, Zennit's EpsilonPlusFlat composite
                           (``input_bounds``, ``stabilizer``)
``grad_cam``               :func:`~vidsal_core.saliency.gradcam.class_activation_map`, upsampled to the video
                           (``target_layer``)
``grad_cam_plus_plus``     the same with Grad-CAM++ weights (``target_layer``)
``xgrad_cam``              the same with XGradCAM weights (``target_layer``)
``flow``                   Farneback flow magnitude (:mod:`~vidsal_core.saliency.flow`; the model is not asked):
                           the last frame repeats the motion into it (``as_clip``; False: the ``(T − 1, H, W)`` map)
``random``                 seeded uniform noise, chance level of every metric (``seed``, default 0)
=========================  ==========================================================================================
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from vidsal_core.errors import ConfigError

# Each method's own module (Captum, Zennit, pytorch-grad-cam, OpenCV behind it) is imported inside its entry
# below, when the method is first used, so that importing the registry stays cheap.

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
    "block_size": "block side in pixels (default 10, seed 000's; blocks only)",
    "n_segments": "SLIC superpixels per frame (default 100; superpixels only)",
    "compactness": "SLIC compactness (default 0.1; superpixels only)",
    "mask_value": "what masked values become (default 'zero', Algorithm 1's; the reference code: 'first_element')",
    "mask_mean": "dataset mean for mask_value='mean'",
    "threshold_quantile": "alpha's quantile of the scaled time relevance (default 0.55, the reference code's)",
    "time_scaling": "'none' (default, Algorithm 1's) or 'minmax' (the reference code's)",
    "feature_scaling": "'none' (default, Algorithm 1's) or 'minmax' (the reference code's)",
    "below_threshold": "feature factor of frames at or below alpha (default 0.0, Algorithm 1's; "
                       "the reference code: 0.1)",
    "engine": "'auto' (default), 'factorised' or 'batched'",
    "max_batch_bytes": "memory bound of one batch of masks",
    "batch_size": "masks per batch (results do not depend on it)",
    "max_jacobian_bytes": "memory bound of the factorised engine's Jacobians",
    "variant": "'reference_code' (the book's) or 'algorithm_1': that variant's options (tsr_variant_options), "
               "under the given ones (default None: the library's defaults, Algorithm 1's)",
}
_LRP_OPTIONS: dict[str, str] = {
    "input_bounds": "the ZBox rule's (low, high) (default None: the model's relevance_input_bounds, else (0, 1))",
    "stabilizer": "added to the rules' denominators (default 1e-6)",
}
_OCCLUSION_OPTIONS: dict[str, str] = {
    "baseline": "what a masked frame becomes (default 'zero'; see time_contribution)",
    "mean": "dataset mean for baseline='mean'",
    "blur_sigma": "blur for baseline='blur'",
}
_CAM_OPTIONS: dict[str, str] = {
    "target_layer": "the module explained, by name (default None: C3D's and I3D's last 3-D feature map, "
                    "DEFAULT_TARGET_LAYERS; in any other network the last one found from its structure)",
}


@dataclass(frozen=True, eq=False)
class Explanation:
    """What :func:`explain` returns, with the same fields for every method.

    Attributes
    ----------
    maps : torch.Tensor
        The saliency maps, with the input's shape: ``(T, C, H, W)`` for one video, ``(B, T, C, H, W)`` for a
        batch (``flow`` with ``as_clip=False``: ``(T − 1, H, W)`` or ``(B, T − 1, H, W)``).
    target : torch.Tensor or None
        The classes explained, long: a scalar for one video, ``(B,)`` for a batch; None for the methods
        that do not ask the model (``flow``, ``random``) when no target was given.
    method : str
        The method's name.
    options : mapping of str to object
        Every option of the method (:func:`options_of`), as the call used it: the ones given, the rest
        the library function's defaults (a TSR ``variant``'s options filled in; Grad-CAM's layer resolved).
    details : object or None
        The method's own whole result where it has one: the
        :class:`~vidsal_core.saliency.tsr.TSRResult` of the TSR methods (a tuple of them for a batch), else None.
    """

    maps: torch.Tensor
    target: torch.Tensor | None
    method: str
    options: Mapping[str, Any]
    details: Any = None


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
        ``compute(model, video, target, **options)``: the map of one video (or, where ``batched``, of a
        batch and one target per video), or a result holding it.
    defaults : str
        ``"module:function"`` whose signature gives the options' defaults (the direct function).
    renamed : mapping of str to str
        Options named otherwise than the direct function's parameter (option → parameter).
    batched : bool
        Whether ``compute`` takes a batch, explaining each video as it would alone.
    asks_model : bool
        Whether the method calls the model (``flow`` and ``random`` do not).
    result_map : str or None
        The attribute of ``compute``'s result that holds the map (None: the result is the map); the whole
        result is the explanation's ``details``.
    """

    name: str
    summary: str
    options: Mapping[str, str]
    compute: Callable[..., Any]
    defaults: str
    renamed: Mapping[str, str]
    batched: bool
    asks_model: bool = True
    result_map: str | None = None


#: Every method, by name, in the order of the evaluation tables.
METHODS: dict[str, Method] = {}


def _register(name: str, summary: str, options: Mapping[str, str], defaults: str, *, batched: bool,
              renamed: Mapping[str, str] | None = None, asks_model: bool = True, result_map: str | None = None):
    def add(compute: Callable[..., Any]) -> Callable[..., Any]:
        METHODS[name] = Method(name, summary, dict(options), compute, defaults, dict(renamed or {}), batched,
                               asks_model, result_map)
        return compute

    return add


def methods() -> list[str]:
    """The names of every registered method, in :data:`METHODS`' order."""
    return list(METHODS)


def options_of(method: str) -> dict[str, str]:
    """The options ``method`` takes, each with what it means (and its default)."""
    return dict(_method(method).options)


def _method(method: Any) -> Method:
    if not isinstance(method, str):
        raise ConfigError(f"method: expected a method's name, one of {list(METHODS)}; got {type(method).__name__}")
    if method not in METHODS:
        raise ConfigError(f"method={method!r}: choose one of {list(METHODS)}")
    return METHODS[method]


def tsr_variant_options(variant: str) -> dict[str, Any]:
    """TSR options of a variant: the reference code's (:data:`~vidsal_core.saliency.tsr.REFERENCE_CODE_OPTIONS`) or Algorithm 1's defaults."""
    from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS

    if variant == "reference_code":
        return dict(REFERENCE_CODE_OPTIONS)
    if variant == "algorithm_1":
        return {}
    raise ConfigError(f"variant={variant!r}: choose one of {list(TSR_VARIANTS)}")


def direct_function(method: str) -> Callable[..., Any]:
    """The library function whose parameters (names and defaults) ``method``'s options are."""
    module, name = _method(method).defaults.split(":")
    return getattr(importlib.import_module(module), name)


def default_options(method: str) -> dict[str, Any]:
    """Each option of ``method`` that has a default → that default, read from the direct function's signature."""
    entry = _method(method)
    parameters = inspect.signature(direct_function(method)).parameters
    defaults: dict[str, Any] = {}
    for option in entry.options:
        parameter = parameters.get(entry.renamed.get(option, option))
        if parameter is not None and parameter.default is not inspect.Parameter.empty:
            defaults[option] = parameter.default
    if "variant" in entry.options:
        defaults["variant"] = None
    return defaults


def _videos(video: Any) -> tuple[torch.Tensor, bool]:
    """``(B, T, C, H, W)`` videos and whether one ``(T, C, H, W)`` video was given."""
    if not isinstance(video, torch.Tensor) or video.dim() not in (4, 5):
        got = f"shape {tuple(video.shape)}" if isinstance(video, torch.Tensor) else type(video).__name__
        raise ConfigError(f"video: expected one (T, C, H, W) video or a (B, T, C, H, W) batch, got {got}")
    if not video.is_floating_point():
        raise ConfigError(f"video: expected a float tensor, got {video.dtype}")
    return (video[None], True) if video.dim() == 4 else (video, False)


def _targets(entry: Method, model: nn.Module, videos: torch.Tensor, target: Any) -> torch.Tensor | None:
    """``(B,)`` long classes: ``target`` for every video or one per video, or each video's predicted class."""
    if target is None:
        if not entry.asks_model:
            return None
        from vidsal_core.saliency.gradients import predicted_target

        with torch.no_grad():
            return predicted_target(model, videos).reshape(-1)
    try:
        targets = torch.as_tensor(target)
    except (TypeError, ValueError, RuntimeError):
        raise ConfigError(f"target={target!r}: expected a class index, one per video, or None") from None
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise ConfigError(f"target={target!r}: class indices must be integers")
    targets = targets.long().reshape(-1).to(videos.device)
    if targets.numel() == 1:
        targets = targets.expand(len(videos)).clone()
    if targets.numel() != len(videos):
        raise ConfigError(f"target: expected one class or {len(videos)} (one per video), got {targets.numel()}")
    return targets


def explain(model: nn.Module | None, video: torch.Tensor, method: str,
            target: int | Sequence[int] | torch.Tensor | None = None, **options: Any) -> Explanation:
    """Explain one video or a batch with a saliency method named by ``method``: the library's one front door.

    Parameters
    ----------
    model : nn.Module or None
        In eval mode; ``(B, T, C, H, W)`` videos → ``(B, classes)`` logits (a network of another layout:
        wrap it with :func:`vidsal_core.models.adapter.as_video_model`). Ignored by ``flow`` and ``random``.
    video : torch.Tensor
        One ``(T, C, H, W)`` video or a ``(B, T, C, H, W)`` batch, float.
    method : str
        A name of :data:`METHODS` (see the module's table; :func:`methods` lists them).
    target : int, sequence of int, torch.Tensor or None, default None
        The class explained, for every video or one per video; None: each video's predicted class.
    **options
        The method's options (:func:`options_of`), named as the direct function's parameters (except
        ``approximation`` and ``attribution``, see the module's notes); those not given take that
        function's defaults (:func:`default_options`; the module's notes say whose they are).

    Returns
    -------
    Explanation
        ``maps`` with the input's shape (exactly what the direct call returns for that video), the
        ``target`` explained, the ``method``, the ``options`` used and the method's ``details``.

    Raises
    ------
    ConfigError
        An unknown method or option (the message lists the known ones), a ``video`` that is neither
        ``(T, C, H, W)`` nor ``(B, T, C, H, W)``, a ``model`` that is not a module, or a bad ``target``.

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
    >>> explained = explain(model, video, "input_gradient", target=1)
    >>> explained.maps.shape, int(explained.target), explained.options
    (torch.Size([2, 1, 2, 2]), 1, {'absolute': True})
    >>> torch.equal(explained.maps, input_gradient(model, video, 1))
    True
    >>> torch.allclose(explained.maps.flatten(), model[1].weight[1].abs())
    True
    >>> videos = torch.rand(3, 2, 1, 2, 2)             # a batch, each video's predicted class
    >>> explained = explain(model, videos, "input_gradient")
    >>> explained.maps.shape, torch.equal(explained.target, model(videos).argmax(dim=1))
    (torch.Size([3, 2, 1, 2, 2]), True)
    >>> explain(None, video, "random", seed=3).maps.shape
    torch.Size([2, 1, 2, 2])
    >>> options_of("deep_taylor").keys()
    dict_keys(['max_pool', 'input_bounds', 'stabilizer'])
    >>> "superpixel_tsr" in methods()
    True
    >>> try:
    ...     explain(model, video, "input_gradient", 1, n_steps=8)
    ... except ConfigError as error:
    ...     print(error)
    explain(method='input_gradient'): unknown option(s) ['n_steps']; input_gradient takes ['absolute']
    """
    if isinstance(model, str):
        raise ConfigError(f"model: expected a torch.nn.Module, got str {model!r}; the arguments are "
                          "explain(model, video, method, target=None, **options)")
    entry = _method(method)
    unknown = sorted(set(options) - set(entry.options))
    if unknown:
        raise ConfigError(f"explain(method={method!r}): unknown option(s) {unknown}; {method} takes "
                          f"{sorted(entry.options)}")
    videos, single = _videos(video)
    if entry.asks_model and not isinstance(model, nn.Module):
        raise ConfigError(f"model: expected a torch.nn.Module mapping (B, T, C, H, W) videos to logits, "
                          f"got {type(model).__name__}")
    targets = _targets(entry, model, videos, target)
    given = dict(options)
    if "target_layer" in entry.options and given.get("target_layer") is None:
        from vidsal_core.saliency.gradcam import target_layer_name

        given["target_layer"] = target_layer_name(model, None, videos)  # what class_activation_map would pick
    used = {**default_options(method), **(tsr_variant_options(given["variant"]) if given.get("variant") else {}),
            **given}
    if entry.batched and not single:  # the library function explains each video of the batch as it would alone
        maps = entry.compute(model, videos, targets, **given)
        return Explanation(maps=maps, target=targets, method=method, options=used, details=None)
    results = [entry.compute(model, video if single else videos[index],
                             None if targets is None else int(targets[index]), **given)
               for index in range(len(videos))]
    found = [result if entry.result_map is None else getattr(result, entry.result_map) for result in results]
    maps = found[0] if single else torch.stack(found)
    details = None if entry.result_map is None else results[0] if single else tuple(results)
    explained = None if targets is None else targets[0] if single else targets
    return Explanation(maps=maps, target=explained, method=method, options=used, details=details)


# --- the methods ---------------------------------------------------------------------------------------------
# Each takes one (T, C, H, W) video and an int target (the batched ones also a (B, T, C, H, W) batch and a (B,)
# tensor of targets) and makes exactly the direct library call.


def _as_batch(videos: torch.Tensor) -> tuple[torch.Tensor, bool]:
    return (videos[None], True) if videos.dim() == 4 else (videos, False)


@_register("input_gradient", "|∂ logit / ∂ x| (Captum Saliency)",
           {"absolute": "|gradient| (default True) or the signed gradient"},
           "vidsal_core.saliency.gradients:input_gradient", batched=True)
def _input_gradient(model: nn.Module, video: torch.Tensor, target: Any, **options: Any) -> torch.Tensor:
    from vidsal_core.saliency.gradients import input_gradient

    return input_gradient(model, video, target, **options)


@_register("integrated_gradients", "Integrated Gradients (Captum), from a black video by default",
           {"n_steps": "path points (default 50, Captum's)", "baseline": "the path's start (default 'zero')",
            "approximation": "the integral's rule (default 'gausslegendre'; integrated_gradients' `method`)",
            "internal_batch_size": "path points per forward pass (default all)"},
           "vidsal_core.saliency.gradients:integrated_gradients", batched=True, renamed={"approximation": "method"})
def _integrated_gradients(model: nn.Module, video: torch.Tensor, target: Any, **options: Any) -> torch.Tensor:
    from vidsal_core.saliency.gradients import integrated_gradients

    if "approximation" in options:
        options["method"] = options.pop("approximation")
    return integrated_gradients(model, video, target, **options)


@_register("smoothgrad", "SmoothGrad of |gradient| (Captum NoiseTunnel)",
           {"n_samples": "noisy copies (default 25)", "noise_std": "the noise's standard deviation in the video's units (default 0.15)",
            "absolute": "average |gradient| (default True) or the signed gradient",
            "seed": "noise seed (default 0; every video of a batch gets the noise it would get alone)",
            "samples_per_batch": "noisy copies per forward pass (default all)"},
           "vidsal_core.saliency.gradients:smoothgrad", batched=False)
def _smoothgrad(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:
    from vidsal_core.saliency.gradients import smoothgrad

    return smoothgrad(model, video, target, **options)


@_register("sensitivity", "the squared gradient (Zennit; seed 002's SA)", _LRP_OPTIONS,
           "vidsal_core.saliency.lrp:relevance", batched=True)
def _sensitivity(model: nn.Module, video: torch.Tensor, target: Any, **options: Any) -> torch.Tensor:
    from vidsal_core.saliency.lrp import relevance

    batch, single = _as_batch(video)
    maps = relevance(model, batch, target, "sensitivity", **options)
    return maps[0] if single else maps


@_register("frame_occlusion", "time contribution (probability drop, negatives set to 0) broadcast over each frame",
           _OCCLUSION_OPTIONS, "vidsal_core.saliency.time_contribution:time_contribution", batched=False)
def _frame_occlusion(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:
    from vidsal_core.saliency.time_contribution import time_contribution

    drop = time_contribution(model, video, target=target, **options).probability_drop.clamp_min(0).to(video)
    return drop[:, None, None, None].expand_as(video).clone()


@_register("one_step", "seed 000's one-step rescaling of |gradient| by time contribution", _OCCLUSION_OPTIONS,
           "vidsal_core.saliency.time_contribution:time_contribution", batched=False)
def _one_step(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> torch.Tensor:
    from vidsal_core.saliency.gradients import input_gradient
    from vidsal_core.saliency.time_contribution import time_contribution
    from vidsal_core.saliency.tsr import one_step_rescaling

    return one_step_rescaling(input_gradient(model, video, target),
                              time_contribution(model, video, target=target, **options).probability_drop)


def _tsr(features: str, model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> Any:
    from vidsal_core.saliency.tsr import temporal_saliency_rescaling

    variant = options.pop("variant", None)
    if "attribution" in options:
        options["method"] = options.pop("attribution")
    chosen = {**(tsr_variant_options(variant) if variant is not None else {}), **options}
    return temporal_saliency_rescaling(model, video, target, features=features, **chosen)


@_register("tsr", "exact two-step TSR over square blocks (Ismail et al., 2020)", TSR_OPTIONS,
           "vidsal_core.saliency.tsr:temporal_saliency_rescaling", batched=False, renamed={"attribution": "method"},
           result_map="saliency")
def _tsr_blocks(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> Any:
    return _tsr("blocks", model, video, target, **options)


@_register("superpixel_tsr", "exact two-step TSR over SLIC superpixels", TSR_OPTIONS,
           "vidsal_core.saliency.tsr:temporal_saliency_rescaling", batched=False, renamed={"attribution": "method"},
           result_map="saliency")
def _tsr_superpixels(model: nn.Module, video: torch.Tensor, target: int, **options: Any) -> Any:
    return _tsr("superpixels", model, video, target, **options)


@_register("deep_taylor", "deep Taylor decomposition in one modified pass (Zennit's result)",
           {"max_pool": "max pooling's rule, 'proportional' (default, seed 002's) or 'winner_take_all'",
            **_LRP_OPTIONS}, "vidsal_core.saliency.lrp_fast:deep_taylor", batched=True)
def _deep_taylor(model: nn.Module, video: torch.Tensor, target: Any, **options: Any) -> torch.Tensor:
    from vidsal_core.saliency.lrp_fast import deep_taylor

    batch, single = _as_batch(video)
    maps = deep_taylor(model, batch, target, **options)
    return maps[0] if single else maps


@_register("epsilon_plus_flat", "Zennit's EpsilonPlusFlat LRP composite", _LRP_OPTIONS,
           "vidsal_core.saliency.lrp:relevance", batched=True)
def _epsilon_plus_flat(model: nn.Module, video: torch.Tensor, target: Any, **options: Any) -> torch.Tensor:
    from vidsal_core.saliency.lrp import relevance

    batch, single = _as_batch(video)
    maps = relevance(model, batch, target, "epsilon_plus_flat", **options)
    return maps[0] if single else maps


def _cam(kind: str, model: nn.Module, video: torch.Tensor, target: Any, **options: Any) -> torch.Tensor:
    from vidsal_core.saliency.gradcam import class_activation_map

    return class_activation_map(model, video, target, kind, **options)


@_register("grad_cam", "Grad-CAM (Selvaraju et al., 2017), upsampled trilinearly to the video", _CAM_OPTIONS,
           "vidsal_core.saliency.gradcam:class_activation_map", batched=True)
def _grad_cam(model: nn.Module, video: torch.Tensor, target: Any, **options: Any) -> torch.Tensor:
    return _cam("grad_cam", model, video, target, **options)


@_register("grad_cam_plus_plus", "Grad-CAM++ at the same layer", _CAM_OPTIONS,
           "vidsal_core.saliency.gradcam:class_activation_map", batched=True)
def _grad_cam_plus_plus(model: nn.Module, video: torch.Tensor, target: Any, **options: Any) -> torch.Tensor:
    return _cam("grad_cam_plus_plus", model, video, target, **options)


@_register("xgrad_cam", "XGradCAM at the same layer", _CAM_OPTIONS,
           "vidsal_core.saliency.gradcam:class_activation_map", batched=True)
def _xgrad_cam(model: nn.Module, video: torch.Tensor, target: Any, **options: Any) -> torch.Tensor:
    return _cam("xgrad_cam", model, video, target, **options)


@_register("flow", "Farneback flow magnitude (seed 000's baseline; the model is not asked)",
           {"as_clip": "True (default): float32 (T, C, H, W), the last frame keeping the motion into it; "
                       "False: the (T − 1, H, W) magnitude as flow_magnitude gives it"},
           "vidsal_core.saliency.registry:_flow", batched=False, asks_model=False)
def _flow(model: nn.Module, video: torch.Tensor, target: int, as_clip: bool = True) -> torch.Tensor:
    from vidsal_core.saliency.flow import farneback_flow, flow_magnitude

    speed = flow_magnitude(farneback_flow(video))  # (T - 1, H, W): flow to the next frame
    if not as_clip:
        return speed
    speed = speed.float()
    speed = torch.cat([speed, speed[-1:]])  # the last frame keeps the motion into it
    return speed[:, None].expand_as(video).clone()


@_register("random", "seeded uniform noise: chance level of every metric", {"seed": "the noise's seed (default 0)"},
           "vidsal_core.saliency.registry:_random", batched=False, asks_model=False)
def _random(model: nn.Module, video: torch.Tensor, target: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(int(seed))
    return torch.rand(video.shape, generator=generator)
