"""The feature-saliency and TSR study (seed 000, Figs. 10–17 and §6.3), measured against SynthKTH's truth.

For a walking-vs-running classifier (FrameLSTM, ICA-LSTM) and a SynthKTH test
clip this module computes every map seed 000 looked at,

``gradient``         ``|∂ logit / ∂ x|`` (Simonyan et al., 2014; Captum ``Saliency``);
``one_step``         the gradient scaled frame by frame by time contribution (seed 000 §4.2.1);
``tsr_blocks``       two-step TSR with square blocks (seed 000 §4.2.2; Ismail et al., 2020);
``tsr_superpixels``  two-step TSR with SLIC superpixels (seed 000 §6.5's suggestion);
``farneback``        Farnebäck flow magnitude, the seed's yardstick (OpenCV, the seed's parameters),

and scores each against what SynthKTH knows (:func:`clip_metrics`): the share
of the map's mass on the person and on the legs, Spearman's rank correlation
with the *true* motion magnitude and with Farnebäck's, and the share of mass
on frames without the person or late in the clip (a shortcut check).
:func:`run_study` maps :func:`explain_clip` over test videos as a resumable
sweep (:mod:`vidsal_study.sweeps`); :func:`engine_costs` times the
naive TSR loop against the batched and factorised engines on one clip, and
:func:`seed_setting_factorised` the factorised engine at seed 000's setting.
:func:`example_clips` explains one test person's walking and running clips
for the chapter's figures, :func:`explain_own_clip` a reader's clip.

The notebook ``notebooks/tsr.ipynb`` asks the questions and reads the answers;
:mod:`vidsal_study.chapters.tsr.findings` turns the results into its numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from vidsal_study.chapters.evaluation.study import TSR_MASK_VALUES, tsr_across_mask_values
from vidsal_core.metrics.flat_frames import compare_maps, in_view_frames
from vidsal_core.metrics.maps import frame_mass_share, map_magnitude, motion_magnitude, naive_pass_count, \
    spatial_rank_correlation
from vidsal_study.training_runs import run_label
from vidsal_core.errors import CheckpointError, ConfigError
from vidsal_core.saliency.registry import TSR_VARIANTS
from vidsal_study.profiles import corpus_config
from vidsal_core.saliency.registry import tsr_variant_options
from vidsal_core.models.checkpoints import manifest_entry
from vidsal_study.runs import build_run, checkpoint_paths, load_trained
from vidsal_study.runs import run_region_options
from vidsal_core.data.clips import clip_span
from vidsal_core.data.corpus import DATA_DIR, Corpus
from vidsal_core.data.corpus import SynthKTHDataset
from vidsal_core.saliency.registry import explain as explain_by_name
from vidsal_core.saliency.time_contribution import time_contribution
from vidsal_core.saliency.tsr import one_step_rescaling
from vidsal_core.metrics.localisation import LEG_PARTS, area_share, mass_share, part_region
from vidsal_study.sweeps import SweepItem, run_sweep, sweep_directory
from vidsal_core.data.corpus import CorpusConfig, build_corpus
from vidsal_core.data.video import read_video
from vidsal_core.saliency.factorised import FrameFactorisation
from vidsal_core.saliency.tsr import temporal_saliency_rescaling
from vidsal_core.saliency.tsr_reference import temporal_saliency_rescaling_reference
from vidsal_core.models.registry import build_model
from vidsal_study.runs import run_settings
from vidsal_core.saliency.gradients import input_gradient
from vidsal_study.profiles import profile_section

#: Maps compared, in the order tables and figures show them.
METHODS: tuple[str, ...] = ("gradient", "one_step", "tsr_blocks", "tsr_superpixels", "farneback")
#: Readable names of :data:`METHODS`.
METHOD_LABELS: dict[str, str] = {
    "gradient": "|gradient|", "one_step": "one-step", "tsr_blocks": "TSR, blocks",
    "tsr_superpixels": "TSR, superpixels", "farneback": "Farnebäck |flow|",
}
#: Readable names of the chapter's models (other runs go by their name: :func:`model_label`).
MODEL_LABELS: dict[str, str] = {"frame_lstm_binary": "FrameLSTM", "ica_lstm_binary": "ICA-LSTM"}
#: TSR variants: Ismail et al.'s public code, or Algorithm 1 read literally (the saliency registry's).
VARIANTS: tuple[str, ...] = TSR_VARIANTS
#: Visibility below which a frame counts as empty (no person in view).
EMPTY_VISIBILITY = 0.05
#: Visibility from which a frame counts as showing the person (for the person and leg shares).
IN_VIEW_VISIBILITY = 0.5
#: Bumped when :func:`explain_clip`'s results change meaning (names a new sweep folder).
WORK_VERSION = 2  # 2: paired comparisons under the flat-frame rule, for every mask value of TSR
#: Comparisons of two maps under the flat-frame rule (:mod:`vidsal_core.metrics.flat_frames`), by name:
#: (first map, second map, per-frame score, truth: ``"motion"`` (true speed), ``"person"`` or ``"legs"`` (regions)).
RULE_COMPARISONS: dict[str, tuple[str, str, str, str]] = {
    "one_step_vs_tsr_rho": ("one_step", "tsr_blocks", "spearman", "motion"),
    "tsr_vs_gradient_auroc_legs": ("tsr_blocks", "gradient", "auroc", "legs"),
    "tsr_vs_gradient_auroc_person": ("tsr_blocks", "gradient", "auroc", "person"),
}


@dataclass(frozen=True)
class StudySettings:
    """The profile's ``tsr_chapter`` section, checked.

    Attributes
    ----------
    runs : tuple of str
        Model runs explained (walking vs running).
    videos_per_action : int
        Test videos per action (one person each, scenarios cycled).
    block_size : int
        TSR block side in pixels of the model's frames.
    superpixels : int
        SLIC superpixels per frame for superpixel TSR.
    variant : str
        ``"reference_code"`` or ``"algorithm_1"`` (:func:`tsr_options`).
    cost_block_size : int
        Block side of the naive loop in the cost table (fewer blocks: fits the budget).
    paper_pass_repeats : int
        Timed passes of the paper-sized model (0 = skip that extrapolation).
    mask_values : tuple of str
        TSR's mask values compared under the flat-frame rule (:func:`rule_comparisons`); the
        variant's own value gives the chapter's maps, the others cost only their masked passes
        (:func:`~vidsal_study.chapters.evaluation.study.tsr_across_mask_values`). Default all of
        :data:`~vidsal_study.chapters.evaluation.study.TSR_MASK_VALUES`.
    seed_setting_factorised : str
        The factorised engine at seed 000's setting (``seed000`` network,
        30 × 120 × 120, 10 × 10 blocks): ``"measure"`` runs it in the chapter,
        ``"bench"`` reads the figure recorded by ``bench/bench_tsr_seed_setting.py``
        in ``bench/results/tsr_seed_setting.json``.
    """

    runs: tuple[str, ...]
    videos_per_action: int
    block_size: int
    superpixels: int
    variant: str
    cost_block_size: int
    paper_pass_repeats: int
    seed_setting_factorised: str = "bench"
    mask_values: tuple[str, ...] = TSR_MASK_VALUES

    @classmethod
    def from_profile(cls, profile: str, overrides: Mapping[str, Any] | None = None) -> "StudySettings":

        values = dict(profile_section(profile, "tsr_chapter"))
        values.update({key: value for key, value in (overrides or {}).items() if value is not None})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"tsr_chapter: unknown setting(s) {unknown}; expected {sorted(known)}")
        missing = sorted(known - set(values) - {"seed_setting_factorised", "mask_values"})
        if missing:
            raise ConfigError(f"tsr_chapter: missing setting(s) {missing}")
        for name in ("videos_per_action", "block_size", "superpixels", "cost_block_size"):
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"tsr_chapter.{name}={value!r}: expected a positive integer")
        repeats = values["paper_pass_repeats"]
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 0:
            raise ConfigError(f"tsr_chapter.paper_pass_repeats={repeats!r}: expected a non-negative integer")
        if values.get("seed_setting_factorised", "bench") not in ("measure", "bench"):
            raise ConfigError(f"tsr_chapter.seed_setting_factorised={values['seed_setting_factorised']!r}: "
                              "choose 'measure' or 'bench'")
        if values["variant"] not in VARIANTS:
            raise ConfigError(f"tsr_chapter.variant={values['variant']!r}: choose one of {list(VARIANTS)}")
        masks = values.get("mask_values", TSR_MASK_VALUES)
        if isinstance(masks, str) or not masks or set(masks) - set(TSR_MASK_VALUES):
            raise ConfigError(f"tsr_chapter.mask_values={masks!r}: expected a list from {list(TSR_MASK_VALUES)}")
        values["mask_values"] = tuple(masks)
        runs = values["runs"]
        if isinstance(runs, str) or not runs:
            raise ConfigError(f"tsr_chapter.runs={runs!r}: expected a list of run names")
        values["runs"] = tuple(runs)
        return cls(**values)


def model_label(run_name: str) -> str:
    """A run's readable name (:data:`MODEL_LABELS`), or the run's name itself.

    Examples
    --------
    >>> model_label("ica_lstm_binary"), model_label("my_run")
    ('ICA-LSTM', 'my_run')
    """
    return run_label(run_name, MODEL_LABELS)


def tsr_options(variant: str) -> dict[str, Any]:
    """TSR options of a variant: the reference code's (:data:`~vidsal_core.saliency.tsr.REFERENCE_CODE_OPTIONS`) or Algorithm 1's defaults.

    The saliency registry's :func:`~vidsal_core.saliency.registry.tsr_variant_options`.
    """

    return tsr_variant_options(variant)


# --- models and clips ------------------------------------------------------------------------------

_MODELS: dict[tuple[str, str, str], nn.Module] = {}


def trained_model(profile: str, run_name: str, train_if_missing: bool = True, progress: bool = False) -> nn.Module:
    """The run's trained model in eval mode, training it first (as ``make models`` would) when missing."""

    run = build_run(profile, run_name)
    try:
        model = load_trained(profile, run_name)
    except CheckpointError:
        if not train_if_missing:
            raise
        from vidsal_core.data.corpus import CorpusConfig, build_corpus
        from vidsal_study.runs import run_dataset, train_or_load

        corpus = build_corpus(corpus_config(profile, run.corpus_section), progress=progress)
        train_or_load(run, run_dataset(run, corpus, "train", cache=True),
                      run_dataset(run, corpus, "validation", cache=True), on_mismatch="retrain", progress=progress)
        model = load_trained(profile, run_name)
    sha = (manifest_entry(checkpoint_paths(run).trained) or {}).get("sha256", "")
    _MODELS[(str(profile), run_name, sha)] = model.eval()
    return model.eval()


def _model(profile: str, run_name: str, sha256: str) -> nn.Module:
    key = (str(profile), run_name, sha256)
    if key not in _MODELS:
        trained_model(profile, run_name, train_if_missing=False)
    if key not in _MODELS:
        raise CheckpointError(f"{profile}/{run_name}: the checkpoint changed since the study was planned; run it again")
    return _MODELS[key]


def model_descriptor(profile: str, run_name: str) -> dict[str, Any]:
    """What a run's results depend on: its name, classes, clip settings and checkpoint hash."""

    run = build_run(profile, run_name)
    if tuple(run.spec.classes) != ("walking", "running"):
        raise ConfigError(f"tsr_chapter.runs: {run_name} has classes {list(run.spec.classes)}; "
                          "the chapter explains walking vs running runs")
    entry = manifest_entry(checkpoint_paths(run).trained) or {}
    return {"profile": str(profile), "run": run_name, "model": run.spec.model, "sha256": entry.get("sha256", ""),
            "classes": list(run.spec.classes), "clip_length": run.data["clip_length"], "step": run.data["step"],
            "offset": run.data["evaluation_offset"], "size": list(run.data["size"]),
            "title_frames": run.data["title_frames"], "corpus_section": run.corpus_section,
            **run_region_options(run)}  # a control run's in_view and inside; none for a run with the defaults


def study_entries(corpus: Any, videos_per_action: int, actions: Sequence[str] = ("walking", "running"),
                  title_frames: int | None = None,
                  descriptors: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """Test videos: ``videos_per_action`` (person, scenario) pairs, the same pairs for every action.

    Persons are taken in order, the scenario cycling with the person, then
    again with the next scenario, so that few videos still spread over
    persons and scenarios; walking and running of a pair share person and
    scenario (a paired comparison). A descriptor (:func:`model_descriptor`)
    of a control run (``inside``) keeps only the videos with a run in view
    that holds its clip; every person with a pair left is then taken once
    before any is taken twice, so the independent units stay as many as the
    videos allow.
    """

    entries = corpus.select(split="test", actions=list(actions), title_frames=title_frames)
    for descriptor in descriptors:
        if descriptor.get("inside"):
            entries = corpus.inside_entries(entries, clip_span(descriptor["clip_length"], descriptor["step"]),
                                            descriptor["in_view"])
    persons = sorted({entry["person"] for entry in entries})
    scenarios = sorted({entry["scenario"] for entry in entries})
    index = {(e["action"], e["person"], e["scenario"]): e for e in entries}
    chosen: list[dict[str, Any]] = []
    pairs = [(person, scenarios[(position + turn) % len(scenarios)])
             for turn in range(len(scenarios)) for position, person in enumerate(persons)]
    taken, used = 0, set()
    for distinct in (True, False):  # every person once first (a control keeps fewer videos), then again
        for person, scenario in pairs:
            if taken == videos_per_action:
                break
            found = [index.get((action, person, scenario)) for action in actions]
            if all(found) and (person, scenario) not in used and not (distinct and any(
                    chosen_person == person for chosen_person, _ in used)):
                chosen += found
                used.add((person, scenario))
                taken += 1
    return chosen


@lru_cache(maxsize=4)
def _corpus(config_hash: str):

    return Corpus(DATA_DIR / "synthkth" / config_hash)


def load_clip(corpus: Any, entry: Mapping[str, Any], descriptor: Mapping[str, Any]) -> dict[str, Any]:
    """The run's test clip of a corpus video, with its truth at the model's frame size.

    Returns
    -------
    dict
        ``video`` ``(T, 1, h, w)``, ``label``, ``parts`` ``(T, h, w)`` uint8,
        ``visibility`` ``(T,)``, ``motion`` ``(T, h, w)`` true speed in px/frame
        at the model's size (:func:`~vidsal_core.metrics.maps.motion_magnitude`),
        ``frames`` (indices in the video).
    """

    dataset = SynthKTHDataset(corpus, [dict(entry)], actions=descriptor["classes"],
                              clip_length=descriptor["clip_length"], step=descriptor["step"],
                              offset=descriptor["offset"], size=tuple(descriptor["size"]), with_truth=True,
                              **_region(descriptor))
    if len(dataset) == 0:
        raise ConfigError(f"video {entry['key']}: holds no clip inside a run in view of {descriptor['run']}")
    item = dataset[0]
    frames = item.truth.frames
    flow = corpus.render(dict(entry), with_flow=True).flow[frames]
    return {"video": item.video, "label": list(descriptor["classes"]).index(entry["action"]),
            "parts": item.truth.parts, "visibility": item.truth.visibility.double(),
            "motion": motion_magnitude(flow, tuple(descriptor["size"])), "frames": frames}


# --- the maps --------------------------------------------------------------------------------------

def explain(model: nn.Module, video: torch.Tensor, target: int | None, block_size: int, superpixels: int,
            variant: str = "reference_code", engine: str = "auto") -> dict[str, Any]:
    """Every map of :data:`METHODS` for one clip, and what they were made from.

    The gradient, both TSR maps and Farnebäck's come from the saliency
    registry (:func:`vidsal_core.saliency.registry.explain`: ``input_gradient``,
    ``tsr``, ``superpixel_tsr``, ``flow``); the one-step map rescales that
    gradient by the clip's time contribution, computed once for both.

    Parameters
    ----------
    model : nn.Module
        Eval mode, ``(B, T, C, H, W)`` → logits.
    video : torch.Tensor
        ``(T, C, H, W)`` in [0, 1].
    target : int or None
        Class explained (None: the prediction).
    block_size, superpixels : int
        TSR's blocks (pixels) and SLIC superpixels per frame; ``superpixels=0`` leaves superpixel TSR out (the
        maps and results then lack ``tsr_superpixels``: what the robustness runs of
        :func:`~vidsal_study.chapters.tsr.findings.rows_on_runs` need, at half the cost).
    variant : str
        TSR options (:func:`tsr_options`).
    engine : str
        TSR engine (``"auto"``: factorised where the model allows).

    Returns
    -------
    dict
        ``maps`` (name → ``(T, C, H, W)`` or, for Farnebäck, ``(T − 1, H, W)``),
        ``tsr`` (name → :class:`~vidsal_core.saliency.tsr.TSRResult`),
        ``time_contribution`` (:class:`~vidsal_core.saliency.time_contribution.TimeContribution`),
        ``target``, ``probability`` of the target, ``prediction``, ``seconds`` per method.
    """

    options = tsr_options(variant)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    contribution = time_contribution(model, video, label=target)
    target = contribution.target
    seconds["time_contribution"] = time.perf_counter() - started
    started = time.perf_counter()
    gradient = explain_by_name(model, video, "input_gradient", target).maps
    seconds["gradient"] = time.perf_counter() - started
    one_step = one_step_rescaling(gradient, contribution.probability_drop)  # the gradient above, rescaled
    tsr = {"tsr_blocks": explain_by_name(model, video, "tsr", target, block_size=block_size, engine=engine,
                                         **options).details}
    if superpixels:
        tsr["tsr_superpixels"] = explain_by_name(model, video, "superpixel_tsr", target, n_segments=superpixels,
                                                 engine=engine, **options).details
    seconds.update({name: result.seconds for name, result in tsr.items()})
    started = time.perf_counter()
    farneback = explain_by_name(model, video, "flow", target, as_clip=False).maps
    seconds["farneback"] = time.perf_counter() - started
    maps = {"gradient": gradient, "one_step": one_step, "tsr_blocks": tsr["tsr_blocks"].saliency,
            **({"tsr_superpixels": tsr["tsr_superpixels"].saliency} if superpixels else {}), "farneback": farneback}
    return {"maps": maps, "tsr": tsr, "time_contribution": contribution, "target": int(target),
            "probability": float(contribution.probability), "prediction": int(contribution.prediction),
            "seconds": seconds}


def clip_metrics(maps: Mapping[str, Any], parts: Any, visibility: Any, motion: Any) -> dict[str, dict[str, float]]:
    """Scores of each map against the clip's truth, over the frames every map has (``T − 1``).

    Per map: ``person`` and ``legs`` (share of mass in frames with the person
    in view), ``rho_true`` and ``rho_farneback`` (:func:`~vidsal_core.metrics.maps.spatial_rank_correlation`
    with the true and the Farnebäck motion magnitude), ``empty`` (mass share on
    frames without the person) and ``late`` (mass share on the clip's last
    third), and ``profile`` (the map's mass share per frame). Chance levels go
    under the key ``"chance"``: the area of the person and the legs, the share
    of empty and late frames.
    """

    farneback = map_magnitude(maps["farneback"], "maps['farneback']")
    count = farneback.shape[0]
    labels = np.asarray(parts.detach().cpu() if hasattr(parts, "detach") else parts)[:count]
    seen = np.asarray(visibility.detach().cpu() if hasattr(visibility, "detach") else visibility, dtype=float)[:count]
    person, legs = part_region(labels), part_region(labels, LEG_PARTS)
    in_view = (seen >= IN_VIEW_VISIBILITY) & person.any(axis=(1, 2))
    empty = seen < EMPTY_VISIBILITY
    late = np.arange(count) >= count - count // 3
    speed = torch.as_tensor(np.asarray(motion.detach().cpu() if hasattr(motion, "detach") else motion))[:count]
    nan = float("nan")
    result: dict[str, dict[str, Any]] = {}
    for name, values in maps.items():
        magnitude = map_magnitude(values, f"maps[{name!r}]")[:count].numpy()
        total = magnitude.sum()
        result[name] = {
            "person": mass_share(magnitude, person, in_view) if in_view.any() else nan,
            "legs": mass_share(magnitude, legs, in_view) if in_view.any() else nan,
            "rho_true": spatial_rank_correlation(magnitude, speed)[0],
            "rho_farneback": spatial_rank_correlation(magnitude, farneback)[0] if name != "farneback" else 1.0,
            "empty": frame_mass_share(magnitude, empty) if empty.any() else nan,
            "late": frame_mass_share(magnitude, late),
            "profile": (magnitude.sum(axis=(1, 2)) / total).tolist() if total > 0 else [nan] * count,
        }
    result["chance"] = {
        "person": area_share(person, in_view) if in_view.any() else nan,
        "legs": area_share(legs, in_view) if in_view.any() else nan,
        "empty": float(empty.mean()) if empty.any() else nan, "late": float(late.mean()),
        "visibility": seen.tolist(),
    }
    return result


def rule_comparisons(maps: Mapping[str, Any], parts: Any, visibility: Any, motion: Any,
                     selected: Any) -> dict[str, dict[str, dict[str, float]]]:
    """The pairs of :data:`RULE_COMPARISONS` of one clip, under the flat-frame rule.

    Each pair is :func:`vidsal_core.metrics.flat_frames.compare_maps` of the
    two maps against the truth (the true speed, the person's or the legs'
    pixels) on every in-view frame and on the in-view frames TSR selected.

    Parameters
    ----------
    maps : mapping
        Name → ``(T, C, H, W)`` map (``one_step``, ``tsr_blocks``, ``gradient``).
    parts : array-like
        ``(T, H, W)`` part labels.
    visibility : array-like
        ``(T,)`` share of the person in view.
    motion : array-like
        ``(T, H, W)`` true speed.
    selected : array-like
        ``(T,)`` bool: the frames TSR selected (above α).
    """

    labels = np.asarray(parts.detach().cpu() if hasattr(parts, "detach") else parts)
    truths = {"person": part_region(labels), "legs": part_region(labels, LEG_PARTS), "motion": motion}
    in_view = in_view_frames(visibility, truths["person"], IN_VIEW_VISIBILITY)
    return {name: compare_maps(maps[first], maps[second], truths[truth], score, in_view, selected)
            for name, (first, second, score, truth) in RULE_COMPARISONS.items()}


def _region(descriptor: Mapping[str, Any]) -> dict[str, Any]:
    """A descriptor's ``in_view`` and ``inside`` (a control run's), as :class:`SynthKTHDataset` takes them."""
    return {key: descriptor[key] for key in ("in_view", "inside") if key in descriptor}


def clip_mean(corpus: Any, entries: Sequence[Mapping[str, Any]], descriptor: Mapping[str, Any]) -> float:
    """Mean intensity of the run's clips of ``entries``: the value of TSR's ``"mean"`` mask (a dataset mean)."""

    dataset = SynthKTHDataset(corpus, [dict(entry) for entry in entries], actions=descriptor["classes"],
                              clip_length=descriptor["clip_length"], step=descriptor["step"],
                              offset=descriptor["offset"], size=tuple(descriptor["size"]), **_region(descriptor))
    return float(torch.stack([dataset[index].video.double().mean() for index in range(len(dataset))]).mean())


# --- the sweep -------------------------------------------------------------------------------------

def explain_clip(video: Mapping[str, Any], setting: Mapping[str, Any]) -> dict[str, Any]:
    """Sweep work: explain one test clip with one model every way, and score the maps (JSON-able)."""
    descriptor = setting["model"]
    model = _model(descriptor["profile"], descriptor["run"], descriptor["sha256"])
    corpus = _corpus(video["corpus"])
    clip = load_clip(corpus, video, descriptor)
    explained = explain(model, clip["video"], clip["label"], setting["block_size"], setting["superpixels"],
                        setting["variant"])
    metrics = clip_metrics(explained["maps"], clip["parts"], clip["visibility"], clip["motion"])
    tsr = explained["tsr"]["tsr_blocks"]
    variant_mask = tsr_options(setting["variant"]).get("mask_value", "zero")
    others = [value for value in setting["mask_values"] if value != variant_mask]
    masked = {variant_mask: tsr} if variant_mask in setting["mask_values"] else {}
    if others:
        with torch.enable_grad():
            masked.update(tsr_across_mask_values(model, clip["video"], explained["target"], others,
                                                 setting["block_size"], tsr_options(setting["variant"]),
                                                 mask_mean=setting["mean"]))
    rule = {value: rule_comparisons({**explained["maps"], "tsr_blocks": masked[value].saliency}, clip["parts"],
                                    clip["visibility"], clip["motion"], masked[value].selected)
            for value in setting["mask_values"]}
    return {
        "metrics": metrics, "rule": rule,
        "rule_seconds": {value: result.seconds for value, result in masked.items()}, "label": clip["label"], "prediction": explained["prediction"],
        "probability": explained["probability"], "seconds": explained["seconds"],
        "tsr_selected": tsr.selected.nonzero().flatten().tolist(),
        "tsr_time_relevance": tsr.time_relevance.tolist(),
        "tsr_calls": tsr.attribution_calls, "tsr_engine": tsr.engine,
        "superpixel_calls": (explained["tsr"]["tsr_superpixels"].attribution_calls
                             if "tsr_superpixels" in explained["tsr"] else None),
    }


@dataclass
class Study:
    """What :func:`run_study` returns."""

    settings: StudySettings
    corpus: Any
    descriptors: dict[str, dict[str, Any]]
    entries: list[dict[str, Any]]
    results: pd.DataFrame  # one row per (run, video): the keys of explain_clip and the video's fields
    seconds: float


def run_study(profile: str, settings: StudySettings | None = None, progress: bool = False) -> Study:
    """Explain the profile's test clips with every run (resumable sweep) and gather the results."""

    started = time.perf_counter()
    settings = settings or StudySettings.from_profile(profile)
    descriptors = {}
    for run_name in settings.runs:
        trained_model(profile, run_name, progress=progress)
        descriptors[run_name] = model_descriptor(profile, run_name)
    sections = {d["corpus_section"] for d in descriptors.values()}
    if len(sections) != 1:
        raise ConfigError(f"tsr_chapter.runs: the runs read different corpora {sorted(sections)}")
    corpus = build_corpus(corpus_config(profile, sections.pop()), progress=progress)
    title_frames = {d["title_frames"] for d in descriptors.values()}
    entries = study_entries(corpus, settings.videos_per_action,
                            title_frames=title_frames.pop() if len(title_frames) == 1 else None,
                            descriptors=list(descriptors.values()))
    if not entries:
        raise ConfigError(f"profile {profile}: no walking and running test videos to explain")
    videos = [{"corpus": corpus.config_hash, **{key: entry[key] for key in
                                                 ("key", "action", "person", "scenario", "n_frames", "seed",
                                                  "title_frames", "split")}} for entry in entries]
    common = {"block_size": settings.block_size, "superpixels": settings.superpixels, "variant": settings.variant,
              "mask_values": list(settings.mask_values)}
    means = {run_name: round(clip_mean(corpus, entries, descriptors[run_name]), 6) for run_name in settings.runs}
    items = [SweepItem(video, {"model": descriptors[run_name], "mean": means[run_name], **common})
             for run_name in settings.runs for video in videos]
    directory = sweep_directory("tsr_chapter", {"work": "vidsal_study.chapters.tsr.study.explain_clip",
                                                "version": WORK_VERSION})
    results = run_sweep(explain_clip, items, directory, progress=progress, description="tsr")
    rows = [{"run": item.setting["model"]["run"], **item.video, **result} for item, result in zip(items, results)]
    return Study(settings, corpus, descriptors, entries, pd.DataFrame(rows), time.perf_counter() - started)


def metric_table(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Long table of one metric: a row per (run, video, method) with ``value``, ``chance``, person and action."""
    rows = []
    for _, row in results.iterrows():
        for method in (method for method in METHODS if method in row["metrics"]):  # superpixels may be left out
            rows.append({"run": row["run"], "key": row["key"], "person": row["person"], "action": row["action"],
                         "scenario": row["scenario"], "method": method,
                         "value": row["metrics"][method].get(metric, np.nan),
                         "chance": row["metrics"]["chance"].get(metric, np.nan)})
    return pd.DataFrame(rows)


# --- the example clips and the reader's clip -------------------------------------------------------

@dataclass
class Examples:
    """The walking and the running clip of one test person, explained by every run (:func:`example_clips`).

    Attributes
    ----------
    runs : tuple of str
        The runs that explained the clips, in the chapter's order.
    person : int
        The test person.
    entries : dict
        Action → the corpus entry of its video (person, scenario, ...).
    clips : dict
        Action → :func:`load_clip` of that video (video, label, truth).
    explained : dict
        (run, action) → :func:`explain` of that clip for its true class.
    """

    runs: tuple[str, ...]
    person: int
    entries: dict[str, dict[str, Any]]
    clips: dict[str, dict[str, Any]]
    explained: dict[tuple[str, str], dict[str, Any]]

    def glued(self) -> dict[str, Any]:
        """The target's probability of every (run, action) (``p_<run>_<action>``) and ``example_person``."""
        values: dict[str, Any] = {f"p_{run_name}_{action}": float(self.explained[run_name, action]["probability"])
                                  for run_name in self.runs for action in self.clips}
        values["example_person"] = int(self.person)
        return values

    def explorer_layers(self) -> dict[str, dict[str, torch.Tensor]]:
        """Action → the frame explorer's layers: every run's maps but Farnebäck's, then the flow and the truth.

        Farnebäck's ``T − 1`` frames get an empty last frame; the body parts are 1 on the person.
        """
        layers_by_clip = {}
        for action, clip in self.clips.items():
            layers = {}
            for run_name in self.runs:
                maps = self.explained[run_name, action]["maps"]
                for method in METHODS[:-1]:
                    layers[f"{model_label(run_name)} · {METHOD_LABELS[method]}"] = maps[method]
            farneback = self.explained[self.runs[0], action]["maps"]["farneback"]
            layers["Farnebäck |flow| (none on the last frame)"] = torch.cat([farneback, torch.zeros_like(farneback[:1])])
            layers["true motion |u|"] = clip["motion"]
            layers["body parts"] = (clip["parts"] > 0).double()
            layers_by_clip[action] = layers
        return layers_by_clip

    def explorer_title(self, action: str) -> str:
        """The frame explorer's title of an action's clip: the person, the scenario and the clip's first frame."""
        entry, clip = self.entries[action], self.clips[action]
        return (f"{action}: person {entry['person']}, {entry['scenario']} — frame t of the clip "
                f"is video frame {clip['frames'][0]} + t")


def example_clips(profile: str, study: "Study", example_person: int | None = None) -> Examples:
    """Explain the walking and the running clip of one of the study's test persons with every run.

    Parameters
    ----------
    profile : str
        The chapter's profile (its trained models).
    study : Study
        :func:`run_study`'s result: its settings, corpus, descriptors and entries.
    example_person : int, optional
        The test person; None: the study's first.

    Raises
    ------
    ConfigError
        When ``example_person`` is not one of the study's test persons.
    """
    settings = study.settings
    persons = [entry["person"] for entry in study.entries]
    if example_person is not None and example_person not in persons:
        raise ConfigError(f"example_person={example_person!r}: choose one of the study's test persons "
                          f"{sorted(set(persons))}")
    person = persons[0] if example_person is None else example_person
    entries = {entry["action"]: entry for entry in study.entries if entry["person"] == person}
    descriptor = study.descriptors[settings.runs[0]]
    clips = {action: load_clip(study.corpus, entry, descriptor) for action, entry in entries.items()}
    explained = {}
    for run_name in settings.runs:
        model = trained_model(profile, run_name)
        for action, clip in clips.items():
            explained[run_name, action] = explain(model, clip["video"], clip["label"], settings.block_size,
                                                  settings.superpixels, settings.variant)
    return Examples(tuple(settings.runs), person, entries, clips, explained)


def explain_own_clip(profile: str, video: Any, settings: StudySettings,
                     descriptor: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, dict[str, Any]]]:
    """A reader's clip at the models' input, explained by every run for its prediction (:func:`explain`).

    The clip's first ``clip_length`` frames, grayscale, resized (bilinear) to
    the models' frame size and clamped to [0, 1].

    Parameters
    ----------
    profile : str
        The chapter's profile (its trained models).
    video : str or Path
        Any file OpenCV reads.
    settings : StudySettings
        The runs, TSR's blocks, superpixels and variant.
    descriptor : mapping
        :func:`model_descriptor` of the first run (``clip_length`` and ``size``).

    Returns
    -------
    (torch.Tensor, dict)
        The clip ``(T, 1, H, W)`` and run → :func:`explain`'s result.

    Raises
    ------
    ConfigError
        When the clip has fewer than two frames.
    """

    height, width = descriptor["size"]
    own = read_video(video, grayscale=True, max_frames=descriptor["clip_length"])
    if own.shape[0] < 2:
        raise ConfigError(f"video={video!r}: needs at least two frames, has {own.shape[0]}")
    own = torch.nn.functional.interpolate(own, size=(height, width), mode="bilinear", align_corners=False).clamp(0, 1)
    explained = {run_name: explain(trained_model(profile, run_name), own, None, settings.block_size,
                                   settings.superpixels, settings.variant) for run_name in settings.runs}
    return own, explained


# --- cost ------------------------------------------------------------------------------------------

def _relative_difference(first: torch.Tensor, second: torch.Tensor) -> float:
    scale = float(second.abs().max())
    return float((first.double() - second.double()).abs().max()) / scale if scale > 0 else float("nan")


def engine_costs(model: nn.Module, video: torch.Tensor, target: int, block_size: int, cost_block_size: int,
                 variant: str = "reference_code") -> pd.DataFrame:
    """Seconds of the naive loop, the batched and the factorised engine on one clip, and their agreement.

    At ``cost_block_size`` all three run (the naive loop's cost decides this
    block size); at ``block_size`` (the chapter's setting) the two fast engines
    run and the naive loop is extrapolated from its measured seconds per pass
    times its pass count (:func:`~vidsal_core.metrics.maps.naive_pass_count`).

    Returns
    -------
    pandas.DataFrame
        One row per (block size, engine): ``block_size``, ``engine``,
        ``passes`` (the naive loop's attribution calls), ``seconds``,
        ``measured`` (False for the extrapolation), ``seconds_per_pass`` (naive),
        ``max_difference`` (max |Δ| / max |reference| against the naive loop,
        or against the batched engine where the naive loop was not run),
        ``selected`` (frames above α).
    """

    options = tsr_options(variant)
    rows = []
    naive = temporal_saliency_rescaling_reference(model, video, target, block_size=cost_block_size, **options)
    per_pass = naive.seconds / naive.attribution_calls
    rows.append({"block_size": cost_block_size, "engine": "naive loop", "passes": naive.attribution_calls,
                 "seconds": naive.seconds, "measured": True, "seconds_per_pass": per_pass, "max_difference": 0.0,
                 "selected": int(naive.selected.sum())})
    engines = ["batched"] + (["factorised"] if FrameFactorisation.of(model) is not None else [])
    for engine in engines:
        result = temporal_saliency_rescaling(model, video, target, block_size=cost_block_size, engine=engine, **options)
        rows.append({"block_size": cost_block_size, "engine": engine, "passes": result.attribution_calls,
                     "seconds": result.seconds, "measured": True, "seconds_per_pass": np.nan,
                     "max_difference": _relative_difference(result.saliency, naive.saliency),
                     "selected": int(result.selected.sum())})
    fast = {engine: temporal_saliency_rescaling(model, video, target, block_size=block_size, engine=engine, **options)
            for engine in engines}
    batched = fast["batched"]
    rows.append({"block_size": block_size, "engine": "naive loop", "passes": batched.attribution_calls,
                 "seconds": per_pass * batched.attribution_calls, "measured": False, "seconds_per_pass": per_pass,
                 "max_difference": np.nan, "selected": int(batched.selected.sum())})
    for engine, result in fast.items():
        rows.append({"block_size": block_size, "engine": engine, "passes": result.attribution_calls,
                     "seconds": result.seconds, "measured": True, "seconds_per_pass": np.nan,
                     "max_difference": 0.0 if engine == "batched" else _relative_difference(result.saliency, batched.saliency),
                     "selected": int(result.selected.sum())})
    return pd.DataFrame(rows)


def paper_pass_seconds(profile: str = "full", run_name: str = "frame_lstm_binary", repeats: int = 1,
                       seed: int = 0) -> dict[str, Any]:
    """Seconds of one naive-loop pass (gradient of one clip) of the paper-sized architecture, untrained.

    The ``full`` profile's FrameLSTM is seed 000's model (ResNet-18 encoder,
    3-layer LSTM, 30 frames of 120 × 120); timing does not depend on the
    weights. One untimed warm-up pass, then the fastest of ``repeats``.
    """

    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"repeats={repeats!r}: expected a positive integer")
    settings = run_settings(profile, run_name)
    model = build_model(settings["model"], settings["model_config"], seed=seed).eval()
    height, width = settings["data"]["size"]
    frames = settings["data"]["clip_length"]
    video = torch.rand(frames, 1, height, width, generator=torch.Generator().manual_seed(seed))
    input_gradient(model, video, target=0)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        input_gradient(model, video, target=0)
        times.append(time.perf_counter() - started)
    return {"seconds": min(times), "frames": frames, "height": height, "width": width,
            "parameters": sum(p.numel() for p in model.parameters())}


#: Seed 000's setting (§6.3): ResNet-18 encoder and a 3-layer LSTM, 30 frames of 120 × 120, 10 × 10 blocks.
SEED_SETTING = "seed 000: ResNet-18 + 3-layer LSTM, 30 × 120×120, 10×10 blocks"
#: The factorised engine at :data:`SEED_SETTING`, as ``bench/bench_tsr_seed_setting.py`` recorded it.
SEED_SETTING_RECORD = Path(__file__).resolve().parents[3] / "bench" / "results" / "tsr_seed_setting.json"


def seed_pass_count(selected: int) -> int:
    """Naive-loop passes at :data:`SEED_SETTING` with ``selected`` frames above α (144 blocks per frame).

    Examples
    --------
    >>> seed_pass_count(14)  # 1 + 30 + 14 * 144
    2047
    """
    return naive_pass_count(30, int(selected), (120 // 10) ** 2)


@dataclass(frozen=True)
class SeedSettingCost:
    """The factorised engine's exact TSR at :data:`SEED_SETTING` (:func:`seed_setting_factorised`).

    Attributes
    ----------
    seconds : float
        Its seconds (NaN: neither measured nor recorded).
    passes : int or None
        The naive loop's passes at that setting (None: not recorded; :func:`seed_pass_count` then counts them).
    how : str
        Where the seconds come from, in words.
    """

    seconds: float
    passes: int | None
    how: str


def seed_setting_factorised(mode: str, record: Path | None = None) -> SeedSettingCost:
    """The factorised engine at seed 000's setting: measured here, or read from the bench's record.

    The network is ``seed000`` with untrained weights (a timing does not
    depend on them), on a 30-frame SynthKTH walking clip of 120 × 120.

    Parameters
    ----------
    mode : str
        ``"measure"`` runs it (minutes on a CPU); ``"bench"`` reads ``record``.
    record : Path, optional
        The bench's JSON record (default :data:`SEED_SETTING_RECORD`).

    Raises
    ------
    ConfigError
        When ``mode`` is neither ``"measure"`` nor ``"bench"``.
    """
    import json

    record = SEED_SETTING_RECORD if record is None else Path(record)
    if mode == "measure":
        from vidsal_core.data.synthkth import VideoSpec, render_video
        from vidsal_core.models.registry import build_model
        from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS, temporal_saliency_rescaling

        seed_model = build_model("seed000", seed=0).eval()
        seed_clip = torch.from_numpy(render_video(VideoSpec(action="walking", person=2, scenario="d1", n_frames=30,
                                                            seed=0, height=120, width=120)).frames).float().div(255.0)[:, None]
        result = temporal_saliency_rescaling(seed_model, seed_clip, engine="factorised", block_size=10,
                                             **REFERENCE_CODE_OPTIONS)
        return SeedSettingCost(result.seconds, result.attribution_calls,
                               "measured in this run (untrained seed000 weights)")
    if mode != "bench":
        raise ConfigError(f"mode={mode!r}: choose 'measure' or 'bench'")
    if record.exists():
        saved = json.loads(record.read_text())
        return SeedSettingCost(saved["factorised"]["seconds"], saved["naive"]["passes"],
                               f"bench record, not run here: `bench/results/tsr_seed_setting.json` "
                               f"({saved['date']}, {saved['machine']}; untrained seed000 weights; naive loop "
                               f"there {saved['naive']['extrapolated_seconds']:.0f} s extrapolated)")
    return SeedSettingCost(float("nan"), None,
                           "no bench record: run `bench/bench_tsr_seed_setting.py --json bench/results/tsr_seed_setting.json`")
