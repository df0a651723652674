"""Offer every executed chapter as an .ipynb in the page's download button.

sphinx-book-theme adds a ".ipynb" entry to the download button when the page context has
``ipynb_source``, but sets it only while building launch buttons, which need the book's public
repository. This extension does that part alone: it copies the notebook MyST-NB executed
(``_build/jupyter_execute/<page>.ipynb``) into ``_sources`` and sets ``ipynb_source``, before the
theme builds its buttons.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def _add_notebook(app, pagename, templatename, context, doctree):
    if app.builder.format != "html":
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.connect("html-page-context", _add_notebook, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
