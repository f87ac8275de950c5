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

from _common import (
    bare_loop,
    classification_data,
    fit_ours,
    interleaved_medians,
    make_parser,
    print_summary,
    rows_label,
    start,
)

SETTING = dict(n_samples=10_000, full_batch_epochs=30, batch_128_epochs=3)
QUICK = dict(n_samples=2_000, full_batch_epochs=3, batch_128_epochs=1)


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
