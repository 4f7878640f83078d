"""Faithfulness: does removing what a map calls important change the model's decision?

Deletion and insertion curves (Petsiuk et al., 2018), over a video's frames or
spatial blocks. The video is cut into *units* by a partition from the shared
masking engine (:func:`~vidsal_core.saliency.masking.frame_masks`,
:func:`~vidsal_core.saliency.masking.block_masks`, superpixels); each unit's
score is the map's magnitude summed over it (:func:`unit_scores`), and units
are taken in order of decreasing score.

- **Deletion**: replace the first ``k`` units by the baseline video
  (:func:`~vidsal_core.saliency.masking.baseline_video`: zero, a dataset mean, a
  blurred copy) and record the target class's probability; a faithful map
  makes it fall fast, so a *small* area under the curve is good.
- **Insertion**: start from the baseline and put the first ``k`` units back;
  a faithful map makes the probability rise fast, so a *large* area is good.

A random order of the same units (:func:`random_orders`) is the chance
baseline both are read against. The curve is sampled at ``n_points + 1``
evenly spaced fractions of the units (0 to all), and its area
(:func:`curve_auc`) is the trapezoid over the fraction in [0, 1].

The batched engine (:func:`perturbation_curve`) builds every perturbed video
from one per-pixel rank map and evaluates them in batches under a memory bound
(:func:`~vidsal_core.saliency.masking.masks_per_batch`);
:func:`perturbation_curve_reference` builds each video mask by mask and runs
the model once per point, and the tests check that both agree.

For a model with a per-frame encoder (FrameLSTM, ICA-LSTM) and units that are
whole frames, :func:`frame_perturbation_curve` computes the same curve from
the frames' and the baseline frames' encodings (``2T`` encoder passes in all,
:class:`~vidsal_core.saliency.time_contribution_factorised.EncodedVideo`): each
point then costs one pass of the temporal part instead of a forward pass of
``T`` frames. :func:`faithfulness` takes that path by itself where it applies.

The incremental masked forward of :mod:`vidsal_core.saliency.incremental`
(one masked frame encoded, the recurrence re-run from it) does not apply to
curves over blocks or superpixels: a point removes (or, for insertion,
restores) the first ``k`` units of the order, spread over many frames, so
after the first few points it would re-encode nearly every frame and re-run
the recurrence from the first one, which is the full forward pass.

References
----------
Petsiuk, V., Das, A. and Saenko, K. (2018). RISE: randomized input sampling
for explanation of black-box models. BMVC.
Samek, W., Binder, A., Montavon, G., Lapuschkin, S. and Müller, K.-R. (2017).
Evaluating the visualization of what a deep neural network has learned. IEEE
TNNLS 28(11).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.checks import check_video
from vidsal_core.saliency.masking import DEFAULT_MAX_BATCH_BYTES, MaskSet, batches, masks_per_batch
from vidsal_core.metrics.localisation import magnitude
from vidsal_core.saliency.factorised import FrameFactorisation
from vidsal_core.saliency.time_contribution_factorised import EncodedVideo

#: The two kinds of curve.
MODES: tuple[str, ...] = ("deletion", "insertion")


def unit_labels(masks: MaskSet) -> torch.Tensor:
    """``(T, H, W)`` long: the index of the mask (unit) that covers each pixel.

    The masks must partition the video: every pixel covered exactly once
    (frames, blocks in every frame, superpixels in every frame do; overlapping
    windows do not).
    """
    if not isinstance(masks, MaskSet):
        raise ConfigError(f"masks: expected a MaskSet, got {type(masks).__name__}")
    labels = torch.full((masks.n_frames, masks.height, masks.width), -1, dtype=torch.long)
    covered = torch.zeros_like(labels)
    for unit, (start, stop, region) in enumerate(zip(masks.starts.tolist(), masks.stops.tolist(), masks.regions.tolist())):
        if region < 0:
            where = torch.ones_like(labels[start:stop], dtype=torch.bool)
        else:
            where = masks.labels[start:stop] == region
        labels[start:stop][where] = unit
        covered[start:stop] += where.long()
    if bool((covered != 1).any()):
        raise ConfigError(f"masks: the {masks.kind} masks do not partition the video (some pixels are covered "
                          "twice or not at all); use frames, blocks or superpixels of every frame")
    return labels


def unit_scores(saliency: Any, masks: MaskSet, labels: torch.Tensor | None = None) -> np.ndarray:
    """``(M,)`` float64: the map's magnitude ``Σ_c |s|`` summed over each unit.

    Parameters
    ----------
    saliency : array-like
        ``(T, C, H, W)`` or ``(T, H, W)``.
    masks : MaskSet
        A partition of the video (see :func:`unit_labels`).
    labels : torch.Tensor, optional
        :func:`unit_labels` of ``masks``, if already computed.
    """

    values = magnitude(saliency)
    labels = unit_labels(masks) if labels is None else labels
    if tuple(values.shape) != tuple(labels.shape):
        raise ConfigError(f"saliency: shape {values.shape} (T, H, W) does not match the masks' {tuple(labels.shape)}")
    return np.bincount(labels.numpy().ravel(), weights=values.ravel(), minlength=len(masks))


def saliency_order(scores: Any, seed: int = 0) -> np.ndarray:
    """Unit indices by decreasing score, ties broken in a seeded random order.

    Breaking ties by index would delete frame 0 and the top-left block first
    whenever a map does not separate units (a constant frame, a map constant
    within each frame); a seeded random order makes a constant map's curve a
    random-order curve, reproducible with ``seed``.

    Parameters
    ----------
    scores : array-like
        ``(n_units,)`` finite scores (:func:`unit_scores`).
    seed : int, default 0
        Seed of the tie-breaking permutation.
    """
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ConfigError(f"scores: expected one finite score per unit, got shape {values.shape}")
    tie_break = np.random.default_rng(seed).permutation(values.size)
    return np.lexsort((tie_break, -values))


def random_orders(n_units: int, count: int, seed: int = 0) -> np.ndarray:
    """``(count, n_units)`` independent random permutations of the units (seeded)."""
    if isinstance(n_units, bool) or not isinstance(n_units, (int, np.integer)) or n_units < 1:
        raise ConfigError(f"n_units={n_units!r}: expected a positive integer")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ConfigError(f"count={count!r}: expected a positive integer")
    generator = np.random.default_rng(seed)
    return np.stack([generator.permutation(int(n_units)) for _ in range(int(count))])


def point_counts(n_units: int, n_points: int | None) -> np.ndarray:
    """Units removed (or inserted) at each point: ``round(i · M / n_points)`` for ``i = 0..n_points``.

    ``n_points=None`` takes every unit one at a time (``M + 1`` points).
    """
    points = n_units if n_points is None else n_points
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 1:
        raise ConfigError(f"n_points={n_points!r}: expected a positive integer or None")
    return np.rint(np.arange(points + 1) * n_units / points).astype(np.int64)


def _check_order(order: Any, n_units: int) -> torch.Tensor:
    values = np.asarray(order)
    if values.shape != (n_units,) or not np.array_equal(np.sort(values), np.arange(n_units)):
        raise ConfigError(f"order: expected a permutation of the {n_units} units, got shape {values.shape}")
    return torch.from_numpy(values.astype(np.int64))


def _check_inputs(model: nn.Module, video: torch.Tensor, baseline: torch.Tensor, masks: MaskSet,
                  mode: str) -> None:
    check_video(video)
    if mode not in MODES:
        raise ConfigError(f"mode={mode!r}: choose one of {list(MODES)}")
    if not isinstance(baseline, torch.Tensor) or baseline.shape != video.shape:
        shape = tuple(baseline.shape) if isinstance(baseline, torch.Tensor) else type(baseline).__name__
        raise ConfigError(f"baseline: expected the video's shape {tuple(video.shape)}, got {shape}")
    masks.check_video(video)
    if model.training:
        raise ConfigError("model: is in training mode; call model.eval() first")


def _probabilities(model: nn.Module, videos: torch.Tensor, target: int) -> torch.Tensor:
    logits = model(videos).double()
    if not 0 <= target < logits.shape[1]:
        raise ConfigError(f"target={target}: the model has {logits.shape[1]} classes")
    return torch.softmax(logits, dim=1)[:, target]


def perturbation_curve(
    model: nn.Module,
    video: torch.Tensor,
    masks: MaskSet,
    order: Any,
    target: int,
    baseline: torch.Tensor,
    mode: str = "deletion",
    n_points: int | None = None,
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    batch_size: int | None = None,
    labels: torch.Tensor | None = None,
) -> np.ndarray:
    """The target's probability as units are deleted (or inserted) in ``order``: ``(n_points + 1,)`` float64.

    Parameters
    ----------
    model : nn.Module
        In eval mode; ``(B, T, C, H, W)`` → ``(B, classes)`` logits.
    video : torch.Tensor
        ``(T, C, H, W)``.
    masks : MaskSet
        The units: a partition of the video (frames, blocks, superpixels).
    order : array-like
        A permutation of the units, most important first (:func:`saliency_order`).
    target : int
        The class whose probability is tracked.
    baseline : torch.Tensor
        ``(T, C, H, W)`` what deleted units become and what insertion starts
        from (:func:`~vidsal_core.saliency.masking.baseline_video`).
    mode : {"deletion", "insertion"}, default "deletion"
        See the module's description.
    n_points : int, optional
        Points after the start; None = one per unit (see :func:`point_counts`).
    max_batch_bytes : int, default 512 MiB
        Memory bound of one batch of perturbed videos.
    batch_size : int, optional
        Perturbed videos per batch, overriding the bound (results do not depend on it).
    labels : torch.Tensor, optional
        :func:`unit_labels` of ``masks``, if already computed.

    Returns
    -------
    numpy.ndarray
        Probability at each point, the unperturbed video first for deletion
        and the baseline first for insertion.
    """
    _check_inputs(model, video, baseline, masks, mode)
    labels = unit_labels(masks) if labels is None else labels
    ranks = torch.empty(len(masks), dtype=torch.long)
    ranks[_check_order(order, len(masks))] = torch.arange(len(masks))
    pixel_rank = ranks[labels].to(video.device)[:, None]  # (T, 1, H, W): position of the pixel's unit in the order
    counts = torch.from_numpy(point_counts(len(masks), n_points)).to(video.device)
    size = batch_size if batch_size is not None else masks_per_batch(model, video, max_batch_bytes)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigError(f"batch_size={batch_size!r}: expected a positive integer")
    first, second = (baseline.to(video), video) if mode == "deletion" else (video, baseline.to(video))
    outputs = []
    with torch.no_grad():
        for indices in batches(len(counts), size):
            taken = pixel_rank[None] < counts[indices.to(video.device)][:, None, None, None, None]
            outputs.append(_probabilities(model, torch.where(taken, first[None], second[None]), int(target)))
    return torch.cat(outputs).cpu().numpy()


def perturbation_curve_reference(
    model: nn.Module,
    video: torch.Tensor,
    masks: MaskSet,
    order: Any,
    target: int,
    baseline: torch.Tensor,
    mode: str = "deletion",
    n_points: int | None = None,
) -> np.ndarray:
    """:func:`perturbation_curve` the slow way: each point's video built mask by mask, one model call each."""
    _check_inputs(model, video, baseline, masks, mode)
    order = _check_order(order, len(masks)).tolist()
    values = []
    with torch.no_grad():
        for count in point_counts(len(masks), n_points).tolist():
            perturbed = video.clone() if mode == "deletion" else baseline.clone()
            source = baseline if mode == "deletion" else video
            for unit in order[:count]:
                covered = masks.dense([unit])[0]
                perturbed = torch.where(covered, source, perturbed)
            values.append(float(_probabilities(model, perturbed[None], int(target))[0]))
    return np.array(values)


def curve_auc(values: Any, fractions: Any | None = None) -> float:
    """Area under a curve sampled at ``fractions`` (default evenly from 0 to 1): the trapezoid rule."""
    curve = np.asarray(values, dtype=np.float64)
    if curve.ndim != 1 or curve.size < 2:
        raise ConfigError(f"values: expected a curve of at least two points, got shape {curve.shape}")
    x = np.linspace(0.0, 1.0, curve.size) if fractions is None else np.asarray(fractions, dtype=np.float64)
    if x.shape != curve.shape:
        raise ConfigError(f"fractions: shape {x.shape} does not match the curve's {curve.shape}")
    return float(np.sum((x[1:] - x[:-1]) * (curve[1:] + curve[:-1]) / 2))


@dataclass
class Faithfulness:
    """Deletion and insertion of one video's units in one order.

    Attributes
    ----------
    deletion, insertion : numpy.ndarray
        ``(n_points + 1,)`` target probability along each curve.
    fractions : numpy.ndarray
        ``(n_points + 1,)`` share of the units deleted / inserted at each point.
    deletion_auc, insertion_auc : float
        Areas under the curves (:func:`curve_auc`).
    """

    deletion: np.ndarray
    insertion: np.ndarray
    fractions: np.ndarray
    deletion_auc: float
    insertion_auc: float

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and floats (for saving)."""
        return {"deletion": self.deletion.tolist(), "insertion": self.insertion.tolist(),
                "fractions": self.fractions.tolist(), "deletion_auc": self.deletion_auc,
                "insertion_auc": self.insertion_auc}


def faithfulness(
    model: nn.Module,
    video: torch.Tensor,
    masks: MaskSet,
    order: Any,
    target: int,
    baseline: torch.Tensor,
    n_points: int | None = None,
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    batch_size: int | None = None,
    labels: torch.Tensor | None = None,
    factorised: bool | None = None,
) -> Faithfulness:
    """Deletion and insertion curves and their areas for one order of the units.

    Parameters are those of :func:`perturbation_curve`; ``order`` comes from
    :func:`saliency_order` of :func:`unit_scores`, or from :func:`random_orders`.
    ``factorised``: None (default) computes frame curves of a per-frame model from its
    frame encodings (:func:`frame_perturbation_curve`) where that applies, True
    insists on it, False always runs the whole model (the results agree).
    """
    encoded = _encoded_for_frames(model, video, masks) if factorised is not False else None
    if factorised is True and encoded is None:
        raise ConfigError("factorised=True: needs whole-frame units and a model with a per-frame encoder "
                          "(FrameLSTM, ICA-LSTM) whose split reproduces its logits")
    if encoded is not None:
        replaced = encoded.baseline_encodings(baseline.to(video))  # once for both curves
        curves = {mode: frame_perturbation_curve(encoded, masks, order, target, baseline, mode, n_points, batch_size,
                                                 replaced) for mode in MODES}
    else:
        labels = unit_labels(masks) if labels is None else labels
        curves = {mode: perturbation_curve(model, video, masks, order, target, baseline, mode, n_points,
                                           max_batch_bytes, batch_size, labels) for mode in MODES}
    fractions = point_counts(len(masks), n_points) / len(masks)
    return Faithfulness(curves["deletion"], curves["insertion"], fractions,
                        curve_auc(curves["deletion"], fractions), curve_auc(curves["insertion"], fractions))


def random_baseline(
    model: nn.Module,
    video: torch.Tensor,
    masks: MaskSet,
    target: int,
    baseline: torch.Tensor,
    count: int = 3,
    seed: int = 0,
    n_points: int | None = None,
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    batch_size: int | None = None,
) -> Faithfulness:
    """Deletion and insertion in random orders, averaged over ``count`` seeded permutations (the chance level)."""
    labels = unit_labels(masks)
    runs = [faithfulness(model, video, masks, order, target, baseline, n_points, max_batch_bytes, batch_size, labels)
            for order in random_orders(len(masks), count, seed)]
    deletion = np.mean([run.deletion for run in runs], axis=0)
    insertion = np.mean([run.insertion for run in runs], axis=0)
    fractions = runs[0].fractions
    return Faithfulness(deletion, insertion, fractions, curve_auc(deletion, fractions), curve_auc(insertion, fractions))


def _frame_ranks(masks: MaskSet, order: Any) -> torch.Tensor:
    """``(T,)`` position in ``order`` of the whole-frame unit that covers each frame (the units must partition the frames)."""
    if masks.labels is not None:
        raise ConfigError("masks: need whole-frame units (frame_masks); regions inside frames change the encodings")
    frames = torch.arange(masks.n_frames)
    covering = (frames[None] >= masks.starts[:, None]) & (frames[None] < masks.stops[:, None])  # (M, T)
    if bool((covering.sum(dim=0) != 1).any()):
        raise ConfigError(f"masks: the {masks.kind} masks do not partition the frames (some frames are covered "
                          "twice or not at all)")
    ranks = torch.empty(len(masks), dtype=torch.long)
    ranks[_check_order(order, len(masks))] = torch.arange(len(masks))
    return ranks[covering.long().argmax(dim=0)]


def _encoded_for_frames(model: nn.Module, video: torch.Tensor, masks: MaskSet) -> Any:
    """An :class:`EncodedVideo` of ``video`` when ``masks`` are whole frames and ``model`` encodes frame by frame."""

    if masks.labels is not None or FrameFactorisation.of(model) is None or model.training:
        return None
    try:
        return EncodedVideo(model, video)
    except ConfigError:  # the split does not reproduce the model's logits: run the whole model
        return None


def frame_perturbation_curve(
    encoded: Any,
    masks: MaskSet,
    order: Any,
    target: int,
    baseline: torch.Tensor,
    mode: str = "deletion",
    n_points: int | None = None,
    batch_size: int | None = None,
    baseline_encodings: torch.Tensor | None = None,
) -> np.ndarray:
    """:func:`perturbation_curve` over whole-frame units, from frame encodings.

    Deleting (or inserting) whole frames changes only their encodings, so the
    perturbed sequences are the frames' encodings with the deleted ones swapped
    for the baseline frames' encodings, and only the model's temporal part runs
    per point.

    Parameters
    ----------
    encoded : EncodedVideo
        The video's encodings (:class:`~vidsal_core.saliency.time_contribution_factorised.EncodedVideo`).
    masks : MaskSet
        Whole-frame units partitioning the video (:func:`~vidsal_core.saliency.masking.frame_masks`).
    order, target, baseline, mode, n_points
        As in :func:`perturbation_curve`.
    batch_size : int, optional
        Sequences per pass of the temporal part (results do not depend on it).
    baseline_encodings : torch.Tensor, optional
        ``(T, d)`` encodings of ``baseline``'s frames, if already computed.
    """
    video = encoded.video
    _check_inputs(encoded.model, video, baseline, masks, mode)
    frame_rank = _frame_ranks(masks, order).to(encoded.encodings.device)
    counts = torch.from_numpy(point_counts(len(masks), n_points)).to(frame_rank.device)
    clean = encoded.encodings
    replaced = encoded.baseline_encodings(baseline.to(video)) if baseline_encodings is None else baseline_encodings
    first, second = (replaced, clean) if mode == "deletion" else (clean, replaced)
    size = batch_size if batch_size is not None else encoded.batch_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigError(f"batch_size={batch_size!r}: expected a positive integer")
    outputs = []
    for indices in batches(len(counts), size):
        taken = frame_rank[None] < counts[indices.to(frame_rank.device)][:, None]  # (m, T)
        logits = encoded._classify(torch.where(taken[..., None], first[None], second[None])).double()
        if not 0 <= int(target) < logits.shape[1]:
            raise ConfigError(f"target={target}: the model has {logits.shape[1]} classes")
        outputs.append(torch.softmax(logits, dim=1)[:, int(target)])
    return torch.cat(outputs).cpu().numpy()
