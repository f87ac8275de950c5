# SPDX-License-Identifier: MIT
"""Shared machinery of the depth-search estimators (a skorch ``NeuralNet``).

``_DepthSearchBase`` owns the training of every estimator, whatever its
likelihood: the subclass hooks, skorch's initialisation (module, criterion,
the optimiser's parameter groups), seeded training with its bookkeeping
(``N`` of ``KL / N``, the held-out rows of early stopping, sample weights)
and the loss. The rest lives beside it: the default callbacks (warm-up,
early stopping, the per-epoch ``q``) in ``_callbacks.py`` and
``_early_stopping.py``; ensemble members' held-out rows in
``_ensemble.py``; depth selection and prediction passes in
``_inference.py``, export in ``_export.py``, the data path in ``_data.py``,
input checks in ``_validation.py``, random streams in ``_random.py``.

A subclass says what differs (a template method, as scikit-learn's ``_BaseNB``):

- ``_default_criterion``: the ELBO class of its likelihood;
- ``_encode_targets(y, reset, **kwargs)``: check ``y`` and encode it for the
  criterion (``reset`` on a first fit), with ``_target_checks`` the options
  of scikit-learn's target validation (``y_numeric``, ``multi_output``);
- ``_n_outputs()``: the number of outputs of the shared head;
- ``_marginal_net(body, depth_weights)``: the exported marginal predictive.

and may override ``_module_kwargs()``, ``_likelihood_params()``,
``_scoring_callbacks()``, ``_finalize_likelihood()`` and ``_calibrate()``
(documented below).
"""

from __future__ import annotations

import math
from abc import ABCMeta, abstractmethod
from collections.abc import Mapping

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, PassthroughScoring
from skorch.utils import to_tensor

from sklearn_depth._callbacks import (
    DepthWarmup,
    PosteriorHistory,
    QuietPrintLog,
    WeightDecaySchedule,
    is_callback_list,
)
from sklearn_depth._data import DatasetRows, _BatchesMixin
from sklearn_depth._early_stopping import (
    EarlyStopping,
    HeldOutSplit,
    uses_early_stopping,
)
from sklearn_depth._ensemble import _MembersMixin
from sklearn_depth._export import _ExportMixin
from sklearn_depth._growth import DepthGrowth
from sklearn_depth._inference import _InferenceMixin
from sklearn_depth._model import (
    DepthResMLP,
)
from sklearn_depth._optim import (
    SCHEDULED,
    fused_by_default,
    scheduled_weight_decay,
    split_groups,
    uses_weight_decay,
)
from sklearn_depth._random import TORCH_STATE_LOCK, isolated_torch_rng
from sklearn_depth._repr import _ReprMixin, signature_with_defaults
from sklearn_depth._threads import estimator_threads
from sklearn_depth._validation import (
    check_hyperparameters,
    check_n_samples,
    validate_features,
    validate_sample_weight,
)
from sklearn_depth.exceptions import DivergenceError
from sklearn_depth.nn import _ard_layers, ard_kl

__all__ = ["_DepthSearchBase"]


class _DepthSearchBase(
    _ReprMixin,
    _MembersMixin,
    _InferenceMixin,
    _ExportMixin,
    _BatchesMixin,
    NeuralNet,
    metaclass=ABCMeta,
):
    """Base class; see :class:`~sklearn_depth.DepthSearchClassifier`."""

    # Options of scikit-learn's target check (validate_data's y arguments).
    _target_checks: dict = {}
    # Fitted attributes of the likelihood (set by _finalize_likelihood).
    _likelihood_attributes: tuple = ()
    # Parameters that define the network: warm_start and partial_fit must
    # find them as they were when the network was built.
    _structure_params = (
        "module",
        "max_depth",
        "width",
        "prior",
        "sparse_blocks",
        "grow",
        "initial_depth",
        "n_members",
    )

    def __init__(
        self,
        module=DepthResMLP,
        criterion=None,
        *,
        max_depth=10,
        width=32,
        grow=False,
        initial_depth=2,
        prior="auto",
        prune_threshold=0.95,
        depth_lr=0.1,
        depth_warmup=10,
        kl_weight=1.0,
        sparse_blocks=None,
        sparsity_strength=0.1,
        early_stopping="auto",
        validation_fraction=0.2,
        n_iter_no_change="auto",
        tol=1e-4,
        n_members="auto",
        random_state=None,
        optimizer=torch.optim.AdamW,
        lr=0.01,
        weight_decay=0.01,
        max_epochs=1000,
        batch_size=256,
        train_split=None,
        verbose=0,
        device="cpu",
        **kwargs,
    ):
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.max_depth = max_depth
        self.width = width
        self.grow = grow
        self.initial_depth = initial_depth
        self.prior = prior
        self.prune_threshold = prune_threshold
        self.depth_lr = depth_lr
        self.depth_warmup = depth_warmup
        self.kl_weight = kl_weight
        self.sparse_blocks = sparse_blocks
        self.sparsity_strength = sparsity_strength
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.n_members = n_members
        self.random_state = random_state
        self.weight_decay = weight_decay

    # -- the subclass hooks (see the module docstring) ------------------------
    @property
    @abstractmethod
    def _default_criterion(self):
        """The ELBO class of the likelihood."""

    @abstractmethod
    def _encode_targets(self, y, reset, **kwargs):
        """Check ``y`` and encode it for the criterion."""

    @abstractmethod
    def _n_outputs(self):
        """Number of outputs of the shared head."""

    @abstractmethod
    def _marginal_net(self, body, depth_weights):
        """Wrap the exported body into the module of the marginal predictive."""

    def _module_kwargs(self):
        """Extra module arguments the likelihood needs."""
        return {}

    def _likelihood_params(self):
        """Extra learned parameters of the likelihood, passed to the criterion."""
        return {}

    def _scoring_callbacks(self):
        """Extra default callbacks, as ``(name, callback)`` pairs."""
        return []

    def _finalize_likelihood(self):
        """Set the likelihood's fitted attributes after training."""

    def _calibrate(self, dataset_valid):
        """Fit post-hoc calibration on the held-out rows of early stopping.

        ``dataset_valid`` is None when no rows were held out (early
        stopping off, ``partial_fit``).
        """

    # -- sklearn / skorch plumbing ---------------------------------------------
    def _get_param_names(self):
        # skorch lists every attribute not ending in "_"; its private
        # ``_params_to_validate`` must not become a hyperparameter.
        return [k for k in super()._get_param_names() if not k.startswith("_")]

    def __sklearn_is_fitted__(self):
        # skorch counts a merely initialised net as fitted; we are fitted
        # once a posterior over depth exists.
        return hasattr(self, "posterior_depth_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # cuBLAS reductions and atomics are not bit-reproducible.
        tags.non_deterministic = str(self.device).startswith("cuda")
        return tags

    @property
    def _default_callbacks(self):
        # skorch's defaults plus ours (sklearn_depth._callbacks); q(d) is
        # recorded first, so every later callback sees it in this epoch's
        # row, and kept out of the printed table.
        return [
            ("posterior_history", PosteriorHistory()),
            ("depth_warmup", DepthWarmup()),
            ("weight_decay", WeightDecaySchedule()),
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            *self._scoring_callbacks(),
            ("early_stopping", EarlyStopping()),
            # Last before printing: every score of the epoch (some from cached
            # predictions) is taken on the network as it was before growing.
            ("depth_growth", DepthGrowth()),
            ("print_log", QuietPrintLog(keys_ignored=["posterior_depth"])),
        ]

    def _initialize_callbacks(self):
        # set_params must never fail (scikit-learn's contract): with an
        # invalid ``callbacks`` value only the defaults are set up, and fit
        # reports the value (check_hyperparameters).
        if is_callback_list(self.callbacks):
            return super()._initialize_callbacks()
        callbacks, self.callbacks = self.callbacks, None
        try:
            return super()._initialize_callbacks()
        finally:
            self.callbacks = callbacks

    def _check_params(self):
        self._log_prior = check_hyperparameters(self)
        self._check_members_param()

    def _check_predict_X(self, X):
        """``check_is_fitted``, then validate ``X`` against the fitted data."""
        check_is_fitted(self)
        return validate_features(self, X, reset=False)

    # -- initialisation --------------------------------------------------------
    def initialize(self):
        """Build the network, criterion and optimiser (``fit`` does this).

        The network's sizes come from the training data, so this works only
        once the estimator has seen data (after ``fit`` or during it).

        Returns
        -------
        self : object
        """
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(
                f"{type(self).__name__} builds its network from the training data "
                "(the number of features and of outputs), so initialize() needs a "
                "fit first. To save a fitted estimator and load it again, use "
                "pickle or joblib: skorch's save_params/load_params keep the "
                "weights but not the fitted attributes (classes_, depth_, ...)."
            )
        return super().initialize()

    def initialize_module(self):
        # A new network: whatever was fitted before no longer applies (skorch
        # also calls this from set_params(module__...)).
        self._discard_fit()
        self._structure = self._structure_snapshot()
        # Data-dependent sizes come from the validated training data, so
        # users never pass them (what skorch's InputShapeSetter does).
        kwargs = {
            "n_features": self.n_features_in_,
            "n_outputs": self._n_outputs(),
            "max_depth": self.max_depth,
            "width": self.width,
            "log_prior": self._log_prior,
            **({"sparse_blocks": self.sparse_blocks} if self.sparse_blocks else {}),
            **self._module_kwargs(),
            **self._member_kwargs(),
        }
        kwargs.update(self.get_params_for("module"))
        self.module_ = self.initialized_instance(self.module, kwargs)
        if self.grow:
            module = self._core_module()
            if not hasattr(module, "start_growth"):
                raise TypeError(
                    f"grow=True needs a backbone that can grow (DepthResMLP, "
                    f"DepthResCNN); {type(module).__name__} has no start_growth."
                )
            module.start_growth(self.initial_depth, self._log_prior)
        return self

    def initialize_criterion(self):
        kwargs = {
            "kl_weight": self.kl_weight,
            "sparsity_strength": self.sparsity_strength,
            **self.get_params_for("criterion"),
        }
        criterion = (
            self._default_criterion if self.criterion is None else self.criterion
        )
        self.criterion_ = self.initialized_instance(criterion, kwargs)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        # q's logits and the no-decay parameters get groups of their own
        # (sklearn_depth._optim); the rest follows optimizer__* as in skorch.
        named = list(self.get_all_learnable_params())
        depth_lr = self.lr if self.depth_lr is None else self.depth_lr
        groups, rest = split_groups(named, depth_lr)
        args, opt_kwargs = self.get_params_for_optimizer("optimizer", rest)
        if fused_by_default(self.optimizer, opt_kwargs, named):
            opt_kwargs = {**opt_kwargs, "fused": True}
        rest_groups = args[0]
        if uses_weight_decay(self.optimizer, self.weight_decay, opt_kwargs):
            # AdamW's default until WeightDecaySchedule sets each epoch's.
            decay = scheduled_weight_decay(self.weight_decay, 0, early_stopping=False)
            opt_kwargs = {**opt_kwargs, "weight_decay": decay}
            # A group of the user's own with its weight_decay keeps it.
            for group in rest_groups:
                if "weight_decay" not in group:
                    group[SCHEDULED] = True
        self.optimizer_ = self.optimizer([*groups, *rest_groups], **opt_kwargs)
        return self

    def _structure_snapshot(self):
        params = {name: getattr(self, name) for name in self._structure_params}
        params["prior"] = self._log_prior
        if not self.grow:
            # Without growth the network does not depend on initial_depth.
            del params["initial_depth"]
        return {**params, **self.get_params_for("module")}

    def _check_same_structure(self, method):
        """Raise unless the network's defining parameters are unchanged."""
        built = getattr(self, "_structure", None)
        if built is None:
            return
        now = self._structure_snapshot()
        for name in sorted(set(built) | set(now)):
            old, new = built.get(name), now.get(name)
            same = (
                np.array_equal(old, new)
                if isinstance(old, np.ndarray) or isinstance(new, np.ndarray)
                else old is new or old == new
            )
            if not same:
                raise ValueError(
                    f"{name} changed since the network was built ({_show(old)} "
                    f"-> {_show(new)}); {method} continues training the same "
                    "network. To build a new one, fit with warm_start=False "
                    "(or fit a clone)."
                )

    # -- training --------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the network and the posterior over depth, then prune.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or torch Dataset
            Training data (cast to float32). Data larger than memory: a
            map-style ``torch.utils.data.Dataset`` whose item ``i`` is the
            feature row ``i`` or a tuple ``(x_i, ...)`` (e.g. ``(x_i, y_i)``)
            of which only ``x_i`` is read. Its rows are read batch by batch
            through skorch's ``DataLoader`` (``iterator_train__num_workers``
            etc. apply), not checked for NaN, and never held in memory
            together.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: class labels of any type for the classifier, real
            values for the regressor. Always an in-memory array, also when
            ``X`` is a Dataset (in the order of its rows).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights of the likelihood term. Integer weights act as
            repeated rows; the overall scale does not matter.
        **fit_params : dict
            Passed to skorch (e.g. to ``train_split``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_params()
        keep = self.warm_start and self.__sklearn_is_fitted__()
        if keep:
            self._check_same_structure("fit with warm_start=True")
        X, y = self._validate_training_data(X, y, reset=not keep)
        sample_weight = validate_sample_weight(sample_weight, X)
        return self._train(X, y, sample_weight, is_fit=True, **fit_params)

    def _partial_fit(self, X, y, sample_weight, fit_params, **target_kwargs):
        first = not self.__sklearn_is_fitted__()
        self._check_params()
        if not first:
            self._check_same_structure("partial_fit")
        X, y = self._validate_training_data(X, y, reset=first, **target_kwargs)
        sample_weight = validate_sample_weight(sample_weight, X)
        return self._train(X, y, sample_weight, is_fit=False, **fit_params)

    def _validate_training_data(self, X, y, reset, **target_kwargs):
        """Validate ``X`` and ``y`` together, then encode ``y``."""
        X, y = validate_features(self, X, y, reset=reset, **self._target_checks)
        check_n_samples(X.shape[0])
        return X, self._encode_targets(y, reset, **target_kwargs)

    def _train(self, X, y, sample_weight, *, is_fit, **fit_params):
        """Seeded training on validated, encoded data.

        A fit that fails (divergence included) leaves the estimator
        unfitted, and the next ``fit`` builds a new network. Training holds
        a process-wide lock: torch's random generators and thread count are
        global, so fits in several threads of one process run one at a time
        and give the results they give alone.
        """
        first = is_fit or not self.__sklearn_is_fitted__()
        resume = None if first else self._rng_state_
        try:
            with (
                TORCH_STATE_LOCK,
                estimator_threads(self, len(X), training=True),
                isolated_torch_rng(self.random_state, self.device, resume) as rng_state,
            ):
                if first and (not self.warm_start or not self.initialized_):
                    self.initialize()
                if first:
                    self.n_train_ = 0
                self._early_stopping_ = uses_early_stopping(self, len(X), is_fit)
                self._held_out_split = self._valid_rows = self._member_rows = None
                if self._early_stopping_ and not self.train_split:
                    seed = int(torch.randint(2**31 - 1, ()))
                    self._held_out_split = HeldOutSplit(
                        self.validation_fraction, is_classifier(self), seed
                    )
                module = self._core_module()
                module.active_depth = self._grown_blocks()  # un-prune first
                if isinstance(X, DatasetRows):
                    data = X.with_targets(y, sample_weight)  # read through DataLoader
                elif self._cross_fits_members():
                    data = self._member_split(X, y, sample_weight)
                elif sample_weight is None:
                    data = X
                else:
                    data = {"X": X, "sample_weight": sample_weight}
                NeuralNet.partial_fit(
                    self,
                    data,
                    y,
                    _routing_method="fit" if is_fit else "partial_fit",
                    **fit_params,
                )
                self._check_finite_network()
                self._rng_state_ = rng_state()
            # After every callback's on_train_end (EarlyStopping may have
            # restored the best module, q included).
            self._finalize_depth()
            self._calibrate(self._valid_rows)
        except BaseException:
            self._discard_fit()
            self.initialized_ = False
            raise
        finally:
            # Not kept in the fitted estimator.
            self._valid_rows = self._member_rows = None
            self.__dict__.pop("_depth_nll", None)
        return self

    def on_epoch_end(self, net, **kwargs):
        # Runs before the callbacks' on_epoch_end: a diverged epoch is never
        # scored or restored as the best.
        batches = self.history[-1, "batches"]
        losses = [b["train_loss"] for b in batches if "train_loss" in b]
        if not all(math.isfinite(loss) for loss in losses):
            self._diverged(f"the training loss became {_first_bad(losses)}")
        if self._member_rows is not None:
            # Early stopping's valid_loss: each row scored by the members
            # that held it out.
            self.history.record("valid_loss", self._out_of_bag_nll())

    def _check_finite_network(self):
        """Raise DivergenceError if a weight or batch statistic is not finite."""
        bad = [
            name
            for name, t in self._core_module().state_dict().items()
            if isinstance(t, torch.Tensor)
            and t.is_floating_point()
            and name != "log_prior"  # -inf masks a depth
            and not bool(torch.isfinite(t).all())
        ]
        if bad:
            self._diverged(f"{bad[0]} of the network is not finite")

    def _diverged(self, what):
        epoch = len(self.history)
        raise DivergenceError(
            f"{type(self).__name__}'s training diverged: in epoch {epoch}, {what}. "
            f"Try a smaller lr (now {self.lr}) or depth_lr (now {self.depth_lr}), "
            "and standardise the features (e.g. with StandardScaler in a "
            "Pipeline); the estimator is left unfitted."
        )

    def load_params(self, *args, **kwargs):
        """Load weights saved with ``save_params`` (see skorch).

        On a fitted estimator the fitted depth (``posterior_depth_``,
        ``depth_``, the pruning) is then re-derived from the loaded
        network. An unfitted estimator cannot load parameters: pickle or
        joblib save and restore a whole fitted estimator.
        """
        fitted = self.__sklearn_is_fitted__()
        if fitted:
            self._core_module().active_depth = self._grown_blocks()
        super().load_params(*args, **kwargs)
        if fitted:
            self._core_module().active_depth = self._grown_blocks()
            self._finalize_depth()

    def get_split_datasets(self, X, y=None, **fit_params):
        if self._held_out_split is None:
            dataset_train, dataset_valid = super().get_split_datasets(
                X, y, **fit_params
            )
        else:  # early stopping's own held-out rows
            dataset = self.get_dataset(X, y)
            dataset_train, dataset_valid = self._held_out_split(dataset, y)
        check_n_samples(len(dataset_train))
        # N of KL/N: the rows actually trained on, accumulated over
        # partial_fit calls.
        self.n_train_ += len(dataset_train)
        if self._early_stopping_:  # for _calibrate after training
            self._valid_rows = dataset_valid
        return dataset_train, dataset_valid

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        sample_weight = member_weight = None
        if isinstance(X, Mapping) and "sample_weight" in X:
            sample_weight = to_tensor(X["sample_weight"], device=self.device)
        if isinstance(X, Mapping) and "member_weight" in X:
            member_weight = to_tensor(X["member_weight"], device=self.device)
        module = self.module_
        evidence = getattr(self, "_depth_nll", None)
        if evidence is not None:  # what growth decides on (_growth.py)
            evidence.add(
                self.criterion_,
                y_pred,
                y_true,
                sample_weight,
                training,
                **self._likelihood_params(),
            )
        if not training:
            # Held-out rows score the marginal predictive itself.
            return self.criterion_.marginal_nll(
                y_pred,
                y_true,
                module.log_q(),
                sample_weight,
                **self._likelihood_params(),
            )
        return self.criterion_(
            y_pred,
            y_true,
            module.log_q(),
            module.active_log_prior(),
            self.n_train_,
            sample_weight,
            weight_kl=_active_ard_kl(module) if self.sparse_blocks == "ard" else None,
            member_weight=member_weight,
            **self._likelihood_params(),
        )


def _active_ard_kl(module):
    """ARD KL of the blocks that run: a growing network's idle ones left out.

    A block not grown yet must not be pulled towards its prior (nor cost
    time) before it exists; with every block active this is ``ard_kl``.
    """
    blocks = getattr(module, "blocks", None)
    active = getattr(module, "active_depth", None)
    if blocks is None or active is None or active >= len(blocks):
        return ard_kl(module)
    idle = {id(layer) for block in blocks[active:] for layer in _ard_layers(block)}
    kls = [layer.kl() for layer in _ard_layers(module) if id(layer) not in idle]
    if not kls:
        return next(module.parameters()).new_zeros(())
    return torch.stack(kls).sum()


def _show(value):
    if isinstance(value, np.ndarray):
        return f"log prior {np.round(value, 3).tolist()}"
    return repr(value)


def _first_bad(values):
    return next(repr(v) for v in values if not math.isfinite(v))


# skorch's parameters and defaults, visible to scikit-learn's repr (_repr.py).
_DepthSearchBase.__init__.__signature__ = signature_with_defaults(
    _DepthSearchBase.__init__, NeuralNet.__init__
)
