"""fairnotes.scm: the structural causal models' generators and their true counterfactuals."""

import numpy as np
import pandas as pd
import pytest

from fairnotes import scm

GENERATORS = {
    "linear_gaussian": lambda **kw: scm.linear_gaussian_scm(**kw),
    "monotone_exp": lambda **kw: scm.monotone_scm(**kw),
    "monotone_logistic": lambda **kw: scm.monotone_scm(link="logistic", **kw),
    "chain_exp": lambda **kw: scm.chain_scm(**kw),
    "chain_identity_confounded": lambda **kw: scm.chain_scm(x1_link="identity", age_on_s=1.0, **kw),
}


def logit(p):
    return np.log(p / (1 - p))


# ---------------------------------------------------------------------------------------------
# the generators


def test_linear_gaussian_change_is_the_effect_with_sign_by_group():
    b = np.array([1.5, -0.7, 0.0])
    d = scm.linear_gaussian_scm(500, effect=b, intercept=(2.0, 0.0, -1.0), noise=(1.0, 2.0, 0.5), seed=1)
    sign = np.where(d.s == 0, 1.0, -1.0)  # s_cf - s: +1 for the unprivileged, -1 for the privileged
    np.testing.assert_allclose(d.X_cf - d.X, np.outer(sign, b), atol=1e-12)
    # by hand for two people, one of each group
    i0, i1 = np.flatnonzero(d.s == 0)[0], np.flatnonzero(d.s == 1)[0]
    np.testing.assert_allclose(d.X_cf[i0] - d.X[i0], [1.5, -0.7, 0.0], atol=1e-12)
    np.testing.assert_allclose(d.X_cf[i1] - d.X[i1], [-1.5, 0.7, 0.0], atol=1e-12)
    assert d.fixed == ("x3",) and d.order == ("x1", "x2")
    np.testing.assert_array_equal(d.s_cf, 1 - d.s)
    # X = a + b s + U
    np.testing.assert_allclose(d.X, np.array([2.0, 0.0, -1.0]) + np.outer(d.s, b) + d.U, atol=1e-12)
    np.testing.assert_allclose(d.U.std(axis=0), [1.0, 2.0, 0.5], rtol=0.1)


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_flipping_twice_gives_back_X(kind):
    d = GENERATORS[kind](n=400, seed=2)
    np.testing.assert_allclose(d.counterfactual(d.X, d.s), d.X_cf, atol=1e-10)
    np.testing.assert_allclose(d.counterfactual(d.X_cf, d.s_cf), d.X, atol=1e-10)
    # abduction recovers the same noise in both worlds
    np.testing.assert_allclose(d.noise(d.X, d.s), d.U, atol=1e-10)
    np.testing.assert_allclose(d.noise(d.X_cf, d.s_cf), d.U, atol=1e-10)
    # the fixed features never change; everything else does for someone
    fixed = [d.feature_names.index(f) for f in d.fixed]
    np.testing.assert_array_equal(d.X_cf[:, fixed], d.X[:, fixed])
    moved = [j for j in range(len(d.feature_names)) if j not in fixed]
    assert (np.abs(d.X_cf[:, moved] - d.X[:, moved]) > 1e-3).all()
    assert set(d.fixed) | set(d.order) == set(d.feature_names) and not set(d.fixed) & set(d.order)


def test_monotone_counterfactuals():
    d = scm.monotone_scm(1000, effect=(1.0, -0.5), seed=3)
    sign = np.where(d.s == 0, 1.0, -1.0)
    assert (d.X > 0).all()
    np.testing.assert_allclose(d.X_cf, d.X * np.exp(np.outer(sign, [1.0, -0.5])), rtol=1e-12)
    # multiplicative: within a group the change differs from person to person
    change = (d.X_cf - d.X)[d.s == 0, 0]
    assert change.std() > 0.5
    d = scm.monotone_scm(1000, effect=(1.0, -0.5), intercept=(0.3, -0.2), link="logistic", seed=3)
    assert ((d.X > 0) & (d.X < 1)).all()
    np.testing.assert_allclose(logit(d.X_cf) - logit(d.X), np.outer(sign, [1.0, -0.5]), atol=1e-9)


@pytest.mark.parametrize("link", ["exp", "identity"])
def test_chain_counterfactual(link):
    d = scm.chain_scm(2000, x1_link=link, effect_x1=0.8, effect_x2=0.6, x1_on_x2=1.2, age_on_x2=0.5, seed=4)
    assert d.feature_names == ("age", "x1", "x2") and d.fixed == ("age",) and d.order == ("x1", "x2")
    sign = np.where(d.s == 0, 1.0, -1.0)
    age, x1, x2 = d.X.T
    age_cf, x1_cf, x2_cf = d.X_cf.T
    np.testing.assert_array_equal(age_cf, age)
    if link == "exp":
        np.testing.assert_allclose(x1_cf, x1 * np.exp(0.8 * sign), rtol=1e-12)
    else:
        np.testing.assert_allclose(x1_cf - x1, 0.8 * sign, atol=1e-12)
    # x2's change goes through x1's
    np.testing.assert_allclose(x2_cf - x2, 0.6 * sign + 1.2 * (x1_cf - x1), atol=1e-10)
    spread = (x2_cf - x2)[d.s == 1].std()
    if link == "exp":
        assert spread > 0.5  # person to person
    else:
        assert spread < 1e-10  # the same for the whole group: (0.6 + 1.2 * 0.8) (1 - 2 s)
        np.testing.assert_allclose(x2_cf - x2, (0.6 + 1.2 * 0.8) * sign, atol=1e-10)


def test_chain_confounding_makes_age_differ_by_group_and_leaves_it_fixed():
    d = scm.chain_scm(4000, x1_link="identity", age_on_s=1.5, seed=5)
    age = d.X[:, 0]
    assert age[d.s == 1].mean() - age[d.s == 0].mean() > 0.8
    np.testing.assert_array_equal(d.X_cf[:, 0], age)
    d0 = scm.chain_scm(4000, x1_link="identity", seed=5)
    assert abs(d0.X[d0.s == 1, 0].mean() - d0.X[d0.s == 0, 0].mean()) < 0.1


def test_label_is_logistic_threshold_and_counterfactual_keeps_its_noise():
    d = scm.linear_gaussian_scm(4000, effect=(1.0, -0.5), label_weights=(0.8, -0.4), label_s=0.3,
                              label_intercept=-0.2, seed=6)
    eta = d.X @ np.array([0.8, -0.4]) + 0.3 * d.s - 0.2
    np.testing.assert_array_equal(d.y, (eta + d.u_y > 0).astype(int))
    eta_cf = d.X_cf @ np.array([0.8, -0.4]) + 0.3 * d.s_cf - 0.2
    np.testing.assert_array_equal(d.y_cf, (eta_cf + d.u_y > 0).astype(int))
    p = d.label_probability(d.X, d.s)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-eta)), atol=1e-12)
    # y ~ Bernoulli(p): the observed rate is the mean probability, to sampling error
    assert abs(d.y.mean() - p.mean()) < 3 * np.sqrt(0.25 / d.n)
    assert d.y.dtype == np.int64 and set(np.unique(d.y)) == {0, 1}
    assert "Logistic(0, 1)" in d.equations and "0.3 s" in d.equations


def test_label_through_features_or_directly_through_s():
    # no direct effect, no features in the label: the counterfactual label is the label
    d = scm.linear_gaussian_scm(1000, label_weights=0.0, label_s=0.0, seed=7)
    np.testing.assert_array_equal(d.y_cf, d.y)
    # only through the features: a feature that moves with s changes some labels
    d = scm.linear_gaussian_scm(1000, effect=(2.0, 0.0), label_weights=(1.0, 0.0), seed=7)
    assert (d.y_cf != d.y).mean() > 0.2
    # only directly: features untouched by s, but the label depends on s
    d = scm.linear_gaussian_scm(1000, effect=(0.0, 0.0), label_s=3.0, seed=7)
    np.testing.assert_array_equal(d.X_cf, d.X)
    assert (d.y_cf != d.y).mean() > 0.3
    assert (d.y_cf[d.s == 1] <= d.y[d.s == 1]).all()  # losing the privilege never helps


def test_default_label_intercept_gives_a_moderate_base_rate():
    for kind, make in GENERATORS.items():
        d = make(n=2000, seed=8)
        assert 0.3 < d.y.mean() < 0.7, kind


def test_seeding_is_reproducible_and_uses_no_global_state():
    a = scm.chain_scm(300, seed=11)
    np.random.seed(0)
    np.random.random(5)
    b = scm.chain_scm(300, seed=11)
    for f in ("X", "X_cf", "s", "y", "y_cf", "U", "u_y"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(scm.chain_scm(300, seed=12).X, a.X)
    g = scm.chain_scm(300, seed=np.random.default_rng(11))
    np.testing.assert_array_equal(g.X, a.X)  # default_rng(11) is the same stream
    rng = np.random.default_rng(3)
    first, second = scm.monotone_scm(100, seed=rng), scm.monotone_scm(100, seed=rng)
    assert not np.array_equal(first.X, second.X)  # a Generator is used as it is and advances


def test_generated_arrays_are_read_only_and_repr_is_short():
    d = scm.linear_gaussian_scm(50, seed=0)
    with pytest.raises(ValueError):
        d.X[0, 0] = 1.0
    with pytest.raises(AttributeError):
        d.X = np.zeros((50, 3))
    r = repr(d)
    assert "linear_gaussian" in r and "n=50" in r and len(r) < 300
    frame = d.to_frame()
    assert list(frame.columns) == ["x1", "x2", "x3", "s", "y", "x1_cf", "x2_cf", "x3_cf", "s_cf", "y_cf"]
    np.testing.assert_array_equal(d.features(counterfactual=True).to_numpy(), d.X_cf)


def test_equations_text():
    d = scm.linear_gaussian_scm(10, effect=(1.5, -0.5), noise=(1.0, 2.0), seed=0)
    assert "x1   = 1.5 s + u1,   u1 ~ N(0, 1^2)" in d.equations
    assert "x2   = -0.5 s + u2,   u2 ~ N(0, 2^2)" in d.equations
    d = scm.monotone_scm(10, effect=(1.0,), link="exp", seed=0)
    assert "x1   = exp(s + u1)" in d.equations
    d = scm.chain_scm(10, age_on_s=0.5, seed=0)
    assert "x1   = exp(s + 0.5 age + u1)" in d.equations
    assert "x2   = s + x1 + 0.5 age + u2" in d.equations
    assert "sigmoid(logit(0.5) + 0.5 age)" in d.equations


@pytest.mark.parametrize("call, match", [
    (lambda: scm.linear_gaussian_scm(0), "n must be a positive integer"),
    (lambda: scm.linear_gaussian_scm(10.5), "n must be a positive integer"),
    (lambda: scm.linear_gaussian_scm(10, effect=()), "effect must be a non-empty"),
    (lambda: scm.linear_gaussian_scm(10, effect=(1.0, np.nan)), "effect must be finite"),
    (lambda: scm.linear_gaussian_scm(10, effect=2.0), "effect must be a sequence"),
    (lambda: scm.linear_gaussian_scm(10, effect=(1.0, "a")), "effect must be a number"),
    (lambda: scm.linear_gaussian_scm(10, noise=0.0), "noise must be positive"),
    (lambda: scm.linear_gaussian_scm(10, noise=(1.0, 1.0)), r"noise must have one value per feature \(3\)"),
    (lambda: scm.linear_gaussian_scm(10, intercept=(1.0,)), "intercept must have one value per feature"),
    (lambda: scm.linear_gaussian_scm(10, p_privileged=1.0), "p_privileged must be a number strictly between 0 and 1"),
    (lambda: scm.linear_gaussian_scm(10, feature_names=("a", "a", "b")), "feature_names must be distinct"),
    (lambda: scm.linear_gaussian_scm(10, feature_names=("a", "b")), "feature_names must be 3"),
    (lambda: scm.linear_gaussian_scm(10, label_weights=(1.0,)), "label_weights must have one value per feature"),
    (lambda: scm.linear_gaussian_scm(10, label_s=np.inf), "label_s must be a finite number"),
    (lambda: scm.linear_gaussian_scm(10, label_intercept="0"), "label_intercept must be a finite number"),
    (lambda: scm.linear_gaussian_scm(10, seed=-1), "seed must be an integer >= 0 or a numpy.random.Generator"),
    (lambda: scm.linear_gaussian_scm(10, seed=1.5), "seed must be"),
    (lambda: scm.linear_gaussian_scm(10, seed=None), "seed must be"),
    (lambda: scm.monotone_scm(10, link="log"), r"link must be one of \['exp', 'logistic'\]"),
    (lambda: scm.monotone_scm(10, noise=-1.0), "noise must be positive"),
    (lambda: scm.chain_scm(10, x1_link="logistic"), "x1_link must be one of"),
    (lambda: scm.chain_scm(10, effect_x1=np.nan), "effect_x1 must be a finite number"),
    (lambda: scm.chain_scm(10, age_on_s=True), "age_on_s must be a finite number"),
    (lambda: scm.chain_scm(10, noise=(1.0, 1.0)), r"noise must have one value per feature \(3\)"),
])
def test_generator_parameters_are_validated(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_true_counterfactual_of_new_rows_is_validated():
    d = scm.monotone_scm(50, seed=0)
    with pytest.raises(ValueError, match="values <= 0, impossible under the exp link"):
        d.counterfactual(-d.X, d.s)
    with pytest.raises(ValueError, match="X has 3 columns, but this model has 2 features"):
        d.counterfactual(np.ones((50, 3)), d.s)
    with pytest.raises(ValueError, match="length mismatch"):
        d.counterfactual(d.X, d.s[:10])
    with pytest.raises(ValueError, match="X has columns"):
        d.counterfactual(pd.DataFrame(np.array(d.X), columns=["a", "b"]), d.s)
    dl = scm.monotone_scm(50, link="logistic", seed=0)
    with pytest.raises(ValueError, match="outside \\(0, 1\\)"):
        dl.counterfactual(dl.X + 1, dl.s)


