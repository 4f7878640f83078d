"""Training a profile's runs side by side (``train_runs(workers=N)``) against one at a time: seconds and ratio.

Both train the same runs from nothing, each into its own temporary checkpoint
folder, at :data:`vidsal_core.models.train.TRAINING_THREADS` torch threads per
training: one at a time in this process (``workers=1``, the reference), then
``--workers`` at a time, each in a spawned worker process
(:func:`vidsal_study.runs.train_runs`). The script prints both wall
times, the ratio, and whether every trained weight is identical (it must be:
the thread count per training is fixed, so side by side changes no checkpoint).

On a machine with N free cores the ratio approaches min(N, runs) when the runs
cost about the same; the longest run bounds it (on the default profile, C3D).

Usage::

    .venv/bin/python bench/bench_train_runs.py                       # quick profile, every run, 2 workers
    .venv/bin/python bench/bench_train_runs.py --profile default --runs frame_lstm_binary ica_lstm_binary
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from vidsal_study.profiles import corpus_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--runs", nargs="+", default=None, help="run names (default: every run of the profile)")
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()

    import torch

    from vidsal_core.data.corpus import CorpusConfig, build_corpus
    from vidsal_study.runs import profile_runs, train_runs

    runs = profile_runs(arguments.profile, arguments.runs)
    corpora = {}
    for run in runs:
        if run.corpus_section not in corpora:
            corpora[run.corpus_section] = build_corpus(corpus_config(arguments.profile, run.corpus_section),
                                                       progress=False)
    timings, trained = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-train-") as scratch:
        for label, workers in (("one at a time", 1), (f"{arguments.workers} side by side", arguments.workers)):
            start = time.perf_counter()
            trained[label] = train_runs(runs, corpora, workers=workers, directory=Path(scratch) / f"w{workers}")
            timings[label] = time.perf_counter() - start
            print(f"{label:>16s}: {timings[label]:7.1f} s for {len(runs)} runs", flush=True)
    first, second = trained.values()
    identical = all(torch.equal(tensor, second[name].model.state_dict()[key])
                    for name, result in first.items() for key, tensor in result.model.state_dict().items())
    reference, fast = timings.values()
    print(f"ratio (one at a time / side by side): {reference / fast:.2f}x; identical weights: {identical}")


if __name__ == "__main__":
    main()
