"""The allocator tuning (vidsal_core.runtime) changes where memory comes from, never a number; the library's
import leaves it alone, the study's processes tune it."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap

import pytest
import torch

from vidsal_core import runtime

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Runs in a fresh process (the tuning is per process and set at import): a C3D's masked gradients in one batch
# of 16 clips (activations of tens of MB, far over glibc's default mmap threshold) and a short C3D training.
WORK = textwrap.dedent("""
    import sys, torch
    sys.path.insert(0, {tests!r})
    from vidsal_core import runtime
    from vidsal_study.processes import study_process
    study_process()
    from vidsal_core.models.c3d import C3D
    from vidsal_core.models.train import TrainConfig, train_model
    from vidsal_core.saliency.attribution import BaseAttribution
    from vidsal_core.saliency.batched import BatchedEngine
    from vidsal_core.saliency.masking import baseline_video, frame_masks
    from _toy_videos import MovingSquares

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = C3D(6, 1, 16, (60, 80), 0.125, batch_norm=True, dropout=0.2).eval()
    video = torch.rand(16, 1, 60, 80, generator=torch.Generator().manual_seed(1))
    engine = BatchedEngine(model, video, 2, BaseAttribution("gradient"), batch_size=16)
    changes = engine.changes(frame_masks(16, 60, 80), baseline_video(video, "first_element"))
    torch.manual_seed(0)
    trained = C3D(2, 1, 16, (48, 48), 0.0625, batch_norm=True)
    config = TrainConfig(max_epochs=1, batch_size=4, learning_rate=0.01, seed=0)
    train_model(trained, MovingSquares(8, 16, size=48, seed=0), MovingSquares(4, 16, size=48, seed=1), config,
                progress=False)
    torch.save({{"tuned": runtime.allocator_tuned(), "base": engine.base, "changes": changes,
                 "weights": trained.state_dict()}}, sys.argv[1])
""")


def _run(tmp_path, switch: str) -> dict:
    script = tmp_path / "work.py"
    script.write_text(WORK.format(tests=os.path.dirname(__file__)))
    output = tmp_path / f"out-{switch}.pt"
    environment = {**os.environ, runtime.SWITCH: switch}
    subprocess.run([sys.executable, str(script), str(output)], check=True, env=environment, timeout=600)
    return torch.load(output)


@pytest.mark.skipif(not GLIBC, reason="the tuning acts on glibc's malloc only")
def test_tuned_and_untuned_processes_give_bit_identical_maps_and_trained_weights(tmp_path):
    tuned, plain = _run(tmp_path, "1"), _run(tmp_path, "0")
    assert tuned["tuned"] is True and plain["tuned"] is False
    assert torch.equal(tuned["base"], plain["base"])
    assert torch.equal(tuned["changes"], plain["changes"])
    assert tuned["changes"].abs().sum() > 0  # the masks changed the gradient: the comparison is not of zeros
    for key, tensor in plain["weights"].items():
        assert torch.equal(tuned["weights"][key], tensor), key


def test_the_switch_reads_the_environment():
    assert runtime.allocator_tuning_wanted({})
    assert runtime.allocator_tuning_wanted({runtime.SWITCH: "1"})
    for off in ("0", "false", "No", " off "):
        assert not runtime.allocator_tuning_wanted({runtime.SWITCH: off})


# Imports every module of the library in a fresh process and records every C library ctypes loads.
IMPORT_LIBRARY = textwrap.dedent("""
    import ctypes, importlib, pathlib
    loaded = []
    _cdll = ctypes.CDLL
    ctypes.CDLL = lambda name, *args, **kwargs: loaded.append(str(name)) or _cdll(name, *args, **kwargs)
    import vidsal_core
    root = pathlib.Path(vidsal_core.__file__).parent
    for path in sorted(root.rglob("*.py")):
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        if not name.endswith("__main__"):
            importlib.import_module(name)
    from vidsal_core import runtime
    print(runtime.allocator_tuned(), any("libc.so" in name for name in loaded))
""")

# The study's entry points, each in a fresh process: a chapter's kernel (check_parameters), a sweep's task
# (a Dask worker runs _work_chunk), a training worker (its training stubbed out: only the start is tested).
STUDY_PROCESS = textwrap.dedent("""
    import sys
    from vidsal_core import runtime
    from vidsal_study import book, runs, sweeps
    entry = sys.argv[1]
    if entry == "kernel":
        book.check_parameters([book.PARAMETERS_HEADER + "\\nprofile = 'quick'"])
    elif entry == "sweep":
        sweeps._work_chunk(lambda video, setting: {}, [({}, {})])
    elif entry == "training":
        runs.Corpus = lambda directory: None
        runs.run_dataset = lambda *args, **kwargs: None
        runs.train_or_load = lambda *args, **kwargs: type("Trained", (), {"entry": {}})()
        runs._train_in_worker(None, "corpus", "checkpoints", "error", False)
    print(runtime.allocator_tuned())
""")


@pytest.mark.skipif(not GLIBC, reason="the tuning acts on glibc's malloc only")
def test_importing_the_library_leaves_the_allocator_alone():
    result = subprocess.run([sys.executable, "-c", IMPORT_LIBRARY], capture_output=True, text=True, check=True,
                            env={**os.environ, runtime.SWITCH: "1"})
    assert result.stdout.split() == ["False", "False"]  # not tuned, and glibc's library never loaded to call mallopt


@pytest.mark.skipif(not GLIBC, reason="the tuning acts on glibc's malloc only")
@pytest.mark.parametrize("entry", ["kernel", "sweep", "training"])
def test_the_study_processes_tune_the_allocator_unless_switched_off(entry):
    for switch, expected in (("1", "True"), ("0", "False")):
        result = subprocess.run([sys.executable, "-c", STUDY_PROCESS, entry], capture_output=True, text=True,
                                check=True, env={**os.environ, runtime.SWITCH: switch})
        assert result.stdout.strip().splitlines()[-1] == expected, (entry, switch, result.stdout)


def test_a_bad_threshold_is_refused():
    for bad in (0, -1, 1.5, True, "1"):
        with pytest.raises(ValueError, match="threshold"):
            runtime.tune_allocator(bad)
