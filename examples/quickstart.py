# SPDX-License-Identifier: MIT
"""Quick start: how deep a network do two spirals need?
=====================================================

Fits :class:`~sklearn_depth.DepthSearchClassifier` in the paper's setting (200
training points of two noisy spirals, 1800 test points), prints the learned
posterior over depth, the selected depth and the test accuracy of the pruned
network, then plots the posterior, how it evolved during training and the
decision regions.

Run it with ``python examples/quickstart.py``; the figures need matplotlib
(``pip install "sklearn-depth[plot]"``) and are skipped without it.
"""

# %%
# Data: the paper's spirals
# -------------------------
# :func:`~sklearn_depth.datasets.make_spirals` draws two interleaved spiral
# arms, one class each; 200 points train the network and the other 1800 test
# it.
import sys
import time

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_depth import DepthSearchClassifier, make_spirals

X, y = make_spirals(2000, noise=0.2, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=200, random_state=0, stratify=y
)

# %%
# One fit learns the weights and the posterior over depth
# -------------------------------------------------------
# Up to 20 residual blocks, so the posterior ``q(d)`` covers the depths 0 to
# 20. The scaler and the classifier form one scikit-learn pipeline.
model = make_pipeline(
    StandardScaler(), DepthSearchClassifier(max_depth=20, random_state=0)
)
start = time.perf_counter()
model.fit(X_train, y_train)
elapsed = time.perf_counter() - start
clf = model[-1]

# %%
# The posterior, the selected depth and the accuracy
# --------------------------------------------------
# After fitting, the network is pruned to ``depth_`` blocks and predicts by
# marginalising over the posterior folded onto the kept depths.
# ``predict_proba_per_depth`` still runs every block, which shows what each
# single depth would have achieved.
print(f"fit in {elapsed:.1f} s")
print("posterior over depth q(d):")
for depth, mass in enumerate(clf.posterior_depth_):
    bar = "#" * int(round(60 * mass))
    print(f"  d={depth:2d}  {mass:6.3f}  {bar}")
print(f"selected depth: {clf.depth_} of {clf.max_depth} blocks")
accuracy = model.score(X_test, y_test)
print(f"test accuracy (pruned, marginalised over depth): {accuracy:.3f}")
per_depth = clf.predict_proba_per_depth(model[0].transform(X_test))
acc = (clf.classes_[per_depth.argmax(-1)] == y_test[:, None]).mean(0)
print("test accuracy of each single depth:", np.round(acc, 3))

# %%
# Figures
# -------
# The Displays of :mod:`sklearn_depth.plotting` draw the posterior over depth
# (bars) against the prior (line) with the selected depth marked, and the
# posterior after every epoch: it stays uniform during the warm-up, the first
# quarter of the epochs, and then concentrates.
try:
    import matplotlib.pyplot as plt
except ImportError:  # the plot extra is not installed
    print("matplotlib is not installed: no figures.")
    sys.exit()

from sklearn_depth.plotting import (
    DecisionRegionsDisplay,
    DepthPosteriorDisplay,
    PosteriorHistoryDisplay,
)

fig, (ax_posterior, ax_history) = plt.subplots(1, 2, figsize=(11, 4))
DepthPosteriorDisplay.from_estimator(clf, ax=ax_posterior)
PosteriorHistoryDisplay.from_estimator(clf, ax=ax_history)
fig.tight_layout()

# %%
# The decision regions of the pruned, marginalised model over the test points,
# and the entropy of its predictive distribution, which is high only near the
# boundary between the arms.
fig, (ax_proba, ax_entropy) = plt.subplots(1, 2, figsize=(11, 4.5))
DecisionRegionsDisplay.from_estimator(
    model, X_test, y_test, grid_resolution=150, ax=ax_proba
)
DecisionRegionsDisplay.from_estimator(
    model, X_test, response="entropy", grid_resolution=150, ax=ax_entropy
)
fig.tight_layout()
plt.show()
