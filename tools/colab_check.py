"""A chapter's Colab install cell, for real, in a fresh numpy-2 environment (issue #28).

Usage, from the repository root (a few minutes: it installs torch and the book's stack into a new
virtual environment, then executes the chapter in fast mode)::

    python tools/colab_check.py sensitivity                      # venv in /tmp/np2venv, numpy 2.0.2
    python tools/colab_check.py sensitivity --numpy 2.4.6 --venv /tmp/np2venv-b

What it does, step by step:

1. Writes the chapter's notebook as ``python tools/book.py notebooks --repo-url ...`` does and reads
   the pip command of its first cell, the Colab install cell.
2. Makes a fresh virtual environment with this Python (``--venv``, replaced if it exists), brings pip
   up to date and installs what Colab ships before any cell runs and the cell leaves alone: numpy 2
   (``--numpy``) and torch 2.13.0. torch is installed first, as in Colab: the cell's
   ``fairnotes[torch,...]`` keeps a torch that its range allows, whereas a machine without torch would
   take the newest one the range allows, whose Linux wheel is the CUDA build (gigabytes of nvidia
   packages; the same reason ``requirements.txt`` pins torch).
3. Runs the cell's pip command, word for word, with the repository URL replaced by this checkout's
   committed state (``git+file://<repository>``; the work tree's uncommitted changes are not in it).
4. Checks that numpy is still the version installed in step 2 and torch still 2.13.0, then executes
   the whole notebook in that environment (nbclient, which the cell's myst-nb brings) with
   ``FAIRNOTES_FAST=1``, from a scratch folder so that the installed package is the one imported,
   and fails on the first cell that raises. The executed notebook is written beside the venv.

It needs the package index (PyPI), so it is not part of ``pytest``; ``book/running.md`` ("In
Colab") says when it was last run and what it found.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from toc import ROOT  # noqa: E402

PLACEHOLDER = "https://github.com/example/fairnotes"
COLAB_TORCH = "torch==2.13.0"

_EXECUTE = """
import sys, time, nbformat, numpy, torch
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
t0 = time.perf_counter()
NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, sys.argv[2])
print(f"executed {len([c for c in nb.cells if c.cell_type == 'code'])} code cells in "
      f"{time.perf_counter() - t0:.0f} s with numpy {numpy.__version__}, torch {torch.__version__}")
"""


def install_command(chapter: str):
    """The pip arguments (after ``python -m``) of the chapter notebook's Colab install cell, and the notebook."""
    import jupytext

    from notebook_text import BookIndex, convert_notebook

    path = ROOT / "book" / f"{chapter}.md"
    if not path.exists():
        raise FileNotFoundError(f"no chapter {path}")
    nb = convert_notebook(jupytext.read(path), f"book/{chapter}", BookIndex.from_toc(ROOT), repo_url=PLACEHOLDER,
                          link_notebooks=True)
    for node in ast.walk(ast.parse(nb.cells[0].source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "check_call":
            words = node.args[0].elts
            return [ast.literal_eval(w) for w in words[1:]], nb   # words[0] is sys.executable
    raise ValueError(f"the first cell of {chapter}'s notebook has no pip command: {nb.cells[0].source[:200]!r}")


def _run(cmd, **kwargs):
    print("$", " ".join(map(str, cmd)), flush=True)
    subprocess.run(cmd, check=True, **kwargs)


def _version(python: Path, module: str) -> str:
    return subprocess.run([str(python), "-c", f"import {module}; print({module}.__version__)"], check=True,
                          capture_output=True, text=True).stdout.strip()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("chapter", help="a chapter without Gaussian processes, e.g. sensitivity")
    p.add_argument("--venv", type=Path, default=Path("/tmp/np2venv"), help="where to make the environment")
    p.add_argument("--numpy", default="2.0.2", help="the numpy 2 that the environment starts with")
    args = p.parse_args(argv)
    if not args.numpy.startswith("2."):
        p.error(f"--numpy must be a numpy 2 release, not {args.numpy}")

    import nbformat

    pip_words, nb = install_command(args.chapter)
    if "gp" in next(w for w in pip_words if w.startswith("fairnotes[")):
        p.error(f"{args.chapter} uses Gaussian processes: its install cell brings numpy<2 and asks for a restart")
    pip_words = [w.replace(f"git+{PLACEHOLDER}", f"git+file://{ROOT}") for w in pip_words]

    import shutil

    shutil.rmtree(args.venv, ignore_errors=True)
    _run([sys.executable, "-m", "venv", str(args.venv)])
    python = args.venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([str(python), "-m", "pip", "install", "--quiet", f"numpy=={args.numpy}", COLAB_TORCH])
    _run([str(python), *pip_words])                                   # the install cell's command
    numpy, torch = _version(python, "numpy"), _version(python, "torch")
    if numpy != args.numpy or not torch.startswith("2.13.0"):
        raise SystemExit(f"the install cell changed numpy {args.numpy} -> {numpy} or torch 2.13.0 -> {torch}")
    print(f"after the install cell: numpy {numpy}, torch {torch}")

    source = args.venv.parent / f"{args.venv.name}-{args.chapter}.ipynb"
    executed = args.venv.parent / f"{args.venv.name}-{args.chapter}-executed.ipynb"
    nbformat.write(nb, source)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(FAIRNOTES_FAST="1", FAIRNOTES_PROGRESS="0", PATH=f"{args.venv / 'bin'}:{env.get('PATH', '')}")
    with tempfile.TemporaryDirectory() as scratch:
        _run([str(python), "-c", _EXECUTE, str(source), str(executed), scratch], cwd=scratch, env=env)
    numpy_after = _version(python, "numpy")
    if numpy_after != numpy:
        raise SystemExit(f"numpy changed while the notebook ran: {numpy} -> {numpy_after}")
    print(f"{args.chapter}: installed from its own cell and executed in fast mode with numpy {numpy_after}; "
          f"wrote {executed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
