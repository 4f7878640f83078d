"""Process settings that make the study faster on a CPU without changing a number.

glibc's ``malloc`` serves every block larger than its *mmap threshold* (128 KiB,
rising with use to at most 32 MiB) with a fresh ``mmap`` and gives it back to
the kernel when it is freed. A batch of video activations is far larger than
that: C3D's first layer alone holds 18 masked clips × 8 channels × 16 × 60 × 80
floats (44 MB) in a TSR batch. So every forward and backward pass maps new
pages, and the kernel zeroes each of them on its first touch. Measured on this
project's 2-core machine at one torch thread (``bench/bench_allocator.py``):
C3D's batched gradient runs 1.4× faster with the pages kept, a C3D TSR map
1.5×, an epoch of training 1.2×, I3D 1.05–1.1×.

:func:`tune_allocator` raises the mmap threshold and the trim threshold (how
much free memory at the top of the heap ``malloc`` keeps instead of returning
it) to :data:`ALLOCATOR_BYTES`, so large blocks are reused from the heap. It
changes where memory comes from, never what is computed: every result is
bit-identical with and without it (``tests/test_runtime.py`` checks a C3D TSR
map and a short training run in two processes). The cost is memory a process
keeps after a peak, at most about :data:`ALLOCATOR_BYTES` more.

Importing the library does not call it: a program calls it once, at its start.
The study built on this library calls it in each of its processes (its runner,
command lines, notebook kernels, Dask workers and training workers). It does nothing where the C library is not glibc, and
``VIDSAL_MALLOC_TUNING=0`` turns it off (the slow twin, for comparisons).
"""

from __future__ import annotations

import ctypes
import os
import platform

#: mmap and trim threshold set by :func:`tune_allocator` (bytes).
ALLOCATOR_BYTES = 1 << 30
#: glibc's ``mallopt`` parameters (``malloc.h``).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Environment variable that turns the tuning off when set to ``0``.
SWITCH = "VIDSAL_MALLOC_TUNING"

_STATE: dict[str, bool] = {}


def allocator_tuning_wanted(environ: dict[str, str] | None = None) -> bool:
    """Whether :func:`tune_allocator` should act: not when ``VIDSAL_MALLOC_TUNING`` is ``0``/``false``/``no``/``off``."""
    value = (os.environ if environ is None else environ).get(SWITCH, "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def _glibc() -> bool:
    """Whether this process runs on glibc (``confstr`` answers only there; no file is read)."""
    try:
        return platform.system() == "Linux" and os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


def tune_allocator(threshold: int = ALLOCATOR_BYTES) -> bool:
    """Keep large freed blocks in this process's heap (glibc ``mallopt``); True when the setting took.

    Idempotent, and a no-op (False) off glibc, when ``VIDSAL_MALLOC_TUNING=0``,
    or when ``mallopt`` refuses a value.

    Examples
    --------
    >>> from vidsal_core.runtime import allocator_tuned, tune_allocator
    >>> tune_allocator() == allocator_tuned()
    True
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"threshold={threshold!r}: expected a positive number of bytes")
    if _STATE.get("tuned"):
        return True
    if not allocator_tuning_wanted() or not _glibc():
        _STATE["tuned"] = False
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")  # glibc's soname (ctypes.util.find_library would run ldconfig: 20 ms)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        _STATE["tuned"] = False
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    value = min(int(threshold), 2**31 - 1)
    _STATE["tuned"] = bool(mallopt(M_MMAP_THRESHOLD, value)) and bool(mallopt(M_TRIM_THRESHOLD, value))
    return _STATE["tuned"]


def allocator_tuned() -> bool:
    """Whether :func:`tune_allocator` has tuned this process."""
    return bool(_STATE.get("tuned"))
