"""The border chapters' rows about C3D on every training run of it (:mod:`vidsal_study.training_runs`).

The profile's C3D (``border_chapter.c3d_run``) is one training run. Where the
profile trains it again with other seeds (``models.replicates``; the full
profile does), :func:`robust_border_rows` and :func:`robust_step_rows` run the
same sweeps on each replicate (:func:`~vidsal_study.chapters.border.study.run_study`
with ``c3d_run``) and fold each row's verdicts into its ``training_runs``;
where it does not, the rows say they rest on one run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from vidsal_study.chapters.border.findings import (
    CLAIM_DATASETS, accuracy_findings, border_findings, early_offset_findings, step_border_findings,
    step_offset_claim_rows, title_card_findings,
)
from vidsal_study.chapters.border.settings import BorderSettings
from vidsal_study.chapters.border.study import BorderStudy, run_study
from vidsal_study.training_runs import robust_rows, robust_rows_in_groups

#: The dataset label of the rows about the profile's own C3D (the rest are about the pretrained I3D).
C3D_DATASET = CLAIM_DATASETS["c3d"]


def _about_c3d(row: Mapping[str, Any]) -> bool:
    return f"({C3D_DATASET})" in str(row["quantity"]) or str(row["quantity"]).endswith("(C3D)")


def border_rows_on_run(profile: str | Path, runs: Sequence[str], variant: str | None = None) -> list[dict[str, Any]]:
    """The border chapter's rows about C3D, with ``runs[0]`` (a replicate) as the C3D explained."""
    return [row for row in border_findings(run_study(profile, progress=False, with_i3d=False, c3d_run=runs[0]))
            .claim_rows() if _about_c3d(row)]


def robust_border_rows(profile: str | Path, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The border chapter's ``rows``, those about C3D with their verdicts on every training run of it."""
    run = BorderSettings.from_profile(profile).c3d_run
    return robust_rows_in_groups(profile, rows, [([run], _about_c3d,
                                                  lambda runs, variant: border_rows_on_run(profile, runs, variant))])


def step_rows(study: BorderStudy, early_offsets: int) -> list[dict[str, Any]]:
    """The step-size chapter's rows (:func:`step_offset_claim_rows`) from a study, as the chapter computes them."""
    frames, c3d, settings = study.frames, study.c3d, study.settings
    span = (c3d["clip_length"] - 1) * c3d["step"] + 1
    return step_offset_claim_rows(step_border_findings(frames["c3d_steps"], settings.steps),
                                  accuracy_findings(frames, c3d["step"], settings.validation_persons),
                                  early_offset_findings(frames["c3d_offsets"], early_offsets),
                                  title_card_findings(frames["c3d_title"], settings.title_offsets,
                                                      settings.title_frames, span),
                                  study.training_title_frames)


def robust_step_rows(profile: str | Path, rows: Sequence[Mapping[str, Any]],
                     early_offsets: int) -> list[dict[str, Any]]:
    """The step-size chapter's ``rows`` (all about C3D) with their verdicts on every training run of it."""
    run = BorderSettings.from_profile(profile).c3d_run
    return robust_rows(profile, [run], rows, lambda runs, variant: step_rows(
        run_study(profile, progress=False, with_i3d=False, c3d_run=runs[0]), early_offsets))
