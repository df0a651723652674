"""fairnotes.runs (record / stored) and the stored paper-size runs of results/paper_size."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairnotes import runs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import paper_runs  # noqa: E402


def test_record_is_a_no_op_without_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(runs.RECORD_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert runs.record("x", 3.5) == 3.5
    assert list(tmp_path.iterdir()) == []


def test_record_and_stored_round_trip(monkeypatch, tmp_path):
    target = tmp_path / "rec.json"
    monkeypatch.setenv(runs.RECORD_ENV, str(target))
    df = pd.DataFrame({"attribute": ["race", "sex"], "algorithm": ["GP", "GP"], "DI": [0.5, np.nan],
                       "n": [3, 4]}).set_index(["attribute", "algorithm"])
    runs.record("table", df)
    runs.record("sizes", {"repeats": np.int64(10), "inducing": 500, "ok": np.bool_(True)})
    runs.record("sizes", {"repeats": 10, "inducing": 500})          # a second call replaces the entry
    values = json.loads(target.read_text())
    assert set(values) == {"table", "sizes"}
    prov = {k: "x" for k in runs.PROVENANCE_KEYS} | {"wall_seconds": 5400.0, "cores": 2, "commit": "0123456789abc"}
    (tmp_path / "demo.json").write_text(json.dumps({"provenance": prov, "values": values, "glued": {"a": "0.5"}}))
    run = runs.stored("demo", directory=tmp_path)
    back = run["table"]
    assert list(back.index.names) == ["attribute", "algorithm"]
    assert back.loc[("race", "GP"), "DI"] == 0.5 and np.isnan(back.loc[("sex", "GP"), "DI"])
    assert run["sizes"] == {"repeats": 10, "inducing": 500}
    assert run.glued["a"] == "0.5"
    assert "1.5 h" in run.line() and "0123456789" in run.line()
    with pytest.raises(KeyError, match="recorded no 'tabel'"):
        run["tabel"]


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(TypeError, match="record"):
        runs.record("model", object())
    with pytest.raises(ValueError, match="name"):
        runs.record("", 1)
    with pytest.raises(ValueError, match="chapter"):
        runs.stored("book/audit.md")
    assert runs.stored("nothing_here", directory=tmp_path) is None
    (tmp_path / "bare.json").write_text(json.dumps({"values": {}}))
    with pytest.raises(ValueError, match="provenance"):
        runs.stored("bare", directory=tmp_path)


def test_results_dir_is_found_from_a_chapter_folder():
    assert runs.results_dir(ROOT / "book") == ROOT / "results" / "paper_size"
    assert runs.results_dir(Path("/")) is None


def test_glued_values_are_read_from_an_executed_notebook():
    nb = {"cells": [{"outputs": [
        {"metadata": {"scrapbook": {"name": "acc"}}, "data": {paper_runs.GLUE_MIME: "'0.83'"}},
        {"metadata": {"scrapbook": {"name": "n"}}, "data": {paper_runs.GLUE_MIME: "24752"}},
        {"metadata": {"scrapbook": {"name": "line"}}, "data": {   # glued as Markdown: its text, not its repr
            paper_runs.GLUE_MIME: "<IPython.core.display.Markdown object>",
            paper_runs.GLUE_MARKDOWN: "Stored: `python tools/paper_runs.py audit`."}},
        {"metadata": {}, "data": {"text/plain": "ignored"}}]}]}
    assert paper_runs.glued_values(nb) == {"acc": "0.83", "n": "24752",
                                           "line": "Stored: `python tools/paper_runs.py audit`."}


STORED = sorted((ROOT / runs.RESULTS_DIR).glob("*.json"))


@pytest.mark.parametrize("path", STORED, ids=[p.stem for p in STORED])
def test_every_stored_run_is_complete(path):
    """A stored run names a known experiment, carries its provenance and every value its chapter reads."""
    assert path.stem in paper_runs.EXPERIMENTS, f"{path.name} is not an experiment of tools/paper_runs.py"
    run = runs.stored(path.stem)
    prov = run.provenance
    for key in runs.PROVENANCE_KEYS:
        assert prov[key] not in (None, "", {}), f"{path.name}: empty provenance {key!r}"
    assert prov["environment"].get("FAIRNOTES_PAPER_SIZE") == "1"
    assert "FAIRNOTES_FAST" not in prov["environment"], "a fast-mode run is not a paper-size run"
    assert prov["wall_seconds"] > 0 and prov["commit"] != "unknown"
    expected = paper_runs.EXPERIMENTS[path.stem]["records"]
    missing = [name for name in expected if name not in run.values]
    assert not missing, f"{path.name} lacks the recorded values {missing}: run it again"
    assert run.glued, f"{path.name} holds no glued value"


def test_chapters_read_only_stored_runs_that_exist():
    """A chapter that shows a stored run's column reads an experiment of the tool, by its own name;
    the Performance appendix, which projects the time of every run, reads experiments that exist."""
    import re

    for chapter in (ROOT / "book").glob("*.md"):
        text = chapter.read_text()
        if chapter.stem == "performance":
            names = re.findall(r'runs\.stored\(\s*f?["\']([^"\'{]+)["\']', text)
            assert all(n in paper_runs.EXPERIMENTS for n in names), f"performance.md reads {names}"
            continue
        if "runs.stored(" in text:
            assert f'runs.stored("{chapter.stem}")' in text, f"{chapter.name} reads another chapter's stored run"
            assert chapter.stem in paper_runs.EXPERIMENTS


import ablations  # noqa: E402


def test_stored_ablation_round_trip_and_its_own_folder(tmp_path):
    df = pd.DataFrame({"variant": ["book", "lambda x3"], "!Match": [642, 1015], "ratio": [3.1, np.nan]})
    prov = {k: "x" for k in runs.PROVENANCE_KEYS} | {"wall_seconds": 600.0, "cores": 2, "commit": "abcdef0123"}
    (tmp_path / "pivot.json").write_text(json.dumps({"provenance": prov, "values": {"variants": runs.to_json(df)}}))
    run = runs.stored_ablation("pivot", directory=tmp_path)
    back = run["variants"]
    assert list(back["variant"]) == ["book", "lambda x3"] and np.isnan(back.loc[1, "ratio"])
    assert run.line().startswith("Stored ablation:") and "10 min" in run.line()
    with pytest.raises(KeyError, match="tools/ablations.py pivot --force"):
        run["fits"]
    assert runs.results_dir(ROOT / "book", kind="ablations") == ROOT / "results" / "ablations"
    with pytest.raises(ValueError, match="kind"):
        runs.results_dir(ROOT, kind="paper")


def test_ablation_pieces_resume(tmp_path, monkeypatch):
    monkeypatch.setattr(ablations, "PARTIAL_DIR", tmp_path)
    calls = []
    p = ablations.Pieces("demo", fresh=False)
    assert p.get("a", lambda: calls.append(1) or {"x": np.float64(np.nan), "n": np.int64(2)}) == {"x": None, "n": 2}
    again = ablations.Pieces("demo", fresh=False)          # a new invocation reads the finished piece back
    assert again.get("a", lambda: calls.append(2) or {}) == {"x": None, "n": 2} and calls == [1]
    assert ablations.Pieces("demo", fresh=True).rows == {}


def test_ablation_tool_refuses_fast_mode_and_unknown_names(monkeypatch, capsys):
    monkeypatch.setenv("FAIRNOTES_FAST", "1")
    with pytest.raises(SystemExit):
        ablations.main(["pivot"])
    with pytest.raises(SystemExit):
        ablations.main(["pivots", "--list"])


STORED_ABLATIONS = sorted((ROOT / runs.ABLATIONS_DIR).glob("*.json"))


@pytest.mark.parametrize("path", STORED_ABLATIONS, ids=[p.stem for p in STORED_ABLATIONS])
def test_every_stored_ablation_is_complete(path):
    """A stored ablation names a known ablation, carries its provenance and every table it declares."""
    assert path.stem in ablations.ABLATIONS, f"{path.name} is not an ablation of tools/ablations.py"
    run = runs.stored_ablation(path.stem)
    for key in runs.PROVENANCE_KEYS:
        assert run.provenance[key] not in (None, "", {}) or key == "environment", f"{path.name}: empty {key!r}"
    assert "FAIRNOTES_FAST" not in run.provenance["environment"], "an ablation runs at the book's sizes"
    assert run.provenance["commit"] != "unknown" and run.provenance["wall_seconds"] >= 0
    _, _, chapter, tables = ablations.ABLATIONS[path.stem]
    assert all(t in run.values for t in tables), f"{path.name} lacks one of {tables}"
    table = run[tables[0]]
    assert isinstance(table, pd.DataFrame) and len(table) > 0
    assert f'runs.stored_ablation("{path.stem}")' in (ROOT / "book" / f"{chapter}.md").read_text(), \
        f"the chapter {chapter} does not show the ablation {path.stem}"


def test_stored_numbers_read_back_exactly_as_written():
    """A key such as the target 0.3 comes back as 0.3, not 0.30000000000000004 (a merge on it would miss)."""
    df = pd.DataFrame({"target": [0.1, 0.2, 0.3, 0.7, 1e-6, 123456.789], "lambda": [0.3, 3.0, 30.0, 0.03, 0.6, 0.9],
                       "n": [1, 2, 3, 4, 5, 6], "DI": [0.1 + 0.2, np.nan, 0.55, 2 / 3, 0.7, 0.8]})
    for table in (df, df.set_index(["target", "lambda"])):
        back = runs.from_json(json.loads(json.dumps(runs.to_json(table))))
        back_flat, flat = back.reset_index(), table.reset_index()
        for col in ("target", "lambda"):
            assert back_flat[col].tolist() == flat[col].tolist(), f"{col}: {back_flat[col].tolist()}"
        assert 0.3 in back_flat["target"].tolist() and 0.3 in set(back_flat["lambda"])
        merged = flat[["target", "n"]].merge(back_flat[["target", "DI"]], on="target")
        assert len(merged) == len(flat), "the merge on the stored key lost rows"
        assert back_flat["n"].tolist() == [1, 2, 3, 4, 5, 6]
    assert list(runs.from_json(runs.to_json(df.set_index("target"))).index) == df["target"].tolist()


STORED_FILES = STORED + STORED_ABLATIONS


@pytest.mark.parametrize("path", STORED_FILES, ids=[f"{p.parent.name}-{p.stem}" for p in STORED_FILES])
def test_stored_tables_read_back_exactly_as_the_file_writes_them(path):
    """Every number of every stored DataFrame reads back as the decimal text of the file says."""
    values = json.loads(path.read_text())["values"]
    frames = {k: v for k, v in values.items() if isinstance(v, dict) and "__dataframe__" in v}
    for name, stored in frames.items():
        raw = json.loads(stored["__dataframe__"])        # the standard library parses decimals exactly
        back = runs.from_json(stored).reset_index()
        assert len(back) == len(raw["data"]), f"{path.name} {name}: rows lost"
        for j, col in enumerate(raw["columns"]):
            for i, written in enumerate(row[j] for row in raw["data"]):
                got = back[col].iloc[i]
                if isinstance(written, float):
                    assert got == written, f"{path.name} {name}[{col!r}] row {i}: file {written!r}, read {got!r}"


def test_fairgp_authors_opp_jobs_follow_table_3_and_the_papers_recipe():
    """The ``fairgp_authors_opp`` ablation (no fit here): every split fits GP, GP* and FairGP and FairGP* at
    Table 3's target TPRs for race and sex, GP* and GP first; FairGP's target TNR is the smaller of the
    groups' TNRs of the authors' own GP runs (GP* for FairGP*), as the paper's recipe and its Table 3 give it."""
    from fairnotes import papers

    jobs = ablations.fairgp_authors_opp_jobs()
    n = ablations.FAIRGP_AUTHORS_OPP_REPEATS
    assert len(jobs) == n * 2 * (2 + 2 * len(ablations.FAIRGP_AUTHORS_OPP_TARGETS))
    assert list(jobs)[:4] == ["race|0|GP*", "sex|0|GP*", "race|0|GP", "sex|0|GP"]
    assert tuple(ablations.FAIRGP_AUTHORS_OPP_TARGETS) == (0.6, 0.7, 0.8, 0.9, 1.0)
    t3 = papers.table("fairgp_table3")
    for attr, seed, label, kind, tpr, tnr in jobs.values():
        assert (tpr is None) == (kind in ("GP", "GP*")) and (tnr is None) == (tpr is None)
        if tnr is not None:
            gp = t3[(t3["attribute"] == attr) & (t3["algorithm"] == kind.replace("FairGP", "GP"))].iloc[0]
            assert abs(tnr - min(gp["TNR0"], gp["TNR1"])) <= 0.005, (attr, kind, tnr)
            assert label == f"{kind}, TPR={tpr:.1f}"
    assert ablations.ABLATIONS["fairgp_authors_opp"][2] == "fairgp_opportunity"
