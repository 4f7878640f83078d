"""TSR's mask ablation: four separate block-TSR calls against one engine shared by the four mask values, one run.

The evaluation chapter's mask ablation (issue 28) runs block TSR with each
mask value of ``TSR_MASK_VALUES`` (zero, first element, dataset mean, blurred
copy) on every clip. What does not depend on the mask value (the base
attribution and, for a model with a per-frame encoder, the encodings and the
encoder's Jacobians) can be computed once per clip:
:func:`vidsal_study.chapters.evaluation.study.tsr_across_mask_values`.

In one run, on one SynthKTH clip at the profile's size and the model's
``clip_length`` and ``step``, it measures

``separate``  :func:`~vidsal_core.saliency.tsr.temporal_saliency_rescaling` once per mask value
              (the reference: the chapter's cost before issue 28);
``shared``    :func:`~vidsal_study.chapters.evaluation.study.tsr_across_mask_values` for all values,

and prints the wall-clock and CPU seconds (all threads) per map, the ratios separate / shared, and the largest
relative difference of the maps. The model is the profile's trained run when
its checkpoint is there, else its architecture untrained (the cost does not
depend on the weights; the line says which).

Usage::

    .venv/bin/python bench/bench_tsr_mask_values.py                       # default: FrameLSTM, ICA-LSTM, C3D
    .venv/bin/python bench/bench_tsr_mask_values.py --runs frame_lstm_binary --profile quick
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import benchmark_model, markdown_table, synthkth_clip  # noqa: E402


def clip_for(profile: str, run: str) -> torch.Tensor:
    """A walking clip of the run's length, step and size (bilinear resize of a 120 × 160 rendering)."""
    from vidsal_study.runs import run_settings

    data = run_settings(profile, run)["data"]
    length, step = data["clip_length"], data["step"]
    video = synthkth_clip(frames=length * step)[::step]
    return torch.nn.functional.interpolate(video, size=tuple(data["size"]), mode="bilinear",
                                           align_corners=False).clamp(0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--runs", nargs="+", default=["frame_lstm_binary", "ica_lstm_binary", "c3d_6class"])
    parser.add_argument("--block", type=int, default=10, help="TSR block side in pixels (the chapter's tsr_block)")
    arguments = parser.parse_args()

    from vidsal_study.chapters.evaluation.study import TSR_MASK_VALUES, tsr_across_mask_values
    from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS, temporal_saliency_rescaling

    torch.set_grad_enabled(True)
    rows = []
    for run in arguments.runs:
        model, source = benchmark_model(arguments.profile, run)
        model = model.eval()
        video = clip_for(arguments.profile, run)
        mean = float(video.double().mean())
        with torch.no_grad():
            target = int(model(video[None])[0].argmax())
        started, cpu = time.perf_counter(), time.process_time()
        separate = {value: temporal_saliency_rescaling(model, video, target, block_size=arguments.block,
                                                       **{**REFERENCE_CODE_OPTIONS, "mask_value": value},
                                                       mask_mean=mean if value == "mean" else None)
                    for value in TSR_MASK_VALUES}
        separate_seconds, separate_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        shared = tsr_across_mask_values(model, video, target, TSR_MASK_VALUES, arguments.block, REFERENCE_CODE_OPTIONS,
                                        mask_mean=mean)
        shared_seconds, shared_cpu = time.perf_counter() - started, time.process_time() - cpu
        difference = max(float((shared[value].saliency.double() - separate[value].saliency.double()).abs().max())
                         / max(float(separate[value].saliency.abs().max()), 1e-30) for value in TSR_MASK_VALUES)
        engine = shared[TSR_MASK_VALUES[0]].engine
        print(f"{run}: {source}; {tuple(video.shape)}; engine {engine}", flush=True)
        count = len(TSR_MASK_VALUES)
        rows.append([run, engine, f"{separate_seconds / count:.2f}", f"{shared_seconds / count:.2f}",
                     f"{separate_seconds / shared_seconds:.2f}", f"{separate_cpu / count:.2f}",
                     f"{shared_cpu / count:.2f}", f"{separate_cpu / shared_cpu:.2f}", f"{difference:.1e}"])
    print(markdown_table(["run", "engine", "separate s/map", "shared s/map", "separate / shared",
                          "separate CPU-s/map", "shared CPU-s/map", "CPU ratio", "max |Δ| / max map"], rows))


if __name__ == "__main__":
    main()
