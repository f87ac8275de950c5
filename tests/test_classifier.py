# SPDX-License-Identifier: MIT
"""What only DepthSearchClassifier does: class labels and probabilities.

The behaviour it shares with the regressor is tested in test_estimators.py.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from sklearn_depth import DepthSearchClassifier


@pytest.fixture(scope="module")
def fitted(spirals_small, fast_params):
    """A fitted classifier shared by read-only tests (never refit it)."""
    X, y = spirals_small
    return DepthSearchClassifier(**fast_params).fit(X, y)


# -- probabilities --------------------------------------------------------------


def test_predict_proba_is_the_pruned_marginal(fitted, spirals_small):
    X, _ = spirals_small
    assert_array_equal(fitted.classes_, [0, 1])
    proba = fitted.predict_proba(X)
    assert proba.dtype == np.float64 and proba.shape == (len(X), 2)
    assert_allclose(proba.sum(1), 1.0, rtol=1e-12)
    per_depth = fitted.predict_proba_per_depth(X)
    assert per_depth.shape == (len(X), 5, 2) and per_depth.dtype == np.float64
    expected = np.einsum("d,ndc->nc", fitted.pruned_posterior_depth_, per_depth)
    assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    assert_array_equal(fitted.predict(X), fitted.classes_[proba.argmax(1)])


def test_initialized_net_is_not_fitted(spirals_small, fast_params):
    X, _ = spirals_small
    clf = DepthSearchClassifier(**fast_params)
    # a net that skorch considers initialised is still not a fitted estimator
    clf._check_params()
    clf.n_features_in_, clf.classes_ = 2, np.array([0, 1])
    clf.initialize()
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_geometric_prior_and_kl_weight_pull_towards_shallow(
    random_spirals, fast_params, global_random_seed
):
    X, y = random_spirals
    params = {
        **fast_params,
        "max_epochs": 30,
        "depth_lr": 0.3,
        "random_state": global_random_seed,
    }
    plain = DepthSearchClassifier(**params).fit(X, y)
    strong = DepthSearchClassifier(**params, prior="geometric:0.1", kl_weight=200.0)
    strong.fit(X, y)
    assert strong.posterior_depth_[0] > 0.9
    assert plain.posterior_depth_[0] < 0.5


def test_sample_weight_shifts_the_probabilities(
    random_spirals, fast_params, global_random_seed
):
    X, y = random_spirals
    params = {**fast_params, "random_state": global_random_seed}
    plain = DepthSearchClassifier(**params).fit(X, y)
    w = np.where(y == 0, 10.0, 0.1)
    heavy = DepthSearchClassifier(**params).fit(X, y, sample_weight=w)
    assert heavy.predict_proba(X)[:, 0].mean() > plain.predict_proba(X)[:, 0].mean()


# -- labels ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [np.array(["cat", "dog"]), np.array([5, 25]), np.array([-1.0, 3.0])],
)
def test_arbitrary_labels_round_trip(
    random_spirals, fast_params, global_random_seed, labels
):
    X, y = random_spirals
    y_labels = labels[y]
    params = {**fast_params, "max_epochs": 60, "random_state": global_random_seed}
    clf = DepthSearchClassifier(**params).fit(X, y_labels)
    assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype == y_labels.dtype
    assert set(pred) == set(labels)
    assert np.mean(pred == y_labels) > 0.6


def test_three_non_contiguous_classes(fast_params, global_random_seed):
    rng = np.random.RandomState(global_random_seed)
    X = np.vstack([rng.randn(40, 3) + 4 * k for k in range(3)])
    y = np.repeat([3, 10, 42], 40)
    # 30 epochs: with 15, 13 of the seeds 0-19 stayed below 0.9 accuracy
    params = {**fast_params, "max_epochs": 30, "random_state": global_random_seed}
    clf = DepthSearchClassifier(**params).fit(X, y)
    assert clf.predict_proba(X).shape == (120, 3)
    assert np.mean(clf.predict(X) == y) > 0.9


def test_partial_fit_needs_all_classes_first(spirals_small, fast_params):
    X, y = spirals_small
    clf = DepthSearchClassifier(**fast_params)
    clf.partial_fit(X[y == 0][:20], y[y == 0][:20], classes=[0, 1])
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(X[:20], np.full(20, 7))


# -- bad targets ----------------------------------------------------------------


@pytest.mark.parametrize("blocks", [None, "ard"])
def test_one_class_rejected(fast_params, blocks):
    X = np.random.RandomState(0).randn(10, 2)
    with pytest.raises(ValueError, match="1 class"):
        DepthSearchClassifier(**fast_params, sparse_blocks=blocks).fit(X, np.zeros(10))


def test_regression_target_rejected(spirals_small, fast_params):
    X, _ = spirals_small
    with pytest.raises(ValueError, match="Unknown label type"):
        DepthSearchClassifier(**fast_params).fit(X, np.linspace(0, 1, len(X)))
