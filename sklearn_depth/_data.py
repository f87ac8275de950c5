# SPDX-License-Identifier: MIT
"""Data paths: a fast batch iterator for in-memory arrays, and torch Datasets.

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

import math
from collections.abc import Mapping

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, IterableDataset, Subset
from torch.utils.data import Dataset as TorchDataset

__all__ = [
    "TensorBatches",
    "as_tensor_batches",
    "DatasetRows",
    "balanced_batch_size",
    "feature_batches",
    "steps_per_epoch",
]


def balanced_batch_size(n_samples: int, batch_size: int) -> int:
    """The batch size that splits an epoch into equal batches.

    As many batches as ``batch_size`` needs (``ceil(n / batch_size)``), of
    ``ceil(n / n_batches)`` rows, so no batch is much smaller than the
    others: ``256 + 21`` rows train as ``139 + 138``. A tiny last batch
    would get a full optimiser step from a noisy gradient and noisy batch
    statistics (on the UCI yacht data, 277 rows, the packed ensemble's
    test log-likelihood fell from about -0.9 to -1.8 with it).

    Examples
    --------
    >>> balanced_batch_size(277, 256), balanced_batch_size(1000, 256)
    (139, 250)
    >>> balanced_batch_size(180, 256)  # one batch: unchanged
    256
    """
    if n_samples <= batch_size or batch_size < 1:
        return batch_size
    return math.ceil(n_samples / math.ceil(n_samples / batch_size))


def steps_per_epoch(n_samples: int, batch_size: int) -> int:
    """Optimiser steps of one epoch over ``n_samples`` rows (at least 1).

    Examples
    --------
    >>> steps_per_epoch(180, 256), steps_per_epoch(10_000, 256)
    (1, 40)
    """
    return max(math.ceil(n_samples / batch_size), 1)


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
    rows : Tensor of int64, default=None
        The rows of ``X`` and ``y`` to iterate over (e.g. the training part
        of a split), gathered batch by batch so they are never copied out
        whole; ``None`` means all rows.
    """

    def __init__(self, X, y, *, batch_size, shuffle=False, drop_last=False, rows=None):
        self.X = X
        self.y = y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rows = rows
        if rows is not None:
            self.n_samples = len(rows)
        else:
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
        rows = None if self.rows is None else self.rows.to(device)
        for batch in range(len(self)):
            start = batch * self.batch_size
            stop = min(start + self.batch_size, self.n_samples)
            index = slice(start, stop) if order is None else order[start:stop]
            if rows is not None:
                index = rows[index]
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
        # No copy of a C-contiguous array on the CPU; a Subset's rows are
        # gathered per batch (``rows``) rather than copied out here.
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
        rows=None if indices is None else torch.as_tensor(indices, dtype=torch.int64),
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


class DatasetRows(TorchDataset):
    """A user's map-style Dataset as float32 feature rows, targets from memory.

    Item ``i`` of ``dataset`` is either a feature row or a tuple whose first
    element is the feature row (``(x, y)``, as ``TensorDataset`` yields); any
    other elements are ignored. Rows are read one at a time, so the data are
    never all in memory. Values are not checked for NaN or infinity (that
    would take a pass over the data).

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Map-style: it has ``__len__`` and integer ``__getitem__``.
    y : ndarray of shape (len(dataset),) or (len(dataset), n_outputs), \
default=None
        Encoded targets, item ``i`` paired with row ``i``; ``None`` (for
        prediction) pairs every row with a placeholder 0.
    sample_weight : ndarray of shape (len(dataset),), default=None
        When given, items are ``({"X": x, "sample_weight": w}, y)``, the form
        the estimators' ``infer`` and ``get_loss`` unpack.

    Attributes
    ----------
    n_features : int
        Length of the feature rows (read from row 0).

    Raises
    ------
    TypeError
        If ``dataset`` is iterable-style or has no length.
    ValueError
        If ``dataset`` is empty or its row 0 is not a 1-d vector of numbers.
    """

    def __init__(self, dataset, y=None, sample_weight=None):
        if isinstance(dataset, IterableDataset) or not hasattr(dataset, "__len__"):
            raise TypeError(
                "X must be a map-style torch Dataset (with __len__ and "
                f"__getitem__); got {type(dataset).__name__}. Iterable-style "
                "datasets are not supported: the number of rows N is needed "
                "for the KL term and for shuffling."
            )
        if len(dataset) == 0:
            raise ValueError("Found an empty Dataset: at least 2 rows are required.")
        self.dataset = dataset
        self.y = y
        self.sample_weight = sample_weight
        first = _features(dataset[0])
        if first.ndim != 1:
            raise ValueError(
                "Each row of a Dataset X must be a 1-d feature vector (or a tuple "
                f"whose first element is one); row 0 has shape {tuple(first.shape)}."
            )
        self.n_features = first.shape[0]

    @property
    def shape(self):
        # The table the rows form, so that code written for arrays (sklearn's
        # _num_samples, X.shape[0]) sees the right number of samples.
        return (len(self.dataset), self.n_features)

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        x = _features(self.dataset[index])
        if x.shape != (self.n_features,):
            raise ValueError(
                f"Row {index} of the Dataset has shape {tuple(x.shape)}; "
                f"expected ({self.n_features},) like row 0."
            )
        if self.sample_weight is not None:
            x = {"X": x, "sample_weight": self.sample_weight[index]}
        return x, (0 if self.y is None else self.y[index])

    def with_targets(self, y, sample_weight=None):
        """The same rows paired with ``y`` (and ``sample_weight``)."""
        return DatasetRows(self.dataset, y, sample_weight)


def feature_batches(X, batch_size):
    """Consecutive batches of rows of an array or of :class:`DatasetRows`.

    Arrays are sliced; a :class:`DatasetRows` is read through a ``DataLoader``
    (one batch in memory at a time).
    """
    if isinstance(X, DatasetRows):
        for features, _ in DataLoader(X.with_targets(None), batch_size=batch_size):
            yield features
    else:
        for start in range(0, len(X), batch_size):
            yield X[start : start + batch_size]


def _features(item):
    x = item[0] if isinstance(item, tuple | list) else item
    if isinstance(x, torch.Tensor):
        return x.to(torch.float32)
    try:
        # A copy: rows of a read-only memmap cannot be shared with torch.
        return torch.from_numpy(np.array(x, dtype=np.float32))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Dataset rows must be numeric feature vectors; got {type(x).__name__}: "
            f"{exc}"
        ) from exc


class _BatchesMixin:
    """skorch's iterator hooks of the depth-search estimators.

    In-memory arrays go through :class:`TensorBatches`; a 1-row last
    training batch is dropped; sample weights travel with the rows.
    """

    def _iterator_kwargs(self, n_samples, training):
        """The iterator's arguments, with ``batch_size`` resolved for ``n_samples``.

        In training, ``batch_size`` is the largest batch: the rows are
        split into as many batches as it needs, of equal size (the last
        up to one row per batch smaller; see :func:`balanced_batch_size`).
        """
        kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
        batch_size = kwargs.get("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = n_samples
        elif training:
            batch_size = balanced_batch_size(n_samples, batch_size)
        kwargs["batch_size"] = batch_size
        return kwargs

    def _steps_per_epoch(self, n_samples):
        """Optimiser steps of one training epoch over ``n_samples`` rows."""
        batch_size = self._iterator_kwargs(n_samples, training=True)["batch_size"]
        return steps_per_epoch(n_samples, batch_size)

    def get_iterator(self, dataset, training=False):
        kwargs = self._iterator_kwargs(len(dataset), training)
        if training:
            kwargs.setdefault("shuffle", True)
        # BatchNorm cannot train on one row: drop a 1-row last batch (with
        # shuffling, a different row each epoch).
        if training and len(dataset) % kwargs["batch_size"] == 1:
            kwargs.setdefault("drop_last", True)
        iterator = self.iterator_train if training else self.iterator_valid
        fast = as_tensor_batches(dataset, iterator, kwargs, self.device)
        return fast if fast is not None else iterator(dataset, **kwargs)

    def infer(self, x, **fit_params):
        # Sample weights (and ensemble members' row weights) travel with the
        # rows in a dict; the module only sees the features.
        if isinstance(x, Mapping) and "X" in x:
            x = x["X"]
        return super().infer(x, **fit_params)
