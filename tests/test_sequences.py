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
