"""Sphinx configuration of the Python API reference (built by the tests with warnings as
errors: crates/python/tests/test_docs.py)."""

project = "qts"
author = "the qts developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
html_theme = "alabaster"
exclude_patterns = ["_build"]
