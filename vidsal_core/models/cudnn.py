"""Input gradients of recurrent models on CUDA, in eval mode.

cuDNN's fused LSTM refuses a backward pass in eval mode ("cudnn RNN backward
can only be called in training mode"). Switching the model to train mode to
get round it changes what is explained: dropout fires and BatchNorm uses batch
statistics (a defect of seed 000's code). vidsal instead turns cuDNN off for
the attribution only, so PyTorch's native LSTM kernels run, which support
backward in eval mode; convolutions then run without cuDNN too, slower but
with the same results up to floating-point rounding.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def cudnn_disabled() -> Iterator[None]:
    """Disable cuDNN inside the block, restoring the previous setting after.

    Examples
    --------
    >>> model.eval()
    >>> with cudnn_disabled():
    ...     videos.requires_grad_(True)
    ...     model(videos)[:, target].sum().backward()

    Notes
    -----
    A no-op on CPU. Only ``torch.backends.cudnn.enabled`` changes, process-wide,
    for the duration; the other cuDNN flags (``deterministic``, ``benchmark``)
    are left as they are, which ``torch.backends.cudnn.flags`` would not do.
    """
    previous = torch.backends.cudnn.enabled
    torch.backends.cudnn.enabled = False
    try:
        yield
    finally:
        torch.backends.cudnn.enabled = previous


def _on_cuda(model: torch.nn.Module) -> bool:
    return any(parameter.is_cuda for parameter in model.parameters())


@contextlib.contextmanager
def recurrent_backward(model: torch.nn.Module) -> Iterator[None]:
    """Let gradients flow through the model's cuDNN LSTMs in eval mode, without changing what is computed.

    cuDNN refuses an RNN backward pass in eval mode. An ``nn.LSTM`` (or GRU,
    RNN) computes exactly the same in train mode when it has a single layer
    or no dropout between layers, so inside this block such recurrent modules
    alone are put in train mode; the rest of the model (BatchNorm, Dropout)
    stays in eval mode, and cuDNN stays on for the convolutions, which
    :func:`cudnn_disabled` would send to far slower native kernels (21× slower
    for a batch of 64 default FrameLSTM clips on an H200). A recurrent module
    with dropout between several layers cannot be switched without changing
    its output, so for such a model the block falls back to
    :func:`cudnn_disabled`. cuDNN's TF32 is switched off inside the block, so
    float32 maps match the CPU's to float32 rounding. A no-op on the CPU.
    """
    if not _on_cuda(model):
        yield
        return
    recurrent = [module for module in model.modules() if isinstance(module, torch.nn.RNNBase)]
    if any(module.num_layers > 1 and module.dropout > 0 for module in recurrent):
        with cudnn_disabled():
            yield
        return
    switched = [module for module in recurrent if not module.training]
    previous_tf32 = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    for module in switched:
        module.train(True)
    try:
        yield
    finally:
        for module in switched:
            module.train(False)
        torch.backends.cudnn.allow_tf32 = previous_tf32
