"""The models chapter's diagnosis: prediction tables, accuracy by group, in-view bins and training variants."""

from __future__ import annotations

import pandas as pd
import pytest

from _tiny_models import ConstantModel, tiny_corpus
from vidsal_core.errors import ConfigError
from vidsal_study.chapters.models.diagnosis import (
    accuracy_by, diagnosis_variants, in_view_bins, prediction_table, scaled_encoder, held_out_clips, variant_run,
)
from vidsal_study.runs import build_run, run_dataset


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return tiny_corpus(tmp_path_factory.mktemp("corpus"))


def test_prediction_table_and_accuracy_by_group(corpus):
    run = build_run("quick", "frame_lstm_binary")
    clips = held_out_clips(run, corpus, "acting")
    table = prediction_table(ConstantModel(0), clips, batch_size=3)
    assert len(table) == len(clips) == 8  # 2 test persons x 2 actions x 2 scenarios
    assert set(table["person"]) == {2, 3}
    # a model that always says "walking" is right exactly on the walking clips
    assert (table["correct"] == (table["true"] == "walking")).all()
    by_class = accuracy_by(table, "true")
    assert by_class.loc["walking", "accuracy"] == 1.0 and by_class.loc["running", "accuracy"] == 0.0
    assert by_class.loc["walking", "persons"] == 2
    shares = table["in_view"].to_numpy()
    assert ((shares >= 0) & (shares <= 1)).all()
    bins = in_view_bins(table)
    assert set(bins) <= {"under half", "half or more", "every frame"}
    # centred on the acting, a clip shows the person at least as much as the centre clip does
    centre = prediction_table(ConstantModel(0), held_out_clips(run, corpus, "center"))
    assert table["in_view"].mean() >= centre["in_view"].mean()


def test_in_view_bins_refuse_clips_without_truth():
    with pytest.raises(ConfigError, match="truth"):
        in_view_bins(pd.DataFrame({"in_view": [float("nan")]}))


def test_variants_change_one_thing_each(corpus):
    run = build_run("quick", "frame_lstm_binary")
    wide = variant_run(run, "w2", width=2)
    assert wide.name == "frame_lstm_binary-w2"
    assert wide.spec.model_config["encoder"]["channels"] == [2 * c for c in run.spec.model_config["encoder"]["channels"]]
    assert wide.data == run.data and wide.spec.training == run.spec.training
    small = variant_run(run, "s", size=(20, 24), training={"max_epochs": 1})
    assert small.data["size"] == [20, 24] and small.spec.model_config["input_size"] == [20, 24]
    assert small.spec.training["max_epochs"] == 1
    few = variant_run(run, "p1", train_persons=[11])
    assert [entry["person"] for entry in run_dataset(few, corpus, "train").videos.dataset.entries] == [11] * 4
    with pytest.raises(ConfigError, match="train_persons"):
        run_dataset(variant_run(run, "p9", train_persons=[2]), corpus, "train")  # a test person
    with pytest.raises(ConfigError, match="width"):
        scaled_encoder({"stem_channels": 4, "channels": [8]}, 0)
    variants = diagnosis_variants(run, {"run": run.name, "max_epochs": 1, "sizes": [[20, 24]], "widths": [2],
                                        "persons": [1]}, [11, 12])
    assert list(variants) == ["base", "size 20x24", "width 2", "1 persons"]
    assert all(variant.spec.training["max_epochs"] == 1 for _, _, variant in variants.values())
    assert variants["base"][1] == {"pixels": run.data["size"][0] * run.data["size"][1], "width": 1.0, "persons": 2,
                                   "motion": 1}
    with pytest.raises(ConfigError, match="unknown"):
        diagnosis_variants(run, {"run": run.name, "max_epochs": 1, "depth": 3}, [11])


def test_a_frame_differences_variant_changes_only_the_frame_input():
    run = build_run("quick", "frame_lstm_binary")
    assert "frame_differences" not in run.spec.model_config
    moving = variant_run(run, "d", frame_differences=True)
    assert moving.spec.model_config == {**run.spec.model_config, "frame_differences": True}
    assert moving.data == run.data and moving.spec.training == run.spec.training
    # and back: off is the seed's model, with the configuration its checkpoints were saved with
    assert variant_run(moving, "f", frame_differences=False).spec.model_config == run.spec.model_config
    variants = diagnosis_variants(moving, {"run": moving.name, "max_epochs": 1, "frame_differences": [False]}, [11])
    assert list(variants) == ["base", "frame differences off"]
    assert variants["base"][1]["motion"] == 2 and variants["frame differences off"][:2] == ("motion", 1)
    assert variants["frame differences off"][2].spec.model_config == {**run.spec.model_config}
    with pytest.raises(ConfigError, match="frame_differences: 'no'"):
        diagnosis_variants(run, {"run": run.name, "max_epochs": 1, "frame_differences": ["no"]}, [11])
    with pytest.raises(ConfigError, match="no frame encoder"):
        variant_run(build_run("quick", "c3d_6class"), "d", frame_differences=True)
