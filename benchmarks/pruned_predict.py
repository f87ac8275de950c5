# SPDX-License-Identifier: MIT
"""(d) How much faster does the pruned model predict?

``predict_proba`` of the pruned model (``depth_`` blocks) / the same model
unpruned, against the ideal (depth_ + 1) / (D + 1) (goal: within 1.3x of
ideal). 10 000 rows of ``make_classification`` (20 features, 3 classes),
``max_depth=20``, width 64, batch 128, 3 epochs, no warm-up. The unpruned
prediction is what ``predict_proba`` computes with every block kept:
``predict_proba_per_depth`` (all D blocks, the head on every depth) averaged
over the full posterior ``posterior_depth_``. Median over interleaved
repeats (``--repeats``, default 10).

    python benchmarks/pruned_predict.py [--repeats 10] [--threads 1] [--quick]
"""

from __future__ import annotations

import numpy as np
from _common import (
    classification_data,
    fit_ours,
    interleaved_medians,
    make_parser,
    print_summary,
    start,
    timed,
)


def predict_proba_unpruned(clf, X):
    """The marginal over every depth 0..max_depth under the full posterior."""
    return np.einsum("ndc,d->nc", clf.predict_proba_per_depth(X), clf.posterior_depth_)


def figure_d(args):
    X, y = classification_data(2_000 if args.quick else 10_000)
    _, clf = fit_ours(X, y, max_depth=20, width=64, batch_size=128, epochs=3)
    t_pruned, t_full = interleaved_medians(
        lambda: timed(clf.predict_proba, X),
        lambda: timed(predict_proba_unpruned, clf, X),
        args.repeats,
    )
    ideal = (clf.depth_ + 1) / (clf.max_depth + 1)
    name = f"(d) predict_proba pruned (depth_={clf.depth_}) / unpruned (D=20)"
    return [(name, t_pruned, t_full, 1.3 * ideal)]


def main():
    args = make_parser(__doc__, repeats=10).parse_args()
    started = start(args)
    print_summary(figure_d(args), started)


if __name__ == "__main__":
    main()
