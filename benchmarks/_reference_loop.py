# SPDX-License-Identifier: MIT
"""A bare eager PyTorch training loop of variational depth search (FROZEN).

The baseline of figure (f), ``epoch_vs_reference_loop.py``: what a researcher
would write by hand, in the style of the paper's reference code. Do not
optimise it (and do not make it import ``sklearn_depth``): the figure
measures the package against this file as it is.

- the same residual architecture as ``DepthResMLP``: ``h_0 = W_in x + b_in``,
  ``h_j = h_{j-1} + BN_j(ReLU(W_j h_{j-1} + b_j))``, a head shared by all
  depths;
- the head applied to each depth's activation separately (one call per
  depth, as the reference code does);
- the same ELBO: ``mean_n Σ_d q(d) NLL_d(n) + KL(q || p) / N``, with
  ``q = softmax(α)`` (the prior's zero entries masked);
- ``torch.optim.Adam`` with its defaults over all parameters, one step per
  batch, plain eager mode.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.norm = nn.BatchNorm1d(width)

    def forward(self, h):
        return h + self.norm(F.relu(self.linear(h)))


class ReferenceNet(nn.Module):
    def __init__(self, n_features, n_classes, max_depth, width):
        super().__init__()
        self.input = nn.Linear(n_features, width)
        self.blocks = nn.ModuleList(Block(width) for _ in range(max_depth))
        self.head = nn.Linear(width, n_classes)
        self.depth_logits = nn.Parameter(torch.zeros(max_depth + 1))

    def forward(self, x):
        h = self.input(x)
        outputs = [self.head(h)]
        for block in self.blocks:
            h = block(h)
            outputs.append(self.head(h))
        return torch.stack(outputs, dim=1)  # (B, D + 1, C)


def elbo_loss(logits, y, depth_logits, log_prior, n_train):
    masked = torch.isinf(log_prior)  # zero prior: the depth is excluded
    log_q = torch.log_softmax(depth_logits.masked_fill(masked, -torch.inf), dim=0)
    q = log_q.exp()
    n_depths = logits.shape[1]
    nll = torch.stack(
        [F.cross_entropy(logits[:, d], y, reduction="none") for d in range(n_depths)],
        dim=1,
    )
    kl = (q * (log_q - log_prior).masked_fill(masked, 0.0)).sum()
    return (nll * q).sum(dim=1).mean() + kl / n_train


def train(X, y, *, max_depth, width, epochs, batch_size=-1, log_prior=None):
    """Train from scratch; return the wall time of every epoch in seconds.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features), float32
    y : Tensor of shape (n_samples,), int64 class indices
    max_depth, width, epochs : int
    batch_size : int, default=-1
        ``-1`` is full batch.
    log_prior : Tensor of shape (max_depth + 1,), default=None
        Uniform when None.
    """
    n_samples = len(X)
    n_classes = int(y.max()) + 1
    net = ReferenceNet(X.shape[1], n_classes, max_depth, width)
    if log_prior is None:
        log_prior = torch.full(
            (max_depth + 1,), -torch.log(torch.tensor(max_depth + 1.0))
        )
    optimizer = torch.optim.Adam(net.parameters())
    batch_size = n_samples if batch_size == -1 else batch_size
    net.train()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(n_samples)
        for first in range(0, n_samples, batch_size):
            index = order[first : first + batch_size]
            optimizer.zero_grad()
            loss = elbo_loss(
                net(X[index]), y[index], net.depth_logits, log_prior, n_samples
            )
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times
