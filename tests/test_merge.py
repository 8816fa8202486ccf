"""``gatespec merge``: reports of separate runs merge into the report of one run over them all."""

import json

import pytest

from gatespec.conformance import report
from gatespec.conformance.tools import cli
from tests.report_rows import convergence_row

pytest_plugins = ["pytester"]

# One cheap check, with cases and both dtypes: enough to fill a matrix quickly.
CHECK = "mlp_forward_matches_reference"
COMPARED = ("matrix", "checks_summary", "results", "checks", "implementations", "convergence")


def _run(pytester, name: str, *impls: str):
    """One conformance run of ``impls`` writing its report to ``name/``; the report's directory."""
    out = pytester.path / name
    args = [arg for impl in impls for arg in ("--gatespec-impl", impl)]
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
    assert got["implementations"]["numpy"]["machine"] == report.machine("cpu")


def _result(impl: str, outcome: str = "pass", ratio: float | None = 0.5, case: str = "xor") -> dict:
    return {
        "impl": impl,
        "check": CHECK,
        "case": case,
        "dtype": "float64",
        "outcome": outcome,
        "worst_ratio": ratio,
        "nodeid": f"conformance/suite/test_conformance.py::test_{CHECK}[{impl}-{case}-float64]",
    }


def _report(tmp_path, name: str, results: list[dict], version: str = "1.0", machine: str = "here", rows=()):
    """A report written by write_report, as a run would, from synthetic results and convergence rows; its path."""
    out = tmp_path / name
    impls = {r["impl"]: {"version": version, "machine": machine} for r in results}
    report.write_report(out, results, impls, rows)
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
    results = [_result("stub-a", "fail", float("inf")), _result("stub-b", case="and")]
    first = _report(tmp_path, "a", results, rows=[convergence_row("stub-a")])
    again = _report(tmp_path, "b", [_result("stub-a", "fail", float("inf"))], rows=[convergence_row("stub-a")])
    out = tmp_path / "merged"
    assert cli.main(["merge", str(first), str(again), "-o", str(out)]) == 0
    assert (out / "conformance.md").read_text() == (tmp_path / "a" / "conformance.md").read_text()
    assert _json(out)["results"][0]["worst_ratio"] == "inf"
    assert [row["impl"] for row in _json(out)["convergence"]] == ["stub-a"]  # the same row twice: once


def test_convergence_rows_of_separate_runs_merge_into_the_single_runs_section(tmp_path):
    of_a, of_b = [_result("stub-a")], [_result("stub-b", case="and")]
    first = _report(tmp_path, "a", of_a, rows=[convergence_row("stub-a")])
    second = _report(tmp_path, "b", of_b, rows=[convergence_row("stub-b", learned=650)])
    single = _report(
        tmp_path, "single", of_a + of_b, rows=[convergence_row("stub-a"), convergence_row("stub-b", learned=650)]
    )
    out = tmp_path / "merged"
    assert cli.main(["merge", str(first), str(second), "-o", str(out)]) == 0

    md = (out / "conformance.md").read_text()
    assert md == (single.parent / "conformance.md").read_text()
    section = md.partition("\n## XOR convergence\n")[2]
    assert "| stub-a | standard-normal | sgd-0.5 | 700/1000 |" in section
    assert "| stub-b | standard-normal | sgd-0.5 | 650/1000 |" in section
    assert _json(out)["convergence"] == _json(single.parent)["convergence"]
    assert [row["impl"] for row in _json(out)["convergence"]] == ["stub-a", "stub-b"]
    # Run times are kept by each run's convergence.json alone: a merge has none to write.
    assert (single.parent / "convergence.json").exists() and not (out / "convergence.json").exists()


def test_one_implementations_convergence_in_two_reports_names_both_files(tmp_path, capsys):
    first = _report(tmp_path, "a", [_result("stub-a")], rows=[convergence_row("stub-a")])
    second = _report(tmp_path, "b", [_result("stub-a", case="and")], rows=[convergence_row("stub-a", learned=650)])
    err = _merge_fails(capsys, first, second)
    assert f"{second}: the convergence statistics of stub-a / xor-standard-normal-sgd-0.5 differ" in err
    assert f"differ from those in {first}" in err


def test_a_conflicting_result_names_both_files(tmp_path, capsys):
    first = _report(tmp_path, "a", [_result("stub-a", "pass", 0.5)])
    second = _report(tmp_path, "b", [_result("stub-a", "fail", 2.0)])
    err = _merge_fails(capsys, first, second)
    assert f"{second}: test conformance/suite/test_conformance.py::test_{CHECK}[stub-a-xor-float64]" in err
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
        ('{"implementations": {}, "results": [], "convergence": [{"impl": "x"}]}', "a convergence row without"),
    ],
    ids=["markdown", "other-json", "bad-result", "bad-convergence-row"],
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
