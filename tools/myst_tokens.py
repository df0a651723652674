"""The book's MyST markdown as a markdown-it token stream: where its directives, roles, targets,
comments, headings and labelled equations are.

The parser is markdown-it-py with the mdit-py-plugins that MyST-Parser itself uses for the
extensions the book enables in ``_config.yml`` (MyST roles and blocks, colon fences, dollar maths
with labels, amsmath, definition lists, tables), so a construct counts as MyST here exactly when
the book's build reads it as one: a role inside an inline code span, a fenced code block or an
inline maths span is text, a ``(label)=`` target must stand on its own line, and so on.

The converters (``tools/notebook_text.py``) and the book's index (``tools/book_index.py``) rewrite
the *source* lines: the tokens say which lines a construct spans (their ``map``) and, for a role,
its name and text, and everything that is not a MyST construct is copied as it was written.
:func:`segments` splits a text into directives, plain code blocks and runs of markdown;
:func:`roles` finds the roles of a run of markdown; :func:`split_directive` reads a directive's
options.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import yaml


class MystConversionError(ValueError):
    """A MyST construct the converter cannot turn into notebook markdown."""


@functools.lru_cache(maxsize=1)
def parser():
    """The markdown-it parser with the book's MyST extensions (created once)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.amsmath import amsmath_plugin
    from mdit_py_plugins.colon_fence import colon_fence_plugin
    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.myst_blocks import myst_block_plugin
    from mdit_py_plugins.myst_role import myst_role_plugin

    return (MarkdownIt("commonmark").enable("table")
            .use(myst_block_plugin).use(myst_role_plugin).use(colon_fence_plugin)
            .use(dollarmath_plugin, allow_labels=True, allow_space=True, allow_digits=True, double_inline=True)
            .use(amsmath_plugin).use(deflist_plugin))


def tokens(lines: list[str]):
    """The block tokens of markdown lines (with their inline children)."""
    return parser().parse("\n".join(lines))


def directive_name(token) -> str | None:
    """The name of the directive a fence token opens (``{note}`` -> ``note``), or None for a code block."""
    if token.type not in ("fence", "colon_fence"):
        return None
    info = token.info.strip()
    if not info.startswith("{") or "}" not in info:
        return None
    name = info[1:info.index("}")]
    return name if name and not any(c.isspace() for c in name) else None


@dataclass
class Directive:
    """A MyST directive: ``name``, the argument after it and the body lines between the fences."""

    name: str
    arg: str
    body: list[str]
    start: int            # its first and past-the-last source lines
    end: int
    indent: int = 0       # the spaces before its fence (a directive nested in a list item)


@dataclass
class Text:
    """A run of markdown lines outside any fence, and what markdown-it found in it.

    ``targets`` (line -> label), ``comments`` (lines of ``%`` comments), ``headings`` (line ->
    level), ``equations`` (the closing line of a ``$$ ... $$ (label)`` block -> label) and
    ``inlines`` (the source lines ``(start, end)`` of each run of inline text, with its roles'
    names and code spans' backtick runs in order, see :func:`roles`), every line counted from the
    start of the run.
    """

    lines: list[str]
    targets: dict[int, str] = field(default_factory=dict)
    comments: set[int] = field(default_factory=set)
    headings: dict[int, tuple[int, str]] = field(default_factory=dict)
    equations: dict[int, str] = field(default_factory=dict)
    inlines: list[tuple[int, int, list[tuple[str, str]]]] = field(default_factory=list)


@dataclass
class Code:
    """A fenced code block (no directive): its lines, fences included, copied as they are."""

    lines: list[str]


def _fence_end(token, lines: list[str]) -> tuple[int, bool]:
    """The past-the-last line of a fence token and whether a closing fence ends it (an unclosed
    fence runs to the end of the text, as in CommonMark)."""
    start, end = token.map
    last = lines[end - 1].strip() if end - 1 > start else ""
    closed = bool(last) and set(last) == {token.markup[0]} and len(last) >= len(token.markup)
    return end, closed


def segments(lines: list[str]) -> list[Directive | Code | Text]:
    """Markdown lines as directives, plain code blocks and runs of text, in order.

    Fences split the text: those of the top level, and those nested in list items (indented, their
    body given without the indentation); a fence in a block quote stays in its text. A directive's
    own body is read when the directive is converted; text between fences keeps the tokens
    markdown-it found in it.
    """
    out: list = []
    text_start = 0
    toks = tokens(lines)
    fences = [t for t in toks if t.type in ("fence", "colon_fence") and t.map
              and lines[t.map[0]].lstrip(" ").startswith(t.markup)]
    for tok in fences:
        start = tok.map[0]
        end, closed = _fence_end(tok, lines)
        if start > text_start:
            out.append(_text(lines, text_start, start, toks))
        name = directive_name(tok)
        if name is None:
            out.append(Code(lines[start:end]))
        else:
            indent = len(lines[start]) - len(lines[start].lstrip(" "))
            body = [_dedent(line, indent) for line in lines[start + 1:end - 1 if closed else end]]
            out.append(Directive(name, tok.info.strip()[len(name) + 2:].strip(), body, start, end, indent))
        text_start = end
    if text_start < len(lines):
        out.append(_text(lines, text_start, len(lines), toks))
    return out


def _dedent(line: str, indent: int) -> str:
    """The line without up to ``indent`` leading spaces."""
    return line[min(indent, len(line) - len(line.lstrip(" "))):]


def _text(lines: list[str], start: int, end: int, toks) -> Text:
    """The run of lines ``start:end`` and the constructs of the tokens that begin in it."""
    text = Text(lines[start:end])
    heading = None
    for tok in toks:
        if tok.map is None or not start <= tok.map[0] < end:
            continue
        a, b = tok.map[0] - start, tok.map[1] - start
        if tok.type == "myst_target":
            text.targets[a] = tok.content
        elif tok.type == "myst_line_comment":
            text.comments.update(range(a, b))
        elif tok.type == "heading_open":
            heading = (a, int(tok.tag[1]))
        elif tok.type == "math_block_label":
            text.equations[b - 1] = tok.info
        elif tok.type == "inline":
            if heading is not None and heading[0] == a:
                text.headings[a] = (heading[1], tok.content)
            heading = None
            spans = _spans(tok)
            if text.inlines and a < text.inlines[-1][1]:    # the cells of one table row share its line
                prev_a, prev_b, prev_spans = text.inlines.pop()
                a, b, spans = prev_a, max(b, prev_b), prev_spans + spans
            text.inlines.append((a, b, spans))
    return text


def _spans(inline) -> list[tuple[str, str]]:
    """The roles (``("myst_role", name)``) and code spans (``("code_inline", backticks)``) of an
    inline token, in order."""
    return [(c.type, c.meta["name"] if c.type == "myst_role" else c.markup)
            for c in _walk(inline.children or []) if c.type in ("myst_role", "code_inline")]


def inline_roles(text: str) -> list["Role"]:
    """The roles of a piece of inline text (a directive's argument, say), located in it."""
    return roles(text, _spans(parser().parseInline(text)[0]))


def _walk(children):
    for c in children:
        yield c
        if c.children:
            yield from _walk(c.children)


def _tick_run(text: str, pos: int) -> int:
    """The length of the run of backticks starting at ``pos``."""
    n = 0
    while pos + n < len(text) and text[pos + n] == "`":
        n += 1
    return n


def _run_of(text: str, pos: int, ticks: int) -> int:
    """Where the first run of exactly ``ticks`` backticks at or after ``pos`` starts, or -1."""
    while True:
        i = text.find("`" * ticks, pos)
        if i < 0:
            return -1
        run = _tick_run(text, i)
        if run == ticks and (i == 0 or text[i - 1] != "`"):
            return i
        pos = i + run


@dataclass
class Role:
    """One role in a run of markdown source: ``name``, its ``body`` as written, and where it is."""

    name: str
    body: str
    start: int
    end: int


def roles(source: str, spans: list[tuple[str, str]]) -> list[Role]:
    """Locate in ``source`` (the lines of one inline run, joined) its roles and code spans, in
    the order markdown-it found them (``spans``, from :class:`Text`), and return the roles.

    A role is ``{name}``, a run of backticks, its body and the same run; a code span is a run of
    backticks, its text and the same run. Each is searched after the one before, so that the
    text of a code span (a role written in backticks, to show it) is never taken for a role.
    """
    out, pos = [], 0
    for kind, what in spans:
        if kind == "code_inline":
            opening = _run_of(source, pos, len(what))
            close = -1 if opening < 0 else _run_of(source, opening + len(what), len(what))
            if close < 0:
                raise MystConversionError(f"an inline code span ({what}) markdown-it found is not in the source")
            pos = close + len(what)
            continue
        start = source.find("{" + what + "}`", pos)
        if start < 0:
            raise MystConversionError(f"the role {{{what}}} markdown-it found is not in the source")
        ticks = _tick_run(source, start + len(what) + 2)
        body_start = start + len(what) + 2 + ticks
        close = _run_of(source, body_start, ticks)
        if close < 0:
            raise MystConversionError(f"the role {{{what}}} is not closed")
        out.append(Role(what, source[body_start:close], start, close + ticks))
        pos = close + ticks
    return out


def split_directive(body: list[str]) -> tuple[dict[str, str], list[str]]:
    """A directive's options (``:key: value`` lines or a ``---`` yaml block) and its content."""
    options: dict[str, str] = {}
    i = 0
    if body and body[0].strip() == "---":
        end = next((j for j in range(1, len(body)) if body[j].strip() == "---"), None)
        if end is None:
            raise MystConversionError("a directive's '---' options block is not closed")
        options = {k: str(v) for k, v in (yaml.safe_load("\n".join(body[1:end])) or {}).items()}
        i = end + 1
    else:
        while i < len(body) and _option_line(body[i]):
            key, _, value = body[i].strip()[1:].partition(":")
            options[key] = value.strip()
            i += 1
    return options, body[i:]


def _option_line(line: str) -> bool:
    """``:key: value``: a directive's option line (as MyST reads the lines at the top of a body)."""
    text = line.strip()
    if not text.startswith(":"):
        return False
    key, sep, _ = text[1:].partition(":")
    return bool(sep) and bool(key) and all(c.isalnum() or c in "_-" for c in key)
