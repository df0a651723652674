"""fairnotes.papers: the papers' published numbers as CSV data, each row with its source."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from fairnotes import papers

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "fairnotes" / "_data" / "papers"


def test_available_lists_the_shipped_files():
    names = papers.available()
    assert names == sorted(p.stem for p in FOLDER.glob("*.csv"))
    assert names, "no paper table is shipped"


@pytest.mark.parametrize("name", papers.available())
def test_every_paper_table_names_its_source(name):
    df = papers.table(name)
    assert len(df) > 0 and isinstance(df, pd.DataFrame)
    for col in papers.REQUIRED_COLUMNS:
        assert df[col].notna().all() and (df[col].astype(str).str.strip() != "").all(), f"{name}: empty {col!r}"
    keys = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text()))
    unknown = set(df["paper"]) - keys
    assert not unknown, f"{name}: paper keys {unknown} are not in book/references.bib"
    text = (FOLDER / f"{name}.csv").read_text()
    assert text.startswith("#"), f"{name}.csv does not say, in a # comment at the top, how it was transcribed"
    assert len(df.columns) > len(papers.REQUIRED_COLUMNS), f"{name}: no values beside the source"


def test_table_refuses_unknown_names_and_files_without_a_source(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="no paper table named 'nope'"):
        papers.table("nope")
    (tmp_path / "bare.csv").write_text("# a comment\nx,y\n1,2\n")
    (tmp_path / "good.csv").write_text("# a comment\npaper,where,x\nngong2021auditability,Table 1,1.5\n")
    (tmp_path / "notes.txt").write_text("not a table")
    monkeypatch.setattr(papers, "_folder", lambda: tmp_path)
    assert papers.available() == ["bare", "good"]
    with pytest.raises(ValueError, match=r"lacks its source column\(s\) \['paper', 'where'\]"):
        papers.table("bare")
    good = papers.table("good")
    assert list(good.columns) == ["paper", "where", "x"] and good.loc[0, "x"] == 1.5


def test_the_papers_folder_ships_with_the_package():
    text = (ROOT / "pyproject.toml").read_text()
    assert "papers/*.csv" in text
