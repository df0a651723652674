"""The book's chapters as notebooks that Jupyter, JupyterLab and Colab render.

A chapter is MyST markdown: its markdown cells hold roles (``{term}`...```, ``{glue:text}`...```,
``{footcite}`...```, ``{ref}`...```) and directives (exercises, solutions, admonitions,
``{footbibliography}``) that only Sphinx understands; opened as an ``.ipynb`` they show as literal
markup. :func:`convert_notebook` rewrites every markdown cell into plain (CommonMark/GFM + HTML)
markdown:

* ``{term}`` becomes its text, a link to the glossary page when the book's URL is known;
* ``{glue}``/``{glue:}``/``{glue:text}`` (with a format spec, ``{glue:text}`name:.2f```) become the
  glued value in an executed notebook, and in an unexecuted one the variable's name with the code
  cell that computes it;
* ``{footcite}``/``{cite}`` (and their ``:t``/``:p`` forms) become "(Author, year)" or
  "Author (year)", from ``book/references.bib``; ``{footbibliography}``/``{bibliography}`` become
  the list of the works cited (one is appended if a notebook cites but has no such directive);
* exercises become headings; solutions, in the teacher edition, collapsible ``<details>`` blocks
  (their code cells hidden in JupyterLab and folded in Colab); in the student edition they are gone,
  markdown and code alike;
* admonitions (``{note}``, ``{tip}``, ``{admonition}``, ... in backtick or colon fences) become block
  quotes, or ``<details>`` when the admonition is a dropdown;
* ``{ref}``, ``{doc}``, ``{numref}``, ``{eq}``, ``{prf:ref}`` become links to the target (in the
  same notebook, in a sibling notebook, or in the book online) or its title;
* MyST targets ``(label)=`` become HTML anchors; ``%`` comments are dropped.

A role or directive the converter does not know raises :class:`MystConversionError` naming it: a
new construct must be given a notebook form here, never leak into a notebook as markup.

The project-wide facts a cross-reference needs (titles, labels, glossary terms, the
bibliography) come from a :class:`BookIndex` of the table of contents' pages.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat
import yaml

from toc import ROOT, page_path, toc_files

# ``{name}`body``` roles, and inline code spans, which are left as they are
_INLINE = re.compile(
    r"\{(?P<name>[A-Za-z][\w.:+-]*)\}(?P<ticks>`+)(?P<body>.+?)(?<!`)(?P=ticks)(?!`)"
    r"|(?P<code>`+)", re.S)
# a fence opening a directive: ```{name} argument  or  :::{name} argument
_DIRECTIVE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[^}\s]+)\}\s*(?P<arg>.*?)\s*$")
# any other fence (a code block in markdown): its content is copied untouched
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_TARGET = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_TITLED = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
_EQ_LABEL = re.compile(r"\$\$\s*\((?P<label>[^()\s]+)\)\s*$")
_GLUE_CALL = re.compile(r"""\bglue\(\s*(?P<f>[fF]?)(?P<q>["'])(?P<name>.*?)(?P=q)""")

# Markers left in converted text and resolved once the whole notebook is converted (private-use
# characters, never in a chapter): where a gated solution starts (with its title) and ends, which
# _gate turns into <details> or removes; and a glued value of an unexecuted notebook, which
# _resolve_glue_pointers turns into a pointer at the code cell that computes it.
_SOL_START, _SOL_END = "\ue000SOLUTION-START\ue001", "\ue000SOLUTION-END\ue001"
_GLUE_MARK = re.compile("\ue002(?P<name>[^\ue003]+)\ue003")

ADMONITIONS = {
    "note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important", "warning": "Warning",
    "caution": "Caution", "attention": "Attention", "danger": "Danger", "error": "Error",
    "seealso": "See also", "admonition": "", "topic": "", "sidebar": "", "margin": "",
    "epigraph": "", "pull-quote": "", "highlights": "", "dropdown": "",
}
#: roles whose text is shown as code (Python objects, files, commands)
CODE_ROLES = {"code", "literal", "samp", "file", "command", "program", "envvar", "option", "kbd",
              "func", "class", "meth", "attr", "mod", "obj", "data", "exc", "const", "any"}
#: directives that only make sense in the built book (navigation, build tables)
BOOK_ONLY = {"tableofcontents", "toctree", "contents", "nb-exec-table"}


class MystConversionError(ValueError):
    """A MyST construct the converter cannot turn into notebook markdown."""


def _slug(text: str) -> str:
    """Sphinx's id for a term or label: ASCII letters, digits and hyphens (``sphinx.util.nodes``)."""
    import unicodedata

    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def term_anchor(term: str) -> str:
    """The HTML id Sphinx gives a glossary term (``Selection rate`` -> ``term-Selection-rate``)."""
    return "term-" + _slug(term)


def _strip_markup(title: str) -> str:
    """A heading's text without inline markup, for use as a link text."""
    return re.sub(r"[*_`]", "", title).strip()


def _split_directive(body: list[str]) -> tuple[dict[str, str], list[str]]:
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
        while i < len(body) and re.match(r"^\s*:[\w-]+:", body[i]):
            key, _, value = body[i].strip()[1:].partition(":")
            options[key] = value.strip()
            i += 1
    return options, body[i:]


def _blocks(lines: list[str]):
    """Split markdown lines into ("text", lines), ("code", lines) and ("directive", (name, arg, body)).

    Fences close as in CommonMark: on a line of only the opening fence's character, at least as
    many as opened it; a fence that never closes runs to the end of the text.
    """
    i, text = 0, []
    while i < len(lines):
        line = lines[i]
        m = _DIRECTIVE.match(line) or _FENCE.match(line)
        if not m:
            text.append(line)
            i += 1
            continue
        fence = m.group("fence")
        close = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if text:
            yield "text", text
            text = []
        if "name" in m.groupdict() and m.group("name"):
            yield "directive", (m.group("name"), m.group("arg"), lines[i + 1:j])
        else:
            yield "code", lines[i:j + 1]
        i = j + 1
    if text:
        yield "text", text


@dataclass
class Reference:
    """Where a label points: its page, the anchor there, and the text a link to it shows."""

    doc: str
    anchor: str
    title: str


@dataclass
class BookIndex:
    """What a cross-reference needs to know about the whole book.

    Built by :meth:`from_toc` from every page of ``_toc.yml``: the pages' titles, the MyST targets
    and exercise labels, the glossary's terms and page, the bibliography, and the MathJax macros
    of ``_config.yml``.
    """

    titles: dict[str, str] = field(default_factory=dict)
    labels: dict[str, Reference] = field(default_factory=dict)
    glossary_doc: str | None = None
    terms: set[str] = field(default_factory=set)
    bibliography: dict = field(default_factory=dict)
    macros: dict[str, str] = field(default_factory=dict)
    notebooks: set[str] = field(default_factory=set)
    status_doc: str | None = None
    exercises_before: dict[str, int] = field(default_factory=dict)
    exercise_count: int = 0
    _formatter: _Formatter | None = field(default=None, repr=False)

    @classmethod
    def from_toc(cls, root: Path = ROOT) -> "BookIndex":
        from toc import is_notebook_chapter

        index = cls()
        config = yaml.safe_load((root / "_config.yml").read_text())
        sphinx_config = (config.get("sphinx") or {}).get("config") or {}
        macros = (((sphinx_config.get("mathjax3_config") or {}).get("tex") or {}).get("macros") or {})
        index.macros = {k: v if isinstance(v, str) else v[0] for k, v in macros.items()}
        for bib in config.get("bibtex_bibfiles") or []:
            index.bibliography.update(_read_bib(root / bib))
        for entry in toc_files(root / "_toc.yml"):
            path = page_path(entry, root)
            doc = entry.removesuffix(".md")
            if not path.exists():
                continue
            if is_notebook_chapter(path):
                index.notebooks.add(doc)
            index._scan(doc, path.read_text())
        return index

    def _scan(self, doc: str, text: str) -> None:
        lines = text.split("\n")
        if text.startswith("---"):  # front matter
            end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
            lines = lines[end + 1:]
        # exercises and figures are numbered within their chapter (_ext/exercise_numbers.py)
        self.exercises_before[doc] = 0
        pending, equations, exercises, figures = None, 0, 0, 0
        for kind, block in _blocks(lines):
            if kind == "text":
                for line in block:
                    eq = _EQ_LABEL.search(line)
                    if eq:
                        equations += 1
                        self.labels[eq.group("label")] = Reference(doc, "equation-" + eq.group("label"), f"({equations})")
                    target, heading = _TARGET.match(line), _HEADING.match(line)
                    if target:
                        pending = target.group("label")
                    elif heading:
                        title = _strip_markup(heading.group("title"))
                        self.titles.setdefault(doc, title)
                        if pending:
                            self.labels[pending] = Reference(doc, pending, title)
                        pending = None
                    elif line.strip():
                        pending = None
            elif kind == "directive":
                name, arg, body = block
                options, content = _split_directive(body)
                if name in ("exercise", "exercise-start"):
                    self.exercise_count += 1
                    exercises += 1
                    if "label" in options:
                        title = _exercise_title(exercises, _strip_markup(arg))
                        self.labels[options["label"]] = Reference(doc, options["label"], title)
                elif name == "code-cell" and _cell_figure(body) is not None:
                    figures += 1           # a figure from a cell's myst-nb metadata (mystnb.figure)
                    label = _cell_figure(body).get("name")
                    if label:
                        self.labels[str(label)] = Reference(doc, str(label), f"Figure {figures}")
                elif name in ("figure", "glue:figure"):
                    figures += 1
                    label = options.get("name")
                    if label:
                        self.labels[label] = Reference(doc, label, f"Figure {figures}")
                elif name in ("exec-status", "nb-exec-table"):
                    self.status_doc = doc
                elif name == "math" and options.get("label"):
                    equations += 1
                    self.labels[options["label"]] = Reference(doc, "equation-" + options["label"], f"({equations})")
                elif name == "glossary":
                    self.glossary_doc = doc
                    self.terms.update(l.strip() for l in content if l.strip() and not l[0].isspace())
                elif name not in ("solution", "solution-start") and (options.get("label") or options.get("name")):
                    label = options.get("label") or options["name"]
                    self.labels[label] = Reference(doc, label, _strip_markup(arg) or label)

    @property
    def formatter(self) -> _Formatter:
        if self._formatter is None:
            self._formatter = _Formatter()
        return self._formatter

    def url(self, doc: str, anchor: str | None, book_url: str | None) -> str | None:
        """The page of ``doc`` in the book online, or None when the book's URL is unknown."""
        if not book_url:
            return None
        return f"{book_url.rstrip('/')}/{doc}.html" + (f"#{anchor}" if anchor else "")


def _cell_figure(body: list[str]) -> dict | None:
    """The ``mystnb: figure:`` metadata of a code cell's ``---`` block, or None."""
    if not body or body[0].strip() != "---":
        return None
    end = next((j for j in range(1, len(body)) if body[j].strip() == "---"), None)
    if end is None:
        return None
    try:
        meta = yaml.safe_load("\n".join(body[1:end])) or {}
    except yaml.YAMLError:
        return None
    figure = (meta.get("mystnb") or {}).get("figure") if isinstance(meta, dict) else None
    return figure if isinstance(figure, dict) else None


def _exercise_title(number: int, title: str) -> str:
    return f"Exercise {number}" + (f" ({title})" if title else "")


def _read_bib(path: Path) -> dict:
    """The entries of a BibTeX file, keyed by citation key (pybtex, which sphinxcontrib-bibtex uses)."""
    from pybtex.database import parse_file

    return dict(parse_file(str(path)).entries)


class _Formatter:
    """pybtex's plain style and its text and markdown back ends, created once (each lookup of a
    pybtex plugin by name scans the installed packages' entry points)."""

    def __init__(self):
        from pybtex.backends.markdown import Backend as Markdown
        from pybtex.backends.plaintext import Backend as Plain
        from pybtex.style.formatting.plain import Style

        self.style, self.plain, self.markdown = Style(), Plain(), Markdown()

    def latex_text(self, text: str) -> str:
        from pybtex.richtext import Text

        return Text.from_latex(text).render(self.plain)

    def authors(self, entry) -> str:
        """"Kohavi", "Maughan and Near", "Ngong et al.": the author part of an author-year citation."""
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [self.latex_text(" ".join(p.prelast_names + p.last_names)) for p in people]
        if not names:
            return self.latex_text(entry.fields.get("organization", entry.fields.get("title", "Anonymous")))
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            return f"{names[0]} and {names[1]}"
        return f"{names[0]} et al."

    def reference(self, key: str, entry) -> str:
        """One entry of the reference list, formatted by pybtex's plain style, as markdown."""
        formatted = self.style.format_entry(key, entry).text.render(self.markdown)
        return " ".join(part.strip() for part in formatted.split("\n") if part.strip())


@dataclass
class _Context:
    """The state of one notebook's conversion."""

    doc: str
    index: BookIndex
    student: bool
    book_url: str | None
    link_notebooks: bool
    glue: dict | None
    runtimes: dict[str, str]
    cited: list[str] = field(default_factory=list)
    listed: set[str] = field(default_factory=set)
    exercise: int = 0
    heading_level: int = 1
    solution: str | None = None  # the title of the solution being converted

    def where(self) -> str:
        """The prefix of an error message: the page being converted."""
        return f"{self.doc}: "


def _link(text: str, url: str | None) -> str:
    return f"[{text}]({url})" if url else text


def _ref_link(ctx: _Context, ref: Reference, text: str | None = None) -> str:
    """A link to a label: in this notebook, a sibling notebook, or the book online; else the title."""
    text = text or ref.title
    if ref.doc == ctx.doc:
        return f"[{text}](#{ref.anchor})"
    url = ctx.index.url(ref.doc, ref.anchor, ctx.book_url)
    if url is None and ctx.link_notebooks and ref.doc in ctx.index.notebooks:
        rel = PurePosixPath(ref.doc).relative_to(PurePosixPath(ctx.doc).parent)
        url = f"{rel}.ipynb" + (f"#{ref.anchor}" if ref.anchor else "")
    return _link(text, url) if url else f"*{text}*"


def _doc_link(ctx: _Context, target: str, text: str | None) -> str:
    doc = str(PurePosixPath(ctx.doc).parent / target) if not target.startswith("/") else target.lstrip("/")
    doc = re.sub(r"\.(md|ipynb)$", "", doc)
    if doc not in ctx.index.titles:
        raise MystConversionError(f"{ctx.where()}{{doc}}`{target}` names no page of the table of contents")
    return _ref_link(ctx, Reference(doc, "", text or ctx.index.titles[doc]))


def _cite(ctx: _Context, name: str, body: str) -> str:
    """``{footcite}``/``{cite}`` as "(Author, year; ...)"; the textual forms (``:t``, ``:ts``) as
    "Author (year)". Each citation links to its entry in the notebook's reference list."""
    textual = name.partition(":")[2].startswith("t")
    parts = []
    for key in (k.strip() for k in body.split(",") if k.strip()):
        entry = ctx.index.bibliography.get(key)
        if entry is None:
            raise MystConversionError(f"{ctx.where()}citation key {key!r} is not in the bibliography")
        if key not in ctx.cited:
            ctx.cited.append(key)
        year = entry.fields.get("year", "n.d.")
        authors = ctx.index.formatter.authors(entry)
        shown = f"{authors} ({year})" if textual else f"{authors}, {year}"
        parts.append(f"[{shown}](#ref-{key})")
    return ", ".join(parts) if textual else "(" + "; ".join(parts) + ")"


def _reference_list(ctx: _Context, keys: list[str]) -> str:
    lines = []
    for key in keys:
        ctx.listed.add(key)
        lines.append(f'- <a id="ref-{key}"></a>{ctx.index.formatter.reference(key, ctx.index.bibliography[key])}')
    return "\n".join(lines)


def _glue_text(ctx: _Context, name: str, body: str) -> str:
    """The glued value, formatted as myst-nb formats it; a marker resolved later if unexecuted."""
    key, fmt = (body.rsplit(":", 1) + [""])[:2] if name == "glue:text" else (body, "")
    if "::" in key:  # glued in another page
        doc, key = key.split("::", 1)
        return f"`{key}` (computed in {_doc_link(ctx, doc, None)})"
    if ctx.glue is None:
        return f"\ue002{key}\ue003"
    if key not in ctx.glue:
        raise MystConversionError(f"{ctx.where()}the executed notebook glues no value named {key!r}")
    data = ctx.glue[key].get("data", {})
    if name == "glue:md":
        if "text/markdown" not in data:
            raise MystConversionError(f"{ctx.where()}the glued value {key!r} has no text/markdown form")
        return "".join(data["text/markdown"])
    if name != "glue:text":
        for mime in ("image/png", "image/jpeg"):
            if mime in data:
                return f'<img src="data:{mime};base64,{"".join(data[mime]).strip()}" alt="{key}">'
        if "text/markdown" in data:
            return "".join(data["text/markdown"])
        if "text/latex" in data:
            return "".join(data["text/latex"])
    if "text/plain" not in data:
        raise MystConversionError(f"{ctx.where()}the glued value {key!r} has no text/plain form")
    from myst_nb.core.variables import format_plain_text

    return format_plain_text("".join(data["text/plain"]), fmt or "s")


def _role(ctx: _Context, name: str, body: str) -> str:
    titled = _TITLED.match(body)
    text, target = (titled.group("text"), titled.group("target")) if titled else (None, body)
    text = " ".join(text.split()) if text else None
    target = " ".join(target.split())
    if name == "term":
        shown = text or target
        if ctx.index.glossary_doc and ctx.book_url:
            return _link(shown, ctx.index.url(ctx.index.glossary_doc, term_anchor(target), ctx.book_url))
        return shown
    if name in ("glue", "glue:", "glue:any", "glue:text", "glue:md"):
        return _glue_text(ctx, name, body.strip())
    if name.startswith(("footcite", "cite")):
        return _cite(ctx, name, body)
    if name in ("ref", "numref", "prf:ref", "eq"):
        ref = ctx.index.labels.get(target)
        if ref is None:
            raise MystConversionError(f"{ctx.where()}{{{name}}}`{body}`: no such label in the book")
        if name == "eq" and ref.doc != ctx.doc:
            text = f"{ref.title} of {ctx.index.titles.get(ref.doc, ref.doc)}"
        if name == "numref" and text:
            text = text.replace("{number}", ref.title).replace("%s", ref.title)
        return _ref_link(ctx, ref, text)
    if name == "doc":
        return _doc_link(ctx, target, text)
    if name == "exec-runtime":
        page = ctx.doc if target == "self" else target
        if page in ctx.runtimes:
            return ctx.runtimes[page]
        if ctx.index.status_doc:
            return f"the time listed in {_doc_link(ctx, '/' + ctx.index.status_doc, None)}"
        return "the time the book's build measured"
    if name == "math":
        return f"${body}$"
    if name in ("sub", "sup"):
        return f"<{name}>{html.escape(body)}</{name}>"
    if name == "abbr":
        return re.sub(r"\s*\(.*\)\s*$", "", body)
    if name in ("index", "guilabel", "menuselection", "download"):
        return text or target
    if name.split(":")[-1] in CODE_ROLES:
        return f"`{(text or target).lstrip('~')}`"
    raise MystConversionError(f"{ctx.where()}the MyST role {{{name}}} has no notebook form "
                              "(add it to tools/notebook_text.py)")


def _tokens(text: str):
    """The roles and the rest of a run of markdown text, in order: ("role", match) or ("text", str).

    Inline code spans are text: a role written inside backticks is shown, not interpreted.
    """
    pos = 0
    while True:
        m = _INLINE.search(text, pos)
        if not m:
            yield "text", text[pos:]
            return
        if m.group("code"):
            close = re.compile(r"(?<!`)" + m.group("code") + r"(?!`)").search(text, m.end())
            end = close.end() if close else m.end()
            yield "text", text[pos:end]
        else:
            yield "text", text[pos:m.start()]
            yield "role", m
            end = m.end()
        pos = end


def _roles(text: str) -> list[str]:
    """The names of the roles in a run of markdown text."""
    return [m.group("name") for kind, m in _tokens(text) if kind == "role"]


def _inline(ctx: _Context, text: str) -> str:
    """Replace every role in a run of markdown text; inline code spans stay as written."""
    return "".join(_role(ctx, tok.group("name"), tok.group("body")) if kind == "role" else tok
                   for kind, tok in _tokens(text))


def _text_lines(ctx: _Context, lines: list[str]) -> list[str]:
    """Convert plain markdown lines: targets, comments, headings, labelled equations, roles."""
    out = []
    for line in lines:
        target = _TARGET.match(line)
        if target:
            out.append(f'<a id="{target.group("label")}"></a>')
            continue
        if line.startswith("%"):
            continue
        heading = _HEADING.match(line)
        if heading:
            ctx.heading_level = len(heading.group("hashes"))
        eq = _EQ_LABEL.search(line)
        if eq:
            label = eq.group("label")
            number = ctx.index.labels[label].title.strip("()")
            out += [line[:eq.start()] + f"\\tag{{{number}}}$$", f'<a id="{ctx.index.labels[label].anchor}"></a>']
            continue
        out.append(line)
    return _inline(ctx, "\n".join(out)).split("\n")


def _trim(lines: list[str]) -> list[str]:
    """The lines without blank lines at the start and the end."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _quote(lines: list[str], title: str | None) -> list[str]:
    body = ([f"**{title}**", ""] if title else []) + _trim(lines)
    return [f"> {l}" if l.strip() else ">" for l in body]


def _details(summary: str, lines: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *_trim(lines), "", "</details>"]


def _directive(ctx: _Context, name: str, arg: str, body: list[str]) -> list[str]:
    options, content = _split_directive(body)
    if name in ("exercise", "exercise-start"):
        ctx.exercise += 1
        level = min(ctx.heading_level + 1, 6)
        anchor = [f'<a id="{options["label"]}"></a>'] if "label" in options else []
        head = [*anchor, f"{'#' * level} {_exercise_title(ctx.exercise, _inline(ctx, arg))}", ""]
        return head + _markdown(ctx, content)
    if name == "exercise-end":
        return []
    if name in ("solution", "solution-start"):
        label = arg.strip()
        ref = ctx.index.labels.get(label)
        title = f"Solution to {ref.title}" if ref else "Solution"
        if name == "solution-start":
            return [f"{_SOL_START}{title}"]
        if ctx.student:
            return []
        return _details(title, _markdown(ctx, content))
    if name == "solution-end":
        return [_SOL_END]
    if name in ADMONITIONS:
        title = _inline(ctx, arg) if arg else ADMONITIONS[name]
        inner = _markdown(ctx, content)
        if name == "dropdown" or "dropdown" in options.get("class", "").split():
            return _details(title or "Details", inner)
        return _quote(inner, title)
    if name == "footbibliography":
        keys = [k for k in ctx.cited if k not in ctx.listed]
        return _reference_list(ctx, keys).split("\n") if keys else []
    if name == "bibliography":
        keys = list(ctx.index.bibliography) if "all" in options else list(ctx.cited)
        return _reference_list(ctx, keys).split("\n")
    if name == "math":
        label = options.get("label")
        if not label:
            return ["$$", *content, "$$"]
        number = ctx.index.labels[label].title.strip("()")
        return [f'<a id="{ctx.index.labels[label].anchor}"></a>', "$$", *content, f"\\tag{{{number}}}", "$$"]
    if name in ("code", "code-block", "sourcecode"):
        return [f"```{arg}", *content, "```"]
    if name in ("figure", "image"):
        caption = _markdown(ctx, content) if name == "figure" else []
        return [f"![{options.get('alt', '')}]({arg})", "", *[f"*{l}*" if l.strip() else l for l in caption]]
    if name in ("glue", "glue:", "glue:any", "glue:figure", "glue:md", "glue:math"):
        value = _glue_text(ctx, "glue:md" if name == "glue:md" else "glue", arg)
        value = f"$$\n{value.strip('$')}\n$$" if name == "glue:math" and ctx.glue is not None else value
        return [value, "", *_markdown(ctx, content)]
    if name == "glossary":
        out = []
        for line in content:
            if line.strip() and not line[0].isspace():
                out += ["", f'<a id="{term_anchor(line.strip())}"></a>**{line.strip()}**', ""]
            else:
                out.append(line.strip())
        return _text_lines(ctx, out)
    if name in BOOK_ONLY:
        return []
    raise MystConversionError(f"{ctx.where()}the MyST directive {{{name}}} has no notebook form "
                              "(add it to tools/notebook_text.py)")


def _markdown(ctx: _Context, lines: list[str]) -> list[str]:
    out = []
    for kind, block in _blocks(lines):
        if kind == "text":
            out += _text_lines(ctx, block)
        elif kind == "code":
            out += block
        else:
            out += _directive(ctx, *block)
    return out


def _gate(ctx: _Context, cells: list) -> list:
    """Turn the solution markers into ``<details>`` (teacher) or remove the solutions (student).

    A gated solution (``solution-start`` ... ``solution-end``) may span cells: its markdown parts
    each become a collapsed ``<details>`` block, its code cells are tagged ``solution``, their input
    hidden in JupyterLab (``jupyter.source_hidden``) and folded under an ``@title`` in Colab
    (``cellView: form``). The student edition keeps none of it.
    """
    out = []
    for cell in cells:
        if cell.cell_type != "markdown":
            if ctx.solution is None:
                out.append(cell)
            elif not ctx.student:
                cell.source = f"# @title {ctx.solution} (double-click to show the code)\n" + cell.source
                cell.metadata.setdefault("tags", []).append("solution")
                cell.metadata["jupyter"] = {"source_hidden": True}
                cell.metadata["cellView"] = "form"
                out.append(cell)
            continue
        kept, part, part_no = [], [], 0
        for line in cell.source.split("\n") + [None]:
            if line is not None and line.startswith(_SOL_START):
                if ctx.solution is not None:
                    raise MystConversionError(f"{ctx.where()}a solution-start inside another solution")
                ctx.solution = line[len(_SOL_START):]
                continue
            ending = line == _SOL_END
            if ctx.solution is not None and (ending or line is None):
                text = "\n".join(part).strip()
                if text and not ctx.student:
                    summary = ctx.solution if part_no == 0 else f"{ctx.solution} (continued)"
                    kept += _details(summary, text.split("\n"))
                part_no += 1 if text else 0
                part = []
                if ending:
                    ctx.solution = None
                continue
            if line is None:
                continue
            if ending:
                raise MystConversionError(f"{ctx.where()}a solution-end without a solution-start")
            (part if ctx.solution is not None else kept).append(line)
        text = "\n".join(kept).strip()
        if text:
            cell.source = re.sub(r"\n{3,}", "\n\n", text)
            out.append(cell)
    if ctx.solution is not None:
        raise MystConversionError(f"{ctx.where()}a solution-start has no matching solution-end")
    return out


def _glue_from_outputs(nb) -> dict:
    """The values myst-nb's ``glue`` recorded in an executed notebook's outputs."""
    glue = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            meta = output.get("metadata", {}).get("scrapbook")
            if meta:
                prefix = meta.get("mime_prefix", "")
                glue[meta["name"]] = {"data": {k[len(prefix):]: v for k, v in output.get("data", {}).items()}}
    return glue


def _resolve_glue_pointers(cells: list) -> None:
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


#: What the extra ``fairnotes[gp]`` brings, and the package's functions that import
#: :mod:`fairnotes.fairgp` inside (``tests/test_colab_install.py`` keeps the list complete).
GP_MODULES = ("gpflow", "tensorflow", "tensorflow_probability", "tf_keras", "fairnotes.fairgp")
GP_FUNCTIONS = frozenset({"fit_fairgp"})


def needs_gp(nb) -> bool:
    """Whether a chapter's code needs TensorFlow and GPflow: it imports them or :mod:`fairnotes.fairgp`
    (``from fairnotes import fairgp`` too) or calls a function of :data:`GP_FUNCTIONS`.

    GPflow 2.11 needs numpy<2; Colab has numpy 2, so such a chapter's install cell replaces numpy
    and the session must restart once. The other chapters install without it."""
    import ast

    def gp_module(name):
        return any(name == m or name.startswith(m + ".") for m in GP_MODULES)

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        # IPython's magics and shell escapes are not Python
        source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.split("\n"))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import) and any(gp_module(a.name) for a in node.names):
                return True
            if isinstance(node, ast.ImportFrom) and node.module and (
                    gp_module(node.module) or any(gp_module(f"{node.module}.{a.name}") for a in node.names)):
                return True
            if (isinstance(node, ast.Name) and node.id in GP_FUNCTIONS) or (
                    isinstance(node, ast.Attribute) and node.attr in GP_FUNCTIONS):
                return True
    return False


#: What the GP chapters' install cell says before it installs (and the exception that stops "Run all").
GP_RESTART_NOTE = ("This chapter uses Gaussian processes. GPflow 2.11 needs numpy<2 and Colab has numpy 2, so "
                   "installing fairnotes[gp] replaces numpy: afterwards restart the session once "
                   "(Runtime > Restart session) and run the notebook again from the top.")
GP_RESTART_NOW = ("Installed. Now restart the session (Runtime > Restart session) and run the notebook again "
                  "from the top; this cell will then find everything installed and do nothing.")


def _call(opening: str, text: str, closing: str, width: int = 96) -> str:
    """``opening`` + the string ``text`` as adjacent literals of at most ``width`` columns + ``closing``."""
    indent, pieces, line = " " * len(opening), [], ""
    for word in text.split(" "):
        if line and len(indent) + len(line) + len(word) + 3 > width:
            pieces.append(line)
            line = ""
        line += word + " "
    pieces.append(line.rstrip())
    literals = [repr(piece) for piece in pieces]
    return opening + ("\n" + indent).join(literals) + closing


def colab_install_cell(repo_url: str, ref: str | None = None, *, gp: bool = False):
    """A hidden first cell that, in Google Colab only, installs fairnotes from its repository.

    Colab has neither fairnotes nor myst-nb (whose ``glue`` the chapters call); elsewhere (Binder,
    a local Jupyter) the environment comes from ``requirements.txt`` and the cell does nothing.
    The cell installs only what its chapter needs: ``fairnotes[torch,plots]``, which keeps Colab's
    numpy 2 (no restart), and with ``gp`` (a chapter with Gaussian processes, :func:`needs_gp`)
    ``fairnotes[torch,gp,plots]``, which brings numpy<2: the cell says so before it installs, then
    stops the notebook and asks for one restart. Run again, it finds everything installed and does
    nothing.
    """
    from importlib.metadata import version

    target = f"git+{repo_url.rstrip('/')}" + (f"@{ref}" if ref else "")
    extras = "torch,gp,plots" if gp else "torch,plots"
    modules = ["fairnotes", "myst_nb", "gpflow"] if gp else ["fairnotes", "myst_nb"]
    pip = [
        "    subprocess.check_call([sys.executable, \"-m\", \"pip\", \"install\", \"--quiet\",",
        f'                           "fairnotes[{extras}] @ {target}", "myst-nb=={version("myst-nb")}"])',
    ]
    if gp:
        lines = [
            "# @title Install fairnotes with GPflow (only in Google Colab; then restart the session once)",
            "import importlib.util, subprocess, sys",
            f"missing = [m for m in {modules!r} if importlib.util.find_spec(m) is None]",
            'if "google.colab" in sys.modules and missing:',
            _call("    print(", GP_RESTART_NOTE, ", flush=True)"),
            *pip,
            _call("    raise RuntimeError(", GP_RESTART_NOW, ")"),
        ]
    else:
        lines = [
            "# @title Install fairnotes (only when this notebook runs in Google Colab; no restart needed)",
            "import importlib.util, subprocess, sys",
            f"missing = [m for m in {modules!r} if importlib.util.find_spec(m) is None]",
            'if "google.colab" in sys.modules and missing:',
            *pip,
        ]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata.update({"tags": ["colab-install"], "cellView": "form", "jupyter": {"source_hidden": True}})
    return cell


def convert_notebook(nb, doc: str, index: BookIndex, *, student: bool = False, glue: dict | None = None,
                     book_url: str | None = None, repo_url: str | None = None, repo_ref: str | None = None,
                     link_notebooks: bool = False, runtimes: dict[str, str] | None = None):
    """A copy of chapter notebook ``nb`` (page ``doc`` of the book, e.g. ``"book/data"``) in plain markdown.

    ``glue``: the glued values of the executed chapter (myst-nb's ``<page>.glue.json``); if None
    they are read from the notebook's outputs, and a notebook without outputs is unexecuted (its
    glued values become pointers to the cells that compute them). ``student`` leaves every
    solution out. ``book_url`` (the published book) makes glossary terms and cross-references
    links to it; ``link_notebooks`` links other chapters as sibling ``.ipynb`` files instead.
    ``repo_url`` adds the hidden first cell that installs fairnotes in Colab. ``runtimes`` (page
    -> text such as "14 s") fills ``{exec-runtime}`` roles; without it they point at the book's
    execution status page.
    """
    nb = copy.deepcopy(nb)
    if glue is None:
        executed = any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
        glue = _glue_from_outputs(nb) if executed else None
    ctx = _Context(doc, index, student, book_url, link_notebooks, glue, runtimes or {},
                   exercise=index.exercises_before.get(doc, 0))
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = "\n".join(_markdown(ctx, cell.source.split("\n")))
    cells = _gate(ctx, nb.cells)
    missing = [k for k in ctx.cited if k not in ctx.listed]
    if missing:  # cited, but the chapter has no (foot)bibliography after the citation
        cells.append(nbformat.v4.new_markdown_cell("## References\n\n" + _reference_list(ctx, missing)))
    used = [m for m in index.macros if any(re.search(r"\\" + m + r"(?![A-Za-z])", c.source)
                                            for c in cells if c.cell_type == "markdown")]
    if used:
        defs = " ".join(f"\\newcommand{{\\{m}}}{{{index.macros[m]}}}" for m in used)
        cells.insert(0, nbformat.v4.new_markdown_cell(f"${defs}$"))
    if repo_url:
        cells.insert(0, colab_install_cell(repo_url, repo_ref, gp=needs_gp(nb)))
    if ctx.glue is None:
        _resolve_glue_pointers(cells)
    nb.cells = cells
    nb.metadata.pop("jupytext", None)
    nb.metadata["fairnotes"] = {"page": doc, "edition": "student" if student else "teacher",
                                "executed": ctx.glue is not None}
    return nb


def leftover_myst(nb) -> list[str]:
    """Every MyST role or directive fence still in a notebook's markdown cells (code blocks aside)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for kind, block in _blocks(cell.source.split("\n")):
            if kind == "directive":
                found.append(f"cell {i}: directive {{{block[0]}}}")
            elif kind == "text":
                found += [f"cell {i}: role {{{name}}}`" for name in _roles("\n".join(block))]
                found += [f"cell {i}: target {l.strip()}" for l in block if _TARGET.match(l)]
    return found
