"""Throughput of every model: the unit cost of every saliency method that follows.

For FrameLSTM, ICA-LSTM and C3D at the default profile's size and at the
papers' size (the ``full`` profile), measures on random clips:

- training clips/s (train mode, AdamW step, the profile's batch size);
- forward clips/s (eval mode, no gradient) at batch 1 and 32;
- forward + backward clips/s (eval mode, gradient with respect to the input,
  as a saliency method computes it) at batch 1 and 32.

It prints a Markdown table and, per model, the ratio of the paper size's
forward+backward cost to the default size's, measured in the same run.

Usage::

    .venv/bin/python bench/bench_models.py                      # CPU, both sizes
    .venv/bin/python bench/bench_models.py --sizes default      # CPU, default size only
    .venv/bin/python bench/bench_models.py --device cuda
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import torch

from vidsal_core.models.cudnn import recurrent_backward
from vidsal_core.models.registry import build_model
from vidsal_study.runs import run_settings

#: (model label, run of the profile whose model is measured).
MODELS = (("frame_lstm", "frame_lstm_6class"), ("ica_lstm", "ica_lstm_6class"), ("c3d", "c3d_6class"))
#: Profile of each size.
SIZES = {"default": "default", "paper": "full"}


def clips_per_second(
    step: Callable[[], None], clips: int, min_seconds: float, max_repeats: int, device: str, warmup: int,
) -> float:
    """Clips per second of ``step`` (which handles ``clips`` clips), after ``warmup`` untimed calls."""
    for _ in range(warmup):
        step()
    synchronise(device)
    repeats, start = 0, time.perf_counter()
    while repeats < max_repeats and (repeats == 0 or time.perf_counter() - start < min_seconds):
        step()
        synchronise(device)
        repeats += 1
    return clips * repeats / (time.perf_counter() - start)


def synchronise(device: str) -> None:
    """Wait for queued CUDA work, so timings include it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def random_clips(settings: dict, batch: int, device: str) -> torch.Tensor:
    """Random ``(batch, T, 1, H, W)`` clips at the run's frame size."""
    data = settings["data"]
    return torch.rand(batch, data["clip_length"], 1, *data["size"], device=device)


def forward_step(model: torch.nn.Module, videos: torch.Tensor) -> Callable[[], None]:
    """Eval-mode forward pass without gradients."""
    def step() -> None:
        with torch.no_grad():
            model(videos)
    return step


def gradient_step(model: torch.nn.Module, videos: torch.Tensor) -> Callable[[], None]:
    """Eval-mode forward and backward to the input, as plain saliency computes it."""
    def step() -> None:
        inputs = videos.clone().requires_grad_(True)
        with recurrent_backward(model):
            logits = model(inputs)
            torch.autograd.grad(logits.max(dim=1).values.sum(), inputs)
    return step


def training_step(model: torch.nn.Module, videos: torch.Tensor, classes: int) -> Callable[[], None]:
    """One AdamW step on a batch, train mode."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    labels = torch.arange(videos.shape[0], device=videos.device) % classes

    def step() -> None:
        model.train()
        loss = torch.nn.functional.cross_entropy(model(videos), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        model.eval()
    return step


def measure(label: str, size: str, arguments: argparse.Namespace) -> dict:
    """All measurements of one model at one size."""
    settings = run_settings(SIZES[size], dict(MODELS)[label])
    model = build_model(settings["model"], settings["model_config"], seed=0).to(arguments.device)
    timing = dict(min_seconds=arguments.min_seconds, max_repeats=arguments.max_repeats, device=arguments.device,
                  warmup=arguments.warmup)
    batch = settings["training"].batch_size
    row = {
        "model": label, "size": size,
        "input": f"{settings['data']['clip_length']}x{settings['data']['size'][0]}x{settings['data']['size'][1]}",
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
        "train": clips_per_second(training_step(model, random_clips(settings, batch, arguments.device),
                                                len(settings["classes"])), batch, **timing),
    }
    for batch in arguments.batches:
        videos = random_clips(settings, batch, arguments.device)
        row[f"forward {batch}"] = clips_per_second(forward_step(model, videos), batch, **timing)
        row[f"gradient {batch}"] = clips_per_second(gradient_step(model, videos), batch, **timing)
    return row


def format_rows(rows: list[dict], batches: list[int]) -> str:
    """The measurements as a Markdown table."""
    headers = ["model", "size", "input (TxHxW)", "parameters", "train clips/s"]
    headers += [f"fwd b{batch} clips/s" for batch in batches] + [f"fwd+bwd b{batch} clips/s" for batch in batches]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [row["model"], row["size"], row["input"], f"{row['parameters']:,}", f"{row['train']:.2f}"]
        cells += [f"{row[f'forward {batch}']:.2f}" for batch in batches]
        cells += [f"{row[f'gradient {batch}']:.2f}" for batch in batches]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["default", "paper"])
    parser.add_argument("--models", nargs="+", choices=[label for label, _ in MODELS], default=[label for label, _ in MODELS])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 32])
    parser.add_argument("--min-seconds", type=float, default=2.0, help="time each measurement at least this long")
    parser.add_argument("--max-repeats", type=int, default=20, help="but repeat it at most this often")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls before timing")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    arguments = parser.parse_args()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    rows = [measure(label, size, arguments) for size in arguments.sizes for label in arguments.models]
    print(f"device {arguments.device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads\n")
    print(format_rows(rows, arguments.batches))
    by_key = {(row["model"], row["size"]): row for row in rows}
    largest = max(arguments.batches)
    for label in arguments.models:
        if (label, "default") in by_key and (label, "paper") in by_key:
            ratio = by_key[(label, "default")][f"gradient {largest}"] / by_key[(label, "paper")][f"gradient {largest}"]
            print(f"{label}: one paper-size input gradient costs {ratio:.1f} default-size ones (batch {largest})")


if __name__ == "__main__":
    main()
