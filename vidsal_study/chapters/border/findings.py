"""What the border chapters read from their sweeps: estimates, words, glued values and claim rows.

:mod:`vidsal_study.chapters.border.study` runs the sweeps; this module turns
their :func:`~vidsal_study.chapters.border.results_frame` tables into what the
two chapters say, as small frozen results whose numbers and words the
chapters glue into their Markdown (each with ``estimates()``: glue name →
coefficient interval, glued ×100 with its verdict, and ``glued()``: glue name →
text or number):

- ``border_lookahead``: :func:`offset_sweep_sizes`, :func:`border_findings`
  (Table 1's coefficients, the seed's claims on them, the native I3D row and
  the claim rows, :class:`BorderFindings`), :func:`bias_share_texts` and
  :func:`end_to_centre_ratio`;
- ``step_size_offset``: :func:`step_sweep_sizes`, :func:`step_border_findings`
  (:class:`StepBorderFindings`), :func:`accuracy_findings`
  (:class:`AccuracyFindings`), :func:`early_minus_late` and
  :func:`early_offset_findings` (:class:`EarlyOffsetFindings`),
  :func:`paired_by_card` and :func:`title_card_findings`
  (:class:`TitleCardFindings`), and :func:`step_offset_claim_rows`.

Every interval is :func:`~vidsal_core.statistics.mean_interval`'s
over persons or source clips: the cluster Wilson interval for a top-k
accuracy (bounded, ``bounds=UNIT``), the cluster-robust t interval for
coefficients and differences. Nothing here draws or glues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from vidsal_study.chapters.border.settings import EXPLANATION_COLOURS, EXPLANATIONS
from vidsal_study.chapters.border.stats import (
    accuracy_by, best_step, effects_by, frame_effects, paired_difference, shared_offsets, step_gain,
)
from vidsal_study.chapters.border.tables import TABLE_SCALE
from vidsal_core.metrics.relevance import lookahead_coefficient
from vidsal_core.statistics import UNIT, Estimate, interval_text, mean_interval
from vidsal_core.errors import ConfigError
from vidsal_study.results import claim_row, interval_side, new_row

if TYPE_CHECKING:
    from vidsal_study.chapters.border.study import BorderStudy


def held(condition: bool) -> str:
    """A claim's outcome in the chapters' tables: ``"held"`` or ``"did not hold"``.

    Examples
    --------
    >>> held(True), held(False)
    ('held', 'did not hold')
    """
    return "held" if condition else "did not hold"


def unmeasured() -> Estimate:
    """What the chapters glue for a difference that cannot be measured: ``mean_interval([nan, 0.0])``.

    The NaN is dropped, so the mean is 0 from a single value and the interval's ends are NaN (no interval).
    """
    return mean_interval([np.nan, 0.0])


def or_unmeasured(estimate: Estimate | None) -> Estimate:
    """``estimate``, or :func:`unmeasured` where it is None."""
    return unmeasured() if estimate is None else estimate


# --- border_lookahead ----------------------------------------------------------------------------------------

#: Glue prefix of each offset sweep of :attr:`BorderStudy.frames` (Table 1's rows).
OFFSET_SWEEPS: dict[str, str] = {"c3d": "c3d_offsets", "footage": "i3d_footage_offsets",
                                 "i3dsynth": "i3d_synthkth_offsets", "native": "i3d_native_footage_offsets"}
#: The data sets of the seed's claims, in words (the native I3D row carries none).
CLAIM_DATASETS: dict[str, str] = {"c3d": "C3D on SynthKTH", "footage": "I3D on real footage",
                                  "i3dsynth": "I3D on SynthKTH"}
#: Seed 002's claims on Table 1: (claim id in the register ``book/claims.yaml``, coefficient, explanation).
SEED_CLAIMS: tuple[tuple[str, str, str], ...] = (
    ("002-border-trained", "border", "DTD"),
    ("002-border-trained", "border", "SA"),
    ("002-border-untrained", "border", "DTD-u"),
    ("002-lookahead", "lookahead", "DTD"),
)
#: Grad-CAM's layers in words (no seed claim behind them: new measurements), and the coefficients each can show:
#: a map with 2 time positions, interpolated to the clip's frames, is linear in time, so its border (quadratic)
#: coefficient is zero by construction and is not reported as evidence.
CAM_LAYERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Grad-CAM", "the last 3-D conv block (2 time positions)", ("lookahead",)),
    ("Grad-CAM-4", "the block with 4 time positions", ("border", "lookahead")))


def offset_sweep_sizes(study: BorderStudy) -> dict[str, int]:
    """The C3D offset sweep's sizes, by glue name: step, clip length, clips, videos, persons and offsets."""
    offsets = study.frames["c3d_offsets"]
    return {"c3d_step": study.c3d["step"], "c3d_clip_length": study.c3d["clip_length"],
            "c3d_clips": int(offsets.groupby("explanation").size().max()),
            "c3d_videos": int(offsets["video"].nunique()), "c3d_persons": int(offsets["group"].nunique()),
            "c3d_offsets": len(study.settings.offsets)}


def _units(key: str) -> str:
    """The bootstrap's unit of a data set."""
    return "persons" if key != "footage" else "source videos"


@dataclass(frozen=True)
class BorderFindings:
    """Table 1's coefficients and what the ``border_lookahead`` chapter reads from them.

    Attributes
    ----------
    estimates : mapping of (str, str) to EffectEstimates
        (data set of :data:`OFFSET_SWEEPS`, explanation) → border and lookahead
        coefficients with 95% intervals (:func:`frame_effects`); only pairs with clips.
    lookahead_vs_untrained : mapping of str to Estimate
        Data set → DTD's lookahead minus DTD-u's (the same architecture untrained), paired by clip: the
        lookahead that training added, beyond the architecture's own lean.
    native_input : str
        I3D's native input in words ("not run" where the profile has no native row).
    native_effects : str
        DTD's border and lookahead coefficients (×100) at I3D's native input, in words.
    """

    estimates: Mapping[tuple[str, str], Any]
    native_input: str
    native_effects: str
    lookahead_vs_untrained: Mapping[str, Estimate] = field(default_factory=dict)

    def coefficients(self) -> dict[str, Estimate]:
        """Every coefficient by glue name, ``<data set>_<explanation without '-'>_<border|lookahead>``."""
        return {f"{key}_{name.replace('-', '')}_{coefficient}": getattr(effects, coefficient)
                for (key, name), effects in self.estimates.items() for coefficient in ("border", "lookahead")}

    def sign(self, key: str, name: str, coefficient: str) -> str:
        """``"positive"``, ``"negative"`` or ``"zero"``: the side of zero of a coefficient's interval
        (``"missing"`` where it was not measured)."""
        effects = self.estimates.get((key, name))
        if effects is None:
            return "missing"
        estimate = getattr(effects, coefficient)
        return {"above": "positive", "below": "negative", "holds": "zero"}[interval_side(estimate.low, estimate.high)]

    def glued(self) -> dict[str, str]:
        """The native I3D row in words, by glue name."""
        return {"native_input": self.native_input, "native_DTD_effects": self.native_effects}

    def claim_table_words(self) -> dict[str, str]:
        """Table 1's summary in words, by glue name: whether each of the seed's claims held per data set (the
        sides of the intervals from :func:`vidsal_study.results.interval_side`; the claims' verdicts themselves are
        :meth:`claim_rows`, by :func:`vidsal_study.results.verdict`), and the untrained I3D's favoured end."""
        favours = {"positive": "the later frames", "negative": "the earlier frames"}
        texts = {"i3d_untrained_favours": favours.get(self.sign("footage", "DTD-u", "lookahead"), "neither end")}
        for key in CLAIM_DATASETS:
            texts[f"claim_border_{key}"] = held(self.sign(key, "DTD", "border") == "positive"
                                                and self.sign(key, "SA", "border") == "positive")
            texts[f"claim_untrained_{key}"] = held(self.sign(key, "DTD-u", "border") == "negative")
            texts[f"claim_lookahead_{key}"] = held(self.sign(key, "DTD", "lookahead") == "positive")
            signs = {self.sign(key, name, "lookahead") for name in ("DTD", "SA")}
            texts[f"claim_lookahead_sign_{key}"] = held(signs == {"positive", "negative"})
        return texts

    def claim_rows(self) -> list[dict[str, Any]]:
        """The chapter's rows for the summary: the seed's claims, then Grad-CAM's new measurements (×100)."""
        rows = []
        for key, dataset in CLAIM_DATASETS.items():
            for claim_id, coefficient, name in SEED_CLAIMS:
                effects = self.estimates.get((key, name))
                if effects is None:
                    continue
                rows.append(claim_row(claim_id, f"{coefficient} coefficient x100, {name} ({dataset})",
                                      getattr(effects, coefficient), scale=TABLE_SCALE,
                                      note=f"95% CI over {_units(key)}"))
            difference = self.lookahead_vs_untrained.get(key)
            if difference is not None:
                rows.append(claim_row("002-lookahead", f"lookahead coefficient x100, DTD minus DTD-u paired by clip "
                                                       f"({dataset})", difference, scale=TABLE_SCALE,
                                      note=f"the lean training added to the untrained architecture's own; "
                                           f"95% CI over {_units(key)}"))
        for key, dataset in CLAIM_DATASETS.items():
            for name, layer, coefficients in CAM_LAYERS:
                effects = self.estimates.get((key, name))
                for coefficient in coefficients if effects is not None else ():
                    rows.append(new_row("002", f"the {coefficient} effect is a property of the network, not of deep "
                                        "Taylor", f"{coefficient} coefficient x100, {name} ({dataset})",
                                        getattr(effects, coefficient), scale=TABLE_SCALE,
                                        note=f"frame-wise share of Grad-CAM at {layer}; 95% CI over {_units(key)}"))
        return rows


def _effects_text(effects: Any) -> str:
    """Border and lookahead coefficients ×100 as ``+a [lo, hi] (border) and +d [lo, hi] (lookahead)``."""
    border, lookahead = effects.border, effects.lookahead
    return (f"{TABLE_SCALE * border.mean:+.3g} [{TABLE_SCALE * border.low:+.3g}, {TABLE_SCALE * border.high:+.3g}] "
            f"(border) and {TABLE_SCALE * lookahead.mean:+.3g} "
            f"[{TABLE_SCALE * lookahead.low:+.3g}, {TABLE_SCALE * lookahead.high:+.3g}] (lookahead)")


def border_findings(study: BorderStudy) -> BorderFindings:
    """:class:`BorderFindings` of a study's offset sweeps (every explanation with clips, per data set)."""
    estimates = {}
    for key, sweep in OFFSET_SWEEPS.items():
        frame = study.frames.get(sweep, pd.DataFrame())
        for name in EXPLANATIONS:
            part = frame[frame["explanation"] == name] if len(frame) else frame
            if len(part):
                estimates[(key, name)] = frame_effects(part)
    native = study.settings.i3d_native
    native_frame = study.frames.get(OFFSET_SWEEPS["native"], pd.DataFrame())
    if native is not None and len(native_frame):
        native_input = (f"{native.clip_length} frames at {native.crop_size}×{native.crop_size} pixels, "
                        f"{native_frame['video'].nunique()} real clips")
        effects = estimates.get(("native", "DTD"))
        native_effects = _effects_text(effects if effects is not None else
                                       frame_effects(native_frame[native_frame["explanation"] == "DTD"]))
    else:
        native_input = "64 frames at 224×224 pixels; not run at this profile"
        native_effects = "not measured at this profile (`border_chapter.i3d_native`)"
    untrained_lean = {}
    for key in CLAIM_DATASETS:
        frame = study.frames.get(OFFSET_SWEEPS[key], pd.DataFrame())
        if len(frame) and {"DTD", "DTD-u"} <= set(frame["explanation"]):
            pair = frame[frame["explanation"].isin(["DTD", "DTD-u"])].copy()
            pair["lookahead"] = [lookahead_coefficient(np.asarray(share, float)) for share in pair["share"]]
            untrained_lean[key] = paired_difference(pair, "lookahead", "explanation", "DTD", "DTD-u")
    return BorderFindings(estimates=estimates, native_input=native_input, native_effects=native_effects,
                          lookahead_vs_untrained=untrained_lean)


#: Glue prefix of the rows of :meth:`BorderStudy.bias_shares`, by the start of their label.
BIAS_SHARE_PREFIXES: dict[str, str] = {"C3D": "c3d", "I3D · real": "footage", "I3D · Synth": "i3dsynth"}


def bias_share_texts(table: pd.DataFrame) -> dict[str, str]:
    """Median and range of the relevance the biases absorb, by glue name ``<data set>_<explanation>_bias_share``.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`~vidsal_study.chapters.border.bias_share_table` (``model · data``, ``explanation``,
        ``median``, ``min``, ``max``).
    """
    texts = {}
    for _, row in table.iterrows():
        label = row["model · data"]
        matches = [prefix for prefix in BIAS_SHARE_PREFIXES if label.startswith(prefix)]
        if "native" not in label and not matches:
            raise ConfigError(f"table: row {label!r} is none of {list(BIAS_SHARE_PREFIXES)} (nor native)")
        tag = "native" if "native" in label else BIAS_SHARE_PREFIXES[matches[0]]
        texts[f"{tag}_{row['explanation'].replace('-', '')}_bias_share"] = (
            f"{row['median']:.2f} (clips from {row['min']:.2f} to {row['max']:.2f})")
    return texts


def end_to_centre_ratio(share: Any) -> float:
    """Mean share of the first and last frame over that of the two centre frames.

    Examples
    --------
    >>> end_to_centre_ratio(np.array([0.1, 0.2, 0.3, 0.2, 0.1, 0.1]))  # ends 0.1, centre (0.3 + 0.2) / 2
    0.4
    """
    share = np.asarray(share)
    if share.ndim != 1 or len(share) < 2:
        raise ConfigError(f"share: one share vector of at least 2 frames, not shape {share.shape}")
    middle = len(share) // 2
    return float(share[[0, -1]].mean() / share[middle - 1:middle + 1].mean())


# --- step_size_offset ----------------------------------------------------------------------------------------


def step_sweep_sizes(study: BorderStudy) -> dict[str, Any]:
    """The step sweep's sizes and the title card, by glue name (``training_cards``: C3D's training cards in words)."""
    steps = study.frames["c3d_steps"]
    cards = [card for card in study.training_title_frames if card]
    return {"train_step": study.c3d["step"], "step_videos": int(steps["video"].nunique()),
            "step_persons": int(steps["group"].nunique()), "n_classes": len(study.c3d["classes"]),
            "title_frames": study.settings.title_frames,
            "training_cards": ("was trained on videos with and without title cards of "
                               + ", ".join(str(card) for card in cards) + " frames" if cards
                               else "never saw a title card: its training videos have none")}


@dataclass(frozen=True)
class StepBorderFindings:
    """The border coefficient against the step size (C3D's step sweep).

    Attributes
    ----------
    smallest, largest : int
        The sweep's smallest step and its largest step with clips.
    change : dict of str to Estimate
        Explanation → border coefficient at ``largest`` minus at ``smallest``, paired by clip.
    small_step : dict of str to Estimate
        Explanation → border coefficient at ``smallest``.
    """

    smallest: int
    largest: int
    change: dict[str, Estimate]
    small_step: dict[str, Estimate]

    @property
    def claim(self) -> str:
        """The seed's claim, the border effect shrinks with the step (DTD's change below zero): held or not."""
        return held(self.change["DTD"].high < 0)

    def estimates(self) -> dict[str, Estimate]:
        """``border_step_change_<name>`` and ``border_small_step_<name>`` per explanation."""
        texts = {}
        for name in self.change:
            texts[f"border_step_change_{name}"] = self.change[name]
            texts[f"border_small_step_{name}"] = self.small_step[name]
        return texts

    def glued(self) -> dict[str, Any]:
        """The two steps and the claim, by glue name."""
        return {"smallest_step": self.smallest, "largest_step": self.largest, "claim_step_border": self.claim}


def step_border_findings(frame: pd.DataFrame, steps: Sequence[int],
                         explanations: Sequence[str] = ("DTD", "SA")) -> StepBorderFindings:
    """:class:`StepBorderFindings` of a step sweep: from the smallest step of ``steps`` to the largest with clips.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`~vidsal_study.chapters.border.results_frame` of the step sweep.
    steps : sequence of int
        The profile's steps (``BorderSettings.steps``).
    explanations : sequence of str, default ("DTD", "SA")
        The explanations measured (DTD is needed for the claim).
    """
    present = [step for step in steps if (frame["step"] == step).any()]
    if not present:
        raise ConfigError(f"steps={list(steps)}: none has a clip in the frame")
    smallest, largest = min(steps), max(present)
    change, small_step = {}, {}
    for name in explanations:
        part = frame[frame["explanation"] == name]
        change[name] = paired_difference(part, "border", "step", largest, smallest)
        small = part[part["step"] == smallest]
        small_step[name] = mean_interval(small["border"], small["group"])
    return StepBorderFindings(smallest=smallest, largest=largest, change=change, small_step=small_step)


@dataclass(frozen=True)
class AccuracyFindings:
    """Top-k accuracy against the step size, without retraining, and the gain of the best other step.

    Attributes
    ----------
    train_step : int
        The step C3D was trained at.
    from_sweep : bool
        Whether the accuracies come from the accuracy sweep (else from the step sweep).
    chosen_on : str
        ``"validation"`` (the best step chosen on the validation persons) or ``"test"``.
    validation_persons : tuple
        The profile's validation persons.
    clips : pandas.DataFrame
        The clips at the offsets every step shares (:func:`shared_offsets`).
    by_step : pandas.DataFrame
        :func:`accuracy_by` step of ``clips``.
    best : dict of int to int
        k → the best step other than the training step by top-k.
    gain : dict of int to Estimate
        k → top-k at the best step minus at the training step, paired by clip.
    at_train, at_best : dict of int to Estimate
        k → top-k accuracy at the training step and at the best step.
    """

    train_step: int
    from_sweep: bool
    chosen_on: str
    validation_persons: tuple
    clips: pd.DataFrame
    by_step: pd.DataFrame
    best: dict[int, int]
    gain: dict[int, Estimate]
    at_train: dict[int, Estimate]
    at_best: dict[int, Estimate]

    @property
    def overlap(self) -> bool:
        """Whether the top-1 intervals of the training step and of the best step overlap."""
        train, best = self.at_train[1], self.at_best[1]
        return train.low <= best.high and best.low <= train.high

    def glued(self) -> dict[str, Any]:
        """Clips, offsets, steps, accuracies and gains (``mean [low, high]``) and the claim, by glue name."""
        def text(estimate: Estimate, spec: str) -> str:
            return interval_text(estimate.mean, estimate.low, estimate.high, spec=spec, missing=None)

        texts: dict[str, Any] = {
            "accuracy_clips": len(self.clips),
            "accuracy_offsets": ", ".join(str(offset) for offset in sorted(set(self.clips["offset"]))),
            "validation_persons": ", ".join(str(person) for person in self.validation_persons) or "none",
        }
        for k in self.best:
            texts[f"best_step_top{k}"] = self.best[k]
            texts[f"accuracy_train_step_top{k}"] = text(self.at_train[k], ".3f")
            texts[f"accuracy_best_step_top{k}"] = text(self.at_best[k], ".3f")
            texts[f"accuracy_gain_top{k}"] = text(self.gain[k], "+.3f")
        texts.update({
            "best_step": self.best[1], "accuracy_train_step": f"{self.at_train[1].mean:.3f}",
            "accuracy_gain": text(self.gain[1], "+.3f"),
            "chosen_on": {"validation": "the validation persons", "test": "the test persons themselves (no "
                          "validation persons in this profile: an optimistic pick)"}[self.chosen_on],
            "claim_step_accuracy": held(self.gain[1].low > 0),
        })
        return texts


def accuracy_findings(frames: Mapping[str, pd.DataFrame], train_step: int, validation_persons: Sequence[Any] = (),
                      ks: Sequence[int] = (1, 5)) -> AccuracyFindings:
    """:class:`AccuracyFindings` of a study's accuracy sweeps.

    The accuracies come from ``c3d_accuracy`` (the step sweep ``c3d_steps``
    where a profile has none); the best other step is chosen on
    ``c3d_validation_accuracy`` where it has clips, else on the test clips
    themselves (optimistic), and its gain is measured on the test persons.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        :attr:`BorderStudy.frames`.
    train_step : int
        The training step (never chosen as the best other step).
    validation_persons : sequence, optional
        The profile's validation persons (for the text).
    ks : sequence of int, default (1, 5)
        Top-k measures: top-1 the headline, top-5 the seed's.
    """
    from_sweep = bool(len(frames.get("c3d_accuracy", [])))
    accuracy_frame = frames["c3d_accuracy"] if from_sweep else frames["c3d_steps"]
    validation = frames.get("c3d_validation_accuracy", pd.DataFrame())
    clips = shared_offsets(accuracy_frame)
    best, gain, at_train, at_best = {}, {}, {}, {}
    for k in ks:
        best[k] = best_step(validation if len(validation) else accuracy_frame, k, exclude=train_step)
        gain[k] = step_gain(accuracy_frame, best[k], train_step, k)
        for estimates, step in ((at_train, train_step), (at_best, best[k])):
            at_step = clips[clips["step"] == step]
            estimates[k] = mean_interval(at_step[f"top{k}"].to_numpy(float), at_step["group"].to_numpy(), bounds=UNIT)
    return AccuracyFindings(train_step=train_step, from_sweep=from_sweep,
                            chosen_on="validation" if len(validation) else "test",
                            validation_persons=tuple(validation_persons), clips=clips,
                            by_step=accuracy_by(clips, ["step"]), best=best, gain=gain, at_train=at_train,
                            at_best=at_best)


def early_minus_late(frame: pd.DataFrame, limit: int, explanation: str = "DTD") -> Estimate | None:
    """Lookahead at offsets up to ``limit`` minus at later offsets, per video, then averaged over videos.

    The interval resamples persons (the frame's groups). None where the
    sweep's offsets do not fall on both sides of ``limit``.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`~vidsal_study.chapters.border.results_frame` of an offset sweep.
    limit : int
        The last offset that counts as early.
    explanation : str, default "DTD"
        The explanation's rows.
    """
    part = frame[frame["explanation"] == explanation]
    per_video = (part.assign(early=part["offset"] <= limit).groupby(["video", "group", "early"])["lookahead"].mean()
                 .unstack("early").dropna())
    if per_video.shape[1] != 2:
        return None
    return mean_interval((per_video[True] - per_video[False]).to_numpy(),
                         per_video.index.get_level_values("group").to_numpy())


@dataclass(frozen=True)
class EarlyOffsetFindings:
    """The lookahead coefficient at the first offsets of a video against later ones.

    Attributes
    ----------
    limit : int
        The last offset that counts as early.
    differences : dict of str to Estimate or None
        Explanation → :func:`early_minus_late` (None: the offsets do not split).
    """

    limit: int
    differences: dict[str, Estimate | None]

    @property
    def claim(self) -> str:
        """The seed's claim, lookahead higher at the first offsets (DTD's difference above zero): held or not."""
        dtd = self.differences.get("DTD")
        return held(dtd is not None and dtd.low > 0)

    def estimates(self) -> dict[str, Estimate]:
        """``early_minus_late_<name>`` per explanation (:func:`unmeasured` where the offsets do not split)."""
        return {f"early_minus_late_{name}": or_unmeasured(value) for name, value in self.differences.items()}

    def glued(self) -> dict[str, Any]:
        """The claim and the limit, by glue name."""
        return {"claim_offset": self.claim, "early_offsets": self.limit}


def early_offset_findings(frame: pd.DataFrame, limit: int,
                          explanations: Sequence[str] = ("DTD", "SA")) -> EarlyOffsetFindings:
    """:class:`EarlyOffsetFindings` of an offset sweep (:func:`early_minus_late` per explanation)."""
    return EarlyOffsetFindings(limit=limit, differences={name: early_minus_late(frame, limit, name)
                                                         for name in explanations})


def paired_by_card(frame: pd.DataFrame, explanation: str, offsets: Sequence[int], title_frames: int) -> Estimate:
    """Lookahead with a title card of ``title_frames`` frames minus without, paired by person, action and offset.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`~vidsal_study.chapters.border.results_frame` of the title-card sweep.
    explanation : str
        The explanation's rows.
    offsets : sequence of int
        The offsets compared.
    title_frames : int
        The card's length (rows with 0 have none).
    """
    part = frame[(frame["explanation"] == explanation) & frame["offset"].isin(offsets)]
    keys = ["group", "action", "offset"]
    plain = part[part["title_frames"] == 0].set_index(keys)["lookahead"]
    card = part[part["title_frames"] == title_frames].set_index(keys)["lookahead"]
    common = plain.index.intersection(card.index)
    return mean_interval((card[common] - plain[common]).to_numpy(), common.get_level_values("group").to_numpy())


@dataclass(frozen=True)
class TitleCardFindings:
    """The causal test of the seed's title-screen hypothesis: lookahead with and without an opening card.

    Attributes
    ----------
    title_frames : int
        The card's length.
    straddling, after : tuple of int
        Offsets whose snippet straddles the cut, and those that start after the card.
    effects : dict of str to DataFrame
        Explanation → :func:`effects_by` offset and title card (the figure's lines).
    straddling_change, after_change : dict of str to Estimate
        Explanation → :func:`paired_by_card` at those offsets (empty where there are none).
    straddle : Estimate or None
        DTD's change on straddling snippets (None: no offset straddles the cut).
    """

    title_frames: int
    straddling: tuple[int, ...]
    after: tuple[int, ...]
    effects: dict[str, pd.DataFrame]
    straddling_change: dict[str, Estimate]
    after_change: dict[str, Estimate]
    straddle: Estimate | None

    def estimates(self) -> dict[str, Estimate]:
        """``card_straddling_<name>`` and ``card_after_<name>`` per explanation, where measured."""
        texts = {}
        for name in self.effects:
            if name in self.straddling_change:
                texts[f"card_straddling_{name}"] = self.straddling_change[name]
            if name in self.after_change:
                texts[f"card_after_{name}"] = self.after_change[name]
        return texts

    def glued(self) -> dict[str, str]:
        """The straddling offsets, the claim and the card's effect on DTD in words, by glue name."""
        straddle = self.straddle
        return {
            "straddling_offsets": ", ".join(str(offset) for offset in self.straddling) or "none",
            "claim_title": held(straddle is not None and straddle.low > 0),
            "title_straddle_effect": ("cannot be measured (no offset of this profile straddles the cut)"
                                      if straddle is None else "raises" if straddle.low > 0 else
                                      "lowers" if straddle.high < 0 else "leaves unchanged, within its interval,"),
        }


def title_card_findings(frame: pd.DataFrame, offsets: Sequence[int], title_frames: int, span: int,
                        order: Sequence[str] = tuple(EXPLANATION_COLOURS)) -> TitleCardFindings:
    """:class:`TitleCardFindings` of the title-card sweep.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`~vidsal_study.chapters.border.results_frame` of the sweep (videos with and without the card).
    offsets : sequence of int
        The sweep's offsets (``BorderSettings.title_offsets``).
    title_frames : int
        The card's length.
    span : int
        Video frames one snippet covers, ``(clip_length - 1) * step + 1``.
    order : sequence of str, optional
        Order of the explanations, every one in the frame among them (default: that of
        :data:`~vidsal_study.chapters.border.EXPLANATION_COLOURS`).
    """
    unknown = sorted(set(frame["explanation"]) - set(order))
    if unknown:
        raise ConfigError(f"order: has no place for the explanations {unknown}")
    straddling = tuple(offset for offset in offsets if offset < title_frames < offset + span)
    after = tuple(offset for offset in offsets if offset >= title_frames)
    names = sorted(frame["explanation"].unique(), key=list(order).index)
    effects = {name: effects_by(frame[frame["explanation"] == name], ["offset", "title_frames"]) for name in names}
    straddling_change = ({name: paired_by_card(frame, name, straddling, title_frames) for name in names}
                         if straddling else {})
    after_change = {name: paired_by_card(frame, name, after, title_frames) for name in names} if after else {}
    straddle = None
    if straddling:
        straddle = (straddling_change["DTD"] if "DTD" in straddling_change
                    else paired_by_card(frame, "DTD", straddling, title_frames))
    return TitleCardFindings(title_frames=title_frames, straddling=straddling, after=after, effects=effects,
                             straddling_change=straddling_change, after_change=after_change, straddle=straddle)


def step_offset_claim_rows(steps: StepBorderFindings, accuracy: AccuracyFindings, early: EarlyOffsetFindings,
                           title: TitleCardFindings,
                           training_title_frames: Sequence[int] = ()) -> list[dict[str, Any]]:
    """The ``step_size_offset`` chapter's rows for the summary: step and border, step and accuracy (top-1 and the
    seed's top-5), early offsets and lookahead, and the title card's test.

    The title-screen hypothesis (seed 002 §3.4) is about what a network learns from training videos that open
    with title screens. It is tested, and counted, only where the C3D trained on videos with cards
    (``training_title_frames``, the card lengths of its training corpus, holds one above 0); a C3D that never saw
    a card in training meets a test-time card as something new, so its row is a ``new`` measurement.
    """
    chosen_on = accuracy.chosen_on
    note = (f"steps compared on shared offsets; the best other step chosen on {chosen_on} persons"
            + ("" if chosen_on == "validation" else ": optimistic"))
    cards = sorted({int(card) for card in training_title_frames if card})
    if cards:
        title_row = claim_row("002-title-screens", "change of DTD lookahead x100 by a title card, straddling "
                              "snippets (C3D trained with and without cards)", title.straddle, scale=TABLE_SCALE,
                              note=f"training cards of {', '.join(map(str, cards))} frames")
    else:
        title_row = new_row(None, None, "change of DTD lookahead x100 by a title card added at test time, straddling "
                            "snippets (C3D trained without cards)", title.straddle, scale=TABLE_SCALE,
                            claim_id="002-title-screens",
                            note="not a test of the hypothesis, not counted: this C3D never saw a title card in "
                                 "training (the quick and full profiles train it on carded videos)")
    return [
        claim_row("002-border-shrinks-with-step",
                  f"change of the border coefficient x100, step {steps.smallest} to {steps.largest} (C3D)",
                  steps.change["DTD"], scale=TABLE_SCALE),
        *[claim_row("002-step-raises-accuracy",
                    f"top-{k} gain on test persons, step {accuracy.best[k]} (best on {chosen_on} persons) over the "
                    f"training step {accuracy.train_step} (C3D){' (the seed measure)' if k == 5 else ''}",
                    accuracy.gain[k], note=note)
          for k in accuracy.best],
        claim_row("002-early-lookahead",
                  f"lookahead x100 at offsets up to {early.limit} minus later (C3D)", early.differences.get("DTD"),
                  scale=TABLE_SCALE),
        title_row,
    ]
