"""book/course.md, the course plan: every chapter, its measured run time, every open-ended exercise
with its rubric, and every self-check."""

import re

from conftest import ROOT, appendix_files, notebook_chapters, toc_files
from fairnotes import checks

COURSE = ROOT / "book" / "course.md"
EXERCISE = re.compile(r"^```\{exercise\}\s*(?P<title>.*?)\n:label:\s*(?P<label>\S+)\n(?P<body>.*?)^```\s*$",
                      re.S | re.M)


def _chapters():
    appendices = appendix_files()
    return [p for p in notebook_chapters() if str(p.relative_to(ROOT).with_suffix("")) not in appendices]


def _open_ended():
    """(label, chapter) of every exercise titled, or opening with, "Open-ended", and of every third
    exercise of a chapter (the book's pattern: conceptual, predict-then-run, open-ended)."""
    out = []
    for path in _chapters():
        found = list(EXERCISE.finditer(path.read_text()))
        for i, m in enumerate(found):
            if (m.group("title").lower().startswith("open-ended") or m.group("body").strip().lower().startswith("open-ended")
                    or i == 2):
                out.append((m.group("label"), path.stem))
    return out


def test_the_course_plan_follows_running_the_book_in_the_appendices():
    files = [f.removesuffix(".md") for f in toc_files()]
    assert "book/course" in appendix_files()
    assert files.index("book/course") == files.index("book/running") + 1


def test_every_chapter_is_planned_with_its_measured_run_time():
    text = COURSE.read_text()
    for path in _chapters():
        doc = str(path.relative_to(ROOT).with_suffix(""))
        assert f"{{exec-runtime}}`{doc}`" in text, f"the course plan has no measured run time of {doc}"
    typed = re.findall(r"\b\d+(?:\.\d+)?\s*(?:s|sec|seconds|min)\b", text)
    assert not typed, f"typed run times in the course plan: {typed}"


def test_every_open_ended_exercise_has_a_rubric_of_three_to_five_points():
    text = COURSE.read_text()
    notes = text[text.index("## Instructor notes"):]
    labels = _open_ended()
    assert len(labels) >= len(_chapters())
    for label, chapter in labels:
        m = re.search(rf"^\*\*\{{ref\}}`{re.escape(label)}`\*\*.*\n\n(?P<points>(?:- .*\n(?:  .*\n)*)+)", notes, re.M)
        assert m, f"no rubric for {label} ({chapter})"
        n = len(re.findall(r"^- ", m.group("points"), re.M))
        assert 3 <= n <= 5, f"{label}: {n} rubric points"


def test_every_self_check_is_listed():
    text = COURSE.read_text()
    table = text[text.index("(course-self-checks)="):text.index("## Instructor notes")]
    for label in checks.labels():
        assert f"{{ref}}`{label}`" in table, f"the self-check of {label} is not listed in the course plan"
