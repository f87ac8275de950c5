# SPDX-License-Identifier: MIT
"""Growth of depth while training (``grow=True``): ``max_depth`` as a ceiling.

The network starts with ``initial_depth`` blocks and adds one whenever the
evidence says the data wants more: after an epoch, the deepest block's
predictions are compared with every shallower depth's, on the held-out rows
of early stopping (or, without them, on the epoch's training batches). When
the deepest depth has the lowest negative log-likelihood, by a margin, the
next block is added as the identity (:meth:`DepthBackbone.grow`), so no
prediction changes at that moment; it then trains like the others.

The rule reads likelihoods, not ``q``'s mass on the last block: ``q`` is
held at its prior during the warm-up and stays flat over depths the data
cannot tell apart, so a rule on its tail would grow to the ceiling every
time. Depths that are no better than shallower ones stop the growth; it
resumes if later training makes the deepest block the best again.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.callbacks import Callback

__all__ = ["DepthGrowth", "DepthNLL", "should_grow"]


def should_grow(nll, allowed, tol: float) -> bool:
    """Whether the deepest allowed depth beats every shallower one.

    Parameters
    ----------
    nll : ndarray of shape (n_depths,)
        Mean negative log-likelihood of each grown depth.
    allowed : ndarray of bool, shape (n_depths,)
        Depths the prior allows.
    tol : float
        Relative margin: the deepest depth's NLL must be below the best
        shallower one's by ``tol`` times its magnitude (a regression's NLL
        may be negative).

    Examples
    --------
    >>> import numpy as np
    >>> should_grow(np.array([0.7, 0.5, 0.4]), np.ones(3, bool), tol=0.05)
    True
    >>> should_grow(np.array([0.7, 0.4, 0.39]), np.ones(3, bool), tol=0.05)
    False
    >>> should_grow(np.array([-1.0, -2.0, -1.99]), np.ones(3, bool), tol=0.01)
    False
    """
    depths = np.flatnonzero(allowed)
    if depths.size < 2 or not np.all(np.isfinite(nll[depths])):
        return False
    deepest, shallower = nll[depths[-1]], nll[depths[:-1]].min()
    return bool(deepest < shallower - tol * abs(shallower))


class DepthNLL:
    """Per-depth negative log-likelihood of one epoch, training and held-out apart.

    The estimators' ``get_loss`` adds every batch (:meth:`add`) while the
    network grows; :class:`DepthGrowth` reads the means at the epoch's end.
    """

    def __init__(self):
        self.reset()

    def reset(self):
        """Forget the batches seen so far."""
        self.sums = {}
        self.weights = {}

    @torch.no_grad()
    def add(self, criterion, y_pred, y_true, sample_weight, training, **params):
        """Add a batch: ``y_pred`` of shape ``(B, n_depths, n_outputs)``."""
        nll = -criterion.mixture_log_likelihood(y_pred, y_true, **params).double()
        if sample_weight is None:
            weight = torch.ones(len(nll), dtype=nll.dtype, device=nll.device)
        else:
            weight = sample_weight.to(nll.dtype)
        key = "train" if training else "valid"
        total = (weight[:, None] * nll).sum(0).cpu()
        if key in self.sums and self.sums[key].shape == total.shape:
            self.sums[key] += total
            self.weights[key] += float(weight.sum())
        else:
            self.sums[key], self.weights[key] = total, float(weight.sum())

    def mean(self):
        """Mean NLL per depth over the held-out batches, else the training ones."""
        for key in ("valid", "train"):
            if self.weights.get(key, 0.0) > 0:
                return (self.sums[key] / self.weights[key]).numpy()
        return None


class DepthGrowth(Callback):
    """Add a block when the deepest one predicts best (estimator's ``grow=True``).

    After every epoch, with ``k`` blocks grown and fewer than ``max_depth``,
    the mean NLL of every depth ``0..k`` on the epoch's held-out rows (or
    its training batches when none are held out) is compared: if depth
    ``k`` beats the best shallower depth by the relative margin ``tol``,
    block ``k + 1`` is added as the identity. Records in every row of
    ``history`` the blocks the epoch trained (``grown_depth``), and
    ``depth_grown=True`` in the rows of the epochs after which a block was
    added. Early stopping saves the module before this callback runs, so a
    restored epoch ``e`` has ``history[e - 1, "grown_depth"]`` blocks.

    Parameters
    ----------
    tol : float, default=0.01
        Relative margin of :func:`should_grow`.
    """

    def __init__(self, tol=0.01):
        self.tol = tol

    def on_train_begin(self, net, **kwargs):
        net._depth_nll = DepthNLL() if net.grow else None

    def on_epoch_begin(self, net, **kwargs):
        if net._depth_nll is not None:
            net._depth_nll.reset()
            net.history.record("grown_depth", net._grown_blocks())

    def on_epoch_end(self, net, **kwargs):
        if not net.grow:
            return
        module = net._core_module()
        nll = net._depth_nll.mean()
        k = net._grown_blocks()
        if k < net.max_depth and nll is not None and len(nll) == k + 1:
            allowed = np.isfinite(module.log_prior[: k + 1].detach().cpu().numpy())
            if should_grow(nll, allowed, self.tol):
                module.grow(net._log_prior)
                net.history.record("depth_grown", True)

    def on_train_end(self, net, **kwargs):
        net.__dict__.pop("_depth_nll", None)
