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

TensorFlow's units go to one worker, in collection order (:data:`IN_ORDER`): its XLA cache entries hit
only in a process that traced the same functions in the same order (compile_cache.py).  The worker
that takes the first of them takes each next one before anything else; another worker takes one only
when nothing else is left, from the end, so that the keeper's sequence stays the same prefix.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping

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


# Frameworks whose persistent compile cache hits only in a process that compiled in the same order: TensorFlow's
# XLA entries carry the traced function's name, ``__inference_NAME_<ops.uid()>``, a process-wide counter that only
# TensorFlow's own tracing advances.  Dealt to whichever worker was free, a warm main job wrote 187 new entries
# beside the cold run's 207, and tf-xla took 73 s of it.
IN_ORDER = frozenset({"tensorflow"})


def next_scope(queue: Iterable[str], keeper: bool, in_order: Callable[[str], bool]) -> str:
    """The unit a worker takes next from ``queue`` (in collection order): the keeper of the in-order units their
    first, else the first unit; another worker the first unit that is not in order, else the last in-order one."""
    first_other = last_ordered = None
    for scope in queue:
        if in_order(scope):
            if keeper:
                return scope
            last_ordered = scope
        elif first_other is None:
            if not keeper:
                return scope
            first_other = scope
    return first_other if first_other is not None else last_ordered


class CompileCacheScheduling(LoadScopeScheduling):
    """LoadScopeScheduling whose scope is :func:`scope_of`, the units of :data:`IN_ORDER` frameworks kept by one
    worker (:func:`next_scope`)."""

    def __init__(
        self,
        config: pytest.Config,
        log=None,
        *,
        frameworks: Mapping[str, str],
        device: str,
        in_order: frozenset[str] = IN_ORDER,
    ) -> None:
        super().__init__(config, log)
        self._frameworks = dict(frameworks)
        self._device = device
        self._in_order = in_order
        self._keeper = None  # the worker that took the first in-order unit
        self._ordered_left: int | None = None

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid, self._frameworks, self._device)

    def _ordered(self, scope: str) -> bool:
        return scope.partition("/")[0] in self._in_order and "::" not in scope

    def remove_node(self, node):
        if node is self._keeper:
            self._keeper = None
        crashed = super().remove_node(node)
        self._ordered_left = None  # counted again: the node's unfinished units are back in the queue
        return crashed

    def _assign_work_unit(self, node) -> None:
        if self._ordered_left is None:
            self._ordered_left = sum(map(self._ordered, self.workqueue))
        if self._ordered_left:
            keeper = self._keeper is None or self._keeper is node
            scope = next_scope(self.workqueue, keeper, self._ordered)
            if self._ordered(scope):
                self._ordered_left -= 1
                if keeper:
                    self._keeper = node
            self.workqueue.move_to_end(scope, last=False)  # the base class takes the first unit
        super()._assign_work_unit(node)
