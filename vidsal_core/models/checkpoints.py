"""Checkpoints with their full specification, a manifest and a sha256.

A checkpoint is one ``.pt`` file holding ``{"format", "spec", "state_dict"}``,
read back only with ``torch.load(weights_only=True)`` (no pickled code runs).
The manifest ``data/checkpoints/manifest.json`` records, for every file, its
sha256 and its :class:`RunSpec`: the model's name and full configuration, the
task's classes and data sampling, the training configuration and the hash of
the corpus it was trained on. Loading compares the file against the manifest
and against the specification the caller expects; any difference is refused
with a :class:`~vidsal_core.errors.CheckpointError` that lists it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import torch
from torch import nn

from vidsal_core.errors import CheckpointError
from vidsal_core.models.registry import build_model

#: Default folder of checkpoints and of their manifest.
CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "data" / "checkpoints"
#: File name of the manifest inside the checkpoint folder.
MANIFEST_NAME = "manifest.json"
#: Version of the checkpoint file layout.
CHECKPOINT_FORMAT = 1
#: Sources whose code decides the trained weights; their hash is part of every spec.
TRAINING_SOURCES = ("lstm.py", "c3d.py", "resize.py", "train.py")


def code_fingerprint() -> str:
    """sha256 (16 hex digits) of :data:`TRAINING_SOURCES`: editing the models or the
    trainer invalidates checkpoints, as editing the renderer invalidates corpora."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in TRAINING_SOURCES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def plain(value: Any) -> Any:
    """``value`` as JSON would give it back (tuples become lists), for comparisons."""
    return json.loads(json.dumps(value))


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a trained model's weights.

    Attributes
    ----------
    model : str
        Registered model name (``"frame_lstm"``, ``"ica_lstm"``, ``"c3d"``, ...).
    model_config : dict
        The model's full configuration (``model.config``).
    classes : list of str
        The task's classes, in output order.
    data : dict
        How clips were cut (source, clip length, step, offsets, size).
    training : dict
        The :class:`~vidsal_core.models.train.TrainConfig` as a dictionary.
    corpus_hash : str
        Hash of the corpus the model was trained on (``"none"`` for ad-hoc data).
    code : str
        :func:`code_fingerprint` of the model and training code.
    """

    model: str
    model_config: Mapping[str, Any]
    classes: tuple[str, ...]
    data: Mapping[str, Any]
    training: Mapping[str, Any]
    corpus_hash: str
    code: str = dataclasses.field(default_factory=code_fingerprint)

    def to_dict(self) -> dict[str, Any]:
        """The specification as plain JSON-compatible data."""
        return plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "RunSpec":
        """Rebuild from :meth:`to_dict`'s output."""
        names = {item.name for item in dataclasses.fields(cls)}
        if set(values) != names:
            raise CheckpointError(f"run specification with keys {sorted(values)}: expected {sorted(names)}")
        return cls(**{**values, "classes": tuple(values["classes"])})


def sha256_of_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def differences(stored: Any, expected: Any, prefix: str = "") -> list[str]:
    """Human-readable list of where two nested specifications differ.

    Parameters
    ----------
    stored, expected : Any
        Plain data (dicts, lists, scalars).
    prefix : str
        Dotted path of the values, for the messages.
    """
    if isinstance(stored, dict) and isinstance(expected, dict):
        found: list[str] = []
        for key in sorted(set(stored) | set(expected), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in stored:
                found.append(f"{path}: missing from the checkpoint, asked {expected[key]!r}")
            elif key not in expected:
                found.append(f"{path}: checkpoint has {stored[key]!r}, not asked for")
            else:
                found.extend(differences(stored[key], expected[key], path))
        return found
    if stored != expected:
        return [f"{prefix}: checkpoint has {stored!r}, asked {expected!r}"]
    return []


def manifest_path(directory: Path | str = CHECKPOINT_DIR) -> Path:
    """Path of the manifest in ``directory``."""
    return Path(directory) / MANIFEST_NAME


def read_manifest(directory: Path | str = CHECKPOINT_DIR) -> dict[str, Any]:
    """The manifest's entries, keyed by checkpoint path relative to ``directory``."""
    path = manifest_path(directory)
    if not path.is_file():
        return {}
    try:
        content = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(f"manifest {path}: not valid JSON ({error}); delete it and retrain") from error
    if not isinstance(content, dict) or not isinstance(content.get("checkpoints"), dict):
        raise CheckpointError(f"manifest {path}: expected {{'checkpoints': {{...}}}}")
    return content["checkpoints"]


def _write_manifest(entries: Mapping[str, Any], directory: Path) -> None:
    """Write the manifest atomically (a temporary file renamed over it)."""
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"format": CHECKPOINT_FORMAT, "checkpoints": dict(sorted(entries.items()))}, indent=2)
    with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".tmp", delete=False) as handle:
        handle.write(text + "\n")
    os.replace(handle.name, manifest_path(directory))


@contextlib.contextmanager
def manifest_lock(directory: Path | str = CHECKPOINT_DIR) -> Iterator[None]:
    """Hold an exclusive lock on the manifest of ``directory`` (``manifest.json.lock``, ``fcntl.flock``).

    Every read-modify-write of the manifest takes it, so that processes training
    runs side by side never drop
    each other's entries.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"{MANIFEST_NAME}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def relative_key(path: Path, directory: Path) -> str:
    """Manifest key of ``path``: its POSIX path relative to ``directory``."""
    try:
        return Path(path).resolve().relative_to(Path(directory).resolve()).as_posix()
    except ValueError as error:
        raise CheckpointError(f"checkpoint {path}: must lie inside the checkpoint folder {directory}") from error


def save_checkpoint(
    model: nn.Module,
    spec: RunSpec,
    path: Path | str,
    directory: Path | str = CHECKPOINT_DIR,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Save ``model``'s weights with ``spec`` and record them in the manifest.

    Parameters
    ----------
    model : nn.Module
        The model (its ``state_dict`` is saved, on CPU).
    spec : RunSpec
        What the weights depend on.
    path : Path or str
        The ``.pt`` file, inside ``directory``.
    directory : Path or str
        The checkpoint folder holding the manifest.
    extra : mapping, optional
        More JSON data for the manifest entry (metrics, curves, role).

    Returns
    -------
    dict
        The manifest entry.
    """
    directory, path = Path(directory), Path(path)
    key = relative_key(path, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    torch.save({"format": CHECKPOINT_FORMAT, "spec": spec.to_dict(), "state_dict": state}, path)
    entry = {
        "spec": spec.to_dict(),
        "sha256": sha256_of_file(path),
        "saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        **plain(dict(extra or {})),
    }
    with manifest_lock(directory):
        entries = read_manifest(directory)
        entries[key] = entry
        _write_manifest(entries, directory)
    return entry


def manifest_entry(path: Path | str, directory: Path | str = CHECKPOINT_DIR) -> dict[str, Any] | None:
    """The manifest entry of ``path``, or ``None`` when it has none."""
    return read_manifest(directory).get(relative_key(Path(path), Path(directory)))


def annotate_checkpoint(path: Path | str, values: Mapping[str, Any], directory: Path | str = CHECKPOINT_DIR) -> None:
    """Add ``values`` (e.g. test accuracy) to a checkpoint's manifest entry."""
    key = relative_key(Path(path), Path(directory))
    with manifest_lock(directory):
        entries = read_manifest(directory)
        if key not in entries:
            raise CheckpointError(f"checkpoint {path}: not in the manifest {manifest_path(directory)}")
        entries[key].update(plain(dict(values)))
        _write_manifest(entries, Path(directory))


def verify_checkpoint(
    path: Path | str, expected: RunSpec | None = None, directory: Path | str = CHECKPOINT_DIR,
) -> dict[str, Any]:
    """Check a checkpoint against the manifest and an expected spec; return its entry.

    Raises
    ------
    CheckpointError
        If the file is missing, unknown to the manifest, altered since it was
        saved (sha256), or trained with another specification than ``expected``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file; train the model and save it first (save_checkpoint)")
    entry = manifest_entry(path, directory)
    if entry is None:
        raise CheckpointError(f"checkpoint {path}: not in the manifest {manifest_path(directory)}; it was not saved by vidsal")
    digest = sha256_of_file(path)
    if digest != entry["sha256"]:
        raise CheckpointError(
            f"checkpoint {path}: sha256 {digest[:12]}… differs from the manifest's {entry['sha256'][:12]}…; "
            "the file changed since it was saved"
        )
    if expected is not None:
        found = differences(entry["spec"], expected.to_dict())
        if found:
            raise CheckpointError(
                f"checkpoint {path} does not match what was asked for:\n  " + "\n  ".join(found)
                + "\nretrain it, or ask for its own configuration"
            )
    return entry


def load_checkpoint(
    path: Path | str,
    expected: RunSpec | None = None,
    directory: Path | str = CHECKPOINT_DIR,
    device: torch.device | str = "cpu",
) -> tuple[nn.Module, RunSpec]:
    """Verify and load a checkpoint; return the model (eval mode) and its spec.

    Parameters
    ----------
    path : Path or str
        The ``.pt`` file.
    expected : RunSpec, optional
        Refuse the checkpoint unless it was trained with exactly this spec.
    directory : Path or str
        The checkpoint folder holding the manifest.
    device : torch.device or str, default "cpu"
        Where to put the model.

    Raises
    ------
    CheckpointError
        See :func:`verify_checkpoint`; also if the file's own spec disagrees
        with the manifest or its weights do not fit the model.
    """
    entry = verify_checkpoint(path, expected, directory)
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"checkpoint {path}: not a vidsal checkpoint of format {CHECKPOINT_FORMAT}")
    found = differences(payload["spec"], entry["spec"])
    if found:
        raise CheckpointError(f"checkpoint {path}: its spec disagrees with the manifest: " + "; ".join(found))
    spec = RunSpec.from_dict(payload["spec"])
    model = build_model(spec.model, spec.model_config)
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint {path}: weights do not fit model {spec.model!r}: {error}") from error
    return model.to(device).eval(), spec
