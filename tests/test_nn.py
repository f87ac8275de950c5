# SPDX-License-Identifier: MIT
"""sklearn_depth.nn beyond the layers: ard_kl, count_parameters, sparsity, ELBOLoss."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose
from torch import nn

from sklearn_depth.nn import (
    Conv2dARD,
    ELBOLoss,
    LinearARD,
    ard_kl,
    count_parameters,
    sparsity,
)

# --------------------------------------------------------------------------
# Parameter counts, KL sum and the ELBO
# --------------------------------------------------------------------------


def test_sparsity_counts_every_parameter():
    ard = LinearARD(10, 5)
    model = nn.Sequential(nn.Linear(10, 10), nn.ReLU(), ard)
    with torch.no_grad():
        ard.weight.fill_(0.1)  # log α = -10 - log(0.01) < 3: none pruned
    assert count_parameters(model) == (165, 165)
    assert sparsity(model) == 0.0
    with torch.no_grad():
        ard.weight.zero_()  # log α = -10 - log(1e-8) > 3: all 50 pruned
    assert ard.n_kept() == 0
    # 110 dense + 50 ARD weights + 5 ARD biases; log_sigma2 is not counted.
    assert count_parameters(model) == (165, 115)
    assert_allclose(sparsity(model), 50 / 165)


def test_sparsity_of_conv_and_shared_and_empty_modules():
    conv = Conv2dARD(2, 3, kernel_size=3, bias=False)
    with torch.no_grad():
        conv.log_sigma2[0].fill_(8.0)  # prune the 18 weights of channel 0
    model = nn.Sequential(conv, nn.BatchNorm2d(3), conv)  # conv shared
    assert count_parameters(model) == (54 + 6, 54 + 6 - 18)
    assert count_parameters(nn.ReLU()) == (0, 0)
    assert sparsity(nn.ReLU()) == 0.0


def test_ard_kl_sums_layer_kls():
    first, second = LinearARD(3, 4), Conv2dARD(1, 2, 3)
    with torch.no_grad():
        second.log_sigma2.fill_(-1.0)
    model = nn.ModuleDict({"a": nn.Sequential(first, nn.Linear(4, 4)), "b": second})
    total = ard_kl(model)
    assert total.shape == ()
    torch.testing.assert_close(total, first.kl() + second.kl())
    torch.testing.assert_close(ard_kl(first), first.kl())
    total.backward()
    assert first.log_sigma2.grad is not None


def test_ard_kl_without_ard_layers_is_zero():
    kl = ard_kl(nn.Linear(2, 2, dtype=torch.float64))
    assert kl.shape == () and kl.item() == 0.0 and kl.dtype == torch.float64
    assert ard_kl(nn.ReLU()).item() == 0.0


def test_elbo_with_a_custom_likelihood():
    model = LinearARD(3, 1)
    x, y = torch.randn(5, 3), torch.randn(5, 1)
    criterion = ELBOLoss(50, nll=F.mse_loss, sparsity_strength=2.0)
    y_pred = model(x)
    expected = F.mse_loss(y_pred, y) + 2.0 * model.kl() / 50
    torch.testing.assert_close(criterion(y_pred, y, model), expected)


def test_elbo_inside_a_skorch_regressor():
    from skorch import NeuralNetRegressor
    from skorch.utils import to_tensor

    class ELBONet(NeuralNetRegressor):
        def get_loss(self, y_pred, y_true, X=None, training=False):
            # ELBOLoss reads the KL off the module.
            return self.criterion_(y_pred, to_tensor(y_true, self.device), self.module_)

    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = X[:, :1] * 2.0
    net = ELBONet(
        LinearARD,
        module__in_features=3,
        module__out_features=1,
        criterion=ELBOLoss,
        criterion__n_train=len(X),
        criterion__nll=F.mse_loss,
        optimizer=torch.optim.Adam,
        lr=0.05,
        max_epochs=30,
        train_split=None,
        verbose=0,
    ).fit(X, y)
    losses = net.history[:, "train_loss"]
    assert losses[-1] < losses[0]
    assert net.predict(X).shape == (40, 1)
    # the weight of the one relevant input is kept, and counted as kept
    assert not net.module_.pruned_mask()[0, 0]
    total, kept = count_parameters(net.module_)
    assert total == 4 and kept == net.module_.n_kept() + 1  # and the bias
    assert sparsity(net.module_) == pytest.approx(1 - kept / total)


# --------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: ELBOLoss(0), ValueError),
        (lambda: ELBOLoss(10.0), TypeError),
        (lambda: ELBOLoss(10, sparsity_strength=-1.0), ValueError),
        (lambda: ELBOLoss(10, sparsity_strength="1"), TypeError),
        (lambda: ELBOLoss(10, nll="mse"), TypeError),
    ],
)
def test_bad_elbo_arguments_raise(make, error):
    with pytest.raises(error):
        make()


def test_elbo_kl_weight_is_a_deprecated_alias():
    model = nn.Sequential(LinearARD(4, 3))
    logits, y = model(torch.randn(8, 4)), torch.randint(0, 3, (8,))
    with pytest.warns(FutureWarning, match="renamed sparsity_strength"):
        old = ELBOLoss(20, kl_weight=2.0)
    assert old.sparsity_strength == 2.0
    new = ELBOLoss(20, sparsity_strength=2.0)
    assert old(logits, y, model).item() == new(logits, y, model).item()
