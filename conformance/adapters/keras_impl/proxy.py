"""A Keras style run in a worker subprocess whose Keras backend is the style's own.

Keras 3 reads ``KERAS_BACKEND`` once, at import: a process that imported Keras on TensorFlow
(the suite's, for tf-keras) cannot run Keras on JAX or PyTorch.  :class:`Worker` starts
``python -m gatespec.conformance.adapters.keras_impl.worker BACKEND`` on first use with
``KERAS_BACKEND=BACKEND`` in its environment (and, for JAX, ``JAX_ENABLE_X64=1``: float64 is
real there, see :mod:`.jax_backend`), and sends it each operation.

Protocol: one pickled ``(op, args, kwargs)`` on the child's stdin per call, one pickled
``("ok", result)`` or ``("err", exception)`` back on its stdout (the child points its fd 1 at
stderr, so library prints never reach the pipe).  An exception comes back as itself
(NotSupported, ValueError …), with the child's traceback as a note.  If the child dies, or
answers anything but such a pair, the call raises a RuntimeError naming the style and the tail
of the child's stderr, the child is killed, and the next call starts a new one: one crash fails
one call.  A call interrupted in the parent (pytest-timeout, Ctrl-C) kills the child the same
way, since its answer would otherwise be read by the next call.  There is no read timeout of
its own: the suite's per-test timeout (pytest-timeout) bounds a hung child.  The child is shut
down at exit (its stdin closed, then killed if it has not ended within 10 s).
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading
from typing import Any, NoReturn

from gatespec.conformance.adapters.child import Child

WORKER_MODULE = "gatespec.conformance.adapters.keras_impl.worker"


def child_env(backend: str) -> dict[str, str]:
    """The child's environment: this one, with Keras's backend set (and x64 on for JAX)."""
    env = dict(os.environ, KERAS_BACKEND=backend)
    if backend == "jax":
        env["JAX_ENABLE_X64"] = "1"  # else a float64 Keras model on JAX silently computes in float32
    return env


class WorkerError(RuntimeError):
    """The worker subprocess died or answered garbage: this call fails, the next one starts a new child."""


class Worker:
    """One worker subprocess for style ``name``, started on first :meth:`call`, restarted after a failure."""

    def __init__(self, name: str, backend: str, argv: list[str] | None = None, env: dict[str, str] | None = None):
        self.name, self.backend = name, backend
        self.argv = argv or [sys.executable, "-m", WORKER_MODULE, backend]
        self._child = Child(self.argv, env if env is not None else child_env(backend))
        self._lock = threading.Lock()
        atexit.register(self.close)

    @property
    def env(self) -> dict[str, str]:
        return self._child.env

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def call(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``op`` in the child and return its result, or raise its exception."""
        with self._lock:
            status = self._child.ended()
            if status is not None:
                self._fail(f"exited with status {status} between calls")
            if self._child.proc is None:
                self._child.start()
            proc = self._child.proc
            with self._child.killed_if_interrupted(WorkerError):
                reply = self._exchange(proc, (op, args, kwargs))
            if not (isinstance(reply, tuple) and len(reply) == 2 and reply[0] in ("ok", "err")):
                self._fail(f"answered {op!r} with {type(reply).__name__} {reply!r:.200}, not ('ok'|'err', value)")
            kind, value = reply
            if kind == "err":
                raise value
            return value

    def close(self) -> None:
        """End the child: EOF on its stdin, then a kill if it has not exited within 10 s."""
        self._child.close(timeout=10)

    # --- internals ------------------------------------------------------------------------

    def _exchange(self, proc: subprocess.Popen, request: tuple[str, tuple, dict]) -> Any:
        """Send one pickled request and read the pickled reply; WorkerError when the pipe breaks."""
        op = request[0]
        try:
            pickle.dump(request, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.flush()
        except OSError as exc:  # BrokenPipeError: the child is gone
            self._fail(f"died before {op!r} ({type(exc).__name__}: {exc}; status {proc.poll()})")
        try:
            return pickle.load(proc.stdout)
        except EOFError:
            self._fail(f"died during {op!r} (status {proc.poll()})")
        except Exception as exc:  # arbitrary bytes fail to unpickle in many ways
            self._fail(f"answered {op!r} with something that is not a pickle ({type(exc).__name__}: {exc})")

    def _fail(self, what: str) -> NoReturn:
        """Kill the child and raise the WorkerError that says what happened; the next call restarts it."""
        self._child.kill()
        raise WorkerError(
            f"{self.name}: the Keras worker subprocess ({' '.join(self.argv[1:])}, KERAS_BACKEND={self.backend}) "
            f"{what}; the next call starts a new one. Its stderr ends:\n{self._child.stderr_tail()}"
        )
