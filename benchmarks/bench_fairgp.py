"""Benchmark of fairnotes.fairgp (issue #5): the cost of a FairGP step and of the book's default fit.

Run from the repository root::

    python benchmarks/bench_fairgp.py            # about 3-5 minutes on 2 idle cores
    python benchmarks/bench_fairgp.py --quick    # fewer timing blocks, for a smoke test

It prints, and writes to ``benchmarks/results/fairgp.csv`` with the machine's description:

1. **Step time.** One training step (forward, backward, optimizer update on a mini-batch) of a
   FairGP model against a plain SVGP with GPflow's own ``Bernoulli`` likelihood, at the same
   settings (same data, kernel, inducing points, batch size, optimizer). The two are timed in
   interleaved blocks so that a busy machine slows both alike; the ratio of the medians is the
   number to read (target: at most 1.1). Done at the paper's size (500 inducing points, batch
   500) and at the book's default size.
2. **The book's default fit** on Adult (sex, mean target; ``fairnotes.presets.FAIRGP_FIT``): wall
   time, process CPU time, and the test accuracy and DIbinary against the paper's appendix
   (target: under a minute on 2 cores; accuracy within 0.02). The GP, fitted first, includes
   TensorFlow's tracing of the training step; the FairGP fit, of the same shape, reuses that
   step (as every later fit of a chapter does), so the difference of the two is about the
   tracing.

Wall times on a shared machine are noisy; the CPU times and the interleaved ratio much less so.
The chapter *Demographic parity with FairGP* shows the CSV.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import _common  # noqa: E402  (benchmarks/_common.py)

RESULTS = ROOT / "benchmarks" / "results" / "fairgp.csv"
# The paper's appendix, Table 1 (Adult-gender): accuracy of GP and FairGPparity (mean target).
PAPER_ACCURACY = {"GP": 0.83, "FairGP": 0.81}


def machine_info() -> dict:
    import gpflow
    import tensorflow as tf

    return _common.machine_info(tensorflow=tf.__version__, gpflow=gpflow.__version__)


def step_times(num_inducing: int, batch_size: int, blocks: int, steps_per_block: int, seed: int = 0) -> dict:
    """Median wall and CPU time per step of FairGP vs GPflow's Bernoulli SVGP, interleaved."""
    import gpflow
    import tensorflow as tf

    from fairnotes import data, presets, recipes, target_labels
    from fairnotes import fairgp as fg

    d = data.adult_fairgp()
    sp = recipes.fairgp_split(d, "sex", seed)
    X = sp.X_train.astype(np.float64)
    n = len(X)
    P = target_labels.parity_parameters(d.base_rates("sex"), "mean")
    setups = {
        "Bernoulli SVGP": (gpflow.likelihoods.Bernoulli(), sp.y_train[:, None].astype(np.float64)),
        "FairGP": (fg.FairGPLikelihood(P), fg.pack_labels(sp.y_train, sp.s_train)),
    }
    steps = {}
    for name, (lik, Y) in setups.items():
        model = fg.build_svgp(X, lik, num_inducing=num_inducing, seed=seed)
        steps[name] = fg.make_train_step(model, X, Y, learning_rate=presets.FAIRGP_FIT["learning_rate"])
    rng = np.random.default_rng(seed)
    batches = [tf.constant(rng.choice(n, size=batch_size, replace=False)) for _ in range(steps_per_block)]
    for step in steps.values():  # trace and warm up
        for b in batches[:3]:
            step(b).numpy()
    wall = {k: [] for k in steps}
    cpu = {k: [] for k in steps}
    for r in range(blocks):
        order = list(steps) if r % 2 == 0 else list(steps)[::-1]
        for name in order:
            w0, c0 = time.perf_counter(), time.process_time()
            for b in batches:
                loss = steps[name](b)
            loss.numpy()
            wall[name].append((time.perf_counter() - w0) / steps_per_block)
            cpu[name].append((time.process_time() - c0) / steps_per_block)
    out = {}
    for name in steps:
        out[name] = {"wall_ms": 1000 * float(np.median(wall[name])), "cpu_ms": 1000 * float(np.median(cpu[name]))}
    return out


def default_fit(seed: int = 0) -> list[dict]:
    """The book's default fit on Adult (sex, mean target): GP and FairGP, time and metrics."""
    from fairnotes import data, metrics, presets, recipes, target_labels
    from fairnotes import fairgp as fg

    d = data.adult_fairgp()
    sp = recipes.fairgp_split(d, "sex", seed)
    rows = []
    for name, P in [("GP", None), ("FairGP", target_labels.parity_parameters(d.base_rates("sex"), "mean"))]:
        w0, c0 = time.perf_counter(), time.process_time()
        clf = fg.FairGP(P, seed=seed, progress=False, **presets.FAIRGP_FIT).fit(sp.X_train, sp.y_train, sp.s_train)
        y_pred = clf.predict(sp.X_test)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        rows.append({"model": name, "wall_s": wall, "cpu_s": cpu,
                     "accuracy": metrics.accuracy(sp.y_test, y_pred),
                     "DIbinary": metrics.disparate_impact(sp.y_test, y_pred, s=sp.s_test),
                     "paper_accuracy": PAPER_ACCURACY[name]})
    return rows


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer timing blocks (a smoke test)")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    from fairnotes import presets
    from fairnotes.runtime import seed_everything

    seed_everything(0)
    info = machine_info()
    print("machine:", ", ".join(f"{k}={v}" for k, v in info.items()))
    blocks, per_block = (4, 10) if args.quick else (10, 20)
    rows = []
    sizes = [("paper size", 500), ("book default", presets.FAIRGP_FIT["num_inducing"])]
    for label, m in sizes:
        t = step_times(m, presets.FAIRGP_FIT["batch_size"], blocks, per_block)
        ratio_wall = t["FairGP"]["wall_ms"] / t["Bernoulli SVGP"]["wall_ms"]
        ratio_cpu = t["FairGP"]["cpu_ms"] / t["Bernoulli SVGP"]["cpu_ms"]
        print(f"[step time, {label}: M={m}, batch={presets.FAIRGP_FIT['batch_size']}] "
              f"Bernoulli SVGP {t['Bernoulli SVGP']['wall_ms']:.1f} ms, FairGP {t['FairGP']['wall_ms']:.1f} ms "
              f"per step (wall, median of {blocks} blocks); ratio {ratio_wall:.3f} (wall), {ratio_cpu:.3f} (CPU)")
        for name in t:
            rows.append({"benchmark": f"step time ({label})", "model": name, "num_inducing": m,
                         "batch_size": presets.FAIRGP_FIT["batch_size"], "steps": per_block * blocks,
                         "wall_ms_per_step": t[name]["wall_ms"], "cpu_ms_per_step": t[name]["cpu_ms"],
                         "ratio_to_bernoulli_wall": t[name]["wall_ms"] / t["Bernoulli SVGP"]["wall_ms"],
                         "ratio_to_bernoulli_cpu": t[name]["cpu_ms"] / t["Bernoulli SVGP"]["cpu_ms"]})
    for r in default_fit():
        print(f"[default fit, Adult sex, {presets.FAIRGP_FIT}] {r['model']}: {r['wall_s']:.1f} s wall, "
              f"{r['cpu_s']:.1f} s CPU; accuracy {r['accuracy']:.3f} (paper {r['paper_accuracy']:.2f}), "
              f"DIbinary {r['DIbinary']:.2f}")
        rows.append({"benchmark": "default fit (Adult, sex, mean target)", "model": r["model"],
                     "num_inducing": presets.FAIRGP_FIT["num_inducing"], "batch_size": presets.FAIRGP_FIT["batch_size"],
                     "steps": presets.FAIRGP_FIT["steps"], "wall_s": r["wall_s"], "cpu_s": r["cpu_s"],
                     "accuracy": r["accuracy"], "paper_accuracy": r["paper_accuracy"], "DIbinary": r["DIbinary"]})
    df = pd.DataFrame(rows)
    _common.write_results(df, info, args.out)
    return df


if __name__ == "__main__":
    main()
