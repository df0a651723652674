"""tools/grader.py: an assignment graded with the self-checks (correct, wrong and empty submissions)."""

import os
import subprocess
import sys

import nbformat
import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from fairnotes import checks

sys.path.insert(0, str(ROOT / "tools"))
import grader  # noqa: E402

BASE_RATES = [0.12, 0.31]
# A tiny notebook in the chapters' pattern: objects, then two self-check cells with answer=None.
CELLS = [
    "import numpy as np\nbase_rates = np.array([0.12, 0.31])",
    "# Self-check: replace None by your answer and run the cell.\nfrom fairnotes.checks import check\n\n"
    'check("tl-ex-2", answer=None, base_rates=base_rates)',
    "# Self-check: replace None by your answer and run the cell.\n"
    'check("par-ex-2", answer=None, base_rates=base_rates)',
]
RIGHT = {"tl-ex-2": repr(BASE_RATES[0] / BASE_RATES[1]), "par-ex-2": '"both rise"'}
WRONG = {"tl-ex-2": "0.9", "par-ex-2": '"both fall"'}
UNREADABLE = {"tl-ex-2": '"zero"', "par-ex-2": '"maybe"'}


def _notebook(answers=None, cells=CELLS):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for source in cells:
        for label, answer in (answers or {}).items():
            source = source.replace(f'check("{label}", answer=None', f'check("{label}", answer={answer}')
        nb.cells.append(nbformat.v4.new_code_cell(source))
    return nb


@pytest.fixture
def tiny(tmp_path):
    """An assignment of one tiny notebook and four students: right, wrong, nothing answered, and
    answers not of the expected form."""
    assignment, submissions = tmp_path / "assignment", tmp_path / "submissions"
    assignment.mkdir()
    nbformat.write(_notebook(), assignment / "tiny.ipynb")
    grader.write_assignment(assignment, grader.exercises_of(_notebook(), "tiny.ipynb", ["tl-ex-2", "par-ex-2"]))
    for student, answers in (("ada", RIGHT), ("bo", WRONG), ("cy", None), ("di", UNREADABLE)):
        (submissions / student).mkdir(parents=True)
        nbformat.write(_notebook(answers), submissions / student / "tiny.ipynb")
    return assignment, submissions


def test_the_assignment_lists_each_check_with_its_keywords(tiny):
    exercises = grader.read_assignment(tiny[0])
    assert [(e.label, e.notebook, e.points, e.context) for e in exercises] == [
        ("tl-ex-2", "tiny.ipynb", 1.0, ("base_rates=base_rates",)),
        ("par-ex-2", "tiny.ipynb", 1.0, ("base_rates=base_rates",))]


def test_the_grading_cell_takes_the_students_answer_and_the_assignments_keywords():
    exercises = grader.exercises_of(_notebook(), "tiny.ipynb", ["tl-ex-2", "par-ex-2"])
    # the student passes their own (tampered) base rates: grading uses the assignment's keywords
    nb = _notebook({"tl-ex-2": "a0  # my “guess”", "par-ex-2": "None"})
    nb.cells[1].source = nb.cells[1].source.replace("base_rates=base_rates", "base_rates=[0.5, 0.5]")
    nb.cells[1].source = "a0 = 0.3\n" + nb.cells[1].source.replace("  # my “guess”", "")
    graded, read = grader.grading_notebook(nb, exercises)
    assert read == {"par-ex-2": ("unanswered", "No answer: the self-check cell still says answer=None.")}
    assert graded.cells[2].source.endswith(f"{grader.GRADE_FUNCTION}('tl-ex-2', (a0), base_rates=base_rates)")
    assert graded.cells[2].source.startswith("a0 = 0.3\n")
    assert graded.cells[0].metadata["fairnotes_grader"] == "setup"


def test_three_submissions_get_three_grades_with_the_hint_as_feedback(tiny, tmp_path):
    """The documented command with its defaults: correct, wrong and empty notebooks get three
    different scores, in that order (a wrong answer earns a quarter of the points for the attempt)."""
    assignment, submissions = tiny
    out = tmp_path / "grades"
    subprocess.run([sys.executable, "tools/book.py", "grader", "grade", str(submissions), "--assignment",
                    str(assignment), "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    scores = pd.read_csv(out / "scores.csv", index_col="student")
    assert list(scores.columns) == ["tl-ex-2", "par-ex-2", "total", "out_of"]
    assert scores.loc["ada", "total"] > scores.loc["bo", "total"] > scores.loc["cy", "total"]
    assert (scores.loc["ada", "total"], scores.loc["bo", "total"], scores.loc["cy", "total"]) == (2, 0.5, 0)
    assert scores.loc["di", "total"] == 0  # answers not of the expected form are no attempt
    assert (scores["out_of"] == 2).all()
    feedback = pd.read_csv(out / "feedback.csv").set_index(["student", "exercise"])
    assert list(feedback.loc["ada", "status"]) == ["right", "right"]
    assert list(feedback.loc["bo", "status"]) == ["wrong", "wrong"]
    assert list(feedback.loc["cy", "status"]) == ["unanswered", "unanswered"]
    assert list(feedback.loc["di", "status"]) == ["unreadable", "unreadable"]
    assert feedback.loc[("di", "tl-ex-2"), "message"].startswith("Could not read the answer 'zero'")
    for label in ("tl-ex-2", "par-ex-2"):
        assert feedback.loc[("bo", label), "message"] == f"Not yet. Hint: {checks.describe(label).hint}"
    assert (out / "executed" / "ada" / "tiny.ipynb").exists()
    assert not (out / "executed" / "cy").exists()  # nothing answered: nothing to execute


def test_attempt_points_by_default_a_quarter_and_zero_available(tiny):
    assignment, submissions = tiny
    assert grader.ATTEMPT_POINTS == 0.25
    total = grader.score_table(grader.grade(submissions, assignment, progress=False))["total"]
    assert total["ada"] > total["bo"] > total["cy"]
    assert (total["ada"], total["bo"], total["cy"], total["di"]) == (2, 0.5, 0, 0)
    # a teacher who gives a wrong answer nothing: wrong and empty then score alike
    total = grader.score_table(grader.grade(submissions, assignment, attempt_points=0, progress=False))["total"]
    assert (total["ada"], total["bo"], total["cy"], total["di"]) == (2, 0, 0, 0)
    with pytest.raises(ValueError, match="attempt_points"):
        grader.grade(submissions, assignment, attempt_points=2)


def test_the_kernels_environment_is_set_and_put_back_even_after_an_error(monkeypatch):
    monkeypatch.setenv("FAIRNOTES_CLAIMS_DIR", "/somewhere")
    monkeypatch.setenv("FAIRNOTES_PROGRESS", "1")
    monkeypatch.delenv("FAIRNOTES_FAST", raising=False)
    with pytest.raises(RuntimeError, match="inside"):
        with grader._environment(fast=True):
            assert (os.environ["FAIRNOTES_FAST"], os.environ["FAIRNOTES_PROGRESS"]) == ("1", "0")
            assert "FAIRNOTES_CLAIMS_DIR" not in os.environ
            raise RuntimeError("inside")
    assert "FAIRNOTES_FAST" not in os.environ
    assert (os.environ["FAIRNOTES_CLAIMS_DIR"], os.environ["FAIRNOTES_PROGRESS"]) == ("/somewhere", "1")


def test_missing_notebooks_cells_and_failing_cells_score_nothing(tmp_path):
    assignment, submissions = tmp_path / "assignment", tmp_path / "submissions"
    assignment.mkdir()
    grader.write_assignment(assignment, grader.exercises_of(_notebook(), "tiny.ipynb", ["tl-ex-2", "par-ex-2"]))
    (submissions / "no_notebook").mkdir(parents=True)
    (submissions / "broken").mkdir()
    (submissions / "not_json").mkdir()
    (submissions / "not_json" / "tiny.ipynb").write_text("{ not a notebook")
    (submissions / "too_slow").mkdir()
    nbformat.write(_notebook(RIGHT, cells=["import time\ntime.sleep(30)"] + CELLS),
                   submissions / "too_slow" / "tiny.ipynb")
    broken = _notebook(RIGHT)
    broken.cells[0].source = "raise RuntimeError('oops')"  # base_rates never defined
    broken.cells.pop(2)  # and the par-ex-2 cell deleted
    nbformat.write(broken, submissions / "broken" / "tiny.ipynb")
    grades = {(g.student, g.exercise): g for g in grader.grade(submissions, assignment, timeout=2, progress=False)}
    assert grades["no_notebook", "tl-ex-2"].status == "missing"
    assert grades["broken", "tl-ex-2"].status == "error" and "NameError" in grades["broken", "tl-ex-2"].message
    assert grades["broken", "par-ex-2"].status == "missing"
    assert grades["not_json", "tl-ex-2"].status == "error" and "cannot be read as a notebook" in \
        grades["not_json", "tl-ex-2"].message
    assert grades["too_slow", "par-ex-2"].status == "error" and "CellTimeoutError" in grades["too_slow", "par-ex-2"].message
    assert all(g.points == 0 for g in grades.values())


def test_clear_errors():
    with pytest.raises(ValueError, match="no chapter with a self-check named intro.*target_labels"):
        grader.assign(ROOT / "_never_written", ["intro"])
    with pytest.raises(FileNotFoundError, match="grader assign"):
        grader.read_assignment(ROOT / "_no_such_assignment")
    with pytest.raises(ValueError, match="no self-check cell for sens-ex-2"):
        grader.exercises_of(_notebook(), "tiny.ipynb", ["sens-ex-2"])


def _answered(nb, answers):
    for cell in nb.cells:
        for label, answer in answers.items():
            cell.source = cell.source.replace(f'check("{label}", answer=None', f'check("{label}", answer={answer}')
    return nb


@pytest.mark.slow
def test_a_chapter_assignment_graded_with_the_documented_commands(tmp_path):
    """The course plan's commands, with their defaults, on the chapter "Target labels" (its fast
    mode takes tens of seconds): a right a_0, a wrong one and the notebook as handed out get three
    different, ordered totals: 1, 0.25 (the attempt) and 0. Slow: it executes the chapter twice."""
    from fairnotes import data, target_labels

    assignment, submissions, out = tmp_path / "assignment", tmp_path / "submissions", tmp_path / "grades"
    book = [sys.executable, "tools/book.py", "grader"]
    subprocess.run(book + ["assign", str(assignment), "--chapters", "target_labels"], cwd=ROOT, check=True,
                   capture_output=True)
    a0 = target_labels.parity_parameters(data.adult_fairgp().base_rates("race").to_numpy(), "max")[0, 1]
    handed_out = nbformat.read(assignment / "target_labels.ipynb", as_version=4)
    for student, answer in (("ada", f"{a0:.3f}"), ("bo", f"{np.clip(a0 + 0.2, 0, 1):.3f}"), ("cy", None)):
        (submissions / student).mkdir(parents=True)
        nb = _answered(nbformat.from_dict(handed_out), {"tl-ex-2": answer} if answer else {})
        nbformat.write(nb, submissions / student / "target_labels.ipynb")
    run = subprocess.run(book + ["grade", str(submissions), "--assignment", str(assignment), "--out", str(out)],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    scores = pd.read_csv(out / "scores.csv", index_col="student")
    assert list(scores["total"]) == [1, 0.25, 0], run.stdout
    feedback = pd.read_csv(out / "feedback.csv").set_index("student")
    assert list(feedback["status"]) == ["right", "wrong", "unanswered"]
    assert feedback.loc["bo", "message"] == f"Not yet. Hint: {checks.describe('tl-ex-2').hint}"
