# SPDX-License-Identifier: MIT
"""End-to-end behaviour on the paper's spirals and the examples (slow)."""

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from sklearn_depth import DepthSearchClassifier, make_spirals

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def paper_split(seed, stop_angle=720):
    """make_spirals(2000, noise=0.2): 200 train / 1800 test, standardised."""
    X, y = make_spirals(2000, noise=0.2, stop_angle=stop_angle, random_state=seed)
    scaler = StandardScaler().fit(X[:200])
    return scaler.transform(X[:200]), y[:200], scaler.transform(X[200:]), y[200:]


# The paper's recipe: every training row, 200 epochs, a warm-up of a quarter
# of them, and its prior p(d) ∝ 0.85 ** (d + 1) (cambridge-mlg/arch_uncert's
# spiral scans). The defaults stop early on held-out rows instead, which on the
# spirals keeps the accuracy but ends training while q is still spread over
# the deep depths, and stops the hardest spirals near chance
# (benchmarks/README.md, "tabular.py").
PAPER_RECIPE = dict(
    early_stopping=False,
    max_epochs=200,
    depth_warmup=0.25,
    prior="geometric:0.85",
    n_members=1,  # one network, as in the paper
)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_classifier_solves_the_paper_spirals(seed):
    X_train, y_train, X_test, y_test = paper_split(seed)
    clf = DepthSearchClassifier(max_depth=20, random_state=seed).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.98


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paper_recipe_solves_the_spirals_with_a_shallow_network(seed):
    X_train, y_train, X_test, y_test = paper_split(seed)
    clf = DepthSearchClassifier(max_depth=20, random_state=seed, **PAPER_RECIPE)
    clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.98
    assert clf.depth_ <= 10


def _median_depths(**params):
    medians = {}
    for max_depth in (20, 40):
        depths = [
            DepthSearchClassifier(max_depth=max_depth, random_state=seed, **params)
            .fit(*paper_split(seed)[:2])
            .depth_
            for seed in (0, 1, 2)
        ]
        medians[max_depth] = np.median(depths)
    return medians


@pytest.mark.slow
def test_selected_depth_does_not_follow_max_depth():
    # Issue #12: under a uniform prior doubling max_depth moved the median
    # depth_ on these spirals from 12 to 28 blocks; prior="auto" starts q with
    # little mass beyond 10 blocks, so the ceiling no longer decides. One
    # network (the depth search of the paper); the default members below.
    medians = _median_depths(n_members=1)
    assert abs(medians[40] - medians[20]) <= 1, medians


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="issue #12 goal 4 is not met with the default 4 ensemble members: "
    "benchmarks/defaults.py measured median shifts of +0, +2, +3 blocks at "
    "180, 720 and 1440 degrees (+0, +0, -4 with one network)",
)
def test_selected_depth_of_the_default_members_does_not_follow_max_depth():
    medians = _median_depths()
    assert abs(medians[40] - medians[20]) <= 1, medians


@pytest.mark.slow
def test_selected_depth_grows_with_spiral_complexity():
    medians = []
    for stop_angle in (180, 720, 1440):
        depths = [
            DepthSearchClassifier(max_depth=20, random_state=seed, **PAPER_RECIPE)
            .fit(*paper_split(seed, stop_angle)[:2])
            .depth_
            for seed in (0, 1, 2)
        ]
        medians.append(np.median(depths))
    assert medians == sorted(medians), medians
    assert medians[-1] > medians[0], medians


@pytest.mark.slow
def test_quickstart_runs(capsys, monkeypatch):
    # How long it takes is for a benchmark to report, not a test to assert (#11).
    monkeypatch.setattr(sys, "argv", ["quickstart.py"])
    runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "posterior over depth" in out and "selected depth" in out


@pytest.mark.slow
def test_sparse_layers_example_runs(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sparse_layers.py"])
    runpy.run_path(str(EXAMPLES / "sparse_layers.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "plain PyTorch loop" in out and "skorch NeuralNet" in out
    assert "predictions match" in out


@pytest.mark.slow
# torch's inductor still calls torch.jit.script_method internally.
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")
def test_compiled_module_trains_prunes_and_pickles():
    import pickle

    X, y = make_spirals(300, noise=0.2, random_state=0)
    clf = DepthSearchClassifier(max_depth=3, max_epochs=5, compile=True, random_state=0)
    clf.fit(X, y)
    # the pruned depth is set on the compiled module's original module
    assert clf.module_._orig_mod.active_depth == clf.depth_
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 2)
    assert np.allclose(pickle.loads(pickle.dumps(clf)).predict_proba(X), proba)
