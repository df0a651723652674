"""tools/book.py: notebooks for the classroom and the student edition; tools/toc.py."""

import re
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
        n_ex = len(re.findall(r"^#+ Exercise \d+", text_full, flags=re.M))
        assert n_ex >= 3, f"{f.name} has {n_ex} exercises; every chapter needs at least three"
        assert len(re.findall(r"^#+ Exercise \d+", text_student, flags=re.M)) == n_ex
        assert "<summary>Solution to Exercise" in text_full and "Solution to Exercise" not in text_student
        assert "{exercise}" not in text_full and "solution-start" not in text_full
        assert len(nb_student.cells) < len(nb_full.cells) or len(text_student) < len(text_full)


def test_notebooks_link_each_other_and_install_in_colab(tmp_path):
    written = book.write_notebooks(tmp_path, repo_url="https://github.com/example/fairnotes")
    names = {p.name for p in written}
    for path in written:
        nb = nbformat.read(path, 4)
        assert "git+https://github.com/example/fairnotes" in nb.cells[0].source
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        for target in re.findall(r"\]\(([^)#]+\.ipynb)", text):
            assert target in names, f"{path.name} links to {target}, which was not written"


def test_student_config_hides_solutions():
    cfg = yaml.safe_load(book.student_config((ROOT / "_config.yml").read_text()))
    assert cfg["sphinx"]["config"]["hide_solutions"] is True
    assert cfg["title"].startswith("Student edition")


def test_toc_reads_every_page_in_order():
    import toc

    entries = toc.toc_files()
    assert entries[0] == yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]
    assert len(entries) == len(set(entries))
    assert toc.appendix_files() <= {e.removesuffix(".md") for e in entries}
    chapters = {p.name for p in toc.notebook_chapters()}
    assert "data.md" in chapters and "glossary.md" not in chapters   # a plain page is not a notebook


def test_is_notebook_chapter_needs_jupytext_and_kernelspec(tmp_path):
    import toc

    head = "---\njupytext:\n  text_representation:\n    extension: .md\n"
    cases = {"both.md": (head + "kernelspec:\n  name: python3\n---\n# A\n", True),
             "plain.md": ("# A page\n\nNo front matter.\n", False),
             "no_kernel.md": (head + "---\n# B\n", False),
             "later.md": ("# C\n---\njupytext:\nkernelspec:\n---\n", False)}
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text)
        assert toc.is_notebook_chapter(tmp_path / name) is expected, name


def test_toc_reads_nested_sections_and_flat_chapters(tmp_path):
    import toc

    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n  - caption: Main\n    chapters:\n      - file: a\n"
        "        sections:\n          - file: a1.md\n  - caption: Appendices\n    chapters:\n"
        "      - file: z\n")
    assert toc.toc_files(tmp_path / "_toc.yml") == ["intro", "a", "a1.md", "z"]
    assert toc.appendix_files(tmp_path / "_toc.yml") == {"z"}
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: b\n")
    assert toc.toc_files(tmp_path / "_toc.yml") == ["intro", "b"]
