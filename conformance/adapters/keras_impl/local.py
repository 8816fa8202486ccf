"""What keras-jax and keras-torch share when they run in a process of their own backend.

:class:`KerasLocal` is a :class:`~..style.Style` whose hooks are the backend's training loop
(the subclass writes ``_scope``, ``_tensor``, the forward, loss-and-gradients and train
preparations); the threshold unit, the parameter check and ``mlp_init`` are written here once,
on :mod:`.model`'s definitions and ``keras.ops``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

import keras
import numpy as np

from gatespec.conformance.adapters.keras_impl.declared import CAPABILITIES, INITIALISERS, UNSUPPORTED_REASONS
from gatespec.conformance.adapters.keras_impl.model import keras_glorot, keras_heaviside, keras_sequential
from gatespec.conformance.adapters.style import LogisticAsOneLayerNet, Style, logistic_as_mlp
from gatespec.conformance.spec.interface import Capability, MLPTrajectory, NativeOp, Target
from gatespec.reference import mlp
from gatespec.reference.mlp import Params


def to_numpy(x: Any, target: Target) -> np.ndarray:
    """A writable numpy copy in the target dtype (0-d stays 0-d), from any backend's tensor.

    A torch tensor by torch's own ``.numpy()``: Keras's convert_to_numpy calls ``np.array`` on it,
    which under numpy 2 warns that torch's ``__array__`` takes no ``copy`` keyword.
    """
    if hasattr(x, "detach"):  # torch.Tensor
        return np.array(x.detach().cpu().numpy(), dtype=target.np_dtype)
    return np.array(keras.ops.convert_to_numpy(x), dtype=target.np_dtype)


def trajectory(history: list[list[Any]], losses: list[Any], target: Target) -> MLPTrajectory:
    """A Python loop's record (per step, every weight; per step, the loss) as the numpy trajectory."""
    params = tuple(np.stack([to_numpy(w, target) for w in leaf]) for leaf in zip(*history))
    loss_rows = np.array([to_numpy(v, target) for v in losses], dtype=target.np_dtype)
    return MLPTrajectory(params=params, losses=loss_rows.reshape(len(losses)))


class KerasLocal(LogisticAsOneLayerNet, Style):
    """A Keras style in a process whose Keras backend is its own (``backend``)."""

    backend: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = CAPABILITIES
    initialisers: ClassVar[tuple[str, ...]] = INITIALISERS
    unsupported_reasons: ClassVar[dict[Capability, str]] = UNSUPPORTED_REASONS

    def __init__(self) -> None:
        if keras.backend.backend() != self.backend:
            raise ImportError(
                f"{self.name} in-process needs KERAS_BACKEND={self.backend}, Keras runs on {keras.backend.backend()!r}"
            )

    def numerics(self) -> dict[str, str]:
        return {
            "keras": keras.__version__,
            "keras_backend": keras.backend.backend(),
            "keras_floatx": keras.config.floatx(),
        }

    @contextlib.contextmanager
    def _scope(self, target: Target) -> Iterator[None]:
        """Where and how a call computes: the target's device (and, on JAX, x64)."""
        with keras.device("gpu" if target.device == "cuda" else "cpu"):
            yield

    def _tensor(self, a: np.ndarray, target: Target) -> Any:
        """A backend tensor of the target dtype; call inside :meth:`_scope`."""
        return keras.ops.convert_to_tensor(np.array(a, dtype=target.np_dtype, copy=True), dtype=target.dtype)

    def _native_op(self, target: Target, compute: Any, convert: Any) -> NativeOp:
        """``compute`` run in the target's scope until its result exists (:meth:`_block`)."""

        def run() -> Any:
            with self._scope(target):
                return self._block(compute())

        return NativeOp(run, convert)

    def _block(self, result: Any) -> Any:
        return result

    def native(self, op: str, target: Target, **inputs: Any) -> NativeOp:
        # A ValueError naming the bad array, not a shape error from inside Keras (as tf-keras).
        if op != "mlp_train_batched" and {"params", "X"} <= inputs.keys():
            mlp.check_params(inputs["params"], np.shape(inputs["X"])[1])
        return super().native(op, target, **inputs)

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        self.check_target(target)
        params, X = logistic_as_mlp(Xb, w)
        with self._scope(target):
            net = keras_sequential(params, target, output=keras_heaviside)
            return to_numpy(net(self._tensor(X, target))[:, 0], target)

    def _draw_initial(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        with self._scope(target):
            return tuple(to_numpy(p, target) for p in keras_glorot(sizes, n, seed, target))
