# SPDX-License-Identifier: MIT
"""Visualisations of depth posteriors, decision regions and calibration.

Every class follows scikit-learn's Display pattern: ``__init__`` stores the
values to plot, ``plot`` draws them and keeps the matplotlib artists as
attributes ending in ``_``, and the ``from_estimator`` / ``from_predictions``
class methods compute the values and call ``plot``. matplotlib is imported
only inside the plotting methods, so importing this module does not need it;
install it with ``pip install "sklearn-depth[plot]"``.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import entr
from sklearn.utils import check_array, check_consistent_length, column_or_1d
from sklearn.utils.validation import check_is_fitted

from sklearn_depth.metrics import (
    _top_label_bins,
    expected_calibration_error,
)

__all__ = [
    "DecisionRegionsDisplay",
    "DepthPosteriorDisplay",
    "PosteriorHistoryDisplay",
    "ReliabilityDisplay",
]

_SUM_TOLERANCE = 1e-4  # q is recorded from float32 logits
_RESPONSES = ("proba", "entropy")


class DepthPosteriorDisplay:
    """Bar chart of the posterior over depth ``q(d)``.

    Use :meth:`from_estimator` to plot a fitted estimator's posterior; all
    parameters are stored as attributes.

    Parameters
    ----------
    posterior : array-like of shape (max_depth + 1,)
        Posterior probability of each depth ``d = 0..max_depth``.
    prior : array-like of shape (max_depth + 1,), default=None
        Prior probability of each depth, drawn as a step line over the bars.
        If None, no prior is shown.
    depth : int, default=None
        Selected depth, marked by a vertical line. If None, none is marked.
    estimator_name : str, default=None
        Name of the estimator, shown in the title. If None, no name is shown.

    Attributes
    ----------
    bars_ : matplotlib BarContainer
        One bar per depth, of height ``posterior[d]``.
    prior_line_ : matplotlib StepPatch or None
        The prior, or None if `prior` is None.
    depth_line_ : matplotlib Line2D or None
        Vertical line at `depth`, or None if `depth` is None.
    ax_ : matplotlib Axes
        Axes with the bar chart.
    figure_ : matplotlib Figure
        Figure containing the chart.

    See Also
    --------
    PosteriorHistoryDisplay : How the posterior evolved during training.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from sklearn_depth import DepthSearchClassifier, make_spirals
    >>> from sklearn_depth.plotting import DepthPosteriorDisplay
    >>> X, y = make_spirals(100, noise=0.2, random_state=0)
    >>> clf = DepthSearchClassifier(max_depth=3, max_epochs=2, random_state=0)
    >>> disp = DepthPosteriorDisplay.from_estimator(clf.fit(X, y))
    >>> len(disp.bars_)
    4
    """

    def __init__(self, posterior, *, prior=None, depth=None, estimator_name=None):
        self.posterior = posterior
        self.prior = prior
        self.depth = depth
        self.estimator_name = estimator_name

    def plot(self, *, ax=None, name=None, **kwargs):
        """Plot the posterior over depth.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        name : str, default=None
            Name shown in the title. If None, `estimator_name` is used.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.bar`.

        Returns
        -------
        display : DepthPosteriorDisplay
            Object that stores the computed values and the artists.
        """
        posterior = _check_distribution(self.posterior, "posterior")
        n_depths = posterior.shape[0]
        prior = None
        if self.prior is not None:
            prior = _check_distribution(self.prior, "prior", shape=(n_depths,))
        if self.depth is not None:
            _check_depth(self.depth, n_depths - 1)
        name = self.estimator_name if name is None else name
        ax, figure = _get_axes(type(self).__name__, ax)
        from matplotlib.ticker import MaxNLocator

        depths = np.arange(n_depths)
        self.bars_ = ax.bar(depths, posterior, **{"label": "posterior q(d)", **kwargs})
        self.prior_line_ = None
        if prior is not None:
            edges = np.arange(n_depths + 1) - 0.5  # steps as wide as the bars
            self.prior_line_ = ax.stairs(prior, edges, color="k", label="prior p(d)")
        self.depth_line_ = None
        if self.depth is not None:
            self.depth_line_ = ax.axvline(
                self.depth,
                color="C3",
                linestyle="--",
                label=f"selected depth = {int(self.depth)}",
            )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel="depth d", ylabel="probability")
        ax.set_ylim(bottom=0)
        title = "Posterior over depth"
        ax.set_title(title if name is None else f"{name}: {title.lower()}")
        ax.legend()
        self.ax_, self.figure_ = ax, figure
        return self

    @classmethod
    def from_estimator(
        cls, estimator, *, show_prior=True, name=None, ax=None, **kwargs
    ):
        """Plot the posterior over depth of a fitted depth-search estimator.

        Parameters
        ----------
        estimator : DepthSearchClassifier or DepthSearchRegressor
            Fitted estimator.
        show_prior : bool, default=True
            Whether to draw the estimator's prior over depth.
        name : str, default=None
            Name shown in the title. If None, the estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.bar`.

        Returns
        -------
        display : DepthPosteriorDisplay
            Object that stores the computed values and the artists.
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        _check_depth_estimator(estimator, "posterior_depth_")
        prior = None
        if show_prior:
            prior = estimator.prior_depth_  # the prior the model was trained with
        display = cls(
            estimator.posterior_depth_,
            prior=prior,
            depth=estimator.depth_,
            estimator_name=type(estimator).__name__ if name is None else name,
        )
        return display.plot(ax=ax, **kwargs)


class PosteriorHistoryDisplay:
    """Posterior over depth after each training epoch, as an image.

    Epochs run along the x-axis and depths along the y-axis; the colour of a
    cell is ``q(d)`` after that epoch. The expected depth ``E_q[d]`` of each
    epoch is drawn over the image. Use :meth:`from_estimator` to plot a
    fitted estimator's history; all parameters are stored as attributes.

    Parameters
    ----------
    posterior_history : array-like of shape (n_epochs, max_depth + 1)
        Posterior over depth after each epoch, rows summing to 1.

    Attributes
    ----------
    image_ : matplotlib AxesImage
        The image; its array is the transpose of `posterior_history`, of
        shape ``(max_depth + 1, n_epochs)``.
    colorbar_ : matplotlib Colorbar
        Colour bar of the probabilities.
    expected_depth_line_ : matplotlib Line2D
        Expected depth ``posterior_history @ arange(max_depth + 1)`` against
        the epoch (numbered from 1).
    ax_ : matplotlib Axes
        Axes with the image.
    figure_ : matplotlib Figure
        Figure containing the image.

    See Also
    --------
    DepthPosteriorDisplay : The final posterior as a bar chart.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from sklearn_depth import DepthSearchClassifier, make_spirals
    >>> from sklearn_depth.plotting import PosteriorHistoryDisplay
    >>> X, y = make_spirals(100, noise=0.2, random_state=0)
    >>> clf = DepthSearchClassifier(max_depth=3, max_epochs=2, random_state=0)
    >>> disp = PosteriorHistoryDisplay.from_estimator(clf.fit(X, y))
    >>> disp.image_.get_array().shape
    (4, 2)
    """

    def __init__(self, posterior_history):
        self.posterior_history = posterior_history

    def plot(self, *, ax=None, **kwargs):
        """Plot the posterior history.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.imshow`,
            e.g. ``cmap`` or ``vmax``.

        Returns
        -------
        display : PosteriorHistoryDisplay
            Object that stores the computed values and the artists.
        """
        history = check_array(
            self.posterior_history, dtype=np.float64, input_name="posterior_history"
        )
        if np.any(history < 0) or np.any(
            np.abs(history.sum(axis=1) - 1.0) > _SUM_TOLERANCE
        ):
            raise ValueError(
                "posterior_history must be non-negative with rows summing to 1."
            )
        n_epochs, n_depths = history.shape
        ax, figure = _get_axes(type(self).__name__, ax)

        image_kwargs = {
            "origin": "lower",
            "aspect": "auto",
            "interpolation": "nearest",
            "extent": (0.5, n_epochs + 0.5, -0.5, n_depths - 0.5),
            "vmin": 0.0,
            "cmap": "viridis",
            **kwargs,
        }
        self.image_ = ax.imshow(history.T, **image_kwargs)
        self.colorbar_ = figure.colorbar(self.image_, ax=ax, label="q(d)")
        epochs = np.arange(1, n_epochs + 1)
        (self.expected_depth_line_,) = ax.plot(
            epochs,
            history @ np.arange(n_depths),
            color="C3",
            marker="." if n_epochs < 30 else None,
            label="expected depth",
        )
        ax.set(xlabel="epoch", ylabel="depth d", title="Posterior over depth by epoch")
        ax.legend()
        self.ax_, self.figure_ = ax, figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **kwargs):
        """Plot how a fitted estimator's posterior over depth evolved.

        Parameters
        ----------
        estimator : DepthSearchClassifier or DepthSearchRegressor
            Fitted estimator; its ``history`` holds ``posterior_depth`` for
            every epoch.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : PosteriorHistoryDisplay
            Object that stores the computed values and the artists.
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        _check_depth_estimator(estimator, "history")
        try:
            history = np.asarray(estimator.history[:, "posterior_depth"])
        except KeyError:
            history = np.empty((0,))
        if history.ndim != 2 or history.shape[0] == 0:
            raise ValueError(
                "The estimator's history holds no posterior_depth; was it "
                "trained for at least one epoch?"
            )
        return cls(history).plot(ax=ax, **kwargs)


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

        # Pixels centred on the grid points.
        half_x0 = (xx0[0, -1] - xx0[0, 0]) / (xx0.shape[1] - 1) / 2
        half_x1 = (xx1[-1, 0] - xx1[0, 0]) / (xx1.shape[0] - 1) / 2
        image_kwargs = {
            "origin": "lower",
            "aspect": "auto",
            "interpolation": "nearest",
            "extent": (
                xx0[0, 0] - half_x0,
                xx0[0, -1] + half_x0,
                xx1[0, 0] - half_x1,
                xx1[-1, 0] + half_x1,
            ),
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
        if estimator.n_features_in_ != 2:
            raise ValueError(
                f"{cls.__name__} needs an estimator fitted on 2 features; this one "
                f"has n_features_in_={estimator.n_features_in_}."
            )
        if not _is_marginal(depth):
            if not hasattr(estimator, "predict_proba_per_depth"):
                raise TypeError(
                    f"depth={depth!r} needs an estimator with predict_proba_per_depth."
                )
            _check_depth(depth, estimator.max_depth, marginal=True)
        _check_response(response)
        if isinstance(grid_resolution, bool) or not isinstance(
            grid_resolution, numbers.Integral
        ):
            raise TypeError(f"grid_resolution must be an int; got {grid_resolution!r}.")
        if grid_resolution < 2:
            raise ValueError(f"grid_resolution must be >= 2; got {grid_resolution}.")
        if not isinstance(eps, numbers.Real) or not eps >= 0:
            raise ValueError(f"eps must be a number >= 0; got {eps!r}.")
        X_array = check_array(X, dtype=np.float64, input_name="X")
        if X_array.shape[1] != 2:
            raise ValueError(f"X must have 2 columns; got {X_array.shape[1]}.")
        low, high = X_array.min(axis=0) - eps, X_array.max(axis=0) + eps
        if np.any(high <= low):
            raise ValueError("X spans no range in a feature; use eps > 0.")
        xx0, xx1 = np.meshgrid(
            np.linspace(low[0], high[0], grid_resolution),
            np.linspace(low[1], high[1], grid_resolution),
        )
        grid = np.column_stack([xx0.ravel(), xx1.ravel()])
        if hasattr(estimator, "feature_names_in_"):
            # Predict with the column names seen in fit, as sklearn does.
            from sklearn.utils._optional_dependencies import check_pandas_support

            pd = check_pandas_support(f"{cls.__name__}.from_estimator")
            grid = pd.DataFrame(grid, columns=estimator.feature_names_in_)
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
        )
        return display.plot(ax=ax, **kwargs)


class ReliabilityDisplay:
    """Top-label reliability diagram.

    Predictions are binned by confidence (their largest probability) as in
    :func:`~sklearn_depth.metrics.expected_calibration_error`, and each
    non-empty bin's accuracy is plotted against its mean confidence; a
    calibrated model lies on the diagonal. Use :meth:`from_estimator` or
    :meth:`from_predictions` to compute the bins; all parameters are stored
    as attributes.

    Parameters
    ----------
    prob_true : ndarray of shape (n_nonempty_bins,)
        Accuracy of each bin: the fraction of its samples whose most
        probable class is the true one.
    prob_pred : ndarray of shape (n_nonempty_bins,)
        Mean confidence of each bin.
    counts : ndarray of shape (n_nonempty_bins,)
        Number of samples in each bin.
    ece : float, default=None
        Expected calibration error, shown in the legend. If None, not shown.
    estimator_name : str, default=None
        Name of the estimator, shown in the legend. If None, not shown.

    Attributes
    ----------
    line_ : matplotlib Line2D
        Accuracy against mean confidence.
    ax_ : matplotlib Axes
        Axes with the diagram.
    figure_ : matplotlib Figure
        Figure containing the diagram.

    See Also
    --------
    sklearn_depth.metrics.expected_calibration_error : The ECE of the same
        bins.
    sklearn.calibration.CalibrationDisplay : Calibration of the positive
        class of a binary problem.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from sklearn_depth.plotting import ReliabilityDisplay
    >>> y_true = [0, 0, 1, 1]
    >>> y_prob = [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.4, 0.6]]
    >>> disp = ReliabilityDisplay.from_predictions(y_true, y_prob, n_bins=4)
    >>> disp.counts.tolist(), round(disp.ece, 4)
    ([2, 2], 0.275)
    """

    def __init__(self, prob_true, prob_pred, counts, *, ece=None, estimator_name=None):
        self.prob_true = prob_true
        self.prob_pred = prob_pred
        self.counts = counts
        self.ece = ece
        self.estimator_name = estimator_name

    def plot(self, *, ax=None, name=None, ref_line=True, **kwargs):
        """Plot the reliability diagram.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        name : str, default=None
            Name shown in the legend. If None, `estimator_name` is used.
        ref_line : bool, default=True
            Whether to draw the diagonal of perfect calibration.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : ReliabilityDisplay
            Object that stores the computed values and the artists.
        """
        check_consistent_length(self.prob_true, self.prob_pred, self.counts)
        name = self.estimator_name if name is None else name
        ax, figure = _get_axes(type(self).__name__, ax)
        if ref_line:
            ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
        label = [] if name is None else [name]
        if self.ece is not None:
            label.append(f"ECE = {self.ece:.3f}")
        line_kwargs = {"marker": "s", "label": ", ".join(label) or None, **kwargs}
        (self.line_,) = ax.plot(self.prob_pred, self.prob_true, **line_kwargs)
        ax.set(
            xlabel="confidence (largest predicted probability)",
            ylabel="accuracy",
            xlim=(-0.01, 1.01),
            ylim=(-0.01, 1.01),
            aspect="equal",
        )
        if ref_line or line_kwargs["label"] is not None:
            ax.legend(loc="upper left")
        self.ax_, self.figure_ = ax, figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_prob,
        *,
        n_bins=15,
        strategy="uniform",
        labels=None,
        name=None,
        ax=None,
        **kwargs,
    ):
        """Plot the reliability diagram of predicted probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
            Predicted probabilities, as for
            :func:`~sklearn_depth.metrics.expected_calibration_error`.
        n_bins : int, default=15
            Number of bins.
        strategy : {"uniform", "quantile"}, default="uniform"
            How to bin the confidences; see
            :func:`~sklearn_depth.metrics.expected_calibration_error`.
        labels : array-like of shape (n_classes,), default=None
            The classes, in the order of the columns of `y_prob`. If None,
            the sorted unique values of `y_true`.
        name : str, default=None
            Name shown in the legend. If None, no name is shown.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : ReliabilityDisplay
            Object that stores the computed values and the artists.
        """
        _check_matplotlib_support(f"{cls.__name__}.from_predictions")
        prob_true, prob_pred, counts = _top_label_bins(
            y_true, y_prob, n_bins, strategy, labels
        )
        ece = expected_calibration_error(
            y_true, y_prob, n_bins=n_bins, strategy=strategy, labels=labels
        )
        display = cls(prob_true, prob_pred, counts, ece=ece, estimator_name=name)
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        n_bins=15,
        strategy="uniform",
        name=None,
        ax=None,
        **kwargs,
    ):
        """Plot the reliability diagram of a fitted classifier on data.

        Parameters
        ----------
        estimator : DepthSearchClassifier
            Fitted classifier with ``predict_proba``.
        X : array-like of shape (n_samples, n_features)
            Input values.
        y : array-like of shape (n_samples,)
            True labels.
        n_bins : int, default=15
            Number of bins.
        strategy : {"uniform", "quantile"}, default="uniform"
            How to bin the confidences.
        name : str, default=None
            Name shown in the legend. If None, the estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : ReliabilityDisplay
            Object that stores the computed values and the artists.
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        _check_classifier(estimator)
        return cls.from_predictions(
            y,
            estimator.predict_proba(X),
            n_bins=n_bins,
            strategy=strategy,
            labels=estimator.classes_,
            name=type(estimator).__name__ if name is None else name,
            ax=ax,
            **kwargs,
        )


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


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
    if (
        isinstance(depth, bool)
        or not isinstance(depth, numbers.Integral)
        or not 0 <= depth <= max_depth
    ):
        allowed = f"an int in 0..{max_depth}"
        allowed = f"'marginal' or {allowed}" if marginal else allowed
        raise ValueError(f"depth must be {allowed}; got {depth!r}.")


def _check_response(response):
    if not isinstance(response, str) or response not in _RESPONSES:
        raise ValueError(f"response must be one of {_RESPONSES}; got {response!r}.")


def _is_marginal(depth):
    return isinstance(depth, str) and depth == "marginal"


def _label_index(y, classes):
    """Position of each label of `y` in `classes`."""
    position = {label: k for k, label in enumerate(classes.tolist())}
    try:
        return np.array([position[label] for label in column_or_1d(y).tolist()])
    except KeyError as exc:
        raise ValueError(f"y contains a label not in the classes: {exc}.") from None
