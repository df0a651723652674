"""One audit for every model in the book: the same individual measures for torch, GPflow and plain callables.

Explained in the chapter :doc:`/book/compare`.

:func:`audit` takes a trained model and the people to audit and returns, per person, the
prediction, prediction sensitivity ``|dF/da|``, smooth prediction sensitivity (the worst case over
Gaussian perturbations), the prediction with the protected attribute flipped, and a flag for the
people whose smooth sensitivity is unusually high. The gradient comes from the model's own
framework:

=====================================  ===================================================
model                                  how ``dF/da`` is computed
=====================================  ===================================================
a torch module (``torch.nn.Module``)   torch autograd, via :mod:`fairnotes.sensitivity`
:class:`fairnotes.fairgp.FairGP`       TensorFlow's ``GradientTape`` on GPflow's predictive
                                       probability ``p(ybar = 1 | x)``
a GPflow model with ``predict_f``      the same, on the model's own inputs
a classifier with ``predict_proba``    central finite differences on its probability of
                                       class 1 (a scikit-learn-style classifier)
any other callable ``X -> P(y=1)``     central finite differences (the result says so)
=====================================  ===================================================

A model that never reads the protected attribute (FairGP, which uses ``s`` in its likelihood
during training only, or a network trained without the column) has sensitivity 0 *by
construction*: the audit reports that, with the reason, instead of differentiating anything.
Zero sensitivity then says nothing about proxies: such a model can still treat groups
differently through correlated features, which the group metrics of the summary show.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
import numpy as np
import pandas as pd

from fairnotes import metrics
from fairnotes._validation import (binary, column_index, matrix, nonnegative_number, positive_int,
                                   positive_number, probabilities)
from fairnotes._sensitivity_defaults import DEFAULT_SIGMA, SMOOTH_N_SAMPLES
from fairnotes.shifts import CounterfactualMap

__all__ = ["audit", "AuditResult"]



@dataclass
class AuditResult:
    """What :func:`audit` returns.

    ``table`` has one row per audited person with the columns ``s``, ``probability``,
    ``prediction`` (thresholded at 0.5), ``sensitivity``, ``smooth_sensitivity``,
    ``counterfactual_probability`` (with the protected attribute flipped),
    ``counterfactual_change`` (that minus ``probability``), ``prediction_flips`` (the 0/1
    decision changes when the attribute is flipped), ``flagged`` and, when given, ``y_true``;
    with a ``shift``, also ``proxy_sensitivity``, ``smooth_proxy_sensitivity``,
    ``proxy_probability``, ``proxy_change`` and ``proxy_flips`` (see :func:`audit`).
    ``method`` says how the gradients were computed; ``flag_threshold`` is the value of the
    ``flag_by`` column above which a person is flagged. See the chapter :doc:`/book/compare`.
    """

    table: pd.DataFrame
    method: str
    flag_threshold: float
    percentile: float | None
    name: str = "model"
    groups: tuple[str, str] = ("s=0", "s=1")
    notes: list[str] = field(default_factory=list)
    flag_by: str = "smooth_sensitivity"

    @property
    def by_construction(self) -> bool:
        """Whether the sensitivity is 0 because the model never reads the protected attribute."""
        return self.method.startswith("sensitivity 0 by construction")

    def summary(self) -> pd.DataFrame:
        """Per group: people, flagged people and their share, mean (smooth) sensitivity,
        selection rate, and how many decisions flip with the attribute; with proxy measures,
        also their means and how many decisions the counterfactual features change
        (:func:`fairnotes.metrics.per_group`)."""
        t = self.table
        columns = {"flagged": (t["flagged"], "sum"), "flagged share": t["flagged"],
                   "mean sensitivity": t["sensitivity"], "mean smooth sensitivity": t["smooth_sensitivity"],
                   "decisions that flip": (t["prediction_flips"], "sum")}
        order = ["model", "group", "s", "people", "flagged", "flagged share", "mean sensitivity",
                 "mean smooth sensitivity", "selection rate", "decisions that flip"]
        if "proxy_sensitivity" in t:
            columns.update({"mean proxy sensitivity": t["proxy_sensitivity"],
                            "mean proxy change": t["proxy_change"],
                            "decisions the proxies change": (t["proxy_flips"], "sum")})
            order += ["mean proxy sensitivity", "mean proxy change", "decisions the proxies change"]
        table = metrics.per_group(None, t["prediction"], s=t["s"], groups=self.groups, name=self.name, **columns)
        table = table.rename(columns={"n": "people"})
        for col in ("flagged", "decisions that flip", "decisions the proxies change"):
            if col in table:
                table[col] = table[col].astype(int)
        return table[order]

    def group_metrics(self) -> pd.DataFrame:
        """The group metrics of the audited predictions (needs ``y_true``), one row per metric."""
        if "y_true" not in self.table:
            raise ValueError("group metrics need the true labels: call audit(..., y_true=...)")
        summary, _ = metrics.group_report(self.table["y_true"], self.table["prediction"],
                                           s=self.table["s"], name=self.name, groups=self.groups)
        return summary

    def flagged(self) -> pd.DataFrame:
        """The flagged rows, highest ``flag_by`` value first."""
        return self.table[self.table["flagged"]].sort_values(self.flag_by, ascending=False)

    def plot_distribution(self, ax=None, column: str = "smooth_sensitivity"):
        """Histogram of ``column`` by group, with the flagging threshold."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        t = self.table.assign(group=self.table["s"].map(dict(enumerate(self.groups))))
        if self.by_construction and not column.startswith(("proxy", "smooth_proxy")):
            ax.text(0.5, 0.5, f"{self.name}:\nsensitivity 0 by construction", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_xlabel(column.replace("_", " "))
            return ax
        sns.histplot(data=t, x=column, hue="group", stat="density", common_norm=False, element="step",
                     bins=40, ax=ax)
        if column == self.flag_by:
            ax.axvline(self.flag_threshold, color="black", ls="--", lw=1)
        ax.set_title(self.name)
        ax.set_xlabel(column.replace("_", " "))
        return ax

    def __repr__(self) -> str:
        n = len(self.table)
        return (f"AuditResult({self.name!r}: {n} people, method={self.method!r}, "
                f"flagged {int(self.table['flagged'].sum())} above {self.flag_threshold:.4g})")


# --------------------------------------------------------------------------- the three back ends

class _Backend:
    method: str

    def proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def grad(self, X: np.ndarray, s_column: int) -> np.ndarray:
        """``dF/da`` per row (signed)."""
        e = np.zeros_like(X)
        e[:, s_column] = 1.0
        return self.directional(X, e)

    def directional(self, X: np.ndarray, V: np.ndarray) -> np.ndarray:
        """``grad F(x) . v`` per row (signed), ``v`` the row's own direction."""
        raise NotImplementedError

    def smooth(self, X, s_column, n_samples, sigma, seed):
        e = np.zeros_like(X)
        e[:, s_column] = 1.0
        return self.smooth_directional(X, e, n_samples, sigma, seed)

    def smooth_directional(self, X, V, n_samples, sigma, seed):
        """``max_i |grad F(x + e_i) . v|`` over ``n_samples`` Gaussian perturbations."""
        rng = np.random.default_rng(seed)
        best = np.zeros(X.shape[0])
        for _ in range(n_samples):
            noisy = X + sigma * rng.standard_normal(X.shape)
            np.maximum(best, np.abs(self.directional(noisy, V)), out=best)
        return best


class _TorchBackend(_Backend):
    method = "torch autograd"

    def __init__(self, model):
        self.model = model

    def proba(self, X):
        from fairnotes.models import predict_proba

        return probabilities("the torch model", predict_proba(self.model, X), len(X))

    def grad(self, X, s_column):
        from fairnotes.sensitivity import prediction_sensitivity

        return prediction_sensitivity(self.model, X, s_column, signed=True).astype(np.float64)

    def smooth(self, X, s_column, n_samples, sigma, seed):
        from fairnotes.sensitivity import smooth_prediction_sensitivity

        return smooth_prediction_sensitivity(self.model, X, s_column, n_samples=n_samples,
                                             sigma=sigma, seed=seed).astype(np.float64)

    def directional(self, X, V):
        from fairnotes.sensitivity import proxy_sensitivity

        return proxy_sensitivity(self.model, X, X + V, signed=True).astype(np.float64)

    def smooth_directional(self, X, V, n_samples, sigma, seed):
        from fairnotes.sensitivity import smooth_proxy_sensitivity

        return smooth_proxy_sensitivity(self.model, X, X + V, n_samples=n_samples, sigma=sigma, seed=seed).astype(np.float64)


class _TensorFlowBackend(_Backend):
    method = "TensorFlow GradientTape"

    def __init__(self, fn, batch: int = 4096):
        self.fn, self.batch = fn, batch

    def proba(self, X):
        import tensorflow as tf

        out = [self.fn(tf.constant(X[i:i + self.batch])).numpy() for i in range(0, len(X), self.batch)]
        return probabilities("the GPflow model", np.concatenate(out), len(X))

    def directional(self, X, V):
        import tensorflow as tf

        out = []
        for i in range(0, len(X), self.batch):
            x = tf.constant(X[i:i + self.batch])
            with tf.GradientTape() as tape:
                tape.watch(x)
                p = self.fn(x)
            # the rows of GPflow's marginal predictions do not interact, so the gradient of
            # the sum holds each row's own gradient
            out.append((tape.gradient(p, x).numpy() * V[i:i + self.batch]).sum(axis=1))
        return np.concatenate(out)


class _FiniteDifferenceBackend(_Backend):
    def __init__(self, fn, step: float, kind: str = "the model is a plain callable"):
        self.fn, self.step = fn, step
        self.method = f"central finite differences (step {step:g}): {kind}"

    def proba(self, X):
        return probabilities("the model callable", self.fn(X), len(X))

    def directional(self, X, V):
        # one pair of evaluations per row and direction, whatever the number of features
        return (self.proba(X + self.step * V) - self.proba(X - self.step * V)) / (2 * self.step)


def _positive_class(model):
    """``X -> P(y=1)`` of a scikit-learn-style classifier: the ``predict_proba`` column of class 1."""
    classes = getattr(model, "classes_", None)
    if classes is not None and list(np.asarray(classes).tolist()) != [0, 1]:
        raise ValueError(f"the classifier's classes_ must be [0, 1] to audit P(y=1), got {list(classes)}")

    def proba(X):
        p = np.asarray(model.predict_proba(X), dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"predict_proba must return one column per class (n, 2), got shape {p.shape}")
        return p[:, 1]

    return proba


def _is_torch_module(model) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _resolve(model, X, s, s_column, fd_step):
    """The back end, the map from (features, s) to the model's inputs, the protected column in
    those inputs (or None) and notes."""
    notes = []
    fairgp = sys.modules.get("fairnotes.fairgp")
    if fairgp is not None and isinstance(model, fairgp.FairGP):
        if s_column is not None:
            raise ValueError("for a FairGP model, pass X without s and s separately; s_column is decided by the model")
        model.check_fitted()
        if model.s_as_input and getattr(model, "s_kernel", "ard") != "ard":
            raise ValueError(f"this FairGP* reads s as a group index (s_kernel={model.s_kernel!r}): its prediction "
                             "has no derivative with respect to s, so prediction sensitivity is not defined; "
                             "compare predict_proba(X, s) with predict_proba(X, 1 - s) instead")
        backend = _TensorFlowBackend(model.proba_function())
        if not model.s_as_input:
            notes.append("FairGP uses s only in its likelihood during training; its predictions never read s")
            return backend, _same, None, notes
        return backend, model.kernel_inputs, X.shape[1], notes
    if _is_torch_module(model):
        backend = _TorchBackend(model)
    elif hasattr(model, "predict_f") and sys.modules.get("gpflow") is not None:
        from fairnotes.fairgp import predict_proba_tf

        backend = _TensorFlowBackend(lambda x: predict_proba_tf(model, x))
    elif callable(getattr(model, "predict_proba", None)):
        backend = _FiniteDifferenceBackend(_positive_class(model), fd_step,
                                           "the model is a scikit-learn-style classifier with predict_proba")
    elif callable(model):
        backend = _FiniteDifferenceBackend(model, fd_step)
    else:
        raise TypeError(f"cannot audit a {type(model).__name__}: give a torch module, a FairGP or GPflow "
                        "model, a classifier with predict_proba, or a callable mapping a feature matrix "
                        "to probabilities")
    if s_column is None:
        notes.append("s_column=None: the model's inputs do not include the protected attribute")
        return backend, _same, None, notes
    return backend, _same, column_index("s_column", s_column, X.shape[1]), notes


def _same(X, s):
    """The model reads the features as given (a copy, so that callers may change it)."""
    return np.array(X, dtype=np.float64)


# --------------------------------------------------------------------------- the entry point

def audit(
    model,
    X,
    s,
    *,
    s_column: int | None = None,
    y_true=None,
    n_samples: int = SMOOTH_N_SAMPLES,
    sigma: float = DEFAULT_SIGMA,
    percentile: float | None = 95.0,
    flag_threshold: float | None = None,
    seed: int = 0,
    fd_step: float = 1e-4,
    shift=None,
    flag_by: str | None = None,
    name: str = "model",
    groups: tuple[str, str] = ("s=0", "s=1"),
) -> AuditResult:
    """Audit every prediction of ``model`` on ``X`` with the same individual measures.

    Parameters
    ----------
    model
        A torch module, a :class:`fairnotes.fairgp.FairGP`, a GPflow model with ``predict_f``
        (its predictive probability of class 1 under the probit link is audited), a
        scikit-learn-style classifier with ``predict_proba`` and classes 0 and 1 (its column of
        class 1 is audited, with finite differences), or any callable mapping an ``(n, d)`` array
        to ``n`` probabilities.
    X
        The people, as the model reads them. For a FairGP model: the features *without* ``s``,
        as passed to ``fit`` (FairGP\\* gets ``s`` appended, as in training).
    s
        The protected attribute of each person, 0/1 (1 = privileged).
    s_column
        Column of the protected attribute in ``X`` (not for FairGP, which knows where ``s`` is).
        ``None`` declares that the model does not read the attribute: its sensitivity is 0 by
        construction and flipping the attribute cannot change its predictions.
    y_true
        True labels, for :meth:`AuditResult.group_metrics`.
    n_samples, sigma, seed
        Smooth prediction sensitivity: the maximum of ``|dF/da|`` over ``n_samples`` Gaussian
        perturbations of standard deviation ``sigma`` of the whole row (the protected column
        included), drawn with ``seed``.
    percentile, flag_threshold
        Flag the people whose ``flag_by`` value (smooth sensitivity by default) is above
        ``flag_threshold``; with ``flag_threshold=None`` it is the ``percentile``-th percentile of
        this audit's own values (so about ``100 - percentile`` percent are flagged). To compare models,
        pass one absolute ``flag_threshold`` to every audit. A model with sensitivity 0 by
        construction flags no one.
    fd_step
        Step of the central finite differences used for a plain callable.
    shift
        A :class:`fairnotes.shifts.Shift` fitted on the features ``X`` (for FairGP: the
        features without ``s``; for a model that reads ``s`` in ``s_column``, the shift may also
        be fitted on the other columns only), or an :class:`fairnotes.scm.SCMData`,
        whose true counterfactuals are then used, to audit through proxies (any object that
        follows :class:`fairnotes.shifts.CounterfactualMap`; a TypeError otherwise). Each person's counterfactual features
        ``x_cf = shift.counterfactual(X, s)`` (with the protected column flipped too when the model
        reads it) give the columns ``proxy_sensitivity`` (``|grad F(x) . (x_cf - x)|``, one backward
        pass per batch; finite differences along ``x_cf - x`` for a callable),
        ``smooth_proxy_sensitivity`` (its maximum over the same Gaussian perturbations as smooth
        sensitivity), ``proxy_probability``, ``proxy_change`` (``F(x_cf) - F(x)``) and
        ``proxy_flips`` (the 0/1 decision changes). These are not zero for a model that never
        reads the protected attribute; they rest on the mechanism the shift assumes.
    flag_by
        The column whose high values are flagged: ``"smooth_sensitivity"`` or
        ``"smooth_proxy_sensitivity"`` (default: the latter when a ``shift`` is given).

    Returns
    -------
    AuditResult
        One row per person in ``table``; :meth:`AuditResult.summary` gives the groups.

    See the chapters :doc:`/book/compare` and :doc:`/book/proxies`.

    Examples
    --------
    Any function from rows to probabilities can be audited (the gradients then come from finite
    differences). This one reads the attribute in column 0, ``F(x) = sigmoid(2 a - x_1 - 0.5)``:

    >>> import numpy as np
    >>> def model(X):
    ...     return 1 / (1 + np.exp(-(2 * X[:, 0] - X[:, 1] - 0.5)))
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> s = X[:, 0].astype(int)
    >>> result = audit(model, X, s, s_column=0, n_samples=10, seed=0)
    >>> result.method
    'central finite differences (step 0.0001): the model is a plain callable'
    >>> columns = ["s", "probability", "sensitivity", "counterfactual_change", "prediction_flips"]
    >>> result.table[columns].round(3)
       s  probability  sensitivity  counterfactual_change  prediction_flips
    0  0        0.378        0.470                   0.44              True
    1  1        0.818        0.298                  -0.44              True
    2  0        0.182        0.298                   0.44              True
    3  1        0.622        0.470                  -0.44              True

    Every decision flips with the attribute: this model treats the groups differently by
    construction. A model that does not read the attribute (``s_column=None``) has sensitivity 0
    by construction and flags no one:

    >>> blind = audit(lambda X: 1 / (1 + np.exp(X[:, 1] - 0.5)), X, s, n_samples=10, seed=0)
    >>> blind.by_construction, int(blind.table["flagged"].sum())
    (True, 0)
    """
    # long only by its docstring (the parameters and a doctest); the body is the steps below
    X_given = X
    X = matrix("X", X)
    s, y_true, flag_by = _check_arguments(X, s, y_true=y_true, n_samples=n_samples, sigma=sigma,
                                          percentile=percentile, flag_threshold=flag_threshold,
                                          fd_step=fd_step, shift=shift, flag_by=flag_by)
    backend, inputs, col, notes = _resolve(model, X, s, s_column, fd_step)
    Xm = inputs(X, s)
    method, columns = _attribute_columns(backend, Xm, s, col, int(n_samples), float(sigma), seed)
    if shift is not None:
        columns.update(_proxy_columns(backend, inputs, X_given, X, Xm, s, col, shift, columns["probability"],
                                      columns["prediction"], int(n_samples), float(sigma), seed))
        notes.append("proxy measures: each person's counterfactual features as the shift estimates them "
                     f"({shift.describe()}); they rest on the mechanism it assumes")
    thr, flagged = _flags(columns[flag_by], by_construction=col is None and flag_by == "smooth_sensitivity",
                          percentile=percentile, flag_threshold=flag_threshold)
    table = pd.DataFrame({**columns, "flagged": flagged})
    if y_true is not None:
        table.insert(1, "y_true", y_true)
    return AuditResult(table=table, method=method, flag_threshold=thr,
                       percentile=None if flag_threshold is not None else float(percentile),
                       name=name, groups=tuple(groups), notes=notes, flag_by=flag_by)


def _check_arguments(X, s, *, y_true, n_samples, sigma, percentile, flag_threshold, fd_step, shift, flag_by):
    """:func:`audit`'s arguments checked: ``s`` and ``y_true`` as 0/1 arrays, and the column to flag by."""
    n = X.shape[0]
    s = binary("s", np.asarray(s).reshape(-1))
    if s.shape[0] != n:
        raise ValueError(f"s has {s.shape[0]} values for {n} rows of X")
    if y_true is not None:
        y_true = binary("y_true", np.asarray(y_true).reshape(-1))
        if len(y_true) != n:
            raise ValueError(f"y_true has {len(y_true)} values for {n} rows of X")
    positive_int("n_samples", n_samples)
    nonnegative_number("sigma", sigma)
    if flag_threshold is None:
        if percentile is None or not (0 < percentile < 100):
            raise ValueError(f"percentile must be strictly between 0 and 100, got {percentile!r}")
    else:
        nonnegative_number("flag_threshold", flag_threshold)
    positive_number("fd_step", fd_step)
    if flag_by is None:
        flag_by = "smooth_proxy_sensitivity" if shift is not None else "smooth_sensitivity"
    if flag_by not in ("smooth_sensitivity", "smooth_proxy_sensitivity"):
        raise ValueError(f"flag_by must be 'smooth_sensitivity' or 'smooth_proxy_sensitivity', got {flag_by!r}")
    if flag_by == "smooth_proxy_sensitivity" and shift is None:
        raise ValueError("flag_by='smooth_proxy_sensitivity' needs a shift (fairnotes.shifts.fit_shift)")
    return s, y_true, flag_by


def _attribute_columns(backend, Xm, s, col, n_samples, sigma, seed):
    """The method and the measures of :func:`audit` that flip or differentiate the protected column
    ``col`` of the model's inputs ``Xm`` (all 0 when the model does not read it, ``col=None``)."""
    n = Xm.shape[0]
    p = backend.proba(Xm)
    pred = (p > 0.5).astype(np.int64)
    if col is None:
        method = "sensitivity 0 by construction: the model never reads the protected attribute"
        sens = np.zeros(n)
        smooth = np.zeros(n)
        p_cf = p.copy()
    else:
        a = Xm[:, col]
        if not np.isin(a, (0.0, 1.0)).all():
            raise ValueError(f"column {col} of the model's input must hold the raw 0/1 protected attribute")
        if not np.array_equal(a.astype(int), s):
            raise ValueError(f"column {col} of the model's input differs from s: is s_column the protected column?")
        method = backend.method
        sens = np.abs(backend.grad(Xm, col))
        smooth = backend.smooth(Xm, col, n_samples, sigma, seed) if sigma > 0 else sens.copy()
        flipped = Xm.copy()
        flipped[:, col] = 1 - flipped[:, col]
        p_cf = backend.proba(flipped)
    return method, {
        "s": s, "probability": p, "prediction": pred, "sensitivity": sens,
        "smooth_sensitivity": smooth, "counterfactual_probability": p_cf,
        "counterfactual_change": p_cf - p, "prediction_flips": (p_cf > 0.5).astype(np.int64) != pred,
    }


def _flags(score, *, by_construction, percentile, flag_threshold):
    """The flagging cut and who is above it; a model with sensitivity 0 by construction flags no one."""
    if by_construction:
        thr = 0.0 if flag_threshold is None else float(flag_threshold)
        return thr, np.zeros(len(score), dtype=bool)
    thr = float(np.percentile(score, percentile)) if flag_threshold is None else float(flag_threshold)
    return thr, score > thr


def _proxy_columns(backend, inputs, X_given, X, Xm, s, col, shift, p, pred, n_samples, sigma, seed) -> dict:
    """The proxy-aware measures of :func:`audit`, from each person's estimated counterfactual features.

    ``shift`` is read through :class:`fairnotes.shifts.CounterfactualMap` only."""
    if not isinstance(shift, CounterfactualMap):
        raise TypeError("shift must follow fairnotes.shifts.CounterfactualMap (n_features, counterfactual(X, s) "
                        "and describe()), as a Shift from fairnotes.shifts.fit_shift or an SCMData from "
                        f"fairnotes.scm do; got {type(shift).__name__}")
    width = shift.n_features
    if col is not None and width == X.shape[1] - 1:
        # a shift over the features other than the protected column: the audit flips that one
        others = [j for j in range(X.shape[1]) if j != col]
        given = X_given.drop(columns=X_given.columns[col]) if isinstance(X_given, pd.DataFrame) else X[:, others]
        X_cf = X.copy()
        X_cf[:, others] = matrix("the shift's counterfactual features", shift.counterfactual(given, s))
    else:
        X_cf = matrix("the shift's counterfactual features", shift.counterfactual(X_given, s))
    if X_cf.shape != X.shape:
        raise ValueError(f"the shift gives counterfactuals of shape {X_cf.shape} for X of shape {X.shape}: "
                         "was it fitted on other columns than the model reads?")
    Xm_cf = inputs(X_cf, 1 - s)
    if col is not None:
        Xm_cf[:, col] = 1 - s  # a model that reads s sees the other group too
    V = Xm_cf - Xm
    directional = backend.directional(Xm, V)
    smooth = backend.smooth_directional(Xm, V, n_samples, sigma, seed) if sigma > 0 else np.abs(directional)
    p_proxy = backend.proba(Xm_cf)
    return {"proxy_sensitivity": np.abs(directional), "smooth_proxy_sensitivity": smooth,
            "proxy_probability": p_proxy, "proxy_change": p_proxy - p,
            "proxy_flips": (p_proxy > 0.5).astype(np.int64) != pred}
