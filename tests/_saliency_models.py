"""Small models whose saliency is known by hand, for the saliency tests.

``QuadraticFrames`` is a "frame-CNN + temporal model" with a one-number
encoder, so every masked attribution of TSR and every time contribution can
be written down: with

    e_t = ½ Σ_p a_p x_{t,p}²,     logit_0 = Σ_t c_t e_t,     logit_1 = −logit_0,

the input gradient of class 0 is ``c_t a_p x_{t,p}``. It offers
``encode_frames`` / ``classify_encodings``, so the factorised engine applies.

``LinearFrames`` has ``logit_0 = Σ_t c_t mean(x_t)``: masking frame ``t`` with
zeros lowers ``logit_0`` by ``c_t mean(x_t)``, so the probability drop of time
contribution is known in closed form.
"""

from __future__ import annotations

import torch
from torch import nn


class QuadraticFrames(nn.Module):
    """``logit_0 = Σ_t c_t · ½ Σ_p a_p x_{t,p}²``, ``logit_1 = −logit_0`` (see the module's description)."""

    def __init__(self, pixel_weights: torch.Tensor, time_weights: torch.Tensor) -> None:
        super().__init__()
        self.pixel_weights = nn.Parameter(pixel_weights.clone())  # (C, H, W)
        self.time_weights = nn.Parameter(time_weights.clone())  # (T,)

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W)`` → ``(N, 1)``."""
        return (0.5 * self.pixel_weights * frames ** 2).flatten(1).sum(1, keepdim=True)

    def classify_encodings(self, encodings: torch.Tensor) -> torch.Tensor:
        """``(B, T, 1)`` → ``(B, 2)``."""
        score = (encodings[..., 0] * self.time_weights).sum(1, keepdim=True)
        return torch.cat([score, -score], dim=1)

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        batch, frames = videos.shape[:2]
        encodings = self.encode_frames(videos.reshape(batch * frames, *videos.shape[2:])).reshape(batch, frames, 1)
        return self.classify_encodings(encodings)


class LinearFrames(nn.Module):
    """``logit_0 = Σ_t c_t mean(x_t)``, ``logit_1 = 0``."""

    def __init__(self, time_weights: torch.Tensor) -> None:
        super().__init__()
        self.time_weights = nn.Parameter(time_weights.clone())

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        score = (videos.flatten(2).mean(2) * self.time_weights).sum(1, keepdim=True)
        return torch.cat([score, torch.zeros_like(score)], dim=1)


class BrokenSplit(QuadraticFrames):
    """Claims a per-frame split that does not match its forward pass (the forward doubles the logits)."""

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        return 2 * super().forward(videos)
