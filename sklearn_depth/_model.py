# SPDX-License-Identifier: MIT
"""Residual MLP whose every depth feeds one shared output head.

One forward pass returns the outputs of all depths ``0..active_depth`` as a
tensor of shape ``(n_samples, active_depth + 1, n_outputs)``. The variational
logits of ``q(d)`` live in the module (``depth_logits``) so that device moves,
``state_dict`` checkpoints, ``EarlyStopping(load_best=True)`` and pickling
carry them together with the weights.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from sklearn_depth._ard import LinearARD, _check_positive_int
from sklearn_depth._backbone import DepthBackbone, check_sparse_blocks
from sklearn_depth._members import GroupedLinear, split_members
from sklearn_depth._plain import (
    ExportedBottleneckBlock,
    ExportedResidualBlock,
    ExportedResMLP,
    copy_linear,
)

__all__ = [
    "ARDBottleneckBlock",
    "ResidualBlock",
    "DepthResMLP",
]


class ResidualBlock(nn.Module):
    """Pre-activation residual block ``h + W ReLU(BN(h)) + b``.

    The block layout of the package, which the other backbones follow:
    batch normalisation acts on the residual stream ``h``, before the
    nonlinearity. Every unit of ``h`` varies over the rows, so no running
    variance of the normalisation is near zero. The earlier layout
    ``h + BN(ReLU(W h + b))`` normalised the output of the ReLU, whose
    running variance falls to 1e-37 and below for units that the ReLU
    silences on nearly every training row; a rare row that wakes such a unit
    (say a one-hot column seen a handful of times) was multiplied by up to
    ``1 / sqrt(eps)`` per block, and predicted far outside the training
    targets (``benchmarks/explosive_case.py``).

    Parameters
    ----------
    width : int
        Number of units of the block's input and output (of one member).
    n_members : int, default=1
        Ensemble members side by side (see ``DepthResMLP``): the block acts
        on ``n_members * width`` units, its linear map block-diagonal
        (``GroupedLinear``), so the members' streams never mix.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth import ResidualBlock
    >>> ResidualBlock(8)(torch.randn(5, 8)).shape
    torch.Size([5, 8])
    >>> ResidualBlock(8, n_members=3)(torch.randn(5, 24)).shape
    torch.Size([5, 24])
    """

    def __init__(self, width: int, n_members: int = 1):
        super().__init__()
        self.norm = nn.BatchNorm1d(n_members * width)
        if n_members == 1:
            self.linear = nn.Linear(width, width)
        else:
            self.linear = GroupedLinear(n_members, width, width)

    @property
    def output_layer(self) -> nn.Module:
        """The last layer: zeroed, it makes the block the identity (growth)."""
        return self.linear

    def forward(self, h: Tensor) -> Tensor:
        return h + self.linear(torch.relu(self.norm(h)))


class ARDBottleneckBlock(nn.Module):
    """Bottleneck residual block ``h + W2 ReLU(BN(W1 h))`` with ARD weights.

    ``W1`` (``width → hidden``, no bias: batch normalisation supplies the
    shift) and ``W2`` (``hidden → width``) are :class:`~sklearn_depth.nn.LinearARD`
    layers, so training learns which of their weights, and hence which hidden
    units, the block needs. A hidden unit whose incoming or outgoing weights
    are all pruned can be removed from the network.

    Parameters
    ----------
    width : int
        Number of units of the block's input and output.
    hidden : int
        Number of hidden units.
    threshold : float, default=3.0
        ``log α`` above which a weight is pruned (see ``LinearARD``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth import ARDBottleneckBlock
    >>> block = ARDBottleneckBlock(8, hidden=16)
    >>> block(torch.randn(5, 8)).shape
    torch.Size([5, 8])
    >>> block.linear1.weight.shape, block.linear2.weight.shape
    (torch.Size([16, 8]), torch.Size([8, 16]))
    """

    def __init__(self, width: int, hidden: int, threshold: float = 3.0):
        super().__init__()
        self.linear1 = LinearARD(width, hidden, bias=False, threshold=threshold)
        self.norm = nn.BatchNorm1d(hidden)
        self.linear2 = LinearARD(hidden, width, threshold=threshold)

    @property
    def output_layer(self) -> LinearARD:
        """The last layer: zeroed, it makes the block the identity (growth)."""
        return self.linear2

    def forward(self, h: Tensor) -> Tensor:
        return h + self.linear2(torch.relu(self.norm(self.linear1(h))))


class DepthResMLP(DepthBackbone):
    """Residual MLP with a head shared by every depth.

    ``h_0 = W_in x + b_in``; ``h_j = block_j(h_{j-1})`` for ``j = 1..max_depth``;
    the output of depth ``d`` is ``head(h_d)``.

    With ``n_members = K > 1`` the network holds ``K`` such networks side by
    side (a packed ensemble, see ``sklearn_depth._members``): the input
    layer has ``K * width`` units, the blocks and the head act on each
    member's ``width`` units alone, and the members share the posterior
    over depth. In training mode ``forward`` then returns every member's
    outputs, shape ``(B, n_depths, K, n_outputs)``, which the criterion
    scores member by member. In evaluation mode a categorical network
    returns the log of the members' mixture of class probabilities, shape
    ``(B, n_depths, n_outputs)``, which every prediction path uses as
    logits; a Gaussian one (``learn_noise=True``) keeps returning every
    member's mean, whose mixture the regressor's moments take apart.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_outputs : int
        Number of outputs of the shared head (classes, or regression targets).
    max_depth : int, default=10
        Number of residual blocks ``D``.
    width : int, default=32
        Units of the input layer and of every block.
    log_prior : array-like of shape (max_depth + 1,), default=None
        Log prior over depths (``-inf`` masks a depth). ``None`` means uniform.
    learn_noise : bool, default=False
        Add ``log_noise``, a learned log standard deviation per output, for a
        Gaussian likelihood (regression).
    sparse_blocks : {None, "ard"}, default=None
        Block type: ``None`` for :class:`ResidualBlock`, ``"ard"`` for
        :class:`ARDBottleneckBlock` (sparse variational dropout on the
        block's two linear layers).
    hidden : int, default=None
        Hidden units of the ARD bottleneck blocks; ``None`` means ``width``.
        Only used with ``sparse_blocks="ard"``.
    ard_threshold : float, default=3.0
        ``log α`` above which an ARD weight is pruned. Only used with
        ``sparse_blocks="ard"``.
    n_members : int, default=1
        Ensemble members packed side by side. Values above 1 need plain
        blocks (``sparse_blocks=None``); with ``learn_noise`` the members
        share the noise scale.

    Attributes
    ----------
    depth_logits : Parameter of shape (max_depth + 1,)
        Free logits of the variational posterior ``q(d)``, initialised to
        the log prior less its maximum, so that ``q`` starts at the prior.
    log_prior : buffer of shape (max_depth + 1,)
    active_depth : int
        Number of blocks that ``forward`` runs; ``max_depth`` until pruned.
        Saved in the ``state_dict`` as extra state.
    log_noise : Parameter of shape (n_outputs,)
        Only with ``learn_noise=True``; initialised to zero (unit noise).

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth import DepthResMLP
    >>> net = DepthResMLP(3, 2, max_depth=4, width=8)
    >>> net(torch.randn(5, 3)).shape  # every depth 0..4 in one pass
    torch.Size([5, 5, 2])
    >>> net.active_depth = 1  # pruned: only the first block runs
    >>> net(torch.randn(5, 3)).shape, net.log_q().shape
    (torch.Size([5, 2, 2]), torch.Size([2]))
    >>> ensemble = DepthResMLP(3, 2, max_depth=4, width=8, n_members=3)
    >>> ensemble(torch.randn(5, 3)).shape  # training mode: every member
    torch.Size([5, 5, 3, 2])
    >>> ensemble.eval()(torch.randn(5, 3)).exp().sum(-1).shape  # the mixture
    torch.Size([5, 5])
    """

    n_members = 1  # (networks pickled before members existed)
    mix_members = True

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        *,
        max_depth: int = 10,
        width: int = 32,
        log_prior=None,
        learn_noise: bool = False,
        sparse_blocks: str | None = None,
        hidden: int | None = None,
        ard_threshold: float = 3.0,
        n_members: int = 1,
    ):
        super().__init__()
        check_sparse_blocks(sparse_blocks)
        n_members = _check_positive_int(n_members, "n_members")
        if n_members > 1 and sparse_blocks is not None:
            raise ValueError("n_members > 1 needs plain blocks (sparse_blocks=None).")
        self.sparse_blocks = sparse_blocks
        self.n_members = n_members
        self.input = nn.Linear(n_features, n_members * width)
        if sparse_blocks == "ard":
            hidden = width if hidden is None else _check_positive_int(hidden, "hidden")
            blocks = (
                ARDBottleneckBlock(width, hidden, ard_threshold)
                for _ in range(max_depth)
            )
        else:
            blocks = (ResidualBlock(width, n_members) for _ in range(max_depth))
        self.blocks = nn.ModuleList(blocks)
        if n_members == 1:
            self.head = nn.Linear(width, n_outputs)
        else:
            self.head = GroupedLinear(n_members, width, n_outputs)
        self._init_depth(max_depth, n_outputs, log_prior, learn_noise)

    def embed(self, X: Tensor) -> Tensor:
        """``h_0 = W_in X + b_in``."""
        return self.input(X)

    def read_out(self, hidden: list[Tensor]) -> Tensor:
        """The head on ``h_0..h_d``, shape ``(B, d + 1, n_outputs)``."""
        # One head call on the stacked activations instead of one per depth.
        out = self.head(torch.stack(hidden, dim=1))
        mix = not self.training and self.mix_members and self.mixes_members
        return split_members(out, self.n_members, mix)

    @property
    def mixes_members(self) -> bool:
        """Whether evaluation mode mixes the members' class probabilities.

        False for a Gaussian likelihood (``learn_noise``): a mixture of
        Gaussians is no Gaussian, so its members stay apart.
        """
        return not hasattr(self, "log_noise")

    @contextmanager
    def per_member(self):
        """Temporarily return every member's outputs in evaluation mode too.

        For scoring each member on the rows it held out.
        """
        self.mix_members = False
        try:
            yield self
        finally:
            self.mix_members = True

    def export_body(self, depth: int, remove_units: bool = True) -> ExportedResMLP:
        """Input layer, the first ``depth`` blocks and the head, in plain form.

        Plain blocks keep their batch norm as a scale and shift; ARD blocks
        fold it into their first layer and, with ``remove_units``, drop the
        hidden units ARD disconnected. Use
        :func:`sklearn_depth._export.export_body`, which also casts and
        moves the copy.
        """
        blocks = []
        for block in self.blocks[:depth]:
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
        head = (
            copy.deepcopy(self.head) if self.n_members > 1 else copy_linear(self.head)
        )
        return ExportedResMLP(
            copy_linear(self.input),
            blocks,
            head,
            n_members=self.n_members,
            mix_members=self.mixes_members,
        )
