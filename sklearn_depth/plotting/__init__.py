# SPDX-License-Identifier: MIT
"""Visualisations of depth posteriors, decision regions, calibration, uncertainty.

Every class follows scikit-learn's Display pattern: ``__init__`` stores the
values to plot, ``plot`` draws them and keeps the matplotlib artists as
attributes ending in ``_``, and the ``from_estimator`` / ``from_predictions``
class methods compute the values and call ``plot``. matplotlib is imported
only inside the plotting methods, so importing this module does not need it;
install it with ``pip install "sklearn-depth[plot]"``.
"""

from sklearn_depth.plotting._posterior import (
    DepthPosteriorDisplay,
    PosteriorHistoryDisplay,
)
from sklearn_depth.plotting._regions import DecisionRegionsDisplay
from sklearn_depth.plotting._reliability import ReliabilityDisplay
from sklearn_depth.plotting._uncertainty import UncertaintyDisplay

__all__ = [
    "DecisionRegionsDisplay",
    "DepthPosteriorDisplay",
    "PosteriorHistoryDisplay",
    "ReliabilityDisplay",
    "UncertaintyDisplay",
]
