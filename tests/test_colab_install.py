"""Each notebook's Colab install cell installs what its chapter needs (issue #28).

A chapter without Gaussian processes installs ``fairnotes[torch,plots]``, which keeps Colab's
numpy 2 (no restart); a chapter with them installs ``fairnotes[torch,gp,plots]`` (numpy<2) and says
before installing that the session will need a restart. The cells run here with a stand-in for
``google.colab`` and for pip. The real install into a fresh numpy-2 environment, from the cell's own
pip command, followed by the whole notebook in fast mode, is ``tools/colab_check.py`` (it needs the
package index, so it is run by hand; ``book/running.md`` says what its last run found).
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import types

import jupytext
import pytest

from conftest import ROOT, notebook_chapters

sys.path.insert(0, str(ROOT / "tools"))
import notebook_text as nt  # noqa: E402

REPO = "https://github.com/example/fairnotes"
WITHOUT_GP = {"data", "sensitivity", "smooth_sensitivity", "adversarial", "audit"}  # the aim, at least
WITH_GP = {"target_labels", "fairgp_parity", "fairgp_opportunity"}


@pytest.fixture(scope="module")
def cells():
    index = nt.BookIndex.from_toc(ROOT)
    out = {}
    for path in notebook_chapters():
        doc = path.relative_to(ROOT).with_suffix("").as_posix()
        out[path.stem] = nt.convert_notebook(jupytext.read(path), doc, index, repo_url=REPO, repo_ref="abc").cells[0]
    return out


def _run(source, monkeypatch, *, colab=True, installed=()):
    """Execute an install cell in Colab (a stand-in module) with a pip that records its command."""
    calls, printed = [], []
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "check_call", lambda cmd: calls.append(("pip", cmd)) or 0)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name in installed else None)
    namespace = {"print": lambda *a, **k: calls.append(("print", " ".join(map(str, a))))}
    error = None
    try:
        exec(compile(source, "colab-cell", "exec"), namespace)
    except RuntimeError as e:
        error = str(e)
    return calls, error


def test_the_chapters_without_gaussian_processes_keep_numpy_2(cells, monkeypatch):
    for name, cell in cells.items():
        assert "colab-install" in cell.metadata["tags"], name
        if nt.needs_gp(jupytext.read(ROOT / "book" / f"{name}.md")):
            continue
        calls, error = _run(cell.source, monkeypatch)
        assert error is None and [kind for kind, _ in calls] == ["pip"], (name, calls)
        cmd = calls[0][1]
        assert f"fairnotes[torch,plots] @ git+{REPO}@abc" in cmd and "numpy<2" not in " ".join(cmd)
        assert "restart" not in cell.source.lower().replace("no restart needed", ""), name
    assert WITHOUT_GP <= {n for n in cells if not nt.needs_gp(jupytext.read(ROOT / "book" / f"{n}.md"))}


def test_the_gaussian_process_chapters_say_before_installing_that_they_need_a_restart(cells, monkeypatch):
    gp = {n for n in cells if nt.needs_gp(jupytext.read(ROOT / "book" / f"{n}.md"))}
    assert WITH_GP <= gp
    for name in gp:
        calls, error = _run(cells[name].source, monkeypatch)
        kinds = [kind for kind, _ in calls]
        assert kinds == ["print", "pip"], (name, calls)           # the note first, then pip
        assert "restart the session" in calls[0][1] and "numpy" in calls[0][1]
        assert f"fairnotes[torch,gp,plots] @ git+{REPO}@abc" in calls[1][1]
        assert error is not None and "restart the session" in error.lower()  # stops "Run all"
        # after the restart everything is there: the cell does nothing
        calls, error = _run(cells[name].source, monkeypatch, installed={"fairnotes", "myst_nb", "gpflow"})
        assert calls == [] and error is None


def test_outside_colab_or_when_installed_the_cell_does_nothing(cells, monkeypatch):
    for name in ("data", "fairgp_parity"):
        calls, error = _run(cells[name].source, monkeypatch, colab=False)
        assert calls == [] and error is None
    calls, error = _run(cells["data"].source, monkeypatch, installed={"fairnotes", "myst_nb"})
    assert calls == [] and error is None


@pytest.mark.parametrize("code,expected", [
    ("import gpflow", True),
    ("import tensorflow as tf", True),
    ("from fairnotes import fairgp as fg", True),
    ("from fairnotes.fairgp import FairGP", True),
    ("gp = recipes.fit_fairgp(sp, 'FairGP')", True),
    ("%matplotlib inline\nfrom fairnotes import presets\nsp = recipes.fairgp_split('adult', 'sex')", False),
    ("seed_everything(0, tensorflow=False)\nd = data.adult_fairgp()", False),
])
def test_needs_gp(code, expected):
    nb = jupytext.reads("```{code-cell} ipython3\n" + code + "\n```\n", fmt="md:myst")
    assert nt.needs_gp(nb) is expected


def test_every_package_function_that_imports_fairgp_is_known():
    """A chapter that calls such a function needs GPflow although it never imports it: the list the
    install cells read (``GP_FUNCTIONS``) must name each. ``audit._resolve`` imports it only for a
    model that GPflow made, so only in a session that has GPflow."""
    found = set()
    for path in sorted((ROOT / "fairnotes").glob("*.py")):
        if path.stem == "fairgp":
            continue
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [f"{node.module}.{a.name}" for a in node.names] + [node.module]
                         if isinstance(node, ast.ImportFrom) and node.module else [])
                if any(n == "fairnotes.fairgp" or n.startswith("fairnotes.fairgp.") for n in names):
                    found.add(fn.name)
    assert found - {"_resolve"} == set(nt.GP_FUNCTIONS), found
