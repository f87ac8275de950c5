# SPDX-License-Identifier: MIT
"""The backbone contract: what the estimators, export and inference use.

A depth-search backbone is a residual network of ``max_depth`` blocks whose
every depth feeds one shared output head. :class:`DepthBackbone` writes the
contract down once; :class:`~sklearn_depth.DepthResMLP` and
:class:`~sklearn_depth.DepthResCNN` implement it.

What the estimators read and write:

- ``forward(X)``: ``X`` of shape ``(B, n_features)`` (flattened rows, as
  scikit-learn passes them) to the outputs of depths ``0..active_depth``,
  shape ``(B, active_depth + 1, n_outputs)``;
- ``max_depth``, ``active_depth`` (the pruning; saved as extra state);
- ``depth_logits`` and the ``log_prior`` buffer, ``log_q()``,
  ``active_log_prior()`` and ``all_depths()``;
- ``active_state(dtype)``: the tensors the active depths use, for
  ``torch.func.functional_call``;
- ``export_body(depth, remove_units)``: the first ``depth`` blocks in a
  plain evaluation form (batch norm folded, ARD-pruned weights zero), the
  module that :func:`~sklearn_depth._export.export_body` casts and moves,
  and that the parameter counts count;
- ``grown_depth`` (saved as extra state), ``start_growth`` and ``grow``:
  growth of depth while training (``grow=True``). Only the first
  ``grown_depth`` blocks exist as far as training, ``q`` and prediction are
  concerned; the others wait, their depths masked in ``log_prior``, until
  :meth:`DepthBackbone.grow` adds them one by one as the identity.

A subclass builds ``blocks`` (an ``nn.ModuleList`` of ``max_depth`` residual
blocks), calls :meth:`DepthBackbone._init_depth` last in its ``__init__``,
and implements ``embed`` (the input layer or stem, ``X`` to ``h_0``),
``read_out`` (the shared head on the list of ``h_0..h_d``) and
``export_body``. Only this module knows the depth maths' tensors.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import torch
from torch import Tensor, nn

from sklearn_depth._depth import fold_log_tail, log_posterior

__all__ = [
    "DepthBackbone",
    "cast_state",
    "check_sparse_blocks",
    "posterior_over_depths",
]


def cast_state(module: nn.Module, dtype: torch.dtype, skip: tuple = ()) -> dict:
    """A module's parameters and buffers, floating ones cast to ``dtype``.

    For ``torch.func.functional_call``; entries whose name starts with one of
    ``skip`` are left out (the call then uses the module's own tensors).
    """
    return {
        name: tensor.to(dtype) if tensor.is_floating_point() else tensor
        for name, tensor in module.state_dict(keep_vars=True).items()
        if isinstance(tensor, torch.Tensor) and not name.startswith(skip)
    }


def check_sparse_blocks(sparse_blocks) -> None:
    """Raise ``ValueError`` unless ``sparse_blocks`` is ``None`` or ``"ard"``."""
    if sparse_blocks is not None and not (
        isinstance(sparse_blocks, str) and sparse_blocks == "ard"
    ):
        raise ValueError(f"sparse_blocks must be None or 'ard'; got {sparse_blocks!r}.")


def posterior_over_depths(module: nn.Module) -> np.ndarray:
    """``q(d)`` over every depth ``0..max_depth`` of a backbone, as float64.

    Whatever the module's pruned ``active_depth``: the backbone contract's
    ``all_depths()`` and ``log_q()`` give the unfolded posterior.
    """
    with torch.no_grad(), module.all_depths():
        log_q = module.log_q()
    return log_q.double().exp().cpu().numpy()


class DepthBackbone(nn.Module):
    """Base class of the residual backbones with a head shared by every depth.

    Not used directly: see :class:`~sklearn_depth.DepthResMLP` and
    :class:`~sklearn_depth.DepthResCNN`. ``h_0 = embed(X)``,
    ``h_j = blocks[j - 1](h_{j-1})``, and the outputs of depths ``0..d`` are
    ``read_out([h_0, ..., h_d])``.

    Attributes
    ----------
    max_depth : int
        Number of residual blocks ``D``.
    active_depth : int
        Number of blocks that ``forward`` runs; ``max_depth`` until pruned.
        Saved in the ``state_dict`` as extra state.
    depth_logits : Parameter of shape (max_depth + 1,)
        Free logits of the variational posterior ``q(d)``, initialised to
        the log prior less its maximum (zero where the prior forbids a
        depth), so that ``q`` starts at the prior.
    log_prior : buffer of shape (max_depth + 1,)
    grown_depth : int
        Number of blocks that exist so far: ``max_depth`` unless the network
        grows (:meth:`start_growth`). Saved in the ``state_dict`` as extra
        state.
    log_noise : Parameter of shape (n_outputs,)
        Only with ``learn_noise=True``; initialised to zero (unit noise).
    """

    blocks: nn.ModuleList

    def _init_depth(self, max_depth, n_outputs, log_prior, learn_noise) -> None:
        """Create the depth posterior, the prior and the noise scale.

        Called last by a subclass's ``__init__``, after its layers.
        """
        self.max_depth = max_depth
        if log_prior is None:
            log_prior = np.full(max_depth + 1, -np.log(max_depth + 1))
        log_prior = torch.as_tensor(np.asarray(log_prior), dtype=torch.float32)
        if log_prior.shape != (max_depth + 1,):
            raise ValueError(
                f"log_prior must have shape ({max_depth + 1},); "
                f"got {tuple(log_prior.shape)}."
            )
        self.register_buffer("log_prior", log_prior)
        # q starts at the prior: before any data, the posterior is the prior.
        # Shifted so that the most likely depth's logit is 0 (a uniform prior
        # starts from zero logits, as it always has); depths the prior forbids
        # are masked in log_q, their logit is 0.
        allowed = torch.isfinite(log_prior)
        if not allowed.any():
            raise ValueError("log_prior must allow at least one depth (all -inf).")
        logits = torch.where(allowed, log_prior - log_prior[allowed].max(), 0.0)
        self.depth_logits = nn.Parameter(logits)
        self.active_depth = max_depth
        self.grown_depth = max_depth
        if learn_noise:
            self.log_noise = nn.Parameter(torch.zeros(n_outputs))

    # -- what a subclass implements ----------------------------------------------
    def embed(self, X: Tensor) -> Tensor:
        """``h_0``: the input layer (or stem) applied to flattened rows."""
        raise NotImplementedError

    def read_out(self, hidden: list[Tensor]) -> Tensor:
        """The shared head on ``h_0..h_d``: shape ``(B, d + 1, n_outputs)``."""
        raise NotImplementedError

    def export_body(self, depth: int, remove_units: bool = True) -> nn.Module:
        """The first ``depth`` blocks in plain evaluation form (see the module doc)."""
        raise NotImplementedError

    # -- the shared contract ----------------------------------------------------
    def get_extra_state(self) -> dict:
        return {"active_depth": self.active_depth, "grown_depth": self.grown_depth}

    def set_extra_state(self, state: dict) -> None:
        self.active_depth = int(state["active_depth"])
        self.grown_depth = int(state.get("grown_depth", self.max_depth))

    def forward(self, X: Tensor) -> Tensor:
        """Outputs of depths ``0..active_depth``, shape ``(B, active_depth + 1, C)``."""
        h = self.embed(X)
        hidden = [h]
        for block in self.blocks[: self.active_depth]:
            h = block(h)
            hidden.append(h)
        return self.read_out(hidden)

    def log_q(self) -> Tensor:
        """Log posterior over the active depths, the pruned tail folded in.

        Returns
        -------
        log_q : Tensor of shape (active_depth + 1,)
        """
        log_q = log_posterior(self.depth_logits, self.log_prior)
        if self.active_depth < self.max_depth:
            log_q = fold_log_tail(log_q, self.active_depth)
        return log_q

    def active_log_prior(self) -> Tensor:
        """Log prior over the active depths, folded like :meth:`log_q`."""
        if self.active_depth < self.max_depth:
            return fold_log_tail(self.log_prior, self.active_depth)
        return self.log_prior

    def active_state(self, dtype: torch.dtype) -> dict:
        """Parameters and buffers the active depths use, cast to ``dtype``.

        For ``torch.func.functional_call``: the blocks beyond
        ``active_depth`` never run, so they are left out (not copied).
        """
        inactive = tuple(
            f"blocks.{i}." for i in range(self.active_depth, self.max_depth)
        )
        return cast_state(self, dtype, skip=inactive)

    @contextmanager
    def all_depths(self):
        """Temporarily run every grown block, whatever the pruned depth."""
        active = self.active_depth
        self.active_depth = self.grown_depth
        try:
            yield self
        finally:
            self.active_depth = active

    # -- growth ------------------------------------------------------------------
    @torch.no_grad()
    def start_growth(self, depth: int, log_prior) -> None:
        """Keep only the first ``depth`` blocks; the others wait to be grown.

        Parameters
        ----------
        depth : int
            Number of blocks to start with, ``0 <= depth <= max_depth``.
        log_prior : array-like of shape (max_depth + 1,)
            The prior over every depth up to the ceiling; the module's
            ``log_prior`` becomes its restriction to ``0..depth``,
            renormalised, ``-inf`` beyond.
        """
        self.grown_depth = self.active_depth = int(depth)
        self._restrict_prior(log_prior)

    @torch.no_grad()
    def grow(self, log_prior) -> None:
        """Add the next block as the identity; no prediction changes.

        The block's output layer (``block.output_layer``) gets zero weights
        and bias, so it outputs exactly 0 and depth ``k + 1`` predicts what
        depth ``k`` does, while gradients still reach it. ``q(k)`` is split
        evenly between ``k`` and ``k + 1`` (through their logits), so the
        marginal over depth does not change either. Nothing else is touched:
        the other parameters, and the optimiser's state of every parameter,
        stay as they are.

        Parameters
        ----------
        log_prior : array-like of shape (max_depth + 1,)
            The prior up to the ceiling, as for :meth:`start_growth`.
        """
        k = self.grown_depth
        if k >= self.max_depth:
            raise ValueError(f"The network has all its {self.max_depth} blocks.")
        layer = getattr(self.blocks[k], "output_layer", None)
        if layer is None:
            raise TypeError(
                f"Cannot grow a block of type {type(self.blocks[k]).__name__}: "
                "growth needs blocks with an output_layer to start as the identity."
            )
        layer.weight.zero_()
        if layer.bias is not None:
            layer.bias.zero_()
        old_prior = self.log_prior.clone()
        was_active = self.active_depth == k
        self.grown_depth = k + 1
        if was_active:
            self.active_depth = k + 1
        self._restrict_prior(log_prior)
        # q = softmax(logits) over the depths the prior allows: halving the
        # deepest depth's weight and giving the new one the same keeps every
        # other q(j), so the marginal is unchanged.
        logits = self.depth_logits
        if torch.isfinite(self.log_prior[k + 1]):
            if torch.isfinite(old_prior[k]):
                logits[k] -= math.log(2.0)
            # (if the prior forbids k, the new depth starts as the deepest
            # allowed one; the marginal then moves towards depth k + 1)
            allowed = torch.isfinite(old_prior[: k + 1]).nonzero()
            logits[k + 1] = logits[allowed[-1, 0]]

    def _restrict_prior(self, log_prior) -> None:
        full = torch.as_tensor(np.asarray(log_prior), dtype=self.log_prior.dtype)
        restricted = torch.full_like(full, -math.inf)
        kept = full[: self.grown_depth + 1]
        restricted[: self.grown_depth + 1] = kept - torch.logsumexp(kept, 0)
        self.log_prior.copy_(restricted.to(self.log_prior.device))
