# SPDX-License-Identifier: MIT
"""Fit time with the estimators' choice of torch threads against torch's default.

Issue #18. Each setting is fitted with the estimators' own choice (one thread
for small steps, torch's setting for large ones) and with torch's default
forced (``OMP_NUM_THREADS`` set to the machine's core count, which the
estimators respect as the user's choice), interleaved, median of
``--repeats`` fits after a warm-up fit, first on an idle machine, then with
one core kept busy by a helper process that this script starts and stops:

- the paper's spirals (200 rows, ``max_depth=20``, width 32, 200 epochs on
  every row, full batch): goal <= 0.35x with a busy core, no slower idle;
- 10 000 x 20 rows, width 256, batch 256, ``max_depth=10``, 3 epochs: threads
  still used, no slower.

    python benchmarks/threads.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
import warnings

import numpy as np
import torch
from _common import paper_spirals

from sklearn_depth import DepthSearchClassifier
from sklearn_depth.exceptions import UninformedPosteriorWarning

# The 3-epoch fits end within the depth warm-up: only their time matters here.
warnings.filterwarnings("ignore", category=UninformedPosteriorWarning)


def _spin(stop):
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def _fit_seconds(make, X, y, forced):
    if forced:
        os.environ["OMP_NUM_THREADS"] = str(os.cpu_count())
    try:
        start = time.perf_counter()
        make().fit(X, y)
        return time.perf_counter() - start
    finally:
        os.environ.pop("OMP_NUM_THREADS", None)


def measure(make, X, y, repeats):
    _fit_seconds(make, X, y, forced=False)  # warm-up
    times = {False: [], True: []}
    for _ in range(repeats):
        for forced in (False, True):
            times[forced].append(_fit_seconds(make, X, y, forced))
    return np.median(times[False]), np.median(times[True])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.pop("OMP_NUM_THREADS", None)
    torch.set_num_threads(os.cpu_count())

    (X_s, y_s), _ = paper_spirals(0)
    rng = np.random.RandomState(0)
    X_l = rng.randn(10_000, 20).astype(np.float32)
    y_l = (X_l[:, :3].sum(axis=1) > 0).astype(int)
    settings = {
        "spirals (tiny)": (
            lambda: DepthSearchClassifier(
                max_depth=20, early_stopping=False, max_epochs=200, random_state=0
            ),
            X_s,
            y_s,
        ),
        "10000x20, width 256": (
            lambda: DepthSearchClassifier(
                max_depth=10,
                width=256,
                batch_size=256,
                early_stopping=False,
                max_epochs=3,
                random_state=0,
            ),
            X_l,
            y_l,
        ),
    }
    print(
        f"cores: {os.cpu_count()}, torch's default threads: {torch.get_num_threads()}"
    )
    header = f"{'setting':22s} {'machine':10s} {'ours s':>7s} {'default s':>9s}"
    print(f"{header} {'ratio':>6s}")
    for busy in (False, True):
        stop = multiprocessing.Event()
        spinner = None
        if busy:
            spinner = multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
            spinner.start()
        try:
            for name, (make, X, y) in settings.items():
                ours, default = measure(make, X, y, args.repeats)
                print(
                    f"{name:22s} {'busy core' if busy else 'idle':10s} "
                    f"{ours:7.2f} {default:9.2f} {ours / default:6.2f}",
                    flush=True,
                )
        finally:
            if spinner is not None:
                stop.set()
                spinner.join()


if __name__ == "__main__":
    main()
