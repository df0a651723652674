"""Author-year footnote citations: ``{footcite}`` renders "(Kohavi, 1996)", not a footnote number.

sphinxcontrib-bibtex 2.x formats ``{cite}`` with ``bibtex_reference_style`` but ``{footcite}`` with
``bibtex_foot_reference_style``, whose default, ``foot``, writes footnote numbers; that is why the
book's citations rendered as numbers although ``_config.yml`` asks for ``author_year``. Setting the
foot style to ``author_year`` does not work either in sphinxcontrib-bibtex 2.7: that style's template
asserts a reference to a ``{bibliography}`` entry (``SphinxReferenceInfo``) and the build crashes on
the first ``{footcite}``.

This extension registers a referencing style for footnote citations, ``author_year_foot``:

* ``{footcite}`key``` (and ``{footcite:p}``) gives "(Author, Year)", several keys "(A, 2019; B, 2020)";
* ``{footcite:t}`key``` gives "Author (Year)", for a citation that is part of the sentence;

and the author-year text links to the chapter's footnote, which the ``{footbibliography}``
directive of the chapter's "References" section lists as before. Sphinx's check for unreferenced
footnotes counts only footnote numbers; the extension replaces it by one that also counts these
links (any other unreferenced footnote is still reported). ``_config.yml`` selects it with
``bibtex_foot_reference_style: author_year_foot``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, List

import docutils.nodes
from sphinx.transforms import UnreferencedFootnotesDetector as _SphinxUnreferencedFootnotesDetector
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.richtext import BaseReferenceText
from sphinxcontrib.bibtex.style.referencing import (
    BaseReferenceStyle,
    BracketStyle,
    GroupReferenceStyle,
    PersonStyle,
)
from sphinxcontrib.bibtex.style.template import _format_list, join, node, year

PLUGIN_GROUP = "sphinxcontrib.bibtex.style.referencing"
NAME = "author_year_foot"


class FootLinkText(BaseReferenceText):
    """Rich text whose parts render inside one link to the citation's footnote."""

    def render(self, backend):
        info = self.info[0]
        children = super().render(backend)
        refnode = docutils.nodes.reference("", "", *children, internal=True, classes=["footcite"])
        footnote_id = info.document.nameids.get(info.refname)
        if footnote_id:
            refnode["refid"] = footnote_id
        else:  # resolved by docutils' DanglingReferences transform
            refnode["refname"] = info.refname
            info.document.note_refname(refnode)
        return [refnode]


@node
def foot_link(children, data):
    """Pybtex node: its children, as a link to the footnote of the cited entry."""
    return FootLinkText(data["reference_info"], *_format_list(children, data))


def _parentheses():
    return BracketStyle(left="(", right=")", sep="; ")


@dataclass
class ParentheticalStyle(BaseReferenceStyle):
    bracket: BracketStyle = field(default_factory=_parentheses)
    person: PersonStyle = field(default_factory=PersonStyle)

    def role_names(self) -> Iterable[str]:
        return ["p", "ps"]

    def outer(self, role_name: str, children: List) -> "node":
        return self.bracket.outer(children, brackets=True, capfirst=False)

    def inner(self, role_name: str) -> "node":
        return foot_link[join(sep=", ")[self.person.author_or_editor_or_title(full="s" in role_name), year]]


@dataclass
class TextualStyle(BaseReferenceStyle):
    bracket: BracketStyle = field(default_factory=_parentheses)
    person: PersonStyle = field(default_factory=PersonStyle)

    def role_names(self) -> Iterable[str]:
        return [f"{c}t{s}" for c in ("", "c") for s in ("", "s")]

    def outer(self, role_name: str, children: List) -> "node":
        return BracketStyle(sep=", ", sep2=" and ", last_sep=", and ").outer(
            children, brackets=False, capfirst="c" in role_name)

    def inner(self, role_name: str) -> "node":
        return join(sep=" ")[
            self.person.author_or_editor_or_title(full="s" in role_name),
            foot_link[join[self.bracket.left, year, self.bracket.right]],
        ]


@dataclass
class AuthorYearFootReferenceStyle(GroupReferenceStyle):
    """Footnote citations written author-year, linked to their footnotes."""

    person: PersonStyle = field(default_factory=PersonStyle)

    def __post_init__(self):
        self.styles.extend([ParentheticalStyle(person=self.person), TextualStyle(person=self.person)])
        super().__post_init__()


class UnreferencedFootnotesDetector(_SphinxUnreferencedFootnotesDetector):
    """Sphinx's check, except that a footnote linked by an author-year citation is referenced."""

    def apply(self, **kwargs):
        linked = {ref.get("refid") for ref in self.document.findall(docutils.nodes.reference)
                  if "footcite" in ref.get("classes", [])}
        linked_names = {ref.get("refname") for ref in self.document.findall(docutils.nodes.reference)
                        if "footcite" in ref.get("classes", [])}
        kept = [n for n in self.document.autofootnotes
                if not (set(n["ids"]) & linked or set(n["names"]) & linked_names)]
        saved = self.document.autofootnotes
        self.document.autofootnotes = kept
        try:
            super().apply(**kwargs)
        finally:
            self.document.autofootnotes = saved


def setup(app):
    # force: a second build in the same process (or a re-import) keeps this class registered
    register_plugin(PLUGIN_GROUP, NAME, AuthorYearFootReferenceStyle, force=True)
    if _SphinxUnreferencedFootnotesDetector in app.registry.transforms:
        app.registry.transforms.remove(_SphinxUnreferencedFootnotesDetector)
    app.add_transform(UnreferencedFootnotesDetector)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
