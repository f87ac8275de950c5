# SPDX-License-Identifier: MIT
"""How many torch threads a fit or a prediction uses.

A training step of a small network is a few hundred small kernels, whose
cost is dispatch, not arithmetic: a second thread buys nothing, and when
another process keeps one of the cores busy, torch's worker threads wait on
it and the fit runs several times slower (``benchmarks/threads.py``). Large
steps, whose matrix products dominate, do gain from threads. So the
estimators run one thread when a step's arithmetic is small, and otherwise
keep torch's setting; they never use more threads than torch is set to (a
joblib worker keeps its limit), and restore the caller's setting afterwards.

The user decides the way the ecosystem does: with ``OMP_NUM_THREADS`` set in
the environment, that many threads are used (dask, for one, sets it to 1 in
the process that starts a local cluster).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["estimator_threads", "n_threads_for", "torch_threads"]

# Multiply-adds of one step below which one thread is used: a step of the
# tiny settings costs ~1e7, one of width 256 on batches of 256 ~1e9.
_SMALL_STEP = 1e8


def n_threads_for(batch_size: int, width: int, n_layers: int) -> int:
    """Threads for steps of ``batch_size`` rows through ``n_layers`` layers.

    One thread when a step's forward and backward multiply-adds
    (``3 * batch_size * width**2 * n_layers``) are below 1e8, torch's current
    setting otherwise; ``OMP_NUM_THREADS``, where set, decides instead.

    Examples
    --------
    >>> n_threads_for(batch_size=200, width=20, n_layers=21)
    1
    """
    current = torch.get_num_threads()
    user = os.environ.get("OMP_NUM_THREADS", "").strip()
    if user:
        # The user's (or a framework's, e.g. dask's) choice, also when set
        # after torch started and read it.
        return int(user) if user.isdigit() and int(user) > 0 else current
    work = 3.0 * batch_size * width**2 * n_layers
    return 1 if work < _SMALL_STEP else current


def estimator_threads(est, n_rows: int, training: bool):
    """:func:`torch_threads` for a depth-search estimator's steps on ``n_rows`` rows."""
    batch_size = est._iterator_kwargs(n_rows, training=training)["batch_size"]
    n_layers = est.max_depth + 2  # input layer, blocks, head
    return torch_threads(n_threads_for(min(batch_size, n_rows), est.width, n_layers))


@contextmanager
def torch_threads(n_threads: int) -> Iterator[None]:
    """Run a block on ``n_threads`` torch threads; restore them, also on error."""
    previous = torch.get_num_threads()
    if n_threads != previous:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
