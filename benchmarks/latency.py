# SPDX-License-Identifier: MIT
"""Prediction latency against scikit-learn's own models (issue #13).

Default estimators fitted on standardised data: ``DepthSearchClassifier`` on
breast cancer (569 rows, 30 features), ``DepthSearchRegressor`` on diabetes
(442 rows, 10 features). For 1, 10, 569 (or 442), 1 000 and 100 000 rows
(rows beyond the data set are drawn from it with replacement), the median
time of:

- ours: ``predict_proba`` / ``predict(X, return_std=True)``, float64;
- MLP: ``MLPClassifier.predict_proba`` / ``MLPRegressor.predict``
  (scikit-learn's defaults, ``max_iter=500``);
- HGB: ``HistGradientBoosting*``'s ``predict_proba`` / ``predict``;
- export: the module of ``export_pruned()`` on a float32 tensor (no input
  checks: the floor of what the network costs in PyTorch).

Ratios are ours / each, timed interleaved in one run. One torch thread, and
one BLAS/OpenMP thread for every model (``--threads``), so that a busy core
does not decide the figures. Goal: ours <= 2x MLP on 1 row and on the data
set's rows.

    python benchmarks/latency.py [--repeats 200] [--threads 1] [--quick]
"""

from __future__ import annotations

import time

import numpy as np
import torch
from _common import make_parser
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor


def median_seconds(function, repeats, budget=2.0):
    """Median of up to ``repeats`` calls, stopping after ``budget`` seconds."""
    function()  # the first call builds caches
    times, spent = [], 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
        if spent > budget and len(times) >= 5:
            break
    return float(np.median(times))


def interleaved(functions, repeats):
    """Medians of several timings, taken in turn (10 rounds)."""
    rounds = [
        [median_seconds(f, max(repeats // 10, 5), budget=0.3) for f in functions]
        for _ in range(10)
    ]
    return np.median(np.array(rounds), axis=0)


def panel(task, repeats, quick):
    if task == "classification":
        X, y = load_breast_cancer(return_X_y=True)
        ours = DepthSearchClassifier(random_state=0)
        mlp = MLPClassifier(max_iter=500, random_state=0)
        hgb = HistGradientBoostingClassifier(random_state=0)
        methods = [
            ("ours", lambda m, Z: m.predict_proba(Z)),
            ("MLP", lambda m, Z: m.predict_proba(Z)),
            ("HGB", lambda m, Z: m.predict_proba(Z)),
        ]
        name = "breast cancer"
    else:
        X, y = load_diabetes(return_X_y=True)
        ours = DepthSearchRegressor(random_state=0)
        mlp = MLPRegressor(max_iter=500, random_state=0)
        hgb = HistGradientBoostingRegressor(random_state=0)
        methods = [
            ("ours", lambda m, Z: m.predict(Z, return_std=True)),
            ("MLP", lambda m, Z: m.predict(Z)),
            ("HGB", lambda m, Z: m.predict(Z)),
        ]
        name = "diabetes"
    X = StandardScaler().fit_transform(X)
    models = [m.fit(X, y) for m in (ours, mlp, hgb)]
    exported = ours.export_pruned()
    print(f"\n{task}: {name} ({X.shape[0]} rows), depth_={ours.depth_}")
    print(
        f"{'rows':>7s} {'ours ms':>9s} {'MLP ms':>8s} {'HGB ms':>8s} "
        f"{'export ms':>9s} {'/MLP':>6s} {'/HGB':>6s} {'/export':>7s}"
    )
    rng = np.random.RandomState(0)
    sizes = [1, 10, len(X), 1000] + ([] if quick else [100_000])
    ratios = {}
    for n in sizes:
        Z = X[rng.randint(len(X), size=n)] if n != len(X) else X
        Z32 = torch.as_tensor(Z, dtype=torch.float32)
        functions = [
            *(
                lambda m=m, f=f, Z=Z: f(m, Z)
                for m, (_, f) in zip(models, methods, strict=True)
            ),
            lambda Z32=Z32: exported(Z32),
        ]
        with torch.no_grad():
            t_ours, t_mlp, t_hgb, t_export = interleaved(functions, repeats)
        ratios[n] = t_ours / t_mlp
        print(
            f"{n:7d} {1e3 * t_ours:9.3f} {1e3 * t_mlp:8.3f} {1e3 * t_hgb:8.3f} "
            f"{1e3 * t_export:9.3f} {t_ours / t_mlp:6.2f} {t_ours / t_hgb:6.2f} "
            f"{t_ours / t_export:7.2f}"
        )
    met = ratios[1] <= 2 and ratios[len(X)] <= 2
    print(
        f"goal (<= 2x MLP on 1 row and on {len(X)} rows): "
        f"{ratios[1]:.2f}x and {ratios[len(X)]:.2f}x: {'met' if met else 'not met'}"
    )


def main(argv=None):
    parser = make_parser(__doc__, repeats=200)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.repeats = 20
    started = time.perf_counter()
    with threadpool_limits(args.threads):
        print(f"torch {torch.__version__}, {args.threads} thread(s) for torch and BLAS")
        for task in ("classification", "regression"):
            panel(task, args.repeats, args.quick)
    print(f"wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
