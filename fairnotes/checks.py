"""Self-checks for the book's exercises: a student's answer, right or wrong, with a hint.

A chapter's exercise whose answer is a number or a choice is followed by a cell such as::

    from fairnotes.checks import check
    check("sens-ex-2", answer=None, model=model, split=sp)

The student replaces ``None`` by an answer and runs the cell again. The expected value is never
stored: each check computes it from the objects of the student's own notebook passed in as
keywords (a trained model, a split, base rates), so the student edition's notebooks, which hold no
solution, do not hold the answers either. With ``answer=None`` the call says what to answer and
how; it never raises for a wrong or badly formed answer, so a chapter's cells always run. The
course plan (:doc:`/book/course`) lists the exercises that have a self-check.

Checks of predictions that need a framework (torch for the networks' sensitivities) import it
only when they run; ``import fairnotes.checks`` loads numpy and pandas only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["Verdict", "SelfCheck", "check", "labels", "describe", "CHAPTER_TITLES"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of one self-check: ``correct`` is True, False, or None (no answer given yet).

    Shown in a notebook as its message; ``bool(verdict)`` is True only for a right answer. See the
    course plan, :doc:`/book/course`.
    """

    label: str
    correct: bool | None
    message: str

    def __bool__(self) -> bool:
        return self.correct is True

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SelfCheck:
    """One exercise's check: what to answer, the keywords it needs, and how to judge an answer.

    ``judge(answer, **context)`` returns ``(correct, detail)``; ``detail`` is shown with a right
    answer (it may give the measured values) and is never shown with a wrong one, which gets
    ``hint`` instead. See :doc:`/book/course`.
    """

    label: str
    chapter: str
    question: str
    answer_form: str
    context: tuple[str, ...]
    judge: Callable[..., tuple[bool, str]]
    hint: str
    options: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        """How the book names the exercise: "Exercise 2 of *Prediction sensitivity*" (the book numbers
        exercises within their chapter; the label's last number is that position)."""
        tail = self.label.rsplit("-", 1)[-1]
        title = CHAPTER_TITLES.get(self.chapter, self.chapter)
        return f"Exercise {tail} of the chapter “{title}”" if tail.isdigit() else f"the exercise {self.label} of the chapter “{title}”"

    def usage(self) -> str:
        return (f"Self-check for {self.name}: {self.question}\n"
                f"Replace answer=None by your answer ({self.answer_form}) and run the cell again.")


_REGISTRY: dict[str, SelfCheck] = {}

#: The titles of the chapters that have self-checks (a test checks them against the chapters' titles).
CHAPTER_TITLES = {
    "book/data": "The data and group fairness",
    "book/sensitivity": "Prediction sensitivity",
    "book/smooth_sensitivity": "Smooth prediction sensitivity",
    "book/adversarial": "Adversarial mitigation",
    "book/audit": "Auditing individual predictions",
    "book/target_labels": "Target labels",
    "book/fairgp_parity": "Demographic parity with FairGP",
    "book/fairgp_opportunity": "Equality of opportunity with FairGP",
    "book/target_nets": "Target labels beyond Gaussian processes",
    "book/compare": "Comparing mitigations on the same people",
    "book/proxies": "Audits with ground truth and through proxies",
    "book/deployed": "Auditing a deployed model",
}


def _register(label, chapter, question, answer_form, context, hint, options=()):
    def wrap(judge):
        _REGISTRY[label] = SelfCheck(label, chapter, question, answer_form, tuple(context), judge, hint,
                                     tuple(options))
        return judge
    return wrap


def labels() -> list[str]:
    """The exercise labels that have a self-check, in the order of the book (:doc:`/book/course`)."""
    return list(_REGISTRY)


def describe(label: str) -> SelfCheck:
    """The self-check of one exercise label; a ``KeyError`` names the known labels. See :doc:`/book/course`."""
    try:
        return _REGISTRY[label]
    except KeyError:
        raise KeyError(f"no self-check for the exercise {label!r}; the exercises with one are: "
                       f"{', '.join(_REGISTRY)}") from None


def check(exercise_label: str, answer: Any = None, **context) -> Verdict:
    """Judge a student's ``answer`` to the exercise ``exercise_label``, from their notebook's objects.

    ``context`` holds the keywords the exercise's check needs (the cell under the exercise passes
    them). With ``answer=None`` the verdict says what to answer; a wrong answer gets a hint, never the
    solution. An unknown label raises ``KeyError`` and a missing keyword ``TypeError``, naming what
    is known or needed. The exercises with a check are listed in the course plan, :doc:`/book/course`,
    and run as the book's notebooks do (:doc:`/book/running`).
    """
    spec = describe(exercise_label)
    missing = [k for k in spec.context if k not in context]
    unknown = [k for k in context if k not in spec.context]
    if missing or unknown:
        raise TypeError(f"check({exercise_label!r}) needs the keywords {', '.join(spec.context)}"
                        + (f"; missing: {', '.join(missing)}" if missing else "")
                        + (f"; not used: {', '.join(unknown)}" if unknown else ""))
    if answer is None:
        return Verdict(exercise_label, None, spec.usage())
    if spec.options:
        choice = _option(answer, spec.options)
        if choice is None:
            return Verdict(exercise_label, False,
                           f"{answer!r} is not one of the answers of {spec.name}: "
                           f"{', '.join(repr(o) for o in spec.options)}.")
        answer = choice
    try:
        correct, detail = spec.judge(answer, **context)
    except (TypeError, ValueError) as err:
        return Verdict(exercise_label, False, f"Could not read the answer {answer!r}: {err}. "
                                              f"Expected {spec.answer_form}.")
    if correct:
        return Verdict(exercise_label, True, f"Right. {detail}".strip())
    return Verdict(exercise_label, False, f"Not yet. Hint: {spec.hint}")


# ---------------------------------------------------------------------------------------------------
# helpers

def _option(answer, options) -> str | None:
    """The option an answer names: case and surrounding spaces do not matter; True/False mean yes/no."""
    if isinstance(answer, (bool, np.bool_)):
        answer = "yes" if answer else "no"
    if not isinstance(answer, str):
        return None
    key = " ".join(answer.lower().split())
    return next((o for o in options if o == key), None)


def _number(answer) -> float:
    value = float(answer)
    if not np.isfinite(value):
        raise ValueError("not a finite number")
    return value


def _close(answer, expected, atol) -> bool:
    return abs(_number(answer) - expected) <= atol


def _compare(a: float, b: float, *, rtol: float = 0.0) -> str:
    """"larger", "smaller", or "about the same" when the relative difference is at most ``rtol``."""
    if abs(a - b) <= rtol * max(abs(a), abs(b)):
        return "about the same"
    return "larger" if a > b else "smaller"


# ---------------------------------------------------------------------------------------------------
# the checks, in the order of the book

@_register("data-ex-2", "book/data",
           "refitted without the sex column, (1) does the baseline's disparate impact for sex reach 1 "
           "(within 0.05), and (2) does it move towards 1 or away from 1?",
           "a pair: ('yes' or 'no', 'towards' or 'away')", ("dataset", "seed"),
           "Which features of Adult carry the same information as the sex column? Look at `relationship`. "
           "Then compare the refitted disparate impact with the baseline's, which reads the column.")
def _data_ex_2(answer, dataset, seed):
    from sklearn.linear_model import LogisticRegression

    from fairnotes import data, metrics
    from fairnotes.runtime import scale

    if isinstance(answer, str) or not hasattr(answer, "__len__") or len(answer) != 2:
        raise ValueError("give both predictions, as a pair such as ('no', 'towards')")
    reach, move = _option(answer[0], ("yes", "no")), _option(answer[1], ("towards", "away"))
    if reach is None or move is None:
        raise ValueError("the first answer is 'yes' or 'no', the second 'towards' or 'away'")
    di = {}
    for keep in (True, False):
        sp = data.split(dataset, "sex", test_size=0.2, seed=seed, s_as_input=keep)
        clf = LogisticRegression(max_iter=scale(default=2000, fast=300)).fit(sp.X_train, sp.y_train)
        di[keep] = metrics.disparate_impact(sp.y_test, clf.predict(sp.X_test), s=sp.s_test)
    expected = ("yes" if abs(di[False] - 1) <= 0.05 else "no",
                "towards" if abs(di[False] - 1) < abs(di[True] - 1) else "away")
    return (reach, move) == expected, (f"Without the sex column the disparate impact for sex is "
                                       f"{di[False]:.3f}; with it, {di[True]:.3f}.")


@_register("sens-ex-2", "book/sensitivity",
           "is the linear network's mean sensitivity to sex larger or smaller than its mean sensitivity to race?",
           "'larger' or 'smaller'", ("model", "split"),
           "Predict from how strongly each column is tied to the label, then compute both means with "
           "prediction_sensitivity(model, split.X_test, split.s_columns[attribute]).",
           options=("larger", "smaller"))
def _sens_ex_2(answer, model, split):
    from fairnotes.sensitivity import prediction_sensitivity

    mean = {a: float(prediction_sensitivity(model, split.X_test, split.s_columns[a]).mean()) for a in ("race", "sex")}
    expected = "larger" if mean["sex"] > mean["race"] else "smaller"
    return answer == expected, f"Mean sensitivity to sex {mean['sex']:.3g}, to race {mean['race']:.3g}."


@_register("smooth-ex-2", "book/smooth_sensitivity",
           "with the protected column kept at its 0/1 value, does the mean smooth (max) sensitivity change "
           "'a little' (by at most 10%) or 'a lot'?",
           "'a little' or 'a lot'", ("model", "X", "s_column", "n_samples", "sigma", "seed"),
           "How far does noise of this sigma move the protected column, compared with the distance "
           "between the groups, and how many other coordinates does the noise move?",
           options=("a little", "a lot"))
def _smooth_ex_2(answer, model, X, s_column, n_samples, sigma, seed):
    from fairnotes.sensitivity import smooth_prediction_sensitivity

    kw = dict(n_samples=n_samples, sigma=sigma, seed=seed)
    both = float(smooth_prediction_sensitivity(model, X, s_column, **kw).mean())
    kept = float(smooth_prediction_sensitivity(model, X, s_column, perturb_s_column=False, **kw).mean())
    change = abs(kept - both) / max(abs(both), 1e-12)
    expected = "a little" if change <= 0.10 else "a lot"
    return answer == expected, f"The mean moves from {both:.5f} to {kept:.5f} ({change:.1%})."


@_register("adv-ex-1", "book/adversarial",
           "what is the classification term BCE(p, y) of the best constant classifier on these test labels "
           "(natural logarithms, within 0.01)?",
           "a number", ("y",),
           "Which constant p minimises the mean binary cross-entropy over the labels? Set its derivative "
           "to zero, then use natural logarithms.")
def _adv_ex_1(answer, y):
    q = float(np.mean(np.asarray(y, dtype=float)))
    expected = -(q * np.log(q) + (1 - q) * np.log(1 - q))
    return _close(answer, expected, 0.01), f"The best constant is the base rate, {q:.3f}; its loss is {expected:.3f}."


@_register("audit-ex-2", "book/audit",
           "is the AUC of -|p - 0.5| higher or lower than the AUC of smooth sensitivity?",
           "'higher' or 'lower'", ("model", "X", "labels", "smooth", "rows"),
           "Which predictions does a mitigation need to move only a little to flip them?",
           options=("higher", "lower"))
def _audit_ex_2(answer, model, X, labels, smooth, rows):
    from fairnotes import metrics, models

    p = np.asarray(models.predict_proba(model, X)).reshape(len(X), -1)[:, 0]
    labels = np.asarray(labels)
    closeness = metrics.roc_auc(labels, -np.abs(p - 0.5), name="labels")
    sensitivity = metrics.roc_auc(labels[rows], smooth, name="labels")
    expected = "higher" if closeness > sensitivity else "lower"
    return answer == expected, f"AUC of -|p - 0.5|: {closeness:.3f}; of smooth sensitivity: {sensitivity:.3f}."


@_register("tl-ex-2", "book/target_labels",
           "with race and the target 'max', what value does a_0 = P(y = 1 | target 1, s = 0) take (within 0.03)?",
           "a number", ("base_rates",),
           "Which group is already at the target? For the other, every observed positive is kept, so "
           "write its rate of observed positives in terms of a_0 and the target.")
def _tl_ex_2(answer, base_rates):
    from fairnotes import target_labels

    P = target_labels.parity_parameters(np.asarray(base_rates, dtype=float), "max")
    return _close(answer, P[0, 1], 0.03), f"a_0 = {P[0, 1]:.4f}; the other group gets the identity."


@_register("par-ex-2", "book/fairgp_parity",
           "with the target 0.5, how do the two groups' acceptance rates move?",
           "'both rise', 'both fall' or 'one rises, one falls'", ("base_rates",),
           "Compare each group's base rate with the target: the relabelling moves each rate towards it.",
           options=("both rise", "both fall", "one rises, one falls"))
def _par_ex_2(answer, base_rates):
    moves = np.sign(0.5 - np.asarray(base_rates, dtype=float))
    expected = ("both rise" if (moves > 0).all() else "both fall" if (moves < 0).all()
                else "one rises, one falls")
    return answer == expected, f"The base rates are {', '.join(f'{r:.3f}' for r in np.asarray(base_rates))}."


@_register("opp-ex-2", "book/fairgp_opportunity",
           "what are the debiasing parameters with the target TPR and TNR both 1? Give the 2x2 array "
           "P[s, target label] = P(y = 1 | target label, s) (within 0.01).",
           "a 2x2 list or array, rows s = 0 and s = 1, columns target label 0 and 1", ("base_rates",),
           "A target TPR of 1 says what about the people whose target label is 1? And a target TNR of 1 "
           "about those whose target label is 0? Read P(y = 1 | target, s) off those two statements.")
def _opp_ex_2(answer, base_rates):
    from fairnotes import target_labels

    P = target_labels.opportunity_parameters(np.asarray(base_rates, dtype=float), 1.0, 1.0)
    given = np.asarray(answer, dtype=float)
    if given.shape != P.shape:
        raise ValueError(f"an array of shape {P.shape}, not {given.shape}")
    return bool(np.allclose(given, P, atol=0.01)), "These are the identity: FairGP is then the plain GP."


@_register("tn-ex-1", "book/target_nets",
           "which (group, observed label) cells have a posterior q equal to 0 or 1 whatever the model "
           "predicts? Give them as a list of (s, y) pairs, or as a dict {(s, y): q}.",
           "a list of (s, y) pairs, or a dict {(s, y): 0 or 1}", ("parameters",),
           "q = c sigma / (c sigma + d (1 - sigma)) with c = P(y | target 1, s) and d = P(y | target 0, s): "
           "q cannot move with the score when c or d is 0. Which parameters are at a bound?")
def _tn_ex_1(answer, parameters):
    P = np.asarray(parameters, dtype=float)
    fixed = {}
    for s in (0, 1):
        for y in (0, 1):
            c = P[s, 1] if y == 1 else 1 - P[s, 1]
            d = P[s, 0] if y == 1 else 1 - P[s, 0]
            if abs(d) < 1e-9 or abs(c) < 1e-9:
                fixed[(s, y)] = 1.0 if abs(d) < 1e-9 else 0.0
    pairs = answer.items() if isinstance(answer, dict) else ((tuple(a), None) for a in answer)
    given = {(int(k[0]), int(k[1])): v for k, v in pairs}
    right = set(given) == set(fixed) and all(v is None or float(v) == fixed[k] for k, v in given.items())
    return right, "Fixed cells: " + ", ".join(f"s={s}, y={y}: q={q:g}" for (s, y), q in fixed.items()) + "."


@_register("cmp-ex-2", "book/compare",
           "with the unmitigated network's threshold, does the pivot network flag more, fewer, or about the "
           "same number of people (within 10%) as the 5% its own 95th percentile would flag?",
           "'more', 'fewer' or 'about the same'", ("audit",),
           "Compare the pivot network's smooth sensitivities with the unmitigated network's: is the common "
           "threshold high or low for them?",
           options=("more", "fewer", "about the same"))
def _cmp_ex_2(answer, audit):
    flagged = int(np.asarray(audit.table["flagged"]).sum())
    own = 0.05 * len(audit.table)
    expected = {"larger": "more", "smaller": "fewer"}.get(_compare(flagged, own, rtol=0.10), "about the same")
    return answer == expected, f"The common threshold flags {flagged:,} people; 5% is {own:,.0f}."


@_register("px-ex-2", "book/proxies",
           "declaring x1 fixed as well as age, is the estimated change of the unaware network's predictions "
           "larger or smaller than with only age fixed?",
           "'larger' or 'smaller'", ("model", "X", "s", "train", "test"),
           "Follow the paths from s to x2 in the chain: which of them does a fixed x1 cut?",
           options=("larger", "smaller"))
def _px_ex_2(answer, model, X, s, train, test):
    from fairnotes import shifts
    from fairnotes.sensitivity import proxy_change

    X, s = np.asarray(X), np.asarray(s)
    est = {}
    for fixed in ((0,), (0, 1)):
        sh = shifts.fit_shift(X[train], s[train], method="linear", fixed=list(fixed),
                              order=[j for j in (1, 2) if j not in fixed])
        est[fixed] = float(np.abs(proxy_change(model, X[test], sh.counterfactual(X[test], s[test]))).mean())
    expected = "larger" if est[(0, 1)] > est[(0,)] else "smaller"
    return answer == expected, (f"Mean estimated |change|: {est[(0,)]:.4f} with age fixed, "
                                f"{est[(0, 1)]:.4f} with age and x1 fixed.")


@_register("dep-ex-2", "book/deployed",
           "with a false-alarm rate of 0.1% instead of 5%, does the first alarm after the retraining come "
           "earlier, later, or in the same window?",
           "'earlier', 'later' or 'same window'", ("history", "p0", "p1", "window", "change"),
           "What does a smaller false-alarm rate do to the threshold, and what must the same statistic do "
           "to cross a higher one?",
           options=("earlier", "later", "same window"))
def _dep_ex_2(answer, history, p0, p1, window, change):
    from fairnotes.monitor import Cusum

    counts = np.asarray(history["flagged"], dtype=float)
    statistic = Cusum.paths(counts, people=int(window), p0=p0, p1=p1)[0]
    first = {}
    for rate in (0.05, 0.001):
        det = Cusum.calibrate(p0=p0, p1=p1, people=int(window), horizon=len(counts), false_alarm=rate,
                              n_streams=20000, seed=0)
        above = np.flatnonzero(statistic > det.threshold)
        above = above[above >= change]
        first[rate] = int(above[0]) if len(above) else len(counts)
    expected = ("same window" if first[0.001] == first[0.05] else "later" if first[0.001] > first[0.05] else "earlier")
    return answer == expected, (f"The first alarm after the retraining: window {first[0.05]} at 5%, "
                                f"window {first[0.001]} at 0.1% ({len(counts)} means none).")
