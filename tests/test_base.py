# SPDX-License-Identifier: MIT
"""What _DepthSearchBase adds to skorch: user modules and criteria, the
optimiser's parameter groups and the warm-up (sklearn_depth/_base.py)."""

import numpy as np
import pytest
import torch
from _predictions import assert_same_predictions, predictions
from numpy.testing import assert_allclose, assert_array_equal
from skorch.callbacks import Callback
from torch import nn

from sklearn_depth import (
    CategoricalDepthELBO,
    DepthResMLP,
    DepthSearchClassifier,
    DepthSearchRegressor,
    GaussianDepthELBO,
    ResidualBlock,
)
from sklearn_depth._export import export_body

both = pytest.mark.parametrize(
    "Estimator", [DepthSearchClassifier, DepthSearchRegressor]
)


# -- a user module (module=) ----------------------------------------------------

N_PARAMS = (
    "n_params_",
    "n_params_pruned_",
    "n_params_removed_depth_",
    "n_params_removed_ard_",
)


@both
def test_user_module_trains_and_predicts(
    Estimator, estimator_data, fast_params, wrapped_module
):
    X, y = estimator_data
    fast_params = {**fast_params, "n_members": 1}  # the user module has none
    default = Estimator(**fast_params).fit(X, y)
    custom = Estimator(**fast_params, module=wrapped_module).fit(X, y)
    assert type(custom.module_) is wrapped_module
    # The same network inside, seeded alike: the same training and predictions.
    assert_array_equal(custom.posterior_depth_, default.posterior_depth_)
    assert custom.depth_ == default.depth_
    assert custom.module_.active_depth == custom.depth_  # pruned
    # The default module predicts through NumPy (batch norm folded), the
    # user's through torch: the same float64 values up to rounding.
    assert_same_predictions(custom, default, X, rtol=1e-10, atol=1e-12)
    # Parameters are counted in the exported form of a DepthResMLP only.
    for name in N_PARAMS:
        assert hasattr(default, name) and not hasattr(custom, name)


@both
def test_user_module_without_active_state_predicts_from_its_full_state(
    Estimator, estimator_data, fast_params, wrapped_module
):
    # Inference casts every parameter and buffer (not only the active
    # depths' ones, as DepthResMLP.active_state does) and still runs only
    # the kept blocks.
    X, y = estimator_data
    est = Estimator(**fast_params, module=wrapped_module).fit(X, y)
    assert not hasattr(est.module_, "active_state")
    blocks = est.module_.net.blocks
    calls = []
    handles = [
        block.register_forward_hook(lambda *_, i=i: calls.append(i))
        for i, block in enumerate(blocks)
    ]
    try:
        first = predictions(est, X)[0]
        assert sorted(set(calls)) == list(range(est.depth_))
    finally:
        for handle in handles:
            handle.remove()
    assert first.dtype == np.float64
    # float64 inference: a row's prediction does not depend on its batch
    assert_array_equal(predictions(est, X[:7])[0], first[:7])


class _TanhBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.linear = nn.Linear(width, width)

    def forward(self, h):
        return h + torch.tanh(self.linear(h))


class _TanhResMLP(DepthResMLP):
    """A DepthResMLP subclass whose blocks are not ResidualBlocks."""

    def __init__(self, n_features, n_outputs, *, width=32, **kwargs):
        super().__init__(n_features, n_outputs, width=width, **kwargs)
        self.blocks = nn.ModuleList(_TanhBlock(width) for _ in self.blocks)


def test_user_module_subclass_with_its_own_blocks(spirals_small, fast_params):
    X, y = spirals_small
    clf = DepthSearchClassifier(**fast_params, module=_TanhResMLP).fit(X, y)
    assert all(isinstance(block, _TanhBlock) for block in clf.module_.blocks)
    assert clf.predict_proba(X).shape == (len(X), 2)
    # Blocks the export does not know: no parameter counts, a clear export error.
    assert not hasattr(clf, "n_params_")
    with pytest.raises(TypeError, match="Cannot export a block of type _TanhBlock"):
        clf.export_pruned()


class _ScaledBlock(ResidualBlock):
    """A ResidualBlock subclass computing something else."""

    def forward(self, h):
        return h + 2.0 * self.linear(torch.relu(self.norm(h)))


def test_export_rejects_residual_block_subclasses():
    # The export folds what it knows; a subclass may compute anything else.
    module = DepthResMLP(2, 2, max_depth=2, width=4)
    module.blocks[0] = _ScaledBlock(4)
    with pytest.raises(TypeError, match="_ScaledBlock"):
        export_body(module, depth=2)


# -- a user criterion (criterion=) ----------------------------------------------


class _RecordCalls:
    """Records the N of every call; takes an extra argument ``tag``."""

    def __init__(self, *, tag=None, **kwargs):
        super().__init__(**kwargs)
        self.tag = tag
        self.n_train_seen = []

    def forward(self, y_pred, y_true, log_q, log_prior, n_train, *args, **kwargs):
        self.n_train_seen.append(n_train)
        return super().forward(
            y_pred, y_true, log_q, log_prior, n_train, *args, **kwargs
        )


class RecordingCategoricalELBO(_RecordCalls, CategoricalDepthELBO):
    pass


class RecordingGaussianELBO(_RecordCalls, GaussianDepthELBO):
    pass


RECORDING = {
    DepthSearchClassifier: RecordingCategoricalELBO,
    DepthSearchRegressor: RecordingGaussianELBO,
}


@both
def test_user_criterion_is_used(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    params = {**fast_params, "kl_weight": 0.5, "sparsity_strength": 0.3}
    est = Estimator(**params, criterion=RECORDING[Estimator], criterion__tag="mine")
    est.fit(X, y)
    criterion = est.criterion_
    assert type(criterion) is RECORDING[Estimator]
    assert criterion.tag == "mine"
    assert (criterion.kl_weight, criterion.sparsity_strength) == (0.5, 0.3)
    # one full batch per epoch, with N = every row
    assert criterion.n_train_seen == [len(X)] * fast_params["max_epochs"]
    # it is the default ELBO, so the fit is the default one
    default = Estimator(**params).fit(X, y)
    assert_same_predictions(est, default, X)


@both
def test_criterion_params_override_the_estimator_params(
    Estimator, estimator_data, fast_params
):
    est = Estimator(
        **{**fast_params, "max_epochs": 0},
        kl_weight=0.5,
        criterion=RECORDING[Estimator],
        criterion__kl_weight=2.0,
    ).fit(*estimator_data)
    assert est.criterion_.kl_weight == 2.0
    assert est.criterion_.sparsity_strength == est.sparsity_strength == 0.1


# -- the optimiser's parameter groups -------------------------------------------


@both
def test_depth_lr_is_its_own_param_group(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    est = Estimator(
        **{**fast_params, "max_epochs": 1}, depth_lr=0.3, optimizer__weight_decay=1e-3
    ).fit(X, y)
    depth_group, *_, rest = est.optimizer_.param_groups
    assert depth_group["lr"] == 0.3 and depth_group["weight_decay"] == 0.0
    assert depth_group["params"][0] is est.module_.depth_logits
    assert rest["lr"] == fast_params.get("lr", 0.01) and rest["weight_decay"] == 1e-3


FUSED_ON_CPU = tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)


@pytest.mark.skipif(not FUSED_ON_CPU, reason="fused Adam on CPU needs torch>=2.4")
@both
@pytest.mark.parametrize(
    "params, fused",
    [
        ({}, True),
        ({"optimizer": torch.optim.AdamW}, True),
        ({"optimizer__fused": False}, False),
        ({"optimizer__foreach": True}, None),
        ({"optimizer": torch.optim.SGD}, None),
    ],
)
def test_adam_is_fused_unless_told_otherwise(
    Estimator, estimator_data, fast_params, params, fused
):
    X, y = estimator_data
    est = Estimator(**{**fast_params, "max_epochs": 1}, **params).fit(X, y)
    assert est.optimizer_.defaults.get("fused") is fused
    assert all(g.get("fused") is fused for g in est.optimizer_.param_groups)


# Slow: a statistical claim that holds for some seeds only (with seeds 5-18
# the fits differ by up to 0.05 after 15 epochs).
@pytest.mark.slow
@both
def test_fused_adam_trains_like_the_loop(Estimator, estimator_data, fast_params):
    """The fused kernel changes the last digits only."""
    X, y = estimator_data
    fused = Estimator(**fast_params).fit(X, y)
    loop = Estimator(**fast_params, optimizer__fused=False).fit(X, y)
    assert_allclose(fused.posterior_depth_, loop.posterior_depth_, atol=1e-3)
    assert_same_predictions(fused, loop, X, atol=1e-3)


# -- the warm-up ----------------------------------------------------------------


@both
def test_warmup_holds_q_uniform_then_learns(
    Estimator, random_estimator_data, fast_params, global_random_seed
):
    X, y = random_estimator_data
    params = {**fast_params, "max_epochs": 8, "random_state": global_random_seed}
    est = Estimator(**params, depth_warmup=0.5).fit(X, y)
    q_hist = np.array(est.history[:, "posterior_depth"])
    assert_allclose(q_hist[:4], 0.2, rtol=1e-6)
    assert np.abs(q_hist[-1] - 0.2).max() > 1e-3
    est = Estimator(**params, depth_warmup=3)
    q_hist = np.array(est.fit(X, y).history[:, "posterior_depth"])
    assert_allclose(q_hist[:3], 0.2, rtol=1e-6)
    assert np.abs(q_hist[3] - 0.2).max() > 1e-4


def test_kl_annealed_over_the_warmup(spirals_small, ard_params):
    X, y = spirals_small
    ramps = []

    class Record(Callback):
        # After the default depth_warmup callback: the strength in use.
        def on_batch_begin(self, net, training=False, **kwargs):
            if training:
                ramps.append(net.criterion_.sparsity_strength / net.sparsity_strength)

    DepthSearchClassifier(
        **{**ard_params, "max_epochs": 6}, depth_warmup=4, callbacks=[Record()]
    ).fit(X, y)
    assert_allclose(ramps, [0, 0.25, 0.5, 0.75, 1, 1])


# -- sparsity_strength ----------------------------------------------------------


# Slow: a statistical claim that fails for some seeds (2 and 14 of 0-19):
# the parameter count also depends on the selected depth.
@pytest.mark.slow
def test_ard_prunes_more_with_a_larger_strength(spirals_small, fast_params):
    X, y = spirals_small
    # The warm-up this claim was measured with (a quarter of the epochs).
    params = {**fast_params, "max_epochs": 60, "depth_warmup": 15}
    kept = []
    for strength in [0.0, 0.1, 1.0]:
        clf = DepthSearchClassifier(
            **params, sparse_blocks="ard", sparsity_strength=strength
        ).fit(X, y)
        kept.append(clf.n_params_pruned_)
        if strength == 0.0:
            assert clf.n_params_removed_ard_ == 0
    assert kept[0] > kept[1] > kept[2]
