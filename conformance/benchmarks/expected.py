"""What a benchmarked task must return: the reference's result, held to the conformance suite's budgets.

Shared by the timed run (``test_benchmarks``) and the fresh processes that time the same tasks
again (``processes``): both check every result before and after timing it, so a wrong
implementation is never timed, and with the same budgets.
"""

from __future__ import annotations

import functools
from typing import Any

from gatespec.conformance import tolerances as T
from gatespec.conformance.checks import assert_close, param_name
from gatespec.conformance.interface import MLPTrajectory
from gatespec.reference import mlp

from . import tasks as K


@functools.cache
def _reference(task: K.Task) -> Any:
    inputs = task.inputs()
    if task.op == "mlp_forward":
        return mlp.forward(inputs["params"], inputs["X"])
    if task.op == "mlp_loss_and_grads":
        return mlp.loss_and_grads(inputs["params"], inputs["X"], inputs["y"])
    return mlp.train(inputs["params"], inputs["X"], inputs["y"], task.optimizer, task.steps)


@functools.cache
def _bounds(task: K.Task) -> T.ErrorBounds:
    return T.mlp_error_bounds(task.params, task.gate.X, task.gate.y)


@functools.cache
def _spread(task: K.Task) -> T.TrajectorySpread:
    inputs = task.inputs()
    return T.trajectory_spread(inputs["params"], inputs["X"], inputs["y"], task.optimizer, task.steps, K.DTYPE)


def check_task(impl, task: K.Task, result: Any) -> float | None:
    """Compare with the reference under the conformance suite's own budgets (tolerances.tolerance):
    the case's running error bounds for one evaluation, its trajectory spread for training.
    The final loss for extra_info where the op computes one."""
    desired, check = _reference(task), {"impl": impl, "case": task, "dtype": K.DTYPE}
    if task.op == "mlp_forward":
        E = _bounds(task)
        for name, a, d, e in zip(("logits", "probabilities"), result, desired, (E.z, E.p)):
            assert_close(a, d, tol=T.tolerance(impl.name, "value", K.DTYPE, bound=e), quantity=name, **check)
        return None
    if task.op == "mlp_loss_and_grads":
        (loss, grads), E = result, _bounds(task)
        assert_close(
            loss, desired[0], tol=T.tolerance(impl.name, "value", K.DTYPE, bound=E.loss), quantity="loss", **check
        )
        for k, (a, d, e) in enumerate(zip(grads, desired[1], E.grads)):
            tol = T.tolerance(impl.name, "gradient", K.DTYPE, bound=e)
            assert_close(a, d, tol=tol, quantity=f"gradient {param_name(k)}", **check)
        return float(loss)
    assert isinstance(result, MLPTrajectory), f"{impl.name}: mlp_train returned {type(result).__name__}"
    tols, tol_loss = _spread(task).budget(impl.name)
    for k, (a, d, tol) in enumerate(zip(result.params, desired.params, tols)):
        assert_close(a, d, tol=tol, quantity=f"trajectory {param_name(k)}", **check)
    assert_close(result.losses, desired.losses, tol=tol_loss, quantity="losses", **check)
    return float(result.losses[-1])
