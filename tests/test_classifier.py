# SPDX-License-Identifier: MIT
"""Behaviour of DepthSearchClassifier as a scikit-learn estimator."""

import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Checkpoint, EarlyStopping
from skorch.dataset import ValidSplit

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor

FAST = dict(max_depth=4, width=16, max_epochs=15, random_state=0)


@pytest.fixture(scope="module")
def fitted(spirals_small):
    """A fitted classifier shared by read-only tests (never refit it)."""
    X, y = spirals_small
    return DepthSearchClassifier(**FAST).fit(X, y)


# -- fitted attributes and predictions ---------------------------------------


def test_fitted_attributes(fitted, spirals_small):
    X, _ = spirals_small
    q = fitted.posterior_depth_
    assert q.shape == (5,) and q.dtype == np.float64
    assert_allclose(q.sum(), 1.0)
    assert 0 <= fitted.depth_ <= 4
    assert fitted.depth_ == np.flatnonzero(q >= 0.95 * q.max())[0]
    q_pruned = fitted.pruned_posterior_depth_
    assert_allclose(q_pruned[: fitted.depth_], q[: fitted.depth_])
    assert_allclose(q_pruned[fitted.depth_], q[fitted.depth_ :].sum())
    assert np.all(q_pruned[fitted.depth_ + 1 :] == 0)
    assert fitted.n_features_in_ == 2 and fitted.n_train_ == len(X)
    assert_array_equal(fitted.classes_, [0, 1])


def test_predict_proba_is_the_pruned_marginal(fitted, spirals_small):
    X, _ = spirals_small
    proba = fitted.predict_proba(X)
    assert proba.dtype == np.float64 and proba.shape == (len(X), 2)
    assert_allclose(proba.sum(1), 1.0, rtol=1e-12)
    per_depth = fitted.predict_proba_per_depth(X)
    assert per_depth.shape == (len(X), 5, 2) and per_depth.dtype == np.float64
    expected = np.einsum("d,ndc->nc", fitted.pruned_posterior_depth_, per_depth)
    assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    assert_array_equal(fitted.predict(X), fitted.classes_[proba.argmax(1)])


def test_pruned_forward_runs_only_depth_blocks(fitted, spirals_small):
    X, _ = spirals_small
    calls = []
    handles = [
        block.register_forward_hook(lambda *_, i=i: calls.append(i))
        for i, block in enumerate(fitted.module_.blocks)
    ]
    try:
        fitted.predict_proba(X[:10])
        assert sorted(set(calls)) == list(range(fitted.depth_))
        calls.clear()
        fitted.predict_proba_per_depth(X[:10])
        assert sorted(set(calls)) == list(range(fitted.max_depth))
    finally:
        for handle in handles:
            handle.remove()


def test_history_records_posterior_per_epoch(fitted):
    q_hist = np.array(fitted.history[:, "posterior_depth"])
    assert q_hist.shape == (FAST["max_epochs"], 5)
    assert_allclose(q_hist.sum(1), 1.0, rtol=1e-6)
    assert_allclose(q_hist[-1], fitted.posterior_depth_, rtol=1e-6)
    assert len(fitted.history[:, "train_loss"]) == FAST["max_epochs"]


def test_warmup_holds_q_uniform_then_learns(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(**{**FAST, "max_epochs": 8}, depth_warmup=0.5)
    clf.fit(X, y)
    q_hist = np.array(clf.history[:, "posterior_depth"])
    assert_allclose(q_hist[:4], 0.2, rtol=1e-6)
    assert np.abs(q_hist[-1] - 0.2).max() > 1e-3
    clf = DepthSearchClassifier(**{**FAST, "max_epochs": 8}, depth_warmup=3)
    q_hist = np.array(clf.fit(X, y).history[:, "posterior_depth"])
    assert_allclose(q_hist[:3], 0.2, rtol=1e-6)
    assert np.abs(q_hist[3] - 0.2).max() > 1e-4


def test_unfitted_raises_not_fitted(spirals_small):
    X, _ = spirals_small
    clf = DepthSearchClassifier(**FAST)
    for method in (clf.predict, clf.predict_proba, clf.predict_proba_per_depth):
        with pytest.raises(NotFittedError):
            method(X)
    # a net that skorch considers initialised is still not a fitted estimator
    clf._check_params()
    clf.n_features_in_, clf.classes_ = 2, np.array([0, 1])
    clf.initialize()
    with pytest.raises(NotFittedError):
        clf.predict(X)


# -- priors -------------------------------------------------------------------


def test_zero_prior_gives_exactly_zero_posterior(spirals_small):
    X, y = spirals_small
    prior = [1, 1, 0, 1, 0]
    clf = DepthSearchClassifier(**FAST, prior=prior).fit(X, y)
    assert_allclose(clf.prior_depth_, np.array(prior) / 3, rtol=1e-6)
    assert clf.posterior_depth_[2] == 0.0 and clf.posterior_depth_[4] == 0.0
    assert clf.depth_ in (0, 1, 3)


def test_geometric_prior_and_kl_weight_pull_towards_shallow(spirals_small):
    X, y = spirals_small
    params = {**FAST, "max_epochs": 30, "depth_lr": 0.3}
    plain = DepthSearchClassifier(**params).fit(X, y)
    strong = DepthSearchClassifier(**params, prior="geometric:0.1", kl_weight=200.0)
    strong.fit(X, y)
    assert strong.posterior_depth_[0] > 0.9
    assert plain.posterior_depth_[0] < 0.5


# -- labels and input types ---------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [np.array(["cat", "dog"]), np.array([5, 25]), np.array([-1.0, 3.0])],
)
def test_arbitrary_labels_round_trip(spirals_small, labels):
    X, y = spirals_small
    y_labels = labels[y]
    clf = DepthSearchClassifier(**{**FAST, "max_epochs": 60}).fit(X, y_labels)
    assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype == y_labels.dtype
    assert set(pred) <= set(labels)
    assert np.mean(pred == y_labels) > 0.6


def test_three_non_contiguous_classes():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(40, 3) + 4 * k for k in range(3)])
    y = np.repeat([3, 10, 42], 40)
    clf = DepthSearchClassifier(**FAST).fit(X, y)
    assert clf.predict_proba(X).shape == (120, 3)
    assert np.mean(clf.predict(X) == y) > 0.9


def test_float64_and_dataframe_input(spirals_small):
    pd = pytest.importorskip("pandas")
    X, y = spirals_small
    X64 = X.astype(np.float64)
    df = pd.DataFrame(X64, columns=["a", "b"])
    clf_np = DepthSearchClassifier(**FAST).fit(X64, y)
    clf_df = DepthSearchClassifier(**FAST).fit(df, pd.Series(y))
    assert_array_equal(clf_df.feature_names_in_, ["a", "b"])
    assert_allclose(clf_df.predict_proba(df), clf_np.predict_proba(X64))
    assert not hasattr(clf_np, "feature_names_in_")


@pytest.mark.filterwarnings("error::UserWarning")
def test_float32_dataframe_fits_without_warnings(spirals_small):
    pd = pytest.importorskip("pandas")
    X, y = spirals_small
    clf = DepthSearchClassifier(**{**FAST, "max_epochs": 2})
    clf.fit(pd.DataFrame(X, columns=["a", "b"]), y)


# -- meta-estimators ----------------------------------------------------------


def test_pipeline_and_cross_val_score(spirals_small):
    X, y = spirals_small
    pipe = make_pipeline(
        StandardScaler(), DepthSearchClassifier(**{**FAST, "max_epochs": 60})
    )
    scores = cross_val_score(pipe, X, np.array(["a", "b"])[y], cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.6


def test_grid_search_over_priors_in_parallel(spirals_small):
    X, y = spirals_small
    grid = {"prior": ["uniform", "geometric:0.85", np.array([1, 1, 1, 0, 0])]}
    search = GridSearchCV(
        DepthSearchClassifier(**FAST), grid, cv=2, n_jobs=2, error_score="raise"
    )
    search.fit(X, y)
    best = search.best_estimator_
    assert best.posterior_depth_.shape == (5,)
    masked = clone(search.estimator).set_params(prior=grid["prior"][2]).fit(X, y)
    assert np.all(masked.posterior_depth_[3:] == 0.0)


def test_clone_keeps_params_unchanged():
    prior = np.array([1.0, 0.0, 1.0])
    clf = DepthSearchClassifier(max_depth=2, prior=prior, optimizer__weight_decay=1e-4)
    params = clone(clf).get_params()
    assert params["prior"] is not prior and np.array_equal(params["prior"], prior)
    assert params["optimizer__weight_decay"] == 1e-4
    assert "_params_to_validate" not in params


# -- sample weights -------------------------------------------------------------


def test_sample_weight_changes_the_fit_and_ones_do_not(spirals_small):
    X, y = spirals_small
    plain = DepthSearchClassifier(**FAST).fit(X, y)
    ones = DepthSearchClassifier(**FAST).fit(X, y, sample_weight=np.ones(len(y)))
    assert_allclose(ones.predict_proba(X), plain.predict_proba(X), rtol=1e-5, atol=1e-6)
    w = np.where(y == 0, 10.0, 0.1)
    heavy = DepthSearchClassifier(**FAST).fit(X, y, sample_weight=w)
    assert heavy.predict_proba(X)[:, 0].mean() > plain.predict_proba(X)[:, 0].mean()


def test_sample_weight_routed_through_pipeline_and_grid_search(spirals_small):
    X, y = spirals_small
    w = np.where(y == 0, 5.0, 1.0)
    pipe = make_pipeline(StandardScaler(), DepthSearchClassifier(**FAST))
    pipe.fit(X, y, depthsearchclassifier__sample_weight=w)
    search = GridSearchCV(DepthSearchClassifier(**FAST), {"width": [8, 16]}, cv=2)
    search.fit(X, y, sample_weight=w)
    assert search.best_estimator_.posterior_depth_.shape == (5,)


@pytest.mark.filterwarnings("error::UserWarning")
def test_sample_weight_with_metadata_routing(spirals_small):
    X, y = spirals_small
    w = np.where(y == 0, 5.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        scaler = StandardScaler().set_fit_request(sample_weight=False)
        clf = DepthSearchClassifier(**FAST).set_fit_request(sample_weight=True)
        pipe = make_pipeline(scaler, clf).fit(X, y, sample_weight=w)
        assert pipe[-1].depth_ >= 0
        clf = clone(clf).set_score_request(sample_weight=True)
        search = GridSearchCV(clf, {"width": [8, 16]}, cv=2)
        search.fit(X, y, sample_weight=w)
    assert search.best_estimator_.depth_ >= 0


def test_sample_weight_with_internal_validation_split(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(
        **FAST, train_split=ValidSplit(0.2, stratified=True, random_state=0)
    )
    clf.fit(X, y, sample_weight=np.linspace(0.5, 2, len(y)))
    assert clf.n_train_ == 160
    assert len(clf.history[:, "valid_acc"]) == FAST["max_epochs"]


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.zeros(200), "non-zero"),
        (-np.ones(200), "[Nn]egative"),
        (np.ones(3), "shape"),
    ],
)
def test_bad_sample_weight(spirals_small, weights, match):
    X, y = spirals_small
    with pytest.raises(ValueError, match=match):
        DepthSearchClassifier(**FAST).fit(X, y, sample_weight=weights)


def test_last_batch_of_one_row_trains(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(**FAST, batch_size=128).fit(X[:129], y[:129])
    assert clf.history[-1, "train_batch_count"] == 1  # the 1-row batch dropped
    clf = DepthSearchClassifier(**FAST, batch_size=-1).fit(X[:2], y[:2])
    assert clf.depth_ >= 0


# -- reproducibility ----------------------------------------------------------


def test_same_seed_same_result_and_global_rng_untouched(spirals_small):
    X, y = spirals_small
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = DepthSearchClassifier(**FAST).fit(X, y)
    b = DepthSearchClassifier(**FAST).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert_array_equal(np.random.get_state()[1], np_state)
    assert_array_equal(a.posterior_depth_, b.posterior_depth_)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = DepthSearchClassifier(**{**FAST, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a.posterior_depth_, c.posterior_depth_)


def test_random_state_none_draws_from_numpy_global_rng(spirals_small):
    X, y = spirals_small
    params = {**FAST, "random_state": None, "max_epochs": 2}
    np.random.seed(7)
    a = DepthSearchClassifier(**params).fit(X, y).predict_proba(X)
    np.random.seed(7)
    b = DepthSearchClassifier(**params).fit(X, y).predict_proba(X)
    assert_array_equal(a, b)


def test_random_state_instance(spirals_small):
    X, y = spirals_small
    params = {**FAST, "max_epochs": 2}
    a = DepthSearchClassifier(**{**params, "random_state": np.random.RandomState(3)})
    b = DepthSearchClassifier(**{**params, "random_state": np.random.RandomState(3)})
    assert_array_equal(a.fit(X, y).predict_proba(X), b.fit(X, y).predict_proba(X))


# -- persistence and devices --------------------------------------------------


def test_pickle_round_trip(fitted, spirals_small):
    X, _ = spirals_small
    loaded = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    assert loaded.depth_ == fitted.depth_
    assert isinstance(loaded.posterior_depth_, np.ndarray)


def _fitted_on_spirals(Estimator, spirals_small, **params):
    """Either estimator fitted on the spirals (a smooth target for the regressor)."""
    X, y = spirals_small
    if Estimator is DepthSearchRegressor:
        y = np.sin(3 * X[:, 0]) + X[:, 1]
    return Estimator(**FAST, **params).fit(X, y), X, y


def _predictions(est, X):
    """What each estimator predicts: class probabilities, or (mean, std)."""
    if isinstance(est, DepthSearchClassifier):
        return (est.predict_proba(X),)
    return est.predict(X, return_std=True)


@pytest.mark.parametrize("Estimator", [DepthSearchClassifier, DepthSearchRegressor])
def test_pickled_with_cuda_device_loads_on_cpu(spirals_small, Estimator):
    if torch.cuda.is_available():
        pytest.skip("needs a CPU-only machine")
    est, X, _ = _fitted_on_spirals(Estimator, spirals_small)
    expected = _predictions(est, X)
    est.device = "cuda"  # as if trained on a GPU
    payload = pickle.dumps(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch's DeviceWarning about the fallback
        loaded = pickle.loads(payload)
    assert str(loaded.device) == "cpu"
    for got, want in zip(_predictions(loaded, X), expected, strict=True):
        assert_allclose(got, want)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device")
@pytest.mark.parametrize("Estimator", [DepthSearchClassifier, DepthSearchRegressor])
def test_fit_on_cuda_then_load_on_a_cpu_only_process(
    spirals_small, tmp_path, Estimator
):
    est, X, y = _fitted_on_spirals(Estimator, spirals_small, device="cuda")
    # batches are sliced from tensors moved to the GPU once
    Xb, _ = next(iter(est.get_iterator(est.get_dataset(X, y), training=True)))
    assert Xb.device.type == "cuda"
    assert next(est.module_.parameters()).device.type == "cuda"
    assert isinstance(est.posterior_depth_, np.ndarray)
    predict = "predict_proba" if Estimator is DepthSearchClassifier else "predict"
    expected = getattr(est, predict)(X)
    assert_allclose(getattr(pickle.loads(pickle.dumps(est)), predict)(X), expected)
    with open(tmp_path / "est.pkl", "wb") as f:
        pickle.dump(est, f)
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        f"""
        import pickle, warnings
        import numpy as np
        import torch
        assert not torch.cuda.is_available()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # skorch's DeviceWarning
            with open("est.pkl", "rb") as f:
                est = pickle.load(f)
        assert str(est.device) == "cpu"
        np.save("out.npy", est.{predict}(np.load("X.npy")))
        """
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path, env=env)
    assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=1e-4, atol=1e-5)


# -- skorch features ----------------------------------------------------------


def test_early_stopping_restores_best_and_q_follows(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(
        **{**FAST, "max_epochs": 40},
        train_split=ValidSplit(0.25, stratified=True, random_state=0),
        callbacks=[("es", EarlyStopping(patience=3, load_best=True))],
    ).fit(X, y)
    assert len(clf.history) < 40  # stopped early
    # q is read after the restore, from the restored module
    with torch.no_grad():
        q = torch.softmax(clf.module_.depth_logits, 0).double().numpy()
    assert_allclose(clf.posterior_depth_, q / q.sum(), rtol=1e-6)


def test_checkpoint_load_best(spirals_small, tmp_path):
    X, y = spirals_small
    clf = DepthSearchClassifier(
        **FAST,
        train_split=ValidSplit(0.25, stratified=True, random_state=0),
        callbacks=[("cp", Checkpoint(dirname=str(tmp_path), load_best=True))],
    ).fit(X, y)
    assert (tmp_path / "params.pt").exists()
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_partial_fit_accumulates_n_train_and_continues(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(**{**FAST, "max_epochs": 3})
    clf.partial_fit(X[:100], y[:100], classes=[0, 1])
    first = clf.module_.input.weight.detach().clone()
    assert clf.n_train_ == 100
    clf.partial_fit(X[100:], y[100:])
    assert clf.n_train_ == 200
    assert not torch.equal(first, clf.module_.input.weight)
    assert len(clf.history) == 6


def test_partial_fit_needs_all_classes_first(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(**FAST)
    clf.partial_fit(X[y == 0][:20], y[y == 0][:20], classes=[0, 1])
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(X[:20], np.full(20, 7))


def test_warm_start_refit_continues(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(**{**FAST, "max_epochs": 3}, warm_start=True)
    clf.fit(X, y)
    weight = clf.module_.input.weight.detach().clone()
    clf.fit(X, y)
    assert len(clf.history) == 6 and clf.n_train_ == 200
    assert not torch.equal(weight, clf.module_.input.weight)


def test_depth_lr_is_its_own_param_group(spirals_small):
    X, y = spirals_small
    clf = DepthSearchClassifier(
        **{**FAST, "max_epochs": 1}, depth_lr=0.3, optimizer__weight_decay=1e-3
    ).fit(X, y)
    depth_group, rest = clf.optimizer_.param_groups
    assert depth_group["lr"] == 0.3 and depth_group["weight_decay"] == 0.0
    assert depth_group["params"][0] is clf.module_.depth_logits
    assert rest["lr"] == FAST.get("lr", 0.01) and rest["weight_decay"] == 1e-3


FUSED_ON_CPU = tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)


@pytest.mark.skipif(not FUSED_ON_CPU, reason="fused Adam on CPU needs torch>=2.4")
@pytest.mark.parametrize(
    "params, fused",
    [
        ({}, True),
        ({"optimizer": torch.optim.AdamW}, True),
        ({"optimizer__fused": False}, False),
        ({"optimizer__foreach": True}, None),
        ({"optimizer": torch.optim.SGD}, None),
    ],
)
def test_adam_is_fused_unless_told_otherwise(spirals_small, params, fused):
    X, y = spirals_small
    clf = DepthSearchClassifier(**{**FAST, "max_epochs": 1}, **params).fit(X, y)
    assert clf.optimizer_.defaults.get("fused") is fused
    assert all(g.get("fused") is fused for g in clf.optimizer_.param_groups)


def test_fused_adam_trains_like_the_loop(spirals_small):
    """The fused kernel changes the last digits only."""
    X, y = spirals_small
    fused = DepthSearchClassifier(**FAST).fit(X, y)
    loop = DepthSearchClassifier(**FAST, optimizer__fused=False).fit(X, y)
    assert_allclose(fused.posterior_depth_, loop.posterior_depth_, atol=1e-3)
    assert_allclose(fused.predict_proba(X), loop.predict_proba(X), atol=1e-3)


def test_print_log_is_silent_at_verbose_0_and_prints_otherwise(spirals_small, capsys):
    X, y = spirals_small
    DepthSearchClassifier(**{**FAST, "max_epochs": 2}).fit(X, y)
    assert capsys.readouterr().out == ""
    DepthSearchClassifier(**{**FAST, "max_epochs": 2}, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and len(out.strip().splitlines()) == 4
    lines = []
    DepthSearchClassifier(
        **{**FAST, "max_epochs": 2}, callbacks__print_log__sink=lines.append
    ).fit(X, y)
    assert len(lines) == 4 and "train_loss" in lines[0]  # a custom sink still logs


# -- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "X_bad, match",
    [
        (np.array([[np.nan, 1.0]] * 10), "NaN"),
        (np.array([[np.inf, 1.0]] * 10), "infinity"),
        (np.empty((0, 2)), "0 sample"),
    ],
)
@pytest.mark.parametrize("blocks", [None, "ard"])
def test_bad_training_data(X_bad, match, blocks):
    with pytest.raises(ValueError, match=match):
        DepthSearchClassifier(**FAST, sparse_blocks=blocks).fit(
            X_bad, np.arange(len(X_bad)) % 2
        )


@pytest.mark.parametrize("blocks", [None, "ard"])
def test_sparse_input_rejected(spirals_small, blocks):
    X, y = spirals_small
    with pytest.raises(TypeError, match="[Ss]parse"):
        DepthSearchClassifier(**FAST, sparse_blocks=blocks).fit(sp.csr_matrix(X), y)


@pytest.mark.parametrize("blocks", [None, "ard"])
def test_one_class_and_one_sample(blocks):
    X = np.random.RandomState(0).randn(10, 2)
    with pytest.raises(ValueError, match="1 class"):
        DepthSearchClassifier(**FAST, sparse_blocks=blocks).fit(X, np.zeros(10))
    with pytest.raises(ValueError, match="n_samples=1"):
        DepthSearchClassifier(**FAST, sparse_blocks=blocks).fit(X[:1], [0])


@pytest.mark.parametrize("blocks", [None, "ard"])
def test_non_numeric_column_rejected(blocks):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    with pytest.raises(ValueError, match=r"non-numeric columns: \['b'\]"):
        DepthSearchClassifier(**FAST, sparse_blocks=blocks).fit(df, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="must contain only numeric"):
        DepthSearchClassifier(**FAST, sparse_blocks=blocks).fit(
            np.array([["a", "b"], ["c", "d"]]), [0, 1]
        )


def test_wrong_feature_count_at_predict(fitted):
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.zeros((3, 5)))


def test_regression_target_rejected(spirals_small):
    X, _ = spirals_small
    with pytest.raises(ValueError, match="Unknown label type"):
        DepthSearchClassifier(**FAST).fit(X, np.linspace(0, 1, len(X)))


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"prior": "gaussian"}, ValueError, "prior"),
        ({"prior": [1, 1]}, ValueError, "prior"),
        ({"prior": [1, 1, 1, 1, -1]}, ValueError, "prior"),
        ({"max_depth": -1}, ValueError, "max_depth"),
        ({"max_depth": 2.5}, TypeError, "max_depth"),
        ({"prune_threshold": 0.0}, ValueError, "prune_threshold"),
        ({"prune_threshold": 2}, ValueError, "prune_threshold"),
        ({"width": 0}, ValueError, "width"),
        ({"depth_lr": -1.0}, ValueError, "depth_lr"),
        ({"depth_warmup": 1.5}, ValueError, "depth_warmup"),
        ({"depth_warmup": -2}, ValueError, "depth_warmup"),
        ({"kl_weight": -1.0}, ValueError, "kl_weight"),
        ({"lr": 0}, ValueError, "lr"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"random_state": "seed"}, ValueError, "seed"),
    ],
)
def test_invalid_params_raise_at_fit(spirals_small, params, error, match):
    X, y = spirals_small
    clf = DepthSearchClassifier(**{**FAST, **params})  # construction never fails
    with pytest.raises(error, match=match):
        clf.fit(X, y)
