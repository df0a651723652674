"""fairnotes.presets: the papers' and the book's settings, and the shared models built from them."""

from __future__ import annotations

import numpy as np
import pytest

from fairnotes import presets, recipes, runtime


def test_auditability_split_is_the_papers():
    for dataset, sizes in (("adult", (24752, 6188)), ("compas", (4937, 1235))):
        sp = recipes.auditability_split(dataset)
        assert (len(sp.X_train), len(sp.X_test)) == sizes
        assert sp.feature_names[sp.s_column] == "race"
    with pytest.raises(ValueError, match="dataset"):
        recipes.auditability_split("german")


def test_unmitigated_model_uses_the_papers_split():
    pytest.importorskip("torch")
    model, hist, sp = recipes.unmitigated_model("compas", "linear", epochs=1, train_rows=300, cache=False,
                                                progress=False)
    assert (len(sp.X_train), len(sp.X_test)) == (4937, 1235)
    assert model.n_features == sp.X_train.shape[1] and len(hist) == 1
    with pytest.raises(ValueError, match="dataset"):
        recipes.unmitigated_model("german", "linear", epochs=1)
    with pytest.raises(ValueError, match="train_rows"):
        recipes.unmitigated_model("compas", "linear", epochs=1, train_rows=0)


def test_sizes_follow_the_mode(monkeypatch):
    monkeypatch.setenv("FAIRNOTES_FAST", "0")
    monkeypatch.delenv("FAIRNOTES_PAPER_SIZE", raising=False)
    assert presets.unmitigated_epochs("adult", "cnn") == 3
    assert presets.pivot_settings("adult", "linear")["n_iterations"] == 164      # the recipe's rounds
    assert presets.first_game("adult", "linear")["n_iterations"] == 100
    assert presets.fairgp_settings()["num_inducing"] == presets.FAIRGP_FIT["num_inducing"]
    monkeypatch.setenv("FAIRNOTES_PAPER_SIZE", "1")
    assert presets.unmitigated_epochs("adult", "cnn") == 10
    st = presets.pivot_settings("adult", "cnn")
    assert st["n_iterations"] == 164 and st["adversary_rows"] is None
    assert presets.first_game("adult", "cnn")["n_iterations"] == 164
    assert presets.fairgp_settings()["num_inducing"] == 500          # the FairGP paper's inducing inputs
    monkeypatch.setenv("FAIRNOTES_FAST", "1")
    assert runtime.is_fast() and presets.unmitigated_epochs("adult", "cnn") == 1
    assert presets.fairgp_settings()["steps"] == 40
    assert presets.pivot_settings("adult", "cnn")["n_iterations"] == 4
    assert presets.pivot_settings("adult", "cnn")["adversary_rows"] == 200


def test_pivot_settings_read_the_paper_literally():
    """Both architectures: the recipe's weights, the paper's Adam 0.001, from scratch with pretraining;
    the first game's CNN scaled the weights, learnt 10 times slower and started from the unmitigated model."""
    for dataset, arch in (("adult", "cnn"), ("compas", "linear")):
        st = presets.pivot_settings(dataset, arch)
        assert st["lambdas"] == presets.RECIPE_LAMBDAS
        assert st["classifier_learning_rate"] == st["learning_rate"] == presets.PAPER_LR
        assert st["start"] == "scratch" and st["pretrain_epochs"] == 2
    first = presets.first_game("adult", "cnn")
    assert first["lambdas"] == {k: v * presets.CNN_LAMBDA_FACTOR for k, v in presets.RECIPE_LAMBDAS.items()}
    assert first["start"] == "unmitigated" and first["classifier_learning_rate"] == 1e-4
    assert first["features_as"] == "sequence"
    assert "features_as" not in presets.first_game("adult", "linear")
    with pytest.raises(ValueError, match="architecture"):
        presets.pivot_settings("adult", "rnn")


def test_fairgp_split_and_settings():
    sp = recipes.fairgp_split("compas", "race", seed=1)
    assert sp.s_column is None and "race" not in sp.feature_names
    n = len(sp.y_train) + len(sp.y_test)
    assert abs(len(sp.y_test) / n - 1 / 3) < 0.01
    np.testing.assert_allclose(sp.base_rates(), [sp.y_train[sp.s_train == g].mean() for g in (0, 1)])
    onehot = recipes.fairgp_split("compas", "race", seed=1, encoding="onehot")
    assert onehot.n_features > sp.n_features
    with pytest.raises(ValueError, match="unknown split settings"):
        recipes.fairgp_split("compas", "race", test_fraction=0.5)
    with pytest.raises(ValueError, match="'adult' or 'compas'"):   # one name per dataset: no "propublica"
        recipes.fairgp_split("propublica", "race")
    assert sp.data.name == "compas (FairGP)" and sp.data.frame.shape[0] == 6167
    with pytest.raises(ValueError, match="unknown FairGP settings"):
        presets.fairgp_settings(inducing=3)
    with pytest.raises(ValueError, match="kind"):
        recipes.fit_fairgp(sp, "SVM")


def test_book_models_refuses_unknown_overrides():
    with pytest.raises(ValueError, match="unknown pivot settings"):
        recipes.book_models("compas", "linear", lambda_factor=3)
    with pytest.raises(ValueError, match="start must be"):
        recipes.book_models("compas", "linear", start="fresh")
