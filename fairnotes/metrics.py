"""Group fairness metrics, with AIF360's sign conventions.

Explained in the chapter :doc:`/book/data`.

Every group metric takes 0/1 arrays with fairlearn's signature ``(y_true, y_pred, *, s)``: true labels
``y_true``, predictions ``y_pred`` and, by keyword, the protected attribute ``s``, where ``s = 0`` is
the unprivileged group and ``s = 1`` the privileged one. The metrics of the predictions alone
(selection rates, disparate impact, statistical parity difference, the p%-rule) take ``y_true``
first all the same, as fairlearn's ``demographic_parity_difference`` does: they do not use it, and
check only that it has one value per prediction (``None`` skips that check).
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

from fairnotes._validation import binary, both_groups, same_length

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
    "roc_auc_interval",
    "per_group",
    "group_report",
    "prediction_summary",
]


def _check(**arrays) -> list[np.ndarray]:
    """Each array as 0/1 int64, all of one length, and both groups present when ``s`` is given."""
    out = [binary(k, v) for k, v in arrays.items()]
    same_length(**dict(zip(arrays, out)))
    if "s" in arrays:
        both_groups("s", out[list(arrays).index("s")])
    return out


def _unused_y_true(y_true, y_pred: np.ndarray) -> None:
    """A metric of the predictions alone ignores ``y_true``, but it must have one value per prediction."""
    if y_true is not None:
        same_length(y_true=np.asarray(y_true).reshape(-1), y_pred=y_pred)


def _rate(values: np.ndarray, mask: np.ndarray, what: str) -> float:
    if not mask.any():
        raise ValueError(f"{what} is undefined: no rows in that cell")
    return float(values[mask].mean())


def selection_rate(y_true, y_pred, *, s=None):
    """Fraction of predictions equal to 1, ``P(ŷ = 1)``; with ``s``, a dict ``{0: S_0, 1: S_1}``.

    ``y_true`` is not used (it may be ``None``); when given it must have one value per
    prediction. See the chapter :doc:`/book/data`.

    Examples
    --------
    Eight people, four per group (``s = 0`` first):

    >>> y_true = [1, 0, 1, 0,  1, 1, 0, 0]
    >>> y_pred = [1, 1, 0, 0,  1, 1, 1, 0]
    >>> s      = [0, 0, 0, 0,  1, 1, 1, 1]
    >>> selection_rate(y_true, y_pred)
    0.625
    >>> selection_rate(y_true, y_pred, s=s)    # two of four in group 0, three of four in group 1
    {0: 0.5, 1: 0.75}
    """
    if s is None:
        (y_pred,) = _check(y_pred=y_pred)
        _unused_y_true(y_true, y_pred)
        return float(y_pred.mean())
    y_pred, s = _check(y_pred=y_pred, s=s)
    _unused_y_true(y_true, y_pred)
    return {g: _rate(y_pred, s == g, f"selection rate of group s={g}") for g in (0, 1)}


def true_positive_rate(y_true, y_pred, *, s):
    """``P(ŷ = 1 | y = 1, s)`` per group, ``{0: TPR_0, 1: TPR_1}``. See :doc:`/book/data`.

    Examples
    --------
    Eight people, four per group (``s = 0`` first):

    >>> y_true = [1, 0, 1, 0,  1, 1, 0, 0]
    >>> y_pred = [1, 1, 0, 0,  1, 1, 1, 0]
    >>> s      = [0, 0, 0, 0,  1, 1, 1, 1]
    >>> true_positive_rate(y_true, y_pred, s=s)   # group 0 selects one of its two positives
    {0: 0.5, 1: 1.0}
    """
    y_true, y_pred, s = _check(y_true=y_true, y_pred=y_pred, s=s)
    return {g: _rate(y_pred, (s == g) & (y_true == 1),
                     f"true positive rate of group s={g} (it has no row with y_true=1)") for g in (0, 1)}


def false_positive_rate(y_true, y_pred, *, s):
    """``P(ŷ = 1 | y = 0, s)`` per group. See :doc:`/book/data`."""
    y_true, y_pred, s = _check(y_true=y_true, y_pred=y_pred, s=s)
    return {g: _rate(y_pred, (s == g) & (y_true == 0),
                     f"false positive rate of group s={g} (it has no row with y_true=0)") for g in (0, 1)}


def true_negative_rate(y_true, y_pred, *, s):
    """``P(ŷ = 0 | y = 0, s)`` per group. See :doc:`/book/data`."""
    fpr = false_positive_rate(y_true, y_pred, s=s)
    return {g: 1.0 - fpr[g] for g in (0, 1)}


def disparate_impact(y_true, y_pred, *, s) -> float:
    """``S_0 / S_1``: the unprivileged group's selection rate over the privileged group's.

    1 is parity; below 1 the unprivileged group is selected less often. Raises if the privileged
    group's selection rate is 0 (the ratio is undefined). This is the FairGP paper's *DIbinary*.
    ``y_true`` is not used (it may be ``None``); when given it must have one value per
    prediction. See :doc:`/book/data`.

    Examples
    --------
    Eight people, four per group (``s = 0`` first):

    >>> y_true = [1, 0, 1, 0,  1, 1, 0, 0]
    >>> y_pred = [1, 1, 0, 0,  1, 1, 1, 0]
    >>> s      = [0, 0, 0, 0,  1, 1, 1, 1]
    >>> round(disparate_impact(y_true, y_pred, s=s), 3)   # 0.5 / 0.75
    0.667
    """
    rates = selection_rate(y_true, y_pred, s=s)
    if rates[1] == 0:
        raise ValueError("disparate impact is undefined: the privileged group (s=1) has selection rate 0")
    return rates[0] / rates[1]


def statistical_parity_difference(y_true, y_pred, *, s) -> float:
    """``S_0 - S_1``, the difference of selection rates (0 is parity).

    ``y_true`` is not used (it may be ``None``); when given it must have one value per
    prediction. See :doc:`/book/data`.
    """
    rates = selection_rate(y_true, y_pred, s=s)
    return rates[0] - rates[1]


def equal_opportunity_difference(y_true, y_pred, *, s) -> float:
    """``TPR_0 - TPR_1`` (Hardt et al.'s equality of opportunity; 0 is equality). See :doc:`/book/data`."""
    tpr = true_positive_rate(y_true, y_pred, s=s)
    return tpr[0] - tpr[1]


def average_odds_difference(y_true, y_pred, *, s) -> float:
    """``((FPR_0 - FPR_1) + (TPR_0 - TPR_1)) / 2`` (0 is equalized odds on average). See :doc:`/book/data`."""
    tpr = true_positive_rate(y_true, y_pred, s=s)
    fpr = false_positive_rate(y_true, y_pred, s=s)
    return ((fpr[0] - fpr[1]) + (tpr[0] - tpr[1])) / 2


def p_percent_rule(y_true, y_pred, *, s) -> float:
    """``100 * min(S_0 / S_1, S_1 / S_0)``: 100 is parity, 80 the "four-fifths rule" threshold.

    Symmetric in the groups. When exactly one group's selection rate is 0 the rule gives 0;
    when both are 0 (no one is selected, so neither group is selected less) it gives 100.
    ``y_true`` is not used (it may be ``None``); when given it must have one value per
    prediction. See :doc:`/book/data`.

    Examples
    --------
    Eight people, four per group (``s = 0`` first):

    >>> y_true = [1, 0, 1, 0,  1, 1, 0, 0]
    >>> y_pred = [1, 1, 0, 0,  1, 1, 1, 0]
    >>> s      = [0, 0, 0, 0,  1, 1, 1, 1]
    >>> round(p_percent_rule(y_true, y_pred, s=s), 1)   # 100 * 0.5 / 0.75: below the four-fifths rule
    66.7
    >>> p_percent_rule(None, [1, 0, 0, 1], s=[0, 0, 1, 1])   # equal selection rates; no labels needed
    100.0
    """
    rates = selection_rate(y_true, y_pred, s=s)
    a, b = rates[0], rates[1]
    if a == 0 and b == 0:
        return 100.0
    if a == 0 or b == 0:
        return 0.0
    return 100.0 * min(a / b, b / a)


def ntpr_diff(y_true, y_pred, *, s) -> float:
    """The FairGP paper's normalised TPR difference (its Eq. 20).

    ``(TPR_1 - TPR_0) / ((TPR_0 + TPR_1) / 2)``: privileged minus unprivileged, over the mean
    TPR; 0 is equality of opportunity. Note the sign: the paper's, the opposite of
    :func:`equal_opportunity_difference`. Raises if both TPRs are 0.
    See the chapter :doc:`/book/fairgp_opportunity`.

    Examples
    --------
    Eight people, four per group (``s = 0`` first):

    >>> y_true = [1, 0, 1, 0,  1, 1, 0, 0]
    >>> y_pred = [1, 1, 0, 0,  1, 1, 1, 0]
    >>> s      = [0, 0, 0, 0,  1, 1, 1, 1]
    >>> round(ntpr_diff(y_true, y_pred, s=s), 3)  # (1.0 - 0.5) / 0.75
    0.667
    >>> round(equal_opportunity_difference(y_true, y_pred, s=s), 3)   # the opposite sign, not normalised
    -0.5
    """
    tpr = true_positive_rate(y_true, y_pred, s=s)
    mean = (tpr[0] + tpr[1]) / 2
    if mean == 0:
        raise ValueError("nTPRDiff is undefined: both groups have a true positive rate of 0")
    return (tpr[1] - tpr[0]) / mean


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions. See the chapter :doc:`/book/data`."""
    y_true, y_pred = _check(y_true=y_true, y_pred=y_pred)
    return float((y_true == y_pred).mean())


def _mann_whitney(positive: np.ndarray, negative: np.ndarray) -> float:
    """The share of (positive, negative) pairs in which the positive scores higher, ties counting one half."""
    n1, n0 = len(positive), len(negative)
    ranks = pd.Series(np.concatenate([positive, negative])).rank(method="average").to_numpy()
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _auc_inputs(y_true, y_score, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The labels as booleans and the scores as float64, checked: one score per label, all finite,
    both classes present."""
    y = binary(name, y_true).astype(bool)
    sc = np.asarray(y_score, dtype=np.float64).reshape(-1)
    if sc.shape[0] != y.shape[0]:
        raise ValueError(f"y_score has {sc.shape[0]} values for {y.shape[0]} labels in {name}")
    if not np.isfinite(sc).all():
        raise ValueError(f"y_score has {int((~np.isfinite(sc)).sum())} values that are NaN or infinite")
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError(f"the AUC needs both classes in {name}: it has {n1} ones and {n0} zeros")
    return y, sc


def roc_auc(y_true, y_score, *, name: str = "y_true") -> float:
    """Area under the ROC curve of ``y_score`` for the 0/1 labels ``y_true``: the package's one AUC.

    The probability that a random positive scores higher than a random negative, ties counting
    one half (the Mann-Whitney statistic; equal to :func:`sklearn.metrics.roc_auc_score` and to
    the trapezoid area under :func:`fairnotes.evaluation.roc_curve`). 0.5 is chance. Raises if
    either class is empty, a score is not finite or the lengths differ; ``name`` names the labels
    in those errors (``"is_unfair"`` when the positives are the paper's "unfair" predictions).
    See the chapter :doc:`/book/adversarial` (the classifier's ROC AUC) and :doc:`/book/audit`
    (separating "unfair" from "fair" predictions).

    Examples
    --------
    Of the four (positive, negative) pairs, three are ordered correctly (0.35 < 0.4 is the miss):

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc([0, 1], [0.5, 0.5])        # a tie counts one half
    0.5
    """
    y, sc = _auc_inputs(y_true, y_score, name)
    return _mann_whitney(sc[y], sc[~y])


def roc_auc_interval(y_true, y_score, *, level: float = 0.95, n_boot: int = 1000, seed: int = 0,
                     name: str = "y_true") -> tuple[float, float, float]:
    """:func:`roc_auc` with a percentile bootstrap interval: ``(auc, low, high)``.

    Resamples the rows ``n_boot`` times with replacement (stratified: the positives and the
    negatives separately, so that every resample has both classes) and returns the ``level``
    percentile interval of the resampled AUCs. With few positives (tens of rows) the interval is
    wide, which is the point of showing it. See the chapter :doc:`/book/audit`.
    """
    auc = roc_auc(y_true, y_score, name=name)
    if not (0 < level < 1):
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    y, sc = _auc_inputs(y_true, y_score, name)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    rng = np.random.default_rng(seed)
    n1, n0 = len(pos), len(neg)
    aucs = np.empty(n_boot)
    for b in range(n_boot):
        p = sc[rng.choice(pos, n1)]
        q = sc[rng.choice(neg, n0)]
        aucs[b] = _mann_whitney(p, q)
    alpha = (1 - level) / 2
    low, high = np.quantile(aucs, [alpha, 1 - alpha])
    return auc, float(low), float(high)


def per_group(y_true, y_pred, *, s, groups: tuple[str, str] | None = None, name: str | None = None,
              **columns) -> pd.DataFrame:
    """One row per group (``s = 0`` then ``s = 1``): the book's one engine for per-group tables.

    ``y_true`` and ``y_pred`` may each be ``None``; every table has ``n``. With ``y_true``:
    ``base rate``; with ``y_pred``: ``selection rate``; with both: ``TPR``, ``FPR``, ``TNR`` and
    ``accuracy`` (NaN where a group has no positive or no negative example).
    Every extra keyword is a column to summarise per group: ``name=values`` gives the group mean
    of ``values``, ``name=(values, "sum")`` (or ``"mean"``, ``"max"``, ``"median"``) another
    statistic. ``groups`` names ``(s=0, s=1)`` in a ``group`` column; ``name`` adds a ``model``
    column. Used by :func:`group_report`, :func:`prediction_summary` and
    :meth:`fairnotes.audit.AuditResult.summary`. See the chapter :doc:`/book/data`.

    Examples
    --------
    Eight people, four per group (``s = 0`` first):

    >>> y_true = [1, 0, 1, 0,  1, 1, 0, 0]
    >>> y_pred = [1, 1, 0, 0,  1, 1, 1, 0]
    >>> s      = [0, 0, 0, 0,  1, 1, 1, 1]
    >>> per_group(y_true, y_pred, s=s, groups=("Female", "Male"))
        group  s  n  base rate  selection rate  TPR  FPR  TNR  accuracy
    0  Female  0  4        0.5            0.50  0.5  0.5  0.5      0.50
    1    Male  1  4        0.5            0.75  1.0  0.5  0.5      0.75

    Without labels (``None``), an extra keyword summarises any per-person values by group (the
    mean, or another statistic):

    >>> score = [0.9, 0.6, 0.4, 0.2,  0.8, 0.7, 0.6, 0.1]
    >>> per_group(None, y_pred, s=s, score=score, flagged=([0, 1, 0, 0, 1, 1, 0, 0], "sum"))
                    group  s  n  selection rate  score  flagged
    0  s=0 (unprivileged)  0  4            0.50  0.525      1.0
    1    s=1 (privileged)  1  4            0.75  0.550      2.0
    """
    (s,) = _check(s=s)
    if y_true is not None:
        (y_true,) = _check(y_true=y_true)
    if y_pred is not None:
        (y_pred,) = _check(y_pred=y_pred)
    extra = {}
    for col, spec in columns.items():
        values, how = spec if isinstance(spec, tuple) else (spec, "mean")
        if how not in ("mean", "sum", "max", "median"):
            raise ValueError(f"column {col!r}: the statistic must be 'mean', 'sum', 'max' or 'median', got {how!r}")
        extra[col] = (np.asarray(values, dtype=np.float64).reshape(-1), how)
    same_length(s=s, **{k: v for k, v in (("y_true", y_true), ("y_pred", y_pred)) if v is not None},
                **{k: v for k, (v, _) in extra.items()})
    labels = groups or ("s=0 (unprivileged)", "s=1 (privileged)")
    rows = []
    for g in (0, 1):
        m = s == g
        row = {"group": labels[g], "s": g, "n": int(m.sum())}
        if y_true is not None:
            row["base rate"] = float(y_true[m].mean())
        if y_pred is not None:
            row["selection rate"] = float(y_pred[m].mean())
        if y_true is not None and y_pred is not None:
            pos, neg = m & (y_true == 1), m & (y_true == 0)
            row["TPR"] = float(y_pred[pos].mean()) if pos.any() else np.nan
            row["FPR"] = float(y_pred[neg].mean()) if neg.any() else np.nan
            row["TNR"] = float(1 - y_pred[neg].mean()) if neg.any() else np.nan
            row["accuracy"] = float((y_true[m] == y_pred[m]).mean())
        for col, (values, how) in extra.items():
            row[col] = float(getattr(np, how)(values[m]))
        rows.append(row)
    table = pd.DataFrame(rows)
    if name is not None:
        table.insert(0, "model", name)
    return table


def group_report(y_true, y_pred, *, s, name: str | None = None, groups: tuple[str, str] | None = None):
    """All the group metrics of one set of predictions, as a tidy table.

    Returns ``(summary, per_group)``: ``summary`` is a one-row-per-metric DataFrame with columns
    ``metric``, ``value``, ``parity`` (the value meaning equality) and ``model`` (``name``);
    ``per_group`` has one row per group with its size, base rate, selection rate, TPR, FPR, TNR
    and accuracy. ``groups`` gives display names for ``(s=0, s=1)``. A metric that is undefined
    for these predictions (e.g. a group with no positive example has no TPR) is reported as NaN
    in the table rather than raising, so that one empty cell does not hide the others.

    See the chapter :doc:`/book/data`.
    """
    y_true, y_pred, s = _check(y_true=y_true, y_pred=y_pred, s=s)
    by_group = per_group(y_true, y_pred, s=s, groups=groups, name=name)

    summary = pd.DataFrame([
        ("accuracy", accuracy(y_true, y_pred), np.nan),
        ("disparate impact", _or_nan(disparate_impact, y_true, y_pred, s=s), 1.0),
        ("statistical parity difference", statistical_parity_difference(y_true, y_pred, s=s), 0.0),
        ("equal opportunity difference", _or_nan(equal_opportunity_difference, y_true, y_pred, s=s), 0.0),
        ("average odds difference", _or_nan(average_odds_difference, y_true, y_pred, s=s), 0.0),
        ("p%-rule", p_percent_rule(y_true, y_pred, s=s), 100.0),
        ("nTPRDiff", _or_nan(ntpr_diff, y_true, y_pred, s=s), 0.0),
    ], columns=["metric", "value", "parity"])
    if name is not None:
        summary.insert(0, "model", name)
    return summary, by_group


def prediction_summary(y_true, y_pred, *, s) -> dict:
    """The numbers the FairGP paper reports for one set of predictions, as a flat dict.

    ``accuracy``; ``DI`` (DIbinary, ``PR0 / PR1``, :func:`disparate_impact`); ``PR0``, ``PR1``
    (acceptance rates); ``TPR0``, ``TPR1``, ``TNR0``, ``TNR1`` (per group); ``TPR``, ``TNR``
    (whole set); ``nTPRDiff`` (:func:`ntpr_diff`, the paper's Eq. 20). Undefined values are NaN.
    See the chapters :doc:`/book/fairgp_parity` and :doc:`/book/fairgp_opportunity`.
    """
    y_true, y_pred, s = _check(y_true=y_true, y_pred=y_pred, s=s)
    g = per_group(y_true, y_pred, s=s).set_index("s")
    return {"accuracy": accuracy(y_true, y_pred),
            "DI": _or_nan(disparate_impact, y_true, y_pred, s=s),
            "PR0": g.loc[0, "selection rate"], "PR1": g.loc[1, "selection rate"],
            "TPR0": g.loc[0, "TPR"], "TPR1": g.loc[1, "TPR"], "TNR0": g.loc[0, "TNR"], "TNR1": g.loc[1, "TNR"],
            "TPR": float(y_pred[y_true == 1].mean()) if (y_true == 1).any() else np.nan,
            "TNR": float(1 - y_pred[y_true == 0].mean()) if (y_true == 0).any() else np.nan,
            "nTPRDiff": _or_nan(ntpr_diff, y_true, y_pred, s=s)}


def _or_nan(fn, *args, **kwargs) -> float:
    """``fn(*args, **kwargs)``, or NaN where the metric is undefined for these predictions."""
    try:
        return fn(*args, **kwargs)
    except ValueError:
        return np.nan
