"""Serve plotly.js from the built book itself, so that the interactive figures work offline.

The chapters' interactive figures (``fairnotes/interactive.py``) are HTML outputs that hold a
Plotly figure as JSON and no ``<script src>``. This extension copies ``plotly.min.js`` from the
installed ``plotly`` package (MIT) into ``_static/plotly/`` with the small script that draws the
figures (``fairnotes.interactive.DRIVER_JS``) and its CSS, and adds them to the pages that hold
an interactive figure only (plotly.js is 4.6 MB). Nothing is loaded from a CDN, as for MathJax
(``_ext/local_mathjax.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

MARKER = 'class="fairnotes-interactive"'   # what fairnotes.interactive.to_html writes
FOLDER = "plotly"


def _files():
    from fairnotes import interactive

    return interactive.plotly_js(), interactive.DRIVER_JS, interactive.DRIVER_CSS


def _builder_inited(app):
    _files()   # fail early, naming the problem, if plotly is not installed


def _page(app, pagename, templatename, context, doctree):
    if app.builder.format != "html" or MARKER not in (context.get("body") or ""):
        return
    app.add_js_file(f"{FOLDER}/plotly.min.js", priority=600, defer="defer")
    app.add_js_file(f"{FOLDER}/fairnotes-interactive.js", priority=601, defer="defer")
    app.add_css_file(f"{FOLDER}/fairnotes-interactive.css")


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    js, driver, css = _files()
    out = Path(app.outdir) / "_static" / FOLDER
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(js, out / "plotly.min.js")
    (out / "fairnotes-interactive.js").write_text(driver)
    (out / "fairnotes-interactive.css").write_text(css)


def setup(app):
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _page)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
