"""keras-jax in its own process: :mod:`.model`'s net trained by the loop of Keras's guide
"Writing a training loop from scratch in JAX".

The guide's loop, as written there: a loss function of the *values* of the model's variables,
``model.stateless_call(trainable, non_trainable, x, training=True)`` then the Keras loss;
``jax.value_and_grad(..., has_aux=True)`` of it; a ``jax.jit``-ed ``train_step(state, data)`` that
applies the gradients with ``optimizer.stateless_apply(optimizer_variables, grads, trainable)``
and returns the new state; a Python loop over that step.  The forward pass and the gradients
alone are the same functions, unjitted (the guide jits the training step).

float64 is real only under x64: without it JAX silently makes every float64 array float32, and
so does Keras on JAX (a "float64" Dense then computes in float32, with no warning).  Every call
here runs under ``jax.enable_x64(True)`` (a scope: the process-wide flag is never changed), and
the worker starts its JAX child with ``JAX_ENABLE_X64=1``; float32 runs are explicit float32
(Dense dtype, inputs, loss dtype), so x64 leaves them as they are.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import jax
import keras
import numpy as np

from gatespec.conformance.adapters.keras_impl.local import KerasLocal, loss_and_grads, trajectory
from gatespec.conformance.adapters.keras_impl.model import keras_loss, keras_optimizer, keras_sequential
from gatespec.conformance.spec.interface import NativeOp, Target
from gatespec.reference.mlp import SGD, Adam, Params


def _loss_fn(net: keras.Sequential, loss: keras.losses.Loss) -> Any:
    """The guide's compute_loss_and_updates: (loss, non-trainable values after the call) of the variables' values."""

    def compute_loss_and_updates(trainable: list, non_trainable: list, x: jax.Array, y: jax.Array) -> Any:
        y_pred, non_trainable = net.stateless_call(trainable, non_trainable, x, training=True)
        return loss(y, y_pred), non_trainable

    return compute_loss_and_updates


@functools.lru_cache(maxsize=128)
def _trainer(sizes: tuple[int, ...], dtype: str, device: str, optimizer: SGD | Adam) -> tuple[Any, list, list]:
    """(jitted train_step, the optimizer's initial variable values, the model's non-trainable values).

    One per architecture, dtype and optimizer, as the guide builds its model, optimizer and step
    once: the step is pure in its state, so a run passes its own starting weights and the
    optimizer's initial values and nothing here is ever mutated.  Cached so that a repeated run
    (benchmarks, the suite's many cases of one shape) does not recompile; clear_caches() empties it.
    """
    target = Target(dtype, device)
    zeros = tuple(np.zeros(shape) for n_in, n_out in zip(sizes[:-1], sizes[1:]) for shape in ((n_in, n_out), (n_out,)))
    net, loss = keras_sequential(zeros, target), keras_loss(target)
    opt = keras_optimizer(optimizer)
    opt.build(net.trainable_variables)
    grad_fn = jax.value_and_grad(_loss_fn(net, loss), has_aux=True)

    @jax.jit
    def train_step(state: tuple, data: tuple) -> tuple[jax.Array, tuple]:
        trainable, non_trainable, optimizer_variables = state
        x, y = data
        (loss_value, non_trainable), grads = grad_fn(trainable, non_trainable, x, y)
        trainable, optimizer_variables = opt.stateless_apply(optimizer_variables, grads, trainable)
        return loss_value, (trainable, non_trainable, optimizer_variables)

    return train_step, [v.value for v in opt.variables], [v.value for v in net.non_trainable_variables]


class KerasJaxLocal(KerasLocal):
    """Keras 3 on JAX, in a process whose KERAS_BACKEND is jax."""

    name: ClassVar[str] = "keras-jax"
    framework: ClassVar[str] = "jax"
    backend: ClassVar[str] = "jax"
    execution: ClassVar[str] = "jax.jit"
    compiled: ClassVar[bool] = True  # the training step is jax.jit-ed per architecture, dtype and optimizer

    def framework_version(self) -> str:
        return jax.__version__

    def numerics(self) -> dict[str, str]:
        return super().numerics() | {
            "jax": jax.__version__,
            "x64": "on in every call (jax.enable_x64 scope); process-wide " + str(jax.config.jax_enable_x64),
            "jax_default_matmul_precision": str(jax.config.jax_default_matmul_precision),
        }

    def clear_caches(self) -> None:
        _trainer.cache_clear()
        jax.clear_caches()

    # --- hooks ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def scope(self, target: Target) -> Iterator[None]:
        with jax.enable_x64(True), super().scope(target):
            yield

    def block(self, result: Any) -> Any:
        return jax.block_until_ready(result)

    def native_op(self, target: Target, compute: Callable[[], Any], convert: Callable[[Any], Any]) -> NativeOp:
        """:meth:`scope` as JAX's own two config contexts, the device resolved here, not per run.

        ``keras.device`` is ``jax.default_device`` of the device its name resolves to; entered through
        two generator context managers every run it cost ~6 µs of a 20 µs one-step run.
        """
        device = jax.devices("gpu" if target.device == "cuda" else "cpu")[0]

        def run() -> Any:
            with jax.enable_x64(True), jax.default_device(device):
                return jax.block_until_ready(compute())

        return NativeOp(run, convert)

    def prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        with self.scope(target):
            net, loss = keras_sequential(params, target), keras_loss(target)
            X_, y_ = self.tensor(X, target), self.tensor(y[:, None], target)
            trainable = [v.value for v in net.trainable_variables]
            non_trainable = [v.value for v in net.non_trainable_variables]
        grad_fn = jax.value_and_grad(_loss_fn(net, loss), has_aux=True)

        def compute() -> tuple[jax.Array, list]:
            (loss_value, _), grads = grad_fn(trainable, non_trainable, X_, y_)
            return loss_value, grads

        return self.native_op(target, compute, functools.partial(loss_and_grads, target=target))

    def prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        sizes = (params[0].shape[0], *(p.shape[0] for p in params[1::2]))
        with self.scope(target):
            train_step, optimizer_variables, non_trainable = _trainer(sizes, target.dtype, target.device, optimizer)
            start = [self.tensor(p, target) for p in params]
            data = (self.tensor(X, target), self.tensor(y[:, None], target))

        def compute() -> tuple[list[list[jax.Array]], list[jax.Array]]:
            state = (start, non_trainable, optimizer_variables)
            history, losses = [start], []
            for _ in range(steps):
                loss_value, state = train_step(state, data)
                losses.append(loss_value)
                history.append(state[0])
            return history, losses

        return self.native_op(target, compute, lambda out: trajectory(*out, target))
