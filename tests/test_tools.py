"""tools/book.py: notebooks for the classroom and the student edition."""

import sys

import nbformat
import yaml

from conftest import ROOT, appendix_files, notebook_chapters

sys.path.insert(0, str(ROOT / "tools"))
import book  # noqa: E402


def test_notebooks_export_one_per_chapter_with_and_without_solutions(tmp_path):
    full = book.write_notebooks(tmp_path / "full")
    student = book.write_notebooks(tmp_path / "student", student=True)
    assert sorted(p.name for p in full) == sorted(p.stem + ".ipynb" for p in notebook_chapters())
    appendices = {p.rsplit("/", 1)[-1] for p in appendix_files()}
    for f, s in zip(full, student):
        if f.stem in appendices:
            continue
        nb_full, nb_student = nbformat.read(f, 4), nbformat.read(s, 4)
        text_full = "\n".join(c.source for c in nb_full.cells)
        text_student = "\n".join(c.source for c in nb_student.cells)
        n_ex = text_full.count("```{exercise}")
        assert n_ex >= 3, f"{f.name} has {n_ex} exercises; every chapter needs at least three"
        assert text_student.count("```{exercise}") == n_ex
        assert "solution-start" in text_full and "solution-start" not in text_student
        assert "solution-end" not in text_student
        assert len(nb_student.cells) < len(nb_full.cells) or len(text_student) < len(text_full)


def test_strip_solutions_keeps_text_around_solutions():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("intro\n```{solution-start} ex-1\n:class: dropdown\n```\nsecret"),
        nbformat.v4.new_code_cell("answer = 42"),
        nbformat.v4.new_markdown_cell("```{solution-end}\n```\n\nnext exercise"),
        nbformat.v4.new_code_cell("kept = 1"),
    ]
    out, removed = book.strip_solutions(nb)
    sources = [c.source for c in out.cells]
    assert sources == ["intro", "next exercise", "kept = 1"]
    assert removed == 2


def test_student_config_hides_solutions():
    cfg = yaml.safe_load(book.student_config((ROOT / "_config.yml").read_text()))
    assert cfg["sphinx"]["config"]["hide_solutions"] is True
    assert cfg["title"].startswith("Student edition")
