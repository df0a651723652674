"""Auditing a deployed model: every prediction with its measures, a windowed monitor, a CUSUM alarm.

Explained in the chapter :doc:`/book/deployed`.

* :class:`AuditedModel` wraps a torch model. :meth:`AuditedModel.serve` returns, for a batch of
  people, the probability, the decision, the prediction sensitivity ``|dF/da|`` (when the model
  reads the protected column) and the proxy sensitivity ``|grad F(x) . (x' - x)|`` (when given a
  fitted :class:`fairnotes.shifts.Shift`), all from **one** batched forward and backward
  pass per chunk of rows. For a mean or linear shift the direction ``x' - x`` is the same vector
  for everyone up to its sign, so the proxy sensitivity needs no protected attribute at
  prediction time.
* :class:`Cusum` is a one-sided Bernoulli CUSUM on the share of flagged predictions: it adds, per
  window of ``n`` people with ``k`` flagged, the log-likelihood ratio of a flagged share ``p1``
  against the reference share ``p0``, never goes below 0, and raises an alarm above its
  threshold ``h``. :meth:`Cusum.calibrate` sets ``h`` by simulating streams without change, so
  that the probability of at least one alarm within ``horizon`` windows is the false-alarm rate
  the auditor chooses.
* :class:`WindowedMonitor` takes the served batches, closes a window every ``window`` people and
  records one row per window: the flagged share, the mean measures, the CUSUM statistic and its
  alarm, and, from the people whose attribute is recorded, the selection rate per group,
  disparate impact and a quantile demographic drift (after FairCanary's QDD). It keeps the
  current window's rows only, so its memory is bounded by the window, whatever the length of
  the stream (plus one short row per closed window, or the last ``max_windows`` of them).
"""

from __future__ import annotations

import copy
from collections import deque

import numpy as np
import pandas as pd

from fairnotes._validation import column_index, fraction, nonnegative_number, positive_int, positive_number

__all__ = ["AuditedModel", "Cusum", "WindowedMonitor", "quantile_demographic_drift"]

_CONSTANT_DIRECTION = {"mean", "linear", "fixed"}
_NEEDED = ["probability", "prediction", "flagged"]
_MEASURES = ["sensitivity", "proxy_sensitivity"]


# --------------------------------------------------------------------------- the audited model

class AuditedModel:
    """A torch model that returns every prediction with its audit; see :doc:`/book/deployed`.

    Parameters
    ----------
    model
        A torch module returning one probability per row (shape ``(n,)`` or ``(n, 1)``).
    s_column
        The protected column in the model's inputs, or ``None`` when the model does not read it
        (then there is no ``sensitivity`` column).
    shift
        A fitted :class:`fairnotes.shifts.Shift` (:func:`fairnotes.shifts.fit_shift`)
        for the proxy sensitivity, or ``None``.
    flag_threshold
        A prediction is flagged when its ``flag_by`` value is above this; ``None`` flags nothing
        until :meth:`calibrate` sets it.
    threshold
        The decision threshold on the probability (default 0.5).
    chunk_size
        Rows per forward-backward pass: the memory of a call is bounded by the chunk.

    Notes
    -----
    The audited model serves a frozen copy of ``model`` in eval mode, made when it is created: a
    model retrained later is a new ``AuditedModel``, as it is a new deployment.
    """

    def __init__(self, model, *, s_column: int | None = None, shift=None, flag_threshold: float | None = None,
                 threshold: float = 0.5, chunk_size: int = 4096):
        import torch

        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if s_column is None and shift is None:
            raise ValueError("nothing to audit: give s_column (the model reads the attribute), shift (proxies) or both")
        self.model, self.shift = model, shift
        self.n_features = getattr(model, "n_features", None)
        if shift is not None:
            self.n_features = shift.n_features
        self.s_column = None if s_column is None else column_index("s_column", s_column, self.n_features or 10**9)
        self.threshold = fraction("threshold", threshold)
        self.chunk_size = positive_int("chunk_size", chunk_size)
        self.flag_threshold = None if flag_threshold is None else positive_number("flag_threshold", flag_threshold)
        self.direction = self._constant_direction() if shift is not None else None
        # the model served: a frozen copy in eval mode, made once (no mode or flag to switch per batch)
        self._net = copy.deepcopy(model).eval()
        for p in self._net.parameters():
            p.requires_grad_(False)
        from fairnotes._torch import dtype_of

        self._dtype = dtype_of(self._net)
        self._direction = None if self.direction is None else torch.as_tensor(self.direction, dtype=self._dtype)
        self._layers = _relu_layers(self._net)
        self._tangents = None
        if self._layers is not None and (self.shift is None or self._direction is not None):
            tangents = [] if self._direction is None else [self._direction]
            if self.s_column is not None:
                e = torch.zeros(self._layers[0][0].shape[1], dtype=self._dtype)
                e[self.s_column] = 1.0
                tangents.append(e)
            self._tangents = torch.stack(tangents)
        self.method = ("forward mode (a ReLU network's directional derivatives along with its forward pass)"
                       if self._tangents is not None else "one backward pass (torch autograd)")

    @property
    def flag_by(self) -> str:
        """The measure that flags a prediction: ``"proxy_sensitivity"`` with a shift, else ``"sensitivity"``."""
        return "proxy_sensitivity" if self.shift is not None else "sensitivity"

    def _constant_direction(self):
        """``x' - x`` for a person of group 0 (group 1 gets its negative), or None for a shift whose
        direction differs from person to person (quantile)."""
        if not set(self.shift.methods) <= _CONSTANT_DIRECTION:
            return None
        Z = np.zeros((1, self.shift.n_features))
        if self.shift.feature_names is not None:
            Z = pd.DataFrame(Z, columns=list(self.shift.feature_names))
        return np.asarray(self.shift.counterfactual(Z, np.zeros(1, dtype=int)), dtype=np.float64)[0]

    def _directions(self, X: np.ndarray, s) -> np.ndarray:
        if self.direction is not None:
            return np.broadcast_to(self.direction, X.shape)
        if s is None:
            raise ValueError(f"this shift ({', '.join(sorted(set(self.shift.methods)))}) moves each person by their own "
                             "amount: serve(X, s=...) needs the protected attribute of every row; a mean or linear "
                             "shift does not")
        s = np.asarray(s)
        if s.shape != (len(X),) or not np.isin(s, (0, 1)).all():
            raise ValueError(f"s must hold one 0/1 value per row of X ({len(X)}), got shape {s.shape}")
        Z = X if self.shift.feature_names is None else pd.DataFrame(X, columns=list(self.shift.feature_names))
        return np.asarray(self.shift.counterfactual(Z, s), dtype=np.float64) - X

    def _rows(self, X):
        """``X`` as a finite tensor in the model's dtype, of the width the model expects."""
        import torch

        if isinstance(X, pd.DataFrame):
            X = X.to_numpy()
        if not isinstance(X, (np.ndarray, torch.Tensor)):
            raise TypeError(f"X must be a numpy array, a DataFrame or a tensor, got {type(X).__name__}")
        x = torch.as_tensor(np.asarray(X) if isinstance(X, np.ndarray) else X.detach(), dtype=self._dtype)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"X must be a non-empty 2-D array (people x features), got shape {tuple(x.shape)}")
        if self.n_features is not None and x.shape[1] != self.n_features:
            raise ValueError(f"X has {x.shape[1]} columns but the audited model expects {self.n_features}")
        # one reduction on the fast path (a NaN or an infinity makes the sum non-finite); the
        # elementwise check only when it is not finite
        if not bool(torch.isfinite(x.sum())) and not bool(torch.isfinite(x).all()):
            raise ValueError(f"X contains NaN or infinite values ({int((~torch.isfinite(x)).sum())} entries)")
        return x

    def serve(self, X, *, s=None, as_frame: bool = True):
        """Predictions of the rows ``X`` with their measures, from one pass per chunk of rows.

        Returns a DataFrame with ``probability``, ``prediction`` (0/1 at ``threshold``),
        ``sensitivity`` (with ``s_column``), ``proxy_sensitivity`` (with a shift) and ``flagged``;
        with ``as_frame=False`` a dict of those numpy arrays (no pandas on the serving path).
        ``s`` is needed only for a shift whose direction differs from person to person. Raises
        ``ValueError`` for rows of the wrong width or with NaN.

        How: for the book's ReLU networks and logistic regression under a mean or linear shift,
        the directional derivatives ride along with the forward pass (forward mode: a constant
        direction stays one vector through the first layer and is then masked by each ReLU); for
        any other model, one forward and one backward pass (autograd) per chunk. ``method`` says
        which. See :doc:`/book/deployed`.
        """
        import torch

        x_all = self._rows(X)
        if self.shift is not None and self._direction is None:
            V = torch.as_tensor(self._directions(x_all.double().numpy(), s), dtype=self._dtype)
        else:
            V = None
        n = x_all.shape[0]
        prob, sens, proxy = (torch.empty(n, dtype=self._dtype) for _ in range(3))
        if self._tangents is not None:
            parts = [_forward_mode(self._layers, x_all[i:i + self.chunk_size], self._tangents)
                     for i in range(0, n, self.chunk_size)]
            p, dp = parts[0] if len(parts) == 1 else (torch.cat([q for q, _ in parts]), torch.cat([d for _, d in parts]))
            return self._table(p, dp[:, -1].abs() if self.s_column is not None else None,
                               dp[:, 0].abs() if self._direction is not None else None, n, as_frame)
        with torch.enable_grad():
            for start in range(0, n, self.chunk_size):
                rows = slice(start, start + self.chunk_size)
                x = x_all[rows].requires_grad_(True)
                out = self._net(x)
                if out.numel() != x.shape[0]:
                    raise ValueError(f"the model must return one probability per row, got shape {tuple(out.shape)}")
                (g,) = torch.autograd.grad(out.sum(), x)
                prob[rows] = out.detach().reshape(-1)
                if self.s_column is not None:
                    sens[rows] = g[:, self.s_column].abs()
                if self._direction is not None:
                    proxy[rows] = (g @ self._direction).abs()
                elif V is not None:
                    proxy[rows] = (g * V[rows]).sum(dim=1).abs()
        return self._table(prob, sens, proxy, n, as_frame)

    def _table(self, prob, sens, proxy, n, as_frame):
        p = prob.numpy().astype(np.float64)
        table = {"probability": p, "prediction": (p > self.threshold).astype(np.int64)}
        if sens is not None and self.s_column is not None:
            table["sensitivity"] = sens.numpy().astype(np.float64)
        if proxy is not None and self.shift is not None:
            table["proxy_sensitivity"] = proxy.numpy().astype(np.float64)
        flag = table[self.flag_by]
        table["flagged"] = flag > self.flag_threshold if self.flag_threshold is not None else np.zeros(n, dtype=bool)
        return pd.DataFrame(table, copy=False) if as_frame else table

    def calibrate(self, X, *, percentile: float = 95.0, s=None) -> "AuditedModel":
        """Set ``flag_threshold`` to the ``percentile`` of the ``flag_by`` measure on reference rows
        ``X`` (people served before any change), so that about ``100 - percentile`` % of such people
        are flagged. Returns the model. See :doc:`/book/deployed`."""
        if not 0 < float(percentile) < 100:
            raise ValueError(f"percentile must be between 0 and 100, got {percentile!r}")
        values = self.serve(X, s=s)[self.flag_by].to_numpy()
        self.flag_threshold = float(np.percentile(values, percentile))
        if self.flag_threshold <= 0:
            raise ValueError(f"the {percentile:g}th percentile of {self.flag_by} on the reference rows is 0: "
                             "the model does not respond to the attribute there, so no share can be monitored")
        return self

    def __repr__(self) -> str:
        return (f"AuditedModel({type(self.model).__name__}, flag_by={self.flag_by!r}, "
                f"flag_threshold={self.flag_threshold!r})")


def _relu_layers(net):
    """The layers of a book network that is a chain of Linear, ReLU and Dropout layers followed by a
    sigmoid of one output (:class:`fairnotes.models.LinearNet`, :class:`fairnotes.models.LogisticRegression`),
    or None for any other model (which is then differentiated by autograd)."""
    import torch
    from fairnotes import models

    if type(net) is models.LinearNet and net.n_outputs == 1:
        layers = list(net.net)
    elif type(net) is models.LogisticRegression and net.n_outputs == 1:
        layers = [net.linear]
    else:
        return None
    ok = (torch.nn.Linear, torch.nn.ReLU, torch.nn.Dropout)
    if not all(type(m) in ok for m in layers) or type(layers[0]) is not torch.nn.Linear:
        return None
    return [(m.weight, m.bias) if isinstance(m, torch.nn.Linear) else ("relu" if isinstance(m, torch.nn.ReLU) else None)
            for m in layers]


def _forward_mode(layers, x, tangents):
    """Probabilities and their directional derivatives along each of the ``k`` constant ``tangents``
    (``(k, d)``) for every row of ``x``, in one forward pass of a ReLU network (eval mode: dropout is
    the identity). The first layer maps a constant tangent to a constant vector; after it the
    tangents are carried row by row, masked by each ReLU."""
    import torch

    with torch.no_grad():
        (W, b), rest = layers[0], layers[1:]
        n, k = x.shape[0], tangents.shape[0]
        h = torch.addmm(b, x, W.T)
        T = tangents @ W.T                                 # (k, width): the same for every row
        per_row = False
        for layer in rest:
            if layer is None:                              # dropout in eval mode
                continue
            if layer == "relu":
                h = torch.relu(h)
                mask = (h > 0).to(h.dtype)
                if k == 1:
                    T = mask * T                           # (n, width)
                elif per_row:
                    T = (T.view(n, k, -1) * mask.unsqueeze(1)).view(n * k, -1)
                else:
                    T = (mask.unsqueeze(1) * T.unsqueeze(0)).view(n * k, -1)
                per_row = True
            else:
                W, b = layer
                h = torch.addmm(b, h, W.T)
                T = T @ W.T
        p = torch.sigmoid(h[:, 0])
        dz = T.view(n, k) if per_row else T[:, 0].expand(n, k)
        dp = (p * (1 - p)).unsqueeze(1) * dz
    return p, dp


# --------------------------------------------------------------------------- the change detector

class Cusum:
    """One-sided Bernoulli CUSUM on the flagged share, per window; see :doc:`/book/deployed`.

    Per window of ``n`` people with ``k`` flagged the statistic becomes
    ``S = max(0, S + k log(p1/p0) + (n - k) log((1 - p1)/(1 - p0)))``; an alarm is raised when
    ``S > threshold`` and ``S`` restarts from 0. ``p0`` is the share of flagged people before any
    change (the reference), ``p1 > p0`` the share the auditor wants to detect.
    """

    def __init__(self, *, p0: float, p1: float, threshold: float):
        self.p0, self.p1 = _shares(p0, p1)
        self.threshold = nonnegative_number("threshold", threshold)
        self.statistic = self.last = 0.0

    @property
    def weights(self) -> tuple[float, float]:
        """The log-likelihood ratio of one flagged and of one unflagged person."""
        return np.log(self.p1 / self.p0), np.log((1 - self.p1) / (1 - self.p0))

    def update(self, *, flagged: int, people: int) -> bool:
        """Add one window; return whether it raises an alarm (the statistic then restarts at 0)."""
        people = positive_int("people", people)
        if not 0 <= int(flagged) <= people:
            raise ValueError(f"flagged must be between 0 and people ({people}), got {flagged!r}")
        a, b = self.weights
        self.statistic = max(0.0, self.statistic + flagged * a + (people - flagged) * b)
        self.last = self.statistic
        if self.statistic > self.threshold:
            self.statistic = 0.0
            return True
        return False

    def reset(self) -> None:
        """Start again from 0 (e.g. after the auditor has dealt with an alarm)."""
        self.statistic = 0.0

    @staticmethod
    def paths(counts, *, people: int, p0: float, p1: float) -> np.ndarray:
        """The statistic after each window (no restart), for counts of shape ``(streams, windows)``."""
        p0, p1 = _shares(p0, p1)
        counts = np.atleast_2d(np.asarray(counts, dtype=np.float64))
        llr = counts * np.log(p1 / p0) + (people - counts) * np.log((1 - p1) / (1 - p0))
        out = np.empty_like(llr)
        S = np.zeros(llr.shape[0])
        for t in range(llr.shape[1]):
            S = np.maximum(0.0, S + llr[:, t])
            out[:, t] = S
        return out

    @classmethod
    def calibrate(cls, *, p0: float, p1: float, people: int, horizon: int, false_alarm: float = 0.05,
                  n_streams: int = 20000, seed: int = 0) -> "Cusum":
        """A CUSUM whose probability of at least one alarm within ``horizon`` windows of ``people``
        people, on a stream without change (each person flagged with probability ``p0``), is
        ``false_alarm``: the threshold is the ``1 - false_alarm`` quantile of the largest statistic
        over ``n_streams`` simulated streams (Monte Carlo error about
        ``sqrt(false_alarm (1 - false_alarm) / n_streams)``). The statistic moves in discrete steps,
        so the rate is at most ``false_alarm``; it is 0 when fewer than ``false_alarm`` of the
        streams ever leave 0 (a window so large or a ``p1`` so far from ``p0`` that any rise of
        the statistic is already rare), and the rate is then smaller than asked.
        See :doc:`/book/deployed`."""
        people, horizon = positive_int("people", people), positive_int("horizon", horizon)
        n_streams = positive_int("n_streams", n_streams)
        if not 0 < float(false_alarm) < 1:
            raise ValueError(f"false_alarm must be between 0 and 1, got {false_alarm!r}")
        p0, p1 = _shares(p0, p1)
        counts = np.random.default_rng(seed).binomial(people, p0, size=(n_streams, horizon))
        peak = cls.paths(counts, people=people, p0=p0, p1=p1).max(axis=1)
        return cls(p0=p0, p1=p1, threshold=float(np.quantile(peak, 1 - false_alarm)))

    def expected_delay(self, *, people: int) -> float:
        """Windows the statistic needs, on average, to climb from 0 to the threshold once the flagged
        share is ``p1`` (the threshold over the expected log-likelihood ratio of a window, which is
        ``people`` times the Kullback-Leibler divergence of ``p1`` from ``p0``; overshoot ignored)."""
        a, b = self.weights
        return self.threshold / (people * (self.p1 * a + (1 - self.p1) * b))

    def __repr__(self) -> str:
        return f"Cusum(p0={self.p0:.4g}, p1={self.p1:.4g}, threshold={self.threshold:.4g})"


def _shares(p0, p1) -> tuple[float, float]:
    p0, p1 = float(p0), float(p1)
    if not (0 < p0 < 1 and 0 < p1 < 1):
        raise ValueError(f"p0 and p1 must be shares strictly between 0 and 1, got p0={p0!r}, p1={p1!r}")
    if p1 <= p0:
        raise ValueError(f"p1 ({p1}) must be larger than p0 ({p0}): the CUSUM looks for a rise of the flagged share")
    return p0, p1


# --------------------------------------------------------------------------- group-level drift

def quantile_demographic_drift(probability, s, *, bins: int = 10) -> float:
    """The groups' prediction distributions compared bin by bin (after FairCanary's QDD).

    Each group's probabilities are sorted and cut into ``bins`` bins of equal size; the value is
    the mean over bins of (mean probability of group 0 in the bin) minus (that of group 1), 0
    when the two distributions are the same. NaN when a group has fewer people than bins. See
    :doc:`/book/deployed`.
    """
    p, s = np.asarray(probability, dtype=np.float64), np.asarray(s)
    bins = positive_int("bins", bins)
    means = []
    for g in (0, 1):
        v = np.sort(p[s == g])
        if len(v) < bins:
            return float("nan")
        means.append(np.array([part.mean() for part in np.array_split(v, bins)]))
    return float(np.mean(means[0] - means[1]))


# --------------------------------------------------------------------------- the monitor

class WindowedMonitor:
    """Aggregates served predictions per window of ``window`` people; see :doc:`/book/deployed`.

    Parameters
    ----------
    window
        People per window.
    detector
        A :class:`Cusum` on the flagged share, or ``None``.
    groups
        Names of ``s = 0`` and ``s = 1`` in the column names.
    bins
        Bins of the quantile demographic drift.
    max_windows
        Keep only the last ``max_windows`` window rows (``None``: all; each is one short row).
    """

    def __init__(self, *, window: int, detector: Cusum | None = None, groups: tuple[str, str] = ("s=0", "s=1"),
                 bins: int = 10, max_windows: int | None = None):
        self.window = positive_int("window", window)
        self.detector, self.groups, self.bins = detector, tuple(groups), positive_int("bins", bins)
        self.rows = deque(maxlen=None if max_windows is None else positive_int("max_windows", max_windows))
        self._buffer: list[dict] = []
        self._buffered = 0
        self.people = 0

    def observe(self, served: pd.DataFrame, *, s=None) -> list[dict]:
        """Add a served batch (the output of :meth:`AuditedModel.serve`, a DataFrame or a dict of
        arrays); ``s`` holds each person's
        recorded attribute, 0/1, or NaN where it is not recorded. Returns the windows it closed."""
        if not isinstance(served, (pd.DataFrame, dict)) or not set(_NEEDED) <= set(served):
            raise ValueError("observe needs what AuditedModel.serve returns (probability, prediction, flagged)")
        cols = {c: np.asarray(served[c]) for c in _NEEDED + _MEASURES if c in served}
        n = len(cols["probability"])
        if s is None:
            cols["s"] = np.full(n, np.nan)
        else:
            s = np.asarray(s, dtype=np.float64)
            if s.shape != (n,):
                raise ValueError(f"s must have one value per served row ({n}), got shape {s.shape}")
            if not np.isin(s[~np.isnan(s)], (0, 1)).all():
                raise ValueError("s must hold 0, 1 or NaN (not recorded)")
            cols["s"] = s
        closed, start = [], 0
        while start < n:
            take = min(self.window - self._buffered, n - start)
            self._buffer.append({c: v[start:start + take] for c, v in cols.items()})
            self._buffered += take
            start += take
            if self._buffered == self.window:
                w = {c: np.concatenate([b[c] for b in self._buffer]) for c in self._buffer[0]}
                closed.append(self._close(w))
                self._buffer, self._buffered = [], 0
        return closed

    def _close(self, w: dict) -> dict:
        index = self.rows[-1]["window"] + 1 if self.rows else 0
        n = len(w["probability"])
        self.people += n
        k = int(w["flagged"].sum())
        row = {"window": index, "people": n, "flagged": k, "flagged share": k / n,
               "mean probability": float(w["probability"].mean()),
               "selection rate": float(w["prediction"].mean())}
        for col in _MEASURES:
            if col in w:
                row[f"mean {col.replace('_', ' ')}"] = float(w[col].mean())
        s, rates = w["s"], []
        for g, name in enumerate(self.groups):
            m = s == g
            row[f"recorded {name}"] = int(m.sum())
            rates.append(float(w["prediction"][m].mean()) if m.any() else np.nan)
            row[f"selection rate {name}"] = rates[-1]
        row["disparate impact"] = rates[0] / rates[1] if np.isfinite(rates[1]) and rates[1] > 0 else np.nan
        row["statistical parity difference"] = rates[0] - rates[1]
        rec = ~np.isnan(s)
        row["quantile demographic drift"] = quantile_demographic_drift(w["probability"][rec], s[rec], bins=self.bins)
        if self.detector is not None:
            row["alarm"] = bool(self.detector.update(flagged=k, people=n))
            row["cusum"] = self.detector.last
        self.rows.append(row)
        return row

    def table(self) -> pd.DataFrame:
        """One row per closed window (the last ``max_windows`` of them)."""
        return pd.DataFrame(list(self.rows))

    def alarms(self) -> list[int]:
        """The windows that raised an alarm."""
        return [r["window"] for r in self.rows if r.get("alarm")]

    def __repr__(self) -> str:
        return f"WindowedMonitor(window={self.window}, windows={len(self.rows)}, people={self.people}, alarms={self.alarms()})"
