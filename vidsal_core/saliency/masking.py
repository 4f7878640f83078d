"""One masking engine for every method that perturbs the input.

Time contribution (seed 000 §4.1), keyframe checks and Temporal Saliency
Rescaling (Ismail et al., 2020) all ask the same question: what does the model
do when part of the video is replaced? This module answers it once.

A :class:`MaskSet` is a list of masks over a video of ``T`` frames of
``H × W`` pixels. Each mask covers a run of consecutive frames (``starts`` to
``stops``) and, inside those frames, either the whole frame or one region of a
per-frame label map (``labels``): a spatial block or a superpixel. A masked
value is replaced by the same value of a *baseline video* (:func:`baseline_video`):
zero, a dataset mean, a blurred copy, or the reference code's constant. A mask
always covers every channel of the pixels it covers.

Masks are stored compactly (three integers each plus one shared label map)
and materialised only a batch at a time (:func:`apply_masks`), with the batch
size chosen under a memory bound (:func:`masks_per_batch`).

:func:`masked_logits` evaluates the model on every masked copy. Its
``engine`` picks how: ``"full"`` runs each masked video through the whole
model (the slow twin, any model); ``"incremental"`` recomputes only what a
mask can reach, for the models an engine of :data:`INCREMENTAL_ENGINES`
supports (per-frame models: :mod:`vidsal_core.saliency.incremental`), in
batches sized for the CPU's cache (:func:`cache_masks_per_batch`);
``"auto"`` (the default) takes the incremental path where it applies.

Constructors
------------
- :func:`frame_masks` — one mask per frame (seed 000's time contribution);
- :func:`window_masks` — windows of ``k`` consecutive frames (seed 000 §6.5);
- :func:`block_masks` — square blocks of each frame (seed 000's 10 × 10);
- :func:`superpixel_masks` — SLIC superpixels of each frame (Achanta et al., 2012;
  seed 000 §6.5 suggests superpixels to make TSR cheaper).

References
----------
Achanta, R. et al. (2012). SLIC superpixels compared to state-of-the-art
superpixel methods. IEEE TPAMI 34(11).
Ismail, A. A., Gunady, M., Corrada Bravo, H. and Feizi, S. (2020).
Benchmarking deep learning interpretability in time series predictions. NeurIPS.
"""

from __future__ import annotations

import math
import os
import warnings
import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Sequence

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.checks import check_finite, check_video

#: Baselines :func:`baseline_video` knows by name.
BASELINES: tuple[str, ...] = ("zero", "mean", "blur", "first_element")
#: Default bound on the memory one batch of masked videos may take (bytes).
DEFAULT_MAX_BATCH_BYTES = 512 * 2**20
#: Default Gaussian blur (pixels) of the "blur" baseline, as a fraction of the frame's shorter side.
DEFAULT_BLUR_FRACTION = 0.1
#: Engines :func:`masked_logits` offers.
ENGINES: tuple[str, ...] = ("auto", "incremental", "full")
#: Modules of incremental engines, tried in order by :func:`masked_logits`; each has
#: ``supports(model) -> bool`` and ``masked_logits(model, video, masks, baseline, batch_size)``.
INCREMENTAL_ENGINES: tuple[str, ...] = ("vidsal_core.saliency.incremental", "vidsal_core.saliency.incremental_cnn")
#: Last-level cache per core assumed where the operating system reports none (bytes): 4 MiB,
#: within the 1.5-4 MiB of L3 per core of current x86 server CPUs (this machine's AMD EPYC: 32 MiB for 2).
FALLBACK_CACHE_BYTES = 4 * 2**20
#: Batches of an incremental engine hold about this many times one core's share of the last-level
#: cache in activations: the sweeps of ``bench/bench_incremental_batch.py`` on this CPU put the best
#: between 1 and 4 times (``bench/README.md``).
CACHE_BATCH_FACTOR = 2


def _positive_int(value, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{argument}={value!r}: expected a positive integer")
    return value


@dataclass(frozen=True)
class MaskSet:
    """Masks over a video of ``n_frames`` frames of ``height × width`` pixels.

    Mask ``m`` covers frames ``starts[m]`` to ``stops[m] - 1`` and, in each of
    them, the pixels whose label in ``labels[frame]`` equals ``regions[m]``, or
    every pixel when ``regions[m]`` is -1.

    Attributes
    ----------
    n_frames, height, width : int
        The video's size.
    starts, stops : torch.Tensor
        ``(M,)`` long: first masked frame and one past the last.
    regions : torch.Tensor
        ``(M,)`` long region label, -1 for the whole frame.
    labels : torch.Tensor or None
        ``(n_frames, height, width)`` long region labels of every frame; None
        when every mask covers whole frames.
    kind : str
        ``"frames"``, ``"windows"``, ``"blocks"``, ``"superpixels"`` or ``"subset"``.
    """

    n_frames: int
    height: int
    width: int
    starts: torch.Tensor
    stops: torch.Tensor
    regions: torch.Tensor
    labels: torch.Tensor | None
    kind: str

    def __post_init__(self) -> None:
        count = self.starts.numel()
        if count == 0:
            raise ConfigError(f"masks: the {self.kind} mask set is empty; there is nothing to mask")
        if self.stops.numel() != count or self.regions.numel() != count:
            raise ConfigError("masks: starts, stops and regions must have one entry per mask")
        if bool((self.starts < 0).any()) or bool((self.stops > self.n_frames).any()) or bool((self.stops <= self.starts).any()):
            raise ConfigError(f"masks: frame ranges must lie within 0 to {self.n_frames} and be non-empty")
        if self.labels is None and bool((self.regions >= 0).any()):
            raise ConfigError("masks: regions given without a label map")
        if self.labels is not None and tuple(self.labels.shape) != (self.n_frames, self.height, self.width):
            raise ConfigError(
                f"masks: labels of shape {tuple(self.labels.shape)}, expected {(self.n_frames, self.height, self.width)}"
            )

    def __len__(self) -> int:
        return self.starts.numel()

    @property
    def single_frame(self) -> bool:
        """Whether every mask covers exactly one frame."""
        return bool((self.stops - self.starts == 1).all())

    def check_video(self, video: torch.Tensor, argument: str = "video") -> None:
        """Raise :class:`ConfigError` unless ``video`` has the frames and size the masks were made for."""
        frames, _, height, width = video.shape
        if (frames, height, width) != (self.n_frames, self.height, self.width):
            raise ConfigError(
                f"{argument}: {frames} frames of {height}×{width}, but the masks are for "
                f"{self.n_frames} frames of {self.height}×{self.width}"
            )

    def subset(self, indices: torch.Tensor | Sequence[int]) -> "MaskSet":
        """The masks at ``indices``, as a new :class:`MaskSet` sharing the label map."""
        indices = torch.as_tensor(indices, dtype=torch.long)
        return MaskSet(self.n_frames, self.height, self.width, self.starts[indices], self.stops[indices],
                       self.regions[indices], self.labels, "subset")

    def spatial(self, indices: torch.Tensor | Sequence[int] | None = None, device=None) -> torch.Tensor:
        """``(m, H, W)`` bool: the pixels each single-frame mask covers in its frame."""
        if not self.single_frame:
            raise ConfigError("masks: spatial() needs masks that each cover one frame")
        indices = torch.arange(len(self)) if indices is None else torch.as_tensor(indices, dtype=torch.long)
        regions = self.regions[indices].to(device)
        whole = torch.ones(len(indices), self.height, self.width, dtype=torch.bool, device=device)
        if self.labels is None:
            return whole
        frame_labels = self.labels[self.starts[indices]].to(device)
        return torch.where(regions[:, None, None] < 0, whole, frame_labels == regions[:, None, None])

    def dense(self, indices: torch.Tensor | Sequence[int] | None = None, device=None) -> torch.Tensor:
        """``(m, T, 1, H, W)`` bool: every value each mask covers (one channel, broadcast over C)."""
        indices = torch.arange(len(self)) if indices is None else torch.as_tensor(indices, dtype=torch.long)
        frames = torch.arange(self.n_frames, device=device)
        starts, stops = self.starts[indices].to(device), self.stops[indices].to(device)
        in_time = (frames[None] >= starts[:, None]) & (frames[None] < stops[:, None])  # (m, T)
        regions = self.regions[indices].to(device)
        if self.labels is None:
            in_space = torch.ones(len(indices), self.n_frames, self.height, self.width, dtype=torch.bool, device=device)
        else:
            labels = self.labels.to(device)
            in_space = (labels[None] == regions[:, None, None, None]) | (regions[:, None, None, None] < 0)
        return (in_time[:, :, None, None] & in_space)[:, :, None]

    def region_maps(self) -> torch.Tensor:
        """``(T, H, W)`` long: the region label of every pixel (0 everywhere for whole-frame masks)."""
        if self.labels is None:
            return torch.zeros(self.n_frames, self.height, self.width, dtype=torch.long)
        return self.labels


def _frame_indices(frames: Sequence[int] | torch.Tensor | None, n_frames: int) -> torch.Tensor:
    """Frames to build masks in, checked; None = every frame."""
    if frames is None:
        return torch.arange(n_frames)
    indices = torch.as_tensor(frames).long().reshape(-1).cpu()
    if indices.numel() == 0:
        raise ConfigError("frames: empty; give at least one frame to mask (or None for all)")
    if bool((indices < 0).any()) or bool((indices >= n_frames).any()):
        raise ConfigError(f"frames={indices.tolist()}: outside the video's frames 0 to {n_frames - 1}")
    return indices


def _check_size(n_frames: int, height: int, width: int) -> None:
    for name, value in (("n_frames", n_frames), ("height", height), ("width", width)):
        _positive_int(value, name)


def frame_masks(n_frames: int, height: int, width: int) -> MaskSet:
    """One mask per frame, covering the whole frame (seed 000 §4.1).

    Parameters
    ----------
    n_frames, height, width : int
        The video's size.

    Examples
    --------
    >>> from vidsal_core.saliency.masking import frame_masks
    >>> masks = frame_masks(4, 8, 8)
    >>> len(masks), masks.kind, masks.single_frame
    (4, 'frames', True)
    >>> masks.starts.tolist(), masks.stops.tolist()
    ([0, 1, 2, 3], [1, 2, 3, 4])
    """
    return window_masks(n_frames, height, width, window=1)


def window_masks(n_frames: int, height: int, width: int, window: int, stride: int = 1) -> MaskSet:
    """Masks of ``window`` consecutive whole frames, every ``stride`` frames.

    Seed 000 (§6.5) suggests masking sets of frames, since what a video
    classifier uses may be spread over several frames.

    Parameters
    ----------
    n_frames, height, width : int
        The video's size.
    window : int
        Frames per mask (1 = single frames).
    stride : int, default 1
        Frames between the starts of consecutive windows. The last window is
        added if needed so that every frame is covered.

    Examples
    --------
    Windows of two frames every two frames; a last window is added to cover frame 4:

    >>> from vidsal_core.saliency.masking import window_masks
    >>> masks = window_masks(5, 8, 8, window=2, stride=2)
    >>> masks.starts.tolist(), masks.stops.tolist()
    ([0, 2, 3], [2, 4, 5])
    >>> masks.kind
    'windows'
    """
    _check_size(n_frames, height, width)
    _positive_int(window, "window")
    _positive_int(stride, "stride")
    if window > n_frames:
        raise ConfigError(f"window={window}: longer than the video's {n_frames} frames")
    starts = list(range(0, n_frames - window + 1, stride))
    if starts[-1] != n_frames - window:
        starts.append(n_frames - window)
    starts_tensor = torch.tensor(starts, dtype=torch.long)
    return MaskSet(n_frames, height, width, starts_tensor, starts_tensor + window,
                   torch.full_like(starts_tensor, -1), None, "frames" if window == 1 else "windows")


def block_labels(height: int, width: int, block_size: int | Sequence[int]) -> torch.Tensor:
    """``(H, W)`` long: the index of the block each pixel falls in, row-major.

    Blocks start at the top-left corner; blocks at the right and bottom edges
    are cut short when the frame is not a multiple of the block size (as the
    seed's ``range(0, H, 10)`` loops do).

    Parameters
    ----------
    height, width : int
        The frame's size.
    block_size : int or (int, int)
        Block height and width in pixels.
    """
    block_height, block_width = (block_size, block_size) if isinstance(block_size, int) else tuple(block_size)
    _positive_int(block_height, "block_size")
    _positive_int(block_width, "block_size")
    if block_height > height or block_width > width:
        raise ConfigError(
            f"block_size={block_size!r}: larger than the {height}×{width} frame; use a block at most the frame's size"
        )
    rows = torch.arange(height) // block_height
    columns = torch.arange(width) // block_width
    return rows[:, None] * math.ceil(width / block_width) + columns[None, :]


def block_masks(
    n_frames: int,
    height: int,
    width: int,
    block_size: int | Sequence[int] = 10,
    frames: Sequence[int] | torch.Tensor | None = None,
) -> MaskSet:
    """One mask per spatial block in each chosen frame (seed 000's 10 × 10 TSR blocks).

    Parameters
    ----------
    n_frames, height, width : int
        The video's size.
    block_size : int or (int, int), default 10
        Block height and width in pixels; see :func:`block_labels`.
    frames : sequence of int, optional
        Frames to mask (TSR's second step masks only the frames above its
        threshold); None = every frame.

    Masks are ordered frame by frame, blocks row-major within a frame.

    Examples
    --------
    A 4 × 4 frame holds four 2 × 2 blocks; here only frame 1 is masked:

    >>> from vidsal_core.saliency.masking import block_masks
    >>> masks = block_masks(3, 4, 4, block_size=2, frames=[1])
    >>> len(masks), masks.starts.tolist(), masks.regions.tolist()
    (4, [1, 1, 1, 1], [0, 1, 2, 3])
    >>> masks.spatial([3])[0].int().tolist()  # the bottom-right block
    [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]
    """
    _check_size(n_frames, height, width)
    labels = block_labels(height, width, block_size)
    return label_masks(labels.expand(n_frames, height, width), frames, kind="blocks")


def label_masks(labels: torch.Tensor, frames: Sequence[int] | torch.Tensor | None = None,
                kind: str = "regions") -> MaskSet:
    """One mask per region label in each chosen frame, from a ``(T, H, W)`` label map.

    Parameters
    ----------
    labels : torch.Tensor
        ``(T, H, W)`` integer region labels, 0 to ``n - 1`` in each frame
        (blocks, superpixels, or any regions of one's own).
    frames : sequence of int, optional
        Frames to mask; None = every frame.
    kind : str, default "regions"
        Name of the mask set, for messages.

    Masks are ordered frame by frame, by label within a frame.

    Examples
    --------
    Two regions of one's own (left and right halves) in each of two frames:

    >>> import torch
    >>> from vidsal_core.saliency.masking import label_masks
    >>> labels = torch.zeros(2, 4, 4, dtype=torch.long)
    >>> labels[:, :, 2:] = 1
    >>> masks = label_masks(labels, kind="halves")
    >>> len(masks), masks.starts.tolist(), masks.regions.tolist()
    (4, [0, 0, 1, 1], [0, 1, 0, 1])
    """
    if not isinstance(labels, torch.Tensor) or labels.dim() != 3 or labels.is_floating_point():
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ConfigError(f"labels: expected an integer tensor (T, H, W), got {shape}")
    labels = labels.long()
    if bool((labels < 0).any()):
        raise ConfigError("labels: region labels must be non-negative")
    frame_list = _frame_indices(frames, labels.shape[0])
    counts = labels[frame_list].flatten(1).max(dim=1).values + 1
    starts = frame_list.repeat_interleave(counts)
    regions = torch.cat([torch.arange(int(count)) for count in counts])
    return MaskSet(labels.shape[0], labels.shape[1], labels.shape[2], starts, starts + 1, regions, labels, kind)


def superpixel_labels(
    video: torch.Tensor,
    n_segments: int = 100,
    compactness: float = 0.1,
    sigma: float = 1.0,
    frames: Sequence[int] | torch.Tensor | None = None,
) -> torch.Tensor:
    """``(T, H, W)`` long SLIC superpixel labels of each frame (Achanta et al., 2012).

    Labels start at 0 in every frame. Frames not in ``frames`` get label 0
    everywhere.

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)`` in [0, 1].
    n_segments : int, default 100
        Approximate number of superpixels per frame (scikit-image's ``slic``).
        At KTH's 120 × 160, about 190 are as fine as seed 000's 10 × 10 blocks.
    compactness : float, default 0.1
        Colour against space trade-off; 0.1 suits intensities in [0, 1]
        (scikit-image's default of 10 is for Lab colour, 0-100).
    sigma : float, default 1.0
        Gaussian smoothing (pixels) before segmenting.
    frames : sequence of int, optional
        Frames to segment; None = every frame.

    Examples
    --------
    Superpixels follow the edge between a dark and a bright half:

    >>> import torch
    >>> from vidsal_core.saliency.masking import superpixel_labels
    >>> video = torch.zeros(2, 1, 16, 16)
    >>> video[:, :, :, 8:] = 1.0
    >>> labels = superpixel_labels(video, n_segments=4)
    >>> labels.shape, labels.dtype
    (torch.Size([2, 16, 16]), torch.int64)
    >>> set(labels[0, :, :8].unique().tolist()).isdisjoint(labels[0, :, 8:].unique().tolist())
    True
    """
    from skimage.segmentation import slic

    check_video(video)
    _positive_int(n_segments, "n_segments")
    frame_list = _frame_indices(frames, video.shape[0])
    images = video.detach().cpu().double().permute(0, 2, 3, 1).numpy()
    labels = torch.zeros(video.shape[0], video.shape[2], video.shape[3], dtype=torch.long)
    for frame in frame_list.tolist():
        segments = slic(images[frame], n_segments=n_segments, compactness=compactness, sigma=sigma,
                        channel_axis=-1, start_label=0, enforce_connectivity=True)
        _, relabelled = torch.unique(torch.from_numpy(segments).long(), return_inverse=True)
        labels[frame] = relabelled
    return labels


def superpixel_masks(
    video: torch.Tensor,
    n_segments: int = 100,
    compactness: float = 0.1,
    sigma: float = 1.0,
    frames: Sequence[int] | torch.Tensor | None = None,
) -> MaskSet:
    """One mask per SLIC superpixel in each chosen frame.

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)`` in [0, 1]; superpixels follow its frames' edges.
    n_segments, compactness, sigma
        As :func:`superpixel_labels`.
    frames : sequence of int, optional
        Frames to mask; None = every frame.

    Masks are ordered frame by frame, superpixels by label within a frame.

    Examples
    --------
    >>> import torch
    >>> from vidsal_core.saliency.masking import superpixel_labels, superpixel_masks
    >>> video = torch.zeros(2, 1, 16, 16)
    >>> video[:, :, :, 8:] = 1.0
    >>> masks = superpixel_masks(video, n_segments=4, frames=[1])
    >>> masks.kind, masks.starts.unique().tolist()
    ('superpixels', [1])
    >>> len(masks) == int(superpixel_labels(video, n_segments=4)[1].max()) + 1  # one mask per superpixel
    True
    """
    check_video(video)
    frame_list = _frame_indices(frames, video.shape[0])
    return label_masks(superpixel_labels(video, n_segments, compactness, sigma, frame_list), frame_list,
                       kind="superpixels")


def gaussian_blur(video: torch.Tensor, sigma: float) -> torch.Tensor:
    """Each frame of ``(T, C, H, W)`` blurred by a Gaussian of ``sigma`` pixels (reflected borders).

    The kernel is truncated at 3 sigma (and at the frame's size).
    """
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma > 0:
        raise ConfigError(f"blur_sigma={sigma!r}: expected a positive number of pixels")
    frames, channels, height, width = video.shape
    result = video.reshape(frames * channels, 1, height, width)
    for dimension, size in ((2, height), (3, width)):
        radius = min(int(math.ceil(3 * sigma)), size - 1)
        offsets = torch.arange(-radius, radius + 1, dtype=video.dtype, device=video.device)
        kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
        kernel = (kernel / kernel.sum()).reshape((1, 1, -1, 1) if dimension == 2 else (1, 1, 1, -1))
        padding = (0, 0, radius, radius) if dimension == 2 else (radius, radius, 0, 0)
        result = nn.functional.conv2d(nn.functional.pad(result, padding, mode="reflect"), kernel)
    return result.reshape(frames, channels, height, width)


def dataset_mean_frame(dataset, max_videos: int | None = None) -> torch.Tensor:
    """``(C, H, W)`` mean frame over the videos of a dataset (the "mean" baseline).

    Parameters
    ----------
    dataset : VideoDataset
        Items with ``.video`` ``(T, C, H, W)``, all of one frame size.
    max_videos : int, optional
        Average over the first ``max_videos`` only.

    Examples
    --------
    Any items with a ``.video`` will do, here a black and a white video:

    >>> import torch
    >>> from types import SimpleNamespace
    >>> from vidsal_core.saliency.masking import dataset_mean_frame
    >>> dataset = [SimpleNamespace(video=torch.zeros(3, 1, 2, 2)), SimpleNamespace(video=torch.ones(3, 1, 2, 2))]
    >>> mean = dataset_mean_frame(dataset)
    >>> mean.shape, mean.unique().tolist()
    (torch.Size([1, 2, 2]), [0.5])
    """
    count = len(dataset) if max_videos is None else min(len(dataset), max_videos)
    if count == 0:
        raise ConfigError("dataset: has no videos to average")
    total, frames = None, 0
    for index in range(count):
        video = check_video(dataset[index].video, f"dataset[{index}].video").double()
        total = video.sum(dim=0) if total is None else total + video.sum(dim=0)
        frames += video.shape[0]
    return (total / frames).float()


def baseline_video(
    video: torch.Tensor,
    baseline: str | float | torch.Tensor = "zero",
    mean: float | torch.Tensor | None = None,
    blur_sigma: float | None = None,
) -> torch.Tensor:
    """The values a mask puts in place of the video's: a ``(T, C, H, W)`` tensor.

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)``.
    baseline : str, float or torch.Tensor, default "zero"
        ``"zero"``: black (Algorithm 1 of Ismail et al., 2020).
        ``"mean"``: the dataset mean given as ``mean`` (a number, a per-channel
        ``(C,)`` tensor or a mean frame ``(C, H, W)``; see :func:`dataset_mean_frame`).
        ``"blur"``: the frame itself blurred by a Gaussian of ``blur_sigma``
        pixels (default 10 % of the frame's shorter side), which removes
        detail but keeps the frame's overall brightness.
        ``"first_element"``: the constant ``video[0, 0, 0, 0]``, what TSR's
        reference code (``getTwoStepRescaling``) masks with.
        A number or a tensor broadcastable to the video: that value.
    mean : float or torch.Tensor, optional
        The dataset mean, for ``baseline="mean"``.
    blur_sigma : float, optional
        Blur in pixels, for ``baseline="blur"``.

    Examples
    --------
    >>> import torch
    >>> from vidsal_core.saliency.masking import baseline_video
    >>> video = torch.full((4, 3, 8, 8), 0.25)
    >>> baseline_video(video).abs().sum().item()  # "zero": a black video
    0.0
    >>> baseline_video(video, "mean", mean=torch.tensor([0.5, 0.25, 0.0]))[0, :, 0, 0].tolist()
    [0.5, 0.25, 0.0]
    >>> torch.allclose(baseline_video(video, "blur", blur_sigma=1.0), video)  # a constant video blurs to itself
    True
    """
    check_video(video)
    if isinstance(baseline, str):
        if baseline == "zero":
            return torch.zeros_like(video)
        if baseline == "first_element":
            return torch.full_like(video, float(video[0, 0, 0, 0]))
        if baseline == "blur":
            sigma = blur_sigma if blur_sigma is not None else DEFAULT_BLUR_FRACTION * min(video.shape[-2:])
            return gaussian_blur(video, sigma)
        if baseline == "mean":
            if mean is None:
                raise ConfigError("baseline='mean': give the dataset mean as mean= (see dataset_mean_frame)")
            mean_tensor = torch.as_tensor(mean, dtype=video.dtype, device=video.device)
            if mean_tensor.dim() == 1:
                mean_tensor = mean_tensor[:, None, None]
            return _broadcast_baseline(mean_tensor, video, "mean")
        raise ConfigError(f"baseline={baseline!r}: choose one of {list(BASELINES)}, a number or a tensor")
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        return torch.full_like(video, float(baseline))
    if isinstance(baseline, torch.Tensor):
        return _broadcast_baseline(baseline.to(video), video, "baseline")
    raise ConfigError(f"baseline={baseline!r}: choose one of {list(BASELINES)}, a number or a tensor")


def _broadcast_baseline(values: torch.Tensor, video: torch.Tensor, argument: str) -> torch.Tensor:
    try:
        expanded = values.expand_as(video).clone()
    except RuntimeError as error:
        raise ConfigError(
            f"{argument}: shape {tuple(values.shape)} does not broadcast to the video's {tuple(video.shape)}"
        ) from error
    return check_finite(expanded, argument)


def apply_masks(video: torch.Tensor, masks: MaskSet, baseline: torch.Tensor,
                indices: torch.Tensor | Sequence[int] | None = None) -> torch.Tensor:
    """Masked copies of ``video``: ``(m, T, C, H, W)``, one per mask in ``indices``.

    Parameters
    ----------
    video : torch.Tensor
        ``(T, C, H, W)``.
    masks : MaskSet
        Masks made for the video's size.
    baseline : torch.Tensor
        ``(T, C, H, W)`` replacement values (see :func:`baseline_video`).
    indices : sequence of int, optional
        Which masks; None = all.

    Examples
    --------
    One copy per frame mask, with that frame set to the baseline's zeros:

    >>> import torch
    >>> from vidsal_core.saliency.masking import apply_masks, baseline_video, frame_masks
    >>> video = torch.ones(3, 1, 2, 2)
    >>> masked = apply_masks(video, frame_masks(3, 2, 2), baseline_video(video, "zero"))
    >>> masked.shape
    torch.Size([3, 3, 1, 2, 2])
    >>> masked[:, :, 0, 0, 0].tolist()  # copy m, frame t
    [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    covered = masks.dense(indices, device=video.device)
    return torch.where(covered, baseline.to(video)[None], video[None])


#: :func:`model_bytes_per_video` per model, by video shape, dtype and device (weak: forgotten with the model).
_BYTES_PER_VIDEO: "weakref.WeakKeyDictionary[nn.Module, dict[tuple, int]]" = weakref.WeakKeyDictionary()


def model_bytes_per_video(model: nn.Module, video: torch.Tensor) -> int:
    """Bytes one video takes through ``model``: its input plus every module's output.

    Measured by forward hooks on one forward pass without gradients; autograd
    keeps about this much per video for a backward pass. Used to choose how
    many masked videos to evaluate at once. The count depends on the model's
    layers and the video's shape, not on their values, so it is kept per
    model and shape: a faithfulness curve or a TSR map asks for it at every
    call, and on I3D the measuring pass was a tenth of a deletion curve's
    work (:func:`measure_bytes_per_video` measures afresh).
    """
    key = (tuple(video.shape), video.dtype, str(video.device))
    try:
        known = _BYTES_PER_VIDEO.setdefault(model, {})
    except TypeError:  # not weak-referenceable: measure every time
        return measure_bytes_per_video(model, video)
    if key not in known:
        known[key] = measure_bytes_per_video(model, video)
    return known[key]


def measure_bytes_per_video(model: nn.Module, video: torch.Tensor) -> int:
    """:func:`model_bytes_per_video` measured by one forward pass, without the per-model memory."""
    total = [video.numel() * video.element_size()]

    def count(_module, _inputs, output) -> None:
        for tensor in output if isinstance(output, (tuple, list)) else (output,):
            if isinstance(tensor, torch.Tensor):
                total[0] += tensor.numel() * tensor.element_size()

    handles = [module.register_forward_hook(count) for module in model.modules()
               if not list(module.children())]
    try:
        with torch.no_grad():
            model(video[None])
    finally:
        for handle in handles:
            handle.remove()
    return total[0]


def masks_per_batch(model: nn.Module, video: torch.Tensor, max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
                    copies_per_mask: int = 1, backward: bool = False) -> int:
    """How many masks to evaluate at once so that one batch stays under ``max_batch_bytes``.

    Parameters
    ----------
    model : nn.Module
        The model the masked videos go through.
    video : torch.Tensor
        ``(T, C, H, W)``.
    max_batch_bytes : int, default 512 MiB
        The memory bound for one batch.
    copies_per_mask : int, default 1
        Videos per mask (Integrated Gradients' path points).
    backward : bool, default False
        Whether gradients are taken (twice the memory: activations and their gradients).
    """
    _positive_int(max_batch_bytes, "max_batch_bytes")
    per_video = model_bytes_per_video(model, video) * (2 if backward else 1)
    return max(1, int(max_batch_bytes // (per_video * copies_per_mask)))


def _cpu_count(cpu_list: str) -> int:
    """Number of CPUs in a sysfs list such as ``0-3,8``."""
    count = 0
    for part in cpu_list.strip().split(","):
        if part:
            first, _, last = part.partition("-")
            count += int(last or first) - int(first) + 1
    return max(1, count)


@lru_cache(maxsize=None)
def cache_bytes(level: int = 3, root: str = "/sys/devices/system/cpu/cpu0/cache") -> int:
    """One core's share, in bytes, of the CPU's data (or unified) cache of ``level``.

    Read from Linux's sysfs (``index*/level``, ``type``, ``size`` and
    ``shared_cpu_list``: the cache's size divided by the CPUs sharing it);
    else ``os.sysconf("SC_LEVEL<level>_CACHE_SIZE")`` divided by the CPU
    count, where Python knows the name (glibc); else
    :data:`FALLBACK_CACHE_BYTES` (a level-3 share; scaled by 1/4 per level below).

    Parameters
    ----------
    level : int, default 3
        Cache level (1, 2, 3).
    root : str
        The sysfs folder of core 0's caches.

    Examples
    --------
    >>> from vidsal_core.saliency.masking import cache_bytes
    >>> cache_bytes(3) > 0
    True
    >>> cache_bytes(3, root="/nonexistent") > 0  # sysconf or the fallback
    True
    """
    _positive_int(level, "level")
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    for entry in sorted(Path(root).glob("index*")):
        try:
            entry_level = int((entry / "level").read_text())
            kind = (entry / "type").read_text().strip()
            text = (entry / "size").read_text().strip()
            sharing = _cpu_count((entry / "shared_cpu_list").read_text())
            size = int(text[:-1]) * units[text[-1]] if text[-1:] in units else int(text)
        except (OSError, ValueError, IndexError):
            continue
        if entry_level == level and kind in ("Data", "Unified"):
            return max(1, size // sharing)
    try:
        value = os.sysconf(f"SC_LEVEL{level}_CACHE_SIZE")
    except (ValueError, OSError):
        value = 0
    if value > 0:
        return max(1, int(value) // (os.cpu_count() or 1))
    return max(1, FALLBACK_CACHE_BYTES // 4 ** max(0, 3 - level))


def cache_masks_per_batch(bytes_per_mask: int, cache: int | None = None, factor: int = CACHE_BATCH_FACTOR) -> int:
    """Masks per batch of an incremental engine: about ``factor`` × a core's last-level cache in activations.

    A batch should be large enough that each layer's work is a matrix
    product worth its call overhead, and small enough that a layer's output
    is still in cache when the next layer reads it. On this CPU (AMD EPYC,
    1 MiB L2 per core, 32 MiB L3 for 2 cores) the sweep of
    ``bench/bench_incremental_batch.py`` put the best batch at 1 to 4 times
    one core's share of L3 in activations (:data:`CACHE_BATCH_FACTOR` = 2;
    ``bench/README.md``); batches of a few masks pay per-call overhead (5 to
    10 times slower one mask at a time).

    Parameters
    ----------
    bytes_per_mask : int
        Activation bytes one mask's recomputation takes (e.g.
        :meth:`~vidsal_core.saliency.incremental.IncrementalFrames.bytes_per_mask`).
    cache : int, optional
        Cache bytes; default :func:`cache_bytes` ``(3)``.
    factor : int, default CACHE_BATCH_FACTOR
        Batch activations as a multiple of the cache.

    Examples
    --------
    >>> from vidsal_core.saliency.masking import cache_masks_per_batch
    >>> cache_masks_per_batch(2**18, cache=2**24, factor=1)
    64
    >>> cache_masks_per_batch(2**30, cache=2**20)  # always at least one
    1
    """
    _positive_int(bytes_per_mask, "bytes_per_mask")
    _positive_int(factor, "factor")
    cache = cache_bytes(3) if cache is None else _positive_int(cache, "cache")
    return max(1, int(factor * cache // bytes_per_mask))


def batches(count: int, size: int) -> Iterator[torch.Tensor]:
    """Consecutive index ranges ``0..count`` in chunks of ``size``."""
    for start in range(0, count, size):
        yield torch.arange(start, min(start + size, count))


def masked_logits(
    model: nn.Module,
    video: torch.Tensor,
    masks: MaskSet,
    baseline: torch.Tensor,
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    batch_size: int | None = None,
    engine: str = "auto",
) -> torch.Tensor:
    """Logits of every masked copy of ``video``: ``(M, classes)``, evaluated in batches.

    Parameters
    ----------
    model : nn.Module
        In eval mode.
    video : torch.Tensor
        ``(T, C, H, W)``.
    masks : MaskSet
        The masks.
    baseline : torch.Tensor
        ``(T, C, H, W)`` replacement values.
    max_batch_bytes : int, default 512 MiB
        Memory bound of one batch of the full engine (see :func:`masks_per_batch`).
    batch_size : int, optional
        Masks per batch, overriding the memory bound (full engine) or the
        cache-sized batch (incremental engines, :func:`cache_masks_per_batch`).
    engine : {"auto", "incremental", "full"}, default "auto"
        ``"full"``: every masked video through the whole model (the slow
        twin). ``"incremental"``: recompute only what each mask reaches
        (an engine of :data:`INCREMENTAL_ENGINES`; per-frame models:
        :mod:`vidsal_core.saliency.incremental`); refused for a model none
        supports. ``"auto"``: incremental where an engine supports the model,
        else full (with a warning if a supporting engine refuses the video).
        The engines agree up to floating-point rounding.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from vidsal_core.saliency.masking import apply_masks, baseline_video, frame_masks, masked_logits
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 1 * 4 * 4, 3)).eval()
    >>> video, masks = torch.rand(4, 1, 4, 4), frame_masks(4, 4, 4)
    >>> logits = masked_logits(model, video, masks, baseline_video(video), batch_size=2)
    >>> logits.shape
    torch.Size([4, 3])
    >>> torch.allclose(logits, model(apply_masks(video, masks, baseline_video(video))))
    True
    """
    masks.check_video(video)
    if engine not in ENGINES:
        raise ConfigError(f"engine={engine!r}: choose one of {list(ENGINES)}")
    if batch_size is not None:
        _positive_int(batch_size, "batch_size")
    if engine != "full":
        logits = _incremental_logits(model, video, masks, baseline, batch_size, required=engine == "incremental")
        if logits is not None:
            return logits
    size = batch_size if batch_size is not None else masks_per_batch(model, video, max_batch_bytes)
    outputs = []
    with torch.no_grad():
        for indices in batches(len(masks), size):
            outputs.append(model(apply_masks(video, masks, baseline, indices)))
    return check_finite(torch.cat(outputs), "model output on masked videos")


def _incremental_logits(model: nn.Module, video: torch.Tensor, masks: MaskSet, baseline: torch.Tensor,
                        batch_size: int | None, required: bool) -> torch.Tensor | None:
    """The logits from the first engine of :data:`INCREMENTAL_ENGINES` that supports ``model``, or None."""
    import importlib

    for name in INCREMENTAL_ENGINES:
        module = importlib.import_module(name)
        if not module.supports(model):
            continue
        try:
            return module.masked_logits(model, video, masks, baseline, batch_size)
        except ConfigError as error:
            if required:
                raise
            warnings.warn(f"masked_logits falls back to engine='full': {error}", stacklevel=3)
            return None
    if required:
        raise ConfigError(
            f"engine='incremental': no incremental engine supports {type(model).__name__} "
            f"(engines: {list(INCREMENTAL_ENGINES)}); use engine='full' or 'auto'"
        )
    return None
