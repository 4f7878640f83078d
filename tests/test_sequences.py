"""SynthKTH's 00sequences.txt-style listings: known by hand, and read back by KTH's own parser."""

from __future__ import annotations

import pytest

from vidsal_core.data.corpus import CorpusConfig, build_corpus
from vidsal_core.data.kth import read_kth_sequences
from vidsal_core.data.sequences import acting_ranges, kth_stem, listing_line, write_sequence_listings
from vidsal_core.errors import ConfigError


def test_acting_ranges_by_hand():
    assert acting_ranges([0.0, 0.6, 1.0, 0.2, 0.9, 0.9]) == ((1, 3), (4, 6))
    assert acting_ranges([1.0] * 6, title_frames=2) == ((2, 6),)
    assert acting_ranges([0.0, 1.0, 0.0, 1.0, 1.0], min_frames=2) == ((3, 5),)
    assert acting_ranges([0.0, 0.1]) == ()
    with pytest.raises(ConfigError, match="title_frames"):
        acting_ranges([1.0], title_frames=-1)
    with pytest.raises(ConfigError, match="visibility"):
        acting_ranges([[1.0]])


def test_listing_lines_are_kth_lines():
    assert listing_line("person02_walking_d1", [(0, 95), (95, 185)]) == "person02_walking_d1\t\tframes\t1-95, 96-185"
    assert listing_line("person13_handclapping_d3", []) == "person13_handclapping_d3\t\t*missing*"


def test_a_corpus_listing_round_trips_through_the_kth_parser(tmp_path):
    config = CorpusConfig(persons=(2, 3), actions=("walking", "boxing"), scenarios=("d1", "d2"), n_frames=24,
                          title_frames=(0, 6), height=32, width=40)
    corpus = build_corpus(config, root=tmp_path, progress=False)
    assert (tmp_path / corpus.config_hash / "00sequences.txt").is_file(), "build_corpus writes the listings itself"
    paths = write_sequence_listings(corpus)
    assert sorted(path.name for path in paths) == ["00sequences.txt", "00sequences_s0_t6.txt"]
    for path, title in ((tmp_path / corpus.config_hash / "00sequences.txt", 0),
                        (tmp_path / corpus.config_hash / "00sequences_s0_t6.txt", 6)):
        listed = read_kth_sequences(path)
        entries = [e for e in corpus.videos if e["title_frames"] == title]
        assert len(listed) == len(entries) == 8
        for entry in entries:
            expected = acting_ranges(corpus.load(entry["key"])["visibility"], title)
            assert listed[kth_stem(entry["person"], entry["action"], entry["scenario"])] == expected
            assert all(start >= title for start, _ in expected), "no range starts on the title card"
    text = (tmp_path / corpus.config_hash / "00sequences.txt").read_text()
    assert text.startswith(f"SynthKTH corpus {corpus.config_hash}") and "\t\tframes\t" in text


def test_acting_offsets_by_hand():
    from vidsal_core.data.sequences import acting_offset, acting_offsets

    # a range long enough: every clip wholly inside it, and only those
    assert acting_offsets([(2, 9)], n_frames=12, span=4).tolist() == [2, 3, 4, 5]
    # two ranges: the clips inside either
    assert acting_offsets([(0, 4), (6, 12)], n_frames=12, span=4).tolist() == [0, 6, 7, 8]
    # shorter than the clip (a runner crossing the frame): the clips that hold all of it
    assert acting_offsets([(4, 6)], n_frames=10, span=4).tolist() == [2, 3, 4]
    # never in view: anywhere
    assert acting_offsets([], n_frames=6, span=4).tolist() == [0, 1, 2]
    assert acting_offset([(0, 3), (10, 30)], n_frames=48, span=10) == 15
    assert acting_offset([(40, 48)], n_frames=48, span=30) == 18
    assert acting_offset([], n_frames=48, span=30) == 9
    with pytest.raises(ConfigError, match="acting range"):
        acting_offsets([(5, 3)], n_frames=10, span=2)
    with pytest.raises(ConfigError, match="does not fit"):
        acting_offset([(0, 4)], n_frames=4, span=5)


def test_training_and_evaluation_clips_lie_inside_the_acting_ranges(tmp_path):
    import numpy as np

    from vidsal_core.data.clips import clip_span
    from vidsal_core.models.train import RandomClips

    config = CorpusConfig(persons=(2, 11), actions=("walking", "running"), scenarios=("d1",), n_frames=40,
                          height=32, width=40)
    corpus = build_corpus(config, root=tmp_path, progress=False)
    videos = corpus.dataset(split=None)
    length, span = 12, clip_span(12, 1)
    acting = RandomClips(videos, length, clips_per_video=3, seed=1, region="acting")
    anywhere = RandomClips(videos, length, clips_per_video=3, seed=1, region="anywhere")
    moved = 0
    for epoch in range(3):
        acting.set_epoch(epoch), anywhere.set_epoch(epoch)
        for index in range(len(acting)):
            item = acting[index]
            ranges = [tuple(r) for r in item.meta["acting_ranges"]]
            start = item.meta["clip_offset"]
            fits = [r for r in ranges if r[1] - r[0] >= span]
            if fits:
                assert any(a <= start and start + span <= b for a, b in fits), (item.meta["key"], start, ranges)
            else:  # the clip holds all of the longest range
                a, b = max(ranges, key=lambda r: r[1] - r[0])
                assert start <= a and b <= start + span
            moved += start != anywhere[index].meta["clip_offset"]
    assert moved > 0, "acting and anywhere draw different clips"
    # evaluation: centred on the longest range
    clips = corpus.dataset(split=None, clip_length=length, offset="acting")
    for index in range(len(clips)):
        item = clips[index]
        a, b = max((tuple(r) for r in item.meta["acting_ranges"]), key=lambda r: r[1] - r[0])
        first = item.meta["frames"][0]
        centre_gap = abs((first + span / 2) - (a + b) / 2)
        assert centre_gap <= 1 or first in (0, config.n_frames - span)
    with pytest.raises(ConfigError, match="region"):
        RandomClips(videos, length, region="inside")
    assert np.all(np.diff(clips[0].meta["frames"]) == 1)


def _hand_made_corpus(tmp_path, visibility):
    """A two-video corpus (walking, running of person 2) whose visibility is replaced by ``visibility[action]``."""
    import numpy as np

    from vidsal_core.data import corpus as corpus_module

    config = CorpusConfig(persons=(2,), actions=("walking", "running"), scenarios=("d1",), n_frames=12,
                          height=32, width=40)
    corpus = build_corpus(config, root=tmp_path, progress=False)
    for entry in corpus.videos:
        path = corpus.directory / "videos" / f"{entry['key']}.npz"
        with np.load(path) as archive:
            arrays = {name: archive[name] for name in archive.files}
        arrays["visibility"] = np.asarray(visibility[entry["action"]], dtype=arrays["visibility"].dtype)
        np.savez_compressed(path, **arrays)
    corpus_module._load_npz.cache_clear(), corpus_module._load_visibility.cache_clear()
    return corpus


def test_inside_keeps_the_videos_with_a_run_in_view_that_holds_the_clip_worked_by_hand(tmp_path):
    # walking: in view throughout; running: whole on frames 2-6 and 8-10, 0.995 on frame 7
    corpus = _hand_made_corpus(tmp_path, {"walking": [1.0] * 12,
                                          "running": [0, 0, 1, 1, 1, 1, 1, 0.995, 1, 1, 1, 0]})
    running = [e for e in corpus.videos if e["action"] == "running"]
    assert corpus.inside_entries(running, span=5, in_view=1.0) == running  # (2, 7) holds 5 frames
    assert corpus.inside_entries(running, span=6, in_view=1.0) == []       # its runs: 5 and 3 frames
    assert corpus.inside_entries(running, span=9, in_view=0.99) == running  # (2, 11): 9 frames
    whole = corpus.dataset(split=None, clip_length=6, offset="acting", in_view=1.0, inside=True, with_truth=True)
    assert [e["action"] for e in whole.entries] == ["walking"]
    near = corpus.dataset(split=None, actions=["running"], clip_length=6, offset="acting", in_view=0.99, inside=True)
    item = near[0]
    assert item.meta["acting_ranges"] == [[2, 11]] and item.meta["in_view"] == 0.99
    assert item.meta["frames"] == [3, 4, 5, 6, 7, 8]  # centred on (2, 11): offset 2 + (9 - 6) // 2
    loose = corpus.dataset(split=None, actions=["running"], clip_length=6, offset="acting", in_view=1.0)
    assert len(loose) == 1 and loose[0].meta["acting_ranges"] == [[2, 7], [8, 11]], "without inside none is left out"
    assert (whole[0].truth.visibility >= 1.0).all()


def test_in_view_sets_the_acting_ranges_and_the_default_cuts_as_before(tmp_path):
    config = CorpusConfig(persons=(2, 11), actions=("walking", "running"), scenarios=("d1",), n_frames=40,
                          height=32, width=40)
    corpus = build_corpus(config, root=tmp_path, progress=False)
    default = corpus.dataset(split=None, clip_length=12, offset="acting")
    explicit = corpus.dataset(split=None, clip_length=12, offset="acting", in_view=0.5, inside=False)
    strict = corpus.dataset(split=None, clip_length=12, offset="acting", in_view=0.99)
    for index in range(len(default)):
        visibility = corpus.load(default.entries[index]["key"])["visibility"]
        assert default[index].meta == explicit[index].meta
        assert default[index].meta["acting_ranges"] == [list(r) for r in acting_ranges(visibility)]
        assert strict[index].meta["acting_ranges"] == [list(r) for r in acting_ranges(visibility, in_view=0.99)]
        assert (corpus.visibility(default.entries[index]) == visibility).all(), "the visibility member alone"


@pytest.mark.parametrize("options, message", [
    ({"in_view": 0.0}, "in_view=0.0"), ({"in_view": 1.5}, "in_view=1.5"), ({"in_view": "high"}, "in_view"),
    ({"in_view": True}, "in_view"), ({"inside": "yes", "clip_length": 4}, "inside='yes'"),
    ({"inside": True}, "needs a clip_length"),
])
def test_bad_in_view_and_inside_are_named(tmp_path, options, message):
    config = CorpusConfig(persons=(2,), actions=("walking",), scenarios=("d1",), n_frames=8, height=32, width=40)
    corpus = build_corpus(config, root=tmp_path, progress=False)
    with pytest.raises(ConfigError, match=message):
        corpus.dataset(**options)
    with pytest.raises(ConfigError, match="span"):
        corpus.inside_entries(corpus.videos, span=0)
    with pytest.raises(ConfigError, match="in_view"):
        acting_ranges([1.0], in_view=0)
