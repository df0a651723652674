"""How to cite the book: CITATION.cff is valid Citation File Format 1.2.0 and agrees with the package.

The schema (``tests/data/citation-cff-1.2.0.schema.json``, CC BY 4.0, from the Citation File Format
project as shipped in the ``cffconvert`` wheel) is kept in the repository, so the test runs offline.
"""

from __future__ import annotations

import json
import re

import yaml

from conftest import ROOT


def _cff():
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_citation_cff_is_valid():
    import jsonschema

    schema = json.loads((ROOT / "tests" / "data" / "citation-cff-1.2.0.schema.json").read_text())
    cff = _cff()
    cff["date-released"] = str(cff["date-released"])
    jsonschema.validate(cff, schema)


def test_citation_agrees_with_the_package_and_the_changelog():
    import fairnotes

    cff = _cff()
    assert str(cff["version"]) == fairnotes.__version__
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(rf'^version = "{re.escape(fairnotes.__version__)}"$', pyproject, re.M)
    first = re.search(r"^## (\S+) — (\d{4}-\d{2}-\d{2})$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert first, "CHANGELOG.md has no dated edition"
    assert first.group(1) == fairnotes.__version__ and first.group(2) == str(cff["date-released"])


def test_readme_and_introduction_say_how_to_cite():
    assert "## How to cite" in (ROOT / "README.md").read_text()
    assert "How to cite" in (ROOT / "book" / "intro.md").read_text()
