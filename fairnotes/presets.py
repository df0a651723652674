"""The papers' and the book's settings, in one place.

Every setting that comes from a paper (a split, a learning rate, a trade-off weight) or that the
book chose for its default build (epochs, rounds, inducing points) lives here, and so do the
functions that build the book's shared models from them. The algorithm modules
(:mod:`fairnotes.metrics`, :mod:`fairnotes.sensitivity`, :mod:`fairnotes.adversarial`,
:mod:`fairnotes.fairgp`, :mod:`fairnotes.target_labels`, ...) take every size as an argument and
know no book. Chapters, benchmarks and tests take their settings from here, so that two chapters
that train "the same model" really do, and the disk cache serves the second one.

Sizes that the build mode changes go through :func:`fairnotes.runtime.scale` (fast mode, for the
tests) and :func:`fairnotes.runtime.paper_scale` (``FAIRNOTES_PAPER_SIZE=1``, the papers' sizes
where they state them, larger ones than the default where they do not), so each function here returns the settings of the mode in force when it
is called.

Importing this module is light (numpy and pandas); the torch and GPflow code is imported by the
functions that train models.

The auditability paper (Ngong, Maughan & Near, 2021)
-----------------------------------------------------
:data:`AUDITABILITY_SPLIT`, :func:`auditability_split`, :data:`PAPER_LR`, :data:`DEFAULT_SIGMA`,
:data:`SMOOTH_N_SAMPLES`, :func:`unmitigated_epochs`, :func:`unmitigated_model`,
:data:`RECIPE_LAMBDAS`, :func:`pivot_settings`, :func:`book_models`, :data:`COMPAS_FEATURES`,
:data:`READING_DEFAULTS`, :data:`CNN_LAMBDA_FACTOR`, :func:`first_game`, :data:`PIVOT_READINGS`,
:func:`pivot_reading`.
See the chapters :doc:`/book/sensitivity` and :doc:`/book/adversarial`.

The FairGP paper (Kehrenberg, Chen & Quadrianto)
-------------------------------------------------
:data:`FAIRGP_SPLIT`, :data:`BENCHMARK_FEATURES`, :func:`fairgp_split`, :data:`FAIRGP_FIT`, :func:`fairgp_settings`,
:data:`FAIRGP_AUTHORS_FIT`, :data:`FAIRGP_AUTHORS_SPLIT`, :func:`fairgp_authors_steps`, :func:`fairgp_authors_settings`,
:func:`fit_fairgp`. See the chapter :doc:`/book/fairgp_parity`.

Target labels for every model (Kehrenberg, Chen & Quadrianto, 2020)
--------------------------------------------------------------------
:data:`TARGET_ARCHITECTURES`, :func:`target_label_settings`, :func:`target_label_model`.
See the chapter :doc:`/book/target_nets`.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fairnotes import _sensitivity_defaults
from fairnotes import data as _data
from fairnotes import runtime

__all__ = [
    "DEFAULT_SIGMA", "SMOOTH_N_SAMPLES", "PAPER_LR", "AUDITABILITY_SPLIT", "auditability_split",
    "unmitigated_epochs", "unmitigated_model", "RECIPE_LAMBDAS", "CNN_LAMBDA_FACTOR",
    "pivot_settings", "BookModels", "book_models", "COMPAS_FEATURES", "READING_DEFAULTS", "first_game",
    "PIVOT_READINGS", "pivot_reading",
    "FAIRGP_SPLIT", "BENCHMARK_FEATURES", "fairgp_split", "SVM_TRAIN_ROWS", "FAIRGP_FIT", "fairgp_settings", "fit_fairgp",
    "FAIRGP_AUTHORS_FIT", "FAIRGP_AUTHORS_SPLIT", "fairgp_authors_steps", "fairgp_authors_settings",
    "TARGET_ARCHITECTURES", "target_label_settings", "target_label_model",
]

# --------------------------------------------------------------------------- the auditability paper

#: Noise level of smooth prediction sensitivity, in standardized feature units, the algorithm's own
#: default :data:`fairnotes.sensitivity.DEFAULT_SIGMA` (the paper gives none; the chapter
#: :doc:`/book/smooth_sensitivity` explains the choice and sweeps it).
DEFAULT_SIGMA = _sensitivity_defaults.DEFAULT_SIGMA

#: Noise draws per person of smooth prediction sensitivity, the algorithm's own default
#: :data:`fairnotes.sensitivity.SMOOTH_N_SAMPLES` (the paper states none; 50 is the number
#: SmoothGrad's authors, Smilkov et al., 2017, used).
SMOOTH_N_SAMPLES = _sensitivity_defaults.SMOOTH_N_SAMPLES

#: Adam's learning rate in the paper (0.001, on binary cross-entropy).
PAPER_LR = 1e-3

#: The paper's 80/20 split of Adult (24,752/6,188 rows) and COMPAS (4,937/1,235).
AUDITABILITY_SPLIT = dict(test_size=0.2, seed=0)

_AUDITABILITY_DATA = {"adult": _data.adult_auditability, "compas": _data.compas_auditability}
_ARCHITECTURES = ("linear", "cnn")


def _check_pair(dataset: str, architecture: str) -> None:
    if dataset not in _AUDITABILITY_DATA:
        raise ValueError(f"dataset must be 'adult' or 'compas', got {dataset!r}")
    if architecture not in _ARCHITECTURES:
        raise ValueError(f"architecture must be 'linear' or 'cnn', got {architecture!r}")


#: The feature sets of COMPAS a reading of the auditability paper may use (it lists none):
#: ``"book"`` (:func:`fairnotes.data.compas_auditability`), ``"decile_score"`` (the book's and
#: COMPAS's own decile score), ``"aif360"`` (AIF360's ``CompasDataset`` defaults: the book's and
#: the charge description ``c_charge_desc``, one-hot; its few missing values are a category of
#: their own, so that the rows, and the split, stay the book's 6,172). Adult has only ``"book"``.
COMPAS_FEATURES = ("book", "decile_score", "aif360")


def _auditability_data(dataset: str, features: str = "book") -> _data.TabularData:
    if dataset not in _AUDITABILITY_DATA:
        raise ValueError(f"dataset must be 'adult' or 'compas', got {dataset!r}")
    if features not in COMPAS_FEATURES or (dataset == "adult" and features != "book"):
        raise ValueError(f"features must be 'book' for Adult and one of {list(COMPAS_FEATURES)} for COMPAS, "
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


def auditability_split(dataset: str, attribute: str = "race", *, seed: int = AUDITABILITY_SPLIT["seed"],
                       s_as_input: bool = True, features: str = "book",
                       standardize_protected: bool = False) -> _data.Split:
    """``"adult"`` or ``"compas"`` prepared and split as the auditability paper did.

    :func:`fairnotes.data.split` of :func:`fairnotes.data.adult_auditability` or
    :func:`fairnotes.data.compas_auditability` with a 20% test part; both protected attributes
    (race, sex) are raw 0/1 features unless ``s_as_input=False`` drops ``attribute``.
    Readings of the paper (for the pivot's ablation): ``features`` picks COMPAS's feature set
    (:data:`COMPAS_FEATURES`); ``standardize_protected=True`` standardises the protected input
    columns with the training part's statistics, like every other column, so that a change of
    group is a change of ``1 / std`` in the column (``split.mean``/``split.std`` hold the
    transformation). See the chapter :doc:`/book/sensitivity`, section "The models".
    """
    data = _auditability_data(dataset, features)
    sp = _data.split(data, attribute, test_size=AUDITABILITY_SPLIT["test_size"], seed=seed,
                     s_as_input=s_as_input)
    return _standardize_protected(sp) if standardize_protected else sp


def unmitigated_epochs(dataset: str, architecture: str) -> int:
    """Epochs of the book's unmitigated model of one (dataset, architecture) pair.

    The paper states none. Adult linear 10, Adult CNN 3 (10 with ``FAIRNOTES_PAPER_SIZE=1``),
    COMPAS linear 20, COMPAS CNN 10; 1-2 in fast mode. Every chapter of Part II trains its
    unmitigated models with these, so that they audit the same models.
    See the chapter :doc:`/book/sensitivity`, section "The models".
    """
    _check_pair(dataset, architecture)
    return {
        ("adult", "linear"): runtime.scale(default=10, fast=2),
        ("adult", "cnn"): runtime.paper_scale(default=3, fast=1, paper=10),
        ("compas", "linear"): runtime.scale(default=20, fast=2),
        ("compas", "cnn"): runtime.scale(default=10, fast=2),
    }[dataset, architecture]


def unmitigated_train_rows(dataset: str, architecture: str) -> int | None:
    """Training rows of the unmitigated model: all (``None``) except the Adult CNN in fast mode (2,000)."""
    _check_pair(dataset, architecture)
    return runtime.scale(default=None, fast=2000) if (dataset, architecture) == ("adult", "cnn") else None


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
    epochs (default :func:`unmitigated_epochs`) in mini-batches of ``batch_size`` (the paper gives
    neither). ``train_rows`` trains on the first ``train_rows`` rows of the (already shuffled)
    training part only; the returned split still holds every row. ``features`` and
    ``standardize_protected`` go to :func:`auditability_split`; ``features_as`` is the CNN's
    layout (:class:`fairnotes.models.ConvNet`: ``"channels"``, the book's kernel-1 reading, or
    ``"sequence"``, the kernel-3 one); it must be ``"channels"`` for the linear network, which has none. Returns
    ``(model, history, split)``. See the chapter :doc:`/book/sensitivity`, section "The models".
    """
    from fairnotes import models

    _check_pair(dataset, architecture)
    _check_features_as(architecture, features_as)
    sp = auditability_split(dataset, attribute, seed=seed, s_as_input=s_as_input, features=features,
                            standardize_protected=standardize_protected)
    epochs = unmitigated_epochs(dataset, architecture) if epochs is None else epochs
    extra = {"features_as": features_as} if architecture == "cnn" else {}
    model = models.make_model(architecture, sp.n_features, seed=seed, **extra)
    if train_rows is not None and (isinstance(train_rows, bool) or int(train_rows) < 1):
        raise ValueError(f"train_rows must be a positive integer or None, got {train_rows!r}")
    n = len(sp.X_train) if train_rows is None else int(train_rows)
    from fairnotes import _torch

    with _torch.num_threads(1):   # the same networks on every machine: see book_models
        model, history = models.train(model, sp.X_train[:n], sp.y_train[:n], eval_set=(sp.X_test, sp.y_test),
                                      epochs=epochs, batch_size=batch_size, learning_rate=PAPER_LR, seed=seed,
                                      progress=progress, cache=cache, desc=f"{architecture} on {dataset}")
    return model, history, sp


def _check_features_as(architecture: str, features_as: str) -> None:
    if features_as not in ("sequence", "channels"):
        raise ValueError(f"features_as must be 'sequence' or 'channels', got {features_as!r}")
    if features_as != "channels" and architecture != "cnn":
        raise ValueError(f"features_as={features_as!r} is a reading of the CNN; the {architecture!r} network has none")


#: The published pivot recipe's trade-off weights on Adult (Tonk & Griffioen's PyTorch notebook).
RECIPE_LAMBDAS = {"race": 130.0, "sex": 30.0}

def pivot_settings(dataset: str, architecture: str) -> dict:
    """The settings of the book's mitigated (pivot) model of one (dataset, architecture) pair.

    Keys: ``unmitigated_epochs``, ``unmitigated_batch_size``, ``train_rows`` (the unmitigated
    model, as :func:`unmitigated_model`), ``start`` (``"scratch"``: the mitigated model is a network of its own,
    not a copy of the unmitigated one), and the arguments of
    :func:`fairnotes.adversarial.train_adversarial`: ``lambdas``, ``pretrain_epochs``,
    ``adversary_epochs``, ``n_iterations``, ``batch_size``, ``adversary_batch_size``,
    ``adversary_rows``, ``classifier_steps``, ``learning_rate``, ``classifier_learning_rate``, ``seed``,
    ``eval_every`` (in steps of the game, i.e. rounds).

    The paper read as literally as its text and the pivot recipe it follows allow (Tonk &
    Griffioen), for both architectures: the mitigated network trained from scratch, 2 epochs of
    classifier pretraining and 5 of the adversary's, then the recipe's 164 rounds of two
    classifier steps of 32 rows and adversary mini-batches of 128 on every training row; Adam at
    the paper's 0.001 for classifier and adversary; the recipe's trade-off weights (race 130, sex
    30). The CNN is the kernel-1 reading (:class:`fairnotes.models.ConvNet`). Fast mode plays 20
    rounds (the CNN 4, its adversary on 200 rows). The chapter :doc:`/book/adversarial` explains
    each choice, and :doc:`/book/audit` compares it with the other readings
    (:data:`PIVOT_READINGS`).
    """
    _check_pair(dataset, architecture)
    s = dict(unmitigated_epochs=unmitigated_epochs(dataset, architecture), unmitigated_batch_size=64,
             train_rows=unmitigated_train_rows(dataset, architecture), start="scratch",
             lambdas=dict(RECIPE_LAMBDAS), pretrain_epochs=2, adversary_epochs=5, batch_size=32,
             adversary_batch_size=128, classifier_steps=2, learning_rate=PAPER_LR,
             classifier_learning_rate=PAPER_LR, seed=0,
             adversary_rows=None, eval_every=1)
    if architecture == "linear":
        s["n_iterations"] = runtime.scale(default=164, fast=20)
        s["eval_every"] = runtime.paper_scale(default=1, fast=2, paper=1)
    else:
        s["n_iterations"] = runtime.scale(default=164, fast=4)
        s["adversary_rows"] = runtime.scale(default=None, fast=200)
        s["eval_every"] = runtime.paper_scale(default=10, fast=2, paper=5)
    return s


_GAME_KEYS = ("lambdas", "pretrain_epochs", "adversary_epochs", "n_iterations", "batch_size",
              "adversary_batch_size", "adversary_rows", "classifier_steps", "learning_rate",
              "classifier_learning_rate", "seed",
              "eval_every")

#: Settings of a reading of the paper beside the game's (:func:`book_models`), with the book's values:
#: COMPAS's feature set (:data:`COMPAS_FEATURES`), protected inputs standardised or raw 0/1, the
#: CNN's layout (``"channels"``: the book's kernel-1 CNN; ``"sequence"``: the kernel-3 reading,
#: :class:`fairnotes.models.ConvNet`), and the adversary's class weights (``None`` or ``"balanced"``).
READING_DEFAULTS = dict(features="book", standardize_protected=False, features_as="channels",
                        adversary_class_weight=None)

#: The first game's CNN played with this fraction of the recipe's lambdas (race 39, sex 9).
CNN_LAMBDA_FACTOR = 0.3


def first_game(dataset: str, architecture: str) -> dict:
    """The settings (keyword arguments of :func:`book_models`, ``start`` included) of the game the
    book played before it adopted the literal reading of :func:`pivot_settings`: the mitigated
    model started from a copy of the unmitigated one, 100 rounds (164 with
    ``FAIRNOTES_PAPER_SIZE=1``); the CNN the kernel-3 reading (``features_as="sequence"``) with a
    classifier learning rate of 0.0001, :data:`CNN_LAMBDA_FACTOR` times the recipe's lambdas and
    its adversary's epochs on 2,000 rows (every row at paper size). It is the baseline from which
    :data:`PIVOT_READINGS` change one setting at a time (the ablations of :doc:`/book/audit`).
    """
    _check_pair(dataset, architecture)
    s = dict(start="unmitigated", pretrain_epochs=0,
             n_iterations=runtime.paper_scale(default=100, fast=20 if architecture == "linear" else 4, paper=164))
    if architecture == "cnn":
        s.update(features_as="sequence", classifier_learning_rate=1e-4,
                 lambdas={k: v * CNN_LAMBDA_FACTOR for k, v in RECIPE_LAMBDAS.items()},
                 adversary_rows=runtime.paper_scale(default=2000, fast=200, paper=None))
    return s


#: The mitigated model as the paper's text and its recipe read most literally (:func:`pivot_settings`,
#: the book's game), as changes of :func:`first_game`: trained from scratch with the recipe's
#: pretraining (2 epochs, then 164 rounds), Adam at the paper's 0.001 with the recipe's weights for
#: both architectures, the adversary on every training row, and the kernel-1 CNN.
_LITERAL = dict(start="scratch", pretrain_epochs=2, n_iterations=164, classifier_learning_rate=PAPER_LR,
                lambdas=dict(RECIPE_LAMBDAS), adversary_rows=None, features_as="channels")

#: The readings of the auditability paper's pivot that :func:`book_models` can train (``reading=``):
#: name -> settings that differ from :func:`first_game`'s. Each but the last two changes one setting;
#: ``"literal"`` is the book's game. ``features_as`` applies to the CNN only, ``features`` to COMPAS
#: only (:func:`pivot_reading`).
PIVOT_READINGS = {
    "first game": {},
    "kernel-1 CNN": dict(features_as="channels"),
    "Adam 1e-3, recipe's weights": dict(classifier_learning_rate=PAPER_LR, lambdas=dict(RECIPE_LAMBDAS)),
    "from scratch, 2 + 164 rounds": dict(start="scratch", pretrain_epochs=2, n_iterations=164),
    "balanced class weights": dict(adversary_class_weight="balanced"),
    "standardised protected inputs": dict(standardize_protected=True),
    "with decile_score": dict(features="decile_score"),
    "AIF360's features": dict(features="aif360"),
    "literal": _LITERAL,
    "literal, balanced class weights": dict(_LITERAL, adversary_class_weight="balanced"),
}


def pivot_reading(reading: str, dataset: str, architecture: str) -> dict | None:
    """The settings (keyword arguments of :func:`book_models`, :func:`first_game`'s with the
    reading's changes) of one of :data:`PIVOT_READINGS` for one pair, or ``None`` where that
    reading changes nothing of the first game (the CNN's layout for the "linear" network;
    COMPAS's features on Adult; the CNN's learning rate and weights for the "linear" network,
    which has the paper's already). See the chapter :doc:`/book/audit`.
    """
    _check_pair(dataset, architecture)
    if reading not in PIVOT_READINGS:
        raise ValueError(f"unknown reading {reading!r}; the readings are {list(PIVOT_READINGS)}")
    change = dict(PIVOT_READINGS[reading])
    if architecture != "cnn":
        change.pop("features_as", None)
    if dataset != "compas" and "features" in change:
        return None
    base = first_game(dataset, architecture)
    full = {**pivot_settings(dataset, architecture), **READING_DEFAULTS, **base}
    if reading != "first game" and all(full.get(k) == v for k, v in change.items()):
        return None
    return {**base, **change}


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
    :func:`pivot_settings`, race and sex as the adversary's targets. Every chapter that calls this
    with the same arguments gets the same two models (the second from the cache).

    For an ablation, keyword ``overrides`` replace settings of the game (``lambdas``,
    ``n_iterations``, ``adversary_rows``, ``classifier_learning_rate``, ...: the keys of
    :func:`pivot_settings` that :func:`fairnotes.adversarial.train_adversarial` takes), and
    ``s_as_input=False`` trains both models without race (the unmitigated model's ``attribute``)
    among their inputs; sex stays one, and the adversary still sees both. ``start="scratch"``
    (the book's) trains the mitigated model from a freshly initialised network (seed ``seed + 1``,
    so not the unmitigated model's initial weights) with the recipe's pretraining
    (``pretrain_epochs``): two independently trained networks, as the paper trains "a fair model"
    beside "an unfair model"; ``start="unmitigated"`` starts it from a copy of the unmitigated
    model (the first game, :func:`first_game`). See the chapter
    :doc:`/book/adversarial`, section "The book's models", and :doc:`/book/audit`.

    Readings of the paper: the keys of :data:`READING_DEFAULTS` are settings too (``features``,
    ``standardize_protected``, ``features_as``, ``adversary_class_weight``), and ``reading``
    names one of :data:`PIVOT_READINGS` (:func:`pivot_reading`; e.g. ``reading="first game"``),
    whose settings (``start`` included) apply before the other ``overrides``.
    """
    from fairnotes import _torch, adversarial

    if reading is not None:
        chosen = pivot_reading(reading, dataset, architecture)
        if chosen is None:
            raise ValueError(f"the reading {reading!r} changes nothing for {dataset} {architecture}")
        chosen = dict(chosen)
        start = chosen.pop("start") if start is None else start
        overrides = {**chosen, **overrides}
    st = pivot_settings(dataset, architecture)
    start = st.pop("start") if start is None else start
    st.pop("start", None)
    unknown = sorted(set(overrides) - set(_GAME_KEYS) - set(READING_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown pivot settings {unknown}; the settings are "
                         f"{sorted(_GAME_KEYS + tuple(READING_DEFAULTS))}")
    st.update(READING_DEFAULTS)
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
            adversary_class_weight=st["adversary_class_weight"], **{k: st[k] for k in _GAME_KEYS})
    return BookModels(dataset, architecture, sp, unfair, fair, h_unfair, h_fair, st, np.arange(n))


# --------------------------------------------------------------------------- the FairGP paper

#: The book's FairGP split. Two thirds for training, stratified by label and group, as the paper's
#: comparison framework (the authors' fork); the protected attribute not a feature, the other one a
#: feature, each categorical column one ordinal code. The framework's GP inputs differ (one-hot
#: categories, neither protected attribute): :data:`BENCHMARK_FEATURES`.
FAIRGP_SPLIT = dict(test_size=1 / 3, s_as_input=False, other_protected=True, encoding="ordinal",
                   stratify=True, drop_first=True, standardize=True)

#: The overrides of :data:`FAIRGP_SPLIT` that give the GP inputs of the FairGP paper's benchmark
#: (Friedler et al.'s framework, the authors' fork): every categorical column one-hot with no level
#: dropped, and neither protected attribute among the features (``fairgp_split(..., **BENCHMARK_FEATURES)``).
BENCHMARK_FEATURES = dict(encoding="onehot", other_protected=False, drop_first=False)

_FAIRGP_DATA = {"adult": _data.adult_fairgp, "compas": _data.compas_fairgp}


def fairgp_split(dataset, attribute: str, seed: int = 0, **overrides) -> _data.Split:
    """``"adult"`` or ``"compas"`` (or a :class:`~fairnotes.data.TabularData`) split as the FairGP paper.

    :data:`FAIRGP_SPLIT`; keyword ``overrides`` change one of its settings (e.g.
    ``encoding="onehot"`` for an ablation). See the chapter :doc:`/book/fairgp_parity`.
    """
    if isinstance(dataset, str):
        if dataset not in _FAIRGP_DATA:
            raise ValueError(f"dataset must be 'adult' or 'compas' (or a TabularData), got {dataset!r}")
        dataset = _FAIRGP_DATA[dataset]()
    unknown = sorted(set(overrides) - set(FAIRGP_SPLIT))
    if unknown:
        raise ValueError(f"unknown split settings {unknown}; FAIRGP_SPLIT has {sorted(FAIRGP_SPLIT)}")
    return _data.split(dataset, attribute, seed=seed, **{**FAIRGP_SPLIT, **overrides})


#: The largest training set the book gives the paper's RBF SVM (``svm_max_train_rows`` of
#: :func:`fairnotes.baselines.paper_baselines`): ``SVC`` on all 20,107 one-hot Adult training
#: rows took 21-27 s on a 2-core machine under load (its cost grows between quadratically and
#: cubically with the rows), 15,000 rows 14-15 s. ProPublica's 4,112 training rows are all used.
SVM_TRAIN_ROWS = 15_000

#: The book's default FairGP fit. The paper used 500 inducing inputs, batch 500 and Adam, and does
#: not state its number of steps.
FAIRGP_FIT = dict(num_inducing=100, batch_size=500, steps=500, learning_rate=0.01, natgrad_gamma=None)


def fairgp_settings(**overrides) -> dict:
    """:data:`FAIRGP_FIT` sized by the mode: 30 inducing inputs and 40 steps in fast mode, the
    paper's 500 inducing inputs with ``FAIRNOTES_PAPER_SIZE=1`` (the steps stay the book's: the
    paper states none).

    See the chapter :doc:`/book/fairgp_parity`.
    """
    s = dict(FAIRGP_FIT, num_inducing=runtime.paper_scale(default=FAIRGP_FIT["num_inducing"], fast=30, paper=500),
             steps=runtime.scale(default=FAIRGP_FIT["steps"], fast=40))
    unknown = sorted(set(overrides) - set(s))
    if unknown:
        raise ValueError(f"unknown FairGP settings {unknown}; the settings are {sorted(s)}")
    s.update(overrides)
    return s


#: The FairGP paper's authors' training, as their benchmark wrapper ran it (``algorithms/universalgp/
#: UGPAlgorithm.py`` of predictive-analytics-lab/fairness-comparison, 2018, calling wearepal/UniversalGP):
#: Adam at 0.005, dropped to 0.001 after step 10 (a single piecewise-constant drop); every lengthscale,
#: FairGP\*'s ``s`` included, starting at 1.0 (the signal variance at 1.0); a full-covariance, unwhitened
#: ``q(u)`` starting at mean 0 and covariance ``(log 2)**2`` times the identity (their softplus of 0);
#: inducing inputs every ``n // M``-th training row, trained; the logistic link with Monte Carlo
#: expectations (1,000 draws). Their batch and steps depend on the training rows:
#: :func:`fairgp_authors_settings`; their jitter of 0.01 on ``K_uu``. Their code used up to 5,000 inducing
#: inputs; the paper states 500, which is the value here. Not reproduced: their float32 arithmetic, Adam's
#: epsilon (1e-8 in TensorFlow 1, 1e-7 here) and their entropy term (the same gradients, a constant apart).
FAIRGP_AUTHORS_FIT = dict(num_inducing=500, learning_rate=0.005, learning_rate_drop=(10, 0.2), lengthscale=1.0,
                          link="logistic", mc_samples=1000, whiten=False, inducing="stride",
                          q_sqrt_scale=float(np.log(2.0)), jitter=0.01, natgrad_gamma=None)

#: The authors' inputs: the benchmark's GP features (:data:`BENCHMARK_FEATURES`) unstandardised, to be
#: divided by each column's training maximum (:func:`fairnotes.fairgp.scale_by_maximum`).
FAIRGP_AUTHORS_SPLIT = dict(BENCHMARK_FEATURES, standardize=False)


def fairgp_authors_steps(n_train: int) -> tuple[int, int]:
    """The FairGP authors' batch size and number of steps for ``n_train`` training rows: batches of
    ``min(5000, n)`` rows and ``min(10000, n * int(7000 / sqrt(n)) // batch)`` steps (197 on Adult's
    20,107 training rows: 49 epochs). See the chapter :doc:`/book/fairgp_parity`.
    """
    n = int(n_train)
    if n < 1:
        raise ValueError(f"n_train must be a positive number of rows, got {n_train!r}")
    batch = min(5000, n)
    return batch, min(10000, n * int(7000 / np.sqrt(n)) // batch)


def fairgp_authors_settings(n_train: int, **overrides) -> dict:
    """The FairGP authors' training (:data:`FAIRGP_AUTHORS_FIT`) for ``n_train`` training rows, with
    their batch size and steps (:func:`fairgp_authors_steps`). Keyword ``overrides`` change a setting
    (e.g. ``num_inducing``). Fast mode: 30 inducing inputs and at most 40 steps.

    See the chapter :doc:`/book/fairgp_parity`.
    """
    batch, steps = fairgp_authors_steps(n_train)
    s = dict(FAIRGP_AUTHORS_FIT, batch_size=batch,
             steps=runtime.scale(default=steps, fast=min(steps, 40)),
             num_inducing=runtime.scale(default=FAIRGP_AUTHORS_FIT["num_inducing"], fast=30))
    unknown = sorted(set(overrides) - set(s) - {"s_lengthscale", "train_s_lengthscale"})
    if unknown:
        raise ValueError(f"unknown FairGP settings {unknown}; the settings are {sorted(s)}")
    s.update(overrides)
    return s


_KINDS = ("GP", "GP*", "FairGP", "FairGP*")


def fit_fairgp(split: _data.Split, kind: str, *, target="mean", parameters=None, seed: int = 0,
               eval_every: int | None = None, progress: bool | None = None, desc: str | None = None, **settings):
    """Fit a ``"GP"``, ``"GP*"``, ``"FairGP"`` or ``"FairGP*"`` on a split, as the FairGP chapters do.

    A star reads ``s`` as an input (``s_as_input=True``). FairGP's debiasing parameters are ``parameters`` if given,
    else :func:`fairnotes.target_labels.parity_parameters` of the *training* part's base rates
    and ``target`` (demographic parity). Fit settings: :func:`fairgp_settings` with ``settings``
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
                        **fairgp_settings(**settings))
    return clf.fit(split.X_train, split.y_train, split.s_train,
                   eval_set=(split.X_test, split.y_test, split.s_test) if eval_every is not None else None,
                   eval_every=eval_every)


# --------------------------------------------------------------------------- target labels for every model

#: The models the chapter :doc:`/book/target_nets` trains through target labels: logistic
#: regression and the auditability paper's two networks (:func:`fairnotes.models.make_model`).
TARGET_ARCHITECTURES = ("logistic", "linear", "cnn")


def target_label_settings(dataset: str, architecture: str) -> dict:
    """Training settings of a model trained through target labels (or its BCE baseline).

    Keys: ``epochs``, ``batch_size``, ``learning_rate``, ``weight_decay``, ``seed`` (of
    :func:`fairnotes.models.train` and :func:`fairnotes.models.make_model`), ``train_rows`` (the
    first rows of the shuffled training part, ``None``: all), ``test_history`` (evaluate the
    test part after every epoch, for the history) and ``start`` (``None``: train from the seeded
    initial weights; ``"unmitigated"``: fine-tune a copy of the book's unmitigated model, as the
    pivot does; an option, no preset uses it). The paper's two networks take the settings of the
    book's unmitigated model (:func:`unmitigated_epochs` and ``unmitigated_train_rows``,
    mini-batches of 64, Adam at :data:`PAPER_LR`, seed 0, the test part evaluated), the Adult CNN
    included, so that a network trained through target labels differs from the unmitigated one in
    its loss only, and the BCE baseline *is* the unmitigated model (the same cache entry).
    Logistic regression, a convex problem with 95 weights at most: 10 epochs (2 in fast mode) of
    mini-batches of 256 at learning rate 0.01.
    See the chapter :doc:`/book/target_nets`.
    """
    if dataset not in _AUDITABILITY_DATA:
        raise ValueError(f"dataset must be 'adult' or 'compas', got {dataset!r}")
    if architecture not in TARGET_ARCHITECTURES:
        raise ValueError(f"architecture must be one of {list(TARGET_ARCHITECTURES)}, got {architecture!r}")
    s = dict(batch_size=64, learning_rate=PAPER_LR, weight_decay=0.0, seed=0, train_rows=None, test_history=True,
             start=None)
    if architecture == "logistic":
        s.update(epochs=runtime.scale(default=10, fast=2), batch_size=256, learning_rate=1e-2)
    else:
        s["epochs"] = unmitigated_epochs(dataset, architecture)
        s["train_rows"] = unmitigated_train_rows(dataset, architecture)
    return s


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
    :func:`target_label_settings`, with keyword ``overrides``; with ``start="unmitigated"`` the
    model is fine-tuned from a copy of :func:`unmitigated_model` (which needs ``s_as_input``), and
    ``parameters=None`` returns that unmitigated model itself. Returns ``(model, history, split)``.
    See the chapter :doc:`/book/target_nets`.
    """
    from fairnotes import _torch, models

    st = target_label_settings(dataset, architecture)
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
                                                  train_rows=unmitigated_train_rows(dataset, architecture),
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
