"""What a cross-reference needs to know about the whole book: titles, labels, terms, references.

:meth:`BookIndex.from_toc` reads every page of ``_toc.yml`` once (through the MyST token stream of
``tools/myst_tokens.py``): the pages' titles, the MyST targets of headings, the labels of
exercises, figures and equations (numbered within their chapter, as ``_ext/exercise_numbers.py``
numbers them in the book), the glossary's terms, the bibliography and the MathJax macros of
``_config.yml``. ``tools/notebook_text.py`` turns ``{ref}``, ``{numref}``, ``{eq}``, ``{doc}``,
``{term}`` and citations into links and text with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bibliography import Formatter, read_bib
from myst_tokens import Directive, Text, segments, split_directive
from toc import ROOT, page_path, toc_files


def _slug(text: str) -> str:
    """Sphinx's id for a term or label: ASCII letters, digits and hyphens (``sphinx.util.nodes``)."""
    import unicodedata

    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def term_anchor(term: str) -> str:
    """The HTML id Sphinx gives a glossary term (``Selection rate`` -> ``term-Selection-rate``)."""
    return "term-" + _slug(term)


def strip_markup(title: str) -> str:
    """A heading's text without inline markup, for use as a link text."""
    return re.sub(r"[*_`]", "", title).strip()


def exercise_title(number: int, title: str) -> str:
    """"Exercise 3" or "Exercise 3 (its title)", as the book numbers exercises."""
    return f"Exercise {number}" + (f" ({title})" if title else "")


def cell_figure(body: list[str]) -> dict | None:
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


@dataclass
class Reference:
    """Where a label points: its page, the anchor there, and the text a link to it shows."""

    doc: str
    anchor: str
    title: str


@dataclass
class _Counts:
    """What is numbered within one chapter while it is read."""

    equations: int = 0
    exercises: int = 0
    figures: int = 0
    pending: str | None = None       # a target waiting for its heading


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
    _formatter: Formatter | None = field(default=None, repr=False)

    @classmethod
    def from_toc(cls, root: Path = ROOT) -> "BookIndex":
        from toc import is_notebook_chapter

        index = cls()
        config = yaml.safe_load((root / "_config.yml").read_text())
        sphinx_config = (config.get("sphinx") or {}).get("config") or {}
        macros = (((sphinx_config.get("mathjax3_config") or {}).get("tex") or {}).get("macros") or {})
        index.macros = {k: v if isinstance(v, str) else v[0] for k, v in macros.items()}
        for bib in config.get("bibtex_bibfiles") or []:
            index.bibliography.update(read_bib(root / bib))
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
        counts = _Counts()
        for part in segments(lines):
            if isinstance(part, Text):
                self._scan_text(doc, part, counts)
            elif isinstance(part, Directive):
                counts.pending = None
                self._scan_directive(doc, part, counts)

    def _scan_text(self, doc: str, text: Text, counts: _Counts) -> None:
        """Headings (with the target before them), and labelled equations, in order."""
        marks = sorted({*text.targets, *text.headings, *text.equations, *(a for a, _, _ in text.inlines)})
        for line in marks:
            if line in text.equations:
                counts.equations += 1
                label = text.equations[line]
                self.labels[label] = Reference(doc, "equation-" + label, f"({counts.equations})")
            if line in text.targets:
                counts.pending = text.targets[line]
            elif line in text.headings:
                title = strip_markup(text.headings[line][1])
                self.titles.setdefault(doc, title)
                if counts.pending:
                    self.labels[counts.pending] = Reference(doc, counts.pending, title)
                counts.pending = None
            elif line not in text.equations:
                counts.pending = None       # a paragraph, table or list between target and heading

    def _scan_directive(self, doc: str, d: Directive, counts: _Counts) -> None:
        """Exercises, figures (directives and code cells' myst-nb metadata), labelled maths, the
        glossary, the execution status page, and any other labelled directive."""
        options, content = split_directive(d.body)
        if d.name in ("exercise", "exercise-start"):
            self.exercise_count += 1
            counts.exercises += 1
            if "label" in options:
                title = exercise_title(counts.exercises, strip_markup(d.arg))
                self.labels[options["label"]] = Reference(doc, options["label"], title)
        elif d.name == "code-cell" and cell_figure(d.body) is not None:
            counts.figures += 1           # a figure from a cell's myst-nb metadata (mystnb.figure)
            label = cell_figure(d.body).get("name")
            if label:
                self.labels[str(label)] = Reference(doc, str(label), f"Figure {counts.figures}")
        elif d.name in ("figure", "glue:figure"):
            counts.figures += 1
            label = options.get("name")
            if label:
                self.labels[label] = Reference(doc, label, f"Figure {counts.figures}")
        elif d.name in ("exec-status", "nb-exec-table"):
            self.status_doc = doc
        elif d.name == "math" and options.get("label"):
            counts.equations += 1
            self.labels[options["label"]] = Reference(doc, "equation-" + options["label"], f"({counts.equations})")
        elif d.name == "glossary":
            self.glossary_doc = doc
            self.terms.update(l.strip() for l in content if l.strip() and not l[0].isspace())
        elif d.name not in ("solution", "solution-start") and (options.get("label") or options.get("name")):
            label = options.get("label") or options["name"]
            self.labels[label] = Reference(doc, label, strip_markup(d.arg) or label)

    @property
    def formatter(self) -> Formatter:
        if self._formatter is None:
            self._formatter = Formatter()
        return self._formatter

    def url(self, doc: str, anchor: str | None, book_url: str | None) -> str | None:
        """The page of ``doc`` in the book online, or None when the book's URL is unknown."""
        if not book_url:
            return None
        return f"{book_url.rstrip('/')}/{doc}.html" + (f"#{anchor}" if anchor else "")
