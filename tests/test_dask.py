"""Sweeps on a Dask cluster: 2 worker processes on 127.0.0.1, the same results as serial, nothing lost.

Every test opens its cluster with :func:`dask_executor` in a ``with`` block,
so the workers are gone when the test ends, whatever happens in it.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import socket
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from vidsal_study.sweeps import (
    SweepItem,
    dask_executor,
    default_executor,
    parse_dask,
    pending_items,
    run_sweep,
    use_dask,
)
from vidsal_core.errors import ConfigError
from vidsal_study.profiles import corpus_config

pytestmark = pytest.mark.timeout(180)

#: Each call of :func:`_work` leaves a file here, in whichever process it ran (workers inherit the environment).
CALL_LOG = "VIDSAL_TEST_CALL_LOG"


def _work(video, setting):
    """A deterministic stand-in for one clip's explanation: seeded floats, a short sleep, its call logged."""
    directory = os.environ.get(CALL_LOG)
    if directory:
        Path(directory, f"{SweepItem(video, setting).key}.{os.getpid()}.{uuid.uuid4().hex}").touch()
    time.sleep(setting.get("seconds", 0.0))
    generator = np.random.default_rng([video["index"], setting["step"]])
    relevance = generator.standard_normal(16)
    return {"relevance": relevance, "share": np.abs(relevance) / np.abs(relevance).sum(), "third": 1 / 3}


def _items(seconds=0.0, videos=4, steps=(1, 2, 4)):
    return [SweepItem({"index": index}, {"step": step, "seconds": seconds}) for index in range(videos) for step in steps]


def _calls(directory: Path) -> list[str]:
    """Keys of the items computed since the log was last cleared, one entry per call."""
    return sorted(path.name.split(".")[0] for path in directory.iterdir())


@pytest.fixture
def call_log(tmp_path, monkeypatch):
    directory = tmp_path / "calls"
    directory.mkdir()
    monkeypatch.setenv(CALL_LOG, str(directory))
    return directory


def test_specs_are_checked():
    assert parse_dask("local:2") == ("local", 2)
    assert parse_dask("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    for bad in ("local:0", "local:two", "local", "tcp://nohost", "http://host:8786", "4"):
        with pytest.raises(ConfigError, match="dask="):
            parse_dask(bad)


def test_serial_process_pool_and_dask_give_identical_results(tmp_path, call_log):
    items = _items()
    serial = run_sweep(_work, items, tmp_path / "serial", progress=False)
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = run_sweep(_work, items, tmp_path / "pool", progress=False, executor=pool)
    for path in call_log.iterdir():
        path.unlink()
    with dask_executor("local:2") as executor:
        workers = executor._client.run(os.getpid)
        assert len(workers) == 2 and all(address.startswith("tcp://127.0.0.1:") for address in workers)
        assert os.getpid() not in workers.values(), "workers are processes of their own"
        on_dask = run_sweep(_work, items, tmp_path / "dask", progress=False, executor=executor)
    assert pooled == serial and on_dask == serial  # exact: floats round-trip through pickle and JSON
    pids = {path.name.split(".")[1] for path in call_log.iterdir()}
    assert _calls(call_log) == sorted(item.key for item in items) and str(os.getpid()) not in pids
    assert sorted(p.name for p in (tmp_path / "dask").iterdir()) == sorted(p.name for p in (tmp_path / "serial").iterdir())


def test_items_sent_in_chunks_give_the_same_results_each_computed_once(tmp_path, call_log):
    from vidsal_study.sweeps import MAX_CHUNK, default_chunk_size

    items = _items(videos=5)
    serial = run_sweep(_work, items, tmp_path / "serial", progress=False)
    for path in call_log.iterdir():
        path.unlink()
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        chunked = run_sweep(_work, items, tmp_path / "chunked", progress=False, executor=pool, chunk_size=4)
        with pytest.raises(ConfigError, match="chunk_size=0"):
            run_sweep(_work, items, tmp_path / "bad", progress=False, executor=pool, chunk_size=0)
    assert chunked == serial
    assert _calls(call_log) == sorted(item.key for item in items), "every item once, none twice"
    assert [default_chunk_size(n) for n in (1, 255, 256, 1000, 3768, 10**6)] == [1, 1, 1, 3, 14, MAX_CHUNK]


class _Stop(Exception):
    """Raised from ``on_result``: the sweep is interrupted there."""


def test_a_killed_worker_loses_nothing_and_the_resumed_run_computes_only_what_is_missing(tmp_path, call_log):
    items = _items(seconds=0.4)
    reference = run_sweep(_work, items, tmp_path / "serial", progress=False)
    for path in call_log.iterdir():
        path.unlink()
    directory = tmp_path / "dask"
    finished: list[str] = []
    with dask_executor("local:2") as executor:
        client = executor._client
        victim = sorted(client.run(os.getpid).values())[0]

        def kill_then_stop(item, result):
            finished.append(item.key)
            if len(finished) == 2:
                os.kill(victim, signal.SIGKILL)  # mid-sweep: it was computing an item, others were queued
            if len(finished) == 7:
                raise _Stop  # then the run itself is interrupted

        with pytest.raises(_Stop):
            run_sweep(_work, items, directory, progress=False, executor=executor, on_result=kill_then_stop)
        assert victim not in client.run(os.getpid).values()
    saved = {path.stem for path in directory.glob("*.json") if path.name != "spec.json"}
    assert saved == set(finished) and not list(directory.glob("*.tmp")), "every finished item saved whole"

    for path in call_log.iterdir():
        path.unlink()
    missing = {item.key for item in pending_items(items, directory)}
    assert len(missing) == len(items) - 7
    with dask_executor("local:2") as executor:
        resumed = run_sweep(_work, items, directory, progress=False, executor=executor)
    assert _calls(call_log) == sorted(missing), "the resumed run computes exactly the missing items, once each"
    assert resumed == reference


def test_a_scheduler_that_does_not_answer_is_a_clear_error_quickly():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=rf"no Dask scheduler answered at tcp://127.0.0.1:{port} within 2 s"):
        with dask_executor(f"tcp://127.0.0.1:{port}", connect_timeout=2):
            pass
    assert time.perf_counter() - start < 30


def test_use_dask_makes_the_cluster_every_sweeps_default_until_closed(tmp_path, call_log):
    items = _items(videos=2, steps=(1, 2))
    serial = run_sweep(_work, items, tmp_path / "serial", progress=False)
    for path in call_log.iterdir():
        path.unlink()
    try:
        executor = use_dask("local:2")
        assert default_executor() is executor and use_dask("local:2") is executor
        assert run_sweep(_work, items, tmp_path / "dask", progress=False) == serial
    finally:
        assert use_dask(None) is None
    assert default_executor() is None
    assert str(os.getpid()) not in {path.name.split(".")[1] for path in call_log.iterdir()}


@pytest.mark.slow
def test_the_vanishing_chapters_shares_are_the_kernels_in_a_sweep_and_on_dask(tmp_path, monkeypatch):
    """The chapter's sweep gives :func:`saliency_shares` of the same batches at one torch thread, here and on Dask.

    The ICA-LSTM's shares change in the 8th digit with the thread count, so the
    kernel's sweep must pin one thread, as the workers have, for them to agree.
    """
    import torch

    from vidsal_study import sweeps
    from vidsal_study.chapters.vanishing.temporal import (
        chapter_shares, chunk_videos, clip_chunks, model_source, saliency_shares, spread_entries, trained_and_untrained,
    )
    from vidsal_core.data.corpus import CorpusConfig, build_corpus
    from vidsal_study.runs import build_run

    run = build_run("quick", "ica_lstm_binary")
    corpus = build_corpus(corpus_config("quick", run.corpus_section), progress=False)
    entries = spread_entries(corpus.select(split="test", actions=list(run.spec.classes)), 1)[:4]
    trained, untrained = trained_and_untrained("quick", "ica_lstm_binary")
    chunks = clip_chunks(corpus, entries, run, 3)
    assert [len(chunk["entries"]) for chunk in chunks] == [3, 1]
    videos, labels = (torch.cat(parts) for parts in zip(*(chunk_videos(chunk) for chunk in chunks)))
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        direct = saliency_shares(untrained, videos, labels, "gradient", batch_size=3)
        torch.set_num_threads(2)  # the kernel's own setting; the sweep computes at one thread regardless
        source = model_source("quick", "ica_lstm_binary", "untrained")
        monkeypatch.setattr(sweeps, "SWEEP_DIR", tmp_path / "serial")
        serial = chapter_shares(source, chunks, "gradient", ig_steps=4)
        assert torch.get_num_threads() == 2, "the kernel's setting is restored"
    finally:
        torch.set_num_threads(previous)
    np.testing.assert_array_equal(serial, direct)
    monkeypatch.setattr(sweeps, "SWEEP_DIR", tmp_path / "dask")
    with dask_executor("local:2") as executor, sweeps.using_executor(executor):
        on_dask = chapter_shares(source, chunks, "gradient", ig_steps=4)
    np.testing.assert_array_equal(on_dask, serial)
    assert len(list((tmp_path / "dask").glob("vanishing-*/*.json"))) == len(chunks) + 1  # one per chunk, and the spec


def test_the_book_runner_refuses_a_bad_cluster_spec_before_running_anything(tmp_path, capsys):
    from vidsal_study import book

    assert book.main(["--profile", "quick", "--dask", "local:0", "data"]) == 1
    assert "dask='local:0'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="not a cluster spec"):
        book.run_chapters(["data"], "quick", output_dir=tmp_path, dask="cluster")
    assert not list(tmp_path.iterdir()), "nothing ran"
