"""The book's table of contents (``_toc.yml``), read once with yaml for every tool and test.

``_toc.yml`` is Jupyter Book's ``jb-book`` format: a ``root`` page, then ``parts`` (each with a
``caption`` and ``chapters``) or a flat ``chapters`` list; any entry may hold ``sections``. Every
page is a ``file:`` path relative to the repository root, with or without its ``.md`` suffix.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOC = ROOT / "_toc.yml"


def _load(toc: Path = TOC) -> dict:
    data = yaml.safe_load(toc.read_text())
    if not isinstance(data, dict) or "root" not in data:
        raise ValueError(f"{toc} has no 'root:' entry; is it a jb-book table of contents?")
    return data


def _entries(items: list[dict], caption: str | None):
    """(file, caption) for each ``file:`` of a chapter list and its nested ``sections``."""
    for item in items or []:
        if "file" in item:
            yield item["file"], caption
        yield from _entries(item.get("sections", []), caption)


def toc_entries(toc: Path = TOC) -> list[tuple[str, str | None]]:
    """Every page of the table of contents, in reading order, as ``(file, part caption)``.

    The root page has no caption; so do the chapters of a toc without parts.
    """
    data = _load(toc)
    out = [(data["root"], None)]
    for part in data.get("parts", []):
        out.extend(_entries(part.get("chapters", []), part.get("caption")))
    out.extend(_entries(data.get("chapters", []), None))
    return out


def toc_files(toc: Path = TOC) -> list[str]:
    """Every ``file:`` (and the ``root:``) entry of ``_toc.yml``, in order, as written there."""
    return [entry for entry, _ in toc_entries(toc)]


def appendix_files(toc: Path = TOC) -> set[str]:
    """The entries (without ``.md``) of the parts whose caption names the appendices."""
    return {entry.removesuffix(".md") for entry, caption in toc_entries(toc)
            if caption and "appendi" in caption.lower()}


def page_path(entry: str, root: Path = ROOT) -> Path:
    """The source file of a toc entry (``book/data`` -> ``<root>/book/data.md``)."""
    return root / (entry if entry.endswith(".md") else entry + ".md")


def is_notebook_chapter(path: Path) -> bool:
    """Whether a page is a jupytext notebook: its front matter has ``jupytext`` and ``kernelspec``."""
    text = path.read_text()
    head = text.split("\n---", 1)[0]
    return text.startswith("---") and "jupytext:" in head and "kernelspec:" in head


def notebook_chapters(toc: Path = TOC) -> list[Path]:
    """The notebook pages of the table of contents, in order; pages that do not exist are skipped."""
    root = toc.resolve().parent
    paths = (page_path(entry, root) for entry in toc_files(toc))
    return [p for p in paths if p.exists() and is_notebook_chapter(p)]
