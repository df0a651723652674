"""fairnotes.models.TargetLabelLoss and training through target labels (issue #14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from fairnotes import models, target_labels as tl  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

P_DP = np.array([[0.0, 0.7], [0.25, 1.0]])        # a parity table: group 0 up, group 1 down
P_ANY = np.array([[0.1, 0.8], [0.3, 0.95]])       # every parameter strictly inside (0, 1)


def _rows(n=64, seed=0):
    rng = np.random.default_rng(seed)
    z = torch.tensor(rng.normal(scale=3.0, size=n))
    y = torch.tensor(rng.integers(0, 2, n)).double()
    s = torch.tensor(rng.integers(0, 2, n)).double()
    return z, y, s


def _by_hand(P, z, y, s):
    """-mean log sum_ybar P(y | ybar, s) p(ybar | x), in float64 numpy, with no tricks."""
    z, y, s = (np.asarray(v, dtype=np.float64) for v in (z, y, s))
    p1 = 1.0 / (1.0 + np.exp(-z))
    si = s.astype(int)
    a, b = P[si, 1], P[si, 0]                      # P(y=1 | ybar=1, s), P(y=1 | ybar=0, s)
    lik1 = a * p1 + b * (1 - p1)
    lik = np.where(y == 1, lik1, 1 - lik1)
    return -np.mean(np.log(lik))


# --------------------------------------------------------------------------- the loss

def test_identity_parameters_equal_bce():
    z, y, s = _rows()
    loss = models.TargetLabelLoss(tl.identity_parameters())
    bce = torch.nn.BCEWithLogitsLoss()(z, y)
    assert torch.equal(loss(z, y, s), bce)
    general = models.TargetLabelLoss(tl.identity_parameters())
    general.identity = False                        # force the log-sum-exp path
    np.testing.assert_allclose(float(general(z, y, s)), float(bce), rtol=1e-12)
    zg = z.clone().requires_grad_(True)
    (g1,) = torch.autograd.grad(general(zg, y, s), zg)
    (g2,) = torch.autograd.grad(torch.nn.BCEWithLogitsLoss()(zg, y), zg)
    np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("P", [P_DP, P_ANY, tl.parity_parameters([0.12, 0.26], "mean"),
                               tl.opportunity_parameters([0.5, 0.6], 0.8, 0.7)])
def test_marginal_likelihood_by_hand(P):
    z, y, s = _rows(200, seed=1)
    np.testing.assert_allclose(float(models.TargetLabelLoss(P)(z, y, s)), _by_hand(P, z, y, s), rtol=1e-10)


def test_gradient_matches_autograd_of_the_formula():
    z, y, s = _rows(50, seed=2)
    for P in (P_DP, P_ANY):
        loss = models.TargetLabelLoss(P)
        assert torch.autograd.gradcheck(lambda t: loss(t, y, s), (z.clone().requires_grad_(True),))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_stable_at_parameters_0_and_1_and_large_logits(dtype):
    P = np.array([[0.0, 1.0], [0.0, 0.6]])         # zeros and ones: log P(y | ybar, s) is -inf
    z = torch.tensor([-1e4, -200.0, -30.0, 0.0, 30.0, 200.0, 1e4] * 4, dtype=dtype, requires_grad=True)
    n = z.shape[0]
    y = torch.tensor(([0] * 7 + [1] * 7) * 2, dtype=dtype)
    s = torch.tensor([0] * 14 + [1] * 14, dtype=dtype)
    value = models.TargetLabelLoss(P)(z, y, s)
    (g,) = torch.autograd.grad(value, z)
    assert torch.isfinite(value) and torch.isfinite(g).all()
    # every row against a float64 reference in log space (np.logaddexp; log 0 = -inf on purpose):
    # even a confident wrong prediction costs a finite loss, |logit| + log of a parameter
    zd, yd, sd = (v.detach().double().numpy() for v in (z, y, s))
    with np.errstate(divide="ignore"):
        c = np.log(np.where(yd == 1, P[sd.astype(int), 1], 1 - P[sd.astype(int), 1]))
        d = np.log(np.where(yd == 1, P[sd.astype(int), 0], 1 - P[sd.astype(int), 0]))
    reference = -np.logaddexp(c - np.logaddexp(0, -zd), d - np.logaddexp(0, zd))
    rows = np.array([float(models.TargetLabelLoss(P)(z[i:i + 1].detach(), y[i:i + 1], s[i:i + 1])) for i in range(n)])
    np.testing.assert_allclose(rows, reference, rtol=1e-6, atol=1e-6)
    assert rows.max() == pytest.approx(1e4 - np.log(0.6), rel=1e-6)
    # large logits: no NaN, the right sign of the gradient, and exactness where the hand formula overflows
    big = torch.tensor([1e4], dtype=dtype)
    assert float(models.TargetLabelLoss(P_ANY)(big, torch.ones(1, dtype=dtype), torch.ones(1, dtype=dtype))) \
        == pytest.approx(-np.log(0.95), rel=1e-5)
    assert float(models.TargetLabelLoss(P_ANY)(-big, torch.ones(1, dtype=dtype), torch.ones(1, dtype=dtype))) \
        == pytest.approx(-np.log(0.3), rel=1e-5)


def test_closed_form_gradient_in_float32_and_its_limits():
    """The gradient the forward pass stores is (sigmoid(z) - q) / n, q the posterior; it is not
    changed by a second backward (retain_graph), and second derivatives raise instead of being wrong."""
    z, y, s = _rows(64, seed=4)
    z = z.float()
    loss = models.TargetLabelLoss(P_DP)
    zg = z.clone().requires_grad_(True)
    value = loss(zg, y.float(), s.float())
    (g1,) = torch.autograd.grad(value, zg, retain_graph=True)
    (g2,) = torch.autograd.grad(value, zg, retain_graph=True)
    zd, sd, yd = z.double().numpy(), s.numpy().astype(int), y.numpy()
    c = np.where(yd == 1, P_DP[sd, 1], 1 - P_DP[sd, 1])
    d = np.where(yd == 1, P_DP[sd, 0], 1 - P_DP[sd, 0])
    p1 = 1 / (1 + np.exp(-zd))
    q = c * p1 / (c * p1 + d * (1 - p1))
    np.testing.assert_allclose(g1.numpy(), (p1 - q) / len(zd), rtol=1e-5, atol=1e-8)
    assert torch.equal(g1, g2)
    (g3,) = torch.autograd.grad(2.0 * loss(zg, y.float(), s.float()), zg)      # the incoming gradient scales it
    torch.testing.assert_close(g3, 2 * g1)
    with pytest.raises(RuntimeError, match="differentiable once"):
        (gg,) = torch.autograd.grad(loss(zg, y.float(), s.float()), zg, create_graph=True)
        gg.sum().backward()


def test_batch_sizes_dtypes_and_inference_mode_share_one_loss():
    """One loss object meets several batch sizes and dtypes (its per-size constants are cached), and
    is evaluated under inference mode (as train evaluates); every value is the direct computation."""
    loss = models.TargetLabelLoss(P_ANY)
    for n, dtype in [(64, torch.float64), (1, torch.float64), (65, torch.float32), (64, torch.float32),
                     (7, torch.float64), (64, torch.float64)] * 4:
        z, y, s = (v.to(dtype) for v in _rows(n, seed=n))
        with torch.inference_mode():
            inf_value = float(loss(z, y, s))
        zg = z.clone().requires_grad_(True)
        value = loss(zg, y, s)
        value.backward()
        rtol = 1e-10 if dtype == torch.float64 else 1e-5
        np.testing.assert_allclose([float(value.detach()), inf_value], _by_hand(P_ANY, z, y, s), rtol=rtol)
        assert value.dtype == dtype and zg.grad.dtype == dtype
    assert len(loss._constants) <= 16
    for n in range(100, 140):                                   # many sizes: the cache stays small
        z, y, s = _rows(n, seed=n)
        np.testing.assert_allclose(float(loss(z, y, s)), _by_hand(P_ANY, z, y, s), rtol=1e-10)
    assert len(loss._constants) <= 16


def test_rows_path_equals_codes_path():
    """What train calls (the rows' part of the table, gathered once, then indexed per batch) is
    what from_codes computes: the same value and gradient, bit for bit."""
    z, y, s = _rows(200, seed=5)
    codes = (2 * s + y).long()
    for P in (P_DP, P_ANY, tl.identity_parameters()):
        loss = models.TargetLabelLoss(P)
        rows = loss._rows(codes, y)
        assert rows.shape == (200, 3) and rows.dtype == y.dtype
        idx = torch.arange(0, 200, 3)
        za, zb = z[idx].clone().requires_grad_(True), z[idx].clone().requires_grad_(True)
        va, vb = loss.from_codes(za, y[idx], codes[idx]), loss._from_rows(zb, y[idx], rows[idx])
        va.backward()
        vb.backward()
        assert torch.equal(va, vb) and torch.equal(za.grad, zb.grad)


def test_gradients_finite_through_a_network():
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.normal(size=(40, 5)) * 100, dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 2, 40), dtype=torch.float32)
    s = torch.tensor(rng.integers(0, 2, 40), dtype=torch.float32)
    for arch in ("logistic", "linear"):
        m = models.make_model(arch, 5, seed=0)
        models.TargetLabelLoss(P_DP)(m.logits(X), y, s).backward()
        assert all(torch.isfinite(p.grad).all() for p in m.parameters())


@pytest.mark.parametrize("P, match", [
    (np.zeros((3, 2)), "shape"),
    ([[0.0, 1.2], [0.0, 1.0]], r"\[0, 1\]"),
    ([[np.nan, 1.0], [0.0, 1.0]], r"\[0, 1\]"),
    ([[0.0, 0.0], [0.0, 1.0]], "impossible"),
])
def test_rejects_bad_parameters(P, match):
    with pytest.raises(ValueError, match=match):
        models.TargetLabelLoss(P)


def test_rejects_bad_inputs():
    loss = models.TargetLabelLoss(P_DP)
    z, y, s = _rows(10)
    with pytest.raises(ValueError, match="logits must be a 1-D"):
        loss(z[:, None], y, s)
    with pytest.raises(ValueError, match=r"y must have shape \(10,\)"):
        loss(z, y[:5], s)
    with pytest.raises(ValueError, match=r"s must have shape"):
        loss(z, y, s[:, None])
    with pytest.raises(ValueError, match="y must hold only 0 and 1"):
        loss(z, y * 2, s)
    with pytest.raises(ValueError, match="s must hold only 0 and 1"):
        loss(z, y, s - 0.5)
    assert "parameters=" in repr(loss)


# --------------------------------------------------------------------------- training through it

def _biased(n=1200, d=5, seed=0):
    """Labels with a group gap (base rates about 0.3 and 0.7); column 1 is a noisy proxy of s."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[:, 1] = s + 0.3 * rng.normal(size=n)
    y = (X[:, 0] + 1.2 * s + 0.5 * rng.normal(size=n) > 0.6).astype(np.int64)
    return X, y, s


def _state_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("arch", ["logistic", "linear"])
def test_identity_run_equals_bce_training_exactly(arch):
    X, y, s = _biased(300)
    kw = dict(epochs=3, batch_size=32, learning_rate=0.01, seed=3, cache=False, progress=False)
    m1, h1 = models.train(models.make_model(arch, 5, seed=0), X, y, eval_set=(X[:50], y[:50]), **kw)
    kw["eval_set"] = (X[:50], y[:50], s[:50])
    m2, h2 = models.train(models.make_model(arch, 5, seed=0), X, y, s=s,
                          loss=models.TargetLabelLoss(tl.identity_parameters()), **kw)
    assert _state_equal(m1, m2)
    pd.testing.assert_frame_equal(h1.drop(columns="seconds"), h2.drop(columns="seconds"))
    # the general log-sum-exp path gives the same model up to rounding
    general = models.TargetLabelLoss(tl.identity_parameters())
    general.identity = False
    m3, _ = models.train(models.make_model(arch, 5, seed=0), X, y, s=s, loss=general, **kw)
    for k, v in m1.state_dict().items():
        np.testing.assert_allclose(m3.state_dict()[k].numpy(), v.numpy(), atol=1e-4)


def test_training_moves_selection_rates_towards_the_target():
    X, y, s = _biased()
    base = np.array([y[s == 0].mean(), y[s == 1].mean()])
    target = base.mean()
    P = tl.parity_parameters(base, "mean")
    kw = dict(epochs=10, batch_size=64, learning_rate=0.01, seed=0, cache=False, progress=False)
    Xstar = np.column_stack([X, s]).astype(np.float32)   # the "*" variant: s is also an input

    def rates(model, X_):
        p = models.predict(model, X_)
        return np.array([p[s == g].mean() for g in (0, 1)])

    r_bce = rates(models.train(models.make_model("logistic", 5, seed=0), X, y, **kw)[0], X)
    fair, hist = models.train(models.make_model("logistic", 5, seed=0), X, y, s=s, loss=models.TargetLabelLoss(P), **kw)
    star, _ = models.train(models.make_model("logistic", 6, seed=0), Xstar, y, s=s,
                           loss=models.TargetLabelLoss(P), **kw)
    assert hist["train_loss"].iloc[-1] < hist["train_loss"].iloc[0]
    for r in (rates(fair, X), rates(star, Xstar)):
        assert r[1] - r[0] < 0.65 * (r_bce[1] - r_bce[0])          # the gap narrows by a third or more
        assert r[0] > r_bce[0] and r[1] < r_bce[1]                  # each group moves towards the target
        assert np.abs(r - target).sum() < 0.65 * np.abs(r_bce - target).sum()


def test_cache_key_holds_the_parameters_and_s(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRNOTES_CACHE_DIR", str(tmp_path))
    X, y, s = _biased(200)
    kw = dict(epochs=1, batch_size=64, progress=False, cache=True)

    def run(**extra):
        return models.train(models.make_model("logistic", 5, seed=0), X, y, **kw, **extra)[1].attrs["cached"]

    assert run() is False and run() is True
    bce_files = set(tmp_path.iterdir())
    assert run(s=s, loss=models.TargetLabelLoss(P_DP)) is False     # a new key: not BCE's entry
    assert run(s=s, loss=models.TargetLabelLoss(P_DP)) is True
    assert run(s=s, loss=models.TargetLabelLoss(P_ANY)) is False    # other parameters
    assert run(s=1 - s, loss=models.TargetLabelLoss(P_DP)) is False  # other s
    assert run(s=s, loss=models.TargetLabelLoss(tl.identity_parameters())) is False
    assert len(set(tmp_path.iterdir())) == len(bce_files) + 4
    assert run() is True                                                   # BCE's key is unchanged


def test_bce_cache_key_is_what_it_was():
    """Without a target-label loss the key is computed from exactly the arguments and arrays it always was
    (the learning rate as ``lr``, as before it was called ``learning_rate``; no ``eval_every`` unless given)."""
    from fairnotes import _cache

    X, y, _ = _biased(100)
    model = models.make_model("linear", 5, seed=0)
    captured = {}
    real = _cache.key

    def spy(tag, args, modules, arrays):
        captured.update(tag=tag, args=dict(args), n_arrays=len(arrays))
        return real(tag, args, modules, arrays)

    import fairnotes.models as m
    old = m._cache.key
    m._cache.key = spy
    try:
        models.train(model, X, y, epochs=1, cache=False, progress=False)
    finally:
        m._cache.key = old
    assert captured == {"tag": "fairnotes.models.train", "n_arrays": 4,
                        "args": {"epochs": 1, "batch_size": 128, "lr": 1e-3, "weight_decay": 0.0, "seed": 0}}


def test_train_validation_messages():
    X, y, s = _biased(100)
    m = models.make_model("logistic", 5, seed=0)
    loss = models.TargetLabelLoss(P_DP)
    kw = dict(epochs=1, cache=False, progress=False)
    with pytest.raises(ValueError, match="needs s, the 0/1 protected attribute"):
        models.train(m, X, y, loss=loss, **kw)
    with pytest.raises(ValueError, match="s is read only by a target-label loss"):
        models.train(m, X, y, s=s, **kw)
    with pytest.raises(ValueError, match="s is read only by a target-label loss"):
        models.train(m, X, y, eval_set=(X, y, s), **kw)
    with pytest.raises(ValueError, match=r"eval_set must be \(X, y, s\), with s"):
        models.train(m, X, y, eval_set=(X, y), s=s, loss=loss, **kw)
    with pytest.raises(ValueError, match=r"s must have shape \(100,\)"):
        models.train(m, X, y, s=s[:10], loss=loss, **kw)
    with pytest.raises(ValueError, match="s must hold only 0 and 1"):
        models.train(m, X, y, s=s + 1, loss=loss, **kw)
    with pytest.raises(TypeError, match="TargetLabelLoss"):
        models.train(m, X, y, s=s, loss=torch.nn.BCEWithLogitsLoss(), **kw)
    with pytest.raises(ValueError, match="one output"):
        models.train(models.make_model("linear", 5, n_outputs=2), X, np.column_stack([y, y]), s=s,
                     loss=loss, **kw)


def test_logistic_regression_model():
    m = models.make_model("logistic", 7, seed=1)
    assert [type(l) for l in m.modules()][1:] == [torch.nn.Linear]
    x = torch.randn(5, 7)
    assert m(x).shape == (5,) and torch.allclose(m(x), torch.sigmoid(m.logits(x)))
    assert models.make_model("logistic", 7, n_outputs=3)(x).shape == (5, 3)
    a, b = models.make_model("logistic", 7, seed=1), models.make_model("logistic", 7, seed=1)
    assert _state_equal(a, b)
    with pytest.raises(ValueError, match="architecture must be one of"):
        models.make_model("logit", 7)


# --------------------------------------------------------------------------- the book's settings

def test_target_label_settings_and_their_checks():
    from fairnotes import presets, recipes

    for dataset in ("adult", "compas"):
        for arch in presets.TARGET_ARCHITECTURES:
            st = presets.target_label_settings(dataset, arch)
            assert {"epochs", "batch_size", "learning_rate", "weight_decay", "seed", "train_rows", "test_history",
                    "start"} == set(st)
    lin = presets.target_label_settings("compas", "linear")       # the unmitigated model's settings
    assert lin["epochs"] == presets.unmitigated_epochs("compas", "linear") and lin["batch_size"] == 64
    assert lin["learning_rate"] == presets.PAPER_LR and lin["start"] is None
    cnn = presets.target_label_settings("adult", "cnn")         # the CNN too: the unmitigated CNN's settings
    assert cnn["start"] is None and cnn["epochs"] == presets.unmitigated_epochs("adult", "cnn")
    assert cnn["train_rows"] == presets.unmitigated_train_rows("adult", "cnn")
    with pytest.raises(ValueError, match="architecture must be one of"):
        presets.target_label_settings("adult", "mlp")
    with pytest.raises(ValueError, match="dataset must be"):
        presets.target_label_settings("german", "linear")
    with pytest.raises(ValueError, match="unknown settings"):
        recipes.target_label_model("compas", "logistic", P_DP, epochz=3)
    with pytest.raises(ValueError, match="needs s_as_input|use s_as_input=True"):
        recipes.target_label_model("adult", "cnn", P_DP, s_as_input=False, start="unmitigated")
