"""The defaults of :mod:`fairnotes.sensitivity`, in a module that imports nothing.

:mod:`fairnotes.sensitivity` imports torch at import time; :mod:`fairnotes.audit`,
:mod:`fairnotes.evaluation` and :mod:`fairnotes.presets` are light (numpy and pandas) and need the
same defaults without torch. So the numbers live here, and :mod:`fairnotes.sensitivity` names and
documents them (:data:`fairnotes.sensitivity.DEFAULT_SIGMA`,
:data:`fairnotes.sensitivity.SMOOTH_N_SAMPLES`); the others import them from here.
"""

#: Noise level of smooth prediction sensitivity, in standardized feature units.
DEFAULT_SIGMA = 0.1

#: Noise draws per person of smooth prediction sensitivity.
SMOOTH_N_SAMPLES = 50
