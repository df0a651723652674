"""fairnotes.models: the paper's two architectures, the training loop, predictions, the cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from fairnotes import models  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _data(n=200, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[:, 0] = rng.integers(0, 2, n)
    y = (X[:, 1] + 0.8 * X[:, 0] + 0.3 * rng.normal(size=n) > 0.4).astype(np.int64)
    return X, y


def _tiny(arch, d, **kw):
    if arch == "linear":
        return models.make_model("linear", d, hidden=(8, 8, 8), **kw)
    return models.make_model("cnn", d, channels=(4, 4, 4, 4, 4), **kw)


@pytest.mark.parametrize("arch", ["linear", "cnn"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_output_shapes_and_range(arch, n_outputs):
    X, _ = _data(n=17, d=5)
    m = _tiny(arch, 5, n_outputs=n_outputs)
    out = m(torch.from_numpy(X))
    assert out.shape == ((17,) if n_outputs == 1 else (17, n_outputs))
    assert m.logits(torch.from_numpy(X)).shape == out.shape
    assert ((out > 0) & (out < 1)).all()
    p = models.predict_proba(m, X)
    assert isinstance(p, np.ndarray) and p.shape == tuple(out.shape)


def test_paper_architectures():
    lin = models.make_model("linear", 10)
    linears = [l for l in lin.modules() if isinstance(l, torch.nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(10, 32), (32, 32), (32, 32), (32, 1)]
    drops = [l.p for l in lin.modules() if isinstance(l, torch.nn.Dropout)]
    assert drops == [0.2, 0.2, 0.2]
    assert not any(isinstance(l, torch.nn.Dropout) for l in models.make_model("linear", 10, dropout=0.0).modules())
    cnn = models.make_model("cnn", 10)      # the book's CNN: the features as channels, kernels of width 1
    convs = [l for l in cnn.modules() if isinstance(l, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == [256, 128, 64, 32, 16, 1] and convs[0].in_channels == 10
    assert all(c.kernel_size == (1,) and c.padding == (0,) for c in convs)
    seq = models.make_model("cnn", 10, features_as="sequence")   # the kernel-3 reading
    convs = [l for l in seq.modules() if isinstance(l, torch.nn.Conv1d)]
    assert convs[0].in_channels == 1 and all(c.kernel_size == (3,) and c.padding == (1,) for c in convs)
    assert not any(isinstance(l, torch.nn.Dropout) for l in cnn.modules())
    adv = models.make_model("cnn", 1, n_outputs=2)  # the pivot's adversary reads one number
    assert adv(torch.zeros(4, 1)).shape == (4, 2)


def test_make_model_seed_and_global_rng():
    state = torch.random.get_rng_state()
    a = models.make_model("linear", 7, seed=3)
    assert torch.equal(state, torch.random.get_rng_state()), "make_model changed the global RNG"
    b = models.make_model("linear", 7, seed=3)
    c = models.make_model("linear", 7, seed=4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


@pytest.mark.parametrize("bad", [dict(architecture="mlp"), dict(n_features=0), dict(n_outputs=0)])
def test_make_model_rejects(bad):
    kw = dict(architecture="linear", n_features=3, n_outputs=1) | bad
    with pytest.raises(ValueError):
        models.make_model(kw.pop("architecture"), **kw)


def test_cnn_rejects_even_kernel():
    with pytest.raises(ValueError, match="odd"):
        models.ConvNet(5, kernel_size=4)


@pytest.mark.parametrize("arch", ["linear", "cnn"])
def test_train_history_and_learning(arch):
    X, y = _data(n=300, d=6)
    m = _tiny(arch, 6)
    m, hist = models.train(m, X[:240], y[:240], eval_set=(X[240:], y[240:]), epochs=12,
                           batch_size=32, learning_rate=0.01, cache=False, progress=False)
    assert list(hist.columns) == ["step", "epoch", "train_loss", "train_accuracy", "eval_loss", "eval_accuracy",
                                  "seconds"]
    assert hist["epoch"].tolist() == list(range(1, 13))
    assert hist["step"].tolist() == [8 * e for e in range(1, 13)]   # 240 rows in mini-batches of 32
    assert hist["seconds"].is_monotonic_increasing
    assert hist["train_loss"].iloc[-1] < hist["train_loss"].iloc[0]
    assert hist["eval_accuracy"].iloc[-1] > 0.75
    assert hist.attrs["cached"] is False
    assert not m.training
    acc = (models.predict(m, X[240:]) == y[240:]).mean()
    assert acc == pytest.approx(hist["eval_accuracy"].iloc[-1])


def test_train_without_eval_set_has_no_eval_columns():
    X, y = _data()
    _, hist = models.train(_tiny("linear", 6), X, y, epochs=2, cache=False, progress=False)
    assert list(hist.columns) == ["step", "epoch", "train_loss", "train_accuracy", "seconds"]


def test_eval_every_counts_steps_and_changes_no_weight():
    """Evaluating inside an epoch (dropout off, then on again) draws no random number."""
    X, y = _data()   # 200 rows, mini-batches of 32: 7 steps per epoch
    kw = dict(epochs=3, batch_size=32, seed=2, cache=False, progress=False)
    m1, h1 = models.train(_tiny("linear", 6), X, y, **kw)
    m2, h2 = models.train(_tiny("linear", 6), X, y, eval_set=(X[:50], y[:50]), eval_every=5, **kw)
    s1, s2 = m1.state_dict(), m2.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert h1["step"].tolist() == [7, 14, 21]
    assert h2["step"].tolist() == [5, 10, 15, 20, 21] and h2["epoch"].tolist() == [1, 2, 3, 3, 3]
    # the training loss of a row is the mean over the mini-batches since the previous row
    assert h2["eval_accuracy"].iloc[-1] == pytest.approx((models.predict(m2, X[:50]) == y[:50]).mean())


@pytest.mark.parametrize("arch", ["linear", "cnn"])
def test_train_is_reproducible_and_leaves_global_rng(arch):
    X, y = _data()
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    m1, h1 = models.train(_tiny(arch, 6), X, y, epochs=3, seed=5, cache=False, progress=False)
    assert torch.equal(state, torch.random.get_rng_state())
    m2, h2 = models.train(_tiny(arch, 6), X, y, epochs=3, seed=5, cache=False, progress=False)
    m3, _ = models.train(_tiny(arch, 6), X, y, epochs=3, seed=6, cache=False, progress=False)
    s1, s2, s3 = m1.state_dict(), m2.state_dict(), m3.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    pd.testing.assert_frame_equal(h1.drop(columns="seconds"), h2.drop(columns="seconds"))
    if arch == "linear":  # dropout and shuffling both depend on the seed
        assert not all(torch.equal(s1[k], s3[k]) for k in s1)


def test_multi_output_training_for_the_adversary():
    X, y = _data()
    Y = np.stack([y, X[:, 0].astype(np.int64)], axis=1)
    adv = models.make_model("linear", 6, n_outputs=2, dropout=0.0, hidden=(8, 8, 8))
    adv, hist = models.train(adv, X, Y, epochs=2, cache=False, progress=False)
    assert np.isfinite(hist["train_loss"]).all()
    with pytest.raises(ValueError, match="shape"):
        models.train(adv, X, y, epochs=1, cache=False, progress=False)


def test_progress_bar_silenced(capsys):
    X, y = _data(n=64)
    models.train(_tiny("linear", 6), X, y, epochs=2, cache=False, progress=False)
    captured = capsys.readouterr()
    assert "training" not in captured.err and "epoch" not in captured.err


def test_progress_bar_shown_when_asked(capsys):
    X, y = _data(n=64)
    models.train(_tiny("linear", 6), X, y, epochs=2, cache=False, progress=True, desc="tiny-run")
    assert "tiny-run" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, exc", [
    (dict(epochs=0), ValueError),
    (dict(batch_size=0), ValueError),
    (dict(learning_rate=-1.0), ValueError),
    (dict(eval_every=0), ValueError),
    (dict(eval_set=(np.zeros((3, 6), np.float32),)), ValueError),  # y missing
    (dict(eval_set=(np.zeros((3, 6), np.float32), np.zeros(3), np.zeros(3))), ValueError),  # s without its loss
    (dict(s=np.zeros(200)), ValueError),  # s is read by a target-label loss only
])
def test_train_rejects_bad_arguments(kwargs, exc):
    X, y = _data()
    with pytest.raises(exc):
        models.train(_tiny("linear", 6), X, y, cache=False, progress=False, **kwargs)


def test_train_rejects_bad_data():
    X, y = _data()
    m = _tiny("linear", 6)
    with pytest.raises(ValueError, match="columns"):
        models.train(m, X[:, :5], y, cache=False, progress=False)
    with pytest.raises(ValueError, match="0 and 1"):
        models.train(m, X, y * 2, cache=False, progress=False)
    Xn = X.copy()
    Xn[0, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        models.train(m, Xn, y, cache=False, progress=False)
    with pytest.raises(TypeError):
        models.train(m, X.tolist(), y, cache=False, progress=False)


def test_predict_proba_restores_mode_and_turns_dropout_off():
    X, _ = _data(n=50)
    m = models.make_model("linear", 6, dropout=0.5)
    m.train()
    p1, p2 = models.predict_proba(m, X), models.predict_proba(m, X)
    np.testing.assert_array_equal(p1, p2)  # no dropout noise
    assert m.training


def test_cache_reuses_exactly_and_keys_on_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRNOTES_CACHE_DIR", str(tmp_path))
    X, y = _data()
    m1, h1 = models.train(_tiny("linear", 6), X, y, epochs=2, cache=True, progress=False)
    assert h1.attrs["cached"] is False and len(list(tmp_path.glob("*.pt"))) == 1
    m2, h2 = models.train(_tiny("linear", 6), X, y, epochs=2, cache=True, progress=False)
    assert h2.attrs["cached"] is True
    s1, s2 = m1.state_dict(), m2.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    pd.testing.assert_frame_equal(h1, h2, check_dtype=False)
    # any change of argument, data or initial weights is a new entry
    _, h3 = models.train(_tiny("linear", 6), X, y, epochs=2, learning_rate=0.01, cache=True, progress=False)
    _, h4 = models.train(_tiny("linear", 6), X[:-1], y[:-1], epochs=2, cache=True, progress=False)
    _, h5 = models.train(_tiny("linear", 6, seed=9), X, y, epochs=2, cache=True, progress=False)
    assert not any(h.attrs["cached"] for h in (h3, h4, h5))
    assert len(list(tmp_path.glob("*.pt"))) == 4
    # opt-out through the environment
    monkeypatch.setenv("FAIRNOTES_MODEL_CACHE", "0")
    _, h6 = models.train(_tiny("linear", 6), X, y, epochs=2, progress=False)
    assert h6.attrs["cached"] is False


def test_cache_entries_written_before_the_common_history_read_with_its_columns(tmp_path, monkeypatch):
    """An entry from before the trainers' common history (per-epoch seconds, test_ columns, no step)."""
    monkeypatch.setenv("FAIRNOTES_CACHE_DIR", str(tmp_path))
    X, y = _data()
    _, h1 = models.train(_tiny("linear", 6), X, y, eval_set=(X, y), epochs=3, batch_size=64, cache=True,
                         progress=False)
    (path,) = tmp_path.glob("*.pt")
    payload = torch.load(path, weights_only=True)
    old = {"epoch": h1["epoch"].tolist(), "train_loss": h1["train_loss"].tolist(),
           "train_accuracy": h1["train_accuracy"].tolist(), "test_loss": h1["eval_loss"].tolist(),
           "test_accuracy": h1["eval_accuracy"].tolist(), "seconds": [1.0, 2.0, 3.0]}
    torch.save(dict(payload, history=old), path)
    _, h2 = models.train(_tiny("linear", 6), X, y, eval_set=(X, y), epochs=3, batch_size=64, cache=True,
                         progress=False)
    assert h2.attrs["cached"] is True
    pd.testing.assert_frame_equal(h1.drop(columns="seconds"), h2.drop(columns="seconds"), check_dtype=False)
    assert h2["step"].tolist() == [4, 8, 12] and h2["seconds"].tolist() == [1.0, 3.0, 6.0]
