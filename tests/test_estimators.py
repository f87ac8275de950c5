# SPDX-License-Identifier: MIT
"""Behaviour both estimators share: scikit-learn and skorch integration.

Every test runs for DepthSearchClassifier and DepthSearchRegressor; the
classifier trains on the spirals' labels, the regressor on a smooth target
over the same points (``estimator_data``).
"""

import copy
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
from _predictions import assert_same_predictions, predictions
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Checkpoint, EarlyStopping
from skorch.dataset import ValidSplit

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor

ESTIMATORS = [DepthSearchClassifier, DepthSearchRegressor]
both = pytest.mark.parametrize("Estimator", ESTIMATORS)


def _is_classifier(est):
    return est is DepthSearchClassifier or isinstance(est, DepthSearchClassifier)


def _uneven_weights(Estimator, y):
    """Weights 5 for half of the rows (class 0, or targets below the median)."""
    heavy = y == 0 if _is_classifier(Estimator) else y < np.median(y)
    return np.where(heavy, 5.0, 1.0)


def _early_stopping(Estimator, patience):
    # On the regressor's smooth target the validation loss keeps falling by
    # small steps: it stops once they are under 5 % (skorch's default: 0.01 %).
    threshold = {} if _is_classifier(Estimator) else {"threshold": 0.05}
    return EarlyStopping(patience=patience, load_best=True, **threshold)


def _valid_split(Estimator, fraction):
    # Stratification needs class labels.
    return ValidSplit(fraction, stratified=_is_classifier(Estimator), random_state=0)


@pytest.fixture(scope="module", params=ESTIMATORS)
def fitted(request, spirals_small, spirals_regression, fast_params):
    """Each estimator fitted once, shared by read-only tests (never refit it)."""
    Estimator = request.param
    X, y = spirals_small if _is_classifier(Estimator) else spirals_regression
    return Estimator(**fast_params).fit(X, y)


# -- fitted attributes and predictions ---------------------------------------


def test_fitted_attributes(fitted, spirals_small):
    X, _ = spirals_small
    q = fitted.posterior_depth_
    assert q.shape == (5,) and q.dtype == np.float64
    assert_allclose(q.sum(), 1.0)
    assert fitted.module_.active_depth == fitted.depth_  # the module is pruned
    assert fitted.depth_ == np.flatnonzero(q >= 0.95 * q.max())[0]
    q_pruned = fitted.pruned_posterior_depth_
    assert_allclose(q_pruned[: fitted.depth_], q[: fitted.depth_])
    assert_allclose(q_pruned[fitted.depth_], q[fitted.depth_ :].sum())
    assert np.all(q_pruned[fitted.depth_ + 1 :] == 0)
    assert fitted.n_features_in_ == 2 and fitted.n_train_ == len(X)


def test_pruned_forward_runs_only_depth_blocks(fitted, spirals_small):
    # Blocks beyond depth_ are never computed: NaN weights there leave the
    # pruned predictions as they were, while the every-depth ones see them.
    X, _ = spirals_small
    est = copy.deepcopy(fitted)
    if _is_classifier(est):
        pruned, every_depth = est.predict_proba, est.predict_proba_per_depth
    else:
        pruned, every_depth = est.predict, est.predict_per_depth
    before = pruned(X[:10])
    assert est.depth_ < est.max_depth
    with torch.no_grad():
        for block in est.module_.blocks[est.depth_ :]:
            block.linear.weight.fill_(float("nan"))
    assert_array_equal(pruned(X[:10]), before)
    per_depth = every_depth(X[:10])
    assert np.isfinite(per_depth[:, : est.depth_ + 1]).all()
    assert np.isnan(per_depth[:, est.depth_ + 1 :]).all()


def test_history_records_posterior_per_epoch(fitted, fast_params):
    q_hist = np.array(fitted.history[:, "posterior_depth"])
    assert q_hist.shape == (fast_params["max_epochs"], 5)
    assert_allclose(q_hist.sum(1), 1.0, rtol=1e-6)
    assert_allclose(q_hist[-1], fitted.posterior_depth_, rtol=1e-6)
    assert len(fitted.history[:, "train_loss"]) == fast_params["max_epochs"]


@both
def test_unfitted_raises_not_fitted(Estimator, spirals_small, fast_params):
    X, _ = spirals_small
    est = Estimator(**fast_params)
    if _is_classifier(Estimator):
        methods = (est.predict, est.predict_proba, est.predict_proba_per_depth)
    else:
        methods = (est.predict, est.predict_per_depth, est.predict_std_components)
    for method in methods:
        with pytest.raises(NotFittedError):
            method(X)


# -- priors -------------------------------------------------------------------


@both
def test_zero_prior_gives_exactly_zero_posterior(
    Estimator, estimator_data, fast_params
):
    X, y = estimator_data
    prior = [1, 1, 0, 1, 0]
    est = Estimator(**fast_params, prior=prior).fit(X, y)
    assert_allclose(est.prior_depth_, np.array(prior) / 3, rtol=1e-6)
    assert est.posterior_depth_[2] == 0.0 and est.posterior_depth_[4] == 0.0
    assert est.depth_ in (0, 1, 3)


# -- input types --------------------------------------------------------------


@both
def test_float64_and_dataframe_input(Estimator, estimator_data, fast_params):
    pd = pytest.importorskip("pandas")
    X, y = estimator_data
    X64 = X.astype(np.float64)
    df = pd.DataFrame(X64, columns=["a", "b"])
    est_32 = Estimator(**fast_params).fit(X, y)
    est_64 = Estimator(**fast_params).fit(X64, y)
    est_df = Estimator(**fast_params).fit(df, pd.Series(y))
    assert_array_equal(est_df.feature_names_in_, ["a", "b"])
    from_df = predictions(est_df, df)
    for est, X_est in [(est_64, X64), (est_32, X)]:
        for got, want in zip(from_df, predictions(est, X_est), strict=True):
            assert_array_equal(got, want)
    assert not hasattr(est_64, "feature_names_in_")


@both
@pytest.mark.filterwarnings("error::UserWarning")
def test_float32_dataframe_fits_without_warnings(
    Estimator, estimator_data, fast_params
):
    pd = pytest.importorskip("pandas")
    X, y = estimator_data
    est = Estimator(**{**fast_params, "max_epochs": 2, "depth_warmup": 0})
    est.fit(pd.DataFrame(X, columns=["a", "b"]), y)


# -- meta-estimators ----------------------------------------------------------


@both
def test_pipeline_and_cross_val_score(
    Estimator, random_spirals, random_toy_regression, fast_params, global_random_seed
):
    if _is_classifier(Estimator):
        X, y = random_spirals
        y, max_epochs, min_score = np.array(["a", "b"])[y], 60, 0.6
    else:
        X, y = random_toy_regression
        max_epochs, min_score = 30, 0.3
    params = {**fast_params, "max_epochs": max_epochs}
    est = Estimator(**{**params, "random_state": global_random_seed})
    scores = cross_val_score(make_pipeline(StandardScaler(), est), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > min_score


@both
def test_grid_search_over_priors_in_parallel(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    masked_prior = np.array([1, 1, 1, 0, 0])
    grid = {"prior": ["uniform", "geometric:0.85", masked_prior]}
    if not _is_classifier(Estimator):
        grid["width"] = [8, 16]
    search = GridSearchCV(
        Estimator(**fast_params), grid, cv=2, n_jobs=2, error_score="raise"
    )
    search.fit(X, y)
    best = search.best_estimator_
    assert best.posterior_depth_.shape == (5,)
    masked = clone(search.estimator).set_params(prior=masked_prior).fit(X, y)
    assert np.all(masked.posterior_depth_[3:] == 0.0)


@both
def test_clone_keeps_params_unchanged(Estimator):
    prior = np.array([1.0, 0.0, 1.0])
    est = Estimator(max_depth=2, prior=prior, optimizer__weight_decay=1e-4)
    params = clone(est).get_params()
    assert params["prior"] is not prior and np.array_equal(params["prior"], prior)
    assert params["optimizer__weight_decay"] == 1e-4
    assert "_params_to_validate" not in params


# -- sample weights -------------------------------------------------------------


@both
def test_unit_sample_weights_change_nothing(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    plain = Estimator(**fast_params).fit(X, y)
    ones = Estimator(**fast_params).fit(X, y, sample_weight=np.ones(len(y)))
    assert_same_predictions(ones, plain, X, rtol=1e-5, atol=1e-6)


@both
def test_sample_weight_routed_through_pipeline_and_grid_search(
    Estimator, estimator_data, fast_params
):
    X, y = estimator_data
    w = _uneven_weights(Estimator, y)
    pipe = make_pipeline(StandardScaler(), Estimator(**fast_params))
    pipe.fit(X, y, **{f"{Estimator.__name__.lower()}__sample_weight": w})
    search = GridSearchCV(Estimator(**fast_params), {"width": [8, 16]}, cv=2)
    search.fit(X, y, sample_weight=w)
    assert search.best_estimator_.posterior_depth_.shape == (5,)


@both
def test_metadata_routing_request(Estimator):
    # skorch's NeuralNet removes partial_fit's ``classes`` from the routing,
    # which raises unless the subclass's partial_fit takes it; scikit-learn
    # 1.6 builds every method's request for GridSearchCV's default scorer.
    with sklearn.config_context(enable_metadata_routing=True):
        est = Estimator().set_fit_request(sample_weight=True)
        routing = est.get_metadata_routing()
    assert routing.consumes("fit", ["sample_weight", "classes"]) == {"sample_weight"}
    assert routing.consumes("partial_fit", ["sample_weight", "classes"]) == set()


@both
@pytest.mark.filterwarnings("error::UserWarning")
def test_sample_weight_with_metadata_routing(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    w = _uneven_weights(Estimator, y)
    with sklearn.config_context(enable_metadata_routing=True):
        scaler = StandardScaler().set_fit_request(sample_weight=False)
        est = Estimator(**fast_params).set_fit_request(sample_weight=True)
        pipe = make_pipeline(scaler, est).fit(X, y, sample_weight=w)
        est = clone(est).set_score_request(sample_weight=True)
        search = GridSearchCV(est, {"width": [8, 16]}, cv=2)
        search.fit(X, y, sample_weight=w)
    # The weights reached the estimator (and not the scaler): the same fit
    # as with the weights passed directly, another one without them.
    X_scaled = StandardScaler().fit_transform(X)
    weighted = Estimator(**fast_params).fit(X_scaled, y, sample_weight=w)
    unweighted = Estimator(**fast_params).fit(X_scaled, y)
    assert_array_equal(pipe[-1].posterior_depth_, weighted.posterior_depth_)
    assert not np.array_equal(pipe[-1].posterior_depth_, unweighted.posterior_depth_)
    best = Estimator(**{**fast_params, **search.best_params_})
    best.fit(X, y, sample_weight=w)
    assert_array_equal(search.best_estimator_.posterior_depth_, best.posterior_depth_)


@both
def test_sample_weight_with_internal_validation_split(
    Estimator, estimator_data, fast_params
):
    X, y = estimator_data
    est = Estimator(**fast_params, train_split=_valid_split(Estimator, 0.2))
    est.fit(X, y, sample_weight=np.linspace(0.5, 2, len(y)))
    assert est.n_train_ == 160
    assert len(est.history[:, "valid_loss"]) == fast_params["max_epochs"]
    if _is_classifier(Estimator):
        assert len(est.history[:, "valid_acc"]) == fast_params["max_epochs"]


@both
@pytest.mark.parametrize(
    "weights, match",
    [
        (np.zeros(200), "non-zero"),
        (-np.ones(200), "[Nn]egative"),
        (np.ones(3), "shape"),
    ],
)
def test_bad_sample_weight(Estimator, estimator_data, fast_params, weights, match):
    X, y = estimator_data
    with pytest.raises(ValueError, match=match):
        Estimator(**fast_params).fit(X, y, sample_weight=weights)


@both
def test_last_batch_of_one_row_trains(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    # 129 rows in batches of at most 128: 65 + 64 (equal batches), no 1-row one.
    est = Estimator(**fast_params, batch_size=128).fit(X[:129], y[:129])
    assert est.history[-1, "train_batch_count"] == 2
    # 5 rows in batches of at most 2: 2 + 2 + 1, the 1-row batch dropped.
    est = Estimator(**fast_params, batch_size=2).fit(X[:5], y[:5])
    assert est.history[-1, "train_batch_count"] == 2
    est = Estimator(**fast_params, batch_size=-1).fit(X[:2], y[:2])
    # both rows, in one batch, every epoch
    assert est.n_train_ == 2
    assert est.history[:, "train_batch_count"] == [1] * fast_params["max_epochs"]


# -- reproducibility ----------------------------------------------------------


@both
def test_same_seed_same_result_and_global_rng_untouched(
    Estimator, estimator_data, fast_params
):
    X, y = estimator_data
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = Estimator(**fast_params).fit(X, y)
    b = Estimator(**fast_params).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert_array_equal(np.random.get_state()[1], np_state)
    assert_array_equal(a.posterior_depth_, b.posterior_depth_)
    assert_same_predictions(a, b, X)
    c = Estimator(**{**fast_params, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a.posterior_depth_, c.posterior_depth_)


@both
def test_random_state_none_draws_from_numpy_global_rng(
    Estimator, estimator_data, fast_params
):
    X, y = estimator_data
    params = {**fast_params, "random_state": None, "max_epochs": 2}
    np.random.seed(7)
    a = Estimator(**params).fit(X, y)
    np.random.seed(7)
    b = Estimator(**params).fit(X, y)
    assert_same_predictions(a, b, X)


@both
def test_random_state_instance(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    params = {**fast_params, "max_epochs": 2}
    a = Estimator(**{**params, "random_state": np.random.RandomState(3)})
    b = Estimator(**{**params, "random_state": np.random.RandomState(3)})
    assert_same_predictions(a.fit(X, y), b.fit(X, y), X)


# -- persistence and devices --------------------------------------------------


def test_pickle_round_trip(fitted, spirals_small):
    X, _ = spirals_small
    loaded = pickle.loads(pickle.dumps(fitted))
    assert_same_predictions(loaded, fitted, X)
    assert loaded.depth_ == fitted.depth_
    assert_array_equal(loaded.posterior_depth_, fitted.posterior_depth_)


@both
def test_pickled_with_cuda_device_loads_on_cpu(Estimator, estimator_data, fast_params):
    if torch.cuda.is_available():
        pytest.skip("needs a CPU-only machine")
    X, y = estimator_data
    est = Estimator(**fast_params).fit(X, y)
    expected = predictions(est, X)
    est.device = "cuda"  # as if trained on a GPU
    payload = pickle.dumps(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch's DeviceWarning about the fallback
        loaded = pickle.loads(payload)
    assert str(loaded.device) == "cpu"
    for got, want in zip(predictions(loaded, X), expected, strict=True):
        assert_allclose(got, want)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device")
@both
def test_fit_on_cuda_then_load_on_a_cpu_only_process(
    Estimator, estimator_data, fast_params, tmp_path
):
    X, y = estimator_data
    est = Estimator(**fast_params, device="cuda").fit(X, y)
    # batches are sliced from tensors moved to the GPU once
    Xb, _ = next(iter(est.get_iterator(est.get_dataset(X, y), training=True)))
    assert Xb.device.type == "cuda"
    assert next(est.module_.parameters()).device.type == "cuda"
    assert isinstance(est.posterior_depth_, np.ndarray)
    predict = "predict_proba" if _is_classifier(Estimator) else "predict"
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


# -- skorch callbacks, partial_fit and warm_start -------------------------------


@both
def test_early_stopping_restores_best_and_q_follows(
    Estimator, estimator_data, fast_params
):
    X, y = estimator_data
    est = Estimator(
        **{**fast_params, "max_epochs": 40},
        train_split=_valid_split(Estimator, 0.25),
        callbacks=[("es", _early_stopping(Estimator, patience=3))],
    ).fit(X, y)
    assert len(est.history) < 40  # stopped early
    # q is read after the restore, from the restored module
    with torch.no_grad():
        q = torch.softmax(est.module_.depth_logits, 0).double().numpy()
    assert_allclose(est.posterior_depth_, q / q.sum(), rtol=1e-6)


@both
def test_checkpoint_load_best(Estimator, estimator_data, fast_params, tmp_path):
    X, y = estimator_data
    est = Estimator(
        **fast_params,
        train_split=_valid_split(Estimator, 0.25),
        callbacks=[("cp", Checkpoint(dirname=str(tmp_path), load_best=True))],
    ).fit(X, y)
    assert (tmp_path / "params.pt").exists()
    shape = (len(X), 2) if _is_classifier(Estimator) else (len(X),)
    assert predictions(est, X)[0].shape == shape


@both
def test_print_log_is_silent_at_verbose_0_and_prints_otherwise(
    Estimator, estimator_data, fast_params, capsys
):
    X, y = estimator_data
    params = {**fast_params, "max_epochs": 2}
    Estimator(**params).fit(X, y)
    assert capsys.readouterr().out == ""
    Estimator(**params, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and len(out.strip().splitlines()) == 4
    lines = []
    Estimator(**params, callbacks__print_log__sink=lines.append).fit(X, y)
    assert len(lines) == 4 and "train_loss" in lines[0]  # a custom sink still logs


@both
def test_partial_fit_accumulates_n_train_and_continues(
    Estimator, estimator_data, fast_params
):
    X, y = estimator_data
    first_call = {"classes": [0, 1]} if _is_classifier(Estimator) else {}
    est = Estimator(**{**fast_params, "max_epochs": 3})
    est.partial_fit(X[:100], y[:100], **first_call)
    first = est.module_.input.weight.detach().clone()
    assert est.n_train_ == 100
    est.partial_fit(X[100:], y[100:])
    assert est.n_train_ == 200
    assert not torch.equal(first, est.module_.input.weight)
    assert len(est.history) == 6


@both
def test_warm_start_refit_continues(Estimator, estimator_data, fast_params):
    X, y = estimator_data
    est = Estimator(**{**fast_params, "max_epochs": 3}, warm_start=True)
    est.fit(X, y)
    weight = est.module_.input.weight.detach().clone()
    est.fit(X, y)
    assert len(est.history) == 6 and est.n_train_ == 200
    assert not torch.equal(weight, est.module_.input.weight)


# -- bad input ------------------------------------------------------------------


@both
@pytest.mark.parametrize(
    "X_bad, match",
    [
        (np.array([[np.nan, 1.0]] * 10), "NaN"),
        (np.array([[np.inf, 1.0]] * 10), "infinity"),
        (np.empty((0, 2)), "0 sample"),
        (np.ones((1, 2)), "n_samples=1"),
    ],
)
@pytest.mark.parametrize("blocks", [None, "ard"])
def test_bad_training_data(Estimator, fast_params, X_bad, match, blocks):
    est = Estimator(**fast_params, sparse_blocks=blocks)
    with pytest.raises(ValueError, match=match):
        est.fit(X_bad, np.arange(len(X_bad)) % 2)


@both
@pytest.mark.parametrize("blocks", [None, "ard"])
def test_sparse_input_rejected(Estimator, estimator_data, fast_params, blocks):
    X, y = estimator_data
    est = Estimator(**fast_params, sparse_blocks=blocks)
    with pytest.raises(TypeError, match="[Ss]parse"):
        est.fit(sp.csr_matrix(X), y)


@both
@pytest.mark.parametrize("blocks", [None, "ard"])
def test_non_numeric_column_rejected(Estimator, fast_params, blocks):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    est = Estimator(**fast_params, sparse_blocks=blocks)
    with pytest.raises(ValueError, match=r"non-numeric columns: \['b'\]"):
        est.fit(df, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="must contain only numeric"):
        est.fit(np.array([["a", "b"], ["c", "d"]]), [0, 1])


def test_wrong_feature_count_at_predict(fitted):
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.zeros((3, 5)))


@both
@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"prior": "gaussian"}, ValueError, "prior"),
        ({"prior": "nope"}, ValueError, "prior"),
        ({"prior": [1, 1]}, ValueError, "prior"),
        ({"prior": [1, 1, 1, 1, -1]}, ValueError, "prior"),
        ({"max_depth": -1}, ValueError, "max_depth"),
        ({"max_depth": -2}, ValueError, "max_depth"),
        ({"max_depth": 2.5}, TypeError, "max_depth"),
        ({"prune_threshold": 0.0}, ValueError, "prune_threshold"),
        ({"prune_threshold": 1.5}, ValueError, "prune_threshold"),
        ({"prune_threshold": 2}, ValueError, "prune_threshold"),
        ({"width": 0}, ValueError, "width"),
        ({"depth_lr": -1.0}, ValueError, "depth_lr"),
        ({"depth_warmup": 1.5}, ValueError, "depth_warmup"),
        ({"depth_warmup": -2}, ValueError, "depth_warmup"),
        ({"kl_weight": -1.0}, ValueError, "kl_weight"),
        ({"lr": 0}, ValueError, "lr"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"random_state": "seed"}, ValueError, "seed"),
        ({"sparse_blocks": "l1"}, ValueError, "sparse_blocks"),
        ({"sparse_blocks": True}, ValueError, "sparse_blocks"),
        ({"sparsity_strength": -1.0}, ValueError, "sparsity_strength"),
        ({"sparsity_strength": "big"}, TypeError, "sparsity_strength"),
        ({"sparse_blocks": "ard", "module__hidden": 0}, ValueError, "hidden"),
    ],
)
def test_invalid_params_raise_at_fit(
    Estimator, estimator_data, fast_params, params, error, match
):
    X, y = estimator_data
    est = Estimator(**{**fast_params, **params})  # construction never fails
    with pytest.raises(error, match=match):
        est.fit(X, y)


# -- ARD blocks -----------------------------------------------------------------


@both
def test_ard_estimator_pickles_and_grid_searches(Estimator, estimator_data, ard_params):
    X, y = estimator_data
    est = Estimator(**{**ard_params, "max_epochs": 10}).fit(X, y)
    loaded = pickle.loads(pickle.dumps(est))
    assert_allclose(loaded.predict(X), est.predict(X))
    assert loaded.n_params_pruned_ == est.n_params_pruned_
    search = GridSearchCV(
        Estimator(**{**ard_params, "max_epochs": 5}),
        {"sparsity_strength": [0.1, 1.0]},
        cv=2,
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 2 and np.isfinite(scores).all()
    # refit on all rows with the best strength
    best = search.best_estimator_
    assert best.sparsity_strength == search.best_params_["sparsity_strength"]
    assert best.n_train_ == len(X)
