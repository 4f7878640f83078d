"""Two-step TSR: a case known by hand, both fast engines against the naive loop, batching, bad input."""

from __future__ import annotations

import warnings

import pytest
import torch

from _saliency_models import BrokenSplit, QuadraticFrames
from _toy_videos import TINY_MODELS
from vidsal_core.errors import ConfigError
from vidsal_core.models.registry import build_model
from vidsal_core.saliency.masking import block_labels
from vidsal_core.saliency.tsr import (
    REFERENCE_CODE_OPTIONS,
    min_max_scale,
    one_step_rescaling,
    temporal_saliency_rescaling,
)
from vidsal_core.saliency.tsr_reference import temporal_saliency_rescaling_reference

ENGINES = ("factorised", "batched")


def relative_error(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    return float((ours - theirs).abs().max() / theirs.abs().max().clamp_min(1e-300))


def quadratic_case(frames=5, size=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    pixel_weights = torch.randn(1, size, size, generator=generator, dtype=torch.float64)
    time_weights = torch.randn(frames, generator=generator, dtype=torch.float64)
    video = torch.rand(frames, 1, size, size, generator=generator, dtype=torch.float64)
    return QuadraticFrames(pixel_weights, time_weights).eval(), video


def tsr_by_hand(model, video, block_size, mask_value, time_scaling, feature_scaling, below_threshold):
    """TSR of class 0 of the quadratic model, from its closed-form gradient ``c_t a_p x``.

    Masking value v at (t, p) changes only R_{t,p} = |c_t a_p x_{t,p}| into |c_t a_p v|.
    """
    weight = (model.time_weights.detach()[:, None, None, None] * model.pixel_weights.detach()).abs()
    change = weight * (video.abs() - abs(mask_value)).abs()  # per value, (T, 1, H, W)
    time_relevance = change.flatten(1).sum(1)
    scaled = min_max_scale(time_relevance)
    selected = scaled > torch.quantile(scaled, 0.55)
    labels = block_labels(video.shape[2], video.shape[3], block_size)
    time_scores = scaled if time_scaling == "minmax" else time_relevance
    saliency = torch.zeros_like(video)
    for frame in range(video.shape[0]):
        if not selected[frame]:
            saliency[frame] = time_scores[frame] * below_threshold
            continue
        regions = torch.stack([change[frame, 0][labels == label].sum() for label in range(int(labels.max()) + 1)])
        scores = min_max_scale(regions) if feature_scaling == "minmax" else regions
        saliency[frame, 0] = time_scores[frame] * scores[labels]
    return saliency, time_relevance, selected


@pytest.mark.parametrize("options", [{}, REFERENCE_CODE_OPTIONS], ids=["algorithm", "reference-code"])
@pytest.mark.parametrize("engine", ENGINES + ("reference",))
def test_tsr_of_a_quadratic_model_is_known_by_hand(engine, options):
    model, video = quadratic_case()
    settings = {"mask_value": "zero", "time_scaling": "none", "feature_scaling": "none", "below_threshold": 0.0,
                **options}
    mask_value = float(video[0, 0, 0, 0]) if settings["mask_value"] == "first_element" else 0.0
    expected, time_relevance, selected = tsr_by_hand(
        model, video, 3, mask_value, settings["time_scaling"], settings["feature_scaling"], settings["below_threshold"])
    if engine == "reference":
        result = temporal_saliency_rescaling_reference(model, video, target=0, block_size=3, **options)
    else:
        result = temporal_saliency_rescaling(model, video, target=0, block_size=3, engine=engine, **options)
    assert result.engine == engine
    torch.testing.assert_close(result.time_relevance, time_relevance)
    assert torch.equal(result.selected, selected)
    torch.testing.assert_close(result.saliency, expected)
    assert result.attribution_calls == 1 + 5 + int(selected.sum()) * 4


AGREEMENT_CASES = [
    ("frame_lstm", {}),
    ("frame_lstm", REFERENCE_CODE_OPTIONS),
    ("frame_lstm", {"method": "integrated_gradients", "n_steps": 3}),
    ("frame_lstm", {"absolute": False, "mask_value": "blur"}),
    ("frame_lstm", {"features": "superpixels", "n_segments": 6}),
    ("ica_lstm", REFERENCE_CODE_OPTIONS),
    ("ica_lstm", {"method": "integrated_gradients", "n_steps": 3, "mask_value": "first_element"}),
]


@pytest.mark.parametrize("name, options", AGREEMENT_CASES, ids=[
    "lstm-algorithm", "lstm-reference-code", "lstm-integrated-gradients", "lstm-signed-blur", "lstm-superpixels",
    "ica-reference-code", "ica-integrated-gradients"])
def test_fast_engines_agree_with_the_naive_loop_in_float64(name, options):
    model = build_model(name, TINY_MODELS[name], seed=11).double()
    video = torch.rand(6, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(12))
    reference = temporal_saliency_rescaling_reference(model, video, block_size=5, **options)
    assert reference.selected.any()
    for engine in ENGINES:
        fast = temporal_saliency_rescaling(model, video, block_size=5, engine=engine, **options)
        assert torch.equal(fast.selected, reference.selected)
        assert relative_error(fast.time_relevance, reference.time_relevance) < 1e-9
        assert relative_error(fast.saliency, reference.saliency) < 1e-9, engine
        torch.testing.assert_close(fast.base_attribution, reference.base_attribution)


def test_fast_engines_agree_with_the_naive_loop_in_float32_to_the_issue_tolerance():
    model = build_model("frame_lstm", TINY_MODELS["frame_lstm"], seed=13)
    video = torch.rand(6, 1, 16, 16, generator=torch.Generator().manual_seed(14))
    reference = temporal_saliency_rescaling_reference(model, video, block_size=4)
    for engine in ENGINES:
        fast = temporal_saliency_rescaling(model, video, block_size=4, engine=engine)
        assert torch.equal(fast.selected, reference.selected)
        assert relative_error(fast.saliency, reference.saliency) < 1e-4


@pytest.mark.parametrize("engine", ENGINES)
def test_results_do_not_depend_on_batch_size(engine):
    model = build_model("ica_lstm", TINY_MODELS["ica_lstm"], seed=15).double()
    video = torch.rand(6, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(16))
    whole = temporal_saliency_rescaling(model, video, block_size=8, engine=engine)
    for batch_size in (1, 7):
        chunked = temporal_saliency_rescaling(model, video, block_size=8, engine=engine, batch_size=batch_size)
        assert relative_error(chunked.saliency, whole.saliency) < 1e-12
    bounded = temporal_saliency_rescaling(model, video, block_size=8, engine=engine, max_batch_bytes=2**16)
    assert relative_error(bounded.saliency, whole.saliency) < 1e-12


def test_auto_engine_uses_batched_for_a_model_without_a_frame_encoder():
    config = TINY_MODELS["c3d"]
    model = build_model("c3d", config, seed=17).double()
    video = torch.rand(16, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(18))
    fast = temporal_saliency_rescaling(model, video, block_size=8)
    assert fast.engine == "batched"
    reference = temporal_saliency_rescaling_reference(model, video, block_size=8)
    assert relative_error(fast.saliency, reference.saliency) < 1e-9
    with pytest.raises(ConfigError, match="no per-frame encoder"):
        temporal_saliency_rescaling(model, video, block_size=8, engine="factorised")


def test_a_split_that_does_not_reproduce_the_model_is_refused():
    _, video = quadratic_case()
    broken = BrokenSplit(torch.ones(1, 6, 6, dtype=torch.float64), torch.ones(5, dtype=torch.float64)).eval()
    with pytest.raises(ConfigError, match="does not reproduce its logits"):
        temporal_saliency_rescaling(broken, video, target=0, block_size=3, engine="factorised")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = temporal_saliency_rescaling(broken, video, target=0, block_size=3)
    assert result.engine == "batched" and any("falls back" in str(warning.message) for warning in caught)


def test_tsr_refuses_bad_input():
    model, video = quadratic_case()
    with pytest.raises(ConfigError, match="block_size=7.*larger than the 6×6 frame"):
        temporal_saliency_rescaling(model, video, block_size=7)
    with pytest.raises(ConfigError, match="block_size"):
        temporal_saliency_rescaling_reference(model, video, block_size=(2, 9))
    with pytest.raises(ConfigError, match="target=5"):
        temporal_saliency_rescaling(model, video, target=5)
    bad = video.clone()
    bad[2, 0, 1, 1] = float("nan")
    with pytest.raises(ConfigError, match="video: holds 1 NaN"):
        temporal_saliency_rescaling(model, bad)
    with pytest.raises(ConfigError, match="engine='gpu'"):
        temporal_saliency_rescaling(model, video, block_size=3, engine="gpu")
    with pytest.raises(ConfigError, match="time_scaling='log'"):
        temporal_saliency_rescaling(model, video, block_size=3, time_scaling="log")
    with pytest.raises(ConfigError, match="threshold_quantile"):
        temporal_saliency_rescaling(model, video, block_size=3, threshold_quantile=1.5)
    with pytest.raises(ConfigError, match="features"):
        temporal_saliency_rescaling(model, video, block_size=3, features="pixels")
    with pytest.raises(ConfigError, match="method='occlusion'"):
        temporal_saliency_rescaling(model, video, block_size=3, method="occlusion")
    with pytest.raises(ConfigError, match="features: a label map"):
        temporal_saliency_rescaling(model, video, features=torch.zeros(3, 3, dtype=torch.long))


def test_an_attribution_that_turns_infinite_is_refused():
    model, video = quadratic_case()
    with torch.no_grad():
        model.pixel_weights[0, 0, 0] = float("inf")
    with pytest.raises(ConfigError, match="NaN|infinite"):
        temporal_saliency_rescaling(model, video, target=0, block_size=3)


def test_constant_time_relevance_selects_no_frame():
    # A linear model's gradient does not depend on the input: masking changes nothing, Δ_t = 0.
    model = QuadraticFrames(torch.ones(1, 4, 4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)).eval()
    video = torch.zeros(4, 1, 4, 4, dtype=torch.float64)
    result = temporal_saliency_rescaling(model, video, target=0, block_size=2, **REFERENCE_CODE_OPTIONS)
    assert not result.selected.any() and result.attribution_calls == 5
    assert torch.all(result.saliency == 0)


def test_one_step_rescaling_scales_frames_by_min_max_time_contribution():
    saliency = torch.ones(3, 1, 2, 2)
    rescaled = one_step_rescaling(saliency, torch.tensor([0.2, -0.2, 0.0]))
    torch.testing.assert_close(rescaled[:, 0, 0, 0], torch.tensor([1.0, 0.0, 0.5]))
    torch.testing.assert_close(one_step_rescaling(saliency, torch.tensor([2.0, 1.0, 0.0]), scaling="none")[:, 0, 1, 1],
                               torch.tensor([2.0, 1.0, 0.0]))
    batch = one_step_rescaling(torch.ones(2, 3, 1, 2, 2), torch.tensor([[0.0, 1.0, 2.0], [3.0, 3.0, 3.0]]))
    torch.testing.assert_close(batch[:, :, 0, 0, 0], torch.tensor([[0.0, 0.5, 1.0], [0.0, 0.0, 0.0]]))
    with pytest.raises(ConfigError, match="one per frame"):
        one_step_rescaling(saliency, torch.ones(4))
    with pytest.raises(ConfigError, match="time_contribution: holds"):
        one_step_rescaling(saliency, torch.tensor([0.0, float("nan"), 1.0]))
