"""Single-cue baselines (vidsal_study.chapters.data.cues): threshold classifiers on visibility and on the gait."""

import numpy as np
import pandas as pd
import pytest

from vidsal_study.chapters.data.cues import CUES, baseline_table, clip_cues, cue_baselines, fit_stump
from vidsal_core.errors import ConfigError
from vidsal_study.profiles import corpus_config


def test_a_stump_is_the_best_threshold_worked_by_hand():
    # values 1..6, labels 0 0 1 0 1 1: the best cut is 2.5 (above: 1 error) or 4.5 (above: 1 error); the first wins
    stump = fit_stump([1, 2, 3, 4, 5, 6], [0, 0, 1, 0, 1, 1])
    assert (stump.threshold, stump.above, stump.train_accuracy) == (2.5, True, pytest.approx(5 / 6))
    # the positive class below the cut
    low = fit_stump([1, 2, 10, 11], [1, 1, 0, 0])
    assert (low.threshold, low.above, low.train_accuracy) == (6.0, False, 1.0)
    assert low.predict([0, 6, 7]).tolist() == [1, 1, 0]
    # one value: no cut separates anything, the majority is taken
    assert fit_stump([3, 3, 3], [1, 1, 0]).train_accuracy == pytest.approx(2 / 3)


@pytest.mark.parametrize("values, labels, message", [
    ([1, 2], [0], "one label per value"), ([1, np.nan], [0, 1], "finite"), ([1, 2], [0, 2], "0 or 1"),
])
def test_bad_stump_input_is_named(values, labels, message):
    with pytest.raises(ConfigError, match=message):
        fit_stump(values, labels)


def _frame(persons, separating):
    rows = []
    for person in persons:
        for label in (0, 1):
            for clip in range(2):
                rows.append({"video": f"{person}-{label}-{clip}", "person": person, "label": label,
                             "frames in view": (1.0 - 0.5 * label) if separating else 0.5 + 0.1 * clip,
                             "mean visibility": 0.9, "elbow flexion": 10.0 + 60 * label,
                             "cadence": 110.0 + 50 * label})
    return pd.DataFrame(rows)


def test_a_separating_cue_scores_one_and_a_useless_cue_scores_chance():
    found = cue_baselines(_frame(range(8), True), _frame(range(100, 109), True))
    assert found["frames in view"].accuracy.mean == 1.0 and found["cadence"].accuracy.mean == 1.0
    assert found["frames in view"].accuracy.high == 1.0 and found["frames in view"].accuracy.low < 1.0
    assert found["frames in view"].accuracy.units == 9
    useless = cue_baselines(_frame(range(8), False), _frame(range(100, 109), False), cues=["frames in view"])
    accuracy = useless["frames in view"].accuracy
    assert accuracy.mean == pytest.approx(0.5) and accuracy.low < 0.5 < accuracy.high
    table = baseline_table(found)
    assert list(table["cue"]) == list(CUES) and table["test accuracy (95% CI over persons)"][0].startswith("1.000 [")
    with pytest.raises(ConfigError, match="unknown"):
        cue_baselines(_frame(range(8), True), _frame(range(100, 109), True), cues=["colour"])
    with pytest.raises(ConfigError, match="both classes"):
        cue_baselines(_frame(range(8), True).query("label == 0"), _frame(range(100, 109), True))


def test_clip_cues_read_the_clip_a_model_sees(tmp_path):
    from vidsal_core.data.corpus import CorpusConfig, build_corpus

    corpus = build_corpus(corpus_config("quick"), progress=False)
    cues = clip_cues(corpus, "test", ["walking", "running"], clip_length=16)
    assert set(cues["action"]) == {"walking", "running"} and set(cues["label"]) == {0, 1}
    first = cues.iloc[0]
    item = corpus.dataset(split="test", actions=["walking", "running"], clip_length=16, offset="acting",
                          title_frames=0, with_truth=True)[0]
    visibility = item.truth.visibility.numpy()
    assert first["frames in view"] == pytest.approx(np.mean(visibility >= 0.5))
    assert first["mean visibility"] == pytest.approx(visibility.mean())
    assert first["cadence"] == pytest.approx(corpus.load(first["video"])["meta"]["cadence_steps_per_minute"])
    with pytest.raises(ConfigError, match="unknown"):
        clip_cues(corpus, "test", ["boxing-on-ice"], clip_length=16)


def test_cue_glue_names_every_cue_and_the_training_medians():
    from vidsal_study.chapters.data.cues import cue_glue

    train = _frame(range(8), True).assign(action=lambda frame: frame["label"].map({0: "walking", 1: "running"}))
    values = cue_glue(cue_baselines(train, _frame(range(100, 109), True)), train)
    assert values["cue_visibility_rule"] == "at or below 0.75" and values["cue_gait_accuracy"].startswith("1.000 [")
    assert values["cue_in_view_medians"] == "0.50 (running) and 1.00 (walking)"
    assert {"cue_posture_accuracy", "cue_mean_visibility_rule"} <= set(values)
    assert values["cue_gait_side"] == "above chance"  # its interval lies above 0.5


def test_on_the_control_cut_the_visibility_cues_are_the_same_for_every_clip(tmp_path):
    from _tiny_models import tiny_corpus
    from vidsal_study.chapters.data.cues import cue_glue, cut_table, kept_videos, run_cut
    from vidsal_core.data.clips import clip_span
    from vidsal_study.runs import build_run

    corpus = tiny_corpus(tmp_path)
    cut = run_cut(build_run("quick", "frame_lstm_binary_control"))
    assert cut == {"clip_length": 16, "step": 1, "offset": "acting", "inside": True, "clip_in_view": 1.0}
    actions = ["walking", "running"]
    train, test = (clip_cues(corpus, split, actions, **cut) for split in ("train", "test"))
    kept = corpus.inside_entries(corpus.select(split="test", actions=actions), clip_span(16), 1.0)
    assert sorted(test["video"]) == sorted(entry["key"] for entry in kept)
    assert (train["frames in view"] == 1.0).all() and (test["mean visibility"] == 1.0).all()
    found = cue_baselines(train, test, cues=["frames in view", "mean visibility"])
    larger = train["action"].value_counts().idxmax()
    share = float((test["action"] == larger).mean())
    assert found["frames in view"].accuracy.mean == pytest.approx(share), "a constant feature: one class for all"
    values = cue_glue(found, train, test, prefix="cue_control")
    assert values["cue_control_majority"].startswith(f"{share:.3f} (the ") and "cue_control_visibility_accuracy" in values
    main = cue_baselines(*(clip_cues(corpus, split, actions, clip_length=16) for split in ("train", "test")),
                         cues=["frames in view", "mean visibility"])
    table = cut_table({"main": main, "control": found})
    assert list(table.columns) == ["main", "control"] and list(table.index) == ["frames in view", "mean visibility"]
    counts = kept_videos(corpus, actions, **cut)
    assert list(counts.index) == ["train", "validation", "test"]
    assert counts.loc["test", "walking"].endswith(" of 4") and counts.loc["validation", "running"] == "0 of 0"


def test_cue_cut_glues_and_records_the_control_beside_the_main_cut(tmp_path):
    from _tiny_models import tiny_corpus
    from vidsal_study.chapters.data.cues import cue_cut
    from vidsal_study.runs import build_run

    corpus = tiny_corpus(tmp_path)
    main = cue_cut(corpus, build_run("quick", "frame_lstm_binary"))
    control = cue_cut(corpus, build_run("quick", "frame_lstm_binary_control"), prefix="cue_control")
    assert main.cut["clip_length"] == 30 and not main.cut["inside"] and control.cut["inside"]
    values = control.glued()
    assert values["cue_control_clip_length"] == 16 and values["cue_control_in_view"] == "1"
    assert values["cue_control_kept_walking"].endswith("(test)") and "cue_control_majority" in values
    assert main.glued()["cue_visibility_accuracy"] == main.found["frames in view"].accuracy.text(".3f")
    rows = main.rows(["frames in view"]) + control.rows(["mean visibility"])
    assert rows[0]["quantity"] == "test accuracy of a threshold on frames in view, fraction of test clips"
    assert "control cut" in rows[1]["quantity"] and "chance here" in rows[1]["note"]
    assert {row["verdict"] for row in rows} == {"new"}
    near = cue_cut(corpus, build_run("quick", "frame_lstm_binary_control"), cues=["mean visibility"],
                   clip_in_view=0.99)
    assert near.cut["clip_in_view"] == 0.99 and list(near.found) == ["mean visibility"]
    with pytest.raises(ConfigError, match="unknown change"):
        cue_cut(corpus, build_run("quick", "frame_lstm_binary_control"), in_view=0.9)
