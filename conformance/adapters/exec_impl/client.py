"""An implementation that is a program, in any language, speaking :mod:`.protocol` on its stdin/stdout.

:class:`ExecImplementation` is an :class:`~gatespec.conformance.spec.interface.Implementation` like any
other: the suite's tests, checks, tolerances and report treat it as they treat a Python style.
Each operation becomes one request.  The program is started, its handshake read and the program
ended when the implementation is constructed (the handshake declares what the suite parametrizes
over); it is started again, with a handshake that must declare the same, by the first request and
after any failure, and ended at the end of the run.

Selected by ``--gatespec-impl exec:COMMAND`` (:func:`from_command`), by an entry point or
``module:attr`` naming a subclass that sets :attr:`ExecImplementation.command`, or as a built-in
client (:mod:`.builtin`).
"""

from __future__ import annotations

import atexit
import os
import re
import selectors
import shlex
import threading
import time
from typing import Any, ClassVar, NoReturn

import numpy as np

from gatespec.conformance.adapters.child import Child
from gatespec.conformance.adapters.exec_impl import protocol
from gatespec.conformance.adapters.exec_impl.protocol import ProtocolError
from gatespec.conformance.plugin.defaults import EXEC_TIMEOUT
from gatespec.conformance.spec.interface import (
    DTYPES,
    BatchedRun,
    Capability,
    Implementation,
    MLPTrajectory,
    NotSupported,
    Target,
    Trajectory,
)
from gatespec.reference.mlp import SGD, Adam, Params

# Seconds one request may take before the program counts as hung (defaults.py says why).
DEFAULT_TIMEOUT = EXEC_TIMEOUT
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Capabilities a program may declare: NATIVE (benchmarks on the framework's own tensors) and MLP_INIT
# (the framework's own generator) have no meaning through the protocol.
PROTOCOL_CAPABILITIES = frozenset(Capability) - {Capability.NATIVE, Capability.MLP_INIT}
_NOT_IN_PROTOCOL = {
    Capability.NATIVE: "a program is timed through the protocol's pipe, not on its own arrays",
    Capability.MLP_INIT: "initialisers draw with a framework's own generator; the protocol has no such operation",
}


class ExecError(RuntimeError):
    """The program died, hung or broke the protocol: this call fails, the next one starts it again."""


class HandshakeError(RuntimeError):
    """The program's handshake is not one the suite can use (wrong protocol version, bad declaration)."""


class Program:
    """One running program (started on first use, restarted after a failure) and its request/response pipe."""

    def __init__(self, argv: list[str], *, label: str, env: dict[str, str] | None = None):
        self.argv, self.label = list(argv), label
        self.timeout = DEFAULT_TIMEOUT  # seconds per request; the run's --gatespec-exec-timeout (selection.py)
        self._child = Child(self.argv, env, bufsize=0)
        self._buffer = b""
        self._next_id = 0
        self._lock = threading.Lock()
        self.hello: dict | None = None  # the last handshake's result
        # Called with each handshake's result after the first (a restart must declare what the first did).
        self.on_hello: Any = None
        atexit.register(self.close)

    @property
    def env(self) -> dict[str, str] | None:
        return self._child.env

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def start(self) -> dict:
        """Start the program and return its handshake's result (or ``{"error": ...}``)."""
        with self._lock:
            self._child.kill()
            self._start()
            return self.hello

    def request(self, op: str, target: Target, args: dict) -> dict:
        """Send one request and return its result dict, or ``{"error": ...}``; ExecError if the program fails.

        A program that is not running (a failure ended it) is started first, with a new handshake.
        """
        with self._lock:
            status = self._child.ended()
            if status is not None:
                self._fail(f"exited with status {status} between requests")
            if self._child.proc is None:
                self._start()
            return self._exchange(op, target, args)

    def close(self) -> None:
        """End the program: EOF on its stdin, then a kill if it has not exited within 5 s."""
        self._child.close(timeout=5)

    # --- internals ------------------------------------------------------------------------

    def _start(self) -> None:
        self._buffer, self._next_id = b"", 0
        try:
            self._child.start()
        except OSError as exc:
            raise ExecError(f"{self.label}: cannot start {shlex.join(self.argv)}: {exc}") from None
        self.hello = self._exchange("hello", None, None)
        if self.on_hello is not None:
            try:
                self.on_hello(self.hello)
            except Exception as exc:
                self._fail(f"restarted with another handshake: {exc}")

    def _exchange(self, op: str, target: Target | None, args: dict | None) -> dict:
        proc = self._child.proc
        request_id, self._next_id = self._next_id, self._next_id + 1
        message: dict[str, Any] = {"id": request_id, "op": op}
        if op == "hello":
            message["protocol"] = protocol.VERSION
        else:
            message |= {"dtype": target.dtype, "device": target.device, "args": args or {}}
        with self._child.killed_if_interrupted(ExecError):
            try:
                proc.stdin.write(protocol.dumps(message))
            except OSError as exc:  # BrokenPipeError: the program is gone
                self._fail(f"died before {op!r} ({type(exc).__name__}; status {proc.poll()})")
            line = self._readline(op, time.monotonic() + self.timeout)
            try:
                return protocol.loads(line, request_id, "float64" if target is None else target.dtype)
            except ProtocolError as exc:
                self._fail(f"answered {op!r} with a line that breaks the protocol: {exc}")

    def _readline(self, op: str, deadline: float) -> bytes:
        proc = self._child.proc
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    self._fail(f"did not answer {op!r} within {self.timeout:g} s (--gatespec-exec-timeout)")
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    proc.wait()
                    self._fail(f"died during {op!r} (status {proc.returncode})")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _fail(self, what: str) -> NoReturn:
        self._child.kill()
        raise ExecError(
            f"{self.label}: the program {shlex.join(self.argv)} {what}; the next request starts it again. "
            f"Its stderr ends:\n{self._child.stderr_tail()}"
        )


def _declaration(hello: dict, label: str) -> dict[str, Any]:
    """The handshake's result checked: name, framework, version, dtypes and capabilities as Python values."""
    version = hello.get("protocol")
    if version != protocol.VERSION:
        raise HandshakeError(
            f"{label}: speaks gatespec exec protocol {version!r}; this gatespec speaks {protocol.VERSION}"
        )

    def text(key: str) -> str:
        value = hello.get(key)
        if not isinstance(value, str) or not value.strip():
            raise HandshakeError(f"{label}: the handshake's {key!r} must be a non-empty string, got {value!r}")
        return value.strip()

    def capabilities(values: Any, where: str) -> frozenset[Capability]:
        known = {c.value: c for c in PROTOCOL_CAPABILITIES}
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise HandshakeError(f"{label}: {where} must be a list of names, got {values!r}")
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise HandshakeError(f"{label}: {where}: unknown {unknown}; the protocol's: {sorted(known)}")
        return frozenset(known[v] for v in values)

    name = text("name")
    if not _NAME.fullmatch(name):
        raise HandshakeError(f"{label}: name {name!r}: letters, digits, '.', '_' and '-' only (it is a test-id part)")
    dtypes = hello.get("dtypes")
    if not isinstance(dtypes, list) or not dtypes or not set(dtypes) <= set(DTYPES):
        raise HandshakeError(f"{label}: dtypes must be a non-empty subset of {list(DTYPES)}, got {dtypes!r}")
    by_dtype = hello.get("capabilities_by_dtype", {})
    if not isinstance(by_dtype, dict) or not set(by_dtype) <= set(dtypes):
        raise HandshakeError(f"{label}: capabilities_by_dtype must map declared dtypes to names, got {by_dtype!r}")
    deviations = hello.get("known_deviations", {})
    if not isinstance(deviations, dict) or not all(isinstance(v, str) and v for v in deviations.values()):
        raise HandshakeError(f"{label}: known_deviations must map test-id patterns to reasons, got {deviations!r}")
    return dict(
        known_deviations=dict(sorted(deviations.items())),
        name=name,
        framework=text("framework"),
        language=text("language"),
        version=text("version"),
        dtypes=tuple(d for d in DTYPES if d in dtypes),
        capabilities=capabilities(hello.get("capabilities"), "capabilities"),
        capabilities_by_dtype={
            d: capabilities(v, f"capabilities_by_dtype[{d!r}]") for d, v in sorted(by_dtype.items())
        },
    )


def _optimizer(optimizer: SGD | Adam) -> dict:
    if isinstance(optimizer, SGD):
        return {"kind": "sgd", "lr": optimizer.lr}
    o = optimizer
    return {"kind": "adam", "lr": o.lr, "beta1": o.beta1, "beta2": o.beta2, "eps": o.eps}


class ExecImplementation(Implementation):
    """A program speaking the gatespec exec protocol: what it is comes from its handshake.

    Subclass and set :attr:`command` (an argv list) to register one by entry point or
    ``module:attr``; or construct with ``command``.  ``expected_name``, when given, must be
    the name the handshake declares (a built-in's registered name).
    """

    command: ClassVar[list[str] | None] = None
    expected_name: ClassVar[str | None] = None

    def __init__(self, command: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        argv = list(command if command is not None else type(self).command or [])
        if not argv:
            raise HandshakeError(f"{type(self).__name__}: no command: set the class's `command` or pass one")
        self.program = Program(argv, label=f"exec:{shlex.join(argv)}", env=env)
        hello = self._hello()
        declared = _declaration(hello, self.program.label)
        if self.expected_name is not None and declared["name"] != self.expected_name:
            raise HandshakeError(
                f"{self.program.label}: declares name {declared['name']!r}, registered as {self.expected_name!r}"
            )
        self._declared = declared
        self.program.on_hello = self._same_declaration
        # Not kept running until a request needs it: every run discovers every built-in (for its header
        # and --gatespec-require), and most never send one a request; the first request starts it again.
        self.program.close()
        self.name, self.framework = declared["name"], declared["framework"]  # type: ignore[misc]
        self.dtypes = declared["dtypes"]  # type: ignore[misc]
        self.capabilities = declared["capabilities"]  # type: ignore[misc]
        self.capabilities_by_dtype = declared["capabilities_by_dtype"]  # type: ignore[misc]
        self.unsupported_reasons = dict(_NOT_IN_PROTOCOL)  # type: ignore[misc]
        self.known_deviations = declared["known_deviations"]  # type: ignore[misc]

    def _hello(self) -> dict:
        try:
            hello = self.program.start()
        except ExecError as exc:
            raise HandshakeError(f"the handshake failed: {exc}") from None
        if "error" in hello:
            error = hello["error"]
            raise HandshakeError(
                f"{self.program.label}: refused protocol {protocol.VERSION} ({error['kind']}: {error['message']})"
            )
        return hello

    def framework_version(self) -> str:
        return self._declared["version"]

    def numerics(self) -> dict[str, str]:
        return {"exec": self.program.label, "language": self._declared["language"], "protocol": str(protocol.VERSION)}

    # --- one request per operation ----------------------------------------------------------

    def _same_declaration(self, hello: dict) -> None:
        again = None if "error" in hello else _declaration(hello, self.program.label)
        if again != self._declared:
            raise HandshakeError(f"it declared {again}, not {self._declared}")

    def _call(self, op: str, target: Target, args: dict) -> dict:
        result = self.program.request(op, target, args)
        if "error" in result:
            kind, message = result["error"]["kind"], result["error"]["message"]
            where = f"{self.name}: {op} ({target.id})"
            if kind == "not-supported":
                raise NotSupported(f"{where}: {message}")
            if kind == "invalid-input":
                raise ValueError(f"{where}: {message}")
            raise ExecError(f"{where}: {kind}: {message}")
        return result

    def _field(self, result: dict, key: str, shape: tuple[int, ...], op: str, target: Target) -> np.ndarray:
        if key not in result:
            raise ExecError(f"{self.name}: {op} ({target.id}): the result has no {key!r} (keys: {sorted(result)})")
        try:
            return protocol.array(result[key], shape, target.dtype, f"{op} result {key!r}")
        except ProtocolError as exc:
            raise ExecError(f"{self.name}: {op} ({target.id}): {exc}") from None

    def _params(self, result: dict, key: str, shapes: list[tuple[int, ...]], op: str, target: Target) -> Params:
        values = result.get(key)
        if not isinstance(values, list) or len(values) != len(shapes):
            raise ExecError(f"{self.name}: {op} ({target.id}): {key!r} must be a list of {len(shapes)} arrays")
        return tuple(self._field({key: v}, key, s, op, target) for v, s in zip(values, shapes))

    def tlu_predict(self, Xb, w, target):
        r = self._call("tlu_predict", target, {"Xb": Xb, "w": w})
        return self._field(r, "y", (len(Xb),), "tlu_predict", target)

    def perceptron_step(self, Xb, y, w, eta, target):
        r = self._call("perceptron_step", target, {"Xb": Xb, "y": y, "w": w, "eta": eta})
        return self._field(r, "w", w.shape, "perceptron_step", target)

    def perceptron_online(self, Xb, y, w0, eta, order, target):
        args = {"Xb": Xb, "y": y, "w0": w0, "eta": eta, "order": np.asarray(order, dtype=np.int64)}
        r = self._call("perceptron_online", target, args)
        return self._field(r, "w", (len(order) + 1, *w0.shape), "perceptron_online", target)

    def logistic_loss_and_grad(self, Xb, y, w, target):
        r = self._call("logistic_loss_and_grad", target, {"Xb": Xb, "y": y, "w": w})
        op = "logistic_loss_and_grad"
        return self._field(r, "loss", (), op, target), self._field(r, "grad", w.shape, op, target)

    def single_example_loss_and_grad(self, x, w, target):
        r = self._call("single_example_loss_and_grad", target, {"x": x, "w": w})
        op = "single_example_loss_and_grad"
        return self._field(r, "loss", (), op, target), self._field(r, "grad", w.shape, op, target)

    def logistic_train(self, Xb, y, w0, eta, steps, target):
        r = self._call("logistic_train", target, {"Xb": Xb, "y": y, "w0": w0, "eta": eta, "steps": int(steps)})
        op = "logistic_train"
        weights = self._field(r, "weights", (steps + 1, *w0.shape), op, target)
        return Trajectory(weights, self._field(r, "losses", (steps,), op, target))

    def mlp_forward(self, params, X, target):
        r = self._call("mlp_forward", target, {"params": list(params), "X": X})
        op = "mlp_forward"
        return self._field(r, "z", (len(X),), op, target), self._field(r, "p", (len(X),), op, target)

    def mlp_loss_and_grads(self, params, X, y, target):
        r = self._call("mlp_loss_and_grads", target, {"params": list(params), "X": X, "y": y})
        op = "mlp_loss_and_grads"
        return self._field(r, "loss", (), op, target), self._params(r, "grads", [p.shape for p in params], op, target)

    def mlp_train(self, params, X, y, optimizer, steps, target):
        args = {"params": list(params), "X": X, "y": y, "optimizer": _optimizer(optimizer), "steps": int(steps)}
        r = self._call("mlp_train", target, args)
        shapes = [(steps + 1, *p.shape) for p in params]
        return MLPTrajectory(
            self._params(r, "params", shapes, "mlp_train", target),
            self._field(r, "losses", (steps,), "mlp_train", target),
        )

    def mlp_train_batched(self, params, X, y, optimizer, steps, target):
        args = {"params": list(params), "X": X, "y": y, "optimizer": _optimizer(optimizer), "steps": int(steps)}
        r = self._call("mlp_train_batched", target, args)
        op, nets = "mlp_train_batched", len(params[0])
        return BatchedRun(
            self._params(r, "params", [p.shape for p in params], op, target),
            self._field(r, "losses", (steps, nets), op, target),
        )

    def close(self) -> None:
        self.program.close()


def from_command(command: str) -> ExecImplementation:
    """``--gatespec-impl exec:COMMAND``: COMMAND split as a shell would (no shell runs it)."""
    argv = shlex.split(command)
    if not argv:
        raise HandshakeError("exec: expected a command after 'exec:', e.g. exec:node my_client.js")
    return ExecImplementation(argv)
