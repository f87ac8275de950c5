# SPDX-License-Identifier: MIT
"""``weight_decay``: the annealed default, constants, and who wins."""

from __future__ import annotations

import pytest
import torch
from skorch.callbacks import Callback

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor
from sklearn_depth._optim import SCHEDULED, scheduled_weight_decay

both = pytest.mark.parametrize(
    "Estimator", [DepthSearchClassifier, DepthSearchRegressor]
)


class RecordDecay(Callback):
    """The decay of every optimiser group in each epoch, as training used it."""

    def initialize(self):
        self.decays_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.decays_.append([g["weight_decay"] for g in net.optimizer_.param_groups])


def _fit(Estimator, X, y, params, **kwargs):
    record = RecordDecay()
    kwargs = {"weight_decay": "auto", **kwargs}
    est = Estimator(**{**params, **kwargs}, callbacks=[("record", record)])
    return est.fit(X, y), record.decays_


def _scheduled(est):
    return [g.get(SCHEDULED, False) for g in est.optimizer_.param_groups]


def test_auto_schedule_values():
    decays = [scheduled_weight_decay("auto", e, True) for e in range(0, 400, 20)]
    assert decays[:4] == [3.0, 1.5, 0.75, 0.375]
    assert all(a >= b for a, b in zip(decays, decays[1:], strict=False))
    assert decays[-1] == 0.01  # AdamW's default, reached and kept
    # Without early stopping nothing picks an epoch on the way: AdamW's default.
    assert {scheduled_weight_decay("auto", e, False) for e in range(50)} == {0.01}
    assert scheduled_weight_decay(0.2, 0, True) == 0.2
    assert scheduled_weight_decay(0.2, 99, False) == 0.2


@both
def test_auto_anneals_the_network_weights_only(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    est, decays = _fit(
        Estimator, X, y, fast_params, early_stopping=True, n_iter_no_change=100
    )
    assert len(decays) == fast_params["max_epochs"]  # patience outlasts the fit
    scheduled = _scheduled(est)
    # The groups of q's logits (and of the noise scale) are never decayed.
    assert scheduled[0] is False and scheduled[-1] is True
    for epoch, row in enumerate(decays):
        for decay, is_scheduled in zip(row, scheduled, strict=True):
            expected = (
                scheduled_weight_decay("auto", epoch, True) if is_scheduled else 0.0
            )
            assert decay == pytest.approx(expected)
    assert decays[0][-1] == 3.0 and decays[-1][-1] < 3.0


def test_auto_halves_at_least_every_400_steps(spirals_small, tiny_params):
    X, y = spirals_small
    params = {**tiny_params, "max_epochs": 12, "batch_size": 4}
    est, decays = _fit(
        DepthSearchClassifier, X, y, params, early_stopping=True, n_iter_no_change=50
    )
    n_train = est.n_train_
    steps = -(-n_train // 4)  # a last batch of one row would be dropped, not here
    assert n_train % 4 != 1 and steps > 20  # so the half-life is below 20 epochs
    half_life = 400 / steps
    assert [row[-1] for row in decays] == pytest.approx(
        [max(3.0 * 0.5 ** (e / half_life), 0.01) for e in range(len(decays))]
    )


@both
def test_auto_without_early_stopping_is_adamw_default(
    Estimator, estimator_data, fast_params
):
    X, y = estimator_data
    est, decays = _fit(Estimator, X, y, fast_params)  # early_stopping=False
    assert _scheduled(est)[-1] is True
    assert {row[-1] for row in decays} == {0.01}


@both
def test_a_number_is_constant(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    _, decays = _fit(Estimator, X, y, fast_params, weight_decay=0.25)
    assert {row[-1] for row in decays} == {0.25}
    assert {row[0] for row in decays} == {0.0}


@both
def test_optimizer_weight_decay_wins(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    est, decays = _fit(Estimator, X, y, fast_params, optimizer__weight_decay=1e-3)
    assert not any(_scheduled(est))
    assert {row[-1] for row in decays} == {1e-3}


def test_a_users_group_keeps_its_decay(spirals_small, fast_params):
    X, y = spirals_small
    est, decays = _fit(
        DepthSearchClassifier,
        X,
        y,
        fast_params,
        optimizer__param_groups=[("head.*", {"weight_decay": 0.5})],
    )
    groups = est.optimizer_.param_groups
    head = next(
        g for g in groups if any(p is est.module_.head.weight for p in g["params"])
    )
    assert head["weight_decay"] == 0.5 and not head.get(SCHEDULED, False)
    assert groups[-1][SCHEDULED] and decays[-1][-1] == 0.01


def test_auto_leaves_other_optimisers_at_their_default(spirals_small, fast_params):
    X, y = spirals_small
    est, decays = _fit(
        DepthSearchClassifier, X, y, fast_params, optimizer=torch.optim.Adam
    )
    assert not any(_scheduled(est)) and {row[-1] for row in decays} == {0}
    # A number is passed to any optimiser that takes a weight decay.
    _, decays = _fit(
        DepthSearchClassifier,
        X,
        y,
        fast_params,
        optimizer=torch.optim.SGD,
        weight_decay=1e-4,
    )
    assert {row[-1] for row in decays} == {1e-4}


def test_warm_start_continues_the_schedule(spirals_small, fast_params):
    X, y = spirals_small
    params = {**fast_params, "early_stopping": True, "n_iter_no_change": 100}
    est = DepthSearchClassifier(**params, weight_decay="auto", warm_start=True)
    for _ in range(2):
        est.fit(X, y)
    n_epochs = len(est.history)
    assert n_epochs == 2 * fast_params["max_epochs"]
    last = est.optimizer_.param_groups[-1]["weight_decay"]
    assert last == pytest.approx(scheduled_weight_decay("auto", n_epochs - 1, True))
    # partial_fit never holds rows out, so nothing anneals there.
    est.partial_fit(X, y)
    assert est.optimizer_.param_groups[-1]["weight_decay"] == 0.01


def test_switching_the_callback_off_keeps_adamw_default(spirals_small, fast_params):
    X, y = spirals_small
    params = {**fast_params, "early_stopping": True}
    est = DepthSearchClassifier(
        **params, weight_decay="auto", callbacks__weight_decay=None
    ).fit(X, y)
    assert est.optimizer_.param_groups[-1]["weight_decay"] == 0.01


@pytest.mark.parametrize(
    ("Estimator", "default"),
    [(DepthSearchClassifier, "auto"), (DepthSearchRegressor, 0.01)],
)
def test_defaults(Estimator, default, estimator_data, fast_params):
    X, y = estimator_data
    params = {**fast_params, "early_stopping": True, "n_iter_no_change": 100}
    est = Estimator(**params).fit(X, y)
    assert est.weight_decay == default
    first_epoch = scheduled_weight_decay(default, 0, early_stopping=True)
    assert first_epoch == (3.0 if default == "auto" else 0.01)
    last = scheduled_weight_decay(default, len(est.history) - 1, early_stopping=True)
    assert est.optimizer_.param_groups[-1]["weight_decay"] == pytest.approx(last)


@pytest.mark.parametrize("value", ["strong", -0.1, float("nan"), [0.1]])
def test_bad_weight_decay_is_refused(spirals_small, value):
    X, y = spirals_small
    with pytest.raises((ValueError, TypeError), match="weight_decay"):
        DepthSearchClassifier(weight_decay=value, max_epochs=1).fit(X, y)
