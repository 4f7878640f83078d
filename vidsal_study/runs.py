"""The models of a profile: which to train, on what, and where their checkpoints live.

The ``models:`` section of ``params/<profile>.yaml`` names training defaults
and a set of *runs*. A run is one model trained on one task::

    models:
      training: {max_epochs: 30, patience: 5, batch_size: 16, seed: 0}
      runs:
        frame_lstm_binary:
          model: frame_lstm
          config: {hidden_size: 64}
          data: {corpus: corpus, actions: [walking, running], clip_length: 30,
                 step: 1, size: [60, 80], train_clips_per_video: 2}

A run's ``data.clip_region`` says where its training clips are drawn:
``anywhere``, ``acting`` (inside the runs of frames with the person in view,
KTH's ``00sequences.txt``) or ``inside`` (strictly inside such a run of at
least ``data.in_view`` visibility; the videos without a run as long as the
clip are left out of every split, a control without the visibility cue).
:func:`run_clip_options` gives the keyword arguments that cut a run's
evaluation clips from a corpus.

:func:`train_or_load` reuses a checkpoint whose :class:`RunSpec` matches and
trains otherwise; :func:`load_trained` is what a chapter calls: it loads and
refuses a checkpoint that does not match the profile.

**Training runs.** A network trained once is one draw of its training: its
seed fixes the initial weights, the order of the clips and where they are cut.
``models.replicates`` names runs to train again with other seeds, each a run of
its own, ``<run>-seed<k>`` (:func:`replicate_name`), equal to ``<run>`` in
everything but ``training.seed``::

    models:
      replicates: {runs: [frame_lstm_binary, ica_lstm_binary], seeds: [1, 2]}

:func:`training_runs` lists a run with its replicates; the chapters apply the
book's verdict rule to every one of them (:mod:`vidsal_study.training_runs`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from vidsal_core.data.dataset import KTH_ACTIONS, VideoDataset, VideoItem
from vidsal_core.data.clips import clip_span
from vidsal_core.data.sequences import DEFAULT_IN_VIEW, RUN_CLIP_REGIONS, check_in_view
from vidsal_core.errors import CheckpointError, ConfigError
from vidsal_study.processes import study_process
from vidsal_core.models.checkpoints import (
    CHECKPOINT_DIR, RunSpec, load_checkpoint, manifest_entry, save_checkpoint,
)
from vidsal_core.models.registry import build_model
from vidsal_core.models.train import (
    TRAINING_THREADS, RandomClips, TaskDataset, TrainConfig, TrainResult, torch_threads, train_model,
)
from vidsal_study.profiles import corpus_config
from vidsal_study.profiles import profile_section
from vidsal_core.data.corpus import Corpus, CorpusConfig, build_corpus

LOGGER = logging.getLogger(__name__)

#: Keys of a run's ``data`` mapping and their defaults.
DATA_DEFAULTS: dict[str, Any] = {
    "corpus": "corpus",
    "actions": None,
    "clip_length": 30,
    "step": 1,
    "size": None,
    "train_clips_per_video": 1,
    "evaluation_offset": "center",
    "title_frames": None,
    "clip_region": "anywhere",
    "train_persons": None,
    "in_view": DEFAULT_IN_VIEW,
}
#: Keys of :data:`DATA_DEFAULTS` added after checkpoints existed: a run's spec names them only when they
#: differ from their default, so that the runs trained before keep their spec (and their checkpoints).
LATE_DATA_KEYS = ("in_view",)
#: Keys of a run.
RUN_KEYS = ("model", "config", "data", "training")
#: Keys of the ``models:`` section.
SECTION_KEYS = ("training", "runs", "replicates")
#: Between a run's name and its replicate's seed: ``frame_lstm_binary-seed1``.
REPLICATE_MARK = "-seed"


def models_section(profile: str | Path) -> dict[str, Any]:
    """The ``models:`` section of a profile (``params/<profile>.yaml``), checked.

    Parameters
    ----------
    profile : str or Path
        ``"quick"``, ``"default"``, ``"full"`` or a path to a YAML file.
    """

    section = profile_section(profile, "models")
    unknown = sorted(set(section) - set(SECTION_KEYS))
    if unknown:
        raise ConfigError(f"profile {profile} models: unknown key(s) {unknown}; expected some of {list(SECTION_KEYS)}")
    if not isinstance(section.get("runs"), dict) or not section["runs"]:
        raise ConfigError(f"profile {profile} models.runs: expected a mapping of run names to runs")
    _replicates(section, profile)
    return section


def _replicates(section: Mapping[str, Any], profile: Any) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The ``models.replicates`` section, checked: (runs, seeds); ``((), ())`` when absent."""
    replicates = section.get("replicates")
    if replicates is None:
        return (), ()
    where = f"profile {profile} models.replicates"
    if not isinstance(replicates, Mapping) or set(replicates) != {"runs", "seeds"}:
        raise ConfigError(f"{where}: expected a mapping with exactly 'runs' and 'seeds', got {replicates!r}")
    runs, seeds = replicates["runs"], replicates["seeds"]
    if not isinstance(runs, list) or not all(isinstance(name, str) for name in runs):
        raise ConfigError(f"{where}.runs: expected a list of run names, got {runs!r}")
    unknown = sorted(set(runs) - set(section["runs"]))
    if unknown:
        raise ConfigError(f"{where}.runs: {unknown} are not runs of the profile (those are {sorted(section['runs'])})")
    if (not isinstance(seeds, list) or not all(isinstance(seed, int) and not isinstance(seed, bool) for seed in seeds)
            or len(set(seeds)) != len(seeds)):
        raise ConfigError(f"{where}.seeds: expected a list of distinct integers, got {seeds!r}")
    for name in runs:
        base_seed = TrainConfig.from_mapping({**dict(section.get("training") or {}),
                                              **dict((section["runs"][name] or {}).get("training") or {})},
                                             f"{where} ({name})").seed
        if base_seed in seeds:
            raise ConfigError(f"{where}.seeds: {base_seed} is run {name}'s own training seed; "
                              "a replicate needs another")
    return tuple(runs), tuple(seeds)


def replicate_name(run: str, seed: int) -> str:
    """The name of ``run`` trained again with training seed ``seed``.

    >>> replicate_name("frame_lstm_binary", 2)
    'frame_lstm_binary-seed2'
    """
    return f"{run}{REPLICATE_MARK}{int(seed)}"


def replicate_of(name: str) -> tuple[str, int | None]:
    """``(run, seed)`` of a replicate's name; ``(name, None)`` for a run that is no replicate.

    >>> replicate_of("ica_lstm_binary-seed1"), replicate_of("ica_lstm_binary")
    (('ica_lstm_binary', 1), ('ica_lstm_binary', None))
    """
    base, mark, seed = name.rpartition(REPLICATE_MARK)
    if mark and base and seed.isdigit():
        return base, int(seed)
    return name, None


def training_runs(profile: str | Path, run: str, section: Mapping[str, Any] | None = None) -> list[str]:
    """``run`` and its replicates (``models.replicates``), the run first: every training run of one recipe."""
    section = section if section is not None else models_section(profile)
    if run not in section["runs"]:
        raise ConfigError(f"run={run!r}: profile {profile} has runs {sorted(section['runs'])}")
    runs, seeds = _replicates(section, profile)
    return [run] + ([replicate_name(run, seed) for seed in seeds] if run in runs else [])


def profile_name(profile: str | Path) -> str:
    """Folder name of a profile's checkpoints: its name, or its file's stem."""
    return Path(str(profile)).stem


@dataclass(frozen=True)
class Run:
    """One run of a profile: a name, its data sampling and its :class:`RunSpec`.

    Attributes
    ----------
    name : str
        The run's name in the profile.
    profile : str
        The profile's name (checkpoint folder).
    corpus_section : str
        The profile section of the corpus it trains on.
    data : dict
        Clip sampling (see :data:`DATA_DEFAULTS`).
    spec : RunSpec
        Everything that determines the trained weights.
    """

    name: str
    profile: str
    corpus_section: str
    data: Mapping[str, Any]
    spec: RunSpec

    @property
    def training(self) -> TrainConfig:
        """The run's training configuration."""
        return TrainConfig.from_mapping(self.spec.training, f"run {self.name}")


def task_classes(actions: Sequence[str] | None, corpus_actions: Sequence[str]) -> tuple[str, ...]:
    """The task's classes in KTH order: ``actions``, or every action of the corpus."""
    chosen = corpus_actions if actions is None else actions
    unknown = sorted(set(chosen) - set(corpus_actions))
    if unknown:
        raise ConfigError(f"actions {list(chosen)}: {unknown} not in the corpus's actions {list(corpus_actions)}")
    return tuple(action for action in KTH_ACTIONS if action in chosen)


def resolved_model_config(model: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The model's full configuration (defaults filled in), built without allocating weights."""
    with torch.device("meta"):
        return dict(build_model(model, config).config)


def data_settings(values: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """A run's ``data`` mapping with defaults, unknown keys refused."""
    values = dict(values or {})
    unknown = sorted(set(values) - set(DATA_DEFAULTS))
    if unknown:
        raise ConfigError(f"{where}.data: unknown key(s) {unknown}; expected some of {sorted(DATA_DEFAULTS)}")
    data = {**DATA_DEFAULTS, **values}
    if data["clip_region"] not in RUN_CLIP_REGIONS:
        raise ConfigError(f"{where}.data.clip_region={data['clip_region']!r}: expected one of {list(RUN_CLIP_REGIONS)}")
    try:
        data["in_view"] = check_in_view(data["in_view"])
    except ConfigError as error:
        raise ConfigError(f"{where}.data.{error}") from None
    if data["clip_region"] == "inside" and data["evaluation_offset"] != "acting":
        raise ConfigError(f"{where}.data: clip_region 'inside' needs evaluation_offset 'acting' (the test clip centred "
                          f"on the longest run in view, which holds it), not {data['evaluation_offset']!r}")
    return data


def spec_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A run's ``data`` as its :class:`RunSpec` records it: :data:`LATE_DATA_KEYS` only where not at their default."""
    return {key: value for key, value in data.items()
            if key not in LATE_DATA_KEYS or value != DATA_DEFAULTS[key]}


def model_settings(run: Mapping[str, Any], data: Mapping[str, Any], classes: Sequence[str]) -> dict[str, Any]:
    """The run's model config, with the class count, clip length and frame size the data imply."""
    config = dict(run.get("config") or {})
    config.setdefault("num_classes", len(classes))
    if run["model"] == "c3d":
        config.setdefault("clip_length", data["clip_length"])
    if data["size"] is not None:
        config.setdefault("input_size", list(data["size"]))
    return config


def run_settings(profile: str | Path, name: str, section: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A run's model, full model config, classes, data sampling, training and corpus config.

    Everything :func:`build_run` needs except the corpus hash, so it works
    before the corpus (or its renderer) exists, e.g. for benchmarks.

    Parameters
    ----------
    profile : str or Path
        The profile.
    name : str
        The run's name under ``models.runs``.
    section : mapping, optional
        The profile's ``models`` section, if already read.
    """

    section = section if section is not None else models_section(profile)
    runs = section["runs"]
    base, seed = replicate_of(name)
    if name not in runs and not (seed is not None and name in training_runs(profile, base, section)[1:]):
        replicated, seeds = _replicates(section, profile)
        raise ConfigError(f"run={name!r}: profile {profile} has runs {sorted(runs)}"
                          + (f" and replicates of {list(replicated)} with seeds {list(seeds)}" if replicated else ""))
    if name not in runs:
        base_run = dict(runs[base] or {})
        runs = {name: {**base_run, "training": {**dict(base_run.get("training") or {}), "seed": seed}}}
    run, where = dict(runs[name] or {}), f"profile {profile} models.runs.{name}"
    unknown = sorted(set(run) - set(RUN_KEYS))
    if unknown or "model" not in run:
        raise ConfigError(f"{where}: needs 'model' and takes {list(RUN_KEYS)}; unknown {unknown}")
    data = data_settings(run.get("data"), where)
    corpus = corpus_config(profile, data["corpus"])
    classes = task_classes(data["actions"], corpus.actions)
    model_config = resolved_model_config(run["model"], model_settings(run, data, classes))
    if data["size"] is None and model_config.get("input_size") is not None:
        data["size"] = list(model_config["input_size"])
    training = TrainConfig.from_mapping({**dict(section.get("training") or {}), **dict(run.get("training") or {})}, where)
    return {"model": run["model"], "model_config": model_config, "classes": classes, "data": data,
            "training": training, "corpus_config": corpus}


def build_run(profile: str | Path, name: str, section: Mapping[str, Any] | None = None) -> Run:
    """The run ``name`` of ``profile``, with its full :class:`RunSpec` (corpus hash included).

    Parameters
    ----------
    profile : str or Path
        The profile.
    name : str
        The run's name under ``models.runs``.
    section : mapping, optional
        The profile's ``models`` section, if already read.
    """
    settings = run_settings(profile, name, section)
    spec = RunSpec(
        model=settings["model"], model_config=settings["model_config"], classes=settings["classes"],
        data=spec_data(settings["data"]), training=settings["training"].to_dict(),
        corpus_hash=settings["corpus_config"].config_hash(),
    )
    return Run(name=name, profile=profile_name(profile), corpus_section=settings["data"]["corpus"],
               data=settings["data"], spec=spec)


def profile_runs(profile: str | Path, only: Sequence[str] | None = None) -> list[Run]:
    """Every run of ``profile`` and its replicates (or those named in ``only``), in the profile's order."""
    section = models_section(profile)
    names = (list(only) if only else
             [name for run in section["runs"] for name in training_runs(profile, run, section)])
    return [build_run(profile, name, section) for name in names]


class CachedVideoDataset(VideoDataset):
    """A dataset whose items are kept in memory after their first reading.

    Training reads every clip once per epoch; decoding a compressed video each
    time costs as much as the model's own forward and backward pass on a CPU.
    A 30-frame 60×80 clip takes 0.6 MB, so a default-profile split fits easily.

    Parameters
    ----------
    dataset : VideoDataset
        The dataset to cache.
    """

    def __init__(self, dataset: VideoDataset) -> None:
        self.dataset = dataset
        self.classes = tuple(dataset.classes)
        self._items: dict[int, VideoItem] = {}

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> VideoItem:
        if index not in self._items:
            self._items[index] = self.dataset[index]
        return self._items[index]

    def labels(self) -> list[int]:
        return self.dataset.labels()


def run_clip_options(run: Run) -> dict[str, Any]:
    """The keyword arguments of :meth:`~vidsal_core.data.corpus.Corpus.dataset` that cut ``run``'s evaluation clips.

    ``clip_length``, ``step``, ``offset`` (``data.evaluation_offset``), ``size``,
    ``title_frames``, ``in_view`` and ``inside`` (True for ``clip_region:
    inside``: the videos without a run in view as long as the clip are left out).
    Every place that cuts a run's test clips uses them, so that all cut the same.
    """
    data = run.data
    return {"clip_length": data["clip_length"], "step": data["step"], "offset": data["evaluation_offset"],
            "size": None if data["size"] is None else tuple(data["size"]), "title_frames": data["title_frames"],
            "in_view": data.get("in_view", DEFAULT_IN_VIEW), "inside": data.get("clip_region") == "inside"}


def run_region_options(run: Run) -> dict[str, Any]:
    """``in_view`` and ``inside`` of :func:`run_clip_options` where not at their defaults, else empty.

    For descriptors that key cached results (sweeps): those of the runs with
    the defaults keep the keys they had before these options existed.
    """
    options = run_clip_options(run)
    return {key: options[key] for key, default in (("in_view", DEFAULT_IN_VIEW), ("inside", False))
            if options[key] != default}


def _check_clips_fit(run: Run, n_frames: int) -> None:
    """Refuse clips that span more frames than the corpus's videos have, or an evaluation offset past the end."""
    data = run.data
    span = (data["clip_length"] - 1) * data["step"] + 1
    offset = data["evaluation_offset"]
    last = span if offset in ("center", "acting") else (offset + span if isinstance(offset, int) and offset >= 0 else None)
    if last is None or last > n_frames:
        raise ConfigError(
            f"run {run.name}: clips of clip_length={data['clip_length']}, step={data['step']} "
            f"(span {span}) at evaluation_offset={offset!r} do not fit videos of {n_frames} frames"
        )


def run_dataset(run: Run, corpus: Any, split: str, cache: bool = False, with_truth: bool = False) -> VideoDataset:
    """The clips of ``split`` for ``run`` from a built corpus, labelled in the task's classes.

    Training clips are cut at fresh seeded random offsets every epoch,
    ``train_clips_per_video`` of them per video (:class:`RandomClips`),
    inside the video's acting ranges when ``clip_region`` is ``"acting"``
    (KTH's practice) or ``"inside"``, or anywhere; validation and test clips
    once per video as :func:`run_clip_options` cuts them (``evaluation_offset``
    ``"acting"``: centred on the longest acting range).

    With ``clip_region: inside`` every split keeps only the videos with an
    acting range (visibility >= ``data.in_view``) as long as the clip's span;
    every kept video has such a range, so :func:`~vidsal_core.data.sequences.acting_offsets`
    gives only the offsets wholly inside one, and its fallback (the clips
    holding the most acting frames) never applies.

    Parameters
    ----------
    run : Run
        The run.
    corpus : Corpus
        A built corpus (:func:`vidsal_core.data.corpus.build_corpus`).
    split : {"train", "validation", "test"}
        KTH's split by person.
    cache : bool, default False
        Keep videos in memory after their first reading (for training).
    with_truth : bool, default False
        Attach SynthKTH's truth (part maps, visibility, limb motion) to each
        validation or test clip (``item.truth``).
    """
    data = run.data
    if data["clip_region"] not in RUN_CLIP_REGIONS:
        raise ConfigError(f"run {run.name}: data.clip_region={data['clip_region']!r}: expected one of {list(RUN_CLIP_REGIONS)}")
    _check_clips_fit(run, corpus.config.n_frames)
    whole = split == "train"
    options = run_clip_options(run)
    if whole:
        dataset = corpus.dataset(split=split, actions=list(run.spec.classes), size=options["size"],
                                 title_frames=options["title_frames"], in_view=options["in_view"])
        if options["inside"]:
            dataset.entries = corpus.inside_entries(dataset.entries, clip_span(data["clip_length"], data["step"]),
                                                    options["in_view"])
    else:
        dataset = corpus.dataset(split=split, actions=list(run.spec.classes), with_truth=with_truth, **options)
    if whole and data["train_persons"] is not None:  # a learning curve over persons (vidsal_study.chapters.models.diagnosis)
        chosen = {int(person) for person in data["train_persons"]}
        available = {int(entry["person"]) for entry in dataset.entries}
        if not chosen <= available:
            raise ConfigError(f"run {run.name}: data.train_persons {sorted(chosen - available)} are not training "
                              f"persons of corpus {corpus.config_hash} (those are {sorted(available)})")
        dataset.entries = [entry for entry in dataset.entries if int(entry["person"]) in chosen]
    if len(dataset) == 0:
        raise ConfigError(f"run {run.name}: the {split} split of corpus {corpus.config_hash} has no videos of {list(run.spec.classes)}"
                          + (f" with a run of {clip_span(data['clip_length'], data['step'])} frames in view "
                             f"(visibility >= {options['in_view']})" if options["inside"] else ""))
    dataset = TaskDataset(dataset, run.spec.classes)
    if cache:
        dataset = CachedVideoDataset(dataset)
    if whole:
        # "inside" draws as "acting": every kept video has a range that holds the clip (see above)
        region = "acting" if data["clip_region"] == "inside" else data["clip_region"]
        dataset = RandomClips(dataset, data["clip_length"], data["step"], data["train_clips_per_video"], run.training.seed,
                              region=region)
    return dataset


@dataclass(frozen=True)
class CheckpointPaths:
    """Where a run's checkpoints live: the trained model and its untrained control."""

    trained: Path
    untrained: Path


def checkpoint_paths(run: Run, directory: Path | str = CHECKPOINT_DIR) -> CheckpointPaths:
    """``<directory>/<profile>/<run>.pt`` and ``<run>-untrained.pt``."""
    folder = Path(directory) / run.profile
    return CheckpointPaths(trained=folder / f"{run.name}.pt", untrained=folder / f"{run.name}-untrained.pt")


@dataclass
class TrainedRun:
    """A trained (or reused) model of a run.

    Attributes
    ----------
    run : Run
        The run.
    model : nn.Module
        The trained model, eval mode.
    reused : bool
        Whether the checkpoint was reused rather than trained now.
    entry : dict
        Its manifest entry (training curves under ``training``).
    """

    run: Run
    model: nn.Module
    reused: bool
    entry: dict[str, Any]


def train_or_load(
    run: Run,
    train: VideoDataset | None,
    validation: VideoDataset | None,
    directory: Path | str = CHECKPOINT_DIR,
    on_mismatch: str = "raise",
    progress: bool = True,
    force: bool = False,
    threads: int | None = TRAINING_THREADS,
) -> TrainedRun:
    """Reuse a matching checkpoint of ``run``; otherwise train and save it with its untrained control.

    Parameters
    ----------
    run : Run
        What to train.
    train, validation : VideoDataset or None
        The data (only read when training is needed); labels index ``run.spec.classes``.
    directory : Path or str
        Checkpoint folder holding the manifest.
    on_mismatch : {"raise", "retrain"}, default "raise"
        What to do with an existing checkpoint trained with another spec.
    progress : bool, default True
        Show progress bars.
    force : bool, default False
        Train even when a matching checkpoint exists.
    threads : int or None, default :data:`TRAINING_THREADS` (1)
        Torch threads while training (restored after), so that a checkpoint
        does not depend on the machine's cores. None keeps torch's setting.
    """
    if on_mismatch not in ("raise", "retrain"):
        raise ConfigError(f"on_mismatch={on_mismatch!r}: expected 'raise' or 'retrain'")
    paths = checkpoint_paths(run, directory)
    if not force and manifest_entry(paths.trained, directory) is not None:
        try:
            model, _ = load_checkpoint(paths.trained, run.spec, directory)
            return TrainedRun(run, model, True, manifest_entry(paths.trained, directory))
        except CheckpointError as error:
            if on_mismatch == "raise":
                raise
            LOGGER.warning("retraining %s: %s", run.name, error)
    if train is None or validation is None:
        raise CheckpointError(f"run {run.name}: no matching checkpoint at {paths.trained} and no data given to train it")
    model = build_model(run.spec.model, run.spec.model_config, seed=run.training.seed)
    save_checkpoint(model, run.spec, paths.untrained, directory, {"role": "untrained", "run": run.name})
    with torch_threads(threads):  # saved inside, so that the manifest records the thread count it trained at
        result: TrainResult = train_model(model, train, validation, run.training, progress)
        entry = save_checkpoint(model, run.spec, paths.trained, directory,
                                {"role": "trained", "run": run.name, "training": result.to_dict()})
    return TrainedRun(run, model, False, entry)


def load_trained(
    profile: str | Path, name: str, untrained: bool = False, directory: Path | str = CHECKPOINT_DIR,
) -> nn.Module:
    """The trained model of run ``name`` of ``profile`` (or its untrained control), in eval mode.

    Raises
    ------
    CheckpointError
        If there is no checkpoint, or it was trained with another configuration
        or corpus than the profile now asks for.
    """
    run = build_run(profile, name)
    paths = checkpoint_paths(run, directory)
    model, _ = load_checkpoint(paths.untrained if untrained else paths.trained, run.spec, directory)
    return model



def trained_model(profile: str | Path, name: str, untrained: bool = False, progress: bool = False) -> nn.Module:
    """Run ``name``'s trained model (or its untrained control) in eval mode, training the run first when its
    checkpoint is missing or was trained with another configuration (as ``models.cli train --runs <name>`` would).

    The one call that gives a chapter its model::

        from vidsal_study import trained_model
        model = trained_model("quick", "frame_lstm_binary")
    """
    try:
        return load_trained(profile, name, untrained=untrained)
    except CheckpointError as error:
        LOGGER.info("training %s of %s: %s", name, profile, str(error).splitlines()[0])
    run = build_run(profile, name)
    corpus = build_corpus(corpus_config(profile, run.corpus_section), progress=progress)
    train_or_load(run, run_dataset(run, corpus, "train", cache=True), run_dataset(run, corpus, "validation", cache=True),
                  on_mismatch="retrain", progress=progress)
    return load_trained(profile, name, untrained=untrained)


def test_clip(profile: str | Path, name: str, index: int = 0, split: str = "test", truth: bool = False) -> VideoItem:
    """Clip ``index`` of run ``name``'s ``split``, cut as the run is evaluated (:func:`run_dataset`), with its
    label, its metadata (``meta``: person, action, scenario, ...) and, with ``truth=True``, SynthKTH's truth
    (``item.truth``: part maps, visibility, limb motion).

    The one call that gives a chapter its clip::

        from vidsal_study import test_clip
        item = test_clip("quick", "frame_lstm_binary")   # item.video: (T, C, H, W) in [0, 1]
    """
    run = build_run(profile, name)
    if split == "train":
        raise ConfigError("split='train': training clips are cut at random each epoch; ask for 'validation' or 'test'")
    dataset = run_dataset(run, build_corpus(corpus_config(profile, run.corpus_section), progress=False), split,
                          with_truth=truth)
    if isinstance(index, bool) or not isinstance(index, int) or not -len(dataset) <= index < len(dataset):
        raise ConfigError(f"index={index!r}: run {name!r} of {profile} has {len(dataset)} {split} clips")
    return dataset[index]
test_clip.__test__ = False  # not a test, for pytest

def run_summary(run: Run) -> dict[str, Any]:
    """A one-line description of a run's task, for tables."""
    data = run.data
    task = "binary" if len(run.spec.classes) == 2 else f"{len(run.spec.classes)}-class"
    return {
        "run": run.name, "model": run.spec.model, "task": task,
        "clips": f"{data['clip_length']}f step {data['step']} from {run.corpus_section}" + (
            f", inside runs in view (visibility >= {data.get('in_view', DEFAULT_IN_VIEW):g})"
            if data.get("clip_region") == "inside" else ""),
    }


def training_cost(run: Run, corpus: Any) -> float:
    """A rough relative cost of training ``run`` (epochs x clips x frames x pixels, x8 for 3-D convolutions).

    Only orders the runs of :func:`train_runs` (longest first, so that the
    workers finish together); it changes no result.
    """
    training, data = run.training, run.data
    videos = len(corpus.select(split="train", actions=list(run.spec.classes)))
    height, width = data["size"]
    factor = 8.0 if run.spec.model == "c3d" else 1.0
    return factor * training.max_epochs * videos * data["train_clips_per_video"] * data["clip_length"] * height * width


def _train_in_worker(run: Run, corpus_directory: str, directory: str, on_mismatch: str, force: bool) -> float:
    """Train one run in a worker process (:func:`train_runs`); returns its training seconds."""
    study_process()

    corpus = Corpus(corpus_directory)
    trained = train_or_load(run, run_dataset(run, corpus, "train", cache=True),
                            run_dataset(run, corpus, "validation", cache=True), directory,
                            on_mismatch=on_mismatch, progress=False, force=force)
    return float(trained.entry.get("training", {}).get("seconds", 0.0))


def needs_training(run: Run, directory: Path | str = CHECKPOINT_DIR) -> bool:
    """Whether ``run`` has no checkpoint that matches its spec (so :func:`train_or_load` would train it)."""
    paths = checkpoint_paths(run, directory)
    if manifest_entry(paths.trained, directory) is None:
        return True
    try:
        load_checkpoint(paths.trained, run.spec, directory)
    except CheckpointError:
        return True
    return False


def train_runs(
    runs: Sequence[Run],
    corpora: Mapping[str, Any],
    workers: int = 1,
    directory: Path | str = CHECKPOINT_DIR,
    on_mismatch: str = "retrain",
    progress: bool = False,
    force: bool = False,
) -> dict[str, TrainedRun]:
    """Train the runs that have no matching checkpoint, ``workers`` at a time, and load them all.

    Every training runs at :data:`TRAINING_THREADS` torch threads (as every
    :func:`train_or_load` does), in this process (``workers=1``) or in a worker process of its own (spawned, one run
    per process at a time, longest first by :func:`training_cost`). A run's
    checkpoint therefore does not depend on ``workers``: on a CPU training is
    deterministic for a given thread count, and the thread count is fixed.
    The manifest is written under a lock
    (:func:`~vidsal_core.models.checkpoints.manifest_lock`).

    Parameters
    ----------
    runs : sequence of Run
        The runs, e.g. :func:`profile_runs`.
    corpora : mapping
        ``corpus_section -> Corpus`` for every run's corpus (built already, so
        that no two workers build one at once).
    workers : int, default 1
        Runs trained side by side; on a CPU at most one per core pays.
    directory, on_mismatch, progress, force
        As for :func:`train_or_load` (``progress`` only for ``workers=1``;
        ``force`` trains every run again).

    Returns
    -------
    dict of str to TrainedRun
        Keyed by run name, in the order of ``runs``; ``reused`` says whether a
        run was trained by this call.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers={workers!r}: expected a positive integer")
    missing = [run.corpus_section for run in runs if run.corpus_section not in corpora]
    if missing:
        raise ConfigError(f"train_runs: no corpus given for section(s) {sorted(set(missing))}")
    pending = [run for run in runs if force or needs_training(run, directory)]
    if workers > 1 and len(pending) > 1:
        import concurrent.futures
        import multiprocessing

        order = sorted(pending, key=lambda run: -training_cost(run, corpora[run.corpus_section]))
        with concurrent.futures.ProcessPoolExecutor(min(workers, len(order)),
                                                    mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {run.name: pool.submit(_train_in_worker, run, str(corpora[run.corpus_section].directory),
                                             str(directory), on_mismatch, force) for run in order}
            for name, future in futures.items():
                try:
                    future.result()
                except Exception as error:
                    raise CheckpointError(f"run {name}: training in a worker process failed: {error}") from error
    else:
        for run in pending:
            corpus = corpora[run.corpus_section]
            train_or_load(run, run_dataset(run, corpus, "train", cache=True),
                          run_dataset(run, corpus, "validation", cache=True), directory,
                          on_mismatch=on_mismatch, progress=progress, force=force)
    trained_now = {run.name for run in pending}
    result = {}
    for run in runs:
        loaded = train_or_load(run, None, None, directory, on_mismatch="raise", progress=False)
        result[run.name] = TrainedRun(run, loaded.model, run.name not in trained_now, loaded.entry)
    return result
