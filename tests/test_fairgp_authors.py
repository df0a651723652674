"""Tests of the FairGP authors' training configuration (#26): the logistic link with Monte Carlo
expectations, the learning-rate drop, the unwhitened posterior and strided inducing inputs, a fixed
lengthscale for FairGP*'s s, max-scaled inputs and presets.fairgp_authors_settings.

Fast: a few hundred synthetic rows, a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import biased_toy as _toy  # shared by the FairGP test modules

from fairnotes import presets
from fairnotes import target_labels as tl

gpflow = pytest.importorskip("gpflow")
tf = pytest.importorskip("tensorflow")
fg = pytest.importorskip("fairnotes.fairgp")


def test_authors_steps_and_batch():
    # Adult's 20,107 training rows: batch 5,000, 20107 * int(7000 / sqrt(20107)) // 5000 = 20107 * 49 // 5000
    assert presets.fairgp_authors_steps(20_107) == (5000, 197) and 20_107 * 49 // 5000 == 197
    assert presets.fairgp_authors_steps(1000) == (1000, 221)      # batch = n, int(7000 / sqrt(1000)) = 221 epochs
    assert presets.fairgp_authors_steps(100) == (100, 700)
    assert presets.fairgp_authors_steps(400_000) == (5000, 400_000 * 11 // 5000)
    assert presets.fairgp_authors_steps(49_000_000) == (5000, 9800)   # their docstring: one epoch
    st = presets.fairgp_authors_settings(20_107, num_inducing=2000)   # fast mode here: at most 40 steps
    assert st["batch_size"] == 5000 and st["steps"] == 40 and st["num_inducing"] == 2000
    assert st["learning_rate_drop"] == (10, 0.2) and st["link"] == "logistic" and st["mc_samples"] == 1000
    with pytest.raises(ValueError, match="unknown FairGP settings"):
        presets.fairgp_authors_settings(100, inducing_points=3)
    with pytest.raises(ValueError, match="n_train"):
        presets.fairgp_authors_steps(0)


def test_monte_carlo_expectations_match_quadrature_and_are_seeded():
    rng = np.random.default_rng(0)
    n = 50
    Fmu, Fvar = rng.normal(0, 2, (n, 1)), rng.uniform(0.01, 3, (n, 1))
    y, s = rng.integers(0, 2, n), rng.integers(0, 2, n)
    Y, X = fg.pack_labels(y, s), np.zeros((n, 1))
    P = np.array([[0.2, 0.9], [0.05, 0.7]])
    for link in fg.LINKS:
        quad = fg.FairGPLikelihood(P, invlink=link, num_gauss_hermite_points=100)
        mc = fg.FairGPLikelihood(P, invlink=link, mc_samples=20_000, mc_seed=3)
        q = quad.variational_expectations(X, Fmu, Fvar, Y).numpy()
        m1 = mc.variational_expectations(X, Fmu, Fvar, Y).numpy()
        m2 = mc.variational_expectations(X, Fmu, Fvar, Y).numpy()   # new draws at every call
        assert q.shape == m1.shape == (n,)
        np.testing.assert_allclose(m1, q, atol=0.05)
        assert not np.array_equal(m1, m2)
        again = fg.FairGPLikelihood(P, invlink=link, mc_samples=20_000, mc_seed=3)
        np.testing.assert_array_equal(again.variational_expectations(X, Fmu, Fvar, Y).numpy(), m1)
    with pytest.raises(ValueError, match="invlink"):
        fg.FairGPLikelihood(P, invlink="cauchit")


def test_logistic_predictive_probability_is_the_gaussian_mean_of_the_sigmoid():
    from scipy import integrate

    lik = fg.FairGPLikelihood(None, invlink="logistic")
    mu, var = np.array([[-3.0], [0.0], [0.7], [4.0]]), np.array([[0.1], [2.0], [5.0], [1.0]])
    p = lik.predict_mean_and_var(np.zeros((4, 1)), mu, var)[0].numpy()[:, 0]
    exact = [integrate.quad(lambda f, m=m, v=v: np.exp(-(f - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v)
                            / (1 + np.exp(-f)), -40, 40)[0] for m, v in zip(mu[:, 0], var[:, 0])]
    np.testing.assert_allclose(p, exact, atol=1e-6)
    # the closed-form predictive density uses it: p(y=1) = P[s,0](1-p) + P[s,1]p
    P = np.array([[0.2, 0.9], [0.05, 0.7]])
    s = np.array([0, 1, 0, 1])
    dens = fg.FairGPLikelihood(P, invlink="logistic").predict_log_density(
        np.zeros((4, 1)), mu, var, fg.pack_labels(np.ones(4, int), s)).numpy()
    np.testing.assert_allclose(dens, np.log(P[s, 0] * (1 - p) + P[s, 1] * p), rtol=1e-10)


def test_authors_options_build_the_model_they_say():
    x, y, s = _toy(n=300)
    lik = fg.FairGPLikelihood(None)
    Xk = np.column_stack([x, s])
    m = fg.build_svgp(Xk, lik, num_inducing=30, inducing="stride", whiten=False, q_sqrt_scale=np.log(2),
                      lengthscale=1.0, s_kernel="ard", s_lengthscale=0.5)
    np.testing.assert_array_equal(m.inducing_variable.Z.numpy(), Xk[::10])
    assert not m.whiten
    np.testing.assert_allclose(m.q_sqrt.numpy()[0], np.log(2) * np.eye(30))
    np.testing.assert_allclose(m.kernel.lengthscales.numpy(), [1.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="inducing"):
        fg.build_svgp(Xk, lik, num_inducing=30, inducing="kmeans")
    with pytest.raises(ValueError, match="s_kernel='ard'"):
        fg.build_svgp(x, lik, num_inducing=30, s_lengthscale=1.0)


def test_fixed_s_lengthscale_is_the_ard_kernel_with_one_lengthscale_held():
    x, y, s = _toy(n=300)
    Xk = np.column_stack([x, s])
    held = fg.build_svgp(Xk, fg.FairGPLikelihood(None), num_inducing=20, lengthscale=1.3, s_kernel="ard",
                         s_lengthscale=1.0, train_s_lengthscale=False)
    ard = gpflow.kernels.SquaredExponential(lengthscales=[1.3, 1.3, 1.0])
    np.testing.assert_allclose(held.kernel(Xk[:40]).numpy(), ard(Xk[:40]).numpy(), rtol=1e-12)
    P = tl.parity_parameters([0.3, 0.6], "mean")
    clf = fg.FairGP(P, s_as_input=True, num_inducing=20, batch_size=100, steps=30, learning_rate=0.05,
                    s_lengthscale=1.0, train_s_lengthscale=False, progress=False).fit(x, y, s)
    assert clf.group_correlation() == pytest.approx(np.exp(-0.5), rel=1e-12)   # 0.61: stays where it started
    free = fg.FairGP(P, s_as_input=True, num_inducing=20, batch_size=100, steps=30, learning_rate=0.05,
                     s_lengthscale=1.0, progress=False).fit(x, y, s)
    assert free.group_correlation() != pytest.approx(np.exp(-0.5), rel=1e-6)
    with pytest.raises(ValueError, match="s_as_input=True"):
        fg.FairGP(P, s_lengthscale=1.0)


def test_learning_rate_drops_after_k_steps():
    x, y, s = _toy(n=200)
    model = fg.build_svgp(x, fg.FairGPLikelihood(None), num_inducing=10)
    step, adam = fg._step_and_optimizer(model, tf.constant(x), tf.constant(fg.pack_labels(y, s)),
                                        natgrad_gamma=None, learning_rate=0.005, learning_rate_drop=(10, 0.2))
    rates = []
    for _ in range(13):
        step(tf.constant(np.arange(50)))
        rates.append(float(adam.learning_rate))   # the rate the step just taken used
    # steps 0-10 at 0.005, then 0.001 (TensorFlow 1's piecewise_constant(global_step, [10], ...) alike)
    np.testing.assert_allclose(rates[:11], 0.005)
    np.testing.assert_allclose(rates[11:], 0.001)
    with pytest.raises(ValueError, match="learning_rate_drop"):
        fg.FairGP(None, learning_rate_drop=(10, 2.0))


def test_authors_fit_runs_and_repeats_bit_for_bit():
    x, y, s = _toy(n=400)
    P = tl.parity_parameters([0.3, 0.6], "mean")
    st = dict(presets.fairgp_authors_settings(len(y)), num_inducing=20, steps=15, mc_samples=200)
    a = fg.FairGP(P, s_as_input=True, progress=False, **st).fit(x, y, s)
    b = fg.FairGP(P, s_as_input=True, progress=False, **st).fit(x, y, s)   # the reused compiled step
    np.testing.assert_array_equal(a.predict_proba(x, s), b.predict_proba(x, s))
    assert a.model.likelihood.invlink is tf.sigmoid and not a.model.whiten and a.jitter == 0.01
    assert np.isfinite(a.history["train_elbo"]).all()


def test_scale_by_maximum():
    X = np.array([[0.0, 20.0, 1.0, 0.0], [1.0, 40.0, 0.0, 0.0]])
    tr, te = fg.scale_by_maximum(X, np.array([[2.0, 10.0, 1.0, 5.0]]))
    np.testing.assert_allclose(tr, [[0, 0.5, 1, 0], [1, 1, 0, 0]])
    np.testing.assert_allclose(te, [[2, 0.25, 1, 5]])   # test rows divided by the training maxima
    with pytest.raises(ValueError, match="unstandardised"):
        fg.scale_by_maximum(X - 5.0)
    with pytest.raises(ValueError, match="columns"):
        fg.scale_by_maximum(X, np.ones((1, 3)))
