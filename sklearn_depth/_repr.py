# SPDX-License-Identifier: MIT
"""scikit-learn's changed-only repr for estimators built on skorch.

scikit-learn prints only the parameters that differ from the defaults in
the signature of ``__init__`` (in ``repr``, in a Pipeline's repr and in the
HTML parameter table). Our ``__init__`` passes skorch's own parameters
(``dataset``, ``iterator_train``, ``callbacks``, ...) through ``**kwargs``,
where their defaults are invisible, so every one of them would be printed
as if the user had set it. :func:`signature_with_defaults` gives our
``__init__`` a signature that also lists skorch's keyword parameters with
skorch's defaults, which is what the call really does.
"""

from __future__ import annotations

import inspect

from sklearn.base import BaseEstimator

__all__ = ["signature_with_defaults"]


class _ReprMixin:
    """scikit-learn's changed-only ``repr`` and HTML table for a skorch net.

    Not skorch's module dump, which stays available as ``print(est.module_)``.
    """

    __repr__ = BaseEstimator.__repr__

    def _get_params_html(self, deep=True, **kwargs):
        # The HTML parameter table (scikit-learn >= 1.7): skorch's deep
        # parameters are its callbacks' settings, not nested estimators.
        return super()._get_params_html(deep=False, **kwargs)


def signature_with_defaults(init, parent_init) -> inspect.Signature:
    """The signature of ``init`` with the keyword defaults of ``parent_init``.

    Parameters of ``parent_init`` that ``init`` does not name, and that have
    a default, are inserted as keyword-only parameters before ``init``'s
    ``**kwargs``.

    Parameters
    ----------
    init, parent_init : callable
        The ``__init__`` of a class and of the class it passes ``**kwargs`` to.

    Returns
    -------
    signature : inspect.Signature

    Examples
    --------
    >>> def parent(self, a, b=1, c="x", **kwargs): ...
    >>> def child(self, a, *, d=2, **kwargs): ...
    >>> str(signature_with_defaults(child, parent))
    "(self, a, *, d=2, b=1, c='x', **kwargs)"
    """
    own = inspect.signature(init)
    params = list(own.parameters.values())
    var_kw = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    named = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    inherited = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for name, p in inspect.signature(parent_init).parameters.items()
        if name not in own.parameters
        and p.default is not inspect.Parameter.empty
        and p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    return own.replace(parameters=[*named, *inherited, *var_kw])
