"""The ``Examples`` sections of the library's docstrings run, and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

#: Modules whose docstrings carry runnable examples.
MODULES = [
    "vidsal_core.results",
    "vidsal_core.analysis.statistics",
    "vidsal_core.book",
    "vidsal_core.data.sequences",
    "vidsal_core.models.diagnosis",
    "vidsal_core.models.layout",
    "vidsal_core.models.adapter",
    "vidsal_core.runtime",
    "vidsal_core.analysis.border.findings",
    "vidsal_core.analysis.time_contribution_findings",
    "vidsal_core.analysis.claims_summary",
    "vidsal_core.analysis.training_runs",
    "vidsal_core.models.runs",
    "vidsal_core.analysis.cues",
    "vidsal_core.analysis.flat_frames",
    "vidsal_core.analysis.evaluation_findings",
    "vidsal_core.analysis.temporal_agreement",
    "vidsal_core.analysis.vanishing",
    "vidsal_core.analysis.tsr_findings",
    "vidsal_core.analysis.tsr_study",
    "vidsal_core.models.chapter",
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
