"""Book tooling: the student edition and notebooks for the classroom.

Usage, from the repository root::

    python tools/book.py notebooks notebooks/            # every chapter as .ipynb, with solutions
    python tools/book.py notebooks --student notebooks/  # the same without the solutions
    python tools/book.py student                          # the HTML student edition in _build_student/
    python tools/book.py run book/data.md [-o out.ipynb]  # execute one chapter, report its time

The notebooks are unexecuted (students run them); the chapters' hidden set-up cells are kept.
The student edition is the same book built from the same sources with sphinx-exercise's
``hide_solutions`` on.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = re.compile(r"^\s*```\{solution-start\}")
END = re.compile(r"^\s*```\{solution-end\}")


def toc_chapters() -> list[Path]:
    """The notebook chapters of ``_toc.yml``, in order (pages without a jupytext header are skipped)."""
    text = (ROOT / "_toc.yml").read_text()
    out = []
    for entry in re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*(\S+)\s*$", text, flags=re.M):
        path = ROOT / (entry if entry.endswith(".md") else entry + ".md")
        head = path.read_text().split("\n---", 1)[0] if path.exists() else ""
        if "jupytext:" in head and "kernelspec:" in head:
            out.append(path)
    return out


def strip_solutions(nb):
    """Remove every gated solution (``solution-start`` ... ``solution-end``) from a notebook.

    Works line by line inside markdown cells, so text before a solution and after its end (for
    example the next exercise) stays; code cells inside a solution are dropped.
    """
    cells, inside, removed = [], False, 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            if inside:
                removed += 1
            else:
                cells.append(cell)
            continue
        kept = []
        lines = cell.source.split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            if not inside and START.match(line):
                inside, removed = True, removed + 1
            elif inside and END.match(line):
                inside = False
                # skip the closing fence of the solution-end directive
                if i + 1 < len(lines) and lines[i + 1].strip() == "```":
                    i += 1
            elif not inside:
                kept.append(line)
            i += 1
        text = "\n".join(kept).strip()
        if text:
            cell.source = text
            cells.append(cell)
    if inside:
        raise ValueError("a solution-start has no matching solution-end")
    nb.cells = cells
    return nb, removed


def write_notebooks(out_dir: Path, student: bool = False) -> list[Path]:
    import jupytext

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in toc_chapters():
        nb = jupytext.read(path)
        if student:
            nb, _ = strip_solutions(nb)
        target = out_dir / (path.stem + ".ipynb")
        jupytext.write(nb, target)
        written.append(target)
    return written


def student_config(config: str) -> str:
    """The book's ``_config.yml`` text with sphinx-exercise's ``hide_solutions`` switched on."""
    if "hide_solutions" in config:
        raise ValueError("_config.yml already sets hide_solutions")
    if "\n  config:\n" not in config:
        raise ValueError("_config.yml has no sphinx.config section to add hide_solutions to")
    config = config.replace("\n  config:\n", "\n  config:\n    hide_solutions: true\n", 1)
    return config.replace('title: "', 'title: "Student edition. ', 1)


def build_student(out: Path) -> int:
    config = student_config((ROOT / "_config.yml").read_text())
    with tempfile.NamedTemporaryFile("w", suffix=".yml", dir=ROOT, prefix="_config_student_", delete=False) as fh:
        fh.write(config)
        cfg = Path(fh.name)
    try:
        cmd = ["jupyter-book", "build", str(ROOT), "--config", str(cfg), "--path-output", str(out)]
        return subprocess.call(cmd)
    finally:
        cfg.unlink()


def run_chapter(path: Path, out: Path | None = None, timeout: int = 3600) -> float:
    """Execute one chapter from a fresh kernel (as the book build does); return the seconds it took."""
    import time

    import jupytext
    import nbformat
    from nbclient import NotebookClient

    nb = jupytext.read(path)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    if out is not None:
        nbformat.write(nb, out)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    nb = sub.add_parser("notebooks", help="write every chapter as an .ipynb into a folder")
    nb.add_argument("out_dir", type=Path)
    nb.add_argument("--student", action="store_true", help="leave the solutions out")
    st = sub.add_parser("student", help="build the HTML student edition (no solutions)")
    st.add_argument("--path-output", type=Path, default=ROOT / "_build_student")
    rn = sub.add_parser("run", help="execute one chapter and report how long it took")
    rn.add_argument("chapter", type=Path)
    rn.add_argument("-o", "--output", type=Path, default=None, help="write the executed notebook here")
    args = parser.parse_args(argv)
    if args.command == "run":
        seconds = run_chapter(args.chapter, args.output)
        print(f"{args.chapter}: executed in {seconds:.0f} s")
        return 0
    if args.command == "notebooks":
        for p in write_notebooks(args.out_dir, student=args.student):
            print(p)
        return 0
    return build_student(args.path_output)


if __name__ == "__main__":
    sys.exit(main())
