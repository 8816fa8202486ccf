"""jax-jit and jax-scan as a user writes them: the net as a function of a tuple, ``jax.jit``, constants inlined.

    z = σ(X W₁ + b₁) W₂ + b₂;   l = Σ softplus(z) − y·z;   SGD θ ← θ − η∇l;   Adam as torch.optim.Adam

jax-jit trains in a Python loop over a jitted step; jax-scan jits one ``lax.scan`` over the steps.  η, β
and ε are Python floats closed over by the traced function (what a user writes); Adam's bias
corrections s_t = η/(1−β₁ᵗ) and c_t = √(1−β₂ᵗ) are Python floats per step, as torch.optim.Adam's,
passed to the jitted step (jax-jit) or scanned over (jax-scan).  Every step's parameters are kept:
the operation returns the trajectory.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from gatespec.conformance.spec.interface import MLPTrajectory, NativeOp, Target
from gatespec.reference.mlp import SGD


def _loss(p, X, y):
    W1, b1, W2, b2 = p
    z = (jax.nn.sigmoid(X @ W1 + b1) @ W2 + b2)[:, 0]
    return jnp.sum(jax.nn.softplus(z) - y * z)


def _sgd(lr):
    def step(p, X, y):
        loss, g = jax.value_and_grad(_loss)(p, X, y)
        return tuple(a - lr * b for a, b in zip(p, g)), loss

    return step


def _adam(opt):
    b1, b2, eps = opt.beta1, opt.beta2, opt.eps

    def step(p, m, v, s, c, X, y):
        loss, g = jax.value_and_grad(_loss)(p, X, y)
        m = tuple(b1 * a + (1 - b1) * b for a, b in zip(m, g))
        v = tuple(b2 * a + (1 - b2) * b * b for a, b in zip(v, g))
        p = tuple(a - s * mm / (jnp.sqrt(vv) / c + eps) for a, mm, vv in zip(p, m, v))
        return p, m, v, loss

    return step


def _coefficients(opt, steps: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(1, steps + 1, dtype=np.float64)
    return (opt.lr / (1 - opt.beta1**t)).astype(np.float32), np.sqrt(1 - opt.beta2**t).astype(np.float32)


def _trajectory(history, losses) -> MLPTrajectory:
    params = tuple(np.stack([np.asarray(h[k]) for h in history]) for k in range(4))
    return MLPTrajectory(params=params, losses=np.asarray(losses, dtype=np.float32).reshape(-1))


def _jit_train(task, p0, X, y):
    opt, steps = task.optimizer, task.steps
    if isinstance(opt, SGD):
        step = jax.jit(_sgd(opt.lr))

        def run():
            p, history, losses = p0, [p0], []
            for _ in range(steps):
                p, loss = step(p, X, y)
                history.append(p)
                losses.append(loss)
            return jax.block_until_ready((history, losses))

        return run
    step, (s, c) = jax.jit(_adam(opt)), _coefficients(opt, steps)

    def run():
        p, history, losses = p0, [p0], []
        m = v = tuple(jnp.zeros_like(a) for a in p0)
        for t in range(steps):
            p, m, v, loss = step(p, m, v, s[t], c[t], X, y)
            history.append(p)
            losses.append(loss)
        return jax.block_until_ready((history, losses))

    return run


def _scan_train(task, p0, X, y):
    opt, steps = task.optimizer, task.steps

    def rows(p, loss):
        return jnp.concatenate([a.ravel() for a in p] + [loss[None]])

    if isinstance(opt, SGD):
        sgd = _sgd(opt.lr)

        @jax.jit
        def train(p, X, y):
            def body(p, _):
                p2, loss = sgd(p, X, y)
                return p2, rows(p2, loss)

            return jax.lax.scan(body, p, None, length=steps)[1]

        return lambda: jax.block_until_ready(train(p0, X, y))
    adam, coefs = _adam(opt), tuple(jnp.asarray(a) for a in _coefficients(opt, steps))

    @jax.jit
    def train(p, X, y, coefs):
        def body(carry, sc):
            p, m, v, loss = adam(*carry, *sc, X, y)
            return (p, m, v), rows(p, loss)

        zeros = tuple(jnp.zeros_like(a) for a in p)
        return jax.lax.scan(body, (p, zeros, zeros), coefs)[1]

    return lambda: jax.block_until_ready(train(p0, X, y, coefs))


def _unpack(rows, p0) -> MLPTrajectory:
    rows, params, k = np.asarray(rows), [], 0
    for a in p0:
        n = a.size
        after = rows[:, k : k + n].reshape(len(rows), *a.shape)
        params.append(np.concatenate([np.asarray(a)[None], after]))
        k += n
    return MLPTrajectory(params=tuple(params), losses=rows[:, k].copy())


def prepare(style: str, task, target: Target) -> NativeOp:
    """``style``'s program for ``task``: inputs on the device here, the work in ``run``."""
    inputs, dtype = task.inputs(), target.np_dtype
    device = jax.devices({"cpu": "cpu", "cuda": "gpu"}[target.device])[0]
    p0 = tuple(jax.device_put(np.asarray(a, dtype=dtype), device) for a in inputs["params"])
    X = jax.device_put(np.asarray(inputs["X"], dtype=dtype), device)
    if task.op == "mlp_forward":
        forward = jax.jit(lambda p, X: (z := _forward_logits(p, X), jax.nn.sigmoid(z)))
        return NativeOp(lambda: jax.block_until_ready(forward(p0, X)), lambda out: tuple(map(np.asarray, out)))
    y = jax.device_put(np.asarray(inputs["y"], dtype=dtype), device)
    if task.op == "mlp_loss_and_grads":
        grads = jax.jit(jax.value_and_grad(_loss))
        return NativeOp(
            lambda: jax.block_until_ready(grads(p0, X, y)),
            lambda out: (np.asarray(out[0]), tuple(map(np.asarray, out[1]))),
        )
    if style == "jax-scan":
        return NativeOp(_scan_train(task, p0, X, y), lambda rows: _unpack(rows, p0))
    return NativeOp(_jit_train(task, p0, X, y), lambda out: _trajectory(*out))


def _forward_logits(p, X):
    W1, b1, W2, b2 = p
    return (jax.nn.sigmoid(X @ W1 + b1) @ W2 + b2)[:, 0]
