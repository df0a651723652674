"""The auditability paper's two network architectures, one training loop, predictions.

Explained in the chapter :doc:`/book/sensitivity`, section "The
models"; the adversarial mitigation chapter reuses the architectures (as the adversary, with
``n_outputs`` equal to the number of protected attributes and no dropout) and :func:`train`.

Architectures (Ngong, Maughan & Near, 2021, Section 5)
-------------------------------------------------------
:class:`LinearNet`, the paper's "linear" network
    ``d -> 32 -> 32 -> 32 -> n_outputs``: three hidden fully connected layers of 32 units, each
    followed by ReLU and dropout (p = 0.2 by default; the adversary uses 0), then one linear
    output layer and a sigmoid.
:class:`ConvNet`, the paper's "CNN", C256-C128-C64-C32-C16-C1
    Six 1-D convolutions with 256, 128, 64, 32, 16 and ``n_outputs`` filters (``n_outputs = 1``
    gives the paper's C1), ReLU after each but the last, no dropout (the paper's CNN has none).
    The paper does not say how a row of ``d`` features enters them. The book reads the features
    as the *channels* of a sequence of length 1 with kernels of width 1 (``features_as="channels"``,
    the default): a ``d -> 256 -> 128 -> 64 -> 32 -> 16 -> n_outputs`` network, the one reading
    under which the paper's adversary, which reads a single number, can have "the same
    architecture". The other reading, ``features_as="sequence"``, reads the row as a 1-channel
    sequence of length ``d`` (input shape ``(n, 1, d)``) with kernels of width 3 and "same"
    padding, and averages the C1 layer's length-``d`` output (global average pooling); the book
    used it before it adopted the first, and its ablations keep it (:doc:`/book/audit`).

Both models return probabilities in (0, 1): shape ``(n,)`` when ``n_outputs == 1`` and
``(n, n_outputs)`` otherwise. :meth:`LinearNet.logits` (and :meth:`ConvNet.logits`) return the values before the sigmoid (training
uses them with ``BCEWithLogitsLoss``, which is the same loss as BCE on the probabilities, computed
stably). Both accept a float tensor of shape ``(n, d)``.

Logistic regression and target labels
--------------------------------------
:class:`LogisticRegression` (``make_model("logistic", d)``) is one linear layer and a sigmoid.
:class:`TargetLabelLoss` trains any of the three through FairGP's target labels (Kehrenberg, Chen &
Quadrianto, 2020): the negative log of the marginal likelihood ``sum over ybar of P(y | ybar, s)
p(ybar | x)``; :func:`train` takes it as ``loss=`` with the protected attribute as ``s=``
(and in ``eval_set=(X, y, s)``), which only the loss reads. Explained in the chapter :doc:`/book/target_nets`.

Training cache
--------------
:func:`train` can keep the trained weights and history on disk, so that several chapters that
train the same model on the same data share one training run. A cache entry is keyed by a
SHA-256 of *everything* that determines the result: the fairnotes and torch versions, the
model's class and configuration, its initial weights (hence the initialisation seed), the bytes
of every training and evaluation array, and every training argument (epochs, batch size, learning
rate, weight decay, seed, ``eval_every`` when given). It is on by default; turn it off with ``cache=False`` or the
environment variable ``FAIRNOTES_MODEL_CACHE=0``. Entries live in ``FAIRNOTES_CACHE_DIR``
(default ``~/.cache/fairnotes/models``); delete the folder to empty it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from fairnotes import _cache, _history, runtime
from fairnotes._torch import as_features, as_targets, device_of, dtype_of, eval_mode
from fairnotes._validation import positive_int, positive_number
from fairnotes.target_labels import check_parameters

__all__ = [
    "LinearNet",
    "ConvNet",
    "LogisticRegression",
    "TargetLabelLoss",
    "make_model",
    "train",
    "predict_proba",
    "predict",
    "model_cache_dir",
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

    Notes
    -----
    ``forward(x)`` returns probabilities of shape ``(n,)`` if ``n_outputs == 1``, else
    ``(n, n_outputs)``. See the chapter :doc:`/book/sensitivity`.
    """

    def __init__(self, n_features: int, n_outputs: int = 1, hidden=(32, 32, 32), dropout: float = 0.2):
        super().__init__()
        positive_int("n_features", n_features)
        positive_int("n_outputs", n_outputs)
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
        """The probabilities, the sigmoid of the logits."""
        return torch.sigmoid(self.logits(x))


class ConvNet(nn.Module):
    """The paper's CNN, C256-C128-C64-C32-C16-C1, over the features as channels (or as a sequence).

    Parameters
    ----------
    n_features
        Width ``d`` of the input rows (the channels of the first layer, or the length of the sequence).
    n_outputs
        Filters of the last convolution, one per sigmoid output (1 for the classifier).
    channels
        Filters of the hidden convolutions (the paper: ``(256, 128, 64, 32, 16)``).
    kernel_size
        Odd kernel size of every convolution (default 1 with ``features_as="channels"``, where it
        must be 1, and 3 with ``features_as="sequence"``); padding ``kernel_size // 2`` keeps the
        length through the network.
    features_as
        How the row enters the first convolution. ``"channels"`` (the book's CNN): the ``d``
        features are the input *channels* of a sequence of length 1 and every kernel has width 1,
        so the network is ``d -> 256 -> 128 -> 64 -> 32 -> 16 -> n_outputs`` fully connected
        layers with ReLU and no dropout. That is the one reading of the paper's "C256-...-C1"
        under which its adversary, which reads a single number, can have "the same
        architecture" (:doc:`/book/audit`, section "Which reading of the paper makes the
        mitigated models group-fair?"). ``"sequence"``: a 1-channel sequence of length ``d``.

    Notes
    -----
    The last convolution's output, shape ``(n, n_outputs, d)`` (length 1 with
    ``features_as="channels"``), is averaged over the length (global average pooling) to give
    one logit per output. No dropout (the paper's CNN has none). ``forward(x)`` takes ``(n, d)``
    and returns probabilities of shape ``(n,)`` if ``n_outputs == 1``, else ``(n, n_outputs)``.
    See the chapter :doc:`/book/sensitivity`.
    """

    def __init__(self, n_features: int, n_outputs: int = 1, channels=(256, 128, 64, 32, 16),
                 kernel_size: int | None = None, features_as: str = "channels"):
        super().__init__()
        positive_int("n_features", n_features)
        positive_int("n_outputs", n_outputs)
        if features_as not in ("sequence", "channels"):
            raise ValueError(f"features_as must be 'sequence' or 'channels', got {features_as!r}")
        if kernel_size is None:
            kernel_size = 3 if features_as == "sequence" else 1
        positive_int("kernel_size", kernel_size)
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd (so that 'same' padding keeps the length), got {kernel_size}")
        if features_as == "channels" and kernel_size != 1:
            raise ValueError(f"with features_as='channels' the sequence has length 1 and every kernel width 1; "
                             f"got kernel_size={kernel_size}")
        self.config = {"n_features": int(n_features), "n_outputs": int(n_outputs),
                       "channels": tuple(int(c) for c in channels), "kernel_size": int(kernel_size)}
        if features_as == "channels":   # only then: the kernel-3 CNNs trained before keep their cache keys
            self.config["features_as"] = features_as
        self.features_as = features_as
        self.n_features = int(n_features)
        self.n_outputs = int(n_outputs)
        layers: list[nn.Module] = []
        c_in = 1 if features_as == "sequence" else self.n_features
        for c in self.config["channels"]:
            layers += [nn.Conv1d(c_in, c, kernel_size, padding=kernel_size // 2), nn.ReLU()]
            c_in = c
        layers.append(nn.Conv1d(c_in, self.n_outputs, kernel_size, padding=kernel_size // 2))
        self.net = nn.Sequential(*layers)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The values before the sigmoid, same shape as :meth:`forward`."""
        x = x.unsqueeze(1) if self.features_as == "sequence" else x.unsqueeze(-1)   # (n, 1, d) or (n, d, 1)
        out = self.net(x).mean(dim=-1)  # (n, n_outputs, length) -> (n, n_outputs)
        return out.squeeze(-1) if self.n_outputs == 1 else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The probabilities, the sigmoid of the logits."""
        return torch.sigmoid(self.logits(x))


class LogisticRegression(nn.Module):
    """Logistic regression as a torch module: one linear layer ``d -> n_outputs`` and a sigmoid.

    ``forward(x)`` returns probabilities of shape ``(n,)`` if ``n_outputs == 1``, else
    ``(n, n_outputs)``; :meth:`logits` the values before the sigmoid. Trained by :func:`train`
    like the networks (with BCE, or with :class:`TargetLabelLoss` as the FairGP paper's 2020
    version does). See the chapter :doc:`/book/target_nets`.
    """

    def __init__(self, n_features: int, n_outputs: int = 1):
        super().__init__()
        positive_int("n_features", n_features)
        positive_int("n_outputs", n_outputs)
        self.config = {"n_features": int(n_features), "n_outputs": int(n_outputs)}
        self.n_features = int(n_features)
        self.n_outputs = int(n_outputs)
        self.linear = nn.Linear(self.n_features, self.n_outputs)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The values before the sigmoid, same shape as :meth:`forward`."""
        out = self.linear(x)
        return out.squeeze(-1) if self.n_outputs == 1 else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The probabilities, the sigmoid of the logits."""
        return torch.sigmoid(self.logits(x))


_ARCHITECTURES = {"linear": LinearNet, "cnn": ConvNet, "logistic": LogisticRegression}


# --------------------------------------------------------------------------- target labels

class TargetLabelLoss(nn.Module):
    """FairGP's target-label likelihood as a loss for any classifier with logits.

    ``parameters`` is the 2x2 table of :mod:`fairnotes.target_labels`, ``P[s, ybar] =
    P(y = 1 | ybar, s)`` (e.g. :func:`fairnotes.target_labels.parity_parameters`), checked by
    :func:`fairnotes.target_labels.check_parameters`. ``forward(logits, y, s)`` returns the mean
    over the rows of the negative log marginal likelihood of the observed label::

        -log sum_{ybar in {0, 1}} P(y | ybar, s) p(ybar | x),    p(ybar = 1 | x) = sigmoid(logit)

    computed from the logits with log-sum-exp: ``log P(y | ybar, s)`` is ``-inf`` where a parameter
    is 0 (or 1), and ``log p(ybar | x)`` is ``logsigmoid(+-logit)``, so no ``log(0)`` is taken and
    large logits stay finite. With the identity parameters (``P[s, ybar] = ybar``) the loss *is*
    ``BCEWithLogitsLoss`` (then computed by it, so that training through it equals BCE training
    exactly). ``logits``, ``y`` and ``s`` have shape ``(n,)``; ``y`` and ``s`` hold 0 and 1.
    The model predicts ``ybar``: at prediction time the parameters play no part. The checked table
    is kept as ``parameters_`` (``parameters()`` is, as for every module, its weights: none here).
    Its gradient with respect to a logit is ``sigmoid(logit) - q``, with ``q = P(ybar = 1 | y, x, s)``
    the posterior of the target label, computed in closed form.

    See the chapter :doc:`/book/target_nets` (the derivation is in :doc:`/book/target_labels`).

    Examples
    --------
    >>> import torch
    >>> from fairnotes.target_labels import identity_parameters, parity_parameters
    >>> loss = TargetLabelLoss(parity_parameters([0.1, 0.3]))
    >>> logit = torch.tensor([2.0])                  # p(ybar = 1 | x) = sigmoid(2) = 0.881
    >>> y = torch.tensor([0.0])
    >>> round(loss(logit, y, torch.tensor([0.0])).item(), 2)   # -log(0.119 + 0.5 * 0.881)
    0.58
    >>> round(loss(logit, y, torch.tensor([1.0])).item(), 2)   # -log(0.875 * 0.119)
    2.26
    >>> plain = TargetLabelLoss(identity_parameters())
    >>> round(plain(logit, y, torch.tensor([0.0])).item(), 2)  # binary cross-entropy, -log(0.119)
    2.13
    """

    def __init__(self, parameters):
        super().__init__()
        P = check_parameters(parameters)
        self.parameters_ = P.copy()
        self.identity = bool(np.array_equal(P, [[0.0, 1.0], [0.0, 1.0]]))
        # by code 2 s + y, rows (s, y) = (0,0), (0,1), (1,0), (1,1): log P(y | ybar = 0, s),
        # log P(y | ybar = 1, s) and their difference (the shift of the posterior's logit, +-inf allowed)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(np.stack([1.0 - P[0], P[0], 1.0 - P[1], P[1]]))
            table = np.column_stack([logs, logs[:, 1] - logs[:, 0]])
        self.register_buffer("log_table", torch.as_tensor(table, dtype=torch.float64), persistent=False)
        self._bce = nn.BCEWithLogitsLoss()
        self._constants: dict = {}

    def extra_repr(self) -> str:
        return f"parameters={self.parameters_.tolist()}"

    def forward(self, logits: torch.Tensor, y: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The mean negative log marginal likelihood of the labels ``y`` of people in groups ``s``."""
        if not isinstance(logits, torch.Tensor) or logits.ndim != 1:
            raise ValueError(f"logits must be a 1-D tensor (one logit per row), got "
                             f"{getattr(logits, 'shape', type(logits).__name__)}")
        y = _binary_tensor("y", y, logits)
        s = _binary_tensor("s", s, logits)
        return self.from_codes(logits, y, (2 * s + y).long())

    def from_codes(self, logits: torch.Tensor, y: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """The loss from precomputed row codes ``2 s + y`` (long), unchecked. (:func:`train` goes one
        step further: it looks up every training row's part of the table once, see ``_rows``.)"""
        if self.identity:
            return self._bce(logits, y)
        table, mean_weights, scale = self._constants_for(logits)
        return _MarginalNLL.apply(logits, torch.index_select(table, 0, codes), mean_weights, scale)

    def _rows(self, codes: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """The rows of the log-table for rows with ``codes`` ``2 s + y``, shape ``(n, 3)`` (``log d,
        log c, log c - log d``), on ``like``'s device and dtype. :func:`train` gathers them once for
        all its rows, and per batch indexes them as it would index the codes (:meth:`_from_rows`)."""
        return torch.index_select(self.log_table.to(device=like.device, dtype=like.dtype), 0, codes)

    def _from_rows(self, logits: torch.Tensor, y: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """The loss from the rows' part of the table (``_rows``), unchecked; as :meth:`from_codes`."""
        if self.identity:
            return self._bce(logits, y)
        _, mean_weights, scale = self._constants_for(logits)
        return _MarginalNLL.apply(logits, rows, mean_weights, scale)

    def _constants_for(self, like: torch.Tensor) -> tuple:
        """For ``n = len(like)`` rows on ``like``'s device and dtype: the (4, 3) table, the vector
        ``-1/n`` (the mean's weights, negated) and ``1/n``; built once per kind (a training run
        meets two or three batch sizes; the cache is emptied if it ever holds many)."""
        key = (like.shape[0], like.dtype, like.device)
        found = self._constants.get(key)
        if found is None:
            n = max(int(like.shape[0]), 1)
            if len(self._constants) >= 16:
                self._constants.clear()
            with torch.inference_mode(False):   # ordinary tensors even if first met in evaluation
                kind = dict(device=like.device, dtype=like.dtype)
                found = (self.log_table.to(**kind), torch.full((like.shape[0],), -1.0 / n, **kind),
                         torch.tensor(1.0 / n, **kind))
            self._constants[key] = found
        return found


class _MarginalNLL(torch.autograd.Function):
    """Mean ``-log(c sigmoid(z) + d sigmoid(-z))`` from ``w = (log d, log c, log c - log d)`` per row.

    Forward by log-sum-exp; the gradient in closed form, ``d/dz = sigmoid(z) - q`` with ``q =
    sigmoid(z + log c - log d)``, the posterior ``P(ybar = 1 | y, x, s)``. The forward pass computes
    it (divided by ``n``) when the logits need a gradient, and the backward pass only scales it:
    a Python backward costs its call, so it does one operation. ``mean_weights`` (``-1/n`` each)
    make the negated mean one ``dot``; ``scale`` is ``1/n`` as a tensor (a Python number would be
    wrapped into one on every call). Differentiable once: a second derivative raises (a check that
    costs less than ``once_differentiable``'s wrapper).
    """

    @staticmethod
    def forward(ctx, z, w, mean_weights, scale):
        log_d, log_c, shift = w.unbind(1)
        log_p1 = nn.functional.logsigmoid(z)                       # log p(ybar = 1 | x)
        log_p0 = log_p1 - z                                          # log p(ybar = 0 | x), exact for large |z|
        log_lik = torch.logaddexp(log_c + log_p1, log_p0.add_(log_d))
        if ctx.needs_input_grad[0]:
            ctx.grad_z = torch.sigmoid(z).sub_(torch.add(z, shift).sigmoid_()).mul_(scale)
        return torch.dot(log_lik, mean_weights)

    @staticmethod
    def backward(ctx, grad):
        if torch.is_grad_enabled():  # create_graph=True: the saved gradient is a constant, so say so
            raise RuntimeError("the target-label loss is differentiable once: no second derivatives")
        return ctx.grad_z * grad, None, None, None


def _binary_tensor(name: str, v, like: torch.Tensor) -> torch.Tensor:
    """``v`` as a 0/1 tensor with ``like``'s shape, device and dtype (the message names ``v``)."""
    t = v.detach() if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))
    if tuple(t.shape) != tuple(like.shape):
        raise ValueError(f"{name} must have shape {tuple(like.shape)} (one value per logit), got {tuple(t.shape)}")
    t = t.to(device=like.device, dtype=like.dtype)
    if not ((t == 0) | (t == 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1")
    return t


def make_model(architecture: str, n_features: int, n_outputs: int = 1, *, seed: int | None = 0, **kwargs) -> nn.Module:
    """Build ``"linear"`` (:class:`LinearNet`), ``"cnn"`` (:class:`ConvNet`) or ``"logistic"``
    (:class:`LogisticRegression`, see :doc:`/book/target_nets`) with seeded weights.

    The initial weights depend only on ``seed`` (PyTorch's default initialisation, drawn inside
    :func:`torch.random.fork_rng`, so the global random state is left as it was); ``seed=None``
    draws them from the global random state. Extra keyword arguments go to the class (e.g.
    ``dropout=0.0`` for the adversary, ``features_as="sequence"`` for the kernel-3 reading of
    the CNN). See the chapter :doc:`/book/sensitivity`.
    """
    if architecture not in _ARCHITECTURES:
        raise ValueError(f"architecture must be one of {sorted(_ARCHITECTURES)}, got {architecture!r}")
    cls = _ARCHITECTURES[architecture]
    if seed is None:
        return cls(n_features, n_outputs, **kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(n_features, n_outputs, **kwargs)


# --------------------------------------------------------------------------- predictions

def predict_proba(model: nn.Module, X, *, batch_size: int = 8192) -> np.ndarray:
    """The model's probabilities for the rows of ``X`` (numpy array or tensor), as a numpy array.

    Runs in eval mode (dropout off) under :func:`torch.inference_mode`, ``batch_size`` rows at a
    time, on the model's device; the model's mode is restored afterwards. Returns shape ``(n,)``
    for one output, ``(n, n_outputs)`` otherwise. See the chapter :doc:`/book/sensitivity`.
    """
    positive_int("batch_size", batch_size)
    x = as_features(X, model)
    outs = []
    with eval_mode(model), torch.inference_mode():
        for start in range(0, x.shape[0], batch_size):
            outs.append(model(x[start:start + batch_size]))
    return torch.cat(outs).float().cpu().numpy()


def predict(model: nn.Module, X, *, threshold: float = 0.5, batch_size: int = 8192) -> np.ndarray:
    """0/1 predictions: ``predict_proba(model, X) > threshold``, as int64. See :doc:`/book/sensitivity`."""
    return (predict_proba(model, X, batch_size=batch_size) > threshold).astype(np.int64)


# --------------------------------------------------------------------------- cache

def model_cache_dir() -> Path:
    """Folder of the training cache: ``FAIRNOTES_CACHE_DIR`` or ``~/.cache/fairnotes/models``.

    See the chapter :doc:`/book/sensitivity`, section "The models".
    """
    return _cache.cache_dir()


# --------------------------------------------------------------------------- training

def train(
    model: nn.Module,
    X,
    y,
    *,
    s=None,
    loss: "TargetLabelLoss | None" = None,
    eval_set: tuple | None = None,
    eval_every: int | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    progress: bool | None = None,
    desc: str | None = None,
    cache: bool | None = None,
) -> tuple[nn.Module, pd.DataFrame]:
    """Train ``model`` with binary cross-entropy (or target labels) and Adam on mini-batches; return it and its history.

    Parameters
    ----------
    model
        A :class:`LinearNet` or :class:`ConvNet` (any module with a ``logits`` method, or one whose
        ``forward`` returns probabilities). Trained in place, on its own device.
    X, y
        Features ``(n, d)`` and 0/1 labels ``(n,)`` (or ``(n, n_outputs)`` for a multi-output
        model such as the adversary), numpy arrays or tensors.
    s, loss
        ``loss=None`` trains with binary cross-entropy (on the logits), which reads no ``s``. A
        :class:`TargetLabelLoss` trains through target labels instead: it needs the 0/1 protected
        attribute ``s`` of every training row (and in ``eval_set``), which *only the loss* reads.
        Whether the model also reads ``s`` (the "*" variant, as FairGP*) is up to ``X``: keep the
        column in it or not. See :doc:`/book/target_nets`.
    eval_set
        Held-out rows ``(X, y, s)`` (or ``(X, y)``; ``s`` only with a target-label loss),
        evaluated in eval mode for the history; evaluating consumes no random numbers, so it
        does not change the trained model.
    eval_every
        Evaluate every ``eval_every`` optimisation steps (mini-batches) and at the end; ``None``
        (default) at the end of every epoch.
    epochs, batch_size, learning_rate, weight_decay
        Adam with step size ``learning_rate`` (the paper: 0.001) for ``epochs`` passes over the
        shuffled training rows in mini-batches of ``batch_size``.
    seed
        Seeds the shuffling and dropout (inside :func:`torch.random.fork_rng`, so the global
        random state is untouched). The same initial weights, data and seed give the same model.
    progress, desc
        Show a tqdm bar over epochs (``None``: as :func:`fairnotes.runtime.progress_enabled`,
        i.e. off in fast mode; ``False`` silences it), labelled ``desc``.
    cache
        Reuse/keep the result on disk (see the module docstring); ``None`` follows
        ``FAIRNOTES_MODEL_CACHE`` (default on). With a target-label loss the key also holds
        its parameters and ``s``; without one it is what it always was.

    Returns
    -------
    model, history
        The trained model (left in eval mode) and the history of every trainer
        (``CONTRIBUTING.md``, "Trainers"), a DataFrame with one row per evaluation: ``step``
        (mini-batches so far), ``epoch``, ``train_loss``, ``train_accuracy`` (averaged over the
        mini-batches since the previous row, dropout on), ``eval_loss``, ``eval_accuracy`` (eval
        mode; only with ``eval_set``) and ``seconds`` (wall time so far).
        ``history.attrs["cached"]`` says whether the result came from the cache. Accuracy
        thresholds the probability at 0.5; for several outputs it is averaged over them.

    See the chapter :doc:`/book/sensitivity`, section "The models".

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.float32)
    >>> net = make_model("logistic", 3, seed=0)
    >>> net, history = train(net, X[:150], y[:150], eval_set=(X[150:], y[150:]), epochs=3,
    ...                      batch_size=50, learning_rate=0.1, cache=False, progress=False)
    >>> history[["step", "epoch"]].values.tolist()      # 3 mini-batches per epoch
    [[3, 1], [6, 2], [9, 3]]
    >>> list(history.columns)
    ['step', 'epoch', 'train_loss', 'train_accuracy', 'eval_loss', 'eval_accuracy', 'seconds']
    """
    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    positive_number("learning_rate", learning_rate)
    if eval_every is not None:
        positive_int("eval_every", eval_every)
    data = _training_data(model, X, y, s, eval_set, loss)
    # the key's names are the ones it had before the learning rate was called learning_rate, so that
    # the networks trained then stay in the cache
    args = {"epochs": int(epochs), "batch_size": int(batch_size), "lr": float(learning_rate),
            "weight_decay": float(weight_decay), "seed": int(seed)}
    if eval_every is not None:
        args["eval_every"] = int(eval_every)
    arrays = data[:4]
    if loss is not None:
        args.update(loss="TargetLabelLoss", parameters=loss.parameters_.tolist())
        arrays += data[4:]  # 2 s + y: with y already in the key, this is s
    digest = _cache.key("fairnotes.models.train", args, (model,), arrays)

    def run() -> dict:
        bar = runtime.progress(range(1, epochs + 1), disable=None if progress is None else not progress,
                               desc=desc or f"training {type(model).__name__}", unit="epoch")
        rows = _fit(model, data, bar, batch_size=batch_size, learning_rate=learning_rate,
                    weight_decay=weight_decay, seed=seed, loss=loss, eval_every=eval_every)
        return {"state_dict": _cache.state_dict(model), "history": _history.frame(rows).to_dict(orient="list")}

    payload, cached = _cache.load_or_train(type(model).__name__, digest, run, use_cache=_cache.enabled(cache))
    if cached:
        model.load_state_dict(payload["state_dict"])
    model.eval()
    history = _history.frame(_cached_history(payload["history"], data[0].shape[0], batch_size))
    history.attrs["cached"] = cached
    return model, history


def _training_data(model, X, y, s, eval_set, loss) -> tuple:
    """Checked tensors ``(x, y, x_eval, y_eval, c, c_eval)``: ``c`` the row codes ``2 s + y`` of a
    target-label loss (``None`` for BCE), the evaluation ones ``None`` without ``eval_set``."""
    device, dtype = device_of(model), dtype_of(model)
    n_out = int(getattr(model, "n_outputs", 1))
    x_tr = as_features(X, model, "X")
    y_tr = as_targets(y, x_tr.shape[0], n_out, device, dtype, "y")
    x_ev = y_ev = s_ev = None
    if eval_set is not None:
        x_ev, y_ev, s_ev = _eval_tuple(eval_set)
        x_ev = as_features(x_ev, model, "eval_set's X")
        y_ev = as_targets(y_ev, x_ev.shape[0], n_out, device, dtype, "eval_set's y")
    if loss is None:
        if s is not None or s_ev is not None:
            raise ValueError("s is read only by a target-label loss: pass loss=TargetLabelLoss(...) "
                             "(binary cross-entropy does not use s)")
        return x_tr, y_tr, x_ev, y_ev, None, None
    c_tr, c_ev = _target_label_codes(model, loss, y_tr, s, y_ev, s_ev)
    return x_tr, y_tr, x_ev, y_ev, c_tr, c_ev


def _eval_tuple(eval_set) -> tuple:
    """``eval_set`` as ``(X, y, s)`` (``s`` ``None`` when it has two parts)."""
    if not isinstance(eval_set, (tuple, list)) or len(eval_set) not in (2, 3):
        raise ValueError("eval_set must be a tuple (X, y, s) or (X, y) of held-out rows")
    return tuple(eval_set) if len(eval_set) == 3 else (*eval_set, None)


def _cached_history(columns: dict, n: int, batch_size: int) -> dict:
    """A cached history with the current column names: entries written before the trainers'
    common history (``_history``) had per-epoch ``seconds`` and ``test_`` columns, no ``step``."""
    if "step" in columns:
        return columns
    columns = _history.renamed(columns, {}, {"test_": "eval_"})
    per_epoch = -(-n // batch_size)
    columns["step"] = [int(e) * per_epoch for e in columns["epoch"]]
    columns["seconds"] = np.cumsum(columns["seconds"]).tolist()
    return columns


def _target_label_codes(model, loss, y_tr, s, y_ev, s_ev):
    """Check a target-label run's inputs; the row codes ``2 s + y`` of the training and evaluation rows."""
    if not isinstance(loss, TargetLabelLoss):
        raise TypeError(f"loss must be None (binary cross-entropy) or a TargetLabelLoss, got {type(loss).__name__}")
    if not hasattr(model, "logits") or int(getattr(model, "n_outputs", 1)) != 1:
        raise ValueError("a target-label loss needs a model with one output and a logits method")
    if s is None:
        raise ValueError("a target-label loss needs s, the 0/1 protected attribute of every training row")
    if (y_ev is None) != (s_ev is None):
        raise ValueError("with a target-label loss eval_set must be (X, y, s), with s")
    c_tr = (2 * as_targets(s, y_tr.shape[0], 1, y_tr.device, y_tr.dtype, "s") + y_tr).long()
    c_ev = None
    if y_ev is not None:
        c_ev = (2 * as_targets(s_ev, y_ev.shape[0], 1, y_ev.device, y_ev.dtype, "eval_set's s") + y_ev).long()
    return c_tr, c_ev


def _loss_function(model: nn.Module, loss: TargetLabelLoss | None = None):
    """``(xb, yb, cb) -> (loss, 0/1 prediction)``: BCE on the logits when the model has them, or
    the target-label loss with the rows' part ``cb`` of its table (:meth:`TargetLabelLoss._rows`)."""
    if loss is not None:
        loss = loss.to(device_of(model))

        def loss_and_prediction(xb, yb, cb):
            z = model.logits(xb)
            return loss._from_rows(z, yb, cb), z > 0
    elif hasattr(model, "logits"):
        bce_logits = nn.BCEWithLogitsLoss()

        def loss_and_prediction(xb, yb, cb=None):
            z = model.logits(xb)
            return bce_logits(z, yb), z > 0
    else:
        bce = nn.BCELoss()

        def loss_and_prediction(xb, yb, cb=None):
            p = model(xb)
            return bce(p, yb), p > 0.5
    return loss_and_prediction


class _Tally:
    """The training loss and accuracy since the previous history row, and the rows so far."""

    def __init__(self, model, loss_fn, x_ev, y_ev, c_ev, bar):
        self.model, self.loss_fn, self.x_ev, self.y_ev, self.c_ev, self.bar = model, loss_fn, x_ev, y_ev, c_ev, bar
        self.rows: list[dict] = []
        self.step = self.recorded = 0
        self.t0 = time.perf_counter()
        self._reset()

    def _reset(self) -> None:
        self.loss = self.correct = 0.0
        self.n = 0

    def add(self, loss, pred, yb) -> None:
        """Count one optimisation step on the rows of ``yb``."""
        self.step += 1
        self.loss += float(loss.detach()) * len(yb)
        self.correct += float((pred == (yb > 0.5)).float().mean()) * len(yb)
        self.n += len(yb)

    def record(self, epoch: int) -> None:
        """One history row (``eval_set`` evaluated in eval mode; the caller restores train mode)."""
        row = {"step": self.step, "epoch": epoch, "train_loss": self.loss / self.n,
               "train_accuracy": self.correct / self.n}
        self.model.eval()
        if self.x_ev is not None:
            row.update(_evaluate(self.model, self.loss_fn, self.x_ev, self.y_ev, c=self.c_ev))
        row["seconds"] = time.perf_counter() - self.t0
        self.rows.append(row)
        self.recorded = self.step
        self._reset()
        if hasattr(self.bar, "set_postfix"):
            self.bar.set_postfix({k: round(v, 4) for k, v in row.items() if k.endswith(("loss", "accuracy"))})


def _epoch(model, opt, loss_fn, x, y, batch_size: int, gen, c, tally: _Tally, epoch: int, eval_every) -> None:
    """One pass over the shuffled rows in mini-batches (dropout on), counted in ``tally``, which
    records a history row every ``eval_every`` steps (``None``: none here).
    ``c``: the rows' part of a target-label loss's table, ``(n, 3)`` (``None`` for BCE)."""
    model.train()
    n = x.shape[0]
    perm = torch.randperm(n, generator=gen).to(x.device)
    for start in range(0, n, batch_size):
        idx = perm[start:start + batch_size]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        loss, pred = loss_fn(xb, yb, None if c is None else c[idx])
        loss.backward()
        opt.step()
        tally.add(loss, pred, yb)
        if _history.due(tally.step, tally.step - 1, eval_every):
            tally.record(epoch)
            model.train()


def _evaluate(model, loss_fn, x, y, batch_size: int = 8192, c=None) -> dict:
    """Loss and accuracy on held-out rows, in eval mode."""
    model.eval()
    with torch.inference_mode():
        tot_loss = tot_correct = 0.0
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            loss, pred = loss_fn(xb, yb, None if c is None else c[start:start + batch_size])
            tot_loss += float(loss) * len(xb)
            tot_correct += float((pred == (yb > 0.5)).float().mean()) * len(xb)
    return {"eval_loss": tot_loss / x.shape[0], "eval_accuracy": tot_correct / x.shape[0]}


def _fit(model, data, epochs, *, batch_size, learning_rate, weight_decay, seed, loss=None,
         eval_every=None) -> list[dict]:
    """Adam over ``epochs`` (an iterable of epoch numbers, e.g. a progress bar); the history's rows."""
    x_tr, y_tr, x_ev, y_ev, c_tr, c_ev = data
    loss_fn = _loss_function(model, loss)
    if loss is not None:  # each row's part of the loss's table, looked up once (per batch: one index, as for codes)
        c_tr = loss._rows(c_tr, y_tr)
        c_ev = None if c_ev is None else loss._rows(c_ev, y_ev)
    device = device_of(model)
    opt = torch.optim.Adam(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    tally = _Tally(model, loss_fn, x_ev, y_ev, c_ev, epochs)
    epoch = 0
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        for epoch in epochs:
            _epoch(model, opt, loss_fn, x_tr, y_tr, batch_size, gen, c_tr, tally, epoch, eval_every)
            if eval_every is None:
                tally.record(epoch)
    if tally.recorded != tally.step:  # the end of training, when eval_every does not divide it
        tally.record(epoch)
    model.eval()
    return tally.rows
