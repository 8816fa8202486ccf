"""pytest-benchmark timings of every implementation's native path, on the same work.

- ``test_task``: forward, loss + gradients, one SGD step and a 1000-step XOR run (groups
  ``xor-*``: frameworks side by side); after pytest-benchmark's own timing, each task is timed
  again in alternation with the baseline (``--gatespec-bench-baseline``, numpy) for the paired ratio
  and its interval that the report and the gate use (:mod:`.paired`, ``extra_info["paired"]``),
  then again in ``--gatespec-bench-processes`` − 1 fresh processes at the end of the run (:mod:`.processes`);
  a compiled or looped style is also timed in alternation with its idiom written by hand (:mod:`.handwritten`,
  ``extra_info["handwritten"]``): the report's "× hand-written", what the adapter adds to the framework's work;
- ``test_compile``: the first call of a compiled style from cold caches (groups ``compile-*``);
  the report subtracts the steady state to get the compile time;
- ``test_parity_scaling``: 10 SGD steps on parity-n, 2^n rows, n = 2…16 (groups ``parity-NN``);
- ``test_batched_scaling``: 1…4096 XOR nets trained at once (groups ``batched-NNNN``).

Everything runs in float32 on ``--gatespec-device``.  Inputs are prepared on the native path outside
the timed region; ``NativeOp.run`` blocks until the result exists (``block_until_ready`` for
JAX) and restarts from the same parameters every call.  Before timing, a first call warms up
(compiles) and its result is checked against the reference, so calibration never swallows a
compile and a wrong implementation is never timed; the timed result is checked again after.
A rejected timing is listed, with the reason, in the JSON's ``gatespec.excluded`` and in the
report.  With ``--benchmark-disable`` (the README's test run) each benchmark runs once, checked.

Run: ``tox -e bench`` (JSON, report and plots in ``reports/bench``).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from gatespec.conformance.benchmarks import handwritten
from gatespec.conformance.benchmarks import paired as P
from gatespec.conformance.benchmarks import tasks as K
from gatespec.conformance.benchmarks.expected import check_batched, check_task
from gatespec.conformance.plugin.collect import require
from gatespec.conformance.spec.interface import Capability, Target
from gatespec.conformance.spec.operations import optimizer_capability

pytestmark = pytest.mark.bench


@pytest.fixture(scope="session")
def bench_target(pytestconfig: pytest.Config) -> Target:
    return Target(K.DTYPE, pytestconfig.getoption("--gatespec-device"))


# ----------------------------------------------------------------------------- expected results


# ----------------------------------------------------------------------------- timing


def _checked(check, exclude, what: str):
    """Run ``check``; a failure records why the timing is rejected, then fails the test."""
    try:
        return check()
    except AssertionError as exc:
        exclude(f"{what} disagrees with the reference: {str(exc).splitlines()[0]}")
        raise


def _time(benchmark, op, check, exclude) -> Any:
    """Warm up and check, time ``op.run`` in steady state, check what was timed."""
    if not benchmark.disabled:
        _checked(lambda: check(op.once()), exclude, "warm-up result")
    result = benchmark(op.run)
    return _checked(lambda: check(op.to_numpy(result)), exclude, "timed result")


def _describe(benchmark, impl, target: Target, threads: dict, task, *, kind: str, **more: Any) -> None:
    work = task.work()
    benchmark.group = task.id if kind != "compile" else f"compile-{task.id}"
    benchmark.extra_info.update(
        {
            "kind": kind,
            "task": task.id,
            "implementation": impl.name,
            "framework": impl.framework,
            "version": impl.framework_version(),
            "dtype": target.dtype,
            "device": target.device,
            "threads": threads,
            "steps": getattr(task, "steps", 0),
            "net_steps": task.net_steps,
            "flops": work.flops,
            "transcendentals": work.transcendentals,
            **more,
        }
    )


def _require_optimizer(impl, task: K.Task, target: Target) -> None:
    """A training task needs its optimizer's capability too (the Adam task: MLP_TRAIN_ADAM)."""
    if task.op == "mlp_train":
        require(impl, optimizer_capability(task.optimizer), target.dtype)


def _paired(benchmark, op, base_op, check, exclude, seconds: float) -> None:
    """The paired ratio to the baseline (paired.py) into extra_info; ``op`` is checked again after."""
    pairs = P.measure(base_op.run, op.run, max_time=seconds)
    _checked(lambda: check(op.once()), exclude, "result after the paired timing")
    benchmark.extra_info["paired"] = pairs.as_json()


@pytest.mark.gatespec_cases(K.TASKS)
def test_task(benchmark, impl, case, bench_target, threads, exclude, baseline, measured, pytestconfig):
    require(impl, Capability.NATIVE, bench_target.dtype)
    _require_optimizer(impl, case, bench_target)
    _describe(benchmark, impl, bench_target, threads, case, kind="task", rows=case.rows, sizes=list(case.sizes))
    op = impl.native(case.op, bench_target, **case.inputs())
    check = functools.partial(check_task, impl, case)
    benchmark.extra_info["final_loss"] = _time(benchmark, op, check, exclude)
    # The style's idiom written by hand (handwritten/): checked like the style, timed in alternation with it.
    hand = handwritten.program(impl.name, case, bench_target)
    if hand is not None:
        _checked(lambda: check(hand.once()), exclude, "hand-written program's result")
    if benchmark.disabled or impl.name == baseline.name:
        return
    if hand is not None:
        seconds = pytestconfig.getoption("--gatespec-bench-paired-time")
        benchmark.extra_info["handwritten"] = P.measure(hand.run, op.run, max_time=seconds).as_json()
    # The gate's ratio: this implementation in alternation with the baseline, in this process.
    base_op = baseline.native(case.op, bench_target, **case.inputs())
    _checked(lambda: check_task(baseline, case, base_op.once()), exclude, f"baseline {baseline.name}'s result")
    benchmark.extra_info["baseline"] = baseline.name
    _paired(benchmark, op, base_op, check, exclude, pytestconfig.getoption("--gatespec-bench-paired-time"))
    measured(impl.name, case.id, benchmark.extra_info)  # timed again in fresh processes at the end (processes.py)


# An implementation that compiles nothing has no compile time: its first call is its steady state (test_task).
@pytest.mark.gatespec_compiled
@pytest.mark.gatespec_cases(K.TASKS)
def test_compile(benchmark, impl, case, bench_target, threads, exclude):
    require(impl, Capability.NATIVE, bench_target.dtype)
    _require_optimizer(impl, case, bench_target)
    _describe(benchmark, impl, bench_target, threads, case, kind="compile", rows=case.rows, sizes=list(case.sizes))
    prepared = []

    def cold() -> tuple[tuple, dict]:
        impl.clear_caches()
        prepared.append(impl.native(case.op, bench_target, **case.inputs()))  # untimed: data on the device
        return (prepared[-1],), {}

    # Each round: forget every compiled function, then time one call (trace + compile + run).
    result = benchmark.pedantic(lambda op: op.run(), setup=cold, rounds=3, iterations=1)
    _checked(lambda: check_task(impl, case, prepared[-1].to_numpy(result)), exclude, "first-call result")


@pytest.mark.gatespec_cases(K.PARITY)
def test_parity_scaling(benchmark, impl, case, bench_target, threads, exclude):
    require(impl, Capability.NATIVE, bench_target.dtype)
    _describe(benchmark, impl, bench_target, threads, case, kind="parity", rows=case.rows, sizes=list(case.sizes))
    op = impl.native(case.op, bench_target, **case.inputs())
    benchmark.extra_info["final_loss"] = _time(benchmark, op, lambda r: check_task(impl, case, r), exclude)


@pytest.mark.gatespec_cases(K.BATCHED)
def test_batched_scaling(benchmark, impl, case, bench_target, threads, exclude):
    require(impl, Capability.MLP_TRAIN_BATCHED, bench_target.dtype)
    require(impl, Capability.NATIVE, bench_target.dtype)
    _describe(benchmark, impl, bench_target, threads, case, kind="batched", nets=case.nets)
    op = impl.native("mlp_train_batched", bench_target, **case.inputs())
    benchmark.extra_info["mean_final_loss"] = _time(benchmark, op, lambda r: check_batched(impl, case, r), exclude)
