"""``tf-keras``: Keras 3 on the TensorFlow backend, ``keras.Sequential`` of ``Dense`` layers.

A Keras loss and Keras optimizers, trained by the Keras guide's custom loop.  The logistic unit
is the one-layer net on X without its bias column
(:func:`~gatespec.conformance.adapters.style.logistic_as_mlp`): a Dense layer carries its bias itself.
The model, the loss and the optimizers are :mod:`..keras_impl.model`'s, shared with keras-jax and
keras-torch; this module writes the TensorFlow training loop.
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from gatespec.conformance.adapters.keras_impl import declared
from gatespec.conformance.adapters.keras_impl.model import (
    keras_heaviside,
    keras_loss,
    keras_optimizer,
    keras_sequential,
)
from gatespec.conformance.adapters.style import LogisticAsOneLayerNet, logistic_as_mlp
from gatespec.conformance.adapters.tensorflow_impl import common
from gatespec.conformance.spec.interface import Capability, Known, MLPTrajectory, NativeOp, Target
from gatespec.reference.mlp import SGD, Adam, Params


def _keras_train_step(net: keras.Sequential, loss_fn: keras.losses.Loss, opt: keras.optimizers.Optimizer) -> Any:
    """The Keras guide's training step under tf.function: (loss before the update, weights after it)."""
    variables = net.trainable_variables

    @tf.function(jit_compile=False)
    def train_step(X: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, list]:
        with tf.GradientTape() as tape:
            loss = loss_fn(y, net(X, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, [tf.convert_to_tensor(v) for v in variables]

    return common.traced_once(train_step)


def _keras_train(step: Any, start: list, X: tf.Tensor, y: tf.Tensor, steps: int) -> tuple[list, list]:
    """The guide's Python loop over the compiled step, logging the loss and every weight each step.

    The log stays a list of each step's tensors, stacked by :func:`_history_to_numpy` (a ``tf.stack``
    per parameter in the run cost 5 eager ops, a quarter of a one-step run); ``start`` is the run's
    starting weights, already tensors (reading the variables again cost 4 more).
    """
    history, losses = [start], []
    for _ in range(steps):
        loss, values = step(X, y)
        losses.append(loss)
        history.append(values)
    return history, losses


def _history_to_numpy(target: Target) -> Any:
    def convert(result: tuple[list, list]) -> MLPTrajectory:
        history, losses = result
        params = tuple(np.stack([common.as_numpy(w, target) for w in leaf]) for leaf in zip(*history))
        return MLPTrajectory(
            params=params, losses=np.array([common.as_numpy(v, target) for v in losses], target.np_dtype)
        )

    return convert


class TFKeras(LogisticAsOneLayerNet, common.TensorFlowStyle):
    """Keras 3 on the TensorFlow backend: Sequential Dense layers, BinaryCrossentropy, Keras optimizers.

    Training is the Keras guide's custom loop: a Python loop over a ``tf.function`` training
    step (GradientTape + ``optimizer.apply_gradients``), traced once per prepared model; the
    fully eager step was ~30× slower.  Not ``model.fit``: it logs the loss through a float32
    Mean metric even for float64 weights, and its jit_compile="auto" means XLA on this backend.

    Known deviations from the reference, kept on purpose so the suite measures them (a numpy
    emulation of all three reproduces 200 float64 Keras Adam steps on XOR to 2e-15):

    - Adam: Keras updates θ −= η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε), adding ε to the
      *uncorrected* √v, where the reference (torch) adds it to √v/√(1−β₂ᵗ).  The reference's
      ε is passed unchanged; the gap grows with ε/√v (eps=1e-3 on XOR: 4e-2 after one step).
    - Adam, float64: Keras's ``ops.cast(self.beta_2, float64)`` goes through a float32 tensor,
      so β₁ᵗ, β₂ᵗ use float32(β); with β₂ = 0.999 every step is ~6.7e-6 too short (relative).
    - Keras keeps the learning rate in a float32 variable (floatx) even for float64 weights,
      so a float64 run steps with float32(η) (η = 0.1: 1.5e-9 relative; 0.5 and 1.0 are exact).
    """

    name: ClassVar[str] = "tf-keras"
    compiled: ClassVar[bool] = True  # the training step is a tf.function traced per prepared model
    capabilities: ClassVar[frozenset[Capability]] = (common.GRADIENT_OPS - {Capability.SINGLE_EXAMPLE_LOSS_GRAD}) | {
        Capability.TLU_PREDICT,
        Capability.MLP_INIT,
    }
    initialisers: ClassVar[tuple[str, ...]] = ("keras-glorot",)  # Dense's defaults
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.MLP_TRAIN_BATCHED: "a Dense layer holds one net; many nets stacked on an axis are tf-function's "
        "and tf-xla's (the same Keras draws, trained in one compiled loop)",
        Capability.PERCEPTRON_STEP: "Keras trains by gradients of a loss; Rosenblatt's rule is not one (see tf-tape)",
        Capability.PERCEPTRON_ONLINE: "Keras trains by gradients of a loss; Rosenblatt's rule is not one (see tf-tape)",
        Capability.SINGLE_EXAMPLE_LOSS_GRAD: "the notebook writes this cell in raw TensorFlow, not Keras (see tf-tape)",
    }
    known_deviations: ClassVar[dict[str, str | Known]] = declared.TF_KERAS
    # Keras's own Adam, not the ops styles' (common.updates): its deviations are declared in known_deviations.
    known_deviation_sets: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        if keras.backend.backend() != "tensorflow":
            raise ImportError(f"tf-keras needs KERAS_BACKEND=tensorflow, Keras runs on {keras.backend.backend()!r}")

    def numerics(self) -> dict[str, str]:
        return super().numerics() | {"keras": keras.__version__, "keras_floatx": keras.config.floatx()}

    # --- the logistic unit: the one-layer net on Xb without its bias column ------------------

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        params, X = logistic_as_mlp(Xb, w)
        with tf.device(common.tf_device(target)):
            net = keras_sequential(params, target, output=keras_heaviside)
            return common.as_numpy(net(common.tensor(X, target))[:, 0], target)

    # --- hooks ----------------------------------------------------------------------------

    def prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        with tf.device(common.tf_device(target)):
            net, X_t = keras_sequential(params, target), common.tensor(X, target)

        def compute() -> tuple[tf.Tensor, tf.Tensor]:
            z = net(X_t)[:, 0]
            return z, keras.ops.sigmoid(z)

        return common.native_op(target, compute, common.pair_to_numpy(target))

    def prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        with tf.device(common.tf_device(target)):
            net, loss_fn = keras_sequential(params, target), keras_loss(target)
            X_t, y_t = common.tensor(X, target), common.tensor(y[:, None], target)

        def compute() -> tuple[tf.Tensor, list]:
            with tf.GradientTape() as tape:
                loss = loss_fn(y_t, net(X_t, training=True))
            return loss, tape.gradient(loss, net.trainable_variables)

        return common.native_op(target, compute, common.loss_grads_to_numpy(common.MLP, target))

    def prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        with tf.device(common.tf_device(target)):
            net, loss_fn = keras_sequential(params, target), keras_loss(target)
            opt = keras_optimizer(optimizer)
            opt.build(net.trainable_variables)
            step = _keras_train_step(net, loss_fn, opt)  # traced by the first run, reused by later ones
            X_t, y_t = common.tensor(X, target), common.tensor(y[:, None], target)
            # Everything a run mutates, as it is before the first step: weights, moments, iteration count.
            state = [*net.trainable_variables, *opt.variables]
            start = [tf.convert_to_tensor(v) for v in state]

        weights = start[: len(net.trainable_variables)]

        def compute() -> tuple[list, list]:
            for v, s in zip(state, start):
                v.assign(s)
            return _keras_train(step, weights, X_t, y_t, steps)

        return common.native_op(target, compute, _history_to_numpy(target))
