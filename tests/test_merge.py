"""``gatespec merge``: reports of separate runs merge into the report of one run over them all."""

import json

import pytest

from gatespec.conformance import cli, plugin

pytest_plugins = ["pytester"]

# One cheap check, with cases and both dtypes: enough to fill a matrix quickly.
CHECK = "mlp_forward_matches_reference"
COMPARED = ("matrix", "checks_summary", "results", "checks", "implementations")


def _run(pytester, name: str, *impls: str):
    """One conformance run of ``impls`` writing its report to ``name/``; the report's directory."""
    out = pytester.path / name
    args = [arg for impl in impls for arg in ("--impl", impl)]
    result = pytester.runpytest_subprocess(
        "--pyargs", "gatespec.conformance", *args, "-k", CHECK, "-p", "no:cacheprovider", "--gatespec-report", str(out)
    )
    assert result.ret == 0, result.stdout.str()
    return out


def _json(out) -> dict:
    return json.loads((out / "conformance.json").read_text())


def test_merging_per_framework_runs_gives_the_single_runs_report(pytester):
    # The single run names autograd first: columns still follow the built-ins' order, as in the merge.
    single = _run(pytester, "single", "autograd", "numpy")
    autograd = _run(pytester, "autograd", "autograd")
    numpy = _run(pytester, "numpy", "numpy")
    merged = pytester.path / "merged"

    inputs = [str(autograd / "conformance.json"), str(numpy / "conformance.json")]
    assert cli.main(["merge", *inputs, "-o", str(merged)]) == 0

    assert (merged / "conformance.md").read_text() == (single / "conformance.md").read_text()
    expected, got = _json(single), _json(merged)
    assert {k: got[k] for k in COMPARED} == {k: expected[k] for k in COMPARED}
    assert "| check | numpy | autograd |" in (single / "conformance.md").read_text()
    assert got["implementations"]["numpy"]["machine"] == plugin.machine("cpu")


def _result(impl: str, outcome: str = "pass", ratio: float | None = 0.5, case: str = "xor") -> dict:
    return {
        "impl": impl,
        "check": CHECK,
        "case": case,
        "dtype": "float64",
        "outcome": outcome,
        "worst_ratio": ratio,
        "nodeid": f"conformance/test_conformance.py::test_{CHECK}[{impl}-{case}-float64]",
    }


def _report(tmp_path, name: str, results: list[dict], version: str = "1.0", machine: str = "here"):
    """A report written by write_report, as a run would, from synthetic results; its JSON's path."""
    out = tmp_path / name
    impls = {r["impl"]: {"version": version, "machine": machine} for r in results}
    plugin.write_report(out, results, impls)
    return out / "conformance.json"


def _merge_fails(capsys, *reports) -> str:
    """Merge ``reports``, expecting a clean failure: exit 1, a message and nothing written."""
    out = reports[0].parent / "merged"
    assert cli.main(["merge", *map(str, reports), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gatespec merge: ") and "Traceback" not in err, err
    assert not out.exists()
    return err


def test_identical_results_merge_and_nonfinite_ratios_survive(tmp_path):
    first = _report(tmp_path, "a", [_result("stub-a", "fail", float("inf")), _result("stub-b", case="and")])
    again = _report(tmp_path, "b", [_result("stub-a", "fail", float("inf"))])
    out = tmp_path / "merged"
    assert cli.main(["merge", str(first), str(again), "-o", str(out)]) == 0
    assert (out / "conformance.md").read_text() == (tmp_path / "a" / "conformance.md").read_text()
    assert _json(out)["results"][0]["worst_ratio"] == "inf"


def test_a_conflicting_result_names_both_files(tmp_path, capsys):
    first = _report(tmp_path, "a", [_result("stub-a", "pass", 0.5)])
    second = _report(tmp_path, "b", [_result("stub-a", "fail", 2.0)])
    err = _merge_fails(capsys, first, second)
    assert f"{second}: test conformance/test_conformance.py::test_{CHECK}[stub-a-xor-float64]" in err
    assert f"differs from the one in {first}" in err


def test_one_implementation_with_two_versions_names_both_files(tmp_path, capsys):
    first = _report(tmp_path, "a", [_result("stub-a", case="xor")], version="1.0")
    second = _report(tmp_path, "b", [_result("stub-a", case="and")], version="2.0")
    err = _merge_fails(capsys, first, second)
    assert f"{second}: implementation 'stub-a' is version 2.0 on here" in err
    assert f"but version 1.0 on here in {first}" in err


@pytest.mark.parametrize(
    "text, why",
    [
        ("# gatespec conformance matrix\n", "not JSON"),
        ('{"benchmarks": []}', "no 'implementations' object"),
        ('{"implementations": {}, "results": [{"impl": "x"}]}', "a result without exactly the keys"),
    ],
    ids=["markdown", "other-json", "bad-result"],
)
def test_a_file_that_is_no_report_is_named(tmp_path, capsys, text, why):
    good = _report(tmp_path, "a", [_result("stub-a")])
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    err = _merge_fails(capsys, good, bad)
    assert f"{bad}: not a gatespec conformance report ({why}" in err


def test_a_missing_file_is_named(tmp_path, capsys):
    err = _merge_fails(capsys, tmp_path / "absent.json")
    assert f"{tmp_path / 'absent.json'}: cannot read: No such file or directory" in err
