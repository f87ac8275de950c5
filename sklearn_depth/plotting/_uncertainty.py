# SPDX-License-Identifier: MIT
"""Total, aleatoric and epistemic uncertainty of 2-feature models over a grid."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from sklearn_depth.plotting._checks import (
    _check_matplotlib_support,
    _image_extent,
    _input_grid,
)

__all__ = ["UncertaintyDisplay"]

# Per response: (title, colour bar label) of the total, aleatoric and
# epistemic panels, and the unit.
_PANELS = {
    "entropy": (
        [
            ("Total: predictive entropy", "entropy"),
            ("Aleatoric: expected entropy", "expected entropy"),
            ("Epistemic: mutual information", "mutual information"),
        ],
        " (nats)",
    ),
    "std": (
        [
            ("Total: predictive std", "std"),
            ("Aleatoric: noise std", "noise std"),
            ("Epistemic: model std", "model std"),
        ],
        "",
    ),
}


class UncertaintyDisplay:
    """Total, aleatoric and epistemic uncertainty over a grid, in three panels.

    For a classifier, the predictive entropy and its two parts
    (:meth:`~sklearn_depth.DepthSearchClassifier.predict_entropy_components`):
    the entropy every depth predicts (aleatoric) and the mutual information
    between the label and the depth (epistemic, the depths' disagreement,
    and the packed ensemble members' too when there are several), in nats,
    ``total = aleatoric + epistemic``. For a regressor, the predictive
    standard deviation and its two parts
    (:meth:`~sklearn_depth.DepthSearchRegressor.predict_std_components`):
    the learned noise scale (the same everywhere) and the standard deviation
    of the depths' (and members') predictions, ``total² = aleatoric² +
    epistemic²``. With one network (``n_members=1``) both epistemic parts
    are 0 everywhere when ``depth_`` is 0.

    The total and aleatoric panels share one colour scale (from 0 to
    ``log(n_classes)`` for entropies, to the largest total for standard
    deviations); the epistemic panel, usually much smaller, has its own.
    Use :meth:`from_estimator` to compute the grid and the values; all
    parameters are stored as attributes.

    Parameters
    ----------
    xx0, xx1 : ndarray of shape (n_grid_1, n_grid_0)
        Regular grid of the first and second feature, as from
        :func:`numpy.meshgrid`.
    total, aleatoric, epistemic : ndarray of shape (n_grid_1, n_grid_0)
        The three values at each grid point.
    response : {"entropy", "std"}, default="entropy"
        What the values are: entropies of a classifier, in nats, or standard
        deviations of a regressor, in the units of the target.
    n_classes : int, default=None
        Number of classes; with ``response="entropy"`` the total and
        aleatoric colour scales end at ``log(n_classes)``. If None, at the
        largest total.
    X : array-like of shape (n_samples, 2), default=None
        Points to draw over every panel (e.g. the training data). If None,
        none are drawn.
    estimator_name : str, default=None
        Name of the estimator, shown in the titles. If None, no name is shown.
    xlabel, ylabel : str, default=None
        Labels of the x axis (first feature) and y axis (second feature).
        If None, the axis is not labelled.

    Attributes
    ----------
    surfaces_ : list of matplotlib AxesImage
        The total, aleatoric and epistemic images.
    colorbars_ : list of matplotlib Colorbar
        Their colour bars.
    scatters_ : list of matplotlib PathCollection or None
        The points of `X` on each panel, or None if `X` is None.
    axes_ : ndarray of matplotlib Axes of shape (3,)
        The total, aleatoric and epistemic panels.
    figure_ : matplotlib Figure
        Figure containing the panels.

    See Also
    --------
    DecisionRegionsDisplay : The predictions, or the total entropy alone.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from sklearn_depth import DepthSearchClassifier, make_spirals
    >>> from sklearn_depth.plotting import UncertaintyDisplay
    >>> X, y = make_spirals(100, noise=0.2, random_state=0)
    >>> clf = DepthSearchClassifier(max_depth=3, max_epochs=2, random_state=0)
    >>> disp = UncertaintyDisplay.from_estimator(clf.fit(X, y), X, grid_resolution=50)
    >>> disp.surfaces_[2].get_array().shape, disp.axes_[2].get_title()
    ((50, 50), 'Epistemic: mutual information')
    """

    def __init__(
        self,
        xx0,
        xx1,
        total,
        aleatoric,
        epistemic,
        *,
        response="entropy",
        n_classes=None,
        X=None,
        estimator_name=None,
        xlabel=None,
        ylabel=None,
    ):
        self.xx0 = xx0
        self.xx1 = xx1
        self.total = total
        self.aleatoric = aleatoric
        self.epistemic = epistemic
        self.response = response
        self.n_classes = n_classes
        self.X = X
        self.estimator_name = estimator_name
        self.xlabel = xlabel
        self.ylabel = ylabel

    def plot(self, *, axes=None, **kwargs):
        """Plot the three panels.

        Parameters
        ----------
        axes : array-like of 3 matplotlib Axes, default=None
            Axes of the total, aleatoric and epistemic panels. If None, a
            new figure with three axes side by side is created.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.imshow`
            of every panel, e.g. ``cmap``.

        Returns
        -------
        display : UncertaintyDisplay
            Object that stores the computed values and the artists.
        """
        if not isinstance(self.response, str) or self.response not in _PANELS:
            raise ValueError(
                f"response must be one of {tuple(_PANELS)}; got {self.response!r}."
            )
        xx0, xx1 = np.asarray(self.xx0, float), np.asarray(self.xx1, float)
        values = [
            np.asarray(v, dtype=np.float64)
            for v in (self.total, self.aleatoric, self.epistemic)
        ]
        if (
            xx0.ndim != 2
            or min(xx0.shape) < 2
            or xx1.shape != xx0.shape
            or any(v.shape != xx0.shape for v in values)
        ):
            raise ValueError(
                "xx0, xx1, total, aleatoric and epistemic must be grids of one "
                "shape with at least 2 points per axis; got shapes "
                f"{[a.shape for a in (xx0, xx1, *values)]}."
            )
        if any(np.any(v < 0) for v in values):
            raise ValueError("total, aleatoric and epistemic must be non-negative.")
        X = None if self.X is None else check_array(self.X, input_name="X")
        if X is not None and X.shape[1] != 2:
            raise ValueError(f"X must have 2 columns; got {X.shape[1]}.")
        _check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if axes is None:
            figure, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
        axes = np.asarray(axes, dtype=object).ravel()
        if axes.shape != (3,):
            raise ValueError(f"axes must hold 3 Axes; got {axes.shape[0]}.")
        figure = axes[0].figure

        panels, unit = _PANELS[self.response]
        top = float(values[0].max())
        if self.response == "entropy" and self.n_classes is not None:
            top = float(np.log(self.n_classes))
        scales = [top, top, float(values[2].max())]
        image_kwargs = {
            "origin": "lower",
            "aspect": "auto",
            "interpolation": "nearest",
            "extent": _image_extent(xx0, xx1),
            "cmap": "viridis",
        }
        name = "" if self.estimator_name is None else f"{self.estimator_name}: "
        self.surfaces_, self.colorbars_ = [], []
        self.scatters_ = None if X is None else []
        for ax, value, vmax, (title, label) in zip(
            axes, values, scales, panels, strict=True
        ):
            # A flat panel (a single depth, a constant noise) still gets a range.
            vmax = vmax if vmax > 0 else 1.0
            surface = ax.imshow(
                value, **{**image_kwargs, "vmin": 0.0, "vmax": vmax, **kwargs}
            )
            self.surfaces_.append(surface)
            self.colorbars_.append(figure.colorbar(surface, ax=ax, label=label + unit))
            if X is not None:
                self.scatters_.append(
                    ax.scatter(
                        X[:, 0], X[:, 1], s=6, c="w", edgecolors="k", linewidths=0.3
                    )
                )
            ax.set_title(f"{name}{title}")
            if self.xlabel is not None:
                ax.set_xlabel(self.xlabel)
            if self.ylabel is not None:
                ax.set_ylabel(self.ylabel)
        self.axes_, self.figure_ = axes, figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        show_data=True,
        grid_resolution=200,
        eps=0.5,
        name=None,
        axes=None,
        **kwargs,
    ):
        """Plot the uncertainty split of a fitted estimator of two features.

        Parameters
        ----------
        estimator : DepthSearchClassifier or DepthSearchRegressor
            Fitted estimator with ``n_features_in_ == 2``; a regressor must
            have one output.
        X : array-like of shape (n_samples, 2)
            Data whose range (padded by `eps`) the grid covers.
        show_data : bool, default=True
            Whether to draw the points of `X` over every panel.
        grid_resolution : int, default=200
            Number of grid points along each axis.
        eps : float, default=0.5
            Padding added on every side of the range of `X`.
        name : str, default=None
            Name shown in the titles. If None, no name is shown.
        axes : array-like of 3 matplotlib Axes, default=None
            Axes of the total, aleatoric and epistemic panels. If None, a
            new figure with three axes side by side is created.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : UncertaintyDisplay
            Object that stores the computed values and the artists.
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        caller = f"{cls.__name__}.from_estimator"
        if hasattr(estimator, "predict_entropy_components"):
            response = "entropy"
        elif hasattr(estimator, "predict_std_components"):
            response = "std"
        else:
            raise TypeError(
                "Expected a fitted DepthSearchClassifier or DepthSearchRegressor; "
                f"{type(estimator).__name__} has neither "
                "predict_entropy_components nor predict_std_components."
            )
        X_array, xx0, xx1, grid, xlabel, ylabel = _input_grid(
            caller, estimator, X, grid_resolution, eps
        )
        if response == "entropy":
            aleatoric, epistemic = estimator.predict_entropy_components(grid)
            total = aleatoric + epistemic
            n_classes = len(estimator.classes_)
        else:
            aleatoric, epistemic = estimator.predict_std_components(grid)
            if aleatoric.ndim != 1:
                raise ValueError(
                    f"{caller} plots a regressor of one output; this one has "
                    f"{aleatoric.shape[1]}."
                )
            total = np.sqrt(aleatoric**2 + epistemic**2)
            n_classes = None
        display = cls(
            xx0,
            xx1,
            total.reshape(xx0.shape),
            aleatoric.reshape(xx0.shape),
            epistemic.reshape(xx0.shape),
            response=response,
            n_classes=n_classes,
            X=X_array if show_data else None,
            estimator_name=name,
            xlabel=xlabel,
            ylabel=ylabel,
        )
        return display.plot(axes=axes, **kwargs)
