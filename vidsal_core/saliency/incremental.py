"""Incremental masked forward passes for per-frame models: only what a mask can reach is recomputed.

A frame-CNN + LSTM (FrameLSTM, ICA-LSTM, seed 000's ResNet-18 + LSTM) is

    logits = head(LSTM(inputs_1, …, inputs_T)[T]),   inputs = sequence_inputs(e_1, …, e_T),
    e_t = encoder(x_{t - r}, …, x_t),

with ``r`` the encoder's reach (0: each frame alone; 1 with ``frame_differences``,
where frame ``t`` is read beside its difference to frame ``t - 1``). A mask
confined to frames ``s`` to ``u - 1`` therefore changes

- the encodings of frames ``s`` to ``u - 1 + r`` only: those are encoded
  again, from the masked frames (``u - s + r`` frames per mask, reading the
  ``r`` frames before ``s`` as context; one encoder pass per mask, not per
  video, batched over the masks whose clips have one shape);
- the LSTM's inputs at steps ``>= s`` only: ``sequence_inputs`` is the identity
  for the FrameLSTM, and for the ICA-LSTM an input-cell attention that is
  causal (step ``t`` attends to steps ``s <= t`` in its window, "growing" or
  fixed, never to later ones; :meth:`~vidsal_core.models.lstm.InputCellAttention.forward_from`),
  so only the summaries of steps ``>= s`` are recomputed (from the scores of
  every step, which the window reaches back to);
- the recurrence from step ``s`` on: it restarts from the clean video's
  hidden and cell states after step ``s - 1`` of every layer, cached once per
  video, and runs ``T - s`` steps.

Masks spanning several frames (windows) restart from their first frame. The
result equals full re-inference (:func:`~vidsal_core.saliency.masking.masked_logits`
with ``engine="full"``, the slow twin: every masked video through the whole
model) up to floating-point rounding; the tests check agreement in float64.

The per-frame protocol
----------------------
A model takes this path when it declares, as
:class:`~vidsal_core.models.lstm.FrameLSTM` and its subclasses do:

``frame_reach`` : int
    Encoding ``t`` depends on frames ``t - frame_reach`` to ``t`` only.
``encode(videos)`` → ``(B, T, d)``
    The encoder half of the split that
    :class:`~vidsal_core.saliency.factorised.FrameFactorisation` uses (its
    ``encode_frames`` is ``encode`` on one-frame clips).
``encode_from(videos, first)`` → ``(B, T - first, d)``
    ``encode(videos)[:, first:]`` without encoding the frames before
    ``first`` (they are read only as context, e.g. the previous frame of a
    frame difference).
``recurrence_states(encodings)`` → ``(h, c)``, each ``(T, layers, B, hidden)``
    The recurrent states after every step.
``head_from(encodings, states, first)`` → ``(B, classes)``
    The temporal half (``FrameFactorisation.classify_encodings``) re-run
    from step ``first``, given the states after step ``first - 1``.

:func:`supports` tests for it; :class:`IncrementalFrames` checks the split
against the model's own forward pass before using it. Nothing private is
inspected: a model that does not declare the protocol is evaluated in full.

Where it does not apply: deletion and insertion curves over blocks
(:mod:`vidsal_core.metrics.faithfulness`) mask, at each point, units spread
over many frames, so a point restarts from its earliest masked frame and
re-encodes every frame holding a masked unit (about all of them after the
first few points); their whole-frame curves already use the frames' cached
encodings (:func:`~vidsal_core.metrics.faithfulness.frame_perturbation_curve`).
TSR's masked passes need gradients: the factorised engine
(:mod:`vidsal_core.saliency.factorised`) is their incremental path.
"""

from __future__ import annotations

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.checks import check_eval_mode, check_finite, check_video
from vidsal_core.saliency.masking import frame_masks
from vidsal_core.saliency.masking import model_bytes_per_video
from vidsal_core.saliency.masking import cache_masks_per_batch

#: Methods and attributes of the per-frame protocol (see the module's description).
PROTOCOL: tuple[str, ...] = ("frame_reach", "encode", "encode_from", "recurrence_states", "head_from")
#: Relative tolerance of the check that the split reproduces the model's logits.
SPLIT_TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-4}


def supports(model: nn.Module) -> bool:
    """Whether ``model`` declares the per-frame protocol (see the module's description).

    Examples
    --------
    >>> from torch import nn
    >>> from vidsal_core.models.registry import build_model
    >>> from vidsal_core.saliency.incremental import supports
    >>> supports(build_model("frame_lstm", {"num_classes": 2}, seed=0)), supports(nn.Linear(2, 2))
    (True, False)
    """
    reach = getattr(model, "frame_reach", None)
    return (isinstance(reach, int) and not isinstance(reach, bool) and reach >= 0
            and all(callable(getattr(model, name, None)) for name in PROTOCOL[1:]))


class IncrementalFrames:
    """One video's clean encodings and recurrent states, ready for masked forward passes.

    Parameters
    ----------
    model : nn.Module
        In eval mode, declaring the per-frame protocol (:func:`supports`).
    video : torch.Tensor
        ``(T, C, H, W)``.

    Raises
    ------
    ConfigError
        If the model does not declare the protocol, is in training mode, or
        its split does not reproduce its own logits on the video, restarted
        at the last step, and with the middle frame changed (which also
        checks the declared ``frame_reach``).

    Examples
    --------
    The masked logits of two blocks equal the model's on the masked videos:

    >>> import torch
    >>> from vidsal_core.models.registry import build_model
    >>> from vidsal_core.saliency.incremental import IncrementalFrames
    >>> from vidsal_core.saliency.masking import apply_masks, baseline_video, block_masks
    >>> config = {"num_classes": 2, "input_size": [8, 8], "hidden_size": 4, "head_size": 4,
    ...           "encoder": {"stem_channels": 2, "channels": [2], "stage_strides": [2], "feature_size": 3}}
    >>> model = build_model("frame_lstm", config, seed=0).double().eval()
    >>> video = torch.rand(5, 1, 8, 8, dtype=torch.float64)
    >>> masks = block_masks(5, 8, 8, block_size=4, frames=[0, 4]).subset([0, 7])
    >>> baseline = baseline_video(video)
    >>> logits = IncrementalFrames(model, video).masked_logits(masks, baseline)
    >>> torch.allclose(logits, model(apply_masks(video, masks, baseline)), rtol=0, atol=1e-12)
    True
    """

    def __init__(self, model: nn.Module, video: torch.Tensor) -> None:
        check_video(video)
        check_eval_mode(model)
        if not supports(model):
            raise ConfigError(
                f"engine='incremental': {type(model).__name__} does not declare the per-frame protocol "
                f"({', '.join(PROTOCOL)}); use engine='full'"
            )
        self.model, self.video = model, video.detach()
        self.reach = int(model.frame_reach)
        with torch.no_grad():
            self.encodings = model.encode(self.video[None])  # (1, T, d)
            self.hidden, self.cells = model.recurrence_states(self.encodings)  # (T, L, 1, H) each
            self.logits = model(self.video[None])
            split = model.head_from(self.encodings, None, 0)
            restarted = model.head_from(self.encodings, (self.hidden[-2], self.cells[-2]), video.shape[0] - 1) \
                if video.shape[0] > 1 else split
        self._check(split, self.logits, "logits")
        self._check(restarted, self.logits, "logits restarted at the last step")
        # The declared reach: change every pixel of the middle frame, compare with the model on that video.

        middle = frame_masks(*self.video.shape[:1], *self.video.shape[2:]).subset([video.shape[0] // 2])
        changed = 1.0 - self.video
        with torch.no_grad():
            expected = model(torch.where(middle.dense(device=video.device)[0], changed, self.video)[None])
        self._check(self.masked_logits(middle, changed, batch_size=1), expected,
                    f"logits with frame {video.shape[0] // 2} changed (is frame_reach={self.reach} right?)")

    def _check(self, ours: torch.Tensor, theirs: torch.Tensor, what: str) -> None:
        """Refuse the split if ``ours`` differs from the model's own ``theirs`` beyond rounding."""
        tolerance = SPLIT_TOLERANCE.get(self.video.dtype, 1e-4)
        error = float((ours - theirs).abs().max())
        if not error <= tolerance * (float(theirs.abs().max()) + 1.0):
            raise ConfigError(
                f"engine='incremental': {type(self.model).__name__}'s per-frame split does not reproduce its "
                f"{what} (largest difference {error:.2e}); use engine='full'"
            )

    def bytes_per_mask(self, frames: int = 1) -> int:
        """Activation bytes of one mask of ``frames`` frames: its encoder passes and its recurrence (measured once).

        Measured by forward hooks on one encoder pass of ``frames + frame_reach``
        frames and on the recurrence over the whole clip (the most a mask re-runs).
        """

        clip = self.video[:min(self.video.shape[0], frames + self.reach)]
        return model_bytes_per_video(self.model, clip)

    def masked_logits(self, masks, baseline: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """Logits ``(M, classes)`` of the video under every mask, recomputing only what each mask reaches.

        Parameters
        ----------
        masks : MaskSet
            Masks made for the video (single frames or windows).
        baseline : torch.Tensor
            ``(T, C, H, W)`` values masked entries take.
        batch_size : int, optional
            Masks per encoder and recurrence pass; default
            :func:`~vidsal_core.saliency.masking.cache_masks_per_batch` for
            this model. Results do not depend on it beyond rounding.
        """

        masks.check_video(self.video)
        try:
            baseline = baseline.to(self.video).expand_as(self.video)
        except RuntimeError as error:
            raise ConfigError(
                f"baseline: shape {tuple(baseline.shape)} does not broadcast to the video's {tuple(self.video.shape)}"
            ) from error
        if batch_size is None:
            width = int((masks.stops - masks.starts).max())
            batch_size = cache_masks_per_batch(self.bytes_per_mask(width))
        elif isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size={batch_size!r}: expected a positive integer")
        outputs = torch.empty(len(masks), self.logits.shape[1], dtype=self.logits.dtype, device=self.video.device)
        # Masks in frame order, so that a batch holds few restart frames.
        order = torch.argsort(masks.starts * (masks.n_frames + 1) + masks.stops, stable=True)
        with torch.no_grad():
            for first in range(0, len(masks), batch_size):
                indices = order[first:first + batch_size]
                outputs[indices.to(outputs.device)] = self._batch_logits(masks, baseline, indices)
        return check_finite(outputs, "model output on masked videos")

    def _batch_logits(self, masks, baseline: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """Logits of masks ``indices``: changed encodings one pass per clip shape, one restart per first frame."""
        frames, device = self.video.shape[0], self.video.device
        starts, stops, regions = masks.starts[indices], masks.stops[indices], masks.regions[indices]
        lows, highs = (starts - self.reach).clamp(min=0), (stops + self.reach).clamp(max=frames)
        count = indices.numel()
        encodings = self.encodings.expand(count, -1, -1).clone()  # (m, T, d)
        # Masks whose clips (frames low .. high - 1, the changed ones from start on) have one shape share a pass.
        shapes = (starts - lows) * (frames + 1) + (highs - lows)
        for shape in torch.unique(shapes).tolist():
            rows = torch.nonzero(shapes == shape).flatten()
            offset, width = divmod(int(shape), frames + 1)
            clip_frames = lows[rows, None] + torch.arange(width)  # (r, w)
            in_time = (clip_frames >= starts[rows, None]) & (clip_frames < stops[rows, None])
            if masks.labels is None:
                covered = in_time[:, :, None, None].expand(-1, -1, masks.height, masks.width)
            else:
                wanted = regions[rows, None, None, None]
                covered = in_time[:, :, None, None] & ((masks.labels[clip_frames] == wanted) | (wanted < 0))
            covered = covered[:, :, None].to(device)  # (r, w, 1, H, W)
            clip_frames = clip_frames.to(device)
            clips = torch.where(covered, baseline[clip_frames], self.video[clip_frames])
            changed = self.model.encode_from(clips, offset)  # encodings of frames start .. high - 1
            targets = starts[rows, None].to(device) + torch.arange(width - offset, device=device)
            encodings[rows.to(device)[:, None], targets] = changed
        # The recurrence from each mask's first frame, from the clean states after the frame before.
        logits = torch.empty(count, self.logits.shape[1], dtype=self.logits.dtype, device=device)
        for start in torch.unique(starts).tolist():
            rows = torch.nonzero(starts == start).flatten().to(device)
            states = None
            if start > 0:
                states = (self.hidden[start - 1].expand(-1, rows.numel(), -1).contiguous(),
                          self.cells[start - 1].expand(-1, rows.numel(), -1).contiguous())
            logits[rows] = self.model.head_from(encodings[rows], states, start)
        return logits

def masked_logits(model: nn.Module, video: torch.Tensor, masks, baseline: torch.Tensor,
                  batch_size: int | None = None) -> torch.Tensor:
    """Logits ``(M, classes)`` of ``video`` under every mask, the incremental way (:class:`IncrementalFrames`).

    The entry point :func:`vidsal_core.saliency.masking.masked_logits` calls
    for ``engine="auto"`` or ``"incremental"``.
    """
    return IncrementalFrames(model, video).masked_logits(masks, baseline, batch_size)
