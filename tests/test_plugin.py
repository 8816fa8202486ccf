"""The plugin and the registry, run through pytest's own pytester: selection, requirement, discovery."""

import sys
import textwrap
from pathlib import Path

import pytest

from gatespec.conformance.plugin import registry

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
    result = pytester.runpytest("--gatespec-impl", "tests.example_impl:TinyNumpyMLP", "-v")
    result.stdout.fnmatch_lines(["*tiny-mlp*numpy*", "*test_forward?tiny-mlp-float64? PASSED*"])
    # float32 is not among its dtypes: skipped, with the reason.
    result.assert_outcomes(passed=1, skipped=1)


def test_a_spaced_path_option_that_moves_the_rootdir_is_a_usage_error_naming_the_fix(pytester):
    # pytest settles the rootdir before gatespec's options exist, so it reads a spaced PATH as a test path.
    pytester.makepyfile(SMOKE)
    outside = pytester.path.parent / f"{pytester.path.name}-deviations" / "deviations.txt"
    outside.parent.mkdir()
    outside.write_text("")
    inside = pytester.path / "deviations.txt"
    inside.write_text("")
    impl = ("--gatespec-impl", "tests.example_impl:TinyNumpyMLP")
    moved = pytester.runpytest(*impl, "--gatespec-known-deviations", str(outside))
    assert moved.ret == pytest.ExitCode.USAGE_ERROR
    moved.stderr.fnmatch_lines([f"*chose rootdir*; write --gatespec-known-deviations={outside}"])
    pytester.runpytest(*impl, f"--gatespec-known-deviations={outside}").assert_outcomes(passed=1, skipped=1)
    # Spaced but inside the rootdir: nothing moved, nothing to refuse.
    pytester.runpytest(*impl, "--gatespec-known-deviations", str(inside)).assert_outcomes(passed=1, skipped=1)


def test_impl_takes_comma_lists_and_require_takes_implementation_names(pytester):
    pytester.makepyfile(SMOKE)
    result = pytester.runpytest(
        "--gatespec-impl", "numpy,tests.example_impl:TinyNumpyMLP", "--gatespec-require", "tiny-mlp", "-v"
    )
    result.stdout.fnmatch_lines(["*test_forward?numpy-float32? PASSED*", "*test_forward?tiny-mlp-float64? PASSED*"])
    result.assert_outcomes(passed=3, skipped=1)


def test_a_capability_declared_for_one_dtype_runs_there_and_skips_the_other(pytester):
    pytester.makepyfile(
        per_dtype=textwrap.dedent(
            """
            from gatespec.conformance.spec.interface import Capability
            from tests.example_impl import TinyNumpyMLP

            class ForwardIn64(TinyNumpyMLP):
                name = "forward-in-64"
                dtypes = ("float32", "float64")
                capabilities_by_dtype = {"float32": TinyNumpyMLP.capabilities - {Capability.MLP_FORWARD}}
            """
        ),
        test_per_dtype=SMOKE.replace(
            "    g = gates.gate",
            "    require(impl, Capability.MLP_FORWARD, target.dtype)\n    g = gates.gate",
        ).replace(
            "import numpy as np",
            "import numpy as np\nfrom gatespec.conformance.plugin.collect import require\n"
            "from gatespec.conformance.spec.interface import Capability",
        ),
    )
    pytester.syspathinsert()
    result = pytester.runpytest("--gatespec-impl", "per_dtype:ForwardIn64", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*forward-in-64 does not declare mlp-forward in float32*"])


def test_gatespec_check_runs_the_matrix_for_one_implementation_and_names_its_report(pytester, monkeypatch, tmp_path):
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[1]))  # tests.example_impl, from the checkout
    out = tmp_path / "report"
    args = ["check", "tests.example_impl:TinyNumpyMLP", "-o", str(out), "--", "-k", "test_mlp_forward", "-q"]
    result = pytester.run(sys.executable, "-m", "gatespec.conformance.tools.cli", *args)
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines([f"gatespec check: tests.example_impl:TinyNumpyMLP: report in {out}/conformance.md*"])
    assert "tiny-mlp" in (out / "conformance.md").read_text()


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


def test_selecting_a_builtin_loads_its_framework_alone(monkeypatch):
    # --gatespec-impl numpy must not import torch, TensorFlow and JAX (8 s in each xdist worker) to find numpy.
    loaded = []

    def builtin(name):
        loaded.append(name)
        return registry.Entry(name, registry.BUILTINS[name][0], "builtin")

    monkeypatch.setattr(registry, "builtin", builtin)
    monkeypatch.setattr(registry, "entry_points", lambda: [registry.Entry("tiny-mlp", "torch", "entry-point")])
    assert [e.name for e in registry.select(["numpy"])] == ["numpy"]
    assert loaded == ["numpy"]
    loaded.clear()
    # A framework: its built-ins in BUILTINS order and an entry point of that framework, each loaded once.
    torch_styles = [name for name, (fw, _) in registry.BUILTINS.items() if fw == "torch"]
    selected = [e.name for e in registry.select(["torch-nn,torch", "torch-func"])]
    assert selected == ["torch-nn", *(s for s in torch_styles if s != "torch-nn"), "tiny-mlp"]
    assert sorted(loaded) == sorted(torch_styles)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--gatespec-impl", "no-such-impl"],
            "*--gatespec-impl 'no-such-impl': no such implementation or framework*Implementations: numpy*",
        ),
        (
            ["--gatespec-impl", "tests.example_impl:Nope"],
            "*has no attribute 'Nope'; implementations in tests.example_impl: TinyNumpyMLP",
        ),
        (
            ["--gatespec-impl", "no_such_module_xyz:Impl"],
            "*cannot import*no_such_module_xyz*Registered implementations: numpy, autograd, torch-autograd*",
        ),
        (
            ["--gatespec-impl", "gatespec.conformance.adapters.example:np"],
            "*expected a gatespec.conformance.spec.interface.Implementation*got module; "
            "implementations in gatespec.conformance.adapters.example: TinyNumpyMLP",
        ),
        (
            ["--gatespec-require", "caffe"],
            "*--gatespec-require caffe: unknown framework or implementation; frameworks: numpy, autograd, torch, *",
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
    result = pytester.runpytest("--gatespec-require", "autograd")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--gatespec-require autograd: required but not available (autograd: ModuleNotFoundError*"]
    )
    # Not required: the same absence is a skip with the import error as the reason.
    result = pytester.runpytest("--gatespec-impl", "autograd", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*autograd unavailable: ModuleNotFoundError*"])


def test_a_deviation_pattern_matches_what_it_names_and_nothing_more():
    from gatespec.conformance.plugin.deviations import Deviation

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


def test_the_matcher_finds_the_first_matching_entry_in_file_order():
    """The index by test function must give what trying every entry in order gives: an entry naming another
    function never matches, and one that may match any function (a ``*`` before ``[``, or no ``[``) keeps its
    place in the order."""
    from gatespec.conformance.plugin.deviations import Deviation, Matcher

    entries = [
        Deviation("test_x[numpy-xor", "x-numpy-xor", "f:1"),
        Deviation("test_*[numpy-and", "any-numpy-and", "f:2"),
        Deviation("test_x[numpy", "x-numpy", "f:3"),
        Deviation("test_x", "x-anything", "f:4"),  # no bracket: also test_xy
        Deviation("test_y[numpy", "y-numpy", "f:5"),
    ]
    ids = [
        "test_x[numpy-xor-2-2-1-float64]",
        "test_x[numpy-and-2-2-1-float64]",
        "test_y[numpy-and-2-2-1-float64]",
        "test_x[numpy-or-2-2-1-float64]",
        "test_xy[torch-or-2-2-1-float64]",
        "test_y[numpy-or-2-2-1-float64]",
        "test_y[torch-or-2-2-1-float64]",
        "test_z[numpy-and-2-2-1-float64]",
    ]
    matcher = Matcher(entries)
    found = [getattr(matcher.first(f"suite/test_conformance.py::{test_id}"), "reason", None) for test_id in ids]
    in_order = [next((d.reason for d in entries if d.matches(test_id)), None) for test_id in ids]
    assert found == in_order
    assert found == ["x-numpy-xor", "any-numpy-and", "any-numpy-and", "x-numpy", "x-anything", "y-numpy", None,
                     "any-numpy-and"]  # fmt: skip


def test_an_unmatched_deviation_is_reported_unless_its_check_was_not_collected():
    from gatespec.conformance.plugin.deviations import Deviation, unmatched, unmatched_line

    real = Deviation("test_mlp_one_adam_step[tiny-xor", "r", "f:1")
    typo = Deviation("test_mlp_one_adam_stpe[tiny-xor", "r", "f:2")
    other = Deviation("test_mlp_one_adam_step[another-xor", "r", "f:3")
    # A -k subset, a run of tests/ or of the benchmarks: a check of the suite not collected is no news,
    # a name the suite lacks is.
    assert unmatched([real, typo, other], set(), ["tiny"], {"test_mlp_forward_matches_reference"}) == [typo]
    # The check collected and the entry matching none of its tests: reported.
    assert unmatched([real, typo, other], set(), ["tiny"], {"test_mlp_one_adam_step"}) == [real, typo]
    assert (
        unmatched_line(typo)
        == "gatespec: known deviation f:2 matches no collected test: test_mlp_one_adam_stpe[tiny-xor"
    )


OWN_IMPL = """
import pytest


@pytest.fixture
def impl():
    return "the project's own"


def test_uses_its_own_impl(impl):
    assert impl == "the project's own"
"""


def test_another_projects_impl_fixture_starts_nothing(pytester):
    """A run that asks nothing of gatespec: no session, no header lines, the project's own ``impl`` untouched."""
    pytester.makepyfile(OWN_IMPL)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "gatespec:" not in result.stdout.str()
