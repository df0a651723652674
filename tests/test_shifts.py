"""fairnotes.shifts: counterfactuals estimated from data, checked against the true ones of fairnotes.scm."""

import numpy as np
import pandas as pd
import pytest

from fairnotes import scm, shifts


def rel_error(estimate, data, j):
    """Median |estimated - true| counterfactual of feature j, over the median size of its true change."""
    est = np.asarray(estimate)[:, j]
    true_change = np.abs(data.X_cf[:, j] - data.X[:, j])
    return float(np.median(np.abs(est - data.X_cf[:, j])) / np.median(true_change))


# ---------------------------------------------------------------------------------------------
# fit_shift: recovering the true counterfactuals


def test_mean_shift_by_hand():
    X = np.array([[1.0, 10.0], [3.0, 20.0], [6.0, 40.0], [8.0, 60.0]])
    s = np.array([0, 0, 1, 1])
    sh = shifts.fit_shift(X, s, method="mean")  # group means (2, 15) and (7, 50): difference (5, 35)
    out = sh.counterfactual(X, s)
    np.testing.assert_allclose(out, [[6, 45], [8, 55], [1, 5], [3, 25]])
    np.testing.assert_allclose(sh.summary()["s effect"], [5.0, 35.0])


def test_mean_and_linear_recover_the_linear_gaussian_counterfactual():
    d = scm.linear_gaussian_scm(2000, effect=(1.5, -0.7, 0.0), seed=21)
    for method in ("mean", "linear"):
        est = shifts.fit_shift(d.X, d.s, method=method, fixed=2).counterfactual(d.X, d.s)
        # the error is the estimation error of a mean difference: se = sqrt(1/1000 + 1/1000) = 0.045
        assert np.abs(est - d.X_cf).max() < 0.15, method
        np.testing.assert_array_equal(est[:, 2], d.X[:, 2])
    # a sign error (moving the wrong way) or a half shift would be far off
    assert np.abs((2 * d.X - d.X_cf) - d.X_cf).max() > 1.0


MONOTONE = {"exp": dict(effect=(1.0, -0.8), noise=0.5), "logistic": dict(effect=(2.0, -1.5), noise=1.0)}


@pytest.mark.parametrize("link", sorted(MONOTONE))
def test_quantile_is_exact_on_the_monotone_scm_and_mean_is_not(link):
    d = scm.monotone_scm(3000, link=link, seed=22, **MONOTONE[link])
    q = shifts.fit_shift(d.X, d.s, method="quantile").counterfactual(d.X, d.s)
    m = shifts.fit_shift(d.X, d.s, method="mean").counterfactual(d.X, d.s)
    for j in range(2):
        assert rel_error(q, d, j) < 0.05, (link, j)
        assert rel_error(m, d, j) > 0.15, (link, j)
    # quantile matching makes each group's counterfactuals distributed like the other group
    for g in (0, 1):
        rows = d.s == g
        other = np.quantile(d.X[d.s == 1 - g, 0], np.linspace(0, 1, rows.sum()))
        np.testing.assert_allclose(np.sort(q[rows, 0]), other, rtol=1e-9)
    # new people from the same model (some outside the training range): still close
    new = scm.monotone_scm(3000, link=link, seed=23, **MONOTONE[link])
    q_new = shifts.fit_shift(d.X, d.s, method="quantile").counterfactual(new.X, new.s)
    assert rel_error(q_new, new, 0) < 0.06


def test_chain_needs_the_order_and_a_per_person_map_of_x1():
    # x1 = exp(s + 0.5 age + u1), x2 = s + x1 + 0.5 age + u2, with u2 ~ N(0, 1) as large as u1's effect
    d = scm.chain_scm(3000, noise=(1.0, 0.5, 1.0), seed=24)
    F = d.features()
    kw = dict(fixed=d.fixed)
    wrong = {
        "mean": shifts.fit_shift(F, d.s, method="mean", **kw),
        "linear": shifts.fit_shift(F, d.s, method="linear", **kw),
        "linear, with order": shifts.fit_shift(F, d.s, method="linear", order=d.order, **kw),
        "quantile": shifts.fit_shift(F, d.s, method="quantile", **kw),
        "quantile x1, linear x2, no order": shifts.fit_shift(F, d.s, method={"x1": "quantile", "x2": "linear"}, **kw),
    }
    right = shifts.fit_shift(F, d.s, method={"x1": "quantile", "x2": "linear"}, order=["x1", "x2"], **kw)
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
    d = scm.chain_scm(500, seed=25)
    with_order = shifts.fit_shift(d.X, d.s, method="linear", fixed=0, order=[1, 2]).counterfactual(d.X, d.s)
    without = shifts.fit_shift(d.X, d.s, method="linear", fixed=0).counterfactual(d.X, d.s)
    np.testing.assert_allclose(with_order, without, atol=1e-9)
    # and without fixed features "linear" is "mean"
    lin = shifts.fit_shift(d.X, d.s, method="linear", order=[2, 0, 1]).counterfactual(d.X, d.s)
    np.testing.assert_allclose(lin, shifts.fit_shift(d.X, d.s, method="mean").counterfactual(d.X, d.s), atol=1e-9)


def test_linear_adjusts_for_fixed_features_that_mean_attributes_to_s():
    d = scm.chain_scm(3000, x1_link="identity", age_on_s=1.5, seed=26)  # older people more often s = 1
    F = d.features()
    lin = np.asarray(shifts.fit_shift(F, d.s, method="linear", fixed="age", order=d.order).counterfactual(F, d.s))
    mean = np.asarray(shifts.fit_shift(F, d.s, method="mean", fixed="age").counterfactual(F, d.s))
    assert np.abs(lin - d.X_cf).max() < 0.1
    assert np.median(np.abs(mean - d.X_cf)[:, 1:]) > 0.3


@pytest.mark.parametrize("method", [*shifts.METHODS, {"x1": "quantile", "x2": "linear"}])
def test_fixed_features_are_untouched_and_the_round_trip_gives_back_X(method):
    d = scm.chain_scm(400, seed=27)
    F = d.features()
    sh = shifts.fit_shift(F, d.s, method=method, fixed=["age"], order=["x1", "x2"])
    out = sh.counterfactual(F, d.s)
    np.testing.assert_array_equal(out["age"].to_numpy(), F["age"].to_numpy())
    back = sh.counterfactual(out, 1 - d.s)
    np.testing.assert_allclose(back.to_numpy(), F.to_numpy(), atol=1e-9)


def test_quantile_by_hand_ties_and_outside_the_range():
    # group 0: 0, 0, 1, 2 (positions 0, 1/3, 2/3, 1; the tied 0s share 1/6); group 1: 10, 20, 30, 40
    X = np.array([[0.0], [0.0], [1.0], [2.0], [10.0], [20.0], [30.0], [40.0]])
    s = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    sh = shifts.fit_shift(X, s, method="quantile")
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
    out = shifts.fit_shift(X, s, method="quantile").counterfactual(X, s)[:, 0]
    # group 0 positions 0, 1/2, 1; group 1 positions 0, 1/3, 2/3, 1
    np.testing.assert_allclose(out, [10, 25, 40, 0, 2 / 3, 4 / 3, 2])


def test_dataframe_in_dataframe_out_and_columns_aligned_by_name():
    d = scm.chain_scm(200, seed=28)
    F = d.features()
    F.index = np.arange(1000, 1200)
    sh = shifts.fit_shift(F, d.s, method="linear", fixed="age", order=["x1", "x2"])
    out = sh.counterfactual(F, d.s)
    assert list(out.columns) == ["age", "x1", "x2"] and (out.index == F.index).all()
    shuffled = F[["x2", "age", "x1"]]
    out2 = sh.counterfactual(shuffled, d.s)
    assert list(out2.columns) == ["x2", "age", "x1"]
    pd.testing.assert_frame_equal(out2[["age", "x1", "x2"]], out)
    # a numpy-fitted shift keeps a DataFrame's labels and works by position
    shn = shifts.fit_shift(d.X, d.s, method="linear", fixed=[-3], order=[1, 2])
    assert shn.fixed == (0,) and shn.order == (1, 2) and shn.feature_names is None
    np.testing.assert_allclose(shn.counterfactual(F, d.s).to_numpy(), out.to_numpy())
    # rows of one group only
    one = sh.counterfactual(F[d.s == 0], d.s[d.s == 0])
    pd.testing.assert_frame_equal(one, out[d.s == 0])


def test_repr_and_summary():
    d = scm.chain_scm(300, seed=29)
    sh = shifts.fit_shift(d.features(), d.s, method={"x1": "quantile", "x2": "linear"}, fixed="age", order=["x1", "x2"])
    r = repr(sh)
    assert "Shift(method={'x1': 'quantile', 'x2': 'linear'}" in r
    assert "fixed=['age']" in r and "order=['x1', 'x2']" in r
    assert f"group_sizes={{0: {int((d.s == 0).sum())}, 1: {int(d.s.sum())}}}" in r
    t = sh.summary()
    assert t["method"].tolist() == ["fixed", "quantile", "linear"]
    assert t["regressors"].tolist()[2] == "s, age, x1"
    assert sh.methods == ("fixed", "quantile", "linear")
    assert "2 positional" in repr(shifts.fit_shift(np.ones((4, 2)) * [[1], [2], [3], [5]], [0, 1, 0, 1]))


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
        shifts.fit_shift(**kwargs)


def test_fit_shift_type_errors():
    with pytest.raises(TypeError, match="method must be one of .* or a dict"):
        shifts.fit_shift(X4, S4, method=3)
    with pytest.raises(TypeError, match="fixed must list column indices"):
        shifts.fit_shift(X4, S4, fixed=[1.0])
    with pytest.raises(TypeError, match="fixed must list column indices"):
        shifts.fit_shift(X4, S4, fixed=[True])


def test_applying_a_shift_to_other_columns_is_refused():
    sh = shifts.fit_shift(DF, S4, method="linear", fixed="age", order=["x1", "x2"])
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
    shn = shifts.fit_shift(X4, S4, method="mean")
    with pytest.raises(ValueError, match="X has 2 columns, but the shift was fitted on 3"):
        shn.counterfactual(X4[:, :2], S4)
    with pytest.raises(ValueError, match="X has 4 columns, but the shift was fitted on 3"):
        shn.counterfactual(pd.DataFrame(np.c_[X4, X4[:, :1]]), S4)


def test_order_is_accepted_and_ignored_by_mean_and_quantile():
    d = scm.chain_scm(300, seed=30)
    for method in ("mean", "quantile"):
        a = shifts.fit_shift(d.X, d.s, method=method, fixed=0, order=[2, 1]).counterfactual(d.X, d.s)
        b = shifts.fit_shift(d.X, d.s, method=method, fixed=0).counterfactual(d.X, d.s)
        np.testing.assert_array_equal(a, b)
    # a dict method by column index, for a numpy X
    sh = shifts.fit_shift(d.X, d.s, method={1: "quantile", -1: "linear"}, fixed=0, order=[1, 2])
    assert sh.methods == ("fixed", "quantile", "linear") and sh.method == {1: "quantile", 2: "linear"}


def test_true_counterfactual_of_a_dataframe_is_a_dataframe():
    d = scm.chain_scm(100, seed=31)
    F = d.features()
    F.index = np.arange(100, 200)
    out = d.counterfactual(F, d.s)
    assert isinstance(out, pd.DataFrame) and (out.index == F.index).all()
    np.testing.assert_allclose(out.to_numpy(), d.X_cf, atol=1e-10)
    p = d.label_probability(d.X, d.s)
    assert p.shape == (100,) and ((p > 0) & (p < 1)).all()


def test_applying_a_shift_to_non_numeric_columns_is_refused():
    sh = shifts.fit_shift(DF, S4, method="mean")
    with pytest.raises(ValueError, match=r"X has non-numeric columns \['x1'\]"):
        sh.counterfactual(DF.assign(x1=list("abcdef")), S4)
    with pytest.raises(ValueError, match="X has duplicate column names"):
        sh.counterfactual(pd.concat([DF, DF[["x1"]]], axis=1), S4)


# ---------------------------------------------------------------------------------------------
# the protocol an audit reads a shift through


def test_shifts_and_the_true_counterfactuals_follow_the_protocol():
    data = scm.chain_scm(300, seed=0)
    for method in (*shifts.METHODS, {"x1": "quantile", "x2": "linear"}):
        sh = shifts.fit_shift(data.features(), data.s, method=method, fixed=["age"])
        assert isinstance(sh, shifts.CounterfactualMap)
        assert sh.n_features == 3
        assert sh.describe() == (f"method {method!r}" if isinstance(method, str) else "one method per feature")
    assert isinstance(data, shifts.CounterfactualMap)
    assert data.n_features == len(data.feature_names) == data.X.shape[1]
    assert "'chain'" in data.describe() and "true" in data.describe()
    np.testing.assert_allclose(data.counterfactual(data.X, data.s), data.X_cf)


def test_what_lacks_a_member_of_the_protocol_does_not_follow_it():
    sh = shifts.fit_shift(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])

    class NoDescribe:
        n_features = 1

        def counterfactual(self, X, s):
            return sh.counterfactual(X, s)

    class NoWidth:
        def counterfactual(self, X, s):
            return sh.counterfactual(X, s)

        def describe(self):
            return "no width"

    assert not isinstance(NoDescribe(), shifts.CounterfactualMap)
    assert not isinstance(NoWidth(), shifts.CounterfactualMap)
    assert not isinstance("mean", shifts.CounterfactualMap)
