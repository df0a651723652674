"""fairnotes.plots: fixed, distinct, colour-blind-safe colours; helpers that return readable figures."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from fairnotes import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _style():
    plots.use_book_style()
    yield
    plt.close("all")


def _distance(a, b):
    return float(np.linalg.norm(np.array(mcolors.to_rgb(a)) - np.array(mcolors.to_rgb(b))))


@pytest.mark.parametrize("table", ["GROUP_COLORS", "MODEL_COLORS", "ATTRIBUTE_COLORS", "LABEL_COLORS",
                                   "ARCHITECTURE_COLORS"])
def test_colours_within_a_kind_are_distinct(table):
    colours = {k: v for k, v in getattr(plots, table).items() if k != "CNN"}
    for (n1, c1), (n2, c2) in itertools.combinations(colours.items(), 2):
        assert _distance(c1, c2) > 0.15, f"{table}: {n1} and {n2} look alike ({c1}, {c2})"


def test_measures_have_distinct_colours():
    distinct = {plots.MEASURE_COLORS[k] for k in ("sensitivity", "smooth (max)", "smooth (mean)",
                                                  "counterfactual change")}
    assert len(distinct) == 4


def test_colours_are_fixed():
    # the book's figures and prose rely on these: a change must be deliberate
    assert plots.GROUP_COLORS == {0: "#D55E00", 1: "#0072B2"}
    assert plots.color("unfair") == plots.color('"unfair"') == plots.color("network") == "#E69F00"
    assert plots.color("fair") == plots.color("pivot network") == "#009E73"
    assert plots.color("SVM (linear)") == plots.color("SVM")
    assert plots.palette(["GP", "FairGP*"]) == {"GP": plots.MODEL_COLORS["GP"], "FairGP*": plots.MODEL_COLORS["FairGP*"]}


def test_use_book_style_sets_the_rule():
    plots.use_book_style()
    rc = matplotlib.rcParams
    assert rc["figure.dpi"] == plots.DPI
    sizes = [rc[k] for k in ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
                             "ytick.labelsize", "legend.fontsize")]
    assert min(sizes) >= plots.MIN_FONT_PT
    assert mcolors.to_hex(rc["axes.prop_cycle"].by_key()["color"][0]) == plots.PALETTE[0].lower()


def test_group_palette_follows_the_role():
    adult = plots.group_palette(("Female", "Male"))
    compas = plots.group_palette(("Male", "Female"))   # the auditability paper's COMPAS, sex
    assert adult["Female"] == compas["Male"] == plots.GROUP_COLORS[0]
    with pytest.raises(ValueError):
        plots.group_palette(("a",))
    with pytest.raises(ValueError):
        plots.group_palette(("a", "a"))


def test_ordered_palette_spreads_close_values():
    pal = plots.ordered_palette([0.01, 0.03, 0.1, 0.3, 1.0])
    for a, b in itertools.combinations(pal.values(), 2):
        assert _distance(a, b) > 0.12
    with pytest.raises(ValueError):
        plots.ordered_palette([])


def test_unknown_names_error():
    with pytest.raises(KeyError):
        plots.color("no such model")
    with pytest.raises(KeyError):
        plots.color(True)
    with pytest.raises(ValueError):
        plots.palette([])


def _hist_data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"v": rng.lognormal(size=n), "group": rng.choice(["Black", "White"], n),
                         "panel": rng.choice(["adult, linear", "compas, cnn", "adult, cnn"], n)})


def test_group_distributions_returns_a_readable_figure():
    fig = plots.group_distributions(_hist_data(), "v", "group", "panel", log=True,
                                    palette=plots.group_palette(("Black", "White")),
                                    notes={"FairGP": "sensitivity 0 by construction"})
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 4
    assert plots.smallest_text_px(fig) >= 9
    # the legend sits above the panels, not on the data
    legend = fig.legends[0]
    fig.canvas.draw()
    top = max(ax.get_window_extent().y1 for ax in fig.axes)
    assert legend.get_window_extent().y0 >= top - 1
    # the legend keeps the palette's order (unprivileged first) and colours
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["Black", "White"]


def test_group_distributions_checks_its_input():
    with pytest.raises(ValueError):
        plots.group_distributions(_hist_data(), "nope", "group")
    with pytest.raises(TypeError):
        plots.group_distributions({"v": [1]}, "v", "group")
    with pytest.raises(ValueError):
        plots.group_distributions(_hist_data(), "v", "group", palette={"Black": "#000000"})


def test_roc_curves_show_the_auc():
    x = np.linspace(0, 1, 50)
    curves = pd.concat([pd.DataFrame({"fpr": x, "tpr": x ** 0.5, "measure": "sensitivity", "panel": p})
                        for p in ("adult", "compas")])
    fig = plots.roc_curves(curves, "measure", "panel")
    texts = [t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()]
    assert texts == ["AUC 0.67", "AUC 0.67"]
    assert plots.smallest_text_px(fig) >= 9
    with pytest.raises(ValueError):
        plots.roc_curves(curves.drop(columns="tpr"), "measure")


def _overlaps(anns):
    fig = anns[0].figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [a.get_window_extent(r) for a in anns]
    return [(i, j) for i, j in itertools.combinations(range(len(boxes)), 2) if boxes[i].overlaps(boxes[j])]


def test_place_labels_avoids_collisions():
    fig, ax = plt.subplots(figsize=(5, 3.5))
    x = np.array([0.3, 0.3, 0.301, 0.9, 0.9, 0.5])      # "x0.3x0.3": two labels on one point
    y = np.array([0.85, 0.85, 0.851, 0.81, 0.8102, 0.83])
    ax.scatter(x, y)
    ax.set_xlim(0.2, 1.0), ax.set_ylim(0.79, 0.87)
    anns = plots.place_labels(ax, x, y, ["x0.3", "x0.3", "x1", "1.0", "1.0", "x3"])
    assert _overlaps(anns) == []
    with pytest.raises(ValueError):
        plots.place_labels(ax, [0, 1], [0], ["a", "b"])
    with pytest.raises(ValueError):
        plots.place_labels(ax, [np.nan], [0], ["a"])


def test_tradeoff_labels_do_not_collide():
    t = pd.DataFrame({"DI": [0.30, 0.305, 0.5, 0.90, 0.905], "accuracy": [0.85, 0.851, 0.83, 0.81, 0.8105],
                      "model": ["unfair", "fair", "GP", "FairGP", "FairGP*"]})
    fig = plots.tradeoff(t, "DI", "accuracy", label="model", hue="model", xref=1)
    anns = [c for c in fig.axes[0].texts]
    assert len(anns) == 5 and _overlaps(anns) == []
    assert plots.smallest_text_px(fig) >= 9
    with pytest.raises(ValueError):
        plots.tradeoff(t.iloc[:0], "DI", "accuracy")


def test_training_curves_and_paper_vs_book():
    h = pd.DataFrame({"iteration": np.tile(np.arange(5), 2), "p%-rule": np.r_[np.linspace(40, 90, 5)] .tolist() * 2,
                      "accuracy": [0.85] * 10, "attribute": ["race"] * 5 + ["sex"] * 5})
    fig = plots.training_curves(h, "iteration", ["p%-rule", "accuracy"], hue="attribute", refs={"p%-rule": 80})
    assert len(fig.axes) == 2 and plots.smallest_text_px(fig) >= 9
    with pytest.raises(ValueError):
        plots.training_curves(h, "iteration", [])
    side = pd.DataFrame({"row": [f"setting {i}" for i in range(12)] * 2, "metric": ["DI"] * 12 + ["accuracy"] * 12,
                         "paper": np.linspace(0.5, 1, 24), "paper std": 0.02, "book": np.linspace(0.45, 1, 24),
                         "book std": np.nan})
    fig = plots.paper_vs_book(side, "row", "metric", refs={"DI": 1})
    assert len(fig.axes) == 2 and plots.smallest_text_px(fig) >= 9
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][:2] == ["setting 0", "setting 1"]
    with pytest.raises(ValueError):
        plots.paper_vs_book(side.drop(columns="book"), "row", "metric")
    # a third value per line, the stored paper-size run; a NaN (not stored) is simply not drawn
    side["stored"] = np.where(np.arange(24) % 2 == 0, np.linspace(0.5, 1, 24), np.nan)
    fig = plots.paper_vs_book(side, "row", "metric", stored="stored")
    labels = fig.legends[0].get_texts() if fig.legends else fig.axes[0].get_legend().get_texts()
    assert [t.get_text() for t in labels] == ["paper (mean ± std)", "this book", "stored paper-size run"]
    with pytest.raises(ValueError, match="no column"):
        plots.paper_vs_book(side, "row", "metric", stored="paper-size")


def test_panel_grid_wraps_and_refuses_wide_figures():
    fig, axes = plots.panel_grid(5)
    assert len(axes) == 5 and len(fig.axes) == 5
    assert fig.get_size_inches()[0] <= plots.FULL_WIDTH
    with pytest.raises(ValueError):
        plots.panel_grid(2, width=12)
    with pytest.raises(ValueError):
        plots.panel_grid(0)


def test_smallest_text_px_applies_the_rule():
    fig, ax = plt.subplots(figsize=(15, 3))            # twice the column: text shows at half size
    ax.set_title("t", fontsize=10)
    ax.set_xticks([]), ax.set_yticks([])
    px = plots.smallest_text_px(fig)
    assert px == pytest.approx(10 * plots.DPI / 72 * plots.COLUMN_PX / (fig.get_tightbbox().width * plots.DPI))
    assert px < 9


def test_import_fairnotes_does_not_load_plots():
    import subprocess
    import sys

    code = "import sys, fairnotes; print('fairnotes.plots' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_unknown_names_keep_the_others_fixed():
    t = pd.DataFrame({"x": [0.1, 0.5], "y": [0.8, 0.7], "model": ["GP", "a model without a colour"]})
    with pytest.warns(UserWarning, match="no fixed colour"):
        fig = plots.tradeoff(t, "x", "y", hue="model")
    colours = [mcolors.to_hex(c.get_facecolor()[0]) for c in fig.axes[0].collections]
    assert colours[0] == plots.MODEL_COLORS["GP"].lower()
    assert colours[1] != colours[0]
