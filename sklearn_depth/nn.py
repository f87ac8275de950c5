# SPDX-License-Identifier: MIT
"""Sparse Bayesian layers: automatic relevance determination (ARD).

The layers implement sparse variational dropout (Molchanov, Ashukha & Vetrov,
"Variational Dropout Sparsifies Deep Neural Networks", ICML 2017,
arXiv:1701.05369). Every weight has a Gaussian posterior
``q(w) = N(θ, σ²)`` under a log-uniform prior; its dropout ratio
``α = σ² / θ²`` grows without bound for irrelevant weights, which are then
pruned. Each layer owns its KL divergence, :func:`ard_kl` sums them over a
model, and :class:`ELBOLoss` adds the sum, divided by the number of training
rows, to a per-example data term.

The MIT-licensed ``pytorch_ard`` package (HolyBayes/pytorch_ard) is prior art
for the same layers. This module is written from the paper and fixes that
package's known problems: the bias is tested with ``is not None`` (so
``bias=False`` and one-output layers work in training and evaluation), the
bias never enters the variance of the local reparameterisation,
:class:`Conv2dARD` (as :class:`Conv1dARD`) supports a bias, the layers clamp
``log α`` to the same range, :func:`sparsity` counts every parameter of the model and
:class:`ELBOLoss` scales the KL by ``1 / n_train``.

Use the layers like ``torch.nn.Linear`` and ``torch.nn.Conv2d`` inside any
``nn.Module``; in training mode they are stochastic, in evaluation mode
deterministic with the pruned weights set to zero.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sklearn_depth._ard import (
    Conv1dARD,
    Conv2dARD,
    LinearARD,
    _ARDLayer,
    _check_positive_int,
)
from sklearn_depth._params import check_number

__all__ = [
    "Conv1dARD",
    "Conv2dARD",
    "ELBOLoss",
    "LinearARD",
    "ard_kl",
    "count_parameters",
    "sparsity",
]


def _ard_layers(module: nn.Module) -> list[_ARDLayer]:
    return [m for m in module.modules() if isinstance(m, _ARDLayer)]


def ard_kl(module: nn.Module) -> Tensor:
    """Sum of the KL terms of all ARD layers in a model.

    Parameters
    ----------
    module : torch.nn.Module
        The model; itself and all its submodules are searched.

    Returns
    -------
    kl : Tensor of shape ()
        ``Σ layer.kl()`` over the :class:`LinearARD`, :class:`Conv1dARD`
        and :class:`Conv2dARD` layers, differentiable; a zero tensor if there are none.

    Examples
    --------
    >>> from torch import nn
    >>> from sklearn_depth.nn import LinearARD, ard_kl
    >>> ard_kl(nn.Sequential(LinearARD(3, 4), nn.ReLU(), LinearARD(4, 1))).shape
    torch.Size([])
    >>> ard_kl(nn.Linear(3, 1)).item()
    0.0
    """
    layers = _ard_layers(module)
    if not layers:
        first = next(module.parameters(), None)
        if first is None:
            return torch.zeros(())
        return torch.zeros((), dtype=first.dtype, device=first.device)
    return torch.stack([layer.kl() for layer in layers]).sum()


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """Count the parameters of a model and those that ARD keeps.

    Every tensor of ``module.parameters()`` counts (a tensor shared between
    submodules counts once), whatever layer it belongs to, except the
    ``log_sigma2`` of the ARD layers: those are variational parameters that
    a pruned, deterministic model does not need. Buffers (such as batch
    normalisation statistics) do not count. A parameter is removed only if
    it is the weight of an ARD layer with ``log α`` above the layer's
    ``threshold``; biases and all other parameters are kept. A freshly
    initialised layer may already prune the few weights drawn close to zero.

    Parameters
    ----------
    module : torch.nn.Module
        The model.

    Returns
    -------
    n_total : int
        Number of model parameters.
    n_kept : int
        Number of them that are not pruned.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_depth.nn import LinearARD, count_parameters
    >>> ard = LinearARD(10, 5)
    >>> model = nn.Sequential(nn.Linear(10, 10), ard)
    >>> with torch.no_grad():
    ...     _ = ard.weight.fill_(0.1)  # log α = -10 - log(0.01) < 3: all kept
    >>> count_parameters(model)
    (165, 165)
    >>> with torch.no_grad():
    ...     _ = ard.weight[:2].zero_()  # the 20 weights of two outputs go
    >>> count_parameters(model)
    (165, 145)
    """
    layers = _ard_layers(module)
    variational = {id(layer.log_sigma2) for layer in layers}
    n_total = sum(p.numel() for p in module.parameters() if id(p) not in variational)
    n_pruned = 0
    seen = set()
    for layer in layers:
        if id(layer.weight) not in seen:
            seen.add(id(layer.weight))
            n_pruned += int(layer.pruned_mask().sum().item())
    return n_total, n_total - n_pruned


def sparsity(module: nn.Module) -> float:
    """Fraction of all parameters of a model that ARD prunes.

    ``1 - n_kept / n_total`` with the counts of :func:`count_parameters`:
    the denominator holds every parameter of the model (ARD layers or not,
    biases included) except the ARD layers' ``log_sigma2``.

    Parameters
    ----------
    module : torch.nn.Module
        The model.

    Returns
    -------
    sparsity : float
        In ``[0, 1]``; 0.0 for a model without parameters.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_depth.nn import LinearARD, sparsity
    >>> ard = LinearARD(10, 5)
    >>> with torch.no_grad():
    ...     _ = ard.log_sigma2.fill_(8.0)  # prune all 50 weights
    >>> round(sparsity(nn.Sequential(nn.Linear(10, 10), ard)), 4)  # 50 / 165
    0.303
    """
    n_total, n_kept = count_parameters(module)
    if n_total == 0:
        return 0.0
    return 1.0 - n_kept / n_total


class ELBOLoss(nn.Module):
    """Negative ELBO per training example for models with ARD layers.

    ``loss = nll(y_pred, y_true) + sparsity_strength * ard_kl(model) / n_train``.
    The data term is a mean over the rows of the batch and the KL of the
    whole training set is shared over its ``n_train`` rows, so averaged over
    the batches of an epoch the loss is the negative ELBO divided by
    ``n_train``, whatever the batch size.

    Parameters
    ----------
    n_train : int
        Number of training rows ``N`` (after any validation split).
    sparsity_strength : float, default=1.0
        Multiplier of ``KL / N``; 1 is the proper Bayesian objective, larger
        values prune more. Increasing it from 0 to 1 over the first epochs
        ("KL warm-up") often helps. The estimators' parameter of the same
        name has the same meaning (their ``kl_weight`` weights the KL of the
        posterior over depth instead).
    nll : callable, default=None
        ``nll(y_pred, y_true)`` returning the mean negative log-likelihood of
        the batch as a scalar tensor. ``None`` means
        ``torch.nn.functional.cross_entropy`` (``y_pred`` are logits). For
        regression prefer a Gaussian NLL with a learned noise scale to
        ``torch.nn.functional.mse_loss``: the latter fixes the noise
        variance at 1/2, against which the KL can prune every weight.

    See Also
    --------
    ard_kl : The KL term.

    Notes
    -----
    The criterion needs the model to read its KL, so it takes it as the third
    argument of ``forward``. In skorch, override ``get_loss`` to pass
    ``self.module_`` and give ``n_train`` as ``criterion__n_train``; with a
    classifier also set ``predict_nonlinearity`` as skorch only infers the
    softmax for ``torch.nn.CrossEntropyLoss``.

    Examples
    --------
    Plain PyTorch:

    >>> import torch
    >>> from torch import nn
    >>> from sklearn_depth.nn import ELBOLoss, LinearARD
    >>> model = nn.Sequential(LinearARD(4, 8), nn.ReLU(), LinearARD(8, 3))
    >>> criterion = ELBOLoss(n_train=100)
    >>> X, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
    >>> loss = criterion(model(X), y, model)
    >>> loss.backward()
    >>> loss.shape
    torch.Size([])

    skorch:

    >>> from functools import partial
    >>> import numpy as np
    >>> from skorch import NeuralNetClassifier
    >>> from skorch.utils import to_tensor
    >>> class ELBONet(NeuralNetClassifier):
    ...     def get_loss(self, y_pred, y_true, X=None, training=False):
    ...         # ELBOLoss reads the ARD KL off the module, so pass it along.
    ...         y_true = to_tensor(y_true, device=self.device)
    ...         return self.criterion_(y_pred, y_true, self.module_)
    >>> X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> net = ELBONet(
    ...     nn.Sequential(LinearARD(4, 16), nn.ReLU(), LinearARD(16, 2)),
    ...     criterion=ELBOLoss,
    ...     criterion__n_train=len(X),
    ...     predict_nonlinearity=partial(torch.softmax, dim=-1),
    ...     train_split=None,
    ...     max_epochs=2,
    ...     verbose=0,
    ... )
    >>> net.fit(X, y).predict_proba(X).shape
    (60, 2)
    """

    def __init__(
        self,
        n_train: int,
        *,
        sparsity_strength: float = 1.0,
        nll: Callable[[Tensor, Tensor], Tensor] | None = None,
        kl_weight="deprecated",
    ):
        super().__init__()
        self.n_train = _check_positive_int(n_train, "n_train")
        if not (isinstance(kl_weight, str) and kl_weight == "deprecated"):
            warnings.warn(
                "ELBOLoss's kl_weight was renamed sparsity_strength (the name "
                "the estimators give the weight of the ARD KL) in 0.1 and will "
                "be removed in 0.2.",
                FutureWarning,
                stacklevel=2,
            )
            sparsity_strength = kl_weight
        check_number(sparsity_strength, "sparsity_strength", min_val=0)
        if nll is not None and not callable(nll):
            raise TypeError(f"nll must be callable or None, got {nll!r}.")
        self.sparsity_strength = float(sparsity_strength)
        self.nll = nll

    def forward(self, y_pred: Tensor, y_true: Tensor, model: nn.Module) -> Tensor:
        """Negative ELBO per training example.

        Parameters
        ----------
        y_pred : Tensor
            Model outputs of the batch (logits for the default ``nll``).
        y_true : Tensor
            Targets of the batch.
        model : torch.nn.Module
            The model whose ARD layers supply the KL.

        Returns
        -------
        loss : Tensor of shape ()
        """
        nll = F.cross_entropy if self.nll is None else self.nll
        data_term = nll(y_pred, y_true)
        return data_term + self.sparsity_strength * ard_kl(model) / self.n_train

    def extra_repr(self) -> str:
        """Describe the module in ``repr``."""
        return f"n_train={self.n_train}, sparsity_strength={self.sparsity_strength}"
