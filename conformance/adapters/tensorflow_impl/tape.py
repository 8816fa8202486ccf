"""``tf-tape``: eager TensorFlow as the notebook's "Using TensorFlow Eager" cell writes it.

``tf.Variable`` parameters, ``tf.GradientTape``, manual ``assign_sub`` updates; every op runs
eagerly, one Python step at a time.  The perceptron operations live here only: Rosenblatt's
rule is no gradient step, so the compiled styles have nothing to compile in it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import tensorflow as tf

from gatespec.conformance.adapters.tensorflow_impl import common
from gatespec.conformance.adapters.tensorflow_impl.common import Model
from gatespec.conformance.spec.interface import Capability, Known, NativeOp, Target
from gatespec.reference.mlp import SGD, Adam, Params


def _heaviside(z: tf.Tensor) -> tf.Tensor:
    """g(z) = 1 if z > 0 else 0, so g(0) = 0 as np.heaviside(z, 0.0) in the notebook."""
    return tf.cast(z > 0, z.dtype)


def _eager_train(
    model: Model, variables: tuple, X: tf.Tensor, y: tf.Tensor, hyper: tf.Tensor, adam: bool, steps: int
) -> tuple[tuple, tf.Tensor]:
    """The notebook's eager loop: tape, gradient, ``assign_sub``; snapshots of every step stacked at the end."""
    moments = common.no_moments(variables, adam)
    history = [[v.read_value()] for v in variables]
    losses = []
    for t in range(1, steps + 1):
        loss, grads = common.loss_and_grads(model, variables, X, y)
        deltas, moments = common.updates(grads, moments, t, hyper)
        for v, delta, snapshots in zip(variables, deltas, history):
            v.assign_sub(delta)
            # read_value is a snapshot: the next assign copies the buffer rather than overwrite it.
            snapshots.append(v.read_value())
        losses.append(loss)
    return tuple(tf.stack(h) for h in history), tf.stack(losses)


class TFTape(common.TensorFlowStyle):
    """Eager TensorFlow: tf.Variable parameters, tf.GradientTape, ``w.assign_sub(lr * grad)``.

    Adam is written by hand (the reference's torch-style update) because the point of this
    style is TensorFlow without Keras; tf-keras covers Keras's own Adam.
    """

    name: ClassVar[str] = "tf-tape"
    slow_eager: ClassVar[str] = (
        "eager TensorFlow with a tape per step: 1000 steps take ~11 s, so it runs a 50-step prefix"
    )
    capabilities: ClassVar[frozenset[Capability]] = common.GRADIENT_OPS | {
        Capability.TLU_PREDICT,
        Capability.PERCEPTRON_STEP,
        Capability.PERCEPTRON_ONLINE,
        Capability.MLP_INIT,
    }
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.MLP_TRAIN_BATCHED: "eager ops with a tape per step: 1000 steps take ~11 s a run, so the "
        "1000-net statistics would take a minute; tf-function and tf-xla train many nets at once",
    }
    known_deviations: ClassVar[dict[str, str | Known]] = common.naive_single_example(
        "naive -tf.math.log(tf.math.sigmoid(...)) as the notebook's TensorFlow cell: inf at saturation"
    )

    # --- the perceptron and the single example: eager ops, nothing to prepare ---------------

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        with tf.device(common.tf_device(target)):
            z = tf.linalg.matvec(common.tensor(Xb, target), common.tensor(w, target))
            return common.as_numpy(_heaviside(z), target)

    def perceptron_step(self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float, target: Target) -> np.ndarray:
        with tf.device(common.tf_device(target)):
            Xb_t, y_t, w_t = (common.tensor(a, target) for a in (Xb, y, w))
            err = y_t - _heaviside(tf.linalg.matvec(Xb_t, w_t))
            return common.as_numpy(w_t + eta * tf.linalg.matvec(Xb_t, err, transpose_a=True), target)

    def perceptron_online(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, order: np.ndarray, target: Target
    ) -> np.ndarray:
        with tf.device(common.tf_device(target)):
            Xb_t, y_t = common.tensor(Xb, target), common.tensor(y, target)
            w = tf.Variable(common.tensor(w0, target))
            rows = [w.read_value()]
            for i in order.tolist():
                err = y_t[i] - _heaviside(tf.tensordot(Xb_t[i], w, 1))
                w.assign_add(eta * err * Xb_t[i])
                rows.append(w.read_value())
            return common.as_numpy(tf.stack(rows), target)

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        with tf.device(common.tf_device(target)):
            # As the notebook: a constant x and a Variable w, which the tape watches by itself.
            x_t = tf.constant(x, dtype=common.tf_dtype(target), name="x")
            w_v = tf.Variable(w, dtype=common.tf_dtype(target), name="w")
            return common.pair_to_numpy(target)(common.single_example(x_t, w_v))

    # --- the model hooks: eager ops, tf.Variable parameters -------------------------------------

    def prepare_model_forward(self, model: Model, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        _, params_t, X_t = common.constants(target, params, X)
        return common.native_op(target, lambda: common.forward(model, params_t, X_t), common.pair_to_numpy(target))

    def prepare_model_loss_and_grads(
        self, model: Model, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target
    ) -> NativeOp:
        with tf.device(common.tf_device(target)):
            variables = tuple(tf.Variable(common.tensor(p, target)) for p in params)
            X_t, y_t = common.tensor(X, target), common.tensor(y, target)

        def compute() -> tuple[tf.Tensor, list]:
            return common.loss_and_grads(model, variables, X_t, y_t)

        return common.native_op(target, compute, common.loss_grads_to_numpy(model, target))

    def prepare_model_train(
        self, model: Model, *, params: Params, X: np.ndarray, y: np.ndarray, opt: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        with tf.device(common.tf_device(target)):
            start = tuple(common.tensor(p, target) for p in params)
            variables = tuple(tf.Variable(p) for p in start)
            X_t, y_t, hyper = common.tensor(X, target), common.tensor(y, target), common.hyperparameters(opt, target)
        adam = isinstance(opt, Adam)

        def compute() -> tuple[tuple, Any]:
            for v, p in zip(variables, start):  # every run starts from the same point
                v.assign(p)
            return _eager_train(model, variables, X_t, y_t, hyper, adam, steps)

        return common.native_op(target, compute, common.trajectory_to_numpy(model, target))
