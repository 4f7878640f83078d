"""Parameter profiles: ``quick`` (tests), ``default`` (a laptop), ``full`` (a GPU).

A profile is a YAML file ``params/<name>.yaml`` at the repository root, with one
top-level key per part of the study (``corpus``, ``long_corpus``, ``models``,
chapter keys). A path to a YAML file of the same shape is accepted too, so a
reader can keep a profile of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from vidsal_core.data.corpus import CorpusConfig
from vidsal_core.errors import ConfigError

#: The folder holding the bundled profiles.
PARAMS_DIR = Path(__file__).resolve().parent.parent / "params"


def available_profiles() -> list[str]:
    """Names of the bundled profiles."""
    return sorted(path.stem for path in PARAMS_DIR.glob("*.yaml"))


def profile_path(profile: str | Path) -> Path:
    """Resolve a profile name or a path to an existing YAML file."""
    candidate = Path(profile)
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_file():
            raise ConfigError(f"profile={str(profile)!r}: no such file")
        return candidate
    path = PARAMS_DIR / f"{profile}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"profile={str(profile)!r}: unknown profile; choose one of "
            f"{available_profiles()} or give a path to a .yaml file"
        )
    return path


def load_profile(profile: str | Path) -> dict[str, Any]:
    """Read a profile into a dictionary.

    Parameters
    ----------
    profile : str or Path
        ``"quick"``, ``"default"``, ``"full"``, or a path to a YAML file.
    """
    path = profile_path(profile)
    try:
        content = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"profile file {path}: not valid YAML ({error})") from error
    if not isinstance(content, dict):
        raise ConfigError(f"profile file {path}: expected a mapping of sections, got {type(content).__name__}")
    return content


def profile_section(profile: str | Path, section: str) -> dict[str, Any]:
    """One top-level section of a profile, e.g. ``corpus`` or ``models``."""
    content = load_profile(profile)
    if section not in content:
        raise ConfigError(
            f"profile {profile_path(profile)}: has no section {section!r} "
            f"(it has {sorted(content)})"
        )
    return dict(content[section] or {})


def corpus_config(profile: str | Path, section: str = "corpus") -> CorpusConfig:
    """The SynthKTH corpus of a profile (``section`` = ``corpus`` or ``long_corpus``), as a
    :class:`~vidsal_core.data.corpus.CorpusConfig`."""
    return CorpusConfig.from_dict(profile_section(profile, section))
