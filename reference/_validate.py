"""Argument checks shared by the reference: every bad input is a ValueError naming the argument.

The reference never broadcasts or casts on the caller's behalf: a float32 array, a
list, or a row vector where a column was meant is refused with a message that says
which argument was wrong and what was expected.
"""

from __future__ import annotations

import numpy as np


def shown(value: object) -> object:
    """A numpy scalar as the Python number it holds, for messages: 0.5, never np.float64(0.5)."""
    return value.item() if isinstance(value, np.generic) else value


def float_array(name: str, a: object, ndim: int, shape: tuple[int | None, ...] | None = None) -> np.ndarray:
    """Return ``a`` unchanged if it is a finite float64 ndarray of rank ``ndim`` (and ``shape``).

    ``None`` in ``shape`` leaves that axis free.
    """
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{name}: expected a numpy.ndarray of float64, got {type(a).__name__}")
    if a.dtype != np.float64:
        raise ValueError(f"{name}: expected dtype float64, got {a.dtype} (the reference does not cast)")
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected rank {ndim}, got shape {a.shape}")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(a.shape, shape)):
            if want is not None and got != want:
                raise ValueError(f"{name}: expected shape {_fmt(shape)}, got {a.shape} (axis {axis})")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return a


def labels(name: str, y: object, n_rows: int) -> np.ndarray:
    """Return ``y`` if it is a float64 vector of ``n_rows`` values, each exactly 0 or 1."""
    y = float_array(name, y, 1)
    if y.shape[0] != n_rows:
        raise ValueError(f"{name}: expected {n_rows} labels to match the rows of the inputs, got {y.shape[0]}")
    if not np.all((y == 0.0) | (y == 1.0)):
        raise ValueError(f"{name}: expected labels in {{0, 1}}, got {np.unique(y)}")
    return y


def positive(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name}: expected a positive real number, got {shown(value)!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive real number, got {shown(value)!r}")
    return float(value)


def non_negative(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name}: expected a real number ≥ 0, got {shown(value)!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a real number ≥ 0, got {shown(value)!r}")
    return float(value)


def count(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {shown(value)!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {shown(value)!r}")
    return int(value)


def _fmt(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def inputs_and_weights(Xb: object, w: object, w_name: str = "w") -> tuple[np.ndarray, np.ndarray]:
    """Check a (N, d) input matrix and a (d,) weight vector that multiplies it."""
    Xb = float_array("Xb", Xb, 2)
    w = float_array(w_name, w, 1, (Xb.shape[1],))
    return Xb, w
