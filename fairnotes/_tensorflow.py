"""Importing TensorFlow without its start-up lines on the terminal or in a notebook: private.

TensorFlow's C++ core writes a few lines to the process's standard error when it is imported and
when it first looks for a GPU ("oneDNN custom operations are on", "Could not find cuda drivers",
"failed call to cuInit", ...). They come before absl's logging starts, so ``TF_CPP_MIN_LOG_LEVEL``
does not silence them, and Jupyter shows them in red under the cell. :func:`import_tensorflow`
imports TensorFlow with the file descriptor 2 pointed at a temporary file, then writes back every
line that is *not* one of those known start-up messages, so a real warning or error still reaches
the user.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager

#: Fragments of TensorFlow's start-up lines on a machine without a GPU (the whole line is dropped).
STARTUP_NOISE = (
    "oneDNN custom operations are on",
    "Could not find cuda drivers",
    "failed call to cuInit",
    "All log messages before absl::InitializeLog() is called",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "rebuild TensorFlow with the appropriate compiler flags",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "TF-TRT Warning: Could not find TensorRT",
    "cuda_dnn.cc", "cuda_fft.cc", "cuda_blas.cc",
)


def is_startup_noise(line: str) -> bool:
    """Whether ``line`` is one of TensorFlow's known start-up messages."""
    return any(fragment in line for fragment in STARTUP_NOISE)


@contextmanager
def quiet_startup():
    """Capture what is written to file descriptor 2 meanwhile; write back all but the start-up noise."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (an embedded interpreter): nothing to do
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except ValueError:
                pass
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not is_startup_noise(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def import_tensorflow():
    """``import tensorflow`` (and its first device look-up) without the start-up noise; returns the module."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with quiet_startup():
        import tensorflow as tf

        tf.constant(0.0)  # the first op looks for a GPU: cuInit's line comes now, not later
    return tf
