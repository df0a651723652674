"""Provenance of a stored result (a paper-size run, an ablation): commit, machine, versions, date.

Used by ``tools/paper_runs.py`` and ``tools/ablations.py``.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from pathlib import Path

from toc import ROOT


def git_commit(paths=("fairnotes", "book", "tools")) -> str:
    """HEAD's commit, with ``+changes`` if ``paths`` (the code the run executes) differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *paths], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpu or 'unknown CPU'}"


def versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("fairnotes", "numpy", "pandas", "scipy", "scikit-learn", "torch", "tensorflow", "gpflow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
