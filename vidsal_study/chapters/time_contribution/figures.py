"""The time contribution chapter's figures: they draw what the chapter's study computed."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib
import numpy as np

from vidsal_core.plot import as_numpy, frame_strip, line_with_band
from vidsal_study.chapters.time_contribution.study import MODEL_NAMES
from vidsal_study.chapters.time_contribution.study import position_band
from vidsal_study.chapters.time_contribution.study import MEASURES


def _run_name(run: str) -> str:

    return MODEL_NAMES.get(run, run)


#: Colour of each model of the time-contribution chapter.
TIME_CONTRIBUTION_COLOURS = {"frame_lstm_binary": "tab:blue", "ica_lstm_binary": "tab:orange"}


#: Heights of a clip's strip of frames, its bars and its truth in :func:`time_contribution_examples`.
_EXAMPLE_HEIGHTS = [1.0, 1.5, 1.1]


def contribution_bars(axis: Any, curves: Mapping[str, Any], keyframes: Sequence[int], title: str | None = None) -> None:
    """Bars of time contribution per frame in percentage points, one series per model; keyframes as red triangles.

    Parameters
    ----------
    axis : matplotlib axes
        Where to draw.
    curves : mapping
        Run → ``(T,)`` probability drop per frame (0–1), drawn side by side in :data:`TIME_CONTRIBUTION_COLOURS`.
    keyframes : sequence of int
        Keyframe indices, marked above the axes.
    title : str, optional
        The axes' title.
    """
    frames = np.arange(len(next(iter(curves.values()))))
    width = 0.8 / len(curves)
    for position, (name, curve) in enumerate(curves.items()):
        axis.bar(frames - 0.4 + width * (position + 0.5), 100.0 * np.asarray(curve), width,
                 label=_run_name(name), color=TIME_CONTRIBUTION_COLOURS.get(name))
    axis.axhline(0, color="black", linewidth=0.5)
    axis.plot(keyframes, np.full(len(keyframes), 1.0), "v", color="red", markersize=6, label="keyframe",
              clip_on=False, linestyle="none", transform=axis.get_xaxis_transform())
    axis.set_xlim(-0.6, len(frames) - 0.4)
    axis.set_ylabel("prob. drop (pp)")
    if title:
        axis.set_title(title, fontsize=9, loc="left")


def truth_curves(axis: Any, visibility: Any, limb_motion: Any, differences: Any, keyframes: Sequence[int],
                 threshold: float) -> None:
    """SynthKTH's truth of a clip (visibility, limb motion scaled to its maximum) and the detector's frame difference.

    In-view frames (visibility at least ``threshold``) are shaded, keyframes drawn as red vertical lines.
    """
    frames = np.arange(len(visibility))
    axis.fill_between(frames, 0, 1, where=np.asarray(visibility) >= threshold, step="mid", color="0.9",
                      label="in view")
    axis.plot(frames, visibility, color="tab:green", label="visibility")
    axis.plot(frames, np.asarray(limb_motion) / max(np.max(limb_motion), 1e-9), color="tab:purple",
              label="limb motion (scaled)")
    axis.plot(frames, np.asarray(differences) / max(np.max(differences), 1e-9), color="0.4", linestyle=":",
              label="frame difference (scaled)")
    for frame in keyframes:
        axis.axvline(frame, color="red", linewidth=0.8, alpha=0.6)
    axis.set_xlim(-0.6, len(frames) - 0.4)
    axis.set_ylim(0, 1.05)
    axis.set_xlabel("frame")


def shown_frames(n_frames: int, keyframes: Sequence[int], count: int = 10) -> list[int]:
    """The frames a strip shows: the keyframes, then evenly spread frames far from them, ``count`` in all, in order.

    Examples
    --------
    >>> shown_frames(30, [4, 20], count=4)
    [4, 10, 20, 29]
    """
    count = min(count, n_frames)
    chosen = list(dict.fromkeys(int(k) for k in keyframes))[:count]
    spread = np.linspace(0, n_frames - 1, count).round().astype(int)
    for frame in sorted(spread, key=lambda f: -min([abs(f - other) for other in chosen] or [n_frames])):
        if len(chosen) >= count:
            break
        if frame not in chosen:
            chosen.append(int(frame))
    return sorted(chosen)


def keyframe_strip(figure: Any, spec: Any, video: Any, keyframes: Sequence[int], label: str) -> list:
    """A strip of a clip's frames (:func:`shown_frames`) in ``spec`` of ``figure``, keyframes framed in red.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    spec : matplotlib SubplotSpec
        The cell of the figure's grid the strip fills.
    video : array-like
        ``(T, 1, H, W)`` (or ``(T, H, W)``) in [0, 1].
    keyframes : sequence of int
        Keyframe indices.
    label : str
        The strip's label.

    Returns
    -------
    list of matplotlib axes
        One per frame shown.
    """
    from matplotlib.gridspec import GridSpecFromSubplotSpec

    frames = shown_frames(video.shape[0], keyframes)
    inner = GridSpecFromSubplotSpec(1, len(frames), subplot_spec=spec, wspace=0.05)
    axes = [figure.add_subplot(inner[0, i]) for i in range(len(frames))]
    images = as_numpy(video)[frames]
    frame_strip(axes, images[:, 0] if images.ndim == 4 else images, frames, label=label, cmap="gray", vmin=0, vmax=1)
    keys = {int(k) for k in keyframes}
    for axis, frame in zip(axes, frames):
        if frame in keys:
            axis.title.set_color("red")
            for spine in axis.spines.values():
                spine.set_edgecolor("red")
                spine.set_linewidth(2)
    return axes


def _band(study: Any, run: str, curve: Any) -> dict:

    return position_band(100.0 * np.stack([curve(record) for record in study.records[run]]), study.groups(run),
                         study.settings.resamples)


def time_contribution_examples(study: Any, examples: Mapping[str, int], videos: Mapping[str, Any]):
    """An example clip per class: its frames, each model's time contribution, and SynthKTH's truth under it.

    Parameters
    ----------
    study : Study
        :func:`vidsal_study.chapters.time_contribution.study.run_study`'s result.
    examples : mapping
        Action → index of its example record (the same clip for every run).
    videos : mapping
        Action → the example's ``(T, 1, H, W)`` clip.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpec

    runs = list(study.records)
    first = study.records[runs[0]]
    figure = plt.figure(figsize=(10, 4.3 * len(examples)))
    outer = GridSpec(3 * len(examples), 1, figure=figure, height_ratios=_EXAMPLE_HEIGHTS * len(examples), hspace=0.5,
                     right=0.78, left=0.08, top=0.97, bottom=0.06)
    for block, (action, index) in enumerate(examples.items()):
        record = first[index]
        keyframe_strip(figure, outer[3 * block], videos[action], record["keyframes"], action)
        bars = figure.add_subplot(outer[3 * block + 1])
        contribution_bars(bars, {run: study.records[run][index]["contribution"][1] for run in runs},
                          record["keyframes"], title=f"{action}: person {record['person']}, {record['scenario']}")
        bars.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        truth = figure.add_subplot(outer[3 * block + 2], sharex=bars)
        truth_curves(truth, record["visibility"], record["limb_motion"], record["differences"], record["keyframes"],
                     study.settings.in_view_threshold)
        truth.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.05))
        if block < len(examples) - 1:
            truth.set_xlabel("")
    return figure


def time_contribution_windows(study: Any):
    """Mean time contribution per frame position for each window (95 % bands over persons), a panel per model.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    runs = list(study.records)
    figure, axes = plt.subplots(1, len(runs), figsize=(9, 3), sharey=True, squeeze=False)
    for axis, run in zip(axes[0], runs):
        for window in study.settings.windows:
            band = _band(study, run, lambda record: record["contribution"][window])
            line_with_band(axis, np.arange(len(band["mean"])), band["mean"], band["low"], band["high"],
                           label=f"window {window}")
        axis.axhline(0, color="black", linewidth=0.5)
        axis.set_title(_run_name(run), fontsize=9)
        axis.set_xlabel("frame")
    axes[0][0].set_ylabel("mean prob. drop (pp)")
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def time_contribution_positions(study: Any):
    """Left: mean single-frame time contribution per frame position; right: the accuracy drop; a line per model.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    runs = list(study.records)
    figure, axes = plt.subplots(1, 2, figsize=(9, 3))
    frames = np.arange(len(study.records[runs[0]][0]["visibility"]))
    for run in runs:
        for axis, curve in zip(axes, (lambda record: record["contribution"][1], lambda record: record["accuracy_drop"])):
            band = _band(study, run, curve)
            line_with_band(axis, frames, band["mean"], band["low"], band["high"], label=_run_name(run),
                           colour=TIME_CONTRIBUTION_COLOURS.get(run))
    for axis, label in zip(axes, ["mean prob. drop (pp)", "accuracy drop (pp)"]):
        axis.axhline(0, color="black", linewidth=0.5)
        axis.set_xlabel("masked frame")
        axis.set_ylabel(label)
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def time_contribution_agreement(study: Any):
    """Every agreement measure above chance (ρ, or AUC − 0.5) with its 95 % interval, a marker per model.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    measures = list(MEASURES)
    figure, axis = plt.subplots(figsize=(8, 3.4))
    for offset, run in zip((-0.15, 0.15), study.records):
        for row, name in enumerate(measures):
            estimate = study.estimate(run, name)
            null = 0.5 if name.startswith("auc") else 0.0
            axis.errorbar(estimate.mean - null, row + offset, xerr=[[estimate.mean - estimate.low],
                          [estimate.high - estimate.mean]], fmt="o", color=TIME_CONTRIBUTION_COLOURS.get(run),
                          markersize=4, capsize=2, label=_run_name(run) if row == 0 else None)
    axis.axvline(0, color="black", linewidth=0.6)
    axis.set_yticks(range(len(measures)), [MEASURES[name] + (" − 0.5" if name.startswith("auc") else "")
                                           for name in measures], fontsize=7)
    axis.invert_yaxis()
    axis.set_xlabel("agreement above chance (ρ, or AUC − 0.5)")
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    return figure


def time_contribution_clips(panels: Sequence[tuple[str, Any, Any, Sequence[int]]], run: str):
    """A block per clip: its frames (keyframes in red) and its time contribution under them.

    Parameters
    ----------
    panels : sequence of (title, video, contribution, keyframes)
        Each clip (e.g. :class:`~vidsal_study.chapters.time_contribution.study.ClipPanel`): its title, the
        ``(T, 1, H, W)`` clip, its ``(T,)`` probability drop and its keyframe indices.
    run : str
        The model whose colour the bars take.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpec

    figure = plt.figure(figsize=(9.5, 2.6 * len(panels)))
    outer = GridSpec(2 * len(panels), 1, figure=figure, height_ratios=[1.0, 1.4] * len(panels), hspace=0.9)
    for block, (title, clip, curve, keys) in enumerate(panels):
        keyframe_strip(figure, outer[2 * block], clip, keys, "frames")
        axis = figure.add_subplot(outer[2 * block + 1])
        contribution_bars(axis, {run: curve}, keys, title=title)
        axis.set_xlabel("frame")
    return figure
