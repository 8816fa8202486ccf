"""``tf-function``: tf-tape's maths traced into graphs, one ``tf.function`` per configuration.

The whole training loop (``tf.range`` + ``tf.TensorArray``) is one compiled call, its step count a
constant of the trace and its hyperparameters one tensor argument: a new η, β or ε reuses the trace
(as constants they cost the matrix 16% more tracing for a 1–10% faster call, all within 1.12× of the
hand-written program, benchmarks/handwritten/tf_programs.py).  Many nets at
once: B nets stacked on a leading axis train in one compiled ``tf.range`` loop of batched
matmuls (``tf.einsum``, ``tf.matmul``) and one tape gradient of the summed loss per step.
``jit`` (tf-xla's, :mod:`.xla`) is part of every cache key below.

No ``input_signature``: binding a call's arguments to one costs 45–100 µs a call (the 2-2-1 net's
forward takes 170 µs), where a function without one finds its trace by the arguments' types.  A
new row count, the only shape left free, traces once more in the same function.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import numpy as np
import tensorflow as tf

from gatespec.conformance.adapters.tensorflow_impl import common
from gatespec.conformance.adapters.tensorflow_impl.common import Model
from gatespec.conformance.spec.interface import BatchedRun, Capability, Known, NativeOp, Target
from gatespec.reference.mlp import SGD, Adam, Params


def _batched_losses(params: Any, X: Any, y: Any) -> tf.Tensor:
    """Every net's Σ_rows BCE, (B,): params stacked on a leading net axis, X (N, n) and y (N,) shared."""
    h = tf.einsum("ni,bio->bno", X, params[0]) + params[1][:, None, :]
    for W, b in zip(params[2::2], params[3::2]):
        h = tf.matmul(tf.sigmoid(h), W) + b[:, None, :]  # (B, N, in) @ (B, in, out): one batched matmul
    z = h[..., 0]
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.broadcast_to(y, tf.shape(z)), logits=z), 1)


# One traced function per (model, shapes, dtype, [optimizer kind, steps,] device, jit), built once per
# process: a new tf.function object would trace again on its first call.  The shapes key the
# function, not its trace: each function holds the traces of its row counts.


@functools.cache
def _compiled_forward(model: Model, shapes: tuple, dtype: str, device: str, jit: bool) -> Any:
    @tf.function(jit_compile=jit)
    def forward(params: tuple, X: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return common.forward(model, params, X)

    return common.traced_once(forward)


@functools.cache
def _compiled_loss_grads(model: Model, shapes: tuple, dtype: str, device: str, jit: bool) -> Any:
    @tf.function(jit_compile=jit)
    def loss_and_grads(params: tuple, X: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, list]:
        return common.loss_and_grads(model, params, X, y)

    return common.traced_once(loss_and_grads)


@functools.cache
def _compiled_train(model: Model, shapes: tuple, dtype: str, adam: bool, steps: int, device: str, jit: bool) -> Any:
    """``steps`` updates, the step count a constant of the trace (tf-xla compiles per step count anyway: it sizes
    the TensorArrays), the hyperparameters a tensor argument: a new η, β or ε reuses the trace."""
    tf_dtype = tf.as_dtype(dtype)

    @tf.function(jit_compile=jit)
    def train(params: tuple, X: tf.Tensor, y: tf.Tensor, hyper: tf.Tensor) -> tuple:
        history = tuple(tf.TensorArray(tf_dtype, size=steps + 1, element_shape=p.shape).write(0, p) for p in params)
        losses = tf.TensorArray(tf_dtype, size=steps, element_shape=())
        moments = common.no_moments(params, adam)
        for t in tf.range(steps):  # autograph: a tf.while_loop, not a Python loop
            loss, grads = common.loss_and_grads(model, params, X, y)
            deltas, moments = common.updates(grads, moments, t + 1, hyper)
            params = tuple(p - delta for p, delta in zip(params, deltas))
            losses = losses.write(t, loss)
            history = tuple(h.write(t + 1, p) for h, p in zip(history, params))
        return tuple(h.stack() for h in history), losses.stack()

    return common.traced_once(train)


@functools.cache
def _compiled_train_batched(shapes: tuple, dtype: str, adam: bool, steps: int, device: str, jit: bool) -> Any:
    """Many nets' training as one traced loop, ``steps`` a constant of it, the hyperparameters a tensor argument;
    each net count and row count traces once in the same function."""
    tf_dtype = tf.as_dtype(dtype)

    @tf.function(jit_compile=jit)
    def train(params: tuple, X: tf.Tensor, y: tf.Tensor, hyper: tf.Tensor) -> tuple:
        losses = tf.TensorArray(tf_dtype, size=steps, element_shape=(None,))
        moments = common.no_moments(params, adam)
        for t in tf.range(steps):  # autograph: a tf.while_loop, not a Python loop
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = _batched_losses(params, X, y)
                total = tf.reduce_sum(loss)  # the nets share no parameter: d total/dθ_b = dl_b/dθ_b
            deltas, moments = common.updates(tape.gradient(total, params), moments, t + 1, hyper)
            params = tuple(p - delta for p, delta in zip(params, deltas))
            losses = losses.write(t, loss)
        return params, losses.stack()

    return common.traced_once(train)


@functools.cache
def _compiled_single_example(dtype: str, device: str, jit: bool) -> Any:
    spec = tf.TensorSpec((None,), tf.as_dtype(dtype))
    return common.traced_once(tf.function(common.single_example, input_signature=[spec, spec], jit_compile=jit))


_CACHES = (_compiled_forward, _compiled_loss_grads, _compiled_train, _compiled_train_batched, _compiled_single_example)


class TFFunction(common.TensorFlowStyle):
    """Graph-mode TensorFlow: every operation is a ``tf.function``, called with the prepared tensors.

    Functions are built once per (model, layer sizes, dtype, device), and for training per
    optimizer kind (SGD or Adam) and step count too, and cached for the process; each traces
    once per row count.  Training is one call: a ``tf.range`` loop writing losses and parameters
    into ``tf.TensorArray``s.
    """

    name: ClassVar[str] = "tf-function"
    compiled: ClassVar[bool] = True
    capabilities: ClassVar[frozenset[Capability]] = common.GRADIENT_OPS | {
        Capability.MLP_INIT,
        Capability.MLP_TRAIN_BATCHED,
    }
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.TLU_PREDICT: "a single thresholded matvec has nothing to compile; tf-tape runs it eagerly",
        Capability.PERCEPTRON_STEP: "Rosenblatt's rule is no gradient step: nothing to compile; tf-tape runs it",
        Capability.PERCEPTRON_ONLINE: "Rosenblatt's rule is no gradient step: nothing to compile; tf-tape runs it",
    }
    jit_compile: ClassVar[bool] = False
    known_deviations: ClassVar[dict[str, str | Known]] = common.naive_single_example(
        "the notebook's TensorFlow cell compiled: the same naive −log σ, inf at saturation"
    )

    def numerics(self) -> dict[str, str]:
        return super().numerics() | {"jit_compile": str(self.jit_compile)}

    def clear_caches(self) -> None:
        # A new tf.function object traces (and, under jit_compile, XLA-compiles) on its first call.
        for cache in _CACHES:
            cache.cache_clear()

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        device = common.tf_device(target)
        fn = _compiled_single_example(target.dtype, device, self.jit_compile)
        with tf.device(device):
            return common.pair_to_numpy(target)(fn(common.tensor(x, target), common.tensor(w, target)))

    # --- the model hooks: cached tf.functions of the prepared constants ------------------------

    def prepare_model_forward(self, model: Model, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        device, params_t, X_t = common.constants(target, params, X)
        fn = _compiled_forward(model, _shapes(params), target.dtype, device, self.jit_compile)
        return common.native_op(target, lambda: fn(params_t, X_t), common.pair_to_numpy(target))

    def prepare_model_loss_and_grads(
        self, model: Model, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target
    ) -> NativeOp:
        device, params_t, X_t, y_t = common.constants(target, params, X, y)
        fn = _compiled_loss_grads(model, _shapes(params), target.dtype, device, self.jit_compile)
        return common.native_op(target, lambda: fn(params_t, X_t, y_t), common.loss_grads_to_numpy(model, target))

    def prepare_model_train(
        self, model: Model, *, params: Params, X: np.ndarray, y: np.ndarray, opt: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        device, params_t, X_t, y_t = common.constants(target, params, X, y)
        adam = isinstance(opt, Adam)
        fn = _compiled_train(model, _shapes(params), target.dtype, adam, steps, device, self.jit_compile)
        with tf.device(device):
            hyper = common.hyperparameters(opt, target)
        # pure: no state to reset between runs
        return common.native_op(
            target, lambda: fn(params_t, X_t, y_t, hyper), common.trajectory_to_numpy(model, target)
        )

    def prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        device, params_t, X_t, y_t = common.constants(target, params, X, y)
        shapes = tuple(p.shape[1:] for p in params)
        fn = _compiled_train_batched(shapes, target.dtype, isinstance(optimizer, Adam), steps, device, self.jit_compile)
        with tf.device(device):
            hyper = common.hyperparameters(optimizer, target)

        def to_numpy(result: tuple[tuple, tf.Tensor]) -> BatchedRun:
            final, losses = result
            return BatchedRun(tuple(common.as_numpy(p, target) for p in final), common.as_numpy(losses, target))

        return common.native_op(target, lambda: fn(params_t, X_t, y_t, hyper), to_numpy)


def _shapes(params: Params) -> tuple[tuple[int, ...], ...]:
    return tuple(p.shape for p in params)
