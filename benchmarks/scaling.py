# SPDX-License-Identifier: MIT
"""How DepthSearchClassifier's training time and memory scale.

Two sweeps at width 64, batch 128, 20 features, 3 classes:

- n_samples in {1e4, 1e5, 1e6} at max_depth 20;
- max_depth in {5, 20, 80} at 1e5 rows.

Time: a fixed number of batches is timed after a few warm-up batches (the fit
is then stopped), so the sweep stays short; the time per epoch is the time per
batch times the batches per epoch. Printed: the time per batch, per epoch, the
fit's set-up time before its first batch (validation, label encoding,
initialisation, moving the data), and the fitted log-log exponents of the time
per epoch against n_samples and of the time per batch against max_depth (the
goal: in [0.8, 1.2], i.e. linear).

Memory: each size is fitted in a fresh subprocess; the resident-set increase
of the fit (peak ``VmHWM`` minus ``VmRSS`` measured after ``X`` exists and
after a small warm-up fit of the same network, which loads torch's kernels and
allocator pools; for a Dataset over a memmap file, the peak anonymous memory
``RssAnon`` at batch ends, as the file's pages are evictable page cache) is
compared with the bound 3x the float32 size of ``X`` +
the model (parameters, gradients and Adam's two moments: 4x the parameters) +
one batch's activations (6 tensors of batch x width per depth, what autograd
keeps for a block).

    python benchmarks/scaling.py [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import ValidSplit

from sklearn_depth import DepthSearchClassifier

WIDTH, BATCH, N_FEATURES = 64, 128, 20
WARMUP_BATCHES, TIMED_BATCHES = 20, 300
MEMORY_BATCHES = 100


def make_data(n_samples, dtype=np.float32, seed=0):
    """Gaussian features and 3 classes from a linear rule, without temporaries
    the size of X (so the memory baseline is not inflated)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, N_FEATURES), dtype=np.float32)
    if dtype != np.float32:
        X = X.astype(dtype)
    score = X[:, 0] + 0.5 * X[:, 1]
    y = np.digitize(score, [-0.5, 0.5]).astype(np.int64)
    return X, y


class BatchClock(Callback):
    """Times ``timed`` batches after ``warmup``, then stops the fit.

    ``first_batch_`` is when the first batch began (the end of the fit's
    set-up). Stopping raises ``KeyboardInterrupt``, which skorch turns into
    the end of training.
    """

    def __init__(self, warmup, timed):
        self.warmup, self.timed = warmup, timed

    def initialize(self):
        self.count_, self.first_batch_, self.start_, self.stop_ = 0, None, None, None
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training and self.first_batch_ is None:
            self.first_batch_ = time.perf_counter()

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        self.count_ += 1
        if self.count_ == self.warmup:
            self.start_ = time.perf_counter()
        elif self.count_ == self.warmup + self.timed:
            self.stop_ = time.perf_counter()
            raise KeyboardInterrupt


def estimator(max_depth, clock, max_epochs=100):
    return DepthSearchClassifier(
        max_depth=max_depth,
        width=WIDTH,
        batch_size=BATCH,
        max_epochs=max_epochs,  # a cap: the clock stops the fit
        depth_warmup=0,
        random_state=0,
        callbacks=[("clock", clock)],
    )


def time_fit(X, y, max_depth):
    """Seconds per batch and seconds of set-up before the first batch."""
    clock = BatchClock(WARMUP_BATCHES, TIMED_BATCHES)
    start = time.perf_counter()
    estimator(max_depth, clock).fit(X, y)
    per_batch = (clock.stop_ - clock.start_) / TIMED_BATCHES
    return per_batch, clock.first_batch_ - start


def exponent(x, t):
    return float(np.polyfit(np.log(x), np.log(t), 1)[0])


def timing(args):
    configs = [(n, 20) for n in (10_000, 100_000, 1_000_000)]
    configs += [(100_000, d) for d in (5, 80)]
    data = {n: make_data(n) for n in {n for n, _ in configs}}
    results = {c: [] for c in configs}
    for _ in range(args.repeats):  # interleaved repeats, medians
        for n, depth in configs:
            results[(n, depth)].append(time_fit(*data[n], depth))
    print(
        f"time: width {WIDTH}, batch {BATCH}, {N_FEATURES} features; "
        f"{TIMED_BATCHES} batches timed after {WARMUP_BATCHES}, median of "
        f"{args.repeats} interleaved repeats"
    )
    print(
        f"{'n_samples':>10s} {'max_depth':>9s} {'ms/batch':>8s} "
        f"{'batches/epoch':>13s} {'s/epoch':>8s} {'set-up s':>8s}"
    )
    rows = {}
    for n, depth in sorted(configs, key=lambda c: (c[1] != 20, c)):
        per_batch, setup = np.median(results[(n, depth)], axis=0)
        batches = -(-n // BATCH)
        rows[(n, depth)] = (per_batch, per_batch * batches)
        print(
            f"{n:10d} {depth:9d} {1000 * per_batch:8.3f} {batches:13d} "
            f"{per_batch * batches:8.2f} {setup:8.3f}"
        )
    ns = [10_000, 100_000, 1_000_000]
    depths = [5, 20, 80]
    print(
        "fitted exponent, time per epoch vs n_samples (D=20): "
        f"{exponent(ns, [rows[(n, 20)][1] for n in ns]):.3f} (goal in [0.8, 1.2]); "
        "time per batch vs n_samples: "
        f"{exponent(ns, [rows[(n, 20)][0] for n in ns]):.3f} (0 = independent of n)"
    )
    print(
        "fitted exponent, time per batch (= per epoch) vs max_depth (1e5 rows): "
        f"{exponent(depths, [rows[(100_000, d)][0] for d in depths]):.3f}"
    )


def _status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # kB
    raise RuntimeError(f"{field} not in /proc/self/status")


class AnonymousMemoryProbe(BatchClock):
    """A :class:`BatchClock` that also records the peak ``RssAnon`` at batch ends."""

    def initialize(self):
        self.peak_anon_ = 0
        return super().initialize()

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        self.peak_anon_ = max(self.peak_anon_, _status("RssAnon"))
        super().on_batch_end(net, batch=batch, training=training, **kwargs)


class MemmapRows(torch.utils.data.Dataset):
    """Feature rows read one at a time from a float32 ``np.memmap``."""

    def __init__(self, path, shape):
        self.X = np.memmap(path, dtype=np.float32, mode="r", shape=shape)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        return self.X[index]


def memory_child(n_samples, max_depth, variant, tmp_dir):
    """Runs in a fresh process: the fit's peak resident-set increase.

    ``variant``: "float32" or "float64" arrays; "split" float32 arrays with a
    10 % internal validation split; "dataset" a Dataset over a memmap file.
    """
    torch.set_num_threads(1)
    # Warm-up: torch's kernels, thread pools and allocator pools.
    estimator(max_depth, BatchClock(2, 3)).fit(*make_data(4 * BATCH))
    X, y = make_data(
        n_samples, dtype=np.float64 if variant == "float64" else np.float32
    )
    params = {}
    if variant == "split":
        params["train_split"] = ValidSplit(0.1, random_state=0)
    if variant == "dataset":
        path = Path(tmp_dir) / "X.dat"
        X.tofile(path)
        X_bytes = X.nbytes
        del X
        X = MemmapRows(path, (n_samples, N_FEATURES))
    else:
        X_bytes = X.nbytes
    baseline, baseline_anon = _status("VmRSS"), _status("RssAnon")
    try:  # reset the high-water mark to the current RSS (Linux >= 4.0)
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    probe = AnonymousMemoryProbe(MEMORY_BATCHES // 2, MEMORY_BATCHES // 2)
    clf = estimator(max_depth, probe)
    clf.set_params(**params).fit(X, y)
    peak = _status("VmHWM")
    if variant == "dataset":
        # The memmap's pages that the reads mapped in are the OS's page cache
        # (file-backed, evictable) and count towards RSS: compare the
        # anonymous memory, sampled at every batch end, instead.
        peak, baseline = probe.peak_anon_, baseline_anon
    n_params = sum(p.numel() for p in clf.module_.parameters())
    activations = BATCH * (max_depth + 1) * WIDTH * 4 * 6
    float32_X = n_samples * N_FEATURES * 4
    bound = 3 * float32_X + 4 * n_params * 4 + activations
    print(
        json.dumps(
            dict(
                increase=peak - baseline,
                bound=bound,
                X_bytes=X_bytes,
                hwm_reset=reset,
            )
        )
    )


def memory(args):
    print(
        f"\nmemory: peak resident-set increase of a fit ({MEMORY_BATCHES} "
        "batches) over the RSS after X exists, each in a fresh process; bound = "
        "3 x float32 X + 4 x parameters + 6 x batch x width x (D+1) floats"
    )
    print(
        f"{'n_samples':>10s} {'X':>22s} {'X MB':>8s} {'increase MB':>11s} "
        f"{'bound MB':>8s} {'increase / X':>12s} within"
    )
    labels = {
        "float32": "float32 array",
        "float64": "float64 array",
        "split": "float32, 10 % split",
        "dataset": "Dataset over memmap",
    }
    for n, variant in [
        (10_000, "float32"),
        (100_000, "float32"),
        (1_000_000, "float32"),
        (1_000_000, "float64"),
        (1_000_000, "split"),
        (1_000_000, "dataset"),
    ]:
        with tempfile.TemporaryDirectory() as tmp_dir:
            command = [sys.executable, __file__, "--memory-child", str(n), "20"]
            out = subprocess.run(
                [*command, variant, tmp_dir],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        mb = 2**20
        print(
            f"{n:10d} {labels[variant]:>22s} {result['X_bytes'] / mb:8.1f} "
            f"{result['increase'] / mb:11.1f} {result['bound'] / mb:8.1f} "
            f"{result['increase'] / result['X_bytes']:12.2f} "
            f"{'yes' if result['increase'] <= result['bound'] else 'NO'}"
            + ("" if result["hwm_reset"] else " (VmHWM not reset)"),
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        n, depth, variant, tmp_dir = args.memory_child
        memory_child(int(n), int(depth), variant, tmp_dir)
        return
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    start = time.perf_counter()
    # The first fit of a process pays torch's one-off set-up: keep it out.
    time_fit(*make_data(4 * BATCH), 2)
    timing(args)
    if not args.skip_memory:
        memory(args)
    print(f"wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
