# SPDX-License-Identifier: MIT
"""Temperature scaling on the held-out rows of early stopping (#12)."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss

from sklearn_depth import DepthSearchClassifier
from sklearn_depth._depth import fit_temperature


@pytest.fixture(scope="module")
def noisy():
    # Labels flipped at random: a network trained on them is over-confident.
    X, y = make_classification(
        600, n_features=10, n_informative=4, flip_y=0.2, random_state=0
    )
    return X[:400], y[:400], X[400:], y[400:]


def test_auto_temperature_softens_an_over_confident_fit(noisy):
    X, y, X_test, y_test = noisy
    # A constant, weak weight decay keeps the early-stopped fit over-confident
    # (weight_decay="auto" already calibrates this one: temperature_ 1).
    params = dict(max_depth=4, width=32, random_state=0, weight_decay=0.01)
    auto = DepthSearchClassifier(**params).fit(X, y)
    off = DepthSearchClassifier(**params, temperature=1.0).fit(X, y)
    assert auto.temperature_ > 1.0 and off.temperature_ == 1.0
    # The same network: only the temperature differs.
    assert_allclose(auto.posterior_depth_, off.posterior_depth_)
    assert log_loss(y_test, auto.predict_proba(X_test)) < log_loss(
        y_test, off.predict_proba(X_test)
    )
    assert (auto.predict(X_test) == off.predict(X_test)).mean() > 0.97


def test_temperature_enters_every_prediction(noisy):
    X, y, X_test, _ = noisy
    clf = DepthSearchClassifier(
        max_depth=4, width=32, random_state=0, weight_decay=0.01
    ).fit(X, y)
    assert clf.temperature_ > 1.0  # over-confident, as above
    per_depth = clf.predict_proba_per_depth(X_test)[:, : clf.depth_ + 1]
    q = clf.pruned_posterior_depth_[: clf.depth_ + 1]
    assert_allclose(
        clf.predict_proba(X_test), np.einsum("ndc,d->nc", per_depth, q), rtol=1e-10
    )
    net = clf.export_pruned()
    exported = net(torch.as_tensor(X_test, dtype=torch.float32)).detach().numpy()
    assert_allclose(exported, clf.predict_proba(X_test), atol=1e-5)


def test_without_held_out_rows_the_temperature_is_one(noisy):
    X, y, _, _ = noisy
    clf = DepthSearchClassifier(max_depth=2, max_epochs=20, early_stopping=False)
    assert clf.fit(X, y).temperature_ == 1.0
    assert clf.partial_fit(X, y).temperature_ == 1.0


def test_a_fixed_temperature_is_used_as_given(noisy):
    X, y, X_test, _ = noisy
    params = dict(max_depth=2, max_epochs=20, random_state=0, early_stopping=False)
    hot = DepthSearchClassifier(**params, temperature=3.0).fit(X, y)
    cold = DepthSearchClassifier(**params, temperature=1.0).fit(X, y)
    assert hot.temperature_ == 3.0
    # Softer, never more confident.
    assert (hot.predict_proba(X_test).max(1) <= cold.predict_proba(X_test).max(1)).all()


@pytest.mark.parametrize("bad", [0, -1.0, "warm", np.inf])
def test_bad_temperature_is_refused(noisy, bad):
    X, y, _, _ = noisy
    with pytest.raises((ValueError, TypeError), match="temperature"):
        DepthSearchClassifier(temperature=bad, max_epochs=1).fit(X, y)


def test_fit_temperature_never_sharpens():
    # Perfectly separated held-out rows would ask for T -> 0; T stays 1.
    logits = np.array([[[3.0, -3.0]], [[-3.0, 3.0]]])
    assert fit_temperature(logits, np.array([0, 1]), np.array([1.0])) == 1.0
    # Weighted rows: the weighted likelihood decides.
    logits = np.array([[[3.0, -3.0]], [[3.0, -3.0]]])
    y = np.array([0, 1])
    heavy_mistake = fit_temperature(logits, y, np.array([1.0]), np.array([1.0, 9.0]))
    light_mistake = fit_temperature(logits, y, np.array([1.0]), np.array([9.0, 1.0]))
    assert heavy_mistake > light_mistake >= 1.0
