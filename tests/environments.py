"""Which tests need which environment: the markers ``gp`` and ``book`` (issue #28).

The package's core works with numpy 1 and numpy 2; only :mod:`fairnotes.fairgp` needs TensorFlow
and GPflow (the extra ``fairnotes[gp]``, which pins numpy<2). CI (``.ci/run``) runs every test in
the book's environment (``requirements.txt``), then the core's unit tests again in a second
environment with numpy 2 and neither TensorFlow, GPflow nor the book's tools:
``pytest -m "not gp and not book" $(python tests/environments.py)`` (:func:`core_test_files`).
``tests/conftest.py`` marks every collected test with
:func:`mark`, so that nobody has to remember a marker:

* ``book``: the chapters (nbval's notebook items), every test of a module in :data:`BOOK_MODULES`
  (tests of the book rather than of the package: its chapters, builds, notebooks and ``tools/``), and
  any other test that imports the book's tooling (a module of ``tools/`` or ``_ext/``, the tests'
  build helpers, Jupyter Book, Sphinx, myst-nb) or runs ``jupyter-book``.
* ``gp``: a test that needs TensorFlow or GPflow. Decided from the source: the test's module at its
  top level, the test's own body, a function of its module that it calls (and so on), or a fixture
  it uses imports ``gpflow``, ``tensorflow``, ``tensorflow_probability``, ``tf_keras`` or
  ``fairnotes.fairgp`` (outside ``try ... except ImportError``), asks ``pytest.importorskip`` for
  one of them, or hands code that imports one to another interpreter (a string of Python).

What the source does not show (a package function that imports ``fairnotes.fairgp`` inside) is
caught by the numpy-2 run itself: there such a test fails with the ImportError naming
``fairnotes[gp]``, and ``.ci/run`` fails the run if a test was skipped for want of TensorFlow or
GPflow. ``tests/test_core_numpy2.py`` checks this module.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Test modules that test the book (chapters, builds, the notebooks and tools/), not the package.
BOOK_MODULES = frozenset({
    "test_book_build", "test_book_structure", "test_citation", "test_course", "test_dask_runs",
    "test_exercise_numbers", "test_figures", "test_glue", "test_grader", "test_install",
    "test_notebooks", "test_pdf", "test_prose", "test_publish", "test_student_edition", "test_tools",
})

#: What ``fairnotes[gp]`` brings (top-level module names), and the one module of the package that needs it.
GP_MODULES = frozenset({"gpflow", "tensorflow", "tensorflow_probability", "tf_keras"})
GP_PACKAGE_MODULE = "fairnotes.fairgp"

#: The book's tooling besides tools/ and _ext/: the tests' build helpers and the book's own packages.
BOOK_TOOLING = frozenset({"book_builds", "rendered", "glue_values", "jupyter_book", "sphinx", "myst_nb",
                          "myst_parser", "sphinx_book_theme", "pybtex"})

def book_tooling() -> frozenset:
    """Module names that only the book's environment has: tools/, _ext/ and :data:`BOOK_TOOLING`."""
    local = {p.stem for folder in ("tools", "_ext") for p in (ROOT / folder).glob("*.py")}
    return frozenset(local | BOOK_TOOLING)


def _imported(node) -> list[str]:
    """The modules an import statement imports (``from fairnotes import fairgp`` -> ``fairnotes.fairgp``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return []


def _is_gp_module(name: str) -> bool:
    return name.split(".")[0] in GP_MODULES or name == GP_PACKAGE_MODULE or name.startswith(GP_PACKAGE_MODULE + ".")


#: Commands of the book's environment that a test may run.
BOOK_COMMANDS = frozenset({"jupyter-book", "jupyter_book"})

_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


def _guarded(handler: ast.ExceptHandler) -> bool:
    """Whether an ``except`` clause catches a failed import."""
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(k, ast.Name) and k.id in _IMPORT_ERRORS for k in kinds)


def _walk(nodes):
    """Every node under ``nodes``, leaving out the bodies of ``try`` blocks that catch ImportError
    (code that copes with a missing module does not need it)."""
    todo = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.Try) and any(_guarded(h) for h in node.handlers):
            todo += node.handlers + node.orelse + node.finalbody
        else:
            todo += list(ast.iter_child_nodes(node))


_IMPORTING_CALLS = {"importorskip", "import_module", "__import__", "find_spec"}


def _called(call: ast.Call) -> str:
    """The name of the called function (``pytest.importorskip`` -> ``importorskip``)."""
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _code_in(text: str):
    """The statements of a string that is Python code (handed to another interpreter), else None."""
    if "import" not in text:
        return None
    try:
        return ast.parse(textwrap.dedent(text)).body
    except (SyntaxError, ValueError):
        return None


def direct_needs(nodes, tooling: frozenset) -> set[str]:
    """``{"gp", "book"}`` or part of it: what the statements ``nodes`` need by themselves: an import
    (not inside ``try ... except ImportError``), a string naming a GP module
    (``pytest.importorskip("gpflow")``), a string of code with such an import, or the command
    ``jupyter-book``."""
    needs = set()
    for node in _walk(nodes):
        for name in _imported(node):
            if _is_gp_module(name):
                needs.add("gp")
            if name.split(".")[0] in tooling:
                needs.add("book")
        if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                and _called(node) in _IMPORTING_CALLS and _is_gp_module(str(node.args[0].value))):
            needs.add("gp")  # pytest.importorskip("gpflow"), importlib.import_module("fairnotes.fairgp")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            code = _code_in(node.value)
            if code and "gp" in direct_needs(code, tooling):
                needs.add("gp")
            if node.value in BOOK_COMMANDS:  # subprocess.run(["jupyter-book", "build", ...])
                needs.add("book")
    return needs


@functools.lru_cache(maxsize=None)
def module_needs(path: str) -> tuple[frozenset, dict]:
    """What the module at ``path`` needs at its top level, and what each of its functions needs
    (``name`` or ``Class.name`` -> needs), counting the functions of the module each one calls."""
    tree = ast.parse(Path(path).read_text(), filename=path)
    tooling = book_tooling()
    functions, top = {}, []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions[f"{node.name}.{item.name}"] = item
        else:
            top.append(node)
    direct = {name: direct_needs(fn.body, tooling) for name, fn in functions.items()}
    calls = {name: {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} & functions.keys()
             for name, fn in functions.items()}
    needs = {}
    for name in functions:  # everything a function reaches through the module's own functions
        seen, todo = {name}, [name]
        while todo:
            for callee in calls[todo.pop()] - seen:
                seen.add(callee)
                todo.append(callee)
        needs[name] = frozenset().union(*(direct[f] for f in seen))
    return frozenset(direct_needs(top, tooling)), needs


def function_needs(fn, *, top_level: bool = True) -> frozenset:
    """What a test or fixture function needs: its own (transitive) body and, with ``top_level``,
    its module's top level (a fixture's module, ``conftest.py`` say, does not count)."""
    fn = inspect.unwrap(fn)
    try:
        path = inspect.getsourcefile(fn)
    except TypeError:  # a builtin or C function
        return frozenset()
    if path is None or not path.endswith(".py") or not Path(path).exists():
        return frozenset()
    top, functions = module_needs(path)
    own = functions.get(fn.__qualname__.replace(".<locals>", ""))
    if own is None:  # defined inside another function or generated: read its own source
        try:
            own = frozenset(direct_needs(ast.parse(textwrap.dedent(inspect.getsource(fn))).body, book_tooling()))
        except (OSError, SyntaxError):
            own = frozenset()
    return (top | own) if top_level else own


def item_needs(item) -> set[str]:
    """What a collected test needs: ``gp`` and/or ``book`` (see the module's docstring)."""
    path = Path(str(item.fspath))
    if path.suffix == ".ipynb":  # a chapter under nbval
        return {"book"}
    needs = set()
    if path.stem in BOOK_MODULES:
        needs.add("book")
    fn = getattr(item, "function", None)
    if fn is not None:
        needs |= function_needs(fn)
    fixtureinfo = getattr(item, "_fixtureinfo", None)
    for defs in (fixtureinfo.name2fixturedefs.values() if fixtureinfo is not None else ()):
        for fixturedef in defs:
            func = getattr(fixturedef, "func", None)
            if func is not None and getattr(func, "__module__", "").split(".")[0] not in ("_pytest", "pytest"):
                needs |= function_needs(func, top_level=False)
    return needs


def mark(items) -> None:
    """Add the markers ``gp`` and ``book`` to the collected tests that need them."""
    import pytest

    for item in items:
        for name in sorted(item_needs(item)):
            if item.get_closest_marker(name) is None:
                item.add_marker(getattr(pytest.mark, name))


def core_test_files() -> list[Path]:
    """The test modules of CI's numpy-2 run: not in :data:`BOOK_MODULES` and needing neither GPflow
    nor the book's tools at their top level (such a module would fail or be skipped as a whole on
    import, before any marker is read). Their ``gp`` and ``book`` tests are then deselected by marker."""
    files = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        top, _ = module_needs(str(path))
        if path.stem not in BOOK_MODULES and not top:
            files.append(path)
    return files


if __name__ == "__main__":  # .ci/run: pytest -m "not gp and not book" $(python tests/environments.py)
    print(" ".join(str(p.relative_to(ROOT)) for p in core_test_files()))
