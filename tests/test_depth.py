# SPDX-License-Identifier: MIT
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sklearn_depth._depth import (
    check_depth_params,
    fold_log_tail,
    fold_tail,
    kl_divergence,
    log_posterior,
    make_log_prior,
    marginal_log_proba,
    select_depth,
)


def test_uniform_prior():
    assert_allclose(np.exp(make_log_prior("uniform", 3)), [0.25] * 4)


@pytest.mark.parametrize("max_depth", [0, 3, 10])
def test_auto_prior_is_uniform_up_to_ten_blocks(max_depth):
    assert_allclose(
        np.exp(make_log_prior("auto", max_depth)), 1 / (max_depth + 1), rtol=1e-12
    )


def test_auto_prior_decays_geometrically_beyond_ten_blocks():
    p = np.exp(make_log_prior("auto", 40))
    assert_allclose(p[:11], p[0], rtol=1e-12)
    assert_allclose(p[11:] / p[10:-1], 0.85, rtol=1e-12)
    assert_allclose(p.sum(), 1.0)


def test_auto_prior_barely_changes_with_the_ceiling():
    # What makes the selected depth stable under a larger max_depth: the
    # mass of the depths both ceilings share hardly moves.
    p20 = np.exp(make_log_prior("auto", 20))
    p40 = np.exp(make_log_prior("auto", 40))
    assert (p40[:21] / p20).min() > 0.9
    uniform_ratio = np.exp(
        make_log_prior("uniform", 40) - make_log_prior("uniform", 20)[0]
    )
    assert uniform_ratio.max() < 0.52  # a uniform prior halves every share


def test_geometric_prior_matches_hand_computation():
    r = 0.85
    weights = np.array([r, r**2, r**3])
    assert_allclose(
        np.exp(make_log_prior("geometric:0.85", 2)), weights / weights.sum()
    )


def test_geometric_prior_never_underflows_to_a_mask():
    log_prior = make_log_prior("geometric:0.001", 200)
    assert np.all(np.isfinite(log_prior))
    assert_allclose(np.exp(log_prior).sum(), 1.0)


def test_array_prior_is_normalised_and_zeros_are_masks():
    log_prior = make_log_prior([2, 0, 2, 4], 3)
    assert_allclose(np.exp(log_prior), [0.25, 0, 0.25, 0.5])
    assert np.isneginf(log_prior[1])


@pytest.mark.parametrize(
    "prior, match",
    [
        ("gaussian", "prior must be"),
        ("geometric", "positive number"),
        ("geometric:-1", "positive number"),
        ("geometric:abc", "positive number"),
        ("uniform:2", "prior must be"),
        ("auto:3", "prior must be"),
        ([1, 1], r"shape \(max_depth \+ 1,\)"),
        ([1, -1, 1, 1], "non-negative"),
        ([1, np.nan, 1, 1], "non-negative"),
        ([0, 0, 0, 0], "positive weight"),
        (["a", "b", "c", "d"], "prior must be"),
    ],
)
def test_invalid_prior(prior, match):
    with pytest.raises(ValueError, match=match):
        make_log_prior(prior, 3)


def test_log_posterior_masks_forbidden_depths():
    logits = torch.tensor([0.0, 1.0, 2.0, 3.0])
    log_prior = torch.tensor([0.0, -np.inf, 0.0, -np.inf])
    q = log_posterior(logits, log_prior).exp()
    e = np.exp([0.0, 2.0])
    assert_allclose(q.numpy(), [e[0] / e.sum(), 0, e[1] / e.sum(), 0], rtol=1e-6)
    assert q[1].item() == 0.0 and q[3].item() == 0.0


def test_kl_matches_hand_computation():
    q = np.array([0.5, 0.25, 0.25])
    p = np.array([0.2, 0.3, 0.5])
    expected = np.sum(q * np.log(q / p))
    kl = kl_divergence(torch.tensor(np.log(q)), torch.tensor(np.log(p)))
    assert_allclose(kl.item(), expected)


def test_kl_ignores_masked_depths_and_has_finite_gradient():
    logits = torch.zeros(4, requires_grad=True)
    log_prior = torch.log(torch.tensor([0.5, 0.0, 0.5, 0.0]))
    kl = kl_divergence(log_posterior(logits, log_prior), log_prior)
    kl.backward()
    assert kl.item() == pytest.approx(0.0, abs=1e-7)
    assert torch.all(torch.isfinite(logits.grad))


def test_select_depth_threshold_rule():
    q = [0.05, 0.3, 0.31, 0.34]
    assert select_depth(q, 1.0) == 3
    assert select_depth(q, 0.9) == 2  # 0.31 >= 0.9 * 0.34, 0.3 < 0.306
    assert select_depth(q, 0.85) == 1


def test_fold_tail():
    assert_allclose(fold_tail([0.1, 0.2, 0.3, 0.4], 2), [0.1, 0.2, 0.7, 0.0])
    assert_allclose(fold_tail([0.1, 0.2, 0.3, 0.4], 3), [0.1, 0.2, 0.3, 0.4])
    assert_allclose(fold_tail([0.1, 0.2, 0.3, 0.4], 0), [1.0, 0, 0, 0])


def test_fold_log_tail_agrees_with_fold_tail():
    q = np.array([0.1, 0.2, 0.3, 0.4])
    folded = fold_log_tail(torch.tensor(np.log(q)), 1).exp().numpy()
    assert_allclose(folded, fold_tail(q, 1)[:2])


def test_fold_log_tail_with_masked_tail():
    log_q = torch.log(torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64))
    assert_allclose(fold_log_tail(log_q, 2).exp().numpy(), [0.5, 0.5, 0.0])


def test_marginal_log_proba_matches_hand_computation():
    proba = np.array([[[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]])  # (1, 3 depths, 2)
    q = np.array([0.5, 0.25, 0.25])
    expected = (q[:, None] * proba[0]).sum(0)
    out = marginal_log_proba(torch.tensor(np.log(proba)), torch.tensor(np.log(q)))
    assert_allclose(out.exp().numpy()[0], expected)


def test_marginal_log_proba_ignores_zero_weight_depths():
    log_proba = torch.log(torch.tensor([[[0.9, 0.1], [0.2, 0.8]]], dtype=torch.float64))
    log_q = torch.log(torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert_allclose(marginal_log_proba(log_proba, log_q).exp().numpy(), [[0.9, 0.1]])


@pytest.mark.parametrize(
    "max_depth, threshold, error",
    [
        (-1, 0.95, ValueError),
        (2.5, 0.95, TypeError),
        (True, 0.95, TypeError),
        (3, 0.0, ValueError),
        (3, 1.5, ValueError),
        (3, "high", TypeError),
    ],
)
def test_check_depth_params(max_depth, threshold, error):
    with pytest.raises(error, match="max_depth|prune_threshold"):
        check_depth_params(max_depth, threshold)
