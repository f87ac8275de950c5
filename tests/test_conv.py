# SPDX-License-Identifier: MIT
"""The convolutional backbone: DepthResCNN, ConvBlock, Conv1dARD, and the
estimators with ``module=DepthResCNN`` on images (scikit-learn's digits)."""

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_depth import (
    ConvBlock,
    DepthResCNN,
    DepthSearchClassifier,
    DepthSearchRegressor,
)
from sklearn_depth._export import export_body
from sklearn_depth._plain import ExportedConvBlock
from sklearn_depth.nn import Conv1dARD, Conv2dARD

SHAPES = [(1, 8, 8), (2, 12), None]  # an image, a 2-channel signal, a plain row


def _n_features(shape):
    return 10 if shape is None else int(np.prod(shape))


def _random_statistics(module, seed=0):
    """Batch norm statistics and affine maps far from their initial values."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen))
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.copy_(torch.randn(m.num_features, generator=gen))
                m.bias.copy_(torch.randn(m.num_features, generator=gen))
    return module.eval()


@pytest.fixture(scope="module")
def digits():
    """300 digits, pixels scaled to [0, 1], float32; and their labels."""
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype(np.float32), y[:300]


@pytest.fixture(scope="module")
def conv_params():
    return dict(
        module=DepthResCNN,
        module__input_shape=(1, 8, 8),
        max_depth=3,
        width=8,
        max_epochs=4,
        depth_warmup=1,
        random_state=0,
        early_stopping=False,
    )


@pytest.fixture(scope="module")
def fitted_conv(digits, conv_params):
    return DepthSearchClassifier(**conv_params).fit(*digits)


# -- the module -------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_one_pass_gives_every_depth(shape):
    n_features = _n_features(shape)
    net = _random_statistics(
        DepthResCNN(n_features, 3, max_depth=4, width=6, input_shape=shape)
    )
    X = torch.randn(5, n_features)
    out = net(X)
    assert out.shape == (5, 5, 3)
    for depth in range(5):  # depth d's output is d blocks deep, whatever follows
        net.active_depth = depth
        assert_allclose(net(X).detach(), out[:, : depth + 1].detach(), atol=1e-6)
        assert net.log_q().shape == (depth + 1,)


def test_pruned_net_runs_and_casts_only_the_kept_blocks():
    net = DepthResCNN(64, 2, max_depth=4, width=4, input_shape=(1, 8, 8)).eval()
    net.active_depth = 1
    calls = []
    for i, block in enumerate(net.blocks):
        block.register_forward_hook(lambda *_, i=i: calls.append(i))
    net(torch.randn(3, 64))
    assert calls == [0]
    state = net.active_state(torch.float64)
    assert not any(name.startswith(("blocks.1.", "blocks.3.")) for name in state)
    assert state["blocks.0.conv1.weight"].dtype == torch.float64


def test_none_input_shape_reads_a_row_as_a_signal():
    net = DepthResCNN(7, 2, max_depth=1, width=4)
    assert net.input_shape == (1, 7)
    assert isinstance(net.blocks[0].conv1, torch.nn.Conv1d)
    image = DepthResCNN(12, 2, max_depth=1, width=4, input_shape=[3, 2, 2])
    assert image.input_shape == (3, 2, 2)
    assert isinstance(image.blocks[0].conv1, torch.nn.Conv2d)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(input_shape=(1, 8, 9)), ValueError, "holds 72 values .* X has 64"),
        (dict(input_shape=(64,)), ValueError, "input_shape must be None or a tuple"),
        (dict(input_shape=(1, 2, 4, 8)), ValueError, "input_shape must be"),
        (dict(input_shape=(1, 8.5, 8)), TypeError, "input_shape"),
        (dict(input_shape=(0, 8, 8)), ValueError, "input_shape"),
        (dict(kernel_size=4), ValueError, "kernel_size must be odd"),
        (dict(stem_kernel_size=0), ValueError, "stem_kernel_size"),
        (dict(pool=0), ValueError, "pool"),
        (dict(hidden=0), ValueError, "hidden"),
        (dict(sparse_blocks="l1"), ValueError, "sparse_blocks"),
        (dict(log_prior=np.zeros(3)), ValueError, "log_prior must have shape"),
    ],
)
def test_bad_module_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DepthResCNN(64, 2, max_depth=3, width=4, **kwargs)


@pytest.mark.parametrize("size", [1, 2, 3])
def test_inputs_smaller_than_the_kernels_and_the_pooling_work(size):
    net = DepthResCNN(size, 2, max_depth=2, width=4)
    assert net(torch.randn(4, size)).shape == (4, 3, 2)


# -- the block and its plain form ------------------------------------------------------


@pytest.mark.parametrize("n_dims", [1, 2])
@pytest.mark.parametrize("sparse", [None, "ard"])
def test_exported_block_equals_the_block_in_eval(n_dims, sparse):
    torch.manual_seed(0)
    block = ConvBlock(6, 4, n_dims=n_dims, sparse_blocks=sparse)
    block = _random_statistics(block).double()
    if sparse:  # prune a third of the weights
        with torch.no_grad():
            block.conv1.log_sigma2.uniform_(-10, 8)
    h = torch.randn(5, 6, *(7,) * n_dims, dtype=torch.float64)
    plain = ExportedConvBlock.from_block(block)
    assert_allclose(plain(h).detach(), block(h).detach(), rtol=1e-12, atol=1e-12)


def test_exported_block_removes_disconnected_channels_exactly():
    torch.manual_seed(0)
    block = _random_statistics(ConvBlock(4, 5, sparse_blocks="ard")).double()
    with torch.no_grad():
        block.conv2.log_sigma2[:, 0] = 10.0  # channel 0: no outgoing weight
        block.conv1.log_sigma2[1] = 10.0  # channel 1: no incoming weight...
        block.norm2.bias[1] = -5.0  # ...and a negative bias: always 0
        block.conv1.log_sigma2[2] = 10.0  # channel 2: no incoming weight, but
        block.norm2.bias[2] = 5.0  # a positive bias, varying near borders
    plain = ExportedConvBlock.from_block(block)
    assert plain.hidden == 3  # channels 2, 3 and 4
    h = torch.randn(3, 4, 6, 6, dtype=torch.float64)
    assert_allclose(plain(h).detach(), block(h).detach(), rtol=1e-12, atol=1e-12)
    dense = ExportedConvBlock.from_block(block, remove_units=False)
    assert dense.hidden == 5


def test_block_with_every_channel_pruned_only_adds_its_bias():
    block = _random_statistics(ConvBlock(3, 2, n_dims=1, sparse_blocks="ard"))
    with torch.no_grad():
        block.conv2.log_sigma2.fill_(10.0)
    plain = ExportedConvBlock.from_block(block)
    h = torch.randn(2, 3, 5)
    assert plain.hidden == 0
    expected = h + block.conv2.bias.view(-1, 1)
    assert_allclose(plain(h).detach(), expected.detach(), atol=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sparse", [None, "ard"])
def test_exported_body_equals_the_pruned_net(shape, sparse):
    torch.manual_seed(0)
    n_features = _n_features(shape)
    net = DepthResCNN(
        n_features, 3, max_depth=4, width=6, input_shape=shape, sparse_blocks=sparse
    )
    net = _random_statistics(net).double()
    X = torch.randn(5, n_features, dtype=torch.float64)
    body = export_body(net, 2, dtype=torch.float64)
    assert len(body.blocks) == 2
    net.active_depth = 2
    assert_allclose(body(X).detach(), net(X).detach(), rtol=1e-10, atol=1e-12)


def test_conv_block_subclasses_are_not_exported():
    class Doubled(ConvBlock):
        def forward(self, h):
            return 2 * super().forward(h)

    net = DepthResCNN(16, 2, max_depth=2, width=4)
    net.blocks[1] = Doubled(4, 2, n_dims=1)
    export_body(net, 1)  # the first block alone is fine
    with pytest.raises(TypeError, match="Cannot export a block of type Doubled"):
        export_body(net, 2)


# -- Conv1dARD ---------------------------------------------------------------------


def test_conv1d_ard_in_eval_is_a_conv1d_with_the_pruned_weights():
    torch.manual_seed(0)
    conv = Conv1dARD(2, 3, kernel_size=3, padding=1, dtype=torch.float64)
    with torch.no_grad():
        conv.log_sigma2.uniform_(-10, 8)
    x = torch.randn(4, 2, 9, dtype=torch.float64)
    weight = conv.weight.masked_fill(conv.log_alpha > 3.0, 0.0)
    expected = F.conv1d(x, weight, conv.bias, padding=1)
    assert 0 < conv.n_kept() < conv.weight.numel()
    assert_allclose(conv.eval()(x).detach(), expected.detach())
    # Training samples around the same mean: unbiased over many draws.
    with torch.no_grad():
        conv.log_sigma2.fill_(-4.0)
    conv.train()
    draws = torch.stack([conv(x) for _ in range(2000)]).mean(0)
    full = F.conv1d(x, conv.weight, conv.bias, padding=1)
    assert_allclose(draws.detach(), full.detach(), atol=0.05)
    assert conv.kl().shape == ()


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: Conv1dARD(2, 2, (3, 3)), TypeError),
        (lambda: Conv1dARD(2, 2, 0), ValueError),
        (lambda: Conv1dARD(2, 2, 3, stride=2, padding="same"), ValueError),
        (lambda: Conv1dARD(3, 2, 3, groups=2), ValueError),
    ],
)
def test_conv1d_ard_bad_arguments(make, error):
    with pytest.raises(error):
        make()


def test_conv2d_ard_keeps_its_pair_message():
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
        Conv2dARD(2, 2, (3, 3, 3))


# -- the estimators ----------------------------------------------------------------


def test_images_as_3d_or_4d_arrays_equal_flattened_rows(fitted_conv, digits):
    X, _ = digits
    flat = fitted_conv.predict_proba(X[:20])
    assert_array_equal(fitted_conv.predict_proba(X[:20].reshape(-1, 1, 8, 8)), flat)
    assert fitted_conv.n_features_in_ == 64
    assert type(fitted_conv.module_.blocks[0].conv1) is torch.nn.Conv2d
    with pytest.raises(ValueError, match=r"a 4-d X .* module__input_shape=\(1, 8, 8\)"):
        fitted_conv.predict(X[:5].reshape(-1, 1, 4, 16))


def test_fit_on_4d_images_equals_fit_on_flat_rows(digits, conv_params):
    X, y = digits
    flat = DepthSearchClassifier(**conv_params).fit(X, y)
    images = DepthSearchClassifier(**conv_params).fit(X.reshape(-1, 1, 8, 8), y)
    assert_array_equal(images.posterior_depth_, flat.posterior_depth_)
    assert_array_equal(images.predict_proba(X), flat.predict_proba(X))


def test_wrong_input_shape_is_a_clear_error_at_fit(digits, conv_params):
    params = {**conv_params, "module__input_shape": (1, 8, 9)}
    clf = DepthSearchClassifier(**params)
    with pytest.raises(ValueError, match="holds 72 values per row, but X has 64"):
        clf.fit(*digits)
    assert not hasattr(clf, "depth_")


def test_3d_input_needs_a_declared_shape(digits):
    X, y = digits
    with pytest.raises(ValueError, match="no module__input_shape is declared"):
        DepthSearchClassifier(max_epochs=1).fit(X.reshape(-1, 8, 8), y)


def test_fitted_conv_prunes_counts_and_exports(fitted_conv, digits):
    X, _ = digits
    clf = fitted_conv
    assert clf.module_.active_depth == clf.depth_
    net = clf.export_pruned()
    assert len(net.body.blocks) == clf.depth_
    assert sum(p.numel() for p in net.parameters()) == clf.n_params_pruned_
    proba = net(torch.as_tensor(X[:50])).detach().numpy()
    assert_allclose(proba, clf.predict_proba(X[:50]), atol=1e-5)
    assert clf.n_params_ == (
        clf.n_params_pruned_ + clf.n_params_removed_depth_ + clf.n_params_removed_ard_
    )


def test_pickle_and_clone(fitted_conv, digits):
    X, _ = digits
    loaded = pickle.loads(pickle.dumps(fitted_conv))
    assert_array_equal(loaded.predict_proba(X), fitted_conv.predict_proba(X))
    params = clone(fitted_conv).get_params()
    assert params["module"] is DepthResCNN
    assert params["module__input_shape"] == (1, 8, 8)


def test_pipeline_cross_val_and_grid_search_over_priors(digits, conv_params):
    X, y = digits
    params = {**conv_params, "max_epochs": 15}
    pipe = make_pipeline(StandardScaler(), DepthSearchClassifier(**params))
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, X, y, cv=cv)
    assert scores.shape == (2,) and np.all(scores > 0.3)  # 10 classes: chance 0.1
    grid = GridSearchCV(
        pipe,
        {"depthsearchclassifier__prior": ["uniform", "geometric:0.5"]},
        cv=cv,
        error_score="raise",
    ).fit(X, y)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_estimator_[-1].module_.input_shape == (1, 8, 8)


def test_ard_conv_blocks_fit_and_export(digits, conv_params):
    X, y = digits
    clf = DepthSearchClassifier(**conv_params, sparse_blocks="ard").fit(X, y)
    assert type(clf.module_.blocks[0].conv1) is Conv2dARD
    assert clf.n_params_removed_ard_ >= 0
    proba = clf.export_pruned()(torch.as_tensor(X[:30])).detach().numpy()
    assert_allclose(proba, clf.predict_proba(X[:30]), atol=1e-5)


def test_regressor_with_the_conv_backbone(digits, conv_params):
    X, y = digits
    target = y.astype(float) * 10 + 100  # far from 0: the scaling is exercised
    reg = DepthSearchRegressor(**conv_params).fit(X, target)
    mean, std = reg.predict(X[:20], return_std=True)
    assert mean.shape == std.shape == (20,) and np.all(std > 0)
    exp_mean, exp_std = reg.export_pruned()(torch.as_tensor(X[:20]))
    assert_allclose(exp_mean.detach().numpy(), mean, rtol=1e-5)
    assert_allclose(exp_std.detach().numpy(), std, rtol=1e-5)


def test_changed_input_shape_rebuilds_the_network(digits, conv_params):
    X, y = digits
    clf = DepthSearchClassifier(**conv_params, warm_start=True).fit(X, y)
    # skorch rebuilds the network on set_params(module__...): the estimator is
    # unfitted again, and the next fit trains the new shape from scratch.
    clf.set_params(module__input_shape=(4, 16))
    assert not hasattr(clf, "depth_")
    clf.fit(X, y)
    assert clf.module_.input_shape == (4, 16)
    assert type(clf.module_.blocks[0].conv1) is torch.nn.Conv1d


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device")
def test_conv_fit_and_predict_on_cuda(digits, conv_params):
    X, y = digits
    clf = DepthSearchClassifier(**conv_params, device="cuda").fit(X, y)
    assert next(clf.module_.parameters()).device.type == "cuda"
    cpu = DepthSearchClassifier(**conv_params).fit(X, y)
    # Same data, same seed: the same classes for nearly every row.
    assert np.mean(clf.predict(X) == cpu.predict(X)) > 0.9
    proba = clf.export_pruned()(torch.as_tensor(X[:10])).detach().numpy()
    assert_allclose(proba, clf.predict_proba(X[:10]), atol=1e-4)


# -- behaviour on digits (slow) ------------------------------------------------------


@pytest.mark.slow
def test_digits_accuracy_and_pruning():
    # The image recipe of benchmarks/images.py (150 epochs at lr=0.003,
    # weight decay 0.1, no early stopping), pixels scaled by one number: the
    # first fold of digits is classified well (0.989 measured) and the pruned
    # net predicts as well as the marginal over every depth.
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    train, test = next(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    clf = DepthSearchClassifier(
        module=DepthResCNN,
        module__input_shape=(1, 8, 8),
        early_stopping=False,
        max_epochs=150,
        lr=0.003,
        weight_decay=0.1,
        random_state=0,
    ).fit(X[train], y[train])
    accuracy = clf.score(X[test], y[test])
    assert accuracy >= 0.985
    assert 1 <= clf.depth_ < clf.max_depth
    full = clf.predict_proba_per_depth(X[test])
    marginal = np.einsum("d,ndc->nc", clf.posterior_depth_, full)
    unpruned = np.mean(clf.classes_[marginal.argmax(1)] == y[test])
    assert accuracy >= unpruned - 0.003
