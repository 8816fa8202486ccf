"""The suite's tests, made from the check registry: one parametrized test per check, ``test_NAME``.

The plugin parametrizes ``impl``, ``case`` (the check's cases, as its ``gatespec_cases`` marker) and
``target``; a :class:`~gatespec.conformance.spec.checks.Skip` from the check becomes pytest's skip
with the same reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from gatespec.conformance.spec import checks as spec
from gatespec.conformance.spec.checks import CHECKS, Check, Skip


@contextmanager
def skipping() -> Iterator[None]:
    """A check's :class:`Skip` as pytest's skip, with its reason."""
    try:
        yield
    except Skip as why:
        pytest.skip(str(why))


def require(impl, capability, dtype: str | None = None) -> None:
    """Skip the test, with the implementation's reason, when it does not declare ``capability`` (in ``dtype``)."""
    with skipping():
        spec.require(impl, capability, dtype)


def collected(module: str) -> dict[str, Callable]:
    """``{test_NAME: test}`` for every check the suite module ``module`` collects, in registry order."""
    return {check.test: _test(check) for check in CHECKS.values() if check.module == module}


def _test(check: Check) -> Callable:
    if not check.takes_impl:

        @pytest.mark.parametrize("case", check.cases, ids=lambda c: c.id)
        def test(case):
            with skipping():
                check.code(case)

    elif "convergence" in check.marks:
        from gatespec.conformance.report.convergence import CURVE_EVERY

        def test(impl, case, target, record_convergence):
            with skipping():
                check.run(impl, case, target, record=record_convergence, curve_every=CURVE_EVERY)

    else:

        def test(impl, case, target):
            with skipping():
                check.run(impl, case, target)

    if check.takes_impl:
        test = pytest.mark.gatespec_cases(check.cases, joins=check.joins)(test)
    for mark in check.marks:
        test = getattr(pytest.mark, mark)(test)
    test.__name__ = test.__qualname__ = check.test
    test.__doc__ = inspect.getdoc(check.code or check.build)
    return test
