# SPDX-License-Identifier: MIT
"""ELBO criteria of variational depth search, as ``nn.Module`` losses.

Per training example the negative ELBO is

    Σ_d q(d) · NLL(y_n | f_d(x_n))  +  KL(q || p) / N

with the expectation over depth taken exactly (no sampling). A batch averages
the first term over its rows (weighted by ``sample_weight`` when given) and
adds the KL once, divided by the number ``N`` of training rows. With sparse
(ARD) weights, their KL joins the depth KL, both divided by ``N``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from sklearn_depth._depth import kl_divergence
from sklearn_depth._members import log_mean_exp

__all__ = ["DepthELBO", "CategoricalDepthELBO", "GaussianDepthELBO"]


class DepthELBO(nn.Module):
    """Negative ELBO over depth; subclasses supply the per-depth likelihood.

    Parameters
    ----------
    kl_weight : float, default=1.0
        Multiplier of ``KL(q || p) / N``; 1 is the proper Bayesian objective.
    sparsity_strength : float, default=1.0
        Multiplier of ``weight_kl / N``, the KL divergence of the weights'
        posterior (ARD layers) passed to :meth:`forward`; 1 is the proper
        Bayesian objective, larger values prune more.

    Examples
    --------
    See :class:`CategoricalDepthELBO` and :class:`GaussianDepthELBO`, the
    concrete likelihoods.
    """

    def __init__(self, kl_weight: float = 1.0, sparsity_strength: float = 1.0):
        super().__init__()
        self.kl_weight = kl_weight
        self.sparsity_strength = sparsity_strength

    def log_likelihood(self, y_pred: Tensor, y_true: Tensor, **params) -> Tensor:
        """Per-example, per-depth log-likelihood of shape ``(B, n_depths)``.

        ``(B, n_depths, n_members)`` for the outputs of packed ensemble
        members, ``y_pred`` of shape ``(B, n_depths, n_members, n_outputs)``
        (see ``DepthResMLP``'s ``n_members``).
        """
        raise NotImplementedError

    def mixture_log_likelihood(
        self, y_pred: Tensor, y_true: Tensor, **params
    ) -> Tensor:
        """Log-likelihood per example and depth of the members' mixture.

        :meth:`log_likelihood` with the members of a packed ensemble, if
        any, mixed with equal weights: ``log (1/K) Σ_m p_m(y | x, d)``.

        Returns
        -------
        log_lik : Tensor of shape (B, n_depths)
        """
        log_lik = self.log_likelihood(y_pred, y_true, **params)
        if log_lik.dim() == 3:
            log_lik = log_mean_exp(log_lik, dim=-1)
        return log_lik

    def forward(
        self,
        y_pred: Tensor,
        y_true: Tensor,
        log_q: Tensor,
        log_prior: Tensor,
        n_train: int,
        sample_weight: Tensor | None = None,
        weight_kl: Tensor | None = None,
        member_weight: Tensor | None = None,
        **likelihood_params,
    ) -> Tensor:
        """Negative ELBO per example.

        Parameters
        ----------
        y_pred : Tensor of shape (B, n_depths, n_outputs)
            Network outputs of every depth; ``(B, n_depths, n_members,
            n_outputs)`` for packed ensemble members, whose likelihoods the
            data term averages (each member is trained on its own
            predictions, not on the mixture's).
        y_true : Tensor of shape (B,) or (B, n_outputs)
        log_q, log_prior : Tensor of shape (n_depths,)
        n_train : int
            Number of training rows ``N`` that the KL is shared over.
        sample_weight : Tensor of shape (B,), default=None
            Per-row weights of the likelihood term; the batch term becomes
            the weighted mean ``Σ w_n ℓ_n / Σ w_n``, so integer weights equal
            repeating rows and the weights' overall scale does not matter.
        weight_kl : Tensor of shape (), default=None
            KL divergence of the network weights' posterior from their prior
            (e.g. :func:`sklearn_depth.nn.ard_kl`), added as
            ``sparsity_strength * weight_kl / N``.
        member_weight : Tensor of shape (B, n_members), default=None
            With packed members, which rows each member trains on (1) and
            which it holds out (0): member ``m``'s data term is its weighted
            mean over its own rows (times ``sample_weight``), and the data
            term the mean over the members. ``None``: every member trains
            on every row.
        **likelihood_params
            Passed to :meth:`log_likelihood` (e.g. ``log_noise``).

        Returns
        -------
        loss : Tensor of shape ()
        """
        log_lik = self.log_likelihood(y_pred, y_true, **likelihood_params)
        if log_lik.dim() == 3:  # packed members: the mean of their terms
            data_term = _members_term(log_lik, log_q, sample_weight, member_weight)
        else:
            # q(d) = 0 on masked depths, where the product is exactly zero.
            expected_nll = -(log_lik * log_q.exp()).sum(dim=1)
            data_term = _weighted_mean(expected_nll, sample_weight)
        kl = self.kl_weight * kl_divergence(log_q, log_prior)
        if weight_kl is not None:
            kl = kl + self.sparsity_strength * weight_kl
        return data_term + kl / n_train

    def marginal_nll(
        self,
        y_pred: Tensor,
        y_true: Tensor,
        log_q: Tensor,
        sample_weight: Tensor | None = None,
        **likelihood_params,
    ) -> Tensor:
        """Negative log-likelihood of the predictive marginalised over depth.

        ``-log Σ_d q(d) p(y_n | x_n, d)``, averaged over the rows (weighted
        by ``sample_weight``): what held-out rows score, where the ELBO's
        expectation and KL are training devices.

        Parameters
        ----------
        y_pred, y_true, log_q, sample_weight, **likelihood_params
            As for :meth:`forward`.

        Returns
        -------
        nll : Tensor of shape ()
        """
        log_lik = self.mixture_log_likelihood(y_pred, y_true, **likelihood_params)
        nll = -torch.logsumexp(log_lik + log_q, dim=1)
        return _weighted_mean(nll, sample_weight)


def _members_term(log_lik, log_q, sample_weight, member_weight):
    # log_lik (B, n_depths, K): each member's expected NLL, averaged over
    # the rows it trains on, then over the members.
    expected_nll = -(log_lik * log_q.exp()[None, :, None]).sum(dim=1)  # (B, K)
    if member_weight is None and sample_weight is None:
        return expected_nll.mean()
    weight = torch.ones_like(expected_nll)
    if member_weight is not None:
        weight = weight * member_weight.to(expected_nll.dtype)
    if sample_weight is not None:
        weight = weight * sample_weight.to(expected_nll.dtype)[:, None]
    total = weight.sum(0)
    per_member = (weight * expected_nll).sum(0) / total.clamp_min(
        torch.finfo(expected_nll.dtype).tiny
    )
    # A member with no row of its own in this batch adds nothing.
    present = total > 0
    return per_member[present].sum() / present.sum().clamp_min(1)


def _weighted_mean(values: Tensor, sample_weight: Tensor | None) -> Tensor:
    # Σ w_n v_n / Σ w_n: integer weights equal repeated rows, scale-free.
    if sample_weight is None:
        return values.mean()
    sample_weight = sample_weight.to(values.dtype)
    total = sample_weight.sum().clamp_min(torch.finfo(values.dtype).tiny)
    return (sample_weight * values).sum() / total


class CategoricalDepthELBO(DepthELBO):
    """Negative ELBO with a categorical (softmax cross-entropy) likelihood.

    ``y_pred`` are logits of shape ``(B, n_depths, n_classes)`` and ``y_true``
    holds encoded class indices of shape ``(B,)``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth import CategoricalDepthELBO
    >>> logits = torch.zeros(4, 3, 2)  # 4 rows, depths 0..2, 2 classes
    >>> log_q = log_prior = torch.full((3,), -torch.log(torch.tensor(3.0)))
    >>> loss = CategoricalDepthELBO()(logits, torch.tensor([0, 1, 1, 0]), log_q,
    ...                               log_prior, n_train=100)
    >>> round(loss.item(), 4)  # log 2: uniform predictions, q equal to the prior
    0.6931
    """

    def log_likelihood(self, y_pred: Tensor, y_true: Tensor) -> Tensor:
        log_proba = torch.log_softmax(y_pred, dim=-1)
        shape = (-1, *y_pred.shape[1:-1], 1)  # members too, if any
        index = y_true.long().view(-1, *([1] * (y_pred.dim() - 1)))
        return log_proba.gather(-1, index.expand(shape)).squeeze(-1)


class GaussianDepthELBO(DepthELBO):
    """Negative ELBO with a homoscedastic Gaussian likelihood per depth.

    ``y | x, d ~ N(f_d(x), σ²)`` independently per output, with
    ``σ = exp(log_noise)`` learned (one per output). ``y_pred`` has shape
    ``(B, n_depths, n_outputs)`` (``(B, n_depths, n_members, n_outputs)``
    for packed members, who share ``σ``), ``y_true`` ``(B, n_outputs)``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth import GaussianDepthELBO
    >>> y_pred, y_true = torch.zeros(4, 2, 1), torch.zeros(4, 1)
    >>> log_q = log_prior = torch.full((2,), -torch.log(torch.tensor(2.0)))
    >>> loss = GaussianDepthELBO()(y_pred, y_true, log_q, log_prior, n_train=10,
    ...                            log_noise=torch.zeros(1))
    >>> round(loss.item(), 4)  # 0.5 log(2π): exact fit, unit noise
    0.9189
    """

    def log_likelihood(
        self, y_pred: Tensor, y_true: Tensor, log_noise: Tensor | None = None
    ) -> Tensor:
        if log_noise is None:
            raise TypeError("GaussianDepthELBO needs the log_noise parameter.")
        y_true = y_true.reshape(len(y_true), *([1] * (y_pred.dim() - 2)), -1)
        z = (y_true - y_pred) * torch.exp(-log_noise)
        log_density = -0.5 * z.square() - log_noise - 0.5 * math.log(2 * math.pi)
        return log_density.sum(dim=-1)
