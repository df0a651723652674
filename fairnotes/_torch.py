"""Torch plumbing shared by the torch layer (models, sensitivity, adversarial): private.

Where a model lives (device, dtype), turning user input into tensors on it with checks that name
the problem, running a model in eval mode and restoring every submodule's own mode, and running a
block of code with a given number of torch threads.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch
from torch import nn


def device_of(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (or buffer); the CPU for a model with neither."""
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("cpu")


def dtype_of(model: nn.Module) -> torch.dtype:
    """The dtype of the model's first floating-point parameter; float32 for a model with none."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def as_features(X, model: nn.Module, name: str = "X") -> torch.Tensor:
    """Rows ``(n, d)`` (numpy, pandas or torch) as a finite tensor on the model's device and dtype.

    ``d`` must equal ``model.n_features`` when the model has that attribute.
    """
    if isinstance(X, pd.DataFrame):
        X = X.to_numpy()
    if isinstance(X, torch.Tensor):
        t = X.detach()
    elif isinstance(X, np.ndarray):
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}")
        X = np.ascontiguousarray(X)
        t = torch.from_numpy(X if X.flags.writeable else X.copy())  # torch refuses read-only memory
    else:
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(X).__name__}")
    if t.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows x features), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} has no rows")
    width = getattr(model, "n_features", None)
    if width is not None and t.shape[1] != width:
        raise ValueError(f"{name} has {t.shape[1]} columns but the model expects {width} features")
    t = t.to(device=device_of(model), dtype=dtype_of(model))
    # a NaN or an infinity anywhere makes the sum non-finite: one reduction on the fast path, the
    # elementwise check only to confirm (a finite matrix whose sum overflows passes)
    if not torch.isfinite(t.sum()) and not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


def as_targets(y, n_rows: int, n_outputs: int, device, dtype, name: str = "y") -> torch.Tensor:
    """0/1 targets of shape ``(n_rows,)`` (one output) or ``(n_rows, n_outputs)`` as a tensor."""
    t = y.detach() if isinstance(y, torch.Tensor) else torch.as_tensor(np.array(y))  # a copy: y may be read-only
    if n_outputs == 1 and t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    expected = (n_rows,) if n_outputs == 1 else (n_rows, n_outputs)
    if tuple(t.shape) != expected:
        raise ValueError(f"{name} must have shape {expected}, got {tuple(t.shape)}")
    t = t.to(device=device, dtype=dtype)
    if not torch.isin(t, torch.tensor([0.0, 1.0], dtype=dtype, device=device)).all():
        raise ValueError(f"{name} must hold only 0 and 1")
    return t


class eval_mode:
    """Put every submodule in eval mode and restore each one's own mode on exit."""

    def __init__(self, model: nn.Module):
        self.model = model

    def __enter__(self):
        self.modes = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        return self.model

    def __exit__(self, *exc):
        for m, mode in self.modes:
            m.training = mode
        return False


@contextmanager
def num_threads(n: int | None):
    """Run with ``n`` torch threads (``None``: leave torch's setting), restoring it afterwards."""
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)
