"""The training history every trainer returns, and when it evaluates: private and torch-free.

The trainers (:func:`fairnotes.models.train`, :func:`fairnotes.adversarial.train_adversarial`,
:meth:`fairnotes.fairgp.FairGP.fit`) share one contract (``CONTRIBUTING.md``, "Trainers"): the
held-out rows come as ``eval_set=(X, y, s)``, ``eval_every`` counts optimisation steps, and the
history is a pandas DataFrame built by :func:`frame`, one row per evaluation:

``step``
    Optimisation steps taken so far (the first column): one mini-batch update of
    :func:`fairnotes.models.train` and of FairGP, one round of the adversarial game.
``epoch``
    Passes over the training rows so far, where the trainer has epochs (:func:`fairnotes.models.train`).
``train_<quantity>``, ``eval_<quantity>``, ``validation_<quantity>``
    A quantity on the training rows (averaged over the steps since the previous row), on
    ``eval_set``, or on FairGP's stopping-rule set ``validation``: e.g. ``train_loss``,
    ``eval_loss``, ``eval_accuracy``.
``seconds``
    Wall time of the training so far (the last column).

``history.attrs`` holds what is not a column (e.g. ``cached``).
"""

from __future__ import annotations

import pandas as pd

#: The counters, first in every history.
COUNTERS = ("step", "epoch")


def frame(rows) -> pd.DataFrame:
    """The history as a DataFrame from its rows (a list of dicts or a dict of columns):
    the counters first, ``seconds`` last, the other columns in the order recorded."""
    df = pd.DataFrame(rows)
    first = [c for c in COUNTERS if c in df]
    last = ["seconds"] if "seconds" in df else []
    return df[first + [c for c in df if c not in first and c not in last] + last]


def due(step: int, previous: int, eval_every: int | None) -> bool:
    """Whether a multiple of ``eval_every`` lies in ``(previous, step]``: an evaluation falls in
    the steps from ``previous`` (excluded) to ``step``. ``None``: never (the trainer's default
    schedule decides)."""
    return eval_every is not None and step // eval_every > previous // eval_every


def renamed(columns: dict, names: dict, prefixes: dict = ()) -> dict:
    """``columns`` (a dict of lists, as a cache entry holds a history) with the keys renamed:
    ``names`` maps whole names, ``prefixes`` maps the start of a name (the first that matches).

    The training cache (:mod:`fairnotes._cache`) keeps entries written before the history took
    this contract's names; their keys, hence the cached networks, are unchanged, and this gives
    their histories the current names when they are read.
    """
    out = {}
    for k, v in columns.items():
        new = names.get(k)
        if new is None:
            new = next((p_new + k[len(p):] for p, p_new in dict(prefixes).items() if k.startswith(p)), k)
        out[new] = v
    return out
