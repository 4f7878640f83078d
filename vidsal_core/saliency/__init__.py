"""Saliency methods: gradients (Captum), masking, TSR, LRP / deep Taylor (Zennit), Grad-CAM, optical flow.

One method per module (``vidsal_core.saliency.lrp``, ...); import the one you
need. Every method returns maps with the videos' shape ``(B, T, C, H, W)``
(or ``(T, C, H, W)`` when given one video); time contribution is ``(T,)``.

The names below are also importable from this package directly; each is
loaded from its module on first use, so ``import vidsal_core.saliency`` stays
cheap (no Captum, Zennit or OpenCV until a method is used). The function
``time_contribution`` shares its module's name, so import it from the module:
``from vidsal_core.saliency.time_contribution import time_contribution``.

==============================================  =============================================
module                                          holds
==============================================  =============================================
``gradients``                                   input gradient, Integrated Gradients, SmoothGrad
``masking``                                     masks (frames, windows, blocks, superpixels), baselines
``incremental``                                 masked forward passes of per-frame models, recomputing
                                                only what a mask reaches
``incremental_cnn``                             masked logits of C3D / I3D recomputing only each mask's cone
``time_contribution``                           time contribution of one video and of a dataset
``keyframes``                                   frame-difference keyframes, agreement measures
``tsr``                                         two-step TSR (fast engines), one-step rescaling
``tsr_reference``                               the naive TSR loop, for checking
``attribution``, ``batched``, ``factorised``    TSR's base attribution and its two engines
``flow``                                        Farneback flow, magnitude, correlation, endpoint error
``lrp``                                         LRP and deep Taylor (Zennit), sensitivity analysis
``lrp_fast``                                    deep Taylor in one modified pass (Zennit's result)
``gradcam``                                     Grad-CAM, Grad-CAM++, XGradCAM (pytorch-grad-cam), 3-D CNNs
``registry``                                    ``explain``: every method above by its name, one video
                                                or a batch, an ``Explanation`` back
==============================================  =============================================
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name → module that defines it (imported lazily by ``__getattr__``).
_EXPORTS: dict[str, str] = {
    "input_gradient": "gradients",
    "integrated_gradients": "gradients",
    "smoothgrad": "gradients",
    "predicted_target": "gradients",
    "MaskSet": "masking",
    "frame_masks": "masking",
    "window_masks": "masking",
    "block_masks": "masking",
    "label_masks": "masking",
    "superpixel_masks": "masking",
    "superpixel_labels": "masking",
    "baseline_video": "masking",
    "dataset_mean_frame": "masking",
    "apply_masks": "masking",
    "masked_logits": "masking",
    "IncrementalFrames": "incremental",
    "IncrementalCNN": "incremental_cnn",
    "incremental_masked_logits": "incremental_cnn",
    "dataset_time_contribution": "time_contribution",
    "TimeContribution": "time_contribution",
    "DatasetTimeContribution": "time_contribution",
    "target_log_odds": "time_contribution",
    "detect_keyframes": "keyframes",
    "Keyframes": "keyframes",
    "keyframe_auc": "keyframes",
    "rank_correlation": "keyframes",
    "temporal_agreement": "keyframes",
    "temporal_saliency_rescaling": "tsr",
    "one_step_rescaling": "tsr",
    "TSRResult": "tsr",
    "REFERENCE_CODE_OPTIONS": "tsr",
    "temporal_saliency_rescaling_reference": "tsr_reference",
    "BaseAttribution": "attribution",
    "BatchedEngine": "batched",
    "FactorisedEngine": "factorised",
    "FrameFactorisation": "factorised",
    "farneback_flow": "flow",
    "flow_magnitude": "flow",
    "saliency_magnitude": "flow",
    "per_frame_spearman": "flow",
    "endpoint_error": "flow",
    "relevance": "lrp",
    "deep_taylor": "lrp_fast",
    "class_activation_map": "gradcam",
    "grad_cam": "gradcam",
    "grad_cam_plus_plus": "gradcam",
    "xgrad_cam": "gradcam",
    "explain": "registry",
    "Explanation": "registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
