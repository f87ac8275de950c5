# SPDX-License-Identifier: MIT
"""The estimators' random streams: seeded from ``random_state``, kept apart.

Training draws from torch's global generators (weight initialisation, batch
shuffling, ARD noise). :func:`isolated_torch_rng` runs that code on a stream
of its own: it forks the generators (so the caller's state is untouched),
seeds them once from ``random_state`` with scikit-learn's semantics, or
resumes a state saved by an earlier call (``partial_fit`` continues the
stream where the previous call stopped).

Forking is not enough when two threads train at once: torch's generators
(and its thread count) belong to the process, so each fork would see the
other's draws, and the second to finish would restore the first's state as
the caller's. Training therefore holds :data:`TORCH_STATE_LOCK`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from sklearn.utils import check_random_state

__all__ = ["TORCH_STATE_LOCK", "isolated_torch_rng"]

#: Held while training uses torch's process-wide state (random generators,
#: thread count): fits in several threads of one process run one at a time.
#: Re-entrant, so a callback may fit another estimator.
TORCH_STATE_LOCK = threading.RLock()


def _cuda_indices(device) -> list[int]:
    device = torch.device(device)
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


@contextmanager
def isolated_torch_rng(
    random_state, device, state: dict | None = None
) -> Iterator[Callable[[], dict]]:
    """Run a block on torch random generators of its own.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seeds the stream when ``state`` is None: one seed is drawn with
        ``check_random_state(random_state)`` (``None`` advances numpy's
        global generator) and given to the CPU generator and, for a CUDA
        ``device``, to that device's generator.
    device : str or torch.device
        The device whose generator is forked and seeded besides the CPU's.
    state : dict or None, default=None
        A state returned by the yielded function in an earlier call:
        resume that stream instead of seeding a new one.

    Yields
    ------
    current_state : callable
        Returns the stream's state at the time of the call (CPU tensors),
        to pass as ``state`` later.

    Examples
    --------
    >>> import torch
    >>> with isolated_torch_rng(0, "cpu") as current_state:
    ...     a = torch.rand(2)
    ...     saved = current_state()
    >>> with isolated_torch_rng(0, "cpu"):
    ...     b = torch.rand(2)
    >>> bool(torch.equal(a, b))
    True
    """
    indices = _cuda_indices(device)
    with torch.random.fork_rng(devices=indices):
        if state is None:
            seed = check_random_state(random_state).randint(2**31 - 1)
            torch.default_generator.manual_seed(seed)
            for index in indices:
                with torch.cuda.device(index):
                    torch.cuda.manual_seed(seed)
        else:
            torch.set_rng_state(state["cpu"])
            for index in indices:
                if "cuda" in state:
                    torch.cuda.set_rng_state(state["cuda"], index)
        yield lambda: _get_state(indices)


def _get_state(indices: list[int]) -> dict:
    state = {"cpu": torch.get_rng_state()}
    for index in indices:
        state["cuda"] = torch.cuda.get_rng_state(index).cpu()
    return state
