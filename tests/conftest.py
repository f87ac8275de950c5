# SPDX-License-Identifier: MIT
import numpy as np
import pytest
import torch
from sklearn.preprocessing import StandardScaler

from sklearn_depth import make_spirals

if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
    np.set_printoptions(legacy="1.25")  # doctests print numpy 1 style scalars


@pytest.fixture(autouse=True)
def _seed_global_rngs():
    # Tests must not depend on what ran before them.
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def spirals_small():
    """200 standardised spiral points, float32, labels 0/1 (do not mutate)."""
    X, y = make_spirals(200, noise=0.2, random_state=0)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    return X, y
