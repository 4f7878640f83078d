"""Incremental masked inference for 3-D CNNs against full re-inference and Captum's best, in one run.

Issue 29, items 2, 3 and 6 for C3D and I3D. Each task is computed three (or
more) ways on the same model, clip and target, in this process, and the
seconds, the ratio and the largest difference of the maps are printed:

``incremental``  :func:`vidsal_core.saliency.masking.masked_logits` with
                 ``engine="incremental"`` (:mod:`vidsal_core.saliency.incremental_cnn`);
``full``         the same with ``engine="full"``: every masked clip through the
                 whole model (today's engine, the slow twin);
``Captum``       ``Occlusion`` on ``softmax(model(x))`` with baseline 0, at each
                 ``perturbations_per_eval`` of ``--perturbations`` (the best kept),
                 as ``bench/bench_captum_masking.py`` does.

Tasks: block occlusion on the default profile's C3D (10×10 blocks, 16 frames of
60×80), time contribution on the same C3D (whole frames), I3D block occlusion
at 16×112×112 (``--i3d-block-size`` blocks; the Kinetics-400 weights if
converted, else seeded random weights: timing and agreement do not depend on
them), and two-step TSR on the default C3D, where only the forward half of
each masked attribution could be maintained incrementally: the run measures
the forward share of today's batched engine and prints the bound it sets.

For every masking task the profile of the bound is printed too: GFLOP per mask
of the incremental engine and of full inference (``torch.utils.flop_counter``),
and this CPU's measured GFLOP/s on full inference, so that the seconds a task
cannot go below at that rate (its physical floor) stand beside the seconds
measured.

Usage::

    .venv/bin/python bench/bench_incremental_cnn.py                      # everything, one thread
    .venv/bin/python bench/bench_incremental_cnn.py --tasks c3d_blocks c3d_frames --perturbations 16 64
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import markdown_table, synthkth_clip  # noqa: E402
from bench_captum_masking import captum_block_occlusion, captum_time_contribution  # noqa: E402

TASKS = ("c3d_blocks", "c3d_frames", "i3d_blocks", "c3d_tsr")


def seconds_of(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def gflop_of(function) -> float:
    """GFLOP of ``function()`` as PyTorch's flop counter sees them (convolutions, matrix products)."""
    with FlopCounterMode(display=False) as counter:
        function()
    return counter.get_total_flops() / 1e9


def drop_map(model, video, target, masks, engine, batch_size=None):
    """Drop of the target's probability for every mask: ``(M,)``."""
    from vidsal_core.saliency.masking import baseline_video, masked_logits

    with torch.no_grad():
        probability = torch.softmax(model(video[None]), dim=1)[0, target]
    logits = masked_logits(model, video, masks, baseline_video(video, "zero"), batch_size=batch_size, engine=engine)
    return probability - torch.softmax(logits, dim=1)[:, target]


def block_table(drops, masks, labels, frames):
    table = drops.new_zeros(frames, int(labels.max()) + 1)
    table[masks.starts, masks.regions] = drops
    return table[torch.arange(frames)[:, None, None], labels[None]]


def masking_rows(name, model, video, target, block_size, perturbations, batch_size):
    """Rows for block occlusion (``block_size``) or time contribution (``None``)."""
    from vidsal_core.saliency.masking import block_labels, frame_masks, label_masks

    frames, _, height, width = video.shape
    if block_size is None:
        masks = frame_masks(frames, height, width)

        def ours(engine):
            return drop_map(model, video, target, masks, engine, batch_size)

        def theirs(value):
            return captum_time_contribution(model, video, target, "Occlusion", value)
    else:
        labels = block_labels(height, width, block_size)
        masks = label_masks(labels.expand(frames, height, width))

        def ours(engine):
            return block_table(drop_map(model, video, target, masks, engine, batch_size), masks, labels, frames)

        def theirs(value):
            return captum_block_occlusion(model, video, target, block_size, "Occlusion", value)

    print(f"{name}: {len(masks)} masks ...", file=sys.stderr, flush=True)
    incremental = seconds_of(lambda: ours("incremental"))
    full = seconds_of(lambda: ours("full"))
    captum = [(value, *seconds_of(lambda: theirs(value))) for value in perturbations]
    best = min(captum, key=lambda entry: entry[1])
    reference = incremental[1].double()
    rows = []
    for label, seconds, result in [("incremental", *incremental), ("full re-inference (today)", *full)] + [
            (f"Captum Occlusion, perturbations_per_eval={value}", seconds, result) for value, seconds, result in captum]:
        error = float((result.double().reshape(reference.shape) - reference).abs().max())
        rows.append([name, label + (" (best Captum)" if seconds == best[1] else ""), f"{seconds:.2f}",
                     f"{best[1] / incremental[0]:.2f}×" if label == "incremental" else
                     f"{seconds / incremental[0]:.2f}× incremental's", f"{error:.1e}"])
    incremental_gflop = gflop_of(lambda: ours("incremental")) / len(masks)
    full_gflop = gflop_of(lambda: model(video[None]))  # full re-inference is one whole pass per mask
    rate = full_gflop * len(masks) / full[0]
    profile = (f"{name}: GFLOP per mask {incremental_gflop:.4f} incremental vs {full_gflop:.4f} full "
               f"({full_gflop / incremental_gflop:.1f}× fewer); this CPU ran full inference at {rate:.1f} GFLOP/s, "
               f"the incremental engine at {incremental_gflop * len(masks) / incremental[0]:.1f} GFLOP/s; "
               f"floor at the full-inference rate: {incremental_gflop * len(masks) / rate:.2f} s "
               f"(measured {incremental[0]:.2f} s)")
    return rows, profile


def tsr_rows(model, video, target):
    """Two-step TSR on C3D with today's batched engine, and the share of it a forward-only maintenance could save."""
    from vidsal_core.saliency.masking import (
        baseline_video,
        block_labels,
        frame_masks,
        label_masks,
        masked_logits,
    )
    from vidsal_core.saliency.tsr import temporal_saliency_rescaling

    print("c3d_tsr ...", file=sys.stderr, flush=True)
    with torch.enable_grad():
        seconds, result = seconds_of(lambda: temporal_saliency_rescaling(model, video, target, engine="batched"))
    frames, _, height, width = video.shape
    chosen = torch.nonzero(result.selected).flatten()
    block_masks = label_masks(block_labels(height, width, 10).expand(frames, height, width), chosen)
    values = baseline_video(video, "zero")
    forward_full = sum(seconds_of(lambda: masked_logits(model, video, masks, values, engine="full"))[0]
                       for masks in (frame_masks(frames, height, width), block_masks))
    forward_incremental = sum(seconds_of(lambda: masked_logits(model, video, masks, values, engine="incremental"))[0]
                              for masks in (frame_masks(frames, height, width), block_masks))
    bound = seconds / (seconds - forward_full + forward_incremental)
    rows = [["c3d two-step TSR", "batched engine (today)", f"{seconds:.2f}", "1.00×", "—"],
            ["c3d two-step TSR", f"its {result.attribution_calls} masked forward passes alone, full", f"{forward_full:.2f}",
             f"{forward_full / seconds:.0%} of TSR", "—"],
            ["c3d two-step TSR", "the same forward passes, incremental", f"{forward_incremental:.2f}",
             f"bound on TSR speed-up: {bound:.2f}×", "—"]]
    profile = (f"c3d_tsr: the backward pass of every masked attribution runs through every layer "
               f"(∂y/∂pool5 changes everywhere with the head's ReLU pattern); replacing only the forward passes "
               f"by incremental ones bounds the speed-up at {seconds:.2f} / ({seconds:.2f} − {forward_full:.2f} + "
               f"{forward_incremental:.2f}) = {bound:.2f}×")
    return rows, profile


def main() -> None:
    from vidsal_core.models.i3d import DEFAULT_WEIGHTS_PATH, InceptionI3d, load_i3d
    from vidsal_core.models.registry import build_model
    from vidsal_study.runs import run_settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--perturbations", nargs="+", type=int, default=[16, 64],
                        help="Captum Occlusion perturbations_per_eval values to try on C3D (the best is kept)")
    parser.add_argument("--i3d-perturbations", nargs="+", type=int, default=[16],
                        help="the same for I3D (each value is a full pass over all masks)")
    parser.add_argument("--i3d-block-size", type=int, default=28)
    parser.add_argument("--batch-size", type=int, default=None, help="masks per incremental batch (default: the engine's)")
    parser.add_argument("--threads", type=int, default=1)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.set_grad_enabled(False)
    load_before = os.getloadavg()

    settings = run_settings(arguments.profile, "c3d_6class")
    c3d = build_model(settings["model"], settings["model_config"], seed=0).eval()
    height, width = settings["data"]["size"]
    clip = synthkth_clip(frames=settings["data"]["clip_length"], height=height, width=width)
    c3d_target = int(c3d(clip[None]).argmax(1))

    rows, profiles = [], []
    if "c3d_blocks" in arguments.tasks:
        found = masking_rows("c3d 10×10 block occlusion", c3d, clip, c3d_target, 10, arguments.perturbations,
                             arguments.batch_size)
        rows += found[0]
        profiles.append(found[1])
    if "c3d_frames" in arguments.tasks:
        found = masking_rows("c3d time contribution", c3d, clip, c3d_target, None, arguments.perturbations,
                             arguments.batch_size)
        rows += found[0]
        profiles.append(found[1])
    if "i3d_blocks" in arguments.tasks:
        i3d = load_i3d() if DEFAULT_WEIGHTS_PATH.is_file() else InceptionI3d().eval()
        video = synthkth_clip(frames=16, height=112, width=112).expand(16, 3, 112, 112).contiguous()
        target = int(i3d(video[None]).argmax(1))
        size = arguments.i3d_block_size
        found = masking_rows(f"i3d 16×112×112 {size}×{size} block occlusion", i3d, video, target, size,
                             arguments.i3d_perturbations, arguments.batch_size)
        rows += found[0]
        profiles.append(found[1])
    if "c3d_tsr" in arguments.tasks:
        found = tsr_rows(c3d, clip, c3d_target)
        rows += found[0]
        profiles.append(found[1])

    print(f"incremental 3-D CNN masking: {arguments.profile} profile C3D (UNTRAINED, seed 0) on a SynthKTH walking "
          f"clip at 16×60×80; I3D ({'Kinetics-400 weights' if DEFAULT_WEIGHTS_PATH.is_file() else 'random weights'}) "
          f"at 16×112×112; baseline 0; target = predicted class; torch threads {torch.get_num_threads()}; "
          f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {' '.join(f'{value:.2f}' for value in os.getloadavg())}\n")
    print(markdown_table(["task", "implementation", "seconds",
                          "incremental: best Captum / incremental; others: this / incremental",
                          "max |map − incremental map|"], rows))
    print()
    for line in profiles:
        print(f"- {line}")


if __name__ == "__main__":
    main()
