"""The evaluation chapter's figures (vidsal_core.plot) draw what its sweeps computed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vidsal_core import plot
from vidsal_study.chapters.evaluation import figures as evaluation_figures
from vidsal_study.chapters.evaluation.study import METRICS, summary_table

PERSONS = [1, 2, 3]


def sweep() -> pd.DataFrame:
    rows = []
    for run in ("lstm", "c3d"):
        for method, drop in (("input_gradient", 0.3), ("flow", 0.1), ("random", 0.0)):
            for person in PERSONS:
                row = {"model": run, "method": method, "video": f"v{person}", "person": person}
                row.update({metric: 0.5 + 0.01 * person for metric in METRICS})
                curve = np.linspace(1.0, 1.0 - drop, 4)
                row.update(frames_deletion=curve, frames_insertion=curve[::-1], frames_fractions=np.linspace(0, 1, 4))
                rows.append(row)
    return pd.DataFrame(rows)


def test_localisation_draws_one_row_per_method_and_the_chance_line():
    figure = evaluation_figures.evaluation_localisation(summary_table(sweep()), ["lstm", "c3d"])
    axes = figure.axes
    assert len(axes) == 4 and axes[0].get_title() == "lstm\nper-frame AUROC, person"
    assert [label.get_text() for label in axes[0].get_yticklabels()] == ["input gradient", "Farneback flow",
                                                                         "random (chance)"]
    assert axes[0].lines[0].get_xdata()[0] == 0.5, "the dotted chance line"
    assert axes[1].get_title() == "c3d\nper-frame AUROC, person" and axes[2].get_title() == "pointing game hit rate"
    assert [label.get_text() for label in axes[1].get_yticklabels()] == ["", "", ""]
    plt.close(figure)


def test_deletion_curves_draw_the_swept_methods_random_in_black():
    figure = evaluation_figures.evaluation_deletion_curves(sweep(), ["lstm", "c3d"])
    axis = figure.axes[0]
    assert axis.get_title() == "lstm · deletion of frames"
    assert [line.get_label() for line in axis.lines] == ["input gradient", "Farneback flow", "random (chance)"]
    np.testing.assert_allclose(axis.lines[0].get_ydata(), np.linspace(1.0, 0.7, 4))
    assert axis.lines[2].get_color() == "k"
    plt.close(figure)


def randomised() -> pd.DataFrame:
    rows = []
    for method, last in (("input_gradient", 0.1), ("grad_cam", np.nan)):
        for person in PERSONS:
            for step, value in ((0, 1.0), (1, 0.6), (2, last)):
                rows.append({"model": "lstm", "method": method, "video": f"v{person}", "person": person,
                             "footage": f"f{person}", "step": step, "stage": ("trained", "logits", "all")[step],
                             "spearman_frames": value, "deletion": np.linspace(1, 0.5, 3), "fractions": [0, 0.5, 1],
                             "deletion_auc": 0.7})
    return pd.DataFrame(rows)


def test_randomisation_leaves_out_steps_without_a_correlation():
    figure = evaluation_figures.evaluation_randomisation(randomised(), ["lstm"], ["grad_cam", "input_gradient", "smoothgrad"])
    axis = figure.axes[0]
    lines = [line for line in axis.lines if line.get_label() in ("Grad-CAM", "input gradient")]
    assert [list(line.get_xdata()) for line in lines] == [[0, 1], [0, 1, 2]]
    plt.close(figure)


def test_i3d_draws_deletion_and_the_coarse_stages():
    frame = randomised()
    faith = frame[frame["step"] == 0]
    figure = evaluation_figures.evaluation_i3d(faith, frame, ["input_gradient", "grad_cam"], ["input_gradient", "grad_cam"])
    left, right = figure.axes
    assert left.get_title() == "deletion of frames" and len(left.lines) == 2
    assert [tick.get_text() for tick in right.get_xticklabels()] == ["trained", "logits", "all"]
    plt.close(figure)
