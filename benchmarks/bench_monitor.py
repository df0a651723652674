"""How much does auditing every served prediction cost, next to a plain forward pass?

Run by hand (it is not a timed test; timings on a shared machine are noisy):

    python benchmarks/bench_monitor.py          # the unaware "linear" network on Adult, batches of 400 and 6,188

On the book's unmitigated "linear" network trained on Adult without the race column and one fitted
shift (:func:`fairnotes.shifts.fit_shift`, method "linear", age and sex fixed, as in the
chapter *Auditing a deployed model*), it times round robin, after a warm-up, the median wall time
per call of

* ``serve``       fairnotes.monitor.AuditedModel.serve(X, as_frame=False): probability, decision, proxy
                  sensitivity and the flag of every row as numpy arrays (for the book's ReLU network,
                  the directional derivative rides along with the forward pass: forward mode)
* ``serve+monitor``  the same, then WindowedMonitor.observe of the batch (per-window aggregates, CUSUM)
* ``serve (DataFrame)``  serve(X), the same values as a pandas DataFrame
* ``forward``     the baseline: a plain forward pass, fairnotes.models.predict_proba (no gradient)

for a window-sized batch (``--batch``, 400 people, the chapter's window) and for every test row,
all given the rows as float32 (the network's dtype).
It checks that ``serve``'s probabilities equal ``forward``'s and writes the table, with the
machine's description, to ``benchmarks/results/monitor.csv``. The target of issue #29:
``serve / forward <= 1.5``.
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
from fairnotes import models  # noqa: E402
from fairnotes.monitor import AuditedModel, Cusum, WindowedMonitor  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "monitor.csv"


def main(argv=None) -> int:
    parser = _common.timing_parser(__doc__, RESULTS)
    parser.add_argument("--batch", type=int, default=400, help="people per served batch (the chapter's window)")
    args = parser.parse_args(argv)
    _common.start(args)

    net, sp, shift = _common.unaware_network(args.epochs, fixed=("age", "sex"))
    audited = AuditedModel(net, shift=shift).calibrate(sp.X_test[:2000])
    p0 = float(audited.serve(sp.X_test[:2000])["flagged"].mean())
    detector = Cusum(p0=p0, p1=2 * p0, threshold=1e9)          # never alarms: the cost of the bookkeeping only
    monitor = WindowedMonitor(window=args.batch, detector=detector, max_windows=1)
    batches = {f"batch of {args.batch}": sp.X_test[:args.batch], f"all {len(sp.X_test):,} test rows": sp.X_test}

    rows, checks = [], []
    for label, X in batches.items():
        X32 = X.astype(np.float32)
        # both methods get the rows in the network's dtype, as a deployed model would
        methods = {"serve": lambda: audited.serve(X32, as_frame=False),
                   "serve+monitor": lambda: monitor.observe(audited.serve(X32, as_frame=False)),
                   "serve (DataFrame)": lambda: audited.serve(X32),
                   "forward": lambda: models.predict_proba(net, X32)}
        diff = float(np.abs(audited.serve(X)["probability"].to_numpy() - models.predict_proba(net, X32)).max())
        checks.append({"kind": "check", "name": f"max |serve - forward| probability ({label})", "value": diff,
                       "unit": "abs. difference", "target": "< 1e-6", "met": bool(diff < 1e-6)})
        med, number = _common.round_robin(methods, rounds=args.rounds, min_time=args.min_time, max_calls=2000)
        rows += [{"kind": "time", "name": f"{k} ({label})", "value": med[k], "unit": "s per call (median)",
                  "target": "", "met": None, "repeats": f"{args.rounds} rounds x {number[k]} calls"} for k in methods]
        for k, target in (("serve", "<= 1.5"), ("serve+monitor", "(reported)"), ("serve (DataFrame)", "(reported)")):
            v = med[k] / med["forward"]
            rows.append({"kind": "ratio", "name": f"{k} / forward ({label})", "value": v, "unit": "x",
                         "target": target, "met": bool(v <= 1.5) if target.startswith("<=") else None})
    table = pd.DataFrame(rows + checks)
    info = {"rows": len(sp.X_test), "batch": args.batch, "features": sp.n_features, "rounds": args.rounds,
            "torch_threads": torch.get_num_threads(), **_common.machine_info(torch=torch.__version__)}
    print(table.to_string(index=False))
    _common.write_results(table, info, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
