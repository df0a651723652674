"""The FairGP paper's baselines, written from their papers' mathematics (numpy, scipy, scikit-learn).

Explained in the chapters :doc:`/book/fairgp_parity` (demographic parity: the SVM, ZafarAccuracy and
ZafarFairness rows of the paper's Table 1) and :doc:`/book/fairgp_opportunity` (equality of
opportunity: the SVM and ZafarEqOpp rows of its Table 3).

Kehrenberg, Chen & Quadrianto compare FairGP with methods of Zafar et al. run through the
comparison framework of Friedler et al. (2018). Every Zafar baseline is a logistic regression
``p(y = 1 | x) = sigmoid(theta^T x)`` (``theta`` holds an intercept) whose weights obey a
constraint on a *covariance with the sensitive attribute* ``s``, a convex or convex-concave proxy
for a fairness measure that is itself not differentiable. With ``N`` training people, ``sbar`` the
mean of ``s`` and the logistic loss ``L(theta) = (1/N) sum_i log(1 + exp(-yt_i theta^T x_i))``
(``yt = 2y - 1``, labels in +-1) plus an optional ``(l2/2) ||w||^2`` on the weights (not the
intercept):

* **Demographic parity** (Zafar et al., 2017a, "Fairness constraints: mechanisms for fair
  classification"): the covariance of ``s`` with the signed distance to the decision boundary,
  ``Cov_DP(theta) = (1/N) sum_i (s_i - sbar) theta^T x_i`` (:func:`decision_covariance`), linear in
  ``theta``. :class:`ZafarFairness` (the paper's row of that name) maximises accuracy under a
  fairness constraint, ``min L s.t. |Cov_DP| <= c``; :class:`ZafarAccuracy` maximises fairness
  under an accuracy constraint, ``min |Cov_DP| s.t. L <= (1 + gamma) L*``. The names follow the
  constraint, as in Friedler et al.'s framework (``ZafarFairness``: the covariance threshold ``c``,
  default 0.001 there; ``ZafarAccuracy``: ``gamma``, default 0.5) and as the FairGP paper's text
  says; the paper's Table 1 agrees (ZafarFairness keeps the accuracy of a plain classifier, 0.85,
  ZafarAccuracy trades it for fairness, 0.80, and overshoots parity on average: DIbinary 1.31).
* **Equality of opportunity** (Zafar et al., 2017b, "Fairness beyond disparate treatment & disparate
  impact"): the covariance of ``s`` with the misclassification distance of the positives,
  ``Cov_FNR(theta) = (1/N) sum_i (s_i - sbar) g_i`` with ``g_i = min(0, (1 + yt_i)/2 * yt_i theta^T x_i)``
  (:func:`fnr_covariance`): ``g`` is 0 for the people with ``y = 0``, so the sum runs over the people
  with ``y = 1`` (those who can be a false negative), ``min(0, theta^T x_i)``, while ``N`` and ``sbar``
  are those of the whole training set, as in the paper's Monte Carlo covariance and the authors'
  code. :class:`ZafarEqOpp` solves ``min L s.t. |Cov_FNR| <= c`` (the framework's threshold: 0);
  ``center="positives"`` takes ``N`` and ``sbar`` over the positives instead, which the paper's
  form needs to mean equal misclassification when the groups' base rates differ.

:func:`rbf_svm` is the paper's SVM (scikit-learn's ``SVC`` with its defaults, an RBF kernel) on at
most ``max_train_rows`` training rows; :func:`paper_baselines` fits a table's rows on one split and
returns their 0/1 test predictions.

Differences from the framework's runs, which a chapter should state: the framework passed ``s`` to
Zafar's code as one of the features (its "numerical-binsensitive" data), here the features are the
ones given (the book's one-hot features, ``s`` left out, as for every other row); Zafar's code
solved the convex-concave ZafarEqOpp problem with DCCP (cvxpy), here SLSQP finds a local optimum.

The three logistic regressions share ``l2`` (the penalty, default 0 as in Zafar et al.),
``max_iter`` (iterations of each optimiser run) and ``tol`` (L-BFGS's bound on the largest gradient
entry). They read ``s`` in training only; ``predict`` reads ``X``.

Optimisation and failures. The unconstrained fit is L-BFGS on the convex loss. ZafarFairness is
convex with a linear constraint and is solved *exactly*: if the unconstrained optimum breaks the
constraint, the constraint is active at the optimum, so ``theta`` is restricted to the affine
hyperplane ``Cov_DP = +-c`` and L-BFGS minimises the loss there. ZafarAccuracy and ZafarEqOpp use
SLSQP from the unconstrained solution. Every fit checks its constraint afterwards: a model that
violates it raises ``RuntimeError`` (it would be a misleading baseline); a model that satisfies it
but whose optimiser stopped without its convergence criterion (an iteration limit, a failed line
search at a kink of ``min(0, .)``) is kept with a :class:`sklearn.exceptions.ConvergenceWarning`
and ``converged_ = False``. Everything is float64 and deterministic (the optimisers start from
zeros or from the unconstrained solution); only :func:`rbf_svm`'s subsample uses a seed.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning

from fairnotes._validation import (
    binary, both_groups, matrix, nonnegative_int, nonnegative_number, one_of, positive_int, positive_number,
    same_length,
)

__all__ = [
    "decision_covariance", "fnr_covariance", "ZafarFairness", "ZafarAccuracy", "ZafarEqOpp",
    "rbf_svm", "paper_baselines",
]


_PARITY, _OPPORTUNITY = "parity", "opportunity"


# --------------------------------------------------------------------------- inputs


def _check_data(X, y, s, *, need_positives_in_groups: bool = False):
    """X as float64, y and s as 0/1 int64 of one length, both classes and both groups present."""
    X = matrix("X", X)
    y = binary("y", y)
    s = both_groups("s", binary("s", s))
    same_length(X=X, y=y, s=s)
    for label in (0, 1):
        if not (y == label).any():
            raise ValueError(f"y has no row with y={label}: logistic regression needs both classes")
    if need_positives_in_groups:
        for g in (0, 1):
            if not ((y == 1) & (s == g)).any():
                raise ValueError(f"group s={g} has no row with y=1: its false negative rate is undefined")
    return X, y, s


def _augment(X: np.ndarray) -> np.ndarray:
    """``X`` with a last column of ones (the intercept)."""
    return np.hstack([X, np.ones((X.shape[0], 1))])


def _theta(theta, width: int) -> np.ndarray:
    """``theta`` = (weights, intercept) as float64 of length ``width + 1``."""
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    if theta.shape != (width + 1,):
        raise ValueError(f"theta must hold {width} weights and an intercept, shape ({width + 1},); got {theta.shape}")
    if not np.isfinite(theta).all():
        raise ValueError("theta contains NaN or infinite values")
    return theta


# --------------------------------------------------------------------------- the covariance proxies


def _dp_vector(Xa: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``a`` with ``Cov_DP(theta) = a^T theta``: ``a = Xa^T (s - sbar) / N`` (its intercept entry is 0)."""
    a = Xa.T @ (s - s.mean()) / Xa.shape[0]
    a[-1] = 0.0  # exactly: sum_i (s_i - sbar) = 0
    return a


def decision_covariance(theta, X, s) -> float:
    """Zafar et al.'s (2017a) decision-boundary covariance, ``(1/N) sum_i (s_i - sbar) theta^T x_i``.

    ``theta`` holds the weights and then the intercept (``np.r_[coef_, intercept_]`` of a fitted
    model); the intercept does not change the value, since ``sum_i (s_i - sbar) = 0``. 0 means the
    distance to the decision boundary is uncorrelated with ``s`` in the sample, a convex proxy for
    demographic parity. See the chapter :doc:`/book/fairgp_parity`.
    """
    X = matrix("X", X)
    s = binary("s", s)
    same_length(X=X, s=s)
    theta = _theta(theta, X.shape[1])
    return float(_dp_vector(_augment(X), s.astype(np.float64)) @ theta)


_CENTERS = ("all", "positives")


def _fnr_parts(Xa: np.ndarray, y: np.ndarray, s: np.ndarray, center: str):
    """The positives' rows and their weights ``(s_i - sbar) / N`` (``sbar`` and ``N`` over ``center``)."""
    pos = y == 1
    if center == "all":
        return Xa[pos], (s[pos] - s.mean()) / Xa.shape[0]
    return Xa[pos], (s[pos] - s[pos].mean()) / int(pos.sum())


def _fnr_cov_and_grad(theta: np.ndarray, Xp: np.ndarray, wp: np.ndarray):
    z = Xp @ theta
    neg = z < 0
    return float(wp[neg] @ z[neg]), Xp[neg].T @ wp[neg]


def fnr_covariance(theta, X, y, s, *, center: str = "all") -> float:
    """Zafar et al.'s (2017b) false-negative covariance, ``(1/N) sum_i (s_i - sbar) g_i``.

    ``g_i = min(0, (1 + yt_i)/2 * yt_i theta^T x_i)`` with ``yt = 2y - 1``: ``min(0, theta^T x_i)``
    for a person with ``y = 1`` (negative when they are a false negative, the more so the farther
    from the boundary) and 0 for a person with ``y = 0``, so the sum runs over the positives.
    ``center="all"`` (default here): ``N`` and ``sbar`` are those of all the rows, as in the covariance
    written in Zafar et al.'s paper (2017b, Section 4). Then ``Cov = 0`` means
    ``P(y=1 | s=1) E[g | s=1, y=1] = P(y=1 | s=0) E[g | s=0, y=1]``: with unequal base rates it does
    *not* ask the positives of both groups to be equally misclassified, and can widen the false
    negative gap. ``center="positives"``: ``N`` and ``sbar`` of the positives only, the covariance
    conditional on ``y = 1``, whose zero is ``E[g | s=1, y=1] = E[g | s=0, y=1]``: what the authors'
    code computes for its FNR constraint (it weights each group's sum by the other group's share of
    the *positives* and divides by their number), so what the FairGP paper's benchmark ran. ``theta`` holds the
    weights and then the intercept. A concave function of ``theta`` per group, so ``|Cov| <= c`` is a
    convex-concave constraint. See the chapter :doc:`/book/fairgp_opportunity`.
    """
    X = matrix("X", X)
    y = binary("y", y)
    s = binary("s", s)
    same_length(X=X, y=y, s=s)
    center = one_of("center", center, _CENTERS)
    theta = _theta(theta, X.shape[1])
    Xp, wp = _fnr_parts(_augment(X), y, s.astype(np.float64), center)
    return _fnr_cov_and_grad(theta, Xp, wp)[0]


# --------------------------------------------------------------------------- the logistic loss


def _loss_and_grad(theta: np.ndarray, Xa: np.ndarray, yt: np.ndarray, l2: float):
    """Mean logistic loss plus ``(l2/2) ||w||^2`` (not the intercept), and its gradient."""
    margin = yt * (Xa @ theta)
    loss = float(np.logaddexp(0.0, -margin).mean())
    grad = Xa.T @ (-yt * expit(-margin)) / Xa.shape[0]
    if l2:
        w = theta[:-1]
        loss += 0.5 * l2 * float(w @ w)
        grad[:-1] += l2 * w
    return loss, grad


def _lbfgs(fun, x0: np.ndarray, max_iter: int, tol: float):
    """L-BFGS until the largest gradient entry is below ``tol`` or the loss stops decreasing (relative 1e-12)."""
    return minimize(fun, x0, jac=True, method="L-BFGS-B",
                    options=dict(maxiter=max_iter, maxfun=4 * max_iter, gtol=tol, ftol=1e-12))


def _lbfgs_report(res, tol: float) -> dict:
    """Converged: L-BFGS met a criterion, or stopped with a gradient within ``1000 tol`` of zero."""
    worst = float(np.max(np.abs(res.jac))) if np.size(res.jac) else 0.0
    return dict(converged=bool(res.success) or worst <= 1e3 * tol, n_iter=res.nit,
                message=f"L-BFGS: {res.message}; largest gradient entry {worst:.1e}")


def _last_point(f):
    """``f(theta)`` remembered for the last ``theta``: SLSQP asks a constraint for its value and its
    gradient at the same point in separate calls, and both come from one evaluation."""
    last = {}

    def g(theta):
        if "x" not in last or not np.array_equal(last["x"], theta):
            last["x"], last["v"] = np.array(theta, copy=True), f(theta)
        return last["v"]
    return g


class _ConstrainedLogistic(ClassifierMixin, BaseEstimator):
    """Shared plumbing: validation, the unconstrained fit, prediction and the fit report."""

    def __init__(self, *, l2: float = 0.0, max_iter: int = 1000, tol: float = 1e-8):
        self.l2 = nonnegative_number("l2", l2)
        self.max_iter = positive_int("max_iter", max_iter)
        self.tol = positive_number("tol", tol)

    # ---- fitting
    def fit(self, X, y, s):
        """Fit on training features ``X``, 0/1 labels ``y`` and 0/1 sensitive attribute ``s``; returns ``self``.

        See the chapter :doc:`/book/fairgp_parity`.
        """
        X, y, s = _check_data(X, y, s, need_positives_in_groups=self._needs_positives)
        Xa, yt, sf = _augment(X), 2.0 * y - 1.0, s.astype(np.float64)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([0, 1])
        theta0 = self._unconstrained(Xa, yt)
        self.unconstrained_loss_ = _loss_and_grad(theta0, Xa, yt, self.l2)[0]
        self.unconstrained_covariance_ = self._covariance(theta0, Xa, y, sf)
        theta, result = self._solve(theta0, Xa, yt, y, sf)
        self._set(theta, Xa, yt, y, sf, result)
        return self

    def _unconstrained(self, Xa: np.ndarray, yt: np.ndarray) -> np.ndarray:
        res = _lbfgs(lambda t: _loss_and_grad(t, Xa, yt, self.l2), np.zeros(Xa.shape[1]), self.max_iter, self.tol)
        report = _lbfgs_report(res, self.tol)
        if not report["converged"]:
            warnings.warn(f"{type(self).__name__}: the unconstrained logistic regression did not converge "
                          f"({report['message']}): raise max_iter or set l2 > 0", ConvergenceWarning, stacklevel=3)
        return res.x

    def _set(self, theta, Xa, yt, y, sf, result) -> None:
        self.coef_ = theta[:-1].copy()
        self.intercept_ = float(theta[-1])
        self.loss_ = _loss_and_grad(theta, Xa, yt, self.l2)[0]
        self.covariance_ = self._covariance(theta, Xa, y, sf)
        self.converged_ = bool(result.get("converged", True))
        self.n_iter_ = int(result.get("n_iter", 0))
        self.message_ = str(result.get("message", "the unconstrained optimum satisfies the constraint"))
        self._check_solution(Xa, yt, y, sf)
        if not self.converged_:
            warnings.warn(f"{type(self).__name__}: the optimiser stopped before its convergence criterion "
                          f"({self.message_}); the model satisfies its constraint but may not be optimal",
                          ConvergenceWarning, stacklevel=3)

    def _slsqp(self, fun, x0, constraints):
        res = minimize(fun, x0, jac=True, method="SLSQP", constraints=constraints,
                       options=dict(maxiter=self.max_iter, ftol=1e-12))
        return res.x, dict(converged=bool(res.success), n_iter=res.nit, message=f"SLSQP: {res.message}")

    # ---- prediction
    def decision_function(self, X) -> np.ndarray:
        """``theta^T x`` (weights and intercept), the signed distance to the boundary, shape (N,).

        See the chapters :doc:`/book/fairgp_parity` and :doc:`/book/fairgp_opportunity`.
        """
        self._check_fitted()
        X = matrix("X", X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} columns but the model was fitted on {self.n_features_in_}")
        return X @ self.coef_ + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        """``p(y = 1 | x) = sigmoid(theta^T x)``, shape (N,) (as the other models of the package).

        See the chapters :doc:`/book/fairgp_parity` and :doc:`/book/fairgp_opportunity`.
        """
        return expit(self.decision_function(X))

    def predict(self, X) -> np.ndarray:
        """0/1 predictions: 1 where ``theta^T x > 0`` (``p(y = 1 | x) > 0.5``).

        See the chapters :doc:`/book/fairgp_parity` and :doc:`/book/fairgp_opportunity`.
        """
        return (self.decision_function(X) > 0).astype(np.int64)

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError(f"this {type(self).__name__} is not fitted: call fit(X, y, s) first")

    _needs_positives = False


# --------------------------------------------------------------------------- demographic parity


class _ParityLogistic(_ConstrainedLogistic):
    def _covariance(self, theta, Xa, y, sf) -> float:
        return float(_dp_vector(Xa, sf) @ theta)


class ZafarFairness(_ParityLogistic):
    """The paper's **ZafarFairness**: accuracy under a demographic-parity constraint (Zafar et al., 2017a).

    Solves ``min_theta L(theta)  s.t.  |Cov_DP(theta)| <= c``, with ``L`` the mean logistic loss plus
    ``(l2/2) ||w||^2`` and ``Cov_DP(theta) = (1/N) sum_i (s_i - sbar) theta^T x_i``
    (:func:`decision_covariance`). The problem is convex and the constraint linear in ``theta``. If the
    unconstrained optimum satisfies it, that is the answer; otherwise the constraint is active, and
    ``theta`` is restricted to the hyperplane ``Cov_DP = sign(Cov_DP*) c`` (a basis of its directions
    by ``scipy.linalg.null_space``) where L-BFGS minimises the loss: the exact optimum, which SLSQP
    would only approximate. ``c = 0`` (default) asks for no covariance at all; Friedler et al.'s
    framework used ``c = 0.001``, on unstandardised features and with ``s`` among them.

    ``Cov_DP = 0`` need not change a single decision. The covariance weighs every person by their
    distance to the boundary, so it can be cancelled by people far from it: on standardised one-hot
    features a rare category's column is large for its few members, and a large weight on it
    pushes them (all of one class, already classified right) farther away at almost no loss. On
    the book's one-hot Adult split the constrained optimum does exactly that, and its decisions
    are those of the plain logistic regression, as the paper's Table 1 row suggests (ZafarFairness
    has the plain classifiers' DIbinary there). An ``l2`` penalty makes such weights cost something:
    on that split ``l2 = 1e-4`` is enough for the constraint to move the decisions towards parity.

    ``s`` is used in training only: ``predict`` reads ``X``. Attributes after ``fit``:
    ``coef_``, ``intercept_``, ``loss_`` and ``covariance_`` (at the solution),
    ``unconstrained_loss_`` and ``unconstrained_covariance_``, ``converged_``, ``n_iter_``,
    ``message_``. A solution that breaks the constraint raises ``RuntimeError``; one whose optimiser
    did not converge warns (:class:`~sklearn.exceptions.ConvergenceWarning`).
    See the chapter :doc:`/book/fairgp_parity`.
    """

    def __init__(self, c: float = 0.0, *, l2: float = 0.0, max_iter: int = 1000, tol: float = 1e-8):
        self.c = nonnegative_number("c", c)
        super().__init__(l2=l2, max_iter=max_iter, tol=tol)

    def _solve(self, theta0, Xa, yt, y, sf):
        a = _dp_vector(Xa, sf)
        cov0 = float(a @ theta0)
        if abs(cov0) <= self.c or not np.any(a):
            return theta0, {}
        target = np.sign(cov0) * self.c
        offset = target * a / float(a @ a)                 # a point of the hyperplane a^T theta = target
        basis = null_space(a[None, :])                     # orthonormal directions within it, (d+1, d)

        def fun(u):
            loss, grad = _loss_and_grad(offset + basis @ u, Xa, yt, self.l2)
            return loss, basis.T @ grad

        res = _lbfgs(fun, basis.T @ (theta0 - offset), self.max_iter, self.tol)
        return offset + basis @ res.x, _lbfgs_report(res, self.tol)

    def _check_solution(self, Xa, yt, y, sf) -> None:
        slack = 1e-9 * max(1.0, abs(self.unconstrained_covariance_))
        if abs(self.covariance_) > self.c + slack:
            raise RuntimeError(f"ZafarFairness: the solution breaks |Cov| <= c ({abs(self.covariance_):.3e} > "
                               f"{self.c:.3e}); not returning a misleading model")


class ZafarAccuracy(_ParityLogistic):
    """The paper's **ZafarAccuracy**: demographic-parity fairness under an accuracy constraint (Zafar et al., 2017a).

    Solves ``min_theta |Cov_DP(theta)|  s.t.  L(theta) <= (1 + gamma) L*``, with ``L*`` the loss of
    the unconstrained logistic regression (the same ``L`` and ``Cov_DP`` as :class:`ZafarFairness`).
    This is the paper's main form, one constraint on the total loss; the variant in which no
    person classified positive by the unconstrained model may lose more than ``(1 + gamma)`` times
    their own loss (the "fine-grained" constraint) is *not* implemented. The framework's default
    is ``gamma = 0.5``.

    Written as ``min t  s.t.  -t <= Cov_DP(theta) <= t,  L(theta) <= (1 + gamma) L*`` (a smooth
    problem: linear objective, convex constraints) and solved by SLSQP from the unconstrained
    optimum, as in Zafar et al.'s code (which hands SLSQP ``|Cov_DP|`` itself). Beware: whenever
    some ``theta`` with ``Cov_DP = 0`` fits the loss budget, *every* such ``theta`` is optimal, and
    which one the optimiser returns depends on its path, the starting point and the scale of the
    features; nothing favours accuracy among them. The paper's row shows it: DIbinary 1.31 +- 0.36
    on Adult-race, past parity, at an accuracy of 0.80. With ``gamma = 0`` the only feasible point is the unconstrained optimum (the loss is
    strictly convex), which is returned as is.

    ``s`` is used in training only. Attributes as :class:`ZafarFairness`, and ``loss_budget_``. A
    solution over the loss budget raises ``RuntimeError``; a feasible one whose optimiser did not
    converge warns (:class:`~sklearn.exceptions.ConvergenceWarning`).
    See the chapter :doc:`/book/fairgp_parity`.
    """

    def __init__(self, gamma: float = 0.5, *, l2: float = 0.0, max_iter: int = 1000, tol: float = 1e-8):
        self.gamma = nonnegative_number("gamma", gamma)
        super().__init__(l2=l2, max_iter=max_iter, tol=tol)

    def _solve(self, theta0, Xa, yt, y, sf):
        a = np.r_[_dp_vector(Xa, sf), 0.0]                 # acts on x = (theta, t)
        e_t = np.zeros_like(a)
        e_t[-1] = 1.0
        self.loss_budget_ = (1.0 + self.gamma) * self.unconstrained_loss_
        cov0 = float(a[:-1] @ theta0)
        if self.gamma == 0 or cov0 == 0:
            return theta0, {}
        budget, l2 = self.loss_budget_, self.l2

        loss_and_grad = _last_point(lambda x: _loss_and_grad(x[:-1], Xa, yt, l2))

        def budget_left(x):
            return budget - loss_and_grad(x)[0]

        def budget_grad(x):
            return np.r_[-loss_and_grad(x)[1], 0.0]

        constraints = [
            {"type": "ineq", "fun": lambda x: x[-1] - a @ x, "jac": lambda x: e_t - a},
            {"type": "ineq", "fun": lambda x: x[-1] + a @ x, "jac": lambda x: e_t + a},
            {"type": "ineq", "fun": budget_left, "jac": budget_grad},
        ]
        x, info = self._slsqp(lambda x: (x[-1], e_t), np.r_[theta0, abs(cov0)], constraints)
        return x[:-1], info

    def _check_solution(self, Xa, yt, y, sf) -> None:
        if self.loss_ > self.loss_budget_ * (1 + 1e-7):
            raise RuntimeError(f"ZafarAccuracy: the solution breaks the accuracy constraint (loss {self.loss_:.6f} > "
                               f"(1 + gamma) L* = {self.loss_budget_:.6f}); not returning a misleading model")


# --------------------------------------------------------------------------- equality of opportunity


class ZafarEqOpp(_ConstrainedLogistic):
    """The paper's **ZafarEqOpp**: accuracy under a false-negative-rate constraint (Zafar et al., 2017b).

    Solves ``min_theta L(theta)  s.t.  |Cov_FNR(theta)| <= c``, with ``L`` the mean logistic loss plus
    ``(l2/2) ||w||^2`` and ``Cov_FNR(theta) = (1/N) sum_i (s_i - sbar) min(0, (1 + yt_i)/2 yt_i theta^T x_i)``
    (:func:`fnr_covariance`): the covariance of ``s`` with how far the positives (``y = 1``) lie on
    the wrong side of the boundary, a proxy for equal false negative rates, that is equal true
    positive rates (equality of opportunity). ``c = 0`` (default) is the threshold of the
    framework's ZafarEqOpp. ``center="positives"`` (default) is the covariance among the positives
    that the authors' code (and so the framework) computes; ``center="all"`` is the covariance as
    Zafar et al.'s paper writes it (``N`` and ``sbar`` of all training rows), whose zero, with
    unequal base rates, is not equal misclassification of the two groups' positives (see
    :func:`fnr_covariance`).

    The constraint is convex-concave (a difference of the two groups' concave sums), so the
    problem is not convex. Zafar et al. solved it with DCCP; here SLSQP (the two inequalities
    ``c -+ Cov_FNR >= 0``, also when ``c = 0``: as an equality, the constraint's gradient vanishes
    where no positive is misclassified and SLSQP's subproblem becomes singular; the gradient of
    ``min(0, u)`` is taken as 1 for ``u < 0`` and 0 otherwise) starts from the unconstrained
    solution (``start="unconstrained"``, as the authors' code starts its DCCP) or, with an integer
    ``start``, from weights drawn uniformly from [0, 1) with that seed, and returns a *local*
    optimum, which depends on that start. The objective and
    constraint are only piecewise smooth, so SLSQP's line search may stop at a kink: such a
    feasible model is kept with a warning. SLSQP keeps a dense
    quasi-Newton matrix, so an iteration costs about the cube of the number of features (seconds
    to tens of seconds on the 398 one-hot ProPublica columns).

    ``s`` is used in training only. Attributes as :class:`ZafarFairness`. A solution that breaks
    the constraint raises ``RuntimeError``. See the chapter :doc:`/book/fairgp_opportunity`.
    """

    _needs_positives = True

    def __init__(self, c: float = 0.0, *, center: str = "positives", l2: float = 0.0, max_iter: int = 1000,
                 tol: float = 1e-8, start="unconstrained"):
        self.c = nonnegative_number("c", c)
        self.center = one_of("center", center, _CENTERS)
        if start != "unconstrained" and (isinstance(start, bool) or not isinstance(start, (int, np.integer))
                                         or start < 0):
            raise ValueError(f"start must be 'unconstrained' or a seed (an integer >= 0), got {start!r}")
        self.start = start
        super().__init__(l2=l2, max_iter=max_iter, tol=tol)

    def fit(self, X, y, s):
        """Fit on ``X``, 0/1 labels ``y`` and 0/1 ``s`` (each group needs a ``y = 1`` row); returns ``self``.

        See the chapter :doc:`/book/fairgp_opportunity`.
        """
        return super().fit(X, y, s)

    def _covariance(self, theta, Xa, y, sf) -> float:
        return _fnr_cov_and_grad(theta, *_fnr_parts(Xa, y, sf, self.center))[0]

    def _solve(self, theta0, Xa, yt, y, sf):
        Xp, wp = _fnr_parts(Xa, y, sf, self.center)
        cov0 = _fnr_cov_and_grad(theta0, Xp, wp)[0]
        if abs(cov0) <= self.c:
            return theta0, {}
        c = self.c

        cov_and_grad = _last_point(lambda t: _fnr_cov_and_grad(t, Xp, wp))

        def cov(t):
            return cov_and_grad(t)[0]

        def cov_grad(t):
            return cov_and_grad(t)[1]

        constraints = [{"type": "ineq", "fun": lambda t: c - cov(t), "jac": lambda t: -cov_grad(t)},
                       {"type": "ineq", "fun": lambda t: c + cov(t), "jac": cov_grad}]
        first = theta0 if self.start == "unconstrained" else np.random.default_rng(int(self.start)).random(len(theta0))
        return self._slsqp(lambda t: _loss_and_grad(t, Xa, yt, self.l2), first, constraints)

    def _check_solution(self, Xa, yt, y, sf) -> None:
        slack = 1e-5 * abs(self.unconstrained_covariance_) + 1e-12
        if abs(self.covariance_) > self.c + slack:
            raise RuntimeError(f"ZafarEqOpp: SLSQP did not satisfy |Cov_FNR| <= c ({abs(self.covariance_):.3e} > "
                               f"{self.c:.3e}; {self.message_}); not returning a misleading model")


# --------------------------------------------------------------------------- the SVM


def rbf_svm(X, y, *, max_train_rows: int | None = None, seed: int = 0, **svc_params):
    """The paper's SVM: :class:`sklearn.svm.SVC` with its defaults (RBF kernel, ``C = 1``), fitted.

    Friedler et al.'s framework ran ``SVC()`` with ``C = 1`` on the features without ``s``. Its
    scikit-learn's default ``gamma`` was then ``"auto"``, ``1 / n_features``; today's ``"scale"``,
    ``1 / (n_features Var(X))``, is the same on standardised features. ``svc_params`` override
    ``SVC``'s arguments. Training a kernel SVM costs between quadratic and cubic time in the number
    of rows (and prediction is linear in the number of support vectors), so with more than
    ``max_train_rows`` rows (``None``: no limit) it is fitted on ``max_train_rows`` rows drawn at
    random without replacement with ``numpy.random.default_rng(seed)``; the rows used are stored,
    sorted, as ``train_index_`` on the returned estimator. See the chapter :doc:`/book/fairgp_parity`.
    """
    from sklearn.svm import SVC

    X = matrix("X", X)
    y = binary("y", y)
    same_length(X=X, y=y)
    if max_train_rows is not None:
        max_train_rows = positive_int("max_train_rows", max_train_rows)
    seed = nonnegative_int("seed", seed)
    n = X.shape[0]
    index = np.arange(n)
    if max_train_rows is not None and n > max_train_rows:
        index = np.sort(np.random.default_rng(seed).choice(n, size=max_train_rows, replace=False))
    if np.unique(y[index]).size < 2:
        raise ValueError(f"the SVM's {index.size} training rows hold only y={int(y[index][0])}: it needs both classes")
    model = SVC(**svc_params).fit(X[index], y[index])
    model.train_index_ = index
    return model


# --------------------------------------------------------------------------- one table's rows


def paper_baselines(X_train, y_train, s_train, X_test, *, requirement: str = _PARITY,
                    svm_max_train_rows: int | None = None, seed: int = 0,
                    c: float = 0.0, gamma: float = 0.5, fnr_center: str = "positives", l2: float = 0.0) -> dict:
    """Fit the paper's baseline rows on one split; returns ``{row name: 0/1 predictions on X_test}``.

    ``requirement="parity"`` (Table 1, Adult): ``"SVM"`` (:func:`rbf_svm` on at most
    ``svm_max_train_rows`` rows, subsample drawn with ``seed``), ``"ZafarAccuracy"``
    (:class:`ZafarAccuracy` with ``gamma``) and ``"ZafarFairness"`` (:class:`ZafarFairness` with
    ``c``). ``requirement="opportunity"`` (Table 3, ProPublica): ``"SVM"`` and ``"ZafarEqOpp"``
    (:class:`ZafarEqOpp` with ``c`` and ``center=fnr_center``). ``l2`` is every logistic
    regression's penalty (0 in Zafar et al.). The models read ``s_train`` in training only. Use
    the features of the book's other linear baselines (the one-hot split). Each prediction is an
    int64 array of ``len(X_test)``.
    See the chapters :doc:`/book/fairgp_parity` and :doc:`/book/fairgp_opportunity`.
    """
    requirement = one_of("requirement", requirement, (_PARITY, _OPPORTUNITY))
    X_train, y_train, s_train = _check_data(X_train, y_train, s_train,
                                            need_positives_in_groups=requirement == _OPPORTUNITY)
    X_test = matrix("X_test", X_test)
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test has {X_test.shape[1]} columns but X_train has {X_train.shape[1]}")
    if requirement == _PARITY:
        models = {"ZafarAccuracy": ZafarAccuracy(gamma, l2=l2), "ZafarFairness": ZafarFairness(c, l2=l2)}
    else:
        models = {"ZafarEqOpp": ZafarEqOpp(c, center=fnr_center, l2=l2)}
    out = {"SVM": rbf_svm(X_train, y_train, max_train_rows=svm_max_train_rows, seed=seed).predict(X_test)
           .astype(np.int64)}
    for name, model in models.items():
        out[name] = model.fit(X_train, y_train, s_train).predict(X_test)
    return out
