"""``python -m vidsal_study.chapters.border``: run or resume the border sweeps of a profile and print the tables."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Sequence

import torch

from vidsal_study.chapters import border
from vidsal_study.chapters.border.study import run_study
from vidsal_study.chapters.border.tables import report
from vidsal_core.errors import VidsalError
from vidsal_study.processes import study_process


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vidsal_study.chapters.border --profile quick``: run or resume the sweeps, print the tables."""
    study_process()
    parser = argparse.ArgumentParser(prog="python -m vidsal_study.chapters.border", description=border.__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default", help="quick, default, full or a .yaml path")
    parser.add_argument("--no-i3d", dest="with_i3d", action="store_false", help="skip the I3D sweeps")
    parser.add_argument("--workers", type=int, default=1, help="processes computing items (1: this process)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide progress bars")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    start = time.perf_counter()
    try:
        if arguments.workers > 1:
            import concurrent.futures
            import multiprocessing

            with concurrent.futures.ProcessPoolExecutor(arguments.workers, mp_context=multiprocessing.get_context("spawn"),
                                                        initializer=torch.set_num_threads, initargs=(1,)) as executor:
                study = run_study(arguments.profile, arguments.progress, arguments.with_i3d, executor)
        else:
            study = run_study(arguments.profile, arguments.progress, arguments.with_i3d)
    except VidsalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(report(study))
    print(f"\nprofile {arguments.profile}: {time.perf_counter() - start:.0f} s")
    return 0



if __name__ == "__main__":
    sys.exit(main())
