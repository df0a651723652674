"""No function of the package or the tools is longer than about 80 lines of code (issue #27).

Docstrings do not count: a public function's numpydoc docstring (parameters, notes, a doctest) is
often most of it, and such a function says so in a comment after its docstring. What counts is
the body, from the first statement after the docstring to the last line.
"""

from __future__ import annotations

import ast

import pytest

from conftest import ROOT

MAX_BODY_LINES = 80
FILES = sorted([*(ROOT / "fairnotes").glob("*.py"), *(ROOT / "tools").glob("*.py")])


def body_lengths(source: str):
    """``(name, first line, body lines)`` of every function and method, the docstring left out."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            body = body[1:]
        if body:
            yield node.name, node.lineno, node.end_lineno - body[0].lineno + 1


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_function_body_over_80_lines(path):
    long = [f"{name} (line {line}): {n} lines" for name, line, n in body_lengths(path.read_text())
            if n > MAX_BODY_LINES]
    assert not long, f"{path.name}: split these into steps: " + "; ".join(long)


def test_the_count_leaves_the_docstring_out():
    source = 'def f():\n    """Doc.\n\n    More.\n    """\n    a = 1\n    return a\n\n\ndef g():\n    return 2\n'
    assert list(body_lengths(source)) == [("f", 1, 2), ("g", 10, 1)]
