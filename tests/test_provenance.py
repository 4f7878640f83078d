"""Provenance: each executed chapter records how it was made, shows it under its title; the Status page lists them."""

from __future__ import annotations

import hashlib
import subprocess

import nbformat
import papermill
import pytest

from vidsal_study import book, provenance
from vidsal_study.book import ROOT, chapters_in_toc, declared_parameters, run_chapter
from vidsal_study.provenance import BOX_CLASS, collect, fill_status, read_record, release_version, status_markdown


def _template(directory, body):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell(f'{book.PARAMETERS_HEADER}\nprofile = "default"  # the profile\n'
                                           'size = 3  # a size\n')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [nbformat.v4.new_markdown_cell("# A chapter\n\nIts question."), parameters,
                      nbformat.v4.new_code_cell("from vidsal_study.book import check_parameters\ncheck_parameters(In)"),
                      nbformat.v4.new_code_cell(body)]
    nbformat.write(notebook, directory / "toy.ipynb")


def test_a_record_names_the_profile_commit_versions_device_and_parameters():
    import datetime

    record = collect("quick", {"profile": "quick", "video": "clip.avi", "dask": "local:2"}, 12.34, True,
                     datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
    assert record["profile_sha256"] == hashlib.sha256((ROOT / "params" / "quick.yaml").read_bytes()).hexdigest()
    assert record["commit"] == subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                                              text=True).stdout.strip()
    assert isinstance(record["dirty"], bool)
    assert set(record["versions"]) == {"vidsal", "torch", "captum", "zennit", "opencv"}
    assert record["versions"]["vidsal"] == release_version() and record["versions"]["torch"][0].isdigit()
    assert record["parameters"] == {"video": "clip.avi", "dask": "local:2"}
    assert record["date"] == "2026-01-02T03:04:05+00:00" and record["seconds"] == 12.3
    assert record["device"].startswith(("CPU", "GPU"))
    box = provenance.box_markdown(record)
    assert BOX_CLASS in box and "`-p video clip.avi`" in box and "`-p dask local:2`" in box
    assert "2026-01-02 03:04 UTC" in box and record["commit"][:10] in box


@pytest.mark.slow
def test_run_chapter_stamps_passed_and_failed_chapters(tmp_path, monkeypatch):
    templates, out = tmp_path / "templates", tmp_path / "chapters"
    templates.mkdir()
    monkeypatch.setattr(book, "NOTEBOOKS", templates)
    _template(templates, "print(size * 2)")
    output = run_chapter("toy", "quick", parameters={"size": 5}, output_dir=out)
    record = read_record(output)
    assert record["status"] == "passed" and record["parameters"] == {"size": 5} and record["profile"] == "quick"
    first = nbformat.read(output, as_version=4).cells[0].source
    assert first.startswith("# A chapter\n\n```{admonition}") and first.rstrip().endswith("Its question.")
    assert "`-p size 5`" in first

    _template(templates, "raise RuntimeError('the corpus is missing')")
    with pytest.raises(papermill.PapermillExecutionError):
        run_chapter("toy", "quick", output_dir=out)
    record = read_record(output)
    assert record["status"] == "failed" and "the corpus is missing" in record["error"]
    assert record["parameters"] == {}

    table = status_markdown(["toy", "never_run"], out)
    assert "{doc}`chapters/toy` | **failed**" in table and "{doc}`chapters/never_run` | not run" in table
    assert record["commit"][:10] in table and record["profile_sha256"][:12] in table
    with pytest.raises(Exception, match="chapter-status"):
        fill_status("no marker", ["toy"], out)


def test_the_status_page_is_in_the_toc_and_lists_every_chapter(tmp_path):
    toc = (ROOT / "_toc.yml").read_text()
    assert "file: book/status" in toc
    page = (ROOT / "book" / "status.md").read_text()
    filled = fill_status(page, chapters_in_toc(), tmp_path)
    for name in chapters_in_toc():
        assert f"{{doc}}`chapters/{name}` | not run" in filled


def test_the_sweeping_chapters_take_a_dask_parameter():
    for name in ("border_lookahead", "step_size_offset", "evaluation", "tsr", "vanishing_saliency"):
        assert "dask" in declared_parameters(name), name


def test_citation_parses_and_its_version_is_the_release():
    import tomllib

    import yaml

    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert citation["cff-version"] == "1.2.0" and citation["version"] == version == release_version()
    assert citation["title"] and citation["authors"] and citation["message"]
    assert {reference["title"] for reference in citation["references"]} >= {
        "Interpretability of Video Classifiers", "Understanding Patch-Based Learning by Explaining Predictions"}
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()


def test_the_publish_workflow_builds_with_make_book_and_deploys_the_html():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "publish.yml").read_text())
    build = workflow["jobs"]["build"]["steps"]
    assert any(step.get("run") == "make book" for step in build)
    assert any(step.get("uses", "").startswith("actions/upload-pages-artifact")
               and step["with"]["path"] == "_build/html" for step in build)
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["steps"][0]["uses"].startswith("actions/deploy-pages")
    assert workflow["permissions"]["pages"] == "write"
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("make test")
