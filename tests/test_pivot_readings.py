"""Readings of the auditability paper's pivot (issue #26): the kernel-1 CNN, balanced class weights,
standardised protected inputs, COMPAS's feature sets and the named readings of presets (seconds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from fairnotes import adversarial as adv  # noqa: E402
from fairnotes import models, presets, recipes  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


# --------------------------------------------------------------------------- the kernel-1 CNN

def test_kernel_1_cnn_is_a_fully_connected_network():
    """features_as='channels': d -> 256 -> ... -> 16 -> 1, every kernel of width 1, and the same
    function as the fully connected network with the convolutions' weights."""
    d = 7
    net = models.make_model("cnn", d, features_as="channels", seed=3)
    convs = [m for m in net.net if isinstance(m, torch.nn.Conv1d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(7, 256), (256, 128), (128, 64), (64, 32),
                                                                (32, 16), (16, 1)]
    assert all(c.kernel_size == (1,) for c in convs)
    x = torch.randn(5, d)
    h = x
    for i, c in enumerate(convs):
        h = h @ c.weight[:, :, 0].T + c.bias
        if i < len(convs) - 1:
            h = torch.relu(h)
    with torch.no_grad():
        assert torch.allclose(net.logits(x), h[:, 0], atol=1e-5)
    assert net.config["features_as"] == "channels" and net.config["kernel_size"] == 1
    # its adversary has the same architecture and reads one number
    a = adv.make_adversary("cnn", 2, features_as="channels", seed=0)
    assert a.net[0].in_channels == 1 and a.net[0].kernel_size == (1,) and a.n_outputs == 2
    assert a(torch.rand(4, 1)).shape == (4, 2)


def test_the_kernel3_cnn_keeps_its_configuration():
    """The kernel-3 CNN's configuration (part of every cache key) has no new entry, so that the networks
    trained before the book adopted the kernel-1 CNN keep their cache keys; the kernel-1 CNN's names its layout."""
    net = models.make_model("cnn", 5, seed=0, features_as="sequence")
    assert net.config == {"n_features": 5, "n_outputs": 1, "channels": (256, 128, 64, 32, 16), "kernel_size": 3}
    assert net.net[0].in_channels == 1 and net.net[0].kernel_size == (3,)
    assert models.make_model("cnn", 5, seed=0).config == {**net.config, "kernel_size": 1, "features_as": "channels"}


def test_kernel_1_cnn_refuses_wider_kernels_and_unknown_layouts():
    with pytest.raises(ValueError, match="kernel width 1"):
        models.make_model("cnn", 5, features_as="channels", kernel_size=3)
    with pytest.raises(ValueError, match="features_as"):
        models.make_model("cnn", 5, features_as="image")


def test_train_adversarial_gives_a_kernel_1_cnn_a_kernel_1_adversary():
    X, y, S = _problem()
    adversary_seen = {}
    model = models.make_model("cnn", 4, channels=(8, 8, 8, 8, 8), features_as="channels", seed=0)
    original = adv.make_adversary

    def spy(*args, **kw):
        adversary_seen.update(kw)
        return original(*args, **kw)

    adv.make_adversary = spy
    try:
        adv.train_adversarial(model, X, y, S, lambdas=1.0, pretrain_epochs=1, adversary_epochs=1, n_iterations=1,
                              progress=False, cache=False)
    finally:
        adv.make_adversary = original
    assert adversary_seen["features_as"] == "channels"


# --------------------------------------------------------------------------- balanced class weights

def _problem(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    s = (rng.random(n) < 0.8).astype(np.int64)          # an unbalanced attribute, as race on Adult
    X[:, 0] = s
    y = (2.0 * s + X[:, 2] + 0.3 * rng.normal(size=n) > 1.5).astype(np.int64)
    S = pd.DataFrame({"race": s, "sex": rng.integers(0, 2, n)})
    return X, y, S


def test_balanced_class_weights_weigh_each_class_equally():
    S = np.array([[1, 0], [1, 1], [1, 0], [0, 1]])
    w = adv.balanced_class_weights(S)
    # n / (2 n_c): race has 1 zero and 3 ones, sex 2 and 2
    np.testing.assert_allclose(w, [[2.0, 1.0], [4 / 6, 1.0]])
    # each class's rows weigh n / 2 in total
    for j in range(2):
        assert (w[S[:, j], j]).sum() == pytest.approx(len(S))
        assert w[0, j] * (S[:, j] == 0).sum() == pytest.approx(w[1, j] * (S[:, j] == 1).sum())


def test_balanced_class_weights_need_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        adv.balanced_class_weights(np.ones((5, 1)))
    with pytest.raises(ValueError, match="0/1"):
        adv.balanced_class_weights(np.array([0, 2, 1]))


def test_balanced_weights_change_the_game_and_are_checked():
    X, y, S = _problem()
    kw = dict(lambdas=20.0, pretrain_epochs=2, adversary_epochs=2, n_iterations=5, progress=False, cache=False)
    m0 = models.make_model("linear", 4, hidden=(8, 8), seed=0)
    m1 = models.make_model("linear", 4, hidden=(8, 8), seed=0)
    _, h0 = adv.train_adversarial(m0, X, y, S, **kw)
    _, h1 = adv.train_adversarial(m1, X, y, S, adversary_class_weight="balanced", **kw)
    # the pretrained classifier is the same; the adversary's weighted loss is not
    assert h0["eval_accuracy"].iloc[0] == pytest.approx(h1["eval_accuracy"].iloc[0])
    assert h0["train_adversary_loss"].iloc[0] != pytest.approx(h1["train_adversary_loss"].iloc[0])
    assert not torch.allclose(m0.net[0].weight, m1.net[0].weight)
    with pytest.raises(ValueError, match="adversary_class_weight"):
        adv.train_adversarial(models.make_model("linear", 4, seed=0), X, y, S, adversary_class_weight="equal", **kw)


# --------------------------------------------------------------------------- presets: inputs and readings

def test_compas_feature_sets_keep_the_rows_and_add_columns():
    book = recipes.auditability_split("compas")
    dec = recipes.auditability_split("compas", features="decile_score")
    aif = recipes.auditability_split("compas", features="aif360")
    for sp in (dec, aif):
        np.testing.assert_array_equal(sp.test_index, book.test_index)
        np.testing.assert_array_equal(sp.y_test, book.y_test)
    assert dec.feature_names == book.feature_names[:book.feature_names.index("priors_count") + 1] + ["decile_score"] \
        + book.feature_names[book.feature_names.index("priors_count") + 1:]
    assert set(book.feature_names) < set(aif.feature_names)
    assert any(n.startswith("c_charge_desc=") for n in aif.feature_names)
    with pytest.raises(ValueError, match="features"):
        recipes.auditability_split("adult", features="decile_score")
    with pytest.raises(ValueError, match="features"):
        recipes.auditability_split("compas", features="all")


def test_standardised_protected_inputs():
    raw = recipes.auditability_split("compas")
    std = recipes.auditability_split("compas", standardize_protected=True)
    cols = sorted(raw.s_columns.values())
    np.testing.assert_allclose(std.X_train[:, cols].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(std.X_train[:, cols].std(axis=0), 1, atol=1e-4)
    # the transformation is kept, and undoing it gives the raw 0/1 columns back
    np.testing.assert_allclose(std.X_test[:, cols] * std.std[cols] + std.mean[cols], raw.X_test[:, cols], atol=1e-5)
    other = [j for j in range(raw.n_features) if j not in cols]
    np.testing.assert_array_equal(std.X_train[:, other], raw.X_train[:, other])


def test_pivot_readings_apply_where_they_change_something(monkeypatch):
    monkeypatch.setenv("FAIRNOTES_FAST", "0")      # the default build's sizes
    monkeypatch.delenv("FAIRNOTES_PAPER_SIZE", raising=False)
    assert presets.pivot_reading("first game", "adult", "linear") == presets.first_game("adult", "linear")
    assert presets.pivot_reading("kernel-1 CNN", "adult", "linear") is None       # a reading of the CNN
    assert presets.pivot_reading("Adam 1e-3, recipe's weights", "adult", "linear") is None   # the linear's already
    assert presets.pivot_reading("with decile_score", "adult", "cnn") is None      # COMPAS only
    literal = presets.pivot_reading("literal", "compas", "cnn")
    assert literal == dict(start="scratch", pretrain_epochs=2, n_iterations=164,
                           classifier_learning_rate=presets.PAPER_LR,
                           lambdas=presets.RECIPE_LAMBDAS, adversary_rows=None, features_as="channels")
    # the literal reading is the book's game: every setting it names is pivot_settings' own
    book = {**presets.pivot_settings("compas", "cnn"), **presets.READING_DEFAULTS}
    assert all(book[k] == v for k, v in literal.items())
    assert "features_as" not in presets.pivot_reading("literal", "compas", "linear")
    with pytest.raises(ValueError, match="unknown reading"):
        presets.pivot_reading("Keras", "adult", "linear")
    with pytest.raises(ValueError, match="changes nothing"):
        recipes.book_models("adult", "linear", reading="kernel-1 CNN")
    with pytest.raises(ValueError, match="reading of the CNN"):
        recipes.book_models("adult", "linear", features_as="sequence")


def test_book_models_trains_a_reading(tmp_path, monkeypatch):
    """The literal reading in fast mode: both networks kernel-1 CNNs, the "fair" one from scratch."""
    monkeypatch.setenv("FAIRNOTES_CACHE_DIR", str(tmp_path))
    bm = recipes.book_models("compas", "cnn", reading="literal", progress=False, adversary_class_weight="balanced",
                             n_iterations=2)
    assert bm.settings["features_as"] == "channels" and bm.settings["start"] == "scratch"
    assert bm.settings["pretrain_epochs"] == 2 and bm.settings["adversary_class_weight"] == "balanced"
    assert bm.unmitigated.config["features_as"] == "channels" and bm.mitigated.config["features_as"] == "channels"
    assert len(bm.mitigated_history) >= 2
    unfair, fair = bm.predictions()
    assert unfair.shape == fair.shape == bm.split.y_test.shape
