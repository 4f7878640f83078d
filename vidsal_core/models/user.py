"""A user's own model, named by an import path.

A notebook or command line that explains a video classifier can take ``package.module:builder``;
:func:`load_user_model` imports ``builder``, calls it without arguments and checks
that it returns a ``torch.nn.Module`` that maps ``(B, T, C, H, W)`` videos in
[0, 1] to ``(B, classes)`` logits. The model is put in eval mode; nothing is
downloaded.

Example builder (in ``my_models.py`` on the Python path)::

    def walking_vs_running():
        model = MyVideoNet(num_classes=2)
        model.load_state_dict(torch.load("weights.pt", weights_only=True))
        return model
"""

from __future__ import annotations

import importlib
from typing import Sequence

import torch
from torch import nn

from vidsal_core.errors import ConfigError


def load_user_model(spec: str, example_shape: Sequence[int] | None = None, argument: str = "model") -> nn.Module:
    """Import and build a model from ``"module:builder"``, in eval mode.

    Parameters
    ----------
    spec : str
        ``"package.module:function"``; the function takes no arguments and
        returns an ``nn.Module``.
    example_shape : sequence of int, optional
        ``(T, C, H, W)`` of the videos it will be fed; when given, the
        model is run once on a zero video of that shape and must return
        ``(1, classes)`` finite logits.
    argument : str
        The parameter's name, for error messages.
    """
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ConfigError(f"{argument}={spec!r}: expected 'package.module:builder', e.g. 'my_models:walking_vs_running'")
    module_name, attribute = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"{argument}={spec!r}: cannot import module {module_name!r} ({error})") from None
    builder = getattr(module, attribute, None)
    if not callable(builder):
        raise ConfigError(f"{argument}={spec!r}: module {module_name!r} has no function {attribute!r}")
    model = builder()
    if not isinstance(model, nn.Module):
        raise ConfigError(f"{argument}={spec!r}: {attribute}() returned {type(model).__name__}, not a torch.nn.Module")
    model.eval()
    if example_shape is not None:
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        with torch.no_grad():
            logits = model(torch.zeros((1, *example_shape), device=device))
        if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != 1:
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise ConfigError(f"{argument}={spec!r}: on a (1, {', '.join(map(str, example_shape))}) video the model "
                              f"returned {shape}; expected logits of shape (1, classes)")
        if not torch.isfinite(logits).all():
            raise ConfigError(f"{argument}={spec!r}: the model returned non-finite logits on a zero video")
    return model
