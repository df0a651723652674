"""fairnotes: the package behind the executable textbook *fairnotes*.

The package holds what a reader would reuse; the chapters in ``book/`` hold the story. Its layers:

* numpy and pandas only, imported with the package: :mod:`fairnotes.data`,
  :mod:`fairnotes.metrics`, :mod:`fairnotes.target_labels`, structural causal models with their
  true counterfactuals, :mod:`fairnotes.scm`, counterfactuals estimated from data, :mod:`fairnotes.shifts`,
  :mod:`fairnotes.runtime`, the papers' and the book's settings, :mod:`fairnotes.presets`, the
  recipes that train the book's shared models from them, :mod:`fairnotes.recipes` (torch and
  GPflow imported by the recipe that trains), and the stored paper-size runs, :mod:`fairnotes.runs`;
* imported when you import them: :mod:`fairnotes.baselines` (scipy and scikit-learn), the torch
  modules :mod:`fairnotes.models`, :mod:`fairnotes.sensitivity`, :mod:`fairnotes.adversarial`
  and :mod:`fairnotes.monitor`, and the TensorFlow/GPflow module
  :mod:`fairnotes.fairgp` (the ``gp`` extra, which pins numpy<2; the rest works with numpy 1 and 2);
* on top of them: :mod:`fairnotes.audit` (one audit for torch, GPflow, scikit-learn-style and
  plain callable models) and :mod:`fairnotes.evaluation` (the auditability paper's evaluation: match
  rates, ROC curves and flags from any model's predictions and sensitivities, and an audit card
  for one person, read from an audit of each of two models);
* figures and tables in the book's one style: :mod:`fairnotes.plots` (matplotlib and seaborn),
  :mod:`fairnotes.interactive` (Plotly) and :mod:`fairnotes.tables`.

Private plumbing (input checks, torch helpers, the training cache, the sensitivity defaults that
the light modules share with the torch one) lives in modules whose names start with an underscore. The API reference appendix of the book documents every public name.
"""

from fairnotes import data, metrics, presets, recipes, runs, runtime, scm, shifts, target_labels

__version__ = "0.3.0"

__all__ = ["data", "metrics", "presets", "recipes", "runs", "runtime", "scm", "shifts", "target_labels",
           "__version__"]
