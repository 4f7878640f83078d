"""The allocator tuning (vidsal_core.runtime) changes where memory comes from, never a number."""

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
    import vidsal_core
    from vidsal_core import runtime
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


@pytest.mark.skipif(not GLIBC, reason="the tuning acts on glibc's malloc only")
def test_importing_the_library_tunes_this_process_unless_switched_off():
    assert runtime.allocator_tuned() is runtime.allocator_tuning_wanted()
    code = "import vidsal_core.runtime as r; print(r.allocator_tuned())"
    for switch, expected in (("1", "True"), ("0", "False")):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                env={**os.environ, runtime.SWITCH: switch})
        assert result.stdout.strip() == expected


def test_a_bad_threshold_is_refused():
    for bad in (0, -1, 1.5, True, "1"):
        with pytest.raises(ValueError, match="threshold"):
            runtime.tune_allocator(bad)
