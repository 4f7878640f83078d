"""Two-step TSR at seed 000's own setting: the naive loop, the factorised and the batched engine, one run, one clip.

Seed 000 (§6.3) reports about one hour per video for two-step TSR with
10×10 blocks on an RTX 3080. This benchmark measures the same computation on
the seed's network and setting:

- the network: ``build_model("seed000")`` (ResNet-18 per frame → 512 → 300 →
  3-layer LSTM(256) → 128 → 2), **untrained** (seeded): the cost of TSR does
  not depend on the weights' values, so no trained weights are needed for a
  timing, but every figure here comes from untrained weights;
- the clip: a SynthKTH walking clip of 30 frames of 120 × 120 (grayscale);
- TSR: ``|gradient|`` base (Captum ``Saliency``), 10 × 10 blocks (144 per
  frame), the reference code's options (``REFERENCE_CODE_OPTIONS``: the
  first element as mask value, min-max scaled time and feature scores, 0.1
  below the threshold).

In one run it measures:

``naive loop``   :func:`vidsal_core.saliency.tsr_reference.temporal_saliency_rescaling_reference`'s
                 pass, one Captum call per mask: the base pass and all ``T``
                 frame-masking passes (its whole time step), then a sample of
                 block-masking passes; its total is **extrapolated** to the full
                 pass count ``1 + T + |{t > α}| · 144`` from the measured seconds per pass;
``factorised``   :func:`~vidsal_core.saliency.tsr.temporal_saliency_rescaling` with
                 ``engine="factorised"``, whole, Jacobian precompute included
                 (the split of its time is printed);
``batched``      the same with ``engine="batched"``, whole (``--no-batched`` skips it:
                 it makes every pass the naive loop makes, so it takes about as long).

It prints the seconds, the ratios and the agreement of the naive loop's Δ with
the engines' on the masks both computed (the ``T`` frame masks and the sampled
blocks), as the largest difference over the largest Δ, and writes all of it
as JSON (``--json``; the TSR chapter reads ``bench/results/tsr_seed_setting.json``).

Usage::

    .venv/bin/python bench/bench_tsr_seed_setting.py --json bench/results/tsr_seed_setting.json
    .venv/bin/python bench/bench_tsr_seed_setting.py --no-batched --sample 8    # shorter
    .venv/bin/python bench/bench_tsr_seed_setting.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import markdown_table, peak_rss_mib, synthkth_clip  # noqa: E402


def timed_methods(cls, names, timings):
    """Wrap methods of ``cls`` so that their wall-clock seconds add up in ``timings[name]``."""
    for name in names:
        original = getattr(cls, name)

        def wrapper(self, *arguments, _original=original, _name=name, **options):
            started = time.perf_counter()
            result = _original(self, *arguments, **options)
            timings[_name] = timings.get(_name, 0.0) + time.perf_counter() - started
            return result

        setattr(cls, name, wrapper)


def synchronise(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def naive_sample(model, video, target, attribution, values, selected_frames, block_size, sample, device):
    """The naive loop's passes: base, every frame mask, then ``sample`` block masks spread over the selected frames."""
    from vidsal_core.saliency.masking import block_labels

    def change(base, masked):
        return float((base - attribution.captum(model, masked, target)).abs().sum(dtype=torch.float64))

    started = time.perf_counter()
    base = attribution.captum(model, video, target)
    frame_deltas = []
    for frame in range(video.shape[0]):
        masked = video.clone()
        masked[frame] = values[frame]
        frame_deltas.append(change(base, masked))
    synchronise(device)
    time_step = time.perf_counter() - started
    labels = block_labels(video.shape[2], video.shape[3], block_size)
    blocks = int(labels.max()) + 1
    picks = [(int(selected_frames[index % len(selected_frames)]), (index * 37) % blocks) for index in range(sample)]
    block_deltas = []
    started = time.perf_counter()
    for frame, block in picks:
        masked = video.clone()
        inside = labels == block
        masked[frame][:, inside] = values[frame][:, inside]
        block_deltas.append(change(base, masked))
    synchronise(device)
    block_seconds = time.perf_counter() - started
    return {"time_step_seconds": time_step, "time_step_passes": 1 + video.shape[0],
            "block_seconds": block_seconds, "block_passes": sample, "blocks_per_frame": blocks,
            "frame_deltas": frame_deltas, "block_picks": picks, "block_deltas": block_deltas}


def run_engine(engine, model, video, target, options, max_batch_bytes, device):
    from vidsal_core.saliency.factorised import FactorisedEngine
    from vidsal_core.saliency.tsr import temporal_saliency_rescaling

    timings: dict[str, float] = {}
    if engine == "factorised":
        timed_methods(FactorisedEngine, ["__init__", "_jacobians", "changes"], timings)
    memory_before = peak_rss_mib()
    started = time.perf_counter()
    result = temporal_saliency_rescaling(model, video, target=target, engine=engine, max_batch_bytes=max_batch_bytes,
                                         **options)
    synchronise(device)
    seconds = time.perf_counter() - started
    return result, {"seconds": seconds, "parts": timings, "calls": result.attribution_calls,
                    "peak_rss_mib": peak_rss_mib(), "rss_before_mib": memory_before}


def agreement(result, naive):
    """Largest |Δ_engine − Δ_naive| over the largest naive Δ: frame masks, and the sampled block masks."""
    frame = torch.tensor(naive["frame_deltas"], dtype=torch.float64)
    frame_error = float((result.time_relevance.double() - frame).abs().max() / frame.abs().max())
    ours = torch.tensor([float(result.feature_relevance[t].reshape(-1)[
        int(torch.nonzero(result.regions[t].reshape(-1) == block)[0])]) for t, block in naive["block_picks"]],
        dtype=torch.float64)
    theirs = torch.tensor(naive["block_deltas"], dtype=torch.float64)
    block_error = float((ours - theirs).abs().max() / theirs.abs().max())
    return {"frame_masks": frame_error, "block_masks": block_error, "worst": max(frame_error, block_error)}


def main() -> None:
    from vidsal_core.models.registry import build_model
    from vidsal_core.saliency.attribution import BaseAttribution
    from vidsal_core.saliency.masking import baseline_video
    from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=120, help="frame height and width (seed: 120)")
    parser.add_argument("--block-size", type=int, default=10)
    parser.add_argument("--sample", type=int, default=12, help="block-masking passes of the naive loop to time")
    parser.add_argument("--no-batched", action="store_true", help="skip the batched engine (as slow as the naive loop)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-batch-mib", type=float, default=512.0)
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    arguments = parser.parse_args()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)

    model = build_model("seed000", seed=0).eval().to(arguments.device)
    video = synthkth_clip(frames=arguments.frames, height=arguments.size, width=arguments.size).to(arguments.device)
    with torch.no_grad():
        target = int(model(video[None]).argmax(1))
    options = {**REFERENCE_CODE_OPTIONS, "block_size": arguments.block_size}
    max_batch_bytes = int(arguments.max_batch_mib * 2**20)

    print("running the factorised engine ...", file=sys.stderr, flush=True)
    factorised, factorised_numbers = run_engine("factorised", model, video, target, options, max_batch_bytes,
                                                arguments.device)
    selected = torch.nonzero(factorised.selected).flatten().tolist()
    print("running the naive loop's sample ...", file=sys.stderr, flush=True)
    values = baseline_video(video, options["mask_value"])
    naive = naive_sample(model, video, target, BaseAttribution(), values, selected, arguments.block_size,
                         arguments.sample, arguments.device)
    per_pass = naive["block_seconds"] / naive["block_passes"]
    block_passes = len(selected) * naive["blocks_per_frame"]
    naive_total = naive["time_step_seconds"] + per_pass * block_passes
    naive_passes = naive["time_step_passes"] + block_passes
    engines = {"factorised": (factorised, factorised_numbers)}
    if not arguments.no_batched:
        print("running the batched engine ...", file=sys.stderr, flush=True)
        engines["batched"] = run_engine("batched", model, video, target, options, max_batch_bytes, arguments.device)

    parts = factorised_numbers["parts"]
    jacobians, setup, changes = parts.get("_jacobians", 0.0), parts.get("__init__", 0.0), parts.get("changes", 0.0)
    rows = [["naive loop (extrapolated)", f"{naive_total:.1f}", "1.0×", str(naive_passes),
             f"measured: {naive['time_step_passes'] + naive['block_passes']} passes, {per_pass:.2f} s per block pass", "–"]]
    summary = {}
    for name, (result, numbers) in engines.items():
        agree = agreement(result, naive)
        summary[name] = {**numbers, "agreement": agree, "ratio_vs_naive": naive_total / numbers["seconds"],
                         "selected": int(result.selected.sum())}
        rows.append([name, f"{numbers['seconds']:.1f}", f"{naive_total / numbers['seconds']:.1f}×", str(numbers["calls"]),
                     "measured, whole", f"{agree['worst']:.1e}"])
    print(f"two-step TSR at seed 000's setting: seed000 network (ResNet-18 + 3-layer LSTM(256), UNTRAINED, seed 0), "
          f"{arguments.frames} frames of {arguments.size}×{arguments.size}, {arguments.block_size}×{arguments.block_size} "
          f"blocks ({naive['blocks_per_frame']} per frame), reference-code options, |gradient| base, {arguments.device}, "
          f"torch threads {torch.get_num_threads()}, batches of masks up to {arguments.max_batch_mib:g} MiB")
    print(f"target class {target}; frames above α: {len(selected)}; naive passes 1 + {arguments.frames} + "
          f"{len(selected)} × {naive['blocks_per_frame']} = {naive_passes}\n")
    print(markdown_table(["engine", "seconds", "speed-up vs naive", "passes (naive) / masks", "how",
                          "max |Δ − Δ_naive| / max Δ_naive"], rows))
    print(f"\nfactorised: {jacobians:.1f} s Jacobian precompute ({100 * jacobians / factorised_numbers['seconds']:.0f}%), "
          f"{setup - jacobians:.1f} s rest of the set-up, {changes:.1f} s masked attributions "
          f"({100 * changes / factorised_numbers['seconds']:.0f}%); the naive loop's time step (its first "
          f"{naive['time_step_passes']} passes) took {naive['time_step_seconds']:.1f} s")
    if arguments.json:
        record = {
            "what": "two-step TSR at seed 000's setting; seed000 network with UNTRAINED seeded weights (timing only)",
            "command": "python " + " ".join(sys.argv),
            "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
                       f"{arguments.device}, torch {torch.__version__}",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "frames": arguments.frames, "height": arguments.size, "width": arguments.size,
            "block_size": arguments.block_size, "blocks_per_frame": naive["blocks_per_frame"],
            "selected_frames": len(selected), "target": target,
            "naive": {"passes": naive_passes, "measured_passes": naive["time_step_passes"] + naive["block_passes"],
                      "seconds_per_block_pass": per_pass, "time_step_seconds": naive["time_step_seconds"],
                      "extrapolated_seconds": naive_total},
            "factorised": {key: value for key, value in summary["factorised"].items()},
            "batched": summary.get("batched"),
            "seed_reported_seconds": 3600.0,
        }
        Path(arguments.json).write_text(json.dumps(record, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
