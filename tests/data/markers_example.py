"""A test module for tests/test_core_numpy2.py: which of its tests need GPflow or the book's tools.

Copied to a temporary folder as ``test_example.py`` and collected there; its tests are never run.
The names say what tests/environments.py must decide.
"""

import numpy as np
import pytest


@pytest.fixture
def gp_model():
    gpflow = pytest.importorskip("gpflow")
    return gpflow


@pytest.fixture
def rows():
    return np.ones(2)


def _fit():
    from fairnotes.fairgp import FairGP
    return FairGP


def _train():
    return _fit()  # a GP need two calls away


def test_core(rows):
    assert rows.sum() == 2


def test_core_copes_without_gpflow():
    try:
        import gpflow  # noqa: F401
    except ImportError:
        gpflow = None


@pytest.mark.parametrize("k", [1, 2])
def test_core_parametrized(k):
    assert k


def test_core_names_tensorflow_as_a_keyword():
    from fairnotes import runtime
    runtime.seed_everything(1, torch=False, tensorflow=False)


def test_gp_through_a_fixture(gp_model, rows):
    assert gp_model


def test_gp_through_helpers():
    _train()


def test_gp_imports_tensorflow():
    import tensorflow as tf  # noqa: F401


def test_gp_in_another_interpreter():
    import subprocess
    import sys
    subprocess.run([sys.executable, "-c", "import os, fairnotes.fairgp"], check=True)


def test_book_imports_a_tool():
    import notebook_text  # noqa: F401


def test_book_runs_jupyter_book(tmp_path):
    import subprocess
    subprocess.run(["jupyter-book", "build", str(tmp_path)], check=True)


class TestGroup:
    def test_book_method(self):
        from book_builds import jupyter_book  # noqa: F401
