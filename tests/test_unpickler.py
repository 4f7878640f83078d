"""The restricted unpickler of the I3D checkpoint: NumPy arrays in, everything else refused."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from vidsal_core.errors import CheckpointError, CheckpointNotFoundError
from vidsal_core.models.i3d_weights import load_flax_checkpoint


class _TouchesFile:
    """Unpickles into ``os.system("touch <marker>")``: a stand-in for any shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Evaluates:
    """Unpickles into ``eval(...)``."""

    def __reduce__(self):
        return eval, ("1 + 1",)


def _write(path, tree) -> str:
    path.write_bytes(pickle.dumps(tree, protocol=4))
    return path


def test_shell_command_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "command-ran"
    crafted = {"params": {"kernel": np.zeros(3, np.float32)}, "batch_stats": {"mean": _TouchesFile(marker)}}
    path = _write(tmp_path / "crafted.ckpt", crafted)

    with pytest.raises(CheckpointError, match=r"crafted\.ckpt.*system.*refused"):
        load_flax_checkpoint(path)
    assert not marker.exists()

    # control: the same bytes do run the command under the ordinary unpickler
    pickle.loads(path.read_bytes())
    assert marker.exists()


def test_eval_is_refused(tmp_path):
    path = _write(tmp_path / "eval.ckpt", {"params": _Evaluates(), "batch_stats": {}})
    with pytest.raises(CheckpointError, match="builtins.eval"):
        load_flax_checkpoint(path)


def test_nested_numeric_arrays_load_unchanged(tmp_path):
    rng = np.random.default_rng(0)
    tree = {
        "params": {"Conv3d_1a_7x7": {"Conv_0": {"kernel": rng.standard_normal((7, 7, 7, 3, 4)).astype(np.float32)}}},
        "batch_stats": {"Conv3d_1a_7x7": {"BatchNorm_0": {"mean": rng.standard_normal((1, 1, 1, 1, 4))}}},
    }
    loaded = load_flax_checkpoint(_write(tmp_path / "fine.ckpt", tree))
    kernel = loaded["params"]["Conv3d_1a_7x7"]["Conv_0"]["kernel"]
    np.testing.assert_array_equal(kernel, tree["params"]["Conv3d_1a_7x7"]["Conv_0"]["kernel"])
    assert kernel.dtype == np.float32


def test_object_arrays_are_refused(tmp_path):
    tree = {"params": {"kernel": np.array([1, "text"], dtype=object)}, "batch_stats": {}}
    with pytest.raises(CheckpointError, match="params/kernel"):
        load_flax_checkpoint(_write(tmp_path / "objects.ckpt", tree))


def test_wrong_top_level_keys_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="top-level keys"):
        load_flax_checkpoint(_write(tmp_path / "keys.ckpt", {"weights": {"w": np.zeros(2)}}))


def test_not_a_pickle_and_missing_file(tmp_path):
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"this is not a pickle")
    with pytest.raises(CheckpointError, match="garbage.ckpt"):
        load_flax_checkpoint(garbage)
    with pytest.raises(CheckpointNotFoundError, match="absent.ckpt"):
        load_flax_checkpoint(tmp_path / "absent.ckpt")
