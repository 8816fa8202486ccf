"""The benchmark harness and ``gatespec report``: flop counts, ratios, the gate, the plots, exclusions.

Timings here are synthetic (written into pytest-benchmark-shaped JSON), so the report's
arithmetic is checked exactly; the benchmarks themselves run, once each and checked, in the
README's test run (``--benchmark-disable``) and timed by ``tox -e bench``.
"""

from __future__ import annotations

import builtins
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from gatespec.conformance.benchmarks import paired as P
from gatespec.conformance.benchmarks import tasks as K
from gatespec.conformance.report import benchmarks as R
from gatespec.conformance.tools import cli

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- flop counts


# The 1000-step XOR task, by id (the tasks' order is no contract).
TRAIN_1000 = next(t for t in K.TASKS if t.id == "xor-train-1000")


def test_flop_count_of_the_xor_net_matches_the_hand_count():
    """Counted by hand from the rules in tasks' docstring, for the 2-2-1 net on 4 rows.

    forward: 2·4·2·2 + 8 + 2·8 (σ, 8 exp) + 2·4·2·1 + 4 + 2·4 (σ, 4 exp) = 84 flops, 12 exp;
    loss + grads: forward to z 76 (8 exp) + loss 4·4 + 3 (4 exp + 4 log1p) + δ 3·4 (4 exp)
    + ∂W₂, ∂b₂ 16 + 4 + δ₁ 16 + 3·8 + ∂W₁, ∂b₁ 32 + 8 = 207 flops, 20 transcendentals;
    an SGD step adds 2 per parameter, 2·9 = 18: 225; an Adam step 12 per parameter and a square root,
    108 and 9: 315 flops, 29 transcendentals.
    """
    assert K.forward_work((2, 2, 1), 4) == K.Work(84, 12)
    assert K.loss_and_grads_work((2, 2, 1), 4) == K.Work(207, 20)
    assert K.step_work((2, 2, 1), 4) == K.Work(225, 20)
    assert K.adam_step_work((2, 2, 1), 4) == K.Work(315, 29)
    assert TRAIN_1000.work() == K.Work(225_000, 20_000)


def test_arithmetic_limit_of_1000_xor_steps_is_in_the_issue_range():
    """(225 + 20·20) cycles per step at 2.5 GHz: 0.25 ms for 1000 steps (issue 5 estimates 0.2–0.45 ms)."""
    assert K.limit_seconds(K.step_work((2, 2, 1), 4) * 1000, 2.5e9) == pytest.approx(625e3 / 2.5e9, rel=1e-12)


def test_flop_count_grows_with_rows_and_width():
    small, big = K.step_work((4, 4, 1), 16), K.step_work((4, 4, 1), 32)
    # Every term but the update and the loss's N − 1 additions is linear in the rows.
    assert big.transcendentals == 2 * small.transcendentals
    params = K.n_parameters((4, 4, 1))
    assert big.flops - 2 * params + 1 == 2 * (small.flops - 2 * params + 1)


# ----------------------------------------------------------------------------- synthetic JSON


def _bench(name, kind, task, impl, median, **extra):
    work = extra.pop("work", K.Work(1, 0))
    return {
        "name": name,
        "group": task,
        "extra_info": {
            "kind": kind,
            "task": task,
            "implementation": impl,
            "flops": work.flops,
            "transcendentals": work.transcendentals,
            **extra,
        },
        "stats": {"median": median, "iqr": median / 10, "rounds": 5},
    }


def _write(path: Path, benchmarks, excluded=()) -> Path:
    data = {
        "machine_info": {"cpu": {"brand_raw": "Test CPU", "hz_actual": [2_000_000_000, 0]}, "python_version": "3.11"},
        "benchmarks": benchmarks,
        "gatespec": {"threads": {"OMP_NUM_THREADS": "1"}, "excluded": list(excluded)},
    }
    path.write_text(json.dumps(data))
    return path


def _sample(tmp_path: Path, *, fast_factor: float = 0.5, name="bench.json") -> Path:
    step = TRAIN_1000.work()
    rows = []
    for impl, scale in (("numpy", 1.0), ("torch-nn", 4.0), ("jax-scan", fast_factor)):
        for t in K.TASKS:
            rows.append(
                _bench(f"test_task[{impl}-{t.id}]", "task", t.id, impl, 1e-3 * scale, work=t.work(), steps=t.steps)
            )
    rows.append(
        _bench("test_compile[jax-scan-xor-train-1000]", "compile", "xor-train-1000", "jax-scan", 0.5, work=step)
    )
    for n, (t_np, t_jax) in {2: (1e-4, 5e-4), 4: (2e-4, 4e-4), 8: (8e-3, 2e-3), 16: (1.0, 0.1)}.items():
        for impl, t in (("numpy", t_np), ("jax-scan", t_jax)):
            rows.append(
                _bench(
                    f"test_parity_scaling[{impl}-parity-{n:02d}]",
                    "parity",
                    f"parity-{n:02d}",
                    impl,
                    t * 10,
                    rows=2**n,
                    steps=10,
                )
            )
    for nets in (1, 1024):
        rows.append(
            _bench(
                f"test_batched_scaling[numpy-batched-{nets:04d}]",
                "batched",
                f"batched-{nets:04d}",
                "numpy",
                nets * 1e-4,
                nets=nets,
                steps=100,
            )
        )
    return _write(tmp_path / name, rows)


def test_ratios_are_medians_over_the_baseline_on_the_same_task(tmp_path):
    bench = R.load(_sample(tmp_path))
    rat = R.ratios(bench)
    assert rat["xor-forward", "numpy"].value == 1.0
    assert rat["xor-train-1000", "torch-nn"].value == pytest.approx(4.0, rel=1e-12)
    assert rat["xor-sgd-step", "jax-scan"].value == pytest.approx(0.5, rel=1e-12)
    # No paired samples in this JSON: no interval, and the report says why.
    assert not rat["xor-sgd-step", "jax-scan"].paired
    assert "with no interval: this JSON cannot give paired ratios to numpy" in R.markdown(bench, plots=[])


def test_compile_time_is_the_first_call_minus_the_steady_state(tmp_path):
    times = R.compile_times(R.load(_sample(tmp_path)))
    assert times["xor-train-1000", "jax-scan"] == pytest.approx((0.5, 0.5 - 0.5e-3), rel=1e-12)


def test_overtakes_is_the_size_from_which_it_stays_faster():
    base = {2: 1.0, 4: 1.0, 8: 1.0, 16: 1.0}
    assert R.overtakes({2: 2.0, 4: 0.5, 8: 2.0, 16: 0.5}, base) == 16
    assert R.overtakes({2: 2.0, 4: 0.5, 8: 0.5, 16: 0.5}, base) == 4
    assert R.overtakes({2: 2.0, 4: 2.0, 8: 2.0, 16: 2.0}, base) is None


def _markdown_table(text: str, heading: str) -> dict[str, dict[str, str]]:
    """The first table after the line starting with ``heading``: {first cell: {column header: cell}}."""
    after = text.split(heading, 1)[1].splitlines()
    start = next(k for k, line in enumerate(after) if line.startswith("|"))
    block = list(itertools.takewhile(lambda line: line.startswith("|"), after[start:]))
    header, _, *body = ([c.strip() for c in line.strip("|").split("|")] for line in block)
    return {r[0]: dict(zip(header[1:], r[1:])) for r in body}


def test_markdown_report_has_every_section(tmp_path):
    path = _sample(tmp_path)
    assert cli.main(["report", str(path), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "bench.md").read_text()
    assert "| torch-nn | 4 ms (×4) |" in text
    assert "Against the arithmetic limit" in text and "| arithmetic limit |" in text
    # 1000 steps of 625 cycles at the recorded 2 GHz.
    assert "| arithmetic limit | " in text and "312 µs |" in text
    assert "## Compile time" in text and "(first call 500 ms)" in text
    # Per step (the sample's times over 10 steps): slower than numpy on 4 and 16 rows, faster from 2^8 = 256 rows on.
    parity = _markdown_table(text, "## Scaling: time per step against rows")
    assert parity["jax-scan"] == {"4": "500 µs", "16": "400 µs", "256": "2 ms", "65536": "100 ms"} | {
        "faster than numpy from": "256"
    }
    # 1024 nets × 100 steps in 0.1024 s: 1.024 ms a step, a million net-steps a second.
    assert "net-steps/s" in text and "1.02 ms (1 M)" in text


def test_plots_are_written_when_matplotlib_is_there(tmp_path):
    pytest.importorskip("matplotlib", reason="the plots need matplotlib (the bench extra)")
    path = _sample(tmp_path)
    assert cli.main(["report", str(path)]) == 0
    for name in ("bench-tasks.png", "bench-parity.png", "bench-batched.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_the_report_says_the_plots_were_not_made(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    path = _sample(tmp_path)
    assert cli.main(["report", str(path)]) == 0
    assert "Not made: matplotlib is not installed" in (tmp_path / "bench.md").read_text()
    assert not (tmp_path / "bench-tasks.png").exists()


def test_max_ratio_gate_fails_on_a_ratio_over_its_value(tmp_path, capsys):
    path = _sample(tmp_path)
    assert (
        cli.main(["report", str(path), "--max-ratio", "torch-nn=4.5", "--max-ratio", "jax-scan:xor-train-1000=1"]) == 0
    )
    assert cli.main(["report", str(path), "--max-ratio", "torch-nn:xor-forward=3"]) == 1
    err = capsys.readouterr().err
    assert "ratio over its gate: torch-nn on xor-forward: ×4 numpy (unpaired: no interval) > 3" in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tf-xla=2", "no ratio to numpy measured for tf-xla; measured: jax-scan, numpy, torch-nn"),
        ("jax-scan:no-such-task=2", "no ratio to numpy measured for jax-scan on no-such-task"),
        ("jax-scan", "expected IMPL[:TASK]=VALUE"),
    ],
)
def test_a_gate_on_something_not_measured_is_an_error_not_a_pass(tmp_path, capsys, spec, message):
    assert cli.main(["report", str(_sample(tmp_path)), "--max-ratio", spec]) == 2
    assert message in capsys.readouterr().err


def test_rerun_reports_the_spread_of_every_ratio(tmp_path):
    first, second = _sample(tmp_path), _sample(tmp_path, fast_factor=0.6, name="second.json")
    assert cli.main(["report", str(first), "--rerun", str(second)]) == 0
    text = (tmp_path / "bench.md").read_text()
    assert (
        "| implementation | task | bench.json (this run) | second.json (--rerun) | change | intervals overlap |" in text
    )
    assert "| jax-scan | xor-train-1000 | ×0.5 | ×0.6 | +20% | — |" in text
    # torch-nn's and jax-scan's ratio on every task: torch-nn's did not move, jax-scan's moved by 20%.
    assert f"over {2 * len(K.TASKS)} ratios: median 10.0%, largest 20.0%." in text


def test_unreadable_or_foreign_json_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "x.json").write_text('{"benchmarks": []}')
    assert cli.main(["report", str(tmp_path / "x.json")]) == 2
    assert "no gatespec benchmarks in it" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path / "missing.json")]) == 2
    assert "cannot read benchmark JSON" in capsys.readouterr().err


def test_excluded_timings_are_listed_and_left_out(tmp_path):
    rows = [
        _bench("test_task[numpy-xor-forward]", "task", "xor-forward", "numpy", 1e-5),
        _bench("test_task[bad-xor-forward]", "task", "xor-forward", "bad", 1e-6),
    ]
    path = _write(tmp_path / "b.json", rows, [{"name": "test_task[bad-xor-forward]", "reason": "logits disagree"}])
    bench = R.load(path)
    assert ("xor-forward", "bad") not in R.ratios(bench)
    assert "- `test_task[bad-xor-forward]`: logits disagree" in R.markdown(bench, plots=[])


# ----------------------------------------------------------------------------- the harness, run


def _timed_subprocess_env(monkeypatch, omp_threads: str) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the subprocess imports tests.mutants
    monkeypatch.setenv("OMP_NUM_THREADS", omp_threads)
    # Under `-n 2` this test runs in an xdist worker, whose PYTEST_XDIST_WORKER the subprocess
    # would inherit, and pytest-benchmark disables timing in a process that has it.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)


def _timed_xor_forward(pytester, monkeypatch, impl: str, *more: str):
    """numpy and ``impl`` timed on xor-forward in a subprocess, briefly; the result and the JSON's path."""
    _timed_subprocess_env(monkeypatch, "1")
    out = pytester.path / "b.json"
    result = pytester.runpytest_subprocess(
        "--pyargs", "gatespec.conformance.benchmarks", "--gatespec-impl", "numpy", "--gatespec-impl", impl,
        "-k", "test_task and xor-forward", "-p", "no:xdist", "-p", "no:cacheprovider",
        "--benchmark-json", str(out), "--benchmark-max-time", "0.01", "--benchmark-min-rounds", "2", *more,
    )  # fmt: skip
    return result, out


def test_a_wrong_implementation_is_not_benchmarked_and_the_json_says_why(pytester, monkeypatch):
    """A σ(2z) forward pass: its warm-up result disagrees, so no timing; the JSON lists it."""
    result, out = _timed_xor_forward(pytester, monkeypatch, "tests.mutants:SigmoidTanh")
    result.assert_outcomes(passed=1, failed=1)
    data = json.loads(out.read_text())
    assert [b["name"] for b in data["benchmarks"]] == ["test_task[numpy-xor-forward]"]
    (excluded,) = data["gatespec"]["excluded"]
    assert excluded["name"] == "test_task[mutant-sigmoid-tanh-xor-forward]"
    assert "warm-up result disagrees with the reference" in excluded["reason"]
    assert data["gatespec"]["threads"]["OMP_NUM_THREADS"] == "1"
    extra = data["benchmarks"][0]["extra_info"]
    assert (extra["dtype"], extra["flops"], extra["transcendentals"]) == ("float32", 84, 12)


def test_timing_with_unpinned_threads_fails(pytester, monkeypatch):
    _timed_subprocess_env(monkeypatch, "2")
    result = pytester.runpytest_subprocess(
        "--pyargs", "gatespec.conformance.benchmarks", "--gatespec-impl", "numpy", "-k", "test_task and xor-forward",
        "-p", "no:xdist", "-p", "no:cacheprovider", "--benchmark-max-time", "0.01",
    )  # fmt: skip
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*numpy is not pinned: OMP_NUM_THREADS=2*"])


# ----------------------------------------------------------------------------- paired timing


def test_paired_ratio_is_the_median_of_the_pairs_ratios_and_drift_cancels():
    """The baseline's speed drifts 2× across the run; b is always exactly 3× a within a pair."""
    a = tuple(1e-3 * (1 + k / 20) for k in range(21))  # 1 ms → 2 ms
    pairs = P.Paired(a, tuple(3 * x for x in a), (1, 1))
    assert pairs.ratio == pytest.approx(3.0, rel=1e-12)
    assert pairs.interval() == pytest.approx((3.0, 3.0), rel=1e-12)
    # The unpaired estimate, b's median over a's median from different halves of the run, carries the drift.
    assert np.median(pairs.b[11:]) / np.median(pairs.a[:10]) > 4


def test_paired_interval_brackets_the_ratio_and_is_reproducible():
    rng = np.random.default_rng(7)
    a = tuple(1e-3 * rng.lognormal(0, 0.2, 200))
    b = tuple(x * 2 * rng.lognormal(0, 0.05) for x in a)
    pairs = P.Paired(a, b, (10, 5))
    low, high = pairs.interval()
    assert low < pairs.ratio < high
    assert high / low < 1.05  # 200 pairs of 5% noise: the median is known to ~1%
    assert pairs.interval() == (low, high)  # fixed seed: the same samples, the same interval
    assert P.Paired.from_json(json.loads(json.dumps(pairs.as_json()))) == pairs


def test_paired_samples_must_pair():
    with pytest.raises(ValueError, match="equal, non-zero counts; got 2 and 1"):
        P.Paired((1.0, 2.0), (1.0,), (1, 1))


def _constant(ratio: float, n: int = 9) -> P.Paired:
    """n pairs whose every ratio is ``ratio`` exactly (a = 1 ms, b = ratio ms): one process with no noise inside."""
    return P.Paired((1e-3,) * n, (ratio * 1e-3,) * n, (1, 1))


def test_ratio_over_processes_is_the_median_of_theirs_and_its_interval_holds_their_spread():
    """Three processes, each exact inside (its own interval is a point), at ×2.0, ×2.2 and ×3.0: the ratio is
    the middle one, and the interval spans the offsets between processes that one process cannot see.
    Closed form: resampling 3 processes, the median is ×3.0 when at least two draws are, probability 7/27
    (so for ×2.0): both tails hold more than 2.5%, so the 95% interval is [2.0, 3.0]."""
    runs = tuple(_constant(r) for r in (2.0, 3.0, 2.2))
    assert [run.interval() for run in runs] == [(2.0, 2.0), (3.0, 3.0), (2.2, 2.2)]
    over = P.Processes(runs)
    assert over.ratio == 2.2
    assert over.interval() == pytest.approx((2.0, 3.0), rel=1e-12)
    assert P.Processes(runs[:1]).interval() == pytest.approx((2.0, 2.0), rel=1e-12)
    again = P.from_json(json.loads(json.dumps(over.as_json())))
    assert again == over and isinstance(P.from_json(runs[0].as_json()), P.Paired)
    with pytest.raises(ValueError, match="at least one process"):
        P.Processes(())


def test_fresh_processes_replace_the_runs_ratio_and_one_that_fails_withholds_it(monkeypatch):
    from gatespec.conformance.benchmarks import processes

    measured = [
        processes.Measured(f"test_task[{impl}-xor-forward]", impl, "xor-forward", {"paired": _constant(r).as_json()})
        for impl, r in (("torch-nn", 2.0), ("jax-jit", 1.5))
    ]
    fresh = iter(
        [
            {"torch-nn:xor-forward": _constant(2.4).as_json(), "jax-jit:xor-forward": _constant(1.6).as_json()},
            {"torch-nn:xor-forward": _constant(2.2).as_json(), "jax-jit:xor-forward": {"error": "AssertionError: x"}},
        ]
    )
    monkeypatch.setattr(processes, "_spawn", lambda job: next(fresh))
    said = []
    failed = processes.remeasure(measured, {"pairs": []}, 3, say=said.append)
    assert said == [
        "gatespec: paired timing in fresh process 2/3 (2 tasks)",
        "gatespec: paired timing in fresh process 3/3 (2 tasks)",
    ]
    over = P.from_json(measured[0].extra_info["paired"])
    assert isinstance(over, P.Processes) and [run.ratio for run in over.runs] == [2.0, 2.4, 2.2]
    assert over.ratio == 2.2
    # The failed one keeps the run's own pairs, and is named with the process and why: the run excludes it.
    assert isinstance(P.from_json(measured[1].extra_info["paired"]), P.Paired)
    assert failed == [
        ("test_task[jax-jit-xor-forward]", "paired timing in a fresh process failed: process 3: AssertionError: x")
    ]


class _FakeClock:
    """A clock that advances by the cost of each call of the functions it times."""

    def __init__(self):
        self.now, self.calls = 0.0, []

    def __call__(self) -> float:
        return self.now

    def op(self, name: str, cost: float):
        def run():
            self.calls.append(name)
            self.now += cost

        return run


def test_measure_alternates_calibrated_samples_until_time_and_pairs_are_reached():
    clock = _FakeClock()
    pairs = P.measure(
        clock.op("a", 1e-4), clock.op("b", 4e-4), min_pairs=5, max_time=0.05, sample_time=2e-3, clock=clock
    )
    assert pairs.iterations == (20, 5)  # 2 ms samples of 0.1 ms and 0.4 ms calls
    assert pairs.ratio == pytest.approx(4.0)
    # 4.5 ms a pair with each side's untimed first call: the 12th starts at 49.5 ms < 50 ms.
    assert len(pairs.a) == 12
    # After calibration, strictly a×(1+20), b×(1+5), …: every sample follows one of the other side.
    timed = clock.calls[-(12 + 1) * 27 :]
    assert timed == (["a"] * 21 + ["b"] * 6) * 13
    slow = _FakeClock()
    few = P.measure(slow.op("a", 1.0), slow.op("b", 2.0), min_pairs=5, max_time=0.01, clock=slow)
    assert len(few.a) == 5 and few.iterations == (1, 1)


class _ColdClock(_FakeClock):
    """A call costs ``cold`` when the call before it was another function's (its caches evicted), else ``warm``."""

    def op(self, name: str, warm: float, cold: float | None = None):
        def run():
            self.now += warm if self.calls and self.calls[-1] == name else (cold or warm)
            self.calls.append(name)

        return run


def test_samples_time_warm_calls_whatever_the_other_side_evicted():
    # Each side's first call after the other's costs 5×: the untimed first call of each sample
    # takes it, so the ratio is the steady state's 0.4/0.1 and does not depend on k.
    for sample_time in (2e-4, 2e-3):
        clock = _ColdClock()
        a, b = clock.op("a", 1e-4, cold=5e-4), clock.op("b", 4e-4, cold=2e-3)
        pairs = P.measure(a, b, max_time=0.05, sample_time=sample_time, clock=clock)
        assert pairs.ratio == pytest.approx(4.0)
        assert max(pairs.a) == pytest.approx(1e-4) and max(pairs.b) == pytest.approx(4e-4)


def test_calibration_follows_the_fastest_timing_not_one_cold_call():
    clock = _ColdClock()
    clock.calls.append("other")  # the calibration's first call runs cold: 1 ms instead of 0.1 ms
    assert P.calls_per_sample(clock.op("a", 1e-4, cold=1e-3), sample_time=2e-3, clock=clock) == 20


def _paired_sample(tmp_path: Path, name="paired.json", spread=0.05) -> Path:
    rows = []
    for t in K.TASKS:
        rows.append(_bench(f"test_task[numpy-{t.id}]", "task", t.id, "numpy", 1e-3, work=t.work(), steps=t.steps))
        a = [1e-3 * (1 + k / 10) for k in range(11)]
        b = [2 * x * (1 + spread * (k - 5) / 5) for k, x in enumerate(a)]
        pairs = P.Paired(tuple(a), tuple(b), (2, 1)).as_json()
        rows.append(_bench(f"test_task[torch-nn-{t.id}]", "task", t.id, "torch-nn", 9e-3, work=t.work(), paired=pairs))
    path = _write(tmp_path / name, rows)
    data = json.loads(path.read_text())
    data["gatespec"]["baseline"] = "numpy"
    path.write_text(json.dumps(data))
    return path


def test_report_shows_the_paired_ratio_and_its_interval_not_the_ratio_of_medians(tmp_path):
    bench = R.load(_paired_sample(tmp_path))
    r = R.ratios(bench)["xor-forward", "torch-nn"]
    assert r.paired and r.value == pytest.approx(2.0) and r.low < 2.0 < r.high
    text = R.markdown(bench, plots=[])
    assert f"| torch-nn | 9 ms (×2 [{r.low:.3g}, {r.high:.3g}])" in text  # not ×9, the medians' ratio
    assert "timed in alternation with numpy" in text
    # Asked for another baseline than the one paired with: the ratio of medians, and why.
    unpaired = R.ratios(bench, "torch-nn")["xor-forward", "numpy"]
    assert not unpaired.paired and unpaired.value == unpaired.high == pytest.approx(1 / 9, rel=1e-12)
    assert "its samples were paired with numpy" in R.markdown(bench, "torch-nn", plots=[])


def test_gate_uses_the_upper_end_of_the_interval(tmp_path, capsys):
    path = _paired_sample(tmp_path)
    high = R.ratios(R.load(path))["xor-forward", "torch-nn"].high
    assert cli.main(["report", str(path), f"--max-ratio=torch-nn={high * 1.01}"]) == 0
    # Above the estimate (×2) but under the interval's top: the run does not show the ratio is under the gate.
    assert cli.main(["report", str(path), f"--max-ratio=torch-nn:xor-forward={(2 + high) / 2}"]) == 1
    assert f"torch-nn on xor-forward: ×2 numpy, interval up to ×{high:.3g} >" in capsys.readouterr().err


def test_rerun_of_paired_runs_reports_median_and_largest_change_and_overlap(tmp_path):
    first, second = _paired_sample(tmp_path), _paired_sample(tmp_path, "second.json", spread=0.3)
    lines, moved = R.rerun(R.load(first), R.load(second))
    assert len(moved.changes) == len(K.TASKS) and moved.largest == pytest.approx(0.0, abs=1e-12)
    assert "| torch-nn | xor-forward |" in "\n".join(lines) and "| yes |" in "\n".join(lines)
    with pytest.raises(R.ReportError, match="no ratio to jax-scan in common"):
        R.spread(R.load(first), R.load(_sample(tmp_path, name="other.json")), "jax-scan")


def test_a_fresh_process_times_what_passes_and_says_why_it_timed_nothing_else(monkeypatch):
    """What a fresh process does, in this one: the run's selection loaded again, each result checked first.
    A σ(2z) forward disagrees with the reference: no samples, the failed check named instead."""
    from gatespec.conformance.benchmarks import processes

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # read when the process checks its threads, as the run does
    job = {
        "select": ["numpy", "tests.mutants:Control", "tests.mutants:SigmoidTanh"],
        "baseline": "numpy",
        "device": "cpu",
        "seconds": 0.01,
        "pairs": [{"impl": impl, "task": "xor-forward"} for impl in ("control", "mutant-sigmoid-tanh", "absent")],
    }
    out = processes.measure_all(job)
    pairs = P.Paired.from_json(out["control:xor-forward"])
    assert len(pairs.a) >= P.MIN_PAIRS
    wrong = out["mutant-sigmoid-tanh:xor-forward"]["error"]
    assert wrong.startswith("AssertionError: mutant-sigmoid-tanh / xor-forward"), wrong
    assert out["absent:xor-forward"] == {"error": "RuntimeError: absent does not load here: not selected"}


def test_a_timed_run_pairs_every_task_with_the_baseline(pytester, monkeypatch):
    """The numpy style under another name, paired with numpy: the JSON carries the pairs (their values are
    timings, so only their shape is asserted)."""
    args = ("--gatespec-bench-paired-time", "0.05", "--gatespec-bench-processes", "2")
    result, out = _timed_xor_forward(pytester, monkeypatch, "tests.mutants:Control", *args)
    result.assert_outcomes(passed=2)
    # The second process loads the implementation as the run did, by its module:attr.
    result.stdout.fnmatch_lines(["gatespec: paired timing in fresh process 2/2 (1 tasks)"])
    data = json.loads(out.read_text())
    assert data["gatespec"]["baseline"] == "numpy" and data["gatespec"]["excluded"] == []
    extra = {b["extra_info"]["implementation"]: b["extra_info"] for b in data["benchmarks"]}
    assert "paired" not in extra["numpy"]
    over = P.from_json(extra["control"]["paired"])
    assert isinstance(over, P.Processes) and len(over.runs) == 2
    for pairs in over.runs:
        assert len(pairs.a) >= P.MIN_PAIRS and min(pairs.iterations) >= 1
    low, high = over.interval()
    assert 0 < low <= over.ratio <= high


def test_instruction_counts_are_added_to_the_report_and_a_foreign_file_is_an_error(tmp_path, capsys):
    counts = {
        "schema": "gatespec-instructions/1",
        "repeatability": 1e-4,
        "results": [
            {"impl": "numpy", "task": "xor-forward", "counted": True, "instructions_per_call": 1000.0,
             "spread": 1e-5, "iterations": [10, 410]},
            {"impl": "autograd", "task": "xor-forward", "counted": True, "instructions_per_call": 1500.0,
             "spread": 1e-5, "iterations": [10, 410]},
        ],
    }  # fmt: skip
    (tmp_path / "counts.json").write_text(json.dumps(counts))
    path = _sample(tmp_path)
    assert cli.main(["report", str(path), "--instructions", str(tmp_path / "counts.json")]) == 0
    text = (tmp_path / "bench.md").read_text()
    assert "## Instructions per call" in text and "| 1.50 |" in text
    assert cli.main(["report", str(path), "--instructions", str(path)]) == 2
    assert "expected schema" in capsys.readouterr().err


# ----------------------------------------------------------------------------- against the hand-written program


def _handwritten_sample(tmp_path: Path) -> tuple[Path, P.Paired]:
    """jax-scan's native op at 1.5× its hand-written program on every task, pair by pair (1.4–1.6)."""
    a = tuple(1e-4 * (1 + k / 10) for k in range(11))
    hand = P.Paired(a, tuple(x * (1.5 + (k - 5) / 50) for k, x in enumerate(a)), (3, 2))
    rows = []
    for t in K.TASKS:
        rows.append(_bench(f"test_task[numpy-{t.id}]", "task", t.id, "numpy", 1e-3, work=t.work(), steps=t.steps))
        rows.append(
            _bench(
                f"test_task[jax-scan-{t.id}]", "task", t.id, "jax-scan", 2e-4, work=t.work(), handwritten=hand.as_json()
            )
        )
    return _write(tmp_path / "bench.json", rows), hand


def test_the_ratio_to_the_hand_written_program_is_its_own_section(tmp_path):
    path, hand = _handwritten_sample(tmp_path)
    bench = R.load(path)
    r = R.handwritten_ratios(bench)
    # Only the style that has a program; its ratio is the pairs' median (1.5), not a ratio of the medians.
    assert set(r) == {(t.id, "jax-scan") for t in K.TASKS}
    assert all(v.value == pytest.approx(1.5) and (v.low, v.high) == hand.bounds for v in r.values())
    text = R.markdown(bench, plots=[])
    table = _markdown_table(text, "## Against the hand-written program")
    assert list(table) == ["jax-scan"]  # numpy has no program: no row
    assert set(table["jax-scan"].values()) == {f"×1.5 [{hand.bounds[0]:.3g}, {hand.bounds[1]:.3g}]"}
    assert list(table["jax-scan"]) == [t.id for t in K.TASKS]


def test_the_hand_written_gate_uses_the_upper_end_and_a_bare_value_means_every_style(tmp_path, capsys):
    path, hand = _handwritten_sample(tmp_path)
    high = hand.bounds[1]
    assert cli.main(["report", str(path), f"--max-handwritten={high * 1.01}"]) == 0
    assert cli.main(["report", str(path), f"--max-handwritten=jax-scan:xor-forward={(1.5 + high) / 2}"]) == 1
    assert f"jax-scan on xor-forward: ×1.5 its hand-written program, interval up to ×{high:.3g} >" in (
        capsys.readouterr().err
    )
    # A style with no program measured is an error, never a pass.
    assert cli.main(["report", str(path), "--max-handwritten=numpy=1.25"]) == 2
    assert "no ratio to a hand-written program measured for numpy; measured: jax-scan" in capsys.readouterr().err
