"""The one call every process of the study makes at its start (:func:`study_process`).

The library changes nothing in a process on import; the study's processes tune
glibc's allocator (:func:`vidsal_core.runtime.tune_allocator`: large freed blocks
stay in the heap, the same numbers, faster on a CPU). They are the book's runner
and command lines (their ``main``), each chapter's kernel (through
:func:`vidsal_study.book.check_parameters`, the first call of every chapter), the
sweeps' Dask workers (:func:`vidsal_study.sweeps.run_sweep`'s tasks) and the
training workers (:func:`vidsal_study.runs.train_runs`). ``VIDSAL_MALLOC_TUNING=0``
turns it off.
"""

from __future__ import annotations

from vidsal_core.runtime import tune_allocator


def study_process() -> bool:
    """Set up this process as one of the study's (idempotent); True when the allocator is tuned."""
    return tune_allocator()
