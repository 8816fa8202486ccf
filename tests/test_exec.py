"""Implementations in other languages through the exec protocol: caught as Python ones are, failing alone.

The program under test is ``tests/exec_clients/numpy_client.py``: gatespec's numpy style behind
the pipe, correct unless told to misbehave on one operation.  Each row runs the forward and the
loss-and-gradients checks on it through pytester: the misbehaving operation's tests fail with a
message that says what happened, every other test passes — the program was restarted and the
run went on — and the report shows the failure.  The built-in clients (Node.js, C) are checked
for what their toolchains decide: present, they are available; absent, skipped or, under
``--gatespec-require``, an error.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from gatespec.conformance.adapters.exec_impl import builtin, client, protocol
from gatespec.conformance.plugin import registry
from gatespec.conformance.spec.checks import MLP_VALUES
from gatespec.conformance.spec.interface import DTYPES, Target
from gatespec.reference import mlp

from .tiny_fw import TinyFw

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "tests" / "exec_clients" / "numpy_client.py"
SUITE = "gatespec.conformance.suite.test_conformance"
FORWARD = "test_mlp_forward_matches_reference"
GRADS = "test_mlp_loss_and_gradients_match_reference"
PER_CHECK = len(MLP_VALUES) * len(DTYPES)
NAME = "numpy-exec"


def _command(*args: str) -> str:
    return "exec:" + shlex.join([sys.executable, str(CLIENT), *args])


@dataclass(frozen=True)
class Row:
    """The client with ``--fault fault`` on ``op``: ``failed`` tests of ``check`` fail, ``message`` in the output."""

    id: str
    fault: str
    op: str
    check: str
    failed: int
    message: str
    args: tuple[str, ...] = ()
    fault_dtype: str | None = None
    select: str | None = None  # a narrower -k for the failing check (the hang costs its timeout per test)
    selected: int = PER_CHECK  # the failing check's tests that -k selects


ROWS = [
    # A planted bug, caught through the protocol by the same check, naming the quantity.
    Row("grad-sign", "grad-sign", "mlp_loss_and_grads", GRADS, PER_CHECK, f"*{NAME} / xor-2-2-1 / gradient W1: *"),
    Row("crash", "crash", "mlp_forward", FORWARD, PER_CHECK, "*died during 'mlp_forward' (status 3)*"),
    Row("garbage", "garbage", "mlp_forward", FORWARD, PER_CHECK, "*breaks the protocol: not a JSON line*Traceback*"),
    Row("wrong-id", "wrong-id", "mlp_forward", FORWARD, PER_CHECK, "*breaks the protocol: answers id *, expected *"),
    Row("short", "short", "mlp_forward", FORWARD, PER_CHECK, "*mlp_forward result 'z': expected * entries, got *"),
    # float64 numbers in a float32 response: the float32 tests fail, the float64 ones pass.
    Row(
        "float64-for-float32",
        "float64",
        "mlp_forward",
        FORWARD,
        PER_CHECK // 2,
        "*mlp_forward result 'z': * is not a float32 value (the nearest is *",
        fault_dtype="float32",
    ),
    Row(
        "hang",
        "hang",
        "mlp_forward",
        FORWARD,
        1,
        "*did not answer 'mlp_forward' within 5 s (--gatespec-exec-timeout)*",
        # The restarted program's handshake has the same limit: 1 s was too short for Python and numpy
        # to start at load 8 on 2 cores ('did not answer hello'); a hang costs this once.
        args=("--gatespec-exec-timeout", "5"),
        select=f"({FORWARD} and xor-2-2-1-float64)",
        selected=1,
    ),
]


def _run(pytester: pytest.Pytester, command: str, select: str, report: Path, *args: str) -> pytest.RunResult:
    args = ("--gatespec-impl", command, "-k", select, "--gatespec-report", str(report), "-p", "no:cacheprovider", *args)
    return pytester.runpytest_inprocess("--pyargs", SUITE, "-rf", *args)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_a_misbehaving_program_fails_its_tests_alone(pytester, monkeypatch, row: Row):
    monkeypatch.setenv("COLUMNS", "400")  # the short summary's "FAILED id - message", never cut at 80 columns
    fault = ("--fault", row.fault, "--fault-op", row.op)
    fault += ("--fault-dtype", row.fault_dtype) if row.fault_dtype else ()
    other = GRADS if row.check == FORWARD else FORWARD
    report = pytester.path / "report"
    result = _run(pytester, _command(*fault), f"{row.select or row.check} or {other}", report, *row.args)
    # The other check's tests all ran and passed after the failures: the program was restarted each time.
    result.assert_outcomes(failed=row.failed, passed=row.selected - row.failed + PER_CHECK)
    failed = [line for line in result.outlines if line.startswith("FAILED ")]
    assert all(f"::{row.check}[{NAME}-" in line for line in failed), "\n".join(failed)
    result.stdout.fnmatch_lines([row.message])
    matrix = json.loads((report / "conformance.json").read_text())["matrix"]
    assert matrix[f"{row.check.removeprefix('test_')}::{NAME}"]["outcome"] == "fail"
    assert matrix[f"{other.removeprefix('test_')}::{NAME}"]["outcome"] == "pass"


def test_a_program_that_floods_stderr_is_not_blocked(pytester):
    """1 MB on stderr before an answer: stderr goes to a file, so the program never blocks on a full pipe."""
    command = _command("--fault", "stderr-flood", "--fault-op", "mlp_forward")
    result = _run(pytester, command, FORWARD, pytester.path / "report")
    result.assert_outcomes(passed=PER_CHECK)


def test_a_program_of_another_protocol_version_is_a_usage_error(pytester):
    result = pytester.runpytest_inprocess(
        "--pyargs", SUITE, "--gatespec-impl", _command("--protocol", "2"), "--collect-only"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*refused protocol {protocol.VERSION} (protocol: speaks 2)*"])


def test_a_program_that_cannot_start_is_a_usage_error(pytester, tmp_path):
    missing = tmp_path / "no-such-program"
    result = pytester.runpytest_inprocess("--pyargs", SUITE, "--gatespec-impl", f"exec:{missing}", "--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*exec:{missing}*cannot start*"])


@pytest.mark.parametrize(
    ("name", "message"),
    [("has space", "*name 'has space': letters, digits*"), ("", "*'name' must be a non-empty string*")],
)
def test_a_bad_handshake_names_what_is_wrong(name, message):
    with pytest.raises(client.HandshakeError) as info:
        client.from_command(shlex.join([sys.executable, str(CLIENT), "--name", name]))
    assert info.match(message.strip("*").replace("(", r"\(").split("*")[0])


def test_the_exec_value_keeps_its_commas():
    """``--gatespec-impl exec:...`` is one selector: commas inside the command are not a list of names."""
    assert registry._split(["numpy,autograd", "exec:prog --a=1,2", " exec:x"]) == [
        "numpy",
        "autograd",
        "exec:prog --a=1,2",
        "exec:x",
    ]


def test_results_cross_the_pipe_bit_for_bit():
    """float64 in JSON round-trips exactly: the client's numbers are the numpy style's, in both dtypes."""
    from gatespec.conformance.adapters.numpy_impl.handwritten import NumpyImplementation

    impl, numpy = client.from_command(shlex.join([sys.executable, str(CLIENT)])), NumpyImplementation()
    rng = np.random.default_rng(7)
    params = tuple(rng.normal(size=s) for s in ((3, 4), (4,), (4, 1), (1,)))
    X, y = rng.normal(size=(8, 3)), (rng.random(8) > 0.5).astype(float)
    try:
        for dtype in DTYPES:
            target = Target(dtype)
            got, want = impl.mlp_loss_and_grads(params, X, y, target), numpy.mlp_loss_and_grads(params, X, y, target)
            assert got[0].dtype == np.dtype(dtype) and got[0].tobytes() == want[0].tobytes()
            assert all(g.dtype == w.dtype and g.tobytes() == w.tobytes() for g, w in zip(got[1], want[1]))
            run = impl.mlp_train(params, X, y, mlp.Adam(lr=0.1), 3, target)
            ref = numpy.mlp_train(params, X, y, mlp.Adam(lr=0.1), 3, target)
            assert all(g.tobytes() == w.tobytes() for g, w in zip(run.params, ref.params))
    finally:
        impl.close()


def test_non_finite_numbers_cross_as_strings():
    line = protocol.dumps({"id": 1, "result": {"z": np.array([np.nan, np.inf, -np.inf, 0.1])}})
    assert line == b'{"id":1,"result":{"z":["NaN","Infinity","-Infinity",0.1]}}\n'
    z = protocol.array(protocol.loads(line, 1)["z"], (4,), "float64", "z")
    np.testing.assert_array_equal(z, [np.nan, np.inf, -np.inf, 0.1])


@pytest.mark.parametrize(
    ("written", "accepted"),
    [
        ("0.10000000149011612", True),  # float32(0.1) as the double it is (JavaScript's Math.fround, printed)
        ("0.100000001", True),  # %.9g of float32(0.1)
        ("0.1", True),  # the shortest decimal of float32(0.1)
        ("0.10000000000000002", False),  # a double never rounded to float32
        ("0.1000000015", False),  # ten digits: not how a float is written, and not a float32 value
        ("1e39", False),  # beyond float32's range
    ],
)
def test_a_float32_response_must_hold_float32_values(written, accepted):
    result = protocol.loads(f'{{"id": 3, "result": {{"z": [{written}]}}}}'.encode(), 3)
    if accepted:
        assert protocol.array(result["z"], (1,), "float32", "z")[0] == np.float32(0.1)
    else:
        with pytest.raises(protocol.ProtocolError, match="is not a float32 value"):
            protocol.array(result["z"], (1,), "float32", "z")


@pytest.mark.parametrize("cls", [builtin.NodePlain, builtin.CPlain], ids=["node-plain", "c-plain"])
def test_a_builtin_client_without_its_toolchain_is_unavailable_with_the_reason(monkeypatch, tmp_path, cls):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no node, no gcc
    for var in ("GATESPEC_NODE", "GATESPEC_CC"):
        monkeypatch.delenv(var, raising=False)
    name = cls.expected_name
    entry = registry.builtin(name)
    assert not entry.available
    assert "not found on PATH" in entry.reason


def test_a_required_client_without_its_toolchain_fails_the_run(pytester, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("GATESPEC_NODE", raising=False)
    result = pytester.runpytest_inprocess(
        "--pyargs", SUITE, "--gatespec-impl", "node", "--gatespec-require", "node", "--collect-only"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gatespec-require node: required but not available*node not found on PATH*"])


def test_the_readme_minimal_client_passes_what_it_declares(pytester):
    """The README's JavaScript client (minimal_client.js): its float64 forward tests pass, the rest skip."""
    if builtin.shutil.which("node") is None:
        pytest.skip("node is not on PATH: the README's client is JavaScript")
    js = ROOT / "tests" / "exec_clients" / "minimal_client.js"
    result = pytester.runpytest_inprocess("--pyargs", SUITE, "--gatespec-impl", f"exec:node {js}", "-k", FORWARD)
    result.assert_outcomes(passed=PER_CHECK // 2, skipped=PER_CHECK // 2)


# ----------------------------------------------------------------------------- Adam's scalars (protocol text)

# β₂ near 1 over two steps: 1 − β₂ᵗ from float32(β₂) is off by ~1.7e-4 relative (cancellation), far past the
# float32 budget; from the given β in float64, rounded once, as the protocol says, it is exact to rounding.
BETA2_NEAR_ONE = (
    'generated.mlp_case("xor", depth=2, scale="unit", seed=3, '
    "optimizer=generated.Adam(lr=0.05, beta1=0.9, beta2=0.9999, eps=1e-08), steps=2)"
)


class Float32BetaPowers(TinyFw):
    """tests/tiny_fw.py's optax-style Adam (1 − βᵗ in float32 from β rounded to float32), with no deviation declared:
    the slip the protocol text warns of."""

    name = "float32-beta-powers"
    known_deviation_sets = ()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("selected", "failed"), [("node-plain", 0), ("c-plain", 0), ("tests.test_exec:Float32BetaPowers", 1)]
)
def test_adam_scalars_come_from_the_given_beta_in_float64(pytester, selected, failed):
    regressions = pytester.makefile(".txt", regressions=BETA2_NEAR_ONE)
    required = [] if ":" in selected else ["--gatespec-require", selected]
    result = pytester.runpytest_inprocess(
        "--pyargs",
        SUITE,
        "--gatespec-impl",
        selected,
        *required,
        f"--gatespec-regressions={regressions}",
        "-k",
        "test_mlp_adam_trajectory and regression",
        "-p",
        "no:cacheprovider",
        "-rf",
    )
    result.assert_outcomes(passed=2 - failed, failed=failed)
    if failed:
        result.stdout.fnmatch_lines([f"FAILED *[[]{Float32BetaPowers.name}-*-regression-float32]*"])
