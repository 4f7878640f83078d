"""The book's runner: chapters side by side as their needs allow, and the run times it records."""

from __future__ import annotations

import datetime
import json

import pytest

from vidsal_study import book
from vidsal_study.book import chapter_needs, exercises, read_times, record_time, run_chapters, times_path
from vidsal_core.errors import ConfigError


def test_study_chapters_wait_for_the_models_and_readers_for_everything_before_them():
    names = ["data", "models", "tsr", "border_lookahead", "step_size_offset", "summary", "teaching"]
    needs = chapter_needs(names)
    assert needs["data"] == () and needs["models"] == ()
    assert needs["tsr"] == ("models",)
    assert needs["step_size_offset"] == ("models", "border_lookahead")
    assert needs["summary"] == tuple(names[:5])
    assert needs["teaching"] == tuple(names[:6])
    # needs outside the chapters asked for are dropped: one chapter alone starts at once
    assert chapter_needs(["step_size_offset"]) == {"step_size_offset": ()}
    # a reader's own chapter waits for every chapter before it
    assert chapter_needs(["models", "mine"])["mine"] == ("models",)


def test_the_number_of_chapters_side_by_side_is_checked(tmp_path):
    for jobs in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="side by side"):
            run_chapters(["data"], "quick", output_dir=tmp_path, jobs=jobs)
    assert not list(tmp_path.iterdir()), "nothing ran"
    assert book.main(["--profile", "quick", "--jobs", "0", "data"]) == 1


def test_times_are_recorded_per_chapter_and_a_broken_file_is_named(tmp_path):
    started = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.timezone.utc)
    record = {"profile": "quick", "seconds": 12.5, "date": started.isoformat(), "device": "CPU", "commit": "a" * 40}
    path = tmp_path / "quick.json"
    record_time("tsr", record, path)
    record_time("data", {**record, "seconds": 3.0}, path)
    record_time("tsr", {**record, "seconds": 10.0}, path)  # a later run replaces the chapter's entry
    times = read_times(path)
    assert sorted(times) == ["data", "tsr"]
    assert times["tsr"]["seconds"] == 10.0 and times["data"]["seconds"] == 3.0
    assert times["tsr"]["side_by_side"] == 1 and times["tsr"]["commit"] == "a" * 40
    assert read_times(tmp_path / "none.json") == {}
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="quick.json"):
        read_times(path)
    path.write_text(json.dumps({"tsr": 3}))
    with pytest.raises(ConfigError, match="seconds"):
        read_times(path)


def test_exercises_are_read_from_the_template_one_line_each():
    found = exercises("tsr")
    assert len(found) == 3
    assert found[0].startswith("Run the chapter with `-p variant algorithm_1`")
    assert all("\n" not in text and "Solution" not in text for text in found)
    with pytest.raises(ConfigError, match="no template"):
        exercises("no_such_chapter")


def test_chapters_side_by_side_run_in_worker_processes_record_their_times_and_are_then_up_to_date(tmp_path, monkeypatch):
    # the teaching page runs in seconds: it is run here in the runner's process pool, as `--jobs 2` does
    monkeypatch.setenv("VIDSAL_CHAPTER_TIMES", str(tmp_path / "times"))
    monkeypatch.setattr(book, "TIMES_DIR", tmp_path / "times")
    output = tmp_path / "chapters"
    assert run_chapters(["teaching"], "quick", output_dir=output, jobs=2) == ["teaching"]
    assert (output / "teaching.ipynb").is_file() and (output / "teaching.fingerprint").is_file()
    times = read_times(times_path("quick"))
    assert list(times) == ["teaching"] and times["teaching"]["seconds"] > 0
    assert times["teaching"]["side_by_side"] == 2
    # its own time is not an input of the teaching page: it is up to date; another chapter's time is one
    assert run_chapters(["teaching"], "quick", output_dir=output, jobs=2) == []
    record_time("data", {"profile": "quick", "seconds": 1.0, "date": "2026-12-02T12:00:00+00:00", "device": "CPU"})
    assert run_chapters(["teaching"], "quick", output_dir=output) == ["teaching"]


def test_the_toc_parts_separate_the_study_from_the_teaching_page():
    from vidsal_study.book import chapters_in_toc

    study = chapters_in_toc(part="The study")
    assert study[0] == "data" and study[-1] == "summary" and "teaching" not in study
    assert chapters_in_toc(part="Using the study") == ["teaching"]
    assert chapters_in_toc(part="Start here") == ["quickstart"]
    assert chapters_in_toc() == ["quickstart"] + study + ["teaching"]
    with pytest.raises(ConfigError, match="no part"):
        chapters_in_toc(part="Appendix")


def test_a_local_dask_spec_starts_one_cluster_for_every_chapter_and_the_record_says_local(tmp_path, monkeypatch):
    from vidsal_study import sweeps

    started, calls = [], []

    def start_cluster(workers, host="127.0.0.1"):
        cluster = real_start(workers, host)
        started.append(cluster)
        return cluster

    def fake_run(name, profile, parameters, output_dir, jobs, recorded=None):
        calls.append((name, dict(parameters), dict(recorded or {})))
        return name, 0.0, None

    real_start = sweeps.start_local_cluster
    monkeypatch.setattr(sweeps, "start_local_cluster", start_cluster)
    monkeypatch.setattr(book, "start_local_cluster", start_cluster)  # the runner's own name for it
    monkeypatch.setattr(book, "_run_in_process", fake_run)
    assert run_chapters(["tsr", "time_contribution", "evaluation"], "quick", output_dir=tmp_path,
                        dask="local:1") == ["tsr", "time_contribution", "evaluation"]
    assert len(started) == 1  # one cluster, started for the first chapter that takes `dask`
    address = started[0].scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    by_name = {name: (parameters, recorded) for name, parameters, recorded in calls}
    assert by_name["tsr"] == ({"dask": address}, {"dask": "local:1"})
    assert by_name["evaluation"] == ({"dask": address}, {"dask": "local:1"})
    assert by_name["time_contribution"] == ({}, {})  # a chapter without a `dask` parameter gets none
    assert started[0].status.name == "closed"  # closed when the runner is done


def test_a_scheduler_address_is_passed_to_the_chapters_as_it_is(tmp_path, monkeypatch):
    from vidsal_study import sweeps

    calls = []
    monkeypatch.setattr(sweeps, "start_local_cluster", lambda *arguments: pytest.fail("no cluster for an address"))
    monkeypatch.setattr(book, "start_local_cluster", lambda *arguments: pytest.fail("no cluster for an address"))
    monkeypatch.setattr(book, "_run_in_process",
                        lambda name, profile, parameters, output_dir, jobs, recorded=None:
                        calls.append((dict(parameters), dict(recorded or {}))) or (name, 0.0, None))
    run_chapters(["tsr"], "quick", output_dir=tmp_path, dask="tcp://127.0.0.1:8786")
    assert calls == [({"dask": "tcp://127.0.0.1:8786"}, {"dask": "tcp://127.0.0.1:8786"})]
