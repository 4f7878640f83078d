"""Statistics of the border sweeps: coefficients, bias shares and accuracy with 95% intervals, and their text.

Every interval resamples whole groups (persons of SynthKTH, source clips of
real footage), the independent units of the chapters.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from vidsal_study.chapters.border.settings import TOP_K
from vidsal_core.metrics.relevance import effect_estimates
from vidsal_core.statistics import UNIT, mean_interval
from vidsal_core.errors import ConfigError
from vidsal_core.statistics import interval_text as format_interval
from vidsal_study.results import interval_side


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
    """:func:`~vidsal_core.metrics.relevance.effect_estimates` of the clips of ``frame`` (bootstrap over its groups)."""
    shares = np.stack(frame["share"].to_numpy())
    keep = np.isfinite(shares).all(axis=1)
    return effect_estimates(shares[keep], frame["group"].to_numpy()[keep], resamples=resamples)


def accuracy_by(frame: pd.DataFrame, keys: Sequence[str], resamples: int = 2000) -> pd.DataFrame:
    """Top-k accuracy of the trained model per combination of ``keys``, with its 95% interval over groups.

    Each clip counts once: its first explanation's row (every explanation of a
    clip carries the same classification). An accuracy is bounded, so its
    interval is the cluster Wilson interval (``mean_interval(..., bounds=UNIT)``):
    inside [0, 1], and not of zero width when every clip is right (or wrong).
    """
    labelled = frame[frame["label"].notna()]
    if len(labelled):
        labelled = labelled.drop_duplicates(subset=["video", "step", "offset", "title_frames"])
    rows = []
    for values, part in labelled.groupby(list(keys), sort=True):
        values = values if isinstance(values, tuple) else (values,)
        row = dict(zip(keys, values), clips=len(part), groups=part["group"].nunique())
        for k in TOP_K:
            estimate = mean_interval(part[f"top{k}"].to_numpy(float), part["group"].to_numpy(), resamples=resamples,
                                     bounds=UNIT)
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


def signed_interval_text(mean: float, low: float, high: float, scale: float = 1.0) -> str:
    """``mean [low, high]`` signed, with three significant digits, after multiplying by ``scale``
    (:func:`vidsal_core.statistics.interval_text` with ``spec="+.3g"``)."""

    return format_interval(mean, low, high, spec=BORDER_SPEC, scale=scale)


#: The number format of the border tables' intervals: signed, three significant digits.
BORDER_SPEC = "+.3g"


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

    Prose only (from :func:`vidsal_study.results.interval_side`); a seed claim's
    verdict comes from :func:`vidsal_study.results.verdict`.
    """

    return {"above": "positive", "below": "negative", "holds": "not distinguishable from zero"}[
        interval_side(low, high)]

