# SPDX-License-Identifier: MIT
"""The skorch callbacks that shape training of the depth-search estimators.

Each is one of the estimators' default callbacks, under the name given
here, so it can be tuned or switched off the skorch way
(``callbacks__depth_warmup__anneal_sparsity=False``,
``callbacks__posterior_history=None``):

- ``"posterior_history"`` (:class:`PosteriorHistory`) records ``q(d)`` after
  every epoch;
- ``"depth_warmup"`` (:class:`DepthWarmup`) holds ``q`` fixed during the
  warm-up and anneals the ARD weights' KL over it;
- ``"weight_decay"`` (:class:`WeightDecaySchedule`) sets the weight decay
  of every epoch from the estimator's ``weight_decay``;
- ``"print_log"`` (:class:`QuietPrintLog`) is skorch's table printer, idle
  at ``verbose=0``.
"""

from __future__ import annotations

import numbers

import numpy as np
from skorch.callbacks import Callback, PrintLog

from sklearn_depth._backbone import posterior_over_depths
from sklearn_depth._optim import SCHEDULED, depth_parameters, scheduled_weight_decay

__all__ = [
    "DepthWarmup",
    "PosteriorHistory",
    "QuietPrintLog",
    "WeightDecaySchedule",
    "is_callback_list",
    "warmup_epochs",
]


def is_callback_list(callbacks) -> bool:
    """Whether ``callbacks`` is a value skorch accepts.

    None, ``"disable"``, or a list of callbacks (skorch ``Callback`` classes
    or instances), each possibly paired with its name.
    """
    if isinstance(callbacks, str):
        return callbacks == "disable"
    if callbacks is None:
        return True
    if not isinstance(callbacks, list | tuple):
        return False
    return all(
        _is_callback(item)
        or (
            isinstance(item, list | tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and _is_callback(item[1])
        )
        for item in callbacks
    )


def _is_callback(obj) -> bool:
    return isinstance(obj, Callback) or (
        isinstance(obj, type) and issubclass(obj, Callback)
    )


def warmup_epochs(depth_warmup, max_epochs: int) -> int:
    """Number of warm-up epochs: an int as is, a float as a fraction of ``max_epochs``.

    Examples
    --------
    >>> warmup_epochs(0.25, max_epochs=200), warmup_epochs(30, max_epochs=200)
    (50, 30)
    """
    if isinstance(depth_warmup, numbers.Integral):
        return int(depth_warmup)
    return round(depth_warmup * max_epochs)


class DepthWarmup(Callback):
    """Hold ``q(d)`` fixed during the warm-up; anneal the ARD KL over it.

    For the first :func:`warmup_epochs` epochs (the estimator's
    ``depth_warmup``) no gradient reaches the depth logits, so every depth's
    blocks get trained before ``q`` can collapse onto the shallow depths
    that fit first. Epochs count from the start of the history, so a
    continued ``partial_fit`` does not warm up again.

    With ``sparse_blocks="ard"``, the ARD weights' KL grows linearly from 0
    to full strength over the same epochs in training batches (validation
    batches use full strength): at full strength from the first epoch it
    prunes the blocks before they have fitted anything.

    Parameters
    ----------
    anneal_sparsity : bool, default=True
        Anneal the ARD KL; ``False`` applies full strength from the start.
    """

    def __init__(self, anneal_sparsity=True):
        self.anneal_sparsity = anneal_sparsity

    def on_epoch_begin(self, net, **kwargs):
        n_warmup = warmup_epochs(net.depth_warmup, net.max_epochs)
        epoch = len(net.history)  # skorch has opened this epoch's row
        frozen = epoch <= n_warmup
        for param in depth_parameters(net.module_):
            param.requires_grad_(not frozen)
        self.ramp_ = min(1.0, (epoch - 1) / n_warmup) if n_warmup else 1.0

    def on_batch_begin(self, net, training=False, **kwargs):
        if self.anneal_sparsity and net.sparse_blocks == "ard":
            full = _sparsity_strength(net)
            net.criterion_.sparsity_strength = full * self.ramp_ if training else full

    def on_train_end(self, net, **kwargs):
        # Leave the fitted module and criterion as if no warm-up had run.
        for param in depth_parameters(net.module_):
            param.requires_grad_(True)
        if self.anneal_sparsity and net.sparse_blocks == "ard":
            net.criterion_.sparsity_strength = _sparsity_strength(net)


def _sparsity_strength(net):
    # As initialize_criterion sets it: criterion__sparsity_strength wins.
    return net.get_params_for("criterion").get(
        "sparsity_strength", net.sparsity_strength
    )


class WeightDecaySchedule(Callback):
    """Set the network weights' decay of every epoch from ``weight_decay``.

    The optimiser groups of the network weights (not ``q``'s logits, the
    noise scale or ARD's variational parameters, and not a group of your
    own with its own ``weight_decay``) get
    :func:`~sklearn_depth._optim.scheduled_weight_decay` of the epoch:
    annealed for ``weight_decay="auto"`` in a training call with early
    stopping (AdamW's default 0.01 in one without), constant for a number.
    Epochs count from the start of the history, so a ``warm_start`` fit
    goes on where the schedule stopped. Nothing is set when
    ``optimizer__weight_decay`` is given, or for ``"auto"`` with an
    optimiser other than ``AdamW``.
    """

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        steps = 1 if dataset_train is None else net._steps_per_epoch(len(dataset_train))
        decay = scheduled_weight_decay(
            net.weight_decay,
            len(net.history) - 1,
            getattr(net, "_early_stopping_", False),
            steps_per_epoch=steps,
        )
        for group in net.optimizer_.param_groups:
            if group.get(SCHEDULED, False):
                group["weight_decay"] = decay


class PosteriorHistory(Callback):
    """Record ``q(d)`` over all depths, and its mean, after every epoch.

    Adds ``posterior_depth`` (a list of ``max_depth + 1`` probabilities)
    and ``expected_depth`` to each row of the estimator's ``history``.
    """

    def on_epoch_end(self, net, **kwargs):
        q = posterior_over_depths(net.module_)
        net.history.record("posterior_depth", q.tolist())
        net.history.record("expected_depth", float(q @ np.arange(q.size)))


class QuietPrintLog(PrintLog):
    """skorch's ``PrintLog`` that does no work when it would print nothing.

    skorch's version formats its table and flushes stdout every epoch even
    with ``verbose=0``, a measurable part of an epoch on small data. A
    custom ``sink`` is still called whatever ``verbose`` says.
    """

    def on_epoch_end(self, net, **kwargs):
        if net.verbose or self.sink is not print:
            super().on_epoch_end(net, **kwargs)
