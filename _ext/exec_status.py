"""Measured run times of the chapters, on the *Execution status* page and in the chapters' "Time" boxes.

myst-nb records, for every notebook page, when its code was executed, how long it took and whether
it succeeded (``NbMetadataCollector``'s ``exec_data``). With ``execute_notebooks: cache`` the time of a
page whose code has not changed is the one jupyter-cache stored when it last executed it.
This extension shows those measurements:

* the ``exec-status`` directive (used by ``book/status.md``) renders one row per notebook chapter, in
  the order of ``_toc.yml``, with the chapter's title, its measured run time, when and in which mode
  (fast, default, paper-size) it was executed and whether the outputs came from this build or from the
  cache, followed by the total and the versions of the libraries that matter;
* the ``exec-runtime`` role, ``{exec-runtime}`self``` (or a docname such as ``book/sensitivity``),
  writes a chapter's measured run time and mode, e.g. "31 s, in fast mode on 2 cores"; the chapters'
  "Time" boxes use it instead of a typed guess.

The mode is the one of the build that executed the page (``FAIRNOTES_FAST=1``: fast,
``FAIRNOTES_PAPER_SIZE=1``: the papers' own sizes, neither: default; read through
``fairnotes.runtime``), recorded when the page is executed and kept with the build's
environment; a page taken from the cache keeps the mode of the build that executed it, or "mode not
recorded" if that build did not record one.
"""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

_BUILD_START = time.time()
VERSIONS = [("Python", None), ("torch", "torch"), ("TensorFlow", "tensorflow"), ("GPflow", "gpflow"),
            ("myst-nb", "myst-nb"), ("Jupyter Book", "jupyter-book")]


def current_mode() -> str:
    from fairnotes.runtime import is_fast, is_paper_size  # light: imports no framework

    if is_fast():
        return "fast"
    return "paper-size" if is_paper_size() else "default"


def _exec_data(env, docname):
    from myst_nb.sphinx_ import NbMetadataCollector

    return NbMetadataCollector.get_doc_data(env).get(docname, {}).get("exec_data")


def _modes(env) -> dict:
    if not hasattr(env, "fairnotes_exec_mode"):
        env.fairnotes_exec_mode = {}
    return env.fairnotes_exec_mode


def _executed_now(data) -> bool:
    return bool(data and data.get("mtime") and data["mtime"] >= _BUILD_START - 1)


def _mode_file(env) -> Path:
    """Beside the build's jupyter-cache: survives a fresh Sphinx environment (a changed config)."""
    return Path(env.doctreedir).parent / "fairnotes_exec_modes.json"


def _load_modes(env) -> dict:
    try:
        return json.loads(_mode_file(env).read_text())
    except (OSError, ValueError):
        return {}


def _record_mode(app, doctree):
    env = app.env
    data = _exec_data(env, env.docname)
    if _executed_now(data):
        mode = current_mode()
        _modes(env)[env.docname] = mode
        stored = _load_modes(env)
        stored[env.docname] = {"mode": mode, "mtime": data["mtime"]}
        try:
            _mode_file(env).write_text(json.dumps(stored, indent=1, sort_keys=True))
        except OSError:
            pass
    elif data and env.docname not in _modes(env):
        # outputs from the cache: the mode recorded when jupyter-cache stored them, if any
        stored = _load_modes(env).get(env.docname)
        if stored and abs(stored.get("mtime", 0) - (data.get("mtime") or 0)) < 2:
            _modes(env)[env.docname] = stored["mode"]


def _toc_order(env) -> list[str]:
    """Every document of the table of contents, depth first from the root, in the book's order."""
    out, seen = [], set()

    def walk(doc):
        if doc in seen:
            return
        seen.add(doc)
        out.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(env.config.root_doc)
    return out


def _seconds(x) -> str:
    if x is None:
        return "not measured"
    if x < 90:
        return f"{x:.0f} s"
    return f"{x:.0f} s ({x / 60:.1f} min)"


def _duration(x) -> str:
    """A run time for a sentence: "31 s", "2.2 minutes"."""
    if x is None:
        return "an unmeasured time"
    return f"{x:.0f} s" if x < 90 else f"{x / 60:.1f} minutes"


def _mode_text(env, docname) -> str:
    mode = _modes(env).get(docname)
    return f"{mode} mode" if mode else "mode not recorded"


def _version(dist):
    if dist is None:
        return platform.python_version()
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return "not installed"


class ExecStatusNode(nodes.General, nodes.Element):
    """Placeholder for the table, filled once every page has been executed."""


class ExecRuntimeNode(nodes.Inline, nodes.TextElement):
    """Placeholder for one chapter's measured run time."""


class ClaimsLedgerNode(nodes.General, nodes.Element):
    """Placeholder for the claims ledger, filled once every page has been executed."""


def ledger_folder(app) -> Path:
    """The claims ledger's folder: beside the build's execution cache, so that a chapter taken from
    the cache keeps the claims its execution checked (``fairnotes.claims``)."""
    cache = app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache"
    cache = Path(cache)
    if not cache.is_absolute():
        cache = Path(app.confdir) / cache
    return cache.parent / (cache.name + "_claims")


def _set_ledger_folder(app):
    """The kernels that execute the chapters inherit this variable: ``claims.Ledger`` writes there."""
    from fairnotes.claims import LEDGER_ENV

    folder = ledger_folder(app)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[LEDGER_ENV] = str(folder)
    app.env.fairnotes_ledger_folder = str(folder)


class ClaimsLedger(SphinxDirective):
    has_content = False

    def run(self):
        from myst_nb.ext.execution_tables import METADATA_KEY
        from myst_nb.sphinx_ import NbMetadataCollector

        NbMetadataCollector.set_doc_data(self.env, self.env.docname, METADATA_KEY, True)
        return [ClaimsLedgerNode()]


class ExecStatus(SphinxDirective):
    has_content = False

    def run(self):
        from myst_nb.ext.execution_tables import METADATA_KEY
        from myst_nb.sphinx_ import NbMetadataCollector

        # myst-nb re-renders the pages that carry this key whenever a notebook was executed again
        NbMetadataCollector.set_doc_data(self.env, self.env.docname, METADATA_KEY, True)
        return [ExecStatusNode()]


def exec_runtime_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    node = ExecRuntimeNode(rawtext, "")
    node["target"] = text.strip()
    return [node], []


def _row(cells):
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += cell if isinstance(cell, nodes.paragraph) else nodes.paragraph(text=str(cell))
        row += entry
    return row


def _table(header, rows, widths):
    table = nodes.table(classes=["colwidths-auto", "exec-status"])
    tgroup = nodes.tgroup(cols=len(header))
    table += tgroup
    for w in widths:
        tgroup += nodes.colspec(colwidth=w)
    thead = nodes.thead()
    thead += _row(header)
    tgroup += thead
    tbody = nodes.tbody()
    for r in rows:
        tbody += _row(r)
    tgroup += tbody
    return table


class ExecStatusTransform(SphinxPostTransform):
    default_priority = 8  # before the references (the chapter links) are resolved

    def run(self, **kwargs):
        env = self.env
        for node in list(self.document.findall(ExecRuntimeNode)):
            target = node["target"]
            docname = env.docname if target in ("", "self", "this") else target.removesuffix(".md")
            data = _exec_data(env, docname)
            text = (f"{_duration(data.get('runtime'))}, in {_mode_text(env, docname)} on "
                    f"{os.cpu_count()} cores") if data else "a time this build did not measure (the page was not executed)"
            node.replace_self(nodes.inline(text=text, classes=["exec-runtime"]))
        for node in list(self.document.findall(ExecStatusNode)):
            node.replace_self(self.make(env))
        for node in list(self.document.findall(ClaimsLedgerNode)):
            node.replace_self(self.make_ledger(env))

    def _doc_link(self, env, docname, text=None):
        link = pending_xref(refdoc=env.docname, reftarget="/" + docname, reftype="doc", refdomain="std",
                            refexplicit=text is not None, refwarn=True, classes=["xref", "doc"])
        link += nodes.inline(text=text or docname)
        para = nodes.paragraph()
        para += link
        return para

    def make_ledger(self, env):
        from fairnotes.claims import read_ledger

        folder = getattr(env, "fairnotes_ledger_folder", None)
        ledgers = read_ledger(folder) if folder else {}
        order = [d for d in _toc_order(env) if d.rsplit("/", 1)[-1] in ledgers]
        out, summary = [], []
        total = held_total = 0
        for docname in order:
            doc = ledgers[docname.rsplit("/", 1)[-1]]
            claims = doc.get("claims", [])
            held = sum(bool(c.get("holds")) for c in claims)
            total += len(claims)
            held_total += held
            summary.append([self._doc_link(env, docname), str(len(claims)), str(held), doc.get("mode", "")])
        out.append(_table(["Chapter", "Claims", "Held", "Mode"], summary, [46, 18, 18, 18]))
        out.append(nodes.paragraph(text=f"{held_total} of {total} claims held in the build that executed them."))
        for docname in order:
            doc = ledgers[docname.rsplit("/", 1)[-1]]
            rows = []
            for c in doc.get("claims", []):
                evidence = "; ".join(f"{k}: {_short(v)}" for k, v in (c.get("evidence") or {}).items())
                verdict = "yes" if c.get("holds") else ("no (recorded, not enforced)" if not c.get("enforced")
                                                       else "no")
                rows.append([c.get("text", ""), evidence or "(none)", verdict])
            if not rows:
                continue
            title = env.titles.get(docname)
            name = title.astext() if title is not None else docname
            out.append(nodes.raw("", f"<details class=\"claims-ledger\"><summary>{_html_escape(name)}: "
                                     f"{len(rows)} claims</summary>", format="html"))
            out.append(_table(["Claim", "Evidence", "Held"], rows, [55, 35, 10]))
            out.append(nodes.raw("", "</details>", format="html"))
        if not order:
            out.append(nodes.paragraph(text="No chapter of this build recorded a claim."))
        return out

    def make(self, env):
        rows, total, n = [], 0.0, 0
        for docname in _toc_order(env):
            data = _exec_data(env, docname)
            if not data:
                continue  # a page without code
            link = pending_xref(refdoc=env.docname, reftarget="/" + docname, reftype="doc", refdomain="std",
                                refexplicit=False, refwarn=True, classes=["xref", "doc"])
            link += nodes.inline(text=docname)
            para = nodes.paragraph()
            para += link
            runtime = data.get("runtime")
            total += runtime or 0.0
            n += 1
            when = datetime.fromtimestamp(data["mtime"]).strftime("%Y-%m-%d %H:%M") if data.get("mtime") else ""
            source = "executed in this build" if _executed_now(data) else "cache (code unchanged)"
            ok = "ran without error" if data.get("succeeded") else f"error: {data.get('error') or ''}"
            rows.append([para, _seconds(runtime), _modes(env).get(docname, "not recorded"), when, source, ok])
        out = [_table(["Chapter", "Run time", "Mode", "Executed", "Outputs from", "Status"], rows,
                      [30, 14, 14, 14, 16, 12])]
        out.append(nodes.paragraph(text=f"Total: {_seconds(total)} of execution for the {n} pages with code, "
                                        f"on a machine with {os.cpu_count()} cores. This build ran in "
                                        f"{current_mode()} mode."))
        out.append(_table(["Software", "Version"], [[name, _version(dist)] for name, dist in VERSIONS], [50, 50]))
        return out


def _short(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_short(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_short(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def setup(app):
    app.add_node(ClaimsLedgerNode)
    app.add_directive("claims-ledger", ClaimsLedger)
    app.connect("builder-inited", _set_ledger_folder)
    app.add_node(ExecStatusNode)
    app.add_node(ExecRuntimeNode)
    app.add_directive("exec-status", ExecStatus)
    app.add_role("exec-runtime", exec_runtime_role)
    app.add_post_transform(ExecStatusTransform)
    app.connect("doctree-read", _record_mode)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True, "env_version": 1}
