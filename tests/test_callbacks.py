# SPDX-License-Identifier: MIT
"""The default callbacks: warm-up, KL annealing, posterior history."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from skorch.callbacks import Callback
from skorch.dataset import ValidSplit

from sklearn_depth import DepthSearchClassifier
from sklearn_depth._callbacks import warmup_epochs

FAST = dict(max_depth=3, width=8, random_state=0)


class _Record(Callback):
    """Records, per training batch, whether q's logits get gradient and the
    ARD strength in use (after the default callbacks ran)."""

    def initialize(self):
        self.frozen, self.strength = [], {True: [], False: []}
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.frozen.append(not net.module_.depth_logits.requires_grad)
        self.strength[training].append(net.criterion_.sparsity_strength)


@pytest.mark.parametrize(
    "depth_warmup, max_epochs, expected", [(0.25, 200, 50), (0.5, 5, 2), (3, 10, 3)]
)
def test_warmup_epochs(depth_warmup, max_epochs, expected):
    assert warmup_epochs(depth_warmup, max_epochs) == expected


def test_q_is_frozen_exactly_during_the_warmup(spirals_small):
    X, y = spirals_small
    record = _Record()
    clf = DepthSearchClassifier(
        **FAST, max_epochs=6, depth_warmup=3, callbacks=[("record", record)]
    ).fit(X, y)
    assert record.frozen == [True] * 3 + [False] * 3
    q = np.array(clf.history[:, "posterior_depth"])
    assert_allclose(q[:3], 0.25)  # the uniform prior, untouched
    assert np.abs(q[3:] - 0.25).max() > 1e-3
    # Fitted state: no warm-up left behind.
    assert clf.module_.depth_logits.requires_grad


def test_partial_fit_does_not_warm_up_again(spirals_small):
    X, y = spirals_small
    record = _Record()
    clf = DepthSearchClassifier(
        **FAST, max_epochs=2, depth_warmup=2, callbacks=[("record", record)]
    )
    clf.partial_fit(X, y).partial_fit(X, y)
    assert record.frozen == [True, True, False, False]


def test_ard_kl_annealed_in_training_full_in_validation(spirals_small):
    X, y = spirals_small
    record = _Record()
    clf = DepthSearchClassifier(
        **FAST,
        max_epochs=5,
        depth_warmup=4,
        sparse_blocks="ard",
        sparsity_strength=0.2,
        train_split=ValidSplit(4, stratified=True),
        callbacks=[("record", record)],
    ).fit(X, y)
    assert_allclose(record.strength[True], [0, 0.05, 0.1, 0.15, 0.2])
    assert_allclose(record.strength[False], [0.2] * 5)
    assert clf.criterion_.sparsity_strength == 0.2


def test_annealing_can_be_switched_off(spirals_small):
    X, y = spirals_small
    record = _Record()
    DepthSearchClassifier(
        **FAST,
        max_epochs=3,
        depth_warmup=2,
        sparse_blocks="ard",
        sparsity_strength=0.2,
        callbacks=[("record", record)],
        callbacks__depth_warmup__anneal_sparsity=False,
    ).fit(X, y)
    assert_allclose(record.strength[True], [0.2] * 3)
    assert record.frozen == [True, True, False]  # q is still warmed up


def test_posterior_history_records_q_and_its_mean(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(**FAST, max_epochs=4, depth_warmup=1).fit(X, y)
    q = np.array(clf.history[:, "posterior_depth"])
    assert q.shape == (4, 4)
    assert_allclose(q.sum(axis=1), 1.0, rtol=1e-6)
    assert_allclose(clf.history[:, "expected_depth"], q @ np.arange(4), rtol=1e-6)
    assert_allclose(q[-1], clf.posterior_depth_, rtol=1e-6)


@pytest.mark.parametrize("callbacks", [-1, "helloworld", [1], [("a", 2)]])
def test_invalid_callbacks_set_fine_but_fail_at_fit(spirals_small, callbacks):
    X, y = spirals_small
    clf = DepthSearchClassifier(**FAST, max_epochs=1)
    clf.set_params(callbacks=callbacks)  # scikit-learn: set_params never fails
    with pytest.raises(TypeError, match="callbacks must be"):
        clf.fit(X, y)


def test_disable_and_named_callbacks_are_valid(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(**FAST, max_epochs=1, callbacks="disable").fit(X, y)
    assert clf.callbacks_ == []
    assert "posterior_depth" not in clf.history[-1]
