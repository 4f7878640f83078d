"""The naive TSR loop: one Captum attribution call per mask, as the reference code.

This is the slow twin of :func:`vidsal_core.saliency.tsr.temporal_saliency_rescaling`,
kept to check it. It follows ``getTwoStepRescaling`` of Ismail et al.'s public
code (``TS-Interpretability-Benchmark``, ``MNIST Experiments/Scripts/interpret.py``)
step by step, generalised to videos:

- the base attribution once on the unmasked video (``Saliency`` or
  ``IntegratedGradients``, a Captum call);
- for each frame ``t``: a clone of the video with frame ``t`` set to the mask
  value, a fresh Captum call, ``Δ_t = Σ |R(X) − R(X̄)|``;
- min-max scaling of ``Δ_t``, ``α = quantile(·, 0.55)``;
- for each frame above ``α``, each block (``range(0, H, b)`` × ``range(0, W, b)``
  slices, as seed 000's port) or each region of a label map: a clone with
  that feature set to the mask value, a fresh Captum call, ``Δ_i``;
- the product of time and feature scores.

Nothing is batched or shared between calls: ``1 + T + |{t > α}| · F``
attribution calls, each a full forward and backward pass (``n_steps`` of each
for Integrated Gradients). The options and their defaults are those of
:func:`~vidsal_core.saliency.tsr.temporal_saliency_rescaling`; sums of
absolute changes are accumulated in float64 here (the reference code sums in
the attribution's own precision), which only removes rounding noise.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from vidsal_core.saliency.attribution import BaseAttribution
from vidsal_core.saliency.checks import check_eval_mode, check_video, model_logits, resolve_targets
from vidsal_core.saliency.masking import baseline_video
from vidsal_core.saliency.tsr import (
    TSRResult,
    base_attribution,
    check_options,
    min_max_scale,
    region_labels,
)


def _change(base: torch.Tensor, attribution: torch.Tensor) -> torch.Tensor:
    """``Σ |R(X) − R(X̄)|`` in float64."""
    return (base - attribution).abs().sum(dtype=torch.float64)


def temporal_saliency_rescaling_reference(
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
) -> TSRResult:
    """Two-step TSR by the naive loop; same arguments and result as the fast version.

    See :func:`vidsal_core.saliency.tsr.temporal_saliency_rescaling` for the
    parameters. ``TSRResult.engine`` is ``"reference"``.

    Examples
    --------
    The example of :func:`~vidsal_core.saliency.tsr.temporal_saliency_rescaling`,
    by the naive loop (one Captum call per mask), gives the same map:

    >>> import torch
    >>> from torch import nn
    >>> from vidsal_core.saliency.tsr_reference import temporal_saliency_rescaling_reference
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 1 * 4 * 4, 2)).eval()
    >>> with torch.no_grad():
    ...     _ = model[1].weight.zero_()
    ...     _ = model[1].weight[0, 32:48].fill_(1.0)  # class 0 reads only frame 2
    ...     _ = model[1].bias.copy_(torch.tensor([0.0, 1.0]))
    >>> result = temporal_saliency_rescaling_reference(model, torch.ones(4, 1, 4, 4), method="integrated_gradients",
    ...                                                n_steps=4, block_size=2)
    >>> result.engine, result.selected.tolist(), result.attribution_calls
    ('reference', [False, False, True, False], 9)
    >>> torch.allclose(result.saliency[2], torch.full((1, 4, 4), 64.0))
    True
    """
    started = time.perf_counter()
    check_video(video)
    check_eval_mode(model)
    check_options(mask_value, threshold_quantile, time_scaling, feature_scaling, below_threshold)
    video = video.detach()
    target_class = int(resolve_targets(target, model_logits(model, video[None]))[0])
    attribution = base_attribution(method, absolute, n_steps, ig_baseline)
    frames, channels, height, width = video.shape
    if not isinstance(features, str) or features == "blocks":
        region_labels(video, features, block_size, n_segments, compactness)
    values = baseline_video(video, mask_value, mean=mask_mean)

    base = attribution.captum(model, video, target_class)
    time_relevance = torch.zeros(frames, dtype=torch.float64)
    for frame in range(frames):
        masked = video.clone()
        masked[frame] = values[frame]
        time_relevance[frame] = _change(base, attribution.captum(model, masked, target_class))

    scaled_time = min_max_scale(time_relevance)
    threshold = float(torch.quantile(scaled_time, threshold_quantile))
    selected = scaled_time > threshold
    labels = region_labels(video, features, block_size, n_segments, compactness, torch.nonzero(selected).flatten())
    time_scores = scaled_time if time_scaling == "minmax" else time_relevance
    feature_relevance = torch.zeros(frames, height, width, dtype=torch.float64)
    feature_scores = torch.full((frames, height, width), float(below_threshold), dtype=torch.float64)
    calls = 1 + frames
    block_height, block_width = (block_size, block_size) if isinstance(block_size, int) else block_size
    for frame in range(frames):
        if not scaled_time[frame] > threshold:
            continue
        relevance = torch.zeros(height, width, dtype=torch.float64)
        region_values = []
        if features == "blocks":
            for row in range(0, height, block_height):
                for column in range(0, width, block_width):
                    masked = video.clone()
                    window = (slice(None), slice(row, row + block_height), slice(column, column + block_width))
                    masked[frame][window] = values[frame][window]
                    change = _change(base, attribution.captum(model, masked, target_class))
                    relevance[window[1:]] = change
                    region_values.append(change)
                    calls += 1
        else:
            frame_labels = labels[frame]
            for label in range(int(frame_labels.max()) + 1):
                inside = frame_labels == label
                masked = video.clone()
                masked[frame][:, inside] = values[frame][:, inside]
                change = _change(base, attribution.captum(model, masked, target_class))
                relevance[inside] = change
                region_values.append(change)
                calls += 1
        feature_relevance[frame] = relevance
        if feature_scaling == "minmax":
            low, high = min(region_values), max(region_values)
            span = float(high - low)
            feature_scores[frame] = (relevance - low) / span if span > 0 else torch.zeros_like(relevance)
        else:
            feature_scores[frame] = relevance
    product = time_scores[:, None, None] * feature_scores
    saliency = product[:, None].expand(frames, channels, height, width).to(video)
    return TSRResult(
        saliency=saliency, time_relevance=time_relevance, time_scores=time_scores, threshold=threshold,
        selected=selected, feature_relevance=feature_relevance, feature_scores=feature_scores,
        regions=labels.cpu(), base_attribution=base, target=target_class, attribution_calls=calls,
        engine="reference", seconds=time.perf_counter() - started,
        options={"method": attribution.name, "mask_value": mask_value if isinstance(mask_value, (str, int, float)) else "tensor",
                 "threshold_quantile": threshold_quantile, "time_scaling": time_scaling,
                 "feature_scaling": feature_scaling, "below_threshold": below_threshold},
    )
