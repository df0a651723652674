"""Helpers for the tests that build the book with a derived configuration (publishing, PDF).

Each such build runs in fast mode into its own temporary folder but shares one jupyter-cache in
the test session's temporary root, so the chapters are executed by the first of these builds
only; the later ones take the executed notebooks from the cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT


def skip_if_subset():
    if "FAIRNOTES_CHAPTERS" in os.environ:
        pytest.skip("a subset of chapters was asked for; the book build needs them all")


def shared_cache(tmp_path_factory) -> Path:
    """The execution cache shared by this session's derived builds."""
    return tmp_path_factory.getbasetemp() / "jupyter_cache"


def with_shared_cache(config: dict, cache: Path, config_path: Path) -> Path:
    """Write ``config`` to ``config_path`` with its execution cache at ``cache``; return the path."""
    config.setdefault("execute", {})["cache"] = str(cache)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return config_path


def book_config(config_path: Path, text: str | None = None) -> dict:
    """``_config.yml`` (or ``text``, a configuration derived from it) as a dict whose local extensions
    resolve from ``config_path``'s folder."""
    config = yaml.safe_load(text if text is not None else (ROOT / "_config.yml").read_text())
    local = config["sphinx"].get("local_extensions") or {}
    config["sphinx"]["local_extensions"] = {
        name: os.path.relpath(ROOT / path, config_path.parent) for name, path in local.items()}
    return config


def jupyter_book(*args: str) -> subprocess.CompletedProcess:
    """Run ``jupyter-book`` (this environment's) from the repository root; fail with its last lines."""
    jb = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run([str(jb) if jb.exists() else "jupyter-book", *args], capture_output=True,
                         text=True, cwd=ROOT)
    if run.returncode != 0:
        pytest.fail("jupyter-book " + " ".join(args) + " failed:\n" + "\n".join(
            (run.stdout + run.stderr).splitlines()[-40:]))
    return run


def assert_chapters_executed(built: Path) -> None:
    """Fail, naming the chapters, if a chapter's execution failed in a build (``reports/*.err.log``).

    The book build itself only warns; a failed chapter would then show no outputs and no values.
    """
    logs = sorted((built / "reports").rglob("*.err.log")) if (built / "reports").exists() else []
    if logs:
        pytest.fail("chapters failed to execute in the build:\n" + "\n\n".join(
            f"{log.relative_to(built)}:\n" + "\n".join(log.read_text().splitlines()[-15:]) for log in logs))
