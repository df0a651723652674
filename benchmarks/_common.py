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
