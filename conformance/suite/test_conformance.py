"""The conformance suite: every implementation against the numpy reference, one test per check.

Each test serves every implementation and dtype through the plugin's ``impl`` and ``target``
fixtures, crossed with the check's cases; an operation an implementation does not declare is
skipped with its reason.  What each check runs and compares, and within which budget, is defined
once in :mod:`gatespec.conformance.spec.checks` (``CHECKS``); this module only collects it.

Run: ``pytest --pyargs gatespec.conformance.suite.test_conformance [--gatespec-impl NAME …]``.
"""

from gatespec.conformance.plugin.collect import collected

globals().update(collected("test_conformance.py"))
