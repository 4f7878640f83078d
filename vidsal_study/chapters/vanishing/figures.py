"""The vanishing chapter's figures: they draw what the chapter's study computed."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib
import numpy as np

from vidsal_core.plot import line_with_band
from vidsal_core.metrics.relevance import share_summary
from vidsal_study.chapters.vanishing.study import record_of


def _model_title(model: str) -> str:
    return "ICA-LSTM" if model == "ICA" else model


#: Colour of each model of the vanishing-saliency chapter.
VANISHING_COLOURS = {"LSTM": "tab:blue", "ICA": "tab:orange", "ICA-fixed": "tab:green"}


#: Titles of the vanishing-saliency chapter's saliency methods.
VANISHING_METHOD_TITLES = {"gradient": "input gradient", "integrated_gradients": "Integrated Gradients"}


def vanishing_share_curves(records: Sequence[Any], tasks: Sequence[str], methods: Sequence[str]):
    """Mean share of |saliency| per frame (log scale, 95% bands over persons): a panel per (method, task).

    Each panel has the LSTM and the ICA-LSTM, trained (solid) and untrained
    (dashed), and a dotted uniform share ``1/T``.

    Parameters
    ----------
    records : sequence of :class:`~vidsal_study.chapters.vanishing.study.ShareRecord`
        The chapter's sweeps.
    tasks, methods : sequence of str
        The columns and the rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    n_frames = records[0].shares.shape[1]
    frames_axis = np.arange(n_frames)
    figure, axes = plt.subplots(len(methods), len(tasks), figsize=(4.2 * len(tasks), 2.8 * len(methods)),
                                squeeze=False, sharex=True)
    for row, method in enumerate(methods):
        for column, task in enumerate(tasks):
            axis = axes[row][column]
            for model in ("LSTM", "ICA"):
                for weights, style in (("trained", "-"), ("untrained", "--")):
                    record = record_of(records, task, model, weights, method)
                    summary = share_summary(record.shares, record.persons)
                    line_with_band(axis, frames_axis, summary.mean, summary.low, summary.high,
                                   label=f"{_model_title(model)} {weights}", colour=VANISHING_COLOURS[model])
                    axis.lines[-1].set_linestyle(style)
            axis.axhline(1 / n_frames, color="gray", linestyle=":", linewidth=1)
            axis.set_yscale("log")
            axis.set_title(f"{task} · {VANISHING_METHOD_TITLES[method]}")
            axis.set_ylabel("share of |saliency|")
            if row == len(methods) - 1:
                axis.set_xlabel("frame of the clip")
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def vanishing_index_intervals(index_table: Any, methods: Sequence[str], threshold: float = float(np.log10(2.0))):
    """The vanishing index of every (task, model, weights) with its 95% interval, a panel per method.

    Filled markers: trained; open: untrained. Dotted: ``V = 0``; dashed: ``V = threshold``.

    Parameters
    ----------
    index_table : pandas.DataFrame
        :meth:`~vidsal_study.chapters.vanishing.study.VanishingFindings.index_table`.
    methods : sequence of str
        The panels.
    threshold : float, default log10 2
        The late-concentration threshold.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    height = 0.9 + 0.32 * len(index_table) / len(methods)
    figure, axes = plt.subplots(1, len(methods), figsize=(4.4 * len(methods), height), squeeze=False, sharey=True)
    for axis, method in zip(axes[0], methods):
        part = index_table[index_table["method"] == method].reset_index(drop=True)
        labels = [f"{r.task} · {_model_title(r.model)} · {r.weights}" for r in part.itertuples()]
        y = np.arange(len(part))[::-1]
        for position, r in zip(y, part.itertuples()):
            colour = VANISHING_COLOURS[r.model]
            trained = r.weights == "trained"
            axis.errorbar(r.V, position, xerr=[[r.V - r.low], [r.high - r.V]], fmt="o" if trained else "s",
                          color=colour, mfc=colour if trained else "white", capsize=3)
        axis.axvline(0, color="gray", linestyle=":", linewidth=1)
        axis.axvline(threshold, color="gray", linestyle="--", linewidth=1)
        axis.set_yticks(y, labels)
        axis.set_xlabel("vanishing index V")
        axis.set_title(VANISHING_METHOD_TITLES[method])
    figure.tight_layout()
    return figure


def vanishing_visibility(records: Sequence[Any], task: str, visible_threshold: float):
    """Left: the trained models' share per frame on all clips and on the clips in view throughout; right: visibility.

    Parameters
    ----------
    records : sequence of :class:`~vidsal_study.chapters.vanishing.study.ShareRecord`
        The chapter's sweeps (the trained LSTM and ICA-LSTM of ``task``, input gradient).
    task : str
        The task drawn.
    visible_threshold : float
        A clip is in view throughout when the person's visibility is at least this on every frame.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    figure, axes = plt.subplots(1, 2, figsize=(9, 3.0))
    axis = axes[0]
    visibility = record_of(records, task, "LSTM", "trained", "gradient").visibility
    in_view = visibility.min(axis=1) >= visible_threshold
    frames_axis = np.arange(visibility.shape[1])
    for model in ("LSTM", "ICA"):
        record = record_of(records, task, model, "trained", "gradient")
        summary = share_summary(record.shares, record.persons)
        line_with_band(axis, frames_axis, summary.mean, summary.low, summary.high,
                       label=f"{_model_title(model)}, all clips", colour=VANISHING_COLOURS[model])
        if in_view.any():
            view = share_summary(record.shares[in_view], record.persons[in_view])
            line_with_band(axis, frames_axis, view.mean, view.low, view.high,
                           label=f"{_model_title(model)}, in view throughout", colour=VANISHING_COLOURS[model])
            axis.lines[-1].set_linestyle("--")
    axis.axhline(1 / len(frames_axis), color="gray", linestyle=":", linewidth=1)
    axis.set_yscale("log")
    axis.set_xlabel("frame of the clip")
    axis.set_ylabel("share of |gradient|")
    axis.set_title(f"{task} · input gradient · trained")
    axis.legend(fontsize=7)
    axis = axes[1]
    for label, mask, style in (("all clips", np.ones_like(in_view), "-"),
                               ("clips not in view throughout", ~in_view, "--")):
        if mask.any():
            axis.plot(frames_axis, visibility[mask].mean(axis=0), style, color="k",
                      label=f"{label} ({int(mask.sum())})")
    axis.set_ylim(0, 1.05)
    axis.set_xlabel("frame of the clip")
    axis.set_ylabel("mean visibility of the person")
    axis.set_title("where the person is in view")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def vanishing_window(records: Sequence[Any], task: str, window: int | None = None):
    """Share of |input gradient| per frame of the trained LSTM and ICA-LSTM, growing and (with ``window``) fixed window.

    With ``window`` the fixed-window ICA-LSTM (model ``"ICA-fixed"``) is drawn
    too, and a dotted line marks the oldest frame its window reaches at the
    last step; without, a note says that it was not run.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    curves = [("LSTM", "LSTM"), ("ICA", "ICA-LSTM, growing window")]
    if window is not None:
        curves.append(("ICA-fixed", f"ICA-LSTM, window {window}"))
    figure, axis = plt.subplots(figsize=(5.5, 3.0))
    for model, label in curves:
        record = record_of(records, task, model, "trained", "gradient")
        summary = share_summary(record.shares, record.persons)
        line_with_band(axis, np.arange(record.shares.shape[1]), summary.mean, summary.low, summary.high, label=label,
                       colour=VANISHING_COLOURS[model])
    n_frames = records[0].shares.shape[1]
    if window is not None:
        axis.axvline(n_frames - window - 0.5, color=VANISHING_COLOURS["ICA-fixed"], linestyle=":", linewidth=1)
    else:
        axis.text(0.02, 0.04, "fixed window not run at this profile", transform=axis.transAxes, fontsize=8,
                  color="gray")
    axis.axhline(1 / n_frames, color="gray", linestyle=":", linewidth=1)
    axis.set_yscale("log")
    axis.set_xlabel("frame of the clip")
    axis.set_ylabel("share of |gradient|")
    axis.set_title(f"{task} · input gradient · trained")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure
