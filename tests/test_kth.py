"""The KTH loader on a tiny fake KTH tree: names, listing, splits, ranges, labels, errors."""

from __future__ import annotations

import warnings

import pytest
import torch

from vidsal_core.data.dataset import KTH_ACTIONS, KTH_SPLITS
from vidsal_core.data.kth import (
    KTHDataset,
    VideoFolderDataset,
    find_kth_files,
    parse_kth_name,
    read_kth_sequences,
)
from vidsal_core.data.video import write_video
from vidsal_core.errors import ClipError, ConfigError, DatasetError, VideoFileError, VideoNotFoundError

HEIGHT, WIDTH, FRAMES = 12, 16, 30
PERSONS = (1, 2, 11, 19)
ACTIONS = ("walking", "running", "boxing")

SEQUENCES = """Subsequences of the KTH action database (a test fixture)

Training:	person11, 12, 13, 14, 15, 16, 17, 18
Validation:	person19, 20, 21, 23, 24, 25, 01, 04
Test:	person22, 02, 03, 05, 06, 07, 08, 09, 10

person01_boxing_d1		frames	1-12, 13-30
person01_running_d1   frames 1-10,11-20 , 21-30
person01_walking_d1\t\tframes\t1-10, 11-20, 21-30,

person02_boxing_d1		frames	1-10, 11-20, 21-30
person02_running_d1		frames	1-10, 11-20, 21-30
person02_walking_d1		frames	1-10, 11-20, 21-30
   person11_boxing_d1		frames	1-10, 11-20, 21-30
person11_running_d1		frames	1-10, 11-20, 21-30
person11_walking_d1		frames	1-10, 11-20, 21-30
person19_boxing_d1		frames	1-10, 11-20, 21-30
person19_running_d1		frames	1-10, 11-20, 21-30
person19_walking_d1		frames	5-8, 1-10
person13_handclapping_d3		*missing*
"""


def marker(person: int, action: str) -> int:
    """The 8-bit value of pixel (0, 0) in every frame of a fixture file."""
    return person * 6 + KTH_ACTIONS.index(action)


def fixture_video(person: int, action: str) -> torch.Tensor:
    """Gray frames of value 8 t / 255, pixel (0, 0) marking the file."""
    values = 8.0 * torch.arange(FRAMES, dtype=torch.float32) / 255
    video = values.view(FRAMES, 1, 1, 1).expand(FRAMES, 1, HEIGHT, WIDTH).clone()
    video[:, 0, 0, 0] = marker(person, action) / 255
    return video


def write_kth_file(root, person: int, action: str, scenario: str = "d1"):
    """Write one fixture file in KTH's one-folder-per-action layout."""
    path = root / action / f"person{person:02d}_{action}_{scenario}_uncomp.avi"
    return write_video(path, fixture_video(person, action))


@pytest.fixture(scope="module")
def kth_root(tmp_path_factory):
    """Twelve listed files, one unlisted file, and the listing."""
    root = tmp_path_factory.mktemp("kth")
    for person in PERSONS:
        for action in ACTIONS:
            write_kth_file(root, person, action)
    write_kth_file(root, 11, "walking", "d3")
    (root / "00sequences.txt").write_text(SEQUENCES)
    return root


def load(root, **options) -> KTHDataset:
    """A KTHDataset with the warning about unlisted files silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return KTHDataset(root, **options)


def frame_values(video: torch.Tensor) -> list[int]:
    """The 8-bit value of pixel (1, 1) of every frame."""
    return [round(float(value) * 255) for value in video[:, 0, 1, 1]]


def test_parse_kth_name():
    expected = {"stem": "person07_handwaving_d4", "person": 7, "action": "handwaving", "scenario": "d4"}
    assert parse_kth_name("person07_handwaving_d4_uncomp.avi") == expected
    assert parse_kth_name("/data/kth/handwaving/person07_handwaving_d4_uncomp.avi") == expected
    assert parse_kth_name("person07_handwaving_d4") == expected


@pytest.mark.parametrize(
    "name, part",
    [
        ("person26_walking_d1_uncomp.avi", "person26"),
        ("person00_walking_d1_uncomp.avi", "person00"),
        ("person1_walking_d1_uncomp.avi", "person1"),
        ("person01_jumping_d1_uncomp.avi", "jumping"),
        ("person01_walking_d5_uncomp.avi", "d5"),
        ("person01_walking_d1.avi", "d1.avi"),
        ("holiday.avi", "not a KTH name"),
        ("person01_walking_d1_extra_uncomp.avi", "not a KTH name"),
    ],
)
def test_parse_kth_name_rejects(name, part):
    with pytest.raises(DatasetError) as error:
        parse_kth_name(name)
    assert name in str(error.value)
    assert part in str(error.value)


def test_read_kth_sequences(kth_root):
    sequences = read_kth_sequences(kth_root / "00sequences.txt")
    assert len(sequences) == 13
    assert sequences["person01_boxing_d1"] == ((0, 12), (12, 30))
    assert sequences["person01_running_d1"] == ((0, 10), (10, 20), (20, 30))
    assert sequences["person01_walking_d1"] == ((0, 10), (10, 20), (20, 30))
    assert sequences["person19_walking_d1"] == ((4, 8), (0, 10))
    assert sequences["person13_handclapping_d3"] == ()
    assert "person11_walking_d3" not in sequences


@pytest.mark.parametrize(
    "line, problem",
    [
        ("person01_boxing_d1 frames 1-95, 96", "cannot read frame ranges"),
        ("person01_boxing_d1 frames 1-95; 96-185", "cannot read frame ranges"),
        ("person01_boxing_d1 frames", "cannot read frame ranges"),
        ("person01_boxing_d1 frames 0-95", "1-based"),
        ("person01_boxing_d1 frames 95-90", "first <= last"),
        ("person01_boxing_d1 1-95", "expected 'frames'"),
        ("person31_boxing_d1 frames 1-95", "person31"),
    ],
)
def test_read_kth_sequences_rejects_bad_lines(tmp_path, line, problem):
    path = tmp_path / "00sequences.txt"
    path.write_text(f"header\n\n{line}\n")
    with pytest.raises(DatasetError, match=problem) as error:
        read_kth_sequences(path)
    assert "00sequences.txt, line 3" in str(error.value)


def test_read_kth_sequences_rejects_duplicates(tmp_path):
    path = tmp_path / "00sequences.txt"
    path.write_text("person01_boxing_d1 frames 1-5\nperson01_boxing_d1 frames 1-5\n")
    with pytest.raises(DatasetError, match="line 2.*second time"):
        read_kth_sequences(path)


def test_find_kth_files_walks_subfolders(kth_root):
    files = find_kth_files(kth_root)
    assert len(files) == 13
    assert files["person02_running_d1"] == kth_root / "running" / "person02_running_d1_uncomp.avi"


def test_splits_follow_kth_and_are_disjoint(kth_root):
    persons = {}
    for split in KTH_SPLITS:
        dataset = load(kth_root, split=split)
        persons[split] = {entry["person"] for entry in dataset.entries}
        assert persons[split] <= set(KTH_SPLITS[split])
        assert {entry["split"] for entry in dataset.entries} == {split}
    assert persons == {"train": {11}, "validation": {1, 19}, "test": {2}}
    everyone = load(kth_root, split=None)
    assert {entry["person"] for entry in everyone.entries} == set(PERSONS)
    assert len(everyone) == sum(len(load(kth_root, split=split)) for split in KTH_SPLITS)


def test_splits_select_exactly_kth_persons(tmp_path):
    for person in range(1, 26):
        path = tmp_path / f"person{person:02d}_jogging_d2_uncomp.avi"
        write_video(path, torch.full((2, 1, 4, 4), person / 255))
    chosen = {}
    for split in KTH_SPLITS:
        dataset = KTHDataset(tmp_path, split=split, subsequences=False)
        chosen[split] = [entry["person"] for entry in dataset.entries]
        assert sorted(chosen[split]) == sorted(KTH_SPLITS[split])
        values = [round(float(dataset[i].video[0, 0, 0, 0]) * 255) for i in range(len(dataset))]
        assert values == chosen[split]
    assert sorted(sum(chosen.values(), [])) == list(range(1, 26))


def test_subsequence_frames_are_honoured(kth_root):
    dataset = load(kth_root, split="validation", actions=("boxing",))
    ids = [entry["id"] for entry in dataset.entries]
    expected = ["person01_boxing_d1#0", "person01_boxing_d1#1"] + [f"person19_boxing_d1#{k}" for k in range(3)]
    assert ids == expected
    first, second = dataset[0], dataset[1]
    assert first.video.shape == (12, 1, HEIGHT, WIDTH)
    assert first.video.dtype == torch.float32
    assert torch.equal(first.video, fixture_video(1, "boxing")[0:12])
    assert torch.equal(second.video, fixture_video(1, "boxing")[12:30])
    assert frame_values(first.video) == [8 * t for t in range(12)]
    assert first.meta["frames"] == (0, 12) and second.meta["frames"] == (12, 30)
    assert torch.all(second.video[:, 0, 0, 0] * 255 == marker(1, "boxing"))


def test_overlapping_subsequences_kept_as_listed(kth_root):
    dataset = load(kth_root, split="validation", actions=("walking",))
    items = {entry["id"]: index for index, entry in enumerate(dataset.entries)}
    assert frame_values(dataset[items["person19_walking_d1#0"]].video) == [32, 40, 48, 56]
    assert frame_values(dataset[items["person19_walking_d1#1"]].video) == [8 * t for t in range(10)]


def test_item_meta(kth_root):
    item = load(kth_root, split="test", actions=("running",))[2]
    assert item.label == 0
    assert item.meta["person"] == 2 and item.meta["action"] == "running" and item.meta["scenario"] == "d1"
    assert item.meta["path"].endswith("person02_running_d1_uncomp.avi")
    assert item.meta["subsequence"] == 2 and item.meta["frames"] == (20, 30)
    assert item.meta["clip_frames"] == tuple(range(20, 30))


def test_action_subset_is_relabelled_in_kth_order(kth_root):
    dataset = load(kth_root, split=None, actions=("running", "walking"))
    assert dataset.classes == ("walking", "running")
    assert {entry["action"] for entry in dataset.entries} == {"walking", "running"}
    for index, entry in enumerate(dataset.entries):
        assert dataset.labels()[index] == dataset.classes.index(entry["action"])
    item = dataset[len(dataset) - 1]
    assert item.meta["action"] == "running" and item.label == 1
    assert torch.all(item.video[:, 0, 0, 0] * 255 == marker(item.meta["person"], "running"))


def test_clip_length_step_offset_size_crop(kth_root):
    dataset = load(kth_root, split="train", actions=("boxing",), clip_length=4, step=2, offset=1)
    item = dataset[1]
    assert item.meta["frames"] == (10, 20)
    assert item.meta["clip_frames"] == (11, 13, 15, 17)
    assert frame_values(item.video) == [88, 104, 120, 136]
    resized = load(kth_root, split="train", actions=("boxing",), clip_length=4, size=(6, 8), crop=(4, 4))
    assert resized[0].video.shape == (4, 1, 4, 4)
    assert load(kth_root, split="train", actions=("boxing",), grayscale=False)[0].video.shape[1] == 3


def test_unlisted_file_is_served_whole_with_warning(kth_root):
    with pytest.warns(UserWarning, match="person11_walking_d3"):
        dataset = KTHDataset(kth_root, split="train", actions=("walking",))
    assert dataset.files_without_entry == ["person11_walking_d3"]
    whole = [index for index, entry in enumerate(dataset.entries) if entry["subsequence"] is None]
    assert len(whole) == 1
    item = dataset[whole[0]]
    assert item.meta["id"] == "person11_walking_d3" and item.meta["frames"] == (0, FRAMES)
    assert frame_values(item.video) == [8 * t for t in range(FRAMES)]


def test_one_item_per_file(kth_root):
    dataset = KTHDataset(kth_root, split=None, subsequences=False, clip_length=16, offset=14)
    assert len(dataset) == 13
    assert all(entry["subsequence"] is None for entry in dataset.entries)
    assert frame_values(dataset[0].video) == [8 * t for t in range(14, 30)]


def test_exclude(kth_root):
    exclude = ("person19_boxing_d1", "person01_boxing_d1#1")
    dataset = load(kth_root, split="validation", actions=("boxing",), exclude=exclude)
    assert [entry["id"] for entry in dataset.entries] == ["person01_boxing_d1#0"]
    with pytest.raises(ConfigError, match="person30"):
        load(kth_root, exclude=("person30_boxing_d1",))


def test_clip_longer_than_subsequence_names_item(kth_root):
    dataset = load(kth_root, split="test", actions=("walking",), clip_length=11)
    with pytest.raises(ClipError, match=r"person02_walking_d1#0.*needs 11 frames.*n_frames=10"):
        dataset[0]


def test_bad_arguments(kth_root):
    with pytest.raises(ConfigError, match="split='val'"):
        KTHDataset(kth_root, split="val")
    with pytest.raises(ConfigError, match="jumping"):
        KTHDataset(kth_root, actions=("walking", "jumping"))
    with pytest.raises(ConfigError, match="actions="):
        KTHDataset(kth_root, actions="walking")
    with pytest.raises(ClipError, match="step=-1"):
        KTHDataset(kth_root, clip_length=4, step=-1)
    with pytest.raises(ConfigError, match="clip_length"):
        KTHDataset(kth_root, offset=2)
    with pytest.raises(VideoNotFoundError, match="nowhere"):
        KTHDataset(kth_root / "nowhere")
    with pytest.raises(DatasetError, match="handwaving"):
        KTHDataset(kth_root, actions=("handwaving",))


def test_missing_listing(kth_root, tmp_path):
    with pytest.raises(DatasetError, match="absent.txt.*subsequences=False"):
        KTHDataset(kth_root, sequences_file=tmp_path / "absent.txt")


@pytest.mark.parametrize(
    "name",
    ["person26_walking_d1_uncomp.avi", "person00_walking_d1_uncomp.avi", "person01_walking_d9_uncomp.avi"],
)
def test_directory_with_a_bad_name(tmp_path, name):
    write_kth_file(tmp_path, 1, "walking")
    (tmp_path / name).write_bytes(b"not read")
    (tmp_path / "00sequences.txt").write_text("person01_walking_d1 frames 1-30\n")
    with pytest.raises(DatasetError, match=name):
        KTHDataset(tmp_path, split=None)


def test_range_beyond_the_file(tmp_path):
    write_kth_file(tmp_path, 1, "walking")
    (tmp_path / "00sequences.txt").write_text("person01_walking_d1 frames 1-20, 21-40, 31-35\n")
    dataset = KTHDataset(tmp_path, split=None)
    assert frame_values(dataset[0].video) == [8 * t for t in range(20)]
    advice = r"exclude=\('person01_walking_d1#1',\)"
    with pytest.raises(VideoFileError, match=r"person01_walking_d1_uncomp.avi.*subsequence 1.*" + advice):
        dataset[1]
    with pytest.raises(VideoFileError, match="subsequence 2.*start=30"):
        dataset[2]


def test_video_folder_dataset(tmp_path):
    for name in ("cats", "dogs"):
        write_video(tmp_path / name / f"{name}.avi", fixture_video(1, "walking"))
    (tmp_path / "notes.txt").write_text("not a video")
    dataset = VideoFolderDataset(tmp_path, grayscale=None, clip_length=3, step=5)
    assert dataset.classes == ("cats", "dogs")
    assert dataset.labels() == [0, 1]
    item = dataset[1]
    assert item.label == 1 and item.meta["class"] == "dogs"
    assert frame_values(item.video) == [0, 40, 80]
    with pytest.raises(DatasetError, match="'dogs'"):
        VideoFolderDataset(tmp_path, classes=("cats",))
    with pytest.raises(ClipError, match="dogs.avi.*n_frames=30"):
        VideoFolderDataset(tmp_path, clip_length=40)[1]
    with pytest.raises(DatasetError, match="no video files"):
        VideoFolderDataset(tmp_path / "cats", extensions=(".mp4",))
