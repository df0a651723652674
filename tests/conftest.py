"""Test configuration: fast mode for everything, and the chapters converted for nbval.

Every chapter named in ``_toc.yml`` that is a jupytext notebook (its front matter has a
``jupytext`` block) is converted to ``tests/_notebooks/<name>.ipynb`` when the test session
starts; nbval (``--nbval-lax``, set in ``pyproject.toml``) executes each one in fast mode.
``FAIRNOTES_CHAPTERS=data,sensitivity pytest`` converts only the chapters named. ``test_book_structure.py`` checks that the
number of collected notebooks equals the number of notebook chapters in the table of contents.
"""

from __future__ import annotations

import os
import sys

import pytest
from pathlib import Path

os.environ["FAIRNOTES_FAST"] = "1"
os.environ.setdefault("FAIRNOTES_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = Path(__file__).resolve().parent / "_notebooks"


# The table of contents is read by tools/toc.py, which tools/book.py uses too.
sys.path.insert(0, str(ROOT / "tools"))
from toc import appendix_files, is_notebook_chapter, notebook_chapters, toc_files  # noqa: E402,F401

import environments  # noqa: E402  (tests/environments.py: which tests need GPflow or the book)


def pytest_configure(config):
    import jupytext

    # The folder is never emptied (another test session may be running its notebooks from it);
    # pytest_ignore_collect below makes this session collect only the notebooks it wrote.
    NB_DIR.mkdir(exist_ok=True)
    only = os.environ.get("FAIRNOTES_CHAPTERS")  # e.g. FAIRNOTES_CHAPTERS=data,sensitivity
    wanted = set(only.split(",")) if only else None
    paths = notebook_chapters()
    if wanted is not None:
        # named chapters, whether or not _toc.yml lists them yet (handy while writing one)
        paths = [ROOT / "book" / f"{name}.md" for name in sorted(wanted)]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise FileNotFoundError(f"FAIRNOTES_CHAPTERS names chapters that do not exist: {missing}")
    written = set()
    for path in paths:
        nb = jupytext.read(path)
        target = NB_DIR / (path.stem + ".ipynb")
        tmp = NB_DIR / f".{path.stem}.{os.getpid()}.tmp"
        tmp.write_text(jupytext.writes(nb, fmt="ipynb"))
        os.replace(tmp, target)  # atomic: a concurrent session never reads half a notebook
        written.add(target.name)
    config.fairnotes_written = written
    config.fairnotes_notebooks = set()


def pytest_ignore_collect(collection_path, config):
    if collection_path.suffix == ".ipynb" and collection_path.parent == NB_DIR:
        return collection_path.name not in getattr(config, "fairnotes_written", set())
    return None


def pytest_collection_modifyitems(session, config, items):
    environments.mark(items)  # the markers gp and book (tests/environments.py): CI's numpy-2 run leaves them out
    seen = set()
    for item in items:
        p = Path(str(item.fspath))
        if p.suffix == ".ipynb" and p.parent == NB_DIR:
            seen.add(p.stem)
    config.fairnotes_notebooks = seen


@pytest.fixture
def one_torch_thread():
    """Run a test with one torch thread: tiny networks gain nothing from threads, and on a busy
    2-core machine two threads thrash. Modules of torch tests use it through ``pytestmark``."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def biased_toy(n=300, seed=0):
    """Small synthetic data with biased labels, for the FairGP tests (``test_fairgp``,
    ``test_fairgp_authors``): ``(x, y, s)`` with two features, the second a proxy of ``s``
    (so a model that does not see ``s`` can still separate the groups), and labels that give
    group 0 a positive less often."""
    import numpy as np

    rng = np.random.default_rng(seed)
    s = (rng.random(n) < 0.5).astype(int)
    x = rng.normal(size=(n, 2))
    x[:, 1] = 0.5 * x[:, 1] + 1.5 * s
    logit = 2.0 * x[:, 0] + 1.0 * x[:, 1] - 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y, s
