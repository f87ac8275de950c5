# SPDX-License-Identifier: MIT
"""Displays of the posterior over depth: after training and by epoch."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array

from sklearn_depth.plotting._checks import (
    _SUM_TOLERANCE,
    _check_depth,
    _check_depth_estimator,
    _check_distribution,
    _check_matplotlib_support,
    _get_axes,
)

__all__ = ["DepthPosteriorDisplay", "PosteriorHistoryDisplay"]


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
    grown_depth : array-like of shape (n_epochs,), default=None
        Blocks of a growing network (``grow=True``) in each epoch, drawn as
        a step line; None draws none.

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
    grown_depth_line_ : matplotlib Line2D or None
        The blocks grown by epoch, if ``grown_depth`` was given.
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

    def __init__(self, posterior_history, *, grown_depth=None):
        self.posterior_history = posterior_history
        self.grown_depth = grown_depth

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
        self.grown_depth_line_ = None
        if self.grown_depth is not None:
            grown = np.asarray(self.grown_depth, dtype=np.float64)
            if grown.shape != (n_epochs,):
                raise ValueError(
                    f"grown_depth must have one entry per epoch ({n_epochs}); "
                    f"got shape {grown.shape}."
                )
            (self.grown_depth_line_,) = ax.step(
                epochs, grown, where="mid", color="w", label="blocks grown"
            )
        ax.set(xlabel="epoch", ylabel="depth d", title="Posterior over depth by epoch")
        ax.legend()
        self.ax_, self.figure_ = ax, figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **kwargs):
        """Plot how a fitted estimator's posterior over depth evolved.

        For a growing network (``grow=True``) the epochs before a depth was
        grown show ``q = 0`` there, and the blocks grown are drawn as a
        step line.

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
            rows = estimator.history[:, "posterior_depth"]
        except KeyError:
            rows = []
        if not len(rows):
            raise ValueError(
                "The estimator's history holds no posterior_depth; was it "
                "trained for at least one epoch?"
            )
        # A growing network's rows lengthen as blocks are added: the depths
        # not grown yet have q = 0.
        history = np.zeros((len(rows), max(len(row) for row in rows)))
        for epoch, row in enumerate(rows):
            history[epoch, : len(row)] = row
        grown = None
        if getattr(estimator, "grow", False):
            grown = [r.get("grown_depth", np.nan) for r in estimator.history]
        return cls(history, grown_depth=grown).plot(ax=ax, **kwargs)
