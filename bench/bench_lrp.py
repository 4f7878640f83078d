"""LRP (deep Taylor) clips per second against the plain gradient's, on C3D and I3D, in one run.

For each model, the steps take turns within each round (so load from other
processes on a shared machine falls on all of them alike) and each timing is
the median of ``--repeats`` rounds after a warm-up round:

- gradient: ``relevance(..., method="gradient")``, one forward and one backward;
- sensitivity: the squared gradient (seed 002 eq. 2), the same cost;
- deep Taylor: :func:`vidsal_core.saliency.lrp_fast.deep_taylor`, one modified
  forward and one backward pass (what the border chapter's sweeps use), with
  the seed's proportional max-pool rule;
- deep Taylor, winner-take-all: the same with ``max_pool="winner_take_all"``
  (max pooling passes its gradient): what the proportional rule costs;
- deep Taylor, Zennit: ``relevance(..., method="deep_taylor")``, Zennit's hooks
  with vidsal's one-pass z+ rule (:class:`~vidsal_core.saliency.lrp.NonNegativeInputZPlus`);
- deep Taylor, Zennit's ZPlus: the same through Zennit's own two-pass ``ZPlus``.

The three proportional deep Taylor steps give the same relevance (tests check it).

Models: the profile's C3D (``models.runs.c3d_6class``; untrained seeded weights
when no checkpoint exists: the cost depends on the architecture only) on a batch
of SynthKTH-sized clips, and the Kinetics-400 I3D (random weights when not
fetched) on 16-frame clips. The target is LRP ≤ 1.5 × the gradient's time.

Usage::

    .venv/bin/python bench/bench_lrp.py                         # default profile's C3D, I3D at 112 px
    .venv/bin/python bench/bench_lrp.py --i3d-size 224 --repeats 5
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable
from unittest import mock

import torch
from zennit.rules import ZPlus

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _saliency_setup import benchmark_model  # noqa: E402
from bench_i3d import model_for_benchmark  # noqa: E402

from vidsal_core.saliency import lrp  # noqa: E402
from vidsal_core.saliency.lrp import relevance  # noqa: E402
from vidsal_core.saliency.lrp_fast import deep_taylor  # noqa: E402

#: The steps, in the order they take turns: (label, method, Zennit's ZPlus instead of the one-pass rule).
STEPS: tuple[tuple[str, str, bool], ...] = (
    ("gradient", "gradient", False),
    ("sensitivity", "sensitivity", False),
    ("deep Taylor", "fast", False),
    ("deep Taylor, winner-take-all", "fast_winner_take_all", False),
    ("deep Taylor, Zennit", "deep_taylor", False),
    ("deep Taylor, Zennit's ZPlus", "deep_taylor", True),
)


def relevance_step(model: torch.nn.Module, clips: torch.Tensor, target: torch.Tensor, method: str,
                   zennit_zplus: bool) -> Callable[[], object]:
    """One call of :func:`relevance` (or of the one-pass engine for ``method="fast"``)."""
    def step() -> torch.Tensor:
        if method == "fast":
            return deep_taylor(model, clips, target)
        if method == "fast_winner_take_all":
            return deep_taylor(model, clips, target, max_pool="winner_take_all")
        if zennit_zplus:
            with mock.patch.object(lrp, "NonNegativeInputZPlus", ZPlus):
                return relevance(model, clips, target, method)
        return relevance(model, clips, target, method)
    return step


def timed_rounds(steps: dict[str, Callable[[], object]], repeats: int, device: str = "cpu") -> dict[str, tuple[float, float]]:
    """Median wall-clock and process-CPU seconds of each step over ``repeats`` rounds, after a warm-up round.

    The steps take turns within each round, so that load from other processes
    falls on all of them alike. CPU time counts only this process's work, so
    its ratios move less than wall-clock ones on a shared machine.
    """
    for step in steps.values():
        step()
    rounds = []
    for _ in range(repeats):
        times = {}
        for name, step in steps.items():
            wall, cpu = time.perf_counter(), time.process_time()
            step()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            times[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        rounds.append(times)
    return {name: (statistics.median(r[name][0] for r in rounds), statistics.median(r[name][1] for r in rounds))
            for name in steps}


def measure(name: str, model: torch.nn.Module, clips: torch.Tensor, repeats: int,
            device: str = "cpu") -> dict[str, tuple[float, float]]:
    """Seconds per call of each step on ``clips``; prints a table with clips/s."""
    with torch.no_grad():
        target = model(clips).argmax(dim=1)
    steps = {label: relevance_step(model, clips, target, method, zennit)
             for label, method, zennit in STEPS}
    seconds = timed_rounds(steps, repeats, device)
    batch = clips.shape[0]
    gradient_wall, gradient_cpu = seconds["gradient"]
    print(f"\n{name}: batch {tuple(clips.shape)}, median of {repeats}")
    print("| step | wall s per batch | clips/s | × gradient (wall) | × gradient (CPU) |\n| --- | ---: | ---: | ---: | ---: |")
    for label, (wall, cpu) in seconds.items():
        print(f"| {label} | {wall:.3f} | {batch / wall:.2f} | {wall / gradient_wall:.2f} | {cpu / gradient_cpu:.2f} |")
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Measure C3D and I3D; print tables and the LRP/gradient ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default", help="profile whose C3D run is measured")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--c3d-batch", type=int, default=8)
    parser.add_argument("--i3d-batch", type=int, default=1)
    parser.add_argument("--i3d-size", type=int, default=112, help="I3D frame side (224 is Kinetics')")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: as the border sweeps run; 0: torch's default)")
    arguments = parser.parse_args(argv)
    if arguments.threads > 0:
        torch.set_num_threads(arguments.threads)
    torch.manual_seed(0)
    c3d, c3d_weights = benchmark_model(arguments.profile, "c3d_6class")
    c3d = c3d.to(arguments.device).eval()
    config = c3d.config
    c3d_clips = torch.rand(arguments.c3d_batch, config["clip_length"], config["in_channels"],
                           *config["input_size"], device=arguments.device)
    i3d, i3d_weights = model_for_benchmark(arguments.device)
    i3d_clips = torch.rand(arguments.i3d_batch, 16, 3, arguments.i3d_size, arguments.i3d_size, device=arguments.device)
    print(f"device {arguments.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}")
    print(f"C3D: {c3d_weights}; I3D: {i3d_weights}")
    results = {
        "C3D": measure(f"C3D ({arguments.profile} profile, width {config['width_multiplier']})", c3d, c3d_clips,
                       arguments.repeats, arguments.device),
        "I3D": measure(f"I3D ({arguments.i3d_size} px)", i3d, i3d_clips, arguments.repeats, arguments.device),
    }
    print("\n| model | deep Taylor / gradient | winner-take-all / gradient | Zennit (one-pass z+) / gradient "
          "| Zennit ZPlus / gradient | target LRP ≤ 1.5 × gradient |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, seconds in results.items():
        ratios = {label: (seconds[label][0] / seconds["gradient"][0], seconds[label][1] / seconds["gradient"][1])
                  for label in seconds}
        cells = [f"{ratios[label][0]:.2f} (CPU {ratios[label][1]:.2f})"
                 for label in ("deep Taylor", "deep Taylor, winner-take-all", "deep Taylor, Zennit",
                               "deep Taylor, Zennit's ZPlus")]
        met = "met" if ratios["deep Taylor"][0] <= 1.5 else "missed"
        print(f"| {name} | " + " | ".join(cells) + f" | {met} (wall) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
