"""Memory layout of a 3-D CNN for explaining it: channels-last, where oneDNN's kernels are faster.

PyTorch stores a video batch ``(B, C, T, H, W)`` channel by channel. C3D's
first layers have few channels (1 → 8 → 16 at the default width) on many
pixels, and the transposed convolution of the input gradient is the slowest
step of every batched attribution (38 % of a C3D gradient). In the
channels-last layout (``torch.channels_last_3d``: channels innermost) oneDNN
picks other kernels: measured on this project's 2-core machine at one thread,
a C3D two-step TSR map (batched engine, about 350 masked gradients) takes
2.6× less time and Integrated Gradients 2.4× less (``bench/bench_layout.py``).

The numbers are the same up to float32 rounding (the summation order of the
convolutions changes; relative differences around 1e-7 of a map's largest
value, checked by ``tests/test_layout.py`` against the default layout, the
slow twin, and exactly equal in float64). The study explains C3D in
this layout, and
:func:`vidsal_core.models.train.train_model` trains it in this layout (a
default-size C3D training step 4.7× faster at one thread; ``layout="default"``
keeps PyTorch's), returning the model in the default layout.
"""

from __future__ import annotations

import torch
from torch import nn


def has_3d_convolutions(model: nn.Module) -> bool:
    """Whether ``model`` holds a :class:`torch.nn.Conv3d` (a 3-D CNN such as C3D or I3D)."""
    return any(isinstance(module, nn.Conv3d) for module in model.modules())


def explaining_layout(model: nn.Module) -> nn.Module:
    """``model`` with its 5-D parameters in ``torch.channels_last_3d`` if it has 3-D convolutions (in place).

    Models without 3-D convolutions (the frame-CNN + LSTMs) are returned as
    they are. The model computes the same function; its activations then
    flow channels-last through every convolution.

    Examples
    --------
    >>> import torch
    >>> from vidsal_core.models.c3d import C3D
    >>> from vidsal_core.models.layout import explaining_layout
    >>> model = explaining_layout(C3D(2, 1, 16, (16, 16), 1 / 16).eval())
    >>> model.features.conv1.weight.is_contiguous(memory_format=torch.channels_last_3d)
    True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if has_3d_convolutions(model):
        model.to(memory_format=torch.channels_last_3d)
    return model
