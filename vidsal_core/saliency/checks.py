"""Argument checks shared by the saliency methods.

Every saliency function refuses bad input before it spends any compute: a
video of the wrong shape, NaN or infinity in a video or in an attribution, a
target class the model does not have, a model left in training mode. The
errors are :class:`~vidsal_core.errors.ConfigError` (a ``ValueError``) and name
the argument and the problem, so a user running a method on their own
material sees at once what to fix.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from vidsal_core.errors import ConfigError


def check_video(video: torch.Tensor, argument: str = "video") -> torch.Tensor:
    """Return ``video`` if it is a finite float ``(T, C, H, W)`` tensor; raise otherwise.

    Parameters
    ----------
    video : torch.Tensor
        One video.
    argument : str, default "video"
        The argument's name, for the error message.
    """
    if not isinstance(video, torch.Tensor) or video.dim() != 4 or not video.is_floating_point():
        shape = tuple(video.shape) if isinstance(video, torch.Tensor) else type(video).__name__
        raise ConfigError(f"{argument}: expected a float tensor (T, C, H, W), got {shape}")
    check_finite(video, argument)
    return video


def check_videos(videos: torch.Tensor, argument: str = "videos") -> torch.Tensor:
    """Return ``videos`` if it is a finite float ``(B, T, C, H, W)`` tensor; raise otherwise.

    Parameters
    ----------
    videos : torch.Tensor
        A batch of videos.
    argument : str, default "videos"
        The argument's name, for the error message.
    """
    if not isinstance(videos, torch.Tensor) or videos.dim() != 5 or not videos.is_floating_point():
        shape = tuple(videos.shape) if isinstance(videos, torch.Tensor) else type(videos).__name__
        raise ConfigError(f"{argument}: expected a float tensor (B, T, C, H, W), got {shape}")
    check_finite(videos, argument)
    return videos


def as_batch(videos: torch.Tensor, argument: str = "videos") -> tuple[torch.Tensor, bool]:
    """``(B, T, C, H, W)`` videos from one video or a batch, and whether one video was given.

    Methods that accept both return maps of the shape they were given.
    """
    if isinstance(videos, torch.Tensor) and videos.dim() == 4:
        check_video(videos, argument)
        return videos.unsqueeze(0), True
    return check_videos(videos, argument), False


def check_finite(values: torch.Tensor, argument: str) -> torch.Tensor:
    """Raise :class:`ConfigError` if ``values`` holds NaN or infinity.

    Parameters
    ----------
    values : torch.Tensor
        A video, a baseline or an attribution.
    argument : str
        Its name, for the error message.
    """
    if values.is_floating_point() and not bool(torch.isfinite(values).all()):
        nan = int(torch.isnan(values).sum())
        infinite = int(torch.isinf(values).sum())
        raise ConfigError(f"{argument}: holds {nan} NaN and {infinite} infinite value(s); saliency needs finite numbers")
    return values


def check_eval_mode(model: nn.Module) -> nn.Module:
    """Raise :class:`ConfigError` if ``model`` (or any submodule) is in training mode.

    Saliency explains the model as it predicts: dropout off, BatchNorm on its
    running statistics. vidsal never switches a model to training mode to get
    gradients (seed 000's code did, so its BatchNorm used batch statistics);
    see :mod:`vidsal_core.models.cudnn` for the cuDNN LSTM on CUDA.
    """
    training = [name or type(model).__name__ for name, module in model.named_modules() if module.training]
    if training:
        raise ConfigError(
            f"model: {training[:3]} in training mode; call model.eval() first "
            "(dropout must be off and BatchNorm must use its running statistics)"
        )
    return model


def resolve_targets(
    target: int | Sequence[int] | torch.Tensor | None,
    logits: torch.Tensor,
    argument: str = "target",
) -> torch.Tensor:
    """``(B,)`` long tensor of target classes; the predicted class where ``target`` is None.

    Parameters
    ----------
    target : int, sequence of int, torch.Tensor or None
        One class for every video, one per video, or None for the prediction.
    logits : torch.Tensor
        ``(B, classes)`` model outputs on the unperturbed videos.
    argument : str, default "target"
        The argument's name, for the error message.
    """
    batch, classes = logits.shape
    if target is None:
        return logits.argmax(dim=1)
    try:
        targets = torch.as_tensor(target, device=logits.device)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{argument}={target!r}: expected a class index or one per video") from error
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise ConfigError(f"{argument}={target!r}: class indices must be integers")
    targets = targets.long().reshape(-1)
    if targets.numel() == 1:
        targets = targets.expand(batch)
    if targets.numel() != batch:
        raise ConfigError(f"{argument}: expected one class or {batch} (one per video), got {targets.numel()}")
    if bool((targets < 0).any()) or bool((targets >= classes).any()):
        raise ConfigError(f"{argument}={target!r}: outside the model's classes 0 to {classes - 1}")
    return targets


def model_logits(model: nn.Module, videos: torch.Tensor) -> torch.Tensor:
    """Logits of ``videos`` without gradients, checked to be ``(B, classes)`` and finite."""
    with torch.no_grad():
        logits = model(videos)
    if logits.dim() != 2 or logits.shape[0] != videos.shape[0]:
        raise ConfigError(f"model: expected (B, classes) logits for {videos.shape[0]} videos, got {tuple(logits.shape)}")
    return check_finite(logits, "model output")
