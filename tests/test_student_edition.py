"""The HTML student edition (``python tools/book.py student``): every exercise, no solution.

sphinx-exercise's ``hide_solutions`` alone fails on the chapters' gated solutions
(``{solution-start}`` ... ``{solution-end}``: "departing unknown node type: solution_end_node") and
would leave their cells on the page; ``_ext/student_solutions.py``, which ``tools/book.py`` adds to
the student configuration, removes them whole. A small book checks that quickly; the whole student
edition is built in fast mode, reusing the chapters that the strict build executed into the
session's shared execution cache (tests/book_builds.py), so no chapter runs twice.
"""

from __future__ import annotations

import html as html_lib
import re
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import book_builds
from conftest import ROOT, notebook_chapters

sys.path.insert(0, str(ROOT / "tools"))
import book  # noqa: E402

_LABEL = re.compile(r"```\{exercise(?:-start)?\}[^\n]*\n(?::[^\n]*\n)*?:label: ([\w-]+)")
_GATED = re.compile(r"```\{solution-start\}[^\n]*\n(.*?)```\{solution-end\}", re.S)
_PLAIN = re.compile(r"```\{solution\}[^\n]*\n(.*?)\n```", re.S)


def exercise_labels(text: str) -> list[str]:
    """The labels of a chapter's exercises, in order."""
    return _LABEL.findall(text)


def solution_sentences(text: str) -> list[str]:
    """From each solution of a chapter, prose lines that appear nowhere else in the chapter: if one
    shows on a page, a solution leaked."""
    blocks = _GATED.findall(text) + _PLAIN.findall(text)
    outside = text
    for b in blocks:
        outside = outside.replace(b, "")
    out = []
    for block in blocks:
        in_code = False
        for line in block.splitlines():
            if line.startswith("```"):
                in_code = not in_code
                continue
            plain = line.strip()
            if in_code or plain.startswith((":", "#", "|", "$", "{", "-", "*")) or len(plain) < 40:
                continue
            if "{" in plain or "$" in plain or "`" in plain or "[" in plain:
                continue              # roles, maths and links render differently: plain prose only
            if plain not in outside:
                out.append(plain)
                break                 # one line per solution is enough
    return out


def page_text(path: Path) -> str:
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", path.read_text(), flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def test_the_student_configuration_adds_the_extension():
    cfg = yaml.safe_load(book.student_config((ROOT / "_config.yml").read_text()))
    assert cfg["sphinx"]["config"]["hide_solutions"] is True
    assert cfg["sphinx"]["local_extensions"]["student_solutions"] == "_ext"
    assert (ROOT / "_ext" / "student_solutions.py").exists()


def test_the_chapters_exercises_are_found():
    """The helpers of the build test read the chapters as they are written."""
    total = 0
    for path in notebook_chapters():
        text = path.read_text()
        labels = exercise_labels(text)
        assert len(labels) == text.count("```{exercise"), f"{path.name}: an exercise without a label"
        total += len(labels)
        assert len(solution_sentences(text)) >= 1 or "{solution" not in text, f"{path.name}: no solution line found"
    assert total >= 30


MINI_PAGE = '''\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# A page with exercises

```{exercise} First
:label: mini-ex-1
Question one.
```

```{solution-start} mini-ex-1
:class: dropdown
```
A gated solution's prose, SECRET-GATED.
```{code-cell} ipython3
print("SECRET-CODE")
```
```{solution-end}
```

```{exercise} Second
:label: mini-ex-2
Question two.
```

```{solution} mini-ex-2
SECRET-PLAIN
```

After the exercises.
'''


@pytest.mark.parametrize("student", [True, False])
def test_a_small_book_with_gated_solutions(tmp_path, student):
    """Gated and plain solutions: all gone in the student edition, all there in the teacher's."""
    (tmp_path / "page.md").write_text(MINI_PAGE)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    config = {"title": "mini", "only_build_toc_files": True, "execute": {"execute_notebooks": "off"},
              "sphinx": {"local_extensions": {"student_solutions": str(ROOT / "_ext")},
                         "extra_extensions": ["sphinx_exercise"], "config": {"hide_solutions": student}}}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    jb = Path(sys.executable).parent / "jupyter-book"
    import subprocess

    run = subprocess.run([str(jb) if jb.exists() else "jupyter-book", "build", str(tmp_path)],
                         capture_output=True, text=True)
    assert run.returncode == 0, "\n".join((run.stdout + run.stderr).splitlines()[-30:])
    page = tmp_path / "_build" / "html" / "page.html"
    assert page.exists(), "\n".join((run.stdout + run.stderr).splitlines()[-30:])
    text = page_text(page)
    assert "Question one" in text and "Question two" in text and "After the exercises" in text
    for secret in ("SECRET-GATED", "SECRET-CODE", "SECRET-PLAIN"):
        assert (secret in text) != student, f"{secret} {'shown' if student else 'missing'}"


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory):
    book_builds.skip_if_subset()
    out = tmp_path_factory.mktemp("student")
    config_path = out / "_config.yml"
    text = book.student_config((ROOT / "_config.yml").read_text())
    book_builds.with_shared_cache(book_builds.book_config(config_path, text),
                                  book_builds.shared_cache(tmp_path_factory), config_path)
    book_builds.jupyter_book("build", str(ROOT), "--config", str(config_path), "--path-output", str(out))
    html = out / "_build" / "html"
    book_builds.assert_chapters_executed(html)
    return html


@pytest.mark.slow
def test_student_edition_holds_every_exercise_and_no_solution(student_edition):
    missing, leaked = [], []
    for path in notebook_chapters():
        rel = path.relative_to(ROOT).with_suffix(".html")
        page = student_edition / rel
        assert page.exists(), f"the student edition has no {rel}"
        raw = page.read_text()
        text = page_text(page)
        for label in exercise_labels(path.read_text()):
            if f'id="{label}"' not in raw:
                missing.append(f"{rel}: exercise {label}")
        if re.search(r'class="[^"]*\bsolution\b', raw):
            leaked.append(f"{rel}: a solution element")
        for sentence in solution_sentences(path.read_text()):
            if " ".join(sentence.split()) in text:
                leaked.append(f"{rel}: {textwrap.shorten(sentence, 80)}")
    assert not missing, "exercises missing from the student edition:\n" + "\n".join(missing)
    assert not leaked, "solutions in the student edition:\n" + "\n".join(leaked)
    title = page_text(student_edition / "index.html") if (student_edition / "index.html").exists() else ""
    assert "Student edition" in title or "Student edition" in page_text(
        student_edition / (notebook_chapters()[0].relative_to(ROOT).with_suffix(".html")))
