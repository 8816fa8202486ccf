"""``keras-jax`` and ``keras-torch``: tf-keras's Keras 3 model (:mod:`.model`) on the JAX and PyTorch backends.

The same ``keras.Sequential`` of Dense layers, ``BinaryCrossentropy(from_logits=True,
reduction="sum", dtype=...)`` and Keras optimizers as tf-keras, each trained by the loop of
Keras's own guide for its backend: on JAX ``model.stateless_call`` + ``jax.value_and_grad`` +
``optimizer.stateless_apply`` in a jitted step (:mod:`.jax_backend`); on PyTorch forward,
``loss.backward()``, ``optimizer.apply(grads, model.trainable_weights)`` and ``model.zero_grad()``
(:mod:`.torch_backend`).

Keras fixes its backend once per process.  In a process whose ``KERAS_BACKEND`` is the style's
own (``tox -e keras-jax`` / ``keras-torch``) the style runs in-process and declares what tf-keras
declares, native ops (benchmarks) included.  Anywhere else (the ``all`` env, the main job, where
Keras runs on TensorFlow for tf-keras) every operation is sent to a worker subprocess of that
backend (:mod:`.proxy`); the numbers are the in-process style's, but the native path is not
declared, since a benchmark would time the pipe.

Deviations, measured and declared in :attr:`known_deviations` (the test ids and sizes are in
the comments by each list):

- Adam (both backends, tf-keras's deviation and text): Keras adds ε to the uncorrected √v
  (θ −= η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε)); the contract (torch.optim.Adam) adds it to
  √v/√(1−β₂ᵗ), so Keras's effective ε is ε/√(1−β₂ᵗ).  The same 15 float32 cases as tf-keras
  leave the float32 budget, and every float64 case.
- float64 (both backends): Keras keeps the learning rate in a float32 variable (floatx), so a
  float64 model steps with float32(η), as on TensorFlow.
- float64 loss (both backends, not on TensorFlow): Keras maps every 64-bit result type to 32 bits
  off TensorFlow, and BinaryCrossentropy's per-row ``ops.mean(axis=-1)`` computes in
  ``result_type(float64, float32)`` = float32, then casts back: the float64 loss carries float32
  rounding.  reduction="sum" does not avoid it (the mean is per row, before the reduction); the
  gradients are unaffected.
- float64 matmul (PyTorch only): the torch backend's ``ops.matmul`` casts both operands to
  ``result_type(float64, float64)`` = float32, so a float64 Dense layer multiplies in float32:
  every float64 result of keras-torch carries float32 rounding.  On JAX ``ops.matmul`` is
  ``jnp.matmul`` on the operands as they are, and float64 forward passes and gradients match the
  reference at the float64 budget.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any, ClassVar

from gatespec.conformance.adapters.keras_impl.declared import (
    CAPABILITIES,
    INITIALISERS,
    KERAS_JAX,
    KERAS_TORCH,
    UNSUPPORTED_REASONS,
)
from gatespec.conformance.adapters.keras_impl.proxy import Worker, child_env
from gatespec.conformance.adapters.keras_impl.worker import DELEGATED, local_style
from gatespec.conformance.spec.interface import Capability, Implementation, Known, NativeOp, NotSupported, Target


def process_backend() -> str | None:
    """This process's Keras backend: ``keras.backend.backend()`` once Keras is imported, else the one
    ``KERAS_BACKEND`` would give it (None when unset: Keras would read its config file, TensorFlow
    by default).  Keras is not imported here: a process that never runs Keras in-process needs
    neither it nor its default backend (TensorFlow) to import."""
    keras = sys.modules.get("keras")
    backend = getattr(keras, "backend", None)
    if backend is not None and hasattr(backend, "backend"):
        return backend.backend()
    return os.environ.get("KERAS_BACKEND")


def _delegation(cls: type, op: str) -> Callable[..., Any]:
    """The method ``op`` of ``cls``: Implementation's signature and docstring, the work done by ``self._run(op, …)``."""
    declared = getattr(Implementation, op)

    def operation(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self._run(op, *args, **kwargs)

    operation.__name__, operation.__qualname__ = op, f"{cls.__qualname__}.{op}"
    operation.__doc__, operation.__signature__ = declared.__doc__, inspect.signature(declared)  # type: ignore[attr-defined]
    operation.__module__ = cls.__module__
    return operation


def _delegating(cls: type) -> type:
    """``cls`` with a :func:`_delegation` method for each of :data:`.worker.DELEGATED`."""
    for op in DELEGATED:
        setattr(cls, op, _delegation(cls, op))
    return cls


@_delegating
class KerasOnBackend(Implementation):
    """Base of keras-jax and keras-torch: Keras on ``backend``, in-process where this process's Keras runs on it,
    else through a :class:`~.proxy.Worker` of that backend.

    A subclass names its backend, ``class KerasJax(KerasOnBackend, backend="jax")``, which makes its
    ``name`` ``keras-BACKEND``, its ``framework`` the backend's module and its in-process style
    :func:`.worker.local_style`'s; it sets what a report says of a run (``execution``, ``compiled``) and
    its ``known_deviations``.  It writes no operation and has no hooks: each operation of
    :data:`.worker.DELEGATED` is a method made here from that one table, which calls the in-process
    style's method or sends the call to the worker; :meth:`native` runs only in-process.  The style
    itself (the backend's training loop) is a :class:`~.local.KerasLocal`, whose hooks it documents.
    """

    backend: ClassVar[str] = ""
    dtypes: ClassVar[tuple[str, ...]] = ("float32", "float64")
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    capabilities: ClassVar[frozenset[Capability]] = CAPABILITIES
    initialisers: ClassVar[tuple[str, ...]] = INITIALISERS
    unsupported_reasons: ClassVar[dict[Capability, str]] = UNSUPPORTED_REASONS
    known_deviations: ClassVar[dict[str, str | Known]] = {}

    def __init_subclass__(cls, backend: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if backend:
            cls.backend, cls.framework, cls.name = backend, backend, f"keras-{backend}"

    def __init__(self) -> None:
        # ImportError (the registry's "unavailable", with this reason) when Keras or the backend is missing.
        if importlib.util.find_spec("keras") is None:
            raise ImportError(f"{self.name} needs keras (3.x), which is not installed", name="keras")
        self._framework = importlib.import_module(self.framework)
        self._impl: Any = None
        self._worker: Worker | None = None
        here = process_backend()
        if here == self.backend:
            self._impl = local_style(self.backend)
            self.mode = "in-process"
            self.execution = self._impl.execution
            self.compiled = self._impl.compiled
        else:
            self._worker = Worker(self.name, self.backend)
            self.mode = "worker subprocess"
            self.capabilities = CAPABILITIES - {Capability.NATIVE}
            self.unsupported_reasons = UNSUPPORTED_REASONS | {
                Capability.NATIVE: f"Keras runs on {here or 'tensorflow'!r} in this process, so {self.name} runs "
                f"in a worker subprocess (KERAS_BACKEND={self.backend}) and a benchmark would time the pipe; "
                f"benchmarks of this style run in its own env (tox -e {self.name})"
            }

    def framework_version(self) -> str:
        return self._framework.__version__

    def numerics(self) -> dict[str, str]:
        if self._impl is not None:
            return {"keras_mode": self.mode} | self._impl.numerics()
        child = child_env(self.backend)
        found = {
            "keras_mode": f"{self.mode} (this process's Keras: {process_backend() or 'tensorflow, by default'})",
            "keras": importlib.metadata.version("keras"),
            "keras_backend": self.backend,
        }
        if "JAX_ENABLE_X64" in child:
            found["x64"] = f"JAX_ENABLE_X64={child['JAX_ENABLE_X64']} in the worker"
        return found

    def native(self, op: str, target: Target, **inputs: Any) -> NativeOp:
        if self._impl is None:
            raise NotSupported(self.unsupported_reasons[Capability.NATIVE])
        return self._impl.native(op, target, **inputs)

    def clear_caches(self) -> None:
        if self._impl is not None:
            self._impl.clear_caches()

    def close(self) -> None:
        """End the worker subprocess, if any (it is also ended at exit)."""
        if self._worker is not None:
            self._worker.close()

    def _run(self, op: str, *args: Any, **kwargs: Any) -> Any:
        if self._impl is not None:
            return getattr(self._impl, op)(*args, **kwargs)
        return self._worker.call(op, *args, **kwargs)


class KerasJax(KerasOnBackend, backend="jax"):
    """Keras 3 on JAX: tf-keras's model, the Keras JAX guide's jitted stateless training step."""

    execution: ClassVar[str] = "jax.jit"
    compiled: ClassVar[bool] = True
    known_deviations: ClassVar[dict[str, str | Known]] = KERAS_JAX


class KerasTorch(KerasOnBackend, backend="torch"):
    """Keras 3 on PyTorch: tf-keras's model, the Keras PyTorch guide's eager backward/apply loop."""

    execution: ClassVar[str] = "eager"
    known_deviations: ClassVar[dict[str, str | Known]] = KERAS_TORCH
