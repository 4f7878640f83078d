"""Time contribution of a frame-CNN + LSTM from per-frame encodings: exact, and one encoder pass per frame.

Seed 000's model encodes every frame on its own and then reads the sequence of
encodings, ``logits = temporal(e_1, …, e_T)`` with ``e_t = encoder(x_t)``.
Masking whole frames ``t ∈ W`` with a baseline ``b`` therefore changes only
``e_t`` for ``t ∈ W``, into ``encoder(b_t)``. So the frames and the baseline
frames are encoded once (``2T`` encoder passes, plus ``T`` per further
baseline), and each mask costs only a pass of the cheap temporal part on the
encodings with the masked ones swapped, instead of a full forward pass of
``T`` frames. The masked logits are the same as
:func:`vidsal_core.saliency.time_contribution.time_contribution` computes (up
to floating-point rounding; the tests check agreement in float64), and so is
everything derived from them.

The split of the model into encoder and temporal part is found by
:class:`vidsal_core.saliency.factorised.FrameFactorisation` and checked
against the model's own forward pass before it is used.
"""

from __future__ import annotations

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.checks import check_eval_mode, check_finite, check_video, model_logits, resolve_targets
from vidsal_core.saliency.factorised import SPLIT_TOLERANCE, FrameFactorisation
from vidsal_core.saliency.masking import MaskSet, baseline_video, batches, window_masks
from vidsal_core.saliency.time_contribution import TimeContribution, log_odds_drops, per_frame

#: Masked sequences of encodings per pass of the temporal part, unless ``batch_size`` says otherwise.
DEFAULT_SEQUENCES_PER_BATCH = 256


def contribution_from_logits(logits: torch.Tensor, masked: torch.Tensor, masks: MaskSet,
                             label: int | None = None, target: int | None = None) -> TimeContribution:
    """A :class:`TimeContribution` from the unmasked logits ``(1, K)`` and the masked ones ``(M, K)``.

    Computes exactly what :func:`~vidsal_core.saliency.time_contribution.time_contribution`
    derives from its logits: the drop of the target's probability, of its
    log-odds and of correctness per mask, and their mean over the masks
    covering each frame.

    Parameters
    ----------
    logits : torch.Tensor
        ``(1, K)`` logits of the unmasked video.
    masked : torch.Tensor
        ``(M, K)`` logits with each mask of ``masks`` applied.
    masks : MaskSet
        Whole-frame masks (``window_masks``).
    label, target : int, optional
        As in :func:`~vidsal_core.saliency.time_contribution.time_contribution`.
    """
    if logits.dim() != 2 or logits.shape[0] != 1:
        raise ConfigError(f"logits: expected (1, classes), got {tuple(logits.shape)}")
    if masked.dim() != 2 or masked.shape != (len(masks), logits.shape[1]):
        raise ConfigError(f"masked: expected ({len(masks)}, {logits.shape[1]}), got {tuple(masked.shape)}")
    prediction = int(logits.argmax(dim=1)[0])
    true_class = prediction if label is None else int(resolve_targets(label, logits, "label")[0])
    tracked = true_class if target is None else int(resolve_targets(target, logits)[0])
    probability = torch.softmax(logits.double(), dim=1)[0, tracked]
    drop = probability - torch.softmax(masked.double(), dim=1)[:, tracked]
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


class EncodedVideo:
    """One video's frame encodings, ready to be masked with any baseline and any window.

    Parameters
    ----------
    model : nn.Module
        In eval mode, with a per-frame encoder (:class:`FrameFactorisation`).
    video : torch.Tensor
        ``(T, C, H, W)``.
    batch_size : int, optional
        Masked sequences per pass of the temporal part (default 256; results
        do not depend on it).

    Raises
    ------
    ConfigError
        If the model has no per-frame encoder, or its split does not
        reproduce the model's own logits.
    """

    def __init__(self, model: nn.Module, video: torch.Tensor, batch_size: int | None = None) -> None:
        check_video(video)
        check_eval_mode(model)
        parts = FrameFactorisation.of(model)
        if parts is None:
            raise ConfigError(
                f"model: {type(model).__name__} has no per-frame encoder (encode_frames/classify_encodings); "
                "use vidsal_core.saliency.time_contribution.time_contribution"
            )
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
            raise ConfigError(f"batch_size={batch_size!r}: expected a positive integer")
        self.model, self.parts, self.video = model, parts, video.detach()
        self.batch_size = batch_size or DEFAULT_SEQUENCES_PER_BATCH
        self.logits = model_logits(model, self.video[None])
        self.encodings = self._encode(self.video)
        split_logits = self._classify(self.encodings[None])
        tolerance = SPLIT_TOLERANCE.get(video.dtype, 1e-3)
        scale = float(self.logits.abs().max()) + 1.0
        if not torch.allclose(split_logits, self.logits, rtol=0.0, atol=tolerance * scale):
            raise ConfigError(
                f"model: its split into a per-frame encoder and a temporal part gives logits "
                f"{split_logits.tolist()}, the model {self.logits.tolist()}; use time_contribution()"
            )
        self._baselines: dict[str, torch.Tensor] = {}

    def _encode(self, frames: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.parts.encode_frames(frames)

    def _classify(self, encodings: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.parts.classify_encodings(encodings)

    def baseline_encodings(self, baseline: str | float | torch.Tensor = "zero", mean: float | torch.Tensor | None = None,
                           blur_sigma: float | None = None) -> torch.Tensor:
        """``(T, d)`` encodings of the baseline frames (cached for named baselines)."""
        key = f"{baseline}|{blur_sigma}" if isinstance(baseline, str) and baseline != "mean" else None
        if key is not None and key in self._baselines:
            return self._baselines[key]
        values = check_finite(baseline_video(self.video, baseline, mean=mean, blur_sigma=blur_sigma), "baseline")
        encodings = self._encode(values)
        if key is not None:
            self._baselines[key] = encodings
        return encodings

    def masked_logits(self, masks: MaskSet, baseline_encodings: torch.Tensor) -> torch.Tensor:
        """``(M, K)`` logits of the video with each whole-frame mask of ``masks`` applied."""
        masks.check_video(self.video, "video")
        if masks.labels is not None:
            raise ConfigError("masks: need whole-frame masks (window_masks); regions inside frames change the encodings")
        frames = torch.arange(masks.n_frames, device=self.encodings.device)
        outputs = []
        for indices in batches(len(masks), self.batch_size):
            starts = masks.starts[indices].to(frames.device)
            stops = masks.stops[indices].to(frames.device)
            covered = (frames[None] >= starts[:, None]) & (frames[None] < stops[:, None])  # (m, T)
            sequences = torch.where(covered[..., None], baseline_encodings[None], self.encodings[None])
            outputs.append(self._classify(sequences))
        return check_finite(torch.cat(outputs), "model output on masked encodings")

    def time_contribution(self, label: int | None = None, target: int | None = None, window: int = 1,
                          stride: int = 1, baseline: str | float | torch.Tensor = "zero",
                          mean: float | torch.Tensor | None = None, blur_sigma: float | None = None) -> TimeContribution:
        """Time contribution with ``window`` consecutive frames per mask (arguments as
        :func:`~vidsal_core.saliency.time_contribution.time_contribution`)."""
        frames, _, height, width = self.video.shape
        masks = window_masks(frames, height, width, window, stride)
        masked = self.masked_logits(masks, self.baseline_encodings(baseline, mean, blur_sigma))
        return contribution_from_logits(self.logits, masked, masks, label, target)


def factorised_time_contribution(
    model: nn.Module,
    video: torch.Tensor,
    label: int | None = None,
    target: int | None = None,
    window: int = 1,
    stride: int = 1,
    baseline: str | float | torch.Tensor = "zero",
    mean: float | torch.Tensor | None = None,
    blur_sigma: float | None = None,
    batch_size: int | None = None,
) -> TimeContribution:
    """Time contribution of every frame of one video, from its frame encodings (see the module's description).

    Same arguments and result as
    :func:`vidsal_core.saliency.time_contribution.time_contribution`, for a
    model with a per-frame encoder (FrameLSTM, ICA-LSTM). To mask one video in
    several ways, build an :class:`EncodedVideo` once and call its
    :meth:`~EncodedVideo.time_contribution`.
    """
    return EncodedVideo(model, video, batch_size).time_contribution(label, target, window, stride, baseline, mean,
                                                                     blur_sigma)
