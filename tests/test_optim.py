# SPDX-License-Identifier: MIT
"""Optimiser parameter groups."""

import torch

from sklearn_depth import DepthResMLP
from sklearn_depth._optim import depth_parameters, fused_by_default, split_groups


def test_groups_by_name_suffix():
    module = DepthResMLP(3, 1, max_depth=2, width=4, learn_noise=True)
    named = list(module.named_parameters())
    groups, rest = split_groups(named, depth_lr=0.5)
    assert groups[0]["params"] == [module.depth_logits]
    assert groups[0]["lr"] == 0.5 and groups[0]["weight_decay"] == 0.0
    assert groups[1]["params"] == [module.log_noise]
    assert groups[1]["weight_decay"] == 0.0 and "lr" not in groups[1]
    rest_names = {n for n, _ in rest}
    assert rest_names == {n for n, _ in named} - {"depth_logits", "log_noise"}
    assert depth_parameters(module) == [module.depth_logits]


def test_compiled_prefix_and_ard_variances_are_matched():
    module = DepthResMLP(3, 2, max_depth=1, width=4, sparse_blocks="ard")
    named = [(f"_orig_mod.{n}", p) for n, p in module.named_parameters()]
    groups, rest = split_groups(named, depth_lr=0.1)
    assert len(groups) == 2
    in_group = {id(p) for p in groups[1]["params"]}
    names = [n for n, p in named if id(p) in in_group]
    # The ARD weights too: the ARD KL is their prior, decay would double it.
    assert names == [
        "_orig_mod.blocks.0.linear1.weight",
        "_orig_mod.blocks.0.linear1.log_sigma2",
        "_orig_mod.blocks.0.linear2.weight",
        "_orig_mod.blocks.0.linear2.log_sigma2",
    ]
    assert not any(n.endswith(("log_sigma2", "depth_logits")) for n, _ in rest)
    assert "_orig_mod.blocks.0.linear2.bias" in {n for n, _ in rest}


def test_no_decay_group_only_when_needed():
    module = DepthResMLP(3, 2, max_depth=1, width=4)
    groups, _ = split_groups(module.named_parameters(), depth_lr=0.1)
    assert len(groups) == 1


def test_fused_only_for_adam_without_user_choice():
    named = [("w", torch.nn.Parameter(torch.zeros(2)))]
    assert fused_by_default(torch.optim.Adam, {}, named)
    assert fused_by_default(torch.optim.AdamW, {"lr": 0.1}, named)
    assert not fused_by_default(torch.optim.SGD, {}, named)
    assert not fused_by_default(torch.optim.Adam, {"fused": False}, named)
    assert not fused_by_default(torch.optim.Adam, {"foreach": True}, named)
    half = [("w", torch.nn.Parameter(torch.zeros(2, dtype=torch.int64), False))]
    assert not fused_by_default(torch.optim.Adam, {}, half)
