# SPDX-License-Identifier: MIT
"""Early exit: blocks saved, accuracy kept, prediction time (issue #16).

Per data set and seed: fit ``DepthSearchClassifier`` on the training rows,
choose ``exit_threshold`` with ``tune_exit_threshold(X_tune)``
(tolerance 0.002, its default) on held-out tuning rows, then on the test
rows report ``depth_``, the mean number of blocks evaluated per row
(``exit_depths``) and the fraction of ``depth_`` it saves, the test
accuracy without and with the exits, and the median wall-clock time of
``predict_proba`` without and with ``exit_threshold`` (interleaved repeats
in one run, one torch thread) on the test rows and on 10 000 rows drawn
from them with replacement (where the network's arithmetic, which the
exits save, outweighs the per-call overhead).

Data sets (``--data`` picks some):

- ``spirals``: the paper's spirals, ``make_spirals(2000, noise=0.2)``, the
  first 200 rows train, the next 600 tune, the last 1200 test,
  standardised on the training rows; the estimator's defaults;
- ``spirals-paper``: the same rows with the paper's recipe
  (``max_depth=20, early_stopping=False, max_epochs=200,
  depth_warmup=0.25, n_members=1``: one network);
- ``digits``: scikit-learn's digits, standardised;
- the 7 classification tables of ``--data-dir`` (see ``tabular.py``),
  behind ``tabular.py``'s preprocessor.

digits and the tables are split 60 / 20 / 20 % (train / tune / test),
stratified, shuffled with the seed; the preprocessor is fitted on the
training rows. Goal of #16, for every fit with ``depth_ >= 4``: >= 40 %
fewer blocks evaluated, at most 0.2 points of test accuracy lost (or one
test row, whichever is larger), and prediction time falling with the
blocks (ratio < 1). ``--plot PATH`` saves test accuracy against mean
blocks evaluated over a sweep of thresholds (first seed; needs
matplotlib).

    python benchmarks/early_exit.py --data-dir ../shared/data/tabular \
        [--seeds 0 1 2] [--plot early_exit.png]
    python benchmarks/early_exit.py --data spirals digits --seeds 0  # no tables
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from _common import interleaved_medians, paper_spirals
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_depth import DepthSearchClassifier

PAPER_RECIPE = dict(
    max_depth=20, early_stopping=False, max_epochs=200, depth_warmup=0.25, n_members=1
)
TIMING_ROWS = 10_000


def spirals(seed):
    return paper_spirals(seed, n_valid=600, n_test=1200)


def split_60_20_20(X, y, seed, preprocess):
    """Stratified train / tune / test rows, preprocessed as fitted on train."""
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, test_size=0.4, stratify=y, random_state=seed
    )
    X_tune, X_test, y_tune, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=seed
    )
    prep = preprocess(X_train).fit(X_train)
    return tuple(
        (np.asarray(prep.transform(X_), dtype=np.float64), np.asarray(y_))
        for X_, y_ in ((X_train, y_train), (X_tune, y_tune), (X_test, y_test))
    )


def data_sets(names, data_dir):
    """``{name: (split(seed), estimator parameters)}`` in the order asked."""
    sets = {
        "spirals": (spirals, {}),
        "spirals-paper": (spirals, PAPER_RECIPE),
        "digits": (
            lambda seed: split_60_20_20(
                *load_digits(return_X_y=True), seed, lambda _: StandardScaler()
            ),
            {},
        ),
    }
    if data_dir is not None:
        from tabular import load_tables, preprocessor

        for name, (task, X, y) in load_tables(data_dir).items():
            if task == "classification" and name not in ("breast_cancer", "wine"):
                sets.setdefault(
                    name,
                    (
                        lambda seed, X=X, y=y: split_60_20_20(X, y, seed, preprocessor),
                        {},
                    ),
                )
    names = names or list(sets)
    missing = [n for n in names if n not in sets]
    if missing:
        raise SystemExit(f"unknown data sets {missing} (tables need --data-dir)")
    return {n: sets[n] for n in names}


def predict_seconds(clf, X, threshold, repeats):
    """Median seconds of predict_proba(X) without and with ``threshold``."""

    def timer(value):
        def run():
            clf.exit_threshold = value  # a prediction-time setting
            start = time.perf_counter()
            clf.predict_proba(X)
            return time.perf_counter() - start

        return run

    timer(None)(), timer(threshold)()  # warm both paths
    return interleaved_medians(timer(None), timer(threshold), repeats)


def measure(name, seed, split, params, repeats):
    (X_train, y_train), (X_tune, y_tune), (X_test, y_test) = split(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = DepthSearchClassifier(random_state=seed, **params).fit(X_train, y_train)
    acc_full = clf.score(X_test, y_test)
    clf.tune_exit_threshold(X_tune)
    threshold = clf.exit_threshold
    blocks = clf.exit_depths(X_test).mean()
    acc_exit = clf.score(X_test, y_test)
    rng = np.random.RandomState(seed)
    X_big = X_test[rng.randint(len(X_test), size=TIMING_ROWS)]
    times = {}
    if threshold is not None:
        times["test"] = predict_seconds(clf, X_test, threshold, repeats)
        times["big"] = predict_seconds(clf, X_big, threshold, max(repeats // 3, 5))
    clf.exit_threshold = threshold
    return {
        "data": name,
        "seed": seed,
        "depth": int(clf.depth_),
        "threshold": threshold,
        "blocks": float(blocks),
        "saved": 1 - blocks / clf.depth_ if clf.depth_ else 0.0,
        "acc_full": acc_full,
        "acc_exit": acc_exit,
        "lost": 100 * (acc_full - acc_exit),
        "allowed": max(0.2, 100 / len(y_test)),
        "n_test": len(y_test),
        "times": times,
        "clf": clf,
        "test": (X_test, y_test),
    }


def sweep(clf, X, y):
    """(mean blocks, accuracy, threshold) over a grid of thresholds."""
    n_classes = len(clf.classes_)
    kept = clf.exit_threshold
    grid = np.unique(
        np.concatenate(
            [
                np.linspace(1 / n_classes, 1, 21),
                [0.95, 0.98, 0.99, 0.995, 0.999, 0.9999],
                [] if kept is None else [kept],
            ]
        )
    )
    points = []
    for t in [*grid, None]:
        clf.exit_threshold = t
        points.append((clf.exit_depths(X).mean(), clf.score(X, y), t))
    clf.exit_threshold = kept
    return points


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.4 * cols, 2.8 * rows), squeeze=False
    )
    for ax, r in zip(axes.ravel(), results, strict=False):
        points = sweep(r["clf"], *r["test"])
        blocks, acc, _ = zip(*points, strict=True)
        ax.plot(blocks, acc, ".-", color="C0", label="thresholds")
        ax.plot([r["depth"]], [r["acc_full"]], "k*", ms=10, label="no exit (depth_)")
        if r["threshold"] is not None:
            ax.plot([r["blocks"]], [r["acc_exit"]], "o", color="C3", label="tuned")
        ax.set_title(f"{r['data']} (depth_ = {r['depth']})", fontsize=9)
        ax.set_xlabel("mean blocks evaluated", fontsize=8)
        ax.set_ylabel("test accuracy", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    print(f"plot saved to {path}")


def ratio_text(times, key):
    if key not in times:
        return f"{'-':>8s} {'-':>8s} {'-':>5s}"
    full, exit_ = times[key]
    return f"{1e3 * full:8.2f} {1e3 * exit_:8.2f} {exit_ / full:5.2f}"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", default=None, help="the tabular panel")
    parser.add_argument("--data", nargs="*", default=None, help="data sets to run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--plot", default=None, metavar="PATH")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    sets = data_sets(args.data, args.data_dir)
    print(
        f"torch {torch.__version__}, 1 thread; seeds {args.seeds}; times: median of "
        f"{args.repeats} interleaved predict_proba calls on the test rows, "
        f"{max(args.repeats // 3, 5)} on {TIMING_ROWS} rows"
    )
    head = (
        f"\n{'data':14s} {'seed':>4s} {'depth_':>6s} {'thresh':>7s} {'blocks':>6s} "
        f"{'saved':>6s} {'acc':>6s} {'acc ex':>6s} {'lost':>5s} {'allow':>5s}  "
        f"{'test ms':>8s} {'exit ms':>8s} {'ratio':>5s}  "
        f"{'10k ms':>8s} {'exit ms':>8s} {'ratio':>5s}"
    )
    print(head)
    results = []
    for name, (split, params) in sets.items():
        for seed in args.seeds:
            r = measure(name, seed, split, params, args.repeats)
            results.append(r)
            threshold = "-" if r["threshold"] is None else f"{r['threshold']:.4f}"
            print(
                f"{name:14s} {seed:4d} {r['depth']:6d} {threshold:>7s} "
                f"{r['blocks']:6.2f} {100 * r['saved']:5.1f}% {r['acc_full']:6.3f} "
                f"{r['acc_exit']:6.3f} {r['lost']:5.2f} {r['allowed']:5.2f}  "
                f"{ratio_text(r['times'], 'test')}  {ratio_text(r['times'], 'big')}",
                flush=True,
            )
    summarise(results)
    if args.plot:
        first = [r for r in results if r["seed"] == args.seeds[0]]
        plot(first, args.plot)
    print(f"wall time: {time.perf_counter() - started:.0f} s")


def summarise(results):
    """The goal of #16 over the fits with depth_ >= 4."""
    print(
        "\ngoal for fits with depth_ >= 4: saved >= 40 %, lost <= allowed (0.2 "
        "points or one test row), time ratio < 1 (on 10k rows; test rows shown)"
    )
    print(
        f"{'data':14s} {'fits':>4s} {'>=4':>4s} {'mean saved':>10s} {'max lost':>8s} "
        f"{'ratio 10k':>9s} {'ratio test':>10s} {'blocks':>6s} {'acc':>4s} "
        f"{'time':>4s}"
    )
    verdicts = []
    for name in dict.fromkeys(r["data"] for r in results):
        fits = [r for r in results if r["data"] == name]
        deep = [r for r in fits if r["depth"] >= 4]
        if not deep:
            print(f"{name:14s} {len(fits):4d} {0:4d}  (no fit with depth_ >= 4)")
            continue
        blocks_ok = [r["saved"] >= 0.4 for r in deep]
        acc_ok = [r["lost"] <= r["allowed"] + 1e-9 for r in deep]
        big = [r["times"]["big"][1] / r["times"]["big"][0] for r in deep if r["times"]]
        test = [
            r["times"]["test"][1] / r["times"]["test"][0] for r in deep if r["times"]
        ]
        time_ok = [
            bool(r["times"]) and r["times"]["big"][1] < r["times"]["big"][0]
            for r in deep
        ]
        verdicts.append((all(blocks_ok), all(acc_ok), all(time_ok)))
        print(
            f"{name:14s} {len(fits):4d} {len(deep):4d} "
            f"{100 * np.mean([r['saved'] for r in deep]):9.1f}% "
            f"{max(r['lost'] for r in deep):8.2f} "
            f"{np.median(big) if big else np.nan:9.2f} "
            f"{np.median(test) if test else np.nan:10.2f} "
            f"{f'{sum(blocks_ok)}/{len(deep)}':>6s} {f'{sum(acc_ok)}/{len(deep)}':>4s} "
            f"{f'{sum(time_ok)}/{len(deep)}':>4s}"
        )
    if verdicts:
        met = [all(v) for v in verdicts]
        print(
            f"data sets meeting every part of the goal: {sum(met)}/{len(met)} "
            f"(blocks {sum(v[0] for v in verdicts)}, accuracy "
            f"{sum(v[1] for v in verdicts)}, time {sum(v[2] for v in verdicts)})"
        )


if __name__ == "__main__":
    main()
