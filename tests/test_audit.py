"""fairnotes.audit: one measure for torch, GPflow and plain callables."""

import numpy as np
import pandas as pd
import pytest

from fairnotes import audit as A


def _toy(n=200, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    s = rng.integers(0, 2, n)
    X[:, 0] = s
    y = ((X[:, 1] + 0.8 * s + 0.3 * rng.standard_normal(n)) > 0.4).astype(int)
    return X, y, s


@pytest.fixture(scope="module")
def torch_model():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1), torch.nn.Sigmoid())
    return net.double()


def test_callable_fallback_agrees_with_torch_autograd(torch_model):
    torch = pytest.importorskip("torch")
    X, y, s = _toy()

    def as_callable(x):
        with torch.no_grad():
            return torch_model(torch.as_tensor(x, dtype=torch.float64)).numpy()[:, 0]

    by_torch = A.audit(torch_model, X, s, s_column=0, n_samples=5, seed=1)
    by_fd = A.audit(as_callable, X, s, s_column=0, n_samples=5, seed=1, fd_step=1e-5)
    assert by_torch.method == "torch autograd"
    assert "finite differences" in by_fd.method
    np.testing.assert_allclose(by_fd.table["sensitivity"], by_torch.table["sensitivity"], atol=1e-7)
    np.testing.assert_allclose(by_fd.table["probability"], by_torch.table["probability"], atol=1e-6)
    np.testing.assert_allclose(by_fd.table["counterfactual_change"], by_torch.table["counterfactual_change"], atol=1e-6)
    assert (by_torch.table["sensitivity"] > 0).all()


def test_flags_follow_the_percentile_and_summary_counts(torch_model):
    X, y, s = _toy()
    res = A.audit(torch_model, X, s, s_column=0, y_true=y, n_samples=3, percentile=90)
    assert res.table["flagged"].sum() == pytest.approx(20, abs=1)
    summ = res.summary()
    assert summ["people"].sum() == len(X)
    assert summ["flagged"].sum() == res.table["flagged"].sum()
    gm = res.group_metrics()
    assert "disparate impact" in set(gm["metric"])
    fixed = A.audit(torch_model, X, s, s_column=0, n_samples=3, flag_threshold=1e9)
    assert fixed.table["flagged"].sum() == 0 and fixed.percentile is None


def test_model_that_never_sees_s_has_sensitivity_zero_by_construction(torch_model):
    torch = pytest.importorskip("torch")
    X, y, s = _toy()
    net = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Sigmoid()).double()
    res = A.audit(net, X[:, 1:], s, s_column=None)
    assert res.by_construction and res.method.startswith("sensitivity 0 by construction")
    assert (res.table["sensitivity"] == 0).all() and (res.table["smooth_sensitivity"] == 0).all()
    assert not res.table["flagged"].any() and (res.table["counterfactual_change"] == 0).all()


@pytest.fixture(scope="module")
def fairgp_models():
    pytest.importorskip("gpflow")
    from fairnotes.fairgp import FairGP

    X, y, s = _toy(n=300)
    feats = X[:, 1:]
    star = FairGP(s_as_input=True, num_inducing=20, batch_size=100, steps=40, seed=0, progress=False).fit(feats, y, s)
    plain = FairGP(s_as_input=False, num_inducing=20, batch_size=100, steps=40, seed=0, progress=False).fit(feats, y, s)
    return feats, y, s, star, plain


def test_gpflow_gradient_agrees_with_finite_differences(fairgp_models):
    feats, y, s, star, _ = fairgp_models
    res = A.audit(star, feats, s, n_samples=3)
    assert res.method == "TensorFlow GradientTape"
    # central differences of the same model's predictive probability along the s column
    Xk = star.kernel_inputs(feats, s)
    h = 1e-5
    up, down = Xk.copy(), Xk.copy()
    up[:, -1] += h
    down[:, -1] -= h
    fn = star.proba_function()
    import tensorflow as tf

    fd = (fn(tf.constant(up)).numpy() - fn(tf.constant(down)).numpy()) / (2 * h)
    np.testing.assert_allclose(res.table["sensitivity"], np.abs(fd), atol=1e-6)
    np.testing.assert_allclose(res.table["probability"], star.predict_proba(feats, s), atol=1e-10)
    assert (res.table["smooth_sensitivity"] > 0).all()


def test_fairgp_without_s_in_the_kernel_is_zero_by_construction(fairgp_models):
    feats, y, s, _, plain = fairgp_models
    res = A.audit(plain, feats, s, y_true=y)
    assert res.by_construction
    assert (res.table["sensitivity"] == 0).all()
    assert "likelihood" in " ".join(res.notes)
    with pytest.raises(ValueError, match="s_column is decided by the model"):
        A.audit(plain, feats, s, s_column=0)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"X": np.ones(5)}, ValueError, "2-D"),
        ({"X": np.full((3, 2), np.nan)}, ValueError, "NaN"),
        ({"s": [0, 1]}, ValueError, "s has 2 values"),
        ({"s": [0, 2, 1]}, ValueError, "s must be binary"),
        ({"s_column": 5}, ValueError, "out of range"),
        ({"s_column": 1.0}, TypeError, "column index"),
        ({"s_column": 1}, ValueError, "raw 0/1 protected attribute"),
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"sigma": -1.0}, ValueError, "sigma"),
        ({"percentile": 100}, ValueError, "percentile"),
        ({"model": 3}, TypeError, "cannot audit"),
        ({"model": lambda x: np.ones((len(x), 2))}, ValueError, "one probability per row"),
    ],
)
def test_bad_input(kwargs, error, message):
    X = np.array([[0.0, 0.5], [1.0, -0.2], [1.0, 0.3]])
    args = {"model": lambda x: np.full(len(x), 0.3), "X": X, "s": [0, 1, 1], "s_column": 0}
    args.update(kwargs)
    model = args.pop("model")
    with pytest.raises(error, match=message):
        A.audit(model, **args)


# --------------------------------------------------------------------------- through proxies

def _proxy_problem(n=300, seed=0):
    """x0 = s (read or not), x1 = 1.5 s + u1 (a proxy), x2 = u2 (independent of s)."""
    from fairnotes import shifts

    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n)
    X = np.column_stack([s, 1.5 * s + rng.standard_normal(n), rng.standard_normal(n)]).astype(np.float64)
    shift = shifts.fit_shift(X[:, 1:], s, method="mean")
    return X, s, shift


def test_proxy_measures_of_a_model_that_never_reads_s(torch_model):
    torch = pytest.importorskip("torch")
    X, s, shift = _proxy_problem()
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid()).double()
    res = A.audit(net, X[:, 1:], s, s_column=None, shift=shift, n_samples=4, seed=0)
    t = res.table
    assert res.by_construction and (t["sensitivity"] == 0).all() and (t["counterfactual_change"] == 0).all()
    assert res.flag_by == "smooth_proxy_sensitivity" and t["flagged"].any()
    # by hand: F = sigmoid(w . x + b), grad F = F (1 - F) w, direction = x_cf - x
    X_cf = shift.counterfactual(X[:, 1:], s)
    w = net[0].weight.detach().numpy()[0]
    z = X[:, 1:] @ w + net[0].bias.item()
    F = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(t["proxy_sensitivity"], np.abs(F * (1 - F) * ((X_cf - X[:, 1:]) @ w)), rtol=1e-10)
    F_cf = 1 / (1 + np.exp(-(X_cf @ w + net[0].bias.item())))
    np.testing.assert_allclose(t["proxy_change"], F_cf - F, atol=1e-6)  # predict_proba returns float32
    still = A.audit(net, X[:, 1:], s, s_column=None, shift=shift, sigma=0.0)
    np.testing.assert_allclose(still.table["smooth_proxy_sensitivity"], t["proxy_sensitivity"], rtol=1e-12)
    assert not np.allclose(t["smooth_proxy_sensitivity"], t["proxy_sensitivity"])
    summ = res.summary()
    assert {"mean proxy sensitivity", "decisions the proxies change"} <= set(summ.columns)
    assert summ["decisions the proxies change"].sum() == t["proxy_flips"].sum()


def test_proxy_measures_agree_across_back_ends_and_flip_s_when_read(torch_model):
    torch = pytest.importorskip("torch")
    X, s, _ = _proxy_problem()
    X = np.column_stack([X, np.zeros(len(X))])  # four columns, as torch_model reads
    from fairnotes import shifts

    shift = shifts.fit_shift(X, s, method="mean")

    def as_callable(x):
        with torch.no_grad():
            return torch_model(torch.as_tensor(x, dtype=torch.float64)).numpy()[:, 0]

    by_torch = A.audit(torch_model, X, s, s_column=0, shift=shift, n_samples=3, seed=2)
    by_fd = A.audit(as_callable, X, s, s_column=0, shift=shift, n_samples=3, seed=2, fd_step=1e-5)
    for col in ("proxy_sensitivity", "proxy_change"):
        np.testing.assert_allclose(by_fd.table[col], by_torch.table[col], atol=1e-6)
    # the model reads s: the counterfactual input has s flipped as well as the proxy moved
    X_cf = shift.counterfactual(X, s)
    X_cf[:, 0] = 1 - s
    with torch.no_grad():
        expected = (torch_model(torch.as_tensor(X_cf)) - torch_model(torch.as_tensor(X))).numpy()[:, 0]
    np.testing.assert_allclose(by_torch.table["proxy_change"], expected, atol=1e-6)  # float32 probabilities


def test_proxy_audit_of_fairgp(fairgp_models):
    from fairnotes import shifts

    feats, y, s, star, plain = fairgp_models
    shift = shifts.fit_shift(feats, s, method="mean")
    for model in (plain, star):
        res = A.audit(model, feats, s, shift=shift, n_samples=2)
        assert (res.table["proxy_sensitivity"] > 0).any()
        p_cf = model.predict_proba(shift.counterfactual(feats, s), 1 - s) if model.s_as_input \
            else model.predict_proba(shift.counterfactual(feats, s))
        np.testing.assert_allclose(res.table["proxy_probability"], p_cf, atol=1e-9)


def test_proxy_audit_refuses_bad_shifts(torch_model):
    from fairnotes import shifts

    X, s, shift = _proxy_problem()
    with pytest.raises(ValueError):
        A.audit(torch_model, np.column_stack([X, X[:, :1]]), s, s_column=0, shift=shift)  # fitted on 2 columns
    with pytest.raises(TypeError, match="CounterfactualMap"):
        A.audit(lambda x: np.full(len(x), 0.4), X, s, s_column=0, shift="mean")
    with pytest.raises(ValueError, match="needs a shift"):
        A.audit(lambda x: np.full(len(x), 0.4), X, s, s_column=0, flag_by="smooth_proxy_sensitivity")
    with pytest.raises(ValueError, match="flag_by"):
        A.audit(lambda x: np.full(len(x), 0.4), X, s, s_column=0, flag_by="probability")
    assert shifts.fit_shift(X, s).n_features == 3


def test_the_audit_reads_a_shift_through_the_protocol_only(torch_model):
    """Any object with n_features, counterfactual(X, s) and describe() is a shift; nothing else is read."""
    from fairnotes import shifts

    X, s, shift = _proxy_problem()

    class Wrapped:                     # a CounterfactualMap that is not a Shift
        n_features = shift.n_features

        def counterfactual(self, X, s):
            return shift.counterfactual(X, s)

        def describe(self):
            return "a wrapped shift"

    assert isinstance(Wrapped(), shifts.CounterfactualMap)
    model = lambda x: 1 / (1 + np.exp(-(x @ np.array([0.3, -0.6, 0.2]))))  # noqa: E731
    by_shift = A.audit(model, X, s, s_column=0, shift=shift, n_samples=2, seed=0)
    by_wrapped = A.audit(model, X, s, s_column=0, shift=Wrapped(), n_samples=2, seed=0)
    pd.testing.assert_frame_equal(by_wrapped.table, by_shift.table)
    assert any("(a wrapped shift)" in note for note in by_wrapped.notes)
    assert any("(method 'mean')" in note for note in by_shift.notes)

    class NoDescribe:                  # counterfactual and n_features alone are not enough
        n_features = shift.n_features

        def counterfactual(self, X, s):
            return shift.counterfactual(X, s)

    with pytest.raises(TypeError, match="describe"):
        A.audit(model, X, s, s_column=0, shift=NoDescribe())


def test_a_shift_over_the_other_columns_and_the_true_counterfactuals(torch_model):
    torch = pytest.importorskip("torch")
    from fairnotes import scm, shifts

    data = scm.linear_gaussian_scm(200, effect=(1.0, -0.5, 0.0), label_s=1.0, seed=3)
    Xs = np.column_stack([data.s, data.X])  # the model reads s in column 0, then the three features
    shift = shifts.fit_shift(data.X, data.s, method="mean")  # fitted on the three features only
    res = A.audit(torch_model, Xs, data.s, s_column=0, shift=shift, n_samples=2)
    expected_cf = np.column_stack([1 - data.s, shift.counterfactual(data.X, data.s)])
    with torch.no_grad():
        expected = (torch_model(torch.as_tensor(expected_cf)) - torch_model(torch.as_tensor(Xs))).numpy()[:, 0]
    np.testing.assert_allclose(res.table["proxy_change"], expected, atol=1e-6)
    oracle = A.audit(torch_model, Xs, data.s, s_column=0, shift=data, n_samples=2)  # the true X_cf
    true_cf = np.column_stack([1 - data.s, data.X_cf])
    with torch.no_grad():
        truth = (torch_model(torch.as_tensor(true_cf)) - torch_model(torch.as_tensor(Xs))).numpy()[:, 0]
    np.testing.assert_allclose(oracle.table["proxy_change"], truth, atol=1e-6)


def test_a_scikit_learn_classifier_is_audited_through_predict_proba():
    """A classifier with predict_proba (not callable) is audited by finite differences on its
    probability of class 1, exactly as the same function given as a callable."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    X[:, 0] = rng.integers(0, 2, 120)
    y = (X[:, 0] + X[:, 1] + rng.normal(0, 0.5, 120) > 0.5).astype(int)
    clf = LogisticRegression().fit(X, y)
    by_object = A.audit(clf, X, X[:, 0], s_column=0, n_samples=4, seed=1)
    by_callable = A.audit(lambda Z: clf.predict_proba(Z)[:, 1], X, X[:, 0], s_column=0, n_samples=4, seed=1)
    assert "predict_proba" in by_object.method
    pd.testing.assert_frame_equal(by_object.table, by_callable.table)
    # the logistic model's derivative in the attribute is w_0 p (1 - p)
    p = clf.predict_proba(X)[:, 1]
    np.testing.assert_allclose(by_object.table["sensitivity"], abs(clf.coef_[0, 0]) * p * (1 - p), rtol=1e-5)

    labels = LogisticRegression().fit(X, np.where(y == 1, "yes", "no"))
    with pytest.raises(ValueError, match="classes_ must be \\[0, 1\\]"):
        A.audit(labels, X, X[:, 0], s_column=0)
