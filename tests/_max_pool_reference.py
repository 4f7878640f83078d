"""A slow float64 reference of deep Taylor's proportional max-pool rule: explicit loops over the pool windows."""

from __future__ import annotations

import itertools
from typing import Sequence

import torch


def proportional_pool_reference(inputs: torch.Tensor, relevance_out: torch.Tensor, kernel: Sequence[int],
                                stride: Sequence[int], pad_before: Sequence[int],
                                stabilizer: float = 1e-6) -> torch.Tensor:
    """Relevance of a max pool's ``(C, *extent)`` input from that of its ``(C, *pooled)`` output.

    Output position ``o`` along an axis covers inputs ``o · stride - pad_before … + kernel - 1``
    (those outside the input are padding: no activation, no relevance). Each window's relevance
    goes to its inputs in proportion to their activations, ``x_i / (Σ_window x + ε·sign)``.
    """
    inputs, relevance_out = inputs.double(), relevance_out.double()
    result = torch.zeros_like(inputs)
    extent = inputs.shape[1:]
    for channel, *position in itertools.product(*(range(size) for size in relevance_out.shape)):
        ranges = [range(max(0, o * s - p), min(n, o * s - p + k))
                  for o, s, p, k, n in zip(position, stride, pad_before, kernel, extent)]
        members = list(itertools.product(*ranges))
        total = sum(float(inputs[(channel, *member)]) for member in members)
        denominator = total + stabilizer * (1.0 if total >= 0 else -1.0)
        share = float(relevance_out[(channel, *position)]) / denominator
        for member in members:
            result[(channel, *member)] += float(inputs[(channel, *member)]) * share
    return result
