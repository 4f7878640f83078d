"""Training runs and control variants: replicates of a run, the "holds on k of n training runs" column, and the
control models' rows beside the main ones (issue 30)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from vidsal_study import training_runs as tr
from vidsal_core.statistics import Estimate
from vidsal_study.chapters.summary.claims import claims_table, control_column, training_runs_column
from vidsal_core.errors import ConfigError
from vidsal_study.runs import build_run, profile_runs, replicate_of, training_runs
from vidsal_study.profiles import load_profile
from vidsal_study.results import check_row, claim_row, load_register, training_runs_entry, verdict


def _profile(tmp_path, replicates):
    """The quick profile with its ``models.replicates`` replaced."""
    content = load_profile("quick")
    content["models"] = dict(content["models"])
    content["models"].pop("replicates", None)
    if replicates is not None:
        content["models"]["replicates"] = replicates
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def test_a_replicate_is_its_run_with_another_training_seed(tmp_path):
    profile = _profile(tmp_path, {"runs": ["frame_lstm_binary"], "seeds": [3, 7]})
    names = [run.name for run in profile_runs(profile)]
    assert names[:3] == ["frame_lstm_binary", "frame_lstm_binary-seed3", "frame_lstm_binary-seed7"]
    assert training_runs(profile, "ica_lstm_binary") == ["ica_lstm_binary"]
    base, replicate = build_run(profile, "frame_lstm_binary"), build_run(profile, "frame_lstm_binary-seed7")
    assert replicate.spec.training == {**base.spec.training, "seed": 7}
    assert (replicate.spec.model_config, replicate.spec.data, replicate.spec.classes) == (
        base.spec.model_config, base.spec.data, base.spec.classes)
    assert replicate_of("frame_lstm_binary-seed7") == ("frame_lstm_binary", 7)


@pytest.mark.parametrize("replicates, message", [
    ({"runs": ["no_such_run"], "seeds": [1]}, "not runs of the profile"),
    ({"runs": ["frame_lstm_binary"], "seeds": [0]}, "own training seed"),
    ({"runs": ["frame_lstm_binary"], "seeds": [1, 1]}, "distinct integers"),
    ({"runs": ["frame_lstm_binary"]}, "exactly 'runs' and 'seeds'"),
])
def test_bad_replicates_name_the_problem(tmp_path, replicates, message):
    with pytest.raises(ConfigError, match=message):
        profile_runs(_profile(tmp_path, replicates))


def test_a_replicate_the_profile_does_not_declare_is_refused(tmp_path):
    profile = _profile(tmp_path, {"runs": ["frame_lstm_binary"], "seeds": [1]})
    with pytest.raises(ConfigError, match="replicates of"):
        build_run(profile, "frame_lstm_binary-seed2")
    with pytest.raises(ConfigError, match="has runs"):
        build_run(profile, "ica_lstm_binary-seed1")


def test_replicate_sets_pair_the_runs_seed_by_seed(tmp_path):
    profile = _profile(tmp_path, {"runs": ["frame_lstm_binary", "ica_lstm_binary"], "seeds": [1, 2]})
    assert tr.replicate_sets(profile, ["frame_lstm_binary", "ica_lstm_binary"]) == [
        ["frame_lstm_binary-seed1", "ica_lstm_binary-seed1"], ["frame_lstm_binary-seed2", "ica_lstm_binary-seed2"]]
    assert tr.replicate_sets(profile, ["c3d_6class"]) == []
    with pytest.raises(ConfigError, match="replicated unequally"):
        tr.replicate_sets(profile, ["frame_lstm_binary", "c3d_6class"])


def _row(claim_id, quantity, low, high, units=9):
    """A registered claim's row with the interval [low, high] (its verdict by the book's rule)."""
    return claim_row(claim_id, quantity, Estimate((low + high) / 2, low, high, units, units))


def test_each_training_run_is_judged_by_the_one_rule_and_counted():
    claim = load_register()["000-keyframes"]  # an AUC above 0.5
    main = [_row(claim.id, "AUC (LSTM)", 0.6, 0.7), _row(claim.id, "AUC (ICA-LSTM)", 0.55, 0.8)]
    first = [_row(claim.id, "AUC (LSTM)", 0.58, 0.66), _row(claim.id, "AUC (ICA-LSTM)", 0.45, 0.7)]
    second = [_row(claim.id, "AUC (LSTM)", 0.3, 0.4), _row(claim.id, "AUC (ICA-LSTM)", 0.51, 0.6)]
    rows = tr.attach_training_runs(main, [first, second])
    lstm, ica = (row["training_runs"] for row in rows)
    assert {key: lstm[key] for key in ("n", "holds", "verdicts", "note")} == {
        "n": 3, "holds": 2, "verdicts": ["reproduced", "reproduced", "contradicted"], "note": None}
    assert lstm["intervals"][2] == [pytest.approx(0.35), 0.3, 0.4]  # each run's own interval
    assert ica["holds"] == 2 and ica["verdicts"][1] == verdict(0.45, 0.7, 9, claim.direction, claim.null)
    assert [check_row(row)["training_runs"] for row in rows] == [lstm, ica]
    assert training_runs_column(rows) == ("LSTM: 2 of 3 (reproduced, reproduced, contradicted); "
                                          "ICA-LSTM: 2 of 3 (reproduced, inconclusive, reproduced)")
    with pytest.raises(ConfigError, match="not measured on replicate"):
        tr.attach_training_runs(main, [first[:1]])


def test_a_row_whose_training_runs_disagree_with_its_verdicts_is_refused():
    row = _row("000-keyframes", "AUC (LSTM)", 0.6, 0.7)
    with pytest.raises(ConfigError, match="the row's own"):
        check_row(dict(row, training_runs=training_runs_entry(["inconclusive", "reproduced"])))
    forged = dict(training_runs_entry(["reproduced", "inconclusive"]), holds=2)
    with pytest.raises(ConfigError, match="one \\[estimate, low, high\\] per run"):
        check_row(dict(row, training_runs=dict(training_runs_entry(["reproduced"]), intervals=[[0.6]])))
    with pytest.raises(ConfigError, match="disagree with its verdicts"):
        check_row(dict(row, training_runs=forged))
    with pytest.raises(ConfigError, match="variant_of"):
        check_row(dict(row, variant="control"))


def test_control_rows_stand_beside_their_main_rows_in_the_summary():
    claim = load_register()["000-keyframes"]
    main = tr.single_training_run([_row(claim.id, "AUC (LSTM)", 0.6, 0.7)])
    control = tr.variant_rows(main, [_row(claim.id, "AUC (LSTM)", 0.45, 0.62)])
    assert control[0]["quantity"] == "AUC (LSTM) [control]" and control[0]["variant_of"] == "AUC (LSTM)"
    rows = [check_row(row) for row in main + control]
    assert control_column(rows) == "inconclusive on LSTM (differs: reproduced on the main model)"
    table = claims_table(rows)
    assert claims_table(pd.DataFrame(rows)).equals(table)  # as the summary reads them: NaN for None
    assert table.loc[0, "training runs"] == "1 row on 1 run (see the full profile)"
    assert table.loc[0, "verdict per model or setting"] == "reproduced on LSTM"
    assert table.loc[0, "rows"] == 2  # the control's row counts as a row of its own
    assert "1 of 1 keep" not in tr.robustness_text(rows) and "0 of 1 keep it" in tr.robustness_text(rows)
    with pytest.raises(ConfigError, match="no main row"):
        tr.variant_rows(main, [_row("000-activity-frames", "rho (LSTM)", 0.45, 0.62)])


def test_robust_rows_measures_every_replicate_and_the_controls(tmp_path):
    profile = _profile(tmp_path, {"runs": ["frame_lstm_binary", "ica_lstm_binary"], "seeds": [1, 2]})
    content = yaml.safe_load(profile.read_text())
    for run in ("frame_lstm_binary", "ica_lstm_binary"):
        content["models"]["runs"][tr.control_run(run)] = content["models"]["runs"][run]
    profile.write_text(yaml.safe_dump(content, sort_keys=False))
    asked = []

    def rows_for(runs, variant):
        asked.append((list(runs), variant))
        low = 0.3 if runs[0].endswith("seed2") else 0.6
        return [_row("000-keyframes", f"AUC ({tr.run_label(runs[0], {'frame_lstm_binary': 'LSTM'})})", low, low + 0.1)]

    main = rows_for(["frame_lstm_binary", "ica_lstm_binary"], None)
    rows = tr.robust_rows(profile, ["frame_lstm_binary", "ica_lstm_binary"], main, rows_for)
    assert asked[1:] == [(["frame_lstm_binary-seed1", "ica_lstm_binary-seed1"], None),
                         (["frame_lstm_binary-seed2", "ica_lstm_binary-seed2"], None),
                         (["frame_lstm_binary_control", "ica_lstm_binary_control"], "control")]
    assert rows[0]["training_runs"]["holds"] == 2 and rows[1]["variant"] == "control"
    assert tr.robustness_table(rows).loc[0, "training runs"] == "2 of 3: reproduced, reproduced, contradicted"


def test_border_rows_about_c3d_rest_on_one_run_where_the_profile_trains_it_once():
    from vidsal_study.chapters.border.replicates import robust_border_rows, robust_step_rows

    c3d = _row("002-border-trained", "border coefficient x100, DTD (C3D on SynthKTH)", 0.1, 0.5)
    i3d = _row("002-border-trained", "border coefficient x100, DTD (I3D on real footage)", 0.1, 0.5)
    rows = robust_border_rows("quick", [c3d, i3d])  # quick trains C3D once; the full profile replicates it
    assert rows[0]["training_runs"] == training_runs_entry([c3d["verdict"]], tr.FULL_PROFILE_NOTE,
                                                           [[c3d["estimate"], c3d["low"], c3d["high"]]])
    assert rows[1].get("training_runs") is None  # the pretrained I3D is no training run of ours
    step = robust_step_rows("quick", [_row("002-early-lookahead", "lookahead x100 ... (C3D)", 0.1, 0.5)], 16)
    assert step[0]["training_runs"]["note"] == tr.FULL_PROFILE_NOTE


def test_rows_of_several_groups_keep_their_places_and_their_controls_follow(tmp_path):
    profile = _profile(tmp_path, {"runs": ["frame_lstm_binary", "ica_lstm_binary"], "seeds": [1]})  # quick's controls
    rows = [_row("000-keyframes", "AUC (LSTM)", 0.6, 0.7), _row("000-keyframes", "AUC (C3D)", 0.6, 0.7),
            _row("000-keyframes", "AUC (ICA-LSTM)", 0.6, 0.7)]

    def rows_for(label):
        return lambda runs, variant: [_row("000-keyframes", f"AUC ({label})", 0.2, 0.3)]
    groups = [(["frame_lstm_binary"], lambda row: "(LSTM)" in row["quantity"], rows_for("LSTM")),
              (["ica_lstm_binary"], lambda row: "(ICA-LSTM)" in row["quantity"], rows_for("ICA-LSTM"))]
    robust = tr.robust_rows_in_groups(profile, rows, groups)
    assert [row["quantity"] for row in robust] == ["AUC (LSTM)", "AUC (C3D)", "AUC (ICA-LSTM)", "AUC (LSTM) [control]",
                                                   "AUC (ICA-LSTM) [control]"]
    assert [row.get("training_runs", {}).get("verdicts") for row in robust[:3]] == [
        ["reproduced", "contradicted"], None, ["reproduced", "contradicted"]]
