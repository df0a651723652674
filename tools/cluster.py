"""Run independent pieces of work on a Dask cluster, or one after another in this process.

Used by ``tools/paper_runs.py`` (a piece is one chapter executed at paper size) and
``tools/ablations.py`` (a piece is one configuration of an ablation on one split). A piece is named
by a key and given as ``(module, function, args)``: the function, importable from ``tools/`` or the
package, is a pure function of its arguments (its settings and seed) that returns the piece's
result as JSON-able data. :func:`run_pieces` computes every piece and hands each result, as soon as
it is finished, to a callback that stores it, so that an interrupted run keeps what it finished.

Where the pieces run:

* ``workers=0``: one after another in this process (no Dask), the baseline;
* ``workers=N`` (N >= 1): on a :class:`distributed.LocalCluster` of N worker processes that it starts
  and stops;
* ``scheduler="tcp://host:8786"``: on an existing Dask cluster (e.g. workers started on a SLURM
  cluster with dask-jobqueue, see the appendix "Running the book"); its workers must see this
  repository at the same path (a shared file system) and run the same environment.

Every piece runs with one thread (OpenMP, MKL, OpenBLAS, torch and TensorFlow), in every mode: two
workers on two cores do not oversubscribe them, and the numbers do not depend on the number of
workers (torch's and BLAS's reductions can depend on the number of threads).
"""

from __future__ import annotations

import os
import resource
import socket
import sys
import time
from pathlib import Path
from typing import Callable

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent

#: The variables that set the number of threads of the numerical libraries, all set to 1 for a piece.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def one_thread_environment() -> None:
    """Set every variable of :data:`THREAD_VARIABLES` to 1 in this process (and so in the kernels and
    libraries it starts later)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"


def run_piece(paths: list[str], module: str, function: str, args: tuple) -> dict:
    """Compute one piece with one thread: ``module.function(*args)``; return its result and times.

    Runs on a worker (sent by value, so that a worker needs nothing of this folder but what
    ``paths`` names) or in this process. Returns ``{"result": ..., "seconds": wall, "cpu_seconds": CPU
    of this process and of the processes it waited for, "process": "host:pid" that computed it}``.
    """
    import importlib

    for p in reversed(paths):
        if p not in sys.path:
            sys.path.insert(0, p)
    one_thread_environment()
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    from threadpoolctl import threadpool_limits

    fn = getattr(importlib.import_module(module), function)
    t0, c0 = time.perf_counter(), _cpu()
    with threadpool_limits(limits=1):
        result = fn(*args)
    return {"result": result, "seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0,
            "process": f"{socket.gethostname()}:{os.getpid()}"}


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def check_where(workers: int, scheduler: str | None) -> None:
    """A clear error for a number of workers or a scheduler address that cannot be used."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be a non-negative integer (0: one after another in this process), "
                         f"got {workers!r}")
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler and ":" not in scheduler):
        raise ValueError(f"scheduler must be a Dask scheduler's address such as 'tcp://10.0.0.1:8786', got "
                         f"{scheduler!r}")


def run_pieces(pieces: dict[str, tuple[str, str, tuple]], on_done: Callable[[str, dict], None], *,
               workers: int = 0, scheduler: str | None = None, desc: str = "pieces",
               progress: bool | None = None) -> dict:
    """Compute every piece (key -> ``(module, function, args)``) and call ``on_done(key, done)`` with
    :func:`run_piece`'s answer for each, in the order they finish.

    ``workers=0`` computes them one after another in this process, ``workers=N`` on a local Dask
    cluster of N single-threaded worker processes, ``scheduler=ADDRESS`` on an existing cluster
    (``workers`` is then ignored); a local cluster has no more workers than pieces. The first piece
    that fails stops the run with its error; the pieces finished before it have been handed to
    ``on_done``. Returns where the pieces ran:
    ``{"workers": number of worker processes (0: this process), "scheduler": address or None,
    "threads_per_piece": 1}``.
    """
    check_where(workers, scheduler)
    from fairnotes.runtime import progress as bar

    paths = [str(TOOLS), str(ROOT)]
    info = {"workers": 0 if scheduler is None else None, "scheduler": scheduler, "threads_per_piece": 1}
    if not pieces:
        return info
    if scheduler is None and workers == 0:
        one_thread_environment()
        for key, (module, function, args) in bar(list(pieces.items()), desc=desc, unit="piece",
                                                 disable=None if progress is None else not progress):
            on_done(key, run_piece(paths, module, function, args))
        return info

    import cloudpickle
    import dask
    from distributed import Client, LocalCluster, as_completed

    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # workers need not import this file
    cluster = None
    if scheduler is None:
        workers = min(workers, len(pieces))   # no idle worker processes
        # the workers' statistical profiler samples every thread every 10 ms: CPU a piece would otherwise get
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   env={name: "1" for name in THREAD_VARIABLES})
    try:
        with Client(cluster if cluster is not None else scheduler) as client:
            info["workers"] = len(client.scheduler_info(n_workers=-1)["workers"]) if scheduler else workers
            info["scheduler"] = scheduler or "LocalCluster"
            futures = {client.submit(run_piece, paths, module, function, args, key=f"{desc}-{key}", pure=False): key
                       for key, (module, function, args) in pieces.items()}
            for future in bar(as_completed(futures), total=len(futures), desc=desc, unit="piece",
                              disable=None if progress is None else not progress):
                on_done(futures[future], future.result())
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        if cluster is not None:
            cluster.close()
    return info
