# SPDX-License-Identifier: MIT
"""Forward passes of a fitted backbone for prediction.

On a CPU device the forward pass runs in float64, so a row's prediction
does not depend on which other rows share its batch (float32 matrix
products change in the last digits with the batch composition). For the
package's own :class:`~sklearn_depth.DepthResMLP` it runs in NumPy on
float64 copies of the pruned network's weights, batch normalisation folded
(:class:`NumpyResMLP`): a one-row prediction is then a few dozen small array
operations instead of a PyTorch module call. Those copies are made once
after a fit and rebuilt whenever the network changes (a parameter or
buffer written in place, replaced, or the pruned depth changed). Any other
module, and other devices (in float32), go through
``torch.func.functional_call``. Outputs come back as float64 arrays, which the
estimators marginalise over depth with the functions of
:mod:`sklearn_depth._depth`.
"""

from __future__ import annotations

import copy
import threading
import warnings
import weakref
from contextlib import nullcontext

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from torch import Tensor, nn

from sklearn_depth._backbone import DepthBackbone, cast_state, posterior_over_depths
from sklearn_depth._data import DatasetRows, feature_batches
from sklearn_depth._depth import fold_tail, select_depth
from sklearn_depth._export import export_body, parameter_counts
from sklearn_depth._members import dense_linear, member_log_proba_np
from sklearn_depth._model import DepthResMLP
from sklearn_depth._plain import ExportedBottleneckBlock, ExportedResidualBlock
from sklearn_depth._random import TORCH_STATE_LOCK
from sklearn_depth._threads import estimator_threads
from sklearn_depth.exceptions import UninformedPosteriorWarning

__all__ = ["NumpyResMLP", "predict_outputs"]

# Bytes of one activation array of the NumPy forward pass (a chunk of rows).
_CHUNK_BYTES = 2**18
# From this many rows on, ensemble members' products run one by one.
_LOOP_ROWS = 64

# Attributes that _finalize_depth sets: removed when a fit fails or the
# network is rebuilt (the subclass adds its likelihood's).
_DEPTH_ATTRIBUTES = (
    "posterior_depth_",
    "depth_",
    "pruned_posterior_depth_",
    "prior_depth_",
    "n_params_",
    "n_params_pruned_",
    "n_params_removed_depth_",
    "n_params_removed_ard_",
)


def predict_outputs(
    module: nn.Module, X, *, device, batch_size: int, all_depths: bool = False
) -> Tensor:
    """Outputs of the active (or all) depths for the rows of ``X``, in torch.

    Parameters
    ----------
    module : nn.Module
        The backbone, in evaluation mode.
    X : ndarray of shape (n_samples, n_features) or DatasetRows
    device : str or torch.device
    batch_size : int
        Rows per forward pass.
    all_depths : bool, default=False
        Run every block, whatever the pruned ``active_depth``.

    Returns
    -------
    outputs : Tensor of shape (n_samples, n_depths, n_outputs), float64, CPU
    """
    device = torch.device(device)
    dtype = torch.float64 if device.type == "cpu" else torch.float32
    chunks = []
    with torch.no_grad(), module.all_depths() if all_depths else nullcontext():
        state = _inference_state(module, dtype)
        for batch in feature_batches(X, batch_size):
            batch = torch.as_tensor(batch).to(device=device, dtype=dtype)
            out = torch.func.functional_call(module, state, (batch,))
            chunks.append(out.to("cpu", torch.float64))
    return torch.cat(chunks)


def _inference_state(module, dtype):
    # A DepthBackbone casts only what its active depths use; any module works.
    if hasattr(module, "active_state"):
        return module.active_state(dtype)
    return cast_state(module, dtype)


class NumpyResMLP:
    """An exported residual MLP body as float64 NumPy arrays.

    Computes what :class:`~sklearn_depth._export.ExportedResMLP` computes,
    the head outputs of every kept depth, in as few array passes as it can:
    the biases that the input layer and the blocks add to the residual
    stream ``h`` are left out of it (the stream carried is ``g = h - B``,
    ``B`` the biases so far) and folded into each block's shift and each
    depth's head bias instead; a block whose batch-norm scale ``s`` is
    positive moves it into its weights,
    ``W ReLU(s h + t) = (W diag(s)) ReLU(h + t / s)``.

    Parameters
    ----------
    body : ExportedResMLP
        An exported body (plain and bottleneck blocks, batch norm folded),
        best in float64.
    """

    def __init__(self, body):
        def arr(t):
            return t.detach().cpu().double().numpy()

        self.w_in = arr(body.input.weight).T.copy()
        w_head = arr(dense_linear(body.head).weight).T.copy()
        bias = arr(body.input.bias)  # B: what the stream has not received
        head_bias = [bias @ w_head]
        # Packed ensemble members (sklearn_depth._members): the blocks'
        # block-diagonal weights are kept as one matrix per member, and the
        # head's outputs, member by member, become the log of their mixture
        # (a Gaussian's members are returned apart: an output axis of K).
        self.n_members = getattr(body, "n_members", 1)
        self.mix_members = self.n_members > 1 and getattr(body, "mix_members", True)
        n_outputs = w_head.shape[1] // self.n_members
        self.n_outputs = n_outputs if self.mix_members else w_head.shape[1]
        self.blocks = []
        for block in body.blocks:
            step, block_bias = _block_plan(block, bias, arr)
            self.blocks.append(step)
            bias = bias + block_bias
            head_bias.append(bias @ w_head)
        self.w_head = w_head
        # (n_depths, n_outputs): the head's bias plus the stream's, per depth.
        self.head_bias = np.stack(head_bias) + arr(body.head.bias).reshape(-1)
        self._scratch = threading.local()

    def _row_shape(self, mix):
        """Shape of one row's outputs at one depth."""
        if self.n_members > 1 and not (mix and self.mix_members):
            return (self.n_members, self.w_head.shape[1] // self.n_members)
        return (self.n_outputs,)

    def predict(self, X, mix=True) -> np.ndarray:
        """Outputs for the rows of an array or :class:`DatasetRows`, in chunks.

        A chunk's stream at one depth (``rows x width`` float64 values) holds
        at most 256 KiB, so a chunk's work arrays stay in the cache.
        ``mix=False`` returns every member's outputs (see :meth:`__call__`).
        """
        chunk = max(_CHUNK_BYTES // (8 * self.w_in.shape[1]), 1)
        if not isinstance(X, DatasetRows) and len(X) <= chunk:
            return self(np.asarray(X, dtype=np.float64), mix)
        if isinstance(X, DatasetRows):
            batches = feature_batches(X, chunk)
        else:
            batches = (X[start : start + chunk] for start in range(0, len(X), chunk))
        outputs = np.empty((len(X), len(self.blocks) + 1, *self._row_shape(mix)))
        start = 0
        for batch in batches:
            batch = np.asarray(batch, np.float64)
            outputs[start : start + len(batch)] = self(batch, mix)
            start += len(batch)
        return outputs

    def __call__(self, X: np.ndarray, mix=True) -> np.ndarray:
        """Outputs of depths ``0..len(blocks)``, shape ``(n, n_depths, n_outputs)``.

        A view of an ``(n_outputs, n_depths, n)`` array. Members that are
        not mixed (a Gaussian's, or any with ``mix=False``) make it
        ``(n, n_depths, n_members, n_outputs)``.
        """
        n, n_depths = len(X), len(self.blocks) + 1
        g, nxt, a = self._buffers(n)
        # Laid out (n_outputs, n_depths, n): reductions over the outputs are
        # then over the first axis (see _depth.marginal_proba).
        out = np.empty((self.w_head.shape[1], n_depths, n))
        np.matmul(X, self.w_in, out=g)
        for depth in range(n_depths):
            if depth:
                _run_block(self.blocks[depth - 1], g, nxt, a)
                g, nxt = nxt, g
            # The same operations as exit_forward's, so that its rows that
            # never leave get exactly these outputs.
            out[:, depth] = self._head_outputs(g, depth)
        if mix and self.mix_members:  # every depth's members mixed at once
            out = member_log_proba_np(out, self.n_members, axis=0)
        return out.transpose(2, 1, 0).reshape(n, n_depths, *self._row_shape(mix))

    def _head_outputs(self, g, depth):
        out = self.w_head.T @ g.T
        out += self.head_bias[depth][:, None]
        return out

    def _head(self, g, depth):
        out = self._head_outputs(g, depth)
        if self.mix_members:
            return member_log_proba_np(out, self.n_members, axis=0)
        return out

    def exit_forward(self, X, leaves):
        """Run rows through the blocks until ``leaves`` lets them go.

        Rows are taken in chunks, as by :meth:`predict`.

        Parameters
        ----------
        X : ndarray of shape (n, n_features)
        leaves : callable
            ``leaves(depth, rows, logits)``, with ``rows`` the indices (into
            ``X``) of the rows still running and ``logits`` their outputs at
            ``depth``, of shape ``(n_outputs, len(rows))``, returns a
            boolean mask of the rows that leave at ``depth``. It is called
            for every depth but the last; rows that leave are computed no
            further.

        Returns
        -------
        logits : ndarray of shape (n_outputs, n_depths, n)
            NaN beyond each row's exit depth.
        exit_depth : ndarray of shape (n,)
            The depth at which each row left (the last one if it never did),
            that is the number of blocks evaluated for it.
        """
        n, n_depths = len(X), len(self.blocks) + 1
        logits = np.full((self.n_outputs, n_depths, n), np.nan)
        exit_depth = np.full(n, n_depths - 1)
        chunk = max(_CHUNK_BYTES // (8 * self.w_in.shape[1]), 1)
        for start in range(0, n, chunk):
            rows = np.arange(start, min(start + chunk, n))
            g = np.asarray(X[start : start + chunk], dtype=np.float64) @ self.w_in
            for depth in range(n_depths):
                if depth:
                    nxt = np.empty_like(g)
                    _run_block(self.blocks[depth - 1], g, nxt, np.empty_like(g))
                    g = nxt
                out = self._head(g, depth)
                logits[:, depth, rows] = out
                if depth == n_depths - 1:
                    break
                leave = leaves(depth, rows, out)
                if leave.any():
                    exit_depth[rows[leave]] = depth
                    rows, g = rows[~leave], g[~leave]
                    if not len(rows):
                        break
        return logits, exit_depth

    def _buffers(self, n):
        """Work arrays for ``n`` rows, per thread, reused between calls."""
        scratch = self._scratch.__dict__
        if n not in scratch:
            if len(scratch) >= 4:
                scratch.clear()
            width = self.w_in.shape[1]
            # The stream, the next one, and a block's activation.
            scratch[n] = tuple(np.empty((n, width)) for _ in range(3))
        return scratch[n]


def _matmul(a, weight, out):
    """``out = a @ weight``; a 3-d ``weight`` acts per member (its first axis)."""
    if weight.ndim == 2:
        np.matmul(a, weight, out=out)
        return
    n_members, size, _ = weight.shape
    if len(a) < _LOOP_ROWS:  # one call: few rows cost overhead, not arithmetic
        groups = a.reshape(len(a), n_members, size).transpose(1, 0, 2)
        out.reshape(len(a), n_members, size)[...] = np.matmul(groups, weight).transpose(
            1, 0, 2
        )
        return
    # One product per member into its slice of the stream (faster than a
    # batched 3-d product on many rows in an exploratory timing; both give
    # the same digits).
    for m, member in enumerate(weight):
        columns = slice(m * size, (m + 1) * size)
        np.matmul(a[:, columns], member, out=out[:, columns])


def _run_block(step, g, nxt, a):
    """One step of :class:`NumpyResMLP`: ``nxt = g + block(g)``, ``a`` a work array."""
    kind, *w = step
    if kind == "scaled":
        shift, weight = w
        np.add(g, shift, out=a)
        np.maximum(a, 0.0, out=a)
        _matmul(a, weight, nxt)
    elif kind == "affine":
        scale, shift, weight = w
        np.multiply(g, scale, out=a)
        a += shift
        np.maximum(a, 0.0, out=a)
        _matmul(a, weight, nxt)
    elif kind == "bottleneck":
        w1, b1, w2 = w
        u = g @ w1
        u += b1
        np.maximum(u, 0.0, out=u)
        np.matmul(u, w2, out=nxt)
    else:  # identity
        nxt.fill(0.0)
    nxt += g


def _block_plan(block, bias, arr):
    """An exported block as a step of :class:`NumpyResMLP`.

    ``bias`` is what the incoming stream has not received. Returns the step,
    ``(kind, *arrays)``, and the bias the block adds to the stream.
    """
    if isinstance(block, ExportedResidualBlock):
        scale, shift = arr(block.scale), arr(block.shift) + arr(block.scale) * bias
        # (in, out), or (n_members, in, out) for a GroupedLinear
        weight = np.swapaxes(arr(block.linear.weight), -1, -2)
        if np.all(scale > 0):
            rows = scale.reshape(*weight.shape[:-1], 1)
            step = ("scaled", shift / scale, np.ascontiguousarray(rows * weight))
        else:
            step = ("affine", scale, shift, np.ascontiguousarray(weight))
        return step, arr(block.linear.bias).reshape(-1)
    if isinstance(block, ExportedBottleneckBlock):
        if not block.hidden:
            return ("identity",), arr(block.bias)
        w1 = arr(block.linear1.weight).T.copy()
        b1 = arr(block.linear1.bias) + bias @ w1
        return ("bottleneck", w1, b1, arr(block.linear2.weight).T.copy()), arr(
            block.bias
        )
    raise TypeError(  # pragma: no cover - export_body makes only these
        f"Unexpected exported block {type(block).__name__}."
    )


# NumPy forward passes per backbone and depth, alive as long as the backbone:
# kept out of the estimator, whose __dict__ prediction must not change and
# which pickles without them.
_FORWARD_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _sources_of_depth(module: DepthResMLP, depth: int) -> list:
    """Where the outputs of depths ``0..depth`` read their tensors from.

    ``(registry, name, tensor, version, data_ptr)`` for every parameter and
    buffer they use, ``registry`` being the owning module's ``_parameters``
    or ``_buffers`` dict.
    """
    parts = [module.input, *module.blocks[:depth], module.head]
    # The backbone's own tensors (q's logits, the prior), then its parts'.
    owners = [module, *(m for part in parts for m in part.modules())]
    sources = []
    for owner in dict.fromkeys(owners):  # unique, in order
        for registry in (owner._parameters, owner._buffers):
            for name, tensor in registry.items():
                if tensor is not None:
                    sources.append(
                        (registry, name, tensor, tensor._version, tensor.data_ptr())
                    )
    return sources


def _unchanged(sources) -> bool:
    # A tensor replaced (load_state_dict(assign=True), a new Parameter),
    # written in place (its version counter) or given new storage (.data =).
    return all(
        registry.get(name) is tensor
        and tensor._version == version
        and tensor.data_ptr() == data_ptr
        for registry, name, tensor, version, data_ptr in sources
    )


class _InferenceMixin:
    """Depth selection after training, and the forward passes of prediction."""

    def _outputs(self, X, all_depths=False, per_member=False):
        """Network outputs of the active (or all) depths, a float64 ndarray.

        ``per_member``: every packed ensemble member's outputs, unmixed,
        ``(n, n_depths, n_members, n_outputs)``. The torch path changes
        torch's thread count for its duration, so it holds the lock that
        training holds.
        """
        module = self._check_network()
        depth = self._grown_blocks() if all_depths else module.active_depth
        forward = self._numpy_forward(module, depth)
        if forward is not None:
            return forward.predict(X, mix=not per_member)
        batch_size = self._iterator_kwargs(len(X), training=False)["batch_size"]
        batch_size = max(batch_size, 1)
        self._set_training(False)
        with (
            TORCH_STATE_LOCK,
            estimator_threads(self, len(X), training=False),
            module.per_member() if per_member else nullcontext(),
        ):
            outputs = predict_outputs(
                module,
                X,
                device=self.device,
                batch_size=batch_size,
                all_depths=all_depths,
            )
        return outputs.numpy()

    def _check_network(self):
        """The backbone, after checking it is still the one that was fitted."""
        module = self._core_module()
        n_depths = (
            self._grown_blocks() + 1
            if hasattr(module, "max_depth")
            else len(self.posterior_depth_)
        )
        if (
            n_depths != len(self.posterior_depth_)
            or getattr(module, "active_depth", self.depth_) != self.depth_
        ):
            raise NotFittedError(
                f"The network of this {type(self).__name__} no longer matches its "
                "fitted depth (its max_depth or active_depth changed after "
                "fit); call fit again."
            )
        return module

    def _numpy_forward(self, module, depth):
        """The cached NumPy forward pass of ``depth`` blocks, or None.

        Only for the package's own ``DepthResMLP`` on the CPU. Rebuilt when
        a parameter or buffer it was built from has changed (the cache is
        keyed by the module, so a new network starts afresh).
        """
        if type(module) is not DepthResMLP or torch.device(self.device).type != "cpu":
            return None
        per_depth = _FORWARD_CACHE.setdefault(module, {})
        cached = per_depth.get(depth)
        if cached is not None and _unchanged(cached[0]):
            return cached[1]
        self._check_posterior(module)
        sources = _sources_of_depth(module, depth)
        try:
            body = export_body(
                copy.deepcopy(module).double(), depth, dtype=torch.float64
            )
        except TypeError:  # a block that export_body does not know
            return None
        per_depth[depth] = (sources, NumpyResMLP(body))
        return per_depth[depth][1]

    def _check_posterior(self, module):
        q = posterior_over_depths(module)
        if not np.allclose(q / q.sum(), self.posterior_depth_, rtol=1e-6, atol=1e-12):
            raise NotFittedError(
                f"The depth posterior of this {type(self).__name__}'s network no "
                "longer matches posterior_depth_ (its weights were changed after "
                "fit, e.g. with module_.load_state_dict); call fit again, or load "
                "weights with load_params, which updates the fitted depth."
            )

    def _finalize_depth(self):
        module = self._core_module()
        q = posterior_over_depths(module)
        q = q / q.sum()
        # The prior over the grown depths (all of them unless it grows).
        prior = np.exp(module.log_prior.double().cpu().numpy())[: len(q)]
        prior = prior / prior.sum()
        allowed = prior > 0
        if allowed.sum() > 1 and np.allclose(q, prior, rtol=1e-5, atol=0):
            # q never left its initial value (the prior over the grown
            # depths): the data said nothing about depth, so keep every
            # allowed depth rather than the shallowest or the prior's mode.
            depth = int(np.flatnonzero(allowed)[-1])
            warnings.warn(
                f"{type(self).__name__}: the posterior over depth never moved "
                "from its initial value (every epoch was in the warm-up, "
                "depth_lr=0, max_epochs=0, or training was interrupted); no "
                f"block is pruned (depth_={depth}). Train for more epochs than "
                "depth_warmup to learn the depth.",
                UninformedPosteriorWarning,
                stacklevel=4,
            )
        else:
            depth = select_depth(q, self.prune_threshold)
        self.posterior_depth_ = q
        self.depth_ = depth
        self.pruned_posterior_depth_ = fold_tail(q, depth)
        self.prior_depth_ = prior
        module.active_depth = depth
        # Parameter counts need the exportable network (the backbone
        # contract); a custom module is not counted.
        if isinstance(module, DepthBackbone):
            try:
                counts = parameter_counts(module, self._grown_blocks(), depth)
            except TypeError:  # blocks that export_body does not know
                counts = {}
            for name, value in counts.items():
                setattr(self, name, value)
        self._finalize_likelihood()

    def _discard_fit(self):
        """Remove the fitted depth (and likelihood) attributes: unfitted."""
        for name in (*_DEPTH_ATTRIBUTES, *self._likelihood_attributes):
            self.__dict__.pop(name, None)

    def _grown_blocks(self):
        """Blocks the network has grown: all ``max_depth`` unless it grows.

        A user module outside the backbone contract counts as fully grown.
        """
        return getattr(self._core_module(), "grown_depth", self.max_depth)

    def _core_module(self):
        # Under ``compile=True`` module_ is a wrapper; attributes must be set
        # on the wrapped module itself.
        return getattr(self.module_, "_orig_mod", self.module_)
