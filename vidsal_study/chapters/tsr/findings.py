"""What the TSR chapter reads from its study: the summary, the scores, the shortcut check, the costs and the claims.

:mod:`vidsal_study.chapters.tsr.study` explains the test clips and times the
engines; this module turns its results into what ``notebooks/tsr.ipynb``
says, as small typed results whose numbers and words the chapter glues into
its Markdown (each ``glued()`` maps a glue name to its value: a number, or
the text :func:`vidsal_study.book.glue` would write for an estimate):

- :func:`study_overview`: the clips, the frames and the models' accuracy (:class:`StudyOverview`);
- :func:`tsr_findings`: every map's scores with their intervals, and the
  paired differences between maps (:class:`TSRFindings`);
- :func:`shortcut_findings`: the maps' mass on empty and late frames of the
  running clips (:class:`ShortcutFindings`);
- :func:`cost_findings`: the engines' seconds, the speed-ups and the
  extrapolation to seed 000's setting (:class:`CostFindings`);
- :func:`rule_findings`: maps compared under the flat-frame rule
  (:mod:`vidsal_core.metrics.flat_frames`), per mask value of TSR (:class:`RuleFindings`);
- :func:`claim_rows`: the chapter's rows for the summary chapter (:mod:`vidsal_study.results`);
- :func:`superpixel_cost_glued`: the numbers of exercise 3's solution.

Every interval is :func:`~vidsal_core.statistics.mean_interval`'s
over test persons. Nothing here draws or glues.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from vidsal_study.chapters.evaluation.findings import (CLAIM_FRAME_SET, HEADLINE_MASK, MASK_WORDS, OTHER_FRAME_SET,
                                                      estimate_text, mask_quantity)
from vidsal_study.chapters.evaluation.study import TSR_MASK_VALUES
from vidsal_core.metrics.flat_frames import FRAME_SETS, paired_estimate
from vidsal_core.statistics import UNIT, Estimate, interval_text, mean_interval
from vidsal_study.chapters.tsr.study import (
    METHOD_LABELS, METHODS, RULE_COMPARISONS, SEED_SETTING, SeedSettingCost, Study, metric_table, model_label, run_study,
    seed_pass_count,
)
from vidsal_study.training_runs import robust_rows
from vidsal_core.errors import ConfigError
from vidsal_study.results import claim_row, interval_side, new_row

#: The scores of the summary table and their column names.
METRICS: dict[str, str] = {"person": "person share %", "legs": "legs share %", "rho_true": "ρ true motion",
                           "rho_farneback": "ρ Farnebäck"}
#: Paired differences per clip (:func:`paired_difference`): name → (metric, first map, second map).
DIFFERENCES: dict[str, tuple[str, str, str]] = {
    "tsr_vs_gradient_rho": ("rho_true", "tsr_blocks", "gradient"),
    "tsr_vs_gradient_legs": ("legs", "tsr_blocks", "gradient"),
    "one_step_vs_tsr_rho": ("rho_true", "one_step", "tsr_blocks"),
    "superpixels_vs_blocks_legs": ("legs", "tsr_superpixels", "tsr_blocks"),
    "superpixels_vs_blocks_rho": ("rho_true", "tsr_superpixels", "tsr_blocks"),
}
#: How TSR's blocks rank the moving pixels against the plain gradient, by the side of 0 of their difference.
CLOSER_WORDS: dict[str, str] = {"above": "better than", "holds": "neither measurably better nor worse than",
                                "below": "worse than"}
#: Which maps put excess mass on the empty frames, by (gradient's interval above 0, TSR's interval above 0).
FAVOURED_WORDS: dict[tuple[bool, bool], str] = {
    (True, True): "both the gradient and TSR", (False, True): "TSR only", (True, False): "the gradient only",
    (False, False): "neither the gradient nor TSR",
}
#: The shortcut check's words when no running clip has an empty frame.
NO_EMPTY_FRAMES = "no map: no running clip here has frames without the person, so the check cannot be made"
#: Visibility below which a frame counts as empty in the count of TSR's selected frames.
EMPTY_SELECTED = 0.05
#: Seed 000's reported cost of two-step TSR with 10 × 10 blocks on an RTX 3080 (§6.3: about an hour), in seconds.
SEED_HOUR_SECONDS = 3600.0
#: Columns of the cost table.
COST_COLUMNS: tuple[str, ...] = ("setting", "engine", "passes (naive loop)", "seconds", "how", "max |Δ| / max map")


def glued_interval(estimate: Any, spec: str, scale: float = 1.0) -> str:
    """The text :func:`vidsal_study.book.glue` glues for an estimate with ``spec`` and ``scale``.

    Examples
    --------
    >>> glued_interval(Estimate(0.125, 0.1, 0.15, 4, 2), ".1f", 100.0)
    '12.5 [10.0, 15.0]'
    """
    return interval_text(estimate.mean, estimate.low, estimate.high, spec=spec, scale=scale)


def shown_estimate(estimate: Estimate, metric: str) -> str:
    """A summary-table cell: shares in percent with one decimal, correlations with three.

    Examples
    --------
    >>> shown_estimate(Estimate(0.5, 0.25, 0.75, 4, 2), "legs"), shown_estimate(Estimate(0.5, 0.25, 0.75, 4, 2), "rho_true")
    ('50.0 [25.0, 75.0]', '0.500 [0.250, 0.750]')
    """
    scale, digits = (100.0, 1) if metric in ("person", "legs") else (1.0, 3)
    return interval_text(scale * estimate.mean, scale * estimate.low, scale * estimate.high, spec=f".{digits}f",
                         missing=None)


def blocks_per_frame(height: int, width: int, block_size: int) -> int:
    """TSR's square blocks per frame, the last row and column cut at the frame's edge.

    Examples
    --------
    >>> blocks_per_frame(30, 40, 5), blocks_per_frame(30, 40, 7)
    (48, 30)
    """
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ConfigError(f"block_size={block_size!r}: expected a positive integer")
    return -(-height // block_size) * -(-width // block_size)


# --- the study at a glance ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyOverview:
    """The study's clips, their frames, TSR's settings and the models' accuracy on the clips.

    Attributes
    ----------
    profile : str
        The chapter's profile.
    runs : tuple of str
        The models, in the chapter's order.
    videos, persons : int
        Test clips and test persons of the study.
    frames, height, width : int
        The models' clips: frames, and frame size in pixels.
    block_size, blocks, superpixels : int
        TSR's block side, blocks per frame and SLIC superpixels per frame.
    variant : str
        TSR's options (:func:`~vidsal_study.chapters.tsr.study.tsr_options`).
    seconds : float
        The study's wall time.
    accuracy : dict
        Run → share of the clips it classifies correctly (runs in sorted order).
    """

    profile: str
    runs: tuple[str, ...]
    videos: int
    persons: int
    frames: int
    height: int
    width: int
    block_size: int
    blocks: int
    superpixels: int
    variant: str
    seconds: float
    accuracy: dict[str, float]

    def glued(self) -> dict[str, Any]:
        """The glue names of the study's section and their values."""
        values: dict[str, Any] = {
            "videos": self.videos, "persons": self.persons, "frames": self.frames,
            "frame_size": f"{self.height}×{self.width}", "block_size": self.block_size, "blocks": self.blocks,
            "superpixels": self.superpixels, "variant": self.variant.replace("_", " "), "study_seconds": self.seconds,
        }
        values.update({f"accuracy_{run_name}": self.accuracy[run_name] for run_name in self.runs})
        return values

    def text(self) -> str:
        """Two lines for the reader: the clips and settings, then each model's accuracy."""
        return (f"profile {self.profile}: {self.videos} test clips of {self.frames} frames of {self.height}x"
                f"{self.width}, runs {list(self.runs)}; TSR {self.variant}, {self.block_size}x{self.block_size} "
                f"blocks ({self.blocks} per frame), {self.superpixels} superpixels; ready in {self.seconds:.0f} s\n"
                "share of these clips classified correctly: "
                + ", ".join(f"{model_label(k)} {v:.2f}" for k, v in self.accuracy.items()))


def study_overview(study: Study, profile: str) -> StudyOverview:
    """The study at a glance (:class:`StudyOverview`), from :func:`~vidsal_study.chapters.tsr.study.run_study`."""
    settings, results = study.settings, study.results
    descriptor = study.descriptors[settings.runs[0]]
    height, width = descriptor["size"]
    correct = results.assign(correct=results["prediction"] == results["label"]).groupby("run")["correct"].mean()
    return StudyOverview(str(profile), tuple(settings.runs), int(results["key"].nunique()),
                         int(results["person"].nunique()), descriptor["clip_length"], height, width,
                         settings.block_size, blocks_per_frame(height, width, settings.block_size),
                         settings.superpixels, settings.variant, float(study.seconds),
                         {run_name: float(value) for run_name, value in correct.items()})


# --- the maps' scores ----------------------------------------------------------------------------------------


def paired_difference(long: pd.DataFrame, run_name: str, first: str, second: str) -> Estimate:
    """The per-clip difference ``first − second`` of one metric, mean with its interval over persons.

    Parameters
    ----------
    long : pandas.DataFrame
        :func:`~vidsal_study.chapters.tsr.study.metric_table` of the metric.
    run_name : str
        The model.
    first, second : str
        The maps (:data:`~vidsal_study.chapters.tsr.study.METHODS`).
    """
    for name, method in (("first", first), ("second", second)):
        if method not in METHODS:
            raise ConfigError(f"{name}={method!r}: choose one of {list(METHODS)}")
    frame = long[long["run"] == run_name]
    wide = frame.pivot_table(index=["key", "person"], columns="method", values="value").reset_index()
    return mean_interval(wide[first] - wide[second], wide["person"])


@dataclass(frozen=True)
class TSRFindings:
    """Every map's scores against the truth and the paired differences between maps.

    Attributes
    ----------
    runs : tuple of str
        The models, in the chapter's order.
    estimates : dict
        (run, method, metric) → Estimate over persons, for the metrics of :data:`METRICS`; method
        ``"chance"`` has the area shares of the person and the legs (Farnebäck has no ρ with itself).
    differences : dict
        (run, name of :data:`DIFFERENCES`) → the paired difference's Estimate.
    table : pandas.DataFrame
        The summary table: a row per (model, map), a column per metric, ``mean [low, high]``.
    """

    runs: tuple[str, ...]
    estimates: dict[tuple[str, str, str], Estimate]
    differences: dict[tuple[str, str], Estimate]
    table: pd.DataFrame

    @property
    def closer_side(self) -> str:
        """The side of 0 of TSR's blocks − the gradient in ρ with the true motion (the first model)."""
        closer = self.differences[self.runs[0], "tsr_vs_gradient_rho"]
        return interval_side(closer.low, closer.high)

    def glued(self) -> dict[str, str]:
        """The glue names of the scores' readings and their texts."""
        texts: dict[str, str] = {}
        for run_name in self.runs:
            for name in DIFFERENCES:
                scale = 100.0 if name.endswith("legs") else 1.0
                texts[f"{run_name}_{name}"] = glued_interval(self.differences[run_name, name], ".2f", scale)
            for method in METHODS:
                texts[f"{run_name}_{method}_rho_true"] = glued_interval(self.estimates[run_name, method, "rho_true"], ".2f")
                texts[f"{run_name}_{method}_legs"] = glued_interval(self.estimates[run_name, method, "legs"], ".1f", 100.0)
                if method != "farneback":
                    texts[f"{run_name}_{method}_rho_farneback"] = glued_interval(
                        self.estimates[run_name, method, "rho_farneback"], ".2f")
            for method, metric in (("chance", "legs"), ("chance", "person"), ("gradient", "person"),
                                   ("tsr_blocks", "person")):
                texts[f"{run_name}_{method}_{metric}"] = glued_interval(self.estimates[run_name, method, metric],
                                                                        ".1f", 100.0)
        texts["tsr_closer_side"] = CLOSER_WORDS[self.closer_side]
        return texts


def tsr_findings(results: pd.DataFrame, runs: Sequence[str]) -> TSRFindings:
    """Every map's scores and the paired differences (:class:`TSRFindings`).

    Parameters
    ----------
    results : pandas.DataFrame
        :attr:`~vidsal_study.chapters.tsr.study.Study.results`: a row per (run, clip) with its ``metrics``.
    runs : sequence of str
        The models, in order.
    """
    runs = tuple(runs)
    long = {metric: metric_table(results, metric) for metric in METRICS}
    estimates: dict[tuple[str, str, str], Estimate] = {}
    rows = []
    present = set(long[next(iter(METRICS))]["method"])  # superpixel TSR may be left out (explain, superpixels=0)
    for run_name in runs:
        for method in [method for method in METHODS if method in present] + ["chance"]:
            row = {"model": model_label(run_name), "map": METHOD_LABELS.get(method, "chance (area)")}
            for metric, label in METRICS.items():
                frame = long[metric][long[metric]["run"] == run_name]
                if method == "chance":
                    if metric in ("person", "legs"):
                        part = frame[frame["method"] == "gradient"]
                        estimate = mean_interval(part["chance"], part["person"], bounds=UNIT)  # an area share
                        row[label] = shown_estimate(estimate, metric)
                        estimates[run_name, "chance", metric] = estimate
                    else:
                        row[label] = ""
                    continue
                if method == "farneback" and metric == "rho_farneback":
                    row[label] = "1 (itself)"
                    continue
                part = frame[frame["method"] == method]
                # mass shares on the person or legs lie in [0, 1]; correlations keep the t interval
                estimate = mean_interval(part["value"], part["person"],
                                         bounds=UNIT if metric in ("person", "legs") else None)
                estimates[run_name, method, metric] = estimate
                row[label] = shown_estimate(estimate, metric)
            rows.append(row)
    differences = {(run_name, name): paired_difference(long[metric], run_name, first, second)
                   for run_name in runs for name, (metric, first, second) in DIFFERENCES.items()
                   if {first, second} <= present}
    return TSRFindings(runs, estimates, differences, pd.DataFrame(rows).set_index(["model", "map"]))


# --- the flat-frame rule, per mask value -------------------------------------------------------------------


#: The rule's comparisons in words, for the chapter's table.
RULE_LABELS: dict[str, str] = {
    "one_step_vs_tsr_rho": "ρ true motion, one-step − TSR",
    "tsr_vs_gradient_auroc_legs": "AUROC legs, TSR − |gradient|",
    "tsr_vs_gradient_auroc_person": "AUROC person, TSR − |gradient|",
}


@dataclass(frozen=True)
class RuleFindings:
    """Paired comparisons of maps under the flat-frame rule (:func:`rule_findings`).

    Attributes
    ----------
    runs : tuple of str
        The models, in order.
    mask_values : tuple of str
        TSR's mask values, the reference code's first.
    estimates : dict
        (run, mask value, comparison of :data:`~vidsal_study.chapters.tsr.study.RULE_COMPARISONS`, frame set,
        part) → Estimate over persons or None; ``part`` ``"difference"``, ``"first"`` or ``"second"``.
    """

    runs: tuple[str, ...]
    mask_values: tuple[str, ...]
    estimates: dict[tuple[str, str, str, str, str], Estimate | None]

    def estimate(self, run_name: str, mask_value: str, name: str, frame_set: str = CLAIM_FRAME_SET,
                 part: str = "difference") -> Estimate | None:
        """One estimate (None when not measured)."""
        return self.estimates.get((run_name, mask_value, name, frame_set, part))

    def table(self) -> pd.DataFrame:
        """One row per (model, mask value, comparison): the difference on every in-view frame and on TSR's frames."""
        rows = []
        for run_name in self.runs:
            for mask_value in self.mask_values:
                for name, label in RULE_LABELS.items():
                    rows.append({"model": model_label(run_name), "mask value": mask_value, "comparison": label,
                                 **{("every in-view frame" if frame_set == "in_view" else "frames TSR selected"):
                                    estimate_text(self.estimate(run_name, mask_value, name, frame_set))
                                    for frame_set in FRAME_SETS}})
        return pd.DataFrame(rows)

    def glued(self) -> dict[str, str]:
        """``rule_<run>_<mask>_<comparison>_<frame set>`` → the difference's text, for every mask value the book
        knows (``n/a`` for one this profile did not compute), and ``rule_mask_values``: the computed ones in words."""
        values = {f"rule_{run_name}_{mask_value}_{name}_{frame_set}":
                  estimate_text(self.estimate(run_name, mask_value, name, frame_set))
                  for run_name in self.runs for mask_value in TSR_MASK_VALUES for name in RULE_COMPARISONS
                  for frame_set in FRAME_SETS}
        values["rule_mask_values"] = ", ".join(MASK_WORDS.get(mask, mask) for mask in self.mask_values)
        return values


def rule_findings(results: pd.DataFrame, runs: Sequence[str]) -> RuleFindings:
    """The study's paired comparisons under the flat-frame rule, per model and mask value (:class:`RuleFindings`).

    Parameters
    ----------
    results : pandas.DataFrame
        :attr:`~vidsal_study.chapters.tsr.study.Study.results`, with its ``rule`` column (one
        :func:`~vidsal_study.chapters.tsr.study.rule_comparisons` per mask value and clip).
    runs : sequence of str
        The models, in order.
    """
    runs = tuple(runs)
    if results.empty or "rule" not in results:
        return RuleFindings(runs, (), {})
    mask_values = tuple(sorted(dict.fromkeys(value for rule in results["rule"] for value in rule),
                               key=lambda value: value != HEADLINE_MASK))
    estimates = {}
    for run_name in runs:
        part = results[results["run"] == run_name]
        for mask_value in mask_values:
            for name in RULE_COMPARISONS:
                comparisons = [rule[mask_value][name] for rule in part["rule"]]
                for frame_set in FRAME_SETS:
                    for which in ("difference", "first", "second"):
                        estimates[run_name, mask_value, name, frame_set, which] = paired_estimate(
                            comparisons, part["person"].tolist(), frame_set, which)
    return RuleFindings(runs, mask_values, estimates)


# --- the empty-frame check -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShortcutFindings:
    """The maps' mass on the running clips' empty frames and last third, against their share of the clip.

    Attributes
    ----------
    runs : tuple of str
        The models, in the chapter's order.
    estimates : dict
        (run, method, ``"empty"`` or ``"late"``) → the excess in percentage points (``"empty"`` only
        where some running clip has an empty frame); (run, ``"selected_empty"``) → how much more often
        TSR's selected frames are empty than frames in general, in points.
    table : pandas.DataFrame
        A row per (model, map): the two excesses as ``mean [low, high]``.
    running_clips, running_with_empty : dict
        Run → its running clips, and those with at least one empty frame.
    """

    runs: tuple[str, ...]
    estimates: dict[tuple, Estimate]
    table: pd.DataFrame
    running_clips: dict[str, int]
    running_with_empty: dict[str, int]

    @property
    def favoured(self) -> str:
        """Which maps' excess on the empty frames lies wholly above 0 (the first model), in words."""
        first = self.runs[0]
        gradient, tsr = self.estimates.get((first, "gradient", "empty")), self.estimates.get((first, "tsr_blocks", "empty"))
        if gradient is None or tsr is None:
            return NO_EMPTY_FRAMES
        return FAVOURED_WORDS[gradient.low > 0, tsr.low > 0]

    def glued(self) -> dict[str, Any]:
        """The glue names of the empty-frame reading and their values."""
        values: dict[str, Any] = {}
        for run_name in self.runs:
            selected = self.estimates.get((run_name, "selected_empty"))
            values[f"{run_name}_selected_empty"] = ("n/a (no running clip has an empty frame)" if selected is None
                                                    else glued_interval(selected, ".1f"))
            values[f"{run_name}_running_with_empty"] = self.running_with_empty[run_name]
            for method in ("gradient", "tsr_blocks", "one_step"):
                empty = self.estimates.get((run_name, method, "empty"))
                values[f"{run_name}_{method}_empty"] = "n/a" if empty is None else glued_interval(empty, ".1f")
                values[f"{run_name}_{method}_late"] = glued_interval(self.estimates[run_name, method, "late"], ".1f")
        values["running_clips"] = self.running_clips[self.runs[0]]
        values["shortcut_favoured"] = self.favoured
        return values


def shortcut_findings(results: pd.DataFrame, runs: Sequence[str]) -> ShortcutFindings:
    """The empty-frame and late-frame check of every map on the running clips (:class:`ShortcutFindings`).

    A frame is empty when less than 5% of the person is in view
    (:data:`~vidsal_study.chapters.tsr.study.EMPTY_VISIBILITY`, as
    :func:`~vidsal_study.chapters.tsr.study.clip_metrics` counts them).

    Parameters
    ----------
    results : pandas.DataFrame
        :attr:`~vidsal_study.chapters.tsr.study.Study.results`.
    runs : sequence of str
        The models, in order.
    """
    runs = tuple(runs)
    estimates: dict[tuple, Estimate] = {}
    rows, running_clips, running_with_empty = [], {}, {}
    for run_name in runs:
        part = results[(results["run"] == run_name) & (results["action"] == "running")]
        running_clips[run_name] = int(len(part))
        empty_frames = part["metrics"].map(lambda m: m["chance"]["empty"])
        has_empty = empty_frames.notna()
        running_with_empty[run_name] = int(has_empty.sum())
        for method in METHODS:
            excess = part["metrics"].map(lambda m: m[method]["empty"] - m["chance"]["empty"])[has_empty]
            late = part["metrics"].map(lambda m: m[method]["late"] - m["chance"]["late"])
            row = {"model": model_label(run_name), "map": METHOD_LABELS[method]}
            if has_empty.sum():
                estimate = mean_interval(100 * excess, part["person"][has_empty])
                estimates[run_name, method, "empty"] = estimate
                row["mass on empty frames − their share (points)"] = interval_text(
                    estimate.mean, estimate.low, estimate.high, spec=".1f", missing=None)
            estimate = mean_interval(100 * late, part["person"])
            estimates[run_name, method, "late"] = estimate
            row["mass on last third − 33.3 (points)"] = interval_text(estimate.mean, estimate.low, estimate.high,
                                                                      spec=".1f", missing=None)
            rows.append(row)
        selected_empty, empty_share = [], []
        for _, row in part[has_empty].iterrows():
            seen = np.asarray(row["metrics"]["chance"]["visibility"])
            chosen = [t for t in row["tsr_selected"] if t < seen.size]
            selected_empty.append(np.mean(seen[chosen] < EMPTY_SELECTED) if chosen else np.nan)
            empty_share.append(np.mean(seen < EMPTY_SELECTED))
        if selected_empty:
            estimates[run_name, "selected_empty"] = mean_interval(
                100 * (np.array(selected_empty) - np.array(empty_share)), part["person"][has_empty])
    return ShortcutFindings(runs, estimates, pd.DataFrame(rows).set_index(["model", "map"]), running_clips,
                            running_with_empty)


# --- the cost ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostFindings:
    """The engines' seconds on one clip, the speed-ups over the naive loop, and seed 000's setting.

    Attributes
    ----------
    costs : pandas.DataFrame
        :func:`~vidsal_study.chapters.tsr.study.engine_costs` on the chapter's clip.
    block_size : int
        The chapter's block side (the fast engines' setting; the naive loop extrapolated there).
    paper_passes : int
        The naive loop's passes at seed 000's setting (:func:`~vidsal_study.chapters.tsr.study.seed_pass_count`).
    paper : dict or None
        :func:`~vidsal_study.chapters.tsr.study.paper_pass_seconds` (None: not timed at this profile).
    seed : SeedSettingCost
        The factorised engine at seed 000's setting.
    speedups : dict
        Engine → the naive loop's extrapolated seconds over the engine's at ``block_size``.
    per_video : dict
        Run → block TSR's mean seconds per clip in the study.
    exactness : float
        The largest difference between engines, relative to the map's maximum.
    table : pandas.DataFrame
        The cost table (:data:`COST_COLUMNS`).
    """

    costs: pd.DataFrame
    block_size: int
    paper_passes: int
    paper: dict[str, Any] | None
    seed: SeedSettingCost
    speedups: dict[str, float]
    per_video: dict[str, float]
    exactness: float
    table: pd.DataFrame

    @property
    def paper_naive_seconds(self) -> float | None:
        """The naive loop at seed 000's setting, extrapolated from one measured pass (None: not timed)."""
        return self.paper["seconds"] * self.paper_passes if self.paper else None

    def chapter_seconds(self, engine: str) -> float:
        """An engine's seconds at the chapter's block size (NaN where it did not run)."""
        chapter = self.costs[self.costs["block_size"] == self.block_size].set_index("engine")
        return chapter.loc[engine, "seconds"] if engine in chapter.index else float("nan")

    def glued(self) -> dict[str, Any]:
        """The glue names of the cost's reading and their values."""
        costs, nan = self.costs, float("nan")
        naive = costs[(costs["engine"] == "naive loop") & costs["measured"]].iloc[0]
        extrapolated = costs[~costs["measured"]].iloc[0]
        paper, seconds = self.paper, self.seed.seconds
        values: dict[str, Any] = {
            "paper_pass_seconds": float(paper["seconds"]) if paper else nan,
            "paper_naive_minutes": float(paper["seconds"] * self.paper_passes / 60) if paper else nan,
            "seed_factorised_seconds": float(seconds), "seed_factorised_minutes": float(seconds / 60),
            "seed_factorised_how": self.seed.how, "seed_factorised_vs_hour": float(SEED_HOUR_SECONDS / seconds),
            "seed_factorised_vs_naive": float(paper["seconds"] * self.paper_passes / seconds) if paper else nan,
            "naive_pass_seconds": float(naive["seconds_per_pass"]), "naive_passes": int(naive["passes"]),
            "naive_seconds": float(naive["seconds"]), "chapter_passes": int(extrapolated["passes"]),
            "naive_extrapolated_seconds": float(extrapolated["seconds"]),
            "selected_frames": int(extrapolated["selected"]), "paper_passes": self.paper_passes,
            "seed_seconds_per_pass": float(SEED_HOUR_SECONDS / self.paper_passes),
            "exactness": f"{self.exactness:.1e}",
        }
        for engine, ratio in self.speedups.items():
            values[f"speedup_{engine}"] = float(ratio)
            values[f"seconds_{engine}"] = float(self.chapter_seconds(engine))
        values.update({f"tsr_seconds_{run_name}": seconds for run_name, seconds in self.per_video.items()})
        return values


def cost_findings(costs: pd.DataFrame, results: pd.DataFrame, runs: Sequence[str], block_size: int,
                  paper: Mapping[str, Any] | None, seed: SeedSettingCost) -> CostFindings:
    """The cost table, the speed-ups and the extrapolations (:class:`CostFindings`).

    Parameters
    ----------
    costs : pandas.DataFrame
        :func:`~vidsal_study.chapters.tsr.study.engine_costs` on one clip.
    results : pandas.DataFrame
        :attr:`~vidsal_study.chapters.tsr.study.Study.results` (block TSR's seconds per clip).
    runs : sequence of str
        The models, in order.
    block_size : int
        The chapter's block side.
    paper : mapping or None
        :func:`~vidsal_study.chapters.tsr.study.paper_pass_seconds`, None when not timed.
    seed : SeedSettingCost
        :func:`~vidsal_study.chapters.tsr.study.seed_setting_factorised`.
    """
    extrapolations = costs[~costs["measured"]]
    if extrapolations.empty or not ((costs["engine"] == "naive loop") & costs["measured"]).any():
        raise ConfigError("costs: expected engine_costs' table, with a measured and an extrapolated naive loop")
    extrapolated = extrapolations.iloc[0]
    chapter = costs[costs["block_size"] == block_size].set_index("engine")
    paper_passes = seed_pass_count(int(extrapolated["selected"]))
    rows = [{"setting": f"{int(row['block_size'])}×{int(row['block_size'])} blocks", "engine": row["engine"],
             "passes (naive loop)": int(row["passes"]), "seconds": row["seconds"],
             "how": "measured" if row["measured"] else "extrapolated: passes × s/pass",
             "max |Δ| / max map": row["max_difference"]} for _, row in costs.iterrows()]
    if paper:
        rows.append({"setting": SEED_SETTING, "engine": "naive loop", "passes (naive loop)": paper_passes,
                     "seconds": paper["seconds"] * paper_passes,
                     "how": f"extrapolated: one pass measured here ({paper['seconds']:.2f} s, untrained weights)",
                     "max |Δ| / max map": np.nan})
    rows.append({"setting": SEED_SETTING, "engine": "factorised",
                 "passes (naive loop)": paper_passes if seed.passes is None else seed.passes,
                 "seconds": seed.seconds, "how": seed.how, "max |Δ| / max map": np.nan})
    rows.append({"setting": SEED_SETTING, "engine": "seed 000's loop on an RTX 3080", "passes (naive loop)": paper_passes,
                 "seconds": SEED_HOUR_SECONDS, "how": "reported by the seed (§6.3: about an hour)",
                 "max |Δ| / max map": np.nan})
    speedups = {engine: extrapolated["seconds"] / chapter.loc[engine, "seconds"]
                for engine in chapter.index if engine != "naive loop"}
    per_video = {run_name: float(results[results["run"] == run_name]["seconds"].map(lambda s: s["tsr_blocks"]).mean())
                 for run_name in runs}
    return CostFindings(costs, block_size, paper_passes, dict(paper) if paper else None, seed, speedups, per_video,
                        float(costs["max_difference"].max()), pd.DataFrame(rows, columns=list(COST_COLUMNS)))


# --- the claims and the exercises ---------------------------------------------------------------------------


#: Seed 000's own finding (§4.3), tested per model and mask value under the flat-frame rule (its register id).
ONE_STEP_CLAIM_ID = "000-one-step-beats-two-step"
#: Ismail et al. (2020)'s finding, which seed 000 adopted as an aim (§3), tested on the legs per model and mask
#: value under the flat-frame rule (its register id): the claim is theirs, not seed 000's.
LEGS_CLAIM_ID = "ismail2020-tsr-improves"
#: The quantities of those rows, before their model and mask (:func:`rule_rows`).
RULE_QUANTITIES: dict[str, str] = {
    "one_step_vs_tsr_rho": "ρ with the true motion per in-view frame, one-step − TSR blocks, flat frames at 0",
    "tsr_vs_gradient_auroc_legs": "per-frame AUROC of the legs, TSR blocks − |gradient|, every in-view frame, "
                                  "flat frames at 0.5",
}


def rule_rows(rule: RuleFindings) -> list[dict[str, Any]]:
    """The two TSR claims' rows: per model, one per mask value (the reference code's first), under the flat-frame rule."""
    rows = []
    for claim_id, name in ((ONE_STEP_CLAIM_ID, "one_step_vs_tsr_rho"), (LEGS_CLAIM_ID, "tsr_vs_gradient_auroc_legs")):
        for run_name in rule.runs:
            for mask_value in rule.mask_values:
                estimate = rule.estimate(run_name, mask_value, name)
                if estimate is None:
                    continue
                other = rule.estimate(run_name, mask_value, name, OTHER_FRAME_SET)
                headline = "headline (the reference code's mask); " if mask_value == HEADLINE_MASK else ""
                rows.append(claim_row(claim_id, mask_quantity(RULE_QUANTITIES[name], model_label(run_name), mask_value),
                                      estimate,
                                      note=f"{headline}paired by frame within clip; on the frames TSR selected: "
                                           f"{estimate_text(other)}"))
    return rows


def model_rows(found: TSRFindings, rule: RuleFindings | None = None) -> list[dict[str, Any]]:
    """The counted rows about the trained models (the first of :func:`claim_rows`): the two flow claims on the
    first run, and :func:`rule_rows`; what :func:`robust_claim_rows` repeats on every training run."""
    first = found.runs[0]
    label_first = model_label(first)
    return [
        claim_row("000-saliency-resembles-flow", f"Spearman ρ of |gradient| with the true motion, per frame ({label_first})",
                  found.estimates[first, "gradient", "rho_true"], note="the seed's hypothesis, judged by eye there"),
        claim_row("000-one-step-overlaps-flow", f"Spearman ρ of the one-step map with Farnebäck |flow| ({label_first})",
                  found.estimates[first, "one_step", "rho_farneback"], note="§5: 'on careful observation'"),
    ] + (rule_rows(rule) if rule is not None else [])


def rows_on_runs(profile: str, settings: Any, runs: Sequence[str], variant: str | None = None) -> list[dict[str, Any]]:
    """:func:`model_rows` on other runs (a replicate's, or the control models), explained as the study's runs
    (each cuts its test clips as it was evaluated; ``variant`` is accepted for
    :func:`~vidsal_study.training_runs.robust_rows`)."""
    study = run_study(profile, dataclasses.replace(settings, runs=tuple(runs), superpixels=0))  # no row needs them
    return model_rows(tsr_findings(study.results, study.settings.runs),
                      rule_findings(study.results, study.settings.runs))


def robust_claim_rows(profile: str, settings: Any, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The chapter's ``rows`` (:func:`claim_rows` on ``settings.runs``) with the verdicts on every training run
    and the control models' rows (:func:`~vidsal_study.training_runs.robust_rows`)."""
    return robust_rows(profile, settings.runs, rows,
                       lambda runs, variant: rows_on_runs(profile, settings, runs, variant))


def claim_rows(found: TSRFindings, shortcut: ShortcutFindings, cost: CostFindings,
               frame_size: tuple[int, int], rule: RuleFindings | None = None) -> list[dict[str, Any]]:
    """The chapter's rows for the summary chapter: seed 000's claims judged, and the new results.

    Parameters
    ----------
    found, shortcut, cost
        The chapter's findings.
    rule : RuleFindings, optional
        The comparisons under the flat-frame rule: the rows of seed 000's one-step finding and of TSR's
        legs claim, one per model and mask value (:func:`rule_rows`); none without it.
    frame_size : (int, int)
        The models' frame height and width (named in the cost's note).
    """
    first = found.runs[0]
    label_first = model_label(first)
    height, width = frame_size
    block_size = cost.block_size
    claims = model_rows(found, rule)
    # A cost is one deterministic measurement, not an interval over persons: reported as "new", beside the seed's hour.
    claims.append(new_row("000", "Two-step TSR with 10×10 blocks takes about an hour per video (RTX 3080)",
                          "naive loop at the seed's setting, extrapolated from one measured pass on this CPU, s",
                          cost.paper_naive_seconds,
                          note=f"the seed's figure: about 3600 s on a GPU; exact factorised TSR takes "
                               f"{cost.chapter_seconds('factorised'):.2f} s at {height}x{width}"))
    claims.append(new_row("000", "Exact TSR need not pay the naive loop's cost (beyond the seed)",
                          f"speed-up of factorised over naive TSR, same clip, {block_size}x{block_size} blocks",
                          cost.speedups.get("factorised", float("nan")),
                          note=f"max relative difference {cost.exactness:.1e}; naive time extrapolated from "
                               "measured passes"))
    claims.append(new_row("000", "Farnebäck flow is a sound yardstick for saliency (beyond the seed)",
                          "Spearman ρ of Farnebäck |flow| with the true motion",
                          found.estimates[first, "farneback", "rho_true"],
                          note="the seed's baseline has errors of its own"))
    if (first, "tsr_blocks", "empty") in shortcut.estimates:
        claims.append(new_row("000", "Whether TSR's late peak is a shortcut through empty frames (beyond the seed)",
                              f"TSR mass on empty frames − their share, percentage points, running clips; above 0: a "
                              f"shortcut, below 0: TSR avoids them ({label_first})",
                              shortcut.estimates[first, "tsr_blocks", "empty"], note="visibility < 5% of the person"))
    claims.append(new_row("000", "Superpixel TSR (the seed's suggestion) localises the legs better than block TSR "
                                 "(beyond the seed)",
                          f"legs share, superpixel − block TSR, percentage points ({label_first})",
                          found.differences[first, "superpixels_vs_blocks_legs"],
                          note="same number of features per frame", scale=100.0))
    return claims


def superpixel_cost_glued(results: pd.DataFrame, runs: Sequence[str], clip_length: int, blocks: int,
                          superpixels: int) -> dict[str, Any]:
    """Exercise 3's numbers: superpixel TSR's calls per clip now, and with 4 × the blocks as superpixels.

    TSR makes ``1 + T + |selected| · F`` masked attributions and the selected
    frames do not depend on the features, so the feature term scales with
    ``F``: from ``superpixels`` to ``4 · blocks``.

    Examples
    --------
    >>> results = pd.DataFrame({"run": ["a", "a"], "superpixel_calls": [35, 45]})
    >>> superpixel_cost_glued(results, ["a"], clip_length=4, blocks=2, superpixels=4)
    {'solution_3_calls_a': 40.0, 'solution_3_calls_4x_a': 75.0, 'solution_3_superpixels_4x': 8}
    """
    if isinstance(superpixels, bool) or not isinstance(superpixels, (int, np.integer)) or superpixels < 1:
        raise ConfigError(f"superpixels={superpixels!r}: expected a positive integer")
    calls_now = results.groupby("run")["superpixel_calls"].mean()
    values: dict[str, Any] = {}
    for run_name in runs:
        masked_features = float(calls_now[run_name]) - 1 - clip_length
        values[f"solution_3_calls_{run_name}"] = float(calls_now[run_name])
        values[f"solution_3_calls_4x_{run_name}"] = 1 + clip_length + 4 * masked_features * blocks / superpixels
    values["solution_3_superpixels_4x"] = 4 * blocks
    return values
