"""The ablations' pieces computed on a local Dask cluster equal a sequential run, and resume.

Two small pieces of the ZafarEqOpp ablation (the unconstrained logistic regression on ProPublica,
race and sex, one split each: about a second of fitting each) are computed one after another in
this process and on a LocalCluster of two worker processes, through ``tools/ablations.py``'s own
gathering step; the stored tables must be identical, except the column ``seconds`` (each fit's
wall time, a measurement). A second invocation must find both pieces finished and compute nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import ablations  # noqa: E402
import cluster  # noqa: E402

from fairnotes import runs  # noqa: E402

KEYS = ["race|0|unconstrained logistic regression", "sex|0|unconstrained logistic regression"]


def two_pieces() -> ablations.Ablation:
    """The ZafarEqOpp ablation cut down to the two pieces of :data:`KEYS` (same piece function)."""
    jobs = {k: ablations.zafar_eqopp_jobs()[k] for k in KEYS}
    return ablations.Ablation(lambda: jobs, ablations.zafar_eqopp_piece,
                              lambda rows: {"fits": pd.DataFrame([rows[k] for k in KEYS]), "settings": {"keys": KEYS}})


def run(tmp: Path, monkeypatch, **where) -> tuple[pd.DataFrame, dict]:
    """Run the two-piece ablation with its partial and results files in ``tmp``; return table and provenance."""
    monkeypatch.setattr(ablations, "PARTIAL_DIR", tmp / "partial")
    monkeypatch.setattr(ablations, "results_path", lambda name: tmp / f"{name}.json")
    ablations.run_ablation("zafar_eqopp", "test", fresh=False, progress=False, **where)
    stored = runs.stored_ablation("zafar_eqopp", directory=tmp)
    return stored["fits"], stored.provenance


def test_two_pieces_on_a_local_cluster_equal_a_sequential_run(tmp_path, monkeypatch):
    monkeypatch.setitem(ablations.ABLATIONS, "zafar_eqopp", (*ablations.ABLATIONS["zafar_eqopp"][:1], two_pieces(),
                                                             *ablations.ABLATIONS["zafar_eqopp"][2:]))
    # the workers import tools/ablations.py afresh: there the piece keys are those of the full ablation,
    # of which KEYS are two
    assert set(KEYS) <= set(ablations.zafar_eqopp_jobs())
    sequential, prov0 = run(tmp_path / "sequential", monkeypatch, workers=0)
    on_cluster, prov2 = run(tmp_path / "cluster", monkeypatch, workers=2)

    assert len(sequential) == 2 and list(sequential["attribute"]) == ["race", "sex"]
    pd.testing.assert_frame_equal(sequential.drop(columns="seconds"), on_cluster.drop(columns="seconds"),
                                  check_exact=True)
    assert prov0["workers"] == 0 and prov0["scheduler"] is None and prov0["pieces_computed"] == 2
    assert prov2["workers"] == 2 and prov2["scheduler"] == "LocalCluster" and prov2["threads_per_piece"] == 1
    assert set(prov2["piece_seconds"]) == set(KEYS)
    assert all(k in prov2 for k in runs.PROVENANCE_KEYS)

    # resume: both pieces are in the partial file, so nothing is computed and no cluster is started
    again, prov_again = run(tmp_path / "cluster", monkeypatch, workers=2)
    assert prov_again["pieces_reused"] == 2 and prov_again["pieces_computed"] == 0 and prov_again["piece_seconds"] == {}
    pd.testing.assert_frame_equal(again, on_cluster, check_exact=True)


def test_pieces_run_in_worker_processes_with_one_thread():
    """On the cluster, a piece runs in another process, with every thread variable at 1."""
    pieces = {"env": ("os", "getenv", ("OMP_NUM_THREADS",)), "tf": ("os", "getenv", ("TF_NUM_INTRAOP_THREADS",))}
    done = {}
    info = cluster.run_pieces(pieces, done.__setitem__, workers=2, progress=False)
    assert info == {"workers": 2, "scheduler": "LocalCluster", "threads_per_piece": 1}
    assert {k: d["result"] for k, d in done.items()} == {"env": "1", "tf": "1"}
    assert all(not d["process"].endswith(f":{os.getpid()}") for d in done.values())


def test_bad_workers_or_scheduler_are_named():
    with pytest.raises(ValueError, match="workers must be a non-negative integer"):
        cluster.run_pieces({}, print, workers=-1)
    with pytest.raises(ValueError, match="scheduler must be a Dask scheduler's address"):
        cluster.run_pieces({}, print, scheduler="nowhere")
    with pytest.raises(SystemExit):
        ablations.main(["zafar_eqopp", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"])


def test_paper_runs_gather_each_chapter_into_its_file_with_where_it_ran(tmp_path, monkeypatch):
    """The gathering step of tools/paper_runs.py (the chapter itself replaced by a stand-in: hours)."""
    import paper_runs

    monkeypatch.setattr(paper_runs, "compute_experiment", lambda chapter, command: {
        "chapter": chapter, "provenance": {"command": command}, "values": {"sizes": {"n": 1}}, "glued": {"n": "1"}})
    monkeypatch.setattr(paper_runs, "results_path", lambda chapter: tmp_path / f"{chapter}.json")
    written = paper_runs.run_experiments(["audit"], "python tools/paper_runs.py audit --workers 0", workers=0,
                                         progress=False)
    assert written == [tmp_path / "audit.json"]
    data = json.loads(written[0].read_text())
    assert data["values"] == {"sizes": {"n": 1}} and data["glued"] == {"n": "1"}
    prov = data["provenance"]
    assert prov["workers"] == 0 and prov["scheduler"] is None and prov["threads_per_piece"] == 1
    assert prov["process"].endswith(f":{os.getpid()}") and prov["command"].endswith("--workers 0")
