# SPDX-License-Identifier: MIT
"""Growth of depth while training (grow=True): sklearn_depth/_growth.py and the
backbones' start_growth / grow."""

import pickle

import matplotlib
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_depth import (
    CategoricalDepthELBO,
    DepthResCNN,
    DepthResMLP,
    DepthSearchClassifier,
    DepthSearchRegressor,
)
from sklearn_depth._depth import make_log_prior
from sklearn_depth._export import export_body
from sklearn_depth._growth import DepthNLL, should_grow
from sklearn_depth.plotting import PosteriorHistoryDisplay

matplotlib.use("Agg")

both = pytest.mark.parametrize(
    "Estimator", [DepthSearchClassifier, DepthSearchRegressor]
)


@pytest.fixture(scope="module")
def grow_params():
    """A growing network with a low ceiling, trained long enough to grow."""
    return dict(
        max_depth=6,
        width=16,
        grow=True,
        initial_depth=1,
        max_epochs=40,
        depth_warmup=5,
        random_state=0,
        early_stopping=False,
    )


def _depth_outputs(module, X):
    with torch.no_grad():
        return module(X).double()


def _marginal(module, X):
    with torch.no_grad():
        log_proba = torch.log_softmax(module(X).double(), dim=-1)
        return torch.logsumexp(log_proba + module.log_q().double()[None, :, None], 1)


def _random_module(make):
    module = make()
    with torch.no_grad():
        module.depth_logits.normal_()
        for m in module.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
    return module.eval()


MODULES = {
    "mlp": lambda: DepthResMLP(3, 4, max_depth=5, width=8),
    "mlp-ard": lambda: DepthResMLP(3, 4, max_depth=5, width=8, sparse_blocks="ard"),
    "cnn": lambda: DepthResCNN(12, 4, max_depth=5, width=6, input_shape=(1, 12)),
}


# -- the backbone's growth --------------------------------------------------------


@pytest.mark.parametrize("kind", MODULES)
def test_a_grown_block_is_the_identity_and_no_prediction_changes(kind):
    torch.manual_seed(0)
    module = _random_module(MODULES[kind])
    log_prior = make_log_prior("uniform", 5)
    module.start_growth(2, log_prior)
    X = torch.randn(7, 12 if kind == "cnn" else 3)
    before, marginal = _depth_outputs(module, X), _marginal(module, X)
    assert before.shape[1] == 3
    module.grow(log_prior)
    after = _depth_outputs(module, X)
    assert module.grown_depth == module.active_depth == 3
    assert after.shape[1] == 4
    assert_array_equal(after[:, :3], before)  # every depth as before
    assert_allclose(after[:, 3], before[:, 2], rtol=1e-6, atol=1e-6)  # identity
    assert_allclose(_marginal(module, X), marginal, rtol=1e-6, atol=1e-7)
    q = module.log_q().exp()
    assert q.shape == (4,) and torch.isclose(q.sum(), torch.tensor(1.0))


@pytest.mark.parametrize("kind", MODULES)
def test_the_grown_block_still_receives_gradient(kind):
    torch.manual_seed(0)
    module = MODULES[kind]()
    log_prior = make_log_prior("uniform", 5)
    module.start_growth(1, log_prior)
    module.grow(log_prior)
    X = torch.randn(8, 12 if kind == "cnn" else 3)
    module.train()
    module(X)[:, -1].sum().backward()
    assert module.blocks[1].output_layer.weight.grad.abs().sum() > 0
    assert module.blocks[2].output_layer.weight.grad is None  # not grown: idle


def test_growth_restricts_and_renormalises_the_prior():
    module = DepthResMLP(2, 2, max_depth=4, width=4)
    log_prior = make_log_prior("geometric:0.5", 4)
    module.start_growth(1, log_prior)
    prior = module.log_prior.exp().numpy()
    assert_allclose(prior[:2], np.exp(log_prior[:2]) / np.exp(log_prior[:2]).sum())
    assert np.all(prior[2:] == 0)
    with module.all_depths():
        assert module.log_q().shape == (2,)
    for _ in range(3):
        module.grow(log_prior)
    assert_allclose(module.log_prior.exp().numpy(), np.exp(log_prior), rtol=1e-6)
    with pytest.raises(ValueError, match="has all its 4 blocks"):
        module.grow(log_prior)


def test_grown_depth_is_saved_in_the_state_dict():
    module = DepthResMLP(2, 2, max_depth=4, width=4)
    module.start_growth(2, make_log_prior("uniform", 4))
    other = DepthResMLP(2, 2, max_depth=4, width=4)
    other.load_state_dict(module.state_dict())
    assert other.grown_depth == other.active_depth == 2


def test_should_grow_and_the_evidence():
    allowed = np.ones(3, bool)
    assert should_grow(np.array([1.0, 0.8, 0.7]), allowed, 0.01)
    assert not should_grow(np.array([1.0, 0.7, 0.8]), allowed, 0.01)
    assert not should_grow(np.array([1.0, 0.7, 0.699]), allowed, 0.01)  # margin
    # a regression's NLL can be negative: worse stays worse, and the margin
    # scales with the magnitude
    assert not should_grow(np.array([-1.0, -2.0, -1.99]), allowed, 0.01)
    assert not should_grow(np.array([-1.0, -2.0, -2.01]), allowed, 0.01)
    assert should_grow(np.array([-1.0, -2.0, -2.03]), allowed, 0.01)
    # a forbidden deepest depth is skipped: depth 1 is then the deepest
    assert should_grow(np.array([1.0, 0.7, np.nan]), np.array([1, 1, 0], bool), 0.01)
    evidence = DepthNLL()
    logits = torch.tensor([[[0.0, 0.0], [2.0, 0.0]]])  # 1 row, depths 0 and 1
    evidence.add(CategoricalDepthELBO(), logits, torch.tensor([0]), None, True)
    assert_allclose(evidence.mean(), [np.log(2), np.log1p(np.exp(-2.0))], rtol=1e-6)
    evidence.add(CategoricalDepthELBO(), logits, torch.tensor([1]), None, False)
    expected = [np.log(2), 2 + np.log1p(np.exp(-2.0))]  # held-out rows first
    assert_allclose(evidence.mean(), expected, rtol=1e-6)


# -- the estimators ---------------------------------------------------------------


@both
def test_growth_fit_respects_the_ceiling_and_records_history(
    Estimator, estimator_data, grow_params
):
    est = Estimator(**grow_params).fit(*estimator_data)
    module = est.module_
    grown = [row["grown_depth"] for row in est.history]
    assert grown[0] == 1 and max(grown) <= 6
    assert all(b >= a for a, b in zip(grown, grown[1:], strict=False))
    events = [i for i, row in enumerate(est.history) if row.get("depth_grown")]
    assert len(events) == module.grown_depth - 1  # one block per event
    assert len(est.posterior_depth_) == module.grown_depth + 1
    assert len(est.prior_depth_) == module.grown_depth + 1
    assert 0 <= est.depth_ <= module.grown_depth
    # ragged: q over the blocks of each epoch
    for row in est.history:
        assert len(row["posterior_depth"]) == row["grown_depth"] + 1
    disp = PosteriorHistoryDisplay.from_estimator(est)
    assert disp.image_.get_array().shape == (max(grown) + 1, len(est.history))
    assert disp.grown_depth_line_ is not None


@both
def test_grown_estimator_is_an_ordinary_fitted_estimator(
    Estimator, estimator_data, grow_params
):
    X, y = estimator_data
    est = Estimator(**grow_params).fit(X, y)
    loaded = pickle.loads(pickle.dumps(est))
    first = est.predict(X)
    assert_array_equal(loaded.predict(X), first)
    net = est.export_pruned()
    assert len(net.body.blocks) == est.depth_
    assert sum(p.numel() for p in net.parameters()) == est.n_params_pruned_
    # the dense count covers the grown blocks only
    grown = est.module_.grown_depth
    dense = export_body(est.module_, grown, remove_units=False)
    assert est.n_params_ == sum(p.numel() for p in dense.parameters())
    assert clone(est).get_params()["grow"] is True


def test_growth_is_reproducible_and_leaves_the_global_rng(spirals_small, grow_params):
    X, y = spirals_small
    state = torch.get_rng_state()
    a = DepthSearchClassifier(**grow_params).fit(X, y)
    b = DepthSearchClassifier(**grow_params).fit(X, y)
    assert_array_equal(a.posterior_depth_, b.posterior_depth_)
    assert a.history[:, "grown_depth"] == b.history[:, "grown_depth"]
    assert torch.equal(torch.get_rng_state(), state)


def test_optimizer_state_of_old_parameters_survives_growth(spirals_small, grow_params):
    X, y = spirals_small
    clf = DepthSearchClassifier(**grow_params).fit(X, y)
    events = [i for i, row in enumerate(clf.history) if row.get("depth_grown")]
    assert events, "the test needs a fit that grows"
    steps = sum(len(row["batches"]) for row in clf.history)
    state = clf.optimizer_.state
    first_block = clf.module_.blocks[0].output_layer.weight
    # Adam counted every step for a block present from the start: growth
    # never reset its state (the step count would restart).
    assert int(state[first_block]["step"]) == steps
    # the depth logits have one Adam state, covering every depth
    logits_state = state[clf.module_.depth_logits]
    assert logits_state["exp_avg"].shape == (clf.max_depth + 1,)
    # a block grown later has been stepped fewer times
    last = clf.module_.blocks[clf.module_.grown_depth - 1].output_layer.weight
    assert int(state[last]["step"]) < steps


def test_early_stopping_restores_across_growth(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(
        max_depth=8,
        width=16,
        grow=True,
        initial_depth=1,
        max_epochs=80,
        depth_warmup=3,
        n_iter_no_change=10,
        random_state=0,
    ).fit(X, y)
    valid = np.array(clf.history[:, "valid_loss"])
    best = 3 + int(np.argmin(valid[3:]))  # an index into the epochs after warm-up
    assert clf.module_.grown_depth == clf.history[best]["grown_depth"]
    assert len(clf.posterior_depth_) == clf.history[best]["grown_depth"] + 1


def test_partial_fit_and_warm_start_continue_growing(spirals_small, grow_params):
    X, y = spirals_small
    params = {**grow_params, "max_epochs": 15}
    clf = DepthSearchClassifier(**params, warm_start=True).fit(X, y)
    grown = clf.module_.grown_depth
    clf.fit(X, y)  # continues: never back to initial_depth
    assert clf.history[-1]["grown_depth"] >= grown >= 1
    assert len(clf.history) == 30
    inc = DepthSearchClassifier(**params)
    for _ in range(3):
        inc.partial_fit(X, y, classes=[0, 1])
    grown = [row["grown_depth"] for row in inc.history]
    assert all(b >= a for a, b in zip(grown, grown[1:], strict=False))
    with pytest.raises(ValueError, match="initial_depth changed"):
        inc.set_params(initial_depth=3).partial_fit(X, y)


def test_initial_depth_is_no_structure_without_growth(spirals_small, fast_params):
    X, y = spirals_small
    clf = DepthSearchClassifier(**fast_params).fit(X, y)  # grow=False
    clf.set_params(initial_depth=3).partial_fit(X, y)  # the same network
    with pytest.raises(ValueError, match="grow changed"):
        clf.set_params(grow=True).partial_fit(X, y)


def test_grid_search_over_growth(spirals_small, grow_params):
    X, y = spirals_small
    grid = GridSearchCV(
        DepthSearchClassifier(**{**grow_params, "max_epochs": 10}),
        {"grow": [False, True]},
        cv=2,
        error_score="raise",
    ).fit(X, y)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(initial_depth=5, max_depth=3), ValueError, "initial_depth=5 is above"),
        (dict(grow="yes"), TypeError, "grow must be True or False"),
        (dict(initial_depth=-1), ValueError, "initial_depth"),
        (dict(initial_depth=1.5), TypeError, "initial_depth"),
        (dict(prior=[1, 1, 1]), ValueError, "prior"),  # the ceiling's length: 4
        (dict(prior=[0, 0, 1, 1], initial_depth=1), ValueError, "forbids every"),
    ],
)
def test_bad_growth_settings(spirals_small, params, error, match):
    base = dict(max_depth=3, grow=True, initial_depth=1, max_epochs=1)
    with pytest.raises(error, match=match):
        DepthSearchClassifier(**{**base, **params}).fit(*spirals_small)


def test_user_module_that_cannot_grow(spirals_small, wrapped_module):
    clf = DepthSearchClassifier(module=wrapped_module, grow=True, max_epochs=1)
    with pytest.raises(TypeError, match="grow=True needs a backbone that can grow"):
        clf.fit(*spirals_small)


def test_conv_backbone_grows(grow_params):
    rng = np.random.RandomState(0)
    X = rng.randn(120, 16).astype(np.float32)
    y = (X[:, :8].sum(1) > X[:, 8:].sum(1)).astype(int)
    params = {**grow_params, "module": DepthResCNN, "width": 8, "max_epochs": 10}
    clf = DepthSearchClassifier(**params).fit(X, y)
    assert len(clf.posterior_depth_) == clf.module_.grown_depth + 1
    proba = clf.export_pruned()(torch.as_tensor(X[:5])).detach().numpy()
    assert_allclose(proba, clf.predict_proba(X[:5]), atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device")
def test_growth_on_cuda(spirals_small, grow_params):
    clf = DepthSearchClassifier(**grow_params, device="cuda").fit(*spirals_small)
    assert next(clf.module_.parameters()).device.type == "cuda"
    assert len(clf.posterior_depth_) == clf.module_.grown_depth + 1


def test_idle_ard_blocks_are_left_alone_until_grown(spirals_small, grow_params):
    # The ARD KL of a block not grown yet would pull it towards its prior.
    params = {**grow_params, "sparse_blocks": "ard", "max_epochs": 12}
    clf = DepthSearchClassifier(**params).fit(*spirals_small)
    grown = max(clf.history[:, "grown_depth"])
    assert grown < clf.max_depth, "the test needs a block that was never grown"
    for block in clf.module_.blocks[grown:]:
        assert torch.all(block.linear1.log_sigma2 == -10.0)
        assert block.linear1.weight not in clf.optimizer_.state
