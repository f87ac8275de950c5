# SPDX-License-Identifier: MIT
"""What the depth posterior knows besides the prediction: stages, exits, splits.

Every depth already has a prediction (the shared head), so the pruned model
is a sequence of ever deeper internal predictors. Stage ``k`` is the
marginal under ``q`` with its tail folded onto depth ``k`` (as
``pruned_posterior_depth_`` folds it at ``depth_``), so the last stage is the
estimator's prediction. The classifier can let a row leave at the first
stage that is confident enough (``exit_threshold``), and splits its
predictive entropy into the part the depths agree on and the part they do
not; the regressor splits its variance the same way
(``predict_std_components``).
"""

from __future__ import annotations

import numpy as np

from sklearn_depth._data import DatasetRows
from sklearn_depth._depth import (
    depth_means,
    depth_proba,
    entropy_components,
    fold_tail,
    marginal_proba,
    member_divergence,
)
from sklearn_depth._params import check_number

__all__ = ["stage_weights"]


def stage_weights(q, k: int) -> np.ndarray:
    """Weights over depths ``0..k`` of stage ``k``: ``q`` with its tail folded at ``k``.

    Examples
    --------
    >>> stage_weights([0.1, 0.2, 0.3, 0.4], 1)
    array([0.1, 0.9])
    """
    return fold_tail(q, k)[: k + 1]


class _ClassifierStagesMixin:
    """Staged predictions, early exit and the entropy split of the classifier."""

    def _pruned_q(self):
        return self.pruned_posterior_depth_[: self.depth_ + 1]

    def _logits(self, X):
        """Per-depth logits of validated rows, divided by ``temperature_``."""
        return self._scaled(self._outputs(X))

    def _scaled(self, logits):
        return logits if self.temperature_ == 1.0 else logits / self.temperature_

    def staged_predict_proba(self, X):
        """Class probabilities after each kept block, as GradientBoosting's.

        Stage ``k`` (``k = 0..depth_``) uses the depths ``0..k`` only: the
        posterior's mass beyond ``k`` is folded onto depth ``k``. Stage 0 is
        the linear model of depth 0; the last stage equals
        :meth:`predict_proba` (without early exit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Yields
        ------
        proba : ndarray of shape (n_samples, n_classes)
        """
        yield from self._stages(self._check_predict_X(X))

    def _stages(self, X):
        """The stages' probabilities for validated rows."""
        logits, q = self._logits(X), self._pruned_q()
        for k in range(self.depth_ + 1):
            yield marginal_proba(logits[:, : k + 1], stage_weights(q, k))

    def staged_predict(self, X):
        """Predicted classes after each kept block (see :meth:`staged_predict_proba`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Yields
        ------
        y_pred : ndarray of shape (n_samples,)
        """
        for proba in self.staged_predict_proba(X):
            yield self.classes_[proba.argmax(axis=1)]

    def predict_entropy_components(self, X):
        """The two parts of the predictive entropy, as ``predict_std_components``.

        ``H[p(y | x)] = Σ_d q'(d) H[p(y | x, d)] + I(y; d | x)`` under the
        pruned posterior ``q'``: the entropy that every depth predicts
        (aleatoric) and the information the label would give about the depth
        (epistemic: the depths' disagreement). With one network
        (``n_members=1``) the epistemic part is 0 for every row when
        ``depth_`` is 0, where a single depth is left. With packed ensemble
        members it also holds their disagreement, ``Σ_d q'(d) JS_d``, the
        Jensen-Shannon divergence of the members' predictions at depth ``d``
        (each member's logits divided by ``temperature_``), taken out of the
        aleatoric part: the information the label would give about the
        (depth, member) pair. Entropies are in nats; their sum is the
        entropy of :meth:`predict_proba` (without early exit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        expected_entropy : ndarray of shape (n_samples,)
            Aleatoric part.
        mutual_information : ndarray of shape (n_samples,)
            Epistemic part, over depth (and members).
        """
        X = self._check_predict_X(X)
        q = self._pruned_q()
        aleatoric, epistemic = entropy_components(self._logits(X), q)
        if getattr(self._core_module(), "n_members", 1) > 1:
            members = self._scaled(self._outputs(X, per_member=True))
            divergence = member_divergence(members, q)
            aleatoric = np.maximum(aleatoric - divergence, 0.0)
            epistemic = epistemic + divergence
        return aleatoric, epistemic

    def score_samples(self, X):
        """Normality score of each row: minus the depths' disagreement.

        In scikit-learn's novelty convention (higher means more normal), the
        negative mutual information of :meth:`predict_entropy_components`
        (with packed members, the members' disagreement included). Rows
        unlike the training data often make the depths and members
        disagree, but not always (``benchmarks/ood.py`` measures when it
        works); with one network it is 0 for every row when ``depth_`` is 0.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return -self.predict_entropy_components(X)[1]

    # -- early exit ---------------------------------------------------------------
    def exit_depths(self, X):
        """The depth at which each row leaves under ``exit_threshold``.

        The number of blocks evaluated for the row: the first stage whose
        largest class probability reaches ``exit_threshold``, or ``depth_``
        (every kept block) if none does or the threshold is ``None``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        depth : ndarray of shape (n_samples,), int
        """
        X = self._check_predict_X(X)
        return self._exit(X)[1]

    def _check_exit_threshold(self):
        if self.exit_threshold is not None:
            check_number(self.exit_threshold, "exit_threshold", min_val=0)

    def _exit(self, X):
        """Probabilities and exit depths of validated rows under early exit.

        A running sum of the depths' weighted probabilities gives every
        stage in one pass over the depths. The rows that never leave get
        the probabilities of :meth:`predict_proba` without early exit,
        computed the same way.
        """
        q, threshold = self._pruned_q(), self.exit_threshold
        if threshold is None:
            proba = marginal_proba(self._logits(X), q)
            return proba, np.full(len(X), self.depth_)
        n_classes = len(self.classes_)
        tails = np.cumsum(q[::-1])[::-1]  # mass of depths >= k
        earlier = np.zeros((n_classes, len(X)))  # Σ_{d<k} q(d) p_d, by class
        proba = np.empty((len(X), n_classes))

        def leaves(depth, rows, logits):  # logits: (n_classes, len(rows))
            p = depth_proba(self._scaled(logits).T[:, None])[:, 0]
            stage = earlier[:, rows] + tails[depth] * p
            stage /= stage.sum(axis=0)
            leave = stage.max(axis=0) >= threshold
            proba[rows[leave]] = stage[:, leave].T
            earlier[:, rows] += q[depth] * p
            return leave

        module = self._check_network()
        forward = self._numpy_forward(module, module.active_depth)
        if forward is not None and not isinstance(X, DatasetRows):
            logits, depth = forward.exit_forward(X, leaves)
        else:  # every block runs; the exits are read off the full outputs
            logits = self._outputs(X).transpose(2, 1, 0)
            depth = np.full(len(X), self.depth_)
            rows = np.arange(len(X))
            for k in range(self.depth_):
                leave = leaves(k, rows, logits[:, k, rows])
                depth[rows[leave]] = k
                rows = rows[~leave]
        last = depth == self.depth_
        if last.any():
            full = self._scaled(logits[:, :, last].transpose(2, 1, 0))
            proba[last] = marginal_proba(full, q)
        return proba, depth

    def tune_exit_threshold(self, X, tolerance=0.002):
        """Choose ``exit_threshold`` on held-out rows for an accuracy tolerance.

        Among thresholds drawn from the stages' own confidences, the one
        that evaluates the fewest blocks on average while the early exits
        change the predicted class of at most a fraction ``tolerance`` of
        the rows ``X`` (or one row, whichever is larger). On those rows the
        accuracy then falls by at most as much, whatever the labels. No
        labels are needed: bounding the changed predictions, rather than
        the accuracy itself, does not let rows that exits get right pay for
        others they get wrong, which over-fits small tuning sets. Use rows
        the estimator was not fitted on.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out rows.
        tolerance : float, default=0.002
            Fraction of rows whose prediction may change (0.002 is 0.2
            points of accuracy).

        Returns
        -------
        self : object
            With ``exit_threshold`` set (``None`` when no threshold saves a
            block within the tolerance).
        """
        check_number(tolerance, "tolerance", min_val=0, max_val=1)
        X = self._check_predict_X(X)
        stages = list(self._stages(X))
        confidence = np.stack([s.max(axis=1) for s in stages])  # (stages, n)
        final = stages[-1].argmax(axis=1)
        same = np.stack([s.argmax(axis=1) == final for s in stages])
        allowed = max(tolerance, 1.0 / len(X))
        candidates = np.unique(confidence[:-1])
        if candidates.size > 256:
            candidates = np.quantile(candidates, np.linspace(0, 1, 256))
        best, best_blocks = None, float(self.depth_)
        rows = np.arange(len(X))
        for t in candidates:
            meets = confidence >= t
            meets[-1] = True
            first = meets.argmax(axis=0)  # the first stage reaching t
            changed = 1.0 - same[first, rows].mean()
            blocks = first.mean()
            if changed <= allowed + 1e-12 and blocks < best_blocks:
                best, best_blocks = float(t), blocks
        self.exit_threshold = best
        return self


class _RegressorStagesMixin:
    """Staged predictions and the novelty score of the regressor."""

    def staged_predict(self, X):
        """Predicted means after each kept block, as GradientBoosting's.

        Stage ``k`` (``k = 0..depth_``) uses the depths ``0..k`` only: the
        posterior's mass beyond ``k`` is folded onto depth ``k``. The last
        stage equals :meth:`predict`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Yields
        ------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        X = self._check_predict_X(X)
        outputs = depth_means(self._outputs(X))
        q = self.pruned_posterior_depth_[: self.depth_ + 1]
        for k in range(self.depth_ + 1):
            mean = np.einsum("ndo,d->no", outputs[:, : k + 1], stage_weights(q, k))
            yield self._unstandardise(mean)

    def score_samples(self, X):
        """Normality score of each row: minus the depths' disagreement.

        In scikit-learn's novelty convention (higher means more normal): the
        negative depth standard deviation of :meth:`predict_std_components`
        (in units of the targets' standard deviation, summed over outputs),
        which with ``n_members > 1`` includes the members' disagreement.
        0 for every row when ``depth_`` is 0 and there is one member.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        X = self._check_predict_X(X)
        _, depth_var, _ = self._moments(X)
        return -np.sqrt(depth_var).sum(axis=1)
