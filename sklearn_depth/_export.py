# SPDX-License-Identifier: MIT
"""Export of a fitted depth-search network as a small, plain PyTorch module.

The exported network keeps only the blocks ``1..depth_`` and, in ARD
blocks, only the hidden units (or channels) that still connect input to
output. Batch normalisation is folded into the neighbouring affine maps,
pruned ARD weights become exact zeros of ordinary ``nn.Linear`` /
``nn.Conv*d`` layers, and the posterior over the kept depths becomes a
buffer. Each backbone builds its plain body (``DepthBackbone.export_body``,
from the forms of :mod:`sklearn_depth._plain`); what remains uses only plain
layers, ReLU, pooling and elementwise arithmetic, so ``torch.export`` traces
it and the saved program loads without this package.
"""

from __future__ import annotations

import torch
from sklearn.utils.validation import check_is_fitted
from torch import Tensor, nn

from sklearn_depth._backbone import DepthBackbone
from sklearn_depth._depth import marginal_log_proba, mixture_moments
from sklearn_depth.nn import count_parameters

__all__ = [
    "MarginalClassifierNet",
    "MarginalRegressorNet",
    "export_body",
    "parameter_counts",
    "save_exported",
]


def export_body(
    module: DepthBackbone,
    depth: int,
    remove_units: bool = True,
    dtype: torch.dtype = torch.float32,
) -> nn.Module:
    """The first ``depth`` blocks of a trained network in plain, eval form.

    Parameters
    ----------
    module : DepthBackbone
        The trained network (its own ``active_depth`` is ignored).
    depth : int
        Number of blocks to keep.
    remove_units : bool, default=True
        Remove the hidden units (channels) of ARD blocks that ARD
        disconnected.
    dtype : torch.dtype, default=torch.float32
        Floating dtype of the copy (the folding is computed in ``module``'s).

    Returns
    -------
    body : nn.Module
        Maps ``(B, n_features)`` rows to the outputs of depths ``0..depth``;
        a copy in evaluation mode on the CPU, sharing no tensors with
        ``module``.
    """
    if not isinstance(module, DepthBackbone):
        raise TypeError(
            "Export needs a backbone of the package (a DepthBackbone such as "
            f"DepthResMLP or DepthResCNN); got {type(module).__name__}."
        )
    with torch.no_grad():
        body = module.export_body(depth, remove_units)
    return body.to(device="cpu", dtype=dtype).eval()


class MarginalClassifierNet(nn.Module):
    """Class probabilities marginalised over depth: ``Σ_d q(d) softmax(f_d(x) / T)``.

    Parameters
    ----------
    body : nn.Module
        Logits of the kept depths.
    depth_weights : Tensor of shape (n_depths,)
        The pruned posterior ``q'`` over the kept depths (a buffer).
    temperature : float, default=1.0
        Divides the logits of every depth (a buffer).
    """

    def __init__(self, body: nn.Module, depth_weights: Tensor, temperature=1.0):
        super().__init__()
        self.body = body
        self.register_buffer("log_weights", torch.log(depth_weights.float()))
        self.register_buffer("temperature", torch.tensor(float(temperature)))

    def forward(self, x: Tensor) -> Tensor:
        """Probabilities of shape ``(B, n_classes)``."""
        x = x.to(_dtype(self.body))  # float64 input works too
        log_proba = torch.log_softmax(self.body(x) / self.temperature, dim=-1)
        return marginal_log_proba(log_proba, self.log_weights).exp()


class MarginalRegressorNet(nn.Module):
    """Mean and standard deviation of the predictive mixture over depth.

    ``mean = Σ_d q(d) f_d(x)`` and ``std² = Σ_d q(d) (f_d(x) − mean)² + σ²``,
    both returned in the original units of the targets.

    Parameters
    ----------
    body : nn.Module
        Standardised outputs of the kept depths.
    depth_weights : Tensor of shape (n_depths,)
        The pruned posterior ``q'`` over the kept depths.
    y_mean, y_scale, noise_std : Tensor of shape (n_outputs,)
        Target standardisation and the learned noise scale (standardised).
    squeeze : bool
        Return 1-d outputs (for a 1-d training target).
    """

    def __init__(self, body, depth_weights, y_mean, y_scale, noise_std, squeeze):
        super().__init__()
        self.body = body
        self.squeeze = squeeze
        for name, value in [
            ("depth_weights", depth_weights),
            ("y_mean", y_mean),
            ("y_scale", y_scale),
            ("noise_var", noise_std**2),
        ]:
            self.register_buffer(name, torch.as_tensor(value, dtype=torch.float32))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(mean, std)``, each ``(B,)`` or ``(B, n_outputs)``."""
        x = x.to(_dtype(self.body))  # float64 input works too
        mean, depth_var = mixture_moments(self.body(x), self.depth_weights)
        std = torch.sqrt(depth_var + self.noise_var) * self.y_scale
        mean = mean * self.y_scale + self.y_mean
        if self.squeeze:
            return mean[:, 0], std[:, 0]
        return mean, std


def _dtype(body: nn.Module) -> torch.dtype:
    """Floating dtype of an exported body (of its first parameter)."""
    return next(body.parameters()).dtype


def parameter_counts(module: DepthBackbone, max_depth: int, depth: int) -> dict:
    """Parameters of the dense, depth-pruned and exported forms of a network.

    Every count is of an exported (plain, batch norm folded) network, so it
    holds no variational parameter; :func:`~sklearn_depth.nn.count_parameters`
    counts such a network as ``sum(p.numel())``.

    Parameters
    ----------
    module : DepthBackbone
        The trained network.
    max_depth : int
        Its number of blocks.
    depth : int
        The selected depth.

    Returns
    -------
    counts : dict
        ``n_params_`` (all blocks and hidden units), ``n_params_pruned_``
        (what :func:`export_body` keeps at ``depth``), and the parameters
        removed by depth (``n_params_removed_depth_``) and by ARD
        (``n_params_removed_ard_``); the last three sum to the first.
    """

    def count(depth, remove_units):
        return count_parameters(export_body(module, depth, remove_units))[0]

    dense = count(max_depth, remove_units=False)
    shallow = count(depth, remove_units=False)
    pruned = count(depth, remove_units=True)
    return {
        "n_params_": dense,
        "n_params_pruned_": pruned,
        "n_params_removed_depth_": dense - shallow,
        "n_params_removed_ard_": shallow - pruned,
    }


def save_exported(net: nn.Module, path, n_features: int) -> None:
    """Save ``net`` with ``torch.export`` and a dynamic batch dimension.

    Parameters
    ----------
    net : nn.Module
        An exported network taking ``(batch, n_features)`` float32 input.
    path : str or os.PathLike
        Destination, conventionally ending in ``.pt2``; load it with
        ``torch.export.load(path).module()``.
    n_features : int
        Number of input features.
    """
    example = torch.zeros(2, n_features)
    batch = torch.export.Dim("batch")
    program = torch.export.export(net, (example,), dynamic_shapes={"x": {0: batch}})
    torch.export.save(program, path)


class _ExportMixin:
    """``export_pruned`` of the depth-search estimators."""

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
        if not isinstance(self._core_module(), DepthBackbone):
            raise TypeError(
                "export_pruned needs a backbone of the package (DepthResMLP, "
                f"DepthResCNN or a subclass); got {type(self._core_module()).__name__}."
            )
        body = export_body(self._core_module(), self.depth_)
        weights = torch.as_tensor(self.pruned_posterior_depth_[: self.depth_ + 1])
        net = self._marginal_net(body, weights.float()).eval()
        if path is not None:
            save_exported(net, path, self.n_features_in_)
        return net
