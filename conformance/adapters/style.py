"""What every built-in style shares, written once: the native dispatch and the argument checks.

A style is one way people write the nets in one framework (torch.nn with torch.optim, jax.jit,
Keras …): one module, one :class:`Style` subclass.  It writes each MLP operation once, as a
``prepare_*`` hook that puts the inputs on the framework's device and returns a
:class:`~gatespec.conformance.spec.interface.NativeOp`; the benchmarks time those ops and the
conformance suite runs them once and converts (:class:`~gatespec.conformance.spec.interface.NativeBackedMLP`),
so the timed code is the checked code.  :meth:`Style.native` checks the op, its inputs, the
target and the optimizer before any hook sees them; :meth:`Style.mlp_init` checks the
initialiser (the checks are :class:`~gatespec.conformance.spec.interface.Implementation`'s, public to
every implementation).  A style that trains many nets at once overrides ``prepare_train_batched``, and
one with initialisers of its own ``draw_initial``.

The helpers below are framework-neutral too: the logistic unit as the one-layer net it is
(:func:`logistic_as_mlp`), and torch.optim.Adam's update in operators only
(:func:`adam_direction`), which numpy arrays, TensorFlow tensors and JAX arrays all evaluate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from gatespec.conformance.spec.interface import (
    Capability,
    NativeBackedMLP,
    NativeOp,
    NotSupported,
    Target,
    Trajectory,
    check_native_op,
)
from gatespec.conformance.spec.operations import NATIVE_INPUTS
from gatespec.reference import logistic
from gatespec.reference.mlp import SGD, Adam, Params


class Style(NativeBackedMLP):
    """Base of the built-in styles: identity in class attributes, MLP operations in four hooks.

    Hooks (keyword-only; each returns a NativeOp whose ``to_numpy`` gives the numpy operation's
    result): ``prepare_forward(params, X, target)``, ``prepare_loss_and_grads(params, X, y,
    target)``, ``prepare_train(params, X, y, optimizer, steps, target)`` and, for batched
    training, ``prepare_train_batched`` (same arguments, params with the net axis leading).
    ``draw_initial(initialiser, sizes, n, seed, target)`` draws :meth:`mlp_init`'s nets.
    """

    # What a run of this style is called in reports: "eager", "jit", "scan", "graph" …
    execution: ClassVar[str] = ""

    def native(self, op: str, target: Target, **inputs: Any) -> NativeOp:
        check_native_op(op)
        if set(inputs) != NATIVE_INPUTS[op]:
            raise TypeError(f"native({op!r}): expected inputs {sorted(NATIVE_INPUTS[op])}, got {sorted(inputs)}")
        self.check_target(target)
        if "optimizer" in inputs:
            self.check_optimizer(inputs["optimizer"])
        if op == "mlp_train_batched" and Capability.MLP_TRAIN_BATCHED not in self.capabilities:
            raise NotSupported(Capability.MLP_TRAIN_BATCHED.value)
        prepare: Callable[..., NativeOp] = getattr(self, "prepare_" + op.removeprefix("mlp_"))
        return prepare(target=target, **inputs)

    def mlp_init(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        self.check_initialiser(initialiser)
        self.check_target(target)
        return self.draw_initial(initialiser, tuple(int(s) for s in sizes), int(n), int(seed), target)

    # --- hooks ----------------------------------------------------------------------------

    def prepare_forward(self, *, params: Params, X: np.ndarray, target: Target) -> NativeOp:
        raise NotSupported(Capability.MLP_FORWARD.value)

    def prepare_loss_and_grads(self, *, params: Params, X: np.ndarray, y: np.ndarray, target: Target) -> NativeOp:
        raise NotSupported(Capability.MLP_LOSS_GRADS.value)

    def prepare_train(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        raise NotSupported(Capability.MLP_TRAIN_SGD.value)

    def prepare_train_batched(
        self, *, params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int, target: Target
    ) -> NativeOp:
        raise NotSupported(Capability.MLP_TRAIN_BATCHED.value)

    def draw_initial(self, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> Params:
        raise NotSupported(Capability.MLP_INIT.value)


class LogisticAsOneLayerNet:
    """Mixin for styles whose layers carry their own bias (nn.Linear, Dense): logistic regression
    is the one-layer net on X without its bias column (:func:`logistic_as_mlp`), so its loss,
    gradient and training are that net's MLP operations, converted back to w = (W, b)."""

    def logistic_loss_and_grad(
        self, Xb: np.ndarray, y: np.ndarray, w: np.ndarray, target: Target
    ) -> tuple[np.ndarray, np.ndarray]:
        params, X = logistic_as_mlp(Xb, w)
        loss, (gW, gb) = self.mlp_loss_and_grads(params, X, y, target)  # type: ignore[attr-defined]
        return loss, mlp_as_logistic(gW, gb)

    def logistic_train(
        self, Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int, target: Target
    ) -> Trajectory:
        params, X = logistic_as_mlp(Xb, w0)
        run = self.mlp_train(params, X, y, SGD(eta), steps, target)  # type: ignore[attr-defined]
        return Trajectory(mlp_as_logistic(*run.params), run.losses)


# ----------------------------------------------------------------------------- framework-neutral helpers


# The logistic unit is the one-layer net W = w[:−1], b = w[−1:] on X′ without its bias column:
# styles whose layers carry their own bias (nn.Linear, Dense) train it as that net.
logistic_as_mlp = logistic.as_mlp
mlp_as_logistic = logistic.from_mlp


def adam_direction(
    g: Any,
    m: Any,
    v: Any,
    *,
    beta1: Any,
    one_minus_beta1: Any,
    beta2: Any,
    one_minus_beta2: Any,
    step_size: Any,
    bc2_sqrt: Any,
    eps: Any,
    sqrt: Callable[[Any], Any],
) -> tuple[Any, Any, Any]:
    """torch.optim.Adam's step t, the contract's (:class:`gatespec.reference.mlp.Adam`): (Δ, m′, v′), θ′ = θ − Δ, with

    m′ = β₁m + (1−β₁)g;  v′ = β₂v + (1−β₂)g²;  Δ = s·m′ / (√v′ / c + ε),  s = η/(1−β₁ᵗ), c = √(1−β₂ᵗ).

    Operators only, so numpy arrays, TensorFlow tensors and JAX arrays (traced or not) all run
    it with their own ``sqrt``; each style passes the scalars as it computes them (Python floats,
    or tensors rounded once in the target dtype), which is where the styles' numbers may differ.
    """
    m = beta1 * m + one_minus_beta1 * g
    v = beta2 * v + one_minus_beta2 * g * g
    return step_size * m / (sqrt(v) / bc2_sqrt + eps), m, v
