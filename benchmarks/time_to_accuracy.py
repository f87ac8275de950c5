# SPDX-License-Identifier: MIT
"""(e) How long do our defaults take to reach 0.99 test accuracy on spirals?

The paper's spirals (``make_spirals(2000, noise=0.2)``, 200 training / 1800
test rows, standardised) and network (``max_depth=20``, ``width=20``): wall
time to test accuracy >= 0.99 with our defaults / our estimator on the
reference recipe (full-batch SGD, 8000 epochs at most) (goal <= 0.05), seeds
0-2, then whole fits of both recipes on the first seed. Every 5 epochs a
callback scores the test rows with what ``fit`` would deliver if stopped
there, keeps the evaluation time off the clock, and stops training at the
target.

    python benchmarks/time_to_accuracy.py [--seeds 0 1 2] [--threads 1] [--quick]
"""

from __future__ import annotations

import time

import numpy as np
import torch
from _common import make_parser, paper_spirals, print_summary, start
from skorch.callbacks import Callback

from sklearn_depth import DepthSearchClassifier

ARCH = dict(max_depth=20, width=20)  # the paper's spirals network
RECIPES = {
    "ours (defaults, 200 epochs)": dict(),
    "reference recipe (SGD, 8000 epochs)": dict(
        batch_size=-1,
        optimizer=torch.optim.SGD,
        lr=0.1,
        optimizer__momentum=0.5,
        depth_lr=None,
        depth_warmup=0,
        prior="geometric:0.85",  # p(d) ∝ 0.85 ** (d + 1), normalised
        max_epochs=8000,
    ),
}
# --quick: both recipes stop after 30 epochs, and the target is 0.6
QUICK_EPOCHS, QUICK_TARGET = 30, 0.6


def select_depth(q, prune_threshold):
    """The estimators' rule: the smallest d with q(d) >= threshold * max q."""
    q = np.asarray(q)
    return int(np.flatnonzero(q >= prune_threshold * q.max())[0])


def marginal_accuracy(log_proba, weights, y):
    """Accuracy of ``argmax_c log Σ_d w(d) p(c | x, d)`` over the given depths.

    ``log_proba``: (n_samples, n_depths, n_classes) per-depth log-probabilities;
    ``weights``: (n_depths,) weights over those depths.
    """
    log_w = torch.as_tensor(np.asarray(weights)).log()
    marginal = torch.logsumexp(log_proba + log_w[None, :, None], dim=1)
    return float(np.mean(marginal.argmax(1).numpy() == y))


class TimeToAccuracy(Callback):
    """Stop training once the pruned model's test accuracy reaches ``target``.

    Every ``every`` epochs the test rows are scored (BatchNorm in eval mode)
    with the predictive that ``fit`` would deliver if training stopped now:
    the depth selected from the current q (the last ``posterior_depth`` in
    the history) with ``prune_threshold``, q's tail folded onto it, the
    marginal over depths ``0..depth``. The marginal over all depths under the
    current q is scored too (``all_depths_at_``: when it first reached the
    target). Evaluation time is kept out of the clock: ``reached_at_`` is
    seconds of training from ``start`` (set by the caller just before
    ``fit``). Stopping raises ``KeyboardInterrupt``, which skorch turns into
    the end of training.
    """

    def __init__(self, X, y, *, target=0.99, every=5):
        self.X, self.y, self.target, self.every = X, y, target, every

    def initialize(self):
        self.eval_time_, self.epochs_ = 0.0, 0
        self.reached_at_ = self.all_depths_at_ = None
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ = len(net.history)
        if self.epochs_ % self.every:
            return
        now = time.perf_counter()
        elapsed = now - self.start - self.eval_time_
        pruned, all_depths = self._accuracies(net)
        self.eval_time_ += time.perf_counter() - now
        if all_depths >= self.target and self.all_depths_at_ is None:
            self.all_depths_at_ = elapsed
        if pruned >= self.target:
            self.reached_at_ = elapsed
            raise KeyboardInterrupt

    def _accuracies(self, net):
        # The estimator's predict methods need a fitted estimator; in training
        # the module (every depth active) is run directly, as they would.
        module = net.module_
        with torch.no_grad():
            module.eval()
            logits = module(torch.as_tensor(self.X)).double()
            module.train()
        log_proba = torch.log_softmax(logits, dim=-1)
        q = np.asarray(net.history[-1, "posterior_depth"])  # recorded before us
        depth = select_depth(q, net.prune_threshold)
        folded = np.append(q[:depth], q[depth:].sum())
        return (
            marginal_accuracy(log_proba[:, : depth + 1], folded, self.y),
            marginal_accuracy(log_proba, q, self.y),
        )

    def elapsed(self):
        """Training seconds so far (evaluation excluded)."""
        return time.perf_counter() - self.start - self.eval_time_


def time_to_accuracy(seed, params, *, target, every=5):
    (Xtr, ytr), (Xte, yte) = paper_spirals(seed, dtype=np.float32)
    callback = TimeToAccuracy(Xte, yte, target=target, every=every)
    clf = DepthSearchClassifier(
        **ARCH, random_state=seed, callbacks=[("to_acc", callback)], **params
    )
    callback.start = time.perf_counter()
    clf.fit(Xtr, ytr)
    total = callback.elapsed()
    reached = callback.reached_at_
    return (
        (reached if reached is not None else total),
        reached is not None,
        callback.epochs_,
        callback.all_depths_at_,
        clf.depth_,
    )


def figure_e(args):
    recipes, target = RECIPES, 0.99
    if args.quick:
        recipes = {k: {**v, "max_epochs": QUICK_EPOCHS} for k, v in RECIPES.items()}
        target = QUICK_TARGET
    print(
        "\n(e) spirals make_spirals(2000, noise=0.2), 200 train / 1800 test, "
        "standardised; max_depth=20, width=20; test accuracy of the pruned "
        "model checked every 5 epochs (evaluation time excluded); 'all depths': "
        "when the marginal over every depth under the current q first got there"
        + (f" (--quick: {QUICK_EPOCHS} epochs, target {target})" if args.quick else "")
    )
    print(
        f"{'recipe':38s} {'seed':>4s} {'seconds':>8s} {'epochs':>6s} "
        f"{'depth_':>6s} {'all depths s':>12s} reached"
    )
    results = {name: [] for name in recipes}
    for seed in args.seeds:
        for name, params in recipes.items():
            seconds, reached, epochs, all_depths, depth = time_to_accuracy(
                seed, params, target=target
            )
            results[name].append(seconds)
            all_depths = "never" if all_depths is None else f"{all_depths:.2f}"
            print(
                f"{name:38s} {seed:4d} {seconds:8.2f} {epochs:6d} {depth:6d} "
                f"{all_depths:>12s} "
                f"{'yes' if reached else 'NO (time to max_epochs)'}",
                flush=True,
            )
    ours_s, ref_s = (float(np.median(v)) for v in results.values())
    name = f"(e) time to {target:g} test acc: defaults / reference"
    rows = [(name, ours_s, ref_s, 0.05)]

    # What the reference recipe's 8000 epochs buy: whole fits, run to the end.
    seed = args.seeds[0]
    (Xtr, ytr), (Xte, yte) = paper_spirals(seed, dtype=np.float32)
    print(f"whole fits (seed {seed}), no evaluation during training:")
    full = []
    for name, params in recipes.items():
        clf = DepthSearchClassifier(**ARCH, random_state=seed, **params)
        start_time = time.perf_counter()
        clf.fit(Xtr, ytr)
        full.append(time.perf_counter() - start_time)
        print(
            f"{name:38s} {full[-1]:8.2f} s, {len(clf.history)} epochs, depth_ "
            f"{clf.depth_}, test accuracy {clf.score(Xte, yte):.4f}",
            flush=True,
        )
    name = f"(e) whole fit: defaults / reference recipe (seed {seed})"
    rows.append((name, *full, 0.05))
    return rows


def main():
    args = make_parser(__doc__, seeds=True).parse_args()
    started = start(args)
    print_summary(figure_e(args), started)


if __name__ == "__main__":
    main()
