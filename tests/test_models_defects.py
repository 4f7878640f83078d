"""vidsal_study.chapters.models.defects: the models chapter's checks of seed 000's four code defects."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from _tiny_models import tiny_corpus
from vidsal_core.errors import ConfigError
from vidsal_study.chapters.models.findings import AccuracyFindings, RunAccuracy
from vidsal_study.chapters.models.defects import (
    AttentionFindings, ChangeFindings, OffsetFindings, attention_findings, change_findings, dependence_findings,
    offset_findings, refusal_text,
)
from vidsal_core.models.evaluation import AccuracyReport
from vidsal_core.models.registry import build_model
from vidsal_study.chapters.models.report import attended_frames, batch_dependence
from vidsal_study.runs import build_run
from vidsal_study.chapters.models import figures as models_figures


def _report():
    return AccuracyReport(0.5, 1, 2, 0.5, 0.5, 0.5, 0.5, 1, [[1, 0], [1, 0]])


def findings(*names):
    return AccuracyFindings(tuple(RunAccuracy(build_run("quick", name), _report(), _report()) for name in names))


# --- 1. parts that never trained -------------------------------------------------------------------------

class _Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(2, 3)
        self.projection = nn.Linear(3, 2)


class _Lstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = _Encoder()
        self.head = nn.Linear(2, 2, bias=False)


def test_change_findings_by_hand():
    torch.manual_seed(0)
    before, after = _Lstm(), _Lstm()
    after.load_state_dict(before.state_dict())
    with torch.no_grad():
        after.head.weight.mul_(3.0)                  # relative change 2
        after.encoder.projection.weight.mul_(2.0)    # the whole part (weight and bias): below 1
    result = change_findings(findings("frame_lstm_binary", "c3d_6class"),
                             {"frame_lstm_binary": SimpleNamespace(model=after)}, lambda name: before)
    assert list(result.table.columns) == ["frame_lstm_binary"]   # C3D is no LSTM: left out
    assert result.table.loc["head", "frame_lstm_binary"] == pytest.approx(2.0)
    values = result.glued()
    assert values["smallest_change"] == 0.0 and values["smallest_change_part"] == "encoder.stem"
    assert 0 < values["projection_change"] < 1 and values["change_reading"] == "Some part did NOT move"
    moved = ChangeFindings(pd.DataFrame({"a": [0.5, 0.25]}, index=["head", "encoder.stem"])).glued()
    assert moved["change_reading"] == "Every part moved" and moved["smallest_change_part"] == "encoder.stem"
    assert math.isnan(moved["projection_change"])
    empty = ChangeFindings(pd.DataFrame()).glued()
    assert math.isnan(empty["smallest_change"]) and empty["smallest_change_part"] == "-"


# --- 2. attention ----------------------------------------------------------------------------------------

def tiny_ica_lstm():
    return build_model("ica_lstm", {"num_classes": 2, "input_size": [16, 16], "hidden_size": 4, "head_size": 4,
                                    "attention_hops": 2, "attention_size": 3,
                                    "encoder": {"stem_channels": 2, "channels": [2], "stage_strides": [2],
                                                "pool_grid": [1, 1], "feature_size": 4}}, seed=0)


def test_attention_findings_of_a_tiny_ica_lstm():
    model = tiny_ica_lstm()
    clips = [SimpleNamespace(video=torch.rand(6, 1, 16, 16, generator=torch.Generator().manual_seed(k)))
             for k in range(5)]
    result = attention_findings(findings("frame_lstm_binary", "ica_lstm_binary"),
                                {"ica_lstm_binary": SimpleNamespace(model=model)}, lambda run: clips, videos=3)
    assert list(result.spreads) == ["ica_lstm_binary"]
    with torch.no_grad():
        expected = attended_frames(model.attention_weights(torch.stack([clips[k].video for k in (0, 2, 4)]))).numpy()
    np.testing.assert_allclose(result.spreads["ica_lstm_binary"], expected)
    values = result.glued()
    assert values["attention_length"] == 6 and values["attention_last"] == f"{expected[-1]:.1f} (ica_lstm_binary)"


def test_attention_readings_by_hand():
    spread = AttentionFindings({"a": np.array([1.0, 2.0, 3.0]), "b": np.array([1.0, 1.2, 1.4])}).glued()
    assert spread["attention_last"] == "3.0 (a), 1.4 (b)" and spread["attention_length"] == 3
    assert spread["attention_reading"].startswith("It is peaked")     # b's last step attends to under 1.5 frames
    assert AttentionFindings({"a": np.array([1.0, 2.0])}).glued()["attention_reading"].startswith("It is spread")
    assert AttentionFindings({}).glued() == {"attention_reading": "Not measured", "attention_length": 0,
                                             "attention_last": "not measured (no ICA-LSTM run)"}


# --- 3. batch dependence ---------------------------------------------------------------------------------

class _BatchNormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.convolution = nn.Conv2d(1, 3, 3, padding=1)
        self.norm = nn.BatchNorm2d(3)
        self.linear = nn.Linear(3 * 2 * 4 * 4, 2)

    def forward(self, videos):
        features = torch.relu(self.norm(self.convolution(videos.flatten(0, 1))))
        return self.linear(features.reshape(videos.shape[0], -1))


def test_dependence_findings_by_hand():
    torch.manual_seed(0)
    model = _BatchNormNet().double().eval()
    clips = [SimpleNamespace(video=torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(k),
                                              dtype=torch.float64)) for k in range(3)]
    result = dependence_findings(findings("frame_lstm_binary"), {"frame_lstm_binary": SimpleNamespace(model=model)},
                                 lambda run: clips, companions=5)
    assert result.companions == 2   # at most the other test videos
    videos = torch.stack([clip.video for clip in clips])
    target = int(model(videos[:1]).argmax())
    row = result.table.loc["frame_lstm_binary"]
    expected = batch_dependence(model, videos[0], videos[1:], target, training=True)
    assert row["training mode (seed 000)"] == pytest.approx(expected)
    assert row["eval mode (vidsal)"] < 1e-12 and row["batch norm layers"] == 1 and row["model in eval mode"]
    values = result.glued()
    assert values["eval_reading"] == "does not depend on its batch" and values["train_dependence"] > 1e-3
    assert values["refusal"] == "model: ['_BatchNormNet', 'convolution', 'norm'] in training mode"
    assert not model.training
    with pytest.raises(ConfigError, match="no run"):
        dependence_findings(AccuracyFindings(()), {}, lambda run: clips, 1)


def test_refusal_text_names_the_modules_in_training_mode_and_restores_eval_mode():
    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(4, 2)

        def forward(self, videos):
            return self.head(videos.flatten(1))

    model = Plain().eval()
    assert refusal_text(model, torch.rand(1, 1, 1, 2, 2)) == "model: ['Plain', 'head'] in training mode"
    assert not model.training and not model.head.training


# --- 4. clip onsets --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return tiny_corpus(tmp_path_factory.mktemp("corpus"))


def test_offset_findings_on_a_tiny_corpus(corpus):
    result = offset_findings(findings("c3d_6class", "frame_lstm_binary"), {"corpus": corpus}, epochs=4)
    assert result.classes == ("walking", "running") and result.evaluation_offset == "acting"
    assert sorted(result.offsets["epoch"].unique()) == [0, 1, 2, 3]
    assert result.offsets["offset"].between(0, 36 - 30).all()
    assert result.seed_accuracy == 1.0 and 0.0 <= result.accuracy <= 1.0
    values = result.glued()
    assert values["offset_clips"] == len(result.offsets)
    assert values["offset_range"] == f"{result.offsets.offset.min()}–{result.offsets.offset.max()}"
    with pytest.raises(ConfigError, match="epochs=1"):
        offset_findings(findings("frame_lstm_binary"), {"corpus": corpus}, epochs=1)
    none = offset_findings(findings("c3d_6class"), {}, epochs=4)
    assert none.offsets is None and set(none.glued()) == {"offset_accuracy", "seed_offset_accuracy"}
    assert all(math.isnan(value) for value in none.glued().values())


def test_offset_findings_glue_by_hand():
    offsets = pd.DataFrame({"epoch": [0, 0, 1, 1], "clip": [0, 1, 0, 1], "label": [0, 1, 0, 1], "offset": [2, 5, 0, 4]})
    values = OffsetFindings(("walking", "running"), offsets, 0.5, 1.0, "acting").glued()
    assert values == {"offset_accuracy": 0.5, "seed_offset_accuracy": 1.0, "offset_clips": 4, "offset_range": "0–5",
                      "evaluation_offset": "acting"}


def test_attention_of_runs_with_clips_of_other_lengths_is_read_and_drawn_per_run():
    import matplotlib

    matplotlib.use("Agg")
    from vidsal_core import plot
    from vidsal_study.chapters.models.defects import AttentionFindings

    spreads = {"ica_lstm_binary": np.linspace(1, 20, 30), "ica_lstm_binary_control": np.linspace(1, 10, 16)}
    values = AttentionFindings(spreads).glued()
    assert values["attention_length"] == "30 (ica_lstm_binary), 16 (ica_lstm_binary_control)"
    figure = models_figures.models_attention_spread(spreads)
    assert [len(line.get_xdata()) for line in figure.axes[0].lines[:3]] == [30, 30, 16]
