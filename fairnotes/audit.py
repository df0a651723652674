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
from fairnotes.presets import DEFAULT_SIGMA

__all__ = ["audit", "AuditResult"]



@dataclass
class AuditResult:
    """What :func:`audit` returns.

    ``table`` has one row per audited person with the columns ``s``, ``probability``,
    ``prediction`` (thresholded at 0.5), ``sensitivity``, ``smooth_sensitivity``,
    ``counterfactual_probability`` (with the protected attribute flipped),
    ``counterfactual_change`` (that minus ``probability``), ``prediction_flips`` (the 0/1
    decision changes when the attribute is flipped), ``flagged`` and, when given, ``y_true``.
    ``method`` says how the gradients were computed; ``flag_threshold`` is the smooth sensitivity
    above which a person is flagged. See the chapter :doc:`/book/compare`.
    """

    table: pd.DataFrame
    method: str
    flag_threshold: float
    percentile: float | None
    name: str = "model"
    groups: tuple[str, str] = ("s=0", "s=1")
    notes: list[str] = field(default_factory=list)

    @property
    def by_construction(self) -> bool:
        """Whether the sensitivity is 0 because the model never reads the protected attribute."""
        return self.method.startswith("sensitivity 0 by construction")

    def summary(self) -> pd.DataFrame:
        """Per group: people, flagged people and their share, mean (smooth) sensitivity,
        selection rate, and how many decisions flip with the attribute (:func:`fairnotes.metrics.per_group`)."""
        t = self.table
        table = metrics.per_group(
            t["s"], y_pred=t["prediction"], groups=self.groups, name=self.name,
            **{"flagged": (t["flagged"], "sum"), "flagged share": t["flagged"],
               "mean sensitivity": t["sensitivity"], "mean smooth sensitivity": t["smooth_sensitivity"],
               "decisions that flip": (t["prediction_flips"], "sum")})
        table = table.rename(columns={"n": "people"})
        for col in ("flagged", "decisions that flip"):
            table[col] = table[col].astype(int)
        return table[["model", "group", "s", "people", "flagged", "flagged share", "mean sensitivity",
                      "mean smooth sensitivity", "selection rate", "decisions that flip"]]

    def group_metrics(self) -> pd.DataFrame:
        """The group metrics of the audited predictions (needs ``y_true``), one row per metric."""
        if "y_true" not in self.table:
            raise ValueError("group metrics need the true labels: call audit(..., y_true=...)")
        summary, _ = metrics.group_report(self.table["y_true"], self.table["prediction"],
                                           self.table["s"], name=self.name, groups=self.groups)
        return summary

    def flagged(self) -> pd.DataFrame:
        """The flagged rows, highest smooth sensitivity first."""
        return self.table[self.table["flagged"]].sort_values("smooth_sensitivity", ascending=False)

    def plot_distribution(self, ax=None, column: str = "smooth_sensitivity"):
        """Histogram of ``column`` by group, with the flagging threshold."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        t = self.table.assign(group=self.table["s"].map(dict(enumerate(self.groups))))
        if self.by_construction:
            ax.text(0.5, 0.5, f"{self.name}:\nsensitivity 0 by construction", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_xlabel(column.replace("_", " "))
            return ax
        sns.histplot(data=t, x=column, hue="group", stat="density", common_norm=False, element="step",
                     bins=40, ax=ax)
        if column == "smooth_sensitivity":
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
        raise NotImplementedError

    def smooth(self, X, s_column, n_samples, sigma, seed):
        rng = np.random.default_rng(seed)
        best = np.zeros(X.shape[0])
        for _ in range(n_samples):
            noisy = X + sigma * rng.standard_normal(X.shape)
            np.maximum(best, np.abs(self.grad(noisy, s_column)), out=best)
        return best


class _TorchBackend(_Backend):
    method = "torch autograd"

    def __init__(self, model):
        self.model = model

    def proba(self, X):
        from fairnotes.models import predict_proba

        return probabilities("the torch model", predict_proba(self.model, X.astype(np.float32)), len(X))

    def grad(self, X, s_column):
        from fairnotes.sensitivity import prediction_sensitivity

        return prediction_sensitivity(self.model, X.astype(np.float32), s_column, signed=True).astype(np.float64)

    def smooth(self, X, s_column, n_samples, sigma, seed):
        from fairnotes.sensitivity import smooth_prediction_sensitivity

        return smooth_prediction_sensitivity(self.model, X.astype(np.float32), s_column, n_samples=n_samples,
                                             sigma=sigma, seed=seed).astype(np.float64)


class _TensorFlowBackend(_Backend):
    method = "TensorFlow GradientTape"

    def __init__(self, fn, batch: int = 4096):
        self.fn, self.batch = fn, batch

    def proba(self, X):
        import tensorflow as tf

        out = [self.fn(tf.constant(X[i:i + self.batch])).numpy() for i in range(0, len(X), self.batch)]
        return probabilities("the GPflow model", np.concatenate(out), len(X))

    def grad(self, X, s_column):
        import tensorflow as tf

        out = []
        for i in range(0, len(X), self.batch):
            x = tf.constant(X[i:i + self.batch])
            with tf.GradientTape() as tape:
                tape.watch(x)
                p = self.fn(x)
            # the rows of GPflow's marginal predictions do not interact, so the gradient of
            # the sum holds each row's own gradient
            out.append(tape.gradient(p, x).numpy()[:, s_column])
        return np.concatenate(out)


class _FiniteDifferenceBackend(_Backend):
    def __init__(self, fn, step: float):
        self.fn, self.step = fn, step
        self.method = f"central finite differences (step {step:g}): the model is a plain callable"

    def proba(self, X):
        return probabilities("the model callable", self.fn(X), len(X))

    def grad(self, X, s_column):
        up, down = X.copy(), X.copy()
        up[:, s_column] += self.step
        down[:, s_column] -= self.step
        return (self.proba(up) - self.proba(down)) / (2 * self.step)


def _is_torch_module(model) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _resolve(model, X, s, s_column, fd_step):
    """The back end, the model's input matrix, the protected column in it (or None) and notes."""
    notes = []
    fairgp = sys.modules.get("fairnotes.fairgp")
    if fairgp is not None and isinstance(model, fairgp.FairGP):
        if s_column is not None:
            raise ValueError("for a FairGP model, pass X without s and s separately; s_column is decided by the model")
        model.check_fitted()
        Xk = model.kernel_inputs(X, s) if model.s_as_input else X
        backend = _TensorFlowBackend(model.proba_function())
        if not model.s_as_input:
            notes.append("FairGP uses s only in its likelihood during training; its predictions never read s")
            return backend, Xk, None, notes
        return backend, Xk, Xk.shape[1] - 1, notes
    if _is_torch_module(model):
        backend = _TorchBackend(model)
    elif hasattr(model, "predict_f") and sys.modules.get("gpflow") is not None:
        from fairnotes.fairgp import predict_proba_tf

        backend = _TensorFlowBackend(lambda x: predict_proba_tf(model, x))
    elif callable(model):
        backend = _FiniteDifferenceBackend(model, fd_step)
    else:
        raise TypeError(f"cannot audit a {type(model).__name__}: give a torch module, a FairGP or GPflow "
                        "model, or a callable mapping a feature matrix to probabilities")
    if s_column is None:
        notes.append("s_column=None: the model's inputs do not include the protected attribute")
        return backend, X, None, notes
    return backend, X, column_index("s_column", s_column, X.shape[1]), notes


# --------------------------------------------------------------------------- the entry point

def audit(
    model,
    X,
    s,
    *,
    s_column: int | None = None,
    y_true=None,
    n_samples: int = 50,
    sigma: float = DEFAULT_SIGMA,
    percentile: float | None = 95.0,
    flag_threshold: float | None = None,
    seed: int = 0,
    fd_step: float = 1e-4,
    name: str = "model",
    groups: tuple[str, str] = ("s=0", "s=1"),
) -> AuditResult:
    """Audit every prediction of ``model`` on ``X`` with the same individual measures.

    Parameters
    ----------
    model
        A torch module, a :class:`fairnotes.fairgp.FairGP`, a GPflow model with ``predict_f``
        (its predictive probability of class 1 under the probit link is audited), or any
        callable mapping an ``(n, d)`` array to ``n`` probabilities.
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
        Flag the people whose smooth sensitivity is above ``flag_threshold``; with
        ``flag_threshold=None`` it is the ``percentile``-th percentile of this audit's own smooth
        sensitivities (so about ``100 - percentile`` percent are flagged). To compare models,
        pass one absolute ``flag_threshold`` to every audit. A model with sensitivity 0 by
        construction flags no one.
    fd_step
        Step of the central finite differences used for a plain callable.

    See the chapter :doc:`/book/compare`.
    """
    X = matrix("X", X)
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

    backend, Xm, col, notes = _resolve(model, X, s, s_column, fd_step)
    p = backend.proba(Xm)
    if col is None:
        method = "sensitivity 0 by construction: the model never reads the protected attribute"
        sens = np.zeros(n)
        smooth = np.zeros(n)
        p_cf = p.copy()
        thr = 0.0 if flag_threshold is None else float(flag_threshold)
        flagged = np.zeros(n, dtype=bool)
    else:
        a = Xm[:, col]
        if not np.isin(a, (0.0, 1.0)).all():
            raise ValueError(f"column {col} of the model's input must hold the raw 0/1 protected attribute")
        if not np.array_equal(a.astype(int), s):
            raise ValueError(f"column {col} of the model's input differs from s: is s_column the protected column?")
        method = backend.method
        sens = np.abs(backend.grad(Xm, col))
        smooth = backend.smooth(Xm, col, int(n_samples), float(sigma), seed) if sigma > 0 else sens.copy()
        flipped = Xm.copy()
        flipped[:, col] = 1 - flipped[:, col]
        p_cf = backend.proba(flipped)
        thr = float(np.percentile(smooth, percentile)) if flag_threshold is None else float(flag_threshold)
        flagged = smooth > thr
    pred = (p > 0.5).astype(np.int64)
    table = pd.DataFrame({
        "s": s, "probability": p, "prediction": pred, "sensitivity": sens,
        "smooth_sensitivity": smooth, "counterfactual_probability": p_cf,
        "counterfactual_change": p_cf - p, "prediction_flips": (p_cf > 0.5).astype(np.int64) != pred,
        "flagged": flagged,
    })
    if y_true is not None:
        table.insert(1, "y_true", y_true)
    return AuditResult(table=table, method=method, flag_threshold=thr,
                       percentile=None if flag_threshold is not None else float(percentile),
                       name=name, groups=tuple(groups), notes=notes)
