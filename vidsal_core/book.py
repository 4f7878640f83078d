"""Run the study's chapters with papermill and check their parameters.

Each chapter is a template ``notebooks/<name>.ipynb`` whose cell tagged
``parameters`` declares every parameter with a default and a comment. The
book runs each template with a profile into ``book/chapters/<name>.ipynb``
(git-ignored), and Jupyter Book then builds those executed copies without
executing anything itself.

A chapter's second cell calls :func:`check_parameters`, so a parameter given to
papermill that the chapter does not declare (a typo, or one from another
chapter) stops the run with an error instead of being silently ignored.

Command line::

    python -m vidsal_core.book --profile default            # every chapter of _toc.yml
    python -m vidsal_core.book --profile quick data models  # some chapters
    python -m vidsal_core.book --profile full --dask local:8    # sweeps on 8 worker processes
    python -m vidsal_core.book --profile full --dask tcp://scheduler:8786

Each executed chapter records how it was made (:mod:`vidsal_core.provenance`).

A chapter glues numbers into its prose with :func:`glue_text` and
:func:`glue_estimate` (MyST-NB's ``glue``, imported only when they are called,
so the library does not need MyST-NB).
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from vidsal_core.errors import ConfigError, VidsalError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = ROOT / "book" / "chapters"


def chapters_in_toc(toc: Path = ROOT / "_toc.yml") -> list[str]:
    """Names of the executed chapters the table of contents lists, in order."""
    content = yaml.safe_load(toc.read_text())
    names: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            file = node.get("file")
            if isinstance(file, str) and file.startswith("book/chapters/"):
                names.append(file.removeprefix("book/chapters/"))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(content)
    return names


#: First line of every chapter's ``parameters`` cell; :func:`check_parameters` finds the cell by it.
PARAMETERS_HEADER = "# Chapter parameters"
#: First line of the cell papermill injects after it.
INJECTED_HEADER = "# Parameters"


def parameter_names(source: str) -> list[str]:
    """Names a ``parameters`` cell assigns, in order."""
    names: list[str] = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name) and leaf.id not in names:
                    names.append(leaf.id)
    return names


def check_parameters(history: Iterable[str]) -> list[str]:
    """Refuse parameters that papermill injected but the chapter does not declare.

    Papermill only logs a warning for an unknown ``-p NAME VALUE``; a chapter
    calls ``check_parameters(In)`` right after its parameters so that a typo
    stops the run instead of being ignored.

    Parameters
    ----------
    history : list of str
        The sources of the cells run so far (IPython's ``In``). The chapter's
        parameters cell starts with :data:`PARAMETERS_HEADER`; papermill's
        injected cell, if any, follows it and starts with :data:`INJECTED_HEADER`.

    Returns
    -------
    list of str
        The declared parameter names.
    """
    sources = [source for source in history if isinstance(source, str)]
    positions = [i for i, source in enumerate(sources) if source.lstrip().startswith(PARAMETERS_HEADER)]
    if not positions:
        raise ConfigError(f"no cell starting with {PARAMETERS_HEADER!r} has run: run the parameters cell first")
    declared = parameter_names(sources[positions[-1]])
    injected = [name for source in sources[positions[-1] + 1:]
                if source.lstrip().startswith(INJECTED_HEADER)
                for name in parameter_names(source)]
    unknown = sorted(set(injected) - set(declared))
    if unknown:
        raise ConfigError(f"unknown chapter parameter(s) {unknown}; this chapter takes {declared}")
    return declared


def glue_text(name: str, text: str) -> None:
    """Glue a piece of text for a chapter's ``{glue:md}`` role (shown without quotes)."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(name, Markdown(text), display=False)


def glue_estimate(name: str, estimate: Any, scale: float | None = None) -> None:
    """Glue ``name`` (``mean [low, high]`` ×``scale``) and ``name_verdict`` (its sign) for a chapter.

    ``estimate`` has ``mean``, ``low`` and ``high`` (e.g. an
    :class:`~vidsal_core.analysis.statistics.Estimate`); ``scale`` defaults to
    :data:`vidsal_core.analysis.border.TABLE_SCALE` (percentage points). The
    text is :func:`~vidsal_core.analysis.border.interval_text`, the verdict
    :func:`~vidsal_core.analysis.border.sign_text`.
    """
    from vidsal_core.analysis.border import TABLE_SCALE, interval_text, sign_text

    scale = TABLE_SCALE if scale is None else scale
    glue_text(name, interval_text(estimate.mean, estimate.low, estimate.high, scale))
    glue_text(f"{name}_verdict", sign_text(estimate.low, estimate.high))


def run_chapter(name: str, profile: str = "default", parameters: Mapping[str, Any] | None = None,
                output_dir: Path = CHAPTERS, kernel_name: str = "python3") -> Path:
    """Execute ``notebooks/<name>.ipynb`` with a profile into ``output_dir/<name>.ipynb``.

    The executed notebook keeps how it was made (:mod:`vidsal_core.provenance`)
    in its metadata and shows it in a box under its title, also when a cell
    fails (the record then says failed, and the error is raised again).
    """
    import papermill

    from vidsal_core.provenance import collect, stamp_notebook

    template = NOTEBOOKS / f"{name}.ipynb"
    if not template.is_file():
        raise ConfigError(f"chapter {name!r}: no template {template}")
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / f"{name}.ipynb"
    started, start = datetime.datetime.now(datetime.timezone.utc), time.perf_counter()
    try:
        papermill.execute_notebook(
            str(template), str(output), parameters={"profile": profile, **(parameters or {})},
            kernel_name=kernel_name, cwd=str(ROOT), progress_bar=False,
        )
    except BaseException as error:
        if output.is_file():  # papermill saved the cells run so far, the error included
            reason = f"{getattr(error, 'ename', type(error).__name__)}: {getattr(error, 'evalue', error)}"
            stamp_notebook(output, collect(profile, parameters, time.perf_counter() - start, False, started,
                                           reason.splitlines()[0][:300]))
        raise
    stamp_notebook(output, collect(profile, parameters, time.perf_counter() - start, True, started))
    return output


#: Chapters that read other chapters' saved results (vidsal_core.results): they run again when those change.
RESULT_READERS = frozenset({"summary"})


def chapter_fingerprint(name: str, profile: str | Path) -> str:
    """Hash of what a chapter's output depends on: its template, the profile, the library's source."""
    from vidsal_core.profiles import profile_path

    digest = hashlib.sha256()
    digest.update((NOTEBOOKS / f"{name}.ipynb").read_bytes())
    digest.update(profile_path(profile).read_bytes())
    for source in sorted((ROOT / "vidsal_core").rglob("*.py")):
        digest.update(source.relative_to(ROOT).as_posix().encode())
        digest.update(source.read_bytes())
    if name in RESULT_READERS:
        from vidsal_core.results import RESULTS_DIR

        for saved in sorted((RESULTS_DIR / Path(str(profile)).stem).glob("*.json")):
            digest.update(saved.name.encode())
            digest.update(saved.read_bytes())
    return digest.hexdigest()


def declared_parameters(name: str) -> list[str]:
    """Names the parameters cell of ``notebooks/<name>.ipynb`` declares."""
    import json

    template = NOTEBOOKS / f"{name}.ipynb"
    if not template.is_file():
        raise ConfigError(f"chapter {name!r}: no template {template}")
    for cell in json.loads(template.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.lstrip().startswith(PARAMETERS_HEADER):
            return parameter_names(source)
    raise ConfigError(f"chapter {name!r}: {template} has no cell starting with {PARAMETERS_HEADER!r}")


class ChapterFailed(VidsalError, RuntimeError):
    """One or more chapters stopped with an error (their pages and the Status page say which)."""


def run_chapters(names: Iterable[str], profile: str, output_dir: Path = CHAPTERS, force: bool = False,
                 dask: str | None = None) -> list[str]:
    """Run chapters whose template, profile or library changed since their last run; return those run.

    Each executed chapter gets a ``<name>.fingerprint`` beside it; a chapter whose
    fingerprint still matches is not executed again. A chapter that fails is
    kept (its page shows the error, its provenance says failed), the others
    still run, and :class:`ChapterFailed` names the failures at the end.

    Parameters
    ----------
    dask : str, optional
        ``local:N`` or ``tcp://host:port``: chapters that take a ``dask``
        parameter run their sweeps on that cluster
        (:func:`vidsal_core.analysis.sweeps.dask_executor`). Results do not
        depend on it, so it does not make an up-to-date chapter run again.
    """
    if dask is not None:
        from vidsal_core.analysis.sweeps import parse_dask

        parse_dask(dask)
    ran, failed = [], []
    for name in names:
        stamp = output_dir / f"{name}.fingerprint"
        fingerprint = chapter_fingerprint(name, profile)
        if not force and stamp.is_file() and stamp.read_text() == fingerprint and (output_dir / f"{name}.ipynb").is_file():
            print(f"[book] {name}: up to date", flush=True)
            continue
        start = time.perf_counter()
        print(f"[book] {name} ({profile}) ...", flush=True)
        stamp.unlink(missing_ok=True)
        parameters = {"dask": dask} if dask is not None and "dask" in declared_parameters(name) else {}
        try:
            run_chapter(name, profile, parameters=parameters, output_dir=output_dir)
        except Exception as error:  # papermill's execution error, or a kernel that died
            print(f"[book] {name} FAILED after {time.perf_counter() - start:.0f} s: "
                  f"{str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__}", flush=True)
            failed.append(name)
            continue
        stamp.write_text(fingerprint)
        print(f"[book] {name} done in {time.perf_counter() - start:.0f} s", flush=True)
        ran.append(name)
    if failed:
        raise ChapterFailed(f"chapter(s) {failed} failed; see book/chapters/<name>.ipynb or the Status page")
    return ran


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vidsal_core.book", description="Run the book's chapters.")
    parser.add_argument("chapters", nargs="*", help="chapter names (default: every chapter in _toc.yml)")
    parser.add_argument("--profile", default="default", help="quick, default, full or a .yaml path")
    parser.add_argument("--force", action="store_true", help="run even chapters that are up to date")
    parser.add_argument("--dask", metavar="SPEC", default=None,
                        help="run the chapters' sweeps on Dask: local:N (N worker processes here) or "
                             "tcp://host:port (a running scheduler)")
    arguments = parser.parse_args(argv)
    try:
        run_chapters(arguments.chapters or chapters_in_toc(), arguments.profile, force=arguments.force,
                     dask=arguments.dask)
    except VidsalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
