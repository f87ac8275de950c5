# SPDX-License-Identifier: MIT
"""Torch threads of fits and predictions (issue #18)."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_depth import DepthSearchClassifier
from sklearn_depth._threads import n_threads_for, torch_threads


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


class _Threads(Callback):
    def on_epoch_begin(self, net, **kwargs):
        self.seen = torch.get_num_threads()


def _data():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3).astype(np.float32)
    return X, (X[:, 0] > 0).astype(int)


def test_small_fit_uses_one_thread_and_restores_the_callers(two_threads, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    X, y = _data()
    record = _Threads()
    clf = DepthSearchClassifier(max_depth=2, max_epochs=2, callbacks=[("t", record)])
    clf.fit(X, y)
    assert record.seen == 1
    assert torch.get_num_threads() == 2
    clf.predict_proba(X)
    assert torch.get_num_threads() == 2


def test_callers_threads_restored_after_an_error(two_threads, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    X, y = _data()

    class Fail(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        DepthSearchClassifier(max_depth=2, max_epochs=2, callbacks=[Fail()]).fit(X, y)
    assert torch.get_num_threads() == 2


def test_large_steps_keep_torchs_threads(two_threads, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert n_threads_for(batch_size=256, width=256, n_layers=12) == 2
    assert n_threads_for(batch_size=200, width=20, n_layers=22) == 1
    assert n_threads_for(batch_size=256, width=32, n_layers=12) == 1


def test_omp_num_threads_is_the_users_choice(two_threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert n_threads_for(batch_size=256, width=512, n_layers=20) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert n_threads_for(batch_size=8, width=4, n_layers=3) == 2
    X, y = _data()
    record = _Threads()
    DepthSearchClassifier(max_depth=2, max_epochs=1, callbacks=[("t", record)]).fit(
        X, y
    )
    assert record.seen == 2


def test_never_more_threads_than_torch_is_set_to(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with torch_threads(1):
        assert n_threads_for(batch_size=256, width=512, n_layers=20) == 1


def test_torch_threads_restores_on_error(two_threads):
    with pytest.raises(ValueError), torch_threads(1):
        assert torch.get_num_threads() == 1
        raise ValueError
    assert torch.get_num_threads() == 2
