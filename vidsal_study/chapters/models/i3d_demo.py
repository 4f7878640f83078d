"""The Kinetics-400 I3D on real footage: top-5 classes per window, and a deep Taylor heatmap strip.

Run ``python -m vidsal_study.chapters.models.i3d_demo`` after fetching the weights
(``python -m vidsal_core.models.i3d_weights``) and the footage
(``python -m vidsal_core.data.footage``). For each clip it classifies a few
evenly spaced windows and prints the five most probable classes. Frames are
resized so that the shorter side is 224 pixels and centre-cropped to 224×224
(DeepMind resized Kinetics to 256 first; ``--shorter-side 256`` does that, at
the cost of cutting people at the edges of these wide, distant shots); then it explains the
top class of one window with deep Taylor decomposition
(:func:`vidsal_core.saliency.lrp.relevance`) and writes a strip of frames over
their relevance maps (summed over colour channels; diverging colour map
centred on zero, red for positive relevance, blue for negative, clipped at
the 98th percentile of |relevance| as captum's ``outlier_perc=2``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from vidsal_core.data.footage import CATALOGUE, DATA_DIR, available_footage, load_footage
from vidsal_core.errors import CheckpointNotFoundError, ConfigError
from vidsal_study.processes import study_process
from vidsal_core.models.i3d import InceptionI3d, load_i3d, prepare_clip, top_classes
from vidsal_core.models.kinetics_classes import KINETICS_400_CLASSES
from vidsal_core.data.video import read_video
from vidsal_core.models.i3d import DEFAULT_WEIGHTS_PATH
from vidsal_core.plot import colourise, frame_strip
from vidsal_core.saliency.lrp import relevance

#: Where the heatmap strip goes unless told otherwise.
DEFAULT_STRIP_PATH = DATA_DIR / "figures" / "i3d_deep_taylor_bikes.png"


@dataclass
class WindowPrediction:
    """The top classes of one window of a clip."""

    clip: str
    start: int
    frames: int
    fps: float
    classes: list[tuple[str, float]]

    def describe(self) -> str:
        """One line: clip, frame range, seconds, classes with probabilities."""
        seconds = f"{self.start / self.fps:5.1f}-{(self.start + self.frames) / self.fps:5.1f} s"
        ranked = ", ".join(f"{name} {probability:.2f}" for name, probability in self.classes)
        return f"{self.clip:12s} frames {self.start:3d}-{self.start + self.frames - 1:3d} ({seconds}): {ranked}"


def window_starts(frame_count: int, frames: int, windows: int) -> list[int]:
    """First frames of ``windows`` evenly spaced windows of ``frames`` frames in a clip."""
    if frames > frame_count:
        raise ConfigError(f"frames={frames}: longer than the clip's {frame_count} frames")
    starts = np.linspace(0, frame_count - frames, num=max(windows, 1)).round().astype(int)
    return sorted(set(int(start) for start in starts))


def load_window(name: str, start: int, frames: int, shorter_side: int = 224) -> torch.Tensor:
    """Frames ``start`` to ``start + frames`` of a catalogue clip, resized and centre-cropped: ``(T, 3, 224, 224)``."""
    return prepare_clip(load_footage(name, start=start, max_frames=frames), shorter_side=shorter_side)


def classify_windows(
    model: InceptionI3d, name: str, frames: int = 32, windows: int = 4, top: int = 5, shorter_side: int = 224
) -> list[WindowPrediction]:
    """Top classes of evenly spaced windows of catalogue clip ``name``."""
    clip = CATALOGUE[name]
    predictions = []
    for start in window_starts(clip.frame_count, frames, windows):
        with torch.no_grad():
            logits = model(load_window(name, start, frames, shorter_side)[None])
        predictions.append(WindowPrediction(name, start, frames, clip.fps, top_classes(logits, top)[0]))
    return predictions


def missing_footage(names: Sequence[str]) -> list[str]:
    """The clips of ``names`` not fetched yet (``python -m vidsal_core.data.footage`` fetches them), sorted."""
    return sorted(set(names) - set(available_footage()))


def footage_table(model: InceptionI3d, settings: Mapping[str, Any]) -> pd.DataFrame:
    """The five most probable Kinetics classes of evenly spaced windows of each fetched clip (the models chapter's).

    Parameters
    ----------
    model : InceptionI3d
        The Kinetics-400 I3D (:func:`~vidsal_core.models.i3d.load_i3d`).
    settings : mapping
        The profile's ``models_chapter.i3d``: ``footage`` (clip names; those not
        fetched are left out), ``frames`` (per window, at most the clip's),
        ``windows`` (per clip), ``crop_size`` and ``shorter_side``
        (:func:`~vidsal_core.models.i3d.prepare_clip`).

    Returns
    -------
    pandas.DataFrame
        One row per window: ``clip``, ``frames`` (first–last), ``what a person sees``
        (the catalogue's description), ``top 1`` … ``top 5`` (``label (probability)``).
    """
    for key in ("footage", "frames", "windows", "crop_size", "shorter_side"):
        if key not in settings:
            raise ConfigError(f"settings: no {key!r} (expected the profile's models_chapter.i3d)")
    missing = set(missing_footage(settings["footage"]))
    rows = []
    for name in [clip for clip in settings["footage"] if clip not in missing]:
        frames = min(int(settings["frames"]), CATALOGUE[name].frame_count)
        for start in window_starts(CATALOGUE[name].frame_count, frames, int(settings["windows"])):
            clip = prepare_clip(load_footage(name, start=start, max_frames=frames),
                                crop_size=int(settings["crop_size"]), shorter_side=int(settings["shorter_side"]))
            with torch.no_grad():
                ranked = top_classes(model(clip[None]), 5)[0]
            rows.append({"clip": name, "frames": f"{start}–{start + frames - 1}",
                         "what a person sees": CATALOGUE[name].description,
                         **{f"top {k + 1}": f"{label} ({p:.2f})" for k, (label, p) in enumerate(ranked)}})
    return pd.DataFrame(rows)


def top1_lines(table: pd.DataFrame) -> str:
    """A Markdown list: per clip of a :func:`footage_table`, its description and every window's top class.

    Examples
    --------
    >>> table = pd.DataFrame({"clip": ["vtest", "vtest"], "top 1": ["walking (0.40)", "dancing (0.30)"]})
    >>> print(top1_lines(table))
    - **vtest** (a fixed camera above a path and a lawn: pedestrians walking across): walking (0.40); dancing (0.30)
    """
    tops = table.groupby("clip")["top 1"].apply(lambda labels: "; ".join(labels))
    return "\n".join(f"- **{clip}** ({CATALOGUE[clip].description}): {labels}" for clip, labels in tops.items())


def own_clip_text(video: str | Path | None, settings: Mapping[str, Any]) -> str:
    """The Kinetics I3D's five most probable classes for a user's own clip (its first ``settings["frames"]`` frames).

    Without a clip (None) or without the weights, a line saying how to get them.

    Parameters
    ----------
    video : str, Path or None
        Any file OpenCV reads.
    settings : mapping
        ``frames``, ``crop_size`` and ``shorter_side`` (the profile's ``models_chapter.i3d``).
    """

    if video is None:
        return "No clip given (video=None): run with -p video path/to/clip.mp4 to classify yours here."
    if not DEFAULT_WEIGHTS_PATH.is_file():
        return f"No I3D weights at {DEFAULT_WEIGHTS_PATH}: run make data-assets first."
    own = read_video(video, grayscale=False, max_frames=int(settings["frames"]))
    clip = prepare_clip(own, crop_size=int(settings["crop_size"]), shorter_side=int(settings["shorter_side"]))
    with torch.no_grad():
        ranked = top_classes(load_i3d()(clip[None]), 5)[0]
    return "\n".join([f"{video}: {own.shape[0]} frames of {own.shape[2]}x{own.shape[3]}"]
                     + [f"  {label:30s} {probability:.3f}" for label, probability in ranked])


def deep_taylor_strip(
    model: InceptionI3d,
    video: torch.Tensor,
    target: int,
    path: str | Path,
    first_frame: int = 0,
    every: int = 2,
    title: str = "",
) -> Path:
    """Write a PNG of every ``every``-th frame of ``video`` above its deep Taylor relevance for ``target``.

    Parameters
    ----------
    model : InceptionI3d
        In eval mode.
    video : torch.Tensor
        ``(T, 3, H, W)`` in [0, 1], as the model sees it.
    target : int
        Kinetics class index to explain.
    path : str or path-like
        Output PNG.
    first_frame : int, default 0
        Index of the video's first frame in its clip, for the frame labels.
    every : int, default 2
        Show every ``every``-th frame.
    title : str, optional
        Figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt


    maps = relevance(model, video[None], target, method="deep_taylor")[0].sum(dim=1)
    shown = list(range(0, video.shape[0], every))
    labels = [first_frame + index for index in shown]
    figure, axes = plt.subplots(2, len(shown), figsize=(1.6 * len(shown), 4.1), squeeze=False)
    frame_strip(axes[0], [video[index].permute(1, 2, 0).numpy() for index in shown], labels, label="frames")
    frame_strip(axes[1], colourise(maps.numpy(), signed=True)[shown], labels, label="deep Taylor")
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _strip_target(model: InceptionI3d, video: torch.Tensor, class_name: str | None) -> tuple[str, float]:
    """The class to explain (``class_name``, or the top class) and its probability for ``video``."""
    if class_name is not None and class_name not in KINETICS_400_CLASSES:
        raise ConfigError(f"--strip-class {class_name!r}: not a Kinetics-400 class")
    with torch.no_grad():
        probabilities = torch.softmax(model(video[None]).double(), dim=1)[0]
    index = KINETICS_400_CLASSES.index(class_name) if class_name is not None else int(probabilities.argmax())
    return KINETICS_400_CLASSES[index], float(probabilities[index])


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clips", nargs="*", default=None, help=f"catalogue clips (default all: {', '.join(CATALOGUE)})"
    )
    parser.add_argument("--frames", type=int, default=32, help="frames per window (default 32)")
    parser.add_argument("--windows", type=int, default=6, help="windows per clip (default 6)")
    parser.add_argument("--shorter-side", type=int, default=224, help="resize the shorter side to this (default 224)")
    parser.add_argument("--strip-clip", default="bikes", help="clip of the heatmap strip (default bikes)")
    parser.add_argument("--strip-start", type=int, default=104, help="first frame of the strip (default 104)")
    parser.add_argument("--strip-frames", type=int, default=32, help="frames explained (default 32)")
    parser.add_argument("--strip-class", default=None, help="Kinetics class to explain (default the top class)")
    parser.add_argument("--output", type=Path, default=DEFAULT_STRIP_PATH, help="PNG of the strip")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the top-5 classes per window of each clip; write the deep Taylor strip."""
    study_process()
    arguments = _parse(argv)
    try:
        model = load_i3d()
    except CheckpointNotFoundError as error:
        print(error)
        return 1
    present = available_footage()
    for name in arguments.clips if arguments.clips is not None else list(CATALOGUE):
        if name not in present:
            print(f"{name}: not fetched; run `python -m vidsal_core.data.footage`")
            continue
        predictions = classify_windows(
            model, name, arguments.frames, arguments.windows, shorter_side=arguments.shorter_side
        )
        for prediction in predictions:
            print(prediction.describe())
    if arguments.strip_clip in present:
        video = load_window(
            arguments.strip_clip, arguments.strip_start, arguments.strip_frames, arguments.shorter_side
        )
        name, probability = _strip_target(model, video, arguments.strip_class)
        title = (f"{arguments.strip_clip}, deep Taylor relevance for '{name}' (p = {probability:.2f}); diverging "
                 "map centred on 0 (red +, blue -; deep Taylor gives no -), clipped at the 98th percentile of |R|")
        path = deep_taylor_strip(model, video, KINETICS_400_CLASSES.index(name), arguments.output,
                                 arguments.strip_start, every=max(1, arguments.strip_frames // 8), title=title)
        print(f"deep Taylor strip of {arguments.strip_clip} frames {arguments.strip_start}-"
              f"{arguments.strip_start + arguments.strip_frames - 1} for '{name}': {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
