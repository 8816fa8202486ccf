"""Regression cases kept in the user's repository: ``--gatespec-regressions=FILE``.

Exploration (``--gatespec-explore N``) prints each case it shrinks as one line, the call that rebuilds
it.  A regressions file is those lines, as printed::

    # found by exploring my-style, 2026-12-07
    generated.mlp_case("xor", depth=3, scale="unit", seed=0)
    generated.mlp_case("xor", depth=2, scale="unit", seed=3, optimizer=generated.SGD(lr=0.3), steps=40)
    generated.logistic_case("nand", scale="tiny", eta=0.3, seed=11)

one case a line, ``#`` starting a comment.  A line is read, never executed: it must be one call of
``generated.mlp_case`` or ``generated.logistic_case`` whose arguments are literals (and, for
``optimizer=``, a call of ``generated.SGD`` or ``generated.Adam`` with literal arguments); anything
else is a usage error naming FILE:LINE.  Each case joins every check that takes cases of its kind
(:func:`gatespec.conformance.spec.generated.joins`), on every implementation, compiled ones included, and
its id ends in ``-regression``.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from gatespec.conformance.spec import generated as G

_BUILDERS = {"mlp_case": G.mlp_case, "logistic_case": G.logistic_case}
_OPTIMIZERS = {"SGD": G.SGD, "Adam": G.Adam}
SUFFIX = "-regression"


class RegressionError(ValueError):
    """A line that is not a case as exploration prints it."""


def read(path: Path) -> tuple:
    """The cases of a regressions file, in order; a repeated case once."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise RegressionError(f"--gatespec-regressions {path}: {exc.strerror}") from None
    cases: list = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            case = parse(line)
        except (RegressionError, ValueError, TypeError) as exc:
            raise RegressionError(f"--gatespec-regressions {path}:{number}: {exc}") from None
        if case not in cases:
            cases.append(case)
    return tuple(cases)


def parse(line: str):
    """The case one line builds: ``generated.mlp_case(...)`` or ``generated.logistic_case(...)``, literals only."""
    try:
        tree = ast.parse(line, mode="eval").body
    except SyntaxError:
        raise RegressionError(f"not a Python expression: {line!r}") from None
    builder = _call(tree, _BUILDERS, "generated.mlp_case(...) or generated.logistic_case(...)")
    args = [_literal(a) for a in tree.args]
    kwargs = {k.arg: _optimizer(k.value) if k.arg == "optimizer" else _literal(k.value) for k in tree.keywords}
    if None in kwargs:
        raise RegressionError("** arguments are not read")
    case = builder(*args, **kwargs)
    return dataclasses.replace(case, name=case.name + SUFFIX, origin="regression")


def _call(node: ast.expr, names: dict, expected: str):
    func = node.func if isinstance(node, ast.Call) else None
    if not (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "generated"
        and func.attr in names
    ):
        raise RegressionError(f"expected {expected}, got {ast.unparse(node)!r}")
    return names[func.attr]


def _optimizer(node: ast.expr):
    optimizer = _call(node, _OPTIMIZERS, "generated.SGD(...) or generated.Adam(...)")
    if any(k.arg is None for k in node.keywords):
        raise RegressionError("** arguments are not read")
    return optimizer(*map(_literal, node.args), **{k.arg: _literal(k.value) for k in node.keywords})


def _literal(node: ast.expr):
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise RegressionError(f"expected a literal, got {ast.unparse(node)!r}") from None
