"""Deletion and insertion curves: the batched engine against its naive twin, hand-known curves, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from vidsal_core.metrics.faithfulness import (
    curve_auc, faithfulness, perturbation_curve, perturbation_curve_reference, point_counts, random_baseline,
    random_orders, saliency_order, unit_labels, unit_scores,
)
from vidsal_core.errors import ConfigError
from vidsal_core.saliency.masking import baseline_video, block_masks, frame_masks, window_masks
from _saliency_models import LinearFrames


class TinyConv(nn.Module):
    """A small non-linear video model (float64), for engine-against-reference checks."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv3d(1, 3, 3, padding=1).double()
        self.head = nn.Linear(3, 3).double()

    def forward(self, videos):
        features = torch.relu(self.conv(videos.transpose(1, 2))).mean(dim=(2, 3, 4))
        return self.head(features)


def _video(frames=5, height=6, width=8, seed=0):
    return torch.rand(frames, 1, height, width, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("kind", ["frames", "blocks"])
@pytest.mark.parametrize("mode", ["deletion", "insertion"])
def test_batched_engine_agrees_with_the_naive_loop_and_with_any_batch_size(kind, mode):
    model = TinyConv().eval()
    video = _video()
    masks = frame_masks(5, 6, 8) if kind == "frames" else block_masks(5, 6, 8, block_size=3)
    baseline = baseline_video(video, "blur", blur_sigma=1.0)
    order = random_orders(len(masks), 1, seed=3)[0]
    n_points = None if kind == "frames" else 7
    reference = perturbation_curve_reference(model, video, masks, order, 1, baseline, mode, n_points)
    for batch_size in (1, 3, 100):
        fast = perturbation_curve(model, video, masks, order, 1, baseline, mode, n_points, batch_size=batch_size)
        np.testing.assert_allclose(fast, reference, rtol=1e-12, atol=1e-14)
    bounded = perturbation_curve(model, video, masks, order, 1, baseline, mode, n_points, max_batch_bytes=10_000)
    np.testing.assert_allclose(bounded, reference, rtol=1e-12, atol=1e-14)


def test_deleting_frames_of_a_linear_model_follows_the_closed_form():
    weights = torch.tensor([3.0, -1.0, 0.5, 2.0], dtype=torch.float64)
    model = LinearFrames(weights).double().eval()
    video = torch.rand(4, 1, 3, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    contribution = (weights * video.flatten(1).mean(1)).numpy()
    order = np.array([3, 0, 2, 1])
    deletion = perturbation_curve(model, video, frame_masks(4, 3, 3), order, 0, torch.zeros_like(video))
    insertion = perturbation_curve(model, video, frame_masks(4, 3, 3), order, 0, torch.zeros_like(video), "insertion")
    kept = [contribution[order[k:]].sum() for k in range(5)]
    shown = [contribution[order[:k]].sum() for k in range(5)]
    np.testing.assert_allclose(deletion, 1 / (1 + np.exp(-np.array(kept))), rtol=1e-12)
    np.testing.assert_allclose(insertion, 1 / (1 + np.exp(-np.array(shown))), rtol=1e-12)
    assert deletion[-1] == pytest.approx(0.5) and insertion[0] == pytest.approx(0.5)


def test_the_saliency_order_deletes_the_most_helpful_frames_first():
    weights = torch.tensor([0.1, 4.0, 0.2, 2.0], dtype=torch.float64)
    model = LinearFrames(weights).double().eval()
    video = torch.ones(4, 1, 2, 2, dtype=torch.float64)
    masks = frame_masks(4, 2, 2)
    saliency = weights[:, None, None, None].expand(4, 1, 2, 2)  # the true contributions
    order = saliency_order(unit_scores(saliency, masks))
    assert order.tolist() == [1, 3, 2, 0]
    result = faithfulness(model, video, masks, order, 0, torch.zeros_like(video))
    chance = random_baseline(model, video, masks, 0, torch.zeros_like(video), count=20, seed=0)
    assert result.deletion_auc < chance.deletion_auc
    assert result.insertion_auc > chance.insertion_auc


def test_unit_labels_and_scores_of_blocks():
    masks = block_masks(2, 4, 4, block_size=2)
    labels = unit_labels(masks)
    assert labels[0].tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    assert labels[1].min() == 4
    saliency = torch.zeros(2, 1, 4, 4)
    saliency[1, 0, 3, 3] = -2.0
    assert unit_scores(saliency, masks).tolist() == [0, 0, 0, 0, 0, 0, 0, 2.0]


def test_overlapping_masks_are_refused():
    with pytest.raises(ConfigError, match="partition"):
        unit_labels(window_masks(5, 2, 2, 2, 1))


def test_auc_and_point_counts():
    assert curve_auc([1.0, 1.0, 1.0]) == pytest.approx(1.0)
    assert curve_auc([1.0, 0.0]) == pytest.approx(0.5)
    assert curve_auc([0.0, 1.0, 1.0], [0.0, 0.5, 1.0]) == pytest.approx(0.75)
    assert point_counts(10, 4).tolist() == [0, 2, 5, 8, 10]
    assert point_counts(3, None).tolist() == [0, 1, 2, 3]
    with pytest.raises(ConfigError, match="n_points"):
        point_counts(3, 0)
    with pytest.raises(ConfigError, match="fractions"):
        curve_auc([0, 1], [0, 0.5, 1])


def test_bad_inputs_are_refused_by_name():
    model = TinyConv().eval()
    video = _video()
    masks = frame_masks(5, 6, 8)
    baseline = torch.zeros_like(video)
    with pytest.raises(ConfigError, match="order"):
        perturbation_curve(model, video, masks, [0, 1, 2], 0, baseline)
    with pytest.raises(ConfigError, match="baseline"):
        perturbation_curve(model, video, masks, np.arange(5), 0, baseline[:4])
    with pytest.raises(ConfigError, match="mode"):
        perturbation_curve(model, video, masks, np.arange(5), 0, baseline, mode="deletoin")
    with pytest.raises(ConfigError, match="masks"):
        perturbation_curve(model, video[:4], masks, np.arange(5), 0, baseline[:4])
    with pytest.raises(ConfigError, match="target"):
        perturbation_curve(model, video, masks, np.arange(5), 7, baseline)
    with pytest.raises(ConfigError, match="saliency"):
        unit_scores(torch.zeros(5, 1, 6, 7), masks)
    with pytest.raises(ConfigError, match="training mode"):
        perturbation_curve(TinyConv().train(), video, masks, np.arange(5), 0, baseline)


def test_ties_are_broken_in_a_seeded_random_order_so_a_constant_map_gives_a_random_order_curve():
    scores = np.full(12, 3.0)
    order = saliency_order(scores, seed=5)
    assert sorted(order.tolist()) == list(range(12)) and order.tolist() != list(range(12))
    assert saliency_order(scores, seed=5).tolist() == order.tolist()  # reproducible
    assert saliency_order(scores, seed=6).tolist() != order.tolist()
    np.testing.assert_array_equal(order, np.argsort(np.random.default_rng(5).permutation(12)))
    # distinct scores: the order is the scores' alone, whatever the seed
    assert saliency_order([0.1, 4.0, 0.2, 2.0], seed=9).tolist() == [1, 3, 2, 0]
    # ties only among equals: [5, 5, 1, 1] puts both fives before both ones
    assert set(saliency_order([5.0, 5.0, 1.0, 1.0], seed=1)[:2].tolist()) == {0, 1}
    weights = torch.tensor([0.1, 4.0, 0.2, 2.0], dtype=torch.float64)
    model = LinearFrames(weights).double().eval()
    video, masks = torch.ones(4, 1, 2, 2, dtype=torch.float64), frame_masks(4, 2, 2)
    constant = saliency_order(unit_scores(torch.ones(4, 1, 2, 2), masks), seed=2)
    curve = perturbation_curve(model, video, masks, constant, 0, torch.zeros_like(video))
    expected = perturbation_curve(model, video, masks, np.argsort(np.random.default_rng(2).permutation(4)), 0,
                                  torch.zeros_like(video))
    np.testing.assert_allclose(curve, expected, rtol=0, atol=0)


# --- frame curves from frame encodings (per-frame models) -----------------------------------------------


def _tiny_per_frame(name):
    from _toy_videos import TINY_MODELS
    from vidsal_core.models.registry import build_model

    return build_model(name, TINY_MODELS[name], seed=0).double().eval()


@pytest.mark.parametrize("name", ["frame_lstm", "ica_lstm"])
@pytest.mark.parametrize("mode", ["deletion", "insertion"])
def test_frame_curves_from_encodings_agree_with_the_naive_loop_in_float64(name, mode):
    from vidsal_core.metrics.faithfulness import frame_perturbation_curve
    from vidsal_core.saliency.time_contribution_factorised import EncodedVideo

    model = _tiny_per_frame(name)
    video = torch.rand(7, 1, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    masks, baseline = frame_masks(7, 16, 16), baseline_video(video, "blur")
    order = np.array([3, 0, 6, 1, 5, 2, 4])
    expected = perturbation_curve_reference(model, video, masks, order, 1, baseline, mode)
    encoded = EncodedVideo(model, video)
    for batch_size in (1, 3, 64):
        got = frame_perturbation_curve(encoded, masks, order, 1, baseline, mode, batch_size=batch_size)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    sampled = frame_perturbation_curve(encoded, masks, order, 1, baseline, mode, n_points=3)
    np.testing.assert_allclose(sampled, perturbation_curve_reference(model, video, masks, order, 1, baseline, mode,
                                                                     n_points=3), rtol=0, atol=1e-12)


def test_faithfulness_takes_the_encoding_path_by_itself_and_gives_the_same_areas():
    from _saliency_models import QuadraticFrames

    # logit_0 = sum_t c_t * 0.5 * sum_p a_p x^2: deleting frame t to zero removes exactly its term
    model = QuadraticFrames(torch.ones(1, 2, 2, dtype=torch.float64),
                            torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).eval()
    video = torch.ones(3, 1, 2, 2, dtype=torch.float64)
    masks, baseline = frame_masks(3, 2, 2), torch.zeros_like(video)
    from vidsal_core.metrics.faithfulness import _encoded_for_frames

    assert _encoded_for_frames(model, video, masks) is not None, "frame units of a per-frame model: encodings"
    assert _encoded_for_frames(model, video, block_masks(3, 2, 2, 1)) is None, "blocks change every encoding"
    fast = faithfulness(model, video, masks, [2, 1, 0], 0, baseline)
    slow = faithfulness(model, video, masks, [2, 1, 0], 0, baseline, factorised=False)
    np.testing.assert_allclose(fast.deletion, slow.deletion, atol=1e-12)
    np.testing.assert_allclose(fast.insertion, slow.insertion, atol=1e-12)
    # by hand: score = 2 * (1 + 2 + 3) = 12 before; deleting frame 2, then 1, leaves 2 * 1 + 2 * 2, then 2 * 1
    scores = np.array([12.0, 6.0, 2.0, 0.0])
    np.testing.assert_allclose(fast.deletion, 1 / (1 + np.exp(-2 * scores)), atol=1e-12)
    with pytest.raises(ConfigError, match="factorised=True"):
        faithfulness(model, video, block_masks(3, 2, 2, 1), np.arange(12), 0, baseline, factorised=True)
    with pytest.raises(ConfigError, match="do not partition the frames"):
        faithfulness(model, video, window_masks(3, 2, 2, 2), [0, 1], 0, baseline)
