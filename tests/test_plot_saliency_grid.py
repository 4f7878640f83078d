"""The saliency grid figure: layout, frame titles, house colour maps, bad rows."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from vidsal_core.errors import ConfigError
from vidsal_core.plot import colourise, saliency_grid


def test_saliency_grid_lays_out_one_block_of_rows_per_video():
    video = torch.rand(5, 1, 8, 8)
    signed = torch.randn(5, 1, 8, 8)
    flow = torch.rand(4, 8, 8)  # one frame fewer, like Farneback flow
    groups = [("walking", [("frames", video, "frames"), ("gradient", signed, "signed"), ("flow", flow, "unsigned")]),
              ("running", [("frames", video, "frames"), ("TSR", signed.abs(), "unsigned")])]
    figure = saliency_grid(groups, [0, 2, 4])
    titles = [axis for axis in figure.axes if not axis.get_images() and axis.texts]
    assert [axis.texts[0].get_text() for axis in titles] == ["walking", "running"]
    axes = np.array([axis for axis in figure.axes if axis not in titles]).reshape(5, 3)
    assert [axis.get_title() for axis in axes[0]] == ["t=0", "t=2", "t=4"]
    assert [axis.get_title() for axis in axes[3]] == ["t=0", "t=2", "t=4"] and axes[1][0].get_title() == ""
    assert "diverging" in axes[1][0].get_ylabel() and "sequential" in axes[2][0].get_ylabel()
    assert not axes[2][2].axison  # the flow has no frame 4
    image = axes[1][0].get_images()[0].get_array()
    np.testing.assert_array_equal(image, colourise(signed.sum(1).numpy(), signed=True)[0])
    matplotlib.pyplot.close(figure)


def test_saliency_grid_refuses_unknown_row_kinds():
    with pytest.raises(ConfigError, match="kind 'heat'"):
        saliency_grid([("video", [("map", torch.rand(2, 4, 4), "heat")])], [0])
    with pytest.raises(ConfigError, match="at least one row"):
        saliency_grid([], [0])
