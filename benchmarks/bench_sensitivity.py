"""How fast is fairnotes.sensitivity, next to what a user would otherwise write or reach for?

Run by hand (it is not a timed test; timings on a shared machine are noisy):

    python benchmarks/bench_sensitivity.py                   # the linear model on Adult, all 6,188 test rows
    python benchmarks/bench_sensitivity.py --arch cnn --rows 500 --out benchmarks/results/sensitivity_cnn.csv

In one run, on the same trained model and the same rows, it measures the median wall time per call of

* ``ours``            fairnotes.sensitivity.prediction_sensitivity
* ``per_row_loop``    a Python loop over the rows, one autograd call per row
* ``captum_saliency`` Captum's ``Saliency(model).attribute(X, abs=True)``, as its docs show
* ``ours_smooth``     smooth_prediction_sensitivity with n_samples=50 (max)
* ``captum_loop_max`` Captum's Saliency looped over the same 50 noise draws with a running max
                      (the only way to get the paper's max from Captum's public API)
* ``captum_noise_tunnel``  Captum's ``NoiseTunnel(Saliency(model))``, nt_type="smoothgrad"
                      (the mean), nt_samples=50
* ``floor``           the smooth version's floor: 50 plain batched forward-backward passes
                      (``torch.autograd.grad`` of the summed output w.r.t. the input) plus
                      drawing the noise

The methods are timed round-robin (after a warm-up; in each round a method runs for at least
``--min-time`` seconds, a fast method being called several times and its mean taken), so that a
change in the machine's load affects them alike; the median over rounds is reported. It then
checks that our values equal Captum's on identical noise (largest absolute difference below 1e-6)
and prints the ratios against the issue's targets. The table is written to
``benchmarks/results/sensitivity.csv`` with the machine's description, so that the book can show
it without re-running the benchmark.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _common  # noqa: E402  (benchmarks/_common.py)
from fairnotes import models, presets, recipes  # noqa: E402
from fairnotes.runtime import seed_everything  # noqa: E402
from fairnotes.sensitivity import prediction_sensitivity, smooth_prediction_sensitivity  # noqa: E402

try:
    from captum.attr import NoiseTunnel, Saliency
except ImportError:  # pragma: no cover
    sys.exit("the benchmark compares against Captum: pip install 'fairnotes[bench]' (captum)")

import captum  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=["adult", "compas"], default="adult")
    p.add_argument("--arch", choices=["linear", "cnn"], default="linear")
    p.add_argument("--rows", type=int, default=0, help="test rows to use (0: all)")
    p.add_argument("--loop-rows", type=int, default=0,
                   help="rows for the per-row loop (0: the same rows); its time is scaled to --rows")
    p.add_argument("--n-samples", type=int, default=50)
    p.add_argument("--sigma", type=float, default=0.1)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--loop-rounds", type=int, default=3, help="rounds for the slow per-row loop")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--min-time", type=float, default=0.5,
                   help="seconds per method per round: faster methods are repeated to fill it")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sensitivity.csv"))
    args = p.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(0, tensorflow=False)
    sp = recipes.auditability_split(args.dataset)
    a = sp.s_column
    model = models.make_model(args.arch, sp.X_train.shape[1], seed=0)
    model, hist = models.train(model, sp.X_train, sp.y_train, eval_set=(sp.X_test, sp.y_test),
                               epochs=args.epochs, batch_size=128, seed=0, progress=False)
    model.eval()
    X = torch.from_numpy(sp.X_test[: args.rows] if args.rows else sp.X_test)
    n, d = X.shape
    loop_n = min(args.loop_rows or n, n)
    N, sigma = args.n_samples, args.sigma
    print(f"{args.arch} model on {args.dataset} ({len(sp.X_train)} training rows, test accuracy "
          f"{hist['eval_accuracy'].iloc[-1]:.4f}); {n} rows x {d} features; n_samples={N}, sigma={sigma}; "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads, captum {captum.__version__}")

    saliency = Saliency(model)
    noise_tunnel = NoiseTunnel(saliency)

    def ours():
        return prediction_sensitivity(model, X, a)

    def per_row_loop():
        out = np.empty(loop_n, dtype=np.float32)
        for i in range(loop_n):
            x = X[i:i + 1].clone().requires_grad_(True)
            (g,) = torch.autograd.grad(model(x).sum(), x)
            out[i] = g[0, a].abs().item()
        return out

    def captum_saliency():
        return saliency.attribute(X, abs=True)[:, a]

    def ours_smooth(seed=1, chunk_size=None, reduce="max"):
        return smooth_prediction_sensitivity(model, X, a, n_samples=N, sigma=sigma, reduce=reduce,
                                             seed=torch.Generator().manual_seed(seed), chunk_size=chunk_size)

    def captum_loop_max(seed=1, reduce="max"):
        g = torch.Generator().manual_seed(seed)
        noise = torch.randn((N, n, d), generator=g)  # the same draws as ours_smooth in one chunk
        best = None
        for i in range(N):
            s = saliency.attribute(X + sigma * noise[i], abs=True)[:, a]
            if reduce == "max":
                best = s if best is None else torch.maximum(best, s)
            else:
                best = s if best is None else best + s
        return best if reduce == "max" else best / N

    def captum_noise_tunnel():
        return noise_tunnel.attribute(X, nt_type="smoothgrad", nt_samples=N, stdevs=sigma)[:, a]

    def floor(seed=1):
        g = torch.Generator().manual_seed(seed)
        best = None
        for _ in range(N):
            x = (X + sigma * torch.randn((n, d), generator=g)).requires_grad_(True)
            (grad,) = torch.autograd.grad(model(x).sum(), x)
            s = grad[:, a].abs()
            best = s if best is None else torch.maximum(best, s)
        return best

    methods = {"ours": ours, "per_row_loop": per_row_loop, "captum_saliency": captum_saliency,
               "ours_smooth": ours_smooth, "captum_loop_max": captum_loop_max,
               "captum_noise_tunnel": captum_noise_tunnel, "floor": floor}

    import warnings
    warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require gradients")

    # --- identical results on identical noise (checked before timing) ----------------------
    # ours with one chunk holding all n x N perturbed rows draws its noise exactly as the loop does
    checks = {
        "max |ours - captum_saliency|": float(np.abs(ours() - captum_saliency().numpy()).max()),
        "max |ours - per_row_loop|": float(np.abs(ours()[:loop_n] - per_row_loop()).max()),
        "max |ours_smooth (max) - captum_loop_max|": float(np.abs(
            ours_smooth(chunk_size=n * N) - captum_loop_max().numpy()).max()),
        "max |ours_smooth (mean) - captum loop mean|": float(np.abs(
            ours_smooth(chunk_size=n * N, reduce="mean") - captum_loop_max(reduce="mean").numpy()).max()),
    }

    # --- timing -------------------------------------------------------------------------------
    times = {k: [] for k in methods}
    # warm-up, and timeit-style calibration: a method that takes less than --min-time per call is
    # called `number` times per round and its per-call time is the round's mean, so that a fast
    # method is not at the mercy of one scheduler hiccup (on a shared machine a single 10 ms call
    # can be delayed by 100 ms)
    number = {}
    for name, f in methods.items():
        t0 = time.perf_counter()
        f()
        once = time.perf_counter() - t0
        number[name] = max(1, min(200, int(args.min_time / max(once, 1e-6))))
    rounds = max(args.rounds, args.loop_rounds)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for r in range(rounds):
        for name, f in methods.items():
            if name == "per_row_loop" and r >= args.loop_rounds:
                continue
            t0 = time.perf_counter()
            for _ in range(number[name]):
                f()
            times[name].append((time.perf_counter() - t0) / number[name])
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    med = {k: statistics.median(v) for k, v in times.items()}
    med["per_row_loop"] *= n / loop_n  # scaled to all n rows if a subset was looped

    ratios = [
        ("captum_saliency / ours", med["captum_saliency"] / med["ours"], ">= 5"),
        ("per_row_loop / ours", med["per_row_loop"] / med["ours"], ">= 100"),
        ("captum_loop_max / ours_smooth", med["captum_loop_max"] / med["ours_smooth"], ">= 5"),
        ("ours_smooth / floor", med["ours_smooth"] / med["floor"], "<= 1.5"),
        ("captum_noise_tunnel / ours_smooth", med["captum_noise_tunnel"] / med["ours_smooth"], "(reported)"),
    ]

    def met(value, target):
        if target.startswith(">="):
            return bool(value >= float(target[2:]))
        if target.startswith("<="):
            return bool(value <= float(target[2:]))
        return None

    machine = {
        "arch": args.arch, "dataset": args.dataset, "rows": n, "features": d, "n_samples": N, "sigma": sigma,
        "torch_threads": torch.get_num_threads(),
        **_common.machine_info(torch=torch.__version__, captum=captum.__version__),
        "load_avg_1min": round((load_before + load_after) / 2, 2),
    }
    rows = []
    for k in methods:
        rows.append({"kind": "time", "name": k, "value": med[k], "unit": "s per call (median)",
                     "target": "", "met": None, "repeats": f"{len(times[k])} rounds x {number[k]} calls"})
    for name, value, target in ratios:
        rows.append({"kind": "ratio", "name": name, "value": value, "unit": "x", "target": target,
                     "met": met(value, target), "repeats": None})
    for name, value in checks.items():
        rows.append({"kind": "check", "name": name, "value": value, "unit": "abs. difference",
                     "target": "< 1e-6", "met": bool(value < 1e-6) if np.isfinite(value) else None,
                     "repeats": None})
    table = pd.DataFrame(rows)

    pd.set_option("display.width", 160)
    print()
    print(table[["kind", "name", "value", "unit", "target", "met", "repeats"]].to_string(index=False))
    print()
    print(", ".join(f"{k}={v}" for k, v in machine.items()))
    if args.loop_rows and loop_n < n:
        print(f"(the per-row loop ran on {loop_n} rows; its time is scaled to {n} rows)")
    _common.write_results(table, machine, args.out)
    return table


if __name__ == "__main__":
    main()
