# SPDX-License-Identifier: MIT
"""Tests for sklearn_depth.plotting: the artists hold the estimator's values."""

import subprocess
import sys
import warnings
from types import MappingProxyType

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor
from sklearn_depth.metrics import _top_label_bins, expected_calibration_error
from sklearn_depth.plotting import (
    DecisionRegionsDisplay,
    DepthPosteriorDisplay,
    PosteriorHistoryDisplay,
    ReliabilityDisplay,
    UncertaintyDisplay,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def plot_params(tiny_params):
    """Five epochs of the tiniest network: enough to draw."""
    return MappingProxyType({**tiny_params, "max_epochs": 5})


@pytest.fixture(scope="module")
def clf(spirals_small, plot_params):
    """A fitted binary classifier of 2 features (do not mutate)."""
    X, y = spirals_small
    return DepthSearchClassifier(**plot_params).fit(X, y)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(60, centers=3, random_state=0)
    return X.astype(np.float32), np.array(["a", "b", "c"])[y]


@pytest.fixture(scope="module")
def clf3(blobs, plot_params):
    """A fitted 3-class classifier with string labels (do not mutate)."""
    return DepthSearchClassifier(**plot_params).fit(*blobs)


def _grid_points(disp):
    return np.column_stack([disp.xx0.ravel(), disp.xx1.ravel()])


# -- optional matplotlib ------------------------------------------------------


def test_import_does_not_import_matplotlib():
    code = "import sys, sklearn_depth.plotting; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"sklearn-depth\[plot\]"):
        DepthPosteriorDisplay([0.5, 0.5]).plot()


# -- DepthPosteriorDisplay ----------------------------------------------------


def test_depth_posterior_from_estimator(clf):
    disp = DepthPosteriorDisplay.from_estimator(clf)
    heights = [bar.get_height() for bar in disp.bars_]
    assert_allclose(heights, clf.posterior_depth_)
    assert_allclose(disp.prior_line_.get_data().values, np.full(4, 0.25))
    assert_array_equal(disp.depth_line_.get_xdata(), [clf.depth_, clf.depth_])
    assert disp.estimator_name == "DepthSearchClassifier"
    assert "DepthSearchClassifier" in disp.ax_.get_title()
    labels = disp.ax_.get_legend_handles_labels()[1]
    assert f"selected depth = {clf.depth_}" in labels
    assert (disp.ax_.get_xlabel(), disp.ax_.get_ylabel()) == ("depth d", "probability")


def test_depth_posterior_reads_the_prior(spirals_small, plot_params):
    X, y = spirals_small
    prior = [1.0, 0.0, 1.0, 2.0]
    est = DepthSearchClassifier(**{**plot_params, "max_epochs": 1}, prior=prior)
    disp = DepthPosteriorDisplay.from_estimator(est.fit(X[:50], y[:50]))
    assert_allclose(disp.prior_line_.get_data().values, [0.25, 0.0, 0.25, 0.5])
    no_prior = DepthPosteriorDisplay.from_estimator(est, show_prior=False)
    assert no_prior.prior_line_ is None and no_prior.prior is None


def test_depth_posterior_without_prior_or_depth():
    disp = DepthPosteriorDisplay([0.2, 0.8]).plot()
    assert disp.prior_line_ is None and disp.depth_line_ is None
    assert len(disp.bars_) == 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(posterior=[0.5, -0.1, 0.6]), "non-negative"),
        (dict(posterior=[[0.5, 0.5]]), "1-d"),
        (dict(posterior=[0.5, 0.5], prior=[1 / 3] * 3), "shape"),
        (dict(posterior=[0.5, 0.5], depth=2), "depth"),
        (dict(posterior=[0.5, 0.5], depth=0.5), "depth"),
    ],
)
def test_depth_posterior_bad_input(kwargs, match):
    posterior = kwargs.pop("posterior")
    with pytest.raises(ValueError, match=match):
        DepthPosteriorDisplay(posterior, **kwargs).plot()


# -- PosteriorHistoryDisplay --------------------------------------------------


def test_posterior_history_from_estimator(clf, plot_params):
    disp = PosteriorHistoryDisplay.from_estimator(clf)
    history = np.asarray(clf.history[:, "posterior_depth"])
    assert history.shape == (plot_params["max_epochs"], plot_params["max_depth"] + 1)
    assert_allclose(disp.posterior_history, history)
    assert_allclose(disp.image_.get_array().T, history)
    line = disp.expected_depth_line_
    assert_array_equal(line.get_xdata(), np.arange(1, plot_params["max_epochs"] + 1))
    assert_allclose(line.get_ydata(), history @ np.arange(4))
    assert_allclose(line.get_ydata(), clf.history[:, "expected_depth"])
    assert disp.colorbar_.ax in disp.figure_.axes
    assert (disp.ax_.get_xlabel(), disp.ax_.get_ylabel()) == ("epoch", "depth d")


def test_posterior_history_rejects_unnormalised_rows():
    with pytest.raises(ValueError, match="summing to 1"):
        PosteriorHistoryDisplay([[0.5, 0.6]]).plot()


def test_posterior_history_needs_an_epoch(spirals_small, plot_params):
    X, y = spirals_small
    est = DepthSearchClassifier(**{**plot_params, "max_epochs": 0}).fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="at least one epoch"):
        PosteriorHistoryDisplay.from_estimator(est)


# -- DecisionRegionsDisplay ---------------------------------------------------


def test_decision_regions_marginal_proba(clf, spirals_small):
    X, y = spirals_small
    disp = DecisionRegionsDisplay.from_estimator(
        clf, X, y, grid_resolution=30, eps=0.25
    )
    assert disp.xx0.shape == disp.xx1.shape == (30, 30)
    assert_allclose(disp.xx0.min(), X[:, 0].min() - 0.25, rtol=1e-6)
    assert_allclose(disp.xx1.max(), X[:, 1].max() + 0.25, rtol=1e-6)
    expected = clf.predict_proba(_grid_points(disp))[:, 1].reshape(30, 30)
    assert_allclose(disp.surface_.get_array(), expected)
    assert disp.colorbar_ is not None
    assert_allclose(disp.scatter_.get_offsets(), X)
    assert "marginal over q'" in disp.ax_.get_title()
    assert (disp.ax_.get_xlabel(), disp.ax_.get_ylabel()) == ("feature 0", "feature 1")


@pytest.mark.parametrize("depth", [0, 3])
def test_decision_regions_single_depth(clf, spirals_small, depth):
    X, _ = spirals_small
    disp = DecisionRegionsDisplay.from_estimator(
        clf, X, depth=depth, grid_resolution=20
    )
    per_depth = clf.predict_proba_per_depth(_grid_points(disp))
    assert_allclose(disp.surface_.get_array(), per_depth[:, depth, 1].reshape(20, 20))
    assert disp.scatter_ is None
    assert disp.ax_.get_title().endswith(f"depth {depth}")


def test_decision_regions_depth_of_a_grown_network(spirals_small, plot_params):
    X, y = spirals_small
    params = {**plot_params, "max_depth": 6, "initial_depth": 1}
    grown = DepthSearchClassifier(**params, grow=True).fit(X, y)
    deepest = grown.module_.grown_depth
    assert deepest < grown.max_depth  # 5 epochs grow a few blocks at most
    disp = DecisionRegionsDisplay.from_estimator(
        grown, X, depth=deepest, grid_resolution=10
    )
    assert disp.ax_.get_title().endswith(f"depth {deepest}")
    with pytest.raises(ValueError, match=f"0..{deepest}"):
        DecisionRegionsDisplay.from_estimator(grown, X, depth=deepest + 1)


@pytest.mark.parametrize("fixture", ["clf", "clf3"])
def test_decision_regions_entropy(request, fixture):
    est = request.getfixturevalue(fixture)
    X = np.random.RandomState(0).randn(10, 2)
    disp = DecisionRegionsDisplay.from_estimator(
        est, X, response="entropy", grid_resolution=25
    )
    entropy = disp.surface_.get_array()
    proba = est.predict_proba(_grid_points(disp))
    assert entropy.shape == (25, 25)
    log_proba = np.log(np.clip(proba, 1e-300, None))
    assert_allclose(entropy.ravel(), -np.sum(proba * log_proba, axis=1))
    assert np.all(entropy >= 0) and np.all(entropy <= np.log(len(est.classes_)))
    assert disp.colorbar_ is not None


def test_decision_regions_multiclass(clf3, blobs):
    X, y = blobs
    disp = DecisionRegionsDisplay.from_estimator(clf3, X, y, grid_resolution=20)
    assert disp.surface_.get_array().shape == (20, 20, 4)  # RGBA
    assert disp.colorbar_ is None
    proba = clf3.predict_proba(_grid_points(disp)).reshape(20, 20, 3)
    assert_allclose(disp.proba, proba)
    legend = [text.get_text() for text in disp.ax_.get_legend().get_texts()]
    assert legend == ["a", "b", "c"]
    # Points are coloured by their class's colour.
    colors = matplotlib.colors.to_rgba_array(["C0", "C1", "C2"])
    index = np.searchsorted(clf3.classes_, y)
    assert_allclose(disp.scatter_.get_facecolors(), colors[index])


def test_decision_regions_needs_two_features(blobs, plot_params):
    X, y = make_blobs(30, n_features=3, centers=2, random_state=0)
    est = DepthSearchClassifier(**{**plot_params, "max_epochs": 1}).fit(X, y)
    with pytest.raises(ValueError, match="n_features_in_=3"):
        DecisionRegionsDisplay.from_estimator(est, X)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(depth=-1), "depth"),
        (dict(depth=4), "depth"),
        (dict(depth=True), "depth"),
        (dict(depth="mean"), "depth"),
        (dict(response="logit"), "response"),
        (dict(grid_resolution=1), "grid_resolution"),
        (dict(eps=-1.0), "eps"),
    ],
)
def test_decision_regions_bad_params(clf, spirals_small, kwargs, match):
    X, _ = spirals_small
    with pytest.raises(ValueError, match=match):
        DecisionRegionsDisplay.from_estimator(clf, X, **kwargs)


def test_decision_regions_bad_data(clf, spirals_small):
    X, y = spirals_small
    with pytest.raises(ValueError, match="2 columns"):
        DecisionRegionsDisplay.from_estimator(clf, np.ones((5, 3)))
    with pytest.raises(ValueError, match="not in the classes"):
        DecisionRegionsDisplay.from_estimator(clf, X, y + 5, grid_resolution=5)


# Fitting on a float32 DataFrame hands torch a read-only array (pandas
# copy-on-write); that is fit's business, not the display's.
def test_decision_regions_keeps_feature_names(spirals_small, plot_params):
    # A grid without the fitted column names would make sklearn warn.
    pd = pytest.importorskip("pandas")
    X, y = spirals_small
    df = pd.DataFrame(X[:40], columns=["u", "v"])
    est = DepthSearchClassifier(**{**plot_params, "max_epochs": 1}).fit(df, y[:40])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        disp = DecisionRegionsDisplay.from_estimator(est, df, y[:40], grid_resolution=5)
    assert disp.surface_.get_array().shape == (5, 5)
    assert (disp.ax_.get_xlabel(), disp.ax_.get_ylabel()) == ("u", "v")


# -- ReliabilityDisplay -------------------------------------------------------


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [1, 7, 15])
def test_top_label_bins_agree_with_ece(strategy, n_bins):
    rng = np.random.RandomState(0)
    y_prob = rng.dirichlet([0.5, 0.5, 0.5], size=300)
    y_true = np.array(["x", "y", "z"])[rng.randint(3, size=300)]
    labels = ["z", "y", "x"]  # columns need not be sorted
    acc, conf, counts = _top_label_bins(y_true, y_prob, n_bins, strategy, labels)
    assert counts.sum() == 300 and np.all(counts > 0)
    assert np.all((acc >= 0) & (acc <= 1)) and np.all((conf >= 1 / 3) & (conf <= 1))
    ece = expected_calibration_error(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, labels=labels
    )
    assert_allclose(np.sum(counts / 300 * np.abs(acc - conf)), ece, atol=1e-12)


def test_top_label_bins_binary_shorthand():
    y_true, y_prob = [0, 1, 1, 0], [0.2, 0.9, 0.4, 0.55]
    acc, conf, counts = _top_label_bins(y_true, y_prob, 5, "uniform", None)
    assert_array_equal(counts, [2, 2])
    assert_allclose(conf, [0.575, 0.85])  # (0.6, 0.55) and (0.8, 0.9)
    assert_allclose(acc, [0.0, 1.0])


def test_reliability_from_estimator(clf3, blobs):
    X, y = blobs
    disp = ReliabilityDisplay.from_estimator(clf3, X, y, n_bins=5)
    assert disp.counts.sum() == len(X)
    ece = expected_calibration_error(
        y, clf3.predict_proba(X), n_bins=5, labels=clf3.classes_
    )
    assert disp.ece == pytest.approx(ece)
    assert_allclose(
        np.sum(disp.counts / len(X) * np.abs(disp.prob_true - disp.prob_pred)), ece
    )
    assert_allclose(disp.line_.get_xdata(), disp.prob_pred)
    assert_allclose(disp.line_.get_ydata(), disp.prob_true)
    labels = [text.get_text() for text in disp.ax_.get_legend().get_texts()]
    assert f"DepthSearchClassifier, ECE = {ece:.3f}" in labels
    assert disp.ax_.get_xlabel().startswith("confidence")
    assert disp.ax_.get_ylabel() == "accuracy"


def test_reliability_from_predictions_checks_input():
    with pytest.raises(ValueError, match="strategy"):
        ReliabilityDisplay.from_predictions([0, 1], [0.2, 0.7], strategy="kmeans")
    with pytest.raises(ValueError, match="n_bins"):
        ReliabilityDisplay.from_predictions([0, 1], [0.2, 0.7], n_bins=0)
    with pytest.raises(ValueError, match="sum to 1"):
        ReliabilityDisplay.from_predictions([0, 1], [[0.2, 0.7], [0.5, 0.5]])


def test_reliability_needs_a_classifier():
    reg = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    with pytest.raises(TypeError, match="predict_proba"):
        ReliabilityDisplay.from_estimator(reg, [[0.0]], [0])


# -- UncertaintyDisplay -------------------------------------------------------


@pytest.fixture(scope="module")
def reg(spirals_regression, plot_params):
    """A fitted regressor of 2 features (do not mutate)."""
    return DepthSearchRegressor(**plot_params).fit(*spirals_regression)


@pytest.mark.parametrize("fixture", ["clf", "clf3"])
def test_uncertainty_classifier_splits_the_entropy(request, fixture):
    est = request.getfixturevalue(fixture)
    X = np.random.RandomState(0).randn(10, 2)
    disp = UncertaintyDisplay.from_estimator(est, X, grid_resolution=20, eps=0.25)
    assert disp.xx0.shape == disp.xx1.shape == (20, 20)
    assert_allclose(disp.xx0.min(), X[:, 0].min() - 0.25)
    aleatoric, epistemic = est.predict_entropy_components(_grid_points(disp))
    proba = est.predict_proba(_grid_points(disp))
    total = -np.sum(proba * np.log(np.clip(proba, 1e-300, None)), axis=1)
    images = [surface.get_array() for surface in disp.surfaces_]
    assert_allclose(images[0].ravel(), total, rtol=1e-9, atol=1e-12)
    assert_allclose(images[1].ravel(), aleatoric)
    assert_allclose(images[2].ravel(), epistemic)
    # Total and aleatoric share the scale of entropies; epistemic has its own.
    log_k = np.log(len(est.classes_))
    assert [s.get_clim() for s in disp.surfaces_[:2]] == [(0.0, log_k)] * 2
    assert disp.surfaces_[2].get_clim()[1] == pytest.approx(epistemic.max())
    assert disp.response == "entropy"
    assert [cb.ax in disp.figure_.axes for cb in disp.colorbars_] == [True] * 3
    assert disp.colorbars_[0].ax.get_ylabel() == "entropy (nats)"
    assert disp.axes_[2].get_title() == "Epistemic: mutual information"
    for scatter in disp.scatters_:
        assert_allclose(scatter.get_offsets(), X)


def test_uncertainty_regressor_splits_the_std(reg, spirals_regression):
    X, _ = spirals_regression
    disp = UncertaintyDisplay.from_estimator(
        reg, X, grid_resolution=15, show_data=False, name="DUN"
    )
    points = _grid_points(disp)
    noise, depth_std = reg.predict_std_components(points)
    _, std = reg.predict(points, return_std=True)
    images = [surface.get_array().ravel() for surface in disp.surfaces_]
    assert_allclose(images[0], std, rtol=1e-9)
    assert_allclose(images[1], noise)
    assert_allclose(images[2], depth_std)
    assert disp.response == "std" and disp.scatters_ is None
    assert disp.surfaces_[0].get_clim() == disp.surfaces_[1].get_clim()
    assert disp.axes_[1].get_title() == "DUN: Aleatoric: noise std"


def test_uncertainty_is_flat_at_depth_zero(spirals_small, plot_params):
    # One network, one depth left: nothing to disagree about, and the panel
    # still draws.
    X, y = spirals_small
    params = {**plot_params, "prior": [1.0, 0.0, 0.0, 0.0], "n_members": 1}
    est = DepthSearchClassifier(**params)
    disp = UncertaintyDisplay.from_estimator(est.fit(X, y), X, grid_resolution=5)
    assert_array_equal(disp.epistemic, 0.0)
    assert disp.surfaces_[2].get_clim() == (0.0, 1.0)


def test_uncertainty_keeps_feature_names(spirals_small, plot_params):
    pd = pytest.importorskip("pandas")
    X, y = spirals_small
    df = pd.DataFrame(X[:40], columns=["u", "v"])
    est = DepthSearchClassifier(**{**plot_params, "max_epochs": 1}).fit(df, y[:40])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        disp = UncertaintyDisplay.from_estimator(est, df, grid_resolution=5)
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in disp.axes_] == [("u", "v")] * 3


def test_uncertainty_draws_on_given_axes(clf, spirals_small):
    fig, axes = plt.subplots(2, 2)
    chosen = [axes[0, 0], axes[0, 1], axes[1, 1]]
    disp = UncertaintyDisplay.from_estimator(
        clf, spirals_small[0], axes=chosen, grid_resolution=5, cmap="magma"
    )
    assert list(disp.axes_) == chosen and disp.figure_ is fig
    assert not axes[1, 0].has_data()
    assert disp.surfaces_[0].get_cmap().name == "magma"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(grid_resolution=1), "grid_resolution"),
        (dict(eps=-1.0), "eps"),
        (dict(axes="two"), "3 Axes"),
    ],
)
def test_uncertainty_bad_params(clf, spirals_small, kwargs, match):
    with pytest.raises(ValueError, match=match):
        UncertaintyDisplay.from_estimator(clf, spirals_small[0], **kwargs)


def test_uncertainty_bad_values():
    grid = np.zeros((3, 3))
    with pytest.raises(ValueError, match="response"):
        UncertaintyDisplay(grid, grid, grid, grid, grid, response="var").plot()
    with pytest.raises(ValueError, match="one shape"):
        UncertaintyDisplay(grid, grid, grid, grid, np.zeros((2, 3))).plot()
    with pytest.raises(ValueError, match="non-negative"):
        UncertaintyDisplay(grid, grid, grid - 1, grid, grid).plot()


def test_uncertainty_needs_a_depth_model_of_two_features(plot_params):
    X, y = make_blobs(30, n_features=3, centers=2, random_state=0)
    est = DepthSearchClassifier(**{**plot_params, "max_epochs": 1}).fit(X, y)
    with pytest.raises(ValueError, match="n_features_in_=3"):
        UncertaintyDisplay.from_estimator(est, X)
    lin = LinearRegression().fit(X[:, :2], y)
    with pytest.raises(TypeError, match="DepthSearch"):
        UncertaintyDisplay.from_estimator(lin, X[:, :2])
    two = DepthSearchRegressor(**{**plot_params, "max_epochs": 1})
    two.fit(X[:, :2], np.column_stack([y, -y]).astype(float))
    with pytest.raises(ValueError, match="one output"):
        UncertaintyDisplay.from_estimator(two, X[:, :2])


# -- shared behaviour ---------------------------------------------------------


def _from_estimator_calls(X, y):
    return {
        "posterior": lambda est, **kw: DepthPosteriorDisplay.from_estimator(est, **kw),
        "history": lambda est, **kw: PosteriorHistoryDisplay.from_estimator(est, **kw),
        "regions": lambda est, **kw: DecisionRegionsDisplay.from_estimator(
            est, X, y, grid_resolution=10, **kw
        ),
        "reliability": lambda est, **kw: ReliabilityDisplay.from_estimator(
            est, X, y, **kw
        ),
        "uncertainty": lambda est, **kw: UncertaintyDisplay.from_estimator(
            est, X, grid_resolution=10, **kw
        ),
    }


@pytest.mark.parametrize("display", ["posterior", "history", "regions", "reliability"])
def test_from_estimator_draws_on_given_axes(clf, spirals_small, display):
    fig, (ax_left, ax_right) = plt.subplots(1, 2)
    disp = _from_estimator_calls(*spirals_small)[display](clf, ax=ax_right)
    assert disp.ax_ is ax_right and disp.figure_ is fig
    assert ax_right.has_data() and not ax_left.has_data()


@pytest.mark.parametrize(
    "display", ["posterior", "history", "regions", "reliability", "uncertainty"]
)
def test_from_estimator_needs_a_fitted_estimator(spirals_small, plot_params, display):
    with pytest.raises(NotFittedError):
        _from_estimator_calls(*spirals_small)[display](
            DepthSearchClassifier(**plot_params)
        )


@pytest.mark.parametrize("display", ["posterior", "history"])
def test_depth_displays_need_a_depth_estimator(display):
    reg = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    with pytest.raises(TypeError, match="DepthSearch"):
        _from_estimator_calls(None, None)[display](reg)
