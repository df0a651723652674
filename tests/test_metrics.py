"""Group metrics on small hand-computed cases and their edge cases."""

import numpy as np
import pandas as pd
import pytest

from fairnotes import metrics as M

# Hand-made case: 10 people, s = 0 for the first 4 (unprivileged), s = 1 for the other 6.
Y_TRUE = np.array([1, 1, 0, 0, 1, 1, 1, 0, 0, 0])
Y_PRED = np.array([1, 0, 0, 0, 1, 1, 0, 1, 0, 0])
S = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
# by hand:
# group 0: y_pred 1,0,0,0 -> S_0 = 1/4; positives (y=1) rows 0,1 -> TPR_0 = 1/2; negatives rows 2,3 -> FPR_0 = 0
# group 1: y_pred 1,1,0,1,0,0 -> S_1 = 3/6 = 1/2; positives rows 4,5,6 -> TPR_1 = 2/3;
#          negatives rows 7,8,9 -> FPR_1 = 1/3


def test_selection_rate():
    assert M.selection_rate(Y_TRUE, Y_PRED) == pytest.approx(0.4)
    assert M.selection_rate(None, Y_PRED) == pytest.approx(0.4)
    assert M.selection_rate(Y_TRUE, Y_PRED, s=S) == pytest.approx({0: 0.25, 1: 0.5})


def test_disparate_impact_and_parity_difference():
    assert M.disparate_impact(Y_TRUE, Y_PRED, s=S) == pytest.approx(0.5)
    assert M.statistical_parity_difference(Y_TRUE, Y_PRED, s=S) == pytest.approx(-0.25)


def test_metrics_of_predictions_alone_do_not_use_y_true():
    # y_true only has to have one value per prediction: other labels, or none, give the same value
    for fn in (M.disparate_impact, M.statistical_parity_difference, M.p_percent_rule):
        assert fn(Y_TRUE, Y_PRED, s=S) == fn(1 - Y_TRUE, Y_PRED, s=S) == fn(None, Y_PRED, s=S)
    assert M.selection_rate(Y_TRUE, Y_PRED, s=S) == M.selection_rate(None, Y_PRED, s=S)
    with pytest.raises(ValueError, match="length mismatch"):
        M.p_percent_rule(Y_TRUE[:-1], Y_PRED, s=S)
    with pytest.raises(ValueError, match="length mismatch"):
        M.selection_rate(Y_TRUE[:-1], Y_PRED)


def test_s_is_keyword_only():
    # fairlearn's signature (y_true, y_pred, *, s): a third positional argument is refused
    for fn in (M.disparate_impact, M.true_positive_rate, M.ntpr_diff, M.group_report, M.prediction_summary):
        with pytest.raises(TypeError):
            fn(Y_TRUE, Y_PRED, S)
    with pytest.raises(TypeError):
        M.disparate_impact(Y_TRUE, Y_PRED)          # s is required where the metric is per group


def test_rates():
    assert M.true_positive_rate(Y_TRUE, Y_PRED, s=S) == pytest.approx({0: 0.5, 1: 2 / 3})
    assert M.false_positive_rate(Y_TRUE, Y_PRED, s=S) == pytest.approx({0: 0.0, 1: 1 / 3})
    assert M.true_negative_rate(Y_TRUE, Y_PRED, s=S) == pytest.approx({0: 1.0, 1: 2 / 3})


def test_equal_opportunity_and_average_odds():
    assert M.equal_opportunity_difference(Y_TRUE, Y_PRED, s=S) == pytest.approx(0.5 - 2 / 3)
    assert M.average_odds_difference(Y_TRUE, Y_PRED, s=S) == pytest.approx(((0 - 1 / 3) + (0.5 - 2 / 3)) / 2)


def test_p_percent_rule_is_symmetric():
    assert M.p_percent_rule(Y_TRUE, Y_PRED, s=S) == pytest.approx(50.0)
    assert M.p_percent_rule(Y_TRUE, Y_PRED, s=1 - S) == pytest.approx(50.0)
    assert M.disparate_impact(Y_TRUE, Y_PRED, s=1 - S) == pytest.approx(2.0)


def test_p_percent_rule_edges():
    s = np.array([0, 0, 1, 1])
    assert M.p_percent_rule(None, np.array([0, 0, 0, 0]), s=s) == 100.0
    assert M.p_percent_rule(None, np.array([0, 0, 1, 0]), s=s) == 0.0
    assert M.p_percent_rule(None, np.array([1, 0, 1, 0]), s=s) == 100.0


def test_ntpr_diff_matches_paper_example():
    # the FairGP appendix: propublica-race GP has TPR_0 0.63, TPR_1 0.41 -> (0.41 - 0.63) / 0.52 = -0.42
    # build predictions with exactly those TPRs on 100 positives per group
    y_true = np.ones(200, dtype=int)
    s = np.r_[np.zeros(100, int), np.ones(100, int)]
    y_pred = np.r_[np.ones(63), np.zeros(37), np.ones(41), np.zeros(59)].astype(int)
    assert M.ntpr_diff(y_true, y_pred, s=s) == pytest.approx((0.41 - 0.63) / 0.52)
    assert round(M.ntpr_diff(y_true, y_pred, s=s), 2) == -0.42
    # hand-made case: (2/3 - 1/2) / ((1/2 + 2/3) / 2)
    assert M.ntpr_diff(Y_TRUE, Y_PRED, s=S) == pytest.approx((2 / 3 - 0.5) / ((0.5 + 2 / 3) / 2))


def test_accuracy():
    assert M.accuracy(Y_TRUE, Y_PRED) == pytest.approx(0.7)


def test_accepts_bool_lists_and_pandas():
    assert M.disparate_impact(list(Y_TRUE), list(Y_PRED.astype(bool)), s=pd.Series(S)) == pytest.approx(0.5)
    assert M.disparate_impact(pd.Series(Y_TRUE), Y_PRED.astype(float), s=S.astype(float)) == pytest.approx(0.5)


def test_group_report():
    summary, per_group = M.group_report(Y_TRUE, Y_PRED, s=S, name="toy", groups=("B", "A"))
    values = dict(zip(summary["metric"], summary["value"]))
    assert values["disparate impact"] == pytest.approx(0.5)
    assert values["statistical parity difference"] == pytest.approx(-0.25)
    assert values["p%-rule"] == pytest.approx(50.0)
    assert values["accuracy"] == pytest.approx(0.7)
    assert list(per_group["group"]) == ["B", "A"]
    assert list(per_group["n"]) == [4, 6]
    assert per_group["base rate"].tolist() == pytest.approx([0.5, 0.5])
    assert per_group["TPR"].tolist() == pytest.approx([0.5, 2 / 3])
    assert set(summary["model"]) == {"toy"}


def test_group_report_marks_undefined_metrics_as_nan():
    # group 0 has no positive example: its TPR (and every TPR-based metric) is undefined
    y_true = np.array([0, 0, 1, 0])
    y_pred = np.array([1, 0, 1, 0])
    s = np.array([0, 0, 1, 1])
    summary, per_group = M.group_report(y_true, y_pred, s=s)
    values = dict(zip(summary["metric"], summary["value"]))
    assert np.isnan(values["equal opportunity difference"])
    assert np.isnan(per_group.loc[0, "TPR"])
    with pytest.raises(ValueError, match="true positive rate of group s=0"):
        M.equal_opportunity_difference(y_true, y_pred, s=s)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: M.disparate_impact(None, [1, 0, 1], s=[0, 1]), "length mismatch"),
        (lambda: M.disparate_impact([1, 0], [1, 0, 1], s=[0, 1, 1]), "length mismatch"),
        (lambda: M.disparate_impact(None, [1, 2, 0], s=[0, 1, 1]), "y_pred must be binary"),
        (lambda: M.disparate_impact(None, [1, 0, 0], s=[0, 2, 1]), "s must be binary"),
        (lambda: M.disparate_impact(None, [1, 0, 0], s=[1, 1, 1]), "group s=0 is empty"),
        (lambda: M.disparate_impact(None, [1, 0, 0], s=[0, 0, 0]), "group s=1 is empty"),
        (lambda: M.disparate_impact(None, [1.0, np.nan, 0.0], s=[0, 1, 1]), "y_pred contains NaN"),
        (lambda: M.equal_opportunity_difference([1, 0, np.nan], [1, 0, 0], s=[0, 1, 1]), "y_true contains NaN"),
        (lambda: M.disparate_impact(None, ["a", "b"], s=[0, 1]), "must hold the numbers 0 and 1"),
        (lambda: M.disparate_impact(None, [], s=[]), "y_pred is empty"),
        (lambda: M.disparate_impact(None, [1, 0], s=[0, 1]), "privileged group \\(s=1\\) has selection rate 0"),
        (lambda: M.ntpr_diff([1, 1], [0, 0], s=[0, 1]), "both groups have a true positive rate of 0"),
        (lambda: M.average_odds_difference([1, 1, 1], [1, 0, 1], s=[0, 1, 1]), "false positive rate of group s=0"),
    ],
)
def test_bad_input_raises_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_roc_auc_by_hand():
    # Pairs (positive, negative): (0.35, 0.1) yes, (0.35, 0.4) no, (0.8, 0.1) yes, (0.8, 0.4) yes: 3/4.
    assert M.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    # A tie between a positive and a negative counts one half: one tied pair out of four.
    assert M.roc_auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert M.roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.8]) == pytest.approx(0.875)
    # perfect separation and its reverse; booleans and pandas inputs as labels
    assert M.roc_auc([0, 0, 1], [1, 2, 3]) == 1.0
    assert M.roc_auc(np.array([False, False, True]), pd.Series([3, 2, 1])) == 0.0


@pytest.mark.parametrize("seed,n,decimals", [(0, 500, 1), (1, 60, 0), (2, 1000, 2), (3, 7, 0)])
def test_roc_auc_equals_sklearn_and_the_pair_count_ties_included(seed, n, decimals):
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    y = np.r_[0, 1, rng.integers(0, 2, n - 2)]
    score = np.round(rng.normal(size=n) + 0.7 * y, decimals)  # rounded: many ties (decimals=0: mostly ties)
    assert len(np.unique(score)) < n
    pos, neg = score[y == 1], score[y == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert M.roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert M.roc_auc(y, score) == pytest.approx(pairs, abs=1e-12)
    assert M.roc_auc(y, np.full(n, 0.3)) == pytest.approx(roc_auc_score(y, np.full(n, 0.3))) == 0.5


def test_roc_auc_rejects_bad_input():
    with pytest.raises(ValueError, match="both classes"):
        M.roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN or infinite"):
        M.roc_auc([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="3 values for 2 labels"):
        M.roc_auc([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="binary"):
        M.roc_auc([0, 2], [0.1, 0.2])


def test_roc_auc_interval_brackets_the_auc_and_narrows_with_more_rows():
    from fairnotes.metrics import roc_auc, roc_auc_interval

    rng = np.random.default_rng(3)
    widths = []
    for n in (40, 4000):
        y = rng.integers(0, 2, n)
        score = y + rng.normal(0, 1.2, n)
        auc, low, high = roc_auc_interval(y, score, n_boot=300, seed=1)
        assert auc == roc_auc(y, score)
        assert 0 <= low <= auc <= high <= 1
        widths.append(high - low)
    assert widths[0] > 3 * widths[1], widths             # tens of rows: a wide interval
    # the same seed gives the same interval; a wider level a wider one
    a = roc_auc_interval(y, score, n_boot=200, seed=5)
    assert a == roc_auc_interval(y, score, n_boot=200, seed=5)
    wide = roc_auc_interval(y, score, n_boot=200, seed=5, level=0.99)
    assert wide[1] <= a[1] and wide[2] >= a[2]


def test_roc_auc_interval_resamples_within_each_class():
    """Stratified: with one positive among many rows every resample still has both classes."""
    from fairnotes.metrics import roc_auc_interval

    y = np.r_[1, np.zeros(30, int)]
    score = np.r_[0.9, np.linspace(0, 1, 30)]
    auc, low, high = roc_auc_interval(y, score, n_boot=50)
    assert np.isfinite([auc, low, high]).all() and low <= auc <= high
    perfect = roc_auc_interval([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], n_boot=20)
    assert perfect == (1.0, 1.0, 1.0)


def test_roc_auc_interval_refuses_bad_input():
    from fairnotes.metrics import roc_auc_interval

    y, score = [0, 1, 0, 1], [0.1, 0.9, 0.3, 0.6]
    for level in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match="level"):
            roc_auc_interval(y, score, level=level)
    for n_boot in (5, 10.0, True, "100"):
        with pytest.raises(ValueError, match="n_boot"):
            roc_auc_interval(y, score, n_boot=n_boot)
    with pytest.raises(ValueError):
        roc_auc_interval([1, 1, 1], [0.1, 0.2, 0.3])       # one class only: no AUC
    with pytest.raises(ValueError):
        roc_auc_interval([0, 1, 2], [0.1, 0.2, 0.3], name="y_true")
