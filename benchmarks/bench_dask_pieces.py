"""Pieces of an ablation on a local Dask cluster of 2 workers against the same pieces one after another.

Usage, from the repository root, by hand (about four minutes on 2 idle cores)::

    python benchmarks/bench_dask_pieces.py            # 16 pieces of the ZafarEqOpp ablation
    python benchmarks/bench_dask_pieces.py --workers 2 --seeds 0 1

Computes the same pieces of ``tools/ablations.py``'s ZafarEqOpp ablation (four configurations, race
and sex, the given seeds: a few seconds each) twice, through ``tools/cluster.py``: one after another
in one fresh process (the baseline, ``--workers 0`` of the tools, its start included) and on a LocalCluster of ``--workers``
single-threaded processes, started inside the timed interval, in ``--rounds`` rounds (round robin).
Reports each mode's fastest round, the speed-up (baseline / cluster), every piece's wall and CPU
time in both (on a busy machine the wall time exceeds the CPU time), and checks that both give identical
rows (except each fit's own ``seconds``). Writes ``benchmarks/results/dask_pieces.csv``; the
Performance appendix reads it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tools"))
from _common import load_1min, machine_info, write_results  # noqa: E402

import ablations  # noqa: E402
import cluster  # noqa: E402

CONFIGURATIONS = ["book: the authors' code (positives), one-hot", "Zafar's equation (all rows), one-hot",
                  "positives, random start (seed 0)", "positives, random start (seed 1)"]


def pieces(seeds) -> dict:
    jobs = ablations.zafar_eqopp_jobs()
    keys = [f"{attr}|{seed}|{c}" for c in CONFIGURATIONS for attr in ("race", "sex") for seed in seeds]
    return {k: ("ablations", "compute_piece", ("zafar_eqopp", jobs[k])) for k in keys}


def timed(work: dict, workers: int, seeds) -> tuple[float, dict]:
    """Wall time and answers of the pieces; the baseline runs in a fresh process (as ``--workers 0`` of
    the tools would: its imports and data loading are timed, as the workers' are)."""
    done = {}
    t0 = time.perf_counter()
    if workers:
        cluster.run_pieces(work, done.__setitem__, workers=workers, progress=False)
    else:
        out = subprocess.run([sys.executable, __file__, "--baseline", "--seeds", *map(str, seeds)], check=True,
                             capture_output=True, text=True).stdout
        done = json.loads(out.strip().splitlines()[-1])
    return time.perf_counter() - t0, done


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster (default 2)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="splits of each configuration")
    p.add_argument("--rounds", type=int, default=2, help="rounds of both modes, round robin; the fastest of each is kept")
    p.add_argument("--out", type=Path, default=HERE / "results" / "dask_pieces.csv")
    p.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)   # the timed baseline's own process
    args = p.parse_args(argv)
    if args.baseline:
        done = {}
        cluster.run_pieces(pieces(args.seeds), done.__setitem__, workers=0, progress=False)
        print(json.dumps(done))
        return 0
    if args.workers < 1:
        p.error("--workers must be at least 1 (the baseline is the sequential run)")
    work = pieces(args.seeds)
    info = machine_info(dask=__import__("dask").__version__, distributed=__import__("distributed").__version__)
    walls = {0: [], args.workers: []}
    for r in range(args.rounds):   # round robin, so that a change of the machine's load hits both modes
        for workers in walls:
            print(f"round {r + 1}: {len(work)} pieces on " + (f"a local cluster of {workers} workers" if workers
                  else "one process, one after another") + " ...", flush=True)
            wall, done = timed(work, workers, args.seeds)
            walls[workers].append((wall, done))
            print(f"  {wall:.1f} s", flush=True)
    # the fastest round of each mode: the one least disturbed by other work on the machine
    seq_wall, seq = min(walls[0], key=lambda x: x[0])
    par_wall, par = min(walls[args.workers], key=lambda x: x[0])
    same = all({k: v for k, v in a[key]["result"].items() if k != "seconds"}
               == {k: v for k, v in b[key]["result"].items() if k != "seconds"}
               for key in work for _, a in walls[0] for _, b in walls[args.workers])
    rows = [{"kind": "time", "name": "sequential (one process, start included)", "value": seq_wall, "unit": "s", "workers": 0},
            {"kind": "time", "name": f"LocalCluster, {args.workers} workers, start included", "value": par_wall,
             "unit": "s", "workers": args.workers},
            {"kind": "ratio", "name": "speed-up: sequential / cluster", "value": seq_wall / par_wall, "unit": "x",
             "workers": args.workers},
            {"kind": "check", "name": "identical rows (except each fit's seconds)", "value": float(same),
             "unit": "1 = yes", "workers": args.workers}]
    for key in work:   # each piece's wall and CPU time: a CPU time well below the wall time means a busy machine
        for workers, done in ((0, seq), (args.workers, par)):
            rows.append({"kind": "piece", "name": key, "value": done[key]["seconds"], "unit": "s",
                         "workers": workers, "cpu_s": done[key]["cpu_seconds"]})
    for workers, done in ((0, seq), (args.workers, par)):
        rows.append({"kind": "cpu", "name": "CPU time of the pieces, summed", "unit": "s", "workers": workers,
                     "value": sum(d["cpu_seconds"] for d in done.values())})
    table = pd.DataFrame(rows)
    info["load_1min_at_end"] = load_1min()
    print(table[table["kind"] != "piece"].drop(columns="cpu_s").to_string(index=False))
    write_results(table, info, args.out)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
