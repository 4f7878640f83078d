"""The time-contribution chapter's figures (vidsal_core.plot) draw what its study measured."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch

from _time_contribution_study import N_FRAMES, RUNS, study
from vidsal_core import plot
from vidsal_study.chapters.time_contribution import figures as time_contribution_figures
from vidsal_study.chapters.time_contribution.study import MEASURES, ClipPanel

LSTM, ICA = RUNS


def bar_heights(axis, colour):
    return [patch.get_height() for patch in axis.patches
            if matplotlib.colors.same_color(patch.get_facecolor(), colour)]


def test_contribution_bars_draw_each_model_in_percentage_points_and_mark_keyframes():
    figure, axis = plt.subplots()
    lstm, ica = np.linspace(0.0, 0.05, N_FRAMES), -np.linspace(0.0, 0.01, N_FRAMES)
    time_contribution_figures.contribution_bars(axis, {LSTM: lstm, ICA: ica}, [1, 4], title="a clip")
    assert len(axis.patches) == 2 * N_FRAMES
    np.testing.assert_allclose(bar_heights(axis, "tab:blue"), 100 * lstm)
    np.testing.assert_allclose(bar_heights(axis, "tab:orange"), 100 * ica)
    marks = [line for line in axis.lines if line.get_label() == "keyframe"]
    assert len(marks) == 1 and marks[0].get_xdata().tolist() == [1, 4]
    assert axis.get_title(loc="left") == "a clip" and sorted(axis.get_legend_handles_labels()[1]) == ["ICA-LSTM", "LSTM", "keyframe"]
    plt.close(figure)


def test_truth_curves_scale_limb_motion_and_frame_difference():
    figure, axis = plt.subplots()
    visibility = np.array([0.0, 0.5, 1.0, 1.0])
    time_contribution_figures.truth_curves(axis, visibility, [0.0, 2.0, 4.0, 8.0], [1.0, 3.0, 2.0, 0.0], [2], threshold=0.5)
    lines = {line.get_label(): line for line in axis.lines}
    np.testing.assert_allclose(lines["visibility"].get_ydata(), visibility)
    np.testing.assert_allclose(lines["limb motion (scaled)"].get_ydata(), [0.0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(lines["frame difference (scaled)"].get_ydata(), [1 / 3, 1.0, 2 / 3, 0.0])
    assert [line.get_xdata()[0] for line in axis.lines if line.get_color() == "red"] == [2]
    plt.close(figure)


def test_shown_frames_keep_the_keyframes_and_spread_the_rest():
    assert time_contribution_figures.shown_frames(30, [4, 20], count=4) == [4, 10, 20, 29]
    assert time_contribution_figures.shown_frames(6, [5, 5, 1]) == [0, 1, 2, 3, 4, 5]  # fewer frames than the count: all of them
    assert time_contribution_figures.shown_frames(30, list(range(12))) == list(range(10))  # more keyframes than the count: the first


def test_keyframe_strip_frames_the_keyframes_in_red():
    figure = plt.figure()
    video = torch.rand(12, 1, 8, 8)
    axes = time_contribution_figures.keyframe_strip(figure, figure.add_gridspec(1, 1)[0], video, [3], "frames")
    assert len(axes) == 10 and axes[0].get_ylabel() == "frames"
    titled = {axis.get_title(): axis for axis in axes}
    assert matplotlib.colors.same_color(titled["t=3"].title.get_color(), "red")
    assert not matplotlib.colors.same_color(titled["t=0"].title.get_color(), "red")
    np.testing.assert_allclose(titled["t=3"].images[0].get_array(), video[3, 0].numpy())
    plt.close(figure)


def test_examples_figure_has_a_strip_bars_and_truth_per_clip():
    measured = study()
    videos = {"walking": torch.rand(N_FRAMES, 1, 8, 8), "running": torch.rand(N_FRAMES, 1, 8, 8)}
    figure = time_contribution_figures.time_contribution_examples(measured, {"walking": 1, "running": 2}, videos)
    assert len(figure.axes) == 2 * (N_FRAMES + 2)  # six frames, the bars, the truth per clip
    bars = figure.axes[N_FRAMES]
    assert bars.get_title(loc="left") == "walking: person 2, d2"
    np.testing.assert_allclose(bar_heights(bars, "tab:orange"), 100 * measured.records[ICA][1]["contribution"][1])
    assert figure.axes[N_FRAMES + 1].get_xlabel() == "" and figure.axes[-1].get_xlabel() == "frame"
    plt.close(figure)


def test_window_and_position_figures_draw_the_mean_curves():
    measured = study()
    figure = time_contribution_figures.time_contribution_windows(measured)
    assert [axis.get_title() for axis in figure.axes] == ["LSTM", "ICA-LSTM"]
    lines = [line for line in figure.axes[0].lines if line.get_label().startswith("window")]
    assert [line.get_label() for line in lines] == ["window 1", "window 3"]
    expected = 100 * np.mean([record["contribution"][3] for record in measured.records[LSTM]], axis=0)
    np.testing.assert_allclose(lines[1].get_ydata(), expected)
    plt.close(figure)
    figure = time_contribution_figures.time_contribution_positions(measured)
    left, right = figure.axes
    assert [line.get_label() for line in left.lines[:2]] == ["LSTM", "ICA-LSTM"]
    np.testing.assert_allclose(right.lines[1].get_ydata(), 100 * measured.records[ICA][0]["accuracy_drop"])
    assert right.get_ylabel() == "accuracy drop (pp)"
    plt.close(figure)


def test_agreement_figure_has_a_row_per_measure_above_chance():
    measured = study()
    figure = time_contribution_figures.time_contribution_agreement(measured)
    axis = figure.axes[0]
    labels = [label.get_text() for label in axis.get_yticklabels()]
    assert len(labels) == len(MEASURES) and labels[-1] == MEASURES["auc_keyframes_in_view"] + " − 0.5"
    estimate = measured.estimate(LSTM, "rho_contribution_visibility")
    points = axis.lines[0].get_xdata()  # the LSTM's first marker: ρ with visibility, its null 0
    assert points[0] == estimate.mean
    plt.close(figure)


def test_clips_figure_has_a_block_per_panel():
    video = torch.rand(N_FRAMES, 1, 8, 8)
    panels = [ClipPanel("first", video, np.full(N_FRAMES, 0.01), np.array([2])),
              ("second", video, np.full(N_FRAMES, -0.02), np.array([], dtype=int))]
    figure = time_contribution_figures.time_contribution_clips(panels, LSTM)
    bars = [axis for axis in figure.axes if axis.patches]
    assert len(figure.axes) == 2 * (N_FRAMES + 1) and [axis.get_title(loc="left") for axis in bars] == ["first", "second"]
    np.testing.assert_allclose(bar_heights(bars[1], "tab:blue"), [-2.0] * N_FRAMES)
    plt.close(figure)
