# SPDX-License-Identifier: MIT
"""Input checks and matplotlib helpers shared by the Displays."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.validation import check_is_fitted

from sklearn_depth._params import check_number

_SUM_TOLERANCE = 1e-4  # q is recorded from float32 logits
_RESPONSES = ("proba", "entropy")


def _check_matplotlib_support(caller_name):
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib. Install it with "
            '`pip install "sklearn-depth[plot]"`.'
        ) from exc


def _get_axes(caller_name, ax):
    _check_matplotlib_support(f"{caller_name}.plot")
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax, ax.figure


def _check_depth_estimator(estimator, attribute):
    check_is_fitted(estimator)
    if not hasattr(estimator, attribute):
        raise TypeError(
            "Expected a fitted DepthSearchClassifier or DepthSearchRegressor; "
            f"{type(estimator).__name__} has no {attribute}."
        )


def _check_classifier(estimator):
    check_is_fitted(estimator)
    if not (hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_")):
        raise TypeError(
            "Expected a fitted classifier with predict_proba, such as "
            f"DepthSearchClassifier; got {type(estimator).__name__}."
        )


def _check_distribution(values, name, shape=None):
    values = check_array(values, ensure_2d=False, dtype=np.float64, input_name=name)
    if values.ndim != 1 or (shape is not None and values.shape != shape):
        expected = "1-d" if shape is None else f"of shape {shape}"
        raise ValueError(f"{name} must be {expected}; got shape {values.shape}.")
    if np.any(values < 0):
        raise ValueError(f"{name} must be non-negative.")
    return values


def _check_depth(depth, max_depth, *, marginal=False):
    try:
        check_number(depth, "depth", integral=True, min_val=0, max_val=max_depth)
    except (TypeError, ValueError):
        allowed = f"an int in 0..{max_depth}"
        allowed = f"'marginal' or {allowed}" if marginal else allowed
        raise ValueError(f"depth must be {allowed}; got {depth!r}.") from None


def _check_response(response):
    if not isinstance(response, str) or response not in _RESPONSES:
        raise ValueError(f"response must be one of {_RESPONSES}; got {response!r}.")


def _is_marginal(depth):
    return isinstance(depth, str) and depth == "marginal"


def _input_grid(caller_name, estimator, X, grid_resolution, eps):
    """A regular grid over the range of `X`, padded by `eps`, for 2-feature models.

    Returns ``(X, xx0, xx1, grid, xlabel, ylabel)``: `X` checked as float64,
    the grid's coordinates as from :func:`numpy.meshgrid`, its points as
    the estimator takes them (a DataFrame with the fitted column names when
    it has ``feature_names_in_``) and the axis labels.
    """
    if estimator.n_features_in_ != 2:
        raise ValueError(
            f"{caller_name} needs an estimator fitted on 2 features; this one "
            f"has n_features_in_={estimator.n_features_in_}."
        )
    check_number(grid_resolution, "grid_resolution", integral=True, min_val=2)
    check_number(eps, "eps", min_val=0)
    X = check_array(X, dtype=np.float64, input_name="X")
    if X.shape[1] != 2:
        raise ValueError(f"X must have 2 columns; got {X.shape[1]}.")
    low, high = X.min(axis=0) - eps, X.max(axis=0) + eps
    if np.any(high <= low):
        raise ValueError("X spans no range in a feature; use eps > 0.")
    xx0, xx1 = np.meshgrid(
        np.linspace(low[0], high[0], grid_resolution),
        np.linspace(low[1], high[1], grid_resolution),
    )
    grid = np.column_stack([xx0.ravel(), xx1.ravel()])
    if hasattr(estimator, "feature_names_in_"):
        # Predict with the column names seen in fit, as sklearn does.
        # (A private scikit-learn helper: no public equivalent exists.)
        from sklearn.utils._optional_dependencies import check_pandas_support

        pd = check_pandas_support(caller_name)
        grid = pd.DataFrame(grid, columns=estimator.feature_names_in_)
        xlabel, ylabel = (str(c) for c in estimator.feature_names_in_)
    else:
        xlabel, ylabel = "feature 0", "feature 1"
    return X, xx0, xx1, grid, xlabel, ylabel


def _image_extent(xx0, xx1):
    """``imshow``'s extent that centres a pixel on every grid point."""
    half_x0 = (xx0[0, -1] - xx0[0, 0]) / (xx0.shape[1] - 1) / 2
    half_x1 = (xx1[-1, 0] - xx1[0, 0]) / (xx1.shape[0] - 1) / 2
    return (
        xx0[0, 0] - half_x0,
        xx0[0, -1] + half_x0,
        xx1[0, 0] - half_x1,
        xx1[-1, 0] + half_x1,
    )


def _label_index(y, classes):
    """Position of each label of `y` in `classes`."""
    position = {label: k for k, label in enumerate(classes.tolist())}
    try:
        return np.array([position[label] for label in column_or_1d(y).tolist()])
    except KeyError as exc:
        raise ValueError(f"y contains a label not in the classes: {exc}.") from None
