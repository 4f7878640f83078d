"""Seed 000's network by name: torchvision's ResNet-18 per frame, the seed's LSTM and head."""

from __future__ import annotations

import pytest
import torch

from vidsal_core.errors import ConfigError
from vidsal_core.models.registry import build_model


def test_seed000_is_torchvision_resnet18_with_the_seeds_lstm():
    """Copy torchvision's resnet18 weights into seed000's encoder: the same encodings (gray frames as RGB)."""
    from torchvision.models import resnet18

    model = build_model("seed000", seed=0).double()
    reference = resnet18(weights=None, num_classes=300).double().eval()
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter.normal_(0, 0.1)
        for buffer_name, buffer in reference.named_buffers():
            if "running_var" in buffer_name:
                buffer.uniform_(0.5, 2.0)
            elif "running_mean" in buffer_name:
                buffer.normal_(0, 0.1)
    ours, theirs = model.encoder.state_dict(), reference.state_dict()
    assert len(ours) == len(theirs)
    copied = {}
    for (name, value), (their_name, their_value) in zip(ours.items(), theirs.items()):
        if their_name == "conv1.weight":  # a gray frame fed as RGB: the three input channels add up
            their_value = their_value.sum(1, keepdim=True)
        assert value.shape == their_value.shape, (name, their_name)
        copied[name] = their_value
    model.encoder.load_state_dict(copied)
    frames = torch.rand(3, 1, 120, 120, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model.encoder(frames), reference(frames.expand(-1, 3, -1, -1)))
    assert model.config["input_size"] == [120, 120] and model.config["encoder"]["feature_size"] == 300
    assert model.lstm.num_layers == 3 and model.lstm.hidden_size == 256
    assert model.head.hidden.out_features == 128 and model.head.output.out_features == 2
    assert build_model("seed000", model.config).config == model.config
    with pytest.raises(ConfigError, match="unknown config key"):
        build_model("seed000", {"hops": 3})
