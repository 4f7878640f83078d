"""Masks per batch of the incremental masked forward: a sweep, to size batches by the CPU's cache.

The incremental engine (:mod:`vidsal_core.saliency.incremental`) evaluates
10 × 10 block occlusion of a SynthKTH clip on the default profile's per-frame
models (untrained, seeded: speed does not depend on the weights) with
``batch_size`` fixed at each value of ``--sizes``, then with the default
(:func:`~vidsal_core.saliency.masking.cache_masks_per_batch`). For each size it
prints the seconds, the batch's activations (``batch_size`` × the measured
activation bytes per mask) as a multiple of one core's share of the last-level cache
(:func:`~vidsal_core.saliency.masking.cache_bytes`), and the speed relative to
the best size of the same run; the logits of every size are checked against
the first size's. ``CACHE_BATCH_FACTOR`` in :mod:`vidsal_core.saliency.masking`
is the multiple read off this sweep.

Usage::

    .venv/bin/python bench/bench_incremental_batch.py --threads 1
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import markdown_table, synthkth_clip  # noqa: E402

RUNS = {"frame_lstm": "frame_lstm_binary", "ica_lstm": "ica_lstm_binary", "frame_lstm_6class": "frame_lstm_6class"}


def main() -> None:
    from vidsal_core.models.registry import build_model
    from vidsal_study.runs import run_settings
    from vidsal_core.saliency.incremental import IncrementalFrames
    from vidsal_core.saliency.masking import CACHE_BATCH_FACTOR, baseline_video, block_labels, cache_bytes, \
        cache_masks_per_batch, label_masks

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--models", nargs="+", choices=sorted(RUNS), default=["frame_lstm", "ica_lstm"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1, 4, 16, 32, 48, 64, 96, 128, 256])
    parser.add_argument("--block-size", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    arguments = parser.parse_args()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    torch.set_grad_enabled(False)
    cache = cache_bytes(3)
    rows = []
    for name in arguments.models:
        settings = run_settings(arguments.profile, RUNS[name])
        model = build_model(settings["model"], settings["model_config"], seed=0).eval()
        height, width = settings["data"]["size"]
        video = synthkth_clip(frames=settings["data"]["clip_length"], height=height, width=width)
        labels = block_labels(height, width, arguments.block_size)
        masks = label_masks(labels.expand(video.shape[0], height, width))
        baseline = baseline_video(video, "zero")
        engine = IncrementalFrames(model, video)
        per_mask = engine.bytes_per_mask(1)
        default = cache_masks_per_batch(per_mask)
        engine.masked_logits(masks.subset(range(min(len(masks), 64))), baseline, batch_size=16)  # warm-up
        measured, reference = [], None
        for size in [*arguments.sizes, default]:
            started = time.perf_counter()
            logits = engine.masked_logits(masks, baseline, batch_size=size)
            seconds = time.perf_counter() - started
            reference = logits if reference is None else reference
            measured.append((size, seconds, float((logits - reference).abs().max())))
        best = min(seconds for _, seconds, _ in measured[:-1])
        for index, (size, seconds, error) in enumerate(measured):
            label = f"{size} (default)" if index == len(measured) - 1 else str(size)
            rows.append([name, str(len(masks)), label, f"{size * per_mask / cache:.2f}", f"{seconds:.2f}",
                         f"{best / seconds:.2f}", f"{error:.1e}"])
    print(f"incremental block occlusion, {arguments.block_size}×{arguments.block_size} blocks, "
          f"{arguments.profile} profile architectures UNTRAINED (seed 0); torch threads {torch.get_num_threads()}; "
          f"last-level cache per core {cache / 2**20:.2f} MiB; CACHE_BATCH_FACTOR {CACHE_BATCH_FACTOR}; "
          f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}\n")
    print(markdown_table(["model", "masks", "batch size", "batch activations / cache", "seconds",
                          "best seconds / this", "max |logits − first size's|"], rows))


if __name__ == "__main__":
    main()
