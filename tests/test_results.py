"""The chapters' saved verdicts on seed claims, read back by the summary chapter."""

import json

import pytest

from vidsal_core.book import chapter_fingerprint
from vidsal_core.errors import ConfigError
from vidsal_core.results import read_claims, record_claims, results_path

ROW = {"seed": "002", "claim": "border effect", "quantity": "border x100", "estimate": -2.5,
       "low": -3.0, "high": -2.0, "verdict": "not reproduced", "note": "negative"}


def test_rows_round_trip_in_chapter_order(tmp_path):
    record_claims("b", "quick", [ROW], results_dir=tmp_path)
    record_claims("a", "quick", [{**ROW, "claim": "other", "low": None, "high": None, "note": None}],
                  results_dir=tmp_path)
    rows = read_claims(["b", "a"], "quick", results_dir=tmp_path)
    assert [row["chapter"] for row in rows] == ["b", "a"]
    assert rows[0]["estimate"] == -2.5 and rows[0]["verdict"] == "not reproduced"
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


@pytest.mark.parametrize("low, high, claimed, verdict", [
    (0.1, 0.5, "positive", "reproduced"),
    (-0.1, 0.5, "positive", "not reproduced"),
    (-0.5, -0.1, "positive", "not reproduced"),
    (-0.5, -0.1, "negative", "reproduced"),
    (None, 0.5, "positive", "not reproduced"),
    (float("nan"), 0.5, "negative", "not reproduced"),
])
def test_sign_verdict_needs_the_whole_interval_on_the_claimed_side(low, high, claimed, verdict):
    from vidsal_core.results import sign_verdict

    assert sign_verdict(low, high, claimed) == verdict


def test_sign_verdict_refuses_an_unknown_direction():
    from vidsal_core.results import sign_verdict

    with pytest.raises(ConfigError, match="claimed='up'"):
        sign_verdict(0.1, 0.2, "up")
