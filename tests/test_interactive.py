"""fairnotes.interactive: the sliders span the chapters' grids, every position holds its own results,
the colours are the book's, and the HTML loads nothing from outside the page."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("plotly")

from fairnotes import interactive, plots  # noqa: E402

GROUPS = {"race": ("non-White", "White"), "sex": ("Female", "Male")}
TARGETS = [0.1, 0.2, 0.3]


def _parity():
    rows = []
    for attr in GROUPS:
        for k, model in enumerate(["FairGP", "FairGP*"]):
            for t in TARGETS:
                for r in range(2):
                    rows.append({"attribute": attr, "model": model, "target": t, "repeat": r,
                                 "PR0": 0.5 * t + 0.01 * r, "PR1": 0.8 * t + 0.01 * k,
                                 "DI": 0.6 + t, "accuracy": 0.85 - t / 10})
    return pd.DataFrame(rows)


def _smooth(rows=60, n_max=20):
    rng = np.random.default_rng(0)
    draws = {sg: np.abs(rng.normal(0, 0.01 * (1 + 10 * sg), size=(rows, n_max))) for sg in (0.03, 0.3, 0.1)}
    s = np.r_[np.zeros(rows // 3, int), np.ones(rows - rows // 3, int)]
    return draws, s, draws[0.03][:, 0]


def _tradeoff():
    return pd.DataFrame({"factor": [0.0, 1.0, 0.3], "accuracy": [0.83, 0.81, 0.82],
                         "p%-rule, race": [60.0, 95.0, 92.0], "p%-rule, sex": [30.0, 94.0, 91.0]})


def test_parity_sweep_slider_spans_the_targets_and_moves_the_data():
    fig = interactive.parity_sweep(_parity(), groups=GROUPS, active=0.2)
    (slider,) = fig.layout.sliders
    assert [float(s.value) for s in slider.steps] == TARGETS
    assert slider.active == 1
    ys = [step.args[0]["y"] for step in slider.steps]
    assert all(len(y) == len(fig.data) for y in ys)
    assert ys[0] != ys[-1], "two targets show the same data"
    # the averaged sweep, not one split: PR0 of (race, FairGP) at 0.3 is 0.5 * 0.3 + 0.005
    assert ys[2][0][0] == pytest.approx(0.155)
    assert [step.args[1]["shapes[0].y0"] for step in slider.steps] == TARGETS   # the target line
    assert fig.layout.shapes[0].y0 == 0.2 and fig.layout.shapes[0].layer == "below"   # behind the bars' values
    # the initial data are the active step's
    assert list(fig.data[0].y) == ys[1][0]


def test_parity_sweep_colours_and_names_are_the_books():
    fig = interactive.parity_sweep(_parity(), groups=GROUPS)
    assert fig.data[0].marker.color == plots.registry()["groups"][0]
    assert fig.data[1].marker.color == plots.registry()["groups"][1]
    assert fig.data[0].name == "unprivileged (non-White, Female)"
    assert fig.data[1].name == "privileged (White, Male)"
    models = plots.registry()["models"]
    assert list(fig.data[3].marker.color) == [models["FairGP"], models["FairGP*"]] * 2


def test_parity_sweep_names_the_problem():
    with pytest.raises(ValueError, match="DI"):
        interactive.parity_sweep(_parity().drop(columns="DI"), groups=GROUPS)
    with pytest.raises(ValueError, match="sex"):
        interactive.parity_sweep(_parity(), groups={"race": GROUPS["race"]})


def test_smooth_sweep_has_one_state_per_sigma_and_n():
    draws, s, plain = _smooth()
    n_values = [1, 5, 20]
    fig = interactive.smooth_sweep(draws, s, plain, n_values=n_values, groups=GROUPS["race"], active=(0.1, 5))
    sig, n = fig.layout.sliders
    assert [float(x.value) for x in sig.steps] == [0.03, 0.1, 0.3]
    assert [int(x.value) for x in n.steps] == n_values
    assert (sig.active, n.active) == (1, 1)
    assert all(step.method == "skip" for step in (*sig.steps, *n.steps))
    states = fig.layout.meta["fairnotes"]["states"]
    assert set(states) == {f"{i},{j}" for i in range(3) for j in range(3)}
    # the flagged shares: the maximum over the first n draws above the plain measure's 95th percentile
    thr = np.percentile(plain, 95)
    mx = draws[0.3][:, :20].max(axis=1)
    expected = [100 * (mx[s == g] > thr).mean() for g in (0, 1)]
    assert states["2,2"]["data"]["y"][2] == pytest.approx(expected, abs=1e-3)
    # more draws can only flag more rows
    assert all(a <= b + 1e-9 for a, b in zip(states["2,0"]["data"]["y"][2], states["2,2"]["data"]["y"][2]))
    # each group's histogram sums to 100%
    assert sum(states["0,0"]["data"]["y"][0]) == pytest.approx(100, abs=0.1)
    assert fig.data[0].y == tuple(states["1,1"]["data"]["y"][0])


def test_smooth_sweep_colours_are_the_books():
    draws, s, plain = _smooth()
    fig = interactive.smooth_sweep(draws, s, plain, n_values=[1, 5], groups=GROUPS["race"])
    reg = plots.registry()
    assert [fig.data[k].line.color for k in (0, 1)] == [reg["groups"][0], reg["groups"][1]]
    assert fig.data[3].marker.color == reg["measures"]["sensitivity"]
    assert fig.data[4].marker.color == reg["measures"]["smooth (max)"]


def test_smooth_sweep_names_the_problem():
    draws, s, plain = _smooth()
    with pytest.raises(ValueError, match="n_values"):
        interactive.smooth_sweep(draws, s, plain, n_values=[1, 50], groups=GROUPS["race"])
    with pytest.raises(ValueError, match="0/1"):
        interactive.smooth_sweep(draws, np.ones_like(s), plain, n_values=[1], groups=GROUPS["race"])
    with pytest.raises(ValueError, match="plain"):
        interactive.smooth_sweep(draws, s, plain[:-1], n_values=[1], groups=GROUPS["race"])


def test_tradeoff_sweep_slider_spans_the_factors():
    fig = interactive.tradeoff_sweep(_tradeoff(), active=1.0)
    (slider,) = fig.layout.sliders
    assert [float(s.value) for s in slider.steps] == [0.0, 0.3, 1.0]
    assert slider.active == 2
    first, last = slider.steps[0].args[0], slider.steps[-1].args[0]
    assert first["x"] == [[60.0], [30.0]] and last["x"] == [[95.0], [94.0]]
    assert last["y"] == [[0.81], [0.81]]
    reg = plots.registry()["attributes"]
    assert [fig.data[k].line.color for k in (0, 1)] == [reg["race"], reg["sex"]]
    assert [fig.data[k].marker.color for k in (2, 3)] == [reg["race"], reg["sex"]]
    with pytest.raises(ValueError, match="p%-rule, sex"):
        interactive.tradeoff_sweep(_tradeoff().drop(columns="p%-rule, sex"))


def test_html_loads_nothing_and_describes_the_figure():
    fig = interactive.tradeoff_sweep(_tradeoff())
    html = interactive.to_html(fig, alt="Accuracy against the p%-rule <by factor>")
    assert 'class="fairnotes-interactive"' in html
    assert "<script src" not in html and "cdn.plot.ly" not in html and "https://" not in html
    assert 'aria-label="Accuracy against the p%-rule &lt;by factor&gt;"' in html
    assert "fairnotes-interactive-fallback" in html
    payload = html.split('class="fairnotes-figure">')[1].split("</script>")[0]
    spec = json.loads(payload)
    assert spec["layout"]["sliders"][0]["steps"] and spec["config"]["responsive"] is True
    with pytest.raises(ValueError, match="alt"):
        interactive.to_html(fig, alt=" ")


def test_driver_and_plotly_js_are_there():
    js = interactive.plotly_js()
    assert js.stat().st_size > 1_000_000
    assert "plotly_sliderchange" in interactive.DRIVER_JS and ".fairnotes-interactive" in interactive.DRIVER_JS
    assert "@media print" in interactive.DRIVER_CSS
