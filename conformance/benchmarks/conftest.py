"""Benchmark session set-up: one thread per framework, and what was not benchmarked, into the JSON.

Threads: the benchmarks compare dispatch and arithmetic on one core, so each framework is
pinned to one thread.  torch and numpy's BLAS read ``OMP_NUM_THREADS`` when they load, and
XLA (JAX, TF's jit_compile) reads ``XLA_FLAGS``; tox's ``bench`` env sets both.  TensorFlow's
own pools ignore the environment, so they are set here, before TF runs its first op.  What
each framework then reports is written to the JSON (``gatespec.threads``) and to every
benchmark's ``extra_info``; with benchmarks enabled, a framework left on more than one
thread fails the run rather than publish timings of another machine shape.
"""

from __future__ import annotations

import pytest

from gatespec.conformance.benchmarks import processes
from gatespec.conformance.benchmarks.threads import XLA_ONE_THREAD, pin_tensorflow_threads, thread_settings, unpinned

_EXCLUDED = pytest.StashKey[list]()
_MEASURED = pytest.StashKey[list]()  # processes.Measured: the tasks timed in alternation with the baseline


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bench: a pytest-benchmark timing (run alone by `tox -e bench`)")
    config.stash[_EXCLUDED] = []
    config.stash[_MEASURED] = []
    pin_tensorflow_threads()


@pytest.fixture
def threads(benchmark, impl) -> dict[str, str]:
    """The thread settings, for extra_info; with timing on, a failure if ``impl``'s framework is unpinned."""
    settings = thread_settings() | {f"{impl.framework} {k}": v for k, v in impl.threads().items()}
    if not benchmark.disabled and (bad := unpinned(settings, impl.framework) + impl.pin_threads()):
        pytest.fail(
            f"benchmarks need one thread per framework; {impl.framework} is not pinned: " + "; ".join(bad) + ". "
            f"Run `tox -e bench`, or set OMP_NUM_THREADS=1 XLA_FLAGS='{XLA_ONE_THREAD}'.",
            pytrace=False,
        )
    return settings


@pytest.fixture(scope="session")
def baseline(pytestconfig: pytest.Config):
    """The implementation every task is timed in alternation with (``--gatespec-bench-baseline``), selected or not."""
    from gatespec.conformance.plugin import registry
    from gatespec.conformance.plugin.session import SESSION

    name = pytestconfig.getoption("--gatespec-bench-baseline")
    selected = {e.name: e for e in pytestconfig.stash[SESSION].entries}
    entry = selected.get(name) or (registry.builtin(name) if name in registry.BUILTINS else None)
    if entry is None or not entry.available:
        why = "not a registered implementation" if entry is None else entry.reason
        raise pytest.UsageError(
            f"--gatespec-bench-baseline {name}: {why}; select it with --gatespec-impl, or name a built-in"
        )
    return entry.impl


@pytest.fixture
def exclude(request: pytest.FixtureRequest):
    """Record why this benchmark's timing must not be reported (the report lists it)."""

    def record(reason: str) -> None:
        request.config.stash[_EXCLUDED].append({"name": request.node.name, "reason": reason})

    return record


@pytest.fixture
def measured(request: pytest.FixtureRequest):
    """Record a task timed in alternation with the baseline, for the fresh processes at the end of the run."""

    def record(impl: str, task: str, extra_info: dict) -> None:
        request.config.stash[_MEASURED].append(processes.Measured(request.node.name, impl, task, extra_info))

    return record


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session):
    """The paired timing again in ``--gatespec-bench-processes`` − 1 fresh processes (processes.py), before
    pytest-benchmark's own sessionfinish writes the JSON.  A task a fresh process could not time is
    excluded from the report and fails the run: its ratio would stand on the run's process alone."""
    config = session.config
    measured, n = config.stash.get(_MEASURED, []), config.getoption("--gatespec-bench-processes")
    # Every task that passed its checks, whatever else failed; not after an interrupt or an internal error.
    if measured and n > 1 and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        job = processes.spec(
            measured,
            select=config.getoption("--gatespec-impl"),
            baseline=config.getoption("--gatespec-bench-baseline"),
            device=config.getoption("--gatespec-device"),
            seconds=config.getoption("--gatespec-bench-paired-time"),
        )
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        say = reporter.write_line if reporter is not None else print
        failed = processes.remeasure(measured, job, n, say=say)
        for name, reason in failed:
            config.stash[_EXCLUDED].append({"name": name, "reason": reason})
            say(f"gatespec: {name}: {reason}")
        if failed:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run each task's implementations one after another (task-major), not each implementation's tasks.

    A ratio divides two medians measured at different moments; on a shared machine the speed
    drifts over minutes (numpy's 1000-step run: 76 ms in one run, 102 ms in the next), so the
    closer in time the pair, the less drift enters the ratio.  Only benchmarks move, among
    the places they already hold.
    """
    places = [k for k, item in enumerate(items) if item.get_closest_marker("bench") is not None]

    def key(item: pytest.Item) -> tuple:
        params = getattr(item, "callspec", None)
        params = params.params if params is not None else {}
        case = params.get("case")
        return (item.originalname, getattr(case, "id", ""))

    # sorted() is stable: within a task the implementations keep the plugin's order (numpy first).
    ordered = sorted((items[k] for k in places), key=key)
    for k, item in zip(places, ordered):
        items[k] = item


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(config: pytest.Config, benchmarks: list, output_json: dict) -> None:
    from gatespec.conformance.plugin.session import SESSION

    session = config.stash.get(SESSION, None)
    declared = {
        f"{e.impl.framework} {k}": v
        for e in (session.entries if session else ())
        if e.available
        for k, v in e.impl.threads().items()
    }
    output_json["gatespec"] = {
        "threads": thread_settings() | declared,
        "excluded": config.stash.get(_EXCLUDED, []),
        "baseline": config.getoption("--gatespec-bench-baseline"),
    }
