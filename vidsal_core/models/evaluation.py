"""Test accuracy with honest 95% confidence intervals.

Two intervals are reported. The Wilson score interval (Wilson, 1927) treats
every test video as an independent trial. Videos of the same person are not
independent (same body, same clothes), so a percentile bootstrap that
resamples whole persons (a cluster bootstrap; Davison & Hinkley, 1997, §3.8)
is given too; with KTH's nine test persons it is the wider and more honest one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.statistics import cluster_bootstrap_interval, normal_quantile, wilson_interval  # noqa: F401
from vidsal_core.statistics import UNIT, mean_interval


@dataclass
class AccuracyReport:
    """Accuracy on a test set with its 95% intervals.

    Attributes
    ----------
    accuracy : float
        Fraction of test videos classified correctly.
    correct, total : int
        Correct predictions and test videos.
    wilson_low, wilson_high : float
        Wilson interval (videos independent).
    bootstrap_low, bootstrap_high : float
        Person-cluster bootstrap interval.
    persons : int
        Number of distinct persons (groups) in the test set.
    confusion : list of list of int
        ``confusion[true][predicted]`` counts of test videos.
    outcomes : list of bool
        Whether each test video was classified correctly, in the dataset's order.
    groups : list of str
        The group (person) of each test video.
    """

    accuracy: float
    correct: int
    total: int
    wilson_low: float
    wilson_high: float
    bootstrap_low: float
    bootstrap_high: float
    persons: int
    confusion: list[list[int]]
    outcomes: list[bool] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as a plain dictionary (for manifests and tables)."""
        return asdict(self)

    def estimate(self, confidence: float = 0.95) -> Any:
        """The accuracy as an :class:`~vidsal_core.statistics.Estimate` over persons.

        Its interval is the book's interval for a bounded quantity over
        persons, the cluster Wilson interval
        (:func:`~vidsal_core.statistics.mean_interval` with
        ``bounds=(0, 1)``), the one every verdict is computed from: inside
        [0, 1], and not of zero width when every video is correct; ``units``
        is the number of persons.
        """

        if not self.outcomes:
            raise ConfigError("AccuracyReport.estimate: this report keeps no per-video outcomes")
        return mean_interval([float(hit) for hit in self.outcomes], self.groups, confidence, bounds=UNIT)


@torch.no_grad()
def predict(
    model: nn.Module, dataset: Any, batch_size: int = 16, group_key: str = "person",
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Predicted labels, true labels and groups of every item of ``dataset``.

    Parameters
    ----------
    model : nn.Module
        A classifier of ``(B, T, C, H, W)`` videos; it is put in eval mode.
    dataset : VideoDataset
        Items with ``video``, ``label`` and ``meta``.
    batch_size : int, default 16
        Videos per forward pass.
    group_key : str, default "person"
        The ``meta`` key of an item's group (the item's index where it is missing).
    """
    model.eval()
    device = next(model.parameters()).device
    predictions, labels, groups = [], [], []
    for start in range(0, len(dataset), batch_size):
        indices = range(start, min(start + batch_size, len(dataset)))
        items = [dataset[index] for index in indices]
        videos = torch.stack([item.video for item in items]).to(device)
        predictions.append(model(videos).argmax(dim=1).cpu().numpy())
        labels.append(np.array([item.label for item in items]))
        groups.extend(item.meta.get(group_key, index) for item, index in zip(items, indices))
    return np.concatenate(predictions), np.concatenate(labels), groups


def confusion_matrix(predictions: np.ndarray, labels: np.ndarray, classes: int) -> list[list[int]]:
    """``matrix[true][predicted]``: how many videos of each class went to each class."""
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix.tolist()


def evaluate_accuracy(
    model: nn.Module,
    dataset: Any,
    batch_size: int = 16,
    confidence: float = 0.95,
    group_key: str = "person",
) -> AccuracyReport:
    """Accuracy of ``model`` on ``dataset`` with Wilson and person-bootstrap intervals.

    Parameters
    ----------
    model : nn.Module
        The classifier.
    dataset : VideoDataset
        Test videos, one item per video.
    batch_size : int, default 16
        Videos per forward pass.
    confidence : float, default 0.95
        Coverage of both intervals.
    group_key : str, default "person"
        The ``meta`` key that groups videos for the cluster bootstrap.
    """
    if len(dataset) == 0:
        raise ConfigError("evaluate_accuracy: the test dataset is empty")
    predictions, labels, groups = predict(model, dataset, batch_size, group_key)
    correct = predictions == labels
    wilson = wilson_interval(int(correct.sum()), len(correct), confidence)
    bootstrap = cluster_bootstrap_interval(list(correct), groups, confidence)
    return AccuracyReport(
        accuracy=float(correct.mean()), correct=int(correct.sum()), total=len(correct),
        wilson_low=wilson[0], wilson_high=wilson[1],
        bootstrap_low=bootstrap[0], bootstrap_high=bootstrap[1],
        persons=len(set(groups)),
        confusion=confusion_matrix(predictions, labels, max(len(getattr(dataset, "classes", ())),
                                                            int(max(predictions.max(), labels.max())) + 1)),
        outcomes=[bool(hit) for hit in correct], groups=[str(group) for group in groups],
    )
