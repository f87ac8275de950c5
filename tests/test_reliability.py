# SPDX-License-Identifier: MIT
"""Fits that would otherwise fail silently, and what the estimators do instead.

Issue #13: divergence, fitted state that no longer matches the network, a
posterior that never moved, a changed structure under ``warm_start`` and
``partial_fit``, fits in threads, and the smaller cases the fuzzing found.
"""

import copy
import math
import threading

import numpy as np
import pytest
import torch
from _predictions import predictions
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor, make_spirals
from sklearn_depth.exceptions import DivergenceError, UninformedPosteriorWarning

both = pytest.mark.parametrize(
    "Estimator", [DepthSearchClassifier, DepthSearchRegressor]
)

RNG = np.random.RandomState(0)
X40 = RNG.randn(40, 3)
TARGETS = {
    DepthSearchClassifier: (X40[:, 0] > 0).astype(int),
    DepthSearchRegressor: X40[:, 0] + 0.1 * RNG.randn(40),
}
TINY = dict(max_depth=3, width=8, max_epochs=20, random_state=0, early_stopping=False)


def _predict(est, X):
    return np.stack(predictions(est, X))


def _assert_unfitted(est):
    assert not hasattr(est, "posterior_depth_") and not hasattr(est, "depth_")
    with pytest.raises(NotFittedError):
        _predict(est, X40)


# -- 1. divergence --------------------------------------------------------------


@both
@pytest.mark.parametrize("depth_warmup", [10, 1.0])
def test_divergence_raises_and_leaves_the_estimator_unfitted(Estimator, depth_warmup):
    est = Estimator(
        **{**TINY, "lr": 1e3, "max_epochs": 60, "depth_warmup": depth_warmup}
    )
    with pytest.raises(DivergenceError, match="diverged.*smaller lr") as info:
        est.fit(X40, TARGETS[Estimator])
    assert isinstance(info.value, ValueError)
    _assert_unfitted(est)
    # Raised by the end of the first epoch whose loss is not finite.
    losses = [[b["train_loss"] for b in row["batches"]] for row in est.history]
    assert not all(math.isfinite(v) for v in losses[-1])
    assert all(math.isfinite(v) for row in losses[:-1] for v in row)
    # The next fit builds a new network and succeeds, warm_start or not.
    est.set_params(lr=0.01, warm_start=True, depth_warmup=10)
    est.fit(X40, TARGETS[Estimator])
    assert np.isfinite(_predict(est, X40)).all()


@both
def test_a_refit_that_diverges_discards_the_previous_fit(Estimator):
    est = Estimator(**TINY).fit(X40, TARGETS[Estimator])
    with pytest.raises(DivergenceError):
        est.set_params(lr=1e3, max_epochs=60).fit(X40, TARGETS[Estimator])
    _assert_unfitted(est)


@both
def test_features_beyond_float32_training_range_raise(Estimator):
    with pytest.raises(DivergenceError, match="standardise the features"):
        Estimator(**TINY).fit(X40 * 1e30, TARGETS[Estimator])


# -- 2. fitted state that no longer matches the network ---------------------------


class _FailAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise RuntimeError("stopped by the test")


@both
def test_rebuilt_network_clears_the_fitted_state(Estimator):
    est = Estimator(**TINY).fit(X40, TARGETS[Estimator])
    est.set_params(module__width=4)  # skorch re-initialises the module
    _assert_unfitted(est)


@both
def test_a_refit_that_raises_part_way_leaves_the_estimator_unfitted(Estimator):
    est = Estimator(**TINY).fit(X40, TARGETS[Estimator])
    est.set_params(callbacks=[("fail", _FailAt(3))])
    with pytest.raises(RuntimeError, match="stopped by the test"):
        est.fit(X40, TARGETS[Estimator])
    _assert_unfitted(est)


@both
def test_load_params_updates_the_fitted_depth(Estimator, tmp_path):
    y = TARGETS[Estimator]
    a = Estimator(**TINY).fit(X40, y)
    b = Estimator(**{**TINY, "random_state": 1, "max_epochs": 40}).fit(X40, y)
    assert not np.array_equal(a.posterior_depth_, b.posterior_depth_)
    b.save_params(f_params=tmp_path / "b.pt")
    a.load_params(f_params=tmp_path / "b.pt")
    assert_array_equal(a.posterior_depth_, b.posterior_depth_)
    assert a.depth_ == b.depth_
    assert_allclose(_predict(a, X40), _predict(b, X40), rtol=1e-12)


@both
def test_prediction_checks_the_network_against_the_fitted_depth(Estimator):
    y = TARGETS[Estimator]
    est = Estimator(**TINY).fit(X40, y)
    other = Estimator(**{**TINY, "random_state": 1, "max_epochs": 40}).fit(X40, y)
    moved = copy.deepcopy(est)
    moved.module_.active_depth = (est.depth_ + 1) % (est.max_depth + 1)
    with pytest.raises(NotFittedError, match="no longer matches"):
        _predict(moved, X40)
    # Weights (and q) written behind the estimator's back.
    _predict(est, X40)  # builds the cached inference network
    state = copy.deepcopy(other.module_.state_dict())
    state["_extra_state"] = {"active_depth": est.depth_}
    est.module_.load_state_dict(state)
    with pytest.raises(NotFittedError, match="posterior_depth_"):
        _predict(est, X40)


@both
def test_initialize_before_fit_points_to_pickle(Estimator):
    with pytest.raises(NotFittedError, match="pickle or joblib"):
        Estimator(**TINY).initialize()


# -- 3. a posterior that never moved ------------------------------------------------


@both
@pytest.mark.parametrize(
    "params", [{"depth_warmup": 1.0}, {"depth_lr": 0.0}, {"max_epochs": 0}]
)
def test_an_unmoved_posterior_keeps_every_depth(Estimator, params):
    est = Estimator(**{**TINY, **params})
    with pytest.warns(UninformedPosteriorWarning, match="never moved"):
        est.fit(X40, TARGETS[Estimator])
    assert est.depth_ == est.max_depth
    assert_allclose(est.pruned_posterior_depth_, 1 / (est.max_depth + 1))


def test_an_unmoved_posterior_stops_at_the_deepest_allowed_depth():
    prior = np.array([0.25, 0.25, 0.5, 0.0])  # depth 3 forbidden
    est = DepthSearchClassifier(**{**TINY, "prior": prior, "depth_warmup": 1.0})
    with pytest.warns(UninformedPosteriorWarning):
        est.fit(X40, TARGETS[DepthSearchClassifier])
    assert est.depth_ == 2
    # q started at the prior and stayed there.
    assert_allclose(est.pruned_posterior_depth_, [0.25, 0.25, 0.5, 0], rtol=1e-6)


def test_an_unmoved_posterior_does_not_throw_the_network_away():
    # The case of the issue: spirals learned during a warm-up that never
    # ended would have been pruned to the linear model (depth 0).
    X, y = make_spirals(400, noise=0.1, random_state=0)
    # A constant decay: weight_decay="auto" would spend most of these 150
    # epochs at a strong decay, and this test is about the posterior.
    params = dict(
        max_depth=4, width=32, max_epochs=150, random_state=0, weight_decay=0.01
    )
    frozen = DepthSearchClassifier(**params, depth_warmup=1.0)
    with pytest.warns(UninformedPosteriorWarning):
        frozen.fit(X[:200], y[:200])
    linear = copy.deepcopy(frozen)
    linear.depth_ = 0
    linear.module_.active_depth = 0
    linear.pruned_posterior_depth_ = np.eye(len(frozen.posterior_depth_))[0]
    assert frozen.score(X[200:], y[200:]) > linear.score(X[200:], y[200:]) + 0.1


# -- 4. warm_start and partial_fit with a changed structure -------------------------


@both
@pytest.mark.parametrize(
    "change",
    [
        {"max_depth": 4},
        {"width": 16},
        {"prior": "geometric:0.5"},
        {"sparse_blocks": "ard"},
    ],
)
@pytest.mark.parametrize("method", ["warm_start", "partial_fit"])
def test_continued_training_refuses_a_changed_structure(Estimator, change, method):
    y = TARGETS[Estimator]
    est = Estimator(**TINY, warm_start=method == "warm_start").fit(X40, y)
    before = est.posterior_depth_.copy()
    name = next(iter(change))
    est.set_params(**change)
    with pytest.raises(ValueError, match=f"{name} changed since the network was built"):
        if method == "warm_start":
            est.fit(X40, y)
        else:
            est.partial_fit(X40, y)
    assert_array_equal(est.posterior_depth_, before)  # still the old fit


def test_partial_fit_refuses_other_classes():
    y = TARGETS[DepthSearchClassifier]
    clf = DepthSearchClassifier(**TINY).partial_fit(X40, y, classes=[0, 1])
    clf.partial_fit(X40, y, classes=[1, 0])  # the same classes
    with pytest.raises(ValueError, match="classes=.*not the same"):
        clf.partial_fit(X40, y, classes=[0, 1, 2])


# -- 5. fits in threads -------------------------------------------------------------


@both
def test_seeded_fits_in_threads_give_the_serial_results(Estimator):
    y = TARGETS[Estimator]
    seeds = [0, 1, 2]
    serial = [
        _predict(Estimator(**{**TINY, "random_state": s}).fit(X40, y), X40)
        for s in seeds
    ]
    results = {}

    def fit(seed):
        est = Estimator(**{**TINY, "random_state": seed}).fit(X40, y)
        results[seed] = _predict(est, X40)

    threads = [threading.Thread(target=fit, args=(s,)) for s in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed, want in zip(seeds, serial, strict=True):
        assert_array_equal(results[seed], want)


@both
def test_fit_leaves_the_callers_random_state_alone(Estimator):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    Estimator(**TINY).fit(X40, TARGETS[Estimator])
    assert torch.equal(torch.get_rng_state(), state)


# -- 6. smaller cases ----------------------------------------------------------------


@both
@pytest.mark.parametrize("param", ["batch_size", "iterator_train__batch_size"])
def test_batches_of_one_row_are_refused(Estimator, param):
    with pytest.raises(ValueError, match=f"{param} == 1, must be >= 2"):
        Estimator(**TINY, **{param: 1}).fit(X40, TARGETS[Estimator])


@both
def test_tiny_uniform_sample_weights_act_as_no_weights(Estimator):
    y = TARGETS[Estimator]
    tiny = Estimator(**TINY).fit(X40, y, sample_weight=np.full(40, 1e-44))
    ones = Estimator(**TINY).fit(X40, y, sample_weight=np.ones(40))
    huge = Estimator(**TINY).fit(X40, y, sample_weight=np.full(40, 1e300))
    assert_array_equal(_predict(tiny, X40), _predict(ones, X40))
    assert_array_equal(_predict(huge, X40), _predict(ones, X40))


def test_huge_regression_targets_keep_a_finite_scale():
    y = TARGETS[DepthSearchRegressor] * 1e200
    reg = DepthSearchRegressor(**TINY).fit(X40, y)
    assert np.isfinite(reg.y_scale_).all() and np.isfinite(reg.y_mean_).all()
    mean, std = reg.predict(X40, return_std=True)
    assert np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()
    small = DepthSearchRegressor(**TINY).fit(X40, y / 1e200)
    assert_allclose(mean / 1e200, small.predict(X40), rtol=1e-6)


def test_a_dataset_without_features_is_refused():
    dataset = torch.utils.data.TensorDataset(torch.zeros(40, 0))
    with pytest.raises(ValueError, match="0 feature"):
        DepthSearchClassifier(**TINY).fit(dataset, TARGETS[DepthSearchClassifier])


@both
def test_exported_module_takes_float64_input(Estimator):
    est = Estimator(**TINY).fit(X40, TARGETS[Estimator])
    net = est.export_pruned()
    out64 = net(torch.as_tensor(X40))
    out32 = net(torch.as_tensor(X40, dtype=torch.float32))
    for a, b in zip(
        out64 if isinstance(out64, tuple) else (out64,),
        out32 if isinstance(out32, tuple) else (out32,),
        strict=True,
    ):
        assert_array_equal(a.detach().numpy(), b.detach().numpy())
