"""Label placement on the book's own figures: the package's placement against adjustText.

Issue #27 asked for adjustText (``adjustText.adjust_text``) instead of the hand-written
``fairnotes.plots.place_labels`` (direct labels of the trade-off figures: points labelled by model,
lambda, target or label), unless the book's figures show that it does worse. This script is that
check, on the very scenes the book draws:

``record``
    executes chapters (in fast mode, ``FAIRNOTES_FAST=1``: the same figures, smaller runs) with a
    hook that pickles each figure just before its labels are placed (``--scenes`` folder);
``compare``
    replays every recorded scene with the package's placement (the baseline) and with adjustText
    (:func:`adjusttext_place_labels`: each label starts on its point; the labelled points and every
    marker of the axes are obstacles; a fixed number of iterations, since adjustText's default
    is a one-second time limit, which makes the result depend on the machine's load), once with
    adjustText's default forces and once with three times stronger ones; counts, per scene, the
    labels that overlap another label, the labels that cover a plotted point (a box of 5 pt around
    every marker of the axes' scatter plots), the labels that leave the axes, and the mean
    distance from a label's centre to its point; writes ``benchmarks/results/labels.csv``.

Usage, from the repository root (needs ``adjustText``, pinned in requirements.txt, the ``bench`` extra)::

    python benchmarks/bench_labels.py record compare fairgp_opportunity adversarial target_nets fairgp_parity
    python benchmarks/bench_labels.py compare
"""

from __future__ import annotations

import argparse
import itertools
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "labels.csv"
SCENES = Path(tempfile.gettempdir()) / "fairnotes_label_scenes"

HOOK = '''
import importlib.abc, importlib.util, itertools, os, pickle, sys

_count = itertools.count()


class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "fairnotes.plots":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(mod):
            load(mod)
            place = mod.place_labels

            def recorded(ax, x, y, texts, *args, **kwargs):
                scene = {"fig": ax.figure, "ax_index": ax.figure.axes.index(ax), "x": [float(v) for v in x],
                         "y": [float(v) for v in y], "texts": [str(t) for t in texts], "kwargs": kwargs}
                path = os.path.join(os.environ["LABEL_SCENES"], f"{os.environ['LABEL_CHAPTER']}_{next(_count)}.pkl")
                with open(path, "wb") as fh:
                    pickle.dump(scene, fh)
                return place(ax, x, y, texts, *args, **kwargs)

            mod.place_labels = recorded

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Hook())
'''


def record(chapters: list[str], scenes: Path) -> None:
    """Execute each chapter in fast mode, pickling every figure just before its labels are placed."""
    scenes.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as hook_dir:
        (Path(hook_dir) / "sitecustomize.py").write_text(HOOK)
        for chapter in chapters:
            env = dict(os.environ, FAIRNOTES_FAST="1", PYTHONPATH=hook_dir, LABEL_SCENES=str(scenes),
                       LABEL_CHAPTER=chapter)
            subprocess.run([sys.executable, str(ROOT / "tools" / "book.py"), "run", f"book/{chapter}.md"],
                           cwd=ROOT, env=env, check=True)


def adjusttext_place_labels(ax, x, y, texts, fontsize: float | None = None, colors=None, pad: float = 2.0,
                            iter_lim: int = 1000, force: float = 1.0):
    """The candidate: the same labels placed by adjustText, each an annotation of its point with a
    leader line when it ends up away from it. ``force`` scales adjustText's default forces."""
    import matplotlib as mpl
    from adjustText import adjust_text

    x, y, texts = np.asarray(x, float), np.asarray(y, float), [str(t) for t in texts]
    fontsize = mpl.font_manager.FontProperties(size=fontsize or mpl.rcParams["legend.fontsize"]).get_size_in_points()
    colors = list(colors) if colors is not None else ["0.15"] * len(x)
    drafts = [ax.text(xi, yi, text, fontsize=fontsize, color=c, ha="center", va="center")
              for xi, yi, text, c in zip(x, y, texts, colors)]
    grow = 1 + 2 * pad / max(fontsize, 1.0)
    adjust_text(drafts, x=x, y=y, objects=_marker_boxes(ax, x, y), ax=ax, expand=(1 + (grow - 1) / 2, grow),
                ensure_inside_axes=True, iter_lim=iter_lim, time_lim=None,
                force_text=(0.1 * force, 0.2 * force), force_static=(0.1 * force, 0.2 * force))
    renderer = ax.figure.canvas.get_renderer()
    out = []
    for draft, xi, yi in zip(drafts, x, y):
        box = draft.get_window_extent(renderer)
        px, py = ax.transData.transform((xi, yi))
        gap = np.hypot(max(box.x0 - px, 0, px - box.x1), max(box.y0 - py, 0, py - box.y1)) * 72 / ax.figure.dpi
        arrow = dict(arrowstyle="-", color="0.55", lw=0.6, shrinkA=0, shrinkB=2) if gap > 4 else None
        out.append(ax.annotate(draft.get_text(), (xi, yi), xytext=draft.get_position(), textcoords="data",
                               ha="center", va="center", fontsize=fontsize, color=draft.get_color(),
                               arrowprops=arrow))
        draft.remove()
    return out


def _marker_boxes(ax, x, y, radius_pt: float = 5.0) -> list:
    """A box of ``radius_pt`` around each labelled point and each marker of the axes' scatter plots, in
    data coordinates (adjustText avoids the labelled points themselves, not their markers)."""
    import matplotlib as mpl

    ax.figure.canvas.draw()
    points = [np.column_stack([x, y])]
    points += [np.asarray(c.get_offsets(), dtype=float).reshape(-1, 2) for c in ax.collections
               if isinstance(c, mpl.collections.PathCollection) and c.get_transOffset() == ax.transData]
    points = np.concatenate(points)
    points = points[np.isfinite(points).all(axis=1)]
    r = radius_pt * ax.figure.dpi / 72
    inverse = ax.transData.inverted()
    return [mpl.transforms.Bbox(inverse.transform([[px - r, py - r], [px + r, py + r]]))
            for px, py in ax.transData.transform(points)]


def _score(ax, labels, x, y) -> dict:
    """Overlaps, points covered, labels outside the axes and distance to the point, in display pixels."""
    from matplotlib.text import Text

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [Text.get_window_extent(t, renderer) for t in labels]   # the text, without a leader line
    r = 5 * fig.dpi / 72
    points = [ax.transData.transform(off) for c in ax.collections for off in np.asarray(c.get_offsets())
              if np.isfinite(off).all()] or list(ax.transData.transform(np.column_stack([x, y])))
    inside = ax.get_window_extent(renderer)
    own = ax.transData.transform(np.column_stack([x, y]))
    overlapping = {i for i, j in itertools.combinations(range(len(boxes)), 2) if boxes[i].overlaps(boxes[j])
                   for i in (i, j)}
    covering = sum(any(b.x0 < px + r and px - r < b.x1 and b.y0 < py + r and py - r < b.y1 for px, py in points)
                   for b in boxes)
    outside = sum(b.x0 < inside.x0 - 1 or b.x1 > inside.x1 + 1 or b.y0 < inside.y0 - 1 or b.y1 > inside.y1 + 1
                  for b in boxes)
    centres = np.array([[(b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2] for b in boxes])
    distance = float(np.mean(np.hypot(*(centres - own).T))) * 72 / fig.dpi
    return {"labels overlapping a label": len(overlapping), "labels covering a point": int(covering),
            "labels outside the axes": int(outside), "mean distance to the point (pt)": distance}


def compare(scenes: Path) -> pd.DataFrame:
    """Replay every recorded scene with both placements; one row per scene and placement."""
    import matplotlib

    matplotlib.use("Agg")
    from fairnotes import plots

    placements = {"fairnotes.plots.place_labels (baseline)": plots.place_labels,
                  "adjustText, default forces": adjusttext_place_labels,
                  "adjustText, forces x3": lambda *a, **k: adjusttext_place_labels(*a, force=3.0, **k)}
    rows = []
    for path in sorted(scenes.glob("*.pkl")):
        for name, place in placements.items():
            with open(path, "rb") as fh:
                scene = pickle.load(fh)
            ax = scene["fig"].axes[scene["ax_index"]]
            t0 = time.perf_counter()
            labels = place(ax, scene["x"], scene["y"], scene["texts"], **scene["kwargs"])
            seconds = time.perf_counter() - t0
            rows.append({"scene": path.stem, "labels": len(labels), "placement": name,
                         **_score(ax, labels, scene["x"], scene["y"]), "seconds": seconds})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["record", "compare"])
    parser.add_argument("chapters", nargs="*", help="the chapters to record (record)")
    parser.add_argument("--scenes", type=Path, default=SCENES)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.chapters, args.scenes)
        return 0
    import adjustText

    from _common import machine_info, write_results

    table = compare(args.scenes)
    write_results(table.round(4), machine_info(adjusttext=adjustText.__version__), args.out)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.drop(columns="seconds").to_string(index=False))
        counts = [c for c in table.columns if c.startswith("labels ")]
        print(table.groupby("placement").agg({**{c: "sum" for c in counts}, "mean distance to the point (pt)": "mean",
                                              "seconds": "sum"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
