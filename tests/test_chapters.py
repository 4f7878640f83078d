"""Chapter templates: clean sources, documented parameters, refused typos, a user's own clip."""

from __future__ import annotations

import re

import nbformat
import papermill
import pytest

from _toy_videos import chapter_outputs, moving_square_clip
from vidsal_study.book import NOTEBOOKS, PARAMETERS_HEADER, ROOT, chapters_in_toc, check_parameters, parameter_names
from vidsal_core.errors import ConfigError

TEMPLATES = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_chapter_in_the_toc_has_a_template_and_vice_versa():
    assert sorted(chapters_in_toc(ROOT / "_toc.yml")) == sorted(path.stem for path in TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.stem)
def test_template_is_clean_and_its_parameters_are_documented(template):
    notebook = nbformat.read(template, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "outputs in a template"
    tagged = [cell for cell in code if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged parameters"
    cell = tagged[0]
    assert "hide-input" in cell.metadata["tags"]
    assert cell.source.startswith(PARAMETERS_HEADER)
    names = parameter_names(cell.source)
    assert "profile" in names
    # papermill must read every parameter with its help text (`papermill --help-notebook`)
    inspected = {parameter["name"]: parameter for parameter in papermill.inspect_notebook(str(template)).values()}
    assert sorted(inspected) == sorted(names)
    assert all(parameter["help"] for parameter in inspected.values()), "every parameter needs a comment"
    # the parameters are checked right after they are set
    following = code[code.index(cell) + 1]
    assert "check_parameters(In)" in following.source


EXERCISE = re.compile(r"^(\d+)\. ")
SOLUTION = re.compile(r"^`{3,}\{dropdown\} Solution")


def exercise_section(notebook):
    """The markdown of a chapter's Exercises section, ``## Exercises`` to the next heading of its level."""
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert text.count("## Exercises") == 1, "one Exercises section"
    section = text.split("## Exercises", 1)[1]
    return re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.stem)
def test_every_exercise_has_a_solution(template):
    # each numbered exercise is followed by its dropdown solution before the next exercise begins
    notebook = nbformat.read(template, as_version=4)
    events = []
    for line in exercise_section(notebook).splitlines():
        if EXERCISE.match(line):
            events.append(("exercise", int(EXERCISE.match(line).group(1))))
        elif SOLUTION.match(line):
            events.append(("solution", None))
    exercises = [number for kind, number in events if kind == "exercise"]
    assert exercises, "no exercise"
    assert exercises == list(range(1, len(exercises) + 1)), f"exercises numbered {exercises}"
    assert [kind for kind, _ in events] == ["exercise", "solution"] * len(exercises), events


def test_check_parameters_names_the_unknown_one():
    history = ["import x", f"{PARAMETERS_HEADER}\nprofile = 'default'\nvideo = None\n",
               "# Parameters\nprofile = \"quick\"\nvidoe = \"clip.avi\"\n"]
    with pytest.raises(ConfigError, match=r"\['vidoe'\].*\['profile', 'video'\]"):
        check_parameters(history)
    assert check_parameters(history[:2] + ["# Parameters\nvideo = 'a.avi'\n"]) == ["profile", "video"]
    with pytest.raises(ConfigError, match="parameters cell"):
        check_parameters(["import x"])


#: The public functions each chapter teaches in its visible cells ("The method on one clip"), called by name.
TAUGHT_METHODS = {
    "data": ("farneback_flow(", "flow_magnitude("),
    "models": ("trained_model(", "test_clip(", "softmax("),
    "vanishing_saliency": ("input_gradient(", "integrated_gradients(", "vanishing_index("),
    "time_contribution": ("time_contribution(", "detect_keyframes("),
    "tsr": ("temporal_saliency_rescaling(",),
    "border_lookahead": ("deep_taylor(", "relevance_share(", "border_coefficient(", "lookahead_coefficient("),
    "step_size_offset": ("clip_indices(", "deep_taylor(", "border_coefficient("),
    "evaluation": ("explain(", "localisation_metrics(", "faithfulness("),
    "summary": ("read_claims(", "verdict("),
    "teaching": ("read_times(", "times_path(", "exercises("),
    "quickstart": ("read_video(", "as_video_model(", "explain(", "saliency_grid(", "saliency_video("),
}
#: Most lines of a visible code cell: short cells a reader can follow.
VISIBLE_CELL_LINES = 12


def visible_code(template):
    """The template's code cells whose input the book shows (no hide-* or remove-* tag)."""
    notebook = nbformat.read(template, as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"
            and not any(tag.startswith(("hide-", "remove-")) for tag in cell.metadata.get("tags", []))]


def test_every_chapter_names_the_method_it_teaches():
    assert sorted(TAUGHT_METHODS) == sorted(path.stem for path in TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.stem)
def test_a_visible_cell_calls_the_chapters_method_and_visible_cells_are_short(template):
    cells = visible_code(template)
    for name in TAUGHT_METHODS[template.stem]:
        assert any(name in cell.source for cell in cells), f"no visible cell calls {name}...)"
    long = [len(cell.source.splitlines()) for cell in cells if len(cell.source.splitlines()) > VISIBLE_CELL_LINES]
    assert not long, f"visible code cells of {long} lines (at most {VISIBLE_CELL_LINES})"
    # the teaching section comes before the study's sweeps: a heading of its own
    notebook = nbformat.read(template, as_version=4)
    headings = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    assert any(source.startswith("## The method on one") for source in headings)


#: Longest code cell a chapter may hold (issue 15: sizes a reader can hold).
CODE_CELL_LINES = 40


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.stem)
def test_no_code_cell_is_longer_than_forty_lines(template):
    notebook = nbformat.read(template, as_version=4)
    long = [(index, len(cell.source.splitlines())) for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and len(cell.source.splitlines()) > CODE_CELL_LINES]
    assert not long, f"{template.name}: (cell, lines) over {CODE_CELL_LINES}: {long}"


#: Most lines of code a chapter may hold, all its code cells together (issue 15: about 250 at most).
CHAPTER_CODE_LINES = 250


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.stem)
def test_a_chapter_holds_at_most_250_lines_of_code(template):
    notebook = nbformat.read(template, as_version=4)
    lines = sum(len(cell.source.splitlines()) for cell in notebook.cells if cell.cell_type == "code")
    assert 0 < lines <= CHAPTER_CODE_LINES, f"{template.name}: {lines} lines of code (at most {CHAPTER_CODE_LINES})"


@pytest.mark.slow
def test_a_mistyped_parameter_stops_the_chapter(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="unknown chapter parameter"):
        papermill.execute_notebook(str(NOTEBOOKS / "data.ipynb"), str(tmp_path / "out.ipynb"),
                                   parameters={"profile": "quick", "vidoe": "clip.avi"}, cwd=str(ROOT),
                                   progress_bar=False)


@pytest.mark.slow
def test_data_chapter_runs_on_a_users_own_clip(tmp_path):
    clip = moving_square_clip(tmp_path / "my clip.avi", frames=12)
    text = chapter_outputs("data", tmp_path / "out.ipynb", {"profile": "quick", "video": str(clip)})
    assert "my clip.avi: 12 frames of 48x64" in text
    assert "mean Farneb" in text and "px/frame" in text


@pytest.mark.slow
def test_a_readers_model_explains_a_readers_clip(tmp_path, monkeypatch):
    """``-p model module:builder`` plugs a reader's classifier into the time-contribution chapter."""
    (tmp_path / "my_classifier.py").write_text(
        "import torch\n"
        "from torch import nn\n"
        "class MotionEnergy(nn.Module):\n"
        "    # class 1 ('moving') grows with the mean absolute frame difference\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.scale = nn.Parameter(torch.tensor(400.0))\n"
        "    def forward(self, videos):\n"
        "        energy = (videos[:, 1:] - videos[:, :-1]).abs().mean(dim=(1, 2, 3, 4))\n"
        "        return torch.stack([torch.zeros_like(energy), self.scale * energy - 1.0], dim=1)\n"
        "def build():\n"
        "    return MotionEnergy()\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    clip = moving_square_clip(tmp_path / "my clip.avi", frames=20)
    text = chapter_outputs("time_contribution", tmp_path / "out.ipynb",
                           {"profile": "quick", "video": str(clip), "model": "my_classifier:build",
                            "model_classes": "still, moving"})
    assert "your model my_classifier:build: predicts moving" in text


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.stem)
def test_every_code_cell_parses_on_this_python(template):
    # a chapter's syntax error shows only when the chapter runs; this finds it in a second
    import ast

    notebook = nbformat.read(template, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and not cell.source.lstrip().startswith(("%", "!")):
            try:
                ast.parse(cell.source)
            except SyntaxError as error:
                pytest.fail(f"{template.name}, cell {index}: {error}")
