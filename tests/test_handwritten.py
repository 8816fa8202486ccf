"""The benchmarks' hand-written programs (conformance/benchmarks/handwritten): one beside every compiled style.

What each program computes is checked where it is timed: ``test_task`` runs it through the task's own
check (expected.check_task) before pairing it with the style, in the README's test run too
(``--benchmark-disable``: each benchmark once, checked).
"""

from __future__ import annotations

import pytest

from gatespec.conformance.benchmarks.handwritten import PROGRAMS, program
from gatespec.conformance.plugin import registry


def test_every_program_is_a_built_in_styles():
    assert set(PROGRAMS) <= set(registry.BUILTINS), set(PROGRAMS) - set(registry.BUILTINS)


@pytest.mark.parametrize("name", sorted(registry.BUILTINS))
def test_every_compiled_style_has_a_hand_written_program(name):
    entry = registry.builtin(name)
    if not entry.available:
        pytest.skip(f"{name} unavailable: {entry.reason}")
    # Compiled is where an adapter can hide most (traced constants, retracing, per-call plumbing).
    if entry.impl.compiled:
        assert name in PROGRAMS, f"{name} is compiled but has no hand-written program in benchmarks/handwritten"


def test_a_style_without_a_program_gets_none():
    assert "numpy" not in PROGRAMS
    assert program("numpy", None, None) is None
