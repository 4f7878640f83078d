"""Seconds per clip of the Kinetics-400 I3D: forward, gradient, and LRP (deep Taylor, EpsilonPlusFlat).

One 16-frame 224×224 clip (batch 1) in eval mode, measured in one run:

- forward: logits without autograd;
- gradient: forward + backward of the target logit with respect to the input
  (``relevance(..., method="gradient")``);
- deep Taylor and EpsilonPlusFlat: the same through Zennit's rules, BatchNorm
  merging and hook registration included (``relevance(...)``).

Each timing is the median of ``--repeats`` rounds after a warm-up round, the
steps taking turns within a round (fair ratios on a shared machine). It
prints a Markdown table and the LRP/gradient ratios. The real weights are used
when present (``python -m vidsal_core.models.i3d_weights``); timings do not
depend on the weights' values, so a randomly initialised network stands in
otherwise, and the table says which.

Usage::

    .venv/bin/python bench/bench_i3d.py                   # CPU, 3 repeats
    .venv/bin/python bench/bench_i3d.py --device cuda --repeats 10
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Callable

import torch

from vidsal_core.errors import CheckpointNotFoundError
from vidsal_core.models.i3d import InceptionI3d, load_i3d
from vidsal_core.saliency.lrp import relevance


def seconds_of(step: Callable[[], object], device: str) -> float:
    """Wall-clock seconds of one call of ``step``."""
    start = time.perf_counter()
    step()
    synchronise(device)
    return time.perf_counter() - start


def median_seconds(steps: dict[str, Callable[[], object]], repeats: int, device: str) -> dict[str, float]:
    """Median seconds of each step over ``repeats`` rounds, after one warm-up round.

    The steps take turns within each round, so that load from other processes
    on a shared machine falls on all of them alike and the ratios stay fair.
    """
    for step in steps.values():
        step()
    rounds = [{name: seconds_of(step, device) for name, step in steps.items()} for _ in range(repeats)]
    return {name: statistics.median(times[name] for times in rounds) for name in steps}


def synchronise(device: str) -> None:
    """Wait for queued CUDA work, so timings include it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def model_for_benchmark(device: str) -> tuple[InceptionI3d, str]:
    """The Kinetics weights if fetched, else a random initialisation; and which it is."""
    try:
        return load_i3d().to(device), "Kinetics-400 weights"
    except CheckpointNotFoundError:
        torch.manual_seed(0)
        return InceptionI3d().eval().to(device), "random weights (Kinetics weights not fetched)"


def forward_step(model: InceptionI3d, clip: torch.Tensor) -> Callable[[], object]:
    """Logits without autograd."""
    def step() -> torch.Tensor:
        with torch.no_grad():
            return model(clip)
    return step


def relevance_step(model: InceptionI3d, clip: torch.Tensor, method: str, target: int) -> Callable[[], object]:
    """One call of :func:`relevance` with ``method``."""
    return lambda: relevance(model, clip, target, method=method)


def main(argv: list[str] | None = None) -> int:
    """Print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=16)
    arguments = parser.parse_args(argv)
    model, weights = model_for_benchmark(arguments.device)
    torch.manual_seed(1)
    clip = torch.rand(1, arguments.frames, 3, 224, 224, device=arguments.device)
    with torch.no_grad():
        target = int(model(clip).argmax())
    steps = {
        "forward": forward_step(model, clip),
        "gradient": relevance_step(model, clip, "gradient", target),
        "deep Taylor (LRP)": relevance_step(model, clip, "deep_taylor", target),
        "EpsilonPlusFlat (LRP)": relevance_step(model, clip, "epsilon_plus_flat", target),
    }
    seconds = median_seconds(steps, arguments.repeats, arguments.device)
    print(f"I3D, 1 clip of {arguments.frames}×224×224, {weights}, device {arguments.device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}, median of {arguments.repeats}")
    print("\n| step | seconds per clip |\n| --- | ---: |")
    for name, value in seconds.items():
        print(f"| {name} | {value:.2f} |")
    gradient = seconds["gradient"]
    print(f"\ngradient / forward = {gradient / seconds['forward']:.2f}")
    print(f"deep Taylor / gradient = {seconds['deep Taylor (LRP)'] / gradient:.2f}")
    print(f"EpsilonPlusFlat / gradient = {seconds['EpsilonPlusFlat (LRP)'] / gradient:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
