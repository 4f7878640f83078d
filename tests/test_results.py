"""The chapters' saved verdicts on seed claims, read back by the summary chapter."""

import json

import pytest

from vidsal_core.book import chapter_fingerprint
from vidsal_core.errors import ConfigError
from vidsal_core.results import read_claims, record_claims, results_path

ROW = {"seed": "002", "claim": "border effect", "quantity": "border x100", "estimate": -2.5,
       "low": -3.0, "high": -2.0, "units": 9, "direction": "greater", "null": 0.0, "verdict": "contradicted",
       "note": "negative"}


def test_rows_round_trip_in_chapter_order(tmp_path):
    record_claims("b", "quick", [ROW], results_dir=tmp_path)
    record_claims("a", "quick", [{**ROW, "claim": "other", "low": None, "high": None, "note": None,
                                  "verdict": "inconclusive"}],
                  results_dir=tmp_path)
    rows = read_claims(["b", "a"], "quick", results_dir=tmp_path)
    assert [row["chapter"] for row in rows] == ["b", "a"]
    assert rows[0]["estimate"] == -2.5 and rows[0]["verdict"] == "contradicted"
    assert rows[1]["low"] is None and rows[1]["claim"] == "other"


def test_profiles_do_not_mix_and_rerun_replaces(tmp_path):
    record_claims("a", "quick", [ROW], results_dir=tmp_path)
    record_claims("a", "default", [ROW, ROW], results_dir=tmp_path)
    record_claims("a", "quick", [{**ROW, "estimate": 1.0}], results_dir=tmp_path)
    assert [row["estimate"] for row in read_claims(["a"], "quick", results_dir=tmp_path)] == [1.0]
    assert len(read_claims(["a"], "default", results_dir=tmp_path)) == 2
    assert results_path("a", "params/quick.yaml", tmp_path) == tmp_path / "quick" / "a.json"
    assert not list((tmp_path / "quick").glob("*.tmp")), "no temporary file is left behind"


def test_missing_chapter_names_the_chapter_to_run(tmp_path):
    with pytest.raises(ConfigError, match="chapter 'models'.*python -m vidsal_core.book --profile quick models"):
        read_claims(["models"], "quick", results_dir=tmp_path)
    assert read_claims(["models"], "quick", results_dir=tmp_path, missing="skip") == []


@pytest.mark.parametrize("change, message", [
    ({"verdict": "sort of"}, "verdict 'sort of'"),
    ({"estimate": "big"}, r"estimate: expected a number"),
    ({"colour": "red"}, r"unknown key\(s\) \['colour'\]"),
    ({"units": "nine"}, r"units: expected a count"),
    ({"units": 2.5}, r"units: expected a count"),
])
def test_bad_rows_are_refused_before_anything_is_written(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        record_claims("a", "quick", [ROW, {**ROW, **change}], results_dir=tmp_path)
    assert not results_path("a", "quick", tmp_path).exists()


def test_corrupt_file_is_reported_with_its_path(tmp_path):
    path = results_path("a", "quick", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        read_claims(["a"], "quick", results_dir=tmp_path)


def test_summary_reruns_when_a_chapter_saves_new_results(monkeypatch, tmp_path):
    import vidsal_core.results as results

    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path)
    before = chapter_fingerprint("summary", "quick")
    data_before = chapter_fingerprint("data", "quick")
    record_claims("models", "quick", [ROW], results_dir=tmp_path)
    assert chapter_fingerprint("summary", "quick") != before
    assert chapter_fingerprint("data", "quick") == data_before
    saved = json.loads(results_path("models", "quick", tmp_path).read_text())
    assert saved["chapter"] == "models" and saved["profile"] == "quick"


@pytest.mark.parametrize("low, high, units, direction, null, expected", [
    (0.1, 0.5, 9, "greater", 0.0, "reproduced"),
    (-0.1, 0.5, 9, "greater", 0.0, "inconclusive"),
    (-0.5, -0.1, 9, "greater", 0.0, "contradicted"),       # the opposite side is not "contradicted"
    (-0.5, -0.1, 9, "less", 0.0, "reproduced"),
    (0.1, 0.5, 7, "greater", 0.0, "underpowered"),          # whatever the interval says
    (0.1, 0.5, None, "greater", 0.0, "underpowered"),
    (None, 0.5, 9, "greater", 0.0, "inconclusive"),
    (float("nan"), 0.5, 9, "less", 0.0, "inconclusive"),
    (0.55, 0.7, 8, "greater", 0.5, "reproduced"),
    (0.3, 0.5, 8, "greater", 0.5, "inconclusive"),           # an interval that touches the null holds it
])
def test_one_verdict_rule(low, high, units, direction, null, expected):
    from vidsal_core.results import verdict

    assert verdict(low, high, units, direction, null) == expected


def test_verdict_refuses_an_unknown_direction_and_a_reversed_interval():
    from vidsal_core.results import verdict

    with pytest.raises(ConfigError, match="direction='up'"):
        verdict(0.1, 0.2, 9, "up")
    with pytest.raises(ConfigError, match="low is above high"):
        verdict(0.3, 0.2, 9)


def test_claim_rows_take_their_verdict_and_units_from_the_estimate(tmp_path):
    from vidsal_core.analysis.statistics import Estimate
    from vidsal_core.results import claim_row, new_row

    row = claim_row("002", "border effect", "border x100 (C3D, SA)", Estimate(-0.0841, -0.0861, -0.0830, 27, 9),
                    direction="greater", scale=100)
    assert row["verdict"] == "contradicted" and row["units"] == 9
    assert row["low"] == pytest.approx(-8.61) and row["null"] == 0.0
    few = claim_row("002", "border effect", "border x100 (I3D, DTD)", Estimate(0.08, 0.07, 0.09, 4, 4))
    assert few["verdict"] == "underpowered"
    assert new_row("002", "m", "q", Estimate(1.0, 0.5, 1.5, 9, 9))["verdict"] == "new"
    record_claims("a", "quick", [row, few], results_dir=tmp_path)
    assert [r["verdict"] for r in read_claims(["a"], "quick", results_dir=tmp_path)] == ["contradicted", "underpowered"]


def test_a_row_whose_verdict_disagrees_with_the_rule_is_refused(tmp_path):
    from vidsal_core.analysis.statistics import Estimate
    from vidsal_core.results import claim_row

    row = claim_row("000", "c", "q", Estimate(0.6, -1.5, 2.8, 40, 9))
    assert row["verdict"] == "inconclusive"
    with pytest.raises(ConfigError, match="disagrees with the book's rule, which gives 'inconclusive'"):
        record_claims("a", "quick", [{**row, "verdict": "reproduced"}], results_dir=tmp_path)
    with pytest.raises(ConfigError, match="needs direction"):
        record_claims("a", "quick", [{**row, "direction": None}], results_dir=tmp_path)


def test_counts_and_aggregates_are_computed_from_the_rows():
    from vidsal_core.results import claim_aggregate, verdict_counts

    rows = [{"seed": "002", "claim": "border", "quantity": "border x100 (I3D, DTD)", "verdict": "reproduced"},
            {"seed": "002", "claim": "border", "quantity": "border x100 (C3D, DTD)", "verdict": "contradicted"},
            {"seed": "000", "claim": "x", "quantity": "y", "verdict": "new"}]
    counts = verdict_counts(rows)
    assert counts["002"]["reproduced"] == 1 and counts["002"]["contradicted"] == 1 and counts["000"]["new"] == 1
    assert claim_aggregate(rows) == {"border": "reproduced on I3D, DTD; contradicted on C3D, DTD"}
