# SPDX-License-Identifier: MIT
"""Measure candidate default settings of DepthSearchClassifier on spirals.

The paper's setting: ``make_spirals(2000, noise=0.2)``, 200 training rows,
1800 test rows, inputs standardised with the training statistics. For each
configuration and each spiral complexity (``stop_angle``) the script fits
seeds 0-2 and prints test accuracy, the selected depth and the fit time.

    python benchmarks/defaults.py                      # the shipped defaults
    python benchmarks/defaults.py --grid               # the candidates compared
    python benchmarks/defaults.py --config closed_form=1,depth_warmup=0.25
    python benchmarks/defaults.py --max-depth 20 40 --seeds 0 1 2 3 4

With several ``--max-depth`` values it also prints how the median selected
depth moves with ``max_depth`` (issue #12: doubling it should move the median
by at most 1, and the depth should still grow with complexity).

``closed_form=1`` replaces the gradient update of q by its closed-form optimum
given the current weights after every epoch past the warm-up.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import torch
from _common import paper_spirals, parse_config
from skorch.callbacks import Callback

from sklearn_depth import DepthSearchClassifier


class ClosedFormPosterior(Callback):
    """After each epoch past the warm-up, set q to its optimum given the weights.

    ``q*(d) ∝ p(d) exp(Σ_n log p(y_n | x_n, d))``, the alternative to learning
    q's logits by gradient; used with ``depth_lr=0``.
    """

    def __init__(self, X, y, warmup=0.25):
        self.X, self.y, self.warmup = X, y, warmup

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) <= round(self.warmup * net.max_epochs):
            return
        module = net.module_
        with torch.no_grad():
            was_training = module.training
            module.eval()
            logits = module(torch.as_tensor(self.X, dtype=torch.float32))
            module.train(was_training)
            log_lik = torch.log_softmax(logits, -1)[
                torch.arange(len(self.y)), :, torch.as_tensor(self.y)
            ].sum(0)
            module.depth_logits.copy_(module.log_prior + log_lik)


def run(params, stop_angles, seeds, max_depth):
    rows = []
    for stop_angle in stop_angles:
        accs, depths, times = [], [], []
        for seed in seeds:
            (Xtr, ytr), (Xte, yte) = paper_spirals(seed, stop_angle=stop_angle)
            kwargs = dict(params)
            if kwargs.pop("closed_form", False):
                callback = ClosedFormPosterior(
                    Xtr, ytr, kwargs.get("depth_warmup", 0.25)
                )
                kwargs.update(depth_lr=0.0, callbacks=[callback])
            clf = DepthSearchClassifier(
                max_depth=max_depth, random_state=seed, **kwargs
            )
            start = time.perf_counter()
            clf.fit(Xtr, ytr)
            times.append(time.perf_counter() - start)
            accs.append(clf.score(Xte, yte))
            depths.append(clf.depth_)
        rows.append((stop_angle, accs, depths, times))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grid", action="store_true", help="compare candidates")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="K=V,K=V",
        help="a configuration to measure (repeatable), e.g. depth_lr=0.1,batch_size=-1",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--stop-angles", type=float, nargs="+", default=[180, 720, 1440]
    )
    parser.add_argument("--max-depth", type=int, nargs="+", default=[20])
    args = parser.parse_args()

    if args.grid:
        grid = {
            "depth_lr": [0.01, 0.05, 0.1],
            "depth_warmup": [0.0, 0.25, 0.5],
            "batch_size": [128, 256],
        }
        configs = [
            dict(zip(grid, values, strict=True))
            for values in itertools.product(*grid.values())
        ]
    elif args.config:
        configs = [parse_config(spec) for spec in args.config]
    else:
        configs = [{}]

    print(
        f"{'config':55s} {'D':>3s} {'stop':>5s} {'acc (min)':>12s} "
        f"{'depths':>18s} {'fit s':>6s}"
    )
    for params in configs:
        label = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
        label = label.replace("closed_form=1", "closed-form q")
        medians = {}
        for max_depth in args.max_depth:
            for stop_angle, accs, depths, times in run(
                params, args.stop_angles, args.seeds, max_depth
            ):
                medians[max_depth, stop_angle] = np.median(depths)
                print(
                    f"{label:55s} {max_depth:3d} {stop_angle:5.0f} "
                    f"{np.mean(accs):.3f} ({min(accs):.3f})"
                    f" {str(depths):>18s} {np.mean(times):6.1f}",
                    flush=True,
                )
        for low, high in itertools.pairwise(args.max_depth):
            shifts = [medians[high, a] - medians[low, a] for a in args.stop_angles]
            print(
                f"{label}: median depth shift max_depth {low} -> {high}: "
                f"{', '.join(f'{x:+.0f}' for x in shifts)} (stop angles "
                f"{', '.join(f'{a:.0f}' for a in args.stop_angles)})",
                flush=True,
            )


if __name__ == "__main__":
    main()
