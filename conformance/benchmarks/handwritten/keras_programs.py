"""tf-keras, keras-jax and keras-torch as a user writes them: Keras 3's guide for each backend, constants inlined.

    net = Sequential([Input((2,)), Dense(2, "sigmoid"), Dense(1)]);   l = BinaryCrossentropy(from_logits, sum)

Keras fixes its backend per process, so one module serves the three styles and imports each
backend's pieces inside its functions.  The forward pass is ``net(X)`` and the gradients one
backward pass, eager, as the adapters (and the guides) write them; training is the guide's
"training loop from scratch" for the backend:

- tf-keras: a ``tf.function`` step (GradientTape, ``optimizer.apply_gradients``) in a Python loop;
- keras-jax: ``stateless_call`` + ``jax.value_and_grad`` + ``optimizer.stateless_apply`` in a
  ``jax.jit`` step, the state passed through a Python loop;
- keras-torch: ``loss.backward()`` and ``optimizer.apply`` under ``torch.no_grad()``, eager.

``keras.optimizers.SGD(0.5)`` / ``Adam(1e-3, 0.9, 0.999, 1e-8)`` from the task's Python floats;
every step's weights and loss are kept (the operation returns the trajectory).  A run starts from
the task's weights and a fresh optimizer state: the stateful loops assign them back first.
"""

from __future__ import annotations

import functools

import keras
import numpy as np

from gatespec.conformance.spec.interface import MLPTrajectory, NativeOp, Target
from gatespec.reference.mlp import SGD


def _net(params) -> keras.Sequential:
    # Zero initialisers: set_weights replaces them, and a random draw would advance Keras's global seed generator.
    dense = functools.partial(keras.layers.Dense, kernel_initializer="zeros", bias_initializer="zeros")
    net = keras.Sequential([keras.Input((2,)), dense(2, activation="sigmoid"), dense(1)])
    net.set_weights([np.asarray(p, np.float32) for p in params])  # Dense's kernel is (in, out): canonical
    return net


def _optimizer(opt) -> keras.optimizers.Optimizer:
    if isinstance(opt, SGD):
        return keras.optimizers.SGD(learning_rate=opt.lr)
    return keras.optimizers.Adam(learning_rate=opt.lr, beta_1=opt.beta1, beta_2=opt.beta2, epsilon=opt.eps)


def _numpy(x) -> np.ndarray:
    # A torch tensor by its own .numpy(): Keras's convert_to_numpy warns under numpy 2 (torch's __array__ has no copy).
    if hasattr(x, "detach"):
        return np.asarray(x.detach().cpu().numpy(), np.float32)
    return np.asarray(keras.ops.convert_to_numpy(x), np.float32)


def _trajectory(out) -> MLPTrajectory:
    """history: per step the 4 weights (step 0 the start); losses: per step the loss at its start."""
    history, losses = out
    params = tuple(np.stack([_numpy(w) for w in leaf]) for leaf in zip(*history))
    return MLPTrajectory(params=params, losses=np.array([_numpy(v) for v in losses], np.float32))


def _tf_train(net, loss_fn, opt, steps: int, X, y):
    import tensorflow as tf

    weights = net.trainable_variables

    @tf.function
    def train_step(X, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, net(X, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss, [tf.identity(w) for w in weights]

    state = [*weights, *opt.variables]  # what a run mutates: weights, iterations, moments
    start = [tf.identity(v) for v in state]

    def run():
        for v, s in zip(state, start):
            v.assign(s)
        history, losses = [start[: len(weights)]], []
        for _ in range(steps):
            loss, values = train_step(X, y)
            losses.append(loss)
            history.append(values)
        return history, losses  # eager TF on the CPU: finished when the step returns

    return run


def _jax_train(net, loss_fn, opt, steps: int, X, y):
    import jax

    def compute_loss(trainable, non_trainable, x, y):
        y_pred, non_trainable = net.stateless_call(trainable, non_trainable, x, training=True)
        return loss_fn(y, y_pred), non_trainable

    grad_fn = jax.value_and_grad(compute_loss, has_aux=True)

    @jax.jit
    def train_step(state, x, y):
        trainable, non_trainable, opt_vars = state
        (loss, non_trainable), grads = grad_fn(trainable, non_trainable, x, y)
        trainable, opt_vars = opt.stateless_apply(opt_vars, grads, trainable)
        return loss, (trainable, non_trainable, opt_vars)

    start = (
        [v.value for v in net.trainable_variables],
        [v.value for v in net.non_trainable_variables],
        [v.value for v in opt.variables],
    )

    def run():
        state, history, losses = start, [start[0]], []
        for _ in range(steps):
            loss, state = train_step(state, X, y)
            losses.append(loss)
            history.append(state[0])
        return jax.block_until_ready((history, losses))

    return run


def _torch_train(net, loss_fn, opt, steps: int, X, y):
    import torch

    weights = net.trainable_weights
    state = [*weights, *opt.variables]
    start = [v.value.detach().clone() for v in state]

    def run():
        for v, s in zip(state, start):
            v.assign(s)
        history, losses = [start[: len(weights)]], []
        for _ in range(steps):
            loss = loss_fn(y, net(X))
            net.zero_grad()
            loss.backward()
            with torch.no_grad():
                opt.apply([w.value.grad for w in weights], weights)
            losses.append(loss.detach())
            history.append([w.value.detach().clone() for w in weights])
        return history, losses  # eager torch on the CPU: finished when the step returns

    return run


def _loss_and_grads(backend: str, net, loss_fn, X, y):
    weights = net.trainable_variables
    if backend == "tensorflow":
        import tensorflow as tf

        def run():
            with tf.GradientTape() as tape:
                loss = loss_fn(y, net(X, training=True))
            return loss, tape.gradient(loss, weights)

        return run
    if backend == "jax":
        import jax

        def loss_of(trainable, non_trainable):
            return loss_fn(y, net.stateless_call(trainable, non_trainable, X, training=True)[0])

        grad_fn = jax.value_and_grad(loss_of)  # unjitted, as the adapter's (the guide jits the train step only)
        trainable, non_trainable = [v.value for v in weights], [v.value for v in net.non_trainable_variables]
        return lambda: jax.block_until_ready(grad_fn(trainable, non_trainable))

    def run():
        net.zero_grad()
        loss = loss_fn(y, net(X))
        loss.backward()
        return loss.detach(), [w.value.grad.detach().clone() for w in weights]

    return run


def _forward(backend: str, net, X):
    def forward():
        z = net(X)[:, 0]
        return z, keras.ops.sigmoid(z)

    if backend == "jax":
        import jax

        return lambda: jax.block_until_ready(forward())
    if backend == "torch":
        import torch

        def run():
            with torch.no_grad():
                return forward()

        return run
    return forward


def prepare(style: str, task, target: Target) -> NativeOp:
    """``style``'s program for ``task`` on the process's Keras backend: model, data and step built here."""
    backend = {"tf-keras": "tensorflow", "keras-jax": "jax", "keras-torch": "torch"}[style]
    if keras.backend.backend() != backend:
        raise RuntimeError(f"{style}'s program needs KERAS_BACKEND={backend}, Keras runs on {keras.backend.backend()}")
    inputs = task.inputs()
    with keras.device("gpu" if target.device == "cuda" else "cpu"):
        net = _net(inputs["params"])
        X = keras.ops.convert_to_tensor(np.asarray(inputs["X"], np.float32))
        if task.op == "mlp_forward":
            return NativeOp(_forward(backend, net, X), lambda out: tuple(_numpy(a) for a in out))
        y = keras.ops.convert_to_tensor(np.asarray(inputs["y"], np.float32)[:, None])
        loss_fn = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")
        if task.op == "mlp_loss_and_grads":
            grads = _loss_and_grads(backend, net, loss_fn, X, y)
            return NativeOp(grads, lambda out: (_numpy(out[0]), tuple(_numpy(g) for g in out[1])))
        opt = _optimizer(task.optimizer)
        opt.build(net.trainable_variables)
        train = {"tensorflow": _tf_train, "jax": _jax_train, "torch": _torch_train}[backend]
        return NativeOp(train(net, loss_fn, opt, task.steps, X, y), _trajectory)
