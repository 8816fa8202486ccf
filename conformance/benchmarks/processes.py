"""The paired timing again in fresh processes: the offset each process carries, outvoted.

Pairing cancels the machine's drift between moments, but not what differs between processes:
memory layout, the code each one compiled, what ran before in it.  That offset is the same for
every pair one process times, so two full runs moved ratios by up to 34% while each run's
interval was a few percent wide (README, "paired ratios").  So the paired timing of every task
(:func:`paired.measure`, against the same baseline, for the same time) runs in ``--gatespec-bench-processes``
processes: the pytest run's own, then N − 1 fresh ones started at the end of the run, one after
the other, each importing the selected frameworks, checking every result against the reference
before and after timing it, as the run does.  Each task's ratio is then the median over the
processes (:class:`paired.Processes`), written where the run's one-process ratio was
(``extra_info["paired"]``), so the report and the gate read it unchanged.

A fresh process is this module run as a program: ``python -m gatespec.conformance.benchmarks.processes
SPEC OUT`` reads what to time from the JSON file SPEC and writes each ratio's samples, or why it has
none, to OUT.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatespec.conformance.benchmarks import paired as P
from gatespec.conformance.plugin.defaults import BENCH_PROCESSES

PROCESSES = BENCH_PROCESSES
# The name a fresh process runs this module by: its installed name, whatever name pytest imported it under
# (``--pyargs`` from this checkout imports it as ``conformance.benchmarks.processes``, a package that exists
# only here, and every fresh process of an installed gatespec failed on it).
MODULE = "gatespec.conformance.benchmarks.processes"


@dataclass(frozen=True)
class Measured:
    """A task the run timed in alternation with the baseline: its benchmark's name, and its extra_info to update."""

    name: str
    impl: str
    task: str
    extra_info: dict


def spec(
    measured: list[Measured], *, select: list[str] | None, baseline: str, device: str, seconds: float
) -> dict[str, Any]:
    """What a fresh process times: each (implementation, task) against ``baseline``, for ``seconds`` each.

    ``select``: the run's ``--gatespec-impl`` values, so that the fresh process loads the same implementations, those
    named by ``module:attr`` or ``exec:COMMAND`` included (None: every one, as the run).
    """
    return {
        "select": select,
        "baseline": baseline,
        "device": device,
        "seconds": seconds,
        "pairs": [{"impl": m.impl, "task": m.task} for m in measured],
    }


def key(impl: str, task: str) -> str:
    return f"{impl}:{task}"


def remeasure(measured: list[Measured], job: dict[str, Any], processes: int, say=print) -> list[tuple[str, str]]:
    """Time ``job`` in ``processes`` − 1 fresh processes; each measured task's ``extra_info["paired"]`` becomes the
    median over them and the run's own.  Returns (benchmark name, why) for each task a fresh process could not
    time (a failed check, an unavailable framework, a crash): those ratios must not be published."""
    runs = []
    for k in range(2, processes + 1):
        say(f"gatespec: paired timing in fresh process {k}/{processes} ({len(measured)} tasks)")
        runs.append(_spawn(job))
    failed = []
    for m in measured:
        own = P.Paired.from_json(m.extra_info["paired"])
        found = [run.get(key(m.impl, m.task)) or run.get("*") or {"error": "not measured"} for run in runs]
        errors = [f"process {k}: {data['error']}" for k, data in enumerate(found, start=2) if "error" in data]
        if errors:
            failed.append((m.name, "paired timing in a fresh process failed: " + "; ".join(errors)))
            continue
        m.extra_info["paired"] = P.Processes((own, *(P.Paired.from_json(data) for data in found))).as_json()
    return failed


def _spawn(job: dict[str, Any]) -> dict[str, dict]:
    """Run one fresh process on ``job``: {key: samples or {"error": why}}, or {"*": {"error": why}} if it crashed."""
    with tempfile.TemporaryDirectory(prefix="gatespec-paired-") as tmp:
        spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec_path.write_text(json.dumps(job))
        proc = subprocess.run(
            [sys.executable, "-m", MODULE, str(spec_path), str(out_path)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0 or not out_path.exists():
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return {"*": {"error": f"exited with status {proc.returncode}: {tail}"}}
        return json.loads(out_path.read_text())


def measure_all(job: dict[str, Any]) -> dict[str, dict]:
    """Here: each (implementation, task) of ``job`` warmed up, checked, timed against the baseline, checked."""
    from gatespec.conformance.benchmarks import tasks as K
    from gatespec.conformance.benchmarks import threads
    from gatespec.conformance.benchmarks.expected import (
        check_task,  # the run's own check: every result held to the same budgets
    )
    from gatespec.conformance.plugin import registry
    from gatespec.conformance.spec.interface import Target

    entries = {e.name: e for e in registry.select(job["select"])}
    if job["baseline"] not in entries and job["baseline"] in registry.BUILTINS:
        entries[job["baseline"]] = registry.builtin(job["baseline"])  # a baseline the run did not select
    threads.pin_tensorflow_threads()  # before TF's first op, as the run's pytest_configure does
    target, tasks = Target(K.DTYPE, job["device"]), {t.id: t for t in K.TASKS}
    base_ops, out = {}, {}
    for pair in job["pairs"]:
        task = tasks[pair["task"]]
        try:
            for name in (job["baseline"], pair["impl"]):
                e = entries.get(name)
                if e is None or not e.available:
                    raise RuntimeError(f"{name} does not load here: {e.reason if e else 'not selected'}")
                if bad := threads.unpinned(threads.thread_settings(), e.impl.framework) + e.impl.pin_threads():
                    raise RuntimeError(f"{e.impl.framework} is not on one thread: " + "; ".join(bad))
            baseline, impl = entries[job["baseline"]].impl, entries[pair["impl"]].impl
            if task.id not in base_ops:  # kept only once its result has passed
                base_op = baseline.native(task.op, target, **task.inputs())
                check_task(baseline, task, base_op.once())
                base_ops[task.id] = base_op
            op = impl.native(task.op, target, **task.inputs())
            check_task(impl, task, op.once())
            pairs = P.measure(base_ops[task.id].run, op.run, max_time=job["seconds"])
            check_task(impl, task, op.once())
            out[key(pair["impl"], pair["task"])] = pairs.as_json()
        except Exception as exc:  # reported by the run that started this process, which publishes no ratio for it
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            out[key(pair["impl"], pair["task"])] = {"error": f"{type(exc).__name__}: {first}"}
    return out


def main(argv: list[str]) -> int:
    spec_path, out_path = argv
    Path(out_path).write_text(json.dumps(measure_all(json.loads(Path(spec_path).read_text()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
