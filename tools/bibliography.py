"""The book's bibliography in plain text: author-year citations and reference-list entries.

``book/references.bib`` is read with pybtex, which sphinxcontrib-bibtex uses for the book, and
formatted with pybtex's plain style, so that a notebook's "(Ngong et al., 2021)" and its list of
references say what the book's pages say. Used by ``tools/notebook_text.py``.
"""

from __future__ import annotations

from pathlib import Path


def read_bib(path: Path) -> dict:
    """The entries of a BibTeX file, keyed by citation key."""
    from pybtex.database import parse_file

    return dict(parse_file(str(path)).entries)


class Formatter:
    """pybtex's plain style and its text and markdown back ends, created once (each lookup of a
    pybtex plugin by name scans the installed packages' entry points)."""

    def __init__(self):
        from pybtex.backends.markdown import Backend as Markdown
        from pybtex.backends.plaintext import Backend as Plain
        from pybtex.style.formatting.plain import Style

        self.style, self.plain, self.markdown = Style(), Plain(), Markdown()

    def latex_text(self, text: str) -> str:
        """LaTeX markup (accents, braces) as plain text."""
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

    def citation(self, entry, *, textual: bool) -> str:
        """"Ngong et al., 2021" (parenthetical) or "Ngong et al. (2021)" (textual)."""
        year = entry.fields.get("year", "n.d.")
        authors = self.authors(entry)
        return f"{authors} ({year})" if textual else f"{authors}, {year}"

    def reference(self, key: str, entry) -> str:
        """One entry of the reference list, formatted by pybtex's plain style, as markdown."""
        formatted = self.style.format_entry(key, entry).text.render(self.markdown)
        return " ".join(part.strip() for part in formatted.split("\n") if part.strip())
