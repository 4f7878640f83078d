"""What the evaluation chapter reads from its sweeps: estimates, selections, comparisons and claim rows.

:mod:`vidsal_study.chapters.evaluation.study` runs the sweeps; this module
turns their results into what the chapter says, as small typed results whose
numbers and words the chapter glues into its Markdown:

- :func:`evaluation_findings`: the SynthKTH sweep (:class:`EvaluationFindings`):
  the summary table, the best-localising method of each model, the methods
  that localise and those that are faithful, TSR against the input gradient and
  flow against the best method;
- :func:`mask_ablation_findings`: TSR's mask value (:class:`MaskAblationFindings`);
- :func:`mask_comparisons`: TSR against the input gradient under the one
  flat-frame rule (:mod:`vidsal_core.metrics.flat_frames`), per model and mask
  value (:class:`MaskComparisons`); :func:`tsr_mask_rows` its claim rows and
  :func:`mask_sentence` the masks a claim holds for, in words;
- :func:`randomisation_findings`: the cascading randomisation check per model
  and method (:class:`RandomisationFindings`);
- :func:`i3d_findings`: the pretrained I3D on real footage (:class:`I3DFindings`);
- :func:`cam_findings`: the Grad-CAM family beside deep Taylor and the input
  gradient on C3D and I3D (:class:`CamFindings`);
- :func:`claim_rows`: the chapter's rows for the summary chapter
  (:mod:`vidsal_study.results`).

Every interval is :func:`~vidsal_core.statistics.mean_interval`'s and
written by :func:`~vidsal_core.statistics.interval_text`; a side of a
null value is :func:`vidsal_study.results.interval_side`'s and a seed claim's
verdict :func:`vidsal_study.results.verdict`'s. Nothing here draws or glues.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from vidsal_study.chapters.evaluation.study import (BOUNDED_METRICS, CAM_METHODS, METHOD_LABELS, TSR_MASK_VALUES,
                                                   mask_ablation_frame, model_descriptor, paired_difference,
                                                   summary_table, test_videos)
from vidsal_core.statistics import UNIT, Estimate, interval_text, mean_interval
from vidsal_core.metrics.flat_frames import FRAME_SETS, paired_estimate
from vidsal_study.training_runs import FULL_PROFILE_NOTE, main_run, robust_rows_in_groups, single_training_run
from vidsal_core.data.corpus import CorpusConfig, build_corpus
from vidsal_study.runs import build_run
from vidsal_study.results import claim_aggregate, claim_row, interval_side, new_row
from vidsal_study.profiles import corpus_config
from vidsal_core.metrics.randomisation import passes_randomisation

#: The text of a value that could not be measured.
MISSING = "n/a"
#: Methods that do not ask the model: left out of "best method" and "localising".
BASELINES: tuple[str, ...] = ("flow", "random")
#: Deletion and insertion units of the SynthKTH sweep.
UNITS: tuple[str, ...] = ("frames", "blocks")
#: A difference's side of 0 in words (prose only; seed claims use :func:`vidsal_study.results.verdict`).
DIFFERENCE_WORDS: dict[str, str] = {"above": "higher", "below": "lower",
                                    "holds": "not different (the interval spans 0)"}
#: Whether C3D's block TSR responds to the mask value as the LSTM's does (``None``: C3D not in the ablation).
MASK_RESPONSE_WORDS: dict[bool | None, str] = {
    True: "Yes",
    False: "No, it responds differently",
    None: ("Not measured at this profile, which leaves C3D out of the ablation (its block TSR costs about twenty "
           "times the LSTM's; the quick, default and full profiles include it)"),
}
#: TSR's mask values in words (quantity texts and the sentence of :func:`mask_sentence`).
MASK_WORDS: dict[str, str] = {"zero": "zero", "first_element": "first-element", "mean": "dataset-mean",
                              "blur": "blurred-copy"}
#: The mask value of the reference code (Ismail et al.'s ``getTwoStepRescaling``): the named headline row.
HEADLINE_MASK = "first_element"
#: The flat-frame rule's version the claim rows use (:data:`~vidsal_core.metrics.flat_frames.FRAME_SETS`), and why.
CLAIM_FRAME_SET = "in_view"
CLAIM_FRAME_SET_REASON = ("the claim is about the map a reader sees, every frame of it: a frame TSR leaves flat "
                          "shows nothing about where the person is, so it scores chance, and both maps are scored "
                          "on the same frames")
#: The version shown beside each claim row's number.
OTHER_FRAME_SET = "selected"
#: The TSR chapter's variants in words.
TSR_VARIANT_NAMES: dict[str, str] = {
    "reference_code": ("the reference code's (Ismail et al.'s public code: masks take the value of the video's "
                       "first element, Δ min-max scaled, 0.1 below α)"),
    "algorithm_1": "Algorithm 1 read literally (zero mask, raw Δ, 0 below α)",
}
#: What the randomisation cell says when every randomised map is constant (Grad-CAM's ReLU leaves 0).
CONSTANT = "undefined: every map is constant (0) once all layers are random"
#: The same correlation in the prose.
UNDEFINED_CORRELATION = "undefined, every map being constant (0) once all layers are random"
#: Methods of the Grad-CAM comparison: the CAM family, then the two references.
COMPARED: tuple[str, ...] = CAM_METHODS + ("deep_taylor", "input_gradient")
#: I3D methods whose deletion and randomisation numbers the chapter glues.
I3D_GLUED: tuple[str, ...] = ("input_gradient", "sensitivity", "deep_taylor", "random")
#: The claims the chapter's rows speak to.
BY_EYE_CLAIM = "saliency maps of video classifiers are judged by eye: we do not have a quantitative measure"
#: Ismail et al. (2020)'s finding that two-step TSR improves saliency maps, which seed 000 adopted as an aim (§3)
#: and found the opposite of (§4.3): its id in the claim register. The rows are counted under Ismail et al.
TSR_CLAIM_ID = "ismail2020-tsr-improves"
FLOW_CLAIM = "optical flow is the motion a walking/running classifier should attend to"
OCCLUSION_CLAIM = "time contribution (frame masking) shows which frames the model uses"
#: Adebayo et al. (2018)'s sanity check (cascading randomisation): measured, no counted verdict (its register id).
RANDOMISATION_CLAIM_ID = "adebayo2018-randomisation"
DEEP_TAYLOR_CLAIM = "deep Taylor maps show which frames the network uses"
CAM_CLAIM = "the Grad-CAM family explains a 3-D CNN (practitioners' method; no seed claim)"
#: The table's metrics and their column names (:meth:`EvaluationFindings.metric_table`).
TABLE_COLUMNS: dict[str, str] = {
    "person_lift": "person lift", "legs_lift": "legs lift", "pointing": "pointing",
    "auroc_person": "per-frame AUROC person", "auroc_legs": "per-frame AUROC legs",
    "pooled_auroc_person": "pooled AUROC person", "motion_correlation": "ρ(mass, motion)",
    "frames_deletion_auc": "deletion AUC (frames)", "frames_insertion_auc": "insertion AUC (frames)",
    "blocks_deletion_auc": "deletion AUC (blocks)", "blocks_insertion_auc": "insertion AUC (blocks)",
}


def side(estimate: Any, null: float = 0.0) -> str:
    """The side of ``null`` an estimate's interval lies on (:func:`~vidsal_study.results.interval_side`).

    No estimate (None) holds every value.

    Examples
    --------
    >>> side(Estimate(0.3, 0.1, 0.5, 4, 4)), side(None), side(Estimate(0.3, 0.1, 0.5, 4, 4), null=0.6)
    ('above', 'holds', 'below')
    """
    return "holds" if estimate is None else interval_side(estimate.low, estimate.high, null)


def estimate_text(estimate: Any, digits: int = 2) -> str:
    """``mean [low, high]`` with ``digits`` decimals, or :data:`MISSING` for no estimate or a non-finite mean.

    Examples
    --------
    >>> estimate_text(Estimate(0.5, 0.25, 0.75, 4, 2)), estimate_text(None)
    ('0.50 [0.25, 0.75]', 'n/a')
    """
    if estimate is None or not np.isfinite(estimate.mean):
        return MISSING
    return interval_text(estimate.mean, estimate.low, estimate.high, spec=f".{digits}f", missing=None)


def person_estimate(results: pd.DataFrame, run: str, method: str, metric: str) -> Estimate | None:
    """Mean of ``metric`` over one (model, method)'s clips with its interval over persons (None: no finite value);
    a metric of :data:`~vidsal_study.chapters.evaluation.study.BOUNDED_METRICS` gets the range-respecting one."""
    part = results[(results["model"] == run) & (results["method"] == method)]
    values = part[metric].to_numpy(float)
    bounds = UNIT if metric in BOUNDED_METRICS else None
    return mean_interval(values, part["person"].to_numpy(), bounds=bounds) if np.isfinite(values).any() else None


def clip_estimate(values: Any, bounds: tuple[float, float] | None = None) -> Estimate | None:
    """Mean with its interval over clips, each its own unit (I3D's footage); None when no value is finite.
    ``bounds``: the quantity's range, for the range-respecting interval (an area under a deletion curve)."""
    values = np.asarray(values, dtype=float)
    return mean_interval(values, bounds=bounds) if np.isfinite(values).any() else None


def _lines(runs: Sequence[str], texts: Mapping[str, str]) -> str:
    return "\n".join(f"- **{run}**: " + texts[run] for run in runs)


# --- the SynthKTH sweep ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationFindings:
    """What the SynthKTH sweep says: estimates, the best and the selected methods, and two comparisons.

    Attributes
    ----------
    runs : tuple of str
        The models (runs of the profile), in the chapter's order.
    methods : tuple of str
        The sweep's methods, in the profile's order.
    table : pandas.DataFrame
        :func:`~vidsal_study.chapters.evaluation.study.summary_table` of the sweep.
    best : dict
        Run → the saliency method (no baseline) with the highest mean per-frame AUROC of the person.
    localising : dict
        Run → the saliency methods whose per-frame AUROC interval lies above 0.5 and whose person lift
        interval lies above 0.
    faithful : dict
        Run → ``"label (frames and blocks)"`` of each method whose deletion area lies below the random
        order's and whose insertion area lies above it, for the units named.
    tsr_vs_gradient, flow_vs_best : dict
        Run → per-frame AUROC of TSR minus the input gradient, of flow minus the best method, paired
        over clips (None when the two share no clip).
    against_random : dict
        (run, method) → ``{"<unit>_<deletion|insertion>": Estimate or None}``: the method's area minus
        the random order's, paired over clips, for every method with a frames deletion difference.
    """

    runs: tuple[str, ...]
    methods: tuple[str, ...]
    table: pd.DataFrame
    best: dict[str, str]
    localising: dict[str, list[str]]
    faithful: dict[str, list[str]]
    tsr_vs_gradient: dict[str, Estimate | None]
    flow_vs_best: dict[str, Estimate | None]
    against_random: dict[tuple[str, str], dict[str, Estimate | None]]

    @property
    def saliency_methods(self) -> list[str]:
        """The sweep's methods that ask the model (no :data:`BASELINES`)."""
        return [method for method in self.methods if method not in BASELINES]

    def estimate(self, run: str, method: str, metric: str) -> Estimate | None:
        """The table's estimate of ``metric`` (None when absent or its mean is not finite)."""
        return table_estimate(self.table, run, method, metric)

    def interval(self, run: str, method: str, metric: str, digits: int = 2) -> str:
        """The table's estimate as text (:func:`estimate_text`)."""
        return estimate_text(self.estimate(run, method, metric), digits)

    def localising_lines(self) -> str:
        """A Markdown list: each model and the methods that localise the person ("no method" for none)."""
        return _lines(self.runs, {run: ", ".join(METHOD_LABELS[m] for m in self.localising[run]) or "no method"
                                  for run in self.runs})

    def faithful_lines(self) -> str:
        """A Markdown list: each model and its faithful methods with their units ("no method" for none)."""
        return _lines(self.runs, {run: ", ".join(self.faithful[run]) or "no method" for run in self.runs})

    def glued(self) -> dict[str, str]:
        """Every text the chapter glues from the sweep, by glue name."""
        texts: dict[str, str] = {}
        for run in self.runs:
            best = self.best[run]
            texts[f"best_{run}"] = METHOD_LABELS[best]
            for name, method in (("best", best), ("flow", "flow"), ("gradient", "input_gradient"),
                                 ("tsr", "tsr"), ("random", "random")):
                texts[f"{name}_{run}_auroc"] = self.interval(run, method, "auroc_person")
            texts[f"best_{run}_pooled_auroc"] = self.interval(run, best, "pooled_auroc_person")
            texts[f"tsr_{run}_pooled_auroc"] = self.interval(run, "tsr", "pooled_auroc_person")
        for run in self.runs:
            for name, difference in (("tsr_minus_gradient", self.tsr_vs_gradient[run]),
                                     ("flow_minus_best", self.flow_vs_best[run])):
                texts[f"{name}_{run}"] = MISSING if difference is None else str(difference)
                texts[f"{name}_{run}_word"] = DIFFERENCE_WORDS[side(difference)]
        texts["localising_methods"] = self.localising_lines()
        texts["faithful_methods"] = self.faithful_lines()
        for run in self.runs:
            for name, method in (("random", "random"), ("gradient", "input_gradient"),
                                 ("occlusion", "frame_occlusion")):
                texts[f"{name}_{run}_deletion"] = self.interval(run, method, "frames_deletion_auc")
        return texts

    def metric_table(self) -> pd.DataFrame:
        """Every metric of :data:`TABLE_COLUMNS` per (model, method) as ``mean [low, high]`` ("–": not measured)."""
        cells = self.table[self.table["metric"].isin(list(TABLE_COLUMNS))].copy()
        cells["text"] = [("–" if not np.isfinite(mean) else interval_text(mean, low, high, spec=".2f", missing=None))
                         for mean, low, high in zip(cells["mean"], cells["low"], cells["high"])]
        wide = cells.pivot_table(index=["model", "method"], columns="metric", values="text", aggfunc="first",
                                 sort=False)
        wide = wide[list(TABLE_COLUMNS)].rename(index=METHOD_LABELS, level="method")
        wide.columns = list(TABLE_COLUMNS.values())
        return wide


def table_estimate(table: pd.DataFrame, run: str, method: str, metric: str) -> Estimate | None:
    """One row of a :func:`~vidsal_study.chapters.evaluation.study.summary_table` as an Estimate.

    None when the table has no such row or its mean is not finite.
    """
    row = table[(table["model"] == run) & (table["method"] == method) & (table["metric"] == metric)]
    if row.empty or not np.isfinite(row["mean"].iloc[0]):
        return None
    row = row.iloc[0]
    units = row["units"] if "units" in row and np.isfinite(row["units"]) else None
    return Estimate(row["mean"], row["low"], row["high"], int(row["count"]), None if units is None else int(units))


def evaluation_findings(results: pd.DataFrame, methods: Sequence[str], runs: Sequence[str],
                        table: pd.DataFrame | None = None) -> EvaluationFindings:
    """What the SynthKTH sweep says (:class:`EvaluationFindings`).

    Parameters
    ----------
    results : pandas.DataFrame
        :func:`~vidsal_study.chapters.evaluation.study.run_items`: one row per (model, method, clip).
    methods : sequence of str
        The sweep's methods (the profile's ``evaluation_chapter.methods``), in order.
    runs : sequence of str
        The models, in order.
    table : pandas.DataFrame, optional
        The sweep's :func:`~vidsal_study.chapters.evaluation.study.summary_table` (computed when not given).
    """
    table = summary_table(results) if table is None else table
    runs, methods = tuple(runs), tuple(methods)
    saliency_methods = [method for method in methods if method not in BASELINES]
    best, localising = {}, {}
    for run in runs:
        part = table[(table["model"] == run) & (table["metric"] == "auroc_person")
                     & table["method"].isin(saliency_methods)]
        best[run] = part.sort_values("mean", ascending=False).iloc[0]["method"]
        localising[run] = [method for method in saliency_methods if _localises(table, run, method)]
    tsr_vs_gradient = {run: paired_difference(results, run, "tsr", "input_gradient", "auroc_person") for run in runs}
    flow_vs_best = {run: paired_difference(results, run, "flow", best[run], "auroc_person") for run in runs}
    faithful: dict[str, list[str]] = {}
    against_random: dict[tuple[str, str], dict[str, Estimate | None]] = {}
    for run in runs:
        faithful[run] = []
        for method in [method for method in methods if method != "random"]:
            differences = {f"{unit}_{mode}": paired_difference(results, run, method, "random", f"{unit}_{mode}_auc")
                           for unit in UNITS for mode in ("deletion", "insertion")}
            if differences["frames_deletion"] is None:
                continue
            passes = [unit for unit in UNITS if side(differences[f"{unit}_deletion"]) == "below"
                      and side(differences[f"{unit}_insertion"]) == "above"]
            if passes:
                faithful[run].append(f"{METHOD_LABELS[method]} ({' and '.join(passes)})")
            against_random[(run, method)] = differences
    return EvaluationFindings(runs, methods, table, best, localising, faithful, tsr_vs_gradient, flow_vs_best,
                              against_random)


def _localises(table: pd.DataFrame, run: str, method: str) -> bool:
    auroc = table_estimate(table, run, method, "auroc_person")
    lift = table_estimate(table, run, method, "person_lift")
    return auroc is not None and auroc.low > 0.5 and lift is not None and lift.low > 0


# --- TSR's mask value --------------------------------------------------------------------------------------


#: Columns of the mask ablation's results and their names in its table.
MASK_COLUMNS: dict[str, str] = {"tsr_auroc_in_view": "per-frame AUROC, every in-view frame (flat: 0.5)",
                                "tsr_auroc_selected": "per-frame AUROC, frames above α",
                                "pooled_auroc_person": "pooled AUROC"}


@dataclass(frozen=True)
class MaskAblationFindings:
    """What TSR's mask ablation says.

    Attributes
    ----------
    runs : tuple of str
        The chapter's models (every one gets a text, :data:`MISSING` when not in the ablation).
    table : pandas.DataFrame
        One row per (model, mask value): clips and the three AUROCs of :data:`MASK_COLUMNS` as text.
    intensities : pandas.DataFrame
        Per model: clips, mean intensity of the person's and the background's pixels, the mean mask.
    auroc : dict
        (run, mask value) → per-frame AUROC of the person (interval over persons).
    c3d_same : bool or None
        Whether the first C3D run of the ablation ranks the zero mask against the first-element mask as
        the first LSTM run does (by mean per-frame AUROC); None when no C3D run is in the ablation.
    """

    runs: tuple[str, ...]
    table: pd.DataFrame
    intensities: pd.DataFrame
    auroc: dict[tuple[str, str], Estimate]
    c3d_same: bool | None

    def glued(self) -> dict[str, str]:
        """Every text the chapter glues from the ablation, by glue name."""
        texts = {f"mask_{run}_{mask}_auroc": estimate_text(self.auroc.get((run, mask)))
                 for run in self.runs for mask in TSR_MASK_VALUES}
        for run in self.runs:
            row = self.intensities.loc[run] if run in self.intensities.index else None
            for name, column in (("person", "person intensity"), ("background", "background intensity")):
                texts[f"{name}_intensity_{run}"] = MISSING if row is None else f"{row[column]:.2f}"
        texts["c3d_mask_response"] = MASK_RESPONSE_WORDS[self.c3d_same]
        return texts


def mask_ablation_findings(masks: pd.DataFrame, architectures: Mapping[str, str]) -> MaskAblationFindings:
    """What TSR's mask ablation says (:class:`MaskAblationFindings`).

    Parameters
    ----------
    masks : pandas.DataFrame
        :func:`~vidsal_study.chapters.evaluation.study.mask_ablation_frame` (empty: no ablation).
    architectures : mapping
        The chapter's runs, in order, each to its model (``"c3d"``, ``"frame_lstm"``, ...).
    """
    runs = tuple(architectures)
    if masks.empty:
        return MaskAblationFindings(runs, pd.DataFrame(), pd.DataFrame(), {}, None)
    rows, auroc = [], {}
    for (run, mask_value), part in masks.groupby(["model", "mask_value"], sort=False):
        row = {"model": run, "mask value": mask_value, "clips": len(part)}
        for column, name in MASK_COLUMNS.items():
            values = part[column].to_numpy(float)
            finite = np.isfinite(values)
            value = (mean_interval(values[finite], part["person"].to_numpy()[finite], bounds=UNIT)  # AUROCs
                     if finite.any() else None)
            row[name] = estimate_text(value)
            if column == "tsr_auroc_in_view" and value is not None:
                auroc[(run, mask_value)] = value
        rows.append(row)
    clips = masks.drop_duplicates(["model", "video"])
    intensities = clips.groupby("model", sort=False).agg(
        clips=("video", "size"), person=("person_intensity", "mean"), background=("background_intensity", "mean"),
        mask_mean=("mask_mean", "first")).round(3)
    intensities.columns = ["clips", "person intensity", "background intensity", "mean mask"]
    ablated = list(dict.fromkeys(masks["model"]))
    c3d = [run for run in runs if architectures[run] == "c3d" and run in ablated]
    lstm = [run for run in ablated if architectures[run] != "c3d"]
    same = None
    if c3d:
        same = bool(lstm) and _zero_below_first(masks, c3d[0]) == _zero_below_first(masks, lstm[0])
    return MaskAblationFindings(runs, pd.DataFrame(rows), intensities, auroc, same)


def _zero_below_first(masks: pd.DataFrame, run: str) -> bool:
    """Does the zero mask localise worse than the first-element mask on this run (mean per-frame AUROC)?"""
    means = masks[masks["model"] == run].groupby("mask_value")["tsr_auroc_in_view"].mean()
    return bool(means.get("zero", np.nan) < means.get("first_element", np.nan))


# --- cascading randomisation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RandomisationOutcome:
    """One (model, method) of the randomisation check with a finite correlation once every layer is random.

    ``estimate``: mean per-frame Spearman correlation with the trained model's maps, interval over persons;
    ``result``: :func:`~vidsal_core.metrics.randomisation.passes_randomisation`'s word.
    """

    model: str
    method: str
    estimate: Estimate
    result: str


@dataclass(frozen=True)
class RandomisationFindings:
    """What the cascading randomisation check says, per model.

    Attributes
    ----------
    runs : tuple of str
        The chapter's models.
    results : dict
        Run → {result word → labels of the methods with that result}, methods in alphabetical order.
    outcomes : tuple of RandomisationOutcome
        The (model, method) pairs with a finite correlation at the last step.
    checked : frozenset
        Every (model, method) pair the check ran.
    note : str
        Why the check did not run (empty when it did).
    """

    runs: tuple[str, ...]
    results: dict[str, dict[str, list[str]]]
    outcomes: tuple[RandomisationOutcome, ...]
    checked: frozenset[tuple[str, str]]
    note: str = ""

    def lines(self) -> str:
        """A Markdown list: each model and its methods per result (or why the check did not run)."""
        if not self.checked:
            return f"- the check was {self.note}"
        return _lines(self.runs, {run: "; ".join(f"{word}: {', '.join(names)}"
                                                 for word, names in self.results.get(run, {}).items())
                                  for run in self.runs})

    def outcome(self, run: str, method: str) -> RandomisationOutcome | None:
        """The outcome of one (model, method), None when its correlation is undefined or it was not checked."""
        return next((row for row in self.outcomes if row.model == run and row.method == method), None)


def randomisation_findings(randomised: pd.DataFrame, runs: Sequence[str], note: str = "") -> RandomisationFindings:
    """What the cascading randomisation check says (:class:`RandomisationFindings`).

    The one rule: per-frame Spearman per clip with every layer random, intervals over persons,
    :func:`vidsal_study.results.verdict` against 0.5
    (:func:`~vidsal_core.metrics.randomisation.passes_randomisation`).

    Parameters
    ----------
    randomised : pandas.DataFrame
        :func:`~vidsal_study.chapters.evaluation.study.randomisation_frames` with a ``person`` column
        (empty: the check did not run).
    runs : sequence of str
        The chapter's models, in order.
    note : str
        Why the check did not run.
    """
    runs = tuple(runs)
    if not len(randomised):
        return RandomisationFindings(runs, {}, (), frozenset(), note)

    results: dict[str, dict[str, list[str]]] = {}
    outcomes = []
    for run in runs:
        results[run] = {}
        for method in sorted(set(randomised[randomised["model"] == run]["method"])):
            part = randomised[(randomised["model"] == run) & (randomised["method"] == method)]
            outcome = passes_randomisation(part, groups="person")
            last = part[part["step"] == part["step"].max()]
            finite = np.isfinite(last["spearman_frames"].to_numpy(float))
            if finite.any():  # no finite correlation (every map constant): no estimate to record
                value = mean_interval(last["spearman_frames"].to_numpy(float)[finite], last["person"].to_numpy()[finite])
                outcomes.append(RandomisationOutcome(run, method, value, outcome["result"]))
            results[run].setdefault(outcome["result"], []).append(METHOD_LABELS[method])
    checked = frozenset(zip(randomised["model"], randomised["method"]))
    return RandomisationFindings(runs, results, tuple(outcomes), checked, note)


# --- I3D on real footage ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class I3DFindings:
    """What I3D's faithfulness and randomisation sweeps say, for the methods of :data:`I3D_GLUED`.

    Intervals are over clips (each clip its own unit). Every mapping holds the methods of
    :data:`I3D_GLUED`; a value is None when nothing was measured.

    Attributes
    ----------
    deletion : dict
        Method → area under the deletion curve of frames.
    deletion_minus_random : dict
        Method → that area minus the random order's on the same clip (no entry for ``random``).
    spearman_logits, spearman_all : dict
        Method → per-frame Spearman with the trained I3D's maps once the logits layer (step 1), and
        once every layer (the last step), is random.
    results : dict
        Method → :func:`~vidsal_core.metrics.randomisation.passes_randomisation`'s word (methods checked only).
    """

    deletion: dict[str, Estimate | None]
    deletion_minus_random: dict[str, Estimate | None]
    spearman_logits: dict[str, Estimate | None]
    spearman_all: dict[str, Estimate | None]
    results: dict[str, str]

    def glued(self) -> dict[str, str]:
        """Every text the chapter glues from I3D, by glue name."""
        texts = {}
        for method in I3D_GLUED:
            texts[f"i3d_{method}_deletion"] = estimate_text(self.deletion[method])
            texts[f"i3d_{method}_deletion_minus_random"] = estimate_text(self.deletion_minus_random.get(method))
            texts[f"i3d_{method}_spearman_all"] = estimate_text(self.spearman_all[method])
            texts[f"i3d_{method}_spearman_logits"] = estimate_text(self.spearman_logits[method])
            if method in self.results:
                texts[f"i3d_{method}_randomisation_result"] = self.results[method]
        return texts


def i3d_findings(faith: pd.DataFrame, randomised: pd.DataFrame) -> I3DFindings:
    """What I3D's sweeps say (:class:`I3DFindings`).

    Parameters
    ----------
    faith, randomised : pandas.DataFrame
        :func:`~vidsal_study.chapters.evaluation.study.i3d_frames`' two frames (empty: no I3D part).
    """
    deletion, minus_random, logits, every_layer, results = {}, {}, {}, {}, {}
    for method in I3D_GLUED:
        part = faith[faith["method"] == method] if len(faith) else pd.DataFrame()
        deletion[method] = clip_estimate(part["deletion_auc"], UNIT) if len(part) else None
        if len(part) and method != "random":
            paired = (part.set_index("video")["deletion_auc"]
                      - faith[faith["method"] == "random"].set_index("video")["deletion_auc"])
            minus_random[method] = clip_estimate(paired.dropna().to_numpy())
        chosen = randomised[randomised["method"] == method] if len(randomised) else pd.DataFrame()
        last = chosen[chosen["step"] == randomised["step"].max()] if len(chosen) else chosen
        first = chosen[chosen["step"] == 1] if len(chosen) else chosen
        every_layer[method] = clip_estimate(last["spearman_frames"]) if len(last) else None
        logits[method] = clip_estimate(first["spearman_frames"]) if len(first) else None
        if len(last):  # the one rule, source videos as units
            from vidsal_core.metrics.randomisation import passes_randomisation

            results[method] = passes_randomisation(chosen, groups="footage")["result"]
    return I3DFindings(deletion, minus_random, logits, every_layer, results)


# --- the Grad-CAM family on C3D and I3D ---------------------------------------------------------------------


@dataclass(frozen=True)
class CamComparison:
    """One (model, method) of the Grad-CAM comparison.

    ``where`` is ``"c3d"`` (SynthKTH) or ``"i3d"`` (real footage); ``run`` the model's name. ``values``:
    ``auroc`` (per-frame AUROC of the person, C3D only), ``deletion``, ``insertion`` (frames, minus the random
    order, paired over clips), ``blocks`` (deletion of blocks minus random, C3D only), ``spearman`` (I3D only:
    per-frame Spearman once every layer is random). ``randomisation``: the randomisation column's text;
    ``result``: I3D's randomisation word ("n/a" when not checked).
    """

    where: str
    run: str
    method: str
    values: dict[str, Estimate | None]
    randomisation: str
    result: str = MISSING


@dataclass(frozen=True)
class CamFindings:
    """The Grad-CAM family beside deep Taylor and the input gradient (:func:`cam_findings`).

    Attributes
    ----------
    comparisons : tuple of CamComparison
        Every compared (model, method): C3D runs first, then I3D.
    minus_deep_taylor : Estimate or None
        Per-frame AUROC of Grad-CAM minus deep Taylor on the first C3D run, paired over clips.
    seconds : dict
        Method (``grad_cam``, ``input_gradient``) → mean seconds of a C3D map in the sweep (NaN: none).
    layers : dict
        Network (``c3d``, ``i3d``) → the layer the CAM methods read.
    """

    comparisons: tuple[CamComparison, ...]
    minus_deep_taylor: Estimate | None
    seconds: dict[str, float]
    layers: dict[str, str]

    def first(self, where: str, method: str) -> CamComparison | None:
        """The first comparison of a method on ``"c3d"`` or ``"i3d"`` (None: not compared there)."""
        return next((row for row in self.comparisons if row.where == where and row.method == method), None)

    def glued(self) -> dict[str, str]:
        """Every text the chapter glues from the comparison, by glue name."""
        texts = {"cam_layers": (f"`{self.layers['c3d']}` of C3D, after conv5b's ReLU; "
                                f"`{self.layers['i3d']}` of I3D")}
        for method in COMPARED:
            c3d, i3d = self.first("c3d", method), self.first("i3d", method)
            texts[f"cam_auroc_{method}"] = estimate_text(c3d.values.get("auroc") if c3d else None)
            texts[f"cam_deletion_{method}"] = estimate_text(c3d.values.get("deletion") if c3d else None)
            texts[f"cam_i3d_deletion_{method}"] = estimate_text(i3d.values.get("deletion") if i3d else None)
            spearman = i3d.values["spearman"] if i3d else None
            texts[f"cam_i3d_correlation_{method}"] = (
                estimate_text(spearman) if spearman is not None
                else UNDEFINED_CORRELATION if i3d and i3d.randomisation == CONSTANT else MISSING)
            texts[f"cam_i3d_result_{method}"] = i3d.result if i3d else MISSING
        texts["cam_minus_deep_taylor"] = estimate_text(self.minus_deep_taylor)
        texts["cam_minus_deep_taylor_word"] = DIFFERENCE_WORDS[side(self.minus_deep_taylor)]
        for name, method in (("cam_seconds", "grad_cam"), ("cam_gradient_seconds", "input_gradient")):
            texts[name] = MISSING if not np.isfinite(self.seconds[method]) else f"{self.seconds[method]:.3f}"
        return texts

    def table(self) -> pd.DataFrame:
        """One row per comparison: model and data, method, and each value as text."""
        rows = []
        for row in self.comparisons:
            c3d = row.where == "c3d"
            rows.append({"model · data": f"{row.run} · SynthKTH" if c3d else "Kinetics-400 I3D · real footage",
                         "method": METHOD_LABELS[row.method],
                         "per-frame AUROC (person)": estimate_text(row.values["auroc"]) if c3d
                         else "n/a (no ground truth)",
                         "deletion − random (frames)": estimate_text(row.values["deletion"]),
                         "insertion − random (frames)": estimate_text(row.values["insertion"]),
                         "deletion − random (blocks)": estimate_text(row.values["blocks"]) if c3d else MISSING,
                         "randomisation, all layers": row.randomisation})
        return pd.DataFrame(rows)


def cam_findings(results: pd.DataFrame, cnn_runs: Sequence[str], randomisation: RandomisationFindings,
                 i3d_faith: pd.DataFrame, i3d_random: pd.DataFrame,
                 layers: Mapping[str, str] | None = None) -> CamFindings:
    """The Grad-CAM family beside deep Taylor and the input gradient (:class:`CamFindings`).

    Parameters
    ----------
    results : pandas.DataFrame
        The SynthKTH sweep (:func:`~vidsal_study.chapters.evaluation.study.run_items`).
    cnn_runs : sequence of str
        The sweep's C3D runs.
    randomisation : RandomisationFindings
        The SynthKTH randomisation check.
    i3d_faith, i3d_random : pandas.DataFrame
        I3D's sweeps (empty: no I3D part).
    layers : mapping, optional
        Network → the CAM layer (default :data:`vidsal_core.saliency.gradcam.DEFAULT_TARGET_LAYERS`).
    """
    if layers is None:
        from vidsal_core.saliency.gradcam import DEFAULT_TARGET_LAYERS as layers
    comparisons = []
    for run in cnn_runs:  # C3D on SynthKTH: localisation, deletion/insertion, randomisation
        present = set(results[results["model"] == run]["method"])
        for method in [m for m in COMPARED if m in present]:
            values = {"auroc": person_estimate(results, run, method, "auroc_person"),
                      **{name: paired_difference(results, run, method, "random", metric) for name, metric in
                         (("deletion", "frames_deletion_auc"), ("insertion", "frames_insertion_auc"),
                          ("blocks", "blocks_deletion_auc"))}}
            outcome = randomisation.outcome(run, method)
            text = (f"{estimate_text(outcome.estimate)}: {outcome.result}" if outcome
                    else CONSTANT if (run, method) in randomisation.checked else MISSING)
            comparisons.append(CamComparison("c3d", run, method, values, text))
    if len(i3d_faith):  # I3D on real footage: faithfulness and randomisation
        comparisons += _i3d_comparisons(i3d_faith, i3d_random)
    difference = (paired_difference(results, cnn_runs[0], "grad_cam", "deep_taylor", "auroc_person")
                  if cnn_runs else None)
    seconds = {method: results[(results["method"] == method) & results["model"].isin(cnn_runs)]["seconds"].mean()
               for method in ("grad_cam", "input_gradient")}
    return CamFindings(tuple(comparisons), difference, seconds, dict(layers))


def _i3d_comparisons(faith: pd.DataFrame, randomised: pd.DataFrame) -> list[CamComparison]:

    random_order = {mode: faith[faith["method"] == "random"].set_index("video")[f"{mode}_auc"]
                    for mode in ("deletion", "insertion")}
    comparisons = []
    for method in [m for m in COMPARED if m in set(faith["method"])]:
        part = faith[faith["method"] == method].set_index("video")
        values = {mode: clip_estimate((part[f"{mode}_auc"] - random_order[mode]).dropna().to_numpy())
                  for mode in ("deletion", "insertion")}
        chosen = randomised[randomised["method"] == method] if len(randomised) else pd.DataFrame()
        last = chosen[chosen["step"] == chosen["step"].max()] if len(chosen) else chosen
        values.update(auroc=None, blocks=None,
                      spearman=clip_estimate(last["spearman_frames"]) if len(last) else None)
        result = passes_randomisation(chosen, groups="footage")["result"] if len(chosen) else MISSING
        text = (f"{estimate_text(values['spearman'])}: {result}" if values["spearman"] is not None
                else CONSTANT if len(last) else MISSING)
        comparisons.append(CamComparison("i3d", "i3d", method, values, text, result))
    return comparisons


def mask_quantity(quantity: str, model: str, mask_value: str) -> str:
    """A per-mask row's quantity text: ``"<quantity> (<model>, mask=<value>)"`` (the mask in the parentheses).

    Examples
    --------
    >>> mask_quantity("TSR − gradient", "FrameLSTM", "blur")
    'TSR − gradient (FrameLSTM, mask=blur)'
    """
    if mask_value not in TSR_MASK_VALUES:
        raise ConfigError(f"mask_value={mask_value!r}: choose one of {list(TSR_MASK_VALUES)}")
    return f"{quantity} ({model}, mask={mask_value})"


def mask_sentence(rows: Sequence[Mapping[str, Any]], claim: str, model: str) -> str:
    """For which mask values a claim holds on one model, in words, computed from its rows.

    The rows of ``claim`` (a claim id of the register, or a claim's words) whose quantity names ``(model, mask=…)`` (:func:`mask_quantity`)
    go through :func:`vidsal_study.results.claim_aggregate`, which gives each
    verdict with the masks that carry it.

    Examples
    --------
    >>> rows = [{"claim": "c", "quantity": f"q (M, mask={m})", "verdict": v}
    ...         for m, v in (("zero", "contradicted"), ("first_element", "contradicted"), ("blur", "reproduced"))]
    >>> mask_sentence(rows, "c", "M")
    'reproduced with the blurred-copy mask; contradicted with the zero and first-element masks'
    """
    marker = f"({model}, mask="
    chosen = []
    for row in rows:
        quantity = str(row["quantity"])
        if claim not in (row.get("claim_id"), row["claim"]) or marker not in quantity:
            continue
        mask_value = quantity[quantity.rfind("mask=") + 5:quantity.rfind(")")]
        chosen.append({**row, "claim": claim, "quantity": f"({mask_value})"})
    line = claim_aggregate(chosen).get(claim)
    if not line:
        return MISSING
    parts = []
    for part in line.split("; "):
        verdict, _, masks = part.partition(" on ")
        words = [MASK_WORDS.get(mask, mask) for mask in masks.split(", ")]
        listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        parts.append(f"{verdict} with the {listed} mask{'s' if len(words) > 1 else ''}")
    return "; ".join(parts)


@dataclass(frozen=True)
class MaskComparisons:
    """Block TSR against the input gradient under the flat-frame rule, per model and mask value.

    Attributes
    ----------
    runs : tuple of str
        The models of the ablation, in the chapter's order.
    mask_values : tuple of str
        The mask values, in the ablation's order.
    estimates : dict
        (run, mask value, frame set, part) → Estimate over persons (None when not measured);
        ``part``: ``"difference"`` (TSR − gradient, paired by frame within clip), ``"first"`` (TSR),
        ``"second"`` (gradient).
    """

    runs: tuple[str, ...]
    mask_values: tuple[str, ...]
    estimates: dict[tuple[str, str, str, str], Estimate | None]

    def table(self) -> pd.DataFrame:
        """One row per (model, mask value): TSR, gradient and their difference in both versions, as text."""
        rows = []
        for run in self.runs:
            for mask_value in self.mask_values:
                row = {"model": run, "mask value": mask_value}
                for frame_set in FRAME_SETS:
                    name = "every in-view frame" if frame_set == "in_view" else "frames TSR selected"
                    for part, label in (("first", "TSR"), ("second", "gradient"), ("difference", "TSR − gradient")):
                        row[f"{label}, {name}"] = estimate_text(self.estimates.get((run, mask_value, frame_set, part)))
                rows.append(row)
        return pd.DataFrame(rows)

    def glued(self, runs: Sequence[str] | None = None) -> dict[str, str]:
        """Every text the chapter glues from the comparisons, by glue name.

        ``rule_<run>_<mask>_<frame set>`` (the difference), ``rule_<run>_<mask>_<frame set>_tsr`` and
        ``..._gradient`` (each map's mean per-frame AUROC), for every run of ``runs`` (default the ablated
        ones; :data:`MISSING` where not measured) and every mask value of :data:`TSR_MASK_VALUES`;
        ``mask_sentence_<run>``: for which masks the chapter's claim holds (:func:`mask_sentence` of
        :func:`tsr_mask_rows`).
        """
        runs = self.runs if runs is None else tuple(runs)
        texts = {}
        rows = tsr_mask_rows(self)
        for run in runs:
            for mask_value in TSR_MASK_VALUES:
                for frame_set in FRAME_SETS:
                    name = f"rule_{run}_{mask_value}_{frame_set}"
                    for part, suffix in (("difference", ""), ("first", "_tsr"), ("second", "_gradient")):
                        texts[name + suffix] = estimate_text(self.estimates.get((run, mask_value, frame_set, part)))
            texts[f"mask_sentence_{run}"] = mask_sentence(rows, TSR_CLAIM_ID, run)
        return texts


def mask_comparisons(masks: pd.DataFrame, runs: Sequence[str]) -> MaskComparisons:
    """TSR − gradient under the flat-frame rule from the mask ablation (:class:`MaskComparisons`).

    Parameters
    ----------
    masks : pandas.DataFrame
        :func:`~vidsal_study.chapters.evaluation.study.mask_ablation_frame` (its ``comparison`` column).
    runs : sequence of str
        The chapter's models in order (those not in the ablation are left out).
    """
    if masks.empty or "comparison" not in masks:
        return MaskComparisons((), (), {})
    ablated = [run for run in runs if run in set(masks["model"])]
    mask_values = tuple(dict.fromkeys(masks["mask_value"]))
    estimates = {}
    for run in ablated:
        for mask_value in mask_values:
            part = masks[(masks["model"] == run) & (masks["mask_value"] == mask_value)]
            for frame_set in FRAME_SETS:
                for which in ("difference", "first", "second"):
                    estimates[run, mask_value, frame_set, which] = paired_estimate(
                        part["comparison"].tolist(), part["person"].tolist(), frame_set, which)
    return MaskComparisons(tuple(ablated), mask_values, estimates)


# --- the chapter's claim rows -----------------------------------------------------------------------------


def claim_rows(found: EvaluationFindings, randomisation: RandomisationFindings, i3d: I3DFindings,
               cam: CamFindings, masks: MaskComparisons | None = None) -> list[dict[str, Any]]:
    """The chapter's rows for the summary chapter (:func:`vidsal_study.results.record_claims`), in order.

    The best method's per-frame AUROC on the first model (seed 000: maps are judged by eye); TSR against the
    input gradient and flow against the best method on each model; frame occlusion's deletion against a random
    order; every randomisation outcome; I3D's deep Taylor deletion and randomisation outcomes; the Grad-CAM
    family on C3D and I3D.

    TSR against the input gradient comes from the mask ablation (``masks``, :func:`mask_comparisons`): one row
    per model and mask value, the reference code's mask (:data:`HEADLINE_MASK`) first, each scored under the
    flat-frame rule on every in-view frame (:data:`CLAIM_FRAME_SET`), the frames TSR selected in its note.
    """
    rows = []
    first = found.runs[0]
    top = found.estimate(first, found.best[first], "auroc_person")
    if top is not None:
        rows.append(new_row(
            "000", BY_EYE_CLAIM,
            f"per-frame AUROC of the best-localising method ({METHOD_LABELS[found.best[first]]}) as a detector of "
            f"the person's pixels ({first})", top.mean, units=top.units,
            note=f"{top.mean:.3f} [{top.low:.3f}, {top.high:.3f}], chance 0.5; "
                 f"{len(found.localising[first])} of {len(found.saliency_methods)} methods localise above chance"))
    rows += tsr_mask_rows(masks)
    for run in found.runs:
        difference = found.flow_vs_best[run]
        if difference is not None:
            rows.append(new_row("000", FLOW_CLAIM,
                                f"per-frame AUROC (person) of Farneback flow minus the best saliency method ({run})",
                                difference, note=f"flow {DIFFERENCE_WORDS[side(difference)]}"))
    for (run, method), differences in found.against_random.items():
        if method == "frame_occlusion":
            value = differences["frames_deletion"]
            rows.append(new_row("000", OCCLUSION_CLAIM,
                                f"deletion AUC of frames, frame occlusion minus random order ({run})", value,
                                note=f"faithful to the model if below 0: {side(value)} 0"))
    for outcome in randomisation.outcomes:
        rows.append(new_row(None, None,
                            f"Spearman of {METHOD_LABELS[outcome.method]} maps, trained vs fully randomised "
                            f"({outcome.model})", outcome.estimate, claim_id=RANDOMISATION_CLAIM_ID,
                            note=f"{outcome.result} (per-frame Spearman, cluster t interval over persons, against 0.5)"))
    rows += _i3d_rows(i3d)
    rows += _cam_rows(cam)
    return rows


#: The quantity of TSR's rows against the input gradient (:func:`tsr_mask_rows`), before its model and mask.
TSR_MASK_QUANTITY = "per-frame AUROC (person) of TSR minus input gradient, every in-view frame, flat frames at 0.5"


def tsr_mask_rows(masks: MaskComparisons | None) -> list[dict[str, Any]]:
    """TSR − input gradient rows: per model, one per mask value, the headline (reference code's) mask first."""
    if masks is None:
        return []
    rows = []
    order = sorted(masks.mask_values, key=lambda value: value != HEADLINE_MASK)
    for run in masks.runs:
        for mask_value in order:
            difference = masks.estimates.get((run, mask_value, CLAIM_FRAME_SET, "difference"))
            if difference is None:
                continue
            other = masks.estimates.get((run, mask_value, OTHER_FRAME_SET, "difference"))
            headline = "headline (the reference code's mask); " if mask_value == HEADLINE_MASK else ""
            rows.append(claim_row(
                TSR_CLAIM_ID, mask_quantity(TSR_MASK_QUANTITY, main_run(run), mask_value), difference,
                note=f"{headline}paired by frame within clip; on the frames TSR selected: {estimate_text(other)}"))
    return rows


def _i3d_rows(i3d: I3DFindings) -> list[dict[str, Any]]:
    rows = []
    value = i3d.deletion_minus_random.get("deep_taylor")
    if value is not None:
        rows.append(new_row("002", DEEP_TAYLOR_CLAIM, "deletion AUC of frames, deep Taylor minus random order "
                                                      "(Kinetics-400 I3D on real footage)",
                            value, note=f"faithful if below 0: {side(value)} 0; {value.count} clips"))
    for method, value in i3d.spearman_all.items():
        if value is not None:
            rows.append(new_row(None, None, f"Spearman of {METHOD_LABELS[method]} maps, trained vs fully randomised "
                                "(Kinetics-400 I3D, real footage)", value, claim_id=RANDOMISATION_CLAIM_ID,
                                note=i3d.results[method]))
    return rows


def _cam_rows(cam: CamFindings) -> list[dict[str, Any]]:
    rows = []
    for row in cam.comparisons:
        if row.method not in CAM_METHODS:
            continue
        values, label = row.values, METHOD_LABELS[row.method]
        if row.where == "c3d":
            quantity = f"{label} at {cam.layers['c3d']} ({row.run}, SynthKTH)"
            if values["auroc"] is not None:
                rows.append(new_row("002", CAM_CLAIM, f"per-frame AUROC (person), {quantity}", values["auroc"],
                                    note=f"chance 0.5: {side(values['auroc'], 0.5)} it"))
            for name, good in (("deletion", "below"), ("insertion", "above")):
                if values[name] is not None:
                    rows.append(new_row("002", CAM_CLAIM, f"{name} AUC of frames minus random order, {quantity}",
                                        values[name], note=f"faithful if {good} 0: {side(values[name])} 0"))
            continue
        quantity = f"{label} at {cam.layers['i3d']} (Kinetics-400 I3D, real footage)"
        if values["deletion"] is not None:
            rows.append(new_row("002", CAM_CLAIM, f"deletion AUC of frames minus random order, {quantity}",
                                values["deletion"], note=f"faithful if below 0: {side(values['deletion'])} 0"))
        if values["spearman"] is not None:
            rows.append(new_row(None, None,
                                f"Spearman of {label} maps, trained vs fully randomised (Kinetics-400 I3D, real footage)",
                                values["spearman"], claim_id=RANDOMISATION_CLAIM_ID, note=row.result))
    return rows


def mask_rows_on_runs(profile: str, settings: Mapping[str, Any], runs: Sequence[str],
                      variant: str | None = None) -> list[dict[str, Any]]:
    """:func:`tsr_mask_rows` on other runs (a replicate's, or the control models): TSR's mask ablation on as
    many test clips as the main run's (``settings``: :func:`~vidsal_study.chapters.evaluation.study.chapter_settings`;
    ``variant`` is accepted for :func:`~vidsal_study.training_runs.robust_rows`). Every model is tested on
    the chapter's clips, cut at the video's centre at the model's clip length
    (:func:`~vidsal_study.chapters.evaluation.study.load_clip`), the control models too: the flat-frame rule
    scores every in-view frame, so a frame without the person is left out of the score either way."""
    ablation = settings["mask_ablation"]
    models, videos, counts = {}, {}, {}
    for name in runs:
        models[name] = model_descriptor(profile, name)
        counts[name] = ablation["videos"][main_run(name)]
        corpus = build_corpus(corpus_config(profile, models[name]["corpus"]), progress=False)
        videos[name] = test_videos(corpus, models[name]["classes"], counts[name])
    frame = mask_ablation_frame(models, videos, {**ablation, "runs": list(runs), "videos": counts}, settings["options"])
    return tsr_mask_rows(mask_comparisons(frame, list(runs)))


def robust_claim_rows(profile: str, settings: Mapping[str, Any], rows: Sequence[Mapping[str, Any]],
                      groups: Sequence[Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """The chapter's ``rows`` with its counted rows (TSR against the gradient, per model and mask value) repeated
    on every training run of their model and on the control models
    (:func:`~vidsal_study.training_runs.robust_rows`).

    ``groups``: the runs of the mask ablation explained side by side, default the binary (walking-vs-running)
    runs together and each other run alone; a group's runs must be replicated alike.
    """
    ablation = settings.get("mask_ablation")
    if ablation is None:
        return [dict(row) for row in rows]
    if settings.get("training_runs", "all") == "first":  # the budget's choice: the rows say where the rest is
        return single_training_run(rows, FULL_PROFILE_NOTE)  # its judged rows are TSR's mask rows
    if groups is None:
        binary = [run for run in ablation["runs"] if len(build_run(profile, run).spec.classes) == 2]
        groups = ([binary] if binary else []) + [[run] for run in ablation["runs"] if run not in binary]
    return robust_rows_in_groups(profile, rows, [
        (group, lambda row, labels=frozenset(f"({run}, mask=" for run in group): row.get("claim_id") == TSR_CLAIM_ID
         and any(label in str(row["quantity"]) for label in labels),
         lambda names, variant: mask_rows_on_runs(profile, settings, names, variant)) for group in groups])
