# SPDX-License-Identifier: MIT
"""What both estimators predict, compared the same way by several test files."""

from numpy.testing import assert_allclose, assert_array_equal

from sklearn_depth import DepthSearchClassifier


def predictions(est, X):
    """Class probabilities ``(proba,)``, or ``(mean, std)`` for the regressor."""
    if isinstance(est, DepthSearchClassifier):
        return (est.predict_proba(X),)
    return est.predict(X, return_std=True)


def assert_same_predictions(a, b, X, **tol):
    """Equal predictions of two fitted estimators (to ``tol`` if given)."""
    for got, want in zip(predictions(a, X), predictions(b, X), strict=True):
        if tol:
            assert_allclose(got, want, **tol)
        else:
            assert_array_equal(got, want)
