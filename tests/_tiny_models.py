"""Shared by the models chapter's tests: a classifier that always says one class, and a tiny two-action corpus."""

from __future__ import annotations

import torch
from torch import nn

from vidsal_core.data.corpus import CorpusConfig, build_corpus


class ConstantModel(nn.Module):
    """Always predicts class ``label``."""

    def __init__(self, label: int, classes: int = 2) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(classes))
        self.label, self.classes = label, classes

    def forward(self, videos):
        logits = torch.zeros(videos.shape[0], self.classes)
        logits[:, self.label] = 1.0
        return logits + 0 * self.bias


def tiny_corpus(root):
    """Walking and running of persons 2, 3, 11 and 12 in d1 and d2: 36 frames of 32×40."""
    config = CorpusConfig(persons=(2, 3, 11, 12), actions=("walking", "running"), scenarios=("d1", "d2"),
                          n_frames=36, height=32, width=40)
    return build_corpus(config, root=root, progress=False)
