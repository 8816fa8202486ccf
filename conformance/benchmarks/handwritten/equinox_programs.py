"""equinox's programs: an eqx.Module of two eqx.nn.Linear layers on one example, optax, ``eqx.filter_jit`` steps.

    z = jax.vmap(model)(X),  model(x) = Linear₂(σ(Linear₁(x))) (a scalar),  loss = Σ sigmoid_bce(z, y)

Training is a Python loop over one ``@eqx.filter_jit`` step, ``optim.update`` then
``eqx.apply_updates``, that returns the new model, optimizer state and the loss at the step's
start; every step's model is kept.  ``optim`` is ``optax.sgd(η)`` or ``optax.adam(η, β₁, β₂, ε)``
from Python floats, closed over by the step, so its hyperparameters are compiled-in constants
(and Adam's bias corrections are optax's own, float32(β)ᵗ, as the adapter's are).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gatespec.conformance.spec.interface import MLPTrajectory, NativeOp, Target
from gatespec.reference.mlp import SGD


class MLP(eqx.Module):
    hidden: eqx.nn.Linear
    out: eqx.nn.Linear

    def __init__(self, key: jax.Array) -> None:
        k1, k2 = jax.random.split(key)
        self.hidden, self.out = eqx.nn.Linear(2, 2, key=k1), eqx.nn.Linear(2, "scalar", key=k2)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.out(jax.nn.sigmoid(self.hidden(x)))


def weights(model: MLP) -> tuple[jax.Array, ...]:
    """(weight₁, bias₁, weight₂, bias₂): eqx.nn.Linear's weight is (out, in), the canonical W transposed."""
    return model.hidden.weight, model.hidden.bias, model.out.weight, model.out.bias


def canonical(arrays) -> tuple[np.ndarray, ...]:
    """Weights (or a trajectory of them, steps first) back to the canonical (W₁, b₁, W₂, b₂) in float32."""
    return tuple(np.asarray(np.swapaxes(a, -1, -2) if k % 2 == 0 else a, np.float32) for k, a in enumerate(arrays))


def loss_fn(model: MLP, X: jax.Array, y: jax.Array) -> jax.Array:
    return optax.sigmoid_binary_cross_entropy(jax.vmap(model)(X), y).sum()


@eqx.filter_jit
def forward(model: MLP, X: jax.Array) -> tuple[jax.Array, jax.Array]:
    z = jax.vmap(model)(X)
    return z, jax.nn.sigmoid(z)


loss_and_grads = eqx.filter_jit(eqx.filter_value_and_grad(loss_fn))


def prepare(style: str, task, target: Target) -> NativeOp:
    inputs = task.inputs()
    X, y = jnp.asarray(inputs["X"], jnp.float32), jnp.asarray(inputs.get("y", 0.0), jnp.float32)
    W1, b1, W2, b2 = (jnp.asarray(p, jnp.float32) for p in inputs["params"])
    start = eqx.tree_at(weights, MLP(jax.random.key(0)), (W1.T, b1, W2.T, b2))  # the given parameters, not the draw
    if task.op == "mlp_forward":
        return NativeOp(
            lambda: jax.block_until_ready(forward(start, X)), lambda out: tuple(np.asarray(a, np.float32) for a in out)
        )
    if task.op == "mlp_loss_and_grads":
        run = lambda: jax.block_until_ready(loss_and_grads(start, X, y))  # noqa: E731
        return NativeOp(run, lambda out: (np.asarray(out[0], np.float32), canonical(weights(out[1]))))
    o = task.optimizer
    optim = optax.sgd(o.lr) if isinstance(o, SGD) else optax.adam(o.lr, b1=o.beta1, b2=o.beta2, eps=o.eps)

    @eqx.filter_jit
    def step(
        model: MLP, opt_state: optax.OptState, X: jax.Array, y: jax.Array
    ) -> tuple[MLP, optax.OptState, jax.Array]:
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model, X, y)
        updates, opt_state = optim.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, loss

    def train() -> tuple[list[MLP], list[jax.Array]]:
        models, losses, opt_state = [start], [], optim.init(eqx.filter(start, eqx.is_array))  # every run from start
        for _ in range(task.steps):
            model, opt_state, loss = step(models[-1], opt_state, X, y)
            models.append(model)
            losses.append(loss)
        return jax.block_until_ready((models, losses))

    def trajectory(out: tuple[list[MLP], list[jax.Array]]) -> MLPTrajectory:
        history = jax.device_get([weights(m) for m in out[0]])
        return MLPTrajectory(canonical([np.stack(p) for p in zip(*history)]), np.asarray(out[1], np.float32))

    return NativeOp(train, trajectory)
