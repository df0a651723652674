"""The whole book builds strictly, and renders in a real browser.

The build runs every chapter again (in fast mode, as the rest of the suite) with
``jupyter-book build -W -n --keep-going``: any warning (a broken reference, a missing citation,
an unknown glossary term, a cell error) fails it. The browser test opens the built pages in
headless Chromium and checks what a reader sees; it also saves a full-page screenshot of every page
at 1,400 and 420 px in ``_build/screenshots/<page>-<width>.png`` for a reviewer to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import book_builds
from conftest import ROOT

pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "_build" / "screenshots"


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    if "FAIRNOTES_CHAPTERS" in os.environ:
        pytest.skip("a subset of chapters was asked for; the book build needs them all")
    out = tmp_path_factory.mktemp("book")
    # the book's own configuration, with the execution cache that the session's other builds
    # (publishing, PDF) share: the chapters are executed once, by the first build
    config = book_builds.with_shared_cache(book_builds.book_config(out / "_config.yml"),
                                           book_builds.shared_cache(tmp_path_factory), out / "_config.yml")
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(ROOT), "-W", "-n", "--keep-going",
           "--config", str(config), "--path-output", str(out)]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    log = run.stdout + run.stderr
    # Sphinx's own warnings name a file: "<path>:<line>: WARNING: ..." (kernels' and TensorFlow's
    # start-up lines on stderr do not fail the build and are left out of the message)
    warnings = [l for l in log.splitlines() if ": WARNING:" in l or ": ERROR:" in l or "Error" in l]
    assert run.returncode == 0, "strict build failed:\n" + "\n".join(warnings[-40:] or log.splitlines()[-40:])
    html = out / "_build" / "html"
    assert (html / "index.html").exists()
    return html


def test_strict_build_has_every_chapter(built_book):
    from conftest import toc_files

    for entry in toc_files():
        page = built_book / (entry.removesuffix(".md") + ".html")
        assert page.exists(), f"no HTML page for {entry}"
    # every notebook chapter can be downloaded as an executed .ipynb (_ext/notebook_download.py)
    from conftest import notebook_chapters
    import nbformat

    for path in notebook_chapters():
        rel = path.relative_to(ROOT).with_suffix("")
        nb_file = built_book / "_sources" / rel.with_suffix(".ipynb")
        assert nb_file.exists(), f"no downloadable notebook for {rel}"
        nb = nbformat.read(nb_file, 4)
        assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{nb_file.name} has no outputs"
        html = (built_book / rel.with_suffix(".html")).read_text()
        assert f"_sources/{rel}.ipynb" in html, f"{rel}.html has no .ipynb download link"


def test_solutions_are_collapsed_and_executed(built_book):
    page = (built_book / "book" / "data.html").read_text()
    assert page.count('class="solution') >= 3
    assert "dropdown" in page


def _chromium():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium and chromium-driver (see .ci/run)")
        pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--window-size=1400,1000"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=opts)


def test_pages_render_in_a_browser(built_book):
    from selenium.webdriver.common.by import By

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser = _chromium()
    try:
        browser.get((built_book / "index.html").as_uri())
        browser.save_screenshot(str(SCREENSHOTS / "home.png"))
        toc = browser.find_elements(By.CSS_SELECTOR, "nav.bd-docs-nav a.reference")
        assert len(toc) >= 3, "the table of contents did not render"
        search = browser.find_elements(By.CSS_SELECTOR, "form.bd-search input, .search-button-field, button.search-button__button")
        assert search, "no search box"

        browser.get((built_book / "book" / "data.html").as_uri())
        browser.save_screenshot(str(SCREENSHOTS / "data.png"))
        images = browser.find_elements(By.CSS_SELECTOR, ".cell_output img")
        assert images, "the data chapter shows no figure"
        loaded = browser.execute_script(
            "return Array.from(document.querySelectorAll('.cell_output img'))"
            ".filter(i => i.complete && i.naturalWidth > 100).length")
        assert loaded == len(images), f"only {loaded} of {len(images)} figures loaded"
        assert browser.find_elements(By.CSS_SELECTOR, "table"), "no table rendered"
        # MathJax is served from the book itself (_ext/local_mathjax.py), so maths renders offline
        import time

        for _ in range(20):
            if browser.find_elements(By.CSS_SELECTOR, "mjx-container"):
                break
            time.sleep(0.25)
        assert browser.find_elements(By.CSS_SELECTOR, "mjx-container"), "the maths did not render (MathJax not loaded)"
    finally:
        browser.quit()


SCREENSHOT_WIDTHS = (1400, 420)  # a laptop, and a phone held upright
SCREENSHOT_MAX_HEIGHT = 30000    # Chromium cannot capture much more in one image


def _full_page_screenshot(browser, path: Path, width: int) -> None:
    """The whole page at one width, not only the first screen, via Chrome's DevTools protocol."""
    import base64

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": width < 600})
    height = browser.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    height = int(min(max(height, 1000), SCREENSHOT_MAX_HEIGHT))
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path.write_bytes(base64.b64decode(shot["data"]))


def test_screenshots_of_every_page(built_book):
    """Every page of the table of contents, at 1,400 and 420 px, saved for a reviewer to look at.

    The files are ``_build/screenshots/<page>-<width>.png`` in the repository (``_build`` is not
    committed). The test checks only that each page rendered its title and that every screenshot
    was written.
    """
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from conftest import toc_files

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser = _chromium()
    try:
        for entry in toc_files():
            rel = entry.removesuffix(".md")
            page = built_book / (rel + ".html")
            for width in SCREENSHOT_WIDTHS:
                browser.get(page.as_uri())
                try:   # a long page (the API reference) can still be laying out when get() returns
                    WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "main h1"))
                except TimeoutException:
                    pass
                assert browser.find_elements(By.CSS_SELECTOR, "main h1"), f"{rel}: no title rendered"
                _full_page_screenshot(browser, SCREENSHOTS / f"{Path(rel).name}-{width}.png", width)
            browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    finally:
        browser.quit()
    pages = len(toc_files())
    for width in SCREENSHOT_WIDTHS:
        written = list(SCREENSHOTS.glob(f"*-{width}.png"))
        assert len(written) >= pages, f"{len(written)} screenshots at {width} px for {pages} pages"


def test_citations_are_author_year(built_book):
    """_config.yml asks for author-year citations; footnote numbers ([1], superscripts) would be wrong."""
    import re

    page = (built_book / "book" / "data.html").read_text()
    body = page.split('id="references"')[0]
    assert re.search(r"Kohavi,?\s*(?:</span>\s*)?(?:\[|\()?\s*1996", re.sub(r"<[^>]+>", "", body)), \
        "the data chapter's citation of the Adult dataset is not in author-year form"
