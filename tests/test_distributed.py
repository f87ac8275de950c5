# SPDX-License-Identifier: MIT
"""GridSearchCV on a real dask.distributed cluster through joblib (slow)."""

import joblib
import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.model_selection import GridSearchCV

from sklearn_depth import DepthSearchClassifier, make_spirals

distributed = pytest.importorskip("distributed")


@pytest.fixture
def one_torch_thread():
    # Workers run one thread each; the serial reference must match it, since
    # float32 reductions depend on the thread count.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_grid_search_on_a_local_dask_cluster_equals_serial(one_torch_thread):
    X, y = make_spirals(200, noise=0.2, random_state=0)
    grid = {"prior": ["uniform", "geometric:0.5"], "width": [8, 16]}
    estimator = DepthSearchClassifier(max_depth=3, max_epochs=10, random_state=0)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
        joblib.parallel_backend("dask"),
        distributed.get_task_stream(client) as tasks,
    ):
        on_cluster = GridSearchCV(estimator, grid, cv=2).fit(X, y)
    # the 8 fits of the search ran as tasks on the cluster's workers
    assert len({task["worker"] for task in tasks.data}) == 2
    assert len(tasks.data) >= 8
    serial = GridSearchCV(estimator, grid, cv=2, n_jobs=1).fit(X, y)
    assert_array_equal(
        on_cluster.cv_results_["mean_test_score"],
        serial.cv_results_["mean_test_score"],
    )
    assert on_cluster.best_params_ == serial.best_params_
    assert np.array_equal(
        on_cluster.best_estimator_.predict_proba(X),
        serial.best_estimator_.predict_proba(X),
    )
