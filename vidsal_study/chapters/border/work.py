"""The per-item work of the border sweeps: one clip explained one way, and the sweeps built from such items.

:func:`explain_clip` is the sweeps' work function (:mod:`vidsal_study.sweeps`):
a ``(video, setting)`` pair to the clip's frame-wise relevance and the trained
model's top classes. :func:`run_items` runs (or resumes) a sweep of it under
``data/sweeps/`` and :func:`results_frame` tabulates what it returns.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from vidsal_study.chapters.border import clips, models
from vidsal_study.chapters.border.settings import CAM_BLOCK4_LAYERS, EXPLANATIONS, LOGITS_ONLY, TOP_K, WORK_VERSION
from vidsal_core.metrics.relevance import border_coefficient, frame_relevance, lookahead_coefficient, relevance_share
from vidsal_study.sweeps import SweepItem, canonical_json, run_sweep, sweep_directory
from vidsal_core.errors import ConfigError
from vidsal_core.saliency.registry import explain

# --- one clip, one explanation ------------------------------------------------------------------------------


def explanation_map(model: nn.Module, clip: torch.Tensor, target: int, method: str) -> torch.Tensor:
    """One explanation of one ``(T, C, H, W)`` clip: ``(T, C, H, W)`` relevance of class ``target``.

    ``method``: ``deep_taylor`` (proportional max pooling, the seed's), ``deep_taylor_winner_take_all``,
    ``grad_cam_block4`` (Grad-CAM at the layer of :data:`CAM_BLOCK4_LAYERS`), or any other method of the
    saliency registry with its default options (:func:`vidsal_core.saliency.registry.explain`: ``sensitivity``,
    ``epsilon_plus_flat``, or a class activation map of :mod:`vidsal_core.saliency.gradcam`, ``grad_cam``,
    ``grad_cam_plus_plus``, ``xgrad_cam``, at the model's default layer, upsampled trilinearly to the clip).
    """

    if method == "grad_cam_block4":
        kind = getattr(model, "model_name", None)
        if kind not in CAM_BLOCK4_LAYERS:
            raise ConfigError(f"explanation Grad-CAM-4: no layer for model {kind!r}; known {CAM_BLOCK4_LAYERS}")
        return explain(model, clip, "grad_cam", target, target_layer=CAM_BLOCK4_LAYERS[kind]).maps
    if method == "deep_taylor":
        return explain(model, clip, "deep_taylor", target, max_pool="proportional").maps
    if method == "deep_taylor_winner_take_all":
        return explain(model, clip, "deep_taylor", target, max_pool="winner_take_all").maps
    return explain(model, clip, method, target).maps


_LAST_CLIP: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}


def _clip_and_logits(video: Mapping[str, Any], setting: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """The clip and the trained model's logits, kept for the next item of the same clip (its other explanations)."""
    key = canonical_json({"video": video, "model": setting["model"], "clip_length": setting["clip_length"],
                          "step": setting["step"], "offset": setting["offset"]})
    if key not in _LAST_CLIP:
        clip = clips.load_clip(video, setting)
        with torch.no_grad():
            logits = models.model_for(setting["model"], "trained")(clip[None])[0].double()
        _LAST_CLIP.clear()
        _LAST_CLIP[key] = (clip, logits)
    return _LAST_CLIP[key]


def explain_clip(video: Mapping[str, Any], setting: Mapping[str, Any]) -> dict[str, Any]:
    """Frame-wise relevance of one clip explained one way, and the trained model's top classes.

    Parameters
    ----------
    video : mapping
        A descriptor from :func:`synthkth_videos` or :func:`footage_videos`.
    setting : mapping
        ``model`` (a descriptor from :func:`c3d_descriptor` / :func:`i3d_descriptor`),
        ``clip_length``, ``step``, ``offset``, ``explanation`` (a key of
        :data:`EXPLANATIONS`, or :data:`LOGITS_ONLY` to classify only) and ``version``.

    Returns
    -------
    dict
        ``frame_relevance`` (T floats), ``target`` (the trained model's top-1
        class, the class explained), ``top`` (its five best classes, best
        first) and ``top_logits``.
    """
    clip, logits = _clip_and_logits(video, setting)
    top_logits, top = logits.topk(min(5, logits.numel()))
    target = int(top[0])
    if setting["explanation"] == LOGITS_ONLY:
        return {"frame_relevance": [], "target": target, "top": top.tolist(), "top_logits": top_logits.tolist()}
    weights, method = EXPLANATIONS[setting["explanation"]]
    model = models.model_for(setting["model"], weights)
    with torch.enable_grad():
        relevance = explanation_map(model, clip, target, method)
    return {"frame_relevance": frame_relevance(relevance).tolist(), "target": target,
            "top": top.tolist(), "top_logits": top_logits.tolist()}


# --- sweeps of it -------------------------------------------------------------------------------------------


def sweep_items(videos: Sequence[Mapping[str, Any]], model: Mapping[str, Any], clip_length: int,
                steps: Sequence[int], offsets: Sequence[int], explanations: Sequence[str]) -> list[SweepItem]:
    """Every (video, step, offset, explanation) whose clip fits in its video."""
    return [
        SweepItem(video, {"model": model, "clip_length": clip_length, "step": step, "offset": offset,
                          "explanation": explanation, "version": WORK_VERSION})
        for video in videos for step in steps for offset in offsets
        if clips.clip_fits(video, clip_length, step, offset) for explanation in explanations
    ]


def results_frame(items: Sequence[SweepItem], results: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per item: the video, the clip, the explanation, the share vector, both coefficients, top-k hits."""
    rows = []
    for item, result in zip(items, results):
        video, setting = item.video, item.setting
        frames = np.asarray(result["frame_relevance"], dtype=float)
        share = relevance_share(frames) if frames.size else np.full(int(setting["clip_length"]), np.nan)
        label = video.get("label")
        top = list(result["top"])
        row = {
            "source": video["source"], "video": video.get("key", video.get("name")),
            "group": video.get("person", video.get("name")), "action": video.get("action"),
            "title_frames": video.get("title_frames", 0), "model": setting["model"]["kind"],
            "step": setting["step"], "offset": setting["offset"], "explanation": setting["explanation"],
            "share": share, "frame_relevance": frames,
            "relevance_total": float(frames.sum()) if frames.size else np.nan,
            "border": float(border_coefficient(share)) if frames.size else np.nan,
            "lookahead": float(lookahead_coefficient(share)) if frames.size else np.nan,
            "target": result["target"], "label": label,
        }
        for k in TOP_K:
            row[f"top{k}"] = float(label in top[:k]) if label is not None else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def run_items(name: str, items: Sequence[SweepItem], progress: bool = True, executor: Any = None) -> pd.DataFrame:
    """Run (or resume) a sweep of :func:`explain_clip` and return :func:`results_frame` of it."""
    if not items:
        return results_frame([], [])
    directory = sweep_directory(name, {"work": "vidsal_study.chapters.border.explain_clip", "version": WORK_VERSION,
                                       "model": items[0].setting["model"]})
    results = run_sweep(explain_clip, items, directory, progress=progress, description=name, executor=executor)
    return results_frame(items, results)

