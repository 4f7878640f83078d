"""What the time-contribution chapter reads from its study: tables, readings, claim rows.

:func:`vidsal_study.chapters.time_contribution.study.run_study` measures time
contribution and keyframes on every test clip; this module turns its
:class:`~vidsal_study.chapters.time_contribution.study.Study` into what the chapter
(``notebooks/time_contribution.ipynb``) says, as a
:class:`TimeContributionFindings` whose numbers and words the chapter glues
into its Markdown, one section at a time:

- :meth:`~TimeContributionFindings.overview`: the study's size and each model's accuracy;
- :meth:`~TimeContributionFindings.example_values`: the walking and the running clip shown;
- :meth:`~TimeContributionFindings.window_table` and :meth:`~TimeContributionFindings.window_values`:
  masking windows of frames (drop, flips, synergy in the target's log-odds and in its probability);
- :meth:`~TimeContributionFindings.baseline_table` and :meth:`~TimeContributionFindings.baseline_values`:
  what a masked frame becomes;
- :meth:`~TimeContributionFindings.position_values`: early against late frames, the accuracy drop;
- :meth:`~TimeContributionFindings.agreement_table` and :meth:`~TimeContributionFindings.agreement_values`:
  agreement with the truth, time contribution against keyframes;
- :meth:`~TimeContributionFindings.claim_rows`: the rows for the summary chapter
  (:mod:`vidsal_study.results`), with :func:`claim_table` and :func:`claim_texts`;
- :meth:`~TimeContributionFindings.blur_solution`: exercise 1's answer from the blurred single-frame masks.

Every interval is :func:`~vidsal_study.chapters.time_contribution.study.interval`'s
and written by :func:`~vidsal_core.statistics.interval_text` with a
sign (``"+.3g"``); probabilities are shown in percentage points (:data:`PP`).
Bounded quantities (AUCs in [0, 1], shares of masks that flip the prediction
in [0, 100] %) get the interval that stays in their range; drops, synergies,
correlations and paired differences the cluster-robust t interval.

The synergy of a window (seed 000's "set of frames" claim, :data:`SET_CLAIM`)
is measured on two scales from the same masked passes: the target's
log-odds, the claim row, and its probability, a row marked ``new`` beside
it. The probability saturates: for a confident model the sigmoid is convex
in the change of the log-odds, so frames that simply add up in the logits
show a positive probability synergy (:data:`PROBABILITY_SYNERGY_NOTE`).
Nothing here draws or glues.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from vidsal_core.statistics import UNIT, Estimate, interval_text
from vidsal_study.chapters.time_contribution.study import (
    MEASURES, MODEL_NAMES, Study, agreement, in_view_auc, interval, measure_bounds, paired_difference, run_study,
)
from vidsal_study.training_runs import robust_rows, run_label
from vidsal_core.errors import ConfigError
from vidsal_study.results import claim_row, interval_side, new_row
from vidsal_core.saliency.keyframes import rank_correlation

#: Probabilities are shown in percentage points.
PP = 100.0
#: The range of a share in percent (masks that flip the prediction), for its bounded interval.
PERCENT = (0.0, PP)
#: The note of the probability-scale synergy row (a measurement, not the claim's test).
PROBABILITY_SYNERGY_NOTE = ("probability scale, not counted: it saturates, so frames that add up in the log-odds "
                            "show positive synergy here for a confident model; the log-odds row is the claim's test")
#: The truth each paired comparison scores, with the measure of time contribution and of the keyframes.
COMPARED: tuple[tuple[str, str, str], ...] = (
    ("visibility", "rho_contribution_visibility", "rho_keyframes_visibility"),
    ("limb_motion", "rho_contribution_limb_motion", "rho_keyframes_limb_motion"),
    ("in_view", "auc_contribution_in_view", "auc_keyframes_in_view"),
)
#: The in-view AUC's side of 0.5 in words (:func:`sign_reading`), and the words when it holds 0.5.
IN_VIEW_WORDS: dict[str, str] = {
    "above 0.5": "scores frames with the person in view higher than frames without",
    "below 0.5": "scores frames *without* the person higher than frames with the person in view",
}
IN_VIEW_NEITHER = "does not tell frames with the person in view from frames without"
#: Late minus early frames' contribution in words, and the words when its interval holds 0.
LATE_WORDS: dict[str, str] = {"positive": "favours the second half of the clip",
                              "negative": "favours the first half of the clip"}
LATE_NEITHER = "favours neither half at 95 %"
#: A frame position whose masking costs at least this accuracy (5 points) matters: our line.
ACCURACY_LINE = 0.05
#: The claims of the chapter's rows.
ACTIVITY_CLAIM = "The most salient frames correspond to the parts of the clip containing the activity (Fig. 1; conclusion)"
KEYFRAME_CLAIM = "Frames chosen by the keyframe detector had high temporal saliency (§6.4, Fig. 18)"
SET_CLAIM = "Saliency depends on a set of frames rather than on one frame (§6.5)"
MASKING_CLAIM = "Masking single frames shows which frames the model uses (§4.1)"
GUIDE_CLAIM = "Time contribution vs keyframes as a guide to the informative frames"
#: Columns of :func:`claim_table`.
CLAIM_COLUMNS: tuple[str, ...] = ("claim", "quantity", "estimate", "low", "high", "units", "verdict")


def model_name(run: str) -> str:
    """The chapter's name of a run (:data:`MODEL_NAMES`), or the run itself.

    Examples
    --------
    >>> model_name("ica_lstm_binary"), model_name("my_run")
    ('ICA-LSTM', 'my_run')
    """
    return run_label(run, MODEL_NAMES)


def estimate_text(estimate: Any) -> str:
    """``mean [low, high]`` with signs and three significant digits (``—`` when nothing was measured).

    Examples
    --------
    >>> estimate_text(Estimate(1.5, -0.25, 3.0, 4, 2))
    '+1.5 [-0.25, +3]'
    """
    return interval_text(estimate.mean, estimate.low, estimate.high, spec="+.3g")


def sign_reading(estimate: Any, null: float) -> str:
    """The side of ``null`` a 95 % interval lies on (:func:`~vidsal_study.results.interval_side`), in words.

    Parameters
    ----------
    estimate : Estimate
        Anything with ``low`` and ``high``.
    null : float
        The value compared with (0, or 0.5 for an AUC).

    Examples
    --------
    >>> sign_reading(Estimate(0.3, 0.1, 0.5, 4, 4), 0.0), sign_reading(Estimate(0.3, -0.1, 0.5, 4, 4), 0.0)
    ('positive', 'not distinguishable from zero')
    >>> sign_reading(Estimate(0.3, 0.1, 0.4, 4, 4), 0.5), sign_reading(Estimate(0.6, 0.4, 0.7, 4, 4), 0.5)
    ('below 0.5', 'not distinguishable from 0.5')
    """
    side = interval_side(estimate.low, estimate.high, null)
    if side == "holds":
        return "not distinguishable from " + ("zero" if null == 0 else f"{null}")
    if null == 0:
        return "positive" if side == "above" else "negative"
    return f"{side} {null}"


def pick_example(study: Study, action: str) -> int:
    """The index of the clip of ``action`` shown as an example: of those every run classifies correctly
    (of all of ``action``'s clips when there is none), the one whose person is least in view (first on ties).

    Parameters
    ----------
    study : Study
        :func:`~vidsal_study.chapters.time_contribution.study.run_study`'s records (the runs measure the same clips).
    action : str
        A class of the clips, e.g. ``"walking"``.
    """
    runs = list(study.records)
    first = study.records[runs[0]]
    of_action = [index for index, record in enumerate(first) if record["action"] == action]
    if not of_action:
        raise ConfigError(f"action={action!r}: no clip of it among the study's {len(first)} clips")
    candidates = [index for index in of_action if all(study.records[run][index]["correct"] for run in runs)]
    return min(candidates or of_action, key=lambda index: (first[index]["visibility"].mean(), index))


def _values(study: Study, run: str, pick: Any, records: Sequence[Mapping[str, Any]] | None = None) -> list:
    return [pick(record) for record in (study.records[run] if records is None else records)]


@dataclass(frozen=True)
class TimeContributionFindings:
    """What the time-contribution study says: estimates per window, baseline and measure, and the readings.

    Attributes
    ----------
    study : Study
        The study's records and settings.
    runs : tuple of str
        The models, in the profile's order.
    classes : tuple of str
        The first run's classes (its test clips' actions).
    examples : dict
        Action → index of its example clip (:func:`pick_example`).
    windows : dict
        ``(run, window)`` → ``{"drop", "flips", "synergy", "logit_synergy"}``: mean probability drop per
        frame and share of masks that flip the prediction (main baseline), in percentage points, and the
        window's synergy in probability (pp) and in the target's log-odds (None for single frames).
    baselines : dict
        ``(run, baseline)`` → ``{"drop", "flips", "rho", "auc"}`` with single-frame masks: drop and flips in
        percentage points, Spearman ρ with visibility, in-view AUC.
    late_minus_early : dict
        Run → mean single-frame contribution of the clip's second half minus its first half, pp.
    comparisons : dict
        ``(run, truth)`` → time contribution's measure minus the keyframes', paired over clips (:data:`COMPARED`).
    """

    study: Study
    runs: tuple[str, ...]
    classes: tuple[str, ...]
    examples: dict[str, int]
    windows: dict[tuple[str, int], dict[str, Estimate | None]]
    baselines: dict[tuple[str, str], dict[str, Estimate]]
    late_minus_early: dict[str, Estimate]
    comparisons: dict[tuple[str, str], Estimate]

    @property
    def first(self) -> list[dict[str, Any]]:
        """The first run's records (every run measures the same clips)."""
        return self.study.records[self.runs[0]]

    @property
    def n_frames(self) -> int:
        """Frames of each clip."""
        return len(self.first[0]["visibility"])

    @property
    def largest_window(self) -> int:
        """The largest window of the settings."""
        return max(self.study.settings.windows)

    # --- the study and its examples ----------------------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        """The study's size, its time and each model's accuracy (%), by glue name."""
        first, settings = self.first, self.study.settings
        values: dict[str, Any] = {
            "n_clips": len(first), "n_persons": len({record["person"] for record in first}),
            "n_frames": self.n_frames, "study_seconds": float(self.study.seconds),
            "keyframes_per_clip": float(np.mean([len(record["keyframes"]) for record in first])),
            "windows_text": ", ".join(str(window) for window in settings.windows),
        }
        for run in self.runs:
            values[f"{run}_accuracy"] = float(PP * self.study.values(run, "correct").mean())
        return values

    def study_line(self, profile: str) -> str:
        """One line on what the study measured and how long it took."""
        settings = self.study.settings
        return (f"profile {profile}: {len(self.first)} test clips of {self.n_frames} frames per model, "
                f"{len(self.runs)} models, windows {list(settings.windows)}, baselines {list(settings.baselines)}; "
                f"{self.study.seconds:.1f} s")

    def example_values(self) -> dict[str, Any]:
        """Each example clip in words, and each model's ρ with visibility and largest drop (pp) on it."""
        values: dict[str, Any] = {}
        for action, index in self.examples.items():
            record = self.first[index]
            values[f"example_{action}"] = (f"person {record['person']}, scenario {record['scenario']}, video frames "
                                           f"{record['frames'][0]}–{record['frames'][-1]}")
            for run in self.runs:
                other = self.study.records[run][index]
                values[f"example_{action}_{run}_rho"] = float(other["rho_contribution_visibility"])
                values[f"example_{action}_{run}_max"] = float(PP * other["contribution"][1].max())
        return values

    def example_panel(self, run: str, video: Any, action: str | None = None) -> tuple[str, Any, np.ndarray, np.ndarray]:
        """``(title, video, contribution, keyframes)`` of ``action``'s example clip (default the first class)."""
        action = self.classes[0] if action is None else action
        record = self.study.records[run][self.examples[action]]
        return (f"SynthKTH {action} clip, {model_name(run)}", video, record["contribution"][1], record["keyframes"])

    # --- windows, baselines, positions -------------------------------------------------------------------------

    def window_table(self) -> pd.DataFrame:
        """Mean drop, flips and synergy (log-odds and probability) per (model, window), as intervals."""
        rows = []
        for (run, window), found in self.windows.items():
            rows.append({"model": model_name(run), "window": window, "mean drop (pp)": estimate_text(found["drop"]),
                         "masks that flip the prediction (%)": estimate_text(found["flips"]),
                         "synergy (log-odds)": ("—" if found["logit_synergy"] is None
                                                else estimate_text(found["logit_synergy"])),
                         "synergy (pp)": "—" if found["synergy"] is None else estimate_text(found["synergy"])})
        return pd.DataFrame(rows).set_index(["model", "window"])

    def window_values(self) -> dict[str, Any]:
        """Drop, flips and synergy per run and window (and of the largest window), with readings, by glue name.

        ``<run>_synergy_<window>`` is the probability synergy (pp),
        ``<run>_logit_synergy_<window>`` the log-odds synergy, each with its
        ``_verdict`` (the side of zero, in words).
        """
        values: dict[str, Any] = {}
        for (run, window), found in self.windows.items():
            values[f"{run}_drop_{window}"] = estimate_text(found["drop"])
            values[f"{run}_flips_{window}"] = estimate_text(found["flips"])
            for name in ("synergy", "logit_synergy"):
                if found[name] is not None:
                    values[f"{run}_{name}_{window}"] = estimate_text(found[name])
                    values[f"{run}_{name}_{window}_verdict"] = sign_reading(found[name], 0.0)
        largest = self.largest_window
        values["largest_window"] = largest
        for run in self.runs:
            for name in ("drop", "flips", "synergy", "logit_synergy"):
                values[f"{run}_{name}_largest"] = estimate_text(self.windows[(run, largest)][name])
            for name in ("synergy", "logit_synergy"):
                values[f"{run}_{name}_largest_verdict"] = sign_reading(self.windows[(run, largest)][name], 0.0)
        single_flips = max(np.mean(_values(self.study, run, lambda r: r["flips"][1])) for run in self.runs)
        values["single_frame_flips_max"] = float(PP * single_flips)  # the larger of the models' shares
        return values

    def baseline_table(self) -> pd.DataFrame:
        """Mean drop, flips, ρ with visibility and in-view AUC per (model, baseline), single-frame masks."""
        rows = [{"model": model_name(run), "baseline": baseline, "mean drop (pp)": estimate_text(found["drop"]),
                 "flips (%)": estimate_text(found["flips"]), "ρ with visibility": estimate_text(found["rho"]),
                 "in-view AUC": estimate_text(found["auc"])} for (run, baseline), found in self.baselines.items()]
        return pd.DataFrame(rows).set_index(["model", "baseline"])

    def baseline_values(self) -> dict[str, str]:
        """ρ with visibility and mean drop per run and baseline, by glue name."""
        values = {}
        for (run, baseline), found in self.baselines.items():
            values[f"{run}_{baseline}_rho"] = estimate_text(found["rho"])
            values[f"{run}_{baseline}_drop"] = estimate_text(found["drop"])
        return values

    def accuracy_drops(self, run: str) -> np.ndarray:
        """``(T,)`` mean fall in accuracy (0–1) when each frame position of every clip is masked."""
        return np.stack(_values(self.study, run, lambda r: r["accuracy_drop"])).mean(0)

    def position_values(self) -> dict[str, Any]:
        """Late against early frames and the largest accuracy drop per run, with readings, by glue name."""
        values: dict[str, Any] = {}
        for run in self.runs:
            late = self.late_minus_early[run]
            values[f"{run}_late_minus_early"] = estimate_text(late)
            values[f"{run}_late_reading"] = LATE_WORDS.get(sign_reading(late, 0.0), LATE_NEITHER)
            accuracy_drop = self.accuracy_drops(run)
            values[f"{run}_max_accuracy_drop"] = float(PP * accuracy_drop.max())
            values[f"{run}_max_accuracy_frame"] = int(accuracy_drop.argmax())
        largest = max(self.accuracy_drops(run).max() for run in self.runs)
        values["largest_accuracy_drop"] = float(PP * largest)
        values["accuracy_tells"] = "hardly tells" if largest < ACCURACY_LINE else "tells"
        return values

    # --- agreement with the truth ------------------------------------------------------------------------------

    def agreement_table(self) -> pd.DataFrame:
        """Every measure of :data:`MEASURES` (rows) per model (columns), as intervals."""
        rows: dict[str, dict[str, str]] = {}
        for run in self.runs:
            for name in MEASURES:
                rows.setdefault(MEASURES[name], {})[model_name(run)] = estimate_text(self.study.estimate(run, name))
        return pd.DataFrame(rows).T

    def agreement_values(self) -> dict[str, Any]:
        """Every measure and its count per run, the paired comparisons and the in-view reading, by glue name."""
        values: dict[str, Any] = {}
        for run in self.runs:
            for name in MEASURES:
                estimate = self.study.estimate(run, name)
                values[f"{run}_{name}"] = estimate_text(estimate)
                values[f"{run}_{name}_count"] = int(estimate.count)
        for (run, truth), difference in self.comparisons.items():
            reading = ("time contribution agrees better" if difference.low > 0 else
                       "keyframes agree better" if difference.high < 0 else "neither agrees better at 95 %")
            values[f"{run}_better_{truth}"] = f"{estimate_text(difference)}: {reading}"
        for run in self.runs:
            auc = self.study.estimate(run, "auc_contribution_in_view")
            values[f"{run}_in_view_reading"] = IN_VIEW_WORDS.get(sign_reading(auc, 0.5), IN_VIEW_NEITHER)
        return values

    # --- claims and exercises ----------------------------------------------------------------------------------

    def claim_rows(self) -> list[dict[str, Any]]:
        """Six rows per model for the summary chapter: three seed claims and three new results.

        The "set of frames" claim (:data:`SET_CLAIM`) is tested on the
        log-odds synergy; its probability synergy follows as a ``new`` row
        (:data:`PROBABILITY_SYNERGY_NOTE`).
        """
        rows, settings, largest = [], self.study.settings, self.largest_window
        for run in self.runs:
            name, groups, records = model_name(run), self.study.groups(run), self.study.records[run]
            rho = self.study.estimate(run, "rho_contribution_visibility")
            rows.append(claim_row("000-activity-frames", f"Spearman ρ, time contribution vs true visibility ({name})",
                                  rho, note=f"mean over {rho.count} test clips"))
            auc = self.study.estimate(run, "auc_contribution_keyframes")
            rows.append(claim_row("000-keyframes", f"AUC of time contribution for keyframes, 0.5 = chance ({name})",
                                  auc, note=f"{auc.count} clips with keyframes"))
            logit_synergy = interval([r["logit_synergy"][largest] for r in records], groups, settings.resamples)
            rows.append(claim_row("000-set-of-frames", f"synergy of {largest}-frame windows in the target's log-odds: "
                                  f"window drop minus summed single-frame drops ({name})", logit_synergy,
                                  note=f"baseline {settings.baseline}"))
            synergy = interval([PP * r["synergy"][largest] for r in records], groups, settings.resamples)
            rows.append(new_row(None, None, f"synergy of {largest}-frame windows in probability: window drop "
                                f"minus summed single-frame drops, pp ({name})", synergy, claim_id="000-set-of-frames",
                                note=f"baseline {settings.baseline}; {PROBABILITY_SYNERGY_NOTE}"))
            flips = interval([PP * r["flips"][1] for r in records], groups, settings.resamples, PERCENT)
            rows.append(new_row("000", MASKING_CLAIM, f"single-frame masks that flip the prediction, % ({name})", flips,
                                note=f"of the {len(records) * self.n_frames} single-frame masks of {len(records)} clips"))
            rows.append(new_row("000", GUIDE_CLAIM, f"ρ with visibility, time contribution minus keyframes, paired ({name})",
                                self.comparisons[(run, "visibility")],
                                note="positive: time contribution agrees better with the truth"))
        return rows

    def blur_solution(self) -> str:
        """Exercise 1: the verdicts of the two single-frame claims with the main baseline and with blur.

        A Markdown list, a line per (model, claim), saying where the verdict changes; a line per model when
        the profile's ``baselines`` lack blur.
        """
        settings, lines = self.study.settings, []
        for run in self.runs:
            kept = [r for r in self.study.records[run] if "blur" in r["baseline_contribution"]]
            if not kept:
                lines.append(f"- {model_name(run)}: no blurred masks at this profile (`baselines` lacks blur)")
                continue
            persons = np.array([r["person"] for r in kept])
            measured = [agreement(r["baseline_contribution"]["blur"], r["keyframes"], r["visibility"], r["limb_motion"],
                                  settings.in_view_threshold) for r in kept]
            for measure, label in (("rho_contribution_visibility", "ρ with visibility"),
                                   ("auc_contribution_keyframes", "keyframe AUC")):
                claim_id = "000-activity-frames" if measure == "rho_contribution_visibility" else "000-keyframes"
                blurred = claim_row(claim_id, label, interval([m[measure] for m in measured], persons,
                                                              settings.resamples, measure_bounds(measure)))
                main = claim_row(claim_id, label, self.study.estimate(run, measure))
                lines.append(f"- {model_name(run)}, {label}: {settings.baseline} {main['verdict']} "
                             f"({_row_text(main)}); blur {blurred['verdict']} ({_row_text(blurred)})"
                             + (" — **changes**" if blurred["verdict"] != main["verdict"] else ""))
        return "\n".join(lines)


def _row_text(row: Mapping[str, Any]) -> str:
    return interval_text(row["estimate"], row["low"], row["high"], spec="+.3g")


def time_contribution_findings(study: Study) -> TimeContributionFindings:
    """What the study says (:class:`TimeContributionFindings`).

    Parameters
    ----------
    study : Study
        :func:`~vidsal_study.chapters.time_contribution.study.run_study`'s result, every run on the same clips.
    """
    runs = tuple(study.records)
    if not runs or not all(study.records[run] for run in runs):
        raise ConfigError("study: no records; run_study measures at least one clip of each run")
    if len({len(study.records[run]) for run in runs}) != 1:
        raise ConfigError(f"study: the runs measured different numbers of clips "
                          f"{ {run: len(study.records[run]) for run in runs} }")
    settings = study.settings
    classes = tuple(study.classes[runs[0]])
    examples = {action: pick_example(study, action) for action in classes}
    windows: dict[tuple[str, int], dict[str, Estimate | None]] = {}
    baselines: dict[tuple[str, str], dict[str, Estimate]] = {}
    late_minus_early, comparisons = {}, {}
    for run in runs:
        groups, records = study.groups(run), study.records[run]

        def estimate(values: Any, bounds: tuple[float, float] | None = None) -> Estimate:
            return interval(values, groups, settings.resamples, bounds)

        for window in settings.windows:
            windows[(run, window)] = {
                "drop": estimate([PP * r["contribution"][window].mean() for r in records]),
                "flips": estimate([PP * r["flips"][window] for r in records], PERCENT),
                "synergy": estimate([PP * r["synergy"][window] for r in records]) if window > 1 else None,
                "logit_synergy": estimate([r["logit_synergy"][window] for r in records]) if window > 1 else None}
        for baseline in settings.baselines:
            kept = [r for r in records if baseline in r["baseline_contribution"]]
            if not kept:
                continue
            curves = [r["baseline_contribution"][baseline] for r in kept]
            baselines[(run, baseline)] = {
                "drop": estimate([PP * curve.mean() for curve in curves]),
                "flips": estimate([PP * r["baseline_flips"][baseline] for r in kept], PERCENT),
                "rho": estimate([rank_correlation(curve, r["visibility"]) for curve, r in zip(curves, kept)]),
                "auc": estimate([in_view_auc(curve, r["visibility"], settings.in_view_threshold)
                                 for curve, r in zip(curves, kept)], UNIT)}
        matrix = np.stack([r["contribution"][1] for r in records])
        half = matrix.shape[1] // 2
        late_minus_early[run] = estimate(PP * (matrix[:, half:].mean(1) - matrix[:, :half].mean(1)))
        for truth, contribution, keyframes in COMPARED:
            comparisons[(run, truth)] = paired_difference(study.values(run, contribution), study.values(run, keyframes),
                                                          groups, settings.resamples)
    return TimeContributionFindings(study, runs, classes, examples, windows, baselines, late_minus_early, comparisons)


def claim_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The claim rows' :data:`CLAIM_COLUMNS`, one row each."""
    return pd.DataFrame(list(rows))[list(CLAIM_COLUMNS)]


def claim_texts(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``claim_<position>`` → ``"verdict (mean [low, high])"`` of each claim row (of :func:`claim_table`), for the prose.

    Examples
    --------
    >>> claim_texts([{"claim": "c", "quantity": "q", "estimate": 0.25, "low": 0.125, "high": 0.5, "units": 3,
    ...               "verdict": "reproduced"}])
    {'claim_0': 'reproduced (+0.25 [+0.125, +0.5])'}
    """
    return {f"claim_{position}": f"{row['verdict']} ({_row_text(row)})"
            for position, row in claim_table(rows).iterrows()}


def rows_on_runs(profile: Any, settings: Any, runs: Sequence[str], variant: str | None = None) -> list[dict[str, Any]]:
    """The chapter's claim rows on other runs (a replicate's, or the control models), measured as the study's.

    Only the main baseline is measured (the rows need no other). Every run is tested on the study's clips
    (``settings.clip_offset``, the video's centre, empty frames and all), the control models too, though they
    were trained on clips with the person wholly in view: whether their salient frames are where the person
    is asks exactly whether the models lean on the visibility cue (on in-view clips the visibility is constant
    and its correlation undefined). ``variant`` is accepted for :func:`~vidsal_study.training_runs.robust_rows`.
    """
    chosen = dataclasses.replace(settings, runs=tuple(runs), baselines=(settings.baseline,))
    return time_contribution_findings(run_study(profile, chosen)).claim_rows()


def robust_claim_rows(profile: Any, found: "TimeContributionFindings") -> list[dict[str, Any]]:
    """``found``'s claim rows with the verdicts on every training run and the control models' rows
    (:func:`~vidsal_study.training_runs.robust_rows`)."""
    settings = found.study.settings
    return robust_rows(profile, found.runs, found.claim_rows(),
                       lambda runs, variant: rows_on_runs(profile, settings, runs, variant))
