# SPDX-License-Identifier: MIT
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sklearn_depth import ARDBottleneckBlock, DepthResMLP


def count_block_calls(module):
    calls = []
    handles = [
        block.register_forward_hook(lambda *_, i=i: calls.append(i))
        for i, block in enumerate(module.blocks)
    ]
    return calls, handles


def test_forward_returns_every_depth_in_one_pass():
    module = DepthResMLP(3, 4, max_depth=5, width=8)
    out = module(torch.randn(7, 3))
    assert out.shape == (7, 6, 4)


def test_depth_zero_is_input_layer_then_head():
    module = DepthResMLP(3, 2, max_depth=2, width=8).eval()
    X = torch.randn(5, 3)
    expected = module.head(module.input(X))
    assert torch.allclose(module(X)[:, 0], expected)


def test_each_depth_adds_one_residual_block():
    module = DepthResMLP(3, 2, max_depth=2, width=8).eval()
    X = torch.randn(5, 3)
    h1 = module.blocks[0](module.input(X))
    assert torch.allclose(module(X)[:, 1], module.head(h1))


def test_pruned_forward_runs_only_active_blocks():
    module = DepthResMLP(3, 2, max_depth=6, width=8).eval()
    calls, handles = count_block_calls(module)
    module.active_depth = 2
    out = module(torch.randn(4, 3))
    assert out.shape == (4, 3, 2)
    assert calls == [0, 1]
    calls.clear()
    with module.all_depths():
        module(torch.randn(4, 3))
    assert calls == list(range(6))
    assert module.active_depth == 2
    for handle in handles:
        handle.remove()


def test_log_q_folds_the_pruned_tail():
    module = DepthResMLP(3, 2, max_depth=3, width=4)
    with torch.no_grad():
        module.depth_logits.copy_(torch.log(torch.tensor([0.1, 0.2, 0.3, 0.4])))
    module.active_depth = 1
    assert_allclose(module.log_q().exp().detach().numpy(), [0.1, 0.9], rtol=1e-6)
    assert module.active_log_prior().exp().sum().item() == pytest.approx(1.0)


def test_active_depth_round_trips_through_state_dict():
    module = DepthResMLP(3, 2, max_depth=4, width=4)
    module.active_depth = 1
    other = DepthResMLP(3, 2, max_depth=4, width=4)
    other.load_state_dict(module.state_dict())
    assert other.active_depth == 1
    assert "depth_logits" in module.state_dict()
    assert "log_prior" in module.state_dict()


def test_masked_prior_gives_zero_posterior():
    with np.errstate(divide="ignore"):
        log_prior = np.log([0.5, 0.5, 0.0])
        module = DepthResMLP(3, 2, max_depth=2, width=4, log_prior=log_prior)
    assert module.log_q().exp()[2].item() == 0.0


def test_posterior_starts_at_the_prior():
    with np.errstate(divide="ignore"):
        log_prior = np.log([0.1, 0.2, 0.0, 0.7])
    module = DepthResMLP(3, 2, max_depth=3, width=4, log_prior=log_prior)
    assert_allclose(module.log_q().exp().detach(), [0.1, 0.2, 0.0, 0.7], rtol=1e-6)
    assert torch.isfinite(module.depth_logits).all()  # the mask is in log_q


def test_a_prior_that_forbids_every_depth_is_rejected():
    with pytest.raises(ValueError, match="at least one depth"):
        DepthResMLP(3, 2, max_depth=1, width=4, log_prior=np.full(2, -np.inf))


def test_wrong_prior_length_is_rejected():
    with pytest.raises(ValueError, match="log_prior must have shape"):
        DepthResMLP(3, 2, max_depth=2, width=4, log_prior=np.zeros(2))


def test_active_state_leaves_out_inactive_blocks():
    module = DepthResMLP(3, 2, max_depth=4, width=4).eval()
    module.active_depth = 2
    state = module.active_state(torch.float64)
    assert not any(name.startswith(("blocks.2.", "blocks.3.")) for name in state)
    assert state["blocks.1.linear.weight"].dtype == torch.float64
    X = torch.randn(5, 3, dtype=torch.float64)
    out = torch.func.functional_call(module, state, (X,))
    expected = module.double()(X)
    assert torch.allclose(out, expected)


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
