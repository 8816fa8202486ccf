"""gatespec as another project's test dependency: its wheel in a fresh virtualenv, run outside this repository.

The virtualenv holds the wheel with its test extra and nothing else (numpy, pytest and pytest's
plugins: no framework), built from this checkout as a user's CI would get it from the registry.
Each test runs pytest there, in a directory of its own with no pytest configuration:

- an unrelated project pays nothing: no framework (numpy included) imported, no process started;
- a third-party implementation (``module:attr``) of a framework the suite does not know, with its own regressions
  file, its own global state and a named deviation set, passes its matrix; a leak of that state fails; its
  benchmarks time in fresh processes;
- the numpy built-in's matrix has, cell for cell, the outcomes it has from this repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gatespec.conformance.benchmarks import tasks as K

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="the virtualenv's layout (bin/python) is POSIX's"),
]

# What an unrelated session must not load: every framework the built-ins use, and gatespec's run machinery.
HEAVY = (
    "numpy",
    "torch",
    "tensorflow",
    "jax",
    "keras",
    "autograd",
    "flax",
    "equinox",
    "gatespec.conformance.plugin.session",
    "gatespec.conformance.plugin.registry",
)

UNRELATED_CONFTEST = """
import subprocess

# Every process started from here on (the plugins' configure and collection included), by its command.
STARTED = []
_init = subprocess.Popen.__init__


def _recorded(self, args, *rest, **kwargs):
    STARTED.append(args)
    _init(self, args, *rest, **kwargs)


subprocess.Popen.__init__ = _recorded
"""

UNRELATED_TEST = """
import json
import sys

import conftest


def test_record_what_the_session_loaded(pytestconfig):
    seen = {"modules": sorted(sys.modules), "started": [list(map(str, args)) for args in conftest.STARTED]}
    (pytestconfig.rootpath / "seen.json").write_text(json.dumps(seen))
"""

# A made-up framework the suite does not know, with global state of its own and optax's float32 Adam (the
# named deviation set adam-float32-beta-powers), and a variant that leaks that state: tests/tiny_fw.py.
THIRD_PARTY = (Path(__file__).parent / "tiny_fw.py").read_text()

# One case of each kind a regressions file can hold, as exploration prints them.
REGRESSIONS = "\n".join(
    [
        "# kept by the project that tests tiny-fw",
        'generated.mlp_case("xor", depth=3, scale="unit", seed=5)',
        'generated.mlp_case("majority-3", depth=2, scale="tiny", seed=2, optimizer=generated.SGD(lr=0.3), steps=40)',
        'generated.mlp_case("parity-3", depth=2, scale="unit", seed=8, '
        "optimizer=generated.Adam(lr=0.05, beta1=0.5, beta2=0.99, eps=1e-06), steps=25)",
        'generated.logistic_case("nand", scale="tiny", eta=0.3, seed=11)',
    ]
)


@pytest.fixture(scope="module")
def python(tmp_path_factory) -> Path:
    """The virtualenv's interpreter, with the wheel built from this checkout and its test extra installed."""
    where = tmp_path_factory.mktemp("installed")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(where / "dist"), str(ROOT)])
    (wheel,) = (where / "dist").glob("gatespec-*.whl")
    _run([sys.executable, "-m", "venv", str(where / "venv")])
    python = where / "venv" / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", f"{wheel}[test]"])
    return python


def _run(
    command: list[str], cwd: Path | None = None, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    # Not this process's PYTHONPATH (it may name this checkout), its pytest options, nor the variables of an
    # xdist worker, which would make the inner session one (pytest-benchmark then disables its timing).
    drop = ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST_XDIST")} | (env or {})
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )
    return done


def _outcomes(report: Path) -> dict[tuple, str]:
    """The matrix's cells (implementation, check, case, dtype) and each one's outcome, from conformance.json."""
    results = json.loads((report / "conformance.json").read_text())["results"]
    return {(r["impl"], r["check"], r["case"], r["dtype"]): r["outcome"] for r in results}


def test_an_unrelated_project_imports_no_framework_and_starts_no_process(python, tmp_path):
    """The same project with and without the plugin (``-p no:gatespec``): what gatespec adds is its few light modules
    (pytest-benchmark, say, starts `file` for its machine id either way)."""
    (tmp_path / "conftest.py").write_text(UNRELATED_CONFTEST)
    (tmp_path / "test_unrelated.py").write_text(UNRELATED_TEST)
    seen = {}
    for plugin in ("gatespec", "no:gatespec"):
        pytest_args = ["-q", "-p", "no:cacheprovider"] + (["-p", plugin] if plugin.startswith("no:") else [])
        _run([str(python), "-m", "pytest", *pytest_args], cwd=tmp_path)
        seen[plugin] = json.loads((tmp_path / "seen.json").read_text())
    added = set(seen["gatespec"]["modules"]) - set(seen["no:gatespec"]["modules"])
    assert "gatespec.conformance.plugin" in added, (
        "the plugin must be installed and loaded for this test to mean anything"
    )
    assert not added & set(HEAVY), sorted(added & set(HEAVY))
    assert all(m.startswith("gatespec") for m in added), sorted(added)
    assert seen["gatespec"]["started"] == seen["no:gatespec"]["started"]


def test_a_third_party_implementation_passes_its_matrix_with_its_own_regressions(python, tmp_path):
    (tmp_path / "tiny_fw.py").write_text(THIRD_PARTY)
    (tmp_path / "regressions.txt").write_text(REGRESSIONS)
    args = ["--pyargs", "gatespec.conformance", "--gatespec-impl", "tiny_fw:TinyFw", "--gatespec-require", "tiny-fw"]
    args += ["--gatespec-regressions=regressions.txt", "--gatespec-report=report", "-m", "not bench", "-n", "2"]
    done = _run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    outcomes = _outcomes(tmp_path / "report")
    ran = {case for (_, _, case, _), outcome in outcomes.items() if case and case.endswith("-regression")}
    # Each of the four cases joined the checks of its kind, and passed there.
    assert len(ran) == 4, sorted(ran)
    # A skip only where the check skips every case in that dtype (the finite differences' float32, say); an xfail
    # only under a deviation declared for the whole check (the named set's float32 Adam cases may fail).
    passing = {(check, dtype) for (_, check, _, dtype), o in outcomes.items() if o == "pass"}
    adam32 = {("mlp_one_adam_step", "float32"), ("mlp_adam_trajectory", "float32")}

    def allowed(check: str, dtype: str, outcome: str) -> bool:
        if outcome == "xfail":
            return (check, dtype) in adam32
        return outcome == "pass" or (outcome == "skip" and (check, dtype) not in passing)

    wrong = {c: o for c, o in outcomes.items() if c[2] in ran and not allowed(c[1], c[3], o)}
    assert not wrong, wrong
    # The built-in's deviation came with the class it inherits from, not from a file; the named set's are expected.
    assert outcomes[("tiny-fw", "single_example_loss_matches_reference", "saturating-wrong", "float64")] == "xfail"
    assert outcomes[("tiny-fw", "mlp_one_adam_step", "xor-2-2-1", "float32")] == "xfail"
    assert not (tmp_path / ".benchmarks").exists(), "a run without benchmarks wrote pytest-benchmark's folder"


def test_the_numpy_matrix_has_the_same_outcomes_installed_as_in_this_repository(python, tmp_path):
    args = ["--pyargs", "gatespec.conformance", "--gatespec-impl", "numpy", "-m", "not bench", "-n", "2"]
    args += ["-p", "no:cacheprovider", "-q"]
    installed = tmp_path / "outside"
    installed.mkdir()
    _run(
        [str(python), "-m", "pytest", *args, f"--gatespec-report={tmp_path / 'installed'}"], cwd=installed, check=False
    )
    # From this repository's root: its pytest configuration, the interpreter running these tests.
    _run([sys.executable, "-m", "pytest", *args, f"--gatespec-report={tmp_path / 'here'}"], cwd=ROOT, check=False)
    there, here = _outcomes(tmp_path / "installed"), _outcomes(tmp_path / "here")
    assert here and "xfail" in here.values()
    differ = {cell: (there.get(cell), outcome) for cell, outcome in here.items() if there.get(cell) != outcome}
    differ |= {cell: (outcome, None) for cell, outcome in there.items() if cell not in here}
    assert not differ, f"{len(differ)} cells differ (installed, repository): {sorted(differ.items())[:20]}"


def test_a_leak_of_a_third_partys_declared_state_fails_and_its_benchmarks_time_in_fresh_processes(python, tmp_path):
    (tmp_path / "tiny_fw.py").write_text(THIRD_PARTY)
    leaky = ["--pyargs", "gatespec.conformance", "--gatespec-impl", "tiny_fw:Leaky", "-k", "forward", "-q", "-rf"]
    done = _run([str(python), "-m", "pytest", "-p", "no:cacheprovider", *leaky], cwd=tmp_path, check=False)
    assert done.returncode == 1 and "global state changed: tiny-fw seed 0 → 1" in done.stdout, done.stdout[-3000:]
    # The benchmarks as `tox -e bench` runs them (one thread each), shortened, with one fresh process more.
    bench = ["--pyargs", "gatespec.conformance.benchmarks", "--gatespec-impl", "tiny_fw:TinyFw", "-q"]
    bench += ["--benchmark-json=bench.json", "--gatespec-bench-processes", "2", "--gatespec-bench-paired-time", "0.05"]
    bench += ["--benchmark-max-time", "0.05", "--benchmark-min-rounds", "1", "-k", "test_task"]
    env = {"OMP_NUM_THREADS": "1", "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
    done = _run([str(python), "-m", "pytest", "-p", "no:cacheprovider", *bench], cwd=tmp_path, check=False, env=env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    timed = json.loads((tmp_path / "bench.json").read_text())
    assert timed["gatespec"]["excluded"] == [] and timed["gatespec"]["threads"]["tiny-fw pool"] == "1"
    paired = [b["extra_info"]["paired"] for b in timed["benchmarks"] if b["name"].startswith("test_task[tiny-fw-")]
    # Each ratio stands on this process and the fresh one: the median over two processes' paired samples.
    ratios_ok = all(len(p["processes"]) == 2 and p["low"] <= p["ratio"] <= p["high"] for p in paired)
    assert len(paired) == len(K.TASKS) and ratios_ok  # tiny-fw declares SGD and Adam: every task is timed
