"""The one place for figure style: colour maps, percentile clipping, frame strips.

Conventions (see STYLE.md):

- *signed* maps (raw gradients, LRP relevance) use a diverging colour map
  centred on zero (:data:`SIGNED_CMAP`), scaled symmetrically;
- *unsigned* maps (|gradient|, TSR, flow magnitude) use a sequential colour map
  (:data:`UNSIGNED_CMAP`) from zero;
- both are clipped at a percentile so that a few extreme values don't wash out
  the map, as captum's ``visualize_image_attr(..., outlier_perc=2)`` does;
- frame strips label each frame with its index; time series use the frame axis;
- every chapter calls :func:`setup` once, after importing pyplot, for the
  house figure resolution and font size (:data:`STYLE`).

The border chapters' figures live here too (:func:`share_distribution`,
:func:`step_axis`, :func:`effect_sweep`, and at the end of the module
:func:`share_distributions`, :func:`bias_share_dots`, :func:`step_sweeps`,
:func:`step_accuracy`, :func:`title_card_lookahead`): they draw what
:mod:`vidsal_study.chapters.border` computes, which draws nothing itself.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib
import numpy as np

#: Diverging colour map for signed maps, centred on zero.
SIGNED_CMAP = "bwr"
#: Sequential colour map for unsigned maps.
UNSIGNED_CMAP = "inferno"
#: Percent of the largest |values| clipped before scaling (captum's default is 2).
OUTLIER_PERC = 2.0
#: Matplotlib settings of every chapter's figures (:func:`setup`): 100 dpi on screen and on disk, 9 pt text.
STYLE: dict[str, Any] = {"figure.dpi": 100, "savefig.dpi": 100, "font.size": 9}


def setup(overrides: Mapping[str, Any] | None = None) -> None:
    """Apply the house figure style (:data:`STYLE`) to matplotlib's settings, once per chapter.

    Every chapter calls this right after importing ``matplotlib.pyplot``, in
    place of repeating the same ``plt.rcParams.update`` line: figures are
    drawn at 100 dots per inch on screen and when saved, with 9-point text.
    ``overrides`` (matplotlib rc keys) are applied after :data:`STYLE`, for a
    chapter that needs something else; the settings stay in force for the
    rest of the process, as ``rcParams.update`` does.

    Parameters
    ----------
    overrides : mapping, optional
        Further rc settings, e.g. ``{"font.size": 8}``.
    """
    import matplotlib.pyplot as plt

    plt.rcParams.update({**STYLE, **dict(overrides or {})})


def as_numpy(array) -> np.ndarray:
    """A torch tensor or array-like as a NumPy array (detached, on the CPU)."""
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    return np.asarray(array)


def normalise_map(values, signed: bool, outlier_perc: float = OUTLIER_PERC) -> np.ndarray:
    """Scale a map to [-1, 1] (signed) or [0, 1] (unsigned), clipping outliers.

    The scale is the ``100 - outlier_perc`` percentile of ``|values|`` over the
    whole array (all frames together, so frames stay comparable), as captum's
    ``_normalize_scale`` does. An all-zero map stays zero.

    Parameters
    ----------
    values : array-like
        Any shape, e.g. ``(T, H, W)``.
    signed : bool
        Keep the sign (diverging map) or take absolute values (sequential map).
    outlier_perc : float
        Percent of the largest magnitudes to clip (default 2).
    """
    values = as_numpy(values).astype(np.float64)
    magnitude = np.abs(values)
    scale = np.percentile(magnitude, 100.0 - outlier_perc) if magnitude.size else 0.0
    if not np.isfinite(scale) or scale <= 0:
        scale = magnitude.max() if magnitude.size and magnitude.max() > 0 else 1.0
    scaled = (values if signed else magnitude) / scale
    return np.clip(scaled, -1.0 if signed else 0.0, 1.0)


def colourise(values, signed: bool, outlier_perc: float = OUTLIER_PERC, cmap: str | None = None) -> np.ndarray:
    """Map values to RGB uint8 ``(..., 3)`` with the house colour maps."""
    scaled = normalise_map(values, signed, outlier_perc)
    colour_map = matplotlib.colormaps[cmap or (SIGNED_CMAP if signed else UNSIGNED_CMAP)]
    unit = (scaled + 1.0) / 2.0 if signed else scaled
    return (colour_map(unit)[..., :3] * 255).round().astype(np.uint8)


def gray_frames(video) -> np.ndarray:
    """``(T, C, H, W)`` in [0, 1] to ``(T, H, W, 3)`` uint8 (channel mean if C = 3)."""
    video = as_numpy(video)
    if video.ndim != 4:
        from vidsal_core.errors import ConfigError

        raise ConfigError(f"video: expected (T, C, H, W), got shape {video.shape}")
    gray = video.mean(axis=1) if video.shape[1] != 1 else video[:, 0]
    gray = (np.clip(gray, 0, 1) * 255).round().astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)


def overlay(video, values, signed: bool, alpha: float = 0.6, outlier_perc: float = OUTLIER_PERC) -> np.ndarray:
    """Blend a colourised map ``(T, H, W)`` over the video's frames: ``(T, H, W, 3)`` uint8.

    Where the map is zero the frame shows through; opacity grows with |value|.
    """
    frames = gray_frames(video).astype(np.float64)
    colours = colourise(values, signed, outlier_perc).astype(np.float64)
    weight = alpha * np.abs(normalise_map(values, signed, outlier_perc))[..., None]
    return (frames * (1 - weight) + colours * weight).round().astype(np.uint8)


def frame_strip(axes_row: Sequence, images, frame_indices: Sequence[int], label: str | None = None,
                **imshow_options) -> None:
    """Draw images into a row of matplotlib axes, titled with their frame index."""
    for axis, image, index in zip(axes_row, images, frame_indices):
        axis.imshow(image, **imshow_options)
        axis.set_title(f"t={index}", fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    if label:
        axes_row[0].set_ylabel(label, fontsize=9)


#: Row kinds of :func:`saliency_grid`: a video's frames, a signed map, an unsigned map.
ROW_KINDS: tuple[str, ...] = ("frames", "signed", "unsigned")


def saliency_grid(groups: Sequence[tuple[str, Sequence[tuple[str, object, str]]]], frame_indices: Sequence[int],
                  outlier_perc: float = OUTLIER_PERC, panel_size: float = 1.1):
    """A figure of frame strips: for each video a block of rows (frames, then maps), columns = frames.

    Every map is scaled over *all* its frames (so frames stay comparable),
    clipped at the ``100 - outlier_perc`` percentile, and drawn with the house
    colour maps: diverging and centred on zero for ``"signed"`` rows,
    sequential from zero for ``"unsigned"`` rows. The row label says which.

    Parameters
    ----------
    groups : sequence of (title, rows)
        One group per video. ``rows`` is a sequence of ``(label, values, kind)``:
        ``kind="frames"`` with a ``(T, C, H, W)`` video in [0, 1], or
        ``"signed"`` / ``"unsigned"`` with ``(T, H, W)`` or ``(T, C, H, W)``
        values (channels are summed; unsigned maps take ``|·|`` first). A map
        may have fewer frames than the video (Farneback flow has ``T - 1``):
        columns past its end stay blank.
    frame_indices : sequence of int
        The frames to show, one column each, titled ``t=<index>``.
    outlier_perc : float, default 2
        Percent of the largest magnitudes clipped (captum's ``outlier_perc``).
    panel_size : float, default 1.1
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_core.errors import ConfigError

    rows_total = sum(len(rows) for _, rows in groups)
    if rows_total == 0 or not len(frame_indices):
        raise ConfigError("saliency_grid: needs at least one row and one frame")
    columns = len(frame_indices)
    first_values = as_numpy(groups[0][1][0][1])
    aspect = first_values.shape[-2] / first_values.shape[-1]  # frame height / width
    label_width, title_height, gap = 1.9, 0.35, 0.25  # inches: row labels, each video's title, frame index titles
    panel_height = panel_size * aspect
    width = panel_size * columns + label_width
    heights = []
    for _, rows in groups:
        heights += [title_height] + [panel_height + gap] * len(rows)
    figure = plt.figure(figsize=(width, sum(heights)))
    grid = figure.add_gridspec(len(heights), columns, height_ratios=heights, left=label_width / width, right=0.99,
                               top=0.995, bottom=0.005, wspace=0.04, hspace=0.0)
    line = 0
    for title, rows in groups:
        title_axis = figure.add_subplot(grid[line, :])
        title_axis.axis("off")
        title_axis.text(0.0, 0.1, title, fontsize=10, fontweight="bold", ha="left", va="bottom",
                        transform=title_axis.transAxes)
        line += 1
        for position, (label, values, kind) in enumerate(rows):
            if kind not in ROW_KINDS:
                raise ConfigError(f"saliency_grid: row {label!r} has kind {kind!r}; choose one of {list(ROW_KINDS)}")
            if kind == "frames":
                images = gray_frames(values)
                text = label
            else:
                array = as_numpy(values).astype(np.float64)
                if array.ndim == 4:
                    array = (array if kind == "signed" else np.abs(array)).sum(axis=1)
                images = colourise(array, signed=kind == "signed", outlier_perc=outlier_perc)
                text = f"{label}\n({'diverging, 0 = white' if kind == 'signed' else 'sequential'})"
            cell = grid[line, :].subgridspec(2, columns, height_ratios=[gap, panel_height], wspace=0.04, hspace=0.0)
            axes_row = [figure.add_subplot(cell[1, column]) for column in range(columns)]
            shown = [index for index in frame_indices if index < len(images)]
            frame_strip(axes_row[:len(shown)], [images[index] for index in shown], shown, text)
            for axis in axes_row[len(shown):]:
                axis.axis("off")
            if position:  # frame indices once per video, above its first row
                for axis in axes_row:
                    axis.set_title("")
            line += 1
    return figure


def line_with_band(axis, x, mean, low, high, label: str | None = None, colour=None, marker: str | None = None,
                   alpha: float = 0.25) -> None:
    """A mean as a line and its confidence interval as a shaded band of the same colour.

    Parameters
    ----------
    axis : matplotlib axes
        Where to draw.
    x, mean, low, high : array-like
        Positions (frames, steps, offsets), the mean and its interval's ends.
    label : str, optional
        Legend entry of the line.
    colour : optional
        Matplotlib colour (default: the axes' next colour).
    marker : str, optional
        Marker of the line's points (e.g. ``"o"`` for a sweep over few settings).
    alpha : float, default 0.25
        Opacity of the band.
    """
    line, = axis.plot(as_numpy(x), as_numpy(mean), label=label, color=colour, marker=marker, markersize=3)
    axis.fill_between(as_numpy(x), as_numpy(low), as_numpy(high), color=line.get_color(), alpha=alpha, linewidth=0)


# --- the border chapters' figures (what vidsal_study.chapters.border computes) ----------------------------------


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
    from vidsal_core.metrics.relevance import effect_estimates, linear_curve, quadratic_curve, share_summary

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
    from vidsal_study.chapters.border import EXPLANATION_COLOURS, EXPLANATIONS, TABLE_SCALE

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


# --- the evaluation chapter's figures (what vidsal_study.chapters.evaluation.study computes) ---------------------

#: Methods whose deletion and insertion curves :func:`evaluation_deletion_curves` draws, in order (those swept).
EVALUATION_CURVE_METHODS: tuple[str, ...] = ("input_gradient", "integrated_gradients", "frame_occlusion", "tsr",
                                             "deep_taylor", "grad_cam", "flow", "random")


def _steps_with_values(part: Any) -> list:
    """The randomisation steps of ``part`` with a finite correlation (every map constant gives NaN: left out)."""
    return [step for step in sorted(part["step"].unique())
            if np.isfinite(part[part["step"] == step]["spearman_frames"].to_numpy(float)).any()]


def method_intervals(axis: Any, table: Any, run: str, metric: str, chance: float | None = None,
                     title: str | None = None) -> None:
    """One model's means and 95% intervals of ``metric``, one row per method (baselines in grey).

    Parameters
    ----------
    axis : matplotlib axes
        Where to draw.
    table : pandas.DataFrame
        :func:`vidsal_study.chapters.evaluation.study.summary_table` of the sweep.
    run, metric : str
        The model and the metric drawn; methods in the order of
        :data:`~vidsal_study.chapters.evaluation.study.METHODS`, flow and random in grey.
    chance : float, optional
        A dotted vertical line at the chance level.
    title : str, optional
        The axes' title (default ``run``).
    """
    from vidsal_study.chapters.evaluation.study import METHOD_LABELS, METHODS

    part = table[(table["model"] == run) & (table["metric"] == metric)].dropna(subset=["mean"])
    part = part.set_index("method").reindex([m for m in METHODS if m in set(part["method"])])
    y = np.arange(len(part))
    colours = ["0.6" if m in ("random", "flow") else "C0" for m in part.index]
    axis.errorbar(part["mean"], y, xerr=[part["mean"] - part["low"], part["high"] - part["mean"]], fmt="none",
                  ecolor=colours, elinewidth=1.2)
    axis.scatter(part["mean"], y, c=colours, s=14, zorder=3)
    axis.set_yticks(y, [METHOD_LABELS[m] for m in part.index], fontsize=8)
    axis.invert_yaxis()
    if chance is not None:
        axis.axvline(chance, color="k", linestyle=":", linewidth=0.8)
    axis.set_title(title or run, fontsize=9)


def evaluation_localisation(table: Any, runs: Sequence[str]):
    """Per-frame AUROC of the person (top, chance 0.5) and the pointing game (bottom), one column per model.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`vidsal_study.chapters.evaluation.study.summary_table` of the sweep.
    runs : sequence of str
        The models, one column each.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, len(runs), figsize=(3.3 * len(runs), 6.2), squeeze=False)
    for column, run in enumerate(runs):
        method_intervals(axes[0][column], table, run, "auroc_person", 0.5, f"{run}\nper-frame AUROC, person")
        method_intervals(axes[1][column], table, run, "pointing", None, "pointing game hit rate")
        if column:
            for axis in axes[:, column]:
                axis.set_yticklabels([])
    figure.tight_layout()
    return figure


def evaluation_deletion_curves(results: Any, runs: Sequence[str],
                               methods: Sequence[str] = EVALUATION_CURVE_METHODS):
    """Deletion (top) and insertion (bottom) of frames per model: means over clips with 95% bands over persons.

    Parameters
    ----------
    results : pandas.DataFrame
        :func:`vidsal_study.chapters.evaluation.study.run_items` (curves ``frames_deletion``,
        ``frames_insertion``, ``frames_fractions`` and ``person``).
    runs : sequence of str
        The models, one column each.
    methods : sequence of str
        The methods drawn, those in ``results`` (default :data:`EVALUATION_CURVE_METHODS`); random in black.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_study.chapters.evaluation.study import METHOD_LABELS
    from vidsal_core.statistics import mean_interval

    methods = [m for m in methods if m in set(results["method"])]
    figure, axes = plt.subplots(2, len(runs), figsize=(3.3 * len(runs), 5.4), squeeze=False, sharey=True)
    for column, run in enumerate(runs):
        for row, mode in enumerate(("deletion", "insertion")):
            axis = axes[row][column]
            for index, method in enumerate(methods):
                part = results[(results["model"] == run) & (results["method"] == method)]
                if part.empty:
                    continue
                curves = np.stack(part[f"frames_{mode}"].to_numpy())
                fractions = np.asarray(part["frames_fractions"].iloc[0])
                groups = part["person"].tolist()
                bands = [mean_interval(curves[:, point], groups) for point in range(curves.shape[1])]
                line_with_band(axis, fractions, [b.mean for b in bands], [b.low for b in bands],
                               [b.high for b in bands], label=METHOD_LABELS[method],
                               colour="k" if method == "random" else f"C{index}")
            axis.set_title(f"{run} · {mode} of frames", fontsize=9)
            axis.set_xlabel(f"share of frames {'deleted' if mode == 'deletion' else 'inserted'}")
        axes[0][column].set_ylim(0, 1.02)
    axes[0][0].set_ylabel("probability of the predicted class")
    axes[1][0].set_ylabel("probability of the predicted class")
    axes[0][-1].legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    return figure


def evaluation_randomisation(randomised: Any, runs: Sequence[str], methods: Sequence[str]):
    """Cascading randomisation per model: per-frame Spearman with the trained maps against the layers re-initialised.

    Means over clips with 95% bands over persons; steps where every map is
    constant (no correlation) are left out; lines at 0 and (dotted) 0.5.

    Parameters
    ----------
    randomised : pandas.DataFrame
        :func:`vidsal_study.chapters.evaluation.study.randomisation_frames` with a ``person`` column.
    runs : sequence of str
        The models, one panel each.
    methods : sequence of str
        The methods drawn (those in ``randomised``), in order.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_study.chapters.evaluation.study import METHOD_LABELS
    from vidsal_core.statistics import mean_interval

    methods = [m for m in methods if m in set(randomised["method"])]
    figure, axes = plt.subplots(1, len(runs), figsize=(3.3 * len(runs), 2.8), squeeze=False, sharey=True)
    for column, run in enumerate(runs):
        axis = axes[0][column]
        for index, method in enumerate(methods):
            part = randomised[(randomised["model"] == run) & (randomised["method"] == method)]
            steps = _steps_with_values(part) if not part.empty else []
            if not steps:
                continue
            bands = [mean_interval(part[part["step"] == s]["spearman_frames"].to_numpy(float),
                                   part[part["step"] == s]["person"].to_numpy()) for s in steps]
            line_with_band(axis, steps, [b.mean for b in bands], [b.low for b in bands], [b.high for b in bands],
                           label=METHOD_LABELS[method], colour=f"C{index}", marker="o")
        axis.axhline(0, color="k", linewidth=0.6)
        axis.axhline(0.5, color="k", linewidth=0.6, linestyle=":")
        axis.set_title(run, fontsize=9)
        axis.set_xlabel("top layers re-initialised")
    axes[0][0].set_ylabel("per-frame rank correlation\nwith the trained model's map")
    axes[0][-1].legend(fontsize=7)
    figure.tight_layout()
    return figure


def evaluation_i3d(faith: Any, randomised: Any, methods: Sequence[str], randomisation_methods: Sequence[str]):
    """I3D on real footage: deletion of frames (left) and cascading randomisation in coarse stages (right).

    Means over clips with 95% bands (each clip its own unit); a method keeps
    its colour in both panels (its place in ``methods``); random is black.

    Parameters
    ----------
    faith, randomised : pandas.DataFrame
        :func:`vidsal_study.chapters.evaluation.study.i3d_frames`' two frames.
    methods, randomisation_methods : sequence of str
        The methods of each panel (``evaluation_chapter.i3d``); every randomised method is among ``methods``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_study.chapters.evaluation.study import METHOD_LABELS
    from vidsal_core.statistics import mean_interval

    figure, axes = plt.subplots(1, 2, figsize=(8.0, 2.9))
    for index, method in enumerate(methods):
        part = faith[faith["method"] == method]
        curves = np.stack(part["deletion"].to_numpy())
        bands = [mean_interval(curves[:, point]) for point in range(curves.shape[1])]
        line_with_band(axes[0], np.asarray(part["fractions"].iloc[0]), [b.mean for b in bands],
                       [b.low for b in bands], [b.high for b in bands], label=METHOD_LABELS[method],
                       colour="k" if method == "random" else f"C{index}")
    axes[0].set_xlabel("share of frames deleted")
    axes[0].set_ylabel("probability of I3D's class")
    axes[0].set_title("deletion of frames", fontsize=9)
    axes[0].legend(fontsize=7)
    for method in randomisation_methods:
        part = randomised[randomised["method"] == method]
        steps = _steps_with_values(part)
        bands = [mean_interval(part[part["step"] == s]["spearman_frames"].to_numpy(float)) for s in steps]
        if steps:
            line_with_band(axes[1], steps, [b.mean for b in bands], [b.low for b in bands], [b.high for b in bands],
                           label=METHOD_LABELS[method], colour=f"C{list(methods).index(method)}", marker="o")
    names = part.drop_duplicates("step").sort_values("step")["stage"].tolist()
    axes[1].set_xticks(range(len(names)), names, fontsize=8)
    axes[1].axhline(0, color="k", linewidth=0.6)
    axes[1].set_xlabel("layers re-initialised (cumulative, from the top)")
    axes[1].set_ylabel("per-frame rank correlation\nwith the trained model's map")
    axes[1].axhline(0.5, color="k", linewidth=0.6, linestyle=":")
    axes[1].set_title("cascading randomisation", fontsize=9)
    axes[1].legend(fontsize=7)
    figure.tight_layout()
    return figure


# --- the vanishing-saliency chapter's figures (what vidsal_study.chapters.vanishing.study computes) -------------------

#: Colour of each model of the vanishing-saliency chapter.
VANISHING_COLOURS = {"LSTM": "tab:blue", "ICA": "tab:orange", "ICA-fixed": "tab:green"}
#: Titles of the vanishing-saliency chapter's saliency methods.
VANISHING_METHOD_TITLES = {"gradient": "input gradient", "integrated_gradients": "Integrated Gradients"}


def _model_title(model: str) -> str:
    return "ICA-LSTM" if model == "ICA" else model


def vanishing_share_curves(records: Sequence[Any], tasks: Sequence[str], methods: Sequence[str]):
    """Mean share of |saliency| per frame (log scale, 95% bands over persons): a panel per (method, task).

    Each panel has the LSTM and the ICA-LSTM, trained (solid) and untrained
    (dashed), and a dotted uniform share ``1/T``.

    Parameters
    ----------
    records : sequence of :class:`~vidsal_study.chapters.vanishing.study.ShareRecord`
        The chapter's sweeps.
    tasks, methods : sequence of str
        The columns and the rows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_core.metrics.relevance import share_summary
    from vidsal_study.chapters.vanishing.study import record_of

    n_frames = records[0].shares.shape[1]
    frames_axis = np.arange(n_frames)
    figure, axes = plt.subplots(len(methods), len(tasks), figsize=(4.2 * len(tasks), 2.8 * len(methods)),
                                squeeze=False, sharex=True)
    for row, method in enumerate(methods):
        for column, task in enumerate(tasks):
            axis = axes[row][column]
            for model in ("LSTM", "ICA"):
                for weights, style in (("trained", "-"), ("untrained", "--")):
                    record = record_of(records, task, model, weights, method)
                    summary = share_summary(record.shares, record.persons)
                    line_with_band(axis, frames_axis, summary.mean, summary.low, summary.high,
                                   label=f"{_model_title(model)} {weights}", colour=VANISHING_COLOURS[model])
                    axis.lines[-1].set_linestyle(style)
            axis.axhline(1 / n_frames, color="gray", linestyle=":", linewidth=1)
            axis.set_yscale("log")
            axis.set_title(f"{task} · {VANISHING_METHOD_TITLES[method]}")
            axis.set_ylabel("share of |saliency|")
            if row == len(methods) - 1:
                axis.set_xlabel("frame of the clip")
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def vanishing_index_intervals(index_table: Any, methods: Sequence[str], threshold: float = float(np.log10(2.0))):
    """The vanishing index of every (task, model, weights) with its 95% interval, a panel per method.

    Filled markers: trained; open: untrained. Dotted: ``V = 0``; dashed: ``V = threshold``.

    Parameters
    ----------
    index_table : pandas.DataFrame
        :meth:`~vidsal_study.chapters.vanishing.study.VanishingFindings.index_table`.
    methods : sequence of str
        The panels.
    threshold : float, default log10 2
        The late-concentration threshold.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    height = 0.9 + 0.32 * len(index_table) / len(methods)
    figure, axes = plt.subplots(1, len(methods), figsize=(4.4 * len(methods), height), squeeze=False, sharey=True)
    for axis, method in zip(axes[0], methods):
        part = index_table[index_table["method"] == method].reset_index(drop=True)
        labels = [f"{r.task} · {_model_title(r.model)} · {r.weights}" for r in part.itertuples()]
        y = np.arange(len(part))[::-1]
        for position, r in zip(y, part.itertuples()):
            colour = VANISHING_COLOURS[r.model]
            trained = r.weights == "trained"
            axis.errorbar(r.V, position, xerr=[[r.V - r.low], [r.high - r.V]], fmt="o" if trained else "s",
                          color=colour, mfc=colour if trained else "white", capsize=3)
        axis.axvline(0, color="gray", linestyle=":", linewidth=1)
        axis.axvline(threshold, color="gray", linestyle="--", linewidth=1)
        axis.set_yticks(y, labels)
        axis.set_xlabel("vanishing index V")
        axis.set_title(VANISHING_METHOD_TITLES[method])
    figure.tight_layout()
    return figure


def vanishing_visibility(records: Sequence[Any], task: str, visible_threshold: float):
    """Left: the trained models' share per frame on all clips and on the clips in view throughout; right: visibility.

    Parameters
    ----------
    records : sequence of :class:`~vidsal_study.chapters.vanishing.study.ShareRecord`
        The chapter's sweeps (the trained LSTM and ICA-LSTM of ``task``, input gradient).
    task : str
        The task drawn.
    visible_threshold : float
        A clip is in view throughout when the person's visibility is at least this on every frame.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_core.metrics.relevance import share_summary
    from vidsal_study.chapters.vanishing.study import record_of

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.0))
    axis = axes[0]
    visibility = record_of(records, task, "LSTM", "trained", "gradient").visibility
    in_view = visibility.min(axis=1) >= visible_threshold
    frames_axis = np.arange(visibility.shape[1])
    for model in ("LSTM", "ICA"):
        record = record_of(records, task, model, "trained", "gradient")
        summary = share_summary(record.shares, record.persons)
        line_with_band(axis, frames_axis, summary.mean, summary.low, summary.high,
                       label=f"{_model_title(model)}, all clips", colour=VANISHING_COLOURS[model])
        if in_view.any():
            view = share_summary(record.shares[in_view], record.persons[in_view])
            line_with_band(axis, frames_axis, view.mean, view.low, view.high,
                           label=f"{_model_title(model)}, in view throughout", colour=VANISHING_COLOURS[model])
            axis.lines[-1].set_linestyle("--")
    axis.axhline(1 / len(frames_axis), color="gray", linestyle=":", linewidth=1)
    axis.set_yscale("log")
    axis.set_xlabel("frame of the clip")
    axis.set_ylabel("share of |gradient|")
    axis.set_title(f"{task} · input gradient · trained")
    axis.legend(fontsize=7)
    axis = axes[1]
    for label, mask, style in (("all clips", np.ones_like(in_view), "-"),
                               ("clips not in view throughout", ~in_view, "--")):
        if mask.any():
            axis.plot(frames_axis, visibility[mask].mean(axis=0), style, color="k",
                      label=f"{label} ({int(mask.sum())})")
    axis.set_ylim(0, 1.05)
    axis.set_xlabel("frame of the clip")
    axis.set_ylabel("mean visibility of the person")
    axis.set_title("where the person is in view")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def vanishing_window(records: Sequence[Any], task: str, window: int | None = None):
    """Share of |input gradient| per frame of the trained LSTM and ICA-LSTM, growing and (with ``window``) fixed window.

    With ``window`` the fixed-window ICA-LSTM (model ``"ICA-fixed"``) is drawn
    too, and a dotted line marks the oldest frame its window reaches at the
    last step; without, a note says that it was not run.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_core.metrics.relevance import share_summary
    from vidsal_study.chapters.vanishing.study import record_of

    curves = [("LSTM", "LSTM"), ("ICA", "ICA-LSTM, growing window")]
    if window is not None:
        curves.append(("ICA-fixed", f"ICA-LSTM, window {window}"))
    figure, axis = plt.subplots(figsize=(5.5, 3.0))
    for model, label in curves:
        record = record_of(records, task, model, "trained", "gradient")
        summary = share_summary(record.shares, record.persons)
        line_with_band(axis, np.arange(record.shares.shape[1]), summary.mean, summary.low, summary.high, label=label,
                       colour=VANISHING_COLOURS[model])
    n_frames = records[0].shares.shape[1]
    if window is not None:
        axis.axvline(n_frames - window - 0.5, color=VANISHING_COLOURS["ICA-fixed"], linestyle=":", linewidth=1)
    else:
        axis.text(0.02, 0.04, "fixed window not run at this profile", transform=axis.transAxes, fontsize=8,
                  color="gray")
    axis.axhline(1 / n_frames, color="gray", linestyle=":", linewidth=1)
    axis.set_yscale("log")
    axis.set_xlabel("frame of the clip")
    axis.set_ylabel("share of |gradient|")
    axis.set_title(f"{task} · input gradient · trained")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


# --- time_contribution chapter figures ---
# (what vidsal_study.chapters.time_contribution.study's study and time_contribution_findings compute)

#: Colour of each model of the time-contribution chapter.
TIME_CONTRIBUTION_COLOURS = {"frame_lstm_binary": "tab:blue", "ica_lstm_binary": "tab:orange"}
#: Heights of a clip's strip of frames, its bars and its truth in :func:`time_contribution_examples`.
_EXAMPLE_HEIGHTS = [1.0, 1.5, 1.1]


def _run_name(run: str) -> str:
    from vidsal_study.chapters.time_contribution.study import MODEL_NAMES

    return MODEL_NAMES.get(run, run)


def contribution_bars(axis: Any, curves: Mapping[str, Any], keyframes: Sequence[int], title: str | None = None) -> None:
    """Bars of time contribution per frame in percentage points, one series per model; keyframes as red triangles.

    Parameters
    ----------
    axis : matplotlib axes
        Where to draw.
    curves : mapping
        Run → ``(T,)`` probability drop per frame (0–1), drawn side by side in :data:`TIME_CONTRIBUTION_COLOURS`.
    keyframes : sequence of int
        Keyframe indices, marked above the axes.
    title : str, optional
        The axes' title.
    """
    frames = np.arange(len(next(iter(curves.values()))))
    width = 0.8 / len(curves)
    for position, (name, curve) in enumerate(curves.items()):
        axis.bar(frames - 0.4 + width * (position + 0.5), 100.0 * np.asarray(curve), width,
                 label=_run_name(name), color=TIME_CONTRIBUTION_COLOURS.get(name))
    axis.axhline(0, color="black", linewidth=0.5)
    axis.plot(keyframes, np.full(len(keyframes), 1.0), "v", color="red", markersize=6, label="keyframe",
              clip_on=False, linestyle="none", transform=axis.get_xaxis_transform())
    axis.set_xlim(-0.6, len(frames) - 0.4)
    axis.set_ylabel("prob. drop (pp)")
    if title:
        axis.set_title(title, fontsize=9, loc="left")


def truth_curves(axis: Any, visibility: Any, limb_motion: Any, differences: Any, keyframes: Sequence[int],
                 threshold: float) -> None:
    """SynthKTH's truth of a clip (visibility, limb motion scaled to its maximum) and the detector's frame difference.

    In-view frames (visibility at least ``threshold``) are shaded, keyframes drawn as red vertical lines.
    """
    frames = np.arange(len(visibility))
    axis.fill_between(frames, 0, 1, where=np.asarray(visibility) >= threshold, step="mid", color="0.9",
                      label="in view")
    axis.plot(frames, visibility, color="tab:green", label="visibility")
    axis.plot(frames, np.asarray(limb_motion) / max(np.max(limb_motion), 1e-9), color="tab:purple",
              label="limb motion (scaled)")
    axis.plot(frames, np.asarray(differences) / max(np.max(differences), 1e-9), color="0.4", linestyle=":",
              label="frame difference (scaled)")
    for frame in keyframes:
        axis.axvline(frame, color="red", linewidth=0.8, alpha=0.6)
    axis.set_xlim(-0.6, len(frames) - 0.4)
    axis.set_ylim(0, 1.05)
    axis.set_xlabel("frame")


def shown_frames(n_frames: int, keyframes: Sequence[int], count: int = 10) -> list[int]:
    """The frames a strip shows: the keyframes, then evenly spread frames far from them, ``count`` in all, in order.

    Examples
    --------
    >>> shown_frames(30, [4, 20], count=4)
    [4, 10, 20, 29]
    """
    count = min(count, n_frames)
    chosen = list(dict.fromkeys(int(k) for k in keyframes))[:count]
    spread = np.linspace(0, n_frames - 1, count).round().astype(int)
    for frame in sorted(spread, key=lambda f: -min([abs(f - other) for other in chosen] or [n_frames])):
        if len(chosen) >= count:
            break
        if frame not in chosen:
            chosen.append(int(frame))
    return sorted(chosen)


def keyframe_strip(figure: Any, spec: Any, video: Any, keyframes: Sequence[int], label: str) -> list:
    """A strip of a clip's frames (:func:`shown_frames`) in ``spec`` of ``figure``, keyframes framed in red.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    spec : matplotlib SubplotSpec
        The cell of the figure's grid the strip fills.
    video : array-like
        ``(T, 1, H, W)`` (or ``(T, H, W)``) in [0, 1].
    keyframes : sequence of int
        Keyframe indices.
    label : str
        The strip's label.

    Returns
    -------
    list of matplotlib axes
        One per frame shown.
    """
    from matplotlib.gridspec import GridSpecFromSubplotSpec

    frames = shown_frames(video.shape[0], keyframes)
    inner = GridSpecFromSubplotSpec(1, len(frames), subplot_spec=spec, wspace=0.05)
    axes = [figure.add_subplot(inner[0, i]) for i in range(len(frames))]
    images = as_numpy(video)[frames]
    frame_strip(axes, images[:, 0] if images.ndim == 4 else images, frames, label=label, cmap="gray", vmin=0, vmax=1)
    keys = {int(k) for k in keyframes}
    for axis, frame in zip(axes, frames):
        if frame in keys:
            axis.title.set_color("red")
            for spine in axis.spines.values():
                spine.set_edgecolor("red")
                spine.set_linewidth(2)
    return axes


def time_contribution_examples(study: Any, examples: Mapping[str, int], videos: Mapping[str, Any]):
    """An example clip per class: its frames, each model's time contribution, and SynthKTH's truth under it.

    Parameters
    ----------
    study : Study
        :func:`vidsal_study.chapters.time_contribution.study.run_study`'s result.
    examples : mapping
        Action → index of its example record (the same clip for every run).
    videos : mapping
        Action → the example's ``(T, 1, H, W)`` clip.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpec

    runs = list(study.records)
    first = study.records[runs[0]]
    figure = plt.figure(figsize=(10, 4.3 * len(examples)))
    outer = GridSpec(3 * len(examples), 1, figure=figure, height_ratios=_EXAMPLE_HEIGHTS * len(examples), hspace=0.5,
                     right=0.78, left=0.08, top=0.97, bottom=0.06)
    for block, (action, index) in enumerate(examples.items()):
        record = first[index]
        keyframe_strip(figure, outer[3 * block], videos[action], record["keyframes"], action)
        bars = figure.add_subplot(outer[3 * block + 1])
        contribution_bars(bars, {run: study.records[run][index]["contribution"][1] for run in runs},
                          record["keyframes"], title=f"{action}: person {record['person']}, {record['scenario']}")
        bars.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        truth = figure.add_subplot(outer[3 * block + 2], sharex=bars)
        truth_curves(truth, record["visibility"], record["limb_motion"], record["differences"], record["keyframes"],
                     study.settings.in_view_threshold)
        truth.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.05))
        if block < len(examples) - 1:
            truth.set_xlabel("")
    return figure


def _band(study: Any, run: str, curve: Any) -> dict:
    from vidsal_study.chapters.time_contribution.study import position_band

    return position_band(100.0 * np.stack([curve(record) for record in study.records[run]]), study.groups(run),
                         study.settings.resamples)


def time_contribution_windows(study: Any):
    """Mean time contribution per frame position for each window (95 % bands over persons), a panel per model.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    runs = list(study.records)
    figure, axes = plt.subplots(1, len(runs), figsize=(9, 3), sharey=True, squeeze=False)
    for axis, run in zip(axes[0], runs):
        for window in study.settings.windows:
            band = _band(study, run, lambda record: record["contribution"][window])
            line_with_band(axis, np.arange(len(band["mean"])), band["mean"], band["low"], band["high"],
                           label=f"window {window}")
        axis.axhline(0, color="black", linewidth=0.5)
        axis.set_title(_run_name(run), fontsize=9)
        axis.set_xlabel("frame")
    axes[0][0].set_ylabel("mean prob. drop (pp)")
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def time_contribution_positions(study: Any):
    """Left: mean single-frame time contribution per frame position; right: the accuracy drop; a line per model.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    runs = list(study.records)
    figure, axes = plt.subplots(1, 2, figsize=(9, 3))
    frames = np.arange(len(study.records[runs[0]][0]["visibility"]))
    for run in runs:
        for axis, curve in zip(axes, (lambda record: record["contribution"][1], lambda record: record["accuracy_drop"])):
            band = _band(study, run, curve)
            line_with_band(axis, frames, band["mean"], band["low"], band["high"], label=_run_name(run),
                           colour=TIME_CONTRIBUTION_COLOURS.get(run))
    for axis, label in zip(axes, ["mean prob. drop (pp)", "accuracy drop (pp)"]):
        axis.axhline(0, color="black", linewidth=0.5)
        axis.set_xlabel("masked frame")
        axis.set_ylabel(label)
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def time_contribution_agreement(study: Any):
    """Every agreement measure above chance (ρ, or AUC − 0.5) with its 95 % interval, a marker per model.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_study.chapters.time_contribution.study import MEASURES

    measures = list(MEASURES)
    figure, axis = plt.subplots(figsize=(8, 3.4))
    for offset, run in zip((-0.15, 0.15), study.records):
        for row, name in enumerate(measures):
            estimate = study.estimate(run, name)
            null = 0.5 if name.startswith("auc") else 0.0
            axis.errorbar(estimate.mean - null, row + offset, xerr=[[estimate.mean - estimate.low],
                          [estimate.high - estimate.mean]], fmt="o", color=TIME_CONTRIBUTION_COLOURS.get(run),
                          markersize=4, capsize=2, label=_run_name(run) if row == 0 else None)
    axis.axvline(0, color="black", linewidth=0.6)
    axis.set_yticks(range(len(measures)), [MEASURES[name] + (" − 0.5" if name.startswith("auc") else "")
                                           for name in measures], fontsize=7)
    axis.invert_yaxis()
    axis.set_xlabel("agreement above chance (ρ, or AUC − 0.5)")
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    return figure


def time_contribution_clips(panels: Sequence[tuple[str, Any, Any, Sequence[int]]], run: str):
    """A block per clip: its frames (keyframes in red) and its time contribution under them.

    Parameters
    ----------
    panels : sequence of (title, video, contribution, keyframes)
        Each clip (e.g. :class:`~vidsal_study.chapters.time_contribution.study.ClipPanel`): its title, the
        ``(T, 1, H, W)`` clip, its ``(T,)`` probability drop and its keyframe indices.
    run : str
        The model whose colour the bars take.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpec

    figure = plt.figure(figsize=(9.5, 2.6 * len(panels)))
    outer = GridSpec(2 * len(panels), 1, figure=figure, height_ratios=[1.0, 1.4] * len(panels), hspace=0.9)
    for block, (title, clip, curve, keys) in enumerate(panels):
        keyframe_strip(figure, outer[2 * block], clip, keys, "frames")
        axis = figure.add_subplot(outer[2 * block + 1])
        contribution_bars(axis, {run: curve}, keys, title=title)
        axis.set_xlabel("frame")
    return figure


# --- border_lookahead chapter figures ---


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

    from vidsal_core.errors import ConfigError

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

    from vidsal_study.chapters.border import bias_share
    from vidsal_core.errors import ConfigError

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


# --- step_size_offset chapter figures ---


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

    from vidsal_core.errors import ConfigError

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

    from vidsal_study.chapters.border import TABLE_SCALE, TOP_K
    from vidsal_core.errors import ConfigError

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

    from vidsal_study.chapters.border import EXPLANATION_COLOURS, TABLE_SCALE
    from vidsal_core.errors import ConfigError

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


# --- tsr chapter figures ---

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
    from vidsal_study.chapters.tsr.study import model_label

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
    from vidsal_study.chapters.tsr.study import model_label

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

    from vidsal_study.chapters.tsr.findings import METRICS
    from vidsal_study.chapters.tsr.study import METHOD_LABELS, METHODS, model_label

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

    from vidsal_study.chapters.tsr.study import METHOD_LABELS, METHODS, model_label
    from vidsal_core.errors import ConfigError

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


# --- models chapter figures (what vidsal_study.chapters.models.findings and vidsal_study.chapters.models.defects compute) ------------


def models_training_curves(curves: Any):
    """Loss (top row) and accuracy (bottom row) per epoch of each run, on its training clips and validation persons.

    A dotted vertical line marks the epoch whose weights were kept; a dashed
    horizontal line the chance accuracy.

    Parameters
    ----------
    curves : :class:`~vidsal_study.chapters.models.findings.CurveFindings`
        The runs' logged curves.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    names = curves.names
    figure, axes = plt.subplots(2, len(names), figsize=(2.3 * len(names) + 1, 4.4), squeeze=False, sharex="col")
    for column, name in enumerate(names):
        frame = curves.curves[name]
        for row, quantity in enumerate(["loss", "accuracy"]):
            axis = axes[row][column]
            axis.plot(frame["epoch"], frame[f"train_{quantity}"], label="training clips", color="tab:blue")
            axis.plot(frame["epoch"], frame[f"validation_{quantity}"], label="validation", color="tab:orange")
            axis.axvline(curves.best_epoch[name], color="grey", linestyle=":", linewidth=1)
            if quantity == "accuracy":
                axis.set_ylim(0, 1.02)
                axis.axhline(curves.chance[name], color="grey", linewidth=0.8, linestyle="--")
                axis.set_xlabel("epoch")
            axis.set_title(name if row == 0 else "", fontsize=8)
        axes[0][column].set_ylabel("loss" if column == 0 else "")
        axes[1][column].set_ylabel("accuracy" if column == 0 else "")
    axes[0][0].legend(fontsize=7)
    for axis in axes.flat:
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    return figure


def models_accuracy_against_time(curves: Any):
    """Validation accuracy of each run against its cumulative training seconds, with its target (dotted) if any.

    Parameters
    ----------
    curves : :class:`~vidsal_study.chapters.models.findings.CurveFindings`

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.4, 3.0))
    for name in curves.names:
        frame = curves.curves[name]
        line, = axis.plot(frame["seconds"].cumsum(), frame["validation_accuracy"], marker=".", label=name)
        if curves.target[name] is not None:
            axis.axhline(curves.target[name], color=line.get_color(), linestyle=":", linewidth=1)
    axis.set_xlabel("training seconds (cumulative, this machine)")
    axis.set_ylabel("validation accuracy")
    axis.set_ylim(0, 1.02)
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    return figure


def models_confusions(accuracy: Any):
    """The confusion matrix of each 6-class run (rows true, columns predicted; shares per row, counts written).

    Parameters
    ----------
    accuracy : :class:`~vidsal_study.chapters.models.findings.AccuracyFindings`
        Its :attr:`~vidsal_study.chapters.models.findings.AccuracyFindings.six` runs are drawn (at least one).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_core.errors import ConfigError

    six = accuracy.six
    if not six:
        raise ConfigError("accuracy: no 6-class run to draw")
    figure, axes = plt.subplots(1, len(six), figsize=(3.3 * len(six), 3.4), squeeze=False)
    for axis, name in zip(axes[0], six):
        matrix = np.asarray(accuracy[name].report.confusion)
        shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        classes = accuracy[name].classes
        short = [label.replace("hand", "h.") for label in classes]
        axis.set_xticks(range(len(classes)), short, rotation=60, ha="right")
        axis.set_yticks(range(len(classes)), short)
        for i in range(len(classes)):
            for j in range(len(classes)):
                if matrix[i, j]:
                    axis.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                              color="white" if shares[i, j] > 0.6 else "black")
        axis.set_title(f"{name}: {accuracy[name].report.accuracy:.2f}", fontsize=8)
        axis.set_xlabel("predicted")
    axes[0][0].set_ylabel("true")
    figure.tight_layout()
    return figure


def models_error_clips(shown: Sequence[tuple[str, Any, Any]]):
    """Misclassified clips, one row each: six of their frames (every sixth of the clip), true → predicted class.

    Parameters
    ----------
    shown : sequence of (run name, prediction row, video)
        :func:`~vidsal_study.chapters.models.findings.error_clips` (at least one); the row gives
        ``person``, ``scenario``, ``true`` and ``predicted``, the video is ``(T, 1, H, W)``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_core.errors import ConfigError

    if not shown:
        raise ConfigError("shown: no misclassified clip to draw")
    figure, axes = plt.subplots(len(shown), 6, figsize=(7.2, 1.05 * len(shown)), squeeze=False)
    for line, (name, row, frames) in zip(axes, shown):
        for axis, frame in zip(line, range(0, frames.shape[0], max(frames.shape[0] // 6, 1))):
            axis.imshow(as_numpy(frames[frame, 0]), cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([]), axis.set_yticks([])
        line[0].set_ylabel(f"{name}\nperson {row['person']} {row['scenario']}", fontsize=6)
        line[-1].set_title(f"{row['true']} → {row['predicted']}", fontsize=7, loc="right")
    figure.tight_layout(pad=0.2)
    return figure


def models_diagnosis_variants(variants: Any):
    """Test accuracy (95% interval over persons) of the diagnosis variants, a panel per axis varied (log2 x).

    Parameters
    ----------
    variants : :class:`~vidsal_study.chapters.models.findings.VariantFindings`
        With at least one axis varied.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_core.errors import ConfigError
    from vidsal_study.chapters.models.findings import VARIANT_AXES

    axes_shown = variants.axes
    if not axes_shown:
        raise ConfigError("variants: no diagnosis variant to draw")
    figure, axes = plt.subplots(1, len(axes_shown), figsize=(2.6 * len(axes_shown), 2.4), squeeze=False, sharey=True)
    for axis, name in zip(axes[0], axes_shown):
        x, y, low, high = variants.points(name)
        axis.errorbar(x, y, yerr=[y - low, high - y], marker="o", capsize=3)
        axis.set_xscale("log", base=2)
        axis.set_xlabel(VARIANT_AXES[name])
    axes[0][0].set_ylabel(f"test accuracy ({variants.run})")
    figure.tight_layout()
    return figure


def models_attention_spread(spreads: Mapping[str, Any]):
    """Frames attended per time step (exp entropy, log scale) of each ICA-LSTM, between 1 and all frames so far.

    Parameters
    ----------
    spreads : mapping
        Run → ``(T,)`` frames attended (:attr:`~vidsal_study.chapters.models.defects.AttentionFindings.spreads`; at least one).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_core.errors import ConfigError

    if not spreads:
        raise ConfigError("spreads: no ICA-LSTM run to draw")
    figure, axis = plt.subplots(figsize=(5.5, 3))
    steps = np.arange(max(len(spread) for spread in spreads.values()))  # runs may read clips of other lengths
    axis.plot(steps, steps + 1, color="grey", linestyle="--", label="upper bound: all frames so far, evenly")
    for name, spread in spreads.items():
        axis.plot(steps[:len(spread)], spread, marker=".", label=name)
    axis.axhline(1, color="black", linewidth=1, linestyle=":", label="seed 000's cell (window never set)")
    axis.set_xlabel("time step t (frame)")
    axis.set_ylabel("frames attended (exp entropy)")
    axis.set_yscale("log")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def models_clip_offsets(offsets: Any):
    """Histogram of the training clips' first frames per class, beside seed 000's starts (running 0, walking 10).

    Parameters
    ----------
    offsets : :class:`~vidsal_study.chapters.models.defects.OffsetFindings`
        With its ``offsets`` measured.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from vidsal_core.errors import ConfigError

    if offsets.offsets is None:
        raise ConfigError("offsets: nothing measured (no binary run) to draw")
    table = offsets.offsets
    figure, axis = plt.subplots(figsize=(5.5, 2.6))
    bins = np.arange(table.offset.max() + 2) - 0.5
    for label, name in enumerate(offsets.classes):
        axis.hist(table.offset[table.label == label], bins=bins, alpha=0.55, label=f"{name} (vidsal)")
    axis.axvline(0, color="tab:red", linestyle="--", label="seed: running starts here")
    axis.axvline(10, color="tab:purple", linestyle="--", label="seed: walking starts here")
    axis.set_xlabel("first frame of the training clip")
    axis.set_ylabel("clips")
    axis.legend(fontsize=7, ncol=2, loc="lower center", framealpha=0.9)
    figure.tight_layout()
    return figure
