"""Maps beside the true motion: speed at the model's size, rank correlation per frame, mass per frame, TSR passes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from _saliency_models import QuadraticFrames
from vidsal_core.metrics.maps import (
    frame_mass_share,
    map_magnitude,
    motion_magnitude,
    naive_pass_count,
    spatial_rank_correlation,
)
from vidsal_core.errors import ConfigError


def test_motion_magnitude_by_hand():
    flow = torch.zeros(2, 8, 12, 2)
    flow[..., 0], flow[..., 1] = 3.0, 4.0  # every pixel moves 5 px per frame
    assert torch.allclose(motion_magnitude(flow), torch.full((2, 8, 12), 5.0, dtype=torch.float64))
    half = motion_magnitude(flow, (4, 6))  # the same motion is 2.5 px at half the size
    assert half.shape == (2, 4, 6) and torch.allclose(half, torch.full_like(half, 2.5))
    moving = torch.zeros(1, 4, 4, 2)
    moving[0, :2, :2, 0] = 4.0  # the top-left quarter moves: one pixel of the 2x2 average holds it all
    assert torch.allclose(motion_magnitude(moving, (2, 2))[0], torch.tensor([[2.0, 0.0], [0.0, 0.0]], dtype=torch.float64))


def test_motion_magnitude_refuses_bad_input():
    with pytest.raises(ConfigError, match="flow"):
        motion_magnitude(torch.zeros(2, 8, 12))
    with pytest.raises(ConfigError, match="size"):
        motion_magnitude(torch.zeros(2, 8, 12, 2), (16, 24))
    with pytest.raises(ConfigError, match="size"):
        motion_magnitude(torch.zeros(2, 8, 12, 2), (0, 6))
    with pytest.raises(ConfigError, match="NaN"):
        motion_magnitude(torch.full((1, 2, 2, 2), float("nan")))


def test_spatial_rank_correlation_by_hand():
    motion = torch.arange(3 * 4 * 5, dtype=torch.float64).reshape(3, 4, 5)
    motion[2] = 0.0  # nothing moves in frame 2: skipped
    saliency = motion.clone()[:, None]  # (T, 1, H, W)
    saliency[1] = -saliency[1]  # magnitudes: still increasing with the motion
    mean, per_frame = spatial_rank_correlation(saliency, motion)
    assert per_frame[:2] == pytest.approx([1.0, 1.0]) and math.isnan(per_frame[2]) and mean == pytest.approx(1.0)
    reverse = motion.amax(dim=(1, 2), keepdim=True) - motion
    mean, _ = spatial_rank_correlation(reverse, motion)
    assert mean == pytest.approx(-1.0)
    flat = torch.ones(3, 4, 5)
    flat[0] = motion[0]
    mean, per_frame = spatial_rank_correlation(flat, motion)  # a flat frame says nothing: 0
    assert per_frame[0] == pytest.approx(1.0) and per_frame[1] == 0.0 and mean == pytest.approx(0.5)
    mean, _ = spatial_rank_correlation(flat, motion, frames=[False, True, True])
    assert mean == 0.0


def test_spatial_rank_correlation_compares_the_common_frames():
    motion = torch.rand(4, 6, 6, generator=torch.Generator().manual_seed(0))
    mean, per_frame = spatial_rank_correlation(motion[:3], motion)  # Farneback has T - 1 frames
    assert per_frame.shape == (3,) and mean == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="motion"):
        spatial_rank_correlation(torch.rand(3, 6, 6), torch.rand(3, 5, 6))
    with pytest.raises(ConfigError, match="frames"):
        spatial_rank_correlation(torch.rand(3, 6, 6), torch.rand(3, 6, 6), frames=[True])


def test_frame_mass_share_by_hand():
    saliency = torch.zeros(4, 2, 3, 3)
    saliency[0] = 1.0  # 18 units of mass
    saliency[3, 0] = -2.0  # 18 units: magnitudes count
    assert frame_mass_share(saliency, [True, False, False, False]) == pytest.approx(0.5)
    assert frame_mass_share(saliency, np.array([False, True, True, True])) == pytest.approx(0.5)
    assert math.isnan(frame_mass_share(torch.zeros(2, 3, 3), [True, False]))
    with pytest.raises(ConfigError, match="frames"):
        frame_mass_share(saliency, [True, False])
    assert map_magnitude(saliency).shape == (4, 3, 3)
    with pytest.raises(ConfigError, match="saliency"):
        map_magnitude(torch.zeros(3, 3))


def test_naive_pass_count_is_what_tsr_counts():
    from vidsal_core.saliency.tsr import temporal_saliency_rescaling
    from vidsal_core.saliency.tsr_reference import temporal_saliency_rescaling_reference

    assert naive_pass_count(30, 13, 144) == 1 + 30 + 13 * 144
    generator = torch.Generator().manual_seed(0)
    model = QuadraticFrames(torch.rand(1, 8, 12, generator=generator, dtype=torch.float64),
                            torch.rand(6, generator=generator, dtype=torch.float64)).double().eval()
    video = torch.rand(6, 1, 8, 12, generator=generator, dtype=torch.float64)
    reference = temporal_saliency_rescaling_reference(model, video, 0, block_size=4)
    fast = temporal_saliency_rescaling(model, video, 0, block_size=4)
    blocks = (8 // 4) * (12 // 4)
    assert reference.attribution_calls == fast.attribution_calls == naive_pass_count(6, int(reference.selected.sum()), blocks)
    for arguments in ((-1, 0, 1), (3, 4, 1), (3, 1, 1.5), (True, 0, 1)):
        with pytest.raises(ConfigError):
            naive_pass_count(*arguments)
