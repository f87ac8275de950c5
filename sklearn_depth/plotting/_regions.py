# SPDX-License-Identifier: MIT
"""Decision regions and predictive entropy of 2-feature classifiers."""

from __future__ import annotations

import numpy as np
from scipy.special import entr
from sklearn.utils import check_array, check_consistent_length, column_or_1d

from sklearn_depth.plotting._checks import (
    _check_classifier,
    _check_depth,
    _check_matplotlib_support,
    _check_response,
    _get_axes,
    _image_extent,
    _input_grid,
    _is_marginal,
    _label_index,
)

__all__ = ["DecisionRegionsDisplay"]


class DecisionRegionsDisplay:
    """Predictions of a classifier of two features over a grid.

    Use :meth:`from_estimator` to compute the grid and the predictions; all
    parameters are stored as attributes.

    Parameters
    ----------
    xx0, xx1 : ndarray of shape (n_grid_1, n_grid_0)
        Regular grid of the first and second feature, as from
        :func:`numpy.meshgrid`.
    proba : ndarray of shape (n_grid_1, n_grid_0, n_classes)
        Predicted class probabilities at each grid point.
    response : {"proba", "entropy"}, default="proba"
        What to show.

        - "proba": for two classes, the probability of ``classes[1]``; for
          more, the most probable class by colour, faded where the largest
          probability is low.
        - "entropy": the predictive entropy, in nats.
    depth : "marginal" or int, default="marginal"
        The depth the predictions come from, shown in the title:
        ``"marginal"`` for the marginal over the pruned posterior ``q'``.
    classes : array-like of shape (n_classes,), default=None
        Class labels of the columns of `proba`. If None, ``0..n_classes-1``.
    X : array-like of shape (n_samples, 2), default=None
        Points to scatter over the regions, coloured by `y`.
    y : array-like of shape (n_samples,), default=None
        Labels of `X`, from `classes`. If None, no points are drawn.
    estimator_name : str, default=None
        Name of the estimator, shown in the title. If None, no name is shown.
    xlabel, ylabel : str, default=None
        Labels of the x axis (first feature) and y axis (second feature).
        If None, the axis is not labelled.

    Attributes
    ----------
    surface_ : matplotlib AxesImage
        The regions: an image of the grid values (for multi-class "proba",
        an RGBA image of shape ``(n_grid_1, n_grid_0, 4)``).
    colorbar_ : matplotlib Colorbar or None
        Colour bar, or None for multi-class "proba" (a legend names the
        class colours instead).
    scatter_ : matplotlib PathCollection or None
        The points of `X`, or None if `y` is None.
    ax_ : matplotlib Axes
        Axes with the regions.
    figure_ : matplotlib Figure
        Figure containing the regions.

    See Also
    --------
    sklearn.inspection.DecisionBoundaryDisplay : Decision boundaries of any
        estimator.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from sklearn_depth import DepthSearchClassifier, make_spirals
    >>> from sklearn_depth.plotting import DecisionRegionsDisplay
    >>> X, y = make_spirals(100, noise=0.2, random_state=0)
    >>> clf = DepthSearchClassifier(max_depth=3, max_epochs=2, random_state=0)
    >>> disp = DecisionRegionsDisplay.from_estimator(
    ...     clf.fit(X, y), X, y, depth=1, grid_resolution=50
    ... )
    >>> disp.surface_.get_array().shape, disp.ax_.get_title()
    ((50, 50), 'P(y = 1), depth 1')
    """

    def __init__(
        self,
        xx0,
        xx1,
        proba,
        *,
        response="proba",
        depth="marginal",
        classes=None,
        X=None,
        y=None,
        estimator_name=None,
        xlabel=None,
        ylabel=None,
    ):
        self.xx0 = xx0
        self.xx1 = xx1
        self.proba = proba
        self.response = response
        self.depth = depth
        self.classes = classes
        self.X = X
        self.y = y
        self.estimator_name = estimator_name
        self.xlabel = xlabel
        self.ylabel = ylabel

    def plot(self, *, ax=None, **kwargs):
        """Plot the decision regions.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : DecisionRegionsDisplay
            Object that stores the computed values and the artists.
        """
        _check_response(self.response)
        xx0, xx1 = np.asarray(self.xx0, float), np.asarray(self.xx1, float)
        proba = np.asarray(self.proba, dtype=np.float64)
        if (
            xx0.ndim != 2
            or min(xx0.shape) < 2
            or xx1.shape != xx0.shape
            or proba.shape[:2] != xx0.shape
            or proba.ndim != 3
            or proba.shape[2] < 2
        ):
            raise ValueError(
                "xx0 and xx1 must be grids of one shape with at least 2 points per "
                "axis, and proba of shape grid + (n_classes,) with n_classes >= 2; "
                f"got shapes {xx0.shape}, {xx1.shape} and {proba.shape}."
            )
        n_classes = proba.shape[2]
        classes = np.arange(n_classes) if self.classes is None else self.classes
        classes = column_or_1d(classes)
        if classes.shape[0] != n_classes:
            raise ValueError(f"classes must hold {n_classes} labels; got {classes}.")
        ax, figure = _get_axes(type(self).__name__, ax)
        from matplotlib.colors import to_rgba_array
        from matplotlib.patches import Patch

        image_kwargs = {
            "origin": "lower",
            "aspect": "auto",
            "interpolation": "nearest",
            "extent": _image_extent(xx0, xx1),  # pixels centred on the points
        }
        class_colors = to_rgba_array([f"C{k % 10}" for k in range(n_classes)])
        binary_proba = self.response == "proba" and n_classes == 2
        if binary_proba:
            label, values = f"P(y = {classes[1]})", proba[:, :, 1]
            image_kwargs.update(cmap="RdBu_r", vmin=0.0, vmax=1.0)
        elif self.response == "proba":
            # The class colour, fading from opaque at certainty to nearly
            # transparent at a uniform prediction.
            label, values = "Most probable class", class_colors[proba.argmax(axis=2)]
            fade = (proba.max(axis=2) - 1 / n_classes) / (1 - 1 / n_classes)
            values[..., 3] = 0.15 + 0.85 * np.clip(fade, 0.0, 1.0)
        else:
            label, values = "Predictive entropy", entr(proba).sum(axis=2)
            image_kwargs.update(cmap="viridis", vmin=0.0, vmax=np.log(n_classes))
        self.surface_ = ax.imshow(values, **{**image_kwargs, **kwargs})
        self.colorbar_ = None
        if values.ndim == 2:
            unit = " (nats)" if self.response == "entropy" else ""
            self.colorbar_ = figure.colorbar(self.surface_, ax=ax, label=label + unit)

        self.scatter_ = None
        if self.y is not None:
            X = check_array(self.X, input_name="X")
            y_index = _label_index(self.y, classes)
            check_consistent_length(X, y_index)
            if binary_proba:  # the colours of the extremes of the surface
                colors = {"c": y_index, "cmap": "RdBu_r", "vmin": 0, "vmax": 1}
            else:
                colors = {"c": class_colors[y_index]}
            self.scatter_ = ax.scatter(
                X[:, 0], X[:, 1], s=20, edgecolors="k", linewidths=0.5, **colors
            )
        if not binary_proba and (self.response == "proba" or self.y is not None):
            handles = [
                Patch(color=rgba, label=str(c))
                for rgba, c in zip(class_colors, classes, strict=True)
            ]
            ax.legend(handles=handles, title="class")
        which = (
            "marginal over q'" if _is_marginal(self.depth) else f"depth {self.depth}"
        )
        name = "" if self.estimator_name is None else f"{self.estimator_name}: "
        ax.set_title(f"{name}{label}, {which}")
        if self.xlabel is not None:
            ax.set_xlabel(self.xlabel)
        if self.ylabel is not None:
            ax.set_ylabel(self.ylabel)
        self.ax_, self.figure_ = ax, figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        depth="marginal",
        response="proba",
        grid_resolution=200,
        eps=0.5,
        name=None,
        ax=None,
        **kwargs,
    ):
        """Plot the decision regions of a fitted classifier of two features.

        Parameters
        ----------
        estimator : DepthSearchClassifier
            Fitted classifier with ``n_features_in_ == 2``.
        X : array-like of shape (n_samples, 2)
            Data whose range (padded by `eps`) the grid covers.
        y : array-like of shape (n_samples,), default=None
            Labels of `X`. If given, `X` is scattered, coloured by `y`.
        depth : "marginal" or int, default="marginal"
            ``"marginal"`` shows ``predict_proba``, the marginal over the
            pruned posterior ``q'``; an int ``d`` in ``0..max_depth`` shows
            the predictions of depth ``d`` alone
            (``predict_proba_per_depth``).
        response : {"proba", "entropy"}, default="proba"
            See :class:`DecisionRegionsDisplay`.
        grid_resolution : int, default=200
            Number of grid points along each axis.
        eps : float, default=0.5
            Padding added on every side of the range of `X`.
        name : str, default=None
            Name shown in the title. If None, no name is shown.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : DecisionRegionsDisplay
            Object that stores the computed values and the artists.
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        _check_classifier(estimator)
        if not _is_marginal(depth):
            if not hasattr(estimator, "predict_proba_per_depth"):
                raise TypeError(
                    f"depth={depth!r} needs an estimator with predict_proba_per_depth."
                )
            # A growing network has outputs for the depths it grew only.
            posterior = getattr(estimator, "posterior_depth_", None)
            deepest = estimator.max_depth if posterior is None else len(posterior) - 1
            _check_depth(depth, deepest, marginal=True)
        _check_response(response)
        X_array, xx0, xx1, grid, xlabel, ylabel = _input_grid(
            f"{cls.__name__}.from_estimator", estimator, X, grid_resolution, eps
        )
        if _is_marginal(depth):
            proba = estimator.predict_proba(grid)
        else:
            proba = estimator.predict_proba_per_depth(grid)[:, depth]
        display = cls(
            xx0,
            xx1,
            proba.reshape(*xx0.shape, -1),
            response=response,
            depth=depth,
            classes=estimator.classes_,
            X=X_array,
            y=y,
            estimator_name=name,
            xlabel=xlabel,
            ylabel=ylabel,
        )
        return display.plot(ax=ax, **kwargs)
