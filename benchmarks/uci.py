# SPDX-License-Identifier: MIT
"""DepthSearchRegressor on the UCI regression benchmark (standard splits).

Reads the standard layout (``data.txt``, ``index_*.txt``, ``n_splits.txt`` per
data set, see ``sklearn_depth.datasets.load_uci``), standardises inputs with
the training statistics of each split, fits ``DepthSearchRegressor()`` with
its defaults (``random_state`` = split number; its early stopping holds out
a part of the training rows, never the test rows) and prints,
per data set, the test log-likelihood and RMSE in original units (mean ± std
over splits), the selected depth and the fit time, next to the published
Depth Uncertainty Networks figures.

    python benchmarks/uci.py --data-dir ../shared/data/uci
    python benchmarks/uci.py --data-dir ../shared/data/uci --quick
    python benchmarks/uci.py --data-dir DIR --datasets boston yacht --splits 0 1
    python benchmarks/uci.py --data-dir DIR --config grow=True  # growth (#15)

The data are not part of the project: pass the folder that holds them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import parse_config
from joblib import Parallel, delayed
from sklearn.preprocessing import StandardScaler

from sklearn_depth import DepthSearchRegressor
from sklearn_depth.datasets import load_uci
from sklearn_depth.metrics import gaussian_nll

DATASETS = [
    "boston",
    "concrete",
    "energy",
    "kin8nm",
    "naval",
    "power",
    "protein",
    "wine",
    "yacht",
]
SMALL = ["boston", "concrete", "energy", "wine", "yacht"]

# Published DUN (width 100, per-split BOHB tuning): test LL mean, std; RMSE mean, std.
PUBLISHED = {
    "boston": (-2.604, 0.351, 3.200, 0.978),
    "concrete": (-3.005, 0.212, 4.613, 0.607),
    "energy": (-1.037, 0.159, 0.612, 0.157),
    "kin8nm": (1.151, 0.083, 0.076, 0.005),
    "naval": (4.245, 1.108, 0.003, 0.002),
    "power": (-2.695, 0.086, 3.573, 0.254),
    "protein": (-2.657, 0.044, 3.402, 0.058),
    "wine": (-1.031, 0.119, 0.659, 0.061),
    "yacht": (-2.420, 0.523, 2.514, 1.985),
}


def fit_split(X, y, train, test, seed, params=None):
    # One torch thread per fit, as in the other benchmarks: with --n-jobs 1 on
    # a busy 2-core machine, two threads made a 5 s fit take 135 s.
    torch.set_num_threads(1)
    scaler = StandardScaler().fit(X[train])
    X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
    reg = DepthSearchRegressor(random_state=seed, **(params or {}))
    start = time.perf_counter()
    reg.fit(X_train, y[train])
    fit_time = time.perf_counter() - start
    mean, std = reg.predict(X_test, return_std=True)
    return {
        "ll": -gaussian_nll(y[test], mean, std),
        "rmse": float(np.sqrt(np.mean((y[test] - mean) ** 2))),
        "depth": reg.depth_,
        "epochs": len(reg.history),
        "time": fit_time,
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", required=True, help="folder of the data sets")
    parser.add_argument("--datasets", nargs="+", default=None, choices=DATASETS)
    parser.add_argument("--splits", nargs="+", type=int, default=None)
    parser.add_argument(
        "--quick", action="store_true", help="2 splits of the small data sets"
    )
    parser.add_argument("--n-jobs", type=int, default=2, help="splits fitted at once")
    parser.add_argument(
        "--config",
        default="",
        help="estimator parameters K=V,K=V on top of the defaults (e.g. grow=True)",
    )
    args = parser.parse_args()
    params = parse_config(args.config)

    datasets = args.datasets or (SMALL if args.quick else DATASETS)
    splits = args.splits or ([0, 1] if args.quick else None)
    print(f"estimator: {DepthSearchRegressor(**params)}")
    header = (
        f"{'data set':9s} {'splits':>6s} {'test LL':>16s} {'DUN LL':>16s} "
        f"{'RMSE':>15s} {'DUN RMSE':>15s} {'depth':>9s} {'epochs':>7s} {'fit s':>7s}"
    )
    print(header)
    print("-" * len(header))
    start_all = time.perf_counter()
    for name in datasets:
        data = load_uci(name, args.data_dir)
        chosen = splits if splits is not None else range(data.n_splits)
        results = Parallel(n_jobs=args.n_jobs)(
            delayed(fit_split)(
                data.data,
                data.target,
                *data.splits[k],
                seed=k,
                params=params,
            )
            for k in chosen
        )
        ll = np.array([r["ll"] for r in results])
        rmse = np.array([r["rmse"] for r in results])
        depths = [r["depth"] for r in results]
        pub = PUBLISHED[name]
        print(
            f"{name:9s} {len(results):6d} {ll.mean():7.3f} ± {ll.std():6.3f} "
            f"{pub[0]:7.3f} ± {pub[1]:6.3f} {rmse.mean():6.3f} ± {rmse.std():6.3f} "
            f"{pub[2]:6.3f} ± {pub[3]:6.3f} "
            f"{np.median(depths):4.0f} ({min(depths)}-{max(depths)}) "
            f"{np.mean([r['epochs'] for r in results]):7.0f} "
            f"{np.mean([r['time'] for r in results]):7.1f}",
            flush=True,
        )
    print(f"wall time: {time.perf_counter() - start_all:.0f} s")


if __name__ == "__main__":
    main()
