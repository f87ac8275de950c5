# SPDX-License-Identifier: MIT
"""Export of a fitted depth-search network as a small, plain PyTorch module.

The exported network keeps only the blocks ``1..depth_`` and, in ARD
bottleneck blocks, only the hidden units that still connect input to output.
Batch normalisation is folded into the neighbouring affine maps, pruned ARD
weights become exact zeros of ordinary ``nn.Linear`` layers, and the
posterior over the kept depths becomes a buffer. What remains uses only
``nn.Linear``, ReLU and elementwise arithmetic, so ``torch.export`` traces it
and the saved program loads without this package.
"""

from __future__ import annotations

import torch
from sklearn.utils.validation import check_is_fitted
from torch import Tensor, nn

from sklearn_depth._depth import marginal_log_proba, mixture_moments
from sklearn_depth._model import ARDBottleneckBlock, DepthResMLP, ResidualBlock
from sklearn_depth.nn import count_parameters

__all__ = [
    "ExportedBottleneckBlock",
    "ExportedResidualBlock",
    "ExportedResMLP",
    "MarginalClassifierNet",
    "MarginalRegressorNet",
    "export_body",
    "parameter_counts",
    "remove_hidden_units",
    "save_exported",
]


def _bn_affine(norm: nn.BatchNorm1d) -> tuple[Tensor, Tensor]:
    """Scale and shift of a batch norm layer in evaluation mode."""
    scale = torch.rsqrt(norm.running_var + norm.eps)
    shift = -norm.running_mean * scale
    if norm.affine:
        scale = scale * norm.weight
        shift = shift * norm.weight + norm.bias
    return scale, shift


def remove_hidden_units(
    w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Drop the hidden units of ``W2 ReLU(W1 x + b1) + b2`` that are disconnected.

    A unit whose outgoing weights (column of ``W2``) are all zero cannot
    change the output; a unit whose incoming weights (row of ``W1``) are all
    zero outputs the constant ``ReLU(b1)``, which is folded into ``b2``.
    The result computes exactly the same function.

    Parameters
    ----------
    w1 : Tensor of shape (hidden, in_features)
    b1 : Tensor of shape (hidden,)
    w2 : Tensor of shape (out_features, hidden)
    b2 : Tensor of shape (out_features,)

    Returns
    -------
    w1, b1, w2, b2 : Tensor
        The same maps restricted to the kept units (``hidden`` may become 0).
    """
    has_input = w1.ne(0).any(dim=1)
    has_output = w2.ne(0).any(dim=0)
    constant = ~has_input & has_output
    b2 = b2 + w2[:, constant] @ torch.relu(b1[constant])
    keep = has_input & has_output
    return w1[keep], b1[keep], w2[:, keep], b2


class ExportedResidualBlock(nn.Module):
    """``h + W ReLU(scale ⊙ h + shift) + b``: a :class:`ResidualBlock` in eval form.

    Parameters
    ----------
    width : int
        Number of units of the block's input and output.
    """

    def __init__(self, width: int):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(width))
        self.shift = nn.Parameter(torch.zeros(width))
        self.linear = _empty_linear(width, width)

    @classmethod
    def from_block(cls, block: ResidualBlock) -> ExportedResidualBlock:
        """The block with its batch norm folded into ``scale`` and ``shift``."""
        width = block.linear.in_features
        new = cls(width).to(block.linear.weight.dtype)  # copies in full precision
        scale, shift = _bn_affine(block.norm)
        with torch.no_grad():
            new.linear.weight.copy_(block.linear.weight)
            new.linear.bias.copy_(block.linear.bias)
            new.scale.copy_(scale)
            new.shift.copy_(shift)
        return new

    def forward(self, h: Tensor) -> Tensor:
        return h + self.linear(torch.relu(self.scale * h + self.shift))


class ExportedBottleneckBlock(nn.Module):
    """``h + W2 ReLU(W1 h + b1) + b2`` with only the kept hidden units.

    An :class:`ARDBottleneckBlock` in eval form: the batch norm folded into
    ``W1``, pruned weights set to zero, and the hidden units that cannot
    change the output removed (a unit without kept incoming weights has a
    constant activation, which is folded into ``b2``). With no unit left the
    block only adds ``b2``.

    Parameters
    ----------
    width : int
        Number of units of the block's input and output.
    hidden : int
        Number of kept hidden units (may be 0).
    """

    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        if hidden:
            self.linear1 = _empty_linear(width, hidden)
            self.linear2 = _empty_linear(hidden, width, bias=False)
        self.bias = nn.Parameter(torch.zeros(width))

    @classmethod
    def from_block(
        cls, block: ARDBottleneckBlock, remove_units: bool = True
    ) -> ExportedBottleneckBlock:
        """Fold, prune and shrink a trained :class:`ARDBottleneckBlock`.

        With ``remove_units=False`` every hidden unit is kept (the dense
        block, pruned weights still zero).
        """
        w1 = block.linear1.masked_weight().detach()  # (hidden, width)
        w2 = block.linear2.masked_weight().detach()  # (width, hidden)
        b2 = block.linear2.bias.detach()
        scale, shift = _bn_affine(block.norm)
        w1 = w1 * scale[:, None]
        b1 = shift.detach().clone()
        if block.linear1.bias is not None:
            b1 = b1 + block.linear1.bias.detach() * scale
        if remove_units:
            w1, b1, w2, b2 = remove_hidden_units(w1, b1, w2, b2)
        new = cls(w1.shape[1], w1.shape[0]).to(w1.dtype)
        with torch.no_grad():
            new.bias.copy_(b2)
            if new.hidden:
                new.linear1.weight.copy_(w1)
                new.linear1.bias.copy_(b1)
                new.linear2.weight.copy_(w2)
        return new

    def forward(self, h: Tensor) -> Tensor:
        out = h + self.bias
        if self.hidden:
            out = out + self.linear2(torch.relu(self.linear1(h)))
        return out


class ExportedResMLP(nn.Module):
    """Input layer, kept blocks and shared head: outputs of the kept depths.

    Parameters
    ----------
    input : nn.Linear
    blocks : list of nn.Module
    head : nn.Linear
    """

    def __init__(self, input: nn.Linear, blocks: list[nn.Module], head: nn.Linear):
        super().__init__()
        self.input = input
        self.blocks = nn.ModuleList(blocks)
        self.head = head

    def forward(self, x: Tensor) -> Tensor:
        """Head outputs of depths ``0..len(blocks)``, shape ``(B, n_depths, C)``."""
        h = self.input(x)
        hidden = [h]
        for block in self.blocks:
            h = block(h)
            hidden.append(h)
        return self.head(torch.stack(hidden, dim=1))


def export_body(
    module: DepthResMLP,
    depth: int,
    remove_units: bool = True,
    dtype: torch.dtype = torch.float32,
) -> ExportedResMLP:
    """The first ``depth`` blocks of a trained network in plain, eval form.

    Parameters
    ----------
    module : DepthResMLP
        The trained network (its own ``active_depth`` is ignored).
    depth : int
        Number of blocks to keep.
    remove_units : bool, default=True
        Remove the hidden units of ARD blocks that ARD disconnected.
    dtype : torch.dtype, default=torch.float32
        Floating dtype of the copy (the folding is computed in ``module``'s).

    Returns
    -------
    body : ExportedResMLP
        A copy in evaluation mode on the CPU, sharing no tensors with
        ``module``.
    """
    blocks = []
    for block in module.blocks[:depth]:
        # Exact types: a subclass may compute something the folding does not.
        if type(block) is ARDBottleneckBlock:
            blocks.append(ExportedBottleneckBlock.from_block(block, remove_units))
        elif type(block) is ResidualBlock:
            blocks.append(ExportedResidualBlock.from_block(block))
        else:
            raise TypeError(
                f"Cannot export a block of type {type(block).__name__}; "
                "expected ResidualBlock or ARDBottleneckBlock."
            )
    body = ExportedResMLP(_copy_linear(module.input), blocks, _copy_linear(module.head))
    return body.to(device="cpu", dtype=dtype).eval()


def _empty_linear(in_features: int, out_features: int, bias: bool = True):
    # Every entry is overwritten by a copy, so skip the random initialisation
    # (which would also draw from the global RNG).
    return torch.nn.utils.skip_init(nn.Linear, in_features, out_features, bias=bias)


def _copy_linear(linear: nn.Linear) -> nn.Linear:
    new = _empty_linear(linear.in_features, linear.out_features).to(linear.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(linear.weight)
        new.bias.copy_(linear.bias)
    return new


class MarginalClassifierNet(nn.Module):
    """Class probabilities marginalised over depth: ``Σ_d q(d) softmax(f_d(x) / T)``.

    Parameters
    ----------
    body : ExportedResMLP
        Logits of the kept depths.
    depth_weights : Tensor of shape (n_depths,)
        The pruned posterior ``q'`` over the kept depths (a buffer).
    temperature : float, default=1.0
        Divides the logits of every depth (a buffer).
    """

    def __init__(self, body: ExportedResMLP, depth_weights: Tensor, temperature=1.0):
        super().__init__()
        self.body = body
        self.register_buffer("log_weights", torch.log(depth_weights.float()))
        self.register_buffer("temperature", torch.tensor(float(temperature)))

    def forward(self, x: Tensor) -> Tensor:
        """Probabilities of shape ``(B, n_classes)``."""
        x = x.to(self.body.head.weight.dtype)  # float64 input works too
        log_proba = torch.log_softmax(self.body(x) / self.temperature, dim=-1)
        return marginal_log_proba(log_proba, self.log_weights).exp()


class MarginalRegressorNet(nn.Module):
    """Mean and standard deviation of the predictive mixture over depth.

    ``mean = Σ_d q(d) f_d(x)`` and ``std² = Σ_d q(d) (f_d(x) − mean)² + σ²``,
    both returned in the original units of the targets.

    Parameters
    ----------
    body : ExportedResMLP
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
        x = x.to(self.body.head.weight.dtype)  # float64 input works too
        mean, depth_var = mixture_moments(self.body(x), self.depth_weights)
        std = torch.sqrt(depth_var + self.noise_var) * self.y_scale
        mean = mean * self.y_scale + self.y_mean
        if self.squeeze:
            return mean[:, 0], std[:, 0]
        return mean, std


def parameter_counts(module: DepthResMLP, max_depth: int, depth: int) -> dict:
    """Parameters of the dense, depth-pruned and exported forms of a network.

    Every count is of an exported (plain, batch norm folded) network, so it
    holds no variational parameter; :func:`~sklearn_depth.nn.count_parameters`
    counts such a network as ``sum(p.numel())``.

    Parameters
    ----------
    module : DepthResMLP
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
