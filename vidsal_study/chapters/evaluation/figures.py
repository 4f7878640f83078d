"""The evaluation chapter's figures: they draw what the chapter's study computed."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib
import numpy as np

from vidsal_core.plot import line_with_band
from vidsal_study.chapters.evaluation.study import METHOD_LABELS, METHODS
from vidsal_core.statistics import mean_interval


#: Methods whose deletion and insertion curves :func:`evaluation_deletion_curves` draws, in order (those swept).
EVALUATION_CURVE_METHODS: tuple[str, ...] = ("input_gradient", "integrated_gradients", "frame_occlusion", "tsr",
                                             "deep_taylor", "grad_cam", "flow", "random")


def _steps_with_values(part: Any) -> list:
    """The randomisation steps of ``part`` with a finite correlation (every map constant gives NaN: left out)."""
    return [step for step in sorted(part["step"].unique())
            if np.isfinite(part[part["step"] == step]["spearman_frames"].to_numpy(float)).any()]


def method_intervals(axis: Any, table: Any, run: str, metric: str, chance: float | None = None,
                     title: str | None = None) -> None:
    """One model's means and 95% intervals of ``metric``, one row per method (baselines in grey).

    Parameters
    ----------
    axis : matplotlib axes
        Where to draw.
    table : pandas.DataFrame
        :func:`vidsal_study.chapters.evaluation.study.summary_table` of the sweep.
    run, metric : str
        The model and the metric drawn; methods in the order of
        :data:`~vidsal_study.chapters.evaluation.study.METHODS`, flow and random in grey.
    chance : float, optional
        A dotted vertical line at the chance level.
    title : str, optional
        The axes' title (default ``run``).
    """

    part = table[(table["model"] == run) & (table["metric"] == metric)].dropna(subset=["mean"])
    part = part.set_index("method").reindex([m for m in METHODS if m in set(part["method"])])
    y = np.arange(len(part))
    colours = ["0.6" if m in ("random", "flow") else "C0" for m in part.index]
    axis.errorbar(part["mean"], y, xerr=[part["mean"] - part["low"], part["high"] - part["mean"]], fmt="none",
                  ecolor=colours, elinewidth=1.2)
    axis.scatter(part["mean"], y, c=colours, s=14, zorder=3)
    axis.set_yticks(y, [METHOD_LABELS[m] for m in part.index], fontsize=8)
    axis.invert_yaxis()
    if chance is not None:
        axis.axvline(chance, color="k", linestyle=":", linewidth=0.8)
    axis.set_title(title or run, fontsize=9)


def evaluation_localisation(table: Any, runs: Sequence[str]):
    """Per-frame AUROC of the person (top, chance 0.5) and the pointing game (bottom), one column per model.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`vidsal_study.chapters.evaluation.study.summary_table` of the sweep.
    runs : sequence of str
        The models, one column each.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, len(runs), figsize=(3.3 * len(runs), 6.2), squeeze=False)
    for column, run in enumerate(runs):
        method_intervals(axes[0][column], table, run, "auroc_person", 0.5, f"{run}\nper-frame AUROC, person")
        method_intervals(axes[1][column], table, run, "pointing", None, "pointing game hit rate")
        if column:
            for axis in axes[:, column]:
                axis.set_yticklabels([])
    figure.tight_layout()
    return figure


def evaluation_deletion_curves(results: Any, runs: Sequence[str],
                               methods: Sequence[str] = EVALUATION_CURVE_METHODS):
    """Deletion (top) and insertion (bottom) of frames per model: means over clips with 95% bands over persons.

    Parameters
    ----------
    results : pandas.DataFrame
        :func:`vidsal_study.chapters.evaluation.study.run_items` (curves ``frames_deletion``,
        ``frames_insertion``, ``frames_fractions`` and ``person``).
    runs : sequence of str
        The models, one column each.
    methods : sequence of str
        The methods drawn, those in ``results`` (default :data:`EVALUATION_CURVE_METHODS`); random in black.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    methods = [m for m in methods if m in set(results["method"])]
    figure, axes = plt.subplots(2, len(runs), figsize=(3.3 * len(runs), 5.4), squeeze=False, sharey=True)
    for column, run in enumerate(runs):
        for row, mode in enumerate(("deletion", "insertion")):
            axis = axes[row][column]
            for index, method in enumerate(methods):
                part = results[(results["model"] == run) & (results["method"] == method)]
                if part.empty:
                    continue
                curves = np.stack(part[f"frames_{mode}"].to_numpy())
                fractions = np.asarray(part["frames_fractions"].iloc[0])
                groups = part["person"].tolist()
                bands = [mean_interval(curves[:, point], groups) for point in range(curves.shape[1])]
                line_with_band(axis, fractions, [b.mean for b in bands], [b.low for b in bands],
                               [b.high for b in bands], label=METHOD_LABELS[method],
                               colour="k" if method == "random" else f"C{index}")
            axis.set_title(f"{run} · {mode} of frames", fontsize=9)
            axis.set_xlabel(f"share of frames {'deleted' if mode == 'deletion' else 'inserted'}")
        axes[0][column].set_ylim(0, 1.02)
    axes[0][0].set_ylabel("probability of the predicted class")
    axes[1][0].set_ylabel("probability of the predicted class")
    axes[0][-1].legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    return figure


def evaluation_randomisation(randomised: Any, runs: Sequence[str], methods: Sequence[str]):
    """Cascading randomisation per model: per-frame Spearman with the trained maps against the layers re-initialised.

    Means over clips with 95% bands over persons; steps where every map is
    constant (no correlation) are left out; lines at 0 and (dotted) 0.5.

    Parameters
    ----------
    randomised : pandas.DataFrame
        :func:`vidsal_study.chapters.evaluation.study.randomisation_frames` with a ``person`` column.
    runs : sequence of str
        The models, one panel each.
    methods : sequence of str
        The methods drawn (those in ``randomised``), in order.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    methods = [m for m in methods if m in set(randomised["method"])]
    figure, axes = plt.subplots(1, len(runs), figsize=(3.3 * len(runs), 2.8), squeeze=False, sharey=True)
    for column, run in enumerate(runs):
        axis = axes[0][column]
        for index, method in enumerate(methods):
            part = randomised[(randomised["model"] == run) & (randomised["method"] == method)]
            steps = _steps_with_values(part) if not part.empty else []
            if not steps:
                continue
            bands = [mean_interval(part[part["step"] == s]["spearman_frames"].to_numpy(float),
                                   part[part["step"] == s]["person"].to_numpy()) for s in steps]
            line_with_band(axis, steps, [b.mean for b in bands], [b.low for b in bands], [b.high for b in bands],
                           label=METHOD_LABELS[method], colour=f"C{index}", marker="o")
        axis.axhline(0, color="k", linewidth=0.6)
        axis.axhline(0.5, color="k", linewidth=0.6, linestyle=":")
        axis.set_title(run, fontsize=9)
        axis.set_xlabel("top layers re-initialised")
    axes[0][0].set_ylabel("per-frame rank correlation\nwith the trained model's map")
    axes[0][-1].legend(fontsize=7)
    figure.tight_layout()
    return figure


def evaluation_i3d(faith: Any, randomised: Any, methods: Sequence[str], randomisation_methods: Sequence[str]):
    """I3D on real footage: deletion of frames (left) and cascading randomisation in coarse stages (right).

    Means over clips with 95% bands (each clip its own unit); a method keeps
    its colour in both panels (its place in ``methods``); random is black.

    Parameters
    ----------
    faith, randomised : pandas.DataFrame
        :func:`vidsal_study.chapters.evaluation.study.i3d_frames`' two frames.
    methods, randomisation_methods : sequence of str
        The methods of each panel (``evaluation_chapter.i3d``); every randomised method is among ``methods``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    figure, axes = plt.subplots(1, 2, figsize=(8.0, 2.9))
    for index, method in enumerate(methods):
        part = faith[faith["method"] == method]
        curves = np.stack(part["deletion"].to_numpy())
        bands = [mean_interval(curves[:, point]) for point in range(curves.shape[1])]
        line_with_band(axes[0], np.asarray(part["fractions"].iloc[0]), [b.mean for b in bands],
                       [b.low for b in bands], [b.high for b in bands], label=METHOD_LABELS[method],
                       colour="k" if method == "random" else f"C{index}")
    axes[0].set_xlabel("share of frames deleted")
    axes[0].set_ylabel("probability of I3D's class")
    axes[0].set_title("deletion of frames", fontsize=9)
    axes[0].legend(fontsize=7)
    for method in randomisation_methods:
        part = randomised[randomised["method"] == method]
        steps = _steps_with_values(part)
        bands = [mean_interval(part[part["step"] == s]["spearman_frames"].to_numpy(float)) for s in steps]
        if steps:
            line_with_band(axes[1], steps, [b.mean for b in bands], [b.low for b in bands], [b.high for b in bands],
                           label=METHOD_LABELS[method], colour=f"C{list(methods).index(method)}", marker="o")
    names = part.drop_duplicates("step").sort_values("step")["stage"].tolist()
    axes[1].set_xticks(range(len(names)), names, fontsize=8)
    axes[1].axhline(0, color="k", linewidth=0.6)
    axes[1].set_xlabel("layers re-initialised (cumulative, from the top)")
    axes[1].set_ylabel("per-frame rank correlation\nwith the trained model's map")
    axes[1].axhline(0.5, color="k", linewidth=0.6, linestyle=":")
    axes[1].set_title("cascading randomisation", fontsize=9)
    axes[1].legend(fontsize=7)
    figure.tight_layout()
    return figure
