"""The gatespec exec protocol, version 1: an implementation in any language, as a program on stdin/stdout.

``--gatespec-impl exec:COMMAND`` starts COMMAND (split as a shell would, run without a shell, in the
current directory) and talks to it in JSON lines: one JSON object per line, UTF-8, ``\\n``
ended, on the program's stdin (requests) and stdout (responses).  stdout carries nothing else:
logs go to stderr, whose tail the suite quotes when the program fails.  One request at a time;
every request gets exactly one response, with the request's ``id``.

Handshake
---------
The first request is always::

    {"id": 0, "op": "hello", "protocol": 1}

and the program answers with what it is::

    {"id": 0, "result": {"protocol": 1, "name": "js-plain", "language": "javascript",
        "framework": "node", "version": "v22.12.0", "dtypes": ["float32", "float64"],
        "capabilities": ["tlu-predict", "mlp-forward", "mlp-loss-grads", "mlp-train-sgd"]}}

- ``name``: the column in the report (letters, digits, ``-``, ``_``, ``.``); ``framework``: what
  ``--gatespec-impl FW`` and ``--gatespec-require FW`` select it by; ``version``: any text naming the build.
- ``dtypes``: a subset of ``["float32", "float64"]``.
- ``capabilities``: the operations it answers (names below); optional
  ``capabilities_by_dtype``: ``{dtype: [names]}`` where one dtype answers a different set.
- optional ``known_deviations``: ``{"TEST[REST": reason}``, tests it is known to fail, as an
  implementation's ``known_deviations`` (:mod:`gatespec.conformance.spec.interface`): the test id
  without the implementation's name, ``*`` for any characters, a prefix; run as strict xfails.
- ``protocol`` must be 1.  A program that does not speak the version it is sent answers
  ``{"id": 0, "error": {"kind": "protocol", "message": "speaks 2"}}``; either way the run stops
  with a usage error naming both versions.

Operations
----------
After the handshake, each request is::

    {"id": 7, "op": "mlp_forward", "dtype": "float32", "device": "cpu", "args": {...}}

and each response ``{"id": 7, "result": {...}}`` or ``{"id": 7, "error": {"kind": K, "message": M}}``
with K one of ``not-supported`` (the operation is not provided: fails a declared capability),
``invalid-input`` (an argument is out of its domain, e.g. a negative learning rate, for a program
that checks its arguments as the reference does; the suite sends only the arguments below, so no
check expects this kind) or ``failure`` (anything else).

Arguments the suite sends, and a program must take: step sizes (``eta``, ``lr``) ≥ 0, **0
included** (the zero-step check: a run with η = 0 must return its start, bit for bit, for SGD,
Adam and logistic gradient descent; the perceptron's ``eta`` is > 0); β₁ and β₂ in [0, 1), 0
included; ε > 0; ``steps`` ≥ 1; ``order`` indices in [0, N); labels 0 and 1; inputs any finite
doubles (not only 0 and 1).

The operations, their capability, arguments and results (shapes as in
:mod:`gatespec.conformance.spec.interface`, whose docstrings and :mod:`gatespec.reference` define
the maths exactly; N rows, d weights with the bias last, ``Xb`` holds the bias column of ones):

- ``tlu_predict`` (tlu-predict): Xb (N, d), w (d) → y (N): g(Xb·w), Heaviside with g(0) = 0.
- ``perceptron_step`` (perceptron-step): Xb, y (N), w, eta → w (d): w + η (y − g(Xb·w))ᵀ Xb.
- ``perceptron_online`` (perceptron-online): Xb, y, w0, eta, order (K ints) → w (K + 1, d):
  row 0 = w0, then one Rosenblatt update w + η (y_i − g(w·x_i)) x_i per i in order.
- ``logistic_loss_and_grad`` (logistic-loss-grad): Xb, y, w → loss (a number), grad (d).
- ``single_example_loss_and_grad`` (single-example-loss-grad): x (d), w (d) → loss, grad (d),
  of l = −log σ(w·x).
- ``logistic_train`` (logistic-train): Xb, y, w0, eta, steps → weights (steps + 1, d), losses (steps).
- ``mlp_forward`` (mlp-forward): params, X (N, n) → z (N), p (N).
- ``mlp_loss_and_grads`` (mlp-loss-grads): params, X, y → loss, grads (a list shaped like params).
- ``mlp_train`` (mlp-train-sgd, mlp-train-adam): params, X, y, optimizer, steps → params (a list:
  each parameter's rows over t, (steps + 1, *shape)), losses (steps).
- ``mlp_train_batched`` (mlp-train-batched): params (the net as leading axis, B nets), X, y,
  optimizer, steps → params (final only, net axis first), losses (steps, B).

- ``params``: a list ``[W1, b1, …, WL, bL]``, W_l (in, out) nested row-major, b_l (out); the last
  layer has one unit; hidden units are logistic σ, the output is the logit z.
- Losses are sums over rows: Σ softplus(z) − y·z, the binary cross-entropy with logits.
- ``optimizer``: ``{"kind": "sgd", "lr": η}`` (θ ← θ − η∇l) or ``{"kind": "adam", "lr": η,
  "beta1": β₁, "beta2": β₂, "eps": ε}`` (torch.optim.Adam's update:
  θ ← θ − (η/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε), m and v starting at 0, t from 1).  The scalars of
  step t — η/(1−β₁ᵗ) and √(1−β₂ᵗ) — are computed as torch computes them, in float64 from the
  given β (never from β rounded to float32) and rounded once to the request's dtype; the moments
  and the update are then float32 arithmetic in a float32 request.  With β₂ near 1, 1 − β₂ᵗ
  computed from float32(β₂) loses most of its digits to cancellation (β₂ = 0.9999, t = 2: 1e-5
  relative), which the suite's Adam cases measure.
- A run of ``steps`` updates returns ``steps + 1`` parameter rows (the start, then one per
  update) and ``steps`` losses, each at the parameters its step starts from.
- ``device`` is ``"cpu"``: in version 1 a program declares no devices and runs on the CPU only
  (a ``--gatespec-device cuda`` run skips it, with that reason).

Numbers
-------
Inputs are float64 written as the shortest decimal that reads back to the same double (what
Python's ``repr``, JavaScript's ``Number.prototype.toString`` and ``%.17g`` give), so a program
that parses them as doubles has the suite's inputs bit for bit; integers (``steps``, ``order``)
are JSON integers, labels are 0 and 1.  A ``"float32"`` request asks for float32 arithmetic:
round the inputs to float32 and every operation's result to float32 (``Math.fround`` in
JavaScript, ``float`` in C).  Results are JSON numbers: a double's shortest round-trip decimal
(``%.17g`` will do), a float's either as the double it equals (JavaScript's ``Math.fround``
results, printed) or to at most 9 significant digits (``%.9g``, which reads back to the same
float).  In a float32 response any other number is rejected: a double written with more digits
than a float has is one that was never rounded to float32, and a program that computed in
float64 would otherwise pass the float32 checks unseen.  NaN and ±infinity, which JSON lacks, are the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.

Failures
--------
A program that exits, writes a line that is not such a response (bad JSON, another id, a
missing or misshaped result), or does not answer within the timeout (``--gatespec-exec-timeout``,
default 60 s) fails that one test: the suite kills it, quotes the tail of its stderr, and starts
it again (with a new handshake) for the next request.  At the end of the run the suite closes
its stdin; the program should then exit.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from gatespec.conformance.spec.operations import OPERATIONS

VERSION = 1

OPS = tuple(OPERATIONS)  # every operation of the one table, in its order
ERROR_KINDS = ("not-supported", "invalid-input", "failure", "protocol")
# Significant digits that always read back to the float they were written from (FLT_DECIMAL_DIG).
FLOAT32_DIGITS = 9
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class _Written(float):
    """A JSON number with the digits it was written with (float32 results are judged by them)."""

    digits: int

    def __new__(cls, text: str) -> _Written:
        value = super().__new__(cls, text)
        mantissa = text.lstrip("-").split("e")[0].split("E")[0].replace(".", "")
        value.digits = len(mantissa.strip("0")) or 1
        return value


class ProtocolError(RuntimeError):
    """A response that breaks the protocol: not JSON, another id, a missing or misshaped result."""


def encode(x: Any) -> Any:
    """numpy arrays and scalars as JSON values: nested lists of floats (non-finite as strings), ints as ints."""
    if isinstance(x, dict):
        return {k: encode(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [encode(v) for v in x]
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "iub":
            return x.tolist()
        values = x.astype(np.float64)
        return values.tolist() if np.isfinite(values).all() else encode(values.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if math.isfinite(v):
            return v
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return x


def dumps(message: dict) -> bytes:
    """One protocol line: compact JSON (floats as Python's shortest round-trip repr), newline ended."""
    return (json.dumps(encode(message), separators=(",", ":"), allow_nan=False) + "\n").encode()


def _number(x: Any, where: str) -> float:
    if isinstance(x, bool):
        raise ProtocolError(f"{where}: expected a number, got {json.dumps(x)}")
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str) and x in _NON_FINITE:
        return _NON_FINITE[x]
    expected = 'a number (or "NaN", "Infinity", "-Infinity")'
    raise ProtocolError(f"{where}: expected {expected}, got {json.dumps(x)[:80]}")


def array(x: Any, shape: tuple[int, ...], dtype: str, where: str) -> np.ndarray:
    """A result value as an array of ``shape`` in ``dtype``; a ProtocolError naming ``where`` if it is not one.

    In float32 every number must be a float32 value, or written to at most 9 digits (see the module docstring).
    """

    def walk(v: Any, dims: tuple[int, ...], path: str) -> list:
        if not dims:
            return _number(v, f"{where}{path}")
        if not isinstance(v, list):
            raise ProtocolError(f"{where}{path}: expected a list of {dims[0]}, got {json.dumps(v)[:80]}")
        if len(v) != dims[0]:
            raise ProtocolError(f"{where}{path}: expected {dims[0]} entries, got {len(v)} (shape {shape} expected)")
        return [walk(e, dims[1:], f"{path}[{i}]") for i, e in enumerate(v)]

    values = _fast(x, shape)
    if values is None:  # strings (NaN, ±inf) or a misshaped value: element by element, naming the first fault
        values = np.array(walk(x, tuple(shape), ""), dtype=np.float64).reshape(shape)
    with np.errstate(over="ignore"):  # a double beyond float32's range casts to inf: rejected below
        out = values.astype(dtype)
    if dtype == "float32":
        short = np.array([getattr(v, "digits", 99) <= FLOAT32_DIGITS for v in _leaves(x)], dtype=bool).reshape(shape)
        exact = out.astype(np.float64) == values
        # A short decimal of a float32 reads back to it: a finite float (not rounded to inf) within half its ulp.
        inexact = np.isfinite(values) & ~exact & ~(short & np.isfinite(out))
        if inexact.any():
            i = tuple(int(k) for k in np.argwhere(inexact)[0])
            raise ProtocolError(
                f"{where}: {values[i]!r} at index {i} is not a float32 value (the nearest is "
                f"{float(out[i])!r}), nor written to at most {FLOAT32_DIGITS} digits: a float32 request is "
                "computed, and answered, in float32"
            )
    return out


def _fast(x: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """``x`` as float64 in one numpy call when it is all numbers of ``shape`` (most responses); else None."""
    try:
        values = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return values if values.shape == tuple(shape) and not _has_bool(x) else None


def _has_bool(x: Any) -> bool:
    return isinstance(x, bool) or (isinstance(x, list) and any(_has_bool(e) for e in x[:1]))


def _leaves(x: Any) -> list:
    return [leaf for e in x for leaf in _leaves(e)] if isinstance(x, list) else [x]


def loads(line: bytes, request_id: int, dtype: str = "float32") -> dict:
    """A response line → its ``result`` dict, or ``{"error": {...}}``; ProtocolError if it is neither.

    For a float32 request its numbers keep the digits they were written with (:func:`array` judges them).
    """
    text = line.decode("utf-8", errors="replace").strip()
    try:
        message = json.loads(text, parse_float=_Written if dtype == "float32" else float)
    except ValueError as exc:
        raise ProtocolError(f"not a JSON line ({exc}): {text[:200]!r}") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"not a JSON object: {text[:200]!r}")
    if message.get("id") != request_id:
        raise ProtocolError(f"answers id {message.get('id')!r}, expected {request_id}: {text[:200]!r}")
    if "error" in message:
        error = message["error"]
        if not (isinstance(error, dict) and error.get("kind") in ERROR_KINDS and isinstance(error.get("message"), str)):
            form = f'{{"kind": one of {ERROR_KINDS}, "message": text}}'
            raise ProtocolError(f"an error must be {form}: {text[:200]!r}")
        return {"error": error}
    result = message.get("result")
    if not isinstance(result, dict):
        raise ProtocolError(f'neither a "result" object nor an "error": {text[:200]!r}')
    return result
