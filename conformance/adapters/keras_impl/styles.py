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
import os
import sys
from typing import Any, ClassVar

import numpy as np

from gatespec.conformance.adapters.keras_impl.declared import (
    CAPABILITIES,
    INITIALISERS,
    KERAS_JAX,
    KERAS_TORCH,
    UNSUPPORTED_REASONS,
)
from gatespec.conformance.adapters.keras_impl.proxy import Worker, child_env
from gatespec.conformance.spec.interface import (
    Capability,
    Implementation,
    Known,
    MLPTrajectory,
    NativeOp,
    NotSupported,
    Target,
    Trajectory,
)
from gatespec.reference.mlp import SGD, Adam, Params


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


class _KerasOnBackend(Implementation):
    """A Keras style on ``backend``: in-process when Keras runs on it here, else through a :class:`Worker`."""

    backend: ClassVar[str] = ""
    local: ClassVar[tuple[str, str]] = ("", "")  # (module in this package, class) of the in-process style
    dtypes: ClassVar[tuple[str, ...]] = ("float32", "float64")
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    capabilities: ClassVar[frozenset[Capability]] = CAPABILITIES
    initialisers: ClassVar[tuple[str, ...]] = INITIALISERS
    unsupported_reasons: ClassVar[dict[Capability, str]] = UNSUPPORTED_REASONS
    known_deviations: ClassVar[dict[str, str | Known]] = {}

    def __init__(self) -> None:
        # ImportError (the registry's "unavailable", with this reason) when Keras or the backend is missing.
        if importlib.util.find_spec("keras") is None:
            raise ImportError(f"{self.name} needs keras (3.x), which is not installed", name="keras")
        self._framework = importlib.import_module(self.framework)
        self._impl: Any = None
        self._worker: Worker | None = None
        here = process_backend()
        if here == self.backend:
            module, cls = self.local
            self._impl = getattr(importlib.import_module(f"{__package__}.{module}"), cls)()
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

    def _run(self, op: str, *args: Any) -> Any:
        if self._impl is not None:
            return getattr(self._impl, op)(*args)
        return self._worker.call(op, *args)

    # --- every operation, delegated ---------------------------------------------------------

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        return self._run("tlu_predict", Xb, w, target)

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._run("logistic_loss_and_grad", Xb, y, w, target)

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        return self._run("logistic_train", Xb, y, w0, eta, steps, target)

    def mlp_forward(self, params: Params, X: np.ndarray, target: Target) -> tuple[np.ndarray, np.ndarray]:
        return self._run("mlp_forward", params, X, target)

    def mlp_loss_and_grads(
        self, params: Params, X: np.ndarray, y: np.ndarray, target: Target
    ) -> tuple[np.ndarray, Params]:
        return self._run("mlp_loss_and_grads", params, X, y, target)

    def mlp_train(
        self, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> MLPTrajectory:
        return self._run("mlp_train", params, X, y, optimizer, steps, target)

    def mlp_init(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        return self._run("mlp_init", initialiser, sizes, n, seed, target)

    def mlp_train_batched(
        self, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> Any:
        return self._run("mlp_train_batched", params, X, y, optimizer, steps, target)

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


class KerasJax(_KerasOnBackend):
    """Keras 3 on JAX: tf-keras's model, the Keras JAX guide's jitted stateless training step."""

    name: ClassVar[str] = "keras-jax"
    framework: ClassVar[str] = "jax"
    backend: ClassVar[str] = "jax"
    local: ClassVar[tuple[str, str]] = ("jax_backend", "KerasJaxLocal")
    execution: ClassVar[str] = "jax.jit"
    compiled: ClassVar[bool] = True
    known_deviations: ClassVar[dict[str, str | Known]] = KERAS_JAX


class KerasTorch(_KerasOnBackend):
    """Keras 3 on PyTorch: tf-keras's model, the Keras PyTorch guide's eager backward/apply loop."""

    name: ClassVar[str] = "keras-torch"
    framework: ClassVar[str] = "torch"
    backend: ClassVar[str] = "torch"
    local: ClassVar[tuple[str, str]] = ("torch_backend", "KerasTorchLocal")
    execution: ClassVar[str] = "eager"
    known_deviations: ClassVar[dict[str, str | Known]] = KERAS_TORCH
