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
