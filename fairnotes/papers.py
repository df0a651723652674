"""The papers' published numbers, as data with their source.

Explained in the appendix :doc:`/book/running` and read by every chapter that compares with a paper.

Every number a chapter sets beside one of the papers' comes from a CSV file in
``fairnotes/_data/papers/`` (shipped with the package), never from chapter code. Each file holds
one table or figure of one paper, one row per published number or per published row, with the
columns

* ``paper``: the paper's key in ``book/references.bib`` (e.g. ``ngong2021auditability``);
* ``where``: the table or figure and, where it helps, the row or panel ("Table 1", "Figure 1");
* the values, named as the chapter names them (with ``std`` columns for a stated spread).

:func:`table` reads one file; :func:`available` lists them. The files' folder has a README that
says how each was transcribed.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["available", "table", "REQUIRED_COLUMNS"]

#: Columns every file of the papers' numbers has.
REQUIRED_COLUMNS = ("paper", "where")


def _folder():
    return resources.files("fairnotes").joinpath("_data", "papers")


def available() -> list[str]:
    """The names of the papers' tables shipped with the package (file names without ``.csv``).

    See the appendix :doc:`/book/running`.
    """
    return sorted(p.name[:-4] for p in _folder().iterdir() if p.name.endswith(".csv"))


def table(name: str) -> pd.DataFrame:
    """One table of a paper's published numbers, with its source columns ``paper`` and ``where``.

    Raises ``ValueError`` naming the available tables if ``name`` is not one of them, and if the
    file lacks a source column. See the appendix :doc:`/book/running`.
    """
    names = available()
    if name not in names:
        raise ValueError(f"no paper table named {name!r}; the shipped ones are {names}")
    with _folder().joinpath(name + ".csv").open() as f:
        df = pd.read_csv(f, comment="#")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"the paper table {name!r} lacks its source column(s) {missing}")
    return df
