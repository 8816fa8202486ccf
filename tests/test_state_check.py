"""The plugin fails a test whose implementation leaves global RNG or framework state changed.

Each run is the conformance suite in-process through pytester (``--gatespec-impl module:attr``, so no
other framework is imported) against one implementation of ``tests/state_mutants.py``: right
numbers, but its ``mlp_forward`` touches one process-wide setting.  The forward test must fail
with a message naming the implementation, the test and the setting with its value before →
after, and every other test must pass; the unmutated numpy implementation passes everything
with the check on; ``--gatespec-no-state-check`` turns the check off.  The suite runs in this
process, so each test puts back the state the mutants change.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gatespec.conformance.plugin import isolation

from . import state_mutants

pytest_plugins = ["pytester"]

SUITE = "gatespec.conformance.suite.test_conformance"
FORWARD = "test_mlp_forward_matches_reference"
LOSS = "test_mlp_loss_and_gradients_match_reference"
NUMPY = "gatespec.conformance.adapters.numpy_impl:NumpyImplementation"
DIGEST = "?" * 12


@pytest.fixture(autouse=True)
def _numpy_state_restored(monkeypatch):
    """The mutants draw, reseed and set error modes in this process: numpy's state is put back after each test.

    The runs start from numpy's default error state, and a generator seeded apart from 0, so
    that a reseed to 0 is a change.
    """
    monkeypatch.setenv("COLUMNS", "400")  # the short summary's "FAILED id - message", never cut at 80 columns
    generator = np.random.get_state()  # noqa: NPY002
    np.random.seed(1)  # noqa: NPY002
    try:
        with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
            yield
    finally:
        np.random.set_state(generator)  # noqa: NPY002


def _deviations(pytester: pytest.Pytester, name: str, *extra: str) -> Path:
    """A deviations file of the ``extra`` lines (each mutant inherits the numpy implementation's own deviations)."""
    return pytester.makefile(".txt", deviations="\n".join(extra) + "\n")


def _run(pytester: pytest.Pytester, impl: str, name: str, *args: str, deviations: tuple[str, ...] = ()):
    return pytester.runpytest_inprocess(
        "--pyargs",
        SUITE,
        "--gatespec-impl",
        impl,
        "--gatespec-known-deviations",
        str(_deviations(pytester, name, *deviations)),
        "-p",
        "no:cacheprovider",
        "-m",
        "not convergence",
        "-rf",
        *args,
    )


def _ran(result: pytest.RunResult) -> tuple[list[str], list[str]]:
    """Node ids of the tests that passed and that failed (skips and expected failures aside), with no errors."""
    outcomes = result.parseoutcomes()
    assert not {"error", "errors", "xpassed"} & set(outcomes), result.stdout.str()
    passed, _, failed = result.reprec.listoutcomes()  # type: ignore[attr-defined]
    return [r.nodeid for r in passed], [r.nodeid for r in failed]


def _forward(ids: list[str]) -> list[str]:
    return [i for i in ids if f"::{FORWARD}[" in i]


def _message(name: str, changes: str) -> str:
    return f"FAILED *::{FORWARD}[[]{name}-* - Failed: {name} / {FORWARD} / global state changed: {changes}"


def test_a_draw_from_numpys_global_generator_fails_every_forward_test_and_no_other(pytester):
    name = state_mutants.NumpyDraws.name
    result = _run(pytester, "tests.state_mutants:NumpyDraws", name)
    result.stdout.fnmatch_lines(["gatespec: global-state check on*"])
    passed, failed = _ran(result)
    # Every call moves the generator, so every forward test fails; every other test passes.
    assert failed and _forward(failed) == failed and not _forward(passed), (passed, failed)
    assert len(passed) > len(failed) and result.parseoutcomes()["xfailed"] > 0  # the inherited known deviations
    # The generator alone changed: the message ends with its digest.
    result.stdout.fnmatch_lines([_message(name, f"numpy global generator {DIGEST} → {DIGEST}")])


@pytest.mark.parametrize(
    ("mutant", "changes"),
    [
        ("NumpySeeds", f"numpy global generator {DIGEST} → {DIGEST}"),
        ("NumpySeterr", "; ".join(f"numpy errstate {k} warn → ignore" for k in ("divide", "over", "invalid"))),
    ],
)
def test_a_lasting_change_fails_the_first_forward_test(pytester, mutant, changes):
    # np.random.seed(0) or np.seterr in every call: the first test changes the state, the later
    # ones find it changed already and leave it so, so they pass; the leak is caught where it began.
    name = getattr(state_mutants, mutant).name
    result = _run(pytester, f"tests.state_mutants:{mutant}", name, "-k", f"{FORWARD} or {LOSS}")
    passed, failed = _ran(result)
    assert len(failed) == 1 and _forward(failed) == failed, failed
    assert _forward(passed) and len(passed) > len(_forward(passed)), passed  # later forward tests, every loss test
    result.stdout.fnmatch_lines([_message(name, changes)])


def test_torch_manual_seed_fails_the_first_forward_test(pytester):
    torch = pytest.importorskip("torch")
    generator = torch.random.get_rng_state()
    torch.manual_seed(1)  # not the state manual_seed(0) leaves, so that the first reseed is a change
    try:
        mutant = state_mutants.TorchManualSeed
        result = _run(pytester, "tests.state_mutants:TorchManualSeed", mutant.name, "-k", f"{FORWARD} or {LOSS}")
    finally:
        torch.random.set_rng_state(generator)
    passed, failed = _ran(result)
    assert len(failed) == 1 and _forward(failed) == failed, failed
    assert _forward(passed) and len(passed) > len(_forward(passed)), passed
    result.stdout.fnmatch_lines([_message(mutant.name, f"torch global generator {DIGEST} → {DIGEST}")])


def test_a_failing_test_keeps_its_own_failure_with_the_state_change_beside_it(pytester):
    name = state_mutants.NumpyDrawsAndBreaks.name
    result = _run(pytester, "tests.state_mutants:NumpyDrawsAndBreaks", name, "-k", FORWARD)
    passed, failed = _ran(result)
    assert failed and not passed, passed
    # The short summary gives the test's own failure; the state change follows it as a note.
    result.stdout.fnmatch_lines([f"FAILED *::{FORWARD}[[]{name}-* - AssertionError: {name} / * / logits*"])
    result.stdout.fnmatch_lines([f"*{name} / {FORWARD} / global state changed: numpy global generator *"])


def test_an_expected_failure_that_passes_but_leaks_fails(pytester):
    # Raised in the test, the state failure would count as the expected one and hide both the leak
    # and the XPASS; the test's report is made a failure instead.
    name = state_mutants.NumpyDraws.name
    planted = f"{FORWARD}[{name}- | planted: every forward test expected to fail"
    result = _run(pytester, "tests.state_mutants:NumpyDraws", name, "-k", FORWARD, deviations=(planted,))
    passed, failed = _ran(result)
    assert failed and _forward(failed) == failed and not passed, (passed, failed)
    assert "xfailed" not in result.parseoutcomes()
    result.stdout.fnmatch_lines(
        [
            f"{name} / {FORWARD} / global state changed: numpy global generator {DIGEST} → {DIGEST}",
            "(and it was expected to fail: [[]XPASS(strict)[]] known deviation: planted: *)",
        ]
    )


def test_the_numpy_implementation_passes_with_the_check_on(pytester):
    result = _run(pytester, NUMPY, "numpy")
    result.stdout.fnmatch_lines(["gatespec: global-state check on*"])
    passed, failed = _ran(result)
    assert passed and not failed, result.stdout.str()


def test_the_check_can_be_turned_off(pytester):
    name = state_mutants.NumpyDraws.name
    result = _run(pytester, "tests.state_mutants:NumpyDraws", name, "--gatespec-no-state-check")
    result.stdout.fnmatch_lines(["gatespec: global-state check off (--gatespec-no-state-check)"])
    passed, failed = _ran(result)
    assert _forward(passed) and not failed, result.stdout.str()


# ------------------------------------------------------------------------------ the snapshot itself


def test_the_snapshot_imports_no_framework():
    code = (
        "import sys; from gatespec.conformance.plugin.isolation import global_settings; s = global_settings(); "
        "print(sorted(m for m in ('torch', 'tensorflow', 'jax', 'keras', 'autograd') if m in sys.modules)); "
        "print(sorted({k.split()[0] for k in s}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "['numpy', 'python']"], out


def test_the_snapshot_sees_every_draw_not_only_a_new_key():
    # After a reseed, the first draw regenerates MT19937's 624-word key; the next 623 only move its
    # position, which a digest of the key alone would miss.
    np.random.seed(0)  # noqa: NPY002
    np.random.rand()  # noqa: NPY002
    before = isolation.global_settings()
    np.random.rand()  # noqa: NPY002
    assert list(isolation.changed(before, isolation.global_settings())) == ["numpy global generator"]
    np.random.seed(0)  # noqa: NPY002
    np.random.rand()  # noqa: NPY002
    assert isolation.changed(before, isolation.global_settings()) == {}


def test_only_the_settings_present_before_are_compared():
    # A framework imported during a test shows only in the later snapshot: that is no change.
    before = {"numpy errstate over": "warn", "numpy global generator": "a"}
    after = {"numpy errstate over": "ignore", "numpy global generator": "a", "torch threads": 1}
    changes = isolation.changed(before, after)
    assert changes == {"numpy errstate over": ("warn", "ignore")}
    assert isolation.describe(changes) == "numpy errstate over warn → ignore"
