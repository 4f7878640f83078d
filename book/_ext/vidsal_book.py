"""Sphinx extension of the vidsal book: console-clean pages, launch buttons on the templates,
the Status page and the citation filled in from the executed chapters and ``CITATION.cff``.

With Sphinx 7.4, sphinx-thebe and sphinx-togglebutton add their inline
configuration scripts twice per page; the second ``const THEBE_JS_URL`` is a
``SyntaxError`` in the browser's console. This extension drops exact duplicate
script entries from each page's context before it is rendered.
"""

from __future__ import annotations

from pathlib import Path

#: Where papermill writes the executed chapters, and where their templates live.
EXECUTED_PREFIX = "book/chapters/"
TEMPLATE_PREFIX = "notebooks/"
#: The page listing every chapter's provenance, and the page that says how to cite the study.
STATUS_DOC = "book/status"
CITATION_DOC = "book/intro"


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    return (getattr(script, "filename", str(script)) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: keep the first of identical script entries."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _retarget(node):
    if isinstance(node, dict):
        return {key: _retarget(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_retarget(value) for value in node]
    if isinstance(node, str) and EXECUTED_PREFIX in node and ("binder" in node or "colab" in node):
        return node.replace(EXECUTED_PREFIX, TEMPLATE_PREFIX)
    return node


def launch_templates(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: Binder and Colab open ``notebooks/<chapter>.ipynb``.

    The book shows the executed copies under ``book/chapters/`` (git-ignored), so
    a launch button must point at the chapter's template, which is in the
    repository and re-runs with the reader's own parameters.
    """
    if "header_buttons" in context:
        context["header_buttons"] = _retarget(context["header_buttons"])


def fill_generated(app, docname, source) -> None:
    """``source-read`` handler: the Status table from the executed notebooks' metadata, the citation from CITATION.cff."""
    from vidsal_study.book import chapters_in_toc
    from vidsal_study.provenance import fill_citation, fill_status

    root = Path(app.srcdir)
    if docname == STATUS_DOC:
        source[0] = fill_status(source[0], chapters_in_toc(root / "_toc.yml"), root / EXECUTED_PREFIX)
    elif docname == CITATION_DOC:
        source[0] = fill_citation(source[0])


def reread_status(app, env, added, changed, removed) -> list[str]:
    """``env-get-outdated`` handler: the Status page is read again on every build (chapters may have run since)."""
    return [STATUS_DOC] if STATUS_DOC in env.found_docs else []


def setup(app):
    app.connect("source-read", fill_generated)
    app.connect("env-get-outdated", reread_status)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    # after sphinx-book-theme's add_launch_buttons (priority 501), before rendering
    app.connect("html-page-context", launch_templates, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
