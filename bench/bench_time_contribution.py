"""Time contribution over a test split: videos per second, incremental and batched masks against one mask per pass.

Seed 000 (§4.1) masks each frame of a clip in turn. This benchmark computes
the time contribution of every test clip of a profile's walking-vs-running
task with :func:`vidsal_core.saliency.time_contribution.dataset_time_contribution`
three times in one run: with the default engine (for a per-frame model the
incremental masked forward, :mod:`vidsal_core.saliency.incremental`: only
the masked frame encoded, the recurrence re-run from it), with
``engine="full"`` (masked clips batched under the default memory bound), and
naively, one masked clip per full forward pass (``engine="full"``,
``batch_size=1``). It prints the throughputs, their ratios to the naive
loop, and checks that the results are the same.

The corpus of the profile is built (or reused) first; the model is the run's
trained checkpoint when one matches, else the same architecture untrained.

Usage::

    .venv/bin/python bench/bench_time_contribution.py                    # default profile, test split
    .venv/bin/python bench/bench_time_contribution.py --profile quick
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import benchmark_model, markdown_table  # noqa: E402
from vidsal_study.profiles import corpus_config


def main() -> None:
    from vidsal_core.data.corpus import CorpusConfig, build_corpus
    from vidsal_study.runs import build_run, run_dataset
    from vidsal_core.saliency.time_contribution import dataset_time_contribution

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--run", default="frame_lstm_binary")
    parser.add_argument("--split", default="test", choices=["train", "validation", "test"])
    parser.add_argument("--max-videos", type=int, default=None)
    parser.add_argument("--window", type=int, default=1)
    arguments = parser.parse_args()

    run = build_run(arguments.profile, arguments.run)
    corpus = build_corpus(corpus_config(arguments.profile, run.corpus_section), progress=False)
    dataset = run_dataset(run, corpus, arguments.split)
    model, source = benchmark_model(arguments.profile, arguments.run)
    default = dataset_time_contribution(model, dataset, window=arguments.window, max_videos=arguments.max_videos)
    batched = dataset_time_contribution(model, dataset, window=arguments.window, max_videos=arguments.max_videos,
                                        engine="full")
    naive = dataset_time_contribution(model, dataset, window=arguments.window, max_videos=arguments.max_videos,
                                      batch_size=1, engine="full")
    difference = max(float((result.probability_drop - naive.probability_drop).abs().max())
                     for result in (default, batched))
    videos = batched.probability_drop.shape[0]
    frames = batched.probability_drop.shape[1]
    print(f"time contribution, {arguments.profile} profile, {arguments.split} split of {arguments.run}: {videos} clips "
          f"of {frames} frames at {run.data['size']}, window {arguments.window}; model: {source}")
    print(f"accuracy {batched.accuracy:.3f}; largest accuracy drop {float(batched.accuracy_drop.max()):.3f} "
          f"at frame {int(batched.accuracy_drop.argmax())}; default and batched vs naive max |Δ probability drop| "
          f"{difference:.1e}; load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}\n")
    rows = [["naive (one masked clip per full pass)", f"{naive.seconds:.1f}", f"{naive.videos_per_second:.2f}", "1.0×"],
            ["engine='full', batched (memory bound 512 MiB)", f"{batched.seconds:.1f}", f"{batched.videos_per_second:.2f}",
             f"{batched.videos_per_second / naive.videos_per_second:.1f}×"],
            ["default engine (incremental for per-frame models)", f"{default.seconds:.1f}",
             f"{default.videos_per_second:.2f}", f"{default.videos_per_second / naive.videos_per_second:.1f}×"]]
    print(markdown_table(["masks evaluated", "seconds", "videos/s", "speed-up"], rows))


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
