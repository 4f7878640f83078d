"""Seeded, deterministic training with early stopping on a validation split.

:func:`train_model` trains any classifier of ``(B, T, C, H, W)`` videos on any
:class:`~vidsal_core.data.dataset.VideoDataset` (SynthKTH, real KTH, a user's
clips). It is deterministic on CPU: the same seed, data and configuration give
bit-identical weights. Each epoch's losses and accuracies are kept as curves,
logged, and shown on a progress bar; the weights of the epoch with the best
validation accuracy (ties broken by validation loss) are restored at the end.

Two details matter for explaining the trained models later, in eval mode:

- BatchNorm's running statistics are an exponential average over batches of
  a few clips whose frames are strongly correlated, taken while the weights
  move; on SynthKTH they lag so far behind that eval-mode accuracy swings by
  tens of points from one epoch to the next. Before each validation the
  statistics are recomputed with the current weights over training clips
  ("precise BatchNorm", Wu & Johnson, 2021), so eval mode is what was trained.
- A dataset with a ``set_epoch(epoch)`` method (e.g. :class:`RandomClips`) is
  told the epoch first, so it can cut fresh, seeded clips every epoch.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from vidsal_core.data.dataset import VideoDataset, VideoItem
from vidsal_core.errors import ConfigError
from vidsal_core.models.layout import explaining_layout
from vidsal_core.data.clips import clip_span
from vidsal_core.data.sequences import CLIP_REGIONS

LOGGER = logging.getLogger(__name__)


#: Torch threads of every training of a run (in its process or in a
#: worker process). One, so that a checkpoint does not depend on the machine's
#: cores or on how many runs train side by side. This file is in the checkpoints' code fingerprint, so changing it
#: retrains them.
TRAINING_THREADS = 1


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Torch's intra-op threads set to ``threads`` within the block and restored after (None: leave them)."""
    if threads is None:
        yield
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"threads={threads!r}: expected a positive integer or None")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained.

    Attributes
    ----------
    max_epochs : int, default 30
        Upper bound on epochs.
    patience : int, default 5
        Stop after this many epochs without a better validation score.
    batch_size : int, default 16
        Clips per optimisation step.
    learning_rate : float, default 1e-3
        AdamW learning rate (Loshchilov & Hutter, 2019).
    weight_decay : float, default 1e-4
        AdamW decoupled weight decay.
    seed : int, default 0
        Seeds the initialisation, the shuffling, the augmentation and dropout.
    horizontal_flip : bool, default True
        Mirror each training clip left-right with probability 1/2 (people walk
        both ways in KTH, so the label does not change).
    max_shift : int, default 0
        Translate each training clip by up to this many pixels in each
        direction (edges replicated), the same shift for all its frames.
    max_gradient_norm : float, default 5.0
        Clip the gradient's global norm (Pascanu et al., 2013); 0 turns it off.
    batch_norm_clips : int, default 256
        Training clips over which BatchNorm statistics are recomputed before
        each validation (models without BatchNorm skip this).
    learning_rate_schedule : {"constant", "cosine"}, default "constant"
        ``"cosine"`` anneals the learning rate to 0 over ``max_epochs``, step by
        step (Loshchilov & Hutter, 2017, without restarts).
    """

    max_epochs: int = 30
    patience: int = 5
    batch_size: int = 16
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    horizontal_flip: bool = True
    max_shift: int = 0
    max_gradient_norm: float = 5.0
    batch_norm_clips: int = 256
    learning_rate_schedule: str = "constant"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str = "training") -> "TrainConfig":
        """Build from a mapping (a profile section), naming unknown or bad keys.

        Parameters
        ----------
        values : mapping
            Field names to values.
        source : str
            Where the mapping comes from, for error messages.
        """
        names = {item.name: item.type for item in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ConfigError(f"{source}: unknown training key(s) {unknown}; expected some of {sorted(names)}")
        config = cls(**dict(values))
        config.check(source)
        return config

    def check(self, source: str = "training") -> None:
        """Raise :class:`ConfigError` on a value that cannot be honoured."""
        for name in ("max_epochs", "patience", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{source}: {name}={value!r}: expected a positive integer")
        for name in ("max_shift", "batch_norm_clips"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{source}: {name}={value!r}: expected a non-negative integer")
        for name in ("learning_rate", "weight_decay", "max_gradient_norm"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{source}: {name}={value!r}: expected a non-negative number")
        if self.learning_rate_schedule not in ("constant", "cosine"):
            raise ConfigError(f"{source}: learning_rate_schedule={self.learning_rate_schedule!r}: expected 'constant' or 'cosine'")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"{source}: seed={self.seed!r}: expected an integer")

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a plain dictionary."""
        return dataclasses.asdict(self)


class TaskDataset(VideoDataset):
    """A dataset seen through a task's classes: labels re-indexed into ``classes``.

    A corpus labels videos by KTH's six actions; the walking-vs-running task
    has two classes. This wrapper maps each item's label (an index into the
    wrapped dataset's ``classes``) to its index in the task's ``classes``.

    Parameters
    ----------
    dataset : VideoDataset
        The wrapped dataset.
    classes : sequence of str
        The task's classes, in output order.
    """

    def __init__(self, dataset: VideoDataset, classes: Sequence[str]) -> None:
        self.dataset = dataset
        self.classes = tuple(classes)
        source_classes = tuple(getattr(dataset, "classes", ()))
        self._mapping = {
            index: self.classes.index(name) for index, name in enumerate(source_classes) if name in self.classes
        }
        missing = sorted(set(self.classes) - set(source_classes))
        if missing:
            raise ConfigError(f"classes={list(self.classes)}: {missing} not among the dataset's classes {list(source_classes)}")

    def __len__(self) -> int:
        return len(self.dataset)

    def _task_label(self, label: int, index: int) -> int:
        if label not in self._mapping:
            raise ConfigError(
                f"item {index} of the dataset has label {label} "
                f"({self.dataset.classes[label]!r}), which is not one of the task's classes {list(self.classes)}"
            )
        return self._mapping[label]

    def __getitem__(self, index: int) -> VideoItem:
        item = self.dataset[index]
        return dataclasses.replace(item, label=self._task_label(item.label, index))

    def labels(self) -> list[int]:
        return [self._task_label(label, index) for index, label in enumerate(self.dataset.labels())]


class RandomClips(VideoDataset):
    """Clips cut from whole videos at fresh random offsets every epoch.

    Item ``i`` is a clip of video ``i // clips_per_video``, starting at an offset
    drawn from a generator seeded with ``(seed, epoch, i)``: the clips change
    from epoch to epoch but are the same in every run.

    Parameters
    ----------
    videos : VideoDataset
        Whole videos (e.g. ``corpus.dataset(split="train")``), ideally cached.
    clip_length : int
        Frames per clip.
    step : int, default 1
        Distance between the clip's frames in the video.
    clips_per_video : int, default 1
        Clips of each video per epoch.
    seed : int, default 0
        Seeds the offsets.
    region : {"anywhere", "acting"}, default "anywhere"
        ``"acting"`` draws each clip inside the video's acting ranges
        (``item.meta["acting_ranges"]``: SynthKTH's ground truth, or KTH's
        ``00sequences.txt``), KTH's practice, with
        :func:`vidsal_core.data.sequences.acting_offsets`; a video whose
        items carry no ranges is acting throughout. ``"anywhere"`` draws
        from every offset that fits.
    """

    def __init__(self, videos: VideoDataset, clip_length: int, step: int = 1, clips_per_video: int = 1, seed: int = 0,
                 region: str = "anywhere") -> None:

        if region not in CLIP_REGIONS:
            raise ConfigError(f"region={region!r}: expected one of {list(CLIP_REGIONS)}")
        self.videos, self.clip_length, self.step, self.region = videos, clip_length, step, region
        self.clips_per_video, self.seed, self.epoch = clips_per_video, seed, 0
        self.classes = tuple(videos.classes)
        self.span = clip_span(clip_length, step)
        if clips_per_video < 1:
            raise ConfigError(f"clips_per_video={clips_per_video!r}: expected a positive integer")

    def set_epoch(self, epoch: int) -> None:
        """Cut the clips of ``epoch``."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.videos) * self.clips_per_video

    def offset(self, index: int, n_frames: int, ranges: Sequence[Sequence[int]] | None = None) -> int:
        """Seeded offset of clip ``index`` in a video of ``n_frames`` frames (inside ``ranges`` when acting)."""
        if n_frames < self.span:
            raise ConfigError(
                f"RandomClips: video {index // self.clips_per_video} has {n_frames} frames, "
                f"fewer than a clip of {self.clip_length} frames at step {self.step} spans ({self.span})"
            )
        generator = np.random.default_rng([self.seed, self.epoch, index])
        if self.region == "acting" and ranges is not None:
            from vidsal_core.data.sequences import acting_offsets

            allowed = acting_offsets([tuple(item) for item in ranges], n_frames, self.span)
            return int(allowed[generator.integers(0, len(allowed))])
        return int(generator.integers(0, n_frames - self.span + 1))

    def __getitem__(self, index: int) -> VideoItem:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} clips")
        item = self.videos[index // self.clips_per_video]
        start = self.offset(index, item.video.shape[0], item.meta.get("acting_ranges"))
        frames = list(range(start, start + self.span, self.step)) if self.step else [start] * self.clip_length
        meta = dict(item.meta, clip_offset=start, clip_step=self.step)
        return dataclasses.replace(item, video=item.video[frames], meta=meta, truth=None)

    def labels(self) -> list[int]:
        return [label for label in self.videos.labels() for _ in range(self.clips_per_video)]


@dataclass
class TrainResult:
    """What :func:`train_model` returns besides the trained model.

    Attributes
    ----------
    curves : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``train_accuracy``,
        ``validation_loss``, ``validation_accuracy``, ``seconds``.
    best_epoch : int
        Epoch (1-based) whose weights were kept.
    epochs_run : int
        Epochs trained before stopping.
    seconds : float
        Wall-clock time of the whole training.
    train_clips_per_second : float
        Training clips per second over optimisation steps only.
    """

    curves: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    epochs_run: int = 0
    seconds: float = 0.0
    train_clips_per_second: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The result as a plain dictionary."""
        return dataclasses.asdict(self)


@contextlib.contextmanager
def deterministic_algorithms() -> Iterator[None]:
    """Ask PyTorch for deterministic kernels inside the block, restoring the setting after."""
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)


def collate(items: Sequence[VideoItem], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack items into ``(B, T, C, H, W)`` videos and ``(B,)`` labels on ``device``."""
    shapes = {tuple(item.video.shape) for item in items}
    if len(shapes) > 1:
        raise ConfigError(f"a batch mixes videos of shapes {sorted(shapes)}; clips must share (T, C, H, W)")
    videos = torch.stack([item.video for item in items]).to(device=device, dtype=torch.float32)
    labels = torch.tensor([item.label for item in items], dtype=torch.long, device=device)
    return videos, labels


def flip_some(videos: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror each video left-right with probability 1/2 (draws from ``generator``)."""
    flips = torch.rand(videos.shape[0], generator=generator) < 0.5
    if not flips.any():
        return videos
    videos = videos.clone()
    videos[flips.to(videos.device)] = videos[flips.to(videos.device)].flip(-1)
    return videos


def shift_some(videos: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each video by a random whole-pixel shift of at most ``max_shift`` (edges replicated)."""
    if max_shift == 0:
        return videos
    batch, time, channels, height, width = videos.shape
    padded = F.pad(videos.reshape(batch, time * channels, height, width), (max_shift,) * 4, mode="replicate")
    starts = torch.randint(0, 2 * max_shift + 1, (batch, 2), generator=generator).tolist()
    shifted = [frames[:, top:top + height, left:left + width] for frames, (top, left) in zip(padded, starts)]
    return torch.stack(shifted).reshape(videos.shape)


def batches_of(size: int, batch_size: int, generator: torch.Generator | None) -> list[list[int]]:
    """Index batches over ``range(size)``, shuffled when a generator is given."""
    order = torch.randperm(size, generator=generator).tolist() if generator is not None else list(range(size))
    return [order[start:start + batch_size] for start in range(0, size, batch_size)]


def train_epoch(
    model: nn.Module,
    dataset: VideoDataset,
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    generator: torch.Generator,
    progress: bool,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> tuple[float, float, int]:
    """One pass over ``dataset``: mean loss, accuracy and the number of clips seen."""
    model.train()
    device = next(model.parameters()).device
    total_loss, correct, seen = 0.0, 0, 0
    batches = batches_of(len(dataset), config.batch_size, generator)
    for indices in tqdm(batches, desc="batches", leave=False, disable=not progress):
        videos, labels = collate([dataset[index] for index in indices], device)
        if config.horizontal_flip:
            videos = flip_some(videos, generator)
        videos = shift_some(videos, config.max_shift, generator)
        logits = model(videos)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.max_gradient_norm > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.max_gradient_norm)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total_loss += loss.item() * len(indices)
        correct += int((logits.argmax(dim=1) == labels).sum())
        seen += len(indices)
    return total_loss / seen, correct / seen, seen


def batch_norm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """The model's BatchNorm layers."""
    return [module for module in model.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def recompute_batch_norm(model: nn.Module, dataset: VideoDataset, clips: int, batch_size: int, seed: int = 0) -> None:
    """Replace BatchNorm running statistics by their average over ``clips`` training clips.

    Precise BatchNorm (Wu & Johnson, 2021, "Rethinking 'Batch' in BatchNorm"):
    the statistics are a plain average over batches computed with the current
    weights, not an exponential average over weights that kept changing. The
    clips are a random subset of ``dataset`` drawn with ``seed``.
    """
    layers = batch_norm_layers(model)
    if not layers or clips == 0:
        return
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average
    model.train()
    device = next(model.parameters()).device
    try:
        subset = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:clips].tolist()
        for start in range(0, len(subset), batch_size):
            model(collate([dataset[index] for index in subset[start:start + batch_size]], device)[0])
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        model.eval()


@torch.no_grad()
def evaluate_loss(model: nn.Module, dataset: VideoDataset, batch_size: int) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` (eval mode) on ``dataset``."""
    model.eval()
    device = next(model.parameters()).device
    total_loss, correct = 0.0, 0
    for indices in batches_of(len(dataset), batch_size, None):
        videos, labels = collate([dataset[index] for index in indices], device)
        logits = model(videos)
        total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
        correct += int((logits.argmax(dim=1) == labels).sum())
    return total_loss / len(dataset), correct / len(dataset)


def _check_task(model: nn.Module, train: VideoDataset, validation: VideoDataset) -> None:
    """Raise :class:`ConfigError` when datasets or model disagree on the classes."""
    if len(train) == 0 or len(validation) == 0:
        raise ConfigError(f"train_model: empty dataset (train {len(train)}, validation {len(validation)} videos)")
    outputs = getattr(model, "config", {}).get("num_classes")
    classes = tuple(getattr(train, "classes", ()))
    if outputs is not None and classes and outputs != len(classes):
        raise ConfigError(
            f"train_model: the model has num_classes={outputs} but the training data has "
            f"{len(classes)} classes {list(classes)}; wrap the datasets in TaskDataset(dataset, classes)"
        )
    if tuple(getattr(validation, "classes", classes)) != classes:
        raise ConfigError(
            f"train_model: training classes {list(classes)} differ from validation classes "
            f"{list(getattr(validation, 'classes', ()))}"
        )


def _better(score: tuple[float, float], best: tuple[float, float] | None) -> bool:
    """Higher validation accuracy wins; at equal accuracy, lower validation loss."""
    return best is None or score[0] > best[0] or (score[0] == best[0] and score[1] < best[1])


def train_model(
    model: nn.Module,
    train: VideoDataset,
    validation: VideoDataset,
    config: TrainConfig = TrainConfig(),
    progress: bool = True,
    layout: str = "auto",
) -> TrainResult:
    """Train ``model`` in place with AdamW and early stopping; return its curves.

    Parameters
    ----------
    model : nn.Module
        A classifier of ``(B, T, C, H, W)`` videos, on the device to train on.
    train, validation : VideoDataset
        Training and validation clips; every item's label indexes ``classes``.
        Wrap a corpus dataset in :class:`TaskDataset` for a subset of classes.
    config : TrainConfig
        Epochs, patience, batch size, optimiser and seed.
    progress : bool, default True
        Show a tqdm progress bar.
    layout : {"auto", "default"}, default "auto"
        ``"auto"`` trains a 3-D CNN (C3D) in the channels-last layout
        (:func:`vidsal_core.models.layout.explaining_layout`), where oneDNN's
        kernels make a default-size C3D training step about 4.7× faster on this
        project's CPU; ``"default"`` keeps PyTorch's layout (the slow twin: the
        same computation up to float32 summation order, equal in float64,
        ``tests/test_training.py``). Either way the model is returned in the
        default layout, and other models are not touched.

    Returns
    -------
    TrainResult
        Curves and timing; the model holds the best epoch's weights, in eval mode.

    Notes
    -----
    On CPU the result depends only on the seed, data, configuration and the
    number of threads (deterministic kernels, one generator for shuffling and
    augmentation, the global generator re-seeded for dropout and restored
    afterwards). Another thread count changes the order of floating-point
    sums, by about 1e-7 at first, and over many epochs gives another, equally
    good, model; the manifest records the thread count of every checkpoint.
    """
    config.check()
    _check_task(model, train, validation)
    if layout not in ("auto", "default"):
        raise ConfigError(f"layout={layout!r}: expected 'auto' or 'default'")
    if layout == "auto":
        explaining_layout(model)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = None
    if config.learning_rate_schedule == "cosine":
        steps = config.max_epochs * -(-len(train) // config.batch_size)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    result = TrainResult()
    best_score, best_state, optimisation_seconds, clips_seen = None, None, 0.0, 0
    start = time.perf_counter()
    with deterministic_algorithms(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        epochs = tqdm(range(1, config.max_epochs + 1), desc=getattr(model, "model_name", "training"), disable=not progress)
        for epoch in epochs:
            epoch_start = time.perf_counter()
            if hasattr(train, "set_epoch"):
                train.set_epoch(epoch)
            train_loss, train_accuracy, seen = train_epoch(model, train, optimizer, config, generator, progress, scheduler)
            optimisation_seconds += time.perf_counter() - epoch_start
            clips_seen += seen
            recompute_batch_norm(model, train, config.batch_norm_clips, config.batch_size, config.seed + epoch)
            validation_loss, validation_accuracy = evaluate_loss(model, validation, config.batch_size)
            result.curves.append({
                "epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy,
                "validation_loss": validation_loss, "validation_accuracy": validation_accuracy,
                "seconds": time.perf_counter() - epoch_start,
            })
            LOGGER.info("epoch %d: %s", epoch, result.curves[-1])
            epochs.set_postfix(loss=f"{train_loss:.3f}", validation_accuracy=f"{validation_accuracy:.3f}")
            if _better((validation_accuracy, validation_loss), best_score):
                best_score, best_state, result.best_epoch = (validation_accuracy, validation_loss), copy.deepcopy(model.state_dict()), epoch
            result.epochs_run = epoch
            if epoch - result.best_epoch >= config.patience:
                break
        epochs.close()
    model.load_state_dict(best_state)
    model.to(memory_format=torch.contiguous_format)
    model.eval()
    result.seconds = time.perf_counter() - start
    result.train_clips_per_second = clips_seen / optimisation_seconds if optimisation_seconds > 0 else 0.0
    return result
