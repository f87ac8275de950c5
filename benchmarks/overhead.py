# SPDX-License-Identifier: MIT
"""Framework overhead and efficiency of DepthSearchClassifier, side by side.

Each timing figure is the median over interleaved repeats of two timings taken
in the same run (these machines are noisy):

(a) our ``fit`` / a minimal hand-written PyTorch loop training the same module
    with the same objective, optimiser groups, batch size and epochs on the same
    tensors (goal <= 1.15), full-batch and batch 128 on 10 000 rows;
(b) our ``fit`` (search over all depths 0..D) / plain skorch
    ``NeuralNetClassifier`` with its default data path training ONE fixed-depth
    residual network of depth D (goal <= 1.0);
(c) one-shot depth search / the manual search over every fixed depth 0..D with
    the same module, data path, optimiser and epochs, the best depth chosen on a
    validation split (goals: <= 1.2x the deepest fixed net, test accuracy within
    0.5 point of the best fixed depth);
(d) ``predict_proba`` of the pruned model / the same model unpruned, against the
    ideal (depth_ + 1) / (D + 1) (goal: within 1.3x of ideal);
(e) wall time to test accuracy >= 0.99 on the paper's spirals: our defaults /
    our estimator on the reference recipe (full-batch SGD, 8000 epochs at most)
    (goal <= 0.05);
(f) time per epoch on 200 rows, width 20, D = 20, full batch: ours / the frozen
    bare eager loop of ``_reference_loop.py`` (goal <= 0.5), with the variants
    fused Adam and ``compile=True``;
and our in-memory fast data path / skorch's DataLoader path (same model).

    python benchmarks/overhead.py [--repeats 5] [--only a,b,c,d,e,f,data]
    python benchmarks/overhead.py --only f --profile   # + torch.profiler tables

Torch runs on one thread by default (``--threads``): the networks are tiny,
and on a shared 2-core machine two threads per process make timings erratic.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn

from sklearn_depth import (
    CategoricalDepthELBO,
    DepthResMLP,
    DepthSearchClassifier,
    make_spirals,
)
from sklearn_depth._base import _FUSED_DEVICES
from sklearn_depth._depth import (
    fold_tail,
    make_log_prior,
    marginal_log_proba,
    select_depth,
)
from sklearn_depth._model import ResidualBlock

sys.path.insert(0, str(Path(__file__).parent))
import _reference_loop  # noqa: E402  (the frozen baseline of figure (f))


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
    """The same module, objective and optimiser groups, written by hand.

    Adam is fused where our estimator's default fuses it (CPU, torch >= 2.4),
    so (a) measures the framework, not the optimiser.
    """
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
        fused=True if "cpu" in _FUSED_DEVICES else None,
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


def _timed(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


# ----------------------------------------------------------------------
# (a), (b), the data path and (d): the figures of the first part
# ----------------------------------------------------------------------
def figure_a(args):
    X, y = data(10_000)
    rows = []
    for label, batch_size, epochs in [("full batch", -1, 30), ("batch 128", 128, 3)]:
        kw = dict(max_depth=10, width=64, batch_size=batch_size, epochs=epochs)
        t_ours, t_ref = median_ratio(
            lambda kw=kw: ours(X, y, **kw)[0],
            lambda kw=kw: bare_loop(X, y, **kw),
            args.repeats,
        )
        rows.append((f"(a) fit / bare loop, 10k rows, {label}", t_ours, t_ref, 1.15))
    return rows


def figure_b(args):
    X, y = data(10_000)
    X_small, y_small = data(200)
    rows = []
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
        # The same with the optimiser skorch's baseline uses (torch's Adam loop):
        # what the search itself costs, without the fused-Adam default's gain.
        kw_loop = {**kw, "optimizer__fused": False}
        t_ours, t_ref = median_ratio(
            lambda kw=kw_loop, Xs=Xs, ys=ys: ours(Xs, ys, **kw)[0],
            lambda kw=kw, Xs=Xs, ys=ys: plain_skorch(Xs, ys, **kw),
            args.repeats,
        )
        rows.append((f"(b) same, ours fused=False, {label}", t_ours, t_ref, 1.0))
    if args.profile:
        kw = dict(max_depth=20, width=32, batch_size=-1, epochs=200)
        title = "(b) ours, 200 rows full batch, D=20"
        profile(title, ours, X_small, y_small, n_epochs=200, **kw)
        title = "(b) plain skorch, fixed depth 20"
        profile(title, plain_skorch, X_small, y_small, n_epochs=200, **kw)
    return rows


def figure_data_path(args):
    X, y = data(10_000)
    X_small, y_small = data(200)
    dataloader = dict(iterator_train__num_workers=0, iterator_valid__num_workers=0)
    rows = []
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
    return rows


def figure_d(args):
    X, y = data(10_000)
    _, clf = ours(X, y, max_depth=20, width=64, batch_size=128, epochs=3)
    full = unpruned_copy(clf)
    t_pruned, t_full = median_ratio(
        lambda: _timed(clf.predict_proba, X),
        lambda: _timed(full.predict_proba, X),
        max(args.repeats, 10),
    )
    ideal = (clf.depth_ + 1) / (clf.max_depth + 1)
    name = f"(d) predict_proba pruned (depth_={clf.depth_}) / unpruned (D=20)"
    return [(name, t_pruned, t_full, 1.3 * ideal)]


# ----------------------------------------------------------------------
# (c) one-shot search vs the manual grid over fixed depths
# ----------------------------------------------------------------------
C_SETTING = dict(stop_angle=720, n_train=200, n_valid=200, n_test=1800, max_depth=10)


def spirals_split(seed, *, stop_angle, n_train, n_valid, n_test):
    """Standardised spirals split into train / validation / test rows."""
    X, y = make_spirals(
        n_train + n_valid + n_test, noise=0.2, stop_angle=stop_angle, random_state=seed
    )
    X = StandardScaler().fit(X[:n_train]).transform(X).astype(np.float32)
    cuts = np.cumsum([n_train, n_valid])
    return list(zip(np.split(X, cuts), np.split(y, cuts), strict=True))


def fixed_depth(depth, **params):
    """A depth-``depth`` network: max_depth=depth, the prior one-hot on it.

    The zero prior entries are hard masks, so q(depth) = 1 and only the
    ``depth`` blocks it needs exist and run (a one-hot prior on a deeper
    network would still run, and train through the head, the unused blocks).
    """
    prior = np.zeros(depth + 1)
    prior[depth] = 1.0
    return DepthSearchClassifier(max_depth=depth, prior=prior, **params)


def figure_c(args):
    setting = dict(C_SETTING)
    max_depth = setting.pop("max_depth")
    print(
        f"\n(c) spirals stop_angle={setting['stop_angle']}, noise 0.2, "
        f"{setting['n_train']} train / {setting['n_valid']} validation / "
        f"{setting['n_test']} test rows, D={max_depth}, defaults otherwise "
        "(200 epochs, Adam)"
    )
    print(
        f"{'seed':>4s} {'one-shot s':>10s} {'grid s':>7s} {'deepest s':>9s} "
        f"{'depth_':>6s} {'acc one-shot':>12s} {'best d (val)':>12s} "
        f"{'acc best d':>10s}  test acc of d = 0..D"
    )
    per_seed = []
    for seed in args.seeds:
        (Xtr, ytr), (Xva, yva), (Xte, yte) = spirals_split(seed, **setting)
        params = dict(random_state=seed)
        start = time.perf_counter()
        one = DepthSearchClassifier(max_depth=max_depth, **params).fit(Xtr, ytr)
        t_one = time.perf_counter() - start
        times, valid, test = [], [], []
        for depth in range(max_depth + 1):
            start = time.perf_counter()
            net = fixed_depth(depth, **params).fit(Xtr, ytr)
            times.append(time.perf_counter() - start)
            valid.append(net.score(Xva, yva))
            test.append(net.score(Xte, yte))
        best = int(np.argmax(valid))
        acc_one = one.score(Xte, yte)
        per_seed.append((t_one, sum(times), times[-1], acc_one, test[best]))
        print(
            f"{seed:4d} {t_one:10.2f} {sum(times):7.2f} {times[-1]:9.2f} "
            f"{one.depth_:6d} {acc_one:12.4f} {best:12d} {test[best]:10.4f}  "
            + " ".join(f"{a:.3f}" for a in test),
            flush=True,
        )
    t_one, t_grid, t_deep, acc_one, acc_best = np.median(per_seed, axis=0)
    gap = 100 * np.mean([b - a for *_, a, b in per_seed])
    print(
        f"median one-shot / grid {t_one / t_grid:.3f} (ideal about "
        f"2.4/(D+2) = {2.4 / (max_depth + 2):.3f}); mean test accuracy gap "
        f"best fixed - one-shot: {gap:+.2f} points (goal <= 0.5)"
    )
    return [
        ("(c) one-shot search / grid of fixed depths 0..10", t_one, t_grid, 0.2),
        ("(c) one-shot search / deepest fixed net (d=10)", t_one, t_deep, 1.2),
    ]


# ----------------------------------------------------------------------
# (e) time to 0.99 test accuracy on spirals: our defaults vs the reference recipe
# ----------------------------------------------------------------------
class TimeToAccuracy(Callback):
    """Stop training once the pruned model's test accuracy reaches ``target``.

    Every ``every`` epochs the test rows are scored (BatchNorm in eval mode)
    with the predictive that ``fit`` would deliver if training stopped now:
    the depth selected from the current q with ``prune_threshold``, q's tail
    folded onto it, the marginal over depths ``0..depth``. The marginal over
    all depths under the current q is scored too (``all_depths_at_``: when it
    first reached the target). Evaluation time is kept out of the clock:
    ``reached_at_`` is seconds of training from ``start`` (set by the caller
    just before ``fit``). Stopping raises ``KeyboardInterrupt``, which skorch
    turns into the end of training.
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
        module = net.module_
        with torch.no_grad():
            module.eval()
            logits = module(torch.as_tensor(self.X)).double()
            module.train()
        log_proba = torch.log_softmax(logits, dim=-1)
        q = net._posterior()
        depth = select_depth(q, net.prune_threshold)
        log_folded = torch.as_tensor(fold_tail(q, depth)[: depth + 1]).log()
        pruned = marginal_log_proba(log_proba[:, : depth + 1], log_folded)
        every = marginal_log_proba(log_proba, torch.as_tensor(q).log())
        return (
            float(np.mean(pruned.argmax(1).numpy() == self.y)),
            float(np.mean(every.argmax(1).numpy() == self.y)),
        )

    def elapsed(self):
        """Training seconds so far (evaluation excluded)."""
        return time.perf_counter() - self.start - self.eval_time_


E_ARCH = dict(max_depth=20, width=20)  # the paper's spirals network
E_RECIPES = {
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


def spirals_paper(seed):
    """The paper's spirals: 200 standardised training rows, 1800 test rows."""
    X, y = make_spirals(2000, noise=0.2, random_state=seed)
    X = StandardScaler().fit(X[:200]).transform(X).astype(np.float32)
    return X[:200], y[:200], X[200:], y[200:]


def time_to_accuracy(seed, params, *, target=0.99, every=5):
    Xtr, ytr, Xte, yte = spirals_paper(seed)
    callback = TimeToAccuracy(Xte, yte, target=target, every=every)
    clf = DepthSearchClassifier(
        **E_ARCH, random_state=seed, callbacks=[("to_acc", callback)], **params
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
    print(
        "\n(e) spirals make_spirals(2000, noise=0.2), 200 train / 1800 test, "
        "standardised; max_depth=20, width=20; test accuracy of the pruned "
        "model checked every 5 epochs (evaluation time excluded); 'all depths': "
        "when the marginal over every depth under the current q first got there"
    )
    print(
        f"{'recipe':38s} {'seed':>4s} {'seconds':>8s} {'epochs':>6s} "
        f"{'depth_':>6s} {'all depths s':>12s} reached"
    )
    results = {name: [] for name in E_RECIPES}
    for seed in args.seeds:
        for name, params in E_RECIPES.items():
            seconds, reached, epochs, all_depths, depth = time_to_accuracy(seed, params)
            results[name].append(seconds)
            all_depths = "never" if all_depths is None else f"{all_depths:.2f}"
            print(
                f"{name:38s} {seed:4d} {seconds:8.2f} {epochs:6d} {depth:6d} "
                f"{all_depths:>12s} "
                f"{'yes' if reached else 'NO (time to max_epochs)'}",
                flush=True,
            )
    ours_s, ref_s = (float(np.median(v)) for v in results.values())
    rows = [("(e) time to 0.99 test acc: defaults / reference", ours_s, ref_s, 0.05)]

    # What the reference recipe's 8000 epochs buy: whole fits, run to the end.
    seed = args.seeds[0]
    Xtr, ytr, Xte, yte = spirals_paper(seed)
    print(f"whole fits (seed {seed}), no evaluation during training:")
    full = []
    for name, params in E_RECIPES.items():
        clf = DepthSearchClassifier(**E_ARCH, random_state=seed, **params)
        start = time.perf_counter()
        clf.fit(Xtr, ytr)
        full.append(time.perf_counter() - start)
        print(
            f"{name:38s} {full[-1]:8.2f} s, {len(clf.history)} epochs, depth_ "
            f"{clf.depth_}, test accuracy {clf.score(Xte, yte):.4f}",
            flush=True,
        )
    rows.append(("(e) whole fit: defaults / reference recipe (seed 0)", *full, 0.05))
    return rows


# ----------------------------------------------------------------------
# (f) time per epoch against the frozen bare eager loop
# ----------------------------------------------------------------------
class EpochClock(Callback):
    """Records the time at the end of every epoch (and the fit's start)."""

    def initialize(self):
        self.ends = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.ends.append(time.perf_counter())


F_SETTING = dict(n_samples=200, max_depth=20, width=20, epochs=300, skip=30)
F_VARIANTS = {
    # Defaults: fused Adam (torch >= 2.4 on CPU), PrintLog idle at verbose=0.
    "ours (defaults)": {},
    "ours, optimizer__fused=False": {"optimizer__fused": False},
    "ours, optimizer__foreach=True": {"optimizer__foreach": True},
    "ours, compile=True": {"compile": True},
    "ours, compile=True, fused=False": {"compile": True, "optimizer__fused": False},
}


def epoch_times_ours(X, y, params, epochs=F_SETTING["epochs"]):
    """Median epoch time after ``skip`` epochs, and the one-off seconds.

    The one-off seconds are the fit's wall time beyond ``epochs`` times the
    median epoch: set-up, the first epochs, and compilation (which also
    happens again when the graph changes, e.g. when q's warm-up ends).
    """
    clock = EpochClock()
    clf = DepthSearchClassifier(
        max_depth=F_SETTING["max_depth"],
        width=F_SETTING["width"],
        batch_size=-1,
        max_epochs=epochs,
        random_state=0,
        callbacks=[("clock", clock)],
        **params,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    total = time.perf_counter() - start
    per_epoch = float(np.median(np.diff(clock.ends)[F_SETTING["skip"] :]))
    return per_epoch, total - epochs * per_epoch


def epoch_times_reference(X, y, epochs=F_SETTING["epochs"]):
    torch.manual_seed(0)
    times = _reference_loop.train(
        torch.from_numpy(X),
        torch.from_numpy(y),
        max_depth=F_SETTING["max_depth"],
        width=F_SETTING["width"],
        epochs=epochs,
    )
    per_epoch = float(np.median(times[F_SETTING["skip"] :]))
    return per_epoch, sum(times) - epochs * per_epoch


def figure_f(args):
    X, y = data(F_SETTING["n_samples"])
    print(
        f"\n(f) {F_SETTING['n_samples']} rows, width {F_SETTING['width']}, "
        f"D={F_SETTING['max_depth']}, full batch, {F_SETTING['epochs']} epochs; "
        f"median epoch after {F_SETTING['skip']}, median over {args.repeats} "
        "interleaved repeats; one-off s = fit time beyond epochs x median epoch "
        "(first repeat: includes compilation)"
    )
    if args.profile:  # before anything is compiled in this process
        profile_f(X, y)
    names = ["bare eager loop (_reference_loop.py)", *F_VARIANTS]
    epoch, one_off = {n: [] for n in names}, {n: [] for n in names}
    for _ in range(args.repeats):
        for name in names:
            if name in F_VARIANTS:
                e, o = epoch_times_ours(X, y, F_VARIANTS[name])
            else:
                e, o = epoch_times_reference(X, y)
            epoch[name].append(e)
            one_off[name].append(o)
    ref = float(np.median(epoch[names[0]]))
    print(
        f"{'variant':40s} {'ms/epoch':>8s} {'/ bare':>6s} "
        f"{'one-off s (1st)':>15s} {'one-off s (later)':>17s}"
    )
    rows = []
    for name in names:
        e = float(np.median(epoch[name]))
        later = float(np.median(one_off[name][1:])) if args.repeats > 1 else np.nan
        print(
            f"{name:40s} {1000 * e:8.2f} {e / ref:6.2f} "
            f"{one_off[name][0]:15.2f} {later:17.2f}"
        )
        if name in F_VARIANTS:
            rows.append((f"(f) per epoch: {name} / bare loop", e, ref, 0.5))
    return rows


def profile_f(X, y):
    def run_ours(epochs=F_SETTING["epochs"]):
        epoch_times_ours(X, y, {}, epochs=epochs)

    def run_reference(epochs=F_SETTING["epochs"]):
        epoch_times_reference(X, y, epochs=epochs)

    # torch.profiler on 60 epochs (its event buffers grew to several GB on
    # 300 epochs in some runs here), cProfile on the full 300.
    short = dict(n_epochs=60, python=False, epochs=60)
    profile("(f) ours (defaults)", run_ours, **short)
    profile("(f) bare eager loop", run_reference, **short)
    full = dict(n_epochs=F_SETTING["epochs"], operators=False)
    profile("(f) ours (defaults)", run_ours, **full)
    profile("(f) bare eager loop", run_reference, **full)


# Components of an epoch for the Python-level breakdown: (label, file suffix,
# function name); the largest cumulative time among the matches is shown.
COMPONENTS = [
    (
        "forward (network)",
        ("_model.py", "_reference_loop.py", "overhead.py"),
        "forward",
    ),
    ("loss", ("_base.py", "skorch/net.py"), "get_loss"),
    ("loss", ("_reference_loop.py",), "elbo_loss"),
    ("backward (autograd engine)", ("~",), "run_backward"),
    ("optimizer update (torch.optim.adam)", ("optim/adam.py",), "adam"),
    ("skorch: module.train() every step", ("skorch/net.py",), "_set_training"),
    ("skorch: callbacks (notify)", ("skorch/net.py",), "notify"),
    ("  of which PrintLog", ("callbacks/logging.py",), "on_epoch_end"),
]


def profile(title, function, *args, n_epochs, operators=True, python=True, **kwargs):
    """Profile one call: torch.profiler's top operators, then Python's view.

    torch.profiler's self CPU time covers operators only; skorch runs the
    forward and backward inside ``optimizer.step(closure)``, so that entry's
    self time is mostly Python. The cProfile breakdown shows milliseconds per
    epoch of the main components (inflated by cProfile's own overhead).
    """
    import cProfile
    import pstats

    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    function(*args, **kwargs)  # warm-up
    if operators:
        start = time.perf_counter()
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            function(*args, **kwargs)
        wall = time.perf_counter() - start
        averages = prof.key_averages()
        total = sum(event.self_cpu_time_total for event in averages) / 1e6
        print(
            f"\nprofile {title}: wall {wall:.2f} s under torch.profiler, "
            f"operators' self CPU {total:.2f} s"
        )
        print(averages.table(sort_by="self_cpu_time_total", row_limit=10))
    if not python:
        return
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(function, *args, **kwargs)
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats
    print(f"\ncProfile {title}: {1000 * wall / n_epochs:.2f} ms/epoch under cProfile")
    for label, suffixes, name in COMPONENTS:
        times = [
            cumulative
            for (filename, _, func), (_, _, _, cumulative, _) in stats.items()
            if func.split("'")[1 if "'" in func else 0] == name
            and filename.endswith(suffixes)
        ]
        if times:
            print(f"  {label:40s} {1000 * max(times) / n_epochs:6.2f} ms/epoch")


FIGURES = {
    "a": figure_a,
    "b": figure_b,
    "data": figure_data_path,
    "c": figure_c,
    "d": figure_d,
    "e": figure_e,
    "f": figure_f,
}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--only",
        default=",".join(FIGURES),
        help="comma-separated figures to run, of " + ",".join(FIGURES),
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--profile", action="store_true", help="print profiles of (b) and (f)"
    )
    args = parser.parse_args()
    only = args.only.split(",")
    unknown = set(only) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures {sorted(unknown)}; choose from {list(FIGURES)}")
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    start = time.perf_counter()
    # The first fit of a process pays torch's one-off set-up (about 1-2 s):
    # keep it out of every figure.
    ours(*data(200), max_depth=2, width=8, batch_size=-1, epochs=2)
    rows = []
    for key, figure in FIGURES.items():
        if key in only:
            rows.extend(figure(args))

    print(f"\n{'figure':62s} {'ours s':>8s} {'ref s':>8s} {'ratio':>6s} {'goal':>6s}")
    for name, a, b, goal in rows:
        print(f"{name:62s} {a:8.3f} {b:8.3f} {a / b:6.2f} {goal:6.2f}")
    print(f"wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
