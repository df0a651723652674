"""fairnotes.audit: one measure for torch, GPflow and plain callables."""

import numpy as np
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
