# SPDX-License-Identifier: MIT
"""Framework overhead of DepthSearchClassifier, as ratios measured side by side.

Each figure is the median over interleaved repeats of two timings taken in the
same run (these machines are noisy):

(a) our ``fit`` / a minimal hand-written PyTorch loop training the same module
    with the same objective, optimiser groups, batch size and epochs on the same
    tensors (goal <= 1.15), full-batch and batch 128 on 10 000 rows;
(b) our ``fit`` (search over all depths 0..D) / plain skorch
    ``NeuralNetClassifier`` with its default data path training ONE fixed-depth
    residual network of depth D (goal <= 1.0);
(d) ``predict_proba`` of the pruned model / the same model unpruned, against the
    ideal (depth_ + 1) / (D + 1) (goal: within 1.3x of ideal);
and our in-memory fast data path / skorch's DataLoader path (same model).

    python benchmarks/overhead.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
from sklearn.datasets import make_classification
from skorch import NeuralNetClassifier
from torch import nn

from sklearn_depth import CategoricalDepthELBO, DepthResMLP, DepthSearchClassifier
from sklearn_depth._depth import make_log_prior
from sklearn_depth._model import ResidualBlock


def data(n_samples, seed=0):
    X, y = make_classification(
        n_samples, 20, n_informative=10, n_classes=3, random_state=seed
    )
    return X.astype(np.float32), y.astype(np.int64)


def ours(X, y, *, max_depth, width, batch_size, epochs, **params):
    clf = DepthSearchClassifier(
        max_depth=max_depth,
        width=width,
        batch_size=batch_size,
        max_epochs=epochs,
        depth_warmup=0,
        random_state=0,
        **params,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - start, clf


def bare_loop(X, y, *, max_depth, width, batch_size, epochs):
    """The same module, objective and optimiser groups, written by hand."""
    torch.manual_seed(0)
    n_classes = int(y.max()) + 1
    start = time.perf_counter()
    module = DepthResMLP(
        X.shape[1],
        n_classes,
        max_depth=max_depth,
        width=width,
        log_prior=make_log_prior("uniform", max_depth),
    )
    criterion = CategoricalDepthELBO()
    rest = [p for n, p in module.named_parameters() if n != "depth_logits"]
    optimizer = torch.optim.Adam(
        [
            {"params": [module.depth_logits], "lr": 0.1, "weight_decay": 0.0},
            {"params": rest},
        ],
        lr=0.01,
    )
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = len(Xt)
    batch_size = n if batch_size == -1 else batch_size
    module.train()
    for _ in range(epochs):
        order = torch.randperm(n)
        for start_row in range(0, n, batch_size):
            index = order[start_row : start_row + batch_size]
            if len(index) < 2:
                continue
            optimizer.zero_grad()
            loss = criterion(
                module(Xt[index]), yt[index], module.log_q(), module.log_prior, n
            )
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


class FixedDepthResMLP(nn.Module):
    """A plain residual MLP of fixed depth: the network one would train by hand."""

    def __init__(self, n_features=20, n_classes=3, depth=10, width=64):
        super().__init__()
        self.input = nn.Linear(n_features, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(depth)])
        self.head = nn.Linear(width, n_classes)

    def forward(self, X):
        return self.head(self.blocks(self.input(X)))


def plain_skorch(X, y, *, max_depth, width, batch_size, epochs):
    torch.manual_seed(0)
    net = NeuralNetClassifier(
        FixedDepthResMLP,
        module__n_features=X.shape[1],
        module__n_classes=int(y.max()) + 1,
        module__depth=max_depth,
        module__width=width,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.01,
        batch_size=batch_size,
        max_epochs=epochs,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )
    start = time.perf_counter()
    net.fit(X, y)
    return time.perf_counter() - start


def unpruned_copy(clf):
    full = copy.deepcopy(clf)
    full.depth_ = full.max_depth
    full.pruned_posterior_depth_ = full.posterior_depth_.copy()
    full._core_module().active_depth = full.max_depth
    return full


def median_ratio(first, second, repeats):
    a, b = [], []
    for _ in range(repeats):
        a.append(first())
        b.append(second())
    return float(np.median(a)), float(np.median(b))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    rows = []

    X, y = data(10_000)
    for label, batch_size, epochs in [("full batch", -1, 30), ("batch 128", 128, 3)]:
        kw = dict(max_depth=10, width=64, batch_size=batch_size, epochs=epochs)
        t_ours, t_ref = median_ratio(
            lambda kw=kw: ours(X, y, **kw)[0],
            lambda kw=kw: bare_loop(X, y, **kw),
            args.repeats,
        )
        rows.append((f"(a) fit / bare loop, 10k rows, {label}", t_ours, t_ref, 1.15))

    X_small, y_small = data(200)
    for label, Xs, ys, batch_size, epochs, depth in [
        ("200 rows full batch, D=20", X_small, y_small, -1, 200, 20),
        ("10k rows batch 128, D=10", X, y, 128, 3, 10),
    ]:
        kw = dict(max_depth=depth, width=32, batch_size=batch_size, epochs=epochs)
        t_ours, t_ref = median_ratio(
            lambda kw=kw, Xs=Xs, ys=ys: ours(Xs, ys, **kw)[0],
            lambda kw=kw, Xs=Xs, ys=ys: plain_skorch(Xs, ys, **kw),
            args.repeats,
        )
        rows.append((f"(b) fit / skorch fixed depth D, {label}", t_ours, t_ref, 1.0))

    dataloader = dict(iterator_train__num_workers=0, iterator_valid__num_workers=0)
    # The in-memory fast path against skorch's DataLoader path (any extra
    # iterator argument opts out of the fast path; the trained model is equal).
    for label, Xs, ys, batch_size, epochs in [
        ("200 rows full batch", X_small, y_small, -1, 200),
        ("10k rows batch 128", X, y, 128, 3),
    ]:
        kw = dict(max_depth=20, width=32, batch_size=batch_size, epochs=epochs)
        t_fast, t_loader = median_ratio(
            lambda kw=kw, Xs=Xs, ys=ys: ours(Xs, ys, **kw)[0],
            lambda kw=kw, Xs=Xs, ys=ys: ours(Xs, ys, **{**kw, **dataloader})[0],
            args.repeats,
        )
        rows.append(
            (f"fast data path / DataLoader path, {label}", t_fast, t_loader, 1.0)
        )

    _, clf = ours(X, y, max_depth=20, width=64, batch_size=128, epochs=3)
    full = unpruned_copy(clf)
    t_pruned, t_full = median_ratio(
        lambda: _timed(clf.predict_proba, X),
        lambda: _timed(full.predict_proba, X),
        max(args.repeats, 10),
    )
    ideal = (clf.depth_ + 1) / (clf.max_depth + 1)
    rows.append(
        (
            f"(d) predict_proba pruned (depth_={clf.depth_}) / unpruned (D=20)",
            t_pruned,
            t_full,
            1.3 * ideal,
        )
    )

    print(f"{'figure':62s} {'ours s':>8s} {'ref s':>8s} {'ratio':>6s} {'goal':>6s}")
    for name, a, b, goal in rows:
        print(f"{name:62s} {a:8.3f} {b:8.3f} {a / b:6.2f} {goal:6.2f}")


def _timed(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
