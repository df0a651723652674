"""fairnotes.adversarial: the pivot's adversarial mitigation on small fixed problems (seconds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from fairnotes import adversarial as adv  # noqa: E402
from fairnotes import metrics, models  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _problem(n=600, seed=0):
    """A label that depends strongly on the protected column 0 (and on feature 2)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    s = rng.integers(0, 2, n)
    X[:, 0] = s
    X[:, 1] = rng.integers(0, 2, n)  # a second protected attribute, unrelated to y
    y = (2.5 * s + X[:, 2] + 0.3 * rng.normal(size=n) > 1.25).astype(np.int64)
    S = pd.DataFrame({"race": s, "sex": X[:, 1].astype(np.int64)})
    return X, y, S


def _tiny(arch="linear", d=4, seed=0):
    if arch == "linear":
        return models.make_model("linear", d, hidden=(16, 16), seed=seed)
    return models.make_model("cnn", d, channels=(4, 4, 4, 4, 4), seed=seed)


def _fit(arch="linear", lambdas=None, cache=False, seed=0, **kw):
    X, y, S = _problem()
    settings = dict(lambdas={"race": 50.0, "sex": 10.0} if lambdas is None else lambdas, pretrain_epochs=4, adversary_epochs=3,
                    n_iterations=30, batch_size=32, adversary_batch_size=64, classifier_steps=3, learning_rate=0.005,
                    seed=seed, progress=False, cache=cache)
    settings.update(kw)
    model = _tiny(arch)
    if arch == "cnn":
        settings["adversary"] = models.make_model("cnn", 1, n_outputs=2, channels=(4, 4, 4, 4, 4), seed=seed)
    model, hist = adv.train_adversarial(model, X, y, S, **settings)
    return model, hist, (X, y, S)


def test_mitigation_improves_the_p_percent_rule():
    """Same loop, same seed, same number of steps: lambda > 0 against lambda = 0 (no adversary)."""
    _, _, (X, y, S) = _fit(n_iterations=1)
    unfair, hist0, _ = _fit(lambdas={"race": 0.0, "sex": 0.0})
    fair, hist, _ = _fit()
    p_unfair = metrics.p_percent_rule(y, models.predict(unfair, X), s=S["race"])
    p_fair = metrics.p_percent_rule(y, models.predict(fair, X), s=S["race"])
    assert p_unfair < 40, f"the problem should start unequal, p%-rule {p_unfair:.1f}"
    assert metrics.accuracy(y, models.predict(unfair, X)) > 0.85, "the unmitigated model should learn the task"
    assert p_fair > p_unfair + 30, f"mitigation should raise the p%-rule: {p_unfair:.1f} -> {p_fair:.1f}"
    # step 0 is the pretrained classifier, the same for both runs
    assert hist["eval_p_rule_race"].iloc[0] == pytest.approx(hist0["eval_p_rule_race"].iloc[0])
    assert hist["eval_p_rule_race"].iloc[-1] == pytest.approx(p_fair)
    # the adversary is beaten: its BCE on race rises towards a coin flip's
    assert hist["eval_adversary_bce_race"].iloc[-1] > hist["eval_adversary_bce_race"].iloc[0]


def test_history_columns_and_steps():
    _, hist, _ = _fit(n_iterations=7, eval_every=2)
    assert hist["step"].tolist() == [0, 2, 4, 6, 7]   # after pretraining, every 2 rounds, and at the end
    assert list(hist.columns) == ["step", "eval_accuracy", "eval_roc_auc", "eval_loss", "eval_p_rule_race",
                                  "eval_p_rule_sex", "eval_adversary_loss", "eval_adversary_bce_race",
                                  "eval_adversary_bce_sex", "train_adversary_loss", "seconds"]
    assert hist.notna().all().all() and hist["seconds"].is_monotonic_increasing
    assert hist.attrs["lambdas"] == {"race": 50.0, "sex": 10.0}
    assert hist["eval_accuracy"].between(0, 1).all() and hist["eval_p_rule_race"].between(0, 100).all()


def test_evaluation_changes_nothing_and_eval_set_is_read():
    """The schedule of evaluations and the evaluation rows change the history, never the model."""
    X, y, S = _problem()
    m1, h1, _ = _fit(n_iterations=5)
    m2, h2, _ = _fit(n_iterations=5, eval_every=4, eval_set=(X[:100], y[:100], S.iloc[:100]))
    np.testing.assert_array_equal(models.predict_proba(m1, X), models.predict_proba(m2, X))
    assert h1["step"].tolist() == [0, 1, 2, 3, 4, 5] and h2["step"].tolist() == [0, 4, 5]
    held_out = metrics.accuracy(y[:100], models.predict(m2, X[:100]))
    assert h2["eval_accuracy"].iloc[-1] == pytest.approx(held_out)


def test_seeded_and_reproducible():
    m1, h1, (X, _, _) = _fit(n_iterations=5, seed=3)
    m2, h2, _ = _fit(n_iterations=5, seed=3)
    m3, h3, _ = _fit(n_iterations=5, seed=4)
    np.testing.assert_array_equal(models.predict_proba(m1, X), models.predict_proba(m2, X))
    pd.testing.assert_frame_equal(h1.drop(columns="seconds"), h2.drop(columns="seconds"))
    assert not np.array_equal(models.predict_proba(m1, X), models.predict_proba(m3, X))


def test_cnn_architecture_runs():
    model, hist, (X, _, _) = _fit("cnn", n_iterations=3)
    assert isinstance(model, models.ConvNet) and len(hist) == 4
    assert models.predict_proba(model, X).shape == (len(X),)


def test_cache_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRNOTES_CACHE_DIR", str(tmp_path))
    m1, h1, (X, _, _) = _fit(n_iterations=4, cache=True)
    assert h1.attrs["cached"] is False
    m2, h2, _ = _fit(n_iterations=4, cache=True)
    assert h2.attrs["cached"] is True
    np.testing.assert_array_equal(models.predict_proba(m1, X), models.predict_proba(m2, X))
    m3, h3, _ = _fit(n_iterations=4, cache=True, lambdas={"race": 1.0, "sex": 1.0})
    assert h3.attrs["cached"] is False, "another lambda is another cache entry"


def test_adversary_is_trained_in_place_and_predicts_the_attributes():
    X, y, S = _problem()
    a = adv.make_adversary("linear", 2, seed=0)
    assert not any(isinstance(m, torch.nn.Dropout) for m in a.modules())
    w0 = [p.detach().clone() for p in a.parameters()]
    adv.train_adversarial(_tiny(), X, y, S, lambdas=1.0, adversary=a, n_iterations=2, progress=False, cache=False)
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), w0))
    assert a(torch.zeros(3, 1)).shape == (3, 2)


def test_validation():
    X, y, S = _problem(n=50)
    with pytest.raises(ValueError, match="lambda"):
        adv.train_adversarial(_tiny(), X, y, S, lambdas={"race": 1.0}, cache=False)
    with pytest.raises(ValueError, match=r"eval_set must be a tuple \(X, y, s\)"):
        adv.train_adversarial(_tiny(), X, y, S, lambdas=1.0, eval_set=(X, y), cache=False)
    with pytest.raises(ValueError, match="eval_every"):
        adv.train_adversarial(_tiny(), X, y, S, lambdas=1.0, eval_every=0, cache=False)
    with pytest.raises(ValueError, match="0 and 1"):
        adv.train_adversarial(_tiny(), X, y, S * 2, lambdas=1.0, cache=False)
    with pytest.raises(ValueError, match="outputs"):
        adv.train_adversarial(_tiny(), X, y, S, lambdas=1.0, adversary=adv.make_adversary("linear", 3), cache=False)


def test_cache_entries_written_before_the_common_history_read_with_its_columns(tmp_path, monkeypatch):
    """An entry from before the trainers' common history (``iteration``, ``p_rule_race``, ...)."""
    monkeypatch.setenv("FAIRNOTES_CACHE_DIR", str(tmp_path))
    _, h1, _ = _fit(n_iterations=3, pretrain_epochs=0, cache=True)
    (path,) = tmp_path.glob("Pivot-*.pt")
    payload = torch.load(path, weights_only=True)
    old_names = {"step": "iteration", "eval_accuracy": "accuracy", "eval_roc_auc": "roc_auc",
                 "eval_loss": "classifier_loss", "eval_adversary_loss": "adversary_loss_test",
                 "train_adversary_loss": "adversary_loss"}
    old = {old_names.get(k, k.replace("eval_", "")): v for k, v in payload["history"].items()}
    assert "p_rule_race" in old and "adversary_bce_sex" in old
    torch.save(dict(payload, history=old), path)
    _, h2, _ = _fit(n_iterations=3, pretrain_epochs=0, cache=True)
    assert h2.attrs["cached"] is True
    pd.testing.assert_frame_equal(h1, h2)
