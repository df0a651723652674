"""Interactive figures: a slider over results a chapter has already computed.

Three chapters let the reader move a setting and watch the results follow: the target acceptance
rate of FairGP (:doc:`/book/fairgp_parity`, :func:`parity_sweep`), the noise scale and the number of
draws of smooth prediction sensitivity (:doc:`/book/smooth_sensitivity`, :func:`smooth_sweep`) and
the trade-off weight of the pivot (:doc:`/book/adversarial`, :func:`tradeoff_sweep`). Nothing is
computed while the reader moves a slider: every position shows one row of the chapter's own sweep.

The figures are Plotly figures, with the colours, markers and names of the static figures
(:mod:`fairnotes.plots`). :func:`show` displays one in a notebook as HTML that draws it with
plotly.js when the page has it (the built book serves ``plotly.min.js`` from the installed
``plotly`` package, ``_ext/local_plotly.py``: no JavaScript comes from a CDN) and otherwise shows a
short note: in Jupyter, Colab or the PDF the static figure just above it is the fallback.

A figure with one slider changes its data through Plotly's own slider steps (``method="update"``),
so ``fig.show()`` works anywhere Plotly does. A figure with two sliders (:func:`smooth_sweep`) keeps
one state per pair of positions in ``layout.meta["fairnotes"]["states"]``; its steps do nothing by
themselves (``method="skip"``) and the script ``DRIVER_JS``, served beside plotly.js, applies the state of
the sliders' positions.
"""

from __future__ import annotations

import html as _html
import itertools
import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["parity_sweep", "smooth_sweep", "tradeoff_sweep", "to_html", "show", "plotly_js",
           "DRIVER_JS", "DRIVER_CSS", "FONT_PX"]

FONT_PX = 13   #: the figures' text size in px (the static figures' 9 pt minimum is 12.5 px)
_SYMBOLS = {"o": "circle", "s": "square", "^": "triangle-up", "D": "diamond", "v": "triangle-down",
            "P": "cross", "X": "x", "<": "triangle-left", ">": "triangle-right"}
_REFERENCE = "#777777"   # reference lines (the target, parity, the four-fifths rule): no group, no model

# DRIVER_JS draws every interactive box of a page with plotly.js and wires figures with more than one
# slider; the book serves it as _static/plotly/fairnotes-interactive.js, after plotly.js.
DRIVER_JS = r"""/* fairnotes: draw the interactive figures (fairnotes/interactive.py) with the served plotly.js */
(function () {
  "use strict";
  function wire(gd, states) {
    var active = (gd.layout.sliders || []).map(function (s) { return s.active || 0; });
    gd.on("plotly_sliderchange", function (ev) {
      var k = ev.slider._index, i = ev.step._index;
      if (k === undefined || i === undefined || active[k] === i) return;
      active[k] = i;
      var st = states[active.join(",")];
      if (st) Plotly.update(gd, st.data, st.layout, st.traces);
    });
  }
  function draw(box) {
    if (box.getAttribute("data-drawn")) return;
    var spec = JSON.parse(box.querySelector("script.fairnotes-figure").textContent);
    var plot = box.querySelector(".fairnotes-plot");
    box.setAttribute("data-drawn", "pending");
    Plotly.newPlot(plot, spec.data, spec.layout, spec.config).then(function (gd) {
      box.setAttribute("data-drawn", "yes");
      var note = box.querySelector(".fairnotes-interactive-fallback");
      if (note) note.hidden = true;
      var meta = spec.layout.meta && spec.layout.meta.fairnotes;
      if (meta && meta.states) wire(gd, meta.states);
    });
  }
  function all() {
    if (!window.Plotly) return;
    Array.prototype.forEach.call(document.querySelectorAll(".fairnotes-interactive"), draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
"""

# DRIVER_CSS: the boxes' layout; on paper (the PDF) an interactive figure is left out, the static one
# above it stays.
DRIVER_CSS = """/* fairnotes: interactive figures (fairnotes/interactive.py) */
.fairnotes-interactive { width: 100%; max-width: 100%; overflow: hidden; }
.fairnotes-interactive .fairnotes-plot { width: 100%; }
.fairnotes-interactive-fallback { font-style: italic; }
@media print {
  figure.fairnotes-interactive-figure, .fairnotes-interactive { display: none !important; }
}
"""


def plotly_js() -> Path:
    """The ``plotly.min.js`` shipped in the installed ``plotly`` package, which the book serves.

    Raises ``FileNotFoundError`` if the package has none. See the chapter :doc:`/book/fairgp_parity`.
    """
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.exists():
        raise FileNotFoundError(f"plotly.min.js is missing from {path.parent}; reinstall plotly")
    return path


# ---------------------------------------------------------------------------------------------- helpers

def _go():
    import plotly.graph_objects as go

    return go


def _floats(values, digits: int = 4) -> list:
    """Plain, rounded floats (JSON lists, not typed arrays, so that slider steps can restyle them)."""
    return [None if not np.isfinite(v) else round(float(v), digits) for v in np.asarray(values, float).ravel()]


def _symbol(marker: str) -> str:
    return _SYMBOLS.get(marker, "circle")


def _columns(data: pd.DataFrame, name: str, needed: Sequence[str]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise ValueError(f"{name} has no column(s) {missing}; it has {list(data.columns)}")
    if data.empty:
        raise ValueError(f"{name} is empty")


def _nearest(levels: Sequence[float], value) -> int:
    """Index of the level closest to ``value`` (the first one for ``None``)."""
    if value is None:
        return 0
    return int(np.argmin([abs(float(v) - float(value)) for v in levels]))


def _slider(levels: Sequence, labels: Sequence[str], prefix: str, active: int, steps: list[dict],
            y: float = 0.0) -> dict:
    return {"active": active, "currentvalue": {"prefix": prefix, "font": {"size": FONT_PX + 1}},
            "pad": {"t": 36, "b": 4}, "len": 1.0, "x": 0, "y": y, "yanchor": "top",
            "font": {"size": FONT_PX}, "steps": [dict(step, label=lab, value=str(v))
                                                  for step, lab, v in zip(steps, labels, levels)]}


def _layout(go, height: int, title: str, legend_items: int, title_lines: int = 1, **extra) -> dict:
    """Title at the top, then the legend one entry per line (so that it takes the same room on a phone
    as on a laptop and never runs into the title), then the panels."""
    top = 18 + 20 * title_lines + 21 * legend_items
    return dict(height=height, autosize=True,
                title={"text": title, "x": 0, "xref": "paper", "xanchor": "left", "y": 1, "yref": "container",
                       "yanchor": "top", "pad": {"t": 10}, "font": {"size": FONT_PX + 1}},
                font={"size": FONT_PX, "color": "#222222"}, template="simple_white",
                margin={"l": 56, "r": 16, "t": top, "b": 20}, hovermode="closest",
                legend={"orientation": "v", "x": 0, "y": 1.0, "yref": "paper", "yanchor": "bottom",
                        "xanchor": "left", "font": {"size": FONT_PX}, "tracegroupgap": 2}, **extra)


# ---------------------------------------------------------------------------------------------- FairGP

def parity_sweep(sweep: pd.DataFrame, *, groups: Mapping[str, tuple[str, str]], active=None):
    """FairGP's sweep of the target acceptance rate, one slider position per target.

    Parameters
    ----------
    sweep : DataFrame
        One row per attribute, model, target (and split): columns ``attribute``, ``model``,
        ``target``, ``PR0`` and ``PR1`` (the groups' acceptance rates), ``DI`` (DIbinary) and
        ``accuracy``, as the sweep of the chapter computes them; splits are averaged.
    groups : mapping
        Each attribute's group names, ``(s = 0, s = 1)``, e.g. ``{"race": ("non-White", "White")}``.
    active : float, optional
        The target the slider starts at (the nearest one swept; the first by default).

    Returns
    -------
    plotly.graph_objects.Figure
        Three panels over the pairs of attribute and model: both groups' acceptance rates (bars in
        the group colours, the target as a dashed line drawn behind the bars, so that it never
        strikes through their values), DIbinary (1 is parity) and accuracy (model colours and markers
        of :data:`fairnotes.plots.MODEL_COLORS`); one slider step per target.

    Raises ``ValueError`` for a missing column or group name. See the chapter
    :doc:`/book/fairgp_parity`.
    """
    # one figure built trace by trace (bars, target line, DI and accuracy panels, slider steps):
    # about 60 lines of plotly calls that read best in order, below a docstring of 25
    from plotly.subplots import make_subplots

    from fairnotes import plots

    go = _go()
    _columns(sweep, "sweep", ["attribute", "model", "target", "PR0", "PR1", "DI", "accuracy"])
    attrs = list(dict.fromkeys(sweep["attribute"]))
    unknown = [a for a in attrs if a not in groups]
    if unknown:
        raise ValueError(f"groups names no groups for the attribute(s) {unknown}")
    models = list(dict.fromkeys(sweep["model"]))
    mean = sweep.groupby(["target", "attribute", "model"])[["PR0", "PR1", "DI", "accuracy"]].mean()
    targets = sorted(sweep["target"].unique())
    pairs = [(a, m) for a in attrs for m in models if (targets[0], a, m) in mean.index]
    cats = [f"{a}, {m}" for a, m in pairs]
    colours = [plots.color(m) for _, m in pairs]
    symbols = [_symbol(plots.MODEL_MARKERS.get(m, "o")) for _, m in pairs]
    roles = ("unprivileged", "privileged")
    names = [f"{roles[s_]} ({', '.join(groups[a][s_] for a in attrs)})" for s_ in (0, 1)]

    def values(t):
        rows = mean.loc[t].reindex(pairs)
        return {c: _floats(rows[c]) for c in ("PR0", "PR1", "DI", "accuracy")}

    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.46, 0.27, 0.27])
    start = _nearest(targets, active)
    v = values(targets[start])
    for s_, col in ((0, "PR0"), (1, "PR1")):
        fig.add_trace(go.Bar(x=cats, y=v[col], name=names[s_], marker_color=plots.color(s_),
                             marker_pattern_shape="" if s_ else "/", texttemplate="%{y:.2f}",
                             textposition="outside", cliponaxis=False,
                             hovertemplate="%{x}: %{y:.3f}<extra>" + names[s_] + "</extra>"), row=1, col=1)
    # the target: a line behind the bars (shapes[0], moved by the slider) and its legend entry
    fig.add_hline(y=targets[start], line={"color": _REFERENCE, "dash": "dash", "width": 2}, layer="below",
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=[None], y=[None], name="target", mode="lines",
                             line={"color": _REFERENCE, "dash": "dash", "width": 2}, hoverinfo="skip"), row=1, col=1)
    for row, col, label in ((2, "DI", "DIbinary"), (3, "accuracy", "accuracy")):
        fig.add_trace(go.Scatter(x=cats, y=v[col], mode="markers+text", name=label, showlegend=False,
                                 marker={"color": colours, "symbol": symbols, "size": 12,
                                         "line": {"color": "#222222", "width": 1}},
                                 texttemplate="%{y:.2f}", textposition="top center", cliponaxis=False,
                                 hovertemplate="%{x}: " + label + " %{y:.3f}<extra></extra>"), row=row, col=1)
    fig.add_hline(y=1, line={"color": _REFERENCE, "dash": "dot", "width": 1}, row=2, col=1)

    def title(t):
        return f"Adult, target acceptance rate {t:.1f}"

    steps = []
    for t in targets:
        w = values(t)
        steps.append({"method": "update", "args": [
            {"y": [w["PR0"], w["PR1"], [None], w["DI"], w["accuracy"]]},
            {"title.text": title(t), "shapes[0].y0": t, "shapes[0].y1": t}, [0, 1, 2, 3, 4]]})
    top_rate = float(mean[["PR0", "PR1"]].max().max())
    di = mean["DI"].replace([np.inf, -np.inf], np.nan)
    acc = mean["accuracy"]
    fig.update_layout(**_layout(go, 700, title(targets[start]), 3, barmode="group", bargap=0.25),
                      sliders=[_slider(targets, [f"{t:.1f}" for t in targets], "target acceptance rate: ",
                                       start, steps, y=-0.04)])
    fig.update_yaxes(title_text="acceptance rate", range=[0, max(top_rate, max(targets)) * 1.18], row=1, col=1)
    fig.update_yaxes(title_text="DIbinary", range=[0, max(1.2, float(di.max()) * 1.2)], row=2, col=1)
    fig.update_yaxes(title_text="accuracy", range=[float(acc.min()) - 0.02, float(acc.max()) + 0.035], row=3, col=1)
    fig.update_xaxes(tickfont={"size": FONT_PX}, row=3, col=1)
    fig.update_layout(margin={"b": 120})
    return fig


# ---------------------------------------------------------------------------------------------- smooth

def _shares(v: np.ndarray, edges: np.ndarray, floor: float) -> np.ndarray:
    """Percent of ``v`` per bin of log10(max(v, floor))."""
    logv = np.log10(np.maximum(np.asarray(v, float), floor))
    return 100 * np.histogram(np.clip(logv, edges[0], edges[-1]), edges)[0] / max(len(v), 1)


def _sweep_inputs(draws, s, plain, n_values):
    """:func:`smooth_sweep`'s data, checked: ``({sigma: draws} in increasing sigma, s, plain, n_values)``."""
    if not draws:
        raise ValueError("draws is empty: pass {sigma: per-draw sensitivities}")
    arrays = {sg: np.asarray(draws[sg], float) for sg in sorted(draws)}
    s = np.asarray(s)
    plain = np.asarray(plain, float)
    for sg, arr in arrays.items():
        if arr.ndim != 2 or arr.shape[0] != len(s):
            raise ValueError(f"draws[{sg}] must have shape (rows, n_max) with rows = len(s) = {len(s)}; "
                             f"got {arr.shape}")
    if len(plain) != len(s):
        raise ValueError(f"plain has {len(plain)} rows, s has {len(s)}")
    if not set(np.unique(s)) <= {0, 1} or len(np.unique(s)) < 2:
        raise ValueError("s must be 0/1 with both groups present")
    n_values = [int(n) for n in n_values]
    n_max = min(arr.shape[1] for arr in arrays.values())
    if not n_values or min(n_values) < 1 or max(n_values) > n_max:
        raise ValueError(f"n_values must lie between 1 and the {n_max} draws available; got {n_values}")
    return arrays, s, plain, n_values


def smooth_sweep(draws: Mapping[float, np.ndarray], s, plain, *, n_values: Sequence[int],
                 groups: tuple[str, str], threshold: float | None = None, percentile: float = 95.0,
                 floor: float = 1e-6, bins: int = 30, active: tuple | None = None):
    """Smooth prediction sensitivity (the maximum over ``n`` draws) for every noise scale and ``n``.

    Parameters
    ----------
    draws : mapping
        ``{sigma: array of shape (rows, n_max)}``: ``|dF/da|`` at each row's ``n_max`` noisy
        neighbours, as :func:`fairnotes.sensitivity.smooth_prediction_sensitivity` returns them
        with ``reduce="none"``; the maximum over the first ``n`` is the smooth sensitivity with ``n`` draws.
    s : array of shape (rows,)
        The protected attribute of each row, 0/1 (1 = privileged).
    plain : array of shape (rows,)
        The plain prediction sensitivity of the same rows.
    n_values : sequence of int
        The numbers of draws of the slider, each at most ``n_max``.
    groups : tuple of str
        The groups' names, ``(s = 0, s = 1)``.
    threshold : float, optional
        Flag a row whose sensitivity is above it; by default the ``percentile``-th percentile of
        ``plain``, so that the plain measure flags about ``100 - percentile`` % of the rows and a
        smoothed measure is judged against the same bar.
    floor, bins
        The histogram's bins are equally wide in log10 units from ``floor`` (values below it are
        counted in the first bin) to the largest value.
    active : (sigma, n), optional
        Where the two sliders start (the nearest values swept; the first ones by default).

    Returns
    -------
    plotly.graph_objects.Figure
        Top: the share of each group's rows per bin (group colours, the plain measure's distribution
        of both groups dotted, the flagging threshold dashed). Bottom: the share of each group's rows
        flagged by the plain measure and by the smooth one (measure colours of
        :data:`fairnotes.plots.MEASURE_COLORS`). Two sliders, sigma and n; one state per pair in
        ``layout.meta["fairnotes"]["states"]``, keyed ``"i,j"``.

    Raises ``ValueError`` for arrays of different lengths, ``s`` that is not 0/1 with both groups,
    or an ``n`` above the draws available. See the chapter :doc:`/book/smooth_sensitivity`.
    """
    # one figure built trace by trace (histograms, flag bars, two sliders' states): about 60 lines
    # of plotly calls that read best in order, below a docstring of 40
    from plotly.subplots import make_subplots

    from fairnotes import plots

    go = _go()
    arrays, s, plain, n_values = _sweep_inputs(draws, s, plain, n_values)
    sigmas = list(arrays)
    thr = float(np.percentile(plain, percentile)) if threshold is None else float(threshold)
    top = max(float(arr[:, :max(n_values)].max()) for arr in arrays.values())
    edges = np.linspace(np.log10(floor), np.log10(max(top, plain.max(), floor * 10)) + 0.05, bins + 1)
    centres = 10 ** ((edges[:-1] + edges[1:]) / 2)
    in_group = [s == 0, s == 1]
    plain_flag = _floats([100 * (plain[g] > thr).mean() for g in in_group])
    smooth_name, plain_name = "smooth (max)", "sensitivity"

    def state(sg, n):
        mx = arrays[sg][:, :n].max(axis=1)
        hist = [_shares(mx[g], edges, floor) for g in in_group]
        flagged = [100 * float((mx[g] > thr).mean()) for g in in_group]
        return [_floats(h) for h in hist], _floats(flagged)

    i0 = _nearest(sigmas, active[0] if active else None)
    j0 = _nearest(n_values, active[1] if active else None)
    hist, flagged = state(sigmas[i0], n_values[j0])
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.2, row_heights=[0.6, 0.4])
    for s_ in (0, 1):
        fig.add_trace(go.Scatter(x=_floats(centres, 8), y=hist[s_], mode="lines", line_shape="hvh", name=groups[s_],
                                 line={"color": plots.color(s_), "width": 2.5, "dash": "solid" if s_ else "longdash"},
                                 hovertemplate="%{y:.1f}% of " + groups[s_] + " rows near %{x:.2g}<extra></extra>"),
                      row=1, col=1)
    both = _floats(_shares(plain, edges, floor))
    fig.add_trace(go.Scatter(x=_floats(centres, 8), y=both, mode="lines", line_shape="hvh", name="plain, all rows",
                             line={"color": plots.color(plain_name), "width": 1.5, "dash": "dot"},
                             hovertemplate="plain: %{y:.1f}% of the rows near %{x:.2g}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=list(groups), y=plain_flag, name="flagged by plain", marker_color=plots.color(plain_name),
                         marker_pattern_shape="/", texttemplate="%{y:.0f}%", textposition="outside",
                         cliponaxis=False, hovertemplate="plain: %{y:.1f}% of %{x} flagged<extra></extra>"), row=2, col=1)
    fig.add_trace(go.Bar(x=list(groups), y=flagged, name="flagged by smooth (max)",
                         marker_color=plots.color(smooth_name), texttemplate="%{y:.0f}%", textposition="outside",
                         cliponaxis=False, hovertemplate="smooth (max): %{y:.1f}% of %{x} flagged<extra></extra>"),
                  row=2, col=1)
    fig.add_vline(x=thr, line={"color": _REFERENCE, "dash": "dash", "width": 1.5}, row=1, col=1)

    def title(sg, n):
        return f"Adult, linear: σ = {sg:g}, n = {n}"

    states = {}
    top_share, top_flag = max(both), max(plain_flag)
    for (i, sg), (j, n) in itertools.product(enumerate(sigmas), enumerate(n_values)):
        h, f = state(sg, n)
        top_share, top_flag = max(top_share, *h[0], *h[1]), max(top_flag, *f)
        states[f"{i},{j}"] = {"data": {"y": [h[0], h[1], f]}, "layout": {"title.text": title(sg, n)},
                              "traces": [0, 1, 4]}
    skip = {"method": "skip", "args": []}
    sliders = [_slider(sigmas, [f"{v:g}" for v in sigmas], "σ (noise scale): ", i0, [dict(skip) for _ in sigmas], y=-0.05),
               _slider(n_values, [str(n) for n in n_values], "n (draws): ", j0, [dict(skip) for _ in n_values], y=-0.27)]
    fig.update_layout(**_layout(go, 820, title(sigmas[i0], n_values[j0]), 5, barmode="group", bargap=0.3),
                      sliders=sliders, meta={"fairnotes": {"states": states, "threshold": thr}})
    fig.update_layout(margin={"b": 200})
    fig.update_xaxes(type="log", title_text="sensitivity to race (log axis)",
                     exponentformat="power", row=1, col=1)
    fig.update_yaxes(title_text="% of the group's rows", range=[0, top_share * 1.1], row=1, col=1)
    fig.update_yaxes(title_text="% flagged", range=[0, min(100, top_flag * 1.25) + 2], row=2, col=1)
    return fig


# ---------------------------------------------------------------------------------------------- pivot

def tradeoff_sweep(sweep: pd.DataFrame, *, attributes: Sequence[str] = ("race", "sex"), active=None,
                   xref: float = 80.0):
    """The pivot's trade-off: accuracy against the p%-rule, one slider position per factor of lambda.

    Parameters
    ----------
    sweep : DataFrame
        One row per factor: columns ``factor``, ``accuracy`` and ``p%-rule, <attribute>`` for each
        attribute, as the sweep of the chapter computes them.
    attributes : sequence of str
        The attributes whose p%-rules are drawn (attribute colours of
        :data:`fairnotes.plots.ATTRIBUTE_COLORS`; race circles, sex squares, as the static figure).
    active : float, optional
        The factor the slider starts at (the nearest one swept; the first by default).
    xref : float
        The dashed reference line (80: the four-fifths rule).

    Returns
    -------
    plotly.graph_objects.Figure
        The whole curve of each attribute, faint, and the current factor's points, large and
        labelled; one slider step per factor.

    Raises ``ValueError`` for a missing column. See the chapter :doc:`/book/adversarial`.
    """
    from fairnotes import plots

    go = _go()
    cols = [f"p%-rule, {a}" for a in attributes]
    _columns(sweep, "sweep", ["factor", "accuracy", *cols])
    d = sweep.sort_values("factor").reset_index(drop=True)
    factors = d["factor"].tolist()
    symbols = {a: sym for a, sym in zip(attributes, ("circle", "square", "diamond", "triangle-up"))}
    fig = go.Figure()
    for a, col in zip(attributes, cols):
        fig.add_trace(go.Scatter(x=_floats(d[col]), y=_floats(d["accuracy"]), mode="lines+markers", name=f"p%-rule for {a}",
                                 line={"color": plots.color(a), "width": 1.5},
                                 marker={"color": plots.color(a), "symbol": symbols[a], "size": 8, "opacity": 0.45},
                                 text=[f"x{f:g}" for f in factors],
                                 hovertemplate="λ %{text}: p%-rule %{x:.0f}, accuracy %{y:.3f}<extra>" + a + "</extra>"))
    start = _nearest(factors, active)
    positions = {a: p for a, p in zip(attributes, ("top center", "bottom center", "middle left", "middle right"))}
    sizes = {a: 20 - 5 * k for k, a in enumerate(attributes)}   # the first largest: a point on top of another shows both

    def current(k):
        return [(_floats([d.loc[k, col]]), _floats([d.loc[k, "accuracy"]])) for col in cols]

    for (a, col), (x, y) in zip(zip(attributes, cols), current(start)):
        fig.add_trace(go.Scatter(x=x, y=y, mode="markers+text", showlegend=False, name=f"{a}, current",
                                 marker={"color": plots.color(a), "symbol": symbols[a], "size": sizes[a],
                                         "line": {"color": "#222222", "width": 1.5}},
                                 text=[a], textposition=positions[a], textfont={"color": plots.color(a)},
                                 hovertemplate="p%-rule %{x:.0f}, accuracy %{y:.3f}<extra>" + a + "</extra>"))
    fig.add_vline(x=xref, line={"color": _REFERENCE, "dash": "dash", "width": 1.5})

    def title(k):
        row = d.loc[k]
        rules = ", ".join(f"{row[c]:.0f} ({a})" for a, c in zip(attributes, cols))
        return f"λ × {row['factor']:g}: accuracy {row['accuracy']:.3f}<br>p%-rule {rules}"

    n = len(attributes)
    steps = []
    for k in range(len(d)):
        cur = current(k)
        steps.append({"method": "update", "args": [{"x": [c[0] for c in cur], "y": [c[1] for c in cur]},
                                                   {"title.text": title(k)}, list(range(n, 2 * n))]})
    xs = d[cols].to_numpy(float)
    lo, hi = float(np.nanmin(xs)), float(np.nanmax(xs))
    acc = d["accuracy"].to_numpy(float)
    pad = max(0.004, (acc.max() - acc.min()) * 0.15)
    fig.update_layout(**_layout(go, 540, title(start), len(attributes), title_lines=2),
                      sliders=[_slider(factors, [f"x{f:g}" for f in factors], "factor × the recipe's λ: ",
                                       start, steps, y=-0.12)])
    fig.update_layout(margin={"b": 130})
    fig.update_xaxes(title_text="p%-rule (80: four-fifths rule)", range=[min(lo, xref) - 5, min(105, max(hi, xref) + 5)])
    fig.update_yaxes(title_text="accuracy", range=[float(acc.min()) - pad, float(acc.max()) + pad * 2])
    return fig


# ---------------------------------------------------------------------------------------------- display

def _config() -> dict:
    # no mode bar: it would sit on the title, and the sliders are the point
    return {"responsive": True, "displaylogo": False, "displayModeBar": False}


def to_html(fig, *, alt: str, fallback: str | None = None) -> str:
    """The HTML that draws ``fig`` with a page's plotly.js, and says what to do where there is none.

    ``alt`` describes the figure for a screen reader (the plot's ``aria-label``); ``fallback`` is
    the note shown until plotly.js draws the figure (in a notebook or a PDF, where the static figure
    above it stands in). No ``<script src>``: the page must serve plotly.js itself. Raises
    ``ValueError`` for an empty ``alt``. See the chapter :doc:`/book/fairgp_parity`.
    """
    import plotly.io as pio

    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must describe the figure (a non-empty string)")
    fallback = fallback or ("An interactive figure: on the book's web pages it has a slider. Here the "
                            "static figure above shows the same results.")
    spec = json.loads(pio.to_json(fig, validate=True))
    spec["config"] = _config()
    payload = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    height = int(fig.layout.height or 500)
    key = uuid.uuid5(uuid.NAMESPACE_URL, payload).hex[:12]
    return (f'<div class="fairnotes-interactive" id="fairnotes-interactive-{key}">'
            f'<div class="fairnotes-plot" role="img" aria-label="{_html.escape(alt.strip(), quote=True)}" '
            f'style="width:100%;height:{height}px"></div>'
            f'<p class="fairnotes-interactive-fallback">{_html.escape(fallback)}</p>'
            f'<script type="application/json" class="fairnotes-figure">{payload}</script></div>')


def show(fig, *, alt: str, fallback: str | None = None) -> None:
    """Display ``fig`` in the notebook as :func:`to_html` writes it (no CDN, no inline JavaScript).

    The output's plain-text form is a one-line description, never a repr. See the chapter
    :doc:`/book/fairgp_parity`.
    """
    from IPython.display import display

    html = to_html(fig, alt=alt, fallback=fallback)
    display({"text/html": html, "text/plain": f"[interactive figure] {alt.strip()}"}, raw=True)
