"""No chapter glues Markdown into its prose (a glued value is a number or a short label), and every
value a chapter glues is displayed.

The values themselves are checked on the strict build's executed chapters
(``tests/test_book_build.py::test_glued_values_are_numbers_and_short_labels``).
"""

from __future__ import annotations

import pytest

import glue_values
from conftest import notebook_chapters


#: The front matter of a MyST notebook chapter, for the examples below.
HEADER = '''---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# T
'''


@pytest.mark.parametrize("path", notebook_chapters(), ids=lambda p: p.stem)
def test_no_chapter_glues_markdown(path):
    found = glue_values.markdown_glues(path.read_text())
    assert not found, f"{path.name} glues Markdown (a sentence assembled by code): " + "; ".join(found)


@pytest.mark.parametrize("path", notebook_chapters(), ids=lambda p: p.stem)
def test_every_glued_value_is_displayed(path):
    """A chapter displays every value it glues: in its prose ({glue:text}, {glue}, {glue:md}) or as a
    block ({glue:figure} and the other glue directives); a glued value nobody reads is removed.
    Names built by an f-string in a loop count as displayed when the prose shows one of them."""
    missing = glue_values.undisplayed(path.read_text())
    assert not missing, f"{path.name} glues values it never displays: " + ", ".join(missing)


def test_the_undisplayed_check_catches_what_it_looks_for():
    source = HEADER + '''
```{code-cell} ipython3
from myst_nb import glue
def put(name, text):
    glue(name, text, display=False)
glue("shown", 1, display=False)
put("put_shown", "2")
glue("hidden", 3, display=False)
put("put_hidden", "4")
glue("fig", object())
for k in ("a", "b"):
    glue(f"acc_{k}", 0.5, display=False)
    glue(f"gap_{k}", 0.1, display=False)
```

Values {glue:text}`shown` and {glue}`put_shown`, accuracy {glue:text}`acc_a:.2f`.

```{glue:figure} fig
:name: fig-x

A figure.
```
'''
    assert glue_values.displayed_names(source) == {"shown", "put_shown", "acc_a", "fig"}
    assert glue_values.undisplayed(source) == ["hidden", "put_hidden", 'f"gap_{k}"']
    # the names an executed notebook glued add what a loop glued and the prose never shows
    executed = {"shown", "put_shown", "hidden", "put_hidden", "fig", "acc_a", "acc_b", "gap_a", "gap_b"}
    assert glue_values.undisplayed(source, executed) == ["hidden", "put_hidden", 'f"gap_{k}"', "acc_b",
                                                        "gap_a", "gap_b"]


def test_the_checks_catch_what_they_look_for():
    source = HEADER + '''
```{code-cell} ipython3
from IPython.display import Markdown
from myst_nb import glue
glue("a", Markdown("a **sentence**"), display=False)
line = Markdown("bound first")
glue("b", line, display=False)
glue("c", 0.83, display=False)
```

The value {glue:text}`c:.2f` and {glue:md}`a` and {glue}`b`.
'''
    assert len(glue_values.markdown_glues(source)) == 2
    assert glue_values.inline_names(source) == {"a", "b", "c"}
    assert glue_values.short_enough("0.835", 6, 60)
    assert glue_values.short_enough("non-White", 6, 60)
    assert not glue_values.short_enough("the gap narrows from 0.11 to 0.09 for Adult", 6, 60)
    assert not glue_values.short_enough("x" * 61, 6, 60)


def test_glued_texts_reads_an_executed_notebook(tmp_path):
    import json

    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "acc"}},
         "data": {glue_values.GLUE_MIME: "'0.83'", "text/plain": "'0.83'"}},
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "md"}},
         "data": {"text/markdown": "A sentence, assembled.", "text/plain": "<IPython.core.display.Markdown object>"}},
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "fig"}},
         "data": {"image/png": "...", "text/plain": "<Figure size 640x480>"}},
        {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "ignored"}}]}]}
    f = tmp_path / "x.ipynb"
    f.write_text(json.dumps(nb))
    assert glue_values.glued_texts(f) == {"acc": "0.83", "md": "A sentence, assembled."}
