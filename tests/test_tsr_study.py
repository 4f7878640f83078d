"""The TSR chapter's study: settings, video choice, scores against the truth, engine costs on a tiny model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from _saliency_models import QuadraticFrames
from vidsal_study.chapters.tsr.study import (
    METHODS,
    StudySettings,
    clip_metrics,
    engine_costs,
    explain,
    study_entries,
    tsr_options,
)
from vidsal_core.data.synthkth import PART_INDEX
from vidsal_core.errors import ConfigError
from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS


@pytest.mark.parametrize("profile", ["quick", "default", "full"])
def test_every_profile_has_valid_settings(profile):
    settings = StudySettings.from_profile(profile)
    assert settings.runs and settings.variant in ("reference_code", "algorithm_1")


def test_settings_refuse_bad_values():
    with pytest.raises(ConfigError, match="variant"):
        StudySettings.from_profile("quick", {"variant": "fast"})
    with pytest.raises(ConfigError, match="block_size"):
        StudySettings.from_profile("quick", {"block_size": 0})
    with pytest.raises(ConfigError, match="unknown"):
        StudySettings.from_profile("quick", {"blocksize": 4})
    assert StudySettings.from_profile("quick", {"block_size": None}).block_size == StudySettings.from_profile("quick").block_size


def test_tsr_options():
    assert tsr_options("reference_code") == REFERENCE_CODE_OPTIONS
    assert tsr_options("algorithm_1") == {}
    with pytest.raises(ConfigError, match="variant"):
        tsr_options("paper")


class FakeCorpus:
    def __init__(self, videos):
        self.videos = videos

    def select(self, split=None, actions=None, scenarios=None, title_frames=None):
        return [v for v in self.videos if v["split"] == split and v["action"] in actions]


def test_study_entries_pair_actions_and_spread_persons_and_scenarios():
    videos = [{"key": f"{a}{p}{s}", "action": a, "person": p, "scenario": s, "split": "test"}
              for a in ("walking", "running") for p in (2, 3, 5) for s in ("d1", "d2")]
    videos = [v for v in videos if v["key"] != "running3d2"]  # a missing video: its pair is skipped
    chosen = study_entries(FakeCorpus(videos), 4)
    pairs = [(v["person"], v["scenario"]) for v in chosen]
    assert pairs[0::2] == pairs[1::2]  # walking and running of the same (person, scenario)
    assert [v["action"] for v in chosen[:2]] == ["walking", "running"]
    assert pairs[0::2] == [(2, "d1"), (5, "d1"), (3, "d1"), (2, "d2")]  # (3, d2) lacks its runner: 3 comes from d1 before 2 twice
    assert len(study_entries(FakeCorpus(videos), 10)) == 2 * 5  # every complete pair, no more


def test_clip_metrics_by_hand():
    frames, height, width = 4, 6, 8
    parts = np.zeros((frames, height, width), np.uint8)
    parts[:3, 1:3, 2:4] = PART_INDEX["torso"]  # 4 pixels
    parts[:3, 3:5, 2:4] = PART_INDEX["left_thigh"]  # 4 pixels of leg
    visibility = np.array([1.0, 1.0, 0.6, 0.0])
    person = torch.from_numpy(parts > 0).double()
    motion = person * 2.0 + 0.01 * torch.arange(height * width, dtype=torch.float64).reshape(height, width)
    maps = {"on_person": person[:, None], "farneback": motion[:3]}
    metrics = clip_metrics(maps, parts, visibility, motion)
    assert metrics["on_person"]["person"] == pytest.approx(1.0)
    assert metrics["on_person"]["legs"] == pytest.approx(0.5)
    assert metrics["chance"]["person"] == pytest.approx(8 / 48) and metrics["chance"]["legs"] == pytest.approx(4 / 48)
    assert metrics["farneback"]["rho_true"] == pytest.approx(1.0) and metrics["farneback"]["rho_farneback"] == 1.0
    assert 0.5 < metrics["on_person"]["rho_true"] < 1.0  # ties on the person, the background ranked
    assert math.isnan(metrics["on_person"]["empty"])  # no empty frame among the 3 compared
    assert metrics["on_person"]["late"] == pytest.approx(1 / 3)  # the last of 3 frames holds a third
    assert sum(metrics["on_person"]["profile"]) == pytest.approx(1.0)


def tiny_model_and_video(seed=0):
    generator = torch.Generator().manual_seed(seed)
    model = QuadraticFrames(torch.rand(1, 12, 16, generator=generator), torch.rand(6, generator=generator)).eval()
    return model, torch.rand(6, 1, 12, 16, generator=generator)


def test_engine_costs_agree_and_extrapolate():
    model, video = tiny_model_and_video()
    costs = engine_costs(model, video, 0, block_size=4, cost_block_size=6)
    assert list(costs["engine"]) == ["naive loop", "batched", "factorised", "naive loop", "batched", "factorised"]
    assert costs["max_difference"].max() < 1e-5
    extrapolated = costs[~costs["measured"]].iloc[0]
    assert extrapolated["block_size"] == 4
    assert extrapolated["seconds"] == pytest.approx(extrapolated["seconds_per_pass"] * extrapolated["passes"])
    naive = costs.iloc[0]
    assert naive["passes"] == 1 + 6 + naive["selected"] * (12 // 6) * (16 // 6 + 1)


def test_explain_gives_every_map_with_the_videos_shape():
    model, video = tiny_model_and_video(1)
    explained = explain(model, video, 0, block_size=4, superpixels=6)
    assert set(explained["maps"]) == set(METHODS)
    for name in METHODS:
        expected = (5, 12, 16) if name == "farneback" else tuple(video.shape)
        assert tuple(explained["maps"][name].shape) == expected
        assert bool((explained["maps"][name] >= 0).all())  # unsigned maps
    assert explained["target"] == 0


def test_explain_without_superpixels_leaves_superpixel_tsr_out():
    model, video = tiny_model_and_video(1)
    explained = explain(model, video, 0, block_size=4, superpixels=0)
    assert set(explained["maps"]) == set(METHODS) - {"tsr_superpixels"} and set(explained["tsr"]) == {"tsr_blocks"}
    full = explain(model, video, 0, block_size=4, superpixels=6)
    for name in explained["maps"]:  # the other maps do not depend on it
        assert torch.equal(explained["maps"][name], full["maps"][name]), name
