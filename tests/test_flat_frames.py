"""The one flat-frame rule (vidsal_core.metrics.flat_frames): chance on flat frames, pairs by frame, two versions."""

from __future__ import annotations

import numpy as np
import pytest

from vidsal_core.metrics import flat_frames as rule
from vidsal_core.statistics import mean_interval
from vidsal_core.errors import ConfigError


def hand_clip():
    """Three 2×3 frames: the region is the left column; a map good on frames 0 and 2, flat on frame 1."""
    region = np.zeros((3, 2, 3), bool)
    region[:, :, 0] = True
    good = np.where(region, 2.0, 1.0)
    good[2] = [[3.0, 1.0, 2.0], [1.0, 1.0, 4.0]]  # frame 2 by hand: positives {3, 1}, negatives {1, 2, 1, 4}
    tsr = good.copy()
    tsr[1] = 0.1  # below α: TSR's one constant value
    return region, good, tsr


def test_a_flat_frame_scores_chance_by_hand():
    region, good, tsr = hand_clip()
    # frame 2: 3 beats 1, 2, 1 and loses to 4 (3 of 4); 1 ties with 1, 1 (2 halves) and loses to 2, 4: 4/8 in all
    expected = [1.0, 0.5, 4.0 / 8.0]
    np.testing.assert_allclose(rule.frame_scores(tsr, region, "auroc"), expected)
    np.testing.assert_allclose(rule.frame_scores_reference(tsr, region, "auroc"), expected)
    motion = np.where(region, 5.0, 0.0)
    rho = rule.frame_scores(tsr, motion, "spearman")
    assert rho[1] == 0.0 and rho[0] == pytest.approx(1.0)
    assert rule.flat_frames(tsr).tolist() == [False, True, False]


def test_frames_with_nothing_to_rank_are_not_scored():
    region, good, _ = hand_clip()
    region[2] = False  # the person out of frame 2
    scores = rule.frame_scores(good, region, "auroc")
    assert np.isnan(scores[2]) and scores[0] == 1.0
    still = np.ones((3, 2, 3))
    assert np.isnan(rule.frame_scores(good, still, "spearman")).all()


def test_fast_scores_agree_with_the_reference_on_random_maps():
    generator = np.random.default_rng(3)
    maps = generator.integers(0, 4, size=(6, 2, 5, 7)).astype(float)  # ties on purpose
    maps[2] = 0.3  # a flat frame
    region = generator.random((6, 5, 7)) < 0.3
    motion = generator.integers(0, 3, size=(6, 5, 7)).astype(float)
    for score, truth in (("auroc", region), ("spearman", motion)):
        np.testing.assert_allclose(rule.frame_scores(maps, truth, score),
                                   rule.frame_scores_reference(maps, truth, score), rtol=1e-12)


def test_the_two_versions_pair_by_frame():
    region, good, tsr = hand_clip()
    in_view = [True, True, True]
    selected = [True, False, True]  # TSR left frame 1 below α
    result = rule.compare_maps(tsr, good, region, "auroc", in_view, selected)
    # (a) every in-view frame: frame 1 scores 0.5 for TSR, 1.0 for the good map
    assert result["in_view"]["frames"] == 3
    assert result["in_view"]["difference"] == pytest.approx((0.0 - 0.5 + 0.0) / 3)
    # (b) only the frames TSR selected: frame 1 is excluded for both maps
    assert result["selected"]["frames"] == 2 and result["selected"]["difference"] == 0.0
    assert result["selected"]["second"] == pytest.approx((1.0 + 0.5) / 2)


def test_a_flat_frame_that_tsr_selected_stays_in_version_b():
    region, good, tsr = hand_clip()
    result = rule.compare_maps(tsr, good, region, "auroc", [True, True, True], [True, True, False])
    assert result["selected"]["frames"] == 2  # frame 1 (flat, selected) kept; frame 2 (not selected) dropped
    assert result["selected"]["first"] == pytest.approx((1.0 + 0.5) / 2)


def test_out_of_view_frames_count_in_neither_version():
    region, good, tsr = hand_clip()
    result = rule.compare_maps(tsr, good, region, "auroc", [True, False, True], [True, True, True])
    assert result["in_view"]["frames"] == result["selected"]["frames"] == 2


def test_paired_estimate_is_the_cluster_interval_of_the_clip_differences():
    comparisons = [{"in_view": {"difference": value, "first": 0.0, "second": 0.0},
                    "selected": {"difference": np.nan, "first": 0.0, "second": 0.0}} for value in (0.1, 0.3, -0.2, 0.4)]
    persons = [1, 1, 2, 3]
    estimate = rule.paired_estimate(comparisons, persons, "in_view")
    expected = mean_interval([0.1, 0.3, -0.2, 0.4], persons)
    assert (estimate.mean, estimate.low, estimate.high, estimate.units) == (expected.mean, expected.low,
                                                                            expected.high, expected.units)
    assert rule.paired_estimate(comparisons, persons, "selected") is None


def test_bad_input_is_refused_by_name():
    region, good, tsr = hand_clip()
    with pytest.raises(ConfigError, match="score"):
        rule.frame_scores(good, region, "iou")
    with pytest.raises(ConfigError, match="truth"):
        rule.frame_scores(good, region[:, :1], "auroc")
    with pytest.raises(ConfigError, match="frame_set"):
        rule.scored_frames([True], [True], "all")
    with pytest.raises(ConfigError, match="selected"):
        rule.scored_frames([True, True], [True], "selected")
    with pytest.raises(ConfigError, match="persons"):
        rule.paired_estimate([{}], [1, 2], "in_view")
    with pytest.raises(ConfigError, match="visibility"):
        rule.in_view_frames([1.0], region)
