"""Do per-frame importance curves agree with what truly happens in a video? Measures, intervals, a study.

Seed 000 compared its time contribution (§4.1) with frame-difference keyframes
(§6.4) by eye and had no ground truth. SynthKTH knows, for every frame, how
much of the person is in view (``visibility``) and how fast the limbs truly
move (``limb_motion``). This module measures, per video,

- Spearman's rank correlation of a per-frame curve (time contribution, or the
  0/1 keyframe indicator) with each true curve;
- the area under the ROC curve (AUC) of a per-frame score as a detector of the
  frames where the person is in view (visibility at least ``threshold``): the
  probability that an in-view frame scores higher than an out-of-view one,
  ties counting half; NaN when every frame, or none, is in view;
- the keyframe AUC of time contribution (seed 000's own comparison): the
  probability that a keyframe has a higher time contribution than a
  non-keyframe;
- the *synergy* of a window of masked frames: its drop minus the sum of the
  drops of its frames masked one at a time (positive when the frames stand in
  for each other, so that masking one alone hides little), on two scales: the
  target's log-odds (``logit_synergy``, the headline) and its probability
  (``synergy``). The probability saturates: for a confident model the
  sigmoid is convex in the change of the log-odds, so frames whose effects
  simply add up in the logits show a positive probability synergy; in
  log-odds they show none (tests/test_temporal_agreement.py builds such a
  model);

and summarises them over videos with 95 % intervals over persons
(:func:`vidsal_core.statistics.mean_interval`; the interval of a
bounded quantity, an AUC, stays inside [0, 1]).

:func:`run_study` computes all of it for one trained walking-vs-running model
over a profile's test clips (time contribution through the exact factorised
engine, :mod:`vidsal_core.saliency.time_contribution_factorised`);
:func:`record_videos` loads the clips of some of its records again.
:func:`own_clip_panel` and :func:`readers_model_panel` explain a reader's own
clip, with one of the study's models or with a reader's own model.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from vidsal_core.statistics import UNIT, Estimate, mean_interval
from vidsal_core.errors import CheckpointError, ConfigError
from vidsal_core.saliency.keyframes import DEFAULT_THRESHOLD, Keyframes, detect_keyframes, keyframe_auc, rank_correlation
from vidsal_core.saliency.masking import BASELINES
from vidsal_core.metrics.agreement import (  # noqa: F401 (the study's names for them)
    DEFAULT_IN_VIEW,
    MEASURES,
    _fraction,
    agreement,
    in_view,
    in_view_auc,
    keyframe_indicator,
    window_synergy,
)
from vidsal_study.profiles import corpus_config
from vidsal_core.data.corpus import CorpusConfig, build_corpus
from vidsal_study.runs import build_run, load_trained, run_dataset, train_or_load
from vidsal_study.runs import run_clip_options
from vidsal_core.saliency.masking import dataset_mean_frame
from vidsal_core.saliency.time_contribution_factorised import EncodedVideo
from vidsal_core.data.video import read_video
from vidsal_core.models.user import load_user_model
from vidsal_core.saliency.time_contribution import time_contribution
from vidsal_study.profiles import profile_section

LOGGER = logging.getLogger(__name__)

#: The time-contribution chapter's name of each walking-vs-running model.
MODEL_NAMES: dict[str, str] = {"frame_lstm_binary": "LSTM", "ica_lstm_binary": "ICA-LSTM"}
#: Fewest frames of a reader's clip (time contribution and keyframes need a few).
MIN_OWN_FRAMES = 6


def interval(values: Any, groups: Sequence[Any] | None = None, resamples: int = 2000,
             bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean over videos with a 95 % interval over ``groups`` (e.g. persons); NaNs dropped.

    ``bounds`` is the range of a bounded quantity (an AUC: ``(0, 1)``; a share
    in percent: ``(0, 100)``), for the interval that stays inside it
    (:func:`~vidsal_core.statistics.mean_interval`); None (default)
    for an unbounded one or a difference. Returns an :class:`Estimate` of NaNs
    (count 0) when no value is finite.
    """
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).any():
        return Estimate(math.nan, math.nan, math.nan, 0, 0)
    return mean_interval(values, groups, resamples=resamples, bounds=bounds)


def measure_bounds(name: str) -> tuple[float, float] | None:
    """The range of a measure of :data:`MEASURES`: ``(0, 1)`` for an AUC, None for a rank correlation.

    A correlation lies in [−1, 1] too, but it is not a share, and its mean over
    clips keeps the t interval.

    Examples
    --------
    >>> measure_bounds("auc_contribution_keyframes"), measure_bounds("rho_contribution_visibility")
    ((0.0, 1.0), None)
    """
    return UNIT if name.startswith("auc_") else None


def paired_difference(first: Any, second: Any, groups: Sequence[Any] | None = None, resamples: int = 2000) -> Estimate:
    """Mean of ``first − second`` over videos where both are finite, with a 95 % interval over ``groups``."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if first.shape != second.shape:
        raise ConfigError(f"second: {second.shape} values, first has {first.shape}")
    return interval(first - second, groups, resamples)


def position_band(values: Any, groups: Sequence[Any] | None = None, resamples: int = 2000) -> dict[str, np.ndarray]:
    """Mean of ``(N, T)`` per-video curves at each frame position, with a 95 % interval per position.

    Returns ``{"mean", "low", "high"}``, each ``(T,)``.
    """
    matrix = np.asarray(values, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ConfigError(f"values: expected (videos, frames) with at least one video, got {matrix.shape}")
    estimates = [interval(matrix[:, column], groups, resamples) for column in range(matrix.shape[1])]
    return {name: np.array([getattr(estimate, name) for estimate in estimates]) for name in ("mean", "low", "high")}


# --- the study -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudySettings:
    """What :func:`run_study` computes (the ``time_contribution_chapter`` section of a profile).

    Attributes
    ----------
    runs : tuple of str
        Walking-vs-running runs of the profile's ``models`` section.
    windows : tuple of int
        Frames per mask; 1 (single frames) always included.
    baseline : str
        Baseline of the main analysis (one of :data:`BASELINES`).
    baselines : tuple of str
        Baselines compared at single-frame masks.
    max_videos : int or None
        Test clips measured (None = all).
    mean_videos : int
        Training videos averaged into the "mean" baseline.
    keyframe_threshold : float
        Keyframe detector's threshold (seed 000: 0.3).
    in_view_threshold : float
        Least visibility of an in-view frame.
    resamples : int
        Bootstrap resamples of every interval.
    clip_offset : {"center", "acting"} or int
        Where each test clip is cut: ``"center"`` (the video's centre, empty
        frames and all: this chapter's own experiment, which found the models
        using frames without the person), ``"acting"`` (centred on the
        person's longest run in view, as the models are evaluated), or a frame.
    """

    runs: tuple[str, ...] = ("frame_lstm_binary", "ica_lstm_binary")
    windows: tuple[int, ...] = (1, 3, 5)
    baseline: str = "zero"
    baselines: tuple[str, ...] = BASELINES
    max_videos: int | None = None
    mean_videos: int = 32
    keyframe_threshold: float = DEFAULT_THRESHOLD
    in_view_threshold: float = DEFAULT_IN_VIEW
    resamples: int = 2000
    clip_offset: str | int = "center"

    def __post_init__(self) -> None:
        if not self.runs:
            raise ConfigError("runs: name at least one run")
        windows = tuple(self.windows)
        if not windows or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in windows):
            raise ConfigError(f"windows={list(windows)}: expected positive integers")
        if 1 not in windows:
            object.__setattr__(self, "windows", (1, *windows))
        for name in (self.baseline, *self.baselines):
            if name not in BASELINES:
                raise ConfigError(f"baseline {name!r}: choose from {list(BASELINES)}")
        if self.max_videos is not None and (isinstance(self.max_videos, bool) or not isinstance(self.max_videos, int)
                                            or self.max_videos < 1):
            raise ConfigError(f"max_videos={self.max_videos!r}: expected a positive integer or null")
        _fraction(self.keyframe_threshold, "keyframe_threshold")
        _fraction(self.in_view_threshold, "in_view_threshold")

    @classmethod
    def from_profile(cls, profile: str | Path, section: str = "time_contribution_chapter") -> "StudySettings":
        """Read the settings from ``profile``'s ``section``; unknown keys are refused."""

        values = dict(profile_section(profile, section) or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"profile {profile} {section}: unknown key(s) {unknown}; expected some of {sorted(known)}")
        for name in ("runs", "windows", "baselines"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


def trained_model(profile: str | Path, run_name: str, progress: bool = False) -> nn.Module:
    """The run's trained model in eval mode, trained first (as ``models.cli train`` would) if its checkpoint is missing."""

    try:
        return load_trained(profile, run_name)
    except CheckpointError as error:
        LOGGER.warning("training %s for the time contribution chapter: %s", run_name, str(error).splitlines()[0])
    run = build_run(profile, run_name)
    corpus = build_corpus(corpus_config(profile, run.corpus_section), progress=progress)
    train_or_load(run, run_dataset(run, corpus, "train", cache=True), run_dataset(run, corpus, "validation", cache=True),
                  on_mismatch="retrain", progress=progress)
    return load_trained(profile, run_name)


def evaluation_clips(profile: str | Path, run_name: str, offset: str | int | None = "center"):
    """The run's corpus and its test clips, with SynthKTH's truth attached.

    ``offset`` cuts each clip (``"center"``: the video's centre clip, empty
    frames and all, the default of this chapter's experiment; ``"acting"``;
    a frame; None: as the run evaluates them, ``data.evaluation_offset``). The
    rest is cut as :func:`~vidsal_study.runs.run_clip_options` says (a
    control run's videos without a run in view as long as the clip left out).
    """

    run = build_run(profile, run_name)
    corpus = build_corpus(corpus_config(profile, run.corpus_section), progress=False)
    options = run_clip_options(run)
    if offset is not None:
        options["offset"] = offset
    dataset = corpus.dataset(split="test", actions=list(run.spec.classes), with_truth=True, **options)
    if tuple(dataset.classes) != tuple(run.spec.classes):
        raise ConfigError(f"run {run_name}: test clips labelled {dataset.classes}, the model {run.spec.classes}")
    if len(dataset) == 0:
        raise ConfigError(f"run {run_name}: no test videos of {list(run.spec.classes)} in corpus {corpus.config_hash}")
    return corpus, dataset


def mean_frame(profile: str | Path, run_name: str, max_videos: int) -> torch.Tensor:
    """``(C, H, W)`` mean frame of the run's training videos (the "mean" baseline)."""

    run = build_run(profile, run_name)
    corpus = build_corpus(corpus_config(profile, run.corpus_section), progress=False)
    size = None if run.data["size"] is None else tuple(run.data["size"])
    training = corpus.dataset(split="train", actions=list(run.spec.classes), size=size)
    order = np.random.default_rng(0).permutation(len(training))[:max_videos]
    return dataset_mean_frame([training[int(index)] for index in order])


def keyframes_of_clip(corpus: Any, meta: Mapping[str, Any], threshold: float = DEFAULT_THRESHOLD) -> Keyframes:
    """Keyframes of a SynthKTH clip, detected on its frames at the corpus's full resolution."""
    frames = corpus.load(meta["key"])["frames"][np.asarray(meta["frames"])]
    video = torch.from_numpy(frames).float().div(255.0)[:, None]
    return detect_keyframes(video, threshold)


def study_video(model: nn.Module, video: torch.Tensor, label: int | None, keyframes: Keyframes,
                settings: StudySettings, mean: torch.Tensor | None = None) -> dict[str, Any]:
    """Time contribution of one video for every window and baseline of ``settings``, with the keyframes.

    Returns a dict: ``prediction``, ``label``, ``probability``, ``contribution``
    ``{window: (T,)}`` and ``window_drops`` / ``windows`` / ``flips`` (share of
    masks that change the prediction) ``{window: ...}`` with the main
    baseline; ``baseline_contribution`` and ``baseline_flips``
    ``{baseline: ...}`` with single-frame masks; ``accuracy_drop`` ``(T,)``
    (single frames, main baseline); ``window_log_odds_drops`` ``{window: (M,)}``
    and ``log_odds_contribution`` ``(T,)`` (single frames), the same masks'
    drops of the target's log-odds; ``synergy`` (probability) and
    ``logit_synergy`` (log-odds) ``{window: mean over windows}`` for windows
    above 1, both from the same masked passes; ``keyframes`` and ``differences``.
    """

    encoded = EncodedVideo(model, video)
    record: dict[str, Any] = {"contribution": {}, "window_drops": {}, "windows": {}, "flips": {}, "synergy": {},
                              "window_log_odds_drops": {}, "logit_synergy": {},
                              "baseline_contribution": {}, "baseline_flips": {}}
    for window in settings.windows:
        if window > video.shape[0]:
            continue
        result = encoded.time_contribution(label=label, window=window, baseline=settings.baseline, mean=mean)
        record["contribution"][window] = result.probability_drop.numpy()
        record["window_drops"][window] = result.window_probability_drop.numpy()
        record["windows"][window] = result.windows.numpy()
        record["window_log_odds_drops"][window] = result.window_log_odds_drop.numpy()
        record["flips"][window] = float((result.masked_predictions != result.prediction).double().mean())
        if window == 1:
            record.update(prediction=result.prediction, label=result.label, probability=result.probability,
                          accuracy_drop=result.accuracy_drop.numpy(), log_odds_contribution=result.log_odds_drop.numpy())
    singles, log_odds_singles = record["contribution"][1], record["log_odds_contribution"]
    for window in record["contribution"]:
        if window > 1:
            spans = record["windows"][window]
            record["synergy"][window] = float(window_synergy(record["window_drops"][window], spans, singles).mean())
            record["logit_synergy"][window] = float(window_synergy(record["window_log_odds_drops"][window], spans,
                                                                   log_odds_singles).mean())
    for baseline in settings.baselines:
        if baseline == "mean" and mean is None:
            continue
        result = encoded.time_contribution(label=label, baseline=baseline, mean=mean)
        record["baseline_contribution"][baseline] = result.probability_drop.numpy()
        record["baseline_flips"][baseline] = float((result.masked_predictions != result.prediction).double().mean())
    record["keyframes"] = keyframes.indices.numpy()
    record["differences"] = keyframes.differences.numpy()
    return record


@dataclass
class Study:
    """Per-video records of :func:`run_study` for each run, and the settings."""

    settings: StudySettings
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    seconds: float = 0.0

    def values(self, run: str, name: str) -> np.ndarray:
        """A scalar measure of every video of ``run`` (a key of the records or of :data:`MEASURES`)."""
        return np.array([record[name] for record in self.records[run]], dtype=float)

    def groups(self, run: str) -> np.ndarray:
        """The person of every video of ``run`` (the bootstrap's unit)."""
        return np.array([record["person"] for record in self.records[run]])

    def estimate(self, run: str, name: str) -> Estimate:
        """Mean of a scalar measure over ``run``'s videos with its 95 % interval over persons
        (inside [0, 1] for an AUC: :func:`measure_bounds`)."""
        return interval(self.values(run, name), self.groups(run), self.settings.resamples, measure_bounds(name))


def run_study(profile: str | Path, settings: StudySettings | None = None, progress: bool = False) -> Study:
    """Time contribution, keyframes and their agreement with the truth, for every test clip and run.

    Parameters
    ----------
    profile : str or Path
        The profile (its models, corpus and ``time_contribution_chapter`` section).
    settings : StudySettings, optional
        Defaults to the profile's section.
    progress : bool, default False
        Show progress bars (also when a model must be trained first).
    """
    from tqdm.auto import tqdm

    settings = settings or StudySettings.from_profile(profile)
    study = Study(settings)
    started = time.perf_counter()
    for run_name in settings.runs:
        model = trained_model(profile, run_name, progress)
        corpus, dataset = evaluation_clips(profile, run_name, settings.clip_offset)
        mean = mean_frame(profile, run_name, settings.mean_videos) if (
            "mean" in settings.baselines or settings.baseline == "mean") else None
        count = len(dataset) if settings.max_videos is None else min(len(dataset), settings.max_videos)
        chosen = np.linspace(0, len(dataset) - 1, count).round().astype(int) if count < len(dataset) else range(count)
        records = []
        for index in tqdm(chosen, desc=run_name, disable=not progress):
            item = dataset[int(index)]
            keyframes = keyframes_of_clip(corpus, item.meta, settings.keyframe_threshold)
            record = study_video(model, item.video, int(item.label), keyframes, settings, mean)
            visibility, limb_motion = item.truth.visibility.numpy(), item.truth.limb_motion.numpy()
            record.update(key=item.meta["key"], person=item.meta["person"], action=item.meta["action"],
                          scenario=item.meta["scenario"], frames=np.asarray(item.meta["frames"]),
                          visibility=visibility, limb_motion=limb_motion,
                          correct=float(record["prediction"] == record["label"]))
            record.update(agreement(record["contribution"][1], record["keyframes"], visibility, limb_motion,
                                    settings.in_view_threshold))
            records.append(record)
        study.records[run_name] = records
        study.classes[run_name] = tuple(dataset.classes)
    study.seconds = time.perf_counter() - started
    return study


def record_videos(profile: str | Path, study: Study, indices: Mapping[Any, int], run: str | None = None
                  ) -> dict[Any, torch.Tensor]:
    """The clips of some of ``run``'s records (default the first run), loaded again: name → ``(T, C, H, W)``.

    Parameters
    ----------
    profile : str or Path
        The profile the study ran with.
    study : Study
        :func:`run_study`'s result.
    indices : mapping
        Any name (e.g. an action) → index of a record of ``run``.
    run : str, optional
        The run whose records and test clips are meant (default the study's first).
    """
    run = next(iter(study.records)) if run is None else run
    if run not in study.records:
        raise ConfigError(f"run={run!r}: the study measured {list(study.records)}")
    _, clips = evaluation_clips(profile, run, study.settings.clip_offset)
    index_of_key = {entry["key"]: position for position, entry in enumerate(clips.entries)}
    records = study.records[run]
    return {name: clips[index_of_key[records[index]["key"]]].video for name, index in indices.items()}


class ClipPanel(NamedTuple):
    """One clip as the time-contribution chapter draws it: a title, the clip, its curve, its keyframes."""

    title: str
    video: Any
    contribution: np.ndarray
    keyframes: np.ndarray


def _check_own_clip(clip: torch.Tensor, name: str) -> None:
    if clip.ndim != 4 or clip.shape[0] < MIN_OWN_FRAMES:
        raise ConfigError(f"video={name!r}: {clip.shape[0] if clip.ndim else 0} frames; time contribution and keyframes "
                          f"need at least {MIN_OWN_FRAMES}")


def explain_own_clip(model: nn.Module, clip: torch.Tensor, name: str, settings: StudySettings,
                     classes: Sequence[str], model_label: str, mean: Any = None) -> tuple[ClipPanel, str]:
    """Time contribution (single frames, the main baseline, the predicted class) and keyframes of a reader's clip.

    Parameters
    ----------
    model : torch.nn.Module
        A frame CNN + recurrent model (:class:`~vidsal_core.saliency.time_contribution_factorised.EncodedVideo`).
    clip : torch.Tensor
        ``(T, 1, H, W)`` in [0, 1], at least :data:`MIN_OWN_FRAMES` frames.
    name : str
        The clip's name (its path) in the title, the message and errors.
    settings : StudySettings
        Its ``baseline`` and ``keyframe_threshold``.
    classes : sequence of str
        The model's class names.
    model_label : str
        The model's name in the title.
    mean : optional
        The "mean" baseline's value.

    Returns
    -------
    (ClipPanel, str)
        The panel and a line on what the model predicted and where the largest drop is.
    """

    _check_own_clip(clip, name)
    result = EncodedVideo(model, clip).time_contribution(baseline=settings.baseline, mean=mean)
    keyframes = detect_keyframes(clip, settings.keyframe_threshold)
    predicted = classes[result.prediction]
    panel = ClipPanel(f"your clip {name}: {model_label} predicts {predicted} (p = {result.probability:.2f})", clip,
                      result.probability_drop.numpy(), keyframes.indices.numpy())
    message = (f"{name}: {clip.shape[0]} frames of {clip.shape[2]}x{clip.shape[3]}; predicted {predicted} with "
               f"probability {result.probability:.3f}; keyframes {keyframes.indices.tolist()}; largest drop "
               f"{100.0 * float(result.probability_drop.max()):.2f} pp at frame {int(result.probability_drop.argmax())}")
    return panel, message


def own_clip_panel(profile: str | Path, run_name: str, path: str | Path, settings: StudySettings, n_frames: int,
                   classes: Sequence[str]) -> tuple[ClipPanel, str]:
    """A reader's clip (its first ``n_frames`` frames, grayscale) explained by the run's trained model.

    The "mean" baseline falls back to the mean grey level of the training videos' mean frame.
    Arguments and result as :func:`explain_own_clip`.
    """

    model = trained_model(profile, run_name)
    clip = read_video(path, grayscale=True, max_frames=n_frames)
    _check_own_clip(clip, path)
    mean = mean_frame(profile, run_name, settings.mean_videos).mean(dim=(1, 2)) if settings.baseline == "mean" else None
    return explain_own_clip(model, clip, path, settings, classes, MODEL_NAMES.get(run_name, run_name), mean)


def readers_model_panel(model: str, clip: torch.Tensor, settings: StudySettings, model_classes: str | None = None,
                        clip_name: str = "the SynthKTH clip") -> tuple[ClipPanel, str]:
    """A reader's own model explains a clip: the plain masking loop, single frames, its predicted class.

    Parameters
    ----------
    model : str
        ``package.module:builder`` (:func:`~vidsal_core.models.user.load_user_model`).
    clip : torch.Tensor
        ``(T, C, H, W)`` in [0, 1].
    settings : StudySettings
        Its ``baseline`` (the "mean" baseline falls back to ``"zero"``) and ``keyframe_threshold``.
    model_classes : str, optional
        The model's class names, comma-separated (None: ``class <n>``).
    clip_name : str
        What the clip is, in the title.

    Returns
    -------
    (ClipPanel, str)
        The panel and a line on what the model predicted and where the largest drop is.
    """

    readers_model = load_user_model(model, example_shape=tuple(clip.shape))
    baseline = settings.baseline if settings.baseline != "mean" else "zero"
    result = time_contribution(readers_model, clip, baseline=baseline)
    names = [name.strip() for name in model_classes.split(",")] if model_classes else None
    if names is not None and len(names) <= result.prediction:
        raise ConfigError(f"model_classes={model_classes!r}: {len(names)} names, but {model} predicted class "
                          f"{result.prediction}")
    predicted = names[result.prediction] if names else f"class {result.prediction}"
    panel = ClipPanel(f"your model {model} on {clip_name}: predicts {predicted} (p = {result.probability:.2f})", clip,
                      result.probability_drop.numpy(),
                      detect_keyframes(clip, settings.keyframe_threshold).indices.numpy())
    message = (f"your model {model}: predicts {predicted} with probability {result.probability:.3f}; largest drop "
               f"{100.0 * float(result.probability_drop.max()):.2f} pp at frame {int(result.probability_drop.argmax())} "
               f"(baseline {baseline})")
    return panel, message
