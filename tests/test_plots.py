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


def _lab(colour):
    """CIE L*a*b* of an sRGB colour (D65): distances in it follow what the eye sees."""
    rgb = np.array(mcolors.to_rgb(colour))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _delta_e(a, b) -> float:
    """CIE76 colour difference: about 2 is just noticeable, orange against vermillion is 33."""
    return float(np.linalg.norm(_lab(a) - _lab(b)))


GROUP_MARGIN = 40      # no other colour within this of a group's (orange #E69F00 is 33 from vermillion)
THING_MARGIN = 15      # two things of the registry never closer than this
KIND_MARGIN = 18       # two things of one kind (two models, two measures), which share figures


def _things():
    """Every (kind, name, colour) of the registry, one entry per thing (aliases left out)."""
    return [(kind, name, c) for kind, table in plots.registry().items() for name, c in table.items()]


def test_no_colour_stands_for_two_things():
    """Across groups, models, measures, attributes, architectures and labels, a colour means one thing."""
    things = _things()
    assert len(things) >= 28
    by_colour = {}
    for kind, name, c in things:
        by_colour.setdefault(mcolors.to_hex(c), []).append(f"{kind}:{name}")
    reused = {c: names for c, names in by_colour.items() if len(names) > 1}
    assert not reused, f"colours that stand for two things: {reused}"
    close = [(f"{k1}:{n1}", c1, f"{k2}:{n2}", c2, round(_delta_e(c1, c2), 1))
             for (k1, n1, c1), (k2, n2, c2) in itertools.combinations(things, 2)
             if _delta_e(c1, c2) < (KIND_MARGIN if k1 == k2 else THING_MARGIN)]
    assert not close, f"colours of two things that look alike: {close}"


def test_group_colours_are_used_by_nothing_else():
    groups = plots.GROUP_COLORS.values()
    near = [(kind, name, c, round(_delta_e(c, g), 1)) for kind, name, c in _things() if kind != "groups"
            for g in groups if _delta_e(c, g) < GROUP_MARGIN]
    assert not near, f"colours at or near a group's (vermillion = s=0, blue = s=1): {near}"
    for name, table in [("PALETTE", dict(enumerate(plots.PALETTE))), ("MODEL_COLORS", plots.MODEL_COLORS),
                        ("MEASURE_COLORS", plots.MEASURE_COLORS), ("ATTRIBUTE_COLORS", plots.ATTRIBUTE_COLORS),
                        ("ARCHITECTURE_COLORS", plots.ARCHITECTURE_COLORS), ("LABEL_COLORS", plots.LABEL_COLORS)]:
        for key, c in table.items():
            for g in groups:
                assert _delta_e(c, g) >= GROUP_MARGIN, f"{name}[{key!r}] = {c} is (near) a group's colour {g}"
    for source, style in plots.SOURCE_STYLES.items():
        for g in groups:
            assert _delta_e(style["color"], g) >= GROUP_MARGIN, f"paper_vs_book's {source} has a group's colour"


def test_aliases_share_their_things_colour():
    """Every name of a table is a thing of the registry or an alias with that thing's colour."""
    registry = plots.registry()
    for table, kind in [(plots.MODEL_COLORS, "models"), (plots.MEASURE_COLORS, "measures"),
                        (plots.ARCHITECTURE_COLORS, "architectures"), (plots.ATTRIBUTE_COLORS, "attributes"),
                        (plots.LABEL_COLORS, "labels")]:
        assert set(table.values()) == set(registry[kind].values()), f"{kind}: a colour outside the registry"
    assert plots.color("plain") == plots.color("sensitivity")
    assert plots.color("smooth sensitivity") == plots.color("smooth (max)")
    assert plots.color("cnn") == plots.color("CNN")
    # the paper's *label* "unfair" is not the unmitigated model's colour
    assert plots.LABEL_COLORS['"unfair"'] != plots.color("unmitigated")
    assert plots.LABEL_COLORS['"fair"'] != plots.color("mitigated (pivot)")


def test_one_name_per_model():
    """A model has one name: the colour and marker tables share their keys, and no other name has a colour."""
    assert list(plots.MODEL_COLORS) == list(plots.registry()["models"])
    assert set(plots.MODEL_MARKERS) == set(plots.MODEL_COLORS)
    for name in ["unfair", '"unfair"', "network", "fair", '"fair"', "pivot", "mitigated", "SVM (linear)",
                 "logistic", "target labels"]:
        with pytest.raises(KeyError, match=r"no book colour for .*models .*unmitigated.*mitigated \(pivot\)"):
            plots.color(name)


def test_colour_is_not_the_only_carrier():
    """Models that share a hue differ in marker; the architectures differ in line style and marker."""
    for a, b in [("GP", "GP*"), ("FairGP", "FairGP*"), ("unmitigated", "mitigated (pivot)"),
                 ("target-label network", "target-label network*")]:
        assert plots.MODEL_MARKERS[a] != plots.MODEL_MARKERS[b], (a, b)
    assert plots.ARCHITECTURE_LINESTYLES["linear"] != plots.ARCHITECTURE_LINESTYLES["CNN"]
    assert plots.ARCHITECTURE_MARKERS["linear"] != plots.ARCHITECTURE_MARKERS["CNN"]
    markers = [s["marker"] for s in plots.SOURCE_STYLES.values()]
    assert len(set(markers)) == len(markers)


def test_measures_have_distinct_colours():
    distinct = {plots.MEASURE_COLORS[k] for k in ("sensitivity", "smooth (max)", "smooth (mean)",
                                                  "counterfactual change", "closeness to the boundary")}
    assert len(distinct) == 5


def test_colours_are_fixed():
    # the book's figures and prose rely on these: a change must be deliberate
    assert plots.GROUP_COLORS == {0: "#D55E00", 1: "#0072B2"}
    assert plots.color("unmitigated") == "#000000"
    assert plots.color("mitigated (pivot)") == "#009E73"
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


def test_percent_ticks_keep_the_decimals_of_their_step():
    fig = plots.group_distributions(_hist_data(), "v", "group", log=True, palette=plots.group_palette(("Black", "White")))
    ax = fig.axes[0]
    ax.set_ylim(0, 10), ax.set_yticks([0, 2.5, 5, 7.5, 10])
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.0%", "2.5%", "5.0%", "7.5%", "10.0%"]
    ax.set_ylim(0, 60), ax.set_yticks([0, 20, 40, 60])
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0%", "20%", "40%", "60%"]


def test_log_histograms_show_shares_per_bin_not_densities():
    """On a log axis a bin's height is the share of the group's rows in it: a narrow bin of a few
    clipped rows near 0 does not tower over the wide bins that hold the mass."""
    rng = np.random.default_rng(1)
    v = np.r_[np.zeros(13), rng.lognormal(-3, 1, 987)]          # 1.3% of the rows are 0 (clipped)
    d = pd.DataFrame({"v": v, "group": rng.choice(["Black", "White"], len(v))})
    fig = plots.group_distributions(d, "v", "group", log=True, palette=plots.group_palette(("Black", "White")))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert "share" in ax.get_ylabel() and "density" not in ax.get_ylabel()
    for patch in ax.patches:                                    # one step outline per group
        heights = patch.get_path().vertices[:, 1]
        assert heights.max() <= 100 and heights.max() < 30      # % of the group's rows in a bin
    for h in ("Black", "White"):
        x = np.clip(d.loc[d["group"] == h, "v"], v[v > 0].min(), None)
        edges = np.geomspace(x.min(), x.max() * 1.0001, 41)
        counts, _ = np.histogram(x, bins=edges)
        assert (100 * counts / counts.sum()).sum() == pytest.approx(100)
    fig = plots.group_distributions(d, "v", "group", ylabel="rows (%)", palette=plots.group_palette(("Black", "White")))
    assert fig.axes[0].get_ylabel() == "rows (%)"


def test_group_distributions_checks_its_input():
    with pytest.raises(ValueError):
        plots.group_distributions(_hist_data(), "nope", "group")
    with pytest.raises(TypeError):
        plots.group_distributions({"v": [1]}, "v", "group")
    with pytest.raises(ValueError):
        plots.group_distributions(_hist_data(), "v", "group", palette={"Black": "#000000"})


def test_roc_curves_show_the_auc_they_are_given():
    from fairnotes import evaluation, metrics

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    score = {p: rng.normal(size=200) + shift * y for p, shift in (("adult", 1.0), ("compas", 0.3))}
    curves = pd.concat([evaluation.roc_curve(y, score[p]).assign(measure="sensitivity", panel=p)
                        for p in ("adult", "compas")])
    aucs = {(p, "sensitivity"): metrics.roc_auc(y, score[p]) for p in ("adult", "compas")}
    fig = plots.roc_curves(curves, "measure", "panel", aucs=aucs)
    texts = [t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()]
    assert texts == [f"AUC {aucs[(p, 'sensitivity')]:.2f}" for p in ("adult", "compas")]
    assert texts[0] != texts[1]
    assert plots.smallest_text_px(fig) >= 9
    with pytest.raises(ValueError, match="no AUC for the curve"):
        plots.roc_curves(curves, "measure", "panel", aucs={("adult", "sensitivity"): 0.7})
    with pytest.raises(ValueError):
        plots.roc_curves(curves.drop(columns="tpr"), "measure", aucs={})


def _overlaps(anns):
    """Pairs of labels whose text boxes overlap (an annotation's own extent includes its leader line)."""
    from matplotlib.text import Text

    fig = anns[0].figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [Text.get_window_extent(a, r) for a in anns]
    return [(i, j) for i, j in itertools.combinations(range(len(boxes)), 2) if boxes[i].overlaps(boxes[j])]


def test_place_labels_avoids_collisions():
    from matplotlib.text import Text

    fig, ax = plt.subplots(figsize=(5, 3.5))
    x = np.array([0.3, 0.3, 0.301, 0.9, 0.9, 0.5])      # "x0.3x0.3": two labels on one point
    y = np.array([0.85, 0.85, 0.851, 0.81, 0.8102, 0.83])
    ax.scatter(x, y)
    ax.set_xlim(0.2, 1.0), ax.set_ylim(0.79, 0.87)
    anns = plots.place_labels(ax, x, y, ["x0.3", "x0.3", "x1", "1.0", "1.0", "x3"])
    assert _overlaps(anns) == []
    r, radius = fig.canvas.get_renderer(), 2 * fig.dpi / 72     # no label on the centre of a point
    for a in anns:
        box = Text.get_window_extent(a, r)
        for px, py in ax.transData.transform(np.column_stack([x, y])):
            assert not (box.x0 < px + radius and px - radius < box.x1 and box.y0 < py + radius and py - radius < box.y1)
    assert [a.xy for a in anns] == list(zip(x, y))               # each label annotates its own point
    assert len(ax.texts) == len(anns)                            # one artist per label, leader line included
    anns[0].remove()
    assert len(ax.texts) == len(anns) - 1
    with pytest.raises(ValueError):
        plots.place_labels(ax, [0, 1], [0], ["a", "b"])
    with pytest.raises(ValueError):
        plots.place_labels(ax, [np.nan], [0], ["a"])


def test_tradeoff_labels_do_not_collide():
    t = pd.DataFrame({"DI": [0.30, 0.305, 0.5, 0.90, 0.905], "accuracy": [0.85, 0.851, 0.83, 0.81, 0.8105],
                      "model": ["unmitigated", "mitigated (pivot)", "GP", "FairGP", "FairGP*"]})
    fig = plots.tradeoff(t, "DI", "accuracy", label="model", hue="model", xref=1)
    anns = [c for c in fig.axes[0].texts]
    assert len(anns) == 5 and _overlaps(anns) == []
    assert plots.smallest_text_px(fig) >= 9
    with pytest.raises(ValueError):
        plots.tradeoff(t.iloc[:0], "DI", "accuracy")


def test_tradeoff_markers_and_labels_off_the_lines():
    t = pd.DataFrame({"p": [49.3, 95.5, 96.9, 95.3, 32.2, 96.0, 96.6, 92.8],
                      "accuracy": [0.844, 0.823, 0.813, 0.803] * 2,
                      "attribute": ["race"] * 4 + ["sex"] * 4, "lambda": ["x0", "x0.3", "x1", "x3"] * 2})
    fig = plots.tradeoff(t, "p", "accuracy", label="lambda", hue="attribute", connect=True, xref=80,
                         markers={"race": "o", "sex": "s"})
    ax = fig.axes[0]
    paths = [c.get_paths()[0] for c in ax.collections]
    assert len(paths) == 2 and len(paths[0].vertices) != len(paths[1].vertices)     # a circle and a square
    r = fig.canvas.get_renderer()
    anns = list(ax.texts)
    assert len(anns) == 8 and _overlaps(anns) == []
    for line in ax.lines[1:]:                                  # the two connecting lines (the first is xref)
        xy = ax.transData.transform(line.get_xydata())
        pts = np.concatenate([np.linspace(a, b, 50) for a, b in zip(xy[:-1], xy[1:])])
        for a in anns:
            box = a.get_window_extent(r)
            assert not any(box.x0 < px < box.x1 and box.y0 < py < box.y1 for px, py in pts), a.get_text()


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
    # the three sources differ in marker, not only in colour, and none has a group's colour
    markers = [l.get_marker() for l in fig.axes[0].lines if l.get_marker() not in ("None", None, "", "|")]
    assert len(markers) == 3 and len(set(markers)) == 3, markers
    drawn = {mcolors.to_hex(l.get_color()) for l in fig.axes[0].lines}
    assert not drawn & {c.lower() for c in plots.GROUP_COLORS.values()}
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
