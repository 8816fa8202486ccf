"""Every conformance check, written once: what it runs, on which cases, compared with what, within which budget.

A check against the reference is a builder, ``(impl, case, dtype) → Vector``: the operation's
arguments and the comparisons of its result (the reference's float64 values, each with its
tolerance and derivation).  :func:`run` calls the implementation's operation with the vector's
arguments and makes the comparisons; ``gatespec export`` serialises the same vectors (``impl``
then a stand-in named ``*``, the suite's own budgets); the benchmarks hold their results to the
same builders.  Checks that compare an implementation with itself (metamorphic relations, central
differences of its own loss) or with a law (initialisers, convergence statistics) are code,
registered alike.  :data:`CHECKS` holds them all, in the order the suite collects them; the
suite's test modules turn each entry into one parametrized test, ``test_NAME``.

Nothing here imports pytest: a check that does not apply raises :class:`Skip`, which the suite
turns into a skip with the same reason.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from gatespec.conformance.spec import cases as C
from gatespec.conformance.spec import generated as G
from gatespec.conformance.spec import tolerances as T
from gatespec.conformance.spec.compare import (
    assert_close,
    assert_close_params,
    assert_equal_exact,
    central_gradient,
    param_name,
    zip_params,
)
from gatespec.conformance.spec.interface import Capability, MLPTrajectory, Target
from gatespec.conformance.spec.operations import OPERATIONS, named_results, optimizer_capability
from gatespec.reference import convergence, init, logistic, mlp, perceptron
from gatespec.reference.mlp import SGD, Adam, Params

Cap = Capability


class Skip(Exception):
    """The check does not apply to this implementation, case or dtype; ``str()`` is the reason."""


def require(impl, capability: Capability, dtype: str | None = None) -> None:
    """:class:`Skip`, with the implementation's reason, when it does not declare ``capability`` (in ``dtype``)."""
    if not impl.supports(capability, dtype):
        reason = impl.unsupported_reasons.get(capability, "no reason given")
        where = f" in {dtype}" if dtype is not None and impl.supports(capability) else ""
        raise Skip(f"{impl.name} does not declare {capability.value}{where}: {reason}")


def is_mlp(case) -> bool:
    return isinstance(case, (C.MLPCase, C.BatchedCase))


def param_id(name: str, case, dtype: str | None, device: str) -> str:
    """The parameters' id of a test of implementation ``name``: ``NAME-case-dtype``, ``-DEVICE`` off the CPU."""
    ids = [name]
    if case is not None:
        ids.append(case.id)
    if dtype is not None:
        ids.append(dtype if device == "cpu" else f"{dtype}-{device}")
    return "-".join(ids)


def stand_in(name: str = "*") -> SimpleNamespace:
    """What a builder reads of an implementation, for one that is not there: its ``name`` (tolerances.OVERRIDES;
    "*" has none), no slow eager prefix, nothing compiled.  The export's, and the benchmarks' whole runs."""
    return SimpleNamespace(name=name, slow_eager="", compiled=False)


def core_only(impl, case) -> None:
    """:class:`Skip` a generated case outside generated.CORE for a style that pays seconds per new shape."""
    if case.origin == "generated" and case not in G.CORE and (impl.compiled or impl.slow_eager):
        how = "traces and compiles" if impl.compiled else "dispatches op by op, compiling each op"
        raise Skip(
            f"{impl.name} {how} per net shape and dtype (seconds a case): it runs generated.CORE, every level of "
            "every factor once; the full covering design runs on the styles that do not (numpy, autograd, torch)"
        )


# ----------------------------------------------------------------------------- what a vector holds


@dataclass(frozen=True, eq=False)
class Compare:
    """One comparison: the result at ``path`` against ``expected``.

    ``how``: "close" (|actual − expected| ≤ atol + rtol·|expected|), "exact" (equal in value) or
    "classes" (the truth table (Xb·w > 0) of the weights w at ``path``, in float64, equals the labels).
    ``finite``: where set, the value must first be finite everywhere (the message names it so).
    """

    path: tuple[str | int, ...]
    quantity: str
    expected: Any
    tol: T.Tolerance | None
    how: str
    finite: str = ""


@dataclass(frozen=True, eq=False)
class Vector:
    """An operation's arguments, in its signature's order, and the comparisons of its result."""

    args: dict[str, Any]
    compares: tuple[Compare, ...]


def close(path: tuple, quantity: str, expected, tol: T.Tolerance, finite: str = "") -> Compare:
    return Compare(path, quantity, expected, tol, "close", finite)


def exact(path: tuple, quantity: str, expected) -> Compare:
    return Compare(path, quantity, expected, None, "exact")


def classes(path: tuple, quantity: str, labels) -> Compare:
    return Compare(path, quantity, labels, None, "classes")


def gates_predict(Xb: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The class a logistic unit predicts, p > ½ ⇔ X′w > 0, in float64."""
    return (Xb @ np.asarray(w, dtype=np.float64) > 0).astype(np.float64)


def _finite(x, impl, case, quantity: str) -> None:
    x = np.asarray(x)
    if not np.all(np.isfinite(x)):
        raise AssertionError(f"{impl.name} / {case.id} / {quantity}: non-finite values at |z| ≫ 30:\n{x!r}")


def _at(named: dict[str, Any], path: tuple) -> Any:
    value = named[path[0]]
    for i in path[1:]:
        value = value[i]
    return value


def compare(impl, case, target: Target, vector: Vector, named: dict[str, Any]) -> None:
    """Every comparison of ``vector`` on the result ``named`` (:func:`operations.named_results`), in order.

    A list result (params, grads) must first hold as many arrays as the vector compares; values that must be
    finite are checked before any comparison, as a non-finite result is the failure to name.
    """
    counts: dict[str, int] = {}
    for c in vector.compares:
        if len(c.path) > 1 and c.path[0] in ("params", "grads"):
            counts[c.path[0]] = max(counts.get(c.path[0], 0), c.path[1] + 1)
    for name, n in counts.items():
        zip_params(impl, case, "gradients" if name == "grads" else "parameters", named[name], range(n))
    for c in vector.compares:
        if c.finite:
            _finite(_at(named, c.path), impl, case, c.finite)
    dt = target.dtype
    for c in vector.compares:
        actual = _at(named, c.path)
        if c.how == "close":
            assert_close(actual, c.expected, tol=c.tol, impl=impl, case=case, quantity=c.quantity, dtype=dt)
        elif c.how == "exact":
            assert_equal_exact(actual, c.expected, impl=impl, case=case, quantity=c.quantity, dtype=dt)
        else:
            learned = gates_predict(vector.args["Xb"], actual)
            assert_equal_exact(learned, c.expected, impl=impl, case=case, quantity=c.quantity)


def call(impl, operation: str, vector: Vector, target: Target) -> Any:
    """The implementation's answer to the vector: ``impl.OPERATION(*args, target)``; a training run is shared (cached)
    with the checks that read the same run (the learned truth table and the float32 check read the trajectory
    check's)."""
    if operation == "mlp_train":
        a = vector.args
        return _mlp_run(impl, a["params"], a["X"], a["y"], a["optimizer"], a["steps"], target)
    return getattr(impl, operation)(*vector.args.values(), target)


_RUNS: dict[tuple, MLPTrajectory] = {}


def _mlp_run(impl, params, X, y, optimizer, steps: int, target: Target) -> MLPTrajectory:
    # Keyed by the arrays' identity: a case's arrays are built once and never written (cases.py).
    key = (impl, *map(id, params), id(X), id(y), optimizer, steps, target)
    if key not in _RUNS:
        if len(_RUNS) >= 64:
            _RUNS.pop(next(iter(_RUNS)))
        _RUNS[key] = impl.mlp_train(params, X, y, optimizer, steps, target)
    return _RUNS[key]


# ----------------------------------------------------------------------------- budgets


def bounds_on(case, X: np.ndarray, y: np.ndarray) -> T.ErrorBounds:
    """tolerances.mlp_error_bounds of the case's net (or logistic unit, X then with its bias column) on (X, y)."""
    if is_mlp(case):
        return T.mlp_error_bounds(case.params, X, y)
    params, X_ = logistic.as_mlp(X, case.w)
    return T.mlp_error_bounds(params, X_, y)


@functools.lru_cache(maxsize=256)
def bounds(case) -> T.ErrorBounds:
    """The running error analysis of the case on its own gate."""
    g = case.data
    return bounds_on(case, g.X if is_mlp(case) else g.Xb, g.y)


def _logistic_grad_bound(case) -> np.ndarray:
    return logistic.from_mlp(*bounds(case).grads)


@functools.lru_cache(maxsize=256)
def _spread(case, optimizer, steps: int, dtype: str) -> T.TrajectorySpread:
    """The trajectory spread (tolerances.trajectory_spread) of ``steps`` of ``optimizer`` from the case's start."""
    g = case.data
    if is_mlp(case):
        return T.trajectory_spread(case.params, g.X, g.y, optimizer, steps, dtype)
    params, X = logistic.as_mlp(g.Xb, case.w)
    return T.trajectory_spread(params, X, g.y, optimizer, steps, dtype)


def budget(name: str, case, optimizer, steps: int, dtype: str, total: int | None = None):
    """Per-parameter and loss tolerances for the first ``steps`` of a ``total``-step run (default: ``steps``)."""
    return _spread(case, optimizer, total or steps, dtype).budget(name, steps)


def _logistic_budget(name: str, case, steps: int, dtype: str) -> tuple[T.Tolerance, T.Tolerance]:
    """(weights, losses) budgets of a gradient-descent run: the one-layer net's spread, W and b joined as w."""
    spread = _spread(case, SGD(case.eta), steps, dtype)
    W, b = (p[: steps + 1] for p in spread.params)
    weights = T.tolerance(name, "trajectory", dtype, spread=logistic.from_mlp(W, b))
    return weights, T.tolerance(name, "trajectory", dtype, spread=spread.losses[:steps])


@functools.lru_cache(maxsize=64)
def _mlp_reference(case, optimizer: SGD | Adam, steps: int) -> MLPTrajectory:
    return mlp.train(case.params, case.data.X, case.data.y, optimizer, steps)


def steps_for(impl, case) -> int:
    """The steps of the case's run the implementation runs: all, or a slow eager style's prefix (``slow_eager``)."""
    return min(case.steps, case.eager_steps) if impl.slow_eager else case.steps


# ----------------------------------------------------------------------------- builders: one per check
#
# Each docstring's first paragraph is what the export says the check compares.


def threshold_predictions(impl, case, dtype: str) -> Vector:
    """ŷ = g(X′w), Heaviside with g(0) = 0."""
    g = case.data
    return Vector({"Xb": g.Xb, "w": case.w}, (exact(("y",), "predictions g(X′w)", perceptron.predict(g.Xb, case.w)),))


def perceptron_batch_step(impl, case, dtype: str) -> Vector:
    """w + η (y − g(X′w))ᵀ X′ with η = ½."""
    g, eta = case.data, C.PERCEPTRON_ETA
    desired = perceptron.batch_step(g.Xb, g.y, case.w, eta)
    return Vector({"Xb": g.Xb, "y": g.y, "w": case.w, "eta": eta}, (exact(("w",), "perceptron batch step", desired),))


def _online(g, w0: np.ndarray, order: np.ndarray, quantity: str) -> Vector:
    eta = C.PERCEPTRON_ETA
    desired = perceptron.train_online(g.Xb, g.y, w0, eta, order).weights
    args = {"Xb": g.Xb, "y": g.y, "w0": w0, "eta": eta, "order": order}
    return Vector(args, (exact(("w",), quantity, desired),))


def perceptron_online_trajectory(impl, case, dtype: str) -> Vector:
    """Rosenblatt's updates in the case's random order from its w."""
    return _online(case.data, case.w, case.order, "online perceptron weights")


def perceptron_learning_order(case) -> tuple[np.ndarray, int]:
    """The cyclic order the learning check runs from w = 0, and its epochs: one full epoch past the reference's
    convergence for a separable gate, 12 epochs otherwise."""
    g = case.data
    n = len(g.y)
    if case.gate_name in C.SEPARABLE:
        w0 = np.zeros(g.Xb.shape[1])
        order = perceptron.cyclic_order(n, 400)
        converged_at = perceptron.train_online(g.Xb, g.y, w0, C.PERCEPTRON_ETA, order).converged_at
        epochs = converged_at // n + 2
    else:
        epochs = 12
    return perceptron.cyclic_order(n, epochs), epochs


def perceptron_learns(impl, case, dtype: str) -> Vector:
    """From w = 0 in cyclic order: the run equals the reference's, so it realises exactly the separable gates."""
    g = case.data
    order, epochs = perceptron_learning_order(case)
    return _online(g, np.zeros(g.Xb.shape[1]), order, f"weights over {epochs} cyclic epochs")


def _perceptron_realises(impl, case, target: Target, named: dict[str, Any]) -> None:
    """Rosenblatt's rule cannot move a separating w: the run's last weights realise a separable gate (it lasts one
    epoch past the reference's convergence), and no weights it visits realise a non-separable one."""
    g = case.data
    _, epochs = perceptron_learning_order(case)
    realised = np.all((np.asarray(named["w"], dtype=np.float64) @ g.Xb.T > 0) == (g.y == 1), axis=1)
    if case.gate_name in C.SEPARABLE:
        assert_equal_exact(realised[-1:], [True], impl=impl, case=case, quantity=f"gate realised after {epochs} epochs")
    else:
        visited = realised.any(keepdims=True)
        assert_equal_exact(visited, [False], impl=impl, case=case, quantity="gate realised at some step")


def logistic_learns(impl, case, dtype: str) -> Vector:
    """From w = 0, η = 1, the notebook's 100 steps: the final weights classify every row of the separable gate."""
    g = case.data
    args = {"Xb": g.Xb, "y": g.y, "w0": np.zeros(g.Xb.shape[1]), "eta": 1.0, "steps": C.LEARN_STEPS}
    # The reference's final margins are ≥ 2.6 (cases.LEARN_STEPS), so no rounding can move a row across z = 0.
    return Vector(args, (classes(("weights", C.LEARN_STEPS), f"truth table after {C.LEARN_STEPS} GD steps", g.y),))


def _logistic_learns_applies(impl, case, target: Target) -> None:
    if impl.slow_eager and case.gate_name not in C.NOTEBOOK_GATES:
        raise Skip(f"{impl.name} learns only the notebook's gates {C.NOTEBOOK_GATES}: {impl.slow_eager}")


def mlp_forward(impl, case, dtype: str) -> Vector:
    """(z, σ(z)), each within the running error bound of the case."""
    X = case.data.X
    z, p = mlp.forward(case.params, X)
    E = bounds(case)
    return Vector(
        {"params": case.params, "X": X},
        (
            close(("z",), "logits", z, T.tolerance(impl.name, "value", dtype, bound=E.z)),
            close(("p",), "probabilities", p, T.tolerance(impl.name, "value", dtype, bound=E.p)),
        ),
    )


def _mlp_loss_and_grads(impl, case, dtype: str, saturated: bool) -> Vector:
    g = case.data
    loss, grads = mlp.loss_and_grads(case.params, g.X, g.y)
    E = bounds(case)
    prefix, grad_name = ("saturated ", "saturated grad") if saturated else ("", "gradient")
    finite = "loss" if saturated else ""
    tol = T.tolerance(impl.name, "value", dtype, bound=E.loss)
    compares = [close(("loss",), prefix + "loss", loss, tol, finite)]
    for k, (d, e) in enumerate(zip(grads, E.grads)):
        tol = T.tolerance(impl.name, "gradient", dtype, bound=e)
        finite = f"gradient {param_name(k)}" if saturated else ""
        compares.append(close(("grads", k), f"{grad_name} {param_name(k)}", d, tol, finite))
    return Vector({"params": case.params, "X": g.X, "y": g.y}, tuple(compares))


def mlp_loss_and_gradients(impl, case, dtype: str) -> Vector:
    """Summed BCE-with-logits and backprop, within the running error bound."""
    return _mlp_loss_and_grads(impl, case, dtype, saturated=False)


def mlp_saturated(impl, case, dtype: str) -> Vector:
    """The same at |z| ≥ 1000: finite, and correct (a non-finite result is never close)."""
    return _mlp_loss_and_grads(impl, case, dtype, saturated=True)


def _logistic_loss_and_grad(impl, case, dtype: str, saturated: bool) -> Vector:
    g = case.data
    loss, grad = logistic.loss_and_grad(g.Xb, g.y, case.w)
    tol_loss = T.tolerance(impl.name, "value", dtype, bound=bounds(case).loss)
    tol_grad = T.tolerance(impl.name, "gradient", dtype, bound=_logistic_grad_bound(case))
    if saturated:
        compares = (
            close(("loss",), "saturated loss", loss, tol_loss, "loss"),
            close(("grad",), "saturated grad", grad, tol_grad, "gradient"),
        )
    else:
        compares = (close(("loss",), "loss", loss, tol_loss), close(("grad",), "gradient", grad, tol_grad))
    return Vector({"Xb": g.Xb, "y": g.y, "w": case.w}, compares)


def logistic_loss_and_gradient(impl, case, dtype: str) -> Vector:
    """Σ softplus(z) − yz and X′ᵀ(σ(z) − y), within the bound of the unit as a one-layer net."""
    return _logistic_loss_and_grad(impl, case, dtype, saturated=False)


def logistic_saturated(impl, case, dtype: str) -> Vector:
    """The same at |z| ∈ {200, 600}: finite, and correct."""
    return _logistic_loss_and_grad(impl, case, dtype, saturated=True)


def single_example(impl, case, dtype: str) -> Vector:
    """The notebook's −log σ(w·x): fixed-table budgets (the naive form fails at saturation, as intended)."""
    loss, grad = logistic.single_example_loss_and_grad(case.x, case.w)
    compares = (
        close(("loss",), "single-example loss", loss, T.tolerance(impl.name, "value", dtype), "single-example loss"),
        close(("grad",), "single-ex. grad", grad, T.tolerance(impl.name, "gradient", dtype), "single-example gradient"),
    )
    return Vector({"x": case.x, "w": case.w}, compares)


def _logistic_run(impl, case, steps: int, dtype: str):
    """The arguments, the reference's run and the (weights, losses) budgets of ``steps`` gradient-descent steps."""
    g = case.data
    ref = logistic.gradient_descent(g.Xb, g.y, case.w, case.eta, steps)
    tol_w, tol_loss = _logistic_budget(impl.name, case, steps, dtype)
    return {"Xb": g.Xb, "y": g.y, "w0": case.w, "eta": case.eta, "steps": steps}, ref, tol_w, tol_loss


def logistic_one_step(impl, case, dtype: str) -> Vector:
    """w₀, w₁ and l(w₀) of one gradient-descent step, within the step's spread."""
    args, ref, tol_w, tol_loss = _logistic_run(impl, case, 1, dtype)
    what = f"η = {case.eta:g}"
    compares = (
        close(("losses",), f"loss at w₀, {what}", ref.losses, tol_loss),
        close(("weights",), f"w₀, w₁, {what}", ref.weights, tol_w),
    )
    return Vector(args, compares)


def logistic_trajectory(impl, case, dtype: str) -> Vector:
    """Every w_t and l(w_t) of the case's run, within the run's spread."""
    args, ref, tol_w, tol_loss = _logistic_run(impl, case, case.steps, dtype)
    what = f"over {case.steps} steps of η = {case.eta:g}"
    compares = (
        close(("weights",), f"weights {what}", ref.weights, tol_w),
        close(("losses",), f"losses {what}", ref.losses, tol_loss),
    )
    return Vector(args, compares)


def _mlp_args(case, optimizer: SGD | Adam, steps: int) -> dict[str, Any]:
    g = case.data
    return {"params": case.params, "X": g.X, "y": g.y, "optimizer": optimizer, "steps": steps}


def mlp_one_sgd_step(impl, case, dtype: str) -> Vector:
    """θ₀, θ₁ and l(θ₀) of one SGD step with the case's η, within the step's spread."""
    g, sgd = case.data, case.optimizer
    ref = mlp.train(case.params, g.X, g.y, sgd, 1)
    tols, tol_loss = budget(impl.name, case, sgd, 1, dtype)
    what = f"SGD({sgd.lr:g})"
    compares = [close(("losses",), f"loss at θ₀, {what}", ref.losses, tol_loss)]
    for k, (d, tol) in enumerate(zip(ref.params, tols)):
        compares.append(close(("params", k), f"{what} θ₀, θ₁ {param_name(k)}", d, tol))
    return Vector(_mlp_args(case, sgd, 1), tuple(compares))


def mlp_one_adam_step(impl, case, dtype: str) -> Vector:
    """θ₁ of one Adam(0.1) step (row 1 of each parameter; row 0 is not compared)."""
    g = case.data
    desired = C.reference_adam_step(case.params, g.X, g.y, C.ADAM)
    tols, _ = budget(impl.name, case, C.ADAM, 1, dtype)
    compares = tuple(
        close(("params", k, 1), f"Adam θ₁ {param_name(k)}", d, tol.at(1))
        for k, (d, tol) in enumerate(zip(desired, tols))
    )
    return Vector(_mlp_args(case, C.ADAM, 1), compares)


def _mlp_trajectory(impl, case, optimizer: SGD | Adam, name: str, dtype: str, steps: int) -> Vector:
    """The first ``steps`` of the case's run (all of it, or a slow eager style's prefix: the same budget's prefix)."""
    total = case.steps
    ref = _mlp_reference(case, optimizer, total)
    tols, tol_loss = budget(impl.name, case, optimizer, steps, dtype, total)
    quantity = f"{name} over {steps} steps"
    if steps < total:
        quantity += f" (of {total}: {impl.slow_eager})"
    compares = [
        close(("params", k), f"{quantity} {param_name(k)}", d[: steps + 1], tol)
        for k, (d, tol) in enumerate(zip(ref.params, tols))
    ]
    compares.append(close(("losses",), f"losses, {quantity}", ref.losses[:steps], tol_loss))
    return Vector(_mlp_args(case, optimizer, steps), tuple(compares))


def mlp_sgd_trajectory(impl, case, dtype: str) -> Vector:
    """Every θ_t and l(θ_t) of the case's SGD run, within the run's spread."""
    sgd = case.optimizer
    steps = steps_for(impl, case)
    return _mlp_trajectory(impl, case, sgd, f"SGD({sgd.lr:g})", dtype, steps)


def mlp_adam_trajectory(impl, case, dtype: str) -> Vector:
    """Every θ_t and l(θ_t) of the case's Adam run, within the run's spread."""
    return _mlp_trajectory(impl, case, case.optimizer, G.optimizer_id(case.optimizer), dtype, case.steps)


@functools.lru_cache(maxsize=16)
def alone(case: C.BatchedCase, b: int, dtype: str) -> tuple[MLPTrajectory, T.TrajectorySpread]:
    """Net b trained alone by the reference, and the spread of that run in ``dtype`` (its budget)."""
    g = case.data
    run = mlp.train(case.net(b), g.X, g.y, case.optimizer, case.steps)
    return run, T.trajectory_spread(case.net(b), g.X, g.y, case.optimizer, case.steps, dtype)


def _stacked(tols: list[T.Tolerance], axis: int) -> T.Tolerance:
    """Per-net tolerances as one: their atols stacked on the net axis (rtol and derivation are the nets' own)."""
    if len({t.rtol for t in tols}) != 1 or len({t.why for t in tols}) != 1:
        raise ValueError("the nets of a batched case have different rtol or derivations")
    atol = np.stack([np.asarray(t.atol, dtype=np.float64) for t in tols], axis=axis)
    return T.Tolerance(tols[0].rtol, atol, tols[0].why)


def mlp_batched(impl, case, dtype: str) -> Vector:
    """Each net's final parameters and losses as the reference trains it alone, within that run's spread.

    Stacked on the net axis (the result's layout), each net with its own atol: elementwise, the same
    comparison as net by net.
    """
    runs = [alone(case, b, dtype) for b in range(case.params[0].shape[0])]
    budgets = [spread.budget(impl.name) for _, spread in runs]
    what = f"{case.optimizer.id} over {case.steps} steps"
    compares = []
    for k in range(len(case.params)):
        per_net = [net_tols[k].at(-1) for net_tols, _ in budgets]  # the final step's atol
        expected = np.stack([run.final[k] for run, _ in runs])
        compares.append(
            close(("params", k), f"final {param_name(k)} of every net, {what}", expected, _stacked(per_net, 0))
        )
    losses = np.stack([run.losses for run, _ in runs], axis=1)
    compares.append(close(("losses",), f"losses of every net, {what}", losses, _stacked([t for _, t in budgets], 1)))
    return Vector(_mlp_args(case, case.optimizer, case.steps), tuple(compares))


# ----------------------------------------------------------------------------- code: learned truth tables


def mlp_learns_its_gate(impl, case, target: Target) -> None:
    """The SGD trajectory check's run ends classifying every row of the gate (z > 0 of the reference's forward
    pass at the implementation's final parameters)."""
    require(impl, Cap.MLP_TRAIN_SGD, target.dtype)
    if steps_for(impl, case) < case.steps:
        raise Skip(f"{impl.name} runs {steps_for(impl, case)} of {case.steps} steps: {impl.slow_eager}")
    g = case.data
    final = call(impl, "mlp_train", Vector(_mlp_args(case, case.optimizer, case.steps), ()), target).final
    learned = (mlp.forward(tuple(np.asarray(p, dtype=np.float64) for p in final), g.X)[0] > 0).astype(np.float64)
    assert_equal_exact(learned, g.y, impl=impl, case=case, quantity=f"truth table after {case.steps} SGD steps")


# ----------------------------------------------------------------------------- code: gradients, three ways
#
# (1) the implementation's autodiff against (2) the reference's hand-written backprop is a vector
# check; (2) against (3) central differences checks the reference itself, and (1) against (3)
# checks the implementation without trusting the reference.  Finite differences run in float64
# only (in float32 their rounding error ε₃₂/h ≈ 2e-2 would swamp the check) and skip the
# saturating cases, where the loss is piecewise linear to within e^{−|z|} and the FD error
# analysis of FINITE_DIFFERENCE (|θ| ≤ 4) does not hold.


def fd_mlp(case) -> bool:
    """A generated net within FINITE_DIFFERENCE's derivation (|θ| ≤ 4: the tiny and unit scales; ≤ 16 rows) and
    small enough that 2·(parameters) loss evaluations stay cheap in the eager styles (≤ 40 parameters)."""
    size = sum(p.size for p in case.params) if G.is_structure(case) else 0
    return G.is_structure(case) and case.scale in ("tiny", "unit") and len(case.data.y) <= 16 and size <= 40


def fd_logistic(case) -> bool:
    return G.is_logistic(case) and case.data.n_inputs <= 4 and case.id.split("-eta")[0].endswith(("tiny", "unit"))


FD_MLP = tuple(c for c in C.MLP_CASES if c.steps) + tuple(filter(fd_mlp, G.STRUCTURE))
FD_LOGISTIC = tuple(c for c in C.LOGISTIC_CASES if "saturating" not in c.name) + tuple(filter(fd_logistic, G.LOGISTIC))


def _mlp_fd(loss_of, params):
    """Central differences of ``loss_of(params)`` for every parameter array, in the canonical layout."""
    out = []
    for k, p in enumerate(params):

        def f(theta, k=k):
            return float(loss_of(tuple(theta if j == k else q for j, q in enumerate(params))))

        out.append(central_gradient(f, np.array(p)))
    return tuple(out)


def reference_gradients_match_finite_differences(case) -> None:
    """The reference's backprop against central differences of its own loss."""
    g = case.data
    if is_mlp(case):
        desired = _mlp_fd(lambda p: mlp.loss(p, g.X, g.y), case.params)
        actual = mlp.loss_and_grads(case.params, g.X, g.y)[1]
        assert_close_params(
            actual, desired, tol=T.FINITE_DIFFERENCE, impl="reference", case=case, quantity="gradient vs FD"
        )
    else:
        desired = central_gradient(lambda w: logistic.loss(g.Xb, g.y, w), np.array(case.w))
        actual = logistic.loss_and_grad(g.Xb, g.y, case.w)[1]
        assert_close(actual, desired, tol=T.FINITE_DIFFERENCE, impl="reference", case=case, quantity="gradient vs FD")


def _float64_only(target: Target) -> None:
    if target.dtype != "float64":
        raise Skip("central differences need float64: in float32 their rounding error ε/h ≈ 2e-2 swamps the check")


def mlp_autodiff_matches_finite_differences_of_its_own_loss(impl, case, target: Target) -> None:
    require(impl, Cap.MLP_LOSS_GRADS, target.dtype)
    _float64_only(target)
    g = case.data
    desired = _mlp_fd(lambda p: impl.mlp_loss_and_grads(p, g.X, g.y, target)[0], case.params)
    actual = impl.mlp_loss_and_grads(case.params, g.X, g.y, target)[1]
    tol, dt = T.FINITE_DIFFERENCE, target.dtype
    assert_close_params(actual, desired, tol=tol, impl=impl, case=case, quantity="gradient vs FD", dtype=dt)


def logistic_autodiff_matches_finite_differences_of_its_own_loss(impl, case, target: Target) -> None:
    require(impl, Cap.LOGISTIC_LOSS_GRAD, target.dtype)
    _float64_only(target)
    g = case.data
    desired = central_gradient(lambda w: float(impl.logistic_loss_and_grad(g.Xb, g.y, w, target)[0]), np.array(case.w))
    actual = impl.logistic_loss_and_grad(g.Xb, g.y, case.w, target)[1]
    tol, dt = T.FINITE_DIFFERENCE, target.dtype
    assert_close(actual, desired, tol=tol, impl=impl, case=case, quantity="gradient vs FD", dtype=dt)


# ----------------------------------------------------------------------------- code: metamorphic relations
#
# Each compares the implementation with itself, so a bug the reference shares, or a case the
# reference cannot reach, still shows.  Both sides are the implementation's own results, each
# within ε·E of the exact value (the running error analysis of the case), so they may differ by
# 2ε·E: the same bound= budget as against the reference.


def _metamorphic_cases() -> tuple:
    """The notebook's XOR net (two layers), the first generated net of depth 3 and of depth 4 that can learn
    (not saturating): a relation broken only beyond two layers shows on those; and one on inputs not 0/1."""
    chosen = [C.XOR_221]
    for depth in (3, 4):
        chosen.append(next(c for c in G.STRUCTURE if len(c.params) == 2 * depth and not c.saturating))
    # and a net on inputs that are not 0/1, where rows, units and steps carry real values
    chosen.append(next(c for c in G.STRUCTURE if c.rows != "table" and len(c.params) >= 4 and not c.saturating))
    return tuple(chosen)


def metamorphic_mlp(case) -> bool:
    """A net these relations hold on: learnable (not saturating), with hidden units to permute (depth ≥ 2)."""
    return G.is_structure(case) and not case.saturating and len(case.params) >= 4


def metamorphic(case) -> bool:
    return metamorphic_mlp(case) or G.is_logistic(case)


# Regressions found by exploring these checks (generated.REGRESSIONS; explore draws them as below) run here too.
METAMORPHIC_MLP = _metamorphic_cases() + tuple(filter(metamorphic_mlp, G.REGRESSIONS))
METAMORPHIC_LOGISTIC = (C.LOGISTIC_CASES[2], G.LOGISTIC[0], next(c for c in G.LOGISTIC if c.rows != "table")) + tuple(
    filter(G.is_logistic, G.REGRESSIONS)
)
SINGLE_STEPS = 4


def _rounded(params, target: Target):
    """θ as the implementation holds it: the float64 values rounded to the target dtype."""
    return tuple(np.asarray(p, dtype=target.np_dtype).astype(np.float64) for p in params)


def zero_step_size_leaves_parameters_unchanged(impl, case, target: Target) -> None:
    """θ − 0·g = θ exactly, for SGD, Adam (0·m̂/(√v̂ + ε) = 0) and gradient descent alike."""
    g, dt = case.data, target.dtype
    if not is_mlp(case):
        require(impl, Cap.LOGISTIC_TRAIN, target.dtype)
        run = impl.logistic_train(g.Xb, g.y, case.w, 0.0, SINGLE_STEPS, target)
        desired = np.broadcast_to(_rounded([case.w], target)[0], (SINGLE_STEPS + 1, len(case.w)))
        assert_equal_exact(run.weights, desired, impl=impl, case=case, quantity="weights after η = 0 steps", dtype=dt)
        return
    optimizers = [(Cap.MLP_TRAIN_SGD, SGD(0.0)), (Cap.MLP_TRAIN_ADAM, Adam(0.0))]
    if not any(impl.supports(cap, dt) for cap, _ in optimizers):
        require(impl, Cap.MLP_TRAIN_SGD, target.dtype)
    for cap, opt in optimizers:
        if not impl.supports(cap, dt):
            continue
        run = impl.mlp_train(case.params, g.X, g.y, opt, SINGLE_STEPS, target)
        rounded = _rounded(case.params, target)
        for k, (a, p) in enumerate(zip_params(impl, case, "parameters", run.params, rounded)):
            desired = np.broadcast_to(p, (SINGLE_STEPS + 1, *p.shape))
            quantity = f"{G.optimizer_id(opt)}: θ_t {param_name(k)} for t ≤ {SINGLE_STEPS}"
            assert_equal_exact(a, desired, impl=impl, case=case, quantity=quantity, dtype=dt)


def _loss_and_grads(impl, case, X, y, target):
    """The implementation's loss and gradients as one tuple of arrays (W₁, b₁, … or w), for either model."""
    if is_mlp(case):
        loss, grads = impl.mlp_loss_and_grads(case.params, X, y, target)
        return loss, tuple(grads)
    loss, grad = impl.logistic_loss_and_grad(X, y, case.w, target)
    return loss, (grad,)


def _grad_bounds(case, X, y):
    """(loss bound, gradient bounds in the layout of :func:`_loss_and_grads`) on (X, y)."""
    E = bounds_on(case, X, y)
    return E.loss, (E.grads if is_mlp(case) else (logistic.from_mlp(*E.grads),))


def rows_permuted_or_duplicated(impl, case, target: Target) -> None:
    """l and ∇l are sums over rows: a permutation leaves them as they are, a second copy of the data doubles them."""
    mlp_case = is_mlp(case)
    require(impl, Cap.MLP_LOSS_GRADS if mlp_case else Cap.LOGISTIC_LOSS_GRAD, target.dtype)
    g, dt = case.data, target.dtype
    X = g.X if mlp_case else g.Xb
    order = np.random.default_rng(len(g.y)).permutation(len(g.y))
    if np.array_equal(order, np.arange(len(order))):  # a permutation that moves nothing would test nothing
        order = np.roll(order, 1)
    loss, grads = _loss_and_grads(impl, case, X, g.y, target)
    E_loss, E_grads = _grad_bounds(case, X, g.y)
    permuted = _loss_and_grads(impl, case, X[order], g.y[order], target)
    tol = T.tolerance(impl.name, "value", dt, bound=E_loss)
    assert_close(permuted[0], loss, tol=tol, impl=impl, case=case, quantity="loss, rows permuted", dtype=dt)
    for k, (a, d, e) in enumerate(zip_params(impl, case, "gradients, rows permuted", permuted[1], grads, E_grads)):
        tol = T.tolerance(impl.name, "gradient", dt, bound=e)
        assert_close(a, d, tol=tol, impl=impl, case=case, quantity=f"gradient {k}, rows permuted", dtype=dt)
    X2, y2 = np.concatenate([X, X]), np.concatenate([g.y, g.y])
    doubled = _loss_and_grads(impl, case, X2, y2, target)
    E2_loss, E2_grads = _grad_bounds(case, X2, y2)
    # The doubled side errs by ≤ ε·E₂, twice the single one by ≤ 2ε·E: the bound= budget allows 2ε·(E₂ + 2E)/2.
    tol = T.tolerance(impl.name, "value", dt, bound=(E2_loss + 2 * E_loss) / 2)
    twice = 2 * np.asarray(loss, dtype=np.float64)
    assert_close(doubled[0], twice, tol=tol, impl=impl, case=case, quantity="loss, data duplicated", dtype=dt)
    pairs = zip_params(impl, case, "gradients, data duplicated", doubled[1], grads, E2_grads, E_grads)
    for k, (a, d, e2, e) in enumerate(pairs):
        tol = T.tolerance(impl.name, "gradient", dt, bound=(e2 + 2 * e) / 2)
        twice = 2 * np.asarray(d, dtype=np.float64)
        assert_close(a, twice, tol=tol, impl=impl, case=case, quantity=f"gradient {k}, data duplicated", dtype=dt)


def _hidden_permutation(params) -> tuple[int, np.ndarray]:
    """The first hidden layer at least two units wide, and a permutation of its units that moves every one."""
    for layer in range(len(params) // 2 - 1):
        width = params[2 * layer].shape[1]
        if width >= 2:
            return layer, np.roll(np.arange(width), 1)
    raise ValueError("no hidden layer with two units")


def _permute_units(params, layer: int, perm: np.ndarray):
    """Units of hidden layer ``layer`` reordered: columns of W_l and entries of b_l, rows of W_{l+1}."""
    out = list(params)
    out[2 * layer] = params[2 * layer][:, perm]
    out[2 * layer + 1] = params[2 * layer + 1][perm]
    out[2 * layer + 2] = params[2 * layer + 2][perm, :]
    return tuple(np.ascontiguousarray(p) for p in out)


def hidden_units_permuted(impl, case, target: Target) -> None:
    """The net with two hidden units swapped computes the same function: its loss is the same and its gradients
    are the original ones permuted alike (a backprop that mixes up units or layers breaks the symmetry)."""
    require(impl, Cap.MLP_LOSS_GRADS, target.dtype)
    g, dt = case.data, target.dtype
    layer, perm = _hidden_permutation(case.params)
    loss, grads = impl.mlp_loss_and_grads(case.params, g.X, g.y, target)
    permuted = _permute_units(case.params, layer, perm)
    loss_p, grads_p = impl.mlp_loss_and_grads(permuted, g.X, g.y, target)
    E = bounds(case)
    tol = T.tolerance(impl.name, "value", dt, bound=E.loss)
    quantity = f"loss, units of hidden layer {layer + 1} permuted"
    assert_close(loss_p, loss, tol=tol, impl=impl, case=case, quantity=quantity, dtype=dt)
    expected = _permute_units(tuple(np.asarray(x, dtype=np.float64) for x in grads), layer, perm)
    E_perm = _permute_units(E.grads, layer, perm)
    for k, (a, d, e) in enumerate(zip_params(impl, case, "gradients, units permuted", grads_p, expected, E_perm)):
        tol = T.tolerance(impl.name, "gradient", dt, bound=e)
        quantity = f"gradient {param_name(k)}, units of hidden layer {layer + 1} permuted"
        assert_close(a, d, tol=tol, impl=impl, case=case, quantity=quantity, dtype=dt)


def steps_equal_single_steps_chained(impl, case, target: Target) -> None:
    """SGD and gradient descent keep no state: k steps of one run equal k one-step runs, each from the last's end
    (momentum, accumulated gradients or stale activations carried between steps break it)."""
    g, dt = case.data, target.dtype
    k = SINGLE_STEPS
    if not is_mlp(case):
        require(impl, Cap.LOGISTIC_TRAIN, target.dtype)
        run = impl.logistic_train(g.Xb, g.y, case.w, case.eta, k, target)
        w, chained = np.array(case.w), [_rounded([case.w], target)[0]]
        for _ in range(k):
            w = np.asarray(impl.logistic_train(g.Xb, g.y, w, case.eta, 1, target).final, dtype=np.float64)
            chained.append(w)
        tol_w, _ = _logistic_budget(impl.name, case, k, dt)
        quantity = f"w_t, {k} steps in one run vs one at a time"
        assert_close(run.weights, np.stack(chained), tol=tol_w, impl=impl, case=case, quantity=quantity, dtype=dt)
        return
    require(impl, Cap.MLP_TRAIN_SGD, target.dtype)
    sgd = SGD(0.3)  # not a power of two, unlike the notebook's 0.5
    run = impl.mlp_train(case.params, g.X, g.y, sgd, k, target)
    theta, chained = tuple(case.params), [_rounded(case.params, target)]
    for _ in range(k):
        one = impl.mlp_train(theta, g.X, g.y, sgd, 1, target)
        theta = tuple(np.asarray(p[-1], dtype=np.float64) for p in one.params)
        chained.append(theta)
    tols, _ = budget(impl.name, case, sgd, k, dt)
    for j, (a, tol) in enumerate(zip_params(impl, case, "parameters", run.params, tols)):
        desired = np.stack([c[j] for c in chained])
        quantity = f"SGD(0.3) θ_t {param_name(j)}, {k} steps in one run vs one at a time"
        assert_close(a, desired, tol=tol, impl=impl, case=case, quantity=quantity, dtype=dt)


REPEATED_ADAM = Adam(0.05, 0.5, 0.99, 1e-6)  # every hyperparameter off its default, so none can hide


def repeated_run_repeats_the_trajectory(impl, case, target: Target) -> None:
    """Two identical training calls give the same run: nothing (an optimizer's step count or moments, a cached
    model, accumulated gradients) carries from one call into the next."""
    g, dt = case.data, target.dtype
    optimizers = [(Cap.MLP_TRAIN_SGD, SGD(0.3)), (Cap.MLP_TRAIN_ADAM, REPEATED_ADAM)]
    if not any(impl.supports(cap, dt) for cap, _ in optimizers):
        require(impl, Cap.MLP_TRAIN_ADAM, target.dtype)
    for cap, opt in optimizers:
        if not impl.supports(cap, dt):
            continue
        first = impl.mlp_train(case.params, g.X, g.y, opt, SINGLE_STEPS, target)
        second = impl.mlp_train(case.params, g.X, g.y, opt, SINGLE_STEPS, target)
        tols, tol_loss = budget(impl.name, case, opt, SINGLE_STEPS, dt)
        what = f"{G.optimizer_id(opt)}, second of two identical runs"
        pairs = zip_params(impl, case, "parameters", second.params, first.params, tols)
        for k, (a, d, tol) in enumerate(pairs):
            desired = np.asarray(d, dtype=np.float64)
            quantity = f"{what}: θ_t {param_name(k)}"
            assert_close(a, desired, tol=tol, impl=impl, case=case, quantity=quantity, dtype=dt)
        desired = np.asarray(first.losses, dtype=np.float64)
        assert_close(second.losses, desired, tol=tol_loss, impl=impl, case=case, quantity=f"{what}: losses", dtype=dt)


# ----------------------------------------------------------------------------- code: a prepared op, run again


NATIVE_RUNS = 3


def _batched(params: Params) -> Params:
    """Two nets on the net axis: the case's and its half (distinct nets, so a run that mixes them shows)."""
    return tuple(np.ascontiguousarray(np.stack([p, 0.5 * p])) for p in params)


def _native_budgets(impl, case, op: str, inputs: dict, dtype: str) -> list[T.Tolerance | tuple]:
    """What two runs of the op may differ by, in the layout of :func:`_arrays`: the bound= budgets of one
    evaluation, the trajectory spread of a run (per net for a batched run, its final step)."""
    E, name = bounds(case), impl.name
    if op == "mlp_forward":
        return [T.tolerance(name, "value", dtype, bound=E.z), T.tolerance(name, "value", dtype, bound=E.p)]
    if op == "mlp_loss_and_grads":
        return [T.tolerance(name, "value", dtype, bound=E.loss)] + [
            T.tolerance(name, "gradient", dtype, bound=e) for e in E.grads
        ]
    opt, steps = inputs["optimizer"], inputs["steps"]
    if op == "mlp_train":
        tols, tol_loss = budget(name, case, opt, steps, dtype)
        return [*tols, tol_loss]
    g = case.data
    nets = [tuple(p[b] for p in inputs["params"]) for b in range(2)]
    spreads = [T.trajectory_spread(net, g.X, g.y, opt, steps, dtype).budget(name) for net in nets]
    per_param = [_stacked([tols[k].at(-1) for tols, _ in spreads], 0) for k in range(len(nets[0]))]
    return [*per_param, _stacked([t for _, t in spreads], 1)]


def _arrays(op: str, result) -> list[np.ndarray]:
    """The result's arrays in a fixed order: (z, p), (loss, grads…), (params…, losses)."""
    named = named_results(op, result, op)
    if op == "mlp_forward":
        return [named["z"], named["p"]]
    if op == "mlp_loss_and_grads":
        return [named["loss"], *named["grads"]]
    return [*named["params"], named["losses"]]


def native_op_repeats_its_first_run(impl, case, target: Target) -> None:
    """A prepared native op must not depend on earlier calls (NativeOp's contract; the benchmarks call run()
    again and again): its second and third runs repeat its first, for every native op it declares, SGD and
    Adam, one net and two on the net axis (an optimizer built when the op is prepared, carrying its moments or
    step count into the next run, breaks it)."""
    require(impl, Cap.NATIVE, target.dtype)
    g, dt = case.data, target.dtype
    ops: list[tuple[str, dict[str, Any]]] = []
    if impl.supports(Cap.MLP_FORWARD, dt):
        ops.append(("mlp_forward", {"params": case.params, "X": g.X}))
    if impl.supports(Cap.MLP_LOSS_GRADS, dt):
        ops.append(("mlp_loss_and_grads", {"params": case.params, "X": g.X, "y": g.y}))
    for opt in (SGD(0.3), REPEATED_ADAM):
        if not impl.supports(optimizer_capability(opt), dt):
            continue
        train = {"X": g.X, "y": g.y, "optimizer": opt, "steps": SINGLE_STEPS}
        ops.append(("mlp_train", {"params": case.params, **train}))
        if impl.supports(Cap.MLP_TRAIN_BATCHED, dt):
            ops.append(("mlp_train_batched", {"params": _batched(case.params), **train}))
    if not ops:
        raise Skip(f"{impl.name} declares native but none of the MLP operations in {dt}")
    for op, inputs in ops:
        prepared = impl.native(op, target, **inputs)
        first = _arrays(op, prepared.to_numpy(prepared.run()))
        budgets = _native_budgets(impl, case, op, inputs, dt)
        what = f"native {op}" + (f" ({G.optimizer_id(inputs['optimizer'])})" if "optimizer" in inputs else "")
        for run in range(2, NATIVE_RUNS + 1):
            again = _arrays(op, prepared.to_numpy(prepared.run()))
            for k, (a, d, tol) in enumerate(zip_params(impl, case, f"{what}, run {run}", again, first, budgets)):
                quantity = f"{what}, run {run} against run 1, array {k}"
                desired = np.asarray(d, dtype=np.float64)
                assert_close(a, desired, tol=tol, impl=impl, case=case, quantity=quantity, dtype=dt)


# ----------------------------------------------------------------------------- code: float32 is float32 arithmetic


# Elements whose float32 spread (tolerances.trajectory_spread's σ_t) is at least this many ulps of their value
# take part: there a float32 computation's error is several ulps at the least, so it lands on the float64
# run correctly rounded to float32 only by chance.  The spread bounds each step's roundings from above
# (gradients perturbed by their error bound), so the real errors are smaller and the chance is larger than
# ulp/(σ√(2π)): measured 0.09–0.22 on every built-in float32 style (both notebook runs), against 1.0 for a
# float64 run rounded at the end (tests.mutants.Float64InFloat32).  At most half may land there: that
# separates the two with a factor above 2 on either side.
FLOAT32_SPREAD_ULPS = 16
FLOAT32_EQUAL_AT_MOST = 0.5
FLOAT32_ELEMENTS_AT_LEAST = 50


def float32_run_is_float32_arithmetic(impl, case, target: Target) -> None:
    """float32 means float32 arithmetic, not float64 arithmetic rounded at the end: over a long run a float32
    computation drifts many ulps from the float64 reference, so few of its elements equal the float64 run
    correctly rounded to float32; a run computed in float64 and rounded at the end equals it almost everywhere.

    Read from the SGD trajectory check's own run (no extra call), on the elements whose float32 spread is at
    least FLOAT32_SPREAD_ULPS ulps; it fails where more than FLOAT32_EQUAL_AT_MOST of them are equal."""
    require(impl, Cap.MLP_TRAIN_SGD, target.dtype)
    if target.dtype != "float32":
        raise Skip("a float64 run has no wider arithmetic to hide in: the check reads float32 runs")
    vector = mlp_sgd_trajectory(impl, case, target.dtype)
    run = call(impl, "mlp_train", vector, target)
    steps = vector.args["steps"]
    reference = _mlp_reference(case, case.optimizer, case.steps)
    spread = _spread(case, case.optimizer, case.steps, target.dtype)
    equal = considered = 0
    for k, (a, d, s) in enumerate(zip_params(impl, case, "parameters", run.params, reference.params, spread.params)):
        a = np.asarray(a)[1 : steps + 1]  # θ₀ is the input, cast: equal by design
        rounded = np.asarray(d[1 : steps + 1], dtype=np.float32)
        ulp = np.spacing(np.abs(rounded)).astype(np.float64)
        taking = np.asarray(s[1 : steps + 1]) >= FLOAT32_SPREAD_ULPS * ulp
        if a.shape != rounded.shape:
            raise AssertionError(
                f"{impl.name} / {case.id} / {param_name(k)}: shape {a.shape}, expected {rounded.shape}"
            )
        equal += int(np.sum((a == rounded) & taking))
        considered += int(np.sum(taking))
    if considered < FLOAT32_ELEMENTS_AT_LEAST:
        raise Skip(f"{case.id}: {considered} elements spread ≥ {FLOAT32_SPREAD_ULPS} ulps in {steps} steps, too few")
    fraction = equal / considered
    if fraction > FLOAT32_EQUAL_AT_MOST:
        raise AssertionError(
            f"{impl.name} / {case.id} / float32 run against the float64 run rounded: {equal} of {considered} "
            f"elements whose float32 spread is ≥ {FLOAT32_SPREAD_ULPS} ulps equal the float64 reference rounded to "
            "float32: computed in float64 and rounded at the end, not in float32\n"
            f"ACTUAL: {fraction:.3f} of them equal\nDESIRED: at most {FLOAT32_EQUAL_AT_MOST}"
        )


# ----------------------------------------------------------------------------- code: initialisers and statistics


def _require_initialiser(impl, initialiser: str, dtype: str) -> None:
    require(impl, Cap.MLP_INIT, dtype)
    if initialiser not in impl.initialisers:
        raise Skip(f"{impl.name} draws {', '.join(impl.initialisers)} (its users' own), not {initialiser}")


def _float64(params: Params) -> Params:
    return tuple(np.asarray(p, dtype=np.float64) for p in params)


@functools.lru_cache(maxsize=32)
def _drawn(impl, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> tuple[Params, float]:
    """``impl.mlp_init`` and the seconds it took the first time (the statistics reuse the draw)."""
    start = time.perf_counter()
    params = impl.mlp_init(initialiser, sizes, n, seed, target)
    return params, time.perf_counter() - start


def _check_shapes(params: Params, sizes: tuple[int, ...], n: int, impl, case, target: Target) -> None:
    expected = [((n, i, o), (n, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    expected = [s for pair in expected for s in pair]
    actual = [np.shape(p) for p in params]
    if actual != expected or any(np.asarray(p).dtype != target.np_dtype for p in params):
        dtypes = [str(np.asarray(p).dtype) for p in params]
        raise AssertionError(
            f"{impl.name} / {case.id} / initial parameters: shapes {actual}, dtypes {dtypes}; "
            f"expected shapes {expected}, dtype {target.dtype}"
        )


def _check_law(sample: np.ndarray, law: convergence.Law, target: Target, impl, case, quantity: str) -> None:
    """Support exactly, then mean, second moment and distribution function at INIT_ALPHA."""
    if law.kind == "zero":
        assert_equal_exact(sample, np.zeros(sample.shape), impl=impl, case=case, quantity=f"{quantity} (zeros)")
        return
    if law.kind in ("uniform", "truncated-normal"):
        if law.kind == "uniform":
            # Rounding to the target dtype is monotone, so a draw from [−a, a] lies within ±fl(a).
            bound, named = float(np.asarray(law.scale, dtype=target.np_dtype)), f"U(±{law.scale:.6g})"
        else:
            # |z| ≤ c, then scaled by a: within c·a, but for the roundings of computing a (a square root and a
            # division) and of the product, each at most half an ulp: 4 ulps of the dtype cover them.
            bound = init.TRUNCATION * law.scale * (1 + 4 * T.EPS[target.dtype])
            named = f"N(0, {law.scale:.6g}²) truncated to ±{init.TRUNCATION:g}·{law.scale:.6g}"
        outside = np.abs(np.asarray(sample, dtype=np.float64)) > bound
        if outside.any():
            raise AssertionError(
                f"{impl.name} / {case.id} / {quantity}: {int(outside.sum())} of {sample.size} draws outside "
                f"±{bound!r} ({named})\nACTUAL (largest |draw|): {float(np.max(np.abs(sample)))!r}\n"
                f"DESIRED: ≤ {bound!r}"
            )
    for test, statistic in (
        (convergence.mean_test, "mean (z)"),
        (convergence.variance_test, "second moment (z)"),
        (convergence.ks_test, "Kolmogorov–Smirnov D"),
    ):
        value, p = test(sample, law)
        if p < C.INIT_ALPHA:
            x = np.asarray(sample, dtype=np.float64)
            raise AssertionError(
                f"{impl.name} / {case.id} / {quantity}: {statistic} = {value:.4g}, p = {p:.3g} < α = {C.INIT_ALPHA:g} "
                f"(H₀: {law.kind} with scale {law.scale:.6g}, {x.size} draws)\n"
                f"ACTUAL: mean {x.mean():.6g}, mean square {np.mean(x * x):.6g}, range [{x.min():.6g}, {x.max():.6g}]\n"
                f"DESIRED: mean 0, mean square {law.variance:.6g}"
            )


def mlp_init_draws_from_its_distribution(impl, case, target: Target) -> None:
    """mlp_init is deterministic in its seed, has each parameter's law's support exactly, and its moments and
    distribution function (mean, second moment, Kolmogorov–Smirnov at cases.INIT_ALPHA)."""
    _require_initialiser(impl, case.initialiser, target.dtype)
    params, _ = _drawn(impl, case.initialiser, case.sizes, case.n, case.seed, target)
    _check_shapes(params, case.sizes, case.n, impl, case, target)
    again = impl.mlp_init(case.initialiser, case.sizes, case.n, case.seed, target)
    for k, (a, p) in enumerate(zip(again, params)):
        quantity = f"parameter {k} drawn again with seed {case.seed}"
        assert_equal_exact(a, p, impl=impl, case=case, quantity=quantity, dtype=target.dtype)
    other = impl.mlp_init(case.initialiser, case.sizes, case.n, case.seed + 1, target)
    if all(np.array_equal(a, p) for a, p in zip(other, params)):
        raise AssertionError(f"{impl.name} / {case.id} / seed: seeds {case.seed} and {case.seed + 1} draw equal nets")
    for k, (p, law) in enumerate(zip(params, convergence.laws(case.initialiser, case.sizes))):
        _check_law(np.asarray(p), law, target, impl, case, f"{param_name(k)} of {case.n} nets")


# Independence across parameters and nets, three ways, each at cases.INIT_ALPHA.  Every draw x of a law with
# distribution function F is mapped to u = F(x), uniform on [0, 1] under H₀ whatever the law, so one derivation
# serves every initialiser and every pair of layers.
#
# 1. Coincidences.  A PRNG key reused for two layers or two nets, at the same scale or another, draws values
#    whose |2u − 1| agree (a monotone map of one stream, of either sign: W₂ = ±(a₂/a₁)·W₁).  Two independent
#    draws land within δ of each other there with probability at most 2δ + 2p, p the largest probability of one
#    value: 2⁻²⁰ in float32 (24-bit uniforms, and normals made from them, spread over ≥ 2²³ values; a factor 8
#    to spare), 2⁻⁴⁹ in float64.  δ is 8 × the worst rounding of one draw (2⁻²³ relative in float32, 2⁻⁵²
#    in float64, times a density·|x| ≤ 1/2), so the same stream at two scales always coincides.  Over all N draws
#    of a whole init the count of near pairs is at most Poisson(C(N, 2)·(2δ + 2p)) (a triple's covariance adds
#    N·(2δ + 2p) ≤ 0.04 of the mean); the check fails when a count that large has probability < INIT_ALPHA.
# 2. Correlation inside a net: for each pair of parameter elements, S = Σ_nets (u − ½)(u′ − ½) is a sum of n
#    independent terms bounded by ¼ with variance 1/144 (mean 0 but for the grid's atoms: |E(u − ½)| ≤ p, so
#    n·p² ≤ 2⁻²⁹ of bias).  Bernstein: P(|S| ≥ t) ≤ 2·exp(−t²/(2(n/144 + t/12))); Bonferroni over the pairs.
# 3. Correlation between nets: the same sum over disjoint pairs of consecutive nets (0 with 1, 2 with 3, …),
#    every element pooled, one Bernstein bound.
COINCIDENCE_P = {"float32": 2.0**-20, "float64": 2.0**-49}
COINCIDENCE_DELTA = {"float32": 8 * 2.0**-23, "float64": 8 * 2.0**-52}
# (u − ½)(u′ − ½) of independent uniforms: |·| ≤ ¼, variance (1/12)² = 1/144.
_PRODUCT_BOUND, _PRODUCT_VARIANCE = 0.25, 1.0 / 144.0


def _poisson_tail_at(lam: float, alpha: float) -> int:
    """The smallest k with P(Poisson(λ) ≥ k) < α."""
    k, term, below = 0, math.exp(-lam), 0.0
    while 1.0 - below >= alpha and k < 10_000_000:
        below += term
        k += 1
        term *= lam / k
    return k


def _bernstein_threshold(terms: int, alpha: float) -> float:
    """The t with 2·exp(−t²/(2(m·v + M·t/3))) = α for m independent mean-0 terms, |term| ≤ M, variance v."""
    L, M = math.log(2.0 / alpha), _PRODUCT_BOUND
    return M * L / 3 + math.sqrt((M * L / 3) ** 2 + 2 * terms * _PRODUCT_VARIANCE * L)


def _uniforms(impl, case, target: Target) -> tuple[np.ndarray, list[str]]:
    """u = F(x) of every drawn element, (n, elements), laws "zero" left out, and each element's name."""
    params, _ = _drawn(impl, case.initialiser, case.sizes, case.n, case.seed, target)
    _check_shapes(params, case.sizes, case.n, impl, case, target)
    columns, names = [], []
    for k, (p, law) in enumerate(zip(params, convergence.laws(case.initialiser, case.sizes))):
        if law.kind == "zero":
            continue
        a = np.asarray(p, dtype=np.float64).reshape(case.n, -1)
        columns.append(law.cdf(a))
        names += [f"{param_name(k)}[{', '.join(map(str, i))}]" for i in np.ndindex(np.shape(p)[1:])]
    return np.concatenate(columns, axis=1), names


def initial_parameters_are_drawn_independently(impl, case, target: Target) -> None:
    """mlp_init's parameters are independent draws: no more values coincide (up to sign and scale, as one PRNG
    stream reused would make them) and no pair of elements of a net, nor consecutive nets, correlate more than
    independence allows at cases.INIT_ALPHA."""
    _require_initialiser(impl, case.initialiser, target.dtype)
    u, names = _uniforms(impl, case, target)
    n, elements = u.shape
    alpha, where = C.INIT_ALPHA, f"{impl.name} / {case.id}"

    folded = np.sort(np.abs(2.0 * u - 1.0), axis=None)
    delta, p = COINCIDENCE_DELTA[target.dtype], COINCIDENCE_P[target.dtype]
    near, pairs = int(np.sum(np.diff(folded) < delta)), folded.size * (folded.size - 1) / 2
    allowed = _poisson_tail_at(pairs * (2 * delta + 2 * p), alpha) - 1
    if near > allowed:
        raise AssertionError(
            f"{where} / coincident draws: {near} of {folded.size} drawn values lie within δ = {delta:.3g} of another "
            f"in |2F(x) − 1| (equal up to sign and scale, as one PRNG stream drawn twice makes them); independent "
            f"draws do so at most {allowed} times but with probability < α = {alpha:g}\nACTUAL: {near}\n"
            f"DESIRED: ≤ {allowed}"
        )

    v = u - 0.5
    if elements > 1:
        S = v.T @ v
        i, j = np.triu_indices(elements, 1)
        worst = int(np.argmax(np.abs(S[i, j])))
        limit = _bernstein_threshold(n, alpha / i.size)
        if abs(S[i[worst], j[worst]]) >= limit:
            a, b = i[worst], j[worst]
            raise AssertionError(
                f"{where} / correlated draws within a net: {names[a]} and {names[b]} over {n} nets have "
                f"Σ(F(x) − ½)(F(x′) − ½) = {S[a, b]:.4g}, rank correlation {12 * S[a, b] / n:.3f}; independent draws "
                f"exceed ±{limit:.4g} with probability < α = {alpha:g} (Bernstein, Bonferroni over {i.size} pairs)\n"
                f"ACTUAL: {S[a, b]:.4g}\nDESIRED: within ±{limit:.4g}"
            )
    half = n // 2
    if half:
        S = float(np.sum(v[0 : 2 * half : 2] * v[1 : 2 * half : 2]))
        terms = half * elements
        limit = _bernstein_threshold(terms, alpha)
        if abs(S) >= limit:
            raise AssertionError(
                f"{where} / correlated draws between nets: nets 2k and 2k + 1, every element, have "
                f"Σ(F(x) − ½)(F(x′) − ½) = {S:.4g} over {terms} pairs, rank correlation {12 * S / terms:.3f}; "
                f"independent draws exceed ±{limit:.4g} with probability < α = {alpha:g} (Bernstein)\n"
                f"ACTUAL: {S:.4g}\nDESIRED: within ±{limit:.4g}"
            )


@functools.lru_cache(maxsize=16)
def _reference_convergence(case: C.ConvergenceCase) -> tuple[convergence.Convergence, float]:
    """The reference's statistic for ``case`` (float64, nets from default_rng(REFERENCE_SEED)) and its seconds."""
    start = time.perf_counter()
    g = case.data
    rng = np.random.default_rng(C.REFERENCE_SEED)
    stats = convergence.convergence(case.initialiser, case.sizes, g.X, g.y, case.optimizer, case.steps, case.n, rng)
    return stats, time.perf_counter() - start


def _summary(stats: convergence.Convergence, every: int) -> dict:
    lo, hi = stats.interval()
    return {
        "n": stats.n,
        "learned": stats.learned,
        "rate": stats.rate,
        "interval": [lo, hi],
        "counts": dict(stats.counts),
        "curve": [float(x) for x in stats.curve[::every]],
    }


def _described(stats: convergence.Convergence) -> str:
    lo, hi = stats.interval()
    failures = ", ".join(f"{o} {stats.counts[o]}" for o in convergence.FAILURES)
    return f"{stats.learned}/{stats.n} = {stats.rate:.3f} (95% Wilson [{lo:.3f}, {hi:.3f}]); failures: {failures}"


def xor_convergence_rate_matches_reference(
    impl, case, target: Target, record: Callable[[dict], None], curve_every: int
) -> None:
    """N nets from the implementation's own initialisation and generator learn XOR as often as the reference's N
    nets from the same law (pooled two-proportion z-test at cases.CONVERGENCE_ALPHA); ``record`` gets the row the
    report draws (rate, Wilson interval, failure classes, learned curve every ``curve_every`` steps, seconds)."""
    require(impl, Cap.MLP_TRAIN_BATCHED, target.dtype)
    require(impl, optimizer_capability(case.optimizer), target.dtype)
    _require_initialiser(impl, case.initialiser, target.dtype)
    if target.dtype != C.CONVERGENCE_DTYPE:
        raise Skip(f"the statistics run in {C.CONVERGENCE_DTYPE}, the frameworks' default (and the notebook's)")
    g = case.data
    params, init_seconds = _drawn(impl, case.initialiser, case.sizes, case.n, C.IMPLEMENTATION_SEED, target)
    start = time.perf_counter()
    run = impl.mlp_train_batched(_float64(params), g.X, g.y, case.optimizer, case.steps, target)
    train_seconds = time.perf_counter() - start
    stats = convergence.summarise(_float64(run.params), np.asarray(run.losses, dtype=np.float64), g.X, g.y)
    reference, reference_seconds = _reference_convergence(case)
    z, p = convergence.two_proportion_test(stats.learned, stats.n, reference.learned, reference.n)
    record(
        {
            "impl": impl.name,
            "framework": impl.framework,
            "case": case.id,
            "initialiser": case.initialiser,
            "optimizer": case.optimizer.id,
            "dtype": target.dtype,
            "steps": case.steps,
            "alpha": C.CONVERGENCE_ALPHA,
            "z": z,
            "p_value": p,
            "seconds": {"init": init_seconds, "train": train_seconds},
            **_summary(stats, curve_every),
            "reference": {**_summary(reference, curve_every), "seconds": reference_seconds},
        },
    )
    if p < C.CONVERGENCE_ALPHA:
        raise AssertionError(
            f"{impl.name} / {case.id} / rate of nets learned after {case.steps} steps: the pooled two-proportion "
            f"z-test rejects equal rates at α = {C.CONVERGENCE_ALPHA:g} (z = {z:.3f}, p = {p:.3g})\n"
            f"ACTUAL ({target.dtype}, {impl.name}'s own {case.initialiser} draws): {_described(stats)}\n"
            f"DESIRED (float64 reference, same law, other seeds): {_described(reference)}"
        )


# ----------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Check:
    """One check: the test ``test_NAME`` of the suite module ``module``, over ``cases`` (the run's regression cases
    that satisfy ``joins`` join them).

    A vector check has ``operation`` and ``build``; a code check has ``code``, called ``code(impl, case, target)``
    (or ``code(case)`` where ``takes_impl`` is False).  ``core_only``: a compiled or slow eager style runs only the
    generated cases of generated.CORE.  ``applies`` raises :class:`Skip` where the check does not apply beyond a
    missing capability; ``after`` makes further comparisons on the named result.  ``not_exported``: why the export
    leaves the check out (a code check has no expected values to export).
    """

    name: str
    module: str
    cases: tuple
    joins: Callable[[Any], bool] | None = None
    operation: str | None = None
    build: Callable[..., Vector] | None = None
    code: Callable[..., None] | None = None
    needs: Callable[[Any], tuple[Capability, ...]] | None = None
    core_only: bool = False
    applies: Callable[..., None] | None = None
    after: Callable[..., None] | None = None
    not_exported: str = ""
    marks: tuple[str, ...] = ()
    takes_impl: bool = True

    def __post_init__(self) -> None:
        if (self.build is None) == (self.code is None):
            raise ValueError(f"check {self.name!r}: give it either a vector builder or code, not both or neither")
        if self.code is not None and not self.not_exported:
            raise ValueError(f"code check {self.name!r} has no vectors: say why it is not exported (not_exported)")

    @property
    def test(self) -> str:
        return f"test_{self.name}"

    def capabilities(self, case) -> tuple[Capability, ...]:
        """What the implementation must declare for the check on ``case``."""
        if self.needs is not None:
            return self.needs(case)
        return (OPERATIONS[self.operation].capability[0],)

    def run(self, impl, case, target: Target, *, core: bool = True, **extra: Any) -> None:
        """The check on one implementation, case and target: AssertionError on a failure, :class:`Skip` where it
        does not apply.  ``core=False`` runs a generated case outside generated.CORE on every style (exploration)."""
        if self.core_only and core:
            for capability in self.capabilities(case):
                require(impl, capability, target.dtype)
            core_only(impl, case)
        if self.code is not None:
            self.code(impl, case, target, **extra)
            return
        for capability in self.capabilities(case):
            require(impl, capability, target.dtype)
        if self.applies is not None:
            self.applies(impl, case, target)
        vector = self.build(impl, case, target.dtype)
        result = call(impl, self.operation, vector, target)
        named = named_results(self.operation, result, f"{impl.name} / {case.id}")
        compare(impl, case, target, vector, named)
        if self.after is not None:
            self.after(impl, case, target, named)


def _sgd_needs(case) -> tuple[Capability, ...]:
    return (Cap.MLP_TRAIN_SGD,)


def _adam_needs(case) -> tuple[Capability, ...]:
    return (Cap.MLP_TRAIN_ADAM,)


def _batched_needs(case) -> tuple[Capability, ...]:
    return (Cap.MLP_TRAIN_BATCHED, optimizer_capability(case.optimizer))


def _loss_grads_needs(case) -> tuple[Capability, ...]:
    return (Cap.MLP_LOSS_GRADS,)


def _logistic_grad_needs(case) -> tuple[Capability, ...]:
    return (Cap.LOGISTIC_LOSS_GRAD,)


# The notebook's cases first, then the generated ones (generated.py).
MLP_VALUES = C.MLP_CASES + G.STRUCTURE
LOGISTIC_VALUES = C.LOGISTIC_CASES + G.LOGISTIC
SUITE, CONVERGENCE = "test_conformance.py", "test_convergence.py"

_ITSELF = "compares the implementation with itself ({}), so there is no reference value to export"
_OWN_FD = (
    "compares the implementation's gradient with central differences of its own loss (2 calls per parameter at "
    "perturbed θ, float64 only): no reference values; the reference's gradients are exported by {}"
)


def _checks(*checks: Check) -> dict[str, Check]:
    return {c.name: c for c in checks}


CHECKS: dict[str, Check] = _checks(
    # threshold logic unit and perceptron: exact on the dyadic grid (cases.GateCase)
    Check("threshold_predictions_are_exact", SUITE, C.GATES, operation="tlu_predict", build=threshold_predictions),
    Check("perceptron_batch_step_is_exact", SUITE, C.GATES, operation="perceptron_step", build=perceptron_batch_step),
    Check(
        "perceptron_online_trajectory_is_exact",
        SUITE,
        C.GATES,
        operation="perceptron_online",
        build=perceptron_online_trajectory,
    ),
    # forward values, losses and gradients
    Check(
        "mlp_forward_matches_reference",
        SUITE,
        MLP_VALUES,
        G.is_structure,
        operation="mlp_forward",
        build=mlp_forward,
        core_only=True,
    ),
    Check(
        "mlp_loss_and_gradients_match_reference",
        SUITE,
        MLP_VALUES,
        G.is_structure,
        operation="mlp_loss_and_grads",
        build=mlp_loss_and_gradients,
        core_only=True,
    ),
    Check(
        "logistic_loss_and_gradient_match_reference",
        SUITE,
        LOGISTIC_VALUES,
        G.is_logistic,
        operation="logistic_loss_and_grad",
        build=logistic_loss_and_gradient,
        core_only=True,
    ),
    # gradients, three ways
    Check(
        "reference_gradients_match_finite_differences",
        SUITE,
        FD_MLP + FD_LOGISTIC,
        code=reference_gradients_match_finite_differences,
        takes_impl=False,
        not_exported="checks the reference against central differences; it takes no implementation",
    ),
    Check(
        "mlp_autodiff_matches_finite_differences_of_its_own_loss",
        SUITE,
        FD_MLP,
        fd_mlp,
        code=mlp_autodiff_matches_finite_differences_of_its_own_loss,
        needs=_loss_grads_needs,
        core_only=True,
        not_exported=_OWN_FD.format("test_mlp_loss_and_gradients_match_reference"),
    ),
    Check(
        "logistic_autodiff_matches_finite_differences_of_its_own_loss",
        SUITE,
        FD_LOGISTIC,
        fd_logistic,
        code=logistic_autodiff_matches_finite_differences_of_its_own_loss,
        needs=_logistic_grad_needs,
        core_only=True,
        not_exported=_OWN_FD.format("test_logistic_loss_and_gradient_match_reference"),
    ),
    # one training step; budgets of single steps and of whole runs come from one derivation,
    # tolerances.trajectory_spread
    Check(
        "logistic_one_gradient_descent_step",
        SUITE,
        LOGISTIC_VALUES,
        G.is_logistic,
        operation="logistic_train",
        build=logistic_one_step,
        core_only=True,
    ),
    Check(
        "mlp_one_sgd_step",
        SUITE,
        MLP_VALUES,
        G.is_structure,
        operation="mlp_train",
        build=mlp_one_sgd_step,
        needs=_sgd_needs,
        core_only=True,
    ),
    Check(
        "mlp_one_adam_step",
        SUITE,
        MLP_VALUES,
        G.is_structure,
        operation="mlp_train",
        build=mlp_one_adam_step,
        needs=_adam_needs,
        core_only=True,
    ),
    # whole trajectories
    Check(
        "logistic_gradient_descent_trajectory",
        SUITE,
        C.LOGISTIC_TRAJECTORIES + G.LOGISTIC,
        G.is_logistic,
        operation="logistic_train",
        build=logistic_trajectory,
        core_only=True,
    ),
    Check(
        "mlp_sgd_trajectory",
        SUITE,
        C.MLP_TRAJECTORIES + G.SGD_TRAINING,
        G.is_sgd_training,
        operation="mlp_train",
        build=mlp_sgd_trajectory,
        needs=_sgd_needs,
        core_only=True,
    ),
    Check(
        "mlp_adam_trajectory",
        SUITE,
        G.ADAM_TRAINING,
        G.is_adam_training,
        operation="mlp_train",
        build=mlp_adam_trajectory,
        needs=_adam_needs,
        core_only=True,
    ),
    # learned truth tables
    Check(
        "logistic_regression_learns_separable_gates",
        SUITE,
        tuple(c for c in C.GATES if c.gate_name in C.SEPARABLE),
        operation="logistic_train",
        build=logistic_learns,
        applies=_logistic_learns_applies,
    ),
    Check(
        "perceptron_learns_exactly_the_separable_gates",
        SUITE,
        C.GATES,
        operation="perceptron_online",
        build=perceptron_learns,
        after=_perceptron_realises,
    ),
    Check(
        "mlp_learns_its_gate",
        SUITE,
        tuple(c for c in C.MLP_TRAJECTORIES if c.learns),
        code=mlp_learns_its_gate,
        not_exported=(
            "checks the truth table of the reference's forward pass at the implementation's final parameters "
            "(z > 0), which needs a float64 MLP forward pass beside the operations; its runs are exported whole, "
            "every step within tolerance, by test_mlp_sgd_trajectory (the same cases)"
        ),
    ),
    # saturation
    Check(
        "logistic_loss_and_gradient_survive_saturation",
        SUITE,
        C.LOGISTIC_SATURATING,
        operation="logistic_loss_and_grad",
        build=logistic_saturated,
    ),
    Check(
        "mlp_loss_and_gradients_survive_saturation",
        SUITE,
        (C.SATURATING_221, *G.SATURATING),
        G.is_saturating,
        operation="mlp_loss_and_grads",
        build=mlp_saturated,
    ),
    # The notebook's naive −log σ(w·x): expected to FAIL at saturation wherever written as the notebook does.
    # That failure is the point: every implementation that writes the notebook's form declares it among its
    # known deviations, with the reason, and the report shows it as xfail.
    Check(
        "single_example_loss_matches_reference",
        SUITE,
        C.SINGLE_EXAMPLE,
        operation="single_example_loss_and_grad",
        build=single_example,
    ),
    # metamorphic relations: no reference needed
    Check(
        "zero_step_size_leaves_parameters_unchanged",
        SUITE,
        METAMORPHIC_MLP + METAMORPHIC_LOGISTIC,
        metamorphic,
        code=zero_step_size_leaves_parameters_unchanged,
        not_exported=_ITSELF.format("θ after steps of η = 0 against θ itself"),
    ),
    Check(
        "rows_permuted_or_duplicated",
        SUITE,
        METAMORPHIC_MLP + METAMORPHIC_LOGISTIC,
        metamorphic,
        code=rows_permuted_or_duplicated,
        not_exported=_ITSELF.format("losses and gradients on permuted and duplicated rows"),
    ),
    Check(
        "hidden_units_permuted",
        SUITE,
        METAMORPHIC_MLP,
        metamorphic_mlp,
        code=hidden_units_permuted,
        not_exported=_ITSELF.format("gradients of a net with hidden units permuted"),
    ),
    Check(
        "steps_equal_single_steps_chained",
        SUITE,
        METAMORPHIC_MLP + METAMORPHIC_LOGISTIC,
        metamorphic,
        code=steps_equal_single_steps_chained,
        not_exported=_ITSELF.format("k steps in one run against k one-step runs"),
    ),
    Check(
        "repeated_run_repeats_the_trajectory",
        SUITE,
        METAMORPHIC_MLP[:2],
        code=repeated_run_repeats_the_trajectory,
        not_exported=_ITSELF.format("a second identical run against the first"),
    ),
    Check(
        "native_op_repeats_its_first_run",
        SUITE,
        METAMORPHIC_MLP[:2],
        code=native_op_repeats_its_first_run,
        not_exported=_ITSELF.format("a prepared native op's later runs against its first"),
    ),
    Check(
        "float32_run_is_float32_arithmetic",
        SUITE,
        C.MLP_TRAJECTORIES,
        code=float32_run_is_float32_arithmetic,
        not_exported=(
            "compares how many elements of the implementation's float32 run equal the float64 reference rounded "
            "to float32 with a bound; the run and the reference are exported by test_mlp_sgd_trajectory"
        ),
    ),
    # many nets at once: batched training, each framework's own initialisers, convergence statistics
    Check(
        "mlp_batched_training_matches_each_net_alone",
        CONVERGENCE,
        C.BATCHED_CASES,
        operation="mlp_train_batched",
        build=mlp_batched,
        needs=_batched_needs,
    ),
    Check(
        "mlp_init_draws_from_its_distribution",
        CONVERGENCE,
        C.INIT_CASES,
        code=mlp_init_draws_from_its_distribution,
        not_exported=(
            "statistical tests (moments, Kolmogorov–Smirnov) of the implementation's own random draws (mlp_init): "
            "there are no expected values, only laws"
        ),
    ),
    Check(
        "initial_parameters_are_drawn_independently",
        CONVERGENCE,
        C.INIT_CASES,
        code=initial_parameters_are_drawn_independently,
        not_exported=(
            "counts coincident values among the implementation's own random draws (mlp_init) against a Poisson "
            "bound and bounds their correlations (Bernstein): there are no expected values"
        ),
    ),
    Check(
        "xor_convergence_rate_matches_reference",
        CONVERGENCE,
        C.CONVERGENCE_CASES,
        code=xor_convergence_rate_matches_reference,
        marks=("convergence",),
        not_exported=(
            "convergence statistics: 1000 nets from the implementation's own initialisation and generator, their "
            "learned rate against the reference's by a two-proportion z-test"
        ),
    ),
)


# The suite's other tests: exploration runs checks above on drawn cases (test_explore.py), the benchmarks time
# the native ops (benchmarks/test_benchmarks.py).  tests/test_export.py holds these names to what pytest collects.
EXPLORE_TESTS = tuple(
    f"test_explore_{name}"
    for name in (
        "mlp_forward",
        "mlp_loss_and_gradients",
        "mlp_saturation",
        "logistic_loss_and_gradient",
        "mlp_one_sgd_step",
        "mlp_sgd_trajectory",
        "mlp_adam_trajectory",
        "logistic_gradient_descent_trajectory",
        "rows_permuted_or_duplicated",
        "hidden_units_permuted",
        "steps_equal_single_steps_chained",
    )
)
BENCHMARK_TESTS = ("test_task", "test_compile", "test_parity_scaling", "test_batched_scaling")


def suite_tests() -> set[str]:
    """The name of every test function of the conformance suite, its exploration and its benchmarks."""
    return {c.test for c in CHECKS.values()} | set(EXPLORE_TESTS) | set(BENCHMARK_TESTS)
