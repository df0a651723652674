"""Tests of fairnotes.fairgp (GPflow): issue #5. The debiasing parameters of fairnotes.target_labels
(numpy only) are tested in ``test_target_labels.py``.

Fast: the GPflow tests use a few hundred synthetic rows and finish in well under a minute.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import biased_toy as _toy  # shared by the FairGP test modules

from fairnotes import target_labels as tl


# ---------------------------------------------------------------- the likelihood (GPflow)

gpflow = pytest.importorskip("gpflow")
tf = pytest.importorskip("tensorflow")
fg = pytest.importorskip("fairnotes.fairgp")


def _random_q(model, seed=1):
    rng = np.random.default_rng(seed)
    m = model.q_mu.shape[0]
    model.q_mu.assign(rng.normal(size=(m, 1)))
    L = np.tril(rng.normal(scale=0.3, size=(m, m)))
    np.fill_diagonal(L, np.abs(np.diag(L)) + 0.2)
    model.q_sqrt.assign(L[None])


def test_identity_parameters_give_bernoulli_elbo_exactly():
    x, y, s = _toy()
    Z = x[:20].copy()
    elbos = []
    for lik, Y in [(gpflow.likelihoods.Bernoulli(), y[:, None].astype(float)),
                   (fg.FairGPLikelihood(tl.identity_parameters()), fg.pack_labels(y, s))]:
        k = gpflow.kernels.SquaredExponential(lengthscales=[0.7, 1.3], variance=1.7)
        m = gpflow.models.SVGP(k, lik, inducing_variable=Z, num_data=len(y))
        _random_q(m)
        elbos.append(m.elbo((tf.constant(x), tf.constant(Y))).numpy())
    np.testing.assert_allclose(elbos[1], elbos[0], rtol=1e-13)
    # and a non-identity parameter table changes it (so the comparison can fail)
    k = gpflow.kernels.SquaredExponential(lengthscales=[0.7, 1.3], variance=1.7)
    m = gpflow.models.SVGP(k, fg.FairGPLikelihood(tl.parity_parameters([0.3, 0.6], 0.45)),
                           inducing_variable=Z, num_data=len(y))
    _random_q(m)
    assert abs(m.elbo((tf.constant(x), fg.pack_labels(y, s))).numpy() - elbos[0]) > 1e-3


def test_likelihood_matches_the_marginal_by_hand_and_s_column_variant():
    P = tl.parity_parameters([0.2, 0.5], 0.35)
    F = np.linspace(-4, 4, 9)[:, None]
    y = np.array([0, 1, 0, 1, 1, 0, 1, 0, 1])
    s = np.array([0, 0, 1, 1, 0, 1, 1, 0, 1])
    lik = fg.FairGPLikelihood(P)
    got = lik.log_prob(tf.zeros((9, 1), tf.float64), tf.constant(F), tf.constant(fg.pack_labels(y, s))).numpy()
    phi = fg.inv_probit(tf.constant(F[:, 0])).numpy()
    py1 = P[s, 1] * phi + P[s, 0] * (1 - phi)
    np.testing.assert_allclose(got, np.log(np.where(y == 1, py1, 1 - py1)), rtol=1e-12)
    # s as a column of X (that the kernel would not see) gives the same numbers
    lik_x = fg.FairGPLikelihood(P, s_column=1)
    X = np.stack([np.zeros(9), s], axis=1).astype(float)
    got_x = lik_x.log_prob(tf.constant(X), tf.constant(F), tf.constant(y[:, None].astype(float))).numpy()
    np.testing.assert_allclose(got_x, got, rtol=1e-14)


def test_likelihood_finite_when_parameters_are_zero():
    P = np.array([[0.0, 0.4], [0.25, 1.0]])  # zeros and ones: log 0 = -inf inside logsumexp
    lik = fg.FairGPLikelihood(P)
    y = np.array([0, 1, 0, 1] * 3)
    s = np.array([0, 0, 1, 1] * 3)
    Fmu = tf.Variable(np.repeat([-40.0, 0.0, 40.0], 4)[:, None])
    Fvar = tf.Variable(np.full((12, 1), 1e-6))
    with tf.GradientTape() as tape:
        ve = lik.variational_expectations(tf.zeros((12, 1), tf.float64), Fmu, Fvar,
                                          tf.constant(fg.pack_labels(y, s)))
        total = tf.reduce_sum(ve)
    grads = tape.gradient(total, [Fmu, Fvar])
    assert np.all(np.isfinite(ve.numpy()))
    for g in grads:
        assert np.all(np.isfinite(g.numpy()))


def test_fairgp_raises_the_acceptance_rate_toward_the_target():
    x, y, s = _toy(n=600, seed=3)
    pr = np.array([y[s == 0].mean(), y[s == 1].mean()])
    assert pr[0] < pr[1] - 0.15
    target = pr.mean()
    kw = dict(num_inducing=20, batch_size=200, steps=250, learning_rate=0.05, seed=0, progress=False)
    gp = fg.FairGP(None, **kw).fit(x, y, s)
    fair = fg.FairGP(tl.parity_parameters(pr, "mean"), **kw).fit(x, y, s)
    rate_gp = gp.predict(x)[s == 0].mean()
    rate_fair = fair.predict(x)[s == 0].mean()
    # the unprivileged group's acceptance rate rises toward the target ...
    assert rate_fair > rate_gp + 0.05, (rate_gp, rate_fair, target)
    assert abs(rate_fair - target) < abs(rate_gp - target)
    # ... and the privileged group's falls
    assert fair.predict(x)[s == 1].mean() < gp.predict(x)[s == 1].mean()
    hist = fair.history
    assert list(hist["step"])[-1] == 250 and np.isfinite(hist["train_elbo"]).all()


def test_fairgp_star_needs_s_and_probability_is_differentiable():
    x, y, s = _toy(n=200, seed=4)
    clf = fg.FairGP(tl.parity_parameters([0.3, 0.6], "mean"), s_as_input=True, num_inducing=10,
                    batch_size=100, steps=20, progress=False).fit(x, y, s)
    with pytest.raises(ValueError):
        clf.predict(x)
    p = clf.predict_proba(x, s)
    assert p.shape == (200,) and np.all((p > 0) & (p < 1))
    f = clf.proba_function()
    xt = tf.constant(clf.kernel_inputs(x[:5], s[:5]))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = f(xt)
    g = tape.gradient(out, xt).numpy()
    np.testing.assert_allclose(out.numpy(), p[:5], rtol=1e-10)
    # central finite difference on the first feature
    eps = 1e-5
    d = np.zeros_like(xt.numpy())
    d[:, 0] = eps
    fd = (f(xt + d).numpy() - f(xt - d).numpy()) / (2 * eps)
    np.testing.assert_allclose(g[:, 0], fd, rtol=1e-4, atol=1e-8)


def test_group_kernel_is_se_times_a_group_covariance_and_keeps_inducing_s():
    x, y, s = _toy(n=300, seed=5)
    clf = fg.FairGP(tl.parity_parameters([0.3, 0.6], "mean"), s_as_input=True, s_kernel="group",
                    num_inducing=15, batch_size=100, steps=60, learning_rate=0.05, progress=False).fit(x, y, s)
    kern = clf.model.kernel
    Xk = clf.kernel_inputs(x[:6], s[:6])
    # the kernel by hand: SE on the features times B[s, s'] with B = w w^T + diag(kappa)
    ls = kern.kernels[0].lengthscales.numpy()
    var = kern.kernels[0].variance.numpy()
    w, kappa = kern.kernels[1].W.numpy(), kern.kernels[1].kappa.numpy()
    B = w @ w.T + np.diag(kappa)
    d2 = (((Xk[:, None, :2] - Xk[None, :, :2]) / ls) ** 2).sum(-1)
    by_hand = var * np.exp(-0.5 * d2) * B[s[:6][:, None], s[:6][None, :]]
    np.testing.assert_allclose(kern(Xk).numpy(), by_hand, rtol=1e-10)
    # the inducing inputs' s column is still 0/1 after training (the kernel reads it as an index)
    Z = clf.model.inducing_variable.Z.numpy()
    assert np.isin(Z[:, -1], (0.0, 1.0)).all()
    rho = clf.group_correlation()
    np.testing.assert_allclose(rho, B[0, 1] / np.sqrt(B[0, 0] * B[1, 1]))
    assert -1 < rho < 1
    # the paper's reading: the correlation implied by the ARD lengthscale of the s column
    ard = fg.FairGP(None, s_as_input=True, num_inducing=10, batch_size=100, steps=5, progress=False).fit(x, y, s)
    np.testing.assert_allclose(ard.group_correlation(),
                               np.exp(-0.5 / ard.model.kernel.lengthscales.numpy()[-1] ** 2))


def test_group_kernel_bad_input_and_no_sensitivity():
    from fairnotes import audit

    with pytest.raises(ValueError, match="s_as_input=True"):
        fg.FairGP(None, s_kernel="group")
    with pytest.raises(ValueError, match="s_kernel must be one of"):
        fg.FairGP(None, s_as_input=True, s_kernel="rbf")
    with pytest.raises(ValueError, match="only 0 and 1"):
        fg.build_svgp(np.array([[0.1, 0.5], [0.2, 2.0]]), fg.FairGPLikelihood(), num_inducing=2, s_kernel="group")
    x, y, s = _toy(n=120, seed=6)
    plain = fg.FairGP(None, num_inducing=5, batch_size=60, steps=3, progress=False).fit(x, y, s)
    with pytest.raises(ValueError, match="does not read s"):
        plain.group_correlation()
    clf = fg.FairGP(None, s_as_input=True, s_kernel="group", num_inducing=5, batch_size=60, steps=3,
                    progress=False).fit(x, y, s)
    with pytest.raises(ValueError, match="no derivative with respect to s"):
        audit.audit(clf, x, s=s)


def test_stopping_rule_stops_restores_the_best_step_and_needs_validation():
    x, y, s = _toy(n=600, seed=7)
    tr, va = np.arange(400), np.arange(400, 600)
    with pytest.raises(ValueError, match="needs validation"):
        fg.FairGP(None, patience=2, num_inducing=5, steps=10, progress=False).fit(x[tr], y[tr], s[tr])
    with pytest.raises(ValueError, match="patience"):
        fg.FairGP(None, patience=0)
    kw = dict(num_inducing=10, batch_size=100, steps=2000, learning_rate=0.05, seed=0, progress=False)
    clf = fg.FairGP(None, patience=3, **kw).fit(x[tr], y[tr], s[tr], validation=(x[va], y[va], s[va]),
                                                eval_every=10)
    h = clf.history
    assert h["step"].iloc[-1] < 2000                       # it stopped before the most steps
    best = int(h.loc[h["validation_log_density"].idxmax(), "step"])
    assert clf.best_step == best
    assert h["step"].iloc[-1] == best + 3 * 10             # three evaluations without improvement
    # the model holds the best step's parameters: its held-out log density is the best one recorded
    Xv, Yv = tf.constant(x[va]), tf.constant(fg.pack_labels(y[va], s[va]))
    np.testing.assert_allclose(clf.model.predict_log_density((Xv, Yv)).numpy().mean(),
                               h["validation_log_density"].max(), rtol=1e-9)
    # without a rule the validation density is only recorded
    free = fg.FairGP(None, **dict(kw, steps=30)).fit(x[tr], y[tr], s[tr], validation=(x[va], y[va], s[va]),
                                                     eval_every=10)
    assert list(free.history["step"]) == [10, 20, 30] and free.best_step == 30


def test_a_reused_training_step_gives_the_fit_of_a_new_one(monkeypatch):
    # FairGP.fit reuses the compiled step of an earlier fit of the same shape; it must give the
    # numbers of a newly traced step and leave the earlier fitted model alone.
    from collections import OrderedDict

    x, y, s = _toy(n=300, seed=8)
    x2, y2, s2 = _toy(n=300, seed=9)
    P = tl.parity_parameters([0.3, 0.6], "mean")
    kw = dict(num_inducing=10, batch_size=100, steps=60, learning_rate=0.05, progress=False)
    monkeypatch.setattr(fg, "_COMPILED_STEPS", OrderedDict())
    monkeypatch.setattr(fg, "_COMPILED_STEPS_KEPT", 0)              # nothing kept: a new step
    new = fg.FairGP(P, s_as_input=True, seed=0, **kw).fit(x, y, s)
    assert len(fg._COMPILED_STEPS) == 0
    monkeypatch.setattr(fg, "_COMPILED_STEPS_KEPT", 8)
    other = fg.FairGP(None, s_as_input=True, seed=1, **kw).fit(x2, y2, s2)   # other data, parameters, seed
    p_other = other.predict_proba(x2, s2)
    assert len(fg._COMPILED_STEPS) == 1
    reused = fg.FairGP(P, s_as_input=True, seed=0, **kw).fit(x, y, s)      # the step traced for `other`
    assert len(fg._COMPILED_STEPS) == 1
    assert reused.model is not other.model
    for a, b in zip(new.model.variables, reused.model.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(new.history["train_elbo"], reused.history["train_elbo"])
    np.testing.assert_array_equal(other.predict_proba(x2, s2), p_other)
    # another shape traces its own step
    fg.FairGP(P, seed=0, **kw).fit(x, y, s)
    assert len(fg._COMPILED_STEPS) == 2


# ------------------------------------------------------------------- the closed-form predictive density

def _predictive_inputs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    Fmu = rng.normal(0, 3, size=(n, 1))
    Fvar = rng.uniform(1e-4, 4, size=(n, 1))
    y = rng.integers(0, 2, n)
    s = rng.integers(0, 2, n)
    return Fmu, Fvar, y, s


def test_predictive_density_with_identity_parameters_is_bernoullis():
    Fmu, Fvar, y, s = _predictive_inputs()
    X = np.zeros((len(y), 1))
    ours = fg.FairGPLikelihood(tl.identity_parameters()).predict_log_density(X, Fmu, Fvar, fg.pack_labels(y, s))
    theirs = gpflow.likelihoods.Bernoulli().predict_log_density(X, Fmu, Fvar, y[:, None].astype(float))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_predictive_density_is_the_closed_form_and_matches_quadrature_at_small_variance():
    from scipy.stats import norm

    P = np.array([[0.2, 0.9], [0.05, 0.7]])
    Fmu, Fvar, y, s = _predictive_inputs()
    X = np.zeros((len(y), 1))
    lik = fg.FairGPLikelihood(P)
    ours = lik.predict_log_density(X, Fmu, Fvar, fg.pack_labels(y, s)).numpy()
    jitter = 1e-3   # GPflow's inv_probit keeps p in [jitter, 1 - jitter]
    p = jitter + (1 - 2 * jitter) * norm.cdf(Fmu[:, 0] / np.sqrt(1 + Fvar[:, 0]))
    p1 = P[s, 0] * (1 - p) + P[s, 1] * p
    np.testing.assert_allclose(ours, np.log(np.where(y == 1, p1, 1 - p1)), rtol=1e-10)
    # at small variances Gauss-Hermite quadrature (GPflow's default route) agrees with it
    small = np.full_like(Fvar, 1e-6)
    mu = np.clip(Fmu, -2, 2)
    quad = gpflow.likelihoods.ScalarLikelihood._predict_log_density(lik, X, mu, small, fg.pack_labels(y, s)).numpy()
    closed = lik.predict_log_density(X, mu, small, fg.pack_labels(y, s)).numpy()
    np.testing.assert_allclose(closed, quad, atol=1e-6)


def test_debiasing_parameters_do_not_shadow_gpflows_parameters():
    P = np.array([[0.2, 0.9], [0.05, 0.7]])
    lik = fg.FairGPLikelihood(P)
    np.testing.assert_allclose(lik.debiasing_parameters, P)
    assert isinstance(lik.parameters, tuple)   # gpflow.Module.parameters, not ours


def test_history_follows_the_trainers_contract():
    """eval_set and validation recorded every eval_every steps and at the end, as the other trainers do."""
    x, y, s = _toy(n=200, seed=5)
    kw = dict(num_inducing=5, batch_size=50, steps=25, learning_rate=0.05, seed=0, progress=False)
    clf = fg.FairGP(None, **kw).fit(x[:150], y[:150], s[:150], eval_set=(x[150:], y[150:], s[150:]),
                                    eval_every=10, validation=(x[150:], y[150:], s[150:]))
    h = clf.history
    assert h["step"].tolist() == [10, 20, 25]
    assert list(h.columns[:2]) == ["step", "train_elbo"] and h.columns[-1] == "seconds"
    assert {"eval_accuracy", "eval_DI", "eval_PR0", "eval_PR1", "validation_log_density"} <= set(h.columns)
    assert h["eval_accuracy"].iloc[-1] == pytest.approx((clf.predict(x[150:]) == y[150:]).mean())
    with pytest.raises(ValueError, match="eval_every"):
        fg.FairGP(None, **kw).fit(x, y, s, eval_set=(x, y, s), eval_every=0)
    with pytest.raises(ValueError, match=r"eval_set must be a tuple \(X, y, s\)"):
        fg.FairGP(None, **kw).fit(x, y, s, eval_set=(x, y))
