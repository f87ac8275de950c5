# SPDX-License-Identifier: MIT
"""Staged predictions, early exit, the entropy split and novelty scores (#16)."""

import copy

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor, make_spirals
from sklearn_depth._depth import marginal_proba
from sklearn_depth._stages import stage_weights


@pytest.fixture(scope="module")
def spirals_clf(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(
        max_depth=6, width=16, max_epochs=80, random_state=0, early_stopping=False
    )
    return clf.fit(X, y)


@pytest.fixture(scope="module")
def spirals_reg(spirals_regression):
    X, y = spirals_regression
    reg = DepthSearchRegressor(
        max_depth=6, width=16, max_epochs=60, random_state=0, early_stopping=False
    )
    return reg.fit(X, y)


def test_stages_fold_the_posterior_tail(spirals_clf, spirals_small):
    X, _ = spirals_small
    clf = spirals_clf
    assert clf.depth_ >= 2
    stages = list(clf.staged_predict_proba(X))
    assert len(stages) == clf.depth_ + 1
    per_depth = clf.predict_proba_per_depth(X)[:, : clf.depth_ + 1]
    q = clf.pruned_posterior_depth_[: clf.depth_ + 1]
    for k, stage in enumerate(stages):
        want = np.einsum("ndc,d->nc", per_depth[:, : k + 1], stage_weights(q, k))
        assert_allclose(stage, want, rtol=1e-10, atol=1e-12)
    assert_allclose(stages[0], per_depth[:, 0], rtol=1e-10)
    assert_array_equal(stages[-1], clf.predict_proba(X))
    predicted = list(clf.staged_predict(X))
    assert_array_equal(predicted[-1], clf.predict(X))
    for labels, proba in zip(predicted, stages, strict=True):
        assert_array_equal(labels, clf.classes_[proba.argmax(axis=1)])


def test_stage_weights_fold_the_tail():
    assert_allclose(stage_weights([0.1, 0.2, 0.3, 0.4], 0), [1.0])
    assert_allclose(stage_weights([0.1, 0.2, 0.3, 0.4], 3), [0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize("threshold", [None, 1.5])
def test_no_exit_reproduces_predict_proba_exactly(
    spirals_clf, spirals_small, threshold
):
    X, _ = spirals_small
    clf = copy.deepcopy(spirals_clf)
    want = clf.predict_proba(X)
    clf.set_params(exit_threshold=threshold)
    assert_array_equal(clf.predict_proba(X), want)
    assert_array_equal(clf.exit_depths(X), clf.depth_)


def test_every_row_leaves_at_depth_zero_under_threshold_zero(
    spirals_clf, spirals_small
):
    X, _ = spirals_small
    clf = copy.deepcopy(spirals_clf).set_params(exit_threshold=0.0)
    assert_array_equal(clf.exit_depths(X), 0)
    stage0 = next(spirals_clf.staged_predict_proba(X))
    assert_allclose(clf.predict_proba(X), stage0, rtol=1e-12)


def test_exits_stop_computing_the_rows_that_left(spirals_clf, spirals_small):
    X, _ = spirals_small
    clf = copy.deepcopy(spirals_clf).set_params(exit_threshold=0.9)
    depths = clf.exit_depths(X)
    assert 0 < depths.mean() < clf.depth_
    proba = clf.predict_proba(X)
    stages = list(spirals_clf.staged_predict_proba(X))
    for k in np.unique(depths):
        rows = depths == k
        assert_allclose(proba[rows], stages[k][rows], rtol=1e-10, atol=1e-12)
        # A row leaves at the first stage that is confident enough.
        assert (stages[k][rows].max(axis=1) >= 0.9).all() or k == clf.depth_
        for earlier in range(k):
            assert (stages[earlier][rows].max(axis=1) < 0.9).all()
    # The blocks after a row's exit are never computed for it: NaN weights
    # there leave its prediction as it was.
    first = depths.min()
    rows = depths == first
    broken = copy.deepcopy(clf)
    with torch.no_grad():
        for block in broken.module_.blocks[first:]:
            block.linear.weight.fill_(float("nan"))
    assert_array_equal(broken.predict_proba(X[rows]), proba[rows])
    assert np.isnan(broken.predict_proba(X[~rows])).all()


def test_exits_without_the_numpy_path_agree(spirals_clf, spirals_small, wrapped_module):
    # A user module predicts through torch: every block runs, the exits are
    # read off the full outputs, with the same result.
    X, y = spirals_small
    # (one network: the user module has no members; test_members.py checks
    # the torch path of members)
    params = {**spirals_clf.get_params(), "exit_threshold": 0.9, "n_members": 1}
    default = DepthSearchClassifier(**params).fit(X, y)
    custom = DepthSearchClassifier(**{**params, "module": wrapped_module}).fit(X, y)
    assert_array_equal(custom.exit_depths(X), default.exit_depths(X))
    assert_allclose(custom.predict_proba(X), default.predict_proba(X), rtol=1e-10)


def test_tune_exit_threshold_saves_blocks_within_the_tolerance(spirals_clf):
    X, y = make_spirals(300, noise=0.2, random_state=1)
    clf = copy.deepcopy(spirals_clf)
    full_pred, full_score = clf.predict(X), clf.score(X, y)
    clf.tune_exit_threshold(X, tolerance=0.01)
    assert clf.exit_threshold is not None
    assert clf.exit_depths(X).mean() < clf.depth_
    # At most 1 % of the predictions change, so accuracy falls by at most 1 %.
    assert (clf.predict(X) != full_pred).mean() <= 0.01
    assert clf.score(X, y) >= full_score - 0.01
    # A tolerance of 0 allows one changed row; a larger one saves more.
    strict = copy.deepcopy(spirals_clf).tune_exit_threshold(X, tolerance=0.0)
    assert (strict.predict(X) != full_pred).sum() <= 1
    assert strict.exit_depths(X).mean() >= clf.exit_depths(X).mean()


def test_tune_exit_threshold_checks_its_input(spirals_clf, spirals_small):
    X, _ = spirals_small
    clf = copy.deepcopy(spirals_clf)
    with pytest.raises(ValueError, match="tolerance"):
        clf.tune_exit_threshold(X, tolerance=-1)
    with pytest.raises(ValueError, match="features"):
        clf.tune_exit_threshold(X[:, :1])


@pytest.mark.parametrize("bad", [-0.1, "high", np.nan])
def test_bad_exit_threshold_is_refused(spirals_clf, spirals_small, bad):
    X, y = spirals_small
    clf = copy.deepcopy(spirals_clf).set_params(exit_threshold=bad)
    with pytest.raises((ValueError, TypeError), match="exit_threshold"):
        clf.predict_proba(X)
    with pytest.raises((ValueError, TypeError), match="exit_threshold"):
        clf.fit(X, y)


def test_entropy_components_add_up(spirals_clf, spirals_small):
    X, _ = spirals_small
    aleatoric, epistemic = spirals_clf.predict_entropy_components(X)
    proba = spirals_clf.predict_proba(X)
    total = -(proba * np.log(proba)).sum(axis=1)
    assert (aleatoric >= 0).all() and (epistemic >= 0).all()
    assert_allclose(aleatoric + epistemic, total, rtol=1e-9, atol=1e-12)
    assert_array_equal(spirals_clf.score_samples(X), -epistemic)


def test_entropy_split_is_all_aleatoric_at_depth_zero(spirals_small):
    X, y = spirals_small
    prior = np.array([1.0, 0.0, 0.0])  # only depth 0
    clf = DepthSearchClassifier(
        max_depth=2, width=8, max_epochs=20, prior=prior, random_state=0, n_members=1
    ).fit(X, y)
    assert clf.depth_ == 0
    aleatoric, epistemic = clf.predict_entropy_components(X)
    assert_array_equal(epistemic, 0.0)  # one network (members: test_members.py)
    proba = clf.predict_proba(X)
    assert_allclose(aleatoric, -(proba * np.log(proba)).sum(axis=1), rtol=1e-9)


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e8])
def test_scores_are_finite_for_any_input(spirals_clf, spirals_reg, scale):
    X = np.random.RandomState(0).randn(50, 2) * scale
    for est in (spirals_clf, spirals_reg):
        assert np.isfinite(est.score_samples(X)).all()


def test_regressor_stages_and_score(spirals_reg, spirals_small):
    X, _ = spirals_small
    reg = spirals_reg
    stages = list(reg.staged_predict(X))
    assert len(stages) == reg.depth_ + 1
    assert_array_equal(stages[-1], reg.predict(X))
    per_depth = reg.predict_per_depth(X)
    assert_allclose(stages[0], per_depth[:, 0], rtol=1e-10)
    _, depth_std = reg.predict_std_components(X)
    assert_allclose(reg.score_samples(X), -depth_std / reg.y_scale_[0], rtol=1e-10)


def test_marginal_proba_matches_log_space():
    # The NumPy marginal of prediction against the log-space one of training.
    from sklearn_depth._depth import marginal_log_proba

    rng = np.random.RandomState(0)
    logits = rng.randn(7, 4, 3) * 5
    q = rng.dirichlet(np.ones(4))
    log_proba = torch.log_softmax(torch.as_tensor(logits), dim=-1)
    want = marginal_log_proba(log_proba, torch.as_tensor(q).log()).exp().numpy()
    assert_allclose(marginal_proba(logits, q), want, rtol=1e-12)
