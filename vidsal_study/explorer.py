"""The frame explorer: scrub through a video's frames with saliency and flow overlays.

Two faces of one tool:

- :func:`frame_explorer_html` writes self-contained HTML (frames embedded as
  JPEG data URIs, a slider and a layer menu driven by a few lines of plain
  JavaScript). It works in the static book without a kernel and offline.
- :func:`frame_explorer_widget` is the live version for a running notebook,
  with ipywidgets to pick the video, the method and the frame.
"""

from __future__ import annotations

import base64
import html
import json
import uuid
from typing import Callable, Mapping

import cv2
import numpy as np

from vidsal_core.errors import ConfigError
from vidsal_core.plot import as_numpy, gray_frames, overlay


def _data_uri(image_rgb: np.ndarray, quality: int) -> str:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ConfigError("frame explorer: OpenCV could not encode a frame as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def explorer_layers(video, maps: Mapping[str, object], signed: Mapping[str, bool] | None = None,
                    alpha: float = 0.6) -> dict[str, np.ndarray]:
    """The images an explorer shows: the frames, then each map over them.

    Parameters
    ----------
    video : (T, C, H, W) array or tensor in [0, 1]
    maps : mapping of name to (T, H, W) or (T, C, H, W) map
        Channels are summed. Same T, H, W as the video.
    signed : mapping of name to bool, optional
        Which maps are signed (diverging colours); others are unsigned.
    """
    video = as_numpy(video)
    signed = dict(signed or {})
    layers = {"frames": gray_frames(video)}
    for name, values in maps.items():
        values = as_numpy(values)
        if values.ndim == 4:
            values = values.sum(axis=1)
        if values.shape != (video.shape[0], video.shape[2], video.shape[3]):
            raise ConfigError(f"maps[{name!r}]: shape {values.shape} does not match the video's "
                              f"(T, H, W) = {(video.shape[0], video.shape[2], video.shape[3])}")
        layers[name] = overlay(video, values, signed.get(name, False), alpha=alpha)
    return layers


def frame_explorer_html(video, maps: Mapping[str, object], signed: Mapping[str, bool] | None = None,
                        title: str = "", scale: int = 2, quality: int = 85, frame_offset: int = 0) -> str:
    """Self-contained HTML: a slider over frames and a menu over layers.

    Parameters
    ----------
    video, maps, signed
        As in :func:`explorer_layers`.
    title : str
        Shown above the explorer.
    scale : int
        Display magnification (default 2).
    quality : int
        JPEG quality of the embedded frames (default 85).
    frame_offset : int
        Index of the first frame in the source video, for the frame label.
    """
    layers = explorer_layers(video, maps, signed)
    uris = {name: [_data_uri(image, quality) for image in images] for name, images in layers.items()}
    n_frames, height, width = next(iter(layers.values())).shape[:3]
    element = f"vidsal-explorer-{uuid.uuid4().hex[:8]}"
    options = "".join(f'<option value="{html.escape(name)}">{html.escape(name)}</option>' for name in uris)
    first = next(iter(uris))
    return f"""
<div class="vidsal-explorer" id="{element}" data-frames="{n_frames}" style="font-family:sans-serif;margin:1em 0">
  <div style="font-weight:bold">{html.escape(title)}</div>
  <label>layer <select class="vidsal-layer">{options}</select></label>
  <label style="margin-left:1em">frame <input class="vidsal-frame" type="range" min="0" max="{n_frames - 1}" value="0" step="1" style="width:{max(width * scale - 120, 120)}px"></label>
  <span class="vidsal-frame-label">t={frame_offset}</span>
  <div><img class="vidsal-image" alt="frame explorer image" src="{uris[first][0]}" width="{width * scale}" height="{height * scale}" style="image-rendering:pixelated"></div>
</div>
<script>
(function() {{
  var root = document.getElementById("{element}");
  var uris = {json.dumps(uris)};
  var slider = root.querySelector(".vidsal-frame"), menu = root.querySelector(".vidsal-layer");
  var image = root.querySelector(".vidsal-image"), label = root.querySelector(".vidsal-frame-label");
  function show() {{
    var t = parseInt(slider.value, 10);
    image.src = uris[menu.value][t];
    label.textContent = "t=" + (t + {frame_offset});
    root.setAttribute("data-shown", menu.value + ":" + t);
  }}
  slider.addEventListener("input", show);
  menu.addEventListener("change", show);
  show();
}})();
</script>
"""


def frame_explorer_widget(load: Callable[[str, str], tuple], videos: list[str], methods: list[str],
                          signed: Mapping[str, bool] | None = None):
    """A live explorer: dropdowns for video and method, a slider for the frame.

    Parameters
    ----------
    load : callable
        ``load(video_name, method) -> (video (T, C, H, W), map (T, H, W))``.
    videos, methods : list of str
        Choices offered.
    signed : mapping of method to bool, optional
        Which methods give signed maps.
    """
    import ipywidgets as widgets
    from IPython.display import display

    signed = dict(signed or {})
    video_menu = widgets.Dropdown(options=videos, description="video")
    method_menu = widgets.Dropdown(options=methods, description="method")
    frame_slider = widgets.IntSlider(min=0, max=1, description="frame")
    image = widgets.Image(format="jpeg")
    cache: dict[tuple[str, str], np.ndarray] = {}

    def images() -> np.ndarray:
        key = (video_menu.value, method_menu.value)
        if key not in cache:
            video, values = load(*key)
            cache[key] = explorer_layers(video, {key[1]: values}, {key[1]: signed.get(key[1], False)})[key[1]]
        return cache[key]

    def refresh(*_):
        layer = images()
        frame_slider.max = layer.shape[0] - 1
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(layer[frame_slider.value], cv2.COLOR_RGB2BGR))
        image.value = encoded.tobytes()

    for control in (video_menu, method_menu, frame_slider):
        control.observe(refresh, names="value")
    refresh()
    box = widgets.VBox([widgets.HBox([video_menu, method_menu]), frame_slider, image])
    display(box)
    return box
