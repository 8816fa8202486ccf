"""flax-nnx's programs: an nnx.Module of two nnx.Linear layers, an nnx.Optimizer over optax, ``nnx.jit`` steps.

    z = Linear₂(σ(Linear₁(X)))[:, 0],   loss = Σ optax.sigmoid_binary_cross_entropy(z, y)

Training is a Python loop over one ``@nnx.jit`` step that updates model and optimizer in place
and returns the loss at the step's start; the parameters are read after every step.  The
optimizer is ``optax.sgd(η)`` or ``optax.adam(η, β₁, β₂, ε)`` built once from Python floats, so
the hyperparameters are constants of the compiled step (and Adam's bias corrections are optax's
own, float32(β)ᵗ, as the adapter's are).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from gatespec.conformance.spec.interface import MLPTrajectory, NativeOp, Target
from gatespec.reference.mlp import SGD


class MLP(nnx.Module):
    def __init__(self, W1, b1, W2, b2) -> None:
        self.hidden, self.out = nnx.Linear(2, 2, rngs=nnx.Rngs(0)), nnx.Linear(2, 1, rngs=nnx.Rngs(0))
        # nnx.Linear's kernel is (in, out), the canonical layout: the given parameters replace the draws.
        self.hidden.kernel[...], self.hidden.bias[...], self.out.kernel[...], self.out.bias[...] = W1, b1, W2, b2

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.out(nnx.sigmoid(self.hidden(x)))[:, 0]

    def weights(self) -> tuple[jax.Array, ...]:
        return self.hidden.kernel[...], self.hidden.bias[...], self.out.kernel[...], self.out.bias[...]


def loss_fn(model: MLP, X: jax.Array, y: jax.Array) -> jax.Array:
    return optax.sigmoid_binary_cross_entropy(model(X), y).sum()


@nnx.jit
def forward(model: MLP, X: jax.Array) -> tuple[jax.Array, jax.Array]:
    z = model(X)
    return z, nnx.sigmoid(z)


loss_and_grads = nnx.jit(nnx.value_and_grad(loss_fn))


@nnx.jit
def train_step(model: MLP, optimizer: nnx.Optimizer, X: jax.Array, y: jax.Array) -> jax.Array:
    loss, grads = nnx.value_and_grad(loss_fn)(model, X, y)
    optimizer.update(model, grads)
    return loss


def _numpy(tree):
    return jax.tree.map(lambda a: np.asarray(a, np.float32), tree)


def prepare(style: str, task, target: Target) -> NativeOp:
    inputs = task.inputs()
    X, y = jnp.asarray(inputs["X"], jnp.float32), jnp.asarray(inputs.get("y", 0.0), jnp.float32)
    start = MLP(*(jnp.asarray(p, jnp.float32) for p in inputs["params"]))
    if task.op == "mlp_forward":
        return NativeOp(lambda: jax.block_until_ready(forward(start, X)), _numpy)
    if task.op == "mlp_loss_and_grads":

        def grads_numpy(out: tuple[jax.Array, nnx.State]) -> tuple:
            loss, g = out[0], nnx.to_pure_dict(out[1])  # grads: a State shaped like the model's
            return _numpy(loss), _numpy(tuple(g[layer][w] for layer in ("hidden", "out") for w in ("kernel", "bias")))

        return NativeOp(lambda: jax.block_until_ready(loss_and_grads(start, X, y)), grads_numpy)
    graphdef, state = nnx.split(start)
    o = task.optimizer
    tx = optax.sgd(o.lr) if isinstance(o, SGD) else optax.adam(o.lr, b1=o.beta1, b2=o.beta2, eps=o.eps)

    def train() -> tuple[list, list]:
        model = nnx.merge(graphdef, state, copy=True)  # every run from the same start
        optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
        history, losses = [model.weights()], []
        for _ in range(task.steps):
            losses.append(train_step(model, optimizer, X, y))
            history.append(model.weights())
        return jax.block_until_ready((history, losses))

    def trajectory(out: tuple[list, list]) -> MLPTrajectory:
        history, losses = jax.device_get(out)
        return MLPTrajectory(tuple(np.stack(p).astype(np.float32) for p in zip(*history)), np.stack(losses))

    return NativeOp(train, trajectory)
