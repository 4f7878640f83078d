"""The ``Examples`` sections of the library's docstrings run, and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

#: Modules whose docstrings carry runnable examples.
MODULES = [
    "vidsal_study.results",
    "vidsal_core.statistics",
    "vidsal_study.book",
    "vidsal_core.data.sequences",
    "vidsal_study.chapters.models.diagnosis",
    "vidsal_core.models.layout",
    "vidsal_core.models.adapter",
    "vidsal_core.plot",
    "vidsal_core.runtime",
    "vidsal_study.chapters.border.findings",
    "vidsal_study.chapters.time_contribution.findings",
    "vidsal_study.chapters.summary.claims",
    "vidsal_study.training_runs",
    "vidsal_study.runs",
    "vidsal_study.chapters.data.cues",
    "vidsal_core.metrics.flat_frames",
    "vidsal_study.chapters.evaluation.findings",
    "vidsal_study.chapters.time_contribution.study",
    "vidsal_study.chapters.vanishing.study",
    "vidsal_study.chapters.tsr.findings",
    "vidsal_study.chapters.tsr.study",
    "vidsal_study.chapters.models.findings",
    # every public function of vidsal_core.saliency (see its _EXPORTS)
    "vidsal_core.saliency.gradients",
    "vidsal_core.saliency.masking",
    "vidsal_core.saliency.incremental",
    "vidsal_core.saliency.incremental_cnn",
    "vidsal_core.saliency.time_contribution",
    "vidsal_core.saliency.keyframes",
    "vidsal_core.saliency.tsr",
    "vidsal_core.saliency.tsr_reference",
    "vidsal_core.saliency.flow",
    "vidsal_core.saliency.lrp",
    "vidsal_core.saliency.lrp_fast",
    "vidsal_core.saliency.gradcam",
    "vidsal_core.saliency.registry",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no example to run"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"
