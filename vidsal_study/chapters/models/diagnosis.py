"""Diagnosing a classifier before tuning it: where its errors are, and what more data, pixels or width buy.

The models chapter asks why a model errs before changing it. Two kinds of
evidence come from here:

- **Where the errors are**, from one pass over the test set:
  :func:`prediction_table` keeps, per test clip, the person, scenario, true
  and predicted class and how much of the clip shows the person (SynthKTH's
  ground truth); :func:`accuracy_by` turns it into accuracy per group with a
  95% interval over persons (the book's cluster t interval), and
  :func:`in_view_bins` groups clips by their share of frames in view.
- **What a change buys**, by training variants of one run on a short, shared
  schedule: :func:`variant_run` derives a run with another frame size,
  encoder width (:func:`scaled_encoder`) or fewer training persons, so that
  accuracy against resolution, width and data (a learning curve over
  persons) is measured, not guessed.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.statistics import UNIT, mean_interval
from vidsal_core.models.checkpoints import RunSpec
from vidsal_study.runs import resolved_model_config, spec_data
from vidsal_core.models.train import TrainConfig
from vidsal_study.runs import run_clip_options
from vidsal_core.models.train import TaskDataset

#: Bins of the share of a clip's frames with the person in view (visibility >= 0.5).
IN_VIEW_EDGES = (0.0, 0.5, 0.99, 1.0)
#: Their labels.
IN_VIEW_LABELS = ("under half", "half or more", "every frame")


@torch.no_grad()
def prediction_table(model: nn.Module, dataset: Any, batch_size: int = 16, in_view: float = 0.5) -> pd.DataFrame:
    """One row per test clip: who, where, what it is, what the model says, and how much of it shows the person.

    Parameters
    ----------
    model : nn.Module
        A classifier of ``(B, T, C, H, W)`` videos (put in eval mode).
    dataset : VideoDataset
        Test clips; ``meta`` gives ``person`` and ``scenario`` where known and
        ``item.truth.visibility`` (SynthKTH's ``with_truth=True``) the share
        of the figure inside each frame.
    batch_size : int, default 16
        Clips per forward pass.
    in_view : float, default 0.5
        Least visibility of a frame "in view".

    Returns
    -------
    pandas.DataFrame
        ``index, person, scenario, true, predicted, correct, in_view, first_frame``
        (``in_view``: share of the clip's frames in view; NaN without truth).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from vidsal_core.data.dataset import VideoItem
    >>> class Clips(list):
    ...     classes = ("walking", "running")
    >>> clips = Clips(VideoItem(torch.full((3, 1, 2, 2), float(k)), label=k % 2, meta={"person": k}) for k in range(4))
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    >>> table = prediction_table(model, clips)
    >>> list(table.columns)
    ['index', 'person', 'scenario', 'true', 'predicted', 'correct', 'in_view', 'first_frame']
    >>> len(table), table["true"].tolist()
    (4, ['walking', 'running', 'walking', 'running'])
    """
    if len(dataset) == 0:
        raise ConfigError("prediction_table: the dataset is empty")
    if isinstance(in_view, bool) or not 0.0 < float(in_view) <= 1.0:
        raise ConfigError(f"in_view={in_view!r}: expected a share in (0, 1]")
    classes = tuple(getattr(dataset, "classes", ()))
    model.eval()
    device = next(model.parameters()).device
    rows = []
    for start in range(0, len(dataset), batch_size):
        items = [dataset[index] for index in range(start, min(start + batch_size, len(dataset)))]
        with torch.no_grad():
            logits = model(torch.stack([item.video for item in items]).to(device))
        predicted = logits.argmax(dim=1).cpu().tolist()
        for offset, (item, guess) in enumerate(zip(items, predicted)):
            truth = getattr(item, "truth", None)
            share = (float((truth.visibility.float() >= in_view).float().mean())
                     if truth is not None and getattr(truth, "visibility", None) is not None else float("nan"))
            frames = item.meta.get("frames") or [item.meta.get("clip_offset", 0)]
            rows.append({
                "index": start + offset, "person": item.meta.get("person", start + offset),
                "scenario": item.meta.get("scenario", ""),
                "true": classes[item.label] if classes else item.label,
                "predicted": classes[guess] if classes else guess,
                "correct": bool(item.label == guess), "in_view": share, "first_frame": int(frames[0]),
            })
    return pd.DataFrame(rows)


def in_view_bins(frame: pd.DataFrame, edges: Sequence[float] = IN_VIEW_EDGES,
                 labels: Sequence[str] = IN_VIEW_LABELS) -> pd.Series:
    """The bin of each clip's in-view share: ``[0, 0.5)``, ``[0.5, 0.99)``, ``[0.99, 1]`` by default.

    Examples
    --------
    >>> import pandas as pd
    >>> in_view_bins(pd.DataFrame({"in_view": [0.0, 0.4, 0.5, 0.98, 1.0]})).tolist()
    ['under half', 'under half', 'half or more', 'half or more', 'every frame']
    """
    edges = [float(edge) for edge in edges]
    if len(labels) != len(edges) - 1 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ConfigError(f"edges={edges}, labels={list(labels)}: expected increasing edges and one label per bin")
    if frame["in_view"].isna().any():
        raise ConfigError("in_view_bins: some clips have no in-view share (test clips need SynthKTH's truth)")
    values = frame["in_view"].to_numpy(dtype=float)
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(labels) - 1)
    return pd.Series([labels[i] for i in index], index=frame.index, name="in view")


def accuracy_by(frame: pd.DataFrame, key: str | pd.Series, confidence: float = 0.95) -> pd.DataFrame:
    """Accuracy per group of clips, with its 95% interval over persons.

    Parameters
    ----------
    frame : pandas.DataFrame
        A :func:`prediction_table`.
    key : str or pandas.Series
        A column of ``frame`` (``"scenario"``, ``"true"``) or a Series aligned
        with it (:func:`in_view_bins`).
    confidence : float, default 0.95
        Coverage of the interval (:func:`~vidsal_core.statistics.mean_interval`
        with persons as clusters and ``bounds=(0, 1)``, the cluster Wilson
        interval of a bounded quantity; NaN where a group holds one person).

    Returns
    -------
    pandas.DataFrame
        One row per group: ``clips, persons, accuracy, low, high`` (the
        interval inside ``[0, 1]``, of non-zero width when every clip is correct).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"scenario": ["d1", "d1", "d2", "d2"], "person": [1, 2, 1, 2],
    ...                       "correct": [True, True, True, False]})
    >>> accuracy_by(table, "scenario")[["clips", "persons", "accuracy"]]
              clips  persons  accuracy
    scenario
    d1            2        2       1.0
    d2            2        2       0.5
    """

    groups = frame[key] if isinstance(key, str) else key
    name = key if isinstance(key, str) else (key.name or "group")
    rows = {}
    for value, part in frame.groupby(groups.to_numpy(), sort=True):
        hits = part["correct"].astype(float).to_numpy()
        persons = part["person"].astype(str).to_numpy()
        if len(set(persons)) >= 2:
            estimate = mean_interval(hits, persons, confidence, bounds=UNIT)
            low, high = float(estimate.low), float(estimate.high)
        else:
            low = high = float("nan")
        rows[value] = {"clips": len(part), "persons": len(set(persons)), "accuracy": float(hits.mean()),
                       "low": low, "high": high}
    table = pd.DataFrame.from_dict(rows, orient="index").astype({"clips": int, "persons": int})
    table.index.name = name
    return table


def scaled_encoder(encoder: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """The frame encoder's configuration with every channel count multiplied by ``factor`` (at least 1).

    Examples
    --------
    >>> scaled_encoder({"stem_channels": 8, "channels": [16, 32], "feature_size": 64}, 2)
    {'stem_channels': 16, 'channels': [32, 64], 'feature_size': 64}
    >>> scaled_encoder({"stem_channels": 8, "channels": [16, 32]}, 0.5)["channels"]
    [8, 16]
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor <= 0:
        raise ConfigError(f"width factor={factor!r}: expected a positive number")
    scaled = dict(encoder)
    scaled["stem_channels"] = max(1, int(round(encoder["stem_channels"] * factor)))
    scaled["channels"] = [max(1, int(round(value * factor))) for value in encoder["channels"]]
    return scaled


def variant_run(run: Any, suffix: str, *, size: Sequence[int] | None = None, width: float | None = None,
                train_persons: Sequence[int] | None = None, training: Mapping[str, Any] | None = None,
                frame_differences: bool | None = None) -> Any:
    """A run like ``run`` with another frame size, encoder width, training persons, schedule or frame input.

    Its name is ``<run>-<suffix>`` (its own checkpoint); everything not given
    stays as in ``run``. ``width`` scales a frame encoder's channels
    (:func:`scaled_encoder`; per-frame CNN models only).

    Parameters
    ----------
    run : Run
        The base run (:func:`vidsal_study.runs.build_run`).
    suffix : str
        Names the variant.
    size : (H, W), optional
        Frame size, of the data and of the model's input.
    width : float, optional
        Encoder channel multiplier.
    train_persons : sequence of int, optional
        Train on these persons' videos only (a subset of KTH's training persons).
    training : mapping, optional
        Training settings replaced (``max_epochs``, ...).
    frame_differences : bool, optional
        Whether the frame encoder also reads each frame's difference to the
        previous one (:class:`~vidsal_core.models.lstm.FrameLSTM`; per-frame
        CNN models only). False is the seed's model.
    """

    if not suffix or not str(suffix).replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"suffix={suffix!r}: expected letters, digits, '-' or '_'")
    data = dict(run.data)
    config = dict(run.spec.model_config)
    if size is not None:
        size = [int(value) for value in size]
        if len(size) != 2 or min(size) < 1:
            raise ConfigError(f"size={size!r}: expected (height, width) in pixels")
        data["size"], config["input_size"] = size, size
    if width is not None:
        if "encoder" not in config:
            raise ConfigError(f"width={width!r}: run {run.name}'s model {run.spec.model} has no frame encoder to widen")
        config["encoder"] = scaled_encoder(config["encoder"], width)
    if frame_differences is not None:
        if not isinstance(frame_differences, bool):
            raise ConfigError(f"frame_differences={frame_differences!r}: expected true or false")
        if "encoder" not in config:
            raise ConfigError(f"frame_differences: run {run.name}'s model {run.spec.model} has no frame encoder")
        config.pop("frame_differences", None)  # off: the seed's model, whose config has no such key
        if frame_differences:
            config["frame_differences"] = True
    if train_persons is not None:
        persons = sorted(int(person) for person in train_persons)
        if not persons:
            raise ConfigError("train_persons: name at least one person")
        data["train_persons"] = persons
    values = dict(run.spec.training)
    values.update(dict(training or {}))
    trained_with = TrainConfig.from_mapping(values, f"variant {run.name}-{suffix}")
    spec = RunSpec(model=run.spec.model, model_config=resolved_model_config(run.spec.model, config),
                   classes=run.spec.classes, data=spec_data(data), training=trained_with.to_dict(),
                   corpus_hash=run.spec.corpus_hash)
    return dataclasses.replace(run, name=f"{run.name}-{suffix}", data=data, spec=spec)


def held_out_clips(run: Any, corpus: Any, offset: str | int | None = None, with_truth: bool = True) -> Any:
    """A run's SynthKTH test clips labelled in its task's classes, cut at ``offset`` (None: as the run evaluates).

    With ``with_truth`` every item carries SynthKTH's ground truth, so
    :func:`prediction_table` can say how much of each clip shows the person.
    """

    options = run_clip_options(run)
    if offset is not None:
        options["offset"] = offset
    dataset = corpus.dataset(split="test", actions=list(run.spec.classes), with_truth=with_truth, **options)
    if len(dataset) == 0:
        raise ConfigError(f"run {run.name}: corpus {corpus.config_hash} has no test videos of {list(run.spec.classes)}")
    return TaskDataset(dataset, run.spec.classes)


#: Keys of ``models_chapter.diagnosis`` in a profile.
DIAGNOSIS_KEYS = ("run", "max_epochs", "sizes", "widths", "persons", "frame_differences")


def diagnosis_variants(run: Any, settings: Mapping[str, Any], training_persons: Sequence[int]) -> dict[str, Any]:
    """The variants of ``run`` a profile's ``models_chapter.diagnosis`` asks for, all on one short schedule.

    ``base`` is the run itself on that schedule; then one variant per frame
    size (``sizes``), encoder width (``widths``), number of training
    persons (``persons``: the first ``k`` of ``training_persons``) and frame
    input (``frame_differences``: true or false; the ``motion`` axis counts
    the encoder's inputs per frame, 1 for the frame alone, 2 with its
    difference to the previous frame). Returns variant label → (axis, value,
    :class:`~vidsal_study.runs.Run`).
    """
    unknown = sorted(set(settings) - set(DIAGNOSIS_KEYS))
    if unknown:
        raise ConfigError(f"models_chapter.diagnosis: unknown key(s) {unknown}; expected {list(DIAGNOSIS_KEYS)}")
    schedule = {"max_epochs": int(settings["max_epochs"])}
    size = list(run.data["size"])
    width = 1.0
    persons = sorted(int(person) for person in training_persons)
    variants = {"base": ("base", None, variant_run(run, "diag-base", training=schedule))}
    for value in settings.get("sizes") or []:
        label = f"{value[0]}x{value[1]}"
        variants[f"size {label}"] = ("pixels", int(value[0]) * int(value[1]),
                                     variant_run(run, f"diag-size{label}", size=value, training=schedule))
    for value in settings.get("widths") or []:
        variants[f"width {value:g}"] = ("width", float(value),
                                        variant_run(run, f"diag-width{value:g}".replace(".", "p"), width=value,
                                                    training=schedule))
    for value in settings.get("persons") or []:
        if not 1 <= int(value) <= len(persons):
            raise ConfigError(f"models_chapter.diagnosis.persons: {value} of {len(persons)} training persons")
        variants[f"{value} persons"] = ("persons", int(value),
                                        variant_run(run, f"diag-persons{value}", train_persons=persons[:int(value)],
                                                    training=schedule))
    for value in settings.get("frame_differences") or []:
        if not isinstance(value, bool):
            raise ConfigError(f"models_chapter.diagnosis.frame_differences: {value!r}: expected true or false")
        variants[f"frame differences {'on' if value else 'off'}"] = (
            "motion", 2 if value else 1,
            variant_run(run, "diag-differences" if value else "diag-frames", frame_differences=value,
                        training=schedule))
    base = variants["base"][2]
    motion = 2 if run.spec.model_config.get("frame_differences") else 1
    variants["base"] = ("base", {"pixels": size[0] * size[1], "width": width, "persons": len(persons),
                                 "motion": motion}, base)
    return variants
