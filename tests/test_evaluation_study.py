"""The evaluation chapter's sweep helpers: method selection, settings, maps' shapes, paired differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from types import SimpleNamespace

from _saliency_models import LinearFrames, QuadraticFrames
from _toy_videos import TINY_MODELS
from vidsal_study.chapters.evaluation import study
from vidsal_study.sweeps import SweepItem
from vidsal_core.errors import ConfigError

OPTIONS = {"ig_steps": 4, "smoothgrad_samples": 2, "tsr_block": 2, "superpixels": 4, "occlusion_baseline": "zero",
           "faithfulness_baseline": "blur", "faithfulness_block": 2, "frame_points": 4, "block_points": 4,
           "min_visibility": 0.5, "tolerance": 0, "seed": 0}


def test_lrp_methods_are_for_convolutional_models_only():
    assert "deep_taylor" not in study.methods_for({"model": "frame_lstm"}, study.METHODS)
    assert "deep_taylor" in study.methods_for({"model": "c3d"}, study.METHODS)
    with pytest.raises(ConfigError, match="methods"):
        study.methods_for({"model": "c3d"}, ["deep_taylr"])


def test_cam_methods_are_for_3d_convolutional_models_only():
    for recurrent in ("frame_lstm", "ica_lstm"):
        assert not set(study.CAM_METHODS) & set(study.methods_for({"model": recurrent}, study.METHODS))
    assert set(study.CAM_METHODS) <= set(study.methods_for({"model": "c3d"}, study.METHODS))
    assert set(study.CAM_METHODS) <= set(study.I3D_METHODS)
    from vidsal_core.models.c3d import C3D

    model = C3D(3, clip_length=16, input_size=(32, 32), width_multiplier=1 / 16).eval()
    clip = torch.rand(16, 1, 32, 32)
    for method in study.CAM_METHODS:
        saliency = study.explain(model, clip, 1, method, OPTIONS)
        assert saliency.shape == clip.shape and bool((saliency >= 0).all())


def test_every_profile_has_a_valid_section():
    for profile in ("quick", "default", "full"):
        settings = study.chapter_settings(profile)
        assert settings["videos"] >= 1


def test_a_section_with_an_unknown_option_is_refused(tmp_path):
    content = yaml.safe_load(open(study.__file__.replace("vidsal_study/chapters/evaluation/study.py",
                                                          "params/quick.yaml")))
    content["evaluation_chapter"]["options"]["ig_step"] = 3
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(ConfigError, match="options"):
        study.chapter_settings(str(path))


@pytest.mark.parametrize("method", ["input_gradient", "integrated_gradients", "smoothgrad", "sensitivity",
                                    "frame_occlusion", "one_step", "tsr", "flow", "random"])
def test_every_method_gives_a_map_of_the_clip_shape(method):
    model = LinearFrames(torch.tensor([1.0, -2.0, 0.5, 3.0])).eval()
    clip = torch.rand(4, 1, 4, 6, generator=torch.Generator().manual_seed(0))
    saliency = study.explain(model, clip, 0, method, OPTIONS)
    assert saliency.shape == clip.shape and torch.isfinite(saliency).all()


def test_frame_occlusion_broadcasts_the_positive_probability_drop():
    model = LinearFrames(torch.tensor([1.0, -2.0, 0.5, 3.0])).eval()
    clip = torch.ones(4, 1, 2, 2)
    saliency = study.explain(model, clip, 0, "frame_occlusion", OPTIONS)
    per_frame = saliency[:, 0, 0, 0]
    assert per_frame[1] == 0 and per_frame[3] > per_frame[0] > per_frame[2] > 0
    assert torch.all(saliency == per_frame[:, None, None, None])


def test_paired_difference_uses_the_videos_both_methods_share():
    frame = pd.DataFrame({"model": "m", "method": ["a", "a", "a", "b", "b"], "video": ["1", "2", "3", "1", "2"],
                          "person": [1, 2, 3, 1, 2], "auroc_person": [0.9, 0.8, 0.1, 0.5, 0.6]})
    difference = study.paired_difference(frame, "m", "a", "b", "auroc_person", resamples=200)
    assert difference.count == 2 and difference.mean == pytest.approx(0.3)
    assert difference.units == 2 and difference.low < 0.3 < difference.high
    assert study.paired_difference(frame, "m", "a", "c", "auroc_person") is None


class _Corpus:
    config_hash = "h"

    def __init__(self, persons, actions, scenarios):
        self.entries = [{"key": f"{p}-{a}-{s}", "person": p, "action": a, "scenario": s}
                        for p in persons for a in actions for s in scenarios]

    def select(self, split, actions, title_frames):
        assert split == "test" and title_frames == 0
        return [entry for entry in self.entries if entry["action"] in actions]


def test_test_videos_cover_every_person_before_repeating_one():
    corpus = _Corpus(range(9), ["walking", "running"], ["d1", "d2", "d3", "d4"])
    nine = study.test_videos(corpus, ["walking", "running"], 9)
    assert sorted(video["person"] for video in nine) == list(range(9))
    assert {video["action"] for video in nine} == {"walking", "running"}
    eighteen = study.test_videos(corpus, ["walking", "running"], 18)
    assert len({video["key"] for video in eighteen}) == 18
    pairs = {(video["person"], video["action"]) for video in eighteen}
    assert len(pairs) == 18, "the second round pairs every person with the other class"
    six = study.test_videos(_Corpus(range(9), list("abcdef"), ["d1"]), list("abcdef"), 9)
    assert len({video["person"] for video in six}) == 9 and len({video["action"] for video in six}) == 6
    assert len(study.test_videos(_Corpus([1], ["a"], ["d1"]), ["a"], 5)) == 1, "no more videos than exist"


def test_tsr_uses_the_tsr_chapters_variant_everywhere():
    """The evaluation's TSR is the TSR chapter's: the reference code's options unless the profile says otherwise."""
    from vidsal_study.chapters.tsr.study import tsr_options
    from vidsal_core.saliency.tsr import temporal_saliency_rescaling

    generator = torch.Generator().manual_seed(1)
    model = QuadraticFrames(torch.rand(1, 4, 6, generator=generator) + 0.5, torch.tensor([1.0, 2.0, 0.5, 3.0])).eval()
    clip = torch.rand(4, 1, 4, 6, generator=generator) + 0.5
    for variant in ("reference_code", "algorithm_1"):
        saliency = study.explain(model, clip, 0, "tsr", {**OPTIONS, "tsr_variant": variant})
        expected = temporal_saliency_rescaling(model, clip, 0, features="blocks", block_size=2,
                                               **tsr_options(variant)).saliency
        torch.testing.assert_close(saliency, expected)
    reference = study.explain(model, clip, 0, "tsr", {**OPTIONS, "tsr_variant": "reference_code"})
    literal = study.explain(model, clip, 0, "tsr", {**OPTIONS, "tsr_variant": "algorithm_1"})
    assert not torch.allclose(reference, literal)
    torch.testing.assert_close(study.explain(model, clip, 0, "tsr", OPTIONS), reference)  # the default
    for profile in ("quick", "default", "full"):
        settings = study.chapter_settings(profile)
        from vidsal_study.profiles import profile_section
        assert settings["options"]["tsr_variant"] == profile_section(profile, "tsr_chapter")["variant"]


def test_figure_and_background_intensity_by_hand():
    video = torch.zeros(2, 1, 2, 2)
    video[:, 0, 0, 0] = 0.2  # the figure's pixel
    video[:, 0, 1, :] = 0.8
    person = np.zeros((2, 2, 2), bool)
    person[:, 0, 0] = True
    figure, background = study.figure_background_intensity(video, person, [True, False])
    assert figure == pytest.approx(0.2) and background == pytest.approx((0.0 + 0.8 + 0.8) / 3)


def test_mask_ablation_settings_are_checked():
    section = {"runs": ["a", "b"], "videos": 4, "mask_ablation": {"runs": ["b"], "videos": 2}}
    assert study.mask_ablation_settings(section) == {"runs": ["b"], "videos": {"b": 2},
                                                     "mask_values": study.TSR_MASK_VALUES}
    per_run = {**section, "mask_ablation": {"runs": ["a", "b"], "videos": {"a": 3, "b": 1}}}
    assert study.mask_ablation_settings(per_run)["videos"] == {"a": 3, "b": 1}
    with pytest.raises(ConfigError, match="one per run"):
        study.mask_ablation_settings({**section, "mask_ablation": {"runs": ["a", "b"], "videos": {"a": 3}}})
    assert study.mask_ablation_settings({"runs": ["a"], "videos": 4}) is None
    with pytest.raises(ConfigError, match="mask_values"):
        study.mask_ablation_settings({**section, "mask_ablation": {"mask_values": ["grey"]}})
    with pytest.raises(ConfigError, match="runs"):
        study.mask_ablation_settings({**section, "mask_ablation": {"runs": ["c"]}})


def _quadratic_clip():
    generator = torch.Generator().manual_seed(2)
    model = QuadraticFrames(torch.rand(1, 4, 6, generator=generator) + 0.5, torch.tensor([1.0, 2.0, 0.5, 3.0])).eval()
    clip = torch.rand(4, 1, 4, 6, generator=generator)
    parts = np.zeros((4, 4, 6), np.uint8)
    parts[:, 1:3, 1:3] = 1
    return model, clip, SimpleNamespace(parts=parts, visibility=np.ones(4))


def test_the_mask_value_reaches_tsr(monkeypatch):
    """mask_ablation_work runs block TSR once per mask value with the variant's options, the mean as given."""
    model, clip, truth = _quadratic_clip()
    monkeypatch.setattr(study, "model_for", lambda descriptor: model)
    monkeypatch.setattr(study, "load_clip", lambda video, descriptor: SimpleNamespace(video=clip, truth=truth))
    import vidsal_core.saliency.masking as masking

    seen = []
    original = masking.baseline_video

    def recording(video, value, *args, **kwargs):
        seen.append((value, kwargs.get("mean")))
        return original(video, value, *args, **kwargs)

    monkeypatch.setattr(masking, "baseline_video", recording)
    monkeypatch.setattr(study, "baseline_video", recording)  # the study's own name for it
    result = study.mask_ablation_work({"key": "v"}, {"model": {}, "mask_values": list(study.TSR_MASK_VALUES),
                                                     "mean": 0.25, "variant": "reference_code", "block": 2,
                                                     "min_visibility": 0.5, "version": 0})
    assert [value for value, _ in seen] == list(study.TSR_MASK_VALUES) and seen[2] == ("mean", 0.25)
    assert result["frames_in_view"] == 4 and list(result["masks"]) == list(study.TSR_MASK_VALUES)
    for scores in result["masks"].values():
        for frame_set in ("in_view", "selected"):
            assert 0.0 <= scores[frame_set]["first"] <= 1.0
            assert scores[frame_set]["difference"] == pytest.approx(scores[frame_set]["first"] - scores[frame_set]["second"])
        assert scores["in_view"]["frames"] == 4 and scores["selected"]["frames"] == scores["frames_above_alpha"]
    items = [SweepItem({"key": "v", "person": 3}, {"model": {"run": "m"}, "mean": 0.25})]
    frame = study.mask_ablation_rows(items, [result])
    assert list(frame["mask_value"]) == list(study.TSR_MASK_VALUES) and set(frame["person"]) == {3}
    assert frame["difference_in_view"].tolist() == [result["masks"][m]["in_view"]["difference"]
                                                    for m in study.TSR_MASK_VALUES]


@pytest.mark.parametrize("name, engine", [("frame_lstm", "factorised"), ("ica_lstm", "factorised"),
                                          ("frame_lstm", "batched")])
def test_shared_engine_across_mask_values_equals_separate_runs_in_float64(name, engine):
    """One engine (Jacobians computed once) for every mask value gives each separate TSR call's map."""
    from vidsal_core.models.registry import build_model
    from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS, temporal_saliency_rescaling

    model = build_model(name, TINY_MODELS[name], seed=11).double().eval()
    video = torch.rand(6, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(12))
    shared = study.tsr_across_mask_values(model, video, 0, study.TSR_MASK_VALUES, 5, REFERENCE_CODE_OPTIONS,
                                          mask_mean=0.4, engine=engine)
    assert list(shared) == list(study.TSR_MASK_VALUES)
    for mask_value, result in shared.items():
        options = {**REFERENCE_CODE_OPTIONS, "mask_value": mask_value}
        separate = temporal_saliency_rescaling(model, video, 0, block_size=5, engine=engine,
                                               mask_mean=0.4 if mask_value == "mean" else None, **options)
        assert result.engine == separate.engine == engine
        assert torch.equal(result.selected, separate.selected)
        torch.testing.assert_close(result.time_relevance, separate.time_relevance, rtol=1e-12, atol=0)
        torch.testing.assert_close(result.saliency, separate.saliency, rtol=1e-12, atol=1e-15)
        assert result.attribution_calls == separate.attribution_calls
    maps = [result.saliency for result in shared.values()]
    assert any(not torch.equal(maps[0], other) for other in maps[1:])  # the mask value matters


def test_shared_engine_refuses_bad_mask_values():
    model, clip, _ = _quadratic_clip()
    with pytest.raises(ConfigError, match="mask_values"):
        study.tsr_across_mask_values(model, clip, 0, ["grey"], 2, {})
    with pytest.raises(ConfigError, match="mask_mean"):
        study.tsr_across_mask_values(model, clip, 0, ["mean"], 2, {})
