"""fairnotes.evaluation: the paper's "fair"/"unfair" labels, ROC curves, the cluster finder, audit cards."""

from __future__ import annotations

import numpy as np
import pytest

from fairnotes import evaluation as ae
from fairnotes import metrics


def test_match_labels_and_counts_by_hand():
    unfair = [1, 1, 0, 0, 1, 0]
    fair = [1, 0, 0, 1, 0, 0]
    lab = ae.match_labels(unfair, fair)
    assert lab.tolist() == [False, True, False, True, True, False]
    c = ae.match_counts(unfair, fair)
    assert c == {"Match": 3, "!Match": 3, "1->0": 2, "0->1": 1}
    assert c["Match"] + c["!Match"] == 6


def test_match_counts_identical_and_opposite():
    a = np.array([0, 1, 1, 0])
    assert ae.match_counts(a, a)["!Match"] == 0
    assert ae.match_counts(a, 1 - a)["Match"] == 0
    assert ae.match_counts(a.astype(bool), a)["Match"] == 4


@pytest.mark.parametrize("bad", [[0, 2, 1], [0.5, 1, 0]])
def test_match_rejects_non_binary(bad):
    with pytest.raises(ValueError, match="must be binary \\(0/1\\)"):
        ae.match_labels(bad, [0, 1, 1])


def test_match_rejects_length_mismatch():
    with pytest.raises(ValueError, match="length"):
        ae.match_labels([0, 1], [0, 1, 1])


def test_roc_curve_by_hand():
    curve = ae.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    pts = list(zip(curve["fpr"], curve["tpr"]))
    assert pts[0] == (0.0, 0.0) and pts[-1] == (1.0, 1.0)
    assert pts[1:4] == [(0.0, 0.5), (0.5, 0.5), (0.5, 1.0)]
    # the trapezoid area of the curve is the package's one AUC, metrics.roc_auc
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy 2 renamed trapz (#28: CI runs numpy 1 and 2)
    assert trapezoid(curve["tpr"], curve["fpr"]) == pytest.approx(0.75)
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], name="is_unfair") == pytest.approx(0.75)
    assert (np.diff(curve["fpr"]) >= 0).all() and (np.diff(curve["tpr"]) >= 0).all()


def test_roc_needs_both_labels_and_finite_scores():
    with pytest.raises(ValueError, match="both"):
        ae.roc_curve([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        ae.roc_curve([0, 1, 1], [0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match="one value per label"):
        ae.roc_curve([0, 1, 1], [0.1, 0.3])


def test_the_roc_auc_lives_in_metrics_only():
    # one AUC in the package (#27): evaluation draws the curve, metrics computes the area
    assert not hasattr(ae, "roc_auc")


def test_high_sensitivity_finds_a_planted_cluster():
    rng = np.random.default_rng(1)
    bulk = np.abs(rng.normal(0, 0.01, size=1000))
    cluster = 0.3 + 0.02 * rng.random(25)
    s = np.concatenate([bulk, cluster])
    mask, cut = ae.high_sensitivity(s)
    assert mask[-25:].all(), "every planted high value is found"
    assert mask[:-25].sum() <= 5, "few of the bulk are flagged"
    q1, q3 = np.quantile(s, [0.25, 0.75])
    assert cut == pytest.approx(q3 + 3 * (q3 - q1))
    mask2, cut2 = ae.high_sensitivity(s, flag_threshold=0.25)
    assert cut2 == 0.25 and mask2.sum() == 25


def test_audit_card_on_a_tiny_model():
    torch = pytest.importorskip("torch")
    from fairnotes import models

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    X[:, 0] = rng.integers(0, 2, 50)
    m1 = models.make_model("linear", 4, hidden=(4,), seed=1)
    m2 = models.make_model("linear", 4, hidden=(4,), seed=2)
    card = ae.audit_card(m1, m2, X, X[:, 0], 3, s_column=0, feature_names=["race", "age", "job=clerk", "job=nurse"],
                         mean=np.array([0, 40, 0, 0.0]), std=np.array([1, 10, 1, 1.0]),
                         reference_sensitivity=np.linspace(0, 1, 11), n_samples=5)
    s = card.summary
    assert list(s["model"]) == ['"unfair" model (audited)', '"fair" model (mitigated)']
    p = models.predict_proba(m1, X[3:4])[0]
    assert s["probability"].iloc[0] == pytest.approx(p)
    assert set(card.features["feature"]) <= {"race", "age", "job"}
    assert card.features.set_index("feature").loc["age", "value"] == f"{X[3, 1] * 10 + 40:.2f}"
    flip = X[3:4].copy()
    flip[0, 0] = 1 - flip[0, 0]
    assert s.iloc[0, 3] == pytest.approx(models.predict_proba(m1, flip)[0])
    assert s["smooth sensitivity"].iloc[0] >= 0
    assert 0 <= s["sensitivity percentile"].iloc[0] <= 100
    agree = s["prediction"].iloc[0] == s["prediction"].iloc[1]
    assert s["paper's label"].iloc[0] == ('"fair" (Match)' if agree else '"unfair" (!Match)')


def test_audit_card_of_a_scikit_learn_model_agrees_with_audit():
    """The card works for a non-torch model (finite differences on predict_proba) and reads every
    value from audit() on the same row, with the same settings."""
    from sklearn.linear_model import LogisticRegression

    from fairnotes.audit import audit

    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    X[:, 0] = rng.integers(0, 2, 200)
    y = (X[:, 0] + X[:, 1] + rng.normal(0, 0.5, 200) > 0.5).astype(int)
    unmitigated = LogisticRegression().fit(X, y)
    mitigated = LogisticRegression().fit(X[:, 1:], y)

    def mitigated_model(rows):          # a plain callable that ignores the attribute's column
        return mitigated.predict_proba(rows[:, 1:])[:, 1]

    i = 7
    reference = audit(unmitigated, X, X[:, 0], s_column=0, n_samples=8, sigma=0.1, seed=3).table
    card = ae.audit_card(unmitigated, mitigated_model, X, X[:, 0], i, s_column=0, n_samples=8,
                         sigma=0.1, seed=3, reference_sensitivity=reference["sensitivity"],
                         reference_smooth=reference["smooth_sensitivity"], attribute="race")
    one = audit(unmitigated, X[i:i + 1], X[i:i + 1, 0], s_column=0, n_samples=8, sigma=0.1, seed=3)
    assert one.method.startswith("central finite differences") and "predict_proba" in one.method
    row, s = one.table.iloc[0], card.summary.iloc[0]
    assert s["probability"] == pytest.approx(unmitigated.predict_proba(X[i:i + 1])[0, 1])
    for card_column, audit_column in (("probability", "probability"), ("sensitivity", "sensitivity"),
                                      ("smooth sensitivity", "smooth_sensitivity"),
                                      ("probability, race flipped", "counterfactual_probability")):
        assert s[card_column] == row[audit_column], card_column
    assert s["sensitivity"] == pytest.approx(reference["sensitivity"].iloc[i])
    assert s["sensitivity percentile"] == pytest.approx(100 * np.mean(reference["sensitivity"] <= s["sensitivity"]))
    assert s["prediction"] == row["prediction"]
    # the mitigated callable never moves with column 0: sensitivity 0 and no flip
    fair = card.summary.iloc[1]
    assert fair["sensitivity"] == pytest.approx(0, abs=1e-8)
    assert fair["probability, race flipped"] == pytest.approx(fair["probability"])
    assert np.isnan(fair["sensitivity percentile"])
    agree = s["prediction"] == fair["prediction"]
    assert s["paper's label"] == ('"fair" (Match)' if agree else '"unfair" (!Match)')


def test_audit_card_of_a_model_that_does_not_read_the_attribute():
    """s_column=None (as for FairGP): the card reports sensitivity 0 by construction, as audit() does."""
    X = np.array([[0.0, 0.2], [1.0, -0.3], [0.0, 1.0]])

    def model(rows):
        return 1 / (1 + np.exp(-rows[:, 0]))

    card = ae.audit_card(model, model, X[:, 1:], X[:, 0], 1, n_samples=4)
    assert (card.summary[["sensitivity", "smooth sensitivity"]] == 0).all().all()
    assert card.summary["paper's label"].iloc[0] == '"fair" (Match)'
    with pytest.raises(ValueError, match="out of range"):
        ae.audit_card(model, model, X[:, 1:], X[:, 0], 5)
