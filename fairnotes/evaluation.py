"""The auditability paper's evaluation: "fair"/"unfair" labels, ROC curves, the high-sensitivity cluster, audit cards.

Explained in the chapter :doc:`/book/audit`.

The paper (Ngong, Maughan & Near, 2021, Section 5) has no ground truth for the fairness of an
individual prediction, so it builds a proxy from two models trained on the same data: an
"unfair" one (no mitigation) and a "fair" one (adversarial mitigation). A test prediction is
labelled "fair" when the two models' 0/1 predictions agree (*Match*) and "unfair" when they
disagree (*!Match*). The quotation marks are the paper's and the book's: the labels describe
agreement with one mitigation, not any ground truth about fairness.

Everything here is a tool for a *human* auditor. The paper's broader-impact statement warns
that using such a measure in an automated decision process "could potentially lead to
additional harm"; nothing in this module makes or should make a decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairnotes._validation import binary as _binary
from fairnotes._validation import positive_number
from fairnotes._sensitivity_defaults import DEFAULT_SIGMA, SMOOTH_N_SAMPLES

__all__ = [
    "match_labels",
    "match_counts",
    "roc_curve",
    "high_sensitivity",
    "AuditCard",
    "audit_card",
]


def match_labels(pred_unfair, pred_fair) -> np.ndarray:
    """The paper's proxy label of each prediction: ``True`` = "unfair" (the models disagree, !Match).

    ``pred_unfair`` and ``pred_fair`` are the 0/1 predictions of the unmitigated and the
    mitigated model on the same rows. Returns a boolean array, ``True`` where they differ.
    See the chapter :doc:`/book/audit`.
    """
    a, b = _binary("pred_unfair", pred_unfair), _binary("pred_fair", pred_fair)
    if a.shape != b.shape:
        raise ValueError(f"the two prediction arrays differ in length: {a.shape[0]} and {b.shape[0]}")
    return a != b


def match_counts(pred_unfair, pred_fair) -> dict:
    """``{"Match": agreements, "!Match": disagreements}``: one row of the paper's Figure 1.

    Also ``"unfair to fair"`` counts: how the disagreements split (``"1->0"``: the "unfair" model
    predicts 1 and the "fair" one 0, and ``"0->1"``). See the chapter :doc:`/book/audit`.
    """
    unfair = match_labels(pred_unfair, pred_fair)
    a, b = _binary("pred_unfair", pred_unfair), _binary("pred_fair", pred_fair)
    return {"Match": int((~unfair).sum()), "!Match": int(unfair.sum()),
            "1->0": int(((a == 1) & (b == 0)).sum()), "0->1": int(((a == 0) & (b == 1)).sum())}


def _scores(score, n) -> np.ndarray:
    s = np.asarray(score, dtype=np.float64)
    if s.shape != (n,):
        raise ValueError(f"score must have one value per label ({n}), got shape {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("score contains NaN or infinite values")
    return s


def roc_curve(is_unfair, score) -> pd.DataFrame:
    """ROC curve of ``score`` as a detector of "unfair" predictions (``is_unfair`` True/1).

    Returns a DataFrame with ``threshold``, ``fpr`` (fraction of "fair" predictions with a score
    at or above the threshold) and ``tpr`` (the same for "unfair" ones), from (0, 0) to (1, 1),
    computed with :func:`sklearn.metrics.roc_curve` (``drop_intermediate=False``). Raises if
    either class is empty. The area under it is :func:`fairnotes.metrics.roc_auc` (with
    ``name="is_unfair"``). See the chapter :doc:`/book/audit`.
    """
    from sklearn import metrics as skm

    y = _binary("is_unfair", is_unfair)
    s = _scores(score, y.shape[0])
    if y.min() == y.max():
        raise ValueError("the ROC curve needs both \"fair\" and \"unfair\" predictions")
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    return pd.DataFrame({"threshold": thr, "fpr": fpr, "tpr": tpr})


def high_sensitivity(sensitivity, *, flag_threshold: float | None = None, k: float = 3.0):
    """The predictions whose sensitivity stands out: ``(mask, flag_threshold)``.

    Without ``flag_threshold``, the cut is Tukey's "far out" fence ``Q3 + k * IQR`` of the values
    (``k = 3``): a rule that does not assume any distribution; it flags a long tail as readily as
    a separate cluster, so what it flags has to be looked at. Returns the boolean
    mask of the values strictly above the cut, and the cut. See the chapter :doc:`/book/audit`.
    """
    s = np.asarray(sensitivity, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError("sensitivity must be a non-empty one-dimensional array")
    if not np.isfinite(s).all():
        raise ValueError("sensitivity contains NaN or infinite values")
    if flag_threshold is None:
        positive_number("k", k)
        q1, q3 = np.quantile(s, [0.25, 0.75])
        flag_threshold = float(q3 + k * (q3 - q1))
    return s > flag_threshold, float(flag_threshold)


def _percentile(reference, value) -> float:
    ref = np.asarray(reference, dtype=np.float64)
    return float(100.0 * np.mean(ref <= value))


@dataclass
class AuditCard:
    """One individual's audit card: ``features`` (their data, in original units) and ``summary``.

    See the chapter :doc:`/book/audit`.
    """

    features: pd.DataFrame
    summary: pd.DataFrame

    def _repr_html_(self):
        return ("<b>Audit card</b><br>" + self.summary.to_html(index=False)
                + "<br>" + self.features.to_html(index=False))


def audit_card(
    model,
    fair_model,
    X,
    s,
    i: int,
    *,
    s_column: int | None = None,
    feature_names=None,
    mean=None,
    std=None,
    reference_sensitivity=None,
    reference_smooth=None,
    fair_reference_sensitivity=None,
    fair_reference_smooth=None,
    n_samples: int = SMOOTH_N_SAMPLES,
    sigma: float = DEFAULT_SIGMA,
    seed: int = 0,
    threshold: float = 0.5,
    attribute: str = "protected attribute",
) -> AuditCard:
    """The audit card of row ``i`` of ``X`` for a human auditor, read from :func:`fairnotes.audit.audit`.

    Parameters
    ----------
    model, fair_model
        The model being audited (the "unfair", unmitigated one) and the mitigated ("fair") one:
        any model kind :func:`fairnotes.audit.audit` accepts (a torch module, a
        :class:`fairnotes.fairgp.FairGP`, a classifier with ``predict_proba``, a callable), both
        reading ``X`` the same way.
    X, s
        The rows as the models read them (standardized, as :func:`fairnotes.data.split` returns
        them) and the 0/1 protected attribute of each row.
    i
        The row to audit.
    s_column
        The column of the protected attribute in ``X``, as in :func:`fairnotes.audit.audit`
        (``None`` for models that do not read it, e.g. FairGP).
    feature_names, mean, std
        Column names and the standardization (``Split.feature_names``, ``Split.mean``,
        ``Split.std``) to show the person's features in original units; one-hot columns are
        listed only when active.
    reference_sensitivity, reference_smooth
        The model's sensitivity and smooth sensitivity on a reference population (e.g. the
        test rows); the card reports the percentile of this person's values among them
        (the share of the reference at or below).
    fair_reference_sensitivity, fair_reference_smooth
        The same for the mitigated model.
    n_samples, sigma, seed
        The smooth sensitivity's settings, passed to :func:`fairnotes.audit.audit` for this row.
    threshold
        The decision cut of the 0/1 predictions (0.5).
    attribute
        The protected attribute's name, for the card's column headers.

    Returns
    -------
    AuditCard
        ``summary`` reports, for both models: the probability and the 0/1 prediction, the
        prediction with the protected attribute flipped (every other feature kept, with the
        caveat of the chapter :doc:`/book/sensitivity` on proxies), the sensitivity and the smooth
        sensitivity with their percentiles, and whether the two models agree (the paper's "fair"
        label); ``features`` the person's features. See the chapter :doc:`/book/audit`.

    Examples
    --------
    Two plain callables that read the attribute in column 0, the second less than the first:

    >>> import numpy as np
    >>> def unmitigated(X):
    ...     return 1 / (1 + np.exp(-(2 * X[:, 0] - X[:, 1] - 0.5)))
    >>> def mitigated(X):
    ...     return 1 / (1 + np.exp(-(0.2 * X[:, 0] - X[:, 1] + 0.5)))
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> card = audit_card(unmitigated, mitigated, X, X[:, 0], 0, s_column=0, n_samples=10,
    ...                   feature_names=["group", "score"], attribute="group")
    >>> card.summary[["probability", "prediction", "prediction, group flipped"]].round(2)
       probability  prediction  prediction, group flipped
    0         0.38           0                          1
    1         0.62           1                          1
    >>> card.summary["paper's label"].iloc[0]
    '"unfair" (!Match)'
    """
    # long only by its docstring (the parameters and a doctest); the body reads audit()'s rows
    from fairnotes.audit import audit

    X = np.asarray(X)
    if not 0 <= int(i) < X.shape[0]:
        raise ValueError(f"row {i} is out of range for X with {X.shape[0]} rows")
    row = slice(int(i), int(i) + 1)
    s_row = np.asarray(s).reshape(-1)[row]
    summary = []
    for label, m, ref_s, ref_ss in (("\"unfair\" model (audited)", model, reference_sensitivity, reference_smooth),
                                    ("\"fair\" model (mitigated)", fair_model, fair_reference_sensitivity, fair_reference_smooth)):
        t = audit(m, X[row], s_row, s_column=s_column, n_samples=n_samples, sigma=sigma, seed=seed).table.iloc[0]
        p, p_flip = float(t["probability"]), float(t["counterfactual_probability"])
        ps, sps = float(t["sensitivity"]), float(t["smooth_sensitivity"])
        summary.append({
            "model": label,
            "probability": p, "prediction": int(p > threshold),
            f"probability, {attribute} flipped": p_flip, f"prediction, {attribute} flipped": int(p_flip > threshold),
            "sensitivity": ps,
            "sensitivity percentile": _percentile(ref_s, ps) if ref_s is not None else np.nan,
            "smooth sensitivity": sps,
            "smooth sensitivity percentile": _percentile(ref_ss, sps) if ref_ss is not None else np.nan,
        })
    summary = pd.DataFrame(summary)
    agree = summary["prediction"].iloc[0] == summary["prediction"].iloc[1]
    summary["paper's label"] = "\"fair\" (Match)" if agree else "\"unfair\" (!Match)"
    return AuditCard(features=_features(X[int(i)], feature_names, mean, std), summary=summary)


def _features(x, feature_names, mean, std) -> pd.DataFrame:
    """One person's features in original units (``x * std + mean``); one-hot columns only when active."""
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(len(x))]
    mu = np.zeros(len(x)) if mean is None else np.asarray(mean)
    sd = np.ones(len(x)) if std is None else np.asarray(std)
    raw = x * sd + mu
    feats = []
    for j, name in enumerate(names):
        if "=" in name:
            if raw[j] > 0.5:
                col, val = name.split("=", 1)
                feats.append((col, val))
        else:
            v = float(raw[j]) + 0.0
            if abs(v) < 5e-3:
                v = 0.0
            feats.append((name, f"{v:.0f}" if abs(v - round(v)) < 1e-3 else f"{v:.2f}"))
    return pd.DataFrame(feats, columns=["feature", "value"])
