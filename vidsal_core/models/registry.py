"""Build models by name: ``build_model("c3d", {"num_classes": 6, ...})``.

Every model class stores its full, resolved configuration in ``model.config``
(defaults included, JSON-serialisable), so ``build_model(name, model.config)``
rebuilds the same architecture; checkpoints rely on this.

Other modules add models with :func:`register` (a builder takes the config's
keys as keyword arguments and returns an ``nn.Module``). Built-in models are
listed as ``"module:attribute"`` strings and imported only when asked for, so
importing the registry stays cheap.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable, Mapping

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.models.i3d import load_i3d
from vidsal_core.models.lstm import FrameLSTM

#: A callable that builds a model from keyword arguments.
Builder = Callable[..., nn.Module]

#: Built-in models, imported on first use.
_BUILTIN: dict[str, str] = {
    "frame_lstm": "vidsal_core.models.lstm:FrameLSTM",
    "ica_lstm": "vidsal_core.models.lstm:ICALSTM",
    "c3d": "vidsal_core.models.c3d:C3D",
    "i3d": "vidsal_core.models.registry:kinetics_i3d",
    "i3d_untrained": "vidsal_core.models.i3d:InceptionI3d",
    "seed000": "vidsal_core.models.registry:seed000",
}
_REGISTERED: dict[str, Builder | str] = dict(_BUILTIN)


def kinetics_i3d(num_classes: int = 400, weights_path: str | None = None) -> nn.Module:
    """The Kinetics-400 I3D with its real weights (:func:`vidsal_core.models.i3d.load_i3d`).

    Registered as ``"i3d"``; ``"i3d_untrained"`` builds the same architecture
    with a (seeded) random initialisation instead.

    Parameters
    ----------
    num_classes : int, default 400
        Must be 400: the weights classify Kinetics-400. Accepted so that
        ``build_model("i3d", model.config)`` rebuilds the model.
    weights_path : str, optional
        The converted state dict; default ``data/weights/i3d_kinetics400.pt``
        (``make data-assets``).
    """
    if num_classes != 400:
        raise ConfigError(f"model 'i3d': num_classes={num_classes!r}; the Kinetics weights have 400 classes "
                          "(build 'i3d_untrained' for another class count)")

    return load_i3d(weights_path)


#: Seed 000's frame encoder: ResNet-18 (He et al., 2016), grayscale input, its 512 → 300 head.
SEED000_ENCODER: dict[str, Any] = {
    "stem_channels": 64,
    "stem_kernel": 7,
    "stem_pool": True,
    "channels": [64, 128, 256, 512],
    "stage_strides": [1, 2, 2, 2],
    "blocks_per_stage": 2,
    "residual": True,
    "pool_grid": [1, 1],
    "feature_size": 300,
    "norm": "batch",
}


def seed000(
    num_classes: int = 2,
    in_channels: int = 1,
    input_size: tuple[int, int] | list[int] | None = (120, 120),
    encoder: Mapping[str, Any] | None = None,
    hidden_size: int = 256,
    num_layers: int = 3,
    head_size: int = 128,
    dropout: float = 0.0,
) -> nn.Module:
    """Seed 000's network: ResNet-18 per frame → 512 → 300 → 3-layer LSTM(256) → 128 → 2.

    A :class:`~vidsal_core.models.lstm.FrameLSTM` whose defaults are the
    seed code's (``sakshikakde/interpretability_of_lstm``): grayscale frames
    resized to 120 × 120, the ResNet-18 encoder of :data:`SEED000_ENCODER`
    (torchvision's ``resnet18`` layer for layer, its ``fc`` replaced by the
    512 → 300 head; ``tests/test_models.py`` copies torchvision's weights in
    and compares encodings), a 3-layer LSTM with 256 units and a 128-unit
    head. Registered as ``"seed000"``; it has no trained weights of its own
    (``build_model("seed000", seed=0)`` is seeded and untrained), which is
    enough for timings: their cost does not depend on the weights' values.

    Parameters
    ----------
    num_classes, in_channels, input_size, encoder, hidden_size, num_layers, head_size, dropout
        As :class:`~vidsal_core.models.lstm.FrameLSTM`; the defaults are the
        seed's (``encoder`` defaults to :data:`SEED000_ENCODER`), so
        ``build_model("seed000", model.config)`` rebuilds the same network.
    """

    return FrameLSTM(num_classes, in_channels, input_size, encoder=dict(SEED000_ENCODER, **dict(encoder or {})),
                     hidden_size=hidden_size, num_layers=num_layers, head_size=head_size, dropout=dropout)


def register(name: str, builder: Builder | str, *, replace: bool = False) -> None:
    """Make ``builder`` available as ``build_model(name, ...)``.

    Parameters
    ----------
    name : str
        The model's name, e.g. ``"i3d"``.
    builder : callable or str
        Builds the model from keyword arguments, or ``"module:attribute"`` to
        import lazily.
    replace : bool, default False
        Allow replacing a model registered under the same name.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"register: name={name!r} must be a non-empty string")
    if not (callable(builder) or (isinstance(builder, str) and ":" in builder)):
        raise ConfigError(f"register({name!r}): builder must be callable or 'module:attribute', got {builder!r}")
    if name in _REGISTERED and not replace and _REGISTERED[name] != builder:
        raise ConfigError(f"register({name!r}): a model of that name exists; pass replace=True to replace it")
    _REGISTERED[name] = builder


def available_models() -> list[str]:
    """Names that :func:`build_model` accepts."""
    return sorted(_REGISTERED)


def get_builder(name: str) -> Builder:
    """The builder registered under ``name`` (importing it if needed)."""
    if name not in _REGISTERED:
        raise ConfigError(f"model={name!r}: unknown model; choose one of {available_models()}")
    builder = _REGISTERED[name]
    if isinstance(builder, str):
        module_name, attribute = builder.split(":")
        builder = getattr(importlib.import_module(module_name), attribute)
        _REGISTERED[name] = builder
    return builder


def _check_arguments(name: str, builder: Builder, config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` naming config keys the builder does not take."""
    try:
        parameters = inspect.signature(builder).parameters
    except (TypeError, ValueError):
        return
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
        return
    unknown = sorted(set(config) - set(parameters))
    if unknown:
        raise ConfigError(
            f"model {name!r}: unknown config key(s) {unknown}; it takes {sorted(parameters)}"
        )


def build_model(name: str, config: Mapping[str, Any] | None = None, *, seed: int | None = None) -> nn.Module:
    """Build the model ``name`` from ``config``, optionally with a seeded initialisation.

    Parameters
    ----------
    name : str
        A registered model name (see :func:`available_models`).
    config : mapping, optional
        Keyword arguments of the model's builder.
    seed : int, optional
        Seed the initialisation with ``torch.manual_seed(seed)`` (the global
        generator's state is restored afterwards), so the same seed gives the
        same weights. This is the "untrained control" of a trained model.

    Returns
    -------
    nn.Module
        The model, in eval mode, with ``model.config`` and ``model.model_name``.
    """
    builder = get_builder(name)
    config = dict(config or {})
    _check_arguments(name, builder, config)
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        try:
            model = builder(**config)
        except TypeError as error:
            raise ConfigError(f"model {name!r} with config {config}: {error}") from error
    if not hasattr(model, "config"):
        model.config = config
    model.model_name = name
    return model.eval()
