"""A border-chapter sweep in this process against the same sweep on a Dask ``LocalCluster``: seconds and ratio.

The items are the first ``--items`` of the border chapter's C3D offset sweep
(real clips of the profile's SynthKTH corpus, explained by its trained C3D
with DTD, SA and DTD on the untrained control, through
:func:`vidsal_study.chapters.border.explain_clip`). Each run computes them
from nothing into its own temporary directory: serially in this process with
one torch thread (as :func:`~vidsal_study.chapters.border.run_study` does), then
on ``local:N`` (N worker processes of one thread each). Each first computes a
few other items of the sweep, so that imports and model loading are not
timed. The benchmark prints both timings, the start-up times separately, the
ratio, and whether the results are identical.

On a machine with N free cores the ratio approaches N for long sweeps; a
2-core machine shared with other work shows much less.

With ``--sweep tsr`` the items are the TSR chapter's whole sweep
(:func:`vidsal_study.chapters.tsr.study.run_study`: per (model, clip) the
gradient, one-step, two-step TSR with blocks and with superpixels, and
Farnebäck flow), run through the chapter's own function with the executor
made the default (as ``-p dask local:N`` does), its timings column left out of
the comparison.

Usage::

    .venv/bin/python bench/bench_dask_sweep.py                     # quick profile, 60 border items, local:2
    .venv/bin/python bench/bench_dask_sweep.py --sweep tsr --videos 4
    .venv/bin/python bench/bench_dask_sweep.py --workers 8 --items 400 --profile default
    .venv/bin/python bench/bench_dask_sweep.py --profile default --items 600 --chunk-sizes 1 14   # items per task
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def tsr_sweep(profile: str, videos_per_action: int, workers: int) -> None:
    """The TSR chapter's whole sweep (:func:`vidsal_study.chapters.tsr.study.run_study`), serial and on Dask."""
    import torch

    from vidsal_study import sweeps
    from vidsal_study.chapters.tsr import study as tsr_study
    from vidsal_study.sweeps import dask_executor, using_executor

    def study(directory: Path, videos: int):
        sweeps.SWEEP_DIR = directory  # a fresh sweep directory: every item is computed
        settings = tsr_study.StudySettings.from_profile(profile, {"videos_per_action": videos})
        start = time.perf_counter()
        results = tsr_study.run_study(profile, settings).results
        return results.drop(columns=["seconds"]), time.perf_counter() - start  # each item's own timing differs

    with tempfile.TemporaryDirectory(prefix="bench-dask-") as scratch:
        torch.set_num_threads(1)
        study(Path(scratch) / "serial-warm-up", 1)
        serial, serial_seconds = study(Path(scratch) / "serial", videos_per_action)
        start = time.perf_counter()
        with dask_executor(f"local:{workers}") as executor, using_executor(executor):
            startup_seconds = time.perf_counter() - start
            _, warm_up_seconds = study(Path(scratch) / "dask-warm-up", 1)
            on_dask, dask_seconds = study(Path(scratch) / "dask", videos_per_action)
    items = len(serial)
    report(f"profile {profile}: the TSR chapter's sweep, {items} (model, clip) items, every map and TSR each",
           items, serial_seconds, dask_seconds, startup_seconds, warm_up_seconds, workers,
           serial.equals(on_dask) and serial.to_json() == on_dask.to_json())


def report(title: str, items: int, serial_seconds: float, dask_seconds: float, startup_seconds: float,
           warm_up_seconds: float, workers: int, identical: bool) -> None:
    print(title)
    print(f"| run | seconds | items/s |\n|---|---:|---:|\n"
          f"| serial, this process, 1 torch thread | {serial_seconds:.1f} | {items / serial_seconds:.2f} |\n"
          f"| Dask local:{workers}, {workers} processes of 1 thread | {dask_seconds:.1f} | "
          f"{items / dask_seconds:.2f} |")
    print(f"not counted above: cluster start-up {startup_seconds:.1f} s; workers' imports and model loading "
          f"(warm-up items) {warm_up_seconds:.1f} s")
    print(f"speed-up of local:{workers} over serial: {serial_seconds / dask_seconds:.2f}x "
          f"({serial_seconds / (dask_seconds + startup_seconds + warm_up_seconds):.2f}x with start-up)")
    print(f"results identical: {identical}")


def main() -> None:
    import torch

    from vidsal_study.chapters import border
    from vidsal_study.sweeps import dask_executor, run_sweep
    from vidsal_core.data.corpus import build_corpus

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--items", type=int, default=60, help="items of the C3D offset sweep to compute")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (local:N)")
    parser.add_argument("--sweep", choices=("border", "tsr"), default="border",
                        help="border: part of the C3D offset sweep (small items); tsr: the TSR chapter's sweep")
    parser.add_argument("--videos", type=int, default=4, help="tsr: test videos per action")
    parser.add_argument("--chunk-sizes", type=int, nargs="+", default=[None],
                        help="border: items per Dask task, one Dask run per value (default: run_sweep's own choice)")
    arguments = parser.parse_args()
    if arguments.sweep == "tsr":
        return tsr_sweep(arguments.profile, arguments.videos, arguments.workers)

    settings = border.BorderSettings.from_profile(arguments.profile)
    c3d = border.c3d_descriptor(arguments.profile, settings.c3d_run, progress=False)
    corpus = build_corpus(border.evaluation_corpus_config(arguments.profile, settings), progress=False)
    videos = border.synthkth_videos(corpus, c3d["classes"], 0)
    every = border.sweep_items(videos, c3d, c3d["clip_length"], [c3d["step"]], settings.offsets,
                               settings.explanations)
    # the items timed, and a few others that each run computes first, so that imports and model loading
    # (once per process) are not counted: the ratio is the steady state a long sweep sees
    items, warm_up = every[:arguments.items], every[arguments.items:arguments.items + 3 * arguments.workers]

    with tempfile.TemporaryDirectory(prefix="bench-dask-") as scratch:
        torch.set_num_threads(1)
        run_sweep(border.explain_clip, warm_up, Path(scratch) / "serial-warm-up", progress=False)
        start = time.perf_counter()
        serial = run_sweep(border.explain_clip, items, Path(scratch) / "serial", progress=False)
        serial_seconds = time.perf_counter() - start

        start = time.perf_counter()
        with dask_executor(f"local:{arguments.workers}") as executor:
            startup_seconds = time.perf_counter() - start
            start = time.perf_counter()
            run_sweep(border.explain_clip, warm_up, Path(scratch) / "dask-warm-up", progress=False, executor=executor)
            warm_up_seconds = time.perf_counter() - start
            timings = {}
            for size in arguments.chunk_sizes:
                start = time.perf_counter()
                on_dask = run_sweep(border.explain_clip, items, Path(scratch) / f"dask-{size}", progress=False,
                                    executor=executor, chunk_size=size)
                timings[size] = (time.perf_counter() - start, on_dask == serial)

    for size, (dask_seconds, identical) in timings.items():
        report(f"profile {arguments.profile}: {len(items)} items of the C3D offset sweep "
               f"({c3d['clip_length']} frames, DTD/SA/DTD-untrained), chunk_size {size or 'default'}", len(items),
               serial_seconds, dask_seconds, startup_seconds, warm_up_seconds, arguments.workers, identical)

if __name__ == "__main__":
    main()
