"""The one dataset interface shared by SynthKTH, real KTH and user clips.

A dataset is a sequence of :class:`VideoItem`. Each item carries one video as a
``(T, C, H, W)`` float32 tensor in [0, 1], its integer label, and a metadata
dictionary (person, action, scenario, source file, frame range, ...). Datasets
built from SynthKTH also carry ground truth (part maps, visibility, motion) in
``item.truth``; real datasets leave it ``None``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
from vidsal_core.errors import ConfigError

#: KTH's six actions, in KTH's own order. Labels are indices into this tuple.
KTH_ACTIONS: tuple[str, ...] = (
    "walking", "jogging", "running", "boxing", "handwaving", "handclapping",
)
#: KTH's four scenarios.
KTH_SCENARIOS: tuple[str, ...] = ("d1", "d2", "d3", "d4")
#: KTH's split by person (Schuldt et al., 2004).
KTH_SPLITS: dict[str, tuple[int, ...]] = {
    "train": (11, 12, 13, 14, 15, 16, 17, 18),
    "validation": (19, 20, 21, 23, 24, 25, 1, 4),
    "test": (22, 2, 3, 5, 6, 7, 8, 9, 10),
}


def split_of_person(person: int) -> str:
    """Return the KTH split (``train``, ``validation`` or ``test``) of a person 1-25."""
    for name, persons in KTH_SPLITS.items():
        if person in persons:
            return name

    raise ConfigError(f"person={person!r}: KTH has persons 1 to 25")


@dataclass
class VideoItem:
    """One video of a dataset.

    Attributes
    ----------
    video : torch.Tensor
        ``(T, C, H, W)`` float32 in [0, 1].
    label : int
        Index into the dataset's ``classes``.
    meta : dict
        Where the video comes from (``person``, ``action``, ``scenario``,
        ``path``, ``frames``, ...).
    truth : Any, optional
        Ground truth, for synthetic videos only.
    """

    video: torch.Tensor
    label: int
    meta: dict[str, Any] = field(default_factory=dict)
    truth: Any = None


class VideoDataset(torch.utils.data.Dataset, abc.ABC):
    """Base class: a sized, indexable collection of :class:`VideoItem`.

    Subclasses set ``classes`` and implement ``__len__`` and ``__getitem__``.
    ``as_tensors`` turns a dataset into what a ``DataLoader`` wants.
    """

    classes: Sequence[str] = KTH_ACTIONS

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of videos."""

    @abc.abstractmethod
    def __getitem__(self, index: int) -> VideoItem:
        """The video at ``index`` as a :class:`VideoItem`."""

    def labels(self) -> list[int]:
        """Labels of all items, in order (subclasses may answer without decoding video)."""
        return [self[i].label for i in range(len(self))]
