"""What a reader sees in the chapters' text, checked mechanically.

* Code cells that only glue numbers into the prose are hidden; a visible cell teaches.
* Exercises, chapters and equations are referred to by cross-references the build checks, never by
  typed numbers ("Exercise 3") or by a chapter's title in italics.
* The text speaks about fairness and the papers, not about how the book was made.
* Every chapter opens with the "In this chapter" box, whose "Time" gives the reading time and
  points at the *Execution status* appendix for the code's measured run time (wall times stay in
  the appendices).
* Citations render author-year, as ``_config.yml`` asks (``bibtex_foot_reference_style``).

These tests read the sources only (no execution), so they take well under a second.
"""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, appendix_files, notebook_chapters, toc_files

CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-cell", "hide-input"}


def _pages():
    out = []
    for entry in toc_files():
        path = ROOT / (entry if entry.endswith(".md") else entry + ".md")
        if path.exists():
            out.append(path)
    return out


def _chapters():
    appendices = appendix_files()
    return [p for p in notebook_chapters() if str(p.relative_to(ROOT).with_suffix("")) not in appendices]


def _code_cells(text: str):
    """(line number, tags, source) of every code cell of a jupytext MyST file."""
    for m in CODE_CELL.finditer(text):
        body = m.group(1)
        tags: set[str] = set()
        tag_line = re.search(r"^:tags:\s*\[(.*?)\]\s*$", body, re.M)
        if tag_line:
            tags = {t.strip().strip("'\"") for t in tag_line.group(1).split(",")}
        yaml_tags = re.search(r"^---\n(.*?)^---\n", body, re.S | re.M)
        if yaml_tags:
            tags |= set(re.findall(r"^\s*-\s*([\w-]+)\s*$", yaml_tags.group(1), re.M))
            tags |= {t.strip() for t in re.findall(r"tags:\s*\[(.*?)\]", yaml_tags.group(1)) for t in t.split(",")}
        source = "\n".join(l for l in body.splitlines() if not l.startswith(":"))
        yield text[: m.start()].count("\n") + 1, tags, source


def _prose(text: str) -> str:
    """The text without its code cells (line numbers kept), i.e. what a reader reads as prose."""
    return CODE_CELL.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def _where(text: str, pos: int) -> int:
    return text[:pos].count("\n") + 1


def _titles() -> dict[str, str]:
    titles = {}
    for path in _pages():
        m = re.search(r"^# (.+)$", path.read_text(), flags=re.M)
        if m:
            titles[path.stem] = m.group(1).strip()
    return titles


@pytest.mark.parametrize("path", notebook_chapters(), ids=lambda p: p.stem)
def test_glue_cells_are_hidden(path):
    """A cell that calls ``glue`` is hidden (its glue lines go to a small hidden cell after it)."""
    bad = [line for line, tags, source in _code_cells(path.read_text())
           if re.search(r"\bglue\(", source) and not tags & HIDDEN_TAGS]
    assert not bad, (f"{path.name}: visible code cells call glue() at lines {bad}; tag them remove-cell "
                     "(or move the glue lines into a hidden cell after the cell that teaches)")


def _has_no_output(source: str) -> bool:
    """A cell that ends in glue calls (or a loop or branch of them) and never prints or plots."""
    code = [l for l in source.splitlines() if l.strip() and not l.strip().startswith("#")]
    top = [l for l in code if not l.startswith((" ", "\t", ")", "]", "}"))]
    if not top:
        return True
    ends_in_glue = top[-1].startswith(("glue(", "for ", "if ", "else:")) or code[-1].rstrip().endswith("display=False)")
    shows = re.search(r"\bplt\.|\bprint\(|\bdisplay\((?!=)|\.plot\(|sns\.", source)
    return bool(ends_in_glue and not shows)


@pytest.mark.parametrize("path", notebook_chapters(), ids=lambda p: p.stem)
def test_glue_only_cells_are_removed(path):
    """A glue-only cell has nothing to show: collapsing its input (hide-input) still leaves an empty
    "Show code cell source" toggle on the page, so it is removed (remove-cell) or fully hidden."""
    bad = [line for line, tags, source in _code_cells(path.read_text())
           if re.search(r"\bglue\(", source) and _has_no_output(source)
           and not tags & {"remove-cell", "remove-input", "hide-cell"}]
    assert not bad, f"{path.name}: glue-only cells shown as an empty toggle at lines {bad}; tag them remove-cell"


@pytest.mark.parametrize("path", _pages(), ids=lambda p: p.stem)
def test_no_typed_exercise_numbers(path):
    """Exercises are numbered across the book, so the text refers to them with {ref}`label`."""
    text = _prose(path.read_text())
    bad = [(_where(text, m.start()), m.group(0)) for m in re.finditer(r"\bExercises?\s+\d+", text, flags=re.I)]
    # {ref} to an exercise renders "Exercise N" itself: "exercise {ref}`x`" reads "exercise Exercise N"
    bad += [(_where(text, m.start()), m.group(0))
            for m in re.finditer(r"\bExercises?\s*\{(?:ref|numref)\}", text, flags=re.I)]
    assert not bad, f"{path.name}: typed exercise numbers: {bad}"


@pytest.mark.parametrize("path", _pages(), ids=lambda p: p.stem)
def test_chapters_are_linked_not_italicised(path):
    """A chapter named in the text is a {doc}/{ref} link, not its title in italics."""
    text = _prose(path.read_text())
    bad = []
    for stem, title in _titles().items():
        pattern = r"(?<![*\w])\*" + r"\s+".join(map(re.escape, title.split())) + r"\*(?!\*)"
        bad += [(_where(text, m.start()), title) for m in re.finditer(pattern, text)]
    assert not bad, f"{path.name}: chapter titles in italics where a link belongs: {bad}"


@pytest.mark.parametrize("path", _pages(), ids=lambda p: p.stem)
def test_no_doubled_reference_text(path):
    """"the chapter {ref}`chap-data` (The data ...)" or "*Title* ({ref}`x`)" says the title twice."""
    text = _prose(path.read_text())
    bad = [(_where(text, m.start()), m.group(0))
           for m in re.finditer(r"\*[A-Z][^*\n]{3,60}\*\s*\(\{(?:ref|doc)\}`[^`]+`\)", text)]
    assert not bad, f"{path.name}: a title written out next to its own reference: {bad}"


# Words about the making of the book. Checked in the prose and in code comments and strings alike
# (a reader sees both); the first group only in prose, where "issue" is never about fairness here.
MAKING_OF_ANYWHERE = [r"\bprototype\b", r"\bthis session\b", r"\breference notes\b", r"\bissue #\d+",
                      r"\bbook's issue\b", r"\bexploratory runs?\b", r"\bwritten before this chapter\b",
                      r"\bnot run in it\b", r"\bTODO\b", r"\bFIXME\b"]
MAKING_OF_PROSE = [r"\bissues?\b", r"\bour exploratory\b", r"\bthe targets of\b", r"\bmeets the\b"]


@pytest.mark.parametrize("path", _pages(), ids=lambda p: p.stem)
def test_no_words_about_how_the_book_was_made(path):
    text = path.read_text()
    prose = _prose(text)
    bad = [(_where(text, m.start()), m.group(0)) for p in MAKING_OF_ANYWHERE
           for m in re.finditer(p, text, flags=re.I)]
    bad += [(_where(prose, m.start()), m.group(0)) for p in MAKING_OF_PROSE
            for m in re.finditer(p, prose, flags=re.I)]
    assert not bad, f"{path.name}: words about how the book was made, not about fairness: {sorted(bad)}"


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: p.stem)
def test_chapter_opens_with_in_this_chapter_box(path):
    """The box of book/data.md: objectives, prerequisites and time, before the first code cell."""
    text = path.read_text()
    first_code = text.find("```{code-cell}")
    m = re.search(r"^:::\{admonition\} In this chapter\n(.*?)^:::\s*$", text, flags=re.S | re.M)
    assert m, f"{path.name}: no ':::{{admonition}} In this chapter' box"
    assert first_code < 0 or m.start() < first_code, f"{path.name}: the 'In this chapter' box comes after code"
    box = m.group(1)
    for part in ("**You will learn**", "**Prerequisites.**", "**Time.**"):
        assert part in box, f"{path.name}: the 'In this chapter' box has no {part}"


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: p.stem)
def test_time_box_points_at_the_measured_run_times(path):
    """The "Time" box gives the reading time and points at the *Execution status* appendix for the
    code's run time: wall times belong in the appendices, not in a chapter's prose (neither a
    build's measurement nor a typed guess)."""
    text = path.read_text()
    m = re.search(r"\*\*Time\.\*\*(.*?)(?:\n\s*\n|^:::)", text, flags=re.S | re.M)
    assert m, f"{path.name}: no **Time.** paragraph"
    time_box = m.group(1)
    assert re.search(r"minutes to read", time_box), f"{path.name}: the Time box gives no reading time"
    assert "{doc}`status`" in time_box, f"{path.name}: the Time box does not point at the Execution status appendix"
    assert "{exec-runtime}" not in time_box, f"{path.name}: a measured wall time in the Time box"
    guesses = re.findall(r"(?:runs?|takes?|in) (?:about|under|well under|a few)\s+(?:\d+|a|one)?\s*(?:minutes?|seconds?|s\b)"
                         r"(?! to read)", time_box)
    assert not guesses, f"{path.name}: typed run times in the Time box: {guesses}"
    assert not re.search(r"\{glue:text\}`", time_box), f"{path.name}: a glued value in the Time box"


def test_citations_render_author_year():
    """{footcite} follows ``bibtex_foot_reference_style`` (sphinxcontrib-bibtex 2.x), not
    ``bibtex_reference_style``; its default renders numbers and its ``author_year`` crashes on
    footnotes, so ``_ext/footcite_author_year.py`` provides ``author_year_foot``."""
    config = (ROOT / "_config.yml").read_text()
    assert re.search(r"^\s*bibtex_reference_style:\s*author_year\s*$", config, re.M)
    assert re.search(r"^\s*bibtex_foot_reference_style:\s*author_year_foot\s*$", config, re.M)
    assert re.search(r"^\s*footcite_author_year:\s*_ext", config, re.M)


def test_status_page_uses_the_measured_table():
    text = (ROOT / "book" / "status.md").read_text()
    assert "```{exec-status}" in text and "nb-exec-table" not in text
    assert re.search(r"^\s*exec_status:\s*_ext", (ROOT / "_config.yml").read_text(), re.M)


def test_the_scanner_finds_what_it_should():
    """The checks above on a small made-up chapter: each kind of problem is found once."""
    sample = "\n".join([
        "Text (compare Exercise 1) and exercise {ref}`x-ex-1`; see *Prediction sensitivity*.",
        "```{code-cell} ipython3",
        "glue('a', 1, display=False)",
        "```",
        "```{code-cell} ipython3",
        ":tags: [remove-cell]",
        "",
        "glue('b', 2, display=False)",
        "```",
    ])
    cells = list(_code_cells(sample))
    assert [bool(tags & HIDDEN_TAGS) for _, tags, _ in cells] == [False, True]
    prose = _prose(sample)
    assert "glue(" not in prose
    assert len(re.findall(r"\bExercises?\s+\d+", prose)) == 1
    assert len(re.findall(r"\bExercises?\s*\{(?:ref|numref)\}", prose, flags=re.I)) == 1
    assert re.search(r"(?<![*\w])\*Prediction\s+sensitivity\*(?!\*)", prose)
