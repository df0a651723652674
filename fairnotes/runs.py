"""Stored paper-size runs: what a chapter computes at the papers' sizes, kept with its provenance.

The default build executes every chapter at the book's sizes, which are smaller than the papers'
in places (fewer repeated splits, fewer inducing inputs, a subset of the rows). To show what the
papers' sizes give without making every build take hours, ``python tools/paper_runs.py``
executes the chapters with ``FAIRNOTES_PAPER_SIZE=1`` by hand and stores, for each, the values the
chapter *records* and every value it glues into its text, with the command, commit, date,
machine, wall time and package versions of the run, in ``results/paper_size/<chapter>.json`` of
the repository. A chapter then shows three columns side by side: the paper, this build (computed
live) and the stored paper-size run (:func:`stored`), with its provenance line.

Two calls:

* :func:`record` ``(name, value)`` in a chapter: a no-op that returns ``value`` unless the
  environment variable ``FAIRNOTES_RECORD`` names a file, which ``tools/paper_runs.py`` sets;
  then the value (a number, a string, a list, a dict of those, or a pandas DataFrame) is written
  into that file under ``name``.
* :func:`stored` ``(chapter)``: the stored run of a chapter, a :class:`StoredRun`, or ``None``
  when the repository holds none.

numpy and pandas only. See the appendix :doc:`/book/running`, section "Stored paper-size runs".
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["RESULTS_DIR", "ABLATIONS_DIR", "RECORD_ENV", "PROVENANCE_KEYS", "record", "results_dir", "stored",
           "stored_ablation", "StoredRun", "to_json", "from_json"]

#: Where the stored runs live, relative to the repository root (the folder holding ``_toc.yml``).
RESULTS_DIR = Path("results") / "paper_size"

#: Where the stored ablations live (``python tools/ablations.py`` writes them), relative to the root.
ABLATIONS_DIR = Path("results") / "ablations"

#: The environment variable naming the file that :func:`record` writes to.
RECORD_ENV = "FAIRNOTES_RECORD"

#: The provenance every stored run carries (``tools/paper_runs.py`` writes them).
PROVENANCE_KEYS = ("command", "commit", "started", "finished", "machine", "cores", "wall_seconds",
                   "versions", "environment")


def to_json(value):
    """A JSON-able form of ``value`` (how :func:`record` and ``tools/ablations.py`` store it): DataFrames
    are tagged so that :func:`from_json` gives them back with their index; NaN becomes ``None``. See the appendix :doc:`/book/running`."""
    if isinstance(value, pd.DataFrame):
        return {"__dataframe__": value.reset_index().to_json(orient="split", double_precision=15),
                "index": [n for n in value.index.names if n is not None]}
    if isinstance(value, pd.Series):
        return to_json(value.to_frame())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) else v
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.ndarray):
        return [to_json(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if value is None or isinstance(value, (int, str)):
        return value
    raise TypeError(f"record() takes numbers, strings, lists, dicts and DataFrames, got {type(value).__name__}")


def from_json(value):
    """The value :func:`to_json` stored (a DataFrame comes back as one, every number exactly as the
    file writes it). See the appendix :doc:`/book/running`."""
    if isinstance(value, dict) and "__dataframe__" in value:
        # precise_float: pandas' default fast parser reads "0.3" as 0.30000000000000004, and a
        # merge on such a key (a target, a lambda) then misses its rows; the exact parser gives
        # back the number as it is written in the file
        df = pd.read_json(StringIO(value["__dataframe__"]), orient="split", precise_float=True)
        return df.set_index(value["index"]) if value["index"] else df
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def record(name: str, value):
    """Keep ``value`` under ``name`` for a stored paper-size run; return ``value`` unchanged.

    Does nothing unless ``FAIRNOTES_RECORD`` names a file (``tools/paper_runs.py`` sets it while it
    executes a chapter); then the file, a JSON object, gains or replaces the entry ``name``.
    See the appendix :doc:`/book/running`.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"record() needs a non-empty string name, got {name!r}")
    encoded = to_json(value)       # a value that cannot be stored fails in every build, not only the paper run
    path = os.environ.get(RECORD_ENV)
    if path:
        p = Path(path)
        data = json.loads(p.read_text()) if p.exists() and p.stat().st_size else {}
        data[name] = encoded
        p.write_text(json.dumps(data, indent=1))
    return value


def results_dir(start: Path | str | None = None, *, kind: str = "paper_size") -> Path | None:
    """``results/paper_size`` (or, ``kind="ablations"``, ``results/ablations``) of the repository
    that holds ``start`` (default: the working folder).

    The repository root is the first folder, from ``start`` upwards, that holds ``_toc.yml``;
    ``None`` if there is none. See the appendix :doc:`/book/running`.
    """
    folders = {"paper_size": RESULTS_DIR, "ablations": ABLATIONS_DIR}
    if kind not in folders:
        raise ValueError(f"kind must be one of {list(folders)}, got {kind!r}")
    here = Path(start or Path.cwd()).resolve()
    for p in (here, *here.parents):
        if (p / "_toc.yml").exists():
            return p / folders[kind]
    return None


@dataclass
class StoredRun:
    """One chapter's stored paper-size run: recorded ``values``, ``glued`` text and ``provenance``.

    ``run[name]`` is the recorded value ``name`` (a DataFrame comes back as one, with its index);
    ``run.glued[name]`` the text the chapter glued under ``name`` at paper size.
    See the appendix :doc:`/book/running`.
    """

    chapter: str
    values: dict
    glued: dict
    provenance: dict
    path: Path | None = None
    notes: list = field(default_factory=list)
    kind: str = "paper_size"

    def __getitem__(self, name: str):
        if name not in self.values:
            tool = "paper_runs" if self.kind == "paper_size" else "ablations"
            what = "paper-size run" if self.kind == "paper_size" else "ablation"
            raise KeyError(f"the stored {what} {self.chapter!r} recorded no {name!r}; it has "
                           f"{sorted(self.values)}. Re-run: python tools/{tool}.py {self.chapter} --force")
        return from_json(self.values[name])

    def line(self) -> str:
        """The provenance in one sentence, for under a table or a figure."""
        p = self.provenance
        hours = p["wall_seconds"] / 3600
        took = f"{hours:.1f} h" if hours >= 1 else f"{p['wall_seconds'] / 60:.0f} min"
        what = "Stored paper-size run" if self.kind == "paper_size" else "Stored ablation"
        return (f"{what}: `{p['command']}`, commit {p['commit'][:10]}, finished "
                f"{p['finished']}, {p['machine']} ({p['cores']} cores), {took} wall time.")


def stored(chapter: str, *, directory: Path | str | None = None, kind: str = "paper_size") -> StoredRun | None:
    """The stored paper-size run of ``chapter`` (e.g. ``"fairgp_parity"``), or ``None`` if absent.

    Reads ``results/paper_size/<chapter>.json`` of the repository (:func:`results_dir`), or of
    ``directory``. A file without the provenance of :data:`PROVENANCE_KEYS` is an error, not a
    run. See the appendix :doc:`/book/running`.
    """
    if not isinstance(chapter, str) or not chapter or "/" in chapter:
        raise ValueError(f"chapter must be a chapter's file name without .md, e.g. 'fairgp_parity', got {chapter!r}")
    folder = Path(directory) if directory is not None else results_dir(kind=kind)
    if folder is None:
        return None
    path = folder / f"{chapter}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    prov = data.get("provenance", {})
    missing = [k for k in PROVENANCE_KEYS if k not in prov]
    if missing:
        tool = "paper_runs" if kind == "paper_size" else "ablations"
        raise ValueError(f"{path} lacks the provenance {missing}: it is not a run of tools/{tool}.py")
    return StoredRun(chapter=chapter, values=data.get("values", {}), glued=data.get("glued", {}),
                     provenance=prov, path=path, notes=data.get("notes", []), kind=kind)


def stored_ablation(name: str, *, directory: Path | str | None = None) -> StoredRun | None:
    """The stored ablation ``name`` (e.g. ``"pivot"``), or ``None`` if the repository holds none.

    Reads ``results/ablations/<name>.json``, which ``python tools/ablations.py <name>`` writes:
    its ``values`` are the ablation's tables (DataFrames), with the same provenance as a stored
    paper-size run. See the appendix :doc:`/book/running`, section "Stored ablations".
    """
    return stored(name, directory=directory, kind="ablations")
