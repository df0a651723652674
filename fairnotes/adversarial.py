"""Adversarial mitigation: Louppe et al.'s "learning to pivot" as the auditability paper uses it.

Explained in the chapter :doc:`/book/adversarial`; the book's mitigated models are built by
:func:`fairnotes.recipes.book_models`, and the chapter :doc:`/book/audit` audits them.

The game
--------
A classifier ``f`` outputs a probability ``p = f(x)``. An adversary ``r`` reads only that
number and tries to predict the protected attributes ``s = (s_1, ..., s_k)`` from it (one
sigmoid output per attribute). With ``BCE`` the binary cross-entropy,

* the adversary minimises ``L_r = (1/k) sum_a lambda_a BCE(r_a(p), s_a)``;
* the classifier minimises ``L_f = BCE(p, y) - (1/k) sum_a lambda_a BCE(r_a(p), s_a)``,

so the classifier is rewarded when the adversary cannot recover ``s`` from its output. At the
game's optimum the output distribution does not depend on ``s`` (the *pivotal* property,
Louppe, Kagan & Cranmer, 2017), which is demographic parity; ``lambda_a`` trades accuracy for it.
The average over the ``k`` attributes (not a sum) is the published PyTorch recipe's (Tonk &
Griffioen's Adult notebook), whose ``lambda`` are 130 for race and 30 for sex.

The recipe, as :func:`train_adversarial` runs it
------------------------------------------------
1. Pretrain the classifier alone (``pretrain_epochs``, the recipe: 2) with
   :func:`fairnotes.models.train` (so its on-disk cache is shared with an unmitigated model
   trained with the same arguments).
2. Pretrain the adversary (``adversary_epochs``, the recipe: 5) on the frozen classifier's
   outputs.
3. Alternate ``n_iterations`` times (the recipe reports its numbers after 164): one
   full epoch of the adversary on the frozen classifier's outputs, then ``classifier_steps``
   (the recipe: 1) Adam step(s) of the classifier on one random mini-batch with ``L_f``.

Two choices depart from the recipe, both for speed: during the adversary's epoch the
classifier's outputs are computed once, in eval mode (the recipe recomputes them batch by batch
with dropout on); and ``adversary_rows`` can restrict each adversary epoch to a random subset of
the training rows (the default ``None`` uses them all).

Caching
-------
Like :func:`fairnotes.models.train`, the result is kept on disk (``FAIRNOTES_CACHE_DIR``,
default ``~/.cache/fairnotes/models``), keyed by a SHA-256 of everything that determines it:
versions, both networks' configurations and initial weights, every array, every argument.
``cache=False`` or ``FAIRNOTES_MODEL_CACHE=0`` turns it off.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from fairnotes import _cache, _history, metrics, models, runtime
from fairnotes._torch import as_features, eval_mode, num_threads
from fairnotes._validation import nonnegative_int, positive_int

__all__ = [
    "balanced_class_weights",
    "make_adversary",
    "train_adversarial",
]

#: Bumped whenever the training algorithm changes, so that old cache entries are not reused.
_ALGORITHM_VERSION = 2


def make_adversary(architecture: str, n_attributes: int, *, seed: int | None = 0,
                   features_as: str = "channels") -> nn.Module:
    """The adversary: the classifier's architecture, reading one number, one output per attribute.

    ``"linear"``: ``1 -> 32 -> 32 -> 32 -> n_attributes`` without dropout; ``"cnn"``: the
    C256-...-C16-C``n_attributes`` network over a sequence of length 1 (its input is the
    classifier's probability), with kernels of width 1 (``features_as="channels"``, the book's
    CNN: ``1 -> 256 -> ... -> 16 -> n_attributes``) or 3 (``features_as="sequence"``, the
    kernel-3 reading). See the chapter :doc:`/book/adversarial`.
    """
    if architecture == "linear":
        return models.make_model("linear", 1, n_outputs=n_attributes, dropout=0.0, seed=seed)
    return models.make_model(architecture, 1, n_outputs=n_attributes, seed=seed, features_as=features_as)


# --------------------------------------------------------------------------- helpers

def _as_S(S, n: int, names=None):
    """Protected attributes as an ``(n, k)`` float32 array and their names."""
    if isinstance(S, pd.DataFrame):
        names = list(S.columns) if names is None else list(names)
        arr = S[names].to_numpy()
    elif isinstance(S, pd.Series):
        names = [S.name or "s"]
        arr = S.to_numpy()[:, None]
    else:
        arr = np.asarray(S)
        if arr.ndim == 1:
            arr = arr[:, None]
        names = list(names) if names is not None else [f"s{j}" for j in range(arr.shape[1])]
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(f"s must have {n} rows (one column per protected attribute), got shape {arr.shape}")
    if arr.shape[1] != len(names):
        raise ValueError(f"s has {arr.shape[1]} columns but {len(names)} names were given")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError("s must hold only 0 and 1")
    return arr.astype(np.float32), names


def _lambda_vector(lambdas, names) -> np.ndarray:
    if isinstance(lambdas, dict):
        missing = [a for a in names if a not in lambdas]
        if missing:
            raise ValueError(f"lambdas has no value for {missing}; it has {sorted(lambdas)}")
        lam = [float(lambdas[a]) for a in names]
    elif np.ndim(lambdas) == 0:
        lam = [float(lambdas)] * len(names)
    else:
        lam = [float(v) for v in lambdas]
        if len(lam) != len(names):
            raise ValueError(f"give one lambda per protected attribute ({len(names)}), got {len(lam)}")
    if any(not np.isfinite(v) or v < 0 for v in lam):
        raise ValueError(f"lambdas must be finite and >= 0, got {lam}")
    return np.asarray(lam, dtype=np.float32)


def _probs(model, x: torch.Tensor, batch_size=4096) -> torch.Tensor:
    """Classifier probabilities in eval mode, shape ``(n, 1)``, no graph."""
    return torch.from_numpy(models.predict_proba(model, x, batch_size=batch_size)).reshape(-1, 1)


def _adv_loss(adv, p, s, lam, class_weight=None):
    """``(1/k) sum_a lambda_a BCE(r_a(p), s_a)`` (mean over rows and attributes) and per-attribute BCE.

    ``class_weight`` (``None`` or a ``(2, k)`` tensor, row ``c`` the weight of class ``c`` of each
    attribute) weights every row's BCE by its classes in the total (not in the per-attribute BCE)."""
    z = adv.logits(p)
    if z.ndim == 1:
        z = z[:, None]
    bce = F.binary_cross_entropy_with_logits(z, s, reduction="none")  # (n, k)
    if class_weight is None:
        return (bce * lam).mean(), bce.mean(dim=0)
    w = s * class_weight[1] + (1 - s) * class_weight[0]
    return (bce * w * lam).mean(), bce.mean(dim=0)


def balanced_class_weights(S) -> np.ndarray:
    """Each protected attribute's classes weighted equally: ``n / (2 n_c)``, shape ``(2, k)``.

    Row ``c`` holds the weight of class ``c`` (0 or 1) of each attribute (a column of the 0/1
    array ``S``, ``(n, k)``), as scikit-learn's ``compute_class_weight("balanced")``; a row of
    the rarer class weighs more, so that the adversary cannot lower its loss by predicting the
    majority class. The pivot recipe's Keras version weights its adversary (and the adversary's
    term of the classifier's loss) this way. See the chapter :doc:`/book/adversarial`.
    """
    S = np.asarray(S, dtype=np.float64)
    if S.ndim == 1:
        S = S[:, None]
    if S.ndim != 2 or S.shape[0] == 0 or not np.isin(S, (0, 1)).all():
        raise ValueError("S must be a non-empty 0/1 array with one column per protected attribute")
    ones = S.sum(axis=0)
    counts = np.stack([S.shape[0] - ones, ones])
    if (counts == 0).any():
        raise ValueError("every protected attribute needs both classes among the training rows to weight them")
    return (S.shape[0] / (2.0 * counts)).astype(np.float32)


def _adversary_epoch(adv, opt, p, s, lam, batch_size, gen, class_weight=None) -> float:
    adv.train()
    n = p.shape[0]
    perm = torch.randperm(n, generator=gen)
    total = 0.0
    for start in range(0, n, batch_size):
        idx = perm[start:start + batch_size]
        opt.zero_grad(set_to_none=True)
        loss, _ = _adv_loss(adv, p[idx], s[idx], lam, class_weight)
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(idx)
    return total / n


def _evaluate(model, adv, x, y, S, names, lam, class_weight=None) -> dict:
    p = _probs(model, x)
    prob = p[:, 0].numpy()
    pred = (prob > 0.5).astype(np.int64)
    row = {
        "eval_accuracy": metrics.accuracy(y, pred),
        "eval_roc_auc": metrics.roc_auc(y, prob) if 0 < y.sum() < len(y) else float("nan"),
        "eval_loss": float(F.binary_cross_entropy(p[:, 0].clamp(1e-7, 1 - 1e-7),
                                                        torch.as_tensor(y, dtype=torch.float32))),
    }
    for j, a in enumerate(names):
        row[f"eval_p_rule_{a}"] = metrics.p_percent_rule(y, pred, s=S[:, j].astype(np.int64))
    with eval_mode(adv), torch.no_grad():
        total, per = _adv_loss(adv, p, torch.from_numpy(S), lam, class_weight)
    row["eval_adversary_loss"] = float(total)
    for j, a in enumerate(names):
        row[f"eval_adversary_bce_{a}"] = float(per[j])
    return row


# --------------------------------------------------------------------------- training

def train_adversarial(
    model: nn.Module,
    X,
    y,
    s,
    *,
    lambdas,
    eval_set: tuple | None = None,
    eval_every: int | None = None,
    attributes=None,
    adversary: nn.Module | None = None,
    pretrain_epochs: int = 2,
    adversary_epochs: int = 5,
    n_iterations: int = 164,
    batch_size: int = 32,
    adversary_batch_size: int = 32,
    adversary_rows: int | None = None,
    classifier_steps: int = 1,
    learning_rate: float = 1e-3,
    classifier_learning_rate: float | None = None,
    adversary_class_weight: str | None = None,
    seed: int = 0,
    progress: bool | None = None,
    desc: str | None = None,
    cache: bool | None = None,
    num_threads: int | None = 1,
) -> tuple[nn.Module, pd.DataFrame]:
    """Mitigate ``model`` with the pivot's adversarial game; return it and its history.

    Parameters
    ----------
    model
        The classifier, untrained (e.g. ``fairnotes.models.make_model("linear", d)``); trained
        in place. Any architecture of :mod:`fairnotes.models`.
    X, y, s
        Features ``(n, d)``, 0/1 labels ``(n,)`` and the 0/1 protected attributes: a DataFrame
        (one column per attribute, e.g. ``Split.S_train``), or an array ``(n,)``/``(n, k)``.
    lambdas
        Trade-off weight per attribute: a dict by attribute name (the recipe's are
        :data:`fairnotes.presets.RECIPE_LAMBDAS`, race 130 and sex 30), a sequence in column
        order, or one number for all. ``0`` leaves the pretrained classifier unchanged by the
        adversary.
    eval_set
        Held-out rows ``(X, y, s)`` for the history (``s`` as the training ``s``); without them
        the training rows are evaluated. Evaluating consumes no random numbers.
    eval_every
        Evaluate every ``eval_every`` steps, one step being one round of the game (below), and
        always after pretraining (step 0) and at the end; ``None`` (default): every round.
    attributes
        Which columns of a DataFrame ``s`` (and ``eval_set``'s) are protected (default: all).
    adversary
        The adversary to train in place (default :func:`make_adversary` of the classifier's
        architecture with ``seed``); pass your own to inspect it afterwards.
    pretrain_epochs, adversary_epochs, n_iterations
        The recipe's 2, 5 and 164 (see the module docstring): ``n_iterations`` rounds, each one
        step of the game (an epoch of the adversary, then ``classifier_steps`` updates of the
        classifier). ``pretrain_epochs=0`` starts the game from ``model`` as given (e.g. an
        already trained unmitigated model).
    batch_size, adversary_batch_size, classifier_steps, learning_rate
        Mini-batch sizes (the recipe: 32 and 32), classifier updates per round (1), Adam's
        step size for both networks (0.001).
    classifier_learning_rate
        Adam's step size for the classifier's adversarial updates (default ``learning_rate``).
    adversary_class_weight
        ``None`` (the PyTorch recipe's, the book's): every row's BCE counts the same.
        ``"balanced"``: each attribute's classes weigh equally (:func:`balanced_class_weights`
        of the training rows), in the adversary's loss and in the adversary's term of the
        classifier's loss, as the recipe's Keras version does.
    adversary_rows
        Rows in each epoch of the adversary, pretraining included (a fresh random subset each
        time); ``None`` uses every training row as the recipe does.
    seed
        Seeds the adversary's initial weights (when not given), the pretraining, every
        shuffle and mini-batch, and dropout. Same inputs and seed, same result.
    progress, desc
        tqdm bar over rounds via :func:`fairnotes.runtime.progress` (off in fast mode).
    cache
        Keep/reuse the result on disk (module docstring); ``None`` follows ``FAIRNOTES_MODEL_CACHE``.
    num_threads
        torch threads during the adversary's epochs (1 by default: the adversary is tiny, and
        thread hand-offs would cost more than its arithmetic); ``None`` leaves torch's setting.

    Returns
    -------
    model, history
        The mitigated classifier (eval mode) and the history of every trainer
        (``CONTRIBUTING.md``, "Trainers"), one row per evaluation: ``step`` (rounds played; 0
        is the pretrained classifier, before any adversarial update), ``eval_accuracy``,
        ``eval_roc_auc``, ``eval_loss`` (the classifier's BCE), ``eval_p_rule_<attribute>``
        (p%-rule of the 0/1 predictions for each attribute), ``eval_adversary_loss`` and
        ``eval_adversary_bce_<attribute>`` (the adversary's weighted loss and unweighted BCE on
        the evaluation rows; ``log 2 = 0.693`` is a coin flip's), ``train_adversary_loss`` (its
        mean weighted training loss over its last epoch), ``seconds`` (wall time so far).
        ``history.attrs`` holds ``cached`` and ``lambdas``.

    See the chapter :doc:`/book/adversarial`.

    Examples
    --------
    Two hundred people whose label follows the protected attribute; six rounds of the game,
    evaluated every three:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> s = rng.integers(0, 2, 200)
    >>> X = np.column_stack([s + 0.5 * rng.normal(size=200), rng.normal(size=200)]).astype(np.float32)
    >>> y = (X[:, 0] > 0.5).astype(int)
    >>> net = models.make_model("linear", 2, seed=0)
    >>> net, history = train_adversarial(net, X, y, s, lambdas=10.0, pretrain_epochs=2, n_iterations=6,
    ...                                  eval_every=3, cache=False, progress=False)
    >>> history["step"].tolist()                  # after pretraining, then every 3 rounds
    [0, 3, 6]
    >>> list(history.columns[:4])
    ['step', 'eval_accuracy', 'eval_roc_auc', 'eval_loss']
    """
    _check_settings(pretrain_epochs=pretrain_epochs, n_iterations=n_iterations, adversary_epochs=adversary_epochs,
                    batch_size=batch_size, adversary_batch_size=adversary_batch_size,
                    classifier_steps=classifier_steps, eval_every=eval_every, adversary_rows=adversary_rows)
    x_tr, y_tr, S_tr, names, (x_ev, y_ev, S_ev) = _prepare_data(model, X, y, s, eval_set, attributes)
    lam_np = _lambda_vector(lambdas, names)
    if adversary_class_weight not in (None, "balanced"):
        raise ValueError(f"adversary_class_weight must be None or 'balanced', got {adversary_class_weight!r}")
    class_weight = None if adversary_class_weight is None else balanced_class_weights(S_tr)
    adversary = _adversary_for(model, adversary, len(names), seed)
    args = _game_settings(names, lam_np, class_weight, pretrain_epochs=pretrain_epochs,
                          adversary_epochs=adversary_epochs, n_iterations=n_iterations, batch_size=batch_size,
                          adversary_batch_size=adversary_batch_size, adversary_rows=adversary_rows,
                          classifier_steps=classifier_steps, learning_rate=learning_rate,
                          classifier_learning_rate=classifier_learning_rate, seed=seed, eval_every=eval_every)
    digest = _cache.key(("fairnotes.adversarial", _ALGORITHM_VERSION), args, (model, adversary),
                        (x_tr, y_tr, S_tr, x_ev, y_ev, S_ev))
    game = _Game(model, adversary, torch.from_numpy(lam_np), names, args, num_threads,
                 None if class_weight is None else torch.from_numpy(class_weight))

    def run() -> dict:
        t0 = time.perf_counter()
        if pretrain_epochs > 0:  # shares models.train's cache with an unmitigated model
            models.train(model, x_tr, y_tr, epochs=pretrain_epochs, batch_size=batch_size,
                         learning_rate=learning_rate, seed=seed, progress=False, cache=cache)
        bar = runtime.progress(range(1, n_iterations + 1), disable=None if progress is None else not progress,
                               desc=desc or f"pivot ({type(model).__name__})", unit="round")
        rows = game.play(x_tr, y_tr, S_tr, (x_ev, y_ev, S_ev), bar, t0)
        return {"model": _cache.state_dict(model), "adversary": _cache.state_dict(adversary),
                "history": _history.frame(rows).to_dict(orient="list")}

    payload, cached = _cache.load_or_train(f"Pivot-{type(model).__name__}", digest, run,
                                           use_cache=_cache.enabled(cache))
    if cached:
        model.load_state_dict(payload["model"])
        adversary.load_state_dict(payload["adversary"])
    model.eval()
    adversary.eval()
    history = _history.frame(_history.renamed(payload["history"], _OLD_COLUMNS, _OLD_PREFIXES))
    history.attrs.update(cached=cached, lambdas=dict(zip(names, lam_np.tolist())))
    return model, history


#: The history's columns in cache entries written before the trainers' common history
#: (:mod:`fairnotes._history`): their keys, hence their networks, are still valid.
_OLD_COLUMNS = {"iteration": "step", "accuracy": "eval_accuracy", "roc_auc": "eval_roc_auc",
                "classifier_loss": "eval_loss", "adversary_loss_test": "eval_adversary_loss",
                "adversary_loss": "train_adversary_loss"}
_OLD_PREFIXES = {"p_rule_": "eval_p_rule_", "adversary_bce_": "eval_adversary_bce_"}


def _adversary_for(model, adversary, n_attributes: int, seed: int) -> nn.Module:
    """``adversary``, checked, or :func:`make_adversary` of the classifier's architecture."""
    if adversary is None:
        arch = "cnn" if isinstance(model, models.ConvNet) else "linear"
        adversary = make_adversary(arch, n_attributes, seed=seed, features_as=getattr(model, "features_as", "sequence"))
    if getattr(adversary, "n_outputs", n_attributes) != n_attributes:
        raise ValueError(f"the adversary has {adversary.n_outputs} outputs for {n_attributes} protected attributes")
    return adversary


def _game_settings(names, lam_np, class_weight, *, pretrain_epochs, adversary_epochs, n_iterations, batch_size,
                   adversary_batch_size, adversary_rows, classifier_steps, learning_rate, classifier_learning_rate,
                   seed, eval_every) -> dict:
    """The game's settings as :class:`_Game` reads them and the cache key holds them. The key's
    names and values are the ones they were before the learning rates were called
    ``learning_rate`` and ``eval_every=None`` meant every round (``lr``, ``classifier_lr``,
    ``eval_every=1``), so that the networks trained then stay in the cache."""
    args = dict(names=tuple(names), lambdas=tuple(float(v) for v in lam_np), pretrain_epochs=int(pretrain_epochs),
                adversary_epochs=int(adversary_epochs), n_iterations=int(n_iterations), batch_size=int(batch_size),
                adversary_batch_size=int(adversary_batch_size), adversary_rows=adversary_rows,
                classifier_steps=int(classifier_steps), lr=float(learning_rate),
                classifier_lr=float(learning_rate if classifier_learning_rate is None else classifier_learning_rate),
                seed=int(seed), eval_every=1 if eval_every is None else int(eval_every))
    if class_weight is not None:   # only then: the unweighted game keeps its cache keys
        args["adversary_class_weight"] = tuple(map(float, class_weight.ravel()))
    return args


def _check_settings(*, pretrain_epochs, n_iterations, adversary_epochs, batch_size, adversary_batch_size,
                    classifier_steps, eval_every, adversary_rows) -> None:
    nonnegative_int("pretrain_epochs", pretrain_epochs)
    nonnegative_int("n_iterations", n_iterations)
    for name, v in (("adversary_epochs", adversary_epochs),
                    ("batch_size", batch_size), ("adversary_batch_size", adversary_batch_size),
                    ("classifier_steps", classifier_steps)):
        positive_int(name, v)
    if eval_every is not None:
        positive_int("eval_every", eval_every)
    if adversary_rows is not None:
        positive_int("adversary_rows", adversary_rows)


def _prepare_data(model, X, y, s, eval_set, attributes):
    """The training arrays, the attributes' names, and the evaluation arrays (the training ones
    when no ``eval_set`` is given)."""
    if eval_set is not None and (not isinstance(eval_set, (tuple, list)) or len(eval_set) != 3):
        raise ValueError("eval_set must be a tuple (X, y, s) of held-out rows, s their protected attributes")
    x_tr = as_features(X, model, "X").cpu()
    y_tr = _labels(y, x_tr.shape[0], "y", "X")
    S_tr, names = _as_S(s, x_tr.shape[0], attributes)
    if eval_set is None:
        return x_tr, y_tr, S_tr, names, (x_tr, y_tr, S_tr)
    X_ev, y_ev, s_ev = eval_set
    x_ev = as_features(X_ev, model, "eval_set's X").cpu()
    y_ev = _labels(y_ev, x_ev.shape[0], "eval_set's y", "eval_set's X")
    S_ev, _ = _as_S(s_ev, x_ev.shape[0], names)
    return x_tr, y_tr, S_tr, names, (x_ev, y_ev, S_ev)


def _labels(y, n: int, name: str, rows_name: str) -> np.ndarray:
    y = np.asarray(y).astype(np.int64).reshape(-1)
    if y.shape[0] != n or not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must hold one 0/1 label per row of {rows_name}")
    return y


class _Game:
    """The alternating game of :func:`train_adversarial`, step by step (after any pretraining)."""

    def __init__(self, model, adversary, lam: torch.Tensor, names, args: dict, threads: int | None,
                 class_weight: torch.Tensor | None = None):
        self.model, self.adversary, self.lam, self.names, self.args = model, adversary, lam, names, args
        self.threads, self.class_weight = threads, class_weight

    def _adversary_epoch(self, x, s, n: int, gen, opt) -> float:
        """One epoch of the adversary on the frozen classifier's outputs (all rows or a random subset)."""
        rows = self.args["adversary_rows"]
        idx = torch.arange(n) if rows is None else torch.randperm(n, generator=gen)[:rows]
        p = _probs(self.model, x[idx])
        with num_threads(self.threads):
            return _adversary_epoch(self.adversary, opt, p, s[idx], self.lam, self.args["adversary_batch_size"], gen,
                                    self.class_weight)

    def _classifier_steps(self, x, y, s, n: int, gen, opt) -> None:
        """``classifier_steps`` Adam steps of the classifier on ``BCE(p, y) - L_r`` over random mini-batches."""
        self.model.train()
        self.adversary.eval()
        for _ in range(self.args["classifier_steps"]):
            b = torch.randint(0, n, (self.args["batch_size"],), generator=gen)
            z = self.model.logits(x[b])
            loss_y = F.binary_cross_entropy_with_logits(z, y[b])
            loss_s, _ = _adv_loss(self.adversary, torch.sigmoid(z).reshape(-1, 1), s[b], self.lam, self.class_weight)
            opt.zero_grad(set_to_none=True)
            (loss_y - loss_s).backward()
            opt.step()
        self.model.eval()

    def play(self, x_tr, y_tr, S_tr, evaluation, bar, t0: float) -> list[dict]:
        """Pretrain the adversary, then alternate; one history row per evaluation (``seconds`` since ``t0``)."""
        x_ev, y_ev, S_ev = evaluation
        s_tr = torch.from_numpy(S_tr)
        y_t = torch.from_numpy(y_tr.astype(np.float32))
        n = x_tr.shape[0]

        def record(it, adv_loss) -> dict:
            return {"step": it, **_evaluate(self.model, self.adversary, x_ev, y_ev, S_ev, self.names, self.lam,
                                                 self.class_weight),
                    "train_adversary_loss": adv_loss, "seconds": time.perf_counter() - t0}

        rows = []
        with torch.random.fork_rng(devices=[]):
            seed = self.args["seed"]
            torch.manual_seed(seed)
            gen = torch.Generator().manual_seed(seed + 1)
            opt_adv = torch.optim.Adam(self.adversary.parameters(), lr=self.args["lr"])
            opt_clf = torch.optim.Adam(self.model.parameters(), lr=self.args["classifier_lr"])
            for _ in range(self.args["adversary_epochs"]):
                adv_loss = self._adversary_epoch(x_tr, s_tr, n, gen, opt_adv)
            rows.append(record(0, adv_loss))
            last = self.args["n_iterations"]
            for it in bar:
                adv_loss = self._adversary_epoch(x_tr, s_tr, n, gen, opt_adv)
                self._classifier_steps(x_tr, y_t, s_tr, n, gen, opt_clf)
                if _history.due(it, it - 1, self.args["eval_every"]) or it == last:
                    rows.append(record(it, adv_loss))
                    if hasattr(bar, "set_postfix"):
                        bar.set_postfix(acc=round(rows[-1]["eval_accuracy"], 3),
                                        **{f"p%_{a}": round(rows[-1][f"eval_p_rule_{a}"], 1) for a in self.names})
        return rows
