"""Video classifiers: frame-CNN + LSTM, input-cell attention LSTM, C3D and I3D.

Every model takes ``(B, T, C, H, W)`` float32 videos in [0, 1] and returns
logits. The submodules are imported on demand (``vidsal_core.models.i3d``,
``vidsal_core.models.registry``, ...), so importing this package stays cheap.
"""

from importlib import import_module as _import_module

#: Public names, each imported from its submodule on first use (PEP 562).
_LAZY_EXPORTS = {
    "FrameLSTM": "vidsal_core.models.lstm",
    "ICALSTM": "vidsal_core.models.lstm",
    "InputCellAttention": "vidsal_core.models.lstm",
    "C3D": "vidsal_core.models.c3d",
    "build_model": "vidsal_core.models.registry",
    "register": "vidsal_core.models.registry",
    "available_models": "vidsal_core.models.registry",
    "TrainConfig": "vidsal_core.models.train",
    "train_model": "vidsal_core.models.train",
    "load_checkpoint": "vidsal_core.models.checkpoints",
    "evaluate_accuracy": "vidsal_core.models.evaluation",
    "cudnn_disabled": "vidsal_core.models.cudnn",
}


def __getattr__(name: str):
    """Import a public name from its submodule when it is first used."""
    if name in _LAZY_EXPORTS:
        return getattr(_import_module(_LAZY_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY_EXPORTS))
