"""SynthKTH corpora: caching by hash, resuming, splits, clips, the command line."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from vidsal_study.corpus_cli import contact_sheet, main
from vidsal_core.data.corpus import Corpus, CorpusConfig, build_corpus
from vidsal_core.data.dataset import KTH_SPLITS
from vidsal_core.errors import ConfigError, DatasetError
from vidsal_study.profiles import load_profile
from vidsal_study.profiles import corpus_config

TINY = CorpusConfig(persons=(11, 19, 2), actions=("walking", "running", "boxing"),
                    scenarios=("d1", "d2"), n_frames=12)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(TINY, root=tmp_path_factory.mktemp("corpora"), progress=False)


def test_build_renders_every_video_once(corpus):
    assert len(corpus) == 3 * 3 * 2
    assert corpus.build_report.rendered == len(corpus)
    files = sorted((corpus.directory / "videos").glob("*"))
    assert len(files) == len(corpus)
    assert all(path.suffix == ".npz" and ".tmp" not in path.name for path in files)
    again = build_corpus(TINY, root=corpus.directory.parent, progress=False)
    assert again.directory == corpus.directory
    assert again.build_report.rendered == 0


def test_interrupted_build_resumes_with_only_the_missing_video(corpus):
    victim = corpus.directory / "videos" / f"{corpus.videos[4]['key']}.npz"
    before = victim.read_bytes()
    untouched = corpus.directory / "videos" / f"{corpus.videos[0]['key']}.npz"
    untouched_mtime = untouched.stat().st_mtime_ns
    victim.unlink()
    resumed = build_corpus(TINY, root=corpus.directory.parent, progress=False)
    assert resumed.build_report.rendered == 1
    assert victim.read_bytes() == before  # deterministic: byte-identical again
    assert untouched.stat().st_mtime_ns == untouched_mtime


def test_rendering_in_worker_processes_gives_the_same_files(corpus, tmp_path):
    serial = build_corpus(TINY, root=tmp_path / "one", workers=1, progress=False)
    parallel = build_corpus(TINY, root=tmp_path / "two", workers=2, progress=False)
    assert (serial.build_report.workers, parallel.build_report.workers) == (1, 2)
    assert parallel.build_report.rendered == serial.build_report.rendered == len(corpus)
    for entry in corpus.videos:
        name = f"{entry['key']}.npz"
        assert (parallel.directory / "videos" / name).read_bytes() == (serial.directory / "videos" / name).read_bytes()
    assert build_corpus(TINY, root=tmp_path / "two", progress=False).build_report.workers == 1  # nothing missing
    with pytest.raises(ConfigError, match="workers=0"):
        build_corpus(TINY, root=tmp_path, workers=0, progress=False)


def test_hash_changes_with_every_field():
    hashes = {TINY.config_hash()}
    for change in ({"n_frames": 13}, {"persons": (11, 19)}, {"seeds": (1,)},
                   {"title_frames": (0, 4)}, {"cycle_scenarios": True}, {"actions_per_person": 2}):
        hashes.add(CorpusConfig(**{**TINY.__dict__, **change}).config_hash())
    assert len(hashes) == 7


def test_actions_per_person_rotates_the_actions_and_leaves_other_corpora_as_they_were():
    # persons in sorted order 2, 11, 19 get actions 0-1, 2-0 and 1-2 of (walking, running, boxing)
    rotated = CorpusConfig(**{**TINY.__dict__, "actions_per_person": 2})
    chosen = {(spec.person, spec.action) for spec in rotated.specs()}
    assert chosen == {(2, "walking"), (2, "running"), (11, "boxing"), (11, "walking"),
                      (19, "running"), (19, "boxing")}
    assert len(rotated.specs()) == 6 * 2  # 2 scenarios each
    # a kept video is the video the full corpus renders (same spec: same key, scenario and seed)
    assert {spec for spec in rotated.specs()} <= set(TINY.specs())
    assert "actions_per_person" not in TINY.to_dict() and rotated.to_dict()["actions_per_person"] == 2
    # the hash of a corpus without it is the hash of the fields it had before the option existed
    import hashlib
    from dataclasses import asdict

    from vidsal_core.data.corpus import renderer_fingerprint
    before = {name: value for name, value in asdict(TINY).items() if name != "actions_per_person"}
    payload = json.dumps({"config": before, "renderer": renderer_fingerprint()}, sort_keys=True)
    assert TINY.config_hash() == hashlib.sha256(payload.encode()).hexdigest()[:16]


def test_splits_are_kths_and_disjoint_by_person(corpus):
    persons = {}
    for split in ("train", "validation", "test"):
        dataset = corpus.dataset(split=split)
        persons[split] = {dataset[i].meta["person"] for i in range(len(dataset))}
        assert persons[split] <= set(KTH_SPLITS[split])
    assert persons == {"train": {11}, "validation": {19}, "test": {2}}


def test_items_are_float_videos_with_labels_of_the_chosen_actions(corpus):
    dataset = corpus.dataset(split="test", actions=("walking", "running"))
    assert dataset.classes == ("walking", "running")
    assert sorted(dataset.labels()) == [0, 0, 1, 1]
    item = dataset[0]
    assert item.video.shape == (12, 1, 120, 160) and item.video.dtype == torch.float32
    assert 0.0 <= item.video.min() and item.video.max() <= 1.0
    raw = corpus.load(item.meta["key"])["frames"]
    np.testing.assert_allclose(item.video[:, 0].numpy(), raw / 255.0, atol=1e-7)
    assert [dataset[i].label for i in range(len(dataset))] == dataset.labels()


def test_clips_and_truth_are_cut_alike(corpus):
    dataset = corpus.dataset(split="train", actions=("walking",), clip_length=4, step=3, offset=1,
                             size=(60, 80), with_truth=True)
    item = dataset[0]
    assert item.meta["frames"] == [1, 4, 7, 10]
    assert item.video.shape == (4, 1, 60, 80)
    assert item.truth.parts.shape == (4, 60, 80) and item.truth.parts.dtype == torch.uint8
    raw = corpus.load(item.meta["key"])
    np.testing.assert_array_equal(item.truth.visibility.numpy(), raw["visibility"][[1, 4, 7, 10]])
    full = corpus.dataset(split="train", actions=("walking",), clip_length=4, step=3, offset=1, with_truth=True)[0]
    np.testing.assert_array_equal(full.truth.parts.numpy(), raw["parts"][[1, 4, 7, 10]])
    centred = corpus.dataset(split="train", actions=("walking",), clip_length=4, step=2, offset="center")[0]
    assert centred.meta["frames"] == [2, 4, 6, 8]


def test_a_clip_longer_than_the_video_is_refused(corpus):
    from vidsal_core.errors import ClipError

    with pytest.raises(ClipError):
        corpus.dataset(split="train", clip_length=10, step=2)[0]


@pytest.mark.parametrize("values, word", [
    ({"persons": [26]}, "persons"),
    ({"persons": [0, 3]}, "persons"),
    ({"actions": ["swimming"]}, "actions"),
    ({"scenarios": ["d5"]}, "scenarios"),
    ({"n_frames": 0}, "n_frames"),
    ({"seeds": []}, "seeds"),
    ({"frames": 30}, "unknown keys"),
    ({"actions_per_person": 0}, "actions_per_person"),
    ({"actions": ["walking", "running"], "actions_per_person": 3}, "actions_per_person"),
    ({"actions_per_person": True}, "actions_per_person"),
])
def test_bad_configs_name_the_field(values, word):
    with pytest.raises(ConfigError, match=word):
        CorpusConfig.from_dict(values)


def test_bad_selection_and_missing_corpus(corpus, tmp_path):
    with pytest.raises(ConfigError, match="split"):
        corpus.dataset(split="training")
    with pytest.raises(ConfigError, match="swimming"):
        corpus.dataset(actions=("swimming",))
    with pytest.raises(DatasetError, match="corpus.json"):
        Corpus(tmp_path)


def test_profiles_hold_valid_corpora():
    for name in ("quick", "default", "full"):
        profile = load_profile(name)
        for section in ("corpus", "long_corpus"):
            config = CorpusConfig.from_dict(profile[section])
            assert len(config.specs()) > 0
    default = corpus_config("default")
    assert len(default.specs()) == 25 * 6 * 4  # KTH's design
    long_default = corpus_config("default", "long_corpus")
    assert long_default.n_frames >= 300 and len(long_default.specs()) == 25 * 6
    with pytest.raises(ConfigError, match="unknown profile"):
        load_profile("medium")


def test_contact_sheet_shows_one_row_per_action_and_scenario(corpus, tmp_path):
    sheet = contact_sheet(corpus, n_frames=3)
    rows = 3 * 2
    assert sheet.shape[0] == rows * (120 + 3)
    assert sheet.shape[1] == 150 + 3 * 160 + 4 + 3 * 160
    output = tmp_path / "sheet.png"
    assert main(["contact-sheet", "--profile", _profile_file(tmp_path), "--root", str(corpus.directory.parent),
                 "--output", str(output), "--frames", "3", "--no-progress"]) == 0
    assert cv2.imread(str(output)).shape == sheet.shape


def _profile_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps({"corpus": {"persons": list(TINY.persons), "actions": list(TINY.actions),
                                           "scenarios": list(TINY.scenarios), "n_frames": TINY.n_frames}}))
    return str(path)


def test_build_command_reports_size_and_time(corpus, tmp_path, capsys):
    assert main(["build", "--profile", _profile_file(tmp_path), "--root", str(corpus.directory.parent),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "videos   18 (0 rendered now, 18 cached)" in out and "MiB" in out


def test_card_is_computed_from_the_corpus(corpus, tmp_path, capsys):
    assert main(["card", "--profile", _profile_file(tmp_path), "--root", str(corpus.directory.parent),
                 "--no-progress"]) == 0
    card = (corpus.directory / "CARD.md").read_text()
    assert f"{len(corpus)} videos of 12 frames" in card
    assert "| visibility (mean) |" in card and "Limits compared with real KTH" in card


def test_command_line_errors_are_reported_not_raised(capsys):
    assert main(["build", "--profile", "medium", "--no-progress"]) == 2
    assert "unknown profile" in capsys.readouterr().err
