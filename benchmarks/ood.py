# SPDX-License-Identifier: MIT
"""Depth disagreement as an out-of-distribution score (issue #16).

Three settings where the test data is held out by construction, each fitted
with ``DepthSearchClassifier(random_state=seed)`` (the defaults, or the
parameters of ``--config K=V,...``):

- ``digits``: scikit-learn's digits of classes 0-4, split 70 / 30 %
  (stratified) and standardised on the training rows; in-distribution: the
  held-out rows of 0-4, out: every row of 5-9;
- ``spirals``: ``make_spirals(3000, noise=0.2)``; the points within radius
  8 of the centre (about 40 % of the arms' length) are split 300 training
  rows / the rest held out (in-distribution), the points beyond radius 8
  are out; standardised on the training rows;
- ``--table`` (default ``hdma``, the largest classification table of the
  panel in ``--data-dir``): split 70 / 30 % (stratified), behind
  ``tabular.py``'s preprocessor fitted on the training rows;
  in-distribution: the held-out rows, out: the same rows with one numeric
  feature shifted by ``--shift`` (3) of its training standard deviations,
  once per numeric feature; the AUROC is averaged over the features.

Scores, oriented so that higher means more normal (in-distribution is the
positive class of ``roc_auc_score``; 0.5 is chance, below 0.5 the score
ranks the held-out data as *more* normal): ``score_samples`` (minus the
mutual information between label and depth, with the default packed
members the members' disagreement included: the epistemic part of
``predict_entropy_components``), the max-softmax-probability baseline (MSP:
the largest class probability of our own ``predict_proba``), and for
reference minus the total predictive entropy and minus its aleatoric part.
Mean ± std over ``--seeds`` (0 1 2). Goal of #16: the AUROC of
``score_samples`` >= MSP's on at least 2 of the 3 settings.

    python benchmarks/ood.py --data-dir ../shared/data/tabular [--seeds 0 1 2]
    python benchmarks/ood.py --settings digits spirals  # no tables needed
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch
from _common import parse_config
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_depth import DepthSearchClassifier, make_spirals

SCORES = ("MI (ours)", "MSP", "-entropy", "-aleatoric")
RADIUS = 8.0


def fit(X, y, seed, params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DepthSearchClassifier(random_state=seed, **params).fit(X, y)


def scores(clf, X):
    """Each score of the rows of ``X``; higher means more normal."""
    aleatoric, epistemic = clf.predict_entropy_components(X)
    return {
        "MI (ours)": clf.score_samples(X),
        "MSP": clf.predict_proba(X).max(axis=1),
        "-entropy": -(aleatoric + epistemic),
        "-aleatoric": -aleatoric,
    }


def auroc(clf, X_in, X_out):
    """AUROC of every score, in-distribution rows as the positive class."""
    s_in, s_out = scores(clf, X_in), scores(clf, X_out)
    label = np.r_[np.ones(len(X_in)), np.zeros(len(X_out))]
    return {k: roc_auc_score(label, np.r_[s_in[k], s_out[k]]) for k in SCORES}


def digits(seed, args):
    X, y = load_digits(return_X_y=True)
    inside = y < 5
    X_train, X_in, y_train, y_in = train_test_split(
        X[inside], y[inside], test_size=0.3, stratify=y[inside], random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    clf = fit(scaler.transform(X_train), y_train, seed, args.params)
    result = auroc(clf, scaler.transform(X_in), scaler.transform(X[~inside]))
    accuracy = clf.score(scaler.transform(X_in), y_in)
    return clf, accuracy, result, f"{len(X_in)} in / {(~inside).sum()} out"


def spirals(seed, args):
    X, y = make_spirals(3000, noise=0.2, random_state=seed)
    inside = np.linalg.norm(X, axis=1) < RADIUS
    X_inside, y_inside = X[inside], y[inside]
    scaler = StandardScaler().fit(X_inside[:300])
    clf = fit(scaler.transform(X_inside[:300]), y_inside[:300], seed, args.params)
    X_in = scaler.transform(X_inside[300:])
    result = auroc(clf, X_in, scaler.transform(X[~inside]))
    accuracy = clf.score(X_in, y_inside[300:])
    return clf, accuracy, result, f"{len(X_in)} in / {(~inside).sum()} out"


def table(seed, args):
    from tabular import load_tables, preprocessor

    task, X, y = load_tables(args.data_dir)[args.table]
    if task != "classification":
        raise SystemExit(f"{args.table} is not a classification table")
    X_train, X_in, y_train, y_in = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    prep = preprocessor(X_train).fit(X_train)
    clf = fit(prep.transform(X_train), y_train, seed, args.params)
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    per_feature = []
    for column in numeric:
        X_out = X_in.copy()
        X_out[column] = X_out[column] + args.shift * X_train[column].std()
        per_feature.append(auroc(clf, prep.transform(X_in), prep.transform(X_out)))
    result = {k: float(np.mean([r[k] for r in per_feature])) for k in SCORES}
    accuracy = clf.score(prep.transform(X_in), y_in)
    what = f"{len(X_in)} rows, {len(numeric)} features shifted by {args.shift} std"
    return clf, accuracy, result, what


SETTINGS = {"digits": digits, "spirals": spirals, "table": table}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", default=None, help="the tabular panel")
    parser.add_argument("--table", default="hdma")
    parser.add_argument("--shift", type=float, default=3.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--config",
        default="defaults",
        metavar="K=V,K=V",
        help="estimator parameters (default: the estimator's defaults)",
    )
    parser.add_argument(
        "--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS)
    )
    args = parser.parse_args(argv)
    args.params = parse_config(args.config)
    if "table" in args.settings and args.data_dir is None:
        parser.error("the table setting needs --data-dir (or leave it out)")
    torch.set_num_threads(1)
    started = time.perf_counter()
    print(
        f"torch {torch.__version__}, 1 thread; seeds {args.seeds}; "
        f"DepthSearchClassifier({args.config}); AUROC with the in-distribution "
        "rows as the positive class (higher score = more normal)"
    )
    summary = {}
    for setting in args.settings:
        name = args.table if setting == "table" else setting
        print(f"\n{name}")
        print(
            f"{'seed':>4s} {'depth_':>6s} {'acc in':>6s} "
            + " ".join(f"{k:>10s}" for k in SCORES)
        )
        rows = []
        for seed in args.seeds:
            clf, accuracy, result, what = SETTINGS[setting](seed, args)
            rows.append(result)
            print(
                f"{seed:4d} {clf.depth_:6d} {accuracy:6.3f} "
                + " ".join(f"{result[k]:10.3f}" for k in SCORES),
                flush=True,
            )
        print(f"(seed {seed}: {what})")
        summary[name] = {k: [r[k] for r in rows] for k in SCORES}

    print("\nAUROC, mean ± std over seeds (in-distribution = positive)")
    print(f"{'setting':10s} " + " ".join(f"{k:>15s}" for k in SCORES) + "  MI >= MSP")
    wins = 0
    for name, values in summary.items():
        means = {k: np.mean(v) for k, v in values.items()}
        win = means["MI (ours)"] >= means["MSP"]
        wins += win
        print(
            f"{name:10s} "
            + " ".join(f"{np.mean(v):7.3f} ± {np.std(v):5.3f}" for v in values.values())
            + f"  {'yes' if win else 'no'}"
        )
    print(
        f"goal (MI >= MSP on at least 2 of 3 settings): {wins} of {len(summary)} "
        f"-> {'met' if wins >= 2 else 'not met'}"
    )
    print(f"wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
