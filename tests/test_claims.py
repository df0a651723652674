"""fairnotes.claims: claims enforced in the default and paper-size builds, recorded in fast mode,
stored-run claims enforced in every mode, the FAIRNOTES_CLAIMS override, and the ledger files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairnotes import claims


@pytest.fixture
def mode(monkeypatch, tmp_path):
    """Set the build mode ("fast", "default" or "paper-size"); the ledger goes to a fresh folder."""
    monkeypatch.setenv(claims.LEDGER_ENV, str(tmp_path / "ledger"))
    monkeypatch.delenv(claims.MODE_ENV, raising=False)

    def set_mode(name):
        monkeypatch.delenv("FAIRNOTES_FAST", raising=False)
        monkeypatch.delenv("FAIRNOTES_PAPER_SIZE", raising=False)
        if name == "fast":
            monkeypatch.setenv("FAIRNOTES_FAST", "1")
        elif name == "paper-size":
            monkeypatch.setenv("FAIRNOTES_PAPER_SIZE", "1")
        return tmp_path / "ledger"

    return set_mode


@pytest.mark.parametrize("build", ["default", "paper-size"])
def test_a_claim_that_does_not_hold_stops_the_default_and_paper_size_builds(mode, build):
    mode(build)
    ledger = claims.Ledger("audit")
    assert ledger.claim("The mitigated network flags fewer predictions.", holds=True,
                        evidence={"unmitigated": 115, "mitigated": 111}) is True
    with pytest.raises(claims.ClaimError) as err:
        ledger.claim("The mitigated network flags  more\n predictions.", holds=np.bool_(False),
                     evidence={"unmitigated": 115, "mitigated": 111})
    message = str(err.value)
    assert "'audit'" in message and f"{build} build" in message
    assert "The mitigated network flags more predictions." in message    # whitespace collapsed
    assert "unmitigated = 115" in message and "mitigated = 111" in message
    assert claims.enforced() and claims.enforced(stored=True)
    assert [c.holds for c in ledger.claims] == [True, False]                # recorded before it raised


def test_fast_mode_records_and_does_not_enforce(mode):
    mode("fast")
    assert not claims.enforced() and claims.enforced(stored=True)
    ledger = claims.Ledger("data")
    assert ledger.claim("A claim the small sizes do not support.", holds=False, evidence={"x": 1.0}) is False
    entry = ledger.claims[0]
    assert (entry.holds, entry.enforced, entry.mode, entry.stored) == (False, False, "fast", False)
    assert "0 of 1" in repr(ledger)


def test_stored_run_claims_are_enforced_in_every_mode(mode):
    for build in ("fast", "default", "paper-size"):
        mode(build)
        ledger = claims.Ledger("fairgp_parity")
        with pytest.raises(claims.ClaimError, match="stored"):
            ledger.claim("Every stored DI stays below the paper's.", holds=False, stored=True,
                         evidence={"stored": [0.61, 0.7], "paper": [0.67, 0.68]})
        assert ledger.claims[-1].stored and ledger.claims[-1].enforced


def test_the_environment_overrides_enforcement(mode, monkeypatch):
    mode("default")
    monkeypatch.setenv(claims.MODE_ENV, "record")
    assert not claims.enforced() and not claims.enforced(stored=True)
    assert claims.Ledger("data").claim("Not held, recorded only.", holds=False) is False
    mode("fast")
    monkeypatch.setenv(claims.MODE_ENV, " Enforce ")
    assert claims.enforced()
    with pytest.raises(claims.ClaimError):
        claims.Ledger("data").claim("Enforced in fast mode too.", holds=False)
    monkeypatch.setenv(claims.MODE_ENV, "sometimes")
    with pytest.raises(ValueError, match="record' or 'enforce"):
        claims.enforced()


def test_the_ledger_file_holds_every_claim_with_its_evidence(mode):
    folder = mode("fast")
    ledger = claims.Ledger("sensitivity")
    assert ledger.path == folder / "sensitivity.json"
    assert json.loads(ledger.path.read_text())["claims"] == []              # created (emptied) at once
    ledger.claim("Sign agreement is lower for the COMPAS CNN.", holds=True,
                 evidence={"sign agreement": pd.Series({"Adult CNN": 0.92049, "COMPAS CNN": 0.585}),
                           "n": np.int64(39), "ok": np.bool_(True), "missing": np.nan,
                           "array": np.array([1.234567, 2.0]), "table": pd.DataFrame({"a": [1, 2]}),
                           "when": pd.Timestamp("2026-12-05")})
    ledger.claim("A second claim.", holds=False, stored=False)
    doc = json.loads(ledger.path.read_text())
    assert doc["chapter"] == "sensitivity" and doc["mode"] == "fast" and doc["written"]
    first, second = doc["claims"]
    assert first["text"] == "Sign agreement is lower for the COMPAS CNN." and first["holds"] is True
    ev = first["evidence"]
    assert ev["sign agreement"] == {"Adult CNN": 0.9205, "COMPAS CNN": 0.585}   # 4 significant digits
    assert ev["n"] == 39 and ev["ok"] is True and ev["missing"] is None
    assert ev["array"] == [1.235, 2.0] and ev["table"] == {"a": {"0": 1, "1": 2}}
    assert isinstance(ev["when"], str)
    assert second["holds"] is False and second["enforced"] is False and second["evidence"] == {}
    # executing the chapter again starts its ledger afresh; other chapters' files stay
    claims.Ledger("data").claim("Another chapter.", holds=True)
    claims.Ledger("sensitivity")
    ledgers = claims.read_ledger(folder)
    assert set(ledgers) == {"sensitivity", "data"}
    assert ledgers["sensitivity"]["claims"] == [] and len(ledgers["data"]["claims"]) == 1
    assert not list(folder.glob("*.tmp")), "a temporary file was left behind"


def test_without_the_folder_nothing_is_written(monkeypatch, tmp_path):
    monkeypatch.delenv(claims.LEDGER_ENV, raising=False)
    monkeypatch.setenv("FAIRNOTES_FAST", "1")
    monkeypatch.chdir(tmp_path)
    ledger = claims.Ledger("data")
    assert ledger.path is None
    assert ledger.claim("Recorded in memory only.", holds=True)
    assert list(tmp_path.iterdir()) == []


def test_read_ledger_skips_what_is_not_a_ledger(tmp_path):
    assert claims.read_ledger(tmp_path / "absent") == {}
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "nameless.json").write_text(json.dumps({"claims": [{"text": "x", "holds": True}]}))
    ledgers = claims.read_ledger(tmp_path)
    assert list(ledgers) == ["nameless"]


def test_bad_input_is_refused(mode):
    mode("fast")
    for bad in ("", "book/audit", None, 3):
        with pytest.raises(ValueError, match="chapter"):
            claims.Ledger(bad)
    ledger = claims.Ledger("data")
    for text in ("", "   ", None, 1.0):
        with pytest.raises(ValueError, match="text"):
            ledger.claim(text, holds=True)
    for holds in (1, 0.0, "yes", None, np.array([True, False]), pd.Series([True])):
        with pytest.raises(TypeError, match="holds must be True or False"):
            ledger.claim("A claim.", holds=holds)
    with pytest.raises(TypeError, match="evidence must be a mapping"):
        ledger.claim("A claim.", holds=True, evidence=[1, 2])
    assert ledger.claims == []                                  # nothing refused was recorded


LEDGER_CHAPTER = '''\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# A chapter with claims

```{code-cell} ipython3
import os
from fairnotes import claims
ledger = claims.Ledger("chap")
ledger.claim("Two is more than one.", holds=2 > 1, evidence={"two": 2, "one": 1})
ledger.claim("A claim the small sizes do not support.", holds=False)
print("ledger folder:", os.environ.get("FAIRNOTES_CLAIMS_DIR"))
```
'''


def test_a_build_gives_the_kernels_the_ledger_folder_and_the_status_page_shows_it(tmp_path, monkeypatch):
    """_ext/exec_status.py sets FAIRNOTES_CLAIMS_DIR beside the execution cache before the chapters
    run; the kernels that myst-nb starts inherit it; the claims-ledger directive renders every claim."""
    import html as html_lib
    import re
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parent.parent
    (tmp_path / "chap.md").write_text(LEDGER_CHAPTER)
    (tmp_path / "index.md").write_text("# Home\n\nA small book.\n")
    (tmp_path / "status.md").write_text("# Status\n\n```{claims-ledger}\n```\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: chap\n  - file: status\n")
    (tmp_path / "_config.yml").write_text(yaml.safe_dump({
        "title": "ledger", "only_build_toc_files": True, "execute": {"execute_notebooks": "cache"},
        "sphinx": {"local_extensions": {"exec_status": str(root / "_ext")}}}))
    monkeypatch.setenv(claims.LEDGER_ENV, str(tmp_path / "elsewhere"))   # the build's own folder wins
    monkeypatch.setenv("FAIRNOTES_FAST", "1")
    jb = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run([str(jb) if jb.exists() else "jupyter-book", "build", str(tmp_path)],
                         capture_output=True, text=True)
    assert run.returncode == 0, "\n".join((run.stdout + run.stderr).splitlines()[-30:])
    folder = tmp_path / "_build" / ".jupyter_cache_claims"
    doc = json.loads((folder / "chap.json").read_text())
    assert [c["holds"] for c in doc["claims"]] == [True, False] and doc["mode"] == "fast"
    assert not (tmp_path / "elsewhere").exists()
    executed = (tmp_path / "_build" / "jupyter_execute" / "chap.ipynb").read_text()
    assert f"ledger folder: {folder}" in executed
    page = (tmp_path / "_build" / "html" / "status.html").read_text()
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "A chapter with claims 2 1 fast" in text
    assert "1 of 2 claims held" in text
    assert "Two is more than one. two: 2; one: 1 yes" in text
    assert "A claim the small sizes do not support. (none) no (recorded, not enforced)" in text
