"""Comparisons for the conformance suite, with failure messages that say what, where and by how much.

:func:`assert_close` applies numpy's rule |actual − desired| ≤ atol + rtol·|desired|
elementwise; :func:`assert_equal_exact` demands identity (threshold predictions, perceptron
trajectories on a dyadic grid).  Both first check the result's form: its shape, and, given
``dtype``, its dtype (the interface's contract: results in the target's dtype), each failing
with a one-line message that says what was expected.  A failure of the values names the
implementation, the case and the quantity, then the tolerance, how many elements are off, any
NaN or ±inf in the result, the largest absolute and relative error among the mismatched elements with the
index where each occurs, and the actual and desired arrays.

Headroom: every comparison that runs to the end, inside a :func:`recording` block, calls that
block's recorder with one dict ``{impl, case, quantity, dtype, max_abs, max_rel, rtol, atol,
ratio, passed}``, where ``ratio = max_i |a_i − d_i| / (atol + rtol·|d_i|)`` (≤ 1 passes; 0.01
means a hundredfold headroom).  The plugin's session wraps each test's call in one, recording on
that test's report; a script records with ``with checks.recording(rows.append): ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from gatespec.conformance.spec.tolerances import Tolerance, finite_difference_step

# The recorder of the current :func:`recording` block, called with one dict per comparison; None
# records nothing.  A context variable, not a module global: each block sets it for its own thread
# and restores what was there on leaving, so no record reaches the recorder of another test.
_RECORDER: ContextVar[Callable[[dict[str, Any]], None] | None] = ContextVar("gatespec_recorder", default=None)


@contextmanager
def recording(recorder: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """Within the block, each comparison that runs to the end calls ``recorder`` with its record."""
    token = _RECORDER.set(recorder)
    try:
        yield
    finally:
        _RECORDER.reset(token)


def assert_close(
    actual, desired, *, tol: Tolerance, impl: Any, case: Any, quantity: str, dtype: str | None = None
) -> None:
    """|actual − desired| ≤ tol.atol + tol.rtol·|desired| elementwise, NaN never close.

    ``dtype``: the dtype ``actual`` must have (the target's, for an implementation's result).
    """
    a, d = _pair(actual, desired, impl, case, quantity, dtype)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.abs(a.astype(np.float64) - d)
        bound = tol.atol + tol.rtol * np.abs(d)
        ratio = np.where(err == 0, 0.0, err / bound)  # an exact match is no error, even against a zero budget
        rel = np.where(d != 0, err / np.abs(d), np.where(err == 0, 0.0, np.inf))
    bad = ~(err <= bound)  # NaN in either compares False, so counts as a mismatch
    _record(impl, case, quantity, a, err, rel, ratio, tol, not bad.any())
    if bad.any():
        header = f"{tol} ({tol.why})"
        raise AssertionError(_message(impl, case, quantity, header, a, d, bad, err, rel))


def zip_params(impl: Any, case: Any, quantity: str, actual, *desired):
    """zip(actual, *desired), but first a failure naming the quantity when the counts differ: a result missing a
    layer's parameters would otherwise be compared on the layers it has and pass."""
    actual = tuple(actual)
    for d in desired:
        if len(actual) != len(d):
            where = f"{_name(impl)} / {_name(case)} / {quantity}"
            raise AssertionError(f"{where}: {len(actual)} arrays, expected {len(d)} (W₁, b₁, …, W_L, b_L)")
    return zip(actual, *desired)


def param_name(k: int) -> str:
    """The k-th array of the canonical layout (W₁, b₁, W₂, …) as messages name it: W1, b1, W2, …"""
    return ("W", "b")[k % 2] + str(k // 2 + 1)


def assert_close_params(
    actual, desired, *, tol: Tolerance, impl: Any, case: Any, quantity: str, dtype: str | None = None
) -> None:
    """:func:`assert_close` on each parameter of the canonical layout, named W1, b1, W2, … in the message."""
    for k, (a, d) in enumerate(zip_params(impl, case, quantity, actual, desired)):
        assert_close(a, d, tol=tol, impl=impl, case=case, quantity=f"{quantity} {param_name(k)}", dtype=dtype)


def assert_equal_exact(actual, desired, *, impl: Any, case: Any, quantity: str, dtype: str | None = None) -> None:
    """actual == desired elementwise, bit for bit in value; ``actual`` of ``dtype`` if given."""
    a, d = _pair(actual, desired, impl, case, quantity, dtype)
    # divide: the relative error at an expected exact 0 is inf (or 0 where equal), never a warning.
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.abs(a.astype(np.float64) - d)
        rel = np.where(d != 0, err / np.abs(d), np.where(err == 0, 0.0, np.inf))
    bad = ~(a.astype(np.float64) == d)
    _record(impl, case, quantity, a, err, rel, np.where(bad, np.inf, 0.0), Tolerance(0.0, 0.0, "exact"), not bad.any())
    if bad.any():
        raise AssertionError(_message(impl, case, quantity, "exact equality", a, d, bad, err, rel))


def central_gradient(f: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """∂f/∂θ_i ≈ (f(θ + h_i e_i) − f(θ − h_i e_i)) / 2h_i in float64, error O(h²) + O(ε/h)."""
    h = finite_difference_step(theta)
    grad = np.empty_like(theta)
    for i in np.ndindex(theta.shape):
        up, down = theta.copy(), theta.copy()
        up[i] += h[i]
        down[i] -= h[i]
        # The step actually taken, not the one asked for: θ + h is rounded.
        grad[i] = (f(up) - f(down)) / (up[i] - down[i])
    return grad


def _name(x: Any) -> str:
    return getattr(x, "name", None) or getattr(x, "id", None) or str(x)


def _pair(actual, desired, impl, case, quantity, dtype: str | None) -> tuple[np.ndarray, np.ndarray]:
    # The form before the values: a wrong shape would otherwise broadcast (or fail to) inside the
    # comparison, and a float64 result for a float32 target would pass with room to spare.
    where = f"{_name(impl)} / {_name(case)} / {quantity}"
    a = np.asarray(actual)
    d = np.asarray(desired, dtype=np.float64)
    if a.shape != d.shape:
        raise AssertionError(f"{where}: shape {a.shape}, expected {d.shape}")
    if dtype is not None and a.dtype != np.dtype(dtype):
        raise AssertionError(f"{where}: dtype {a.dtype}, expected {dtype} (results come back in the target's dtype)")
    if a.dtype.kind not in "biuf":
        raise AssertionError(f"{where}: dtype {a.dtype}, expected a real number array, got {type(actual).__name__}")
    return a, d


def _record(impl, case, quantity, a, err, rel, ratio, tol: Tolerance, passed: bool) -> None:
    recorder = _RECORDER.get()
    if recorder is None:
        return
    finite = lambda x: float(np.max(np.where(np.isnan(x), np.inf, x))) if x.size else 0.0  # noqa: E731
    recorder(
        dict(
            impl=_name(impl),
            case=_name(case),
            quantity=quantity,
            dtype=str(a.dtype),
            max_abs=finite(err),
            max_rel=finite(rel),
            # Plain floats: the record travels in the test report, which pytest-xdist must serialise.
            rtol=float(tol.rtol),
            atol=float(np.max(tol.atol)),
            ratio=finite(ratio),
            passed=passed,
        )
    )


def _index(i: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(k) for k in np.unravel_index(i, shape)) if shape else ()


def _where(x: np.ndarray, shape: tuple[int, ...], among: np.ndarray) -> str:
    """The largest entry of ``x`` among the mismatched elements ``among``, and its index; a NaN (an error that is
    no number) outranks every number.  Only mismatches: a tiny expected value elsewhere can have a huge relative
    error well within its absolute tolerance, and pointing there would hide the element that failed."""
    if not among.any():
        return "-"
    x = np.where(among, x, -np.inf)
    nan = np.isnan(x)
    i = int(np.argmax(nan)) if nan.any() else int(np.argmax(x))
    return f"{x.flat[i]:.3g} at index {_index(i, shape)}"


def _non_finite(a: np.ndarray) -> list[str]:
    """A line naming the NaN and ±inf in the result, if any: they are the failure, not a large error."""
    if a.dtype.kind != "f" or np.all(np.isfinite(a)):
        return []
    counts = []
    for label, mask in (("NaN", np.isnan(a)), ("+inf", np.isposinf(a)), ("-inf", np.isneginf(a))):
        if mask.any():
            counts.append(f"{int(mask.sum())} {label} (first at index {_index(int(np.argmax(mask)), a.shape)})")
    return [f"non-finite values in ACTUAL: {', '.join(counts)}"]


def _message(impl, case, quantity, header, a, d, bad, err, rel) -> str:
    with np.printoptions(precision=17, threshold=200, linewidth=120):
        return "\n".join(
            [
                f"{_name(impl)} / {_name(case)} / {quantity}: not within {header}",
                f"mismatched elements: {int(bad.sum())} / {bad.size}",
                *_non_finite(a),
                f"largest absolute error of a mismatched element: {_where(err, a.shape, bad)}",
                f"largest relative error of a mismatched element: {_where(rel, a.shape, bad)}",
                f"ACTUAL ({a.dtype}):\n{a!r}",
                f"DESIRED (float64 reference):\n{d!r}",
            ]
        )
