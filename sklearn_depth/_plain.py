# SPDX-License-Identifier: MIT
"""Plain evaluation forms of trained blocks: what export and inference run.

A trained block holds batch normalisation with running statistics and, with
``sparse_blocks="ard"``, ARD layers whose pruned weights are masked at every
call. Its plain form computes the same function in evaluation mode with
ordinary layers only: batch norm folded into a neighbouring affine map (or
kept as a per-unit scale and shift where a nonlinearity separates them),
pruned weights exact zeros, hidden units that cannot change the output
removed. The forms read a trained block through its attributes (``norm``,
``linear``, ...) and import no training module, so each backbone builds its
own export from them (``DepthBackbone.export_body``).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from sklearn_depth._members import GroupedLinear, split_members

if TYPE_CHECKING:  # the training blocks import this module
    from sklearn_depth._conv import ConvBlock
    from sklearn_depth._model import ARDBottleneckBlock, ResidualBlock

__all__ = [
    "ExportedBottleneckBlock",
    "ExportedConvBlock",
    "ExportedResCNN",
    "ExportedResMLP",
    "ExportedResidualBlock",
    "bn_affine",
    "copy_linear",
    "copy_module",
    "empty_linear",
    "remove_hidden_units",
]


def bn_affine(norm: nn.BatchNorm1d) -> tuple[Tensor, Tensor]:
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
        Number of units of the block's input and output (of all members).
    n_members : int, default=1
        Ensemble members side by side: ``W`` is then a
        :class:`~sklearn_depth._members.GroupedLinear`, one matrix per member.
    """

    def __init__(self, width: int, n_members: int = 1):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(width))
        self.shift = nn.Parameter(torch.zeros(width))
        if n_members == 1:
            self.linear = empty_linear(width, width)
        else:
            size = width // n_members
            # Overwritten by a copy: no random initialisation (no RNG drawn).
            self.linear = torch.nn.utils.skip_init(GroupedLinear, n_members, size, size)

    @classmethod
    def from_block(cls, block: ResidualBlock) -> ExportedResidualBlock:
        """The block with its batch norm folded into ``scale`` and ``shift``."""
        n_members = getattr(block.linear, "n_members", 1)
        width = block.norm.num_features
        new = cls(width, n_members).to(block.linear.weight.dtype)  # full precision
        scale, shift = bn_affine(block.norm)
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
            self.linear1 = empty_linear(width, hidden)
            self.linear2 = empty_linear(hidden, width, bias=False)
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
        scale, shift = bn_affine(block.norm)
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
    n_members : int, default=1
        Ensemble members packed side by side (the blocks' and the head's
        maps one per member).
    mix_members : bool, default=True
        With members, return the log of their mixture of class
        probabilities, ``C`` per depth (from the head's ``n_members * C``
        logits); False returns every member's outputs, shape
        ``(B, n_depths, n_members, C)`` (a Gaussian likelihood's means).
    """

    mix_members = True  # (modules pickled before the parameter existed)

    def __init__(
        self,
        input: nn.Linear,
        blocks: list[nn.Module],
        head: nn.Linear,
        n_members: int = 1,
        mix_members: bool = True,
    ):
        super().__init__()
        self.input = input
        self.blocks = nn.ModuleList(blocks)
        self.head = head
        self.n_members = n_members
        self.mix_members = mix_members

    def forward(self, x: Tensor) -> Tensor:
        """Head outputs of depths ``0..len(blocks)``, shape ``(B, n_depths, C)``."""
        h = self.input(x)
        hidden = [h]
        for block in self.blocks:
            h = block(h)
            hidden.append(h)
        out = self.head(torch.stack(hidden, dim=1))
        return split_members(out, self.n_members, self.mix_members)


def empty_linear(in_features: int, out_features: int, bias: bool = True):
    # Every entry is overwritten by a copy, so skip the random initialisation
    # (which would also draw from the global RNG).
    return torch.nn.utils.skip_init(nn.Linear, in_features, out_features, bias=bias)


def copy_linear(linear: nn.Linear) -> nn.Linear:
    new = empty_linear(linear.in_features, linear.out_features).to(linear.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(linear.weight)
        new.bias.copy_(linear.bias)
    return new


def _conv_class(n_dims: int):
    return (nn.Conv1d, nn.Conv2d)[n_dims - 1]


def copy_module(module: nn.Module) -> nn.Module:
    """A copy of a plain module sharing no tensor with it."""
    return copy.deepcopy(module)


class ExportedConvBlock(nn.Module):
    """``h + bias + conv2(ReLU(conv1(ReLU(scale ⊙ h + shift))))``: eval form.

    A :class:`~sklearn_depth.ConvBlock` in evaluation form: its first batch
    norm (on the residual stream, before the ReLU) becomes a per-channel
    ``scale`` and ``shift``; the second, which follows ``conv1``, is folded
    into ``conv1``'s weights and bias; ARD-pruned weights are zero, and
    hidden channels that cannot change the output are removed. With no
    channel left the block only adds ``bias``.

    Parameters
    ----------
    n_dims : {1, 2}
        Spatial dimensions of the convolutions.
    width : int
        Channels of the block's input and output.
    hidden : int
        Number of kept hidden channels (may be 0).
    kernel_size : int
        Odd kernel size of both convolutions (zero padding keeps the size).
    """

    def __init__(self, n_dims: int, width: int, hidden: int, kernel_size: int):
        super().__init__()
        self.n_dims = n_dims
        self.hidden = hidden
        self.scale = nn.Parameter(torch.ones(width))
        self.shift = nn.Parameter(torch.zeros(width))
        if hidden:
            conv, pad = _conv_class(n_dims), kernel_size // 2
            self.conv1 = conv(width, hidden, kernel_size, padding=pad)
            self.conv2 = conv(hidden, width, kernel_size, padding=pad, bias=False)
        self.bias = nn.Parameter(torch.zeros(width))

    @classmethod
    def from_block(cls, block: ConvBlock, remove_units: bool = True):
        """Fold, prune and shrink a trained :class:`~sklearn_depth.ConvBlock`.

        A hidden channel is removed when all its outgoing weights are zero,
        or when all its incoming ones are and its folded bias is not
        positive (it is then 0 everywhere). A channel with only a positive
        bias is kept: zero padding makes its contribution vary near the
        borders, so it cannot be folded into ``bias``.
        """
        w1, w2 = _weight(block.conv1), _weight(block.conv2)
        scale1, shift1 = bn_affine(block.norm1)
        scale2, shift2 = bn_affine(block.norm2)
        w1 = w1 * scale2.view(-1, *[1] * (w1.dim() - 1))
        b1 = shift2.detach().clone()
        if block.conv1.bias is not None:
            b1 = b1 + block.conv1.bias.detach() * scale2
        b2 = block.conv2.bias.detach()
        if remove_units:
            has_input = w1.flatten(1).ne(0).any(dim=1)
            has_output = w2.transpose(0, 1).flatten(1).ne(0).any(dim=1)
            keep = has_output & (has_input | (b1 > 0))
            w1, b1, w2 = w1[keep], b1[keep], w2[:, keep]
        new = cls(block.n_dims, w2.shape[0], w1.shape[0], w1.shape[-1]).to(w1.dtype)
        with torch.no_grad():
            new.scale.copy_(scale1)
            new.shift.copy_(shift1)
            new.bias.copy_(b2)
            if new.hidden:
                new.conv1.weight.copy_(w1)
                new.conv1.bias.copy_(b1)
                new.conv2.weight.copy_(w2)
        return new

    def forward(self, h: Tensor) -> Tensor:
        shape = (-1, *[1] * self.n_dims)
        out = h + self.bias.view(shape)
        if self.hidden:
            a = torch.relu(self.scale.view(shape) * h + self.shift.view(shape))
            out = out + self.conv2(torch.relu(self.conv1(a)))
        return out


def _weight(conv: nn.Module) -> Tensor:
    """A convolution's weight, ARD-pruned entries zero."""
    if hasattr(conv, "masked_weight"):
        return conv.masked_weight().detach()
    return conv.weight.detach()


class ExportedResCNN(nn.Module):
    """Stem, kept conv blocks and shared head: outputs of the kept depths.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, *spatial)`` of one row.
    stem : nn.Module
        Convolution and pooling (plain modules).
    blocks : list of nn.Module
    head : nn.Module
        The shared head on globally averaged features.
    """

    def __init__(self, input_shape, stem, blocks, head):
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.stem = stem
        self.blocks = nn.ModuleList(blocks)
        self.head = head

    def forward(self, x: Tensor) -> Tensor:
        """Head outputs of depths ``0..len(blocks)``, shape ``(B, n_depths, C)``."""
        h = self.stem(x.unflatten(1, self.input_shape))
        spatial = tuple(range(2, h.dim()))
        pooled = [h.mean(spatial)]
        for block in self.blocks:
            h = block(h)
            pooled.append(h.mean(spatial))
        return self.head(torch.stack(pooled, dim=1))
