"""The command line that ``tools/paper_runs.py`` and ``tools/ablations.py`` share.

Both store results under ``results/`` (one JSON file a name, with its provenance), run what is not
stored yet (or, with ``--force``, what they are asked to), list what is stored (``--list``), and run
their pieces where ``--workers``/``--scheduler`` say (see ``tools/cluster.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Callable, Iterable, Mapping

from toc import ROOT


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def usable_cores() -> int:
    """Cores this process may run on (its affinity, which a container or a batch job may restrict)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not Linux
        return os.cpu_count() or 1


def add_cluster_arguments(p: argparse.ArgumentParser) -> None:
    """``--workers N`` and ``--scheduler ADDRESS``."""
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help=f"run the pieces on a local Dask cluster of N single-threaded worker processes (default: "
                        f"the usable cores, here {usable_cores()}); 0 runs them one after another in this process")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the pieces on an existing Dask cluster, e.g. tcp://10.0.0.1:8786 (workers started on "
                        "a SLURM cluster with dask-jobqueue: see book/running.md)")


def cluster_arguments(p: argparse.ArgumentParser, args) -> dict:
    """``workers``/``scheduler`` for :func:`cluster.run_pieces` from the parsed arguments, or a usage error."""
    if args.workers is not None and args.scheduler is not None:
        p.error("give --workers (a local cluster) or --scheduler (an existing one), not both")
    workers = usable_cores() if args.workers is None else args.workers
    if workers < 0:
        p.error(f"--workers must be 0 (one after another in this process) or more, got {workers}")
    return {"workers": workers, "scheduler": args.scheduler}


def parser(doc: str, *, noun: str, names: Iterable[str], force_help: str) -> argparse.ArgumentParser:
    """The shared arguments: the ``names`` to run (positional), ``--force``, ``--list`` and the cluster's."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar=noun,
                   help=f"{noun}s to run (default: every one not stored yet): {', '.join(names)}")
    p.add_argument("--force", action="store_true", help=force_help)
    p.add_argument("--list", action="store_true", help=f"list the {noun}s and whether each is stored")
    add_cluster_arguments(p)
    return p


def parse(p: argparse.ArgumentParser, argv, *, noun: str, names: Iterable[str]):
    """``(args, where)``: the parsed arguments, with every name known, and where the pieces run."""
    args = p.parse_args(argv)
    names = list(names)
    unknown = [a for a in args.names if a not in names]
    if unknown:
        p.error(f"unknown {noun}(s) {unknown}; the {noun}s are {names}")
    return args, cluster_arguments(p, args)


def print_stored(described: Mapping[str, str], results_path: Callable[[str], Path], *, width: int) -> None:
    """``--list``: each name, whether it is stored (when, how long, at which commit) and what it is."""
    for name, what in described.items():
        path = results_path(name)
        if path.exists():
            prov = json.loads(path.read_text())["provenance"]
            state = f"stored ({prov['finished']}, {prov['wall_seconds'] / 60:.0f} min, commit {prov['commit'][:10]})"
        else:
            state = "not stored"
        print(f"{name:{width}s} {state}\n{'':{width}s} {what}")


def to_run(asked: list[str], names: Iterable[str], results_path: Callable[[str], Path], *, again: bool) -> list[str]:
    """The names to run: those asked for (by default every one not stored yet), without the stored
    ones unless ``again`` (``--force``); says which are skipped."""
    todo = asked or [n for n in names if not results_path(n).exists()]
    run = []
    for name in todo:
        if results_path(name).exists() and not again:
            print(f"{name}: stored already (use --force to run it again)")
            continue
        run.append(name)
    return run


def command_line(script: str, argv) -> str:
    """The command as typed, for the provenance: ``python tools/<script> <arguments>``."""
    words = argv if argv is not None else sys.argv[1:]
    return (f"python tools/{script} " + " ".join(shlex.quote(a) for a in words)).strip()
