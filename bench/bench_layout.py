"""C3D's batched attributions in the channels-last layout (vidsal_core.models.layout) against the default layout.

At one torch thread, on the default profile's trained ``c3d_6class`` (the
untrained architecture where it has not been trained: speed does not depend on
the weights) and one random 16×60×80 clip: a two-step TSR map
(reference-code options, 10×10 blocks, the batched engine) and Integrated
Gradients (16 path points, one batch), each timed in the default layout (the
reference) and in channels-last, with the largest difference between the two
maps relative to the map's largest value. Min-max scaling of the block scores
(the reference code's) magnifies rounding in a frame whose blocks score almost
alike, as in an untrained network.

Usage::

    .venv/bin/python bench/bench_layout.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import copy
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2, help="runs of each case; the fastest counts")
    arguments = parser.parse_args()

    import torch

    from vidsal_core import runtime
    from vidsal_core.models.c3d import C3D
    from vidsal_core.models.layout import explaining_layout
    from vidsal_core.saliency.registry import explain
    from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS, temporal_saliency_rescaling

    torch.set_num_threads(1)
    torch.manual_seed(0)
    plain, weights = C3D(6, 1, 16, (60, 80), 0.125, batch_norm=True, dropout=0.2).eval(), "untrained, seed 0"
    try:
        from vidsal_study.runs import load_trained

        plain, weights = load_trained("default", "c3d_6class").eval(), "trained default c3d_6class"
    except Exception as error:  # no checkpoint: the untrained architecture (speed does not depend on weights)
        print(f"(no trained default c3d_6class: {type(error).__name__}; timing the untrained architecture)")
    fast = explaining_layout(copy.deepcopy(plain))
    video = torch.rand(16, 1, 60, 80, generator=torch.Generator().manual_seed(1))
    cases = {
        "two-step TSR (blocks)": lambda model: temporal_saliency_rescaling(
            model, video, 0, block_size=10, engine="batched", **REFERENCE_CODE_OPTIONS),
        "Integrated Gradients (16 points)": lambda model: explain(
            model, video, "integrated_gradients", 0, n_steps=16, internal_batch_size=16).maps,
    }
    print(f"torch {torch.__version__}, 1 thread, allocator tuned: {runtime.allocator_tuned()}, C3D {weights}")
    print("| case | default layout s | channels-last s | ratio | max |Δ| / max |map| | note |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, case in cases.items():
        seconds, maps = {}, {}
        for label, model in (("plain", plain), ("fast", fast)):
            for _ in range(arguments.repeats):
                start = time.perf_counter()
                maps[label] = case(model)
                seconds[label] = min(seconds.get(label, float("inf")), time.perf_counter() - start)
        note = ""
        if not isinstance(maps["plain"], torch.Tensor):  # a TSR result: its selection and time relevance too
            first, second = maps["plain"], maps["fast"]
            relevance = float((second.time_relevance - first.time_relevance).abs().max() / first.time_relevance.abs().max())
            changed = int((first.selected != second.selected).sum())
            note = (f"Δ_t agree to {relevance:.1e}; {changed} of {len(first.selected)} frames change side of α "
                    "(a frame whose Δ_t lies at the quantile can flip, and its blocks are then scored or not)")
            maps = {"plain": first.saliency, "fast": second.saliency}
        difference = float((maps["fast"] - maps["plain"]).abs().max() / maps["plain"].abs().max())
        print(f"| {name} | {seconds['plain']:.2f} | {seconds['fast']:.2f} | {seconds['plain'] / seconds['fast']:.2f}x "
              f"| {difference:.1e} | {note} |", flush=True)


if __name__ == "__main__":
    main()
