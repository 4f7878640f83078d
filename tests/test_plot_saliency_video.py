"""The saliency video: an animated GIF or PNG of the clip beside its overlays, one frame per clip frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from vidsal_core.errors import ConfigError
from vidsal_core.plot import gray_frames, saliency_video


def _clip_and_map():
    generator = torch.Generator().manual_seed(0)
    video = 0.3 + 0.4 * torch.rand(5, 3, 12, 16, generator=generator)  # (T, C, H, W), frames differ
    saliency = torch.zeros(5, 3, 12, 16)
    saliency[:, :, 2:6, 3:9] = 1.0  # large in one box of every frame, zero elsewhere
    return video, saliency


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_one_animation_frame_per_clip_frame_at_the_scaled_size(tmp_path, suffix):
    video, saliency = _clip_and_map()
    path = saliency_video(video, [saliency, -saliency], tmp_path / f"clip{suffix}", fps=5, signed=[False, True],
                          scale=3)
    with Image.open(path) as image:
        assert image.n_frames == 5 and image.is_animated
        assert image.size == (3 * 16 * 3, 12 * 3)  # the clip and two overlays side by side, each pixel 3 × 3
        assert image.info.get("loop") == 0 and image.info.get("duration") == 200


def test_the_overlay_differs_from_the_clip_where_the_map_is_large(tmp_path):
    video, saliency = _clip_and_map()
    path = saliency_video(video, saliency, tmp_path / "clip.png", scale=1)  # lossless, to compare pixels
    with Image.open(path) as image:
        frames = [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]
    grey = gray_frames(video)
    for t, frame in enumerate(frames):
        clip_panel, overlay_panel = frame[:, :16].astype(int), frame[:, 16:].astype(int)
        assert np.array_equal(clip_panel, grey[t])
        large = np.abs(overlay_panel - grey[t]).sum(axis=-1)[2:6, 3:9]
        assert (large > 30).all()  # the colour map shows where the map is large
        outside = np.ones((12, 16), dtype=bool)
        outside[2:6, 3:9] = False
        assert np.array_equal(overlay_panel[outside], grey[t][outside])  # the frame shows through where it is 0


def test_bad_arguments_are_named(tmp_path):
    video, saliency = _clip_and_map()
    with pytest.raises(ConfigError, match="path=.*gif, .png or .apng"):
        saliency_video(video, saliency, tmp_path / "clip.mp4")
    with pytest.raises(ConfigError, match=r"maps\[0\]: shape \(4, 12, 16\)"):
        saliency_video(video, saliency[:4], tmp_path / "clip.gif")
    with pytest.raises(ConfigError, match="one `signed` per map"):
        saliency_video(video, [saliency, saliency], tmp_path / "clip.gif", signed=[True])
