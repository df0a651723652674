"""Offer every executed chapter as a Jupyter/Colab-ready .ipynb, and point the launch buttons at it.

sphinx-book-theme adds a ".ipynb" entry to the download button when the page context has
``ipynb_source``, but sets it only while building launch buttons, which need the book's public
repository; and the notebook it copies (``_build/jupyter_execute/<page>.ipynb``, the one MyST-NB
executed) still holds MyST roles and directives that Jupyter and Colab show as literal markup. This
extension:

* before the theme builds its buttons, converts every executed notebook page with
  ``tools/notebook_text.py``, the glued values of the build filled in: the teacher notebook
  (solutions included, collapsed) or, in the student edition (sphinx-exercise's
  ``hide_solutions``), the student notebook; and sets ``ipynb_source`` (a page that cannot be
  converted gets a warning and no download);
* after the theme, writes it to ``_sources/<page>.ipynb``;
* makes the launch buttons (when configured) open that ``.ipynb``: the theme would link the
  ``.md`` source, which Colab cannot open;
* when the book is published from a repository (the sphinx config value
  ``fairnotes_repository_url``), starts each notebook with the hidden cell that installs fairnotes
  from it in Colab, and writes ``binder/requirements.txt`` and ``binder/runtime.txt`` into the
  built site, so that Binder, started from the branch the site is published on, installs the
  book's environment and fairnotes from the repository.

``html.baseurl`` (the published book's address) makes glossary terms and cross-references links.
``tools/publish_config.py`` sets ``fairnotes_repository_url`` and ``fairnotes_install_ref`` (the
commit the Colab cell and Binder install).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
TOOLS = Path(__file__).resolve().parent.parent / "tools"


def _converter():
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    import notebook_text

    return notebook_text


def _executed(app, pagename) -> Path:
    return Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"


def _repo_url(app) -> str | None:
    """The repository the published book installs fairnotes from (set by tools/publish_config.py).

    Not the theme's ``repository_url``: Jupyter Book fills that with its own repository by default.
    """
    return app.config.fairnotes_repository_url or None


def _runtimes(app) -> dict[str, str]:
    """Each executed page's run time in this build (or the cached run), for ``{exec-runtime}``."""
    from myst_nb.sphinx_ import NbMetadataCollector

    out = {}
    for doc, data in NbMetadataCollector.get_doc_data(app.env).items():
        runtime = (data.get("exec_data") or {}).get("runtime")
        if runtime is not None:
            out[doc] = f"{runtime:.0f} s"
    return out


def _with_cached_outputs(app, nb):
    """The notebook with the outputs jupyter-cache holds for it.

    myst-nb writes a page whose outputs came from the cache to ``jupyter_execute/`` without them
    (it saves the notebook it read, not the one merged with the cache); they are merged here, as
    myst-nb merges them for the page. Glued values stay out of the cells, as in an executed page
    (they are in ``<page>.glue.json``).
    """
    from jupyter_cache import get_cache

    try:
        _, nb = get_cache(app.env.mystnb_config.execution_cache_path).merge_match_into_notebook(nb)
    except KeyError:  # not in the cache: the page was not executed
        return nb
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not o.get("metadata", {}).get("scrapbook", {}).get("mime_prefix")]
    return nb


def _convert(app, pagename, templatename, context, doctree):
    """Before the theme's buttons: convert the page's executed notebook and offer it for download.

    A page whose notebook cannot be converted (a MyST construct ``tools/notebook_text.py`` does not
    know) gets a warning, which fails the strict build, and no download.
    """
    executed = _executed(app, pagename)
    if app.builder.format != "html" or not executed.exists():
        return
    import nbformat

    nt = _converter()
    if not hasattr(app, "fairnotes_book_index"):  # titles, labels, terms, bibliography: read once
        app.fairnotes_book_index = nt.BookIndex.from_toc(Path(app.srcdir))
    glue_file = executed.with_suffix(".glue.json")
    glue = json.loads(glue_file.read_text()) if glue_file.exists() else {}
    nb = nbformat.read(executed, as_version=4)
    if app.env.mystnb_config.execution_mode == "cache" and not any(
            c.get("outputs") for c in nb.cells if c.cell_type == "code"):
        nb = _with_cached_outputs(app, nb)
    try:
        nb = nt.convert_notebook(
            nb, pagename, app.fairnotes_book_index,
            student=bool(getattr(app.config, "hide_solutions", False)), glue=glue,
            book_url=app.config.html_baseurl or None, repo_url=_repo_url(app),
            repo_ref=app.config.fairnotes_install_ref or None, runtimes=_runtimes(app))
    except nt.MystConversionError as exc:
        LOGGER.warning(f"no notebook download for this page: {exc}", location=pagename,
                       type="fairnotes", subtype="notebook")
        return
    app.fairnotes_notebooks = getattr(app, "fairnotes_notebooks", {})
    app.fairnotes_notebooks[pagename] = nb
    context["ipynb_source"] = f"{pagename}.ipynb"


def _write_notebook(app, pagename, templatename, context, doctree):
    """After the theme, which copies the raw executed notebook there when launch buttons are on."""
    nb = getattr(app, "fairnotes_notebooks", {}).pop(pagename, None)
    if nb is None:
        return
    import nbformat

    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    # the theme links the page's source (.md); the notebook beside it in _sources is what opens
    suffix = Path(app.env.doc2path(pagename)).suffix
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            for button in group.get("buttons", []):
                url = button.get("url", "")
                if url.endswith(pagename + suffix):
                    button["url"] = url[: -len(suffix)] + ".ipynb"


def binder_requirements(requirements: str, repo_url: str, ref: str | None) -> str:
    """``requirements.txt`` for Binder: the book's pins, with fairnotes from the repository.

    The published branch holds the built site, not the package, so the editable install
    (``-e .``) becomes an install from the repository (at ``ref`` when given).
    """
    target = f"fairnotes @ git+{repo_url.rstrip('/')}" + (f"@{ref}" if ref else "")
    lines = [target if line.split("#")[0].strip() == "-e ." else line for line in requirements.splitlines()]
    if target not in lines:
        raise ValueError("requirements.txt has no '-e .' line for the package itself")
    return "\n".join(lines) + "\n"


def _write_binder(app, exception):
    repo_url = _repo_url(app)
    if exception is not None or app.builder.format != "html" or not repo_url:
        return
    root = Path(app.srcdir)
    binder = Path(app.outdir) / "binder"
    binder.mkdir(exist_ok=True)
    (binder / "requirements.txt").write_text(binder_requirements(
        (root / "requirements.txt").read_text(), repo_url, app.config.fairnotes_install_ref or None))
    # the Python the book was built (and its notebooks executed) with
    (binder / "runtime.txt").write_text(f"python-{sys.version_info.major}.{sys.version_info.minor}\n")


def setup(app):
    app.add_config_value("fairnotes_repository_url", "", "html")
    app.add_config_value("fairnotes_install_ref", "", "html")
    app.connect("html-page-context", _convert, priority=400)
    app.connect("html-page-context", _write_notebook, priority=502)  # the theme's buttons are at 501
    app.connect("build-finished", _write_binder)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
