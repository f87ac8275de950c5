# SPDX-License-Identifier: MIT
"""sklearn-depth: scikit-learn estimators that learn how deep to be."""

from sklearn_depth._classifier import DepthSearchClassifier
from sklearn_depth._conv import ConvBlock, DepthResCNN, ResidualHead
from sklearn_depth._criterion import (
    CategoricalDepthELBO,
    DepthELBO,
    GaussianDepthELBO,
)
from sklearn_depth._model import ARDBottleneckBlock, DepthResMLP, ResidualBlock
from sklearn_depth._regressor import DepthSearchRegressor
from sklearn_depth.datasets import load_uci, make_spirals
from sklearn_depth.nn import Conv1dARD, Conv2dARD, LinearARD

__version__ = "0.1.0.dev0"

__all__ = [
    "DepthSearchClassifier",
    "DepthSearchRegressor",
    "CategoricalDepthELBO",
    "GaussianDepthELBO",
    "DepthELBO",
    "DepthResMLP",
    "DepthResCNN",
    "LinearARD",
    "Conv1dARD",
    "Conv2dARD",
    "ResidualBlock",
    "ARDBottleneckBlock",
    "ConvBlock",
    "ResidualHead",
    "load_uci",
    "make_spirals",
    "__version__",
]
