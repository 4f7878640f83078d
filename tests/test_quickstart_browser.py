"""The Quickstart page, executed at the quick profile, built into a small book and opened in headless Chromium.

As ``tests/test_book.py`` does for the whole book, but for this page alone: the runner executes
``notebooks/quickstart.ipynb`` into a temporary root whose table of contents holds only a title page and the
Quickstart, and Jupyter Book builds it. Headless Chromium then renders the page on its own
(``--virtual-time-budget=5000 --dump-dom``: the animation is in the rendered page as an embedded GIF of more than
one frame) and through Selenium: the animation loads (``naturalWidth > 0``) and plays (screenshots of it a
moment apart show different frames).
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from _browser import CHROMIUM, chromium, serve
from vidsal_core.models.i3d import DEFAULT_WEIGHTS_PATH
from vidsal_study.book import NOTEBOOKS, ROOT, run_chapter

FOOTAGE = ROOT / "data" / "footage" / "vtest.avi"
#: Visible code lines the Quickstart may hold, all its shown cells together.
QUICKSTART_LINES = 10

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_the_quickstart_shows_at_most_ten_lines_of_code():
    cells = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4).cells
    visible = [cell for cell in cells if cell.cell_type == "code"
               and not any(tag.startswith(("hide-", "remove-")) for tag in cell.metadata.get("tags", []))]
    lines = sum(len([line for line in cell.source.splitlines() if line.strip()]) for cell in visible)
    assert 0 < lines <= QUICKSTART_LINES, f"{lines} visible lines of code"


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    if not (DEFAULT_WEIGHTS_PATH.is_file() and FOOTAGE.is_file()):
        pytest.skip(f"the Quickstart needs the I3D weights ({DEFAULT_WEIGHTS_PATH}) and {FOOTAGE}")
    root = tmp_path_factory.mktemp("quickstart-book")
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    shutil.copytree(ROOT / "book", root / "book", ignore=shutil.ignore_patterns("chapters", "__pycache__"))
    (root / "index.md").write_text("# Quickstart only\n\nThe Quickstart page, built alone for a test.\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: index\nparts:\n  - caption: Start here\n"
                                   "    chapters:\n      - file: book/chapters/quickstart\n")
    run_chapter("quickstart", "quick", output_dir=root / "book" / "chapters")
    build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "--keep-going"],
                           capture_output=True, text=True)
    html = root / "_build" / "html" / "book" / "chapters" / "quickstart.html"
    assert build.returncode == 0 and html.is_file(), build.stdout[-4000:] + build.stderr[-4000:]
    return html


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def server(page):
    book = page.parents[2]
    with serve(book) as url:
        yield f"{url}/{page.relative_to(book).as_posix()}"


def test_chromium_renders_the_page_with_the_animation_embedded(page, server):
    from html.parser import HTMLParser

    from PIL import Image

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    rendered = subprocess.run([str(CHROMIUM), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update",
                               "--virtual-time-budget=5000", "--dump-dom", server],
                              capture_output=True, text=True, timeout=120)
    sources = []

    class Images(HTMLParser):
        def handle_starttag(self, tag, attributes):
            attributes = dict(attributes)
            if tag == "img" and "vidsal-saliency-video" in (attributes.get("class") or ""):
                sources.append(attributes["src"])

    Images().feed(rendered.stdout)
    assert len(sources) == 1, f"{len(sources)} saliency animations in the rendered page; {rendered.stderr[-2000:]}"
    assert sources[0].startswith("data:image/gif;base64,")  # embedded: the page works offline
    with Image.open(io.BytesIO(base64.b64decode(sources[0].split(",", 1)[1]))) as animation:
        assert animation.is_animated and animation.n_frames > 1


def test_the_saliency_animation_loads_and_plays(page, server, browser):
    from PIL import Image

    html = page.read_text()
    assert "data:image/gif;base64," in html and "data/quickstart" not in html.split("vidsal-saliency-video")[1][:300]
    browser.get(server)
    state = browser.execute_script(
        "var image = document.querySelector('img.vidsal-saliency-video');"
        "return image ? [image.complete, image.naturalWidth, image.naturalHeight, image.src.slice(0, 22)] : null;")
    assert state is not None, "no saliency animation on the page"
    complete, width, height, scheme = state
    assert complete and width > 0 and height > 0 and scheme == "data:image/gif;base64,"
    source = browser.execute_script("return document.querySelector('img.vidsal-saliency-video').src")
    with Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))) as animation:
        assert animation.is_animated and animation.n_frames > 1
        assert animation.size == (width, height)
        frame_seconds = animation.info["duration"] / 1000
    # it plays: screenshots of the element a moment apart show different frames (a canvas would not tell: it
    # draws an animated image's first frame)
    element = browser.find_element("css selector", "img.vidsal-saliency-video")
    browser.execute_script("arguments[0].scrollIntoView();", element)
    shown = {element.screenshot_as_png}
    for _ in range(10):
        time.sleep(frame_seconds * 1.5)
        shown.add(element.screenshot_as_png)
        if len(shown) > 1:
            break
    assert len(shown) > 1, "the animation shows the same frame throughout"
    # and the page keeps the rest of the Quickstart: the figure and the glued prose
    assert browser.execute_script("return Array.from(document.querySelectorAll('.cell_output img'))"
                                  ".filter(i => i.complete && i.naturalWidth > 0).length") >= 2
    text = browser.find_element("css selector", "article").text
    assert "vtest.avi" in text and "net.features" in text
