"""--gatespec-regressions FILE: the lines exploration prints, read (never run), joining the checks of their kind."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from gatespec.conformance.plugin import regressions
from gatespec.conformance.spec import generated

pytest_plugins = ["pytester"]

STRUCTURE = 'generated.mlp_case("xor", depth=2, scale="unit", seed=5)'
SATURATING = 'generated.mlp_case("and-5", depth=2, scale="saturating", seed=1)'
SGD_RUN = 'generated.mlp_case("majority-3", depth=2, scale="tiny", seed=2, optimizer=generated.SGD(lr=0.3), steps=40)'
ADAM_RUN = (
    'generated.mlp_case("parity-3", depth=2, scale="unit", seed=8, '
    "optimizer=generated.Adam(lr=0.05, beta1=0.5, beta2=0.99, eps=1e-06), steps=25)"
)
LOGISTIC = 'generated.logistic_case("nand", scale="tiny", eta=0.3, seed=11)'

COMPILED = textwrap.dedent(
    """
    from gatespec.conformance.adapters.numpy_impl import NumpyImplementation


    class CompiledNumpy(NumpyImplementation):
        \"\"\"A style that declares it compiles per shape: it runs generated.CORE, and every regression case.\"\"\"

        name = "compiled-numpy"
        compiled = True
    """
)


@pytest.mark.parametrize("line", [STRUCTURE, SATURATING, SGD_RUN, ADAM_RUN, LOGISTIC])
def test_a_line_builds_the_case_the_generator_builds(line):
    case = regressions.parse(line)
    built = eval(line, {"generated": generated})  # the same call, run: what the line stands for
    assert case.name == built.name + "-regression" and case.regression and not built.regression
    assert case.note == built.note == line  # the case's note is the line that rebuilds it
    arrays = case.params if hasattr(case, "params") else (case.w,)
    expected = built.params if hasattr(built, "params") else (built.w,)
    assert all((a == b).all() for a, b in zip(arrays, expected, strict=True))


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("__import__('os').system('true')", "expected generated.mlp_case"),
        ('generated.mlp_case("xor", depth=3, scale="unit", seed=int("5"))', "expected a literal"),
        ('generated.mlp_case("xor", depth=3, scale="unit", seed=5, optimizer=SGD(0.3), steps=2)', "generated.SGD"),
        ('generated.mlp_case("xor", **{"depth": 3})', "** arguments"),
        ('generated.mlp_case("xor", depth=9, scale="unit", seed=5)', "depth: expected one of"),
        ("generated.mlp_case(", "not a Python expression"),
    ],
)
def test_anything_else_is_an_error_naming_the_file_and_line(tmp_path, line, says):
    path = tmp_path / "regressions.txt"
    path.write_text(f"# a comment\n\n{STRUCTURE}\n{line}\n")
    with pytest.raises(regressions.RegressionError, match=f"regressions.txt:4: .*{re.escape(says)}"):
        regressions.read(path)


def test_a_repeated_line_is_one_case(tmp_path):
    path = tmp_path / "regressions.txt"
    path.write_text(f"{STRUCTURE}\n{STRUCTURE}\n{LOGISTIC}\n")
    assert [c.id for c in regressions.read(path)] == ["xor-d2-2x3x1-unit-regression", "nand-tiny-eta0.3-regression"]


def _ids(pytester: pytest.Pytester, *args: str) -> dict[str, set[str]]:
    """The collected cases of each test, by test function."""
    result = pytester.runpytest_subprocess("--pyargs", "gatespec.conformance", "--collect-only", "-q", *args)
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    found: dict[str, set[str]] = {}
    for line in result.outlines:
        if "::test_" in line and "-regression-" in line:
            test, _, params = line.split("::")[-1].partition("[")
            found.setdefault(test, set()).add(params.split("-regression-")[0])
    return found


def test_each_case_joins_the_checks_of_its_kind(pytester):
    path = pytester.makefile(".txt", regressions="\n".join([STRUCTURE, SATURATING, SGD_RUN, ADAM_RUN, LOGISTIC]))
    found = _ids(pytester, "--gatespec-impl", "numpy", f"--gatespec-regressions={path}")
    structure, saturating = "numpy-xor-d2-2x3x1-unit", "numpy-and-5-d2-5x6x1-saturating"
    sgd, adam = "numpy-majority-3-3x3x1-tiny-sgd-0.3", "numpy-parity-3-3x3x1-unit-adam-lr0.05-b0.5-0.99-e1e-06"
    logistic = "numpy-nand-tiny-eta0.3"
    assert found["test_mlp_forward_matches_reference"] == {structure, saturating}
    assert found["test_mlp_loss_and_gradients_survive_saturation"] == {saturating}
    assert found["test_mlp_autodiff_matches_finite_differences_of_its_own_loss"] == {structure}
    assert found["test_hidden_units_permuted"] == {structure}  # learnable, depth ≥ 2: not the saturating net
    assert found["test_mlp_sgd_trajectory"] == {sgd}
    assert found["test_mlp_adam_trajectory"] == {adam}
    assert found["test_logistic_gradient_descent_trajectory"] == {logistic}
    assert found["test_rows_permuted_or_duplicated"] == {structure, logistic}


def test_a_compiled_style_runs_every_regression_case(pytester):
    pytester.makepyfile(compiled_numpy=COMPILED)
    path = pytester.makefile(".txt", regressions=STRUCTURE)
    report = pytester.path / "report"
    result = pytester.runpytest_subprocess(
        "--pyargs",
        "gatespec.conformance.suite.test_conformance",
        "--gatespec-impl",
        "compiled_numpy:CompiledNumpy",
        f"--gatespec-regressions={path}",
        f"--gatespec-report={report}",
        "-k",
        "test_mlp_forward_matches_reference",
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == 0, result.stdout.str()
    outcomes = {r["case"]: r["outcome"] for r in json.loads((report / "conformance.json").read_text())["results"]}
    assert outcomes["xor-d2-2x3x1-unit-regression"] == "pass"
    assert "skip" in outcomes.values()  # the design's cases outside generated.CORE, as for any compiled style
