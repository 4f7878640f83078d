"""Two-step Temporal Saliency Rescaling (TSR), exact and fast, and one-step rescaling.

TSR (Ismail et al., 2020, Algorithm 1; quoted as Figure 3 of seed 000)
rescales a base attribution ``R`` by how much ``R`` itself changes when part of
the input is masked:

1. *Time relevance.* For every frame ``t``, mask the whole frame and compute
   ``Δ_t = Σ |R(X) − R(X̄)|`` over every value of the video.
2. *Threshold.* Min-max scale ``Δ_t`` over time; ``α`` is its 0.55 quantile
   (the reference code's choice; Algorithm 1 leaves ``α`` open).
3. *Feature relevance.* In every frame with scaled ``Δ_t > α``, mask one
   feature at a time (here a spatial block, a superpixel or any region,
   across all channels) and compute ``Δ_i`` the same way. Frames at or below
   ``α`` get a constant feature relevance.
4. ``R^TSR[t, i] = time_score[t] · feature_score[t, i]``.

:func:`temporal_saliency_rescaling` computes exactly this, with two engines
for the ``1 + T + |{t > α}| · F`` masked attributions:

``"factorised"``
    For models with a per-frame encoder (frame-CNN + LSTM, input-cell
    attention LSTM): encoder Jacobians once, then each masked map costs a
    single-frame pass and a matrix product (:mod:`vidsal_core.saliency.factorised`).
``"batched"``
    Any model: masked videos in batches (:mod:`vidsal_core.saliency.batched`).

Both agree with the naive loop :func:`vidsal_core.saliency.tsr_reference.temporal_saliency_rescaling_reference`
(one Captum call per mask, as the reference code) up to rounding.

Defaults and options
--------------------
The defaults follow Algorithm 1 literally where it is explicit, and the
reference code (``getTwoStepRescaling`` in Ismail et al.'s public repository)
where Algorithm 1 is silent:

=====================  ==========================  ==============================
option                 default (Algorithm 1)        reference code
=====================  ==========================  ==============================
``mask_value``         ``"zero"`` (X̄ = 0)           ``"first_element"`` (X[0,0,0])
``threshold_quantile`` 0.55 (reference's α)         0.55
``time_scaling``       ``"none"`` (raw Δ_t)          ``"minmax"``
``feature_scaling``    ``"none"`` (raw Δ_i)          ``"minmax"`` per frame
``below_threshold``    0.0                          0.1
base attribution       ``|gradient|``               ``|gradient|`` (Captum Saliency)
=====================  ==========================  ==============================

:data:`REFERENCE_CODE_OPTIONS` holds the right-hand column. Whatever the
scaling, frames are selected by comparing the min-max scaled ``Δ_t`` with its
quantile, as the reference does (a quantile commutes with the increasing
affine min-max map, so this is the same as comparing raw values). A
constant ``Δ_t`` scales to zeros (scikit-learn's ``minmax_scale``), selecting
no frame. Sums of absolute changes are totalled in float64 (the factorised
engine sums each block of pixels of a frame in the working precision first).

Deliberate differences from seed 000's code: blocks are masked in the frame
being scored (the seed's masked frame 1 whatever ``t`` was), block relevance
can be min-max scaled, TSR explains the predicted class unless told (the
seed always used label 1), and the model stays in eval mode (the seed called
``model.train()``).

References
----------
Ismail, A. A., Gunady, M., Corrada Bravo, H. and Feizi, S. (2020).
Benchmarking deep learning interpretability in time series predictions.
NeurIPS 33, 6441–6452.
Jayawardhana, M., Kakde, S. and Dorbala, V. S. Interpretability of video
classifiers (seed 000), §4.2.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.attribution import BaseAttribution
from vidsal_core.saliency.checks import (
    check_eval_mode,
    check_finite,
    check_video,
    model_logits,
    resolve_targets,
)
from vidsal_core.saliency.masking import (
    DEFAULT_MAX_BATCH_BYTES,
    baseline_video,
    block_labels,
    frame_masks,
    label_masks,
    superpixel_labels,
)
from vidsal_core.saliency.batched import BatchedEngine
from vidsal_core.saliency.factorised import FactorisedEngine, FrameFactorisation
from vidsal_core.saliency.factorised import DEFAULT_MAX_JACOBIAN_BYTES

#: Engines :func:`temporal_saliency_rescaling` offers.
ENGINES: tuple[str, ...] = ("auto", "factorised", "batched")
#: Scalings of relevance scores.
SCALINGS: tuple[str, ...] = ("none", "minmax")
#: The options of the reference code's ``getTwoStepRescaling`` (Ismail et al., 2020).
REFERENCE_CODE_OPTIONS: dict[str, Any] = {
    "mask_value": "first_element",
    "threshold_quantile": 0.55,
    "time_scaling": "minmax",
    "feature_scaling": "minmax",
    "below_threshold": 0.1,
}


def min_max_scale(values: torch.Tensor) -> torch.Tensor:
    """``(v − min) / (max − min)``; a constant input gives zeros (as scikit-learn's ``minmax_scale``)."""
    low, high = values.min(), values.max()
    span = high - low
    if float(span) == 0.0:
        return torch.zeros_like(values)
    return (values - low) / span


@dataclass
class TSRResult:
    """What :func:`temporal_saliency_rescaling` computed.

    Attributes
    ----------
    saliency : torch.Tensor
        ``(T, C, H, W)`` TSR map (non-negative: plot with a sequential map).
    time_relevance : torch.Tensor
        ``(T,)`` float64 raw ``Δ_t``.
    time_scores : torch.Tensor
        ``(T,)`` the time factor used in the product (raw or min-max scaled).
    threshold : float
        ``α``, the quantile of the min-max scaled ``Δ_t``.
    selected : torch.Tensor
        ``(T,)`` bool, frames whose scaled ``Δ_t`` exceeds ``α``.
    feature_relevance : torch.Tensor
        ``(T, H, W)`` float64 raw ``Δ_i`` of the region each pixel belongs to
        (zero in frames not selected).
    feature_scores : torch.Tensor
        ``(T, H, W)`` the feature factor used in the product.
    regions : torch.Tensor
        ``(T, H, W)`` region labels the features were masked by.
    base_attribution : torch.Tensor
        ``(T, C, H, W)`` the base attribution ``R(X)``.
    target : int
        The class explained.
    attribution_calls : int
        Masked attributions computed, ``1 + T + Σ regions of selected frames``:
        what the naive loop pays in full forward and backward passes (times
        ``n_steps`` for Integrated Gradients).
    engine : str
        ``"factorised"``, ``"batched"`` or ``"reference"``.
    seconds : float
        Wall-clock time.
    options : dict
        The options used.
    """

    saliency: torch.Tensor
    time_relevance: torch.Tensor
    time_scores: torch.Tensor
    threshold: float
    selected: torch.Tensor
    feature_relevance: torch.Tensor
    feature_scores: torch.Tensor
    regions: torch.Tensor
    base_attribution: torch.Tensor
    target: int
    attribution_calls: int
    engine: str
    seconds: float
    options: dict[str, Any] = field(default_factory=dict)


def check_options(mask_value: Any, threshold_quantile: float, time_scaling: str, feature_scaling: str,
                  below_threshold: float) -> None:
    """Raise :class:`ConfigError` on a TSR option that cannot be honoured."""
    if isinstance(threshold_quantile, bool) or not isinstance(threshold_quantile, (int, float)) \
            or not 0.0 <= threshold_quantile <= 1.0:
        raise ConfigError(f"threshold_quantile={threshold_quantile!r}: expected a number in [0, 1]")
    for name, value in (("time_scaling", time_scaling), ("feature_scaling", feature_scaling)):
        if value not in SCALINGS:
            raise ConfigError(f"{name}={value!r}: choose one of {list(SCALINGS)}")
    if isinstance(below_threshold, bool) or not isinstance(below_threshold, (int, float)) \
            or not torch.isfinite(torch.tensor(float(below_threshold))):
        raise ConfigError(f"below_threshold={below_threshold!r}: expected a finite number")


def base_attribution(method: str | BaseAttribution, absolute: bool, n_steps: int, ig_baseline: Any) -> BaseAttribution:
    """The :class:`BaseAttribution` a TSR call describes."""
    if isinstance(method, BaseAttribution):
        return method
    return BaseAttribution(method=method, absolute=absolute, n_steps=n_steps, baseline=ig_baseline)


def region_labels(
    video: torch.Tensor,
    features: str | torch.Tensor,
    block_size: int | tuple[int, int],
    n_segments: int,
    compactness: float,
    frames: torch.Tensor | None = None,
) -> torch.Tensor:
    """``(T, H, W)`` region labels: blocks, SLIC superpixels, or given labels.

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)``.
    features : "blocks", "superpixels" or torch.Tensor
        How to cut frames into features; a tensor is a label map, ``(H, W)``
        for every frame or ``(T, H, W)``.
    block_size : int or (int, int)
        Block size for ``"blocks"``.
    n_segments, compactness : int, float
        SLIC settings for ``"superpixels"`` (see
        :func:`~vidsal_core.saliency.masking.superpixel_labels`).
    frames : torch.Tensor, optional
        Frames that need labels (superpixels are only computed there).
    """
    frames_count, _, height, width = video.shape
    if isinstance(features, torch.Tensor):
        labels = features
        if labels.dim() == 2 and tuple(labels.shape) == (height, width):
            labels = labels.expand(frames_count, height, width)
        if labels.dim() != 3 or tuple(labels.shape) != (frames_count, height, width) or labels.is_floating_point():
            raise ConfigError(
                f"features: a label map must be integer (H, W) or (T, H, W) = {(frames_count, height, width)}, "
                f"got {tuple(features.shape)}"
            )
        if bool((labels < 0).any()):
            raise ConfigError("features: region labels must be non-negative")
        return labels.long()
    if features == "blocks":
        return block_labels(height, width, block_size).expand(frames_count, height, width)
    if features == "superpixels":
        if frames is not None and frames.numel() == 0:
            return torch.zeros(frames_count, height, width, dtype=torch.long)
        return superpixel_labels(video, n_segments=n_segments, compactness=compactness, frames=frames)
    raise ConfigError(f"features={features!r}: choose 'blocks', 'superpixels' or give a label map")


def make_engine(engine: str, model: nn.Module, video: torch.Tensor, target: int, attribution: BaseAttribution,
                max_batch_bytes: int, batch_size: int | None, max_jacobian_bytes: int):
    """Build the engine ``engine`` names; ``"auto"`` prefers the factorised one where the model allows."""

    if engine not in ENGINES:
        raise ConfigError(f"engine={engine!r}: choose one of {list(ENGINES)}")
    if engine == "batched" or (engine == "auto" and FrameFactorisation.of(model) is None):
        return BatchedEngine(model, video, target, attribution, max_batch_bytes, batch_size)
    try:
        return FactorisedEngine(model, video, target, attribution, max_batch_bytes, batch_size, max_jacobian_bytes)
    except ConfigError as error:
        if engine == "factorised":
            raise
        warnings.warn(f"TSR falls back to engine='batched': {error}", stacklevel=3)
        return BatchedEngine(model, video, target, attribution, max_batch_bytes, batch_size)


def select_frames(time_relevance: torch.Tensor, threshold_quantile: float) -> tuple[torch.Tensor, float, torch.Tensor]:
    """``(scaled Δ_t, α, selected)``: the reference code's threshold on min-max scaled time relevance."""
    scaled = min_max_scale(time_relevance)
    threshold = float(torch.quantile(scaled, threshold_quantile))
    return scaled, threshold, scaled > threshold


def combine(
    video: torch.Tensor,
    time_relevance: torch.Tensor,
    scaled_time: torch.Tensor,
    selected: torch.Tensor,
    labels: torch.Tensor,
    region_relevance: dict[int, torch.Tensor],
    time_scaling: str,
    feature_scaling: str,
    below_threshold: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Step 4: ``(saliency, time_scores, feature_relevance, feature_scores)`` from the Δ's.

    ``region_relevance[t]`` holds ``Δ_i`` of frame ``t``'s regions, by label.
    """
    frames, channels, height, width = video.shape
    time_scores = scaled_time if time_scaling == "minmax" else time_relevance
    feature_relevance = torch.zeros(frames, height, width, dtype=torch.float64)
    feature_scores = torch.full((frames, height, width), float(below_threshold), dtype=torch.float64)
    for frame, relevance in region_relevance.items():
        scores = min_max_scale(relevance) if feature_scaling == "minmax" else relevance
        frame_labels = labels[frame].cpu()
        feature_relevance[frame] = relevance.cpu()[frame_labels]
        feature_scores[frame] = scores.cpu()[frame_labels]
    product = time_scores.cpu()[:, None, None] * feature_scores
    saliency = product[:, None].expand(frames, channels, height, width).to(video)
    return saliency, time_scores, feature_relevance, feature_scores


def temporal_saliency_rescaling(
    model: nn.Module,
    video: torch.Tensor,
    target: int | None = None,
    *,
    method: str | BaseAttribution = "gradient",
    absolute: bool = True,
    n_steps: int = 50,
    ig_baseline: Any = "zero",
    features: str | torch.Tensor = "blocks",
    block_size: int | tuple[int, int] = 10,
    n_segments: int = 100,
    compactness: float = 0.1,
    mask_value: str | float | torch.Tensor = "zero",
    mask_mean: float | torch.Tensor | None = None,
    threshold_quantile: float = 0.55,
    time_scaling: str = "none",
    feature_scaling: str = "none",
    below_threshold: float = 0.0,
    engine: str = "auto",
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    batch_size: int | None = None,
    max_jacobian_bytes: int | None = None,
) -> TSRResult:
    """Two-step Temporal Saliency Rescaling of one video (Ismail et al., 2020, Algorithm 1).

    Parameters
    ----------
    model : nn.Module
        In eval mode; ``(B, T, C, H, W)`` → ``(B, classes)`` logits.
    video : torch.Tensor
        ``(T, C, H, W)`` float, finite.
    target : int, optional
        Class to explain; None = the predicted class.
    method : {"gradient", "integrated_gradients"} or BaseAttribution, default "gradient"
        The base attribution ``R``.
    absolute : bool, default True
        ``|gradient|`` (reference) or signed gradient, for ``method="gradient"``.
    n_steps : int, default 50
        Path points, for Integrated Gradients.
    ig_baseline : "zero", float or torch.Tensor, default "zero"
        Integrated Gradients' starting point.
    features : "blocks", "superpixels" or torch.Tensor, default "blocks"
        What one feature is: a ``block_size`` block (seed 000: 10 × 10), a
        SLIC superpixel of the frame, or a region of a given label map.
        A feature always spans all channels.
    block_size : int or (int, int), default 10
        Block size in pixels for ``features="blocks"``; larger than the frame
        raises :class:`ConfigError`.
    n_segments : int, default 100
        Superpixels per frame for ``features="superpixels"``.
    compactness : float, default 0.1
        SLIC compactness for ``features="superpixels"``.
    mask_value : str, float or torch.Tensor, default "zero"
        What masked values become (see :func:`~vidsal_core.saliency.masking.baseline_video`):
        ``"zero"`` (Algorithm 1), ``"first_element"`` (reference code),
        ``"mean"`` (with ``mask_mean``), ``"blur"``, a number or a tensor.
    mask_mean : float or torch.Tensor, optional
        Dataset mean for ``mask_value="mean"``.
    threshold_quantile : float, default 0.55
        ``α`` is this quantile of the min-max scaled time relevance.
    time_scaling : {"none", "minmax"}, default "none"
        The time factor of the product: raw ``Δ_t`` (Algorithm 1) or min-max
        scaled (reference code).
    feature_scaling : {"none", "minmax"}, default "none"
        The feature factor: raw ``Δ_i`` (Algorithm 1) or min-max scaled over
        the features of each frame (reference code).
    below_threshold : float, default 0.0
        Feature factor of frames at or below ``α`` (Algorithm 1: 0; reference: 0.1).
    engine : {"auto", "factorised", "batched"}, default "auto"
        ``"auto"`` uses the factorised engine when the model has a per-frame
        encoder and its Jacobians fit in ``max_jacobian_bytes``, else batched.
    max_batch_bytes : int, default 512 MiB
        Memory bound of one batch of masks.
    batch_size : int, optional
        Masks per batch, overriding the memory bound (results do not depend on it).
    max_jacobian_bytes : int, optional
        Bound on the factorised engine's stored Jacobians (default 4 GiB).

    Returns
    -------
    TSRResult
        The map and every intermediate score.

    Raises
    ------
    ConfigError
        Bad video (shape, NaN, inf), target outside the classes, model in
        training mode, block larger than the frame, unknown option, or an
        attribution that turns out NaN or infinite.

    Examples
    --------
    Integrated Gradients of a linear model is input × weights, so masking frame 2
    of a white video changes ``R`` by 16 and every other frame by 0; each 2 × 2
    block of frame 2 changes it by 4:

    >>> import torch
    >>> from torch import nn
    >>> from vidsal_core.saliency.tsr import temporal_saliency_rescaling
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 1 * 4 * 4, 2)).eval()
    >>> with torch.no_grad():
    ...     _ = model[1].weight.zero_()
    ...     _ = model[1].weight[0, 32:48].fill_(1.0)  # class 0 reads only frame 2
    ...     _ = model[1].bias.copy_(torch.tensor([0.0, 1.0]))
    >>> result = temporal_saliency_rescaling(model, torch.ones(4, 1, 4, 4), method="integrated_gradients",
    ...                                      n_steps=4, block_size=2, engine="batched")
    >>> result.selected.tolist(), [round(delta, 4) for delta in result.time_relevance.tolist()]
    ([False, False, True, False], [0.0, 0.0, 16.0, 0.0])
    >>> torch.allclose(result.saliency[2], torch.full((1, 4, 4), 16.0 * 4.0))  # time × feature relevance
    True
    >>> result.saliency[[0, 1, 3]].abs().sum().item()  # frames below the threshold
    0.0
    >>> result.attribution_calls  # the unmasked video, 4 frames, 4 blocks of frame 2
    9
    """

    started = time.perf_counter()
    check_video(video)
    check_eval_mode(model)
    check_options(mask_value, threshold_quantile, time_scaling, feature_scaling, below_threshold)
    video = video.detach()
    target_class = int(resolve_targets(target, model_logits(model, video[None]))[0])
    attribution = base_attribution(method, absolute, n_steps, ig_baseline)
    if not isinstance(features, str) or features == "blocks":
        region_labels(video, features, block_size, n_segments, compactness)  # refuse bad features before any compute
    elif features != "superpixels":
        raise ConfigError(f"features={features!r}: choose 'blocks', 'superpixels' or give a label map")
    values = baseline_video(video, mask_value, mean=mask_mean)
    runner = make_engine(engine, model, video, target_class, attribution, max_batch_bytes, batch_size,
                         max_jacobian_bytes if max_jacobian_bytes is not None else DEFAULT_MAX_JACOBIAN_BYTES)
    check_finite(runner.base, f"{attribution.name} attribution")

    steps = rescaling_steps(runner, video, values, features, block_size, n_segments, compactness, threshold_quantile,
                            time_scaling, feature_scaling, below_threshold)
    options = {
        "method": attribution.name, "features": features if isinstance(features, str) else "labels",
        "block_size": block_size, "mask_value": mask_value if isinstance(mask_value, (str, int, float)) else "tensor",
        "threshold_quantile": threshold_quantile, "time_scaling": time_scaling,
        "feature_scaling": feature_scaling, "below_threshold": below_threshold,
    }
    return steps.result(runner, target_class, time.perf_counter() - started, options)


class RescalingSteps(NamedTuple):
    """TSR's two steps on one engine and one mask value (:func:`rescaling_steps`), before the result is assembled."""

    saliency: torch.Tensor
    time_relevance: torch.Tensor
    time_scores: torch.Tensor
    threshold: float
    selected: torch.Tensor
    feature_relevance: torch.Tensor
    feature_scores: torch.Tensor
    regions: torch.Tensor
    calls: int

    def result(self, runner: Any, target: int, seconds: float, options: dict[str, Any]) -> TSRResult:
        """The :class:`TSRResult` of these steps, computed by ``runner`` for ``target``."""
        return TSRResult(
            saliency=self.saliency, time_relevance=self.time_relevance, time_scores=self.time_scores,
            threshold=self.threshold, selected=self.selected.cpu(), feature_relevance=self.feature_relevance,
            feature_scores=self.feature_scores, regions=self.regions.cpu(), base_attribution=runner.base,
            target=target, attribution_calls=self.calls, engine=runner.name, seconds=seconds, options=options,
        )


def rescaling_steps(runner: Any, video: torch.Tensor, values: torch.Tensor, features: Any, block_size: Any,
                    n_segments: int, compactness: float, threshold_quantile: float, time_scaling: str,
                    feature_scaling: str, below_threshold: float) -> RescalingSteps:
    """TSR's two steps with an engine already built (:func:`make_engine`) and the mask's replacement ``values``.

    Step 1 masks each frame and scores how much the attribution changes (``Δ_t``); frames above the
    threshold are selected; step 2 masks each region of a selected frame (``Δ_i``); :func:`combine` makes the
    map. The engine's base attribution and Jacobians do not depend on ``values``, so one engine serves every
    mask value (a mask-value ablation calls this once per value).
    """
    frames, _, height, width = video.shape
    time_relevance = check_finite(runner.changes(frame_masks(frames, height, width), values), "time relevance Δ_t").cpu()
    scaled_time, threshold, selected = select_frames(time_relevance, threshold_quantile)
    chosen = torch.nonzero(selected).flatten()
    labels = region_labels(video, features, block_size, n_segments, compactness, chosen)
    region_relevance: dict[int, torch.Tensor] = {}
    calls = 1 + frames
    if chosen.numel():
        masks = label_masks(labels, chosen)
        changes = check_finite(runner.changes(masks, values), "feature relevance Δ_i").cpu()
        calls += len(masks)
        for frame in chosen.tolist():
            region_relevance[frame] = changes[masks.starts == frame]
    saliency, time_scores, feature_relevance, feature_scores = combine(
        video, time_relevance, scaled_time, selected, labels, region_relevance,
        time_scaling, feature_scaling, below_threshold)
    return RescalingSteps(saliency, time_relevance, time_scores, threshold, selected, feature_relevance,
                          feature_scores, labels, calls)


def one_step_rescaling(saliency: torch.Tensor, time_contribution: torch.Tensor, scaling: str = "minmax") -> torch.Tensor:
    """Seed 000's one-step method (§4.2.1): a saliency map scaled frame by frame by time contribution.

    ``result[t] = saliency[t] · w[t]`` with ``w`` the time contribution
    (seed 000 §4.1: the drop in the target's probability when frame ``t`` is
    masked; :func:`~vidsal_core.saliency.time_contribution.time_contribution`)
    min-max scaled to [0, 1] over time, so the least useful frame is zeroed
    and negative contributions never flip a map's sign. TSR's own time
    relevance ``Δ_t`` (:attr:`TSRResult.time_relevance`) can be passed instead.

    Parameters
    ----------
    saliency : torch.Tensor
        ``(T, C, H, W)`` (or ``(B, T, C, H, W)`` with ``(B, T)`` weights).
    time_contribution : torch.Tensor
        ``(T,)`` (or ``(B, T)``), one score per frame.
    scaling : {"minmax", "none"}, default "minmax"
        Scale the scores to [0, 1] per video, or use them as they are.

    Examples
    --------
    Time contribution min-max scaled to [0, 1] weighs each frame of the map:

    >>> import torch
    >>> from vidsal_core.saliency.tsr import one_step_rescaling
    >>> saliency = torch.ones(4, 1, 2, 2)
    >>> rescaled = one_step_rescaling(saliency, torch.tensor([1.0, 3.0, 5.0, 2.0]))
    >>> rescaled.shape, rescaled[:, 0, 0, 0].tolist()
    (torch.Size([4, 1, 2, 2]), [0.0, 0.5, 1.0, 0.25])
    >>> one_step_rescaling(saliency, torch.tensor([1.0, 3.0, 5.0, 2.0]), scaling="none")[:, 0, 0, 0].tolist()
    [1.0, 3.0, 5.0, 2.0]
    """
    if scaling not in ("minmax", "none"):
        raise ConfigError(f"scaling={scaling!r}: choose 'minmax' or 'none'")
    if not isinstance(saliency, torch.Tensor) or saliency.dim() not in (4, 5):
        raise ConfigError("saliency: expected (T, C, H, W) or (B, T, C, H, W)")
    check_finite(saliency, "saliency")
    weights = torch.as_tensor(time_contribution).to(saliency.device)
    check_finite(weights, "time_contribution")
    if tuple(weights.shape) != tuple(saliency.shape[:-3]):
        raise ConfigError(
            f"time_contribution: shape {tuple(weights.shape)}, expected {tuple(saliency.shape[:-3])} (one per frame)"
        )
    if scaling == "minmax":
        weights = torch.stack([min_max_scale(row) for row in weights.reshape(-1, weights.shape[-1])]).reshape(weights.shape)
    return saliency * weights.to(saliency.dtype)[..., None, None, None]
