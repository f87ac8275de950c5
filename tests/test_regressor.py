# SPDX-License-Identifier: MIT
"""Behaviour of DepthSearchRegressor."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_depth import DepthSearchRegressor

FAST = dict(max_depth=4, width=16, max_epochs=30, random_state=0)


@pytest.fixture(scope="module")
def toy():
    """y = 50 + 10 sin(2x) + noise, 200 rows, one feature (float32 X)."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(200, 1)).astype(np.float32)
    y = 50 + 10 * np.sin(2 * X[:, 0]) + rng.randn(200)
    return X, y


@pytest.fixture(scope="module")
def fitted(toy):
    """A fitted regressor shared by read-only tests (never refit it)."""
    X, y = toy
    return DepthSearchRegressor(**FAST).fit(X, y)


def test_fitted_attributes(fitted, toy):
    X, y = toy
    assert_allclose(fitted.y_mean_, [y.mean()])
    assert_allclose(fitted.y_scale_, [y.std()])
    assert fitted.n_outputs_ == 1 and fitted.n_features_in_ == 1
    assert fitted.posterior_depth_.shape == (5,)
    assert_allclose(fitted.posterior_depth_.sum(), 1.0)
    assert fitted.noise_std_.shape == (1,) and fitted.noise_std_[0] > 0
    assert not hasattr(fitted, "predict_proba")
    assert not hasattr(fitted, "classes_")


def test_predictions_are_in_original_units(fitted, toy):
    X, y = toy
    mean = fitted.predict(X)
    assert mean.shape == (200,) and mean.dtype == np.float64
    assert abs(mean.mean() - 50) < 2
    assert fitted.score(X, y) > 0.5


def test_std_combines_depth_spread_and_noise(fitted, toy):
    X, _ = toy
    mean, std = fitted.predict(X, return_std=True)
    noise_std, depth_std = fitted.predict_std_components(X)
    assert std.shape == noise_std.shape == depth_std.shape == (200,)
    assert_allclose(std**2, noise_std**2 + depth_std**2, rtol=1e-10)
    assert_allclose(noise_std, fitted.noise_std_[0])
    assert_array_equal(mean, fitted.predict(X))


def test_mixture_moments_match_per_depth_predictions(fitted, toy):
    X, _ = toy
    per_depth = fitted.predict_per_depth(X)
    assert per_depth.shape == (200, 5)
    q = fitted.pruned_posterior_depth_
    mean = per_depth @ q
    _, depth_std = fitted.predict_std_components(X)
    assert_allclose(fitted.predict(X), mean, rtol=1e-5)
    spread = np.sqrt(((per_depth - mean[:, None]) ** 2) @ q)
    assert_allclose(depth_std, spread, rtol=1e-4, atol=1e-6)


def test_multi_output(toy):
    X, y = toy
    Y = np.column_stack([y, -3 * y + 7])
    reg = DepthSearchRegressor(**FAST).fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.noise_std_.shape == (2,)
    mean, std = reg.predict(X, return_std=True)
    assert mean.shape == std.shape == (200, 2)
    assert reg.predict_per_depth(X).shape == (200, 5, 2)
    # the second output is a rescaled copy: the same fit in standardised units
    assert_allclose(reg.noise_std_[1] / reg.noise_std_[0], 3, rtol=0.3)
    column = DepthSearchRegressor(**FAST).fit(X, Y[:, :1])
    assert column.predict(X).shape == (200, 1)


def test_constant_target_keeps_unit_scale(toy):
    X, _ = toy
    reg = DepthSearchRegressor(**{**FAST, "max_epochs": 3}).fit(X, np.full(200, 4.0))
    assert_allclose(reg.y_scale_, [1.0])
    assert np.all(np.isfinite(reg.predict(X)))


def test_sample_weight_weights_conflicting_targets(toy):
    X, _ = toy
    X2 = np.vstack([X, X])
    y2 = np.r_[np.zeros(200), np.full(200, 10.0)]
    w = np.r_[np.ones(200), np.full(200, 3.0)]
    plain = DepthSearchRegressor(**FAST).fit(X2, y2)
    weighted = DepthSearchRegressor(**FAST).fit(X2, y2, sample_weight=w)
    assert abs(plain.predict(X).mean() - 5.0) < 0.5
    assert abs(weighted.predict(X).mean() - 7.5) < 0.5


def test_pickle_round_trip(fitted, toy):
    X, _ = toy
    loaded = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(loaded.predict(X), fitted.predict(X))


def test_reproducible(toy):
    X, y = toy
    a = DepthSearchRegressor(**FAST).fit(X, y).predict(X, return_std=True)
    b = DepthSearchRegressor(**FAST).fit(X, y).predict(X, return_std=True)
    assert_array_equal(a[0], b[0])
    assert_array_equal(a[1], b[1])


def test_pipeline_cross_val_and_grid_search(toy):
    X, y = toy
    pipe = make_pipeline(StandardScaler(), DepthSearchRegressor(**FAST))
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.3
    grid = {"prior": ["uniform", "geometric:0.5", [1, 1, 0, 0, 1]], "width": [8, 16]}
    search = GridSearchCV(DepthSearchRegressor(**FAST), grid, cv=2, n_jobs=2)
    search.fit(X, y)
    assert search.best_estimator_.posterior_depth_.shape == (5,)


def test_partial_fit_continues(toy):
    X, y = toy
    reg = DepthSearchRegressor(**{**FAST, "max_epochs": 2})
    reg.partial_fit(X[:100], y[:100]).partial_fit(X[100:], y[100:])
    assert reg.n_train_ == 200
    assert_allclose(reg.y_mean_, [y[:100].mean()])  # scaling fixed on first call
    with pytest.raises(ValueError, match="outputs"):
        reg.partial_fit(X, np.column_stack([y, y]))


def test_noise_has_no_weight_decay(toy):
    X, y = toy
    reg = DepthSearchRegressor(
        **{**FAST, "max_epochs": 1}, optimizer__weight_decay=0.1
    ).fit(X, y)
    depth_group, noise_group, rest = reg.optimizer_.param_groups
    assert noise_group["params"][0] is reg.module_.log_noise
    assert noise_group["weight_decay"] == 0.0 and depth_group["weight_decay"] == 0.0
    assert rest["weight_decay"] == 0.1


@pytest.mark.parametrize(
    "X_bad, y_bad, error, match",
    [
        (np.full((10, 1), np.nan), np.arange(10.0), ValueError, "NaN"),
        (np.ones((10, 1)), np.r_[np.arange(9.0), np.inf], ValueError, "infinity"),
        (np.ones((1, 1)), np.ones(1), ValueError, "n_samples=1"),
        (np.empty((0, 1)), np.empty(0), ValueError, "0 sample"),
        (np.ones((10, 1)), np.array(["a", "b"] * 5), ValueError, "^(?!X must)"),
    ],
)
@pytest.mark.parametrize("blocks", [None, "ard"])
def test_bad_training_data(X_bad, y_bad, error, match, blocks):
    with pytest.raises(error, match=match):
        DepthSearchRegressor(**FAST, sparse_blocks=blocks).fit(X_bad, y_bad)


def test_wrong_feature_count_at_predict(fitted):
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.zeros((3, 4)))


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"prior": "nope"}, ValueError, "prior"),
        ({"prior": [1, 1]}, ValueError, "prior"),
        ({"max_depth": -2}, ValueError, "max_depth"),
        ({"max_depth": 2.5}, TypeError, "max_depth"),
        ({"prune_threshold": 1.5}, ValueError, "prune_threshold"),
        ({"width": 0}, ValueError, "width"),
        ({"depth_lr": -1.0}, ValueError, "depth_lr"),
        ({"kl_weight": -1.0}, ValueError, "kl_weight"),
    ],
)
def test_invalid_params(toy, params, error, match):
    X, y = toy
    reg = DepthSearchRegressor(**{**FAST, **params})  # construction never fails
    with pytest.raises(error, match=match):
        reg.fit(X, y)


@pytest.mark.parametrize("blocks", [None, "ard"])
def test_non_numeric_and_sparse_input_rejected(blocks):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    reg = DepthSearchRegressor(**FAST, sparse_blocks=blocks)
    with pytest.raises(ValueError, match=r"non-numeric columns: \['b'\]"):
        reg.fit(df, [0.0, 1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="[Ss]parse"):
        reg.fit(sp.csr_matrix(np.eye(4)), [0.0, 1.0, 2.0, 3.0])


def test_dataframe_input_keeps_feature_names(toy):
    pd = pytest.importorskip("pandas")
    X, y = toy
    df = pd.DataFrame(X, columns=["x"])
    reg = DepthSearchRegressor(**FAST).fit(df, y)
    assert_array_equal(reg.feature_names_in_, ["x"])
    assert_array_equal(
        reg.predict(df), DepthSearchRegressor(**FAST).fit(X, y).predict(X)
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_predictive_std_is_calibrated_on_homoscedastic_data(seed):
    rng = np.random.RandomState(seed)
    sigma = 0.3

    def sample(n):
        X = rng.uniform(-3, 3, size=(n, 1))
        return X, np.sin(2 * X[:, 0]) + 0.5 * X[:, 0] + sigma * rng.randn(n)

    X_train, y_train = sample(500)
    X_test, y_test = sample(2000)
    reg = DepthSearchRegressor(max_depth=6, random_state=seed).fit(X_train, y_train)
    mean, std = reg.predict(X_test, return_std=True)
    assert abs(std.mean() / sigma - 1) < 0.25
    coverage = np.mean(np.abs(y_test - mean) <= 1.96 * std)
    assert 0.90 <= coverage <= 0.99
