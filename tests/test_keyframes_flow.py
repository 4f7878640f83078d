"""Keyframes (frame differencing, PeakUtils-style peaks) and optical flow (Farneback, comparisons)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.flow import (
    endpoint_error,
    farneback_flow,
    flow_magnitude,
    per_frame_spearman,
    saliency_magnitude,
)
from vidsal_core.saliency.keyframes import (
    detect_keyframes,
    frame_differences,
    keyframe_auc,
    peak_indices,
    polynomial_baseline,
    rank_correlation,
    temporal_agreement,
)


# --- keyframes ---------------------------------------------------------------------------------

def test_peaks_are_known_by_hand():
    curve = np.array([0, 5, 1, 2, 1, 9, 9, 9, 0, 3, 0], dtype=float)
    # Range 0..9: the 30 % level is 2.7, so the bump of height 2 at index 3 does not count;
    # the plateau 5..7 gives one peak at its middle.
    assert peak_indices(curve, threshold=0.3).tolist() == [1, 6, 9]
    assert peak_indices(curve, threshold=0.0).tolist() == [1, 3, 6, 9]
    assert peak_indices(curve, threshold=0.3, min_distance=4).tolist() == [1, 6]
    assert peak_indices(np.ones(5)).tolist() == []
    with pytest.raises(ConfigError, match="threshold"):
        peak_indices(curve, threshold=30)


def test_polynomial_baseline_recovers_a_quadratic_under_peaks():
    x = np.arange(30, dtype=float)
    trend = 100 + 0.5 * (x - 12) ** 2
    spikes = trend.copy()
    spikes[[5, 17, 24]] += 200
    np.testing.assert_allclose(polynomial_baseline(trend), trend, rtol=1e-6)
    assert np.abs(polynomial_baseline(spikes) - trend).max() < 5


def test_frame_differences_count_pixels_that_brighten():
    video = torch.zeros(4, 1, 20, 20)
    video[2, :, 5:15, 5:15] = 1.0  # a flash in frame 2
    differences = frame_differences(video)
    assert differences[0] == 0 and differences[1] == 0
    assert differences[2] > 100 and differences[3] == 0  # frame 3 only darkens: saturating subtraction gives 0


def test_detect_keyframes_finds_flashes_in_a_quiet_video():
    video = torch.full((16, 1, 24, 24), 0.2)
    for frame in (4, 11):
        video[frame, :, 4:20, 4:20] = 0.9
    keyframes = detect_keyframes(video)
    assert keyframes.indices.tolist() == [4, 11]
    assert keyframes.mask().sum() == 2 and keyframes.threshold == 0.3


def test_agreement_measures():
    scores = torch.tensor([0.1, 0.9, 0.2, 0.8, 0.3])
    assert keyframe_auc([1, 3], scores) == 1.0
    assert keyframe_auc(torch.tensor([False, False, True, False, True]), scores) == pytest.approx(2 / 6)
    assert keyframe_auc([0, 1], torch.ones(5)) == 0.5
    assert np.isnan(keyframe_auc([], scores))
    assert rank_correlation([1, 2, 3, 4], [10, 20, 30, 41]) == pytest.approx(1.0)
    assert rank_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(rank_correlation([1, 1, 1], [1, 2, 3]))
    video = torch.full((8, 1, 16, 16), 0.2)
    video[3, :, 2:14, 2:14] = 0.9
    keyframes = detect_keyframes(video)
    truth = {"visibility": torch.linspace(0, 1, 8), "limb_motion": torch.rand(8)}
    agreement = temporal_agreement(torch.arange(8.0), keyframes, truth)
    assert set(agreement) == {
        "keyframe_auc", "spearman_contribution_difference", "spearman_contribution_visibility",
        "keyframe_auc_visibility", "spearman_difference_visibility", "spearman_contribution_limb_motion",
        "keyframe_auc_limb_motion", "spearman_difference_limb_motion",
    }
    assert agreement["spearman_contribution_visibility"] == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="NaN"):
        keyframe_auc([1], [0.0, float("nan")])
    with pytest.raises(ConfigError, match="outside"):
        keyframe_auc([7], scores)


# --- optical flow ------------------------------------------------------------------------------

def smooth_pattern(shift_x: float, size: int = 48) -> torch.Tensor:
    y, x = torch.meshgrid(torch.arange(size, dtype=torch.float64), torch.arange(size, dtype=torch.float64), indexing="ij")
    return 0.5 + 0.4 * torch.sin((x - shift_x) / 3.0) * torch.cos(y / 4.0)


def test_farneback_recovers_a_known_translation():
    video = torch.stack([smooth_pattern(2.0 * frame) for frame in range(3)])[:, None].float()
    flow = farneback_flow(video)
    assert flow.shape == (2, 48, 48, 2)
    interior = flow[:, 12:36, 12:36]
    assert abs(float(interior[..., 0].median()) - 2.0) < 0.3
    assert abs(float(interior[..., 1].median())) < 0.3
    truth = torch.zeros(3, 48, 48, 2)
    truth[..., 0] = 2.0
    region = torch.zeros(3, 48, 48, dtype=torch.bool)
    region[:, 12:36, 12:36] = True
    assert float(endpoint_error(flow, truth, region).max()) < 0.5


def test_flow_against_synthkth_truth():
    from vidsal_core.data.synthkth import VideoSpec, render_video

    rendered = render_video(VideoSpec(action="running", person=2, scenario="d1", n_frames=5, height=60, width=80),
                            with_flow=True)
    video = torch.from_numpy(rendered.frames).float().div(255)[:, None]
    estimate = farneback_flow(video)
    figure = torch.from_numpy(rendered.parts > 0)
    error = endpoint_error(estimate, rendered.flow, figure)
    assert error.shape == (4,) and torch.isfinite(error).all()
    # Farneback's flow is closer to the truth than no flow at all, over the figure.
    assert float(error.mean()) < float(endpoint_error(torch.zeros_like(estimate), rendered.flow, figure).mean())


def test_magnitudes_and_rank_correlation():
    flow = torch.zeros(2, 3, 3, 2)
    flow[0, ..., 0] = torch.arange(9.0).reshape(3, 3)
    flow[1, ..., 1] = -3.0
    magnitude = flow_magnitude(flow)
    torch.testing.assert_close(magnitude[0], torch.arange(9.0, dtype=torch.float64).reshape(3, 3))
    scaled = flow_magnitude(flow, normalise="frame_minmax")
    assert float(scaled[0].max()) == 255.0 and torch.all(scaled[1] == 0)
    saliency = torch.arange(18.0).reshape(2, 1, 3, 3) ** 2
    correlation = per_frame_spearman(saliency_magnitude(saliency), magnitude)
    assert correlation[0] == pytest.approx(1.0) and torch.isnan(correlation[1])
    region = torch.ones(2, 3, 3, dtype=torch.bool)
    region[0, 0] = False
    assert per_frame_spearman(saliency_magnitude(saliency), magnitude, region)[0] == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="normalise"):
        flow_magnitude(flow, normalise="global")
    with pytest.raises(ConfigError, match=r"\(T, H, W, 2\)"):
        flow_magnitude(torch.zeros(2, 3, 3))
    with pytest.raises(ConfigError, match="two frames"):
        farneback_flow(torch.zeros(1, 1, 8, 8))
