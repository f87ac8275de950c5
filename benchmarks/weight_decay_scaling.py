# SPDX-License-Identifier: MIT
"""What ``weight_decay="auto"`` costs and gains as the data grow (issue #12).

The annealed decay is counted in epochs (3, halved every 20, down to 0.01),
and early stopping keeps the best epoch on the way; on larger data the
held-out loss keeps improving as the decay fades, so fits run longer. This
script fits ``DepthSearchClassifier()`` with ``weight_decay="auto"`` (the
default) and ``0.01`` (the constant of the first round) side by side on
``make_classification`` data of growing size (3 classes, 20 features, 5 %
flipped labels, 5000 test rows), one torch thread, and prints test accuracy,
log-loss, epochs run and fit seconds with their ratios.

    python benchmarks/weight_decay_scaling.py [--sizes 1000 5000 20000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_depth import DepthSearchClassifier

N_TEST = 5000


def measure(n, weight_decay, seed):
    X, y = make_classification(
        n + N_TEST,
        n_features=20,
        n_informative=12,
        n_classes=3,
        flip_y=0.05,
        class_sep=0.8,
        random_state=seed,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=n, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    clf = DepthSearchClassifier(weight_decay=weight_decay, random_state=seed)
    start = time.perf_counter()
    clf.fit(scaler.transform(X_train), y_train)
    seconds = time.perf_counter() - start
    proba = clf.predict_proba(scaler.transform(X_test))
    return {
        "acc": float(np.mean(clf.classes_[proba.argmax(1)] == y_test)),
        "logloss": log_loss(y_test, proba, labels=clf.classes_),
        "epochs": len(clf.history),
        "depth": clf.depth_,
        "seconds": seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", module="sklearn_depth")
    print(
        f"{'rows':>6} {'decay':>6} {'acc':>7} {'logloss':>8} {'epochs':>6} "
        f"{'depth':>5} {'fit s':>7}"
    )
    for n in args.sizes:
        rows = {wd: measure(n, wd, args.seed) for wd in ("auto", 0.01)}
        for wd, r in rows.items():
            print(
                f"{n:>6} {wd!s:>6} {r['acc']:7.4f} {r['logloss']:8.4f} "
                f"{r['epochs']:6d} {r['depth']:5d} {r['seconds']:7.1f}"
            )
        auto, const = rows["auto"], rows[0.01]
        print(
            f"{n:>6} auto/0.01: log-loss {auto['logloss'] / const['logloss']:.3f}, "
            f"accuracy {100 * (auto['acc'] - const['acc']):+.2f} points, "
            f"fit time {auto['seconds'] / const['seconds']:.2f}x"
        )


if __name__ == "__main__":
    main()
