"""The saliency registry: every method by name, the same tensors as the direct calls, clear errors."""

from __future__ import annotations

import inspect

import pytest
import torch

from _saliency_models import LinearFrames, QuadraticFrames
from vidsal_core.errors import ConfigError
from vidsal_core.saliency import registry
from vidsal_core.saliency.registry import METHODS, explain, methods, options_of

#: Small options for the costly methods, so that every method runs in a moment.
SMALL = {"integrated_gradients": {"n_steps": 3}, "smoothgrad": {"n_samples": 2}, "tsr": {"block_size": 8},
         "superpixel_tsr": {"n_segments": 4}}


def _c3d():
    from vidsal_core.models.c3d import C3D

    torch.manual_seed(0)
    return C3D(3, clip_length=16, input_size=(16, 16), width_multiplier=1 / 32).eval()


def test_the_registry_lists_every_method_of_the_studies():
    from vidsal_study.chapters.evaluation import study as evaluation_study

    assert methods() == list(METHODS) == list(evaluation_study.METHODS)
    for name in methods():
        assert METHODS[name].summary and isinstance(options_of(name), dict)
    assert set(options_of("tsr")) == set(registry.TSR_OPTIONS)
    assert {"max_pool"} <= set(options_of("deep_taylor")) and set(options_of("grad_cam")) == {"target_layer"}
    import vidsal_core.saliency as saliency

    assert saliency.explain is explain


def test_tsr_options_are_the_keywords_of_temporal_saliency_rescaling():
    from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS, temporal_saliency_rescaling

    keywords = [name for name, parameter in inspect.signature(temporal_saliency_rescaling).parameters.items()
                if parameter.kind is inspect.Parameter.KEYWORD_ONLY]
    renamed = {"attribution": "method"}
    assert sorted(renamed.get(name, name) for name in registry.TSR_OPTIONS if name != "variant") == sorted(
        name for name in keywords if name != "features")
    assert set(REFERENCE_CODE_OPTIONS) <= set(registry.TSR_OPTIONS)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_gives_a_map_of_the_videos_shape(method):
    model = _c3d()
    video = torch.rand(16, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    saliency = explain(model, video, method, 1, **SMALL.get(method, {})).maps
    assert isinstance(saliency, torch.Tensor) and saliency.shape == video.shape
    assert torch.isfinite(saliency).all()


def test_flow_can_keep_its_own_shape():
    video = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    raw = explain(None, video, "flow", 0, as_clip=False).maps
    assert raw.shape == (4, 8, 8)
    padded = explain(None, video, "flow", 0).maps
    assert padded.dtype == torch.float32 and torch.equal(padded[-1, 0], padded[-2, 0])
    assert torch.equal(padded[:4, 0], raw.float())


def _float64():
    generator = torch.Generator().manual_seed(3)
    model = QuadraticFrames(torch.rand(1, 4, 6, generator=generator, dtype=torch.float64) + 0.5,
                            torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64)).eval()
    video = torch.rand(4, 1, 4, 6, generator=generator, dtype=torch.float64) + 0.5
    return model, video


def test_the_registry_gives_exactly_the_direct_calls_tensors():
    from vidsal_core.saliency import gradients
    from vidsal_core.saliency.time_contribution import time_contribution
    from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS, one_step_rescaling, temporal_saliency_rescaling

    model, video = _float64()
    pairs = [
        (explain(model, video, "input_gradient", 0).maps, gradients.input_gradient(model, video, 0)),
        (explain(model, video, "input_gradient", 0, absolute=False).maps,
         gradients.input_gradient(model, video, 0, absolute=False)),
        (explain(model, video, "integrated_gradients", 0, n_steps=5, approximation="riemann_trapezoid").maps,
         gradients.integrated_gradients(model, video, 0, n_steps=5, method="riemann_trapezoid")),
        (explain(model, video, "smoothgrad", 1, n_samples=3, seed=4).maps,
         gradients.smoothgrad(model, video, 1, n_samples=3, seed=4)),
        (explain(model, video, "tsr", 0, block_size=2, variant="reference_code").maps,
         temporal_saliency_rescaling(model, video, 0, features="blocks", block_size=2,
                                     **REFERENCE_CODE_OPTIONS).saliency),
        (explain(model, video, "tsr", 0, block_size=2, variant="reference_code", below_threshold=0.3).maps,
         temporal_saliency_rescaling(model, video, 0, block_size=2, **{**REFERENCE_CODE_OPTIONS,
                                                                         "below_threshold": 0.3}).saliency),
        (explain(model, video, "one_step", 0).maps,
         one_step_rescaling(gradients.input_gradient(model, video, 0),
                            time_contribution(model, video, target=0).probability_drop)),
        (explain(model, video, "random", 0, seed=7).maps,
         torch.rand(video.shape, generator=torch.Generator().manual_seed(7))),
    ]
    for mine, direct in pairs:
        assert mine.dtype == direct.dtype and torch.equal(mine, direct)
    assert explain(model, video, "input_gradient", 0).maps.dtype == torch.float64
    result = explain(model, video, "tsr", 0, block_size=2).details
    assert torch.equal(result.saliency, explain(model, video, "tsr", 0, block_size=2).maps)
    assert result.options["mask_value"] == "zero"  # no variant: the library's defaults (Algorithm 1)


def test_frame_occlusion_is_the_positive_probability_drop_broadcast():
    from vidsal_core.saliency.time_contribution import time_contribution

    model = LinearFrames(torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)).eval()
    video = torch.rand(4, 1, 2, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    drop = time_contribution(model, video, target=0, baseline="zero").probability_drop.clamp_min(0).to(video)
    assert torch.equal(explain(model, video, "frame_occlusion", 0, baseline="zero").maps,
                       drop[:, None, None, None].expand_as(video))


def test_lrp_and_cam_methods_match_their_library_calls_on_a_c3d():
    from vidsal_core.saliency.gradcam import class_activation_map
    from vidsal_core.saliency.lrp import relevance
    from vidsal_core.saliency.lrp_fast import deep_taylor

    model = _c3d().double()
    video = torch.rand(16, 1, 16, 16, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    for rule in ("proportional", "winner_take_all"):
        assert torch.equal(explain(model, video, "deep_taylor", 2, max_pool=rule).maps,
                           deep_taylor(model, video[None], 2, max_pool=rule)[0])
    assert torch.equal(explain(model, video, "deep_taylor", 2).maps, deep_taylor(model, video[None], 2)[0])
    assert torch.equal(explain(model, video, "sensitivity", 2).maps, relevance(model, video[None], 2, "sensitivity")[0])
    torch.testing.assert_close(explain(model, video, "grad_cam", 2, target_layer="features.relu4b").maps,
                               class_activation_map(model, video, 2, "grad_cam", "features.relu4b"), rtol=0, atol=0)


def test_the_studies_explain_through_the_registry():
    """The border, evaluation and TSR studies' own names give the registry's maps."""
    from vidsal_study.chapters import border
    from vidsal_study.chapters.evaluation import study as evaluation_study
    from vidsal_study.chapters.tsr import study as tsr_study

    model, video = _float64()
    options = {"ig_steps": 4, "smoothgrad_samples": 2, "tsr_block": 2, "superpixels": 4, "occlusion_baseline": "zero",
               "seed": 3, "tsr_variant": "reference_code"}
    for method, expected in (("integrated_gradients", {"n_steps": 4, "internal_batch_size": 4}),
                             ("smoothgrad", {"n_samples": 2}), ("one_step", {"baseline": "zero"}),
                             ("tsr", {"block_size": 2, "n_segments": 4, "variant": "reference_code"}),
                             ("random", {"seed": 3}), ("input_gradient", {})):
        assert torch.equal(evaluation_study.explain(model, video, 0, method, options),
                           explain(model, video, method, 0, **expected).maps), method
    explained = tsr_study.explain(model, video, 0, block_size=2, superpixels=4)
    assert torch.equal(explained["maps"]["gradient"], explain(model, video, "input_gradient", 0).maps)
    assert torch.equal(explained["maps"]["tsr_blocks"], explain(model, video, "tsr", 0, block_size=2,
                                                                variant="reference_code").maps)
    assert torch.equal(explained["maps"]["farneback"], explain(model, video, "flow", 0, as_clip=False).maps)
    c3d = _c3d()
    clip = torch.rand(16, 1, 16, 16, generator=torch.Generator().manual_seed(8))
    assert torch.equal(border.explanation_map(c3d, clip, 1, "deep_taylor_winner_take_all"),
                       explain(c3d, clip, "deep_taylor", 1, max_pool="winner_take_all").maps)
    assert torch.equal(border.explanation_map(c3d, clip, 1, "grad_cam_block4"),
                       explain(c3d, clip, "grad_cam", 1, target_layer=border.CAM_BLOCK4_LAYERS["c3d"]).maps)


def test_unknown_methods_and_options_are_refused_by_name():
    model, video = _float64()
    with pytest.raises(ConfigError, match=r"method='deep_taylr': choose one of \['input_gradient', .*'random'\]"):
        explain(model, video, "deep_taylr", 0)
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['steps'\]; integrated_gradients takes "
                                          r"\['approximation', 'baseline', 'internal_batch_size', 'n_steps'\]"):
        explain(model, video, "integrated_gradients", 0, steps=4)
    with pytest.raises(ConfigError, match=r"explain\(method='grad_cam'\): unknown option\(s\) \['layer'\]; "
                                          r"grad_cam takes \['target_layer'\]"):
        explain(model, video, "grad_cam", 0, layer="features.relu5b")  # class_activation_map's name is target_layer
    with pytest.raises(ConfigError, match=r"variant='paper': choose one of \['reference_code', 'algorithm_1'\]"):
        explain(model, video, "tsr", 0, variant="paper")
    with pytest.raises(ConfigError, match=r"video: expected one \(T, C, H, W\) video or a \(B, T, C, H, W\) batch, "
                                          r"got shape \(1, 1, 4, 1, 4, 6\)"):
        explain(model, video[None, None], "input_gradient", 0)
    with pytest.raises(ConfigError, match="choose one of"):
        options_of("lime")
    from vidsal_study.chapters.evaluation import study as evaluation_study

    with pytest.raises(ConfigError, match=r"method='lime': choose one of"):
        evaluation_study.explain(model, video, 0, "lime", {})
