# SPDX-License-Identifier: MIT
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sklearn_depth import CategoricalDepthELBO
from sklearn_depth._depth import log_posterior


def _inputs(seed=0, n=6, depths=4, classes=3):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, depths, classes, generator=g, dtype=torch.float64)
    y = torch.randint(0, classes, (n,), generator=g)
    log_q = torch.log_softmax(torch.randn(depths, generator=g, dtype=torch.float64), 0)
    log_prior = torch.full((depths,), -np.log(depths), dtype=torch.float64)
    return logits, y, log_q, log_prior


def test_elbo_matches_hand_computation():
    logits, y, log_q, log_prior = _inputs()
    loss = CategoricalDepthELBO()(logits, y, log_q, log_prior, n_train=50)

    p = torch.softmax(logits, -1).numpy()
    q = log_q.exp().numpy()
    nll = -np.log(p[np.arange(6), :, y.numpy()])  # (n, depths)
    kl = np.sum(q * (np.log(q) - log_prior.numpy()))
    expected = (nll * q).sum(1).mean() + kl / 50
    assert_allclose(loss.item(), expected)


def test_kl_weight_scales_only_the_kl():
    logits, y, log_q, log_prior = _inputs()
    base = CategoricalDepthELBO(kl_weight=0.0)(logits, y, log_q, log_prior, 10)
    one = CategoricalDepthELBO(kl_weight=1.0)(logits, y, log_q, log_prior, 10)
    two = CategoricalDepthELBO(kl_weight=2.0)(logits, y, log_q, log_prior, 10)
    assert_allclose((two - base).item(), 2 * (one - base).item())


def test_integer_weights_equal_repeated_rows():
    logits, y, log_q, log_prior = _inputs(n=8)
    weights = torch.tensor([0, 1, 2, 3, 1, 0, 4, 1])
    criterion = CategoricalDepthELBO()
    weighted = criterion(logits, y, log_q, log_prior, 100, sample_weight=weights)
    repeated = criterion(
        logits.repeat_interleave(weights, 0),
        y.repeat_interleave(weights, 0),
        log_q,
        log_prior,
        100,
    )
    assert_allclose(weighted.item(), repeated.item())


def test_unit_weights_equal_no_weights_and_scale_does_not_matter():
    logits, y, log_q, log_prior = _inputs()
    criterion = CategoricalDepthELBO()
    plain = criterion(logits, y, log_q, log_prior, 20)
    ones = criterion(logits, y, log_q, log_prior, 20, sample_weight=torch.ones(6))
    tens = criterion(
        logits, y, log_q, log_prior, 20, sample_weight=torch.full((6,), 10.0)
    )
    assert_allclose(ones.item(), plain.item())
    assert_allclose(tens.item(), plain.item())


def test_masked_depths_contribute_nothing_and_gradients_are_finite():
    logits, y, _, _ = _inputs()
    depth_logits = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    log_prior = torch.log(torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64))
    log_q = log_posterior(depth_logits, log_prior)
    loss = CategoricalDepthELBO()(logits, y, log_q, log_prior, 10)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.all(torch.isfinite(depth_logits.grad))
    assert depth_logits.grad[2:].abs().sum().item() == 0.0


@pytest.mark.parametrize("n_train", [1, 1000])
def test_kl_is_divided_by_n_train(n_train):
    logits, y, log_q, log_prior = _inputs()
    with_kl = CategoricalDepthELBO()(logits, y, log_q, log_prior, n_train)
    no_kl = CategoricalDepthELBO(kl_weight=0)(logits, y, log_q, log_prior, n_train)
    kl = (log_q.exp() * (log_q - log_prior)).sum().item()
    assert_allclose((with_kl - no_kl).item(), kl / n_train)


def test_gaussian_elbo_matches_hand_computation():
    from sklearn_depth import GaussianDepthELBO

    g = torch.Generator().manual_seed(1)
    y_pred = torch.randn(5, 3, 2, generator=g, dtype=torch.float64)
    y_true = torch.randn(5, 2, generator=g, dtype=torch.float64)
    log_noise = torch.tensor([0.3, -0.5], dtype=torch.float64)
    log_q = torch.log(torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64))
    log_prior = torch.full((3,), -np.log(3), dtype=torch.float64)
    loss = GaussianDepthELBO()(
        y_pred, y_true, log_q, log_prior, 40, log_noise=log_noise
    )

    sigma = np.exp(log_noise.numpy())
    resid = y_true.numpy()[:, None, :] - y_pred.numpy()
    log_density = -0.5 * (resid / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)
    ll = log_density.sum(-1)  # (n, depths)
    q = np.array([0.2, 0.5, 0.3])
    kl = np.sum(q * np.log(q * 3))
    assert_allclose(loss.item(), -(ll * q).sum(1).mean() + kl / 40)


def test_gaussian_elbo_needs_the_noise():
    from sklearn_depth import GaussianDepthELBO

    logits, y, log_q, log_prior = _inputs()
    with pytest.raises(TypeError, match="log_noise"):
        GaussianDepthELBO()(logits, y[:, None].double(), log_q, log_prior, 10)


def test_weight_kl_is_scaled_by_sparsity_strength_over_n_train():
    logits, y, log_q, log_prior = _inputs()
    weight_kl = torch.tensor(30.0, dtype=torch.float64)
    base = CategoricalDepthELBO()(logits, y, log_q, log_prior, 10)
    for strength in [0.0, 1.0, 2.5]:
        loss = CategoricalDepthELBO(sparsity_strength=strength)(
            logits, y, log_q, log_prior, 10, weight_kl=weight_kl
        )
        assert_allclose((loss - base).item(), strength * 30.0 / 10)
