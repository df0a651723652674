"""Tests of fairnotes.target_labels, the debiasing parameters (numpy only): issue #5.

Moved out of ``test_fairgp.py``, whose GPflow tests need the extra ``fairnotes[gp]``, so that CI's
numpy-2 run (without GPflow, issue #28) runs them too.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from fairnotes import target_labels as tl

BASE_RATES = [0.05, 0.1145, 0.3171, 0.4878, 0.5, 0.9]
TARGETS = [0.02, 0.1, 0.2158, 0.3, 0.5, 0.7, 0.95]


# ---------------------------------------------------------------- the parameters (numpy only)

def _constraint_holds(pr, P, t=None, tpr=None, tnr=None):
    """Check Eq. 12 and Bayes' rule directly from the joint distribution the parameters define."""
    rates = tl.implied_rates(pr, P)
    for g in (0, 1):
        a, b = P[g, 1], P[g, 0]
        t_g = rates["t"][g]
        # the marginal of y must be the biased acceptance rate: P(y=1|s) = a t + b (1 - t)
        np.testing.assert_allclose(a * t_g + b * (1 - t_g), pr[g], atol=1e-12)
        # Eq. 12
        np.testing.assert_allclose(
            rates["TPR*"][g] * pr[g] + (1 - rates["TNR*"][g]) * (1 - pr[g]), t_g, atol=1e-12)
        if t is not None:
            np.testing.assert_allclose(t_g, t[g], atol=1e-10)
        if tpr is not None:
            np.testing.assert_allclose(rates["TPR*"][g], tpr[g], atol=1e-10)
        if tnr is not None:
            np.testing.assert_allclose(rates["TNR*"][g], tnr[g], atol=1e-10)


@pytest.mark.parametrize("pr0,pr1", [(a, b) for a, b in itertools.product(BASE_RATES, BASE_RATES) if a != b])
def test_parity_parameters_are_probabilities_and_satisfy_the_constraint(pr0, pr1):
    pr = np.array([pr0, pr1])
    for t in TARGETS + ["mean", "min", "max"]:
        P = tl.parity_parameters(pr, t)
        assert P.shape == (2, 2)
        assert np.all((P >= 0) & (P <= 1)), (pr, t, P)
        target = tl.parity_target(pr, t)
        rates = tl.implied_rates(pr, P)
        _constraint_holds(pr, P, t=[target, target])
        # Section 3.1: the biased TPR/TNR are maximised -- one of them is 1 in each group
        for g in (0, 1):
            assert max(rates["TPR*"][g], rates["TNR*"][g]) == pytest.approx(1.0)
            if target > pr[g]:
                assert P[g, 0] == 0.0  # no extra negative labels where the rate must rise
            elif target < pr[g]:
                assert P[g, 1] == pytest.approx(1.0)


def test_parity_parameters_by_hand():
    # Adult-sex base rates from the authors' notes; mean target t = 0.2158
    pr = [0.1145, 0.3171]
    t = (0.1145 + 0.3171) / 2
    P = tl.parity_parameters(pr, "mean")
    expected = np.array([[0.0, 0.1145 / t], [(0.3171 - t) / (1 - t), 1.0]])
    np.testing.assert_allclose(P, expected, rtol=1e-12)


def test_opportunity_parameters_grid():
    for pr0, pr1, tpr, tnr in itertools.product([0.1, 0.3833, 0.4878, 0.8], [0.2, 0.4773],
                                                [0.6, 0.7, 0.8, 0.9, 1.0], [0.5, 0.7, 0.9, 1.0]):
        pr = np.array([pr0, pr1])
        P = tl.opportunity_parameters(pr, tpr, tnr)
        assert np.all((P >= 0) & (P <= 1))
        t = tpr * pr + (1 - tnr) * (1 - pr)
        if tpr == 1 and tnr == 1:
            np.testing.assert_array_equal(P, tl.identity_parameters())
            continue
        _constraint_holds(pr, P, t=t, tpr=[tpr, tpr], tnr=[tnr, tnr])


def test_target_helpers():
    pr = {0: 0.2, 1: 0.4}
    assert tl.parity_target(pr, "mean") == pytest.approx(0.3)
    assert tl.parity_target(pr, "min") == pytest.approx(0.2)
    assert tl.parity_target(pr, "max") == pytest.approx(0.4)
    assert tl.parity_target(pr, 0.25) == 0.25
    np.testing.assert_allclose(tl.parity_parameters(pr, "min")[0], [0.0, 1.0])  # group 0 already there
    assert tl.opportunity_tnr_target({0: 0.72, 1: 0.83}) == 0.72
    assert tl.opportunity_tpr_target([0.63, 0.41]) == 0.63


@pytest.mark.parametrize("call", [
    lambda: tl.parity_parameters([0.2, 0.4], 0.0),
    lambda: tl.parity_parameters([0.2, 0.4], 1.0),
    lambda: tl.parity_parameters([0.2, 0.4], 1.5),
    lambda: tl.parity_parameters([0.2, 0.4], "median"),
    lambda: tl.parity_parameters([0.0, 0.4], 0.3),
    lambda: tl.parity_parameters([0.2, 1.0], 0.3),
    lambda: tl.parity_parameters([0.2, 0.4, 0.5], 0.3),
    lambda: tl.opportunity_parameters([0.2, 0.4], 0.0, 1.0),   # t_s = 0
    lambda: tl.opportunity_parameters([0.2, 0.4], 1.2, 0.8),
    lambda: tl.opportunity_parameters([1.0, 0.4], 0.8, 0.8),
])
def test_impossible_requests_raise(call):
    with pytest.raises(ValueError):
        call()


def test_target_labels_module_is_light():
    code = ("import sys, fairnotes.target_labels; "
            "print(','.join(m for m in ('tensorflow', 'gpflow', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
