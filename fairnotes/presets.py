"""The papers' and the book's settings, in one place: data, not training.

Every setting that comes from a paper (a split, a learning rate, a trade-off weight) or that the
book chose for its default build (epochs, rounds, inducing points) lives here. The functions that
train the book's shared models from these settings are in :mod:`fairnotes.recipes`. The algorithm
modules (:mod:`fairnotes.metrics`, :mod:`fairnotes.sensitivity`, :mod:`fairnotes.adversarial`,
:mod:`fairnotes.fairgp`, :mod:`fairnotes.target_labels`, ...) own their defaults, take every size
as an argument and know no book; this module imports their defaults where the book uses them
(:data:`DEFAULT_SIGMA`). Chapters, benchmarks and tests take their settings from here, so that two
chapters that train "the same model" really do, and the disk cache serves the second one.

Sizes that the build mode changes go through :func:`fairnotes.runtime.scale` (fast mode, for the
tests) and :func:`fairnotes.runtime.paper_scale` (``FAIRNOTES_PAPER_SIZE=1``, the papers' sizes
where they state them, larger ones than the default where they do not), so each function here
returns the settings of the mode in force when it is called. Importing this module is light
(numpy and pandas).

The auditability paper (Ngong, Maughan & Near, 2021)
-----------------------------------------------------
:data:`DATASETS`, :data:`AUDITABILITY_SPLIT`, :data:`PAPER_LR`, :data:`DEFAULT_SIGMA`,
:data:`SMOOTH_N_SAMPLES`, :func:`check_pair`, :func:`unmitigated_epochs`, :func:`unmitigated_train_rows`,
:data:`RECIPE_LAMBDAS`, :func:`pivot_settings`, :data:`GAME_KEYS`, :data:`COMPAS_FEATURES`,
:data:`READING_DEFAULTS`, :data:`CNN_LAMBDA_FACTOR`, :func:`first_game`, :data:`PIVOT_READINGS`,
:func:`pivot_reading`. See the chapters :doc:`/book/sensitivity` and :doc:`/book/adversarial`.

The FairGP paper (Kehrenberg, Chen & Quadrianto)
-------------------------------------------------
:data:`FAIRGP_SPLIT`, :data:`BENCHMARK_FEATURES`, :data:`SVM_TRAIN_ROWS`, :data:`FAIRGP_FIT`,
:func:`fairgp_settings`, :data:`FAIRGP_AUTHORS_FIT`, :data:`FAIRGP_AUTHORS_SPLIT`,
:func:`fairgp_authors_steps`, :func:`fairgp_authors_settings`. See the chapter :doc:`/book/fairgp_parity`.

Target labels for every model (Kehrenberg, Chen & Quadrianto, 2020)
--------------------------------------------------------------------
:data:`TARGET_ARCHITECTURES`, :func:`target_label_settings`. See the chapter :doc:`/book/target_nets`.
"""

from __future__ import annotations

import numpy as np

from fairnotes import _sensitivity_defaults
from fairnotes import runtime

__all__ = [
    "DATASETS", "DEFAULT_SIGMA", "SMOOTH_N_SAMPLES", "PAPER_LR", "AUDITABILITY_SPLIT", "check_pair",
    "unmitigated_epochs", "unmitigated_train_rows", "RECIPE_LAMBDAS", "CNN_LAMBDA_FACTOR", "pivot_settings",
    "GAME_KEYS", "COMPAS_FEATURES", "READING_DEFAULTS", "first_game", "PIVOT_READINGS", "pivot_reading",
    "FAIRGP_SPLIT", "BENCHMARK_FEATURES", "SVM_TRAIN_ROWS", "FAIRGP_FIT", "fairgp_settings",
    "FAIRGP_AUTHORS_FIT", "FAIRGP_AUTHORS_SPLIT", "fairgp_authors_steps", "fairgp_authors_settings",
    "TARGET_ARCHITECTURES", "target_label_settings",
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

#: The auditability paper's datasets and the two architectures of its networks.
DATASETS = ("adult", "compas")
_ARCHITECTURES = ("linear", "cnn")


def check_pair(dataset: str, architecture: str) -> None:
    """Raise a ValueError unless ``(dataset, architecture)`` is one of the auditability paper's pairs.

    See the chapter :doc:`/book/sensitivity`, section "The models"."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be 'adult' or 'compas', got {dataset!r}")
    if architecture not in _ARCHITECTURES:
        raise ValueError(f"architecture must be 'linear' or 'cnn', got {architecture!r}")


#: The feature sets of COMPAS a reading of the auditability paper may use (it lists none):
#: ``"book"`` (:func:`fairnotes.data.compas_auditability`), ``"decile_score"`` (the book's and
#: COMPAS's own decile score), ``"aif360"`` (AIF360's ``CompasDataset`` defaults: the book's and
#: the charge description ``c_charge_desc``, one-hot; its few missing values are a category of
#: their own, so that the rows, and the split, stay the book's 6,172). Adult has only ``"book"``.
COMPAS_FEATURES = ("book", "decile_score", "aif360")


def unmitigated_epochs(dataset: str, architecture: str) -> int:
    """Epochs of the book's unmitigated model of one (dataset, architecture) pair.

    The paper states none. Adult linear 10, Adult CNN 3 (10 with ``FAIRNOTES_PAPER_SIZE=1``),
    COMPAS linear 20, COMPAS CNN 10; 1-2 in fast mode. Every chapter of Part II trains its
    unmitigated models with these, so that they audit the same models.
    See the chapter :doc:`/book/sensitivity`, section "The models".
    """
    check_pair(dataset, architecture)
    return {
        ("adult", "linear"): runtime.scale(default=10, fast=2),
        ("adult", "cnn"): runtime.paper_scale(default=3, fast=1, paper=10),
        ("compas", "linear"): runtime.scale(default=20, fast=2),
        ("compas", "cnn"): runtime.scale(default=10, fast=2),
    }[dataset, architecture]


def unmitigated_train_rows(dataset: str, architecture: str) -> int | None:
    """Training rows of the unmitigated model: all (``None``) except the Adult CNN in fast mode (2,000).

    See the chapter :doc:`/book/sensitivity`, section "The models"."""
    check_pair(dataset, architecture)
    return runtime.scale(default=None, fast=2000) if (dataset, architecture) == ("adult", "cnn") else None


#: The published pivot recipe's trade-off weights on Adult (Tonk & Griffioen's PyTorch notebook).
RECIPE_LAMBDAS = {"race": 130.0, "sex": 30.0}

def pivot_settings(dataset: str, architecture: str) -> dict:
    """The settings of the book's mitigated (pivot) model of one (dataset, architecture) pair.

    Keys: ``unmitigated_epochs``, ``unmitigated_batch_size``, ``train_rows`` (the unmitigated
    model, as :func:`fairnotes.recipes.unmitigated_model`), ``start`` (``"scratch"``: the mitigated model is a network of its own,
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
    check_pair(dataset, architecture)
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


#: The keys of :func:`pivot_settings` that :func:`fairnotes.adversarial.train_adversarial` takes, the
#: settings of the game itself (the others train the unmitigated model or choose a reading).
GAME_KEYS = ("lambdas", "pretrain_epochs", "adversary_epochs", "n_iterations", "batch_size",
              "adversary_batch_size", "adversary_rows", "classifier_steps", "learning_rate",
              "classifier_learning_rate", "seed",
              "eval_every")

#: Settings of a reading of the paper beside the game's (:func:`fairnotes.recipes.book_models`), with the book's values:
#: COMPAS's feature set (:data:`COMPAS_FEATURES`), protected inputs standardised or raw 0/1, the
#: CNN's layout (``"channels"``: the book's kernel-1 CNN; ``"sequence"``: the kernel-3 reading,
#: :class:`fairnotes.models.ConvNet`), and the adversary's class weights (``None`` or ``"balanced"``).
READING_DEFAULTS = dict(features="book", standardize_protected=False, features_as="channels",
                        adversary_class_weight=None)

#: The first game's CNN played with this fraction of the recipe's lambdas (race 39, sex 9).
CNN_LAMBDA_FACTOR = 0.3


def first_game(dataset: str, architecture: str) -> dict:
    """The settings (keyword arguments of :func:`fairnotes.recipes.book_models`, ``start`` included) of the game the
    book played before it adopted the literal reading of :func:`pivot_settings`: the mitigated
    model started from a copy of the unmitigated one, 100 rounds (164 with
    ``FAIRNOTES_PAPER_SIZE=1``); the CNN the kernel-3 reading (``features_as="sequence"``) with a
    classifier learning rate of 0.0001, :data:`CNN_LAMBDA_FACTOR` times the recipe's lambdas and
    its adversary's epochs on 2,000 rows (every row at paper size). It is the baseline from which
    :data:`PIVOT_READINGS` change one setting at a time (the ablations of :doc:`/book/audit`).
    """
    check_pair(dataset, architecture)
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

#: The readings of the auditability paper's pivot that :func:`fairnotes.recipes.book_models` can train (``reading=``):
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
    """The settings (keyword arguments of :func:`fairnotes.recipes.book_models`, :func:`first_game`'s with the
    reading's changes) of one of :data:`PIVOT_READINGS` for one pair, or ``None`` where that
    reading changes nothing of the first game (the CNN's layout for the "linear" network;
    COMPAS's features on Adult; the CNN's learning rate and weights for the "linear" network,
    which has the paper's already). See the chapter :doc:`/book/audit`.
    """
    check_pair(dataset, architecture)
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

#: The authors' inputs — the benchmark's GP features (:data:`BENCHMARK_FEATURES`) unstandardised, to be
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


# --------------------------------------------------------------------------- target labels for every model

#: The models the chapter :doc:`/book/target_nets` trains through target labels — logistic
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
    if dataset not in DATASETS:
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


