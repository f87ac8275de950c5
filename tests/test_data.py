# SPDX-License-Identifier: MIT
"""The fast in-memory batch path against skorch's DataLoader path."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset, ValidSplit
from torch.utils.data import DataLoader

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor
from sklearn_depth._data import TensorBatches, as_tensor_batches

FAST = dict(max_depth=3, width=8, max_epochs=6, random_state=0)
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


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"batch_size": 64},
        {
            "train_split": ValidSplit(0.2, stratified=True, random_state=0),
            "callbacks": [("es", EarlyStopping(patience=2, load_best=True))],
        },
    ],
)
def test_fast_and_skorch_paths_train_the_same_classifier(spirals_small, extra):
    X, y = spirals_small
    w = np.linspace(0.5, 2.0, len(y))
    fast = DepthSearchClassifier(**FAST, **extra).fit(X, y, sample_weight=w)
    slow = DepthSearchClassifier(**FAST, **extra, **SKORCH_PATH)
    slow.fit(X, y, sample_weight=w)
    assert_array_equal(fast.posterior_depth_, slow.posterior_depth_)
    assert_array_equal(fast.predict_proba(X), slow.predict_proba(X))
    assert fast.history[:, "train_loss"] == slow.history[:, "train_loss"]


def test_fast_and_skorch_paths_train_the_same_regressor(spirals_small):
    X, _ = spirals_small
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    fast = DepthSearchRegressor(**FAST, batch_size=50).fit(X, y)
    slow = DepthSearchRegressor(**FAST, batch_size=50, **SKORCH_PATH).fit(X, y)
    assert_array_equal(fast.predict(X), slow.predict(X))


def test_lr_scheduler_on_the_fast_path(spirals_small):
    from skorch.callbacks import LRScheduler

    X, y = spirals_small
    clf = DepthSearchClassifier(
        **FAST,
        callbacks=[("sched", LRScheduler(policy="StepLR", step_size=2, gamma=0.5))],
    ).fit(X, y)
    # event_lr records the first group, q's logits (depth_lr); all groups scale
    lrs = clf.history[:, "event_lr"]
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] == pytest.approx(0.1 * 0.5**2)
    assert clf.optimizer_.param_groups[1]["lr"] == pytest.approx(0.01 * 0.5**3)
