"""What the vanishing-saliency chapter finds: its estimates, claim rows and the words of its readings.

The chapter (``notebooks/vanishing_saliency.ipynb``) explains the same test
clips with an LSTM and an ICA-LSTM, trained and untrained, with the input
gradient and Integrated Gradients, and keeps each sweep's per-frame shares as
a :class:`ShareRecord`. :func:`vanishing_findings` turns those records into a
:class:`VanishingFindings`: every mean with its 95% interval over test persons
(the vanishing index ``V``, the early share ``E``, the last frame's share,
paired differences, the visibility checks, the fixed attention window), the
rows of seed 000's claims judged by the book's one rule
(:func:`vidsal_study.results.verdict`), and the short words the chapter's
Markdown glues into its sentences (:meth:`VanishingFindings.words`).

The quantities themselves are those of :mod:`vidsal_study.chapters.vanishing.temporal`
(:func:`~vidsal_study.chapters.vanishing.temporal.vanishing_index`,
:func:`~vidsal_study.chapters.vanishing.temporal.edge_share_ratio`,
:func:`~vidsal_study.chapters.vanishing.temporal.log_share_slope`).

The two thresholds of the seed's claim: saliency is *concentrated late* when
the interval of ``V`` lies above :data:`LATE_THRESHOLD` (``log10 2``: the last
quarter holds more than twice the first's share), and it has *vanished* from
the early frames when the interval of ``E`` lies below :data:`EARLY_FLOOR`
(a tenth of a uniform share).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from vidsal_core.statistics import UNIT, Estimate, interval_text
from vidsal_study.chapters.vanishing.temporal import (
    edge_frames, edge_share_ratio, interval_or_nan, log_share_slope, model_source, vanishing_index,
)
from vidsal_study.training_runs import CONTROL, robust_rows_in_groups
from vidsal_core.errors import ConfigError
from vidsal_study.runs import build_run
from vidsal_study.results import claim_row, interval_side, new_row, opposite_verdict
from vidsal_study.profiles import corpus_config
from vidsal_study.chapters.vanishing.temporal import clip_chunks, spread_entries, trained_and_untrained
from vidsal_core.data.corpus import CorpusConfig, SynthKTHDataset, build_corpus
from vidsal_core.data.clips import clip_span
from vidsal_study.runs import run_region_options
from vidsal_study.chapters.vanishing.temporal import chapter_shares
from vidsal_core.data.video import read_video

#: ``V`` above this is a late concentration: the last quarter holds more than twice the first quarter's share.
LATE_THRESHOLD = float(np.log10(2.0))
#: ``E`` below this is a vanished start: the first quarter gets less than a tenth of its uniform share.
EARLY_FLOOR = 0.1

#: Slope of ``log10 s_t`` per frame that a forget gate of 1/2 alone predicts (exercise 4).
FORGET_GATE_SLOPE = float(np.log10(2.0))
#: The two models of every pair; the fixed-window ICA-LSTM is :data:`FIXED_WINDOW`.
PAIR_MODELS = ("LSTM", "ICA")
#: Model label of the ICA-LSTM with a fixed attention window.
FIXED_WINDOW = "ICA-fixed"

#: ``(task, model, weights, method)``: one sweep of the chapter.
Key = tuple[str, str, str, str]


@dataclass(frozen=True)
class ShareRecord:
    """The saliency shares of one model on one task's test clips, with one method.

    Attributes
    ----------
    task : str
        ``"binary"`` or ``"6-class"`` (a pair of the profile).
    model : str
        ``"LSTM"``, ``"ICA"`` or ``"ICA-fixed"`` (:data:`FIXED_WINDOW`).
    weights : str
        ``"trained"`` or ``"untrained"``.
    method : str
        ``"gradient"`` or ``"integrated_gradients"``.
    shares : numpy.ndarray
        ``(clips, T)`` share vectors (each row sums to 1).
    persons : numpy.ndarray
        ``(clips,)`` test person of each clip (the bootstrap's unit).
    visibility : numpy.ndarray
        ``(clips, T)`` share of the person inside the frame.
    """

    task: str
    model: str
    weights: str
    method: str
    shares: np.ndarray
    persons: np.ndarray
    visibility: np.ndarray

    @property
    def key(self) -> Key:
        return (self.task, self.model, self.weights, self.method)


def record_of(records: Sequence[ShareRecord], task: str, model: str, weights: str, method: str) -> ShareRecord:
    """The record of ``(task, model, weights, method)``; KeyError when the chapter has not computed it."""
    for record in records:
        if record.key == (task, model, weights, method):
            return record
    raise KeyError((task, model, weights, method))


@dataclass(frozen=True)
class VisibilityCheck:
    """Is a model's late concentration where the person is? (trained model, input gradient)

    Attributes
    ----------
    all_clips : Estimate
        ``V`` over every clip.
    in_view : Estimate
        ``V`` over the clips in which the person is in view on every frame (NaN without such clips).
    clips_in_view : int
        How many clips those are.
    slope, slope_given_visibility : Estimate
        Slope of ``log10 s_t`` per frame, without and with the visibility held fixed.
    """

    all_clips: Estimate
    in_view: Estimate
    clips_in_view: int
    slope: Estimate
    slope_given_visibility: Estimate


@dataclass(frozen=True)
class WindowFindings:
    """The ICA-LSTM with a fixed attention window against the growing one (trained, input gradient).

    Attributes
    ----------
    task : str
        The task of the variant's base run.
    window : int
        Frames the fixed window reaches back.
    fixed, growing : Estimate
        ``V`` of the fixed-window and of the growing-window ICA-LSTM.
    difference : Estimate
        ``V(fixed) - V(growing)``, paired over the same clips.
    """

    task: str
    window: int
    fixed: Estimate
    growing: Estimate
    difference: Estimate

    @property
    def word(self) -> str:
        """How the fixed window's index compares with the growing window's: "higher than", "lower than", ..."""
        return {"above": "higher than", "below": "lower than",
                "holds": "indistinguishable from"}[interval_side(self.difference.low, self.difference.high)]


@dataclass(frozen=True)
class VanishingWords:
    """Short words the chapter's Markdown glues into its sentences, each chosen by an interval or a verdict.

    All are about the first task's trained models and the input gradient.
    Sides (``*_side``) are "above", "below" or "on both sides of" (:data:`SIDE_WORDS`);
    verdicts (``claim_*``) those of :func:`vidsal_study.results.verdict` on the claim rows.
    """

    late_side: str        # the LSTM's V against LATE_THRESHOLD
    early_side: str       # the LSTM's E against EARLY_FLOOR
    shape_word: str       # its curve "follows" / "does *not* follow" the untrained one's geometric decay
    late_word: str        # its gradient "is" / "is not shown to be" concentrated on the late frames
    vanished_word: str    # it "has" / "has not" / "is not shown to have" vanished from the early frames
    claim_late: str       # seed 000 Sec. 3: late concentration
    claim_vanished: str   # seed 000 Sec. 3: vanished early frames
    claim_short: str      # seed 000 Sec. 4.1: no vanishing with 30-frame clips
    claim_lowers: str     # seed 000 Sec. 3: ICA lowers the index
    claim_no_lean: str    # seed 000 Sec. 3: ICA leaves no late lean
    untrained_word: str   # the decay "is there" / "is not there" before any training
    training_word: str    # training "*strengthened*" / "*weakened*" / "did not measurably change" the decay
    removal_word: str     # ICA "lowers" / "does not measurably lower" the index
    ica_lean_side: str    # the ICA-LSTM's V against LATE_THRESHOLD
    ica_zero_side: str    # the ICA-LSTM's V against 0
    visibility_word: str  # the late concentration "comes from the network, not from" / "cannot be told apart from"
    solution_4_side: str  # the untrained LSTM's slope "smaller than" / "larger than" / "compatible with" log10 2


#: The words of :func:`interval_side`'s answers, for "the interval lies <word> 0.1".
SIDE_WORDS = {"above": "above", "below": "below", "holds": "on both sides of"}


def side_word(estimate: Estimate, null: float = 0.0) -> str:
    """Where an estimate's interval lies against ``null``, in words (:data:`SIDE_WORDS`)."""
    return SIDE_WORDS[interval_side(estimate.low, estimate.high, null)]


@dataclass(frozen=True)
class VanishingFindings:
    """What the vanishing-saliency chapter measured; built by :func:`vanishing_findings`.

    Every estimate is a mean over test clips with its 95% interval over test
    persons (:func:`~vidsal_study.chapters.vanishing.temporal.interval_or_nan`): for the
    bounded ones (``E``, in ``[0, T/k]``, :func:`early_share_bounds`; the last
    frame's share, in ``[0, 1]``) the cluster Wilson interval that stays in
    range, for ``V``, slopes and paired differences the cluster-robust t
    interval (:mod:`vidsal_core.statistics`).

    Attributes
    ----------
    task : str
        The first pair's task: the one seed 000's claims are judged on.
    tasks : tuple of str
        Every task, in the records' order.
    fraction : float
        ``V`` and ``E`` compare the first and last ``floor(fraction · T)`` frames.
    index, early, last_frame : dict
        ``V``, ``E`` and the last frame's share per ``(task, model, weights, method)``.
    ica_minus_lstm : dict
        ``V(ICA) - V(LSTM)`` of the trained models, paired over clips, per ``(task, method)``.
    training_change : dict
        ``V(trained LSTM) - V(untrained LSTM)``, paired, per ``(task, method)``.
    visibility : dict
        :class:`VisibilityCheck` per ``(task, model)`` (trained, input gradient).
    visibility_edges : tuple of float
        Mean visibility over the first and over the last ``k`` frames of the first task's clips.
    untrained_slope : Estimate
        Slope of ``log10 s_t`` per frame of the untrained LSTM (first task, input gradient).
    window : WindowFindings or None
        The fixed attention window, when the records have it.
    """

    task: str
    tasks: tuple[str, ...]
    fraction: float
    index: dict[Key, Estimate]
    early: dict[Key, Estimate]
    last_frame: dict[Key, Estimate]
    ica_minus_lstm: dict[tuple[str, str], Estimate]
    training_change: dict[tuple[str, str], Estimate]
    visibility: dict[tuple[str, str], VisibilityCheck]
    visibility_edges: tuple[float, float]
    untrained_slope: Estimate
    window: WindowFindings | None = None

    def index_of(self, model: str = "LSTM", weights: str = "trained", method: str = "gradient",
                 task: str | None = None) -> Estimate:
        """``V`` of one sweep (default: the first task's trained LSTM, input gradient)."""
        return self.index[(task or self.task, model, weights, method)]

    def early_of(self, model: str = "LSTM", weights: str = "trained", method: str = "gradient",
                 task: str | None = None) -> Estimate:
        """``E`` of one sweep (default: the first task's trained LSTM, input gradient)."""
        return self.early[(task or self.task, model, weights, method)]

    # --- seed 000's claims ---------------------------------------------------------------------

    def vanishing_rows(self, task: str, method: str, label: str) -> list[dict[str, Any]]:
        """Seed 000's vanishing claims on one (task, method): the late concentration (``V``, Sec. 3) and the
        early share (``E``), one row for one number.

        ``E`` is judged once, as the seed's Sec. 4.1 finding ("the vanishing saliency problem … does not occur in
        our setup"); the register keeps its Sec. 3 statement (vanished early frames) beside it as the opposite,
        whose verdict is the reverse (:func:`opposite_verdict`): one estimate, one counted verdict (``label`` is
        kept for the callers' tables).
        """
        late, early = self.index_of("LSTM", "trained", method, task), self.early_of("LSTM", "trained", method, task)
        return [claim_row("000-vanishing-late",
                          f"vanishing index V = log10(last/first quarter share), trained LSTM ({task}, {method})",
                          late, note="null log10 2: a twofold lean towards the late frames"),
                claim_row("000-no-vanishing-30-frames",
                          f"early share E = first-quarter share / uniform, trained LSTM ({task}, {method})",
                          early, note="null 0.1: a tenth of a uniform share; Sec. 3's opposite statement (vanished "
                                      "early frames) gets the reverse verdict")]

    def removal_rows(self, task: str, label: str) -> list[dict[str, Any]]:
        """Seed 000's claim that input-cell attention fixes the vanishing: it lowers ``V``, and leaves no late lean."""
        difference, ica = self.ica_minus_lstm[(task, "gradient")], self.index_of("ICA", "trained", "gradient", task)
        return [claim_row("000-ica-lowers-vanishing", f"paired difference V(ICA) − V(LSTM), trained ({task}, gradient)",
                          difference, note=f"ICA's own V: {interval_text(ica.mean, ica.low, ica.high, spec='+.3g')}"),
                claim_row("000-ica-no-late-lean", f"vanishing index V, trained ICA-LSTM ({task}, gradient)", ica,
                          note="below log10 2: less than a twofold lean towards the late frames")]

    def short_clip_row(self) -> dict[str, Any]:
        """Seed 000's Sec. 4.1 finding, no vanishing with 30-frame clips: the first task's ``E`` row (gradient)."""
        return self.vanishing_rows(self.task, "gradient", self.task)[1]

    def claim_rows(self) -> list[dict[str, Any]]:
        """Every row the chapter records (:func:`vidsal_study.results.record_claims`), in the chapter's order."""
        task = self.task
        rows = self.vanishing_rows(task, "gradient", task) + self.removal_rows(task, task)
        if (task, "LSTM", "trained", "integrated_gradients") in self.index:
            rows += self.vanishing_rows(task, "integrated_gradients", f"{task}, IG from a black video")
        rows.append(new_row("000", "new: the LSTM's late-frame concentration is not explained by the person's "
                            "visibility", "slope of log10 share per frame with visibility held fixed, trained LSTM, "
                            "input gradient",
                            self.visibility[(task, "LSTM")].slope_given_visibility, note="per-clip least squares"))
        if self.window is not None:
            fixed = self.window.fixed
            note = f"fixed window's V: {interval_text(fixed.mean, fixed.low, fixed.high, spec='+.3g')}"
            rows.append(new_row("000", f"new: a fixed attention window of {self.window.window} frames instead of the "
                                "growing one", "paired difference V(fixed window) - V(growing window), trained, input "
                                "gradient", self.window.difference, note=note))
        for other in self.tasks[1:]:
            rows += self.vanishing_rows(other, "gradient", f"{other} KTH") + self.removal_rows(other, f"{other} KTH")
        return rows

    # --- the words of the readings -------------------------------------------------------------

    def words(self) -> VanishingWords:
        """The short words of the chapter's readings (first task, trained models, input gradient)."""
        lstm, early, ica = self.index_of(), self.early_of(), self.index_of("ICA")
        late_side = interval_side(lstm.low, lstm.high, LATE_THRESHOLD)
        early_side = interval_side(early.low, early.high, EARLY_FLOOR)
        late, vanished = self.vanishing_rows(self.task, "gradient", self.task)
        lowers, no_lean = self.removal_rows(self.task, self.task)
        training = self.training_change[(self.task, "gradient")]
        difference = self.ica_minus_lstm[(self.task, "gradient")]
        check = self.visibility[(self.task, "LSTM")]
        slope, in_view = check.slope_given_visibility, check.in_view
        network = slope.low > 0 and (not np.isfinite(in_view.mean) or in_view.low > 0)
        return VanishingWords(
            late_side=SIDE_WORDS[late_side],
            early_side=SIDE_WORDS[early_side],
            shape_word="follows" if early.high < EARLY_FLOOR else "does *not* follow",
            late_word="is" if late_side == "above" else "is not shown to be",
            vanished_word={"below": "has", "above": "has not", "holds": "is not shown to have"}[early_side],
            claim_late=late["verdict"], claim_vanished=opposite_verdict(vanished["verdict"]),
            claim_short=self.short_clip_row()["verdict"],
            claim_lowers=lowers["verdict"], claim_no_lean=no_lean["verdict"],
            untrained_word="is there" if self.index_of("LSTM", "untrained").low > LATE_THRESHOLD else "is not there",
            training_word={"above": "*strengthened*", "below": "*weakened*",
                           "holds": "did not measurably change"}[interval_side(training.low, training.high)],
            removal_word=("lowers" if interval_side(difference.low, difference.high) == "below"
                          else "does not measurably lower"),
            ica_lean_side=side_word(ica, LATE_THRESHOLD),
            ica_zero_side=side_word(ica),
            visibility_word="comes from the network, not from" if network else "cannot be told apart from",
            solution_4_side={"above": "larger than", "below": "smaller than", "holds": "compatible with"}[
                interval_side(self.untrained_slope.low, self.untrained_slope.high, FORGET_GATE_SLOPE)],
        )

    # --- tables ----------------------------------------------------------------------------------

    def index_table(self) -> pd.DataFrame:
        """One row per sweep of the pairs' models: ``V`` with its interval, the last/first ratio and the clips."""
        return pd.DataFrame([{"task": task, "model": model, "weights": weights, "method": method, "V": estimate.mean,
                              "low": estimate.low, "high": estimate.high, "last/first": 10 ** estimate.mean,
                              "clips": estimate.count}
                             for (task, model, weights, method), estimate in self.index.items()
                             if model in PAIR_MODELS])

    def visibility_table(self) -> pd.DataFrame:
        """The visibility checks of every (task, model), their intervals as text."""
        return pd.DataFrame([{"task": task, "model": model,
                              "V all clips": check.all_clips.text("+.3g"),
                              "clips in view": check.clips_in_view,
                              "V clips in view": check.in_view.text("+.3g"),
                              "slope /frame": check.slope.text("+.3g"),
                              "slope /frame | visibility": check.slope_given_visibility.text("+.3g")}
                             for (task, model), check in self.visibility.items()])

    def other_tasks_table(self) -> pd.DataFrame:
        """The first task's questions on every other task (trained models, input gradient), with the verdicts."""
        rows = []
        for task in self.tasks[1:]:
            late, vanished = self.vanishing_rows(task, "gradient", task)
            lowers, no_lean = self.removal_rows(task, task)
            rows.append({"task": task, "V, LSTM": self.index_of(task=task).text("+.2f"),
                         "E, LSTM": self.early_of(task=task).text(".2f"),
                         "late concentration": late["verdict"], "vanished early frames": opposite_verdict(vanished["verdict"]),
                         "V, ICA-LSTM": self.index_of("ICA", task=task).text("+.2f"),
                         "D = V(ICA) − V(LSTM)": self.ica_minus_lstm[(task, "gradient")].text("+.2f"),
                         "ICA lowers V": lowers["verdict"], "no late lean": no_lean["verdict"]})
        return pd.DataFrame(rows)


def early_share_bounds(n_frames: int, fraction: float = 0.25) -> tuple[float, float]:
    """The range of the early share ``E`` (:func:`~vidsal_study.chapters.vanishing.temporal.edge_share_ratio`): ``[0, T/k]``.

    ``E`` is the first ``k`` frames' share (in ``[0, 1]``) over their uniform
    share ``k/T``, so it is 0 when they get nothing and ``T/k`` when they get everything.

    Examples
    --------
    >>> early_share_bounds(30), early_share_bounds(16)
    ((0.0, 4.285714285714286), (0.0, 4.0))
    """
    return 0.0, n_frames / edge_frames(n_frames, fraction)


def vanishing_findings(records: Sequence[ShareRecord], fraction: float = 0.25, visible_threshold: float = 0.99,
                       window: int | None = None) -> VanishingFindings:
    """The chapter's findings from its share records.

    Parameters
    ----------
    records : sequence of ShareRecord
        The sweeps, the first task's first: for every task the trained and
        untrained LSTM and ICA-LSTM with the input gradient (and any other
        method), and optionally the fixed-window ICA-LSTM (:data:`FIXED_WINDOW`).
    fraction : float, default 0.25
        ``V`` and ``E`` compare the first and last ``floor(fraction · T)`` frames.
    visible_threshold : float, default 0.99
        A clip is in view throughout when the person's visibility is at least this on every frame.
    window : int, optional
        The fixed window's frames; required when the records have the fixed-window model.

    Returns
    -------
    VanishingFindings
    """
    if not records:
        raise ConfigError("records: the chapter has explained nothing")
    by_key = {record.key: record for record in records}
    if len(by_key) != len(records):
        raise ConfigError("records: a (task, model, weights, method) appears twice")
    tasks = tuple(dict.fromkeys(record.task for record in records))
    task = tasks[0]
    values = {key: vanishing_index(record.shares, fraction) for key, record in by_key.items()}
    index = {key: interval_or_nan(values[key], by_key[key].persons) for key in by_key}
    early = {key: interval_or_nan(edge_share_ratio(record.shares, fraction), record.persons,
                                  bounds=early_share_bounds(record.shares.shape[1], fraction))
             for key, record in by_key.items()}
    last_frame = {key: interval_or_nan(record.shares[:, -1], record.persons, bounds=UNIT)
                  for key, record in by_key.items()}
    methods = tuple(dict.fromkeys(record.method for record in records))
    ica_minus_lstm, training_change = {}, {}
    for name in tasks:
        for method in methods:
            lstm, ica, untrained = ((name, model, weights, method) for model, weights in
                                    (("LSTM", "trained"), ("ICA", "trained"), ("LSTM", "untrained")))
            if lstm in values and ica in values:
                ica_minus_lstm[(name, method)] = interval_or_nan(values[ica] - values[lstm], by_key[ica].persons)
            if lstm in values and untrained in values:
                training_change[(name, method)] = interval_or_nan(values[lstm] - values[untrained],
                                                                  by_key[lstm].persons)
    visibility = {}
    for name in tasks:
        for model in PAIR_MODELS:
            key = (name, model, "trained", "gradient")
            if key not in by_key:
                continue
            record = by_key[key]
            in_view = record.visibility.min(axis=1) >= visible_threshold
            visibility[(name, model)] = VisibilityCheck(
                all_clips=index[key], in_view=interval_or_nan(np.where(in_view, values[key], np.nan), record.persons),
                clips_in_view=int(in_view.sum()),
                slope=interval_or_nan(log_share_slope(record.shares), record.persons),
                slope_given_visibility=interval_or_nan(log_share_slope(record.shares, record.visibility),
                                                       record.persons))
    first = record_of(records, task, "LSTM", "trained", "gradient")
    k = edge_frames(first.shares.shape[1], fraction)
    mean_visibility = first.visibility.mean(axis=0)
    untrained = record_of(records, task, "LSTM", "untrained", "gradient")
    fixed_keys = [key for key in by_key if key[1] == FIXED_WINDOW and key[2:] == ("trained", "gradient")]
    window_findings = None
    if fixed_keys:
        if window is None:
            raise ConfigError("window: the records have a fixed-window ICA-LSTM; say how many frames its window has")
        fixed_key = fixed_keys[0]
        growing_key = (fixed_key[0], "ICA", "trained", "gradient")
        window_findings = WindowFindings(task=fixed_key[0], window=window, fixed=index[fixed_key],
                                         growing=index[growing_key],
                                         difference=interval_or_nan(values[fixed_key] - values[growing_key],
                                                                    by_key[fixed_key].persons))
    elif window is not None:
        raise ConfigError(f"window={window!r}: the records have no {FIXED_WINDOW} model")
    return VanishingFindings(
        task=task, tasks=tasks, fraction=fraction, index=index, early=early, last_frame=last_frame,
        ica_minus_lstm=ica_minus_lstm, training_change=training_change, visibility=visibility,
        visibility_edges=(float(mean_visibility[:k].mean()), float(mean_visibility[-k:].mean())),
        untrained_slope=interval_or_nan(log_share_slope(untrained.shares), untrained.persons),
        window=window_findings)


def noisy_frame_shift(shares: Any, fraction: float = 0.25) -> float:
    """Mean ``|ΔV|`` over clips when the first frame's share is doubled (and the shares renormalised).

    How robust ``V`` at this ``fraction`` is to one noisy frame (exercise 3):
    with one frame at each end the first frame is the whole denominator, so
    ``|ΔV| = log10 2`` exactly.
    """
    shares = np.array(shares, dtype=float)
    noisy = shares.copy()
    noisy[:, 0] *= 2.0
    noisy /= noisy.sum(axis=1, keepdims=True)
    moved = np.abs(vanishing_index(noisy, fraction) - vanishing_index(shares, fraction))
    return float(np.nanmean(moved[np.isfinite(moved)]))


# --- the chapter's test clips and models ----------------------------------------------------------------


@dataclass
class ModelPair:
    """An LSTM and an ICA-LSTM of the profile on the same test clips (:func:`model_pair`).

    Attributes
    ----------
    task : str
        ``"binary"`` or ``"<n>-class"``.
    runs : tuple of str
        The LSTM run and the ICA-LSTM run.
    classes : list of str
    run : Run
        The LSTM run (its data settings cut the clips).
    chunks : list of dict
        The clips in sweep chunks (:func:`~vidsal_study.chapters.vanishing.temporal.clip_chunks`).
    items : list
        The dataset items (video, label, meta, truth) of the clips.
    videos : torch.Tensor
        ``(clips, T, C, H, W)``.
    targets : torch.Tensor
        ``(clips,)`` true classes.
    models : dict
        ``{(kind, weights): model}`` for kind LSTM, ICA and weights trained, untrained.
    accuracy : dict
        Accuracy of each trained model on the clips.
    persons : numpy.ndarray
        ``(clips,)`` test person of each clip.
    visibility : numpy.ndarray
        ``(clips, T)`` share of the person inside the frame.
    """

    task: str
    runs: tuple[str, str]
    classes: list[str]
    run: Any
    chunks: list[dict[str, Any]]
    items: list[Any]
    videos: Any
    targets: Any
    models: dict[tuple[str, str], Any]
    accuracy: dict[str, float]
    persons: np.ndarray
    visibility: np.ndarray


def model_pair(profile: Any, lstm_run: str, ica_run: str, videos_per_person_action: int | None,
               settings: dict[str, Any], device: Any = "cpu") -> ModelPair:
    """The pair's test clips (a few per person and action, scenarios cycled) and its four models, on ``device``."""
    import torch


    run = build_run(profile, lstm_run)
    if build_run(profile, ica_run).spec.classes != run.spec.classes:
        raise ConfigError(f"pair {lstm_run}, {ica_run}: the two runs classify different actions")
    corpus = build_corpus(corpus_config(profile, run.corpus_section), progress=False)
    candidates = corpus.select(split="test", actions=list(run.spec.classes))
    region = run_region_options(run)  # a control run: only the videos with a run in view that holds the clip
    if region.get("inside"):
        candidates = corpus.inside_entries(candidates, clip_span(run.data["clip_length"], run.data["step"]),
                                           region["in_view"])
    entries = spread_entries(candidates, videos_per_person_action)
    dataset = SynthKTHDataset(corpus, entries, actions=list(run.spec.classes), clip_length=run.data["clip_length"],
                              step=run.data["step"], offset=settings["clip_offset"],
                              size=tuple(run.data["size"]), with_truth=True, **region)
    items = [dataset[i] for i in range(len(dataset))]
    models = {}
    for kind, name in (("LSTM", lstm_run), ("ICA", ica_run)):
        trained, untrained = trained_and_untrained(profile, name)
        models[(kind, "trained")], models[(kind, "untrained")] = trained.to(device), untrained.to(device)
    videos = torch.stack([item.video for item in items])
    targets = torch.tensor([item.label for item in items])
    with torch.no_grad():
        accuracy = {kind: float((models[(kind, "trained")](videos.to(device)).argmax(1).cpu() == targets)
                                .float().mean()) for kind in PAIR_MODELS}
    task = "binary" if len(run.spec.classes) == 2 else f"{len(run.spec.classes)}-class"
    return ModelPair(task=task, runs=(lstm_run, ica_run), classes=list(run.spec.classes), run=run,
                     chunks=clip_chunks(corpus, entries, run, settings["batch_size"], settings["clip_offset"]),
                     items=items, videos=videos, targets=targets, models=models, accuracy=accuracy,
                     persons=np.array([item.meta["person"] for item in items]),
                     visibility=np.stack([item.truth.visibility.numpy() for item in items]).astype(float))


def pair_records(pair: ModelPair, model: str, weights: str, source: dict[str, Any],
                 settings: dict[str, Any]) -> list[ShareRecord]:
    """One :class:`ShareRecord` per method of ``settings``: a resumable sweep of ``source``'s model on the pair's clips.

    Each sweep is :func:`~vidsal_study.chapters.vanishing.temporal.chapter_shares` over the
    pair's chunks (saved under ``data/sweeps/``; on Dask with the chapter's
    ``dask`` parameter).
    """

    return [ShareRecord(pair.task, model, weights, method,
                        chapter_shares(source, pair.chunks, method, settings["ig_steps"], settings["ig_batch_size"]),
                        pair.persons, pair.visibility)
            for method in settings["methods"]]


def example_clip(actions: Sequence[str], visibility: Any, action: str) -> int:
    """The clip of ``action`` in which the person is best in view (highest least visibility; the first on ties).

    Parameters
    ----------
    actions : sequence of str
        The action of every clip.
    visibility : array-like
        ``(clips, T)`` visibility of the person.
    action : str
        The action wanted.
    """
    visibility = np.asarray(visibility, dtype=float)
    candidates = [i for i, name in enumerate(actions) if name == action]
    if not candidates:
        raise ConfigError(f"example_action={action!r}: choose one of {sorted(set(actions))}")
    return max(candidates, key=lambda i: (visibility[i].min(), -i))


def own_clip(path: Any, n_frames: int, size: tuple[int, int]) -> Any:
    """A reader's clip as the models read it: its first ``n_frames`` frames in gray, resized to ``size``, in [0, 1]."""
    import torch


    video = read_video(path, grayscale=True, max_frames=n_frames)
    if video.shape[0] < n_frames:
        raise ConfigError(f"video={str(path)!r}: has {video.shape[0]} frames; the models read clips of {n_frames}")
    return torch.nn.functional.interpolate(video, size=tuple(size), mode="bilinear", align_corners=False).clamp(0, 1)


def _task_of(row: Mapping[str, Any]) -> str | None:
    """The task a counted row is about: the first item of its quantity's closing parenthesis (``(binary, gradient)``)."""
    quantity = str(row["quantity"])
    if row["verdict"] == "new" or not quantity.endswith(")"):
        return None
    return quantity[quantity.rfind("(") + 1:-1].split(",")[0].strip()


def pair_rows(profile: Any, runs: Sequence[str], videos_per_person_action: int | None, settings: dict[str, Any],
              device: Any = "cpu", variant: str | None = None) -> list[dict[str, Any]]:
    """The chapter's claim rows on one (LSTM, ICA-LSTM) pair of other runs: a replicate pair, or the control pair.

    The pair's four models (trained and untrained) are explained as the chapter's pairs are; the control
    models' test clips are cut as they were evaluated (``evaluation_offset``, inside the runs of frames with the
    person in view) instead of at the chapter's ``clip_offset``.
    """
    chosen = dict(settings)
    if variant == CONTROL:
        chosen["clip_offset"] = build_run(profile, runs[0]).data["evaluation_offset"]
    pair = model_pair(profile, runs[0], runs[1], videos_per_person_action, chosen, device)
    records = []
    for kind, weights in pair.models:
        records += pair_records(pair, kind, weights, model_source(profile, pair.runs[kind == "ICA"], weights), chosen)
    rows = vanishing_findings(records, chosen["fraction"], chosen["visible_threshold"]).claim_rows()
    return [row for row in rows if _task_of(row) == pair.task]  # the rows robust_claim_rows repeats


def robust_claim_rows(profile: Any, settings: dict[str, Any], rows: Sequence[Mapping[str, Any]],
                      device: Any = "cpu") -> list[dict[str, Any]]:
    """The chapter's ``rows`` with every counted row's verdicts on all training runs of its pair, then the control
    pairs' rows (:func:`~vidsal_study.training_runs.robust_rows`, one pair at a time)."""
    groups = []
    for (lstm_run, ica_run), per_cell in zip(settings["pairs"], settings["videos_per_person_action"]):
        task = model_pair_task(profile, lstm_run)
        groups.append(([lstm_run, ica_run], lambda row, task=task: _task_of(row) == task,
                       lambda runs, variant, per_cell=per_cell: pair_rows(profile, runs, per_cell, settings, device,
                                                                          variant)))
    return robust_rows_in_groups(profile, rows, groups)


def model_pair_task(profile: Any, run_name: str) -> str:
    """The task name of a pair's rows: ``"binary"`` or ``"<n>-class"`` (as :func:`model_pair`)."""
    classes = build_run(profile, run_name).spec.classes
    return "binary" if len(classes) == 2 else f"{len(classes)}-class"
