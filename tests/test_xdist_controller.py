"""Under pytest-xdist the controller runs no test, so it loads no implementation: its workers do, and tell it
what the header and the report say of them."""

from __future__ import annotations

import json
import textwrap

import pytest

pytestmark = pytest.mark.slow
pytest_plugins = ["pytester"]

# Written by the controller alone (a worker has workerinput): the modules it imported by the end of the run.
RECORD = textwrap.dedent(
    """
    import json
    import sys


    def pytest_unconfigure(config):
        if not hasattr(config, "workerinput"):
            with open("controller-modules.json", "w") as out:
                json.dump(sorted(sys.modules), out)
    """
)


def test_the_controller_loads_no_implementation_and_reports_what_the_workers_loaded(pytester):
    pytester.makeconftest(RECORD)
    result = pytester.runpytest_subprocess(
        "--pyargs",
        "gatespec.conformance.suite.test_conformance",
        "--gatespec-impl",
        "numpy",
        "--gatespec-require",
        "numpy",
        "-n",
        "2",
        "-k",
        "test_mlp_forward_matches_reference or single_example",
        "--gatespec-report=report",
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == 0, result.stdout.str()[-3000:]
    modules = set(json.loads((pytester.path / "controller-modules.json").read_text()))
    loaded = sorted(m for m in modules if m.startswith("gatespec.conformance.adapters."))
    assert not loaded, loaded
    result.stdout.fnmatch_lines(
        [
            "gatespec: implementations numpy, device cpu, *",
            "*loaded in each xdist worker, not here*",
            "gatespec: the implementations, as the xdist workers loaded them:",
            "  numpy           numpy *dtypes=float32,float64*",
        ]
    )
    report = json.loads((pytester.path / "report" / "conformance.json").read_text())
    import numpy

    assert report["implementations"]["numpy"]["version"] == numpy.__version__
    outcomes = {r["outcome"] for r in report["results"] if r["check"] == "single_example_loss_matches_reference"}
    assert outcomes == {"pass", "xfail"}  # the numpy style's own deviation, as the worker loaded it


def test_an_unknown_required_name_stops_the_controller_before_any_worker_starts(pytester):
    result = pytester.runpytest_subprocess(
        "--pyargs", "gatespec.conformance", "--gatespec-impl", "numpy", "--gatespec-require", "no-such-fw", "-n", "2"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gatespec-require no-such-fw: unknown framework or implementation*"])
    assert "bringing up nodes" not in result.stdout.str()


def test_a_required_name_only_the_workers_can_check_fails_the_run_as_a_usage_error(pytester):
    # A module:attr implementation tells its name only once imported, which the controller does not do.
    selection = "numpy,gatespec.conformance.adapters.example:TinyNumpyMLP"
    result = pytester.runpytest_subprocess(
        "--pyargs", "gatespec.conformance", "--gatespec-impl", selection, "--gatespec-require", "no-such", "-n", "2"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines(["*none: no worker could start its session*"])


VERSIONED = textwrap.dedent(
    """
    from gatespec.conformance.adapters.example import TinyNumpyMLP


    class Version(str):
        \"\"\"A version string of a type of its own, as torch's TorchVersion.\"\"\"


    class Versioned(TinyNumpyMLP):
        name = "versioned"

        def framework_version(self):
            return Version("1.2.3")
    """
)


def test_what_a_worker_sends_is_plain_data_whatever_types_an_implementation_returns(pytester):
    pytester.makepyfile(versioned=VERSIONED)
    result = pytester.runpytest_subprocess(
        "--pyargs",
        "gatespec.conformance.suite.test_conformance",
        "--gatespec-impl",
        "versioned:Versioned",
        "-n",
        "2",
        "-k",
        "test_mlp_forward_matches_reference",
        "--gatespec-report=report",
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == 0 and "node down" not in result.stdout.str(), result.stdout.str()[-3000:]
    report = json.loads((pytester.path / "report" / "conformance.json").read_text())
    assert report["implementations"]["versioned"]["version"] == "1.2.3"
