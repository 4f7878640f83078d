"""Where in time a saliency map puts its mass: share per frame, vanishing index, slope.

Seed 000 (Fig. 2) shows that the input gradient of an LSTM video classifier
*vanishes* for early frames: the saliency concentrates on the last frames,
and input-cell attention (Ismail et al., 2019) is said to fix it. This module
turns that picture into numbers:

* **saliency mass** of frame ``t``: ``m_t = Σ_{c,h,w} |S_{t,c,h,w}|`` — the
  absolute value first, so that positive and negative evidence both count
  (unlike seed 002's signed frame-wise relevance,
  :func:`vidsal_core.metrics.relevance.frame_relevance`);
* **share** of frame ``t``: ``s_t = m_t / Σ_u m_u`` (a uniform share is ``1/T``);
* **vanishing index**: ``V = log10( Σ_{last k} s_t / Σ_{first k} s_t )`` with
  ``k = max(1, floor(fraction · T))`` frames at each end (``fraction = 0.25``:
  the last quarter against the first). ``V = 0``: no preference; ``V = 1``:
  the last quarter holds ten times the share of the first;
* **edge share ratio**: the share of the first ``k`` frames over their uniform
  share ``k / T`` (1: uniform; near 0: the early frames get almost nothing);
* **log-share slope**: the least-squares slope of ``log10 s_t`` on the frame
  index ``t`` (per frame), optionally with a covariate (the person's
  visibility) held fixed. ``(T - 1) · slope`` is the fitted log10 ratio of the
  last frame's share to the first's.

:func:`saliency_shares` computes the shares of a batch of videos chunk by
chunk through :mod:`vidsal_core.saliency.gradients`; the result does not
depend on the chunk size (models in eval mode treat videos independently).
:func:`naive_saliency_shares` is its slow reference: one video at a time,
plain autograd, no Captum.

References
----------
Ismail, A. A., Gunady, M., Pessoa, L., Corrada Bravo, H. and Feizi, S. (2019).
Input-cell attention reduces vanishing saliency of recurrent neural networks.
NeurIPS.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from vidsal_core.errors import ConfigError

#: Saliency methods :func:`saliency_shares` computes.
METHODS: tuple[str, ...] = ("gradient", "integrated_gradients")
#: Smallest share the log-share slope takes a logarithm of (shares below are raised to it).
SHARE_FLOOR = 1e-12


def _as_array(values: Any) -> np.ndarray:
    """A tensor or array-like as a float64 NumPy array."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().to(torch.float64).numpy()
    return np.asarray(values, dtype=np.float64)


def frame_saliency_mass(saliency: Any) -> np.ndarray:
    """Saliency mass of each frame: ``Σ_{c,h,w} |S_{t,c,h,w}|``.

    Parameters
    ----------
    saliency : torch.Tensor or array-like
        ``(T, C, H, W)`` for one video or ``(B, T, C, H, W)`` for a batch.

    Returns
    -------
    numpy.ndarray
        ``(T,)`` or ``(B, T)`` float64, non-negative.
    """
    values = _as_array(saliency)
    if values.ndim not in (4, 5):
        raise ConfigError(f"saliency: expected (T, C, H, W) or (B, T, C, H, W), got shape {values.shape}")
    return np.abs(values).sum(axis=(-3, -2, -1))


def saliency_share(mass: Any, min_total: float = 0.0) -> np.ndarray:
    """Share of each frame in a video's total saliency mass, ``s_t = m_t / Σ_u m_u``.

    Parameters
    ----------
    mass : array-like
        ``(T,)`` or ``(B, T)`` non-negative frame masses (:func:`frame_saliency_mass`).
    min_total : float, default 0.0
        A video whose total mass is at most this has no share: its row is NaN.

    Returns
    -------
    numpy.ndarray
        The shape of ``mass``; every finite row sums to 1.
    """
    values = _as_array(mass)
    if values.ndim not in (1, 2) or values.shape[-1] < 1:
        raise ConfigError(f"mass: expected (T,) or (B, T), got shape {values.shape}")
    if np.any(values < 0):
        raise ConfigError("mass: saliency mass must be non-negative (take |saliency| first)")
    total = values.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = values / total
    return np.where(total > min_total, share, np.nan)


def edge_frames(n_frames: int, fraction: float = 0.25) -> int:
    """Frames at each end that the vanishing index compares: ``max(1, floor(fraction · T))``.

    Parameters
    ----------
    n_frames : int
        Frames per video, at least 2.
    fraction : float, default 0.25
        Share of the frames at each end, in (0, 0.5].
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 2:
        raise ConfigError(f"n_frames={n_frames!r}: expected an integer of at least 2")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction <= 0.5:
        raise ConfigError(f"fraction={fraction!r}: expected a number in (0, 0.5]")
    return max(1, int(np.floor(fraction * n_frames)))


def vanishing_index(shares: Any, fraction: float = 0.25) -> np.ndarray:
    """``log10`` of the share of the last ``k`` frames over the share of the first ``k``.

    Parameters
    ----------
    shares : array-like
        ``(T,)`` or ``(B, T)`` share vectors (:func:`saliency_share`).
    fraction : float, default 0.25
        ``k = max(1, floor(fraction · T))`` (see :func:`edge_frames`).

    Returns
    -------
    numpy.ndarray
        A scalar array or ``(B,)``: positive when the late frames hold more
        saliency (vanishing for early frames), 0 for no preference; NaN for
        rows with NaN, ``±inf`` where one end holds no saliency at all.
    """
    values = _as_array(shares)
    if values.ndim not in (1, 2):
        raise ConfigError(f"shares: expected (T,) or (B, T), got shape {values.shape}")
    k = edge_frames(values.shape[-1], fraction)
    first = values[..., :k].sum(axis=-1)
    last = values[..., -k:].sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(last) - np.log10(first)


def edge_share_ratio(shares: Any, fraction: float = 0.25, end: str = "first") -> np.ndarray:
    """Share of the first (or last) ``k`` frames relative to a uniform share: ``Σ s_t · T / k``.

    1 means the frames at that end get exactly their uniform share ``k / T``;
    near 0 means they get almost nothing (saliency has *vanished* there).

    Parameters
    ----------
    shares : array-like
        ``(T,)`` or ``(B, T)`` share vectors.
    fraction : float, default 0.25
        ``k = max(1, floor(fraction · T))`` (see :func:`edge_frames`).
    end : {"first", "last"}, default "first"
        Which end of the clip.
    """
    values = _as_array(shares)
    if values.ndim not in (1, 2):
        raise ConfigError(f"shares: expected (T,) or (B, T), got shape {values.shape}")
    if end not in ("first", "last"):
        raise ConfigError(f"end={end!r}: expected 'first' or 'last'")
    n_frames = values.shape[-1]
    k = edge_frames(n_frames, fraction)
    part = values[..., :k] if end == "first" else values[..., -k:]
    return part.sum(axis=-1) * n_frames / k


def log_share_slope(shares: Any, covariate: Any = None, floor: float = SHARE_FLOOR,
                    min_spread: float = 1e-3) -> np.ndarray:
    """Least-squares slope of ``log10 s_t`` on the frame index ``t``, per video.

    With a ``covariate`` ``v_t`` (e.g. the person's visibility) the model is
    ``log10 s_t = a + b t + c v_t`` and ``b`` is returned: the change per frame
    with the covariate held fixed (Frisch–Waugh: ``t`` is first residualised on
    ``1`` and ``v``).

    Parameters
    ----------
    shares : array-like
        ``(T,)`` or ``(B, T)`` share vectors.
    covariate : array-like, optional
        Same shape as ``shares`` (or ``(T,)``, shared by every row).
    floor : float, default :data:`SHARE_FLOOR`
        Shares below are raised to it before the logarithm.
    min_spread : float, default 1e-3
        A row whose frame index, after removing what the covariate explains,
        keeps less than this fraction of its variance has no separate time
        effect: its slope is NaN (e.g. visibility rising linearly with ``t``).

    Returns
    -------
    numpy.ndarray
        A scalar array or ``(B,)``, in log10 units per frame.
    """
    values = _as_array(shares)
    if values.ndim not in (1, 2) or values.shape[-1] < 3:
        raise ConfigError(f"shares: expected (T,) or (B, T) with T >= 3, got shape {values.shape}")
    single = values.ndim == 1
    rows = values[None] if single else values
    n_frames = rows.shape[1]
    time = np.broadcast_to(np.arange(n_frames, dtype=np.float64), rows.shape)
    columns = [np.ones_like(rows)]
    if covariate is not None:
        extra = _as_array(covariate)
        try:
            extra = np.broadcast_to(extra[None] if extra.ndim == 1 else extra, rows.shape)
        except ValueError:
            raise ConfigError(f"covariate: shape {extra.shape} does not match shares {values.shape}") from None
        columns.append(extra)
    design = np.stack(columns, axis=-1)  # (B, T, p)
    projection = design @ np.linalg.pinv(design)  # (B, T, T) hat matrix of the nuisance columns
    residual_time = time - np.einsum("bts,bs->bt", projection, time)
    spread = (residual_time ** 2).sum(axis=1)
    total_spread = ((time - time.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    logs = np.log10(np.maximum(rows, floor))
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (residual_time * logs).sum(axis=1) / spread
    slope = np.where(spread > min_spread * total_spread, slope, np.nan)
    return slope[0] if single else slope


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ConfigError(f"method={method!r}: choose one of {list(METHODS)}")
    return method


def _check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size={batch_size!r}: expected a positive integer")
    return batch_size


def saliency_shares(
    model: nn.Module,
    videos: torch.Tensor,
    targets: Sequence[int] | torch.Tensor,
    method: str = "gradient",
    batch_size: int = 8,
    n_steps: int = 16,
    ig_method: str = "gausslegendre",
    internal_batch_size: int | None = None,
) -> np.ndarray:
    """Saliency share per frame of every video, computed ``batch_size`` videos at a time.

    Parameters
    ----------
    model : nn.Module
        A video classifier in eval mode.
    videos : torch.Tensor
        ``(B, T, C, H, W)``, on any device: each chunk moves to the model's.
    targets : sequence of int or torch.Tensor
        The class explained for each video (one per video).
    method : {"gradient", "integrated_gradients"}, default "gradient"
        ``|input gradient|`` of the target logit, or Integrated Gradients from a
        black video (its absolute value is taken for the mass).
    batch_size : int, default 8
        Videos per call (memory bound; the result does not depend on it).
    n_steps : int, default 16
        Integrated Gradients' path points.
    ig_method : str, default "gausslegendre"
        Captum's integral approximation for Integrated Gradients.
    internal_batch_size : int, optional
        Integrated Gradients: (video, path point) pairs per forward pass
        (Captum's memory bound); None = all of a chunk at once.

    Returns
    -------
    numpy.ndarray
        ``(B, T)`` float64 share vectors.
    """
    from vidsal_core.saliency.gradients import input_gradient, integrated_gradients

    _check_method(method)
    _check_batch_size(batch_size)
    if internal_batch_size is not None:
        _check_batch_size(internal_batch_size)
    if not isinstance(videos, torch.Tensor) or videos.ndim != 5:
        raise ConfigError(f"videos: expected a (B, T, C, H, W) tensor, got {getattr(videos, 'shape', type(videos))}")
    targets = torch.as_tensor(targets, dtype=torch.long).reshape(-1)
    if targets.numel() != videos.shape[0]:
        raise ConfigError(f"targets: {targets.numel()} targets for {videos.shape[0]} videos")
    device = next((parameter.device for parameter in model.parameters()), videos.device)
    masses = []
    for start in range(0, videos.shape[0], batch_size):
        chunk = videos[start:start + batch_size].to(device)
        chunk_targets = targets[start:start + batch_size].to(device)
        if method == "gradient":
            saliency = input_gradient(model, chunk, chunk_targets, absolute=True)
        else:
            saliency = integrated_gradients(model, chunk, chunk_targets, n_steps=n_steps, method=ig_method,
                                            internal_batch_size=internal_batch_size or chunk.shape[0] * n_steps)
        masses.append(frame_saliency_mass(saliency))
    return saliency_share(np.concatenate(masses, axis=0))


def naive_saliency_shares(
    model: nn.Module,
    videos: torch.Tensor,
    targets: Sequence[int] | torch.Tensor,
    method: str = "gradient",
    n_steps: int = 16,
) -> np.ndarray:
    """Slow reference of :func:`saliency_shares`: one video at a time, plain autograd.

    Integrated Gradients uses the midpoint rule from a black video,
    ``x · mean_k ∇f((k + ½) / n · x)``, which is Captum's ``"riemann_middle"``.
    """
    _check_method(method)
    targets = [int(target) for target in torch.as_tensor(targets).reshape(-1)]
    shares = []
    for video, target in zip(videos, targets):
        if method == "gradient":
            point = video[None].detach().clone().requires_grad_(True)
            gradient, = torch.autograd.grad(model(point)[0, target], point)
            saliency = gradient[0].abs()
        else:
            total = torch.zeros_like(video)
            for k in range(n_steps):
                point = ((k + 0.5) / n_steps * video)[None].detach().requires_grad_(True)
                gradient, = torch.autograd.grad(model(point)[0, target], point)
                total += gradient[0]
            saliency = (video * total / n_steps).abs()
        mass = saliency.sum(dim=(1, 2, 3))
        shares.append((mass / mass.sum()).detach().cpu().to(torch.float64).numpy())
    return np.stack(shares)


# --- the chapter's models and videos ----------------------------------------------------------

def trained_and_untrained(profile: Any, run_name: str, train_if_missing: bool = True,
                          progress: bool = False) -> tuple[nn.Module, nn.Module]:
    """The trained model of a profile's run and its untrained control, training the run first if needed.

    Loads with :func:`vidsal_study.runs.load_trained`; when a checkpoint is
    missing or was trained with another configuration, trains the run with
    :func:`vidsal_study.runs.train_or_load`, as
    ``python -m vidsal_study.chapters.models.cli train --runs <run>`` would.
    """
    from vidsal_core.errors import CheckpointError
    from vidsal_study.runs import build_run, load_trained

    try:
        return load_trained(profile, run_name), load_trained(profile, run_name, untrained=True)
    except CheckpointError:
        if not train_if_missing:
            raise
    run = build_run(profile, run_name)
    return _train_or_load(profile, run, progress)


def window_variant(profile: Any, base_run: str, window: int | str, name: str) -> Any:
    """A run like ``base_run`` of the profile (an ICA-LSTM) with another attention ``window``.

    The variant keeps every other setting, data and training included, and is
    named ``name`` (its checkpoints: ``data/checkpoints/<profile>/<name>.pt``).
    """
    from vidsal_core.models.lstm import check_window
    from vidsal_study.runs import build_run, models_section

    section = models_section(profile)
    if base_run not in section["runs"]:
        raise ConfigError(f"base_run={base_run!r}: profile {profile} has runs {sorted(section['runs'])}")
    base = dict(section["runs"][base_run])
    if base.get("model") != "ica_lstm":
        raise ConfigError(f"base_run={base_run!r}: is a {base.get('model')}, not an ica_lstm")
    if not isinstance(name, str) or not name or name in section["runs"]:
        raise ConfigError(f"name={name!r}: expected a new run name, not one of {sorted(section['runs'])}")
    base["config"] = {**dict(base.get("config") or {}), "window": check_window(window)}
    variant_section = {"training": section.get("training"), "runs": {name: base}}
    return build_run(profile, name, variant_section)


def chapter_window_variant(profile: Any, settings: Mapping[str, Any] | None = None) -> Any:
    """The fixed-window ICA-LSTM the vanishing chapter trains (its ``window_variant``), or None when it has none.

    ``settings`` are the chapter's settings (:func:`chapter_settings`, after
    its parameters); by default the profile's. The run is named
    ``<base_run>_window<window>``. The models chapter trains it beside the
    profile's runs, so that the vanishing chapter finds it trained.
    """
    variant = (chapter_settings(profile) if settings is None else settings)["window_variant"]
    if variant is None:
        return None
    return window_variant(profile, variant["base_run"], variant["window"],
                          f"{variant['base_run']}_window{variant['window']}")


def trained_variant(profile: Any, run: Any, progress: bool = False) -> tuple[nn.Module, nn.Module]:
    """Trained and untrained models of a run built outside the profile (:func:`window_variant`)."""
    return _train_or_load(profile, run, progress)


def _train_or_load(profile: Any, run: Any, progress: bool) -> tuple[nn.Module, nn.Module]:
    from vidsal_core.data.corpus import CorpusConfig, build_corpus
    from vidsal_core.errors import CheckpointError
    from vidsal_core.models.checkpoints import load_checkpoint
    from vidsal_study.runs import checkpoint_paths, run_dataset, train_or_load

    paths = checkpoint_paths(run)
    try:
        trained = train_or_load(run, None, None, progress=progress).model
    except CheckpointError:  # missing or stale: train it (the models' own functions)
        corpus = build_corpus(CorpusConfig.from_profile(profile, run.corpus_section), progress=progress)
        trained = train_or_load(run, run_dataset(run, corpus, "train", cache=True),
                                run_dataset(run, corpus, "validation", cache=True),
                                on_mismatch="retrain", progress=progress).model
    untrained, _ = load_checkpoint(paths.untrained, run.spec)
    return trained.eval(), untrained.eval()


def spread_entries(entries: Sequence[dict[str, Any]], per_person_action: int | None) -> list[dict[str, Any]]:
    """Up to ``per_person_action`` videos of each (person, action), their scenarios cycled.

    The first video of the ``i``-th (person, action) pair (in sorted order)
    comes from its ``i``-th scenario (cyclically), so a small selection still
    covers every scenario. ``None`` keeps every entry.
    """
    if per_person_action is None:
        return list(entries)
    if isinstance(per_person_action, bool) or not isinstance(per_person_action, int) or per_person_action < 1:
        raise ConfigError(f"per_person_action={per_person_action!r}: expected a positive integer or None")
    cells: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for entry in entries:
        cells.setdefault((entry["person"], entry["action"]), []).append(entry)
    chosen = []
    for position, key in enumerate(sorted(cells, key=str)):
        videos = sorted(cells[key], key=lambda entry: (entry["scenario"], entry.get("seed", 0), entry["key"]))
        start = position % len(videos)
        rotated = videos[start:] + videos[:start]
        chosen.extend(rotated[:per_person_action])
    return sorted(chosen, key=lambda entry: entry["key"])


# --- the chapter's settings and estimates -------------------------------------------------------

#: Keys of a profile's ``vanishing_chapter`` section.
SETTING_KEYS = ("pairs", "methods", "ig_steps", "videos_per_person_action", "fraction", "visible_threshold",
                "window_variant", "batch_size")
#: Optional keys and their defaults: ``ig_batch_size`` bounds Integrated Gradients' memory
#: ((video, path point) pairs per forward pass; None = a whole chunk's).
#: ``clip_offset`` cuts the test clips: ``"center"`` (the video's centre, empty frames and all: the
#: chapter's own experiment), ``"acting"`` (as the models are evaluated) or a frame.
OPTIONAL_SETTINGS: dict[str, Any] = {"ig_batch_size": None, "clip_offset": "center"}


def chapter_settings(profile: Any, section_name: str = "vanishing_chapter") -> dict[str, Any]:
    """The ``vanishing_chapter`` section of a profile, checked; ``videos_per_person_action`` one per pair."""
    from vidsal_study.profiles import profile_section

    section = dict(profile_section(profile, section_name))
    where = f"profile {profile} {section_name}"
    missing = [key for key in SETTING_KEYS if key not in section]
    unknown = sorted(set(section) - set(SETTING_KEYS) - set(OPTIONAL_SETTINGS))
    section = {**OPTIONAL_SETTINGS, **section}
    if missing or unknown:
        raise ConfigError(f"{where}: missing {missing}, unknown {unknown}; expected {list(SETTING_KEYS)}")
    pairs = section["pairs"]
    if not isinstance(pairs, list) or not pairs or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise ConfigError(f"{where}.pairs={pairs!r}: expected a list of [LSTM run, ICA-LSTM run] pairs")
    for method in section["methods"]:
        _check_method(method)
    counts = section["videos_per_person_action"]
    counts = counts if isinstance(counts, list) else [counts] * len(pairs)
    if len(counts) != len(pairs):
        raise ConfigError(f"{where}.videos_per_person_action={counts!r}: "
                          f"one number per pair ({len(pairs)}) or one for all")
    section["videos_per_person_action"] = counts
    edge_frames(30, section["fraction"])
    _check_batch_size(section["batch_size"])
    if section["ig_batch_size"] is not None:
        _check_batch_size(section["ig_batch_size"])
    variant = section["window_variant"]
    if variant is not None and (not isinstance(variant, dict) or sorted(variant) != ["base_run", "window"]):
        raise ConfigError(f"{where}.window_variant={variant!r}: expected {{base_run: ..., window: ...}} or null")
    return section


def interval_or_nan(values: Any, groups: Any = None, resamples: int = 2000,
                    bounds: tuple[float, float] | None = None) -> Any:
    """:func:`~vidsal_core.statistics.mean_interval`, or an all-NaN estimate when no value is finite.

    ``bounds`` is the range of a bounded quantity (a share: ``(0, 1)``), for
    the interval that stays inside it; None for an unbounded one.
    """
    from vidsal_core.statistics import Estimate, mean_interval

    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).any():
        return Estimate(float("nan"), float("nan"), float("nan"), 0, 0)
    return mean_interval(values, groups, resamples=resamples, bounds=bounds)


# --- the chapter's sweep: shares of chunks of clips, resumable, in this process or on Dask -------------

#: Changes when what :func:`shares_work` computes changes (a new sweep directory).
SHARES_VERSION = 1

_CHAPTER_MODELS: dict[str, nn.Module] = {}


def model_source(profile: Any, run_name: str, weights: str = "trained", window: int | str | None = None,
                 base_run: str | None = None) -> dict[str, Any]:
    """What one of the chapter's models is, JSON-able: a profile run, or a :func:`window_variant` of one.

    The trained checkpoint's sha256 is part of it, so a retrained model is a new sweep item.
    """
    from vidsal_core.models.checkpoints import manifest_entry
    from vidsal_study.runs import build_run, checkpoint_paths

    if weights not in ("trained", "untrained"):
        raise ConfigError(f"weights={weights!r}: choose trained or untrained")
    run = build_run(profile, run_name) if window is None else window_variant(profile, base_run, window, run_name)
    entry = manifest_entry(checkpoint_paths(run).trained) or {}
    return {"profile": str(profile), "run": run_name, "weights": weights, "window": window, "base_run": base_run,
            "sha256": entry.get("sha256", "")}


def source_model(source: dict[str, Any]) -> nn.Module:
    """The model a :func:`model_source` names, loaded once per process (a GPU's if there is one)."""
    from vidsal_study.sweeps import canonical_json

    key = canonical_json(source)
    if key not in _CHAPTER_MODELS:
        current = model_source(source["profile"], source["run"], source["weights"], source["window"],
                               source["base_run"])
        if current["sha256"] != source["sha256"]:
            from vidsal_core.errors import CheckpointError

            raise CheckpointError(f"{source['profile']}/{source['run']}: the checkpoint changed since the sweep "
                                  "was planned; run the chapter again")
        if source["window"] is None:
            pair = trained_and_untrained(source["profile"], source["run"], train_if_missing=False)
        else:
            pair = trained_variant(source["profile"], window_variant(source["profile"], source["base_run"],
                                                                     source["window"], source["run"]))
        model = pair[0] if source["weights"] == "trained" else pair[1]
        _CHAPTER_MODELS[key] = model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    return _CHAPTER_MODELS[key]


def clip_chunks(corpus: Any, entries: Sequence[dict[str, Any]], run: Any, size: int,
                offset: str | int | None = "center") -> list[dict[str, Any]]:
    """The run's test clips of ``entries`` in chunks of ``size`` videos, each JSON-able (a sweep item's video).

    ``offset`` cuts the clips (``"center"``, the chapter's default; ``"acting"``; a frame; None: the run's
    ``data.evaluation_offset``). A control run's ``in_view`` and ``inside``
    (:func:`~vidsal_study.runs.run_region_options`) join the chunk's clip; a run with the defaults
    keeps the keys it had, so its cached sweep results stay valid.
    """
    from vidsal_study.runs import run_region_options

    _check_batch_size(size)
    clip = {"classes": list(run.spec.classes), "clip_length": run.data["clip_length"], "step": run.data["step"],
            "offset": run.data["evaluation_offset"] if offset is None else offset, "size": list(run.data["size"]),
            **run_region_options(run)}
    entries = [dict(entry) for entry in entries]
    return [{"corpus": corpus.config_hash, "entries": entries[start:start + size], "clip": clip}
            for start in range(0, len(entries), size)]


def chunk_videos(chunk: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(videos, labels)`` of a :func:`clip_chunks` chunk, read from its corpus."""
    from vidsal_core.data.corpus import DATA_DIR, Corpus, SynthKTHDataset

    clip = chunk["clip"]
    dataset = SynthKTHDataset(Corpus(DATA_DIR / "synthkth" / chunk["corpus"]), list(chunk["entries"]),
                              actions=clip["classes"], clip_length=clip["clip_length"], step=clip["step"],
                              offset=clip["offset"], size=tuple(clip["size"]),
                              **{key: clip[key] for key in ("in_view", "inside") if key in clip})
    if len(dataset) != len(chunk["entries"]):
        raise ConfigError(f"chunk of corpus {chunk['corpus']}: {len(chunk['entries']) - len(dataset)} of its videos "
                          "hold no clip inside a run in view; choose them with Corpus.inside_entries")
    items = [dataset[i] for i in range(len(dataset))]
    return torch.stack([item.video for item in items]), torch.tensor([item.label for item in items])


def shares_work(video: dict[str, Any], setting: dict[str, Any]) -> dict[str, Any]:
    """Sweep work: the saliency shares of one chunk of clips, one model, one method, for each clip's true class."""
    videos, labels = chunk_videos(video)
    shares = saliency_shares(source_model(setting["model"]), videos, labels, setting["method"], len(labels),
                             setting["ig_steps"] or 16, internal_batch_size=setting["ig_batch_size"])
    return {"shares": shares}


def chapter_shares(source: dict[str, Any], chunks: Sequence[dict[str, Any]], method: str, ig_steps: int,
                   ig_batch_size: int | None = None, progress: bool = False) -> np.ndarray:
    """``(clips, T)`` shares of every chunk's clips under ``source``'s model: a resumable sweep.

    Each (chunk, model, method) is one item saved under ``data/sweeps/vanishing-*``
    as it finishes; the sweep runs where :func:`vidsal_study.sweeps.run_sweep`
    runs it (this process, or the cluster of a chapter's ``dask`` parameter).
    A chunk is computed as one batch, so the shares are those of
    :func:`saliency_shares` with ``batch_size`` equal to the chunk size.
    """
    from vidsal_study.sweeps import SweepItem, run_sweep, sweep_directory

    _check_method(method)
    integrated = method == "integrated_gradients"  # the gradient's items do not depend on IG's settings
    setting = {"model": source, "method": method, "ig_steps": ig_steps if integrated else None,
               "ig_batch_size": ig_batch_size if integrated else None, "version": SHARES_VERSION}
    items = [SweepItem(chunk, setting) for chunk in chunks]
    directory = sweep_directory("vanishing", {"work": "vidsal_study.chapters.vanishing.temporal.shares_work",
                                              "version": SHARES_VERSION})
    results = run_sweep(shares_work, items, directory, progress=progress, description=f"vanishing {method}")
    return np.concatenate([np.asarray(result["shares"], dtype=np.float64) for result in results], axis=0)
