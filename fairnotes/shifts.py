"""Counterfactual features estimated from data alone: shifts, and the protocol every counterfactual map follows.

Explained in the chapter :doc:`/book/proxies`.

The aim is the one of Maughan, Ngong and Near, "Prediction Sensitivity: Continual Audit of
Counterfactual Fairness in Deployed Classifiers" (arXiv:2202.04504, 2022): to audit a model ``F``
for *counterfactual fairness* (Kusner, Loftus, Russell and Silva, "Counterfactual Fairness",
NeurIPS 2017, arXiv:1703.06856), that is, to measure for each person how much the prediction would change had the
protected attribute ``s`` been the other one, everything else that does not descend from ``s``
staying the same: ``F(X_cf) - F(X)``. Flipping the column ``s`` alone is not that counterfactual
as soon as other features depend on ``s`` (proxies): their values must change too.

For data drawn from a structural causal model the counterfactuals are known
(:mod:`fairnotes.scm`); for real data they are not, and must be estimated from ``X`` and ``s``.

:func:`fit_shift` learns, from ``X`` and ``s``
only, a map from each person's features to estimated counterfactual features, returned as a
:class:`Shift` whose ``.counterfactual(X, s)`` applies it:

``"mean"``
    ``x_cf_j = x_j + (m_j(s_cf) - m_j(s))``, with ``m_j(g)`` the mean of feature ``j`` in group
    ``g``: every person moves by the difference of group means. Exact when every feature is
    ``x_j = f_j(u) + b_j s`` with ``u`` independent of ``s`` (then ``m_j(1) - m_j(0) = b_j``).
``"linear"``
    the linear SCM ``x_j = a_j + b_j s + d_j . x_fixed + sum_{k before j} c_jk x_k + u_j``, fitted by
    least squares, each feature on ``s``, the ``fixed`` features and, if an ``order`` is given, the
    features before it in that order; the residual ``u_j`` is kept (abduction) and
    ``x_cf_j = x_j + b_j (s_cf - s) + sum_{k before j} c_jk (x_cf_k - x_k)`` (prediction, in order:
    a later feature uses the counterfactual values of the features before it).
``"quantile"``
    ``x_cf_j = Q_j(s_cf; F_j(s; x_j))``: the value's rank ``F_j(s; .)`` in its own group, then the
    other group's quantile ``Q_j(s_cf; .)`` at that rank (quantile matching). Exact in the
    population for a monotone mechanism with one noise term, ``x_j = f_j(s, u_j)`` increasing in
    ``u_j``, ``u_j`` independent of ``s``: the rank of ``x_j`` in its group is the rank of ``u_j``.

``fixed`` names the features that do not descend from ``s`` (age, say): they stay as they are, and
"linear" adjusts for them. ``method`` may also give one method per feature (a dict), so that a
chain ``s -> x1 -> x2`` with a non-linear ``x1`` can be handled as "quantile" for ``x1`` and
"linear" for ``x2`` (see :func:`fairnotes.scm.chain_scm` for why the order only matters then).

What the audit needs of such a map, whether estimated (:class:`Shift`) or true
(:class:`fairnotes.scm.SCMData`), is the protocol :class:`CounterfactualMap`:
``n_features``, ``counterfactual(X, s)`` and ``describe()``.

Conventions, as in the rest of the package: ``s`` is a 0/1 vector, 1 = privileged; ``X`` is a
people x features matrix, a numpy array (features by position) or a pandas DataFrame (features by
name). Nothing here is random. Bad input raises a ``ValueError`` (``TypeError`` for a wrong kind of object)
that names the argument. This module imports numpy and pandas only.
"""

from __future__ import annotations

from numbers import Integral
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from fairnotes._validation import binary, both_groups, matrix, one_of, same_length

__all__ = [
    "CounterfactualMap",
    "Shift",
    "fit_shift",
    "METHODS",
]

METHODS = ("mean", "linear", "quantile")


# ----------------------------------------------------------------------------------------------
# counterfactuals estimated from data alone


@runtime_checkable
class CounterfactualMap(Protocol):
    """What an audit needs of a ``shift``: each person's counterfactual features, and a name for them.

    :func:`fairnotes.audit.audit` (and :class:`fairnotes.monitor.AuditedModel`) take any object
    with these three members as their ``shift``: a :class:`Shift` estimated by :func:`fit_shift`,
    or an :class:`fairnotes.scm.SCMData`, whose counterfactuals are the true ones. The audit reads
    nothing else of it. See the chapter :doc:`/book/proxies`.
    """

    @property
    def n_features(self) -> int:
        """The number of feature columns :meth:`counterfactual` takes and returns."""

    def counterfactual(self, X, s):
        """The counterfactual features of the rows ``X`` whose groups are ``s`` (each moved to ``1 - s``)."""

    def describe(self) -> str:
        """A few words on where the counterfactuals come from, for an audit's notes."""


class Shift:
    """A fitted map from features to estimated counterfactual features; made by :func:`fit_shift`.

    Attributes
    ----------
    method : str or dict
        The method given to :func:`fit_shift` (a dict maps each non-fixed feature to its method).
    methods : tuple of str
        Per column of ``X``: ``"mean"``, ``"linear"``, ``"quantile"`` or ``"fixed"``.
    feature_names : tuple or None
        The DataFrame's column names, or ``None`` when fitted on a numpy array.
    n_features : int
    fixed : tuple
        The fixed features, by name (DataFrame) or index (numpy).
    order : tuple or None
        The causal order of the non-fixed features, or ``None``.
    group_sizes : tuple of int
        The number of training rows with ``s = 0`` and ``s = 1``.

    Notes
    -----
    :meth:`counterfactual` applies the map; :meth:`summary` tabulates it; with
    :meth:`describe` and ``n_features`` it follows :class:`CounterfactualMap`, the protocol an
    audit takes. See the chapter :doc:`/book/proxies`.
    """

    def __init__(self, *, method, methods, feature_names, fixed_idx, order_idx, group_sizes, params):
        self.method = method
        self.methods = tuple(methods)
        self.feature_names = feature_names
        self.n_features = len(self.methods)
        self._fixed_idx = tuple(fixed_idx)
        self._order_idx = None if order_idx is None else tuple(order_idx)
        self.group_sizes = tuple(group_sizes)
        self._params = params

    def _label(self, j: int):
        return self.feature_names[j] if self.feature_names is not None else j

    @property
    def fixed(self) -> tuple:
        return tuple(self._label(j) for j in self._fixed_idx)

    @property
    def order(self) -> tuple | None:
        return None if self._order_idx is None else tuple(self._label(j) for j in self._order_idx)

    def __repr__(self) -> str:
        feats = list(self.feature_names) if self.feature_names is not None else f"{self.n_features} positional"
        method = self.method if isinstance(self.method, str) else dict(self.method)
        return (f"Shift(method={method!r}, features={feats}, fixed={list(self.fixed)}, "
                f"order={None if self.order is None else list(self.order)}, "
                f"group_sizes={{0: {self.group_sizes[0]}, 1: {self.group_sizes[1]}}})")

    def describe(self) -> str:
        """How the counterfactuals are estimated, for an audit's notes: ``"method 'linear'"``, or
        ``"one method per feature"`` when :func:`fit_shift` was given a dict. See the chapter
        :doc:`/book/proxies`."""
        return f"method {self.method!r}" if isinstance(self.method, str) else "one method per feature"

    def _sequence(self) -> tuple[int, ...]:
        if self._order_idx is not None:
            return self._order_idx
        return tuple(j for j in range(self.n_features) if j not in self._fixed_idx)

    def _columns(self, X) -> tuple[np.ndarray, list[int] | None]:
        """``X`` as float columns in the fitted order, and the permutation back (None if none)."""
        if self.feature_names is not None:
            if not isinstance(X, pd.DataFrame):
                raise TypeError(
                    f"this shift was fitted on a DataFrame with columns {list(self.feature_names)}: pass X as a "
                    "DataFrame with those columns (e.g. pd.DataFrame(X, columns=shift.feature_names))"
                )
            cols = _check_frame(X)
            missing = [c for c in self.feature_names if c not in cols]
            extra = [c for c in cols if c not in self.feature_names]
            if missing or extra:
                raise ValueError(
                    f"X has other columns than the shift was fitted on: missing {missing}, unexpected {extra} "
                    f"(fitted on {list(self.feature_names)})"
                )
            Xv = matrix("X", X[list(self.feature_names)])
            back = [list(self.feature_names).index(c) for c in cols]
            return Xv, back
        Xv = matrix("X", X)
        if Xv.shape[1] != self.n_features:
            raise ValueError(f"X has {Xv.shape[1]} columns, but the shift was fitted on {self.n_features}")
        return Xv, None

    def counterfactual(self, X, s):
        """The estimated counterfactual features of the rows ``X`` whose groups are ``s``.

        Each row is moved to the other group (``s_cf = 1 - s``); rows of both groups may be mixed
        and one group may be absent. Fixed features are returned unchanged. ``X`` must have the
        columns the shift was fitted on: the same width for a numpy array; the same names for a
        DataFrame (in any order: the result has ``X``'s column order and index).

        "quantile" rows whose value lies outside their group's training range are moved by the
        gap between the two groups' extremes (``x + min_other - min_own`` below the range,
        ``x + max_other - max_own`` above it): the map stays increasing (and continuous, unless
        an extreme training value is tied), but such values are an extrapolation.

        Returns
        -------
        ndarray of shape (n, d), or a DataFrame when ``X`` is one.

        See the chapter :doc:`/book/proxies`.
        """
        Xv, back = self._columns(X)
        sv = binary("s", s)
        same_length(X=Xv, s=sv)
        ds = (1 - 2 * sv).astype(np.float64)  # s_cf - s
        out = Xv.copy()
        for j in self._sequence():
            m, p = self.methods[j], self._params[j]
            if m == "mean":
                out[:, j] = Xv[:, j] + ds * p["difference"]
            elif m == "linear":
                change = ds * p["coef_s"]
                for k, c in zip(p["earlier"], p["coef_earlier"]):
                    change = change + c * (out[:, k] - Xv[:, k])
                out[:, j] = Xv[:, j] + change
            else:  # quantile
                for g in (0, 1):
                    rows = sv == g
                    if rows.any():
                        out[rows, j] = _quantile_map(Xv[rows, j], p[g], p[1 - g])
        if back is None:
            return pd.DataFrame(out, index=X.index, columns=X.columns) if isinstance(X, pd.DataFrame) else out
        return pd.DataFrame(out[:, back], index=X.index, columns=X.columns)

    def summary(self) -> pd.DataFrame:
        """One row per feature: its method, what "linear" regressed it on, and the fitted effect of ``s``.

        ``s effect`` is ``m(1) - m(0)`` for "mean", the coefficient ``b_j`` of ``s`` for "linear"
        (the direct effect; the features before it carry the rest), the difference of the two
        groups' medians for "quantile", and 0 for a fixed feature.
        See the chapter :doc:`/book/proxies`.
        """
        rows = []
        for j in range(self.n_features):
            m, p = self.methods[j], self._params.get(j)
            if m == "fixed":
                regressors, effect = "", 0.0
            elif m == "mean":
                regressors, effect = "", p["difference"]
            elif m == "linear":
                regressors = ", ".join(["s"] + [str(self._label(k)) for k in p["regressors"]])
                effect = p["coef_s"]
            else:
                regressors, effect = "", float(np.median(p[1][0]) - np.median(p[0][0]))
            rows.append({"feature": self._label(j), "method": m, "regressors": regressors, "s effect": effect})
        return pd.DataFrame(rows)


def _check_frame(X: pd.DataFrame) -> list:
    """The columns of a DataFrame of features, if they are distinct and numeric."""
    cols = list(X.columns)
    if len(set(cols)) != len(cols):
        raise ValueError(f"X has duplicate column names: {cols}")
    bad = [c for c in cols if not pd.api.types.is_numeric_dtype(X[c])]
    if bad:
        raise ValueError(f"X has non-numeric columns {bad}: encode them as numbers first")
    return cols


def _quantile_fit(x: np.ndarray):
    """Sorted values with plotting positions (i-1)/(n-1), and the unique values with mid-positions."""
    v = np.sort(x)
    pos = np.linspace(0.0, 1.0, v.size)
    uniq, inverse = np.unique(v, return_inverse=True)
    mid = np.bincount(inverse, weights=pos) / np.bincount(inverse)
    return v, pos, uniq, mid


def _quantile_map(x, own, other) -> np.ndarray:
    v_o, _, uniq_o, mid_o = own
    v_t, pos_t, _, _ = other
    rank = np.interp(x, uniq_o, mid_o)
    out = np.interp(rank, pos_t, v_t)
    lo, hi = x < v_o[0], x > v_o[-1]
    out[lo] = x[lo] + (v_t[0] - v_o[0])
    out[hi] = x[hi] + (v_t[-1] - v_o[-1])
    return out


def _resolve(arg: str, item, names, width: int) -> int:
    """One feature given by name (DataFrame) or index (numpy) as a column index."""
    if names is not None:
        for j, c in enumerate(names):
            if item == c and type(item) is not bool:
                return j
        raise ValueError(f"{arg} names an unknown column {item!r}; the columns are {list(names)}")
    if isinstance(item, str):
        raise ValueError(
            f"{arg} gives the name {item!r}, but X is a numpy array without column names: give column "
            "indices, or pass X as a DataFrame"
        )
    if isinstance(item, bool) or not isinstance(item, Integral):
        raise TypeError(f"{arg} must list column indices (integers) for a numpy X, got {item!r}")
    if not -width <= int(item) < width:
        raise ValueError(f"{arg} index {int(item)} is out of range for X with {width} columns (valid: 0..{width - 1})")
    return int(item) % width


def _resolve_list(arg: str, value, names, width: int) -> list[int]:
    if value is None:
        return []
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    idx = [_resolve(arg, it, names, width) for it in items]
    dup = sorted({items[i] for i in range(len(idx)) if idx.count(idx[i]) > 1}, key=str)
    if dup:
        raise ValueError(f"{arg} lists a column more than once: {dup}")
    return idx


def fit_shift(X, s, *, method="mean", fixed=None, order=None) -> Shift:
    """Estimate, from data alone, the map from a person's features to their counterfactual features.

    Parameters
    ----------
    X : array-like of shape (n, d) or DataFrame
        The features (finite numbers). A DataFrame's columns are the features' names, and
        ``fixed``, ``order`` and a ``method`` dict then name them; for a numpy array they are
        column indices.
    s : array-like of shape (n,)
        The protected attribute, 0/1 (1 = privileged); both groups must be present.
    method : {"mean", "linear", "quantile"} or dict
        How each non-fixed feature is moved (see the module docstring for the formulas):
        ``"mean"`` by the difference of its group means; ``"linear"`` by least squares on ``s``,
        the fixed features and (with ``order``) the features before it, keeping the residual;
        ``"quantile"`` from its rank in its own group to the same rank in the other group. A
        dict gives one of these per non-fixed feature (all of them, and no fixed one).
    fixed : column or list of columns, optional
        Features that do not descend from ``s`` (age, say): never changed, and regressors of every
        "linear" feature.
    order : list of columns, optional
        A causal order of all the non-fixed features (parents before children), and none of the
        fixed ones. Only "linear" features use it: each is regressed on the features before it
        too, and its counterfactual uses their counterfactual values ("mean" and "quantile"
        features ignore it).

    Returns
    -------
    Shift
        ``shift.counterfactual(X, s)`` gives the estimated ``X_cf`` of any rows with these columns.

    Notes
    -----
    "quantile" uses each group's empirical distribution: the sorted training values of group
    ``g`` get the plotting positions ``(i - 1) / (n_g - 1)``, a value's rank is interpolated
    linearly between them (tied values share their average position, so equal values map to
    equal values), and the other group's quantile is interpolated linearly between its sorted
    values; values outside the training range are shifted by the gap between the extremes
    (see :meth:`Shift.counterfactual`). Within the range, and without ties, the map of the other
    group is its inverse. It needs at least two rows per group. "linear" refuses a design without full rank
    (e.g. a constant feature among the regressors).

    When every feature is "linear", ``order`` does not change the shift: each feature's
    counterfactual change is ``(1 - 2 s)`` times its total least-squares effect of ``s``, which
    the omitted-variable identity of least squares makes equal to the coefficient of ``s`` in its
    regression on ``s`` and the fixed features alone; without fixed features that is the
    difference of group means, so "linear" equals "mean". The order matters when the features
    before a "linear" one move by different amounts for different people, as a "quantile"
    feature does: hence the dict ``method`` (see :func:`fairnotes.scm.chain_scm`).

    See the chapter :doc:`/book/proxies`.

    Examples
    --------
    Six people; in group 1 the weekly hours are 10 higher at every age, and age does not descend
    from the attribute:

    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [30.0, 40, 50, 30, 40, 50], "hours": [30.0, 35, 40, 40, 45, 50]})
    >>> s = [0, 0, 0, 1, 1, 1]
    >>> shift = fit_shift(X, s, fixed="age")
    >>> shift
    Shift(method='mean', features=['age', 'hours'], fixed=['age'], order=None, group_sizes={0: 3, 1: 3})
    >>> shift.counterfactual(X, s)      # each person in the other group: hours move by 10, age stays
        age  hours
    0  30.0   40.0
    1  40.0   45.0
    2  50.0   50.0
    3  30.0   30.0
    4  40.0   35.0
    5  50.0   40.0

    With ``method="quantile"`` a feature keeps its rank within the group instead (the 2nd of 3 in
    group 0 becomes the 2nd of 3 in group 1); here that is the same move, as the groups' hours
    differ by 10 at every rank:

    >>> fit_shift(X, s, fixed="age", method="quantile").counterfactual(X, s)["hours"].tolist()
    [40.0, 45.0, 50.0, 30.0, 35.0, 40.0]
    """
    # long only by its docstring (the methods' notes and a doctest); the body is ~20 lines of steps
    names = tuple(_check_frame(X)) if isinstance(X, pd.DataFrame) else None
    Xv = matrix("X", X)
    sv = binary("s", s)
    same_length(X=Xv, s=sv)
    both_groups("s", sv)
    width = Xv.shape[1]

    fixed_idx = _resolve_list("fixed", fixed, names, width)
    free = [j for j in range(width) if j not in fixed_idx]
    label = (lambda j: names[j]) if names is not None else (lambda j: j)
    methods = _methods_by_column(method, names, width, fixed_idx, free, label)
    order_idx = None if order is None else _order_columns(order, names, width, fixed_idx, free, label)

    n0, n1 = int((sv == 0).sum()), int((sv == 1).sum())
    params = {j: _fit_column(Xv, sv, j, m, fixed_idx, order_idx, label) for j, m in methods.items()}

    all_methods = ["fixed" if j in fixed_idx else methods[j] for j in range(width)]
    if isinstance(method, dict):
        method = {label(j): methods[j] for j in free}
    return Shift(method=method, methods=all_methods, feature_names=names, fixed_idx=fixed_idx,
                 order_idx=order_idx, group_sizes=(n0, n1), params=params)


def _methods_by_column(method, names, width: int, fixed_idx: list[int], free: list[int], label) -> dict[int, str]:
    """:func:`fit_shift`'s ``method`` as one method per non-fixed column index, checked."""
    if isinstance(method, str):
        one_of("method", method, METHODS)
        return {j: method for j in free}
    if not isinstance(method, dict):
        raise TypeError(f"method must be one of {list(METHODS)} or a dict of them by feature, got {method!r}")
    methods = {}
    for key, m in method.items():
        j = _resolve("method", key, names, width)
        if j in fixed_idx:
            raise ValueError(f"method gives a method to {key!r}, but fixed lists it: a fixed feature is not moved")
        if j in methods:
            raise ValueError(f"method gives column {key!r} more than once")
        methods[j] = one_of(f"method[{key!r}]", m, METHODS)
    missing = [label(j) for j in free if j not in methods]
    if missing:
        raise ValueError(f"method (a dict) gives no method for the non-fixed features {missing}")
    return methods


def _order_columns(order, names, width: int, fixed_idx: list[int], free: list[int], label) -> list[int]:
    """:func:`fit_shift`'s ``order`` as column indices: a permutation of the non-fixed columns, checked."""
    order_idx = _resolve_list("order", order, names, width)
    in_fixed = [label(j) for j in order_idx if j in fixed_idx]
    if in_fixed:
        raise ValueError(
            f"order lists {in_fixed}, which fixed also lists: order is the causal order of the "
            "non-fixed features only"
        )
    absent = [label(j) for j in free if j not in order_idx]
    if absent:
        raise ValueError(
            f"order must be a permutation of all the non-fixed features; it lacks {absent}"
        )
    return order_idx


def _fit_column(Xv: np.ndarray, sv: np.ndarray, j: int, m: str, fixed_idx: list[int], order_idx, label) -> dict:
    """The fitted parameters of column ``j`` under method ``m`` (see :func:`fit_shift`)."""
    x = Xv[:, j]
    if m == "mean":
        return {"difference": float(x[sv == 1].mean() - x[sv == 0].mean())}
    if m == "quantile":
        small = [g for g in (0, 1) if int((sv == g).sum()) < 2]
        if small:
            raise ValueError(f"method 'quantile' needs at least 2 rows in each group; group s={small[0]} has fewer")
        return {g: _quantile_fit(x[sv == g]) for g in (0, 1)}
    sf = sv.astype(np.float64)
    earlier = [] if order_idx is None else order_idx[: order_idx.index(j)]
    regressors = list(fixed_idx) + list(earlier)
    Z = np.column_stack([np.ones_like(sf), sf] + [Xv[:, k] for k in regressors])
    if Z.shape[0] <= Z.shape[1] or np.linalg.matrix_rank(Z) < Z.shape[1]:
        raise ValueError(
            f"method 'linear' cannot fit feature {label(j)!r}: its regressors "
            f"[1, s{''.join(', ' + repr(label(k)) for k in regressors)}] are collinear "
            "(a constant column, or one that is a combination of the others) or outnumber the rows"
        )
    coef, *_ = np.linalg.lstsq(Z, x, rcond=None)
    return {
        "coef_s": float(coef[1]),
        "regressors": regressors,
        "coef_regressors": coef[2:],
        "earlier": list(earlier),
        "coef_earlier": coef[2 + len(fixed_idx):],
        "intercept": float(coef[0]),
    }
