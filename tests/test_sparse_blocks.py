# SPDX-License-Identifier: MIT
"""ARD bottleneck blocks in the estimators, parameter counts and export."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import NotFittedError
from torch import nn

from sklearn_depth import (
    ARDBottleneckBlock,
    DepthResMLP,
    DepthSearchClassifier,
    DepthSearchRegressor,
)
from sklearn_depth._export import (
    ExportedBottleneckBlock,
    ExportedResidualBlock,
    export_body,
)
from sklearn_depth.nn import LinearARD

FAST = dict(max_depth=3, width=16, max_epochs=30, random_state=0)
ARD = dict(FAST, sparse_blocks="ard")


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4)).astype(np.float32)
    Y = np.c_[np.sin(X[:, 0]) + 0.1 * rng.randn(150), X[:, 1] * X[:, 2] + 30]
    return X, Y


def _trained_block(width=6, hidden=5, seed=0):
    """A block with random BN statistics, in eval mode."""
    torch.manual_seed(seed)
    block = ARDBottleneckBlock(width, hidden)
    with torch.no_grad():
        block.norm.running_mean.normal_()
        block.norm.running_var.uniform_(0.5, 2.0)
        block.norm.weight.normal_()
        block.norm.bias.normal_()
    return block.eval()


def test_model_uses_ard_bottleneck_blocks():
    net = DepthResMLP(3, 2, max_depth=2, width=8, sparse_blocks="ard", hidden=5)
    assert all(isinstance(b, ARDBottleneckBlock) for b in net.blocks)
    assert net.blocks[0].linear1.weight.shape == (5, 8)
    assert net.blocks[0].linear1.bias is None  # BN supplies the shift
    assert net(torch.randn(4, 3)).shape == (4, 3, 2)
    with pytest.raises(ValueError, match="sparse_blocks"):
        DepthResMLP(3, 2, sparse_blocks="l1")
    with pytest.raises(ValueError, match="hidden"):
        DepthResMLP(3, 2, sparse_blocks="ard", hidden=0)


def test_exported_plain_block_equals_the_block_in_eval():
    from sklearn_depth import ResidualBlock

    torch.manual_seed(0)
    block = ResidualBlock(6)
    with torch.no_grad():
        block.norm.running_mean.normal_()
        block.norm.running_var.uniform_(0.5, 2.0)
        block.norm.weight.normal_()
    block.eval()
    h = torch.randn(10, 6)
    exported = ExportedResidualBlock.from_block(block)
    assert_allclose(exported(h).detach(), block(h).detach(), atol=1e-6)


def test_exported_bottleneck_removes_disconnected_units_exactly():
    block = _trained_block()
    with torch.no_grad():
        # unit 0: no incoming weights (its constant output must be folded
        # into the bias); unit 1: no outgoing weights; unit 2: a single
        # surviving incoming weight; units 3, 4 untouched.
        block.linear1.log_sigma2[0].fill_(8.0)
        block.linear2.log_sigma2[:, 1].fill_(8.0)
        block.linear1.log_sigma2[2, 1:].fill_(8.0)
        block.norm.bias[0] = 2.0  # makes ReLU(b1) of unit 0 non-zero
    h = torch.randn(20, 6)
    exported = ExportedBottleneckBlock.from_block(block)
    assert exported.hidden == 3
    assert_allclose(exported(h).detach(), block(h).detach(), atol=1e-5)
    dense = ExportedBottleneckBlock.from_block(block, remove_units=False)
    assert dense.hidden == 5
    assert_allclose(dense(h).detach(), block(h).detach(), atol=1e-5)


def test_exported_bottleneck_without_units_adds_a_constant():
    block = _trained_block()
    with torch.no_grad():
        block.linear2.log_sigma2.fill_(8.0)
    exported = ExportedBottleneckBlock.from_block(block)
    assert exported.hidden == 0
    assert sum(p.numel() for p in exported.parameters()) == 6
    h = torch.randn(5, 6)
    assert_allclose(exported(h).detach(), block(h).detach(), atol=1e-6)


@pytest.mark.parametrize("sparse_blocks", [None, "ard"])
def test_classifier_export_matches_predict_proba(spirals_small, sparse_blocks):
    X, y = spirals_small
    clf = DepthSearchClassifier(**FAST, sparse_blocks=sparse_blocks).fit(X, y)
    net = clf.export_pruned()
    proba = net(torch.from_numpy(X)).detach().numpy()
    assert proba.dtype == np.float32
    assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
    kinds = {type(m) for m in net.modules()}
    assert not kinds & {LinearARD, nn.BatchNorm1d, ARDBottleneckBlock}
    assert all("depth_logits" not in name for name, _ in net.named_parameters())
    assert len(net.body.blocks) == clf.depth_
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params == clf.n_params_pruned_
    assert clf.n_params_ == (
        clf.n_params_pruned_ + clf.n_params_removed_depth_ + clf.n_params_removed_ard_
    )


@pytest.mark.parametrize("one_d", [True, False])
def test_regressor_export_matches_predict(regression_data, one_d):
    X, Y = regression_data
    y = Y[:, 0] if one_d else Y
    reg = DepthSearchRegressor(**ARD).fit(X, y)
    mean, std = (t.detach().numpy() for t in reg.export_pruned()(torch.from_numpy(X)))
    expected_mean, expected_std = reg.predict(X, return_std=True)
    assert mean.shape == expected_mean.shape == std.shape
    scale = reg.y_scale_[0] if one_d else reg.y_scale_  # compare standardised
    assert_allclose(mean / scale, expected_mean / scale, atol=1e-5)
    assert_allclose(std / scale, expected_std / scale, atol=1e-5)


def test_export_is_smaller_by_both_depth_and_ard(regression_data):
    X, Y = regression_data
    reg = DepthSearchRegressor(**dict(ARD, max_epochs=60, sparsity_strength=1.0))
    reg.fit(X, Y[:, 0])
    # this fit prunes blocks (depth) and weights inside the kept ones (ARD)
    assert reg.depth_ < reg.max_depth and reg.n_params_removed_ard_ > 0
    net = reg.export_pruned()
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params == reg.n_params_pruned_
    assert n_params == reg.n_params_ - reg.n_params_removed_depth_ - (
        reg.n_params_removed_ard_
    )
    mean = net(torch.from_numpy(X))[0].detach().numpy()
    assert_allclose(mean / reg.y_scale_, reg.predict(X) / reg.y_scale_, atol=1e-5)


def test_ard_prunes_more_with_a_larger_strength(spirals_small):
    X, y = spirals_small
    kept = []
    for strength in [0.0, 0.1, 1.0]:
        clf = DepthSearchClassifier(
            max_depth=4,
            width=16,
            max_epochs=60,
            random_state=0,
            sparse_blocks="ard",
            sparsity_strength=strength,
        ).fit(X, y)
        kept.append(clf.n_params_pruned_)
        if strength == 0.0:
            assert clf.n_params_removed_ard_ == 0
    assert kept[0] > kept[1] > kept[2]


def test_kl_annealed_over_the_warmup(spirals_small):
    X, y = spirals_small
    ramps = []
    from skorch.callbacks import Callback

    class Record(Callback):
        # After the default depth_warmup callback: the strength in use.
        def on_batch_begin(self, net, training=False, **kwargs):
            ramps.append(net.criterion_.sparsity_strength / net.sparsity_strength)

    DepthSearchClassifier(
        **dict(ARD, max_epochs=6), depth_warmup=4, callbacks=[Record()]
    ).fit(X, y)
    assert_allclose(ramps, [0, 0.25, 0.5, 0.75, 1, 1])


@pytest.mark.parametrize("Estimator", [DepthSearchClassifier, DepthSearchRegressor])
def test_ard_estimator_pickles_and_grid_searches(spirals_small, Estimator):
    X, y = spirals_small
    if Estimator is DepthSearchRegressor:
        y = np.sin(3 * X[:, 0]) + X[:, 1]
    est = Estimator(**dict(ARD, max_epochs=10)).fit(X, y)
    loaded = pickle.loads(pickle.dumps(est))
    assert_allclose(loaded.predict(X), est.predict(X))
    assert loaded.n_params_pruned_ == est.n_params_pruned_
    search = GridSearchCV(
        Estimator(**dict(ARD, max_epochs=5)),
        {"sparsity_strength": [0.1, 1.0]},
        cv=2,
    ).fit(X, y)
    assert search.best_params_["sparsity_strength"] in (0.1, 1.0)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(sparse_blocks="l1"), ValueError, "sparse_blocks"),
        (dict(sparse_blocks=True), ValueError, "sparse_blocks"),
        (dict(sparsity_strength=-1.0), ValueError, "sparsity_strength"),
        (dict(sparsity_strength="big"), TypeError, "sparsity_strength"),
        (dict(sparse_blocks="ard", module__hidden=0), ValueError, "hidden"),
    ],
)
def test_bad_sparsity_parameters_are_rejected(spirals_small, params, error, match):
    X, y = spirals_small
    with pytest.raises(error, match=match):
        DepthSearchClassifier(**dict(FAST, **params)).fit(X, y)


def test_export_needs_a_fitted_estimator_with_the_default_module(spirals_small):
    with pytest.raises(NotFittedError):
        DepthSearchClassifier().export_pruned()


def test_export_body_rejects_unknown_blocks():
    net = DepthResMLP(3, 2, max_depth=1, width=4)
    net.blocks[0] = nn.Identity()
    with pytest.raises(TypeError, match="Identity"):
        export_body(net, 1)


@pytest.mark.parametrize("Estimator", [DepthSearchClassifier, DepthSearchRegressor])
def test_saved_program_loads_without_sklearn_depth(spirals_small, tmp_path, Estimator):
    X, y = spirals_small
    if Estimator is DepthSearchRegressor:
        y = np.sin(3 * X[:, 0]) + X[:, 1]
    est = Estimator(**ARD).fit(X, y)
    path = tmp_path / "model.pt2"
    est.export_pruned(path)
    np.save(tmp_path / "X.npy", X[:7])  # an odd batch size: the batch is dynamic
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import torch
        net = torch.export.load({str(path)!r}).module()
        X = torch.from_numpy(np.load({str(tmp_path / "X.npy")!r}))
        out = net(X)
        out = out if isinstance(out, tuple) else (out,)  # (mean, std) or proba
        np.savez({str(tmp_path / "out.npz")!r}, *(t.detach().numpy() for t in out))
        assert not any(m.startswith("sklearn_depth") for m in sys.modules)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)
    with np.load(tmp_path / "out.npz") as saved:
        out = [saved[k] for k in sorted(saved.files)]
    if Estimator is DepthSearchClassifier:
        assert_allclose(out[0], est.predict_proba(X[:7]), atol=1e-5)
    else:
        mean, std = est.predict(X[:7], return_std=True)
        scale = est.y_scale_[0]  # compare standardised outputs
        assert_allclose(out[0] / scale, mean / scale, atol=1e-5)
        assert_allclose(out[1] / scale, std / scale, atol=1e-5)
