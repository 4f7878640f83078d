"""The border chapters' figures (vidsal_core.plot) and their study helpers (vidsal_study.chapters.border.study)."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib
from vidsal_study.chapters.border import figures as border_figures

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vidsal_core import plot  # noqa: E402
from vidsal_study.chapters import border# noqa: E402
from vidsal_study.chapters.border import (  # noqa: E402
    BorderSettings, BorderStudy, c3d_example, example_rows, i3d_example_groups, rule_border_coefficients,
    untrained_prior_share,
)
from vidsal_core.metrics.relevance import border_coefficient, frame_positions, frame_relevance, relevance_share  # noqa: E402
from vidsal_core.errors import ConfigError  # noqa: E402

U = frame_positions(16)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _frame(names=("DTD", "DTD-u", "SA"), persons=(1, 2, 3), totals=(0.9, 0.8, 0.7)):
    """An offset sweep: one clip per person and explanation, with known relevance totals."""
    rows = []
    for name in names:
        for person, total in zip(persons, totals):
            share = 1 / 16 + 0.01 * (U * U - np.mean(U * U)) + 0.001 * person * U
            rows.append({"video": f"p{person}", "group": person, "explanation": name, "offset": 0, "step": 2,
                         "title_frames": 0, "share": share, "relevance_total": total})
    return pd.DataFrame(rows)


def _study(frames):
    return BorderStudy(settings=BorderSettings(), c3d={"step": 2}, i3d=None, frames=frames, seconds={}, corpus=None)


def test_share_distributions_draw_a_row_per_sweep_and_a_column_per_explanation():
    figure = border_figures.share_distributions({"C3D · SynthKTH": _frame(), "I3D · footage": pd.DataFrame(),
                                       "I3D · SynthKTH": _frame()})
    assert len(figure.axes) == 6  # two sweeps with clips × DTD, DTD-u, SA
    assert [axis.get_title() for axis in figure.axes[:3]] == ["C3D · SynthKTH · DTD", "C3D · SynthKTH · DTD-u",
                                                               "C3D · SynthKTH · SA"]
    assert figure.axes[3].get_ylabel() == "share of relevance" and figure.axes[2].get_legend() is not None
    with_cam = border_figures.share_distributions({"C3D": _frame(names=("DTD", "DTD-u", "SA", "Grad-CAM"))})
    assert len(with_cam.axes) == 4
    with pytest.raises(ConfigError, match="panels"):
        border_figures.share_distributions({"C3D": pd.DataFrame()})


def test_bias_share_dots_draw_one_minus_the_total_of_each_clip():
    figure = border_figures.bias_share_dots({"C3D": _frame(names=("DTD", "SA", "DTD-u")), "empty": pd.DataFrame()})
    assert len(figure.axes) == 1
    axis = figure.axes[0]
    assert [label.get_text() for label in axis.get_xticklabels()] == ["DTD", "DTD-u"]  # deep Taylor rows only
    np.testing.assert_allclose(axis.lines[0].get_ydata(), [0.1, 0.2, 0.3])
    assert np.all(np.abs(axis.lines[1].get_xdata() - 1) <= 0.15)  # jittered around its position
    with pytest.raises(ConfigError, match="frames"):
        border_figures.bias_share_dots({})


def _step_effects():
    rows = [{"step": step, "explanation": name, "border": value, "border_low": value - 0.01,
             "border_high": value + 0.01, "lookahead": 0.0, "lookahead_low": 0.0, "lookahead_high": 0.0}
            for step, value in ((0, 0.05), (2, 0.03), (8, 0.01)) for name in ("DTD", "SA")]
    return pd.DataFrame(rows)


def test_step_sweeps_draw_the_border_coefficient_of_each_panel_times_100():
    figure = border_figures.step_sweeps({"C3D · SynthKTH": _step_effects(), "I3D · footage": _step_effects()}, train_step=2)
    assert len(figure.axes) == 2 and figure.axes[1].get_title() == "I3D · footage"
    np.testing.assert_allclose(figure.axes[0].lines[0].get_ydata(), [5.0, 3.0, 1.0])
    assert list(figure.axes[0].get_xticks()) == [0, 2, 8]
    assert figure.axes[0].lines[-1].get_xdata()[0] == 2  # the training step, on the first panel only
    with pytest.raises(ConfigError, match="effects"):
        border_figures.step_sweeps({}, train_step=2)


def test_step_accuracy_draws_top_k_and_top_1_against_dtds_border():
    accuracy = pd.DataFrame({"step": [0, 2, 8]})
    for k, values in ((1, [0.5, 0.8, 0.6]), (2, [0.7, 0.9, 0.8]), (5, [1.0, 1.0, 1.0])):
        accuracy[f"top{k}"], accuracy[f"top{k}_low"], accuracy[f"top{k}_high"] = values, values, values
    figure = border_figures.step_accuracy(accuracy, _step_effects(), train_step=2)
    left, right = figure.axes
    np.testing.assert_allclose(left.lines[0].get_ydata(), [0.5, 0.8, 0.6])
    assert [text.get_text() for text in left.get_legend().get_texts()] == ["top-1", "top-2", "top-5"]
    np.testing.assert_allclose(right.lines[0].get_xdata(), [5.0, 3.0, 1.0])
    np.testing.assert_allclose(right.lines[0].get_ydata(), [0.5, 0.8, 0.6])
    assert [text.get_text() for text in right.texts] == ["step 0", "step 2", "step 8"]
    with pytest.raises(ConfigError, match="accuracy"):
        border_figures.step_accuracy(accuracy[["step"]], _step_effects(), train_step=2)


def test_title_card_lookahead_draws_solid_without_and_dashed_with_the_card():
    rows = [{"offset": offset, "title_frames": card, "lookahead": value, "lookahead_low": value,
             "lookahead_high": value} for card, value in ((0, 0.01), (24, 0.03)) for offset in (16, 0, 32)]
    figure = border_figures.title_card_lookahead({"DTD": pd.DataFrame(rows), "SA": pd.DataFrame(rows)}, 24, straddling=(0, 16))
    assert len(figure.axes) == 2
    axis = figure.axes[0]
    assert [line.get_linestyle() for line in axis.lines[:2]] == ["-", "--"]
    np.testing.assert_allclose(axis.lines[0].get_xdata(), [0, 16, 32])  # sorted by offset
    np.testing.assert_allclose(axis.lines[1].get_ydata(), [3.0, 3.0, 3.0])
    assert [text.get_text() for text in axis.get_legend().get_texts()] == ["DTD, no card", "DTD, card of 24 frames"]
    assert len(axis.patches) == 1  # the straddling offsets, shaded
    assert len(border_figures.title_card_lookahead({"DTD": pd.DataFrame(rows)}, 24).axes[0].patches) == 0


def test_the_studys_panels_keep_the_sweeps_with_clips():
    study = _study({"c3d_offsets": _frame(), "c3d_steps": _frame(), "i3d_footage_offsets": pd.DataFrame(),
                    "i3d_synthkth_offsets": _frame()})
    assert list(study.panels("offsets")) == ["C3D · SynthKTH", "I3D · SynthKTH"]
    assert list(study.panels("steps")) == ["C3D · SynthKTH"]
    with pytest.raises(ConfigError, match="sweep"):
        study.panels("title")


def test_example_rows_put_the_frames_first_and_each_map_with_its_kind():
    clip, maps = torch.zeros(4, 1, 2, 2), {name: torch.ones(4, 1, 2, 2) for name in ("DTD", "SA", "DTD-u", "Grad-CAM")}
    rows = example_rows(clip, maps)
    assert [(name, kind) for name, _, kind in rows] == [("frames", "frames"), ("DTD", "signed"), ("SA", "unsigned"),
                                                        ("DTD-u", "signed"), ("Grad-CAM", "unsigned")]
    assert rows[0][1] is clip and rows[2][1] is maps["SA"]
    with pytest.raises(ConfigError, match="names"):
        example_rows(clip, maps, names=("DTD-wta",))


def test_the_examples_check_their_arguments():
    study = SimpleNamespace(c3d={"classes": ["boxing", "walking"]}, i3d=None)
    with pytest.raises(ConfigError, match="action='running'"):
        c3d_example(study, "running")
    assert i3d_example_groups(study, "vtest", video="any.mp4") == []  # no I3D: nothing to explain


MODEL = {"kind": "c3d", "profile": "test", "run": "tiny-figures", "trained_sha256": "c", "untrained_sha256": "d",
         "clip_length": 16, "step": 1}


def _tiny_models(monkeypatch):
    from vidsal_core.models.c3d import C3D

    torch.manual_seed(0)
    models = {}
    for weights in ("trained", "untrained"):
        models[weights] = C3D(num_classes=3, clip_length=16, input_size=(16, 16), width_multiplier=1 / 32).eval()
        monkeypatch.setitem(border._MODELS, border.canonical_json({"model": MODEL, "weights": weights}),
                            models[weights])
    return models


def test_rule_border_coefficients_explain_one_clip_per_person_with_both_rules(monkeypatch):
    from vidsal_core.saliency.lrp import relevance
    from vidsal_core.saliency.lrp_fast import deep_taylor

    models = _tiny_models(monkeypatch)
    loaded = []

    def clip_of(video, setting):
        loaded.append((video["key"], setting["offset"], setting["step"]))
        return torch.rand(16, 1, 16, 16, generator=torch.Generator().manual_seed(video["seed"]))

    monkeypatch.setattr(border.clips, "load_clip", clip_of)
    videos = [{"key": f"{person}{action}", "person": person, "seed": 10 * person + index}
              for person in (3, 1, 2) for index, action in enumerate("ab")]
    borders, persons = rule_border_coefficients(MODEL, videos, persons=2)
    assert persons == [1, 2] and loaded == [("1a", 0, 1), ("2b", 0, 1)]  # person i's video at position i mod videos
    batch = torch.stack([clip_of(video, {"offset": 0, "step": 1}) for video in (videos[2], videos[5])])
    targets = models["trained"](batch).argmax(1)
    expected = border_coefficient(relevance_share(frame_relevance(
        relevance(models["trained"], batch, targets, "epsilon_plus_flat"))))
    np.testing.assert_allclose(borders["EpsilonPlusFlat"], expected, rtol=1e-6)
    wta = deep_taylor(models["trained"], batch, targets, max_pool="winner_take_all")
    np.testing.assert_allclose(borders["DTDwta"], border_coefficient(relevance_share(frame_relevance(wta))), rtol=1e-6)
    with pytest.raises(ConfigError, match="persons"):
        rule_border_coefficients(MODEL, videos, persons=0)


def test_untrained_prior_share_is_deep_taylor_on_the_bias_free_untrained_network(monkeypatch):
    from vidsal_core.saliency.lrp import bias_free_copy
    from vidsal_core.saliency.lrp_fast import deep_taylor

    models = _tiny_models(monkeypatch)
    share = untrained_prior_share(MODEL, (16, 1, 16, 16))
    assert share.shape == (16,) and share.sum() == pytest.approx(1.0)
    prior = bias_free_copy(models["untrained"])
    constant = torch.full((1, 16, 1, 16, 16), 0.5)
    target = int(prior(constant)[0].argmax())
    expected = relevance_share(frame_relevance(deep_taylor(prior, constant, target)[0]))
    np.testing.assert_allclose(share, expected, rtol=1e-6)
    with pytest.raises(ConfigError, match="clip_shape"):
        untrained_prior_share(MODEL, (1, 16, 16))
