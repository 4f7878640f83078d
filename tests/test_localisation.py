"""Localisation metrics: hand-known cases, the naive AUROC twin, shapes refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidsal_core.metrics.localisation import (
    LEG_PARTS, area_share, auroc, auroc_reference, frame_auroc, frame_auroc_reference, frame_mass,
    localisation_metrics, magnitude, mass_share, part_region, pointing_game, temporal_correlation,
)
from vidsal_core.data.synthkth import PART_INDEX
from vidsal_core.errors import ConfigError


def _region(frames=3, height=8, width=10):
    region = np.zeros((frames, height, width), bool)
    region[:, 2:5, 3:7] = True
    return region


def test_a_map_equal_to_the_region_gives_share_one_auroc_one_and_every_point_a_hit():
    region = _region()
    saliency = region.astype(float)
    assert mass_share(saliency, region) == 1.0
    assert auroc(saliency, region) == 1.0
    assert np.all(pointing_game(saliency + 0.1 * np.random.default_rng(0).random(region.shape) * region, region) == 1)
    assert area_share(region) == pytest.approx(12 / 80)


def test_the_inverted_map_scores_zero_and_a_constant_map_is_chance():
    region = _region()
    assert mass_share((~region).astype(float), region) == 0.0
    assert auroc((~region).astype(float), region) == 0.0
    assert auroc(np.ones(region.shape), region) == 0.5
    assert np.all(np.isnan(pointing_game(np.ones(region.shape), region)))


def test_a_uniform_map_puts_the_area_share_on_the_region():
    region = _region()
    assert mass_share(np.full(region.shape, 2.0), region) == pytest.approx(area_share(region))


def test_auroc_agrees_with_the_pairwise_count_ties_included():
    generator = np.random.default_rng(1)
    saliency = generator.integers(0, 4, size=(2, 2, 6, 7)).astype(float)  # many ties
    region = generator.random((2, 6, 7)) < 0.3
    assert auroc(saliency, region) == pytest.approx(auroc_reference(saliency, region), abs=1e-12)
    assert auroc(torch.from_numpy(saliency), torch.from_numpy(region)) == pytest.approx(auroc(saliency, region))


def test_channels_are_reduced_by_absolute_sum_and_signs_do_not_cancel():
    saliency = np.zeros((1, 2, 3, 3))
    saliency[0, 0, 1, 1], saliency[0, 1, 1, 1] = 1.0, -1.0
    assert magnitude(saliency)[0, 1, 1] == 2.0
    assert frame_mass(saliency).tolist() == [2.0]


def test_pointing_game_tolerance_and_frame_selection():
    region = np.zeros((2, 9, 9), bool)
    region[:, 4, 4] = True
    saliency = np.zeros((2, 9, 9))
    saliency[:, 4, 6] = 1.0  # two pixels to the right of the region
    assert pointing_game(saliency, region).tolist() == [0.0, 0.0]
    assert pointing_game(saliency, region, tolerance=2).tolist() == [1.0, 1.0]
    hits = pointing_game(saliency, region, frames=np.array([True, False]), tolerance=2)
    assert hits[0] == 1.0 and np.isnan(hits[1])
    with pytest.raises(ConfigError, match="tolerance"):
        pointing_game(saliency, region, tolerance=-1)


def test_frames_restrict_share_and_auroc():
    region = _region()
    saliency = np.zeros(region.shape)
    saliency[0] = region[0]
    saliency[1] = ~region[1]
    saliency[2] = 1.0
    keep = np.array([True, False, False])
    assert mass_share(saliency, region, keep) == 1.0
    assert auroc(saliency, region, keep) == 1.0


def test_temporal_correlation_is_spearman_and_nan_when_constant():
    assert temporal_correlation([1, 2, 3, 4], [10, 20, 25, 100]) == pytest.approx(1.0)
    assert temporal_correlation([4, 3, 2, 1], [1, 2, 3, 4]) == pytest.approx(-1.0)
    assert np.isnan(temporal_correlation([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ConfigError, match="truth"):
        temporal_correlation([1, 2, 3], [1, 2])


def test_shape_mismatch_and_bad_values_are_refused_by_name():
    region = _region()
    with pytest.raises(ConfigError, match="region"):
        mass_share(np.ones((3, 8, 9)), region)
    with pytest.raises(ConfigError, match="saliency"):
        auroc(np.ones((8, 10)), region[0])
    with pytest.raises(ConfigError, match="saliency"):
        mass_share(np.full(region.shape, np.nan), region)
    with pytest.raises(ConfigError, match="frames"):
        mass_share(np.ones(region.shape), region, frames=np.ones(2, bool))


def test_part_regions_and_all_metrics_of_one_video():
    parts = np.zeros((4, 6, 8), np.uint8)
    parts[:, 1:3, 2:5] = PART_INDEX["torso"]
    parts[:, 3:6, 2:5] = PART_INDEX["left_shank"]
    person, legs = part_region(parts), part_region(parts, LEG_PARTS)
    assert person.sum() == 4 * 15 and legs.sum() == 4 * 9
    with pytest.raises(ConfigError, match="names"):
        part_region(parts, ["tail"])
    saliency = legs.astype(float) * np.arange(1, 5)[:, None, None]
    visibility = np.array([1.0, 1.0, 0.2, 1.0])
    motion = np.array([0.5, 1.0, 1.5, 2.0])
    metrics = localisation_metrics(saliency, parts, visibility, motion)
    assert metrics["person_share"] == 1.0 and metrics["legs_share"] == 1.0
    assert metrics["legs_area"] == pytest.approx(9 / 48)
    assert metrics["auroc_legs"] == 1.0 and metrics["pointing"] == 1.0
    assert metrics["frames_scored"] == 3
    assert metrics["motion_correlation"] == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="parts"):
        localisation_metrics(saliency[:, :5], parts, visibility, motion)
    with pytest.raises(ConfigError, match="visibility"):
        localisation_metrics(saliency, parts, visibility[:3], motion)


def test_metrics_do_not_depend_on_how_videos_are_batched():
    generator = np.random.default_rng(2)
    saliency = generator.random((4, 3, 1, 6, 8))
    region = generator.random((4, 3, 6, 8)) < 0.4
    one_by_one = [auroc(saliency[i], region[i]) for i in range(4)]
    pooled = [auroc(s, r) for s, r in zip(list(saliency), list(region))]
    assert one_by_one == pooled


def test_frame_auroc_agrees_with_its_naive_twin_and_skips_what_the_pointing_game_skips():
    generator = np.random.default_rng(3)
    saliency = generator.integers(0, 4, size=(6, 2, 5, 7)).astype(float)  # many ties
    region = generator.random((6, 5, 7)) < 0.3
    saliency[1] = 2.0  # a constant frame: skipped
    region[2] = False  # no region: skipped
    region[3] = True  # the region is the whole frame: skipped
    frames = np.array([True, True, True, True, True, False])
    fast, naive = frame_auroc(saliency, region, frames), frame_auroc_reference(saliency, region, frames)
    np.testing.assert_allclose(fast, naive, rtol=0, atol=1e-12)
    assert np.isnan(fast[1:4]).all() and np.isnan(fast[5]) and np.isfinite(fast[[0, 4]]).all()
    assert np.isnan(pointing_game(saliency, region, frames)[[1, 2, 5]]).all()
    for frame in (0, 4):  # each frame alone is the pooled AUROC of that frame
        assert fast[frame] == pytest.approx(auroc(saliency[frame][None], region[frame][None]), abs=1e-12)


def test_frame_auroc_judges_where_and_not_when():
    """Perfect ranking inside each frame, but a large map on one frame and a small one on the other:
    per frame 1 and 1; pooled, the second frame's figure loses to the first frame's background: 3/4 by hand."""
    region = _region(frames=2)
    saliency = region.astype(float)
    saliency[0] += 10.0
    np.testing.assert_array_equal(frame_auroc(saliency, region), [1.0, 1.0])
    assert auroc(saliency, region) == pytest.approx(0.75)
    parts = region.astype(np.uint8) * PART_INDEX["torso"]
    metrics = localisation_metrics(saliency, parts, np.ones(2), np.arange(2.0))
    assert metrics["auroc_person"] == 1.0 and metrics["pooled_auroc_person"] == pytest.approx(0.75)
