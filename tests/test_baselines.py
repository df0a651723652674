"""The FairGP paper's baselines (fairnotes.baselines) on small synthetic problems with known answers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from fairnotes import baselines as bl


def parity_data(n=800, seed=0):
    """s shifts the first feature, which drives the label: the plain classifier accepts s=1 more often."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n)
    X = np.c_[rng.normal(1.5 * s, 1.0), rng.normal(0, 1, n), rng.normal(0, 1, n)]
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * X[:, 0] + X[:, 1] - 1.0)))).astype(int)
    return X, y, s


def opportunity_data(n=800, seed=1):
    """Equal base rates; the label shows less in group s=1's first feature: more false negatives there."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    X = np.c_[rng.normal((2 * y - 1) * np.where(s == 1, 0.6, 1.2), 1.0), rng.normal(0.8 * s, 1.0),
              rng.normal(0, 1, n)]
    return X, y, s


def unequal_base_rates(n=800, seed=2):
    """P(y=1 | s=1) = 0.35, P(y=1 | s=0) = 0.6; the plain classifier's false negative gap is small."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n)
    y = (rng.random(n) < np.where(s == 1, 0.35, 0.6)).astype(int)
    X = np.c_[rng.normal(2 * y - 1, 1.0), rng.normal(0.8 * s, 1.0), rng.normal(0, 1, n)]
    return X, y, s


def acceptance_gap(pred, s):
    return abs(pred[s == 1].mean() - pred[s == 0].mean())


def fnr_gap(pred, y, s):
    return abs(np.mean(pred[(s == 1) & (y == 1)] == 0) - np.mean(pred[(s == 0) & (y == 1)] == 0))


def theta_of(model):
    return np.r_[model.coef_, model.intercept_]


# --------------------------------------------------------------------------- the covariance proxies


def test_decision_covariance_is_the_formula_and_ignores_the_intercept():
    X, _, s = parity_data(200)
    theta = np.array([0.5, -1.0, 2.0, 0.0])
    z = X @ theta[:-1]
    expected = np.mean((s - s.mean()) * z)
    assert bl.decision_covariance(theta, X, s) == pytest.approx(expected, rel=1e-12)
    assert bl.decision_covariance(theta + np.r_[0, 0, 0, 7.0], X, s) == pytest.approx(expected, rel=1e-10)


def test_fnr_covariance_is_the_papers_formula():
    X, y, s = opportunity_data(300)
    theta = np.array([1.0, 0.3, -0.2, 0.1])
    yt = 2 * y - 1
    g = np.minimum(0, (1 + yt) / 2 * yt * (X @ theta[:-1] + theta[-1]))
    expected = np.sum((s - s.mean()) * g) / len(s)          # over everyone; g is 0 where y = 0
    assert bl.fnr_covariance(theta, X, y, s) == pytest.approx(expected, rel=1e-12)
    pos = y == 1                                            # the covariance among the positives
    conditional = np.mean((s[pos] - s[pos].mean()) * g[pos])
    assert bl.fnr_covariance(theta, X, y, s, center="positives") == pytest.approx(conditional, rel=1e-12)


# --------------------------------------------------------------------------- ZafarFairness


@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_loose_constraint_is_plain_logistic_regression(l2):
    X, y, s = parity_data()
    C = np.inf if l2 == 0 else 1 / (len(y) * l2)            # sklearn: C sum(loss) + ||w||^2 / 2
    sk = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
    for model in (bl.ZafarFairness(c=1e6, l2=l2), bl.ZafarEqOpp(c=1e6, l2=l2)):
        model.fit(X, y, s)
        np.testing.assert_allclose(model.coef_, sk.coef_[0], atol=1e-4)
        assert model.intercept_ == pytest.approx(sk.intercept_[0], abs=1e-4)
        assert model.loss_ == model.unconstrained_loss_ and model.converged_
        np.testing.assert_allclose(model.predict_proba(X), sk.predict_proba(X)[:, 1], atol=1e-5)


def test_zero_covariance_narrows_the_acceptance_gap():
    X, y, s = parity_data()
    plain = bl.ZafarFairness(c=1e6).fit(X, y, s)
    fair = bl.ZafarFairness().fit(X, y, s)
    assert abs(plain.covariance_) > 0.1
    assert abs(fair.covariance_) < 1e-10
    assert abs(bl.decision_covariance(theta_of(fair), X, s)) < 1e-10
    assert fair.loss_ > plain.loss_
    assert acceptance_gap(fair.predict(X), s) < 0.5 * acceptance_gap(plain.predict(X), s)


def test_active_threshold_is_met_exactly():
    X, y, s = parity_data()
    cov0 = bl.ZafarFairness(c=1e6).fit(X, y, s).covariance_
    model = bl.ZafarFairness(c=abs(cov0) / 2).fit(X, y, s)
    assert abs(model.covariance_) == pytest.approx(abs(cov0) / 2, rel=1e-8)
    assert np.sign(model.covariance_) == np.sign(cov0)
    assert model.unconstrained_loss_ < model.loss_ < bl.ZafarFairness().fit(X, y, s).loss_


def test_fits_are_deterministic_and_float64():
    X, y, s = parity_data()
    a, b = bl.ZafarAccuracy(0.1).fit(X, y, s), bl.ZafarAccuracy(0.1).fit(X, y, s)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.coef_.dtype == np.float64 and a.predict(X).dtype == np.int64
    assert set(np.unique(a.predict(X))) <= {0, 1}


# --------------------------------------------------------------------------- ZafarAccuracy


def test_gamma_zero_keeps_the_loss_at_the_optimum():
    X, y, s = parity_data()
    model = bl.ZafarAccuracy(gamma=0.0).fit(X, y, s)
    assert model.loss_ == model.unconstrained_loss_
    np.testing.assert_allclose(model.coef_, bl.ZafarFairness(c=1e6).fit(X, y, s).coef_)


def test_loss_budget_is_respected_and_buys_fairness():
    X, y, s = parity_data()
    small = bl.ZafarAccuracy(gamma=0.02).fit(X, y, s)
    assert small.loss_ <= 1.02 * small.unconstrained_loss_ * (1 + 1e-7)
    assert abs(small.covariance_) < 0.9 * abs(small.unconstrained_covariance_)
    large = bl.ZafarAccuracy(gamma=1.0).fit(X, y, s)        # the budget allows Cov = 0
    assert abs(large.covariance_) < 1e-6 * abs(large.unconstrained_covariance_)
    assert large.loss_ <= 2.0 * large.unconstrained_loss_ * (1 + 1e-7)


# --------------------------------------------------------------------------- ZafarEqOpp


def test_fnr_constraint_narrows_the_fnr_gap():
    X, y, s = opportunity_data()
    plain = bl.ZafarEqOpp(c=1e6).fit(X, y, s)
    fair = bl.ZafarEqOpp(center="all").fit(X, y, s)
    assert fnr_gap(plain.predict(X), y, s) > 0.12
    assert abs(fair.covariance_) < 1e-8
    assert abs(bl.fnr_covariance(theta_of(fair), X, y, s)) < 1e-8
    assert fnr_gap(fair.predict(X), y, s) < 0.5 * fnr_gap(plain.predict(X), y, s)
    assert fair.loss_ > plain.loss_ and fair.converged_
    assert 0.3 < fair.predict(X).mean() < 0.8                 # not the trivial "accept everyone"
    positives = bl.ZafarEqOpp().fit(X, y, s)                  # the default: the authors' code's centring
    assert positives.center == "positives"
    assert abs(bl.fnr_covariance(theta_of(positives), X, y, s, center="positives")) < 1e-8
    assert fnr_gap(positives.predict(X), y, s) < 0.5 * fnr_gap(plain.predict(X), y, s)


def test_fnr_constraint_from_a_random_start_is_feasible_and_seeded():
    X, y, s = opportunity_data()
    a = bl.ZafarEqOpp(start=3).fit(X, y, s)
    b = bl.ZafarEqOpp(start=3).fit(X, y, s)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert abs(a.covariance_) < 1e-8
    with pytest.raises(ValueError, match="start must be"):
        bl.ZafarEqOpp(start="random")
    with pytest.raises(ValueError, match="start must be"):
        bl.ZafarEqOpp(start=-1)


def test_with_unequal_base_rates_only_the_conditional_covariance_keeps_the_gap_small():
    """The centring of Zafar et al.'s equation (over everyone) aims at the wrong target when base rates differ."""
    X, y, s = unequal_base_rates()
    plain = fnr_gap(bl.ZafarEqOpp(c=1e6).fit(X, y, s).predict(X), y, s)
    paper = fnr_gap(bl.ZafarEqOpp(center="all").fit(X, y, s).predict(X), y, s)
    conditional = fnr_gap(bl.ZafarEqOpp(center="positives").fit(X, y, s).predict(X), y, s)
    assert paper > plain + 0.03
    assert conditional < paper - 0.03


def test_a_threshold_between_keeps_the_covariance_within_it():
    X, y, s = opportunity_data()
    cov0 = bl.ZafarEqOpp(c=1e6).fit(X, y, s).covariance_
    model = bl.ZafarEqOpp(c=abs(cov0) / 3).fit(X, y, s)
    assert abs(model.covariance_) <= abs(cov0) / 3 * (1 + 1e-5)


def test_an_unconverged_fit_raises_or_warns_never_silently():
    X, y, s = opportunity_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = bl.ZafarEqOpp(max_iter=1).fit(X, y, s)
        except RuntimeError as err:
            assert "misleading" in str(err)
        else:
            assert not model.converged_
            assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    with pytest.warns(ConvergenceWarning, match="ZafarFairness"):
        model = bl.ZafarFairness(max_iter=1).fit(*parity_data())
    assert not model.converged_ and abs(model.covariance_) < 1e-10   # feasible, flagged


# --------------------------------------------------------------------------- the SVM and the table rows


def test_svm_subsample_has_max_train_rows_and_follows_the_seed():
    X, y, _ = parity_data(400)
    a = bl.rbf_svm(X, y, max_train_rows=150, seed=3)
    b = bl.rbf_svm(X, y, max_train_rows=150, seed=3)
    c = bl.rbf_svm(X, y, max_train_rows=150, seed=4)
    assert a.shape_fit_[0] == 150 and len(np.unique(a.train_index_)) == 150
    np.testing.assert_array_equal(a.train_index_, b.train_index_)
    np.testing.assert_array_equal(a.dual_coef_, b.dual_coef_)
    assert not np.array_equal(a.train_index_, c.train_index_)
    full = bl.rbf_svm(X, y, max_train_rows=1000)
    assert full.shape_fit_[0] == 400 and full.kernel == "rbf" and full.C == 1.0
    assert bl.rbf_svm(X, y).shape_fit_[0] == 400


def test_paper_baselines_returns_each_rows_predictions():
    X, y, s = parity_data(300)
    out = bl.paper_baselines(X[:200], y[:200], s[:200], X[200:], svm_max_train_rows=100)
    assert list(out) == ["SVM", "ZafarAccuracy", "ZafarFairness"]
    Xo, yo, so = opportunity_data(300)
    out_o = bl.paper_baselines(Xo[:200], yo[:200], so[:200], Xo[200:], requirement="opportunity")
    assert list(out_o) == ["SVM", "ZafarEqOpp"]
    for pred in [*out.values(), *out_o.values()]:
        assert pred.shape == (100,) and pred.dtype == np.int64 and set(np.unique(pred)) <= {0, 1}
    alone = bl.ZafarFairness().fit(X[:200], y[:200], s[:200]).predict(X[200:])
    np.testing.assert_array_equal(out["ZafarFairness"], alone)


# --------------------------------------------------------------------------- bad inputs


def test_bad_data_is_refused_with_a_message_that_names_it():
    X, y, s = parity_data(50)
    model = bl.ZafarFairness()
    with pytest.raises(ValueError, match="X contains NaN"):
        model.fit(np.where(np.arange(150).reshape(50, 3) == 7, np.nan, X), y, s)
    with pytest.raises(ValueError, match="y must be binary"):
        model.fit(X, y + 1, s)
    with pytest.raises(ValueError, match="group s=1 is empty"):
        model.fit(X, y, np.zeros_like(s))
    with pytest.raises(ValueError, match="length mismatch"):
        model.fit(X, y[:-1], s)
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        model.fit(X[:, 0], y, s)
    with pytest.raises(ValueError, match="y has no row with y=1"):
        model.fit(X, np.zeros_like(y), s)
    y_no_pos = np.where(s == 1, 0, y)
    with pytest.raises(ValueError, match="group s=1 has no row with y=1"):
        bl.ZafarEqOpp().fit(X, y_no_pos, s)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="c must be a finite number >= 0"):
        bl.ZafarFairness(c=-0.1)
    with pytest.raises(ValueError, match="gamma must be a finite number >= 0"):
        bl.ZafarAccuracy(gamma=float("nan"))
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0"):
        bl.ZafarEqOpp(l2="a lot")
    with pytest.raises(ValueError, match="max_iter must be a positive integer"):
        bl.ZafarFairness(max_iter=0)
    with pytest.raises(ValueError, match="center must be one of"):
        bl.ZafarEqOpp(center="negatives")
    X, y, s = parity_data(50)
    with pytest.raises(ValueError, match="max_train_rows must be a positive integer"):
        bl.rbf_svm(X, y, max_train_rows=0)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        bl.rbf_svm(X, y, seed=-1)
    with pytest.raises(ValueError, match="requirement must be one of"):
        bl.paper_baselines(X, y, s, X, requirement="odds")
    with pytest.raises(ValueError, match="X_test has 2 columns but X_train has 3"):
        bl.paper_baselines(X, y, s, X[:, :2])
    with pytest.raises(ValueError, match=r"theta must hold 3 weights and an intercept"):
        bl.decision_covariance(np.ones(3), X, s)


def test_prediction_needs_a_fitted_model_of_the_same_width():
    X, y, s = parity_data(100)
    with pytest.raises(RuntimeError, match="not fitted: call fit"):
        bl.ZafarAccuracy().predict(X)
    model = bl.ZafarAccuracy().fit(X, y, s)
    with pytest.raises(ValueError, match="X has 2 columns but the model was fitted on 3"):
        model.predict(X[:, :2])
