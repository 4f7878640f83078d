"""Superpixel TSR against exact block TSR: time, and how far the maps are apart.

Seed 000 (§6.5) suggests superpixels instead of pixels (or blocks) to make
two-step TSR cheaper. The time step of TSR does not depend on the features,
so both variants select the same frames; only the feature step differs. This
benchmark runs, on one model and video, block TSR (seed 000's 10×10 blocks)
and SLIC-superpixel TSR at several superpixel counts, all with the same
engine, and prints per variant:

- seconds and the ratio to block TSR's time, measured in this run;
- the features per frame and the attribution calls;
- the error against block TSR: the total-variation distance between the two
  maps normalised to unit sum (0 = same distribution of saliency, 1 =
  disjoint), over the whole video and within each selected frame (mean), and
  Spearman's rank correlation of the two maps over the pixels of each
  selected frame (mean), which compares where in the frame each puts saliency.

Usage::

    .venv/bin/python bench/bench_superpixel_tsr.py
    .venv/bin/python bench/bench_superpixel_tsr.py --segments 50 100 200 --frames 30
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import benchmark_model, markdown_table, synthkth_clip  # noqa: E402


def total_variation(first: torch.Tensor, second: torch.Tensor) -> float:
    """Half the L1 distance between two non-negative maps scaled to unit sum."""
    first, second = first.double().flatten(), second.double().flatten()
    return float(0.5 * (first / first.sum() - second / second.sum()).abs().sum())


def spearman(first: torch.Tensor, second: torch.Tensor) -> float:
    """Spearman's rank correlation over all values."""
    from scipy.stats import spearmanr

    return float(spearmanr(first.flatten().numpy(), second.flatten().numpy()).statistic)


def per_frame(metric, first: torch.Tensor, second: torch.Tensor, frames: list[int]) -> float:
    """Mean of ``metric`` over the given frames of two ``(T, C, H, W)`` maps."""
    return float(np.mean([metric(first[frame], second[frame]) for frame in frames]))


def main() -> None:
    from vidsal_core.saliency.tsr import temporal_saliency_rescaling

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--run", default="frame_lstm_binary")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--height", type=int, default=120)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--block-size", type=int, default=10)
    parser.add_argument("--segments", type=int, nargs="+", default=[48, 96, 192],
                        help="SLIC superpixels per frame (192 = as many as 10×10 blocks at 120×160)")
    parser.add_argument("--engine", default="auto", choices=["auto", "factorised", "batched"])
    arguments = parser.parse_args()

    model, source = benchmark_model(arguments.profile, arguments.run)
    video = synthkth_clip(frames=arguments.frames, height=arguments.height, width=arguments.width)
    started = time.perf_counter()
    blocks = temporal_saliency_rescaling(model, video, block_size=arguments.block_size, engine=arguments.engine)
    block_seconds = time.perf_counter() - started
    block_features = int(blocks.regions[0].max()) + 1
    rows = [[f"blocks {arguments.block_size}×{arguments.block_size}", str(block_features), f"{block_seconds:.1f}", "1.00",
             str(blocks.attribution_calls), "0", "0", "1"]]
    for segments in arguments.segments:
        started = time.perf_counter()
        result = temporal_saliency_rescaling(model, video, features="superpixels", n_segments=segments,
                                             engine=arguments.engine)
        seconds = time.perf_counter() - started
        chosen = torch.nonzero(result.selected).flatten()
        features = np.mean([int(result.regions[frame].max()) + 1 for frame in chosen.tolist()]) if chosen.numel() else 0
        assert torch.equal(result.selected, blocks.selected)
        frames = chosen.tolist()
        rows.append([f"SLIC n_segments={segments}", f"{features:.0f}", f"{seconds:.1f}", f"{seconds / block_seconds:.2f}",
                     str(result.attribution_calls), f"{total_variation(result.saliency, blocks.saliency):.3f}",
                     f"{per_frame(total_variation, result.saliency, blocks.saliency, frames):.3f}",
                     f"{per_frame(spearman, result.saliency, blocks.saliency, frames):.3f}"])
    print(f"two-step TSR, |gradient| base, {arguments.frames} frames of {arguments.height}×{arguments.width}, "
          f"engine {blocks.engine}, {int(blocks.selected.sum())} frames above α")
    print(f"model: {source}\n")
    print(markdown_table(["features", "features per frame", "seconds", "time / block time", "attribution calls",
                          "TV distance, video", "TV distance, per frame", "Spearman per frame"], rows))


if __name__ == "__main__":
    main()
