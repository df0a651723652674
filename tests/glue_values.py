"""What the chapters glue into their prose (myst-nb's ``glue``), read from sources and executed notebooks.

House rule: a glued value is a number or a short label (at most a few words), never a sentence,
clause, verdict or list, and never Markdown (``glue(..., Markdown(...))``): prose is written by
hand. ``tests/test_glue.py`` checks the sources; ``tests/test_book_build.py`` the values of the
strict build's executed chapters.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from conftest import notebook_chapters  # noqa: F401  (re-exported for the tests)

GLUE_MIME = "application/papermill.record/text/plain"
_ROLE = re.compile(r"\{glue(?::(?:text|md|any)?)?\}`([^`:]+)(?::[^`]*)?`")


def inline_names(text: str) -> set[str]:
    """The names a chapter's markdown sets into its prose: ``{glue}``, ``{glue:text}``, ``{glue:md}``."""
    return {m.group(1).strip() for m in _ROLE.finditer(text)}


def _plain(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        try:
            return str(ast.literal_eval(value))
        except (ValueError, SyntaxError):
            return value[1:-1]
    return value


def glued_texts(nb_file: Path) -> dict[str, str]:
    """``{name: text}`` of every value an executed notebook glued (its text/markdown or text/plain form;
    a figure or an HTML table is left out), from its outputs and from the ``<name>.glue.json`` beside
    it, where myst-nb keeps them for the notebooks of ``_build/jupyter_execute``."""
    nb = json.loads(Path(nb_file).read_text())
    outputs = [o for cell in nb.get("cells", []) for o in (cell.get("outputs", []) or [])]
    beside = Path(nb_file).with_suffix(".glue.json")   # myst-nb moves the glue outputs of
    if beside.exists():                                 # _build/jupyter_execute/*.ipynb here
        outputs += list(json.loads(beside.read_text()).values())
    out = {}
    for output in outputs:
        name = ((output.get("metadata") or {}).get("scrapbook") or {}).get("name")
        data = output.get("data") or {}
        if not name or any(k.startswith("image/") for k in data) or "text/html" in data:
            continue
        for key in ("application/papermill.record/text/markdown", "text/markdown",
                    GLUE_MIME, "text/plain"):
            if key in data:
                value = data[key]
                out[name] = _plain("".join(value) if isinstance(value, list) else str(value))
                break
    return out


def short_enough(text: str, words: int, chars: int) -> bool:
    """At most ``words`` words and ``chars`` characters."""
    text = " ".join(text.split())
    return len(text.split()) <= words and len(text) <= chars


def markdown_glues(source: str) -> list[str]:
    """The ``glue(...)`` calls of a chapter's code whose value is Markdown (a ``Markdown(...)`` call,
    or a name bound to one): what the house rules forbid. Code that does not parse is read by a
    regular expression instead."""
    import jupytext

    nb = jupytext.reads(source, fmt="md:myst")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    code = "\n".join(l for l in code.splitlines() if not l.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [m.group(0) for m in re.finditer(r"glue\([^\n]*Markdown\(", code)]

    def is_markdown(node) -> bool:
        return isinstance(node, ast.Call) and (
            (isinstance(node.func, ast.Name) and node.func.id == "Markdown")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "Markdown"))

    bound = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and is_markdown(n.value)
             for t in n.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if not ((isinstance(f, ast.Name) and f.id == "glue") or (isinstance(f, ast.Attribute) and f.attr == "glue")):
            continue
        values = list(node.args[1:2]) + [k.value for k in node.keywords if k.arg in ("variable", "obj")]
        if any(is_markdown(v) or (isinstance(v, ast.Name) and v.id in bound) for v in values):
            found.append(ast.get_source_segment(code, node)[:120])
    return found


# A glue directive shows a value as a block: "```{glue:figure} name" or ":::{glue} name" (also
# {glue:any}, {glue:math}, {glue:md}), with the name as the directive's argument.
_DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\{glue(?::(?:figure|any|math|md|text))?\}[ \t]+([^\s`:]+)", re.M)


def displayed_names(text: str) -> set[str]:
    """Every name a chapter's markdown displays: the inline roles of :func:`inline_names` and the
    ``{glue}``/``{glue:figure}`` (etc.) directives, which show a glued figure or value as a block."""
    return inline_names(text) | {m.group(1).strip() for m in _DIRECTIVE.finditer(text)}


def _glue_functions(tree) -> set[str]:
    """``glue`` and the chapter's own functions that pass their first parameter to ``glue`` as the
    name (``def put(name, text): glue(name, text, display=False)``)."""
    functions = {"glue"}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef) or not node.args.args:
            continue
        first = node.args.args[0].arg
        for call in ast.walk(node):
            if (isinstance(call, ast.Call) and _called(call) == "glue" and call.args
                    and isinstance(call.args[0], ast.Name) and call.args[0].id == first):
                functions.add(node.name)
    return functions


def _called(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def glued_patterns(source: str) -> dict[str, re.Pattern]:
    """The names a chapter's code glues, read from its source: ``{shown name: pattern}``. A literal
    name is its own pattern; an f-string name (``f"acc_{model}"``) is a pattern whose formatted parts
    match any text, so a chapter displays it when it displays at least one name it matches (the
    executed notebook tells which names each loop actually glued)."""
    import jupytext

    nb = jupytext.reads(source, fmt="md:myst")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    code = "\n".join(l for l in code.splitlines() if not l.lstrip().startswith(("%", "!")))
    tree = ast.parse(code)
    functions = _glue_functions(tree)
    found = {}
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and _called(call) in functions and call.args):
            continue
        name = call.args[0]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            found[name.value] = re.compile(re.escape(name.value))
        elif isinstance(name, ast.JoinedStr):
            parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in name.values]
            found[ast.get_source_segment(code, name)] = re.compile("".join(parts))
    return found


def undisplayed(source: str, glued_names=None) -> list[str]:
    """The glued names a chapter never displays (in its prose or a glue directive): from its source
    (``glued_patterns``) and, when given, from the names its executed notebook glued."""
    shown = displayed_names(source)
    missing = [name for name, pattern in glued_patterns(source).items()
               if not any(pattern.fullmatch(s) for s in shown)]
    missing += sorted(set(glued_names or ()) - shown - set(missing))
    return missing


def glued_names(nb_file: Path) -> set[str]:
    """Every name an executed notebook glued (figures and tables included), from its outputs and the
    ``<name>.glue.json`` beside it."""
    nb = json.loads(Path(nb_file).read_text())
    outputs = [o for cell in nb.get("cells", []) for o in (cell.get("outputs", []) or [])]
    beside = Path(nb_file).with_suffix(".glue.json")
    if beside.exists():
        outputs += list(json.loads(beside.read_text()).values())
    return {name for o in outputs
            if (name := ((o.get("metadata") or {}).get("scrapbook") or {}).get("name"))}
