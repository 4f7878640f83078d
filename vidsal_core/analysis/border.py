"""Border and lookahead effects (seed 002) on C3D and I3D: the sweeps, their tables, and a command.

Anders et al. (seed 002) explain a C3D trained on 16-frame snippets with deep
Taylor decomposition (DTD), sensitivity analysis (SA, the squared gradient)
and DTD on the untrained network (DTD-u), and summarise the share of
relevance per frame by a border coefficient and a lookahead coefficient
(:mod:`vidsal_core.analysis.relevance`). This module runs the same measurements
as resumable sweeps (:mod:`vidsal_core.analysis.sweeps`) over

* the profile's C3D (``models.runs.<c3d_run>``, trained on SynthKTH snippets)
  and its seeded, untrained control, on SynthKTH test videos;
* the Kinetics-400 I3D and a seeded He-initialised I3D, on real footage
  (:mod:`vidsal_core.data.footage`) and on SynthKTH test videos;

and four kinds of sweep: clip **offset** at the model's step (Table 1 pools
these), clip **step** size at fixed offsets, top-k **accuracy** against the step
size without retraining (classification only, at many offsets), and the
**title-card** test (offsets over videos with and without an opening title card).

One sweep item is one clip of one video explained one way: the plain
function :func:`explain_clip` maps a ``(video, setting)`` pair to the clip's
frame-wise relevance and the trained model's top classes. Every explanation
explains the class the *trained* model predicts for that clip (seed 002,
Fig. 1), so DTD, SA and DTD-u explain the same class.

Sizes come from the profile's ``border_chapter`` section. Command line::

    python -m vidsal_core.analysis.border --profile quick
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from vidsal_core.analysis.relevance import (
    border_coefficient,
    effect_estimates,
    frame_relevance,
    lookahead_coefficient,
    relevance_share,
)
from vidsal_core.analysis.statistics import mean_interval
from vidsal_core.analysis.sweeps import SweepItem, canonical_json, run_sweep, sweep_directory
from vidsal_core.errors import CheckpointError, ConfigError, VidsalError

LOGGER = logging.getLogger(__name__)

#: Explanations: name → (which weights, which method). Seed 002's Table 1 columns, then Grad-CAM
#: (Selvaraju et al., 2017; vidsal_core.saliency.gradcam), which the seed did not measure: a map from the
#: last 3-D conv block's activations rather than from relevance propagated to the input.
#: "DTD" passes relevance through max pooling by the seed's proportional rule (seed 002 §2, "in proportion to
#: the activations inside the pool"); "DTD-wta" is the same deep Taylor with winner-take-all pooling (the
#: gradient of the max, Zennit's behaviour when no rule is set), shown beside it in Table 1.
EXPLANATIONS: dict[str, tuple[str, str]] = {
    "DTD": ("trained", "deep_taylor"),
    "DTD-wta": ("trained", "deep_taylor_winner_take_all"),
    "SA": ("trained", "sensitivity"),
    "DTD-u": ("untrained", "deep_taylor"),
    "Grad-CAM": ("trained", "grad_cam"),
    "Grad-CAM-4": ("trained", "grad_cam_block4"),
}
#: Layers of "Grad-CAM-4", by the model's ``model_name``: the last block with four time positions on a
#: 16-frame snippet (C3D ``conv5b`` and I3D ``Mixed_5c``, Grad-CAM's default layers, have two). With two
#: positions the trilinearly upsampled map is a constant plus an odd function of the frame position, so
#: its border coefficient is 0 by construction; four positions can show a border effect.
CAM_BLOCK4_LAYERS: dict[str, str] = {"c3d": "features.relu4b", "i3d": "features.Mixed_4f"}
#: A sweep item with this explanation only classifies its clip (for accuracy; no relevance).
LOGITS_ONLY = "logits"
#: Bumped whenever :func:`explain_clip` changes what it computes (part of every item).
WORK_VERSION = 3  # 3: DTD's max pooling became the seed's proportional rule
#: Top-k accuracies reported (with 6 SynthKTH classes top-5 is nearly trivial).
TOP_K: tuple[int, ...] = (1, 2, 5)
#: Seed used for the untrained I3D's He initialisation unless the profile says otherwise.
UNTRAINED_SEED = 0


# --- settings -----------------------------------------------------------------------------------------


def _offsets(value: Any, where: str) -> tuple[int, ...]:
    """A list of offsets, or ``{start, stop, by}`` (stop included)."""
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"start", "stop", "by"})
        if unknown or "stop" not in value:
            raise ConfigError(f"{where}: expected a list or {{start, stop, by}}, got {dict(value)}")
        start, stop, by = int(value.get("start", 0)), int(value["stop"]), int(value.get("by", 1))
        if by < 1 or stop < start:
            raise ConfigError(f"{where}: need by >= 1 and stop >= start, got {dict(value)}")
        return tuple(range(start, stop + 1, by))
    values = tuple(int(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
    if not values or min(values) < 0:
        raise ConfigError(f"{where}: expected non-negative offsets, got {value!r}")
    return values


def _names(value: Any, where: str) -> tuple[str, ...]:
    names = tuple(value)
    unknown = [name for name in names if name not in EXPLANATIONS]
    if unknown or not names:
        raise ConfigError(f"{where}: unknown explanation(s) {unknown}; choose from {list(EXPLANATIONS)}")
    return names


@dataclass(frozen=True)
class I3DSettings:
    """The I3D part of ``border_chapter`` (see ``params/*.yaml``)."""

    crop_size: int = 112
    shorter_side: int = 128
    clip_length: int = 16
    step: int = 1
    explanations: tuple[str, ...] = ("DTD", "SA", "DTD-u")
    footage: tuple[str, ...] = ("bikes", "vtest", "carphone", "bigbuckbunny")
    footage_offsets: tuple[int, ...] = (0,)
    footage_steps: tuple[int, ...] = (1,)
    footage_step_offsets: tuple[int, ...] = (0,)
    synthkth_videos: int = 6
    synthkth_offsets: tuple[int, ...] = (0,)
    synthkth_steps: tuple[int, ...] = (1,)
    synthkth_step_offsets: tuple[int, ...] = (0,)
    untrained_seed: int = UNTRAINED_SEED

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str) -> "I3DSettings":
        values = dict(values or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; known {sorted(known)}")
        for key in ("footage_offsets", "footage_steps", "footage_step_offsets", "synthkth_offsets",
                    "synthkth_steps", "synthkth_step_offsets"):
            if key in values:
                values[key] = _offsets(values[key], f"{where}.{key}")
        if "explanations" in values:
            values["explanations"] = _names(values["explanations"], f"{where}.explanations")
        if "footage" in values:
            values["footage"] = tuple(values["footage"])
        return cls(**values)


@dataclass(frozen=True)
class BorderSettings:
    """The profile's ``border_chapter`` section.

    Attributes
    ----------
    c3d_run : str
        The ``models.runs`` entry explained (a C3D).
    corpus : dict
        Overrides of the profile's ``long_corpus`` for the test videos rendered
        for this chapter (``persons`` must be KTH test persons; ``n_frames``
        long enough for the largest step; ``title_frames`` with 0 and the card).
    explanations : tuple of str
        Explanations of the offset and step sweeps (keys of :data:`EXPLANATIONS`).
    offsets : tuple of int
        Offsets of the offset sweep (at the run's training step); Table 1 pools them.
    steps, step_offsets : tuple of int
        Step sizes of the step sweep, each at these offsets.
    title_frames : int
        Length of the opening title card of the title-card test.
    title_offsets : tuple of int
        Offsets of the title-card test.
    title_explanations : tuple of str
        Explanations of the title-card test.
    table_explanations : tuple of str
        Explanations added to the offset sweeps of C3D and of I3D on real
        footage only (Table 1's rows closest to the seed), beside
        ``explanations`` (default ``DTD-wta``: deep Taylor with
        winner-take-all max pooling, against DTD's proportional rule).
    accuracy_offsets : tuple of int
        Offsets of the accuracy-vs-step sweep (classification only, so cheap),
        wherever the clip fits in the video.
    validation_persons : tuple of int
        KTH validation persons whose videos (rendered like the test videos,
        without a title card) choose the best step of the accuracy sweep,
        so that its gain is measured on test persons it was not chosen on;
        empty = no validation videos.
    videos_per_person : int or None
        SynthKTH test videos per person (actions rotating over the persons,
        :func:`per_person`), so that a fixed number of clips spreads over
        every test person, the independent unit of each interval; None = every video.
    i3d : I3DSettings
        The I3D sweeps.
    i3d_native : I3DSettings or None
        An offset sweep of I3D on real footage at the input it was trained on
        (Carreira & Zisserman: 64-frame clips at 224 px), beside ``i3d``'s
        shorter, smaller clips, which lie outside that distribution; only its
        ``crop_size``, ``shorter_side``, ``clip_length``, ``step``,
        ``explanations``, ``footage`` and ``footage_offsets`` are used. None = skipped.
    """

    c3d_run: str = "c3d_6class"
    corpus: Mapping[str, Any] = field(default_factory=dict)
    explanations: tuple[str, ...] = ("DTD", "SA", "DTD-u")
    offsets: tuple[int, ...] = (0,)
    steps: tuple[int, ...] = (0, 1, 2, 4, 8, 16, 32)
    step_offsets: tuple[int, ...] = (0,)
    title_frames: int = 48
    title_offsets: tuple[int, ...] = (0,)
    title_explanations: tuple[str, ...] = ("DTD", "SA")
    table_explanations: tuple[str, ...] = ("DTD-wta",)
    accuracy_offsets: tuple[int, ...] = (0,)
    videos_per_person: int | None = None
    validation_persons: tuple[int, ...] = ()
    i3d: I3DSettings = field(default_factory=I3DSettings)
    i3d_native: I3DSettings | None = None

    def offset_explanations(self, explanations: Sequence[str]) -> tuple[str, ...]:
        """``explanations`` followed by :attr:`table_explanations` (once each): the offset sweeps' explanations."""
        return tuple(dict.fromkeys([*explanations, *self.table_explanations]))

    @classmethod
    def from_profile(cls, profile: str | Path) -> "BorderSettings":
        """Read ``border_chapter`` of ``profile``."""
        from vidsal_core.profiles import profile_section

        values = profile_section(profile, "border_chapter")
        where = f"profile {profile} border_chapter"
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; known {sorted(cls.__dataclass_fields__)}")
        for key in ("offsets", "steps", "step_offsets", "title_offsets", "accuracy_offsets"):
            if key in values:
                values[key] = _offsets(values[key], f"{where}.{key}")
        for key in ("explanations", "title_explanations", "table_explanations"):
            if key in values and (values[key] or key != "table_explanations"):
                values[key] = _names(values[key], f"{where}.{key}")
        count = values.get("videos_per_person")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ConfigError(f"{where}.videos_per_person={count!r}: expected a positive number or null")
        values["i3d"] = I3DSettings.from_mapping(values.get("i3d", {}), f"{where}.i3d")
        if values.get("i3d_native") is not None:
            values["i3d_native"] = I3DSettings.from_mapping(values["i3d_native"], f"{where}.i3d_native")
        values["corpus"] = dict(values.get("corpus") or {})
        values["validation_persons"] = tuple(int(person) for person in values.get("validation_persons") or ())
        return cls(**values)


# --- data ---------------------------------------------------------------------------------------------


def evaluation_corpus_config(profile: str | Path, settings: BorderSettings, run_section: str = "long_corpus"):
    """The chapter's test videos: the run's corpus section with ``border_chapter.corpus`` overrides."""
    from vidsal_core.data.corpus import CorpusConfig
    from vidsal_core.data.dataset import split_of_person
    from vidsal_core.profiles import profile_section

    values = {**profile_section(profile, run_section), **dict(settings.corpus)}
    config = CorpusConfig.from_dict(values)
    not_test = [person for person in config.persons if split_of_person(person) != "test"]
    if not_test:
        raise ConfigError(f"profile {profile} border_chapter.corpus.persons: {not_test} are not KTH test persons")
    if 0 not in config.title_frames:
        raise ConfigError(f"profile {profile} border_chapter.corpus.title_frames: must include 0 (videos without a card)")
    return config


def validation_corpus_config(profile: str | Path, settings: BorderSettings, run_section: str = "long_corpus"):
    """Videos of ``settings.validation_persons``, rendered as the test videos are (no title card): for choosing a step."""
    from vidsal_core.data.corpus import CorpusConfig
    from vidsal_core.data.dataset import split_of_person
    from vidsal_core.profiles import profile_section

    persons = list(settings.validation_persons)
    not_validation = [person for person in persons if split_of_person(person) != "validation"]
    if not persons or not_validation:
        raise ConfigError(f"profile {profile} border_chapter.validation_persons: {persons or 'empty'}; "
                          f"{not_validation} are not KTH validation persons" if not_validation else
                          f"profile {profile} border_chapter.validation_persons: empty")
    values = {**profile_section(profile, run_section), **dict(settings.corpus), "persons": persons, "title_frames": [0]}
    return CorpusConfig.from_dict(values)


def per_person(videos: Sequence[Mapping[str, Any]], count: int | None) -> list[Mapping[str, Any]]:
    """``count`` videos of each person, the actions rotating: person ``i`` (in order) gets actions ``i·count + j``.

    With 9 persons, 6 actions and ``count = 2``, 18 videos cover every person
    twice and every action three times. ``count=None`` keeps every video.
    """
    if count is None:
        return list(videos)
    persons = sorted({video["person"] for video in videos})
    actions = list(dict.fromkeys(video["action"] for video in videos))
    by_key = {(video["person"], video["action"]): video for video in videos}
    chosen = []
    for position, person in enumerate(persons):
        mine = [by_key[person, action] for action in actions if (person, action) in by_key]
        start = (position * count) % max(len(mine), 1)
        chosen += (mine[start:] + mine[:start])[:count]
    return chosen


def synthkth_videos(corpus: Any, classes: Sequence[str], title_frames: int = 0,
                    split: str = "test") -> list[dict[str, Any]]:
    """Descriptors of the corpus's videos of ``split`` (default test) with ``title_frames``, labelled in ``classes``."""
    videos = []
    for entry in corpus.select(split=split, actions=list(classes), title_frames=title_frames):
        videos.append({"source": "synthkth", "corpus": corpus.config_hash, "key": entry["key"],
                       "person": entry["person"], "action": entry["action"], "label": classes.index(entry["action"]),
                       "title_frames": entry["title_frames"], "n_frames": entry["n_frames"]})
    return sorted(videos, key=lambda video: (video["person"], classes.index(video["action"])))


def footage_videos(names: Sequence[str]) -> list[dict[str, Any]]:
    """Descriptors of catalogue clips that are present (missing ones are skipped with a warning)."""
    from vidsal_core.data.footage import CATALOGUE, available_footage

    present = set(available_footage())
    videos = []
    for name in names:
        if name not in CATALOGUE:
            raise ConfigError(f"footage {name!r}: not in the catalogue {sorted(CATALOGUE)}")
        if name not in present:
            LOGGER.warning("footage %s is missing; fetch it with `python -m vidsal_core.data.footage`", name)
            continue
        videos.append({"source": "footage", "name": name, "n_frames": CATALOGUE[name].frame_count,
                       "sha256": CATALOGUE[name].sha256})
    return videos


@lru_cache(maxsize=2)
def _corpus(config_hash: str):
    from vidsal_core.data.corpus import DATA_DIR, Corpus

    return Corpus(DATA_DIR / "synthkth" / config_hash)


#: Frames of real footage decoded and prepared together (and cached) by :func:`load_clip`.
FOOTAGE_CHUNK = 32


@lru_cache(maxsize=48)
def _prepared_footage_chunk(name: str, crop_size: int, shorter_side: int, chunk: int) -> torch.Tensor:
    """Frames ``[chunk · FOOTAGE_CHUNK, …)`` of a catalogue clip, resized and centre-cropped for I3D, uint8."""
    from vidsal_core.data.footage import CATALOGUE, load_footage
    from vidsal_core.models.i3d import prepare_clip

    start = chunk * FOOTAGE_CHUNK
    video = load_footage(name, start=start, max_frames=min(FOOTAGE_CHUNK, CATALOGUE[name].frame_count - start))
    return (prepare_clip(video, crop_size, shorter_side) * 255).round().to(torch.uint8)


def _prepared_footage(name: str, crop_size: int, shorter_side: int, indices: np.ndarray) -> torch.Tensor:
    """Frames ``indices`` of a catalogue clip prepared for I3D, ``(T, 3, S, S)`` uint8 (only their chunks decoded)."""
    frames = [_prepared_footage_chunk(name, crop_size, shorter_side, int(index) // FOOTAGE_CHUNK)[int(index) % FOOTAGE_CHUNK]
              for index in indices]
    return torch.stack(frames)


def load_clip(video: Mapping[str, Any], setting: Mapping[str, Any]) -> torch.Tensor:
    """The ``(T, C, H, W)`` clip a setting cuts from a video, prepared for the setting's model."""
    from vidsal_core.data.clips import clip_indices

    model = setting["model"]
    indices = clip_indices(int(video["n_frames"]), setting["clip_length"], setting["step"], setting["offset"])
    if video["source"] == "footage":
        if model["kind"] != "i3d":
            raise ConfigError("load_clip: real footage is for I3D only (C3D was trained on grayscale SynthKTH)")
        frames = _prepared_footage(video["name"], model["crop_size"], model["shorter_side"], indices)
        return frames.float().div_(255.0)
    if video["source"] != "synthkth":
        raise ConfigError(f"video source {video['source']!r}: expected 'synthkth' or 'footage'")
    corpus = _corpus(video["corpus"])
    frames = torch.from_numpy(corpus.load(video["key"])["frames"][indices]).float().div_(255.0).unsqueeze(1)
    if model["kind"] == "c3d":
        size = tuple(model["size"])
        if tuple(frames.shape[-2:]) != size:  # as SynthKTHDataset resizes for training
            frames = torch.nn.functional.interpolate(frames, size=size, mode="bilinear", align_corners=False).clamp_(0, 1)
        return frames
    from vidsal_core.models.i3d import prepare_clip

    return prepare_clip(frames.expand(-1, 3, -1, -1), model["crop_size"], model["shorter_side"])


# --- models -------------------------------------------------------------------------------------------


def untrained_i3d(seed: int = UNTRAINED_SEED) -> nn.Module:
    """I3D with seeded He initialisation (as C3D's untrained control), fresh BatchNorm statistics, eval mode."""
    from vidsal_core.models.i3d import InceptionI3d

    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = InceptionI3d()
        for module in model.modules():
            if isinstance(module, (nn.Conv3d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
    finally:
        torch.random.set_rng_state(generator_state)
    return model.eval()


def c3d_descriptor(profile: str | Path, run_name: str, train_if_missing: bool = True, progress: bool = True) -> dict[str, Any]:
    """The C3D run's model descriptor (with its checkpoints' sha256), training the run first if needed.

    Training, when the checkpoint is missing or was trained with another
    configuration, goes through the models' own functions
    (:func:`vidsal_core.models.runs.train_or_load`), as
    ``python -m vidsal_core.models.cli train --runs <run>`` would.
    """
    from vidsal_core.models.checkpoints import manifest_entry
    from vidsal_core.models.runs import build_run, checkpoint_paths, load_trained

    run = build_run(profile, run_name)
    if run.spec.model != "c3d":
        raise ConfigError(f"border_chapter.c3d_run={run_name!r}: is a {run.spec.model}, not a C3D")
    try:
        load_trained(profile, run_name)
        load_trained(profile, run_name, untrained=True)
    except CheckpointError as error:
        if not train_if_missing:
            raise
        LOGGER.warning("training %s for the border chapter: %s", run_name, str(error).splitlines()[0])
        _train_run(profile, run, progress)
    paths = checkpoint_paths(run)
    return {
        "kind": "c3d", "profile": str(profile), "run": run_name,
        "trained_sha256": manifest_entry(paths.trained)["sha256"],
        "untrained_sha256": manifest_entry(paths.untrained)["sha256"],
        "clip_length": run.data["clip_length"], "step": run.data["step"], "size": list(run.data["size"]),
        "classes": list(run.spec.classes),
    }


def training_title_frames(profile: str | Path, run_name: str) -> list[int]:
    """Title-card lengths among the run's training videos (0 = videos without a card)."""
    from vidsal_core.data.corpus import CorpusConfig
    from vidsal_core.models.runs import build_run

    run = build_run(profile, run_name)
    if run.data["title_frames"] is not None:
        return [int(run.data["title_frames"])]
    return sorted(CorpusConfig.from_profile(profile, run.corpus_section).title_frames)


def _train_run(profile: str | Path, run: Any, progress: bool) -> None:
    """Train (or retrain) a run with the models' own functions."""
    from vidsal_core.data.corpus import CorpusConfig, build_corpus
    from vidsal_core.models.runs import run_dataset, train_or_load

    corpus = build_corpus(CorpusConfig.from_profile(profile, run.corpus_section), progress=progress)
    train_or_load(run, run_dataset(run, corpus, "train", cache=True), run_dataset(run, corpus, "validation", cache=True),
                  on_mismatch="retrain", progress=progress)


def i3d_descriptor(settings: I3DSettings) -> dict[str, Any]:
    """The I3D model descriptor (Kinetics weights' sha256, preprocessing, untrained seed)."""
    from vidsal_core.models.i3d import DEFAULT_WEIGHTS_PATH

    if not DEFAULT_WEIGHTS_PATH.is_file():
        raise CheckpointError(f"{DEFAULT_WEIGHTS_PATH}: no I3D weights; run `make data-assets`")
    path = DEFAULT_WEIGHTS_PATH
    return {"kind": "i3d", "weights_sha256": _weights_sha256(str(path), path.stat().st_mtime),
            "crop_size": settings.crop_size, "shorter_side": settings.shorter_side,
            "untrained_seed": settings.untrained_seed}


@lru_cache(maxsize=4)
def _weights_sha256(path: str, modified: float) -> str:
    """sha256 of the I3D weights (cached while the file's modification time stays the same)."""
    from vidsal_core.models.checkpoints import sha256_of_file

    return sha256_of_file(Path(path))


_MODELS: dict[str, nn.Module] = {}


def model_for(descriptor: Mapping[str, Any], weights: str) -> nn.Module:
    """The model a descriptor names, ``weights`` = ``"trained"`` or ``"untrained"``; cached per process."""
    key = canonical_json({"model": descriptor, "weights": weights})
    if key not in _MODELS:
        if descriptor["kind"] == "c3d":
            from vidsal_core.models.runs import load_trained

            model = load_trained(descriptor["profile"], descriptor["run"], untrained=weights == "untrained")
        elif descriptor["kind"] == "i3d":
            from vidsal_core.models.i3d import load_i3d

            model = load_i3d() if weights == "trained" else untrained_i3d(descriptor["untrained_seed"])
        else:
            raise ConfigError(f"model kind {descriptor['kind']!r}: expected 'c3d' or 'i3d'")
        _MODELS[key] = model.eval()
    return _MODELS[key]


# --- the per-item work ----------------------------------------------------------------------------------


def explanation_map(model: nn.Module, clip: torch.Tensor, target: int, method: str) -> torch.Tensor:
    """One explanation of one ``(T, C, H, W)`` clip: ``(T, C, H, W)`` relevance of class ``target``.

    ``method``: ``deep_taylor`` (proportional max pooling, the seed's), ``deep_taylor_winner_take_all``, a method of :func:`vidsal_core.saliency.lrp.relevance` (``sensitivity``, ...)
    or a class activation map of :mod:`vidsal_core.saliency.gradcam` (``grad_cam``, ``grad_cam_plus_plus``,
    ``xgrad_cam``: at the model's default layer, upsampled trilinearly to the clip), or ``grad_cam_block4``
    (Grad-CAM at the layer of :data:`CAM_BLOCK4_LAYERS`).
    """
    from vidsal_core.saliency.gradcam import CAM_METHODS, class_activation_map
    from vidsal_core.saliency.lrp import relevance
    from vidsal_core.saliency.lrp_fast import deep_taylor

    if method in CAM_METHODS:
        return class_activation_map(model, clip, target, method)
    if method == "grad_cam_block4":
        kind = getattr(model, "model_name", None)
        if kind not in CAM_BLOCK4_LAYERS:
            raise ConfigError(f"explanation Grad-CAM-4: no layer for model {kind!r}; known {CAM_BLOCK4_LAYERS}")
        return class_activation_map(model, clip, target, "grad_cam", CAM_BLOCK4_LAYERS[kind])
    if method == "deep_taylor":
        return deep_taylor(model, clip[None], target, max_pool="proportional")[0]
    if method == "deep_taylor_winner_take_all":
        return deep_taylor(model, clip[None], target, max_pool="winner_take_all")[0]
    return relevance(model, clip[None], target, method)[0]


_LAST_CLIP: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}


def _clip_and_logits(video: Mapping[str, Any], setting: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """The clip and the trained model's logits, kept for the next item of the same clip (its other explanations)."""
    key = canonical_json({"video": video, "model": setting["model"], "clip_length": setting["clip_length"],
                          "step": setting["step"], "offset": setting["offset"]})
    if key not in _LAST_CLIP:
        clip = load_clip(video, setting)
        with torch.no_grad():
            logits = model_for(setting["model"], "trained")(clip[None])[0].double()
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
    model = model_for(setting["model"], weights)
    with torch.enable_grad():
        relevance = explanation_map(model, clip, target, method)
    return {"frame_relevance": frame_relevance(relevance).tolist(), "target": target,
            "top": top.tolist(), "top_logits": top_logits.tolist()}


# --- building sweeps -----------------------------------------------------------------------------------


def clip_fits(video: Mapping[str, Any], clip_length: int, step: int, offset: int) -> bool:
    """Whether a clip of ``clip_length`` frames at ``step`` from ``offset`` lies inside the video."""
    return offset + (clip_length - 1) * step + 1 <= int(video["n_frames"])


def sweep_items(videos: Sequence[Mapping[str, Any]], model: Mapping[str, Any], clip_length: int,
                steps: Sequence[int], offsets: Sequence[int], explanations: Sequence[str]) -> list[SweepItem]:
    """Every (video, step, offset, explanation) whose clip fits in its video."""
    return [
        SweepItem(video, {"model": model, "clip_length": clip_length, "step": step, "offset": offset,
                          "explanation": explanation, "version": WORK_VERSION})
        for video in videos for step in steps for offset in offsets
        if clip_fits(video, clip_length, step, offset) for explanation in explanations
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
    directory = sweep_directory(name, {"work": "vidsal_core.analysis.border.explain_clip", "version": WORK_VERSION,
                                       "model": items[0].setting["model"]})
    results = run_sweep(explain_clip, items, directory, progress=progress, description=name, executor=executor)
    return results_frame(items, results)


# --- summaries ------------------------------------------------------------------------------------------


def effects_by(frame: pd.DataFrame, keys: Sequence[str], resamples: int = 2000) -> pd.DataFrame:
    """Border and lookahead coefficients with 95% intervals (bootstrap over groups) per combination of ``keys``."""
    rows = []
    for values, part in frame.groupby(list(keys), sort=True):
        values = values if isinstance(values, tuple) else (values,)
        shares = np.stack(part["share"].to_numpy())
        finite = np.isfinite(shares).all(axis=1)
        row = dict(zip(keys, values))
        row.update({"clips": int(finite.sum()), "groups": int(part.loc[finite, "group"].nunique())})
        if finite.any():
            estimates = effect_estimates(shares[finite], part["group"].to_numpy()[finite], resamples=resamples)
            for name in ("border", "lookahead"):
                estimate = getattr(estimates, name)
                row.update({name: estimate.mean, f"{name}_low": estimate.low, f"{name}_high": estimate.high})
        rows.append(row)
    return pd.DataFrame(rows)


#: Explanations whose relevance Zennit seeds with the one-hot target, so 1 − ΣR is what the biases took.
CONSERVING_EXPLANATIONS: tuple[str, ...] = ("DTD", "DTD-wta", "DTD-u")


def bias_share(frame: pd.DataFrame) -> pd.Series:
    """Per clip, the share of relevance the biases absorbed: ``1 − Σ R`` (deep Taylor rows only).

    Deep Taylor starts from the one-hot target (relevance 1) and conserves it
    layer by layer except where a z+ denominator holds a positive bias — the
    merged BatchNorm offsets (and a C3D's own layer biases); those take their
    share and it never reaches the input. On a bias-free network this is 0
    (up to the stabiliser): the untrained controls, whose BatchNorms keep
    their fresh statistics, show it.
    """
    rows = frame[frame["explanation"].isin(CONSERVING_EXPLANATIONS)]
    return (1.0 - rows["relevance_total"]).rename("bias_share")


def bias_share_table(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """1 − ΣR over the clips of each row label and deep Taylor explanation: clips, mean, median, min, max."""
    rows = []
    for label, frame in frames.items():
        if frame.empty or "relevance_total" not in frame:
            continue
        shares = pd.concat([frame["explanation"], bias_share(frame)], axis=1, join="inner")
        for name, part in shares.groupby("explanation", sort=False):
            values = part["bias_share"].to_numpy(float)
            rows.append({"model · data": label, "explanation": name, "clips": len(values),
                         "mean": values.mean(), "median": float(np.median(values)),
                         "min": values.min(), "max": values.max()})
    return pd.DataFrame(rows)


def frame_effects(frame: pd.DataFrame, resamples: int = 2000) -> Any:
    """:func:`~vidsal_core.analysis.relevance.effect_estimates` of the clips of ``frame`` (bootstrap over its groups)."""
    shares = np.stack(frame["share"].to_numpy())
    keep = np.isfinite(shares).all(axis=1)
    return effect_estimates(shares[keep], frame["group"].to_numpy()[keep], resamples=resamples)


def accuracy_by(frame: pd.DataFrame, keys: Sequence[str], resamples: int = 2000) -> pd.DataFrame:
    """Top-k accuracy of the trained model per combination of ``keys`` (person bootstrap).

    Each clip counts once: its first explanation's row (every explanation of a
    clip carries the same classification).
    """
    labelled = frame[frame["label"].notna()]
    if len(labelled):
        labelled = labelled.drop_duplicates(subset=["video", "step", "offset", "title_frames"])
    rows = []
    for values, part in labelled.groupby(list(keys), sort=True):
        values = values if isinstance(values, tuple) else (values,)
        row = dict(zip(keys, values), clips=len(part), groups=part["group"].nunique())
        for k in TOP_K:
            estimate = mean_interval(part[f"top{k}"].to_numpy(), part["group"].to_numpy(), resamples=resamples)
            row.update({f"top{k}": estimate.mean, f"top{k}_low": estimate.low, f"top{k}_high": estimate.high})
        rows.append(row)
    return pd.DataFrame(rows)


def shared_offsets(frame: pd.DataFrame, steps: Sequence[int] | None = None) -> pd.DataFrame:
    """The clips of an accuracy sweep at the (video, title card, offset) where every step of ``steps`` has one.

    A snippet of step ``s`` fits only up to offset ``n − 15 s − 1``, so without
    this a large step is measured at the first offsets only and a small one at
    all of them, and the accuracy curve mixes step with offset. Each clip
    counts once (its first explanation's row). ``steps`` defaults to every
    step of the frame.
    """
    clips = frame[frame["label"].notna()].drop_duplicates(subset=["video", "step", "offset", "title_frames"])
    steps = sorted(set(clips["step"])) if steps is None else sorted(set(steps))
    clips = clips[clips["step"].isin(steps)]
    counts = clips.groupby(["video", "title_frames", "offset"])["step"].nunique()
    complete = counts[counts == len(steps)].index
    keys = pd.MultiIndex.from_frame(clips[["video", "title_frames", "offset"]])
    return clips[keys.isin(complete)]


def best_step(frame: pd.DataFrame, k: int = 1, prefer: int | None = None, exclude: int | None = None) -> int:
    """The step with the highest mean top-``k`` accuracy on the shared offsets of ``frame``.

    Ties go to ``prefer``, then to the smallest step; ``exclude`` (e.g. the
    training step, to ask which *other* step is best) is never chosen.
    """
    if k not in TOP_K:
        raise ConfigError(f"k={k!r}: choose one of {list(TOP_K)}")
    clips = shared_offsets(frame)
    if clips.empty:
        raise ConfigError("best_step: no (video, offset) has a clip of every step")
    means = clips.groupby("step")[f"top{k}"].mean()
    means = means[means.index != exclude]
    if means.empty:
        raise ConfigError(f"best_step: no step other than {exclude} in the frame")
    leaders = sorted(means[means == means.max()].index)
    return int(prefer) if prefer in leaders else int(leaders[0])


def step_gain(frame: pd.DataFrame, step: int, reference_step: int, k: int = 1, resamples: int = 2000) -> Any:
    """Top-``k`` accuracy at ``step`` minus at ``reference_step`` on their shared offsets, paired by clip, person bootstrap."""
    clips = shared_offsets(frame, [step, reference_step])
    if clips.empty:
        raise ConfigError(f"step_gain: no (video, offset) has clips of both steps {step} and {reference_step}")
    return paired_difference(clips, f"top{k}", "step", step, reference_step, resamples=resamples)


def interval_text(mean: float, low: float, high: float, scale: float = 1.0) -> str:
    """``mean [low, high]`` with three significant digits, after multiplying by ``scale``."""
    if not np.isfinite(mean):
        return "—"
    return f"{mean * scale:+.3g} [{low * scale:+.3g}, {high * scale:+.3g}]"


#: Coefficients are printed ×100: in percentage points of the relevance share.
TABLE_SCALE = 100.0


def table_one(frames: Mapping[str, pd.DataFrame], explanations: Sequence[str] = tuple(EXPLANATIONS)) -> pd.DataFrame:
    """Seed 002's Table 1: rows (model · data, coefficient), columns the explanations; ``mean [95% CI]`` ×100.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Row label (e.g. ``"C3D · SynthKTH"``) → :func:`results_frame` of its offset sweep.
    """
    rows = []
    for label, frame in frames.items():
        if frame.empty:
            continue
        effects = effects_by(frame, ["explanation"]).set_index("explanation")
        clips = int(effects["clips"].max())
        groups = int(effects["groups"].max())
        for coefficient, name in (("border a", "border"), ("lookahead d", "lookahead")):
            row = {"model · data": f"{label} ({clips} clips, {groups} groups)", "coefficient": coefficient}
            for explanation in explanations:
                if explanation in effects.index and name in effects.columns:
                    values = effects.loc[explanation]
                    row[explanation] = interval_text(values[name], values[f"{name}_low"], values[f"{name}_high"],
                                                     TABLE_SCALE)
                else:
                    row[explanation] = "—"
            rows.append(row)
    return pd.DataFrame(rows)


def markdown_table(frame: pd.DataFrame, float_format: str = "{:.3g}") -> str:
    """A DataFrame as a Markdown table (plain text readable too)."""
    header = [str(column) for column in frame.columns]
    cells = [[float_format.format(value) if isinstance(value, float) else str(value) for value in row]
             for row in frame.itertuples(index=False)]
    widths = [max(len(line[i]) for line in [header] + cells) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths)) + " |" for line in [header] + cells]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


# --- the whole study --------------------------------------------------------------------------------------


@dataclass
class BorderStudy:
    """Every sweep of the chapter, as :func:`results_frame` tables.

    Attributes
    ----------
    settings : BorderSettings
        The profile's sizes.
    c3d : dict
        The C3D descriptor (run, step, classes, checkpoint hashes).
    i3d : dict or None
        The I3D descriptor (None when I3D was skipped).
    frames : dict of str to DataFrame
        ``c3d_offsets``, ``c3d_steps``, ``c3d_title``, ``c3d_accuracy`` (classification
        only), ``c3d_validation_accuracy`` (the same on validation persons, when
        ``validation_persons`` is set), ``i3d_footage_offsets``,
        ``i3d_footage_steps``, ``i3d_synthkth_offsets``, ``i3d_synthkth_steps``,
        ``i3d_native_footage_offsets`` (I3D at its native clip length and size, when set).
    seconds : dict of str to float
        Wall-clock seconds per sweep (0 when everything came from disk).
    corpus : Corpus
        The chapter's test videos.
    training_title_frames : list of int
        Title-card lengths among C3D's training videos (``[0]``: it never saw a card).
    """

    settings: BorderSettings
    c3d: dict[str, Any]
    i3d: dict[str, Any] | None
    frames: dict[str, pd.DataFrame]
    seconds: dict[str, float]
    corpus: Any
    training_title_frames: list[int] = field(default_factory=lambda: [0])

    def offset_frames(self) -> dict[str, pd.DataFrame]:
        """Row label → offset sweep (C3D at its training step; I3D at its step): Table 1's rows."""
        return {
            f"C3D · SynthKTH, step {self.c3d['step']}": self.frames["c3d_offsets"],
            f"I3D · real footage, step {self.settings.i3d.step}": self.frames.get("i3d_footage_offsets", pd.DataFrame()),
            f"I3D · SynthKTH, step {self.settings.i3d.step}": self.frames.get("i3d_synthkth_offsets", pd.DataFrame()),
            **({f"I3D · real footage, native {self.settings.i3d_native.clip_length} frames × "
                f"{self.settings.i3d_native.crop_size} px": self.frames.get("i3d_native_footage_offsets", pd.DataFrame())}
               if self.settings.i3d_native is not None else {}),
        }

    def table_one(self) -> pd.DataFrame:
        """Table 1 from the offset sweeps; DTD (proportional max pooling, the seed's) beside DTD-wta."""
        return table_one(self.offset_frames())

    def bias_shares(self) -> pd.DataFrame:
        """:func:`bias_share_table` of Table 1's clips: the relevance the biases absorb, per model and rule."""
        return bias_share_table(self.offset_frames())


def run_study(profile: str | Path, progress: bool = True, with_i3d: bool = True, executor: Any = None,
              train_if_missing: bool = True, threads: int | None = 1) -> BorderStudy:
    """Run (or resume) every sweep of the border chapter at ``profile``.

    Parameters
    ----------
    profile : str or Path
        The profile (its ``border_chapter``, ``long_corpus`` and ``models`` sections).
    progress : bool, default True
        Progress bars.
    with_i3d : bool, default True
        Also run the I3D sweeps (needs the Kinetics weights, ``make data-assets``).
    executor : concurrent.futures.Executor, optional
        Map the items through it (see :func:`vidsal_core.analysis.sweeps.run_sweep`).
    train_if_missing : bool, default True
        Train the C3D run when it has no matching checkpoint.
    threads : int or None, default 1
        Torch threads while the sweeps run in this process (restored after);
        None keeps torch's setting. Items are single clips, and on a busy
        machine one thread per clip is many times faster than two that wait
        for each other; use ``executor`` (one process per core) for parallelism.
    """
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _run_study(profile, progress, with_i3d, executor, train_if_missing)
    finally:
        torch.set_num_threads(previous)


def _run_study(profile: str | Path, progress: bool, with_i3d: bool, executor: Any,
               train_if_missing: bool) -> BorderStudy:
    """:func:`run_study` without the thread setting."""
    from vidsal_core.data.corpus import build_corpus

    settings = BorderSettings.from_profile(profile)
    c3d = c3d_descriptor(profile, settings.c3d_run, train_if_missing, progress)
    corpus = build_corpus(evaluation_corpus_config(profile, settings), progress=progress)
    classes = c3d["classes"]
    plain = per_person(synthkth_videos(corpus, classes, 0), settings.videos_per_person)
    titled = (per_person(synthkth_videos(corpus, classes, settings.title_frames), settings.videos_per_person)
              if settings.title_frames else [])
    if settings.title_frames and not titled:
        raise ConfigError(f"profile {profile} border_chapter: title_frames={settings.title_frames} is not among "
                          f"corpus.title_frames {list(corpus.config.title_frames)}")
    length, step = c3d["clip_length"], c3d["step"]
    plans = {
        "c3d_offsets": sweep_items(plain, c3d, length, [step], settings.offsets,
                                   settings.offset_explanations(settings.explanations)),
        "c3d_steps": sweep_items(plain, c3d, length, settings.steps, settings.step_offsets, settings.explanations),
        "c3d_title": (sweep_items(plain, c3d, length, [step], settings.title_offsets, settings.title_explanations)
                      + sweep_items(titled, c3d, length, [step], settings.title_offsets, settings.title_explanations)),
        "c3d_accuracy": sweep_items(plain, c3d, length, settings.steps, settings.accuracy_offsets, [LOGITS_ONLY]),
    }
    if settings.validation_persons:
        validation = build_corpus(validation_corpus_config(profile, settings), progress=progress)
        plans["c3d_validation_accuracy"] = sweep_items(synthkth_videos(validation, classes, 0, split="validation"),
                                                       c3d, length, settings.steps, settings.accuracy_offsets,
                                                       [LOGITS_ONLY])
    i3d = None
    if with_i3d:
        i3d_settings = settings.i3d
        i3d = i3d_descriptor(i3d_settings)
        footage = footage_videos(i3d_settings.footage)
        synthetic = _spread(plain, i3d_settings.synthkth_videos)
        length, step, names = i3d_settings.clip_length, i3d_settings.step, i3d_settings.explanations
        plans.update({
            "i3d_footage_offsets": sweep_items(footage, i3d, length, [step], i3d_settings.footage_offsets,
                                               settings.offset_explanations(names)),
            "i3d_footage_steps": sweep_items(footage, i3d, length, i3d_settings.footage_steps,
                                             i3d_settings.footage_step_offsets, names),
            "i3d_synthkth_offsets": sweep_items(synthetic, i3d, length, [step], i3d_settings.synthkth_offsets, names),
            "i3d_synthkth_steps": sweep_items(synthetic, i3d, length, i3d_settings.synthkth_steps,
                                              i3d_settings.synthkth_step_offsets, names),
        })
        native = settings.i3d_native
        if native is not None and native.footage_offsets:
            plans["i3d_native_footage_offsets"] = sweep_items(
                footage_videos(native.footage), i3d_descriptor(native), native.clip_length, [native.step],
                native.footage_offsets, native.explanations)
    frames, seconds = {}, {}
    for name, items in plans.items():
        start = time.perf_counter()
        frames[name] = run_items(f"border-{name.split('_')[0]}", items, progress, executor) if items else results_frame([], [])
        seconds[name] = time.perf_counter() - start
    return BorderStudy(settings=settings, c3d=c3d, i3d=i3d, frames=frames, seconds=seconds, corpus=corpus,
                       training_title_frames=training_title_frames(profile, settings.c3d_run))


def _spread(videos: Sequence[Mapping[str, Any]], count: int) -> list[Mapping[str, Any]]:
    """``count`` videos spread over persons and actions: action ``k`` of round ``r`` from person ``k + r`` (cyclic).

    With as many videos as actions, every action appears once and the persons
    take turns, so a bootstrap over persons has more than one person to resample.
    """
    persons = sorted({video["person"] for video in videos})
    actions = list(dict.fromkeys(video["action"] for video in videos))
    by_key = {(video["person"], video["action"]): video for video in videos}
    chosen: list[Mapping[str, Any]] = []
    for round_index in range(len(persons)):
        for position, action in enumerate(actions):
            video = by_key.get((persons[(position + round_index) % len(persons)], action))
            if video is not None and len(chosen) < count:
                chosen.append(video)
    return chosen


# --- examples and differences (shared by the two chapters; their figures: vidsal_core.plot) ---------------

#: Colour of each explanation in every figure of the chapters.
EXPLANATION_COLOURS: dict[str, str] = {"DTD": "C0", "SA": "C1", "DTD-u": "C2", "Grad-CAM": "C3", "DTD-wta": "C4",
                                         "Grad-CAM-4": "C5"}


def explain_example(video: Mapping[str, Any], model: Mapping[str, Any], clip_length: int, step: int, offset: int,
                    explanations: Sequence[str] = tuple(EXPLANATIONS)) -> dict[str, Any]:
    """One clip and its explanations with the video's shape, for heatmap figures.

    Returns
    -------
    dict
        ``clip`` ``(T, C, H, W)``, ``frames`` (the video's frame indices),
        ``target`` (the class explained), ``maps`` (explanation → ``(T, C, H, W)``).
    """
    from vidsal_core.data.clips import clip_indices

    setting = {"model": model, "clip_length": clip_length, "step": step, "offset": offset}
    clip = load_clip(video, setting)
    trained = model_for(model, "trained")
    with torch.no_grad():
        target = int(trained(clip[None])[0].argmax())
    maps = {}
    for name in explanations:
        weights, method = EXPLANATIONS[name]
        with torch.enable_grad():
            maps[name] = explanation_map(model_for(model, weights), clip, target, method)
    frames = clip_indices(int(video["n_frames"]), clip_length, step, offset)
    return {"clip": clip, "frames": frames, "target": target, "maps": maps}


def paired_difference(frame: pd.DataFrame, column: str, key: str, first: Any, second: Any,
                      resamples: int = 2000) -> Any:
    """Mean of ``column`` at ``key == first`` minus at ``key == second``, paired by clip, with a person bootstrap.

    Clips are paired on every other identifying column (video, offset or step,
    explanation, title card); the interval resamples whole groups (persons).
    """
    pair_on = [name for name in ("video", "step", "offset", "explanation", "title_frames") if name != key]
    left = frame[frame[key] == first].set_index(pair_on)
    right = frame[frame[key] == second].set_index(pair_on)
    common = left.index.intersection(right.index)
    if len(common) == 0:
        raise ConfigError(f"paired_difference: no clip has both {key}={first!r} and {key}={second!r}")
    differences = left.loc[common, column].to_numpy(float) - right.loc[common, column].to_numpy(float)
    return mean_interval(differences, left.loc[common, "group"].to_numpy(), resamples=resamples)


def sign_text(low: float, high: float) -> str:
    """``"positive"``, ``"negative"`` or ``"not distinguishable from zero"``: a 95% interval's side of zero in words.

    Prose only (from :func:`vidsal_core.results.interval_side`); a seed claim's
    verdict comes from :func:`vidsal_core.results.verdict`.
    """
    from vidsal_core.results import interval_side

    return {"above": "positive", "below": "negative", "holds": "not distinguishable from zero"}[
        interval_side(low, high)]


# --- the command ----------------------------------------------------------------------------------------


def report(study: BorderStudy) -> str:
    """The command's text: Table 1, the step sweep with accuracy, the offset sweep, the title-card test."""
    lines = [
        "Border and lookahead coefficients (seed 002, Table 1), x100 (percentage points of relevance share):",
        "mean [95% CI] over clips; bootstrap over persons (SynthKTH) or source clips (footage).",
        "border a: fitted share of the first/last frame minus that of the centre; "
        "lookahead d: half the fitted last-minus-first share.",
        "",
        markdown_table(study.table_one()),
        "",
        "Share of relevance the biases absorb per clip, 1 - sum R (deep Taylor; DTD proportional max pooling, "
        "DTD-wta winner-take-all):",
        "",
        markdown_table(study.bias_shares()),
    ]
    steps = study.frames["c3d_steps"]
    if not steps.empty:
        effects = effects_by(steps, ["step", "explanation"])
        accuracy = accuracy_by(shared_offsets(study.frames.get("c3d_accuracy", steps)), ["step"])
        table = effects.pivot(index="step", columns="explanation", values="border") * TABLE_SCALE
        table.columns = [f"border {name}" for name in table.columns]
        for k in TOP_K:
            table[f"top-{k}"] = accuracy.set_index("step")[f"top{k}"]
        lines += ["", f"C3D step sweep (border at offsets {list(study.settings.step_offsets)}, accuracy at those of "
                  f"offsets {list(study.settings.accuracy_offsets)} where every step fits; trained at step "
                  f"{study.c3d['step']}; {len(study.c3d['classes'])} classes, so top-5 is nearly trivial):",
                  "", markdown_table(table.reset_index())]
        validation = study.frames.get("c3d_validation_accuracy", pd.DataFrame())
        if len(validation) and len(study.frames.get("c3d_accuracy", [])):
            for k in (1, 5):
                chosen = best_step(validation, k, exclude=study.c3d["step"])
                gain = step_gain(study.frames["c3d_accuracy"], chosen, study.c3d["step"], k)
                lines.append(f"top-{k}: best other step on validation persons {list(study.settings.validation_persons)}: "
                             f"{chosen}; its gain over step {study.c3d['step']} on the test persons: "
                             f"{interval_text(gain.mean, gain.low, gain.high)}")
    offsets = study.frames["c3d_offsets"]
    if not offsets.empty:
        effects = effects_by(offsets, ["offset", "explanation"])
        table = effects.pivot(index="offset", columns="explanation", values="lookahead") * TABLE_SCALE
        table.columns = [f"lookahead {name}" for name in table.columns]
        lines += ["", f"C3D offset sweep at step {study.c3d['step']} (lookahead d x100):", "",
                  markdown_table(table.reset_index())]
    title = study.frames["c3d_title"]
    if not title.empty:
        effects = effects_by(title[title["explanation"] == "DTD"], ["offset", "title_frames"])
        table = effects.pivot(index="offset", columns="title_frames", values="lookahead") * TABLE_SCALE
        table.columns = [f"DTD lookahead, title {name} frames" for name in table.columns]
        cards = study.training_title_frames
        trained_on = "with title cards of " + ", ".join(str(c) for c in cards if c) + " frames" if any(cards) else "without title cards"
        lines += ["", f"Title-card test (lookahead d x100, DTD; C3D trained on videos {trained_on}):", "",
                  markdown_table(table.reset_index())]
    lines += ["", "seconds per sweep: " + ", ".join(f"{name} {value:.0f}" for name, value in study.seconds.items())]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vidsal_core.analysis.border --profile quick``: run or resume the sweeps, print the tables."""
    parser = argparse.ArgumentParser(prog="python -m vidsal_core.analysis.border", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default", help="quick, default, full or a .yaml path")
    parser.add_argument("--no-i3d", dest="with_i3d", action="store_false", help="skip the I3D sweeps")
    parser.add_argument("--workers", type=int, default=1, help="processes computing items (1: this process)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide progress bars")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    start = time.perf_counter()
    try:
        if arguments.workers > 1:
            import concurrent.futures
            import multiprocessing

            with concurrent.futures.ProcessPoolExecutor(arguments.workers, mp_context=multiprocessing.get_context("spawn"),
                                                        initializer=torch.set_num_threads, initargs=(1,)) as executor:
                study = run_study(arguments.profile, arguments.progress, arguments.with_i3d, executor)
        else:
            study = run_study(arguments.profile, arguments.progress, arguments.with_i3d)
    except VidsalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(report(study))
    print(f"\nprofile {arguments.profile}: {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
