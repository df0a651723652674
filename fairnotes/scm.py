"""Structural causal models: people drawn with their true counterfactuals.

Explained in the chapter :doc:`/book/proxies`.

The aim is the one of Maughan, Ngong and Near, "Prediction Sensitivity: Continual Audit of
Counterfactual Fairness in Deployed Classifiers" (arXiv:2202.04504, 2022): to audit a model ``F``
for *counterfactual fairness* (Kusner, Loftus, Russell and Silva, "Counterfactual Fairness",
NeurIPS 2017, arXiv:1703.06856), that is, to measure for each person how much the prediction would change had the
protected attribute ``s`` been the other one, everything else that does not descend from ``s``
staying the same: ``F(X_cf) - F(X)``. Flipping the column ``s`` alone is not that counterfactual
as soon as other features depend on ``s`` (proxies): their values must change too.

Counterfactuals in a structural causal model
--------------------------------------------
A structural causal model (SCM) writes every feature as a function of its causes and of its own
exogenous noise, ``x_j = f_j(s, x_parents(j), u_j)``. Kusner et al.'s counterfactual is computed in
three steps, *abduction-action-prediction*:

1. abduction: from the observed ``(x, s)`` solve the equations for the person's noise ``u``;
2. action: set ``s`` to ``s_cf = 1 - s``;
3. prediction: recompute every feature, in causal order, from ``s_cf`` and the same ``u``.

The generators :func:`linear_gaussian_scm`,
:func:`monotone_scm` and :func:`chain_scm` draw people from an SCM and return an :class:`SCMData`
with the observed ``X``, ``s``, ``y`` and, for every person, the counterfactual ``X_cf`` (and
``y_cf``) with the same noise, so that the true counterfactual change of any model is known. Each
one's equations are in its docstring and in ``SCMData.equations``. The label, in every generator,
is ``y = 1[w . x + a s + c + e > 0]`` with ``e ~ Logistic(0, 1)``, that is
``P(y = 1 | x, s) = sigmoid(w . x + a s + c)``; ``a = label_s`` is a direct effect of ``s`` on
the label (0 by default: the label depends on ``s`` only through the features), and
``y_cf = 1[w . x_cf + a s_cf + c + e > 0]`` keeps the same ``e``.

Counterfactuals estimated from data alone, for data whose mechanism is unknown, are in
:mod:`fairnotes.shifts`; an :class:`SCMData` can stand in for an estimated shift wherever one is
taken (it implements :class:`fairnotes.shifts.CounterfactualMap`), so that an estimate can be
compared with the truth.

Conventions, as in the rest of the package: ``s`` is a 0/1 vector, 1 = privileged; ``X`` is a
people x features matrix, a numpy array (features by position) or a pandas DataFrame (features by
name). Every generator takes ``seed``, an integer or a :class:`numpy.random.Generator`, and uses no
global random state. Bad input raises a ``ValueError`` (``TypeError`` for a wrong kind of object)
that names the argument. This module imports numpy and pandas only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Callable

import numpy as np
import pandas as pd

from fairnotes._validation import binary, fraction, matrix, one_of, positive_int, same_length

__all__ = [
    "SCMData",
    "linear_gaussian_scm",
    "monotone_scm",
    "chain_scm",
]

_LINKS = ("exp", "logistic")


# ----------------------------------------------------------------------------------------------
# small private checks and text helpers


def _rng(seed) -> np.random.Generator:
    """A Generator from an integer seed >= 0 or a Generator (used as it is, so its state advances)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0 or a numpy.random.Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _vector(name: str, value, d: int | None = None, *, positive: bool = False) -> np.ndarray:
    """Finite numbers as a float vector; a scalar is repeated ``d`` times when ``d`` is given."""
    if isinstance(value, bool) or (isinstance(value, (list, tuple)) and any(isinstance(v, bool) for v in value)):
        raise ValueError(f"{name} must be numbers, got {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a sequence of numbers, got {value!r}") from None
    if arr.ndim == 0:
        if d is None:
            raise ValueError(f"{name} must be a sequence of numbers (one per feature), got {value!r}")
        arr = np.repeat(arr, d)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers, got shape {arr.shape}")
    if d is not None and arr.size != d:
        raise ValueError(f"{name} must have one value per feature ({d}), got {arr.size}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    if positive and (arr <= 0).any():
        raise ValueError(f"{name} must be positive, got {arr.tolist()}")
    return arr


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _names(value, d: int, default_prefix: str = "x") -> tuple[str, ...]:
    if value is None:
        return tuple(f"{default_prefix}{j + 1}" for j in range(d))
    names = tuple(value) if not isinstance(value, str) else (value,)
    if len(names) != d or not all(isinstance(v, str) and v for v in names):
        raise ValueError(f"feature_names must be {d} non-empty strings, got {value!r}")
    if len(set(names)) != d:
        raise ValueError(f"feature_names must be distinct, got {list(names)}")
    return names


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _fmt(v: float) -> str:
    return f"{v:g}"


def _lin(*terms) -> str:
    """A linear expression from (coefficient, name) pairs, e.g. ``1.5 s - 0.5 age + u1``; a name
    ``""`` is a constant."""
    out = "".join(_term(c, w) for c, w in terms).strip()
    out = out[2:] if out.startswith("+ ") else ("-" + out[2:] if out.startswith("- ") else out)
    return out or "0"


def _term(coef: float, what: str) -> str:
    """`` + 0.5 x1`` / `` - 0.5 x1`` / '' for a zero coefficient."""
    if coef == 0:
        return ""
    mag = _fmt(abs(coef))
    body = mag if not what else (what if mag == "1" else f"{mag} {what}")
    return f" {'+' if coef > 0 else '-'} {body}"


# ----------------------------------------------------------------------------------------------
# data with known counterfactuals


@dataclass(frozen=True, eq=False, repr=False)
class SCMData:
    """People drawn from a structural causal model, with each person's true counterfactual.

    Attributes
    ----------
    name : str
        Which generator drew them (``"linear_gaussian"``, ``"monotone"``, ``"chain"``).
    X, X_cf : ndarray of shape (n, d)
        The observed features and the counterfactual features: the same exogenous noise, ``s``
        flipped. Read-only.
    s : ndarray of shape (n,)
        The protected attribute, 0/1 (1 = privileged). ``s_cf = 1 - s``.
    y, y_cf : ndarray of shape (n,)
        The observed 0/1 label and the label in the counterfactual world (same label noise).
    U : ndarray of shape (n, d)
        The exogenous noise of the features, ``X = forward(s, U)`` and ``X_cf = forward(1 - s, U)``.
    u_y : ndarray of shape (n,)
        The label's logistic noise.
    feature_names : tuple of str
        The names of the columns of ``X``.
    fixed : tuple of str
        The features that do not descend from ``s`` (their counterfactual is their value).
    order : tuple of str
        A causal order of the other features (parents before children), the ``order`` that
        :func:`fairnotes.shifts.fit_shift` takes.
    equations : str
        The model, with its numbers, as text.
    label_weights : ndarray, label_s : float, label_intercept : float
        ``w``, ``a`` and ``c`` of ``P(y = 1 | x, s) = sigmoid(w . x + a s + c)``.

    Notes
    -----
    :meth:`counterfactual` gives the true counterfactual of any rows (not only the drawn ones) by
    abduction-action-prediction with the true equations; :meth:`label_probability` is the true
    ``P(y = 1 | x, s)``. With ``n_features`` and :meth:`describe` it follows
    :class:`fairnotes.shifts.CounterfactualMap`, so an audit takes it where it takes an estimated
    shift. See the chapter :doc:`/book/proxies`.
    """

    name: str
    X: np.ndarray
    X_cf: np.ndarray
    s: np.ndarray
    y: np.ndarray
    y_cf: np.ndarray
    U: np.ndarray = field(repr=False)
    u_y: np.ndarray = field(repr=False)
    feature_names: tuple[str, ...]
    fixed: tuple[str, ...]
    order: tuple[str, ...]
    equations: str = field(repr=False)
    label_weights: np.ndarray = field(repr=False)
    label_s: float = field(repr=False)
    label_intercept: float = field(repr=False)
    _forward: Callable = field(repr=False)
    _abduct: Callable = field(repr=False)

    def __repr__(self) -> str:
        n1 = int(self.s.sum())
        return (f"SCMData(name={self.name!r}, n={self.n}, features={list(self.feature_names)}, "
                f"fixed={list(self.fixed)}, order={list(self.order)}, group_sizes={{0: {self.n - n1}, 1: {n1}}}, "
                f"P(y=1)={self.y.mean():.3f})")

    @property
    def s_cf(self) -> np.ndarray:
        """The flipped attribute ``1 - s``."""
        return 1 - self.s

    @property
    def n(self) -> int:
        """The number of people."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """The number of features, the columns of ``X``."""
        return len(self.feature_names)

    def describe(self) -> str:
        """Where the counterfactuals come from, for an audit's notes: this model's true ones.
        See the chapter :doc:`/book/proxies`."""
        return f"the true counterfactuals of the {self.name!r} structural causal model"

    def _check_rows(self, X, s) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(X, pd.DataFrame) and tuple(X.columns) != self.feature_names:
            raise ValueError(
                f"X has columns {list(X.columns)}, but this model's features are {list(self.feature_names)}"
            )
        Xv = matrix("X", X)
        if Xv.shape[1] != len(self.feature_names):
            raise ValueError(
                f"X has {Xv.shape[1]} columns, but this model has {len(self.feature_names)} features "
                f"{list(self.feature_names)}"
            )
        sv = binary("s", s)
        same_length(X=Xv, s=sv)
        return Xv, sv

    def noise(self, X, s) -> np.ndarray:
        """Abduction: the exogenous noise ``U`` that gives the features ``X`` for the groups ``s``.

        Raises if a value is outside the model's range (e.g. ``x <= 0`` under an ``exp`` link).
        See the chapter :doc:`/book/proxies`.
        """
        Xv, sv = self._check_rows(X, s)
        return self._abduct(Xv, sv.astype(np.float64))

    def counterfactual(self, X, s) -> np.ndarray:
        """The true counterfactual features of the rows ``X`` with groups ``s``.

        Abduction-action-prediction with the model's own equations: the noise ``U`` solved from
        ``(X, s)``, then the features recomputed with ``1 - s``. On the drawn people it returns
        ``X_cf``; applied to ``(X_cf, s_cf)`` it returns ``X``. The same call as
        :meth:`fairnotes.shifts.Shift.counterfactual` of a fitted shift, so the two can be compared on any rows; a
        DataFrame (with the model's feature names as columns) gives a DataFrame with its index.
        See the chapter :doc:`/book/proxies`.
        """
        Xv, sv = self._check_rows(X, s)
        sf = sv.astype(np.float64)
        out = self._forward(1.0 - sf, self._abduct(Xv, sf))
        if isinstance(X, pd.DataFrame):
            return pd.DataFrame(out, index=X.index, columns=X.columns)
        return out

    def label_probability(self, X, s) -> np.ndarray:
        """The true ``P(y = 1 | x, s) = sigmoid(w . x + a s + c)`` of the rows ``X`` with groups ``s``.

        The Bayes-optimal score: its counterfactual change is
        ``label_probability(X_cf, s_cf) - label_probability(X, s)``.
        See the chapter :doc:`/book/proxies`.
        """
        Xv, sv = self._check_rows(X, s)
        return _sigmoid(Xv @ self.label_weights + self.label_s * sv + self.label_intercept)

    def features(self, counterfactual: bool = False) -> pd.DataFrame:
        """``X`` (or ``X_cf``) as a DataFrame with the feature names as columns."""
        return pd.DataFrame(np.array(self.X_cf if counterfactual else self.X), columns=list(self.feature_names))

    def to_frame(self) -> pd.DataFrame:
        """One row per person: the features, ``s``, ``y``, then the counterfactual features
        (``<name>_cf``), ``s_cf`` and ``y_cf``."""
        out = self.features()
        out["s"] = self.s
        out["y"] = self.y
        for j, name in enumerate(self.feature_names):
            out[f"{name}_cf"] = self.X_cf[:, j]
        out["s_cf"] = self.s_cf
        out["y_cf"] = self.y_cf
        return out


def _label_parts(label_weights, label_s, label_intercept, d, forward):
    w = _vector("label_weights", 1.0 if label_weights is None else label_weights, d)
    a = _number("label_s", label_s)
    if label_intercept is None:
        # centred: w . x at zero noise and halfway between the groups, so that P(y = 1) is moderate
        mid = forward(np.array([0.5]), np.zeros((1, d)))[0]
        c = -float(w @ mid + a / 2)
    else:
        c = _number("label_intercept", label_intercept)
    return w, a, c


def _label_text(names, w, a, c) -> str:
    eta = _lin(*zip(w, names), (a, "s"), (c, ""))
    return (f"y    = 1[{eta} + e > 0],   e ~ Logistic(0, 1),\n"
            f"       i.e. P(y = 1 | x, s) = sigmoid({eta})")


def _draw(name, n, p_privileged, seed, U_draw, forward, abduct, names, fixed, order, equations,
          label_weights, label_s, label_intercept, s_draw=None) -> SCMData:
    n = positive_int("n", n)
    rng = _rng(seed)
    d = len(names)
    w, a, c = _label_parts(label_weights, label_s, label_intercept, d, forward)  # checked before any draw
    U = U_draw(rng, n)
    if s_draw is None:
        s = (rng.random(n) < p_privileged).astype(np.int64)
    else:
        s = s_draw(rng, U)
    sf = s.astype(np.float64)
    X = forward(sf, U)
    X_cf = forward(1.0 - sf, U)
    u_y = rng.logistic(size=n)
    y = (X @ w + a * sf + c + u_y > 0).astype(np.int64)
    y_cf = (X_cf @ w + a * (1.0 - sf) + c + u_y > 0).astype(np.int64)
    text = equations + "\n" + _label_text(names, w, a, c) + (
        "\ncounterfactual: the same u and e, s replaced by s_cf = 1 - s, every feature recomputed in order")
    return SCMData(name=name, X=_frozen(X), X_cf=_frozen(X_cf), s=_frozen(s), y=_frozen(y), y_cf=_frozen(y_cf),
                   U=_frozen(U), u_y=_frozen(u_y), feature_names=tuple(names), fixed=tuple(fixed),
                   order=tuple(order), equations=text, label_weights=_frozen(w), label_s=a, label_intercept=c,
                   _forward=forward, _abduct=abduct)


def linear_gaussian_scm(
    n: int = 2000,
    *,
    effect=(1.0, -0.5, 0.0),
    intercept=0.0,
    noise=1.0,
    feature_names=None,
    p_privileged: float = 0.5,
    label_weights=None,
    label_s: float = 0.0,
    label_intercept: float | None = None,
    seed=0,
) -> SCMData:
    """Draw people from a linear-Gaussian SCM: each feature is shifted by a constant times ``s``.

    The model, for features ``j = 1..d`` (``d = len(effect)``)::

        s   ~ Bernoulli(p_privileged)
        x_j = a_j + b_j s + u_j,        u_j ~ N(0, sigma_j^2), independent of s and of each other
        y   = 1[w . x + label_s s + c + e > 0],   e ~ Logistic(0, 1)

    with ``a = intercept``, ``b = effect``, ``sigma = noise``. The counterfactual keeps ``u``::

        x_cf_j - x_j = b_j (s_cf - s) = b_j (1 - 2 s)

    (``+b_j`` for the unprivileged group, ``-b_j`` for the privileged one), the same for everyone
    in a group; a feature with ``b_j = 0`` does not descend from ``s`` and is listed in ``fixed``.

    Parameters
    ----------
    n : int
        Number of people.
    effect : sequence of float
        ``b``, the effect of ``s`` on each feature; its length sets the number of features.
    intercept, noise : float or sequence of float
        ``a`` and ``sigma`` (positive), one number for all features or one per feature.
    feature_names : sequence of str, optional
        Default ``x1, x2, ...``.
    p_privileged : float
        ``P(s = 1)``, strictly between 0 and 1. With a small ``n`` a group can be empty.
    label_weights : float or sequence of float, optional
        ``w`` (default 1 for every feature).
    label_s : float
        A direct effect of ``s`` on the label (default 0: only through the features).
    label_intercept : float, optional
        ``c``; by default ``-(w . x + label_s s)`` at ``u = 0``, ``s = 1/2``, so ``P(y=1)`` is moderate.
    seed : int or numpy.random.Generator
        The randomness; the same seed gives the same people.

    Returns
    -------
    SCMData

    See the chapter :doc:`/book/proxies`.
    """
    b = _vector("effect", effect)
    d = b.size
    a = _vector("intercept", intercept, d)
    sigma = _vector("noise", noise, d, positive=True)
    p = fraction("p_privileged", p_privileged)
    names = _names(feature_names, d)

    def forward(s, U):
        return a + np.outer(s, b) + U

    def abduct(X, s):
        return X - a - np.outer(s, b)

    lines = ["s    ~ Bernoulli(" + _fmt(p) + ")   (1 = privileged)"]
    for j in range(d):
        rhs = _lin((a[j], ""), (b[j], "s"), (1.0, f"u{j + 1}"))
        lines.append(f"{names[j]:<4} = {rhs},   u{j + 1} ~ N(0, {_fmt(sigma[j])}^2)")
    fixed = [names[j] for j in range(d) if b[j] == 0]
    order = [names[j] for j in range(d) if b[j] != 0]
    return _draw("linear_gaussian", n, p, seed, lambda rng, m: rng.normal(size=(m, d)) * sigma,
                 forward, abduct, names, fixed, order, "\n".join(lines), label_weights, label_s, label_intercept)


def monotone_scm(
    n: int = 2000,
    *,
    effect=(1.0, -0.5),
    intercept=0.0,
    noise=0.5,
    link: str = "exp",
    feature_names=None,
    p_privileged: float = 0.5,
    label_weights=None,
    label_s: float = 0.0,
    label_intercept: float | None = None,
    seed=0,
) -> SCMData:
    """Draw people from a monotone non-linear SCM: ``x_j = g(a_j + b_j s + u_j)``.

    The model, for features ``j = 1..d`` (``d = len(effect)``)::

        s   ~ Bernoulli(p_privileged)
        x_j = g(a_j + b_j s + u_j),     u_j ~ N(0, sigma_j^2), independent of s
        y   = 1[w . x + label_s s + c + e > 0],   e ~ Logistic(0, 1)

    with the link ``g = exp`` (log-normal features, ``x > 0``) or ``g = logistic``
    (``g(z) = 1 / (1 + exp(-z))``, features in (0, 1)). Each feature is increasing in its single
    noise term, so the quantile map (:func:`fairnotes.shifts.fit_shift` with ``method="quantile"``) is exact for it
    in the population. The counterfactual keeps ``u``::

        exp:       x_cf_j = x_j exp(b_j (1 - 2 s))                       (a multiplicative shift)
        logistic:  x_cf_j = g(logit(x_j) + b_j (1 - 2 s))

    so the change differs from person to person and the "mean" shift is wrong for most of them.

    Parameters are those of :func:`linear_gaussian_scm`, plus ``link`` (``"exp"`` or
    ``"logistic"``); ``noise`` defaults to 0.5. :meth:`SCMData.counterfactual` raises for values
    outside the link's range.

    See the chapter :doc:`/book/proxies`.
    """
    b = _vector("effect", effect)
    d = b.size
    a = _vector("intercept", intercept, d)
    sigma = _vector("noise", noise, d, positive=True)
    p = fraction("p_privileged", p_privileged)
    link = one_of("link", link, _LINKS)
    names = _names(feature_names, d)
    g, ginv = _link(link)

    def forward(s, U):
        return g(a + np.outer(s, b) + U)

    def abduct(X, s):
        return ginv("X", X) - a - np.outer(s, b)

    gname = "exp" if link == "exp" else "sigmoid"
    lines = ["s    ~ Bernoulli(" + _fmt(p) + ")   (1 = privileged)"]
    for j in range(d):
        inner = _lin((a[j], ""), (b[j], "s"), (1.0, f"u{j + 1}"))
        lines.append(f"{names[j]:<4} = {gname}({inner}),   u{j + 1} ~ N(0, {_fmt(sigma[j])}^2)")
    fixed = [names[j] for j in range(d) if b[j] == 0]
    order = [names[j] for j in range(d) if b[j] != 0]
    return _draw("monotone", n, p, seed, lambda rng, m: rng.normal(size=(m, d)) * sigma,
                 forward, abduct, names, fixed, order, "\n".join(lines), label_weights, label_s, label_intercept)


def _link(link: str):
    if link == "exp":
        def ginv(name, x):
            if (x <= 0).any():
                raise ValueError(f"{name} has {int((x <= 0).sum())} values <= 0, impossible under the exp link")
            return np.log(x)
        return np.exp, ginv
    if link == "logistic":
        def ginv(name, x):
            bad = (x <= 0) | (x >= 1)
            if bad.any():
                raise ValueError(
                    f"{name} has {int(bad.sum())} values outside (0, 1), impossible under the logistic link")
            return _logit(x)
        return _sigmoid, ginv
    if link == "identity":
        return (lambda z: z), (lambda name, x: x)
    raise ValueError(f"link must be one of {list(_LINKS)}, got {link!r}")  # pragma: no cover


def chain_scm(
    n: int = 2000,
    *,
    x1_link: str = "exp",
    effect_x1: float = 1.0,
    effect_x2: float = 1.0,
    x1_on_x2: float = 1.0,
    age_on_x1: float = 0.5,
    age_on_x2: float = 0.5,
    age_on_s: float = 0.0,
    noise=(1.0, 0.5, 0.5),
    p_privileged: float = 0.5,
    label_weights=(0.5, 0.5, 0.5),
    label_s: float = 0.0,
    label_intercept: float | None = None,
    seed=0,
) -> SCMData:
    """Draw people from a causal chain ``s -> x1 -> x2``, ``s -> x2``, with ``age`` that ``s`` does not cause.

    The model, features ``(age, x1, x2)``::

        age = u0,                                            u0 ~ N(0, sigma_0^2)
        s   ~ Bernoulli(sigmoid(logit(p_privileged) + age_on_s age))
        x1  = g(effect_x1 s + age_on_x1 age + u1),           u1 ~ N(0, sigma_1^2)
        x2  = effect_x2 s + x1_on_x2 x1 + age_on_x2 age + u2, u2 ~ N(0, sigma_2^2)
        y   = 1[w . x + label_s s + c + e > 0],              e ~ Logistic(0, 1)

    with ``g = exp`` (``x1_link="exp"``, the default) or ``g`` the identity (``x1_link="identity"``:
    a linear SCM). ``age`` is a cause, never an effect, of ``s`` (``age_on_s`` confounds the two;
    0 by default), so it is ``fixed``: its counterfactual is its value. The counterfactual::

        x1_cf = g(effect_x1 s_cf + age_on_x1 age + u1)
        x2_cf = x2 + effect_x2 (s_cf - s) + x1_on_x2 (x1_cf - x1)

    ``x2``'s change goes through ``x1``'s. What that means for :func:`fairnotes.shifts.fit_shift`:

    * ``x1_link="exp"``: ``x1``'s change, ``x1 (exp(+-effect_x1) - 1)``, differs from person to
      person, hence so does ``x2``'s. A map of ``x2`` alone ("mean", "linear" without ``order``,
      "quantile": ``x2`` has two noise terms, ``u1`` and ``u2``) cannot follow it; "quantile" for
      ``x1`` (one noise term) and "linear" for ``x2`` with ``order=("x1", "x2")``,
      ``fixed=("age",)`` recovers it (``method={"x1": "quantile", "x2": "linear"}``).
    * ``x1_link="identity"``: everyone's change is the same within a group, ``x2``'s being
      ``(effect_x2 + x1_on_x2 effect_x1)(1 - 2 s)``; "linear" gets it with or without ``order``
      (by the omitted-variable identity of least squares the two fits give the same shift), and so
      does "mean" unless ``age_on_s`` makes age differ between the groups, which "mean" then
      wrongly attributes to ``s``.

    Parameters
    ----------
    n : int
        Number of people.
    x1_link : {"exp", "identity"}
        The mechanism of ``x1``.
    effect_x1, effect_x2, x1_on_x2, age_on_x1, age_on_x2, age_on_s : float
        The coefficients of the equations above.
    noise : float or sequence of 3 floats
        ``(sigma_0, sigma_1, sigma_2)``, positive.
    p_privileged : float
        ``P(s = 1)`` at ``age = 0``, strictly between 0 and 1.
    label_weights, label_s, label_intercept, seed
        As in :func:`linear_gaussian_scm`; ``label_weights`` defaults to 0.5 for each feature.

    Returns
    -------
    SCMData
        ``feature_names = ("age", "x1", "x2")``, ``fixed = ("age",)``, ``order = ("x1", "x2")``.

    See the chapter :doc:`/book/proxies`.
    """
    # long only by its docstring (the chain's equations, parameters and notes); the body is ~40 lines
    link = one_of("x1_link", x1_link, ("exp", "identity"))
    b1 = _number("effect_x1", effect_x1)
    b2 = _number("effect_x2", effect_x2)
    c21 = _number("x1_on_x2", x1_on_x2)
    e1 = _number("age_on_x1", age_on_x1)
    e2 = _number("age_on_x2", age_on_x2)
    k = _number("age_on_s", age_on_s)
    sigma = _vector("noise", noise, 3, positive=True)
    p = fraction("p_privileged", p_privileged)
    g, ginv = _link(link)
    names = ("age", "x1", "x2")

    def forward(s, U):
        age = U[:, 0]
        x1 = g(b1 * s + e1 * age + U[:, 1])
        x2 = b2 * s + c21 * x1 + e2 * age + U[:, 2]
        return np.column_stack([age, x1, x2])

    def abduct(X, s):
        age, x1, x2 = X[:, 0], X[:, 1], X[:, 2]
        u1 = ginv("X[:, 1] (x1)", x1) - b1 * s - e1 * age
        u2 = x2 - b2 * s - c21 * x1 - e2 * age
        return np.column_stack([age, u1, u2])

    def s_draw(rng, U):
        return (rng.random(U.shape[0]) < _sigmoid(_logit(p) + k * U[:, 0])).astype(np.int64)

    lin = _lin
    inner = lin((b1, "s"), (e1, "age"), (1.0, "u1"))
    lines = [
        f"age  = u0,   u0 ~ N(0, {_fmt(sigma[0])}^2)   (does not depend on s)",
        "s    ~ Bernoulli(" + (f"sigmoid(logit({_fmt(p)}){_term(k, 'age')})" if k != 0 else _fmt(p))
        + ")   (1 = privileged)",
        f"x1   = {('exp(' + inner + ')') if link == 'exp' else inner},   u1 ~ N(0, {_fmt(sigma[1])}^2)",
        f"x2   = {lin((b2, 's'), (c21, 'x1'), (e2, 'age'), (1.0, 'u2'))},   u2 ~ N(0, {_fmt(sigma[2])}^2)",
    ]
    return _draw("chain", n, p, seed, lambda rng, m: rng.normal(size=(m, 3)) * sigma, forward, abduct,
                 names, ("age",), ("x1", "x2"), "\n".join(lines), label_weights, label_s, label_intercept,
                 s_draw=s_draw)
