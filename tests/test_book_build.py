"""The whole book builds strictly, and renders in a real browser.

The build runs every chapter again (in fast mode, as the rest of the suite) with
``jupyter-book build -W -n --keep-going``: any warning (a broken reference, a missing citation,
an unknown glossary term, a cell error) fails it. The browser tests open the built pages in
headless Chromium and check what a reader sees (``tests/rendered.py``: tables that fit the column,
padded, with readable numbers; figures with captions and alt text; nothing that scrolls sideways on
a phone; no reprs, warnings or tracebacks); they also save a full-page screenshot of every page at
1,400 and 420 px in ``_build/screenshots/<page>-<width>.png`` for a reviewer to look at. The glued
values of the executed chapters are numbers and short labels, and the status page shows the claims
ledger of the chapters' checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import book_builds
import rendered
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
    browser = rendered.chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium and chromium-driver (see .ci/run)")
        pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver)")
    return browser


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


def test_interactive_figures_work_offline(built_book):
    """The three interactive figures (fairnotes/interactive.py) work with the network switched off:
    plotly.js is served by the book (_ext/local_plotly.py), and moving each slider changes the plot."""
    static = built_book / "_static" / "plotly"
    assert (static / "plotly.min.js").exists() and (static / "fairnotes-interactive.js").exists()
    for rel in rendered.INTERACTIVE_PAGES:
        text = (built_book / (rel + ".html")).read_text()
        assert "cdn.plot.ly" not in text and "_static/plotly/plotly.min.js" in text, rel
    browser = _chromium()
    try:
        rendered.offline(browser)
        found, problems = {}, []
        for rel in rendered.INTERACTIVE_PAGES:
            found[rel], p = rendered.move_sliders(browser, built_book / (rel + ".html"))
            problems += p
    finally:
        browser.quit()
    assert not problems, "\n".join(problems)
    assert all(found.values()), f"pages without an interactive figure: {found}"


SCREENSHOT_WIDTHS = (rendered.DESKTOP, rendered.PHONE)  # a laptop, and a phone held upright


@pytest.fixture(scope="module")
def rendered_report(built_book):
    """Every page of the table of contents opened at 1,400 and 420 px: the checks of
    ``tests/rendered.py``, and a full-page screenshot of each in ``_build/screenshots``."""
    from conftest import toc_files

    pages = [e.removesuffix(".md") for e in toc_files()]
    browser = _chromium()
    try:
        report = rendered.inspect_pages(browser, built_book, pages, SCREENSHOTS)
    finally:
        browser.quit()
    return report


def test_screenshots_of_every_page(built_book, rendered_report):
    """Every page of the table of contents, at 1,400 and 420 px, saved for a reviewer to look at.

    The files are ``_build/screenshots/<page>-<width>.png`` in the repository (``_build`` is not
    committed). The 420 px ones are taken with the page loaded at that width (Chrome's mobile
    emulation), so they show the phone layout, not the desktop one cropped.
    """
    from conftest import toc_files

    pages = len(toc_files())
    for width in SCREENSHOT_WIDTHS:
        written = list(SCREENSHOTS.glob(f"*-{width}.png"))
        assert len(written) >= pages, f"{len(written)} screenshots at {width} px for {pages} pages"
    from PIL import Image

    for shot in SCREENSHOTS.glob(f"*-{rendered.PHONE}.png"):
        with Image.open(shot) as im:
            assert im.width == rendered.PHONE, f"{shot.name} is {im.width} px wide"


def _no_offence(report, check):
    offences = report[check]
    assert not offences, f"{check} ({len(offences)}):\n" + "\n".join(offences)


def test_no_output_table_is_wider_than_the_column(rendered_report):
    _no_offence(rendered_report, "wide tables")


def test_output_tables_are_padded(rendered_report):
    _no_offence(rendered_report, "unpadded tables")


def test_no_table_number_has_more_than_three_decimals(rendered_report):
    _no_offence(rendered_report, "more than three decimals")


def test_no_count_is_printed_as_a_float(rendered_report):
    _no_offence(rendered_report, "counts as floats")


def test_every_output_figure_has_a_caption_and_alt_text(rendered_report):
    _no_offence(rendered_report, "figures without caption or alt text")


def test_no_repr_warning_or_traceback_in_an_output(rendered_report):
    _no_offence(rendered_report, "reprs, warnings, tracebacks")


def test_no_image_is_wider_than_a_phone(rendered_report):
    _no_offence(rendered_report, "images wider than the phone")


def test_no_page_scrolls_sideways_on_a_phone(rendered_report):
    _no_offence(rendered_report, "pages that scroll sideways")


MAX_GLUE_WORDS, MAX_GLUE_CHARS = 6, 60


def test_glued_values_are_numbers_and_short_labels(built_book):
    """A value set into the prose ({glue:text}, {glue}, {glue:md}) is a number or a short label,
    never a sentence: prose is written by hand. Read from the strict build's executed chapters."""
    import glue_values

    executed = built_book.parent / "jupyter_execute"
    long = []
    for path in glue_values.notebook_chapters():
        rel = path.relative_to(ROOT).with_suffix(".ipynb")
        nb_file = executed / rel
        assert nb_file.exists(), f"no executed notebook {nb_file}"
        used = glue_values.inline_names(path.read_text())
        for name, text in glue_values.glued_texts(nb_file).items():
            if name in used and not glue_values.short_enough(text, MAX_GLUE_WORDS, MAX_GLUE_CHARS):
                long.append(f"{rel.with_suffix('.md')}: {name} = {text[:100]!r}")
    assert not long, (f"glued values longer than {MAX_GLUE_WORDS} words or {MAX_GLUE_CHARS} characters "
                      f"({len(long)}):\n" + "\n".join(long))


def test_every_glued_value_is_displayed(built_book):
    """Every name an executed chapter glued (in a loop too) is displayed by its page: the names
    tests/test_glue.py cannot read from the source alone (f-strings)."""
    import glue_values

    executed = built_book.parent / "jupyter_execute"
    missing = []
    for path in glue_values.notebook_chapters():
        nb_file = executed / path.relative_to(ROOT).with_suffix(".ipynb")
        names = glue_values.undisplayed(path.read_text(), glue_values.glued_names(nb_file))
        missing += [f"{path.name}: {name}" for name in names]
    assert not missing, f"glued values no page displays ({len(missing)}):\n" + "\n".join(missing)


def test_status_page_lists_the_claims_ledger(built_book, tmp_path_factory):
    """Every chapter that checks claims (claims.Ledger) has its ledger, and the Execution status page
    lists it with its number of claims (_ext/exec_status.py's claims-ledger directive)."""
    import html as html_lib
    import re

    from conftest import notebook_chapters
    from fairnotes.claims import read_ledger

    cache = book_builds.shared_cache(tmp_path_factory)     # the ledger lies beside the execution cache
    folder = cache.parent / (cache.name + "_claims")
    ledgers = read_ledger(folder)
    checking = [p.stem for p in notebook_chapters() if "claims.Ledger(" in p.read_text()]
    missing = [c for c in checking if c not in ledgers]
    assert not missing, f"chapters that check claims but left no ledger in {folder}: {missing}"
    page = (built_book / "book" / "status.html").read_text()
    section = page[page.index('id="app-claims-ledger"'):]
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", section)).split())
    absent = []
    for chapter, doc in ledgers.items():
        n = len(doc.get("claims", []))
        if not re.search(rf'href="[^"]*{re.escape(chapter)}\.html', section):
            absent.append(f"{chapter}: no link in the ledger")
        if n and f"{n} claims" not in text:
            absent.append(f"{chapter}: its {n} claims are not listed")
    assert not absent, "the claims ledger on the status page is incomplete:\n" + "\n".join(absent)
    total = sum(len(d.get("claims", [])) for d in ledgers.values())
    assert re.search(rf"\b\d+ of {total} claims held", text), "the ledger's total is missing"


def test_citations_are_author_year(built_book):
    """_config.yml asks for author-year citations; footnote numbers ([1], superscripts) would be wrong."""
    import re

    page = (built_book / "book" / "data.html").read_text()
    body = page.split('id="references"')[0]
    assert re.search(r"Kohavi,?\s*(?:</span>\s*)?(?:\[|\()?\s*1996", re.sub(r"<[^>]+>", "", body)), \
        "the data chapter's citation of the Adult dataset is not in author-year form"
