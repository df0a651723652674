"""The examples in the package's docstrings run as doctests (issue #27: docstrings that teach).

A wrong printed value, or an example that raises where it should not, fails here. The examples
use tiny seeded data, never the datasets, so each module's examples run in about a second;
FairGP's (TensorFlow) are a separate test, which ``tests/environments.py`` marks ``gp``.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from pathlib import Path

import pytest

import fairnotes

#: The public names a reader calls first, by module: each must show an example.
EXAMPLES = {
    "fairnotes.data": ["split"],
    "fairnotes.metrics": ["selection_rate", "true_positive_rate", "disparate_impact", "p_percent_rule",
                          "ntpr_diff", "per_group", "roc_auc"],
    "fairnotes.target_labels": ["parity_parameters", "parameters_from_rates", "opportunity_parameters"],
    "fairnotes.shifts": ["fit_shift"],
    "fairnotes.sensitivity": ["prediction_sensitivity", "smooth_prediction_sensitivity"],
    "fairnotes.audit": ["audit"],
    "fairnotes.evaluation": ["audit_card"],
    "fairnotes.models": ["TargetLabelLoss", "train"],
    "fairnotes.adversarial": ["train_adversarial"],
}
#: Needs TensorFlow and GPflow (the ``gp`` extra): run by :func:`test_fairgp_examples`.
GP_EXAMPLES = {"fairnotes.fairgp": ["FairGP"]}


def run_examples(module) -> tuple[int, int, str]:
    """Run every example of ``module``'s docstrings: ``(attempted, failed, report)``."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = io.StringIO()
    for test in finder.find(module, module.__name__):
        runner.run(test, out=out.write)
    attempted, failed = runner.tries, runner.failures
    return attempted, failed, out.getvalue()


def check_module(name: str, required: list[str]) -> None:
    module = importlib.import_module(name)
    for public in required:
        doc = getattr(module, public).__doc__ or ""
        assert "Examples\n" in doc and ">>>" in doc, f"{name}.{public} has no Examples section with a doctest"
    attempted, failed, report = run_examples(module)
    assert attempted > 0, f"no example ran in {name}"
    assert failed == 0, f"{failed} of {attempted} examples of {name} failed:\n{report}"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples(name):
    check_module(name, EXAMPLES[name])


def test_fairgp_examples():
    import fairnotes.fairgp  # noqa: F401  (marks this test gp)

    for name, required in GP_EXAMPLES.items():
        check_module(name, required)


def test_every_module_with_examples_is_run_here():
    """A module whose docstrings have examples but is missing from the lists would go unchecked."""
    root = Path(fairnotes.__file__).parent
    with_examples = {f"fairnotes.{m.name}" for m in pkgutil.iter_modules([str(root)])
                     if ">>>" in (root / f"{m.name}.py").read_text()}
    missing = with_examples - set(EXAMPLES) - set(GP_EXAMPLES)
    assert not missing, f"docstring examples that no test runs: {sorted(missing)}"


def test_a_wrong_printed_value_fails():
    """The runner above compares what an example prints with what its docstring says."""
    import types

    module = types.ModuleType("fairnotes_doctest_probe")
    module.__doc__ = ">>> 1 + 1\n3\n"
    attempted, failed, report = run_examples(module)
    assert (attempted, failed) == (1, 1) and "Expected:\n    3\nGot:\n    2" in report
