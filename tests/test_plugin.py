"""The plugin and the registry, run through pytest's own pytester: selection, requirement, discovery."""

import sys
import textwrap

import pytest

from gatespec.conformance import registry

pytest_plugins = ["pytester"]

SMOKE = textwrap.dedent(
    """
    import numpy as np
    from gatespec.reference import gates, init

    def test_forward(impl, target):
        g = gates.gate("xor")
        z, p = impl.mlp_forward(init.standard_normal((2, 2, 1), np.random.default_rng(0)), g.X, target)
        assert p.shape == (4,)
    """
)


def test_impl_module_attr_selects_a_third_party_implementation(pytester):
    pytester.makepyfile(SMOKE)
    result = pytester.runpytest("--impl", "tests.example_impl:TinyNumpyMLP", "-v")
    result.stdout.fnmatch_lines(["*tiny-mlp*numpy*", "*test_forward?tiny-mlp-float64? PASSED*"])
    # float32 is not among its dtypes: skipped, with the reason.
    result.assert_outcomes(passed=1, skipped=1)


def test_entry_point_group_discovers_an_installed_implementation(tmp_path, monkeypatch):
    # What `pip install` of a distribution declaring [project.entry-points."gatespec.implementations"]
    # leaves on sys.path: a dist-info with entry_points.txt.
    dist = tmp_path / "tiny_mlp-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-mlp\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[gatespec.implementations]\ntiny-mlp = tests.example_impl:TinyNumpyMLP\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = {e.name: e for e in registry.discover()}
    assert found["tiny-mlp"].available and found["tiny-mlp"].source == "entry-point"
    assert [e.name for e in registry.select(["tiny-mlp"])] == ["tiny-mlp"]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--impl", "no-such-impl"],
            "*--impl 'no-such-impl': no such implementation or framework*Implementations: numpy*",
        ),
        (
            ["--impl", "tests.example_impl:Nope"],
            "*has no attribute 'Nope'; implementations in tests.example_impl: TinyNumpyMLP",
        ),
        (
            ["--impl", "no_such_module_xyz:Impl"],
            "*cannot import*no_such_module_xyz*Registered implementations: numpy, autograd, torch-autograd*",
        ),
        (
            ["--impl", "tests.example_impl:np"],
            "*expected a gatespec.conformance.interface.Implementation*got module; "
            "implementations in tests.example_impl: TinyNumpyMLP",
        ),
        (
            ["--require", "caffe"],
            "*--require caffe: unknown framework; known: numpy, autograd, torch, tensorflow, jax*",
        ),
    ],
    ids=["unknown-name", "missing-attr", "unimportable", "not-an-implementation", "unknown-framework"],
)
def test_bad_selection_is_a_usage_error_that_lists_what_exists(pytester, args, message):
    pytester.makepyfile(SMOKE)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_required_framework_that_is_missing_fails_the_run(pytester, monkeypatch):
    # Simulate a machine without autograd: its import fails exactly as a missing package's does.
    monkeypatch.setitem(sys.modules, "autograd", None)
    # The adapter and any module of it (a package's styles), so that importing it imports autograd again.
    for name in [m for m in sys.modules if m.startswith("gatespec.conformance.adapters.autograd_impl")]:
        monkeypatch.delitem(sys.modules, name)
    pytester.makepyfile(SMOKE)
    result = pytester.runpytest("--require", "autograd")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--require autograd: framework 'autograd' is required but not available*"])
    # Not required: the same absence is a skip with the import error as the reason.
    result = pytester.runpytest("--impl", "autograd", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*autograd unavailable: ModuleNotFoundError*"])


def test_a_deviation_pattern_matches_what_it_names_and_nothing_more():
    from gatespec.conformance.deviations import Deviation

    plain = Deviation("test_x[tf-keras-xor", "r", "f:1")
    assert plain.matches("test_x[tf-keras-xor-2-2-1-float64]")
    assert not plain.matches("test_y[tf-keras-xor-2-2-1-float64]")
    star = Deviation("test_x[tf-keras-*-d*-float64]", "r", "f:2")
    assert star.matches("test_x[tf-keras-parity-3-d2-3x6x1-large-float64]")
    assert not star.matches("test_x[tf-keras-parity-3-d2-3x6x1-large-float32]")  # another dtype
    assert not star.matches("test_x[tf-keras-xor-2-2-1-float64]")  # a notebook case, no "-d"
    assert not star.matches("test_x[tf-xla-parity-3-d2-3x6x1-large-float64]")  # another style
    # Only * is special: brackets and dots are literal.
    assert not Deviation("test_x[a.c", "r", "f:3").matches("test_x[abc")
