"""Train a profile's models and print their test accuracy with 95% intervals.

Usage::

    python -m vidsal_study.chapters.models.cli train --profile default
    python -m vidsal_study.chapters.models.cli train --profile quick --runs c3d_6class --retrain
    python -m vidsal_study.chapters.models.cli table --profile default

``train`` builds the corpora it needs (cached), reuses every checkpoint that
matches the profile, trains the others (replacing checkpoints trained with
another configuration or corpus), evaluates each model once on the test
persons and prints the table. ``table`` prints the table from the manifest
without training.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from vidsal_core.errors import VidsalError
from vidsal_study.processes import study_process
from vidsal_core.models.checkpoints import CHECKPOINT_DIR, annotate_checkpoint, manifest_entry
from vidsal_core.models.evaluation import evaluate_accuracy
from vidsal_study.runs import Run, checkpoint_paths, profile_runs, run_dataset, run_summary, train_runs
from vidsal_study.profiles import corpus_config
from vidsal_core.data.corpus import CorpusConfig, build_corpus

#: Columns of the accuracy table: (header, row key, format).
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("run", "run", "{}"), ("model", "model", "{}"), ("task", "task", "{}"),
    ("clips", "clips", "{}"), ("test videos", "total", "{}"), ("persons", "persons", "{}"),
    ("accuracy", "accuracy", "{:.3f}"), ("95% CI (Wilson)", "wilson", "{}"),
    ("95% CI (person bootstrap)", "bootstrap", "{}"), ("best/run epochs", "epochs", "{}"),
    ("train s", "seconds", "{:.0f}"), ("checkpoint", "status", "{}"),
)


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as a Markdown table (readable as plain text too)."""
    cells = [[header for header, _, _ in TABLE_COLUMNS]]
    for row in rows:
        cells.append([template.format(row[key]) for _, key, template in TABLE_COLUMNS])
    widths = [max(len(line[column]) for line in cells) for column in range(len(TABLE_COLUMNS))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths)) + " |" for line in cells]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def format_confusions(rows: Sequence[dict[str, Any]]) -> str:
    """Each run's test confusion matrix (rows: true class, columns: predicted)."""
    blocks = []
    for row in rows:
        classes = row["classes"]
        width = max(len(name) for name in classes)
        lines = [f"\n{row['run']} (rows true, columns predicted):", " " * width + " " + " ".join(name[:5].rjust(5) for name in classes)]
        lines += [name.rjust(width) + " " + " ".join(f"{count:5d}" for count in counts)
                  for name, counts in zip(classes, row["confusion"])]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def table_row(run: Run, entry: dict[str, Any], status: str) -> dict[str, Any]:
    """One table row from a run and its checkpoint's manifest entry."""
    test, training = entry["test"], entry.get("training", {})
    return {
        **run_summary(run), **test, "status": status, "classes": list(run.spec.classes),
        "wilson": f"[{test['wilson_low']:.3f}, {test['wilson_high']:.3f}]",
        "bootstrap": f"[{test['bootstrap_low']:.3f}, {test['bootstrap_high']:.3f}]",
        "epochs": f"{training.get('best_epoch', '?')}/{training.get('epochs_run', '?')}",
        "seconds": training.get("seconds", float("nan")),
    }


def _corpus_of(run: Run, profile: str, corpora: dict[str, Any], workers: int, progress: bool) -> Any:
    """Build (or reuse) the corpus a run trains on, once per profile section."""

    if run.corpus_section not in corpora:
        config = corpus_config(profile, run.corpus_section)
        corpora[run.corpus_section] = build_corpus(config, workers=workers, progress=progress)
    return corpora[run.corpus_section]


def train_command(arguments: argparse.Namespace) -> int:
    """``train``: train or reuse every run, evaluate, print the table."""
    start, rows, corpora = time.perf_counter(), [], {}
    directory = Path(arguments.checkpoints)
    runs = profile_runs(arguments.profile, arguments.runs)
    for run in runs:
        _corpus_of(run, arguments.profile, corpora, arguments.workers, arguments.progress)
    trained_runs = train_runs(runs, corpora, workers=arguments.jobs, directory=directory, on_mismatch="retrain",
                              progress=arguments.progress, force=arguments.retrain)
    for run in runs:
        corpus, trained = corpora[run.corpus_section], trained_runs[run.name]
        path = checkpoint_paths(run, directory).trained
        if not trained.reused or "test" not in trained.entry:
            report = evaluate_accuracy(trained.model, run_dataset(run, corpus, "test"))
            annotate_checkpoint(path, {"test": report.to_dict()}, directory)
        rows.append(table_row(run, manifest_entry(path, directory), "reused" if trained.reused else "trained"))
        print(f"{run.name}: {rows[-1]['status']}, test accuracy {rows[-1]['accuracy']:.3f}", file=sys.stderr)
    print(format_table(rows))
    print(format_confusions(rows))
    print(f"\nprofile {arguments.profile}: {len(rows)} models in {time.perf_counter() - start:.0f} s "
          f"(checkpoints in {directory})")
    return 0


def table_command(arguments: argparse.Namespace) -> int:
    """``table``: print the accuracy table of already trained runs."""
    rows = []
    directory = Path(arguments.checkpoints)
    for run in profile_runs(arguments.profile, arguments.runs):
        entry = manifest_entry(checkpoint_paths(run, directory).trained, directory)
        if entry is None or "test" not in entry:
            print(f"{run.name}: not trained yet; run `python -m vidsal_study.chapters.models.cli train "
                  f"--profile {arguments.profile}`", file=sys.stderr)
            continue
        rows.append(table_row(run, entry, "stored"))
    print(format_table(rows))
    print(format_confusions(rows))
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    main_parser = argparse.ArgumentParser(prog="python -m vidsal_study.chapters.models.cli", description=__doc__.split("\n")[0])
    commands = main_parser.add_subparsers(dest="command", required=True)
    for name, function, text in (("train", train_command, "train or reuse the profile's models"),
                                 ("table", table_command, "print the accuracy table of trained models")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--profile", default="default", help="quick, default, full or a .yaml path")
        command.add_argument("--runs", nargs="+", help="only these runs of the profile")
        command.add_argument("--checkpoints", default=str(CHECKPOINT_DIR), help="checkpoint folder")
        command.set_defaults(function=function)
        if name == "train":
            command.add_argument("--retrain", action="store_true", help="train even if a matching checkpoint exists")
            command.add_argument("--workers", type=int, default=1, help="processes rendering the corpus")
            command.add_argument("--jobs", type=int, default=1,
                                 help="runs trained side by side, a process each (the checkpoints do not depend on it)")
            command.add_argument("--no-progress", dest="progress", action="store_false", help="hide progress bars")
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; errors of vidsal_core are printed without a traceback."""
    study_process()
    arguments = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return arguments.function(arguments)
    except VidsalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
