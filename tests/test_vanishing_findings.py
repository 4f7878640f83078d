"""The vanishing chapter's findings (vidsal_study.chapters.vanishing.study) on hand-made shares whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from vidsal_study.chapters.border.tables import markdown_table
from vidsal_study.chapters.vanishing.temporal import saliency_share
from vidsal_study.chapters.vanishing.study import (
    EARLY_FLOOR, FIXED_WINDOW, LATE_THRESHOLD, ShareRecord, example_clip, noisy_frame_shift, record_of,
    vanishing_findings,
)
from vidsal_core.errors import ConfigError
from vidsal_study.results import check_row, record_claims
from vidsal_study.chapters.vanishing import figures as vanishing_figures

FRAMES = 20  # k = 5 frames at each end with fraction 0.25
PERSONS = np.repeat(np.arange(8), 2)  # 8 test persons, two clips each: enough units for a counted verdict


def geometric(ratios):
    """One share vector per clip, ``s_t ∝ ratio^t``: its vanishing index is ``(T - k) log10 ratio``."""
    return saliency_share(np.asarray(ratios, dtype=float)[:, None] ** np.arange(FRAMES))


def person_ratios(centre, spread=0.01):
    """A ratio per clip, the same for both clips of a person, spread around ``centre``."""
    return centre + spread * (PERSONS - 3.5)


def records_of(task="binary", visibility=None, lstm=1.3, untrained=1.1, ica=1.0, methods=("gradient",)):
    visibility = np.ones((len(PERSONS), FRAMES)) if visibility is None else visibility
    ratios = {("LSTM", "trained"): lstm, ("LSTM", "untrained"): untrained, ("ICA", "trained"): ica,
              ("ICA", "untrained"): 1.0}
    return [ShareRecord(task, model, weights, method, geometric(person_ratios(ratio)), PERSONS, visibility)
            for (model, weights), ratio in ratios.items() for method in methods]


def expected_index(centre):
    return float(np.mean((FRAMES - 5) * np.log10(person_ratios(centre))))


def test_index_early_share_and_differences_are_the_geometric_answers():
    findings = vanishing_findings(records_of(), fraction=0.25)
    assert findings.task == "binary" and findings.tasks == ("binary",)
    assert findings.index_of().mean == pytest.approx(expected_index(1.3))
    assert findings.index_of("ICA").mean == pytest.approx(expected_index(1.0), abs=1e-12)
    assert findings.index_of("LSTM", "untrained").mean == pytest.approx(expected_index(1.1))
    # E: the first 5 of 20 geometric shares, over their uniform share 5/20
    ratios = person_ratios(1.3)
    early = (ratios ** 5 - 1) / (ratios ** FRAMES - 1) * FRAMES / 5
    assert findings.early_of().mean == pytest.approx(float(early.mean()))
    last = (ratios ** (FRAMES - 1)) * (ratios - 1) / (ratios ** FRAMES - 1)
    assert findings.last_frame[("binary", "LSTM", "trained", "gradient")].mean == pytest.approx(float(last.mean()))
    # paired differences are differences of the per-clip indices, over 8 persons
    difference = findings.ica_minus_lstm[("binary", "gradient")]
    assert difference.mean == pytest.approx(expected_index(1.0) - expected_index(1.3))
    assert difference.units == 8 and difference.count == 16
    assert findings.training_change[("binary", "gradient")].mean == pytest.approx(expected_index(1.3) - expected_index(1.1))
    # the untrained LSTM's log-share slope is log10 of its ratio
    assert findings.untrained_slope.mean == pytest.approx(float(np.mean(np.log10(person_ratios(1.1)))))
    table = findings.index_table()
    assert list(table["model"]) == ["LSTM", "LSTM", "ICA", "ICA"] and set(table["clips"]) == {16}


def test_early_and_last_frame_shares_get_intervals_inside_their_range():
    # E lies in [0, T/k] = [0, 4] and the last frame's share in [0, 1]: their intervals are the cluster Wilson
    # interval on that range (statistics.mean_interval with bounds), the index V keeps the t interval
    from vidsal_core.statistics import mean_interval
    from vidsal_study.chapters.vanishing.temporal import edge_share_ratio, vanishing_index
    from vidsal_study.chapters.vanishing.study import early_share_bounds

    records = records_of(lstm=3.0)  # a steep decay: E near 0, the last frame near 2/3 of the mass
    findings = vanishing_findings(records, fraction=0.25)
    key, shares = ("binary", "LSTM", "trained", "gradient"), records[0].shares
    assert early_share_bounds(FRAMES) == (0.0, 4.0)
    early = mean_interval(edge_share_ratio(shares, 0.25), PERSONS, bounds=(0.0, 4.0))
    assert (findings.early[key].low, findings.early[key].high) == pytest.approx((early.low, early.high), rel=1e-12)
    assert 0.0 <= findings.early[key].low < findings.early[key].mean
    last = findings.last_frame[key]
    assert 0.0 <= last.low < last.mean < last.high <= 1.0
    index = mean_interval(vanishing_index(shares, 0.25), PERSONS)
    assert (findings.index[key].low, findings.index[key].high) == pytest.approx((index.low, index.high), rel=1e-12)


def test_claims_and_words_of_a_vanishing_lstm_and_a_flat_ica():
    findings = vanishing_findings(records_of())
    words = findings.words()
    # the LSTM: V = 15 log10 1.3 ≈ 1.7 above log10 2, E ≈ 0.06 below 0.1: concentrated late and vanished
    assert findings.index_of().low > LATE_THRESHOLD and findings.early_of().high < EARLY_FLOOR
    assert (words.late_side, words.late_word, words.claim_late) == ("above", "is", "reproduced")
    assert (words.early_side, words.vanished_word, words.claim_vanished) == ("below", "has", "reproduced")
    assert words.shape_word == "follows" and words.claim_short == "contradicted"
    # untrained ratio 1.1: V ≈ 0.62 > log10 2, so the decay is there before training, and training strengthened it
    assert words.untrained_word == "is there" and words.training_word == "*strengthened*"
    # ICA flat on average: it lowers V, leaves no late lean, and its V holds zero
    assert (words.removal_word, words.claim_lowers, words.claim_no_lean) == ("lowers", "reproduced", "reproduced")
    assert (words.ica_lean_side, words.ica_zero_side) == ("below", "on both sides of")
    # visible throughout and a positive slope: the network's
    assert words.visibility_word == "comes from the network, not from"
    # untrained slope log10 1.1 ≈ 0.04, below the forget gate's log10 2
    assert words.solution_4_side == "smaller than"


def test_words_of_an_lstm_that_does_not_vanish():
    # trained LSTM flat (V ≈ 0), untrained decaying: training weakened the decay, and nothing vanished
    findings = vanishing_findings(records_of(lstm=1.0, untrained=1.1, ica=1.0))
    words = findings.words()
    assert (words.late_side, words.late_word, words.claim_late) == ("below", "is not shown to be", "contradicted")
    assert (words.early_side, words.vanished_word, words.claim_vanished) == ("above", "has not", "contradicted")
    assert words.shape_word == "does *not* follow" and words.claim_short == "reproduced"
    assert words.training_word == "*weakened*"
    assert words.removal_word == "does not measurably lower" and words.claim_lowers == "inconclusive"
    assert words.visibility_word == "cannot be told apart from"


def test_untrained_flat_means_no_decay_before_training():
    words = vanishing_findings(records_of(untrained=1.0)).words()
    assert words.untrained_word == "is not there"


def test_visibility_checks_use_the_clips_in_view_and_hold_visibility_fixed():
    visibility = np.ones((len(PERSONS), FRAMES))
    visibility[::2, :4] = 0.5  # every person's first clip starts out of view
    findings = vanishing_findings(records_of(visibility=visibility), visible_threshold=0.99)
    check = findings.visibility[("binary", "LSTM")]
    assert check.clips_in_view == 8
    # every clip of a person has the same index, so the in-view clips give the same mean
    assert check.in_view.mean == pytest.approx(expected_index(1.3))
    # log10 share is exactly linear in t: holding visibility fixed leaves the slope log10 ratio
    assert check.slope.mean == pytest.approx(float(np.mean(np.log10(person_ratios(1.3)))))
    assert check.slope_given_visibility.mean == pytest.approx(check.slope.mean)
    first, last = findings.visibility_edges
    assert first == pytest.approx(1 - 0.5 * 0.5 * 4 / 5) and last == pytest.approx(1.0)
    table = findings.visibility_table()
    assert list(table["clips in view"]) == [8, 8] and list(table["model"]) == ["LSTM", "ICA"]


def test_no_clip_in_view_leaves_the_in_view_index_unmeasured():
    visibility = np.full((len(PERSONS), FRAMES), 0.5)
    findings = vanishing_findings(records_of(visibility=visibility))
    check = findings.visibility[("binary", "LSTM")]
    assert check.clips_in_view == 0 and np.isnan(check.in_view.mean)
    assert findings.words().visibility_word == "comes from the network, not from"  # the slope alone decides


def test_a_fixed_window_against_the_growing_one():
    records = records_of()
    records += [ShareRecord("binary", FIXED_WINDOW, weights, "gradient", geometric(person_ratios(ratio)), PERSONS,
                            np.ones((len(PERSONS), FRAMES))) for weights, ratio in (("trained", 1.2), ("untrained", 1.0))]
    with pytest.raises(ConfigError, match="window"):
        vanishing_findings(records)
    findings = vanishing_findings(records, window=10)
    window = findings.window
    assert (window.task, window.window) == ("binary", 10)
    assert window.fixed.mean == pytest.approx(expected_index(1.2))
    assert window.growing.mean == pytest.approx(expected_index(1.0), abs=1e-12)
    assert window.difference.mean == pytest.approx(expected_index(1.2) - expected_index(1.0))
    assert window.word == "higher than"
    # the fixed-window model is not one of the pairs' rows
    assert FIXED_WINDOW not in set(findings.index_table()["model"])
    rows = findings.claim_rows()
    assert rows[-1]["claim"] == "new: a fixed attention window of 10 frames instead of the growing one"
    with pytest.raises(ConfigError, match="window"):
        vanishing_findings(records_of(), window=10)


def test_claim_rows_in_the_chapters_order_pass_the_verdict_rule(tmp_path):
    records = records_of(methods=("gradient", "integrated_gradients")) + records_of(task="6-class")
    findings = vanishing_findings(records)
    rows = findings.claim_rows()
    ids = [row["claim_id"] for row in rows]
    # one number, one counted verdict: E is judged once (Sec. 4.1), Sec. 3's opposite statement rides on it
    assert ids[:4] == ["000-vanishing-late", "000-no-vanishing-30-frames", "000-ica-lowers-vanishing",
                       "000-ica-no-late-lean"]
    assert all(row["source"] == "000" and row["kind"] == "finding" for row in rows[:4])
    assert ids[4:6] == ["000-vanishing-late", "000-no-vanishing-30-frames"]
    assert "integrated_gradients" in rows[4]["quantity"]
    assert rows[6]["verdict"] == "new" and "visibility" in rows[6]["claim"]
    assert ids[7:] == ["000-vanishing-late", "000-no-vanishing-30-frames", "000-ica-lowers-vanishing",
                       "000-ica-no-late-lean"]
    assert all("6-class" in row["quantity"] for row in rows[7:])
    quantities = [row["quantity"] for row in rows if row["verdict"] != "new"]
    assert len(quantities) == len(set(quantities)), "an estimate is counted once"
    for i, row in enumerate(rows):
        assert check_row(row, f"row {i}")["verdict"] == row["verdict"]
    assert record_claims("vanishing_saliency", "toy", rows, results_dir=tmp_path).is_file()
    other = findings.other_tasks_table()
    assert list(other["task"]) == ["6-class"] and other["late concentration"][0] == "reproduced"
    assert "| 6-class" in markdown_table(other)
    assert vanishing_findings(records_of()).other_tasks_table().empty


def test_records_are_looked_up_and_checked():
    records = records_of()
    assert record_of(records, "binary", "ICA", "trained", "gradient").model == "ICA"
    with pytest.raises(KeyError):
        record_of(records, "binary", "ICA", "trained", "integrated_gradients")
    with pytest.raises(ConfigError, match="twice"):
        vanishing_findings(records + records[:1])
    with pytest.raises(ConfigError, match="nothing"):
        vanishing_findings([])


def test_doubling_one_frame_moves_the_single_frame_index_by_log10_2():
    shares = geometric(person_ratios(1.3))
    assert noisy_frame_shift(shares, 1 / FRAMES) == pytest.approx(np.log10(2.0))
    # wider ends dilute the noisy frame
    assert noisy_frame_shift(shares, 0.5) < noisy_frame_shift(shares, 0.25) < np.log10(2.0)


def test_example_clip_is_the_one_best_in_view():
    visibility = np.array([[0.5, 1.0], [1.0, 1.0], [0.9, 1.0], [1.0, 1.0]])
    actions = ["walking", "running", "walking", "walking"]
    assert example_clip(actions, visibility, "walking") == 3  # fully in view: clip 3
    assert example_clip(actions[:3], visibility[:3], "walking") == 2
    assert example_clip(["walking", "walking"], np.ones((2, 2)), "walking") == 0  # the first on ties
    with pytest.raises(ConfigError, match="example_action"):
        example_clip(actions, visibility, "boxing")


# --- the chapter's figures (vidsal_core.plot) draw what the findings hold ---------------------------------

def test_the_chapters_figures_draw_every_curve_and_interval():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vidsal_core import plot

    visibility = np.ones((len(PERSONS), FRAMES))
    visibility[::2, :4] = 0.5
    records = records_of(visibility=visibility, methods=("gradient", "integrated_gradients"))
    records += [ShareRecord("binary", FIXED_WINDOW, "trained", "gradient", geometric(person_ratios(1.2)), PERSONS,
                            visibility)]
    findings = vanishing_findings(records, window=10)
    try:
        figure = vanishing_figures.vanishing_share_curves(records, ["binary"], ["gradient", "integrated_gradients"])
        assert len(figure.axes) == 2 and all(len(axis.lines) == 5 for axis in figure.axes)  # 4 curves + uniform
        figure = vanishing_figures.vanishing_index_intervals(findings.index_table(), ["gradient", "integrated_gradients"])
        assert [len(axis.get_yticks()) for axis in figure.axes] == [4, 4]
        figure = vanishing_figures.vanishing_visibility(records, "binary", 0.99)
        assert len(figure.axes[0].lines) == 5  # two models, all clips and in view, and the uniform share
        assert len(figure.axes[1].lines) == 2  # all clips, clips not in view throughout
        figure = vanishing_figures.vanishing_window(records, "binary", 10)
        assert [line.get_label() for line in figure.axes[0].lines][:3] == [
            "LSTM", "ICA-LSTM, growing window", "ICA-LSTM, window 10"]
        figure = vanishing_figures.vanishing_window(records, "binary")
        assert any("not run" in text.get_text() for text in figure.axes[0].texts)
    finally:
        plt.close("all")


def test_a_readers_clip_is_cut_and_resized_as_the_models_read_clips(tmp_path):
    from _toy_videos import moving_square_clip
    from vidsal_study.chapters.vanishing.study import own_clip

    path = moving_square_clip(tmp_path / "my clip.avi", frames=12)
    clip = own_clip(path, 10, (30, 40))
    assert tuple(clip.shape) == (10, 1, 30, 40)
    assert float(clip.min()) >= 0.0 and float(clip.max()) <= 1.0 and float(clip.max()) > 0.5
    with pytest.raises(ConfigError, match="12 frames"):
        own_clip(path, 30, (30, 40))
