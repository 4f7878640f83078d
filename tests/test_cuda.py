"""The GPU path is the same torch code: every method gives the CPU's answer on CUDA.

Skipped without CUDA (CI has none); run on a lent GPU with
``python -m pytest -q tests/test_cuda.py``. Models are tiny and in float64 so the
two devices agree to rounding; cuDNN's LSTM (which refuses backward in eval
mode) is switched off by the methods themselves.
"""

import pytest
import torch

from _toy_videos import TINY_MODELS
from vidsal_core.models.registry import build_model

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def _model_and_videos(name, batch=2):
    model = build_model(name, TINY_MODELS[name], seed=0).double().eval()
    length = TINY_MODELS[name].get("clip_length", 6)
    videos = torch.rand(batch, length, 1, 16, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return model, videos


def _both(function, name, **options):
    model, videos = _model_and_videos(name)
    on_cpu = function(model, videos, **options)
    on_cuda = function(model.cuda(), videos.cuda(), **options)
    assert on_cuda.device.type == "cuda", "the result stays on the model's device"
    return on_cpu, on_cuda.cpu()


@pytest.mark.parametrize("name", ["frame_lstm", "ica_lstm", "c3d"])
@pytest.mark.parametrize("method", ["input_gradient", "integrated_gradients", "smoothgrad"])
def test_gradient_methods_agree(name, method):
    from vidsal_core.saliency import gradients

    function = getattr(gradients, method)
    options = {"target": 1}
    if method == "integrated_gradients":
        options["n_steps"] = 8
    if method == "smoothgrad":
        # CPU and CUDA draw different noise from the same seed: compare the noiseless path
        options.update(n_samples=4, noise_std=0.0, seed=0)
    on_cpu, on_cuda = _both(function, name, **options)
    torch.testing.assert_close(on_cuda, on_cpu, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name, engine", [("frame_lstm", "factorised"), ("ica_lstm", "factorised"),
                                          ("frame_lstm", "batched"), ("c3d", "batched")])
def test_two_step_tsr_agrees(name, engine):
    from vidsal_core.saliency.tsr import temporal_saliency_rescaling

    def tsr(model, videos):
        return temporal_saliency_rescaling(model, videos[0], target=1, block_size=4, engine=engine).saliency

    on_cpu, on_cuda = _both(tsr, name)
    torch.testing.assert_close(on_cuda, on_cpu, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("method", ["deep_taylor", "epsilon_plus_flat", "sensitivity"])
def test_lrp_on_c3d_agrees(method):
    from vidsal_core.saliency.lrp import relevance

    def explain(model, videos):
        return relevance(model, videos, target=1, method=method)

    on_cpu, on_cuda = _both(explain, "c3d")
    torch.testing.assert_close(on_cuda, on_cpu, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("method", ["grad_cam", "grad_cam_plus_plus", "xgrad_cam"])
def test_class_activation_maps_on_c3d_agree(method):
    from vidsal_core.saliency.gradcam import class_activation_map

    def explain(model, videos):
        return class_activation_map(model, videos, target=1, method=method)

    on_cpu, on_cuda = _both(explain, "c3d")
    torch.testing.assert_close(on_cuda, on_cpu, rtol=1e-6, atol=1e-10)
