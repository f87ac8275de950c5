# SPDX-License-Identifier: MIT
"""Tests for sklearn_depth.metrics: hand computations and sklearn/scipy parity."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import brier_score_loss, log_loss

from sklearn_depth.metrics import (
    brier_score,
    categorical_nll,
    expected_calibration_error,
    gaussian_mixture_nll,
    gaussian_nll,
    regression_calibration_error,
)


def _normal_pdf(x, mean, std):
    z = (x - mean) / std
    return math.exp(-0.5 * z * z) / (std * math.sqrt(2 * math.pi))


# --------------------------------------------------------------------------
# gaussian_nll
# --------------------------------------------------------------------------


def test_gaussian_nll_hand_value():
    expected = (
        -math.log(_normal_pdf(1.0, 0.0, 2.0)) - math.log(_normal_pdf(2.0, 2.5, 0.5))
    ) / 2
    assert gaussian_nll([1.0, 2.0], [0.0, 2.5], [2.0, 0.5]) == pytest.approx(expected)


def test_gaussian_nll_multi_output_sums_outputs():
    y_true = [[0.0, 1.0], [2.0, -1.0]]
    y_pred = [[0.5, 1.0], [1.0, 0.0]]
    y_std = [1.0, 2.0]  # one per output
    per_sample = [
        -math.log(_normal_pdf(0.0, 0.5, 1.0)) - math.log(_normal_pdf(1.0, 1.0, 2.0)),
        -math.log(_normal_pdf(2.0, 1.0, 1.0)) - math.log(_normal_pdf(-1.0, 0.0, 2.0)),
    ]
    assert gaussian_nll(y_true, y_pred, y_std) == pytest.approx(sum(per_sample) / 2)


def test_gaussian_nll_matches_scipy():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=(2, 50, 3))
    y_std = rng.uniform(0.1, 3.0, size=(50, 3))
    expected = -norm.logpdf(y_true, y_pred, y_std).sum(axis=1).mean()
    assert gaussian_nll(y_true, y_pred, y_std) == pytest.approx(expected)
    expected = -norm.logpdf(y_true[:, 0], y_pred[:, 0], 0.7).mean()
    assert gaussian_nll(y_true[:, 0], y_pred[:, 0], 0.7) == pytest.approx(expected)


# --------------------------------------------------------------------------
# gaussian_mixture_nll
# --------------------------------------------------------------------------


def test_mixture_with_one_component_is_gaussian_nll():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.normal(size=(2, 20))
    y_std = rng.uniform(0.5, 2.0, size=20)
    got = gaussian_mixture_nll(y_true, y_pred[:, None], y_std[:, None], [1.0])
    assert got == pytest.approx(gaussian_nll(y_true, y_pred, y_std))

    y_true, y_pred = rng.normal(size=(2, 20, 3))
    got = gaussian_mixture_nll(y_true, y_pred[:, None, :], [0.5, 1.0, 2.0], [1.0])
    assert got == pytest.approx(gaussian_nll(y_true, y_pred, [0.5, 1.0, 2.0]))


def test_mixture_ignores_zero_weight_component_without_warnings():
    y_true = np.array([0.3, -1.0, 2.0])
    means = np.array([[0.0, 50.0], [-0.5, 50.0], [1.0, 50.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = gaussian_mixture_nll(y_true, means, [1.0, 0.1], [1.0, 0.0])
    assert got == pytest.approx(gaussian_nll(y_true, means[:, 0], 1.0))


def test_mixture_two_components_hand_value():
    weights, stds = [0.3, 0.7], [1.0, 0.5]  # stds of shape (n_components,)
    y_true = [0.5, 1.8]
    means = [[0.0, 2.0], [1.0, 2.0]]
    expected = [
        -math.log(0.3 * _normal_pdf(0.5, 0.0, 1.0) + 0.7 * _normal_pdf(0.5, 2.0, 0.5)),
        -math.log(0.3 * _normal_pdf(1.8, 1.0, 1.0) + 0.7 * _normal_pdf(1.8, 2.0, 0.5)),
    ]
    got = gaussian_mixture_nll(y_true, means, stds, weights)
    assert got == pytest.approx(sum(expected) / 2)


def test_mixture_multi_output_hand_value():
    # one sample, two components, two outputs independent given the component
    y_true = [[0.0, 1.0]]
    means = [[[0.0, 0.0], [1.0, 1.0]]]
    stds = [[1.0, 2.0], [0.5, 0.5]]  # shape (n_components, n_outputs)
    first = _normal_pdf(0.0, 0.0, 1.0) * _normal_pdf(1.0, 0.0, 2.0)
    second = _normal_pdf(0.0, 1.0, 0.5) * _normal_pdf(1.0, 1.0, 0.5)
    expected = -math.log(0.25 * first + 0.75 * second)
    got = gaussian_mixture_nll(y_true, means, stds, [0.25, 0.75])
    assert got == pytest.approx(expected)
    # the same stds given in full
    full = np.broadcast_to(stds, (1, 2, 2))
    assert gaussian_mixture_nll(y_true, means, full, [0.25, 0.75]) == pytest.approx(
        expected
    )


def test_mixture_is_stable_far_from_every_component():
    # the densities underflow to 0, the log-space computation does not
    y_true, means = [100.0], [[0.0, 0.0]]
    got = gaussian_mixture_nll(y_true, means, 0.1, [0.5, 0.5])
    assert got == pytest.approx(gaussian_nll(y_true, [0.0], 0.1))
    assert np.isfinite(got)


# --------------------------------------------------------------------------
# regression_calibration_error
# --------------------------------------------------------------------------


def test_regression_calibration_error_hand_value():
    # u = 0.5 and one level c = 0.5: the observed frequency is 1
    assert regression_calibration_error([0.0], [0.0], 1.0, n_bins=1) == 0.5
    # u ~ (0.16, 0.31, 0.69, 0.84) against c = (0.25, 0.75): frequencies match
    y_true = [-1.0, -0.5, 0.5, 1.0]
    assert regression_calibration_error(y_true, [0.0] * 4, 1.0, n_bins=2) == 0.0
    # too confident: u ~ (0, 0, 1, 1), frequencies (0.5, 0.5)
    got = regression_calibration_error(y_true, [0.0] * 4, 0.1, n_bins=2)
    assert got == pytest.approx(0.25)


def test_regression_calibration_error_pools_outputs():
    rng = np.random.default_rng(2)
    y_true, y_pred = rng.normal(size=(2, 30, 2))
    y_std = np.array([0.5, 2.0])
    pooled = regression_calibration_error(
        y_true.ravel(), y_pred.ravel(), np.tile(y_std, 30)
    )
    assert regression_calibration_error(y_true, y_pred, y_std) == pytest.approx(pooled)


def test_regression_calibration_error_small_when_calibrated_large_when_not(
    global_random_seed,
):
    rng = np.random.default_rng(global_random_seed)
    y_pred = rng.normal(size=200_000)
    y_std = rng.uniform(0.5, 2.0, size=200_000)
    y_true = rng.normal(y_pred, y_std)
    assert regression_calibration_error(y_true, y_pred, y_std) < 0.02
    assert regression_calibration_error(y_true, y_pred, y_std / 3) > 0.1


# --------------------------------------------------------------------------
# expected_calibration_error
# --------------------------------------------------------------------------


def test_ece_is_zero_when_confidence_equals_bin_accuracy():
    # ten predictions at confidence 0.8, eight of them right
    y_prob = [[0.2, 0.8]] * 10
    y_true = [1] * 8 + [0] * 2
    assert expected_calibration_error(y_true, y_prob, n_bins=10) == pytest.approx(0)
    # plus five at confidence 0.6 in another bin, three of them right
    y_prob += [[0.6, 0.4]] * 5
    y_true += [0, 0, 0, 1, 1]
    assert expected_calibration_error(y_true, y_prob, n_bins=10) == pytest.approx(0)


def test_ece_two_bin_hand_value():
    y_prob = [
        [0.4, 0.3, 0.3],  # bin [0, 0.5): confidence 0.4, right
        [0.3, 0.4, 0.3],  # bin [0, 0.5): confidence 0.4, wrong
        [0.9, 0.05, 0.05],  # bin [0.5, 1]: confidence 0.9, right
        [0.1, 0.7, 0.2],  # bin [0.5, 1]: confidence 0.7, right
        [0.1, 0.1, 0.8],  # bin [0.5, 1]: confidence 0.8, wrong
    ]
    y_true = [0, 0, 0, 1, 0]
    expected = 2 / 5 * abs(0.5 - 0.4) + 3 / 5 * abs(2 / 3 - 0.8)
    got = expected_calibration_error(y_true, y_prob, n_bins=2, labels=[0, 1, 2])
    assert got == pytest.approx(expected)


def test_ece_quantile_strategy_makes_equal_count_bins():
    confidence = np.array([0.55, 0.6, 0.65, 0.7, 0.95, 0.96, 0.97, 0.99])
    correct = np.array([1, 0, 1, 0, 1, 1, 1, 1], dtype=bool)
    y_prob = confidence  # 1-d binary: predicted class 1 everywhere
    y_true = np.where(correct, 1, 0)

    # two bins of four: the lower and the upper half of the confidences
    low = abs(0.5 - confidence[:4].mean())
    high = abs(1.0 - confidence[4:].mean())
    got = expected_calibration_error(y_true, y_prob, n_bins=2, strategy="quantile")
    assert got == pytest.approx(0.5 * low + 0.5 * high)
    # uniform bins put everything in [0.5, 1]
    uniform = abs(0.75 - confidence.mean())
    got = expected_calibration_error(y_true, y_prob, n_bins=2)
    assert got == pytest.approx(uniform)
    # as many bins as samples: one sample per bin
    got = expected_calibration_error(y_true, y_prob, n_bins=8, strategy="quantile")
    assert got == pytest.approx(np.mean(np.abs(correct - confidence)))


def test_ece_confidence_one_falls_in_last_bin():
    # together in the last bin: accuracy 0.5, confidence 0.8 (apart: 0.7)
    y_prob = [[1.0, 0.0], [0.4, 0.6]]
    y_true = [1, 1]
    got = expected_calibration_error(y_true, y_prob, n_bins=2, labels=[0, 1])
    assert got == pytest.approx(0.3)
    # the 1-d form: p = 0 is confidence 1.0 in class 0
    got = expected_calibration_error(y_true, [0.0, 0.6], n_bins=2, labels=[0, 1])
    assert got == pytest.approx(0.3)


def test_ece_binary_1d_matches_2d_and_labels_order():
    y_true = np.array(["no", "yes", "yes", "no", "yes"])
    p_yes = np.array([0.2, 0.9, 0.4, 0.45, 0.7])
    two_columns = np.column_stack([1 - p_yes, p_yes])
    expected = expected_calibration_error(y_true, two_columns, n_bins=5)
    assert expected_calibration_error(y_true, p_yes, n_bins=5) == pytest.approx(
        expected
    )
    swapped = expected_calibration_error(
        y_true, two_columns[:, ::-1], n_bins=5, labels=["yes", "no"]
    )
    assert swapped == pytest.approx(expected)


def test_labels_for_classes_missing_from_y_true():
    y_prob = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]
    got = categorical_nll([0, 1], y_prob, labels=[0, 1, 2])
    assert got == pytest.approx(-(math.log(0.7) + math.log(0.8)) / 2)
    got = expected_calibration_error([0, 1], y_prob, n_bins=1, labels=[0, 1, 2])
    assert got == pytest.approx(abs(1.0 - 0.75))


# --------------------------------------------------------------------------
# brier_score and categorical_nll
# --------------------------------------------------------------------------


def test_brier_score_hand_values():
    assert brier_score(["a", "b"], [[0.8, 0.2], [0.4, 0.6]]) == pytest.approx(
        ((0.2**2 + 0.2**2) + (0.4**2 + 0.4**2)) / 2
    )
    assert brier_score([0, 1], [0.2, 0.6]) == pytest.approx((0.2**2 + 0.4**2) / 2)


def test_brier_score_binary_matches_sklearn():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, size=40)
    p = rng.uniform(size=40)
    assert brier_score(y_true, p) == pytest.approx(brier_score_loss(y_true, p))


def test_brier_score_multiclass_matches_one_hot():
    rng = np.random.default_rng(4)
    y_prob = rng.dirichlet(np.ones(4), size=30)
    y_true = np.arange(30) % 4
    one_hot = np.eye(4)[y_true]
    expected = np.mean(np.sum((y_prob - one_hot) ** 2, axis=1))
    assert brier_score(y_true, y_prob) == pytest.approx(expected)


def test_categorical_nll_hand_value():
    y_prob = [[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]
    expected = -(math.log(0.3) + math.log(0.8)) / 2
    assert categorical_nll([1, 2], y_prob, labels=[0, 1, 2]) == pytest.approx(expected)


@pytest.mark.parametrize("case", ["binary-1d", "binary-2d", "three-class", "strings"])
def test_categorical_nll_matches_log_loss(case):
    rng = np.random.default_rng(5)
    n_classes = 3 if case in ("three-class", "strings") else 2
    y_prob = rng.dirichlet(np.ones(n_classes), size=25)
    y_true = np.arange(25) % n_classes
    if case == "binary-1d":
        y_prob = y_prob[:, 1]
    if case == "strings":
        y_true = np.array(["cat", "dog", "emu"])[y_true]
    assert categorical_nll(y_true, y_prob) == pytest.approx(log_loss(y_true, y_prob))


def test_categorical_nll_zero_probability_is_finite_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = categorical_nll([0, 1], [[1.0, 0.0], [1.0, 0.0]])
        got_1d = categorical_nll([0, 1], [0.0, 0.0])
    expected = -math.log(np.finfo(np.float64).tiny) / 2
    assert got == pytest.approx(expected)
    assert got_1d == pytest.approx(expected)


# --------------------------------------------------------------------------
# Invalid input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, match",
    [
        (([0.0, 1.0], [0.0], 1.0), "inconsistent numbers of samples"),
        (([[0.0, 1.0]], [[0.0, 1.0, 2.0]], 1.0), "same shape"),
        (([0.0, 1.0], [0.0, 0.0], -1.0), r"y_std must be > 0"),
        (([0.0, 1.0], [0.0, 0.0], [1.0, 0.0]), r"y_std must be > 0"),
        (([0.0, 1.0], [0.0, 0.0], [1.0, 1.0, 1.0]), "does not broadcast"),
        (([0.0, 1.0], [0.0, 0.0], np.inf), "y_std must be finite"),
    ],
)
@pytest.mark.parametrize("metric", [gaussian_nll, regression_calibration_error])
def test_gaussian_metrics_reject_bad_input(metric, args, match):
    with pytest.raises(ValueError, match=match):
        metric(*args)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"y_true": [0.0, 1.0, 2.0]}, "inconsistent numbers of samples"),
        ({"y_true": [[0.0], [1.0]]}, "y_true must have shape"),
        ({"means": [0.0, 1.0]}, "Expected 2D array"),
        ({"means": np.zeros((2, 2, 1, 1))}, "means must have shape"),
        ({"stds": 0.0}, r"stds must be > 0"),
        ({"stds": [1.0, -1.0]}, r"stds must be > 0"),
        ({"stds": [1.0, 1.0, 1.0]}, "does not broadcast"),
        ({"weights": [0.5, 0.6]}, "weights must sum to 1"),
        ({"weights": [1.5, -0.5]}, "non-negative"),
        ({"weights": [1.0]}, r"weights must have shape \(2,\)"),
    ],
)
def test_gaussian_mixture_nll_rejects_bad_input(kwargs, match):
    args = {
        "y_true": [0.0, 1.0],
        "means": [[0.0, 1.0], [0.0, 1.0]],
        "stds": 1.0,
        "weights": [0.5, 0.5],
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        gaussian_mixture_nll(**args)


@pytest.mark.parametrize("n_bins", [0, -3, 2.5, True])
def test_n_bins_must_be_a_positive_integer(n_bins):
    with pytest.raises(ValueError, match="n_bins must be"):
        regression_calibration_error([0.0], [0.0], 1.0, n_bins=n_bins)
    with pytest.raises(ValueError, match="n_bins must be"):
        expected_calibration_error([0, 1], [0.3, 0.8], n_bins=n_bins)


def test_ece_rejects_unknown_strategy():
    with pytest.raises(ValueError, match="strategy must be one of"):
        expected_calibration_error([0, 1], [0.3, 0.8], strategy="kmeans")


@pytest.mark.parametrize(
    "y_true, y_prob, labels, match",
    [
        ([0, 1, 1], [0.2, 0.7], None, "inconsistent numbers of samples"),
        ([0, 1], [-0.1, 0.7], None, r"outside \[0, 1\]"),
        ([0, 1], [[0.5, 0.5], [1.2, -0.2]], None, r"outside \[0, 1\]"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.4]], None, "must sum to 1"),
        ([0, 0], [0.2, 0.3], None, "pass labels"),
        ([0, 1], [[0.2, 0.3, 0.5]] * 2, None, "needs 3 labels"),
        ([0, 1], [[0.2, 0.8]] * 2, [0, 1, 2], "needs 2 labels"),
        ([0, 1], [0.2, 0.8], [0, 1, 2], "1-d y_prob"),
        ([0, 3], [[0.2, 0.8]] * 2, [0, 1], "not in labels"),
        ([0, 1], [[0.2, 0.8]] * 2, [1, 1], "labels must be unique"),
        ([0, 1], np.full((2, 2, 1), 0.5), None, "dim 3"),
    ],
)
@pytest.mark.parametrize(
    "metric", [expected_calibration_error, brier_score, categorical_nll]
)
def test_classification_metrics_reject_bad_input(metric, y_true, y_prob, labels, match):
    with pytest.raises(ValueError, match=match):
        metric(y_true, y_prob, labels=labels)


def test_gaussian_nll_with_unit_std_is_half_the_mean_squared_error():
    from sklearn.metrics import mean_squared_error

    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=50), rng.normal(size=50)
    expected = 0.5 * mean_squared_error(y_true, y_pred) + 0.5 * np.log(2 * np.pi)
    assert gaussian_nll(y_true, y_pred, 1.0) == pytest.approx(expected)
