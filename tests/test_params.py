# SPDX-License-Identifier: MIT
"""The one scalar check, check_number."""

import math

import numpy as np
import pytest

from sklearn_depth._params import check_number


@pytest.mark.parametrize(
    "value, kwargs, error",
    [
        (True, {}, TypeError),
        (False, {"integral": True}, TypeError),
        ("1", {}, TypeError),
        (None, {}, TypeError),
        (1.5, {"integral": True}, TypeError),
        (math.nan, {}, ValueError),
        (math.inf, {}, ValueError),
        (-math.inf, {"max_val": 3}, ValueError),
        (np.float64(np.nan), {"min_val": 0}, ValueError),
        (-1, {"min_val": 0}, ValueError),
        (0, {"min_val": 0, "include_boundaries": "neither"}, ValueError),
        (2, {"max_val": 1}, ValueError),
    ],
)
def test_rejects(value, kwargs, error):
    with pytest.raises(error, match="x"):
        check_number(value, "x", **kwargs)


@pytest.mark.parametrize(
    "value, kwargs",
    [
        (0, {"min_val": 0}),
        (np.int64(3), {"integral": True, "min_val": 1}),
        (np.float32(0.5), {"min_val": 0, "max_val": 1}),
        (1, {"max_val": 1, "min_val": 0, "include_boundaries": "right"}),
        (7, {}),
    ],
)
def test_accepts_and_returns_unchanged(value, kwargs):
    assert check_number(value, "x", **kwargs) is value
