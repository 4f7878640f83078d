"""Figure style and the drawings every saliency study needs: colour maps, percentile
clipping, frame strips, saliency overlays and a saliency video.

Conventions (see STYLE.md):

- *signed* maps (raw gradients, LRP relevance) use a diverging colour map
  centred on zero (:data:`SIGNED_CMAP`), scaled symmetrically;
- *unsigned* maps (|gradient|, TSR, flow magnitude) use a sequential colour map
  (:data:`UNSIGNED_CMAP`) from zero;
- both are clipped at a percentile so that a few extreme values don't wash out
  the map, as captum's ``visualize_image_attr(..., outlier_perc=2)`` does;
- frame strips label each frame with its index; time series use the frame axis;
- :func:`setup` applies the house figure resolution and font size (:data:`STYLE`).

Figures of a particular study belong with that study, which calls these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib
import numpy as np
from PIL import Image

from vidsal_core.errors import ConfigError

#: Diverging colour map for signed maps, centred on zero.
SIGNED_CMAP = "bwr"


#: Sequential colour map for unsigned maps.
UNSIGNED_CMAP = "inferno"


#: Percent of the largest |values| clipped before scaling (captum's default is 2).
OUTLIER_PERC = 2.0


#: Matplotlib settings of the house style (:func:`setup`): 100 dpi on screen and on disk, 9 pt text.
STYLE: dict[str, Any] = {"figure.dpi": 100, "savefig.dpi": 100, "font.size": 9}


#: Row kinds of :func:`saliency_grid`: a video's frames, a signed map, an unsigned map.
ROW_KINDS: tuple[str, ...] = ("frames", "signed", "unsigned")


def setup(overrides: Mapping[str, Any] | None = None) -> None:
    """Apply the house figure style (:data:`STYLE`) to matplotlib's settings, once per notebook or program.

    Call this once right after importing ``matplotlib.pyplot``, in
    place of repeating the same ``plt.rcParams.update`` line: figures are
    drawn at 100 dots per inch on screen and when saved, with 9-point text.
    ``overrides`` (matplotlib rc keys) are applied after :data:`STYLE`, for a
    notebook that needs something else; the settings stay in force for the
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


def _map_frames(values, signed: bool) -> np.ndarray:
    """A ``(T, H, W)`` map of ``(T, H, W)`` or ``(T, C, H, W)`` values (channels summed, ``|·|`` first if unsigned)."""
    array = as_numpy(values).astype(np.float64)
    if array.ndim == 4:
        array = (array if signed else np.abs(array)).sum(axis=1)
    return array


def saliency_video(video, maps, path, fps: float = 8.0, signed: bool | Sequence[bool] = False, alpha: float = 0.6,
                   outlier_perc: float = OUTLIER_PERC, scale: int = 2):
    """Write a clip with its saliency blended over every frame as an animated image a browser plays.

    Each frame of the file shows the clip's frame (grey) and, side by side, one
    :func:`overlay` per map: the colourised map over the frame, opaque where the
    map is large and transparent where it is zero. Each map is scaled over all
    its frames (so frames stay comparable) and clipped at the
    ``100 - outlier_perc`` percentile; signed maps use the diverging colour map
    centred on zero, unsigned ones the sequential one. The file is an animated
    GIF (``.gif``, 256 colours) or an animated PNG (``.png``/``.apng``,
    lossless), looping for ever: both play in every browser without a codec
    and work offline (OpenCV's ``mp4v`` videos do not play in Chromium).

    Parameters
    ----------
    video : array-like
        ``(T, C, H, W)`` in [0, 1].
    maps : array-like or sequence of array-like
        One map or several, each ``(T, H, W)`` or ``(T, C, H, W)`` (channels summed), with the clip's
        frames and pixels.
    path : str or path-like
        The file written; its suffix picks the format.
    fps : float, default 8
        Frames per second of the animation.
    signed : bool or sequence of bool, default False
        Per map (or one for all): diverging colour map centred on zero, or sequential.
    alpha : float, default 0.6
        Opacity of the map where it is largest.
    outlier_perc : float, default 2
        Percent of the largest magnitudes clipped (captum's ``outlier_perc``).
    scale : int, default 2
        Each pixel becomes ``scale × scale`` pixels (nearest neighbour), so small clips can be seen.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, torch
    >>> from PIL import Image
    >>> video = torch.rand(4, 3, 8, 10)
    >>> path = saliency_video(video, torch.rand(4, 8, 10), tempfile.mkdtemp() + "/clip.gif", scale=1)
    >>> with Image.open(path) as image:
    ...     image.n_frames, image.size                         # T frames, the clip and its overlay side by side
    (4, (20, 8))
    """
    from vidsal_core.errors import ConfigError

    path = Path(path)
    formats = {".gif": "GIF", ".png": "PNG", ".apng": "PNG"}
    if path.suffix.lower() not in formats:
        raise ConfigError(f"path={str(path)!r}: write an animated .gif, .png or .apng (browsers play them)")
    if not fps > 0 or isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ConfigError(f"fps={fps!r}, scale={scale!r}: expected fps > 0 and a whole scale >= 1")
    frames = gray_frames(video)  # (T, H, W, 3); checks the video's shape
    all_maps = [maps] if hasattr(maps, "shape") else list(maps)
    kinds = [signed] * len(all_maps) if isinstance(signed, bool) else list(signed)
    if not all_maps or len(kinds) != len(all_maps):
        raise ConfigError(f"maps: give at least one map and one `signed` per map, got {len(all_maps)} maps and "
                          f"{len(kinds)} `signed`")
    panels = [frames]
    for index, (values, kind) in enumerate(zip(all_maps, kinds)):
        array = _map_frames(values, kind)
        if array.shape != frames.shape[:3]:
            raise ConfigError(f"maps[{index}]: shape {array.shape} (after summing channels), expected the clip's "
                              f"(T, H, W) = {frames.shape[:3]}")
        panels.append(overlay(video, array, kind, alpha, outlier_perc))
    tiled = np.concatenate(panels, axis=2).repeat(scale, axis=1).repeat(scale, axis=2)
    images = [Image.fromarray(frame) for frame in tiled]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, format=formats[path.suffix.lower()], save_all=True, append_images=images[1:],
                   duration=round(1000 / fps), loop=0, disposal=1 if path.suffix.lower() == ".gif" else 0)
    return path
