"""What a benchmarked task must return: the conformance check of its operation, on the task's net.

Shared by the timed run (``test_benchmarks``) and the fresh processes that time the same tasks
again (``processes``): both check every result before and after timing it, so a wrong
implementation is never timed.  The comparisons and budgets are the suite's own builders
(:mod:`gatespec.conformance.spec.checks`) on the task as an MLP case.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gatespec.conformance.benchmarks import tasks as K
from gatespec.conformance.spec import checks as S
from gatespec.conformance.spec import tolerances as T
from gatespec.conformance.spec.compare import assert_close, param_name
from gatespec.conformance.spec.interface import BatchedRun, MLPTrajectory, Target
from gatespec.conformance.spec.operations import named_results
from gatespec.reference import gates, mlp
from gatespec.reference.mlp import SGD

# The check each native op's task answers; a training task is its whole run (SGD's check, or Adam's).
BUILDERS = {
    "mlp_forward": S.mlp_forward,
    "mlp_loss_and_grads": S.mlp_loss_and_gradients,
    "mlp_train": S.mlp_sgd_trajectory,
}


def check_task(impl, task: K.Task, result: Any) -> float | None:
    """Compare with the reference under the conformance suite's own budgets; the final loss for extra_info where
    the op computes one."""
    # The whole run, never a slow eager style's prefix: the benchmark times every step it asks for.
    who = S.stand_in(impl.name)
    adam = task.op == "mlp_train" and not isinstance(task.optimizer, SGD)
    vector = (S.mlp_adam_trajectory if adam else BUILDERS[task.op])(who, task.case, K.DTYPE)
    named = named_results(task.op, result, f"{impl.name} / {task.id}")
    S.compare(impl, task, Target(K.DTYPE), vector, named)
    if task.op == "mlp_forward":
        return None
    return float(named["loss"]) if task.op == "mlp_loss_and_grads" else float(named["losses"][-1])


@functools.cache
def _alone(task: K.BatchedTask, b: int) -> tuple[MLPTrajectory, T.TrajectorySpread]:
    """Net b trained alone by the reference, and that run's spread (its budget)."""
    g = gates.gate("xor")
    run = mlp.train(task.per_net[b], g.X, g.y, task.optimizer, task.steps)
    return run, T.trajectory_spread(task.per_net[b], g.X, g.y, task.optimizer, task.steps, K.DTYPE)


def check_batched(impl, task: K.BatchedTask, result: Any) -> float:
    """Every checked net of a batched run against the reference training it alone, under that run's spread; the
    mean final loss for extra_info."""
    assert isinstance(result, BatchedRun), f"{impl.name}: mlp_train_batched returned {type(result).__name__}"
    check = {"impl": impl, "case": task, "dtype": K.DTYPE}
    for b in task.checked():
        alone, spread = _alone(task, b)
        tols, tol_loss = spread.budget(impl.name)
        for k, (a, d, tol) in enumerate(zip(result.net(b), alone.final, tols)):
            assert_close(a, d, tol=tol.at(-1), quantity=f"net {b} final {param_name(k)}", **check)
        assert_close(result.losses[:, b], alone.losses, tol=tol_loss, quantity=f"net {b} losses", **check)
    return float(np.mean(result.losses[-1]))
