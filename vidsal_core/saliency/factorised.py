"""Exact masked attributions for models with a per-frame encoder, from per-frame Jacobians.

A frame-CNN + LSTM (seed 000's model, and the input-cell attention LSTM) is

    logits = temporal(e_1, …, e_T),   e_s = encoder(x_s),

with the encoder applied to every frame on its own. Masking inside frame
``t`` changes only ``e_t``. The input gradient at any other frame ``s`` is

    ∂ logit / ∂ x_s = J_sᵀ g̃_s,   J_s = ∂ e_s / ∂ x_s,   g̃_s = ∂ logit / ∂ e_s,

where ``J_s``, the encoder's Jacobian at the *unchanged* frame ``s``, is the
same for every mask, and ``g̃_s`` comes from the cheap temporal part run on
the masked encodings. So the Jacobians are computed once (``d`` backward
passes through the encoder, ``d`` = encoding size), and every masked saliency
map then costs one single-frame encoder pass forward and back (for frame
``t`` itself), one pass of the temporal part, and a matrix product per frame,
batched over masks. For Integrated Gradients the same holds at every path
point ``b + α_k (x − b)``, with one Jacobian per point and frame.

The result is exact, not an approximation: it differs from the one-call-per-
mask loop only by floating-point rounding (the tests check agreement in
float64 on small models).

:class:`FrameFactorisation` finds the split in a model: a model may offer
``encode_frames(frames) -> (N, d)`` and ``classify_encodings(encodings) ->
logits`` itself; :class:`~vidsal_core.models.lstm.FrameLSTM` and its
subclasses are split through their ``encode``, ``sequence_inputs``, ``lstm``
and ``head``. Either way the split is checked against the model's own
forward pass and gradient before it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.models.cudnn import recurrent_backward
from vidsal_core.saliency.attribution import BaseAttribution
from vidsal_core.saliency.masking import (
    DEFAULT_MAX_BATCH_BYTES,
    MaskSet,
    batches,
    model_bytes_per_video,
)

#: Default bound on the memory of the stored Jacobians (bytes).
DEFAULT_MAX_JACOBIAN_BYTES = 4 * 2**30
#: Relative tolerance of the check that a split reproduces the model.
SPLIT_TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-3}


@dataclass(frozen=True)
class FrameFactorisation:
    """A model split into a per-frame encoder and a temporal part.

    Attributes
    ----------
    encode_frames : callable
        ``(N, C, H, W)`` frames → ``(N, d)`` encodings, each frame on its own.
    classify_encodings : callable
        ``(B, T, d)`` encodings → ``(B, classes)`` logits.
    """

    encode_frames: Callable[[torch.Tensor], torch.Tensor]
    classify_encodings: Callable[[torch.Tensor], torch.Tensor]

    @classmethod
    def of(cls, model: nn.Module) -> "FrameFactorisation | None":
        """The split of ``model``, or None if it has no per-frame encoder vidsal knows of.

        Uses ``model.encode_frames`` and ``model.classify_encodings`` when the
        model has both; otherwise, for a :class:`~vidsal_core.models.lstm.FrameLSTM`
        (or a model with its ``encode``, ``feature_dropout``, ``sequence_inputs``,
        ``lstm`` and ``head``), the same composition as its ``forward``.
        """
        if callable(getattr(model, "encode_frames", None)) and callable(getattr(model, "classify_encodings", None)):
            return cls(model.encode_frames, model.classify_encodings)
        if all(hasattr(model, name) for name in ("encode", "feature_dropout", "sequence_inputs", "lstm", "head")):
            def encode_frames(frames: torch.Tensor) -> torch.Tensor:
                return model.encode(frames[:, None])[:, 0]

            def classify_encodings(encodings: torch.Tensor) -> torch.Tensor:
                states, _ = model.lstm(model.sequence_inputs(model.feature_dropout(encodings)))
                return model.head(states[:, -1])

            return cls(encode_frames, classify_encodings)
        return None


def _temporal_gradient(parts: FrameFactorisation, encodings: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``∂ logit_target / ∂ encodings`` for ``(B, T, d)`` encodings: ``(B, T, d)``."""
    leaf = encodings.detach().requires_grad_(True)
    logits = parts.classify_encodings(leaf)
    return torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), leaf)[0]


class FactorisedEngine:
    """Masked attributions of one video for a model with a per-frame encoder.

    Construction computes the encodings and the encoder's Jacobians at every
    frame (and path point), and the base attribution ``R(X)`` from them; then
    :meth:`changes` gives ``Δ = Σ |R(X) − R(X̄)|`` for any set of single-frame
    masks.

    Parameters
    ----------
    model : nn.Module
        In eval mode, splittable by :meth:`FrameFactorisation.of`.
    video : torch.Tensor
        ``(T, C, H, W)``.
    target : int
        The class explained.
    attribution : BaseAttribution
        The base attribution ``R``.
    max_batch_bytes : int, default 512 MiB
        Memory bound of one batch of masks.
    batch_size : int, optional
        Masks per batch, overriding the bound.
    max_jacobian_bytes : int, default 4 GiB
        Refuse (with a :class:`ConfigError`) to store Jacobians larger than
        this; ``T · K · d · C · H · W`` values are needed.

    Raises
    ------
    ConfigError
        If the model has no per-frame encoder, if the split does not reproduce
        the model's logits and gradient, or if the Jacobians would not fit.
    """

    name = "factorised"

    def __init__(
        self,
        model: nn.Module,
        video: torch.Tensor,
        target: int,
        attribution: BaseAttribution,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        batch_size: int | None = None,
        max_jacobian_bytes: int = DEFAULT_MAX_JACOBIAN_BYTES,
    ) -> None:
        parts = FrameFactorisation.of(model)
        if parts is None:
            raise ConfigError(
                f"engine='factorised': {type(model).__name__} has no per-frame encoder "
                "(encode_frames/classify_encodings); use engine='batched'"
            )
        self.model, self.parts, self.video, self.attribution = model, parts, video.detach(), attribution
        self.target = torch.tensor([int(target)], device=video.device)
        frames, channels, height, width = video.shape
        self.pixels = channels * height * width
        self.alphas, self.weights = attribution.path(video.dtype, video.device)
        self.start = attribution.start(self.video)
        with recurrent_backward(self.model):
            self._jacobians(max_jacobian_bytes, max_batch_bytes)
            self._check_split()
            self.base = self._frames_attribution(self._temporal(self.encodings[:, None]))[0]
        self.batch_size = batch_size if batch_size is not None else self._masks_per_batch(max_batch_bytes)

    # --- set-up -------------------------------------------------------------------------------

    def _path_points(self, frames: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        """``(K, N, C, H, W)`` path points of ``(N, C, H, W)`` frames."""
        return starts[None] + self.alphas.view(-1, 1, 1, 1, 1) * (frames - starts)[None]

    def _jacobians(self, max_jacobian_bytes: int, max_batch_bytes: int) -> None:
        """Encodings ``(K, T, d)`` and Jacobians ``(T, K·d, C·H·W)`` at every path point and frame.

        Row ``j`` of every Jacobian is the gradient of encoding entry ``j``
        summed over frames (frames do not interact in the encoder). Rows are
        computed in chunks: the frames are repeated once per row of the chunk
        and one backward pass with one-hot output gradients gives all of
        them, which is several times faster than one backward pass per row.
        """
        frames = self.video.shape[0]
        count = self.alphas.numel()
        points = self._path_points(self.video, self.start).reshape(count * frames, *self.video.shape[1:]).detach()
        with torch.no_grad():
            encodings = self.parts.encode_frames(points)  # (K·T, d)
        size = encodings.shape[1]
        needed = frames * count * size * self.pixels * self.video.element_size()
        if needed > max_jacobian_bytes:
            raise ConfigError(
                f"engine='factorised': the Jacobians need {needed / 2**30:.1f} GiB, over max_jacobian_bytes="
                f"{max_jacobian_bytes / 2**30:.1f} GiB; use engine='batched', fewer n_steps or smaller frames"
            )
        frame_bytes = 2 * model_bytes_per_video(self.model, self.video[:1])
        rows_per_pass = max(1, min(size, int(max_batch_bytes // (frame_bytes * count * frames))))
        jacobians = self.video.new_empty(size, count * frames, self.pixels)
        for first in range(0, size, rows_per_pass):
            rows = torch.arange(first, min(first + rows_per_pass, size), device=self.video.device)
            copies = points.repeat(rows.numel(), 1, 1, 1).requires_grad_(True)
            outputs = self.parts.encode_frames(copies).reshape(rows.numel(), count * frames, size)
            selector = torch.zeros_like(outputs)
            selector[torch.arange(rows.numel()), :, rows] = 1.0
            (gradient,) = torch.autograd.grad(outputs, copies, grad_outputs=selector)
            jacobians[rows] = gradient.reshape(rows.numel(), count * frames, self.pixels)
        self.encodings = encodings.reshape(count, frames, size)
        # (d, K, T, P) -> (T, K·d, P): one matrix per frame, rows ordered path point by path point.
        self.jacobians = jacobians.reshape(size, count, frames, self.pixels).permute(2, 1, 0, 3).reshape(
            frames, count * size, self.pixels).contiguous()
        self.encoding_size = size

    def _check_split(self) -> None:
        """Refuse a split that does not reproduce the model's logits and gradient at the last path point.

        For the input gradient the last (only) path point is the video itself;
        the check compares the model's own autograd gradient there with the
        stored Jacobians times the temporal gradient.
        """
        tolerance = SPLIT_TOLERANCE.get(self.video.dtype, 1e-3)
        last = self.alphas.numel() - 1
        point = self._path_points(self.video, self.start)[last]
        inputs = point[None].detach().requires_grad_(True)
        logits = self.model(inputs)
        (direct,) = torch.autograd.grad(logits[0, self.target[0]], inputs)
        encodings = self.encodings[last][None]
        parts_logits = self.parts.classify_encodings(encodings)
        temporal = _temporal_gradient(self.parts, encodings, self.target)[0]  # (T, d)
        size = self.encoding_size
        jacobians = self.jacobians[:, last * size:(last + 1) * size]  # (T, d, P)
        factorised = torch.einsum("td,tdp->tp", temporal, jacobians).reshape(direct.shape[1:])
        for what, ours, theirs in (("logits", parts_logits, logits), ("input gradient", factorised, direct[0])):
            scale = theirs.detach().abs().max().clamp_min(torch.finfo(theirs.dtype).tiny)
            error = float((ours.detach() - theirs.detach()).abs().max() / scale)
            if not error <= tolerance:
                raise ConfigError(
                    f"engine='factorised': the model's per-frame split does not reproduce its {what} "
                    f"(relative error {error:.2e}); use engine='batched'"
                )

    def _masks_per_batch(self, max_batch_bytes: int) -> int:
        """Masks per batch: single-frame encoder passes and per-frame products under the bound."""
        frame_bytes = model_bytes_per_video(self.model, self.video[:1])
        per_mask = self.alphas.numel() * 2 * frame_bytes + 4 * self.pixels * self.video.element_size()
        return max(1, int(max_batch_bytes // per_mask))

    # --- masked attributions --------------------------------------------------------------------

    def _temporal(self, encodings: torch.Tensor) -> torch.Tensor:
        """``(K, B, T, d)`` temporal gradients of ``(K, B, T, d)`` encodings."""
        count, batch = encodings.shape[:2]
        targets = self.target.expand(count * batch)
        gradient = _temporal_gradient(self.parts, encodings.reshape(count * batch, *encodings.shape[2:]), targets)
        return gradient.reshape(encodings.shape)

    def _weighted(self, temporal: torch.Tensor, frame: int) -> torch.Tensor:
        """``(B, K·d)``: temporal gradients at ``frame`` times the path weights, path point by path point."""
        count, batch = temporal.shape[:2]
        weighted = self.weights.view(-1, 1, 1) * temporal[:, :, frame]  # (K, B, d)
        return weighted.transpose(0, 1).reshape(batch, count * self.encoding_size)

    def _frames_attribution(self, temporal: torch.Tensor) -> torch.Tensor:
        """``(B, T, C, H, W)`` attributions of unmasked frames from ``(K, B, T, d)`` temporal gradients."""
        frames = self.video.shape[0]
        gradient = torch.stack([self._weighted(temporal, s) @ self.jacobians[s] for s in range(frames)], dim=1)
        gradient = gradient.reshape(temporal.shape[1], *self.video.shape)
        return self.attribution.finish(gradient, self.video[None], self.start[None])

    def changes(self, masks: MaskSet, mask_values: torch.Tensor) -> torch.Tensor:
        """``Δ_m = Σ |R(X) − R(X̄_m)|`` over all values of the video, for every mask: ``(M,)``.

        Parameters
        ----------
        masks : MaskSet
            Single-frame masks made for the video.
        mask_values : torch.Tensor
            ``(T, C, H, W)`` values masked entries take.
        """
        masks.check_video(self.video)
        if not masks.single_frame:
            raise ConfigError("engine='factorised': needs masks that each cover one frame; use engine='batched'")
        results = []
        with recurrent_backward(self.model):
            for indices in batches(len(masks), self.batch_size):
                results.append(self._changes(masks, mask_values, indices))
        return torch.cat(results)

    def _changes(self, masks: MaskSet, mask_values: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        video, count = self.video, self.alphas.numel()
        frames_of = masks.starts[indices].to(video.device)  # (m,)
        batch = frames_of.numel()
        rows = torch.arange(batch, device=video.device)
        covered = masks.spatial(indices, device=video.device)[:, None]  # (m, 1, H, W)
        masked = torch.where(covered, mask_values.to(video)[frames_of], video[frames_of])  # (m, C, H, W)
        starts = self.start[frames_of]
        points = self._path_points(masked, starts).reshape(count * batch, *video.shape[1:]).detach().requires_grad_(True)
        masked_encodings = self.parts.encode_frames(points).reshape(count, batch, -1)  # (K, m, d)
        encodings = self.encodings[:, None].expand(count, batch, *self.encodings.shape[1:]).clone()
        encodings[:, rows, frames_of] = masked_encodings.detach()
        temporal = self._temporal(encodings)  # (K, m, T, d)
        # Frame t of each mask: backward through the encoder at the masked frame itself.
        (masked_gradient,) = torch.autograd.grad(masked_encodings, points, grad_outputs=temporal[:, rows, frames_of])
        masked_gradient = (self.weights.view(-1, 1, 1, 1, 1) * masked_gradient.reshape(count, batch, *video.shape[1:])).sum(0)
        masked_attribution = self.attribution.finish(masked_gradient, masked, starts)
        change = (masked_attribution - self.base[frames_of]).abs_().flatten(1).sum(1).double()
        # Every other frame s: the stored Jacobian times the new temporal gradient.
        for frame in range(video.shape[0]):
            gradient = (self._weighted(temporal, frame) @ self.jacobians[frame]).reshape(batch, *video.shape[1:])
            attribution = self.attribution.finish(gradient, video[frame][None], self.start[frame][None])
            frame_change = attribution.sub_(self.base[frame][None]).abs_().flatten(1).sum(1).double()
            change = change + torch.where(frames_of == frame, torch.zeros_like(frame_change), frame_change)
        return change.detach()
