"""The border chapters' settings: the explanations, the profile's ``border_chapter`` section, the corpora.

:data:`EXPLANATIONS` names every explanation of the sweeps (which weights,
which method); :class:`BorderSettings` and :class:`I3DSettings` read and check
the profile's ``border_chapter`` section; :func:`evaluation_corpus_config` and
:func:`validation_corpus_config` say which SynthKTH videos the chapters render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from vidsal_core.errors import ConfigError
from vidsal_core.data.corpus import CorpusConfig
from vidsal_core.data.dataset import KTH_ACTIONS, split_of_person
from vidsal_study.profiles import profile_section

#: Explanations: name → (which weights, which method). Seed 002's Table 1 columns, then Grad-CAM
#: (Selvaraju et al., 2017; vidsal_core.saliency.gradcam), which the seed did not measure: a map from the
#: last 3-D conv block's activations rather than from relevance propagated to the input.
#: "DTD" passes relevance through max pooling by the seed's proportional rule (seed 002 §2, "in proportion to
#: the activations inside the pool"); "DTD-wta" is the same deep Taylor with winner-take-all pooling (the
#: gradient of the max, Zennit's behaviour when no rule is set), shown beside it in Table 1.
EXPLANATIONS: dict[str, tuple[str, str]] = {
    "DTD": ("trained", "deep_taylor"),
    "DTD-wta": ("trained", "deep_taylor_winner_take_all"),
    "SA": ("trained", "sensitivity"),
    "DTD-u": ("untrained", "deep_taylor"),
    "Grad-CAM": ("trained", "grad_cam"),
    "Grad-CAM-4": ("trained", "grad_cam_block4"),
}
#: Layers of "Grad-CAM-4", by the model's ``model_name``: the last block with four time positions on a
#: 16-frame snippet (C3D ``conv5b`` and I3D ``Mixed_5c``, Grad-CAM's default layers, have two). With two
#: positions the trilinearly upsampled map is a constant plus an odd function of the frame position, so
#: its border coefficient is 0 by construction; four positions can show a border effect.
CAM_BLOCK4_LAYERS: dict[str, str] = {"c3d": "features.relu4b", "i3d": "features.Mixed_4f"}
#: A sweep item with this explanation only classifies its clip (for accuracy; no relevance).
LOGITS_ONLY = "logits"
#: Bumped whenever :func:`explain_clip` changes what it computes (part of every item).
WORK_VERSION = 3  # 3: DTD's max pooling became the seed's proportional rule
#: Top-k accuracies reported (with 6 SynthKTH classes top-5 is nearly trivial).
TOP_K: tuple[int, ...] = (1, 2, 5)
#: Seed used for the untrained I3D's He initialisation unless the profile says otherwise.
UNTRAINED_SEED = 0

#: Colour of each explanation in every figure of the chapters.
EXPLANATION_COLOURS: dict[str, str] = {"DTD": "C0", "SA": "C1", "DTD-u": "C2", "Grad-CAM": "C3", "DTD-wta": "C4",
                                         "Grad-CAM-4": "C5"}


# --- settings -----------------------------------------------------------------------------------------------


def _offsets(value: Any, where: str) -> tuple[int, ...]:
    """A list of offsets, or ``{start, stop, by}`` (stop included)."""
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"start", "stop", "by"})
        if unknown or "stop" not in value:
            raise ConfigError(f"{where}: expected a list or {{start, stop, by}}, got {dict(value)}")
        start, stop, by = int(value.get("start", 0)), int(value["stop"]), int(value.get("by", 1))
        if by < 1 or stop < start:
            raise ConfigError(f"{where}: need by >= 1 and stop >= start, got {dict(value)}")
        return tuple(range(start, stop + 1, by))
    values = tuple(int(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
    if not values or min(values) < 0:
        raise ConfigError(f"{where}: expected non-negative offsets, got {value!r}")
    return values


def _names(value: Any, where: str) -> tuple[str, ...]:
    names = tuple(value)
    unknown = [name for name in names if name not in EXPLANATIONS]
    if unknown or not names:
        raise ConfigError(f"{where}: unknown explanation(s) {unknown}; choose from {list(EXPLANATIONS)}")
    return names


@dataclass(frozen=True)
class I3DSettings:
    """The I3D part of ``border_chapter`` (see ``params/*.yaml``)."""

    crop_size: int = 112
    shorter_side: int = 128
    clip_length: int = 16
    step: int = 1
    explanations: tuple[str, ...] = ("DTD", "SA", "DTD-u")
    footage: tuple[str, ...] = ("bikes", "vtest", "carphone", "bigbuckbunny")
    footage_offsets: tuple[int, ...] = (0,)
    footage_steps: tuple[int, ...] = (1,)
    footage_step_offsets: tuple[int, ...] = (0,)
    synthkth_videos: int = 6
    synthkth_offsets: tuple[int, ...] = (0,)
    synthkth_steps: tuple[int, ...] = (1,)
    synthkth_step_offsets: tuple[int, ...] = (0,)
    untrained_seed: int = UNTRAINED_SEED

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str) -> "I3DSettings":
        values = dict(values or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; known {sorted(known)}")
        for key in ("footage_offsets", "footage_steps", "footage_step_offsets", "synthkth_offsets",
                    "synthkth_steps", "synthkth_step_offsets"):
            if key in values:
                values[key] = _offsets(values[key], f"{where}.{key}")
        if "explanations" in values:
            values["explanations"] = _names(values["explanations"], f"{where}.explanations")
        if "footage" in values:
            values["footage"] = tuple(values["footage"])
        return cls(**values)


@dataclass(frozen=True)
class BorderSettings:
    """The profile's ``border_chapter`` section.

    Attributes
    ----------
    c3d_run : str
        The ``models.runs`` entry explained (a C3D).
    corpus : dict
        Overrides of the profile's ``long_corpus`` for the test videos rendered
        for this chapter (``persons`` must be KTH test persons; ``n_frames``
        long enough for the largest step; ``title_frames`` with 0 and the card).
    explanations : tuple of str
        Explanations of the offset and step sweeps (keys of :data:`EXPLANATIONS`).
    offsets : tuple of int
        Offsets of the offset sweep (at the run's training step); Table 1 pools them.
    steps, step_offsets : tuple of int
        Step sizes of the step sweep, each at these offsets.
    title_frames : int
        Length of the opening title card of the title-card test.
    title_offsets : tuple of int
        Offsets of the title-card test.
    title_explanations : tuple of str
        Explanations of the title-card test.
    table_explanations : tuple of str
        Explanations added to the offset sweeps of C3D and of I3D on real
        footage only (Table 1's rows closest to the seed), beside
        ``explanations`` (default ``DTD-wta``: deep Taylor with
        winner-take-all max pooling, against DTD's proportional rule).
    accuracy_offsets : tuple of int
        Offsets of the accuracy-vs-step sweep (classification only, so cheap),
        wherever the clip fits in the video.
    validation_persons : tuple of int
        KTH validation persons whose videos (rendered like the test videos,
        without a title card) choose the best step of the accuracy sweep,
        so that its gain is measured on test persons it was not chosen on;
        empty = no validation videos.
    videos_per_person : int or None
        SynthKTH test videos per person (actions rotating over the persons,
        :func:`per_person`), so that a fixed number of clips spreads over
        every test person, the independent unit of each interval; None = every video.
    i3d : I3DSettings
        The I3D sweeps.
    i3d_native : I3DSettings or None
        An offset sweep of I3D on real footage at the input it was trained on
        (Carreira & Zisserman: 64-frame clips at 224 px), beside ``i3d``'s
        shorter, smaller clips, which lie outside that distribution; only its
        ``crop_size``, ``shorter_side``, ``clip_length``, ``step``,
        ``explanations``, ``footage`` and ``footage_offsets`` are used. None = skipped.
    """

    c3d_run: str = "c3d_6class"
    corpus: Mapping[str, Any] = field(default_factory=dict)
    explanations: tuple[str, ...] = ("DTD", "SA", "DTD-u")
    offsets: tuple[int, ...] = (0,)
    steps: tuple[int, ...] = (0, 1, 2, 4, 8, 16, 32)
    step_offsets: tuple[int, ...] = (0,)
    title_frames: int = 48
    title_offsets: tuple[int, ...] = (0,)
    title_explanations: tuple[str, ...] = ("DTD", "SA")
    table_explanations: tuple[str, ...] = ("DTD-wta",)
    accuracy_offsets: tuple[int, ...] = (0,)
    videos_per_person: int | None = None
    validation_persons: tuple[int, ...] = ()
    i3d: I3DSettings = field(default_factory=I3DSettings)
    i3d_native: I3DSettings | None = None

    def offset_explanations(self, explanations: Sequence[str]) -> tuple[str, ...]:
        """``explanations`` followed by :attr:`table_explanations` (once each): the offset sweeps' explanations."""
        return tuple(dict.fromkeys([*explanations, *self.table_explanations]))

    @classmethod
    def from_profile(cls, profile: str | Path) -> "BorderSettings":
        """Read ``border_chapter`` of ``profile``."""

        values = profile_section(profile, "border_chapter")
        where = f"profile {profile} border_chapter"
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; known {sorted(cls.__dataclass_fields__)}")
        for key in ("offsets", "steps", "step_offsets", "title_offsets", "accuracy_offsets"):
            if key in values:
                values[key] = _offsets(values[key], f"{where}.{key}")
        for key in ("explanations", "title_explanations", "table_explanations"):
            if key in values and (values[key] or key != "table_explanations"):
                values[key] = _names(values[key], f"{where}.{key}")
        count = values.get("videos_per_person")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ConfigError(f"{where}.videos_per_person={count!r}: expected a positive number or null")
        values["i3d"] = I3DSettings.from_mapping(values.get("i3d", {}), f"{where}.i3d")
        if values.get("i3d_native") is not None:
            values["i3d_native"] = I3DSettings.from_mapping(values["i3d_native"], f"{where}.i3d_native")
        values["corpus"] = dict(values.get("corpus") or {})
        values["validation_persons"] = tuple(int(person) for person in values.get("validation_persons") or ())
        return cls(**values)


# --- corpora ------------------------------------------------------------------------------------------------


def evaluation_corpus_config(profile: str | Path, settings: BorderSettings, run_section: str = "long_corpus"):
    """The chapter's test videos: the run's corpus section with ``border_chapter.corpus`` overrides.

    Only the videos the sweeps explain are rendered: with ``videos_per_person``
    set, each person's actions in :func:`~vidsal_study.chapters.border.per_person`'s
    rotation (``CorpusConfig.actions_per_person``).
    """

    values = {**profile_section(profile, run_section), **dict(settings.corpus)}
    if settings.videos_per_person is not None and "actions_per_person" not in settings.corpus:
        actions = values.get("actions") or KTH_ACTIONS
        values["actions_per_person"] = min(settings.videos_per_person, len(actions))
    config = CorpusConfig.from_dict(values)
    not_test = [person for person in config.persons if split_of_person(person) != "test"]
    if not_test:
        raise ConfigError(f"profile {profile} border_chapter.corpus.persons: {not_test} are not KTH test persons")
    if 0 not in config.title_frames:
        raise ConfigError(f"profile {profile} border_chapter.corpus.title_frames: must include 0 (videos without a card)")
    return config


def validation_corpus_config(profile: str | Path, settings: BorderSettings, run_section: str = "long_corpus"):
    """Videos of ``settings.validation_persons``, rendered as the test videos are (no title card): for choosing a step."""

    persons = list(settings.validation_persons)
    not_validation = [person for person in persons if split_of_person(person) != "validation"]
    if not persons or not_validation:
        raise ConfigError(f"profile {profile} border_chapter.validation_persons: {persons or 'empty'}; "
                          f"{not_validation} are not KTH validation persons" if not_validation else
                          f"profile {profile} border_chapter.validation_persons: empty")
    values = {**profile_section(profile, run_section), **dict(settings.corpus), "persons": persons, "title_frames": [0]}
    return CorpusConfig.from_dict(values)

