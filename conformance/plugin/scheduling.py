"""xdist scheduling by compile cache: ``-n N --dist loadscope`` sends each framework's tests of one dtype
and one net shape to one worker.

jit, tf.function, XLA and JAX's eager dispatch compile once per (framework, dtype, layer sizes)
and reuse that work for every later call in the process.  xdist's default ``load`` scheduling
deals tests to workers one by one, so every worker compiled nearly every shape of every
framework again, and the three JAX styles, which share their jitted functions, compiled them
apart.  Under ``loadscope`` gatespec's tests are grouped by that key instead of by module:

- a test whose id names a net (``…-4x7x3x8x1-…``, ``…-xor-2-2-1-…``): framework / dtype / sizes;
- any other gatespec test: framework / dtype / test function;
- a test that is not gatespec's (``tests/``): its own scope, as ``load`` would send it.

The grouping changes where a test runs, never its id or its outcome.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest
from xdist.scheduler import LoadScopeScheduling

# A net named in a case id: generated cases write their sizes as 4x7x3x8x1, the notebook's as 2-2-1.
_SIZES = re.compile(r"(?<![\w.])(\d+(?:x\d+)+|\d+-\d+-\d+(?:-\d+)*)(?![\w.])")
_DTYPE = re.compile(r"-(float32|float64)(?:-\w+)?$")


def scope_of(nodeid: str, frameworks: Mapping[str, str]) -> str:
    """The work unit of ``nodeid``: framework/dtype/sizes, framework/dtype/function, or the node id itself.

    ``frameworks`` maps each selected implementation's name to its framework.
    """
    function, bracket, param = nodeid.partition("[")
    if not bracket:
        return nodeid
    param = param.removesuffix("]")
    # The longest name first: "torch-nn" must not be read as a style "torch" plus a case "nn-…".
    names = sorted(frameworks, key=len, reverse=True)
    style = next((s for s in names if param == s or param.startswith(f"{s}-")), None)
    if style is None:
        return nodeid
    rest = param[len(style) :]
    dtype = _DTYPE.search(rest)
    sizes = _SIZES.search(rest[: dtype.start()] if dtype else rest)
    what = sizes.group(1).replace("-", "x") if sizes else function.rsplit("::", 1)[-1]
    return f"{frameworks[style]}/{dtype.group(1) if dtype else '-'}/{what}"


class CompileCacheScheduling(LoadScopeScheduling):
    """LoadScopeScheduling whose scope is :func:`scope_of`."""

    def __init__(self, config: pytest.Config, log=None, *, frameworks: Mapping[str, str]) -> None:
        super().__init__(config, log)
        self._frameworks = dict(frameworks)

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid, self._frameworks)
