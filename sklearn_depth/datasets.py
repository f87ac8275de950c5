# SPDX-License-Identifier: MIT
"""Synthetic data sets (no downloads)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils import shuffle as _shuffle

__all__ = ["make_spirals"]


def make_spirals(
    n_samples=100,
    *,
    n_arms=2,
    noise=0.0,
    start_angle=0.0,
    stop_angle=720.0,
    shuffle=True,
    random_state=None,
):
    """Generate interleaved spiral arms, one class per arm.

    The data of the Variational Depth Search experiments (Antorán et al.,
    2020). Each point of an arm has angle ``t = radians(start_angle) +
    sqrt(u) * radians(stop_angle)`` with ``u ~ U[0, 1)`` (so points are spread
    evenly along the arm's length), lies at ``(t cos t, t sin t)`` plus noise,
    and arm ``i`` is rotated by ``360 * i / n_arms`` degrees and labelled ``i``.

    Parameters
    ----------
    n_samples : int, default=100
        Total number of points, split as evenly as possible between arms.
    n_arms : int, default=2
        Number of arms, that is of classes.
    noise : float, default=0.0
        Noise amplitude. As in the paper's generator, each coordinate gets an
        independent offset drawn uniformly from ``[0, noise)`` before the
        arm's rotation (so the noise is not centred).
    start_angle : float, default=0.0
        Angle, in degrees, where every arm starts.
    stop_angle : float, default=720.0
        Angular length of every arm, in degrees; larger values give longer,
        more tightly wound and harder to separate spirals.
    shuffle : bool, default=True
        Whether to shuffle the points.
    random_state : int, RandomState instance or None, default=None
        Determines the angles, the noise and the shuffling. Pass an int for
        reproducible output across calls.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.
    y : ndarray of shape (n_samples,)
        The integer arm label of each point, in ``0..n_arms - 1``.

    Examples
    --------
    >>> from sklearn_depth import make_spirals
    >>> X, y = make_spirals(2000, noise=0.2, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((2000, 2), [0, 1])
    """
    _check_int("n_samples", n_samples, minimum=1)
    _check_int("n_arms", n_arms, minimum=1)
    for name, value in (
        ("noise", noise),
        ("start_angle", start_angle),
        ("stop_angle", stop_angle),
    ):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number; got {value!r}.")
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite; got {value}.")
    if noise < 0:
        raise ValueError(f"noise must be >= 0; got {noise}.")

    rng = check_random_state(random_state)
    per_arm = np.full(n_arms, n_samples // n_arms)
    per_arm[: n_samples % n_arms] += 1

    X_parts, y_parts = [], []
    for arm, count in enumerate(per_arm):
        t = np.radians(start_angle) + np.sqrt(rng.uniform(size=count)) * np.radians(
            stop_angle
        )
        points = np.column_stack([t * np.cos(t), t * np.sin(t)])
        points += noise * rng.uniform(size=(count, 2))
        theta = np.radians(360.0 * arm / n_arms)
        rotation = np.array(
            [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
        )
        X_parts.append(points @ rotation.T)
        y_parts.append(np.full(count, arm, dtype=np.int64))

    X = np.concatenate(X_parts)
    y = np.concatenate(y_parts)
    if shuffle:
        X, y = _shuffle(X, y, random_state=rng)
    return X, y


def _check_int(name, value, *, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}.")
