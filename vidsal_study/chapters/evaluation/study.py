"""The evaluation chapter's sweep: every saliency method × model, scored for localisation and faithfulness.

One sweep item is one SynthKTH test clip explained by one method on one
model (a run of the profile's ``models:`` section). The plain function
:func:`evaluate_clip` computes the map and scores it with
:mod:`vidsal_core.metrics.localisation` (against the clip's part maps,
visibility and limb motion) and :mod:`vidsal_core.metrics.faithfulness`
(deletion and insertion of frames and of spatial blocks). Each result is saved
under ``data/sweeps/`` as soon as it is computed (:mod:`vidsal_study.sweeps`),
so the chapter at a given profile computes each (model, method, video) once.

Methods (names as in the chapter's table):

================================  ======================================================================
name                              map
================================  ======================================================================
``input_gradient``                ``|∂ logit / ∂ x|`` (Captum ``Saliency``)
``integrated_gradients``          Integrated Gradients from a black video
``smoothgrad``                    SmoothGrad of ``|gradient|``
``sensitivity``                   the squared gradient (Zennit; seed 002's SA)
``frame_occlusion``               time contribution (probability drop, negatives set to 0) broadcast over each frame
``one_step``                      seed 000's one-step rescaling of ``|gradient|`` by time contribution
``tsr``                           exact two-step TSR over square blocks, the TSR chapter's variant
``superpixel_tsr``                exact two-step TSR over SLIC superpixels, the same variant
``deep_taylor``                   deep Taylor decomposition (C3D only: Zennit has no LSTM rule)
``epsilon_plus_flat``             Zennit's EpsilonPlusFlat LRP composite (C3D only)
``grad_cam``                      Grad-CAM at the last 3-D conv block, upsampled trilinearly (C3D, I3D; pytorch-grad-cam)
``grad_cam_plus_plus``            Grad-CAM++ at the same layer (C3D, I3D)
``xgrad_cam``                     XGradCAM at the same layer (C3D, I3D)
``flow``                          Farneback flow magnitude (seed 000's baseline; the model is not asked)
``random``                        seeded uniform noise: chance level of every metric
================================  ======================================================================

Every map is computed by the saliency registry
(:func:`vidsal_core.saliency.registry.explain`, through :func:`explain`), the
same calls the border and TSR chapters make.

Both TSR methods take the options of the TSR chapter's variant
(``tsr_chapter.variant`` of the profile, :func:`vidsal_core.saliency.registry.tsr_variant_options`;
by default ``reference_code``, Ismail et al.'s code: masks take the value of
the video's first element, Δ min-max scaled, 0.1 below α), so the book uses
one TSR everywhere. :func:`mask_ablation_frame` re-runs block TSR with each
mask value of :data:`TSR_MASK_VALUES` (:func:`tsr_across_mask_values`: one
engine per clip, shared by the values) and compares it with the input
gradient under the one flat-frame rule (:mod:`vidsal_core.metrics.flat_frames`).
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from vidsal_core.metrics.flat_frames import FRAME_SETS, compare_maps, in_view_frames
from vidsal_core.statistics import UNIT, mean_interval
from vidsal_study.sweeps import SweepItem, canonical_json, run_sweep, sweep_directory
from vidsal_core.errors import ConfigError
from vidsal_study.chapters.border.models import train_run
from vidsal_core.errors import CheckpointError
from vidsal_core.models.checkpoints import manifest_entry
from vidsal_study.runs import build_run, checkpoint_paths, load_trained
from vidsal_core.data.corpus import DATA_DIR, Corpus
from vidsal_core.data.corpus import SynthKTHDataset
from vidsal_core.saliency.registry import explain as explain_by_name
from vidsal_core.saliency.registry import tsr_variant_options as variant_options
from vidsal_core.metrics.faithfulness import faithfulness, saliency_order, unit_labels, unit_scores
from vidsal_core.metrics.localisation import frame_mass, localisation_metrics
from vidsal_core.saliency.masking import baseline_video, block_masks, frame_masks
from vidsal_study.profiles import profile_section
from vidsal_core.saliency.checks import check_eval_mode, check_finite, check_video
from vidsal_core.saliency.factorised import DEFAULT_MAX_JACOBIAN_BYTES
from vidsal_core.saliency.masking import DEFAULT_MAX_BATCH_BYTES
from vidsal_core.saliency.tsr import base_attribution, check_options, make_engine, region_labels, rescaling_steps
from vidsal_core.metrics.localisation import auroc, part_region
from vidsal_core.metrics.randomisation import cascading_randomisation
from vidsal_study.chapters.border import UNTRAINED_SEED, i3d_descriptor
from vidsal_study.chapters.border import footage_videos
from vidsal_study.chapters.border import model_for as border_model_for
from vidsal_study.chapters.border import load_clip as border_load_clip
from vidsal_core.metrics.randomisation import _Reference, layer_groups, randomised_models
from vidsal_core.saliency.gradcam import coarse_class_activation_map

#: Every method the sweep knows, in the table's order.
METHODS: tuple[str, ...] = (
    "input_gradient", "integrated_gradients", "smoothgrad", "sensitivity", "frame_occlusion", "one_step",
    "tsr", "superpixel_tsr", "deep_taylor", "epsilon_plus_flat", "grad_cam", "grad_cam_plus_plus", "xgrad_cam",
    "flow", "random",
)
#: Readable names for tables and figures.
METHOD_LABELS: dict[str, str] = {
    "input_gradient": "input gradient", "integrated_gradients": "Integrated Gradients", "smoothgrad": "SmoothGrad",
    "sensitivity": "sensitivity (SA)", "frame_occlusion": "frame occlusion", "one_step": "one-step TSR",
    "tsr": "two-step TSR (blocks)", "superpixel_tsr": "two-step TSR (superpixels)", "deep_taylor": "deep Taylor",
    "epsilon_plus_flat": "EpsilonPlusFlat", "grad_cam": "Grad-CAM", "grad_cam_plus_plus": "Grad-CAM++",
    "xgrad_cam": "XGradCAM", "flow": "Farneback flow", "random": "random (chance)",
}
#: Methods that need a LRP rule for every layer: not for recurrent models (Zennit would fall back to gradients).
LRP_METHODS: tuple[str, ...] = ("deep_taylor", "epsilon_plus_flat")
#: Class activation maps (vidsal_core.saliency.gradcam): need the 3-D feature maps of a convolutional network.
CAM_METHODS: tuple[str, ...] = ("grad_cam", "grad_cam_plus_plus", "xgrad_cam")
#: Bumped whenever :func:`evaluate_clip` changes what it computes.
WORK_VERSION = 4  # 2: per-frame AUROC headline, seeded tie-breaking; 3: TSR in the TSR chapter's variant;
#                 4: C3D explained in the channels-last layout (float32 rounding)
#: Metrics of one result, and whether larger is better. ``auroc_person`` / ``auroc_legs`` are the mean per-frame
#: AUROC over the frames with the person in view (the headline); ``pooled_auroc_*`` pool every pixel of those frames.
METRICS: dict[str, bool] = {
    "person_share": True, "person_lift": True, "legs_lift": True, "legs_share": True, "pointing": True, "auroc_person": True, "auroc_legs": True,
    "pooled_auroc_person": True, "pooled_auroc_legs": True,
    "visibility_correlation": True, "motion_correlation": True,
    "frames_deletion_auc": False, "frames_insertion_auc": True,
    "blocks_deletion_auc": False, "blocks_insertion_auc": True,
}


def model_descriptor(profile: str, run_name: str, train_if_missing: bool = True, progress: bool = False) -> dict[str, Any]:
    """A run's descriptor (checkpoint sha256, clips, classes), training the run first when it is missing.

    Training goes through :func:`vidsal_study.runs.train_or_load`, as the
    border chapter's :func:`~vidsal_study.chapters.border.models.c3d_descriptor` does.
    """

    run = build_run(profile, run_name)
    try:
        load_trained(profile, run_name)
    except CheckpointError:
        if not train_if_missing:
            raise
        train_run(profile, run, progress)
    return {
        "profile": str(profile), "run": run_name, "model": run.spec.model,
        "sha256": manifest_entry(checkpoint_paths(run).trained)["sha256"],
        "corpus": run.corpus_section, "clip_length": run.data["clip_length"], "step": run.data["step"],
        "size": list(run.data["size"]), "classes": list(run.spec.classes),
    }


def methods_for(model: Mapping[str, Any], methods: Sequence[str]) -> list[str]:
    """The methods that apply to a model: LRP and CAM methods only on convolutional networks (not the LSTMs)."""
    unknown = [method for method in methods if method not in METHODS]
    if unknown:
        raise ConfigError(f"methods: unknown {unknown}; choose from {list(METHODS)}")
    recurrent = model["model"] in ("frame_lstm", "ica_lstm")
    return [method for method in methods if not (recurrent and method in LRP_METHODS + CAM_METHODS)]


def test_videos(corpus: Any, classes: Sequence[str], count: int) -> list[dict[str, Any]]:
    """``count`` test videos without a title card, spread over persons first, then over classes.

    Clip ``i`` is of person ``i mod P`` (P test persons) and of class
    ``(i mod P + i div P) mod C``: the first ``P`` clips cover every test person
    once (so ``count = P`` gives one independent unit per clip), classes take
    turns, and a second round pairs each person with the next class. Within a
    (person, class), the scenario rotates with the person and the round.

    Returns sweep descriptors: ``corpus`` (its hash), ``key``, ``person``, ``action``, ``scenario``.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"videos={count!r}: expected a positive number of test videos per model")
    cells: dict[tuple[int, str], list] = {}
    for action in classes:
        for entry in corpus.select(split="test", actions=[action], title_frames=0):
            cells.setdefault((entry["person"], action), []).append(entry)
    persons = sorted({person for person, _ in cells})
    if not persons:
        raise ConfigError(f"the corpus has no test video of the classes {list(classes)}")
    chosen, used, index = [], set(), 0
    total = sum(len(entries) for entries in cells.values())
    while len(chosen) < min(count, total):
        person = persons[index % len(persons)]
        round_index = index // len(persons)
        action = classes[(index % len(persons) + round_index) % len(classes)]
        entries = sorted(cells.get((person, action), []), key=lambda entry: entry["scenario"])
        fresh = [entry for entry in entries if entry["key"] not in used]
        if fresh:
            entry = fresh[(person + round_index) % len(fresh)]
            used.add(entry["key"])
            chosen.append(entry)
        index += 1
    return [{"corpus": corpus.config_hash, "key": entry["key"], "person": entry["person"],
             "action": entry["action"], "scenario": entry["scenario"]} for entry in chosen]


# --- per-item work -------------------------------------------------------------------------------------------


_MODELS: dict[str, nn.Module] = {}


def model_for(descriptor: Mapping[str, Any]) -> nn.Module:
    """The trained model a descriptor names (cached per process), eval mode.

    A 3-D CNN (C3D) comes in the channels-last layout
    (:func:`vidsal_core.models.layout.explaining_layout`): its batched
    attributions (TSR, Integrated Gradients, SmoothGrad) run 2–2.6× faster on a
    CPU, with the same maps up to float32 rounding.
    """
    key = canonical_json(descriptor)
    if key not in _MODELS:
        from vidsal_core.models.layout import explaining_layout
        from vidsal_study.runs import load_trained

        _MODELS[key] = explaining_layout(load_trained(descriptor["profile"], descriptor["run"]).eval())
    return _MODELS[key]


@lru_cache(maxsize=2)
def _corpus(config_hash: str):

    return Corpus(DATA_DIR / "synthkth" / config_hash)


def load_clip(video: Mapping[str, Any], model: Mapping[str, Any]):
    """The clip a model is evaluated on (its test clip: centred, its length, step and size) with its truth."""

    corpus = _corpus(video["corpus"])
    entries = [entry for entry in corpus.videos if entry["key"] == video["key"]]
    if not entries:
        raise ConfigError(f"video {video['key']}: not in corpus {video['corpus']}")
    dataset = SynthKTHDataset(corpus, entries, actions=model["classes"], clip_length=model["clip_length"],
                              step=model["step"], offset="center", size=tuple(model["size"]), with_truth=True)
    return dataset[0]


def registry_options(method: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options of :func:`vidsal_core.saliency.registry.explain` that the sweep's ``options`` give ``method``.

    ``ig_steps`` (Integrated Gradients' path points, also its batch),
    ``smoothgrad_samples``, ``occlusion_baseline`` (frame occlusion and
    one-step), ``tsr_block``, ``superpixels`` and ``tsr_variant`` (both TSR
    methods) and ``seed`` (random); the other methods take none.
    """
    if method == "integrated_gradients":
        return {"n_steps": options["ig_steps"], "internal_batch_size": options["ig_steps"]}
    if method == "smoothgrad":
        return {"n_samples": options["smoothgrad_samples"]}
    if method in ("frame_occlusion", "one_step"):
        return {"baseline": options["occlusion_baseline"]}
    if method in ("tsr", "superpixel_tsr"):
        return {"block_size": options["tsr_block"], "n_segments": options["superpixels"], **tsr_variant_options(options)}
    if method == "random":
        return {"seed": int(options.get("seed", 0))}
    return {}


def explain(model: nn.Module, clip: torch.Tensor, target: int, method: str, options: Mapping[str, Any]) -> torch.Tensor:
    """The ``(T, C, H, W)`` map of ``method`` for one clip and class (see the module's table).

    The map is :func:`vidsal_core.saliency.registry.explain`'s, with the
    sweep's ``options`` turned into the method's own (:func:`registry_options`).
    """

    if method not in METHODS:
        raise ConfigError(f"method={method!r}: choose one of {list(METHODS)}")
    return explain_by_name(model, clip, method, target, **registry_options(method, options)).maps


def tsr_variant_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The TSR options of ``options["tsr_variant"]`` (default ``"reference_code"``, the TSR chapter's default)."""

    return variant_options(options.get("tsr_variant", "reference_code"))


def evaluate_clip(video: Mapping[str, Any], setting: Mapping[str, Any]) -> dict[str, Any]:
    """Localisation and faithfulness of one method's map of one clip (a sweep's work function).

    Parameters
    ----------
    video : mapping
        From :func:`test_videos`.
    setting : mapping
        ``model`` (from :func:`model_descriptor`), ``method``, ``options``
        (method sizes and the faithfulness settings) and ``version``.

    Returns
    -------
    dict
        The label, prediction and probability, every metric of
        :func:`~vidsal_core.metrics.localisation.localisation_metrics`, the
        deletion and insertion curves and areas over frames and over blocks,
        the per-frame mass of the map, and the seconds the map took.
    """

    options = setting["options"]
    model = model_for(setting["model"])
    item = load_clip(video, setting["model"])
    clip = item.video
    with torch.no_grad():
        probabilities = torch.softmax(model(clip[None]).double(), dim=1)[0]
    target = int(probabilities.argmax())
    started = time.perf_counter()
    with torch.enable_grad():
        saliency = explain(model, clip, target, setting["method"], options).detach().double()
    seconds = time.perf_counter() - started
    truth = item.truth
    result: dict[str, Any] = {
        "label": int(item.label), "target": target, "probability": float(probabilities[target]),
        "seconds": seconds, "frame_mass": frame_mass(saliency).tolist(),
    }
    result.update(localisation_metrics(saliency, truth.parts, truth.visibility, truth.limb_motion,
                                       min_visibility=options["min_visibility"], tolerance=options["tolerance"]))
    frames, _, height, width = clip.shape
    baseline = baseline_video(clip, options["faithfulness_baseline"])
    for unit, masks, points in (("frames", frame_masks(frames, height, width), options["frame_points"]),
                                ("blocks", block_masks(frames, height, width, options["faithfulness_block"]),
                                 options["block_points"])):
        labels = unit_labels(masks)
        order = saliency_order(unit_scores(saliency, masks, labels), seed=int(options.get("seed", 0)))
        curves = faithfulness(model, clip, masks, order, target, baseline, min(points, len(masks)), labels=labels)
        result[f"{unit}_deletion_auc"] = curves.deletion_auc
        result[f"{unit}_insertion_auc"] = curves.insertion_auc
        result[f"{unit}_deletion"] = curves.deletion.tolist()
        result[f"{unit}_insertion"] = curves.insertion.tolist()
        result[f"{unit}_fractions"] = curves.fractions.tolist()
    return result


# --- the sweep and its tables -------------------------------------------------------------------------------


def sweep_items(videos: Sequence[Mapping[str, Any]], model: Mapping[str, Any], methods: Sequence[str],
                options: Mapping[str, Any]) -> list[SweepItem]:
    """Every (video, method) for one model."""
    return [SweepItem(video, {"model": model, "method": method, "options": dict(options), "version": WORK_VERSION})
            for method in methods_for(model, methods) for video in videos]


def run_items(items: Sequence[SweepItem], progress: bool = False) -> pd.DataFrame:
    """Run (or resume) the sweep of :func:`evaluate_clip`; one row per item."""
    if not items:
        return pd.DataFrame()
    directory = sweep_directory("evaluation", {"work": "vidsal_study.chapters.evaluation.study.evaluate_clip",
                                               "version": WORK_VERSION})
    results = run_sweep(evaluate_clip, items, directory, progress=progress, description="evaluation")
    rows = []
    for item, result in zip(items, results):
        rows.append({"model": item.setting["model"]["run"], "method": item.setting["method"],
                     "video": item.video["key"], "person": item.video["person"], "action": item.video["action"],
                     **result})
    frame = pd.DataFrame(rows)
    frame["person_lift"] = frame["person_share"] - frame["person_area"]
    frame["legs_lift"] = frame["legs_share"] - frame["legs_area"]
    return frame


#: The metrics of :func:`summary_table` with a range, [0, 1]: shares, pointing, AUROCs, and deletion/insertion
#: areas (under a probability curve over fractions 0-1). They get the range-respecting interval
#: (:func:`~vidsal_core.statistics.mean_interval` with ``bounds``); lifts and correlations keep the t interval.
BOUNDED_METRICS = frozenset({"person_share", "legs_share", "pointing", "auroc_person", "auroc_legs",
                             "pooled_auroc_person", "pooled_auroc_legs", "frames_deletion_auc",
                             "frames_insertion_auc", "blocks_deletion_auc", "blocks_insertion_auc"})


def summary_table(frame: pd.DataFrame, metrics: Sequence[str] = tuple(METRICS), resamples: int = 2000) -> pd.DataFrame:
    """Mean and 95% interval (over persons) of each metric per (model, method).

    ``person_lift`` and ``legs_lift`` are the share of the map's mass on the
    region minus the region's share of the area (0 = chance).

    Columns: ``model``, ``method``, ``metric``, ``mean``, ``low``, ``high``, ``count``, ``units`` (persons).
    """
    rows = []
    for (model, method), part in frame.groupby(["model", "method"], sort=False):
        for metric in metrics:
            values = part[metric].to_numpy(dtype=float)
            if not np.isfinite(values).any():
                rows.append({"model": model, "method": method, "metric": metric, "mean": np.nan, "low": np.nan,
                             "high": np.nan, "count": 0, "units": 0})
                continue
            estimate = mean_interval(values, part["person"].tolist(), resamples=resamples,
                                     bounds=UNIT if metric in BOUNDED_METRICS else None)
            rows.append({"model": model, "method": method, "metric": metric, "mean": estimate.mean,
                         "low": estimate.low, "high": estimate.high, "count": estimate.count,
                         "units": estimate.units})
    return pd.DataFrame(rows)


def paired_difference(frame: pd.DataFrame, model: str, first: str, second: str, metric: str,
                      resamples: int = 2000):
    """Mean over videos of ``metric(first) − metric(second)`` on one model, with a 95% interval over persons.

    Returns None when the two methods share no video.
    """
    part = frame[frame["model"] == model]
    a = part[part["method"] == first].set_index("video")
    b = part[part["method"] == second].set_index("video")
    common = a.index.intersection(b.index)
    if len(common) == 0:
        return None
    differences = a.loc[common, metric].to_numpy(float) - b.loc[common, metric].to_numpy(float)
    if not np.isfinite(differences).any():
        return None
    return mean_interval(differences, a.loc[common, "person"].tolist(), resamples=resamples)


# --- settings ---------------------------------------------------------------------------------------------

#: Keys of a profile's ``evaluation_chapter`` section.
SECTION_KEYS = ("runs", "methods", "videos", "options", "randomisation")
#: Optional keys of the section (``i3d``: the pretrained I3D on real footage, see :func:`i3d_settings`;
#: ``training_runs``: :data:`TRAINING_RUNS`).
OPTIONAL_SECTION_KEYS = ("i3d", "mask_ablation", "training_runs")
#: ``evaluation_chapter.training_runs``: repeat the counted rows (TSR's mask ablation) on ``"all"`` the training
#: runs of each model and on the control models, or measure them on the ``"first"`` run only (its rows say so).
TRAINING_RUNS = ("all", "first")
#: Keys of its ``options``.
OPTION_KEYS = ("ig_steps", "smoothgrad_samples", "tsr_block", "superpixels", "occlusion_baseline",
               "faithfulness_baseline", "faithfulness_block", "frame_points", "block_points", "min_visibility",
               "tolerance", "seed")


def chapter_settings(profile: str) -> dict[str, Any]:
    """The profile's ``evaluation_chapter`` section, checked (unknown keys and methods refused by name)."""

    section = dict(profile_section(profile, "evaluation_chapter"))
    unknown = sorted(set(section) - set(SECTION_KEYS) - set(OPTIONAL_SECTION_KEYS))
    missing = sorted(set(SECTION_KEYS) - set(section))
    if unknown or missing:
        raise ConfigError(f"profile {profile} evaluation_chapter: unknown key(s) {unknown}, missing {missing}; "
                          f"expected {list(SECTION_KEYS)}")
    options = dict(section["options"])
    if sorted(options) != sorted(OPTION_KEYS):
        raise ConfigError(f"profile {profile} evaluation_chapter.options: expected exactly {list(OPTION_KEYS)}, "
                          f"got {sorted(options)}")
    methods_for({"model": "c3d"}, section["methods"])
    methods_for({"model": "c3d"}, section["randomisation"].get("methods", []))
    # one TSR in the whole book: the TSR chapter's variant
    options["tsr_variant"] = profile_section(profile, "tsr_chapter").get("variant", "reference_code")
    section["options"] = options
    section["i3d"] = i3d_settings(section)
    section["mask_ablation"] = mask_ablation_settings(section)
    section.setdefault("training_runs", "all")
    if section["training_runs"] not in TRAINING_RUNS:
        raise ConfigError(f"profile {profile} evaluation_chapter.training_runs={section['training_runs']!r}: "
                          f"choose one of {list(TRAINING_RUNS)}")
    return section


#: Mask values of TSR's mask ablation (:func:`mask_ablation_frame`), as :func:`~vidsal_core.saliency.masking.baseline_video` names them.
TSR_MASK_VALUES: tuple[str, ...] = ("zero", "first_element", "mean", "blur")


def mask_ablation_settings(section: Mapping[str, Any]) -> dict[str, Any] | None:
    """``evaluation_chapter.mask_ablation`` checked: ``runs`` (default the chapter's), ``videos`` (one count, or
    one per run: block TSR on C3D costs about twenty times the LSTMs' factorised TSR), ``mask_values``."""
    values = section.get("mask_ablation")
    if values is None:
        return None
    values = dict(values)
    unknown = sorted(set(values) - {"runs", "videos", "mask_values"})
    if unknown:
        raise ConfigError(f"evaluation_chapter.mask_ablation: unknown key(s) {unknown}; known runs, videos, mask_values")
    runs = list(values.get("runs") or section["runs"])
    if set(runs) - set(section["runs"]):
        raise ConfigError(f"evaluation_chapter.mask_ablation.runs: {sorted(set(runs) - set(section['runs']))} "
                          "are not among the chapter's runs")
    videos = values.get("videos", section["videos"])
    counts = dict(videos) if isinstance(videos, Mapping) else {run: videos for run in runs}
    if set(counts) != set(runs) or any(isinstance(count, bool) or not isinstance(count, int) or count < 1
                                       for count in counts.values()):
        raise ConfigError(f"evaluation_chapter.mask_ablation.videos={videos!r}: expected a positive integer, or one "
                          f"per run of {runs}")
    masks = tuple(values.get("mask_values", TSR_MASK_VALUES))
    if not masks or set(masks) - set(TSR_MASK_VALUES):
        raise ConfigError(f"evaluation_chapter.mask_ablation.mask_values={list(masks)}: choose from {list(TSR_MASK_VALUES)}")
    return {"runs": runs, "videos": counts, "mask_values": masks}


# --- TSR's mask value --------------------------------------------------------------------------------------


def figure_background_intensity(video: torch.Tensor, person: Any, frames: Any) -> tuple[float, float]:
    """Mean intensity of a ``(T, C, H, W)`` clip on the person's pixels and on the others, over ``frames``."""
    values = video.double().mean(dim=1).numpy()
    mask = np.asarray(person, bool)
    keep = np.asarray(frames, bool)
    values, mask = values[keep], mask[keep]
    nan = float("nan")
    return (float(values[mask].mean()) if mask.any() else nan, float(values[~mask].mean()) if (~mask).any() else nan)


def tsr_across_mask_values(model: nn.Module, video: torch.Tensor, target: int, mask_values: Sequence[str],
                           block_size: int, options: Mapping[str, Any], mask_mean: float | None = None,
                           engine: str = "auto") -> dict[str, Any]:
    """Block TSR of one clip with each mask value, sharing one attribution engine across the values.

    The engine (:func:`vidsal_core.saliency.tsr.make_engine`) holds what does
    not depend on the mask: the base attribution ``R(X)`` and, for a model with
    a per-frame encoder (the factorised engine), the encodings and the
    encoder's Jacobians at every frame, the costly part. Each mask value then
    costs only its masked passes. Every step after the engine is
    :func:`~vidsal_core.saliency.tsr.temporal_saliency_rescaling`'s, through
    the same public helpers, so each result equals a separate call with that
    ``mask_value`` (tested in float64 on a tiny model).

    Parameters
    ----------
    model : nn.Module
        Eval mode.
    video : torch.Tensor
        ``(T, C, H, W)``.
    target : int
        The class explained.
    mask_values : sequence of str
        Mask values of :data:`TSR_MASK_VALUES`.
    block_size : int
        Block side in pixels.
    options : mapping
        The variant's other TSR options (:func:`tsr_variant_options`; any ``mask_value`` there is overridden).
    mask_mean : float, optional
        The value of the ``"mean"`` mask (required when it is asked for).
    engine : str, default "auto"
        As :func:`~vidsal_core.saliency.tsr.temporal_saliency_rescaling`'s.

    Returns
    -------
    dict
        Mask value → :class:`~vidsal_core.saliency.tsr.TSRResult` (``seconds``: the value's own
        passes plus its share of the engine's set-up).
    """

    unknown = [value for value in mask_values if value not in TSR_MASK_VALUES]
    if unknown or not mask_values:
        raise ConfigError(f"mask_values={list(mask_values)}: choose one or more of {list(TSR_MASK_VALUES)}")
    if "mean" in mask_values and mask_mean is None:
        raise ConfigError("mask_mean: required when mask_values has 'mean'")
    settings = {key: value for key, value in options.items() if key not in ("mask_value", "mask_mean")}
    threshold_quantile = settings.get("threshold_quantile", 0.55)
    time_scaling, feature_scaling = settings.get("time_scaling", "none"), settings.get("feature_scaling", "none")
    below_threshold = settings.get("below_threshold", 0.0)
    extra = sorted(set(settings) - {"threshold_quantile", "time_scaling", "feature_scaling", "below_threshold"})
    if extra:
        raise ConfigError(f"options: {extra} not supported here; expected the TSR variant's options")
    started = time.perf_counter()
    check_video(video)
    check_eval_mode(model)
    for value in mask_values:
        check_options(value, threshold_quantile, time_scaling, feature_scaling, below_threshold)
    video = video.detach()
    attribution = base_attribution("gradient", True, 50, "zero")
    region_labels(video, "blocks", block_size, 100, 0.1)  # refuse a bad block size before any compute
    runner = make_engine(engine, model, video, int(target), attribution, DEFAULT_MAX_BATCH_BYTES, None,
                         DEFAULT_MAX_JACOBIAN_BYTES)
    check_finite(runner.base, f"{attribution.name} attribution")
    shared = (time.perf_counter() - started) / len(mask_values)
    results = {}
    for value in mask_values:
        started = time.perf_counter()
        values = baseline_video(video, value, mean=mask_mean if value == "mean" else None)
        steps = rescaling_steps(runner, video, values, "blocks", block_size, 100, 0.1, threshold_quantile,
                                time_scaling, feature_scaling, below_threshold)
        results[value] = steps.result(
            runner, int(target), shared + time.perf_counter() - started,
            {"method": attribution.name, "features": "blocks", "block_size": block_size, "mask_value": value,
             "threshold_quantile": threshold_quantile, "time_scaling": time_scaling,
             "feature_scaling": feature_scaling, "below_threshold": below_threshold})
    return results


#: What :func:`mask_ablation_work` compares block TSR with, on the same frames (the flat-frame rule).
MASK_ABLATION_BASELINE = "input_gradient"


def tsr_against_gradient(tsr: Any, gradient: Any, person: Any, in_view: Any, selected: Any) -> dict[str, dict[str, float]]:
    """Per-frame AUROC (person) of a TSR map and a gradient map of one clip, paired under the flat-frame rule.

    :func:`vidsal_core.metrics.flat_frames.compare_maps` with ``score="auroc"``:
    ``first`` is TSR, ``second`` the gradient, in both versions (every in-view
    frame, a flat frame scoring 0.5; the in-view frames TSR selected).
    """
    return compare_maps(tsr, gradient, person, "auroc", in_view, selected)


def mask_ablation_work(video: Mapping[str, Any], setting: Mapping[str, Any]) -> dict[str, Any]:
    """Block TSR of one clip with every mask value (one shared engine), scored against the gradient's map.

    ``setting``: ``model``, ``mask_values``, ``mean`` (the mask of ``"mean"``:
    the mean intensity of the model's ablation clips), ``variant``, ``block``,
    ``min_visibility``, ``version``. TSR runs through
    :func:`tsr_across_mask_values`; the input gradient once. Both maps are
    scored by the flat-frame rule (:func:`tsr_against_gradient`).

    Returns
    -------
    dict
        ``target``, ``frames_in_view``, ``person_intensity``, ``background_intensity``,
        ``gradient_seconds`` and ``masks``: mask value → ``in_view`` and
        ``selected`` (:func:`~vidsal_core.metrics.flat_frames.compare_maps`:
        TSR's and the gradient's mean per-frame AUROC and their paired
        difference), ``pooled_auroc_person``, ``frames_above_alpha``, ``seconds``.
    """

    model = model_for(setting["model"])
    item = load_clip(video, setting["model"])
    clip, truth = item.video, item.truth
    with torch.no_grad():
        target = int(model(clip[None])[0].argmax())
    started = time.perf_counter()
    with torch.enable_grad():
        gradient = explain(model, clip, target, MASK_ABLATION_BASELINE, {}).detach().double()
    gradient_seconds = time.perf_counter() - started
    with torch.enable_grad():
        results = tsr_across_mask_values(model, clip, target, list(setting["mask_values"]), setting["block"],
                                         variant_options(setting["variant"]), mask_mean=float(setting["mean"]))
    person = part_region(truth.parts)
    in_view = in_view_frames(truth.visibility, person, setting["min_visibility"])
    figure, background = figure_background_intensity(clip, person, in_view)
    masks = {}
    for mask_value, result in results.items():
        saliency = result.saliency.detach().double()
        selected = result.selected.cpu().numpy().astype(bool)
        masks[mask_value] = {
            **tsr_against_gradient(saliency, gradient, person, in_view, selected),
            "pooled_auroc_person": auroc(saliency, person, in_view) if in_view.any() else float("nan"),
            "frames_above_alpha": int((selected & in_view).sum()), "seconds": result.seconds,
        }
    return {"target": target, "frames_in_view": int(in_view.sum()), "person_intensity": figure,
            "background_intensity": background, "gradient_seconds": gradient_seconds, "masks": masks}


#: Bumped whenever :func:`mask_ablation_work` changes what it computes (its own sweep folder).
MASK_WORK_VERSION = 2  # 2: every mask value in one item (one shared engine), the gradient paired by the flat-frame rule


def mask_ablation_frame(models: Mapping[str, Mapping[str, Any]], videos: Mapping[str, Sequence[Mapping[str, Any]]],
                        ablation: Mapping[str, Any], options: Mapping[str, Any], progress: bool = False) -> pd.DataFrame:
    """Run (or resume) TSR's mask ablation: one row per (model, mask value, clip).

    Parameters
    ----------
    models, videos : mappings
        Run → descriptor (:func:`model_descriptor`) and run → test videos (:func:`test_videos`).
    ablation : mapping
        :func:`mask_ablation_settings`: ``runs``, ``videos`` (run → its first clips), ``mask_values``.
    options : mapping
        The chapter's options (``tsr_block``, ``min_visibility``, ``tsr_variant``).

    Returns
    -------
    pandas.DataFrame
        ``model``, ``mask_value``, ``mask_mean``, ``video``, ``person``, ``target``, ``frames_in_view``,
        ``frames_above_alpha``, the intensities, ``seconds`` (TSR with this mask), ``gradient_seconds``,
        ``pooled_auroc_person``, and per frame set ``s`` of :data:`~vidsal_core.metrics.flat_frames.FRAME_SETS`:
        ``tsr_auroc_<s>``, ``gradient_auroc_<s>``, ``difference_<s>`` and ``frames_<s>``; ``comparison``
        holds the clip's :func:`~vidsal_core.metrics.flat_frames.compare_maps` result.
    """
    items = []
    for run in ablation["runs"]:
        clips = list(videos[run])[:ablation["videos"][run]]
        mean = float(torch.stack([load_clip(clip, models[run]).video.double().mean() for clip in clips]).mean())
        items += [SweepItem(clip, {"model": models[run], "mask_values": list(ablation["mask_values"]),
                                   "mean": round(mean, 6), "variant": options.get("tsr_variant", "reference_code"),
                                   "block": options["tsr_block"], "min_visibility": options["min_visibility"],
                                   "version": MASK_WORK_VERSION})
                  for clip in clips]
    if not items:
        return pd.DataFrame()
    directory = sweep_directory("evaluation-tsr-masks", {"work": "vidsal_study.chapters.evaluation.study.mask_ablation_work",
                                                         "version": MASK_WORK_VERSION})
    results = run_sweep(mask_ablation_work, items, directory, progress=progress, description="TSR mask values")
    return mask_ablation_rows(items, results)


def mask_ablation_rows(items: Sequence[SweepItem], results: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """:func:`mask_ablation_frame`'s table from its sweep items and :func:`mask_ablation_work`'s results."""
    rows = []
    for item, result in zip(items, results):
        common = {"model": item.setting["model"]["run"], "mask_mean": item.setting["mean"],
                  "video": item.video["key"], "person": item.video["person"], "target": result["target"],
                  "frames_in_view": result["frames_in_view"], "person_intensity": result["person_intensity"],
                  "background_intensity": result["background_intensity"],
                  "gradient_seconds": result["gradient_seconds"]}
        for mask_value, scores in result["masks"].items():
            row = {**common, "mask_value": mask_value, "seconds": scores["seconds"],
                   "frames_above_alpha": scores["frames_above_alpha"],
                   "pooled_auroc_person": scores["pooled_auroc_person"],
                   "comparison": {frame_set: dict(scores[frame_set]) for frame_set in FRAME_SETS}}
            for frame_set in FRAME_SETS:
                row[f"tsr_auroc_{frame_set}"] = scores[frame_set]["first"]
                row[f"gradient_auroc_{frame_set}"] = scores[frame_set]["second"]
                row[f"difference_{frame_set}"] = scores[frame_set]["difference"]
                row[f"frames_{frame_set}"] = scores[frame_set]["frames"]
            rows.append(row)
    return pd.DataFrame(rows)


# --- cascading randomisation (Adebayo et al., 2018) ----------------------------------------------------------


def explain_batch(model: nn.Module, videos: torch.Tensor, targets: Any, method: str,
                  options: Mapping[str, Any]) -> torch.Tensor:
    """``(B, T, C, H, W)`` maps of ``method`` for each video and its target (the randomisation check's ``explain``)."""
    targets = torch.as_tensor(targets).reshape(-1).tolist()
    with torch.enable_grad():
        return torch.stack([explain(model, video, int(target), method, options).detach()
                            for video, target in zip(videos, targets)])


def randomisation_available() -> bool:
    """Whether :mod:`vidsal_core.metrics.randomisation` (cascading model randomisation) can be imported."""
    try:
        from vidsal_core.metrics import randomisation# noqa: F401
    except ImportError:
        return False
    return True


def randomisation_work(video: Mapping[str, Any], setting: Mapping[str, Any]) -> dict[str, Any]:
    """Cascading randomisation of one method on one model over a few clips (a sweep's work function).

    ``video`` holds ``clips`` (descriptors from :func:`test_videos`); ``setting``
    the ``model``, ``method``, ``options`` and ``version``. Returns the rows of
    :func:`vidsal_core.metrics.randomisation.cascading_randomisation` as records.
    """
    import copy


    model = copy.deepcopy(model_for(setting["model"])).eval()
    clips = torch.stack([load_clip(clip, setting["model"]).video for clip in video["clips"]])
    with torch.no_grad():
        targets = model(clips).argmax(dim=1)
    frame = cascading_randomisation(
        model, lambda m, v, t: explain_batch(m, v, t, setting["method"], setting["options"]), clips, targets,
        seed=int(setting["options"]["seed"]))
    frame = frame.copy()
    frame["video"] = [video["clips"][int(index)]["key"] if str(index).isdigit() else str(index)
                      for index in frame["video"]]
    return {"rows": frame.to_dict(orient="records")}


def randomisation_cost(model: Mapping[str, Any], method: str, options: Mapping[str, Any]) -> float:
    """A rough relative cost of one randomisation item, to start the longest first (no result depends on it).

    Passes per map (Integrated Gradients' points, SmoothGrad's samples, one
    for the rest), times 4 for a 3-D CNN (C3D's map costs about four of an
    LSTM's at the default sizes).
    """
    passes = {"integrated_gradients": options.get("ig_steps", 1), "smoothgrad": options.get("smoothgrad_samples", 1)}
    return float(passes.get(method, 1)) * (4.0 if model["model"] in ("c3d", "i3d") else 1.0)


def randomisation_frames(models: Mapping[str, Mapping[str, Any]], clips: Mapping[str, Sequence[Mapping[str, Any]]],
                         methods: Sequence[str], options: Mapping[str, Any], progress: bool = False) -> pd.DataFrame:
    """Cascading randomisation of every method on every model, one sweep (resumable); one row per (method, video, step).

    ``models`` maps run names to descriptors (:func:`model_descriptor`) and
    ``clips`` each run to its clips (:func:`test_videos`). The items of all
    models go to the executor together, the costliest first
    (:func:`randomisation_cost`), so that two workers finish together
    instead of one waiting at the end of each model's sweep; each item's
    result is the one :func:`randomisation_frame` saves for it.
    """
    items = [SweepItem({"clips": list(clips[run])}, {"model": model, "method": method, "options": dict(options),
                                                      "version": WORK_VERSION})
             for run, model in models.items() for method in methods_for(model, methods)]
    if not items:
        return pd.DataFrame()
    order = sorted(range(len(items)), key=lambda index: -randomisation_cost(
        items[index].setting["model"], items[index].setting["method"], options))
    directory = sweep_directory("evaluation-randomisation",
                                {"work": "vidsal_study.chapters.evaluation.study.randomisation_work",
                                 "version": WORK_VERSION})
    results = run_sweep(randomisation_work, [items[index] for index in order], directory, progress=progress,
                        description="randomisation")
    by_item = dict(zip(order, results))
    frames = [pd.DataFrame(by_item[index]["rows"]).assign(model=item.setting["model"]["run"],
                                                          method=item.setting["method"])
              for index, item in enumerate(items)]
    return pd.concat(frames, ignore_index=True)


def randomisation_frame(model: Mapping[str, Any], clips: Sequence[Mapping[str, Any]], methods: Sequence[str],
                        options: Mapping[str, Any], progress: bool = False) -> pd.DataFrame:
    """Cascading randomisation of every method on one model (resumable); one row per (method, video, step)."""
    return randomisation_frames({model["run"]: model}, {model["run"]: clips}, methods, options, progress)


# --- a real network: I3D (Kinetics-400) on real footage -------------------------------------------------------
#
# SynthKTH's ground truth is not needed by faithfulness (deletion and insertion of frames against a random
# order) nor by the cascading randomisation check, so both also score the pretrained I3D on the catalogue's real
# clips (vidsal_core.data.footage), explaining I3D's own predicted Kinetics class. Clips and model are loaded
# as the border chapter loads them (vidsal_study.chapters.border: load_clip, model_for, i3d_descriptor).

#: Keys of ``evaluation_chapter.i3d`` (the section may be null: no I3D part).
I3D_KEYS = ("footage", "clips_per_video", "clip_length", "crop_size", "shorter_side", "methods", "frame_points",
            "randomisation_methods", "randomisation_steps")
#: Methods I3D is explained with (maps of the predicted class; no ground truth needed).
I3D_METHODS = ("input_gradient", "sensitivity", "deep_taylor", "grad_cam", "grad_cam_plus_plus", "xgrad_cam", "random")
#: Cascading randomisation of I3D in coarse top-down stages. Stage ``k`` re-initialises every parameterised
#: layer from the output down to the lowest layer of the stage (the logits layer; the Mixed_5 Inception blocks;
#: the Mixed_4 blocks; the Mixed_3 blocks); the last step always re-initialises every layer ("all"). Explaining
#: I3D after each of its 58 layers (BatchNorm folded) would cost 58 explanations per clip and method; the coarse
#: steps keep the check's shape (top first, cumulative) at a few explanations.
I3D_STAGES: tuple[tuple[str, str], ...] = (
    ("logits", "logits"), ("Mixed_5", "features.Mixed_5"), ("Mixed_4", "features.Mixed_4"),
    ("Mixed_3", "features.Mixed_3"),
)
#: Bumped whenever the I3D work functions change what they compute.
I3D_WORK_VERSION = 2  # 2: seeded random tie-breaking in deletion/insertion


def i3d_settings(section: Mapping[str, Any]) -> dict[str, Any] | None:
    """``evaluation_chapter.i3d`` checked (None when the section has no I3D part)."""
    spec = section.get("i3d")
    if spec is None:
        return None
    spec = dict(spec)
    unknown, missing = sorted(set(spec) - set(I3D_KEYS)), sorted(set(I3D_KEYS) - set(spec))
    if unknown or missing:
        raise ConfigError(f"evaluation_chapter.i3d: unknown key(s) {unknown}, missing {missing}; "
                          f"expected {list(I3D_KEYS)}")
    for key in ("methods", "randomisation_methods"):
        bad = [method for method in spec[key] if method not in I3D_METHODS]
        if bad:
            raise ConfigError(f"evaluation_chapter.i3d.{key}: unknown {bad}; choose from {list(I3D_METHODS)}")
    for key in ("clips_per_video", "clip_length", "crop_size", "shorter_side", "frame_points"):
        if isinstance(spec[key], bool) or not isinstance(spec[key], int) or spec[key] < 1:
            raise ConfigError(f"evaluation_chapter.i3d.{key}={spec[key]!r}: expected a positive integer")
    steps = spec["randomisation_steps"]
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= len(I3D_STAGES) + 1:
        raise ConfigError(f"evaluation_chapter.i3d.randomisation_steps={steps!r}: expected 1 to {len(I3D_STAGES) + 1}")
    return spec


def i3d_stage_names(steps: int) -> list[str]:
    """The names of ``steps`` randomisation steps: the first ``steps - 1`` stages of :data:`I3D_STAGES`, then ``all``."""
    return [name for name, _ in I3D_STAGES[:steps - 1]] + ["all"]


def i3d_model_descriptor(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The pretrained I3D's descriptor (weights' sha256, preprocessing), as the border chapter makes it."""
    from types import SimpleNamespace


    return i3d_descriptor(SimpleNamespace(crop_size=spec["crop_size"], shorter_side=spec["shorter_side"],
                                          untrained_seed=UNTRAINED_SEED))


def i3d_clips(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``clips_per_video`` clips of each present footage video, spread evenly (one clip: the middle one)."""

    clips = []
    for video in footage_videos(spec["footage"]):
        room = int(video["n_frames"]) - spec["clip_length"]
        if room < 0:
            continue
        count = spec["clips_per_video"]
        offsets = sorted({int(round(room * (index + 1) / (count + 1))) for index in range(count)})
        clips += [{**video, "offset": offset} for offset in offsets]
    return clips


def i3d_model(descriptor: Mapping[str, Any]) -> nn.Module:
    """The pretrained I3D a descriptor names (cached per process by the border chapter's loader)."""

    return border_model_for(descriptor, "trained")


def i3d_clip(clip: Mapping[str, Any], descriptor: Mapping[str, Any], clip_length: int) -> torch.Tensor:
    """The ``(T, 3, S, S)`` clip in [0, 1] I3D sees (the border chapter's :func:`~vidsal_study.chapters.border.load_clip`)."""

    video = {key: value for key, value in clip.items() if key != "offset"}
    return border_load_clip(video, {"model": descriptor, "clip_length": clip_length, "step": 1,
                                    "offset": int(clip["offset"])})


def _i3d_prediction(model: nn.Module, clip: torch.Tensor) -> tuple[int, float]:
    with torch.no_grad():
        probabilities = torch.softmax(model(clip[None]).double(), dim=1)[0]
    target = int(probabilities.argmax())
    return target, float(probabilities[target])


def i3d_faithfulness_work(clip: Mapping[str, Any], setting: Mapping[str, Any]) -> dict[str, Any]:
    """Deletion and insertion of frames in the order one method ranks them, on I3D (a sweep's work function).

    ``setting``: ``model`` (:func:`i3d_model_descriptor`), ``method``, ``clip_length``, ``frame_points``,
    ``baseline`` (what a deleted frame becomes), ``seed`` (of the ``random`` map) and ``version``.
    """

    model = i3d_model(setting["model"])
    video = i3d_clip(clip, setting["model"], setting["clip_length"])
    target, probability = _i3d_prediction(model, video)
    started = time.perf_counter()
    with torch.enable_grad():
        saliency = explain(model, video, target, setting["method"], {"seed": setting["seed"]}).detach().double()
    seconds = time.perf_counter() - started
    frames, _, height, width = video.shape
    masks = frame_masks(frames, height, width)
    labels = unit_labels(masks)
    order = saliency_order(unit_scores(saliency.abs(), masks, labels), seed=int(setting["seed"]))
    curves = faithfulness(model, video, masks, order, target, baseline_video(video, setting["baseline"]),
                          min(setting["frame_points"], frames), labels=labels)
    return {"target": target, "probability": probability, "seconds": seconds,
            "deletion_auc": curves.deletion_auc, "insertion_auc": curves.insertion_auc,
            "deletion": curves.deletion.tolist(), "insertion": curves.insertion.tolist(),
            "fractions": curves.fractions.tolist()}


def i3d_randomisation_work(clip: Mapping[str, Any], setting: Mapping[str, Any]) -> dict[str, Any]:
    """Cascading randomisation of one method on I3D for one clip, in the coarse steps of :data:`I3D_STAGES`.

    The layers are re-initialised one after another from the output down
    (:func:`vidsal_core.metrics.randomisation.randomised_models`, BatchNorm
    folded into its convolution, seeded per layer), and the map is computed
    and compared with the trained model's only after the last layer of each
    stage. Returns one row per step: ``step``, ``stage``, ``layer`` (the last
    layer re-initialised), ``layers`` (how many) and the similarities of
    :mod:`vidsal_core.metrics.randomisation`.
    """

    model = i3d_model(setting["model"])
    video = i3d_clip(clip, setting["model"], setting["clip_length"])
    target, _ = _i3d_prediction(model, video)
    groups = [name for name, _ in layer_groups(model, video[None])]
    cuts: dict[int, str] = {}
    for stage in setting["stages"]:
        if stage == "all":
            cuts[len(groups)] = "all"
            continue
        prefix = dict(I3D_STAGES)[stage]
        inside = [index for index, name in enumerate(groups, start=1) if name.startswith(prefix)]
        if not inside:
            raise ConfigError(f"stage {stage!r}: no layer of the model starts with {prefix!r}")
        cuts[max(inside)] = stage
    rows, reference = [], None
    for step, layer, randomised in randomised_models(model, groups, int(setting["seed"]), video[None]):
        if step != 0 and step not in cuts:
            continue
        with torch.enable_grad():
            saliency = explain(randomised, video, target, setting["method"], {"seed": setting["seed"]})
        saliency = saliency.detach().double().numpy()
        if reference is None:
            reference = _Reference(saliency)
        rows.append({"step": len(rows), "stage": "trained" if step == 0 else cuts[step], "layer": layer,
                     "layers": step, **reference.compare(saliency)})
    return {"target": target, "rows": rows}


def i3d_frames(spec: Mapping[str, Any], seed: int = 0, baseline: str = "blur", progress: bool = False,
               root: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run (or resume) I3D's faithfulness and randomisation sweeps.

    Returns ``(faithfulness, randomisation)``: one row per (clip, method) with
    the curves and areas, and one row per (clip, method, step) with the
    similarities. Results are saved under ``data/sweeps/`` (or ``root``).
    """
    descriptor = i3d_model_descriptor(spec)
    clips = i3d_clips(spec)
    common = {"model": descriptor, "clip_length": spec["clip_length"], "seed": int(seed)}
    faith_items = [SweepItem(clip, {**common, "method": method, "frame_points": spec["frame_points"],
                                    "baseline": baseline, "version": I3D_WORK_VERSION})
                   for method in spec["methods"] for clip in clips]
    stages = i3d_stage_names(spec["randomisation_steps"])
    random_items = [SweepItem(clip, {**common, "method": method, "stages": stages, "version": I3D_WORK_VERSION})
                    for method in spec["randomisation_methods"] for clip in clips]
    work = {"version": I3D_WORK_VERSION}
    faith = run_sweep(i3d_faithfulness_work, faith_items,
                      sweep_directory("evaluation-i3d", {**work, "work": "i3d_faithfulness_work"}, root),
                      progress=progress, description="I3D faithfulness") if faith_items else []
    randomisation = run_sweep(i3d_randomisation_work, random_items,
                              sweep_directory("evaluation-i3d-randomisation",
                                              {**work, "work": "i3d_randomisation_work"}, root),
                              progress=progress, description="I3D randomisation") if random_items else []
    faith_frame = pd.DataFrame([{"video": f"{item.video['name']}@{item.video['offset']}", "footage": item.video["name"],
                                 "method": item.setting["method"], **result}
                                for item, result in zip(faith_items, faith)])
    random_frame = pd.DataFrame([{"video": f"{item.video['name']}@{item.video['offset']}",
                                  "footage": item.video["name"], "method": item.setting["method"], **row}
                                 for item, result in zip(random_items, randomisation) for row in result["rows"]])
    return faith_frame, random_frame


# --- the chapter's figure of maps and the Grad-CAM map's size --------------------------------------------------

#: Methods of the chapter's figure of maps, in order, with their short row names.
EXAMPLE_METHODS: dict[str, str] = {
    "input_gradient": "gradient", "integrated_gradients": "IG", "smoothgrad": "SmoothGrad", "tsr": "TSR",
    "deep_taylor": "deep Taylor", "grad_cam": "Grad-CAM", "flow": "flow",
}
#: Methods whose maps keep their sign (a diverging colour map in the figure).
SIGNED_METHODS: tuple[str, ...] = ("integrated_gradients", "deep_taylor")


def example_rows(model: nn.Module, item: Any, target: int, methods: Sequence[str],
                 options: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """The rows of :func:`vidsal_core.plot.saliency_grid` for one clip: its frames, its person, then each map.

    Parameters
    ----------
    model : nn.Module
        The model explained (eval mode).
    item
        :func:`load_clip`'s item: ``video`` ``(T, C, H, W)`` and ``truth.parts``.
    target : int
        The class explained.
    methods : sequence of str
        The sweep's methods; those of :data:`EXAMPLE_METHODS` that apply to the model are drawn, in its order.
    options : mapping
        The sweep's options (:func:`registry_options`).

    Returns
    -------
    list of (label, values, kind)
        ``kind`` is ``"frames"``, ``"signed"`` (:data:`SIGNED_METHODS`) or ``"unsigned"``.
    """
    rows = [("frames", item.video, "frames"), ("person (truth)", (item.truth.parts > 0).float(), "unsigned")]
    for method in [m for m in EXAMPLE_METHODS if m in methods]:
        with torch.enable_grad():
            values = explain(model, item.video, target, method, options)
        rows.append((EXAMPLE_METHODS[method], values, "signed" if method in SIGNED_METHODS else "unsigned"))
    return rows


def coarse_shape_text(model: nn.Module, video: torch.Tensor) -> str:
    """The size of a C3D's Grad-CAM map before upsampling, against its ``(T, C, H, W)`` clip, in words.

    Examples: ``"2×7×7 (frames × rows × columns, from a 16×112×112 clip)"``.
    """

    shape = tuple(coarse_class_activation_map(model, video).shape)
    return (f"{shape[0]}×{shape[1]}×{shape[2]} (frames × rows × columns, from a "
            f"{video.shape[0]}×{video.shape[2]}×{video.shape[3]} clip)")
