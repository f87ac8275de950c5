# SPDX-License-Identifier: MIT
"""The estimators' isolated random streams."""

import numpy as np
import torch

from sklearn_depth._random import isolated_torch_rng


def test_same_seed_same_stream_and_caller_untouched():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    with isolated_torch_rng(7, "cpu"):
        a = torch.rand(5)
    with isolated_torch_rng(7, "cpu"):
        b = torch.rand(5)
    with isolated_torch_rng(8, "cpu"):
        c = torch.rand(5)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(torch.get_rng_state(), before)


def test_resumed_state_continues_the_stream():
    with isolated_torch_rng(0, "cpu") as current_state:
        first = torch.rand(3)
        saved = current_state()
    with isolated_torch_rng(0, "cpu"):
        whole = torch.rand(6)
    with isolated_torch_rng(None, "cpu", saved):
        rest = torch.rand(3)
    assert torch.equal(torch.cat([first, rest]), whole)


def test_none_draws_the_seed_from_numpy_global_state():
    np.random.seed(1)
    with isolated_torch_rng(None, "cpu"):
        a = torch.rand(3)
    np.random.seed(1)
    with isolated_torch_rng(None, "cpu"):
        b = torch.rand(3)
    with isolated_torch_rng(None, "cpu"):  # numpy's state has advanced
        c = torch.rand(3)
    assert torch.equal(a, b) and not torch.equal(a, c)
