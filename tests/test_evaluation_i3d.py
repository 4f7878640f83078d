"""The evaluation chapter's I3D part (faithfulness and coarse cascading randomisation on real footage).

A small untrained I3D on random clips stands in for the Kinetics network and the footage, so the
code path (settings, both work functions, the resumable sweeps) runs in a few seconds.
"""

from __future__ import annotations

import pytest
import torch

from vidsal_study.chapters.evaluation import study
from vidsal_core.errors import ConfigError

SPEC = {"footage": ["bikes", "vtest"], "clips_per_video": 1, "clip_length": 8, "crop_size": 32, "shorter_side": 32,
        "methods": ["input_gradient", "deep_taylor", "random"], "frame_points": 4,
        "randomisation_methods": ["input_gradient"], "randomisation_steps": 3}


@pytest.fixture
def tiny_i3d(monkeypatch):
    from vidsal_study.chapters.border import untrained_i3d

    model = untrained_i3d(0)
    calls = {"clips": 0}

    def clip(clip, descriptor, clip_length):
        calls["clips"] += 1
        generator = torch.Generator().manual_seed(len(clip["name"]) + int(clip["offset"]))
        return torch.rand(clip_length, 3, descriptor["crop_size"], descriptor["crop_size"], generator=generator)

    monkeypatch.setattr(study, "i3d_model_descriptor", lambda spec: {"kind": "i3d", "weights_sha256": "stand-in",
                                                                     "crop_size": spec["crop_size"],
                                                                     "shorter_side": spec["shorter_side"]})
    monkeypatch.setattr(study, "i3d_clips", lambda spec: [{"source": "footage", "name": name, "n_frames": 20,
                                                            "offset": 6} for name in spec["footage"]])
    monkeypatch.setattr(study, "i3d_model", lambda descriptor: model)
    monkeypatch.setattr(study, "i3d_clip", clip)
    return calls


def test_i3d_sweeps_give_curves_and_coarse_randomisation_steps(tiny_i3d, tmp_path):
    faith, randomised = study.i3d_frames(SPEC, root=tmp_path)
    assert len(faith) == 2 * 3 and set(faith["method"]) == {"input_gradient", "deep_taylor", "random"}
    assert faith["deletion_auc"].between(0, 1).all() and faith["insertion_auc"].between(0, 1).all()
    assert all(len(curve) == SPEC["frame_points"] + 1 for curve in faith["deletion"])
    assert list(randomised[randomised["video"] == "bikes@6"]["stage"]) == ["trained", "logits", "Mixed_5", "all"]
    trained = randomised[randomised["step"] == 0]
    assert trained["spearman"].tolist() == pytest.approx([1.0] * len(trained))
    layers = randomised.groupby("step")["layers"].first().tolist()
    assert layers[0] == 0 and layers[1] == 1 and layers[1] < layers[2] < layers[3]
    # resumed from the sweep store: nothing is computed again
    before = tiny_i3d["clips"]
    again, _ = study.i3d_frames(SPEC, root=tmp_path)
    assert tiny_i3d["clips"] == before
    assert again["deletion_auc"].tolist() == faith["deletion_auc"].tolist()


def test_the_i3d_section_is_optional_and_checked():
    assert study.i3d_settings({}) is None
    assert study.i3d_stage_names(3) == ["logits", "Mixed_5", "all"]
    with pytest.raises(ConfigError, match="unknown"):
        study.i3d_settings({"i3d": {**SPEC, "method": []}})
    with pytest.raises(ConfigError, match="methods"):
        study.i3d_settings({"i3d": {**SPEC, "methods": ["integrated_gradients"]}})
    with pytest.raises(ConfigError, match="randomisation_steps"):
        study.i3d_settings({"i3d": {**SPEC, "randomisation_steps": 9}})
    for profile in ("quick", "default", "full"):
        spec = study.chapter_settings(profile)["i3d"]
        assert spec is None or spec["clip_length"] >= 1
