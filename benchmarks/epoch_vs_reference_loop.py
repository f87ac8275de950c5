# SPDX-License-Identifier: MIT
"""(f) Time per epoch against the frozen bare eager loop.

Time per epoch on 200 rows of ``make_classification`` (20 features, 3
classes), width 20, D = 20, full batch, 300 epochs (median epoch after the
first 30): ours / the frozen bare eager loop of ``_reference_loop.py`` (goal
<= 0.5), with the variants fused Adam, foreach Adam and ``compile=True``.
Medians over interleaved repeats; the one-off seconds are a fit's wall time
beyond epochs x median epoch (set-up, and compilation in the first repeat).

    python benchmarks/epoch_vs_reference_loop.py [--repeats 5] [--threads 1]
    python benchmarks/epoch_vs_reference_loop.py --profile  # + profiles
    python benchmarks/epoch_vs_reference_loop.py --quick    # no compile=True
"""

from __future__ import annotations

import time

import _reference_loop  # the frozen baseline
import numpy as np
import torch
from _common import classification_data, make_parser, print_summary, profile, start
from skorch.callbacks import Callback

from sklearn_depth import DepthSearchClassifier

SETTING = dict(n_samples=200, max_depth=20, width=20, epochs=300, skip=30)
# --quick: fewer epochs, and no compile=True variant (cold compilation alone
# takes 26-66 s on the 2-core benchmark machine)
QUICK = dict(epochs=20, skip=5)
VARIANTS = {
    # Defaults: fused Adam (torch >= 2.4 on CPU), PrintLog idle at verbose=0.
    "ours (defaults)": {},
    "ours, optimizer__fused=False": {"optimizer__fused": False},
    "ours, optimizer__foreach=True": {"optimizer__foreach": True},
    "ours, compile=True": {"compile": True},
    "ours, compile=True, fused=False": {"compile": True, "optimizer__fused": False},
}


class EpochClock(Callback):
    """Records the time at the end of every epoch (and the fit's start)."""

    def initialize(self):
        self.ends = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.ends.append(time.perf_counter())


def epoch_times_ours(X, y, params, setting, epochs=None):
    """Median epoch time after ``skip`` epochs, and the one-off seconds.

    The one-off seconds are the fit's wall time beyond ``epochs`` times the
    median epoch: set-up, the first epochs, and compilation (which also
    happens again when the graph changes, e.g. when q's warm-up ends).
    """
    epochs = epochs or setting["epochs"]
    clock = EpochClock()
    clf = DepthSearchClassifier(
        max_depth=setting["max_depth"],
        width=setting["width"],
        batch_size=-1,
        max_epochs=epochs,
        random_state=0,
        callbacks=[("clock", clock)],
        **params,
    )
    start_time = time.perf_counter()
    clf.fit(X, y)
    total = time.perf_counter() - start_time
    per_epoch = float(np.median(np.diff(clock.ends)[setting["skip"] :]))
    return per_epoch, total - epochs * per_epoch


def epoch_times_reference(X, y, setting, epochs=None):
    epochs = epochs or setting["epochs"]
    torch.manual_seed(0)
    times = _reference_loop.train(
        torch.from_numpy(X),
        torch.from_numpy(y),
        max_depth=setting["max_depth"],
        width=setting["width"],
        epochs=epochs,
    )
    per_epoch = float(np.median(times[setting["skip"] :]))
    return per_epoch, sum(times) - epochs * per_epoch


def figure_f(args, setting, variants):
    X, y = classification_data(setting["n_samples"])
    print(
        f"\n(f) {setting['n_samples']} rows, width {setting['width']}, "
        f"D={setting['max_depth']}, full batch, {setting['epochs']} epochs; "
        f"median epoch after {setting['skip']}, median over {args.repeats} "
        "interleaved repeats; one-off s = fit time beyond epochs x median epoch "
        "(first repeat: includes compilation)"
    )
    if args.profile:  # before anything is compiled in this process
        profile_f(X, y, setting)
    names = ["bare eager loop (_reference_loop.py)", *variants]
    epoch, one_off = {n: [] for n in names}, {n: [] for n in names}
    for _ in range(args.repeats):
        for name in names:
            if name in variants:
                e, o = epoch_times_ours(X, y, variants[name], setting)
            else:
                e, o = epoch_times_reference(X, y, setting)
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
        if name in variants:
            rows.append((f"(f) per epoch: {name} / bare loop", e, ref, 0.5))
    return rows


def profile_f(X, y, setting):
    def run_ours(epochs=setting["epochs"]):
        epoch_times_ours(X, y, {}, setting, epochs=epochs)

    def run_reference(epochs=setting["epochs"]):
        epoch_times_reference(X, y, setting, epochs=epochs)

    # torch.profiler on 60 epochs (its event buffers grew to several GB on
    # 300 epochs in some runs here), cProfile on all of them.
    n_short = min(60, setting["epochs"])
    short = dict(n_epochs=n_short, python=False, epochs=n_short)
    profile("(f) ours (defaults)", run_ours, **short)
    profile("(f) bare eager loop", run_reference, **short)
    full = dict(n_epochs=setting["epochs"], operators=False)
    profile("(f) ours (defaults)", run_ours, **full)
    profile("(f) bare eager loop", run_reference, **full)


def main():
    args = make_parser(
        __doc__, repeats=5, profile="print profiles of ours and the bare loop"
    ).parse_args()
    started = start(args)
    setting, variants = SETTING, VARIANTS
    if args.quick:
        setting = {**SETTING, **QUICK}
        variants = {k: v for k, v in VARIANTS.items() if "compile" not in v}
    print_summary(figure_f(args, setting, variants), started)


if __name__ == "__main__":
    main()
