"""vidsal_core: the library of the vidsal study (data, models, saliency, analysis, plotting).

Importing it tunes this process's memory allocator (:func:`vidsal_core.runtime.tune_allocator`:
faster large tensors on a CPU, the same numbers; ``VIDSAL_MALLOC_TUNING=0`` turns it off).
"""

from vidsal_core.runtime import tune_allocator as _tune_allocator

_tune_allocator()
