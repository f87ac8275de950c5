# SPDX-License-Identifier: MIT
"""Is the in-memory fast data path faster than skorch's DataLoader path?

Our ``fit`` on in-memory arrays (batches sliced from tensors) / the same fit
through skorch's ``DataLoader`` path (any extra iterator argument opts out of
the fast path; the trained model is the same), ``max_depth=20``, width 32, on
``make_classification`` data (20 features, 3 classes): 200 rows full batch,
200 epochs; 10 000 rows batch 128, 3 epochs. Each figure is the median over
interleaved repeats of the two timings.

    python benchmarks/data_path.py [--repeats 5] [--threads 1] [--quick]
"""

from __future__ import annotations

from _common import (
    classification_data,
    fit_ours,
    interleaved_medians,
    make_parser,
    print_summary,
    rows_label,
    start,
)

# (rows, batch size, epochs) of each figure
CASES = [(200, -1, 200), (10_000, 128, 3)]
QUICK_CASES = [(200, -1, 20), (2_000, 128, 1)]
DATALOADER = dict(iterator_train__num_workers=0, iterator_valid__num_workers=0)


def figure_data_path(args, cases):
    rows = []
    for n_samples, batch_size, epochs in cases:
        Xs, ys = classification_data(n_samples)
        batches = "full batch" if batch_size == -1 else f"batch {batch_size}"
        kw = dict(max_depth=20, width=32, batch_size=batch_size, epochs=epochs)
        t_fast, t_loader = interleaved_medians(
            lambda kw=kw, Xs=Xs, ys=ys: fit_ours(Xs, ys, **kw)[0],
            lambda kw=kw, Xs=Xs, ys=ys: fit_ours(Xs, ys, **kw, **DATALOADER)[0],
            args.repeats,
        )
        name = f"fast data path / DataLoader path, {rows_label(n_samples)} {batches}"
        rows.append((name, t_fast, t_loader, 1.0))
    return rows


def main():
    args = make_parser(__doc__, repeats=5).parse_args()
    started = start(args)
    print_summary(figure_data_path(args, QUICK_CASES if args.quick else CASES), started)


if __name__ == "__main__":
    main()
