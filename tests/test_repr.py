# SPDX-License-Identifier: MIT
"""scikit-learn's changed-only repr, for both estimators (issue #17)."""

import re

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr

from sklearn_depth import DepthSearchClassifier, DepthSearchRegressor

ESTIMATORS = [DepthSearchClassifier, DepthSearchRegressor]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_repr_shows_only_what_was_set(Estimator):
    name = Estimator.__name__
    assert repr(Estimator()) == f"{name}()"
    assert repr(Estimator(max_depth=5)) == f"{name}(max_depth=5)"
    # A skorch parameter set by the user is shown; skorch's defaults are not.
    assert repr(Estimator(max_depth=5, warm_start=True)) == (
        f"{name}(max_depth=5, warm_start=True)"
    )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_repr_inside_meta_estimators(Estimator):
    name = Estimator.__name__
    pipe = make_pipeline(StandardScaler(), Estimator(max_depth=5))
    assert f"{name}(max_depth=5))])" in repr(pipe)
    assert "dataset" not in repr(pipe) and "iterator_train" not in repr(pipe)
    grid = GridSearchCV(Estimator(max_depth=5), {"prior": ["uniform"]})
    assert f"estimator={name}(max_depth=5)" in repr(grid)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fitted_repr_is_the_same(Estimator):
    X = np.random.RandomState(0).randn(20, 2)
    y = np.arange(20) % 2
    est = Estimator(max_depth=2, max_epochs=2).fit(X, y)
    assert repr(est) == f"{Estimator.__name__}(max_depth=2, max_epochs=2)"


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_html_repr_marks_only_the_set_parameters(Estimator):
    html = estimator_html_repr(Estimator(max_depth=5, lr=0.05))
    rows = re.findall(
        r'<tr class="([^"]*)"[^>]*>.*?<td class="param">(.*?)</td>', html, re.S
    )
    user_set = sorted(p.strip() for cls, p in rows if "user-set" in cls)
    shown = {p.strip() for _, p in rows}
    if not rows:
        pytest.skip("this scikit-learn's HTML repr has no parameter table")
    assert user_set == ["lr", "max_depth"]
    assert not any(p.startswith("callbacks__") for p in shown)
    assert {"max_depth", "prior", "width", "dataset"} <= shown
