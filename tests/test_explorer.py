"""The frame explorer's images and HTML, and the house colour maps."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from vidsal_core.errors import ConfigError
from vidsal_study.explorer import explorer_layers, frame_explorer_html
from vidsal_core.plot import colourise, normalise_map


def test_percentile_clipping_matches_a_hand_case():
    values = np.arange(101, dtype=float)  # the 98th percentile of |values| is 98
    scaled = normalise_map(values, signed=False, outlier_perc=2)
    assert scaled[49] == pytest.approx(49 / 98)
    assert scaled[98] == 1.0 and scaled[100] == 1.0
    signed = normalise_map(np.array([-4.0, 0.0, 2.0]), signed=True, outlier_perc=0)
    np.testing.assert_allclose(signed, [-1.0, 0.0, 0.5])
    assert np.all(normalise_map(np.zeros(5), signed=True) == 0)


def test_signed_maps_are_centred_on_white_and_unsigned_start_dark():
    signed = colourise(np.array([-1.0, 0.0, 1.0]), signed=True, outlier_perc=0)
    assert signed[1].min() >= 250  # bwr: zero is white
    assert signed[0][2] > signed[0][0] and signed[2][0] > signed[2][2]  # negative blue, positive red
    unsigned = colourise(np.array([0.0, 1.0]), signed=False, outlier_perc=0)
    assert unsigned[0].sum() < 30 and unsigned[1].sum() > 400  # inferno: black to pale yellow


def test_layers_overlay_maps_only_where_they_are_nonzero():
    video = np.full((3, 1, 4, 5), 0.5, dtype=np.float32)
    saliency = np.zeros((3, 4, 5))
    saliency[1, 2, 3] = 1.0
    layers = explorer_layers(video, {"saliency": saliency})
    assert list(layers) == ["frames", "saliency"]
    assert layers["frames"].shape == (3, 4, 5, 3)
    changed = np.argwhere(np.any(layers["saliency"] != layers["frames"], axis=-1))
    assert changed.tolist() == [[1, 2, 3]]


def test_mismatched_map_is_refused_with_its_name():
    with pytest.raises(ConfigError, match="flow"):
        explorer_layers(np.zeros((3, 1, 4, 5)), {"flow": np.zeros((2, 4, 5))})


def test_html_embeds_every_frame_of_every_layer():
    video = np.random.default_rng(0).random((4, 1, 8, 10)).astype(np.float32)
    page = frame_explorer_html(video, {"gradient": video[:, 0] - 0.5}, signed={"gradient": True}, title="demo")
    uris = page.split("data:image/jpeg;base64,")[1:]
    assert len(uris) == 4 * 2 + 1  # every frame of both layers, plus the first shown in the <img>
    first = base64.b64decode(uris[0].split('"')[0])
    decoded = cv2.imdecode(np.frombuffer(first, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (8, 10, 3)
    assert 'max="3"' in page and "demo" in page


def test_live_widget_shows_another_frame_and_method_on_input():
    """The ipywidgets explorer of a live notebook: the slider and the method menu change the image."""
    from vidsal_study.explorer import frame_explorer_widget

    video = np.zeros((4, 1, 8, 8), dtype=np.float32)
    for t in range(4):
        video[t, 0, :, 2 * t:2 * t + 2] = 1.0  # a bar moving right
    maps = {"bar": video[:, 0], "first column": np.zeros((4, 8, 8))}
    maps["first column"][:, :, 0] = 1.0
    calls = []

    def load(name, method):
        calls.append((name, method))
        return video, maps[method]

    box = frame_explorer_widget(load, ["clip"], list(maps))
    (video_menu, method_menu), slider, image = box.children[0].children, box.children[1], box.children[2]
    assert slider.max == 3
    first = image.value
    slider.value = 2
    assert image.value != first
    shown = image.value
    method_menu.value = "first column"
    assert image.value != shown and calls == [("clip", "bar"), ("clip", "first column")]
    decoded = cv2.imdecode(np.frombuffer(image.value, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape[:2] == (8, 8)
