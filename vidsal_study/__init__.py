"""vidsal_study: the study built on :mod:`vidsal_core`, the book's chapters and what runs them.

=========================================  ======================================================================
module                                     holds
=========================================  ======================================================================
``book``                                   the runner: ``python -m vidsal_study.book --profile quick [chapters]``
``profiles``                               the profiles (``params/*.yaml``): quick, default, full
``runs``                                   a profile's trained models and the clips they see
``results``                                the claim register and every chapter's rows of verdicts
``sweeps``                                 resumable sweeps, in the kernel or on Dask
``training_runs``                          verdicts over several training runs and the control models
``provenance``, ``processes``              what a chapter ran on; the setup of every study process
``chapters.<chapter>``                     one folder per chapter: its study, findings and figures
=========================================  ======================================================================

The two calls a chapter's "method on one clip" cells use::

    from vidsal_study import test_clip, trained_model
    model = trained_model(profile, "frame_lstm_binary")   # trained first if its checkpoint is missing
    item = test_clip(profile, "frame_lstm_binary")        # item.video (T, C, H, W), item.label, item.meta
"""

from importlib import import_module as _import_module

#: Public names, each imported from its module on first use (PEP 562).
_LAZY_EXPORTS = {
    "trained_model": "vidsal_study.runs",
    "test_clip": "vidsal_study.runs",
    "build_run": "vidsal_study.runs",
    "corpus_config": "vidsal_study.profiles",
}


def __getattr__(name: str):
    """Import a public name from its module when it is first used."""
    if name in _LAZY_EXPORTS:
        return getattr(_import_module(_LAZY_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY_EXPORTS))
