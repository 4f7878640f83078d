"""vidsal_study.chapters.models.report (the models chapter's numbers) and the I3D entries of the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.models.i3d import DEFAULT_WEIGHTS_PATH, InceptionI3d
from vidsal_core.models.registry import available_models, build_model
from vidsal_study.chapters.models.report import (
    attended_frames, batch_dependence, confused_pairs, count_parameters, errors_within,
    offset_only_accuracy, parameter_change, target_status, training_clip_offsets, training_curves,
)
from vidsal_core.models.train import RandomClips

CLASSES = ["walking", "jogging", "running", "boxing", "handwaving", "handclapping"]


# --- targets and verdicts ----------------------------------------------------------------------

@pytest.mark.parametrize("estimate, low, high, status", [
    (0.97, 0.95, 0.99, "met"),
    (0.96, 0.90, 0.99, "met by the estimate only"),
    (0.93, 0.88, 0.97, "not met, within the interval"),
    (0.80, 0.70, 0.90, "not met"),
])
def test_target_status_reads_the_interval(estimate, low, high, status):
    assert target_status(estimate, low, high, 0.95) == status


def test_target_status_with_a_floor_for_the_lower_end():
    assert target_status(0.98, 0.94, 1.0, 0.97, floor=0.93) == "met"
    assert target_status(0.98, 0.92, 1.0, 0.97, floor=0.93) == "met by the estimate only"
    assert target_status(0.96, 0.94, 0.99, 0.97, floor=0.93) == "not met, within the interval"
    with pytest.raises(ConfigError, match="floor"):
        target_status(0.98, 0.94, 1.0, 0.97, floor=0.99)


def test_target_status_refuses_an_estimate_outside_its_interval():
    with pytest.raises(ConfigError, match="low <= estimate <= high"):
        target_status(0.5, 0.6, 0.9, 0.8)


def test_accuracy_report_estimate_is_over_persons():
    from vidsal_core.models.evaluation import AccuracyReport

    report = AccuracyReport(0.75, 6, 8, 0.4, 0.9, 0.5, 1.0, 4, [[3, 1], [1, 3]],
                            outcomes=[True, True, False, True, True, False, True, True],
                            groups=["1", "1", "2", "2", "3", "3", "4", "4"])
    estimate = report.estimate()
    assert (estimate.mean, estimate.count, estimate.units) == (0.75, 8, 4)
    assert estimate.low < 0.75 < estimate.high
    with pytest.raises(ConfigError, match="no per-video outcomes"):
        AccuracyReport(0.75, 6, 8, 0.4, 0.9, 0.5, 1.0, 4, [[3, 1], [1, 3]]).estimate()


# --- confusions --------------------------------------------------------------------------------

def hand_confusion():
    matrix = np.diag([10, 9, 8, 5, 6, 7])
    matrix[3, 5] = 4   # boxing → handclapping
    matrix[4, 5] = 3   # handwaving → handclapping
    matrix[2, 1] = 2   # running → jogging
    matrix[5, 0] = 1   # handclapping → walking
    return matrix


def test_confused_pairs_lists_the_largest_errors_first():
    pairs = confused_pairs(hand_confusion(), CLASSES, top=3)
    assert [(p["true"], p["predicted"], p["count"]) for p in pairs] == [
        ("boxing", "handclapping", 4), ("handwaving", "handclapping", 3), ("running", "jogging", 2)]
    assert pairs[0]["share"] == pytest.approx(4 / 9)
    assert confused_pairs(np.eye(6, dtype=int), CLASSES) == []


def test_errors_within_a_group():
    within, total = errors_within(hand_confusion(), CLASSES, ["boxing", "handwaving", "handclapping"])
    assert (within, total) == (7, 8)
    with pytest.raises(ConfigError, match="not among the classes"):
        errors_within(hand_confusion(), CLASSES, ["swimming"])
    with pytest.raises(ConfigError, match="6x6"):
        confused_pairs(np.eye(3), CLASSES)


# --- curves and parameters ---------------------------------------------------------------------

def test_training_curves_from_a_manifest_entry():
    entry = {"training": {"curves": [{"epoch": 1, "train_loss": 0.7, "train_accuracy": 0.5,
                                      "validation_loss": 0.6, "validation_accuracy": 0.6, "seconds": 1.0}]}}
    assert training_curves(entry)["validation_accuracy"].tolist() == [0.6]
    with pytest.raises(ConfigError, match="no training curves"):
        training_curves({"role": "untrained"})


class TwoParts(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
        self.head = nn.Linear(2, 2, bias=False)


def test_parameter_change_by_hand():
    torch.manual_seed(0)
    untrained = TwoParts()
    trained = TwoParts()
    trained.load_state_dict(untrained.state_dict())
    with torch.no_grad():
        trained.head.weight.mul_(2.0)                 # relative change exactly 1
    change = parameter_change(trained, untrained)
    assert change.loc["head", "relative change"] == pytest.approx(1.0)
    assert change.loc["encoder", "relative change"] == 0.0 and change.loc["encoder", "tensors changed"] == 0.0
    assert change.loc["encoder", "parameters"] == 3 * 4 + 4 + 4 * 2 + 2
    deeper = parameter_change(trained, untrained, depth=2)
    assert set(deeper.index) == {"encoder.0", "encoder.1", "head"}
    assert count_parameters(untrained) == 3 * 4 + 4 + 4 * 2 + 2 + 4
    with pytest.raises(ConfigError, match="same architecture"):
        parameter_change(trained, nn.Linear(2, 2))


# --- BatchNorm mode during saliency ------------------------------------------------------------

class TinyBatchNormNet(nn.Module):
    def __init__(self, batch_norm: bool = True):
        super().__init__()
        self.convolution = nn.Conv2d(1, 3, 3, padding=1)
        self.norm = nn.BatchNorm2d(3) if batch_norm else nn.Identity()
        self.linear = nn.Linear(3 * 2 * 4 * 4, 2)

    def forward(self, videos):
        batch, frames = videos.shape[:2]
        features = torch.relu(self.norm(self.convolution(videos.flatten(0, 1))))
        return self.linear(features.reshape(batch, -1))


def tiny_videos(count: int, seed: int = 0) -> torch.Tensor:
    return torch.rand((count, 2, 1, 4, 4), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_batch_dependence_is_zero_in_eval_mode_and_not_in_training_mode():
    torch.manual_seed(0)
    model = TinyBatchNormNet().double().eval()
    with torch.no_grad():          # non-trivial running statistics
        model.norm.running_mean.uniform_(-0.5, 0.5)
    state = {key: value.clone() for key, value in model.state_dict().items()}
    video, companions = tiny_videos(1)[0], tiny_videos(4, seed=1)
    assert batch_dependence(model, video, companions, target=1, training=False) < 1e-12
    assert batch_dependence(model, video, companions, target=1, training=True) > 1e-3
    # the model is left as it was: eval mode, same running statistics
    assert not model.training
    assert all(torch.equal(state[key], value) for key, value in model.state_dict().items())


def test_batch_dependence_without_batch_norm_is_zero_in_both_modes():
    model = TinyBatchNormNet(batch_norm=False).double()
    video, companions = tiny_videos(1)[0], tiny_videos(3, seed=2)
    for training in (False, True):
        assert batch_dependence(model, video, companions, target=0, training=training) < 1e-12


def test_batch_dependence_refuses_mismatched_companions():
    with pytest.raises(ConfigError, match="companions"):
        batch_dependence(TinyBatchNormNet().double(), tiny_videos(1)[0], tiny_videos(2)[:, :1], 0, False)


# --- attention spread --------------------------------------------------------------------------

def test_attended_frames_by_hand():
    length = 5
    growing = torch.tril(torch.ones(length, length))
    growing = (growing / growing.sum(-1, keepdim=True))[None, None]
    assert torch.allclose(attended_frames(growing), torch.arange(1, length + 1, dtype=torch.float64))
    current_only = torch.eye(length)[None, None].expand(2, 3, -1, -1)   # the seed's M_t = x_t
    assert torch.allclose(attended_frames(current_only), torch.ones(length, dtype=torch.float64))
    with pytest.raises(ConfigError, match="sum to 1"):
        attended_frames(torch.ones(1, 1, 3, 3))


def test_attended_frames_of_a_real_ica_lstm_grow_with_the_window():
    model = build_model("ica_lstm", {"num_classes": 2, "input_size": [16, 16], "hidden_size": 4, "head_size": 4,
                                     "attention_hops": 2, "attention_size": 3,
                                     "encoder": {"stem_channels": 2, "channels": [2], "stage_strides": [2], "pool_grid": [1, 1],
                                                 "feature_size": 4}}, seed=0)
    videos = torch.rand(2, 6, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        spread = attended_frames(model.attention_weights(videos))
    assert spread[0] == pytest.approx(1.0)
    assert torch.all(spread[1:] > 1.0) and torch.all(spread <= torch.arange(1, 7))


# --- clip onsets -------------------------------------------------------------------------------

class FakeVideos:
    classes = ("walking", "running")

    def __init__(self, labels):
        self._labels = labels

    def __len__(self):
        return len(self._labels)

    def labels(self):
        return list(self._labels)


def test_training_clip_offsets_are_seeded_and_restore_the_epoch():
    clips = RandomClips(FakeVideos([0, 1, 0, 1]), clip_length=30, step=1, clips_per_video=2, seed=0)
    clips.set_epoch(7)
    offsets = training_clip_offsets(clips, n_frames=48, epochs=[0, 1])
    assert clips.epoch == 7 and len(offsets) == 2 * 8
    assert offsets["offset"].between(0, 48 - 30).all()
    assert offsets["label"].tolist()[:8] == [0, 0, 1, 1, 0, 0, 1, 1]
    again = training_clip_offsets(clips, n_frames=48, epochs=[0, 1])
    assert again.equals(offsets)
    with pytest.raises(ConfigError, match="RandomClips"):
        training_clip_offsets([1, 2], 48, [0])


def test_offset_only_accuracy_finds_the_seeds_shortcut_and_not_ours():
    labels = np.array([0, 1] * 50)
    seed_scheme = np.where(labels == 1, 0, 10)          # running at frame 0, walking at frame 10
    assert offset_only_accuracy(seed_scheme, labels, seed_scheme, labels) == 1.0
    generator = np.random.default_rng(0)
    fit, test = generator.integers(0, 19, 4000), generator.integers(0, 19, 4000)
    fit_labels, test_labels = generator.integers(0, 2, 4000), generator.integers(0, 2, 4000)
    assert abs(offset_only_accuracy(fit, fit_labels, test, test_labels) - 0.5) < 0.05
    # an offset never seen while fitting gets the most frequent class
    assert offset_only_accuracy([1, 1, 2], [0, 0, 1], [5], [0]) == 1.0
    with pytest.raises(ConfigError, match="equal length"):
        offset_only_accuracy([1, 2], [0], [1], [0])


# --- registry: I3D by name ---------------------------------------------------------------------

def test_i3d_is_registered_by_name():
    assert {"i3d", "i3d_untrained"} <= set(available_models())
    untrained = build_model("i3d_untrained", {"num_classes": 7}, seed=0)
    assert isinstance(untrained, InceptionI3d) and untrained.logits.out_features == 7
    assert untrained.model_name == "i3d_untrained" and not untrained.training
    again = build_model("i3d_untrained", untrained.config, seed=0)
    assert torch.equal(again.logits.weight, untrained.logits.weight)
    with pytest.raises(ConfigError, match="400 classes"):
        build_model("i3d", {"num_classes": 7})


@pytest.mark.skipif(not DEFAULT_WEIGHTS_PATH.is_file(), reason="no I3D weights (make data-assets)")
def test_i3d_by_name_loads_the_kinetics_weights():
    from vidsal_core.models.i3d import load_i3d

    model = build_model("i3d")
    reference = load_i3d()
    assert isinstance(model, InceptionI3d) and model.model_name == "i3d" and not model.training
    assert torch.equal(model.logits.weight, reference.logits.weight)
    assert build_model("i3d", model.config).config == model.config
    assert math.isclose(float(model.logits.bias.detach().abs().sum()), float(reference.logits.bias.detach().abs().sum()))


# --- the chapter on a user's own clip ----------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not DEFAULT_WEIGHTS_PATH.is_file(), reason="no I3D weights (make data-assets)")
def test_models_chapter_classifies_a_users_own_clip(tmp_path):
    from _toy_videos import chapter_outputs, moving_square_clip

    clip = moving_square_clip(tmp_path / "my clip.avi", frames=20, channels=3, height=64, width=80, top=20)
    text = chapter_outputs("models", tmp_path / "out.ipynb", {"profile": "quick", "video": str(clip),
                                                              "footage": "bikes", "runs": "frame_lstm_binary"})
    assert "my clip.avi: 16 frames of 64x80" in text
