# SPDX-License-Identifier: MIT
"""Scores for probabilistic predictions: likelihoods, Brier score, calibration.

Regression metrics take Gaussian predictions (a mean and a standard deviation
per target) or Gaussian mixtures (one component per depth, say); classification
metrics take class probabilities as returned by ``predict_proba``. All of them
work on numpy arrays (with scipy's ``logsumexp`` and normal CDF and sklearn's
input validation; no torch) and return a Python ``float``; lower is better.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, ndtr
from sklearn.utils import check_array, check_consistent_length, column_or_1d

from sklearn_depth._params import check_number

__all__ = [
    "brier_score",
    "categorical_nll",
    "expected_calibration_error",
    "gaussian_mixture_nll",
    "gaussian_nll",
    "regression_calibration_error",
]

_LOG_2PI = float(np.log(2.0 * np.pi))
_SUM_TOLERANCE = 1e-6
_ECE_STRATEGIES = ("uniform", "quantile")


# --------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------


def gaussian_nll(y_true, y_pred, y_std) -> float:
    """Mean negative log-likelihood of independent Gaussian predictions.

    Each target is scored under ``N(y_pred, y_std ** 2)``. With several
    outputs, the per-sample loss is the sum over outputs (the joint negative
    log-likelihood of independent outputs), then averaged over samples. Given
    the total standard deviation of a mixture, this is the moment-matched
    negative log-likelihood.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed targets.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Predicted means, with the same shape as `y_true`.
    y_std : float or array-like
        Predicted standard deviations, all > 0. A scalar, an array of shape
        (n_outputs,) or an array of the shape of `y_true`: anything that
        broadcasts to it.

    Returns
    -------
    loss : float
        The mean negative log-likelihood, in nats.

    See Also
    --------
    gaussian_mixture_nll : The same for a mixture of Gaussians.

    Examples
    --------
    >>> from sklearn_depth.metrics import gaussian_nll
    >>> round(gaussian_nll([0.0, 1.0], [0.0, 0.0], 1.0), 4)
    1.1689
    """
    y_true, y_pred, y_std = _check_gaussian(y_true, y_pred, y_std)
    z = (y_true - y_pred) / y_std
    per_value = 0.5 * (_LOG_2PI + z**2) + np.log(y_std)
    per_sample = per_value.sum(axis=1) if per_value.ndim == 2 else per_value
    return float(np.mean(per_sample))


def gaussian_mixture_nll(y_true, means, stds, weights) -> float:
    """Mean negative log-likelihood of a mixture of Gaussians.

    For sample ``n`` the loss is ``-log sum_k weights[k] * prod_o
    N(y_true[n, o] | means[n, k, o], stds[n, k, o] ** 2)``: the outputs are
    independent given the component. It is computed in log space, so that
    far-away targets and zero weights are handled without overflow or
    warnings; a component of weight zero does not contribute.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed targets; 2-d exactly when `means` is 3-d.
    means : array-like of shape (n_samples, n_components) or \
            (n_samples, n_components, n_outputs)
        Mean of every component for every sample.
    stds : float or array-like
        Standard deviations, all > 0, broadcastable to the shape of `means`:
        a scalar, an array of shape (n_outputs,) (or (n_components,) when
        `means` is 2-d), (n_components, n_outputs) or the shape of `means`.
    weights : array-like of shape (n_components,)
        Mixture weights, non-negative and summing to 1.

    Returns
    -------
    loss : float
        The mean negative log-likelihood, in nats.

    See Also
    --------
    gaussian_nll : The same for a single Gaussian.

    Examples
    --------
    >>> from sklearn_depth.metrics import gaussian_mixture_nll
    >>> means = [[-1.0, 1.0], [-1.0, 1.0]]
    >>> round(gaussian_mixture_nll([0.0, 1.0], means, 1.0, [0.5, 0.5]), 4)
    1.452
    """
    means = check_array(
        means, ensure_2d=True, allow_nd=True, dtype=np.float64, input_name="means"
    )
    if means.ndim not in (2, 3):
        raise ValueError(
            "means must have shape (n_samples, n_components) or (n_samples, "
            f"n_components, n_outputs); got shape {means.shape}."
        )
    y_true = check_array(y_true, ensure_2d=False, dtype=np.float64, input_name="y_true")
    check_consistent_length(y_true, means)
    expected = means.shape[:1] + means.shape[2:]
    if y_true.shape != expected:
        raise ValueError(
            f"y_true must have shape {expected} to match means of shape "
            f"{means.shape}; got {y_true.shape}."
        )
    stds = _check_std(stds, means.shape, name="stds", target="means")
    weights = _check_probability_vector(weights, means.shape[1])

    if means.ndim == 2:  # one output: give it its own axis
        y_true, means, stds = y_true[:, None], means[:, :, None], stds[:, :, None]
    z = (y_true[:, None, :] - means) / stds
    log_component = -np.sum(0.5 * (_LOG_2PI + z**2) + np.log(stds), axis=2)
    # log 0 = -inf drops a component from the logsumexp; np.log would warn.
    log_weights = np.full(weights.shape, -np.inf)
    positive = weights > 0
    log_weights[positive] = np.log(weights[positive])
    log_likelihood = logsumexp(log_component + log_weights, axis=1)
    return float(-np.mean(log_likelihood))


def regression_calibration_error(y_true, y_pred, y_std, *, n_bins=20) -> float:
    """Calibration error of Gaussian predictive distributions.

    Following Kuleshov et al. (2018), the probability integral transform
    ``u = Phi((y_true - y_pred) / y_std)`` of every target is compared with
    the confidence levels ``c_j = (j + 0.5) / n_bins``: the error is the mean
    over ``j`` of ``|mean(u <= c_j) - c_j|``. It is 0 when the predicted
    quantiles hold at every level and approaches 0.5 when the predictions are
    far too confident (or far too vague). With several outputs, the values of
    all outputs are pooled.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed targets.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Predicted means, with the same shape as `y_true`.
    y_std : float or array-like
        Predicted standard deviations, all > 0, broadcastable to the shape of
        `y_true`.
    n_bins : int, default=20
        Number of confidence levels.

    Returns
    -------
    error : float
        The mean absolute gap between observed and expected frequencies, in
        ``[0, 0.5]``.

    References
    ----------
    V. Kuleshov, N. Fenner and S. Ermon (2018). Accurate uncertainties for
    deep learning using calibrated regression. ICML.

    Examples
    --------
    >>> from sklearn_depth.metrics import regression_calibration_error
    >>> y_true = [-1.0, -0.5, 0.5, 1.0]
    >>> round(regression_calibration_error(y_true, [0.0] * 4, 1.0, n_bins=2), 4)
    0.0
    >>> round(regression_calibration_error(y_true, [0.0] * 4, 0.1, n_bins=2), 4)
    0.25
    """
    _check_n_bins(n_bins)
    y_true, y_pred, y_std = _check_gaussian(y_true, y_pred, y_std)
    pit = np.sort(ndtr((y_true - y_pred) / y_std), axis=None)
    levels = (np.arange(n_bins) + 0.5) / n_bins
    observed = np.searchsorted(pit, levels, side="right") / pit.size
    return float(np.mean(np.abs(observed - levels)))


# --------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------


def expected_calibration_error(
    y_true, y_prob, *, n_bins=15, strategy="uniform", labels=None
) -> float:
    """Top-label expected calibration error (ECE).

    Every prediction is summarised by its confidence (the largest predicted
    probability) and whether its most probable class is the true one. The
    predictions are grouped into bins by confidence, and the ECE is
    ``sum_b (n_b / n_samples) * |accuracy_b - confidence_b|`` over the
    non-empty bins, where ``accuracy_b`` and ``confidence_b`` are the bin's
    mean correctness and mean confidence.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, rows summing to 1, columns following
        `labels`. A 1-d array is the probability of ``labels[1]`` (by
        default the greater of two classes) in a binary problem.
    n_bins : int, default=15
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        How to bin the confidences.

        - "uniform": `n_bins` bins of equal width over ``[0, 1]``, each
          holding its left edge; a confidence of 1.0 falls in the last bin.
        - "quantile": edges at the quantiles of the confidences, so the bins
          hold (nearly) equal numbers of samples; tied confidences share a
          bin, which can leave other bins empty.
    labels : array-like of shape (n_classes,), default=None
        The classes, in the order of the columns of `y_prob`. If None, the
        sorted unique values of `y_true`, which must then hold every class.

    Returns
    -------
    ece : float
        The expected calibration error, in ``[0, 1]``.

    Notes
    -----
    When several classes share the largest probability, the first of them
    in `labels` order is taken as the prediction.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger (2017). On calibration of
    modern neural networks. ICML.

    Examples
    --------
    >>> from sklearn_depth.metrics import expected_calibration_error
    >>> y_true = [0, 0, 1, 1]
    >>> y_prob = [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.4, 0.6]]
    >>> round(expected_calibration_error(y_true, y_prob, n_bins=2), 4)
    0.275
    """
    accuracy, confidence, counts = _top_label_bins(
        y_true, y_prob, n_bins, strategy, labels
    )
    return float(np.sum(counts * np.abs(accuracy - confidence)) / counts.sum())


def brier_score(y_true, y_prob, *, labels=None) -> float:
    """Brier score of probabilistic class predictions.

    For a 2-d `y_prob` this is the multi-class Brier score, the mean over
    samples of ``sum_c (y_prob[n, c] - 1[y_true[n] == labels[c]]) ** 2``,
    which lies in ``[0, 2]``. For a 1-d `y_prob` (the probability of the
    positive class of a binary problem) it is ``mean((y_prob - 1[y_true ==
    labels[1]]) ** 2)``, in ``[0, 1]``, the value of
    :func:`sklearn.metrics.brier_score_loss`; the 2-d form of the same
    predictions scores twice as much.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, rows summing to 1, columns following
        `labels`. A 1-d array is the probability of ``labels[1]`` (by
        default the greater of two classes) in a binary problem.
    labels : array-like of shape (n_classes,), default=None
        The classes, in the order of the columns of `y_prob`. If None, the
        sorted unique values of `y_true`, which must then hold every class.

    Returns
    -------
    score : float
        The Brier score; lower is better.

    Examples
    --------
    >>> from sklearn_depth.metrics import brier_score
    >>> round(brier_score(["a", "b"], [[0.8, 0.2], [0.4, 0.6]]), 4)
    0.2
    >>> round(brier_score([0, 1], [0.2, 0.6]), 4)
    0.1
    """
    y_index, y_prob, _ = _check_classification(y_true, y_prob, labels)
    if y_prob.ndim == 1:
        return float(np.mean((y_prob - (y_index == 1)) ** 2))
    one_hot = y_index[:, None] == np.arange(y_prob.shape[1])
    return float(np.mean(np.sum((y_prob - one_hot) ** 2, axis=1)))


def categorical_nll(y_true, y_prob, *, labels=None) -> float:
    """Mean negative log-likelihood of the true classes (log loss).

    The loss is ``mean(-log p_n)`` with ``p_n`` the probability given to the
    true class of sample ``n``, clipped below at the smallest positive
    float64 so that a zero probability gives a large finite loss instead of
    a warning. Up to that clipping it equals :func:`sklearn.metrics.log_loss`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, rows summing to 1, columns following
        `labels`. A 1-d array is the probability of ``labels[1]`` (by
        default the greater of two classes) in a binary problem.
    labels : array-like of shape (n_classes,), default=None
        The classes, in the order of the columns of `y_prob`. If None, the
        sorted unique values of `y_true`, which must then hold every class.

    Returns
    -------
    loss : float
        The mean negative log-likelihood, in nats.

    Examples
    --------
    >>> from sklearn_depth.metrics import categorical_nll
    >>> round(categorical_nll([0, 1], [[0.5, 0.5], [0.5, 0.5]]), 4)
    0.6931
    """
    y_index, y_prob, _ = _check_classification(y_true, y_prob, labels)
    if y_prob.ndim == 1:
        p_true = np.where(y_index == 1, y_prob, 1.0 - y_prob)
    else:
        p_true = y_prob[np.arange(y_prob.shape[0]), y_index]
    p_true = np.clip(p_true, np.finfo(np.float64).tiny, 1.0)
    return float(-np.mean(np.log(p_true)))


# --------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------


def _top_label_bins(y_true, y_prob, n_bins, strategy, labels):
    """Accuracy, mean confidence and size of each non-empty confidence bin.

    The bins of :func:`expected_calibration_error` (shared with the
    reliability diagram), so
    ``sum(counts / n_samples * abs(accuracy - confidence))`` is its value.
    """
    _check_n_bins(n_bins)
    if not isinstance(strategy, str) or strategy not in _ECE_STRATEGIES:
        raise ValueError(
            f"strategy must be one of {_ECE_STRATEGIES}; got {strategy!r}."
        )
    y_index, y_prob, _ = _check_classification(y_true, y_prob, labels)
    if y_prob.ndim == 1:
        y_prob = np.column_stack([1.0 - y_prob, y_prob])
    predicted = np.argmax(y_prob, axis=1)
    confidence = y_prob[np.arange(y_prob.shape[0]), predicted]
    correct = (predicted == y_index).astype(np.float64)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.quantile(confidence, np.linspace(0.0, 1.0, n_bins + 1))
    bins = np.searchsorted(edges[1:-1], confidence, side="right")
    counts = np.bincount(bins, minlength=n_bins)
    nonempty = counts > 0
    counts = counts[nonempty]
    accuracy = np.bincount(bins, weights=correct, minlength=n_bins)[nonempty]
    mean_confidence = np.bincount(bins, weights=confidence, minlength=n_bins)
    return accuracy / counts, mean_confidence[nonempty] / counts, counts


def _check_gaussian(y_true, y_pred, y_std):
    """Validate Gaussian predictions; return float arrays of one shape."""
    y_true = check_array(y_true, ensure_2d=False, dtype=np.float64, input_name="y_true")
    y_pred = check_array(y_pred, ensure_2d=False, dtype=np.float64, input_name="y_pred")
    check_consistent_length(y_true, y_pred)
    if y_true.ndim not in (1, 2) or y_true.shape != y_pred.shape:
        raise ValueError(
            "y_true and y_pred must have the same shape, (n_samples,) or "
            f"(n_samples, n_outputs); got {y_true.shape} and {y_pred.shape}."
        )
    y_std = _check_std(y_std, y_true.shape, name="y_std", target="y_true")
    return y_true, y_pred, y_std


def _check_std(std, shape, *, name, target):
    """Broadcast standard deviations to `shape` and check they are > 0."""
    std = np.asarray(std, dtype=np.float64)
    try:
        std = np.broadcast_to(std, shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {std.shape} does not broadcast to the shape "
            f"{shape} of {target}."
        ) from None
    if not np.all(np.isfinite(std)):
        raise ValueError(f"{name} must be finite.")
    if np.any(std <= 0):
        raise ValueError(f"{name} must be > 0; got a minimum of {std.min()}.")
    return std


def _check_probability_vector(weights, n_components):
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (n_components,):
        raise ValueError(
            f"weights must have shape ({n_components},), one per component; "
            f"got {weights.shape}."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("weights must be finite and non-negative.")
    if abs(weights.sum() - 1.0) > _SUM_TOLERANCE:
        raise ValueError(f"weights must sum to 1; they sum to {weights.sum()}.")
    return weights


def _check_n_bins(n_bins):
    # Any invalid n_bins is a ValueError, as in scikit-learn's metrics.
    try:
        check_number(n_bins, "n_bins", integral=True, min_val=1)
    except (TypeError, ValueError):
        raise ValueError(f"n_bins must be an integer >= 1; got {n_bins!r}.") from None


def _check_classification(y_true, y_prob, labels):
    """Validate labels and probabilities shared by the classification metrics.

    Returns the column index of each sample's true class in `labels`, the
    probabilities as a float array (still 1-d for the binary shorthand) and
    the labels.
    """
    y_true = column_or_1d(y_true)
    y_prob = check_array(y_prob, ensure_2d=False, dtype=np.float64, input_name="y_prob")
    if y_prob.ndim not in (1, 2):
        raise ValueError(
            "y_prob must have shape (n_samples,) or (n_samples, n_classes); "
            f"got {y_prob.shape}."
        )
    check_consistent_length(y_true, y_prob)
    if np.any(y_prob < 0) or np.any(y_prob > 1):
        raise ValueError("y_prob contains values outside [0, 1].")

    if labels is None:
        labels = np.unique(y_true)
        hint = "; pass labels to name the classes missing from y_true"
    else:
        labels = column_or_1d(labels)
        hint = ""
        if np.unique(labels).shape[0] != labels.shape[0]:
            raise ValueError(f"labels must be unique; got {labels.tolist()}.")
    n_columns = 2 if y_prob.ndim == 1 else y_prob.shape[1]
    if labels.shape[0] != n_columns:
        what = "a 1-d y_prob (binary)" if y_prob.ndim == 1 else "y_prob"
        raise ValueError(
            f"{what} needs {n_columns} labels, one per column; got "
            f"{labels.shape[0]}: {labels.tolist()}{hint}."
        )
    if y_prob.ndim == 2:
        row_sums = y_prob.sum(axis=1)
        worst = np.max(np.abs(row_sums - 1.0))
        if worst > _SUM_TOLERANCE:
            raise ValueError(
                f"The rows of y_prob must sum to 1; one is off by {worst:.3g}."
            )

    order = np.argsort(labels, kind="stable")
    position = np.searchsorted(labels, y_true, sorter=order)
    y_index = order[np.minimum(position, labels.shape[0] - 1)]
    unknown = labels[y_index] != y_true
    if np.any(unknown):
        raise ValueError(
            f"y_true contains labels not in labels: {np.unique(y_true[unknown])}."
        )
    return y_index, y_prob, labels
