# SPDX-License-Identifier: MIT
"""(c) One-shot depth search against the manual grid over fixed depths.

On spirals (``stop_angle=720``, noise 0.2; 200 training, 200 validation and
1800 test rows, standardised on the training rows), ``max_depth=10`` and the
defaults otherwise (200 epochs, Adam): one-shot search / the manual search
over every fixed depth 0..D with the same module, data path, optimiser and
epochs, the best depth chosen on the validation rows. Goals: the one-shot
search at most 1.2x the deepest fixed net, its test accuracy within 0.5 point
of the best fixed depth; one-shot / grid about 2.4 / (D + 2). Single timings
per seed, medians over seeds.

    python benchmarks/search_vs_grid.py [--seeds 0 1 2] [--threads 1] [--quick]
"""

from __future__ import annotations

import time

import numpy as np
from _common import fixed_depth, make_parser, paper_spirals, print_summary, start

from sklearn_depth import DepthSearchClassifier

SPLIT = dict(stop_angle=720, n_train=200, n_valid=200, n_test=1800)
MAX_DEPTH = 10


def figure_c(args):
    # --quick: depths 0..2 and 20 epochs; otherwise the default epochs
    max_depth = 2 if args.quick else MAX_DEPTH
    extra = {"max_epochs": 20} if args.quick else {}
    epochs = extra.get("max_epochs", DepthSearchClassifier().max_epochs)
    print(
        f"\n(c) spirals stop_angle={SPLIT['stop_angle']}, noise 0.2, "
        f"{SPLIT['n_train']} train / {SPLIT['n_valid']} validation / "
        f"{SPLIT['n_test']} test rows, D={max_depth}, defaults otherwise "
        f"({epochs} epochs, Adam)"
    )
    print(
        f"{'seed':>4s} {'one-shot s':>10s} {'grid s':>7s} {'deepest s':>9s} "
        f"{'depth_':>6s} {'acc one-shot':>12s} {'best d (val)':>12s} "
        f"{'acc best d':>10s}  test acc of d = 0..D"
    )
    per_seed = []
    for seed in args.seeds:
        (Xtr, ytr), (Xva, yva), (Xte, yte) = paper_spirals(
            seed, **SPLIT, dtype=np.float32
        )
        params = dict(random_state=seed, **extra)
        start_time = time.perf_counter()
        one = DepthSearchClassifier(max_depth=max_depth, **params).fit(Xtr, ytr)
        t_one = time.perf_counter() - start_time
        times, valid, test = [], [], []
        for depth in range(max_depth + 1):
            start_time = time.perf_counter()
            net = fixed_depth(depth, **params).fit(Xtr, ytr)
            times.append(time.perf_counter() - start_time)
            valid.append(net.score(Xva, yva))
            test.append(net.score(Xte, yte))
        best = int(np.argmax(valid))
        acc_one = one.score(Xte, yte)
        per_seed.append((t_one, sum(times), times[-1], acc_one, test[best]))
        print(
            f"{seed:4d} {t_one:10.2f} {sum(times):7.2f} {times[-1]:9.2f} "
            f"{one.depth_:6d} {acc_one:12.4f} {best:12d} {test[best]:10.4f}  "
            + " ".join(f"{a:.3f}" for a in test),
            flush=True,
        )
    t_one, t_grid, t_deep, acc_one, acc_best = np.median(per_seed, axis=0)
    gap = 100 * np.mean([b - a for *_, a, b in per_seed])
    print(
        f"median one-shot / grid {t_one / t_grid:.3f} (ideal about "
        f"2.4/(D+2) = {2.4 / (max_depth + 2):.3f}); mean test accuracy gap "
        f"best fixed - one-shot: {gap:+.2f} points (goal <= 0.5)"
    )
    grid = f"(c) one-shot search / grid of fixed depths 0..{max_depth}"
    deepest = f"(c) one-shot search / deepest fixed net (d={max_depth})"
    return [(grid, t_one, t_grid, 0.2), (deepest, t_one, t_deep, 1.2)]


def main():
    args = make_parser(__doc__, seeds=True).parse_args()
    started = start(args)
    print_summary(figure_c(args), started)


if __name__ == "__main__":
    main()
