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

import inspect

import torch
from torch import nn

__all__ = [
    "DEPTH_LOGITS",
    "NO_DECAY",
    "SCHEDULED",
    "depth_parameters",
    "fused_by_default",
    "scheduled_weight_decay",
    "split_groups",
    "uses_weight_decay",
]

# Name suffixes of the parameters of q(d), and of those without weight decay.
DEPTH_LOGITS = "depth_logits"
NO_DECAY = ("log_noise", "log_sigma2")

# Key marking the optimiser groups whose decay follows ``weight_decay``.
SCHEDULED = "scheduled_weight_decay"

# weight_decay="auto": decoupled decay from _AUTO_DECAY_START, halved every
# _AUTO_DECAY_HALF_LIFE epochs (but at least every _AUTO_DECAY_HALF_LIFE_STEPS
# optimiser steps), down to AdamW's default.
_AUTO_DECAY_START = 3.0
_AUTO_DECAY_HALF_LIFE = 20
_AUTO_DECAY_HALF_LIFE_STEPS = 400
_AUTO_DECAY_FLOOR = 0.01

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


def scheduled_weight_decay(
    weight_decay, epoch: int, early_stopping: bool, steps_per_epoch: int = 1
) -> float:
    """The weight decay of the network weights in epoch ``epoch`` (from 0).

    A number is constant. ``"auto"`` with early stopping anneals decoupled
    weight decay from strong to AdamW's default: ``3 * 0.5 ** (epoch / h)``,
    at least ``0.01``, with a half-life ``h`` of 20 epochs, but at most 400
    optimiser steps (``steps_per_epoch``), so that a large data set does not
    spend thousands of steps at a strong decay. Early stopping then picks
    the best point on the way from a strongly regularised network, which
    small noisy tables prefer, to a nearly unregularised one, which a
    complex function needs (benchmarks/README.md, ``tabular.py``). Without
    early stopping nothing would pick that point, and ``"auto"`` is AdamW's
    default ``0.01``.

    Examples
    --------
    >>> [scheduled_weight_decay("auto", e, True) for e in (0, 20, 1000)]
    [3.0, 1.5, 0.01]
    >>> scheduled_weight_decay("auto", 5, True, steps_per_epoch=80)  # h = 5
    1.5
    >>> scheduled_weight_decay("auto", 0, False), scheduled_weight_decay(1e-4, 7, True)
    (0.01, 0.0001)
    """
    if isinstance(weight_decay, str):
        if not early_stopping:
            return _AUTO_DECAY_FLOOR
        half_life = min(
            _AUTO_DECAY_HALF_LIFE, _AUTO_DECAY_HALF_LIFE_STEPS / max(steps_per_epoch, 1)
        )
        decay = _AUTO_DECAY_START * 0.5 ** (epoch / half_life)
        return max(decay, _AUTO_DECAY_FLOOR)
    return float(weight_decay)


def uses_weight_decay(optimizer, weight_decay, opt_kwargs: dict) -> bool:
    """Whether the estimator's ``weight_decay`` sets the optimiser's decay.

    Not when ``optimizer__weight_decay`` is given (it wins, constant), nor
    for ``"auto"`` with an optimiser other than ``AdamW`` (its own default
    applies: ``"auto"``'s strong start is meant as decoupled decay, not as
    an L2 penalty on the gradient), nor when the optimiser has no
    ``weight_decay`` argument.
    """
    if "weight_decay" in opt_kwargs:
        return False
    if isinstance(weight_decay, str) and optimizer is not torch.optim.AdamW:
        return False
    try:
        return "weight_decay" in inspect.signature(optimizer).parameters
    except (TypeError, ValueError):
        return False
