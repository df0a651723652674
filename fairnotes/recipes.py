"""The recipes that train the book's shared models from the settings of :mod:`fairnotes.presets`.

A recipe prepares a paper's data as the paper did, trains a model with the book's settings (or
loads it from the disk cache) and returns it with its split, so that every chapter that asks for
"the same model" gets the same one. The settings themselves (sizes, learning rates, trade-off
weights, readings of a paper) are data and live in :mod:`fairnotes.presets`; this module reads them
when a recipe is called, so the build mode in force (fast, default, paper size) applies.

The auditability paper: :func:`auditability_split`, :func:`unmitigated_model`, :class:`BookModels`,
:func:`book_models` (chapters :doc:`/book/sensitivity`, :doc:`/book/adversarial`, :doc:`/book/audit`).
The FairGP paper: :func:`fairgp_split`, :func:`fit_fairgp` (chapters :doc:`/book/fairgp_parity`,
:doc:`/book/fairgp_opportunity`). Target labels for every model: :func:`target_label_model`
(chapter :doc:`/book/target_nets`).

Importing this module is light (numpy and pandas); the torch and GPflow code is imported by the
recipes that train models.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fairnotes import data as _data
from fairnotes import presets

__all__ = ["auditability_split", "unmitigated_model", "BookModels", "book_models", "fairgp_split", "fit_fairgp",
           "target_label_model"]


_AUDITABILITY_DATA = {"adult": _data.adult_auditability, "compas": _data.compas_auditability}

def _auditability_data(dataset: str, features: str = "book") -> _data.TabularData:
    if dataset not in _AUDITABILITY_DATA:
        raise ValueError(f"dataset must be 'adult' or 'compas', got {dataset!r}")
    if features not in presets.COMPAS_FEATURES or (dataset == "adult" and features != "book"):
        raise ValueError(f"features must be 'book' for Adult and one of {list(presets.COMPAS_FEATURES)} for COMPAS, "
                         f"got {features!r} for {dataset!r}")
    data = _AUDITABILITY_DATA[dataset]()
    if features == "decile_score":
        data = dataclasses.replace(data, numerical=[*data.numerical, "decile_score"],
                                   description=data.description + "; with decile_score")
    elif features == "aif360":
        frame = data.frame.copy()
        frame["c_charge_desc"] = frame["c_charge_desc"].fillna("Missing")
        data = dataclasses.replace(data, frame=frame, categorical=[*data.categorical, "c_charge_desc"],
                                   description=data.description + "; AIF360's default features")
    return data

def _standardize_protected(split: _data.Split) -> _data.Split:
    """The split with its protected input columns standardised like the others (training statistics)."""
    cols = sorted(split.s_columns.values())
    if not cols:
        return split
    mu = split.X_train[:, cols].astype(np.float64).mean(axis=0)
    sd = split.X_train[:, cols].astype(np.float64).std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    X_train, X_test = split.X_train.copy(), split.X_test.copy()
    X_train[:, cols] = ((X_train[:, cols] - mu) / sd).astype(np.float32)
    X_test[:, cols] = ((X_test[:, cols] - mu) / sd).astype(np.float32)
    mean, std = split.mean.copy(), split.std.copy()
    mean[cols], std[cols] = mu, sd
    return dataclasses.replace(split, X_train=X_train, X_test=X_test, mean=mean, std=std)

def auditability_split(dataset: str, attribute: str = "race", *, seed: int = presets.AUDITABILITY_SPLIT["seed"],
                       s_as_input: bool = True, features: str = "book",
                       standardize_protected: bool = False) -> _data.Split:
    """``"adult"`` or ``"compas"`` prepared and split as the auditability paper did.

    :func:`fairnotes.data.split` of :func:`fairnotes.data.adult_auditability` or
    :func:`fairnotes.data.compas_auditability` with a 20% test part; both protected attributes
    (race, sex) are raw 0/1 features unless ``s_as_input=False`` drops ``attribute``.
    Readings of the paper (for the pivot's ablation): ``features`` picks COMPAS's feature set
    (:data:`fairnotes.presets.COMPAS_FEATURES`); ``standardize_protected=True`` standardises the protected input
    columns with the training part's statistics, like every other column, so that a change of
    group is a change of ``1 / std`` in the column (``split.mean``/``split.std`` hold the
    transformation). See the chapter :doc:`/book/sensitivity`, section "The models".
    """
    data = _auditability_data(dataset, features)
    sp = _data.split(data, attribute, test_size=presets.AUDITABILITY_SPLIT["test_size"], seed=seed,
                     s_as_input=s_as_input)
    return _standardize_protected(sp) if standardize_protected else sp

def unmitigated_model(
    dataset: str,
    architecture: str,
    *,
    epochs: int | None = None,
    attribute: str = "race",
    s_as_input: bool = True,
    batch_size: int = 64,
    seed: int = 0,
    train_rows: int | None = None,
    progress: bool | None = None,
    cache: bool | None = None,
    features: str = "book",
    standardize_protected: bool = False,
    features_as: str = "channels",
):
    """Split as the paper did (:func:`auditability_split`) and train one of its networks.

    The model is :func:`fairnotes.models.make_model` (``seed``) trained by
    :func:`fairnotes.models.train` with the paper's settings (BCE, Adam at learning rate 0.001) for ``epochs``
    epochs (default :func:`fairnotes.presets.unmitigated_epochs`) in mini-batches of ``batch_size`` (the paper gives
    neither). ``train_rows`` trains on the first ``train_rows`` rows of the (already shuffled)
    training part only; the returned split still holds every row. ``features`` and
    ``standardize_protected`` go to :func:`auditability_split`; ``features_as`` is the CNN's
    layout (:class:`fairnotes.models.ConvNet`: ``"channels"``, the book's kernel-1 reading, or
    ``"sequence"``, the kernel-3 one); it must be ``"channels"`` for the linear network, which has none. Returns
    ``(model, history, split)``. See the chapter :doc:`/book/sensitivity`, section "The models".
    """
    from fairnotes import models

    presets.check_pair(dataset, architecture)
    _check_features_as(architecture, features_as)
    sp = auditability_split(dataset, attribute, seed=seed, s_as_input=s_as_input, features=features,
                            standardize_protected=standardize_protected)
    epochs = presets.unmitigated_epochs(dataset, architecture) if epochs is None else epochs
    extra = {"features_as": features_as} if architecture == "cnn" else {}
    model = models.make_model(architecture, sp.n_features, seed=seed, **extra)
    if train_rows is not None and (isinstance(train_rows, bool) or int(train_rows) < 1):
        raise ValueError(f"train_rows must be a positive integer or None, got {train_rows!r}")
    n = len(sp.X_train) if train_rows is None else int(train_rows)
    from fairnotes import _torch

    with _torch.num_threads(1):   # the same networks on every machine: see book_models
        model, history = models.train(model, sp.X_train[:n], sp.y_train[:n], eval_set=(sp.X_test, sp.y_test),
                                      epochs=epochs, batch_size=batch_size, learning_rate=presets.PAPER_LR, seed=seed,
                                      progress=progress, cache=cache, desc=f"{architecture} on {dataset}")
    return model, history, sp

def _check_features_as(architecture: str, features_as: str) -> None:
    if features_as not in ("sequence", "channels"):
        raise ValueError(f"features_as must be 'sequence' or 'channels', got {features_as!r}")
    if features_as != "channels" and architecture != "cnn":
        raise ValueError(f"features_as={features_as!r} is a reading of the CNN; the {architecture!r} network has none")

@dataclass
class BookModels:
    """The unmitigated and the mitigated (pivot) model of one dataset and architecture.

    The paper calls them the "unfair" and the "fair" model; the book keeps those quoted words for
    the *labels* of a prediction (:func:`fairnotes.evaluation.match_labels`). See the chapter
    :doc:`/book/adversarial`, section "The book's models".
    """

    dataset: str
    architecture: str
    split: _data.Split
    unmitigated: object
    mitigated: object
    unmitigated_history: pd.DataFrame
    mitigated_history: pd.DataFrame
    settings: dict = field(default_factory=dict)
    train_index: np.ndarray | None = None

    def predictions(self) -> tuple[np.ndarray, np.ndarray]:
        """0/1 test predictions of the unmitigated and the mitigated model."""
        from fairnotes import models

        return models.predict(self.unmitigated, self.split.X_test), models.predict(self.mitigated, self.split.X_test)

def book_models(dataset: str, architecture: str, *, progress: bool | None = None, s_as_input: bool = True,
                start: str | None = None, reading: str | None = None, **overrides) -> BookModels:
    """Train (or load from the disk cache) the book's unmitigated and mitigated (pivot) model for one pair.

    The unmitigated model is :func:`unmitigated_model`; the mitigated one is a network of its own
    (seed ``seed + 1``) trained by :func:`fairnotes.adversarial.train_adversarial` with
    :func:`fairnotes.presets.pivot_settings`, race and sex as the adversary's targets. Every chapter that calls this
    with the same arguments gets the same two models (the second from the cache).

    For an ablation, keyword ``overrides`` replace settings of the game (``lambdas``,
    ``n_iterations``, ``adversary_rows``, ``classifier_learning_rate``, ...: the keys of
    :func:`fairnotes.presets.pivot_settings` that :func:`fairnotes.adversarial.train_adversarial` takes), and
    ``s_as_input=False`` trains both models without race (the unmitigated model's ``attribute``)
    among their inputs; sex stays one, and the adversary still sees both. ``start="scratch"``
    (the book's) trains the mitigated model from a freshly initialised network (seed ``seed + 1``,
    so not the unmitigated model's initial weights) with the recipe's pretraining
    (``pretrain_epochs``): two independently trained networks, as the paper trains "a fair model"
    beside "an unfair model"; ``start="unmitigated"`` starts it from a copy of the unmitigated
    model (the first game, :func:`fairnotes.presets.first_game`). See the chapter
    :doc:`/book/adversarial`, section "The book's models", and :doc:`/book/audit`.

    Readings of the paper: the keys of :data:`fairnotes.presets.READING_DEFAULTS` are settings too (``features``,
    ``standardize_protected``, ``features_as``, ``adversary_class_weight``), and ``reading``
    names one of :data:`fairnotes.presets.PIVOT_READINGS` (:func:`fairnotes.presets.pivot_reading`; e.g. ``reading="first game"``),
    whose settings (``start`` included) apply before the other ``overrides``.
    """
    from fairnotes import _torch, adversarial

    if reading is not None:
        chosen = presets.pivot_reading(reading, dataset, architecture)
        if chosen is None:
            raise ValueError(f"the reading {reading!r} changes nothing for {dataset} {architecture}")
        chosen = dict(chosen)
        start = chosen.pop("start") if start is None else start
        overrides = {**chosen, **overrides}
    st = presets.pivot_settings(dataset, architecture)
    start = st.pop("start") if start is None else start
    st.pop("start", None)
    unknown = sorted(set(overrides) - set(presets.GAME_KEYS) - set(presets.READING_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown pivot settings {unknown}; the settings are "
                         f"{sorted(presets.GAME_KEYS + tuple(presets.READING_DEFAULTS))}")
    st.update(presets.READING_DEFAULTS)
    _check_features_as(architecture, overrides.get("features_as", "channels"))
    if start not in ("unmitigated", "scratch"):
        raise ValueError(f"start must be 'unmitigated' or 'scratch', got {start!r}")
    st.update(overrides)
    # Recorded in the settings only: the training cache's key is the trainers' arguments and the
    # data (fairnotes._cache.key), so the flag's name is no part of it and cached networks stay valid.
    st["s_as_input"] = bool(s_as_input)
    st["start"] = start
    # One thread for both architectures: a float sum's order depends on the thread count, so the
    # same seed gives the same networks (and the chapters' numbers) only on a fixed count.
    with _torch.num_threads(1):
        unfair, h_unfair, sp = unmitigated_model(dataset, architecture, epochs=st["unmitigated_epochs"],
                                                 batch_size=st["unmitigated_batch_size"], seed=st["seed"],
                                                 train_rows=st["train_rows"], progress=progress,
                                                 s_as_input=bool(s_as_input), features=st["features"],
                                                 standardize_protected=bool(st["standardize_protected"]),
                                                 features_as=st["features_as"])
        n = len(sp.X_train) if st["train_rows"] is None else st["train_rows"]
        X, y, S = sp.X_train[:n], sp.y_train[:n], sp.S_train.iloc[:n][["race", "sex"]]
        if start == "scratch":
            from fairnotes import models

            extra = {"features_as": st["features_as"]} if architecture == "cnn" else {}
            fair = models.make_model(architecture, sp.n_features, seed=st["seed"] + 1, **extra)
        else:
            fair = copy.deepcopy(unfair)
        fair, h_fair = adversarial.train_adversarial(
            fair, X, y, S, eval_set=(sp.X_test, sp.y_test, sp.S_test[["race", "sex"]]),
            progress=progress, desc=f"'fair' {architecture} on {dataset}",
            adversary_class_weight=st["adversary_class_weight"], **{k: st[k] for k in presets.GAME_KEYS})
    return BookModels(dataset, architecture, sp, unfair, fair, h_unfair, h_fair, st, np.arange(n))

_FAIRGP_DATA = {"adult": _data.adult_fairgp, "compas": _data.compas_fairgp}

def fairgp_split(dataset, attribute: str, seed: int = 0, **overrides) -> _data.Split:
    """``"adult"`` or ``"compas"`` (or a :class:`~fairnotes.data.TabularData`) split as the FairGP paper.

    :data:`fairnotes.presets.FAIRGP_SPLIT`; keyword ``overrides`` change one of its settings (e.g.
    ``encoding="onehot"`` for an ablation). See the chapter :doc:`/book/fairgp_parity`.
    """
    if isinstance(dataset, str):
        if dataset not in _FAIRGP_DATA:
            raise ValueError(f"dataset must be 'adult' or 'compas' (or a TabularData), got {dataset!r}")
        dataset = _FAIRGP_DATA[dataset]()
    unknown = sorted(set(overrides) - set(presets.FAIRGP_SPLIT))
    if unknown:
        raise ValueError(f"unknown split settings {unknown}; presets.FAIRGP_SPLIT has {sorted(presets.FAIRGP_SPLIT)}")
    return _data.split(dataset, attribute, seed=seed, **{**presets.FAIRGP_SPLIT, **overrides})

_KINDS = ("GP", "GP*", "FairGP", "FairGP*")

def fit_fairgp(split: _data.Split, kind: str, *, target="mean", parameters=None, seed: int = 0,
               eval_every: int | None = None, progress: bool | None = None, desc: str | None = None, **settings):
    """Fit a ``"GP"``, ``"GP*"``, ``"FairGP"`` or ``"FairGP*"`` on a split, as the FairGP chapters do.

    A star reads ``s`` as an input (``s_as_input=True``). FairGP's debiasing parameters are ``parameters`` if given,
    else :func:`fairnotes.target_labels.parity_parameters` of the *training* part's base rates
    and ``target`` (demographic parity). Fit settings: :func:`fairnotes.presets.fairgp_settings` with ``settings``
    overriding. ``eval_every`` (steps) records accuracy and group rates on the test part during training;
    ``progress`` and ``desc`` (default ``kind``) set the progress bar.
    Returns the fitted :class:`fairnotes.fairgp.FairGP`. See the chapter :doc:`/book/fairgp_parity`.
    """
    from fairnotes import target_labels

    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {list(_KINDS)}, got {kind!r}")
    if kind.startswith("GP"):
        if parameters is not None:
            raise ValueError(f"a plain {kind} takes no debiasing parameters")
        P = None
    else:
        P = parameters if parameters is not None else target_labels.parity_parameters(split.base_rates(), target)
    settings = {k: v for k, v in settings.items() if v is not None}  # None: the default setting
    from fairnotes import fairgp  # TensorFlow and GPflow (the fairnotes[gp] extra), after the cheap checks

    clf = fairgp.FairGP(P, s_as_input=kind.endswith("*"), seed=seed, desc=desc or kind, progress=progress,
                        **presets.fairgp_settings(**settings))
    return clf.fit(split.X_train, split.y_train, split.s_train,
                   eval_set=(split.X_test, split.y_test, split.s_test) if eval_every is not None else None,
                   eval_every=eval_every)

def target_label_model(
    dataset: str,
    architecture: str,
    parameters=None,
    *,
    s_as_input: bool = True,
    attribute: str = "race",
    progress: bool | None = None,
    desc: str | None = None,
    cache: bool | None = None,
    **overrides,
):
    """Split as the auditability paper did and train one model through target labels (or with BCE).

    ``parameters`` (``P[s, ybar] = P(y = 1 | ybar, s)``, e.g.
    :func:`fairnotes.target_labels.parity_parameters` of ``split.base_rates()``) trains through
    :class:`fairnotes.models.TargetLabelLoss` with ``s`` the 0/1 ``attribute``; ``None`` trains
    with binary cross-entropy. ``s_as_input=True`` keeps ``attribute`` among the features (the
    "*" variant, as FairGP*, and the inputs of the book's unmitigated and pivot networks);
    ``False`` drops its column, so that only the loss reads ``s`` (the other protected attribute
    stays a feature). The test people are the same either way. Settings:
    :func:`fairnotes.presets.target_label_settings`, with keyword ``overrides``; with ``start="unmitigated"`` the
    model is fine-tuned from a copy of :func:`unmitigated_model` (which needs ``s_as_input``), and
    ``parameters=None`` returns that unmitigated model itself. Returns ``(model, history, split)``.
    See the chapter :doc:`/book/target_nets`.
    """
    from fairnotes import _torch, models

    st = presets.target_label_settings(dataset, architecture)
    unknown = sorted(set(overrides) - set(st))
    if unknown:
        raise ValueError(f"unknown settings {unknown}; the settings are {sorted(st)}")
    st.update(overrides)
    if st["start"] not in (None, "unmitigated"):
        raise ValueError(f"start must be None or 'unmitigated', got {st['start']!r}")
    sp = auditability_split(dataset, attribute, seed=0, s_as_input=bool(s_as_input))
    n = len(sp.X_train) if st["train_rows"] is None else int(st["train_rows"])
    if st["start"] == "unmitigated":
        if not s_as_input:
            raise ValueError("start='unmitigated' fine-tunes the unmitigated model, which reads s: use s_as_input=True")
        with _torch.num_threads(None if architecture == "cnn" else 1):
            model, history, _ = unmitigated_model(dataset, architecture, attribute=attribute, seed=st["seed"],
                                                  train_rows=presets.unmitigated_train_rows(dataset, architecture),
                                                  progress=progress)
        if parameters is None:
            return model, history, sp
        model = copy.deepcopy(model)
    else:
        model = models.make_model(architecture, sp.n_features, seed=st["seed"])
    kw = dict(epochs=st["epochs"], batch_size=st["batch_size"], learning_rate=st["learning_rate"],
              weight_decay=st["weight_decay"],
              seed=st["seed"], progress=progress, cache=cache, desc=desc or f"{architecture} on {dataset}")
    if parameters is not None:
        kw.update(s=sp.s_train[:n], loss=models.TargetLabelLoss(parameters))
    if st["test_history"]:
        kw["eval_set"] = (sp.X_test, sp.y_test, sp.s_test if parameters is not None else None)
    with _torch.num_threads(None if architecture == "cnn" else 1):
        model, history = models.train(model, sp.X_train[:n], sp.y_train[:n], **kw)
    return model, history, sp
