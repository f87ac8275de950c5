# SPDX-License-Identifier: MIT
"""ARD on Boston housing: a dense MLP, the same MLP with ARD layers, and
DepthSearchRegressor with ARD blocks, over the 20 standard UCI splits.

For every split the inputs are standardised with the training statistics and
10 % of the training rows are held out for early stopping (never the test
rows). Three models, each trained with Adam on a Gaussian likelihood with a
learned noise scale (targets standardised), the KL annealed over the first
100 epochs, early-stopped on the validation loss (the negative ELBO with the
full KL) with the best weights restored:

- ``dense``: ``13 → 150 → 1`` with ReLU (2,251 parameters);
- ``ard``: the same network with ``sklearn_depth.nn.LinearARD`` layers and
  ``sparsity_strength × KL / N`` added to the loss (``ELBOLoss``);
  the exported model is a plain ``13 → k → 1`` network with the disconnected
  hidden units removed;
- ``depth``: ``DepthSearchRegressor(sparse_blocks="ard", ...)`` (``CONFIG``
  below), exported with ``export_pruned()``;

for ``sparsity_strength`` in {0, 0.01, 0.1, 1, 10, 100} (multiples of the
proper ``KL / N``). Printed per model: test MSE and RMSE (original units, mean
± std over splits), parameters of the exported model (mean, and as a fraction
of the dense 2,251), non-zero weights kept, and the prediction time of the
exported model / the dense network on the same rows.

    python benchmarks/boston_ard.py --data-dir ../shared/data/uci
    python benchmarks/boston_ard.py --data-dir ../shared/data/uci --quick
    python benchmarks/boston_ard.py --data-dir DIR --splits 0 --max-epochs 5  # smoke

The data are not part of the project: pass the folder that holds them.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
from joblib import Parallel, delayed
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit
from torch import nn

from sklearn_depth import DepthSearchRegressor
from sklearn_depth.datasets import load_uci
from sklearn_depth.nn import ELBOLoss, LinearARD, count_parameters

STRENGTHS = [0.0, 0.01, 0.1, 1.0, 10.0, 100.0]
HIDDEN = 150
DENSE_PARAMS = 13 * HIDDEN + HIDDEN + HIDDEN + 1  # 2,251
VALIDATION_FRACTION = 0.1
LR = 3e-3
BATCH_SIZE = 128
MAX_EPOCHS = 1000
PATIENCE = 50
# The KL grows linearly from 0 over the first WARMUP epochs (as the
# estimators anneal it over ``depth_warmup``).
WARMUP = 100
# The depth-search configuration (fixed; no tuning on test data).
CONFIG = dict(
    max_depth=5,
    width=32,
    batch_size=BATCH_SIZE,
    lr=LR,
    max_epochs=MAX_EPOCHS,
    depth_warmup=WARMUP,
)


def gaussian_nll(y_pred, y_true, log_noise):
    z = (y_true - y_pred) * torch.exp(-log_noise)
    return (0.5 * z.square() + log_noise).mean() + 0.5 * np.log(2 * np.pi)


class GaussianMLP(nn.Module):
    """``13 → 150 → 1`` ReLU network with a learned log noise scale."""

    def __init__(self, n_features, ard):
        super().__init__()
        layer = LinearARD if ard else nn.Linear
        self.net = nn.Sequential(layer(n_features, HIDDEN), nn.ReLU(), layer(HIDDEN, 1))
        self.log_noise = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.net(x)[:, 0]


def train_mlp(X, y, X_val, y_val, *, ard, strength, seed, max_epochs=MAX_EPOCHS):
    """Adam on the negative ELBO, early-stopped on its value on the validation rows.

    The KL term is annealed over ``WARMUP`` epochs in training; the
    validation loss always uses the full KL (as skorch's ``valid_loss`` of the
    estimators does), so the weights kept are those of the best objective.
    """
    torch.manual_seed(seed)
    model = GaussianMLP(X.shape[1], ard)
    criterion = ELBOLoss(
        len(X), kl_weight=strength, nll=lambda p, t: gaussian_nll(p, t, model.log_noise)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    X_val, y_val = torch.as_tensor(X_val), torch.as_tensor(y_val)
    best, best_loss, since = None, np.inf, 0
    for epoch in range(max_epochs):
        criterion.kl_weight = strength * min(1.0, epoch / WARMUP)
        model.train()
        order = torch.randperm(len(X))
        for start in range(0, len(X), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            loss = criterion(model(X[rows]), y[rows], model)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        criterion.kl_weight = strength
        with torch.no_grad():
            loss = float(criterion(model(X_val), y_val, model))
        if loss < best_loss:
            best, best_loss, since = copy.deepcopy(model.state_dict()), loss, 0
        else:
            since += 1
            if since >= PATIENCE:
                break
    model.load_state_dict(best)
    return model.eval()


def remove_hidden_units(w1, b1, w2, b2):
    """Drop the hidden units of ``W2 ReLU(W1 x + b1) + b2`` that are disconnected.

    A unit whose outgoing weights (column of ``W2``) are all zero cannot
    change the output; a unit whose incoming weights (row of ``W1``) are all
    zero outputs the constant ``ReLU(b1)``, which is folded into ``b2``. The
    result computes the same function. (``export_pruned`` does the same for
    the estimators' ARD blocks.)
    """
    has_input = w1.ne(0).any(dim=1)
    has_output = w2.ne(0).any(dim=0)
    constant = ~has_input & has_output
    b2 = b2 + w2[:, constant] @ torch.relu(b1[constant])
    keep = has_input & has_output
    return w1[keep], b1[keep], w2[:, keep], b2


def export_mlp(model):
    """The trained MLP as a plain network with the disconnected units removed."""
    first, last = model.net[0], model.net[2]
    if isinstance(first, LinearARD):
        w1, w2 = first.masked_weight(), last.masked_weight()
    else:
        w1, w2 = first.weight, last.weight
    with torch.no_grad():
        w1, b1, w2, b2 = remove_hidden_units(w1, first.bias, w2, last.bias)
    hidden = w1.shape[0]
    if hidden == 0:  # a constant model
        net = nn.Sequential(nn.Linear(w1.shape[1], 1))
        with torch.no_grad():
            net[0].weight.zero_()
            net[0].bias.copy_(b2)
        return net.eval()
    net = nn.Sequential(nn.Linear(w1.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, 1))
    with torch.no_grad():
        net[0].weight.copy_(w1)
        net[0].bias.copy_(b1)
        net[2].weight.copy_(w2)
        net[2].bias.copy_(b2)
    return net.eval()


def predict_time(net, X, repeats=20):
    X = torch.as_tensor(np.tile(X, (50, 1)))  # enough rows to be measurable
    times = []
    with torch.no_grad():
        for _ in range(repeats):
            start = time.perf_counter()
            net(X)
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def run_split(X, y, train, test, seed, max_epochs=MAX_EPOCHS):
    torch.set_num_threads(1)
    rng = np.random.RandomState(seed)
    mean, std = X[train].mean(0), X[train].std(0)
    std[std == 0] = 1.0
    X_train = ((X[train] - mean) / std).astype(np.float32)
    X_test = ((X[test] - mean) / std).astype(np.float32)
    y_train, y_test = y[train], y[test]
    y_mean, y_std = y_train.mean(), y_train.std()
    val = np.zeros(len(train), dtype=bool)
    val[rng.permutation(len(train))[: int(round(VALIDATION_FRACTION * len(train)))]] = 1
    z_train = ((y_train - y_mean) / y_std).astype(np.float32)

    results = []

    def record(model_name, strength, net, predict, n_nonzero):
        pred = predict(X_test)
        mse = float(np.mean((pred - y_test) ** 2))
        results.append(
            dict(
                model=model_name,
                strength=strength,
                mse=mse,
                params=count_parameters(net)[0],  # a plain network: all of them
                nonzero=n_nonzero,
                net=net,
            )
        )

    for ard, strengths in [(False, [None]), (True, STRENGTHS)]:
        for strength in strengths:
            model = train_mlp(
                X_train[~val],
                z_train[~val],
                X_train[val],
                z_train[val],
                ard=ard,
                strength=strength or 0.0,
                seed=seed,
                max_epochs=max_epochs,
            )
            net = export_mlp(model)
            nonzero = sum(int(p.ne(0).sum()) for p in net.parameters())

            def predict(Xt, net=net):
                with torch.no_grad():
                    out = net(torch.as_tensor(Xt))[:, 0].numpy()
                return out * y_std + y_mean

            record("ard" if ard else "dense", strength, net, predict, nonzero)

    for strength in STRENGTHS:
        reg = DepthSearchRegressor(
            **{**CONFIG, "max_epochs": max_epochs},
            sparse_blocks="ard",
            sparsity_strength=strength,
            random_state=seed,
            train_split=ValidSplit(VALIDATION_FRACTION, random_state=seed),
            callbacks=[("es", EarlyStopping(patience=PATIENCE, load_best=True))],
        ).fit(X_train, y_train)
        net = reg.export_pruned()
        nonzero = sum(int(p.ne(0).sum()) for p in net.parameters())
        record("depth", strength, net, reg.predict, nonzero)
        results[-1]["depth_"] = reg.depth_

    dense_net = results[0]["net"]
    for r in results:
        # the exported model / the dense network, measured side by side
        r["time_ratio"] = predict_time(r["net"], X_test) / predict_time(
            dense_net, X_test
        )
        del r["net"]
    return results


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", required=True, help="folder of the UCI data sets")
    parser.add_argument("--splits", nargs="+", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="splits 0 and 1 only")
    parser.add_argument("--n-jobs", type=int, default=2, help="splits run at once")
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=MAX_EPOCHS,
        help=f"epochs at most per model (the reported configuration: {MAX_EPOCHS})",
    )
    args = parser.parse_args()

    data = load_uci("boston", args.data_dir)
    splits = args.splits or ([0, 1] if args.quick else range(data.n_splits))
    config = {**CONFIG, "max_epochs": args.max_epochs}
    start = time.perf_counter()
    per_split = Parallel(n_jobs=args.n_jobs)(
        delayed(run_split)(
            data.data, data.target, *data.splits[k], seed=k, max_epochs=args.max_epochs
        )
        for k in splits
    )
    print(
        f"Boston housing, {len(per_split)} splits; Adam lr {LR}, batch {BATCH_SIZE}, "
        f"early stopping patience {PATIENCE} on {VALIDATION_FRACTION:.0%} of the "
        f"training rows; depth search: {config}"
    )
    header = (
        f"{'model':6s} {'strength':>8s} {'test MSE':>15s} {'test RMSE':>13s} "
        f"{'params':>7s} {'of dense':>8s} {'nonzero':>7s} {'depth':>5s} "
        f"{'predict':>7s}"
    )
    print(header)
    print("-" * len(header))
    dense_mse = None
    rows = [(r["model"], r["strength"]) for r in per_split[0]]
    for index, (model, strength) in enumerate(rows):
        runs = [split[index] for split in per_split]
        mse = np.array([r["mse"] for r in runs])
        rmse = np.sqrt(mse)
        params = np.mean([r["params"] for r in runs])
        nonzero = np.mean([r["nonzero"] for r in runs])
        depth = (
            f"{np.median([r['depth_'] for r in runs]):5.0f}" if model == "depth" else ""
        )
        if model == "dense":
            dense_mse = mse.mean()
        label = "-" if strength is None else f"{strength:g}"
        print(
            f"{model:6s} {label:>8s} {mse.mean():7.2f} ± {mse.std():5.2f} "
            f"{rmse.mean():5.2f} ± {rmse.std():4.2f} {params:7.0f} "
            f"{params / DENSE_PARAMS:8.1%} {nonzero:7.0f} {depth:>5s} "
            f"{np.median([r['time_ratio'] for r in runs]):7.2f}"
        )
    goal = [
        (model, strength)
        for index, (model, strength) in enumerate(rows)
        if np.mean([split[index]["params"] for split in per_split])
        <= 0.1 * DENSE_PARAMS
        and np.mean([split[index]["mse"] for split in per_split]) <= dense_mse
    ]
    print(
        "goal (<= 10 % of the dense parameters at test MSE <= dense): "
        + (f"met by {goal}" if goal else "not met")
    )
    print(f"wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
