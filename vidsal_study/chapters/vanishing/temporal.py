"""The vanishing-saliency study's models, clips and shares (its measures are :mod:`vidsal_core.metrics.temporal`).

:func:`trained_and_untrained` and :func:`window_variant` give the study's models, :func:`clip_chunks` its test
clips in chunks, :func:`chapter_shares` the shares of one model over them (a resumable sweep).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.metrics.temporal import (  # noqa: F401 (the study's names for them)
    METHODS,
    SHARE_FLOOR,
    _check_batch_size,
    _check_method,
    edge_frames,
    edge_share_ratio,
    frame_saliency_mass,
    log_share_slope,
    naive_saliency_shares,
    saliency_share,
    saliency_shares,
    vanishing_index,
)
from vidsal_study.profiles import corpus_config
from vidsal_core.errors import CheckpointError
from vidsal_study.runs import build_run, load_trained
from vidsal_core.models.lstm import check_window
from vidsal_study.runs import models_section
from vidsal_core.data.corpus import CorpusConfig, build_corpus
from vidsal_core.models.checkpoints import load_checkpoint
from vidsal_study.runs import checkpoint_paths, run_dataset, train_or_load
from vidsal_study.profiles import profile_section
from vidsal_core.statistics import Estimate, mean_interval
from vidsal_core.models.checkpoints import manifest_entry
from vidsal_study.sweeps import canonical_json
from vidsal_study.runs import run_region_options
from vidsal_core.data.corpus import DATA_DIR, Corpus, SynthKTHDataset
from vidsal_study.sweeps import SweepItem, run_sweep, sweep_directory


# --- the chapter's models and videos ----------------------------------------------------------

def trained_and_untrained(profile: Any, run_name: str, train_if_missing: bool = True,
                          progress: bool = False) -> tuple[nn.Module, nn.Module]:
    """The trained model of a profile's run and its untrained control, training the run first if needed.

    Loads with :func:`vidsal_study.runs.load_trained`; when a checkpoint is
    missing or was trained with another configuration, trains the run with
    :func:`vidsal_study.runs.train_or_load`, as
    ``python -m vidsal_study.chapters.models.cli train --runs <run>`` would.
    """

    try:
        return load_trained(profile, run_name), load_trained(profile, run_name, untrained=True)
    except CheckpointError:
        if not train_if_missing:
            raise
    run = build_run(profile, run_name)
    return _train_or_load(profile, run, progress)


def window_variant(profile: Any, base_run: str, window: int | str, name: str) -> Any:
    """A run like ``base_run`` of the profile (an ICA-LSTM) with another attention ``window``.

    The variant keeps every other setting, data and training included, and is
    named ``name`` (its checkpoints: ``data/checkpoints/<profile>/<name>.pt``).
    """

    section = models_section(profile)
    if base_run not in section["runs"]:
        raise ConfigError(f"base_run={base_run!r}: profile {profile} has runs {sorted(section['runs'])}")
    base = dict(section["runs"][base_run])
    if base.get("model") != "ica_lstm":
        raise ConfigError(f"base_run={base_run!r}: is a {base.get('model')}, not an ica_lstm")
    if not isinstance(name, str) or not name or name in section["runs"]:
        raise ConfigError(f"name={name!r}: expected a new run name, not one of {sorted(section['runs'])}")
    base["config"] = {**dict(base.get("config") or {}), "window": check_window(window)}
    variant_section = {"training": section.get("training"), "runs": {name: base}}
    return build_run(profile, name, variant_section)


def chapter_window_variant(profile: Any, settings: Mapping[str, Any] | None = None) -> Any:
    """The fixed-window ICA-LSTM the vanishing chapter trains (its ``window_variant``), or None when it has none.

    ``settings`` are the chapter's settings (:func:`chapter_settings`, after
    its parameters); by default the profile's. The run is named
    ``<base_run>_window<window>``. The models chapter trains it beside the
    profile's runs, so that the vanishing chapter finds it trained.
    """
    variant = (chapter_settings(profile) if settings is None else settings)["window_variant"]
    if variant is None:
        return None
    return window_variant(profile, variant["base_run"], variant["window"],
                          f"{variant['base_run']}_window{variant['window']}")


def trained_variant(profile: Any, run: Any, progress: bool = False) -> tuple[nn.Module, nn.Module]:
    """Trained and untrained models of a run built outside the profile (:func:`window_variant`)."""
    return _train_or_load(profile, run, progress)


def _train_or_load(profile: Any, run: Any, progress: bool) -> tuple[nn.Module, nn.Module]:

    paths = checkpoint_paths(run)
    try:
        trained = train_or_load(run, None, None, progress=progress).model
    except CheckpointError:  # missing or stale: train it (the models' own functions)
        corpus = build_corpus(corpus_config(profile, run.corpus_section), progress=progress)
        trained = train_or_load(run, run_dataset(run, corpus, "train", cache=True),
                                run_dataset(run, corpus, "validation", cache=True),
                                on_mismatch="retrain", progress=progress).model
    untrained, _ = load_checkpoint(paths.untrained, run.spec)
    return trained.eval(), untrained.eval()


def spread_entries(entries: Sequence[dict[str, Any]], per_person_action: int | None) -> list[dict[str, Any]]:
    """Up to ``per_person_action`` videos of each (person, action), their scenarios cycled.

    The first video of the ``i``-th (person, action) pair (in sorted order)
    comes from its ``i``-th scenario (cyclically), so a small selection still
    covers every scenario. ``None`` keeps every entry.
    """
    if per_person_action is None:
        return list(entries)
    if isinstance(per_person_action, bool) or not isinstance(per_person_action, int) or per_person_action < 1:
        raise ConfigError(f"per_person_action={per_person_action!r}: expected a positive integer or None")
    cells: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for entry in entries:
        cells.setdefault((entry["person"], entry["action"]), []).append(entry)
    chosen = []
    for position, key in enumerate(sorted(cells, key=str)):
        videos = sorted(cells[key], key=lambda entry: (entry["scenario"], entry.get("seed", 0), entry["key"]))
        start = position % len(videos)
        rotated = videos[start:] + videos[:start]
        chosen.extend(rotated[:per_person_action])
    return sorted(chosen, key=lambda entry: entry["key"])


# --- the chapter's settings and estimates -------------------------------------------------------

#: Keys of a profile's ``vanishing_chapter`` section.
SETTING_KEYS = ("pairs", "methods", "ig_steps", "videos_per_person_action", "fraction", "visible_threshold",
                "window_variant", "batch_size")
#: Optional keys and their defaults: ``ig_batch_size`` bounds Integrated Gradients' memory
#: ((video, path point) pairs per forward pass; None = a whole chunk's).
#: ``clip_offset`` cuts the test clips: ``"center"`` (the video's centre, empty frames and all: the
#: chapter's own experiment), ``"acting"`` (as the models are evaluated) or a frame.
OPTIONAL_SETTINGS: dict[str, Any] = {"ig_batch_size": None, "clip_offset": "center"}


def chapter_settings(profile: Any, section_name: str = "vanishing_chapter") -> dict[str, Any]:
    """The ``vanishing_chapter`` section of a profile, checked; ``videos_per_person_action`` one per pair."""

    section = dict(profile_section(profile, section_name))
    where = f"profile {profile} {section_name}"
    missing = [key for key in SETTING_KEYS if key not in section]
    unknown = sorted(set(section) - set(SETTING_KEYS) - set(OPTIONAL_SETTINGS))
    section = {**OPTIONAL_SETTINGS, **section}
    if missing or unknown:
        raise ConfigError(f"{where}: missing {missing}, unknown {unknown}; expected {list(SETTING_KEYS)}")
    pairs = section["pairs"]
    if not isinstance(pairs, list) or not pairs or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise ConfigError(f"{where}.pairs={pairs!r}: expected a list of [LSTM run, ICA-LSTM run] pairs")
    for method in section["methods"]:
        _check_method(method)
    counts = section["videos_per_person_action"]
    counts = counts if isinstance(counts, list) else [counts] * len(pairs)
    if len(counts) != len(pairs):
        raise ConfigError(f"{where}.videos_per_person_action={counts!r}: "
                          f"one number per pair ({len(pairs)}) or one for all")
    section["videos_per_person_action"] = counts
    edge_frames(30, section["fraction"])
    _check_batch_size(section["batch_size"])
    if section["ig_batch_size"] is not None:
        _check_batch_size(section["ig_batch_size"])
    variant = section["window_variant"]
    if variant is not None and (not isinstance(variant, dict) or sorted(variant) != ["base_run", "window"]):
        raise ConfigError(f"{where}.window_variant={variant!r}: expected {{base_run: ..., window: ...}} or null")
    return section


def interval_or_nan(values: Any, groups: Any = None, resamples: int = 2000,
                    bounds: tuple[float, float] | None = None) -> Any:
    """:func:`~vidsal_core.statistics.mean_interval`, or an all-NaN estimate when no value is finite.

    ``bounds`` is the range of a bounded quantity (a share: ``(0, 1)``), for
    the interval that stays inside it; None for an unbounded one.
    """

    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).any():
        return Estimate(float("nan"), float("nan"), float("nan"), 0, 0)
    return mean_interval(values, groups, resamples=resamples, bounds=bounds)


# --- the chapter's sweep: shares of chunks of clips, resumable, in this process or on Dask -------------

#: Changes when what :func:`shares_work` computes changes (a new sweep directory).
SHARES_VERSION = 1

_CHAPTER_MODELS: dict[str, nn.Module] = {}


def model_source(profile: Any, run_name: str, weights: str = "trained", window: int | str | None = None,
                 base_run: str | None = None) -> dict[str, Any]:
    """What one of the chapter's models is, JSON-able: a profile run, or a :func:`window_variant` of one.

    The trained checkpoint's sha256 is part of it, so a retrained model is a new sweep item.
    """

    if weights not in ("trained", "untrained"):
        raise ConfigError(f"weights={weights!r}: choose trained or untrained")
    run = build_run(profile, run_name) if window is None else window_variant(profile, base_run, window, run_name)
    entry = manifest_entry(checkpoint_paths(run).trained) or {}
    return {"profile": str(profile), "run": run_name, "weights": weights, "window": window, "base_run": base_run,
            "sha256": entry.get("sha256", "")}


def source_model(source: dict[str, Any]) -> nn.Module:
    """The model a :func:`model_source` names, loaded once per process (a GPU's if there is one)."""

    key = canonical_json(source)
    if key not in _CHAPTER_MODELS:
        current = model_source(source["profile"], source["run"], source["weights"], source["window"],
                               source["base_run"])
        if current["sha256"] != source["sha256"]:
            from vidsal_core.errors import CheckpointError

            raise CheckpointError(f"{source['profile']}/{source['run']}: the checkpoint changed since the sweep "
                                  "was planned; run the chapter again")
        if source["window"] is None:
            pair = trained_and_untrained(source["profile"], source["run"], train_if_missing=False)
        else:
            pair = trained_variant(source["profile"], window_variant(source["profile"], source["base_run"],
                                                                     source["window"], source["run"]))
        model = pair[0] if source["weights"] == "trained" else pair[1]
        _CHAPTER_MODELS[key] = model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    return _CHAPTER_MODELS[key]


def clip_chunks(corpus: Any, entries: Sequence[dict[str, Any]], run: Any, size: int,
                offset: str | int | None = "center") -> list[dict[str, Any]]:
    """The run's test clips of ``entries`` in chunks of ``size`` videos, each JSON-able (a sweep item's video).

    ``offset`` cuts the clips (``"center"``, the chapter's default; ``"acting"``; a frame; None: the run's
    ``data.evaluation_offset``). A control run's ``in_view`` and ``inside``
    (:func:`~vidsal_study.runs.run_region_options`) join the chunk's clip; a run with the defaults
    keeps the keys it had, so its cached sweep results stay valid.
    """

    _check_batch_size(size)
    clip = {"classes": list(run.spec.classes), "clip_length": run.data["clip_length"], "step": run.data["step"],
            "offset": run.data["evaluation_offset"] if offset is None else offset, "size": list(run.data["size"]),
            **run_region_options(run)}
    entries = [dict(entry) for entry in entries]
    return [{"corpus": corpus.config_hash, "entries": entries[start:start + size], "clip": clip}
            for start in range(0, len(entries), size)]


def chunk_videos(chunk: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(videos, labels)`` of a :func:`clip_chunks` chunk, read from its corpus."""

    clip = chunk["clip"]
    dataset = SynthKTHDataset(Corpus(DATA_DIR / "synthkth" / chunk["corpus"]), list(chunk["entries"]),
                              actions=clip["classes"], clip_length=clip["clip_length"], step=clip["step"],
                              offset=clip["offset"], size=tuple(clip["size"]),
                              **{key: clip[key] for key in ("in_view", "inside") if key in clip})
    if len(dataset) != len(chunk["entries"]):
        raise ConfigError(f"chunk of corpus {chunk['corpus']}: {len(chunk['entries']) - len(dataset)} of its videos "
                          "hold no clip inside a run in view; choose them with Corpus.inside_entries")
    items = [dataset[i] for i in range(len(dataset))]
    return torch.stack([item.video for item in items]), torch.tensor([item.label for item in items])


def shares_work(video: dict[str, Any], setting: dict[str, Any]) -> dict[str, Any]:
    """Sweep work: the saliency shares of one chunk of clips, one model, one method, for each clip's true class."""
    videos, labels = chunk_videos(video)
    shares = saliency_shares(source_model(setting["model"]), videos, labels, setting["method"], len(labels),
                             setting["ig_steps"] or 16, internal_batch_size=setting["ig_batch_size"])
    return {"shares": shares}


def chapter_shares(source: dict[str, Any], chunks: Sequence[dict[str, Any]], method: str, ig_steps: int,
                   ig_batch_size: int | None = None, progress: bool = False) -> np.ndarray:
    """``(clips, T)`` shares of every chunk's clips under ``source``'s model: a resumable sweep.

    Each (chunk, model, method) is one item saved under ``data/sweeps/vanishing-*``
    as it finishes; the sweep runs where :func:`vidsal_study.sweeps.run_sweep`
    runs it (this process, or the cluster of a chapter's ``dask`` parameter).
    A chunk is computed as one batch, so the shares are those of
    :func:`saliency_shares` with ``batch_size`` equal to the chunk size.
    """

    _check_method(method)
    integrated = method == "integrated_gradients"  # the gradient's items do not depend on IG's settings
    setting = {"model": source, "method": method, "ig_steps": ig_steps if integrated else None,
               "ig_batch_size": ig_batch_size if integrated else None, "version": SHARES_VERSION}
    items = [SweepItem(chunk, setting) for chunk in chunks]
    directory = sweep_directory("vanishing", {"work": "vidsal_study.chapters.vanishing.temporal.shares_work",
                                              "version": SHARES_VERSION})
    results = run_sweep(shares_work, items, directory, progress=progress, description=f"vanishing {method}")
    return np.concatenate([np.asarray(result["shares"], dtype=np.float64) for result in results], axis=0)
