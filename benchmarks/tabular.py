# SPDX-License-Identifier: MIT
"""The estimators' defaults against scikit-learn baselines on small real tables.

The measurement of issue #12 ("strong defaults"). Per table, 5-fold CV
(stratified for classification; shuffled, seed 0), every model in a Pipeline
behind the same preprocessor: ``ColumnTransformer(StandardScaler on numeric
columns, OneHotEncoder(handle_unknown="ignore") on string columns)``.

- classification (the 7 classification tables of the panel + sklearn's
  breast_cancer, wine, digits): accuracy, log-loss, ECE (15 uniform bins) of
  ``DepthSearchClassifier()`` and of LogisticRegression,
  HistGradientBoostingClassifier, MLPClassifier (sklearn defaults); the
  ratio of our log-loss to the best baseline's, the gap in accuracy to the
  best baseline's, and the worst single test row's log-loss;
- regression (the 5 regression tables + sklearn's diabetes): RMSE, test
  log-likelihood per row (Gaussian with ``predict(X, return_std=True)``, in
  original units) and 95 % interval coverage pooled over the folds, against
  Ridge, HistGradientBoostingRegressor, MLPRegressor (RMSE) and
  BayesianRidge (log-likelihood, coverage); plus the blow-up: the largest
  distance of any prediction (train and test rows) outside the training
  targets' range, in units of that range (goal: <= 1);
- mean fit seconds of each model.

Ours is the package's estimator with its defaults (``random_state`` = fold
number, plus ``--seed``), or with the parameters of each ``--config
K=V,K=V`` (repeatable; the configurations are compared side by side in one
run). Baseline figures are cached under ``--cache`` (they do not depend on ours).
The pseudo-parameter ``average=K`` of a configuration fits ``K`` copies of
ours per fold (``random_state`` = fold + seed + 1000 k, so each copy holds out
other rows for early stopping) and averages their predictions: the
probabilities for the classifier, the Gaussian mixture's mean and standard
deviation for the regressor. It measures what an ensemble of the estimator
would give; the depth shown is the first copy's.

    python benchmarks/tabular.py --data-dir /path/to/tabular
    python benchmarks/tabular.py --data-dir DIR --tables iris wine \
        --config defaults --config validation_fraction=0.1
            --tables iris wine
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import parse_config
from scipy.stats import norm
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import BayesianRidge, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor
from sklearn_depth.metrics import expected_calibration_error

CLS_BASELINES = {
    "logreg": LogisticRegression,
    "hgb": HistGradientBoostingClassifier,
    "mlp": MLPClassifier,
}
REG_BASELINES = {
    "ridge": Ridge,
    "hgb": HistGradientBoostingRegressor,
    "mlp": MLPRegressor,
    "bayesridge": BayesianRidge,
}
SKLEARN_TABLES = {
    "breast_cancer": ("classification", load_breast_cancer),
    "wine": ("classification", load_wine),
    "digits": ("classification", load_digits),
    "diabetes": ("regression", load_diabetes),
}


def load_tables(data_dir):
    """``{name: (task, X DataFrame, y)}``, panel tables first."""
    tables = {}
    panel = json.loads((Path(data_dir) / "panel.json").read_text())
    for entry in panel:
        df = pd.read_csv(Path(data_dir) / f"{entry['name']}.csv")
        X, y = df.iloc[:, :-1], df.iloc[:, -1].to_numpy()
        if entry["task"] == "regression":
            y = y.astype(np.float64)
        tables[entry["name"]] = (entry["task"], X, y)
    for name, (task, loader) in SKLEARN_TABLES.items():
        X, y = loader(return_X_y=True, as_frame=True)
        tables[name] = (task, X, y.to_numpy())
    return tables


def preprocessor(X):
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in X.columns if c not in categorical]
    return ColumnTransformer(
        [
            ("num", StandardScaler(), numeric),
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            ),
        ]
    )


def folds(task, X, y, n_folds):
    if task == "classification":
        cv = StratifiedKFold(n_folds, shuffle=True, random_state=0)
    else:
        cv = KFold(n_folds, shuffle=True, random_state=0)
    return list(cv.split(X, y))


def fit_timed(model, X, y):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return time.perf_counter() - t0


def run_classification(model, X, y, splits):
    """Pooled out-of-fold probabilities, per-fold metrics and fit seconds."""
    classes = np.unique(y)
    proba = np.zeros((len(y), len(classes)))
    accs, losses, eces, secs = [], [], [], []
    extra = {}
    for i, (tr, te) in enumerate(splits):
        m = model(i)
        secs.append(fit_timed(m, X.iloc[tr], y[tr]))
        p = np.zeros((len(te), len(classes)))
        p[:, np.searchsorted(classes, m.classes_)] = m.predict_proba(X.iloc[te])
        proba[te] = p
        accs.append(accuracy_score(y[te], classes[p.argmax(1)]))
        losses.append(log_loss(y[te], p, labels=classes))
        eces.append(expected_calibration_error(y[te], p, labels=classes))
        est = m[-1]
        if hasattr(est, "depth_"):
            extra.setdefault("depth", []).append(int(est.depth_))
            extra.setdefault("epochs", []).append(len(est.history))
    true_p = proba[np.arange(len(y)), np.searchsorted(classes, y)]
    return {
        "acc": float(np.mean(accs)),
        "logloss": float(np.mean(losses)),
        "ece": float(np.mean(eces)),
        "worst_row_nll": float((-np.log(np.clip(true_p, 1e-15, 1))).max()),
        "fit_s": float(np.mean(secs)),
        **extra,
    }


def run_regression(model, X, y, splits):
    sq, ll, covered, secs, blowup = [], [], [], [], []
    extra = {}
    for i, (tr, te) in enumerate(splits):
        m = model(i)
        secs.append(fit_timed(m, X.iloc[tr], y[tr]))
        lo, hi = y[tr].min(), y[tr].max()
        span = hi - lo
        pred_all = m.predict(X)
        out = np.maximum(pred_all - hi, lo - pred_all).clip(min=0) / span
        blowup.append(float(out.max()))
        try:
            mean, std = m.predict(X.iloc[te], return_std=True)
        except TypeError:
            mean, std = m.predict(X.iloc[te]), None
        sq.append((y[te] - mean) ** 2)
        if std is not None:
            ll.append(norm.logpdf(y[te], mean, std))
            covered.append(np.abs(y[te] - mean) <= norm.ppf(0.975) * std)
        est = m[-1]
        if hasattr(est, "depth_"):
            extra.setdefault("depth", []).append(int(est.depth_))
            extra.setdefault("epochs", []).append(len(est.history))
    res = {
        "rmse": float(np.mean([np.sqrt(s.mean()) for s in sq])),
        "blowup": float(max(blowup)),
        "fit_s": float(np.mean(secs)),
        **extra,
    }
    if ll:
        res["ll"] = float(np.mean([v.mean() for v in ll]))
        res["coverage"] = float(np.concatenate(covered).mean())
    return res


class SeedAverage:
    """``K`` fitted copies of a pipeline, their predictions averaged."""

    def __init__(self, make, n):
        self.make, self.n = make, n

    def fit(self, X, y):
        self.members_ = [self.make(k).fit(X, y) for k in range(self.n)]
        self.classes_ = getattr(self.members_[0], "classes_", None)
        return self

    def __getitem__(self, index):
        return self.members_[0][index]

    def predict_proba(self, X):
        return np.mean([m.predict_proba(X) for m in self.members_], axis=0)

    def predict(self, X, return_std=False):
        out = [m.predict(X, return_std=True) for m in self.members_]
        mean = np.mean([mu for mu, _ in out], axis=0)
        if not return_std:
            return mean
        second = np.mean([sd**2 + mu**2 for mu, sd in out], axis=0)
        return mean, np.sqrt(np.maximum(second - mean**2, 0.0))


def baseline(task, name, X):
    cls = (CLS_BASELINES if task == "classification" else REG_BASELINES)[name]
    kw = {"random_state": 0} if "random_state" in cls().get_params() else {}
    return lambda i: make_pipeline(preprocessor(X), cls(**kw))


def ours(task, variant, X, seed=0):
    cls = DepthSearchClassifier if task == "classification" else DepthSearchRegressor
    params = parse_config(variant)
    n_average = params.pop("average", None)

    def make(i, k=0):
        return make_pipeline(
            preprocessor(X), cls(random_state=seed + i + 1000 * k, **params)
        )

    if n_average is None:
        return make
    return lambda i: SeedAverage(lambda k: make(i, k), n_average)


def summarise(results, variants, tables):
    """Print per-table figures and the goal ratios of issue #12."""
    lines = []
    cls_tables = [t for t in tables if results[t]["task"] == "classification"]
    reg_tables = [t for t in tables if results[t]["task"] == "regression"]
    if cls_tables:
        lines.append(
            "\nCLASSIFICATION  (acc / log-loss / ECE; ratio = our log-loss "
            "/ best baseline's)"
        )
        head = (
            f"{'table':14s} {'model':16s} {'acc':>6s} {'logloss':>8s} "
            f"{'ECE':>6s} {'worstNLL':>8s} {'fit s':>6s} {'ratio':>6s} "
            f"{'dacc':>6s}  depth/epochs"
        )
        lines.append(head)
        summ = {
            v: {"ratio": [], "dacc": [], "ece": [], "fit": [], "acc": []}
            for v in variants
        }
        for t in cls_tables:
            r = results[t]
            best_ll = min(r["base"][b]["logloss"] for b in CLS_BASELINES)
            best_acc = max(r["base"][b]["acc"] for b in CLS_BASELINES)
            for b in CLS_BASELINES:
                m = r["base"][b]
                lines.append(
                    f"{t:14s} {b:16s} {m['acc']:6.3f} {m['logloss']:8.4f} "
                    f"{m['ece']:6.3f} "
                    f"{m['worst_row_nll']:8.2f} {m['fit_s']:6.2f}"
                )
            for v in variants:
                m = r["ours"][v]
                ratio = m["logloss"] / best_ll
                dacc = 100 * (m["acc"] - best_acc)
                s = summ[v]
                s["ratio"].append(ratio)
                s["dacc"].append(dacc)
                s["ece"].append(m["ece"])
                s["fit"].append(m["fit_s"])
                s["acc"].append(m["acc"])
                dep = (
                    f"{int(np.median(m['depth']))}/{int(np.median(m['epochs']))}"
                    if "depth" in m
                    else ""
                )
                lines.append(
                    f"{t:14s} {'*' + v:16s} {m['acc']:6.3f} {m['logloss']:8.4f} "
                    f"{m['ece']:6.3f} {m['worst_row_nll']:8.2f} {m['fit_s']:6.2f} "
                    f"{ratio:6.3f} {dacc:+6.1f}  {dep}"
                )
        lines.append(
            "\nclassification summary (goal: mean ratio <= 1.05, max "
            "<= 1.5, mean dacc >= -1)"
        )
        lines.append(
            f"{'variant':16s} {'mean ratio':>10s} {'max ratio':>9s} {'mean dacc':>9s} "
            f"{'mean ECE':>8s} {'median fit s':>12s}"
        )
        for v in variants:
            s = summ[v]
            lines.append(
                f"{v:16s} {np.mean(s['ratio']):10.3f} {np.max(s['ratio']):9.3f} "
                f"{np.mean(s['dacc']):+9.2f} {np.mean(s['ece']):8.3f} "
                f"{np.median(s['fit']):12.2f}"
            )
        base_ece = {
            b: np.mean([results[t]["base"][b]["ece"] for t in cls_tables])
            for b in CLS_BASELINES
        }
        lines.append(
            "baselines' mean ECE: "
            + ", ".join(f"{b} {e:.3f}" for b, e in base_ece.items())
        )
    if reg_tables:
        lines.append(
            "\nREGRESSION  (RMSE / test LL per row / 95% coverage; blowup "
            "= max distance outside train-target range, in ranges)"
        )
        lines.append(
            f"{'table':14s} {'model':16s} {'RMSE':>9s} {'LL':>8s} {'cover':>6s} "
            f"{'blowup':>7s} {'fit s':>6s} {'rmse r':>6s} {'dLL':>6s} "
            f" depth/epochs"
        )
        summ = {
            v: {"rr": [], "dll": [], "cov": [], "cov_big": [], "blow": [], "fit": []}
            for v in variants
        }
        for t in reg_tables:
            r = results[t]
            best_rmse = min(r["base"][b]["rmse"] for b in ("ridge", "hgb", "mlp"))
            br_ll = r["base"]["bayesridge"]["ll"]
            for b in REG_BASELINES:
                m = r["base"][b]
                lls = (
                    f"{m['ll']:8.3f} {m['coverage']:6.3f}"
                    if "ll" in m
                    else f"{'':8s} {'':6s}"
                )
                lines.append(
                    f"{t:14s} {b:16s} {m['rmse']:9.4g} {lls} {m['blowup']:7.2f} "
                    f"{m['fit_s']:6.2f}"
                )
            for v in variants:
                m = r["ours"][v]
                rr, dll = m["rmse"] / best_rmse, m["ll"] - br_ll
                s = summ[v]
                s["rr"].append(rr)
                s["dll"].append(dll)
                s["cov"].append(m["coverage"])
                if r["rows"] >= 200:
                    s["cov_big"].append(m["coverage"])
                s["blow"].append(m["blowup"])
                s["fit"].append(m["fit_s"])
                dep = (
                    f"{int(np.median(m['depth']))}/{int(np.median(m['epochs']))}"
                    if "depth" in m
                    else ""
                )
                lines.append(
                    f"{t:14s} {'*' + v:16s} {m['rmse']:9.4g} {m['ll']:8.3f} "
                    f"{m['coverage']:6.3f} "
                    f"{m['blowup']:7.2f} {m['fit_s']:6.2f} {rr:6.3f} {dll:+6.3f} "
                    f" {dep}"
                )
        lines.append(
            "\nregression summary (goal: mean cover in [.93,.97], every "
            "table >=200 rows in [.90,.98], LL >= BayesianRidge everywhere "
            "(min dLL >= 0), mean RMSE ratio <= 1.05, blowup <= 1)"
        )
        lines.append(
            f"{'variant':16s} {'mean cov':>8s} {'cov range >=200':>16s} "
            f"{'min dLL':>8s} {'#dLL<0':>6s} {'mean rmse r':>11s} {'max blowup':>10s} "
            f"{'median fit s':>12s}"
        )
        for v in variants:
            s = summ[v]
            cb = (
                f"{min(s['cov_big']):.3f}-{max(s['cov_big']):.3f}"
                if s["cov_big"]
                else "-"
            )
            lines.append(
                f"{v:16s} {np.mean(s['cov']):8.3f} {cb:>16s} {min(s['dll']):+8.3f} "
                f"{sum(d < 0 for d in s['dll']):6d} {np.mean(s['rr']):11.3f} "
                f"{max(s['blow']):10.3g} {np.median(s['fit']):12.2f}"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--tables", nargs="*", default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--config",
        action="append",
        default=None,
        metavar="K=V,K=V",
        help="estimator parameters to compare (repeatable); empty: the defaults",
    )
    parser.add_argument(
        "--task", choices=["classification", "regression"], default=None
    )
    parser.add_argument(
        "--cache", default=os.path.expanduser("~/.cache/sklearn_depth_tabular")
    )
    parser.add_argument("--json", default=None, help="also write the raw figures here")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="our random_state is this plus the fold number (seed noise)",
    )
    args = parser.parse_args(argv)
    args.variant = args.config if args.config else ["defaults"]
    torch.set_num_threads(1)

    tables = load_tables(args.data_dir)
    names = args.tables or list(tables)
    if args.task:
        names = [n for n in names if tables[n][0] == args.task]
    cache_dir = Path(args.cache)
    cache_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    t_all = time.perf_counter()
    for name in names:
        task, X, y = tables[name]
        splits = folds(task, X, y, args.folds)
        run = run_classification if task == "classification" else run_regression
        bases = CLS_BASELINES if task == "classification" else REG_BASELINES
        cache = cache_dir / f"{name}_{args.folds}.json"
        base = json.loads(cache.read_text()) if cache.exists() else {}
        for b in bases:
            if b not in base:
                base[b] = run(baseline(task, b, X), X, y, splits)
        cache.write_text(json.dumps(base))
        ours_res = {}
        for v in args.variant:
            ours_res[v] = run(ours(task, v, X, args.seed), X, y, splits)
            print(
                f"[{time.perf_counter() - t_all:7.1f}s] {name} {v}: "
                + ", ".join(
                    f"{k}={val:.4g}"
                    for k, val in ours_res[v].items()
                    if isinstance(val, float)
                ),
                flush=True,
            )
        results[name] = {"task": task, "rows": len(y), "base": base, "ours": ours_res}
    print(summarise(results, args.variant, names))
    print(f"\nwall time {time.perf_counter() - t_all:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
