"""The tsr chapter's figures: they draw what the chapter's study computed."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib
import numpy as np

from vidsal_core.plot import saliency_grid
from vidsal_study.chapters.tsr.study import model_label
from vidsal_study.chapters.tsr.findings import METRICS
from vidsal_study.chapters.tsr.study import METHOD_LABELS, METHODS
from vidsal_core.errors import ConfigError


#: Colours of the TSR chapter's two models, in the chapter's order.
TSR_MODEL_COLOURS: tuple[str, ...] = ("tab:blue", "tab:orange")


def _spread_frames(length: int, count: int = 8) -> list[int]:
    """``count`` frame indices spread evenly over ``length`` frames, first and last included."""
    return np.linspace(0, length - 1, min(count, length)).round().astype(int).tolist()


def _tsr_rows(maps: Mapping[str, Any], block_size: int) -> list[tuple[str, Any, str]]:
    """The rows of every map of the TSR chapter, as :func:`saliency_grid` takes them."""
    return [("|gradient|", maps["gradient"], "unsigned"), ("one-step", maps["one_step"], "unsigned"),
            (f"TSR {block_size}×{block_size}", maps["tsr_blocks"], "unsigned"),
            ("TSR\nsuperpixels", maps["tsr_superpixels"], "unsigned"),
            ("Farnebäck\n|flow|", maps["farneback"], "unsigned")]


def tsr_examples(examples: Any, run_name: str, block_size: int):
    """One model's maps of the example clips: per clip its frames, every map, and the true motion.

    Parameters
    ----------
    examples : :class:`~vidsal_study.chapters.tsr.study.Examples`
        The walking and running clips and their explanations.
    run_name : str
        The model whose maps are drawn.
    block_size : int
        TSR's block side (named in its row).

    Returns
    -------
    matplotlib.figure.Figure
    """

    groups = []
    for action, clip in examples.clips.items():
        result = examples.explained[run_name, action]
        entry = examples.entries[action]
        title = (f"{model_label(run_name)} · {action} (person {entry['person']}, {entry['scenario']}, "
                 f"video frames {clip['frames'][0]}–{clip['frames'][-1]}), p({action}) = {result['probability']:.2f}")
        groups.append((title, [("frames", clip["video"], "frames"), *_tsr_rows(result["maps"], block_size),
                               ("true motion\n|u|", clip["motion"], "unsigned")]))
    length = len(next(iter(examples.clips.values()))["video"])
    return saliency_grid(groups, _spread_frames(length), panel_size=1.0)


def tsr_own_clip(video: Any, explained: Mapping[str, Mapping[str, Any]], classes: Sequence[str], block_size: int):
    """A reader's clip explained by every model: per model the frames and every map, for the model's prediction.

    Parameters
    ----------
    video : torch.Tensor
        The clip ``(T, 1, H, W)`` at the models' input.
    explained : mapping
        Run → :func:`~vidsal_study.chapters.tsr.study.explain`'s result on the clip.
    classes : sequence of str
        The models' classes.
    block_size : int
        TSR's block side (named in its row).

    Returns
    -------
    matplotlib.figure.Figure
    """

    groups = [(f"{model_label(run_name)} · your clip, explaining its prediction '{classes[result['target']]}' "
               f"(p = {result['probability']:.2f})", [("frames", video, "frames"), *_tsr_rows(result["maps"], block_size)])
              for run_name, result in explained.items()]
    return saliency_grid(groups, _spread_frames(len(video)), panel_size=1.0)


def tsr_intervals(findings: Any):
    """Legs share, ρ with the true motion and ρ with Farnebäck of every map, with 95% intervals, both models.

    A panel per score, a row per map, a marker per model; dotted: the legs'
    share of the area (legs) or 0 (correlations).

    Parameters
    ----------
    findings : :class:`~vidsal_study.chapters.tsr.findings.TSRFindings`
        The maps' estimates.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    runs, estimates = findings.runs, findings.estimates
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), sharey=True)
    colours = {run_name: colour for run_name, colour in zip(runs, TSR_MODEL_COLOURS)}
    positions = np.arange(len(METHODS))
    for axis, metric in zip(axes, ["legs", "rho_true", "rho_farneback"]):
        for shift, run_name in zip([-0.12, 0.12], runs):
            scale = 100.0 if metric == "legs" else 1.0
            values = [estimates.get((run_name, method, metric)) for method in METHODS]
            keep = [i for i, value in enumerate(values) if value is not None]
            axis.errorbar([scale * values[i].mean for i in keep], positions[keep] + shift,
                          xerr=[[scale * (values[i].mean - values[i].low) for i in keep],
                                [scale * (values[i].high - values[i].mean) for i in keep]],
                          fmt="o", color=colours[run_name], label=model_label(run_name), markersize=4, capsize=2)
        if metric == "legs":
            chance = 100.0 * estimates[runs[0], "chance", "legs"].mean
            axis.axvline(chance, color="gray", linestyle=":", label="chance (the legs' share of the area)")
        else:
            axis.axvline(0, color="gray", linestyle=":")
        axis.set_xlabel(METRICS[metric])
    axes[0].set_yticks(positions, [METHOD_LABELS[m] for m in METHODS])
    axes[0].invert_yaxis()
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


def tsr_mass_profiles(examples: Any, action: str = "running"):
    """Each map's share of its mass per frame of one example clip, a panel per model, with the person's visibility.

    Shaded: the frames TSR (blocks) selects; dashed, right axis: the share of
    the person in view. Over the ``T − 1`` frames every map has.

    Parameters
    ----------
    examples : :class:`~vidsal_study.chapters.tsr.study.Examples`
        The example clips and their explanations.
    action : str, default "running"
        The clip drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    if action not in examples.clips:
        raise ConfigError(f"action={action!r}: choose one of the example clips {list(examples.clips)}")
    runs = examples.runs
    fig, axes = plt.subplots(1, len(runs), figsize=(9, 2.8), sharey=True, squeeze=False)
    clip = examples.clips[action]
    clip_length = len(clip["video"])
    frames_axis = np.arange(clip_length - 1)
    for axis, run_name in zip(axes[0], runs):
        result = examples.explained[run_name, action]
        for method in METHODS:
            values = result["maps"][method]
            mass = (values.abs().sum(dim=1) if values.dim() == 4 else values.abs()).sum(dim=(1, 2))[:clip_length - 1].double()
            axis.plot(frames_axis, (mass / mass.sum()).numpy(), label=METHOD_LABELS[method], marker=".", markersize=3)
        for t in result["tsr"]["tsr_blocks"].selected.nonzero().flatten().tolist():
            if t < clip_length - 1:
                axis.axvspan(t - 0.5, t + 0.5, color="tab:green", alpha=0.08, linewidth=0)
        twin = axis.twinx()
        twin.plot(frames_axis, clip["visibility"][:clip_length - 1].numpy(), color="black", linestyle="--",
                  label="visibility")
        twin.set_ylim(0, 1.05)
        twin.set_ylabel("share of the person in view" if run_name == runs[-1] else "")
        axis.set_title(f"{model_label(run_name)} · {action}, person {examples.entries[action]['person']}")
        axis.set_xlabel("frame of the clip")
    axes[0][0].set_ylabel("share of the map's mass")
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
