# SPDX-License-Identifier: MIT
"""Property-based fuzzing of both estimators (issue #13).

Shapes, dtypes, scales, priors, learning rates, batch sizes, sample weights
and targets are drawn by hypothesis. Every case must either raise a clear
``ValueError``/``TypeError`` (``DivergenceError`` included) or fit, and
every fitted model must predict finite probabilities that sum to 1, or
finite means with positive finite standard deviations. The examples are
derandomised, so CI sees the same cases every run; the slow tier draws
more of them.
"""

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor  # noqa: E402


def _mostly(draw, usual, unusual):
    """Draw from ``usual``, or one time in eight from ``unusual``."""
    return draw(unusual if draw(st.integers(0, 7)) == 7 else usual)


@st.composite
def cases(draw):
    """One estimator, its parameters, and data to fit it on."""
    classifier = draw(st.booleans())
    n = _mostly(draw, st.integers(2, 60), st.integers(0, 1))
    d = _mostly(draw, st.integers(1, 5), st.just(0))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    scale = 10.0 ** draw(st.floats(-8, 8))
    X = rng.randn(n, d) * scale
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    if dtype is np.int64:
        X = np.round(X.clip(-1e15, 1e15)).astype(np.int64)
    else:
        if draw(st.integers(0, 9)) == 0 and n and d:
            X[rng.randint(n), rng.randint(d)] = draw(st.sampled_from([np.nan, np.inf]))
        with np.errstate(over="ignore"):
            X = X.astype(dtype)
    if classifier:
        n_classes = _mostly(draw, st.integers(2, 4), st.just(1))
        y = rng.randint(n_classes, size=n)
        if draw(st.booleans()):
            y = np.array(["a", "b", "c", "d"])[y]
    else:
        y = rng.randn(n) * 10.0 ** draw(st.floats(-6, 6))
        if draw(st.booleans()):
            y = np.column_stack([y, -y])
    weight = _mostly(
        draw,
        st.sampled_from(["none", "random", "tiny"]),
        st.sampled_from(["zeros", "negative", "short"]),
    )
    sample_weight = {
        "none": None,
        "random": rng.rand(n),
        "zeros": np.zeros(n),
        "tiny": np.full(n, 1e-44),
        "negative": -rng.rand(n),
        "short": np.ones(max(n - 1, 0)),
    }[weight]
    max_depth = draw(st.integers(0, 4))
    prior = _mostly(
        draw,
        st.one_of(
            st.just("uniform"),
            st.floats(0.05, 5.0).map(lambda r: f"geometric:{r:.3g}"),
            st.lists(
                st.floats(0.0, 1.0), min_size=max_depth + 1, max_size=max_depth + 1
            ).map(np.array),
        ),
        st.sampled_from(["no-such-prior", np.ones(max_depth + 2), np.zeros(1)]),
    )
    params = dict(
        max_depth=max_depth,
        width=draw(st.integers(1, 8)),
        prior=prior,
        lr=10.0 ** draw(st.floats(-5, 3)),
        depth_lr=draw(st.sampled_from([0.0, 0.1, 10.0])),
        batch_size=_mostly(draw, st.sampled_from([-1, 2, 7, 64]), st.just(1)),
        max_epochs=draw(st.integers(0, 6)),
        depth_warmup=draw(st.sampled_from([0, 2, 0.5, 1.0])),
        early_stopping=draw(st.sampled_from(["auto", False])),
        sparse_blocks=draw(st.sampled_from([None, "ard"])),
        random_state=0,
    )
    Estimator = DepthSearchClassifier if classifier else DepthSearchRegressor
    return Estimator(**params), X, y, sample_weight


def _check_case(case):
    est, X, y, sample_weight = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and prior warnings
        try:
            est.fit(X, y, sample_weight=sample_weight)
        except (ValueError, TypeError) as exc:
            assert str(exc), "an error must say what is wrong"
            return
        if isinstance(est, DepthSearchClassifier):
            proba = est.predict_proba(X)
            assert np.isfinite(proba).all()
            np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
        else:
            mean, std = est.predict(X, return_std=True)
            assert np.isfinite(mean).all()
            assert np.isfinite(std).all() and (std > 0).all()


_SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@settings(max_examples=100, **_SETTINGS)
@given(cases())
def test_fit_raises_clearly_or_predicts_finite_values(case):
    _check_case(case)


@pytest.mark.slow
@settings(max_examples=600, **_SETTINGS)
@given(cases())
def test_fit_raises_clearly_or_predicts_finite_values_many(case):
    _check_case(case)
