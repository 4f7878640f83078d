"""Sanity checks: cascading model-parameter randomisation (Adebayo et al., 2018).

A saliency method that explains the *model* must give different maps once the
model's learned weights are destroyed. The cascading test re-initialises the
layers one at a time from the output down to the input and, after each step,
compares the maps of the partly random model with those of the trained one. A
method whose maps stay the same (an edge detector, the input itself) fails.

Layers
------
:func:`randomisable_layers` lists every module that owns parameters
(convolutions, linear layers, LSTMs, the input-cell attention's linear maps,
normalisation layers ...) in the order the forward pass uses them, output
first. The order comes from a forward pass with hooks (on ``example`` videos,
or on zeros shaped from the model's ``config`` when it has one), not from the
order the modules were registered: an ICA-LSTM registers its attention after
its head but runs it before the LSTM. A module that is never called is left out
(randomising it would change nothing).

A BatchNorm layer that normalises a convolution's (or linear layer's) output
is *folded* into that layer by default: the pair is one step, named after the
convolution, and both are re-initialised. BatchNorm's own
``reset_parameters`` sets γ = 1, β = 0 and running statistics 0 and 1, which is
not random; re-initialised with its convolution, the pair is exactly as the
untrained model built it, so after the last step the whole network is a
freshly initialised one. With ``fold_batch_norm=False`` each BatchNorm is its
own step (what Quantus does).

Re-initialisation
-----------------
Each module is re-initialised by its own ``reset_parameters`` (PyTorch's
default initialisation: Kaiming-uniform for convolutions and linear layers,
U(−1/√h, 1/√h) for an LSTM). A module without ``reset_parameters`` gets every
parameter drawn from N(0, σ²) with σ the standard deviation of that trained
parameter (0.01 where it is undefined or zero), so the random weights have
the trained ones' scale. The draw of a layer is seeded by ``seed`` and the
layer's name alone, on a CPU copy with PyTorch's global generator forked, so
it is the same whatever other layers are randomised, on CPU and CUDA, and the
caller's random state is untouched.

Similarity
----------
Per video and step, against the trained model's map of the same video and
target:

- ``spearman`` — Spearman's rank correlation of ``|map|`` with ``|trained map|``
  over every value of the video (Adebayo et al. 2018, "absolute value").
- ``spearman_frames`` — the same correlation within each frame, averaged over
  frames (frames where either map is constant are left out). The whole-video
  correlation mixes *when* with *where*: a recurrent model's gradient fades
  towards the first frames whatever its weights (vanishing saliency), so the
  ranks across frames survive randomisation; the per-frame correlation asks
  only whether the map still points at the same pixels.
- ``ssim`` — structural similarity (Wang et al., 2004; scikit-image,
  data range 1, 7×7 uniform window or the largest odd window the frame allows)
  per frame, averaged over frames, each frame of ``|map|`` min–max normalised
  to [0, 1] on its own (each frame is an "image" of Adebayo et al.).
- ``spearman_signed`` — rank correlation of the signed maps, where the trained
  map has negative values (NaN for unsigned methods).

A model that resizes its frames inside (vidsal's FrameLSTM, ICA-LSTM and C3D
do, :mod:`vidsal_core.models.resize`) has an input gradient that is exactly
zero on the pixels its bilinear resize skips (half the rows and half the
columns, three pixels in four, at 120×160 → 30×40), for any weights. That
fixed pattern of zeros dominates the ranks; ``resolution=`` (the model's
input size) averages the maps over those blocks before comparing, so only
what the weights decide is compared.

A constant map has no ranks: its correlations are NaN (e.g. a network whose
random ReLUs are all dead gives a zero gradient).

Pass criterion
--------------
:func:`passes_randomisation` is the book's one rule. With every layer
randomised, take each clip's per-frame Spearman correlation with the trained
map (``spearman_frames``: within each frame, averaged over its frames), the
mean over clips and its 95% bootstrap interval over persons (or source
videos: ``groups``). The similarity is then judged by
:func:`vidsal_core.statistics.verdict` against 0.5 (``direction="less"``): the
method **passes** when the interval lies wholly below 0.5 (the maps of the
random and the trained model share less than a quarter of their rank
variance), **fails** when it lies wholly above, is **inconclusive** when it
holds 0.5, and **underpowered** with fewer independent units than the rule
asks for. Adebayo et al. read the curves by eye; the 0.5 is vidsal's.

Passing is not the whole story. Sixt, Granz and Landgraf (2020) prove that
z+-type rules (LRP z+, deep Taylor) converge, layer after layer, to maps
largely independent of the later layers' parameters, so deep Taylor can fail
this test by construction; Binder et al. (2022) and Hedström et al. (2024)
question the test itself (what "randomised" should destroy, and how noisy its
top-down cascade is).

Differences from Quantus (``quantus.MPRT``, 0.6.0)
-------------------------------------------------
Quantus randomises every module with ``reset_parameters`` in reverse
*registration* order (BatchNorm as its own step), reseeds the global generator
with ``seed + 1`` before every layer (so every layer gets the same stream), and
compares ``|map| / max|map|`` with Spearman's correlation. Spearman is
unchanged by the positive scaling, so with the same layer order and the same
random weights both give the same numbers; ``tests/test_quantus_agreement.py``
shows it.

References
----------
Adebayo, J., Gilmer, J., Muelly, M., Goodfellow, I., Hardt, M. and Kim, B.
(2018). Sanity checks for saliency maps. NeurIPS.
Wang, Z., Bovik, A. C., Sheikh, H. R. and Simoncelli, E. P. (2004). Image
quality assessment: from error visibility to structural similarity. IEEE TIP 13(4).
Hedström, A. et al. (2023). Quantus: an explainable AI toolkit for responsible
evaluation of neural network explanations and beyond. JMLR 24(34).
Sixt, L., Granz, M. and Landgraf, T. (2020). When explanations lie: why many
modified BP attributions fail. ICML.
Binder, A. et al. (2022). Shortcomings of top-down randomization-based sanity
checks for evaluations of deep neural network explanations. arXiv:2211.12486.
Hedström, A. et al. (2024). Sanity checks revisited: an exploration to repair
the model parameter randomisation test. arXiv:2405.02383.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.statistics import MIN_UNITS, mean_interval, verdict

#: ``explain(model, videos, targets) -> maps`` with the videos' shape ``(B, T, C, H, W)``.
Explain = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
#: ``reinitialise(module, seed)``: re-draw the module's own parameters in place.
Reinitialise = Callable[[nn.Module, int], None]

#: Layers whose output a following BatchNorm may normalise (folded with it).
FOLDABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
#: Value of the ``layer`` column at step 0 (nothing randomised).
TRAINED = "trained"
#: Similarity columns of :func:`cascading_randomisation`.
METRICS = ("spearman", "spearman_frames", "ssim", "spearman_signed")
#: Default of :func:`passes_randomisation`.
PASS_THRESHOLD = 0.5


# --------------------------------------------------------------------------- layers

def _owns_parameters(module: nn.Module) -> bool:
    return any(True for _ in module.parameters(recurse=False))


def probe_videos(model: nn.Module) -> torch.Tensor | None:
    """One zero video shaped from ``model.config`` (``in_channels``, ``input_size``, ``clip_length``), or None."""
    config = getattr(model, "config", None)
    if not isinstance(config, dict) or "input_size" not in config:
        return None
    height, width = (int(value) for value in config["input_size"])
    frames = int(config.get("clip_length", 4))
    channels = int(config.get("in_channels", 1))
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    return torch.zeros(1, frames, channels, height, width, device=device)


def _call_order(model: nn.Module, example: torch.Tensor) -> tuple[list[str], dict[str, str]]:
    """Names of parameterised modules in first-call order, and BatchNorm → folded layer name."""
    names = {module: name for name, module in model.named_modules() if _owns_parameters(module)}
    order: list[str] = []
    outputs: list[tuple[torch.Tensor, str]] = []
    folded_into: dict[str, str] = {}

    def pre_hook(module: nn.Module, inputs: tuple) -> None:
        name = names[module]
        if name not in order:
            order.append(name)
        if isinstance(module, BATCH_NORMS) and inputs and isinstance(inputs[0], torch.Tensor):
            for output, producer in outputs:
                if inputs[0] is output:
                    folded_into.setdefault(name, producer)

    def hook(module: nn.Module, inputs: tuple, output: Any) -> None:
        if isinstance(module, FOLDABLE) and isinstance(output, torch.Tensor):
            outputs.append((output, names[module]))

    handles = [module.register_forward_pre_hook(pre_hook) for module in names]
    handles += [module.register_forward_hook(hook) for module in names]
    training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(example)
    finally:
        model.train(training)
        for handle in handles:
            handle.remove()
    return order, folded_into


def layer_groups(model: nn.Module, example: torch.Tensor | None = None,
                 fold_batch_norm: bool = True) -> list[tuple[str, list[str]]]:
    """``[(layer name, [module names re-initialised together]), ...]``, output first.

    See :func:`randomisable_layers`; a folded BatchNorm appears in its
    convolution's group.
    """
    if not isinstance(model, nn.Module):
        raise ConfigError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if example is None:
        example = probe_videos(model)
    if example is None:
        order = [name for name, module in model.named_modules() if _owns_parameters(module)]
        folded: dict[str, str] = {}
    else:
        if not isinstance(example, torch.Tensor):
            raise ConfigError(f"example: expected a tensor of videos, got {type(example).__name__}")
        order, folded = _call_order(model, example)
    if not fold_batch_norm:
        folded = {}
    groups: dict[str, list[str]] = {}
    for name in order:
        if name in folded and folded[name] in groups:
            groups[folded[name]].append(name)
        else:
            groups[name] = [name]
    if not groups:
        raise ConfigError("model: has no parameterised layer to randomise")
    return list(reversed(list(groups.items())))


def randomisable_layers(model: nn.Module, example: torch.Tensor | None = None,
                        fold_batch_norm: bool = True) -> list[str]:
    """Names of the model's parameterised layers, output first.

    Parameters
    ----------
    model : nn.Module
        The model (not modified).
    example : torch.Tensor, optional
        ``(B, T, C, H, W)`` videos for the forward pass that orders the layers;
        default: one zero video shaped from ``model.config``; without either,
        the reverse of the modules' registration order.
    fold_batch_norm : bool, default True
        Re-initialise a BatchNorm together with the convolution or linear
        layer it normalises (one step, named after that layer) rather than
        as its own step.

    Returns
    -------
    list of str
        Names as ``model.named_modules()`` gives them (``""`` is the model
        itself when it owns parameters).
    """
    return [name for name, _ in layer_groups(model, example, fold_batch_norm)]


def _layer_seed(seed: int, name: str) -> int:
    """A 63-bit seed from ``seed`` and the layer's name alone."""
    state = np.random.SeedSequence([int(seed), zlib.crc32(name.encode())]).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def reinitialise_layer(module: nn.Module, seed: int) -> None:
    """Re-draw ``module``'s own parameters (and buffers) in place, seeded; see the module's description.

    ``reset_parameters`` when the module has it, else N(0, σ²) per parameter
    with σ its trained standard deviation (0.01 where undefined or zero). The
    draw is made on a CPU copy under a forked generator, so it does not depend
    on the device and leaves the global random state alone.
    """
    clone = copy.deepcopy(module).to("cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        if hasattr(clone, "reset_parameters"):
            clone.reset_parameters()
        else:
            with torch.no_grad():
                for parameter in clone.parameters(recurse=False):
                    spread = float(parameter.std()) if parameter.numel() > 1 else 0.0
                    parameter.normal_(0.0, spread if np.isfinite(spread) and spread > 0 else 0.01)
    with torch.no_grad():
        for name, value in list(clone.named_parameters(recurse=False)) + list(clone.named_buffers(recurse=False)):
            getattr(module, name).copy_(value)


def _check_layers(layers: Sequence[str] | None, groups: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    if layers is None:
        return groups
    if isinstance(layers, str) or not isinstance(layers, Sequence):
        raise ConfigError(f"layers={layers!r}: expected a list of layer names (see randomisable_layers)")
    known = dict(groups)
    unknown = [name for name in layers if name not in known]
    if unknown:
        raise ConfigError(f"layers: unknown layer(s) {unknown}; randomisable layers are {list(known)}")
    if len(set(layers)) != len(layers):
        raise ConfigError(f"layers={list(layers)!r}: a layer is named twice")
    return [(name, known[name]) for name in layers]


def randomised_models(model: nn.Module, layers: Sequence[str] | None = None, seed: int = 0,
                      example: torch.Tensor | None = None, fold_batch_norm: bool = True,
                      reinitialise: Reinitialise | None = None) -> Iterator[tuple[int, str, nn.Module]]:
    """Yield ``(step, layer, model)``: step 0 the trained model, step k with the top k layers re-initialised.

    One deep copy in eval mode is randomised layer after layer and yielded
    each time (the same object: copy it to keep a step). ``model`` itself is
    never modified.

    Parameters
    ----------
    model : nn.Module
        The trained model.
    layers : sequence of str, optional
        The layers to randomise, in this order (default :func:`randomisable_layers`, output first).
    seed : int, default 0
        Seed of the re-initialisation (each layer's draw depends on it and the layer's name).
    example : torch.Tensor, optional
        Videos that order the layers (see :func:`randomisable_layers`).
    fold_batch_norm : bool, default True
        See :func:`randomisable_layers`.
    reinitialise : callable, optional
        ``reinitialise(module, seed)`` in place of :func:`reinitialise_layer`.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed={seed!r}: expected an integer")
    groups = _check_layers(layers, layer_groups(model, example, fold_batch_norm))
    reinitialise = reinitialise_layer if reinitialise is None else reinitialise
    randomised = copy.deepcopy(model).eval()
    yield 0, TRAINED, randomised
    for step, (name, members) in enumerate(groups, start=1):
        for member in members:
            reinitialise(randomised.get_submodule(member), _layer_seed(seed, member))
        randomised.eval()
        yield step, name, randomised


# --------------------------------------------------------------------------- similarity

def _ranks(values: np.ndarray) -> np.ndarray | None:
    """Centred, unit-norm average ranks of a flat array (None when constant)."""
    from scipy.stats import rankdata

    if values.size < 2 or values.max() == values.min():
        return None
    ranks = rankdata(values)
    ranks -= ranks.mean()
    return ranks / np.linalg.norm(ranks)


def _correlation(first: np.ndarray | None, second: np.ndarray | None) -> float:
    if first is None or second is None:
        return float("nan")
    return float(np.clip(first @ second, -1.0, 1.0))


def spearman(first: Any, second: Any) -> float:
    """Spearman's rank correlation of two maps over all their values (NaN if either is constant)."""
    return _correlation(_ranks(_flat(first)), _ranks(_flat(second)))


def _flat(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64).ravel()


def unit_range(values: np.ndarray) -> np.ndarray:
    """Min–max normalised to [0, 1] over the whole array (zeros when constant)."""
    low, high = float(values.min()), float(values.max())
    if high == low:
        return np.zeros_like(values, dtype=np.float64)
    return (values - low) / (high - low)


def frame_ssim(first: np.ndarray, second: np.ndarray) -> float:
    """Mean over frames of the SSIM of two ``(T, C, H, W)`` maps already in [0, 1] (data range 1)."""
    from skimage.metrics import structural_similarity

    if first.shape != second.shape or first.ndim != 4:
        raise ConfigError(f"maps: expected two (T, C, H, W) maps of one shape, got {first.shape} and {second.shape}")
    side = min(first.shape[-2:])
    if side < 3:
        raise ConfigError(f"maps: frames of {first.shape[-2]}×{first.shape[-1]} are too small for SSIM (need 3×3)")
    window = min(7, side if side % 2 else side - 1)
    channels = first.shape[1]
    scores = []
    for frame_first, frame_second in zip(first, second):
        if channels == 1:
            scores.append(structural_similarity(frame_first[0], frame_second[0], data_range=1.0, win_size=window))
        else:
            scores.append(structural_similarity(frame_first, frame_second, data_range=1.0, win_size=window,
                                                channel_axis=0))
    return float(np.mean(scores))


def frame_ranks(values: np.ndarray) -> list[np.ndarray | None]:
    """:func:`_ranks` of every frame of a ``(T, ...)`` map (None for a constant frame), in one ranking call."""
    from scipy.stats import rankdata

    flat = values.reshape(values.shape[0], -1)
    if flat.shape[1] < 2:
        return [None] * flat.shape[0]
    ranks = rankdata(flat, axis=1)
    ranks -= ranks.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(ranks, axis=1)
    constant = flat.max(axis=1) == flat.min(axis=1)
    return [None if constant[row] else ranks[row] / norms[row] for row in range(flat.shape[0])]


def mean_frame_correlation(first: list[np.ndarray | None], second: list[np.ndarray | None]) -> float:
    """Mean over frames of the rank correlations, frames where either map is constant left out (NaN if all are)."""
    values = [_correlation(a, b) for a, b in zip(first, second) if a is not None and b is not None]
    return float(np.mean(values)) if values else float("nan")


def frame_unit_range(values: np.ndarray) -> np.ndarray:
    """Every frame of a ``(T, ...)`` map min–max normalised to [0, 1] on its own (zeros when constant)."""
    return np.stack([unit_range(frame) for frame in values])


def pool_frames(values: np.ndarray, resolution: tuple[int, int] | None) -> np.ndarray:
    """``(T, C, H, W)`` averaged over blocks down to ``resolution`` (``(h, w)``; None = unchanged).

    Adaptive average pooling (PyTorch's ``adaptive_avg_pool2d``); when the
    sizes divide, the mean of each block.
    """
    if resolution is None or tuple(values.shape[-2:]) == tuple(resolution):
        return values
    from torch.nn import functional

    pooled = functional.adaptive_avg_pool2d(torch.from_numpy(np.ascontiguousarray(values)), tuple(resolution))
    return pooled.numpy()


def check_resolution(resolution: Any, videos: torch.Tensor) -> tuple[int, int] | None:
    """``resolution`` as ``(h, w)`` no larger than the videos' frames, or None."""
    if resolution is None:
        return None
    try:
        height, width = (int(value) for value in resolution)
    except (TypeError, ValueError):
        raise ConfigError(f"resolution={resolution!r}: expected (height, width), two positive integers") from None
    if not (1 <= height <= videos.shape[-2] and 1 <= width <= videos.shape[-1]):
        raise ConfigError(f"resolution={resolution!r}: must be positive and at most the frames' "
                          f"{videos.shape[-2]}×{videos.shape[-1]}")
    return height, width


class _Reference:
    """What the trained model's map of one video is compared through (computed once)."""

    def __init__(self, saliency: np.ndarray, resolution: tuple[int, int] | None = None) -> None:
        self.resolution = resolution
        magnitude = pool_frames(np.abs(saliency), resolution)
        saliency = pool_frames(saliency, resolution)
        self.ranks = _ranks(magnitude.ravel())
        self.frame_ranks = frame_ranks(magnitude)
        self.unit = frame_unit_range(magnitude)
        self.signed = bool((saliency < 0).any())
        self.signed_ranks = _ranks(saliency.ravel()) if self.signed else None

    def compare(self, saliency: np.ndarray) -> dict[str, float]:
        magnitude = pool_frames(np.abs(saliency), self.resolution)
        saliency = pool_frames(saliency, self.resolution)
        return {
            "spearman": _correlation(self.ranks, _ranks(magnitude.ravel())),
            "spearman_frames": mean_frame_correlation(self.frame_ranks, frame_ranks(magnitude)),
            "ssim": frame_ssim(self.unit, frame_unit_range(magnitude)),
            "spearman_signed": _correlation(self.signed_ranks, _ranks(saliency.ravel())) if self.signed
            else float("nan"),
        }


# --------------------------------------------------------------------------- the test

def _check_inputs(videos: Any, targets: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    if not isinstance(videos, torch.Tensor) or videos.dim() != 5 or not videos.is_floating_point():
        shape = tuple(videos.shape) if isinstance(videos, torch.Tensor) else type(videos).__name__
        raise ConfigError(f"videos: expected a float tensor (B, T, C, H, W), got {shape}")
    if not torch.isfinite(videos).all():
        raise ConfigError("videos: contains NaN or infinity")
    if targets is None:
        return videos, None
    targets = torch.as_tensor(targets).to(videos.device)
    if targets.dim() == 0:
        targets = targets.expand(videos.shape[0])
    if targets.shape != (videos.shape[0],) or targets.is_floating_point():
        raise ConfigError(f"targets: expected one class index per video ({videos.shape[0]}), "
                          f"got shape {tuple(targets.shape)}")
    return videos, targets.long()


def _explain(explain: Explain, model: nn.Module, videos: torch.Tensor, targets: torch.Tensor,
             batch_size: int) -> np.ndarray:
    """The maps of every video, in chunks of ``batch_size``, as float64 ``(B, T, C, H, W)``."""
    chunks = []
    for start in range(0, videos.shape[0], batch_size):
        chunk = videos[start:start + batch_size]
        saliency = explain(model, chunk, targets[start:start + batch_size])
        if not isinstance(saliency, (torch.Tensor, np.ndarray)) or tuple(saliency.shape) != tuple(chunk.shape):
            shape = tuple(saliency.shape) if hasattr(saliency, "shape") else type(saliency).__name__
            raise ConfigError(f"explain: returned {shape}, expected maps shaped like the videos {tuple(chunk.shape)}")
        chunks.append(_flat(saliency).reshape(chunk.shape))
    return np.concatenate(chunks)


def cascading_randomisation(model: nn.Module, explain: Explain, videos: torch.Tensor, targets: Any = None,
                            layers: Sequence[str] | None = None, seed: int = 0, batch_size: int | None = None,
                            fold_batch_norm: bool = True, reinitialise: Reinitialise | None = None,
                            resolution: tuple[int, int] | None = None) -> pd.DataFrame:
    """Cascading model-parameter randomisation (Adebayo et al., 2018), from the output layer down.

    Parameters
    ----------
    model : nn.Module
        The trained model; deep-copied, never modified, explained in eval mode.
    explain : callable
        ``explain(model, videos, targets) -> maps`` shaped like ``videos``,
        e.g. ``lambda m, v, t: input_gradient(m, v, t)``.
    videos : torch.Tensor
        ``(B, T, C, H, W)`` on the model's device.
    targets : int, sequence or tensor, optional
        The class explained for each video at every step; default the trained
        model's predictions (kept through the randomisation, as Adebayo et al. do).
    layers : sequence of str, optional
        Layers to randomise in order; default :func:`randomisable_layers` (output first).
    seed : int, default 0
        Seed of the re-initialisation.
    batch_size : int, optional
        Videos explained together (a memory bound); default all. Results do not depend on it.
    fold_batch_norm : bool, default True
        See :func:`randomisable_layers`.
    reinitialise : callable, optional
        ``reinitialise(module, seed)`` in place of :func:`reinitialise_layer`.
    resolution : (int, int), optional
        Compare the maps after averaging ``|map|`` (and the signed map, for
        ``spearman_signed``) over blocks down to ``(h, w)`` per frame; default
        as given. Use the model's input size for a model that resizes its
        frames inside (see the module's description).

    Returns
    -------
    pandas.DataFrame
        One row per video and step: ``video`` (index into ``videos``),
        ``step`` (0 = trained, k = top k layers re-initialised), ``layer``
        (the last layer re-initialised; ``"trained"`` at step 0), ``spearman``,
        ``spearman_frames``, ``ssim``, ``spearman_signed`` (see the module's description).
    """
    if not callable(explain):
        raise ConfigError(f"explain: expected a function explain(model, videos, targets), got {type(explain).__name__}")
    videos, targets = _check_inputs(videos, targets)
    resolution = check_resolution(resolution, videos)
    if batch_size is None:
        batch_size = videos.shape[0]
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError(f"batch_size={batch_size!r}: expected a positive integer")
    references: list[_Reference] = []
    rows = []
    for step, layer, randomised in randomised_models(model, layers, seed, videos[:1], fold_batch_norm,
                                                     reinitialise):
        if targets is None:
            with torch.no_grad():
                targets = torch.cat([randomised(videos[start:start + batch_size]).argmax(dim=1)
                                     for start in range(0, videos.shape[0], batch_size)])
        maps = _explain(explain, randomised, videos, targets, int(batch_size))
        if step == 0:
            references = [_Reference(saliency, resolution) for saliency in maps]
        for index, (reference, saliency) in enumerate(zip(references, maps)):
            rows.append({"video": index, "step": step, "layer": layer, **reference.compare(saliency)})
    return pd.DataFrame(rows, columns=["video", "step", "layer", *METRICS])


def cascading_randomisation_reference(model: nn.Module, explain: Explain, videos: torch.Tensor, targets: Any,
                                      layers: Sequence[str] | None = None, seed: int = 0,
                                      fold_batch_norm: bool = True,
                                      resolution: tuple[int, int] | None = None) -> pd.DataFrame:
    """The same test done naively, for checking and benchmarking.

    For every step a fresh copy of the model gets its top k layers
    re-initialised from scratch, every video is explained on its own, and
    the similarities come from ``scipy.stats.spearmanr`` and scikit-image
    directly (no cached ranks). No ``spearman_signed`` column.
    """
    from scipy.stats import spearmanr

    videos, targets = _check_inputs(videos, targets)
    if targets is None:
        raise ConfigError("targets: the reference needs the targets given")
    resolution = check_resolution(resolution, videos)
    groups = _check_layers(layers, layer_groups(model, videos[:1], fold_batch_norm))
    rows = []
    trained: list[np.ndarray] = []
    for step in range(len(groups) + 1):
        randomised = copy.deepcopy(model).eval()
        for _, members in groups[:step]:
            for member in members:
                reinitialise_layer(randomised.get_submodule(member), _layer_seed(seed, member))
        for index in range(videos.shape[0]):
            saliency = np.abs(_flat(explain(randomised, videos[index:index + 1], targets[index:index + 1])))
            saliency = pool_frames(saliency.reshape(videos.shape[1:]), resolution)
            if step == 0:
                trained.append(saliency)
            first, second = trained[index], saliency
            constant = first.max() == first.min() or second.max() == second.min()
            rows.append({
                "video": index, "step": step, "layer": groups[step - 1][0] if step else TRAINED,
                "spearman": float("nan") if constant else float(spearmanr(first.ravel(), second.ravel()).statistic),
                "spearman_frames": _reference_frame_spearman(first, second),
                "ssim": frame_ssim(frame_unit_range(first), frame_unit_range(second)),
            })
    return pd.DataFrame(rows)


def _reference_frame_spearman(first: np.ndarray, second: np.ndarray) -> float:
    from scipy.stats import spearmanr

    values = [spearmanr(a.ravel(), b.ravel()).statistic for a, b in zip(first, second)
              if a.max() > a.min() and b.max() > b.min()]
    return float(np.mean(values)) if values else float("nan")


# --------------------------------------------------------------------------- summaries

def _check_frame(frame: Any) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"frame: expected the DataFrame of cascading_randomisation, got {type(frame).__name__}")
    missing = [column for column in ("video", "step", "layer", "spearman") if column not in frame.columns]
    if missing:
        raise ConfigError(f"frame: missing column(s) {missing}; expected the output of cascading_randomisation")
    return frame


def randomisation_summary(frame: pd.DataFrame, metrics: Sequence[str] | None = None, by: Sequence[str] = (),
                          groups: str | None = None, confidence: float = 0.95, resamples: int = 2000,
                          seed: int = 0) -> pd.DataFrame:
    """Per step: the mean of each similarity over videos with its bootstrap interval.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`cascading_randomisation`'s output, possibly several stacked
        with extra key columns (e.g. ``method``, ``model``) named in ``by``.
    metrics : sequence of str, optional
        Columns to summarise; default those of :data:`METRICS` present and not all NaN.
    by : sequence of str, default ()
        Extra columns to group by, besides ``step`` and ``layer``.
    groups : str, optional
        A column naming each video's cluster (e.g. ``person``) for a cluster
        bootstrap (:func:`vidsal_core.statistics.mean_interval`).
    confidence, resamples, seed
        Of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per (``by``..., ``step``, ``layer``): for each metric ``m``
        the columns ``m``, ``m_low``, ``m_high``, and ``videos`` (videos with
        a finite value of the first metric). NaN values are dropped; a step
        where they all are gets NaN.
    """

    frame = _check_frame(frame)
    by = list(by)
    missing = [column for column in by + ([groups] if groups else []) if column not in frame.columns]
    if missing:
        raise ConfigError(f"by/groups: column(s) {missing} are not in the frame")
    if metrics is None:
        metrics = [name for name in METRICS if name in frame.columns and frame[name].notna().any()]
    unknown = [name for name in metrics if name not in frame.columns]
    if unknown:
        raise ConfigError(f"metrics: column(s) {unknown} are not in the frame")
    rows = []
    for key, part in frame.groupby(by + ["step", "layer"], sort=False):
        row = dict(zip(by + ["step", "layer"], key))
        for position, name in enumerate(metrics):
            values = part[name].to_numpy(dtype=float)
            finite = np.isfinite(values)
            if position == 0:
                row["videos"] = int(finite.sum())
            if not finite.any():
                row.update({name: np.nan, f"{name}_low": np.nan, f"{name}_high": np.nan})
                continue
            estimate = mean_interval(values, None if groups is None else part[groups].to_numpy(),
                                     confidence, resamples, seed)
            row.update({name: estimate.mean, f"{name}_low": estimate.low, f"{name}_high": estimate.high})
        rows.append(row)
    return pd.DataFrame(rows).sort_values(by + ["step"], kind="stable").reset_index(drop=True)


def passes_randomisation(frame: pd.DataFrame, threshold: float = PASS_THRESHOLD, metric: str = "spearman_frames",
                         groups: str | None = None, seed: int = 0, min_units: int | None = None) -> dict[str, Any]:
    """Does a method pass the cascading randomisation check? The book's one rule (see the module's description).

    At the last step (every listed layer re-initialised), the mean ``metric``
    over clips with its 95% bootstrap interval over ``groups`` goes to
    :func:`vidsal_core.statistics.verdict` with ``direction="less"`` and
    ``null=threshold``: reproduced (interval below ``threshold``) is
    ``"passes"``, contradicted (above) ``"fails"``, otherwise
    ``"inconclusive"``, or ``"underpowered"`` with too few units. Undefined
    correlations (constant maps) are dropped; a clip or group with none left
    is no unit (none at all: ``"underpowered"``).

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`cascading_randomisation`'s output for one method and model
        (with a ``groups`` column when given).
    threshold : float, default 0.5
        Similarity to the trained maps tested against.
    metric : {"spearman_frames", "spearman", "ssim", "spearman_signed"}, default "spearman_frames"
        Similarity tested: by default the per-frame Spearman correlation
        averaged over each clip's frames.
    groups : str, optional
        Cluster column (persons, source videos) for the bootstrap and the count
        of independent units; default each clip is its own unit.
    seed : int, default 0
        Seed of the bootstrap.
    min_units : int, optional
        Fewest units for a verdict (default that of :func:`vidsal_core.statistics.verdict`).

    Returns
    -------
    dict
        ``result`` ("passes", "fails", "inconclusive" or "underpowered"),
        ``passes`` (``result == "passes"``), ``metric``, ``threshold``, ``step``
        and ``layer`` (the last step), ``mean``, ``low``, ``high``, ``videos``, ``units``.
    """

    frame = _check_frame(frame)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not -1.0 <= threshold <= 1.0:
        raise ConfigError(f"threshold={threshold!r}: expected a similarity between -1 and 1")
    if metric not in frame.columns:
        raise ConfigError(f"metric={metric!r}: not a column of the frame; choose one of {list(METRICS)}")
    if frame["step"].max() < 1:
        raise ConfigError("frame: holds no randomised step (only the trained model)")
    last = frame[frame["step"] == frame["step"].max()]
    summary = randomisation_summary(last, [metric], groups=groups, seed=seed).iloc[0]
    finite = last[np.isfinite(last[metric].to_numpy(dtype=float))]
    units = int(finite[groups].nunique()) if groups is not None else len(finite)
    low, high = float(summary[f"{metric}_low"]), float(summary[f"{metric}_high"])
    word = verdict(low, high, units, direction="less", null=float(threshold),
                   min_units=MIN_UNITS if min_units is None else int(min_units))
    result = {"reproduced": "passes", "contradicted": "fails"}.get(word, word)
    return {
        "result": result,
        "passes": result == "passes",
        "metric": metric,
        "threshold": float(threshold),
        "step": int(summary["step"]),
        "layer": str(summary["layer"]),
        "mean": float(summary[metric]),
        "low": low,
        "high": high,
        "videos": int(summary["videos"]),
        "units": units,
    }
