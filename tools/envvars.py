"""Environment variables set for a while: ``with environment(FAIRNOTES_FAST="1", FAIRNOTES_CLAIMS_DIR=None):``.

Used by ``tools/grader.py`` (the students' kernels run in fast mode, without progress bars) and
``tools/paper_runs.py`` (a chapter executed at paper size).
"""

from __future__ import annotations

import contextlib
import os


@contextlib.contextmanager
def environment(**values: str | None):
    """Set each named variable to its value (``None`` removes it) for the ``with`` block, then put
    every one back as it was, set or not, even if the block fails."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = str(value)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
