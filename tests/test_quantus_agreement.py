"""vidsal's metrics against Quantus (Hedström et al., 2023) on the same inputs.

Quantus scores images ``(B, C, H, W)``. A video model is shown to Quantus
through :class:`AsImages`, which folds time into channels (``(B, T·C, H, W)``)
and unfolds it again before the model; the localisation metrics take each
frame as one image.

Where the definitions differ, and how the tests align them:

``quantus.MPRT`` (model parameter randomisation) vs
:func:`vidsal_core.metrics.randomisation.cascading_randomisation`

- Layer order: Quantus takes every module with ``reset_parameters`` in reverse
  *registration* order; vidsal the reverse *forward* order (they differ for
  the ICA-LSTM, whose attention is registered after the head). Aligned by
  passing Quantus' order as ``layers=``.
- BatchNorm: Quantus resets it as its own step; vidsal folds it into its
  convolution by default. Aligned with ``fold_batch_norm=False``.
- Seeds: Quantus calls ``torch.manual_seed(seed + 1)`` before every layer (the
  same stream for all layers); vidsal seeds each layer from the seed and its
  name. Aligned with ``reinitialise=`` re-seeding every layer with ``seed + 1``.
- Similarity: Quantus compares ``|map| / max|map|`` (the max over the batch)
  by Spearman; the scaling does not change ranks, so vidsal's ``spearman``
  column is the same number. Quantus' SSIM option runs on the flattened 1-D
  maps with the pair's joint range; vidsal's ``ssim`` is 2-D per frame, so it
  is not compared.

``quantus.PointingGame``, ``AttributionLocalisation``, ``AUC`` vs
:mod:`vidsal_core.metrics.localisation`'s ``pointing_game``, ``mass_share``, ``auroc``

- vidsal scores the magnitude ``Σ_c |s|``; Quantus the values as given unless
  ``abs=True`` (PointingGame and AUC default to signed values). Aligned with
  ``abs=True`` and one channel.
- vidsal pools the pixels of all frames for ``mass_share`` and ``auroc``;
  Quantus scores one image (frame) at a time. Aligned by calling vidsal on one
  frame at a time; the pooled share is also the mass-weighted mean of
  Quantus' per-frame shares, which is checked too.
- AttributionLocalisation divides by ``total + 1e-9``; vidsal by the total
  (the difference is below 1e-9 relative here).
- Degenerate frames: for an empty region Quantus' PointingGame writes NaN
  into a boolean array, which reads back as a *hit*; for a constant map every
  pixel ties for the maximum, so it is a hit whenever the region is not
  empty. vidsal leaves both frames out (NaN). They are compared apart.
- Pointing-game tolerance: Quantus has none; vidsal's ``tolerance=0`` is the same.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from _toy_videos import TINY_MODELS
from vidsal_core.metrics.randomisation import cascading_randomisation, reinitialise_layer
from vidsal_core.models.registry import build_model
from vidsal_core.saliency.gradients import input_gradient

quantus = pytest.importorskip(
    "quantus", reason="Quantus is not installed (pip install --no-deps quantus==0.6.0 scikit-learn cachetools)"
)

QUANTUS_OPTIONS = {"disable_warnings": True, "display_progressbar": False}
FRAMES, SIZE = 4, 16


class AsImages(nn.Module):
    """A video model seen as an image model: ``(B, T·C, H, W)`` in, the video model's logits out."""

    def __init__(self, model: nn.Module, frames: int, channels: int) -> None:
        super().__init__()
        self.model, self.frames, self.channels = model, frames, channels

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = images.shape
        return self.model(images.reshape(batch, self.frames, self.channels, height, width))


def explain_videos(model, videos, targets):
    return input_gradient(model, videos, targets)


def explain_images(model, inputs, targets, **kwargs):
    """Quantus' ``explain_func``: unfold the images to videos and explain the wrapped video model."""
    videos = torch.as_tensor(inputs).reshape(len(inputs), model.frames, model.channels, *inputs.shape[-2:])
    return explain_videos(model.model, videos, torch.as_tensor(targets)).reshape(inputs.shape).numpy()


@pytest.mark.parametrize("name", ["frame_lstm", "ica_lstm", "c3d"])
def test_model_parameter_randomisation_agrees_with_quantus_mprt(name):
    frames = TINY_MODELS[name].get("clip_length", FRAMES)  # C3D needs 16 frames
    model = build_model(name, TINY_MODELS[name], seed=0).eval()
    videos = torch.rand(3, frames, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    targets = model(videos).argmax(1)
    images, labels = videos.reshape(3, frames, SIZE, SIZE).numpy(), targets.numpy()
    seed = 42
    metric = quantus.MPRT(layer_order="top_down", seed=seed, **QUANTUS_OPTIONS)
    scores = metric(model=AsImages(model, frames, 1).eval(), x_batch=images, y_batch=labels,
                    a_batch=explain_images(AsImages(model, frames, 1), images, labels),
                    explain_func=explain_images, channel_first=True, device="cpu")
    quantus_layers = [layer.removeprefix("model.") for layer in scores if layer != "original"]
    ours = cascading_randomisation(
        model, explain_videos, videos, targets, layers=quantus_layers, fold_batch_norm=False,
        reinitialise=lambda module, _: reinitialise_layer(module, seed + 1),  # Quantus' seeding
    )
    np.testing.assert_allclose(ours.loc[ours.step == 0, "spearman"], scores["original"], atol=1e-6)
    for step, layer in enumerate(quantus_layers, start=1):
        mine = ours[ours.step == step]
        assert set(mine["layer"]) == {layer}
        np.testing.assert_allclose(mine["spearman"], scores[f"model.{layer}"], atol=1e-6, err_msg=layer)


def _localisation():
    localisation = pytest.importorskip("vidsal_core.metrics.localisation",
                                       reason="vidsal_core.metrics.localisation is not written yet")
    missing = [name for name in ("mass_share", "pointing_game", "auroc") if not hasattr(localisation, name)]
    if missing:
        pytest.skip(f"vidsal_core.metrics.localisation lacks {missing}")
    return localisation


def _frames(seed: int = 0, frames: int = 6, height: int = 12, width: int = 16):
    """Signed maps with ties, a region per frame, one constant-map frame and one empty-region frame."""
    rng = np.random.default_rng(seed)
    saliency = rng.integers(-4, 5, (frames, 1, height, width)).astype(float)  # ties on purpose
    saliency[0] += rng.normal(0, 0.01, saliency[0].shape)
    region = np.zeros((frames, height, width), bool)
    for frame in range(frames):
        top, left = rng.integers(0, height - 5), rng.integers(0, width - 6)
        region[frame, top:top + 5, left:left + 6] = True
    saliency[-2] = 1.5                 # constant map
    region[-1] = False                 # empty region
    return saliency, region


def _quantus_scores(metric, saliency, region):
    images = np.random.default_rng(1).random(saliency.shape)
    scores = metric(model=None, x_batch=images, y_batch=np.zeros(len(images), int), a_batch=saliency,
                    s_batch=region[:, None].astype(float), channel_first=True)
    return np.asarray(scores, dtype=float)


def test_pointing_game_agrees_with_quantus():
    localisation = _localisation()
    saliency, region = _frames()
    ours = localisation.pointing_game(saliency, region, tolerance=0)
    theirs = _quantus_scores(quantus.PointingGame(abs=True, **QUANTUS_OPTIONS), saliency, region)
    np.testing.assert_array_equal(ours[:-2], theirs[:-2])
    # degenerate frames: vidsal leaves them out, Quantus counts them as hits
    assert np.isnan(ours[-2:]).all() and (theirs[-2:] == 1).all()


def test_mass_share_agrees_with_quantus_attribution_localisation():
    localisation = _localisation()
    saliency, region = _frames(seed=2)
    keep = slice(0, -1)  # the empty-region frame is NaN in both
    theirs = _quantus_scores(quantus.AttributionLocalisation(abs=True, **QUANTUS_OPTIONS), saliency, region)
    ours = np.array([localisation.mass_share(saliency[t:t + 1], region[t:t + 1]) for t in range(len(saliency))])
    np.testing.assert_allclose(ours[keep], theirs[keep], rtol=1e-8)
    assert np.isnan(theirs[-1])
    # vidsal's pooled share is the mass-weighted mean of the per-frame shares
    mass = np.abs(saliency[keep]).sum(axis=(1, 2, 3))
    pooled = localisation.mass_share(saliency[keep], region[keep])
    assert pooled == pytest.approx(float((theirs[keep] * mass).sum() / mass.sum()), rel=1e-8)


@pytest.mark.filterwarnings("ignore:No positive samples")
def test_auroc_agrees_with_quantus_auc():
    localisation = _localisation()
    saliency, region = _frames(seed=3)
    keep = slice(0, -1)
    theirs = _quantus_scores(quantus.AUC(abs=True, **QUANTUS_OPTIONS), saliency, region)
    ours = np.array([localisation.auroc(saliency[t:t + 1], region[t:t + 1]) for t in range(len(saliency))])
    np.testing.assert_allclose(ours[keep], theirs[keep], atol=1e-12)  # ties count one half in both
    assert ours[-2] == pytest.approx(0.5)  # a constant map detects nothing
