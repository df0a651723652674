"""Group fairness metrics, with AIF360's sign conventions.

Explained in the chapter *The data and group fairness* (``book/data.md``).

Every function takes 0/1 arrays: predictions ``y_pred``, true labels ``y_true`` and the protected
attribute ``s``, where ``s = 0`` is the unprivileged group and ``s = 1`` the privileged one.
Differences are *unprivileged minus privileged* and ratios *unprivileged over privileged*, as in
AIF360's ``ClassificationMetric``; fairlearn instead reports unsigned max-minus-min differences
and min/max ratios. A value of 0 (differences) or 1 (ratios) means the two groups are equal on
that measure, and only on that measure.

Inputs are validated: a length mismatch, a value other than 0/1, NaN, or an empty group (or, for
rates conditioned on the label, a group with no positive or no negative example) raises a
``ValueError`` that says which.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "true_negative_rate",
    "disparate_impact",
    "statistical_parity_difference",
    "equal_opportunity_difference",
    "average_odds_difference",
    "p_percent_rule",
    "ntpr_diff",
    "accuracy",
    "roc_auc",
    "group_report",
]


def _as_binary(name: str, values) -> np.ndarray:
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


def _check(**arrays) -> list[np.ndarray]:
    out = [_as_binary(k, v) for k, v in arrays.items()]
    lengths = {k: len(a) for k, a in zip(arrays, out)}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"length mismatch: {lengths}")
    if "s" in arrays:
        s = out[list(arrays).index("s")]
        for g in (0, 1):
            if not (s == g).any():
                raise ValueError(f"group s={g} is empty: both groups need at least one row")
    return out


def _rate(values: np.ndarray, mask: np.ndarray, what: str) -> float:
    if not mask.any():
        raise ValueError(f"{what} is undefined: no rows in that cell")
    return float(values[mask].mean())


def selection_rate(y_pred, s=None):
    """Fraction of predictions equal to 1, ``P(ŷ = 1)``; with ``s``, a dict ``{0: S_0, 1: S_1}``.

    See the chapter *The data and group fairness*.
    """
    if s is None:
        (y_pred,) = _check(y_pred=y_pred)
        return float(y_pred.mean())
    y_pred, s = _check(y_pred=y_pred, s=s)
    return {g: _rate(y_pred, s == g, f"selection rate of group s={g}") for g in (0, 1)}


def true_positive_rate(y_true, y_pred, s):
    """``P(ŷ = 1 | y = 1, s)`` per group, ``{0: TPR_0, 1: TPR_1}``. See *The data and group fairness*."""
    y_true, y_pred, s = _check(y_true=y_true, y_pred=y_pred, s=s)
    return {g: _rate(y_pred, (s == g) & (y_true == 1),
                     f"true positive rate of group s={g} (it has no row with y_true=1)") for g in (0, 1)}


def false_positive_rate(y_true, y_pred, s):
    """``P(ŷ = 1 | y = 0, s)`` per group. See *The data and group fairness*."""
    y_true, y_pred, s = _check(y_true=y_true, y_pred=y_pred, s=s)
    return {g: _rate(y_pred, (s == g) & (y_true == 0),
                     f"false positive rate of group s={g} (it has no row with y_true=0)") for g in (0, 1)}


def true_negative_rate(y_true, y_pred, s):
    """``P(ŷ = 0 | y = 0, s)`` per group. See *The data and group fairness*."""
    fpr = false_positive_rate(y_true, y_pred, s)
    return {g: 1.0 - fpr[g] for g in (0, 1)}


def disparate_impact(y_pred, s) -> float:
    """``S_0 / S_1``: the unprivileged group's selection rate over the privileged group's.

    1 is parity; below 1 the unprivileged group is selected less often. Raises if the privileged
    group's selection rate is 0 (the ratio is undefined). This is the FairGP paper's *DIbinary*.
    See *The data and group fairness*.
    """
    rates = selection_rate(y_pred, s)
    if rates[1] == 0:
        raise ValueError("disparate impact is undefined: the privileged group (s=1) has selection rate 0")
    return rates[0] / rates[1]


def statistical_parity_difference(y_pred, s) -> float:
    """``S_0 - S_1``, the difference of selection rates (0 is parity). See *The data and group fairness*."""
    rates = selection_rate(y_pred, s)
    return rates[0] - rates[1]


def equal_opportunity_difference(y_true, y_pred, s) -> float:
    """``TPR_0 - TPR_1`` (Hardt et al.'s equality of opportunity; 0 is equality). See *The data and group fairness*."""
    tpr = true_positive_rate(y_true, y_pred, s)
    return tpr[0] - tpr[1]


def average_odds_difference(y_true, y_pred, s) -> float:
    """``((FPR_0 - FPR_1) + (TPR_0 - TPR_1)) / 2`` (0 is equalized odds on average). See *The data and group fairness*."""
    tpr = true_positive_rate(y_true, y_pred, s)
    fpr = false_positive_rate(y_true, y_pred, s)
    return ((fpr[0] - fpr[1]) + (tpr[0] - tpr[1])) / 2


def p_percent_rule(y_pred, s) -> float:
    """``100 * min(S_0 / S_1, S_1 / S_0)``: 100 is parity, 80 the "four-fifths rule" threshold.

    Symmetric in the groups. When exactly one group's selection rate is 0 the rule gives 0;
    when both are 0 (no one is selected, so neither group is selected less) it gives 100.
    See *The data and group fairness*.
    """
    rates = selection_rate(y_pred, s)
    a, b = rates[0], rates[1]
    if a == 0 and b == 0:
        return 100.0
    if a == 0 or b == 0:
        return 0.0
    return 100.0 * min(a / b, b / a)


def ntpr_diff(y_true, y_pred, s) -> float:
    """The FairGP paper's normalised TPR difference (its Eq. 20).

    ``(TPR_1 - TPR_0) / ((TPR_0 + TPR_1) / 2)``: privileged minus unprivileged, over the mean
    TPR; 0 is equality of opportunity. Note the sign: the paper's, the opposite of
    :func:`equal_opportunity_difference`. Raises if both TPRs are 0.
    See the chapter *Equality of opportunity with FairGP*.
    """
    tpr = true_positive_rate(y_true, y_pred, s)
    mean = (tpr[0] + tpr[1]) / 2
    if mean == 0:
        raise ValueError("nTPRDiff is undefined: both groups have a true positive rate of 0")
    return (tpr[1] - tpr[0]) / mean


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions. See the chapter *The data and group fairness*."""
    y_true, y_pred = _check(y_true=y_true, y_pred=y_pred)
    return float((y_true == y_pred).mean())


def roc_auc(y_true, score, *, name: str = "y_true") -> float:
    """Area under the ROC curve of ``score`` for the 0/1 labels ``y_true``.

    The probability that a random positive scores higher than a random negative, ties counting
    one half (the Mann-Whitney statistic; equal to :func:`sklearn.metrics.roc_auc_score`). 0.5 is
    chance. Raises if either class is empty or a score is not finite; ``name`` names the labels
    in that error. See the chapter *Adversarial mitigation* (the classifier's ROC AUC) and
    *Auditing individual predictions* (separating "unfair" from "fair" predictions).
    """
    y = _as_binary(name, y_true).astype(bool)
    sc = np.asarray(score, dtype=np.float64).reshape(-1)
    if sc.shape[0] != y.shape[0]:
        raise ValueError(f"score has {sc.shape[0]} values for {y.shape[0]} labels")
    if not np.isfinite(sc).all():
        raise ValueError(f"score has {int((~np.isfinite(sc)).sum())} values that are NaN or infinite")
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError(f"the AUC needs both classes in {name}: it has {n1} ones and {n0} zeros")
    ranks = pd.Series(sc).rank(method="average").to_numpy()
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def group_report(y_true, y_pred, s, *, name: str | None = None, groups: tuple[str, str] | None = None):
    """All the group metrics of one set of predictions, as a tidy table.

    Returns ``(summary, per_group)``: ``summary`` is a one-row-per-metric DataFrame with columns
    ``metric``, ``value``, ``parity`` (the value meaning equality) and ``model`` (``name``);
    ``per_group`` has one row per group with its size, base rate, selection rate, TPR, FPR, TNR
    and accuracy. ``groups`` gives display names for ``(s=0, s=1)``. A metric that is undefined
    for these predictions (e.g. a group with no positive example has no TPR) is reported as NaN
    in the table rather than raising, so that one empty cell does not hide the others.

    See the chapter *The data and group fairness*.
    """
    y_true, y_pred, s = _check(y_true=y_true, y_pred=y_pred, s=s)
    labels = groups or ("s=0 (unprivileged)", "s=1 (privileged)")
    rows = []
    for g in (0, 1):
        m = s == g
        pos, neg = m & (y_true == 1), m & (y_true == 0)
        rows.append({
            "group": labels[g], "s": g, "n": int(m.sum()),
            "base rate": float(y_true[m].mean()),
            "selection rate": float(y_pred[m].mean()),
            "TPR": float(y_pred[pos].mean()) if pos.any() else np.nan,
            "FPR": float(y_pred[neg].mean()) if neg.any() else np.nan,
            "TNR": float(1 - y_pred[neg].mean()) if neg.any() else np.nan,
            "accuracy": float((y_true[m] == y_pred[m]).mean()),
        })
    per_group = pd.DataFrame(rows)
    if name is not None:
        per_group.insert(0, "model", name)

    def safe(fn, *args):
        try:
            return fn(*args)
        except ValueError:
            return np.nan

    summary = pd.DataFrame([
        ("accuracy", accuracy(y_true, y_pred), np.nan),
        ("disparate impact", safe(disparate_impact, y_pred, s), 1.0),
        ("statistical parity difference", statistical_parity_difference(y_pred, s), 0.0),
        ("equal opportunity difference", safe(equal_opportunity_difference, y_true, y_pred, s), 0.0),
        ("average odds difference", safe(average_odds_difference, y_true, y_pred, s), 0.0),
        ("p%-rule", p_percent_rule(y_pred, s), 100.0),
        ("nTPRDiff", safe(ntpr_diff, y_true, y_pred, s), 0.0),
    ], columns=["metric", "value", "parity"])
    if name is not None:
        summary.insert(0, "model", name)
    return summary, per_group
