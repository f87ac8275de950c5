# SPDX-License-Identifier: MIT
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_depth import make_spirals
from sklearn_depth.datasets import load_uci


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


# --------------------------------------------------------------------------
# load_uci
# --------------------------------------------------------------------------

# 10 rows: three feature columns, then the target (row i holds i, 10 i, ...).
_UCI_TABLE = np.column_stack(
    [np.arange(10), 10 * np.arange(10), 0.5 * np.arange(10), 100 + np.arange(10)]
).astype(float)
_UCI_SPLITS = [([0, 1, 2, 3, 4, 5, 6, 7], [8, 9]), ([2, 3, 4, 5, 6, 7, 8, 9], [0, 1])]


def _write_uci(data_home, name="toy", **overrides):
    """Write the toy data set; ``overrides`` replace or (None) drop files."""
    files = {
        # tabs, spaces and trailing blank lines, as in the real files
        "data.txt": "\n".join(
            "\t".join(f"{v:g}" for v in row) + "  " for row in _UCI_TABLE
        )
        + "\n\n\n",
        "index_features.txt": "0\n1\n2\n",
        "index_target.txt": "3\n",
        "n_splits.txt": "2\n",
    }
    for k, (train, test) in enumerate(_UCI_SPLITS):
        files[f"index_train_{k}.txt"] = "".join(f"{i}\n" for i in train)
        files[f"index_test_{k}.txt"] = "".join(f"{i}\n" for i in test)
    files.update(overrides)
    folder = data_home / name
    folder.mkdir()
    for file_name, text in files.items():
        if text is not None:
            (folder / file_name).write_text(text)
    return folder


def test_load_uci_bunch(tmp_path):
    _write_uci(tmp_path)
    bunch = load_uci("toy", tmp_path)
    assert bunch.name == "toy"
    assert bunch.data.dtype == np.float64 and bunch.target.dtype == np.float64
    assert bunch.data.shape == (10, 3) and bunch.target.shape == (10,)
    assert_array_equal(bunch.data, _UCI_TABLE[:, :3])
    assert_array_equal(bunch.target, _UCI_TABLE[:, 3])
    assert bunch.n_splits == 2 and len(bunch.splits) == 2
    for (train, test), (want_train, want_test) in zip(
        bunch.splits, _UCI_SPLITS, strict=True
    ):
        assert train.dtype == np.int64 and test.dtype == np.int64
        assert_array_equal(train, want_train)
        assert_array_equal(test, want_test)


def test_load_uci_return_X_y_and_str_path(tmp_path):
    _write_uci(tmp_path)
    X, y = load_uci("toy", str(tmp_path), return_X_y=True)
    assert_array_equal(X, _UCI_TABLE[:, :3])
    assert_array_equal(y, _UCI_TABLE[:, 3])


def test_load_uci_several_targets_and_float_indices(tmp_path):
    _write_uci(
        tmp_path,
        **{"index_features.txt": "0.0\n2.0\n", "index_target.txt": "3\n1\n"},
    )
    bunch = load_uci("toy", tmp_path)
    assert_array_equal(bunch.data, _UCI_TABLE[:, [0, 2]])
    assert bunch.target.shape == (10, 2)
    assert_array_equal(bunch.target, _UCI_TABLE[:, [3, 1]])


def test_load_uci_missing_folders_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_uci("toy", tmp_path / "nowhere")
    _write_uci(tmp_path, name="alpha")
    _write_uci(tmp_path, name="beta")
    (tmp_path / "not_a_data_set").mkdir()
    with pytest.raises(FileNotFoundError, match=r"gamma.*are: alpha, beta\.$"):
        load_uci("gamma", tmp_path)


@pytest.mark.parametrize(
    "missing",
    ["data.txt", "index_features.txt", "index_target.txt", "n_splits.txt"],
)
def test_load_uci_missing_file(tmp_path, missing):
    _write_uci(tmp_path, **{missing: None})
    with pytest.raises(FileNotFoundError, match=missing):
        load_uci("toy", tmp_path)


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"index_features.txt": "0\n4\n"}, r"column indices out of range.*\[4\]"),
        ({"index_target.txt": "-1\n"}, r"column indices out of range.*\[-1\]"),
        ({"index_test_1.txt": "0\n10\n"}, r"row indices out of range.*\[10\]"),
        ({"index_test_0.txt": "7\n8\n9\n"}, r"Split 0 .* both in training and test"),
        ({"index_target.txt": "2\n"}, "share the columns"),
        ({"index_train_0.txt": "1.5\n"}, "not integers"),
        ({"index_train_0.txt": "one\n"}, "Could not parse"),
        ({"index_test_0.txt": "\n"}, "holds no indices"),
        ({"data.txt": "1 2 3 4\n5 6 7\n"}, "Could not parse"),
        ({"data.txt": "\n"}, "holds no rows"),
        ({"n_splits.txt": "3\n"}, "n_splits=3"),
        ({"n_splits.txt": "1\n"}, "n_splits=1"),
        ({"index_test_1.txt": None}, "n_splits=2, but"),
        ({"n_splits.txt": "two\n"}, "single integer"),
        ({"n_splits.txt": "0\n"}, ">= 1"),
    ],
)
def test_load_uci_invalid_files(tmp_path, overrides, match):
    _write_uci(tmp_path, **overrides)
    with pytest.raises(ValueError, match=match):
        load_uci("toy", tmp_path)
