# SPDX-License-Identifier: MIT
"""Why the ARD weights' KL is annealed over the warm-up (sparse_blocks="ard").

On the paper's spirals (``make_spirals(2000, noise=0.2)``, 200 training / 1800
test points, standardised, ``max_depth=20``), seeds 0-2, compares:

- dense blocks (``sparse_blocks=None``), the reference;
- ARD blocks at the proper strength 1 with the KL annealed from 0 over the
  warm-up (what the estimators do);
- the same with the full KL from the first epoch (no annealing);
- ARD blocks at strength 0.1 (the default), annealed.

Printed: test accuracy (mean and worst seed), selected depths, the parameters
of the exported network (mean) and as a fraction of the same network unpruned
(``n_params_pruned_ / n_params_``; ARD bottleneck blocks have twice the weights
of dense blocks of the same width).

    python benchmarks/ard_warmup.py [--epochs 200 600]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import paper_spirals

from sklearn_depth import DepthSearchClassifier

CONFIGS = [
    ("dense blocks", {}),
    ("ARD, strength 1, annealed", {"sparse_blocks": "ard", "sparsity_strength": 1.0}),
    (
        "ARD, strength 1, full KL from epoch 1",
        # The warm-up callback "depth_warmup" and its anneal_sparsity switch
        # come with the issue #11 refactor of the estimators.
        {
            "sparse_blocks": "ard",
            "sparsity_strength": 1.0,
            "callbacks__depth_warmup__anneal_sparsity": False,
        },
    ),
    ("ARD, strength 0.1, annealed", {"sparse_blocks": "ard", "sparsity_strength": 0.1}),
]


def check_callback_params(params):
    """Fail on ``callbacks__<name>__...`` for a callback the estimator lacks.

    skorch silently ignores such a parameter, which would measure the
    estimator without the change the configuration is named for.
    """
    names = {name for name, _ in DepthSearchClassifier().get_default_callbacks()}
    for key in params:
        if key.startswith("callbacks__") and key.split("__")[1] not in names:
            raise RuntimeError(f"{key}: DepthSearchClassifier has no such callback")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", nargs="+", type=int, default=[200, 600])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    for _, params in CONFIGS:
        check_callback_params(params)
    header = (
        f"{'configuration':40s} {'epochs':>6s} {'acc (worst)':>13s} "
        f"{'depths':>12s} {'params':>7s} {'kept':>6s} {'fit s':>6s}"
    )
    print(header)
    print("-" * len(header))
    for epochs in args.epochs:
        for name, params in CONFIGS:
            acc, depths, kept, sizes, times = [], [], [], [], []
            for seed in args.seeds:
                (X_train, y_train), (X_test, y_test) = paper_spirals(seed)
                start = time.perf_counter()
                clf = DepthSearchClassifier(
                    max_depth=20, max_epochs=epochs, random_state=seed, **params
                ).fit(X_train, y_train)
                times.append(time.perf_counter() - start)
                acc.append(clf.score(X_test, y_test))
                depths.append(clf.depth_)
                kept.append(clf.n_params_pruned_ / clf.n_params_)
                sizes.append(clf.n_params_pruned_)
            print(
                f"{name:40s} {epochs:6d} {np.mean(acc):.3f} ({min(acc):.3f}) "
                f"{str(depths):>12s} {np.mean(sizes):7.0f} {np.mean(kept):6.1%} "
                f"{np.mean(times):6.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
