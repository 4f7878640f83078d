"""The border chapter's sweeps: settings, items, the per-clip work, and the tables built from results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from vidsal_study.chapters import border
from vidsal_study.chapters.border import (
    BorderSettings,
    effects_by,
    explain_clip,
    paired_difference,
    results_frame,
    sweep_items,
    table_one,
)
from vidsal_core.metrics.relevance import frame_positions
from vidsal_study.sweeps import run_sweep
from vidsal_core.errors import ConfigError
from vidsal_core.models.c3d import C3D
from vidsal_core.saliency.lrp import relevance

MODEL = {"kind": "c3d", "profile": "test", "run": "tiny", "trained_sha256": "a", "untrained_sha256": "b"}


def test_offsets_and_profiles_parse():
    assert border._offsets({"start": 0, "stop": 32, "by": 16}, "x") == (0, 16, 32)
    assert border._offsets([8, 0], "x") == (8, 0)
    with pytest.raises(ConfigError, match="x"):
        border._offsets({"stop": 8, "every": 2}, "x")
    with pytest.raises(ConfigError, match="explanation"):
        border._names(["DTD", "LRP"], "x")
    for profile in ("quick", "default", "full"):
        settings = BorderSettings.from_profile(profile)
        assert settings.explanations and 0 in settings.steps
        assert settings.i3d.clip_length == 16


def test_items_skip_clips_that_do_not_fit():
    video = {"source": "synthkth", "key": "v", "n_frames": 40}
    items = sweep_items([video], MODEL, 16, steps=[0, 2, 4], offsets=[0, 10], explanations=["DTD", "SA"])
    settings = {(item.setting["step"], item.setting["offset"]) for item in items}
    # step 2 spans 31 frames (fits at 0 only), step 4 spans 61 (never fits), step 0 one frame
    assert settings == {(0, 0), (0, 10), (2, 0)}
    assert len(items) == 6 and len({item.key for item in items}) == 6


def _tiny_models(monkeypatch):
    torch.manual_seed(0)
    trained = C3D(num_classes=3, clip_length=16, input_size=(16, 16), width_multiplier=1 / 32).eval()
    untrained = C3D(num_classes=3, clip_length=16, input_size=(16, 16), width_multiplier=1 / 32).eval()
    for weights, model in (("trained", trained), ("untrained", untrained)):
        monkeypatch.setitem(border._MODELS, border.canonical_json({"model": MODEL, "weights": weights}), model)

    def clip_of(video, setting):
        generator = torch.Generator().manual_seed(video["seed"] * 100 + setting["offset"])
        return torch.rand(16, 1, 16, 16, generator=generator)

    monkeypatch.setattr(border.clips, "load_clip", clip_of)  # where the sweeps' work reads clips
    return trained, untrained, clip_of


def test_explain_clip_explains_the_trained_models_top_class_and_resumes(monkeypatch, tmp_path):
    trained, untrained, clip_of = _tiny_models(monkeypatch)
    video = {"source": "synthkth", "key": "v", "n_frames": 64, "seed": 1, "person": 2, "action": "boxing", "label": 0}
    items = sweep_items([video], MODEL, 16, steps=[2], offsets=[0, 16], explanations=["DTD", "SA", "DTD-u"])
    results = run_sweep(explain_clip, items, tmp_path, progress=False)
    for item, result in zip(items, results):
        clip = clip_of(video, item.setting)
        target = int(trained(clip[None]).argmax())
        assert result["target"] == target == result["top"][0]
        weights, method = border.EXPLANATIONS[item.setting["explanation"]]
        model = trained if weights == "trained" else untrained
        expected = relevance(model, clip[None], target, method)[0].sum(dim=(1, 2, 3)).double()
        np.testing.assert_allclose(result["frame_relevance"], expected.numpy(), rtol=1e-4,
                                   atol=1e-6 * expected.abs().max().item())
    assert run_sweep(explain_clip, items, tmp_path, progress=False) == results


def _results(border_value, lookahead_value, persons=4, steps=(1, 2)):
    """Items and results whose share vectors have known coefficients (and the label top-1 at step 2 only)."""
    u = frame_positions(16)
    items, results = [], []
    for person in range(persons):
        for step in steps:
            video = {"source": "synthkth", "key": f"p{person}", "person": person, "action": "boxing", "label": 0,
                     "title_frames": 0, "n_frames": 512}
            share = 1 / 16 + border_value * step * (u * u - np.mean(u * u)) + lookahead_value * u
            items += sweep_items([video], MODEL, 16, [step], [0], ["DTD"])
            results.append({"frame_relevance": (3.0 * share).tolist(), "target": 0,
                            "top": [0, 1, 2] if step == 2 else [1, 0, 2], "top_logits": [3.0, 2.0, 1.0]})
    return items, results


def test_tables_recover_known_coefficients():
    frame = results_frame(*_results(0.01, 0.002))
    effects = effects_by(frame, ["step", "explanation"]).set_index("step")
    assert effects.loc[1, "border"] == pytest.approx(0.01) and effects.loc[2, "border"] == pytest.approx(0.02)
    assert effects.loc[2, "lookahead"] == pytest.approx(0.002) and effects.loc[2, "groups"] == 4
    change = paired_difference(frame, "border", "step", 2, 1)
    assert change.mean == pytest.approx(0.01) and change.count == 4
    accuracy = border.accuracy_by(frame, ["step"]).set_index("step")
    assert accuracy.loc[1, "top1"] == 0.0 and accuracy.loc[2, "top1"] == 1.0 and accuracy.loc[1, "top2"] == 1.0
    table = table_one({"C3D": frame[frame["step"] == 1]})
    assert list(table.columns) == ["model · data", "coefficient", *border.EXPLANATIONS]
    assert list(border.EXPLANATIONS)[:2] == ["DTD", "DTD-wta"]  # the seed's pooling rule beside winner-take-all
    assert table.loc[0, "DTD"].startswith("+1 [") and table.loc[1, "SA"] == "—"


def test_a_few_videos_are_spread_over_persons_and_actions():
    videos = [{"person": person, "action": action} for person in (2, 3, 5) for action in "abcdef"]
    chosen = border._spread(videos, 6)
    assert [video["action"] for video in chosen] == list("abcdef")
    assert [video["person"] for video in chosen] == [2, 3, 5, 2, 3, 5]
    assert len(border._spread(videos, 100)) == 18


def test_the_i3d_synthkth_videos_are_nine_persons_and_every_action():
    # the default border chapter: 2 videos of each of the 9 test persons (per_person), 9 of them for I3D
    actions = ["walking", "jogging", "running", "boxing", "handwaving", "handclapping"]
    videos = [{"person": person, "action": action, "key": f"{person}-{action}"}
              for person in (2, 3, 5, 6, 7, 8, 9, 10, 22) for action in actions]
    chosen = border._spread(border.per_person(videos, 2), 9)
    assert [video["person"] for video in chosen] == [2, 3, 5, 6, 7, 8, 9, 10, 22]
    assert {video["action"] for video in chosen} == set(actions)


@pytest.mark.slow
def test_the_command_prints_table_one_at_the_quick_profile(capsys):
    """Trains the quick C3D if needed and runs (or reads back) every quick sweep."""
    assert border.main(["--profile", "quick", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "| model · data" in text and "| DTD" in text and "| DTD-u" in text
    for row in ("C3D · SynthKTH", "I3D · real footage", "I3D · SynthKTH"):
        table_one_rows = [line for line in text.splitlines() if row in line and "groups)" in line]
        assert len(table_one_rows) == 2, row  # a border and a lookahead row each
    assert "| DTD-wta" in text and "1 - sum R" in text  # both pooling rules; the relevance the biases absorb
    assert "Title-card test" in text and "top-1" in text


def test_dtd_uses_the_proportional_pool_rule_and_biases_absorb_what_the_relevance_misses(monkeypatch, tmp_path):
    """DTD is deep Taylor with the seed's proportional max pooling, DTD-wta winner-take-all; 1 − ΣR is the bias share."""
    from vidsal_core.saliency.lrp import bias_free_copy
    from vidsal_core.saliency.lrp_fast import deep_taylor

    trained, untrained, clip_of = _tiny_models(monkeypatch)
    with torch.no_grad():
        for module in trained.modules():
            if isinstance(module, (torch.nn.Conv3d, torch.nn.Linear)):
                module.bias.uniform_(0.0, 0.05)  # positive biases take relevance under z+
    bias_free = bias_free_copy(untrained)
    monkeypatch.setitem(border._MODELS, border.canonical_json({"model": MODEL, "weights": "untrained"}), bias_free)
    video = {"source": "synthkth", "key": "v", "n_frames": 64, "seed": 2, "person": 2, "action": "boxing", "label": 0}
    items = sweep_items([video], MODEL, 16, steps=[2], offsets=[0], explanations=["DTD", "DTD-wta", "DTD-u", "SA"])
    frame = results_frame(items, run_sweep(explain_clip, items, tmp_path, progress=False)).set_index("explanation")
    clip = clip_of(video, items[0].setting)
    target = int(frame.loc["DTD", "target"])
    for name, rule in (("DTD", "proportional"), ("DTD-wta", "winner_take_all")):
        expected = deep_taylor(trained, clip[None], target, max_pool=rule)[0].sum(dim=(1, 2, 3)).double().numpy()
        np.testing.assert_allclose(frame.loc[name, "frame_relevance"], expected, rtol=1e-5, atol=1e-9)
    assert not np.allclose(frame.loc["DTD", "frame_relevance"], frame.loc["DTD-wta", "frame_relevance"])
    shares = border.bias_share(frame.reset_index())
    assert len(shares) == 3  # deep Taylor rows only
    by_name = dict(zip(frame.index[:3], shares.to_numpy()))
    assert 0.01 < by_name["DTD"] < 1 and 0.01 < by_name["DTD-wta"] < 1
    assert abs(by_name["DTD-u"]) < 1e-4  # bias-free: relevance conserved
    table = border.bias_share_table({"C3D": frame.reset_index()})
    assert list(table["explanation"]) == ["DTD", "DTD-wta", "DTD-u"] and (table["clips"] == 1).all()


def test_table_explanations_join_the_offset_sweeps_only():
    settings = BorderSettings(explanations=("DTD", "SA"), table_explanations=("DTD-wta", "DTD"))
    assert settings.offset_explanations(settings.explanations) == ("DTD", "SA", "DTD-wta")
    for profile in ("quick", "default", "full"):
        assert "DTD-wta" in BorderSettings.from_profile(profile).table_explanations


def test_per_person_spreads_a_fixed_number_of_videos_over_every_person():
    from vidsal_study.chapters.border import per_person

    actions = ["walking", "jogging", "running", "boxing", "handwaving", "handclapping"]
    videos = [{"person": person, "action": action, "key": f"{person}-{action}"}
              for person in (2, 3, 5, 6, 7, 8, 9, 10, 22) for action in actions]
    chosen = per_person(videos, 2)
    assert len(chosen) == 18 and len({video["key"] for video in chosen}) == 18
    assert {video["person"] for video in chosen} == {2, 3, 5, 6, 7, 8, 9, 10, 22}
    counts = {action: sum(video["action"] == action for video in chosen) for action in actions}
    assert set(counts.values()) == {3}, counts
    assert per_person(videos, None) == videos
    assert len(per_person(videos, 6)) == 54


@pytest.mark.parametrize("profile", ["quick", "default", "full"])
def test_the_border_corpus_renders_exactly_the_videos_per_person_picks(profile):
    from dataclasses import replace

    from vidsal_study.chapters.border import evaluation_corpus_config, per_person

    settings = BorderSettings.from_profile(profile)
    config = evaluation_corpus_config(profile, settings)
    everything = replace(config, actions_per_person=None)

    def videos(corpus_config):
        return [{"person": spec.person, "action": spec.action, "key": spec.key()}
                for spec in corpus_config.specs() if spec.title_frames == 0]

    picked = per_person(videos(everything), settings.videos_per_person)
    assert [video["key"] for video in per_person(videos(config), settings.videos_per_person)] == \
        [video["key"] for video in picked]
    assert len(config.specs()) == len(picked) * len(config.title_frames)


def _accuracy_frame():
    """Two persons × one video; step 1 fits at offsets 0, 8, 16, step 4 at 0 and 8 only; top-1 hits chosen by hand."""
    rows = []
    hits = {(1, 0): 1, (1, 8): 0, (1, 16): 0, (4, 0): 1, (4, 8): 1}
    for person in (1, 2):
        for (step, offset), hit in hits.items():
            rows.append({"video": f"p{person}", "group": person, "step": step, "offset": offset, "title_frames": 0,
                         "explanation": "logits", "label": 0, "top1": float(hit), "top2": 1.0, "top5": 1.0})
    return pd.DataFrame(rows)


def test_steps_are_compared_on_shared_offsets_only():
    frame = _accuracy_frame()
    shared = border.shared_offsets(frame)
    assert sorted(set(shared["offset"])) == [0, 8] and len(shared) == 8
    # on all offsets step 1 looks worse only because it is also measured at offset 16
    assert frame[frame.step == 1]["top1"].mean() == pytest.approx(1 / 3)
    assert shared[shared.step == 1]["top1"].mean() == pytest.approx(0.5)
    assert border.best_step(frame) == 4
    gain = border.step_gain(frame, 4, 1)
    assert gain.mean == pytest.approx(0.5) and gain.count == 4
    tied = frame.assign(top1=1.0)
    assert border.best_step(tied, prefer=4) == 4 and border.best_step(tied) == 1
    assert border.best_step(frame, exclude=4) == 1  # the best step other than the training one
    with pytest.raises(ConfigError, match="k="):
        border.best_step(frame, k=3)


def test_validation_persons_must_be_validation_persons():
    settings = BorderSettings(validation_persons=(19, 2))
    with pytest.raises(ConfigError, match="validation"):
        border.validation_corpus_config("quick", settings)
    config = border.validation_corpus_config("quick", BorderSettings(validation_persons=(19,)))
    assert list(config.persons) == [19] and list(config.title_frames) == [0]


def test_the_native_i3d_row_reads_from_the_profiles():
    """Full adds I3D at its training input (64 frames, 224 px); quick and default (for its time budget) skip it."""
    for profile in ("quick", "default"):
        assert BorderSettings.from_profile(profile).i3d_native is None
    native = BorderSettings.from_profile("full").i3d_native
    assert (native.clip_length, native.crop_size) == (64, 224) and len(native.footage) >= 4 and native.footage_offsets
