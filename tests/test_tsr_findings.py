"""The TSR chapter's findings (vidsal_study.chapters.tsr.findings) on a hand-made study, and its helpers in tsr_study."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from _toy_videos import moving_square_clip
from vidsal_study.chapters.tsr.findings import (
    CLOSER_WORDS,
    DIFFERENCES,
    NO_EMPTY_FRAMES,
    blocks_per_frame,
    claim_rows,
    cost_findings,
    paired_difference,
    rule_findings,
    shortcut_findings,
    study_overview,
    superpixel_cost_glued,
    tsr_findings,
)
from vidsal_study.chapters.evaluation.findings import mask_sentence
from vidsal_study.chapters.tsr.findings import LEGS_CLAIM_ID, ONE_STEP_CLAIM_ID
from vidsal_study.chapters.tsr.study import (
    METHODS,
    SEED_SETTING,
    Examples,
    SeedSettingCost,
    Study,
    StudySettings,
    example_clips,
    explain_own_clip,
    metric_table,
    model_label,
    seed_pass_count,
    seed_setting_factorised,
)
from vidsal_core.errors import ConfigError

RUNS = ("frame_lstm_binary", "other_run")
PERSONS = (1, 2, 3, 4)
FRAMES = 4


def metrics(action: str, person: int) -> dict:
    """Scores of a clip: map k of METHODS scores 0.1 k + 0.01 person; running clips of persons 1, 2 have empty frames."""
    empty = action == "running" and person <= 2
    visibility = [1.0, 1.0, 0.0, 0.0] if empty else [1.0, 1.0, 1.0, 1.0]
    result = {}
    for k, method in enumerate(METHODS):
        value = 0.1 * k + 0.01 * person
        result[method] = {"person": value + 0.3, "legs": value, "rho_true": value,
                          "rho_farneback": 1.0 if method == "farneback" else value,
                          "empty": 0.5 + 0.1 * k if empty else math.nan, "late": 1 / 3 + 0.01 * k}
    result["chance"] = {"person": 0.2, "legs": 0.05 + 0.01 * person, "empty": 0.5 if empty else math.nan,
                        "late": 1 / 3, "visibility": visibility}
    return result


def results_table() -> pd.DataFrame:
    rows = []
    for run in RUNS:
        for person in PERSONS:
            for label, action in enumerate(("walking", "running")):
                rows.append({"run": run, "key": f"{action}{person}", "person": person, "action": action,
                             "scenario": "d1", "metrics": metrics(action, person), "label": label,
                             "prediction": label if person != 4 else 1 - label,  # person 4 misclassified
                             "tsr_selected": [2, 3], "seconds": {"tsr_blocks": 0.5 * person},
                             "superpixel_calls": 1 + FRAMES + 2 * (40 + person)})
    return pd.DataFrame(rows)


def test_blocks_per_frame_cut_at_the_edge():
    assert blocks_per_frame(30, 40, 5) == 6 * 8
    assert blocks_per_frame(60, 80, 7) == 9 * 12  # ceil(60/7) * ceil(80/7)
    with pytest.raises(ConfigError, match="block_size"):
        blocks_per_frame(30, 40, 0)


def test_study_overview_counts_clips_and_accuracy():
    settings = StudySettings(RUNS, 4, 5, 48, "reference_code", 10, 1)
    study = Study(settings, None, {RUNS[0]: {"size": [30, 40], "clip_length": FRAMES}}, [], results_table(), 12.5)
    overview = study_overview(study, "quick")
    glued = overview.glued()
    assert glued["videos"] == 8 and glued["persons"] == 4 and glued["frames"] == FRAMES
    assert glued["frame_size"] == "30×40" and glued["blocks"] == 48 and glued["variant"] == "reference code"
    assert glued[f"accuracy_{RUNS[0]}"] == pytest.approx(6 / 8) and glued["study_seconds"] == 12.5
    assert overview.text().splitlines()[1] == "share of these clips classified correctly: FrameLSTM 0.75, other_run 0.75"


def test_paired_difference_is_the_per_clip_difference():
    long = metric_table(results_table(), "legs")
    difference = paired_difference(long, RUNS[0], "tsr_blocks", "gradient")
    assert difference.mean == pytest.approx(0.2)  # 0.1 * (2 - 0) on every clip
    assert difference.count == 8 and difference.units == 4
    with pytest.raises(ConfigError, match="first"):
        paired_difference(long, RUNS[0], "tsr", "gradient")


def test_tsr_findings_estimates_table_and_glued_texts():
    found = tsr_findings(results_table(), RUNS)
    mean_person = np.mean(PERSONS) * 0.01
    assert found.estimates[RUNS[0], "gradient", "legs"].mean == pytest.approx(mean_person)
    assert found.estimates[RUNS[0], "one_step", "rho_true"].mean == pytest.approx(0.1 + mean_person)
    assert found.estimates[RUNS[0], "chance", "legs"].mean == pytest.approx(0.05 + mean_person)
    assert (RUNS[0], "farneback", "rho_farneback") not in found.estimates
    assert found.differences[RUNS[1], "one_step_vs_tsr_rho"].mean == pytest.approx(-0.1)
    assert set(found.differences) == {(run, name) for run in RUNS for name in DIFFERENCES}
    table = found.table
    assert list(table.columns) == ["person share %", "legs share %", "ρ true motion", "ρ Farnebäck"]
    assert table.loc[("FrameLSTM", "Farnebäck |flow|"), "ρ Farnebäck"] == "1 (itself)"
    assert table.loc[("FrameLSTM", "chance (area)"), "ρ true motion"] == ""
    assert len(table) == 2 * (len(METHODS) + 1)
    glued = found.glued()
    assert glued[f"{RUNS[0]}_gradient_legs"].startswith("2.5 [")  # 100 * 0.025, one decimal
    assert glued[f"{RUNS[0]}_tsr_vs_gradient_legs"].startswith("20.00 [")
    assert f"{RUNS[0]}_farneback_rho_farneback" not in glued
    assert glued["tsr_closer_side"] == CLOSER_WORDS[found.closer_side] == "better than"


def test_shortcut_findings_by_hand():
    shortcut = shortcut_findings(results_table(), RUNS)
    assert shortcut.running_clips[RUNS[0]] == 4 and shortcut.running_with_empty[RUNS[0]] == 2
    # map k puts 0.5 + 0.1 k of its mass on frames that are half of the clip: 10 k points too many
    assert shortcut.estimates[RUNS[0], "tsr_blocks", "empty"].mean == pytest.approx(20.0)
    assert shortcut.estimates[RUNS[0], "tsr_blocks", "empty"].count == 2
    assert shortcut.estimates[RUNS[0], "one_step", "late"].mean == pytest.approx(1.0)
    # TSR selects frames 2 and 3, both empty, where half of the frames are: 50 points more often
    assert shortcut.estimates[RUNS[0], "selected_empty"].mean == pytest.approx(50.0)
    assert shortcut.favoured == "TSR only"  # the gradient's excess is 0
    glued = shortcut.glued()
    assert glued["running_clips"] == 4 and glued["shortcut_favoured"] == "TSR only"
    assert glued[f"{RUNS[0]}_tsr_blocks_empty"].startswith("20.0 [")
    assert list(shortcut.table.columns) == ["mass on empty frames − their share (points)",
                                            "mass on last third − 33.3 (points)"]


def test_shortcut_findings_without_empty_frames():
    results = results_table()
    results = results[results["person"] > 2]
    shortcut = shortcut_findings(results, RUNS)
    glued = shortcut.glued()
    assert shortcut.favoured == NO_EMPTY_FRAMES == glued["shortcut_favoured"]
    assert glued[f"{RUNS[0]}_selected_empty"] == "n/a (no running clip has an empty frame)"
    assert glued[f"{RUNS[0]}_gradient_empty"] == "n/a" and glued[f"{RUNS[0]}_running_with_empty"] == 0
    assert list(shortcut.table.columns) == ["mass on last third − 33.3 (points)"]


def costs_table() -> pd.DataFrame:
    """engine_costs' shape: all three engines at 6-pixel blocks, the naive loop extrapolated at 4."""
    rows = [(6, "naive loop", 100, 10.0, True, 0.1, 0.0), (6, "batched", 100, 5.0, True, np.nan, 1e-7),
            (6, "factorised", 100, 1.0, True, np.nan, 2e-7), (4, "naive loop", 200, 20.0, False, 0.1, np.nan),
            (4, "batched", 200, 8.0, True, np.nan, 0.0), (4, "factorised", 200, 2.0, True, np.nan, 3e-7)]
    columns = ["block_size", "engine", "passes", "seconds", "measured", "seconds_per_pass", "max_difference"]
    return pd.DataFrame([dict(zip(columns, row), selected=3) for row in rows])


def test_cost_findings_by_hand():
    seed = SeedSettingCost(60.0, 2047, "bench record")
    cost = cost_findings(costs_table(), results_table(), RUNS, 4, {"seconds": 0.5}, seed)
    assert cost.paper_passes == seed_pass_count(3) == 1 + 30 + 3 * 144
    assert cost.speedups == {"batched": pytest.approx(2.5), "factorised": pytest.approx(10.0)}
    assert cost.exactness == 3e-7 and cost.chapter_seconds("factorised") == 2.0
    assert math.isnan(cost.chapter_seconds("gpu"))
    glued = cost.glued()
    assert glued["naive_passes"] == 100 and glued["naive_pass_seconds"] == 0.1 and glued["chapter_passes"] == 200
    assert glued["naive_extrapolated_seconds"] == 20.0 and glued["selected_frames"] == 3
    assert glued["speedup_factorised"] == pytest.approx(10.0) and glued["seconds_batched"] == 8.0
    assert glued["paper_naive_minutes"] == pytest.approx(0.5 * 463 / 60)
    assert glued["seed_factorised_vs_hour"] == pytest.approx(60.0)
    assert glued["seed_factorised_vs_naive"] == pytest.approx(0.5 * 463 / 60)
    assert glued["exactness"] == "3.0e-07" and glued["seed_seconds_per_pass"] == pytest.approx(3600 / 463)
    assert glued[f"tsr_seconds_{RUNS[0]}"] == pytest.approx(0.5 * np.mean(PERSONS))
    table = cost.table
    assert len(table) == 6 + 3 and list(table["setting"][:2]) == ["6×6 blocks", "6×6 blocks"]
    assert list(table["how"][3:4]) == ["extrapolated: passes × s/pass"]
    assert list(table["setting"][6:]) == [SEED_SETTING] * 3
    assert list(table["passes (naive loop)"][6:]) == [463, 2047, 463]


def test_cost_findings_without_the_paper_pass_or_a_record():
    cost = cost_findings(costs_table(), results_table(), RUNS, 4, None, SeedSettingCost(math.nan, None, "none"))
    assert len(cost.table) == 6 + 2 and cost.paper_naive_seconds is None
    assert list(cost.table["passes (naive loop)"][6:]) == [463, 463]
    glued = cost.glued()
    assert math.isnan(glued["paper_pass_seconds"]) and math.isnan(glued["seed_factorised_vs_naive"])
    with pytest.raises(ConfigError, match="costs"):
        cost_findings(costs_table()[costs_table()["measured"]], results_table(), RUNS, 4, None, cost.seed)


#: Per mask value, the paired difference of every clip's comparisons before the person's share (0.01 per person).
MASK_SHIFTS = {"zero": -0.3, "first_element": -0.2, "blur": 0.3}


def with_rule(results: pd.DataFrame) -> pd.DataFrame:
    """The results with a hand-made ``rule`` column: difference = shift + 0.01 person on every in-view frame,
    shift / 2 on the frames TSR selected."""
    results = results.copy()

    def comparison(shift, person):
        return {"in_view": {"difference": shift + 0.01 * person, "first": 0.5, "second": 0.5 - shift, "frames": 4},
                "selected": {"difference": shift / 2, "first": 0.6, "second": 0.6 - shift / 2, "frames": 2}}

    names = ("one_step_vs_tsr_rho", "tsr_vs_gradient_auroc_legs", "tsr_vs_gradient_auroc_person")
    results["rule"] = [{mask: {name: comparison(shift, person) for name in names} for mask, shift in MASK_SHIFTS.items()}
                       for person in results["person"]]
    return results


def test_rule_findings_and_rows_per_mask_value():
    results = results_table()
    many = with_rule(pd.DataFrame([{"run": run, "person": person} for run in RUNS for person in range(1, 9)]))
    rule = rule_findings(many, RUNS)
    assert rule.mask_values[0] == "first_element" and set(rule.mask_values) == set(MASK_SHIFTS)
    estimate = rule.estimate(RUNS[0], "blur", "one_step_vs_tsr_rho")
    assert estimate.mean == pytest.approx(0.3 + 0.01 * 4.5) and estimate.units == 8
    assert rule.estimate(RUNS[0], "zero", "one_step_vs_tsr_rho", "selected").mean == pytest.approx(-0.15)
    assert rule.glued()[f"rule_{RUNS[0]}_blur_one_step_vs_tsr_rho_selected"].startswith("0.15")
    found, shortcut = tsr_findings(results, RUNS), shortcut_findings(results, RUNS)
    cost = cost_findings(costs_table(), results, RUNS, 4, {"seconds": 0.5}, SeedSettingCost(60.0, 2047, "bench"))
    claims = claim_rows(found, shortcut, cost, (30, 40), rule)
    rows = [claim for claim in claims if claim["claim_id"] in (ONE_STEP_CLAIM_ID, LEGS_CLAIM_ID)]
    # seed 000's own finding is counted under seed 000, the legs claim under Ismail et al. (2020)
    assert {row["source"] for row in rows if row["claim_id"] == ONE_STEP_CLAIM_ID} == {"000"}
    assert {row["source"] for row in rows if row["claim_id"] == LEGS_CLAIM_ID} == {"ismail2020"}
    assert len(rows) == 2 * len(RUNS) * len(MASK_SHIFTS)
    first = rows[0]
    assert first["quantity"].endswith("(FrameLSTM, mask=first_element)") and first["note"].startswith("headline")
    verdicts = {row["quantity"].rsplit("mask=", 1)[1][:-1]: row["verdict"] for row in rows[:len(MASK_SHIFTS)]}
    assert verdicts == {"first_element": "contradicted", "zero": "contradicted", "blur": "reproduced"}
    assert mask_sentence(claims, ONE_STEP_CLAIM_ID, "FrameLSTM") == ("reproduced with the blurred-copy mask; contradicted "
                                                                   "with the first-element and zero masks")


def test_claim_rows_judge_the_seeds_claims_and_report_the_new_results():
    results = results_table()
    found, shortcut = tsr_findings(results, RUNS), shortcut_findings(results, RUNS)
    cost = cost_findings(costs_table(), results, RUNS, 4, {"seconds": 0.5}, SeedSettingCost(60.0, 2047, "bench"))
    claims = claim_rows(found, shortcut, cost, (30, 40))
    assert len(claims) == 2 + 3 + 1 + 1  # without the rule's findings, no TSR claim rows
    assert [claim["verdict"] for claim in claims[:2]] != ["new", "new"]
    assert all(claim["verdict"] == "new" for claim in claims[2:])
    hour, speedup = claims[2], claims[3]
    assert hour["estimate"] == pytest.approx(0.5 * 463) and "2.00 s at 30x40" in hour["note"]
    assert speedup["estimate"] == pytest.approx(10.0) and "4x4 blocks" in speedup["quantity"]
    assert claims[-1]["estimate"] == pytest.approx(100 * 0.1)  # superpixel − block TSR legs, points
    assert "(FrameLSTM)" in claims[0]["quantity"]
    without_empty = results[results["person"] > 2]
    fewer = claim_rows(tsr_findings(without_empty, RUNS), shortcut_findings(without_empty, RUNS), cost, (30, 40))
    assert len(fewer) == len(claims) - 1  # no empty-frame row


def test_superpixel_cost_glued_scales_the_feature_term():
    glued = superpixel_cost_glued(results_table(), RUNS, FRAMES, blocks=48, superpixels=48)
    calls = 1 + FRAMES + 2 * (40 + np.mean(PERSONS))
    assert glued[f"solution_3_calls_{RUNS[0]}"] == pytest.approx(calls)
    assert glued[f"solution_3_calls_4x_{RUNS[0]}"] == pytest.approx(1 + FRAMES + 4 * (calls - 1 - FRAMES))
    assert glued["solution_3_superpixels_4x"] == 4 * 48
    with pytest.raises(ConfigError, match="superpixels"):
        superpixel_cost_glued(results_table(), RUNS, FRAMES, blocks=48, superpixels=0)


def test_model_label_and_seed_pass_count():
    assert model_label("frame_lstm_binary") == "FrameLSTM" and model_label("mine") == "mine"
    assert seed_pass_count(0) == 31


def test_seed_setting_factorised_reads_the_bench_record(tmp_path):
    record = tmp_path / "tsr_seed_setting.json"
    record.write_text(json.dumps({"date": "2026-01-01", "machine": "a laptop",
                                  "factorised": {"seconds": 123.0}, "naive": {"passes": 2047,
                                                                              "extrapolated_seconds": 9999.4}}))
    found = seed_setting_factorised("bench", record)
    assert (found.seconds, found.passes) == (123.0, 2047)
    assert "2026-01-01, a laptop" in found.how and "naive loop there 9999 s extrapolated" in found.how
    missing = seed_setting_factorised("bench", tmp_path / "none.json")
    assert math.isnan(missing.seconds) and missing.passes is None and "no bench record" in missing.how
    with pytest.raises(ConfigError, match="mode"):
        seed_setting_factorised("guess", record)


def tiny_examples(frames: int = 10) -> Examples:
    generator = torch.Generator().manual_seed(0)
    clips, explained, entries = {}, {}, {}
    for action in ("walking", "running"):
        clips[action] = {"video": torch.rand(frames, 1, 6, 8, generator=generator), "label": 0,
                         "parts": torch.randint(0, 3, (frames, 6, 8), generator=generator),
                         "visibility": torch.linspace(1, 0, frames, dtype=torch.float64),
                         "motion": torch.rand(frames, 6, 8, generator=generator), "frames": list(range(5, 5 + frames))}
        entries[action] = {"person": 7, "scenario": "d2", "action": action}
        for run in RUNS:
            maps = {method: torch.rand(frames, 1, 6, 8, generator=generator) for method in METHODS[:-1]}
            maps["farneback"] = torch.rand(frames - 1, 6, 8, generator=generator)
            selected = torch.zeros(frames, dtype=torch.bool)
            selected[[2, frames - 1]] = True
            explained[run, action] = {"maps": maps, "probability": 0.75, "target": 1,
                                      "tsr": {"tsr_blocks": type("TSR", (), {"selected": selected})()}}
    return Examples(RUNS, 7, entries, clips, explained)


def test_examples_glue_probabilities_and_build_the_explorers_layers():
    examples = tiny_examples()
    glued = examples.glued()
    assert glued["example_person"] == 7 and glued[f"p_{RUNS[1]}_running"] == 0.75 and len(glued) == 5
    layers = examples.explorer_layers()
    assert list(layers) == ["walking", "running"]
    names = list(layers["running"])
    assert names[0] == "FrameLSTM · |gradient|" and names[4] == "other_run · |gradient|"
    assert names[-3:] == ["Farnebäck |flow| (none on the last frame)", "true motion |u|", "body parts"]
    flow = layers["running"]["Farnebäck |flow| (none on the last frame)"]
    assert flow.shape[0] == 10 and float(flow[-1].abs().sum()) == 0.0
    assert set(layers["running"]["body parts"].unique().tolist()) <= {0.0, 1.0}
    assert examples.explorer_title("walking") == ("walking: person 7, d2 — frame t of the clip is video frame 5 + t")


def test_example_clips_refuse_a_person_not_in_the_study():
    settings = StudySettings(RUNS, 1, 5, 48, "reference_code", 10, 1)
    study = Study(settings, None, {}, [{"person": 2, "action": "walking"}, {"person": 2, "action": "running"}],
                  pd.DataFrame(), 0.0)
    with pytest.raises(ConfigError, match=r"example_person=5.*\[2\]"):
        example_clips("quick", study, 5)


def test_explain_own_clip_needs_two_frames(tmp_path):
    clip = moving_square_clip(tmp_path / "clip.avi", frames=4)
    settings = StudySettings(RUNS, 1, 5, 48, "reference_code", 10, 1)
    with pytest.raises(ConfigError, match="video=.*two frames"):
        explain_own_clip("quick", clip, settings, {"size": [30, 40], "clip_length": 1})


def test_tsr_findings_without_superpixel_tsr_score_the_other_maps_alike():
    full = results_table()
    light = full.assign(metrics=[{name: values for name, values in row.items() if name != "tsr_superpixels"}
                                 for row in full["metrics"]])
    found, kept = tsr_findings(full, RUNS), tsr_findings(light, RUNS)
    assert all((run, "tsr_superpixels", "legs") not in kept.estimates for run in RUNS)
    assert {key: value for key, value in found.estimates.items() if key[1] != "tsr_superpixels"} == kept.estimates
    assert set(kept.differences) == {(run, name) for run in RUNS for name, (_, first, second) in DIFFERENCES.items()
                                     if "tsr_superpixels" not in (first, second)}
