"""The ``Examples`` sections of the library's docstrings run, and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

#: Modules whose docstrings carry runnable examples.
MODULES = ["vidsal_core.results", "vidsal_core.analysis.statistics", "vidsal_core.data.sequences"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no example to run"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"
