"""tools/myst_tokens.py and tools/book_index.py: MyST read from markdown-it's token stream, as the book reads it.

Each case is a construct that a line-by-line reading gets wrong and MyST (markdown-it with the
MyST plugins) gets right; the notebook converter must follow MyST.
"""

from __future__ import annotations

import sys

import nbformat
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import book_index  # noqa: E402
import myst_tokens as mt  # noqa: E402
import notebook_text as nt  # noqa: E402


@pytest.fixture(scope="module")
def index():
    return nt.BookIndex.from_toc(ROOT)


def _convert(index, source: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(source)]
    out = nt.convert_notebook(nb, "book/x", index)
    return "\n".join(c.source for c in out.cells if c.cell_type == "markdown")


def test_segments_split_directives_code_and_text():
    lines = ["Text {term}`a`", "", "```{note} Title", ":class: x", "", "Body", "```", "```python",
             "{term}`not a role`", "```", "", ":::{tip}", "unclosed"]
    parts = mt.segments(lines)
    assert [type(p).__name__ for p in parts] == ["Text", "Directive", "Code", "Text", "Directive"]
    note, tip = parts[1], parts[4]
    assert (note.name, note.arg, note.body) == ("note", "Title", [":class: x", "", "Body"])
    assert mt.split_directive(note.body) == ({"class": "x"}, ["", "Body"])
    assert parts[2].lines == ["```python", "{term}`not a role`", "```"]
    assert (tip.name, tip.body) == ("tip", ["unclosed"])       # an unclosed fence runs to the end


def test_roles_are_found_where_markdown_it_finds_them():
    source = "A {term}`x` and ``{term}`y` `` code, {ref}``a ` b`` and {doc}`c <d>`."
    part = mt.segments([source])[0]
    (a, b, spans), = part.inlines
    found = mt.roles(source, spans)
    assert [(r.name, r.body) for r in found] == [("term", "x"), ("ref", "a ` b"), ("doc", "c <d>")]
    assert all(source[r.start:r.end].startswith("{" + r.name + "}`") for r in found)


@pytest.mark.parametrize("source, kept", [
    ("Maths $\\{term}`x`$ stays", "$\\{term}`x`$"),          # inside inline maths: no role
    ("An escaped \\{term}`x` stays", "\\{term}`x`"),          # an escaped brace: a code span
    ("```\n{term}`x`\n```", "{term}`x`"),                     # a code block
])
def test_what_myst_does_not_read_as_a_role_is_left_alone(index, source, kept):
    assert kept in _convert(index, source)


def test_roles_in_table_cells_and_across_quoted_lines(index):
    term = sorted(index.terms)[0]
    table = f"| a | b |\n|---|---|\n| {{term}}`{term}` | {{term}}`other <{term}>` |"
    assert _convert(index, table).split("\n")[2] == f"| {term} | other |"
    quoted = f"> one {{term}}`{term}`\n> two {{term}}`three <{term}>`"
    assert _convert(index, quoted) == f"> one {term}\n> two three"


def test_comments_targets_and_headings_as_myst_reads_them(index):
    text = _convert(index, "   % an indented comment\n(lab)=\n## Head\n\n$$\n# not a heading\n$$\n\nend")
    assert "comment" not in text
    assert text.startswith('<a id="lab"></a>\n## Head')
    assert "# not a heading" in text                          # maths, not a heading


def test_a_directive_in_a_list_item_is_converted_in_place(index):
    text = _convert(index, "- item\n  ```{note}\n  nested\n  ```\n- next")
    assert text == "- item\n  > **Note**\n  >\n  > nested\n- next"
    quoted = "> ```{note}\n> in a quote\n> ```"               # MyST does not read it as a directive here
    assert _convert(index, quoted) == quoted


def test_leftover_myst_sees_nested_constructs():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("- a {term}`x`\n  :::{note}\n  y\n  :::"),
                nbformat.v4.new_markdown_cell("`{term}`x`` and $\\{ref}`y`$")]
    assert sorted(nt.leftover_myst(nb)) == ["cell 0: directive {note}", "cell 0: role {term}`"]


def test_the_index_reads_labels_as_myst_does():
    idx = book_index.BookIndex()
    idx._scan("book/x", "(t-fig)=\n```{figure} a.png\n:name: fig-a\n```\n\n# Title\n\n"
                        "(t-sec)=\n## Section\n\n$$\nx\n$$ (eq-x)\n\n"
                        "```{exercise} Try\n:label: x-ex-1\n```\n$$\n# not a title\n$$")
    assert idx.titles["book/x"] == "Title"
    assert "t-fig" not in idx.labels              # a target before a directive labels no later heading
    assert idx.labels["t-sec"].title == "Section"
    assert (idx.labels["fig-a"].title, idx.labels["eq-x"].title) == ("Figure 1", "(1)")
    assert idx.labels["x-ex-1"].title == "Exercise 1 (Try)"
