"""How much does a training step through target labels cost, next to a binary cross-entropy step?

Run by hand (it is not a timed test; timings on a shared machine are noisy):

    python benchmarks/bench_target_loss.py                        # Adult, logistic/linear/cnn, batch 64
    python benchmarks/bench_target_loss.py --dataset compas --batch-size 128 --out /tmp/t.csv

For each architecture (``fairnotes.models.make_model``: logistic regression, the paper's "linear"
network, its CNN in the book's reading, the features as channels and kernels of width 1; the
kernel-3 reading with ``--cnn-layout sequence``) it builds one network and one fixed set of mini-batches of the auditability
paper's training rows, and times, in one run, the median wall time of one training step
(``zero_grad``, logits, loss, ``backward``, Adam's ``step``) with

* ``bce``           ``torch.nn.BCEWithLogitsLoss`` (the baseline: what ``fairnotes.models.train``
                    does without a ``loss``)
* ``target_labels`` ``fairnotes.models.TargetLabelLoss`` with the demographic-parity parameters
                    of the training rows (mean target), computed as ``train`` computes it: each
                    row's part of the loss's log-table (``TargetLabelLoss._rows`` of the codes
                    ``2 s + y``) gathered once for all rows, per batch an index (as ``train``
                    indexes the features), then ``TargetLabelLoss._from_rows``
* ``target_labels_codes`` the same loss through the public ``from_codes(logits, y, codes)``: the
                    codes are gathered once, the table is looked up on every call
* ``target_labels_forward`` the same loss through its public ``forward(logits, y, s)``, which
                    checks ``y`` and ``s`` on every call

The mini-batches (features, labels, and the rows' codes and table rows) are indexed before the
clock starts, for every method alike; in ``train`` the target-label run indexes one more tensor
per batch than a BCE run (the rows' table part, as it indexed the codes before), which is not timed.

Each method starts from the same weights (a copy per method); the methods run round-robin
(``--steps`` steps per method per round, after a warm-up), so that a change in the machine's load
affects them alike, and the median over rounds of the per-step mean is reported, both as the
thread's CPU time (``time.thread_time``: on a shared, overloaded machine it leaves out the time the
thread waits for a core) and as wall time. The ratio ``target_labels / bce`` in CPU time is checked
against the issue's target (<= 1.2); the wall-time ratios are reported beside it. The table is
written to ``benchmarks/results/target_loss.csv`` with the machine's description.
"""

from __future__ import annotations

import argparse
import copy
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
from fairnotes import models, presets, recipes, target_labels  # noqa: E402
from fairnotes.runtime import seed_everything  # noqa: E402

TARGET = 1.2


def make_step(model, loss_name, loss_fn, batches):
    """A closure running one Adam step on the next batch (cycling) with the given loss."""
    opt = torch.optim.Adam(model.parameters(), lr=presets.PAPER_LR)
    state = {"i": 0}

    def step():
        xb, yb, sb, cb, rb = batches[state["i"] % len(batches)]
        state["i"] += 1
        opt.zero_grad(set_to_none=True)
        z = model.logits(xb)
        if loss_name == "bce":
            loss = loss_fn(z, yb)
        elif loss_name == "target_labels":
            loss = loss_fn._from_rows(z, yb, rb)
        elif loss_name == "codes":
            loss = loss_fn.from_codes(z, yb, cb)
        else:
            loss = loss_fn(z, yb, sb)
        loss.backward()
        opt.step()

    return step


def bench_architecture(arch, sp, P, args):
    rng = np.random.default_rng(0)
    n = len(sp.y_train)
    X = torch.from_numpy(sp.X_train)
    y = torch.from_numpy(sp.y_train.astype(np.float32))
    s = torch.from_numpy(sp.s_train.astype(np.float32))
    c = (2 * s + y).long()
    tl_loss = models.TargetLabelLoss(P)
    rows = tl_loss._rows(c, y)           # once per training run, as fairnotes.models.train does
    batches = []
    for _ in range(args.n_batches):
        idx = torch.from_numpy(rng.choice(n, args.batch_size, replace=False))
        batches.append((X[idx], y[idx], s[idx], c[idx], rows[idx]))
    base = models.make_model(arch, sp.n_features, seed=0,
                             **({"features_as": args.cnn_layout} if arch == "cnn" else {}))
    methods = {
        "bce": make_step(copy.deepcopy(base), "bce", torch.nn.BCEWithLogitsLoss(), batches),
        "target_labels": make_step(copy.deepcopy(base), "target_labels", tl_loss, batches),
        "target_labels_codes": make_step(copy.deepcopy(base), "codes", tl_loss, batches),
        "target_labels_forward": make_step(copy.deepcopy(base), "forward", tl_loss, batches),
    }
    # the kernel-3 CNN (the row as a sequence) is about 20 times slower per step than the other networks
    steps = max(1, args.steps // 20) if (arch, args.cnn_layout) == ("cnn", "sequence") else args.steps
    for f in methods.values():  # warm-up
        for _ in range(max(3, steps)):
            f()
    wall = {k: [] for k in methods}
    cpu = {k: [] for k in methods}
    for _ in range(args.rounds):
        for name, f in methods.items():
            t0, c0 = time.perf_counter(), time.thread_time()
            for _ in range(steps):
                f()
            cpu[name].append((time.thread_time() - c0) / steps)
            wall[name].append((time.perf_counter() - t0) / steps)
    med = lambda d: {k: statistics.median(v) for k, v in d.items()}  # noqa: E731
    return med(cpu), med(wall), steps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=["adult", "compas"], default="adult")
    p.add_argument("--archs", default="logistic,linear,cnn", help="comma-separated architectures")
    p.add_argument("--batch-size", type=int, default=64, help="the book's batch size (64)")
    p.add_argument("--n-batches", type=int, default=50, help="fixed mini-batches cycled through")
    p.add_argument("--steps", type=int, default=40,
                   help="steps per method per round (the kernel-3 CNN: 1/20 of it, at least 1)")
    p.add_argument("--cnn-layout", choices=["channels", "sequence"], default="channels",
                   help="the CNN's reading: features as channels, kernels of width 1 (the book's), or the row as "
                        "a 1-channel sequence with kernels of width 3")
    p.add_argument("--rounds", type=int, default=41)
    p.add_argument("--threads", type=int, default=1, help="torch threads (the book trains with 1 for small nets)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "target_loss.csv"))
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    seed_everything(0, tensorflow=False)
    sp = recipes.auditability_split(args.dataset)
    P = target_labels.parity_parameters(sp.base_rates(), "mean")
    print(f"{args.dataset}: {len(sp.y_train)} training rows x {sp.n_features} features; batch {args.batch_size}; "
          f"parameters {np.round(P, 3).tolist()}; torch {torch.__version__} with {torch.get_num_threads()} threads")
    machine = {"dataset": args.dataset, "batch_size": args.batch_size, "features": sp.n_features,
               "torch_threads": torch.get_num_threads(), **_common.machine_info(torch=torch.__version__)}
    rows = []
    for arch in args.archs.split(","):
        cpu, wall, steps = bench_architecture(arch, sp, P, args)
        for clock, med in (("cpu", cpu), ("wall", wall)):
            for k, v in med.items():
                rows.append({"arch": arch, "cnn_layout": args.cnn_layout if arch == "cnn" else "", "kind": "time", "clock": clock, "name": k, "value": v,
                             "unit": "s per step (median)", "target": "", "met": None,
                             "repeats": f"{args.rounds} rounds x {steps} steps"})
            for k in ("target_labels", "target_labels_codes", "target_labels_forward"):
                r = med[k] / med["bce"]
                headline = k == "target_labels" and clock == "cpu"
                rows.append({"arch": arch, "cnn_layout": args.cnn_layout if arch == "cnn" else "", "kind": "ratio", "clock": clock, "name": f"{k} / bce", "value": r,
                             "unit": "x", "target": f"<= {TARGET}" if headline else "(reported)",
                             "met": bool(r <= TARGET) if headline else None, "repeats": None})
    machine["load_1min_at_end"] = _common.load_1min()
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 160)
    print()
    print(table.to_string(index=False))
    print()
    print(", ".join(f"{k}={v}" for k, v in machine.items()))
    _common.write_results(table, machine, args.out)
    return table


if __name__ == "__main__":
    main()
