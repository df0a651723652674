"""fairnotes.sensitivity: prediction sensitivity, its smooth version, the counterfactual change."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from fairnotes import models  # noqa: E402
from fairnotes.sensitivity import (  # noqa: E402
    counterfactual_change,
    prediction_sensitivity,
    smooth_prediction_sensitivity,
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

D = 6
A = 0  # the protected column in the synthetic data


def _X(n=40, d=D, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[:, A] = rng.integers(0, 2, n)
    return X.astype(dtype)


class Smooth(nn.Module):
    """A smooth (tanh) network in float64, so that finite differences are accurate."""

    def __init__(self, d=D, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.l1 = nn.Linear(d, 16).double()
        self.l2 = nn.Linear(16, 1).double()
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))

    def forward(self, x):
        return torch.sigmoid(self.l2(torch.tanh(self.l1(x)))).squeeze(-1)


class TwoOutputs(nn.Module):
    def forward(self, x):
        return torch.stack([x.sum(1), x.sum(1)], dim=1)


def _tiny(arch, d=D, **kw):
    if arch == "linear":
        return models.make_model("linear", d, hidden=(8, 8, 8), **kw)
    return models.make_model("cnn", d, channels=(4, 4, 4, 4, 4), **kw)


# ------------------------------------------------------------------ correctness


def test_equals_central_finite_difference_on_a_smooth_model():
    model = Smooth()
    X = _X(dtype=np.float64)
    h = 1e-5
    with torch.no_grad():
        up, down = torch.tensor(X), torch.tensor(X)
        up[:, A] += h
        down[:, A] -= h
        fd = ((model(up) - model(down)) / (2 * h)).numpy()
    got = prediction_sensitivity(model, X, A)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.abs(fd), atol=1e-4, rtol=0)
    np.testing.assert_allclose(prediction_sensitivity(model, X, A, signed=True), fd, atol=1e-4, rtol=0)
    assert np.abs(fd).max() > 1e-3  # the check is not vacuous


@pytest.mark.parametrize("arch", ["linear", "cnn"])
def test_equals_per_row_autograd(arch):
    model = _tiny(arch, seed=1)
    X = _X(n=25)
    expected = []
    model.eval()
    for row in X:
        x = torch.tensor(row[None, :], requires_grad=True)
        (g,) = torch.autograd.grad(model(x).sum(), x)
        expected.append(abs(g[0, A].item()))
    model.train()  # dropout on: the function must turn it off
    got = prediction_sensitivity(model, X, A)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    # chunking does not change the values
    np.testing.assert_allclose(prediction_sensitivity(model, X, A, chunk_size=7), got, rtol=1e-6, atol=1e-8)


def test_linear_model_sensitivity_is_its_weight_and_counterfactual_is_exact():
    lin = nn.Linear(D, 1).double()
    X = _X(dtype=np.float64)
    w = lin.weight[0, A].item()
    np.testing.assert_allclose(prediction_sensitivity(lin, X, A), abs(w), rtol=1e-12)
    expected = w * (1 - 2 * X[:, A])
    np.testing.assert_allclose(counterfactual_change(lin, X, A), expected, rtol=1e-10, atol=1e-12)


def test_block_reductions():
    model = Smooth()
    X = _X(dtype=np.float64)
    per_col = np.stack([prediction_sensitivity(model, X, c) for c in (1, 2, 3)], axis=1)
    np.testing.assert_allclose(prediction_sensitivity(model, X, [1, 2, 3]), np.linalg.norm(per_col, axis=1))
    np.testing.assert_allclose(prediction_sensitivity(model, X, [1, 2, 3], block="l1"), per_col.sum(1))
    np.testing.assert_allclose(prediction_sensitivity(model, X, (1, 2, 3), block="max"), per_col.max(1))
    np.testing.assert_allclose(prediction_sensitivity(model, X, [2]), per_col[:, 1])


def test_smooth_with_tiny_sigma_equals_plain():
    model = Smooth()
    X = _X(dtype=np.float64)
    plain = prediction_sensitivity(model, X, A)
    for reduce in ("max", "mean"):
        tiny = smooth_prediction_sensitivity(model, X, A, n_samples=5, sigma=1e-8, seed=0, reduce=reduce)
        np.testing.assert_allclose(tiny, plain, rtol=1e-6, atol=1e-9)
    zero = smooth_prediction_sensitivity(model, X, A, n_samples=3, sigma=0.0, seed=0)
    np.testing.assert_allclose(zero, plain, rtol=1e-12)


def test_smooth_reductions_are_consistent():
    model = Smooth()
    X = _X(dtype=np.float64)
    all_ = smooth_prediction_sensitivity(model, X, A, n_samples=9, sigma=0.5, seed=3, reduce="none")
    assert all_.shape == (len(X), 9)
    mx = smooth_prediction_sensitivity(model, X, A, n_samples=9, sigma=0.5, seed=3, reduce="max")
    mean = smooth_prediction_sensitivity(model, X, A, n_samples=9, sigma=0.5, seed=3, reduce="mean")
    np.testing.assert_allclose(mx, all_.max(1))
    np.testing.assert_allclose(mean, all_.mean(1))
    assert (mx >= mean).all() and (mx > mean).any()


def test_smooth_matches_a_hand_written_loop_on_the_same_noise():
    model = _tiny("linear", seed=2)
    X = _X(n=30)
    n, sigma = 7, 0.3
    got = smooth_prediction_sensitivity(model, X, A, n_samples=n, sigma=sigma,
                                        seed=torch.Generator().manual_seed(11), chunk_size=10_000)
    noise = torch.randn((n, len(X), D), generator=torch.Generator().manual_seed(11))
    model.eval()
    best = np.zeros(len(X), np.float32)
    for i in range(n):
        x = (torch.tensor(X) + sigma * noise[i]).requires_grad_(True)
        (g,) = torch.autograd.grad(model(x).sum(), x)
        best = np.maximum(best, g[:, A].abs().numpy())
    np.testing.assert_allclose(got, best, rtol=1e-5, atol=1e-7)


def test_same_generator_same_values():
    model = _tiny("linear")
    X = _X()
    kw = dict(n_samples=6, sigma=0.2)
    a = smooth_prediction_sensitivity(model, X, A, seed=torch.Generator().manual_seed(5), **kw)
    b = smooth_prediction_sensitivity(model, X, A, seed=torch.Generator().manual_seed(5), **kw)
    c = smooth_prediction_sensitivity(model, X, A, seed=torch.Generator().manual_seed(6), **kw)
    d = smooth_prediction_sensitivity(model, X, A, seed=5, **kw)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, d)
    assert not np.array_equal(a, c)
    # generator=None uses the global state: reproducible after torch.manual_seed
    torch.manual_seed(0)
    e = smooth_prediction_sensitivity(model, X, A, **kw)
    torch.manual_seed(0)
    f = smooth_prediction_sensitivity(model, X, A, **kw)
    np.testing.assert_array_equal(e, f)


def test_perturb_s_column_false_keeps_the_protected_column():
    # for a model linear in the other features but quadratic in a, dF/da = 2a: noise on the
    # other columns does not change it, noise on a does
    class Quad(nn.Module):
        def forward(self, x):
            return x[:, A] ** 2 + x[:, 1:].sum(1)

    X = _X(dtype=np.float64)
    kept = smooth_prediction_sensitivity(Quad(), X, A, n_samples=4, sigma=0.5, seed=0, perturb_s_column=False)
    np.testing.assert_allclose(kept, 2 * X[:, A])
    moved = smooth_prediction_sensitivity(Quad(), X, A, n_samples=4, sigma=0.5, seed=0)
    assert not np.allclose(moved, 2 * X[:, A])


def test_counterfactual_change_matches_manual_flip():
    model = _tiny("linear", seed=3)
    X = _X()
    flipped = X.copy()
    flipped[:, A] = 1 - flipped[:, A]
    expected = models.predict_proba(model, flipped) - models.predict_proba(model, X)
    model.train()
    np.testing.assert_allclose(counterfactual_change(model, X, A), expected, rtol=1e-6, atol=1e-7)
    assert model.training


def test_accepts_tensors_and_other_dtypes():
    model = _tiny("linear")
    X = _X()
    ref = prediction_sensitivity(model, X, A)
    np.testing.assert_allclose(prediction_sensitivity(model, torch.tensor(X), A), ref)
    np.testing.assert_allclose(prediction_sensitivity(model, X.astype(np.float64), A), ref, rtol=1e-6)
    np.testing.assert_allclose(prediction_sensitivity(model, X, np.int64(A)), ref)


def test_tiny_memory_budget_still_works():
    model = _tiny("cnn")
    X = _X(n=12)
    np.testing.assert_allclose(prediction_sensitivity(model, X, A, max_memory_mb=1e-6),
                               prediction_sensitivity(model, X, A), rtol=1e-6)
    np.testing.assert_allclose(
        smooth_prediction_sensitivity(model, X, A, n_samples=3, seed=1, max_memory_mb=1e-6,
                                      reduce="none").shape, (12, 3))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_runs_on_the_models_device():
    model = _tiny("linear").cuda()
    X = _X()
    got = prediction_sensitivity(model, X, A)
    np.testing.assert_allclose(got, prediction_sensitivity(model.cpu(), X, A), rtol=1e-4)


# ------------------------------------------------------------------ side effects


@pytest.mark.parametrize("fn", ["plain", "smooth", "counterfactual"])
def test_model_mode_and_gradients_are_unchanged(fn):
    model = _tiny("linear", dropout=0.3)
    model.train()
    model.net[0].eval()  # a mixed state must come back exactly
    model.net[-1].weight.requires_grad_(False)
    grads = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            p.grad = torch.full_like(p, 0.5)
            grads[name] = p.grad.clone()
    modes = [m.training for m in model.modules()]
    flags = [p.requires_grad for p in model.parameters()]
    X = _X()
    if fn == "plain":
        prediction_sensitivity(model, X, A)
    elif fn == "smooth":
        smooth_prediction_sensitivity(model, X, A, n_samples=3, seed=0)
    else:
        counterfactual_change(model, X, A)
    assert [m.training for m in model.modules()] == modes
    assert [p.requires_grad for p in model.parameters()] == flags
    for name, p in model.named_parameters():
        if name in grads:
            assert torch.equal(p.grad, grads[name]), name
        else:
            assert p.grad is None


def test_dropout_is_off_while_measuring():
    model = _tiny("linear", dropout=0.5)
    model.train()
    X = _X()
    a = prediction_sensitivity(model, X, A)
    b = prediction_sensitivity(model, X, A)
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("call", [prediction_sensitivity, smooth_prediction_sensitivity, counterfactual_change])
def test_bad_inputs_raise(call):
    model = _tiny("linear")
    X = _X()
    with pytest.raises(ValueError, match="columns"):
        call(model, X[:, :-1], A)  # wrong width
    with pytest.raises(ValueError, match="out of range"):
        call(model, X, D)
    with pytest.raises(ValueError, match="out of range"):
        call(model, X, -1)
    with pytest.raises(TypeError):
        call(model, X, 1.0)
    with pytest.raises(TypeError):
        call(model, X, True)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        call(model, bad, A)
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        call(model, bad, A)
    with pytest.raises(ValueError, match="2-D"):
        call(model, X[0], A)
    with pytest.raises(ValueError, match="no rows"):
        call(model, X[:0], A)
    with pytest.raises(TypeError):
        call(model, X.tolist(), A)
    with pytest.raises(TypeError, match="nn.Module"):
        call(lambda x: x, X, A)
    with pytest.raises(ValueError, match="one output per row"):
        call(TwoOutputs(), X, A)
    with pytest.raises(ValueError, match="width"):  # a model without n_features that cannot take the rows
        call(nn.Linear(D + 2, 1), X, A)


def test_bad_block_column_and_options_raise():
    model = _tiny("linear")
    X = _X()
    with pytest.raises(ValueError, match="more than once"):
        prediction_sensitivity(model, X, [1, 1])
    with pytest.raises(ValueError, match="empty"):
        prediction_sensitivity(model, X, [])
    with pytest.raises(ValueError, match="block"):
        prediction_sensitivity(model, X, [1, 2], block="sum")
    with pytest.raises(ValueError, match="signed"):
        prediction_sensitivity(model, X, [1, 2], signed=True)
    with pytest.raises(ValueError, match="chunk_size"):
        prediction_sensitivity(model, X, A, chunk_size=0)
    with pytest.raises(ValueError, match="max_memory_mb"):
        prediction_sensitivity(model, X, A, max_memory_mb=0)
    for kw in (dict(n_samples=0), dict(sigma=-0.1), dict(sigma=float("nan")), dict(reduce="median")):
        with pytest.raises(ValueError):
            smooth_prediction_sensitivity(model, X, A, **kw)
    with pytest.raises(TypeError, match="seed"):
        smooth_prediction_sensitivity(model, X, A, seed=np.random.default_rng(0))
    with pytest.raises(ValueError, match="0 and 1"):
        counterfactual_change(model, X, 1)  # a standardized column, not a 0/1 one
    with pytest.raises(ValueError, match="single"):
        counterfactual_change(model, X, [0, 1])


def test_proxy_measures_reduce_to_the_plain_ones_along_the_protected_column():
    from fairnotes.sensitivity import proxy_change, proxy_sensitivity, smooth_proxy_sensitivity

    model = _tiny("linear")
    X = _X()
    X[:, A] = (X[:, A] > 0).astype(X.dtype)  # a 0/1 protected column
    flipped = X.copy()
    flipped[:, A] = 1 - flipped[:, A]
    step = np.zeros_like(X)
    step[:, A] = 1.0  # a unit step along the protected column
    np.testing.assert_allclose(proxy_sensitivity(model, X, X + step), prediction_sensitivity(model, X, A), rtol=1e-6)
    np.testing.assert_allclose(proxy_sensitivity(model, X, X + step, signed=True),
                               prediction_sensitivity(model, X, A, signed=True), rtol=1e-6)
    np.testing.assert_allclose(proxy_change(model, X, flipped), counterfactual_change(model, X, A), atol=1e-7)
    np.testing.assert_allclose(smooth_proxy_sensitivity(model, X, X + step, n_samples=6, sigma=0.3, seed=4),
                               smooth_prediction_sensitivity(model, X, A, n_samples=6, sigma=0.3, seed=4),
                               rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="shape of X"):
        proxy_sensitivity(model, X, X[:-1])
    with pytest.raises(ValueError, match="reduce"):
        smooth_proxy_sensitivity(model, X, X, reduce="median")


def test_the_noise_defaults_belong_to_sensitivity_and_are_shared_without_torch():
    """sensitivity owns sigma and n_samples; audit, evaluation and presets use the same numbers,
    and reading them does not import torch."""
    import inspect
    import subprocess
    import sys

    from fairnotes import audit, evaluation, presets, sensitivity

    assert presets.DEFAULT_SIGMA == sensitivity.DEFAULT_SIGMA
    assert presets.SMOOTH_N_SAMPLES == sensitivity.SMOOTH_N_SAMPLES
    for fn in (sensitivity.smooth_prediction_sensitivity, sensitivity.smooth_proxy_sensitivity,
               audit.audit, evaluation.audit_card):
        params = inspect.signature(fn).parameters
        assert params["sigma"].default == sensitivity.DEFAULT_SIGMA, fn.__name__
        assert params["n_samples"].default == sensitivity.SMOOTH_N_SAMPLES, fn.__name__
    code = ("import sys; from fairnotes import presets, audit, evaluation; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
