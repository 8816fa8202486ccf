"""What keras-jax and keras-torch share when they run in a process of their own backend.

:class:`KerasLocal` is a :class:`~..style.Style` whose hooks are the backend's training loop and
how it runs a call (its hooks are listed there); the threshold unit, the forward pass, the
parameter check and ``mlp_init`` are written here once, on :mod:`.model`'s definitions and
``keras.ops``, as are the conversions of a call's tensors to numpy.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
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


def arrays(out: Any, target: Target) -> tuple[np.ndarray, ...]:
    """A tuple of tensors (the forward pass's z and p) as numpy arrays."""
    return tuple(to_numpy(a, target) for a in out)


def loss_and_grads(out: tuple[Any, list[Any]], target: Target) -> tuple[np.ndarray, Params]:
    """(loss, gradient per weight) as the numpy loss and gradients."""
    return to_numpy(out[0], target), tuple(to_numpy(g, target) for g in out[1])


def trajectory(history: list[list[Any]], losses: list[Any], target: Target) -> MLPTrajectory:
    """A Python loop's record (per step, every weight; per step, the loss) as the numpy trajectory."""
    params = tuple(np.stack([to_numpy(w, target) for w in leaf]) for leaf in zip(*history))
    loss_rows = np.array([to_numpy(v, target) for v in losses], dtype=target.np_dtype)
    return MLPTrajectory(params=params, losses=loss_rows.reshape(len(losses)))


class KerasLocal(LogisticAsOneLayerNet, Style):
    """A Keras style in a process whose Keras backend is its own (``backend``): base of each backend's style.

    A backend's style sets its identity (``name``, ``framework``, ``backend``, ``execution``,
    ``compiled``), writes the two operations of its training loop as :class:`~..style.Style`'s
    hooks, and, where the defaults do not fit, the hooks on how a call runs:

    - ``prepare_loss_and_grads(*, params, X, y, target)`` → NativeOp whose result :func:`loss_and_grads`
      converts: the loss and each weight's gradient, by the backend's own gradient.
    - ``prepare_train(*, params, X, y, optimizer, steps, target)`` → NativeOp whose result
      :func:`trajectory` converts: the backend's training loop, every step's weights and loss.
    - ``scope(target)`` → context manager in which a call builds and computes: the target's
      device (``keras.device``); JAX adds x64.
    - ``block(result)`` → ``result``, once it exists (asynchronous backends wait for it here).
    - ``native_op(target, compute, convert)`` → the NativeOp that runs ``compute()`` in
      :meth:`scope` until its result exists, and ``convert`` turns into numpy; JAX's is faster.
    - ``forward_only(compute)`` → ``compute`` as the forward pass runs it: recording no gradient,
      where the backend records them eagerly (PyTorch); by default ``compute`` itself.

    Written here once: ``prepare_forward`` (the model's logits and their sigmoid), ``tlu_predict``,
    ``draw_initial`` (Keras's Glorot), :meth:`native`'s parameter check, and :meth:`tensor` (a numpy
    array as the backend's tensor, for the hooks).
    """

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

    def tensor(self, a: np.ndarray, target: Target) -> Any:
        """A backend tensor of the target dtype; call inside :meth:`scope`."""
        return keras.ops.convert_to_tensor(np.array(a, dtype=target.np_dtype, copy=True), dtype=target.dtype)

    def native(self, op: str, target: Target, **inputs: Any) -> NativeOp:
        # A ValueError naming the bad array, not a shape error from inside Keras (as tf-keras).
        if op != "mlp_train_batched" and {"params", "X"} <= inputs.keys():
            mlp.check_params(inputs["params"], np.shape(inputs["X"])[1])
        return super().native(op, target, **inputs)

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        self.check_target(target)
        params, X = logistic_as_mlp(Xb, w)
        with self.scope(target):
            net = keras_sequential(params, target, output=keras_heaviside)
            return to_numpy(net(self.tensor(X, target))[:, 0], target)

    # --- hooks ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def scope(self, target: Target) -> Iterator[None]:
        """Where and how a call computes: the target's device (and, on JAX, x64)."""
        with keras.device("gpu" if target.device == "cuda" else "cpu"):
            yield

    def block(self, result: Any) -> Any:
        """``result``, once it exists."""
        return result

    def native_op(self, target: Target, compute: Callable[[], Any], convert: Callable[[Any], Any]) -> NativeOp:
        """``compute`` run in the target's scope until its result exists (:meth:`block`)."""

        def run() -> Any:
            with self.scope(target):
                return self.block(compute())

        return NativeOp(run, convert)

    def forward_only(self, compute: Callable[[], Any]) -> Callable[[], Any]:
        """``compute``, recording no gradient where the backend would (here: it as it is)."""
        return compute

    def prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        with self.scope(target):
            net, X_ = keras_sequential(params, target), self.tensor(X, target)

        def compute() -> tuple[Any, Any]:
            z = net(X_)[:, 0]
            return z, keras.ops.sigmoid(z)

        return self.native_op(target, self.forward_only(compute), functools.partial(arrays, target=target))

    def draw_initial(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        with self.scope(target):
            return tuple(to_numpy(p, target) for p in keras_glorot(sizes, n, seed, target))
