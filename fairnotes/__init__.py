"""fairnotes: the package behind the executable textbook *fairnotes*.

The package holds what a reader would reuse; the chapters in ``book/`` hold the story.
Importing ``fairnotes`` is light: it loads only numpy and pandas. The torch code
(:mod:`fairnotes.models`, :mod:`fairnotes.sensitivity`, :mod:`fairnotes.adversarial`) and the
TensorFlow/GPflow code (:mod:`fairnotes.fairgp`) are imported only when you import those modules.
"""

from fairnotes import data, metrics, runtime

__version__ = "0.1.0"

__all__ = ["data", "metrics", "runtime", "__version__"]
