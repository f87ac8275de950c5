# SPDX-License-Identifier: MIT
"""Data sets: synthetic generators and local loaders (no downloads)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils import shuffle as _shuffle

from sklearn_depth._params import check_number

__all__ = ["load_uci", "make_spirals"]


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
    check_number(n_samples, "n_samples", integral=True, min_val=1)
    check_number(n_arms, "n_arms", integral=True, min_val=1)
    check_number(noise, "noise", min_val=0)
    check_number(start_angle, "start_angle")
    check_number(stop_angle, "stop_angle")

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


_SPLIT_FILE = re.compile(r"index_(train|test)_(\d+)\.txt")


def load_uci(name, data_home, *, return_X_y=False):
    r"""Load a UCI regression data set stored in the standard split layout.

    The layout is the one of the Bayesian deep learning benchmarks
    (Hernández-Lobato & Adams, 2015): a folder ``data_home/name`` holding

    - ``data.txt``: whitespace-separated numbers, one row per example;
    - ``index_features.txt`` and ``index_target.txt``: the 0-based columns
      of the inputs and of the target(s), one per line;
    - ``index_train_K.txt`` and ``index_test_K.txt``: the 0-based rows of
      the training and test part of split ``K``, one per line;
    - ``n_splits.txt``: the number of splits, ``K = 0 .. n_splits - 1``.

    Nothing is downloaded: the files must already be on disk.

    Parameters
    ----------
    name : str
        Name of the data set, that is of its folder in `data_home`, for
        example ``"boston"``.
    data_home : str or path-like
        Folder holding one sub-folder per data set.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of shape (n_samples, n_features)
            The inputs, float64.
        target : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The target, float64; 2-d only when ``index_target.txt`` names
            several columns.
        splits : list of tuple of ndarray
            The ``(train_indices, test_indices)`` of every split, as int64
            row indices into `data`.
        n_splits : int
            The number of splits.
        name : str
            The name of the data set.

    (data, target) : tuple if ``return_X_y`` is True
        The two arrays described above.

    Raises
    ------
    FileNotFoundError
        If `data_home`, the data set's folder or one of its files is missing;
        for an unknown `name`, the message lists the data sets available.
    ValueError
        If a file cannot be parsed, an index is out of range, the training
        and test rows of a split overlap, or ``n_splits.txt`` disagrees with
        the split files present.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_depth.datasets import load_uci
    >>> files = {
    ...     "data.txt": "1 2 10\n3 4 20\n5 6 30\n7 8 40\n",
    ...     "index_features.txt": "0\n1\n",
    ...     "index_target.txt": "2\n",
    ...     "index_train_0.txt": "0\n1\n2\n",
    ...     "index_test_0.txt": "3\n",
    ...     "n_splits.txt": "1\n",
    ... }
    >>> with tempfile.TemporaryDirectory() as data_home:
    ...     folder = Path(data_home, "toy")
    ...     folder.mkdir()
    ...     for file_name, text in files.items():
    ...         _ = (folder / file_name).write_text(text)
    ...     toy = load_uci("toy", data_home)
    >>> toy.data.shape, toy.target.tolist()
    ((4, 2), [10.0, 20.0, 30.0, 40.0])
    >>> train, test = toy.splits[0]
    >>> train.tolist(), test.tolist()
    ([0, 1, 2], [3])
    """
    data_home = Path(data_home)
    if not data_home.is_dir():
        raise FileNotFoundError(f"data_home {str(data_home)!r} is not a folder.")
    folder = data_home / name
    if not folder.is_dir():
        available = sorted(
            path.name
            for path in data_home.iterdir()
            if path.is_dir() and (path / "data.txt").is_file()
        )
        raise FileNotFoundError(
            f"No data set folder {str(folder)!r}; the data sets in "
            f"{str(data_home)!r} are: {', '.join(available) or 'none'}."
        )

    table = _read_table(folder / "data.txt")
    n_samples, n_columns = table.shape
    features = _read_indices(folder / "index_features.txt", n_columns, "column")
    targets = _read_indices(folder / "index_target.txt", n_columns, "column")
    shared = np.intersect1d(features, targets)
    if shared.size:
        raise ValueError(
            "index_features.txt and index_target.txt share the columns "
            f"{shared.tolist()}."
        )
    n_splits = _read_n_splits(folder / "n_splits.txt")
    splits = _read_splits(folder, n_splits, n_samples)

    data = table[:, features]
    target = table[:, targets[0]] if targets.size == 1 else table[:, targets]
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, splits=splits, n_splits=n_splits, name=name)


def _read_text(path):
    if not path.is_file():
        raise FileNotFoundError(f"Missing file {str(path)!r}.")
    return path.read_text()


def _read_table(path):
    text = _read_text(path)
    if not text.strip():
        raise ValueError(f"{str(path)!r} holds no rows.")
    try:
        table = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"Could not parse {str(path)!r}: {exc}") from exc
    return table


def _read_indices(path, size, kind):
    """Read 0-based indices, one per line, and check they are < `size`."""
    tokens = _read_text(path).split()
    if not tokens:
        raise ValueError(f"{str(path)!r} holds no indices.")
    try:
        values = np.array([float(token) for token in tokens])
    except ValueError as exc:
        raise ValueError(f"Could not parse {str(path)!r}: {exc}") from exc
    # Some copies of the benchmark write indices as floats ("3.0").
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise ValueError(f"{str(path)!r} holds indices that are not integers.")
    indices = values.astype(np.int64)
    bad = indices[(indices < 0) | (indices >= size)]
    if bad.size:
        raise ValueError(
            f"{str(path)!r} holds {kind} indices out of range [0, {size}): "
            f"{bad[:5].tolist()}."
        )
    return indices


def _read_n_splits(path):
    tokens = _read_text(path).split()
    try:
        (n_splits,) = (int(token) for token in tokens)
    except ValueError as exc:
        raise ValueError(
            f"{str(path)!r} must hold a single integer; got {tokens}."
        ) from exc
    if n_splits < 1:
        raise ValueError(f"{str(path)!r} must hold a number >= 1; got {n_splits}.")
    return n_splits


def _read_splits(folder, n_splits, n_samples):
    found = {"train": set(), "test": set()}
    for path in folder.iterdir():
        match = _SPLIT_FILE.fullmatch(path.name)
        if match:
            found[match.group(1)].add(int(match.group(2)))
    expected = set(range(n_splits))
    if found["train"] != expected or found["test"] != expected:
        raise ValueError(
            f"n_splits.txt in {str(folder)!r} gives n_splits={n_splits}, but the "
            f"split files are index_train_{sorted(found['train'])} and "
            f"index_test_{sorted(found['test'])}."
        )
    splits = []
    for k in range(n_splits):
        train = _read_indices(folder / f"index_train_{k}.txt", n_samples, "row")
        test = _read_indices(folder / f"index_test_{k}.txt", n_samples, "row")
        overlap = np.intersect1d(train, test)
        if overlap.size:
            raise ValueError(
                f"Split {k} of {str(folder)!r} has rows both in training and "
                f"test: {overlap[:5].tolist()}."
            )
        splits.append((train, test))
    return splits
