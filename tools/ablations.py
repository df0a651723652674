"""Ablations: small experiments that test why the book's results differ from the papers'.

Usage, from the repository root, by hand (minutes to an hour each; not part of the build or the tests)::

    python tools/ablations.py --list            # which ablations exist and which are stored
    python tools/ablations.py fairgp            # one ablation
    python tools/ablations.py                   # every ablation not stored yet
    python tools/ablations.py pivot --force     # run again, replacing the stored result
    python tools/ablations.py --workers 8       # the pieces on a local Dask cluster of 8 processes
    python tools/ablations.py --workers 0       # one piece after another in this process
    python tools/ablations.py --scheduler tcp://10.0.0.1:8786   # on an existing Dask cluster

The pieces (one configuration on one split) are independent: by default they run on a local Dask
cluster (``dask.distributed``) of one single-threaded worker process per usable core, or on an
existing cluster (``--scheduler``, e.g. workers on a SLURM cluster started with dask-jobqueue: see
the appendix *Running the book*); ``tools/cluster.py`` runs them. Every piece seeds itself and runs
with one thread, so the numbers do not depend on the number of workers; the stored file's
provenance says where they ran (``workers``, ``scheduler``) and each new piece's wall time.

Each ablation writes ``results/ablations/<name>.json``: its tables (``values``, read back as
DataFrames by :func:`fairnotes.runs.stored_ablation`) and the same provenance as a stored
paper-size run (command, commit, dates, machine, cores, wall and CPU time, load, versions). The
chapters plot them. Resumable piece by piece: every finished configuration is kept in
``_build/ablations/<name>.partial.json`` and is not computed again after an interruption or by
``--force`` (which replaces the stored result, computing only the configurations it lacks);
``--fresh`` computes every configuration again (after a change to the code). The pivot networks
are also in the training cache (``~/.cache/fairnotes``).

The ablations:

``fairgp`` (chapter *Demographic parity with FairGP*)
    FairGP and FairGP* on Adult, race and sex, mean target, over repeated splits: the book's
    fixed 500 steps against a stopping rule on the held-out log density of 20% of the training
    rows (:class:`fairnotes.fairgp.FairGP`, ``patience``); ``s`` as a raw 0/1 kernel column with an
    ARD lengthscale (the paper's reading) against a group kernel in which the groups can differ
    (``s_kernel="group"``); 100 inducing inputs (the book) against 500 (the paper); each
    categorical column as one ordinal code (the book) against one-hot columns; and the benchmark's
    own GP inputs (:data:`fairnotes.presets.BENCHMARK_FEATURES`: one-hot, neither protected
    attribute among the features).
``pivot`` (chapter *Auditing individual predictions*)
    The pivot's strength and the models' inputs, for both architectures on both datasets, each a
    change of the book's first game (:func:`fairnotes.presets.first_game`; "book" in the stored
    results, which predate the literal reading): the trade-off weights lambda at 0.3, 1 and 3 times the recipe's, the recipe's 164 rounds, the
    adversary on every training row (COMPAS CNN), and both models trained without race among
    their inputs (sex stays one), the "fair" model trained from scratch rather than from the unmitigated
    one, and, as a floor, two unmitigated models that differ only in their seed. For each:
    accuracy, p%-rules, the number of !Match predictions, and the smooth sensitivity of both
    models with respect to race and to sex (Figure 4's question).
``pivot_readings`` (chapter *Auditing individual predictions*)
    Readings of the auditability paper's pivot (:data:`fairnotes.presets.PIVOT_READINGS`), each one
    setting changed against the first game (:func:`fairnotes.presets.first_game`; "book" in the
    stored results, which predate the book's adoption of the literal reading): the kernel-1 CNN (the features as channels), Adam 0.001 with
    the recipe's lambda for the CNN, the "fair" model from scratch with the recipe's 2 + 164 rounds,
    balanced class weights for the adversary, standardised protected inputs, COMPAS with
    ``decile_score`` or AIF360's features; and the literal reading (the first three, the adversary on
    every row) with and without balanced weights. Accuracy, p%-rules, !Match and Figure 4's comparison
    with respect to race, sex and both. Three kernel-3 Adult CNN rows are left out (time).
``fairgp_authors_opp`` (chapter *Equality of opportunity with FairGP*)
    FairGP on ProPublica's COMPAS data as its authors trained it (:data:`fairnotes.presets.FAIRGP_AUTHORS_FIT`,
    their inputs :data:`fairnotes.presets.FAIRGP_AUTHORS_SPLIT` divided by each column's maximum), race
    and sex, over repeated splits: GP, GP*, and FairGP and FairGP* at the target TPRs of the paper's
    Table 3, each with the target TNR the paper's recipe gives from the authors' own GP and GP* runs.
``pivot_seeds`` (chapter *Auditing individual predictions*)
    The book's pivot (the literal reading it adopts, :func:`fairnotes.presets.pivot_settings`) for
    every pair on five seeds (each seed draws its own split and both networks' initial weights),
    and on seed 0 with three times the recipe's weights lambda: how far the !Match count, the
    accuracy and the p%-rules move from one seed to the next, against the paper's Figure 1.
``zafar_eqopp`` (chapter *Equality of opportunity with FairGP*)
    Zafar et al.'s false-negative-rate constraint on ProPublica, race and sex, over repeated
    splits: the covariance centred on the positives (the authors' code, the book's row) or on
    every training row (their paper's equation), with and without an L2 penalty, SLSQP from the
    unconstrained fit or from random weights, one-hot or ordinal features, race and sex among the
    features (as the benchmark passes them to Zafar's code) or not, and the unconstrained logistic
    regression.
``svm_authors`` (chapters *Demographic parity with FairGP* and *Equality of opportunity with FairGP*)
    The FairGP paper's SVM (RBF) rows, Adult (Table 1) and ProPublica (Table 3), race and sex, over
    repeated splits: the book's row (its standardised one-hot features with the other protected
    attribute, scikit-learn's ``SVC()`` of today, ``gamma="scale"``, Adult on at most
    :data:`fairnotes.presets.SVM_TRAIN_ROWS` rows); the same on every training row; the benchmark's
    inputs (:data:`fairnotes.presets.BENCHMARK_FEATURES`: one-hot with every level, neither
    protected attribute) standardised; and the benchmark's SVM as its framework ran it in 2018:
    ``SVC()`` with that scikit-learn's default ``gamma="auto"`` (``1 / n_features``) on the
    benchmark's inputs *unscaled* (the framework passed its numerical CSV columns, capital gain in
    dollars, to ``SVC`` as they were), every training row.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import check_where, run_pieces  # noqa: E402
import stored_runs_cli as cli  # noqa: E402
from provenance import git_commit, machine, now, versions  # noqa: E402
from toc import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fairnotes.runs import ABLATIONS_DIR, PROVENANCE_KEYS, to_json  # noqa: E402

PARTIAL_DIR = ROOT / "_build" / "ablations"


def results_path(name: str) -> Path:
    return ROOT / ABLATIONS_DIR / f"{name}.json"


class Pieces:
    """Finished configurations of one ablation, kept on disk so that an interrupted run resumes."""

    def __init__(self, name: str, fresh: bool):
        PARTIAL_DIR.mkdir(parents=True, exist_ok=True)
        self.path = PARTIAL_DIR / f"{name}.partial.json"
        self.rows = {} if fresh or not self.path.exists() else json.loads(self.path.read_text())
        self.reused = 0

    def get(self, key: str, compute):
        if key in self.rows:
            self.reused += 1
        else:
            self.put(key, compute())
        return self.rows[key]

    def missing(self, keys) -> list[str]:
        """The keys among ``keys`` not finished yet (the others count as reused)."""
        todo = [k for k in keys if k not in self.rows]
        self.reused += len(keys) - len(todo)
        return todo

    def put(self, key: str, row) -> None:
        """Keep a finished piece on disk at once (an interruption loses only the pieces running)."""
        self.rows[key] = to_json(row)
        self.path.write_text(json.dumps(self.rows, indent=1))


@dataclass(frozen=True)
class Ablation:
    """An ablation cut into pieces: ``jobs()`` (key -> the arguments of one piece, in table order),
    ``piece(*args)`` (one row: a pure function of its arguments, seeded inside) and ``values(rows)``
    (the stored tables from the rows, keyed as ``jobs``)."""

    jobs: Callable[[], dict]
    piece: Callable[..., dict]
    values: Callable[[dict], dict]


def compute_piece(name: str, args: tuple) -> dict:
    """One piece of the ablation ``name``, as JSON-able data; what a Dask worker (or this process) runs."""
    return to_json(ABLATIONS[name][1].piece(*args))


@functools.lru_cache(maxsize=None)
def _dataset(name: str):
    """A dataset loaded once per process (each worker loads it for its first piece)."""
    from fairnotes import data

    return getattr(data, name)()


# --------------------------------------------------------------------------- FairGP

FAIRGP_REPEATS = 3          # splits per attribute (seeds 0, 1, 2)
FAIRGP_VALIDATION = 0.2     # share of the training rows held out for the stopping rule
FAIRGP_EVAL_EVERY = 50      # steps between two evaluations of the stopping rule
FAIRGP_PATIENCE = 5         # evaluations without improvement before it stops
FAIRGP_MAX_STEPS = 5000     # the most steps under the stopping rule

#: (label, kind, settings): the configurations of the FairGP ablation, each fitted per split.
FAIRGP_CONFIGS = [
    ("GP", "GP", {}),
    ("FairGP", "FairGP", {}),
    ("FairGP*", "FairGP*", {}),
    ("FairGP* group kernel", "FairGP*", {"s_kernel": "group"}),
    ("FairGP, stopping rule", "FairGP", {"rule": True}),
    ("FairGP*, stopping rule", "FairGP*", {"rule": True}),
    ("FairGP* group kernel, stopping rule", "FairGP*", {"s_kernel": "group", "rule": True}),
    ("FairGP, M=500", "FairGP", {"num_inducing": 500}),
    ("FairGP*, M=500", "FairGP*", {"num_inducing": 500}),
    ("GP, one-hot", "GP", {"encoding": "onehot"}),
    ("FairGP, one-hot", "FairGP", {"encoding": "onehot"}),
    ("FairGP*, one-hot", "FairGP*", {"encoding": "onehot"}),
    ("GP, benchmark features", "GP", {"benchmark": True}),
    ("FairGP, benchmark features", "FairGP", {"benchmark": True}),
    ("FairGP*, benchmark features", "FairGP*", {"benchmark": True}),
]


def _fairgp_row(adult, attr, seed, label, kind, cfg) -> dict:
    from fairnotes import fairgp, metrics, presets, recipes, target_labels

    if cfg.get("benchmark"):   # the benchmark's GP inputs: one-hot, neither protected attribute
        sp = recipes.fairgp_split(adult, attr, seed, **presets.BENCHMARK_FEATURES)
    else:
        sp = recipes.fairgp_split(adult, attr, seed, encoding=cfg.get("encoding", "ordinal"))
    P = None if kind == "GP" else target_labels.parity_parameters(sp.base_rates(), "mean")
    settings = presets.fairgp_settings()
    if "num_inducing" in cfg:
        settings["num_inducing"] = cfg["num_inducing"]
    star = kind.endswith("*")
    extra = {"s_kernel": cfg.get("s_kernel", "ard")} if star else {}
    X, y, s = sp.X_train, sp.y_train, sp.s_train
    fit_kw = {}
    if cfg.get("rule"):
        rng = np.random.default_rng(seed)
        val = np.zeros(len(y), bool)
        val[rng.choice(len(y), int(round(FAIRGP_VALIDATION * len(y))), replace=False)] = True
        settings.update(steps=FAIRGP_MAX_STEPS)
        extra["patience"] = FAIRGP_PATIENCE
        fit_kw = dict(validation=(X[val], y[val], s[val]), eval_every=FAIRGP_EVAL_EVERY)
        X, y, s = X[~val], y[~val], s[~val]
    clf = fairgp.FairGP(P, s_as_input=star, seed=seed, progress=False, **settings, **extra)
    t0 = time.perf_counter()
    clf.fit(X, y, s, **fit_kw)
    seconds = time.perf_counter() - t0
    summary = metrics.prediction_summary(sp.y_test, clf.predict(sp.X_test, sp.s_test if star else None), s=sp.s_test)
    return {"attribute": attr, "seed": seed, "model": label, "kind": kind,
            "s_kernel": extra.get("s_kernel", "") if star else "", "stopping rule": bool(cfg.get("rule")),
            "encoding": "benchmark" if cfg.get("benchmark") else cfg.get("encoding", "ordinal"),
            "features": sp.n_features,
            "M": settings["num_inducing"], "train rows": len(y), "steps": int(clf.best_step),
            "steps run": int(clf.history["step"].iloc[-1]),
            "group correlation": clf.group_correlation() if star else np.nan,
            "seconds": seconds, **{k: summary[k] for k in ("accuracy", "DI", "PR0", "PR1")}}


def fairgp_jobs() -> dict:
    return {f"{attr}|{seed}|{label}": (attr, seed, label, kind, cfg)
            for attr in ("race", "sex") for seed in range(FAIRGP_REPEATS) for label, kind, cfg in FAIRGP_CONFIGS}


def fairgp_piece(attr, seed, label, kind, cfg) -> dict:
    from fairnotes.runtime import seed_everything

    seed_everything(0)
    return _fairgp_row(_dataset("adult_fairgp"), attr, seed, label, kind, cfg)


def fairgp_values(rows: dict) -> dict:
    out = []
    for key, (attr, seed, label, kind, cfg) in fairgp_jobs().items():
        row = dict(rows[key])
        # pieces of the first stored run (commit a3a8720) predate these two columns; same fits otherwise
        row.setdefault("encoding", "benchmark" if cfg.get("benchmark") else cfg.get("encoding", "ordinal"))
        row.setdefault("features", 12)
        out.append(row)
    fits = pd.DataFrame(out)
    return {"fits": fits,
            "settings": {"repeats": FAIRGP_REPEATS, "validation_share": FAIRGP_VALIDATION,
                         "eval_every": FAIRGP_EVAL_EVERY, "patience": FAIRGP_PATIENCE,
                         "max_steps": FAIRGP_MAX_STEPS, "target": "mean"}}


# --------------------------------------------------------------------------- FairGP as its authors trained it

#: (label, kind, settings): the configurations of the ``fairgp_authors`` ablation, each fitted per split.
#: ``authors``: the authors' training and inputs (presets.FAIRGP_AUTHORS_FIT / FAIRGP_AUTHORS_SPLIT, 500
#: inducing inputs); the other rows change one thing of the book's configuration (FAIRGP_FIT).
FAIRGP_AUTHORS_CONFIGS = [
    ("GP, authors", "GP", {"authors": True}),
    ("FairGP, authors", "FairGP", {"authors": True}),
    ("FairGP*, authors", "FairGP*", {"authors": True}),
    ("FairGP*, authors, s fixed", "FairGP*", {"authors": True, "train_s_lengthscale": False}),
    ("GP", "GP", {}),
    ("FairGP", "FairGP", {}),
    ("FairGP*", "FairGP*", {}),
    ("GP, benchmark features", "GP", {"benchmark": True}),
    ("FairGP, benchmark features", "FairGP", {"benchmark": True}),
    ("FairGP*, benchmark features", "FairGP*", {"benchmark": True}),
    ("GP, max-scaled", "GP", {"benchmark": True, "max_scaled": True}),
    ("FairGP, max-scaled", "FairGP", {"benchmark": True, "max_scaled": True}),
    ("FairGP*, max-scaled", "FairGP*", {"benchmark": True, "max_scaled": True}),
    ("GP, logistic MC", "GP", {"link": "logistic", "mc_samples": 1000}),
    ("FairGP, logistic MC", "FairGP", {"link": "logistic", "mc_samples": 1000}),
    ("FairGP*, logistic MC", "FairGP*", {"link": "logistic", "mc_samples": 1000}),
    ("FairGP*, s from 1", "FairGP*", {"s_lengthscale": 1.0}),
    ("FairGP*, s fixed at 1", "FairGP*", {"s_lengthscale": 1.0, "train_s_lengthscale": False}),
    ("GP, authors' optimiser", "GP", {"optimiser": True}),
    ("FairGP, authors' optimiser", "FairGP", {"optimiser": True}),
    ("FairGP*, authors' optimiser", "FairGP*", {"optimiser": True}),
]


def _fit_fairgp(P, star: bool, seed: int, settings: dict, sp, X, X_test):
    """Fit one FairGP (``P=None``: a plain GP) on the split's training rows given as ``X``; return it, its
    training seconds and :func:`fairnotes.metrics.prediction_summary` of its test predictions."""
    from fairnotes import fairgp, metrics

    clf = fairgp.FairGP(P, s_as_input=star, seed=seed, progress=False, **settings)
    t0 = time.perf_counter()
    clf.fit(X, sp.y_train, sp.s_train)
    seconds = time.perf_counter() - t0
    summary = metrics.prediction_summary(sp.y_test, clf.predict(X_test, sp.s_test if star else None), s=sp.s_test)
    return clf, seconds, summary


def _fairgp_authors_row(adult, attr, seed, label, kind, cfg) -> dict:
    from fairnotes import fairgp, presets, recipes, target_labels

    if cfg.get("authors") or cfg.get("max_scaled"):
        sp = recipes.fairgp_split(adult, attr, seed, **presets.FAIRGP_AUTHORS_SPLIT)
        X, X_test = fairgp.scale_by_maximum(sp.X_train, sp.X_test)
    else:
        sp = recipes.fairgp_split(adult, attr, seed, **(presets.BENCHMARK_FEATURES if cfg.get("benchmark") else {}))
        X, X_test = sp.X_train, sp.X_test
    star = kind.endswith("*")
    if cfg.get("authors"):
        settings = presets.fairgp_authors_settings(len(sp.y_train))
    else:
        settings = presets.fairgp_settings()
        if cfg.get("optimiser"):   # the authors' batches, steps and learning-rate drop, the book's model
            auth = presets.fairgp_authors_settings(len(sp.y_train))
            settings.update({k: auth[k] for k in ("batch_size", "steps", "learning_rate", "learning_rate_drop")})
        settings.update({k: cfg[k] for k in ("link", "mc_samples") if k in cfg})
    if star:
        settings.update({k: cfg[k] for k in ("s_lengthscale", "train_s_lengthscale") if k in cfg})
    P = None if kind == "GP" else target_labels.parity_parameters(sp.base_rates(), "mean")
    clf, seconds, summary = _fit_fairgp(P, star, seed, settings, sp, X, X_test)
    return {"attribute": attr, "seed": seed, "model": label, "kind": kind,
            "configuration": "authors" if cfg.get("authors") else "book",
            "features": sp.n_features, "M": settings["num_inducing"], "batch": settings["batch_size"],
            "steps": settings["steps"], "link": settings.get("link", "probit"),
            "s lengthscale learned": bool(cfg.get("train_s_lengthscale", True)) if star else None,
            "group correlation": clf.group_correlation() if star else np.nan,
            "seconds": seconds, **{k: summary[k] for k in ("accuracy", "DI", "PR0", "PR1")}}


def fairgp_authors_jobs() -> dict:
    return {f"{attr}|{seed}|{label}": (attr, seed, label, kind, cfg)
            for label, kind, cfg in FAIRGP_AUTHORS_CONFIGS for attr in ("race", "sex") for seed in range(FAIRGP_REPEATS)}


def fairgp_authors_piece(attr, seed, label, kind, cfg) -> dict:
    from fairnotes.runtime import seed_everything

    seed_everything(0)
    return _fairgp_authors_row(_dataset("adult_fairgp"), attr, seed, label, kind, cfg)


def fairgp_authors_values(rows: dict) -> dict:
    from fairnotes import presets

    fits = pd.DataFrame([rows[key] for key in fairgp_authors_jobs()])
    return {"fits": fits,
            "settings": {"repeats": FAIRGP_REPEATS, "target": "mean",
                         "authors": {k: list(v) if isinstance(v, tuple) else v
                                     for k, v in presets.FAIRGP_AUTHORS_FIT.items()},
                         "book": dict(presets.FAIRGP_FIT)}}


# --------------------------------------------------------------------------- FairGP as its authors trained it: COMPAS

FAIRGP_AUTHORS_OPP_REPEATS = 5                  # splits per attribute (seeds 0-4); the authors kept 10
FAIRGP_AUTHORS_OPP_TARGETS = (0.6, 0.7, 0.8, 0.9, 1.0)   # the target TPRs of the paper's Table 3


def fairgp_authors_opp_target_tnr() -> dict:
    """``(attribute, base model) -> target TNR``: the paper's recipe (the smaller of the two groups' TNRs of
    a plain GP, GP* for FairGP*) applied to the authors' own GP and GP* runs, their means over their ten
    splits (``fairgp_authors_opp_runs.csv``), so that FairGP and FairGP* target the TNR the authors' runs
    did rather than one read off this ablation's own test sets."""
    from fairnotes import papers

    runs_ = papers.table("fairgp_authors_opp_runs")
    means = runs_[runs_["model"].isin(["GP", "GP*"])].groupby(["attribute", "model"])[["TNR0", "TNR1"]].mean()
    return {key: float(row.min()) for key, row in means.iterrows()}


def _fairgp_authors_opp_configs() -> list[tuple[str, str, float | None]]:
    """(label, kind, target TPR) in the order the pieces are computed: GP* and GP first (the rows whose gap
    to the authors is largest), then FairGP* and FairGP at each target."""
    return ([("GP*", "GP*", None), ("GP", "GP", None)]
            + [(f"{kind}, TPR={t:.1f}", kind, t) for kind in ("FairGP*", "FairGP") for t in FAIRGP_AUTHORS_OPP_TARGETS])


def _fairgp_authors_opp_row(compas, attr, seed, label, kind, target_tpr, target_tnr) -> dict:
    from fairnotes import fairgp, presets, recipes, target_labels

    sp = recipes.fairgp_split(compas, attr, seed, **presets.FAIRGP_AUTHORS_SPLIT)
    X, X_test = fairgp.scale_by_maximum(sp.X_train, sp.X_test)
    settings = presets.fairgp_authors_settings(len(sp.y_train))
    star = kind.endswith("*")
    P = None if target_tpr is None else target_labels.opportunity_parameters(sp.base_rates(), target_tpr, target_tnr)
    clf, seconds, summary = _fit_fairgp(P, star, seed, settings, sp, X, X_test)
    return {"attribute": attr, "seed": seed, "model": label, "kind": kind,
            "target TPR": np.nan if target_tpr is None else target_tpr,
            "target TNR": np.nan if target_tpr is None else target_tnr,
            "features": sp.n_features, "train rows": len(sp.y_train), "M": settings["num_inducing"],
            "batch": settings["batch_size"], "steps": settings["steps"], "link": settings["link"],
            "group correlation": clf.group_correlation() if star else np.nan, "seconds": seconds,
            **{k: summary[k] for k in ("accuracy", "TPR0", "TPR1", "TNR0", "TNR1", "TPR", "TNR", "nTPRDiff")}}


def fairgp_authors_opp_jobs() -> dict:
    """One piece per split, configuration and attribute, split by split (the first splits finish first)."""
    tnr = fairgp_authors_opp_target_tnr()
    return {f"{attr}|{seed}|{label}": (attr, seed, label, kind, t, None if t is None else tnr[(attr, kind.replace("FairGP", "GP"))])
            for seed in range(FAIRGP_AUTHORS_OPP_REPEATS) for label, kind, t in _fairgp_authors_opp_configs()
            for attr in ("race", "sex")}


def fairgp_authors_opp_piece(attr, seed, label, kind, target_tpr, target_tnr) -> dict:
    from fairnotes.runtime import seed_everything

    seed_everything(0)
    return _fairgp_authors_opp_row(_dataset("compas_fairgp"), attr, seed, label, kind, target_tpr, target_tnr)


def fairgp_authors_opp_values(rows: dict) -> dict:
    from fairnotes import presets

    return {"fits": pd.DataFrame([rows[key] for key in fairgp_authors_opp_jobs()]),
            "settings": {"repeats": FAIRGP_AUTHORS_OPP_REPEATS, "targets": list(FAIRGP_AUTHORS_OPP_TARGETS),
                         "target TNR": {f"{a_}, {m_}": v for (a_, m_), v in fairgp_authors_opp_target_tnr().items()},
                         "authors": {k: list(v) if isinstance(v, tuple) else v
                                     for k, v in presets.FAIRGP_AUTHORS_FIT.items()}}}


# --------------------------------------------------------------------------- the pivot

PIVOT_PAIRS = [("adult", "linear"), ("adult", "cnn"), ("compas", "linear"), ("compas", "cnn")]
PIVOT_ROWS = 1000           # test rows (seeded) whose smooth sensitivity is computed
PIVOT_CNN_ADULT_ROWS = 600  # the CNN on Adult: as the audit chapter's default build
PIVOT_SAMPLES = 20          # Gaussian draws of the smooth sensitivity (the CNN's default in the audit chapter)


def pivot_variants(dataset: str, architecture: str) -> list[tuple[str, dict]]:
    """(label, overrides of :func:`fairnotes.recipes.book_models`) for one pair: the first game
    (:func:`fairnotes.presets.first_game`, labelled "book" in results stored before the book
    adopted the literal reading) and one change of it per row."""
    from fairnotes import presets

    base = presets.first_game(dataset, architecture)
    book_factor = presets.CNN_LAMBDA_FACTOR if architecture == "cnn" else 1.0
    out = [("first game", base)]
    for factor in (0.3, 1.0, 3.0):
        if factor != book_factor:
            out.append((f"lambda x{factor:g}",
                        {**base, "lambdas": {k: v * factor for k, v in presets.RECIPE_LAMBDAS.items()}}))
    if base["n_iterations"] != 164:
        out.append(("164 rounds", {**base, "n_iterations": 164}))
    if (dataset, architecture) == ("compas", "cnn") and base.get("adversary_rows") is not None:
        out.append(("adversary on every row", {**base, "adversary_rows": None}))
    out.append(("race not an input", {**base, "s_as_input": False}))
    out.append(("'fair' model from scratch", {**base, "start": "scratch", "pretrain_epochs": 2}))
    out.append(("two unmitigated models (seeds 0, 1)", {**base, "noise_floor": True}))
    return out


def _pivot_row(dataset, architecture, label, overrides) -> dict:
    from fairnotes import evaluation, presets, recipes
    from fairnotes.sensitivity import smooth_prediction_sensitivity

    ov = dict(overrides)
    include = ov.pop("s_as_input", True)
    noise_floor = ov.pop("noise_floor", False)
    t0 = time.perf_counter()
    bm = recipes.book_models(dataset, architecture, s_as_input=include, progress=False, **ov)
    if noise_floor:   # no mitigation: the same unmitigated model trained again with another seed
        from fairnotes import metrics, models

        st = bm.settings
        other, _, _ = recipes.unmitigated_model(dataset, architecture, epochs=st["unmitigated_epochs"],
                                                batch_size=st["unmitigated_batch_size"], seed=1, progress=False,
                                                train_rows=st["train_rows"], features_as=st["features_as"])
        # seed=1 also draws another split: predict the book's test rows, as the audit chapter's exercise
        bm = recipes.BookModels(dataset, architecture, bm.split, bm.unmitigated, other, bm.unmitigated_history,
                                bm.mitigated_history, dict(st, n_iterations=0), bm.train_index)
    seconds = time.perf_counter() - t0
    sp = bm.split
    unfair, fair = bm.predictions()
    if noise_floor:
        last = {"eval_accuracy": float((fair == sp.y_test).mean()),
                "eval_p_rule_race": metrics.p_percent_rule(sp.y_test, fair, s=sp.S_test["race"].to_numpy()),
                "eval_p_rule_sex": metrics.p_percent_rule(sp.y_test, fair, s=sp.S_test["sex"].to_numpy())}
    else:
        last = bm.mitigated_history.iloc[-1]
    lam = bm.settings["lambdas"]
    row = {"dataset": dataset, "architecture": architecture, "variant": label,
           "lambda race": 0.0 if noise_floor else lam["race"], "lambda sex": 0.0 if noise_floor else lam["sex"],
           "rounds": bm.settings["n_iterations"], "start": bm.settings.get("start", "unmitigated"),
           "adversary rows": bm.settings["adversary_rows"] or len(bm.train_index),
           "protected inputs": include, "accuracy": float(last["eval_accuracy"]),
           "p-rule race": float(last["eval_p_rule_race"]), "p-rule sex": float(last["eval_p_rule_sex"]),
           "!Match": int(evaluation.match_labels(unfair, fair).sum()), "test rows": len(unfair),
           "seconds": seconds}
    limit = PIVOT_CNN_ADULT_ROWS if (dataset, architecture) == ("adult", "cnn") else PIVOT_ROWS
    rng = np.random.default_rng(0)
    n = len(sp.X_test)
    rows = np.arange(n) if n <= limit else np.sort(rng.choice(n, limit, replace=False))
    row["sensitivity rows"] = len(rows)
    for attr in ("race", "sex"):
        for which, m in (("unfair", bm.unmitigated), ("fair", bm.mitigated)):
            if include:
                v = smooth_prediction_sensitivity(m, sp.X_test[rows], sp.s_columns[attr],
                                                  n_samples=PIVOT_SAMPLES, seed=0)
                row[f"{attr} mean {which}"], row[f"{attr} median {which}"] = float(v.mean()), float(np.median(v))
            else:
                row[f"{attr} mean {which}"] = row[f"{attr} median {which}"] = np.nan
        row[f"{attr} mean ratio"] = row[f"{attr} mean fair"] / row[f"{attr} mean unfair"] if include else np.nan
        row[f"{attr} median ratio"] = row[f"{attr} median fair"] / row[f"{attr} median unfair"] if include else np.nan
    return row


def pivot_jobs() -> dict:
    return {f"{d}|{a}|{label}": (d, a, label, ov) for d, a in PIVOT_PAIRS for label, ov in pivot_variants(d, a)}


def pivot_piece(dataset, architecture, label, overrides) -> dict:
    from fairnotes.runtime import seed_everything

    seed_everything(0)
    return _pivot_row(dataset, architecture, label, overrides)


def pivot_values(rows: dict) -> dict:
    return {"variants": pd.DataFrame([rows[key] for key in pivot_jobs()]),
            "settings": {"rows": PIVOT_ROWS, "cnn_adult_rows": PIVOT_CNN_ADULT_ROWS, "n_samples": PIVOT_SAMPLES}}


# --------------------------------------------------------------------------- readings of the pivot

#: The readings of the auditability paper's pivot (:data:`fairnotes.presets.PIVOT_READINGS`), each a row
#: for every pair where it changes something (:func:`fairnotes.presets.pivot_reading`).
PIVOT_READING_PAIRS = [("adult", "linear"), ("compas", "linear"), ("compas", "cnn"), ("adult", "cnn")]  # slowest last
PIVOT_READING_SKIP = {("adult", "cnn", r) for r in ("standardised protected inputs", "from scratch, 2 + 164 rounds",
                                                    "balanced class weights")}   # see pivot_readings_jobs


def _sensitivity_summary(bm, rows) -> dict:
    """Figure 4's comparison for one pair of networks: smooth sensitivity to race, to sex and to both
    (the l2 norm of the two derivatives) of the unmitigated and the mitigated network on ``rows``."""
    from fairnotes.sensitivity import smooth_prediction_sensitivity

    sp = bm.split
    out = {}
    for attr, cols in (("race", sp.s_columns["race"]), ("sex", sp.s_columns["sex"]),
                       ("both", [sp.s_columns["race"], sp.s_columns["sex"]])):
        v = {which: smooth_prediction_sensitivity(m, sp.X_test[rows], cols, n_samples=PIVOT_SAMPLES, seed=0)
             for which, m in (("unfair", bm.unmitigated), ("fair", bm.mitigated))}
        out[f"{attr} mean unfair"], out[f"{attr} mean fair"] = float(v["unfair"].mean()), float(v["fair"].mean())
        out[f"{attr} median unfair"], out[f"{attr} median fair"] = float(np.median(v["unfair"])), float(np.median(v["fair"]))
        out[f"{attr} mean ratio"] = out[f"{attr} mean fair"] / out[f"{attr} mean unfair"]
        out[f"{attr} median ratio"] = out[f"{attr} median fair"] / out[f"{attr} median unfair"]
        # Figure 4's words: the share of the mitigated network's predictions with "low" sensitivity,
        # low meaning below the unmitigated network's median (a half without any change)
        out[f"{attr} share low"] = float((v["fair"] < out[f"{attr} median unfair"]).mean())
    return out


def _pivot_reading_row(dataset, architecture, reading) -> dict:
    from fairnotes import evaluation, metrics, presets, recipes

    t0 = time.perf_counter()
    bm = recipes.book_models(dataset, architecture, progress=False, reading=reading)
    seconds = time.perf_counter() - t0
    sp, st = bm.split, bm.settings
    unfair, fair = bm.predictions()
    h = bm.mitigated_history
    tail = h.iloc[-5:]
    row = {"dataset": dataset, "architecture": architecture, "reading": reading,
           "CNN layout": st["features_as"] if architecture == "cnn" else "", "features": st["features"],
           "start": st["start"], "pretrain epochs": st["pretrain_epochs"], "rounds": st["n_iterations"],
           "classifier lr": st["classifier_learning_rate"], "lambda race": st["lambdas"]["race"],
           "lambda sex": st["lambdas"]["sex"], "class weights": st["adversary_class_weight"] or "none",
           "standardised protected": st["standardize_protected"],
           "adversary rows": st["adversary_rows"] or len(bm.train_index), "input features": sp.n_features,
           "accuracy unmitigated": float((unfair == sp.y_test).mean()),
           "p-rule race unmitigated": metrics.p_percent_rule(sp.y_test, unfair, s=sp.S_test["race"].to_numpy()),
           "p-rule sex unmitigated": metrics.p_percent_rule(sp.y_test, unfair, s=sp.S_test["sex"].to_numpy()),
           "accuracy": float(h["eval_accuracy"].iloc[-1]), "p-rule race": float(h["eval_p_rule_race"].iloc[-1]),
           "p-rule sex": float(h["eval_p_rule_sex"].iloc[-1]),
           "p-rule race, last 5 evaluations: min": float(tail["eval_p_rule_race"].min()),
           "p-rule race, last 5 evaluations: max": float(tail["eval_p_rule_race"].max()),
           "p-rule sex, last 5 evaluations: min": float(tail["eval_p_rule_sex"].min()),
           "p-rule sex, last 5 evaluations: max": float(tail["eval_p_rule_sex"].max()),
           "!Match": int(evaluation.match_labels(unfair, fair).sum()), "test rows": len(unfair),
           # training times as measured when each network was trained (the cache keeps them)
           "unmitigated training seconds": float(bm.unmitigated_history["seconds"].iloc[-1]),
           "mitigation seconds": float(h["seconds"].iloc[-1]),
           "cached": bool(bm.unmitigated_history.attrs.get("cached")) and bool(h.attrs.get("cached")),
           "seconds": seconds}
    limit = PIVOT_CNN_ADULT_ROWS if (dataset, architecture) == ("adult", "cnn") else PIVOT_ROWS
    n = len(sp.X_test)
    rows = np.arange(n) if n <= limit else np.sort(np.random.default_rng(0).choice(n, limit, replace=False))
    row["sensitivity rows"] = len(rows)
    row.update(_sensitivity_summary(bm, rows))
    return row


def pivot_readings_jobs() -> dict:
    """One piece per (pair, reading) where the reading changes something. Left out to fit the ablation
    into about 90 minutes on 2 shared cores (PIVOT_READING_SKIP): three single-setting rows of the Adult
    CNN with kernels of width 3, each 15-30 minutes of training there (standardised protected inputs,
    which trains a new unmitigated network too; from scratch with 164 rounds, which the ``pivot``
    ablation covers at 100 rounds; balanced class weights, which every other pair shows). The Adult
    CNN keeps the book's row, the kernel-1 CNN, Adam 1e-3 with the recipe's weights and the two literal
    readings (kernel-1 networks, a few minutes each)."""
    from fairnotes import presets

    return {f"{d}|{a}|{r}": (d, a, r) for d, a in PIVOT_READING_PAIRS for r in presets.PIVOT_READINGS
            if presets.pivot_reading(r, d, a) is not None and (d, a, r) not in PIVOT_READING_SKIP}


def pivot_readings_piece(dataset, architecture, reading) -> dict:
    from fairnotes.runtime import seed_everything

    seed_everything(0)
    return _pivot_reading_row(dataset, architecture, reading)


def pivot_readings_values(rows: dict) -> dict:
    from fairnotes import presets

    return {"readings": pd.DataFrame([rows[key] for key in pivot_readings_jobs()]),
            "settings": {"rows": PIVOT_ROWS, "cnn_adult_rows": PIVOT_CNN_ADULT_ROWS, "n_samples": PIVOT_SAMPLES,
                         "readings": {k: {kk: vv for kk, vv in v.items()} for k, v in presets.PIVOT_READINGS.items()},
                         "left out": ["|".join(k) for k in sorted(PIVOT_READING_SKIP)]}}


# --------------------------------------------------------------------------- the adopted pivot over seeds

PIVOT_SEEDS = 5     # seeds 0-4 of the book's pivot (seed 0 is the book's own pair of networks)


def pivot_seeds_jobs() -> dict:
    """One piece per pair and seed (the cheap pairs first), then one per pair with three times the
    recipe's lambda on seed 0."""
    from fairnotes import presets

    order = [("compas", "linear"), ("adult", "linear"), ("compas", "cnn"), ("adult", "cnn")]
    jobs = {f"{d}|{a}|seed {k}": (d, a, f"seed {k}", {"seed": k}) for d, a in order for k in range(PIVOT_SEEDS)}
    for d, a in order:
        lam = presets.pivot_settings(d, a)["lambdas"]
        jobs[f"{d}|{a}|lambda x3"] = (d, a, "lambda x3, seed 0", {"lambdas": {k: 3 * v for k, v in lam.items()}})
    return jobs


def pivot_seeds_piece(dataset, architecture, label, overrides) -> dict:
    from fairnotes import evaluation, metrics, recipes
    from fairnotes.runtime import seed_everything

    seed_everything(0)
    t0 = time.perf_counter()
    bm = recipes.book_models(dataset, architecture, progress=False, **overrides)
    seconds = time.perf_counter() - t0
    sp, st, h = bm.split, bm.settings, bm.mitigated_history
    unfair, fair = bm.predictions()
    race, sex = sp.S_test["race"].to_numpy(), sp.S_test["sex"].to_numpy()
    return {"dataset": dataset, "architecture": architecture, "setting": label, "seed": st["seed"],
            "lambda race": st["lambdas"]["race"], "lambda sex": st["lambdas"]["sex"],
            "accuracy unmitigated": float((unfair == sp.y_test).mean()),
            "p-rule race unmitigated": metrics.p_percent_rule(sp.y_test, unfair, s=race),
            "p-rule sex unmitigated": metrics.p_percent_rule(sp.y_test, unfair, s=sex),
            "accuracy": float((fair == sp.y_test).mean()),
            "p-rule race": metrics.p_percent_rule(sp.y_test, fair, s=race),
            "p-rule sex": metrics.p_percent_rule(sp.y_test, fair, s=sex),
            "!Match": int(evaluation.match_labels(unfair, fair).sum()), "test rows": len(unfair),
            "unmitigated training seconds": float(bm.unmitigated_history["seconds"].iloc[-1]),
            "mitigation seconds": float(h["seconds"].iloc[-1]), "seconds": seconds}


def pivot_seeds_values(rows: dict) -> dict:
    return {"fits": pd.DataFrame([rows[key] for key in pivot_seeds_jobs()]),
            "settings": {"seeds": PIVOT_SEEDS, "lambda factor": 3.0}}


# --------------------------------------------------------------------------- ZafarEqOpp

ZAFAR_REPEATS = 3
#: (label, center, l2, encoding): the ZafarEqOpp configurations, each fitted per split and attribute.
ZAFAR_CONFIGS = [
    # label, center, l2, encoding, start, protected attributes among the features
    ("book: the authors' code (positives), one-hot", "positives", 0.0, "onehot", "unconstrained", False),
    ("Zafar's equation (all rows), one-hot", "all", 0.0, "onehot", "unconstrained", False),
    ("positives, L2 1e-3", "positives", 1e-3, "onehot", "unconstrained", False),
    ("positives, random start (seed 0)", "positives", 0.0, "onehot", 0, False),
    ("positives, random start (seed 1)", "positives", 0.0, "onehot", 1, False),
    ("positives, ordinal codes", "positives", 0.0, "ordinal", "unconstrained", False),
    ("race and sex among the features (the benchmark's)", "positives", 0.0, "onehot", "unconstrained", True),
    ("unconstrained logistic regression", None, 0.0, "onehot", "unconstrained", False),
    ("unconstrained, race and sex among the features", None, 0.0, "onehot", "unconstrained", True),
]


def _zafar_row(data_, attr, seed, label, center, l2, encoding, start, protected) -> dict:
    import warnings

    from fairnotes import baselines, metrics, presets, recipes

    sp = recipes.fairgp_split(data_, attr, seed, encoding=encoding, s_as_input=protected)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if center is None:
            model = baselines.ZafarEqOpp(c=1e9, l2=l2).fit(sp.X_train, sp.y_train, sp.s_train)  # never binds
        else:
            model = baselines.ZafarEqOpp(c=0.0, center=center, l2=l2, start=start).fit(sp.X_train, sp.y_train,
                                                                                      sp.s_train)
    summary = metrics.prediction_summary(sp.y_test, model.predict(sp.X_test), s=sp.s_test)
    theta = np.r_[model.coef_, model.intercept_]
    return {"attribute": attr, "seed": seed, "configuration": label, "center": center or "", "l2": l2,
            "encoding": encoding, "start": str(start), "converged": bool(model.converged_),
            "protected features": protected, "features": sp.n_features, "seconds": time.perf_counter() - t0,
            "covariance (all rows)": baselines.fnr_covariance(theta, sp.X_train, sp.y_train, sp.s_train),
            "covariance (positives)": baselines.fnr_covariance(theta, sp.X_train, sp.y_train, sp.s_train,
                                                               center="positives"),
            "warnings": len(caught),
            **{k: summary[k] for k in ("accuracy", "nTPRDiff", "TPR0", "TPR1", "TNR0", "TNR1")}}


def zafar_eqopp_jobs() -> dict:
    return {f"{attr}|{seed}|{cfg[0]}": (attr, seed, *cfg)
            for attr in ("race", "sex") for seed in range(ZAFAR_REPEATS) for cfg in ZAFAR_CONFIGS}


def zafar_eqopp_piece(attr, seed, *cfg) -> dict:
    from fairnotes.runtime import seed_everything

    seed_everything(0, torch=False, tensorflow=False)   # numpy and scipy only
    return _zafar_row(_dataset("compas_fairgp"), attr, seed, *cfg)


def zafar_eqopp_values(rows: dict) -> dict:
    return {"fits": pd.DataFrame([rows[key] for key in zafar_eqopp_jobs()]),
            "settings": {"repeats": ZAFAR_REPEATS, "c": 0.0}}


# --------------------------------------------------------------------------- the benchmark's SVM

SVM_REPEATS = {"adult": 3, "compas": 5}   # splits per attribute
#: (label, split overrides of :func:`fairnotes.recipes.fairgp_split`, SVC's gamma, at most this many
#: training rows ("book": :data:`fairnotes.presets.SVM_TRAIN_ROWS`))
SVM_CONFIGS = [
    ("book", {"encoding": "onehot"}, "scale", "book"),
    ("book, every row", {"encoding": "onehot"}, "scale", None),
    ("benchmark's inputs, standardised", {"encoding": "onehot", "other_protected": False, "drop_first": False},
     "scale", None),
    ("benchmark's SVM", {"encoding": "onehot", "other_protected": False, "drop_first": False, "standardize": False},
     "auto", None),
]


def _svm_row(dataset, attr, seed, label, overrides, gamma, rows) -> dict:
    from fairnotes import baselines, metrics, presets, recipes

    t0 = time.perf_counter()
    sp = recipes.fairgp_split(_dataset(f"{dataset}_fairgp"), attr, seed, **overrides)
    limit = presets.SVM_TRAIN_ROWS if rows == "book" else rows
    model = baselines.rbf_svm(sp.X_train, sp.y_train, max_train_rows=limit, seed=seed, gamma=gamma)
    pred = model.predict(sp.X_test).astype(np.int64)
    summary = metrics.prediction_summary(sp.y_test, pred, s=sp.s_test)
    return {"dataset": dataset, "attribute": attr, "seed": seed, "configuration": label, "gamma": gamma,
            "standardised": bool(overrides.get("standardize", True)), "features": sp.n_features,
            "training rows": int(model.train_index_.size), "support vectors": int(model.n_support_.sum()),
            "seconds": time.perf_counter() - t0,
            **{k: summary[k] for k in ("accuracy", "DI", "nTPRDiff", "TPR0", "TPR1", "PR0", "PR1")}}


def svm_authors_jobs() -> dict:
    return {f"{dataset}|{attr}|{seed}|{cfg[0]}": (dataset, attr, seed, *cfg)
            for dataset in ("adult", "compas") for attr in ("race", "sex")
            for seed in range(SVM_REPEATS[dataset]) for cfg in SVM_CONFIGS
            if not (dataset == "compas" and cfg[0] == "book, every row")}   # all its rows are the book's


def svm_authors_piece(dataset, attr, seed, *cfg) -> dict:
    from fairnotes.runtime import seed_everything

    seed_everything(0, torch=False, tensorflow=False)   # numpy and scikit-learn only
    return _svm_row(dataset, attr, seed, *cfg)


def svm_authors_values(rows: dict) -> dict:
    from fairnotes import presets

    return {"fits": pd.DataFrame([rows[key] for key in svm_authors_jobs()]),
            "settings": {"repeats": dict(SVM_REPEATS), "book_max_train_rows": presets.SVM_TRAIN_ROWS,
                         "configurations": [c[0] for c in SVM_CONFIGS]}}


#: name -> (what it tests, the function, the chapter that shows it, the tables it stores)
ABLATIONS = {
    "fairgp": ("FairGP on Adult: stopping rule, how s enters FairGP*'s kernel, 500 inducing inputs",
               Ablation(fairgp_jobs, fairgp_piece, fairgp_values), "fairgp_parity", ["fits", "settings"]),
    "fairgp_authors": ("FairGP on Adult as its authors trained it (500 inducing inputs), and one setting of theirs at "
                       "a time in the book's configuration", Ablation(fairgp_authors_jobs, fairgp_authors_piece,
                                                                     fairgp_authors_values),
                       "fairgp_parity", ["fits", "settings"]),
    "fairgp_authors_opp": ("FairGP on COMPAS for equality of opportunity as its authors trained it (500 inducing "
                           "inputs): GP, GP*, FairGP and FairGP* at the target TPRs of Table 3",
                           Ablation(fairgp_authors_opp_jobs, fairgp_authors_opp_piece, fairgp_authors_opp_values),
                           "fairgp_opportunity", ["fits", "settings"]),
    "pivot": ("the pivot's strength and inputs, both architectures and datasets: !Match, p%-rules, "
              "smooth sensitivity to race and to sex", Ablation(pivot_jobs, pivot_piece, pivot_values), "audit", ["variants", "settings"]),
    "pivot_readings": ("readings of the auditability paper's pivot, one setting at a time and the literal one: "
                       "accuracy, p%-rules, !Match, Figure 4 with respect to race, sex and both",
                       Ablation(pivot_readings_jobs, pivot_readings_piece, pivot_readings_values), "audit",
                       ["readings", "settings"]),
    "pivot_seeds": ("the book's pivot on five seeds (split and initial weights) and with three times the recipe's "
                    "lambda: accuracy, p%-rules, !Match", Ablation(pivot_seeds_jobs, pivot_seeds_piece,
                                                                   pivot_seeds_values), "audit", ["fits", "settings"]),
    "zafar_eqopp": ("ZafarEqOpp on ProPublica: the covariance's centring, an L2 penalty, the encoding",
                    Ablation(zafar_eqopp_jobs, zafar_eqopp_piece, zafar_eqopp_values),
                    "fairgp_opportunity", ["fits", "settings"]),
    "svm_authors": ("the FairGP paper's SVM (RBF) on Adult and ProPublica: the book's inputs and rows against the "
                    "benchmark's unscaled inputs and 2018 default gamma", Ablation(svm_authors_jobs, svm_authors_piece,
                                                                                  svm_authors_values),
                    "fairgp_parity", ["fits", "settings"]),
}


def run_ablation(name: str, command: str, fresh: bool, *, workers: int = 0, scheduler: str | None = None,
                 progress: bool | None = None) -> Path:
    """Compute the pieces of ablation ``name`` not finished yet (one after another, ``workers=0``; on a
    local Dask cluster of ``workers`` processes; or on the cluster at ``scheduler``), keep each in the
    partial file as it finishes, then write the stored ablation from every piece; return its path."""
    check_where(workers, scheduler)
    # an ablation executes the package and this tool, not the chapters
    started, load0, commit = now(), os.getloadavg()[0], git_commit(("fairnotes", "tools"))
    t0, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    what, spec, chapter, tables = ABLATIONS[name]
    pieces = Pieces(name, fresh=fresh)
    jobs = spec.jobs()
    todo = pieces.missing(list(jobs))
    piece_seconds, piece_cpu = {}, []

    def keep(key: str, done: dict) -> None:
        pieces.put(key, done["result"])
        piece_seconds[key] = round(done["seconds"], 2)
        piece_cpu.append(done["cpu_seconds"])

    where = run_pieces({key: ("ablations", "compute_piece", (name, jobs[key])) for key in todo}, keep,
                       workers=workers, scheduler=scheduler, desc=f"{name} ablation", progress=progress)
    values = spec.values(pieces.rows)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    missing = [t for t in tables if t not in values]
    if missing:
        raise RuntimeError(f"ablation {name} computed no {missing}: nothing stored")
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    if where["workers"] != 0:   # the pieces ran in the workers' processes, not in this one
        cpu += sum(piece_cpu)
    provenance = {
        "command": command, "commit": commit, "started": started, "finished": now(), "machine": machine(),
        "cores": os.cpu_count(), "wall_seconds": round(time.perf_counter() - t0, 1),
        "cpu_seconds": round(cpu, 1),
        "load_1min_at_start": round(load0, 2), "load_1min_at_end": round(os.getloadavg()[0], 2),
        "versions": versions(),
        "environment": {k: v for k, v in os.environ.items() if k.startswith("FAIRNOTES_")},
        "what": what, "chapter": chapter,
        **where,
        "pieces_reused": pieces.reused,
        "pieces_computed": len(todo),
        "piece_seconds": piece_seconds,
        "pieces_note": "wall and CPU time cover this invocation only; the reused pieces were computed by an "
                       "earlier invocation (the same command) and read from " + cli.shown(pieces.path)
                       + "; piece_seconds is the wall time of each piece computed by this invocation, on one "
                       "thread (machine and cores are those of the machine that gathered the pieces)",
    }
    assert all(k in provenance for k in PROVENANCE_KEYS)
    path = results_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ablation": name, "provenance": provenance,
                                "values": {k: to_json(v) for k, v in values.items()}}, indent=1) + "\n")
    return path


def main(argv=None) -> int:
    p = cli.parser(__doc__, noun="ablation", names=ABLATIONS,
                   force_help="run again and replace a stored result (finished configurations are reused)")
    p.add_argument("--fresh", action="store_true", help="with --force: compute every configuration again")
    args, where = cli.parse(p, argv, noun="ablation", names=ABLATIONS)
    if args.list:
        cli.print_stored({name: f"{what} (chapter {chapter})" for name, (what, _, chapter, _) in ABLATIONS.items()},
                         results_path, width=8)
        return 0
    if os.environ.get("FAIRNOTES_FAST") or os.environ.get("FAIRNOTES_PAPER_SIZE"):
        p.error("run the ablations at the book's default sizes: unset FAIRNOTES_FAST and FAIRNOTES_PAPER_SIZE")
    command = cli.command_line("ablations.py", argv)
    for name in cli.to_run(args.names, ABLATIONS, results_path, again=args.force or args.fresh):
        print(f"{name}: {ABLATIONS[name][0]} ...", flush=True)
        t0 = time.perf_counter()
        path = run_ablation(name, command, args.fresh, **where)
        print(f"{name}: {time.perf_counter() - t0:.0f} s, wrote {cli.shown(path)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
