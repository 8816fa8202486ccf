"""Instructions retired per call of a benchmark task, counted by valgrind's cachegrind: a noise-free companion to time.

    I_call = (I(N₂) − I(N₁)) / (N₂ − N₁)

where I(N) is the number of instructions a child process executes (every thread, and with
``--trace-children=yes`` every process it starts, summed) when it imports the implementation,
prepares the task's native op in float32 on the CPU, calls it once to warm up (trace, compile),
and then calls ``op.run()`` N times.  Everything but the N₂ − N₁ extra calls is the same in both
runs, so Python's start-up, the framework's import, the warm-up and any compile cancel; what
is left is the steady-state cost of one call, as the timing benchmarks see it
(:mod:`.test_benchmarks`), in instructions instead of seconds.

**Why cachegrind.**  Hardware counters (``perf stat -e instructions``) need a PMU the kernel
exposes; shared CI machines and containers usually have none (this one answers
``<not supported>``).  ``valgrind --tool=cachegrind --cache-sim=no`` counts the guest
instructions it executes ("I refs", Ir) on any Linux, as CodSpeed does on shared CI.  It counts
user-space instructions only (no kernel time, no waiting), and it runs the program 30–100×
slower, which is what limits the tasks and implementations it is affordable for (below).

**Not noise-free by construction, but nearly.**  The count does not depend on the machine's
load or clock, but it does depend on anything that changes the code path: hash seeds
(``PYTHONHASHSEED=0``), thread counts (one thread everywhere: ``OMP_NUM_THREADS=1``,
``XLA_FLAGS`` as the benchmarks set it, TensorFlow's pools set to 1), address-space layout
(allocator paths) and how valgrind interleaves threads that spin or poll.  The child runs in
that fixed environment; :func:`measure` with ``repeats=2`` measures twice and reports the
relative spread |a − b| / max(a, b), which must stay within :data:`REPEATABILITY`.

**Checked, never silently skipped.**  The warm-up result is pickled by the child and checked by
this (un-instrumented) process against the reference with the benchmarks' own budgets
(``expected.check_task``): a wrong implementation is never counted.  Every pair that is
not counted is in the output with its reason: valgrind missing, implementation unavailable
or without a float32 native path, the child failing or timing out under valgrind, a result that
disagrees with the reference, a process that did not finish.

**Exec-protocol implementations** (node-plain, c-plain) declare no native path ("a program is
timed through the protocol's pipe, not on its own arrays"), so the timing benchmarks skip them
and so does this counter, with that reason (the child finds it out: ~20–35 s of valgrind).
Children are followed all the same (``--trace-children=yes``; each process's count is summed and
listed), so an implementation that computes in a process of its own is counted whole.

**Cost.**  Each run pays the fixed part under valgrind (~45× slower than native): Python and
numpy ~4·10⁸ instructions, gatespec ~4·10⁸ more, torch ~5.6·10⁹, jax ~1.0·10¹⁰, TensorFlow
~2·10¹⁰.  Measured on this machine (2 cores shared with other jobs, load 7–9; valgrind 3.19,
CPython 3.11, numpy 2.4, autograd 1.9, torch 2.13, jax 0.10, TF 2.21): wall and CPU seconds of
one measurement (both runs), instructions per call, N₁ → N₂:

    impl            task              wall s   CPU s   instructions/call   N₁ → N₂
    numpy           xor-forward          34      31            73,800        10 → 410
    numpy           xor-loss-grads       36      24           193,800        10 → 210
    numpy           xor-sgd-step         33      20           432,600        10 → 210
    numpy           xor-train-1000       52      33       266,900,000         1 → 3
    autograd        xor-forward          32       —           115,500        10 → 1010
    autograd        xor-loss-grads       53      29         2,753,000        10 → 210
    autograd        xor-sgd-step         84      40         2,984,000        10 → 210
    torch-autograd  xor-forward         172       —            72,100        10 → 1010
    jax-jit         xor-forward         291       —           120,600        10 → 1010
    tf-function     xor-forward         509       —         1,996,000        10 → 1010
    node-plain, c-plain             20–34 s to learn: no native path (not counted)

Repeatability, the same measurement twice in one session: numpy xor-forward 73,793.5 and
73,799.6 per call (spread 8·10⁻⁵; run totals 8.7·10⁸ agreed within 3·10³); numpy xor-sgd-step
432,603.9 and 432,809.6 (4.8·10⁻⁴: both runs of the second measurement were ~7.4·10⁵ higher,
a shift that mostly cancels, leaving 4·10⁴ over 200 calls).  N₂ − N₁ is chosen so the extra
calls carry ≥ 3·10⁷ instructions; :data:`REPEATABILITY` = 10⁻³ is what both met.  Between
sessions (other paths, environment) numpy's forward moved by up to 0.3% (73,660–73,880),
likely the allocator placing arrays elsewhere and numpy's loops taking other alignment paths:
compare counts from one session.

**Default set** (:data:`DEFAULT_PAIRS`, ~4 CPU-minutes in all): numpy on the four XOR tasks and
autograd on all but the 1000-step run (≈3·10⁹ instructions per call: minutes per run).  Every
compiled or framework style costs 3–9 minutes per measurement here, almost all of it the import
and compile that cancel: torch-* ~170 s, jax-* ~290 s, tf-* ~500 s whatever the task (the
table's; flax-nnx, equinox and keras-* not measured, at least their backend's).  Measure them on
request (``--impl jax-jit``, with ``--timeout``).  Cutting that cost needs counting that starts
after the warm-up (callgrind's ``--instr-atstart=no`` and a client request from the child)
instead of two full runs; valgrind 3.19's cachegrind has no such switch.

Command line::

    python -m gatespec.conformance.benchmarks.instructions \\
        [--impl numpy,torch-autograd] [--task xor-forward,xor-sgd-step] [--repeats 2] [--jobs 2] --out instr.json

writes the JSON :mod:`gatespec.conformance.report.instructions` reads.  Without ``--impl`` and
``--task`` it measures :data:`DEFAULT_PAIRS`; given one of them, those implementations on
:data:`DEFAULT_TASKS`, or those tasks for :data:`DEFAULT_IMPLS`.
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gatespec.conformance.benchmarks import tasks as K
from gatespec.conformance.benchmarks.threads import XLA_ONE_THREAD, pin_tensorflow_threads

SCHEMA = "gatespec-instructions/1"

VALGRIND_ARGS = (
    "--tool=cachegrind",
    "--cache-sim=no",  # only Ir: the cache simulation would cost time and tell nothing here
    "--branch-sim=no",
    "--trace-children=yes",  # exec-protocol programs compute in a child process
)

# The relative spread two measurements of the same pair may show (see the module docstring's table).
REPEATABILITY = 1e-3

# (N₁, N₂) per task: N₂ − N₁ calls must carry far more instructions than the run-to-run jitter of
# the fixed part (start-up, import, compile: ~10⁴–10⁵ of 10⁹–10¹⁰), and N₁ ≥ 1 so that the
# second call, which can still fill caches after the warm-up, is in the fixed part.
ITERATIONS: dict[str, tuple[int, int]] = {
    "xor-forward": (10, 410),
    "xor-loss-grads": (10, 210),
    "xor-sgd-step": (10, 210),
    "xor-train-1000": (1, 3),
}
DEFAULT_ITERATIONS = (1, 3)  # parity tasks and anything else

# What the command measures without --impl or --task: the pairs whose measurement costs at most ~60 s
# of CPU (the module docstring's cost table says why these).
DEFAULT_IMPLS = ("numpy", "autograd")
DEFAULT_TASKS = ("xor-forward", "xor-loss-grads", "xor-sgd-step", "xor-train-1000")
DEFAULT_PAIRS = tuple(
    (impl, task) for task in DEFAULT_TASKS for impl in DEFAULT_IMPLS if (impl, task) != ("autograd", "xor-train-1000")
)

# The benchmarks' one-thread environment (benchmarks/threads.py), and a fixed hash seed.
CHILD_ENV = {
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "XLA_FLAGS": XLA_ONE_THREAD,
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONDONTWRITEBYTECODE": "1",  # a .pyc written by run 1 and read by run 2 would not cancel
}

DEFAULT_TIMEOUT = 600.0  # seconds one valgrind run may take before the pair is "not affordable"


class InstructionsError(ValueError):
    """A measurement that cannot be made as asked (bad iteration counts, counts that do not fit)."""


# ----------------------------------------------------------------------------- the arithmetic


def per_call(total_1: int, n_1: int, total_2: int, n_2: int) -> float:
    """I_call = (I(N₂) − I(N₁)) / (N₂ − N₁): the instructions of one call, the fixed part cancelled.

    Raises InstructionsError when N₂ ≤ N₁ or when I(N₂) ≤ I(N₁): more calls must cost more, and a
    count that does not grow means the calls did not run (or the counts were swapped).
    """
    if n_1 < 0 or n_2 <= n_1:
        raise InstructionsError(f"iterations: need 0 ≤ N₁ < N₂, got N₁={n_1}, N₂={n_2}")
    if total_2 <= total_1:
        raise InstructionsError(
            f"I(N₂={n_2}) = {total_2:,} is not above I(N₁={n_1}) = {total_1:,}: the extra calls cost nothing"
        )
    return (total_2 - total_1) / (n_2 - n_1)


def spread(values: list[float]) -> float:
    """(max − min) / max of repeated measurements: 0 for one, the relative disagreement otherwise."""
    if not values:
        raise InstructionsError("spread of no measurements")
    hi = max(values)
    return (hi - min(values)) / hi if hi else 0.0


def parse_cachegrind_out(text: str) -> int:
    """The Ir total of one cachegrind output file: its ``summary:`` line (``events: Ir`` first)."""
    events = re.search(r"^events:\s*(.+)$", text, re.M)
    summary = re.search(r"^summary:\s*(.+)$", text, re.M)
    if events is None or summary is None:
        raise InstructionsError("cachegrind output without 'events:' and 'summary:' lines (process killed?)")
    names, values = events.group(1).split(), summary.group(1).split()
    if "Ir" not in names:
        raise InstructionsError(f"cachegrind output counts {names}, not Ir")
    return int(values[names.index("Ir")])


# ----------------------------------------------------------------------------- results


@dataclass
class Run:
    """One valgrind run: ``iterations`` calls after the warm-up, ``instructions`` summed over ``processes``."""

    iterations: int
    instructions: int
    processes: list[dict]  # {"command": ..., "instructions": ...} per process, the Python child first
    seconds: float  # wall
    cpu_seconds: float  # user + system, valgrind and every process it waited for


@dataclass
class Result:
    """One implementation × task: counted (``instructions_per_call``) or not (``reason``)."""

    impl: str
    task: str
    counted: bool = False
    reason: str = ""
    framework: str = ""
    version: str = ""
    instructions_per_call: float | None = None  # the mean of the repeats
    repeats: list[float] = field(default_factory=list)  # I_call of each measurement
    spread: float | None = None
    iterations: tuple[int, int] | None = None
    seconds_per_measurement: float | None = None  # wall seconds of the two runs, added
    cpu_seconds_per_measurement: float | None = None
    runs: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return asdict(self)


def not_counted(impl: str, task: str, reason: str, **more: Any) -> Result:
    return Result(impl, task, counted=False, reason=reason, **more)


# ----------------------------------------------------------------------------- preconditions


def valgrind_path() -> str | None:
    return shutil.which("valgrind")


def valgrind_missing() -> str | None:
    """Why instructions cannot be counted here at all, or None when valgrind is there."""
    if valgrind_path() is None:
        return "valgrind not found on PATH: instructions are counted under valgrind's cachegrind (apt install valgrind)"
    return None


def interpreter() -> str:
    """The Python the children run: this one, as an executable valgrind can load (not a shell-script shim).

    ``sys.executable`` of a virtual environment is a symlink to the real interpreter; valgrind
    runs it through the symlink, so the child still finds the environment's ``pyvenv.cfg``.
    """
    exe = sys.executable
    if not exe:
        raise InstructionsError("sys.executable is empty: cannot start the measured interpreter")
    with open(os.path.realpath(exe), "rb") as f:
        magic = f.read(4)
    if magic != b"\x7fELF":
        raise InstructionsError(
            f"{exe} is not an ELF executable (a shell-script shim such as pyenv's?): valgrind would count the shell"
        )
    return exe


def expand(selectors: list[str]) -> list[str]:
    """``--impl`` values as implementation names, without importing any framework.

    A built-in name stays; a framework name (``torch``) becomes its built-in styles; ``module:attr``
    and ``exec:COMMAND`` pass through for the child to load (registry.select).
    """
    from gatespec.conformance.plugin import registry

    names: list[str] = []
    for sel in registry._split(selectors):
        if sel in registry.BUILTINS or ":" in sel:
            found = [sel]
        else:
            found = [n for n, (fw, _) in registry.BUILTINS.items() if fw == sel]
        if not found:
            raise InstructionsError(
                f"--impl {sel!r}: no such implementation or framework. Implementations: "
                f"{', '.join(registry.BUILTINS)}. Frameworks: {', '.join(registry.FRAMEWORKS)}."
            )
        names.extend(n for n in found if n not in names)
    return names


ALL_TASKS = (*K.TASKS, *K.PARITY, *K.BATCHED)


def task_by_id(task_id: str) -> K.Task | K.BatchedTask:
    """A task of :data:`tasks.TASKS`, :data:`tasks.PARITY` or :data:`tasks.BATCHED` by its id
    (``xor-forward``, ``parity-08``, ``batched-0064``)."""
    known = {t.id: t for t in ALL_TASKS}
    if task_id not in known:
        raise InstructionsError(f"--task {task_id!r}: expected one of {', '.join(known)}")
    return known[task_id]


def _op(task: K.Task | K.BatchedTask) -> str:
    return "mlp_train_batched" if isinstance(task, K.BatchedTask) else task.op


# ----------------------------------------------------------------------------- the child


def child_main(impl_name: str, task_id: str, iterations: int, out: str) -> int:
    """In the measured process: load, prepare, warm up once, then ``iterations`` calls of ``op.run``.

    Writes a pickle to ``out``: {"status": "ok", impl name, framework, version, the warm-up result}
    or {"status": "unavailable", "reason": ...}.  Every line runs in both measured runs, so
    only the loop at the end differs between them.
    """
    from gatespec.conformance.plugin import registry
    from gatespec.conformance.spec.interface import Capability, Target

    def done(payload: dict) -> int:
        with open(out, "wb") as f:
            pickle.dump(payload, f)
        return 0

    try:
        # A built-in alone: registry.select would import every framework to resolve a name, under valgrind.
        entry = registry.builtin(impl_name) if impl_name in registry.BUILTINS else registry.select([impl_name])[0]
    except registry.UsageError as exc:
        return done({"status": "unavailable", "reason": str(exc)})
    if not entry.available:
        return done({"status": "unavailable", "reason": f"{entry.name} unavailable: {entry.reason}"})
    impl = entry.impl
    pin_tensorflow_threads()  # TF's pools ignore the environment (benchmarks/threads.py)
    program = getattr(impl, "program", None)
    if program is not None:
        program.timeout = 3600.0  # an exec-protocol request under valgrind is 30–100× slower
    task = task_by_id(task_id)
    target = Target(K.DTYPE, "cpu")
    info = {"impl": impl.name, "framework": impl.framework, "version": impl.framework_version()}
    for needed in (Capability.NATIVE, *([Capability.MLP_TRAIN_BATCHED] if _op(task) == "mlp_train_batched" else [])):
        if not impl.supports(needed, target.dtype):
            why = impl.unsupported_reasons.get(needed, f"not declared for {target.dtype}")
            reason = f"{impl.name} has no {needed.value} ({why}): the timing benchmarks skip it too"
            return done({"status": "unavailable", "reason": reason, **info})
    op = impl.native(_op(task), target, **task.inputs())
    warm = op.once()
    for _ in range(iterations):
        op.run()
    return done({"status": "ok", "result": warm, **info})


# ----------------------------------------------------------------------------- one valgrind run


def _run_once(
    impl: str, task: str, iterations: int, index: int, *, timeout: float, valgrind: str, exe: str, workdir: Path
) -> tuple[Run, dict]:
    """One child under cachegrind: its Run and the child's pickled payload.  Raises InstructionsError with
    the reason when the child fails, times out, or a traced process leaves no count."""
    # Every path the child sees has the same length in both runs, and its working directory (sys.path[0]
    # under -m) is empty: a listing of a busy /tmp, or a longer argv, changes the count by ~10⁵.
    d = workdir / f"run-{index:04d}"
    d.mkdir()
    cwd = workdir / f"cwd-{index:04d}"
    cwd.mkdir()
    payload_path = d / "payload.pickle"
    cmd = [
        valgrind,
        *VALGRIND_ARGS,
        f"--cachegrind-out-file={d}/cg.%p.out",
        f"--log-file={d}/vg.%p.log",
        exe,
        "-m",
        __spec__.name if __spec__ else "gatespec.conformance.benchmarks.instructions",
        "--child",
        impl,
        task,
        f"{iterations:09d}",
        str(payload_path),
    ]
    env = {**os.environ, **CHILD_ENV}
    output = d / "output.txt"
    t0 = time.perf_counter()
    # A session of its own: on a timeout the whole group goes, traced children (an exec program) included.
    with open(output, "w") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        # wait4, not wait: the CPU time of the run (valgrind and the processes it waited for), a cost that does
        # not grow with the machine's load as the wall time does.
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
                proc.returncode = -signal.SIGKILL  # reaped here: Popen must not wait for it again
                raise InstructionsError(
                    f"not affordable: one valgrind run ({iterations} calls) took over {timeout:g} s (--timeout)"
                )
            time.sleep(0.1)
    proc.returncode = returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t0
    cpu_seconds = usage.ru_utime + usage.ru_stime
    if returncode != 0 or not payload_path.exists():
        tail = " | ".join(output.read_text(errors="replace").strip().splitlines()[-3:])
        raise InstructionsError(f"the child failed under valgrind (exit {returncode}): {tail or 'no output'}")
    with open(payload_path, "rb") as f:
        payload = pickle.load(f)
    processes = []
    for log in sorted(d.glob("vg.*.log"), key=lambda p: int(p.stem.split(".")[1])):
        pid = log.stem.split(".")[1]
        text = log.read_text(errors="replace")
        command = re.search(r"^==\d+== Command: (.*)$", text, re.M)
        out = d / f"cg.{pid}.out"
        if not out.exists():
            raise InstructionsError(
                f"process {command.group(1) if command else pid} left no cachegrind count (still running, or killed)"
            )
        processes.append(
            {"command": command.group(1) if command else "?", "instructions": parse_cachegrind_out(out.read_text())}
        )
    if not processes:
        raise InstructionsError("valgrind wrote no cachegrind output")
    total = sum(p["instructions"] for p in processes)
    return Run(iterations, total, processes, seconds, cpu_seconds), payload


def _check(payload: dict, task: K.Task | K.BatchedTask) -> None:
    """The warm-up result against the reference, with the timing benchmarks' budgets (raises AssertionError)."""
    from types import SimpleNamespace

    from gatespec.conformance.benchmarks.expected import check_batched, check_task

    impl = SimpleNamespace(name=payload["impl"])  # the checks need its name only (tolerance overrides, messages)
    if isinstance(task, K.BatchedTask):
        check_batched(impl, task, payload["result"])
    else:
        check_task(impl, task, payload["result"])


# ----------------------------------------------------------------------------- measurements


def measure(
    impl: str,
    task: str,
    *,
    iterations: tuple[int, int] | None = None,
    repeats: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = 1,
    check: bool = True,
) -> Result:
    """Instructions per call of ``impl`` on ``task``: ``repeats`` measurements of two valgrind runs each.

    The first run goes alone (it tells whether the pair can be counted at all, and its warm-up
    result is checked); the other 2·repeats − 1 run ``jobs`` at a time.  Seconds per measurement
    are the two runs' own wall times added, whatever ran beside them.  Never raises for a pair
    that cannot be counted: the Result says why.
    """
    if (why := valgrind_missing()) is not None:
        return not_counted(impl, task, why)
    try:
        t = task_by_id(task)
        n_1, n_2 = iterations or ITERATIONS.get(task, DEFAULT_ITERATIONS)
        if repeats < 1 or jobs < 1:
            raise InstructionsError(f"repeats and jobs: need at least 1, got {repeats} and {jobs}")
        per_call(0, n_1, 1, n_2)  # the iteration counts' own check, before minutes of valgrind
        exe = interpreter()
    except InstructionsError as exc:
        return not_counted(impl, task, str(exc))
    valgrind = valgrind_path()
    assert valgrind is not None
    result = Result(impl, task, iterations=(n_1, n_2))
    plan = [n_1, n_2] * repeats
    with tempfile.TemporaryDirectory(prefix="gatespec-instr-") as tmp:

        def run(k: int) -> tuple[Run, dict]:
            return _run_once(impl, task, plan[k], k, timeout=timeout, valgrind=valgrind, exe=exe, workdir=Path(tmp))

        try:
            first, payload = run(0)
            if payload["status"] != "ok":
                result.reason = payload["reason"]
                return result
            result.framework, result.version = payload["framework"], payload["version"]
            if check:
                try:
                    _check(payload, t)
                except AssertionError as exc:
                    result.reason = f"warm-up result disagrees with the reference: {str(exc).splitlines()[0]}"
                    return result
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                rest = [r for r, _ in pool.map(run, range(1, len(plan)))]
        except InstructionsError as exc:
            result.reason = str(exc)
            return result
    runs = [first, *rest]
    for a, b in zip(runs[0::2], runs[1::2]):
        result.repeats.append(per_call(a.instructions, n_1, b.instructions, n_2))
    result.runs = [asdict(r) for r in runs]
    result.counted = True
    result.instructions_per_call = sum(result.repeats) / len(result.repeats)
    result.spread = spread(result.repeats)
    result.seconds_per_measurement = sum(r.seconds for r in runs) / repeats
    result.cpu_seconds_per_measurement = sum(r.cpu_seconds for r in runs) / repeats
    return result


def document(results: list[Result], *, repeatability: float = REPEATABILITY) -> dict:
    """The JSON the report reads: the method, the machine and every result."""
    return {
        "schema": SCHEMA,
        "method": "I_call = (I(N2) - I(N1)) / (N2 - N1), I = instructions (Ir) of cachegrind, all processes",
        "valgrind": _valgrind_version(),
        "valgrind_args": list(VALGRIND_ARGS),
        "environment": dict(CHILD_ENV),
        "repeatability": repeatability,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpu": platform.processor()},
        "results": [r.as_json() for r in results],
    }


def _valgrind_version() -> str | None:
    path = valgrind_path()
    if path is None:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    return out.strip() or None


# ----------------------------------------------------------------------------- command line


def _describe(r: Result) -> str:
    if r.counted:
        rep = f", spread {r.spread:.2e}" if len(r.repeats) > 1 else ""
        return (
            f"{r.impl:<15} {r.task:<15} {r.instructions_per_call:>16,.0f} instructions/call"
            f"  ({r.seconds_per_measurement:.1f} s, {r.cpu_seconds_per_measurement:.1f} s CPU per measurement{rep})"
        )
    return f"{r.impl:<15} {r.task:<15} not counted: {r.reason}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        impl, task, n, out = argv[1:]
        return child_main(impl, task, int(n), out)
    parser = argparse.ArgumentParser(
        prog="python -m gatespec.conformance.benchmarks.instructions",
        description="Instructions retired per call of benchmark tasks, counted under valgrind's cachegrind.",
    )
    parser.add_argument("--impl", action="append", help="implementations or frameworks, comma-separated")
    parser.add_argument("--task", action="append", help="task ids (xor-forward, …, parity-NN), comma-separated")
    parser.add_argument("--out", type=Path, required=True, help="JSON to write")
    parser.add_argument("--repeats", type=int, default=1, help="measurements per pair (2 to see the spread)")
    parser.add_argument("--iterations", help="N1,N2 for every task (default: per task, ITERATIONS)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per valgrind run")
    parser.add_argument("--jobs", type=int, default=1, help="valgrind runs at once (counts do not depend on it)")
    args = parser.parse_args(argv)
    try:
        impls = expand(args.impl) if args.impl else None
        tasks = [t.strip() for arg in args.task for t in arg.split(",") if t.strip()] if args.task else None
        for t in tasks or []:
            task_by_id(t)
        iterations = None
        if args.iterations:
            iterations = tuple(int(x) for x in args.iterations.split(","))
            if len(iterations) != 2:
                raise InstructionsError(f"--iterations {args.iterations!r}: expected N1,N2")
    except (InstructionsError, ValueError) as exc:
        parser.error(str(exc))
    if impls is None and tasks is None:
        pairs = list(DEFAULT_PAIRS)
    else:  # task-major, as the timings run
        pairs = [(i, t) for t in tasks or DEFAULT_TASKS for i in impls or DEFAULT_IMPLS]
    results = []
    for impl, task in pairs:
        r = measure(impl, task, iterations=iterations, repeats=args.repeats, timeout=args.timeout, jobs=args.jobs)
        print(_describe(r), flush=True)
        results.append(r)
    from gatespec.conformance.report import jsonio

    args.out.parent.mkdir(parents=True, exist_ok=True)
    jsonio.write(args.out, document(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
