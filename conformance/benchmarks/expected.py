"""What a benchmarked task must return: the conformance check of its operation, on the task's net.

Shared by the timed run (``test_benchmarks``) and the fresh processes that time the same tasks
again (``processes``): both check every result before and after timing it, so a wrong
implementation is never timed.  The comparisons and budgets are the suite's own builders
(:mod:`gatespec.conformance.spec.checks`) on the task as an MLP case.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from gatespec.conformance.benchmarks import tasks as K
from gatespec.conformance.spec import checks as S
from gatespec.conformance.spec.interface import Target
from gatespec.conformance.spec.operations import named_results

# The check each native op's task answers; a training task is its whole SGD run.
BUILDERS = {
    "mlp_forward": S.mlp_forward,
    "mlp_loss_and_grads": S.mlp_loss_and_gradients,
    "mlp_train": S.mlp_sgd_trajectory,
}


def check_task(impl, task: K.Task, result: Any) -> float | None:
    """Compare with the reference under the conformance suite's own budgets; the final loss for extra_info where
    the op computes one."""
    # The whole run, never a slow eager style's prefix: the benchmark times every step it asks for.
    who = SimpleNamespace(name=impl.name, slow_eager="", compiled=False)
    vector = BUILDERS[task.op](who, task.case, K.DTYPE)
    named = named_results(task.op, result, f"{impl.name} / {task.id}")
    S.compare(impl, task, Target(K.DTYPE), vector, named)
    if task.op == "mlp_forward":
        return None
    return float(named["loss"]) if task.op == "mlp_loss_and_grads" else float(named["losses"][-1])
