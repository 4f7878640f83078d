"""The models chapter's figures: they draw what the chapter's study computed."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib
import numpy as np

from vidsal_core.plot import as_numpy
from vidsal_core.errors import ConfigError
from vidsal_study.chapters.models.findings import VARIANT_AXES


def models_training_curves(curves: Any):
    """Loss (top row) and accuracy (bottom row) per epoch of each run, on its training clips and validation persons.

    A dotted vertical line marks the epoch whose weights were kept; a dashed
    horizontal line the chance accuracy.

    Parameters
    ----------
    curves : :class:`~vidsal_study.chapters.models.findings.CurveFindings`
        The runs' logged curves.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    names = curves.names
    figure, axes = plt.subplots(2, len(names), figsize=(2.3 * len(names) + 1, 4.4), squeeze=False, sharex="col")
    for column, name in enumerate(names):
        frame = curves.curves[name]
        for row, quantity in enumerate(["loss", "accuracy"]):
            axis = axes[row][column]
            axis.plot(frame["epoch"], frame[f"train_{quantity}"], label="training clips", color="tab:blue")
            axis.plot(frame["epoch"], frame[f"validation_{quantity}"], label="validation", color="tab:orange")
            axis.axvline(curves.best_epoch[name], color="grey", linestyle=":", linewidth=1)
            if quantity == "accuracy":
                axis.set_ylim(0, 1.02)
                axis.axhline(curves.chance[name], color="grey", linewidth=0.8, linestyle="--")
                axis.set_xlabel("epoch")
            axis.set_title(name if row == 0 else "", fontsize=8)
        axes[0][column].set_ylabel("loss" if column == 0 else "")
        axes[1][column].set_ylabel("accuracy" if column == 0 else "")
    axes[0][0].legend(fontsize=7)
    for axis in axes.flat:
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    return figure


def models_accuracy_against_time(curves: Any):
    """Validation accuracy of each run against its cumulative training seconds, with its target (dotted) if any.

    Parameters
    ----------
    curves : :class:`~vidsal_study.chapters.models.findings.CurveFindings`

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.4, 3.0))
    for name in curves.names:
        frame = curves.curves[name]
        line, = axis.plot(frame["seconds"].cumsum(), frame["validation_accuracy"], marker=".", label=name)
        if curves.target[name] is not None:
            axis.axhline(curves.target[name], color=line.get_color(), linestyle=":", linewidth=1)
    axis.set_xlabel("training seconds (cumulative, this machine)")
    axis.set_ylabel("validation accuracy")
    axis.set_ylim(0, 1.02)
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    return figure


def models_confusions(accuracy: Any):
    """The confusion matrix of each 6-class run (rows true, columns predicted; shares per row, counts written).

    Parameters
    ----------
    accuracy : :class:`~vidsal_study.chapters.models.findings.AccuracyFindings`
        Its :attr:`~vidsal_study.chapters.models.findings.AccuracyFindings.six` runs are drawn (at least one).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    six = accuracy.six
    if not six:
        raise ConfigError("accuracy: no 6-class run to draw")
    figure, axes = plt.subplots(1, len(six), figsize=(3.3 * len(six), 3.4), squeeze=False)
    for axis, name in zip(axes[0], six):
        matrix = np.asarray(accuracy[name].report.confusion)
        shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        classes = accuracy[name].classes
        short = [label.replace("hand", "h.") for label in classes]
        axis.set_xticks(range(len(classes)), short, rotation=60, ha="right")
        axis.set_yticks(range(len(classes)), short)
        for i in range(len(classes)):
            for j in range(len(classes)):
                if matrix[i, j]:
                    axis.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                              color="white" if shares[i, j] > 0.6 else "black")
        axis.set_title(f"{name}: {accuracy[name].report.accuracy:.2f}", fontsize=8)
        axis.set_xlabel("predicted")
    axes[0][0].set_ylabel("true")
    figure.tight_layout()
    return figure


def models_error_clips(shown: Sequence[tuple[str, Any, Any]]):
    """Misclassified clips, one row each: six of their frames (every sixth of the clip), true → predicted class.

    Parameters
    ----------
    shown : sequence of (run name, prediction row, video)
        :func:`~vidsal_study.chapters.models.findings.error_clips` (at least one); the row gives
        ``person``, ``scenario``, ``true`` and ``predicted``, the video is ``(T, 1, H, W)``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    if not shown:
        raise ConfigError("shown: no misclassified clip to draw")
    figure, axes = plt.subplots(len(shown), 6, figsize=(7.2, 1.05 * len(shown)), squeeze=False)
    for line, (name, row, frames) in zip(axes, shown):
        for axis, frame in zip(line, range(0, frames.shape[0], max(frames.shape[0] // 6, 1))):
            axis.imshow(as_numpy(frames[frame, 0]), cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([]), axis.set_yticks([])
        line[0].set_ylabel(f"{name}\nperson {row['person']} {row['scenario']}", fontsize=6)
        line[-1].set_title(f"{row['true']} → {row['predicted']}", fontsize=7, loc="right")
    figure.tight_layout(pad=0.2)
    return figure


def models_diagnosis_variants(variants: Any):
    """Test accuracy (95% interval over persons) of the diagnosis variants, a panel per axis varied (log2 x).

    Parameters
    ----------
    variants : :class:`~vidsal_study.chapters.models.findings.VariantFindings`
        With at least one axis varied.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    axes_shown = variants.axes
    if not axes_shown:
        raise ConfigError("variants: no diagnosis variant to draw")
    figure, axes = plt.subplots(1, len(axes_shown), figsize=(2.6 * len(axes_shown), 2.4), squeeze=False, sharey=True)
    for axis, name in zip(axes[0], axes_shown):
        x, y, low, high = variants.points(name)
        axis.errorbar(x, y, yerr=[y - low, high - y], marker="o", capsize=3)
        axis.set_xscale("log", base=2)
        axis.set_xlabel(VARIANT_AXES[name])
    axes[0][0].set_ylabel(f"test accuracy ({variants.run})")
    figure.tight_layout()
    return figure


def models_attention_spread(spreads: Mapping[str, Any]):
    """Frames attended per time step (exp entropy, log scale) of each ICA-LSTM, between 1 and all frames so far.

    Parameters
    ----------
    spreads : mapping
        Run → ``(T,)`` frames attended (:attr:`~vidsal_study.chapters.models.defects.AttentionFindings.spreads`; at least one).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    if not spreads:
        raise ConfigError("spreads: no ICA-LSTM run to draw")
    figure, axis = plt.subplots(figsize=(5.5, 3))
    steps = np.arange(max(len(spread) for spread in spreads.values()))  # runs may read clips of other lengths
    axis.plot(steps, steps + 1, color="grey", linestyle="--", label="upper bound: all frames so far, evenly")
    for name, spread in spreads.items():
        axis.plot(steps[:len(spread)], spread, marker=".", label=name)
    axis.axhline(1, color="black", linewidth=1, linestyle=":", label="seed 000's cell (window never set)")
    axis.set_xlabel("time step t (frame)")
    axis.set_ylabel("frames attended (exp entropy)")
    axis.set_yscale("log")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def models_clip_offsets(offsets: Any):
    """Histogram of the training clips' first frames per class, beside seed 000's starts (running 0, walking 10).

    Parameters
    ----------
    offsets : :class:`~vidsal_study.chapters.models.defects.OffsetFindings`
        With its ``offsets`` measured.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    if offsets.offsets is None:
        raise ConfigError("offsets: nothing measured (no binary run) to draw")
    table = offsets.offsets
    figure, axis = plt.subplots(figsize=(5.5, 2.6))
    bins = np.arange(table.offset.max() + 2) - 0.5
    for label, name in enumerate(offsets.classes):
        axis.hist(table.offset[table.label == label], bins=bins, alpha=0.55, label=f"{name} (vidsal)")
    axis.axvline(0, color="tab:red", linestyle="--", label="seed: running starts here")
    axis.axvline(10, color="tab:purple", linestyle="--", label="seed: walking starts here")
    axis.set_xlabel("first frame of the training clip")
    axis.set_ylabel("clips")
    axis.legend(fontsize=7, ncol=2, loc="lower center", framealpha=0.9)
    figure.tight_layout()
    return figure
