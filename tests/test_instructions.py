"""The instruction counter (benchmarks/instructions.py) and its report section (report/instructions.py).

Most tests need no valgrind: the difference method's arithmetic, cachegrind's output format, the
reasons a pair is not counted, the command line's JSON and the section's table are checked on
synthetic numbers.  One test counts numpy's xor-forward under valgrind for real.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from gatespec.conformance.benchmarks import instructions as I
from gatespec.conformance.report import instructions as R

# ----------------------------------------------------------------------------- the arithmetic


def test_per_call_cancels_the_fixed_part():
    """I(N) = F + N·c with F = 8·10⁸ (import, warm-up) and c = 74,000: (I(410) − I(10)) / 400 = c exactly."""
    fixed, c = 800_000_000, 74_000
    assert I.per_call(fixed + 10 * c, 10, fixed + 410 * c, 410) == c


def test_per_call_keeps_a_fraction():
    assert I.per_call(1000, 1, 1003, 3) == 1.5


@pytest.mark.parametrize(("n_1", "n_2"), [(3, 3), (5, 2), (-1, 4)])
def test_per_call_rejects_iteration_counts_that_do_not_grow(n_1, n_2):
    with pytest.raises(I.InstructionsError, match="0 ≤ N₁ < N₂"):
        I.per_call(100, n_1, 200, n_2)


def test_per_call_rejects_a_count_that_does_not_grow():
    """Swapped runs, or calls that never ran: an error, never a negative or zero count."""
    with pytest.raises(I.InstructionsError, match="extra calls cost nothing"):
        I.per_call(2_000, 1, 1_000, 3)


def test_spread_is_relative_to_the_largest():
    assert I.spread([100.0]) == 0.0
    assert I.spread([1000.0, 999.0]) == pytest.approx(1e-3)
    with pytest.raises(I.InstructionsError):
        I.spread([])


CACHEGRIND_OUT = """\
desc: I1 cache:         32768 B, 64 B, 8-way associative
cmd: /work/main/.venv/bin/python -m gatespec.conformance.benchmarks.instructions --child numpy xor-forward 10
events: Ir
fl=???
fn=0x0000000000001100
2 5
summary: 851380411
"""


def test_parse_cachegrind_out_reads_the_summary():
    assert I.parse_cachegrind_out(CACHEGRIND_OUT) == 851_380_411


def test_parse_cachegrind_out_finds_ir_among_other_events():
    text = "events: Dr Ir Dw\nsummary: 7 42 9\n"
    assert I.parse_cachegrind_out(text) == 42


@pytest.mark.parametrize("text", ["events: Ir\n", "cmd: python\n", "events: Dr\nsummary: 5\n"])
def test_parse_cachegrind_out_rejects_an_incomplete_file(text):
    with pytest.raises(I.InstructionsError):
        I.parse_cachegrind_out(text)


# ----------------------------------------------------------------------------- selection


def test_expand_names_frameworks_and_specs():
    assert I.expand(["numpy,autograd"]) == ["numpy", "autograd"]
    assert I.expand(["jax-jit", "numpy", "jax-jit"]) == ["jax-jit", "numpy"]
    assert "torch-autograd" in I.expand(["torch"]) and "tf-xla" not in I.expand(["torch"])
    # A module:attr is passed on as given (the counting process imports it), but it must name something real:
    # this one is the example implementation tests/example_impl.py defines.
    assert I.expand(["tests.example_impl:TinyNumpyMLP"]) == ["tests.example_impl:TinyNumpyMLP"]


def test_expand_rejects_an_unknown_name_listing_the_known_ones():
    with pytest.raises(I.InstructionsError, match=r"no such implementation.*numpy"):
        I.expand(["nunpy"])


def test_task_by_id_knows_every_benchmark_task():
    assert I.task_by_id("xor-train-1000").steps == 1000
    assert I.task_by_id("parity-08").rows == 256
    assert I.task_by_id("batched-0064").nets == 64
    with pytest.raises(I.InstructionsError, match="xor-forward"):
        I.task_by_id("xor-backward")


def test_every_task_has_iteration_counts_that_measure_something():
    for n_1, n_2 in [*I.ITERATIONS.values(), I.DEFAULT_ITERATIONS]:
        assert 1 <= n_1 < n_2
    assert set(I.ITERATIONS) <= {t.id for t in I.ALL_TASKS}
    for task in I.DEFAULT_TASKS:
        I.task_by_id(task)
    assert I.expand(list(I.DEFAULT_IMPLS)) == list(I.DEFAULT_IMPLS)


# ----------------------------------------------------------------------------- not counted, with the reason


@pytest.fixture
def no_valgrind(monkeypatch):
    monkeypatch.setattr(I.shutil, "which", lambda name, *a, **k: None)


def test_without_valgrind_a_pair_is_not_counted_and_says_why(no_valgrind):
    r = I.measure("numpy", "xor-forward")
    assert not r.counted and r.instructions_per_call is None
    assert "valgrind not found on PATH" in r.reason


def test_without_valgrind_on_path_the_same(monkeypatch):
    monkeypatch.setenv("PATH", "")
    assert "valgrind not found" in I.measure("numpy", "xor-forward").reason


def test_bad_iterations_are_a_reason_not_a_crash(monkeypatch):
    monkeypatch.setattr(I, "valgrind_path", lambda: "/usr/bin/valgrind")
    r = I.measure("numpy", "xor-forward", iterations=(5, 5))
    assert not r.counted and "N₁ < N₂" in r.reason


def test_a_shell_script_interpreter_is_refused(tmp_path, monkeypatch):
    """pyenv's ``python3`` is a bash script: valgrind would count bash, so the count is refused with the reason."""
    shim = tmp_path / "python3"
    shim.write_text('#!/usr/bin/env bash\nexec python3.11 "$@"\n')
    monkeypatch.setattr(I.sys, "executable", str(shim))
    with pytest.raises(I.InstructionsError, match="not an ELF executable"):
        I.interpreter()
    monkeypatch.setattr(I, "valgrind_path", lambda: "/usr/bin/valgrind")
    assert "not an ELF executable" in I.measure("numpy", "xor-forward").reason


def test_command_line_writes_every_pair_with_its_reason(no_valgrind, tmp_path):
    out = tmp_path / "instr.json"
    assert I.main(["--impl", "numpy,autograd", "--task", "xor-forward", "--out", str(out)]) == 0
    data = R.load(out)
    assert data["schema"] == I.SCHEMA == R.SCHEMA
    assert [(r["impl"], r["task"], r["counted"]) for r in data["results"]] == [
        ("numpy", "xor-forward", False),
        ("autograd", "xor-forward", False),
    ]
    lines = R.section(data)
    assert "- numpy / xor-forward: valgrind not found on PATH" in "\n".join(lines)
    assert "Nothing was counted." in lines


def test_command_line_rejects_an_unknown_task(capsys):
    with pytest.raises(SystemExit) as exc:
        I.main(["--task", "xor-backward", "--out", "x.json"])
    assert exc.value.code == 2 and "xor-backward" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the report section


def _result(impl, task, per_call=None, repeats=None, reason=""):
    return {
        "impl": impl,
        "task": task,
        "counted": per_call is not None,
        "instructions_per_call": per_call,
        "repeats": repeats or ([per_call] if per_call is not None else []),
        "spread": I.spread(repeats) if repeats else 0.0,
        "iterations": [10, 410],
        "reason": reason,
    }


DATA = {
    "schema": R.SCHEMA,
    "valgrind": "valgrind-3.19.0",
    "repeatability": 1e-3,
    "results": [
        _result("torch-autograd", "xor-forward", 148_000.0),
        _result("numpy", "xor-forward", 74_000.0, repeats=[74_000.0, 73_990.0]),
        _result("numpy", "xor-sgd-step", 300_000.0),
        _result("jax-jit", "xor-sgd-step", 150_000.0),
        _result("autograd", "xor-loss-grads", 500_000.0),
        _result("tf-function", "xor-forward", reason="not affordable: one valgrind run (10 calls) took over 600 s"),
    ],
}


def test_section_tabulates_counts_and_ratios_to_numpy():
    lines = R.section(DATA)
    rows = [line for line in lines if line.startswith("| xor")]
    assert rows == [
        "| xor-forward | numpy | 74,000 | 1.00 | 1.4e-04 | 10, 410 |",
        "| xor-forward | torch-autograd | 148,000 | 2.00 | — | 10, 410 |",
        "| xor-loss-grads | autograd | 500,000 | — | — | 10, 410 |",
        "| xor-sgd-step | numpy | 300,000 | 1.00 | — | 10, 410 |",
        "| xor-sgd-step | jax-jit | 150,000 | 0.50 | — | 10, 410 |",
    ]
    assert "No numpy count on xor-loss-grads: no ratio there." in lines
    assert "valgrind-3.19.0" in "\n".join(lines)


def test_section_lists_what_was_not_counted_with_the_reason():
    lines = R.section(DATA)
    at = lines.index("Not counted:")
    assert lines[at + 2 :] == [
        "- tf-function / xor-forward: not affordable: one valgrind run (10 calls) took over 600 s"
    ]


def test_section_against_another_baseline():
    rows = [line for line in R.section(DATA, baseline="jax-jit") if line.startswith("| xor-sgd-step")]
    assert rows[0].startswith("| xor-sgd-step | jax-jit | 150,000 | 1.00 |")
    assert rows[1].startswith("| xor-sgd-step | numpy | 300,000 | 2.00 |")


def test_load_names_a_file_of_another_kind(tmp_path):
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"benchmarks": []}))
    with pytest.raises(R.InstructionsReportError, match=r"bench\.json: expected schema"):
        R.load(path)
    with pytest.raises(R.InstructionsReportError, match="cannot read"):
        R.load(tmp_path / "missing.json")


# ----------------------------------------------------------------------------- under valgrind, for real


@pytest.mark.skipif(I.valgrind_missing() is not None, reason=str(I.valgrind_missing()))
@pytest.mark.skipif(sys.platform != "linux", reason="valgrind counts on Linux")
@pytest.mark.slow  # ~23 s on two idle cores (three runs of ~15 CPU-seconds, in parallel)
def test_numpy_forward_counted_twice_agrees(pytestconfig, tmp_path):
    """Three valgrind runs of numpy's forward pass at once, N₁ = 10 and twice N₂ = 410: two measurements.

    They share the N₁ run, so they differ by exactly the run-to-run jitter of one whole run
    (start-up, numpy import, warm-up: ~8.7·10⁸ instructions, jitter ~3·10³ here) over the 400
    extra calls (~3·10⁷): ~10⁻⁴, within REPEATABILITY.  Four runs (measure(repeats=2)) would
    cost a fourth ~15 CPU-seconds for the same evidence.  Measured here: 73,660–73,880 per call.
    """
    # The warm-up check imports test_benchmarks, marked ``bench``: registered by the benchmarks' conftest,
    # unknown to this run's --strict-markers.
    pytestconfig.addinivalue_line("markers", "bench: a pytest-benchmark timing")
    n_1, n_2 = 10, 410
    valgrind, exe = I.valgrind_path(), I.interpreter()

    def run(k: int, n: int):
        return I._run_once("numpy", "xor-forward", n, k, timeout=120, valgrind=valgrind, exe=exe, workdir=tmp_path)

    with ThreadPoolExecutor(max_workers=3) as pool:
        (a, payload), (b, _), (b2, _) = pool.map(run, range(3), (n_1, n_2, n_2))
    I._check(payload, I.task_by_id("xor-forward"))
    first, second = (
        I.per_call(a.instructions, n_1, b.instructions, n_2),
        I.per_call(a.instructions, n_1, b2.instructions, n_2),
    )
    assert I.spread([first, second]) <= I.REPEATABILITY, (first, second)
    # The forward pass of a 2-2-1 net is ~10 numpy calls of a few thousand instructions of dispatch each.
    assert 10_000 < first < 1_000_000
    assert [len(r.processes) for r in (a, b, b2)] == [1, 1, 1]


def test_measure_adds_up_the_runs(monkeypatch):
    """measure's bookkeeping on fake runs: I(N) = 10⁹ + N·(74,000 + jitter), the first run checked once."""
    monkeypatch.setattr(I, "valgrind_path", lambda: "/usr/bin/valgrind")
    checked, jitter = [], iter([0, 0, 3, 7])

    def fake_run(impl, task, n, index, **kwargs):
        total = 1_000_000_000 + n * 74_000 + next(jitter)
        payload = {"status": "ok", "impl": impl, "framework": "numpy", "version": "2", "result": None}
        return I.Run(n, total, [{"command": "python", "instructions": total}], 2.0, 1.5), payload

    monkeypatch.setattr(I, "_run_once", fake_run)
    monkeypatch.setattr(I, "_check", lambda payload, task: checked.append(task.id))
    r = I.measure("numpy", "xor-forward", iterations=(10, 410), repeats=2, jobs=1)
    assert r.counted and r.reason == ""
    assert r.repeats == [74_000.0, 74_000.01]
    assert r.instructions_per_call == pytest.approx(74_000.005)
    assert r.spread == pytest.approx(0.01 / 74_000.01)
    assert (r.seconds_per_measurement, r.cpu_seconds_per_measurement) == (4.0, 3.0)
    assert checked == ["xor-forward"] and len(r.runs) == 4


def test_measure_reports_an_unavailable_implementation(monkeypatch):
    monkeypatch.setattr(I, "valgrind_path", lambda: "/usr/bin/valgrind")
    reason = (
        "node-plain has no native (a program is timed through the protocol's pipe): the timing benchmarks skip it too"
    )

    def fake_run(impl, task, n, index, **kwargs):
        return I.Run(n, 1, [], 1.0, 1.0), {"status": "unavailable", "reason": reason}

    monkeypatch.setattr(I, "_run_once", fake_run)
    r = I.measure("node-plain", "xor-forward")
    assert not r.counted and r.reason == reason


def test_measure_never_counts_a_wrong_result(monkeypatch):
    monkeypatch.setattr(I, "valgrind_path", lambda: "/usr/bin/valgrind")

    def fake_run(impl, task, n, index, **kwargs):
        payload = {"status": "ok", "impl": impl, "framework": "numpy", "version": "2", "result": None}
        return I.Run(n, 10**9 + n, [], 1.0, 1.0), payload

    def wrong(payload, task):
        raise AssertionError("numpy / xor-forward / logits: 4 of 4 elements differ\nmore")

    monkeypatch.setattr(I, "_run_once", fake_run)
    monkeypatch.setattr(I, "_check", wrong)
    r = I.measure("numpy", "xor-forward")
    assert not r.counted
    assert (
        r.reason == "warm-up result disagrees with the reference: numpy / xor-forward / logits: 4 of 4 elements differ"
    )
