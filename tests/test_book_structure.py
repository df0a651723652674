"""The table of contents, the chapters and the notebooks nbval runs agree."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, notebook_chapters, toc_files


def test_every_toc_entry_exists():
    missing = [e for e in toc_files() if not (ROOT / (e if e.endswith(".md") else e + ".md")).exists()]
    assert not missing, f"_toc.yml names files that do not exist: {missing}"


def test_there_are_notebook_chapters():
    assert len(notebook_chapters()) >= 1


@pytest.mark.skipif("FAIRNOTES_CHAPTERS" in os.environ, reason="a subset of chapters was asked for")
def test_nbval_collects_every_notebook_chapter(request):
    """nbval must run exactly one notebook per notebook chapter of the table of contents.

    If the conversion or the collection pattern broke, fewer notebooks would run and the suite
    would still pass; this test makes that a failure.
    """
    expected = {p.stem for p in notebook_chapters()}
    collected = request.config.fairnotes_notebooks
    if not collected:
        pytest.fail(
            "nbval collected no chapter notebook: run the whole suite with `pytest` from the "
            "repository root (pyproject sets --nbval-lax and the test paths)"
        )
    assert collected == expected, f"missing: {sorted(expected - collected)}, extra: {sorted(collected - expected)}"


def test_no_committed_notebooks_or_outputs():
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    assert out.stdout.strip() == "", f"committed .ipynb files: {out.stdout.split()}"


def test_every_chapter_seeds_numpy_torch_and_tensorflow():
    """Each notebook chapter calls fairnotes.runtime.seed_everything in a code cell (not only in its prose)."""
    import re

    cells = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)
    for path in notebook_chapters():
        code = "\n".join(cells.findall(path.read_text()))
        assert re.search(r"^\s*(?:runtime\.)?seed_everything\(", code, re.M), (
            f"{path.name} does not call fairnotes.runtime.seed_everything in a code cell")


def test_import_fairnotes_is_light():
    code = ("import sys, fairnotes; heavy=[m for m in ('torch','tensorflow','gpflow','sklearn','matplotlib') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import fairnotes loaded {out.stdout.strip()}"


def test_every_chapter_follows_the_pattern():
    """Objectives/prerequisites/time up front; summary, exercises and references at the end.

    Appendices (performance, status, ...) are reference pages, not chapters."""
    from conftest import appendix_files

    appendices = appendix_files()
    chapters = [p for p in notebook_chapters() if str(p.relative_to(ROOT).with_suffix("")) not in appendices]
    assert chapters
    for path in chapters:
        text = path.read_text()
        name = path.name
        assert "**Prerequisites.**" in text and "**Time.**" in text, f"{name}: no prerequisites/time box"
        assert "**You will learn**" in text, f"{name}: no learning objectives"
        for heading in ("## Summary", "## Exercises", "## References"):
            assert heading in text, f"{name}: no '{heading}' section"
        assert text.count("```{exercise}") >= 3, f"{name}: fewer than three exercises"
        assert text.count("```{solution-start}") == text.count("```{exercise}"), f"{name}: an exercise has no solution"
        assert "{footbibliography}" in text, f"{name}: no chapter bibliography"


def _chapter_titles() -> dict[str, str]:
    """Title (first level-1 heading) of every chapter in the table of contents, by file stem."""
    import re

    titles = {}
    for entry in toc_files():
        path = ROOT / (entry if entry.endswith(".md") else entry + ".md")
        m = re.search(r"^# (.+)$", path.read_text(), flags=re.M)
        if m:
            titles[path.stem] = m.group(1).strip()
    return titles


# every public module of the package (private plumbing starts with an underscore)
PACKAGE_MODULES = sorted(p.stem for p in (ROOT / "fairnotes").glob("*.py") if not p.stem.startswith("_"))


@pytest.mark.parametrize("module", PACKAGE_MODULES)
def test_every_public_name_links_its_chapter(module):
    """Each public function or class of fairnotes links, in its docstring, the chapter that explains it.

    The link is a Sphinx cross-reference to a page of the table of contents
    (e.g. ":doc:`/book/sensitivity`"), so the API reference links to it and the build checks it.
    """
    import importlib
    import inspect

    pytest.importorskip("torch")
    mod = importlib.import_module(f"fairnotes.{module}")
    pages = {e.removesuffix(".md") for e in toc_files()}
    names = getattr(mod, "__all__", None)
    assert names, f"fairnotes.{module} has no __all__"
    bad = []
    for name in names:
        obj = getattr(mod, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue  # constants are documented where they are defined
        doc = inspect.getdoc(obj) or ""
        linked = set(re.findall(r":doc:`/?([\w/]+)`", doc))
        if not linked & pages:
            bad.append(name)
    assert not bad, f"fairnotes.{module}: these public names do not link a chapter of the book: {bad}"
