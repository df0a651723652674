"""The self-checks name an exercise as the book numbers it: by its chapter and its place there."""

from __future__ import annotations

import re

from conftest import ROOT
from fairnotes import checks


def test_chapter_titles_match_the_chapters():
    for doc, title in checks.CHAPTER_TITLES.items():
        text = (ROOT / f"{doc}.md").read_text()
        h1 = re.search(r"^# (.+)$", text, flags=re.M)
        assert h1 and h1.group(1).strip() == title, f"{doc}: title {h1 and h1.group(1)!r}, checks say {title!r}"


def test_every_self_check_names_its_exercise_by_position():
    for label in checks.labels():
        spec = checks.describe(label)
        assert spec.chapter in checks.CHAPTER_TITLES, f"{label}: chapter {spec.chapter} has no title"
        text = (ROOT / f"{spec.chapter}.md").read_text()
        exercises = re.findall(r"^:label: (\S+)$", text, flags=re.M)
        exercises = [e for e in exercises if e in set(re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", text))]
        assert label in exercises, f"{label} is not an exercise of {spec.chapter}"
        position = exercises.index(label) + 1
        assert spec.name.startswith(f"Exercise {position} of"), (
            f"{label} is exercise {position} of its chapter, but its self-check calls it {spec.name!r}")
