"""tf-function and tf-xla, written by hand: one ``tf.function`` per task (``jit_compile=True`` for tf-xla).

The maths of the 2-2-1 net, with θ = (W₁, b₁, W₂, b₂):

    z = σ(X W₁ + b₁) W₂ + b₂,   l = Σ softplus(z) − y·z,   SGD θ ← θ − η·∇l,

Adam as torch.optim.Adam (:func:`gatespec.conformance.adapters.style.adam_direction`) with its bias
corrections 1 − βᵗ taken in float32 inside the graph, as the adapter does.  Training is one call: a
``tf.range`` loop (a ``tf.while_loop``) writing each step's loss and parameters into ``tf.TensorArray``s.
Hyperparameters are the Python constants a user writes; the inputs are float32 constants made once.
"""

from __future__ import annotations

import tensorflow as tf

from gatespec.conformance.spec.interface import MLPTrajectory, NativeOp, Target
from gatespec.reference.mlp import SGD


def _logits(params, X):
    """z = σ(X W₁ + b₁) W₂ + b₂, (N,)."""
    W1, b1, W2, b2 = params
    return (tf.matmul(tf.sigmoid(tf.matmul(X, W1) + b1), W2) + b2)[:, 0]


def _loss_and_grads(params, X, y):
    """l = Σ BCE-with-logits(z, y) and ∂l/∂θ by one tape."""
    with tf.GradientTape() as tape:
        tape.watch(params)
        z = _logits(params, X)
        loss = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
    return loss, tape.gradient(loss, params)


def _train(optimizer, steps: int, jit: bool):
    """θ_{t+1} = θ_t − Δ_t for t < steps, every θ_t and l(θ_t) recorded; Δ = η·g (SGD) or Adam's step t+1."""
    adam = not isinstance(optimizer, SGD)

    @tf.function(jit_compile=jit)
    def train(params, X, y):
        history = [tf.TensorArray(tf.float32, size=steps + 1).write(0, p) for p in params]
        losses = tf.TensorArray(tf.float32, size=steps)
        m = v = tuple(tf.zeros_like(p) for p in params)
        for t in tf.range(steps):
            loss, grads = _loss_and_grads(params, X, y)
            if adam:
                b1, b2, lr, eps = optimizer.beta1, optimizer.beta2, optimizer.lr, optimizer.eps
                tf1 = tf.cast(t + 1, tf.float32)
                step_size, bc2_sqrt = lr / (1 - b1**tf1), tf.sqrt(1 - b2**tf1)  # float32, as the adapter
                m = tuple(b1 * mi + (1 - b1) * g for mi, g in zip(m, grads))
                v = tuple(b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads))
                params = tuple(p - step_size * mi / (tf.sqrt(vi) / bc2_sqrt + eps) for p, mi, vi in zip(params, m, v))
            else:
                params = tuple(p - optimizer.lr * g for p, g in zip(params, grads))
            losses = losses.write(t, loss)
            history = [h.write(t + 1, p) for h, p in zip(history, params)]
        return [h.stack() for h in history], losses.stack()

    return train


def _as_numpy(tensors) -> tuple:
    return tuple(t.numpy() for t in tensors)


def _blocking(target: Target, fn, *args):
    """``fn(*args)``, finished when it returns: eager TF on the CPU is synchronous; GPU kernels are queued."""
    if target.device == "cuda":
        return lambda: (fn(*args), tf.test.experimental.sync_devices())[0]
    return lambda: fn(*args)


def prepare(style: str, task, target: Target) -> NativeOp:
    jit = style == "tf-xla"
    inputs = task.inputs()
    with tf.device("/GPU:0" if target.device == "cuda" else "/CPU:0"):
        params = tuple(tf.constant(p, tf.float32) for p in inputs["params"])
        X = tf.constant(inputs["X"], tf.float32)
        y = tf.constant(inputs["y"], tf.float32) if "y" in inputs else None
    if task.op == "mlp_forward":

        @tf.function(jit_compile=jit)
        def forward(params, X):
            z = _logits(params, X)
            return z, tf.sigmoid(z)

        return NativeOp(_blocking(target, forward, params, X), _as_numpy)
    if task.op == "mlp_loss_and_grads":
        loss_and_grads = tf.function(_loss_and_grads, jit_compile=jit)
        return NativeOp(_blocking(target, loss_and_grads, params, X, y), lambda r: (r[0].numpy(), _as_numpy(r[1])))
    train = _train(task.optimizer, task.steps, jit)
    return NativeOp(_blocking(target, train, params, X, y), lambda r: MLPTrajectory(_as_numpy(r[0]), r[1].numpy()))
