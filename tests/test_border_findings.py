"""What the border chapters read from their sweeps (vidsal_study.chapters.border.findings), on frames built by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from vidsal_study.chapters.border import (
    accuracy_findings,
    bias_share_texts,
    border_findings,
    early_minus_late,
    early_offset_findings,
    end_to_centre_ratio,
    held,
    offset_sweep_sizes,
    or_unmeasured,
    paired_by_card,
    step_border_findings,
    step_offset_claim_rows,
    step_sweep_sizes,
    title_card_findings,
    unmeasured,
)
from vidsal_core.metrics.relevance import frame_positions
from vidsal_core.errors import ConfigError

U = frame_positions(16)


def _share(border: float, lookahead: float) -> np.ndarray:
    """A 16-frame share vector whose border and lookahead coefficients are ``border`` and ``lookahead``."""
    return 1 / 16 + border * (U * U - np.mean(U * U)) + lookahead * U


def _offsets_frame(coefficients, persons=(1, 2, 3, 4), spread=0.001):
    """One clip per person and explanation; each person's coefficients shifted by ``spread`` × its rank."""
    rows = []
    for name, (border, lookahead) in coefficients.items():
        for rank, person in enumerate(persons):
            shift = spread * (rank - (len(persons) - 1) / 2)
            rows.append({"video": f"p{person}", "group": person, "explanation": name, "offset": 0, "step": 2,
                         "title_frames": 0, "share": _share(border + shift, lookahead + shift)})
    return pd.DataFrame(rows)


def _study(frames, native=None, **fields):
    settings = SimpleNamespace(i3d_native=native, offsets=(0, 8, 16), title_frames=24)
    return SimpleNamespace(frames=frames, settings=settings, **fields)


def test_held_and_unmeasured():
    assert held(True) == "held" and held(False) == "did not hold"
    assert np.isnan(unmeasured().low) and np.isnan(unmeasured().high) and unmeasured().count == 1
    assert np.isnan(or_unmeasured(None).high)
    estimate = unmeasured()
    assert or_unmeasured(estimate) is estimate


def test_border_findings_read_table_ones_coefficients_and_the_seeds_claims():
    frame = _offsets_frame({"DTD": (0.02, 0.01), "SA": (0.03, -0.01), "DTD-u": (-0.02, 0.0),
                            "Grad-CAM": (0.0, 0.005)})
    found = border_findings(_study({"c3d_offsets": frame}))
    coefficients = found.coefficients()
    assert coefficients["c3d_DTD_border"].mean == pytest.approx(0.02)
    assert coefficients["c3d_SA_lookahead"].mean == pytest.approx(-0.01)
    assert coefficients["c3d_DTDu_border"].mean == pytest.approx(-0.02)  # the '-' dropped from the glue name
    assert "c3d_GradCAM_lookahead" in coefficients and not any(key.startswith("footage") for key in coefficients)
    assert found.sign("c3d", "DTD", "border") == "positive" and found.sign("c3d", "DTD-u", "border") == "negative"
    assert found.sign("footage", "DTD", "border") == "missing"
    verdicts = found.claim_table_words()
    assert verdicts["claim_border_c3d"] == verdicts["claim_untrained_c3d"] == "held"
    assert verdicts["claim_lookahead_c3d"] == verdicts["claim_lookahead_sign_c3d"] == "held"  # DTD up, SA down
    assert verdicts["claim_border_footage"] == "did not hold" and verdicts["i3d_untrained_favours"] == "neither end"
    assert found.glued()["native_input"].endswith("not run at this profile")
    rows = found.claim_rows()
    # four seed claims on C3D, DTD's lookahead paired against DTD-u, then Grad-CAM's lookahead only: with 2 time
    # positions its border coefficient is zero by construction
    assert [row["claim_id"] for row in rows] == ["002-border-trained", "002-border-trained", "002-border-untrained",
                                                 "002-lookahead", "002-lookahead", None]
    assert rows[0]["estimate"] == pytest.approx(2.0)  # ×100
    assert rows[2]["direction"] == "less" and rows[-1]["verdict"] == "new"
    assert rows[-1]["quantity"].startswith("lookahead coefficient x100, Grad-CAM ")
    assert rows[4]["estimate"] == pytest.approx(1.0)  # DTD's lookahead 0.01 minus DTD-u's 0.0, ×100
    assert "paired" in rows[4]["quantity"] and found.lookahead_vs_untrained["c3d"].units == 4
    assert rows[1]["note"] == "95% CI over persons"


def test_the_native_row_is_written_from_its_dtd_coefficients():
    frame = _offsets_frame({"DTD": (0.02, 0.01)}, spread=0.0)
    native = SimpleNamespace(clip_length=64, crop_size=224)
    found = border_findings(_study({"c3d_offsets": frame, "i3d_native_footage_offsets": frame}, native=native))
    assert found.native_input == "64 frames at 224×224 pixels, 4 real clips"
    assert found.native_effects == "+2 [+2, +2] (border) and +1 [+1, +1] (lookahead)"
    assert "native_DTD_border" in found.coefficients()


def test_bias_share_texts_name_each_row_by_its_data_set():
    table = pd.DataFrame([
        {"model · data": "C3D · SynthKTH, step 2", "explanation": "DTD-wta", "median": 0.25, "min": 0.1, "max": 0.4},
        {"model · data": "I3D · real footage, step 1", "explanation": "DTD", "median": 0.5, "min": 0.5, "max": 0.5},
        {"model · data": "I3D · real footage, native 64 frames × 224 px", "explanation": "DTD", "median": 0.0,
         "min": 0.0, "max": 0.0},
    ])
    assert bias_share_texts(table) == {"c3d_DTDwta_bias_share": "0.25 (clips from 0.10 to 0.40)",
                                       "footage_DTD_bias_share": "0.50 (clips from 0.50 to 0.50)",
                                       "native_DTD_bias_share": "0.00 (clips from 0.00 to 0.00)"}
    with pytest.raises(ConfigError, match="table"):
        bias_share_texts(table.assign(**{"model · data": "LSTM"}))


def test_end_to_centre_ratio():
    assert end_to_centre_ratio([0.1, 0.2, 0.3, 0.2, 0.1, 0.1]) == pytest.approx(0.4)
    with pytest.raises(ConfigError, match="share"):
        end_to_centre_ratio(np.ones((2, 4)))


def test_sweep_sizes():
    offsets = _offsets_frame({"DTD": (0.0, 0.0), "SA": (0.0, 0.0)}, persons=(1, 2, 3))
    steps = offsets.assign(video=["a", "b", "c"] * 2)
    study = _study({"c3d_offsets": offsets, "c3d_steps": steps},
                   c3d={"step": 2, "clip_length": 16, "classes": ["a", "b", "c"]}, training_title_frames=[0, 24])
    assert offset_sweep_sizes(study) == {"c3d_step": 2, "c3d_clip_length": 16, "c3d_clips": 3, "c3d_videos": 3,
                                         "c3d_persons": 3, "c3d_offsets": 3}
    sizes = step_sweep_sizes(study)
    assert sizes["step_videos"] == 3 and sizes["n_classes"] == 3 and sizes["title_frames"] == 24
    assert sizes["training_cards"] == "was trained on videos with and without title cards of 24 frames"
    study.training_title_frames = [0]
    assert step_sweep_sizes(study)["training_cards"].startswith("never saw a title card")


def _steps_frame(slope=-0.01, steps=(0, 1, 2)):
    """DTD and SA border ``0.05 + slope × step`` for four persons (person p adds 0.001 p everywhere)."""
    rows = []
    for person in (1, 2, 3, 4):
        for step in steps:
            for name in ("DTD", "SA"):
                rows.append({"video": f"p{person}", "group": person, "explanation": name, "step": step, "offset": 0,
                             "title_frames": 0, "border": 0.05 + slope * step + 0.001 * person})
    return pd.DataFrame(rows)


def test_step_border_findings_pair_the_smallest_and_the_largest_step_with_clips():
    found = step_border_findings(_steps_frame(), steps=(0, 1, 2, 32))  # no clip fits at step 32
    assert (found.smallest, found.largest) == (0, 2)
    assert found.change["DTD"].mean == pytest.approx(-0.02) and found.change["SA"].count == 4
    assert found.small_step["DTD"].mean == pytest.approx(0.0525)
    assert found.claim == "held" and found.glued()["claim_step_border"] == "held"
    assert list(found.estimates()) == ["border_step_change_DTD", "border_small_step_DTD",
                                       "border_step_change_SA", "border_small_step_SA"]
    assert step_border_findings(_steps_frame(slope=0.01), steps=(0, 1, 2)).claim == "did not hold"
    with pytest.raises(ConfigError, match="steps"):
        step_border_findings(_steps_frame(), steps=(8, 16))


def _accuracy_frame(persons=(1, 2)):
    """One video per person; step 1 fits at offsets 0, 8, 16, step 4 at 0 and 8; top-1 hits chosen by hand."""
    rows = []
    hits = {(1, 0): 1, (1, 8): 0, (1, 16): 0, (4, 0): 1, (4, 8): 1}
    for person in persons:
        for (step, offset), hit in hits.items():
            rows.append({"video": f"p{person}", "group": person, "step": step, "offset": offset, "title_frames": 0,
                         "explanation": "logits", "label": 0, "top1": float(hit), "top2": 1.0, "top5": 1.0})
    return pd.DataFrame(rows)


def test_accuracy_findings_compare_the_training_step_with_the_best_other_step_on_shared_offsets():
    found = accuracy_findings({"c3d_accuracy": _accuracy_frame(), "c3d_steps": pd.DataFrame()}, train_step=1)
    assert found.from_sweep and found.chosen_on == "test" and found.best == {1: 4, 5: 4}
    assert len(found.clips) == 8 and sorted(set(found.clips["offset"])) == [0, 8]  # offset 16 has no step-4 clip
    assert found.at_train[1].mean == pytest.approx(0.5) and found.at_best[1].mean == pytest.approx(1.0)
    assert found.gain[1].mean == pytest.approx(0.5) and found.gain[5].mean == pytest.approx(0.0)
    assert list(found.by_step["step"]) == [1, 4]
    glued = found.glued()
    assert glued["accuracy_clips"] == 8 and glued["accuracy_offsets"] == "0, 8"
    assert glued["validation_persons"] == "none" and glued["accuracy_train_step"] == "0.500"
    assert glued["accuracy_best_step_top5"].startswith("1.000 [") and glued["best_step"] == 4
    assert glued["chosen_on"].startswith("the test persons themselves")
    validation = _accuracy_frame(persons=(19,)).assign(top1=lambda frame: 1.0 - frame["top1"])
    chosen = accuracy_findings({"c3d_accuracy": pd.DataFrame(), "c3d_steps": _accuracy_frame(),
                                "c3d_validation_accuracy": validation}, train_step=4, validation_persons=(19,))
    assert not chosen.from_sweep and chosen.chosen_on == "validation" and chosen.best[1] == 1
    assert chosen.glued()["validation_persons"] == "19" and chosen.glued()["claim_step_accuracy"] == "did not hold"
    # top-1 0.5 at step 1 against 1.0 at step 4 over 2 persons: the bounded (cluster Wilson) intervals of an
    # accuracy keep their width where no person varies (the t interval gave [0.5, 0.5] and [1, 1]), so they overlap
    assert chosen.overlap is True
    assert chosen.at_train[1].high == 1.0 and chosen.at_train[1].low < 1.0
    # over 9 persons the same accuracies are told apart
    nine = accuracy_findings({"c3d_accuracy": pd.DataFrame(), "c3d_steps": _accuracy_frame(persons=range(1, 10)),
                              "c3d_validation_accuracy": validation}, train_step=4, validation_persons=(19,))
    assert nine.overlap is False and nine.at_best[1].high < nine.at_train[1].low


def _lookahead_frame():
    """Two persons × two videos; lookahead 0.03 at offsets 0 and 8, 0.01 at 16 and 24 (DTD); SA flat."""
    rows = []
    for person in (1, 2):
        for video in ("a", "b"):
            for offset in (0, 8, 16, 24):
                for name, early, late in (("DTD", 0.03, 0.01), ("SA", 0.02, 0.02)):
                    rows.append({"video": f"{person}{video}", "group": person, "explanation": name,
                                 "offset": offset, "lookahead": early if offset <= 8 else late})
    return pd.DataFrame(rows)


def test_early_minus_late_averages_per_video_and_needs_offsets_on_both_sides():
    frame = _lookahead_frame()
    estimate = early_minus_late(frame, 8)
    assert estimate.mean == pytest.approx(0.02) and estimate.count == 4 and estimate.units == 2
    assert early_minus_late(frame, 16).mean == pytest.approx(0.07 / 3 - 0.01)  # offsets 0, 8, 16 against 24
    assert early_minus_late(frame, 24) is None  # no late offset
    found = early_offset_findings(frame, 8)
    assert found.claim == "held" and found.glued() == {"claim_offset": "held", "early_offsets": 8}
    assert found.estimates()["early_minus_late_SA"].mean == pytest.approx(0.0)
    nothing = early_offset_findings(frame, 100)
    assert nothing.claim == "did not hold" and np.isnan(nothing.estimates()["early_minus_late_DTD"].low)


def _title_frame(card_effect=0.02):
    """Persons 1–3, one action; offsets 0, 16, 32; the card adds ``card_effect`` (DTD) where offset < 24."""
    rows = []
    for person in (1, 2, 3):
        for offset in (0, 16, 32):
            for card in (0, 24):
                for name in ("SA", "DTD"):
                    effect = card_effect if (card and offset < 24 and name == "DTD") else 0.0
                    rows.append({"video": f"p{person}-{card}", "group": person, "action": "boxing",
                                 "explanation": name, "offset": offset, "title_frames": card,
                                 "lookahead": 0.001 * person + effect, "share": _share(0.0, 0.001 * person + effect)})
    return pd.DataFrame(rows)


def test_the_title_card_is_paired_by_person_action_and_offset():
    frame = _title_frame()
    assert paired_by_card(frame, "DTD", [0, 16], 24).mean == pytest.approx(0.02)
    assert paired_by_card(frame, "DTD", [32], 24).mean == pytest.approx(0.0)
    found = title_card_findings(frame, offsets=(0, 16, 32), title_frames=24, span=31)
    assert found.straddling == (0, 16) and found.after == (32,)
    assert list(found.effects) == ["DTD", "SA"]  # the order of EXPLANATION_COLOURS
    assert found.straddle.mean == pytest.approx(0.02)
    assert set(found.estimates()) == {"card_straddling_DTD", "card_after_DTD", "card_straddling_SA", "card_after_SA"}
    assert found.glued() == {"straddling_offsets": "0, 16", "claim_title": "held", "title_straddle_effect": "raises"}
    lowered = title_card_findings(_title_frame(-0.02), offsets=(0, 16, 32), title_frames=24, span=31)
    assert lowered.glued()["title_straddle_effect"] == "lowers"
    none = title_card_findings(frame, offsets=(32,), title_frames=24, span=31)
    assert none.straddle is None and none.glued()["straddling_offsets"] == "none"
    assert none.glued()["title_straddle_effect"].startswith("cannot be measured")
    with pytest.raises(ConfigError, match="order"):
        title_card_findings(frame, offsets=(0,), title_frames=24, span=31, order=("DTD",))


def test_step_offset_claim_rows():
    steps = step_border_findings(_steps_frame(), steps=(0, 1, 2))
    accuracy = accuracy_findings({"c3d_accuracy": _accuracy_frame()}, train_step=1)
    early = early_offset_findings(_lookahead_frame(), 8)
    title = title_card_findings(_title_frame(), offsets=(0, 16, 32), title_frames=24, span=31)
    rows = step_offset_claim_rows(steps, accuracy, early, title)
    assert len(rows) == 5
    assert rows[0]["quantity"] == "change of the border coefficient x100, step 0 to 2 (C3D)"
    assert rows[0]["estimate"] == pytest.approx(-2.0) and rows[0]["direction"] == "less"
    assert rows[1]["quantity"].startswith("top-1 gain on test persons, step 4 (best on test persons)")
    assert rows[2]["quantity"].endswith("(the seed measure)") and rows[2]["note"].endswith(": optimistic")
    assert rows[3]["estimate"] == pytest.approx(2.0) and rows[4]["estimate"] == pytest.approx(2.0)
    # a C3D that never saw a title card cannot test the title-screen hypothesis: a new row, not counted
    assert rows[4]["claim_id"] == "002-title-screens" and rows[4]["verdict"] == "new"
    assert "not counted" in rows[4]["note"]
    carded = step_offset_claim_rows(steps, accuracy, early, title, training_title_frames=[0, 24])[4]
    assert carded["claim_id"] == "002-title-screens" and carded["kind"] == "hypothesis"
    assert carded["verdict"] in ("reproduced", "contradicted", "inconclusive", "underpowered")
    assert carded["note"] == "training cards of 24 frames"
    no_split = early_offset_findings(_lookahead_frame(), 100)
    assert np.isnan(step_offset_claim_rows(steps, accuracy, no_split, title)[3]["estimate"])



def test_the_findings_docstring_examples_run():
    import doctest

    from vidsal_study.chapters.border import findings

    result = doctest.testmod(findings, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted >= 2 and result.failed == 0
