# SPDX-License-Identifier: MIT
"""The ARD layers (sklearn_depth/_ard.py, public as sklearn_depth.nn)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose
from torch import nn

from sklearn_depth.nn import Conv2dARD, ELBOLoss, LinearARD

LOG_ALPHAS = np.array([-8.0, -3.0, 0.0, 3.0, 8.0])


def published_kl(log_alpha):
    """KL approximation of Molchanov et al. (2017), written out in numpy."""
    k1, k2, k3 = 0.63576, 1.87320, 1.48695
    sigmoid = 1.0 / (1.0 + np.exp(-(k2 + k3 * log_alpha)))
    neg_kl = k1 * sigmoid - 0.5 * np.log1p(np.exp(-log_alpha)) - k1
    return -neg_kl


def set_log_alpha(layer, log_alpha):
    """Give ``layer`` weights of 1, so that log α = log σ² (up to 1e-8)."""
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.log_sigma2.copy_(torch.as_tensor(log_alpha).reshape_as(layer.weight))


def make_layer(kind, bias=True, out=3, **kwargs):
    if kind == "linear":
        return LinearARD(5, out, bias=bias, **kwargs)
    return Conv2dARD(2, out, kernel_size=3, padding=1, bias=bias, **kwargs)


def make_input(kind, n=4):
    return torch.randn(n, 5) if kind == "linear" else torch.randn(n, 2, 4, 4)


def affine(layer, x, weight, bias):
    """The layer's linear map, written independently of the layer."""
    if isinstance(layer, LinearARD):
        out = x @ weight.T
        return out if bias is None else out + bias
    return F.conv2d(x, weight, bias, padding=1)


def deterministic(layer, x, weight):
    return affine(layer, x, weight, layer.bias)


KINDS = ["linear", "conv"]


# --------------------------------------------------------------------------
# KL divergence
# --------------------------------------------------------------------------


def documented_log_alpha(layer):
    """``clip(log σ² - log(θ² + 1e-8), -10, 10)`` in numpy, from the parameters."""
    theta = layer.weight.detach().double().numpy()
    log_sigma2 = layer.log_sigma2.detach().double().numpy()
    return np.clip(log_sigma2 - np.log(theta**2 + 1e-8), -10.0, 10.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kl_matches_published_formula(dtype):
    # float32 loses ~1e-8 absolute to the cancellation k1 - k1 σ(.) at large α.
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {"rtol": 1e-10}
    layer = LinearARD(len(LOG_ALPHAS), 1, dtype=dtype)
    set_log_alpha(layer, LOG_ALPHAS)
    log_alpha = documented_log_alpha(layer)
    assert_allclose(log_alpha.ravel(), LOG_ALPHAS, atol=1e-6)
    assert_allclose(layer.log_alpha.detach().numpy(), log_alpha, **tol)
    assert_allclose(layer.kl().item(), published_kl(log_alpha).sum(), **tol)
    # Each weight on its own, too.
    for value in LOG_ALPHAS:
        single = LinearARD(1, 1, dtype=dtype)
        set_log_alpha(single, [value])
        expected = published_kl(documented_log_alpha(single)).item()
        assert_allclose(single.kl().item(), expected, **tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kl_matches_published_formula_at_random_parameters(dtype):
    layer = LinearARD(6, 4, dtype=dtype)
    with torch.no_grad():
        layer.log_sigma2.uniform_(-12.0, 2.0)
    tol = {"rtol": 1e-5} if dtype == torch.float32 else {"rtol": 1e-10}
    expected = published_kl(documented_log_alpha(layer)).sum()
    assert_allclose(layer.kl().item(), expected, **tol)


def test_kl_known_values_and_shape():
    # Table of §4.2 of the project notes, from the same formula.
    layer = LinearARD(3, 1, dtype=torch.float64)
    set_log_alpha(layer, [-3.0, 0.0, 3.0])
    per_weight = published_kl(np.array([-3.0, 0.0, 3.0]))
    assert_allclose(per_weight, [2.116, 0.431, 0.025], atol=5e-4)
    assert layer.kl().shape == ()


def test_log_alpha_is_clamped_and_conv_kl_matches():
    conv = Conv2dARD(1, 1, kernel_size=(1, 5), dtype=torch.float64)
    set_log_alpha(conv, [-30.0, -3.0, 0.0, 3.0, 30.0])
    clamped = np.array([-10.0, -3.0, 0.0, 3.0, 10.0])
    assert_allclose(conv.log_alpha.detach().numpy().ravel(), clamped, atol=1e-7)
    expected = published_kl(documented_log_alpha(conv)).sum()
    assert_allclose(conv.kl().item(), expected, rtol=1e-10)


def test_kl_gradient_is_finite_and_pushes_towards_sparsity():
    layer = LinearARD(4, 2)
    layer.kl().backward()
    assert torch.isfinite(layer.log_sigma2.grad).all()
    # The KL decreases with log α: its gradient on log σ² is negative.
    assert (layer.log_sigma2.grad < 0).all()


# --------------------------------------------------------------------------
# Forward: evaluation and training modes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", [True, False])
def test_pruned_weights_are_exactly_zero_in_eval(kind, bias):
    layer = make_layer(kind, bias=bias)
    pruned = torch.rand(layer.weight.shape) < 0.5
    with torch.no_grad():
        # At init a weight with |θ| < e^-6.5 is already pruned; avoid that.
        layer.log_sigma2.fill_(-30.0)
        layer.log_sigma2.masked_fill_(pruned, 5.0)  # log α ≥ 5 - log θ² > 3
    assert torch.equal(layer.pruned_mask(), pruned)
    masked = layer.masked_weight()
    assert (masked[pruned] == 0).all()
    assert torch.equal(masked[~pruned], layer.weight[~pruned])
    assert layer.n_kept() == int((~pruned).sum())

    x = make_input(kind)
    layer.eval()
    with torch.no_grad():
        out = layer(x)
        assert torch.equal(out, layer(x))  # deterministic
        expected = deterministic(layer, x, masked)
    torch.testing.assert_close(out, expected)


def test_threshold_is_strict_and_used_by_the_mask():
    layer = LinearARD(2, 1, threshold=2.0, dtype=torch.float64)
    set_log_alpha(layer, [1.5, 2.5])
    assert layer.pruned_mask().tolist() == [[False, True]]
    layer.threshold = 3.0
    assert layer.n_kept() == 2


@pytest.mark.parametrize("kind", KINDS)
def test_training_output_is_stochastic_with_the_right_moments(kind, global_random_seed):
    torch.manual_seed(global_random_seed)
    layer = make_layer(kind)
    with torch.no_grad():
        layer.log_sigma2.fill_(-2.0)
    x = make_input(kind)
    n, n_samples = x.shape[0], 4000
    with torch.no_grad():
        repeated = x.repeat(n_samples, *[1] * (x.dim() - 1))
        samples = layer(repeated).reshape(n_samples, n, -1)
        mean = affine(layer, x, layer.weight, layer.bias).reshape(n, -1)
        var = affine(layer, x.square(), layer.log_sigma2.exp(), None).reshape(n, -1)
    assert not torch.equal(samples[0], samples[1])
    std_error = (var / n_samples).sqrt()
    assert ((samples.mean(0) - mean).abs() < 5 * std_error).all()
    torch.testing.assert_close(samples.var(0), var, rtol=0.15, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_variance_ignores_the_bias(kind):
    layer = make_layer(kind)
    with torch.no_grad():
        layer.log_sigma2.fill_(-2.0)
    x = make_input(kind)
    outputs = []
    for bias in (0.0, 1e3):
        with torch.no_grad():
            layer.bias.fill_(bias)
        torch.manual_seed(1)  # the same noise draw for both biases
        with torch.no_grad():
            outputs.append(layer(x) - bias)
    # The bias only shifts the samples: their spread does not depend on it.
    torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=1e-3)


@pytest.mark.parametrize("kind", KINDS)
def test_tiny_variance_makes_training_output_match_eval(kind):
    layer = make_layer(kind)
    with torch.no_grad():
        layer.weight.copy_(0.5 + torch.rand(layer.weight.shape))  # none pruned
        layer.log_sigma2.fill_(-30.0)
        layer.bias.fill_(100.0)
    x = make_input(kind)
    with torch.no_grad():
        train_out = layer.train()(x)
        eval_out = layer.eval()(x)
    assert layer.n_kept() == layer.weight.numel()
    torch.testing.assert_close(train_out, eval_out, rtol=0, atol=1e-3)


@pytest.mark.parametrize("kind", KINDS)
def test_zero_input_gives_finite_gradients(kind):
    layer = make_layer(kind)
    out = layer(torch.zeros_like(make_input(kind)))
    out.sum().backward()
    for p in layer.parameters():
        assert torch.isfinite(p.grad).all()


# --------------------------------------------------------------------------
# Training: bias=False and one-output layers
# --------------------------------------------------------------------------


def fit_tiny_regression(kind, bias, out):
    """200 Adam steps on a noise-free linear target.

    Returns the layer and its eval-mode (MSE, ELBO) before and after. With a
    fixed-noise MSE likelihood the full KL / N prunes most of a 32-row
    problem, so the KL is down-weighted to keep the fit visible.
    """
    layer = make_layer(kind, bias=bias, out=out)
    teacher = make_layer(kind, bias=bias, out=out).eval()
    x = make_input(kind, n=32)
    with torch.no_grad():
        y = teacher(x)
    criterion = ELBOLoss(n_train=len(x), sparsity_strength=0.1, nll=F.mse_loss)
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.02)

    def evaluate():
        with torch.no_grad():
            y_pred = layer.eval()(x)
            return F.mse_loss(y_pred, y).item(), criterion(y_pred, y, layer).item()

    before = evaluate()
    for _ in range(200):
        layer.train()
        optimizer.zero_grad()
        loss = criterion(layer(x), y, layer)
        loss.backward()
        optimizer.step()
    return layer, before, evaluate()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("bias", "out"), [(False, 3), (True, 1), (False, 1)])
def test_layer_trains(kind, bias, out, global_random_seed):
    torch.manual_seed(global_random_seed)
    layer, (mse_before, elbo_before), (mse_after, elbo_after) = fit_tiny_regression(
        kind, bias, out
    )
    assert mse_after < 0.5 * mse_before
    assert elbo_after < 0.5 * elbo_before
    if bias:
        assert layer.bias.grad is not None
        assert layer.bias.grad.abs().sum() > 0
    else:
        assert layer.bias is None


def test_one_output_bias_is_learned():
    # A zero bias must still be added (and learned) in training.
    layer = LinearARD(3, 1)
    with torch.no_grad():
        layer.bias.zero_()
    x, y = torch.randn(16, 3), torch.full((16, 1), 5.0)
    F.mse_loss(layer(x), y).backward()
    assert layer.bias.grad is not None
    assert layer.bias.grad.item() < 0


def test_state_dict_holds_the_variational_parameters():
    assert set(LinearARD(2, 2).state_dict()) == {"weight", "bias", "log_sigma2"}
    assert set(Conv2dARD(2, 2, 1, bias=False).state_dict()) == {
        "weight",
        "log_sigma2",
    }


def test_conv_groups_stride_and_padding_follow_conv2d():
    conv = Conv2dARD(4, 6, kernel_size=(3, 2), stride=2, padding=(1, 0), groups=2)
    reference = nn.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 0), groups=2)
    assert conv.weight.shape == reference.weight.shape
    x = torch.randn(2, 4, 9, 9)
    with torch.no_grad():
        reference.weight.copy_(conv.weight)
        reference.bias.copy_(conv.bias)
        torch.testing.assert_close(conv.eval()(x), reference(x))
        assert conv.train()(x).shape == reference(x).shape
    assert Conv2dARD(2, 2, 3, padding="same")(torch.randn(1, 2, 5, 5)).shape == (
        1,
        2,
        5,
        5,
    )


# --------------------------------------------------------------------------
# The layers' KL in nn.py's ELBOLoss
# --------------------------------------------------------------------------


@pytest.mark.parametrize("strength", [0.0, 1.0, 3.5])
def test_elbo_equals_data_term_plus_scaled_kl(strength):
    model = nn.Sequential(LinearARD(4, 6), nn.Tanh(), LinearARD(6, 3))
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    model.eval()
    logits = model(x)
    loss = ELBOLoss(n_train=200, sparsity_strength=strength)(logits, y, model)

    log_proba = torch.log_softmax(logits, dim=1).detach().numpy()
    nll = -log_proba[np.arange(8), y.numpy()].mean()
    kl = sum(published_kl(documented_log_alpha(m)).sum() for m in model[::2])
    assert_allclose(loss.item(), nll + strength * kl / 200, rtol=1e-5)


# --------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: LinearARD(0, 2), ValueError),
        (lambda: LinearARD(2, -1), ValueError),
        (lambda: LinearARD(2.5, 2), TypeError),
        (lambda: LinearARD(True, 2), TypeError),
        (lambda: LinearARD(2, 2, threshold="3"), TypeError),
        (lambda: LinearARD(2, 2, threshold=None), TypeError),
        (lambda: LinearARD(2, 2, threshold=math.nan), ValueError),
        (lambda: Conv2dARD(0, 2, 3), ValueError),
        (lambda: Conv2dARD(2, 2, 0), ValueError),
        (lambda: Conv2dARD(2, 2, (3, 3, 3)), TypeError),
        (lambda: Conv2dARD(2, 2, 3, stride=0), ValueError),
        (lambda: Conv2dARD(2, 2, 3, padding=-1), ValueError),
        (lambda: Conv2dARD(2, 2, 3, padding="full"), ValueError),
        (lambda: Conv2dARD(2, 2, 3, stride=2, padding="same"), ValueError),
        (lambda: Conv2dARD(2, 2, 3, dilation=0), ValueError),
        (lambda: Conv2dARD(3, 2, 3, groups=2), ValueError),
        (lambda: Conv2dARD(2, 2, 3, threshold="high"), TypeError),
    ],
)
def test_bad_arguments_raise(make, error):
    with pytest.raises(error):
        make()


def test_numpy_scalars_are_accepted():
    layer = LinearARD(np.int64(3), np.int32(2), threshold=np.float32(2.5))
    assert (layer.in_features, layer.out_features, layer.threshold) == (3, 2, 2.5)
