"""vidsal's masking engine and Captum's Occlusion / FeatureAblation give the same maps (bench/bench_captum_masking.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from _toy_videos import TINY_MODELS
from vidsal_core.models.registry import build_model
from vidsal_core.saliency.time_contribution import time_contribution
from vidsal_core.saliency.time_contribution_factorised import factorised_time_contribution

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_captum_masking import (  # noqa: E402
    captum_block_occlusion,
    captum_time_contribution,
    vidsal_block_occlusion,
)


def clip(name):
    frames = 16 if name == "c3d" else 6
    return torch.rand(frames, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("name", ["frame_lstm", "ica_lstm", "c3d"])
@pytest.mark.parametrize("method", ["FeatureAblation", "Occlusion"])
def test_time_contribution_and_block_occlusion_agree_with_captum_in_float64(name, method):
    """Captum's Occlusion divides its sums by the window counts after ``.float()``: float32 rounding there."""
    tolerance = {"rtol": 1e-9, "atol": 1e-12} if method == "FeatureAblation" else {"rtol": 1e-6, "atol": 1e-8}
    model = build_model(name, TINY_MODELS[name], seed=4).double().eval()
    video = clip(name)
    with torch.no_grad():
        target = int(model(video[None]).argmax(1))
        ours = time_contribution(model, video, target=target).probability_drop
        theirs = captum_time_contribution(model, video, target, method, perturbations=3)
        torch.testing.assert_close(theirs.double(), ours.double(), **tolerance)
        if name != "c3d":
            factorised = factorised_time_contribution(model, video, target=target).probability_drop
            torch.testing.assert_close(factorised.double(), ours.double(), rtol=1e-9, atol=1e-12)
        blocks = vidsal_block_occlusion(model, video, target, block_size=8, batch_size=5)
        assert blocks.shape == (video.shape[0], 16, 16) and blocks.abs().max() > 0
        captum_blocks = captum_block_occlusion(model, video, target, 8, method, perturbations=7)
        torch.testing.assert_close(captum_blocks.double(), blocks, **tolerance)


def test_block_occlusion_is_known_by_hand_for_a_linear_model():
    class Linear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = torch.nn.Parameter(torch.randn(2, 2, 1, 4, 4, dtype=torch.float64,
                                                          generator=torch.Generator().manual_seed(5)))

        def forward(self, videos):
            return (videos[:, None] * self.weights).flatten(2).sum(2)

    model = Linear().eval()
    video = torch.rand(2, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        blocks = vidsal_block_occlusion(model, video, 0, block_size=2)
        logits = model(video[None])[0]
        for frame in range(2):
            for row in (0, 2):
                for column in (0, 2):
                    masked = video.clone()
                    masked[frame, :, row:row + 2, column:column + 2] = 0
                    drop = torch.softmax(logits, 0)[0] - torch.softmax(model(masked[None])[0], 0)[0]
                    torch.testing.assert_close(blocks[frame, row:row + 2, column:column + 2],
                                               drop.expand(2, 2))
