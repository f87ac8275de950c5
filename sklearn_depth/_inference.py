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

import torch
from torch import Tensor, nn

from sklearn_depth._data import feature_batches
from sklearn_depth._model import cast_state

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
