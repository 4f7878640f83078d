"""The front door ``explain(model, video, method, target=None, **options)``: one video or a batch, the predicted
class by default, the direct functions' option names, a typed result, and errors that name the argument.

A tiny C3D in float64, so that a batch explained in one call and video by video agree to rounding.
"""

from __future__ import annotations

import inspect

import pytest
import torch

from vidsal_core.errors import ConfigError
from vidsal_core.models.c3d import C3D
from vidsal_core.saliency import registry
from vidsal_core.saliency.registry import METHODS, Explanation, default_options, direct_function, explain

#: Small options for the costly methods, so that every method runs in a moment.
SMALL = {"integrated_gradients": {"n_steps": 3}, "smoothgrad": {"n_samples": 2}, "tsr": {"block_size": 8},
         "superpixel_tsr": {"n_segments": 4}}


@pytest.fixture(scope="module")
def c3d():
    torch.manual_seed(0)
    model = C3D(3, clip_length=16, input_size=(16, 16), width_multiplier=1 / 32).double().eval()
    videos = torch.rand(2, 16, 1, 16, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return model, videos


@pytest.mark.parametrize("method", list(METHODS))
def test_a_batch_gives_each_videos_own_explanation(c3d, method):
    model, videos = c3d
    batch = explain(model, videos, method, [2, 1], **SMALL.get(method, {}))
    alone = [explain(model, video, method, target, **SMALL.get(method, {})) for video, target in zip(videos, (2, 1))]
    assert isinstance(batch, Explanation) and batch.method == method
    assert batch.maps.shape == videos.shape and alone[0].maps.shape == videos[0].shape
    torch.testing.assert_close(batch.maps, torch.stack([one.maps for one in alone]), rtol=1e-10, atol=1e-12)
    if METHODS[method].asks_model:
        assert batch.target.tolist() == [2, 1] and alone[0].target.shape == () and int(alone[1].target) == 1
    assert batch.options == alone[0].options
    if method in ("tsr", "superpixel_tsr"):
        assert isinstance(batch.details, tuple) and len(batch.details) == 2
        assert torch.equal(batch.details[1].saliency, alone[1].details.saliency)
        assert torch.equal(alone[0].maps, alone[0].details.saliency)
    else:
        assert batch.details is None and alone[0].details is None


@pytest.mark.parametrize("method", ["input_gradient", "deep_taylor", "grad_cam", "tsr", "smoothgrad"])
def test_no_target_explains_each_videos_predicted_class(c3d, method):
    model, videos = c3d
    with torch.no_grad():
        predicted = model(videos).argmax(dim=1)
    explained = explain(model, videos, method, **SMALL.get(method, {}))
    assert torch.equal(explained.target, predicted)
    torch.testing.assert_close(explained.maps, explain(model, videos, method, predicted, **SMALL.get(method, {})).maps,
                               rtol=0, atol=0)
    one = explain(model, videos[1], method, **SMALL.get(method, {}))
    assert one.target.shape == () and int(one.target) == int(predicted[1])


def test_one_class_for_every_video_and_no_target_for_the_model_free_methods(c3d):
    model, videos = c3d
    assert explain(model, videos, "input_gradient", 1).target.tolist() == [1, 1]
    assert explain(None, videos, "random").target is None
    assert explain(None, videos, "flow", 0).target.tolist() == [0, 0]


def test_option_names_are_the_direct_functions_parameters():
    for name, entry in METHODS.items():
        parameters = inspect.signature(direct_function(name)).parameters
        for option in entry.options:
            if option == "variant":  # the registry's own: a set of TSR options
                continue
            assert entry.renamed.get(option, option) in parameters, (name, option)
        # only `method`, which names the saliency method in explain, is passed under another word
        assert set(entry.renamed.values()) <= {"method"}
    assert METHODS["grad_cam"].options.keys() == {"target_layer"}
    assert METHODS["integrated_gradients"].renamed == {"approximation": "method"}
    assert METHODS["tsr"].renamed == {"attribution": "method"}


def test_direct_function_names_are_accepted_and_give_the_direct_calls_maps(c3d):
    from vidsal_core.saliency.gradcam import class_activation_map
    from vidsal_core.saliency.gradients import integrated_gradients
    from vidsal_core.saliency.time_contribution import time_contribution

    model, videos = c3d
    video = videos[0]
    cam = explain(model, video, "grad_cam", 1, target_layer="features.relu4b")
    assert torch.equal(cam.maps, class_activation_map(model, video, 1, "grad_cam", target_layer="features.relu4b"))
    assert cam.options == {"target_layer": "features.relu4b"}
    assert explain(model, video, "grad_cam", 1).options == {"target_layer": "features.relu5b"}  # C3D's last block
    path = explain(model, video, "integrated_gradients", 1, n_steps=4, baseline="zero", approximation="riemann_left")
    assert torch.equal(path.maps, integrated_gradients(model, video, 1, "zero", 4, method="riemann_left"))
    assert path.options == {"n_steps": 4, "baseline": "zero", "approximation": "riemann_left",
                            "internal_batch_size": None}
    drop = time_contribution(model, video, target=1, baseline="mean", mean=0.5).probability_drop
    occlusion = explain(model, video, "frame_occlusion", 1, baseline="mean", mean=0.5)
    assert torch.equal(occlusion.maps[:, 0, 0, 0], drop.clamp_min(0).to(video))


def test_options_report_every_default_filled_in(c3d):
    from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS

    model, videos = c3d
    assert explain(model, videos[0], "input_gradient", 0).options == {"absolute": True}
    assert explain(model, videos[0], "deep_taylor", 0).options == {"max_pool": "proportional", "input_bounds": None,
                                                                   "stabilizer": 1e-6}
    library = explain(model, videos[0], "tsr", 0, block_size=8)
    assert library.options["mask_value"] == "zero" and library.options["variant"] is None  # Algorithm 1
    assert library.details.options["mask_value"] == "zero"
    book = explain(model, videos[0], "tsr", 0, block_size=8, variant="reference_code")
    assert {key: book.options[key] for key in REFERENCE_CODE_OPTIONS} == REFERENCE_CODE_OPTIONS
    assert book.options["block_size"] == 8 and book.options["attribution"] == "gradient"
    assert set(default_options("tsr")) == set(registry.TSR_OPTIONS)  # every TSR option has a default
    assert explain(None, videos[0], "random").options == {"seed": 0}


def test_bad_input_is_refused_naming_the_argument(c3d):
    model, videos = c3d
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['blocks'\]; tsr takes \['absolute', 'attribution'"):
        explain(model, videos, "tsr", 0, blocks=8)
    with pytest.raises(ConfigError, match=r"method='saliency': choose one of \['input_gradient'"):
        explain(model, videos, "saliency")
    with pytest.raises(ConfigError, match=r"video: expected one \(T, C, H, W\) video or a \(B, T, C, H, W\) batch, "
                                          r"got shape \(16, 16\)"):
        explain(model, videos[0, 0, 0], "input_gradient")
    with pytest.raises(ConfigError, match="video: expected one"):
        explain(model, videos.numpy(), "input_gradient")
    with pytest.raises(ConfigError, match=r"model: expected a torch.nn.Module, got str 'input_gradient'; "
                                          r"the arguments are "
                                          r"explain\(model, video, method, target=None"):
        explain("input_gradient", model, videos)  # the old order
    with pytest.raises(ConfigError, match=r"model: expected a torch.nn.Module mapping .* got NoneType"):
        explain(None, videos, "input_gradient")
    with pytest.raises(ConfigError, match=r"method: expected a method's name, one of \[.*\]; got int"):
        explain(model, videos, 3)
    with pytest.raises(ConfigError, match=r"target: expected one class or 2 \(one per video\), got 3"):
        explain(model, videos, "input_gradient", [0, 1, 2])
    with pytest.raises(ConfigError, match=r"target=0.5: class indices must be integers"):
        explain(model, videos, "input_gradient", 0.5)


def test_the_package_exports_the_front_door():
    import vidsal_core.saliency as saliency

    assert saliency.explain is explain and saliency.Explanation is Explanation
