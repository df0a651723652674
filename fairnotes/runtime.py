"""Run-time helpers shared by every chapter: fast mode, seeding, progress bars.

Explained in the appendix :doc:`/book/running`.

Fast mode
---------
The book's chapters train real models on real data. A full run shows the results the text
discusses; the test suite runs the same chapters in *fast mode*, with fewer epochs, samples and
repeats, so that it stays within its time budget. Fast mode is on when the environment variable
``FAIRNOTES_FAST`` is ``1`` (or ``true``/``yes``/``on``). Chapters never test the variable
themselves: they ask :func:`scale` for every size that fast mode shrinks, in the spirit of GPflow's
``reduce_in_tests``.
"""

from __future__ import annotations

import os
import random
from typing import Iterable, TypeVar

import numpy as np

from fairnotes._validation import env_flag

__all__ = ["is_fast", "scale", "seed_everything", "progress", "progress_enabled", "is_paper_size",
           "paper_scale"]

T = TypeVar("T")

def is_fast() -> bool:
    """Whether fast mode is on (``FAIRNOTES_FAST=1``). See :doc:`/book/running`."""
    return env_flag("FAIRNOTES_FAST", False)


def scale(default: T, fast: T) -> T:
    """Return ``fast`` in fast mode and ``default`` (the book's size) otherwise.

    Chapters call this for every epoch count, sample count, number of inducing points or
    repeats, e.g. ``epochs = scale(default=20, fast=2)``. See :doc:`/book/running`.
    """
    return fast if is_fast() else default


def progress_enabled() -> bool:
    """Whether progress bars are shown.

    Off in fast mode and when ``FAIRNOTES_PROGRESS=0``; ``FAIRNOTES_PROGRESS=1`` forces them on.
    See :doc:`/book/running`.
    """
    if "FAIRNOTES_PROGRESS" in os.environ:
        return env_flag("FAIRNOTES_PROGRESS", True)
    return not is_fast()


def progress(iterable: Iterable[T] | None = None, *, disable: bool | None = None, **kwargs):
    """A tqdm progress bar that fast mode (or ``FAIRNOTES_PROGRESS=0``) silences.

    ``disable=True``/``False`` overrides the environment. Extra keyword arguments go to tqdm.
    See :doc:`/book/running`.
    """
    import warnings

    with warnings.catch_warnings():  # without ipywidgets, tqdm.auto warns and falls back to text bars
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm

    if disable is None:
        disable = not progress_enabled()
    kwargs.setdefault("leave", False)
    kwargs.setdefault("mininterval", 1.0)
    return tqdm(iterable, disable=disable, **kwargs)


def seed_everything(seed: int, *, torch: bool | None = None, tensorflow: bool | None = None) -> dict:
    """Seed Python's ``random``, numpy, torch and TensorFlow with one integer.

    Every chapter calls this once at the top so that the same run gives the same numbers.
    ``torch`` and ``tensorflow`` default to "seed it if it is installed"; pass ``False`` to skip
    one (importing TensorFlow costs a few seconds). On the CPU torch's kernels are deterministic
    for a given number of threads, so seeding is enough there. Returns which frameworks were seeded.

    See :doc:`/book/running`.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    seeded = {"random": True, "numpy": True, "torch": False, "tensorflow": False}
    random.seed(seed)
    np.random.seed(seed % 2**32)

    if torch is None or torch:
        try:
            import torch as _torch
        except ImportError:
            if torch:
                raise
        else:
            _torch.manual_seed(seed)
            seeded["torch"] = True
    if tensorflow is None or tensorflow:
        try:
            from fairnotes._tensorflow import import_tensorflow

            _tf = import_tensorflow()  # without TensorFlow's start-up lines
        except ImportError:
            if tensorflow:
                raise
        else:
            _tf.random.set_seed(seed)
            seeded["tensorflow"] = True
    return seeded


def is_paper_size() -> bool:
    """Whether the papers' sizes are asked for (``FAIRNOTES_PAPER_SIZE=1``).

    The book's default build is sized to execute in about 20 minutes on a 2-core laptop; a few
    chapters can instead use the papers' sizes where the papers state them (all test rows, every
    noise draw, the recipe's rounds, 500 inducing inputs, ten repeated splits where affordable) and, where they state none (the
    networks' epochs, smooth sensitivity's number of draws), larger ones than the default; that takes much longer.
    ``FAIRNOTES_PAPER_SIZE=1`` (or ``true``/``yes``/``on``) switches them to those sizes; fast mode
    (``FAIRNOTES_FAST=1``) takes precedence over it. See :doc:`/book/running`.
    """
    return env_flag("FAIRNOTES_PAPER_SIZE", False)


def paper_scale(default: T, fast: T, paper: T) -> T:
    """Like :func:`scale`, with a third size for the paper-size mode.

    Returns ``fast`` in fast mode, ``paper`` when ``FAIRNOTES_PAPER_SIZE=1`` (and fast mode is
    off), and ``default`` (the book's size) otherwise, e.g.
    ``n_rows = paper_scale(default=1000, fast=100, paper=6188)``. See :doc:`/book/running`.
    """
    if is_fast():
        return fast
    return paper if is_paper_size() else default
