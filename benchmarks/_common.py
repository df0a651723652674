"""What every benchmark script shares: a description of the machine and writing the results CSV."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd


def cpu_name() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cores() -> int:
    """Cores this process may run on (its affinity), which a container may set below the total."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load_1min() -> float:
    """The 1-minute load average (NaN where the OS has none): a busy machine makes times noisy."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else float("nan")


def commit() -> str:
    """The repository's commit (with "+changes" when the work tree differs from it), or "unknown"."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def machine_info(**versions) -> dict:
    """Provenance: the command, commit, date, machine, CPU, usable cores, load and Python version,
    plus the given ``versions``."""
    return {
        "command": " ".join(["python", *map(shlex.quote, sys.argv)]),
        "commit": commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpu": cpu_name(), "cores": usable_cores(), "load_1min_at_start": load_1min(),
        "python": platform.python_version(), **versions,
    }


def write_results(table: pd.DataFrame, info: dict, out) -> Path:
    """Append ``info`` as constant columns to ``table``, write it to ``out`` (CSV) and say where."""
    table = table.copy()
    for k, v in info.items():
        table[k] = v
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    print(f"wrote {out}")
    return out


# ------------------------------------------------------------- what the torch benchmarks set up alike

def timing_parser(doc: str, out, *, epochs: int = 2) -> "argparse.ArgumentParser":
    """The options of a round-robin torch benchmark: ``--rounds``, ``--min-time``, ``--epochs``,
    ``--threads`` and ``--out`` (default ``out``); a script adds its own."""
    import argparse

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--min-time", type=float, default=0.3, help="seconds per method and round, at least")
    parser.add_argument("--epochs", type=int, default=epochs, help="training epochs of the network(s)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--out", default=str(out))
    return parser


def start(args) -> None:
    """Torch's threads as ``--threads`` asks (torch's default otherwise) and the book's seed 0."""
    import torch

    from fairnotes.runtime import seed_everything

    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(0, tensorflow=False)


def unaware_network(epochs: int, fixed: tuple[str, ...]):
    """The book's unmitigated "linear" network on Adult trained without the race column, its split,
    and one shift fitted on the training rows (method "linear", the ``fixed`` features kept):
    ``(net, split, shift)``, as the chapters *Audits through proxies* and *Auditing a deployed model* build them."""
    from fairnotes import presets, recipes, shifts

    net, _, sp = recipes.unmitigated_model("adult", "linear", epochs=epochs, s_as_input=False, progress=False)
    shift = shifts.fit_shift(sp.X_train, sp.s_train, method="linear",
                                     fixed=[sp.feature_names.index(f) for f in fixed])
    return net, sp, shift


def round_robin(methods: dict, *, rounds: int, min_time: float, max_calls: int) -> tuple[dict, dict]:
    """Time ``methods`` (name -> function of no argument) round robin after a warm-up.

    The warm-up call also calibrates: a method faster than ``min_time`` is called ``number`` times
    per round (at most ``max_calls``) and its time for that round is the mean per call, so that a
    millisecond call is not at the mercy of one scheduler hiccup or of the caches a slow method
    just emptied. Returns the median over rounds of each method's seconds per call, and ``number``.
    """
    import statistics
    import time

    number = {}
    for name, f in methods.items():
        t0 = time.perf_counter()
        f()
        number[name] = max(1, min(max_calls, int(min_time / max(time.perf_counter() - t0, 1e-6))))
    times = {name: [] for name in methods}
    for _ in range(rounds):
        for name, f in methods.items():
            t0 = time.perf_counter()
            for _ in range(number[name]):
                f()
            times[name].append((time.perf_counter() - t0) / number[name])
    return {name: statistics.median(v) for name, v in times.items()}, number
