"""The border chapters' models: the C3D run and its untrained control, the Kinetics I3D and a seeded untrained one.

A model descriptor (:func:`c3d_descriptor`, :func:`i3d_descriptor`) is a
JSON-able mapping that says which weights a sweep explains (with their
sha256); :func:`model_for` loads the model it names, once per process.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from vidsal_study.chapters.border.settings import UNTRAINED_SEED, I3DSettings
from vidsal_study.sweeps import canonical_json
from vidsal_core.errors import CheckpointError, ConfigError
from vidsal_study.profiles import corpus_config
from vidsal_core.models.i3d import InceptionI3d
from vidsal_core.models.checkpoints import manifest_entry
from vidsal_study.runs import build_run, checkpoint_paths, load_trained
from vidsal_core.data.corpus import CorpusConfig
from vidsal_core.data.corpus import build_corpus
from vidsal_study.runs import run_dataset, train_or_load
from vidsal_core.models.i3d import DEFAULT_WEIGHTS_PATH
from vidsal_core.models.checkpoints import sha256_of_file

LOGGER = logging.getLogger(__name__)


def untrained_i3d(seed: int = UNTRAINED_SEED) -> nn.Module:
    """I3D with seeded He initialisation (as C3D's untrained control), fresh BatchNorm statistics, eval mode."""

    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = InceptionI3d()
        for module in model.modules():
            if isinstance(module, (nn.Conv3d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
    finally:
        torch.random.set_rng_state(generator_state)
    return model.eval()


def c3d_descriptor(profile: str | Path, run_name: str, train_if_missing: bool = True, progress: bool = True) -> dict[str, Any]:
    """The C3D run's model descriptor (with its checkpoints' sha256), training the run first if needed.

    Training, when the checkpoint is missing or was trained with another
    configuration, goes through the models' own functions
    (:func:`vidsal_study.runs.train_or_load`), as
    ``python -m vidsal_study.chapters.models.cli train --runs <run>`` would.
    """

    run = build_run(profile, run_name)
    if run.spec.model != "c3d":
        raise ConfigError(f"border_chapter.c3d_run={run_name!r}: is a {run.spec.model}, not a C3D")
    try:
        load_trained(profile, run_name)
        load_trained(profile, run_name, untrained=True)
    except CheckpointError as error:
        if not train_if_missing:
            raise
        LOGGER.warning("training %s for the border chapter: %s", run_name, str(error).splitlines()[0])
        train_run(profile, run, progress)
    paths = checkpoint_paths(run)
    return {
        "kind": "c3d", "profile": str(profile), "run": run_name,
        "trained_sha256": manifest_entry(paths.trained)["sha256"],
        "untrained_sha256": manifest_entry(paths.untrained)["sha256"],
        "clip_length": run.data["clip_length"], "step": run.data["step"], "size": list(run.data["size"]),
        "classes": list(run.spec.classes),
    }


def training_title_frames(profile: str | Path, run_name: str) -> list[int]:
    """Title-card lengths among the run's training videos (0 = videos without a card)."""

    run = build_run(profile, run_name)
    if run.data["title_frames"] is not None:
        return [int(run.data["title_frames"])]
    return sorted(corpus_config(profile, run.corpus_section).title_frames)


def train_run(profile: str | Path, run: Any, progress: bool) -> None:
    """Train (or retrain) a run with the models' own functions (also the evaluation chapter's)."""

    corpus = build_corpus(corpus_config(profile, run.corpus_section), progress=progress)
    train_or_load(run, run_dataset(run, corpus, "train", cache=True), run_dataset(run, corpus, "validation", cache=True),
                  on_mismatch="retrain", progress=progress)


def i3d_descriptor(settings: I3DSettings) -> dict[str, Any]:
    """The I3D model descriptor (Kinetics weights' sha256, preprocessing, untrained seed)."""

    if not DEFAULT_WEIGHTS_PATH.is_file():
        raise CheckpointError(f"{DEFAULT_WEIGHTS_PATH}: no I3D weights; run `make data-assets`")
    path = DEFAULT_WEIGHTS_PATH
    return {"kind": "i3d", "weights_sha256": _weights_sha256(str(path), path.stat().st_mtime),
            "crop_size": settings.crop_size, "shorter_side": settings.shorter_side,
            "untrained_seed": settings.untrained_seed}


@lru_cache(maxsize=4)
def _weights_sha256(path: str, modified: float) -> str:
    """sha256 of the I3D weights (cached while the file's modification time stays the same)."""

    return sha256_of_file(Path(path))


_MODELS: dict[str, nn.Module] = {}


def model_for(descriptor: Mapping[str, Any], weights: str) -> nn.Module:
    """The model a descriptor names, ``weights`` = ``"trained"`` or ``"untrained"``; cached per process."""
    key = canonical_json({"model": descriptor, "weights": weights})
    if key not in _MODELS:
        if descriptor["kind"] == "c3d":
            from vidsal_study.runs import load_trained

            model = load_trained(descriptor["profile"], descriptor["run"], untrained=weights == "untrained")
        elif descriptor["kind"] == "i3d":
            from vidsal_core.models.i3d import load_i3d

            model = load_i3d() if weights == "trained" else untrained_i3d(descriptor["untrained_seed"])
        else:
            raise ConfigError(f"model kind {descriptor['kind']!r}: expected 'c3d' or 'i3d'")
        _MODELS[key] = model.eval()
    return _MODELS[key]



#: The old private name of :func:`train_run`.
_train_run = train_run
