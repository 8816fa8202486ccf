"""The notebook's plain numpy: vectorised ``np.dot``, ``np.heaviside`` and gradients derived by hand.

Written independently of :mod:`gatespec.reference` (only its optimiser and layout types are
shared).  Inputs are cast once to the target dtype and everything after stays in it: scalars
enter as Python floats, which numpy ≥ 2 (NEP 50) keeps in the array's dtype, and results are
collected with ``np.stack`` rather than stored into preallocated arrays, so an accidental
upcast would show in the returned dtype instead of being rounded away.  (Under numpy 1.x's
value-based promotion the notebook's ``1.0 / (1 + np.exp(...))`` of a float32 *scalar* is
float64, so there the float32 single-example loss comes back float64.)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from gatespec.conformance.adapters.style import Style, adam_direction
from gatespec.conformance.spec.interface import (
    BatchedRun,
    Capability,
    Known,
    MLPTrajectory,
    NativeOp,
    Target,
    Trajectory,
)
from gatespec.reference.mlp import SGD, Adam, Params


def _cast(value: Any, dt: np.dtype) -> Any:
    """Arrays and parameter tuples as fresh ``dt`` copies (the caller's arrays are never touched); others as is."""
    if isinstance(value, np.ndarray):
        return value.astype(dt)
    if isinstance(value, tuple):
        return tuple(p.astype(dt) for p in value)
    return value


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # σ(z) = exp(−softplus(−z)): the notebook's 1.0 / (1 + np.exp(-v)) overflows (and warns) in
    # exp for z ≪ 0; this form never exponentiates a positive number.
    return np.exp(-np.logaddexp(0, -z))


# ------------------------------------------------------------------ perceptron and logistic regression


def _perceptron_online(Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float, order: np.ndarray) -> np.ndarray:
    history = [w]
    for i in order:
        y_pred = np.heaviside(np.dot(Xb[i], w), 0)
        w = w + (y[i] - y_pred) * eta * Xb[i]  # a new array: earlier rows of the history stay as they were
        history.append(w)
    return np.stack(history)


def _logistic_loss_and_grad(Xb: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.dot(Xb, w)
    return np.sum(np.logaddexp(0, z) - y * z), np.dot(_sigmoid(z) - y, Xb)


def _single_example(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Kept naive on purpose (the suite reports where it saturates): inf/nan instead of warnings.
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        loss = -np.log(1.0 / (1 + np.exp(-np.dot(x, w))))
        y_pred = 1.0 / (1 + np.exp(-np.dot(x, w)))
        return np.asarray(loss), -(1 - y_pred) * x  # d/dw −log σ(w·x) = −(1 − σ(w·x)) x


# ------------------------------------------------------------------ multi-layer perceptron


def _forward(params: Params, X: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """([X, h₁, …, h_{L−1}], logits z of shape (N,))."""
    hs = [X]
    for W, b in zip(params[0:-2:2], params[1:-2:2], strict=True):
        hs.append(_sigmoid(np.dot(hs[-1], W) + b))
    return hs, (np.dot(hs[-1], params[-2]) + params[-1])[:, 0]


def _mlp_forward(params: Params, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = _forward(params, X)[1]
    return z, _sigmoid(z)


def _mlp_loss_and_grads(params: Params, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Params]:
    hs, z = _forward(params, X)
    loss = np.sum(np.logaddexp(0, z) - y * z)
    delta = (_sigmoid(z) - y)[:, None]  # ∂l/∂(pre-activation) of the output layer, (N, 1)
    grads: list[np.ndarray] = []
    for layer in range(len(params) // 2 - 1, -1, -1):
        h = hs[layer]
        grads = [np.dot(h.T, delta), np.sum(delta, axis=0), *grads]
        if layer:
            delta = np.dot(delta, params[2 * layer].T) * h * (1 - h)  # σ' = σ(1 − σ)
    return np.asarray(loss), tuple(grads)


def _adam_update(
    opt: Adam, t: int, params: Params, grads: Params, m: Params, v: Params
) -> tuple[Params, Params, Params]:
    """Step t ≥ 1 of torch.optim.Adam (ε added after √v is bias-corrected), its scalars in Python floats."""
    b1, b2 = float(opt.beta1), float(opt.beta2)
    scalars = {
        "beta1": b1,
        "one_minus_beta1": 1 - b1,
        "beta2": b2,
        "one_minus_beta2": 1 - b2,
        "step_size": float(opt.lr) / (1 - b1**t),
        "bc2_sqrt": math.sqrt(1 - b2**t),
        "eps": float(opt.eps),
    }
    steps = [adam_direction(g, mi, vi, sqrt=np.sqrt, **scalars) for g, mi, vi in zip(grads, m, v, strict=True)]
    params = tuple(p - delta for p, (delta, _, _) in zip(params, steps, strict=True))
    return params, tuple(mi for _, mi, _ in steps), tuple(vi for _, _, vi in steps)


def _update(
    opt: SGD | Adam, t: int, params: Params, grads: Params, m: Params, v: Params
) -> tuple[Params, Params, Params]:
    """Step t ≥ 1 of the optimizer: θ − ηg for SGD (its moments passed through untouched), else :func:`_adam_update`."""
    if isinstance(opt, SGD):
        return tuple(p - float(opt.lr) * g for p, g in zip(params, grads, strict=True)), m, v
    return _adam_update(opt, t, params, grads, m, v)


def _mlp_train(
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    optimizer: SGD | Adam,
    steps: int,
    loss_and_grads: Callable[[Params, np.ndarray, np.ndarray], tuple[np.ndarray, Params]] = _mlp_loss_and_grads,
) -> MLPTrajectory:
    history, losses = [params], []
    m = v = tuple(np.zeros_like(p) for p in params)
    for t in range(1, steps + 1):
        loss, grads = loss_and_grads(params, X, y)
        losses.append(loss)
        params, m, v = _update(optimizer, t, params, grads, m, v)
        history.append(params)
    return MLPTrajectory(tuple(np.stack(p) for p in zip(*history, strict=True)), np.stack(losses))


# ------------------------------------------------------------------ many nets at once


def _to_net_last(params: Params) -> Params:
    # einsum over a trailing net axis runs every elementwise op over B contiguous values:
    # ~4x faster than stacked (B, in, out) matmuls for B = 1000 nets of 2-2-1.
    return tuple(np.ascontiguousarray(np.moveaxis(p, 0, -1)) for p in params)


def _to_net_first(params: Params) -> Params:
    return tuple(np.ascontiguousarray(np.moveaxis(p, -1, 0)) for p in params)


def _batched_losses_and_grads(params: Params, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Params]:
    """Every net's loss (B,) and gradients, the net as last axis (W (in, out, B), b (out, B)), by hand."""
    hs = [np.broadcast_to(X[:, :, None], (*X.shape, params[0].shape[-1]))]  # (N, in, B)
    for W, b in zip(params[0:-2:2], params[1:-2:2], strict=True):
        hs.append(_sigmoid(np.einsum("nib,iob->nob", hs[-1], W) + b))
    z = np.einsum("nib,iob->nob", hs[-1], params[-2])[:, 0] + params[-1]  # (N, B)
    losses = np.sum(np.logaddexp(0, z) - y[:, None] * z, axis=0)
    delta = (_sigmoid(z) - y[:, None])[:, None, :]  # (N, 1, B)
    grads: list[np.ndarray] = []
    for layer in range(len(params) // 2 - 1, -1, -1):
        h = hs[layer]
        grads = [np.einsum("nib,nob->iob", h, delta), np.sum(delta, axis=0), *grads]
        if layer:
            delta = np.einsum("nob,iob->nib", delta, params[2 * layer]) * h * (1 - h)
    return losses, tuple(grads)


def _mlp_train_batched(
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    optimizer: SGD | Adam,
    steps: int,
    losses_and_grads: Callable[[Params, np.ndarray, np.ndarray], tuple[np.ndarray, Params]] = _batched_losses_and_grads,
) -> BatchedRun:
    """Every net trained at once: SGD and Adam are elementwise, so the single-net updates serve all nets."""
    params = _to_net_last(params)
    m = v = tuple(np.zeros_like(p) for p in params)
    losses = []
    for t in range(1, steps + 1):
        loss, grads = losses_and_grads(params, X, y)
        losses.append(loss)
        params, m, v = _update(optimizer, t, params, grads, m, v)
    return BatchedRun(_to_net_first(params), np.stack(losses))


def _draw(rng: np.random.Generator, initialiser: str, fan_in: int, fan_out: int, shape: tuple[int, ...]) -> np.ndarray:
    """One parameter of every net, float64, as a numpy user writes each initialiser with a Generator."""
    if initialiser == "standard-normal":
        return rng.standard_normal(shape)
    if initialiser == "torch-linear":
        bound = 1 / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape)
    if initialiser == "keras-glorot":
        limit = math.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape) if len(shape) == 3 else np.zeros(shape)
    if initialiser == "flax-lecun-normal":
        if len(shape) != 3:
            return np.zeros(shape)
        z = rng.standard_normal(shape)
        while (outside := np.abs(z) > 2.0).any():  # redrawn until inside [−2, 2]: N(0, 1) truncated there
            z[outside] = rng.standard_normal(int(outside.sum()))
        # jax's truncated_normal scaled by variance_scaling: σ = √(1/fan_in) over the truncated law's own σ
        return z * (math.sqrt(1 / fan_in) / 0.87962566103423978)
    raise ValueError(f"initialiser: no numpy recipe for {initialiser!r}")


def _mlp_init(initialiser: str, sizes: tuple[int, ...], n: int, seed: int, dt: np.dtype) -> Params:
    """n nets from ``np.random.default_rng(seed)``, each parameter drawn for all nets at once (weights, then bias)."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append(_draw(rng, initialiser, fan_in, fan_out, (n, fan_in, fan_out)).astype(dt))
        params.append(_draw(rng, initialiser, fan_in, fan_out, (n, fan_out)).astype(dt))
    return tuple(params)


# numpy 1.x's value-based promotion computes the notebook's scalar expression 1.0 / (1 + np.exp(-np.dot(x, w)))
# of a float32 0-d value in float64, so the float32 single-example loss comes back float64 (numpy 2, NEP 50,
# keeps float32).  The styles keep the notebook's expression rather than cast the result and hide the upcast.
_NUMPY1_UPCAST = "numpy 1.x promotes the notebook's float32 scalar expression to float64"
NUMPY1_DEVIATIONS: dict[str, str] = (
    {
        "test_declared_operation_returns_the_contracts_shapes_and_dtype[single-example-loss-grad-float32]": (
            _NUMPY1_UPCAST
        ),
        "test_single_example_loss_matches_reference[notebook-float32]": _NUMPY1_UPCAST,
        "test_single_example_loss_matches_reference[saturating-right-float32]": _NUMPY1_UPCAST,
    }
    if np.lib.NumpyVersion(np.__version__) < "2.0.0"
    else {}
)


class NumpyImplementation(Style):
    """Plain numpy as the notebook writes it; the MLP backward pass derived by hand.

    The losses and gradients are the five hooks below (plain functions of numpy arrays);
    autograd's style, whose arrays are numpy's, inherits everything else and swaps in autodiff
    for them.  numpy arrays are numpy's own tensors: preparing a native op is the one cast to
    the target dtype, and every op is pure.
    """

    # (Xb, y, w) -> (loss, grad); (x, w) -> (loss, grad); (params, X) -> (z, σ(z)); (params, X, y) -> (loss, grads)
    _logistic_loss_and_grad = staticmethod(_logistic_loss_and_grad)
    _single_example = staticmethod(_single_example)
    _mlp_forward = staticmethod(_mlp_forward)
    _mlp_loss_and_grads = staticmethod(_mlp_loss_and_grads)
    # (params with the net axis last, X, y) -> (losses (B,), grads): the batched run's hook.
    _batched_losses_and_grads = staticmethod(_batched_losses_and_grads)

    name = "numpy"
    framework = "numpy"
    dtypes = ("float32", "float64")
    devices = ("cpu",)
    capabilities = frozenset(Capability)
    # numpy has no layers of its own: a numpy user writes each distribution with a Generator.
    initialisers = ("standard-normal", "torch-linear", "keras-glorot", "flax-lecun-normal")
    # The notebook's single-example loss, kept as written: −log σ(w·x) evaluates σ first, so at w·x ≪ 0 σ
    # underflows to 0 and the loss is inf (the reference's softplus(−w·x) is finite): no size to bound.
    known_deviations: ClassVar[dict[str, str | Known]] = {
        "test_single_example_loss_matches_reference[saturating-wrong": (
            "naive -log(1/(1+exp(-x·w))) as the notebook's cell: overflows to inf at saturation"
        ),
        **NUMPY1_DEVIATIONS,
    }

    def framework_version(self) -> str:
        return np.__version__

    def numerics(self) -> dict[str, str]:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"blas": f"{blas.get('name', '?')} {blas.get('version', '?')}"}

    def _dtype(self, target: Target) -> np.dtype:
        self.check_target(target)
        return target.np_dtype

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        Xb, w = _cast(Xb, self._dtype(target)), _cast(w, self._dtype(target))
        return np.heaviside(np.dot(Xb, w), 0)

    def perceptron_step(self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float, target: Target) -> np.ndarray:
        Xb, y, w = (_cast(a, self._dtype(target)) for a in (Xb, y, w))
        y_pred = np.heaviside(np.dot(Xb, w), 0)
        return w + float(eta) * np.dot(y - y_pred, Xb)

    def perceptron_online(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, order: np.ndarray, target: Target
    ) -> np.ndarray:
        Xb, y, w0 = (_cast(a, self._dtype(target)) for a in (Xb, y, w0))
        return _perceptron_online(Xb, y, w0, float(eta), order)

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        Xb, y, w = (_cast(a, self._dtype(target)) for a in (Xb, y, w))
        loss, grad = self._logistic_loss_and_grad(Xb, y, w)
        return np.asarray(loss), grad

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._single_example(_cast(x, self._dtype(target)), _cast(w, self._dtype(target)))

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        Xb, y, w = (_cast(a, self._dtype(target)) for a in (Xb, y, w0))
        weights, losses = [w], []
        for _ in range(steps):
            loss, grad = self._logistic_loss_and_grad(Xb, y, w)
            w = w - float(eta) * grad
            weights.append(w)
            losses.append(loss)
        return Trajectory(np.stack(weights), np.stack(losses))

    def _op(self, fn: Callable[..., Any], target: Target, **inputs: Any) -> NativeOp:
        prepared = {k: _cast(tuple(v) if k == "params" else v, self._dtype(target)) for k, v in inputs.items()}
        return NativeOp(run=lambda: fn(**prepared), to_numpy=lambda result: result)

    def prepare_forward(self, *, target: Target, **inputs: Any) -> NativeOp:
        return self._op(self._mlp_forward, target, **inputs)

    def prepare_loss_and_grads(self, *, target: Target, **inputs: Any) -> NativeOp:
        return self._op(self._mlp_loss_and_grads, target, **inputs)

    def prepare_train(self, *, target: Target, **inputs: Any) -> NativeOp:
        return self._op(functools.partial(_mlp_train, loss_and_grads=self._mlp_loss_and_grads), target, **inputs)

    def prepare_train_batched(self, *, target: Target, **inputs: Any) -> NativeOp:
        train = functools.partial(_mlp_train_batched, losses_and_grads=self._batched_losses_and_grads)
        return self._op(train, target, **inputs)

    def draw_initial(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        return _mlp_init(initialiser, sizes, n, seed, self._dtype(target))
