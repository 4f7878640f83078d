"""What the models chapter reports about trained models, as small tested functions.

The models chapter (``notebooks/models.ipynb``) shows each run's accuracy
against the targets of the models issue, its training curves and confusions,
and checks, with numbers, that vidsal's models avoid the defects of seed 000's
public code (REFERENCE.md): a frame-encoder head that never trained, an
input-cell attention window that was never set, BatchNorm in training mode
during saliency, and clips whose first frame gives the class away. The
functions here compute those numbers; the chapter plots and reads them.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from vidsal_core.errors import ConfigError

#: The models issue's targets: (model, number of classes) -> (accuracy asked for, least lower end of its interval).
TARGETS: dict[tuple[str, int], tuple[float, float | None]] = {
    ("frame_lstm", 2): (0.97, 0.93), ("ica_lstm", 2): (0.97, 0.93), ("frame_lstm", 6): (0.85, 0.80),
    ("c3d", 6): (0.85, None),
}
#: Verdicts of :func:`target_status`, from best to worst.
TARGET_STATUSES = ("met", "met by the estimate only", "not met, within the interval", "not met")


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (all of them, or only those that require gradients)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


def _check_interval(estimate: float, low: float, high: float, where: str) -> None:
    if not (np.isfinite(estimate) and np.isfinite(low) and np.isfinite(high)) or not low <= estimate <= high:
        raise ConfigError(f"{where}: need finite low <= estimate <= high, got {low!r} <= {estimate!r} <= {high!r}")


def target_status(estimate: float, low: float, high: float, target: float, floor: float | None = None) -> str:
    """Whether an accuracy meets ``target``, taking its 95% interval into account.

    Parameters
    ----------
    estimate, low, high : float
        The accuracy and its interval.
    target : float
        The accuracy asked for.
    floor : float, optional
        Where a target names its interval's lower end too (walking vs
        running: 0.97 with the lower end at least 0.93), ``"met"`` asks for
        ``estimate >= target`` and ``low >= floor``; without it, ``low >= target``.

    Returns
    -------
    str
        ``"met"`` (the whole interval at or above the target), ``"met by the
        estimate only"`` (the interval reaches below it), ``"not met, within
        the interval"`` (the estimate is below, the interval reaches it) or
        ``"not met"`` (the whole interval below it).
    """
    _check_interval(estimate, low, high, "target_status")
    if floor is not None and not (isinstance(floor, (int, float)) and not isinstance(floor, bool) and floor <= target):
        raise ConfigError(f"target_status: floor={floor!r}: expected a number at most the target {target}")
    if low >= (target if floor is None else floor) and estimate >= target:
        return TARGET_STATUSES[0]
    if estimate >= target:
        return TARGET_STATUSES[1]
    if high >= target:
        return TARGET_STATUSES[2]
    return TARGET_STATUSES[3]


def _square_confusion(confusion: Any, classes: Sequence[str]) -> np.ndarray:
    matrix = np.asarray(confusion)
    if matrix.ndim != 2 or matrix.shape != (len(classes), len(classes)):
        raise ConfigError(f"confusion: expected a {len(classes)}x{len(classes)} matrix for classes {list(classes)}, "
                          f"got shape {matrix.shape}")
    if (matrix < 0).any():
        raise ConfigError("confusion: counts must not be negative")
    return matrix


def confused_pairs(confusion: Any, classes: Sequence[str], top: int = 3) -> list[dict[str, Any]]:
    """The most frequent errors of a confusion matrix (rows true, columns predicted).

    Parameters
    ----------
    confusion : array-like
        ``confusion[true][predicted]`` counts.
    classes : sequence of str
        Class names in the matrix's order.
    top : int, default 3
        How many (true, predicted) pairs to return at most.

    Returns
    -------
    list of dict
        ``true``, ``predicted``, ``count`` and ``share`` (of the true class's
        videos), most frequent first; pairs with no error are left out.
    """
    matrix = _square_confusion(confusion, classes)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ConfigError(f"top={top!r}: expected a positive integer")
    totals = matrix.sum(axis=1)
    pairs = [(int(matrix[i, j]), i, j) for i in range(len(classes)) for j in range(len(classes))
             if i != j and matrix[i, j] > 0]
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    return [{"true": classes[i], "predicted": classes[j], "count": count, "share": count / totals[i]}
            for count, i, j in pairs[:top]]


def errors_within(confusion: Any, classes: Sequence[str], group: Sequence[str]) -> tuple[int, int]:
    """Errors on the classes of ``group``, and how many of them went to another class of the group.

    Returns
    -------
    (within, total) : tuple of int
        Misclassified videos whose true class is in ``group`` and whose
        predicted class is in ``group`` too, and all misclassified videos whose
        true class is in ``group``.
    """
    matrix = _square_confusion(confusion, classes)
    unknown = sorted(set(group) - set(classes))
    if unknown:
        raise ConfigError(f"group: {unknown} not among the classes {list(classes)}")
    members = [classes.index(name) for name in group]
    errors = matrix.copy()
    np.fill_diagonal(errors, 0)
    return int(errors[np.ix_(members, members)].sum()), int(errors[members].sum())


def training_curves(entry: Mapping[str, Any]) -> pd.DataFrame:
    """Per-epoch losses and accuracies a run's training logged, from its manifest entry.

    Columns ``epoch``, ``train_loss``, ``train_accuracy``, ``validation_loss``,
    ``validation_accuracy``, ``seconds``.
    """
    curves = (entry.get("training") or {}).get("curves")
    if not curves:
        raise ConfigError("entry: has no training curves (entry['training']['curves']); was it trained by train_or_load?")
    return pd.DataFrame(curves)


def parameter_change(trained: nn.Module, untrained: nn.Module, depth: int = 1) -> pd.DataFrame:
    """How far training moved each part of a model from its initialisation.

    For each module at ``depth`` (``depth=1``: the model's direct children,
    e.g. ``encoder``, ``lstm``, ``head``), the relative change of its
    parameters ``‖θ_trained − θ_untrained‖ / ‖θ_untrained‖`` (over all its
    parameters together) and the share of its parameter tensors that changed at
    all. A part that never trained (seed 000's frame-encoder head) shows 0 and 0.

    Parameters
    ----------
    trained, untrained : nn.Module
        The same architecture after and before training.
    depth : int, default 1
        How many levels of the parameter names make a part (``"encoder.projection.weight"``
        at depth 2 is part ``"encoder.projection"``).
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ConfigError(f"depth={depth!r}: expected a positive integer")
    after, before = dict(trained.named_parameters()), dict(untrained.named_parameters())
    if after.keys() != before.keys() or any(after[k].shape != before[k].shape for k in after):
        raise ConfigError("trained, untrained: not the same architecture (parameter names or shapes differ)")
    rows: dict[str, dict[str, float]] = {}
    for name, value in after.items():
        part = ".".join(name.split(".")[:depth]) if name.count(".") >= depth else name.rsplit(".", 1)[0] or name
        initial = before[name].detach().double()
        difference = value.detach().double() - initial
        row = rows.setdefault(part, {"change": 0.0, "norm": 0.0, "tensors": 0, "changed": 0, "parameters": 0})
        row["change"] += float(difference.pow(2).sum())
        row["norm"] += float(initial.pow(2).sum())
        row["tensors"] += 1
        row["changed"] += int(bool(difference.abs().max() > 0))
        row["parameters"] += value.numel()
    return pd.DataFrame([
        {"part": part, "parameters": row["parameters"],
         "relative change": np.sqrt(row["change"]) / np.sqrt(row["norm"]) if row["norm"] > 0 else np.inf * (row["change"] > 0),
         "tensors changed": row["changed"] / row["tensors"]}
        for part, row in rows.items()
    ]).set_index("part")


def _input_gradient(model: nn.Module, videos: torch.Tensor, target: int) -> torch.Tensor:
    videos = videos.detach().clone().requires_grad_(True)
    model(videos)[:, target].sum().backward()
    return videos.grad.detach()


def batch_dependence(model: nn.Module, video: torch.Tensor, companions: torch.Tensor, target: int,
                     training: bool) -> float:
    """How much a video's input gradient changes when other videos share its batch.

    The gradient of logit ``target`` with respect to ``video`` is computed once
    with the video alone and once in a batch with ``companions``; the result is
    the largest absolute difference relative to the largest absolute gradient.
    In eval mode it is zero up to rounding: each video's output depends on that
    video only. In training mode BatchNorm normalises with the batch's own
    statistics and dropout draws masks, so the explanation of one video depends
    on which other videos were explained with it (seed 000's code called
    ``model.train()`` before saliency). A copy of ``model`` is used, so its
    mode and running statistics are left as they were.

    Parameters
    ----------
    model : nn.Module
        The classifier.
    video : torch.Tensor
        ``(T, C, H, W)`` the video explained.
    companions : torch.Tensor
        ``(B, T, C, H, W)`` other videos of the batch, ``B >= 1``.
    target : int
        The class explained.
    training : bool
        Compute in training mode (True) or eval mode (False).
    """
    if video.dim() != 4:
        raise ConfigError(f"video: expected (T, C, H, W), got shape {tuple(video.shape)}")
    if companions.dim() != 5 or companions.shape[0] < 1 or companions.shape[1:] != video.shape:
        raise ConfigError(f"companions: expected (B, {', '.join(map(str, video.shape))}) with B >= 1, "
                          f"got shape {tuple(companions.shape)}")
    copied = copy.deepcopy(model).train(training)
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(0)
        alone = _input_gradient(copied, video[None], target)[0]
        torch.manual_seed(0)
        batched = _input_gradient(copied, torch.cat([video[None], companions]), target)[0]
    finally:
        torch.random.set_rng_state(generator_state)
    scale = float(alone.abs().max())
    return float((alone - batched).abs().max()) / scale if scale > 0 else float((alone - batched).abs().max())


def attended_frames(weights: torch.Tensor) -> torch.Tensor:
    """Effective number of frames an attention looks at, per time step.

    The exponential of the entropy of each step's attention distribution,
    averaged over videos and hops: 1 when a step attends to one frame only
    (seed 000's input-cell attention, whose window was never set, so
    ``M_t = x_t``), ``t + 1`` when step ``t`` spreads evenly over a growing window.

    Parameters
    ----------
    weights : torch.Tensor
        ``(B, r, T, T)`` attention weights, ``[b, hop, t, s]`` (rows sum to 1),
        as :meth:`vidsal_core.models.lstm.ICALSTM.attention_weights` returns.

    Returns
    -------
    torch.Tensor
        ``(T,)`` float64.
    """
    if weights.dim() != 4 or weights.shape[-1] != weights.shape[-2]:
        raise ConfigError(f"weights: expected (B, r, T, T), got shape {tuple(weights.shape)}")
    weights = weights.detach().double()
    if not torch.allclose(weights.sum(-1), torch.ones((), dtype=torch.float64), atol=1e-4):
        raise ConfigError("weights: each step's attention must sum to 1 over frames")
    entropy = -(weights * torch.log(weights.clamp_min(1e-300))).sum(-1)
    return entropy.exp().mean(dim=(0, 1))


def training_clip_offsets(clips: Any, n_frames: int, epochs: Sequence[int]) -> pd.DataFrame:
    """First frames of the training clips that :class:`~vidsal_core.models.train.RandomClips` cuts.

    Reads only the seeded offsets, not the videos. The clips' epoch is restored.

    Parameters
    ----------
    clips : RandomClips
        The training clips of a run (``run_dataset(run, corpus, "train")``).
    n_frames : int
        Frames of every video of the corpus.
    epochs : sequence of int
        The epochs whose clips to list.

    Returns
    -------
    pandas.DataFrame
        One row per clip: ``epoch``, ``clip``, ``label``, ``offset``.
    """
    if not all(hasattr(clips, name) for name in ("offset", "set_epoch", "labels", "epoch")):
        raise ConfigError(f"clips: expected a RandomClips, got {type(clips).__name__}")
    labels, previous, rows = clips.labels(), clips.epoch, []
    try:
        for epoch in epochs:
            clips.set_epoch(int(epoch))
            rows += [{"epoch": int(epoch), "clip": index, "label": label, "offset": clips.offset(index, n_frames)}
                     for index, label in enumerate(labels)]
    finally:
        clips.set_epoch(previous)
    return pd.DataFrame(rows, columns=["epoch", "clip", "label", "offset"])


def offset_only_accuracy(fit_offsets: Sequence[int], fit_labels: Sequence[int],
                         test_offsets: Sequence[int], test_labels: Sequence[int]) -> float:
    """Accuracy of the best classifier that sees only a clip's first frame index.

    The rule predicts, for each offset, the class most frequent at that offset
    among the ``fit`` clips (the overall most frequent class for offsets never
    seen) and is scored on the ``test`` clips. Where classes start at different
    frames (seed 000: running at frame 0, walking at frame 10) it scores 1; where
    the offsets carry no label it scores near chance.
    """
    fit_offsets, fit_labels = np.asarray(fit_offsets), np.asarray(fit_labels)
    test_offsets, test_labels = np.asarray(test_offsets), np.asarray(test_labels)
    if fit_offsets.shape != fit_labels.shape or test_offsets.shape != test_labels.shape or fit_offsets.ndim != 1:
        raise ConfigError("offset_only_accuracy: offsets and labels must be 1-D and of equal length")
    if fit_labels.size == 0 or test_labels.size == 0:
        raise ConfigError("offset_only_accuracy: needs at least one fit and one test clip")
    frame = pd.DataFrame({"offset": fit_offsets, "label": fit_labels})
    overall = int(frame["label"].value_counts().sort_index().idxmax())
    counts = frame.groupby(["offset", "label"]).size().unstack(fill_value=0)
    rule = counts.idxmax(axis=1).to_dict()
    predicted = np.array([rule.get(offset, overall) for offset in test_offsets.tolist()])
    return float((predicted == test_labels).mean())
