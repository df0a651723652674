"""The package works from a non-editable install (``pip install .``), not only from the checkout.

The package is installed into a temporary folder (no dependencies: the test environment has them)
and put first on ``PYTHONPATH`` for fresh interpreters run from outside the repository: the
package data must be inside the installed package, and neither the package, a chapter nor a
benchmark may find files through the package's location in the source tree.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-warn-script-location", "--target", str(target), str(ROOT)],
                   check=True, capture_output=True, text=True)
    env = {**os.environ, "PYTHONPATH": str(target), "FAIRNOTES_FAST": "1", "FAIRNOTES_PROGRESS": "0"}
    return target, env


def _run(args, env, cwd):
    out = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"{args} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out.stdout


def test_the_installed_package_is_used_and_has_its_data(installed, tmp_path):
    target, env = installed
    code = ("import fairnotes, fairnotes.recipes as r; print(fairnotes.__file__); "
            "sp = r.auditability_split('compas'); print(len(sp.X_train), len(sp.X_test))")
    out = _run([sys.executable, "-c", code], env, tmp_path).split()
    assert out[0].startswith(str(target)), f"the checkout's fairnotes was imported: {out[0]}"
    assert out[1:] == ["4937", "1235"]


def test_a_chapter_runs_from_the_installed_package(installed, tmp_path):
    pytest.importorskip("nbclient")
    _, env = installed
    code = ("import jupytext, nbclient, sys; nb = jupytext.read(sys.argv[1]); "
            "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3', "
            "resources={'metadata': {'path': sys.argv[2]}}).execute(); "
            "import fairnotes; print(fairnotes.__file__)")
    _run([sys.executable, "-c", code, str(ROOT / "book" / "data.md"), str(ROOT / "book")], env, tmp_path)


def test_a_benchmark_starts_from_the_installed_package(installed, tmp_path):
    _, env = installed
    out = _run([sys.executable, str(ROOT / "benchmarks" / "bench_sensitivity.py"), "--help"], env, tmp_path)
    assert "usage" in out.lower()
