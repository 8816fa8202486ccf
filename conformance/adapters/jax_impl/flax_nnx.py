"""flax-nnx: the nets as a Flax NNX user writes them, ``nnx.Linear`` layers trained by ``nnx.Optimizer`` and optax.

An ``nnx.Module`` of ``nnx.Linear`` layers (sigmoid between them, one logit out), the loss
``optax.sigmoid_binary_cross_entropy(...).sum()``, gradients by ``nnx.value_and_grad`` and a
training step under ``nnx.jit`` that calls ``optimizer.update(model, grads)``; training is a
Python loop over that step.  Many nets at once are one model of stacked layers, built and
trained under ``nnx.vmap`` (Flax's ensemble idiom); ``mlp_init`` draws such an ensemble with
nnx.Linear's own defaults (``flax-lecun-normal``: lecun_normal kernels, zero biases).

Parameters are loaded the way a checkpoint is restored: an abstract model from
``nnx.eval_shape`` (no random draw), its state filled by ``nnx.replace_by_pure_dict`` (an
``nnx.Linear`` holds kernel (in, out) and bias (out,), the canonical layout already), and a
model merged from it, a copy per run, with a fresh ``nnx.Optimizer``.  Scoping (x64 per call,
the device) and conversion are :mod:`.common`'s.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any, ClassVar

import flax
import jax
import numpy as np
import optax
from flax import nnx

from gatespec.conformance.adapters.jax_impl.common import (
    JaxStyle,
    mlp_trajectory,
    native_op,
    put_uncommitted,
    scope,
    stacked,
    to_numpy,
)
from gatespec.conformance.adapters.style import Style
from gatespec.conformance.spec.interface import BatchedRun, Capability, NativeOp, Target
from gatespec.reference import mlp
from gatespec.reference.mlp import SGD, Adam, Params

_MLP_OPS = frozenset(
    {
        Capability.MLP_FORWARD,
        Capability.MLP_LOSS_GRADS,
        Capability.MLP_TRAIN_SGD,
        Capability.MLP_TRAIN_ADAM,
        Capability.MLP_TRAIN_BATCHED,
        Capability.MLP_INIT,
        Capability.NATIVE,
    }
)
_RAW_OPS = "a Flax user writes nnx.Linear nets; the raw operations on a weight vector are jax-grad's and jax-jit's"


class MLP(nnx.Module):
    """h_l = σ(nnx.Linear_l(h_{l−1})) for the hidden layers, z = nnx.Linear_L(h_{L−1})[:, 0]."""

    def __init__(self, sizes: tuple[int, ...], *, param_dtype: Any, rngs: nnx.Rngs) -> None:
        # A tuple marked as data (a pytree in the graph), not an nnx.List (one more graph node for nnx.jit to walk
        # every call): an nnx.jit forward on XOR took 1.13× as long as with two named nnx.Linear attributes, now 1.03×.
        self.layers = nnx.data(
            tuple(nnx.Linear(i, o, param_dtype=param_dtype, rngs=rngs) for i, o in itertools.pairwise(sizes))
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers[:-1]:
            x = nnx.sigmoid(layer(x))
        return self.layers[-1](x)[:, 0]


def _loss(model: MLP, X: jax.Array, y: jax.Array) -> jax.Array:
    return optax.sigmoid_binary_cross_entropy(model(X), y).sum()


@nnx.jit
def _predict(model: MLP, X: jax.Array) -> tuple[jax.Array, jax.Array]:
    z = model(X)
    return z, nnx.sigmoid(z)


_loss_and_grads = nnx.jit(nnx.value_and_grad(_loss))


def _step(model: MLP, optimizer: nnx.Optimizer, X: jax.Array, y: jax.Array) -> jax.Array:
    """The loss at the parameters the step starts from; model and optimizer updated in place."""
    loss, grads = nnx.value_and_grad(_loss)(model, X, y)
    optimizer.update(model, grads)
    return loss


_train_step = nnx.jit(_step)
# Every net's step at once: model and optimizer split on their leading (net) axis, the data shared.
_train_step_many = nnx.jit(nnx.vmap(_step, in_axes=(0, 0, None, None)))


@functools.cache
def _tx(optimizer: SGD | Adam) -> optax.GradientTransformation:
    """optax.sgd / optax.adam with the reference's hyperparameters, one per hyperparameters.

    Cached because nnx.jit keys its cache on the optimizer's graph, which holds ``tx`` by
    identity: a fresh ``optax.adam(...)`` per run recompiled the step every run (0.8 s on XOR).
    """
    if isinstance(optimizer, SGD):
        return optax.sgd(optimizer.lr)
    return optax.adam(optimizer.lr, b1=optimizer.beta1, b2=optimizer.beta2, eps=optimizer.eps)


# ----------------------------------------------------------------------------- canonical ↔ NNX


def _pure_dict(params: Params) -> dict[str, Any]:
    """The canonical (W₁, b₁, …) as MLP's pure state dict: layers[l] = {kernel: W_l, bias: b_l}."""
    layers = zip(params[0::2], params[1::2], strict=True)
    return {"layers": {i: {"kernel": W, "bias": b} for i, (W, b) in enumerate(layers)}}


def _canonical(pure: dict[str, Any]) -> tuple[Any, ...]:
    """Inverse of :func:`_pure_dict`: a pure dict of parameters, or of their gradients, as (W₁, b₁, …)."""
    layers = pure["layers"]
    return tuple(leaf for i in range(len(layers)) for leaf in (layers[i]["kernel"], layers[i]["bias"]))


def _weights(model: MLP) -> tuple[jax.Array, ...]:
    """The model's current parameters as (W₁, b₁, …), read from its layers (no graph traversal: once per step)."""
    return tuple(array for layer in model.layers for array in (layer.kernel.get_value(), layer.bias.get_value()))


def _ensemble(sizes: tuple[int, ...], param_dtype: Any, n: int, seed: int) -> MLP:
    """``n`` MLPs as one model of stacked layers (net axis leading), Flax's ensemble idiom: the
    constructor under nnx.vmap, each net's nnx.Linear defaults (lecun_normal kernels, zero
    biases) drawn from its own key of ``jax.random.key(seed)`` split ``n`` ways."""

    def create(key: jax.Array) -> MLP:
        return MLP(sizes, param_dtype=param_dtype, rngs=nnx.Rngs(key))

    return nnx.vmap(create)(jax.random.split(jax.random.key(seed), n))


def _loaded(params: Params, target: Target, n: int | None = None) -> tuple[nnx.GraphDef, Any]:
    """(graphdef, state) of an MLP holding ``params``, or of ``n`` stacked MLPs (net axis leading).

    The checkpoint-restore idiom: an abstract model (nnx.eval_shape draws nothing) whose state
    is replaced by the given arrays; call inside :func:`~.common.scope`.
    """
    dtype = target.np_dtype
    if n is None:
        abstract = nnx.eval_shape(lambda: MLP(mlp.layer_sizes(params), param_dtype=dtype, rngs=nnx.Rngs(0)))
    else:
        sizes = mlp.layer_sizes(tuple(p[0] for p in params))
        abstract = nnx.eval_shape(lambda: _ensemble(sizes, dtype, n, 0))
    graphdef, state = nnx.split(abstract)
    nnx.replace_by_pure_dict(state, _pure_dict(put_uncommitted(params, target)))
    return graphdef, state


def _fresh(graphdef: nnx.GraphDef, state: Any, optimizer: SGD | Adam, many: bool = False) -> tuple[MLP, nnx.Optimizer]:
    """A model copied from the loaded state (a run's updates never reach ``state``) and a fresh optimizer."""
    model = nnx.merge(graphdef, state, copy=True)
    if many:
        return model, nnx.vmap(lambda m: nnx.Optimizer(m, _tx(optimizer), wrt=nnx.Param))(model)
    return model, nnx.Optimizer(model, _tx(optimizer), wrt=nnx.Param)


# ----------------------------------------------------------------------------- the style

# optax's bias correction is 1 − β**count with β a Python float and count an int32 array: under float32
# (x64 off) β is weak-typed to float32, so β̃ = float32(β) enters both powers (float64 runs keep β as given).
# Then Δ_optax / Δ_ref = ((1−β₁ᵗ)/(1−β̃₁ᵗ)) · √((1−β̃₂ᵗ)/(1−β₂ᵗ)) when ε ≪ √v̂: for β = (0.9, 0.999) at
# t = 1, 1 − 6.68e-6 (β₂ alone −6.44e-6): every first step, ≈ lr·sign(g), falls 6.7e-6·lr short.  On the
# float32 cases below that is 1.25–2.0× the float32 budget against the reference, while the reference with β̃
# in the powers reproduces flax-nnx to ≤ 0.43 of it (≤ 0.11 on all but two runs).  The other float32
# Adam cases stay inside the budget (saturated ones, β₂ = 0.9/0.99, ε ≫ √v̂ …) and are not listed.
# The deviation set adam-float32-beta-powers, here: optax's bias correction 1 − β**t takes β̃ = float32(β) in
# float32 runs: with β = (0.9, 0.999) the first step is scaled by (1−β₁)/(1−β̃₁)·√((1−β̃₂)/(1−β₂)) = 1 − 6.7e-6,
# 1.25–2.0× the float32 budget


class FlaxNNX(Style):
    """Flax NNX: an nnx.Module of nnx.Linear layers, optax through nnx.Optimizer, an nnx.jit training step."""

    name: ClassVar[str] = "flax-nnx"
    framework: ClassVar[str] = "jax"
    execution: ClassVar[str] = "nnx.jit"
    devices: ClassVar[tuple[str, ...]] = ("cpu", "cuda")
    compiled: ClassVar[bool] = True  # nnx.jit traces per shape, dtype and optimizer
    capabilities: ClassVar[frozenset[Capability]] = _MLP_OPS
    unsupported_reasons: ClassVar[dict[Capability, str]] = {
        Capability.TLU_PREDICT: _RAW_OPS,
        Capability.PERCEPTRON_STEP: _RAW_OPS,
        Capability.PERCEPTRON_ONLINE: _RAW_OPS,
        Capability.LOGISTIC_LOSS_GRAD: _RAW_OPS,
        Capability.SINGLE_EXAMPLE_LOSS_GRAD: _RAW_OPS,
        Capability.LOGISTIC_TRAIN: _RAW_OPS,
    }

    initialisers: ClassVar[tuple[str, ...]] = ("flax-lecun-normal",)  # nnx.Linear's defaults
    # Optax's β powers (the comment above the class).
    known_deviation_sets: ClassVar[tuple[str, ...]] = ("adam-float32-beta-powers",)

    def framework_version(self) -> str:
        return jax.__version__

    def numerics(self) -> dict[str, str]:
        # The JAX styles' switches (x64 scoping, matmul precision, platform), then the libraries on top.
        return JaxStyle.numerics(self) | {"flax": flax.__version__, "optax": optax.__version__}  # type: ignore[arg-type]

    def clear_caches(self) -> None:
        jax.clear_caches()  # nnx.jit compiles through jax.jit, whose caches this empties process-wide

    # --- hooks ----------------------------------------------------------------------------

    def prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        with scope(target):
            model, (X_,) = nnx.merge(*_loaded(params, target)), put_uncommitted((X,), target)
        return native_op(target, lambda: _predict(model, X_), functools.partial(to_numpy, target=target))

    def prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        with scope(target):
            model, (X_, y_) = nnx.merge(*_loaded(params, target)), put_uncommitted((X, y), target)

        def convert(out: tuple[jax.Array, nnx.State]) -> tuple[np.ndarray, Params]:
            loss, grads = out
            return to_numpy(loss, target), to_numpy(_canonical(nnx.to_pure_dict(grads)), target)

        return native_op(target, lambda: _loss_and_grads(model, X_, y_), convert)

    def prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        with scope(target):
            (graphdef, state), (X_, y_) = _loaded(params, target), put_uncommitted((X, y), target)

        def compute() -> tuple[tuple[list[jax.Array], ...], list[jax.Array]]:
            model, opt = _fresh(graphdef, state, optimizer)
            history, losses = [_weights(model)], []
            for _ in range(steps):
                losses.append(_train_step(model, opt, X_, y_))
                history.append(_weights(model))
            return tuple(list(leaf) for leaf in zip(*history, strict=True)), losses

        return native_op(target, compute, functools.partial(mlp_trajectory, target=target))

    def prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        with scope(target):
            n = params[0].shape[0]
            (graphdef, state), (X_, y_) = _loaded(params, target, n=n), put_uncommitted((X, y), target)

        def compute() -> tuple[tuple[jax.Array, ...], list[jax.Array]]:
            models, opts = _fresh(graphdef, state, optimizer, many=True)
            losses = [_train_step_many(models, opts, X_, y_) for _ in range(steps)]
            return _weights(models), losses

        def convert(out: tuple[tuple[jax.Array, ...], list[jax.Array]]) -> BatchedRun:
            final, losses = out
            return BatchedRun(params=to_numpy(final, target), losses=stacked(losses, target))

        return native_op(target, compute, convert)

    def draw_initial(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        """n nets as nnx.Linear draws them by default, in the target dtype (:func:`_ensemble`)."""
        with scope(target):
            return to_numpy(_weights(_ensemble(sizes, target.np_dtype, n, seed)), target)
