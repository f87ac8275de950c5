# SPDX-License-Identifier: MIT
"""Exceptions and warnings of sklearn-depth (as :mod:`sklearn.exceptions`)."""

from __future__ import annotations

__all__ = ["DivergenceError", "UninformedPosteriorWarning"]


class DivergenceError(ValueError):
    """Training diverged: the loss became infinite or NaN.

    Raised by ``fit`` and ``partial_fit`` at the end of the epoch in which
    the loss stopped being finite. The estimator is then left unfitted (its
    fitted attributes removed, the network re-initialised by the next
    ``fit``), never with NaN weights that predict NaN. A subclass of
    ``ValueError``, as it is in the end a problem of the settings or the
    data: a smaller ``lr`` or ``depth_lr``, or standardised features and
    targets, usually cure it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_depth import DepthSearchClassifier
    >>> from sklearn_depth.exceptions import DivergenceError
    >>> X = np.random.RandomState(0).randn(40, 3)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = DepthSearchClassifier(max_depth=2, lr=1e6, max_epochs=20)
    >>> try:
    ...     clf.fit(X, y)
    ... except DivergenceError:
    ...     print("diverged")
    diverged
    >>> hasattr(clf, "depth_")
    False
    """


class UninformedPosteriorWarning(UserWarning):
    """The posterior over depth never moved from its initial value.

    Issued at the end of training when ``q(d)`` still equals the prior over
    the depths the network has (its initial value), for instance when every
    epoch was part of the warm-up (``depth_warmup``), when ``depth_lr=0`` or
    ``max_epochs=0``, or when training was interrupted early. The data then
    said nothing about depth, so no block is pruned: ``depth_`` is the
    deepest depth the prior allows, and predictions average over all of
    them.
    """
