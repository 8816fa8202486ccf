"""The worker process of :mod:`.proxy`: ``python -m gatespec.conformance.adapters.keras_impl.worker BACKEND``.

Loads the in-process style for BACKEND (its KERAS_BACKEND must be BACKEND), then answers one
pickled ``(op, args, kwargs)`` after another from stdin with a pickled ``("ok", result)`` or
``("err", exception)`` on the original stdout, until EOF.  File descriptor 1 is pointed at
stderr first, so whatever Keras, JAX, PyTorch or XLA print (Python or C) stays off the pipe.

The operations it answers are :data:`DELEGATED`, the ones :mod:`.styles` delegates, and no others.
"""

from __future__ import annotations

import importlib
import os
import pickle
import sys
import traceback
from typing import Any

from gatespec.conformance.adapters.keras_impl.declared import CAPABILITIES
from gatespec.conformance.spec import operations

# The in-process style of each backend: module (relative to this package), class.
LOCAL = {"jax": ("jax_backend", "KerasJaxLocal"), "torch": ("torch_backend", "KerasTorchLocal")}

# Every operation a Keras style answers itself, in-process or here: each native op (the local style answers
# those through its prepare hooks, declared or not: an undeclared one is a NotSupported after the argument
# checks), each other operation the styles declare, and mlp_init (no protocol operation, so not in the
# table).  The rest are Implementation's NotSupported, answered without a worker.
DELEGATED = (
    *(name for name, op in operations.OPERATIONS.items() if op.native or CAPABILITIES.intersection(op.capability)),
    "mlp_init",
)


def local_style(backend: str) -> Any:
    """The in-process style of ``backend``, constructed: it imports Keras, which must run on ``backend`` here."""
    module, cls = LOCAL[backend]
    return getattr(importlib.import_module(f"{__package__}.{module}"), cls)()


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` itself when it survives a pickle round trip, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")


def _answer(impl: Any, op: str, args: tuple, kwargs: dict) -> tuple[str, Any]:
    if op not in DELEGATED:
        return "err", AttributeError(f"{impl.name} worker: no operation {op!r}")
    try:
        return "ok", getattr(impl, op)(*args, **kwargs)
    except Exception as exc:
        exc = _picklable(exc)
        if hasattr(exc, "add_note"):  # Python ≥ 3.11
            exc.add_note(f"[{impl.name} worker, pid {os.getpid()}] " + "".join(traceback.format_exc()))
        return "err", exc


def main(argv: list[str]) -> int:
    out = os.fdopen(os.dup(1), "wb")  # the reply pipe, kept apart from fd 1
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    (backend,) = argv
    if os.environ.get("KERAS_BACKEND") != backend:
        print(
            f"keras worker: KERAS_BACKEND must be {backend!r}, is {os.environ.get('KERAS_BACKEND')!r}", file=sys.stderr
        )
        return 2
    impl = local_style(backend)
    stdin = sys.stdin.buffer
    while True:
        try:
            op, args, kwargs = pickle.load(stdin)
        except EOFError:
            return 0
        reply = _answer(impl, op, args, kwargs)
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # a result that does not pickle: say so rather than die
            data = pickle.dumps(("err", RuntimeError(f"{impl.name} worker: {op!r} result does not pickle: {exc}")))
        out.write(data)
        out.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
