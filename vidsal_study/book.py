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

    python -m vidsal_study.book --profile default            # every chapter of _toc.yml
    python -m vidsal_study.book --profile quick data models  # some chapters
    python -m vidsal_study.book --profile full --dask local:8    # sweeps on 8 worker processes
    python -m vidsal_study.book --profile full --dask tcp://scheduler:8786
    python -m vidsal_study.book --profile default --jobs 2       # two chapters side by side

Each run's wall time is kept in ``data/chapter_times/<profile>.json``
(:func:`record_time`), which the teaching page glues.

Each executed chapter records how it was made (:mod:`vidsal_study.provenance`).

A chapter glues numbers, texts and intervals into its prose with one helper,
:func:`glue` (MyST-NB's ``glue``, imported only when it is called, so the
library does not need MyST-NB).
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from vidsal_core.errors import ConfigError, VidsalError
from vidsal_study.processes import study_process
from vidsal_study.provenance import collect, stamp_notebook
from vidsal_study.profiles import profile_path
from vidsal_study.sweeps import parse_dask, start_local_cluster

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = ROOT / "book" / "chapters"


def chapters_in_toc(toc: Path = ROOT / "_toc.yml", part: str | None = None) -> list[str]:
    """Names of the executed chapters the table of contents lists, in order.

    ``part`` keeps those of the part with that caption ("The study": the
    chapters that save claim rows; "Using the study": the teaching page).
    """
    content = yaml.safe_load(toc.read_text())
    if part is not None:
        parts = [entry for entry in content.get("parts", []) if entry.get("caption") == part]
        if not parts:
            raise ConfigError(f"{toc}: no part with the caption {part!r}")
        content = parts
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
    study_process()  # a chapter's kernel is one of the study's processes
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


class GluedText:
    """A text glued for the prose: Markdown for ``{glue:md}``, the same text (no quotes) for ``{glue:text}``."""

    def __init__(self, text: str) -> None:
        self.text = str(text)

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def glue(name: str, value: Any, *,
         spec: str = ".3g", scale: float = 1.0, verdict: bool = False, display: bool = False) -> None:
    """Glue one value for a chapter's prose: the study's one glue helper (MyST-NB's ``glue``).

    - A text (``str``) is glued as :class:`GluedText`, for ``{glue:md}`` and ``{glue:text}``.
    - An estimate (anything with ``mean``, ``low`` and ``high``, such as
      :class:`~vidsal_core.statistics.Estimate`) is glued as its
      interval, ``mean [low, high]`` (:func:`~vidsal_core.statistics.interval_text`
      with ``spec`` and ``scale``; ``—`` when nothing was measured). With
      ``verdict=True``, ``<name>_verdict`` gets its side of zero in words
      (:func:`~vidsal_study.chapters.border.sign_text`).
    - Anything else (a number, a figure, a table, IPython ``Markdown``) is
      glued as it is: a number keeps its ``{glue:text}`name:.3f``` formats.

    MyST-NB is imported only when this is called, so the library does not
    need it. Like MyST-NB's ``glue`` it returns nothing, so that a cell ending
    with it shows no output.

    Examples
    --------
    >>> from vidsal_core.statistics import interval_text
    >>> interval_text(0.012, 0.004, 0.02, spec="+.3g", scale=100)  # what glue(name, estimate, spec="+.3g", scale=100) glues
    '+1.2 [+0.4, +2]'
    """
    from myst_nb import glue as myst_glue

    if scale != 1.0 or spec != ".3g" or verdict:
        if not all(hasattr(value, part) for part in ("mean", "low", "high")):
            raise ConfigError(f"glue({name!r}): spec, scale and verdict apply to an estimate (mean, low, high), "
                              f"not to a {type(value).__name__}")
    if all(hasattr(value, part) for part in ("mean", "low", "high")):
        from vidsal_core.statistics import interval_text

        glued: Any = GluedText(interval_text(value.mean, value.low, value.high, spec=spec, scale=scale))
        if verdict:
            from vidsal_study.chapters.border import sign_text

            myst_glue(f"{name}_verdict", GluedText(sign_text(value.low, value.high)), display=False)
    elif isinstance(value, str):
        glued = GluedText(value)
    else:
        glued = value
    myst_glue(name, glued, display=display)


def run_chapter(name: str, profile: str = "default", parameters: Mapping[str, Any] | None = None,
                output_dir: Path = CHAPTERS, kernel_name: str = "python3",
                recorded_parameters: Mapping[str, Any] | None = None) -> Path:
    """Execute ``notebooks/<name>.ipynb`` with a profile into ``output_dir/<name>.ipynb``.

    The executed notebook keeps how it was made (:mod:`vidsal_study.provenance`)
    in its metadata and shows it in a box under its title, also when a cell
    fails (the record then says failed, and the error is raised again).
    ``recorded_parameters`` is what the record says was given, when it differs
    from what papermill passes (the runner's own Dask cluster: ``local:2``, not
    its address); by default ``parameters``.
    """
    import papermill


    template = NOTEBOOKS / f"{name}.ipynb"
    if not template.is_file():
        raise ConfigError(f"chapter {name!r}: no template {template}")
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / f"{name}.ipynb"
    recorded = parameters if recorded_parameters is None else recorded_parameters
    started, start = datetime.datetime.now(datetime.timezone.utc), time.perf_counter()
    try:
        papermill.execute_notebook(
            str(template), str(output), parameters={"profile": profile, **(parameters or {})},
            kernel_name=kernel_name, cwd=str(ROOT), progress_bar=False,
        )
    except BaseException as error:
        if output.is_file():  # papermill saved the cells run so far, the error included
            reason = f"{getattr(error, 'ename', type(error).__name__)}: {getattr(error, 'evalue', error)}"
            stamp_notebook(output, collect(profile, recorded, time.perf_counter() - start, False, started,
                                           reason.splitlines()[0][:300]))
        raise
    record = collect(profile, recorded, time.perf_counter() - start, True, started)
    stamp_notebook(output, record)
    record_time(name, record)
    return output


#: Where :func:`run_chapter` records how long each chapter took, one JSON file per profile
#: (``VIDSAL_CHAPTER_TIMES`` moves it, e.g. for a test).
TIMES_DIR = Path(os.environ.get("VIDSAL_CHAPTER_TIMES", ROOT / "data" / "chapter_times"))


def times_path(profile: str | Path, directory: Path | None = None) -> Path:
    """``data/chapter_times/<profile>.json``: the last successful run time of each chapter on that profile."""
    return (TIMES_DIR if directory is None else directory) / f"{Path(str(profile)).stem}.json"


def read_times(path: Path) -> dict[str, dict[str, Any]]:
    """The chapter times a :func:`record_time` file holds (empty when there is none)."""
    import json

    if not path.is_file():
        return {}
    try:
        times = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not a chapter-times file ({error}); delete it to start a new one") from error
    if not isinstance(times, dict) or not all(isinstance(entry, dict) and "seconds" in entry for entry in times.values()):
        raise ConfigError(f"{path}: expected {{chapter: {{'seconds': ..., ...}}}}; delete it to start a new one")
    return times


def record_time(name: str, record: Mapping[str, Any], path: Path | None = None) -> Path:
    """Add a chapter's run time, from its provenance ``record``, to :func:`times_path`.

    The file is rewritten under a lock, since chapters may finish side by side
    (``--jobs``). Each entry keeps the seconds, the date, the device, the
    number of CPUs, the commit and how many chapters ran at once.
    """
    import fcntl
    import json

    path = times_path(record["profile"]) if path is None else path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        times = read_times(path)
        times[name] = {"seconds": record["seconds"], "date": record["date"], "device": record["device"],
                       "cpus": os.cpu_count(), "commit": record.get("commit"),
                       "parameters": dict(record.get("parameters") or {}),
                       "side_by_side": int(os.environ.get(SIDE_BY_SIDE_VARIABLE, "1"))}
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        temporary.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")
        os.replace(temporary, path)
    return path


def exercises(name: str) -> list[str]:
    """The exercises of chapter ``name``: each numbered item of its ``## Exercises`` section, as one line.

    An item runs from its ``N. `` to its dropdown solution (or the next item);
    the text is joined into one line, without the solution.
    """
    import json
    import re

    template = NOTEBOOKS / f"{name}.ipynb"
    if not template.is_file():
        raise ConfigError(f"chapter {name!r}: no template {template}")
    text = "\n".join("".join(cell["source"]) for cell in json.loads(template.read_text())["cells"]
                     if cell["cell_type"] == "markdown")
    if "## Exercises" not in text:
        return []
    section = re.split(r"^## ", text.split("## Exercises", 1)[1], maxsplit=1, flags=re.MULTILINE)[0]
    items: list[list[str]] = []
    inside = False
    for line in section.splitlines():
        if re.match(r"^\d+\. ", line):
            items.append([re.sub(r"^\d+\. ", "", line).strip()])
            inside = True
        elif re.match(r"^`{3,}", line) or re.match(r"^:{3,}", line):
            inside = False
        elif inside and line.strip():
            items[-1].append(line.strip())
    return [" ".join(item) for item in items]


#: Chapters that read other chapters' saved results (vidsal_study.results): they run again when those change.
RESULT_READERS = frozenset({"summary"})
#: Chapters that read the chapter times and the other templates (the teaching page): they run again when those change.
TIME_READERS = frozenset({"teaching"})
#: Where the repository keeps chapter times the runner recorded (``book/chapter_times_<profile>.json``).
RECORDS_DIR = ROOT / "book"


def record_path(profile: str | Path) -> Path:
    """``book/chapter_times_<profile>.json``: the runner's times kept in the repository, for a machine
    that has not run the profile yet (the teaching page reads the quick one, the runner orders chapters by them)."""
    return RECORDS_DIR / f"chapter_times_{Path(str(profile)).stem}.json"


def known_times(profile: str | Path) -> dict[str, dict[str, Any]]:
    """Each chapter's last run time on ``profile``: this machine's (:func:`times_path`), else the repository's record."""
    return {**read_times(record_path(profile)), **read_times(times_path(profile))}


def chapter_fingerprint(name: str, profile: str | Path) -> str:
    """Hash of what a chapter's output depends on: its template, the profile, the library's and the study's source."""
    digest = hashlib.sha256()
    digest.update((NOTEBOOKS / f"{name}.ipynb").read_bytes())
    digest.update(profile_path(profile).read_bytes())
    for source in sorted([*(ROOT / "vidsal_core").rglob("*.py"), *(ROOT / "vidsal_study").rglob("*.py")]):
        digest.update(source.relative_to(ROOT).as_posix().encode())
        digest.update(source.read_bytes())
    if name in TIME_READERS:
        for template in sorted(NOTEBOOKS.glob("*.ipynb")):
            digest.update(template.read_bytes())
        import json

        for saved in [*sorted(TIMES_DIR.glob("*.json")), *sorted(RECORDS_DIR.glob("chapter_times_*.json"))]:
            others = {chapter: entry for chapter, entry in read_times(saved).items() if chapter not in TIME_READERS}
            if others:  # its own time is not its input
                digest.update(saved.name.encode())
                digest.update(json.dumps(others, sort_keys=True).encode())
    if name in RESULT_READERS:
        from vidsal_study.results import RESULTS_DIR

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


#: Environment variable telling a chapter run how many chapters the runner runs side by side (recorded with its time).
SIDE_BY_SIDE_VARIABLE = "VIDSAL_BOOK_JOBS"

#: What each study chapter needs to have run before it (among the chapters asked for): the models
#: chapter trains the checkpoints (and builds the corpora) the others explain; step_size_offset reads the
#: border chapter's corpus and sweeps. A chapter not named here (the summary, the teaching page, a
#: reader's own) waits for every chapter listed before it.
CHAPTER_NEEDS: dict[str, tuple[str, ...]] = {
    "data": (),
    "models": (),
    "vanishing_saliency": ("models",),
    "time_contribution": ("models",),
    "tsr": ("models",),
    "border_lookahead": ("models",),
    "step_size_offset": ("models", "border_lookahead"),
    "evaluation": ("models",),
    "quickstart": (),
}


def chapter_needs(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """For each chapter of ``names``, the chapters of ``names`` that must finish before it starts."""
    names = list(names)
    needs: dict[str, tuple[str, ...]] = {}
    for position, name in enumerate(names):
        if name in CHAPTER_NEEDS:
            needs[name] = tuple(other for other in CHAPTER_NEEDS[name] if other in names and other != name)
        else:
            needs[name] = tuple(names[:position])
    return needs


def _run_in_process(name: str, profile: str, parameters: Mapping[str, Any], output_dir: Path,
                    jobs: int, recorded: Mapping[str, Any] | None = None) -> tuple[str, float, str | None]:
    """Run one chapter in a worker process of :func:`run_chapters`; return (name, seconds, error line or None)."""
    os.environ[SIDE_BY_SIDE_VARIABLE] = str(jobs)
    start = time.perf_counter()
    try:
        run_chapter(name, profile, parameters=parameters, output_dir=output_dir, recorded_parameters=recorded)
    except Exception as error:  # papermill's execution error, or a kernel that died: reported, not pickled
        text = str(error).strip()
        return name, time.perf_counter() - start, text.splitlines()[-1] if text else type(error).__name__
    return name, time.perf_counter() - start, None


def run_chapters(names: Iterable[str], profile: str, output_dir: Path = CHAPTERS, force: bool = False,
                 dask: str | None = None, jobs: int = 1) -> list[str]:
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
        (:func:`vidsal_study.sweeps.dask_executor`). Results do not
        depend on it, so it does not make an up-to-date chapter run again.
        With ``local:N`` the runner starts one cluster for every chapter
        (:func:`~vidsal_study.sweeps.start_local_cluster`) when the
        first chapter needs it and passes its address, so its workers start
        once, not once per chapter (about 5–8 s each on 2 cores), and keep
        their loaded models and decoded videos; the provenance still says
        ``local:N``.
    jobs : int
        Chapters run side by side, each in its own process and kernel, in the
        order :func:`chapter_needs` allows (1: one after another, in the order
        given). A chapter's numbers do not depend on it: its sweeps and its
        training compute at fixed thread counts. Of the chapters that may start,
        the one that took longest on its last run (:func:`known_times`) starts
        first. A chapter's fingerprint is taken when it starts, after what it
        needs has run.
    """
    if dask is not None:
        from vidsal_study.sweeps import parse_dask

        parse_dask(dask)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ConfigError(f"jobs={jobs!r}: the number of chapters run side by side must be an integer >= 1")
    cluster: list[Any] = []  # the runner's own local cluster, started for the first chapter that needs it
    try:
        return _run_chapters(list(names), profile, output_dir, force, dask, jobs, cluster)
    finally:
        for running in cluster:
            running.close()


def _chapter_dask(dask: str | None, cluster: list[Any]) -> str | None:
    """The ``dask`` parameter a chapter gets: ``dask`` itself, or for ``local:N`` the address of the runner's cluster."""

    if dask is None:
        return None
    kind, value = parse_dask(dask)
    if kind != "local":
        return dask
    if not cluster:
        cluster.append(start_local_cluster(value))
        print(f"[book] one Dask cluster for every chapter: {dask} at {cluster[0].scheduler_address}", flush=True)
    return cluster[0].scheduler_address


def _run_chapters(names: list[str], profile: str, output_dir: Path, force: bool, dask: str | None, jobs: int,
                  cluster: list[Any]) -> list[str]:
    """:func:`run_chapters` once its arguments are checked; ``cluster`` collects the cluster it starts."""
    names = list(dict.fromkeys(names))
    needs = chapter_needs(names)
    last = known_times(profile)
    ran: list[str] = []
    failed: list[str] = []
    finished: set[str] = set()
    fingerprints: dict[str, str] = {}

    def start(name: str) -> dict[str, Any] | None:
        """The chapter's papermill parameters, or None when it is up to date (then it counts as finished)."""
        stamp = output_dir / f"{name}.fingerprint"
        fingerprints[name] = chapter_fingerprint(name, profile)
        if not force and stamp.is_file() and stamp.read_text() == fingerprints[name] and (output_dir / f"{name}.ipynb").is_file():
            print(f"[book] {name}: up to date", flush=True)
            finished.add(name)
            return None
        print(f"[book] {name} ({profile}) ...", flush=True)
        stamp.unlink(missing_ok=True)
        return {"dask": _chapter_dask(dask, cluster)} if dask is not None and "dask" in declared_parameters(name) else {}

    def recorded(parameters: Mapping[str, Any]) -> dict[str, Any]:
        """What the provenance says was given: ``dask`` as the caller gave it, not the runner cluster's address."""
        return {**parameters, "dask": dask} if "dask" in parameters else dict(parameters)

    def finish(name: str, seconds: float, error: str | None) -> None:
        finished.add(name)
        if error is not None:
            print(f"[book] {name} FAILED after {seconds:.0f} s: {error}", flush=True)
            failed.append(name)
            return
        (output_dir / f"{name}.fingerprint").write_text(fingerprints[name])
        print(f"[book] {name} done in {seconds:.0f} s", flush=True)
        ran.append(name)

    if jobs == 1:
        for name in names:
            parameters = start(name)
            if parameters is not None:
                finish(*_run_in_process(name, profile, parameters, output_dir, 1, recorded(parameters)))
    else:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        output_dir.mkdir(parents=True, exist_ok=True)
        waiting = list(names)
        running: dict[Any, str] = {}
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            while waiting or running:
                ready = [name for name in waiting if all(need in finished for need in needs[name])]
                ready.sort(key=lambda name: -float(last.get(name, {}).get("seconds", 0.0)))
                for name in ready:
                    if len(running) >= jobs:
                        break
                    waiting.remove(name)
                    parameters = start(name)
                    if parameters is not None:
                        running[pool.submit(_run_in_process, name, profile, parameters, output_dir, jobs,
                                            recorded(parameters))] = name
                if not running:
                    if waiting and not any(all(need in finished for need in needs[name]) for name in waiting):
                        raise ConfigError(f"chapters {waiting} wait for each other: check CHAPTER_NEEDS")
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    finish(*future.result())
    if failed:
        raise ChapterFailed(f"chapter(s) {failed} failed; see book/chapters/<name>.ipynb or the Status page")
    return [name for name in names if name in ran]


def main(argv: list[str] | None = None) -> int:
    study_process()
    parser = argparse.ArgumentParser(prog="python -m vidsal_study.book", description="Run the book's chapters.")
    parser.add_argument("chapters", nargs="*", help="chapter names (default: every chapter in _toc.yml)")
    parser.add_argument("--profile", default="default", help="quick, default, full or a .yaml path")
    parser.add_argument("--force", action="store_true", help="run even chapters that are up to date")
    parser.add_argument("--dask", metavar="SPEC", default=None,
                        help="run the chapters' sweeps on Dask: local:N (N worker processes here) or "
                             "tcp://host:port (a running scheduler)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="chapters run side by side, each in its own kernel, as their needs allow (default 1)")
    arguments = parser.parse_args(argv)
    try:
        run_chapters(arguments.chapters or chapters_in_toc(), arguments.profile, force=arguments.force,
                     dask=arguments.dask, jobs=arguments.jobs)
    except VidsalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
