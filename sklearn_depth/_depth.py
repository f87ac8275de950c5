# SPDX-License-Identifier: MIT
"""Depth maths of variational depth search, free of skorch and matplotlib.

A network of ``max_depth`` residual blocks defines ``max_depth + 1`` candidate
depths ``d = 0..max_depth``. This module builds the categorical prior ``p(d)``,
turns free logits into the variational posterior ``q(d)`` (honouring depths the
prior forbids), computes ``KL(q || p)``, selects a depth from ``q``, folds the
posterior mass beyond a cut onto the cut, and marginalises per-depth
log-probabilities over depth in log space.

Prior entries equal to zero are hard masks: the corresponding log-probability
is ``-inf`` and such depths are excluded from the softmax and from the KL,
so ``q`` puts exactly zero mass on them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from sklearn_depth._params import check_number

__all__ = [
    "make_log_prior",
    "log_posterior",
    "kl_divergence",
    "select_depth",
    "fold_tail",
    "fold_log_tail",
    "marginal_log_proba",
    "mixture_moments",
    "check_depth_params",
    "AUTO_PRIOR_FLAT_DEPTHS",
    "AUTO_PRIOR_TAIL_RATIO",
]

#: ``prior="auto"`` is uniform over depths ``0..AUTO_PRIOR_FLAT_DEPTHS`` (the
#: default ``max_depth``), so the default network keeps the uniform prior it
#: had before ``"auto"``. Each deeper depth is ``AUTO_PRIOR_TAIL_RATIO`` times
#: as likely as the one before (0.85, the ratio of the geometric prior in the
#: spiral experiments of Antorán et al. 2020). ``q`` starts at the prior, so a
#: larger ``max_depth`` no longer spreads the posterior's initial mass, and
#: with it the selected depth, over the extra blocks
#: (``benchmarks/defaults.py --max-depth 20 40``).
AUTO_PRIOR_FLAT_DEPTHS = 10
AUTO_PRIOR_TAIL_RATIO = 0.85


def make_log_prior(prior, max_depth: int) -> np.ndarray:
    """Build the log prior over depths ``0..max_depth``.

    Parameters
    ----------
    prior : str or array-like of shape (max_depth + 1,)
        ``"auto"``: uniform over depths ``0..10``, each deeper depth
        :data:`AUTO_PRIOR_TAIL_RATIO` (0.85) times as likely as the one
        before, so the prior is uniform for ``max_depth <= 10`` and a larger
        ceiling adds depths of vanishing weight; ``"uniform"``;
        ``"geometric:<r>"`` with ``0 < r`` giving ``p(d) ∝ r ** (d + 1)``
        (``r < 1`` favours shallow networks); or non-negative weights, one
        per depth, normalised internally. A zero weight forbids that depth.
    max_depth : int
        Number of residual blocks ``D``.

    Returns
    -------
    log_prior : ndarray of shape (max_depth + 1,)
        Normalised log-probabilities, ``-inf`` where the prior is zero.

    Raises
    ------
    ValueError
        If ``prior`` is not one of the accepted forms.

    Examples
    --------
    >>> import numpy as np
    >>> np.exp(make_log_prior([1, 1, 0, 2], max_depth=3)).round(2)
    array([0.25, 0.25, 0.  , 0.5 ])
    >>> p = np.exp(make_log_prior("auto", max_depth=12))  # flat to depth 10
    >>> (p / p[0]).round(4)[8:]
    array([1.    , 1.    , 1.    , 0.85  , 0.7225])
    """
    n_depths = max_depth + 1
    if isinstance(prior, str):
        log_weights = _preset_log_weights(prior, n_depths)
    else:
        try:
            weights = np.asarray(prior, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"prior must be 'auto', 'uniform', 'geometric:<r>' or an "
                f"array of non-negative weights; got {prior!r}."
            ) from exc
        if weights.shape != (n_depths,):
            raise ValueError(
                f"prior array must have shape (max_depth + 1,) = ({n_depths},); "
                f"got shape {weights.shape}."
            )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(
                f"prior array must contain finite, non-negative weights; got {weights}."
            )
        if weights.sum() <= 0:
            raise ValueError("prior array must have at least one positive weight.")
        with np.errstate(divide="ignore"):
            log_weights = np.log(weights)
    finite = np.isfinite(log_weights)
    shift = np.logaddexp.reduce(log_weights[finite])
    return np.where(finite, log_weights - shift, -np.inf)


def _preset_log_weights(prior: str, n_depths: int) -> np.ndarray:
    name, _, arg = prior.partition(":")
    if name == "uniform" and not arg:
        return np.zeros(n_depths)
    if name == "auto" and not arg:
        extra = np.maximum(np.arange(n_depths) - AUTO_PRIOR_FLAT_DEPTHS, 0)
        return np.log(AUTO_PRIOR_TAIL_RATIO) * extra
    if name == "geometric":
        try:
            ratio = float(arg)
        except ValueError:
            ratio = float("nan")
        if not (np.isfinite(ratio) and ratio > 0):
            raise ValueError(
                f"prior 'geometric:<r>' needs a positive number r; got {prior!r}."
            )
        # r ** (d + 1) in log space, so no depth underflows to a hard zero.
        return np.log(ratio) * (np.arange(n_depths) + 1)
    raise ValueError(
        f"prior must be 'auto', 'uniform', 'geometric:<r>' or an array of "
        f"non-negative weights; got {prior!r}."
    )


def log_posterior(logits: Tensor, log_prior: Tensor) -> Tensor:
    """Log of ``q = softmax(logits)`` restricted to depths the prior allows.

    Parameters
    ----------
    logits : Tensor of shape (n_depths,)
        Free variational parameters.
    log_prior : Tensor of shape (n_depths,)
        Log prior; ``-inf`` entries are masked out of ``q``.

    Returns
    -------
    log_q : Tensor of shape (n_depths,)
        ``-inf`` exactly where the prior is zero.
    """
    masked = logits.masked_fill(torch.isneginf(log_prior), float("-inf"))
    return torch.log_softmax(masked, dim=-1)


def kl_divergence(log_q: Tensor, log_prior: Tensor) -> Tensor:
    """``KL(q || p) = Σ_d q(d) (log q(d) − log p(d))`` over allowed depths.

    Depths with ``q(d) = 0`` contribute nothing (``0 · log 0 = 0``), which
    also covers depths masked by a zero prior.

    Parameters
    ----------
    log_q, log_prior : Tensor of shape (n_depths,)

    Returns
    -------
    kl : Tensor of shape ()
    """
    support = torch.isfinite(log_q)
    diff = torch.where(support, log_q - log_prior, torch.zeros_like(log_q))
    return (log_q.exp() * diff).sum()


def select_depth(q, prune_threshold: float) -> int:
    """Smallest depth whose posterior mass reaches a fraction of the mode.

    ``depth = min{d : q(d) >= prune_threshold * max q}``; ``prune_threshold=1``
    selects the (shallowest) mode.

    Parameters
    ----------
    q : array-like of shape (n_depths,)
        Posterior probabilities over depth.
    prune_threshold : float in (0, 1]

    Returns
    -------
    depth : int

    Examples
    --------
    >>> select_depth([0.1, 0.38, 0.4, 0.12], prune_threshold=0.95)
    1
    >>> select_depth([0.1, 0.38, 0.4, 0.12], prune_threshold=1.0)
    2
    """
    q = np.asarray(q, dtype=np.float64)
    return int(np.flatnonzero(q >= prune_threshold * q.max())[0])


def fold_tail(q, depth: int) -> np.ndarray:
    """Move the posterior mass of depths beyond ``depth`` onto ``depth``.

    Parameters
    ----------
    q : array-like of shape (n_depths,)
    depth : int

    Returns
    -------
    q_folded : ndarray of shape (n_depths,)
        ``q_folded[d] = q[d]`` for ``d < depth``,
        ``q_folded[depth] = Σ_{k >= depth} q[k]`` and zero beyond.

    Examples
    --------
    >>> fold_tail([0.1, 0.2, 0.3, 0.4], depth=1)
    array([0.1, 0.9, 0. , 0. ])
    """
    q = np.asarray(q, dtype=np.float64)
    folded = np.zeros_like(q)
    folded[:depth] = q[:depth]
    folded[depth] = q[depth:].sum()
    return folded


def fold_log_tail(log_q: Tensor, depth: int) -> Tensor:
    """Log-space :func:`fold_tail` that drops the depths beyond ``depth``.

    Parameters
    ----------
    log_q : Tensor of shape (n_depths,)
    depth : int

    Returns
    -------
    log_q_folded : Tensor of shape (depth + 1,)
    """
    tail = torch.logsumexp(log_q[depth:], dim=0, keepdim=True)
    return torch.cat([log_q[:depth], tail])


def marginal_log_proba(log_proba_per_depth: Tensor, log_q: Tensor) -> Tensor:
    """Marginalise per-depth log-probabilities over ``q`` in log space.

    ``log Σ_d q(d) p(y | x, d)`` computed with ``logsumexp``.

    Parameters
    ----------
    log_proba_per_depth : Tensor of shape (n_samples, n_depths, n_classes)
        Normalised log-probabilities of every depth.
    log_q : Tensor of shape (n_depths,)
        Log weights over depth (``-inf`` entries are ignored).

    Returns
    -------
    log_proba : Tensor of shape (n_samples, n_classes)
    """
    return torch.logsumexp(log_proba_per_depth + log_q[None, :, None], dim=1)


def depth_proba(logits: np.ndarray) -> np.ndarray:
    """Softmax of every depth's logits, laid out ``(n_classes, n_depths, n)``.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_depths, n_classes)

    Returns
    -------
    proba : ndarray of shape (n_classes, n_depths, n_samples)
        Works on the ``(n_classes, n_depths, n_samples)`` view of
        ``logits``: reductions over a short last axis are slow in NumPy, over
        the first one they are not (and the NumPy forward pass lays its
        outputs out that way).
    """
    # C-contiguous whatever the input's layout, so that the same values give
    # the same sums (NumPy's loops follow the memory order).
    by_class = np.ascontiguousarray(logits.transpose(2, 1, 0))
    proba = np.exp(by_class - by_class.max(axis=0))
    proba /= proba.sum(axis=0)
    return proba


def marginal_proba(logits: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Class probabilities marginalised over depth, from per-depth logits.

    ``Σ_d q(d) softmax(f_d(x))``, in NumPy: the prediction path of the
    classifier (training and the exported module use
    :func:`marginal_log_proba`, in log space).

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_depths, n_classes)
        Logits of every depth.
    q : ndarray of shape (n_depths,)
        Weights over depth, summing to 1.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Rows sum to 1.

    Examples
    --------
    >>> logits = np.array([[[0.0, 0.0], [0.0, np.log(3.0)]]])
    >>> marginal_proba(logits, np.array([0.5, 0.5]))
    array([[0.375, 0.625]])
    """
    return _mixture(depth_proba(logits), q).T.copy()


def _mixture(proba: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``Σ_d q(d) proba[:, d]``, renormalised: shape ``(n_classes, n_samples)``."""
    # einsum's own loop, not BLAS: the same sums whatever BLAS's threads.
    marginal = np.einsum("d,cdn->cn", q, proba)
    marginal /= marginal.sum(axis=0)
    return marginal


def fit_temperature(
    logits: np.ndarray, y: np.ndarray, q: np.ndarray, sample_weight=None, upper=20.0
) -> float:
    """The temperature ``T >= 1`` that best predicts held-out labels.

    Minimises the (weighted) negative log-likelihood of
    :func:`marginal_proba` with every depth's logits divided by ``T``, over
    ``1 <= T <= upper`` (a bounded search on ``log T``). ``T`` never falls
    below 1: a network stopped early on its held-out rows is still
    over-confident far more often than under-confident, and on a few
    perfectly separated held-out rows a free fit would sharpen without
    bound.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_depths, n_classes)
    y : ndarray of shape (n_samples,)
        Encoded labels, ``0..n_classes - 1``.
    q : ndarray of shape (n_depths,)
        Weights over depth, summing to 1.
    sample_weight : ndarray of shape (n_samples,), default=None
    upper : float, default=20.0
        Largest temperature considered.

    Returns
    -------
    temperature : float

    Examples
    --------
    >>> logits = np.array([[[4.0, -4.0]], [[4.0, -4.0]], [[-4.0, 4.0]], [[4.0, -4.0]]])
    >>> T = fit_temperature(logits, np.array([0, 1, 1, 0]), np.array([1.0]))
    >>> bool(T > 1)  # one confident mistake in four: soften
    True
    """
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(y))

    def nll(log_t):
        proba = marginal_proba(logits / np.exp(log_t), q)[rows, y]
        log_p = np.log(np.maximum(proba, np.finfo(np.float64).tiny))
        return -np.average(log_p, weights=sample_weight)

    if nll(0.0) <= nll(1e-3):  # the likelihood does not ask for softening
        return 1.0
    result = minimize_scalar(
        nll, bounds=(0.0, np.log(upper)), method="bounded", options={"xatol": 1e-3}
    )
    return float(np.exp(result.x)) if result.fun < nll(0.0) else 1.0


def entropy_components(logits: np.ndarray, q: np.ndarray):
    """Split the marginal's entropy into its expected and its depth part.

    ``H[Σ_d q(d) p_d] = Σ_d q(d) H[p_d] + I(y; d)``: the expected entropy of
    the depths' predictions (aleatoric) plus the mutual information between
    the label and the depth (epistemic: how much the depths disagree).

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_depths, n_classes)
    q : ndarray of shape (n_depths,)
        Weights over depth, summing to 1.

    Returns
    -------
    expected_entropy, mutual_information : ndarray of shape (n_samples,)
        In nats; their sum is the entropy of :func:`marginal_proba`.

    Examples
    --------
    >>> logits = np.array([[[0.0, 0.0], [0.0, 0.0]], [[9.0, -9.0], [-9.0, 9.0]]])
    >>> aleatoric, epistemic = entropy_components(logits, np.array([0.5, 0.5]))
    >>> np.round(aleatoric, 3), np.round(epistemic, 3)
    (array([0.693, 0.   ]), array([0.   , 0.693]))
    """
    proba = depth_proba(logits)
    if len(q) == 1:  # one depth: nothing to disagree about
        return _entropy(proba[:, 0], axis=0), np.zeros(proba.shape[2])
    expected = np.einsum("d,dn->n", q, _entropy(proba, axis=0))
    total = _entropy(_mixture(proba, q), axis=0)
    return expected, np.maximum(total - expected, 0.0)


def _entropy(proba: np.ndarray, axis: int) -> np.ndarray:
    # Of the distributions along ``axis``, in nats (0 log 0 = 0).
    return -(proba * np.log(np.where(proba > 0, proba, 1.0))).sum(axis=axis)


def member_divergence(logits: np.ndarray, q: np.ndarray) -> np.ndarray:
    """How much packed ensemble members disagree, averaged over depth.

    ``Σ_d q(d) JS_d``, with ``JS_d = H[(1/K) Σ_m p_{m,d}] - (1/K) Σ_m
    H[p_{m,d}]`` the Jensen-Shannon divergence of the members' class
    probabilities at depth ``d``: the mutual information between the label
    and the member, given the depth.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_depths, n_members, n_classes)
    q : ndarray of shape (n_depths,)
        Weights over depth, summing to 1.

    Returns
    -------
    divergence : ndarray of shape (n_samples,)
        In nats, at least 0.

    Examples
    --------
    >>> agree = np.zeros((1, 1, 2, 2))  # two members, both uniform
    >>> disagree = np.array([[[[9.0, -9.0], [-9.0, 9.0]]]])
    >>> q = np.array([1.0])
    >>> member_divergence(agree, q), np.round(member_divergence(disagree, q), 3)
    (array([0.]), array([0.693]))
    """
    proba = np.exp(logits - logits.max(axis=-1, keepdims=True))
    proba /= proba.sum(axis=-1, keepdims=True)
    within = _entropy(proba, axis=-1).mean(axis=2)
    divergence = _entropy(proba.mean(axis=2), axis=-1) - within
    return np.maximum(divergence, 0.0) @ q


def mixture_moments(outputs, weights):
    """Mean and variance over depth of a mixture of per-depth predictions.

    ``mean = Σ_d w(d) f_d`` and ``var = Σ_d w(d) (f_d − mean)²``: the
    regressor's predictive mean and the depth part of its variance (the
    noise variance is added to it separately). With packed ensemble
    members every member ``m`` of depth ``d`` weighs ``w(d) / K``, so the
    variance is the law of total variance over (depth, member): the
    members' spread within each depth plus the depths' spread.

    Parameters
    ----------
    outputs : Tensor or ndarray of shape (n_samples, n_depths, n_outputs)
        Predictions ``f_d(x)`` of every depth; ``(n_samples, n_depths,
        n_members, n_outputs)`` for every member's.
    weights : Tensor or ndarray of shape (n_depths,)
        Weights over depth, summing to 1, of the same kind and dtype.

    Returns
    -------
    mean, depth_var : Tensor or ndarray of shape (n_samples, n_outputs)

    Examples
    --------
    >>> import torch
    >>> outputs = torch.tensor([[[0.0], [2.0]]])  # one row, depths 0 and 1
    >>> mean, var = mixture_moments(outputs, torch.tensor([0.5, 0.5]))
    >>> mean.item(), var.item()
    (1.0, 1.0)
    >>> mixture_moments(outputs.numpy(), np.array([0.5, 0.5], dtype=np.float32))
    (array([[1.]], dtype=float32), array([[1.]], dtype=float32))
    >>> members = torch.tensor([[[[0.0], [2.0]], [[2.0], [2.0]]]])  # 2 members
    >>> [m.item() for m in mixture_moments(members, torch.tensor([0.5, 0.5]))]
    [1.5, 0.75]
    """
    xp = torch if isinstance(outputs, Tensor) else np
    if len(outputs.shape) == 4:  # packed members share their depth's weight
        # The mean of the members' means, as depth_means and the stages take it.
        mean = xp.einsum("ndo,d->no", outputs.mean(2), weights)
        spread = (outputs - mean[:, None, None]) ** 2
        return mean, xp.einsum("ndko,d->no", spread, weights) / outputs.shape[2]
    mean = xp.einsum("ndo,d->no", outputs, weights)
    depth_var = xp.einsum("ndo,d->no", (outputs - mean[:, None]) ** 2, weights)
    return mean, depth_var


def depth_means(outputs: np.ndarray) -> np.ndarray:
    """Every depth's prediction ``f_d(x)``: the members' mean, if any.

    ``outputs`` of shape ``(n_samples, n_depths, n_outputs)`` are returned
    as they are; ``(n_samples, n_depths, n_members, n_outputs)`` are
    averaged over the members.
    """
    return outputs.mean(axis=2) if outputs.ndim == 4 else outputs


def check_depth_params(max_depth, prune_threshold) -> None:
    """Raise ``ValueError``/``TypeError`` naming an invalid depth parameter."""
    check_number(max_depth, "max_depth", integral=True, min_val=0)
    check_number(
        prune_threshold,
        "prune_threshold",
        min_val=0,
        max_val=1,
        include_boundaries="right",
    )
