# SPDX-License-Identifier: MIT
"""What the benchmark scripts share; not part of the package.

The paper's spirals split, the synthetic classification data of the overhead
figures, our fit timed, interleaved timing, the summary table and the common
command line. ``python benchmarks/<script>.py`` puts this folder first on
``sys.path``, so the scripts ``import _common``. Public API of
``sklearn_depth`` only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from sklearn_depth import (
    CategoricalDepthELBO,
    DepthResMLP,
    DepthSearchClassifier,
    make_spirals,
)


def paper_spirals(
    seed, *, stop_angle=720.0, n_train=200, n_valid=0, n_test=1800, dtype=None
):
    """The paper's spirals, split in order and standardised on the training rows.

    ``make_spirals(n_train + n_valid + n_test, noise=0.2)``: the first
    ``n_train`` rows train, the next ``n_valid`` validate, the rest test. The
    defaults are the paper's split, ``make_spirals(2000, noise=0.2)`` with
    10 % (200 points) for training and 90 % for testing.

    Returns
    -------
    splits : tuple of (X, y) pairs
        ``((X_train, y_train), (X_test, y_test))``, with ``(X_valid,
        y_valid)`` between them when ``n_valid > 0``. ``X`` is float64, or
        ``dtype`` if given.
    """
    X, y = make_spirals(
        n_train + n_valid + n_test,
        noise=0.2,
        stop_angle=stop_angle,
        random_state=seed,
    )
    X = StandardScaler().fit(X[:n_train]).transform(X)
    if dtype is not None:
        X = X.astype(dtype)
    cuts = [n_train, n_train + n_valid] if n_valid else [n_train]
    return tuple(zip(np.split(X, cuts), np.split(y, cuts), strict=True))


def parse_config(spec):
    """``"K=V,K=V"`` to estimator parameters (ints, floats, bools, strings).

    ``""`` and ``"defaults"`` give no parameter: the estimator's defaults.
    """
    if spec in ("", "defaults"):
        return {}
    return {
        k: _parse_value(v) for k, v in (item.split("=") for item in spec.split(","))
    }


def _parse_value(value):
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(value, value)


def classification_data(n_samples, seed=0):
    """20 features, 10 informative, 3 classes (float32 X, int64 y)."""
    X, y = make_classification(
        n_samples, 20, n_informative=10, n_classes=3, random_state=seed
    )
    return X.astype(np.float32), y.astype(np.int64)


def rows_label(n_samples):
    """``200 rows``, ``10k rows``: the row counts in the figures' names."""
    return f"{n_samples // 1000}k rows" if n_samples >= 1000 else f"{n_samples} rows"


def fit_ours(X, y, *, max_depth, width, batch_size, epochs, **params):
    """Fit ``DepthSearchClassifier`` (no warm-up); return (seconds, estimator)."""
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


def fixed_depth(depth, **params):
    """A depth-``depth`` network: max_depth=depth, the prior one-hot on it.

    The zero prior entries are hard masks, so q(depth) = 1 and only the
    ``depth`` blocks it needs exist and run (a one-hot prior on a deeper
    network would still run, and train through the head, the unused blocks).
    """
    prior = np.zeros(depth + 1)
    prior[depth] = 1.0
    return DepthSearchClassifier(max_depth=depth, prior=prior, **params)


# torch's fused Adam kernel runs on the CPU since torch 2.4, where the
# estimators use it by default (with CUDA, since 2.0).
FUSED_ADAM_ON_CPU = tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)


def bare_loop(
    X, y, *, max_depth, width, batch_size, epochs, module=DepthResMLP, **module_kwargs
):
    """Train ``module`` with our objective and optimiser groups, by hand.

    The minimal PyTorch loop the estimators' ``fit`` is measured against:
    the same module (``module_kwargs`` go to it), ``CategoricalDepthELBO``,
    q's logits in a group of their own, shuffled batches. Adam is fused
    where our estimator's default fuses it (CPU, torch >= 2.4), so the
    comparison measures the framework, not the optimiser. Returns seconds.
    """
    torch.manual_seed(0)
    n_classes = int(y.max()) + 1
    start_time = time.perf_counter()
    # log_prior=None is the uniform prior, the estimators' default.
    module = module(
        X.shape[1], n_classes, max_depth=max_depth, width=width, **module_kwargs
    )
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


def interleaved_medians(first, second, repeats):
    """Median seconds of two timings (callables) taken in turn ``repeats`` times."""
    a, b = [], []
    for _ in range(repeats):
        a.append(first())
        b.append(second())
    return float(np.median(a)), float(np.median(b))


def timed(function, *args):
    """Seconds of one call."""
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def make_parser(doc, *, repeats=None, seeds=False, profile=None):
    """The command line of the overhead scripts.

    ``--threads`` and ``--quick`` always; ``--repeats`` with its default if
    ``repeats`` is given; ``--seeds`` (default 0 1 2) if ``seeds``;
    ``--profile`` with ``profile`` as its help if given.
    """
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if repeats is not None:
        parser.add_argument("--repeats", type=int, default=repeats)
    if seeds:
        parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    if profile is not None:
        parser.add_argument("--profile", action="store_true", help=profile)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: small sizes, 1 repeat, seed 0 (its figures mean nothing)",
    )
    return parser


def start(args):
    """Set torch's threads, print the set-up, pay the first fit's cost.

    Torch runs on one thread by default (``--threads``): the networks are
    tiny, and on a shared 2-core machine two threads per process make
    timings erratic. ``--quick`` sets one repeat and seed 0. The first fit
    of a process pays torch's one-off set-up (about 1-2 s): it is made here,
    outside every figure. Returns the start time for :func:`print_summary`.
    """
    if args.quick:
        if hasattr(args, "repeats"):
            args.repeats = 1
        if hasattr(args, "seeds"):
            args.seeds = [0]
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    started = time.perf_counter()
    fit_ours(*classification_data(200), max_depth=2, width=8, batch_size=-1, epochs=2)
    return started


def print_summary(rows, started):
    """The figures as ``(name, ours s, reference s, goal)`` rows, and wall time."""
    print(f"\n{'figure':62s} {'ours s':>8s} {'ref s':>8s} {'ratio':>6s} {'goal':>6s}")
    for name, a, b, goal in rows:
        print(f"{name:62s} {a:8.3f} {b:8.3f} {a / b:6.2f} {goal:6.2f}")
    print(f"wall time: {time.perf_counter() - started:.0f} s")


# Components of an epoch for the Python-level breakdown of profile(): (label,
# file suffixes, function name); the largest cumulative time among the
# matches is shown. The forward of search_vs_skorch.py is its fixed-depth
# network's.
COMPONENTS = [
    (
        "forward (network)",
        ("_model.py", "_reference_loop.py", "search_vs_skorch.py"),
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
