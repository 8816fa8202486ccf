"""The conformance report and the known-deviations file, run through pytester."""

import json
import textwrap
from pathlib import Path

import pytest

from gatespec.conformance import report
from gatespec.conformance.plugin import registry
from gatespec.conformance.spec.interface import Implementation

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
TINY = "tests.example_impl:TinyNumpyMLP"
# The two checks the example implements, over its float64 (float32 is skipped: not declared).
CHECKS = "mlp_forward_matches_reference or mlp_loss_and_gradients_match_reference"

FORWARD = textwrap.dedent(
    """
    import numpy as np
    from gatespec.reference import gates, init

    def test_forward(impl, target):
        z, p = impl.mlp_forward(init.standard_normal((2, 2, 1), np.random.default_rng(0)), gates.gate("xor").X, target)
        assert p.shape == (4,)
    """
)


def _report(pytester, *args) -> dict:
    out = pytester.path / "report"
    result = pytester.runpytest_subprocess(
        "--pyargs", "gatespec.conformance", "--gatespec-impl", TINY, "-k", CHECKS, "--gatespec-report", str(out), *args
    )
    assert result.ret == 0, result.stdout.str()
    assert (out / "conformance.md").is_file()
    return json.loads((out / "conformance.json").read_text())


def test_report_is_the_same_with_and_without_xdist(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the subprocess imports tests.example_impl
    serial = _report(pytester, "-p", "no:xdist")
    parallel = _report(pytester, "-n", "2")
    assert serial["matrix"] == parallel["matrix"]
    cell = serial["matrix"]["mlp_forward_matches_reference::tiny-mlp"]
    assert cell["outcome"] == "pass" and cell["counts"]["pass"] >= 1 and cell["counts"]["skip"] >= 1
    # Headroom is measured, not assumed: a real fraction of the tolerance, bit-identical across runs.
    assert 0 < cell["error_over_tolerance"] < 1
    assert [r["worst_ratio"] for r in serial["results"]] == [r["worst_ratio"] for r in parallel["results"]]


def test_known_deviation_is_a_strict_xfail(pytester):
    pytester.makepyfile(FORWARD)
    pytester.path.joinpath("dev.txt").write_text("# comment\ntest_forward[tiny-mlp-float64] | planted for the test\n")
    result = pytester.runpytest("--gatespec-impl", TINY, "--gatespec-known-deviations", "dev.txt")
    # The test passes, so the strict xfail fails it: a deviation that went away must be removed.
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*XPASS(strict)*known deviation: planted for the test*"])


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_unmatched_known_deviation_is_reported_and_matched_ones_are_not(pytester, monkeypatch, xdist):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the subprocess imports tests.example_impl
    pytester.makepyfile(FORWARD)
    pytester.path.joinpath("dev.txt").write_text(
        "test_no_such_check[tiny-mlp | stale entry\n"
        "test_forward[tiny-mlp-float64] | matched: an xfail that fails\n"
        "test_forward[torch-nn-float64] | for an implementation this run did not select\n"
    )
    result = pytester.runpytest_subprocess("--gatespec-impl", TINY, "--gatespec-known-deviations", "dev.txt", *xdist)
    out = result.stdout.str()
    # Under xdist the controller collects nothing: it must count matches from the workers' reports.
    assert "dev.txt:1 matches no collected test: test_no_such_check[tiny-mlp" in out, out
    assert "dev.txt:2" not in out and "dev.txt:3" not in out, out


DECLARED = textwrap.dedent(
    """
    from tests.example_impl import TinyNumpyMLP

    class Declaring(TinyNumpyMLP):
        name = "declaring"
        known_deviations = {"test_forward[float64]": "planted: declared by the class", "test_gone[*": "stale"}
    """
)


def test_an_implementation_declares_its_own_known_deviations(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(FORWARD)
    pytester.makepyfile(declaring_impl=DECLARED)
    result = pytester.runpytest_subprocess("--gatespec-impl", "declaring_impl:Declaring", "-p", "no:cacheprovider")
    # test_forward passes, so the declared strict xfail fails it, with the class's reason; the stale one is reported.
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*XPASS(strict)*known deviation: planted: declared by the class*"])
    result.stdout.fnmatch_lines(["*declaring.known_deviations matches no collected test: test_gone[declaring-*"])


def test_a_malformed_declared_deviation_is_a_usage_error(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(FORWARD)
    pytester.makepyfile(declaring_impl=DECLARED.replace('"test_gone[*": "stale"', '"no bracket": "x"'))
    result = pytester.runpytest_subprocess("--gatespec-impl", "declaring_impl:Declaring")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*declaring.known_deviations: expected*'no bracket'*"])


@pytest.mark.parametrize("line", ["test_forward[tiny-mlp-float64]", "| reason only", "test x y | spaces in the id"])
def test_malformed_known_deviation_is_a_usage_error_naming_the_line(pytester, line):
    pytester.makepyfile(FORWARD)
    pytester.path.joinpath("dev.txt").write_text(f"# first line\n{line}\n")
    result = pytester.runpytest("--gatespec-impl", TINY, "--gatespec-known-deviations", "dev.txt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gatespec-known-deviations dev.txt:2: expected 'TEST-ID-PREFIX | reason'*"])


class _Stub(Implementation):
    name = "stub-a"

    def framework_version(self) -> str:
        return "1.0"


def _result(check, impl, case, dtype, outcome, ratio):
    params = "-".join(x for x in (impl, case, dtype) if x)
    return {
        "impl": impl,
        "check": check,
        "case": case,
        "dtype": dtype,
        "outcome": outcome,
        "worst_ratio": ratio,
        "nodeid": f"conformance/suite/test_conformance.py::test_{check}[{params}]",
    }


def test_cases_and_headroom_per_check_from_synthetic_results(tmp_path):
    fwd, exact, never = "mlp_forward_matches_reference", "threshold_predictions_are_exact", "single_example_loss"
    results = [
        _result(fwd, "stub-a", "xor", "float32", "pass", 0.25),
        _result(fwd, "stub-a", "xor", "float64", "pass", 0.5),  # the worst pass
        _result(fwd, "stub-a", "majority", "float64", "xfail", 2.0),  # worse, but no pass: not headroom
        _result(fwd, "stub-b", "majority", "float32", "fail", 3.0),
        _result(fwd, "stub-b", "majority", "float64", "skip", None),  # a case, but no test run
        _result(fwd, "stub-b", "xor", "float64", "xpass", 0.9),
        _result(exact, "stub-a", None, "float64", "pass", 0.0),
        _result(exact, "stub-a", None, "float32", "pass", 0.0),  # a tie: the first in node-id order
        _result(never, "stub-b", "notebook", "float64", "skip", None),
    ]
    entries = [
        registry.Entry("stub-a", "numpy", "module:attr", impl=_Stub()),
        registry.Entry("stub-b", "numpy", "module:attr", reason="planted"),
    ]
    report.write_report(tmp_path, results, report.implementations_of(entries, "cpu"))

    summary = json.loads((tmp_path / "conformance.json").read_text())["checks_summary"]
    assert summary == {
        fwd: {
            "cases": 2,
            "tests_run": 5,
            "worst_pass_ratio": 0.5,
            "worst_pass_at": {"impl": "stub-a", "case": "xor", "dtype": "float64"},
        },
        exact: {
            "cases": 1,  # no cases: one
            "tests_run": 2,
            "worst_pass_ratio": 0.0,  # exact comparisons record 0, and it is printed
            "worst_pass_at": {"impl": "stub-a", "case": None, "dtype": "float32"},
        },
        never: {"cases": 1, "tests_run": 0, "worst_pass_ratio": None, "worst_pass_at": None},
    }
    md = (tmp_path / "conformance.md").read_text()
    matrix, sep, table = md.partition("\n## Cases and headroom per check\n")
    assert sep, md
    # The matrix as before: the worst outcome per cell, with its ratio.
    assert "| check | stub-a | stub-b |" in matrix
    assert "| mlp forward matches reference | xfail (2) | **FAIL** (3) |" in matrix
    assert "| threshold predictions are exact | pass (0) |  |" in matrix
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert rows == [
        "| check | cases | tests run | worst pass (error / tolerance) | at |",
        "|---|---|---|---|---|",
        "| mlp forward matches reference | 2 | 5 | 0.5 | stub-a / xor / float64 |",
        "| single example loss | 1 | 0 | — | — |",
        "| threshold predictions are exact | 1 | 2 | 0 | stub-a / float32 |",
    ]
