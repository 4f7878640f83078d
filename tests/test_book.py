"""The book, end to end: every chapter at the quick profile, built, read in Chromium.

The fixture copies the book's sources into a temporary root, runs every
chapter of ``_toc.yml`` there with papermill at the quick profile, builds with
``jupyter-book build -n -W --keep-going`` (a warning fails), and opens every
page in headless Chromium through Selenium. Screenshots go to
``_build/test-screenshots/``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from _browser import chromium, serve
from vidsal_study.book import NOTEBOOKS, PARAMETERS_HEADER, ROOT, chapters_in_toc, parameter_names, run_chapter

SCREENSHOTS = ROOT / "_build" / "test-screenshots"
VENDOR = ROOT / "book" / "_static" / "vendor"

pytestmark = pytest.mark.slow


def declared_parameters(chapter: str) -> list[str]:
    """Names the chapter template's parameters cell declares."""
    import nbformat

    cells = nbformat.read(NOTEBOOKS / f"{chapter}.ipynb", as_version=4).cells
    source = next(cell.source for cell in cells if cell.source.lstrip().startswith(PARAMETERS_HEADER))
    return parameter_names(source)


def users_clip(path: Path) -> Path:
    """A reader's own clip: 40 frames, 120x160, a dark figure-sized block walking across a textured scene."""
    import numpy as np
    import torch

    from vidsal_core.data.video import write_video

    generator = np.random.default_rng(7)
    background = 0.55 + 0.1 * generator.standard_normal((120, 160)).clip(-2, 2)
    frames = np.repeat(background[None, None], 40, axis=0).astype(np.float32)
    for t in range(40):
        left = 3 * t
        frames[t, 0, 40:100, left:left + 14] = 0.15
        frames[t, 0, 30:42, left + 3:left + 11] = 0.25
    return write_video(path, torch.from_numpy(frames.clip(0, 1)))


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    if not (VENDOR / "mathjax" / "tex-chtml.js").is_file():
        pytest.fail("book/_static/vendor is missing: run `make vendor` (make test does it)")
    root = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "book", root / "book", ignore=shutil.ignore_patterns("chapters", "__pycache__"))
    clip = users_clip(root / "users clip.avi")
    for chapter in chapters_in_toc(root / "_toc.yml"):
        # a chapter that takes a reader's own video runs on one here, as `-p video clip.avi` would
        parameters = {"video": str(clip)} if "video" in declared_parameters(chapter) else {}
        run_chapter(chapter, "quick", parameters=parameters, output_dir=root / "book" / "chapters")
    build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "-n", "-W", "--keep-going"],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    return root / "_build" / "html"


@pytest.fixture(scope="module")
def server(book):
    with serve(book) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium(console_log=True) as driver:
        yield driver


def chapter_pages(book: Path) -> list[Path]:
    return [book / "book" / "chapters" / f"{name}.html" for name in chapters_in_toc(ROOT / "_toc.yml")]


def pages(book: Path) -> list[Path]:
    """Every page of the table of contents."""
    files = re.findall(r"(?:root|file):\s*(\S+)", (ROOT / "_toc.yml").read_text())
    return [book / f"{file}.html" for file in files]


def _wait_for_mathjax(driver) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return !document.querySelector('.math') || document.querySelectorAll('mjx-container').length > 0"))


def test_every_page_renders_without_console_errors(book, server, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for page in pages(book):
        assert page.is_file(), f"{page} was not built"
        browser.get(f"{server}/{page.relative_to(book).as_posix()}")
        _wait_for_mathjax(browser)
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, f"{page.name}: console errors {errors}"
        has_math, mathjax_sources = browser.execute_script(
            "return [!!document.querySelector('.math'), Array.from(document.scripts).map(s => s.src)"
            ".filter(src => src.toLowerCase().includes('mathjax'))]")
        if has_math:
            assert mathjax_sources and all("_static/vendor/mathjax/" in src for src in mathjax_sources)
        assert "cdn.jsdelivr" not in browser.page_source and "cdnjs" not in browser.page_source
        browser.save_screenshot(str(SCREENSHOTS / f"{page.stem}.png"))


def test_mathjax_renders_offline(book, server, browser):
    browser.get(f"{server}/book/intro.html")
    _wait_for_mathjax(browser)
    rendered = browser.execute_script("return document.querySelectorAll('mjx-container').length")
    assert rendered >= 3  # the three inline formulas of the introduction


def test_chapters_show_their_figures(book, server, browser):
    for page in chapter_pages(book):
        browser.get(f"{server}/{page.relative_to(book).as_posix()}")
        images = browser.execute_script(
            "return Array.from(document.querySelectorAll('.cell_output img')).filter("
            "i => i.complete && i.naturalWidth > 0).length")
        assert images >= 1, f"{page.name}: no rendered figure"


def test_frame_explorer_shows_another_frame_after_input(book, server, browser):
    found = False
    for page in chapter_pages(book):
        browser.get(f"{server}/{page.relative_to(book).as_posix()}")
        explorers = browser.find_elements("css selector", ".vidsal-explorer")
        if not explorers:
            continue
        found = True
        explorer = explorers[0]
        image = explorer.find_element("css selector", ".vidsal-image")
        before = image.get_attribute("src")
        browser.execute_script(
            "var s = arguments[0].querySelector('.vidsal-frame'); s.value = s.max;"
            "s.dispatchEvent(new Event('input'));", explorer)
        after = image.get_attribute("src")
        assert after != before
        last = int(explorer.get_attribute("data-frames")) - 1
        assert explorer.get_attribute("data-shown") == f"frames:{last}"
        assert explorer.find_element("css selector", ".vidsal-frame-label").text != "t=0"
        browser.save_screenshot(str(SCREENSHOTS / f"{page.stem}-explorer.png"))
    if chapters_in_toc(ROOT / "_toc.yml"):
        assert found, "no chapter holds a frame explorer"


def test_chapters_run_on_a_users_clip(book):
    """Every chapter that declares ``video`` ran on the clip, and its page names it."""
    takers = [name for name in chapters_in_toc(ROOT / "_toc.yml") if "video" in declared_parameters(name)]
    assert takers, "no chapter takes a reader's video"
    for name in takers:
        page = (book / "book" / "chapters" / f"{name}.html").read_text()
        assert "users clip.avi" in page, f"{name}: the page does not show the reader's clip"


def test_launch_buttons_open_the_chapter_templates(book):
    for name in chapters_in_toc(ROOT / "_toc.yml"):
        page = (book / "book" / "chapters" / f"{name}.html").read_text()
        assert f"mybinder.org/v2/gh/vidsal/vidsal/main?urlpath=lab/tree/notebooks/{name}.ipynb" in page, name
        assert f"colab.research.google.com/github/vidsal/vidsal/blob/main/notebooks/{name}.ipynb" in page, name
        launch_links = re.findall(r'href="([^"]*(?:mybinder|colab)[^"]*)"', page)
        assert launch_links and not [link for link in launch_links if "book/chapters" in link], launch_links


def test_every_chapter_page_opens_with_its_provenance(book, server, browser):
    """The box under each chapter's title: profile and hash, date, commit, versions, device, wall time, parameters."""
    from vidsal_study.provenance import BOX_CLASS, read_record, release_version

    for name, page in zip(chapters_in_toc(ROOT / "_toc.yml"), chapter_pages(book)):
        # what the runner recorded in the executed notebook (the shared tree may have moved on since)
        record = read_record(book.parent.parent / "book" / "chapters" / f"{name}.ipynb")
        assert record["profile"] == "quick" and record["status"] == "passed", record
        assert record["versions"]["vidsal"] == release_version() and len(record["commit"]) == 40, record
        browser.get(f"{server}/{page.relative_to(book).as_posix()}")
        boxes = browser.find_elements("css selector", f".{BOX_CLASS}")
        assert len(boxes) == 1, f"{name}: {len(boxes)} provenance boxes"
        text = boxes[0].text
        for expected in ("Profile quick", record["profile_sha256"][:12], record["commit"][:10], record["device"],
                         f" UTC in {record['seconds']:.0f} s", "passed",
                         *(f"{library} {version}" for library, version in record["versions"].items())):
            assert expected in text, f"{name}: {expected!r} not in the provenance box: {text!r}"
        assert ("CPU," in text) or ("GPU " in text), text
        if "video" in declared_parameters(name):
            assert "-p video" in text and "users clip.avi" in text, text
        else:
            assert "none besides the profile" in text, text
        # at the top: right under the page's title, before any cell of the chapter
        assert browser.execute_script(
            "var box = arguments[0], title = document.querySelector('article h1');"
            "var cell = document.querySelector('article .cell');"
            "return !!title && (title.compareDocumentPosition(box) & Node.DOCUMENT_POSITION_FOLLOWING) > 0"
            " && (!cell || (box.compareDocumentPosition(cell) & Node.DOCUMENT_POSITION_FOLLOWING) > 0);", boxes[0]), name


def test_the_status_page_lists_every_chapter_and_is_in_the_toc(book, server, browser):
    from vidsal_study.provenance import read_record, release_version

    browser.get(f"{server}/book/status.html")
    chapters = chapters_in_toc(ROOT / "_toc.yml")
    rows = browser.find_elements("css selector", "article table tbody tr")
    assert len(rows) == len(chapters)
    for name, row in zip(chapters, rows):
        record = read_record(book.parent.parent / "book" / "chapters" / f"{name}.ipynb")
        links = [link.get_attribute("href") for link in row.find_elements("css selector", "a")]
        assert any(link.endswith(f"/book/chapters/{name}.html") for link in links), (name, links)
        for expected in ("passed", "quick", record["profile_sha256"][:12], record["commit"][:10],
                         f"vidsal {release_version()}", f"{record['seconds']:.0f} s"):
            assert expected in row.text, (name, expected, row.text)
    sidebar = [link.get_attribute("href") for link in browser.find_elements("css selector", "nav.bd-links a")]
    assert any("/book/status.html" in link for link in sidebar), sidebar  # the current page's link ends in '#'


def test_the_introduction_says_how_to_cite_the_release_and_the_seeds(book):
    from vidsal_study.provenance import release_version

    page = " ".join(re.sub(r"<[^>]+>", "", (book / "book" / "intro.html").read_text()).split())  # its text
    assert f"(version {release_version()})" in page and "@software{vidsal," in page
    assert f"version = {{{release_version()}}}" in page
    assert "Interpretability of Video Classifiers" in page
    assert "Understanding Patch-Based Learning by Explaining Predictions" in page


def test_the_teaching_page_glues_every_chapters_recorded_quick_time(book):
    """The times on the teaching page are the runner's: the quick chapters above recorded them as they ran."""
    from vidsal_study.book import known_times

    page = (book / "book" / "chapters" / "teaching.html").read_text()
    times = known_times("quick")
    for name in chapters_in_toc(ROOT / "_toc.yml", part="The study"):
        assert f"{times[name]['seconds']:.0f} s" in page, f"{name}: its recorded time is not on the teaching page"
    shown = re.sub(r"<pre>.*?</pre>", "", page, flags=re.DOTALL)  # the page without its code
    assert "not measured yet" not in shown
    assert "A course in three sessions" in page
