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

from gatespec.conformance.adapters.tensorflow_impl.common import (
    _GRADIENT_OPS,
    MLP,
    Model,
    _device,
    _hyper,
    _loss_and_grads,
    _loss_grads_to_numpy,
    _native_op,
    _no_moments,
    _numpy,
    _OpsStyle,
    _pair_to_numpy,
    _single_example,
    _tensor,
    _traced_once,
    _trajectory_to_numpy,
    _updates,
)
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
        z = model.logits(params, X)
        return z, tf.sigmoid(z)

    return _traced_once(forward)


@functools.cache
def _compiled_loss_grads(model: Model, shapes: tuple, dtype: str, device: str, jit: bool) -> Any:
    @tf.function(jit_compile=jit)
    def loss_and_grads(params: tuple, X: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, list]:
        return _loss_and_grads(model, params, X, y)

    return _traced_once(loss_and_grads)


@functools.cache
def _compiled_train(model: Model, shapes: tuple, dtype: str, adam: bool, steps: int, device: str, jit: bool) -> Any:
    """``steps`` updates, the step count a constant of the trace (tf-xla compiles per step count anyway: it sizes
    the TensorArrays), the hyperparameters a tensor argument: a new η, β or ε reuses the trace."""
    tf_dtype = tf.as_dtype(dtype)

    @tf.function(jit_compile=jit)
    def train(params: tuple, X: tf.Tensor, y: tf.Tensor, hyper: tf.Tensor) -> tuple:
        history = tuple(tf.TensorArray(tf_dtype, size=steps + 1, element_shape=p.shape).write(0, p) for p in params)
        losses = tf.TensorArray(tf_dtype, size=steps, element_shape=())
        moments = _no_moments(params, adam)
        for t in tf.range(steps):  # autograph: a tf.while_loop, not a Python loop
            loss, grads = _loss_and_grads(model, params, X, y)
            deltas, moments = _updates(grads, moments, t + 1, hyper)
            params = tuple(p - delta for p, delta in zip(params, deltas))
            losses = losses.write(t, loss)
            history = tuple(h.write(t + 1, p) for h, p in zip(history, params))
        return tuple(h.stack() for h in history), losses.stack()

    return _traced_once(train)


@functools.cache
def _compiled_train_batched(shapes: tuple, dtype: str, adam: bool, steps: int, device: str, jit: bool) -> Any:
    """Many nets' training as one traced loop, ``steps`` a constant of it, the hyperparameters a tensor argument;
    each net count and row count traces once in the same function."""
    tf_dtype = tf.as_dtype(dtype)

    @tf.function(jit_compile=jit)
    def train(params: tuple, X: tf.Tensor, y: tf.Tensor, hyper: tf.Tensor) -> tuple:
        losses = tf.TensorArray(tf_dtype, size=steps, element_shape=(None,))
        moments = _no_moments(params, adam)
        for t in tf.range(steps):  # autograph: a tf.while_loop, not a Python loop
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = _batched_losses(params, X, y)
                total = tf.reduce_sum(loss)  # the nets share no parameter: d total/dθ_b = dl_b/dθ_b
            deltas, moments = _updates(tape.gradient(total, params), moments, t + 1, hyper)
            params = tuple(p - delta for p, delta in zip(params, deltas))
            losses = losses.write(t, loss)
        return params, losses.stack()

    return _traced_once(train)


@functools.cache
def _compiled_single_example(dtype: str, device: str, jit: bool) -> Any:
    spec = tf.TensorSpec((None,), tf.as_dtype(dtype))
    return _traced_once(tf.function(_single_example, input_signature=[spec, spec], jit_compile=jit))


_CACHES = (_compiled_forward, _compiled_loss_grads, _compiled_train, _compiled_train_batched, _compiled_single_example)


class TFFunction(_OpsStyle):
    """Graph-mode TensorFlow: every operation is a ``tf.function``, called with the prepared tensors.

    Functions are built once per (model, layer sizes, dtype, device), and for training per
    optimizer kind (SGD or Adam) and step count too, and cached for the process; each traces
    once per row count.  Training is one call: a ``tf.range`` loop writing losses and parameters
    into ``tf.TensorArray``s.
    """

    name: ClassVar[str] = "tf-function"
    compiled: ClassVar[bool] = True
    capabilities: ClassVar[frozenset[Capability]] = _GRADIENT_OPS | {Capability.MLP_INIT, Capability.MLP_TRAIN_BATCHED}
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.TLU_PREDICT: "a single thresholded matvec has nothing to compile; tf-tape runs it eagerly",
        Capability.PERCEPTRON_STEP: "Rosenblatt's rule is no gradient step: nothing to compile; tf-tape runs it",
        Capability.PERCEPTRON_ONLINE: "Rosenblatt's rule is no gradient step: nothing to compile; tf-tape runs it",
    }
    jit_compile: ClassVar[bool] = False
    # The notebook's single-example loss, kept as written: −log σ(w·x) evaluates σ first, so at w·x ≪ 0 σ
    # underflows to 0 and the loss is inf (the reference's softplus(−w·x) is finite): no size to bound.
    known_deviations: ClassVar[dict[str, str | Known]] = {
        "test_single_example_loss_matches_reference[saturating-wrong": (
            "the notebook's TensorFlow cell compiled: the same naive −log σ, inf at saturation"
        ),
    }

    def numerics(self) -> dict[str, str]:
        return super().numerics() | {"jit_compile": str(self.jit_compile)}

    def clear_caches(self) -> None:
        # A new tf.function object traces (and, under jit_compile, XLA-compiles) on its first call.
        for cache in _CACHES:
            cache.cache_clear()

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        device = _device(target)
        fn = _compiled_single_example(target.dtype, device, self.jit_compile)
        with tf.device(device):
            return _pair_to_numpy(target)(fn(_tensor(x, target), _tensor(w, target)))

    # --- hooks: the MLP's by default, logistic regression's with model=LOGISTIC -------------

    def _prepare_forward(self, *, params: Params, X: np.ndarray, target: Target, model: Model = MLP) -> NativeOp:
        device, params_t, X_t = _constants(target, params, X)
        fn = _compiled_forward(model, _shapes(params), target.dtype, device, self.jit_compile)
        return _native_op(target, lambda: fn(params_t, X_t), _pair_to_numpy(target))

    def _prepare_loss_and_grads(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target, model: Model = MLP
    ) -> NativeOp:
        device, params_t, X_t, y_t = _constants(target, params, X, y)
        fn = _compiled_loss_grads(model, _shapes(params), target.dtype, device, self.jit_compile)
        return _native_op(target, lambda: fn(params_t, X_t, y_t), _loss_grads_to_numpy(model, target))

    def _prepare_train(
        self,
        *,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        optimizer: SGD | Adam,
        steps: int,
        target: Target,
        model: Model = MLP,
    ) -> NativeOp:
        device, params_t, X_t, y_t = _constants(target, params, X, y)
        adam = isinstance(optimizer, Adam)
        fn = _compiled_train(model, _shapes(params), target.dtype, adam, steps, device, self.jit_compile)
        with tf.device(device):
            hyper = _hyper(optimizer, target)
        # pure: no state to reset between runs
        return _native_op(target, lambda: fn(params_t, X_t, y_t, hyper), _trajectory_to_numpy(model, target))

    def _prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        device, params_t, X_t, y_t = _constants(target, params, X, y)
        shapes = tuple(p.shape[1:] for p in params)
        fn = _compiled_train_batched(shapes, target.dtype, isinstance(optimizer, Adam), steps, device, self.jit_compile)
        with tf.device(device):
            hyper = _hyper(optimizer, target)

        def to_numpy(result: tuple[tuple, tf.Tensor]) -> BatchedRun:
            final, losses = result
            return BatchedRun(tuple(_numpy(p, target) for p in final), _numpy(losses, target))

        return _native_op(target, lambda: fn(params_t, X_t, y_t, hyper), to_numpy)


def _constants(target: Target, params: Params, *arrays: np.ndarray) -> tuple[Any, ...]:
    """(device, the params as a tuple of constants, each array as one), the constants on that device."""
    device = _device(target)
    with tf.device(device):
        return device, tuple(_tensor(p, target) for p in params), *(_tensor(a, target) for a in arrays)


def _shapes(params: Params) -> tuple[tuple[int, ...], ...]:
    return tuple(p.shape for p in params)
