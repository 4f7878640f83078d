"""vidsal_core: saliency methods for video classifiers, and what they need (data, models, metrics, statistics, plots).

Importing it changes nothing in the process. The study's processes tune glibc's
allocator themselves (:func:`vidsal_core.runtime.tune_allocator`, which you may
call in your own programs: faster large tensors on a CPU, the same numbers).
"""
