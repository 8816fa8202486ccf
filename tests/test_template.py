"""`gatespec new`: the package it writes names its implementation, registers the entry point and passes the matrix.

(CI also installs one and runs the matrix through the entry point: tox env `template`.)
"""

import pytest

from gatespec.conformance.plugin.registry import ENTRY_POINT_GROUP
from gatespec.conformance.tools import cli, template

pytest_plugins = ["pytester"]


def test_the_new_package_declares_its_entry_point_and_implementation(tmp_path):
    root = template.new("demo-mlp", tmp_path)
    pyproject = (root / "pyproject.toml").read_text()
    entry_points = f'[project.entry-points."{ENTRY_POINT_GROUP}"]\ndemo-mlp = "demo_mlp.implementation:DemoMlp"\n'
    assert entry_points in pyproject and 'packages = ["demo_mlp"]' in pyproject
    assert 'name = "demo-mlp"' in (root / "demo_mlp" / "implementation.py").read_text()


def test_the_new_implementation_passes_the_matrix_it_declares(pytester, tmp_path, monkeypatch):
    # The inner session is a session of its own, not a worker of this one's xdist: run as a worker
    # (the variables it inherits), pytest-benchmark warns that xdist disabled its benchmarks.
    for variable in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(variable, raising=False)
    template.new("demo-mlp", tmp_path)
    pytester.syspathinsert(tmp_path / "demo-mlp")
    spec = "demo_mlp.implementation:DemoMlp"
    result = pytester.runpytest_inprocess(
        "--pyargs",
        "gatespec.conformance",
        "--gatespec-impl",
        spec,
        "-m",
        "not bench and not convergence",
        "-p",
        "no:cacheprovider",
    )
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and outcomes.get("passed", 0) > 0 and "failed" not in outcomes, result.stdout.str()


@pytest.mark.parametrize("name", ["My-MLP", "demo_mlp", "-demo", "demo--mlp", ""])
def test_a_name_that_cannot_be_a_distribution_and_package_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match="name: expected lower-case letters"):
        template.new(name, tmp_path)


def test_an_existing_folder_is_never_overwritten(tmp_path):
    template.new("demo-mlp", tmp_path)
    with pytest.raises(ValueError, match="already exists"):
        template.new("demo-mlp", tmp_path)


def test_the_command_prints_a_path_for_pip_never_a_registry_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["new", "demo-mlp"]) == 0
    assert "pip install ./demo-mlp (beside gatespec)" in capsys.readouterr().out
    assert "TinyNumpyMLP" not in (tmp_path / "demo-mlp" / "demo_mlp" / "implementation.py").read_text()
