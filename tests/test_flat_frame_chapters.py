"""Both chapters apply the one flat-frame rule: the same maps give the same numbers in the TSR and evaluation code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from vidsal_study.chapters.evaluation import findings as evaluation_findings, study as evaluation_study
from vidsal_study.chapters.tsr import findings as tsr_findings, study as tsr_study
from vidsal_core.metrics.localisation import part_region
from vidsal_study.sweeps import SweepItem
from vidsal_core.data.synthkth import PART_INDEX

FRAMES, HEIGHT, WIDTH = 6, 8, 10


def clip(seed: int):
    """One clip's truth and maps: a person in view on frames 0–4, a gradient, a one-step map and a TSR map
    flat on the frames below α (the reference code's constant)."""
    generator = np.random.default_rng(seed)
    parts = np.zeros((FRAMES, HEIGHT, WIDTH), np.uint8)
    parts[:, 2:6, 3:6] = 1
    parts[:, 5:7, 3:5] = PART_INDEX["left_shank"]
    visibility = np.array([1.0, 1.0, 0.9, 0.8, 0.6, 0.2])
    motion = generator.random((FRAMES, HEIGHT, WIDTH)) * (parts > 0)
    gradient = torch.from_numpy(generator.random((FRAMES, 1, HEIGHT, WIDTH)) + 2.0 * (parts > 0)[:, None])
    selected = generator.random(FRAMES) < 0.5
    selected[0], selected[1] = True, False
    tsr = gradient * torch.from_numpy(generator.random((FRAMES, 1, HEIGHT, WIDTH)))
    tsr[torch.from_numpy(~selected)] = 0.1
    one_step = gradient * torch.linspace(0.1, 1.0, FRAMES).double()[:, None, None, None]
    return {"parts": parts, "visibility": visibility, "motion": motion, "selected": selected,
            "maps": {"gradient": gradient, "tsr_blocks": tsr, "one_step": one_step}}


def test_one_clip_gives_the_same_comparison_in_both_chapters():
    data = clip(0)
    person = part_region(data["parts"])
    in_view = (data["visibility"] >= 0.5) & person.any(axis=(1, 2))  # the evaluation's min_visibility
    through_tsr = tsr_study.rule_comparisons(data["maps"], data["parts"], data["visibility"], data["motion"],
                                             data["selected"])["tsr_vs_gradient_auroc_person"]
    through_evaluation = evaluation_study.tsr_against_gradient(data["maps"]["tsr_blocks"], data["maps"]["gradient"],
                                                               person, in_view, data["selected"])
    assert through_tsr == through_evaluation
    assert through_tsr["in_view"]["frames"] == 5 and through_tsr["selected"]["frames"] == int(data["selected"][:5].sum())
    tsr_scores = through_tsr["in_view"]["first"] * 5 - through_tsr["selected"]["first"] * through_tsr["selected"]["frames"]
    unselected = 5 - through_tsr["selected"]["frames"]
    assert tsr_scores == pytest.approx(0.5 * unselected)  # every in-view frame TSR left flat scores 0.5


def test_many_clips_give_the_same_estimates_in_both_chapters():
    persons = list(range(1, 10))
    tsr_rows, items, results = [], [], []
    for person in persons:
        data = clip(person)
        rule = tsr_study.rule_comparisons(data["maps"], data["parts"], data["visibility"], data["motion"],
                                          data["selected"])
        tsr_rows.append({"run": "m", "person": person, "rule": {"first_element": rule}})
        person_region = part_region(data["parts"])
        in_view = (data["visibility"] >= 0.5) & person_region.any(axis=(1, 2))
        comparison = evaluation_study.tsr_against_gradient(data["maps"]["tsr_blocks"], data["maps"]["gradient"],
                                                           person_region, in_view, data["selected"])
        items.append(SweepItem({"key": f"v{person}", "person": person}, {"model": {"run": "m"}, "mean": 0.5}))
        results.append({"target": 0, "frames_in_view": int(in_view.sum()), "person_intensity": 0.5,
                        "background_intensity": 0.5, "gradient_seconds": 0.0,
                        "masks": {"first_element": {**comparison, "pooled_auroc_person": 0.5,
                                                    "frames_above_alpha": 1, "seconds": 0.0}}})
    in_tsr = tsr_findings.rule_findings(pd.DataFrame(tsr_rows), ["m"])
    masks = evaluation_study.mask_ablation_rows(items, results)
    in_evaluation = evaluation_findings.mask_comparisons(masks, ["m"])
    for frame_set in ("in_view", "selected"):
        for part in ("difference", "first", "second"):
            a = in_tsr.estimate("m", "first_element", "tsr_vs_gradient_auroc_person", frame_set, part)
            b = in_evaluation.estimates["m", "first_element", frame_set, part]
            assert (a.mean, a.low, a.high, a.units) == (b.mean, b.low, b.high, b.units)
    assert np.isfinite(a.mean) and a.units == len(persons)
