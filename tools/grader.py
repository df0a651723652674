"""Grading students' notebooks with the exercises' self-checks (``python tools/book.py grader``).

Usage, from the repository root::

    python tools/book.py grader assign assignment/ --chapters target_labels proxies
    python tools/book.py grader grade submissions/ --assignment assignment/ --out grades/

``assign`` writes the student notebooks of the chapters (all chapters with a self-check by default)
and ``assignment.json``, which lists each exercise with a self-check, its points and the keywords
its check cell passes. The teacher hands out the notebooks and collects them into one folder per
student (``submissions/<student>/<chapter>.ipynb``). ``grade`` executes every submission in a fresh
kernel, in fast mode unless told otherwise, and grades each exercise by calling
:func:`fairnotes.checks.check` with the student's answer (the ``answer=`` of their self-check cell)
and the keywords of the assignment's cell, evaluated in the student's executed notebook. The
autograder tests are therefore the self-checks themselves: the answer keys live in
``fairnotes/checks.py`` only, and a wrong answer's feedback is the self-check's hint. It writes
``scores.csv`` (one row per student, one column per exercise, the total and the maximum),
``feedback.csv`` (one row per student and exercise: status, points and the message) and the
executed notebooks. A right answer earns an exercise's points, a wrong one a quarter of them by
default (``--attempt-points``: the exercises ask for a prediction before its check, so committing to
one is worth something; 0 gives it nothing), no answer or a failing cell nothing.

Why not otter-grader or nbgrader: otter-grader 7.0.0 does not install beside the book's pinned
environment without changing it (pip would downgrade wrapt, which TensorFlow uses, from 2.x to
1.17) and grades in Docker by default. nbgrader 0.9.6 installs beside it, but brings 46 other packages
(JupyterLab, Jupyter Server, a notebook server, a SQL gradebook) into an environment that CI
installs afresh, and its path is a course directory, a gradebook database and three commands, with
its own copies of the tests in the notebooks. The self-checks already compute every expected value
from the student's own objects; executing the notebook with nbclient (already installed, as for the
book) and calling them is all that grading needs, so grading is one command with nothing to install.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from envvars import environment  # noqa: E402
from toc import ROOT, notebook_chapters  # noqa: E402

MANIFEST = "assignment.json"
#: The share of an exercise's points that a wrong answer earns by default. The book's exercises ask
#: the student to predict and then check: committing to a prediction, even a wrong one, is part of
#: the work, and it separates a wrong answer from none. ``--attempt-points 0`` gives it nothing.
ATTEMPT_POINTS = 0.25
#: The output type by which a grading cell reports its verdict to the grader.
GRADE_MIME = "application/vnd.fairnotes.grade+json"
#: The function the grader defines in the student's kernel and calls in place of ``check``.
GRADE_FUNCTION = "__fairnotes_grade__"

_GRADER_CELL = f'''\
def {GRADE_FUNCTION}(label, answer, **context):
    """Set by the grader (tools/grader.py): the exercise's self-check, reported to the grader."""
    from IPython.display import display
    from fairnotes.checks import check
    verdict = check(label, answer=answer, **context)
    display({{"{GRADE_MIME}": {{"label": label, "correct": verdict.correct,
                                "message": verdict.message}}}}, raw=True)
    return verdict'''


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: its label, the notebook that holds it, its points, and the keyword
    arguments (as source, e.g. ``'base_rates=adult.base_rates("race")'``) of its self-check cell."""

    label: str
    notebook: str
    points: float
    context: tuple[str, ...]


@dataclass(frozen=True)
class Grade:
    """One student's grade on one exercise."""

    student: str
    exercise: str
    notebook: str
    status: str
    points: float
    out_of: float
    message: str


# ---------------------------------------------------------------------------------------- the cells

def _check_calls(source: str) -> dict[str, ast.Call]:
    """The ``check("<label>", ...)`` calls of a cell's source, by label; a cell that does not parse
    raises ``SyntaxError``."""
    calls = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        first = node.args[0]
        if func == "check" and isinstance(first, ast.Constant) and isinstance(first.value, str):
            calls[first.value] = node
    return calls


def _answer(call: ast.Call) -> ast.expr | None:
    """The answer argument of a ``check`` call (keyword ``answer=`` or the second positional)."""
    for kw in call.keywords:
        if kw.arg == "answer":
            return kw.value
    return call.args[1] if len(call.args) > 1 else None


def _segment(source: str, node: ast.AST) -> tuple[int, int]:
    """Start and end of ``node`` as character offsets in ``source`` (ast counts columns in UTF-8 bytes)."""
    lines = source.splitlines(keepends=True)

    def offset(line, col_bytes):
        return sum(len(x) for x in lines[:line - 1]) + len(lines[line - 1].encode()[:col_bytes].decode())

    return offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)


def _find_checks(nb) -> dict[str, tuple[int, ast.Call, str]]:
    """Label -> (cell index, call, cell source) of every self-check call in a notebook's code cells;
    cells that do not parse are skipped (a student's typo elsewhere must not hide their answers)."""
    found = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "check(" not in cell.source:
            continue
        try:
            calls = _check_calls(cell.source)
        except SyntaxError:
            continue
        for label, call in calls.items():
            found.setdefault(label, (i, call, cell.source))
    return found


def _unparsed_check_cells(nb) -> dict[str, str]:
    """Label -> error of the cells that mention ``check("<label>"`` but do not parse."""
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "check(" in cell.source:
            try:
                ast.parse(cell.source)
            except SyntaxError as err:
                for label in _labels_mentioned(cell.source):
                    out[label] = f"the self-check cell does not parse: {err.msg} (line {err.lineno})"
    return out


def _labels_mentioned(source: str) -> list[str]:
    import re

    return re.findall(r"""check\(\s*["']([\w-]+)["']""", source)


# ------------------------------------------------------------------------------------- the assignment

def assign(out_dir: Path, chapters: list[str] | None = None, *, points: float = 1.0, repo_url: str | None = None,
           book_url: str | None = None) -> list[Path]:
    """Write the student notebooks of ``chapters`` (file stems such as ``"target_labels"``; default:
    every chapter with a self-check) and ``assignment.json`` into ``out_dir``; return the notebooks.

    Each exercise with a self-check is worth ``points``; ``repo_url`` and ``book_url`` are as for
    ``python tools/book.py notebooks`` (the Colab install cell, links to the book). An unknown chapter, or one without a
    self-check, is a ``ValueError`` that names the chapters that have one.
    """
    import jupytext
    import nbformat

    from fairnotes import checks
    from notebook_text import BookIndex, convert_notebook

    with_checks = {checks.describe(label).chapter.rsplit("/", 1)[-1] for label in checks.labels()}
    paths = {p.stem: p for p in notebook_chapters() if p.stem in with_checks}
    chapters = list(paths) if chapters is None else [c.removesuffix(".md").rsplit("/", 1)[-1] for c in chapters]
    unknown = [c for c in chapters if c not in paths]
    if unknown or not chapters:
        raise ValueError(f"no chapter with a self-check named {', '.join(unknown) or '(none given)'}; "
                         f"the chapters with one are: {', '.join(paths)}")
    if not points > 0:
        raise ValueError(f"points must be positive, not {points!r}")
    index = BookIndex.from_toc(ROOT)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, exercises = [], []
    for stem in chapters:
        doc = paths[stem].relative_to(ROOT).with_suffix("").as_posix()
        nb = convert_notebook(jupytext.read(paths[stem]), doc, index, student=True, link_notebooks=True,
                              repo_url=repo_url, book_url=book_url)
        labels = [lb for lb in checks.labels() if checks.describe(lb).chapter == doc]
        exercises += exercises_of(nb, f"{stem}.ipynb", labels, points=points)
        target = out_dir / f"{stem}.ipynb"
        nbformat.write(nb, target)
        written.append(target)
    write_assignment(out_dir, exercises)
    return written


def exercises_of(nb, notebook: str, labels: list[str], *, points: float = 1.0) -> list[Exercise]:
    """The exercises ``labels`` of notebook ``nb`` (saved as ``notebook``), read from its self-check
    cells; a label without a cell is a ``ValueError``."""
    found, out = _find_checks(nb), []
    for label in labels:
        if label not in found:
            raise ValueError(f"the notebook {notebook} has no self-check cell for {label}")
        _, call, source = found[label]
        context = tuple(ast.get_source_segment(source, kw) for kw in call.keywords if kw.arg != "answer")
        out.append(Exercise(label, notebook, float(points), context))
    return out


def write_assignment(out_dir: Path, exercises: list[Exercise]) -> Path:
    """Write ``assignment.json``, the list of graded exercises, into ``out_dir``."""
    path = Path(out_dir) / MANIFEST
    path.write_text(json.dumps({"exercises": [asdict(e) for e in exercises]}, indent=1) + "\n")
    return path


def read_assignment(assignment_dir: Path) -> list[Exercise]:
    """The exercises of an assignment written by :func:`assign`."""
    path = Path(assignment_dir) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: write the assignment first with "
                                f"'python tools/book.py grader assign {assignment_dir}'")
    return [Exercise(e["label"], e["notebook"], float(e["points"]), tuple(e["context"]))
            for e in json.loads(path.read_text())["exercises"]]


# ------------------------------------------------------------------------------------------ grading

def grading_notebook(nb, exercises: list[Exercise]):
    """A copy of a submitted notebook ready to grade, and what could be read without running it.

    Returns ``(notebook, read)``: in the notebook, each exercise's self-check call is replaced by the
    grader's call with the student's answer expression and the assignment's keywords, and a first
    cell defines that call; ``read`` maps the labels that need no execution (no cell, no answer, a
    cell that does not parse) to their ``(status, message)``.
    """
    import copy

    import nbformat

    nb = copy.deepcopy(nb)
    found, broken, read = _find_checks(nb), _unparsed_check_cells(nb), {}
    for ex in exercises:
        if ex.label not in found:
            read[ex.label] = (("error", broken[ex.label]) if ex.label in broken
                              else ("missing", f"the notebook has no self-check cell for {ex.label}"))
            continue
        i, call, source = found[ex.label]
        answer = _answer(call)
        if answer is None or (isinstance(answer, ast.Constant) and answer.value is None):
            read[ex.label] = ("unanswered", "No answer: the self-check cell still says answer=None.")
            continue
        start, end = _segment(source, call)
        a_start, a_end = _segment(source, answer)
        graded = f"{GRADE_FUNCTION}({ex.label!r}, ({source[a_start:a_end]}), {', '.join(ex.context)})"
        nb.cells[i].source = source[:start] + graded + source[end:]
        nb.cells[i].metadata["fairnotes_grader"] = ex.label
    nb.cells.insert(0, nbformat.v4.new_code_cell(_GRADER_CELL, metadata={"fairnotes_grader": "setup"}))
    return nb, read


def _verdicts(nb, stopped: str | None = None) -> dict[str, tuple[str, str]]:
    """Label -> (status, message) read from the outputs of an executed grading notebook;
    ``stopped`` is why the execution stopped early (a timeout, a kernel that died), if it did."""
    from fairnotes import checks

    out = {}
    for cell in nb.cells:
        label = cell.get("metadata", {}).get("fairnotes_grader")
        if cell.cell_type != "code" or label in (None, "setup"):
            continue
        reports = [o["data"][GRADE_MIME] for o in cell.get("outputs", [])
                   if o.get("output_type") == "display_data" and GRADE_MIME in o.get("data", {})]
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if reports:
            r = reports[-1]
            status = {True: "right", False: "wrong", None: "unanswered"}[r["correct"]]
            if status == "wrong" and r["message"] != f"Not yet. Hint: {checks.describe(label).hint}":
                status = "unreadable"  # not an answer of the expected form: the check says which form
            out[label] = (status, r["message"])
        elif errors:
            out[label] = ("error", f"The self-check cell raised {errors[0]['ename']}: {errors[0]['evalue']}"
                                   " (an earlier cell may have failed; see the executed notebook).")
        else:
            out[label] = ("error", "The self-check cell did not run: the notebook stopped before it"
                                   + (f" ({stopped})." if stopped else "."))
    return out


def _environment(fast: bool):
    """The kernels' environment: fast or default mode, no progress bars, claims recorded only."""
    return environment(FAIRNOTES_FAST="1" if fast else "0", FAIRNOTES_PROGRESS="0", FAIRNOTES_CLAIMS="record",
                       TF_CPP_MIN_LOG_LEVEL="2", FAIRNOTES_CLAIMS_DIR=None)


def grade_notebook(path: Path, exercises: list[Exercise], *, fast: bool = True, timeout: int = 3600,
                   executed: Path | None = None) -> dict[str, tuple[str, str]]:
    """Grade one submitted notebook: label -> (status, message) for each of ``exercises``.

    The notebook is executed from a fresh kernel (in its own folder, errors allowed so that one
    failing cell does not cost the later exercises) only if it answers at least one exercise;
    ``executed`` is where to write the executed notebook.
    """
    import nbformat
    from nbclient import NotebookClient

    try:
        submitted = nbformat.read(path, as_version=4)
    except Exception as err:  # not a notebook (nbformat raises several kinds): no exercise can be read
        return {ex.label: ("error", f"{Path(path).name} cannot be read as a notebook: {err}") for ex in exercises}
    nb, read = grading_notebook(submitted, exercises)
    if len(read) < len(exercises):
        stopped = None
        with _environment(fast):
            try:
                NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                               resources={"metadata": {"path": str(Path(path).parent)}}).execute()
            except Exception as err:  # a cell over the timeout, a kernel that died: grade what ran
                stopped = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        read.update(_verdicts(nb, stopped))
        if executed is not None:
            executed.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, executed)
    return {ex.label: read[ex.label] for ex in exercises}


def _students(submissions: Path) -> list[Path]:
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"the submissions folder {submissions} does not exist")
    students = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not students:
        raise ValueError(f"{submissions} holds no student folder: put each student's notebooks in a "
                         f"folder named after the student, e.g. {submissions}/ada/target_labels.ipynb")
    return students


def grade(submissions: Path, assignment: Path, *, fast: bool = True, attempt_points: float = ATTEMPT_POINTS,
          timeout: int = 3600, executed_dir: Path | None = None, progress: bool | None = None) -> list[Grade]:
    """Grade every student folder of ``submissions`` against the assignment in ``assignment``.

    A right answer earns the exercise's points; a wrong answer (one the self-check reads and judges
    wrong, with its hint) earns ``attempt_points`` times them (:data:`ATTEMPT_POINTS`, a quarter, by
    default: the book's exercises ask for a prediction and then its check, so committing to a
    prediction is worth something; 0 gives a wrong answer nothing, as an empty one); an answer not of
    the expected form, no answer, a missing cell or notebook, or a cell that fails earns nothing.
    Students and exercises come in a fixed order, so the same submissions give the same table.
    """
    from fairnotes.runtime import progress as bar

    if not 0 <= attempt_points <= 1:
        raise ValueError(f"attempt_points is a fraction of an exercise's points, in [0, 1], not {attempt_points!r}")
    exercises = read_assignment(assignment)
    by_notebook: dict[str, list[Exercise]] = {}
    for ex in exercises:
        by_notebook.setdefault(ex.notebook, []).append(ex)
    grades = []
    jobs = [(s, name) for s in _students(submissions) for name in by_notebook]
    for student, name in bar(jobs, desc="grading", disable=None if progress is None else not progress):
        path = student / name
        if path.exists():
            out = None if executed_dir is None else Path(executed_dir) / student.name / name
            verdicts = grade_notebook(path, by_notebook[name], fast=fast, timeout=timeout, executed=out)
        else:
            verdicts = {ex.label: ("missing", f"no notebook {name} in {student.name}'s folder")
                        for ex in by_notebook[name]}
        for ex in by_notebook[name]:
            status, message = verdicts[ex.label]
            share = {"right": 1.0, "wrong": attempt_points}.get(status, 0.0)
            grades.append(Grade(student.name, ex.label, name, status, share * ex.points, ex.points, message))
    order = {ex.label: i for i, ex in enumerate(exercises)}
    return sorted(grades, key=lambda g: (g.student, order[g.exercise]))


def score_table(grades: list[Grade]):
    """One row per student, one column of points per exercise, then ``total`` and ``out_of``."""
    import pandas as pd

    long = pd.DataFrame([asdict(g) for g in grades])
    labels = list(dict.fromkeys(long["exercise"]))
    wide = long.pivot(index="student", columns="exercise", values="points")[labels]
    wide["total"] = wide[labels].sum(axis=1)
    wide["out_of"] = long.groupby("student")["out_of"].sum()
    wide.columns.name = None
    return wide


def write_grades(grades: list[Grade], out_dir: Path) -> tuple[Path, Path]:
    """``scores.csv`` (:func:`score_table`) and ``feedback.csv`` (every grade with its message)."""
    import pandas as pd

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores, feedback = out_dir / "scores.csv", out_dir / "feedback.csv"
    score_table(grades).to_csv(scores, float_format="%g")
    pd.DataFrame([asdict(g) for g in grades]).to_csv(feedback, index=False, float_format="%g")
    return scores, feedback


# ---------------------------------------------------------------------------------------- command line

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``grader`` subcommand's own subcommands, ``assign`` and ``grade``."""
    sub = parser.add_subparsers(dest="grader_command", required=True)
    a = sub.add_parser("assign", help="write the student notebooks and assignment.json into a folder")
    a.add_argument("out_dir", type=Path)
    a.add_argument("--chapters", nargs="+", default=None,
                   help="chapter file stems (default: every chapter with a self-check)")
    a.add_argument("--points", type=float, default=1.0, help="points per exercise (default 1)")
    a.add_argument("--repo-url", help="as for 'notebooks': a first cell that installs fairnotes in Colab")
    a.add_argument("--book-url", help="as for 'notebooks': glossary terms and references link to the book")
    g = sub.add_parser("grade", help="execute and grade a folder of submissions (one folder per student)")
    g.add_argument("submissions", type=Path)
    g.add_argument("--assignment", type=Path, required=True, help="the folder written by 'grader assign'")
    g.add_argument("--out", type=Path, default=Path("grades"),
                   help="where to write scores.csv, feedback.csv and the executed notebooks (default grades/)")
    g.add_argument("--default-mode", action="store_true",
                   help="execute at the book's full sizes instead of fast mode (use it only if the students did)")
    g.add_argument("--attempt-points", type=float, default=ATTEMPT_POINTS,
                   help=f"share of an exercise's points for a wrong answer, in [0, 1] (default {ATTEMPT_POINTS:g}: "
                   "the exercises ask the student to predict and then check, and committing to a prediction "
                   "is worth something; 0 gives a wrong answer nothing, like an empty one)")
    g.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell (default 3600)")


def run(args: argparse.Namespace) -> int:
    """Carry out ``python tools/book.py grader ...``."""
    if args.grader_command == "assign":
        for path in assign(args.out_dir, args.chapters, points=args.points, repo_url=args.repo_url,
                           book_url=args.book_url):
            print(path)
        print(args.out_dir / MANIFEST)
        return 0
    grades = grade(args.submissions, args.assignment, fast=not args.default_mode,
                   attempt_points=args.attempt_points, timeout=args.timeout, executed_dir=args.out / "executed")
    scores, feedback = write_grades(grades, args.out)
    print(score_table(grades).to_string(float_format=lambda x: f"{x:g}"))
    print(f"\nwrote {scores}, {feedback} and the executed notebooks in {args.out / 'executed'}")
    return 0
