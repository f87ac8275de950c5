# SPDX-License-Identifier: MIT
"""Shared machinery of the depth-search estimators (a skorch ``NeuralNet``).

``_DepthSearchBase`` owns everything that does not depend on the likelihood:
parameter checks, seeding, the sample-weight and batch-of-one handling, the
two optimiser parameter groups, the ELBO bookkeeping (``N`` for ``KL / N``),
depth selection and pruning after training, and the per-epoch record of
``q(d)`` in ``history``. Subclasses add the target handling and the predictive
(a template method, as in scikit-learn's ``_BaseNB``).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    _check_y,
    check_is_fitted,
    validate_data,
)
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog
from skorch.utils import to_tensor
from torch.utils.data import Dataset as TorchDataset

from sklearn_depth._data import DatasetRows, as_tensor_batches, feature_batches
from sklearn_depth._depth import (
    check_depth_params,
    fold_tail,
    make_log_prior,
    select_depth,
)
from sklearn_depth._export import export_body, n_parameters, save_exported
from sklearn_depth._model import DepthResMLP, cast_state, check_sparse_blocks
from sklearn_depth.nn import ard_kl

__all__ = ["_DepthSearchBase"]


class _DepthSearchBase(NeuralNet):
    """Base class; see :class:`~sklearn_depth.DepthSearchClassifier`."""

    _default_criterion = None  # the ELBO class of the subclass's likelihood
    # Parameter name suffixes without weight decay: the noise scale and the
    # ARD log variances.
    _no_decay_params = ("log_noise", "log_sigma2")

    def __init__(
        self,
        module=DepthResMLP,
        criterion=None,
        *,
        max_depth=10,
        width=32,
        prior="uniform",
        prune_threshold=0.95,
        depth_lr=0.1,
        depth_warmup=0.25,
        kl_weight=1.0,
        sparse_blocks=None,
        sparsity_strength=0.1,
        random_state=None,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=200,
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
        self.prior = prior
        self.prune_threshold = prune_threshold
        self.depth_lr = depth_lr
        self.depth_warmup = depth_warmup
        self.kl_weight = kl_weight
        self.sparse_blocks = sparse_blocks
        self.sparsity_strength = sparsity_strength
        self.random_state = random_state

    # ------------------------------------------------------------------
    # sklearn / skorch plumbing
    # ------------------------------------------------------------------
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
        # skorch's defaults, with the per-epoch list of q(d) kept out of the
        # printed table (it is recorded in history as "posterior_depth").
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            *self._extra_default_callbacks(),
            ("print_log", _PrintLog(keys_ignored=["posterior_depth"])),
        ]

    def _extra_default_callbacks(self):
        return []

    # ------------------------------------------------------------------
    # validation
    # ------------------------------------------------------------------
    def _check_params(self):
        check_depth_params(self.max_depth, self.prune_threshold)
        _check_number("width", self.width, integral=True, low=1)
        _check_number("lr", self.lr, low=0, low_open=True)
        if self.depth_lr is not None:
            _check_number("depth_lr", self.depth_lr, low=0)
        if isinstance(self.depth_warmup, numbers.Integral):
            _check_number("depth_warmup", self.depth_warmup, integral=True, low=0)
        else:
            _check_number("depth_warmup", self.depth_warmup, low=0, high=1)
        _check_number("kl_weight", self.kl_weight, low=0)
        check_sparse_blocks(self.sparse_blocks)
        _check_number("sparsity_strength", self.sparsity_strength, low=0)
        _check_number("max_epochs", self.max_epochs, integral=True, low=0)
        if self.batch_size != -1:
            _check_number("batch_size", self.batch_size, integral=True, low=1)
        check_random_state(self.random_state)
        self._log_prior = make_log_prior(self.prior, self.max_depth)

    def _validate_X(self, X, y="no_validation", *, reset, **kwargs):
        """``validate_data`` to float32, naming non-numeric columns."""
        if isinstance(X, TorchDataset):
            return self._validate_dataset(X, y, reset=reset, **kwargs)
        try:
            out = validate_data(self, X, y, dtype=np.float32, reset=reset, **kwargs)
        except ValueError as exc:
            if "could not convert" not in str(exc) or _is_convertible(X):
                raise  # not about X (e.g. a non-numeric regression target)
            columns = getattr(X, "columns", None)
            where = ""
            if columns is not None:
                bad = [c for c in columns if not _is_numeric(X[c])]
                where = f" (non-numeric columns: {bad})" if bad else ""
            raise ValueError(
                f"X must contain only numeric values{where}: {exc}. Encode "
                "categorical features first, e.g. with sklearn's OneHotEncoder."
            ) from exc
        # A read-only view (pandas copy-on-write) makes torch warn on conversion.
        if isinstance(out, tuple):
            return (_writable(out[0]), *out[1:])
        return _writable(out)

    def _validate_dataset(self, X, y, *, reset, multi_output=False, y_numeric=False):
        """The checks of :meth:`_validate_X` for a torch Dataset ``X``.

        The rows stay where they are (read lazily by :class:`DatasetRows`);
        ``y`` must be in memory, as the label encoding, ``classes_`` and the
        target scaling need all of it before training starts.
        """
        rows = DatasetRows(X)
        if not (isinstance(y, str) and y == "no_validation"):
            if y is None:
                raise ValueError(
                    f"{type(self).__name__} needs y when X is a Dataset: pass "
                    "the targets as an in-memory array in the order of the "
                    "Dataset's rows (targets inside its items are not read)."
                )
            y = _check_y(
                y, multi_output=multi_output, y_numeric=y_numeric, estimator=self
            )
            if len(y) != len(rows):
                raise ValueError(
                    f"X (a Dataset of {len(rows)} rows) and y ({len(y)} "
                    "targets) have inconsistent numbers of samples."
                )
        if reset:
            self.n_features_in_ = rows.n_features
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif rows.n_features != self.n_features_in_:
            raise ValueError(
                f"X has {rows.n_features} features, but {type(self).__name__} "
                f"is expecting {self.n_features_in_} features as input."
            )
        return rows if isinstance(y, str) else (rows, y)

    def _check_predict_X(self, X):
        """``check_is_fitted``, then validate ``X`` against the fitted data."""
        check_is_fitted(self)
        return self._validate_X(X, reset=False)

    def _check_sample_weight(self, sample_weight, X):
        if sample_weight is None:
            return None
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float32, ensure_non_negative=True
        )
        if not np.any(sample_weight > 0):
            raise ValueError(
                "Sample weights must contain at least one non-zero number."
            )
        return sample_weight

    @staticmethod
    def _check_n_samples(n_samples):
        if n_samples < 2:
            raise ValueError(
                f"Found n_samples={n_samples} training row(s), while at least 2 "
                "are required: BatchNorm cannot train on a single row."
            )

    # ------------------------------------------------------------------
    # initialisation
    # ------------------------------------------------------------------
    def initialize_module(self):
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
        }
        kwargs.update(self.get_params_for("module"))
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def _module_kwargs(self):
        """Extra module arguments the subclass's likelihood needs."""
        return {}

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
        # q's logits get their own group: their own learning rate and no
        # weight decay (decay would pull q back towards uniform). Variational
        # and noise parameters (names in _no_decay_params) get lr but no
        # decay either. Matching by suffix also covers compile's "_orig_mod."
        named = list(self.get_all_learnable_params())
        depth = [p for n, p in named if n.endswith("depth_logits")]
        no_decay = [p for n, p in named if n.endswith(self._no_decay_params)]
        rest = [
            (n, p)
            for n, p in named
            if not n.endswith(("depth_logits", *self._no_decay_params))
        ]
        args, opt_kwargs = self.get_params_for_optimizer("optimizer", rest)
        if _fused_by_default(self.optimizer, opt_kwargs, named):
            opt_kwargs = {**opt_kwargs, "fused": True}
        depth_lr = self.lr if self.depth_lr is None else self.depth_lr
        groups = [{"params": depth, "lr": depth_lr, "weight_decay": 0.0}]
        if no_decay:
            groups.append({"params": no_decay, "weight_decay": 0.0})
        self.optimizer_ = self.optimizer([*groups, *args[0]], **opt_kwargs)
        return self

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
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
        X, y = self._validate_training_data(X, y, reset=not keep)
        sample_weight = self._check_sample_weight(sample_weight, X)
        return self._train(X, y, sample_weight, is_fit=True, **fit_params)

    def _partial_fit(self, X, y, sample_weight, fit_params, **target_kwargs):
        first = not self.__sklearn_is_fitted__()
        if first:
            self._check_params()
        X, y = self._validate_training_data(X, y, reset=first, **target_kwargs)
        sample_weight = self._check_sample_weight(sample_weight, X)
        return self._train(X, y, sample_weight, is_fit=False, **fit_params)

    def _validate_training_data(self, X, y, reset):
        """Validate ``X`` and encode ``y`` for the criterion."""
        raise NotImplementedError

    def _train(self, X, y, sample_weight, *, is_fit, **fit_params):
        """Seeded training on validated, encoded data."""
        first = is_fit or not self.__sklearn_is_fitted__()
        with torch.random.fork_rng(devices=self._rng_devices()):
            if first:
                seed = check_random_state(self.random_state).randint(2**31 - 1)
                torch.default_generator.manual_seed(seed)
                for index in self._rng_devices():
                    with torch.cuda.device(index):
                        torch.cuda.manual_seed(seed)
            else:
                # Continue the random stream where the previous call stopped.
                self._set_rng_state(self._rng_state_)
            if first and (not self.warm_start or not self.initialized_):
                self.initialize()
            if first:
                self.n_train_ = 0
            self._core_module().active_depth = self.max_depth  # un-prune first
            if isinstance(X, DatasetRows):
                data = X.with_targets(y, sample_weight)  # read through DataLoader
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
            self._rng_state_ = self._get_rng_state()
        # After every callback's on_train_end (EarlyStopping may have
        # restored the best module, q included).
        self._finalize_depth()
        return self

    def _rng_devices(self):
        device = torch.device(self.device)
        if device.type != "cuda":
            return []
        return [
            device.index if device.index is not None else torch.cuda.current_device()
        ]

    def _get_rng_state(self):
        state = {"cpu": torch.get_rng_state()}
        for index in self._rng_devices():
            state["cuda"] = torch.cuda.get_rng_state(index).cpu()
        return state

    def _set_rng_state(self, state):
        torch.set_rng_state(state["cpu"])
        for index in self._rng_devices():
            if "cuda" in state:
                torch.cuda.set_rng_state(state["cuda"], index)

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        self._check_n_samples(len(dataset_train))
        # N of KL/N: the rows actually trained on, accumulated over
        # partial_fit calls.
        self.n_train_ += len(dataset_train)
        return dataset_train, dataset_valid

    def _iterator_kwargs(self, n_samples, training):
        """The iterator's arguments, with ``batch_size`` resolved for ``n_samples``."""
        kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
        batch_size = kwargs.get("batch_size", self.batch_size)
        kwargs["batch_size"] = n_samples if batch_size == -1 else batch_size
        return kwargs

    def get_iterator(self, dataset, training=False):
        kwargs = self._iterator_kwargs(len(dataset), training)
        if training:
            kwargs.setdefault("shuffle", True)
        # BatchNorm cannot train on one row: drop a 1-row last batch (with
        # shuffling, a different row each epoch).
        if training and len(dataset) % kwargs["batch_size"] == 1:
            kwargs.setdefault("drop_last", True)
        iterator = self.iterator_train if training else self.iterator_valid
        fast = as_tensor_batches(dataset, iterator, kwargs, self.device)
        return fast if fast is not None else iterator(dataset, **kwargs)

    def infer(self, x, **fit_params):
        # Sample weights travel with the rows in a dict; the module only
        # sees the features.
        if isinstance(x, Mapping) and "sample_weight" in x:
            x = x["X"]
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        sample_weight = None
        if isinstance(X, Mapping) and "sample_weight" in X:
            sample_weight = to_tensor(X["sample_weight"], device=self.device)
        module = self.module_
        log_q = module.log_q()
        if training and getattr(self, "_q_frozen", False):
            log_q = log_q.detach()
        return self.criterion_(
            y_pred,
            y_true,
            log_q,
            module.active_log_prior(),
            self.n_train_,
            sample_weight,
            weight_kl=self._weight_kl(module, training),
            **self._likelihood_params(),
        )

    def _weight_kl(self, module, training):
        """The ARD layers' KL, annealed from 0 during the warm-up in training."""
        if self.sparse_blocks != "ard":
            return None
        kl = ard_kl(module)
        if training:
            kl = kl * getattr(self, "_kl_ramp", 1.0)
        return kl

    def _likelihood_params(self):
        """Extra learned parameters of the likelihood, passed to the criterion."""
        return {}

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        # Warm-up: q is held fixed (no gradient reaches its logits) for the
        # first ``depth_warmup`` fraction of epochs, so every depth's blocks
        # get trained before q can collapse onto the shallow depths that
        # fit first. Epochs count from the start of the history, so a
        # continued partial_fit does not warm up again.
        # The ARD weights' KL grows linearly from 0 to its full strength over
        # the same warm-up ("KL annealing"): at full strength from the first
        # epoch it prunes the blocks before they have fitted anything.
        warmup_epochs = self._warmup_epochs()
        self._q_frozen = len(self.history) <= warmup_epochs
        epoch = len(self.history) - 1
        self._kl_ramp = min(1.0, epoch / warmup_epochs) if warmup_epochs else 1.0

    def _warmup_epochs(self):
        if isinstance(self.depth_warmup, numbers.Integral):
            return int(self.depth_warmup)
        return round(self.depth_warmup * self.max_epochs)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train, dataset_valid, **kwargs)
        q = self._posterior()
        self.history.record("posterior_depth", q.tolist())
        self.history.record("expected_depth", float(q @ np.arange(q.size)))

    def _posterior(self):
        with torch.no_grad():
            module = self.module_
            with module.all_depths():
                log_q = module.log_q()
        return log_q.double().exp().cpu().numpy()

    def _outputs(self, X, all_depths=False):
        """Network outputs of the active (or all) depths, float64 on CPU.

        On a CPU device the forward pass runs in float64 (on a float64 copy
        of the weights), so a row's prediction does not depend on which other
        rows share its batch: float32 matrix products change in the last
        digits with the batch composition. Other devices run in float32.
        """
        module = self._core_module()
        device = torch.device(self.device)
        dtype = torch.float64 if device.type == "cpu" else torch.float32
        batch_size = max(self._iterator_kwargs(len(X), training=False)["batch_size"], 1)
        self._set_training(False)
        chunks = []
        with torch.no_grad(), _all_depths_if(module, all_depths):
            state = _inference_state(module, dtype)
            for batch in feature_batches(X, batch_size):
                batch = torch.as_tensor(batch).to(device=device, dtype=dtype)
                out = torch.func.functional_call(module, state, (batch,))
                chunks.append(out.to("cpu", torch.float64))
        return torch.cat(chunks)

    def _finalize_depth(self):
        q = self._posterior()
        q = q / q.sum()
        self.posterior_depth_ = q
        self.depth_ = select_depth(q, self.prune_threshold)
        self.pruned_posterior_depth_ = fold_tail(q, self.depth_)
        prior = np.exp(self._core_module().log_prior.double().cpu().numpy())
        self.prior_depth_ = prior / prior.sum()
        self._core_module().active_depth = self.depth_
        self._count_parameters()

    def _count_parameters(self):
        """Parameter counts of the dense, depth-pruned and exported networks."""
        module = self._core_module()
        if not isinstance(module, DepthResMLP):  # a custom module: not counted
            return
        dense = n_parameters(export_body(module, self.max_depth, remove_units=False))
        shallow = n_parameters(export_body(module, self.depth_, remove_units=False))
        self.n_params_ = dense
        self.n_params_pruned_ = n_parameters(export_body(module, self.depth_))
        self.n_params_removed_depth_ = dense - shallow
        self.n_params_removed_ard_ = shallow - self.n_params_pruned_

    def export_pruned(self, path=None):
        """The pruned network as a small, plain PyTorch module.

        Only the ``depth_`` kept blocks remain and, with ``sparse_blocks="ard"``,
        only their hidden units that ARD kept connected: the removed ones
        are physically gone, not masked. Batch normalisation is folded into
        the linear layers and the pruned posterior over depth is a buffer,
        so the module holds no ARD layer and no depth logits, and computes
        the estimator's marginal predictions (in float32, on the CPU).

        Parameters
        ----------
        path : str or os.PathLike, default=None
            If given, also save the module with ``torch.export`` (a ``.pt2``
            file with a dynamic batch dimension). Load it without
            sklearn-depth: ``torch.export.load(path).module()``.

        Returns
        -------
        net : torch.nn.Module
            In evaluation mode. It maps a float32 tensor of shape
            ``(n_samples, n_features_in_)`` to the marginal predictions: the
            classifier's to class probabilities ``(n_samples, n_classes)``
            in the order of ``classes_``, the regressor's to the tuple
            ``(mean, std)`` of :meth:`predict` with ``return_std=True``, in
            original units.

        Examples
        --------
        >>> import torch
        >>> from sklearn_depth import DepthSearchClassifier, make_spirals
        >>> X, y = make_spirals(100, noise=0.2, random_state=0)
        >>> clf = DepthSearchClassifier(
        ...     max_depth=4, max_epochs=5, sparse_blocks="ard", random_state=0
        ... ).fit(X, y)
        >>> net = clf.export_pruned()
        >>> net(torch.as_tensor(X[:3], dtype=torch.float32)).shape
        torch.Size([3, 2])
        >>> sum(p.numel() for p in net.parameters()) == clf.n_params_pruned_
        True
        """
        check_is_fitted(self)
        if not isinstance(self._core_module(), DepthResMLP):
            raise TypeError(
                "export_pruned needs the default module DepthResMLP; got "
                f"{type(self._core_module()).__name__}."
            )
        body = export_body(self._core_module(), self.depth_)
        weights = torch.as_tensor(self.pruned_posterior_depth_[: self.depth_ + 1])
        net = self._marginal_net(body, weights.float()).eval()
        if path is not None:
            save_exported(net, path, self.n_features_in_)
        return net

    def _marginal_net(self, body, depth_weights):
        """Wrap the exported body into the module of the marginal predictive."""
        raise NotImplementedError

    def _core_module(self):
        # Under ``compile=True`` module_ is a wrapper; attributes must be set
        # on the wrapped module itself.
        return getattr(self.module_, "_orig_mod", self.module_)

    def _n_outputs(self):
        raise NotImplementedError


class _PrintLog(PrintLog):
    """skorch's ``PrintLog`` that does no work when it would print nothing.

    skorch's version formats its table and flushes stdout every epoch even
    with ``verbose=0`` (3-7 % of an epoch on small data; benchmarks/overhead.py
    (f)). A custom ``sink`` is still called whatever ``verbose`` says.
    """

    def on_epoch_end(self, net, **kwargs):
        if net.verbose or self.sink is not print:
            super().on_epoch_end(net, **kwargs)


# torch's fused Adam/AdamW kernels: CUDA since 2.0, CPU since 2.4.
_FUSED_DEVICES = (
    ("cpu", "cuda")
    if tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)
    else ("cuda",)
)


def _fused_by_default(optimizer, opt_kwargs, named_params):
    """Whether Adam/AdamW should get ``fused=True`` (the user set neither
    ``optimizer__fused`` nor ``optimizer__foreach``).

    The fused kernel updates every parameter in one call instead of torch's
    Python loop over the tensors (CPU's default): 0.74-0.78 of the time per
    epoch on the tiny full-batch setting of benchmarks/overhead.py (f).
    Results differ from the loop in the last digits only.
    """
    if optimizer not in (torch.optim.Adam, torch.optim.AdamW):
        return False
    if "fused" in opt_kwargs or "foreach" in opt_kwargs:
        return False
    return all(
        p.device.type in _FUSED_DEVICES and p.is_floating_point()
        for _, p in named_params
    )


def _inference_state(module, dtype):
    # DepthResMLP casts only what its active depths use; any module works.
    if hasattr(module, "active_state"):
        return module.active_state(dtype)
    return cast_state(module, dtype)


@contextmanager
def _all_depths_if(module, condition):
    if condition:
        with module.all_depths():
            yield
    else:
        yield


def _writable(X):
    return X if X.flags.writeable else X.copy()


def _is_convertible(X):
    try:
        np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _is_numeric(column):
    return (
        np.issubdtype(np.asarray(column).dtype, np.number)
        or np.asarray(column).dtype == np.bool_
    )


def _check_number(name, value, *, integral=False, low=None, high=None, low_open=False):
    kind = numbers.Integral if integral else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integral else "a real number"
        raise TypeError(f"{name} must be {what}; got {value!r}.")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(
            f"{name} must be {'>' if low_open else '>='} {low}; got {value}."
        )
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}; got {value}.")
