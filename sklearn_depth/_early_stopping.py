# SPDX-License-Identifier: MIT
"""Early stopping on rows held out of the training data.

In scikit-learn's vocabulary (``early_stopping``, ``validation_fraction``,
``n_iter_no_change``, ``tol``, as ``MLPClassifier`` and
``HistGradientBoostingClassifier`` name them): a fraction of the training
rows is held out (stratified for a classifier), the negative log-likelihood
of the marginal predictive on them is the ``valid_loss`` of every epoch, and
training stops once it has not improved by ``tol`` for ``n_iter_no_change``
epochs; the module of the best epoch (weights, batch statistics, ``q(d)``
and the noise scale) is restored. Epochs of the depth warm-up, during which
``q`` is held at its initial value, are scored but can neither be the best
epoch nor use up the patience: they share the clock of
:class:`~sklearn_depth._callbacks.DepthWarmup`.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from sklearn_depth._callbacks import warmup_epochs
from sklearn_depth._data import steps_per_epoch

__all__ = ["HeldOutSplit", "EarlyStopping", "patience_epochs", "uses_early_stopping"]

# "auto" holds rows out only when at least this many training rows exist.
_AUTO_MIN_SAMPLES = 20
# n_iter_no_change="auto": this many epochs, but at least this many steps.
_AUTO_PATIENCE_EPOCHS = 30
_AUTO_PATIENCE_STEPS = 200


def patience_epochs(n_iter_no_change, n_train: int, batch_size: int) -> int:
    """Epochs without improvement after which training stops.

    An int is a number of epochs. ``"auto"`` waits 30 epochs, but at least
    200 optimiser steps: on a small data set an epoch is a single step, and
    progress on a hard problem can stall for longer than 30 of them before
    the held-out loss falls again.

    Examples
    --------
    >>> patience_epochs("auto", n_train=180, batch_size=256)
    200
    >>> patience_epochs("auto", n_train=10_000, batch_size=256)
    30
    >>> patience_epochs(5, n_train=180, batch_size=256)
    5
    """
    if not (isinstance(n_iter_no_change, str) and n_iter_no_change == "auto"):
        return int(n_iter_no_change)
    steps = steps_per_epoch(n_train, batch_size)
    return max(_AUTO_PATIENCE_EPOCHS, math.ceil(_AUTO_PATIENCE_STEPS / steps))


def uses_early_stopping(net, n_samples: int, is_fit: bool) -> bool:
    """Whether this training call holds rows out and stops early.

    ``partial_fit`` never does (as scikit-learn's MLP). ``"auto"`` does on
    ``fit`` unless the user gave a ``train_split`` of their own (their
    callbacks then decide) or there are fewer than 20 rows; ``True`` always
    does, on the user's ``train_split`` if one is given.
    """
    if not is_fit or net.early_stopping is False:
        return False
    if net.early_stopping is True:
        return True
    return not net.train_split and n_samples >= _AUTO_MIN_SAMPLES


class HeldOutSplit:
    """A seeded split of a skorch dataset into training and held-out rows.

    Parameters
    ----------
    validation_fraction : float in (0, 1)
        Fraction of the rows held out (at least one row, at least one left).
    stratify : bool
        Keep the class proportions (``y`` are labels), where every class has
        at least two rows; otherwise a plain random split.
    seed : int
        Seed of the split.
    """

    def __init__(self, validation_fraction, stratify, seed):
        self.validation_fraction = validation_fraction
        self.stratify = stratify
        self.seed = seed

    def __call__(self, dataset, y=None, **fit_params):
        n = len(dataset)
        n_valid = min(max(math.ceil(self.validation_fraction * n), 1), n - 2)
        stratify = None
        if self.stratify and y is not None:
            labels = np.asarray(y)
            counts = np.unique(labels, return_counts=True)[1]
            n_classes = counts.size
            if counts.min() >= 2 and n_classes <= min(n_valid, n - n_valid):
                stratify = labels
        train, valid = train_test_split(
            np.arange(n), test_size=n_valid, stratify=stratify, random_state=self.seed
        )
        subset = torch.utils.data.Subset
        return subset(dataset, np.sort(train)), subset(dataset, np.sort(valid))

    def member_held_out(self, n_samples, y, n_members):
        """Rows each packed ensemble member holds out: ``(n_samples, K)`` bool.

        Member ``m`` holds out the rows of this split drawn with seed
        ``seed + m``, so the members train on different rows and every
        row held out by some member scores the members that never saw it
        (``DepthSearchClassifier``'s ``n_members``).
        """
        held_out = np.zeros((n_samples, n_members), dtype=bool)
        rows = np.arange(n_samples)
        for m in range(n_members):
            split = HeldOutSplit(self.validation_fraction, self.stratify, self.seed + m)
            _, valid = split(rows, y)
            held_out[valid.indices, m] = True
        return held_out


class EarlyStopping(Callback):
    """Stop when ``valid_loss`` stops improving; restore the best module.

    Active only in training calls for which :func:`uses_early_stopping`
    holds (the estimator records it before training). Reads the estimator's
    ``n_iter_no_change``, ``tol`` and ``depth_warmup``.
    """

    def on_train_begin(self, net, **kwargs):
        self.best_loss_ = math.inf
        self.best_epoch_ = None
        self.best_state_ = None
        self.n_bad_ = 0

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        if not net._early_stopping_ or "valid_loss" not in net.history[-1]:
            return
        n_train = len(dataset_train)
        batch_size = net._iterator_kwargs(n_train, training=True)["batch_size"]
        patience = patience_epochs(net.n_iter_no_change, n_train, batch_size)
        epoch = len(net.history)
        if epoch <= warmup_epochs(net.depth_warmup, net.max_epochs):
            return  # q is still held at its initial value
        loss = net.history[-1, "valid_loss"]
        if loss < self.best_loss_ - net.tol:
            self.best_loss_, self.best_epoch_, self.n_bad_ = loss, epoch, 0
            self.best_state_ = copy.deepcopy(net.module_.state_dict())
        else:
            self.n_bad_ += 1
            if self.n_bad_ >= patience:
                raise KeyboardInterrupt  # skorch ends training, as its own does

    def on_train_end(self, net, **kwargs):
        if net._early_stopping_ and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
            self.best_state_ = None  # not kept in the fitted estimator
