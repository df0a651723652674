"""Target labels: the debiasing parameters of FairGP as plain numpy functions.

Explained in the chapter :doc:`/book/target_labels`; used by the chapters
:doc:`/book/fairgp_parity` and :doc:`/book/fairgp_opportunity`.

FairGP (Kehrenberg, Chen & Quadrianto) trains a classifier on the observed, biased labels ``y``
but makes it predict a latent *target label* ``ybar``. The link between the two is a table of
four *debiasing parameters*, one pair per group ``s``::

    P[s, ybar] = P(y = 1 | ybar, s),        s, ybar in {0, 1}

(``P(y = 0 | ybar, s) = 1 - P[s, ybar]``). They follow from Bayes' rule (the paper's Eqs. 9-10)::

    P(y=1 | ybar=1, s) = TPR*_s  PR_s / t_s
    P(y=1 | ybar=0, s) = (1 - TPR*_s) PR_s / (1 - t_s)

with ``PR_s = P(y = 1 | s)`` the *biased acceptance rate* of the training labels (Eq. 11), ``t_s =
P(ybar = 1 | s)`` the *target acceptance rate*, and the *biased TPR/TNR* ``TPR*_s = P(ybar=1 | y=1,
s)``, ``TNR*_s = P(ybar=0 | y=0, s)``, tied together by the constraint (Eq. 12)::

    t_s = TPR*_s PR_s + (1 - TNR*_s)(1 - PR_s).

This module imports only numpy (and pandas for the tables), so ``import fairnotes.target_labels``
is cheap; :mod:`fairnotes.fairgp` (TensorFlow/GPflow) and
:class:`fairnotes.models.TargetLabelLoss` (torch) build on it.

Conventions: ``s = 0`` is the group the labels disadvantage, ``s = 1`` the advantaged one, and
``base_rates`` is always ``(PR_0, PR_1)`` -- a length-2 sequence, array, dict ``{0: ., 1: .}`` or
the pandas Series that :meth:`fairnotes.data.TabularData.base_rates` returns.
"""

from __future__ import annotations

from typing import Mapping, Sequence, Union

import numpy as np
import pandas as pd

__all__ = [
    "identity_parameters",
    "parameters_from_rates",
    "parity_parameters",
    "opportunity_parameters",
    "parity_target",
    "opportunity_tnr_target",
    "opportunity_tpr_target",
    "implied_rates",
    "parameter_table",
    "check_parameters",
]

RateLike = Union[float, Sequence[float], np.ndarray, Mapping[int, float], pd.Series]


def _pair(values, name: str, *, open_interval: bool) -> np.ndarray:
    """Coerce a scalar / length-2 / {0:,1:} / Series to a float array of shape (2,) and check it."""
    if isinstance(values, pd.Series):
        if set(values.index) == {0, 1}:
            values = [values.loc[0], values.loc[1]]
        else:
            values = values.to_numpy()
    elif isinstance(values, Mapping):
        if set(values) != {0, 1}:
            raise ValueError(f"{name} given as a mapping must have the keys 0 and 1, got {sorted(values)}")
        values = [values[0], values[1]]
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.repeat(arr, 2)
    if arr.shape != (2,):
        raise ValueError(f"{name} must be one number or one per group (s=0, s=1), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    if open_interval:
        if np.any(arr <= 0) or np.any(arr >= 1):
            raise ValueError(
                f"{name} must lie strictly between 0 and 1, got {arr.tolist()}: a rate of 0 or 1 "
                "makes Bayes' rule divide by zero (no group member has, or lacks, the positive label)"
            )
    elif np.any(arr < 0) or np.any(arr > 1):
        raise ValueError(f"{name} must lie in [0, 1], got {arr.tolist()}")
    return arr


def identity_parameters() -> np.ndarray:
    """``P[s, ybar] = 1[ybar = 1]``: the target label is the training label; FairGP is a plain GP.

    See the chapter :doc:`/book/target_labels`.
    """
    return np.array([[0.0, 1.0], [0.0, 1.0]])


def parameters_from_rates(base_rates: RateLike, tpr: RateLike, tnr: RateLike) -> np.ndarray:
    """The debiasing parameters from the biased acceptance rates and the biased TPR/TNR.

    Returns ``P`` of shape (2, 2), ``P[s, ybar] = P(y = 1 | ybar, s)``, from Bayes' rule (Eqs. 9-10)
    with the target acceptance rate ``t_s`` given by the constraint (Eq. 12). ``tpr`` and ``tnr``
    are ``TPR*_s = P(ybar=1 | y=1, s)`` and ``TNR*_s = P(ybar=0 | y=0, s)``, one number for both
    groups or one per group, in [0, 1]. Raises ``ValueError`` when a base rate is not strictly
    between 0 and 1 or when the implied target rate ``t_s`` is 0 or 1 (e.g. ``tpr = 0`` with
    ``tnr = 1``: no one would have ``ybar = 1``).

    See the chapter :doc:`/book/target_labels`.

    Examples
    --------
    Keep every positive label of both groups (``TPR* = 1``) and turn 10% of group 0's negatives
    into target positives (``TNR*_0 = 0.9``):

    >>> parameters_from_rates((0.1, 0.3), tpr=1.0, tnr=(0.9, 1.0)).round(3)
    array([[0.   , 0.526],
           [0.   , 1.   ]])
    >>> parameters_from_rates((0.1, 0.3), tpr=1.0, tnr=1.0)   # keep every label: the identity
    array([[0., 1.],
           [0., 1.]])
    """
    pr = _pair(base_rates, "base_rates", open_interval=True)
    tpr = _pair(tpr, "tpr (the biased true positive rate P(ybar=1 | y=1, s))", open_interval=False)
    tnr = _pair(tnr, "tnr (the biased true negative rate P(ybar=0 | y=0, s))", open_interval=False)
    t = tpr * pr + (1.0 - tnr) * (1.0 - pr)
    if np.any(t <= 0) or np.any(t >= 1):
        raise ValueError(
            f"the implied target acceptance rates t_s = {t.tolist()} must lie strictly between 0 and 1 "
            "(Eq. 12); with t_s = 0 or 1 Bayes' rule divides by zero"
        )
    P = np.empty((2, 2))
    P[:, 1] = tpr * pr / t
    P[:, 0] = (1.0 - tpr) * pr / (1.0 - t)
    return np.clip(P, 0.0, 1.0)


def parity_target(base_rates: RateLike, target: Union[str, float] = "mean") -> float:
    """The common target acceptance rate for demographic parity (Eqs. 14-16).

    ``target`` is ``"mean"`` (``(PR_0 + PR_1) / 2``, the paper's default), ``"min"``, ``"max"``, or a
    number strictly between 0 and 1 that a person sets.

    See the chapter :doc:`/book/target_labels`.
    """
    pr = _pair(base_rates, "base_rates", open_interval=True)
    if isinstance(target, str):
        choices = {"mean": pr.mean(), "min": pr.min(), "max": pr.max()}
        if target not in choices:
            raise ValueError(f"target must be 'mean', 'min', 'max' or a number in (0, 1), got {target!r}")
        return float(choices[target])
    if isinstance(target, bool) or not np.isscalar(target):
        raise ValueError(f"target must be 'mean', 'min', 'max' or a number in (0, 1), got {target!r}")
    target = float(target)
    if not 0 < target < 1:
        raise ValueError(f"a target acceptance rate must lie strictly between 0 and 1, got {target}")
    return target


def parity_parameters(base_rates: RateLike, target: Union[str, float, Sequence[float]] = "mean") -> np.ndarray:
    """Debiasing parameters that target the acceptance rate ``target`` in both groups (Section 3.1).

    ``target`` is ``"mean"``, ``"min"``, ``"max"`` (see :func:`parity_target`), one number in (0, 1),
    or one number per group. For each group the biased TPR/TNR are maximised under the constraint
    (Eq. 12): a group whose rate must rise (``t > PR_s``) keeps every positive label
    (``TPR*_s = 1``, so ``P(y=1 | ybar=0, s) = 0``); a group whose rate must fall keeps every
    negative label (``TNR*_s = 1`` and ``TPR*_s = t / PR_s``, so ``P(y=1 | ybar=1, s) = 1``);
    a group already at the target gets the identity. Returns ``P[s, ybar] = P(y=1 | ybar, s)``.

    See the chapter :doc:`/book/target_labels`.

    Examples
    --------
    Training labels that accept 10% of group 0 and 30% of group 1; the target is their mean, 20%:

    >>> base_rates = (0.1, 0.3)
    >>> parity_target(base_rates)
    0.2
    >>> P = parity_parameters(base_rates)
    >>> P                     # rows s = 0, 1; columns ybar = 0, 1; entries P(y = 1 | ybar, s)
    array([[0.   , 0.5  ],
           [0.125, 1.   ]])

    Group 0's rate must rise, so every observed positive keeps ``ybar = 1`` and half of its
    ``ybar = 1`` people carry ``y = 0`` (``P[0, 1] = 0.1 / 0.2``); group 1's must fall, so every
    observed negative keeps ``ybar = 0``. The biased rates and targets that these parameters imply:

    >>> implied_rates(base_rates, P).round(3)
       s   PR    t   TPR*   TNR*
    0  0  0.1  0.2  1.000  0.889
    1  1  0.3  0.2  0.667  1.000
    """
    pr = _pair(base_rates, "base_rates", open_interval=True)
    if isinstance(target, str) or np.isscalar(target):
        t = np.repeat(parity_target(pr, target), 2)
    else:
        t = _pair(target, "target", open_interval=True)
    tpr = np.where(t >= pr, 1.0, t / pr)
    tnr = np.where(t >= pr, (1.0 - t) / (1.0 - pr), 1.0)
    return parameters_from_rates(pr, tpr, tnr)


def opportunity_parameters(base_rates: RateLike, target_tpr: RateLike, target_tnr: RateLike = 1.0) -> np.ndarray:
    """Debiasing parameters for equality of opportunity / equalized odds (Section 3.2).

    The biased TPR and TNR of both groups are set to ``target_tpr`` and ``target_tnr`` (one number
    each, or one per group); the target acceptance rates follow from Eq. 12. With both targets at 1
    this is the identity (a plain GP). The paper takes ``target_tnr`` as the smaller of the two
    groups' TNRs of a plain GP (:func:`opportunity_tnr_target`) and sweeps ``target_tpr`` from 0.6
    to 1.0. Returns ``P[s, ybar] = P(y=1 | ybar, s)``.

    See the chapter :doc:`/book/fairgp_opportunity`.

    Examples
    --------
    A plain GP reached TPRs of 0.6 and 0.9 and TNRs of 0.97 and 0.9 in the two groups; the paper's
    targets are the larger TPR and the smaller TNR:

    >>> tpr = opportunity_tpr_target([0.6, 0.9])
    >>> tnr = opportunity_tnr_target([0.97, 0.9])
    >>> tpr, tnr
    (0.9, 0.9)
    >>> P = opportunity_parameters((0.1, 0.3), target_tpr=tpr, target_tnr=tnr)
    >>> P.round(3)
    array([[0.012, 0.5  ],
           [0.045, 0.794]])
    >>> implied_rates((0.1, 0.3), P).round(3)   # the same TPR* and TNR* in both groups
       s   PR     t  TPR*  TNR*
    0  0  0.1  0.18   0.9   0.9
    1  1  0.3  0.34   0.9   0.9
    """
    return parameters_from_rates(base_rates, target_tpr, target_tnr)


def opportunity_tnr_target(tnr_by_group: RateLike) -> float:
    """The paper's target TNR: the smaller of the two groups' TNRs measured on a plain GP.

    See the chapter :doc:`/book/fairgp_opportunity`.
    """
    return float(_pair(tnr_by_group, "tnr_by_group", open_interval=False).min())


def opportunity_tpr_target(tpr_by_group: RateLike) -> float:
    """The paper's default target TPR: the larger of the two groups' TPRs of a plain GP.

    See the chapter :doc:`/book/fairgp_opportunity`.
    """
    return float(_pair(tpr_by_group, "tpr_by_group", open_interval=False).max())


def implied_rates(base_rates: RateLike, parameters) -> pd.DataFrame:
    """Invert Bayes' rule: the target rate ``t_s`` and biased TPR*/TNR* that ``parameters`` encode.

    Returns one row per group with ``PR`` (= ``P(y=1 | s)``), ``t``, ``TPR*`` and ``TNR*``; the
    constraint (Eq. 12) holds by construction, so this is how the tests check the parameters.
    Raises when the two parameters of a group are equal (then ``y`` carries no information about
    ``ybar`` and ``t_s`` is not identified).

    See the chapter :doc:`/book/target_labels`.
    """
    pr = _pair(base_rates, "base_rates", open_interval=True)
    P = check_parameters(parameters)
    a, b = P[:, 1], P[:, 0]
    if np.any(np.isclose(a, b)):
        raise ValueError("P(y=1 | ybar=1, s) equals P(y=1 | ybar=0, s) in some group: t_s is not identified")
    t = (pr - b) / (a - b)
    tpr = a * t / pr
    tnr = (1.0 - b) * (1.0 - t) / (1.0 - pr)
    return pd.DataFrame({"s": [0, 1], "PR": pr, "t": t, "TPR*": tpr, "TNR*": tnr})


def parameter_table(base_rates: RateLike, parameters, groups: Sequence[str] = ("s=0", "s=1")) -> pd.DataFrame:
    """The four debiasing parameters (Eqs. 3-6) and the rates they imply, one row per group.

    Columns: ``P(y=1|ybar=1)``, ``P(y=1|ybar=0)``, ``P(y=0|ybar=1)``, ``P(y=0|ybar=0)``, then
    ``PR``, ``t``, ``TPR*``, ``TNR*`` from :func:`implied_rates` (NaN when not identified).

    See the chapter :doc:`/book/target_labels`.
    """
    P = check_parameters(parameters)
    try:
        rates = implied_rates(base_rates, P)
    except ValueError:
        pr = _pair(base_rates, "base_rates", open_interval=True)
        rates = pd.DataFrame({"s": [0, 1], "PR": pr, "t": np.nan, "TPR*": np.nan, "TNR*": np.nan})
    out = pd.DataFrame({
        "group": list(groups),
        "P(y=1|ybar=1)": P[:, 1], "P(y=1|ybar=0)": P[:, 0],
        "P(y=0|ybar=1)": 1 - P[:, 1], "P(y=0|ybar=0)": 1 - P[:, 0],
    })
    return pd.concat([out, rates.drop(columns="s")], axis=1)


def check_parameters(parameters) -> np.ndarray:
    """The debiasing parameters ``P[s, ybar] = P(y = 1 | ybar, s)`` as a float (2, 2) array, checked.

    Each must be a probability, and no group may have ``P(y = 1 | ybar, s)`` equal to 0 (or 1) for
    both values of ``ybar`` (its observed labels would be impossible). See the chapter
    :doc:`/book/target_labels`.
    """
    P = np.asarray(parameters, dtype=np.float64)
    if P.shape != (2, 2):
        raise ValueError(f"debiasing parameters must have shape (2, 2) (P[s, ybar]), got {P.shape}")
    if not np.all(np.isfinite(P)) or np.any(P < 0) or np.any(P > 1):
        raise ValueError(f"debiasing parameters must be probabilities in [0, 1], got {P.tolist()}")
    if np.any((P[:, 0] == 1) & (P[:, 1] == 1)) or np.any((P[:, 0] == 0) & (P[:, 1] == 0)):
        raise ValueError(
            "in some group P(y=1 | ybar, s) is 0 (or 1) for both values of ybar: the observed labels "
            f"of that group would be impossible, got {P.tolist()}"
        )
    return P
