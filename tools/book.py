"""Book tooling: the student edition, notebooks for the classroom, and the book as a PDF.

Usage, from the repository root::

    python tools/book.py notebooks notebooks/            # every chapter as .ipynb, with solutions
    python tools/book.py notebooks --student notebooks/  # the same without the solutions
    python tools/book.py student                          # the HTML student edition in _build_student/
    python tools/book.py pdf                              # the whole book in _build/pdf/fairnotes.pdf
    python tools/book.py run book/data.md [-o out.ipynb]  # execute one chapter, report its time
    python tools/book.py grader assign|grade ...          # hand out and grade an assignment (tools/grader.py)

The notebooks are unexecuted (students run them); the chapters' hidden set-up cells are kept.
Their markdown is converted by ``tools/notebook_text.py`` into what Jupyter, JupyterLab and Colab
render (no MyST roles or directives); the student notebooks hold no solution, in markdown or code.
The student edition is the same book built from the same sources with sphinx-exercise's
``hide_solutions`` on.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from toc import ROOT, notebook_chapters, toc_files  # noqa: E402

PDF_NAME = "fairnotes.pdf"
# On paper nothing scrolls: long code lines wrap, wide outputs and tables shrink to the page.
PRINT_CSS = """<style>@media print {
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  div.highlight, div.cell_output, div.output, .table-wrapper, .pst-scrollable-table-container {
    overflow: visible !important; }
  table { font-size: 0.8em; }
  img { max-width: 100% !important; height: auto !important; }
}</style>
"""


def jupyter_book() -> str:
    """The ``jupyter-book`` command of this Python's environment (or the one on the PATH)."""
    here = Path(sys.executable).parent / "jupyter-book"
    return str(here) if here.exists() else "jupyter-book"


def write_notebooks(out_dir: Path, student: bool = False, repo_url: str | None = None,
                    book_url: str | None = None) -> list[Path]:
    """Every notebook chapter as an unexecuted ``.ipynb`` in ``out_dir``, its markdown converted.

    Cross-references to other chapters link to the sibling notebooks; with ``book_url`` glossary
    terms and references link to the book online; with ``repo_url`` each notebook starts with the
    hidden cell that installs fairnotes from that repository in Colab.
    """
    import jupytext
    import nbformat

    from notebook_text import BookIndex, convert_notebook

    index = BookIndex.from_toc(ROOT)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebook_chapters():
        doc = path.relative_to(ROOT).with_suffix("").as_posix()
        nb = convert_notebook(jupytext.read(path), doc, index, student=student, repo_url=repo_url,
                              book_url=book_url, link_notebooks=True)
        target = out_dir / (path.stem + ".ipynb")
        nbformat.write(nb, target)
        written.append(target)
    return written


def student_config(config: str) -> str:
    """The book's ``_config.yml`` text with sphinx-exercise's ``hide_solutions`` switched on and the
    extension that removes gated solutions whole (``_ext/student_solutions.py``)."""
    if "hide_solutions" in config:
        raise ValueError("_config.yml already sets hide_solutions")
    if "\n  config:\n" not in config:
        raise ValueError("_config.yml has no sphinx.config section to add hide_solutions to")
    if "\n  local_extensions:\n" not in config:
        raise ValueError("_config.yml has no sphinx.local_extensions section to add student_solutions to")
    config = config.replace("\n  config:\n", "\n  config:\n    hide_solutions: true\n", 1)
    # sphinx-exercise's hide_solutions leaves gated solutions ({solution-start} ... {solution-end})
    # half in place and fails on them; _ext/student_solutions.py removes them whole
    config = config.replace("\n  local_extensions:\n", "\n  local_extensions:\n    student_solutions: _ext\n", 1)
    return config.replace('title: "', 'title: "Student edition. ', 1)


def build_student(out: Path) -> int:
    """Build the student edition into ``out``, reusing the chapters executed by the book's own build
    (``_build/.jupyter_cache``): a chapter whose code did not change is not executed again."""
    config = student_config((ROOT / "_config.yml").read_text())
    shared = ROOT / "_build" / ".jupyter_cache"
    if "\n  execute_notebooks:" in config and "\n  cache:" not in config:
        config = config.replace("\n  execute_notebooks:", f"\n  cache: {json.dumps(str(shared))}\n  execute_notebooks:", 1)
    with tempfile.NamedTemporaryFile("w", suffix=".yml", dir=ROOT, prefix="_config_student_", delete=False) as fh:
        fh.write(config)
        cfg = Path(fh.name)
    try:
        cmd = [jupyter_book(), "build", str(ROOT), "--config", str(cfg), "--path-output", str(out)]
        return subprocess.call(cmd)
    finally:
        cfg.unlink()


def chromium() -> str:
    """The headless browser that prints the PDF (Debian's ``chromium``)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise FileNotFoundError("the PDF is printed by Chromium, which is not installed "
                            "(apt-get install chromium)")


def build_pdf(path_output: Path = ROOT, config: Path | None = None, budget_ms: int = 120_000) -> Path:
    """The whole book as one PDF: ``<path_output>/_build/pdf/fairnotes.pdf``.

    Jupyter Book's single-page HTML builder writes every page into one HTML file (reusing the
    execution cache of ``<path_output>/_build``, so chapters whose code did not change are not run
    again); headless Chromium prints it, after giving MathJax (served by the book itself,
    ``_ext/local_mathjax.py``) ``budget_ms`` of virtual time to typeset the maths.
    """
    cmd = [jupyter_book(), "build", str(ROOT), "--builder", "singlehtml", "--path-output", str(path_output)]
    if config is not None:
        cmd += ["--config", str(config)]
    if subprocess.call(cmd) != 0:
        raise RuntimeError("the single-page HTML build failed; see the messages above")
    # the single page is the root page with every other page in it; Sphinx writes it under the
    # root page's name (book/intro.html) but with links relative to the build's top folder, so it
    # is printed from a copy there
    single = Path(path_output) / "_build" / "singlehtml"
    page = single / (toc_files()[0].removesuffix(".md") + ".html")
    if not page.exists():
        raise FileNotFoundError(f"the single-page build wrote no {page}")
    html = single / "fairnotes-print.html"
    html.write_text(page.read_text().replace("</head>", PRINT_CSS + "</head>", 1))
    pdf = Path(path_output) / "_build" / "pdf" / PDF_NAME
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:  # a throw-away profile: no state from other runs
        run = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                              "--disable-background-networking", "--no-first-run", f"--user-data-dir={profile}",
                              "--run-all-compositor-stages-before-draw", f"--virtual-time-budget={budget_ms}",
                              "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri()],
                             capture_output=True, text=True, timeout=900)
    if run.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise RuntimeError(f"Chromium did not print {html} to {pdf}:\n" + "\n".join(run.stderr.splitlines()[-20:]))
    return pdf


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
    nb.add_argument("--repo-url", help="start each notebook with a cell that installs fairnotes from "
                    "this repository when it runs in Colab")
    nb.add_argument("--book-url", help="the published book: glossary terms and references link to it")
    pdf = sub.add_parser("pdf", help=f"the whole book as one PDF, _build/pdf/{PDF_NAME}")
    pdf.add_argument("--path-output", type=Path, default=ROOT, help="build under <this>/_build")
    pdf.add_argument("--config", type=Path, default=None, help="another _config.yml")
    st = sub.add_parser("student", help="build the HTML student edition (no solutions)")
    st.add_argument("--path-output", type=Path, default=ROOT / "_build_student")
    rn = sub.add_parser("run", help="execute one chapter and report how long it took")
    rn.add_argument("chapter", type=Path)
    rn.add_argument("-o", "--output", type=Path, default=None, help="write the executed notebook here")
    import grader

    grader.add_arguments(sub.add_parser("grader", help="hand out an assignment and grade the students' "
                                        "notebooks with the self-checks (tools/grader.py)"))
    args = parser.parse_args(argv)
    if args.command == "grader":
        return grader.run(args)
    if args.command == "run":
        seconds = run_chapter(args.chapter, args.output)
        print(f"{args.chapter}: executed in {seconds:.0f} s")
        return 0
    if args.command == "notebooks":
        for p in write_notebooks(args.out_dir, student=args.student, repo_url=args.repo_url,
                                 book_url=args.book_url):
            print(p)
        return 0
    if args.command == "pdf":
        print(build_pdf(args.path_output, args.config))
        return 0
    return build_student(args.path_output)


if __name__ == "__main__":
    sys.exit(main())
