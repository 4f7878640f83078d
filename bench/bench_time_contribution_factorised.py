"""Time contribution from frame encodings against the batched masking loop: seconds per clip, and agreement.

The chapter ``time_contribution`` masks every frame and every window of each
test clip with several baselines. For a frame-CNN + LSTM a masked frame only
changes its own encoding, so
:mod:`vidsal_core.saliency.time_contribution_factorised` encodes the frames
once and runs only the LSTM on the masked sequences. This benchmark times, in
one run and taking turns, the library's batched masking loop
(:func:`vidsal_core.saliency.time_contribution.time_contribution`) and the
factorised engine on the same clips and windows, prints the ratio, and checks
that the probability drops agree.

Usage::

    .venv/bin/python bench/bench_time_contribution_factorised.py                 # default profile, 8 clips
    .venv/bin/python bench/bench_time_contribution_factorised.py --profile quick --clips 4
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import benchmark_model, markdown_table, synthkth_clip  # noqa: E402


def main() -> None:
    from vidsal_study.runs import build_run
    from vidsal_core.saliency.time_contribution import time_contribution
    from vidsal_core.saliency.time_contribution_factorised import EncodedVideo

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--run", default="frame_lstm_binary")
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--windows", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()

    run = build_run(arguments.profile, arguments.run)
    model, source = benchmark_model(arguments.profile, arguments.run)
    clips = [synthkth_clip(action=("walking", "running")[index % 2], person=2 + index // 2,
                           frames=run.data["clip_length"]) for index in range(arguments.clips)]

    def loop():
        return [time_contribution(model, clip, window=window).probability_drop
                for clip in clips for window in arguments.windows]

    def factorised():
        results = []
        for clip in clips:
            encoded = EncodedVideo(model, clip)
            results.extend(encoded.time_contribution(window=window).probability_drop for window in arguments.windows)
        return results

    timings = {"loop": [], "factorised": []}
    outputs = {}
    for _ in range(arguments.repeats + 1):  # the first round warms up
        for name, function in (("loop", loop), ("factorised", factorised)):
            started = time.perf_counter()
            outputs[name] = function()
            timings[name].append(time.perf_counter() - started)
    difference = max(float((a - b).abs().max()) for a, b in zip(outputs["loop"], outputs["factorised"]))
    seconds = {name: statistics.median(values[1:]) / len(clips) for name, values in timings.items()}
    print(f"time contribution, {arguments.profile}/{arguments.run} ({source}); {len(clips)} clips of "
          f"{run.data['clip_length']} frames at 120x160, windows {arguments.windows}; "
          f"max |Δ probability drop| {difference:.1e}; torch threads {torch.get_num_threads()}\n")
    print(markdown_table(["engine", "seconds per clip", "speed-up"], [
        ["batched masking loop (library)", f"{seconds['loop']:.3f}", "1.0×"],
        ["factorised (encodings once)", f"{seconds['factorised']:.3f}", f"{seconds['loop'] / seconds['factorised']:.1f}×"],
    ]))


if __name__ == "__main__":
    main()
