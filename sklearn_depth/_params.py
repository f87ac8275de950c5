# SPDX-License-Identifier: MIT
"""The one check of a scalar parameter, shared by every module of the package.

scikit-learn's public :func:`~sklearn.utils.check_scalar` checks the type and
the range, but lets ``True`` pass as the integer 1 and ``nan``/``inf`` pass
any range that has no bound on their side. Every scalar hyperparameter of
sklearn-depth goes through :func:`check_number`, which closes both gaps.
Imports numpy and scikit-learn only.
"""

from __future__ import annotations

import math
import numbers

from sklearn.utils import check_scalar

__all__ = ["check_number"]


def check_number(
    value,
    name: str,
    *,
    integral: bool = False,
    min_val=None,
    max_val=None,
    include_boundaries: str = "both",
):
    """Check that ``value`` is a finite real number (or integer) in a range.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The parameter's name, used in the error message.
    integral : bool, default=False
        Require an integer rather than any real number.
    min_val, max_val : float or None, default=None
        Bounds of the range; ``None`` leaves that side open.
    include_boundaries : {"both", "left", "right", "neither"}, default="both"
        Which bounds are allowed values, as in
        :func:`sklearn.utils.check_scalar`.

    Returns
    -------
    value : int or float
        ``value`` unchanged.

    Raises
    ------
    TypeError
        If ``value`` is a bool or not a real number (an integer with
        ``integral=True``).
    ValueError
        If ``value`` is not finite or lies outside the range.

    Examples
    --------
    >>> check_number(0.5, "lr", min_val=0, include_boundaries="neither")
    0.5
    >>> check_number(True, "width", integral=True)
    Traceback (most recent call last):
    ...
    TypeError: width must be an integer, not a bool (True).
    """
    if isinstance(value, bool):
        what = "an integer" if integral else "a real number"
        raise TypeError(f"{name} must be {what}, not a bool ({value!r}).")
    check_scalar(
        value,
        name,
        numbers.Integral if integral else numbers.Real,
        min_val=min_val,
        max_val=max_val,
        include_boundaries=include_boundaries,
    )
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    return value
