"""The auditability paper's two network architectures, one training loop, predictions.

Explained in the chapter *Prediction sensitivity* (``book/sensitivity.md``), section "The
models"; the adversarial mitigation chapter reuses the architectures (as the adversary, with
``n_outputs`` equal to the number of protected attributes and no dropout) and :func:`train`.

Architectures (Ngong, Maughan & Near, 2021, Section 5)
-------------------------------------------------------
:class:`LinearNet`, the paper's "linear" network
    ``d -> 32 -> 32 -> 32 -> n_outputs``: three hidden fully connected layers of 32 units, each
    followed by ReLU and dropout (p = 0.2 by default; the adversary uses 0), then one linear
    output layer and a sigmoid.
:class:`ConvNet`, the paper's "CNN", C256-C128-C64-C32-C16-C1
    The feature vector of width ``d`` is read as a 1-channel sequence of length ``d``
    (input shape ``(n, 1, d)``). Six 1-D convolutions with 256, 128, 64, 32, 16 and
    ``n_outputs`` filters (``n_outputs = 1`` gives the paper's C1), kernel size 3 (by default),
    stride 1 and zero padding ``kernel_size // 2`` ("same"), so that the length stays ``d`` in
    every layer; ReLU after each but the last. The paper does not say how the C1 layer's
    length-``d`` output becomes one prediction; here it is averaged over the length (global
    average pooling, no extra parameters), and the sigmoid of that average is the
    probability. The paper's CNN has no dropout.

Both models return probabilities in (0, 1): shape ``(n,)`` when ``n_outputs == 1`` and
``(n, n_outputs)`` otherwise. :meth:`logits` returns the values before the sigmoid (training
uses them with ``BCEWithLogitsLoss``, which is the same loss as BCE on the probabilities, computed
stably). Both accept a float tensor of shape ``(n, d)``.

Training cache
--------------
:func:`train` can keep the trained weights and history on disk, so that several chapters that
train the same model on the same data share one training run. A cache entry is keyed by a
SHA-256 of *everything* that determines the result: the fairnotes and torch versions, the
model's class and configuration, its initial weights (hence the initialisation seed), the bytes
of every training and test array, and every training argument (epochs, batch size, learning
rate, weight decay, seed). It is on by default; turn it off with ``cache=False`` or the
environment variable ``FAIRNOTES_MODEL_CACHE=0``. Entries live in ``FAIRNOTES_CACHE_DIR``
(default ``~/.cache/fairnotes/models``); delete the folder to empty it.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from fairnotes import runtime

__all__ = [
    "LinearNet",
    "ConvNet",
    "make_model",
    "train",
    "predict_proba",
    "predict",
    "model_cache_dir",
    "fit_paper_model",
]


class LinearNet(nn.Module):
    """The paper's "linear" network: 3 hidden layers of 32 units, ReLU, dropout, sigmoid output.

    Parameters
    ----------
    n_features
        Width ``d`` of the input rows.
    n_outputs
        Number of sigmoid outputs: 1 for the classifier; the number of protected attributes for
        the adversary of the adversarial mitigation.
    hidden
        Widths of the hidden layers (the paper: ``(32, 32, 32)``).
    dropout
        Dropout probability after each hidden layer (the paper: 0.2; the adversary: 0).

    ``forward(x)`` returns probabilities of shape ``(n,)`` if ``n_outputs == 1``, else
    ``(n, n_outputs)``. See the chapter *Prediction sensitivity*.
    """

    def __init__(self, n_features: int, n_outputs: int = 1, hidden=(32, 32, 32), dropout: float = 0.2):
        super().__init__()
        _check_positive_int("n_features", n_features)
        _check_positive_int("n_outputs", n_outputs)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.config = {"n_features": int(n_features), "n_outputs": int(n_outputs),
                       "hidden": tuple(int(h) for h in hidden), "dropout": float(dropout)}
        self.n_features = int(n_features)
        self.n_outputs = int(n_outputs)
        layers: list[nn.Module] = []
        width = self.n_features
        for h in self.config["hidden"]:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, self.n_outputs))
        self.net = nn.Sequential(*layers)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The values before the sigmoid, same shape as :meth:`forward`."""
        out = self.net(x)
        return out.squeeze(-1) if self.n_outputs == 1 else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


class ConvNet(nn.Module):
    """The paper's CNN, C256-C128-C64-C32-C16-C1, over the feature vector as a 1-channel sequence.

    Parameters
    ----------
    n_features
        Width ``d`` of the input rows (the length of the sequence).
    n_outputs
        Filters of the last convolution, one per sigmoid output (1 for the classifier).
    channels
        Filters of the hidden convolutions (the paper: ``(256, 128, 64, 32, 16)``).
    kernel_size
        Odd kernel size of every convolution (default 3); padding ``kernel_size // 2`` keeps the
        length ``d`` through the network.

    The last convolution's output, shape ``(n, n_outputs, d)``, is averaged over the length
    (global average pooling) to give one logit per output. No dropout (the paper's CNN has
    none). ``forward(x)`` takes ``(n, d)`` and returns probabilities of shape ``(n,)`` if
    ``n_outputs == 1``, else ``(n, n_outputs)``. See the chapter *Prediction sensitivity*.
    """

    def __init__(self, n_features: int, n_outputs: int = 1, channels=(256, 128, 64, 32, 16),
                 kernel_size: int = 3):
        super().__init__()
        _check_positive_int("n_features", n_features)
        _check_positive_int("n_outputs", n_outputs)
        _check_positive_int("kernel_size", kernel_size)
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd (so that 'same' padding keeps the length), got {kernel_size}")
        self.config = {"n_features": int(n_features), "n_outputs": int(n_outputs),
                       "channels": tuple(int(c) for c in channels), "kernel_size": int(kernel_size)}
        self.n_features = int(n_features)
        self.n_outputs = int(n_outputs)
        layers: list[nn.Module] = []
        c_in = 1
        for c in self.config["channels"]:
            layers += [nn.Conv1d(c_in, c, kernel_size, padding=kernel_size // 2), nn.ReLU()]
            c_in = c
        layers.append(nn.Conv1d(c_in, self.n_outputs, kernel_size, padding=kernel_size // 2))
        self.net = nn.Sequential(*layers)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The values before the sigmoid, same shape as :meth:`forward`."""
        out = self.net(x.unsqueeze(1)).mean(dim=-1)  # (n, n_outputs, d) -> (n, n_outputs)
        return out.squeeze(-1) if self.n_outputs == 1 else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


_ARCHITECTURES = {"linear": LinearNet, "cnn": ConvNet}


def make_model(architecture: str, n_features: int, n_outputs: int = 1, *, seed: int | None = 0, **kwargs) -> nn.Module:
    """Build ``"linear"`` (:class:`LinearNet`) or ``"cnn"`` (:class:`ConvNet`) with seeded weights.

    The initial weights depend only on ``seed`` (PyTorch's default initialisation, drawn inside
    :func:`torch.random.fork_rng`, so the global random state is left as it was); ``seed=None``
    draws them from the global random state. Extra keyword arguments go to the class (e.g.
    ``dropout=0.0`` for the adversary, ``kernel_size=5``). See the chapter *Prediction sensitivity*.
    """
    if architecture not in _ARCHITECTURES:
        raise ValueError(f"architecture must be one of {sorted(_ARCHITECTURES)}, got {architecture!r}")
    cls = _ARCHITECTURES[architecture]
    if seed is None:
        return cls(n_features, n_outputs, **kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(n_features, n_outputs, **kwargs)


# --------------------------------------------------------------------------- helpers

def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _device_of(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("cpu")


def _dtype_of(model: nn.Module) -> torch.dtype:
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def _as_features(X, model: nn.Module, name: str = "X") -> torch.Tensor:
    if isinstance(X, pd.DataFrame):
        X = X.to_numpy()
    if isinstance(X, torch.Tensor):
        t = X.detach()
    elif isinstance(X, np.ndarray):
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(X))
    else:
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(X).__name__}")
    if t.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows x features), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} has no rows")
    width = getattr(model, "n_features", None)
    if width is not None and t.shape[1] != width:
        raise ValueError(f"{name} has {t.shape[1]} columns but the model expects {width} features")
    t = t.to(device=_device_of(model), dtype=_dtype_of(model))
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


def _as_targets(y, n_rows: int, n_outputs: int, device, dtype, name="y") -> torch.Tensor:
    t = y.detach() if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    if n_outputs == 1 and t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    expected = (n_rows,) if n_outputs == 1 else (n_rows, n_outputs)
    if tuple(t.shape) != expected:
        raise ValueError(f"{name} must have shape {expected}, got {tuple(t.shape)}")
    t = t.to(device=device, dtype=dtype)
    if not torch.isin(t, torch.tensor([0.0, 1.0], dtype=dtype, device=device)).all():
        raise ValueError(f"{name} must hold only 0 and 1")
    return t


class _eval_mode:
    """Put every submodule in eval mode and restore each one's own mode on exit."""

    def __init__(self, model: nn.Module):
        self.model = model

    def __enter__(self):
        self.modes = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        return self.model

    def __exit__(self, *exc):
        for m, mode in self.modes:
            m.training = mode
        return False


def predict_proba(model: nn.Module, X, *, batch_size: int = 8192) -> np.ndarray:
    """The model's probabilities for the rows of ``X`` (numpy array or tensor), as a numpy array.

    Runs in eval mode (dropout off) under :func:`torch.inference_mode`, ``batch_size`` rows at a
    time, on the model's device; the model's mode is restored afterwards. Returns shape ``(n,)``
    for one output, ``(n, n_outputs)`` otherwise. See the chapter *Prediction sensitivity*.
    """
    _check_positive_int("batch_size", batch_size)
    x = _as_features(X, model)
    outs = []
    with _eval_mode(model), torch.inference_mode():
        for start in range(0, x.shape[0], batch_size):
            outs.append(model(x[start:start + batch_size]))
    return torch.cat(outs).float().cpu().numpy()


def predict(model: nn.Module, X, *, threshold: float = 0.5, batch_size: int = 8192) -> np.ndarray:
    """0/1 predictions: ``predict_proba(model, X) > threshold``, as int64. See *Prediction sensitivity*."""
    return (predict_proba(model, X, batch_size=batch_size) > threshold).astype(np.int64)


# --------------------------------------------------------------------------- cache

def model_cache_dir() -> Path:
    """Folder of the training cache: ``FAIRNOTES_CACHE_DIR`` or ``~/.cache/fairnotes/models``.

    See the chapter *Prediction sensitivity*, section "The models".
    """
    root = os.environ.get("FAIRNOTES_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "fairnotes" / "models"


def _cache_enabled(cache: bool | None) -> bool:
    if cache is not None:
        return bool(cache)
    return runtime._flag("FAIRNOTES_MODEL_CACHE", True)


def _cache_key(tag, args: dict, modules, arrays) -> str:
    """SHA-256 of everything that determines a training run, for the on-disk cache.

    ``tag`` names the algorithm (and its version); ``args`` its settings; ``modules`` the networks
    it starts from (class, configuration and every weight); ``arrays`` the data (numpy arrays or
    tensors, ``None`` allowed). The fairnotes and torch versions are part of the key. Used by
    :func:`train` and :func:`fairnotes.adversarial.train_adversarial`.
    """
    import fairnotes

    h = hashlib.sha256()
    h.update(repr((tag, fairnotes.__version__, torch.__version__, sorted(args.items()))).encode())
    for m in modules:
        h.update(repr((type(m).__module__, type(m).__qualname__, sorted(getattr(m, "config", {}).items()))).encode())
        for name, value in m.state_dict().items():
            h.update(name.encode())
            h.update(value.detach().cpu().contiguous().numpy().tobytes())
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        a = np.ascontiguousarray(a)
        h.update(repr((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- training

def train(
    model: nn.Module,
    X_train,
    y_train,
    *,
    X_test=None,
    y_test=None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    progress: bool | None = None,
    desc: str | None = None,
    cache: bool | None = None,
) -> tuple[nn.Module, pd.DataFrame]:
    """Train ``model`` with binary cross-entropy and Adam on mini-batches; return it and its history.

    Parameters
    ----------
    model
        A :class:`LinearNet` or :class:`ConvNet` (any module with a ``logits`` method, or one whose
        ``forward`` returns probabilities). Trained in place, on its own device.
    X_train, y_train
        Features ``(n, d)`` and 0/1 labels ``(n,)`` (or ``(n, n_outputs)`` for a multi-output
        model such as the adversary), numpy arrays or tensors.
    X_test, y_test
        Optional held-out data, evaluated (in eval mode) after every epoch.
    epochs, batch_size, lr, weight_decay
        Adam with learning rate ``lr`` (the paper: 0.001) for ``epochs`` passes over the shuffled
        training rows in mini-batches of ``batch_size``.
    seed
        Seeds the shuffling and dropout (inside :func:`torch.random.fork_rng`, so the global
        random state is untouched). The same initial weights, data and seed give the same model.
    progress
        Show a tqdm bar over epochs (``None``: as :func:`fairnotes.runtime.progress_enabled`,
        i.e. off in fast mode; ``False`` silences it).
    cache
        Reuse/keep the result on disk (see the module docstring); ``None`` follows
        ``FAIRNOTES_MODEL_CACHE`` (default on).

    Returns
    -------
    model, history
        The trained model (left in eval mode) and a DataFrame with one row per epoch and the
        columns ``epoch``, ``train_loss``, ``train_accuracy`` (averaged over the epoch's
        mini-batches, dropout on), ``test_loss``, ``test_accuracy`` (end of epoch, eval mode;
        only when test data are given) and ``seconds`` (wall time of the epoch).
        ``history.attrs["cached"]`` says whether the result came from the cache. Accuracy
        thresholds the probability at 0.5; for several outputs it is averaged over them.

    See the chapter *Prediction sensitivity*, section "The models".
    """
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    device, dtype = _device_of(model), _dtype_of(model)
    n_out = int(getattr(model, "n_outputs", 1))
    x_tr = _as_features(X_train, model, "X_train")
    y_tr = _as_targets(y_train, x_tr.shape[0], n_out, device, dtype, "y_train")
    x_te = y_te = None
    if X_test is not None:
        x_te = _as_features(X_test, model, "X_test")
        y_te = _as_targets(y_test, x_te.shape[0], n_out, device, dtype, "y_test")

    use_cache = _cache_enabled(cache)
    args = {"epochs": int(epochs), "batch_size": int(batch_size), "lr": float(lr),
            "weight_decay": float(weight_decay), "seed": int(seed)}
    path = None
    if use_cache:
        key = _cache_key("fairnotes.models.train", args, (model,), (x_tr, y_tr, x_te, y_te))
        path = model_cache_dir() / f"{type(model).__name__}-{key[:32]}.pt"
        if path.exists():
            try:
                saved = torch.load(path, map_location=device, weights_only=False)
                model.load_state_dict(saved["state_dict"])
                history = pd.DataFrame(saved["history"])
                history.attrs["cached"] = True
                model.eval()
                return model, history
            except Exception:  # a corrupt or incompatible entry: train again and overwrite it
                pass

    logits_fn = model.logits if hasattr(model, "logits") else None
    loss_logits = nn.BCEWithLogitsLoss()
    loss_prob = nn.BCELoss()

    def loss_and_out(xb, yb):
        if logits_fn is not None:
            z = logits_fn(xb)
            return loss_logits(z, yb), z > 0
        p = model(xb)
        return loss_prob(p, yb), p > 0.5

    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    rows = []
    n = x_tr.shape[0]
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        bar = runtime.progress(range(1, epochs + 1), disable=None if progress is None else not progress,
                               desc=desc or f"training {type(model).__name__}", unit="epoch")
        for epoch in bar:
            t0 = time.perf_counter()
            model.train()
            perm = torch.randperm(n, generator=gen).to(device)
            tot_loss = tot_correct = 0.0
            for start in range(0, n, batch_size):
                idx = perm[start:start + batch_size]
                xb, yb = x_tr[idx], y_tr[idx]
                opt.zero_grad(set_to_none=True)
                loss, pred = loss_and_out(xb, yb)
                loss.backward()
                opt.step()
                tot_loss += float(loss.detach()) * len(idx)
                tot_correct += float((pred == (yb > 0.5)).float().mean()) * len(idx)
            row = {"epoch": epoch, "train_loss": tot_loss / n, "train_accuracy": tot_correct / n}
            model.eval()
            if x_te is not None:
                with torch.inference_mode():
                    te_loss = te_correct = 0.0
                    for start in range(0, x_te.shape[0], 8192):
                        xb, yb = x_te[start:start + 8192], y_te[start:start + 8192]
                        loss, pred = loss_and_out(xb, yb)
                        te_loss += float(loss) * len(xb)
                        te_correct += float((pred == (yb > 0.5)).float().mean()) * len(xb)
                    row["test_loss"] = te_loss / x_te.shape[0]
                    row["test_accuracy"] = te_correct / x_te.shape[0]
            row["seconds"] = time.perf_counter() - t0
            rows.append(row)
            if hasattr(bar, "set_postfix"):
                bar.set_postfix({k: round(v, 4) for k, v in row.items() if k.endswith(("loss", "accuracy"))})
    model.eval()
    history = pd.DataFrame(rows)
    history.attrs["cached"] = False
    if use_cache and path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            buf = io.BytesIO()
            torch.save({"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                        "history": history.to_dict(orient="list")}, buf)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(buf.getvalue())
            os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
        except OSError:
            pass  # a read-only or full disk only costs the next run a retraining
    return model, history


def fit_paper_model(
    dataset: str,
    architecture: str,
    *,
    epochs: int,
    attribute: str = "race",
    include_protected: bool = True,
    batch_size: int = 64,
    seed: int = 0,
    train_rows: int | None = None,
    progress: bool | None = None,
    cache: bool | None = None,
):
    """Split ``"adult"`` or ``"compas"`` as the auditability paper did and train one of its models.

    The split is :func:`fairnotes.data.split` of :func:`fairnotes.data.adult_auditability` or
    :func:`fairnotes.data.compas_auditability` with ``test_size=0.2`` and ``seed`` (24,752/6,188
    and 4,937/1,235 rows); the model is :func:`make_model` (``seed``) trained by :func:`train`
    with the paper's settings (BCE, Adam, lr 0.001) for ``epochs`` epochs in mini-batches of
    ``batch_size`` (the paper gives neither; the book's choices are in the chapter). The
    chapters that share a model call this with the same arguments, so the training cache
    serves the second one. ``train_rows`` trains on the first ``train_rows`` rows of the
    (already shuffled) training part only, e.g. to keep fast mode fast; the returned split still
    holds every row. Returns ``(model, history, split)``.

    See the chapter *Prediction sensitivity*, section "The models".
    """
    from fairnotes import data as _data

    loaders = {"adult": _data.adult_auditability, "compas": _data.compas_auditability}
    if dataset not in loaders:
        raise ValueError(f"dataset must be 'adult' or 'compas', got {dataset!r}")
    sp = _data.split(loaders[dataset](), attribute, test_size=0.2, seed=seed, include_protected=include_protected)
    model = make_model(architecture, sp.X_train.shape[1], seed=seed)
    n = len(sp.X_train) if train_rows is None else int(train_rows)
    if n < 1:
        raise ValueError(f"train_rows must be a positive integer or None, got {train_rows!r}")
    model, history = train(model, sp.X_train[:n], sp.y_train[:n], X_test=sp.X_test, y_test=sp.y_test, epochs=epochs,
                           batch_size=batch_size, seed=seed, progress=progress, cache=cache,
                           desc=f"{architecture} on {dataset}")
    return model, history, sp
