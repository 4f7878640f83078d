"""How each chapter page was made: recorded by the book's runner, shown at the top of the page.

:func:`vidsal_study.book.run_chapter` executes a chapter with papermill, then
calls :func:`stamp_notebook`, which keeps a :func:`collect` record in the
executed notebook's metadata (``metadata["vidsal"]["provenance"]``) and writes
the same record as a box under the chapter's title (:func:`box_markdown`).
The book's Status page (``book/status.md``) is :func:`status_markdown` of every
chapter's record, read back from the executed notebooks, so it is right also
for chapters the runner reused unchanged. Nothing here is typed by hand.

A record holds the profile and the sha256 of its file, the date, the git commit
and whether the working tree had uncommitted changes, the versions of vidsal,
torch, captum, zennit and OpenCV, the device, the chapter's wall time, the
parameters given besides the profile (``-p NAME VALUE``), and whether the
chapter passed.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterable, Mapping

from vidsal_core.errors import ConfigError
from vidsal_study.profiles import profile_path

ROOT = Path(__file__).resolve().parent.parent

#: Where a record lives in a notebook's metadata: ``metadata[METADATA_KEY]["provenance"]``.
METADATA_KEY = "vidsal"
#: CSS class of the box on each chapter page (the browser test finds it by this).
BOX_CLASS = "vidsal-provenance"
#: Libraries whose versions a record names: (label, distribution names tried in turn).
LIBRARIES = (("torch", ("torch",)), ("captum", ("captum",)), ("zennit", ("zennit",)),
             ("opencv", ("opencv-python-headless", "opencv-python", "opencv-contrib-python",
                         "opencv-contrib-python-headless")))


def release_version(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The version of ``pyproject.toml`` (the release this tree is), else the installed package's."""
    if pyproject.is_file():
        import tomllib

        return str(tomllib.loads(pyproject.read_text())["project"]["version"])
    return importlib.metadata.version("vidsal_core")


def _distribution_version(names: Iterable[str]) -> str:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def library_versions() -> dict[str, str]:
    """``{"vidsal": ..., "torch": ..., "captum": ..., "zennit": ..., "opencv": ...}``."""
    versions = {"vidsal": release_version()}
    versions.update({label: _distribution_version(names) for label, names in LIBRARIES})
    return versions


def git_state(root: Path = ROOT) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the repository at ``root``.

    Dirty means tracked files differ from the commit (untracked files, such as
    generated data, do not count). Outside a git checkout both are None.
    """
    def git(*arguments: str) -> str:
        return subprocess.run(["git", "-C", str(root), *arguments], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def device_description() -> str:
    """The GPU a chapter's torch would use, else the CPU threads torch runs on."""
    import torch

    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name(0)}"
    return f"CPU, {torch.get_num_threads()} torch threads ({os.cpu_count()} cores)"


def profile_digest(profile: str | Path) -> str:
    """sha256 of the profile's YAML file."""

    return hashlib.sha256(profile_path(profile).read_bytes()).hexdigest()


def collect(profile: str | Path, parameters: Mapping[str, Any] | None, seconds: float, passed: bool,
            started: datetime.datetime, error: str | None = None) -> dict[str, Any]:
    """A chapter's provenance record (JSON-able).

    Parameters
    ----------
    profile : str or Path
        The profile the chapter ran with.
    parameters : mapping, optional
        The other parameters given to papermill (``-p NAME VALUE``), which
        differ from what the profile and the chapter's defaults would use.
    seconds : float
        The chapter's wall time.
    passed : bool
        Whether every cell ran without an error.
    started : datetime
        When it started (timezone-aware).
    error : str, optional
        The error that stopped it, one line.
    """
    return {
        "profile": str(profile),
        "profile_sha256": profile_digest(profile),
        "date": started.astimezone(datetime.timezone.utc).isoformat(timespec="seconds"),
        **git_state(),
        "versions": library_versions(),
        "device": device_description(),
        "seconds": round(float(seconds), 1),
        "parameters": {str(name): value for name, value in (parameters or {}).items() if name != "profile"},
        "status": "passed" if passed else "failed",
        "error": error,
    }


def _code(value: Any) -> str:
    text = str(value).replace("`", "'")
    return f"`{text}`"


def parameters_text(parameters: Mapping[str, Any]) -> str:
    """``-p name value`` for each parameter, or a sentence saying there were none."""
    if not parameters:
        return "none besides the profile"
    return ", ".join(_code(f"-p {name} {value}") for name, value in parameters.items())


def commit_text(record: Mapping[str, Any]) -> str:
    """The commit's short hash, and whether tracked files had changed."""
    if not record.get("commit"):
        return "not a git checkout"
    return _code(record["commit"][:10]) + (" with uncommitted changes" if record.get("dirty") else ", clean tree")


def date_text(record: Mapping[str, Any]) -> str:
    stamp = datetime.datetime.fromisoformat(record["date"])
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def versions_text(record: Mapping[str, Any]) -> str:
    """``vidsal 0.1.0, torch ..., ...``: vidsal first, then the libraries in :data:`LIBRARIES`' order."""
    order = ["vidsal", *(label for label, _ in LIBRARIES)]
    names = sorted(record["versions"], key=lambda name: (order.index(name) if name in order else len(order), name))
    return ", ".join(f"{name} {record['versions'][name]}" for name in names)


def box_markdown(record: Mapping[str, Any]) -> str:
    """The box at the top of a chapter page (a MyST admonition of class :data:`BOX_CLASS`)."""
    status = "passed" if record["status"] == "passed" else f"**failed**: {record.get('error') or 'see the page'}"
    lines = [
        "```{admonition} How this page was made",
        f":class: note {BOX_CLASS}",
        "",
        f"- **Profile** {_code(record['profile'])}, sha256 {_code(record['profile_sha256'][:12])}",
        f"- **Run** {date_text(record)} in {record['seconds']:.0f} s on {record['device']}; {status}",
        f"- **Code** commit {commit_text(record)}",
        f"- **Versions** {versions_text(record)}",
        f"- **Parameters** {parameters_text(record['parameters'])}",
        "```",
    ]
    return "\n".join(lines)


def stamp_notebook(path: str | Path, record: Mapping[str, Any]) -> None:
    """Keep ``record`` in the executed notebook's metadata and put its box under the title."""
    import nbformat

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.setdefault(METADATA_KEY, {})["provenance"] = dict(record)
    box = box_markdown(record)
    first = notebook.cells[0] if notebook.cells else None
    if first is not None and first.cell_type == "markdown" and first.source.startswith("# "):
        title, _, rest = first.source.partition("\n")
        first.source = f"{title}\n\n{box}\n" + (f"\n{rest.lstrip(chr(10))}" if rest.strip() else "")
    else:
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(box))
    nbformat.write(notebook, path)


def read_record(path: str | Path) -> dict[str, Any] | None:
    """The provenance record of an executed notebook, or None (not run, or run without the book's runner)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        metadata = json.loads(path.read_text()).get("metadata", {})
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not a notebook ({error})") from error
    return metadata.get(METADATA_KEY, {}).get("provenance")


def status_markdown(chapters: Iterable[str], chapters_dir: str | Path, link_prefix: str = "chapters/") -> str:
    """The Status page's table: one row per chapter, its record's fields and pass/fail.

    Parameters
    ----------
    chapters : iterable of str
        Chapter names, in the book's order.
    chapters_dir : path
        Where the executed notebooks are.
    link_prefix : str, default "chapters/"
        Path from the Status page to the executed chapters, for ``{doc}`` links.
    """
    header = ("| chapter | status | run, wall time, device | profile, sha256 | commit, versions | parameters |\n"
              "| --- | --- | --- | --- | --- | --- |")
    rows = []
    for name in chapters:
        record = read_record(Path(chapters_dir) / f"{name}.ipynb")
        link = "{doc}" + f"`{link_prefix}{name}`"
        if record is None:
            rows.append(f"| {link} | not run | | | | |")
            continue
        status = "passed" if record["status"] == "passed" else "**failed**"
        cells = [
            link, status,
            f"{date_text(record)}<br>{record['seconds']:.0f} s<br>{record['device']}",
            f"{_code(record['profile'])}<br>{_code(record['profile_sha256'][:12])}",
            f"{commit_text(record)}<br>{versions_text(record)}",
            parameters_text(record["parameters"]),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    # small type (book/_static/vidsal.css); not sphinx-book-theme's full-width class, whose script
    # expects a right-hand sidebar that this page does not have
    return "\n".join(["```{container} vidsal-status", header, *rows, "```"])


#: The line of ``book/status.md`` that the book's Sphinx extension replaces by :func:`status_markdown`.
STATUS_MARKER = "<!-- chapter-status-table -->"


def fill_status(source: str, chapters: Iterable[str], chapters_dir: str | Path) -> str:
    """``source`` with :data:`STATUS_MARKER` replaced by the status table."""
    if STATUS_MARKER not in source:
        raise ConfigError(f"the Status page has no {STATUS_MARKER!r} line to replace")
    return source.replace(STATUS_MARKER, status_markdown(chapters, chapters_dir))



#: The line of ``book/intro.md`` that the book's Sphinx extension replaces by :func:`citation_markdown`.
CITATION_MARKER = "<!-- how-to-cite -->"


def citation_markdown(citation: str | Path = ROOT / "CITATION.cff") -> str:
    """How to cite the study, from ``CITATION.cff``: one sentence and a BibTeX entry (the release's version in both)."""
    import yaml

    path = Path(citation)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot be read as YAML ({error})") from error
    for field in ("title", "authors", "version", "date-released", "repository-code"):
        if not data.get(field):
            raise ConfigError(f"{path}: needs a {field!r} field")
    authors = " and ".join(author.get("name") or f"{author['family-names']}, {author['given-names']}"
                           for author in data["authors"])
    year = str(data["date-released"])[:4]
    text = (f"{authors} ({year}). *{data['title']}* (version {data['version']}) [software]. "
            f"<{data['repository-code']}>")
    bibtex = "\n".join([
        "```bibtex",
        "@software{vidsal,",
        f"  title   = {{{data['title']}}},",
        f"  author  = {{{{{authors}}}}},",
        f"  version = {{{data['version']}}},",
        f"  year    = {{{year}}},",
        f"  url     = {{{data['repository-code']}}}",
        "}",
        "```",
    ])
    return f"{text}\n\n{bibtex}"


def fill_citation(source: str, citation: str | Path = ROOT / "CITATION.cff") -> str:
    """``source`` with :data:`CITATION_MARKER` replaced by :func:`citation_markdown`."""
    if CITATION_MARKER not in source:
        raise ConfigError(f"the page has no {CITATION_MARKER!r} line to replace")
    return source.replace(CITATION_MARKER, citation_markdown(citation))
