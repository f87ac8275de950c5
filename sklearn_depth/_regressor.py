# SPDX-License-Identifier: MIT
"""DepthSearchRegressor: depth uncertainty for regression."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import RegressorMixin

from sklearn_depth._base import _DepthSearchBase
from sklearn_depth._criterion import GaussianDepthELBO
from sklearn_depth._depth import depth_means, mixture_moments
from sklearn_depth._export import MarginalRegressorNet
from sklearn_depth._stages import _RegressorStagesMixin

__all__ = ["DepthSearchRegressor"]

# The least factor by which packed members' noise scale is shrunk to their
# out-of-bag rows (DepthSearchRegressor._calibrate).
NOISE_SHRINK = 0.5


class DepthSearchRegressor(_RegressorStagesMixin, RegressorMixin, _DepthSearchBase):
    """Residual network regressor with a posterior over its depth.

    Depth Uncertainty Networks (Antorán, Allingham and Hernández-Lobato,
    2020): the residual MLP of :class:`DepthSearchClassifier`, whose shared
    head outputs the mean of a Gaussian at every depth,
    ``y | x, d ~ N(f_d(x), σ²)``, with a learned homoscedastic noise scale
    ``σ`` per output. A categorical posterior ``q(d)`` is learned jointly with
    the weights by maximising the ELBO; after training the network is pruned
    to ``depth_`` blocks and a single forward pass gives a predictive mixture
    over depths, whose mean and standard deviation :meth:`predict` returns.

    Targets are standardised internally; every output is in the original
    units.

    Parameters
    ----------
    module : type, default=DepthResMLP
        The network class, built by ``initialize_module`` with
        ``n_features``, ``n_outputs``, ``max_depth``, ``width``, ``log_prior``
        and ``learn_noise=True``.
    criterion : type or None, default=None
        The negative ELBO; ``None`` means :class:`GaussianDepthELBO`.
    max_depth, width, grow, initial_depth, prior, prune_threshold, depth_lr, \
depth_warmup, kl_weight, sparse_blocks, sparsity_strength, early_stopping, \
validation_fraction, n_iter_no_change, tol, random_state, optimizer, lr, \
max_epochs, batch_size, train_split, verbose, device, **kwargs
        As for :class:`DepthSearchClassifier` (the held-out rows of early
        stopping are a plain random split). The noise scale has no weight
        decay.
    n_members : int or "auto", default="auto"
        Ensemble members packed into one network, as for
        :class:`DepthSearchClassifier` (each holds out its own rows for
        early stopping; ``"auto"`` is 4 for ``DepthResMLP`` with plain
        blocks, else 1). The members share the noise scale ``σ`` and the
        posterior over depth; the predictive is the equal mixture of their
        Gaussians within each depth, so :meth:`predict`'s variance adds
        the members' spread to the depths' (the law of total variance).
        As each member learns ``σ`` from its own residuals, to which the
        mixture then adds the members' spread, ``σ`` is shrunk after
        training, by a factor between 0.5 and 1, to the log-likelihood of
        the out-of-bag rows (each scored by the members that held it out;
        not without early stopping's rows).
    weight_decay : float or "auto", default=0.01
        Weight decay of the network weights, AdamW's default. ``"auto"``
        anneals it as for :class:`DepthSearchClassifier`; on the regression
        tables of ``benchmarks/tabular.py`` it was mixed and on the larger
        UCI data sets (energy, kin8nm, power) worse than the constant, hence
        not the default here.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, defined only when ``X`` has
        string column names.
    n_outputs_ : int
        Number of regression targets.
    y_mean_ : ndarray of shape (n_outputs_,)
        Mean of the training targets.
    y_scale_ : ndarray of shape (n_outputs_,)
        Standard deviation of the training targets (1 where it is zero, as
        in :class:`~sklearn.preprocessing.StandardScaler`).
    noise_std_ : ndarray of shape (n_outputs_,)
        The learned noise standard deviation ``σ``, in original units
        (shrunk to the out-of-bag rows with ``n_members > 1``).
    posterior_depth_ : ndarray of shape (max_depth + 1,)
        The learned posterior ``q(d)`` over depth.
    prior_depth_ : ndarray of shape (max_depth + 1,)
        The prior ``p(d)`` the posterior was trained with.
    depth_ : int
        The selected depth: the number of blocks the pruned network runs.
    pruned_posterior_depth_ : ndarray of shape (max_depth + 1,)
        ``q`` with the mass beyond ``depth_`` folded onto ``depth_``; the
        predictive mixture is over it.
    n_train_ : int
        Number of rows ``N`` the KL is divided by.
    n_params_, n_params_pruned_, n_params_removed_depth_, \
n_params_removed_ard_ : int
        Parameter counts of the dense, exported and removed parts, as for
        :class:`DepthSearchClassifier`.

    See Also
    --------
    DepthSearchClassifier : The classifier.
    sklearn.neural_network.MLPRegressor : Fixed-depth MLP without uncertainty.

    References
    ----------
    .. [1] J. Antorán, J. U. Allingham and J. M. Hernández-Lobato, "Depth
       Uncertainty in Neural Networks", NeurIPS 2020, arXiv:2006.08437.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_depth import DepthSearchRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-2, 2, size=(100, 1))
    >>> y = np.sin(2 * X[:, 0]) + 0.1 * rng.randn(100)
    >>> reg = DepthSearchRegressor(max_depth=3, max_epochs=2, random_state=0)
    >>> mean, std = reg.fit(X, y).predict(X[:4], return_std=True)
    >>> mean.shape, std.shape, reg.posterior_depth_.shape
    ((4,), (4,), (4,))
    """

    _default_criterion = GaussianDepthELBO
    _target_checks = {"y_numeric": True, "multi_output": True}
    _likelihood_attributes = ("noise_std_",)

    @property
    def predict_proba(self):
        # skorch's NeuralNet defines predict_proba; a regressor must not
        # (scikit-learn's checks and meta-estimators test hasattr).
        raise AttributeError("DepthSearchRegressor has no predict_proba.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _n_outputs(self):
        return self.n_outputs_

    def initialize_module(self):
        # The Gaussian likelihood's noise scale lives in the module, so that
        # checkpoints, early stopping and device moves carry it.
        super().initialize_module()
        if not hasattr(self._core_module(), "log_noise"):
            raise TypeError(
                "DepthSearchRegressor's module must have a log_noise parameter "
                "(DepthResMLP does with learn_noise=True)."
            )
        return self

    def _module_kwargs(self):
        return {"learn_noise": True}

    def _likelihood_params(self):
        return {"log_noise": self._core_module().log_noise}

    def _encode_targets(self, y, reset):
        # Standardised float32 targets, of shape (n_samples, n_outputs).
        y = np.asarray(y, dtype=np.float64)
        if reset:
            self._y_1d = y.ndim == 1
            Y = y.reshape(len(y), -1)
            self.n_outputs_ = Y.shape[1]
            # Moments of Y / max|Y|, so targets near the float64 limit do
            # not overflow the squares of the standard deviation.
            magnitude = np.abs(Y).max(axis=0)
            magnitude[magnitude == 0] = 1.0
            self.y_mean_ = (Y / magnitude).mean(axis=0) * magnitude
            scale = (Y / magnitude).std(axis=0) * magnitude
            # A constant target keeps unit scale, as StandardScaler does.
            scale[scale < 10 * np.finfo(np.float64).eps * np.abs(self.y_mean_)] = 1.0
            scale[scale == 0.0] = 1.0
            self.y_scale_ = scale
        Y = y.reshape(len(y), -1)
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} outputs, but {type(self).__name__} was "
                f"fitted with {self.n_outputs_}."
            )
        return ((Y - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _finalize_likelihood(self):
        log_noise = self._core_module().log_noise.detach().double().cpu().numpy()
        with np.errstate(over="ignore", under="ignore"):
            noise_std = np.exp(log_noise) * self.y_scale_
        if not np.all((noise_std > 0) & np.isfinite(noise_std)):
            self._diverged(f"the learned noise scale became {noise_std.tolist()}")
        self.noise_std_ = noise_std

    @torch.no_grad()
    def _calibrate(self, dataset_valid):
        # Packed members each learn the noise scale on their own residuals,
        # and the predictive adds their spread on top of it: shrink σ by the
        # factor in [NOISE_SHRINK, 1] that best predicts the out-of-bag rows
        # (the members' own held-out rows; none without them).
        if self._member_rows is None:
            return
        from scipy.optimize import minimize_scalar

        module = self._core_module()
        outputs = self._member_outputs().double()
        log_noise = module.log_noise.detach().double()
        log_q = torch.as_tensor(self.pruned_posterior_depth_[: self.depth_ + 1])
        log_q = torch.log(log_q)  # -inf on the depths pruning folded away

        def nll(log_shrink):
            log_lik = self._member_log_likelihood(
                outputs, log_noise=log_noise + log_shrink
            )
            return self._out_of_bag_nll(log_lik, log_q)

        result = minimize_scalar(
            nll,
            bounds=(np.log(NOISE_SHRINK), 0.0),
            method="bounded",
            options={"xatol": 1e-3},
        )
        if result.fun < nll(0.0):
            module.log_noise.add_(float(result.x))
            self.noise_std_ = self.noise_std_ * np.exp(result.x)

    def _marginal_net(self, body, depth_weights):
        noise_std = self._core_module().log_noise.detach().cpu().exp()
        return MarginalRegressorNet(
            body, depth_weights, self.y_mean_, self.y_scale_, noise_std, self._y_1d
        )

    def _moments(self, X):
        """Standardised mixture mean, depth variance and noise variance."""
        q = self.pruned_posterior_depth_[: self.depth_ + 1]
        mean, depth_var = mixture_moments(self._outputs(X), q)
        noise_var = (self.noise_std_ / self.y_scale_) ** 2
        return mean, depth_var, noise_var

    def _unstandardise(self, values, shift=True):
        values = values * self.y_scale_ + (self.y_mean_ if shift else 0.0)
        return values.reshape(len(values)) if self._y_1d else values

    def predict(self, X, return_std=False):
        """Mean (and standard deviation) of the predictive mixture over depth.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return the predictive standard deviation, which combines the
            spread of the depths' predictions and the learned noise:
            ``std² = Σ_d q'(d) (f_d − mean)² + σ²``; with members ``f_d``
            runs over every member of depth ``d``, each weighing
            ``q'(d) / n_members``.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            ``Σ_d q'(d) f_d(x)``, in original units.
        y_std : ndarray of the same shape
            Only with ``return_std=True``.
        """
        X = self._check_predict_X(X)
        mean, depth_var, noise_var = self._moments(X)
        y_mean = self._unstandardise(mean)
        if not return_std:
            return y_mean
        return y_mean, self._unstandardise(np.sqrt(depth_var + noise_var), shift=False)

    def predict_std_components(self, X):
        """The two parts of the predictive standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        noise_std : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The learned noise scale ``σ`` (aleatoric), the same for every row.
        depth_std : ndarray of the same shape
            Standard deviation of the depths' predictions under ``q'``
            (model uncertainty; with ``n_members > 1`` the spread of every
            depth's members too). ``noise_std² + depth_std²`` is the total
            variance of :meth:`predict`.
        """
        X = self._check_predict_X(X)
        _, depth_var, noise_var = self._moments(X)
        noise = np.broadcast_to(np.sqrt(noise_var), depth_var.shape).copy()
        return (
            self._unstandardise(noise, shift=False),
            self._unstandardise(np.sqrt(depth_var), shift=False),
        )

    def predict_per_depth(self, X):
        """Predicted mean of every depth, running all blocks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples, max_depth + 1) or \
(n_samples, max_depth + 1, n_outputs)
            ``f_d(x)`` for ``d = 0..max_depth`` (the depths grown with
            ``grow=True``), in original units; with ``n_members > 1`` the
            mean of the members' predictions.
        """
        X = self._check_predict_X(X)
        outputs = depth_means(self._outputs(X, all_depths=True))
        outputs = outputs * self.y_scale_ + self.y_mean_
        return outputs[..., 0] if self._y_1d else outputs

    def partial_fit(self, X, y, sample_weight=None, *, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs on a batch of data.

        The first call initialises the network and the target scaling; later
        calls continue training, and the KL is divided by all rows trained
        on so far.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : None
            Ignored. skorch's ``NeuralNet.partial_fit`` takes it and tells
            scikit-learn's metadata routing to leave it out, which fails
            for a ``partial_fit`` without it.
        **fit_params : dict

        Returns
        -------
        self : object
        """
        return self._partial_fit(X, y, sample_weight, fit_params)
