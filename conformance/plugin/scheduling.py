"""xdist scheduling by compile cache: ``-n N --dist loadscope`` sends each framework's tests of one dtype
and one net shape to one worker.

jit, tf.function, XLA and JAX's eager dispatch compile once per (framework, dtype, layer sizes)
and reuse that work for every later call in the process.  xdist's default ``load`` scheduling
deals tests to workers one by one, so every worker compiled nearly every shape of every
framework again, and the three JAX styles, which share their jitted functions, compiled them
apart.  Under ``loadscope`` gatespec's tests are grouped by that key instead of by module:

- a test of a check's case that is a net: framework / dtype / its layer sizes (:func:`net_sizes`);
- any other gatespec test (a benchmark task, an exploration, a regression kept from one): framework / dtype /
  test function;
- a test that is not gatespec's (``tests/``): its own scope, as ``load`` would send it.

The controller collects nothing, so it reads a node id; but only as the suite writes one
(``checks.param_id``: style, case id, dtype, device, each known here), and a case's sizes come from
the case itself, never from its id.  The grouping changes where a test runs, never its id or its outcome.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import pytest
from xdist.scheduler import LoadScopeScheduling

from gatespec.conformance.spec.checks import CHECKS
from gatespec.conformance.spec.interface import DTYPES


@functools.cache
def net_sizes() -> dict[str, tuple[int, ...]]:
    """{case id: layer sizes} for every check's case that is a net (or nets of one shape); an id names one case
    whichever check takes it (tests/test_scheduling.py holds the design to that)."""
    return {
        case.id: tuple(case.sizes) for check in CHECKS.values() for case in check.cases if getattr(case, "sizes", None)
    }


def _split(param: str, names: list[str], device: str) -> tuple[str, str, str] | None:
    """``STYLE-CASE-DTYPE[-DEVICE]`` → (style, case id, dtype), ``STYLE-CASE`` or ``STYLE`` (no dtype) → (style,
    case id, "-"); None for an id that names no selected style."""
    style = next((s for s in names if param == s or param.startswith(f"{s}-")), None)
    if style is None:
        return None
    for dtype in DTYPES:
        suffix = f"-{dtype}" if device == "cpu" else f"-{dtype}-{device}"
        if param.endswith(suffix):
            return style, param[len(style) + 1 : -len(suffix)], dtype
    return style, param[len(style) + 1 :], "-"


def scope_of(nodeid: str, frameworks: Mapping[str, str], device: str = "cpu") -> str:
    """The work unit of ``nodeid``: framework/dtype/sizes, framework/dtype/function, or the node id itself.

    ``frameworks`` maps each selected implementation's name to its framework.
    """
    path, bracket, param = nodeid.partition("[")
    if not bracket:
        return nodeid
    function = path.rsplit("::", 1)[-1]
    # The longest name first: "torch-nn" must not be read as a style "torch" plus a case "nn-…".
    parts = _split(param.removesuffix("]"), sorted(frameworks, key=len, reverse=True), device)
    if parts is None:
        return nodeid
    style, case, dtype = parts
    sizes = net_sizes().get(case)
    what = "x".join(map(str, sizes)) if sizes else function
    return f"{frameworks[style]}/{dtype}/{what}"


class CompileCacheScheduling(LoadScopeScheduling):
    """LoadScopeScheduling whose scope is :func:`scope_of`."""

    def __init__(self, config: pytest.Config, log=None, *, frameworks: Mapping[str, str], device: str) -> None:
        super().__init__(config, log)
        self._frameworks = dict(frameworks)
        self._device = device

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid, self._frameworks, self._device)
