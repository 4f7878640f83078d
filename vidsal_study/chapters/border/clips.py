"""The border chapters' videos and clips: SynthKTH and real-footage descriptors, clip loading and its caches.

A video descriptor (:func:`synthkth_videos`, :func:`footage_videos`) is a
JSON-able mapping that names one video; :func:`load_clip` cuts the clip a
sweep setting asks for from it, prepared for the setting's model.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from vidsal_core.errors import ConfigError
from vidsal_core.data.footage import CATALOGUE, available_footage
from vidsal_core.data.corpus import DATA_DIR, Corpus
from vidsal_core.data.footage import load_footage
from vidsal_core.models.i3d import prepare_clip
from vidsal_core.data.clips import clip_indices

LOGGER = logging.getLogger(__name__)


def per_person(videos: Sequence[Mapping[str, Any]], count: int | None) -> list[Mapping[str, Any]]:
    """``count`` videos of each person, the actions rotating: person ``i`` (in order) gets actions ``i·count + j``.

    With 9 persons, 6 actions and ``count = 2``, 18 videos cover every person
    twice and every action three times. ``count=None`` keeps every video.
    """
    if count is None:
        return list(videos)
    persons = sorted({video["person"] for video in videos})
    actions = list(dict.fromkeys(video["action"] for video in videos))
    by_key = {(video["person"], video["action"]): video for video in videos}
    chosen = []
    for position, person in enumerate(persons):
        mine = [by_key[person, action] for action in actions if (person, action) in by_key]
        start = (position * count) % max(len(mine), 1)
        chosen += (mine[start:] + mine[:start])[:count]
    return chosen


def synthkth_videos(corpus: Any, classes: Sequence[str], title_frames: int = 0,
                    split: str = "test") -> list[dict[str, Any]]:
    """Descriptors of the corpus's videos of ``split`` (default test) with ``title_frames``, labelled in ``classes``."""
    videos = []
    for entry in corpus.select(split=split, actions=list(classes), title_frames=title_frames):
        videos.append({"source": "synthkth", "corpus": corpus.config_hash, "key": entry["key"],
                       "person": entry["person"], "action": entry["action"], "label": classes.index(entry["action"]),
                       "title_frames": entry["title_frames"], "n_frames": entry["n_frames"]})
    return sorted(videos, key=lambda video: (video["person"], classes.index(video["action"])))


def footage_videos(names: Sequence[str]) -> list[dict[str, Any]]:
    """Descriptors of catalogue clips that are present (missing ones are skipped with a warning)."""

    present = set(available_footage())
    videos = []
    for name in names:
        if name not in CATALOGUE:
            raise ConfigError(f"footage {name!r}: not in the catalogue {sorted(CATALOGUE)}")
        if name not in present:
            LOGGER.warning("footage %s is missing; fetch it with `python -m vidsal_core.data.footage`", name)
            continue
        videos.append({"source": "footage", "name": name, "n_frames": CATALOGUE[name].frame_count,
                       "sha256": CATALOGUE[name].sha256})
    return videos


@lru_cache(maxsize=2)
def _corpus(config_hash: str):

    return Corpus(DATA_DIR / "synthkth" / config_hash)


@lru_cache(maxsize=4)
def _synthkth_frames(config_hash: str, key: str) -> np.ndarray:
    """Every frame of one SynthKTH video, ``(N, H, W)`` uint8, decoded once per process for its many clips.

    A sweep cuts many clips (offsets, steps, explanations) from each video in a
    row; decoding a 512-frame video costs more than explaining a C3D snippet.
    Read-only: :func:`load_clip` indexes a copy out of it.
    """
    frames = _corpus(config_hash).load(key)["frames"]
    frames.setflags(write=False)
    return frames


#: Frames of real footage decoded and prepared together (and cached) by :func:`load_clip`.
FOOTAGE_CHUNK = 32


@lru_cache(maxsize=48)
def _prepared_footage_chunk(name: str, crop_size: int, shorter_side: int, chunk: int) -> torch.Tensor:
    """Frames ``[chunk · FOOTAGE_CHUNK, …)`` of a catalogue clip, resized and centre-cropped for I3D, uint8."""

    start = chunk * FOOTAGE_CHUNK
    video = load_footage(name, start=start, max_frames=min(FOOTAGE_CHUNK, CATALOGUE[name].frame_count - start))
    return (prepare_clip(video, crop_size, shorter_side) * 255).round().to(torch.uint8)


def _prepared_footage(name: str, crop_size: int, shorter_side: int, indices: np.ndarray) -> torch.Tensor:
    """Frames ``indices`` of a catalogue clip prepared for I3D, ``(T, 3, S, S)`` uint8 (only their chunks decoded)."""
    frames = [_prepared_footage_chunk(name, crop_size, shorter_side, int(index) // FOOTAGE_CHUNK)[int(index) % FOOTAGE_CHUNK]
              for index in indices]
    return torch.stack(frames)


def load_clip(video: Mapping[str, Any], setting: Mapping[str, Any]) -> torch.Tensor:
    """The ``(T, C, H, W)`` clip a setting cuts from a video, prepared for the setting's model."""

    model = setting["model"]
    indices = clip_indices(int(video["n_frames"]), setting["clip_length"], setting["step"], setting["offset"])
    if video["source"] == "footage":
        if model["kind"] != "i3d":
            raise ConfigError("load_clip: real footage is for I3D only (C3D was trained on grayscale SynthKTH)")
        frames = _prepared_footage(video["name"], model["crop_size"], model["shorter_side"], indices)
        return frames.float().div_(255.0)
    if video["source"] != "synthkth":
        raise ConfigError(f"video source {video['source']!r}: expected 'synthkth' or 'footage'")
    frames = torch.from_numpy(_synthkth_frames(video["corpus"], video["key"])[indices]).float().div_(255.0).unsqueeze(1)
    if model["kind"] == "c3d":
        size = tuple(model["size"])
        if tuple(frames.shape[-2:]) != size:  # as SynthKTHDataset resizes for training
            frames = torch.nn.functional.interpolate(frames, size=size, mode="bilinear", align_corners=False).clamp_(0, 1)
        return frames

    return prepare_clip(frames.expand(-1, 3, -1, -1), model["crop_size"], model["shorter_side"])


def clip_fits(video: Mapping[str, Any], clip_length: int, step: int, offset: int) -> bool:
    """Whether a clip of ``clip_length`` frames at ``step`` from ``offset`` lies inside the video."""
    return offset + (clip_length - 1) * step + 1 <= int(video["n_frames"])

