"""What the evaluation chapter reads from its sweeps, on small hand-made results whose answer is known."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from vidsal_study.chapters.evaluation import findings
from vidsal_study.chapters.evaluation.study import METRICS
from vidsal_core.statistics import Estimate
from vidsal_study.results import check_row, record_claims, read_claims

PERSONS = [1, 2, 3, 4, 5, 6, 7, 8]
#: A small per-person wobble, so that every interval has a width.
WOBBLE = np.array([0.01, -0.01, 0.02, -0.02, 0.0, 0.01, -0.01, 0.0])


def sweep(model: str = "m", **methods) -> pd.DataFrame:
    """One row per (method, person) with every metric; ``methods``: method → {metric: mean value}."""
    rows = []
    for method, values in methods.items():
        for index, person in enumerate(PERSONS):
            row = {"model": model, "method": method, "video": f"v{person}", "person": person, "seconds": 0.5}
            row.update({metric: 0.5 + WOBBLE[index] for metric in METRICS})
            row.update({metric: value + WOBBLE[index] for metric, value in values.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def synthkth() -> pd.DataFrame:
    """The input gradient localises and is faithful over frames; TSR neither; flow localises best of all."""
    return sweep(input_gradient={"auroc_person": 0.9, "person_lift": 0.2, "frames_deletion_auc": 0.2,
                                 "frames_insertion_auc": 0.8},
                 tsr={"auroc_person": 0.6, "person_lift": -0.1},
                 flow={"auroc_person": 0.97, "person_lift": 0.3},
                 random={"person_lift": 0.0})


METHODS = ("input_gradient", "tsr", "flow", "random")


def test_the_examples_of_the_docstrings_run():
    result = doctest.testmod(findings, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_the_best_method_is_a_saliency_method_and_the_lists_say_which_localise_and_are_faithful():
    found = findings.evaluation_findings(synthkth(), METHODS, ["m"])
    assert found.best == {"m": "input_gradient"}, "flow is a baseline, never the best method"
    assert found.saliency_methods == ["input_gradient", "tsr"]
    assert found.localising == {"m": ["input_gradient"]}
    assert found.faithful == {"m": ["input gradient (frames)"]}
    assert set(found.against_random) == {("m", "input_gradient"), ("m", "tsr"), ("m", "flow")}
    assert found.against_random[("m", "input_gradient")]["frames_deletion"].mean == pytest.approx(-0.3)
    assert found.tsr_vs_gradient["m"].mean == pytest.approx(-0.3)
    assert found.flow_vs_best["m"].mean == pytest.approx(0.07)
    texts = found.glued()
    assert texts["best_m"] == "input gradient"
    assert texts["best_m_auroc"] == texts["gradient_m_auroc"] == found.interval("m", "input_gradient", "auroc_person")
    assert texts["best_m_auroc"].startswith("0.90 [")
    assert texts["tsr_minus_gradient_m_word"] == "lower" and texts["flow_minus_best_m_word"] == "higher"
    assert texts["tsr_minus_gradient_m"] == str(found.tsr_vs_gradient["m"])
    assert texts["localising_methods"] == "- **m**: input gradient"
    assert texts["faithful_methods"] == "- **m**: input gradient (frames)"
    assert texts["occlusion_m_deletion"] == "n/a", "a method the sweep did not run reads n/a"
    assert texts["gradient_m_deletion"].startswith("0.20 [")


def test_a_model_with_nothing_to_select_says_no_method_and_missing_differences_are_not_different():
    results = sweep(input_gradient={"auroc_person": 0.5}, random={})
    found = findings.evaluation_findings(results, ("input_gradient", "tsr", "flow", "random"), ["m"])
    assert found.localising == {"m": []} and found.faithful == {"m": []}
    texts = found.glued()
    assert texts["localising_methods"] == "- **m**: no method" and texts["faithful_methods"] == "- **m**: no method"
    assert texts["tsr_minus_gradient_m"] == "n/a"
    assert texts["tsr_minus_gradient_m_word"] == "not different (the interval spans 0)"


def test_the_metric_table_writes_every_interval_with_two_decimals():
    table = findings.evaluation_findings(synthkth(), METHODS, ["m"]).metric_table()
    assert list(table.columns) == list(findings.TABLE_COLUMNS.values())
    assert ("m", "input gradient") in table.index and len(table) == 4
    assert table.loc[("m", "input gradient"), "per-frame AUROC person"].startswith("0.90 [")


def test_table_estimate_and_its_text():
    table = pd.DataFrame([{"model": "m", "method": "a", "metric": "x", "mean": 0.5, "low": 0.25, "high": 0.75,
                           "count": 4, "units": 2},
                          {"model": "m", "method": "b", "metric": "x", "mean": np.nan, "low": np.nan,
                           "high": np.nan, "count": 0, "units": 0}])
    assert findings.table_estimate(table, "m", "a", "x") == Estimate(0.5, 0.25, 0.75, 4, 2)
    assert findings.table_estimate(table, "m", "b", "x") is None
    assert findings.table_estimate(table, "m", "c", "x") is None
    assert findings.estimate_text(Estimate(np.nan, np.nan, np.nan, 0)) == "n/a"


def masks_frame(c3d_zero: float, c3d_first: float, with_c3d: bool = True, persons: int = 4) -> pd.DataFrame:
    """TSR's mask ablation: the LSTM localises worse with the zero mask (0.4) than with the first element (0.7).

    The gradient scores 0.6 on every in-view frame; on the frames TSR selected, TSR and the gradient both 0.8.
    """
    rows = []
    values = {("lstm", "zero"): 0.4, ("lstm", "first_element"): 0.7,
              ("c3d", "zero"): c3d_zero, ("c3d", "first_element"): c3d_first}
    for (run, mask_value), value in values.items():
        if run == "c3d" and not with_c3d:
            continue
        for index, person in enumerate(PERSONS[:persons]):
            tsr = value + WOBBLE[index % len(WOBBLE)]
            comparison = {"in_view": {"first": tsr, "second": 0.6, "difference": tsr - 0.6, "frames": 5},
                          "selected": {"first": 0.8, "second": 0.8, "difference": 0.0, "frames": 2}}
            rows.append({"model": run, "mask_value": mask_value, "mask_mean": 0.5, "video": f"{run}{person}",
                         "person": person, "tsr_auroc_in_view": tsr,
                         "tsr_auroc_selected": np.nan, "pooled_auroc_person": value,
                         "person_intensity": 0.2, "background_intensity": 0.8 if run == "lstm" else 0.6,
                         "comparison": comparison})
    return pd.DataFrame(rows)


def test_mask_comparisons_and_their_rows_per_mask_value():
    masks = findings.mask_comparisons(masks_frame(0.3, 0.8, persons=len(PERSONS)), ["lstm", "other", "c3d"])
    assert masks.runs == ("lstm", "c3d") and masks.mask_values == ("zero", "first_element")
    assert masks.estimates["lstm", "zero", "in_view", "difference"].mean == pytest.approx(-0.2, abs=0.05)
    assert masks.estimates["lstm", "zero", "selected", "difference"].mean == 0.0
    rows = findings.tsr_mask_rows(masks)
    assert [row["quantity"].rsplit("(", 1)[1] for row in rows] == [
        "lstm, mask=first_element)", "lstm, mask=zero)", "c3d, mask=first_element)", "c3d, mask=zero)"]
    assert rows[0]["note"].startswith("headline") and "on the frames TSR selected: 0.00 [" in rows[0]["note"]
    assert [row["verdict"] for row in rows] == ["reproduced", "contradicted", "reproduced", "contradicted"]
    assert findings.mask_sentence(rows, findings.TSR_CLAIM_ID, "lstm") == (
        "reproduced with the first-element mask; contradicted with the zero mask")
    assert findings.mask_sentence(rows, findings.TSR_CLAIM_ID, "none") == findings.MISSING
    texts = masks.glued(["lstm", "other"])
    assert texts["rule_lstm_blur_in_view"] == "n/a" and texts["rule_other_zero_selected_tsr"] == "n/a"
    assert texts["rule_lstm_zero_selected_tsr"].startswith("0.80 [") and texts["mask_sentence_other"] == "n/a"
    assert texts["mask_sentence_lstm"] == "reproduced with the first-element mask; contradicted with the zero mask"
    assert list(masks.table()["model"]) == ["lstm", "lstm", "c3d", "c3d"]
    assert findings.mask_comparisons(pd.DataFrame(), ["lstm"]).runs == ()


ARCHITECTURES = {"lstm": "frame_lstm", "other": "ica_lstm", "c3d": "c3d"}


def test_the_mask_ablation_says_whether_c3d_responds_as_the_lstm():
    same = findings.mask_ablation_findings(masks_frame(0.3, 0.6), ARCHITECTURES)
    assert same.c3d_same is True
    texts = same.glued()
    assert texts["c3d_mask_response"] == "Yes"
    assert texts["mask_lstm_zero_auroc"].startswith("0.40 [") and texts["mask_c3d_first_element_auroc"].startswith("0.60 [")
    assert texts["mask_lstm_blur_auroc"] == "n/a" and texts["mask_other_zero_auroc"] == "n/a"
    assert texts["person_intensity_lstm"] == "0.20" and texts["background_intensity_lstm"] == "0.80"
    assert texts["background_intensity_c3d"] == "0.60" and texts["person_intensity_other"] == "n/a"
    assert list(same.table.columns) == ["model", "mask value", "clips", *findings.MASK_COLUMNS.values()]
    assert same.table["per-frame AUROC, frames above α"].tolist() == ["n/a"] * 4
    assert same.intensities.loc["lstm", "clips"] == 4
    assert findings.mask_ablation_findings(masks_frame(0.6, 0.3), ARCHITECTURES).c3d_same is False
    assert findings.mask_ablation_findings(masks_frame(0.6, 0.3, with_c3d=False), ARCHITECTURES).c3d_same is None


def test_no_mask_ablation_reads_not_measured():
    texts = findings.mask_ablation_findings(pd.DataFrame(), ARCHITECTURES).glued()
    assert texts["c3d_mask_response"] == findings.MASK_RESPONSE_WORDS[None]
    assert texts["mask_c3d_zero_auroc"] == "n/a" and texts["person_intensity_c3d"] == "n/a"


def randomised_frame(model: str = "m", **methods) -> pd.DataFrame:
    """Cascading randomisation: per method, the per-frame Spearman at the last step (step 2) of each clip."""
    rows = []
    for method, value in methods.items():
        for index, person in enumerate(PERSONS):
            for step, similarity in ((0, 1.0), (1, 0.95), (2, value + WOBBLE[index])):
                rows.append({"model": model, "method": method, "video": f"v{person}", "person": person,
                             "footage": f"f{person}", "step": step, "layer": f"layer{step}",
                             "spearman": similarity, "spearman_frames": similarity})
    frame = pd.DataFrame(rows)
    frame.loc[(frame["method"] == "grad_cam") & (frame["step"] == 2), ["spearman", "spearman_frames"]] = np.nan
    return frame


def test_the_randomisation_check_sorts_methods_by_the_one_rule():
    randomised = randomised_frame(input_gradient=0.05, deep_taylor=0.9, grad_cam=0.0)
    result = findings.randomisation_findings(randomised, ["m", "empty"])
    assert result.results["m"] == {"underpowered": ["Grad-CAM"], "fails": ["deep Taylor"],
                                   "passes": ["input gradient"]}
    assert [(row.method, row.result) for row in result.outcomes] == [("deep_taylor", "fails"),
                                                                     ("input_gradient", "passes")]
    assert result.outcome("m", "grad_cam") is None and ("m", "grad_cam") in result.checked
    assert result.outcome("m", "deep_taylor").estimate.mean == pytest.approx(0.9)
    assert result.lines() == ("- **m**: fails: deep Taylor; underpowered: Grad-CAM; passes: input gradient\n"
                              "- **empty**: ")
    skipped = findings.randomisation_findings(pd.DataFrame(), ["m"], "skipped (with_randomisation=False)")
    assert skipped.lines() == "- the check was skipped (with_randomisation=False)" and not skipped.outcomes


def i3d_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """I3D: deletion areas on three clips (random 0.5, deep Taylor 0.3, Grad-CAM 0.4) and a two-step randomisation."""
    faith = pd.DataFrame([{"video": f"c{clip}", "footage": f"f{clip}", "method": method,
                           "deletion_auc": value + 0.01 * clip, "insertion_auc": 1.0 - value}
                          for method, value in (("random", 0.5), ("deep_taylor", 0.3), ("grad_cam", 0.4),
                                                ("input_gradient", 0.45))
                          for clip in range(3)])
    rows = []
    for method, logits, every_layer in (("deep_taylor", 0.9, 0.8), ("grad_cam", 0.5, np.nan),
                                        ("input_gradient", 0.4, 0.1)):
        for clip in range(3):
            for step, value in ((0, 1.0), (1, logits + 0.01 * clip), (2, every_layer + 0.01 * clip)):
                rows.append({"video": f"c{clip}", "footage": f"f{clip}", "method": method, "step": step,
                             "stage": ("trained", "logits", "all")[step], "layer": f"l{step}",
                             "spearman": value, "spearman_frames": value})
    return faith, pd.DataFrame(rows)


def test_i3d_deletion_is_paired_with_the_random_order_and_randomisation_read_at_both_steps():
    faith, randomised = i3d_frames()
    i3d = findings.i3d_findings(faith, randomised)
    assert i3d.deletion_minus_random["deep_taylor"].mean == pytest.approx(-0.2)
    assert "random" not in i3d.deletion_minus_random and i3d.deletion["sensitivity"] is None
    assert i3d.spearman_logits["deep_taylor"].mean == pytest.approx(0.91)
    assert i3d.spearman_all["input_gradient"].mean == pytest.approx(0.11)
    assert i3d.results == {"input_gradient": "underpowered", "deep_taylor": "underpowered"}
    texts = i3d.glued()
    assert texts["i3d_deep_taylor_deletion_minus_random"] == "-0.20 [-0.20, -0.20]"
    assert texts["i3d_random_deletion_minus_random"] == "n/a" and texts["i3d_sensitivity_spearman_all"] == "n/a"
    assert "i3d_sensitivity_randomisation_result" not in texts
    empty = findings.i3d_findings(pd.DataFrame(), pd.DataFrame()).glued()
    assert set(empty.values()) == {"n/a"}


def test_the_grad_cam_comparison_on_c3d_and_i3d():
    results = sweep(grad_cam={"auroc_person": 0.7, "frames_deletion_auc": 0.45}, deep_taylor={"auroc_person": 0.8},
                    input_gradient={"auroc_person": 0.9}, random={})
    results.loc[results["method"] == "grad_cam", "seconds"] = 0.1
    randomisation = findings.randomisation_findings(
        randomised_frame(grad_cam=0.0, deep_taylor=0.9), ["m"])
    faith, i3d_random = i3d_frames()
    cam = findings.cam_findings(results, ["m"], randomisation, faith, i3d_random,
                                layers={"c3d": "conv5b", "i3d": "Mixed_5c"})
    assert [(row.where, row.method) for row in cam.comparisons] == [
        ("c3d", "grad_cam"), ("c3d", "deep_taylor"), ("c3d", "input_gradient"),
        ("i3d", "grad_cam"), ("i3d", "deep_taylor"), ("i3d", "input_gradient")]
    texts = cam.glued()
    assert texts["cam_layers"] == "`conv5b` of C3D, after conv5b's ReLU; `Mixed_5c` of I3D"
    assert texts["cam_auroc_grad_cam"].startswith("0.70 [") and texts["cam_auroc_xgrad_cam"] == "n/a"
    assert texts["cam_deletion_grad_cam"].startswith("-0.05 [")
    assert texts["cam_i3d_deletion_grad_cam"].startswith("-0.10 [")
    assert texts["cam_i3d_correlation_grad_cam"] == findings.UNDEFINED_CORRELATION, "every map constant: no ranks"
    assert texts["cam_i3d_result_grad_cam"] == "underpowered", "no finite correlation: no unit"
    assert texts["cam_i3d_correlation_deep_taylor"].startswith("0.81 [")
    assert texts["cam_i3d_result_deep_taylor"] == "underpowered", "three clips are too few units"
    assert texts["cam_i3d_correlation_xgrad_cam"] == texts["cam_i3d_result_xgrad_cam"] == "n/a"
    assert texts["cam_minus_deep_taylor"].startswith("-0.10 [") and texts["cam_minus_deep_taylor_word"] == "lower"
    assert texts["cam_seconds"] == "0.100" and texts["cam_gradient_seconds"] == "0.500"
    table = cam.table()
    assert table["randomisation, all layers"].tolist()[:3] == [findings.CONSTANT, str(
        findings.estimate_text(randomisation.outcome("m", "deep_taylor").estimate)) + ": fails", "n/a"]
    assert table["per-frame AUROC (person)"].tolist()[3:] == ["n/a (no ground truth)"] * 3
    none = findings.cam_findings(results, [], randomisation, pd.DataFrame(), pd.DataFrame(),
                                 layers={"c3d": "a", "i3d": "b"})
    assert none.comparisons == () and none.glued()["cam_seconds"] == "n/a"


def test_the_claim_rows_follow_the_one_rule_and_the_chapters_order(tmp_path):
    results = pd.concat([synthkth(),
                         sweep(frame_occlusion={"frames_deletion_auc": 0.3},
                               grad_cam={"auroc_person": 0.7, "person_lift": -0.1})], ignore_index=True)
    methods = ("input_gradient", "tsr", "frame_occlusion", "grad_cam", "flow")
    found = findings.evaluation_findings(results, methods + ("random",), ["m"])
    randomisation = findings.randomisation_findings(randomised_frame(input_gradient=0.05, grad_cam=0.0), ["m"])
    faith, i3d_random = i3d_frames()
    i3d = findings.i3d_findings(faith, i3d_random)
    cam = findings.cam_findings(results, ["m"], randomisation, faith, i3d_random, layers={"c3d": "a", "i3d": "b"})
    masks = findings.mask_comparisons(masks_frame(0.3, 0.8, with_c3d=False, persons=len(PERSONS)), ["m", "lstm"])
    rows = findings.claim_rows(found, randomisation, i3d, cam, masks)
    claims = [row["claim"] for row in rows]
    assert claims[0] == findings.BY_EYE_CLAIM and claims[3:5] == [findings.FLOW_CLAIM, findings.OCCLUSION_CLAIM]
    # TSR's advantage is Ismail et al.'s claim (seed 000 adopted it as an aim): counted under their name
    assert [row["claim_id"] for row in rows[1:3]] == [findings.TSR_CLAIM_ID] * 2
    assert {row["source"] for row in rows[1:3]} == {"ismail2020"}
    assert rows[0]["estimate"] == pytest.approx(0.9) and rows[0]["low"] is None and rows[0]["units"] == 8
    assert rows[0]["note"].endswith("chance 0.5; 1 of 4 methods localise above chance")
    assert rows[1]["verdict"] == "reproduced" and rows[1]["quantity"].endswith("(lstm, mask=first_element)")
    assert rows[2]["verdict"] == "contradicted" and rows[2]["quantity"].endswith("(lstm, mask=zero)")
    assert rows[4]["note"] == "faithful to the model if below 0: below 0"
    assert rows[5]["claim_id"] == findings.RANDOMISATION_CLAIM_ID and rows[5]["quantity"].endswith("(m)")
    assert rows[5]["source"] == "adebayo2018" and rows[5]["verdict"] == "new"
    assert "cluster t interval" in rows[5]["note"] and "bootstrap" not in rows[5]["note"]
    i3d_rows = [row for row in rows if "Kinetics-400" in row["quantity"]]
    assert i3d_rows[0]["claim"] == findings.DEEP_TAYLOR_CLAIM and i3d_rows[0]["note"].endswith("3 clips")
    cam_rows = [row for row in rows if row["claim"] == findings.CAM_CLAIM]
    assert [row["quantity"].split(",")[0] for row in cam_rows[:3]] == [
        "per-frame AUROC (person)", "deletion AUC of frames minus random order",
        "insertion AUC of frames minus random order"]
    assert cam_rows[-1]["quantity"].endswith("Grad-CAM at b (Kinetics-400 I3D, real footage)")
    assert all(check_row(row) for row in rows)
    record_claims("evaluation", "quick", rows, results_dir=tmp_path)
    assert len(read_claims(["evaluation"], "quick", results_dir=tmp_path)) == len(rows)
