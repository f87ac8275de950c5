# SPDX-License-Identifier: MIT
"""Sphinx configuration of the sklearn-depth documentation.

Build from the repository root (offline: no intersphinx inventories are
fetched, and MathJax is loaded by the reader's browser, not at build time):

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

import importlib
import os
import re
import sys
from pathlib import Path

from sphinx.util import logging

ROOT = Path(__file__).resolve().parents[1]
# Document the package of this checkout, not whichever one is installed.
sys.path.insert(0, str(ROOT))
# The gallery fits small networks while the build runs: one torch thread per
# process keeps it quick and its output reproducible on a shared machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sklearn_depth  # noqa: E402

project = "sklearn-depth"
author = "the sklearn-depth developers"
copyright = "the sklearn-depth developers, MIT licence"
release = sklearn_depth.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "**.ipynb_checkpoints"]
nitpicky = False
default_role = "literal"  # `x` in a docstring is code, as in scikit-learn's
pygments_style = "sphinx"

# -- API reference -----------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # numpydoc's parameter lists already give the types
autodoc_member_order = "groupwise"
# A method without a docstring of its own is a hook override (skorch's
# initialize_module, torch's get_extra_state, ...): leave it out rather than
# show the parent's docstring as if it described ours.
autodoc_inherit_docstrings = False
# numpydoc renders Parameters / Attributes; the class templates list the
# methods, so numpydoc must not add a second members table.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- Gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    # Run every example (not only plot_*.py); a failing one fails the build.
    "filename_pattern": r"\.py$",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "doc_module": ("sklearn_depth",),
    "backreferences_dir": "generated/backreferences",
    # Notebooks are linked from notebooks.rst, not converted (that needs pandoc).
    "ignore_pattern": r"__init__\.py|\.ipynb$",
}


# -- Docstring fixes applied at build time ----------------------------------
# numpydoc types such as ``ndarray of shape (n_features_in_,)`` are rst, where a
# word ending in "_" is a hyperlink reference ("Unknown target name"). Escape
# that underscore in the type of every "name : type" line, outside literals,
# before numpydoc renders the docstring (numpydoc's handler has priority 500).
_TYPE_LINE = re.compile(r"^(\s*[\w*\\][\w*, \\]* : )(.+)$")
_LITERAL = re.compile(r"(``.+?``|`[^`]+`)")
_TRAILING_UNDERSCORE = re.compile(r"\b([A-Za-z]\w*?)_(?=[\s,)\]]|$)")


def _escape_type_underscores(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match is None:
            continue
        head, type_ = match.groups()
        parts = _LITERAL.split(type_)
        parts[::2] = [_TRAILING_UNDERSCORE.sub(r"\1\\_", p) for p in parts[::2]]
        lines[i] = head + "".join(parts)


# scikit-learn's metadata-routing setters (set_fit_request, ...) are generated
# on every estimator class and documented by scikit-learn.
_SKLEARN_GENERATED = re.compile(r"^set_\w+_request$")


def _skip_member(app, what, name, obj, skip, options):
    if what == "class" and _SKLEARN_GENERATED.match(name):
        return True
    return None


# -- The API reference lists every public name -------------------------------
# Each name of these modules' __all__ must be an autosummary entry of api.rst
# (a re-exported name may be listed under one module only); a public name
# added without documentation fails the build.
_API_MODULES = (
    "sklearn_depth",
    "sklearn_depth.nn",
    "sklearn_depth.metrics",
    "sklearn_depth.datasets",
    "sklearn_depth.plotting",
)
_NOT_DOCUMENTED = {"__version__"}  # a string, mentioned in api.rst's prose
_AUTOSUMMARY_ENTRY = re.compile(r"^ {3}(\w+)$", re.MULTILINE)


def _check_api_lists_all(app):
    listed = set(_AUTOSUMMARY_ENTRY.findall((Path(app.srcdir) / "api.rst").read_text()))
    for module_name in _API_MODULES:
        public = importlib.import_module(module_name).__all__
        missing = sorted(set(public) - listed - _NOT_DOCUMENTED)
        if missing:
            logging.getLogger(__name__).warning(
                "docs/api.rst does not list %s from %s.__all__",
                ", ".join(missing),
                module_name,
            )


def setup(app):
    app.connect("builder-inited", _check_api_lists_all)
    app.connect("autodoc-process-docstring", _escape_type_underscores, priority=400)
    app.connect("autodoc-skip-member", _skip_member)


# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-depth {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"install": [], "notebooks": []}
html_show_sourcelink = False
html_copy_source = False
