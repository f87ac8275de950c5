# SPDX-License-Identifier: MIT
"""Optimiser parameter groups of the depth-search networks.

Three kinds of parameters train differently. The logits of ``q(d)`` get a
learning rate of their own and no weight decay (decay would pull ``q`` back
towards uniform); the variational and noise parameters (the ARD layers'
``weight`` and ``log_sigma2``, whose prior is the ARD KL, and the regressor's
``log_noise``) get the common learning rate but no decay either; every other
weight follows the optimiser's settings.
Parameters are recognised by the end of their name, which also matches
under ``torch.compile``'s ``_orig_mod.`` prefix.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "DEPTH_LOGITS",
    "NO_DECAY",
    "depth_parameters",
    "fused_by_default",
    "split_groups",
]

# Name suffixes of the parameters of q(d), and of those without weight decay.
DEPTH_LOGITS = "depth_logits"
NO_DECAY = ("log_noise", "log_sigma2")

# torch's fused Adam/AdamW kernels: CUDA since 2.0, CPU since 2.4.
_FUSED_DEVICES = (
    ("cpu", "cuda")
    if tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)
    else ("cuda",)
)


def depth_parameters(module: nn.Module) -> list[nn.Parameter]:
    """The parameters of ``q(d)`` in ``module`` (the depth logits)."""
    return [p for n, p in module.named_parameters() if n.endswith(DEPTH_LOGITS)]


def split_groups(named_params, depth_lr: float) -> tuple[list[dict], list]:
    """Split ``(name, parameter)`` pairs into our groups and the rest.

    Returns
    -------
    groups : list of dict
        The group of the depth logits (learning rate ``depth_lr``) and, if
        any, the group of the no-decay parameters; both without weight decay.
    rest : list of (str, Parameter)
        Every other parameter, for skorch's ``optimizer__*`` groups.
    """
    named_params = list(named_params)
    # An ARD layer's weight is the one beside its log_sigma2.
    ard_weights = {
        n.removesuffix("log_sigma2") + "weight"
        for n, _ in named_params
        if n.endswith("log_sigma2")
    }

    def kind(name):
        if name.endswith(DEPTH_LOGITS):
            return "depth"
        if name.endswith(NO_DECAY) or name in ard_weights:
            return "no_decay"
        return "rest"

    depth = [p for n, p in named_params if kind(n) == "depth"]
    no_decay = [p for n, p in named_params if kind(n) == "no_decay"]
    rest = [(n, p) for n, p in named_params if kind(n) == "rest"]
    groups = [{"params": depth, "lr": depth_lr, "weight_decay": 0.0}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups, rest


def fused_by_default(optimizer, opt_kwargs: dict, named_params) -> bool:
    """Whether Adam/AdamW should get ``fused=True``.

    Only when the user set neither ``optimizer__fused`` nor
    ``optimizer__foreach`` and every parameter is a floating point tensor
    on a device with the fused kernel. It updates every parameter in one
    call instead of torch's Python loop over the tensors (CPU's default);
    benchmarks/README.md has the measured gain. Results differ from the
    loop in the last digits only.
    """
    if optimizer not in (torch.optim.Adam, torch.optim.AdamW):
        return False
    if "fused" in opt_kwargs or "foreach" in opt_kwargs:
        return False
    return all(
        p.device.type in _FUSED_DEVICES and p.is_floating_point()
        for _, p in named_params
    )
