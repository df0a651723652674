"""Test configuration: fast mode for everything, and the chapters converted for nbval.

Every chapter named in ``_toc.yml`` that is a jupytext notebook (its front matter has a
``jupytext`` block) is converted to ``tests/_notebooks/<name>.ipynb`` when the test session
starts; nbval (``--nbval-lax``, set in ``pyproject.toml``) executes each one in fast mode.
``FAIRNOTES_CHAPTERS=data,sensitivity pytest`` converts only the chapters named. ``test_book_structure.py`` checks that the
number of collected notebooks equals the number of notebook chapters in the table of contents.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

os.environ["FAIRNOTES_FAST"] = "1"
os.environ.setdefault("FAIRNOTES_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = Path(__file__).resolve().parent / "_notebooks"


def toc_files() -> list[str]:
    """Every ``file:`` (and ``root:``) entry of ``_toc.yml``, in order."""
    text = (ROOT / "_toc.yml").read_text()
    return re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*(\S+)\s*$", text, flags=re.M)


def is_notebook_chapter(path: Path) -> bool:
    head = path.read_text().split("\n---", 1)[0]
    return path.read_text().startswith("---") and "jupytext:" in head and "kernelspec:" in head


def notebook_chapters() -> list[Path]:
    out = []
    for entry in toc_files():
        path = ROOT / (entry if entry.endswith(".md") else entry + ".md")
        if path.exists() and is_notebook_chapter(path):
            out.append(path)
    return out


def pytest_configure(config):
    import jupytext

    if NB_DIR.exists():
        shutil.rmtree(NB_DIR)
    NB_DIR.mkdir()
    only = os.environ.get("FAIRNOTES_CHAPTERS")  # e.g. FAIRNOTES_CHAPTERS=data,sensitivity
    wanted = set(only.split(",")) if only else None
    paths = notebook_chapters()
    if wanted is not None:
        # named chapters, whether or not _toc.yml lists them yet (handy while writing one)
        paths = [ROOT / "book" / f"{name}.md" for name in sorted(wanted)]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise FileNotFoundError(f"FAIRNOTES_CHAPTERS names chapters that do not exist: {missing}")
    for path in paths:
        nb = jupytext.read(path)
        jupytext.write(nb, NB_DIR / (path.stem + ".ipynb"))
    config.fairnotes_notebooks = set()


def pytest_collection_modifyitems(session, config, items):
    seen = set()
    for item in items:
        p = Path(str(item.fspath))
        if p.suffix == ".ipynb" and p.parent == NB_DIR:
            seen.add(p.stem)
    config.fairnotes_notebooks = seen
