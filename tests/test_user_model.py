"""A reader's model plugs into a chapter by import path; mistakes get clear errors."""

import sys

import pytest
import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.models.user import load_user_model


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "readers_models.py").write_text(
        "import torch\n"
        "from torch import nn\n"
        "class Mean(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.head = nn.Linear(1, 3)\n"
        "        self.dropout = nn.Dropout(0.5)\n"
        "    def forward(self, videos):\n"
        "        return self.head(self.dropout(videos.mean(dim=(1, 2, 3, 4))[:, None]))\n"
        "def three_classes():\n"
        "    return Mean()\n"
        "def not_a_model():\n"
        "    return 'weights.pt'\n"
        "def wrong_output():\n"
        "    return nn.Identity()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "readers_models"
    sys.modules.pop("readers_models", None)


def test_builder_gives_an_eval_mode_model(user_module):
    model = load_user_model(f"{user_module}:three_classes", example_shape=(4, 1, 8, 8))
    assert isinstance(model, nn.Module) and not model.training
    videos = torch.rand(2, 4, 1, 8, 8)
    assert torch.equal(model(videos), model(videos)), "dropout is off in eval mode"


@pytest.mark.parametrize("spec, message", [
    ("readers_models", "expected 'package.module:builder'"),
    ("no_such_module_xyz:build", "cannot import module 'no_such_module_xyz'"),
    ("readers_models:missing", "has no function 'missing'"),
    ("readers_models:not_a_model", "returned str, not a torch.nn.Module"),
    ("readers_models:wrong_output", r"returned \(1, 2, 1, 8, 8\); expected logits of shape \(1, classes\)"),
])
def test_mistakes_are_named(user_module, spec, message):
    with pytest.raises(ConfigError, match=message):
        load_user_model(spec, example_shape=(2, 1, 8, 8))
