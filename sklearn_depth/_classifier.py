# SPDX-License-Identifier: MIT
"""DepthSearchClassifier: variational depth search for classification."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from skorch.callbacks import EpochScoring

from sklearn_depth._base import _DepthSearchBase
from sklearn_depth._criterion import CategoricalDepthELBO
from sklearn_depth._depth import fit_temperature, marginal_log_proba
from sklearn_depth._export import MarginalClassifierNet
from sklearn_depth._members import log_mean_exp
from sklearn_depth._model import DepthResMLP
from sklearn_depth._params import check_number
from sklearn_depth._repr import signature_with_defaults
from sklearn_depth._stages import _ClassifierStagesMixin

__all__ = ["DepthSearchClassifier"]


def _encoded_accuracy(net, X, y):
    # Scoring callback used during training: skorch hands over the internal
    # dataset and the *encoded* targets, and the net is not fitted yet, so
    # this must bypass the public, validating predict.
    y = np.asarray(y)
    return float(np.mean(net._predict_log_proba(X).argmax(axis=1) == y))


class DepthSearchClassifier(_ClassifierStagesMixin, ClassifierMixin, _DepthSearchBase):
    """Residual network classifier that learns a posterior over its depth.

    Variational Depth Search (Antorán, Allingham and Hernández-Lobato, 2020):
    a residual MLP of ``max_depth`` blocks whose every block output feeds one
    shared output head, so a single forward pass gives the predictions of all
    depths ``0..max_depth``. A categorical variational posterior ``q(d)`` is
    learned jointly with the weights by maximising the ELBO

        ``E_q[log p(y | x, d)] − KL(q || p) / N``

    (expectation over depth computed exactly). After training, the network is
    pruned to ``depth_`` blocks and predicts by marginalising over the
    posterior folded onto the kept depths.

    Parameters
    ----------
    module : type, default=DepthResMLP
        The network class, built from the data by ``initialize_module`` with
        ``n_features``, ``n_outputs``, ``max_depth``, ``width`` and
        ``log_prior``; pass ``module__<name>`` to set further arguments.
    criterion : type or None, default=None
        The negative ELBO; ``None`` means :class:`CategoricalDepthELBO`.
    max_depth : int, default=10
        Number of residual blocks ``D``; the posterior covers depths
        ``0..max_depth``. With ``grow=True``, the ceiling of growth.
    width : int, default=32
        Units of the input layer and of every residual block.
    grow : bool, default=False
        Grow the network while training: start with ``initial_depth``
        blocks and add one, as the identity, after every epoch in which the
        deepest depth predicts best (lowest NLL on early stopping's
        held-out rows, or on the training batches without them, by 1 % of
        its magnitude), up to ``max_depth``. The posterior then
        covers the depths grown, and epochs cost only the blocks grown so
        far. ``history`` records ``grown_depth`` per epoch and
        ``depth_grown`` where a block was added.
    initial_depth : int, default=2
        Blocks to start with when ``grow=True`` (at most ``max_depth``).
    prior : str or array-like of shape (max_depth + 1,), default="auto"
        Prior over depth, and the posterior's starting point (``q`` starts
        at the prior): ``"auto"`` is uniform over depths ``0..10`` (so
        uniform for the default ``max_depth``) and makes each deeper depth
        0.85 times as likely as the one before, so that raising
        ``max_depth`` as a ceiling leaves the selected depth where it was
        instead of spreading ``q`` over the extra blocks; ``"uniform"``;
        ``"geometric:<r>"`` (``p(d) ∝ r ** (d + 1)``, the paper uses
        ``r = 0.85``); or non-negative weights normalised internally, where
        a zero weight forbids that depth (its posterior mass is exactly 0).
    prune_threshold : float in (0, 1], default=0.95
        The selected depth is the smallest ``d`` with
        ``q(d) >= prune_threshold * max q``; ``1.0`` selects the mode.
    depth_lr : float or None, default=0.1
        Learning rate of the posterior logits (their own optimiser group,
        without weight decay). ``None`` uses ``lr``. With the shared learning
        rate q barely moves (the gradient of a logit is of order ``q(d)``)
        and the selected depth is erratic; see Notes.
    depth_warmup : int or float in [0, 1], default=10
        Length of the warm-up at the start of training during which ``q`` is
        held at its initial value (the prior), so that the
        blocks of every depth are trained before the posterior concentrates;
        see Notes. An int is a number of epochs, a float a fraction of
        ``max_epochs``. Early stopping neither stops nor picks its best
        epoch during the warm-up.
    kl_weight : float, default=1.0
        Multiplier of ``KL(q || p) / N``; 1 is the proper ELBO.
    sparse_blocks : {None, "ard"}, default=None
        ``"ard"`` makes every block a bottleneck ``h + W2 ReLU(BN(W1 h))``
        (``width → hidden → width``, ``hidden = width`` unless
        ``module__hidden`` is given) whose two linear layers are
        :class:`~sklearn_depth.nn.LinearARD` layers (sparse variational
        dropout): training then learns which weights and hidden units each
        block needs, as well as how many blocks. See
        :meth:`export_pruned` for the resulting smaller network.
    sparsity_strength : float, default=0.1
        Multiplier of the ARD weights' ``KL / N`` in the ELBO (with
        ``sparse_blocks="ard"``): 1 is the proper Bayesian objective, 0 switches
        sparsification off, larger values trade accuracy for fewer
        parameters. It grows linearly from 0 during the warm-up
        (``depth_warmup``). The default is below 1 by measurement: see Notes.
    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the training rows (stratified by
        class), score the marginal predictive's negative log-likelihood on
        them after every epoch (``valid_loss`` in ``history``), stop when it
        has not improved by ``tol`` for ``n_iter_no_change`` epochs, and
        restore the network and ``q`` of the best epoch. ``"auto"`` does so
        in ``fit`` with 20 rows or more, unless ``train_split`` is given (then
        your own callbacks decide); ``True`` also on your ``train_split``.
        ``partial_fit`` never holds rows out.
    validation_fraction : float in (0, 1), default=0.2
        Fraction of the training rows held out for early stopping.
    n_iter_no_change : int or "auto", default="auto"
        Epochs without an improvement of ``valid_loss`` by at least ``tol``
        after which early stopping ends training. ``"auto"``: 30 epochs, but
        at least 200 optimiser steps (200 epochs of a full-batch data set).
    tol : float, default=1e-4
        Least improvement of ``valid_loss`` (nats per row) that counts.
    n_members : int or "auto", default="auto"
        Ensemble members packed into one network: ``n_members``
        independently initialised residual networks side by side (their
        linear maps block-diagonal, so their streams never mix), trained
        together, sharing the posterior over depth; every depth predicts the
        members' mixture ``(1/K) Σ_m softmax(f_{m,d}(x))``. With early
        stopping on rows of the estimator's own choosing, each member holds
        out its own ``validation_fraction`` of the rows (stratified, other
        rows for each member) and trains on the others, so that together
        they train on every row; ``valid_loss`` and the temperature are
        computed on each held-out row from the members that held it out.
        ``partial_fit`` and a ``train_split`` of your own train every member
        on the same rows; with a torch ``Dataset`` as ``X`` the members
        share one held-out split. Needs ``DepthResMLP`` with plain blocks (no
        ``sparse_blocks``); ``"auto"`` is 4 there and 1 (one network) for
        any other module or with ``sparse_blocks="ard"``. Costs about
        ``n_members`` times the arithmetic of one network in fitting and
        prediction; ``n_members=1`` is the paper's single network.
    temperature : "auto" or float, default="auto"
        Divides every depth's logits before the softmax in all predictions
        (temperature scaling). ``"auto"`` fits ``T >= 1`` after training on
        the rows early stopping held out, by their negative log-likelihood
        (the network stopped early on them is still over-confident), and
        uses ``T = 1`` when no rows were held out (``early_stopping=False``,
        ``partial_fit``). A float fixes ``T``; ``1.0`` switches it off.
    exit_threshold : float or None, default=None
        Early exit at prediction time: a row leaves at the first stage
        (see :meth:`staged_predict_proba`) whose largest class probability
        reaches it, and the blocks after it are not computed for that row.
        ``None`` runs every kept block. A prediction-time setting: change it
        after fitting with ``set_params``, or choose it on held-out rows with
        :meth:`tune_exit_threshold`. The exported module always computes the
        full pruned network.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch shuffling and the held-out split:
        one seed is drawn with ``check_random_state(random_state)`` and
        training runs under
        ``torch.random.fork_rng``, so an int leaves numpy's and torch's
        global random state untouched. ``None`` draws the seed from numpy's
        global random state (advancing it). Results are bit-identical for
        the same seed and the same number of torch threads only: a joblib
        worker with ``n_jobs > 1`` uses fewer threads than the parent and
        may differ in the last digits.
    optimizer : torch optimizer class, default=torch.optim.AdamW
        The optimiser of the network weights; ``weight_decay`` sets its
        decay, never that of the logits of ``q`` or of the noise scale.
        With ``torch.optim.Adam`` or ``AdamW`` the fused implementation is
        used (``fused=True``, one kernel for all parameters; CPU needs torch
        >= 2.4) unless ``optimizer__fused`` or ``optimizer__foreach`` is
        given: ``optimizer__fused=False`` restores torch's default.
    lr : float, default=0.01
        Learning rate of the network weights.
    weight_decay : "auto" or float, default="auto"
        Weight decay of the network weights (the optimiser's
        ``weight_decay``; decoupled with ``AdamW``). ``"auto"`` anneals it
        in fits with early stopping, from strong to weak, ``3 * 0.5 **
        (epoch / 20)`` down to AdamW's default 0.01 (halved every 400
        optimiser steps instead when that is sooner), and early stopping
        keeps the best epoch on the way: a small, noisy table is best early,
        strongly regularised, a complex function later. On the real tables
        of ``benchmarks/tabular.py`` it lowers the mean log-loss ratio to
        the best baseline from 1.71 (constant 0.01) to 1.52 and keeps the
        paper's spirals; on larger data the fits run longer (1.6-2.6x on
        ``make_classification`` with 1000-20000 rows, with lower log-loss
        and higher accuracy; ``benchmarks/README.md``), and
        ``weight_decay=0.01`` is the faster setting. Without early stopping
        (``early_stopping=False``, ``partial_fit``) ``"auto"`` is 0.01, and
        with an optimiser other than ``AdamW`` it leaves that optimiser's
        default. A float is a constant decay; ``optimizer__weight_decay``
        wins when given. The schedule is the default callback
        ``"weight_decay"``; epochs count from the start of ``history``. The
        regressor's default is 0.01 (on the larger UCI data sets ``"auto"``
        was worse).
    max_epochs : int, default=1000
        Number of passes over the training data; with early stopping only a
        cap.
    batch_size : int, default=256
        Largest number of rows per training mini-batch (data sets of up to
        256 rows train full-batch): an epoch's rows are split into as many
        batches as that needs, of equal size (277 rows into 139 + 138, not
        256 + 21); ``-1`` always trains full-batch; prediction batches hold
        ``batch_size`` rows. Batches of in-memory arrays are sliced
        from tensors moved to ``device`` once (the same batches, order and
        random draws as skorch's ``DataLoader``, without its per-row
        overhead). Setting any ``iterator_train__*`` / ``iterator_valid__*``
        argument other than ``batch_size``, ``shuffle`` and ``drop_last``
        (e.g. ``iterator_train__num_workers=0``), or another
        ``iterator_train``, opts out and uses the ``DataLoader``. A last batch of one
        row is dropped each epoch (BatchNorm cannot train on it; with
        shuffling a different row is left out every epoch).
    train_split : callable or None, default=None
        skorch's internal validation split. ``None``: the held-out rows of
        ``early_stopping``, or none (every row is trained on).
    verbose : int, default=0
    device : str, default="cpu"
        Torch device, e.g. ``"cuda"``. Fitted attributes are numpy arrays, so
        a model fitted on a GPU unpickles on a CPU-only machine.
    **kwargs
        Any other :class:`skorch.NeuralNet` argument (``callbacks``,
        ``warm_start``, ``optimizer__weight_decay``, ``module__*``,
        ``iterator_train__*``, ...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen during ``fit``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, defined only when ``X`` has
        string column names.
    posterior_depth_ : ndarray of shape (max_depth + 1,)
        The learned posterior ``q(d)`` over depth (over the depths grown,
        ``0..module_.grown_depth``, with ``grow=True``).
    prior_depth_ : ndarray of shape (max_depth + 1,)
        The prior ``p(d)`` the posterior was trained with (restricted to the
        depths grown and renormalised, with ``grow=True``).
    depth_ : int
        The selected depth: the number of blocks the pruned network runs.
    pruned_posterior_depth_ : ndarray of shape (max_depth + 1,)
        ``q`` with the mass of depths beyond ``depth_`` folded onto
        ``depth_`` (zero beyond it); ``predict_proba`` marginalises over it.
    temperature_ : float
        The temperature dividing the logits in every prediction.
    n_train_ : int
        Number of rows ``N`` the KL is divided by: the rows trained on
        (after any internal validation split), summed over ``partial_fit``
        calls.
    n_params_ : int
        Parameters of the trained network with all ``max_depth`` blocks (and
        all hidden units), counted in its exported form: batch normalisation
        folded, the variational parameters (depth logits, ARD log variances)
        not counted.
    n_params_pruned_ : int
        Parameters of the network :meth:`export_pruned` returns.
    n_params_removed_depth_ : int
        Parameters removed with the blocks beyond ``depth_``.
    n_params_removed_ard_ : int
        Parameters removed with the hidden units that ARD disconnected in
        the kept blocks (0 without ``sparse_blocks``);
        ``n_params_ = n_params_pruned_ + n_params_removed_depth_
        + n_params_removed_ard_``.
    module_, criterion_, optimizer_, history_ :
        skorch's fitted objects; ``history`` records ``train_loss``,
        ``posterior_depth`` (``q`` after each epoch) and ``expected_depth``.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Fixed-depth MLP.

    Notes
    -----
    The ELBO's data term is averaged over the rows of each batch (weighted by
    ``sample_weight``), and ``KL(q || p)`` is divided by ``n_train_``.

    **How q converges, and the defaults.** The reference implementation
    trains ``q``'s logits with the weights' learning rate and needs
    thousands of full-batch epochs. Here they have their own learning rate
    (``depth_lr``, Adam) and are held fixed during a warm-up, so the blocks
    of every depth are trained before ``q`` concentrates: without the
    warm-up the selected depths are larger, with ``depth_lr`` equal to
    ``lr`` ``q`` hardly moves and the selected depth is erratic across
    seeds, and a closed-form update of ``q`` after every epoch collapses
    onto the shallow depths whose blocks trained first.
    ``benchmarks/defaults.py`` measures these choices on the paper's
    spirals; its figures are in ``benchmarks/README.md``.

    **Sparse blocks.** With ``sparse_blocks="ard"`` the KL of the ARD weights
    joins the depth KL, ``(kl_weight KL(q || p) + sparsity_strength
    KL_ARD) / N``, and grows linearly from 0 to full strength over the
    ``depth_warmup`` epochs (KL annealing, so that the blocks fit the data
    before the KL prunes them). That KL costs a few nats for every weight
    the data does not pay for, which on small data sets outweighs the
    likelihood: at strength 1 (the proper objective) it prunes nearly every
    weight of a small problem, hence the default 0.1
    (``benchmarks/ard_warmup.py`` and ``benchmarks/boston_ard.py`` measure
    it). Tune it with ``GridSearchCV`` for your data size.

    References
    ----------
    .. [1] J. Antorán, J. U. Allingham and J. M. Hernández-Lobato, "Variational
       Depth Search in ResNets", arXiv:2002.02797, 2020.
    .. [2] J. Antorán, J. U. Allingham and J. M. Hernández-Lobato, "Depth
       Uncertainty in Neural Networks", NeurIPS 2020, arXiv:2006.08437.

    Examples
    --------
    >>> from sklearn_depth import DepthSearchClassifier, make_spirals
    >>> X, y = make_spirals(200, noise=0.2, random_state=0)
    >>> clf = DepthSearchClassifier(max_depth=5, max_epochs=2, random_state=0)
    >>> clf.fit(X, y).classes_
    array([0, 1])
    >>> clf.posterior_depth_.shape, clf.predict_proba(X[:3]).shape
    ((6,), (3, 2))
    """

    _default_criterion = CategoricalDepthELBO

    _likelihood_attributes = ("temperature_",)

    def __init__(
        self,
        module=DepthResMLP,
        criterion=None,
        *,
        temperature="auto",
        exit_threshold=None,
        weight_decay="auto",
        **kwargs,
    ):
        super().__init__(module, criterion, weight_decay=weight_decay, **kwargs)
        self.temperature = temperature
        self.exit_threshold = exit_threshold

    def _check_params(self):
        super()._check_params()
        if not (isinstance(self.temperature, str) and self.temperature == "auto"):
            check_number(
                self.temperature, "temperature", min_val=0, include_boundaries="neither"
            )
        self._check_exit_threshold()

    def _calibrate(self, dataset_valid):
        # Temperature scaling on the held-out rows of early stopping.
        if not (isinstance(self.temperature, str) and self.temperature == "auto"):
            self.temperature_ = float(self.temperature)
            return
        self.temperature_ = 1.0
        if self._member_rows is not None:
            self._calibrate_members()
            return
        if dataset_valid is None or not len(dataset_valid):
            return
        logits, y, weight = [], [], []
        self._set_training(False)
        with torch.no_grad():
            for Xi, yi in self.get_iterator(dataset_valid, training=False):
                logits.append(self.infer(Xi).double().cpu().numpy())
                y.append(np.asarray(yi))
                if isinstance(Xi, Mapping) and "sample_weight" in Xi:
                    weight.append(np.asarray(Xi["sample_weight"], dtype=np.float64))
        self.temperature_ = fit_temperature(
            np.concatenate(logits),
            np.concatenate(y).astype(np.int64),
            self.pruned_posterior_depth_[: self.depth_ + 1],
            np.concatenate(weight) if weight else None,
        )

    def _calibrate_members(self):
        # Each row's logits: the log of the mixture of the members that held
        # it out (packed members with rows of their own).
        with torch.no_grad():
            log_proba = torch.log_softmax(self._member_outputs().double(), dim=-1)
            held_out = self._member_rows["held_out"].to(log_proba.device)
            logits = log_mean_exp(log_proba, dim=2, mask=held_out[:, None, :, None])
        weight = self._member_rows["sample_weight"]
        self.temperature_ = fit_temperature(
            logits.cpu().numpy(),
            np.asarray(self._member_rows["y"]).astype(np.int64),
            self.pruned_posterior_depth_[: self.depth_ + 1],
            None if weight is None else np.asarray(weight, dtype=np.float64),
        )

    def _scoring_callbacks(self):
        # Accuracy on skorch's internal validation split (when one is set).
        return [
            (
                "valid_acc",
                EpochScoring(
                    _encoded_accuracy, name="valid_acc", lower_is_better=False
                ),
            )
        ]

    def _marginal_net(self, body, depth_weights):
        return MarginalClassifierNet(body, depth_weights, self.temperature_)

    def _n_outputs(self):
        return len(self.classes_)

    def _encode_targets(self, y, reset, classes=None):
        # Labels of any type are encoded to 0..n_classes - 1 for the loss.
        check_classification_targets(y)
        if reset:
            encoder = LabelEncoder().fit(y if classes is None else classes)
            if len(encoder.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes "
                    f"in the data, but the data contains only 1 class: "
                    f"{encoder.classes_[0]!r}."
                )
            self.label_encoder_ = encoder
            self.classes_ = encoder.classes_
        elif classes is not None and not np.array_equal(
            np.unique(classes), self.classes_
        ):
            raise ValueError(
                f"classes={np.unique(classes)!r} is not the same as on the first "
                f"call to partial_fit, was: {self.classes_!r}."
            )
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(f"y contains labels not seen before: {unseen}.")
        return self.label_encoder_.transform(y).astype(np.int64)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **fit_params):
        """Train for ``max_epochs`` more epochs on a batch of data.

        The first call initialises the network; later calls continue
        training it, and the KL is divided by all rows trained on so far.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All classes that will appear; needed on the first call when it
            does not contain every class.
        sample_weight : array-like of shape (n_samples,), default=None
        **fit_params : dict

        Returns
        -------
        self : object
        """
        return self._partial_fit(X, y, sample_weight, fit_params, classes=classes)

    def _predict_log_proba(self, X):
        """Marginal log-probabilities over the current posterior (training).

        Goes through skorch's ``forward_iter``, which scoring callbacks
        cache and patch during training.
        """
        log_q = self.module_.log_q().detach().double().cpu()
        chunks = []
        for logits in self.forward_iter(X, training=False):
            log_proba = torch.log_softmax(logits.double(), dim=-1)
            chunks.append(marginal_log_proba(log_proba, log_q))
        return torch.cat(chunks).numpy()

    def predict_proba(self, X):
        """Class probabilities marginalised over the pruned depth posterior.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), dtype float64
            ``Σ_d q'(d) softmax(f_d(x) / temperature_)`` over
            ``d = 0..depth_``, in the
            order of ``classes_``; with ``exit_threshold``, each row's stage
            at its exit depth (:meth:`exit_depths`).
        """
        X = self._check_predict_X(X)
        self._check_exit_threshold()
        return self._exit(X)[0]

    def predict_proba_per_depth(self, X):
        """Class probabilities of every depth, running all blocks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, max_depth + 1, n_classes)
            ``softmax(f_d(x) / temperature_)`` for ``d = 0..max_depth``
            (the depths grown, ``0..module_.grown_depth``, with
            ``grow=True``), float64.
        """
        X = self._check_predict_X(X)
        logits = self._outputs(X, all_depths=True) / self.temperature_
        return torch.softmax(torch.from_numpy(logits), dim=-1).numpy()

    def predict(self, X):
        """Most probable class under the marginal predictive.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


# skorch's parameters and defaults, visible to scikit-learn's repr (_repr.py).
DepthSearchClassifier.__init__.__signature__ = signature_with_defaults(
    DepthSearchClassifier.__init__, _DepthSearchBase.__init__
)
