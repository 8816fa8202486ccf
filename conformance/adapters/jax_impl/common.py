"""What the three JAX styles share: scoping, conversion, the model as pure functions, and the base class.

The model is written once, as pure functions of jax arrays and pytrees (``params`` the
canonical tuple ``(W₁, b₁, …)``); each style decides only how those functions are called
(:class:`JaxStyle` lists the hooks).

Precision is scoped per call: float64 runs under ``jax.enable_x64(True)`` and float32 under
``jax.enable_x64(False)``, so the process-wide ``jax_enable_x64`` is never changed.  jit's cache
key includes the x64 flag, the argument dtypes and shapes (so the layer sizes), the optimizer's
hyperparameters (static: Python floats folded into the graph, as a user writes them) and the static
step count, so a repeated call does not recompile, and a float32 trace is never reused for float64.
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

from gatespec.conformance.adapters.style import Style, adam_direction
from gatespec.conformance.spec.interface import BatchedRun, Capability, MLPTrajectory, NativeOp, Target, Trajectory
from gatespec.reference.mlp import SGD, Adam, Params

Tree = Any  # a pytree of jax arrays
OptState = tuple  # () for SGD, (m, v) for Adam

# Target.device → the JAX platform name that jax.devices() takes.
_PLATFORMS = {"cpu": "cpu", "cuda": "gpu"}


# ----------------------------------------------------------------------------- scope and conversion


def _device(name: str) -> jax.Device:
    if name not in _PLATFORMS:
        raise ValueError(f"device: expected one of {tuple(_PLATFORMS)}, got {name!r}")
    try:
        return jax.devices(_PLATFORMS[name])[0]
    except RuntimeError as exc:
        raise RuntimeError(f"device {name!r}: JAX has no {_PLATFORMS[name]!r} backend here ({exc})") from exc


@contextlib.contextmanager
def scope(target: Target) -> Iterator[jax.Device]:
    """x64 on exactly for float64 and the target's device as default, both restored on exit."""
    device = _device(target.device)
    with jax.enable_x64(target.dtype == "float64"), jax.default_device(device):
        yield device


def put(a: np.ndarray, target: Target, device: jax.Device) -> jax.Array:
    # Cast in numpy (a private copy, so the device buffer never aliases the caller's array);
    # must run inside scope, or device_put would truncate float64 to float32.
    return jax.device_put(np.array(a, dtype=target.np_dtype, copy=True), device)


def put_uncommitted(arrays: Params, target: Target) -> tuple[jax.Array, ...]:
    """Private copies in the target dtype on the scope's default device, uncommitted as a user's ``jnp.asarray``
    leaves them; inside :func:`scope`.

    For the optax styles (flax-nnx, equinox): on arrays committed by :func:`put`'s ``device_put(a, device)``,
    optax's ``init`` (its ``zeros_like``) goes through a host callback per leaf, every run's fresh optimizer
    (25 Adam steps on XOR: 1.10× a user's program in equinox, 1.04× in flax-nnx).
    """
    return tuple(jax.device_put(np.array(a, dtype=target.np_dtype, copy=True)) for a in arrays)


def _put_params(params: Params, target: Target, device: jax.Device) -> tuple[jax.Array, ...]:
    return tuple(put(p, target, device) for p in params)


def to_numpy(tree: Tree, target: Target) -> Tree:
    """Writable numpy copies in the target dtype, same tree structure (0-d arrays stay 0-d)."""
    return jax.tree.map(lambda a: np.array(a, dtype=target.np_dtype), tree)


def stacked(rows: list[jax.Array] | jax.Array, target: Target) -> np.ndarray:
    """A trajectory on the host: a Python loop's list of per-step arrays, or a scan's stacked array.

    Stacking on the host, not with jnp.stack: XLA compiles a k-operand concatenate afresh for
    every trajectory length, which took seconds per leaf for k = 1001.
    """
    return np.stack(jax.device_get(rows)).astype(target.np_dtype, copy=False)


def mlp_trajectory(out: tuple[tuple[Any, ...], Any], target: Target) -> MLPTrajectory:
    """A Python loop's (per parameter, its list of values; the losses) as the numpy trajectory."""
    params, losses = out
    return MLPTrajectory(params=tuple(stacked(p, target) for p in params), losses=stacked(losses, target))


def native_op(target: Target, compute: Callable[[], Any], to_numpy: Callable[[Any], Any]) -> NativeOp:
    """``compute`` run until its result is really computed, with x64 as the target needs it.

    No device scope: the inputs were committed to the target's device when prepared, and jit runs
    where its inputs are.  The x64 flag is only entered when the process's differs (a float32 op
    in a default process runs bare): entering the two scopes took 3–4 µs a call, a third of a
    jitted forward pass."""
    x64 = target.dtype == "float64"

    def run() -> Any:
        if jax.config.jax_enable_x64 == x64:
            return jax.block_until_ready(compute())
        with jax.enable_x64(x64):
            return jax.block_until_ready(compute())

    return NativeOp(run=run, to_numpy=to_numpy)


# ----------------------------------------------------------------------------- the model, pure


def _heaviside(z: jax.Array) -> jax.Array:
    return jnp.heaviside(z, 0.0)  # g(0) = 0, as the notebook's np.heaviside(z, 0)


def tlu(Xb: jax.Array, w: jax.Array) -> jax.Array:
    return _heaviside(Xb @ w)


def perceptron_step(Xb: jax.Array, y: jax.Array, w: jax.Array, eta: float) -> jax.Array:
    return w + eta * ((y - _heaviside(Xb @ w)) @ Xb)


def online_step(w: jax.Array, Xb: jax.Array, y: jax.Array, i: int | jax.Array, eta: float) -> jax.Array:
    return w + eta * (y[i] - _heaviside(jnp.dot(Xb[i], w))) * Xb[i]


def _logistic_loss(w: jax.Array, Xb: jax.Array, y: jax.Array) -> jax.Array:
    z = Xb @ w
    return jnp.sum(jax.nn.softplus(z) - y * z)


logistic_loss_and_grad = jax.value_and_grad(_logistic_loss)


def logistic_step(w: jax.Array, Xb: jax.Array, y: jax.Array, eta: float) -> tuple[jax.Array, jax.Array]:
    loss, grad = logistic_loss_and_grad(w, Xb, y)
    return w - eta * grad, loss


def notebook_loss(w: jax.Array, x: jax.Array) -> jax.Array:
    # Verbatim from the notebook's cell (there `import jax.numpy as np`): the naive form is
    # kept on purpose so the suite can show it overflowing at saturation.
    return -jnp.log(1.0 / (1 + jnp.exp(-jnp.dot(x, w))))


def _logits(params: Tree, X: jax.Array) -> jax.Array:
    h = X
    for W, b in zip(params[0:-2:2], params[1:-2:2], strict=True):
        h = jax.nn.sigmoid(h @ W + b)
    return (h @ params[-2] + params[-1])[:, 0]


def forward(params: Tree, X: jax.Array) -> tuple[jax.Array, jax.Array]:
    z = _logits(params, X)
    return z, jax.nn.sigmoid(z)


def _mlp_loss(params: Tree, X: jax.Array, y: jax.Array) -> jax.Array:
    z = _logits(params, X)
    return jnp.sum(jax.nn.softplus(z) - y * z)


mlp_loss_and_grads = jax.value_and_grad(_mlp_loss)


# ----------------------------------------------------------------------------- optimizers, pure


class _SGDHyper(NamedTuple):
    """SGD's step size as a Python float: a constant of the compiled step, as a user writes ``lr = 0.5``.

    Static, not traced: XLA's CPU loop ran the 1000-step scan 3.6× slower with η as a traced scalar
    (an argument, in the carry or scanned over) than with η folded in, for the same numbers
    (760 against 210 µs on one thread).  A new η compiles anew.
    """

    lr: float


class _AdamHyper(NamedTuple):
    """Adam's hyperparameters as Python floats, constants of the compiled step like :class:`_SGDHyper`'s η: β and
    1 − β each taken in float64 and rounded once to the target dtype where the graph meets them.

    The fields are :func:`~gatespec.conformance.adapters.style.adam_direction`'s keywords, so
    ``_asdict()`` passes them.
    """

    beta1: float
    one_minus_beta1: float
    beta2: float
    one_minus_beta2: float
    eps: float


Hyper = _SGDHyper | _AdamHyper


def _hyper(opt: SGD | Adam) -> Hyper:
    """The optimizer as a hashable tuple of floats, a static argument of the jitted step; its type picks the update."""
    if isinstance(opt, SGD):
        return _SGDHyper(float(opt.lr))
    return _AdamHyper(*(float(v) for v in (opt.beta1, 1 - opt.beta1, opt.beta2, 1 - opt.beta2, opt.eps)))


def opt_init(hyper: Hyper, params: Tree) -> OptState:
    if isinstance(hyper, _SGDHyper):
        return ()
    zeros = jax.tree.map(jnp.zeros_like, params)
    return zeros, zeros


def adam_coefficients(opt: Adam, steps: int) -> list[tuple[float, float]]:
    """(η/(1−β₁ᵗ), √(1−β₂ᵗ)) for t = 1 … steps, in Python floats as torch.optim.Adam computes them.

    Computed on the host rather than from a traced t: in float32, 1 − β₂ᵗ would be taken from
    float32(β₂), which for β₂ = 0.999 is already off by 1.3e-5 of 1 − β₂.
    """
    return [(opt.lr / (1 - opt.beta1**t), float(np.sqrt(1 - opt.beta2**t))) for t in range(1, steps + 1)]


def _opt_update(
    hyper: Hyper, params: Tree, grads: Tree, state: OptState, coef: tuple[Any, Any] | None
) -> tuple[Tree, OptState]:
    """θ′ = θ − ηg for SGD; for Adam θ′ = θ − Δ with :func:`~gatespec.conformance.adapters.style.adam_direction`'s Δ.

    ``coef`` is step t's pair from :func:`adam_coefficients` (None for SGD); ``params`` the
    canonical tuple.
    """
    if isinstance(hyper, _SGDHyper):
        return jax.tree.map(lambda p, g: p - hyper.lr * g, params, grads), state
    step_size, bc2_sqrt = coef
    updates = [
        adam_direction(g, m, v, **hyper._asdict(), step_size=step_size, bc2_sqrt=bc2_sqrt, sqrt=jnp.sqrt)
        for g, m, v in zip(grads, *state, strict=True)
    ]
    deltas, m, v = (tuple(column) for column in zip(*updates, strict=True))
    return tuple(p - d for p, d in zip(params, deltas, strict=True)), (m, v)


def mlp_step(
    params: Tree, state: OptState, coef: tuple[Any, Any] | None, X: jax.Array, y: jax.Array, hyper: Hyper
) -> tuple[Tree, OptState, jax.Array]:
    loss, grads = mlp_loss_and_grads(params, X, y)
    params, state = _opt_update(hyper, params, grads, state, coef)
    return params, state, loss


def batched_step(
    params: Tree, state: OptState, coef: tuple[Any, Any] | None, X: jax.Array, y: jax.Array, hyper: Hyper
) -> tuple[Tree, OptState, jax.Array]:
    """:func:`mlp_step` of every net: params and optimizer state mapped over axis 0, the data and Adam's coefficients
    shared."""
    return jax.vmap(lambda p, s: mlp_step(p, s, coef, X, y, hyper))(params, state)


# ----------------------------------------------------------------------------- a style: the functions under a transform


class Functions(NamedTuple):
    """The model's pure functions as one style calls them, each under that style's transform."""

    tlu: Callable[..., Any]
    perceptron_step: Callable[..., Any]
    online_step: Callable[..., Any]
    logistic_loss_and_grad: Callable[..., Any]
    logistic_step: Callable[..., Any]
    notebook_grad: Callable[..., Any]  # ∇_w of the notebook's loss; the loss itself every style calls eagerly
    forward: Callable[..., Any]
    mlp_loss_and_grads: Callable[..., Any]
    mlp_step: Callable[..., Any]
    batched_step: Callable[..., Any]


def under(transform: Callable[..., Callable[..., Any]]) -> Functions:
    """Every pure function above wrapped once by ``transform(fn, static_argnames=…)`` (``jax.jit``, or :func:`eager`).

    Once: jit's cache lives on the wrapper, so one wrapper per function is what lets a second call
    reuse the compiled code.  The optimizer's hyperparameters are static (:class:`_SGDHyper`), so a
    new η or β compiles anew, as it does for a user who writes ``lr = 0.5`` into a jitted step.
    """
    return Functions(
        tlu=transform(tlu),
        perceptron_step=transform(perceptron_step),
        online_step=transform(online_step),
        logistic_loss_and_grad=transform(logistic_loss_and_grad),
        logistic_step=transform(logistic_step),
        notebook_grad=transform(jax.grad(notebook_loss)),
        forward=transform(forward),
        mlp_loss_and_grads=transform(mlp_loss_and_grads),
        mlp_step=transform(mlp_step, static_argnames="hyper"),
        batched_step=transform(batched_step, static_argnames="hyper"),
    )


def eager(fn: Callable[..., Any], **static: Any) -> Callable[..., Any]:
    """The identity transform: ``fn`` called as it is, so JAX dispatches it op by op (nothing is static)."""
    return fn


# ----------------------------------------------------------------------------- initialisers


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


# ----------------------------------------------------------------------------- the styles' base


class JaxStyle(Style):
    """Base of the JAX styles: the pure functions under the style's ``transform``, with scoping and conversion around.

    Every numpy-facing operation and native op puts its inputs on the device inside :func:`scope`,
    calls one of :attr:`functions` (the model's pure functions, each wrapped once by
    ``transform``, :func:`under`) with jax arrays, and converts what it returns.  A style sets:

    - ``transform``: ``staticmethod(eager)`` (the default: jax-grad) or ``staticmethod(jax.jit)``
      (jax-jit); a transform is called as ``transform(fn)`` and ``transform(fn, static_argnames="hyper")``;
    - and overrides, if it runs training otherwise than as a Python loop over the transformed step,
      the drives (jax-scan: one ``lax.scan`` each):

      - ``drive_perceptron_online(Xb, y, w0, eta, order)`` → the len(order) + 1 weights, row 0 = w0;
      - ``drive_logistic_train(Xb, y, w0, eta, steps)`` → (the steps + 1 weights, the steps losses);
      - ``drive_mlp_train(params, X, y, hyper, steps, schedule)`` → whatever
        ``trajectory_to_numpy(out, start, target)`` turns into the :class:`MLPTrajectory`;
      - ``schedule(optimizer, steps, target, device)`` → Adam's per-step coefficients as the drive takes them;
      - ``drive_mlp_train_batched(params, X, y, hyper, steps, schedule)`` → (final params, the
        steps losses of shape (B,)), params with the net axis leading.

    Lists and stacked arrays are both accepted where the drives return rows.  ``mlp_init`` draws
    nets from ``jax.random`` keys, one split off per net, the same in every style.
    """

    framework: ClassVar[str] = "jax"
    devices: ClassVar[tuple[str, ...]] = ("cpu", "cuda")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)
    unsupported_reasons: ClassVar[dict[Capability, str]] = {}
    initialisers: ClassVar[tuple[str, ...]] = ("standard-normal", "keras-glorot")
    transform: ClassVar[Callable[..., Callable[..., Any]]] = staticmethod(eager)
    functions: ClassVar[Functions] = under(eager)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "transform" in vars(cls):  # a subclass that keeps its parent's transform shares its wrappers and caches
            cls.functions = under(cls.transform)

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

    # --- the drives: Python loops over the transformed steps, unless a style overrides them ------

    def drive_perceptron_online(
        self, Xb: jax.Array, y: jax.Array, w0: jax.Array, eta: float, order: np.ndarray
    ) -> list[jax.Array] | jax.Array:
        """The len(order) + 1 weights, row 0 = w0: a Python loop over the transformed :func:`online_step`."""
        ws = [w0]
        for i in order.tolist():
            ws.append(self.functions.online_step(ws[-1], Xb, y, i, eta))
        return ws

    def drive_logistic_train(
        self, Xb: jax.Array, y: jax.Array, w0: jax.Array, eta: float, steps: int
    ) -> tuple[list[jax.Array] | jax.Array, list[jax.Array] | jax.Array]:
        """(the steps + 1 weights, the steps losses): a Python loop over the transformed :func:`logistic_step`."""
        ws, losses = [w0], []
        for _ in range(steps):
            w, loss = self.functions.logistic_step(ws[-1], Xb, y, eta)
            ws.append(w)
            losses.append(loss)
        return ws, losses

    def schedule(self, opt: SGD | Adam, steps: int, target: Target, device: jax.Device) -> Any:
        """Adam's per-step coefficients as :meth:`drive_mlp_train` takes them: here a list of float pairs."""
        return None if isinstance(opt, SGD) else adam_coefficients(opt, steps)

    def drive_mlp_train(self, params: Tree, X: jax.Array, y: jax.Array, hyper: Hyper, steps: int, schedule: Any) -> Any:
        """(per parameter, its list of steps + 1 values; the losses), left unstacked for the host:
        a Python loop over the transformed :func:`mlp_step`."""
        history, losses = [params], []
        state = opt_init(hyper, params)
        for t in range(steps):
            coef = None if schedule is None else schedule[t]
            params, state, loss = self.functions.mlp_step(params, state, coef, X, y, hyper)
            history.append(params)
            losses.append(loss)
        return tuple(list(leaf) for leaf in zip(*history, strict=True)), losses

    def drive_mlp_train_batched(
        self, params: Tree, X: jax.Array, y: jax.Array, hyper: Hyper, steps: int, schedule: Any
    ) -> tuple[Tree, list[jax.Array] | jax.Array]:
        """(final params, the steps losses of shape (B,)): a Python loop over the transformed :func:`batched_step`."""
        state = opt_init(hyper, params)
        losses = []
        for t in range(steps):
            coef = None if schedule is None else schedule[t]
            params, state, loss = self.functions.batched_step(params, state, coef, X, y, hyper)
            losses.append(loss)
        return params, losses

    def trajectory_to_numpy(self, out: Any, start: Params, target: Target) -> MLPTrajectory:
        """What :meth:`drive_mlp_train` returned, as the numpy trajectory; ``start`` the initial parameters."""
        return mlp_trajectory(out, target)

    # --- the interface -----------------------------------------------------------------------

    def tlu_predict(self, Xb: np.ndarray, w: np.ndarray, target: Target) -> np.ndarray:
        with scope(target) as dev:
            return to_numpy(self.functions.tlu(put(Xb, target, dev), put(w, target, dev)), target)

    def perceptron_step(self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float, target: Target) -> np.ndarray:
        with scope(target) as dev:
            Xb_, y_, w_ = (put(a, target, dev) for a in (Xb, y, w))
            return to_numpy(self.functions.perceptron_step(Xb_, y_, w_, eta), target)

    def perceptron_online(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, order: np.ndarray, target: Target
    ) -> np.ndarray:
        with scope(target) as dev:
            Xb_, y_, w0_ = (put(a, target, dev) for a in (Xb, y, w0))
            return stacked(self.drive_perceptron_online(Xb_, y_, w0_, eta, np.asarray(order)), target)

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        with scope(target) as dev:
            Xb_, y_, w_ = (put(a, target, dev) for a in (Xb, y, w))
            return to_numpy(tuple(self.functions.logistic_loss_and_grad(w_, Xb_, y_)), target)

    def single_example_loss_and_grad(
        self, x: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        # The notebook's cell as written: the loss evaluated eagerly, its gradient under the transform.
        with scope(target) as dev:
            x_, w_ = put(x, target, dev), put(w, target, dev)
            return to_numpy((notebook_loss(w_, x_), self.functions.notebook_grad(w_, x_)), target)

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        with scope(target) as dev:
            Xb_, y_, w0_ = (put(a, target, dev) for a in (Xb, y, w0))
            weights, losses = self.drive_logistic_train(Xb_, y_, w0_, eta, steps)
            return Trajectory(weights=stacked(weights, target), losses=stacked(losses, target))

    def prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        with scope(target) as dev:
            params_, X_ = _put_params(params, target, dev), put(X, target, dev)
        compute = functools.partial(self.functions.forward, params_, X_)
        return native_op(target, compute, functools.partial(to_numpy, target=target))

    def prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        with scope(target) as dev:
            params_, X_, y_ = _put_params(params, target, dev), put(X, target, dev), put(y, target, dev)
        compute = functools.partial(self.functions.mlp_loss_and_grads, params_, X_, y_)
        return native_op(target, compute, functools.partial(to_numpy, target=target))

    def prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        params_, X_, y_, hyper, schedule = self._put_training(params, X, y, optimizer, steps, target)
        compute = functools.partial(self.drive_mlp_train, params_, X_, y_, hyper, steps, schedule)
        return native_op(target, compute, functools.partial(self.trajectory_to_numpy, start=params, target=target))

    def prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        params_, X_, y_, hyper, schedule = self._put_training(params, X, y, optimizer, steps, target)

        def convert(out: tuple[Tree, Any]) -> BatchedRun:
            final, losses = out
            return BatchedRun(params=to_numpy(tuple(final), target), losses=stacked(losses, target))

        compute = functools.partial(self.drive_mlp_train_batched, params_, X_, y_, hyper, steps, schedule)
        return native_op(target, compute, convert)

    def _put_training(
        self, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> tuple[Tree, jax.Array, jax.Array, Hyper, Any]:
        """A training run's inputs on the device: params, X, y, hyperparameters, :meth:`schedule`'s coefficients."""
        with scope(target) as dev:
            params_, X_, y_ = _put_params(params, target, dev), put(X, target, dev), put(y, target, dev)
            return params_, X_, y_, _hyper(optimizer), self.schedule(optimizer, steps, target, dev)

    def draw_initial(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        """n nets from ``jax.random.key(seed)`` split into one key per net, :func:`_init_net` vmapped over the keys."""
        with scope(target):
            keys = jax.random.split(jax.random.key(seed), n)
            return to_numpy(_init_many(keys, initialiser, sizes, target.np_dtype), target)


def _x64_inside(dtype: str) -> str:
    with scope(Target(dtype)):
        return "on" if jax.config.jax_enable_x64 else "off"
