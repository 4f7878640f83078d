"""The border chapter's figures: they draw what the chapter's study computed."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib
import numpy as np

from vidsal_core.plot import line_with_band
from vidsal_core.metrics.relevance import effect_estimates, linear_curve, quadratic_curve, share_summary
from vidsal_study.chapters.border import EXPLANATION_COLOURS, EXPLANATIONS, TABLE_SCALE
from vidsal_core.errors import ConfigError
from vidsal_study.chapters.border import bias_share
from vidsal_study.chapters.border import TOP_K


def share_distribution(axis: Any, frame: Any, explanation: str, title: str | None = None) -> None:
    """Seed 002's Fig. 2 for one explanation: the spread of share vectors, their mean with its CI, both fits.

    The spread is drawn as bands between the 5th–95th and 25th–75th
    percentiles over clips (red); the mean share per frame with its 95%
    interval (blue); the fitted quadratic (border, green) and linear
    (lookahead, cyan) models of the mean; the dotted line is a uniform share.

    Parameters
    ----------
    axis : matplotlib axes
        Where to draw.
    frame : pandas.DataFrame
        :func:`vidsal_study.chapters.border.results_frame` of a sweep (its
        ``explanation``, ``share`` and ``group`` columns).
    explanation : str
        The rows drawn (a key of :data:`vidsal_study.chapters.border.EXPLANATIONS`).
    title : str, optional
        The axes' title (default ``explanation``).
    """

    part = frame[frame["explanation"] == explanation]
    shares = np.stack(part["share"].to_numpy())
    keep = np.isfinite(shares).all(axis=1)
    summary = share_summary(shares[keep], part["group"].to_numpy()[keep])
    estimates = effect_estimates(shares[keep], part["group"].to_numpy()[keep])
    n_frames = shares.shape[1]
    t = np.arange(n_frames)
    axis.fill_between(t, summary.quantiles[0.05], summary.quantiles[0.95], color="tab:red", alpha=0.15, linewidth=0,
                      label="5–95 % of clips")
    axis.fill_between(t, summary.quantiles[0.25], summary.quantiles[0.75], color="tab:red", alpha=0.3, linewidth=0,
                      label="25–75 % of clips")
    line_with_band(axis, t, summary.mean, summary.low, summary.high, label="mean (95 % CI)", colour="tab:blue")
    axis.plot(t, quadratic_curve(estimates.quadratic, n_frames), color="tab:green", label="quadratic fit (border)")
    axis.plot(t, linear_curve(estimates.linear, n_frames), color="c", linestyle="--", label="linear fit (lookahead)")
    axis.axhline(1.0 / n_frames, color="0.5", linestyle=":", linewidth=0.8)
    axis.set_xlabel("frame in the snippet")
    axis.set_title(title or explanation, fontsize=9)


def step_axis(axis: Any, steps: Sequence[int]) -> None:
    """A step-size x axis: linear up to 1, logarithmic beyond, one labelled tick per step of the sweep."""
    axis.set_xscale("symlog", linthresh=1, linscale=0.5)
    axis.set_xticks(list(steps))
    axis.set_xticklabels([str(step) for step in steps])
    axis.minorticks_off()
    axis.set_xlabel("step")


def effect_sweep(axis: Any, effects: Any, x: str, coefficient: str, explanations: Sequence[str] | None = None,
                 scale: float | None = None) -> None:
    """A coefficient (``"border"`` or ``"lookahead"``) against a sweep variable, one line and 95% band per explanation.

    Parameters
    ----------
    axis : matplotlib axes
        Where to draw.
    effects : pandas.DataFrame
        :func:`vidsal_study.chapters.border.effects_by` over ``x`` and ``"explanation"``.
    x : str
        The sweep variable (``"step"``, ``"offset"``).
    coefficient : {"border", "lookahead"}
        The coefficient drawn.
    explanations : sequence of str, optional
        The lines, in order (default every key of
        :data:`~vidsal_study.chapters.border.EXPLANATIONS`), each in its colour of
        :data:`~vidsal_study.chapters.border.EXPLANATION_COLOURS`.
    scale : float, optional
        Factor of the coefficients (default
        :data:`~vidsal_study.chapters.border.TABLE_SCALE`, percentage points).
    """

    explanations = tuple(EXPLANATIONS) if explanations is None else explanations
    scale = TABLE_SCALE if scale is None else scale
    for name in explanations:
        part = effects[effects["explanation"] == name].sort_values(x)
        if part.empty or coefficient not in part:
            continue
        line_with_band(axis, part[x], part[coefficient] * scale, part[f"{coefficient}_low"] * scale,
                       part[f"{coefficient}_high"] * scale, label=name, colour=EXPLANATION_COLOURS.get(name), marker="o")
    axis.axhline(0.0, color="0.5", linewidth=0.8)
    axis.set_xlabel(x)
    axis.set_ylabel(f"{coefficient} coefficient (×{scale:g})")


def share_distributions(panels: Mapping[str, Any]):
    """Seed 002's Fig. 2 for several sweeps: a row of :func:`share_distribution` per sweep, a column per explanation.

    The columns are DTD, DTD-u and SA, then Grad-CAM and Grad-CAM-4 where
    every sweep has them; the legend sits on the first row's last panel.

    Parameters
    ----------
    panels : mapping of str to pandas.DataFrame
        Row label (e.g. ``"C3D · SynthKTH"``) → :func:`vidsal_study.chapters.border.results_frame` of an
        offset sweep; sweeps without clips are left out.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    rows = [(label, frame) for label, frame in panels.items() if len(frame)]
    if not rows:
        raise ConfigError("panels: no sweep with clips")
    order = ["DTD", "DTD-u", "SA"] + [name for name in ("Grad-CAM", "Grad-CAM-4")
                                     if all((frame["explanation"] == name).any() for _, frame in rows)]
    figure, axes = plt.subplots(len(rows), len(order), figsize=(3 * len(order), 2.4 * len(rows)), squeeze=False)
    for row, (label, frame) in enumerate(rows):
        for column, name in enumerate(order):
            share_distribution(axes[row][column], frame, name, title=f"{label} · {name}")
        axes[row][0].set_ylabel("share of relevance")
    axes[0][-1].legend(fontsize=7, loc="upper center")
    figure.tight_layout()
    return figure


def bias_share_dots(frames: Mapping[str, Any]):
    """The relevance the biases absorb, ``1 − ΣR``: a dot per clip and deep Taylor explanation, a panel per sweep.

    Dots are spread sideways by a fixed random jitter (seeded by the
    explanation's position) so that equal values stay visible.

    Parameters
    ----------
    frames : mapping of str to pandas.DataFrame
        Panel title → :func:`vidsal_study.chapters.border.results_frame` (with ``relevance_total``);
        sweeps without clips are left out.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import pandas as pd


    frames = {label: frame for label, frame in frames.items() if len(frame)}
    if not frames:
        raise ConfigError("frames: no sweep with clips")
    figure, axes = plt.subplots(1, len(frames), figsize=(3.2 * len(frames), 2.4), squeeze=False)
    for axis, (label, frame) in zip(axes[0], frames.items()):
        shares = pd.concat([frame["explanation"], bias_share(frame)], axis=1, join="inner")
        names = list(dict.fromkeys(shares["explanation"]))
        for position, name in enumerate(names):
            values = shares.loc[shares["explanation"] == name, "bias_share"].to_numpy()
            jitter = np.random.default_rng(position).uniform(-0.15, 0.15, len(values))
            axis.plot(position + jitter, values, "o", markersize=2.5, alpha=0.6, color=f"C{position}")
        axis.set_xticks(range(len(names)))
        axis.set_xticklabels(names)
        axis.set_title(label, fontsize=8)
    axes[0][0].set_ylabel("1 − ΣR (one dot per clip)")
    figure.tight_layout()
    return figure


def step_sweeps(effects: Mapping[str, Any], train_step: int):
    """The border coefficient against the step size: one panel per sweep, one line and 95% band per explanation.

    Parameters
    ----------
    effects : mapping of str to pandas.DataFrame
        Panel title → :func:`vidsal_study.chapters.border.effects_by` over ``["step", "explanation"]``.
    train_step : int
        The step C3D was trained at, marked by a dotted line on the first panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    if not effects:
        raise ConfigError("effects: no panel")
    figure, axes = plt.subplots(1, len(effects), figsize=(3.3 * len(effects), 2.8), squeeze=False)
    for axis, (label, table) in zip(axes[0], effects.items()):
        effect_sweep(axis, table, "step", "border")
        step_axis(axis, sorted(table["step"].unique()))
        axis.set_title(label, fontsize=9)
    axes[0][0].axvline(train_step, color="0.3", linestyle=":", linewidth=1)
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def step_accuracy(accuracy: Any, effects: Any, train_step: int, scale: float | None = None):
    """Top-k accuracy against the step (left) and top-1 accuracy against DTD's border coefficient (right).

    Parameters
    ----------
    accuracy : pandas.DataFrame
        :func:`vidsal_study.chapters.border.accuracy_by` over ``["step"]`` (``top<k>`` with ``_low``, ``_high``).
    effects : pandas.DataFrame
        :func:`vidsal_study.chapters.border.effects_by` of the step sweep over ``["step", "explanation"]``
        (its DTD rows are drawn).
    train_step : int
        The training step, marked by a dotted line.
    scale : float, optional
        Factor of the coefficients (default :data:`~vidsal_study.chapters.border.TABLE_SCALE`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    scale = TABLE_SCALE if scale is None else scale
    missing = [f"top{k}" for k in TOP_K if f"top{k}" not in accuracy]
    if missing:
        raise ConfigError(f"accuracy: no columns {missing} (accuracy_by over ['step'])")
    border_dtd = effects[effects["explanation"] == "DTD"].set_index("step")
    figure, axes = plt.subplots(1, 2, figsize=(9, 3))
    for k, colour in zip(TOP_K, ("C0", "C1", "C2")):
        line_with_band(axes[0], accuracy["step"], accuracy[f"top{k}"], accuracy[f"top{k}_low"],
                       accuracy[f"top{k}_high"], label=f"top-{k}", colour=colour, marker="o")
    axes[0].axvline(train_step, color="0.3", linestyle=":", linewidth=1)
    step_axis(axes[0], accuracy["step"].tolist())
    axes[0].set_ylabel("accuracy (95 % CI)")
    axes[0].set_ylim(0, 1.02)
    axes[0].legend(fontsize=7)
    joined = accuracy.set_index("step").join(border_dtd[["border"]])
    axes[1].plot(joined["border"] * scale, joined["top1"], marker="o", color="C0")
    for step, row in joined.iterrows():
        axes[1].annotate(f"step {step}", (row["border"] * scale, row["top1"]), fontsize=7,
                         xytext=(3, 3), textcoords="offset points")
    axes[1].set_xlabel(f"DTD border coefficient (×{scale:g})")
    axes[1].set_ylabel("top-1 accuracy")
    figure.tight_layout()
    return figure


def title_card_lookahead(effects: Mapping[str, Any], title_frames: int, straddling: Sequence[int] = (),
                         scale: float | None = None):
    """The lookahead coefficient against the offset with (dashed) and without (solid) an opening title card.

    One panel per explanation; the offsets whose snippet straddles the cut are shaded.

    Parameters
    ----------
    effects : mapping of str to pandas.DataFrame
        Explanation → :func:`vidsal_study.chapters.border.effects_by` of its rows over
        ``["offset", "title_frames"]`` (:attr:`~vidsal_study.chapters.border.TitleCardFindings.effects`).
    title_frames : int
        The card's length (rows with 0 have no card).
    straddling : sequence of int
        Offsets whose snippet straddles the cut.
    scale : float, optional
        Factor of the coefficients (default :data:`~vidsal_study.chapters.border.TABLE_SCALE`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt


    if not effects:
        raise ConfigError("effects: no explanation")
    scale = TABLE_SCALE if scale is None else scale
    figure, axes = plt.subplots(1, len(effects), figsize=(4.5 * len(effects), 2.8), squeeze=False)
    for axis, (name, table) in zip(axes[0], effects.items()):
        for card, style in ((0, "-"), (title_frames, "--")):
            part = table[table["title_frames"] == card].sort_values("offset")
            line_with_band(axis, part["offset"], part["lookahead"] * scale, part["lookahead_low"] * scale,
                           part["lookahead_high"] * scale, colour=EXPLANATION_COLOURS.get(name), marker="o",
                           label=f"{name}, " + ("no card" if card == 0 else f"card of {card} frames"))
            axis.lines[-1].set_linestyle(style)
        if len(straddling):
            axis.axvspan(min(straddling), max(straddling), color="0.85", zorder=0)
        axis.axhline(0.0, color="0.5", linewidth=0.8)
        axis.set_xlabel("offset")
        axis.set_ylabel(f"lookahead coefficient (×{scale:g})")
        axis.legend(fontsize=7)
    figure.tight_layout()
    return figure
