# SPDX-License-Identifier: MIT
"""The estimators' side of packed ensemble members (``n_members``).

The network side (``GroupedLinear``, the members' mixture) lives in
``_members.py``; this mixin resolves the ``n_members`` parameter into the
module's arguments, gives every member its own held-out rows when the
estimator stops early, and scores each held-out row by the members that
never trained on it (the out-of-bag ``valid_loss``).
"""

from __future__ import annotations

import inspect

import numpy as np
import torch
from skorch.utils import to_tensor

from sklearn_depth._criterion import _weighted_mean
from sklearn_depth._data import feature_batches
from sklearn_depth._members import log_mean_exp
from sklearn_depth._params import check_number

__all__ = ["AUTO_MEMBERS"]

# n_members="auto": members where the module packs them (see _members.py).
AUTO_MEMBERS = 4


class _MembersMixin:
    """``n_members``: checks, module arguments and each member's held-out rows."""

    def _check_members_param(self):
        if not (isinstance(self.n_members, str) and self.n_members == "auto"):
            check_number(self.n_members, "n_members", integral=True, min_val=1)

    def _packs_members(self):
        """Whether the module takes ``n_members`` and its blocks allow it."""
        module = self.module
        takes = isinstance(module, type) and (
            "n_members" in inspect.signature(module).parameters
        )
        return takes and self.sparse_blocks is None

    def _n_members(self):
        """``n_members``, with ``"auto"`` resolved."""
        if isinstance(self.n_members, str):
            return AUTO_MEMBERS if self._packs_members() else 1
        return self.n_members

    def _member_kwargs(self):
        # Only when there are members, so that any module still works.
        n_members = self._n_members()
        if n_members == 1:
            return {}
        if not self._packs_members():
            raise ValueError(
                f"n_members={n_members} needs a module that packs ensemble "
                "members (DepthResMLP) with plain blocks (sparse_blocks=None); "
                f"got module={getattr(self.module, '__name__', self.module)!r}, "
                f"sparse_blocks={self.sparse_blocks!r}. Use n_members=1 or 'auto'."
            )
        return {"n_members": n_members}

    def _cross_fits_members(self):
        """Whether this fit gives each ensemble member its own held-out rows.

        With ``n_members > 1`` and early stopping on rows of the estimator's
        own choosing (not a user's ``train_split``), in-memory data.
        """
        return (
            self._held_out_split is not None
            and getattr(self._core_module(), "n_members", 1) > 1
        )

    def _member_split(self, X, y, sample_weight):
        """Training data with every member's training rows, ``member_weight``.

        No rows are split off: every member trains on the rows it does not
        hold out (``member_weight`` 1) and the rows held out by some member
        score it after each epoch (:meth:`_out_of_bag_nll`).
        """
        split, self._held_out_split = self._held_out_split, None
        held_out = split.member_held_out(len(X), y, self._core_module().n_members)
        scored = held_out.any(axis=1)
        self._member_rows = {
            "X": X[scored],
            "y": y[scored],
            "sample_weight": None if sample_weight is None else sample_weight[scored],
            "held_out": torch.as_tensor(held_out[scored]),
        }
        data = {"X": X, "member_weight": (~held_out).astype(np.float32)}
        if sample_weight is not None:
            data["sample_weight"] = sample_weight
        return data

    def _member_outputs(self):
        """Every member's outputs on the scored rows, ``(n, D, K, n_outputs)``."""
        module = self._core_module()
        self._set_training(False)
        outputs = []
        with torch.no_grad(), module.per_member():
            for batch in feature_batches(self._member_rows["X"], 4096):
                batch = torch.as_tensor(batch).to(self.device)
                outputs.append(self.module_(batch))
        return torch.cat(outputs)

    def _member_log_likelihood(self, outputs=None, **likelihood_params):
        """Log-likelihood of the scored rows per depth and member, ``(n, D, K)``.

        ``outputs`` (default: the network's now, :meth:`_member_outputs`)
        and any likelihood parameter (default: the learned ones) may be given.
        """
        if outputs is None:
            outputs = self._member_outputs()
        y = to_tensor(self._member_rows["y"], device=self.device)
        params = {**self._likelihood_params(), **likelihood_params}
        return self.criterion_.log_likelihood(outputs, y, **params)

    @torch.no_grad()
    def _out_of_bag_nll(self, log_lik=None, log_q=None):
        """Marginal NLL of the scored rows under the members that held them out.

        ``log_lik`` (``(n, D, K)``, default: the network's now) and
        ``log_q`` (default: the network's ``q``) may be given.
        """
        if log_lik is None:
            log_lik = self._member_log_likelihood()
        if log_q is None:
            log_q = self._core_module().log_q()
        log_lik, log_q = log_lik.double(), log_q.to(log_lik.device).double()
        per_member = torch.logsumexp(log_lik + log_q[None, :, None], dim=1)
        held_out = self._member_rows["held_out"].to(per_member.device)
        nll = -log_mean_exp(per_member, dim=1, mask=held_out)
        weight = self._member_rows["sample_weight"]
        if weight is not None:
            weight = torch.as_tensor(weight, device=nll.device)
        return float(_weighted_mean(nll, weight))
