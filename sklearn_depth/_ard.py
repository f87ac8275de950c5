# SPDX-License-Identifier: MIT
"""ARD (sparse variational dropout) layers; public through :mod:`sklearn_depth.nn`."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sklearn_depth._params import check_number

__all__ = ["Conv1dARD", "Conv2dARD", "LinearARD"]

# log α is clamped to this range wherever it is used (KL and pruning mask).
_LOG_ALPHA_MIN = -10.0
_LOG_ALPHA_MAX = 10.0
# Initial log σ²: a nearly deterministic layer that starts as a plain one.
_LOG_SIGMA2_INIT = -10.0
# Keeps log(θ²) finite for θ = 0 (such a weight gets a large log α).
_WEIGHT_EPS = 1e-8
# Keeps the gradient of sqrt finite where the variance is exactly zero.
_VAR_EPS = 1e-8
# Constants of the KL approximation of Molchanov et al. (2017).
_K1, _K2, _K3 = 0.63576, 1.87320, 1.48695


def _kl_per_weight(log_alpha: Tensor) -> Tensor:
    """Approximate ``KL(q(w) || p(w))`` of each weight, given its ``log α``.

    ``-KL ≈ k1 σ(k2 + k3 log α) - 0.5 log(1 + 1/α) - k1``; ``log(1 + 1/α)``
    is computed as ``softplus(-log α)`` for numerical stability.
    """
    neg_kl = (
        _K1 * torch.sigmoid(_K2 + _K3 * log_alpha) - 0.5 * F.softplus(-log_alpha) - _K1
    )
    return -neg_kl


def _check_positive_int(value, name: str) -> int:
    return int(check_number(value, name, integral=True, min_val=1))


def _check_threshold(threshold) -> float:
    return float(check_number(threshold, "threshold"))


def _check_tuple(value, name: str, minimum: int, n: int) -> tuple[int, ...]:
    """Validate an int or a tuple of ``n`` ints, each at least ``minimum``."""
    values = (value,) * n if not isinstance(value, tuple | list) else tuple(value)
    if len(values) != n:
        what = "a pair of ints" if n == 2 else f"a tuple of {n} int(s)"
        raise TypeError(f"{name} must be an int or {what}, got {value!r}.")
    for v in values:
        check_number(v, name, integral=True, min_val=minimum)
    return tuple(int(v) for v in values)


class _ARDLayer(nn.Module):
    """Shared maths of the ARD layers; subclasses define the linear map.

    A subclass calls :meth:`_create_parameters` with the shape of its
    weight and implements ``_linear(x, weight, bias)``, the layer's affine
    map, and ``reset_parameters()``.
    """

    weight: nn.Parameter
    bias: nn.Parameter | None
    log_sigma2: nn.Parameter
    threshold: float

    def _create_parameters(
        self, shape: tuple[int, ...], bias: bool, threshold, factory: dict
    ) -> None:
        """Create ``weight``, ``log_sigma2`` (of ``shape``) and ``bias``, then reset."""
        self.threshold = _check_threshold(threshold)
        self.weight = nn.Parameter(torch.empty(shape, **factory))
        self.log_sigma2 = nn.Parameter(torch.empty(shape, **factory))
        if bias:
            self.bias = nn.Parameter(torch.empty(shape[0], **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        raise NotImplementedError

    def _linear(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        raise NotImplementedError

    def _reset_variational_parameters(self, fan_in: int) -> None:
        # As torch.nn.Linear / Conv2d: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias, -bound, bound)
        nn.init.constant_(self.log_sigma2, _LOG_SIGMA2_INIT)

    @property
    def log_alpha(self) -> Tensor:
        """Log dropout ratio ``log σ² - log(θ² + 1e-8)`` of each weight.

        Clamped to ``[-10, 10]``; same shape as ``weight``.
        """
        log_alpha = self.log_sigma2 - torch.log(self.weight.square() + _WEIGHT_EPS)
        return log_alpha.clamp(_LOG_ALPHA_MIN, _LOG_ALPHA_MAX)

    def pruned_mask(self) -> Tensor:
        """Boolean tensor, ``True`` where ``log_alpha > threshold``."""
        return self.log_alpha > self.threshold

    def masked_weight(self) -> Tensor:
        """``weight`` with the pruned entries set exactly to zero."""
        return self.weight.masked_fill(self.pruned_mask(), 0.0)

    def n_kept(self) -> int:
        """Count the weights that are not pruned (the bias is not counted)."""
        return int(self.weight.numel() - self.pruned_mask().sum().item())

    def kl(self) -> Tensor:
        """KL divergence of the layer's weight posterior from its prior.

        Returns
        -------
        kl : Tensor of shape ()
            Sum over the weights of the approximation of Molchanov et al.
            (2017); the bias has no prior and adds nothing.
        """
        return _kl_per_weight(self.log_alpha).sum()

    def forward(self, x: Tensor) -> Tensor:
        """Sample the outputs in training mode, use pruned weights in eval."""
        if not self.training:
            return self._linear(x, self.masked_weight(), self.bias)
        # Local reparameterisation: sample the pre-activations, whose
        # Gaussian has mean x θᵀ + b and variance x² σ²ᵀ (no bias: it is
        # not random), with one noise draw per example and output.
        mean = self._linear(x, self.weight, self.bias)
        var = self._linear(x.square(), self.log_sigma2.exp(), None)
        return mean + torch.sqrt(var + _VAR_EPS) * torch.randn_like(mean)


class LinearARD(_ARDLayer):
    """Fully connected layer with sparse variational dropout (ARD).

    A drop-in replacement for ``torch.nn.Linear`` whose weights have a
    Gaussian posterior ``N(θ, σ²)`` under a log-uniform prior (Molchanov et
    al., 2017). Training mode samples the outputs with the local
    reparameterisation trick; evaluation mode is deterministic and sets the
    weights with ``log α > threshold`` exactly to zero.

    Parameters
    ----------
    in_features : int
        Number of input features.
    out_features : int
        Number of output features.
    bias : bool, default=True
        Whether to learn an additive bias. The bias is a point estimate: it
        shifts the mean of the outputs but not their variance, and is never
        pruned.
    threshold : float, default=3.0
        A weight is pruned when its ``log α`` exceeds ``threshold``; the
        default 3 means a dropout rate ``α / (1 + α)`` above 0.95. As
        ``log α`` is clamped to ``[-10, 10]``, a threshold of 10 or more
        prunes nothing.
    device : torch.device, default=None
        Device of the parameters.
    dtype : torch.dtype, default=None
        Floating point type of the parameters.

    Attributes
    ----------
    weight : Parameter of shape (out_features, in_features)
        Posterior means ``θ``; initialised as in ``torch.nn.Linear``.
    bias : Parameter of shape (out_features,) or None
        Bias, initialised as in ``torch.nn.Linear``; ``None`` if
        ``bias=False``.
    log_sigma2 : Parameter of shape (out_features, in_features)
        Posterior log variances ``log σ²`` (the additive reparameterisation),
        initialised to -10. Do not apply weight decay to it.
    log_alpha : Tensor of shape (out_features, in_features)
        ``log σ² - log(θ² + 1e-8)``, clamped to ``[-10, 10]``.

    See Also
    --------
    Conv2dARD : The convolutional counterpart.
    ard_kl : Sum of the KL terms of all ARD layers of a model.
    ELBOLoss : Training criterion that adds the KL divided by ``n_train``.

    Notes
    -----
    In training the output of example ``x`` is
    ``x θᵀ + b + sqrt(x² σ²ᵀ + 1e-8) ε`` with ``ε ~ N(0, I)``. ``log α`` is
    clamped in :meth:`kl` and in the pruning mask only; the variance uses
    ``σ² = exp(log_sigma2)`` unclamped.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth.nn import LinearARD
    >>> layer = LinearARD(4, 2)
    >>> layer(torch.randn(3, 4)).shape
    torch.Size([3, 2])
    >>> layer.kl().shape
    torch.Size([])
    >>> with torch.no_grad():
    ...     _ = layer.log_sigma2.fill_(8.0)  # α huge: every weight is pruned
    >>> layer.n_kept()
    0
    >>> layer.eval()(torch.randn(3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        threshold: float = 3.0,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.in_features = _check_positive_int(in_features, "in_features")
        self.out_features = _check_positive_int(out_features, "out_features")
        self._create_parameters(
            (self.out_features, self.in_features),
            bias,
            threshold,
            {"device": device, "dtype": dtype},
        )

    def reset_parameters(self) -> None:
        """Initialise ``weight`` and ``bias`` as ``nn.Linear``, ``log σ²`` to -10."""
        self._reset_variational_parameters(fan_in=self.in_features)

    def _linear(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        return F.linear(x, weight, bias)

    def extra_repr(self) -> str:
        """Describe the module in ``repr``."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, threshold={self.threshold}"
        )


class _ConvARD(_ARDLayer):
    """Shared code of the ARD convolutions over ``_n_dims`` spatial dimensions.

    A drop-in replacement for ``torch.nn.Conv1d`` / ``Conv2d`` with zero
    padding; subclasses set ``_n_dims`` and ``_conv`` (``F.conv1d``, ...).
    """

    _n_dims: int
    _conv = None

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        threshold=3.0,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__()
        n = self._n_dims
        self.in_channels = _check_positive_int(in_channels, "in_channels")
        self.out_channels = _check_positive_int(out_channels, "out_channels")
        self.kernel_size = _check_tuple(kernel_size, "kernel_size", 1, n)
        self.stride = _check_tuple(stride, "stride", 1, n)
        self.dilation = _check_tuple(dilation, "dilation", 1, n)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(
                    f'padding must be "valid", "same" or ints, got {padding!r}.'
                )
            if padding == "same" and self.stride != (1,) * n:
                raise ValueError('padding="same" needs stride=1.')
            self.padding = padding
        else:
            self.padding = _check_tuple(padding, "padding", 0, n)
        self.groups = _check_positive_int(groups, "groups")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"groups={self.groups} must divide in_channels={self.in_channels} "
                f"and out_channels={self.out_channels}."
            )
        self._create_parameters(
            (self.out_channels, self.in_channels // self.groups, *self.kernel_size),
            bias,
            threshold,
            {"device": device, "dtype": dtype},
        )

    def reset_parameters(self) -> None:
        """Initialise ``weight``, ``bias`` as torch's convs, ``log σ²`` to -10."""
        fan_in = self.weight[0].numel()
        self._reset_variational_parameters(fan_in=fan_in)

    def _linear(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        conv = type(self)._conv
        return conv(
            x, weight, bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        """Describe the module in ``repr``."""
        return (
            f"{self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, "
            f"groups={self.groups}, bias={self.bias is not None}, "
            f"threshold={self.threshold}"
        )


class Conv1dARD(_ConvARD):
    """1-D convolution with sparse variational dropout (ARD).

    The counterpart of :class:`Conv2dARD` for signals of shape
    ``(batch, channels, length)``: a drop-in replacement for
    ``torch.nn.Conv1d`` with zero padding, each kernel entry with a Gaussian
    posterior ``N(θ, σ²)``.

    Parameters
    ----------
    in_channels : int
        Number of input channels.
    out_channels : int
        Number of output channels.
    kernel_size : int or tuple of 1 int
        Length of the kernel.
    stride : int or tuple of 1 int, default=1
        Stride of the convolution.
    padding : int, tuple of 1 int, "valid" or "same", default=0
        Zero padding added to both ends of the input.
    dilation : int or tuple of 1 int, default=1
        Spacing between kernel entries.
    groups : int, default=1
        Number of blocked connections; must divide ``in_channels`` and
        ``out_channels``.
    bias : bool, default=True
        Whether to learn an additive bias (a point estimate, never pruned).
    threshold : float, default=3.0
        A weight is pruned when its ``log α`` exceeds ``threshold``.
    device : torch.device, default=None
        Device of the parameters.
    dtype : torch.dtype, default=None
        Floating point type of the parameters.

    Attributes
    ----------
    weight : Parameter of shape (out_channels, in_channels // groups, k)
        Posterior means ``θ``; initialised as in ``torch.nn.Conv1d``.
    bias : Parameter of shape (out_channels,) or None
        Bias, or ``None`` if ``bias=False``.
    log_sigma2 : Parameter of the shape of ``weight``
        Posterior log variances, initialised to -10. Do not apply weight
        decay to it.
    log_alpha : Tensor of the shape of ``weight``
        ``log σ² - log(θ² + 1e-8)``, clamped to ``[-10, 10]``.

    See Also
    --------
    Conv2dARD : The 2-D convolution.
    LinearARD : The fully connected layer; its notes apply here too.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth.nn import Conv1dARD
    >>> conv = Conv1dARD(1, 4, kernel_size=5, padding=2)
    >>> conv(torch.randn(2, 1, 40)).shape
    torch.Size([2, 4, 40])
    >>> conv.log_alpha.shape
    torch.Size([4, 1, 5])
    """

    _n_dims = 1
    _conv = F.conv1d


class Conv2dARD(_ConvARD):
    """2-D convolution with sparse variational dropout (ARD).

    The convolutional counterpart of :class:`LinearARD` and a drop-in
    replacement for ``torch.nn.Conv2d`` with zero padding: each kernel entry
    has a Gaussian posterior ``N(θ, σ²)``. In training the output variance is
    the convolution of ``x²`` with ``σ²``, without the bias.

    Parameters
    ----------
    in_channels : int
        Number of input channels.
    out_channels : int
        Number of output channels.
    kernel_size : int or tuple of 2 ints
        Height and width of the kernel.
    stride : int or tuple of 2 ints, default=1
        Stride of the convolution.
    padding : int, tuple of 2 ints, "valid" or "same", default=0
        Zero padding added to both sides of the input.
    dilation : int or tuple of 2 ints, default=1
        Spacing between kernel entries.
    groups : int, default=1
        Number of blocked connections; must divide ``in_channels`` and
        ``out_channels``.
    bias : bool, default=True
        Whether to learn an additive bias (a point estimate, never pruned).
    threshold : float, default=3.0
        A weight is pruned when its ``log α`` exceeds ``threshold``.
    device : torch.device, default=None
        Device of the parameters.
    dtype : torch.dtype, default=None
        Floating point type of the parameters.

    Attributes
    ----------
    weight : Parameter of shape (out_channels, in_channels // groups, kh, kw)
        Posterior means ``θ``; initialised as in ``torch.nn.Conv2d``.
    bias : Parameter of shape (out_channels,) or None
        Bias, or ``None`` if ``bias=False``.
    log_sigma2 : Parameter of the shape of ``weight``
        Posterior log variances, initialised to -10. Do not apply weight
        decay to it.
    log_alpha : Tensor of the shape of ``weight``
        ``log σ² - log(θ² + 1e-8)``, clamped to ``[-10, 10]``.

    See Also
    --------
    Conv1dARD : The 1-D convolution.
    LinearARD : The fully connected layer; its notes apply here too.

    Examples
    --------
    >>> import torch
    >>> from sklearn_depth.nn import Conv2dARD
    >>> conv = Conv2dARD(3, 8, kernel_size=3, padding=1)
    >>> conv(torch.randn(2, 3, 16, 16)).shape
    torch.Size([2, 8, 16, 16])
    >>> conv.log_alpha.shape
    torch.Size([8, 3, 3, 3])
    """

    _n_dims = 2
    _conv = F.conv2d
