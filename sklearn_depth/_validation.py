# SPDX-License-Identifier: MIT
"""Validation of the estimators' input data: X, y and sample weights.

scikit-learn's ``validate_data`` does the work; this module adds what the
depth-search estimators need on top of it: float32 features, an error that
names non-numeric columns, torch ``Dataset`` inputs read lazily, and the
minimum of two training rows that batch normalisation needs.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.utils import check_random_state

# Private scikit-learn helpers without a public equivalent: the sample-weight
# check with its non-negativity option, and the target check of validate_data
# on its own (needed when X is a Dataset, which validate_data cannot read).
from sklearn.utils.validation import _check_sample_weight, _check_y, validate_data
from torch.utils.data import Dataset as TorchDataset

from sklearn_depth._backbone import check_sparse_blocks
from sklearn_depth._callbacks import is_callback_list
from sklearn_depth._data import DatasetRows
from sklearn_depth._depth import check_depth_params, make_log_prior
from sklearn_depth._params import check_number

__all__ = [
    "check_hyperparameters",
    "check_n_samples",
    "validate_features",
    "validate_sample_weight",
]


def check_hyperparameters(est):
    """Check the hyperparameters of a depth-search estimator at fit time.

    Raises a ``TypeError`` or ``ValueError`` naming the first invalid
    parameter, and returns the log prior over depth built from ``prior``.
    """
    if not is_callback_list(est.callbacks):
        raise TypeError(
            "callbacks must be None, 'disable' or a list of skorch callbacks or "
            f"(name, callback) pairs; got {est.callbacks!r}."
        )
    check_depth_params(est.max_depth, est.prune_threshold)
    check_number(est.width, "width", integral=True, min_val=1)
    check_number(est.lr, "lr", min_val=0, include_boundaries="neither")
    if est.depth_lr is not None:
        check_number(est.depth_lr, "depth_lr", min_val=0)
    if isinstance(est.depth_warmup, numbers.Integral):
        check_number(est.depth_warmup, "depth_warmup", integral=True, min_val=0)
    else:
        check_number(est.depth_warmup, "depth_warmup", min_val=0, max_val=1)
    check_number(est.kl_weight, "kl_weight", min_val=0)
    check_sparse_blocks(est.sparse_blocks)
    check_number(est.sparsity_strength, "sparsity_strength", min_val=0)
    check_number(est.max_epochs, "max_epochs", integral=True, min_val=0)
    for name in ("batch_size", "iterator_train__batch_size"):
        value = est.get_params().get(name, -1)
        if not (isinstance(value, numbers.Integral) and value == -1):
            # BatchNorm cannot train on batches of one row.
            check_number(value, name, integral=True, min_val=2)
    if not (
        isinstance(est.early_stopping, bool)
        or (isinstance(est.early_stopping, str) and est.early_stopping == "auto")
    ):
        raise ValueError(
            f"early_stopping must be 'auto', True or False; got {est.early_stopping!r}."
        )
    check_number(
        est.validation_fraction,
        "validation_fraction",
        min_val=0,
        max_val=1,
        include_boundaries="neither",
    )
    if not (isinstance(est.n_iter_no_change, str) and est.n_iter_no_change == "auto"):
        check_number(est.n_iter_no_change, "n_iter_no_change", integral=True, min_val=1)
    check_number(est.tol, "tol", min_val=0)
    if isinstance(est.weight_decay, str):
        if est.weight_decay != "auto":
            raise ValueError(
                "weight_decay must be 'auto' or a non-negative number; got "
                f"{est.weight_decay!r}."
            )
    else:
        check_number(est.weight_decay, "weight_decay", min_val=0)
    check_random_state(est.random_state)
    log_prior = make_log_prior(est.prior, est.max_depth)
    if not isinstance(est.grow, bool | np.bool_):
        raise TypeError(f"grow must be True or False; got {est.grow!r}.")
    if est.grow:
        check_number(est.initial_depth, "initial_depth", integral=True, min_val=0)
        if est.initial_depth > est.max_depth:
            raise ValueError(
                f"initial_depth={est.initial_depth} is above max_depth="
                f"{est.max_depth}, the ceiling of growth; start at most at the "
                "ceiling."
            )
        if not np.isfinite(log_prior[: est.initial_depth + 1]).any():
            raise ValueError(
                f"The prior forbids every depth up to initial_depth="
                f"{est.initial_depth}: a growing network needs an allowed depth "
                "to start from."
            )
    return log_prior


def validate_features(estimator, X, y="no_validation", *, reset, **kwargs):
    """``validate_data`` to float32, naming non-numeric columns.

    ``X`` may also be a torch ``Dataset``, returned as :class:`DatasetRows`;
    ``kwargs`` go to the target check (``y_numeric``, ``multi_output``).
    Returns ``X`` or ``(X, y)`` as ``validate_data`` does.
    """
    if isinstance(X, TorchDataset):
        return _validate_dataset(estimator, X, y, reset=reset, **kwargs)
    X = _flatten_rows(estimator, X)
    try:
        out = validate_data(estimator, X, y, dtype=np.float32, reset=reset, **kwargs)
    except ValueError as exc:
        if "could not convert" not in str(exc) or _is_convertible(X):
            raise  # not about X (e.g. a non-numeric regression target)
        columns = getattr(X, "columns", None)
        where = ""
        if columns is not None:
            bad = [c for c in columns if not _is_numeric(X[c])]
            where = f" (non-numeric columns: {bad})" if bad else ""
        raise ValueError(
            f"X must contain only numeric values{where}: {exc}. Encode "
            "categorical features first, e.g. with sklearn's OneHotEncoder."
        ) from exc
    # A read-only view (pandas copy-on-write) makes torch warn on conversion.
    if isinstance(out, tuple):
        return (_writable(out[0]), *out[1:])
    return _writable(out)


def _flatten_rows(estimator, X):
    """A 3-d or 4-d ``X`` of rows of the declared ``module__input_shape``, flattened.

    Any other ``X`` is returned as it is, for ``validate_data`` to check.
    """
    ndim = getattr(X, "ndim", None)
    if ndim is None or ndim < 3:
        return X
    shape = estimator.get_params_for("module").get("input_shape")
    rows = tuple(X.shape[1:])
    if shape is None or rows != tuple(shape):
        declared = (
            "no module__input_shape is declared"
            if shape is None
            else f"module__input_shape={tuple(shape)}"
        )
        raise ValueError(
            f"X has shape {tuple(X.shape)}: a {ndim}-d X must hold rows of the "
            f"declared input shape, but {declared}. Pass X as a 2-d array of "
            "flattened rows, or declare the shape of one row (e.g. "
            "module=DepthResCNN, module__input_shape=(1, 8, 8))."
        )
    return np.reshape(np.asarray(X), (X.shape[0], math.prod(rows)))


def _validate_dataset(estimator, X, y, *, reset, multi_output=False, y_numeric=False):
    """The checks of :func:`validate_features` for a torch Dataset ``X``.

    The rows stay where they are (read lazily by :class:`DatasetRows`);
    ``y`` must be in memory, as the label encoding, ``classes_`` and the
    target scaling need all of it before training starts.
    """
    name = type(estimator).__name__
    rows = DatasetRows(X)
    if not (isinstance(y, str) and y == "no_validation"):
        if y is None:
            raise ValueError(
                f"{name} needs y when X is a Dataset: pass "
                "the targets as an in-memory array in the order of the "
                "Dataset's rows (targets inside its items are not read)."
            )
        y = _check_y(
            y, multi_output=multi_output, y_numeric=y_numeric, estimator=estimator
        )
        if len(y) != len(rows):
            raise ValueError(
                f"X (a Dataset of {len(rows)} rows) and y ({len(y)} "
                "targets) have inconsistent numbers of samples."
            )
    if rows.n_features < 1:
        raise ValueError(
            f"0 feature(s) (shape=({len(rows)}, 0)) while a minimum of 1 is "
            f"required by {name}: the Dataset's rows hold no features."
        )
    if reset:
        estimator.n_features_in_ = rows.n_features
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif rows.n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {rows.n_features} features, but {name} "
            f"is expecting {estimator.n_features_in_} features as input."
        )
    return rows if isinstance(y, str) else (rows, y)


def validate_sample_weight(sample_weight, X):
    """Non-negative float32 weights, one per row, not all zero (or ``None``).

    Only relative weights matter, so they are divided by their maximum (in
    float64): weights far below or above float32's range train the same
    as weights near 1.
    """
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not np.any(sample_weight > 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return (sample_weight / sample_weight.max()).astype(np.float32)


def check_n_samples(n_samples):
    """Raise unless there are the 2 training rows batch normalisation needs."""
    if n_samples < 2:
        raise ValueError(
            f"Found n_samples={n_samples} training row(s), while at least 2 "
            "are required: BatchNorm cannot train on a single row."
        )


def _writable(X):
    return X if X.flags.writeable else X.copy()


def _is_convertible(X):
    try:
        np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _is_numeric(column):
    dtype = np.asarray(column).dtype
    return np.issubdtype(dtype, np.number) or dtype == np.bool_
