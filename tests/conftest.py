# SPDX-License-Identifier: MIT
import os
from types import MappingProxyType

import numpy as np
import pytest
import torch
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_depth import DepthResMLP, DepthSearchRegressor, make_spirals

if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
    np.set_printoptions(legacy="1.25")  # doctests print numpy 1 style scalars


# -- seeds ----------------------------------------------------------------------

_SEED_ENV = "SKLEARN_DEPTH_TESTS_GLOBAL_RANDOM_SEED"
_ALL_SEEDS = range(20)


def _global_random_seeds():
    """The seeds named by $SKLEARN_DEPTH_TESTS_GLOBAL_RANDOM_SEED.

    As scikit-learn's ``SKLEARN_TESTS_GLOBAL_RANDOM_SEED``: unset means one
    seed (0), ``"all"`` means 0-19, ``"3"`` one seed, ``"2-5"`` a range
    (both ends included).
    """
    value = os.environ.get(_SEED_ENV, "0").strip()
    if value == "all":
        return list(_ALL_SEEDS)
    low, _, high = value.partition("-")
    try:
        seeds = list(range(int(low), int(high or low) + 1))
    except ValueError:
        seeds = []
    if not seeds:
        raise ValueError(f"{_SEED_ENV} must be 'all', 'N' or 'N-M'; got {value!r}.")
    return seeds


def pytest_generate_tests(metafunc):
    # Statistical tests that are not marked slow take ``global_random_seed``
    # and must pass for every seed (run them with the variable set to "all").
    if "global_random_seed" in metafunc.fixturenames:
        metafunc.parametrize("global_random_seed", _global_random_seeds())


@pytest.fixture(autouse=True)
def _seed_global_rngs():
    # Tests must not depend on what ran before them.
    np.random.seed(0)
    torch.manual_seed(0)


# -- estimator settings (read-only mappings: copy with {**params, ...}) --------


@pytest.fixture(scope="session")
def fast_params():
    """Small, quickly trained settings of the estimator tests.

    A fixed budget of epochs on every row (no early stopping, whose held-out
    rows and stopping are tested in test_early_stopping.py).
    """
    return MappingProxyType(
        dict(max_depth=4, width=16, max_epochs=15, random_state=0, early_stopping=False)
    )


@pytest.fixture(scope="session")
def fast_regressor_params(fast_params):
    """``fast_params`` trained twice as long, for the regressor's own tests."""
    return MappingProxyType({**fast_params, "max_epochs": 30})


@pytest.fixture(scope="session")
def ard_params():
    """Three ARD bottleneck blocks, long enough for ARD to prune."""
    return MappingProxyType(
        dict(
            max_depth=3,
            width=16,
            max_epochs=30,
            random_state=0,
            sparse_blocks="ard",
            early_stopping=False,
        )
    )


@pytest.fixture(scope="session")
def tiny_params():
    """The smallest useful network: a few epochs of 3 narrow blocks."""
    return MappingProxyType(dict(max_depth=3, width=8, max_epochs=6, random_state=0))


# -- data (do not mutate) -------------------------------------------------------


def _spirals(seed):
    X, y = make_spirals(200, noise=0.2, random_state=seed)
    return StandardScaler().fit_transform(X).astype(np.float32), y


@pytest.fixture(scope="session")
def spirals_small():
    """200 standardised spiral points, float32, labels 0/1."""
    return _spirals(0)


@pytest.fixture
def random_spirals(global_random_seed):
    """``spirals_small`` drawn with ``global_random_seed``."""
    return _spirals(global_random_seed)


def _smooth_target(X):
    return np.sin(3 * X[:, 0]) + X[:, 1]


@pytest.fixture(scope="session")
def spirals_regression(spirals_small):
    """The spiral points with a smooth real target, ``sin(3 x0) + x1``."""
    X, _ = spirals_small
    return X, _smooth_target(X)


def _toy_regression(seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, size=(200, 1)).astype(np.float32)
    y = 50 + 10 * np.sin(2 * X[:, 0]) + rng.randn(200)
    return X, y


@pytest.fixture(scope="session")
def toy_regression():
    """y = 50 + 10 sin(2x) + noise, 200 rows, one feature (float32 X)."""
    return _toy_regression(0)


@pytest.fixture
def random_toy_regression(global_random_seed):
    """``toy_regression`` drawn with ``global_random_seed``."""
    return _toy_regression(global_random_seed)


@pytest.fixture
def estimator_data(Estimator, spirals_small, spirals_regression):
    """The spirals with the target of ``Estimator`` (from the test's parameters)."""
    if Estimator is DepthSearchRegressor:
        return spirals_regression
    return spirals_small


@pytest.fixture
def random_estimator_data(Estimator, random_spirals):
    """``estimator_data`` drawn with ``global_random_seed``."""
    X, y = random_spirals
    if Estimator is DepthSearchRegressor:
        return X, _smooth_target(X)
    return X, y


# -- a user module --------------------------------------------------------------


class DepthResMLPWrapper(nn.Module):
    """A user module that is not a DepthResMLP but keeps the estimators' contract.

    It holds a DepthResMLP and passes on what the estimators use: the
    forward pass over depths, ``log_q``, ``active_log_prior``, ``log_prior``,
    ``active_depth``, ``all_depths`` and (if the inner module has it)
    ``log_noise``. It has no ``active_state``.
    """

    def __init__(self, n_features, n_outputs, **kwargs):
        super().__init__()
        self.net = DepthResMLP(n_features, n_outputs, **kwargs)

    def forward(self, X):
        return self.net(X)

    @property
    def active_depth(self):
        return self.net.active_depth

    @active_depth.setter
    def active_depth(self, depth):
        self.net.active_depth = depth

    @property
    def log_prior(self):
        return self.net.log_prior

    @property
    def log_noise(self):
        return self.net.log_noise

    def log_q(self):
        return self.net.log_q()

    def active_log_prior(self):
        return self.net.active_log_prior()

    def all_depths(self):
        return self.net.all_depths()


@pytest.fixture(scope="session")
def wrapped_module():
    """The class ``DepthResMLPWrapper``, to pass as ``module=``."""
    return DepthResMLPWrapper
