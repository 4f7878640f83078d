"""Cascading randomisation of a FrameLSTM's input gradient: seconds per video per step, against a naive loop.

:func:`vidsal_core.metrics.randomisation.cascading_randomisation` randomises
one copy of the model layer after layer, explains all videos of a step in one
batch, and compares maps through ranks of the trained maps computed once.
The naive loop (:func:`~vidsal_core.metrics.randomisation.cascading_randomisation_reference`)
re-randomises a fresh copy from the top for every step, explains one video at
a time and calls ``scipy.stats.spearmanr`` on every pair. Both run here on the
same SynthKTH clips, in one process; the benchmark prints both timings, their
ratio and the largest difference of their results.

The model is the profile's FrameLSTM (its trained checkpoint when one
matches, else the same architecture untrained: timings depend on the
architecture only).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_randomisation.py                 # quick models, 4 clips at 120×160
    .venv/bin/python bench/bench_randomisation.py --profile default --videos 8
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import benchmark_model, markdown_table, synthkth_clip  # noqa: E402


def main() -> None:
    from vidsal_core.metrics.randomisation import (
        cascading_randomisation, cascading_randomisation_reference, randomisable_layers,
    )
    from vidsal_core.saliency.gradients import input_gradient, predicted_target

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--run", default="frame_lstm_binary")
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, nargs=2, default=(120, 160), metavar=("HEIGHT", "WIDTH"))
    parser.add_argument("--compare-at", default="model", choices=["model", "video"],
                        help="compare maps at the model's input size (default) or at the clips' size")
    arguments = parser.parse_args()

    model, source = benchmark_model(arguments.profile, arguments.run)
    actions = ("walking", "running")
    videos = torch.stack([
        synthkth_clip(actions[index % 2], person=2 + index // 2 % 2, frames=arguments.frames,
                      height=arguments.size[0], width=arguments.size[1], seed=index)
        for index in range(arguments.videos)
    ])
    targets = predicted_target(model, videos)
    steps = len(randomisable_layers(model)) + 1
    resolution = tuple(model.config["input_size"]) if arguments.compare_at == "model" else None

    def explain(model, videos, targets):
        return input_gradient(model, videos, targets)

    # warm up (imports of scipy.stats and scikit-image, first-call allocations) outside the timings
    cascading_randomisation(model, explain, videos[:1], targets[:1], layers=randomisable_layers(model)[:1])
    started = time.perf_counter()
    fast = cascading_randomisation(model, explain, videos, targets, resolution=resolution)
    fast_seconds = time.perf_counter() - started
    started = time.perf_counter()
    naive = cascading_randomisation_reference(model, explain, videos, targets, resolution=resolution)
    naive_seconds = time.perf_counter() - started
    columns = ["spearman", "spearman_frames", "ssim"]
    difference = float((fast[columns] - naive[columns]).abs().max().max())

    per = arguments.videos * steps
    print(f"cascading randomisation of the input gradient, {arguments.profile}/{arguments.run}: "
          f"{arguments.videos} SynthKTH clips of {arguments.frames} frames "
          f"at {arguments.size[0]}×{arguments.size[1]}, "
          f"{steps} steps (trained + {steps - 1} layers), maps compared at {resolution or 'the clips’ size'}; "
          f"model: {source}; torch threads {torch.get_num_threads()}")
    print(f"largest |fast − naive| over spearman, spearman_frames, ssim: {difference:.1e}\n")
    rows = [
        ["naive (fresh copy per step, one video per pass, scipy.spearmanr)", f"{naive_seconds:.2f}",
         f"{naive_seconds / per:.3f}", "1.0×"],
        ["cascading_randomisation (one copy, batched, cached ranks)", f"{fast_seconds:.2f}",
         f"{fast_seconds / per:.3f}", f"{naive_seconds / fast_seconds:.1f}×"],
    ]
    print(markdown_table(["engine", "seconds", "s / video / step", "speed-up"], rows))
    last = fast[fast.step == fast.step.max()]
    print(f"\nall layers randomised: mean spearman {last.spearman.mean():.3f}, spearman_frames "
          f"{last.spearman_frames.mean():.3f}, ssim {last.ssim.mean():.3f}")


if __name__ == "__main__":
    main()
