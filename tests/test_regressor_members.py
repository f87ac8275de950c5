"""Packed ensemble members in the regressor: a Gaussian mixture over
(depth, member) with a shared noise scale."""

import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from scipy.stats import norm
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from sklearn_depth import DepthResMLP, DepthSearchRegressor, GaussianDepthELBO
from sklearn_depth._depth import mixture_moments
from sklearn_depth._inference import predict_outputs

TINY = dict(max_depth=3, width=8, max_epochs=40, depth_warmup=5)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X)[:300], y[:300]


@pytest.fixture(scope="module")
def fitted(diabetes):
    X, y = diabetes
    return DepthSearchRegressor(n_members=3, random_state=0, **TINY).fit(X, y)


def test_a_gaussian_network_keeps_its_members_apart_in_evaluation_mode():
    torch.manual_seed(0)
    net = DepthResMLP(3, 2, max_depth=2, width=8, learn_noise=True, n_members=3)
    X = torch.randn(6, 3)
    with torch.no_grad():
        evaluated = net.eval()(X)
        net.train()  # every member's means, batch norm still in eval mode
        for block in net.blocks:
            block.norm.eval()
        trained = net(X)
    assert evaluated.shape == (6, 3, 3, 2)
    assert torch.equal(evaluated, trained)
    # The exported body returns them apart too.
    body = net.export_body(2)
    assert_allclose(body(X).detach(), evaluated, rtol=1e-5, atol=1e-6)


def test_gaussian_elbo_averages_the_members_and_mixes_their_densities():
    torch.manual_seed(0)
    y_pred = torch.randn(8, 3, 2, 1, dtype=torch.float64)  # rows, depths, members
    y = torch.randn(8, 1, dtype=torch.float64)
    log_noise = torch.tensor([-0.3], dtype=torch.float64)
    log_q = log_prior = torch.full((3,), -np.log(3.0), dtype=torch.float64)
    crit = GaussianDepthELBO()
    loss = crit(y_pred, y, log_q, log_prior, 100, log_noise=log_noise)
    per_member = [
        crit(y_pred[:, :, m], y, log_q, log_prior, 100, log_noise=log_noise)
        for m in range(2)
    ]
    assert_allclose(loss, torch.stack(per_member).mean(), rtol=1e-12)
    # Held-out rows score the mixture of the members' Gaussians.
    density = norm.pdf(y.numpy()[:, None, None, 0], y_pred[..., 0], np.exp(-0.3))
    expected = -np.log((density.mean(axis=2) / 3).sum(axis=1)).mean()
    nll = crit.marginal_nll(y_pred, y, log_q, log_noise=log_noise)
    assert_allclose(nll, expected, rtol=1e-12)


def test_mixture_moments_over_depths_and_members():
    rng = np.random.RandomState(0)
    outputs = rng.randn(5, 3, 4, 2)  # rows, depths, members, outputs
    q = np.array([0.2, 0.5, 0.3])
    weights = np.repeat(q, 4) / 4  # (depth, member) pairs, equal within a depth
    flat = outputs.reshape(5, 12, 2)
    mean = np.einsum("nco,c->no", flat, weights)
    var = np.einsum("nco,c->no", (flat - mean[:, None]) ** 2, weights)
    got = mixture_moments(outputs, q)
    assert_allclose(got[0], mean, rtol=1e-12)
    assert_allclose(got[1], var, rtol=1e-12)
    # The law of total variance: the members' spread within each depth plus
    # the spread of the depths' means.
    depth_mean = outputs.mean(axis=2)
    within = np.einsum("ndo,d->no", outputs.var(axis=2), q)
    between = np.einsum("ndo,d->no", (depth_mean - mean[:, None]) ** 2, q)
    assert_allclose(got[1], within + between, rtol=1e-12)
    torch_got = mixture_moments(torch.as_tensor(outputs), torch.as_tensor(q))
    assert_allclose(torch_got[1].numpy(), var, rtol=1e-12)


def test_the_predictive_is_the_mixture_over_depths_and_members(fitted, diabetes):
    X = diabetes[0].astype(np.float32)  # as predict's input check casts it
    module = fitted.module_.eval()
    outputs = predict_outputs(module, X, device="cpu", batch_size=64).numpy()
    assert outputs.shape == (300, fitted.depth_ + 1, 3, 1)
    # The NumPy path computes what the module computes.
    assert_allclose(fitted._outputs(X), outputs, rtol=1e-10, atol=1e-10)
    q = fitted.pruned_posterior_depth_[: fitted.depth_ + 1]
    mean, var = mixture_moments(outputs, q)
    y_mean, y_std = fitted.predict(X, return_std=True)
    scale = fitted.y_scale_
    assert_allclose(y_mean, mean[:, 0] * scale + fitted.y_mean_, rtol=1e-10)
    noise, model = fitted.predict_std_components(X)
    assert_allclose(model, np.sqrt(var[:, 0]) * scale, rtol=1e-10)
    assert_allclose(y_std**2, noise**2 + model**2, rtol=1e-10)
    # Members disagree: the model part is never 0, even at one depth.
    assert np.all(model > 0)
    assert_allclose(fitted.score_samples(X), -np.sqrt(var[:, 0]), rtol=1e-10)


def test_per_depth_stages_and_export_with_members(fitted, diabetes):
    X, _ = diabetes
    y_mean, y_std = fitted.predict(X, return_std=True)
    per_depth = fitted.predict_per_depth(X)
    assert per_depth.shape == (300, 4)  # the members' mean of every depth
    q = fitted.pruned_posterior_depth_[: fitted.depth_ + 1]
    assert_allclose(per_depth[:, : fitted.depth_ + 1] @ q, y_mean, rtol=1e-10)
    stages = list(fitted.staged_predict(X))
    assert len(stages) == fitted.depth_ + 1
    assert_allclose(stages[-1], y_mean, rtol=1e-12)
    mean, std = fitted.export_pruned()(torch.as_tensor(X, dtype=torch.float32))
    assert_allclose(mean.detach(), y_mean, rtol=1e-4)
    assert_allclose(std.detach(), y_std, rtol=1e-4)


def test_a_row_predicts_the_same_in_any_batch(fitted, diabetes):
    X, _ = diabetes
    rows = [fitted.predict(X[i : i + 1], return_std=True) for i in range(8)]
    mean, std = fitted.predict(X[:8], return_std=True)
    assert_allclose(np.concatenate([r[0] for r in rows]), mean, rtol=1e-12)
    assert_allclose(np.concatenate([r[1] for r in rows]), std, rtol=1e-12)


def test_each_member_holds_out_rows_and_scores_them(fitted):
    losses = fitted.history[:, "valid_loss"]
    assert len(losses) == len(fitted.history)
    assert np.all(np.isfinite(losses))
    assert fitted._member_rows is None


def test_regressor_members_pickle_and_reproduce(fitted, diabetes):
    X, y = diabetes
    restored = pickle.loads(pickle.dumps(fitted))
    assert_allclose(restored.predict(X), fitted.predict(X))
    again = DepthSearchRegressor(n_members=3, random_state=0, **TINY).fit(X, y)
    assert_allclose(again.predict(X, return_std=True), fitted.predict(X, True))


class _Uncalibrated(DepthSearchRegressor):
    def _calibrate(self, dataset_valid):
        pass


def test_the_members_noise_scale_is_shrunk_to_their_out_of_bag_rows(fitted, diabetes):
    X, y = diabetes
    raw = _Uncalibrated(n_members=3, random_state=0, **TINY).fit(X, y)
    ratio = fitted.noise_std_ / raw.noise_std_
    assert 0.5 <= ratio[0] < 1.0  # members' spread over-disperses: shrunk
    assert_allclose(fitted.predict(X), raw.predict(X), rtol=1e-12)
    # Everything that predicts reads the shrunk scale, the export too.
    module_noise = fitted.module_.log_noise.detach().double().exp().numpy()
    assert_allclose(module_noise * fitted.y_scale_, fitted.noise_std_, rtol=1e-6)
    # partial_fit holds no rows out: nothing to calibrate on.
    partial = DepthSearchRegressor(n_members=3, random_state=0, **TINY)
    partial.partial_fit(X, y)
    module_noise = partial.module_.log_noise.detach().double().exp().numpy()
    assert_allclose(module_noise * partial.y_scale_, partial.noise_std_, rtol=1e-6)


class _SubclassedMLP(DepthResMLP):
    """Not the exact DepthResMLP: predicts through torch, not NumPy."""


def test_the_torch_path_agrees_with_numpy(fitted, diabetes):
    X, y = diabetes
    custom = DepthSearchRegressor(
        module=_SubclassedMLP, n_members=3, random_state=0, **TINY
    ).fit(X, y)
    assert_allclose(
        custom.predict(X, return_std=True), fitted.predict(X, True), rtol=1e-8
    )


def test_auto_members_in_the_regressor(diabetes):
    X, y = diabetes
    assert DepthSearchRegressor(**TINY).fit(X, y).module_.n_members == 4
    ard = DepthSearchRegressor(sparse_blocks="ard", **TINY).fit(X, y)
    assert ard.module_.n_members == 1
    with pytest.raises(ValueError, match="n_members=2 needs a module"):
        DepthSearchRegressor(sparse_blocks="ard", n_members=2, **TINY).fit(X, y)


@pytest.mark.slow
def test_members_beat_one_network_on_held_out_likelihood():
    # Seeded: on Friedman #1 the members' mixture scores held-out rows
    # better than one network of the same width, on average over 3 seeds.
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(600, noise=1.0, random_state=0)
    X_test, y_test = X[400:], y[400:]
    gains = []
    for seed in range(3):
        lls = []
        for n_members in (1, 4):
            reg = DepthSearchRegressor(
                n_members=n_members, max_depth=4, max_epochs=150, random_state=seed
            ).fit(X[:400], y[:400])
            mean, std = reg.predict(X_test, return_std=True)
            lls.append(norm.logpdf(y_test, mean, std).mean())
        gains.append(lls[1] - lls[0])
    assert np.mean(gains) > 0, gains


def test_regressor_members_grow(diabetes):
    X, y = diabetes
    reg = DepthSearchRegressor(
        n_members=2, grow=True, initial_depth=1, random_state=0, **TINY
    ).fit(X, y)
    mean, std = reg.predict(X, return_std=True)
    assert np.isfinite(mean).all() and (std > 0).all()
    assert reg.posterior_depth_.shape == (reg.module_.grown_depth + 1,)
