"""The conformance suite: every implementation against the numpy reference, one test per check.

Each test serves every implementation and dtype through the plugin's ``impl`` and ``target``
fixtures, crossed with the cases of :mod:`gatespec.conformance.cases`; an operation an
implementation does not declare is skipped with its reason.  Tolerances come from
:mod:`gatespec.conformance.tolerances` (derived, never fitted); threshold predictions and
perceptron runs on the dyadic grid must match exactly.

Run: ``pytest conformance/test_conformance.py [--gatespec-impl NAME …]``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from gatespec.conformance import cases as C
from gatespec.conformance import generated as G
from gatespec.conformance import tolerances as T
from gatespec.conformance.checks import (
    assert_close,
    assert_close_params,
    assert_equal_exact,
    central_gradient,
    param_name,
    require,
    zip_params,
)
from gatespec.conformance.interface import Capability, MLPTrajectory, Target
from gatespec.reference import logistic, mlp, perceptron
from gatespec.reference.mlp import SGD, Adam

Cap = Capability

# The notebook's cases first, then the generated ones (conformance/generated.py).
MLP_VALUES = C.MLP_CASES + G.STRUCTURE
LOGISTIC_VALUES = C.LOGISTIC_CASES + G.LOGISTIC


def _core_only(impl, case, capability: Capability, dtype: str) -> None:
    """Skip a generated case outside generated.CORE for a style that pays seconds per new shape (see generated.py)."""
    require(impl, capability, dtype)
    generated = isinstance(case, (G.GeneratedMLPCase, G.GeneratedLogisticCase))
    if generated and not case.regression and case not in G.CORE and (impl.compiled or impl.name in C.EAGER_STYLES):
        how = "traces and compiles" if impl.compiled else "dispatches op by op, compiling each op"
        pytest.skip(
            f"{impl.name} {how} per net shape and dtype (seconds a case): it runs generated.CORE, every level of "
            "every factor once; the full covering design runs on the styles that do not (numpy, autograd, torch)"
        )


def _tol(impl, quantity: str, target: Target) -> T.Tolerance:
    return T.tolerance(impl.name, quantity, target.dtype)


def _sgd(case) -> SGD:
    """The case's SGD: the notebook's cases train with ``case.lr``, the generated ones with their own step size."""
    return case.optimizer if isinstance(case, G.GeneratedMLPCase) else case.sgd


def _bounds_on(case, X: np.ndarray, y: np.ndarray) -> T.ErrorBounds:
    """tolerances.mlp_error_bounds of the case's net (or logistic unit, X then with its bias column) on (X, y)."""
    if hasattr(case, "params"):
        return T.mlp_error_bounds(case.params, X, y)
    params, X_ = logistic.as_mlp(X, case.w)
    return T.mlp_error_bounds(params, X_, y)


@functools.lru_cache(maxsize=256)
def _bounds(case) -> T.ErrorBounds:
    """The running error analysis of the case on its own gate."""
    g = case.gate
    return _bounds_on(case, g.X if hasattr(case, "params") else g.Xb, g.y)


def _logistic_grad_bound(case) -> np.ndarray:
    return logistic.from_mlp(*_bounds(case).grads)


@functools.lru_cache(maxsize=256)
def _spread(case, optimizer, steps: int, dtype: str) -> T.TrajectorySpread:
    """The trajectory spread (tolerances.trajectory_spread) of ``steps`` of ``optimizer`` from the case's start."""
    g = case.gate
    if hasattr(case, "params"):
        return T.trajectory_spread(case.params, g.X, g.y, optimizer, steps, dtype)
    params, X = logistic.as_mlp(g.Xb, case.w)
    return T.trajectory_spread(params, X, g.y, optimizer, steps, dtype)


def _budget(impl, case, optimizer, steps: int, target: Target, total: int | None = None):
    """Per-parameter and loss tolerances for the first ``steps`` of a ``total``-step run (default: ``steps``)."""
    return _spread(case, optimizer, total or steps, target.dtype).budget(impl.name, steps)


def _logistic_budget(impl, case, steps: int, target: Target) -> tuple[T.Tolerance, T.Tolerance]:
    """(weights, losses) budgets of a gradient-descent run: the one-layer net's spread, W and b joined as w."""
    spread = _spread(case, SGD(case.eta), steps, target.dtype)
    W, b = (p[: steps + 1] for p in spread.params)
    weights = T.tolerance(impl.name, "trajectory", target.dtype, spread=logistic.from_mlp(W, b))
    return weights, T.tolerance(impl.name, "trajectory", target.dtype, spread=spread.losses[:steps])


# ----------------------------------------------------------------------------- threshold logic unit


def check_threshold_predictions_are_exact(impl, case, target):
    require(impl, Cap.TLU_PREDICT, target.dtype)
    g = case.gate
    actual = impl.tlu_predict(g.Xb, case.w, target)
    desired = perceptron.predict(g.Xb, case.w)
    assert_equal_exact(actual, desired, impl=impl, case=case, quantity="predictions g(X′w)", dtype=target.dtype)


@pytest.mark.gatespec_cases(C.GATES)
def test_threshold_predictions_are_exact(impl, case, target):
    check_threshold_predictions_are_exact(impl, case, target)


def check_perceptron_batch_step_is_exact(impl, case, target):
    require(impl, Cap.PERCEPTRON_STEP, target.dtype)
    g = case.gate
    actual = impl.perceptron_step(g.Xb, g.y, case.w, C.PERCEPTRON_ETA, target)
    desired = perceptron.batch_step(g.Xb, g.y, case.w, C.PERCEPTRON_ETA)
    assert_equal_exact(actual, desired, impl=impl, case=case, quantity="perceptron batch step", dtype=target.dtype)


@pytest.mark.gatespec_cases(C.GATES)
def test_perceptron_batch_step_is_exact(impl, case, target):
    check_perceptron_batch_step_is_exact(impl, case, target)


def check_perceptron_online_trajectory_is_exact(impl, case, target):
    require(impl, Cap.PERCEPTRON_ONLINE, target.dtype)
    g = case.gate
    actual = impl.perceptron_online(g.Xb, g.y, case.w, C.PERCEPTRON_ETA, case.order, target)
    desired = perceptron.train_online(g.Xb, g.y, case.w, C.PERCEPTRON_ETA, case.order).weights
    assert_equal_exact(actual, desired, impl=impl, case=case, quantity="online perceptron weights", dtype=target.dtype)


@pytest.mark.gatespec_cases(C.GATES)
def test_perceptron_online_trajectory_is_exact(impl, case, target):
    check_perceptron_online_trajectory_is_exact(impl, case, target)


# ----------------------------------------------------------------------------- forward values


def check_mlp_forward_matches_reference(impl, case, target):
    require(impl, Cap.MLP_FORWARD, target.dtype)
    z, p = impl.mlp_forward(case.params, case.gate.X, target)
    z_ref, p_ref = mlp.forward(case.params, case.gate.X)
    E, dt = _bounds(case), target.dtype
    tol = T.tolerance(impl.name, "value", dt, bound=E.z)
    assert_close(z, z_ref, tol=tol, impl=impl, case=case, quantity="logits", dtype=dt)
    tol = T.tolerance(impl.name, "value", dt, bound=E.p)
    assert_close(p, p_ref, tol=tol, impl=impl, case=case, quantity="probabilities", dtype=dt)


@pytest.mark.gatespec_cases(MLP_VALUES, joins=G.is_structure)
def test_mlp_forward_matches_reference(impl, case, target):
    _core_only(impl, case, Cap.MLP_FORWARD, target.dtype)
    check_mlp_forward_matches_reference(impl, case, target)


def check_mlp_loss_and_gradients_match_reference(impl, case, target):
    require(impl, Cap.MLP_LOSS_GRADS, target.dtype)
    g = case.gate
    loss, grads = impl.mlp_loss_and_grads(case.params, g.X, g.y, target)
    loss_ref, grads_ref = mlp.loss_and_grads(case.params, g.X, g.y)
    E, dt = _bounds(case), target.dtype
    assert_close(
        loss,
        loss_ref,
        tol=T.tolerance(impl.name, "value", dt, bound=E.loss),
        impl=impl,
        case=case,
        quantity="loss",
        dtype=dt,
    )
    for k, (a, d, e) in enumerate(zip_params(impl, case, "gradients", grads, grads_ref, E.grads)):
        tol = T.tolerance(impl.name, "gradient", dt, bound=e)
        assert_close(a, d, tol=tol, impl=impl, case=case, quantity=f"gradient {param_name(k)}", dtype=dt)


@pytest.mark.gatespec_cases(MLP_VALUES, joins=G.is_structure)
def test_mlp_loss_and_gradients_match_reference(impl, case, target):
    _core_only(impl, case, Cap.MLP_LOSS_GRADS, target.dtype)
    check_mlp_loss_and_gradients_match_reference(impl, case, target)


def check_logistic_loss_and_gradient_match_reference(impl, case, target):
    require(impl, Cap.LOGISTIC_LOSS_GRAD, target.dtype)
    g = case.gate
    loss, grad = impl.logistic_loss_and_grad(g.Xb, g.y, case.w, target)
    loss_ref, grad_ref = logistic.loss_and_grad(g.Xb, g.y, case.w)
    dt = target.dtype
    tol = T.tolerance(impl.name, "value", dt, bound=_bounds(case).loss)
    assert_close(loss, loss_ref, tol=tol, impl=impl, case=case, quantity="loss", dtype=dt)
    tol = T.tolerance(impl.name, "gradient", dt, bound=_logistic_grad_bound(case))
    assert_close(grad, grad_ref, tol=tol, impl=impl, case=case, quantity="gradient", dtype=dt)


@pytest.mark.gatespec_cases(LOGISTIC_VALUES, joins=G.is_logistic)
def test_logistic_loss_and_gradient_match_reference(impl, case, target):
    _core_only(impl, case, Cap.LOGISTIC_LOSS_GRAD, target.dtype)
    check_logistic_loss_and_gradient_match_reference(impl, case, target)


# ----------------------------------------------------------------------------- gradients, three ways
#
# (1) the implementation's autodiff against (2) the reference's hand-written backprop is the
# test above; (2) against (3) central differences checks the reference itself, and (1)
# against (3) checks the implementation without trusting the reference.  Finite differences
# run in float64 only (in float32 their rounding error ε₃₂/h ≈ 2e-2 would swamp the check)
# and skip the saturating cases, where the loss is piecewise linear to within e^{−|z|} and
# the FD error analysis of FINITE_DIFFERENCE (|θ| ≤ 4) does not hold.


# The generated nets within FINITE_DIFFERENCE's derivation (|θ| ≤ 4: the tiny and unit scales; ≤ 16 rows)
# and small enough that 2·(parameters) loss evaluations stay cheap in the eager styles (≤ 40 parameters).
def _fd_mlp(case) -> bool:
    return G.is_structure(case) and case.scale in ("tiny", "unit") and len(case.gate.y) <= 16 and _size(case) <= 40


def _size(case) -> int:
    return sum(p.size for p in case.params)


def _fd_logistic(case) -> bool:
    return G.is_logistic(case) and case.gate.n_inputs <= 4 and case.id.split("-eta")[0].endswith(("tiny", "unit"))


FD_MLP = tuple(c for c in C.MLP_CASES if c.steps) + tuple(filter(_fd_mlp, G.STRUCTURE))
FD_LOGISTIC = tuple(c for c in C.LOGISTIC_CASES if "saturating" not in c.name) + tuple(filter(_fd_logistic, G.LOGISTIC))


def _mlp_fd(loss_of, params):
    """Central differences of ``loss_of(params)`` for every parameter array, in the canonical layout."""
    out = []
    for k, p in enumerate(params):

        def f(theta, k=k):
            return float(loss_of(tuple(theta if j == k else q for j, q in enumerate(params))))

        out.append(central_gradient(f, np.array(p)))
    return tuple(out)


def check_reference_gradients_match_finite_differences(case):
    g = case.gate
    if hasattr(case, "params"):
        desired = _mlp_fd(lambda p: mlp.loss(p, g.X, g.y), case.params)
        actual = mlp.loss_and_grads(case.params, g.X, g.y)[1]
        assert_close_params(
            actual, desired, tol=T.FINITE_DIFFERENCE, impl="reference", case=case, quantity="gradient vs FD"
        )
    else:
        desired = central_gradient(lambda w: logistic.loss(g.Xb, g.y, w), np.array(case.w))
        actual = logistic.loss_and_grad(g.Xb, g.y, case.w)[1]
        assert_close(actual, desired, tol=T.FINITE_DIFFERENCE, impl="reference", case=case, quantity="gradient vs FD")


@pytest.mark.parametrize("case", FD_MLP + FD_LOGISTIC, ids=lambda c: c.id)
def test_reference_gradients_match_finite_differences(case):
    check_reference_gradients_match_finite_differences(case)


def _float64_only(target: Target) -> None:
    if target.dtype != "float64":
        pytest.skip("central differences need float64: in float32 their rounding error ε/h ≈ 2e-2 swamps the check")


def check_mlp_autodiff_matches_finite_differences_of_its_own_loss(impl, case, target):
    require(impl, Cap.MLP_LOSS_GRADS, target.dtype)
    _float64_only(target)
    g = case.gate
    desired = _mlp_fd(lambda p: impl.mlp_loss_and_grads(p, g.X, g.y, target)[0], case.params)
    actual = impl.mlp_loss_and_grads(case.params, g.X, g.y, target)[1]
    tol, dt = T.FINITE_DIFFERENCE, target.dtype
    assert_close_params(actual, desired, tol=tol, impl=impl, case=case, quantity="gradient vs FD", dtype=dt)


@pytest.mark.gatespec_cases(FD_MLP, joins=_fd_mlp)
def test_mlp_autodiff_matches_finite_differences_of_its_own_loss(impl, case, target):
    _core_only(impl, case, Cap.MLP_LOSS_GRADS, target.dtype)
    check_mlp_autodiff_matches_finite_differences_of_its_own_loss(impl, case, target)


def check_logistic_autodiff_matches_finite_differences_of_its_own_loss(impl, case, target):
    require(impl, Cap.LOGISTIC_LOSS_GRAD, target.dtype)
    _float64_only(target)
    g = case.gate
    desired = central_gradient(lambda w: float(impl.logistic_loss_and_grad(g.Xb, g.y, w, target)[0]), np.array(case.w))
    actual = impl.logistic_loss_and_grad(g.Xb, g.y, case.w, target)[1]
    tol, dt = T.FINITE_DIFFERENCE, target.dtype
    assert_close(actual, desired, tol=tol, impl=impl, case=case, quantity="gradient vs FD", dtype=dt)


@pytest.mark.gatespec_cases(FD_LOGISTIC, joins=_fd_logistic)
def test_logistic_autodiff_matches_finite_differences_of_its_own_loss(impl, case, target):
    _core_only(impl, case, Cap.LOGISTIC_LOSS_GRAD, target.dtype)
    check_logistic_autodiff_matches_finite_differences_of_its_own_loss(impl, case, target)


# ----------------------------------------------------------------------------- one training step


# Budgets of single steps and of whole runs come from one derivation, tolerances.trajectory_spread.


def check_logistic_one_gradient_descent_step(impl, case, target):
    require(impl, Cap.LOGISTIC_TRAIN, target.dtype)
    g = case.gate
    run = impl.logistic_train(g.Xb, g.y, case.w, case.eta, 1, target)
    ref = logistic.gradient_descent(g.Xb, g.y, case.w, case.eta, 1)
    tol_w, tol_loss = _logistic_budget(impl, case, 1, target)
    dt, what = target.dtype, f"η = {case.eta:g}"
    assert_close(run.losses, ref.losses, tol=tol_loss, impl=impl, case=case, quantity=f"loss at w₀, {what}", dtype=dt)
    assert_close(run.weights, ref.weights, tol=tol_w, impl=impl, case=case, quantity=f"w₀, w₁, {what}", dtype=dt)


@pytest.mark.gatespec_cases(LOGISTIC_VALUES, joins=G.is_logistic)
def test_logistic_one_gradient_descent_step(impl, case, target):
    _core_only(impl, case, Cap.LOGISTIC_TRAIN, target.dtype)
    check_logistic_one_gradient_descent_step(impl, case, target)


def check_mlp_one_sgd_step(impl, case, target):
    require(impl, Cap.MLP_TRAIN_SGD, target.dtype)
    g, sgd = case.gate, _sgd(case)
    run = impl.mlp_train(case.params, g.X, g.y, sgd, 1, target)
    ref = mlp.train(case.params, g.X, g.y, sgd, 1)
    tols, tol_loss = _budget(impl, case, sgd, 1, target)
    dt, what = target.dtype, f"SGD({sgd.lr:g})"
    assert_close(run.losses, ref.losses, tol=tol_loss, impl=impl, case=case, quantity=f"loss at θ₀, {what}", dtype=dt)
    for k, (a, d, tol) in enumerate(zip_params(impl, case, "parameters", run.params, ref.params, tols)):
        quantity = f"{what} θ₀, θ₁ {param_name(k)}"
        assert_close(a, d, tol=tol, impl=impl, case=case, quantity=quantity, dtype=dt)


@pytest.mark.gatespec_cases(MLP_VALUES, joins=G.is_structure)
def test_mlp_one_sgd_step(impl, case, target):
    _core_only(impl, case, Cap.MLP_TRAIN_SGD, target.dtype)
    check_mlp_one_sgd_step(impl, case, target)


def check_mlp_one_adam_step(impl, case, target):
    require(impl, Cap.MLP_TRAIN_ADAM, target.dtype)
    g = case.gate
    run = impl.mlp_train(case.params, g.X, g.y, C.ADAM, 1, target)
    desired = C.reference_adam_step(case.params, g.X, g.y, C.ADAM)
    tols, _ = _budget(impl, case, C.ADAM, 1, target)
    for k, (a, d, tol) in enumerate(zip_params(impl, case, "parameters", run.params, desired, tols)):
        tol = tol.at(1)
        quantity = f"Adam θ₁ {param_name(k)}"
        assert_close(a[1], d, tol=tol, impl=impl, case=case, quantity=quantity, dtype=target.dtype)


@pytest.mark.gatespec_cases(MLP_VALUES, joins=G.is_structure)
def test_mlp_one_adam_step(impl, case, target):
    _core_only(impl, case, Cap.MLP_TRAIN_ADAM, target.dtype)
    check_mlp_one_adam_step(impl, case, target)


# ----------------------------------------------------------------------------- whole trajectories


# Runs are cached so that the trajectory and the learned-table checks share one run, and the
# reference runs once per case rather than once per implementation and dtype.


@functools.lru_cache(maxsize=64)
def _mlp_run(impl, case, target: Target):
    g = case.gate
    steps = case.steps_for(impl.name) if isinstance(case, C.MLPCase) else case.steps
    return impl.mlp_train(case.params, g.X, g.y, _sgd(case), steps, target)


@functools.lru_cache(maxsize=64)
def _mlp_reference(case, optimizer: SGD | Adam, steps: int) -> MLPTrajectory:
    return mlp.train(case.params, case.gate.X, case.gate.y, optimizer, steps)


def check_logistic_gradient_descent_trajectory(impl, case, target):
    require(impl, Cap.LOGISTIC_TRAIN, target.dtype)
    g = case.gate
    run = impl.logistic_train(g.Xb, g.y, case.w, case.eta, case.steps, target)
    ref = logistic.gradient_descent(g.Xb, g.y, case.w, case.eta, case.steps)
    tol_w, tol_loss = _logistic_budget(impl, case, case.steps, target)
    dt, quantity = target.dtype, f"over {case.steps} steps of η = {case.eta:g}"
    assert_close(run.weights, ref.weights, tol=tol_w, impl=impl, case=case, quantity=f"weights {quantity}", dtype=dt)
    assert_close(run.losses, ref.losses, tol=tol_loss, impl=impl, case=case, quantity=f"losses {quantity}", dtype=dt)


@pytest.mark.gatespec_cases(C.LOGISTIC_TRAJECTORIES + G.LOGISTIC, joins=G.is_logistic)
def test_logistic_gradient_descent_trajectory(impl, case, target):
    _core_only(impl, case, Cap.LOGISTIC_TRAIN, target.dtype)
    check_logistic_gradient_descent_trajectory(impl, case, target)


def _check_trajectory(impl, case, target, run, optimizer, steps: int, total: int, name: str) -> None:
    ref = _mlp_reference(case, optimizer, total)
    tols, tol_loss = _budget(impl, case, optimizer, steps, target, total)
    quantity = f"{name} over {steps} steps"
    if steps < total:
        quantity += f" (of {total}: {C.EAGER_STYLES[impl.name]})"
    dt = target.dtype
    for k, (a, d, tol) in enumerate(zip_params(impl, case, "parameters", run.params, ref.params, tols)):
        what = f"{quantity} {param_name(k)}"
        assert_close(a, d[: steps + 1], tol=tol, impl=impl, case=case, quantity=what, dtype=dt)
    desired = ref.losses[:steps]
    assert_close(run.losses, desired, tol=tol_loss, impl=impl, case=case, quantity=f"losses, {quantity}", dtype=dt)


def check_mlp_sgd_trajectory(impl, case, target):
    require(impl, Cap.MLP_TRAIN_SGD, target.dtype)
    run = _mlp_run(impl, case, target)
    sgd = _sgd(case)
    total = case.steps
    steps = case.steps_for(impl.name) if isinstance(case, C.MLPCase) else total
    _check_trajectory(impl, case, target, run, sgd, steps, total, f"SGD({sgd.lr:g})")


@pytest.mark.gatespec_cases(C.MLP_TRAJECTORIES + G.SGD_TRAINING, joins=G.is_sgd_training)
def test_mlp_sgd_trajectory(impl, case, target):
    _core_only(impl, case, Cap.MLP_TRAIN_SGD, target.dtype)
    check_mlp_sgd_trajectory(impl, case, target)


def check_mlp_adam_trajectory(impl, case, target):
    """Every step of a multi-step Adam run: β₁, β₂ and ε matter from step 2 on (the first step is ±lr·sign(g))."""
    require(impl, Cap.MLP_TRAIN_ADAM, target.dtype)
    g, opt = case.gate, case.optimizer
    run = impl.mlp_train(case.params, g.X, g.y, opt, case.steps, target)
    _check_trajectory(impl, case, target, run, opt, case.steps, case.steps, G.optimizer_id(opt))


@pytest.mark.gatespec_cases(G.ADAM_TRAINING, joins=G.is_adam_training)
def test_mlp_adam_trajectory(impl, case, target):
    _core_only(impl, case, Cap.MLP_TRAIN_ADAM, target.dtype)
    check_mlp_adam_trajectory(impl, case, target)


# ----------------------------------------------------------------------------- learned truth tables


def check_logistic_regression_learns_separable_gates(impl, case, target):
    require(impl, Cap.LOGISTIC_TRAIN, target.dtype)
    if impl.name in C.EAGER_STYLES and case.gate_name not in C.NOTEBOOK_GATES:
        pytest.skip(f"{impl.name} learns only the notebook's gates {C.NOTEBOOK_GATES}: {C.EAGER_STYLES[impl.name]}")
    g = case.gate
    run = impl.logistic_train(g.Xb, g.y, np.zeros(g.Xb.shape[1]), 1.0, C.LEARN_STEPS, target)
    # The reference's final margins are ≥ 2.6 (cases.LEARN_STEPS), so no rounding can move a row across z = 0.
    learned = gates_predict(g.Xb, run.final)
    assert_equal_exact(learned, g.y, impl=impl, case=case, quantity=f"truth table after {C.LEARN_STEPS} GD steps")


@pytest.mark.gatespec_cases([c for c in C.GATES if c.gate_name in C.SEPARABLE])
def test_logistic_regression_learns_separable_gates(impl, case, target):
    check_logistic_regression_learns_separable_gates(impl, case, target)


def _perceptron_learning_order(case) -> tuple[np.ndarray, int]:
    """The cyclic order the learning check runs from w = 0, and its epochs: one full epoch past the reference's
    convergence for a separable gate, 12 epochs otherwise (gatespec export builds the same run)."""
    g = case.gate
    n = len(g.y)
    if case.gate_name in C.SEPARABLE:
        w0 = np.zeros(g.Xb.shape[1])
        converged_at = perceptron.train_online(
            g.Xb, g.y, w0, C.PERCEPTRON_ETA, perceptron.cyclic_order(n, 400)
        ).converged_at
        epochs = converged_at // n + 2
    else:
        epochs = 12
    return perceptron.cyclic_order(n, epochs), epochs


def check_perceptron_learns_exactly_the_separable_gates(impl, case, target):
    """From w = 0 in cyclic order, Rosenblatt's rule realises every separable gate and never XOR/XNOR/parity.

    η = ½ and w₀ = 0 keep every weight on the dyadic grid, so the implementation's run must
    equal the reference's bit for bit; then its last weights must realise a separable gate
    (the run lasts one full epoch past the reference's convergence, and the rule cannot move
    a separating w), and none of the weights it visited in 12 epochs may realise a
    non-separable one.
    """
    require(impl, Cap.PERCEPTRON_ONLINE, target.dtype)
    g = case.gate
    w0 = np.zeros(g.Xb.shape[1])
    separable = case.gate_name in C.SEPARABLE
    order, epochs = _perceptron_learning_order(case)
    weights = impl.perceptron_online(g.Xb, g.y, w0, C.PERCEPTRON_ETA, order, target)
    reference = perceptron.train_online(g.Xb, g.y, w0, C.PERCEPTRON_ETA, order).weights
    quantity = f"weights over {epochs} cyclic epochs"
    assert_equal_exact(weights, reference, impl=impl, case=case, quantity=quantity, dtype=target.dtype)
    realised = np.all((np.asarray(weights, dtype=np.float64) @ g.Xb.T > 0) == (g.y == 1), axis=1)
    if separable:
        assert_equal_exact(realised[-1:], [True], impl=impl, case=case, quantity=f"gate realised after {epochs} epochs")
    else:
        visited = realised.any(keepdims=True)
        assert_equal_exact(visited, [False], impl=impl, case=case, quantity="gate realised at some step")


@pytest.mark.gatespec_cases(C.GATES)
def test_perceptron_learns_exactly_the_separable_gates(impl, case, target):
    check_perceptron_learns_exactly_the_separable_gates(impl, case, target)


def check_mlp_learns_its_gate(impl, case, target):
    require(impl, Cap.MLP_TRAIN_SGD, target.dtype)
    if case.steps_for(impl.name) < case.steps:
        pytest.skip(f"{impl.name} runs {case.steps_for(impl.name)} of {case.steps} steps: {C.EAGER_STYLES[impl.name]}")
    g = case.gate
    final = _mlp_run(impl, case, target).final  # the trajectory check's run
    learned = (mlp.forward(tuple(np.asarray(p, dtype=np.float64) for p in final), g.X)[0] > 0).astype(np.float64)
    assert_equal_exact(learned, g.y, impl=impl, case=case, quantity=f"truth table after {case.steps} SGD steps")


@pytest.mark.gatespec_cases([c for c in C.MLP_TRAJECTORIES if c.learns])
def test_mlp_learns_its_gate(impl, case, target):
    check_mlp_learns_its_gate(impl, case, target)


def gates_predict(Xb: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The class a logistic unit predicts, p > ½ ⇔ X′w > 0, in float64."""
    return (Xb @ np.asarray(w, dtype=np.float64) > 0).astype(np.float64)


# ----------------------------------------------------------------------------- saturation


def _finite(x, impl, case, quantity: str) -> None:
    x = np.asarray(x)
    if not np.all(np.isfinite(x)):
        raise AssertionError(f"{impl.name} / {case.id} / {quantity}: non-finite values at |z| ≫ 30:\n{x!r}")


def check_logistic_loss_and_gradient_survive_saturation(impl, case, target):
    require(impl, Cap.LOGISTIC_LOSS_GRAD, target.dtype)
    g = case.gate
    loss, grad = impl.logistic_loss_and_grad(g.Xb, g.y, case.w, target)
    _finite(loss, impl, case, "loss")
    _finite(grad, impl, case, "gradient")
    loss_ref, grad_ref = logistic.loss_and_grad(g.Xb, g.y, case.w)
    dt = target.dtype
    tol = T.tolerance(impl.name, "value", dt, bound=_bounds(case).loss)
    assert_close(loss, loss_ref, tol=tol, impl=impl, case=case, quantity="saturated loss", dtype=dt)
    tol = T.tolerance(impl.name, "gradient", dt, bound=_logistic_grad_bound(case))
    assert_close(grad, grad_ref, tol=tol, impl=impl, case=case, quantity="saturated grad", dtype=dt)


@pytest.mark.gatespec_cases(C.LOGISTIC_SATURATING)
def test_logistic_loss_and_gradient_survive_saturation(impl, case, target):
    check_logistic_loss_and_gradient_survive_saturation(impl, case, target)


def check_mlp_loss_and_gradients_survive_saturation(impl, case, target):
    """|z| ≥ 1000 on rows confidently right (loss ≈ 0) and wrong (loss ≈ |z|): e^{|z|} overflows both dtypes."""
    require(impl, Cap.MLP_LOSS_GRADS, target.dtype)
    g = case.gate
    loss, grads = impl.mlp_loss_and_grads(case.params, g.X, g.y, target)
    _finite(loss, impl, case, "loss")
    for k, gr in enumerate(grads):
        _finite(gr, impl, case, f"gradient {param_name(k)}")
    loss_ref, grads_ref = mlp.loss_and_grads(case.params, g.X, g.y)
    E, dt = _bounds(case), target.dtype
    tol = T.tolerance(impl.name, "value", dt, bound=E.loss)
    assert_close(loss, loss_ref, tol=tol, impl=impl, case=case, quantity="saturated loss", dtype=dt)
    for k, (a, d, e) in enumerate(zip_params(impl, case, "gradients", grads, grads_ref, E.grads)):
        tol = T.tolerance(impl.name, "gradient", dt, bound=e)
        assert_close(a, d, tol=tol, impl=impl, case=case, quantity=f"saturated grad {param_name(k)}", dtype=dt)


@pytest.mark.gatespec_cases((C.SATURATING_221, *G.SATURATING), joins=G.is_saturating)
def test_mlp_loss_and_gradients_survive_saturation(impl, case, target):
    check_mlp_loss_and_gradients_survive_saturation(impl, case, target)


def check_single_example_loss_matches_reference(impl, case, target):
    """The notebook's naive −log σ(w·x): expected to FAIL at saturation wherever written as the notebook does.

    That failure is the point: every implementation that writes the notebook's form declares it among its
    ``known_deviations``, with the reason, and the report shows it as xfail.
    """
    require(impl, Cap.SINGLE_EXAMPLE_LOSS_GRAD, target.dtype)
    loss, grad = impl.single_example_loss_and_grad(case.x, case.w, target)
    loss_ref, grad_ref = logistic.single_example_loss_and_grad(case.x, case.w)
    _finite(loss, impl, case, "single-example loss")
    _finite(grad, impl, case, "single-example gradient")
    tol, dt = _tol(impl, "value", target), target.dtype
    assert_close(loss, loss_ref, tol=tol, impl=impl, case=case, quantity="single-example loss", dtype=dt)
    tol = _tol(impl, "gradient", target)
    assert_close(grad, grad_ref, tol=tol, impl=impl, case=case, quantity="single-ex. grad", dtype=dt)


@pytest.mark.gatespec_cases(C.SINGLE_EXAMPLE)
def test_single_example_loss_matches_reference(impl, case, target):
    check_single_example_loss_matches_reference(impl, case, target)


# ----------------------------------------------------------------------------- checks that need no reference
#
# Metamorphic relations: each compares the implementation with itself, so a bug the reference
# shares, or a case the reference cannot reach, still shows.  Both sides are the implementation's
# own results, each within ε·E of the exact value (the running error analysis of the case), so
# they may differ by 2ε·E: the same bound= budget as against the reference.


def _metamorphic_cases() -> tuple:
    """The notebook's XOR net (two layers) and the first generated net of depth 3 and of depth 4 that can learn
    (not saturating): a relation broken only beyond two layers shows on those."""
    chosen = [C.XOR_221]
    for depth in (3, 4):
        chosen.append(next(c for c in G.STRUCTURE if len(c.params) == 2 * depth and not c.saturating))
    return tuple(chosen)


def _metamorphic_mlp(case) -> bool:
    """A net these relations hold on: learnable (not saturating), with hidden units to permute (depth ≥ 2)."""
    return G.is_structure(case) and not case.saturating and len(case.params) >= 4


def _metamorphic(case) -> bool:
    return _metamorphic_mlp(case) or G.is_logistic(case)


# Regressions found by exploring these checks (generated.REGRESSIONS; explore draws them as below) run here too.
METAMORPHIC_MLP = _metamorphic_cases() + tuple(filter(_metamorphic_mlp, G.REGRESSIONS))
METAMORPHIC_LOGISTIC = (C.LOGISTIC_CASES[2], G.LOGISTIC[0]) + tuple(filter(G.is_logistic, G.REGRESSIONS))
SINGLE_STEPS = 4


def _rounded(params, target: Target):
    """θ as the implementation holds it: the float64 values rounded to the target dtype."""
    return tuple(np.asarray(p, dtype=target.np_dtype).astype(np.float64) for p in params)


def check_zero_step_size_leaves_parameters_unchanged(impl, case, target):
    """θ − 0·g = θ exactly, for SGD, Adam (0·m̂/(√v̂ + ε) = 0) and gradient descent alike."""
    g, dt = case.gate, target.dtype
    if not hasattr(case, "params"):
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


@pytest.mark.gatespec_cases(METAMORPHIC_MLP + METAMORPHIC_LOGISTIC, joins=_metamorphic)
def test_zero_step_size_leaves_parameters_unchanged(impl, case, target):
    check_zero_step_size_leaves_parameters_unchanged(impl, case, target)


def _loss_and_grads(impl, case, X, y, target):
    """The implementation's loss and gradients as one tuple of arrays (W₁, b₁, … or w), for either model."""
    if hasattr(case, "params"):
        loss, grads = impl.mlp_loss_and_grads(case.params, X, y, target)
        return loss, tuple(grads)
    loss, grad = impl.logistic_loss_and_grad(X, y, case.w, target)
    return loss, (grad,)


def _grad_bounds(case, X, y):
    """(loss bound, gradient bounds in the layout of :func:`_loss_and_grads`) on (X, y)."""
    E = _bounds_on(case, X, y)
    return E.loss, (E.grads if hasattr(case, "params") else (logistic.from_mlp(*E.grads),))


def check_rows_permuted_or_duplicated(impl, case, target):
    """l and ∇l are sums over rows: a permutation leaves them as they are, a second copy of the data doubles them."""
    mlp_case = hasattr(case, "params")
    require(impl, Cap.MLP_LOSS_GRADS if mlp_case else Cap.LOGISTIC_LOSS_GRAD, target.dtype)
    g, dt = case.gate, target.dtype
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


@pytest.mark.gatespec_cases(METAMORPHIC_MLP + METAMORPHIC_LOGISTIC, joins=_metamorphic)
def test_rows_permuted_or_duplicated(impl, case, target):
    check_rows_permuted_or_duplicated(impl, case, target)


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


def check_hidden_units_permuted(impl, case, target):
    """The net with two hidden units swapped computes the same function: its loss is the same and its gradients
    are the original ones permuted alike (a backprop that mixes up units or layers breaks the symmetry)."""
    require(impl, Cap.MLP_LOSS_GRADS, target.dtype)
    g, dt = case.gate, target.dtype
    layer, perm = _hidden_permutation(case.params)
    loss, grads = impl.mlp_loss_and_grads(case.params, g.X, g.y, target)
    permuted = _permute_units(case.params, layer, perm)
    loss_p, grads_p = impl.mlp_loss_and_grads(permuted, g.X, g.y, target)
    E = _bounds(case)
    tol = T.tolerance(impl.name, "value", dt, bound=E.loss)
    quantity = f"loss, units of hidden layer {layer + 1} permuted"
    assert_close(loss_p, loss, tol=tol, impl=impl, case=case, quantity=quantity, dtype=dt)
    expected = _permute_units(tuple(np.asarray(x, dtype=np.float64) for x in grads), layer, perm)
    E_perm = _permute_units(E.grads, layer, perm)
    for k, (a, d, e) in enumerate(zip_params(impl, case, "gradients, units permuted", grads_p, expected, E_perm)):
        tol = T.tolerance(impl.name, "gradient", dt, bound=e)
        quantity = f"gradient {param_name(k)}, units of hidden layer {layer + 1} permuted"
        assert_close(a, d, tol=tol, impl=impl, case=case, quantity=quantity, dtype=dt)


@pytest.mark.gatespec_cases(METAMORPHIC_MLP, joins=_metamorphic_mlp)
def test_hidden_units_permuted(impl, case, target):
    check_hidden_units_permuted(impl, case, target)


def check_steps_equal_single_steps_chained(impl, case, target):
    """SGD and gradient descent keep no state: k steps of one run equal k one-step runs, each from the last's end
    (momentum, accumulated gradients or stale activations carried between steps break it)."""
    g, dt = case.gate, target.dtype
    k = SINGLE_STEPS
    if not hasattr(case, "params"):
        require(impl, Cap.LOGISTIC_TRAIN, target.dtype)
        run = impl.logistic_train(g.Xb, g.y, case.w, case.eta, k, target)
        w, chained = np.array(case.w), [_rounded([case.w], target)[0]]
        for _ in range(k):
            w = np.asarray(impl.logistic_train(g.Xb, g.y, w, case.eta, 1, target).final, dtype=np.float64)
            chained.append(w)
        tol_w, _ = _logistic_budget(impl, case, k, target)
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
    tols, _ = _budget(impl, case, sgd, k, target)
    for j, (a, tol) in enumerate(zip_params(impl, case, "parameters", run.params, tols)):
        desired = np.stack([c[j] for c in chained])
        quantity = f"SGD(0.3) θ_t {param_name(j)}, {k} steps in one run vs one at a time"
        assert_close(a, desired, tol=tol, impl=impl, case=case, quantity=quantity, dtype=dt)


@pytest.mark.gatespec_cases(METAMORPHIC_MLP + METAMORPHIC_LOGISTIC, joins=_metamorphic)
def test_steps_equal_single_steps_chained(impl, case, target):
    check_steps_equal_single_steps_chained(impl, case, target)


REPEATED_ADAM = Adam(0.05, 0.5, 0.99, 1e-6)  # every hyperparameter off its default, so none can hide


def check_repeated_run_repeats_the_trajectory(impl, case, target):
    """Two identical training calls give the same run: nothing (an optimizer's step count or moments, a cached
    model, accumulated gradients) carries from one call into the next."""
    g, dt = case.gate, target.dtype
    optimizers = [(Cap.MLP_TRAIN_SGD, SGD(0.3)), (Cap.MLP_TRAIN_ADAM, REPEATED_ADAM)]
    if not any(impl.supports(cap, dt) for cap, _ in optimizers):
        require(impl, Cap.MLP_TRAIN_ADAM, target.dtype)
    for cap, opt in optimizers:
        if not impl.supports(cap, dt):
            continue
        first = impl.mlp_train(case.params, g.X, g.y, opt, SINGLE_STEPS, target)
        second = impl.mlp_train(case.params, g.X, g.y, opt, SINGLE_STEPS, target)
        tols, tol_loss = _budget(impl, case, opt, SINGLE_STEPS, target)
        what = f"{G.optimizer_id(opt)}, second of two identical runs"
        pairs = zip_params(impl, case, "parameters", second.params, first.params, tols)
        for k, (a, d, tol) in enumerate(pairs):
            desired = np.asarray(d, dtype=np.float64)
            quantity = f"{what}: θ_t {param_name(k)}"
            assert_close(a, desired, tol=tol, impl=impl, case=case, quantity=quantity, dtype=dt)
        desired = np.asarray(first.losses, dtype=np.float64)
        assert_close(second.losses, desired, tol=tol_loss, impl=impl, case=case, quantity=f"{what}: losses", dtype=dt)


@pytest.mark.gatespec_cases(METAMORPHIC_MLP[:2])
def test_repeated_run_repeats_the_trajectory(impl, case, target):
    check_repeated_run_repeats_the_trajectory(impl, case, target)
