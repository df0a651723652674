"""The whole book as one PDF (``python tools/book.py pdf``): produced, complete, maths typeset.

The build is fast mode into a temporary folder, sharing the execution cache of the other derived
builds (tests/book_builds.py). The PDF's text, read with poppler-utils' ``pdftotext``, must hold
every page's title; its images are the figures; MathJax must have typeset the maths (no TeX
delimiters left in the text).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

import book_builds
from conftest import ROOT, toc_files

sys.path.insert(0, str(ROOT / "tools"))
import book  # noqa: E402
import notebook_text  # noqa: E402

pytestmark = pytest.mark.slow


def _need(tool: str, package: str):
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {package} (see .ci/run)")
        pytest.skip(f"{tool} is not installed (apt-get install {package})")


@pytest.fixture(scope="module")
def pdf_text(tmp_path_factory):
    book_builds.skip_if_subset()
    _need("chromium", "chromium")
    _need("pdftotext", "poppler-utils")
    out = tmp_path_factory.mktemp("pdf")
    config_path = out / "_config.yml"
    book_builds.with_shared_cache(book_builds.book_config(config_path),
                                  book_builds.shared_cache(tmp_path_factory), config_path)
    pdf = book.build_pdf(out, config_path)
    book_builds.assert_chapters_executed(out / "_build" / "singlehtml")
    assert pdf == out / "_build" / "pdf" / book.PDF_NAME
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    return text, images


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')).lower()


def test_pdf_holds_every_page_title(pdf_text):
    text, _ = pdf_text
    index = notebook_text.BookIndex.from_toc(ROOT)
    squashed = _squash(text)
    for entry in toc_files():
        title = index.titles[entry.removesuffix(".md")]
        assert _squash(title) in squashed, f"the PDF lacks the title of {entry}: {title!r}"


def test_pdf_has_figures_and_typeset_maths(pdf_text):
    text, images = pdf_text
    assert len(images) >= 10, f"only {len(images)} images in the PDF"
    for delimiter in ("\\(", "\\[", "$$"):
        assert delimiter not in text, f"untypeset maths ({delimiter!r}) in the PDF"
