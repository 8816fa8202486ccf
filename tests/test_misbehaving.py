"""An implementation that raises, returns the wrong shape, dtype or NaN, or hangs fails that test alone.

Each row runs the conformance suite through pytester on one implementation of
``tests/misbehaving.py`` (its ``mlp_forward`` broken) beside the unbroken control, selecting
the forward check and the loss-and-gradients check, with the report on.  The forward tests of
the broken implementation must fail with a message that says what was wrong; every other test
of the run (its own loss and gradients, the control's everything) must pass; and the report
must be written, with the broken cell a failure and the rest passes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from gatespec.conformance.spec.checks import MLP_VALUES
from gatespec.conformance.spec.interface import DTYPES

from . import misbehaving

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
SUITE = "gatespec.conformance.suite.test_conformance"
BROKEN = "test_mlp_forward_matches_reference"
INTACT = "test_mlp_loss_and_gradients_match_reference"
CONTROL = "tests.mutants:Control"
# Forward and loss checks each run every MLP value case in both dtypes per implementation.
PER_CHECK = len(MLP_VALUES) * len(DTYPES)


@dataclass(frozen=True)
class Row:
    """``impl`` ("tests.misbehaving:Class") must fail ``failed`` of its forward tests, ``message`` in the output."""

    id: str
    impl: str
    failed: int
    message: str
    # Extra options, and a narrower forward selection of ``forward`` tests per implementation
    # (the hang costs its timeout per test).
    args: tuple[str, ...] = ()
    select: str = BROKEN
    forward: int = PER_CHECK

    @property
    def name(self) -> str:
        return getattr(misbehaving, self.impl.partition(":")[2]).name


ROWS = [
    Row(
        "raises",
        "tests.misbehaving:Raises",
        PER_CHECK,
        f"FAILED *::{BROKEN}[[]misbehaving-raises-* - RuntimeError: mat1 and mat2 shapes cannot be multiplied*",
    ),
    Row(
        "wrong-shape",
        "tests.misbehaving:WrongShape",
        PER_CHECK,
        "*misbehaving-wrong-shape / xor-2-2-1 / logits: shape (4, 1), expected (4,)",
    ),
    # float64 in, float64 out: right for the float64 target, the wrong dtype for float32 only.
    Row(
        "wrong-dtype",
        "tests.misbehaving:WrongDtype",
        PER_CHECK // 2,
        "*misbehaving-wrong-dtype / xor-2-2-1 / logits: dtype float64, expected float32*",
    ),
    Row(
        "nan",
        "tests.misbehaving:ReturnsNaN",
        PER_CHECK,
        "*non-finite values in ACTUAL: 1 NaN (first at index (3,))",
    ),
    Row(
        "hangs",
        "tests.misbehaving:Hangs",
        1,
        f"FAILED *::{BROKEN}[[]misbehaving-hangs-xor-2-2-1-float64] - Failed: Timeout (>2.0s) from pytest-timeout.",
        args=("--gatespec-timeout", "2"),
        select=f"({BROKEN} and xor-2-2-1-float64)",
        forward=1,
    ),
    # xdist's workers run tests in their main thread, so the signal method works there too, and
    # the controller's report still shows the failure.
    Row(
        "hangs-under-xdist",
        "tests.misbehaving:Hangs",
        1,
        f"FAILED *::{BROKEN}[[]misbehaving-hangs-xor-2-2-1-float64] - Failed: Timeout (>2.0s) from pytest-timeout.",
        args=("--gatespec-timeout", "2", "-n", "2"),
        select=f"({BROKEN} and xor-2-2-1-float64)",
        forward=1,
    ),
]


def _run(pytester: pytest.Pytester, row: Row, report: Path) -> pytest.RunResult:
    args = (SUITE, "--gatespec-impl", row.impl, "--gatespec-impl", CONTROL, "-k", f"{row.select} or {INTACT}")
    args += ("--gatespec-report", str(report), "-p", "no:cacheprovider", "-rf", *row.args)
    if row.impl.endswith(":Hangs"):
        # In a process of its own: pytest-timeout's signal method needs the main thread, which a
        # pytester run inside an xdist worker or a thread-based runner may not be.
        return pytester.runpytest_subprocess("--pyargs", *args)
    return pytester.runpytest_inprocess("--pyargs", *args)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_misbehaving_implementation_fails_its_test_alone(pytester, monkeypatch, row: Row):
    if row.impl.endswith(":Hangs"):
        pytest.importorskip("pytest_timeout", reason="the hang is stopped by pytest-timeout (the test extra)")
    if "-n" in row.args:
        pytest.importorskip("xdist", reason="pytest-xdist (the test extra) runs the workers")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # a subprocess run imports tests.misbehaving
    monkeypatch.setenv("COLUMNS", "400")  # the short summary's "FAILED id - message", never cut at 80 columns
    report = pytester.path / "report"
    result = _run(pytester, row, report)
    # Every selected test ran to an outcome: the forward tests of the control and the loss tests
    # of both implementations pass, whatever the broken implementation did before them.
    passed = 2 * row.forward - row.failed + 2 * PER_CHECK
    result.assert_outcomes(failed=row.failed, passed=passed)
    failed = [line for line in result.outlines if line.startswith("FAILED ")]
    assert all(f"::{BROKEN}[{row.name}-" in line for line in failed), "\n".join(failed)
    result.stdout.fnmatch_lines([row.message])
    result.stdout.fnmatch_lines(["gatespec: conformance report written to *"])

    matrix = json.loads((report / "conformance.json").read_text())["matrix"]
    check, intact = BROKEN.removeprefix("test_"), INTACT.removeprefix("test_")
    assert matrix[f"{check}::{row.name}"]["outcome"] == "fail"
    assert matrix[f"{check}::{row.name}"]["counts"]["fail"] == row.failed
    assert matrix[f"{intact}::{row.name}"]["outcome"] == "pass"
    assert matrix[f"{check}::control"]["outcome"] == matrix[f"{intact}::control"]["outcome"] == "pass"
    # The markdown matrix too: the broken implementation's column (first) shows the failure.
    assert f"| {check.replace('_', ' ')} | **FAIL**" in (report / "conformance.md").read_text()


def test_every_misbehaving_implementation_has_a_row():
    classes = {
        c.__name__ for c in vars(misbehaving).values() if isinstance(c, type) and c.__module__ == misbehaving.__name__
    }
    assert classes == {row.impl.partition(":")[2] for row in ROWS}


def test_the_timeout_is_in_the_header(pytester):
    result = pytester.runpytest_inprocess("--pyargs", SUITE, "--gatespec-impl", CONTROL, "--collect-only")
    result.stdout.fnmatch_lines(["gatespec: 1 implementations, device cpu, per-test timeout 300 s"])


@pytest.mark.parametrize("value", ["-1", "nan", "soon"])
def test_a_bad_timeout_is_a_usage_error(pytester, value):
    result = pytester.runpytest_inprocess("--gatespec-timeout", value, "--gatespec-impl", CONTROL)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--gatespec-timeout: expected seconds ≥ 0 (0: no timeout), got '{value}'"])


def test_a_missing_layer_is_named_not_compared_away():
    """A result with fewer parameter arrays than the net fails with the count, instead of zip stopping early."""
    from gatespec.conformance.spec.compare import assert_close_params, zip_params
    from gatespec.conformance.spec.tolerances import Tolerance

    three = (np.zeros(2), np.zeros(2), np.zeros(1))
    with pytest.raises(AssertionError, match=r"impl / case / gradients: 2 arrays, expected 3"):
        list(zip_params("impl", "case", "gradients", three[:2], three))
    with pytest.raises(AssertionError, match="2 arrays, expected 3"):
        assert_close_params(three[:2], three, tol=Tolerance(0.0, 1.0, "test"), impl="impl", case="case", quantity="q")
