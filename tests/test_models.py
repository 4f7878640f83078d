"""Models: input-cell attention against a step-by-step reference, C3D's topology,
input gradients in eval mode, the registry and the cuDNN switch."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from _toy_videos import TINY_ENCODER, TINY_MODELS, MovingSquares
from vidsal_core.errors import ConfigError
from vidsal_core.models.c3d import C3D, feature_shape
from vidsal_core.models.cudnn import cudnn_disabled
from vidsal_core.models.lstm import ICALSTM, FrameLSTM, InputCellAttention, window_mask
from vidsal_core.models.registry import available_models, build_model, register
from vidsal_core.models.resize import FrameResize


# --- input-cell attention: vectorised vs. the reference's loop ---------------------------------

def naive_attention_summary(attention: InputCellAttention, features: torch.Tensor, step: int) -> torch.Tensor:
    """``M_t`` of one step as the reference cell computes it: attend over the window's inputs only."""
    first = 0 if attention.window == "growing" else max(0, step - attention.window + 1)
    past = features[:, first:step + 1]  # (B, t', F)
    scores = attention.second(torch.tanh(attention.first(past)))  # (B, t', r)
    weights = torch.softmax(scores, dim=1).transpose(1, 2)  # softmax over time, (B, r, t')
    summary = weights @ past  # (B, r, F)
    if attention.hop_aggregation == "mean":
        return summary.sum(dim=1) / attention.hops
    return summary.flatten(start_dim=1)


def naive_lstm(lstm: torch.nn.LSTM, inputs: torch.Tensor) -> torch.Tensor:
    """Hidden states of a stacked LSTM, one cell update at a time (gates i, f, g, o)."""
    batch, length, _ = inputs.shape
    for layer in range(lstm.num_layers):
        weight_input = getattr(lstm, f"weight_ih_l{layer}")
        weight_hidden = getattr(lstm, f"weight_hh_l{layer}")
        bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        hidden = inputs.new_zeros(batch, lstm.hidden_size)
        cell = inputs.new_zeros(batch, lstm.hidden_size)
        outputs = []
        for step in range(length):
            gates = inputs[:, step] @ weight_input.T + hidden @ weight_hidden.T + bias
            input_gate, forget_gate, candidate, output_gate = gates.chunk(4, dim=1)
            cell = torch.sigmoid(forget_gate) * cell + torch.sigmoid(input_gate) * torch.tanh(candidate)
            hidden = torch.sigmoid(output_gate) * torch.tanh(cell)
            outputs.append(hidden)
        inputs = torch.stack(outputs, dim=1)
    return inputs


def naive_ica_logits(model: ICALSTM, videos: torch.Tensor) -> torch.Tensor:
    """Logits of an ICA-LSTM computed step by step, as the reference's Python loop does."""
    features = model.encode(videos)
    summaries = torch.stack(
        [naive_attention_summary(model.attention, features, step) for step in range(features.shape[1])], dim=1
    )
    return model.head(naive_lstm(model.lstm, summaries)[:, -1])


@pytest.mark.parametrize("window, hop_aggregation, num_layers", [
    ("growing", "mean", 1), (3, "mean", 2), (1, "mean", 1), ("growing", "flatten", 1), (4, "flatten", 2),
])
def test_vectorised_ica_matches_step_by_step_loop(window, hop_aggregation, num_layers):
    config = {**TINY_MODELS["ica_lstm"], "window": window, "hop_aggregation": hop_aggregation, "num_layers": num_layers}
    model = build_model("ica_lstm", config, seed=1).double()
    videos = torch.rand(3, 7, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(model(videos), naive_ica_logits(model, videos), rtol=0, atol=1e-5)


def test_attention_weights_are_a_distribution_over_the_window():
    attention = InputCellAttention(input_size=5, hops=3, attention_size=4, window=3)
    weights = attention.weights(torch.randn(2, 6, 5))
    mask = window_mask(6, 3)
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(2, 3, 6))
    assert torch.all(weights[..., ~mask] == 0)
    assert torch.all(weights[..., mask] > 0)


def test_window_mask_growing_is_causal_and_fixed_window_is_a_band():
    assert torch.equal(window_mask(5, "growing"), torch.ones(5, 5).tril().bool())
    assert torch.equal(window_mask(5, 1), torch.eye(5, dtype=torch.bool))
    assert window_mask(6, 2).sum(dim=1).tolist() == [1, 2, 2, 2, 2, 2]


@pytest.mark.parametrize("name", ["frame_lstm", "ica_lstm"])
def test_recurrent_models_are_causal(name):
    """The hidden state at step t does not depend on later frames."""
    model = build_model(name, TINY_MODELS[name], seed=0)
    videos = torch.rand(2, 6, 1, 16, 16)
    changed = videos.clone()
    changed[:, 4:] = torch.rand(2, 2, 1, 16, 16)
    with torch.no_grad():
        before, after = model.hidden_states(videos), model.hidden_states(changed)
    torch.testing.assert_close(before[:, :4], after[:, :4])
    assert not torch.allclose(before[:, 4:], after[:, 4:])


def test_bad_attention_settings_are_refused():
    with pytest.raises(ConfigError, match="window"):
        InputCellAttention(4, window=0)
    with pytest.raises(ConfigError, match="hop_aggregation"):
        InputCellAttention(4, hop_aggregation="sum")


# --- C3D ------------------------------------------------------------------------------------

def test_c3d_at_paper_size_has_the_papers_fc6_input():
    """16 frames at 112×112 leave 512×1×4×4 = 8192 features before fc6 (Tran et al., 2015)."""
    assert feature_shape(16, (112, 112)) == (1, 4, 4)
    with torch.device("meta"):
        model = C3D(num_classes=487, in_channels=3)
    assert model.classifier.fc6.in_features == 8192
    assert model.classifier.fc6.out_features == model.classifier.fc7.out_features == 4096
    widths = [layer.out_channels for layer in model.features if isinstance(layer, torch.nn.Conv3d)]
    assert widths == [64, 128, 256, 256, 512, 512, 512, 512]
    assert all(layer.kernel_size == (3, 3, 3) for layer in model.features if isinstance(layer, torch.nn.Conv3d))


def test_c3d_width_multiplier_scales_every_layer():
    with torch.device("meta"):
        model = C3D(num_classes=6, width_multiplier=0.125, input_size=(60, 80))
    widths = [layer.out_channels for layer in model.features if isinstance(layer, torch.nn.Conv3d)]
    assert widths == [8, 16, 32, 32, 64, 64, 64, 64]
    assert model.classifier.fc7.in_features == 512


def test_c3d_without_bias_has_no_bias_and_named_layers():
    model = C3D(**{**TINY_MODELS["c3d"], "bias": False})
    assert all(layer.bias is None for layer in model.modules() if isinstance(layer, (torch.nn.Conv3d, torch.nn.Linear)))
    names = [name for name, _ in model.features.named_children()]
    assert names[:3] == ["conv1", "relu1", "pool1"] and names[-1] == "pool5"
    assert model.features.pool5.padding == (0, 1, 1)


def test_c3d_refuses_wrong_clip_length_and_too_small_input():
    model = build_model("c3d", TINY_MODELS["c3d"])
    with pytest.raises(ConfigError, match="clips of 16 frames"):
        model(torch.rand(1, 15, 1, 16, 16))
    with pytest.raises(ConfigError, match="too small"):
        C3D(num_classes=2, clip_length=8)


# --- every model: shapes, eval-mode input gradients, resizing ---------------------------------

def tiny_videos(name: str, batch: int = 2) -> torch.Tensor:
    length = TINY_MODELS[name].get("clip_length", 6)
    return torch.rand(batch, length, 1, 32, 32, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", ["frame_lstm", "ica_lstm", "c3d"])
def test_eval_mode_input_gradients_are_finite_and_nonzero(name):
    model = build_model(name, TINY_MODELS[name], seed=0)
    assert not model.training
    videos = tiny_videos(name).requires_grad_(True)
    logits = model(videos)
    assert logits.shape == (2, 2)
    logits[:, 1].sum().backward()
    assert torch.isfinite(videos.grad).all()
    assert (videos.grad != 0).any(dim=(2, 3, 4)).all(), "every frame of every video gets some gradient"


@pytest.mark.parametrize("name", ["frame_lstm", "ica_lstm", "c3d"])
def test_eval_mode_is_deterministic_and_batch_independent(name):
    model = build_model(name, TINY_MODELS[name], seed=0)
    videos = tiny_videos(name, batch=3)
    with torch.no_grad():
        together = model(videos)
        alone = torch.cat([model(videos[index:index + 1]) for index in range(3)])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(together, model(videos).detach())


def test_models_refuse_videos_of_the_wrong_shape():
    model = build_model("frame_lstm", TINY_MODELS["frame_lstm"])
    with pytest.raises(ConfigError, match=r"\(B, T, C, H, W\)"):
        model(torch.rand(6, 1, 16, 16))
    with pytest.raises(ConfigError, match="channel"):
        model(torch.rand(1, 6, 3, 16, 16))


def test_frame_resize_halving_is_the_mean_of_2x2_blocks():
    videos = torch.rand(2, 3, 1, 8, 10)
    expected = F.avg_pool2d(videos.flatten(0, 1), 2).reshape(2, 3, 1, 4, 5)
    torch.testing.assert_close(FrameResize((4, 5))(videos), expected)
    assert FrameResize((8, 10))(videos) is videos


def test_full_size_and_presized_videos_give_the_same_logits():
    model = build_model("frame_lstm", TINY_MODELS["frame_lstm"], seed=0)
    videos = torch.rand(2, 6, 1, 32, 32)
    presized = F.avg_pool2d(videos.flatten(0, 1), 2).reshape(2, 6, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(videos), model(presized))


def test_encoder_trains_with_the_model():
    """Unlike seed 000's code, the frame encoder's weights receive gradients."""
    model = build_model("frame_lstm", TINY_MODELS["frame_lstm"], seed=0).train()
    item = MovingSquares(count=2, frames=6)[0]
    model(item.video[None])[:, 0].sum().backward()
    assert model.encoder.projection.weight.grad.abs().sum() > 0
    assert model.encoder.stem.conv.weight.grad.abs().sum() > 0


def test_paper_sized_frame_encoder_is_resnet18_with_a_300_head():
    with torch.device("meta"):
        model = FrameLSTM(num_classes=2, input_size=(120, 120), hidden_size=256, num_layers=3, head_size=128, encoder={
            "stem_channels": 64, "stem_kernel": 7, "stem_pool": True, "channels": [64, 128, 256, 512],
            "stage_strides": [1, 2, 2, 2], "blocks_per_stage": 2, "residual": True, "pool_grid": [1, 1],
            "feature_size": 300})
    convolutions = [layer for layer in model.encoder.modules() if isinstance(layer, torch.nn.Conv2d)]
    assert sum(layer.kernel_size != (1, 1) for layer in convolutions) == 17  # ResNet-18: 17 conv + 1 fc
    assert model.encoder.projection.in_features == 512 and model.encoder.projection.out_features == 300
    assert model.lstm.num_layers == 3 and model.lstm.hidden_size == 256


# --- registry ---------------------------------------------------------------------------------

def test_registry_builds_models_by_name_with_full_configs():
    assert {"frame_lstm", "ica_lstm", "c3d"} <= set(available_models())
    model = build_model("ica_lstm", {"num_classes": 6, "encoder": TINY_ENCODER}, seed=0)
    assert isinstance(model, ICALSTM) and model.model_name == "ica_lstm"
    assert model.config["window"] == "growing" and model.config["attention_hops"] == 20
    rebuilt = build_model("ica_lstm", model.config, seed=0)
    assert rebuilt.config == model.config


def test_same_seed_gives_same_weights_and_leaves_global_generator_alone():
    state = torch.random.get_rng_state()
    first = build_model("c3d", TINY_MODELS["c3d"], seed=5).state_dict()
    second = build_model("c3d", TINY_MODELS["c3d"], seed=5).state_dict()
    third = build_model("c3d", TINY_MODELS["c3d"], seed=6).state_dict()
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(first[key], second[key]) for key in first)
    assert not torch.equal(first["features.conv1.weight"], third["features.conv1.weight"])


def test_registry_refuses_unknown_names_and_keys():
    with pytest.raises(ConfigError, match="unknown model"):
        build_model("resnet9000")
    with pytest.raises(ConfigError, match="hidden_sise"):
        build_model("frame_lstm", {"num_classes": 2, "hidden_sise": 3})


def test_register_adds_a_model_and_refuses_silent_replacement():
    register("toy_linear_test", lambda num_classes=2: torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(num_classes)))
    assert "toy_linear_test" in available_models()
    assert build_model("toy_linear_test", {"num_classes": 3}).model_name == "toy_linear_test"
    with pytest.raises(ConfigError, match="replace=True"):
        register("frame_lstm", FrameLSTM.__init__)


# --- cuDNN ------------------------------------------------------------------------------------

def test_cudnn_disabled_restores_the_flag():
    before = torch.backends.cudnn.enabled
    with cudnn_disabled():
        assert not torch.backends.cudnn.enabled
    assert torch.backends.cudnn.enabled == before


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", ["frame_lstm", "ica_lstm"])
def test_lstm_input_gradients_on_cuda_in_eval_mode(name):
    """cuDNN's LSTM refuses backward in eval mode; with cuDNN off the gradient matches the CPU's."""
    model = build_model(name, TINY_MODELS[name], seed=0)
    videos = tiny_videos(name)
    cpu_videos = videos.clone().requires_grad_(True)
    model(cpu_videos)[:, 1].sum().backward()
    model = model.cuda()
    cuda_videos = videos.cuda().requires_grad_(True)
    with pytest.raises(RuntimeError, match="training mode"):
        model(cuda_videos)[:, 1].sum().backward()
    cuda_videos.grad = None
    with cudnn_disabled():
        model(cuda_videos)[:, 1].sum().backward()
    assert not model.training
    torch.testing.assert_close(cuda_videos.grad.cpu(), cpu_videos.grad, rtol=1e-3, atol=1e-5)


def test_recurrent_backward_is_a_no_op_on_the_cpu():
    from vidsal_core.models.cudnn import recurrent_backward

    model = build_model("ica_lstm", {**TINY_MODELS["ica_lstm"], "dropout": 0.5}, seed=0)
    with recurrent_backward(model):
        assert not any(module.training for module in model.modules())
    assert not model.training


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", ["frame_lstm", "ica_lstm"])
def test_recurrent_backward_keeps_cudnn_and_eval_mode_semantics(name):
    """Only the LSTM switches to train mode, cuDNN stays on, and the gradient is the CPU's."""
    from vidsal_core.models.cudnn import recurrent_backward

    model = build_model(name, {**TINY_MODELS[name], "dropout": 0.5}, seed=0)  # the feature dropout must stay off
    videos = tiny_videos(name)
    cpu_videos = videos.clone().requires_grad_(True)
    model(cpu_videos)[:, 1].sum().backward()
    model = model.cuda()
    cuda_videos = videos.cuda().requires_grad_(True)
    with recurrent_backward(model):
        assert torch.backends.cudnn.enabled
        switched = [m for m in model.modules() if m.training]
        assert switched and all(isinstance(m, torch.nn.RNNBase) for m in switched)
        model(cuda_videos)[:, 1].sum().backward()
    assert not any(m.training for m in model.modules())
    torch.testing.assert_close(cuda_videos.grad.cpu(), cpu_videos.grad, rtol=1e-4, atol=1e-6)


# --- frame differences (issue 14: the per-frame CNN sees motion) ------------------------------------------


@pytest.mark.parametrize("model_class", [FrameLSTM, ICALSTM])
def test_frame_differences_feed_the_encoder_each_frame_and_its_change_worked_out_by_hand(model_class):
    model = model_class(3, input_size=None, encoder=TINY_ENCODER, frame_differences=True).eval()
    # one 1x2-pixel frame per step: values 0, 1, 3 and 2 at the first pixel, 5 throughout at the second
    values = torch.tensor([0.0, 1.0, 3.0, 2.0])
    video = torch.stack([values, torch.full((4,), 5.0)], dim=-1).reshape(1, 4, 1, 1, 2)
    seen = []
    model.encoder.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].detach()))
    model(video)
    frames, differences = seen[0][:, 0], seen[0][:, 1]
    assert frames.flatten().tolist() == [0, 5, 1, 5, 3, 5, 2, 5]
    # the first frame has no predecessor (difference 0); then 1-0, 3-1, 2-3; the still pixel never changes
    assert differences.flatten().tolist() == [0, 0, 1, 0, 2, 0, -1, 0]


def test_frame_differences_rebuild_from_config_and_are_absent_from_the_seeds_config():
    model = FrameLSTM(6, encoder=TINY_ENCODER, frame_differences=True).eval()
    assert model.config["frame_differences"] is True and model.config["in_channels"] == 1
    assert model.encoder.config["in_channels"] == 2
    rebuilt = build_model("frame_lstm", model.config).eval()
    rebuilt.load_state_dict(model.state_dict())
    video = torch.rand(2, 5, 1, 60, 80)
    assert torch.equal(rebuilt(video), model(video))
    # the seed's model keeps the configuration its checkpoints were saved with
    assert "frame_differences" not in FrameLSTM(6, encoder=TINY_ENCODER).config


def test_frame_differences_make_a_still_video_look_like_the_seeds_model_with_the_same_frame_weights():
    torch.manual_seed(0)
    plain = FrameLSTM(2, input_size=None, encoder=TINY_ENCODER).eval()
    moving = FrameLSTM(2, input_size=None, encoder=TINY_ENCODER, frame_differences=True).eval()
    state = plain.state_dict()
    stem = "encoder.stem.conv.weight"
    # the frame channel gets the seed model's weights; the difference channel any weights at all
    state[stem] = torch.cat([state[stem], torch.randn_like(state[stem])], dim=1)
    moving.load_state_dict(state)
    still = torch.rand(1, 1, 1, 12, 16).expand(2, 6, 1, 12, 16)
    torch.testing.assert_close(moving(still), plain(still))
    assert not torch.allclose(moving(torch.rand(2, 6, 1, 12, 16)), plain(torch.rand(2, 6, 1, 12, 16)))


def test_frame_differences_must_be_a_boolean():
    with pytest.raises(ConfigError, match="frame_differences='yes'"):
        FrameLSTM(2, frame_differences="yes")
