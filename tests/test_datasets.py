# SPDX-License-Identifier: MIT
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_depth import make_spirals


def test_shapes_labels_and_balance():
    X, y = make_spirals(101, n_arms=3, noise=0.1, random_state=0)
    assert X.shape == (101, 2)
    assert_array_equal(np.bincount(y), [34, 34, 33])


def test_random_state_is_honoured():
    a = make_spirals(50, noise=0.2, random_state=3)
    b = make_spirals(50, noise=0.2, random_state=3)
    c = make_spirals(50, noise=0.2, random_state=4)
    assert_array_equal(a[0], b[0])
    assert not np.allclose(a[0], c[0])


def test_noiseless_points_lie_on_the_arm():
    X, y = make_spirals(200, noise=0.0, shuffle=False, random_state=0)
    arm0 = X[y == 0]
    t = np.hypot(arm0[:, 0], arm0[:, 1])  # radius equals angle t
    assert_allclose(arm0[:, 0], t * np.cos(t), atol=1e-10)
    assert t.max() <= np.radians(720) + 1e-9
    # the second arm is the first rotated by 180 degrees
    arm1 = X[y == 1]
    r1 = np.hypot(arm1[:, 0], arm1[:, 1])
    assert_allclose(-arm1[:, 0], r1 * np.cos(r1), atol=1e-10)


def test_noise_is_uniform_offset_in_zero_noise():
    X0, _ = make_spirals(100, noise=0.0, shuffle=False, random_state=1)
    # same angles, then the noise draws: offsets lie in [0, noise) before rotation
    X1, y = make_spirals(100, noise=0.5, shuffle=False, random_state=1)
    offsets = X1[y == 0] - X0[y == 0]
    assert offsets.min() >= 0 and offsets.max() < 0.5


def test_stop_angle_controls_length():
    X, _ = make_spirals(500, stop_angle=180, noise=0.0, random_state=0)
    assert np.hypot(*X.T).max() <= np.pi + 1e-9


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"n_samples": 0}, ValueError),
        ({"n_samples": 2.5}, TypeError),
        ({"n_arms": 0}, ValueError),
        ({"noise": -1.0}, ValueError),
        ({"noise": "big"}, TypeError),
        ({"stop_angle": np.inf}, ValueError),
    ],
)
def test_invalid_arguments(kwargs, error):
    with pytest.raises(error):
        make_spirals(**kwargs)
