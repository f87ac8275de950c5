# SPDX-License-Identifier: MIT
"""Convolutional residual network whose every depth feeds one shared head.

The image half of Variational Depth Search: a convolutional stem, ``max_depth``
pre-activation bottleneck blocks at constant width, and one head on the
globally averaged features of every depth. Rows arrive flattened, as
scikit-learn passes them, and are reshaped to ``input_shape`` inside, so the
estimators, pipelines and cross-validation see an ordinary 2-d ``X``. 2-d
images use ``Conv2d`` and 1-d signals ``Conv1d``, from one implementation.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from sklearn_depth._ard import Conv1dARD, Conv2dARD, _check_positive_int
from sklearn_depth._backbone import DepthBackbone, check_sparse_blocks
from sklearn_depth._params import check_number
from sklearn_depth._plain import (
    ExportedConvBlock,
    ExportedResCNN,
    copy_module,
)

__all__ = ["ConvBlock", "DepthResCNN", "ResidualHead", "check_input_shape"]


def check_input_shape(input_shape, n_features: int) -> tuple[int, ...]:
    """``(channels, *spatial)`` of one row, checked against ``n_features``.

    ``None`` reads a row as a 1-d signal of ``n_features`` values and one
    channel. Otherwise a tuple of 2 (signals) or 3 (images) positive ints
    whose product is ``n_features``.
    """
    if input_shape is None:
        return (1, int(n_features))
    if not isinstance(input_shape, tuple | list) or len(input_shape) not in (2, 3):
        raise ValueError(
            "input_shape must be None or a tuple (channels, length) or "
            f"(channels, height, width); got {input_shape!r}."
        )
    shape = tuple(
        int(check_number(v, "input_shape", integral=True, min_val=1))
        for v in input_shape
    )
    if math.prod(shape) != n_features:
        raise ValueError(
            f"input_shape={shape} holds {math.prod(shape)} values per row, but X "
            f"has {n_features} features; their numbers must be equal."
        )
    return shape


def _conv(n_dims, ard, in_channels, out_channels, kernel_size, bias, threshold):
    """A zero-padded convolution that keeps the spatial size (odd kernel)."""
    padding = kernel_size // 2
    if ard:
        cls = (Conv1dARD, Conv2dARD)[n_dims - 1]
        return cls(
            in_channels,
            out_channels,
            kernel_size,
            padding=padding,
            bias=bias,
            threshold=threshold,
        )
    cls = (nn.Conv1d, nn.Conv2d)[n_dims - 1]
    return cls(in_channels, out_channels, kernel_size, padding=padding, bias=bias)


def _batch_norm(n_dims, channels):
    return (nn.BatchNorm1d, nn.BatchNorm2d)[n_dims - 1](channels)


class ConvBlock(nn.Module):
    """Pre-activation bottleneck block ``h + C2 ReLU(BN2(C1 ReLU(BN1(h))))``.

    The layout of :class:`~sklearn_depth.ResidualBlock` with convolutions:
    batch normalisation acts on the residual stream before the nonlinearity
    (no running variance near zero), then ``C1`` narrows ``width`` channels
    to ``hidden`` (no bias: ``BN2`` supplies the shift) and ``C2`` widens
    them back. Both convolutions are zero-padded and keep the spatial size.

    Parameters
    ----------
    width : int
        Channels of the block's input and output.
    hidden : int
        Channels between the two convolutions.
    n_dims : {1, 2}, default=2
        Spatial dimensions: ``Conv1d`` for signals, ``Conv2d`` for images.
    kernel_size : int, default=3
        Odd kernel size of both convolutions.
    sparse_blocks : {None, "ard"}, default=None
        ``"ard"``: both convolutions are ARD layers
        (:class:`~sklearn_depth.nn.Conv1dARD` / :class:`~sklearn_depth.nn.Conv2dARD`).
    ard_threshold : float, default=3.0
        ``log α`` above which an ARD weight is pruned.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth import ConvBlock
    >>> block = ConvBlock(8, hidden=4)
    >>> block(torch.randn(5, 8, 6, 6)).shape
    torch.Size([5, 8, 6, 6])
    >>> ConvBlock(8, hidden=4, n_dims=1)(torch.randn(5, 8, 20)).shape
    torch.Size([5, 8, 20])
    """

    def __init__(
        self,
        width: int,
        hidden: int,
        *,
        n_dims: int = 2,
        kernel_size: int = 3,
        sparse_blocks: str | None = None,
        ard_threshold: float = 3.0,
    ):
        super().__init__()
        check_sparse_blocks(sparse_blocks)
        if n_dims not in (1, 2):
            raise ValueError(f"n_dims must be 1 or 2; got {n_dims!r}.")
        kernel_size = _check_odd(kernel_size, "kernel_size")
        ard = sparse_blocks == "ard"
        self.n_dims = n_dims
        self.norm1 = _batch_norm(n_dims, width)
        k, threshold = kernel_size, ard_threshold
        self.conv1 = _conv(n_dims, ard, width, hidden, k, False, threshold)
        self.norm2 = _batch_norm(n_dims, hidden)
        self.conv2 = _conv(n_dims, ard, hidden, width, k, True, threshold)

    @property
    def output_layer(self) -> nn.Module:
        """The last convolution: zeroed, the block is the identity (growth)."""
        return self.conv2

    def forward(self, h: Tensor) -> Tensor:
        a = self.conv1(torch.relu(self.norm1(h)))
        return h + self.conv2(torch.relu(self.norm2(a)))


class ResidualHead(nn.Module):
    """The shared head on pooled features: ``W3 (z + W2 ReLU(W1 z + b1) + b2) + b3``.

    A residual layer then a linear map, applied to the globally averaged
    features of every depth at once.

    Parameters
    ----------
    width : int
        Number of pooled features.
    n_outputs : int
        Number of outputs.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth import ResidualHead
    >>> ResidualHead(8, 3)(torch.randn(5, 4, 8)).shape  # 5 rows, 4 depths
    torch.Size([5, 4, 3])
    """

    def __init__(self, width: int, n_outputs: int):
        super().__init__()
        self.linear1 = nn.Linear(width, width)
        self.linear2 = nn.Linear(width, width)
        self.output = nn.Linear(width, n_outputs)

    def forward(self, z: Tensor) -> Tensor:
        z = z + self.linear2(torch.relu(self.linear1(z)))
        return self.output(z)


class DepthResCNN(DepthBackbone):
    """Convolutional residual network with a head shared by every depth.

    ``h_0 = pool(conv(x))`` (the stem); ``h_j = block_j(h_{j-1})`` for
    ``j = 1..max_depth`` (:class:`ConvBlock`); the output of depth ``d`` is
    ``head(mean(h_d))``, the :class:`ResidualHead` on the features averaged
    over space. Rows come in flattened, shape ``(B, n_features)``, and are
    reshaped to ``input_shape``.

    Select it in an estimator with ``module=DepthResCNN`` and pass its own
    arguments as ``module__input_shape=(1, 8, 8)`` etc.; the estimator's
    ``width``, ``max_depth``, ``prior`` and ``sparse_blocks`` apply to it as to
    :class:`DepthResMLP`.

    Parameters
    ----------
    n_features : int
        Number of input features (values per flattened row).
    n_outputs : int
        Number of outputs of the shared head (classes, or regression targets).
    max_depth : int, default=10
        Number of residual blocks ``D``.
    width : int, default=32
        Channels of the stem and of every block.
    input_shape : tuple of int, default=None
        ``(channels, length)`` for 1-d signals or ``(channels, height,
        width)`` for images, with a product of ``n_features``. ``None``
        reads a row as a 1-d signal of ``n_features`` values, one channel.
    log_prior : array-like of shape (max_depth + 1,), default=None
        Log prior over depths (``-inf`` masks a depth). ``None`` means uniform.
    learn_noise : bool, default=False
        Add ``log_noise``, a learned log standard deviation per output, for a
        Gaussian likelihood (regression).
    sparse_blocks : {None, "ard"}, default=None
        ``"ard"``: the blocks' convolutions are ARD layers.
    hidden : int, default=None
        Channels inside a block; ``None`` means ``max(width // 2, 1)``.
    ard_threshold : float, default=3.0
        ``log α`` above which an ARD weight is pruned.
    kernel_size : int, default=3
        Odd kernel size of the blocks' convolutions.
    stem_kernel_size : int, default=5
        Odd kernel size of the stem's convolution.
    pool : int, default=2
        Average pooling factor of the stem along every spatial dimension (a
        dimension shorter than ``pool`` is pooled whole); 1 means none.

    Attributes
    ----------
    input_shape : tuple of int
        The shape a row is read as.
    depth_logits : Parameter of shape (max_depth + 1,)
        Free logits of the variational posterior ``q(d)``, initialised to
        the log prior less its maximum, so that ``q`` starts at the prior.
    log_prior : buffer of shape (max_depth + 1,)
    active_depth : int
        Number of blocks that ``forward`` runs; ``max_depth`` until pruned.
    log_noise : Parameter of shape (n_outputs,)
        Only with ``learn_noise=True``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth import DepthResCNN
    >>> net = DepthResCNN(64, 10, max_depth=3, width=8, input_shape=(1, 8, 8))
    >>> net(torch.randn(5, 64)).shape  # every depth 0..3 in one pass
    torch.Size([5, 4, 10])
    >>> DepthResCNN(40, 10, max_depth=3, width=8)(torch.randn(5, 40)).shape
    torch.Size([5, 4, 10])
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        *,
        max_depth: int = 10,
        width: int = 32,
        input_shape=None,
        log_prior=None,
        learn_noise: bool = False,
        sparse_blocks: str | None = None,
        hidden: int | None = None,
        ard_threshold: float = 3.0,
        kernel_size: int = 3,
        stem_kernel_size: int = 5,
        pool: int = 2,
    ):
        super().__init__()
        check_sparse_blocks(sparse_blocks)
        self.input_shape = check_input_shape(input_shape, n_features)
        n_dims = len(self.input_shape) - 1
        hidden = (
            max(width // 2, 1)
            if hidden is None
            else _check_positive_int(hidden, "hidden")
        )
        stem_kernel_size = _check_odd(stem_kernel_size, "stem_kernel_size")
        pool = _check_positive_int(pool, "pool")
        window = tuple(min(pool, size) for size in self.input_shape[1:])
        pooling = (nn.AvgPool1d, nn.AvgPool2d)[n_dims - 1]
        self.stem = nn.Sequential(
            _conv(n_dims, False, self.input_shape[0], width, stem_kernel_size, True, 0),
            pooling(window, stride=window, ceil_mode=True),
        )
        self.blocks = nn.ModuleList(
            ConvBlock(
                width,
                hidden,
                n_dims=n_dims,
                kernel_size=kernel_size,
                sparse_blocks=sparse_blocks,
                ard_threshold=ard_threshold,
            )
            for _ in range(max_depth)
        )
        self.head = ResidualHead(width, n_outputs)
        self._init_depth(max_depth, n_outputs, log_prior, learn_noise)

    def embed(self, X: Tensor) -> Tensor:
        """``h_0``: the stem on rows reshaped to ``input_shape``."""
        return self.stem(X.unflatten(1, self.input_shape))

    def read_out(self, hidden: list[Tensor]) -> Tensor:
        """The head on the spatial means of ``h_0..h_d``, ``(B, d + 1, n_outputs)``."""
        spatial = tuple(range(2, hidden[0].dim()))
        return self.head(torch.stack([h.mean(spatial) for h in hidden], dim=1))

    def export_body(self, depth: int, remove_units: bool = True) -> ExportedResCNN:
        """Stem, the first ``depth`` blocks and the head, in plain form.

        Each block's second batch norm is folded into its first
        convolution, the first kept as a per-channel scale and shift; ARD
        weights are pruned and, with ``remove_units``, the hidden channels
        ARD disconnected removed. Use :func:`sklearn_depth._export.export_body`,
        which also casts and moves the copy.
        """
        blocks = []
        for block in self.blocks[:depth]:
            if type(block) is not ConvBlock:  # a subclass may compute otherwise
                raise TypeError(
                    f"Cannot export a block of type {type(block).__name__}; "
                    "expected ConvBlock."
                )
            blocks.append(ExportedConvBlock.from_block(block, remove_units))
        return ExportedResCNN(
            self.input_shape, copy_module(self.stem), blocks, copy_module(self.head)
        )


def _check_odd(value, name: str) -> int:
    value = _check_positive_int(value, name)
    if value % 2 == 0:
        raise ValueError(
            f"{name} must be odd (zero padding then keeps the size); got {value}."
        )
    return value
