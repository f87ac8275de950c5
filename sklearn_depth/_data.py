# SPDX-License-Identifier: MIT
"""A fast batch iterator for in-memory arrays, a drop-in for skorch's DataLoader.

skorch's default data path builds every batch row by row (``Dataset.__getitem__``
per row, then ``collate``), which dominates an epoch on small networks. When the
training data are plain arrays, :class:`TensorBatches` moves them to the device
once and yields batches by slicing them with an index permutation.

It reproduces the DataLoader exactly: the same batches, in the same order, from
the same draws of torch's global random generator (one draw per epoch for the
loader's base seed, one more for the shuffling permutation), so a fit gives the
same model on either path for the same seed.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, Subset

__all__ = ["TensorBatches", "as_tensor_batches"]

# DataLoader arguments the fast path reproduces; any other means "use skorch's".
_SUPPORTED_KWARGS = {"batch_size", "shuffle", "drop_last"}


class TensorBatches:
    """Iterate over mini-batches sliced from tensors held on a device.

    Parameters
    ----------
    X : Tensor or dict of Tensor
        Features (a dict when sample weights travel with the rows).
    y : Tensor or None
    batch_size : int
    shuffle : bool, default=False
    drop_last : bool, default=False
    """

    def __init__(self, X, y, *, batch_size, shuffle=False, drop_last=False):
        self.X = X
        self.y = y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.n_samples = len(y) if y is not None else _length(X)

    def __len__(self):
        if self.drop_last:
            return self.n_samples // self.batch_size
        return -(-self.n_samples // self.batch_size)

    def __iter__(self):
        # The DataLoader draws its workers' base seed on every epoch, and the
        # RandomSampler a seed for its permutation: draw the same, in order.
        torch.empty((), dtype=torch.int64).random_()
        if self.shuffle:
            seed = int(torch.empty((), dtype=torch.int64).random_().item())
            generator = torch.Generator().manual_seed(seed)
            order = torch.randperm(self.n_samples, generator=generator)
        else:
            order = None
        device = _device(self.X)
        if order is not None:
            order = order.to(device)
        for batch in range(len(self)):
            start = batch * self.batch_size
            stop = min(start + self.batch_size, self.n_samples)
            if order is None:
                index = slice(start, stop)
            else:
                index = order[start:stop]
            yield _take(self.X, index), (None if self.y is None else self.y[index])


def as_tensor_batches(dataset, iterator, kwargs, device):
    """A :class:`TensorBatches` for ``dataset``, or None if it does not apply.

    Applies when ``iterator`` is torch's ``DataLoader`` used with no other
    argument than ``batch_size``, ``shuffle`` and ``drop_last``, and
    ``dataset`` is a skorch ``Dataset`` (or a ``Subset`` of one, as skorch's
    internal validation split makes) of numpy arrays.
    """
    if iterator is not DataLoader or not set(kwargs) <= _SUPPORTED_KWARGS:
        return None
    indices = None
    if isinstance(dataset, Subset):
        dataset, indices = dataset.dataset, np.asarray(dataset.indices)
    if type(dataset) is not Dataset or not _is_arrays(dataset.X):
        return None
    if dataset.y is not None and not isinstance(dataset.y, np.ndarray):
        return None

    def to_device(array):
        if indices is not None:
            array = array[indices]
        return torch.as_tensor(np.ascontiguousarray(array)).to(device)

    X = (
        {key: to_device(value) for key, value in dataset.X.items()}
        if isinstance(dataset.X, dict)
        else to_device(dataset.X)
    )
    y = None if dataset.y is None else to_device(dataset.y)
    return TensorBatches(
        X,
        y,
        batch_size=kwargs["batch_size"],
        shuffle=kwargs.get("shuffle", False),
        drop_last=kwargs.get("drop_last", False),
    )


def _is_arrays(X):
    if isinstance(X, dict):
        return all(isinstance(v, np.ndarray) for v in X.values())
    return isinstance(X, np.ndarray)


def _length(X):
    return len(next(iter(X.values()))) if isinstance(X, dict) else len(X)


def _device(X):
    return next(iter(X.values())).device if isinstance(X, dict) else X.device


def _take(X, index):
    if isinstance(X, dict):
        return {key: value[index] for key, value in X.items()}
    return X[index]
