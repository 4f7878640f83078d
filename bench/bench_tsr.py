"""Two-step TSR: the naive reference loop against the batched and factorised engines.

Seed 000 reports about one hour per video for two-step TSR with 10×10 blocks
on an RTX 3080. This benchmark runs the same computation, on the same model,
video and options, three ways, and prints each one's time, its speed-up over
the reference loop measured in this run, its largest difference from the
reference's TSR map, and its peak memory:

``reference``   :func:`vidsal_core.saliency.tsr_reference.temporal_saliency_rescaling_reference`,
                one Captum call per mask (1 + T + |{t > α}| · F full passes);
``factorised``  the per-frame-Jacobian engine (frame-CNN + LSTM models only);
``batched``     masked videos in batches (any model).

Each runs in its own process, so each peak resident memory is its own.
The model is the profile's FrameLSTM (walking vs running); the video a
SynthKTH walking clip of a test person.

Usage::

    .venv/bin/python bench/bench_tsr.py                         # T=30, 120×160, 10×10 blocks, CPU
    .venv/bin/python bench/bench_tsr.py --frames 12 --height 60 --width 80   # a quick look
    .venv/bin/python bench/bench_tsr.py --device cuda           # on a GPU
    .venv/bin/python bench/bench_tsr.py --device cuda --max-batch-mib 16384   # bigger batches of masks
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import benchmark_model, markdown_table, peak_rss_mib, synthkth_clip  # noqa: E402

ENGINES = ("reference", "factorised", "batched")


def worker(arguments: argparse.Namespace) -> None:
    """Child process: run one engine on the saved model and video, save its map and its numbers."""
    from vidsal_core.models.registry import build_model
    from vidsal_core.saliency.tsr import temporal_saliency_rescaling
    from vidsal_core.saliency.tsr_reference import temporal_saliency_rescaling_reference

    folder = Path(arguments.folder)
    saved = torch.load(folder / "inputs.pt", weights_only=False)
    model = build_model(saved["name"], saved["config"])
    model.load_state_dict(saved["state"])
    model = model.eval().to(arguments.device)
    video = saved["video"].to(arguments.device)
    options = {"block_size": arguments.block_size, "target": saved["target"]}
    memory_before = peak_rss_mib()
    if arguments.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    if arguments.worker == "reference":
        result = temporal_saliency_rescaling_reference(model, video, **options)
    else:
        result = temporal_saliency_rescaling(model, video, engine=arguments.worker,
                                             max_batch_bytes=int(arguments.max_batch_mib * 2**20), **options)
    if arguments.device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    gpu = torch.cuda.max_memory_allocated() / 2**20 if arguments.device.startswith("cuda") else float("nan")
    torch.save({"saliency": result.saliency.cpu(), "selected": result.selected.cpu()}, folder / f"{arguments.worker}.pt")
    (folder / f"{arguments.worker}.json").write_text(json.dumps({
        "seconds": seconds, "calls": result.attribution_calls, "engine": result.engine,
        "peak_rss_mib": peak_rss_mib(), "rss_before_mib": memory_before, "gpu_peak_mib": gpu,
        "selected": int(result.selected.sum()),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default", help="profile whose FrameLSTM is used (default: default)")
    parser.add_argument("--run", default="frame_lstm_binary", help="run of the profile (default: frame_lstm_binary)")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--height", type=int, default=120)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--block-size", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--threads", type=int, default=None, help="torch threads in each engine's process")
    parser.add_argument("--max-batch-mib", type=float, default=512.0,
                        help="memory bound of one batch of masked videos, MiB (default 512: a laptop; raise it on a GPU)")
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    if arguments.worker:
        worker(arguments)
        return

    model, source = benchmark_model(arguments.profile, arguments.run)
    video = synthkth_clip(frames=arguments.frames, height=arguments.height, width=arguments.width)
    with torch.no_grad():
        target = int(model(video[None]).argmax(1))
    with tempfile.TemporaryDirectory(prefix="bench_tsr_") as folder:
        torch.save({"name": model.model_name, "config": dict(model.config), "state": model.state_dict(),
                    "video": video, "target": target}, Path(folder) / "inputs.pt")
        for engine in arguments.engines:
            command = [sys.executable, __file__, "--worker", engine, "--folder", folder, "--device", arguments.device,
                       "--block-size", str(arguments.block_size), "--max-batch-mib", str(arguments.max_batch_mib)]
            if arguments.threads:
                command += ["--threads", str(arguments.threads)]
            print(f"running {engine} ...", file=sys.stderr, flush=True)
            subprocess.run(command, check=True)
        numbers = {engine: json.loads((Path(folder) / f"{engine}.json").read_text()) for engine in arguments.engines}
        maps = {engine: torch.load(Path(folder) / f"{engine}.pt") for engine in arguments.engines}

    reference = numbers.get("reference")
    rows = []
    for engine in arguments.engines:
        entry = numbers[engine]
        ratio = f"{reference['seconds'] / entry['seconds']:.1f}×" if reference else "–"
        if "reference" in maps and engine != "reference":
            theirs = maps["reference"]["saliency"].double()
            error = float((maps[engine]["saliency"].double() - theirs).abs().max() / theirs.abs().max())
            same = bool(torch.equal(maps[engine]["selected"], maps["reference"]["selected"]))
            agreement = f"{error:.1e}" + ("" if same else " (other frames selected)")
        else:
            agreement = "–"
        gpu = "" if entry["gpu_peak_mib"] != entry["gpu_peak_mib"] else f", GPU {entry['gpu_peak_mib']:.0f}"
        rows.append([engine, f"{entry['seconds']:.1f}", ratio, str(entry["calls"]), agreement,
                     f"{entry['peak_rss_mib']:.0f} (+{entry['peak_rss_mib'] - entry['rss_before_mib']:.0f}){gpu}"])
    print(f"two-step TSR, |gradient| base, {arguments.frames} frames of {arguments.height}×{arguments.width}, "
          f"batches of masks up to {arguments.max_batch_mib:g} MiB, "
          f"{arguments.block_size}×{arguments.block_size} blocks, {arguments.device}, torch threads "
          f"{arguments.threads or torch.get_num_threads()}")
    print(f"model: {source}; target class {target}; frames above α: {numbers[arguments.engines[0]]['selected']}\n")
    print(markdown_table(["engine", "seconds", "speed-up vs reference", "attribution calls",
                          "max |Δ| / max |reference|", "peak RSS MiB (+ during TSR)"], rows))


if __name__ == "__main__":
    main()
