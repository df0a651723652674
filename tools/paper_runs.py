"""Run the chapters at the papers' sizes and store what they compute, with provenance.

Usage, from the repository root, by hand (hours; not part of the build or the tests)::

    python tools/paper_runs.py --list               # which experiments exist and which are stored
    python tools/paper_runs.py fairgp_parity        # one experiment (a chapter)
    python tools/paper_runs.py                      # every experiment not stored yet, in order
    python tools/paper_runs.py audit --force        # run again, replacing the stored result
    python tools/paper_runs.py --workers 4          # the experiments on a local Dask cluster of 4 processes
    python tools/paper_runs.py --workers 0          # one after another in this process
    python tools/paper_runs.py --scheduler tcp://10.0.0.1:8786   # on an existing Dask cluster

Each experiment is one piece: by default the pieces run on a local Dask cluster of one
single-threaded worker process per usable core, or on an existing cluster (``--scheduler``; its
workers must see this repository at the same path); ``tools/cluster.py`` runs them, and each
results file is written as soon as its chapter finishes, with ``workers`` and ``scheduler`` in its
provenance. A chapter runs with one thread in every mode.

Each experiment is one chapter of the book executed from a fresh kernel with
``FAIRNOTES_PAPER_SIZE=1`` (every test row, 500 inducing inputs, ten repeated splits where
affordable, the unmitigated Adult CNN's 10 epochs, ...: see :func:`fairnotes.runtime.paper_scale` and the chapters' set-up
cells). The run writes ``results/paper_size/<chapter>.json``: the values the chapter recorded with
:func:`fairnotes.runs.record`, every value it glued into its text, and the provenance (command,
commit, start and end date, machine, cores, wall and CPU time, load, package versions, the
``FAIRNOTES_*`` variables). The executed notebook goes to ``_build/paper_runs/<chapter>.ipynb``
(not committed: it holds the figures). Commit the JSON files; the chapters show them beside the
paper and the live build (:func:`fairnotes.runs.stored`).

Resumable experiment by experiment: a stored experiment is skipped unless ``--force``; an
interrupted one starts again from its beginning, but the networks it trained are in the training
cache (``~/.cache/fairnotes``) and are not trained again. Run it on an otherwise idle machine: the
wall times are part of the record. The order of the experiments follows the chapters' reuse of
trained networks (the pivot networks of *Adversarial mitigation* serve *Auditing* and
*Comparing mitigations*).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from book import run_chapter  # noqa: E402
from cluster import check_where, run_pieces  # noqa: E402
import stored_runs_cli as cli  # noqa: E402
from envvars import environment  # noqa: E402
from provenance import git_commit, machine, now, versions  # noqa: E402
from toc import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT))
from fairnotes.runs import PROVENANCE_KEYS, RECORD_ENV, RESULTS_DIR  # noqa: E402

#: The experiments, in the order they run: chapter -> what its paper size changes, and the values
#: the chapter records (its stored-run column reads them; the run fails if one is missing).
EXPERIMENTS = {
    "fairgp_parity": {
        "what": "500 inducing inputs; 10 repeated splits for Table 1, 2 per target for Table 2",
        "records": ["sizes", "table1", "table2"]},
    "fairgp_opportunity": {
        "what": "500 inducing inputs; 3 repeated splits for Table 3 (10 would take over three hours)",
        "records": ["sizes", "table3"]},
    "adversarial": {
        "what": "the unmitigated Adult CNN trained for 10 epochs and the CNNs' games evaluated every 5 rounds "
                "(the recipe's 164 rounds with the adversary on every row are the default build's too)",
        "records": ["sizes", "final"]},
    "audit": {
        "what": "smooth sensitivity with 50 draws for every test row of every model (the adversarial "
                "chapter's paper-size networks)",
        "records": ["sizes", "figure1", "means", "fig4_both"]},
}

GLUE_MIME = "application/papermill.record/text/plain"
GLUE_MARKDOWN = "application/papermill.record/text/markdown"


def results_path(chapter: str) -> Path:
    return ROOT / RESULTS_DIR / f"{chapter}.json"


def glued_values(nb) -> dict:
    """Every value the executed notebook glued (name -> its text form)."""
    out = {}
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            data = o.get("data", {})
            if name and GLUE_MARKDOWN in data:   # glued as Markdown (shown with {glue:md}): its text
                out[name] = data[GLUE_MARKDOWN]
            elif name and GLUE_MIME in data:
                text = data[GLUE_MIME]
                out[name] = text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text
    return out


def compute_experiment(chapter: str, command: str) -> dict:
    """Execute one chapter at paper size; return what its results file holds (one piece: a Dask worker
    or this process runs it; the executed notebook goes to ``_build/paper_runs`` of the repository)."""
    source = ROOT / "book" / f"{chapter}.md"
    notebooks = ROOT / "_build" / "paper_runs"
    notebooks.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write("{}")
        recorded = Path(f.name)
    started, load0, commit = now(), os.getloadavg()[0], git_commit()   # the code the run starts from
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with environment(FAIRNOTES_PAPER_SIZE="1", FAIRNOTES_FAST=None, **{RECORD_ENV: str(recorded)}):
        import nbformat

        out_nb = notebooks / f"{chapter}.ipynb"
        wall = run_chapter(source, out_nb, timeout=6 * 3600)
        nb = nbformat.read(out_nb, as_version=4)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    values = json.loads(recorded.read_text() or "{}")
    recorded.unlink(missing_ok=True)
    provenance = {
        "command": command,
        "commit": commit,
        "started": started,
        "finished": now(),
        "machine": machine(),
        "cores": os.cpu_count(),
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round((cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime), 1),
        "load_1min_at_start": round(load0, 2),
        "load_1min_at_end": round(os.getloadavg()[0], 2),
        "versions": versions(),
        "environment": {"FAIRNOTES_PAPER_SIZE": "1",
                        **{k: v for k, v in os.environ.items() if k.startswith("FAIRNOTES_")
                           and k not in ("FAIRNOTES_PAPER_SIZE", RECORD_ENV)}},
        "what_paper_size_changes": EXPERIMENTS[chapter]["what"],
    }
    assert all(k in provenance for k in PROVENANCE_KEYS)
    missing = [r for r in EXPERIMENTS[chapter]["records"] if r not in values]
    if missing:
        raise RuntimeError(f"{chapter} ran but recorded no {missing}: nothing stored (the executed notebook "
                           f"is in {notebooks})")
    return {"chapter": chapter, "provenance": provenance, "values": values, "glued": glued_values(nb)}


def store_experiment(result: dict, where: dict) -> Path:
    """Write one experiment's results file, with where it ran (workers, scheduler) in its provenance."""
    result = dict(result, provenance={**result["provenance"], **where})
    path = results_path(result["chapter"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n")
    return path


def run_experiments(chapters: list[str], command: str, *, workers: int = 0, scheduler: str | None = None,
                    progress: bool | None = None) -> list[Path]:
    """Run ``chapters`` at paper size, one after another in this process (``workers=0``), on a local Dask
    cluster of ``workers`` processes, or on the cluster at ``scheduler``; write each results file as
    soon as its chapter finishes. Returns the files written."""
    check_where(workers, scheduler)
    # where the pieces run (workers=0: this process), written into every results file
    workers = min(workers, len(chapters))   # as run_pieces: no more local workers than pieces
    where = {"workers": workers, "scheduler": "LocalCluster" if workers else None, "threads_per_piece": 1}
    written = []

    def keep(chapter: str, done: dict) -> None:
        path = store_experiment(done["result"], {**where, "process": done["process"]})
        print(f"{chapter}: {done['seconds']:.0f} s, wrote {cli.shown(path)}", flush=True)
        written.append(path)

    if scheduler is not None:   # ask the cluster how many workers it has before the first piece is stored
        from distributed import Client

        with Client(scheduler) as client:
            where.update(workers=len(client.scheduler_info(n_workers=-1)["workers"]), scheduler=scheduler)
    run_pieces({c: ("paper_runs", "compute_experiment", (c, command)) for c in chapters}, keep,
               workers=workers, scheduler=scheduler, desc="paper-size runs", progress=progress)
    return written


def main(argv=None) -> int:
    p = cli.parser(__doc__, noun="experiment", names=EXPERIMENTS, force_help="run again and replace a stored result")
    args, where = cli.parse(p, argv, noun="experiment", names=EXPERIMENTS)
    if args.list:
        cli.print_stored({name: spec["what"] for name, spec in EXPERIMENTS.items()}, results_path, width=20)
        return 0
    run = cli.to_run(args.names, EXPERIMENTS, results_path, again=args.force)
    for name in run:
        print(f"{name}: running at paper size ({EXPERIMENTS[name]['what']}) ...", flush=True)
    run_experiments(run, cli.command_line("paper_runs.py", argv), **where)
    return 0


if __name__ == "__main__":
    sys.exit(main())
