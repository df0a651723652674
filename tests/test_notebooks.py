"""tools/notebook_text.py: the chapters as notebooks that Jupyter, JupyterLab and Colab render.

The unit tests feed the converter small MyST notebooks; the chapter tests convert every chapter
of the table of contents, in the teacher and the student edition, and fail on any MyST role or
directive left in a markdown cell and on any trace of a solution in the student edition.
"""

from __future__ import annotations

import re
import sys

import jupytext
import nbformat
import pytest

from conftest import ROOT, notebook_chapters

sys.path.insert(0, str(ROOT / "tools"))
import notebook_text as nt  # noqa: E402

md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell


@pytest.fixture(scope="module")
def index():
    return nt.BookIndex.from_toc(ROOT)


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _text(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _any_bib_key(index):
    key = next(iter(index.bibliography))
    return key, index.bibliography[key]


def test_roles_become_plain_markdown(index):
    key, entry = _any_bib_key(index)
    term = sorted(index.terms)[0]
    label, ref = next((k, r) for k, r in index.labels.items() if r.doc != "book/x")
    nb = _nb(md(f"A {{term}}`{term}` and {{term}}`the same <{term}>`; see {{footcite}}`{key}` and "
                f"{{footcite:t}}`{key}`; {{ref}}`{label}`; code `{{term}}` stays.\n\n"
                "```{footbibliography}\n```"))
    out = nt.convert_notebook(nb, "book/x", index)
    text = _text(out)
    year = entry.fields["year"]
    assert f"A {term} and the same;" in text
    assert f", {year}](#ref-{key}))" in text and f" ({year})](#ref-{key})" in text
    assert f"[{ref.title}]" in text or f"*{ref.title}*" in text
    assert "code `{term}` stays" in text
    assert f'<a id="ref-{key}"></a>' in text and "footbibliography" not in text
    assert nt.leftover_myst(out) == []


def test_terms_and_references_link_to_the_published_book(index):
    term = sorted(index.terms)[0]
    nb = _nb(md(f"{{term}}`{term}`"))
    text = _text(nt.convert_notebook(nb, "book/x", index, book_url="https://o.github.io/r/"))
    assert text == f"[{term}](https://o.github.io/r/{index.glossary_doc}.html#{nt.term_anchor(term)})"


def test_glue_values_in_executed_and_pointers_in_unexecuted_notebooks(index):
    cells = [md("Accuracy {glue:text}`acc:.2f`, rows {glue}`rows`, n {glue:}`acc_adult`."),
             code('glue("acc", 0.8765, display=False)\nfor k in ("adult",):\n    glue(f"acc_{k}", 3)'),
             code('glue("rows", "1,024", display=False)')]
    unexecuted = _text(nt.convert_notebook(_nb(*cells), "book/x", index))
    assert unexecuted == ("Accuracy `acc` (computed by code cell 1), rows `rows` (computed by code cell 2), "
                          "n `acc_adult` (computed by code cell 1).")
    glue = {"acc": {"data": {"text/plain": "0.8765"}}, "rows": {"data": {"text/plain": "'1,024'"}},
            "acc_adult": {"data": {"text/plain": "3"}}}
    executed = _text(nt.convert_notebook(_nb(*cells), "book/x", index, glue=glue))
    assert executed == "Accuracy 0.88, rows 1,024, n 3."
    # glued values recorded in the notebook's own outputs (an executed .ipynb) are found too
    cells[2].outputs = [nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": "'1,024'"},
        metadata={"scrapbook": {"name": "rows", "mime_prefix": "application/papermill.record/"}})]
    with pytest.raises(nt.MystConversionError, match="no value named 'acc'"):
        nt.convert_notebook(_nb(*cells), "book/x", index)


def test_exercises_and_gated_solutions_teacher_and_student(index):
    cells = [
        md("## Exercises\n\n```{exercise} A title\n:label: x-ex-1\n\nDo it.\n```\n\n"
           "```{solution-start} x-ex-1\n:class: dropdown\n```\nThe secret answer"),
        code("answer = 42"),
        md("more secret\n```{solution-end}\n```\n\n:::{note}\nAfter the solution.\n:::"),
        code("kept = 1"),
    ]
    teacher = nt.convert_notebook(_nb(*cells), "book/x", index)
    student = nt.convert_notebook(_nb(*cells), "book/x", index, student=True)
    t_text, s_text = _text(teacher), _text(student)
    assert re.search(r"^### Exercise \d+ \(A title\)$", t_text, re.M)
    assert t_text.count("<details>") == 2 and "The secret answer" in t_text and "more secret" in t_text
    solution_cell = next(c for c in teacher.cells if "answer = 42" in c.source)
    assert solution_cell.metadata["jupyter"]["source_hidden"] and "solution" in solution_cell.metadata["tags"]
    assert "secret" not in s_text and "Solution" not in s_text
    assert [c.source for c in student.cells if c.cell_type == "code"] == ["kept = 1"]
    assert "> **Note**\n>\n> After the solution." in s_text
    for nb in (teacher, student):
        assert nt.leftover_myst(nb) == []
        nbformat.validate(nb)


def test_admonitions_become_quotes_or_details(index):
    nb = _nb(md("::::{admonition} Outer *title*\n:class: tip\n\nText\n\n```{warning}\nInner\n```\n::::\n\n"
                "```{tip}\n:class: dropdown\nHidden\n```"))
    text = _text(nt.convert_notebook(nb, "book/x", index))
    assert text.startswith("> **Outer *title***\n>\n> Text\n>\n> > **Warning**\n> >\n> > Inner")
    assert "<details>\n<summary>Tip</summary>\n\nHidden\n\n</details>" in text


def test_unknown_constructs_are_errors_not_leaks(index):
    with pytest.raises(nt.MystConversionError, match=r"role \{nosuchrole\}"):
        nt.convert_notebook(_nb(md("{nosuchrole}`x`")), "book/x", index)
    with pytest.raises(nt.MystConversionError, match=r"directive \{nosuchdirective\}"):
        nt.convert_notebook(_nb(md("```{nosuchdirective}\nx\n```")), "book/x", index)
    with pytest.raises(nt.MystConversionError, match="not in the bibliography"):
        nt.convert_notebook(_nb(md("{footcite}`no-such-key`")), "book/x", index)


def test_colab_install_cell(index):
    out = nt.convert_notebook(_nb(md("# T")), "book/x", index, repo_url="https://github.com/o/r", repo_ref="abc")
    first = out.cells[0]
    assert first.cell_type == "code" and first.metadata["jupyter"]["source_hidden"]
    assert '"google.colab" in sys.modules' in first.source and "git+https://github.com/o/r@abc" in first.source
    compile(first.source, "colab-cell", "exec")  # plain Python, no IPython magic


def _solution_code(path) -> list[str]:
    """The code cells of a chapter that sit between a solution-start and its solution-end."""
    text = path.read_text()
    found = []
    for region in re.findall(r"```\{solution-start\}.*?```\{solution-end\}", text, flags=re.S):
        for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)\n```", region, flags=re.S):
            found.append(re.sub(r"\A(:[^\n]*\n)*", "", cell).strip())  # without the :tags: lines
    return found


CHAPTERS = notebook_chapters()


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_chapter_converts_without_myst_left(path, index):
    doc = path.relative_to(ROOT).with_suffix("").as_posix()
    source = jupytext.read(path)
    teacher = nt.convert_notebook(source, doc, index, link_notebooks=True)
    student = nt.convert_notebook(source, doc, index, student=True, link_notebooks=True)
    for edition, nb in (("teacher", teacher), ("student", student)):
        nbformat.validate(nb)
        left = nt.leftover_myst(nb)
        assert not left, f"{path.name} ({edition}): MyST left in markdown cells: {left[:10]}"
    solutions = path.read_text().count("```{solution-start}") + path.read_text().count("```{solution}")
    student_text = _text(student)
    assert _text(teacher).count("<details>") >= solutions
    assert "<details>" not in student_text and "Solution to" not in student_text
    student_code = [c.source.strip() for c in student.cells if c.cell_type == "code"]
    leaked = [c for c in _solution_code(path) if c in student_code]
    assert not leaked, f"{path.name}: the student notebook keeps solution code: {leaked[:2]}"
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)


def test_leftover_myst_finds_roles_directives_and_targets():
    nb = _nb(md("(a-label)=\n# T\n\n{term}`x` and `{term}` in code\n\n:::{note}\nx\n:::"),
             md("```python\n{glue}`not a role in a code block`\n```"))
    found = nt.leftover_myst(nb)
    assert sorted(found) == ["cell 0: directive {note}", "cell 0: role {term}`", "cell 0: target (a-label)="]
