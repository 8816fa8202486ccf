"""Parametrization of the tests that take an implementation: ``impl`` × cases × ``target`` (dtype and device).

Tests ask for the ``impl`` and ``target`` fixtures; the plugin parametrizes them, so one test
serves every implementation and dtype, with ids like ``test_x[torch-module-float32]``.
A test may add cases with ``@pytest.mark.gatespec_cases(cases)`` (objects with an ``id``);
they are combined into one parametrization, ``test_x[torch-module-xor-2-2-1-float32]``; with
``joins=predicate`` the run's regression cases (``--gatespec-regressions``) that satisfy it join them.
``@pytest.mark.gatespec_compiled`` keeps a test to the implementations that compile (``compiled``):
for the others it is no test at all (their first call is their steady state), not a skip.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gatespec.conformance.plugin import registry
from gatespec.conformance.spec.checks import param_id
from gatespec.conformance.spec.interface import DTYPES, Implementation, Target


@dataclass(frozen=True)
class Missing:
    """Stands in for an implementation that could not be loaded; its tests are skipped."""

    name: str


def generate(metafunc: pytest.Metafunc, entries: list[registry.Entry], device: str, regressions: tuple = ()) -> None:
    """Parametrize a test that takes ``impl`` over ``entries``, its ``gatespec_cases`` and, with ``target``, DTYPES.

    ``regressions`` (a ``--gatespec-regressions`` file's cases) join the cases of a test whose marker says which
    it takes: ``gatespec_cases(cases, joins=predicate)``.
    """
    if "impl" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("gatespec_cases")
    cases = list(marker.args[0]) if marker else [None]
    joins = marker.kwargs.get("joins") if marker else None
    if joins is not None:
        cases += [case for case in regressions if joins(case) and case not in cases]
    with_target = "target" in metafunc.fixturenames
    argnames = ["impl"] + (["case"] if marker else []) + (["target"] if with_target else [])
    compiled_only = metafunc.definition.get_closest_marker("gatespec_compiled") is not None
    params = []
    for entry in entries:
        if compiled_only and entry.available and not entry.impl.compiled:
            continue
        for case in cases:
            for dtype in DTYPES if with_target else [None]:
                params.append(_param(entry, case, dtype, device))
    metafunc.parametrize(argnames, params)


def _param(entry: registry.Entry, case, dtype: str | None, device: str):
    # An unavailable implementation is still parametrized (and skipped), under its own name.
    values = [entry.impl if entry.available else Missing(entry.name)]
    marks = []
    if case is not None:
        values.append(case)
    if dtype is not None:
        values.append(Target(dtype, device))
    if not entry.available:
        marks.append(pytest.mark.skip(reason=f"{entry.name} unavailable: {entry.reason}"))
    elif dtype is not None and dtype not in entry.impl.dtypes:
        marks.append(pytest.mark.skip(reason=f"{entry.name} does not support {dtype}"))
    elif device not in entry.impl.devices:
        marks.append(pytest.mark.skip(reason=f"{entry.name} has no device {device!r}"))
    return pytest.param(*values, id=param_id(entry.name, case, dtype, device), marks=marks)


def gatespec_impl(item: pytest.Item):
    """The implementation (or the stand-in of an unavailable one) this plugin parametrized ``item`` with, or None:
    a test that parametrizes an argument called ``impl`` itself is not one of the suite's."""
    impl = getattr(getattr(item, "callspec", None), "params", {}).get("impl")
    return impl if isinstance(impl, (Implementation, Missing)) else None


def matrix_meta(item: pytest.Item) -> dict:
    """What a test of an implementation is in the matrix: implementation, check, case and dtype."""
    params = item.callspec.params
    return {
        "impl": params["impl"].name,
        "check": item.originalname.removeprefix("test_"),
        "case": getattr(params.get("case"), "id", None),
        "dtype": getattr(params.get("target"), "dtype", None),
    }
