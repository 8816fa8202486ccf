"""JAX, three ways: eager ``jax.grad`` (the notebook's "Using JAX" cell), ``jax.jit`` steps, one ``lax.scan``.

The model is written once, as pure functions of jax arrays and pytrees (``params`` the
canonical tuple ``(W₁, b₁, …)``); the styles differ only in how a step is driven: an eager
Python loop, a Python loop over jitted steps, or a single jitted ``lax.scan``.  Many nets at
once (jax-jit, jax-scan) are the same step under ``jax.vmap`` over a leading net axis, and
``mlp_init`` draws them from ``jax.random`` keys, one split off per net.

Precision is scoped per call: float64 runs under ``jax.enable_x64(True)`` and float32 under
``jax.enable_x64(False)``, so the process-wide ``jax_enable_x64`` is never changed.  jit's cache
key includes the x64 flag, the argument dtypes and shapes (so the layer sizes), the optimizer's
kind (the pytree structure of its hyperparameters, which are traced scalars) and the static step
count, so a repeated call, or one with other hyperparameters, does not recompile, and a float32
trace is never reused for float64.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gatespec.reference.mlp import SGD, Adam, Params

from ..interface import (
    BatchedRun,
    Capability,
    MLPTrajectory,
    NativeBackedMLP,
    NativeOp,
    Target,
    Trajectory,
    check_native_op,
)

Tree = Any  # a pytree of jax arrays
OptState = tuple  # () for SGD, (m, v) for Adam

# Target.device → the JAX platform name that jax.devices() takes.
_PLATFORMS = {"cpu": "cpu", "cuda": "gpu"}

_NATIVE_INPUTS = {
    "mlp_forward": {"params", "X"},
    "mlp_loss_and_grads": {"params", "X", "y"},
    "mlp_train": {"params", "X", "y", "optimizer", "steps"},
    "mlp_train_batched": {"params", "X", "y", "optimizer", "steps"},
}


# ----------------------------------------------------------------------------- scope and conversion


def _device(name: str) -> jax.Device:
    if name not in _PLATFORMS:
        raise ValueError(f"device: expected one of {tuple(_PLATFORMS)}, got {name!r}")
    try:
        return jax.devices(_PLATFORMS[name])[0]
    except RuntimeError as exc:
        raise RuntimeError(f"device {name!r}: JAX has no {_PLATFORMS[name]!r} backend here ({exc})") from exc


@contextlib.contextmanager
def _scope(target: Target) -> Iterator[jax.Device]:
    """x64 on exactly for float64 and the target's device as default, both restored on exit."""
    device = _device(target.device)
    with jax.enable_x64(target.dtype == "float64"), jax.default_device(device):
        yield device


def _put(a: np.ndarray, target: Target, device: jax.Device) -> jax.Array:
    # Cast in numpy (a private copy, so the device buffer never aliases the caller's array);
    # must run inside _scope, or device_put would truncate float64 to float32.
    return jax.device_put(np.array(a, dtype=target.np_dtype, copy=True), device)


def _put_params(params: Params, target: Target, device: jax.Device) -> tuple[jax.Array, ...]:
    return tuple(_put(p, target, device) for p in params)


def _to_numpy(tree: Tree, target: Target) -> Tree:
    """Writable numpy copies in the target dtype, same tree structure (0-d arrays stay 0-d)."""
    return jax.tree.map(lambda a: np.array(a, dtype=target.np_dtype), tree)


def _stacked(rows: list[jax.Array] | jax.Array, target: Target) -> np.ndarray:
    """A trajectory on the host: a Python loop's list of per-step arrays, or a scan's stacked array.

    Stacking on the host, not with jnp.stack: XLA compiles a k-operand concatenate afresh for
    every trajectory length, which took seconds per leaf for k = 1001.
    """
    return np.stack(jax.device_get(rows)).astype(target.np_dtype, copy=False)


# ----------------------------------------------------------------------------- the model, pure


def _heaviside(z: jax.Array) -> jax.Array:
    return jnp.heaviside(z, 0.0)  # g(0) = 0, as the notebook's np.heaviside(z, 0)


def _tlu(Xb: jax.Array, w: jax.Array) -> jax.Array:
    return _heaviside(Xb @ w)


def _perceptron_step(Xb: jax.Array, y: jax.Array, w: jax.Array, eta: float) -> jax.Array:
    return w + eta * ((y - _heaviside(Xb @ w)) @ Xb)


def _online_step(w: jax.Array, Xb: jax.Array, y: jax.Array, i: int | jax.Array, eta: float) -> jax.Array:
    return w + eta * (y[i] - _heaviside(jnp.dot(Xb[i], w))) * Xb[i]


def _logistic_loss(w: jax.Array, Xb: jax.Array, y: jax.Array) -> jax.Array:
    z = Xb @ w
    return jnp.sum(jax.nn.softplus(z) - y * z)


def _logistic_step(w: jax.Array, Xb: jax.Array, y: jax.Array, eta: float) -> tuple[jax.Array, jax.Array]:
    loss, grad = jax.value_and_grad(_logistic_loss)(w, Xb, y)
    return w - eta * grad, loss


def _notebook_loss(w: jax.Array, x: jax.Array) -> jax.Array:
    # Verbatim from the notebook's cell (there `import jax.numpy as np`): the naive form is
    # kept on purpose so the suite can show it overflowing at saturation.
    return -jnp.log(1.0 / (1 + jnp.exp(-jnp.dot(x, w))))


def _logits(params: Tree, X: jax.Array) -> jax.Array:
    h = X
    for W, b in zip(params[0:-2:2], params[1:-2:2], strict=True):
        h = jax.nn.sigmoid(h @ W + b)
    return (h @ params[-2] + params[-1])[:, 0]


def _forward(params: Tree, X: jax.Array) -> tuple[jax.Array, jax.Array]:
    z = _logits(params, X)
    return z, jax.nn.sigmoid(z)


def _mlp_loss(params: Tree, X: jax.Array, y: jax.Array) -> jax.Array:
    z = _logits(params, X)
    return jnp.sum(jax.nn.softplus(z) - y * z)


_mlp_loss_and_grads = jax.value_and_grad(_mlp_loss)


class _SGDHyper(NamedTuple):
    """SGD's step size as a traced scalar, so a new lr reuses the compiled step."""

    lr: jax.Array


class _AdamHyper(NamedTuple):
    """Adam's hyperparameters as traced scalars: β and 1 − β each rounded once from float64, as
    Python floats folded into the graph would be, so a new β or ε reuses the compiled step."""

    beta1: jax.Array
    one_minus_beta1: jax.Array
    beta2: jax.Array
    one_minus_beta2: jax.Array
    eps: jax.Array


Hyper = _SGDHyper | _AdamHyper


def _hyper(opt: SGD | Adam, target: Target, device: jax.Device) -> Hyper:
    """The optimizer as a pytree of scalars in the target dtype; its type, a static structure, picks the update."""
    if isinstance(opt, SGD):
        return _SGDHyper(_put(np.array(opt.lr), target, device))
    values = (opt.beta1, 1 - opt.beta1, opt.beta2, 1 - opt.beta2, opt.eps)
    return _AdamHyper(*(_put(np.array(v), target, device) for v in values))


def _opt_init(hyper: Hyper, params: Tree) -> OptState:
    if isinstance(hyper, _SGDHyper):
        return ()
    zeros = jax.tree.map(jnp.zeros_like, params)
    return zeros, zeros


def _adam_coefficients(opt: Adam, steps: int) -> list[tuple[float, float]]:
    """(η/(1−β₁ᵗ), √(1−β₂ᵗ)) for t = 1 … steps, in Python floats as torch.optim.Adam computes them.

    Computed on the host rather than from a traced t: in float32, 1 − β₂ᵗ would be taken from
    float32(β₂), which for β₂ = 0.999 is already off by 1.3e-5 of 1 − β₂.
    """
    return [(opt.lr / (1 - opt.beta1**t), float(np.sqrt(1 - opt.beta2**t))) for t in range(1, steps + 1)]


def _opt_update(
    hyper: Hyper, params: Tree, grads: Tree, state: OptState, coef: tuple[Any, Any] | None
) -> tuple[Tree, OptState]:
    """One SGD or Adam update; Adam as reference.mlp.Adam (torch's: ε after dividing √v by √(1−β₂ᵗ)).

    ``coef`` is step t's pair from :func:`_adam_coefficients` (None for SGD).
    """
    if isinstance(hyper, _SGDHyper):
        return jax.tree.map(lambda p, g: p - hyper.lr * g, params, grads), state
    m, v = state
    step_size, bc2_sqrt = coef
    h = hyper
    m = jax.tree.map(lambda mi, g: h.beta1 * mi + h.one_minus_beta1 * g, m, grads)
    v = jax.tree.map(lambda vi, g: h.beta2 * vi + h.one_minus_beta2 * g * g, v, grads)
    params = jax.tree.map(lambda p, mi, vi: p - step_size * mi / (jnp.sqrt(vi) / bc2_sqrt + h.eps), params, m, v)
    return params, (m, v)


def _mlp_step(
    params: Tree, state: OptState, coef: tuple[Any, Any] | None, X: jax.Array, y: jax.Array, hyper: Hyper
) -> tuple[Tree, OptState, jax.Array]:
    loss, grads = _mlp_loss_and_grads(params, X, y)
    params, state = _opt_update(hyper, params, grads, state, coef)
    return params, state, loss


def _prepend(first: Tree, rest: Tree) -> Tree:
    """Row 0 = the start, then the scanned rows: the (steps + 1, …) trajectory layout."""
    return jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), first, rest)


# ----------------------------------------------------------------------------- jitted (jax-jit, jax-scan)

_tlu_jit = jax.jit(_tlu)
_perceptron_step_jit = jax.jit(_perceptron_step)
_online_step_jit = jax.jit(_online_step)
_logistic_loss_and_grad_jit = jax.jit(jax.value_and_grad(_logistic_loss))
_logistic_step_jit = jax.jit(_logistic_step)
_notebook_grad_jit = jax.jit(jax.grad(_notebook_loss))  # the notebook's `jax.jit(jax.grad(loss))`
_forward_jit = jax.jit(_forward)
_mlp_loss_and_grads_jit = jax.jit(_mlp_loss_and_grads)
_mlp_step_jit = jax.jit(_mlp_step)


@jax.jit
def _online_scan(Xb: jax.Array, y: jax.Array, w0: jax.Array, eta: float, order: jax.Array) -> jax.Array:
    def body(w: jax.Array, i: jax.Array) -> tuple[jax.Array, jax.Array]:
        w = _online_step(w, Xb, y, i, eta)
        return w, w

    _, ws = jax.lax.scan(body, w0, order)
    return _prepend(w0, ws)


@functools.partial(jax.jit, static_argnames="steps")
def _logistic_scan(Xb: jax.Array, y: jax.Array, w0: jax.Array, eta: float, steps: int) -> tuple[jax.Array, jax.Array]:
    def body(w: jax.Array, _: None) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        w, loss = _logistic_step(w, Xb, y, eta)
        return w, (w, loss)

    _, (ws, losses) = jax.lax.scan(body, w0, None, length=steps)
    return _prepend(w0, ws), losses


@functools.partial(jax.jit, static_argnames="steps")
def _mlp_scan(params: Tree, X: jax.Array, y: jax.Array, hyper: Hyper, steps: int, schedule: Tree) -> jax.Array:
    """The run as (steps, P + 1) rows: after step t, every parameter raveled in canonical order, then
    the loss at step t's start (:func:`_unpack_rows` takes them apart on the host).

    One packed output rather than one per parameter: XLA's CPU loop writes each scan output
    with its own dynamic-update-slice per step, and nine of them tripled the cost of the step
    itself (1000 float32 XOR steps on one thread: 1.47 ms as nine outputs, 0.29 ms packed).
    """

    def body(carry: tuple[Tree, OptState], coef: Tree) -> tuple[tuple[Tree, OptState], jax.Array]:
        params, state, loss = _mlp_step(*carry, coef, X, y, hyper)
        return (params, state), jnp.concatenate([p.ravel() for p in params] + [loss[None]])

    _, rows = jax.lax.scan(body, (params, _opt_init(hyper, params)), schedule, length=steps)
    return rows


def _unpack_rows(rows: jax.Array, start: Params, target: Target) -> MLPTrajectory:
    """:func:`_mlp_scan`'s rows and the starting parameters as the (steps + 1, …) trajectory."""
    rows = np.asarray(jax.device_get(rows), dtype=target.np_dtype)
    params, offset = [], 0
    for p0 in start:
        size = int(np.prod(p0.shape))
        after = rows[:, offset : offset + size].reshape(len(rows), *p0.shape)
        params.append(np.concatenate([np.asarray(p0, dtype=target.np_dtype)[None], after]))
        offset += size
    return MLPTrajectory(params=tuple(params), losses=rows[:, offset].copy())


# ----------------------------------------------------------------------------- many nets: vmap over a leading axis


def _batched_step(
    params: Tree, state: OptState, coef: tuple[Any, Any] | None, X: jax.Array, y: jax.Array, hyper: Hyper
) -> tuple[Tree, OptState, jax.Array]:
    """:func:`_mlp_step` of every net: params and optimizer state mapped over axis 0, data and coefficients shared."""
    return jax.vmap(lambda p, s: _mlp_step(p, s, coef, X, y, hyper))(params, state)


_batched_step_jit = jax.jit(_batched_step)


@functools.partial(jax.jit, static_argnames="steps")
def _batched_scan(
    params: Tree, X: jax.Array, y: jax.Array, hyper: Hyper, steps: int, schedule: Tree
) -> tuple[Tree, jax.Array]:
    """(final params, losses (steps, B)): the vmapped step scanned, only the per-step losses as output."""

    def body(carry: tuple[Tree, OptState], coef: Tree) -> tuple[tuple[Tree, OptState], jax.Array]:
        params, state, losses = _batched_step(*carry, coef, X, y, hyper)
        return (params, state), losses

    (final, _), losses = jax.lax.scan(body, (params, _opt_init(hyper, params)), schedule, length=steps)
    return final, losses


def _init_net(key: jax.Array, initialiser: str, sizes: tuple[int, ...], dtype: Any) -> Tree:
    """One net's (W₁, b₁, …) from ``key``: jax.random.normal for every parameter, or
    ``jax.nn.initializers.glorot_uniform`` (Keras Dense's Glorot) kernels with zero biases."""
    keys = iter(jax.random.split(key, 2 * (len(sizes) - 1)))
    params: list[jax.Array] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        k_weight, k_bias = next(keys), next(keys)
        if initialiser == "standard-normal":
            weight = jax.random.normal(k_weight, (fan_in, fan_out), dtype)
            params += [weight, jax.random.normal(k_bias, (fan_out,), dtype)]
        else:
            kernel = jax.nn.initializers.glorot_uniform()(k_weight, (fan_in, fan_out), dtype)
            params += [kernel, jnp.zeros((fan_out,), dtype)]
    return tuple(params)


# One compiled call: eager vmap compiled each of the ~20 primitives on its own (5 s on first use).
_init_many = jax.jit(jax.vmap(_init_net, in_axes=(0, None, None, None)), static_argnums=(1, 2, 3))


# ----------------------------------------------------------------------------- implementations


class _JaxImplementation(NativeBackedMLP):
    """Conversion, scoping and the numpy-facing operations; subclasses pick how steps are run."""

    framework: ClassVar[str] = "jax"
    devices: ClassVar[tuple[str, ...]] = ("cpu", "cuda")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)
    unsupported_reasons: ClassVar[dict[Capability, str]] = {}
    execution: ClassVar[str] = ""
    initialisers: ClassVar[tuple[str, ...]] = ("standard-normal", "keras-glorot")

    # Single operations on device arrays; staticmethod so a jitted function can be a hook.
    _tlu: ClassVar[Callable[..., Any]]
    _perceptron_step: ClassVar[Callable[..., Any]]
    _logistic_loss_and_grad: ClassVar[Callable[..., Any]]
    _forward: ClassVar[Callable[..., Any]]
    _mlp_loss_and_grads: ClassVar[Callable[..., Any]]
    # Steps driven by the Python loops below.
    _online_step: ClassVar[Callable[..., Any]]
    _logistic_step: ClassVar[Callable[..., Any]]
    _mlp_step: ClassVar[Callable[..., Any]]

    def framework_version(self) -> str:
        return jax.__version__

    def numerics(self) -> dict[str, str]:
        inside = {dtype: _x64_inside(dtype) for dtype in ("float32", "float64")}
        return {
            "x64": f"float32 calls {inside['float32']}, float64 calls {inside['float64']} "
            f"(scoped; global jax_enable_x64={jax.config.jax_enable_x64})",
            "matmul_precision": str(jax.config.jax_default_matmul_precision or "default"),
            "platform": jax.default_backend(),
            "execution": self.execution,
        }

    # --- training drivers: Python loops, overridden by jax-scan ------------------------------

    def _perceptron_online(
        self, Xb: jax.Array, y: jax.Array, w0: jax.Array, eta: float, order: np.ndarray
    ) -> list[jax.Array]:
        ws = [w0]
        for i in order.tolist():
            ws.append(self._online_step(ws[-1], Xb, y, i, eta))
        return ws

    def _logistic_train(
        self, Xb: jax.Array, y: jax.Array, w0: jax.Array, eta: float, steps: int
    ) -> tuple[list[jax.Array], list[jax.Array]]:
        ws, losses = [w0], []
        for _ in range(steps):
            w, loss = self._logistic_step(ws[-1], Xb, y, eta)
            ws.append(w)
            losses.append(loss)
        return ws, losses

    def _schedule(self, opt: SGD | Adam, steps: int, target: Target, device: jax.Device) -> Any:
        """Adam's per-step coefficients as the training driver takes them: here a list of float pairs."""
        return None if isinstance(opt, SGD) else _adam_coefficients(opt, steps)

    def _mlp_train(
        self, params: Tree, X: jax.Array, y: jax.Array, hyper: Hyper, steps: int, schedule: Any
    ) -> tuple[tuple[list[jax.Array], ...], list[jax.Array]]:
        """(per parameter, its list of steps + 1 values; the losses), left unstacked for the host."""
        history, losses = [params], []
        state = _opt_init(hyper, params)
        for t in range(steps):
            coef = None if schedule is None else schedule[t]
            params, state, loss = self._mlp_step(params, state, coef, X, y, hyper)
            history.append(params)
            losses.append(loss)
        return tuple(list(leaf) for leaf in zip(*history, strict=True)), losses

    # --- single-example loss: the notebook's cell -------------------------------------------

    def _single_example(self, x: jax.Array, w: jax.Array) -> tuple[jax.Array, jax.Array]:
        raise NotImplementedError

    # --- the interface -----------------------------------------------------------------------

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        with _scope(target) as dev:
            return _to_numpy(self._tlu(_put(Xb, target, dev), _put(w, target, dev)), target)

    def perceptron_step(self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float, target: Target) -> np.ndarray:
        with _scope(target) as dev:
            Xb_, y_, w_ = (_put(a, target, dev) for a in (Xb, y, w))
            return _to_numpy(self._perceptron_step(Xb_, y_, w_, eta), target)

    def perceptron_online(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, order: np.ndarray, target: Target
    ) -> np.ndarray:
        with _scope(target) as dev:
            Xb_, y_, w0_ = (_put(a, target, dev) for a in (Xb, y, w0))
            return _stacked(self._perceptron_online(Xb_, y_, w0_, eta, np.asarray(order)), target)

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        with _scope(target) as dev:
            Xb_, y_, w_ = (_put(a, target, dev) for a in (Xb, y, w))
            return _to_numpy(tuple(self._logistic_loss_and_grad(w_, Xb_, y_)), target)

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        with _scope(target) as dev:
            return _to_numpy(self._single_example(_put(x, target, dev), _put(w, target, dev)), target)

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        with _scope(target) as dev:
            Xb_, y_, w0_ = (_put(a, target, dev) for a in (Xb, y, w0))
            weights, losses = self._logistic_train(Xb_, y_, w0_, eta, steps)
            return Trajectory(weights=_stacked(weights, target), losses=_stacked(losses, target))

    def _trajectory_to_numpy(self, out: Any, start: Params, target: Target) -> MLPTrajectory:
        """What :meth:`_mlp_train` returned, as the numpy trajectory; ``start`` the initial parameters."""
        return _mlp_trajectory(out, target)

    def native(self, op: str, target: Target, **inputs: Any) -> NativeOp:
        check_native_op(op)
        if set(inputs) != _NATIVE_INPUTS[op]:
            raise TypeError(f"native({op!r}): expected inputs {sorted(_NATIVE_INPUTS[op])}, got {sorted(inputs)}")
        if op in ("mlp_train", "mlp_train_batched") and not isinstance(inputs["optimizer"], (SGD, Adam)):
            raise ValueError(f"optimizer: expected reference.mlp.SGD or Adam, got {inputs['optimizer']!r}")
        if op == "mlp_train_batched":
            return self._prepare_train_batched(target, **inputs)
        with _scope(target) as dev:
            params = _put_params(inputs["params"], target, dev)
            X = _put(inputs["X"], target, dev)
            y = _put(inputs["y"], target, dev) if "y" in inputs else None
            if op == "mlp_train":
                opt, steps = inputs["optimizer"], inputs["steps"]
                hyper, schedule = _hyper(opt, target, dev), self._schedule(opt, steps, target, dev)
        if op == "mlp_forward":
            compute: Callable[[], Any] = functools.partial(self._forward, params, X)
            to_numpy: Callable[[Any], Any] = functools.partial(_to_numpy, target=target)
        elif op == "mlp_loss_and_grads":
            compute = functools.partial(self._mlp_loss_and_grads, params, X, y)
            to_numpy = functools.partial(_to_numpy, target=target)
        else:
            compute = functools.partial(self._mlp_train, params, X, y, hyper, steps, schedule)
            to_numpy = functools.partial(self._trajectory_to_numpy, start=inputs["params"], target=target)

        def run() -> Any:
            with _scope(target):
                return jax.block_until_ready(compute())

        return NativeOp(run=run, to_numpy=to_numpy)

    # --- many nets ---------------------------------------------------------------------------

    def mlp_init(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        """n nets from ``jax.random.key(seed)`` split into one key per net, :func:`_init_net` vmapped over the keys."""
        if initialiser not in self.initialisers:
            raise ValueError(f"initialiser: {self.name} draws {self.initialisers}, got {initialiser!r}")
        with _scope(target):
            keys = jax.random.split(jax.random.key(seed), n)
            return _to_numpy(_init_many(keys, initialiser, tuple(sizes), target.np_dtype), target)

    def _mlp_train_batched(
        self, params: Tree, X: jax.Array, y: jax.Array, hyper: Hyper, steps: int, schedule: Any
    ) -> tuple[Tree, Any]:
        """(final params, losses): a Python loop over the jitted vmapped step; jax-scan scans it."""
        state = _opt_init(hyper, params)
        losses = []
        for t in range(steps):
            coef = None if schedule is None else schedule[t]
            params, state, loss = _batched_step_jit(params, state, coef, X, y, hyper)
            losses.append(loss)
        return params, losses

    def _prepare_train_batched(
        self, target: Target, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int
    ) -> NativeOp:
        with _scope(target) as dev:
            params_, X_, y_ = _put_params(params, target, dev), _put(X, target, dev), _put(y, target, dev)
            hyper, schedule = _hyper(optimizer, target, dev), self._schedule(optimizer, steps, target, dev)

        def run() -> Any:
            with _scope(target):
                return jax.block_until_ready(self._mlp_train_batched(params_, X_, y_, hyper, steps, schedule))

        def to_numpy(out: tuple[Tree, Any]) -> BatchedRun:
            final, losses = out
            return BatchedRun(params=_to_numpy(tuple(final), target), losses=_stacked(losses, target))

        return NativeOp(run=run, to_numpy=to_numpy)


def _x64_inside(dtype: str) -> str:
    with _scope(Target(dtype)):
        return "on" if jax.config.jax_enable_x64 else "off"


def _mlp_trajectory(out: tuple[tuple[Any, ...], Any], target: Target) -> MLPTrajectory:
    params, losses = out
    return MLPTrajectory(params=tuple(_stacked(p, target) for p in params), losses=_stacked(losses, target))


class JaxGrad(_JaxImplementation):
    """Eager jax.numpy with jax.grad / jax.value_and_grad and Python training loops."""

    name: ClassVar[str] = "jax-grad"
    execution: ClassVar[str] = "eager"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability) - {Capability.MLP_TRAIN_BATCHED}
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.MLP_TRAIN_BATCHED: "eager jax.grad dispatches op by op: 1000 steps take 13–34 s a run, so the "
        "1000-net statistics would take minutes; jax-jit and jax-scan vmap the same step",
    }

    _tlu = staticmethod(_tlu)
    _perceptron_step = staticmethod(_perceptron_step)
    _logistic_loss_and_grad = staticmethod(jax.value_and_grad(_logistic_loss))
    _forward = staticmethod(_forward)
    _mlp_loss_and_grads = staticmethod(_mlp_loss_and_grads)
    _online_step = staticmethod(_online_step)
    _logistic_step = staticmethod(_logistic_step)
    _mlp_step = staticmethod(_mlp_step)

    def _single_example(self, x: jax.Array, w: jax.Array) -> tuple[jax.Array, jax.Array]:
        return _notebook_loss(w, x), jax.grad(_notebook_loss)(w, x)


class JaxJit(_JaxImplementation):
    """Jitted operations, and training as a Python loop over a jitted step."""

    name: ClassVar[str] = "jax-jit"
    execution: ClassVar[str] = "jit"
    compiled: ClassVar[bool] = True

    def clear_caches(self) -> None:
        jax.clear_caches()  # every jit's trace and executable caches, process-wide

    _tlu = staticmethod(_tlu_jit)
    _perceptron_step = staticmethod(_perceptron_step_jit)
    _logistic_loss_and_grad = staticmethod(_logistic_loss_and_grad_jit)
    _forward = staticmethod(_forward_jit)
    _mlp_loss_and_grads = staticmethod(_mlp_loss_and_grads_jit)
    _online_step = staticmethod(_online_step_jit)
    _logistic_step = staticmethod(_logistic_step_jit)
    _mlp_step = staticmethod(_mlp_step_jit)

    def _single_example(self, x: jax.Array, w: jax.Array) -> tuple[jax.Array, jax.Array]:
        # The notebook's cell as written: the loss evaluated eagerly, the gradient jitted.
        return _notebook_loss(w, x), _notebook_grad_jit(w, x)


class JaxScan(JaxJit):
    """As jax-jit, but each training run is one jitted lax.scan returning the whole trajectory."""

    name: ClassVar[str] = "jax-scan"
    execution: ClassVar[str] = "jit + lax.scan"

    def _perceptron_online(
        self, Xb: jax.Array, y: jax.Array, w0: jax.Array, eta: float, order: np.ndarray
    ) -> jax.Array:
        return _online_scan(Xb, y, w0, eta, jnp.asarray(order, dtype=jnp.int32))

    def _logistic_train(
        self, Xb: jax.Array, y: jax.Array, w0: jax.Array, eta: float, steps: int
    ) -> tuple[jax.Array, jax.Array]:
        return _logistic_scan(Xb, y, w0, eta, steps)

    def _schedule(self, opt: SGD | Adam, steps: int, target: Target, device: jax.Device) -> Any:
        """The coefficients as two (steps,) device arrays, scanned over with the steps."""
        if isinstance(opt, SGD):
            return None
        coefs = np.array(_adam_coefficients(opt, steps))
        return _put(coefs[:, 0], target, device), _put(coefs[:, 1], target, device)

    def _mlp_train(
        self, params: Tree, X: jax.Array, y: jax.Array, hyper: Hyper, steps: int, schedule: Any
    ) -> jax.Array:
        return _mlp_scan(params, X, y, hyper, steps, schedule)

    def _mlp_train_batched(
        self, params: Tree, X: jax.Array, y: jax.Array, hyper: Hyper, steps: int, schedule: Any
    ) -> tuple[Tree, jax.Array]:
        return _batched_scan(params, X, y, hyper, steps, schedule)

    def _trajectory_to_numpy(self, out: jax.Array, start: Params, target: Target) -> MLPTrajectory:
        return _unpack_rows(out, start, target)
