"""fairnotes.counterfactual: the generators' true counterfactuals, and the shifts estimated from data."""

import numpy as np
import pandas as pd
import pytest

from fairnotes import counterfactual as C

GENERATORS = {
    "linear_gaussian": lambda **kw: C.linear_gaussian_scm(**kw),
    "monotone_exp": lambda **kw: C.monotone_scm(**kw),
    "monotone_logistic": lambda **kw: C.monotone_scm(link="logistic", **kw),
    "chain_exp": lambda **kw: C.chain_scm(**kw),
    "chain_identity_confounded": lambda **kw: C.chain_scm(x1_link="identity", age_on_s=1.0, **kw),
}


def logit(p):
    return np.log(p / (1 - p))


def rel_error(estimate, data, j):
    """Median |estimated - true| counterfactual of feature j, over the median size of its true change."""
    est = np.asarray(estimate)[:, j]
    true_change = np.abs(data.X_cf[:, j] - data.X[:, j])
    return float(np.median(np.abs(est - data.X_cf[:, j])) / np.median(true_change))


# ---------------------------------------------------------------------------------------------
# the generators


def test_linear_gaussian_change_is_the_effect_with_sign_by_group():
    b = np.array([1.5, -0.7, 0.0])
    d = C.linear_gaussian_scm(500, effect=b, intercept=(2.0, 0.0, -1.0), noise=(1.0, 2.0, 0.5), seed=1)
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
    d = C.monotone_scm(1000, effect=(1.0, -0.5), seed=3)
    sign = np.where(d.s == 0, 1.0, -1.0)
    assert (d.X > 0).all()
    np.testing.assert_allclose(d.X_cf, d.X * np.exp(np.outer(sign, [1.0, -0.5])), rtol=1e-12)
    # multiplicative: within a group the change differs from person to person
    change = (d.X_cf - d.X)[d.s == 0, 0]
    assert change.std() > 0.5
    d = C.monotone_scm(1000, effect=(1.0, -0.5), intercept=(0.3, -0.2), link="logistic", seed=3)
    assert ((d.X > 0) & (d.X < 1)).all()
    np.testing.assert_allclose(logit(d.X_cf) - logit(d.X), np.outer(sign, [1.0, -0.5]), atol=1e-9)


@pytest.mark.parametrize("link", ["exp", "identity"])
def test_chain_counterfactual(link):
    d = C.chain_scm(2000, x1_link=link, effect_x1=0.8, effect_x2=0.6, x1_on_x2=1.2, age_on_x2=0.5, seed=4)
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
    d = C.chain_scm(4000, x1_link="identity", age_on_s=1.5, seed=5)
    age = d.X[:, 0]
    assert age[d.s == 1].mean() - age[d.s == 0].mean() > 0.8
    np.testing.assert_array_equal(d.X_cf[:, 0], age)
    d0 = C.chain_scm(4000, x1_link="identity", seed=5)
    assert abs(d0.X[d0.s == 1, 0].mean() - d0.X[d0.s == 0, 0].mean()) < 0.1


def test_label_is_logistic_threshold_and_counterfactual_keeps_its_noise():
    d = C.linear_gaussian_scm(4000, effect=(1.0, -0.5), label_weights=(0.8, -0.4), label_s=0.3,
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
    d = C.linear_gaussian_scm(1000, label_weights=0.0, label_s=0.0, seed=7)
    np.testing.assert_array_equal(d.y_cf, d.y)
    # only through the features: a feature that moves with s changes some labels
    d = C.linear_gaussian_scm(1000, effect=(2.0, 0.0), label_weights=(1.0, 0.0), seed=7)
    assert (d.y_cf != d.y).mean() > 0.2
    # only directly: features untouched by s, but the label depends on s
    d = C.linear_gaussian_scm(1000, effect=(0.0, 0.0), label_s=3.0, seed=7)
    np.testing.assert_array_equal(d.X_cf, d.X)
    assert (d.y_cf != d.y).mean() > 0.3
    assert (d.y_cf[d.s == 1] <= d.y[d.s == 1]).all()  # losing the privilege never helps


def test_default_label_intercept_gives_a_moderate_base_rate():
    for kind, make in GENERATORS.items():
        d = make(n=2000, seed=8)
        assert 0.3 < d.y.mean() < 0.7, kind


def test_seeding_is_reproducible_and_uses_no_global_state():
    a = C.chain_scm(300, seed=11)
    np.random.seed(0)
    np.random.random(5)
    b = C.chain_scm(300, seed=11)
    for f in ("X", "X_cf", "s", "y", "y_cf", "U", "u_y"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(C.chain_scm(300, seed=12).X, a.X)
    g = C.chain_scm(300, seed=np.random.default_rng(11))
    np.testing.assert_array_equal(g.X, a.X)  # default_rng(11) is the same stream
    rng = np.random.default_rng(3)
    first, second = C.monotone_scm(100, seed=rng), C.monotone_scm(100, seed=rng)
    assert not np.array_equal(first.X, second.X)  # a Generator is used as it is and advances


def test_generated_arrays_are_read_only_and_repr_is_short():
    d = C.linear_gaussian_scm(50, seed=0)
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
    d = C.linear_gaussian_scm(10, effect=(1.5, -0.5), noise=(1.0, 2.0), seed=0)
    assert "x1   = 1.5 s + u1,   u1 ~ N(0, 1^2)" in d.equations
    assert "x2   = -0.5 s + u2,   u2 ~ N(0, 2^2)" in d.equations
    d = C.monotone_scm(10, effect=(1.0,), link="exp", seed=0)
    assert "x1   = exp(s + u1)" in d.equations
    d = C.chain_scm(10, age_on_s=0.5, seed=0)
    assert "x1   = exp(s + 0.5 age + u1)" in d.equations
    assert "x2   = s + x1 + 0.5 age + u2" in d.equations
    assert "sigmoid(logit(0.5) + 0.5 age)" in d.equations


@pytest.mark.parametrize("call, match", [
    (lambda: C.linear_gaussian_scm(0), "n must be a positive integer"),
    (lambda: C.linear_gaussian_scm(10.5), "n must be a positive integer"),
    (lambda: C.linear_gaussian_scm(10, effect=()), "effect must be a non-empty"),
    (lambda: C.linear_gaussian_scm(10, effect=(1.0, np.nan)), "effect must be finite"),
    (lambda: C.linear_gaussian_scm(10, effect=2.0), "effect must be a sequence"),
    (lambda: C.linear_gaussian_scm(10, effect=(1.0, "a")), "effect must be a number"),
    (lambda: C.linear_gaussian_scm(10, noise=0.0), "noise must be positive"),
    (lambda: C.linear_gaussian_scm(10, noise=(1.0, 1.0)), r"noise must have one value per feature \(3\)"),
    (lambda: C.linear_gaussian_scm(10, intercept=(1.0,)), "intercept must have one value per feature"),
    (lambda: C.linear_gaussian_scm(10, p_privileged=1.0), "p_privileged must be a number strictly between 0 and 1"),
    (lambda: C.linear_gaussian_scm(10, feature_names=("a", "a", "b")), "feature_names must be distinct"),
    (lambda: C.linear_gaussian_scm(10, feature_names=("a", "b")), "feature_names must be 3"),
    (lambda: C.linear_gaussian_scm(10, label_weights=(1.0,)), "label_weights must have one value per feature"),
    (lambda: C.linear_gaussian_scm(10, label_s=np.inf), "label_s must be a finite number"),
    (lambda: C.linear_gaussian_scm(10, label_intercept="0"), "label_intercept must be a finite number"),
    (lambda: C.linear_gaussian_scm(10, seed=-1), "seed must be an integer >= 0 or a numpy.random.Generator"),
    (lambda: C.linear_gaussian_scm(10, seed=1.5), "seed must be"),
    (lambda: C.linear_gaussian_scm(10, seed=None), "seed must be"),
    (lambda: C.monotone_scm(10, link="log"), r"link must be one of \['exp', 'logistic'\]"),
    (lambda: C.monotone_scm(10, noise=-1.0), "noise must be positive"),
    (lambda: C.chain_scm(10, x1_link="logistic"), "x1_link must be one of"),
    (lambda: C.chain_scm(10, effect_x1=np.nan), "effect_x1 must be a finite number"),
    (lambda: C.chain_scm(10, age_on_s=True), "age_on_s must be a finite number"),
    (lambda: C.chain_scm(10, noise=(1.0, 1.0)), r"noise must have one value per feature \(3\)"),
])
def test_generator_parameters_are_validated(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_true_counterfactual_of_new_rows_is_validated():
    d = C.monotone_scm(50, seed=0)
    with pytest.raises(ValueError, match="values <= 0, impossible under the exp link"):
        d.counterfactual(-d.X, d.s)
    with pytest.raises(ValueError, match="X has 3 columns, but this model has 2 features"):
        d.counterfactual(np.ones((50, 3)), d.s)
    with pytest.raises(ValueError, match="length mismatch"):
        d.counterfactual(d.X, d.s[:10])
    with pytest.raises(ValueError, match="X has columns"):
        d.counterfactual(pd.DataFrame(np.array(d.X), columns=["a", "b"]), d.s)
    dl = C.monotone_scm(50, link="logistic", seed=0)
    with pytest.raises(ValueError, match="outside \\(0, 1\\)"):
        dl.counterfactual(dl.X + 1, dl.s)


# ---------------------------------------------------------------------------------------------
# fit_shift: recovering the true counterfactuals


def test_mean_shift_by_hand():
    X = np.array([[1.0, 10.0], [3.0, 20.0], [6.0, 40.0], [8.0, 60.0]])
    s = np.array([0, 0, 1, 1])
    sh = C.fit_shift(X, s, method="mean")  # group means (2, 15) and (7, 50): difference (5, 35)
    out = sh.counterfactual(X, s)
    np.testing.assert_allclose(out, [[6, 45], [8, 55], [1, 5], [3, 25]])
    np.testing.assert_allclose(sh.summary()["s effect"], [5.0, 35.0])


def test_mean_and_linear_recover_the_linear_gaussian_counterfactual():
    d = C.linear_gaussian_scm(2000, effect=(1.5, -0.7, 0.0), seed=21)
    for method in ("mean", "linear"):
        est = C.fit_shift(d.X, d.s, method=method, fixed=2).counterfactual(d.X, d.s)
        # the error is the estimation error of a mean difference: se = sqrt(1/1000 + 1/1000) = 0.045
        assert np.abs(est - d.X_cf).max() < 0.15, method
        np.testing.assert_array_equal(est[:, 2], d.X[:, 2])
    # a sign error (moving the wrong way) or a half shift would be far off
    assert np.abs((2 * d.X - d.X_cf) - d.X_cf).max() > 1.0


MONOTONE = {"exp": dict(effect=(1.0, -0.8), noise=0.5), "logistic": dict(effect=(2.0, -1.5), noise=1.0)}


@pytest.mark.parametrize("link", sorted(MONOTONE))
def test_quantile_is_exact_on_the_monotone_scm_and_mean_is_not(link):
    d = C.monotone_scm(3000, link=link, seed=22, **MONOTONE[link])
    q = C.fit_shift(d.X, d.s, method="quantile").counterfactual(d.X, d.s)
    m = C.fit_shift(d.X, d.s, method="mean").counterfactual(d.X, d.s)
    for j in range(2):
        assert rel_error(q, d, j) < 0.05, (link, j)
        assert rel_error(m, d, j) > 0.15, (link, j)
    # quantile matching makes each group's counterfactuals distributed like the other group
    for g in (0, 1):
        rows = d.s == g
        other = np.quantile(d.X[d.s == 1 - g, 0], np.linspace(0, 1, rows.sum()))
        np.testing.assert_allclose(np.sort(q[rows, 0]), other, rtol=1e-9)
    # new people from the same model (some outside the training range): still close
    new = C.monotone_scm(3000, link=link, seed=23, **MONOTONE[link])
    q_new = C.fit_shift(d.X, d.s, method="quantile").counterfactual(new.X, new.s)
    assert rel_error(q_new, new, 0) < 0.06


def test_chain_needs_the_order_and_a_per_person_map_of_x1():
    # x1 = exp(s + 0.5 age + u1), x2 = s + x1 + 0.5 age + u2, with u2 ~ N(0, 1) as large as u1's effect
    d = C.chain_scm(3000, noise=(1.0, 0.5, 1.0), seed=24)
    F = d.features()
    kw = dict(fixed=d.fixed)
    wrong = {
        "mean": C.fit_shift(F, d.s, method="mean", **kw),
        "linear": C.fit_shift(F, d.s, method="linear", **kw),
        "linear, with order": C.fit_shift(F, d.s, method="linear", order=d.order, **kw),
        "quantile": C.fit_shift(F, d.s, method="quantile", **kw),
        "quantile x1, linear x2, no order": C.fit_shift(F, d.s, method={"x1": "quantile", "x2": "linear"}, **kw),
    }
    right = C.fit_shift(F, d.s, method={"x1": "quantile", "x2": "linear"}, order=["x1", "x2"], **kw)
    est = right.counterfactual(F, d.s)
    assert isinstance(est, pd.DataFrame)
    assert rel_error(est, d, 1) < 0.05 and rel_error(est, d, 2) < 0.05
    for name, sh in wrong.items():
        # quantile comes closest (x2 is mostly x1, one noise term) but stays several times off
        assert rel_error(sh.counterfactual(F, d.s), d, 2) > (0.1 if name == "quantile" else 0.25), name
        # ... although on average over everyone they are all about right
        assert abs((np.asarray(sh.counterfactual(F, d.s))[:, 2] - d.X_cf[:, 2]).mean()) < 0.1, name
    # "linear" with the order does recover the right coefficients of x2's equation
    p = right._params[2]
    np.testing.assert_allclose([p["coef_s"], *p["coef_regressors"]], [1.0, 0.5, 1.0], atol=0.05)


def test_linear_order_changes_nothing_when_every_feature_is_linear():
    # the omitted-variable identity of least squares: exact on any data, here the non-linear chain
    d = C.chain_scm(500, seed=25)
    with_order = C.fit_shift(d.X, d.s, method="linear", fixed=0, order=[1, 2]).counterfactual(d.X, d.s)
    without = C.fit_shift(d.X, d.s, method="linear", fixed=0).counterfactual(d.X, d.s)
    np.testing.assert_allclose(with_order, without, atol=1e-9)
    # and without fixed features "linear" is "mean"
    lin = C.fit_shift(d.X, d.s, method="linear", order=[2, 0, 1]).counterfactual(d.X, d.s)
    np.testing.assert_allclose(lin, C.fit_shift(d.X, d.s, method="mean").counterfactual(d.X, d.s), atol=1e-9)


def test_linear_adjusts_for_fixed_features_that_mean_attributes_to_s():
    d = C.chain_scm(3000, x1_link="identity", age_on_s=1.5, seed=26)  # older people more often s = 1
    F = d.features()
    lin = np.asarray(C.fit_shift(F, d.s, method="linear", fixed="age", order=d.order).counterfactual(F, d.s))
    mean = np.asarray(C.fit_shift(F, d.s, method="mean", fixed="age").counterfactual(F, d.s))
    assert np.abs(lin - d.X_cf).max() < 0.1
    assert np.median(np.abs(mean - d.X_cf)[:, 1:]) > 0.3


@pytest.mark.parametrize("method", [*C.METHODS, {"x1": "quantile", "x2": "linear"}])
def test_fixed_features_are_untouched_and_the_round_trip_gives_back_X(method):
    d = C.chain_scm(400, seed=27)
    F = d.features()
    sh = C.fit_shift(F, d.s, method=method, fixed=["age"], order=["x1", "x2"])
    out = sh.counterfactual(F, d.s)
    np.testing.assert_array_equal(out["age"].to_numpy(), F["age"].to_numpy())
    back = sh.counterfactual(out, 1 - d.s)
    np.testing.assert_allclose(back.to_numpy(), F.to_numpy(), atol=1e-9)


def test_quantile_by_hand_ties_and_outside_the_range():
    # group 0: 0, 0, 1, 2 (positions 0, 1/3, 2/3, 1; the tied 0s share 1/6); group 1: 10, 20, 30, 40
    X = np.array([[0.0], [0.0], [1.0], [2.0], [10.0], [20.0], [30.0], [40.0]])
    s = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    sh = C.fit_shift(X, s, method="quantile")
    np.testing.assert_allclose(sh.counterfactual(X, s)[:, 0], [15, 15, 30, 40, 0, 0, 1, 2])
    new = np.array([[0.5], [1.5], [-1.0], [3.0], [15.0], [5.0], [45.0]])
    s_new = np.array([0, 0, 0, 0, 1, 1, 1])
    # 0.5: rank 1/6 + (2/3 - 1/6) / 2 = 5/12 -> 10 + 10 * 3 * 5/12 = 22.5; 1.5: rank 5/6 -> 35
    # below / above the training range: moved by the gap between the extremes (10 - 0, 40 - 2)
    # 15 in group 1: rank 1/6 -> group 0's quantile at 1/6: half-way between 0 and 0 = 0
    np.testing.assert_allclose(sh.counterfactual(new, s_new)[:, 0], [22.5, 35, 9, 41, 0, -5, 7])


def test_quantile_group_1_by_hand():
    X = np.array([[0.0], [1.0], [2.0], [10.0], [20.0], [30.0], [40.0]])
    s = np.array([0, 0, 0, 1, 1, 1, 1])
    out = C.fit_shift(X, s, method="quantile").counterfactual(X, s)[:, 0]
    # group 0 positions 0, 1/2, 1; group 1 positions 0, 1/3, 2/3, 1
    np.testing.assert_allclose(out, [10, 25, 40, 0, 2 / 3, 4 / 3, 2])


def test_dataframe_in_dataframe_out_and_columns_aligned_by_name():
    d = C.chain_scm(200, seed=28)
    F = d.features()
    F.index = np.arange(1000, 1200)
    sh = C.fit_shift(F, d.s, method="linear", fixed="age", order=["x1", "x2"])
    out = sh.counterfactual(F, d.s)
    assert list(out.columns) == ["age", "x1", "x2"] and (out.index == F.index).all()
    shuffled = F[["x2", "age", "x1"]]
    out2 = sh.counterfactual(shuffled, d.s)
    assert list(out2.columns) == ["x2", "age", "x1"]
    pd.testing.assert_frame_equal(out2[["age", "x1", "x2"]], out)
    # a numpy-fitted shift keeps a DataFrame's labels and works by position
    shn = C.fit_shift(d.X, d.s, method="linear", fixed=[-3], order=[1, 2])
    assert shn.fixed == (0,) and shn.order == (1, 2) and shn.feature_names is None
    np.testing.assert_allclose(shn.counterfactual(F, d.s).to_numpy(), out.to_numpy())
    # rows of one group only
    one = sh.counterfactual(F[d.s == 0], d.s[d.s == 0])
    pd.testing.assert_frame_equal(one, out[d.s == 0])


def test_repr_and_summary():
    d = C.chain_scm(300, seed=29)
    sh = C.fit_shift(d.features(), d.s, method={"x1": "quantile", "x2": "linear"}, fixed="age", order=["x1", "x2"])
    r = repr(sh)
    assert "Shift(method={'x1': 'quantile', 'x2': 'linear'}" in r
    assert "fixed=['age']" in r and "order=['x1', 'x2']" in r
    assert f"group_sizes={{0: {int((d.s == 0).sum())}, 1: {int(d.s.sum())}}}" in r
    t = sh.summary()
    assert t["method"].tolist() == ["fixed", "quantile", "linear"]
    assert t["regressors"].tolist()[2] == "s, age, x1"
    assert sh.methods == ("fixed", "quantile", "linear")
    assert "2 positional" in repr(C.fit_shift(np.ones((4, 2)) * [[1], [2], [3], [5]], [0, 1, 0, 1]))


# ---------------------------------------------------------------------------------------------
# fit_shift: validation


X4 = np.array([[0.0, 1.0, 2.0], [1.0, 3.0, 1.0], [2.0, 2.0, 5.0], [3.0, 5.0, 4.0], [4.0, 4.0, 7.0], [5.0, 7.0, 6.0]])
S4 = np.array([0, 1, 0, 1, 0, 1])
DF = pd.DataFrame(X4, columns=["age", "x1", "x2"])


@pytest.mark.parametrize("kwargs, match", [
    (dict(X=X4, s=np.zeros(6)), "group s=1 is empty"),
    (dict(X=X4, s=np.ones(6)), "group s=0 is empty"),
    (dict(X=X4, s=[0, 1, 2, 1, 0, 1]), r"s must be binary \(0/1\)"),
    (dict(X=X4, s=[0, 1, np.nan, 1, 0, 1]), "s contains NaN"),
    (dict(X=X4, s=S4[:5]), "length mismatch"),
    (dict(X=np.where(X4 == 3.0, np.nan, X4), s=S4), "X contains NaN"),
    (dict(X=X4[:, 0], s=S4), "X must be a 2-D array"),
    (dict(X=X4, s=S4, method="median"), r"method must be one of \['mean', 'linear', 'quantile'\]"),
    (dict(X=X4, s=S4, fixed=3), "fixed index 3 is out of range for X with 3 columns"),
    (dict(X=X4, s=S4, fixed="age"), "X is a numpy array without column names"),
    (dict(X=X4, s=S4, fixed=[0, 0]), "fixed lists a column more than once"),
    (dict(X=DF, s=S4, fixed="height"), "fixed names an unknown column 'height'"),
    (dict(X=DF, s=S4, method="linear", order=["x1", "x3"]), "order names an unknown column 'x3'"),
    (dict(X=DF, s=S4, method="linear", order=["x1", "x2"]),
     r"order must be a permutation of all the non-fixed features; it lacks \['age'\]"),
    (dict(X=DF, s=S4, method="linear", fixed="age", order=["x1"]), r"it lacks \['x2'\]"),
    (dict(X=DF, s=S4, method="linear", fixed="age", order=["x1", "x2", "x1"]), "order lists a column more than once"),
    (dict(X=DF, s=S4, method="linear", fixed="age", order=["age", "x1", "x2"]),
     r"order lists \['age'\], which fixed also lists"),
    (dict(X=X4, s=S4, method="linear", fixed=0, order=[0, 1, 2]), r"order lists \[0\], which fixed also lists"),
    (dict(X=DF, s=S4, method={"x1": "mean"}, fixed="age"), r"gives no method for the non-fixed features \['x2'\]"),
    (dict(X=DF, s=S4, method={"age": "mean", "x1": "mean", "x2": "mean"}, fixed="age"), "fixed lists it"),
    (dict(X=DF, s=S4, method={"x1": "mean", "x2": "cubic"}, fixed="age"), r"method\['x2'\] must be one of"),
    (dict(X=DF, s=S4, method={"x1": "mean", "x9": "mean"}, fixed="age"), "method names an unknown column 'x9'"),
    (dict(X=np.c_[X4, np.ones(6)], s=S4, method="linear", fixed=3),
     "cannot fit feature 0: its regressors .* are collinear"),
    (dict(X=X4[:3], s=[0, 1, 1], method="quantile"), "needs at least 2 rows in each group; group s=0"),
    (dict(X=DF.assign(x3=list("abcdef")), s=S4), r"X has non-numeric columns \['x3'\]"),
    (dict(X=pd.DataFrame(X4, columns=["a", "a", "b"]), s=S4), "X has duplicate column names"),
])
def test_fit_shift_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        C.fit_shift(**kwargs)


def test_fit_shift_type_errors():
    with pytest.raises(TypeError, match="method must be one of .* or a dict"):
        C.fit_shift(X4, S4, method=3)
    with pytest.raises(TypeError, match="fixed must list column indices"):
        C.fit_shift(X4, S4, fixed=[1.0])
    with pytest.raises(TypeError, match="fixed must list column indices"):
        C.fit_shift(X4, S4, fixed=[True])


def test_applying_a_shift_to_other_columns_is_refused():
    sh = C.fit_shift(DF, S4, method="linear", fixed="age", order=["x1", "x2"])
    with pytest.raises(ValueError, match=r"missing \['x2'\], unexpected \['x3'\]"):
        sh.counterfactual(DF.rename(columns={"x2": "x3"}), S4)
    with pytest.raises(ValueError, match=r"missing \['x2'\], unexpected \[\]"):
        sh.counterfactual(DF[["age", "x1"]], S4)
    with pytest.raises(TypeError, match="fitted on a DataFrame with columns"):
        sh.counterfactual(X4, S4)
    with pytest.raises(ValueError, match="length mismatch"):
        sh.counterfactual(DF, S4[:4])
    with pytest.raises(ValueError, match=r"s must be binary"):
        sh.counterfactual(DF, S4 * 2)
    with pytest.raises(ValueError, match="X contains NaN"):
        sh.counterfactual(DF.where(DF > 0), S4)
    shn = C.fit_shift(X4, S4, method="mean")
    with pytest.raises(ValueError, match="X has 2 columns, but the shift was fitted on 3"):
        shn.counterfactual(X4[:, :2], S4)
    with pytest.raises(ValueError, match="X has 4 columns, but the shift was fitted on 3"):
        shn.counterfactual(pd.DataFrame(np.c_[X4, X4[:, :1]]), S4)


def test_order_is_accepted_and_ignored_by_mean_and_quantile():
    d = C.chain_scm(300, seed=30)
    for method in ("mean", "quantile"):
        a = C.fit_shift(d.X, d.s, method=method, fixed=0, order=[2, 1]).counterfactual(d.X, d.s)
        b = C.fit_shift(d.X, d.s, method=method, fixed=0).counterfactual(d.X, d.s)
        np.testing.assert_array_equal(a, b)
    # a dict method by column index, for a numpy X
    sh = C.fit_shift(d.X, d.s, method={1: "quantile", -1: "linear"}, fixed=0, order=[1, 2])
    assert sh.methods == ("fixed", "quantile", "linear") and sh.method == {1: "quantile", 2: "linear"}


def test_true_counterfactual_of_a_dataframe_is_a_dataframe():
    d = C.chain_scm(100, seed=31)
    F = d.features()
    F.index = np.arange(100, 200)
    out = d.counterfactual(F, d.s)
    assert isinstance(out, pd.DataFrame) and (out.index == F.index).all()
    np.testing.assert_allclose(out.to_numpy(), d.X_cf, atol=1e-10)
    p = d.label_probability(d.X, d.s)
    assert p.shape == (100,) and ((p > 0) & (p < 1)).all()


def test_applying_a_shift_to_non_numeric_columns_is_refused():
    sh = C.fit_shift(DF, S4, method="mean")
    with pytest.raises(ValueError, match=r"X has non-numeric columns \['x1'\]"):
        sh.counterfactual(DF.assign(x1=list("abcdef")), S4)
    with pytest.raises(ValueError, match="X has duplicate column names"):
        sh.counterfactual(pd.concat([DF, DF[["x1"]]], axis=1), S4)
