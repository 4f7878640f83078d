"""Time contribution: what the model loses when a frame (or a window of frames) is masked.

Seed 000 (§4.1, Figs. 4–9) masks each frame of a clip in turn and records the
prediction; the change is the frame's *time contribution*. vidsal records
two measures per mask, through the shared masking engine
(:mod:`vidsal_core.saliency.masking`):

- the drop in the target class's probability, ``p(X) − p(X̄)`` (softmax of the
  logits; positive when the frame helped the prediction);
- the drop in accuracy, ``correct(X) − correct(X̄)``: for one video 1, 0 or −1;
  over a dataset the fraction of videos whose prediction the mask breaks;
- the drop in the target's log-odds, ``log(p / (1 − p))`` before minus after
  (:func:`target_log_odds`, from the same masked logits): unlike the
  probability it does not saturate for a confident model, so drops that add
  up in the logits add up in it too.

With ``window = k > 1`` each mask covers ``k`` consecutive frames (seed 000
§6.5 suggests it); a frame's score is then the mean over the windows that
cover it, so every result has one value per frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.checks import check_eval_mode, check_video, model_logits, resolve_targets
from vidsal_core.saliency.masking import (
    DEFAULT_MAX_BATCH_BYTES,
    MaskSet,
    baseline_video,
    masked_logits,
    window_masks,
)


def per_frame(masks: MaskSet, window_values: torch.Tensor) -> torch.Tensor:
    """``(..., T)`` per-frame means of ``(..., M)`` per-window values over the windows covering each frame."""
    frames = torch.arange(masks.n_frames)
    coverage = ((frames[None] >= masks.starts[:, None]) & (frames[None] < masks.stops[:, None])).to(window_values)
    return (window_values @ coverage.to(window_values.device)) / coverage.sum(0).to(window_values.device)


def target_log_odds(logits: torch.Tensor, target: int) -> torch.Tensor:
    """``(N,)`` log-odds of class ``target`` from ``(N, K)`` logits, in float64.

    The target's logit minus the log-sum-exp of the other classes' logits,
    which is ``log(p / (1 − p))`` with ``p`` the target's softmax probability
    (the target against all other classes together). For two classes it is
    the difference of the two logits, the log-odds of the binary classifier.
    It is computed from the logits, so it stays finite and exact where ``p``
    rounds to 1.

    Examples
    --------
    >>> import torch
    >>> target_log_odds(torch.tensor([[3.0, 1.0], [0.0, 0.0]]), 0).tolist()
    [2.0, 0.0]
    >>> round(float(target_log_odds(torch.tensor([[2.0, 0.0, 0.0]]), 0)[0]), 6)  # log(e² / 2)
    1.306853
    """
    if logits.dim() != 2 or logits.shape[1] < 2:
        raise ConfigError(f"logits: expected (N, K) with K >= 2 classes, got {tuple(logits.shape)}")
    if not 0 <= target < logits.shape[1]:
        raise ConfigError(f"target={target!r}: expected a class in [0, {logits.shape[1]})")
    values = logits.double()
    others = torch.cat([values[:, :target], values[:, target + 1:]], dim=1)
    return values[:, target] - torch.logsumexp(others, dim=1)


def log_odds_drops(logits: torch.Tensor, masked: torch.Tensor, target: int) -> torch.Tensor | None:
    """``(M,)`` drop of the target's log-odds from the unmasked ``(1, K)`` to each masked ``(M, K)``; None if K < 2."""
    if logits.shape[1] < 2:
        return None
    return target_log_odds(logits, target)[0] - target_log_odds(masked, target)


@dataclass
class TimeContribution:
    """Time contribution of one video.

    Attributes
    ----------
    probability_drop : torch.Tensor
        ``(T,)`` drop in the target's probability when the frame is masked
        (mean over the windows covering it).
    accuracy_drop : torch.Tensor
        ``(T,)`` ``correct(X) − correct(X̄)`` (mean over covering windows).
    window_probability_drop : torch.Tensor
        ``(M,)`` per mask.
    masked_predictions : torch.Tensor
        ``(M,)`` predicted class with each mask.
    windows : torch.Tensor
        ``(M, 2)`` first frame and one past the last of each mask.
    probability : float
        Target probability of the unmasked video.
    prediction : int
        Predicted class of the unmasked video.
    target : int
        The class whose probability is tracked.
    label : int
        The class that counts as correct.
    log_odds_drop : torch.Tensor or None
        ``(T,)`` drop in the target's log-odds (:func:`target_log_odds`) when
        the frame is masked (mean over the windows covering it); None for a
        model with one output.
    window_log_odds_drop : torch.Tensor or None
        ``(M,)`` per mask.
    """

    probability_drop: torch.Tensor
    accuracy_drop: torch.Tensor
    window_probability_drop: torch.Tensor
    masked_predictions: torch.Tensor
    windows: torch.Tensor
    probability: float
    prediction: int
    target: int
    label: int
    log_odds_drop: torch.Tensor | None = None
    window_log_odds_drop: torch.Tensor | None = None


def time_contribution(
    model: nn.Module,
    video: torch.Tensor,
    label: int | None = None,
    target: int | None = None,
    window: int = 1,
    stride: int = 1,
    baseline: str | float | torch.Tensor = "zero",
    mean: float | torch.Tensor | None = None,
    blur_sigma: float | None = None,
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    batch_size: int | None = None,
    engine: str = "auto",
) -> TimeContribution:
    """Time contribution of every frame of one video (seed 000 §4.1).

    Parameters
    ----------
    model : nn.Module
        In eval mode.
    video : torch.Tensor
        ``(T, C, H, W)``.
    label : int, optional
        The true class; None = the unmasked prediction counts as correct
        (the accuracy drop then says whether a mask changes the prediction).
    target : int, optional
        Class whose probability is tracked; None = ``label`` if given, else
        the predicted class.
    window : int, default 1
        Frames per mask.
    stride : int, default 1
        Frames between window starts.
    baseline : str, float or torch.Tensor, default "zero"
        What masked frames become (see :func:`~vidsal_core.saliency.masking.baseline_video`).
    mean : float or torch.Tensor, optional
        Dataset mean for ``baseline="mean"``.
    blur_sigma : float, optional
        Blur for ``baseline="blur"``.
    max_batch_bytes : int, default 512 MiB
        Memory bound of one batch of masked videos.
    batch_size : int, optional
        Masked videos per batch, overriding the bound (results do not depend on it).
    engine : {"auto", "incremental", "full"}, default "auto"
        How the masked videos are evaluated (:func:`~vidsal_core.saliency.masking.masked_logits`):
        for a per-frame model ``"auto"`` re-encodes only the masked frames and
        re-runs the recurrence from the first of them
        (:mod:`vidsal_core.saliency.incremental`); ``"full"`` runs every
        masked video through the whole model. The results agree up to rounding.

    Examples
    --------
    A model whose class 0 reads only frame 2 (class 1 is a constant logit of 1):
    masking frame 2 flips the prediction, masking any other frame changes nothing.

    >>> import torch
    >>> from torch import nn
    >>> from vidsal_core.saliency.time_contribution import time_contribution
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 1 * 4 * 4, 2)).eval()
    >>> with torch.no_grad():
    ...     _ = model[1].weight.zero_()
    ...     _ = model[1].weight[0, 32:48].fill_(1.0)  # frame 2's 16 values
    ...     _ = model[1].bias.copy_(torch.tensor([0.0, 1.0]))
    >>> result = time_contribution(model, torch.ones(4, 1, 4, 4), label=0)
    >>> [round(drop, 4) for drop in result.probability_drop.tolist()]
    [0.0, 0.0, 0.7311, 0.0]
    >>> result.accuracy_drop.tolist(), result.masked_predictions.tolist()
    ([0.0, 0.0, 1.0, 0.0], [0, 0, 1, 0])
    """
    check_video(video)
    check_eval_mode(model)
    video = video.detach()
    logits = model_logits(model, video[None])
    prediction = int(logits.argmax(dim=1)[0])
    true_class = prediction if label is None else int(resolve_targets(label, logits, "label")[0])
    tracked = true_class if target is None else int(resolve_targets(target, logits)[0])
    frames, _, height, width = video.shape
    masks = window_masks(frames, height, width, window, stride)
    values = baseline_video(video, baseline, mean=mean, blur_sigma=blur_sigma)
    masked = masked_logits(model, video, masks, values, max_batch_bytes, batch_size, engine)
    probability = torch.softmax(logits.double(), dim=1)[0, tracked]
    masked_probability = torch.softmax(masked.double(), dim=1)[:, tracked]
    drop = probability - masked_probability
    log_odds = log_odds_drops(logits, masked, tracked)
    predictions = masked.argmax(dim=1)
    correct_drop = float(prediction == true_class) - (predictions == true_class).double()
    return TimeContribution(
        probability_drop=per_frame(masks, drop).cpu(), accuracy_drop=per_frame(masks, correct_drop).cpu(),
        window_probability_drop=drop.cpu(), masked_predictions=predictions.cpu(),
        windows=torch.stack([masks.starts, masks.stops], dim=1), probability=float(probability),
        prediction=prediction, target=tracked, label=true_class,
        log_odds_drop=None if log_odds is None else per_frame(masks, log_odds).cpu(),
        window_log_odds_drop=None if log_odds is None else log_odds.cpu(),
    )


@dataclass
class DatasetTimeContribution:
    """Time contribution over a dataset.

    Attributes
    ----------
    probability_drop : torch.Tensor
        ``(N, T)`` per video and frame, for the video's label.
    accuracy : float
        Accuracy of the unmasked videos.
    masked_accuracy : torch.Tensor
        ``(T,)`` accuracy with frame ``t`` masked (mean over covering windows).
    accuracy_drop : torch.Tensor
        ``(T,)`` ``accuracy − masked_accuracy``.
    labels, predictions : torch.Tensor
        ``(N,)`` true and predicted classes of the unmasked videos.
    seconds : float
        Wall-clock time.
    videos_per_second : float
        Throughput.
    meta : list of dict
        Each video's metadata.
    """

    probability_drop: torch.Tensor
    accuracy: float
    masked_accuracy: torch.Tensor
    accuracy_drop: torch.Tensor
    labels: torch.Tensor
    predictions: torch.Tensor
    seconds: float
    videos_per_second: float
    meta: list[dict[str, Any]] = field(default_factory=list)


def dataset_time_contribution(
    model: nn.Module,
    dataset,
    window: int = 1,
    stride: int = 1,
    baseline: str | float | torch.Tensor = "zero",
    mean: float | torch.Tensor | None = None,
    blur_sigma: float | None = None,
    max_videos: int | None = None,
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    batch_size: int | None = None,
    device: torch.device | str | None = None,
    progress: bool = False,
    engine: str = "auto",
) -> DatasetTimeContribution:
    """Time contribution of every frame over a dataset, for each video's true label.

    Parameters
    ----------
    model : nn.Module
        In eval mode.
    dataset : VideoDataset
        Items with ``.video`` ``(T, C, H, W)`` (all of one length) and ``.label``
        in the model's classes.
    window, stride, baseline, mean, blur_sigma, max_batch_bytes, batch_size, engine
        As :func:`time_contribution`.
    max_videos : int, optional
        Only the first ``max_videos`` videos.
    device : torch.device or str, optional
        Move videos there (default: where the model's parameters are).
    progress : bool, default False
        Show a progress bar.

    Examples
    --------
    Any items with ``.video`` and ``.label`` will do; the model reads only frame 2,
    as in :func:`time_contribution`'s example:

    >>> import torch
    >>> from torch import nn
    >>> from types import SimpleNamespace
    >>> from vidsal_core.saliency.time_contribution import dataset_time_contribution
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 1 * 4 * 4, 2)).eval()
    >>> with torch.no_grad():
    ...     _ = model[1].weight.zero_()
    ...     _ = model[1].weight[0, 32:48].fill_(1.0)
    ...     _ = model[1].bias.copy_(torch.tensor([0.0, 1.0]))
    >>> dataset = [SimpleNamespace(video=torch.ones(4, 1, 4, 4) * scale, label=0) for scale in (1.0, 2.0)]
    >>> result = dataset_time_contribution(model, dataset, window=2)
    >>> result.probability_drop.shape, result.accuracy
    (torch.Size([2, 4]), 1.0)
    >>> result.accuracy_drop.tolist()  # mean over the windows covering each frame: 0-1, 1-2, 2-3
    [0.0, 0.5, 1.0, 1.0]
    """
    from tqdm.auto import tqdm

    count = len(dataset) if max_videos is None else min(len(dataset), max_videos)
    if count == 0:
        raise ConfigError("dataset: has no videos")
    if device is None:
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
    started = time.perf_counter()
    drops, correct, labels, predictions, meta = [], [], [], [], []
    length = None
    for index in tqdm(range(count), desc="time contribution", disable=not progress):
        item = dataset[index]
        video = item.video.to(device)
        if length is not None and video.shape[0] != length:
            raise ConfigError(f"dataset[{index}]: {video.shape[0]} frames, but earlier videos have {length}")
        length = video.shape[0]
        result = time_contribution(model, video, label=int(item.label), window=window, stride=stride,
                                   baseline=baseline, mean=mean, blur_sigma=blur_sigma,
                                   max_batch_bytes=max_batch_bytes, batch_size=batch_size, engine=engine)
        drops.append(result.probability_drop)
        correct.append(float(result.prediction == result.label) - result.accuracy_drop)
        labels.append(result.label)
        predictions.append(result.prediction)
        meta.append(dict(getattr(item, "meta", {}) or {}))
    seconds = time.perf_counter() - started
    label_tensor, prediction_tensor = torch.tensor(labels), torch.tensor(predictions)
    accuracy = float((label_tensor == prediction_tensor).double().mean())
    masked_accuracy = torch.stack(correct).mean(dim=0)
    return DatasetTimeContribution(
        probability_drop=torch.stack(drops), accuracy=accuracy, masked_accuracy=masked_accuracy,
        accuracy_drop=accuracy - masked_accuracy, labels=label_tensor, predictions=prediction_tensor,
        seconds=seconds, videos_per_second=count / seconds if seconds > 0 else float("inf"), meta=meta,
    )
