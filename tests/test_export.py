# SPDX-License-Identifier: MIT
"""Export of the pruned network: sklearn_depth/_export.py and export_pruned."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.utils.validation import NotFittedError
from torch import nn

from sklearn_depth import (
    ARDBottleneckBlock,
    DepthResCNN,
    DepthResMLP,
    DepthSearchClassifier,
    DepthSearchRegressor,
    ResidualBlock,
)
from sklearn_depth._export import export_body
from sklearn_depth._plain import ExportedBottleneckBlock, ExportedResidualBlock
from sklearn_depth.nn import LinearARD


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


# -- exported blocks ------------------------------------------------------------


def test_exported_plain_block_equals_the_block_in_eval():
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


def test_export_body_rejects_unknown_blocks():
    net = DepthResMLP(3, 2, max_depth=1, width=4)
    net.blocks[0] = nn.Identity()
    with pytest.raises(TypeError, match="Identity"):
        export_body(net, 1)


# -- export_pruned ---------------------------------------------------------------


@pytest.mark.parametrize("sparse_blocks", [None, "ard"])
def test_classifier_export_matches_predict_proba(
    spirals_small, ard_params, sparse_blocks
):
    X, y = spirals_small
    params = {**ard_params, "sparse_blocks": sparse_blocks}
    clf = DepthSearchClassifier(**params).fit(X, y)
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
def test_regressor_export_matches_predict(regression_data, ard_params, one_d):
    X, Y = regression_data
    y = Y[:, 0] if one_d else Y
    reg = DepthSearchRegressor(**ard_params).fit(X, y)
    mean, std = (t.detach().numpy() for t in reg.export_pruned()(torch.from_numpy(X)))
    expected_mean, expected_std = reg.predict(X, return_std=True)
    assert mean.shape == expected_mean.shape == std.shape
    scale = reg.y_scale_[0] if one_d else reg.y_scale_  # compare standardised
    assert_allclose(mean / scale, expected_mean / scale, atol=1e-5)
    assert_allclose(std / scale, expected_std / scale, atol=1e-5)


def test_export_is_smaller_by_both_depth_and_ard(regression_data, ard_params):
    X, Y = regression_data
    reg = DepthSearchRegressor(
        **{**ard_params, "max_epochs": 60, "sparsity_strength": 1.0}
    )
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


def test_export_needs_a_fitted_estimator():
    with pytest.raises(NotFittedError):
        DepthSearchClassifier().export_pruned()


@pytest.mark.parametrize("Estimator", [DepthSearchClassifier, DepthSearchRegressor])
def test_export_needs_the_default_module(
    Estimator, estimator_data, fast_params, wrapped_module
):
    est = Estimator(**fast_params, module=wrapped_module).fit(*estimator_data)
    match = "needs a backbone of the package .*; got DepthResMLPWrapper"
    with pytest.raises(TypeError, match=match):
        est.export_pruned()


@pytest.mark.parametrize("backbone", [DepthResMLP, DepthResCNN])
@pytest.mark.parametrize("Estimator", [DepthSearchClassifier, DepthSearchRegressor])
def test_saved_program_loads_without_sklearn_depth(
    estimator_data, ard_params, tmp_path, Estimator, backbone
):
    X, y = estimator_data
    est = Estimator(**ard_params, module=backbone).fit(X, y)
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
