"""The TSR chapter's figures (vidsal_core.plot) draw what its findings and example clips hold."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from test_tsr_findings import RUNS, results_table, tiny_examples
from vidsal_core import plot
from vidsal_study.chapters.tsr import figures as tsr_figures
from vidsal_study.chapters.tsr.findings import tsr_findings
from vidsal_study.chapters.tsr.study import METHOD_LABELS, METHODS
from vidsal_core.errors import ConfigError


def test_intervals_draw_every_map_per_model_and_the_chance_line():
    found = tsr_findings(results_table(), RUNS)
    figure = tsr_figures.tsr_intervals(found)
    axes = figure.axes
    assert len(axes) == 3
    assert [axis.get_xlabel() for axis in axes] == ["legs share %", "ρ true motion", "ρ Farnebäck"]
    assert [label.get_text() for label in axes[0].get_yticklabels()] == [METHOD_LABELS[m] for m in METHODS]
    # the first model's legs shares, in percent, one marker per map
    markers = axes[0].lines[0]
    np.testing.assert_allclose(np.asarray(markers.get_xdata(), float), [100 * found.estimates[RUNS[0], m, "legs"].mean for m in METHODS])
    np.testing.assert_allclose(np.asarray(markers.get_ydata(), float), np.arange(len(METHODS)) - 0.12)
    chance = [line for line in axes[0].lines if line.get_label().startswith("chance")]
    assert chance and chance[0].get_xdata()[0] == pytest.approx(100 * found.estimates[RUNS[0], "chance", "legs"].mean)
    # Farnebäck has no ρ with itself: four markers in the last panel
    assert len(axes[2].lines[0].get_xdata()) == len(METHODS) - 1
    plt.close(figure)


def test_mass_profiles_draw_each_maps_share_per_frame_and_the_selected_frames():
    examples = tiny_examples(frames=10)
    figure = tsr_figures.tsr_mass_profiles(examples, "running")
    axes = figure.axes
    assert len(axes) == 4  # a panel per model and its twin for the visibility
    axis = axes[0]
    assert axis.get_title() == "FrameLSTM · running, person 7"
    assert [line.get_label() for line in axis.lines] == [METHOD_LABELS[m] for m in METHODS]
    gradient = examples.explained[RUNS[0], "running"]["maps"]["gradient"].abs().sum(dim=(1, 2, 3))[:9].double()
    np.testing.assert_allclose(axis.lines[0].get_ydata(), (gradient / gradient.sum()).numpy())
    assert len(axis.patches) == 1  # frame 2 is selected; frame 9 has no Farnebäck frame
    np.testing.assert_allclose(axes[2].lines[0].get_ydata(), examples.clips["running"]["visibility"][:9].numpy())
    plt.close(figure)
    with pytest.raises(ConfigError, match="action"):
        tsr_figures.tsr_mass_profiles(examples, "jogging")


def test_example_grid_has_a_block_per_clip_with_every_map_and_the_truth():
    examples = tiny_examples(frames=10)
    figure = tsr_figures.tsr_examples(examples, RUNS[1], block_size=5)
    rows, columns = 7, 8  # frames, five maps, true motion; eight frames shown
    assert len(figure.axes) == 2 * (1 + rows * columns)
    titles = [text.get_text() for axis in figure.axes for text in axis.texts]
    assert titles[0] == "other_run · walking (person 7, d2, video frames 5–14), p(walking) = 0.75"
    labels = [axis.get_ylabel() for axis in figure.axes if axis.get_ylabel()]
    assert labels[:7] == ["frames", "|gradient|\n(sequential)", "one-step\n(sequential)", "TSR 5×5\n(sequential)",
                          "TSR\nsuperpixels\n(sequential)", "Farnebäck\n|flow|\n(sequential)",
                          "true motion\n|u|\n(sequential)"]
    assert [axis.get_title() for axis in figure.axes[1:9]] == [f"t={t}" for t in (0, 1, 3, 4, 5, 6, 8, 9)]
    plt.close(figure)


def test_own_clip_grid_has_a_block_per_model_titled_with_its_prediction():
    examples = tiny_examples(frames=5)
    explained = {run: examples.explained[run, "walking"] for run in RUNS}
    figure = tsr_figures.tsr_own_clip(examples.clips["walking"]["video"], explained, ["walking", "running"], block_size=4)
    assert len(figure.axes) == 2 * (1 + 6 * 5)  # frames and five maps; all five frames shown
    titles = [text.get_text() for axis in figure.axes for text in axis.texts]
    assert titles == [f"{label} · your clip, explaining its prediction 'running' (p = 0.75)"
                      for label in ("FrameLSTM", "other_run")]
    plt.close(figure)
