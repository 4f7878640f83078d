"""Frame deletion/insertion from frame encodings against the batched engine: seconds per clip, and agreement.

The evaluation chapter draws deletion and insertion curves over the frames of
every test clip for every method. For a frame-CNN + LSTM, deleting whole frames
only changes their encodings, so
:func:`vidsal_core.metrics.faithfulness.frame_perturbation_curve` encodes the
frames and the baseline frames once and runs only the LSTM per point. This
benchmark times, in one run and taking turns, the batched engine
(:func:`~vidsal_core.metrics.faithfulness.perturbation_curve`, the whole model
per point) and the encoding path on the same clips and orders, prints the
ratio, and checks that the curves agree.

Usage::

    .venv/bin/python bench/bench_faithfulness_factorised.py                 # default profile, 4 clips
    .venv/bin/python bench/bench_faithfulness_factorised.py --profile quick --run frame_lstm_binary --clips 2
    .venv/bin/python bench/bench_faithfulness_factorised.py --threads 1   # as the chapters' sweeps run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import benchmark_model, markdown_table, synthkth_clip  # noqa: E402


def main() -> None:
    from vidsal_core.metrics.faithfulness import faithfulness
    from vidsal_study.runs import build_run
    from vidsal_core.saliency.masking import baseline_video, frame_masks

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--run", default="frame_lstm_binary")
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--points", type=int, default=10, help="points per curve (the evaluation chapter's frame_points)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    arguments = parser.parse_args()
    if arguments.threads is not None:
        torch.set_num_threads(arguments.threads)

    run = build_run(arguments.profile, arguments.run)
    model, source = benchmark_model(arguments.profile, arguments.run)
    model.eval()
    clips = [synthkth_clip(action=("walking", "running")[index % 2], person=2 + index // 2,
                           frames=run.data["clip_length"]) for index in range(arguments.clips)]
    orders = [np.random.default_rng(index).permutation(clip.shape[0]) for index, clip in enumerate(clips)]

    def curves(factorised):
        results = []
        for clip, order in zip(clips, orders):
            masks = frame_masks(*clip.shape[:1], *clip.shape[2:])
            result = faithfulness(model, clip, masks, order, 0, baseline_video(clip, "blur"),
                                  min(arguments.points, clip.shape[0]), factorised=factorised)
            results.append(np.concatenate([result.deletion, result.insertion]))
        return results

    timings = {"whole model": [], "encodings": []}
    outputs = {}
    for _ in range(arguments.repeats + 1):  # the first round warms up
        for name, flag in (("whole model", False), ("encodings", True)):
            started = time.perf_counter()
            outputs[name] = curves(flag)
            timings[name].append(time.perf_counter() - started)
    difference = max(float(np.abs(a - b).max()) for a, b in zip(outputs["whole model"], outputs["encodings"]))
    seconds = {name: statistics.median(values[1:]) / len(clips) for name, values in timings.items()}
    print(f"frame deletion + insertion, {arguments.profile}/{arguments.run} ({source}); {len(clips)} clips of "
          f"{run.data['clip_length']} frames, {arguments.points} points per curve; "
          f"max |Δ probability| {difference:.1e}; torch threads {torch.get_num_threads()}\n")
    print(markdown_table(["engine", "seconds per clip", "speed-up"], [
        ["batched engine (whole model per point)", f"{seconds['whole model']:.3f}", "1.0×"],
        ["frame encodings once", f"{seconds['encodings']:.3f}",
         f"{seconds['whole model'] / seconds['encodings']:.1f}×"],
    ]))


if __name__ == "__main__":
    main()
