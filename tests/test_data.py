# SPDX-License-Identifier: MIT
"""The fast in-memory batch path against skorch's DataLoader path."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset, ValidSplit
from torch.utils.data import DataLoader, Subset

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor
from sklearn_depth._data import DatasetRows, TensorBatches, as_tensor_batches
from sklearn_depth.exceptions import UninformedPosteriorWarning

# Any DataLoader argument beyond batch_size/shuffle/drop_last opts out.
SKORCH_PATH = dict(iterator_train__num_workers=0, iterator_valid__num_workers=0)


@pytest.mark.parametrize("batch_size", [32, 128, -1])
def test_batches_equal_the_dataloader_batches(batch_size):
    X = np.arange(130 * 3, dtype=np.float32).reshape(130, 3)
    y = np.arange(130)
    size = 130 if batch_size == -1 else batch_size
    kwargs = dict(batch_size=size, shuffle=True, drop_last=False)
    fast = as_tensor_batches(Dataset(X, y), DataLoader, kwargs, "cpu")
    assert isinstance(fast, TensorBatches)
    torch.manual_seed(3)
    expected = [list(DataLoader(Dataset(X, y), **kwargs)) for _ in range(3)]
    state_after_loader = torch.get_rng_state()
    torch.manual_seed(3)
    got = [list(fast) for _ in range(3)]
    # the same draws from the global generator, so later epochs stay in step
    assert torch.equal(torch.get_rng_state(), state_after_loader)
    assert len(got[0]) == len(fast) == len(expected[0])
    for epoch_expected, epoch_got in zip(expected, got, strict=True):
        for (Xe, ye), (Xg, yg) in zip(epoch_expected, epoch_got, strict=True):
            assert torch.equal(Xe, Xg) and torch.equal(ye, yg)


def test_not_used_for_customised_loaders():
    X, y = np.zeros((4, 2), np.float32), np.zeros(4)
    kwargs = dict(batch_size=2, num_workers=0)
    assert as_tensor_batches(Dataset(X, y), DataLoader, kwargs, "cpu") is None
    assert as_tensor_batches(Dataset(X, y), object, {"batch_size": 2}, "cpu") is None


@pytest.mark.parametrize("Estimator", [DepthSearchClassifier, DepthSearchRegressor])
@pytest.mark.parametrize(
    "batch_size, early_stopping",
    [(None, False), (50, False), (64, False), (None, True)],
)
@pytest.mark.parametrize("weighted", [True, False])
def test_fast_and_skorch_paths_train_the_same_estimator(
    Estimator, estimator_data, tiny_params, batch_size, early_stopping, weighted
):
    X, y = estimator_data
    w = np.linspace(0.5, 2.0, len(y)) if weighted else None
    params = dict(tiny_params)
    if batch_size is not None:
        params["batch_size"] = batch_size
    if early_stopping:
        classifier = Estimator is DepthSearchClassifier
        # The classifier stops after 12 epochs; the regressor's validation
        # loss falls by small steps, so it stops once they are under 5 %.
        threshold = {} if classifier else {"threshold": 0.05}
        es = EarlyStopping(patience=2, load_best=True, **threshold)
        params.update(
            max_epochs=30,
            train_split=ValidSplit(0.2, stratified=classifier, random_state=0),
            callbacks=[("es", es)],
        )
    fast = Estimator(**params).fit(X, y, sample_weight=w)
    slow = Estimator(**params, **SKORCH_PATH)
    slow.fit(X, y, sample_weight=w)
    dataset = fast.get_dataset(X, y)
    assert isinstance(fast.get_iterator(dataset, training=True), TensorBatches)
    assert not isinstance(slow.get_iterator(dataset, training=True), TensorBatches)
    assert_array_equal(fast.posterior_depth_, slow.posterior_depth_)
    if Estimator is DepthSearchClassifier:
        assert_array_equal(fast.predict_proba(X), slow.predict_proba(X))
    else:
        fast_mean, fast_std = fast.predict(X, return_std=True)
        slow_mean, slow_std = slow.predict(X, return_std=True)
        assert_array_equal(fast_mean, slow_mean)
        assert_array_equal(fast_std, slow_std)
    assert fast.history[:, "train_loss"] == slow.history[:, "train_loss"]
    # every epoch keeps skorch's record and q
    keys = {"epoch", "dur", "train_loss", "posterior_depth"}
    assert all(keys <= row.keys() for row in fast.history)
    assert fast.history[:, "epoch"] == list(range(1, len(fast.history) + 1))
    if early_stopping:
        assert len(fast.history) < params["max_epochs"]  # it did stop early


def test_lr_scheduler_on_the_fast_path(spirals_small, tiny_params):
    from skorch.callbacks import LRScheduler

    X, y = spirals_small
    clf = DepthSearchClassifier(
        **tiny_params,
        callbacks=[("sched", LRScheduler(policy="StepLR", step_size=2, gamma=0.5))],
    ).fit(X, y)
    # event_lr records the first group, q's logits (depth_lr); all groups scale
    lrs = clf.history[:, "event_lr"]
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] == pytest.approx(0.1 * 0.5**2)
    assert clf.optimizer_.param_groups[1]["lr"] == pytest.approx(0.01 * 0.5**3)


class _MemmapRows(torch.utils.data.Dataset):
    """(x, y) pairs read one row at a time from a float64 memmap on disk."""

    def __init__(self, path, shape, y=None):
        self.X = np.memmap(path, dtype=np.float64, mode="r", shape=shape)
        self.y = y
        self.reads = 0

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        if not isinstance(index, int | np.integer):
            raise TypeError(f"rows are read one by one, got index {index!r}")
        self.reads += 1
        return self.X[index], (0 if self.y is None else self.y[index])


@pytest.fixture
def memmap_rows(tmp_path, spirals_small):
    X, y = spirals_small
    path = tmp_path / "X.dat"
    X.astype(np.float64).tofile(path)
    return _MemmapRows(path, X.shape, y), X, y


def test_classifier_trains_from_a_dataset_like_from_arrays(memmap_rows, tiny_params):
    dataset, X, y = memmap_rows
    labels = np.array(["inner", "outer"])[y]  # any labels, taken from y
    # One network: with a Dataset, ensemble members would share one split
    # where arrays give each its own (see n_members).
    params = {**tiny_params, "batch_size": 64, "n_members": 1}
    on_disk = DepthSearchClassifier(**params).fit(dataset, labels)
    # the DataLoader path, one row per read: no bulk conversion of the Dataset
    # (rows read: 2 probes of row 0, every row in each of the 6 epochs, then
    # the 40 held-out rows once more to fit the temperature)
    assert dataset.reads == 2 + tiny_params["max_epochs"] * len(X) + 40
    in_memory = DepthSearchClassifier(**params).fit(X, labels)
    # DataLoader and fast path draw the same batches: the same model
    assert_array_equal(on_disk.posterior_depth_, in_memory.posterior_depth_)
    assert on_disk.n_features_in_ == 2 and list(on_disk.classes_) == ["inner", "outer"]
    assert_array_equal(on_disk.predict_proba(dataset), on_disk.predict_proba(X))
    assert_array_equal(on_disk.predict(X), in_memory.predict(X))


def test_a_dataset_never_takes_the_fast_path(memmap_rows, tiny_params):
    dataset, _, y = memmap_rows
    rows = DatasetRows(dataset, y)
    assert as_tensor_batches(rows, DataLoader, {"batch_size": 32}, "cpu") is None
    clf = DepthSearchClassifier(**tiny_params)
    clf.fit(dataset, y)
    iterator = clf.get_iterator(rows, training=True)
    assert isinstance(iterator, DataLoader)


def test_regressor_trains_from_a_dataset(memmap_rows, tiny_params):
    dataset, X, _ = memmap_rows
    y = np.column_stack([np.sin(3 * X[:, 0]), X[:, 1]])  # 2 outputs
    w = np.linspace(0.5, 2.0, len(y))
    split = dict(train_split=ValidSplit(0.2, random_state=0))
    reg = DepthSearchRegressor(**tiny_params, batch_size=50, **split)
    reg.fit(dataset, y, sample_weight=w)
    ref = DepthSearchRegressor(**tiny_params, batch_size=50, **split, **SKORCH_PATH)
    ref.fit(X, y, sample_weight=w)
    assert reg.n_train_ == 160
    assert_array_equal(reg.predict(dataset), ref.predict(X))
    mean, std = reg.predict(dataset, return_std=True)
    assert mean.shape == std.shape == (len(X), 2)


def test_partial_fit_and_warm_start_with_a_dataset(memmap_rows, tiny_params):
    dataset, X, y = memmap_rows
    clf = DepthSearchClassifier(**tiny_params).partial_fit(dataset, y, classes=[0, 1])
    clf.partial_fit(X, y)  # arrays and Datasets mix: the same features
    assert clf.n_train_ == 2 * len(X)
    assert len(clf.history) == 2 * tiny_params["max_epochs"]


class _Rows(torch.utils.data.Dataset):
    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        return self.rows[index]


class _Stream(torch.utils.data.IterableDataset):
    def __iter__(self):
        return iter([])


def test_dataset_misuse_gives_clear_errors(spirals_small, tiny_params):
    X, y = spirals_small
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X))
    clf = DepthSearchClassifier(**tiny_params)
    with pytest.raises(ValueError, match="needs y when X is a Dataset"):
        clf.fit(dataset, None)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(dataset, y[:-1])
    with pytest.raises(TypeError, match="map-style torch Dataset"):
        clf.fit(_Stream(), y)
    with pytest.raises(ValueError, match="empty Dataset"):
        clf.fit(_Rows([]), y[:0])
    with pytest.raises(ValueError, match="1-d feature vector"):
        clf.fit(_Rows(X.reshape(-1, 1, 2)), y)
    with pytest.raises(ValueError, match="numeric feature vectors"):
        clf.fit(_Rows([("a", "b")] * len(y)), y)
    ragged = _Rows([X[0]] + [X[i, :1] for i in range(1, len(y))])
    with pytest.raises(ValueError, match=r"expected \(2,\) like row 0"):
        clf.fit(ragged, y)
    clf.fit(dataset, y)
    wide = torch.utils.data.TensorDataset(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="X has 3 features, but"):
        clf.predict(wide)


def test_a_split_is_gathered_per_batch_not_copied():
    X = np.arange(130 * 3, dtype=np.float32).reshape(130, 3)
    y = np.arange(130)
    subset = Subset(Dataset(X, y), np.random.RandomState(0).permutation(130)[:97])
    kwargs = dict(batch_size=32, shuffle=True, drop_last=False)
    fast = as_tensor_batches(subset, DataLoader, kwargs, "cpu")
    # the arrays are shared with torch, not copied (nor their training part)
    assert np.shares_memory(fast.X.numpy(), X) and len(fast) == 4
    torch.manual_seed(1)
    expected = list(DataLoader(subset, **kwargs))
    torch.manual_seed(1)
    for (Xe, ye), (Xg, yg) in zip(expected, fast, strict=True):
        assert torch.equal(Xe, Xg) and torch.equal(ye, yg)


@pytest.mark.parametrize(
    "n_rows, batch_size, sizes",
    [
        (277, 256, [139, 138]),
        (180, 256, [180]),
        (1000, 256, [250] * 4),
        (9, 4, [3] * 3),
    ],
)
def test_an_epoch_is_split_into_equal_batches(n_rows, batch_size, sizes):
    from sklearn_depth._data import balanced_batch_size, steps_per_epoch

    X = np.random.RandomState(0).randn(n_rows, 2).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    clf = DepthSearchClassifier(
        batch_size=batch_size, max_depth=1, max_epochs=1, early_stopping=False
    )
    with pytest.warns(UninformedPosteriorWarning):  # one epoch, in the warm-up
        clf.fit(X, y)
    batches = clf.get_iterator(clf.get_dataset(X, y), training=True)
    assert [len(yb) for _, yb in batches] == sizes
    # As many optimiser steps as batch_size asks for; prediction unchanged.
    assert steps_per_epoch(n_rows, balanced_batch_size(n_rows, batch_size)) == len(
        sizes
    )
    assert clf._iterator_kwargs(n_rows, training=False)["batch_size"] == batch_size
