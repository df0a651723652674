"""Make the single-page HTML build (``jupyter-book build --builder singlehtml``, which
``tools/book.py pdf`` prints) render like the HTML pages.

* Sphinx looks up the HTML visitors of extension nodes under the builder's name and falls back to
  its format ("html") only when no extension registered any visitor under that name.
  sphinx-exercise registers its nodes for "singlehtml", so the fallback is lost and nodes
  registered for "html" only (MyST-NB's ``HideCodeCellNode``, for the ``hide-cell``/``hide-input`` tags) crash the build with
  "departing unknown node type". This extension copies the missing "html" visitors to "singlehtml".
* Sphinx adds MathJax only to pages that hold maths; the single page is the root page (which has
  none) with every other page inlined, so MathJax would be missing. The single page gets every
  asset (``html_assets_policy`` "always").
"""

from __future__ import annotations


def _single_page(app):
    if app.builder.name != "singlehtml":
        return
    app.set_html_assets_policy("always")
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, visitors in handlers.get("html", {}).items():
        single.setdefault(node, visitors)


def setup(app):
    app.connect("builder-inited", _single_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
