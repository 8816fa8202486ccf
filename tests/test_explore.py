"""``--gatespec-explore N`` bites: it finds a planted bug the fixed cases miss and prints the case to paste.

The planted bug (:class:`FastPathForAnyTwoByTwoStart`) is a fast path written for the notebook's
2-2-1 net — 2 inputs into a 2-unit hidden layer straight into the output — taken for every net
whose first layer is 2 → 2, so deeper nets lose their middle layers.  The fixed cases pass it:
the design has one net shape per (inputs, depth) (``generated.shape``), and none of depth ≥ 3
starts 2 → 2.  Exploration draws widths freely and meets one in about one net in a hundred;
hypothesis shrinks it and prints the ``generated.mlp_case(…)`` line,
which rebuilds a case that fails the check by itself.  Each run goes in-process through
pytester, as ``test_planted_bugs.py`` does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

import numpy as np
import pytest

from gatespec.conformance.adapters.numpy_impl import NumpyImplementation
from gatespec.conformance.adapters.numpy_impl import handwritten as numpy_impl
from gatespec.conformance.spec import generated
from gatespec.conformance.spec.checks import CHECKS, EXPLORE_TESTS, MLP_VALUES
from gatespec.conformance.spec.interface import Target
from gatespec.conformance.tools import explore

pytest_plugins = ["pytester"]

SUITE = "gatespec.conformance.suite.test_explore"
FIXED = "gatespec.conformance.suite.test_conformance"
NUMPY = "gatespec.conformance.adapters.numpy_impl:NumpyImplementation"
MUTANT = "tests.test_explore:FastPathForAnyTwoByTwoStart"
RECORDING = "tests.test_explore:Recording"
FORWARD = CHECKS["mlp_forward_matches_reference"]
# Cases per check: a uniform draw meets the bug in 1/6 (2 inputs) × 1/2 (depth ≥ 3) × 1/8 (h₁ = 2)
# ≈ 1% of nets, so 1500 miss it with probability ~(95/96)^1500 ≈ 1e-7; hypothesis, which favours
# small integers, meets it sooner.  Derandomised under CI, the search is the same every run.
N = 1500
LINE = re.compile(r"add to regressions\.txt \(--gatespec-regressions\): (generated\.\w+\(.*\))\s*$", re.M)
EXPLORE_CHECKS = len(EXPLORE_TESTS)  # the tests of conformance/suite/test_explore.py, each per dtype


def _fast_path_forward(params, X):
    if params[0].shape == (2, 2):  # BUG: the 2-2-1 fast path, taken whenever the first layer is the notebook's 2 → 2
        h = numpy_impl._sigmoid(np.dot(X, params[0]) + params[1])
        z = (np.dot(h, params[2]) + params[3])[:, 0]
        return z, numpy_impl._sigmoid(z)
    return numpy_impl._mlp_forward(params, X)


class FastPathForAnyTwoByTwoStart(NumpyImplementation):
    """The numpy forward pass with the notebook's fast path taken for any net whose first layer is 2 → 2."""

    name = "mutant-2-2-1-fast-path"
    _mlp_forward = staticmethod(_fast_path_forward)


def _recording_forward(params, X):
    """The numpy forward pass, appending each net it sees (shapes and a digest of its values) to $EXPLORE_LOG."""
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(p).tobytes() for p in params)).hexdigest()[:16]
    shapes = "x".join(str(p.shape) for p in params[::2])
    with open(os.environ["EXPLORE_LOG"], "a") as log:
        log.write(f"{shapes} {X.dtype} {digest}\n")
    return numpy_impl._mlp_forward(params, X)


class Recording(NumpyImplementation):
    name = "recording"
    _mlp_forward = staticmethod(_recording_forward)


def _run(pytester: pytest.Pytester, suite_module: str, impl: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(
        "--pyargs", suite_module, "--gatespec-impl", impl, "-p", "no:cacheprovider", *args
    )


# ----------------------------------------------------------------------------- the planted bug


def test_the_fixed_cases_miss_the_planted_bug(pytester):
    result = _run(pytester, FIXED, MUTANT, "-k", "test_mlp_forward_matches_reference", "-q")
    result.assert_outcomes(passed=2 * len(MLP_VALUES))


def test_exploration_finds_the_planted_bug_and_prints_a_case_that_reproduces_it(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")  # derandomised: the same search on every machine
    result = _run(pytester, SUITE, MUTANT, "--gatespec-explore", str(N), "-k", "test_explore_mlp_forward", "-q")
    result.assert_outcomes(failed=2)  # float32 and float64
    result.stdout.fnmatch_lines([f"*{FastPathForAnyTwoByTwoStart.name} / * / logits: not within*"])
    # One line per failing test (in its traceback and again in the short summary); derandomised, both
    # dtypes explore the same cases, so both shrink to the same one.
    lines = set(LINE.findall(result.stdout.str()))
    assert lines and all(line.startswith("generated.mlp_case(") for line in lines), result.stdout.str()
    for line in lines:
        case = eval(line, {"generated": generated})  # the line as the suite's own REGRESSIONS would take it
        assert explore.render(case) == line
        # Shrunk into the bug's region: depth ≥ 3 (at depth 2 the fast path is right) with a 2 → 2 first layer.
        assert len(case.params) >= 6 and case.sizes[:2] == (2, 2), line
        for dtype in ("float32", "float64"):
            target = Target(dtype, "cpu")
            with pytest.raises(AssertionError, match=f"{FastPathForAnyTwoByTwoStart.name} / {case.id} / logits"):
                FORWARD.run(FastPathForAnyTwoByTwoStart(), case, target, core=False)
            FORWARD.run(NumpyImplementation(), case, target, core=False)  # the bug, not the case
    # Kept in a regressions file, as the hint says, the case joins the fixed matrix: the mutant, which the fixed
    # cases miss, fails there on it alone; the unmutated implementation passes it.
    regressions = pytester.makefile(".txt", regressions="# found by exploration\n" + "\n".join(sorted(lines)) + "\n")
    forward = ("-k", "test_mlp_forward_matches_reference", "-q", "-rf")
    fixed = _run(pytester, FIXED, MUTANT, *forward)
    fixed.assert_outcomes(passed=fixed.parseoutcomes()["passed"])  # no failure without the file
    kept = _run(pytester, FIXED, MUTANT, f"--gatespec-regressions={regressions}", *forward)
    failed = [line for line in kept.outlines if line.startswith("FAILED")]
    assert len(failed) == 2 * len(lines) and all("-regression-float" in line for line in failed), kept.stdout.str()
    _run(pytester, FIXED, NUMPY, f"--gatespec-regressions={regressions}", *forward).assert_outcomes(
        passed=fixed.parseoutcomes()["passed"] + 2 * len(lines)
    )


def test_the_unmutated_implementation_passes_the_same_exploration(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = _run(pytester, SUITE, NUMPY, "--gatespec-explore", str(N), "-k", "test_explore_mlp_forward", "-q")
    result.assert_outcomes(passed=2)


def test_every_explored_check_passes_the_unmutated_implementation(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = _run(pytester, SUITE, NUMPY, "--gatespec-explore", "5", "-q")
    result.assert_outcomes(passed=2 * EXPLORE_CHECKS)


# ----------------------------------------------------------------------------- the mode


def _explored(pytester: pytest.Pytester, monkeypatch, log: str) -> list[str]:
    path = pytester.path / log
    monkeypatch.setenv("EXPLORE_LOG", str(path))
    result = _run(pytester, SUITE, RECORDING, "--gatespec-explore", "20", "-k", "test_explore_mlp_forward", "-q")
    result.assert_outcomes(passed=2)
    return path.read_text().splitlines()


def test_exploration_is_derandomised_under_ci(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    first, second = _explored(pytester, monkeypatch, "first"), _explored(pytester, monkeypatch, "second")
    assert len(set(first)) >= 20  # 20 nets per dtype, some of them alike in shape
    assert first == second


def test_exploration_draws_afresh_without_ci(pytester, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    first, second = _explored(pytester, monkeypatch, "first"), _explored(pytester, monkeypatch, "second")
    assert set(first) != set(second)


def test_exploration_is_off_by_default_and_no_row_of_the_report(pytester):
    out = pytester.path / "report"
    result = _run(pytester, SUITE, NUMPY, "-rs", "--gatespec-report", str(out))
    result.assert_outcomes(skipped=2 * EXPLORE_CHECKS)
    result.stdout.fnmatch_lines(
        [
            "gatespec: exploration off (--gatespec-explore N: N generated cases per check)",
            "SKIPPED * exploration is off: --gatespec-explore N searches N generated cases per check",
        ]
    )
    assert "explore" not in (out / "conformance.json").read_text()


def test_an_exploration_is_a_row_of_the_report(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    out = pytester.path / "report"
    result = _run(pytester, SUITE, NUMPY, "--gatespec-explore", "3", "-k", "mlp_forward", "--gatespec-report", str(out))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["gatespec: exploring 3 generated cases per check with hypothesis, derandomised*"])
    cell = json.loads((out / "conformance.json").read_text())["matrix"]["explore_mlp_forward::numpy"]
    assert cell["outcome"] == "pass" and cell["counts"] == {"pass": 2} and 0 < cell["error_over_tolerance"] < 1


@pytest.mark.parametrize("value", ["-1", "1.5", "many"])
def test_a_bad_count_is_a_usage_error(pytester, value):
    result = pytester.runpytest_inprocess("--gatespec-explore", value, "--gatespec-impl", NUMPY)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    expected = f"*--gatespec-explore: expected a number of cases ≥ 0 (0: no exploration), got '{value}'"
    result.stderr.fnmatch_lines([expected])


# ----------------------------------------------------------------------------- builders and lines


def _arrays(case) -> tuple[np.ndarray, ...]:
    return case.params if hasattr(case, "params") else (case.w,)


def test_the_design_is_built_by_the_public_builders():
    # The fixed cases come out of mlp_case / logistic_case with their own ids and an empty note.
    first = generated.STRUCTURE[0]
    again = generated.mlp_case(first.gate_name, len(first.params) // 2, first.scale, generated.SEED, first.optimizer)
    assert again.id == first.id and again.note != first.note
    assert all(np.array_equal(a, b) for a, b in zip(_arrays(again), _arrays(first)))


def test_each_regression_joins_the_fixed_cases_of_its_kind():
    for case in generated.REGRESSIONS:
        if isinstance(case, generated.LogisticCase):
            assert case in generated.LOGISTIC
        else:
            assert case in (generated.TRAINING if case.steps else generated.STRUCTURE)
        assert eval(explore.render(case), {"generated": generated}) == case


@pytest.mark.parametrize(
    "line",
    [
        'generated.mlp_case("majority-5", depth=3, scale="large", seed=17)',
        'generated.mlp_case("not", depth=2, scale="saturating", seed=0)',
        'generated.mlp_case("xor", depth=4, scale="tiny", seed=3, optimizer=generated.SGD(lr=0.123456789), steps=7)',
        'generated.mlp_case("or-6", depth=1, scale="unit", seed=5, '
        "optimizer=generated.Adam(lr=0.01, beta1=0.0, beta2=0.95, eps=1e-05), steps=2)",
        'generated.logistic_case("parity-4", scale="tiny", eta=1.7, seed=9, steps=3)',
        'generated.logistic_case("and-3", scale="unit", eta=0.3, seed=2)',
    ],
)
def test_a_printed_line_rebuilds_its_case_bit_for_bit(line):
    case = eval(line, {"generated": generated})
    assert explore.render(case) == line
    again = eval(explore.render(case), {"generated": generated})
    assert again == case and hash(again) == hash(case)
    assert all(np.array_equal(a, b) for a, b in zip(_arrays(again), _arrays(case)))


def test_cases_alike_in_id_stay_apart():
    # Another seed with the same widths, or a step size that prints alike: the same id, another case.
    # The suite caches bounds and runs per case, so such cases must not compare equal.
    a = generated.mlp_case("xor", depth=1, scale="unit", seed=1)
    b = generated.mlp_case("xor", depth=1, scale="unit", seed=2)
    assert a.id == b.id and a != b
    c = generated.mlp_case("xor", 2, "unit", 1, generated.SGD(0.1000001), 5)
    d = generated.mlp_case("xor", 2, "unit", 1, generated.SGD(0.1), 5)
    assert c.id == d.id and c != d  # both …-sgd-0.1


def test_a_design_case_has_no_line():
    with pytest.raises(ValueError, match="not built by mlp_case or logistic_case"):
        explore.render(generated.STRUCTURE[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(gate_name="not", depth=1, scale="unit", seed=0), "square everywhere"),
        (dict(gate_name="xor", depth=5, scale="unit", seed=0), "depth"),
        (dict(gate_name="xor", depth=2, scale="huge", seed=0), "scale"),
        (dict(gate_name="parity-8", depth=2, scale="unit", seed=0), "gate_name"),
        (dict(gate_name="xor", depth=2, scale="unit", seed=-1), "seed"),
        (dict(gate_name="xor", depth=2, scale="saturating", seed=0, steps=3), "steps"),
    ],
)
def test_the_builder_refuses_what_the_design_cannot_hold(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generated.mlp_case(**kwargs)


def test_the_strategies_draw_only_buildable_cases():
    from hypothesis import HealthCheck, given, settings

    seen = []

    @settings(max_examples=60, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=explore.mlp_cases(depths=(1,)) | explore.logistic_cases())
    def draw(case):
        seen.append(case)
        assert eval(explore.render(case), {"generated": generated}) == case

    draw()
    assert all(c.gate.n_inputs > 1 for c in seen if hasattr(c, "params"))  # depth 1 needs two inputs
