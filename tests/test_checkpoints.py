"""Checkpoints: saved with spec and sha256, refused on mismatch, reused on match."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from _toy_videos import TINY_MODELS, MovingSquares
from vidsal_core.errors import CheckpointError, ConfigError
from vidsal_study import runs as runs_module
from vidsal_core.models.checkpoints import (
    RunSpec, code_fingerprint, differences, load_checkpoint, manifest_path, read_manifest, save_checkpoint,
    sha256_of_file,
)
from vidsal_core.models.registry import build_model
from vidsal_study.runs import Run, checkpoint_paths, models_section, run_settings, train_or_load
from vidsal_core.models.train import TaskDataset, TrainConfig
from vidsal_study.profiles import corpus_config

TRAINING = TrainConfig(max_epochs=2, patience=2, batch_size=4, seed=0)


def toy_run(corpus_hash: str = "toyhash", **config_changes) -> Run:
    model_config = build_model("frame_lstm", {**TINY_MODELS["frame_lstm"], **config_changes}).config
    spec = RunSpec(model="frame_lstm", model_config=model_config, classes=("walking", "running"),
                   data={"clip_length": 8}, training=TRAINING.to_dict(), corpus_hash=corpus_hash)
    return Run(name="toy", profile="tests", corpus_section="corpus", data={"clip_length": 8}, spec=spec)


def toy_data():
    return (TaskDataset(MovingSquares(4, 8, seed=0), ("walking", "running")),
            TaskDataset(MovingSquares(2, 8, seed=1), ("walking", "running")))


def test_saved_checkpoint_loads_to_the_same_model(tmp_path):
    run = toy_run()
    model = build_model("frame_lstm", run.spec.model_config, seed=2)
    entry = save_checkpoint(model, run.spec, tmp_path / "a" / "toy.pt", tmp_path, {"role": "trained"})
    assert entry["sha256"] == sha256_of_file(tmp_path / "a" / "toy.pt")
    assert read_manifest(tmp_path)["a/toy.pt"]["spec"]["corpus_hash"] == "toyhash"
    loaded, spec = load_checkpoint(tmp_path / "a" / "toy.pt", run.spec, tmp_path)
    assert spec == run.spec and not loaded.training
    videos = torch.rand(2, 8, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(loaded(videos), model(videos), rtol=0, atol=0)


def test_checkpoints_are_read_with_weights_only(tmp_path, monkeypatch):
    run = toy_run()
    save_checkpoint(build_model("frame_lstm", run.spec.model_config), run.spec, tmp_path / "toy.pt", tmp_path)
    calls = []
    original = torch.load
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: calls.append(kwargs) or original(*args, **kwargs))
    load_checkpoint(tmp_path / "toy.pt", run.spec, tmp_path)
    assert calls and all(call.get("weights_only") is True for call in calls)


def test_a_checkpoint_of_another_corpus_or_config_is_refused(tmp_path):
    run = toy_run()
    save_checkpoint(build_model("frame_lstm", run.spec.model_config), run.spec, tmp_path / "toy.pt", tmp_path)
    with pytest.raises(CheckpointError, match=r"corpus_hash: checkpoint has 'toyhash', asked 'otherhash'"):
        load_checkpoint(tmp_path / "toy.pt", toy_run("otherhash").spec, tmp_path)
    with pytest.raises(CheckpointError, match=r"model_config.hidden_size: checkpoint has 8, asked 12"):
        load_checkpoint(tmp_path / "toy.pt", toy_run(hidden_size=12).spec, tmp_path)
    with pytest.raises(CheckpointError, match=r"toy.pt does not match"):
        load_checkpoint(tmp_path / "toy.pt", dataclasses.replace(run.spec, training={**run.spec.training, "seed": 1}), tmp_path)


def test_an_altered_or_unknown_checkpoint_is_refused(tmp_path):
    run = toy_run()
    path = tmp_path / "toy.pt"
    save_checkpoint(build_model("frame_lstm", run.spec.model_config), run.spec, path, tmp_path)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["head.output.bias"] += 1.0
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path, run.spec, tmp_path)
    torch.save(payload, tmp_path / "stray.pt")
    with pytest.raises(CheckpointError, match="not in the manifest"):
        load_checkpoint(tmp_path / "stray.pt", run.spec, tmp_path)
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "missing.pt", run.spec, tmp_path)


def test_differences_lists_nested_changes():
    assert differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}) == ["a.c: checkpoint has 2, asked 3"]
    assert differences({"a": 1}, {"a": 1}) == []


def test_train_or_load_trains_once_then_reuses(tmp_path, monkeypatch):
    run = toy_run()
    train, validation = toy_data()
    first = train_or_load(run, train, validation, tmp_path, progress=False)
    assert not first.reused and first.entry["role"] == "trained"
    assert first.entry["training"]["epochs_run"] >= 1 and len(first.entry["training"]["curves"]) >= 1

    def no_training(*args, **kwargs):
        raise AssertionError("a matching checkpoint must be reused, not retrained")

    monkeypatch.setattr(runs_module, "train_model", no_training)
    second = train_or_load(run, None, None, tmp_path, progress=False)
    assert second.reused
    for key, tensor in first.model.state_dict().items():
        assert torch.equal(tensor, second.model.state_dict()[key])


def test_untrained_control_is_the_seeded_initialisation(tmp_path):
    run = toy_run()
    trained = train_or_load(run, *toy_data(), tmp_path, progress=False)
    control, _ = load_checkpoint(checkpoint_paths(run, tmp_path).untrained, run.spec, tmp_path)
    initial = build_model("frame_lstm", run.spec.model_config, seed=TRAINING.seed)
    assert all(torch.equal(tensor, initial.state_dict()[key]) for key, tensor in control.state_dict().items())
    assert read_manifest(tmp_path)["tests/toy-untrained.pt"]["role"] == "untrained"
    assert not torch.equal(control.head.output.weight, trained.model.head.output.weight)


def test_train_or_load_refuses_or_retrains_on_mismatch(tmp_path):
    train_or_load(toy_run(), *toy_data(), tmp_path, progress=False)
    changed = toy_run("newcorpus")
    with pytest.raises(CheckpointError, match="corpus_hash"):
        train_or_load(changed, *toy_data(), tmp_path, progress=False)
    retrained = train_or_load(changed, *toy_data(), tmp_path, on_mismatch="retrain", progress=False)
    assert not retrained.reused
    entry = json.loads(manifest_path(tmp_path).read_text())["checkpoints"]["tests/toy.pt"]
    assert entry["spec"]["corpus_hash"] == "newcorpus"


@pytest.mark.parametrize("profile", ["quick", "default", "full"])
def test_every_bundled_profile_has_buildable_runs_whose_clips_fit_the_videos(profile):
    for name in models_section(profile)["runs"]:
        settings = run_settings(profile, name)
        data, config = settings["data"], settings["model_config"]
        assert config["num_classes"] == len(settings["classes"]) and config["input_size"] == data["size"], name
        span = (data["clip_length"] - 1) * data["step"] + 1
        assert span <= settings["corpus_config"].n_frames, name


def test_models_section_refuses_unknown_keys(tmp_path):
    profile = tmp_path / "mine.yaml"
    profile.write_text("models:\n  training: {}\n  run: {}\n")
    with pytest.raises(ConfigError, match="unknown key"):
        models_section(profile)


@pytest.mark.slow
def test_models_command_trains_the_quick_profile_then_reuses_it(tmp_path, capsys):
    from vidsal_study.chapters.models.cli import main

    assert main(["train", "--profile", "quick", "--checkpoints", str(tmp_path), "--no-progress"]) == 0
    first = capsys.readouterr()
    assert "| frame_lstm_binary" in first.out and "95% CI (Wilson)" in first.out and "trained" in first.out
    entries = read_manifest(tmp_path)
    assert {"quick/c3d_6class.pt", "quick/c3d_6class-untrained.pt"} <= set(entries)
    assert 0.0 <= entries["quick/c3d_6class.pt"]["test"]["accuracy"] <= 1.0
    assert main(["train", "--profile", "quick", "--checkpoints", str(tmp_path), "--no-progress"]) == 0
    second = capsys.readouterr()
    assert second.out.count("| reused") == len(runs_module.profile_runs("quick"))  # the replicates too


def test_a_checkpoint_of_other_training_code_is_refused(tmp_path):
    run = toy_run()
    save_checkpoint(build_model("frame_lstm", run.spec.model_config), run.spec, tmp_path / "toy.pt", tmp_path)
    assert run.spec.code == code_fingerprint() and len(run.spec.code) == 16
    edited = dataclasses.replace(run.spec, code="0" * 16)
    with pytest.raises(CheckpointError, match="code: checkpoint has"):
        load_checkpoint(tmp_path / "toy.pt", edited, tmp_path)
    assert read_manifest(tmp_path)["toy.pt"]["threads"] == torch.get_num_threads()


def _save_many(directory: str, prefix: str, count: int, start_at: float) -> None:
    import time

    run = toy_run()
    model = build_model("frame_lstm", run.spec.model_config)
    time.sleep(max(0.0, start_at - time.time()))  # every process starts saving at the same moment
    for index in range(count):
        save_checkpoint(model, run.spec, f"{directory}/{prefix}-{index}.pt", directory)


def test_processes_saving_side_by_side_keep_every_manifest_entry(tmp_path):
    # the manifest is read, changed and written by each save: without its lock, entries of one process get lost
    import concurrent.futures
    import multiprocessing
    import time

    start_at = time.time() + 8.0  # after the spawned processes have imported torch
    with concurrent.futures.ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_save_many, [str(tmp_path)] * 3, ["a", "b", "c"], [30] * 3, [start_at] * 3))
    assert set(read_manifest(tmp_path)) == {f"{prefix}-{index}.pt" for prefix in "abc" for index in range(30)}


def test_train_runs_refuses_a_run_without_its_corpus(tmp_path):
    with pytest.raises(ConfigError, match="no corpus given for section"):
        runs_module.train_runs([toy_run()], {}, directory=tmp_path)
    with pytest.raises(ConfigError, match="workers=0"):
        runs_module.train_runs([toy_run()], {"corpus": None}, workers=0, directory=tmp_path)


@pytest.mark.slow
def test_train_runs_side_by_side_gives_the_checkpoints_of_one_at_a_time(tmp_path):
    from vidsal_core.data.corpus import CorpusConfig, build_corpus

    runs = runs_module.profile_runs("quick", ["frame_lstm_binary", "ica_lstm_binary"])
    corpora = {run.corpus_section: build_corpus(corpus_config("quick", run.corpus_section), progress=False)
               for run in runs}
    serial = runs_module.train_runs(runs, corpora, workers=1, directory=tmp_path / "serial")
    parallel = runs_module.train_runs(runs, corpora, workers=2, directory=tmp_path / "parallel")
    entries = read_manifest(tmp_path / "parallel")
    for run in runs:
        assert not serial[run.name].reused and not parallel[run.name].reused
        assert entries[f"quick/{run.name}.pt"]["threads"] == runs_module.TRAINING_THREADS == 1
        assert f"quick/{run.name}-untrained.pt" in entries
        for key, tensor in serial[run.name].model.state_dict().items():
            assert torch.equal(tensor, parallel[run.name].model.state_dict()[key]), (run.name, key)
    again = runs_module.train_runs(runs, corpora, workers=2, directory=tmp_path / "parallel")
    assert all(result.reused for result in again.values())


def test_training_runs_and_is_recorded_at_the_fixed_thread_count(tmp_path, monkeypatch):
    seen = []
    original = runs_module.train_model

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(runs_module, "train_model", recording)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        trained = train_or_load(toy_run(), *toy_data(), tmp_path, progress=False)
        assert torch.get_num_threads() == 2, "the caller's thread count is restored"
    finally:
        torch.set_num_threads(previous)
    assert seen == [runs_module.TRAINING_THREADS] == [1]
    assert trained.entry["threads"] == 1 and read_manifest(tmp_path)["tests/toy.pt"]["threads"] == 1


#: A run's data keys before ``in_view`` existed: the specs of runs with the defaults must keep exactly these.
OLD_DATA_KEYS = {"corpus", "actions", "clip_length", "step", "size", "train_clips_per_video", "evaluation_offset",
                 "title_frames", "clip_region", "train_persons"}


@pytest.mark.parametrize("profile", ["quick", "default", "full"])
def test_runs_with_the_default_in_view_keep_their_specs_and_the_controls_record_theirs(profile):
    from vidsal_study.runs import build_run, run_clip_options, run_region_options

    for name in models_section(profile)["runs"]:
        run = build_run(profile, name)
        if name.endswith("_control"):
            assert run.spec.data["clip_region"] == "inside" and run.spec.data["in_view"] == 1.0, name
            assert run_clip_options(run)["inside"] and run_region_options(run) == {"in_view": 1.0, "inside": True}
            assert run.spec.data["clip_length"] == 16 and run.spec.data["evaluation_offset"] == "acting"
        else:  # no new key in the spec: the checkpoints trained before still match
            assert set(run.spec.data) == OLD_DATA_KEYS, name
            assert run.data["in_view"] == 0.5 and run_region_options(run) == {}, name
    if profile == "default":
        assert dict(build_run(profile, "frame_lstm_binary").spec.data) == {
            "corpus": "corpus", "actions": ["walking", "running"], "clip_length": 30, "step": 1, "size": [60, 80],
            "train_clips_per_video": 4, "evaluation_offset": "acting", "title_frames": None, "clip_region": "acting",
            "train_persons": None}


@pytest.mark.parametrize("data, message", [
    ({"in_view": 0}, "in_view=0"), ({"clip_region": "inside", "evaluation_offset": "center"}, "evaluation_offset"),
    ({"clip_region": "outside"}, "clip_region='outside'"),
])
def test_bad_control_data_is_named(data, message):
    from vidsal_study.runs import data_settings

    with pytest.raises(ConfigError, match=message):
        data_settings(data, "profile test models.runs.control")


def test_a_control_runs_clips_lie_inside_runs_in_view_and_the_others_are_left_out(tmp_path):
    import numpy as np

    from _tiny_models import tiny_corpus
    from vidsal_core.data.clips import clip_span
    from vidsal_study.runs import build_run, run_clip_options, run_dataset

    corpus = tiny_corpus(tmp_path)
    run = build_run("quick", "frame_lstm_binary_control")
    in_view, span = run.data["in_view"], clip_span(run.data["clip_length"], run.data["step"])
    for split in ("train", "test"):
        every = corpus.select(split=split, actions=["walking", "running"])
        kept = corpus.inside_entries(every, span, in_view)
        assert 0 < len(kept) < len(every), "some videos hold no clip wholly in view (the runners)"
        clips = run_dataset(run, corpus, split)
        assert len(clips) == len(kept) * (run.data["train_clips_per_video"] if split == "train" else 1)
        for epoch in range(3 if split == "train" else 1):
            if split == "train":
                clips.set_epoch(epoch)
            for index in range(len(clips)):
                item = clips[index]
                start = item.meta["clip_offset"] if split == "train" else item.meta["frames"][0]
                visibility = corpus.visibility(item.meta)[start:start + span]
                assert len(visibility) == span and (visibility >= in_view).all(), (split, item.meta["key"], start)
    test = corpus.dataset(split="test", actions=["walking", "running"], **run_clip_options(run))
    assert [e["key"] for e in test.entries] == [e["key"] for e in corpus.inside_entries(
        corpus.select(split="test", actions=["walking", "running"]), span, in_view)]
    assert np.all(np.diff(test[0].meta["frames"]) == 1)
