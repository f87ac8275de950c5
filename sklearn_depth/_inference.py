# SPDX-License-Identifier: MIT
"""Forward passes of a fitted backbone for prediction.

On a CPU device the forward pass runs in float64 (on a float64 copy of the
weights), so a row's prediction does not depend on which other rows share
its batch: float32 matrix products change in the last digits with the batch
composition. Other devices run in float32. Outputs come back as float64 CPU
tensors, which the estimators marginalise over depth with the functions of
:mod:`sklearn_depth._depth`.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch
from torch import Tensor, nn

from sklearn_depth._data import feature_batches
from sklearn_depth._depth import fold_tail, select_depth
from sklearn_depth._export import parameter_counts
from sklearn_depth._model import DepthResMLP, cast_state, posterior_over_depths
from sklearn_depth._threads import estimator_threads

__all__ = ["predict_outputs"]


def predict_outputs(
    module: nn.Module, X, *, device, batch_size: int, all_depths: bool = False
) -> Tensor:
    """Outputs of the active (or all) depths for the rows of ``X``.

    Parameters
    ----------
    module : nn.Module
        The backbone, in evaluation mode.
    X : ndarray of shape (n_samples, n_features) or DatasetRows
    device : str or torch.device
    batch_size : int
        Rows per forward pass.
    all_depths : bool, default=False
        Run every block, whatever the pruned ``active_depth``.

    Returns
    -------
    outputs : Tensor of shape (n_samples, n_depths, n_outputs), float64, CPU
    """
    device = torch.device(device)
    dtype = torch.float64 if device.type == "cpu" else torch.float32
    chunks = []
    with torch.no_grad(), module.all_depths() if all_depths else nullcontext():
        state = _inference_state(module, dtype)
        for batch in feature_batches(X, batch_size):
            batch = torch.as_tensor(batch).to(device=device, dtype=dtype)
            out = torch.func.functional_call(module, state, (batch,))
            chunks.append(out.to("cpu", torch.float64))
    return torch.cat(chunks)


def _inference_state(module, dtype):
    # DepthResMLP casts only what its active depths use; any module works.
    if hasattr(module, "active_state"):
        return module.active_state(dtype)
    return cast_state(module, dtype)


class _InferenceMixin:
    """Depth selection after training, and the forward passes of prediction."""

    def _outputs(self, X, all_depths=False):
        """Network outputs of the active (or all) depths, float64 on CPU."""
        self._set_training(False)
        batch_size = self._iterator_kwargs(len(X), training=False)["batch_size"]
        with estimator_threads(self, len(X), training=False):
            return predict_outputs(
                self._core_module(),
                X,
                device=self.device,
                batch_size=max(batch_size, 1),
                all_depths=all_depths,
            )

    def _finalize_depth(self):
        module = self._core_module()
        q = posterior_over_depths(module)
        q = q / q.sum()
        self.posterior_depth_ = q
        self.depth_ = select_depth(q, self.prune_threshold)
        self.pruned_posterior_depth_ = fold_tail(q, self.depth_)
        prior = np.exp(module.log_prior.double().cpu().numpy())
        self.prior_depth_ = prior / prior.sum()
        module.active_depth = self.depth_
        # Parameter counts need the exportable network; a custom module
        # is not counted.
        if isinstance(module, DepthResMLP):
            counts = parameter_counts(module, self.max_depth, self.depth_)
            for name, value in counts.items():
                setattr(self, name, value)
        self._finalize_likelihood()

    def _core_module(self):
        # Under ``compile=True`` module_ is a wrapper; attributes must be set
        # on the wrapped module itself.
        return getattr(self.module_, "_orig_mod", self.module_)
