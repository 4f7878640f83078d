"""The models chapter's figures in vidsal_core.plot: they draw what the chapter's findings hold."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from vidsal_core import plot
from vidsal_study.chapters.models import figures as models_figures
from vidsal_core.errors import ConfigError
from vidsal_study.chapters.models.findings import AccuracyFindings, CurveFindings, RunAccuracy, VariantFindings
from vidsal_study.chapters.models.defects import OffsetFindings
from vidsal_core.models.evaluation import AccuracyReport
from vidsal_study.runs import build_run


def curves():
    frames = {name: pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [0.9, 0.5, 0.3], "train_accuracy": [0.5, 0.7, 0.9],
                                  "validation_loss": [1.0, 0.7, 0.6], "validation_accuracy": [0.4, 0.6, 0.65],
                                  "seconds": [2.0, 3.0, 4.0]}) for name in ("a", "b")}
    return CurveFindings(frames, {"a": 2, "b": 3}, {"a": 3, "b": 3}, {"a": 0.5, "b": 1 / 6}, {"a": 0.97, "b": None})


def test_training_curves_draw_each_runs_loss_and_accuracy():
    figure = models_figures.models_training_curves(curves())
    axes = np.array(figure.axes).reshape(2, 2)
    assert [axis.get_title() for axis in axes[0]] == ["a", "b"]
    assert axes[0][0].get_ylabel() == "loss" and axes[1][0].get_ylabel() == "accuracy"
    training, validation = axes[1][1].lines[:2]
    np.testing.assert_allclose(training.get_ydata(), [0.5, 0.7, 0.9])
    np.testing.assert_allclose(validation.get_ydata(), [0.4, 0.6, 0.65])
    assert axes[0][1].lines[2].get_xdata()[0] == 3        # the best epoch kept
    assert axes[1][1].lines[3].get_ydata()[0] == pytest.approx(1 / 6)   # chance
    plt.close(figure)


def test_accuracy_against_time_uses_cumulative_seconds_and_targets():
    figure = models_figures.models_accuracy_against_time(curves())
    (axis,) = figure.axes
    runs = [line for line in axis.lines if line.get_label() in ("a", "b")]
    np.testing.assert_allclose(runs[0].get_xdata(), [2.0, 5.0, 9.0])
    np.testing.assert_allclose(runs[1].get_ydata(), [0.4, 0.6, 0.65])
    assert len(axis.lines) == 3 and axis.lines[1].get_ydata()[0] == 0.97   # one target line: a's
    plt.close(figure)


def _report(confusion):
    matrix = np.asarray(confusion)
    accuracy = float(np.trace(matrix) / matrix.sum())
    return AccuracyReport(accuracy, int(np.trace(matrix)), int(matrix.sum()), accuracy, accuracy, accuracy, accuracy,
                          2, matrix.tolist())


def test_confusions_draw_the_six_class_runs_only():
    six = np.eye(6, dtype=int) * 2
    six[0, 2] = 2
    accuracy = AccuracyFindings((
        RunAccuracy(build_run("quick", "frame_lstm_binary"), _report([[1, 1], [0, 2]]), _report([[1, 1], [1, 1]])),
        RunAccuracy(build_run("quick", "c3d_6class"), _report(six), _report(six)),
    ))
    figure = models_figures.models_confusions(accuracy)
    (axis,) = figure.axes
    assert axis.get_title() == "c3d_6class: 0.86"
    shares = axis.images[0].get_array()
    assert shares[0, 0] == 0.5 and shares[0, 2] == 0.5 and shares[1, 1] == 1.0
    assert sorted(text.get_text() for text in axis.texts) == ["2"] * 7
    assert [label.get_text() for label in axis.get_yticklabels()][-2:] == ["h.waving", "h.clapping"]
    plt.close(figure)
    with pytest.raises(ConfigError, match="no 6-class run"):
        models_figures.models_confusions(AccuracyFindings(accuracy.runs[:1]))


def test_error_clips_draw_six_frames_per_clip():
    video = torch.arange(30, dtype=torch.float32).reshape(30, 1, 1, 1).expand(30, 1, 3, 4) / 30
    row = pd.Series({"person": 7, "scenario": "d2", "true": "walking", "predicted": "running"})
    figure = models_figures.models_error_clips([("lstm", row, video), ("ica", row, video)])
    assert len(figure.axes) == 12
    first = figure.axes[0]
    assert first.get_ylabel() == "lstm\nperson 7 d2" and figure.axes[5].get_title(loc="right") == "walking → running"
    np.testing.assert_allclose(figure.axes[1].images[0].get_array(), video[5, 0].numpy())   # every fifth frame
    plt.close(figure)
    with pytest.raises(ConfigError, match="no misclassified clip"):
        models_figures.models_error_clips([])


def test_diagnosis_variants_draw_a_panel_per_axis():
    table = pd.DataFrame([
        {"variant": "base", "axis": "base", "value": {"pixels": 1200, "width": 1.0, "persons": 2},
         "accuracy": 0.6, "low": 0.5, "high": 0.7, "train s": 1.0, "parameters": 1},
        {"variant": "width 2", "axis": "width", "value": 2.0, "accuracy": 0.8, "low": 0.7, "high": 0.85,
         "train s": 1.0, "parameters": 1},
    ])
    figure = models_figures.models_diagnosis_variants(VariantFindings(table, "frame_lstm_binary", 1))
    (axis,) = figure.axes
    assert axis.get_xlabel() == "encoder width (× channels)" and axis.get_xscale() == "log"
    assert axis.get_ylabel() == "test accuracy (frame_lstm_binary)"
    np.testing.assert_allclose(axis.lines[0].get_xdata(), [1.0, 2.0])
    np.testing.assert_allclose(axis.lines[0].get_ydata(), [0.6, 0.8])
    plt.close(figure)
    with pytest.raises(ConfigError, match="no diagnosis variant"):
        models_figures.models_diagnosis_variants(VariantFindings(pd.DataFrame()))


def test_attention_spread_between_one_frame_and_all_frames():
    figure = models_figures.models_attention_spread({"ica": np.array([1.0, 1.8, 2.5])})
    (axis,) = figure.axes
    np.testing.assert_allclose(axis.lines[0].get_ydata(), [1, 2, 3])      # every frame so far
    np.testing.assert_allclose(axis.lines[1].get_ydata(), [1.0, 1.8, 2.5])
    assert axis.lines[1].get_label() == "ica" and axis.get_yscale() == "log"
    plt.close(figure)
    with pytest.raises(ConfigError, match="no ICA-LSTM run"):
        models_figures.models_attention_spread({})


def test_clip_offsets_histogram_per_class():
    offsets = pd.DataFrame({"epoch": 0, "clip": range(5), "label": [0, 0, 1, 1, 1], "offset": [0, 1, 1, 2, 2]})
    figure = models_figures.models_clip_offsets(OffsetFindings(("walking", "running"), offsets, 0.5, 1.0, "acting"))
    (axis,) = figure.axes
    heights = [[patch.get_height() for patch in container] for container in axis.containers]
    assert heights == [[1, 1, 0], [0, 1, 2]]
    assert [line.get_xdata()[0] for line in axis.lines] == [0, 10]
    plt.close(figure)
    with pytest.raises(ConfigError, match="no binary run"):
        models_figures.models_clip_offsets(OffsetFindings())
