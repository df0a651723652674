"""How fast is proxy sensitivity, next to plain prediction sensitivity and a finite-difference loop?

Run by hand (it is not a timed test; timings on a shared machine are noisy):

    python benchmarks/bench_proxy.py          # the "linear" network on Adult, all 6,188 test rows

Each method is timed round robin, a fast one called several times per round (``--min-time``). On
one trained network (the unmitigated "linear" one of the book, trained without the protected
column so that it can only discriminate through proxies) and one fitted shift
(:func:`fairnotes.shifts.fit_shift`, method "linear", age fixed), it times in one run, round
robin after a warm-up, the median wall time per call of

* ``proxy``               fairnotes.sensitivity.proxy_sensitivity on every row (one batched backward pass)
* ``plain``               fairnotes.sensitivity.prediction_sensitivity of the same network, every row
                          (with the race column put back, the plain measure's usual input width)
* ``fd_loop``             what a user would otherwise write: central finite differences of the
                          prediction along each feature, one pair of forward passes per feature,
                          then the dot product with ``x_cf - x``

It checks that ``proxy`` equals the finite-difference directional derivative (largest absolute
difference, in float64 on a double copy of the network) and writes the table, with the machine's description, to
``benchmarks/results/proxy.csv``. The target: ``proxy / plain <= 1.5``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _common  # noqa: E402  (benchmarks/_common.py)
from fairnotes import models, presets, recipes  # noqa: E402
from fairnotes.sensitivity import prediction_sensitivity, proxy_sensitivity  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "proxy.csv"


def main(argv=None) -> int:
    args = _common.timing_parser(__doc__, RESULTS).parse_args(argv)
    _common.start(args)

    unaware, sp_u, shift = _common.unaware_network(args.epochs, fixed=("age",))
    aware, _, sp = recipes.unmitigated_model("adult", "linear", epochs=args.epochs, progress=False)
    X = sp_u.X_test.astype(np.float32)
    X_cf = shift.counterfactual(X, sp_u.s_test).astype(np.float32)
    n, d = X.shape
    h = 1e-3

    def proxy():
        return proxy_sensitivity(unaware, X, X_cf)

    def plain():
        return prediction_sensitivity(aware, sp.X_test, sp.s_column)

    def fd_loop(model=unaware, X=X, X_cf=X_cf, h=h):
        grad = np.empty_like(X)
        for j in range(d):
            up, down = X.copy(), X.copy()
            up[:, j] += h
            down[:, j] -= h
            grad[:, j] = (models.predict_proba(model, up) - models.predict_proba(model, down)) / (2 * h)
        return np.abs((grad * (X_cf - X)).sum(axis=1))

    methods = {"proxy": proxy, "plain": plain, "fd_loop": fd_loop}
    # the check in float64 (float32 finite differences are too coarse to compare): a double copy
    # of the same network, predict_proba's float32 output put aside by differencing the logits' sigmoid
    import copy

    double = copy.deepcopy(unaware).double()
    X64, X_cf64 = X.astype(np.float64), X_cf.astype(np.float64)
    with torch.no_grad():
        def f64(Z):
            return double(torch.from_numpy(Z)).numpy()
        grad = np.empty_like(X64)
        for j in range(d):
            up, down = X64.copy(), X64.copy()
            up[:, j] += 1e-6
            down[:, j] -= 1e-6
            grad[:, j] = (f64(up) - f64(down)) / 2e-6
    check = float(np.abs(proxy_sensitivity(double, X64, X_cf64) - np.abs((grad * (X_cf64 - X64)).sum(axis=1))).max())
    med, number = _common.round_robin(methods, rounds=args.rounds, min_time=args.min_time, max_calls=500)
    ratios = [("proxy / plain", med["proxy"] / med["plain"], "<= 1.5"),
              ("fd_loop / proxy", med["fd_loop"] / med["proxy"], "(reported)")]
    rows = [{"kind": "time", "name": k, "value": med[k], "unit": "s per call (median)", "target": "", "met": None,
             "repeats": f"{args.rounds} rounds x {number[k]} calls"} for k in methods]
    rows += [{"kind": "ratio", "name": k, "value": v, "unit": "x", "target": t,
              "met": bool(v <= 1.5) if t.startswith("<=") else None} for k, v, t in ratios]
    rows.append({"kind": "check", "name": "max |proxy - finite differences| (float64)", "value": check,
                 "unit": "abs. difference", "target": "< 1e-6", "met": bool(check < 1e-6)})
    table = pd.DataFrame(rows)
    info = {"rows": n, "features": d, "rounds": args.rounds, "torch_threads": torch.get_num_threads(),
            **_common.machine_info(torch=torch.__version__)}
    print(table.to_string(index=False))
    _common.write_results(table, info, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
