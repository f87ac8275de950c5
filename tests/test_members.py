"""Packed ensemble members (``n_members``): the layer, the module, the
criterion and the classifier (the regressor's: test_regressor_members.py)."""

import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from sklearn_depth import (
    CategoricalDepthELBO,
    DepthResCNN,
    DepthResMLP,
    DepthSearchClassifier,
)
from sklearn_depth._inference import predict_outputs
from sklearn_depth._members import (
    GroupedLinear,
    dense_linear,
    member_log_proba,
    member_log_proba_np,
)

TINY = dict(max_depth=3, width=8, max_epochs=30, depth_warmup=5)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def fitted(iris):
    X, y = iris
    return DepthSearchClassifier(n_members=3, random_state=0, **TINY).fit(X, y)


def test_grouped_linear_is_block_diagonal():
    torch.manual_seed(0)
    layer = GroupedLinear(3, 4, 2)
    x = torch.randn(7, 12)
    dense = dense_linear(layer)
    assert dense.weight.shape == (6, 12)
    assert_allclose(layer(x).detach(), dense(x).detach(), atol=1e-6)
    # Group m of the output reads group m of the input only.
    for m in range(3):
        block = dense.weight[2 * m : 2 * m + 2].detach().clone()
        block[:, 4 * m : 4 * m + 4] = 0
        assert torch.count_nonzero(block) == 0


def test_grouped_linear_initialises_each_group_like_a_linear_layer():
    torch.manual_seed(0)
    layer = GroupedLinear(4, 50, 20)
    bound = 1 / np.sqrt(50)
    assert layer.weight.abs().max() <= bound
    assert layer.bias.abs().max() <= bound
    # Independent draws, not one draw repeated.
    assert not torch.equal(layer.weight[0], layer.weight[1])


def test_member_log_proba_is_the_mixture_of_member_softmaxes():
    logits = torch.randn(5, 4, 3 * 6, dtype=torch.float64)
    expected = torch.softmax(logits.unflatten(-1, (3, 6)), dim=-1).mean(-2)
    assert_allclose(member_log_proba(logits, 3).exp(), expected, rtol=1e-12)
    # The NumPy version along any axis.
    moved = np.moveaxis(logits.numpy(), -1, 0)
    out = member_log_proba_np(moved, 3, axis=0)
    assert_allclose(np.exp(np.moveaxis(out, 0, -1)), expected, rtol=1e-12)


def test_members_never_mix():
    torch.manual_seed(0)
    net = DepthResMLP(3, 2, max_depth=3, width=8, n_members=3)
    X = torch.randn(16, 3)
    before = net(X).detach()
    assert before.shape == (16, 4, 3, 2)
    with torch.no_grad():  # change member 1 everywhere
        net.input.weight[8:16] += 1.0
        for block in net.blocks:
            block.linear.weight[1] += 1.0
        net.head.weight[1] += 1.0
    after = net(X).detach()
    assert torch.equal(after[:, :, [0, 2]], before[:, :, [0, 2]])
    assert not torch.allclose(after[:, :, 1], before[:, :, 1])


def test_evaluation_mode_returns_the_members_mixture():
    torch.manual_seed(0)
    net = DepthResMLP(3, 4, max_depth=2, width=8, n_members=2).eval()
    X = torch.randn(6, 3)
    with torch.no_grad():
        log_proba = net(X)
        net.train()  # every member's logits, batch norm still in eval mode
        for block in net.blocks:
            block.norm.eval()
        per_member = net(X)
    assert log_proba.shape == (6, 3, 4)
    assert_allclose(log_proba.exp().sum(-1), 1.0, rtol=1e-6)
    expected = torch.softmax(per_member, dim=-1).mean(-2)
    assert_allclose(log_proba.exp(), expected, rtol=1e-5, atol=1e-7)


def test_one_member_builds_the_plain_network():
    torch.manual_seed(0)
    plain = DepthResMLP(3, 2, max_depth=2, width=8)
    torch.manual_seed(0)
    one = DepthResMLP(3, 2, max_depth=2, width=8, n_members=1)
    assert type(one.head) is torch.nn.Linear
    pairs = zip(plain.state_dict().items(), one.state_dict().items(), strict=True)
    for (name, a), (_, b) in pairs:
        assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b, name


def test_members_need_plain_blocks():
    with pytest.raises(ValueError, match="n_members > 1"):
        DepthResMLP(3, 2, n_members=2, sparse_blocks="ard")


def test_elbo_trains_each_member_on_its_own_likelihood():
    torch.manual_seed(0)
    logits = torch.randn(8, 3, 2, 4)  # rows, depths, members, classes
    y = torch.randint(0, 4, (8,))
    log_q = log_prior = torch.full((3,), -np.log(3.0))
    crit = CategoricalDepthELBO()
    loss = crit(logits, y, log_q, log_prior, n_train=100)
    per_member = [crit(logits[:, :, m], y, log_q, log_prior, 100) for m in range(2)]
    assert_allclose(loss, torch.stack(per_member).mean(), rtol=1e-6)
    # Held-out rows score the mixture, as the evaluation-mode output does.
    mixture = member_log_proba(logits.flatten(-2), 2)
    assert_allclose(
        crit.marginal_nll(logits, y, log_q),
        crit.marginal_nll(mixture, y, log_q),
        rtol=1e-6,
    )


def test_classifier_with_members_predicts_probabilities(fitted, iris):
    X, y = iris
    proba = fitted.predict_proba(X)
    assert proba.shape == (150, 3)
    assert_allclose(proba.sum(1), 1.0, rtol=1e-12)
    assert fitted.score(X, y) > 0.9
    per_depth = fitted.predict_proba_per_depth(X)
    assert per_depth.shape == (150, 4, 3)
    assert_allclose(per_depth.sum(-1), 1.0, rtol=1e-12)


def test_numpy_path_matches_the_module(fitted, iris):
    X, _ = iris
    module = fitted.module_
    module.eval()
    torch_out = predict_outputs(module, X, device="cpu", batch_size=64).numpy()
    assert_allclose(fitted._outputs(X), torch_out, rtol=1e-10, atol=1e-10)


def test_a_row_predicts_the_same_in_any_batch(fitted, iris):
    X, _ = iris
    one_by_one = np.vstack([fitted.predict_proba(X[i : i + 1]) for i in range(10)])
    assert_allclose(one_by_one, fitted.predict_proba(X[:10]), rtol=1e-12, atol=1e-15)


def test_export_and_stages_with_members(fitted, iris):
    X, _ = iris
    proba = fitted.predict_proba(X)
    exported = fitted.export_pruned()
    out = exported(torch.as_tensor(X, dtype=torch.float32)).detach().numpy()
    assert_allclose(out, proba, atol=1e-5)
    stages = list(fitted.staged_predict_proba(X))
    assert len(stages) == fitted.depth_ + 1
    assert_allclose(stages[-1], proba, rtol=1e-12)
    # A threshold that no row meets reproduces the prediction exactly.
    try:
        assert_allclose(fitted.set_params(exit_threshold=1.0).predict_proba(X), proba)
    finally:
        fitted.set_params(exit_threshold=None)


def test_parameter_counts_count_each_member_once(fitted):
    module = fitted.module_
    # Plain blocks: the exported form has as many parameters as the module
    # (batch norm's weight and bias become its scale and shift).
    expected = sum(
        p.numel() for name, p in module.named_parameters() if name != "depth_logits"
    )
    assert fitted.n_params_ == expected
    single = DepthSearchClassifier(n_members=1, random_state=0, **TINY)
    single.fit(*_tiny_data())
    per_block = single.module_.blocks[0]
    assert module.blocks[0].linear.weight.numel() == 3 * per_block.linear.weight.numel()


def _tiny_data():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 4)
    return X, (X[:, 0] > 0).astype(int)


def test_members_pickle_and_clone(fitted, iris):
    X, _ = iris
    restored = pickle.loads(pickle.dumps(fitted))
    assert_allclose(restored.predict_proba(X), fitted.predict_proba(X))
    assert clone(fitted).get_params()["n_members"] == 3


def test_seeded_fits_with_members_are_reproducible(iris):
    X, y = iris
    a = DepthSearchClassifier(n_members=2, random_state=1, **TINY).fit(X, y)
    b = DepthSearchClassifier(n_members=2, random_state=1, **TINY).fit(X, y)
    assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=0, atol=0)


def test_members_grow():
    X, y = _tiny_data()
    clf = DepthSearchClassifier(
        n_members=2, grow=True, initial_depth=1, random_state=0, **TINY
    ).fit(X, y)
    assert_allclose(clf.predict_proba(X).sum(1), 1.0)


@pytest.mark.parametrize("value", [0, -1])
def test_bad_n_members_is_rejected(value):
    with pytest.raises(ValueError, match="n_members"):
        DepthSearchClassifier(n_members=value, **TINY).fit(*_tiny_data())


@pytest.mark.parametrize("value", [1.5, True, "2"])
def test_non_integer_n_members_is_rejected(value):
    with pytest.raises(TypeError, match="n_members"):
        DepthSearchClassifier(n_members=value, **TINY).fit(*_tiny_data())


def test_a_module_without_members_is_rejected_clearly():
    X = np.random.RandomState(0).rand(40, 16)
    y = np.arange(40) % 2
    clf = DepthSearchClassifier(
        DepthResCNN, n_members=2, module__input_shape=(1, 4, 4), **TINY
    )
    with pytest.raises(ValueError, match="n_members=2 needs a module"):
        clf.fit(X, y)


def test_warm_start_refuses_a_changed_number_of_members(iris):
    X, y = iris
    clf = DepthSearchClassifier(n_members=2, warm_start=True, **TINY).fit(X, y)
    with pytest.raises(ValueError, match="n_members changed"):
        clf.set_params(n_members=3).fit(X, y)


def test_each_member_holds_out_rows_of_its_own():
    from sklearn_depth._early_stopping import HeldOutSplit

    y = np.arange(100) % 2
    held_out = HeldOutSplit(0.2, True, seed=3).member_held_out(100, y, 4)
    assert held_out.shape == (100, 4)
    assert_allclose(held_out.sum(0), 20)  # the fraction, per member
    assert_allclose(held_out[y == 1].sum(0), 10)  # stratified
    assert len({tuple(np.flatnonzero(col)) for col in held_out.T}) == 4


def test_a_member_never_trains_on_the_rows_it_holds_out():
    torch.manual_seed(0)
    logits = torch.randn(6, 3, 2, 4, requires_grad=True)
    y = torch.randint(0, 4, (6,))
    log_q = log_prior = torch.full((3,), -np.log(3.0))
    member_weight = torch.ones(6, 2)
    member_weight[:2, 0] = 0  # member 0 holds out rows 0 and 1
    CategoricalDepthELBO()(
        logits, y, log_q, log_prior, 100, member_weight=member_weight
    ).backward()
    assert torch.count_nonzero(logits.grad[:2, :, 0]) == 0
    assert torch.count_nonzero(logits.grad[:2, :, 1]) > 0
    # Each member's term is its mean over its own rows, then the members' mean.
    crit = CategoricalDepthELBO(kl_weight=0)
    with torch.no_grad():
        loss = crit(logits, y, log_q, log_prior, 100, member_weight=member_weight)
        first = crit(logits[2:, :, 0], y[2:], log_q, log_prior, 100)
        second = crit(logits[:, :, 1], y, log_q, log_prior, 100)
    assert_allclose(loss, (first + second) / 2, rtol=1e-6)


def test_early_stopping_scores_the_rows_each_member_held_out(fitted):
    # valid_loss from the out-of-bag predictions, every epoch; the best
    # epoch restored; the temperature fitted on the same rows.
    losses = fitted.history[:, "valid_loss"]
    assert len(losses) == len(fitted.history)
    assert np.all(np.isfinite(losses))
    assert fitted.temperature_ >= 1.0
    assert fitted._member_rows is None  # nothing of the split is kept


def test_partial_fit_trains_every_member_on_every_row(iris):
    X, y = iris
    clf = DepthSearchClassifier(n_members=2, random_state=0, **TINY)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    assert "valid_loss" not in clf.history[-1]
    assert clf.temperature_ == 1.0


def test_sample_weight_applies_to_every_member():
    torch.manual_seed(0)
    logits = torch.randn(6, 3, 2, 4, requires_grad=True)
    y = torch.randint(0, 4, (6,))
    log_q = log_prior = torch.full((3,), -np.log(3.0))
    sample_weight = torch.tensor([0.0, 1.0, 1.0, 2.0, 1.0, 1.0])
    member_weight = torch.ones(6, 2)
    member_weight[1, 1] = 0
    crit = CategoricalDepthELBO(kl_weight=0)
    loss = crit(
        logits, y, log_q, log_prior, 100, sample_weight, member_weight=member_weight
    )
    loss.backward()
    assert torch.count_nonzero(logits.grad[0]) == 0  # weight 0: no member
    repeated = torch.cat([logits[1:], logits[3:4]])
    y_rep = torch.cat([y[1:], y[3:4]])
    mw_rep = torch.cat([member_weight[1:], member_weight[3:4]])
    with torch.no_grad():
        expected = crit(repeated, y_rep, log_q, log_prior, 100, member_weight=mw_rep)
    assert_allclose(loss.detach(), expected, rtol=1e-6)


class _SubclassedMLP(DepthResMLP):
    """Not the exact DepthResMLP: predicts through torch, not NumPy."""


def test_the_torch_path_of_members_agrees_with_numpy(iris):
    X, y = iris
    params = dict(n_members=3, random_state=0, exit_threshold=0.9, **TINY)
    default = DepthSearchClassifier(**params).fit(X, y)
    custom = DepthSearchClassifier(module=_SubclassedMLP, **params).fit(X, y)
    assert_allclose(custom.predict_proba(X), default.predict_proba(X), rtol=1e-10)
    np.testing.assert_array_equal(custom.exit_depths(X), default.exit_depths(X))


def test_auto_members_where_the_module_packs_them(iris):
    X, y = iris
    assert DepthSearchClassifier(**TINY).fit(X, y).module_.n_members == 4
    ard = DepthSearchClassifier(sparse_blocks="ard", **TINY).fit(X, y)
    assert not hasattr(ard.module_.blocks[0], "n_members")
    assert ard.module_.n_members == 1
    with pytest.raises(ValueError, match="sparse_blocks='ard'"):
        DepthSearchClassifier(sparse_blocks="ard", n_members=2, **TINY).fit(X, y)


def test_the_numpy_path_returns_every_member_on_request(fitted, iris):
    X, _ = iris
    module = fitted.module_.eval()
    with module.per_member():
        expected = predict_outputs(module, X, device="cpu", batch_size=64).numpy()
    members = fitted._outputs(X, per_member=True)
    assert members.shape == (150, fitted.depth_ + 1, 3, 3)
    assert_allclose(members, expected, rtol=1e-10, atol=1e-10)


def test_the_entropy_split_counts_the_members_disagreement(iris):
    X, y = iris
    prior = np.array([1.0, 0.0, 0.0, 0.0])  # only depth 0: no depth disagreement
    clf = DepthSearchClassifier(
        n_members=3, prior=prior, temperature=1.0, random_state=0, **TINY
    ).fit(X, y)
    assert clf.depth_ == 0
    aleatoric, epistemic = clf.predict_entropy_components(X)
    proba = clf.predict_proba(X)
    total = -(proba * np.log(proba)).sum(axis=1)
    assert_allclose(aleatoric + epistemic, total, rtol=1e-9, atol=1e-12)
    # The epistemic part is the members' Jensen-Shannon divergence.
    X32 = X.astype(np.float32)  # as the input check casts it
    members = torch.softmax(torch.as_tensor(clf._outputs(X32, per_member=True)), -1)
    members = members[:, 0].numpy()  # (rows, members, classes) at depth 0
    member_entropy = -(members * np.log(members)).sum(-1).mean(-1)
    assert_allclose(epistemic, total - member_entropy, rtol=1e-8, atol=1e-12)
    assert_allclose(aleatoric, member_entropy, rtol=1e-8, atol=1e-12)
    assert epistemic.max() > 1e-3
    assert_array_equal(clf.score_samples(X), -epistemic)
