"""Logic gates as data: truth tables over {0, 1}^n with labels in {0, 1}.

Rows are ordered as the notebook's table — row i holds the binary digits of i, x₁ the most
significant — so AND's inputs are (0,0), (0,1), (1,0), (1,1).  Gates are built on demand
by :func:`gate`; nothing is kept between calls.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _validate
from .separability import Separability, separability

MAX_INPUTS = 16

# The sixteen Boolean functions of two inputs, named by what they compute.  Each is listed
# with its output column over the rows (0,0), (0,1), (1,0), (1,1), and the table is checked
# against the formula when the gate is built, so a typo in either is caught.
_TWO_INPUT: dict[str, tuple[Callable[[int, int], bool], tuple[int, int, int, int]]] = {
    "false": (lambda a, b: False, (0, 0, 0, 0)),
    "and": (lambda a, b: a and b, (0, 0, 0, 1)),
    "x1-and-not-x2": (lambda a, b: a and not b, (0, 0, 1, 0)),
    "x1": (lambda a, b: a, (0, 0, 1, 1)),
    "not-x1-and-x2": (lambda a, b: (not a) and b, (0, 1, 0, 0)),
    "x2": (lambda a, b: b, (0, 1, 0, 1)),
    "xor": (lambda a, b: a != b, (0, 1, 1, 0)),
    "or": (lambda a, b: a or b, (0, 1, 1, 1)),
    "nor": (lambda a, b: not (a or b), (1, 0, 0, 0)),
    "xnor": (lambda a, b: a == b, (1, 0, 0, 1)),
    "not-x2": (lambda a, b: not b, (1, 0, 1, 0)),
    "x1-or-not-x2": (lambda a, b: a or not b, (1, 0, 1, 1)),
    "not-x1": (lambda a, b: not a, (1, 1, 0, 0)),
    "not-x1-or-x2": (lambda a, b: (not a) or b, (1, 1, 0, 1)),
    "nand": (lambda a, b: not (a and b), (1, 1, 1, 0)),
    "true": (lambda a, b: True, (1, 1, 1, 1)),
}

_N_INPUT: dict[str, Callable[[tuple[int, ...]], bool]] = {
    "and": lambda bits: all(bits),
    "or": lambda bits: any(bits),
    "parity": lambda bits: sum(bits) % 2 == 1,
    # Strict majority: for even n a tie (n/2 ones) is 0.
    "majority": lambda bits: 2 * sum(bits) > len(bits),
}


@dataclass(frozen=True, eq=False)
class Gate:
    """A Boolean function as a training set: inputs ``X`` (2^n, n) and labels ``y`` (2^n,), float64."""

    name: str
    X: np.ndarray
    y: np.ndarray

    @property
    def n_inputs(self) -> int:
        return self.X.shape[1]

    @property
    def Xb(self) -> np.ndarray:
        """x′ = (x, 1): the inputs with the constant bias column appended."""
        return with_bias(self.X)

    @functools.cached_property
    def separability(self) -> Separability:
        """Computed by :func:`separability` from the table, never typed in."""
        return separability(self.Xb, self.y)

    @property
    def linearly_separable(self) -> bool:
        return self.separability.separable

    def __repr__(self) -> str:
        return f"Gate({self.name!r}, n_inputs={self.n_inputs})"


def with_bias(X: np.ndarray) -> np.ndarray:
    """x → x′ = (x, 1): append the constant-1 column, so w′ = (w, b) and w′·x′ = w·x + b."""
    X = _validate.float_array("X", X, 2)
    return np.hstack([X, np.ones((X.shape[0], 1))])


def all_inputs(n: int) -> np.ndarray:
    """{0, 1}^n as a (2^n, n) float64 array, row i the binary digits of i (x₁ most significant)."""
    n = _validate.count("n", n)
    if n > MAX_INPUTS:
        raise ValueError(f"n: expected at most {MAX_INPUTS} inputs, got {n}")
    rows = np.arange(2**n)[:, None]
    return ((rows >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def truth_table(name: str, fn: Callable[..., bool], n: int) -> Gate:
    """The gate computing ``fn(x₁, …, xₙ)`` on every row of {0, 1}^n."""
    X = all_inputs(n)
    y = np.array([float(bool(fn(*map(int, row)))) for row in X])
    return _frozen(Gate(name, X, y))


def two_input_gate_names() -> tuple[str, ...]:
    """The names of all sixteen two-input Boolean functions, in truth-table order."""
    return tuple(_TWO_INPUT)


def gate(name: str) -> Gate:
    """Build a gate by name.

    Names: the sixteen of :func:`two_input_gate_names` (``and``, ``or``, ``nand``, ``nor``,
    ``xor``, ``xnor``, …), ``not`` (one input), and ``and-N``, ``or-N``, ``parity-N``,
    ``majority-N`` for 1 ≤ N ≤ 16 inputs.
    """
    if name == "not":
        return truth_table("not", lambda a: not a, 1)
    if name in _TWO_INPUT:
        fn, column = _TWO_INPUT[name]
        g = truth_table(name, fn, 2)
        if tuple(int(v) for v in g.y) != column:  # pragma: no cover - guards the table above
            raise AssertionError(f"two-input table for {name!r} disagrees with its formula")
        return g
    match = re.fullmatch(r"(and|or|parity|majority)-(\d+)", name)
    if match:
        kind, n = match.group(1), int(match.group(2))
        if not 1 <= n <= MAX_INPUTS:
            raise ValueError(f"name: {name!r} needs 1 to {MAX_INPUTS} inputs, got {n}")
        fn = _N_INPUT[kind]
        X = all_inputs(n)
        # Vectorised over rows: a Python loop over 2^16 rows would dominate every caller.
        bits = X.astype(np.int64)
        ones = bits.sum(axis=1)
        y = {
            "and": ones == n,
            "or": ones > 0,
            "parity": ones % 2 == 1,
            "majority": 2 * ones > n,
        }[kind].astype(np.float64)
        # Spot-check the vectorised rule against the readable one on the first rows.
        for row, label in zip(bits[:8], y[:8]):
            if float(fn(tuple(row))) != label:  # pragma: no cover
                raise AssertionError(f"vectorised {kind} disagrees with its definition")
        return _frozen(Gate(name, X, y))
    known = ", ".join(("not",) + two_input_gate_names())
    raise ValueError(f"name: unknown gate {name!r}; expected one of {known}, or and-N, or-N, parity-N, majority-N")


def _frozen(g: Gate) -> Gate:
    g.X.setflags(write=False)
    g.y.setflags(write=False)
    return g
