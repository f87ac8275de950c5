# SPDX-License-Identifier: MIT
"""Early stopping on held-out rows, and the defaults built on it (issue #12)."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from skorch.callbacks import Callback
from skorch.dataset import ValidSplit

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor
from sklearn_depth._early_stopping import HeldOutSplit, patience_epochs

FAST = dict(max_depth=3, width=8, random_state=0)


def _regression_data(n=200, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3).astype(np.float32)
    return X, X[:, 0] + np.sin(2 * X[:, 1]) + 0.1 * rng.randn(n)


class _Split(Callback):
    """Records the rows of the training and held-out datasets."""

    def on_train_begin(self, net, **kwargs):
        self.sizes = []

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kw):
        valid = None if dataset_valid is None else np.asarray(dataset_valid.indices)
        self.sizes.append((len(dataset_train), valid))


def test_auto_holds_out_a_stratified_fifth(spirals_small):
    X, y = spirals_small
    record = _Split()
    # One network: one split (members hold out rows each, test_members.py).
    clf = DepthSearchClassifier(
        **FAST, n_members=1, max_epochs=2, callbacks=[("s", record)]
    )
    clf.fit(X, y)
    n_train, valid = record.sizes[0]
    assert (n_train, len(valid)) == (160, 40)
    assert clf.n_train_ == 160
    assert np.bincount(y[valid]).tolist() == [20, 20]  # stratified
    assert "valid_loss" in clf.history[-1]


def test_held_out_rows_are_reproducible_under_random_state(spirals_small):
    X, y = spirals_small
    rows = []
    for seed in (0, 0, 1):
        record = _Split()
        DepthSearchClassifier(
            max_depth=2,
            width=8,
            max_epochs=1,
            n_members=1,
            random_state=seed,
            callbacks=[("s", record)],
        ).fit(X, y)
        rows.append(record.sizes[0][1])
    assert_array_equal(rows[0], rows[1])
    assert not np.array_equal(rows[0], rows[2])


@pytest.mark.parametrize(
    "kwargs, n",
    [
        ({"early_stopping": False}, 200),
        ({"train_split": ValidSplit(4, stratified=True)}, 150),  # the user's split
        ({}, 19),  # "auto" needs 20 rows
    ],
)
def test_when_rows_are_not_held_out(spirals_small, kwargs, n):
    X, y = spirals_small
    record = _Split()
    clf = DepthSearchClassifier(
        **FAST, max_epochs=3, callbacks=[("s", record)], **kwargs
    )
    clf.fit(X[:n] if n < 100 else X, y[:n] if n < 100 else y)
    assert clf.n_train_ == record.sizes[0][0]
    assert len(clf.history) == 3  # never stopped early
    if "train_split" not in kwargs:
        assert record.sizes[0][1] is None


def test_partial_fit_never_holds_rows_out(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(**FAST, max_epochs=2, early_stopping=True)
    clf.partial_fit(X, y).partial_fit(X, y)
    assert clf.n_train_ == 2 * len(X)
    assert "valid_loss" not in clf.history[-1]


def test_stops_after_patience_and_restores_the_best_epoch():
    X, y = _regression_data(120)
    states = []

    class Snapshot(Callback):
        def on_epoch_end(self, net, **kwargs):
            states.append(
                {
                    k: v.clone()
                    for k, v in net.module_.state_dict().items()
                    if isinstance(v, torch.Tensor)
                }
            )

    reg = DepthSearchRegressor(
        **FAST,
        lr=0.05,
        depth_warmup=3,
        n_iter_no_change=5,
        max_epochs=500,
        callbacks=[("snap", Snapshot())],
    ).fit(X, y)
    losses = np.array(reg.history[:, "valid_loss"])
    n_epochs = len(losses)
    assert n_epochs < 500
    best = 3 + int(np.argmin(losses[3:]))  # warm-up epochs are never the best
    assert n_epochs == best + 1 + 5  # patience used up after the best epoch
    restored = states[best]
    for name, value in reg.module_.state_dict().items():
        if isinstance(value, torch.Tensor) and name in restored:
            assert torch.equal(value, restored[name]), name
    q_best = np.array(reg.history[best, "posterior_depth"])
    assert_allclose(reg.posterior_depth_, q_best / q_best.sum(), rtol=1e-6)


@pytest.mark.parametrize(
    "n_iter_no_change, n_train, batch_size, expected",
    [
        ("auto", 180, 256, 200),
        ("auto", 1000, 100, 30),
        ("auto", 2000, 64, 30),
        ("auto", 640, 64, 30),
        ("auto", 512, 256, 100),
        (7, 180, 256, 7),
    ],
)
def test_patience(n_iter_no_change, n_train, batch_size, expected):
    assert patience_epochs(n_iter_no_change, n_train, batch_size) == expected


def test_n_iter_no_change_of_a_wrong_type(spirals_small):
    X, y = spirals_small
    with pytest.raises(TypeError, match="n_iter_no_change"):
        DepthSearchClassifier(**FAST, n_iter_no_change="never").fit(X, y)


def test_warmup_epochs_are_never_the_best():
    X, y = _regression_data(120)
    reg = DepthSearchRegressor(
        **FAST, depth_warmup=8, n_iter_no_change=2, max_epochs=50
    ).fit(X, y)
    assert len(reg.history) >= 8 + 1 + 2


def test_valid_loss_is_the_weighted_marginal_nll():
    X, y = _regression_data(100)
    w = np.where(np.arange(100) % 2, 3.0, 1.0)
    reg = DepthSearchRegressor(
        **FAST, max_epochs=1, train_split=ValidSplit(5), early_stopping=True
    ).fit(X, y, sample_weight=w)
    valid = np.arange(100)[np.asarray(ValidSplit(5)(np.arange(100))[1].indices)]
    # Recompute the held-out loss from the (single, final) epoch's module.
    net = reg
    module = net.module_
    with torch.no_grad(), module.all_depths():
        module.eval()
        out = module(torch.as_tensor(X[valid]))
        log_q = module.log_q()
        y_std = torch.as_tensor((y[valid] - reg.y_mean_) / reg.y_scale_)[:, None]
        # (The members' mixture: a train_split of one's own trains them all.)
        ll = net.criterion_.mixture_log_likelihood(
            out, y_std.float(), log_noise=module.log_noise
        )
        nll = -torch.logsumexp(ll + log_q, dim=1).double().numpy()
    expected = np.sum(w[valid] * nll) / np.sum(w[valid])
    assert_allclose(reg.history[-1, "valid_loss"], expected, rtol=1e-4)


def test_split_falls_back_when_a_class_is_too_rare():
    y = np.array([0] * 30 + [1] * 29 + [2])
    train, valid = HeldOutSplit(0.1, stratify=True, seed=0)(np.arange(60), y)
    assert (len(train), len(valid)) == (54, 6)
    assert not set(train.indices) & set(valid.indices)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"early_stopping": "yes"}, "early_stopping"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"validation_fraction": 0}, "validation_fraction"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
        ({"tol": -1.0}, "tol"),
    ],
)
def test_bad_early_stopping_parameters(spirals_small, params, match):
    # (a wrong type, e.g. n_iter_no_change="never", is a TypeError instead)
    X, y = spirals_small
    with pytest.raises(ValueError, match=match):
        DepthSearchClassifier(**FAST, **params).fit(X, y)


def test_warm_start_continues_training_on_a_new_split(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(**FAST, n_members=1, max_epochs=3, warm_start=True)
    clf.fit(X, y)
    first = len(clf.history)
    clf.fit(X, y)
    assert len(clf.history) == first + 3  # continued, not re-initialised
    assert clf.n_train_ == 160


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rare_flags_do_not_explode_predictions(seed):
    # Flag columns that are 0 on every training row, set on test rows (a
    # rare one-hot level after scaling): the old block layout normalised
    # after the ReLU, whose running variance of silenced units fell to
    # 1e-37, and predicted several target ranges away (#12).
    rng = np.random.RandomState(seed)
    X = np.hstack([rng.randn(1000, 3), np.zeros((1000, 4))]).astype(np.float32)
    y = X[:, 0] + np.sin(2 * X[:, 1]) + 0.1 * rng.randn(1000)
    test = np.repeat(X[:100], 4, axis=0)
    for j in range(4):
        test[j::4, 3 + j] = 10.0
    reg = DepthSearchRegressor(random_state=seed).fit(X, y)
    pred = reg.predict(test)
    span = y.max() - y.min()
    assert pred.max() <= y.max() + span and pred.min() >= y.min() - span
    min_var = min(
        float(m.running_var.min())
        for m in reg.module_.modules()
        if isinstance(m, torch.nn.BatchNorm1d)
    )
    assert min_var > 1e-3
