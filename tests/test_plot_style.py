"""The house figure style (plot.setup), the border chapters' figures and the book's glue helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from vidsal_core import plot
from vidsal_study.chapters.border import figures as border_figures


@pytest.fixture
def restored_rc():
    saved = dict(plt.rcParams)
    yield
    plt.rcParams.update(saved)


def test_setup_applies_the_house_style_and_takes_overrides(restored_rc):
    plt.rcParams.update({"figure.dpi": 50, "savefig.dpi": 60, "font.size": 20})
    assert plot.setup() is None
    assert plt.rcParams["figure.dpi"] == 100 and plt.rcParams["savefig.dpi"] == 100
    assert plt.rcParams["font.size"] == 9
    assert plot.STYLE == {"figure.dpi": 100, "savefig.dpi": 100, "font.size": 9}  # what every chapter had inline
    plot.setup({"font.size": 7})
    assert plt.rcParams["font.size"] == 7 and plt.rcParams["figure.dpi"] == 100
    assert plot.STYLE["font.size"] == 9  # the overrides do not change the house style


def test_every_chapter_calls_setup_instead_of_its_own_rc_line():
    import json

    from vidsal_study.book import NOTEBOOKS

    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        code = ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]
        assert sum(source.count("plot.setup()") for source in code) == 1, path.name
        assert not any("rcParams" in source for source in code), path.name


def _share_frame():
    """Results-like rows: 4 persons × 2 steps of one explanation, shares of 16 frames."""
    from vidsal_study.chapters import border

    u = np.linspace(-1, 1, 16)
    rows = []
    for person in range(4):
        for step in (1, 2):
            share = 1 / 16 + 0.001 * step * (u * u - np.mean(u * u)) + 0.0005 * person * u
            rows.append({"explanation": "DTD", "group": person, "step": step, "share": share})
    frame = pd.DataFrame(rows)
    return frame, border.effects_by(frame, ["step", "explanation"])


def test_border_figures_draw_what_the_analysis_computes():
    frame, effects = _share_frame()
    figure, axes = plt.subplots(1, 2)
    border_figures.share_distribution(axes[0], frame, "DTD", title="C3D · DTD")
    assert axes[0].get_title() == "C3D · DTD" and axes[0].get_xlabel() == "frame in the snippet"
    assert len(axes[0].lines) == 4  # mean, quadratic fit, linear fit, uniform share
    border_figures.effect_sweep(axes[1], effects, "step", "border")
    border_figures.step_axis(axes[1], [1, 2])
    assert axes[1].get_ylabel() == "border coefficient (×100)" and axes[1].get_xlabel() == "step"
    line = axes[1].lines[0]
    np.testing.assert_allclose(line.get_ydata(), effects["border"].to_numpy() * 100)
    assert line.get_label() == "DTD" and axes[1].get_xscale() == "symlog"
    border_figures.effect_sweep(axes[1], effects, "step", "border", explanations=["SA"], scale=1.0)  # no SA rows: nothing drawn
    assert axes[1].get_ylabel() == "border coefficient (×1)"
    plt.close(figure)


def test_one_glue_helper_lives_in_the_book_and_imports_myst_nb_only_when_called(monkeypatch):
    import sys
    import types

    import pytest

    from vidsal_study import book
    from vidsal_core.statistics import Estimate
    from vidsal_core.errors import ConfigError

    glued = {}
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: glued.update({name: (value, display)})
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    gain = Estimate(mean=0.012, low=0.004, high=0.02, count=3, units=3)
    book.glue("gain", gain, spec="+.3g", scale=100, verdict=True)
    assert {name: (repr(value), display) for name, (value, display) in glued.items()} == {
        "gain": ("+1.2 [+0.4, +2]", False), "gain_verdict": ("positive", False)}
    assert glued["gain"][0]._repr_markdown_() == "+1.2 [+0.4, +2]"  # the same text for {glue:md} and {glue:text}
    book.glue("plain", gain)
    assert repr(glued["plain"][0]) == str(gain) == "0.012 [0.004, 0.02]"
    book.glue("none", Estimate(mean=float("nan"), low=float("nan"), high=float("nan"), count=0))
    assert repr(glued["none"][0]) == "—"
    book.glue("word", "held")
    assert glued["word"][0]._repr_markdown_() == "held" and repr(glued["word"][0]) == "held"
    book.glue("count", 7)
    assert glued["count"] == (7, False)  # numbers stay numbers, for {glue:text}`count:.0f`
    with pytest.raises(ConfigError, match="apply to an estimate"):
        book.glue("word", "held", scale=100)
