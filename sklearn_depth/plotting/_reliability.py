# SPDX-License-Identifier: MIT
"""Top-label reliability diagram."""

from __future__ import annotations

from sklearn.utils import check_consistent_length

from sklearn_depth.metrics import (
    _top_label_bins,
    expected_calibration_error,
)
from sklearn_depth.plotting._checks import (
    _check_classifier,
    _check_matplotlib_support,
    _get_axes,
)

__all__ = ["ReliabilityDisplay"]


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
