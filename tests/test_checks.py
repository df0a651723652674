"""fairnotes.checks: the exercises' self-checks, and their cells in the chapters."""

import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from fairnotes import checks
from fairnotes.checks import check

sys.path.insert(0, str(ROOT / "tools"))

CALL = re.compile(r"""\bcheck\(\s*["'](?P<label>[\w-]+)["']\s*,\s*answer\s*=\s*(?P<answer>[^,)]+)""")


def _chapter(label):
    return ROOT / (checks.describe(label).chapter + ".md")


# ------------------------------------------------------------------------------------------ the API

def test_no_answer_says_how_to_use_it():
    v = check("tl-ex-2", answer=None, base_rates=[0.2, 0.3])
    assert v.correct is None and not v
    assert "Replace answer=None" in repr(v) and "Exercise 2 of the chapter “Target labels”" in str(v)


def test_unknown_label_and_missing_keywords_are_clear_errors():
    with pytest.raises(KeyError, match="no self-check for the exercise 'sens-ex-9'.*sens-ex-2"):
        check("sens-ex-9", answer=1)
    with pytest.raises(TypeError, match="needs the keywords base_rates; missing: base_rates"):
        check("tl-ex-2", answer=0.5)
    with pytest.raises(TypeError, match="not used: model"):
        check("tl-ex-2", answer=0.5, base_rates=[0.2, 0.3], model=None)


def test_a_badly_formed_answer_is_wrong_not_an_error():
    assert check("par-ex-2", answer="maybe", base_rates=[0.2, 0.3]).correct is False
    assert check("opp-ex-2", answer=[1, 0], base_rates=[0.2, 0.3]).correct is False
    assert check("tl-ex-2", answer="about a half", base_rates=[0.2, 0.3]).correct is False


def _right_and_wrong(label, right, wrong, **context):
    ok, bad = check(label, answer=right, **context), check(label, answer=wrong, **context)
    assert ok.correct is True and bool(ok) and str(ok).startswith("Right."), str(ok)
    assert bad.correct is False and not bad
    assert str(bad) == f"Not yet. Hint: {checks.describe(label).hint}"
    return ok, bad


def test_target_labels_a0_is_computed_from_the_base_rates():
    br = np.array([0.12, 0.31])
    _right_and_wrong("tl-ex-2", br[0] / br[1] + 0.01, br[0] / br[1] + 0.1, base_rates=br)
    # another student's data, another answer: nothing is stored
    _right_and_wrong("tl-ex-2", 0.5, br[0] / br[1], base_rates=[0.2, 0.4])


def test_choices_accept_case_spaces_and_booleans():
    _right_and_wrong("par-ex-2", "  Both   RISE ", "both fall", base_rates=[0.2, 0.3])
    _right_and_wrong("par-ex-2", "one rises, one falls", "both rise", base_rates=[0.2, 0.7])
    assert checks._option(True, ("yes", "no")) == "yes" and checks._option(False, ("yes", "no")) == "no"


def test_opportunity_parameters_at_both_targets_one():
    from fairnotes import target_labels

    P = target_labels.opportunity_parameters([0.45, 0.4], 1.0, 1.0)
    _right_and_wrong("opp-ex-2", P.tolist(), (1 - P).tolist(), base_rates=[0.45, 0.4])


def test_target_nets_fixed_posteriors():
    from fairnotes import target_labels

    P = target_labels.parity_parameters([0.11, 0.31], "mean")
    fixed = [(0, 1), (1, 0)]  # the rising group keeps its positives, the falling one its negatives
    _right_and_wrong("tn-ex-1", fixed, [(0, 0), (1, 1)], parameters=P)
    assert check("tn-ex-1", answer={(0, 1): 1, (1, 0): 0}, parameters=P)
    assert not check("tn-ex-1", answer={(0, 1): 0, (1, 0): 1}, parameters=P)
    assert not check("tn-ex-1", answer=[(0, 1)], parameters=P)


def test_constant_classifier_loss():
    y = np.r_[np.ones(30), np.zeros(70)]
    entropy = -(0.3 * np.log(0.3) + 0.7 * np.log(0.7))
    _right_and_wrong("adv-ex-1", round(entropy, 3), np.log(2), y=y)


def test_compare_flags_counted_from_the_audit():
    n = 1000
    fewer = SimpleNamespace(table=pd.DataFrame({"flagged": np.arange(n) < 10}))
    same = SimpleNamespace(table=pd.DataFrame({"flagged": np.arange(n) < 52}))
    _right_and_wrong("cmp-ex-2", "fewer", "more", audit=fewer)
    _right_and_wrong("cmp-ex-2", "about the same", "fewer", audit=same)


def test_data_unawareness_refit():
    from fairnotes import data

    _right_and_wrong("data-ex-2", ("no", "towards"), ("no", "away"), dataset=data.adult_auditability(), seed=0)
    assert not check("data-ex-2", answer="no", dataset=data.adult_auditability(), seed=0)  # one of two


# ------------------------------------------------------------------------- checks with torch models

def _logistic(weights, bias=0.0):
    """A logistic regression as a torch module, with the weights given."""
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(len(weights), 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([weights], dtype=torch.float32))
        lin.bias.fill_(bias)
    return torch.nn.Sequential(lin, torch.nn.Sigmoid())


def test_sensitivity_to_sex_against_race():
    X = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
    split = SimpleNamespace(X_test=X, s_columns={"race": 1, "sex": 2})
    _right_and_wrong("sens-ex-2", "larger", "smaller", model=_logistic([0.5, 0.2, 1.0]), split=split)
    _right_and_wrong("sens-ex-2", "smaller", "larger", model=_logistic([0.5, 1.0, 0.2]), split=split)


def test_smooth_sensitivity_with_the_group_kept_fixed():
    X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    kw = dict(X=X, s_column=3, n_samples=5, seed=0)
    # a logistic regression's slope hardly changes under small noise on one coordinate
    _right_and_wrong("smooth-ex-2", "a little", "a lot", model=_logistic([1.0, 0.5, -0.5, 1.0]), sigma=0.1, **kw)


def test_audit_closeness_against_sensitivity():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2)).astype(np.float32)
    model = _logistic([2.0, 0.0])
    p = 1 / (1 + np.exp(-2 * X[:, 0]))
    labels = (np.abs(p - 0.5) < 0.1).astype(int)  # disagreements at the threshold
    rows = np.arange(0, 400, 2)
    noise = rng.random(len(rows))
    _right_and_wrong("audit-ex-2", "higher", "lower", model=model, X=X, labels=labels, smooth=noise, rows=rows)
    # a score that knows the labels beats closeness
    exact = labels[rows] + 0.0
    _right_and_wrong("audit-ex-2", "lower", "higher", model=model, X=X, labels=labels, smooth=exact, rows=rows)


def test_proxies_fixed_descendant():
    from fairnotes import scm

    chain = scm.chain_scm(600, label_s=1.0, seed=0)
    model = _logistic([0.0, 0.5, 1.0])
    train, test = slice(0, 300), slice(300, None)
    _right_and_wrong("px-ex-2", "smaller", "larger", model=model, X=chain.X, s=chain.s, train=train, test=test)


# -------------------------------------------------------------------------------- in the chapters

def test_every_check_has_its_cell_under_its_exercise():
    """Each self-check's cell comes after its exercise and before the exercise's solution, with
    answer=None and the keywords the check needs, in a chapter of the table of contents."""
    for label in checks.labels():
        spec = checks.describe(label)
        assert _chapter(label).exists(), f"{label}: no chapter {spec.chapter}"
        text = _chapter(label).read_text()
        exercise = text.index(f":label: {label}\n")
        solution = text.index(f"```{{solution-start}} {label}\n")
        calls = [m for m in CALL.finditer(text) if m.group("label") == label]
        assert len(calls) == 1, f"{label}: {len(calls)} self-check calls in {spec.chapter}"
        assert exercise < calls[0].start() < solution, f"{label}: the self-check is not between exercise and solution"
        assert calls[0].group("answer").strip() == "None", f"{label}: the chapter's cell gives an answer"
        cell = text[text.rindex("```{code-cell}", 0, calls[0].start()):text.index("\n```", calls[0].start())]
        for key in spec.context:
            assert re.search(rf"\b{key}=", cell), f"{label}: the cell does not pass {key}="


def test_every_chapter_has_a_self_check():
    chapters = {checks.describe(label).chapter for label in checks.labels()}
    for page in ("data", "sensitivity", "smooth_sensitivity", "adversarial", "audit", "target_labels",
                 "fairgp_parity", "fairgp_opportunity", "target_nets", "compare", "proxies"):
        assert f"book/{page}" in chapters, f"book/{page} has no self-check"


def test_student_notebooks_keep_the_checks_but_not_the_answers():
    """The student edition (tools/notebook_text.py, student=True) keeps each self-check cell with
    answer=None; computed answers (here: those of the base-rate checks) appear nowhere in it."""
    import jupytext
    from notebook_text import BookIndex, convert_notebook

    from fairnotes import data, target_labels

    index = BookIndex.from_toc(ROOT)
    by_chapter = {}
    for label in checks.labels():
        by_chapter.setdefault(checks.describe(label).chapter, []).append(label)
    for chapter, chapter_labels in by_chapter.items():
        path = ROOT / f"{chapter}.md"
        nb = convert_notebook(jupytext.read(path), chapter, index, student=True)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        text = "\n".join(c.source for c in nb.cells)
        for label in chapter_labels:
            cells = [c for c in code if f'check("{label}"' in c]
            assert len(cells) == 1 and "answer=None" in cells[0], f"{chapter}: the {label} self-check cell is missing"
        assert "Solution to" not in text
        if chapter == "book/target_labels":
            br = data.adult_fairgp().base_rates("race").to_numpy()
            a0 = target_labels.parity_parameters(br, "max")[0, 1]
            assert not re.search(rf"\b{a0:.2f}\d*", text), "the student notebook shows a_0"
        if chapter == "book/fairgp_opportunity":
            assert "[[0, 1], [0, 1]]" not in text.replace(".0", "") and "[[0.0, 1.0]" not in text


def test_import_is_light():
    code = ("import sys, fairnotes.checks; bad = [m for m in ('torch', 'tensorflow', 'gpflow', 'sklearn') "
            "if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
