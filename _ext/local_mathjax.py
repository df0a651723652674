"""Serve MathJax from the built book itself, so that the maths renders offline.

Sphinx loads MathJax from a CDN by default, which fails without internet. The PyPI package
``django-static-mathjax`` (Apache-2.0; no Django needed to use its files) ships MathJax 3.2.2;
this extension copies its ``es5`` build into ``_static/mathjax`` and points Sphinx at it.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def _source() -> Path:
    import mathjax  # the package installed by django-static-mathjax

    src = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (src / "tex-chtml.js").exists():
        raise RuntimeError(f"MathJax's tex-chtml.js is missing from {src}; reinstall django-static-mathjax")
    return src


def _config_inited(app, config):
    _source()
    config.mathjax_path = "mathjax/tex-chtml.js"


def _copy(app, exception):
    if exception is None and app.builder.format == "html":
        shutil.copytree(_source(), Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app):
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
