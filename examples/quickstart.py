# SPDX-License-Identifier: MIT
"""Quick start: learn how deep a residual network should be for two spirals.

Fits DepthSearchClassifier on the paper's setting (200 training points of
two noisy spirals, 1800 test points), then prints the learned posterior over
depth, the selected depth and the test accuracy of the pruned network.

    python examples/quickstart.py
"""

# %%
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
model = make_pipeline(
    StandardScaler(), DepthSearchClassifier(max_depth=20, random_state=0)
)
start = time.perf_counter()
model.fit(X_train, y_train)
elapsed = time.perf_counter() - start
clf = model[-1]

# %%
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
