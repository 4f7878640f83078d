"""Resumable sweeps: interrupted and resumed, nothing recomputed, nothing lost, same results."""

from __future__ import annotations

import concurrent.futures
import json

import numpy as np
import pytest

from vidsal_study.sweeps import (
    SweepItem,
    content_hash,
    pending_items,
    result_path,
    run_sweep,
    sweep_directory,
)
from vidsal_core.errors import ConfigError

CALLS: list[str] = []


def _work(video, setting):
    """A deterministic stand-in for a relevance computation; counts its calls."""
    CALLS.append(SweepItem(video, setting).key)
    generator = np.random.default_rng([video["index"], setting["step"]])
    return {"share": generator.dirichlet(np.ones(4)), "step": setting["step"], "third": 1 / 3}


class _Stop(Exception):
    """Raised by the work function to interrupt a sweep part-way."""


def _items():
    return [SweepItem({"index": index}, {"step": step}) for index in range(3) for step in (1, 2, 4)]


def test_an_interrupted_sweep_resumes_without_recomputing_and_matches_an_uninterrupted_one(tmp_path):
    items = _items()
    CALLS.clear()
    reference = run_sweep(_work, items, tmp_path / "reference", progress=False)
    assert len(CALLS) == len(items)

    CALLS.clear()
    finished = []

    def stop_after_four(item, result):
        finished.append(item.key)
        if len(finished) == 4:
            raise _Stop

    with pytest.raises(_Stop):
        run_sweep(_work, items, tmp_path / "resumed", progress=False, on_result=stop_after_four)
    assert len(CALLS) == 4 and len(pending_items(items, tmp_path / "resumed")) == len(items) - 4
    assert not list((tmp_path / "resumed").glob("*.tmp")), "no half-written file left behind"

    CALLS.clear()
    resumed = run_sweep(_work, items, tmp_path / "resumed", progress=False)
    assert sorted(CALLS) == sorted(item.key for item in items if item.key not in finished)
    assert set(CALLS).isdisjoint(finished), "a finished item was computed again"
    assert resumed == reference  # floats round-trip exactly through JSON

    CALLS.clear()
    assert run_sweep(_work, items, tmp_path / "resumed", progress=False) == reference
    assert CALLS == [], "a finished sweep computes nothing"


def test_an_executor_gives_the_same_results_and_repeats_are_computed_once(tmp_path):
    items = _items()
    reference = run_sweep(_work, items, tmp_path / "serial", progress=False)
    CALLS.clear()
    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        parallel = run_sweep(_work, items + items[:2], tmp_path / "pool", progress=False, executor=executor)
    assert len(CALLS) == len(items)
    assert parallel == reference + reference[:2]


def test_results_are_saved_with_their_item_and_directories_follow_the_spec(tmp_path):
    item = _items()[0]
    run_sweep(_work, [item], tmp_path, progress=False)
    stored = json.loads(result_path(tmp_path, item).read_text())
    assert stored["video"] == {"index": 0} and stored["setting"] == {"step": 1}
    first = sweep_directory("demo", {"checkpoint": "abc"}, root=tmp_path)
    assert first == sweep_directory("demo", {"checkpoint": "abc"}, root=tmp_path)
    assert first != sweep_directory("demo", {"checkpoint": "abd"}, root=tmp_path)
    assert json.loads((first / "spec.json").read_text()) == {"checkpoint": "abc"}
    assert content_hash({"a": 1, "b": (2, 3)}) == content_hash({"b": [2, 3], "a": 1})


def test_work_must_be_a_top_level_function(tmp_path):
    with pytest.raises(ConfigError, match="top-level"):
        run_sweep(lambda video, setting: {}, _items(), tmp_path, progress=False)
