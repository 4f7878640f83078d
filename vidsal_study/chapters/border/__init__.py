"""Border and lookahead effects (seed 002) on C3D and I3D: the sweeps, their tables, and a command.

Anders et al. (seed 002) explain a C3D trained on 16-frame snippets with deep
Taylor decomposition (DTD), sensitivity analysis (SA, the squared gradient)
and DTD on the untrained network (DTD-u), and summarise the share of
relevance per frame by a border coefficient and a lookahead coefficient
(:mod:`vidsal_core.metrics.relevance`). This package runs the same measurements
as resumable sweeps (:mod:`vidsal_study.sweeps`) over

* the profile's C3D (``models.runs.<c3d_run>``, trained on SynthKTH snippets)
  and its seeded, untrained control, on SynthKTH test videos;
* the Kinetics-400 I3D and a seeded He-initialised I3D, on real footage
  (:mod:`vidsal_core.data.footage`) and on SynthKTH test videos;

and four kinds of sweep: clip **offset** at the model's step (Table 1 pools
these), clip **step** size at fixed offsets, top-k **accuracy** against the step
size without retraining (classification only, at many offsets), and the
**title-card** test (offsets over videos with and without an opening title card).

One sweep item is one clip of one video explained one way: the plain
function :func:`explain_clip` maps a ``(video, setting)`` pair to the clip's
frame-wise relevance and the trained model's top classes. Every explanation
explains the class the *trained* model predicts for that clip (seed 002,
Fig. 1), so DTD, SA and DTD-u explain the same class.

Sizes come from the profile's ``border_chapter`` section. Command line::

    python -m vidsal_study.chapters.border --profile quick

The package, by responsibility (every public name is importable from the
package itself, ``from vidsal_study.chapters import border; border.run_study``):

================  =====================================================================================
module            holds
================  =====================================================================================
``settings``      :data:`EXPLANATIONS` and the other constants, :class:`BorderSettings`, :class:`I3DSettings`,
                  the chapters' corpus configurations
``clips``         video descriptors (SynthKTH, real footage), :func:`load_clip` and its caches
``models``        model descriptors (C3D run, I3D), :func:`model_for` and its cache, :func:`train_run`
``work``          :func:`explanation_map`, :func:`explain_clip` (the sweeps' work), :func:`sweep_items`,
                  :func:`results_frame`, :func:`run_items`
``stats``         coefficients, bias shares, accuracy and step gains with intervals, :func:`signed_interval_text`
``tables``        :func:`table_one`, :func:`markdown_table`, :func:`report`
``study``         :class:`BorderStudy`, :func:`run_study`, :func:`explain_example`, the chapters' examples
                  (:func:`c3d_example`, :func:`i3d_example_groups`) and exercises
                  (:func:`rule_border_coefficients`, :func:`untrained_prior_share`)
``findings``      what the chapters read from the sweeps: :func:`border_findings`, :func:`step_border_findings`,
                  :func:`accuracy_findings`, :func:`early_offset_findings`, :func:`title_card_findings`,
                  their glued values and claim rows
``cli``           :func:`main`, the command above
================  =====================================================================================

The chapters' figures are drawn by :mod:`vidsal_core.plot` (``share_distribution``,
``step_axis``, ``effect_sweep``, ``share_distributions``, ``bias_share_dots``, ``step_sweeps``,
``step_accuracy``, ``title_card_lookahead``) and their numbers glued by :mod:`vidsal_study.book`.
"""

from __future__ import annotations

from vidsal_study.chapters.border.settings import (
    CAM_BLOCK4_LAYERS,
    EXPLANATION_COLOURS,
    EXPLANATIONS,
    LOGITS_ONLY,
    TOP_K,
    UNTRAINED_SEED,
    WORK_VERSION,
    BorderSettings,
    I3DSettings,
    _names,
    _offsets,
    evaluation_corpus_config,
    validation_corpus_config,
)
from vidsal_study.chapters.border.clips import (
    FOOTAGE_CHUNK,
    _corpus,
    _prepared_footage,
    _prepared_footage_chunk,
    clip_fits,
    footage_videos,
    load_clip,
    per_person,
    synthkth_videos,
)
from vidsal_study.chapters.border.models import (
    _MODELS,
    _train_run,
    _weights_sha256,
    c3d_descriptor,
    i3d_descriptor,
    model_for,
    train_run,
    training_title_frames,
    untrained_i3d,
)
from vidsal_study.chapters.border.work import (
    _LAST_CLIP,
    _clip_and_logits,
    explain_clip,
    explanation_map,
    results_frame,
    run_items,
    sweep_items,
)
from vidsal_study.chapters.border.stats import (
    CONSERVING_EXPLANATIONS,
    accuracy_by,
    best_step,
    bias_share,
    bias_share_table,
    effects_by,
    frame_effects,
    signed_interval_text,
    paired_difference,
    shared_offsets,
    sign_text,
    step_gain,
)
from vidsal_study.chapters.border.tables import TABLE_SCALE, markdown_table, report, table_one
from vidsal_study.chapters.border.study import (
    MAP_KINDS,
    BorderStudy,
    _run_study,
    _spread,
    c3d_example,
    example_rows,
    explain_example,
    i3d_example_groups,
    rule_border_coefficients,
    run_study,
    untrained_prior_share,
)
from vidsal_study.chapters.border.findings import (
    AccuracyFindings,
    BorderFindings,
    EarlyOffsetFindings,
    StepBorderFindings,
    TitleCardFindings,
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
from vidsal_study.chapters.border.cli import main
from vidsal_study.sweeps import SweepItem, canonical_json

__all__ = [
    "AccuracyFindings", "BorderFindings", "EarlyOffsetFindings", "MAP_KINDS", "StepBorderFindings",
    "TitleCardFindings", "accuracy_findings", "bias_share_texts", "border_findings", "c3d_example",
    "early_minus_late", "early_offset_findings", "end_to_centre_ratio", "example_rows", "held",
    "i3d_example_groups", "offset_sweep_sizes", "or_unmeasured", "paired_by_card", "rule_border_coefficients",
    "step_border_findings", "step_offset_claim_rows", "step_sweep_sizes", "title_card_findings", "unmeasured",
    "untrained_prior_share",
    "BorderSettings", "BorderStudy", "CAM_BLOCK4_LAYERS", "CONSERVING_EXPLANATIONS", "EXPLANATIONS",
    "EXPLANATION_COLOURS", "FOOTAGE_CHUNK", "I3DSettings", "LOGITS_ONLY", "TABLE_SCALE", "TOP_K", "UNTRAINED_SEED",
    "WORK_VERSION", "accuracy_by", "best_step", "bias_share", "bias_share_table", "c3d_descriptor", "clip_fits",
    "effects_by", "evaluation_corpus_config", "explain_clip", "explain_example", "explanation_map", "footage_videos",
    "frame_effects", "i3d_descriptor", "signed_interval_text", "load_clip", "main", "markdown_table", "model_for",
    "paired_difference", "per_person", "report", "results_frame", "run_items", "run_study", "shared_offsets",
    "sign_text", "step_gain", "sweep_items", "synthkth_videos", "table_one", "train_run", "training_title_frames",
    "untrained_i3d", "validation_corpus_config",
]
