"""Prediction sensitivity and smooth prediction sensitivity, batched, for any torch model.

Explained in the chapters :doc:`/book/sensitivity` and :doc:`/book/smooth_sensitivity`.

For a model ``F`` that returns one probability per row and the column ``a`` of the protected
attribute (Maughan & Near, 2020; Ngong, Maughan & Near, 2021):

* prediction sensitivity of a row ``x``: ``|dF(x)/da|``;
* smooth prediction sensitivity: ``max_i |dF(x + e_i)/da|`` over ``n`` Gaussian perturbations
  ``e_i ~ N(0, sigma^2 I)`` (the paper's worst case; ``reduce="mean"`` gives the SmoothGrad
  average of the absolute values instead);
* the counterfactual change: ``F(x with a flipped) - F(x)`` for a 0/1 column, what actually
  happens to the prediction when the person's group is changed and nothing else.

How it is computed
------------------
The rows do not interact in a model in eval mode (no dropout; batch norm uses its running
statistics), so the gradient of ``sum_rows F(x_row)`` with respect to the input matrix holds every
row's own gradient: one forward and one backward pass give the sensitivities of a whole batch
(``torch.autograd.grad`` with respect to the input only). While measuring, every submodule is in
eval mode and the parameters do not require gradients; both are restored afterwards, and the
parameters' ``.grad`` fields are never touched. The input is moved to the model's device (CPU or
CUDA) and dtype.

Memory bound
------------
Rows go through the model in chunks. With ``chunk_size=None`` the chunk is chosen so that one
pass needs at most about ``max_memory_mb`` (default 256 MB): a probe pass of a few rows measures
the bytes autograd keeps per row for the backward pass; the chunk holds
``max_memory_mb / (2 x those bytes + 3 x the bytes of one input row)`` rows (the factor 2 covers
the gradient buffers of the backward pass; the 3 input-sized tensors are the input, its noise
and its gradient). For the smooth version a chunk counts every perturbed copy, so it holds
``chunk / n_samples`` original rows. The result itself (``n`` values, or ``n x n_samples`` with
``reduce="none"``) comes on top.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager
from numbers import Integral

import numpy as np
import torch
from torch import nn

from fairnotes._torch import as_features, eval_mode
from fairnotes._validation import column_indices, nonnegative_number, one_of, positive_int, positive_number
from fairnotes import _sensitivity_defaults

__all__ = [
    "DEFAULT_SIGMA",
    "SMOOTH_N_SAMPLES",
    "prediction_sensitivity",
    "smooth_prediction_sensitivity",
    "counterfactual_change",
    "proxy_sensitivity",
    "smooth_proxy_sensitivity",
    "proxy_change",
]


#: Noise level of smooth prediction sensitivity, in standardized feature units, and the default
#: ``sigma`` of :func:`smooth_prediction_sensitivity` and :func:`smooth_proxy_sensitivity` (and of
#: :func:`fairnotes.audit.audit`). The paper gives none; the chapter :doc:`/book/smooth_sensitivity`
#: explains the choice and sweeps it. (The number lives in a module without torch, so that the light
#: modules :mod:`fairnotes.audit`, :mod:`fairnotes.evaluation` and :mod:`fairnotes.presets` share it.)
DEFAULT_SIGMA = _sensitivity_defaults.DEFAULT_SIGMA

#: Noise draws per person of smooth prediction sensitivity, the default ``n_samples``. The paper
#: states none; 50 is the number SmoothGrad's authors (Smilkov et al., 2017) used.
SMOOTH_N_SAMPLES = _sensitivity_defaults.SMOOTH_N_SAMPLES

_BLOCK_REDUCTIONS = ("l2", "l1", "max")
_PER_ROW_BYTES: "weakref.WeakKeyDictionary[nn.Module, dict]" = weakref.WeakKeyDictionary()


# --------------------------------------------------------------------------- validation

def _check_model(model):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _check_block(block):
    one_of("block", block, _BLOCK_REDUCTIONS)


# --------------------------------------------------------------------------- machinery

@contextmanager
def _measuring(model: nn.Module):
    """Eval mode and parameters frozen for the duration; each module's mode and flag restored."""
    params = [(p, p.requires_grad) for p in model.parameters()]
    with eval_mode(model):
        try:
            for p, _ in params:
                p.requires_grad_(False)
            yield
        finally:
            for p, flag in params:
                p.requires_grad_(flag)


def _forward(model, x):
    try:
        out = model(x)
    except RuntimeError as exc:
        raise ValueError(
            f"the model could not be applied to rows of width {x.shape[1]}: {exc}"
        ) from exc
    if not isinstance(out, torch.Tensor):
        raise ValueError(f"the model must return a tensor, got {type(out).__name__}")
    n = x.shape[0]
    if out.shape == (n, 1):
        out = out[:, 0]
    if out.shape != (n,):
        raise ValueError(
            f"the model must return one output per row (shape ({n},) or ({n}, 1)); "
            f"it returned shape {tuple(out.shape)}. For a multi-output model, wrap it so that it "
            "returns the output to audit, e.g. lambda x: model(x)[:, 0] inside an nn.Module"
        )
    return out


def _input_grad(model, x: torch.Tensor) -> torch.Tensor:
    """Gradient of each row's output with respect to that row: one batched backward pass."""
    with torch.enable_grad():
        xi = x.detach().requires_grad_(True)
        out = _forward(model, xi)
        if not out.requires_grad:  # the output does not depend on the input at all
            return torch.zeros_like(x)
        (g,) = torch.autograd.grad(out.sum(), xi)
    return g


def _per_row_bytes(model, width: int, device, dtype) -> int:
    """Bytes autograd saves per input row (probe passes on 8 and 16 rows), cached per model."""
    key = (width, str(device), str(dtype))
    cache = _PER_ROW_BYTES.setdefault(model, {})
    if key in cache:
        return cache[key]
    totals = []
    for rows in (8, 16):
        total = 0

        def pack(t):
            nonlocal total
            total += t.numel() * t.element_size()
            return t

        with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            x = torch.zeros(rows, width, device=device, dtype=dtype, requires_grad=True)
            _forward(model, x)
        totals.append(total)
    per_row = max((totals[1] - totals[0]) // 8, 0)
    elem = torch.empty((), dtype=dtype).element_size()
    cache[key] = int(2 * per_row + 3 * width * elem)
    return cache[key]


def _rows_per_pass(model, x, chunk_size, max_memory_mb) -> int:
    if chunk_size is not None:
        return positive_int("chunk_size", chunk_size)
    positive_number("max_memory_mb", max_memory_mb)
    per_row = _per_row_bytes(model, x.shape[1], x.device, x.dtype)
    return max(1, int(max_memory_mb * 2**20 // max(per_row, 1)))


def _reduce_block(g: torch.Tensor, block: str) -> torch.Tensor:
    """``g[..., k]`` -> ``[...]``: |g| for one column, else the chosen norm over the block."""
    if g.shape[-1] == 1:
        return g[..., 0].abs()
    if block == "l2":
        return torch.linalg.vector_norm(g, dim=-1)
    if block == "l1":
        return g.abs().sum(dim=-1)
    return g.abs().amax(dim=-1)


def _prepare(model, X, s_column):
    _check_model(model)
    x = as_features(X, model)
    cols = column_indices("s_column", s_column, x.shape[1])
    return x, cols


def _noise_settings(n_samples, sigma, reduce, seed) -> tuple[int, torch.Generator | None]:
    """The smooth measures' settings, checked: the number of draws and the noise generator."""
    n_samples = positive_int("n_samples", n_samples)
    nonnegative_number("sigma", sigma)
    one_of("reduce", reduce, ("max", "mean", "none"))
    return n_samples, _generator(seed)


def _generator(seed) -> torch.Generator | None:
    """A CPU generator for an integer seed; a generator or ``None`` as given."""
    if isinstance(seed, Integral) and not isinstance(seed, bool):
        return torch.Generator().manual_seed(int(seed))
    if seed is None or isinstance(seed, torch.Generator):
        return seed
    raise TypeError(f"seed must be an integer, a torch.Generator or None, got {type(seed).__name__}")


def _columns(cols: list[int]):
    """An index for ``g[:, idx]`` that keeps the last dimension: a slice for one column (no copy)."""
    return slice(cols[0], cols[0] + 1) if len(cols) == 1 else cols


# --------------------------------------------------------------------------- public API

def prediction_sensitivity(
    model: nn.Module,
    X,
    s_column,
    *,
    block: str = "l2",
    signed: bool = False,
    chunk_size: int | None = None,
    max_memory_mb: float = 256,
) -> np.ndarray:
    """Prediction sensitivity ``|dF(x)/da|`` of every row of ``X``, one batched backward pass.

    Parameters
    ----------
    model
        A torch module returning one output per row (shape ``(n,)`` or ``(n, 1)``), e.g. the
        probabilities of :class:`fairnotes.models.LinearNet`. Measured in eval mode (dropout
        off); its mode, its parameters' ``requires_grad`` and ``.grad`` are left as they were.
    X
        Rows ``(n, d)``, a numpy array or a tensor (moved to the model's device and dtype).
        Must be finite.
    s_column
        Column index of the protected attribute, or a list of indices for a one-hot block.
    block
        How a block's partial derivatives ``g_1..g_k`` are reduced to one number per row:
        ``"l2"`` (default) the Euclidean norm ``sqrt(sum g_j^2)``, the steepest rate of change
        of ``F`` within the block's coordinates; ``"l1"`` ``sum |g_j|``; ``"max"`` ``max |g_j|``.
        For one column every choice gives ``|g|``.
    signed
        Return ``dF/da`` with its sign instead of its absolute value (one column only).
    chunk_size, max_memory_mb
        Rows per forward-backward pass; ``None`` sizes chunks to stay within about
        ``max_memory_mb`` (see the module docstring for the bound).

    Returns
    -------
    numpy.ndarray of shape ``(n,)``, in the model's dtype.

    Raises ``TypeError`` for a model that is not a module or input that is not an array, and
    ``ValueError`` for input of the wrong shape or width, NaN or infinite values, an attribute
    index out of range (or repeated), or a model that does not return one output per row.

    See the chapter :doc:`/book/sensitivity`.

    Examples
    --------
    A logistic model ``F(x) = sigmoid(2 a - x_1)`` that reads the attribute ``a`` in column 0. Its
    sensitivity is ``|dF/da| = 2 F (1 - F)``: largest, 0.5, where ``F = 0.5``.

    >>> import numpy as np
    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    >>> with torch.no_grad():
    ...     model[0].weight[:] = torch.tensor([[2.0, -1.0]])
    ...     model[0].bias[:] = 0.0
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    >>> prediction_sensitivity(model, X, 0).round(3)
    array([0.5  , 0.21 , 0.393], dtype=float32)
    >>> round(float(prediction_sensitivity(model, X, 0, signed=True)[1]), 3)   # F rises with a
    0.21
    """
    x, cols = _prepare(model, X, s_column)
    _check_block(block)
    if signed and len(cols) != 1:
        raise ValueError("signed=True needs a single attribute column, not a block")
    idx = _columns(cols)
    parts = []
    with _measuring(model):
        step = _rows_per_pass(model, x, chunk_size, max_memory_mb)
        for start in range(0, x.shape[0], step):
            g = _input_grad(model, x[start:start + step])[:, idx]
            parts.append(g[:, 0].clone() if signed else _reduce_block(g, block))
    out = parts[0] if len(parts) == 1 else torch.cat(parts)
    return out.detach().cpu().numpy()


def smooth_prediction_sensitivity(
    model: nn.Module,
    X,
    s_column,
    n_samples: int = SMOOTH_N_SAMPLES,
    sigma: float = DEFAULT_SIGMA,
    seed: torch.Generator | int | None = None,
    reduce: str = "max",
    *,
    perturb_s_column: bool = True,
    block: str = "l2",
    chunk_size: int | None = None,
    max_memory_mb: float = 256,
) -> np.ndarray:
    """Smooth prediction sensitivity: the worst (or mean) ``|dF/da|`` over Gaussian neighbours.

    For every row ``x`` of ``X``, draws ``n_samples`` perturbations ``e_i ~ N(0, sigma^2 I)`` and
    returns ``max_i |dF(x + e_i)/da|`` (``reduce="max"``, the paper's definition),
    ``mean_i |dF(x + e_i)/da|`` (``reduce="mean"``, SmoothGrad's average applied to the absolute
    value, as Captum's ``NoiseTunnel(Saliency(model))`` computes it) or every value
    (``reduce="none"``, shape ``(n, n_samples)``). All perturbed copies of a chunk of rows go
    through the model in one batched forward-backward pass.

    Parameters
    ----------
    model, X, s_column, block, chunk_size, max_memory_mb
        As in :func:`prediction_sensitivity`; here a chunk counts perturbed copies, so it holds
        ``chunk_size // n_samples`` original rows (at least one).
    n_samples
        Number of perturbations per row (the paper states none; SmoothGrad used 50).
    sigma
        Standard deviation of the noise, in the units of ``X``. The default 0.1 is a tenth of a
        standard deviation for the standardized columns of :func:`fairnotes.data.split` (e.g.
        about 1.3 years of age on Adult): a neighbourhood of *similar* people, about 1-2% of the
        range of a standardized column, well below SmoothGrad's advice of 10-20% of the input
        range (made for images); only a raw 0/1 column moves by 10% of its range.
        ``sigma=0`` gives the plain measure.
        The chapter :doc:`/book/smooth_sensitivity` sweeps it.
    seed
        An integer seed (for a new CPU :class:`torch.Generator`) or a generator for the noise;
        ``None`` uses torch's global random state. Noise is drawn chunk by chunk as
        ``torch.randn(n_samples, rows_in_chunk, d)``: the same generator state, inputs and
        ``chunk_size`` give the same values. A generator on another device than the model is
        fine (the noise is moved).
    reduce
        ``"max"`` (default), ``"mean"`` or ``"none"``.
    perturb_s_column
        Add noise to the protected column(s) too (default ``True``, the paper's formula adds
        ``N(0, sigma^2)`` to the whole row). The protected column is 0/1, so its noisy values lie
        between the groups; the derivative there is part of the path from one group to the
        other (the counterfactual change is the integral of ``dF/da`` over ``a`` from 0 to 1),
        which is why the book keeps it. ``False`` keeps the column at its 0/1 value and
        perturbs only the other features.

    Returns
    -------
    numpy.ndarray of shape ``(n,)`` (or ``(n, n_samples)`` for ``reduce="none"``).

    Raises as :func:`prediction_sensitivity`, and ``ValueError`` for a bad ``n_samples``,
    ``sigma`` or ``reduce``.

    See the chapter :doc:`/book/smooth_sensitivity`.

    Examples
    --------
    The model of :func:`prediction_sensitivity`'s example, ``F(x) = sigmoid(2 a - x_1)``, whose
    plain sensitivities are 0.5, 0.21 and 0.393 for these three rows:

    >>> import numpy as np
    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    >>> with torch.no_grad():
    ...     model[0].weight[:] = torch.tensor([[2.0, -1.0]])
    ...     model[0].bias[:] = 0.0
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)

    The worst case over 20 neighbours each, with a large ``sigma`` to make the effect visible: the
    third row has neighbours near the decision boundary, where the sensitivity is 0.5; the first
    row sits on it, so its neighbours can only be less sensitive than the row itself.

    >>> smooth_prediction_sensitivity(model, X, 0, n_samples=20, sigma=0.5, seed=0).round(3)
    array([0.496, 0.434, 0.5  ], dtype=float32)
    >>> smooth_prediction_sensitivity(model, X, 0, n_samples=20, sigma=0.5, seed=0, reduce="mean").round(3)
    array([0.408, 0.214, 0.3  ], dtype=float32)
    >>> smooth_prediction_sensitivity(model, X, 0, sigma=0.0).round(3)   # no noise: the plain measure
    array([0.5  , 0.21 , 0.393], dtype=float32)
    """
    # long only by its docstring (the parameters and doctests); the body is ~30 lines
    x, cols = _prepare(model, X, s_column)
    _check_block(block)
    n_samples, generator = _noise_settings(n_samples, sigma, reduce, seed)
    n, d = x.shape
    noise_device = generator.device if generator is not None else x.device
    keep = None
    if not perturb_s_column:
        keep = torch.ones(d, dtype=x.dtype, device=x.device)
        keep[cols] = 0
    shape_out = (n, n_samples) if reduce == "none" else (n,)
    out = torch.empty(shape_out, dtype=x.dtype, device=x.device)
    with _measuring(model):
        step = max(1, _rows_per_pass(model, x, chunk_size, max_memory_mb) // n_samples)
        for start in range(0, n, step):
            xc = x[start:start + step]
            r = xc.shape[0]
            noise = torch.randn((n_samples, r, d), generator=generator, device=noise_device, dtype=x.dtype)
            noise = noise.to(x.device)
            if keep is not None:
                noise.mul_(keep)
            xs = torch.addcmul(xc.unsqueeze(0), noise, torch.tensor(sigma, dtype=x.dtype, device=x.device))
            g = _input_grad(model, xs.reshape(n_samples * r, d))[:, _columns(cols)]
            s = _reduce_block(g, block).reshape(n_samples, r)
            if reduce == "max":
                out[start:start + r] = s.amax(dim=0)
            elif reduce == "mean":
                out[start:start + r] = s.mean(dim=0)
            else:
                out[start:start + r] = s.T
    return out.cpu().numpy()


def counterfactual_change(model: nn.Module, X, s_column, *, batch_size: int = 8192) -> np.ndarray:
    """``F(x with the 0/1 column s_column flipped) - F(x)`` for every row, a signed numpy array.

    What actually happens to a person's prediction when their group is changed and every other
    feature is kept: for a row with ``a = 1`` the value is ``F(a=0) - F(a=1)``, for ``a = 0`` it
    is ``F(a=1) - F(a=0)``. (``F(a=1) - F(a=0)`` for every row is ``change * (1 - 2 a)``.)
    Computed in eval mode under :func:`torch.inference_mode`; the model's mode is restored.
    ``s_column`` must be one column holding only 0 and 1 (else ``ValueError``); the model must
    return one output per row.

    Note that the other features are *not* changed: a flip of the protected column alone is
    not what a person of the other group with the same story would look like, since features
    correlated with the group (proxies) stay as they were. See the chapter
    :doc:`/book/sensitivity`, section "Does it track what happens when the group changes?".
    """
    x, cols = _prepare(model, X, s_column)
    if len(cols) != 1:
        raise ValueError("counterfactual_change needs a single 0/1 attribute column, not a block")
    (a,) = cols
    if not torch.isin(x[:, a], torch.tensor([0.0, 1.0], dtype=x.dtype, device=x.device)).all():
        raise ValueError(f"column {a} must hold only 0 and 1 to be flipped (is it the raw protected column?)")
    batch_size = positive_int("batch_size", batch_size)
    out = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
    with eval_mode(model), torch.inference_mode():
        for start in range(0, x.shape[0], batch_size):
            xc = x[start:start + batch_size]
            flipped = xc.clone()
            flipped[:, a] = 1 - flipped[:, a]
            out[start:start + batch_size] = _forward(model, flipped) - _forward(model, xc)
    return out.cpu().numpy()


# --------------------------------------------------------------------------- through proxies

def _directions(model, X, X_cf):
    _check_model(model)
    x = as_features(X, model, "X")
    x_cf = as_features(X_cf, model, "X_cf")
    if x_cf.shape != x.shape:
        raise ValueError(f"X_cf must have the shape of X, {tuple(x.shape)}; got {tuple(x_cf.shape)}")
    return x, x_cf - x


def proxy_sensitivity(model: nn.Module, X, X_cf, *, signed: bool = False, chunk_size: int | None = None,
                      max_memory_mb: float = 256) -> np.ndarray:
    """Proxy sensitivity ``|grad F(x) . (x_cf - x)|`` of every row: the directional derivative
    of the prediction towards the person's counterfactual features.

    ``X_cf`` holds each person's counterfactual features, as the model reads them: estimated
    from data by :func:`fairnotes.shifts.fit_shift` (or known, for synthetic data), with
    the protected column flipped too when the model reads it. Where prediction sensitivity moves
    one coordinate, this moves every feature that descends from the protected attribute, so it
    is not zero for a model that never reads the attribute but reads its proxies. It is the
    first-order estimate of :func:`counterfactual_change`'s analogue ``F(x_cf) - F(x)``. One
    forward and one backward pass per chunk of rows, as :func:`prediction_sensitivity`;
    ``signed=True`` keeps the sign. See the chapter :doc:`/book/proxies`.
    """
    x, direction = _directions(model, X, X_cf)
    parts = []
    with _measuring(model):
        step = _rows_per_pass(model, x, chunk_size, max_memory_mb)
        for start in range(0, x.shape[0], step):
            g = _input_grad(model, x[start:start + step])
            v = torch.linalg.vecdot(g, direction[start:start + step])
            parts.append(v if signed else v.abs())
    out = parts[0] if len(parts) == 1 else torch.cat(parts)
    return out.detach().cpu().numpy()


def smooth_proxy_sensitivity(model: nn.Module, X, X_cf, n_samples: int = SMOOTH_N_SAMPLES, sigma: float = DEFAULT_SIGMA,
                             seed: torch.Generator | int | None = None, reduce: str = "max", *,
                             chunk_size: int | None = None, max_memory_mb: float = 256) -> np.ndarray:
    """Smooth proxy sensitivity: the worst (``reduce="max"``) or mean ``|grad F(x + e) . (x_cf - x)|``
    over ``n_samples`` Gaussian perturbations ``e ~ N(0, sigma^2 I)`` of the whole row.

    The direction ``x_cf - x`` is the person's own, at every perturbed point; noise, seeding and
    chunking as in :func:`smooth_prediction_sensitivity` (``reduce="none"`` returns every value).
    See the chapter :doc:`/book/proxies`.
    """
    x, direction = _directions(model, X, X_cf)
    n_samples, generator = _noise_settings(n_samples, sigma, reduce, seed)
    n, d = x.shape
    noise_device = generator.device if generator is not None else x.device
    out = torch.empty((n, n_samples) if reduce == "none" else (n,), dtype=x.dtype, device=x.device)
    with _measuring(model):
        step = max(1, _rows_per_pass(model, x, chunk_size, max_memory_mb) // n_samples)
        for start in range(0, n, step):
            xc, dc = x[start:start + step], direction[start:start + step]
            r = xc.shape[0]
            noise = torch.randn((n_samples, r, d), generator=generator, device=noise_device, dtype=x.dtype).to(x.device)
            xs = xc.unsqueeze(0) + sigma * noise
            g = _input_grad(model, xs.reshape(n_samples * r, d)).reshape(n_samples, r, d)
            v = (g * dc.unsqueeze(0)).sum(dim=-1).abs()
            out[start:start + r] = v.amax(dim=0) if reduce == "max" else v.mean(dim=0) if reduce == "mean" else v.T
    return out.cpu().numpy()


def proxy_change(model: nn.Module, X, X_cf, *, batch_size: int = 8192) -> np.ndarray:
    """``F(x_cf) - F(x)`` for every row: what the prediction does when every feature is moved to the
    person's counterfactual (see :func:`proxy_sensitivity`). See the chapter :doc:`/book/proxies`."""
    x, direction = _directions(model, X, X_cf)
    batch_size = positive_int("batch_size", batch_size)
    out = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
    with eval_mode(model), torch.inference_mode():
        for start in range(0, x.shape[0], batch_size):
            xc = x[start:start + batch_size]
            out[start:start + batch_size] = _forward(model, xc + direction[start:start + batch_size]) - _forward(model, xc)
    return out.cpu().numpy()
