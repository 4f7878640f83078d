"""The time-contribution chapter's findings (tables, readings, claim rows) and its reader's-clip panels."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from _time_contribution_study import N_FRAMES, RUNS, study
from _toy_videos import TINY_MODELS
from vidsal_core.statistics import Estimate
from vidsal_study.chapters.time_contribution.study import (
    ClipPanel, Study, StudySettings, explain_own_clip, readers_model_panel, record_videos,
)
from vidsal_study.chapters.time_contribution.findings import (
    IN_VIEW_NEITHER, IN_VIEW_WORDS, LATE_WORDS, claim_table, claim_texts, estimate_text, pick_example, sign_reading,
    time_contribution_findings,
)
from vidsal_core.errors import ConfigError
from vidsal_core.models.registry import build_model

LSTM, ICA = RUNS


@pytest.fixture(scope="module")
def found():
    return time_contribution_findings(study())


def test_sign_reading_in_words():
    assert sign_reading(Estimate(-0.3, -0.5, -0.1, 4, 4), 0.0) == "negative"
    assert sign_reading(Estimate(0.7, 0.6, 0.8, 4, 4), 0.5) == "above 0.5"
    assert sign_reading(Estimate(0.0, float("nan"), float("nan"), 0, 0), 0.0) == "not distinguishable from zero"


def test_examples_are_the_least_visible_clips_both_models_get_right(found):
    # walking: clip 0 is least in view but the ICA-LSTM gets it wrong, so clip 1;
    # running: no clip is right for both, so the least visible running clip (2)
    assert found.examples == {"walking": 1, "running": 2}
    assert pick_example(study(), "running") == 2
    with pytest.raises(ConfigError, match="action='boxing'"):
        pick_example(study(), "boxing")
    values = found.example_values()
    assert values["example_walking"] == "person 2, scenario d2, video frames 10–15"
    assert values[f"example_walking_{LSTM}_max"] == pytest.approx(100 * 0.06 * 1.1)
    assert isinstance(values[f"example_running_{ICA}_rho"], float)
    title, video, curve, keyframes = found.example_panel(ICA, "clip")
    assert title == "SynthKTH walking clip, ICA-LSTM" and video == "clip"
    np.testing.assert_allclose(curve, study().records[ICA][1]["contribution"][1])


def test_overview_counts_and_accuracy(found):
    values = found.overview()
    assert (values["n_clips"], values["n_persons"], values["n_frames"]) == (4, 4, N_FRAMES)
    assert values["windows_text"] == "1, 3" and values["study_seconds"] == 1.5
    assert values["keyframes_per_clip"] == 2.0
    assert values[f"{LSTM}_accuracy"] == pytest.approx(75.0) and values[f"{ICA}_accuracy"] == pytest.approx(25.0)
    assert found.study_line("quick").startswith("profile quick: 4 test clips of 6 frames per model, 2 models")


def test_windows_drop_flips_and_synergy(found):
    drop = found.windows[(LSTM, 1)]["drop"]
    scales = [1.0 + 0.1 * clip for clip in range(4)]
    assert drop.mean == pytest.approx(np.mean([100 * 0.035 * scale for scale in scales]))  # mean of 0.01 * (1..6)
    assert found.windows[(LSTM, 3)]["flips"].mean == pytest.approx(100 * 0.2 * 1.5)
    assert found.windows[(LSTM, 1)]["synergy"] is None
    values = found.window_values()
    assert values[f"{LSTM}_drop_1"] == estimate_text(drop)
    assert f"{LSTM}_synergy_1" not in values and values[f"{LSTM}_synergy_largest"] == values[f"{LSTM}_synergy_3"]
    assert values["largest_window"] == 3
    assert values["single_frame_flips_max"] == pytest.approx(15.0)  # 0.1 * (0 + 1 + 2 + 3) / 4
    assert values[f"{LSTM}_synergy_largest_verdict"] == values[f"{LSTM}_synergy_3_verdict"]
    # the log-odds synergy beside it: 0.2 · (clip − 1.5) over clips 0..3 averages 0, in log-odds (not pp)
    logit = found.windows[(LSTM, 3)]["logit_synergy"]
    assert logit.mean == pytest.approx(0.0, abs=1e-12) and found.windows[(LSTM, 1)]["logit_synergy"] is None
    assert values[f"{LSTM}_logit_synergy_3"] == values[f"{LSTM}_logit_synergy_largest"] == estimate_text(logit)
    assert values[f"{LSTM}_logit_synergy_largest_verdict"] == "not distinguishable from zero"
    assert f"{LSTM}_logit_synergy_1" not in values
    table = found.window_table()
    assert list(table.index) == [("LSTM", 1), ("LSTM", 3), ("ICA-LSTM", 1), ("ICA-LSTM", 3)]
    assert table.loc[("LSTM", 1), "synergy (pp)"] == "—" and table.loc[("LSTM", 1), "synergy (log-odds)"] == "—"
    assert table.loc[("LSTM", 3), "synergy (log-odds)"] == estimate_text(logit)


def test_bounded_quantities_keep_their_interval_in_range(found):
    # the share of masks that flip (0–100 %) and the AUCs (0–1) get the bounded interval; drops keep the t interval
    from vidsal_core.statistics import mean_interval

    flips = found.windows[(LSTM, 3)]["flips"]
    values, persons = [100 * 0.2 * clip for clip in range(4)], [1, 2, 3, 4]
    bounded = mean_interval(values, persons, bounds=(0, 100))
    assert (flips.low, flips.high) == pytest.approx((bounded.low, bounded.high))
    assert 0.0 <= flips.low and flips.high <= 100.0 and mean_interval(values, persons).low < 0.0
    auc = found.study.estimate(LSTM, "auc_contribution_keyframes")
    assert 0.0 <= auc.low <= auc.mean <= auc.high <= 1.0
    in_view = found.baselines[(LSTM, "zero")]["auc"]
    assert 0.0 <= in_view.low <= in_view.high <= 1.0


def test_baselines_skip_masks_a_model_lacks(found):
    assert set(found.baselines) == {(LSTM, "zero"), (LSTM, "blur"), (ICA, "zero")}
    # the main baseline's single-frame curve is the study's own
    assert found.baselines[(LSTM, "zero")]["drop"].mean == pytest.approx(found.windows[(LSTM, 1)]["drop"].mean)
    values = found.baseline_values()
    assert sorted(values) == sorted([f"{LSTM}_zero_rho", f"{LSTM}_zero_drop", f"{LSTM}_blur_rho", f"{LSTM}_blur_drop",
                                     f"{ICA}_zero_rho", f"{ICA}_zero_drop"])
    assert list(found.baseline_table().index) == [("LSTM", "zero"), ("LSTM", "blur"), ("ICA-LSTM", "zero")]


def test_positions_late_frames_and_accuracy_drop(found):
    # second half (drops 4, 5, 6) minus first half (1, 2, 3) of 0.01 per frame: 3 pp times each clip's scale
    assert found.late_minus_early[LSTM].mean == pytest.approx(3 * np.mean([1.0, 1.1, 1.2, 1.3]))
    values = found.position_values()
    assert values[f"{LSTM}_late_reading"] == LATE_WORDS["positive"]
    assert values[f"{LSTM}_max_accuracy_drop"] == pytest.approx(2.0) and values[f"{ICA}_max_accuracy_frame"] == 4
    assert values["largest_accuracy_drop"] == pytest.approx(3.0) and values["accuracy_tells"] == "hardly tells"


def test_agreement_and_the_paired_comparison(found):
    values = found.agreement_values()
    assert values[f"{LSTM}_rho_contribution_visibility_count"] == 4
    expected = np.mean([clip["rho_contribution_visibility"] for clip in study().records[LSTM]])
    assert found.study.estimate(LSTM, "rho_contribution_visibility").mean == pytest.approx(expected)
    difference = found.comparisons[(LSTM, "visibility")]
    records = study().records[LSTM]
    assert difference.mean == pytest.approx(np.mean([r["rho_contribution_visibility"] - r["rho_keyframes_visibility"]
                                                     for r in records]))
    assert values[f"{LSTM}_better_visibility"].startswith(estimate_text(difference) + ": ")
    assert values[f"{ICA}_in_view_reading"] in (*IN_VIEW_WORDS.values(), IN_VIEW_NEITHER)
    table = found.agreement_table()
    assert table.shape == (7, 2) and list(table.columns) == ["LSTM", "ICA-LSTM"]


def test_claim_rows_and_their_texts(found):
    rows = found.claim_rows()
    assert len(rows) == 12 and [row["verdict"] for row in rows[3:6]] == ["new", "new", "new"]
    assert rows[0]["quantity"] == "Spearman ρ, time contribution vs true visibility (LSTM)"
    # the set-of-frames claim is tested in log-odds; the probability synergy is a measurement beside it
    assert rows[2]["quantity"].startswith("synergy of 3-frame windows in the target's log-odds")
    assert rows[2]["note"] == "baseline zero" and rows[2]["verdict"] != "new"
    assert rows[2]["estimate"] == pytest.approx(0.0, abs=1e-12) and rows[2]["claim"] == rows[3]["claim"]
    assert rows[3]["quantity"].startswith("synergy of 3-frame windows in probability")
    assert "saturates" in rows[3]["note"] and rows[3]["estimate"] == pytest.approx(100 * 0.01 * 0.5)
    assert rows[4]["note"] == "of the 24 single-frame masks of 4 clips"
    assert rows[4]["estimate"] == pytest.approx(15.0)
    table = claim_table(rows)
    assert list(table.columns) == ["claim", "quantity", "estimate", "low", "high", "units", "verdict"]
    texts = claim_texts(rows)
    assert list(texts) == [f"claim_{position}" for position in range(12)]
    assert texts["claim_4"].startswith("new (+15 [")


def test_blur_solution_compares_verdicts_or_says_blur_is_missing(found):
    lines = found.blur_solution().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("- LSTM, ρ with visibility: zero ") and "; blur " in lines[0]
    assert lines[2] == "- ICA-LSTM: no blurred masks at this profile (`baselines` lacks blur)"


def test_findings_refuse_an_empty_or_uneven_study():
    settings = StudySettings(runs=RUNS)
    with pytest.raises(ConfigError, match="study: no records"):
        time_contribution_findings(Study(settings))
    uneven = study()
    uneven.records[ICA] = uneven.records[ICA][:3]
    with pytest.raises(ConfigError, match="different numbers of clips"):
        time_contribution_findings(uneven)
    with pytest.raises(ConfigError, match="run='nope'"):
        record_videos("quick", study(), {"walking": 0}, run="nope")


def test_explain_own_clip_with_a_frame_model():
    model = build_model("frame_lstm", TINY_MODELS["frame_lstm"], seed=0).eval()
    clip = torch.rand(8, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    panel, message = explain_own_clip(model, clip, "me.avi", StudySettings(), ("walking", "running"), "LSTM")
    assert isinstance(panel, ClipPanel) and panel.video is clip
    assert panel.contribution.shape == (8,) and panel.title.startswith("your clip me.avi: LSTM predicts ")
    assert message.startswith("me.avi: 8 frames of 16x16; predicted ")
    with pytest.raises(ConfigError, match=r"video='short.avi': 5 frames"):
        explain_own_clip(model, clip[:5], "short.avi", StudySettings(), ("walking", "running"), "LSTM")


@pytest.fixture
def brightness_module(tmp_path, monkeypatch):
    (tmp_path / "brightness_model.py").write_text(
        "import torch\n"
        "from torch import nn\n"
        "class Brightness(nn.Module):\n"
        "    # class 1 grows with the mean brightness\n"
        "    def forward(self, videos):\n"
        "        level = videos.mean(dim=(1, 2, 3, 4))\n"
        "        return torch.stack([torch.zeros_like(level), 10.0 * level], dim=1)\n"
        "def build():\n"
        "    return Brightness()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "brightness_model:build"
    sys.modules.pop("brightness_model", None)


def test_readers_model_panel_names_its_classes(brightness_module):
    clip = torch.full((6, 1, 8, 8), 0.8)
    settings = StudySettings(baseline="mean")
    panel, message = readers_model_panel(brightness_module, clip, settings, "dark, bright", "your clip")
    assert panel.title.startswith(f"your model {brightness_module} on your clip: predicts bright (p = ")
    # every frame carries the same brightness: equal drops, masked with zero (the "mean" baseline falls back)
    np.testing.assert_allclose(panel.contribution, panel.contribution[0])
    assert panel.contribution[0] > 0 and message.endswith("(baseline zero)")
    assert readers_model_panel(brightness_module, clip, settings)[0].title.split(": ")[1].startswith("predicts class 1")
    with pytest.raises(ConfigError, match="model_classes='dark'"):
        readers_model_panel(brightness_module, clip, settings, "dark")
