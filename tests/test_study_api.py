"""The study's two public calls for a chapter's "method on one clip" cells: vidsal_study.trained_model and test_clip."""

from __future__ import annotations

import pytest
import torch

import vidsal_study
from vidsal_core.data.corpus import build_corpus
from vidsal_core.errors import ConfigError
from vidsal_study.profiles import corpus_config
from vidsal_study.runs import build_run, load_trained, run_dataset

RUN = "frame_lstm_binary"


def test_test_clip_is_the_runs_first_test_clip_cut_as_it_is_evaluated():
    run = build_run("quick", RUN)
    expected = run_dataset(run, build_corpus(corpus_config("quick", run.corpus_section), progress=False), "test")
    for index in (0, 1, -1):
        item = vidsal_study.test_clip("quick", RUN, index)
        assert torch.equal(item.video, expected[index].video) and item.label == expected[index].label
        assert item.meta["key"] == expected[index].meta["key"] and item.truth is None
    assert item.video.shape[0] == run.data["clip_length"]


def test_test_clip_attaches_the_truth_when_asked():
    item = vidsal_study.test_clip("quick", RUN, truth=True)
    assert torch.equal(item.video, vidsal_study.test_clip("quick", RUN).video)
    assert item.truth.visibility.shape == (item.video.shape[0],)
    assert item.truth.parts.shape == (item.video.shape[0], *item.video.shape[2:])


def test_test_clip_refuses_a_bad_index_or_the_training_split():
    with pytest.raises(ConfigError, match="index=10000"):
        vidsal_study.test_clip("quick", RUN, 10000)
    with pytest.raises(ConfigError, match="index=True"):
        vidsal_study.test_clip("quick", RUN, True)
    with pytest.raises(ConfigError, match="split='train'"):
        vidsal_study.test_clip("quick", RUN, split="train")


def test_trained_model_is_the_runs_checkpoint_in_eval_mode():
    model = vidsal_study.trained_model("quick", RUN)  # trains the run first where its checkpoint is missing
    assert not model.training
    reference = load_trained("quick", RUN)
    clip = vidsal_study.test_clip("quick", RUN).video[None]
    with torch.no_grad():
        assert torch.equal(model(clip), reference(clip))
    untrained = vidsal_study.trained_model("quick", RUN, untrained=True)
    with torch.no_grad():
        assert not torch.equal(untrained(clip), reference(clip))
