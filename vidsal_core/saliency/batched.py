"""Masked attributions for any model: many masked videos per forward and backward pass.

The reference loop of Temporal Saliency Rescaling (Ismail et al., 2020) calls
the base attribution once per mask, one video at a time. Masked videos do not
interact in a model in eval mode, so a batch of them can go through the model
together and the gradient of the summed target logits gives each video's own
input gradient. That is what a GPU wants; on a CPU it saves the per-call
overhead. It works for every model (C3D, I3D, frame-CNN + LSTM) and every
mask, single frames or windows.
"""

from __future__ import annotations

import torch
from torch import nn

from vidsal_core.saliency.attribution import BaseAttribution
from vidsal_core.saliency.masking import (
    DEFAULT_MAX_BATCH_BYTES,
    MaskSet,
    apply_masks,
    batches,
    masks_per_batch,
)


class BatchedEngine:
    """Masked attributions of one video, masks evaluated in batches under a memory bound.

    Parameters
    ----------
    model : nn.Module
        In eval mode.
    video : torch.Tensor
        ``(T, C, H, W)``.
    target : int
        The class explained.
    attribution : BaseAttribution
        The base attribution ``R``.
    max_batch_bytes : int, default 512 MiB
        Memory bound of one batch (inputs and activations of its forward and
        backward pass, measured on one video; see
        :func:`~vidsal_core.saliency.masking.masks_per_batch`).
    batch_size : int, optional
        Masks per batch, overriding the bound.
    """

    name = "batched"

    def __init__(
        self,
        model: nn.Module,
        video: torch.Tensor,
        target: int,
        attribution: BaseAttribution,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        batch_size: int | None = None,
    ) -> None:
        self.model, self.video, self.attribution = model, video.detach(), attribution
        self.target = torch.tensor([int(target)], device=video.device)
        self.base = attribution.batch(model, self.video[None], self.target)[0]
        self.batch_size = batch_size if batch_size is not None else masks_per_batch(
            model, self.video, max_batch_bytes, copies_per_mask=attribution.n_points, backward=True)

    def changes(self, masks: MaskSet, mask_values: torch.Tensor) -> torch.Tensor:
        """``Δ_m = Σ |R(X) − R(X̄_m)|`` over all values of the video, for every mask: ``(M,)`` float64.

        Parameters
        ----------
        masks : MaskSet
            Masks made for the video.
        mask_values : torch.Tensor
            ``(T, C, H, W)`` values masked entries take.
        """
        masks.check_video(self.video)
        results = []
        for indices in batches(len(masks), self.batch_size):
            masked = apply_masks(self.video, masks, mask_values, indices)
            attribution = self.attribution.batch(self.model, masked, self.target.expand(len(indices)))
            results.append((attribution - self.base[None]).abs().flatten(1).sum(1, dtype=torch.float64))
        return torch.cat(results)
