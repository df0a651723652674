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

The work is shared by four modules of ``tools/``: ``myst_tokens`` finds the MyST constructs in
the markdown-it token stream (the parser and plugins the book's MyST uses); ``book_index`` holds
the project-wide facts a cross-reference needs (titles, labels, glossary terms, the bibliography),
a :class:`BookIndex` of the table of contents' pages; ``bibliography`` formats citations and
reference lists; ``notebook_cells`` gates solutions and resolves glued values across cells. This
module gives each role and directive its notebook form, and adds the Colab install cell.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import nbformat

from book_index import BookIndex, Reference, exercise_title, term_anchor
from myst_tokens import (Code, MystConversionError, Text, directive_name, inline_roles, roles,
                         segments, split_directive, tokens)
from notebook_cells import (SOLUTION_END, SOLUTION_START, details, gate, glue_from_outputs, glue_marker,
                            resolve_glue_pointers, trim)

__all__ = ["BookIndex", "MystConversionError", "term_anchor", "convert_notebook", "leftover_myst",
           "needs_gp", "colab_install_cell", "GP_MODULES", "GP_FUNCTIONS"]

# a role's "text <target>" body
_TITLED = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)

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
        parts.append(f"[{ctx.index.formatter.citation(entry, textual=textual)}](#ref-{key})")
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
        return glue_marker(key)
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


def _inline(ctx: _Context, text: str) -> str:
    """Replace every role of a piece of inline text (a directive's argument); code spans stay."""
    return _replace_roles(ctx, text, inline_roles(text))


def _replace_roles(ctx: _Context, source: str, found) -> str:
    out, pos = [], 0
    for r in found:
        out += [source[pos:r.start], _role(ctx, r.name, r.body)]
        pos = r.end
    return "".join(out) + source[pos:]


def _text_lines(ctx: _Context, text: Text) -> list[str]:
    """Convert a run of markdown: targets, comments, headings, labelled equations, roles."""
    lines = text.lines
    runs = {a: (b, spans) for a, b, spans in text.inlines}
    out, i = [], 0
    while i < len(lines):
        if i in runs:                    # a paragraph, heading, list item or table row with its roles
            if i in text.headings:
                ctx.heading_level = text.headings[i][0]
            b, spans = runs[i]
            source = "\n".join(lines[i:b])
            out += _replace_roles(ctx, source, roles(source, spans)).split("\n")
            i = b
            continue
        line = lines[i]
        if i in text.targets:
            out.append(f'<a id="{text.targets[i]}"></a>')
        elif i in text.equations:
            label = text.equations[i]
            number = ctx.index.labels[label].title.strip("()")
            cut = line.rstrip().rfind("$$")
            out += [line[:cut] + f"\\tag{{{number}}}$$", f'<a id="{ctx.index.labels[label].anchor}"></a>']
        elif i not in text.comments:
            out.append(line)
        i += 1
    return out


def _quote(lines: list[str], title: str | None) -> list[str]:
    body = ([f"**{title}**", ""] if title else []) + trim(lines)
    return [f"> {l}" if l.strip() else ">" for l in body]


def _directive(ctx: _Context, name: str, arg: str, body: list[str]) -> list[str]:
    options, content = split_directive(body)
    if name in ("exercise", "exercise-start"):
        ctx.exercise += 1
        level = min(ctx.heading_level + 1, 6)
        anchor = [f'<a id="{options["label"]}"></a>'] if "label" in options else []
        head = [*anchor, f"{'#' * level} {exercise_title(ctx.exercise, _inline(ctx, arg))}", ""]
        return head + _markdown(ctx, content)
    if name == "exercise-end":
        return []
    if name in ("solution", "solution-start"):
        label = arg.strip()
        ref = ctx.index.labels.get(label)
        title = f"Solution to {ref.title}" if ref else "Solution"
        if name == "solution-start":
            return [f"{SOLUTION_START}{title}"]
        if ctx.student:
            return []
        return details(title, _markdown(ctx, content))
    if name == "solution-end":
        return [SOLUTION_END]
    if name in ADMONITIONS:
        title = _inline(ctx, arg) if arg else ADMONITIONS[name]
        inner = _markdown(ctx, content)
        if name == "dropdown" or "dropdown" in options.get("class", "").split():
            return details(title or "Details", inner)
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
        return _markdown(ctx, out)
    if name in BOOK_ONLY:
        return []
    raise MystConversionError(f"{ctx.where()}the MyST directive {{{name}}} has no notebook form "
                              "(add it to tools/notebook_text.py)")


def _markdown(ctx: _Context, lines: list[str]) -> list[str]:
    out = []
    for part in segments(lines):
        if isinstance(part, Text):
            out += _text_lines(ctx, part)
        elif isinstance(part, Code):
            out += part.lines
        else:                            # a directive nested in a list item keeps its indentation
            pad = " " * part.indent
            out += [pad + line if line.strip() else line for line in _directive(ctx, part.name, part.arg, part.body)]
    return out


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
        glue = glue_from_outputs(nb) if executed else None
    ctx = _Context(doc, index, student, book_url, link_notebooks, glue, runtimes or {},
                   exercise=index.exercises_before.get(doc, 0))
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = "\n".join(_markdown(ctx, cell.source.split("\n")))
    cells = gate(nb.cells, student=student, where=ctx.where())
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
        resolve_glue_pointers(cells)
    nb.cells = cells
    nb.metadata.pop("jupytext", None)
    nb.metadata["fairnotes"] = {"page": doc, "edition": "student" if student else "teacher",
                                "executed": ctx.glue is not None}
    return nb


def leftover_myst(nb) -> list[str]:
    """Every MyST role, directive or target still in a notebook's markdown cells (code aside)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        for tok in _all_tokens(tokens(lines)):
            if directive_name(tok):
                found.append(f"cell {i}: directive {{{directive_name(tok)}}}")
            elif tok.type == "myst_role":
                found.append(f"cell {i}: role {{{tok.meta['name']}}}`")
            elif tok.type == "myst_target":
                found.append(f"cell {i}: target {lines[tok.map[0]].strip()}")
    return found


def _all_tokens(toks):
    for tok in toks:
        yield tok
        if tok.children:
            yield from _all_tokens(tok.children)
