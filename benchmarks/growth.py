# SPDX-License-Identifier: MIT
"""Growth of depth while training (``grow=True``) against a fixed ceiling.

On the paper's spirals (``make_spirals(2000, noise=0.2)``, 200 training and
1800 test rows) at the three complexities of ``defaults.py`` (stop angles
180, 720 and 1440 degrees), seeds 0-4: ``DepthSearchClassifier(max_depth=40,
grow=True)`` (from 2 blocks) against the fixed ``max_depth=40`` fit, both
otherwise with the defaults. Goals (issue #15):

1. the grown fit's depth within 1 of the fixed fit's (median over seeds), at
   the same or better test accuracy and NLL, in at most 0.5x its fit time;
2. it never stops too early: on the hardest spirals it grows at least to
   the depth the fixed fit chooses; on a linear problem (a logistic model of
   5 features, 600 rows) it stays at depth <= 2.

The UCI goal (growth from 2 blocks within one DUN standard deviation of the
fixed-depth result) is measured by ``uci.py --config grow=True``.

    python benchmarks/growth.py [--seeds 0 1 2 3 4] [--threads 1] [--quick]
"""

from __future__ import annotations

import time

import numpy as np
from _common import make_parser, paper_spirals, start

from sklearn_depth import DepthSearchClassifier
from sklearn_depth.metrics import categorical_nll

STOP_ANGLES = [180, 720, 1440]
CEILING = 40


def fit(params, X, y, seed):
    clf = DepthSearchClassifier(max_depth=CEILING, random_state=seed, **params)
    start_time = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - start_time, clf


def grown(clf):
    """Most blocks the fit had (the restored network may have fewer)."""
    return max(row["grown_depth"] for row in clf.history)


def spirals(seeds, quick):
    print(
        f"{'stop angle':>10s} {'model':>8s} {'depth_':>12s} {'grown':>12s} "
        f"{'acc %':>7s} {'NLL':>7s} {'fit s':>7s}"
    )
    summary = []
    for stop_angle in STOP_ANGLES[-1:] if quick else STOP_ANGLES:
        rows = {"fixed": [], "grown": []}
        for seed in seeds:
            (Xtr, ytr), (Xte, yte) = paper_spirals(seed, stop_angle=stop_angle)
            for name, params in [("fixed", {}), ("grown", {"grow": True})]:
                if quick:
                    params = {**params, "max_epochs": 30}
                seconds, clf = fit(params, Xtr, ytr, seed)
                proba = clf.predict_proba(Xte)
                rows[name].append(
                    dict(
                        depth=clf.depth_,
                        grown=grown(clf) if name == "grown" else CEILING,
                        acc=float(np.mean(clf.classes_[proba.argmax(1)] == yte)),
                        nll=categorical_nll(yte, proba, labels=clf.classes_),
                        time=seconds,
                    )
                )
        med = {
            name: {k: float(np.median([r[k] for r in rs])) for k in rs[0]}
            for name, rs in rows.items()
        }
        for name, rs in rows.items():
            depths = [r["depth"] for r in rs]
            growns = [r["grown"] for r in rs]
            print(
                f"{stop_angle:10d} {name:>8s} {med[name]['depth']:4.0f} "
                f"({min(depths)}-{max(depths)}) {med[name]['grown']:4.0f} "
                f"({min(growns)}-{max(growns)}) {100 * med[name]['acc']:7.2f} "
                f"{med[name]['nll']:7.4f} {med[name]['time']:7.1f}",
                flush=True,
            )
        pairs = zip(rows["grown"], rows["fixed"], strict=True)
        ratio = np.median([g["time"] / f["time"] for g, f in pairs])
        summary.append((stop_angle, med, ratio))
    print("\nGoal 1 (medians over seeds):")
    for stop_angle, med, ratio in summary:
        gap = med["grown"]["depth"] - med["fixed"]["depth"]
        print(
            f"  {stop_angle:5d}: depth_ grown - fixed {gap:+.0f} (goal within 1); "
            f"accuracy {100 * (med['grown']['acc'] - med['fixed']['acc']):+.2f} "
            f"points, NLL {med['grown']['nll'] - med['fixed']['nll']:+.4f} (goal "
            f">= 0 and <= 0); fit time grown / fixed {ratio:.2f} (goal <= 0.5)"
        )
    hardest = summary[-1]
    print(
        f"Goal 2: on the hardest spirals the grown fit reached "
        f"{hardest[1]['grown']['grown']:.0f} blocks (median) against the fixed "
        f"fit's depth_ {hardest[1]['fixed']['depth']:.0f} (goal: at least)"
    )


def linear(seeds, quick):
    depths, growns = [], []
    for seed in seeds:
        rng = np.random.RandomState(seed)
        X = rng.randn(600, 5)
        y = (X @ rng.randn(5) + 0.5 * rng.randn(600) > 0).astype(int)
        params = {"grow": True, **({"max_epochs": 30} if quick else {})}
        _, clf = fit(params, X, y, seed)
        depths.append(clf.depth_)
        growns.append(grown(clf))
    print(
        f"Goal 2: on the linear problem depth_ {depths} (goal <= 2), blocks "
        f"grown {growns}"
    )


def main():
    parser = make_parser(__doc__, seeds=True)
    parser.set_defaults(seeds=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    started = start(args)
    spirals(args.seeds, args.quick)
    linear(args.seeds, args.quick)
    print(f"wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
