"""autograd as the notebook's "Using autograd" cell uses it: losses in autograd.numpy, gradients by autograd.

autograd traces plain numpy arrays, so the target dtype is whatever the inputs are cast to:
its VJPs are numpy expressions of the traced values and the seed gradient is ``ones`` of the
output's dtype, so float32 stays float32 through every primitive used here (dot, exp, log,
logaddexp, arithmetic, sum, indexing).  Constants are Python floats, which numpy ≥ 2 (NEP 50)
keeps in the array's dtype (numpy 1.x does not for scalars: there the float32 single-example
loss, a scalar expression, comes back float64).

Adam is a hand-written loop over the parameter tuple: ``autograd.misc.optimizers.adam``
flattens the parameters into float64 moment buffers (upcasting float32), returns only the final
point and never sees the loss, so neither a trajectory nor per-step losses come out of it.
"""

from __future__ import annotations

import importlib.metadata
import math
from typing import Any

import autograd
import autograd.numpy as np

from gatespec.reference.mlp import SGD, Adam, Params

from ..interface import (
    Capability,
    Implementation,
    MLPTrajectory,
    NativeOp,
    Target,
    Trajectory,
    check_native_op,
)


def _dtype(target: Target) -> np.dtype:
    if target.device != "cpu":
        raise ValueError(f"autograd runs on numpy, on the cpu only, got device {target.device!r}")
    return target.np_dtype


def _cast(value: Any, dt: np.dtype) -> Any:
    """Arrays and parameter tuples as fresh ``dt`` copies (the caller's arrays are never touched); others as is."""
    if isinstance(value, np.ndarray):
        return value.astype(dt)
    if isinstance(value, tuple):
        return tuple(p.astype(dt) for p in value)
    return value


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(−softplus(−z)) rather than the notebook's 1 / (1 + exp(−z)), whose exp overflows for z ≪ 0.
    return np.exp(-np.logaddexp(0.0, -z))


# ------------------------------------------------------------------ losses autograd differentiates


def _notebook_loss(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The notebook's cell verbatim: naive, so it saturates to inf/nan (the suite reports where)."""
    return -np.log(1.0 / (1 + np.exp(-np.dot(x, w))))


def _logistic_loss(w: np.ndarray, Xb: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = np.dot(Xb, w)
    return np.sum(np.logaddexp(0.0, z) - y * z)


def _mlp_logits(params: Params, X: np.ndarray) -> np.ndarray:
    h = X
    for W, b in zip(params[0:-2:2], params[1:-2:2], strict=True):
        h = _sigmoid(np.dot(h, W) + b)
    return (np.dot(h, params[-2]) + params[-1])[:, 0]


def _mlp_loss(params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = _mlp_logits(params, X)
    return np.sum(np.logaddexp(0.0, z) - y * z)


_value_and_grad_notebook = autograd.value_and_grad(_notebook_loss)
_value_and_grad_logistic = autograd.value_and_grad(_logistic_loss)
_value_and_grad_mlp = autograd.value_and_grad(_mlp_loss)  # params is a tuple: so are the gradients


# ------------------------------------------------------------------ training loops


def _mlp_forward(params: Params, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = _mlp_logits(params, X)
    return z, _sigmoid(z)


def _mlp_loss_and_grads(params: Params, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Params]:
    loss, grads = _value_and_grad_mlp(params, X, y)
    return np.asarray(loss), tuple(grads)


def _adam_update(
    opt: Adam, t: int, params: Params, grads: Params, m: Params, v: Params
) -> tuple[Params, Params, Params]:
    """Step t ≥ 1 of torch.optim.Adam: ε is added after √v is bias-corrected."""
    b1, b2 = float(opt.beta1), float(opt.beta2)
    m = tuple(b1 * mi + (1 - b1) * g for mi, g in zip(m, grads, strict=True))
    v = tuple(b2 * vi + (1 - b2) * g**2 for vi, g in zip(v, grads, strict=True))
    step_size, bc2_sqrt, eps = float(opt.lr) / (1 - b1**t), math.sqrt(1 - b2**t), float(opt.eps)
    params = tuple(p - step_size * mi / (np.sqrt(vi) / bc2_sqrt + eps) for p, mi, vi in zip(params, m, v, strict=True))
    return params, m, v


def _mlp_train(params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int) -> MLPTrajectory:
    history, losses = [params], []
    m = v = tuple(np.zeros_like(p) for p in params)
    for t in range(1, steps + 1):
        loss, grads = _value_and_grad_mlp(params, X, y)
        losses.append(loss)
        if isinstance(optimizer, SGD):
            params = tuple(p - float(optimizer.lr) * g for p, g in zip(params, grads, strict=True))
        else:
            params, m, v = _adam_update(optimizer, t, params, tuple(grads), m, v)
        history.append(params)
    return MLPTrajectory(tuple(np.stack(p) for p in zip(*history, strict=True)), np.stack(losses))


_NATIVE = {"mlp_forward": _mlp_forward, "mlp_loss_and_grads": _mlp_loss_and_grads, "mlp_train": _mlp_train}


class AutogradImplementation(Implementation):
    """HIPS autograd: losses in autograd.numpy, gradients by autograd.value_and_grad."""

    name = "autograd"
    framework = "autograd"
    dtypes = ("float32", "float64")
    devices = ("cpu",)
    capabilities = frozenset(Capability)

    def framework_version(self) -> str:
        return importlib.metadata.version("autograd")

    def numerics(self) -> dict[str, str]:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"numpy": np.__version__, "blas": f"{blas.get('name', '?')} {blas.get('version', '?')}"}

    # The threshold ops have no gradient to take: autograd.numpy's heaviside is numpy's.

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        Xb, w = _cast(Xb, _dtype(target)), _cast(w, _dtype(target))
        return np.heaviside(np.dot(Xb, w), 0)

    def perceptron_step(self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float, target: Target) -> np.ndarray:
        Xb, y, w = (_cast(a, _dtype(target)) for a in (Xb, y, w))
        return w + float(eta) * np.dot(y - np.heaviside(np.dot(Xb, w), 0), Xb)

    def perceptron_online(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, order: np.ndarray, target: Target
    ) -> np.ndarray:
        Xb, y, w = (_cast(a, _dtype(target)) for a in (Xb, y, w0))
        history = [w]
        for i in order:
            w = w + (y[i] - np.heaviside(np.dot(Xb[i], w), 0)) * float(eta) * Xb[i]
            history.append(w)
        return np.stack(history)

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        Xb, y, w = (_cast(a, _dtype(target)) for a in (Xb, y, w))
        loss, grad = _value_and_grad_logistic(w, Xb, y)
        return np.asarray(loss), grad

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        x, w = _cast(x, _dtype(target)), _cast(w, _dtype(target))
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            loss, grad = _value_and_grad_notebook(w, x)
        return np.asarray(loss), grad

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        Xb, y, w = (_cast(a, _dtype(target)) for a in (Xb, y, w0))
        weights, losses = [w], []
        for _ in range(steps):
            loss, grad = _value_and_grad_logistic(w, Xb, y)
            w = w - float(eta) * grad
            weights.append(w)
            losses.append(loss)
        return Trajectory(np.stack(weights), np.stack(losses))

    def mlp_forward(self, params: Params, X: np.ndarray, target: Target) -> tuple[np.ndarray, np.ndarray]:
        return _mlp_forward(_cast(tuple(params), _dtype(target)), _cast(X, _dtype(target)))

    def mlp_loss_and_grads(
        self, params: Params, X: np.ndarray, y: np.ndarray, target: Target
    ) -> tuple[np.ndarray, Params]:
        dt = _dtype(target)
        return _mlp_loss_and_grads(_cast(tuple(params), dt), _cast(X, dt), _cast(y, dt))

    def mlp_train(
        self, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> MLPTrajectory:
        dt = _dtype(target)
        return _mlp_train(_cast(tuple(params), dt), _cast(X, dt), _cast(y, dt), optimizer, steps)

    def native(self, op: str, target: Target, **inputs: Any) -> NativeOp:
        # autograd's tensors are numpy arrays: preparing is the one cast, and every op is pure.
        check_native_op(op)
        dt = _dtype(target)
        prepared = {k: _cast(tuple(v) if k == "params" else v, dt) for k, v in inputs.items()}
        fn = _NATIVE[op]
        return NativeOp(run=lambda: fn(**prepared), to_numpy=lambda result: result)
