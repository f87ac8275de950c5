# SPDX-License-Identifier: MIT
"""(a) What does ``fit`` cost over a hand-written PyTorch loop?

Our ``fit`` / a minimal hand-written loop training the same module
(``DepthResMLP``) with the same objective (``CategoricalDepthELBO``), optimiser
groups, batch size and epochs on the same tensors (goal <= 1.15): 10 000 rows
of ``make_classification`` (20 features, 3 classes), ``max_depth=10``, width
64, no warm-up; full batch (30 epochs) and batch 128 (3 epochs). Each figure
is the median over interleaved repeats of the two timings.

    python benchmarks/fit_vs_hand_loop.py [--repeats 5] [--threads 1] [--quick]
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
    rows_label,
    start,
)

from sklearn_depth import CategoricalDepthELBO, DepthResMLP

# torch's fused Adam kernel runs on the CPU since torch 2.4, where the
# estimators use it by default (with CUDA, since 2.0).
FUSED_ADAM_ON_CPU = tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)

SETTING = dict(n_samples=10_000, full_batch_epochs=30, batch_128_epochs=3)
QUICK = dict(n_samples=2_000, full_batch_epochs=3, batch_128_epochs=1)


def bare_loop(X, y, *, max_depth, width, batch_size, epochs):
    """The same module, objective and optimiser groups, written by hand.

    Adam is fused where our estimator's default fuses it (CPU, torch >= 2.4),
    so (a) measures the framework, not the optimiser.
    """
    torch.manual_seed(0)
    n_classes = int(y.max()) + 1
    start_time = time.perf_counter()
    # log_prior=None is the uniform prior, the estimators' default.
    module = DepthResMLP(X.shape[1], n_classes, max_depth=max_depth, width=width)
    criterion = CategoricalDepthELBO()
    rest = [p for n, p in module.named_parameters() if n != "depth_logits"]
    optimizer = torch.optim.Adam(
        [
            {"params": [module.depth_logits], "lr": 0.1, "weight_decay": 0.0},
            {"params": rest},
        ],
        lr=0.01,
        fused=True if FUSED_ADAM_ON_CPU else None,
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
    return time.perf_counter() - start_time


def figure_a(args, setting):
    X, y = classification_data(setting["n_samples"])
    rows = []
    for label, batch_size, epochs in [
        ("full batch", -1, setting["full_batch_epochs"]),
        ("batch 128", 128, setting["batch_128_epochs"]),
    ]:
        kw = dict(max_depth=10, width=64, batch_size=batch_size, epochs=epochs)
        t_ours, t_ref = interleaved_medians(
            lambda kw=kw: fit_ours(X, y, **kw)[0],
            lambda kw=kw: bare_loop(X, y, **kw),
            args.repeats,
        )
        name = f"(a) fit / bare loop, {rows_label(len(X))}, {label}"
        rows.append((name, t_ours, t_ref, 1.15))
    return rows


def main():
    args = make_parser(__doc__, repeats=5).parse_args()
    started = start(args)
    setting = {**SETTING, **QUICK} if args.quick else SETTING
    print_summary(figure_a(args, setting), started)


if __name__ == "__main__":
    main()
