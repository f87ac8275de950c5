# SPDX-License-Identifier: MIT
"""(b) Does the search over all depths cost more than training one network?

Our ``fit`` (search over all depths 0..D) / plain skorch ``NeuralNetClassifier``
with its default data path training ONE fixed-depth residual network of depth
D (goal <= 1.0), on ``make_classification`` data (20 features, 3 classes),
width 32: 200 rows full batch, D = 20, 200 epochs; 10 000 rows batch 128,
D = 10, 3 epochs. Each with our default optimiser (fused Adam) and, like for
like, with ``optimizer__fused=False`` (torch's Adam loop, as plain skorch
uses). Each figure is the median over interleaved repeats of the two timings.

    python benchmarks/search_vs_skorch.py [--repeats 5] [--threads 1] [--quick]
    python benchmarks/search_vs_skorch.py --profile  # + profiles of 200 rows, D=20
"""

from __future__ import annotations

import time

import torch
from _common import (
    classification_data,
    fit_ours,
    interleaved_medians,
    make_parser,
    print_summary,
    profile,
    rows_label,
    start,
)
from skorch import NeuralNetClassifier
from torch import nn

from sklearn_depth import ResidualBlock

# (rows, batch size, epochs, depth D) of each figure
CASES = [(200, -1, 200, 20), (10_000, 128, 3, 10)]
QUICK_CASES = [(200, -1, 20, 20), (2_000, 128, 1, 10)]


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
    start_time = time.perf_counter()
    net.fit(X, y)
    return time.perf_counter() - start_time


def ours(X, y, **kw):
    return fit_ours(X, y, **kw)[0]


def figure_b(args, cases):
    rows = []
    for n_samples, batch_size, epochs, depth in cases:
        Xs, ys = classification_data(n_samples)
        batches = "full batch" if batch_size == -1 else f"batch {batch_size}"
        label = f"{rows_label(n_samples)} {batches}, D={depth}"
        kw = dict(max_depth=depth, width=32, batch_size=batch_size, epochs=epochs)
        t_ours, t_ref = interleaved_medians(
            lambda kw=kw, Xs=Xs, ys=ys: ours(Xs, ys, **kw),
            lambda kw=kw, Xs=Xs, ys=ys: plain_skorch(Xs, ys, **kw),
            args.repeats,
        )
        rows.append((f"(b) fit / skorch fixed depth D, {label}", t_ours, t_ref, 1.0))
        # The same with the optimiser skorch's baseline uses (torch's Adam loop):
        # what the search itself costs, without the fused-Adam default's gain.
        kw_loop = {**kw, "optimizer__fused": False}
        t_ours, t_ref = interleaved_medians(
            lambda kw=kw_loop, Xs=Xs, ys=ys: ours(Xs, ys, **kw),
            lambda kw=kw, Xs=Xs, ys=ys: plain_skorch(Xs, ys, **kw),
            args.repeats,
        )
        rows.append((f"(b) same, ours fused=False, {label}", t_ours, t_ref, 1.0))
    if args.profile:
        n_samples, batch_size, epochs, depth = cases[0]
        X_small, y_small = classification_data(n_samples)
        kw = dict(max_depth=depth, width=32, batch_size=batch_size, epochs=epochs)
        title = f"(b) ours, {n_samples} rows full batch, D={depth}"
        profile(title, ours, X_small, y_small, n_epochs=epochs, **kw)
        title = f"(b) plain skorch, fixed depth {depth}"
        profile(title, plain_skorch, X_small, y_small, n_epochs=epochs, **kw)
    return rows


def main():
    args = make_parser(
        __doc__, repeats=5, profile="print profiles of ours and plain skorch"
    ).parse_args()
    started = start(args)
    print_summary(figure_b(args, QUICK_CASES if args.quick else CASES), started)


if __name__ == "__main__":
    main()
