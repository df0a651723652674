"""Every chapter draws its figures in the book's style (fairnotes.plots), mechanically checked.

The style, its colours and the font-size rule are in ``fairnotes/plots.py``; these checks read the
chapters' code cells and fail on the usual ways around it: a chapter that draws without calling
``plots.use_book_style()``, sets its own theme, names a palette or colour map of its own, uses
matplotlib's anonymous cycle colours ("C0") whose meaning changes with the order of plotting, writes
text smaller than the rule allows, or makes a figure wider than the content column.
"""

from __future__ import annotations

import re

import pytest

from conftest import notebook_chapters

CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)
DRAWS = re.compile(r"\b(?:plt|sns|plots)\.\w+\(|\.plot\(|\.hist\(|\.scatter\(|\bimport (?:matplotlib|seaborn)\b|"
                   r"\bfrom (?:matplotlib|seaborn)\b")
ALLOWED_CMAPS = {"viridis", "cividis", "Blues"}   # sequential maps, safe for colour-vision deficiencies


def _code(path) -> str:
    return "\n".join(CODE_CELL.findall(path.read_text()))


def _chapters():
    return [p for p in notebook_chapters() if DRAWS.search(_code(p))]


def _ids(paths):
    return [p.stem for p in paths]


CHAPTERS = _chapters()


def test_some_chapters_draw():
    assert CHAPTERS, "no chapter draws a figure: the pattern that finds them is broken"


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_uses_the_book_style(path):
    code = _code(path)
    assert "plots.use_book_style()" in code, (
        f"{path.name} draws figures but does not call fairnotes.plots.use_book_style() in its set-up cell")
    for bad in ("sns.set_theme(", "sns.set(", "sns.set_palette(", "plt.style.use(", "mpl.rcParams[", "plt.rcParams["):
        assert bad not in code, f"{path.name}: {bad}...) overrides the book's style; use fairnotes.plots"


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_uses_the_book_colours(path):
    code = _code(path)
    palettes = re.findall(r"palette\s*=\s*[\"']([^\"']+)[\"']", code)
    assert not palettes, (f"{path.name} names its own palette {palettes}: use the fixed colours of "
                          "fairnotes.plots (group_palette, MODEL_COLORS, ...)")
    cmaps = set(re.findall(r"cmap\s*=\s*[\"']([^\"']+)[\"']", code)) - ALLOWED_CMAPS
    assert not cmaps, f"{path.name} uses the colour map(s) {sorted(cmaps)}; allowed: {sorted(ALLOWED_CMAPS)}"
    cycle = re.findall(r"colou?r\s*=\s*[\"'](C\d)[\"']", code)
    assert not cycle, f"{path.name} uses the cycle colour(s) {cycle}, whose meaning depends on plotting order"


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_text_and_widths_follow_the_rule(path):
    from fairnotes import plots

    code = _code(path)
    small = [float(f) for f in re.findall(r"fontsize\s*=\s*(\d+(?:\.\d+)?)", code) if float(f) < plots.MIN_FONT_PT]
    assert not small, f"{path.name}: font sizes {small} pt are below the book's minimum of {plots.MIN_FONT_PT} pt"
    wide = [float(w) for w in re.findall(r"figsize\s*=\s*\(\s*(\d+(?:\.\d+)?)", code) if float(w) > plots.FULL_WIDTH]
    assert not wide, (f"{path.name}: figures {wide} in wide are scaled down on the page; the content column "
                      f"takes {plots.FULL_WIDTH} in (see the rule in fairnotes/plots.py)")
    heights = re.findall(r"\b(?:height\s*=\s*[\d.]+\s*,\s*aspect\s*=\s*[\d.]+)", code)
    col_wrap = re.findall(r"col_wrap\s*=\s*(\d+)", code)
    assert not [c for c in col_wrap if int(c) > plots.MAX_COLUMNS], f"{path.name}: more than {plots.MAX_COLUMNS} panels side by side"
    assert not (heights and "sns." in code and "kind=" in code and "col=" in code and not col_wrap), (
        f"{path.name}: a seaborn facet grid sized by height/aspect; use fairnotes.plots.panel_grid or its helpers")

