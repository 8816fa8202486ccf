"""Two runs with the same options give the same numbers: cases, reference values and the conformance report.

The cases draw from seeded generators only, so two processes with different hash seeds and a
different legacy global numpy state build the same cases and the same float64 reference values,
bit for bit.  The conformance report of two separate runs with the same options is identical:
it holds outcomes and error-to-tolerance ratios, no durations or timestamps, so there is nothing
run-dependent to leave out.  Hypothesis runs derandomised wherever CI runs.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from gatespec.conformance.plugin import registry
from tests.digests import reference_digest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
SUITE = "gatespec.conformance.suite.test_conformance"
# One check of each kind: forward values, gradients, one SGD and one Adam step, whole trajectories.
CHECKS = (
    "threshold_predictions or mlp_forward_matches or mlp_loss_and_gradients_match or mlp_one_sgd_step "
    "or mlp_one_adam_step or mlp_sgd_trajectory or logistic_gradient_descent_trajectory"
)
# numpy always, and torch.optim's SGD and Adam where torch is installed (a third framework would
# double the time: jitting each Adam step costs JAX ~2 s; tests/test_isolation.py runs them all).
IMPLS = ["numpy", *(["torch-optim"] if find_spec("torch") else [])]


def _digest_in_a_new_process(hash_seed: str, numpy_seed: int) -> str:
    # A different legacy global numpy state before the cases are built: a case that drew from
    # np.random's global generator instead of a seeded one would come out different.
    code = f"import numpy as np; np.random.seed({numpy_seed}); from tests.digests import reference_digest; "
    code += "print(reference_digest())"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_cases_and_reference_values_are_the_same_bit_for_bit_in_every_process():
    digests = {_digest_in_a_new_process("0", 1), _digest_in_a_new_process("1", 2), reference_digest()}
    assert len(digests) == 1, digests


def _report(pytester: pytest.Pytester, monkeypatch, hash_seed: str) -> tuple[dict, str]:
    monkeypatch.setenv("PYTHONHASHSEED", hash_seed)
    out = pytester.path / f"report-{hash_seed}"
    # By module:attr: a registered name would have each run import every framework to find it.
    impls = [arg for name in IMPLS for arg in ("--gatespec-impl", registry.BUILTINS[name][1])]
    # Each run in a process of its own, so that nothing cached by the first reaches the second.
    result = pytester.runpytest_subprocess(
        "--pyargs", SUITE, *impls, "-k", CHECKS, "--gatespec-report", str(out), "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    return json.loads((out / "conformance.json").read_text()), (out / "conformance.md").read_text()


@pytest.mark.slow  # two processes that import torch and run 1000-step trajectories: ~30 s
def test_two_runs_write_the_same_report(pytester, monkeypatch):
    first, first_md = _report(pytester, monkeypatch, "0")
    second, second_md = _report(pytester, monkeypatch, "1")
    assert sorted(first["implementations"]) == sorted(IMPLS)
    # Measured ratios, not only outcomes: a comparison's error over its tolerance, bit for bit.
    assert sum(r["worst_ratio"] is not None for r in first["results"]) > 0
    assert first == second
    assert first_md == second_md


# The variables by which hypothesis itself detects CI (hypothesis._settings._CI_VARS, 6.170), and
# the one tox sets when it passes CI on; the local half of the test needs all of them unset.
CI_VARIABLES = (
    "CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", "TF_BUILD", "bamboo.buildKey", "BUILDKITE", "CIRCLECI",
    "CIRRUS_CI", "CODEBUILD_BUILD_ID", "GITHUB_ACTIONS", "GITLAB_CI", "HEROKU_TEST_RUN_ID", "TEAMCITY_VERSION",
)  # fmt: skip


def test_hypothesis_is_derandomised_in_ci():
    code = "import tests.conftest; from hypothesis import settings; print(settings.default.derandomize)"
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES} | {"PYTHONPATH": str(ROOT)}
    run = lambda env: subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)  # noqa: E731
    assert run(env | {"CI": "true"}).stdout.strip() == "True"
    assert run(env).stdout.strip() == "False"  # locally hypothesis explores new examples


def test_ci_selects_the_derandomised_profile():
    # .ci/run exports CI for tox, and every tox env passes it on to pytest.
    assert "\nexport CI=true\n" in (ROOT / ".ci" / "run").read_text()
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    base = tox["testenv"]["pass_env"]
    named = [s for s in tox.sections() if s.startswith("testenv:")]
    assert named, "tox.ini: no [testenv:…] sections, so nothing below checks the framework envs"
    # Every env runs with [testenv]'s pass_env unless its section sets its own (which may name [testenv]'s), so
    # each env's effective list is checked, [testenv]'s included: the check never runs over nothing.
    effective = {s: tox[s].get("pass_env", base).replace("{[testenv]pass_env}", base) for s in ["testenv", *named]}
    assert [s for s, names in effective.items() if "CI" not in names.split()] == []
