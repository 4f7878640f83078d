"""The border chapters' whole study: every sweep of a profile, run or resumed, and one example clip explained."""

from __future__ import annotations

import dataclasses

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from vidsal_study.chapters.border import clips, models
from vidsal_study.chapters.border.clips import footage_videos, per_person, synthkth_videos
from vidsal_study.chapters.border.models import c3d_descriptor, i3d_descriptor, training_title_frames
from vidsal_study.chapters.border.settings import (
    EXPLANATIONS, LOGITS_ONLY, BorderSettings, evaluation_corpus_config, validation_corpus_config,
)
from vidsal_study.chapters.border.stats import bias_share_table
from vidsal_study.chapters.border.tables import table_one
from vidsal_study.chapters.border.work import explanation_map, results_frame, run_items, sweep_items
from vidsal_core.errors import ConfigError
from vidsal_study.profiles import corpus_config
from vidsal_core.data.corpus import build_corpus
from vidsal_core.data.clips import clip_indices
from vidsal_core.data.video import read_video
from vidsal_core.models.i3d import prepare_clip
from vidsal_core.models.kinetics_classes import KINETICS_400_CLASSES
from vidsal_core.metrics.relevance import border_coefficient, frame_relevance, relevance_share
from vidsal_core.saliency.lrp import relevance
from vidsal_core.saliency.lrp_fast import deep_taylor
from vidsal_core.saliency.lrp import bias_free_copy


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

    def panels(self, sweep: str) -> dict[str, pd.DataFrame]:
        """The figures' panels of one kind of sweep: label → :func:`results_frame`, those with clips only.

        Parameters
        ----------
        sweep : {"offsets", "steps"}
            The offset sweeps (C3D at its training step, I3D at its step) or the step sweeps.
        """
        if sweep not in ("offsets", "steps"):
            raise ConfigError(f"sweep={sweep!r}: choose 'offsets' or 'steps'")
        panels = {"C3D · SynthKTH": self.frames.get(f"c3d_{sweep}", pd.DataFrame()),
                  "I3D · footage": self.frames.get(f"i3d_footage_{sweep}", pd.DataFrame()),
                  "I3D · SynthKTH": self.frames.get(f"i3d_synthkth_{sweep}", pd.DataFrame())}
        return {label: frame for label, frame in panels.items() if len(frame)}

    def table_one(self) -> pd.DataFrame:
        """Table 1 from the offset sweeps; DTD (proportional max pooling, the seed's) beside DTD-wta."""
        return table_one(self.offset_frames())

    def bias_shares(self) -> pd.DataFrame:
        """:func:`bias_share_table` of Table 1's clips: the relevance the biases absorb, per model and rule."""
        return bias_share_table(self.offset_frames())


def run_study(profile: str | Path, progress: bool = True, with_i3d: bool = True, executor: Any = None,
              train_if_missing: bool = True, threads: int | None = 1, c3d_run: str | None = None) -> BorderStudy:
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
        Map the items through it (see :func:`vidsal_study.sweeps.run_sweep`).
    train_if_missing : bool, default True
        Train the C3D run when it has no matching checkpoint.
    threads : int or None, default 1
        Torch threads while the sweeps run in this process (restored after);
        None keeps torch's setting. Items are single clips, and on a busy
        machine one thread per clip is many times faster than two that wait
        for each other; use ``executor`` (one process per core) for parallelism.
    c3d_run : str, optional
        Explain this run of the profile's ``models`` instead of ``border_chapter.c3d_run`` (a replicate of it:
        :mod:`vidsal_study.training_runs`).
    """
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _run_study(profile, progress, with_i3d, executor, train_if_missing, c3d_run)
    finally:
        torch.set_num_threads(previous)


def _run_study(profile: str | Path, progress: bool, with_i3d: bool, executor: Any,
               train_if_missing: bool, c3d_run: str | None = None) -> BorderStudy:
    """:func:`run_study` without the thread setting."""

    settings = BorderSettings.from_profile(profile)
    if c3d_run is not None:
        settings = dataclasses.replace(settings, c3d_run=c3d_run)
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
    """``count`` videos, one per person while persons last, each person's least-used action first.

    Persons are visited in order, round after round; each gives the video of
    its own (not yet chosen) whose action has been chosen least so far (ties:
    the first in ``videos``' order). With 9 persons and ``count = 9`` every
    person is one independent unit, and the actions are as even as the videos allow.
    """
    persons = sorted({video["person"] for video in videos})
    by_person = {person: [video for video in videos if video["person"] == person] for person in persons}
    chosen: list[Mapping[str, Any]] = []
    used: dict[Any, int] = {}
    for _ in range(max((len(mine) for mine in by_person.values()), default=0)):
        for person in persons:
            remaining = [video for video in by_person[person] if all(video is not other for other in chosen)]
            if len(chosen) >= count:
                return chosen
            if remaining:
                video = min(remaining, key=lambda candidate: used.get(candidate["action"], 0))
                used[video["action"]] = used.get(video["action"], 0) + 1
                chosen.append(video)
    return chosen


# --- one example clip, every explanation (for heatmap figures) ----------------------------------------------


def explain_example(video: Mapping[str, Any], model: Mapping[str, Any], clip_length: int, step: int, offset: int,
                    explanations: Sequence[str] = tuple(EXPLANATIONS)) -> dict[str, Any]:
    """One clip and its explanations with the video's shape, for heatmap figures.

    Returns
    -------
    dict
        ``clip`` ``(T, C, H, W)``, ``frames`` (the video's frame indices),
        ``target`` (the class explained), ``maps`` (explanation → ``(T, C, H, W)``).
    """

    setting = {"model": model, "clip_length": clip_length, "step": step, "offset": offset}
    clip = clips.load_clip(video, setting)
    trained = models.model_for(model, "trained")
    with torch.no_grad():
        target = int(trained(clip[None])[0].argmax())
    maps = {}
    for name in explanations:
        weights, method = EXPLANATIONS[name]
        with torch.enable_grad():
            maps[name] = explanation_map(models.model_for(model, weights), clip, target, method)
    frames = clip_indices(int(video["n_frames"]), clip_length, step, offset)
    return {"clip": clip, "frames": frames, "target": target, "maps": maps}



#: How the heatmap figures draw each explanation: deep Taylor's relevance is signed, the others unsigned.
MAP_KINDS: dict[str, str] = {"DTD": "signed", "DTD-wta": "signed", "SA": "unsigned", "DTD-u": "signed",
                             "Grad-CAM": "unsigned", "Grad-CAM-4": "unsigned"}


def example_rows(clip: Any, maps: Mapping[str, Any], names: Sequence[str] = ("DTD", "SA", "DTD-u", "Grad-CAM")
                 ) -> list[tuple[str, Any, str]]:
    """The rows of one video in :func:`vidsal_core.plot.saliency_grid`: its frames, then each explanation's map.

    Parameters
    ----------
    clip : torch.Tensor
        ``(T, C, H, W)`` frames.
    maps : mapping of str to torch.Tensor
        Explanation → map of the clip's shape (:func:`explain_example`'s ``maps``).
    names : sequence of str
        The explanations shown, in order, each drawn as :data:`MAP_KINDS` says.
    """
    missing = [name for name in names if name not in maps or name not in MAP_KINDS]
    if missing:
        raise ConfigError(f"names: no map (or no kind) for {missing}; maps hold {list(maps)}")
    return [("frames", clip, "frames"), *[(name, maps[name], MAP_KINDS[name]) for name in names]]


def c3d_example(study: BorderStudy, action: str, every: int = 8) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """The first SynthKTH test video of ``action``, cut where its person is most in view, explained every way.

    The snippet (C3D's clip length at its training step) starts at the offset,
    among every ``every``-th frame where it fits, with the highest mean
    visibility of the person over the snippet's frames.

    Returns
    -------
    tuple
        The video's descriptor and :func:`explain_example` of the snippet.
    """
    c3d = study.c3d
    classes = list(c3d["classes"])
    if action not in classes:
        raise ConfigError(f"action={action!r} (example_action): choose one of {classes}")
    entry = [video for video in synthkth_videos(study.corpus, classes) if video["action"] == action][0]
    visibility = study.corpus.load(entry["key"])["visibility"]
    span = (c3d["clip_length"] - 1) * c3d["step"] + 1
    candidates = range(0, entry["n_frames"] - span + 1, every)
    offset = max(candidates, key=lambda start: visibility[start:start + span:c3d["step"]].mean())
    return entry, explain_example(entry, c3d, c3d["clip_length"], c3d["step"], offset)


def i3d_example_groups(study: BorderStudy, footage: str, video: str | Path | None = None) -> list[tuple[str, list]]:
    """:func:`vidsal_core.plot.saliency_grid` groups of the Kinetics I3D: a real clip, and a reader's own video.

    Parameters
    ----------
    study : BorderStudy
        Its I3D (none: no group) and I3D settings (clip length, step, crop).
    footage : str
        A real clip of :func:`footage_videos`, explained from its first frame (no group where it is missing).
    video : str or Path, optional
        Any file OpenCV reads: its first frames at I3D's step, cropped as I3D's input, explained for the
        class I3D predicts.
    """

    if study.i3d is None:
        return []
    settings = study.settings.i3d
    groups = []
    found = footage_videos([footage])
    if found:
        shown = explain_example(found[0], study.i3d, settings.clip_length, settings.step, 0)
        groups.append((f"I3D · {footage}, frames {shown['frames'][0]}–{shown['frames'][-1]}, explaining "
                       f"'{KINETICS_400_CLASSES[shown['target']]}'", example_rows(shown["clip"], shown["maps"])))
    if video is not None:
        step = max(settings.step, 1)
        own = read_video(video, grayscale=False, max_frames=settings.clip_length * step)[::step][:settings.clip_length]
        if own.shape[1] == 1:
            own = own.expand(-1, 3, -1, -1)
        own = prepare_clip(own, settings.crop_size, settings.shorter_side)
        with torch.no_grad():
            target = int(models.model_for(study.i3d, "trained")(own[None])[0].argmax())
        maps = {name: explanation_map(models.model_for(study.i3d, weights), own, target, method)
                for name, (weights, method) in EXPLANATIONS.items()}
        groups.append((f"I3D · your clip {video}, explaining '{KINETICS_400_CLASSES[target]}'",
                       example_rows(own, maps)))
    return groups


def rule_border_coefficients(model: Mapping[str, Any], videos: Sequence[Mapping[str, Any]], persons: int = 8
                             ) -> tuple[dict[str, np.ndarray], list[Any]]:
    """Border coefficients of deep Taylor with winner-take-all pooling and of Zennit's EpsilonPlusFlat, per clip.

    One clip per person (the first ``persons`` persons, each its video at its
    position modulo its videos, offset 0, the model's clip length and step),
    explained for the class the trained model predicts, with each rule in one batch.

    Returns
    -------
    tuple
        ``{"DTDwta": (clips,), "EpsilonPlusFlat": (clips,)}`` border coefficients, and each clip's person.
    """

    if persons < 1:
        raise ConfigError(f"persons={persons!r}: at least 1")
    trained = models.model_for(model, "trained")
    chosen, clip_persons = [], []
    for position, person in enumerate(sorted({video["person"] for video in videos})[:persons]):
        own = [video for video in videos if video["person"] == person]
        chosen.append(clips.load_clip(own[position % len(own)], {"model": model, "clip_length": model["clip_length"],
                                                                 "step": model["step"], "offset": 0}))
        clip_persons.append(person)
    batch = torch.stack(chosen)
    with torch.no_grad():
        targets = trained(batch).argmax(1)
    maps = {"DTDwta": deep_taylor(trained, batch, targets, max_pool="winner_take_all"),
            "EpsilonPlusFlat": relevance(trained, batch, targets, "epsilon_plus_flat")}
    return ({rule: border_coefficient(relevance_share(frame_relevance(values))) for rule, values in maps.items()},
            clip_persons)


def untrained_prior_share(model: Mapping[str, Any], clip_shape: Sequence[int]) -> np.ndarray:
    """Deep Taylor's share per frame on the bias-free untrained network for a constant grey clip (0.5).

    Without biases no relevance is absorbed, and the constant input leaves
    only the architecture to decide the shares: the network's own prior.

    Parameters
    ----------
    model : dict
        The model descriptor (its untrained weights).
    clip_shape : sequence of int
        ``(T, C, H, W)`` of the clip.
    """

    if len(clip_shape) != 4:
        raise ConfigError(f"clip_shape={tuple(clip_shape)!r}: (T, C, H, W)")
    prior_model = bias_free_copy(models.model_for(model, "untrained"))
    constant_video = torch.full((1, *clip_shape), 0.5)
    with torch.no_grad():
        target = int(prior_model(constant_video)[0].argmax())
    return relevance_share(frame_relevance(deep_taylor(prior_model, constant_video, target)[0]))
