"""Claims a chapter makes about its results, checked where they are made.

Explained in the appendix :doc:`/book/status` (the claims ledger) and used by every chapter.

A chapter's prose is written by hand. Each sentence that states a result ("the mitigated network
flags fewer predictions", "every !Match count stays below the paper's") is followed by a hidden
cell that checks it against the numbers the chapter computed::

    ledger = claims.Ledger("audit")          # once, in the chapter's set-up cell
    ...
    ledger.claim("Every !Match count of this build stays below the paper's.",
                 holds=bool((ours < paper).all()),
                 evidence={"this build": ours, "paper": paper})

In the default and paper-size builds a claim that does not hold raises :class:`ClaimError`, which
names the claim and its numbers, so the build stops and a published page can never say what its own
numbers deny. In fast mode (``FAIRNOTES_FAST=1``, the test suite's small sizes) the numbers differ
from the ones the prose was written for, so claims are recorded, not enforced; a claim about a
stored paper-size run (``stored=True``) rests on numbers that do not depend on the mode and is
enforced in every mode. ``FAIRNOTES_CLAIMS=record`` records without enforcing in any mode (while a
chapter is being written); ``FAIRNOTES_CLAIMS=enforce`` enforces in fast mode too.

Every claim is also written to the *claims ledger*: when ``FAIRNOTES_CLAIMS_DIR`` names a folder
(the book's build sets it, beside its execution cache), each chapter's claims go to
``<folder>/<chapter>.json``, which the *Execution status* appendix shows: every claim, its chapter,
its evidence and whether it held in the build.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

__all__ = ["Claim", "ClaimError", "Ledger", "LEDGER_ENV", "MODE_ENV", "enforced", "read_ledger"]

#: The environment variable naming the folder of the claims ledger.
LEDGER_ENV = "FAIRNOTES_CLAIMS_DIR"
#: The environment variable that overrides enforcement — ``record`` or ``enforce``.
MODE_ENV = "FAIRNOTES_CLAIMS"
_MODES = ("record", "enforce")


class ClaimError(AssertionError):
    """A claim of a chapter does not hold for the numbers of this build. See :doc:`/book/status`."""


@dataclass
class Claim:
    """One checked claim: its text, the numbers it rests on, and whether it held.

    See :doc:`/book/status`.
    """

    chapter: str
    text: str
    holds: bool
    evidence: dict = field(default_factory=dict)
    stored: bool = False
    mode: str = "default"
    enforced: bool = True


def _build_mode() -> str:
    from fairnotes.runtime import is_fast, is_paper_size

    if is_fast():
        return "fast"
    return "paper-size" if is_paper_size() else "default"


def enforced(*, stored: bool = False) -> bool:
    """Whether a claim that does not hold stops the build in this mode.

    Yes in the default and paper-size builds; in fast mode only for claims about a stored run
    (``stored=True``); ``FAIRNOTES_CLAIMS=record`` or ``enforce`` overrides both. See
    :doc:`/book/status`.
    """
    override = os.environ.get(MODE_ENV, "").strip().lower()
    if override and override not in _MODES:
        raise ValueError(f"environment variable {MODE_ENV}={override!r} must be 'record' or 'enforce'")
    if override == "record":
        return False
    if override == "enforce":
        return True
    return stored or _build_mode() != "fast"


def _plain(value):
    """``value`` as something JSON can hold and a reader can read (numbers rounded to 4 digits)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) else float(f"{v:.4g}")
    if isinstance(value, str) or value is None:
        return value
    if hasattr(value, "to_dict") and hasattr(value, "index"):  # a pandas Series or DataFrame
        return {str(k): _plain(v) for k, v in value.to_dict().items()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    return str(value)


def _describe(evidence: dict) -> str:
    return "; ".join(f"{k} = {json.dumps(v)}" for k, v in evidence.items()) or "no evidence given"


class Ledger:
    """The claims of one chapter, checked one by one and written to the claims ledger.

    Parameters
    ----------
    chapter : str
        The chapter's file name without ``.md`` (``"audit"`` for ``book/audit.md``).

    Notes
    -----
    Creating a ledger empties the chapter's file in the ledger folder (the chapter is being executed
    again); each :meth:`claim` adds one entry. See :doc:`/book/status`.
    """

    def __init__(self, chapter: str):
        if not isinstance(chapter, str) or not chapter or "/" in chapter:
            raise ValueError(f"chapter must be a chapter's file name without .md, got {chapter!r}")
        self.chapter = chapter
        self.claims: list[Claim] = []
        self._write()

    @property
    def path(self) -> Path | None:
        """The chapter's file in the ledger folder, or None when ``FAIRNOTES_CLAIMS_DIR`` is unset."""
        folder = os.environ.get(LEDGER_ENV)
        return Path(folder) / f"{self.chapter}.json" if folder else None

    def claim(self, text: str, holds, *, evidence: Mapping | None = None, stored: bool = False) -> bool:
        """Check one claim of the chapter's prose; return whether it holds.

        Parameters
        ----------
        text : str
            The claim as the prose makes it, in a sentence.
        holds : bool
            Whether the claim holds for this build's numbers (a numpy boolean is accepted).
        evidence : mapping, optional
            The numbers the claim rests on, by name; shown in the ledger and in the error.
        stored : bool
            True for a claim about a stored paper-size run or ablation, which is checked in every mode.

        Raises
        ------
        ClaimError
            If the claim does not hold and claims are enforced in this mode (:func:`enforced`).
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"a claim needs its text as a non-empty string, got {text!r}")
        if not isinstance(holds, (bool, np.bool_)):
            raise TypeError(f"holds must be True or False (the result of the check), got {type(holds).__name__} "
                            f"{holds!r}; for an array use .all() or .any()")
        if evidence is not None and not isinstance(evidence, Mapping):
            raise TypeError(f"evidence must be a mapping of names to numbers, got {type(evidence).__name__}")
        entry = Claim(chapter=self.chapter, text=" ".join(text.split()), holds=bool(holds),
                      evidence=_plain(dict(evidence or {})), stored=bool(stored), mode=_build_mode(),
                      enforced=enforced(stored=stored))
        self.claims.append(entry)
        self._write()
        if not entry.holds and entry.enforced:
            raise ClaimError(f"In the chapter {self.chapter!r} ({entry.mode} build) the claim does not hold:\n"
                             f"  {entry.text}\n  evidence: {_describe(entry.evidence)}\n"
                             "Change the sentence and its check by hand, or find why the numbers moved.")
        return entry.holds

    def _write(self) -> None:
        path = self.path
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"chapter": self.chapter, "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "mode": _build_mode(), "claims": [asdict(c) for c in self.claims]}
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(doc, indent=1))
        os.replace(tmp, path)

    def __repr__(self) -> str:
        held = sum(c.holds for c in self.claims)
        return f"Ledger({self.chapter!r}: {held} of {len(self.claims)} claims held)"


def read_ledger(folder) -> dict[str, dict]:
    """Every chapter's ledger in ``folder``, by chapter name (what the *Execution status* shows).

    See :doc:`/book/status`.
    """
    out = {}
    folder = Path(folder)
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        out[doc.get("chapter", path.stem)] = doc
    return out
