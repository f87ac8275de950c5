# SPDX-License-Identifier: MIT
"""Ensemble members packed into one network (``n_members``).

``K`` members are ``K`` independent residual streams of the same depth,
side by side: the input layer maps to ``K * width`` units, every block's
batch normalisation acts per unit (so per member), every linear map inside
a block and the head are block-diagonal (:class:`GroupedLinear`, one weight
matrix per member), and nothing mixes the streams. One forward pass trains
all of them on the same batches; each member gets the gradient of its own
loss only, so they train as ``K`` networks from ``K`` initialisations, and
share only the posterior over depth (the ELBO averages their likelihoods).

The predictive of depth ``d`` is the members' mixture
``(1/K) Σ_m softmax(f_{m,d}(x))``; :func:`member_log_proba` returns its log,
which the prediction paths use in place of one network's logits (a softmax
leaves a normalised log-probability as it is).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "GroupedLinear",
    "dense_linear",
    "log_mean_exp",
    "member_log_proba",
    "member_log_proba_np",
    "split_members",
]


class GroupedLinear(nn.Module):
    """``K`` independent linear maps on ``K`` consecutive groups of features.

    Maps ``(..., K * in_features)`` to ``(..., K * out_features)``: group
    ``m`` of the output is ``weight[m] @ x_m + bias[m]``. Equal to an
    ``nn.Linear`` with a block-diagonal weight (:func:`dense_linear`), in
    ``K`` times fewer multiply-adds. Each group is initialised as
    ``nn.Linear(in_features, out_features)`` is.

    Parameters
    ----------
    n_members : int
        Number of groups ``K``.
    in_features, out_features : int
        Features of one group.
    device, dtype : optional
        Of the parameters, as for ``nn.Linear``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth._members import GroupedLinear, dense_linear
    >>> layer = GroupedLinear(3, 4, 2)
    >>> x = torch.randn(5, 12)
    >>> layer(x).shape
    torch.Size([5, 6])
    >>> torch.allclose(layer(x), dense_linear(layer)(x), atol=1e-6)
    True
    """

    def __init__(
        self,
        n_members: int,
        in_features: int,
        out_features: int,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.n_members = n_members
        self.in_features = in_features
        self.out_features = out_features
        kw = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(
            torch.empty(n_members, out_features, in_features, **kw)
        )
        self.bias = nn.Parameter(torch.empty(n_members, out_features, **kw))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Each group as ``nn.Linear.reset_parameters`` initialises one layer."""
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
        for m in range(self.n_members):
            nn.init.kaiming_uniform_(self.weight[m], a=math.sqrt(5))
            nn.init.uniform_(self.bias[m], -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        groups = x.unflatten(-1, (self.n_members, self.in_features))
        out = torch.einsum("...ki,koi->...ko", groups, self.weight) + self.bias
        return out.flatten(-2)

    def extra_repr(self) -> str:
        return (
            f"n_members={self.n_members}, in_features={self.in_features}, "
            f"out_features={self.out_features}"
        )


def dense_linear(layer: nn.Module) -> nn.Linear:
    """An ``nn.Linear`` computing what ``layer`` computes (a copy).

    An ``nn.Linear`` is copied; a :class:`GroupedLinear` becomes the
    block-diagonal layer it equals.
    """
    if isinstance(layer, nn.Linear):
        weight, bias = layer.weight, layer.bias
    elif isinstance(layer, GroupedLinear):
        weight = torch.block_diag(*layer.weight)
        bias = layer.bias.flatten()
    else:
        raise TypeError(
            f"Expected nn.Linear or GroupedLinear; got {type(layer).__name__}."
        )
    out_features, in_features = weight.shape
    new = torch.nn.utils.skip_init(
        nn.Linear, in_features, out_features, dtype=weight.dtype, device=weight.device
    )
    with torch.no_grad():
        new.weight.copy_(weight)
        new.bias.copy_(bias)
    return new


def log_mean_exp(values: Tensor, dim: int, mask: Tensor | None = None) -> Tensor:
    """``log mean exp`` of ``values`` over the members' axis ``dim``.

    The log of an equal mixture of the members' probabilities (or
    likelihoods). With ``mask`` (broadcastable to ``values``, True where a
    member counts) only the members it keeps are mixed: the out-of-bag
    mixture of the members that held a row out.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth._members import log_mean_exp
    >>> log_p = torch.log(torch.tensor([[0.2, 0.6, 0.9]]))
    >>> log_mean_exp(log_p, dim=1).exp()
    tensor([0.5667])
    >>> log_mean_exp(log_p, dim=1, mask=torch.tensor([[True, True, False]])).exp()
    tensor([0.4000])
    """
    if mask is None:
        return torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])
    mask = mask.expand_as(values)
    count = mask.sum(dim).to(values.dtype)
    return torch.logsumexp(values.masked_fill(~mask, -math.inf), dim=dim) - count.log()


def member_log_proba(logits: Tensor, n_members: int) -> Tensor:
    """Log of the members' mixture of class probabilities.

    Parameters
    ----------
    logits : Tensor of shape (..., n_members * n_classes)
        Every member's logits, member by member.
    n_members : int

    Returns
    -------
    log_proba : Tensor of shape (..., n_classes)
        ``log((1/K) Σ_m softmax(logits_m))``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth._members import member_log_proba
    >>> logits = torch.tensor([[0.0, 0.0, 5.0, -5.0]])  # 2 members, 2 classes
    >>> member_log_proba(logits, 2).exp()
    tensor([[0.7500, 0.2500]])
    """
    per_member = torch.log_softmax(logits.unflatten(-1, (n_members, -1)), dim=-1)
    return log_mean_exp(per_member, dim=-2)


def split_members(out: Tensor, n_members: int, mix: bool) -> Tensor:
    """The head's outputs, ``(..., n_members * C)``, as a prediction path wants them.

    One member: as they are. Several: with ``mix``, the log of their
    mixture of class probabilities (:func:`member_log_proba`), ``(..., C)``;
    without, every member's outputs apart, ``(..., n_members, C)``.
    """
    if n_members == 1:
        return out
    if mix:
        return member_log_proba(out, n_members)
    return out.unflatten(-1, (n_members, -1))


def member_log_proba_np(logits: np.ndarray, n_members: int, axis: int) -> np.ndarray:
    """:func:`member_log_proba` in NumPy, the members' logits along ``axis``.

    ``logits`` holds ``n_members * n_classes`` entries along ``axis``, member
    by member; the result holds ``n_classes`` there.
    """
    logits = np.moveaxis(logits, axis, 0)
    groups = logits.reshape(n_members, -1, *logits.shape[1:])
    top = groups.max(axis=1, keepdims=True)
    log_proba = groups - top - np.log(np.exp(groups - top).sum(axis=1, keepdims=True))
    top = log_proba.max(axis=0)
    mixture = top + np.log(np.exp(log_proba - top).mean(axis=0))
    return np.moveaxis(mixture, 0, axis)
