"""Input checks shared by every module of the package (private plumbing, numpy only).

Each check raises a ``ValueError`` (or ``TypeError`` for a wrong kind of object) whose message names
the argument and what is wrong with it, and returns the value in the form the caller computes with.
Modules import these names from here; no module imports another module's private helpers.
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def env_flag(name: str, default: bool) -> bool:
    """The boolean environment variable ``name`` (1/0, true/false, yes/no, on/off), or ``default``."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"environment variable {name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off"
    )


def positive_int(name: str, value) -> int:
    """``value`` as an ``int`` if it is an integer >= 1 (booleans are refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def nonnegative_int(name: str, value) -> int:
    """``value`` as an ``int`` if it is an integer >= 0 (booleans are refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def positive_number(name: str, value) -> float:
    """``value`` as a ``float`` if it is a finite number > 0 (booleans are refused)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def nonnegative_number(name: str, value) -> float:
    """``value`` as a ``float`` if it is a finite number >= 0 (booleans are refused)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def fraction(name: str, value) -> float:
    """``value`` as a ``float`` if it lies strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, Real) or not (0 < value < 1):
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def one_of(name: str, value, choices):
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def binary(name: str, values) -> np.ndarray:
    """A one-dimensional 0/1 array (bool or numbers; NaN and other values refused) as int64."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = np.squeeze(arr)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {np.shape(values)}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must hold the numbers 0 and 1, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN ({int(np.isnan(arr).sum())} values)")
    bad = ~np.isin(arr, (0, 1))
    if bad.any():
        raise ValueError(
            f"{name} must be binary (0/1); found other values such as {np.unique(arr[bad])[:5].tolist()}"
        )
    return arr.astype(np.int64)


def both_groups(name: str, s: np.ndarray) -> np.ndarray:
    """``s`` (already 0/1) if both groups have at least one row."""
    for g in (0, 1):
        if not (s == g).any():
            raise ValueError(f"group {name}={g} is empty: both groups need at least one row")
    return s


def same_length(**arrays) -> int:
    """The common length of the arrays given by name; a mismatch names every length."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"length mismatch: {lengths}")
    return next(iter(lengths.values()))


def matrix(name: str, X) -> np.ndarray:
    """A finite 2-D float64 array with at least one row (numpy, pandas or a torch tensor)."""
    if hasattr(X, "detach"):  # a torch tensor
        X = X.detach().cpu().numpy()
    if hasattr(X, "to_numpy"):  # a DataFrame
        X = X.to_numpy()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (people x features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no rows")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinite values ({int((~np.isfinite(X)).sum())} entries)")
    return X


def column_index(name: str, value, width: int) -> int:
    """One column index into a matrix of ``width`` columns (negative indices count from the end)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a column index (an integer), got {value!r}")
    value = int(value)
    if not -width <= value < width:
        raise ValueError(f"{name}={value} is out of range for {width} feature columns (valid: 0..{width - 1})")
    return value % width


def column_indices(name: str, value, width: int) -> list[int]:
    """One column index or a non-empty list of distinct indices (a one-hot block), in ``[0, width)``."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    items = [value] if not isinstance(value, (list, tuple)) else list(value)
    if not items:
        raise ValueError(f"{name} is an empty list: give at least one column index")
    cols = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, Integral):
            raise TypeError(f"{name} must be an integer column index or a list of them, got {a!r}")
        a = int(a)
        if not 0 <= a < width:
            raise ValueError(f"{name} index {a} is out of range for X with {width} columns (valid: 0..{width - 1})")
        cols.append(a)
    if len(set(cols)) != len(cols):
        raise ValueError(f"{name} lists a column more than once: {cols}")
    return cols


def probabilities(name: str, p, n: int) -> np.ndarray:
    """``n`` probabilities in [0, 1] as float64 of shape ``(n,)`` (a ``(n, 1)`` column is accepted)."""
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if p.shape != (n,):
        raise ValueError(f"{name} must give one probability per row, shape ({n},); got {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"{name} must be probabilities in [0, 1]")
    return p
