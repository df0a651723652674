"""The book's figure style: one palette, one colour per group and per model, fonts sized for the page.

First used in the chapter :doc:`/book/data`; every chapter calls
:func:`use_book_style` in its set-up cell instead of ``sns.set_theme(...)``. This module imports
matplotlib and seaborn, so ``import fairnotes`` does not load it: chapters import
``fairnotes.plots`` themselves.

Colours
-------
The colours come from colour-blind-safe schemes (Okabe & Ito's eight colours, Paul Tol's "muted"
and "light" schemes, a few greys and browns). A colour is fixed by *what it stands for*, in every
chapter, and stands for one thing only (:func:`registry` lists them; the unit tests check it):

* groups, by their role: the unprivileged group (``s = 0``) is always vermillion, the privileged
  group (``s = 1``) always blue, whatever the dataset and attribute (:func:`group_palette`); no
  other thing has these colours or one near them;
* models and mitigations (:data:`MODEL_COLORS`, :data:`MODEL_MARKERS`): the unmitigated network
  black (circle), the mitigated (pivot) network bluish green (square), GP / GP* light / dark cyan,
  FairGP / FairGP* light / dark purple, the SVMs and logistic regression greys, Zafar et al.'s
  baselines olive, rose and leaf green, the target-label networks light / dark brown; a model and
  its starred variant (which also reads ``s``) share a hue, light and dark, and differ in marker;
* the sensitivity measures (:data:`MEASURE_COLORS`), the protected attributes
  (:data:`ATTRIBUTE_COLORS`), the two architectures (:data:`ARCHITECTURE_COLORS`, with
  :data:`ARCHITECTURE_LINESTYLES` and :data:`ARCHITECTURE_MARKERS`, since colour alone must not
  carry them) and the paper's labels of a prediction (:data:`LABEL_COLORS`: the label '"unfair"'
  is dark red-brown, '"fair"' light lavender; not the colours of the models);
* the paper, this build and the stored run in :func:`paper_vs_book` are neutral, each with its own
  marker (:data:`SOURCE_STYLES`);
* ordered levels (noise levels, targets, factors) take evenly spaced colours of the "viridis" map
  by *rank*, so that 0.01, 0.03 and 0.1 are as distinct as 0.3 and 1 (:func:`ordered_palette`).

:func:`color` looks a name up in all of these.

Font sizes: the rule
--------------------
The book's pages (sphinx-book-theme) show a figure in a content column about ``C = 750`` px wide
on a 1,400 px window, scaled down to the column if it is wider (``max-width: 100%``) and never
scaled up. A figure ``W`` inches wide saved at ``d`` dpi is ``W d`` px wide, so text of ``f``
points is ``f d / 72`` px in the image and

    ``f d / 72 * min(1, C / (W d))`` px on the page.

With the book's ``d = 100`` (:data:`DPI`, Jupyter's inline default) and ``W <=`` :data:`FULL_WIDTH`
``= 7.5`` in, a figure is shown at its natural size, and 1 pt is ``100 / 72 = 1.39`` px. The
smallest text the style sets is :data:`MIN_FONT_PT` ``= 9`` pt (tick labels and legends are 10 pt,
axis labels 11 pt), that is 12.5 px on the page. A wider figure shrinks by ``C / (W d)``: keeping
9 px would need ``f >= 9 * 72 * W / C = 0.86 W`` pt, 9 pt for ``W = 10.4`` in; the book does not go
there and wraps panels instead (at most :data:`MAX_COLUMNS` panels side by side). On a 420 px
phone window the column is about 390 px, so a full-width figure shows at 0.52 of its size
(9 pt becomes 6.5 px, 10 pt 7.2 px): readable once the reader zooms into it, which is why the
figures stay at most two panels wide and grow in height instead. :func:`smallest_text_px`
computes the smallest text of a figure as shown on the page; the unit tests apply it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

__all__ = [
    "OKABE_ITO", "TOL_MUTED", "PALETTE", "GROUP_COLORS", "MODEL_COLORS", "MODEL_MARKERS",
    "MEASURE_COLORS", "ATTRIBUTE_COLORS", "ARCHITECTURE_COLORS", "ARCHITECTURE_LINESTYLES",
    "ARCHITECTURE_MARKERS", "LABEL_COLORS", "SOURCE_STYLES", "registry", "DPI",
    "FULL_WIDTH", "COLUMN_PX", "MIN_FONT_PT", "MAX_COLUMNS", "use_book_style", "color", "palette",
    "group_palette", "ordered_palette", "panel_grid", "figure_legend", "smallest_text_px",
    "place_labels", "group_distributions", "roc_curves", "tradeoff", "training_curves",
    "paper_vs_book",
]

#: Okabe & Ito's colour-blind-safe palette.
OKABE_ITO = {
    "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "black": "#000000",
}
#: Paul Tol's "muted" colour-blind-safe scheme.
TOL_MUTED = {
    "indigo": "#332288", "cyan": "#88CCEE", "teal": "#44AA99", "green": "#117733", "olive": "#999933",
    "sand": "#DDCC77", "rose": "#CC6677", "wine": "#882255", "purple": "#AA4499", "grey": "#DDDDDD",
}
#: The default colour cycle, for anything without a fixed colour. It holds neither group colour
#: (vermillion and blue mean s = 0 and s = 1 and nothing else); its first colour, a dark grey, is
#: the colour of a single series.
PALETTE = ["#4D4D4D", TOL_MUTED["green"], TOL_MUTED["purple"], TOL_MUTED["sand"], TOL_MUTED["teal"],
           TOL_MUTED["wine"], TOL_MUTED["olive"], "#8C564B"]

#: Colour of a group by its role — 0 = unprivileged, 1 = privileged (see :func:`group_palette`).
#: These two colours stand for the groups only: no model, measure, attribute, architecture or label
#: uses them, or a colour near them (``tests/test_plots.py`` checks it).
GROUP_COLORS = {0: OKABE_ITO["vermillion"], 1: OKABE_ITO["blue"]}


def _with_aliases(colors: dict, aliases: dict) -> dict:
    """A colour table in which each alias has the colour of the name it stands for."""
    return {**colors, **{alias: colors[name] for alias, name in aliases.items()}}


# One colour per *thing*, across every table below: a colour that means a model never means a
# measure, an attribute, an architecture or a label too (tests/test_plots.py checks it).
_MODELS = {
    "unmitigated": "#000000",                # the unmitigated network: black, marker o
    "mitigated (pivot)": OKABE_ITO["bluish green"],   # the pivot-trained (mitigated) network, marker s
    "GP": "#99DDFF",                         # light cyan ...
    "GP*": "#225555",                        # ... and dark cyan (the same hue; GP* also reads s)
    "FairGP": OKABE_ITO["reddish purple"],   # light purple ...
    "FairGP*": TOL_MUTED["wine"],            # ... and dark purple
    "SVM": "#777777",                        # the book's linear SVM: grey
    "SVM (RBF)": "#AAAAAA",                  # the paper's SVM (scikit-learn's SVC, RBF kernel): light grey
    "logistic regression": "#444444",        # dark grey
    "ZafarAccuracy": TOL_MUTED["olive"],     # Zafar et al.'s baselines (fairnotes.baselines)
    "ZafarFairness": TOL_MUTED["rose"],
    "ZafarEqOpp": "#66A61E",                 # leaf green
    "target-label network": "#8C564B",       # brown: a network trained through target labels (Part III)
    "target-label network*": "#4A2A1A",      # dark brown: the same, reading s (the starred variant)
}
#: One colour per model or mitigation, keyed by the model's one name (the notation page lists them).
MODEL_COLORS = dict(_MODELS)
#: One marker per model (a model and its starred variant share a hue and differ in marker).
MODEL_MARKERS = {"unmitigated": "o", "mitigated (pivot)": "s", "GP": "o", "GP*": "D", "FairGP": "s",
                 "FairGP*": "^", "SVM": "v", "SVM (RBF)": "v", "logistic regression": "P",
                 "target-label network": "X", "target-label network*": "P", "ZafarAccuracy": "<",
                 "ZafarFairness": ">", "ZafarEqOpp": "<"}

_MEASURES = {
    "sensitivity": TOL_MUTED["indigo"],           # plain prediction sensitivity
    "smooth (max)": "#EE3377",                    # magenta: smooth sensitivity, the maximum over neighbours
    "smooth (mean)": TOL_MUTED["teal"],           # the mean over neighbours
    "counterfactual change": TOL_MUTED["sand"],
    "closeness to the boundary": "#666633",       # dark olive: -|p - 0.5|
    "proxy sensitivity": "#BBCC33",               # pear
    "smooth proxy sensitivity": "#EE99AA",        # pink
    "proxy change": "#BBEEEE",                    # pale cyan
}
_MEASURE_ALIASES = {"plain": "sensitivity", "smooth sensitivity": "smooth (max)", "max": "smooth (max)",
                    "mean": "smooth (mean)", "distance to the threshold": "closeness to the boundary",
                    "distance to the boundary": "closeness to the boundary"}
#: The sensitivity measures and their variants (an alias such as "plain" has its measure's colour).
MEASURE_COLORS = _with_aliases(_MEASURES, _MEASURE_ALIASES)

#: The protected attributes.
ATTRIBUTE_COLORS = {"race": TOL_MUTED["green"], "sex": TOL_MUTED["purple"]}

_ARCHITECTURES = {"linear": "#B3DE69", "CNN": "#2F4F2F"}   # light green-yellow, dark green-grey
#: The paper's two architectures. Where they share a figure with groups or models, tell them apart
#: by line style and marker (:data:`ARCHITECTURE_LINESTYLES`, :data:`ARCHITECTURE_MARKERS`).
ARCHITECTURE_COLORS = _with_aliases(_ARCHITECTURES, {"cnn": "CNN", "Linear": "linear"})
#: Line style of each architecture — solid for linear, dashed for the CNN.
ARCHITECTURE_LINESTYLES = {"linear": "-", "Linear": "-", "CNN": "--", "cnn": "--"}
#: Marker of each architecture — a circle for linear, a square for the CNN.
ARCHITECTURE_MARKERS = {"linear": "o", "Linear": "o", "CNN": "s", "cnn": "s"}

#: The paper's label of a prediction — "unfair" if mitigation changed it (!Match), "fair" otherwise.
#: Not the models' colours: the label is a property of a prediction, not a network.
LABEL_COLORS = {'"unfair"': "#994455", '"fair"': "#CAB2D6"}   # dark red-brown; light lavender

#: How :func:`paper_vs_book` draws its three sources — neutral colours that mean no group or model,
#: each with its own marker, so that colour is never the only carrier.
SOURCE_STYLES = {
    "paper": {"color": "#555555", "marker": "o", "mfc": "white"},            # open circle
    "this build": {"color": "#000000", "marker": "s", "mfc": "#000000"},     # black square
    "stored run": {"color": "#999999", "marker": "D", "mfc": "#999999"},     # grey diamond
}


def registry() -> dict:
    """Every fixed colour of the book by family and canonical name (aliases left out).

    ``{"groups": {0: ..., 1: ...}, "models": {...}, "measures": {...}, "attributes": {...},
    "architectures": {...}, "labels": {...}}``: one entry per *thing*; the unit tests check that no
    colour stands for two things and that the group colours stand for nothing else. See the
    chapter :doc:`/book/data`.
    """
    return {"groups": dict(GROUP_COLORS), "models": dict(_MODELS), "measures": dict(_MEASURES),
            "attributes": dict(ATTRIBUTE_COLORS), "architectures": dict(_ARCHITECTURES),
            "labels": dict(LABEL_COLORS)}


DPI = 100            #: dots per inch of every figure (Jupyter's inline default)
FULL_WIDTH = 7.5     #: inches: the content column of a 1,400 px page at DPI
COLUMN_PX = 750      #: width of the content column, px
MIN_FONT_PT = 9      #: no text smaller than this, in points
MAX_COLUMNS = 2      #: panels side by side, at most

_RC = {
    "figure.dpi": DPI, "savefig.dpi": DPI, "figure.figsize": (FULL_WIDTH * 0.75, 3.6),
    "font.size": 10.5, "axes.titlesize": 11, "axes.labelsize": 10.5, "xtick.labelsize": 10,
    "ytick.labelsize": 10, "legend.fontsize": 10, "legend.title_fontsize": 10, "figure.titlesize": 11.5,
    "legend.framealpha": 0.9, "legend.edgecolor": "0.8", "lines.linewidth": 1.8, "axes.titlepad": 6,
    "axes.titlelocation": "center", "image.cmap": "viridis",
}


def use_book_style() -> None:
    """Set the book's figure style: seaborn's white grid, the palette and the font sizes of the rule.

    Chapters call it once in their set-up cell. See the chapter :doc:`/book/data`.
    """
    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE, rc=_RC)
    from fairnotes.tables import use_book_tables

    use_book_tables()   # plain DataFrame displays follow the book's number rules too


def color(name) -> str:
    """The book's fixed colour for a group role (0/1), model, measure, attribute or architecture.

    A model goes by its one name (:data:`MODEL_COLORS`: ``"unmitigated"``, ``"mitigated (pivot)"``,
    ``"GP"``, ...); the paper's quoted '"unfair"' and '"fair"' name the *labels* of a prediction,
    whose colours are :data:`LABEL_COLORS` (pass it as ``palette``).

    Raises ``KeyError``, naming the book's names, for a name the book has no colour for. See the
    chapter :doc:`/book/data`.
    """
    if isinstance(name, (bool, np.bool_)):
        raise KeyError(f"no book colour for {name!r}")
    if isinstance(name, (int, np.integer)) and int(name) in GROUP_COLORS:
        return GROUP_COLORS[int(name)]
    for table in (MODEL_COLORS, MEASURE_COLORS, ATTRIBUTE_COLORS, ARCHITECTURE_COLORS):
        if name in table:
            return table[name]
    raise KeyError(f"no book colour for {name!r}; the book's names are: models {list(MODEL_COLORS)}, "
                   f"measures {list(MEASURE_COLORS)}, attributes {list(ATTRIBUTE_COLORS)}, "
                   f"architectures {list(ARCHITECTURE_COLORS)}, and 0/1 for groups")


def palette(names: Sequence) -> dict:
    """``{name: colour}`` for the given names, each with its fixed colour (:func:`color`).

    See the chapter :doc:`/book/data`.
    """
    names = list(names)
    if not names:
        raise ValueError("palette() needs at least one name")
    return {n: color(n) for n in names}


def _marker(name) -> str:
    """The model's marker; a circle for a hue that is no model (an attribute, a target, ...)."""
    return MODEL_MARKERS.get(name, "o")


def group_palette(groups: Sequence[str]) -> dict:
    """``{name: colour}`` for a dataset's ``(unprivileged, privileged)`` group names.

    ``groups`` is ``TabularData.groups[attribute]`` (:class:`fairnotes.data.TabularData`) (s = 0 first). The colour follows the role, so that
    "Male", unprivileged in the auditability paper's COMPAS but privileged in Adult, is coloured as
    what it is in the figure's data. See the chapter :doc:`/book/data`.
    """
    groups = list(groups)
    if len(groups) != 2 or groups[0] == groups[1]:
        raise ValueError(f"groups must be two different names (unprivileged, privileged), got {groups!r}")
    return {groups[0]: GROUP_COLORS[0], groups[1]: GROUP_COLORS[1]}


def ordered_palette(levels: Sequence, cmap: str = "viridis") -> dict:
    """Evenly spaced colours of ``cmap`` for ordered levels, by rank (not by value).

    Returns ``{level: colour}`` in sorted order. See the chapter :doc:`/book/smooth_sensitivity`.
    """
    levels = sorted(set(levels))
    if not levels:
        raise ValueError("ordered_palette() needs at least one level")
    cm = mpl.colormaps[cmap]
    pos = np.linspace(0.05, 0.85, len(levels)) if len(levels) > 1 else [0.4]
    return {lev: mpl.colors.to_hex(cm(p)) for lev, p in zip(levels, pos)}


def panel_grid(n: int, ncols: int | None = None, height: float = 2.7, width: float = FULL_WIDTH,
               sharex: bool = False, sharey: bool = False):
    """A figure with ``n`` panels, at most :data:`MAX_COLUMNS` side by side; unused cells are removed.

    Returns ``(fig, axes)`` with ``axes`` a flat list of ``n`` axes. See the chapter
    :doc:`/book/sensitivity`.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    ncols = min(int(n), MAX_COLUMNS) if ncols is None else int(ncols)
    if not 1 <= ncols <= MAX_COLUMNS:
        raise ValueError(f"ncols must be between 1 and {MAX_COLUMNS}, got {ncols}")
    if width > FULL_WIDTH + 1e-9:
        raise ValueError(f"a figure wider than {FULL_WIDTH} in is scaled down on the page (see the rule)")
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height * nrows), squeeze=False,
                             sharex=sharex, sharey=sharey)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def figure_legend(fig, handles, labels, title: str | None = None, ncol: int | None = None):
    """One legend for the whole figure, above the panels, where it covers no data.

    See the chapter :doc:`/book/sensitivity`.
    """
    if not handles:
        return None
    ncol = ncol or min(len(handles), 4)
    fig.tight_layout(h_pad=1.8)       # a row's x label clear of the next row's title
    top = max(ax.get_position().y1 for ax in fig.axes)
    rows = math.ceil(len(handles) / ncol)
    height_in = fig.get_size_inches()[1]
    leg_h = (0.25 * rows + (0.25 if title else 0) + 0.08) / height_in
    fig.subplots_adjust(top=top - leg_h)
    return fig.legend(handles, labels, title=title, loc="upper center", ncol=ncol, frameon=False,
                      bbox_to_anchor=(0.5, 1.0), borderaxespad=0.2)


def smallest_text_px(fig, column_px: float = COLUMN_PX) -> float:
    """The size, in page pixels, of the smallest visible text of ``fig`` shown in a column ``column_px`` wide.

    Uses the rule of the module docstring: ``f * dpi / 72 * min(1, column_px / width_px)``, with
    the width of the saved (tight) image. See the chapter :doc:`/book/data`.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.findobj(mpl.text.Text) if t.get_visible() and t.get_text().strip()]
    if not texts:
        raise ValueError("the figure has no text")
    tight = fig.get_tightbbox(renderer)
    width_px = tight.width * fig.dpi
    shrink = min(1.0, column_px / width_px)
    return min(t.get_fontsize() for t in texts) * fig.dpi / 72 * shrink


# ---------------------------------------------------------------------------------------------
# labels that do not collide

def _overlap(a, b) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0) * max(h, 0)


def place_labels(ax, x, y, texts, fontsize: float | None = None, colors=None, pad: float = 2.0,
                 avoid=()):
    """Write ``texts`` next to the points ``(x, y)`` of ``ax`` where no label covers another or a point.

    Each label tries positions around its point, nearest first (right, above, left, below, the
    diagonals, then further out), and takes the first that overlaps no label placed before it, no
    point, no line in ``avoid`` and stays inside the axes; when none is free it takes the least
    covered one. ``avoid`` is a sequence of ``(xs, ys)`` polylines in data coordinates (the lines
    that join the points, say). Returns the list of annotations. See the chapter
    :doc:`/book/adversarial`.

    Why not adjustText (issue #27 asked for it unless the book's figures show that it does worse):
    on the book's own labelled figures (11 scenes, 47 labels, recorded from the chapters by
    ``benchmarks/bench_labels.py``; results in ``benchmarks/results/labels.csv``) adjustText 1.4.0
    left 4 labels on a marker and 2 on one another with its default forces (5 on a marker with
    forces three times stronger), where this placement leaves none, and it took about five times
    as long. Its default stop is a one-second time limit, so that its layout also depends on the
    machine's load; the book's figures must come out the same on every run.
    """
    x, y, texts = np.asarray(x, float), np.asarray(y, float), [str(t) for t in texts]
    if not (len(x) == len(y) == len(texts)):
        raise ValueError(f"x, y and texts must have the same length, got {len(x)}, {len(y)}, {len(texts)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("place_labels needs finite coordinates")
    fontsize = fontsize or mpl.rcParams["legend.fontsize"]
    colors = list(colors) if colors is not None else ["0.15"] * len(x)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    pts = ax.transData.transform(np.column_stack([x, y]))
    r = 5 * fig.dpi / 72                                    # half a marker, px
    obstacles = [mpl.transforms.Bbox([[px - r, py - r], [px + r, py + r]]) for px, py in pts]
    for lx, ly in avoid:                                    # a line: small boxes every few pixels along it
        line = ax.transData.transform(np.column_stack([np.asarray(lx, float), np.asarray(ly, float)]))
        for (ax0, ay0), (ax1, ay1) in zip(line[:-1], line[1:]):
            n = max(int(np.hypot(ax1 - ax0, ay1 - ay0) / 3), 1)
            for t in np.linspace(0, 1, n + 1):
                px, py = ax0 + t * (ax1 - ax0), ay0 + t * (ay1 - ay0)
                obstacles.append(mpl.transforms.Bbox([[px - 1, py - 1], [px + 1, py + 1]]))
    inside = ax.get_window_extent(renderer)
    directions = [(1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, 1), (-1, -1), (1, -1)]
    placed = []
    for i, text in enumerate(texts):
        best, best_cost = None, np.inf
        for dist in (4, 9, 16, 26):
            for dx, dy in directions:
                ha = "left" if dx > 0 else "right" if dx < 0 else "center"
                va = "bottom" if dy > 0 else "top" if dy < 0 else "center"
                ann = ax.annotate(text, (x[i], y[i]), xytext=(dx * dist, dy * dist), textcoords="offset points",
                                  ha=ha, va=va, fontsize=fontsize, color=colors[i])
                bb = ann.get_window_extent(renderer).expanded(1, 1).padded(pad)
                cost = sum(_overlap(bb, o) for o in obstacles)
                out = (max(inside.x0 - bb.x0, 0) + max(bb.x1 - inside.x1, 0)
                       + max(inside.y0 - bb.y0, 0) + max(bb.y1 - inside.y1, 0))
                cost += out * bb.height * 2 + dist * 1e-3          # prefer near positions when free
                if cost < best_cost:
                    if best is not None:
                        best[0].remove()
                    best, best_cost = (ann, bb), cost
                else:
                    ann.remove()
                if best_cost < 1e-2 * 26:
                    break
            if best_cost < 1e-2 * 26:
                break
        ann, bb = best
        obstacles.append(bb)
        placed.append(ann)
    return placed


# ---------------------------------------------------------------------------------------------
# the figures the book draws again and again

class _PercentTicks(mpl.ticker.Formatter):
    """Tick labels in %, with as many decimals as the tick step needs (2.5% stays 2.5%, not 2%)."""

    def __call__(self, x, pos=None):
        return self.format_ticks([x])[0]

    def format_ticks(self, values):
        values = np.asarray(values, float)
        decimals = next((d for d in range(4) if np.allclose(np.round(values, d), values, rtol=0, atol=1e-9)), 4)
        return [f"{v:.{decimals}f}%" for v in values]


def _as_palette(names, pal):
    if pal is None:               # fixed colours; a name the book has none for gets an unused one, with a warning
        out, unknown = {}, []
        for n in names:
            try:
                out[n] = color(n)
            except KeyError:
                unknown.append(n)
        if unknown:
            import warnings

            warnings.warn(f"fairnotes.plots has no fixed colour for {unknown}: add them to its colour tables",
                          stacklevel=3)
            spare = [c for c in PALETTE if c not in out.values()] or PALETTE
            out.update({n: spare[i % len(spare)] for i, n in enumerate(unknown)})
        return {n: out[n] for n in names}
    missing = [n for n in names if n not in pal]
    if missing:
        raise ValueError(f"the palette has no colour for {missing}")
    return dict(pal)


def _order(values, order):
    present = list(pd.unique(values))
    if order is None:
        return present
    unknown = [v for v in present if v not in list(order)]
    if unknown:
        raise ValueError(f"values {unknown} are not in the given order {list(order)}")
    return [o for o in order if o in present]


def _check_columns(data, cols):
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in cols if c is not None and c not in data.columns]
    if missing:
        raise ValueError(f"data has no column {missing}; it has {list(data.columns)}")


def group_distributions(data: pd.DataFrame, x: str, hue: str, panel: str | None = None, *,
                        hue_order=None, panel_order=None, palette: Mapping | None = None, log: bool = False,
                        bins: int = 40, xlabel: str | None = None, ylabel: str | None = None,
                        notes: Mapping | None = None, vlines: Mapping | None = None, height: float = 2.6,
                        legend_title: str | None = None, sharex: bool = False):
    """Step histograms of ``x`` per ``hue``, one panel per ``panel``: the y axis is the percentage of
    that hue's rows (in that panel) that fall in each bin.

    Each hue's bars add up to 100%, so groups of different sizes compare directly, and on a log
    axis (``log``) the height of a bin is the share of rows in it, not a density per linear unit
    (which, over log-spaced bins, would make the narrow bins near 0 tower over the wide ones and
    the eye read the mass backwards). The y label says so (``ylabel`` replaces it). The colours
    come from ``palette`` (for groups, :func:`group_palette`) or from the book's fixed colours; the
    legend sits above the panels. ``log`` puts ``x`` on a log scale with bins of equal width on
    that scale (values <= 0 are clipped to the smallest positive value and counted in the first
    bin). ``notes`` maps a panel to a text shown in it instead
    of a histogram (for a model whose measure is 0 by construction); ``vlines`` maps a panel to an
    ``x`` value drawn as a dashed line. Returns the figure. See the chapter :doc:`/book/sensitivity`.
    """
    _check_columns(data, [x, hue, panel])
    if len(data) == 0:
        raise ValueError("no data to plot")
    notes, vlines = dict(notes or {}), dict(vlines or {})
    panels = _order(data[panel], panel_order) if panel else [None]
    for p in notes:
        if p not in panels:
            panels.append(p)
    hues = _order(data[hue], hue_order if hue_order is not None or palette is None else
                  [k for k in palette if k in set(data[hue])])
    pal = _as_palette(hues, palette)
    fig, axes = panel_grid(len(panels), height=height, sharex=sharex)
    values = data[x].to_numpy(float)
    positive = values[values > 0]
    floor = positive.min() if log and len(positive) else None
    for ax, p in zip(axes, panels):
        d = data if p is None else data[data[panel] == p]
        if p in notes or len(d) == 0:
            ax.text(0.5, 0.5, textwrap.fill(str(notes.get(p, "no data")), 30), ha="center", va="center",
                    transform=ax.transAxes, fontsize=mpl.rcParams["legend.fontsize"], color="0.3")
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
            if p is not None:
                ax.set_title(str(p))
            continue                                  # no axis labels on a panel without data
        else:
            v = d[x].to_numpy(float)
            if log:
                v = np.clip(v, floor, None)
                edges = np.geomspace(v.min(), v.max() * 1.0001 if v.max() > v.min() else v.min() * 10, bins + 1)
                ax.set_xscale("log")
            else:
                lo, hi = np.nanmin(v), np.nanmax(v)
                edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
            for h in hues:
                vh = np.clip(d.loc[d[hue] == h, x].to_numpy(float), floor, None) if log else d.loc[d[hue] == h, x]
                if len(vh):   # the share of this hue's rows per bin, in %: not a density
                    ax.hist(vh, bins=edges, weights=np.full(len(vh), 100.0 / len(vh)), histtype="step", lw=1.6,
                            color=pal[h], label=str(h))
            if p in vlines:
                ax.axvline(vlines[p], color="black", ls="--", lw=1)
        if p is not None:
            ax.set_title(str(p))
        ax.set_xlabel(xlabel or x)
        ax.set_ylabel(ylabel if ylabel is not None else "share of rows per bin")
        ax.yaxis.set_major_formatter(_PercentTicks())
    handles = [mpl.lines.Line2D([], [], color=pal[h], lw=2) for h in hues]
    figure_legend(fig, handles, [str(h) for h in hues], title=legend_title)
    return fig


def roc_curves(curves: pd.DataFrame, hue: str, panel: str | None = None, *, aucs: Mapping, hue_order=None,
               panel_order=None, palette: Mapping | None = None,
               height: float = 2.9, xlabel: str = "false-positive rate", ylabel: str = "true-positive rate"):
    """ROC curves (columns ``fpr``, ``tpr``), one line per ``hue``, one panel per ``panel``, AUC in the legend.

    ``aucs`` gives each curve's AUC, keyed by ``(panel, hue)`` (or ``hue`` without panels),
    computed from the labels and scores by :func:`fairnotes.metrics.roc_auc` (or
    :func:`fairnotes.metrics.roc_auc_interval`): the figure shows the package's one AUC and does
    not recompute it from the curve. A curve without an AUC raises. The colours are explained once, above the panels; each panel's
    AUCs are its own legend, in the lower right corner, below the diagonal, where a ROC curve
    better than chance leaves room. Returns the figure. See the chapter
    :doc:`/book/audit`.
    """
    _check_columns(curves, ["fpr", "tpr", hue, panel])
    if len(curves) == 0:
        raise ValueError("no ROC curve to plot")
    panels = _order(curves[panel], panel_order) if panel else [None]
    hues = _order(curves[hue], hue_order)
    pal = _as_palette(hues, palette)
    if len(panels) == 1:                              # one panel: large enough to read the curve
        fig, axes = panel_grid(1, height=max(height, 3.6), width=4.6)
    else:
        fig, axes = panel_grid(len(panels), height=height, width=min(FULL_WIDTH, 3.75 * min(len(panels), 2)))
    for ax, p in zip(axes, panels):
        d = curves if p is None else curves[curves[panel] == p]
        for h in hues:
            c = d[d[hue] == h]
            if not len(c):
                continue
            key = h if p is None else (p, h)
            if key not in aucs:
                raise ValueError(f"aucs gives no AUC for the curve {key!r}")
            auc = aucs[key]
            ax.plot(c["fpr"], c["tpr"], color=pal[h], label=f"AUC {auc:.2f}")
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel=xlabel, ylabel=ylabel, aspect="equal")
        if p is not None:
            ax.set_title(str(p))
        if ax.get_legend_handles_labels()[0]:  # below the diagonal, where a useful ROC curve is not
            ax.legend(loc="lower right", fontsize=MIN_FONT_PT, handlelength=1.0, borderaxespad=0.3,
                      labelspacing=0.25, borderpad=0.3)
    for ax in axes:
        if not ax.get_subplotspec().is_first_col():
            ax.set_ylabel("")
        if not ax.get_subplotspec().is_last_row() and len(axes) > 2:
            ax.set_xlabel("")
    handles = [mpl.lines.Line2D([], [], color=pal[h], lw=2) for h in hues]
    figure_legend(fig, handles, [str(h) for h in hues])
    return fig


def tradeoff(data: pd.DataFrame, x: str, y: str, label: str | None = None, hue: str | None = None, *,
             panel: str | None = None, hue_order=None, panel_order=None, palette: Mapping | None = None,
             connect: bool = False, xref: float | None = None, yref: float | None = None,
             xlabel: str | None = None, ylabel: str | None = None, errors: Mapping | None = None,
             height: float = 3.4, width: float | None = None, legend_title: str | None = None, ax=None,
             markers: Mapping | None = None):
    """Accuracy against a fairness measure: one point per row, coloured by ``hue``, labelled by ``label``.

    Labels are placed by :func:`place_labels`, so they never cover one another, a point or a
    connecting line; each hue's markers are a little larger than the next hue's, so that two
    points at the same place both show. ``markers`` maps a hue to its marker (default: the model's marker, else a
    circle). ``connect`` joins each hue's points in row order; ``xref``/``yref`` draw the parity line; ``errors`` maps
    ``"x"``/``"y"`` to columns of standard deviations drawn as error bars. Returns the figure. See
    the chapter :doc:`/book/adversarial`.
    """
    _check_columns(data, [x, y, label, hue, panel, *(errors or {}).values()])
    if len(data) == 0:
        raise ValueError("no points to plot")
    hues = _order(data[hue], hue_order) if hue else [None]
    pal = _as_palette(hues, palette) if hue else {None: PALETTE[0]}
    panels = _order(data[panel], panel_order) if panel else [None]

    def mark(h):
        if markers is not None and h in markers:
            return markers[h]
        return _marker(h) if h is not None else "o"

    if ax is not None:
        if panel:
            raise ValueError("ax and panel cannot be used together")
        fig, axes = ax.figure, [ax]
    else:
        fig, axes = panel_grid(len(panels), height=height,
                               width=width or min(FULL_WIDTH, 3.75 * min(len(panels), 2) + (0 if len(panels) > 1 else 1.5)))
    for a, p in zip(axes, panels):
        d = data if p is None else data[data[panel] == p]
        if xref is not None:
            a.axvline(xref, color="grey", ls="--", lw=1)
        if yref is not None:
            a.axhline(yref, color="grey", ls="--", lw=1)
        for k, h in enumerate(hues):
            dh = d if h is None else d[d[hue] == h]
            if not len(dh):
                continue
            xe = dh[errors["x"]] if errors and "x" in errors else None
            ye = dh[errors["y"]] if errors and "y" in errors else None
            if xe is not None or ye is not None:
                a.errorbar(dh[x], dh[y], xerr=xe, yerr=ye, fmt="none", ecolor=pal[h], alpha=0.6, lw=1)
            if connect:
                a.plot(dh[x], dh[y], color=pal[h], lw=1.2, alpha=0.8)
            # earlier hues larger, so that a point under a later one still shows around it
            a.scatter(dh[x], dh[y], color=pal[h], marker=mark(h), s=45 + 20 * (len(hues) - 1 - k),
                      label=None if h is None else str(h), zorder=3, edgecolor="white", linewidth=0.5)
        a.set_xlabel(xlabel or x)
        a.set_ylabel(ylabel or y)
        if p is not None:
            a.set_title(str(p))
        a.margins(0.15)
    if hue and hue != label:
        handles = [mpl.lines.Line2D([], [], color=pal[h], marker=mark(h), ls="-" if connect else "",
                                    markersize=7) for h in hues]
        if ax is None:
            figure_legend(fig, handles, [str(h) for h in hues], title=legend_title)
        else:
            ax.legend(handles, [str(h) for h in hues], title=legend_title)
    elif ax is None:
        fig.tight_layout()
    if label:
        for a, p in zip(axes, panels):
            d = data if p is None else data[data[panel] == p]
            d = d[d[label].notna() & (d[label].astype(str) != "")]      # an empty label is no label
            if len(d):
                cols = [pal[h] for h in (d[hue] if hue else [None] * len(d))]
                whole = data if p is None else data[data[panel] == p]
                lines = ([(whole[x] if h is None else whole.loc[whole[hue] == h, x],
                           whole[y] if h is None else whole.loc[whole[hue] == h, y]) for h in hues]
                         if connect else ())
                place_labels(a, d[x], d[y], d[label], colors=cols, avoid=lines)
    return fig


def training_curves(history: pd.DataFrame, x: str, metrics: Sequence[str], hue: str | None = None, *,
                    hue_order=None, palette: Mapping | None = None, style: str | None = None,
                    refs: Mapping | None = None, titles: Mapping | None = None, height: float = 2.6,
                    legend_title: str | None = None):
    """One panel per metric against ``x`` (iteration, epoch, step), one line per ``hue``.

    ``style`` gives a second variable as line style (solid, dashed, dotted); ``refs`` maps a
    metric to a reference value drawn as a dashed line (80 for the p%-rule, 1 for disparate
    impact); ``titles`` maps a metric to its panel title. Returns the figure. See the chapter
    :doc:`/book/sensitivity`.
    """
    metrics = list(metrics)
    if not metrics:
        raise ValueError("training_curves needs at least one metric")
    _check_columns(history, [x, hue, style, *metrics])
    hues = _order(history[hue], hue_order) if hue else [None]
    pal = _as_palette(hues, palette) if hue else {None: PALETTE[0]}
    styles = list(pd.unique(history[style])) if style else [None]
    dashes = dict(zip(styles, ["-", "--", ":", "-."] * 3))
    fig, axes = panel_grid(len(metrics), height=height)
    for ax, m in zip(axes, metrics):
        for h in hues:
            for st in styles:
                d = history
                if h is not None:
                    d = d[d[hue] == h]
                if st is not None:
                    d = d[d[style] == st]
                if len(d):
                    ax.plot(d[x], d[m], color=pal[h], ls=dashes[st], marker="o", ms=3.5)
        if refs and m in refs:
            ax.axhline(refs[m], color="grey", ls="--", lw=1)
        ax.set_title((titles or {}).get(m, m))
        ax.set_xlabel(x)
        ax.set_ylabel("")
    handles, labels = [], []
    if hue:
        handles += [mpl.lines.Line2D([], [], color=pal[h], lw=2) for h in hues]
        labels += [str(h) for h in hues]
    if style and len(styles) > 1:
        handles += [mpl.lines.Line2D([], [], color="0.3", ls=dashes[s], lw=1.5) for s in styles]
        labels += [str(s) for s in styles]
    if handles:
        figure_legend(fig, handles, labels, title=legend_title)
    else:
        fig.tight_layout()
    return fig


def paper_vs_book(table: pd.DataFrame, row: str, metric: str, *, paper: str = "paper",
                  paper_std: str | None = "paper std", book: str = "book", book_std: str | None = "book std",
                  metric_order=None, refs: Mapping | None = None, height_per_row: float = 0.24,
                  book_color: str | None = None, title: str | None = None,
                  stored: str | None = None, stored_std: str | None = None,
                  book_label: str = "this book", stored_label: str = "stored paper-size run",
                  paper_label: str = "paper (mean ± std)"):
    """A dot plot of the paper's values against the book's: one row per setting, one panel per metric.

    ``table`` is long: one line per (``row``, ``metric``) with the paper's value (with its standard
    deviation as a bar) and the book's value beside it (with its own spread if ``book_std`` is
    given and not NaN). With ``stored`` (and ``stored_std``), a third value per line: the stored
    paper-size run (:mod:`fairnotes.runs`), as a diamond below the other two; a NaN is not drawn.
    The three sources are told apart by marker as well as by their neutral colours
    (:data:`SOURCE_STYLES`: the paper an open circle, this build a black square, the stored run a
    grey diamond), none of them a group's or a model's colour.
    ``refs`` maps a metric to a reference value (parity) drawn as a dashed line. Returns the
    figure. See the chapter :doc:`/book/fairgp_parity`.
    """
    _check_columns(table, [row, metric, paper, book, paper_std, book_std, stored, stored_std])
    if len(table) == 0:
        raise ValueError("no rows to plot")
    metrics = _order(table[metric], metric_order)
    rows = list(pd.unique(table[row]))
    ncols = min(len(metrics), MAX_COLUMNS)
    nrows = math.ceil(len(metrics) / ncols)
    h = max(1.6, height_per_row * len(rows) + 0.8)
    fig, axes = panel_grid(len(metrics), ncols=ncols, height=h, sharey=False)
    pos = {r: i for i, r in enumerate(rows)}
    ps, bs, ss = SOURCE_STYLES["paper"], SOURCE_STYLES["this build"], SOURCE_STYLES["stored run"]
    bc = book_color or bs["color"]
    offsets = (-0.22, 0.0, 0.22) if stored else (-0.15, 0.15, None)
    for k, (ax, m) in enumerate(zip(axes, metrics)):
        d = table[table[metric] == m]
        yy = d[row].map(pos).to_numpy(float)
        pe = d[paper_std].to_numpy(float) if paper_std else None
        be = d[book_std].to_numpy(float) if book_std else None
        ax.errorbar(d[paper], yy + offsets[0], xerr=pe, fmt=ps["marker"], color=ps["color"], mfc=ps["mfc"],
                    mew=1.3, ms=5.5, lw=1.2, capsize=2, label=paper_label)
        ax.errorbar(d[book], yy + offsets[1], xerr=None if be is None or np.isnan(be).all() else np.nan_to_num(be),
                    fmt=bs["marker"], color=bc, mfc=bc, ms=5, lw=1.2, capsize=2, label=book_label)
        if stored:
            se = d[stored_std].to_numpy(float) if stored_std else None
            ax.errorbar(d[stored], yy + offsets[2], xerr=None if se is None or np.isnan(se).all() else np.nan_to_num(se),
                        fmt=ss["marker"], color=ss["color"], mfc=ss["mfc"], ms=5, lw=1.2, capsize=2,
                        label=stored_label)
        if refs and m in refs:
            ax.axvline(refs[m], color="grey", ls="--", lw=1)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(rows if k % ncols == 0 else [])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_title(str(m))
        ax.grid(axis="y", alpha=0.4)
    handles, labels = axes[0].get_legend_handles_labels()
    figure_legend(fig, handles, labels, title=title)
    return fig
