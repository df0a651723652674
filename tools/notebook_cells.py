"""Cell-level steps of a chapter's conversion to a notebook: gated solutions and glued values.

``tools/notebook_text.py`` converts each markdown cell on its own; what spans cells is done here,
once the whole notebook is converted:

* a gated solution (``solution-start`` ... ``solution-end``) may span markdown and code cells: the
  converter leaves :data:`SOLUTION_START`/:data:`SOLUTION_END` markers, and :func:`gate` turns
  them into collapsed ``<details>`` blocks and hidden code cells (teacher edition) or removes the
  solution whole (student edition);
* a glued value (``{glue:text}`name```) needs the executed notebook's value
  (:func:`glue_from_outputs`); in an unexecuted notebook the converter leaves a :func:`glue_marker`
  and :func:`resolve_glue_pointers` points it at the code cell that computes it.
"""

from __future__ import annotations

import re

from myst_tokens import MystConversionError

# Markers left in converted text (private-use characters, never in a chapter).
SOLUTION_START, SOLUTION_END = "\ue000SOLUTION-START\ue001", "\ue000SOLUTION-END\ue001"
_GLUE_MARK = re.compile("\ue002(?P<name>[^\ue003]+)\ue003")
# a call glue("name", ...) or glue(f"name_{key}", ...) in a code cell
_GLUE_CALL = re.compile(r"""\bglue\(\s*(?P<f>[fF]?)(?P<q>["'])(?P<name>.*?)(?P=q)""")


def glue_marker(name: str) -> str:
    """Where an unexecuted notebook's glued value ``name`` goes, until :func:`resolve_glue_pointers`."""
    return f"\ue002{name}\ue003"


def details(summary: str, lines: list[str]) -> list[str]:
    """A collapsed HTML block: ``<details>``, its ``<summary>``, the lines (blank ends trimmed)."""
    return ["<details>", f"<summary>{summary}</summary>", "", *trim(lines), "", "</details>"]


def trim(lines: list[str]) -> list[str]:
    """The lines without blank lines at the start and the end."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def gate(cells: list, *, student: bool, where: str = "") -> list:
    """Turn the solution markers into ``<details>`` (teacher) or remove the solutions (student).

    A gated solution (``solution-start`` ... ``solution-end``) may span cells: its markdown parts
    each become a collapsed ``<details>`` block, its code cells are tagged ``solution``, their input
    hidden in JupyterLab (``jupyter.source_hidden``) and folded under an ``@title`` in Colab
    (``cellView: form``). The student edition keeps none of it. ``where`` prefixes error messages.
    """
    out, solution = [], None
    for cell in cells:
        if cell.cell_type != "markdown":
            if solution is None:
                out.append(cell)
            elif not student:
                cell.source = f"# @title {solution} (double-click to show the code)\n" + cell.source
                cell.metadata.setdefault("tags", []).append("solution")
                cell.metadata["jupyter"] = {"source_hidden": True}
                cell.metadata["cellView"] = "form"
                out.append(cell)
            continue
        kept, solution = _gate_markdown(cell.source, solution, student, where)
        text = "\n".join(kept).strip()
        if text:
            cell.source = re.sub(r"\n{3,}", "\n\n", text)
            out.append(cell)
    if solution is not None:
        raise MystConversionError(f"{where}a solution-start has no matching solution-end")
    return out


def _gate_markdown(source: str, solution: str | None, student: bool, where: str) -> tuple[list[str], str | None]:
    """One markdown cell's lines with its solution parts collapsed (or removed), and the title of the
    solution still open at its end (None if none)."""
    kept, part, part_no = [], [], 0
    for line in source.split("\n") + [None]:
        if line is not None and line.startswith(SOLUTION_START):
            if solution is not None:
                raise MystConversionError(f"{where}a solution-start inside another solution")
            solution = line[len(SOLUTION_START):]
            continue
        ending = line == SOLUTION_END
        if solution is not None and (ending or line is None):
            text = "\n".join(part).strip()
            if text and not student:
                summary = solution if part_no == 0 else f"{solution} (continued)"
                kept += details(summary, text.split("\n"))
            part_no += 1 if text else 0
            part = []
            if ending:
                solution = None
            continue
        if line is None:
            continue
        if ending:
            raise MystConversionError(f"{where}a solution-end without a solution-start")
        (part if solution is not None else kept).append(line)
    return kept, solution


def glue_from_outputs(nb) -> dict:
    """The values myst-nb's ``glue`` recorded in an executed notebook's outputs."""
    glue = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            meta = output.get("metadata", {}).get("scrapbook")
            if meta:
                prefix = meta.get("mime_prefix", "")
                glue[meta["name"]] = {"data": {k[len(prefix):]: v for k, v in output.get("data", {}).items()}}
    return glue


def resolve_glue_pointers(cells: list) -> None:
    """In an unexecuted notebook, point each glued value at the code cell that computes it.

    Cells are counted 1-based among the code cells of the converted notebook; a name glued in an
    f-string (``glue(f"acc_{key}", ...)``) matches any value of its placeholders.
    """
    exact, patterns, number = {}, [], 0
    for cell in cells:
        if cell.cell_type != "code":
            continue
        number += 1
        for m in _GLUE_CALL.finditer(cell.source):
            name = m.group("name")
            if m.group("f"):
                parts = re.split(r"\{[^{}]*\}", name)
                patterns.append((re.compile(".+".join(map(re.escape, parts)) + "$"), number))
            else:
                exact.setdefault(name, number)

    def pointer(m):
        name = m.group("name")
        number = exact.get(name) or next((n for rx, n in patterns if rx.match(name)), None)
        where = f"code cell {number}" if number else "this chapter's code"
        return f"`{name}` (computed by {where})"

    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = _GLUE_MARK.sub(pointer, cell.source)
