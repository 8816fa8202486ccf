"""Exploration: hypothesis searches generated cases beyond the fixed ones, one test per explored check.

``pytest --pyargs gatespec.conformance --gatespec-explore N`` runs each check of
``spec.checks.CHECKS`` named below on N cases drawn by ``explore.py`` (depth, gate, scale,
seed, step sizes, Adam's hyperparameters, steps), per implementation and dtype:
``test_explore_mlp_forward[numpy-float32]``.  A failure is shrunk to a minimal case, and the
report says what to keep::

    add to regressions.txt (--gatespec-regressions): generated.mlp_case("xor", depth=3, scale="unit", seed=0)

so that, with ``--gatespec-regressions=regressions.txt`` (the run's own file where it gave one), the
case joins the fixed matrix (:mod:`gatespec.conformance.plugin.regressions`).  Derandomised when the CI
variable is set (the same cases on every run, and for every implementation and dtype); otherwise each
run draws afresh.
With N = 0 (the default) every test here is skipped at once and none is a row of the report.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gatespec.conformance.plugin import options
from gatespec.conformance.plugin.collect import require, skipping
from gatespec.conformance.spec.checks import CHECKS
from gatespec.conformance.spec.interface import Capability as Cap

pytest.importorskip("hypothesis", reason="exploration needs hypothesis (the test extra)")
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from gatespec.conformance.spec import generated as G
from gatespec.conformance.tools import explore as E

pytestmark = pytest.mark.explore

OFF = "exploration is off: --gatespec-explore N searches N generated cases per check"
# Where a case found is kept: the run's --gatespec-regressions file, or a file of that name to start one.
DEFAULT_FILE = "regressions.txt"
# Drawing a case builds its parameters (saturating draws are rejected until one fits), and a
# check may run a 40-step trajectory: slow data and slow examples are what this search is.
SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
# No database (a case found is kept in a regressions file instead) and no explain phase (its list of
# lines run only by failing examples names numpy's array printing, not the case).
PHASES = (Phase.explicit, Phase.generate, Phase.target, Phase.shrink)

# Cases a run learns from, of depth ≥ 2 (a hidden layer to permute): the metamorphic checks' nets.
LEARNABLE = E.mlp_cases(depths=(2, 3, 4), scales=E.LEARNING_SCALES)


@pytest.fixture
def explore(request) -> Callable:
    """``explore(strategy, check)``: ``check(case)`` on N cases drawn from ``strategy``; skipped when N = 0."""
    n = request.config.getoption("--gatespec-explore")
    if not n:
        pytest.skip(OFF)
    files = request.config.getoption("--gatespec-regressions")
    hint = f"add to {files[0] if files else DEFAULT_FILE} (--gatespec-regressions): "

    def run(strategy, check: Callable) -> None:
        @settings(
            max_examples=n,
            deadline=None,
            derandomize=options.explore_derandomized(),
            database=None,
            phases=PHASES,
            suppress_health_check=SLOW,
        )
        @given(case=strategy)
        def explored(case):
            note(hint + E.render(case))
            check(case)

        explored()

    return run


def _check(name: str, impl, case, target) -> None:
    """The registry's check on a drawn case, on every style (no generated.CORE subset: each case is new)."""
    with skipping():
        CHECKS[name].run(impl, case, target, core=False)


def _either(impl, dtype: str, mlp_cap: Cap, logistic_cap: Cap, mlp_cases, logistic_cases):
    """The MLP cases, the logistic ones or both, as the implementation declares them in ``dtype`` (else skipped)."""
    kinds = [s for cap, s in ((mlp_cap, mlp_cases), (logistic_cap, logistic_cases)) if impl.supports(cap, dtype)]
    if not kinds:
        require(impl, mlp_cap, dtype)
    return st.one_of(*kinds)


# ----------------------------------------------------------------------------- values and gradients


def test_explore_mlp_forward(impl, target, explore):
    require(impl, Cap.MLP_FORWARD, target.dtype)
    explore(E.mlp_cases(), lambda case: _check("mlp_forward_matches_reference", impl, case, target))


def test_explore_mlp_loss_and_gradients(impl, target, explore):
    require(impl, Cap.MLP_LOSS_GRADS, target.dtype)
    explore(E.mlp_cases(), lambda case: _check("mlp_loss_and_gradients_match_reference", impl, case, target))


def test_explore_mlp_saturation(impl, target, explore):
    require(impl, Cap.MLP_LOSS_GRADS, target.dtype)
    cases = E.mlp_cases(scales=("saturating",))
    explore(cases, lambda case: _check("mlp_loss_and_gradients_survive_saturation", impl, case, target))


def test_explore_logistic_loss_and_gradient(impl, target, explore):
    require(impl, Cap.LOGISTIC_LOSS_GRAD, target.dtype)
    explore(E.logistic_cases(), lambda case: _check("logistic_loss_and_gradient_match_reference", impl, case, target))


# ----------------------------------------------------------------------------- training


def test_explore_mlp_one_sgd_step(impl, target, explore):
    require(impl, Cap.MLP_TRAIN_SGD, target.dtype)
    explore(E.mlp_cases(optimizers=E.sgds()), lambda case: _check("mlp_one_sgd_step", impl, case, target))


def test_explore_mlp_sgd_trajectory(impl, target, explore):
    require(impl, Cap.MLP_TRAIN_SGD, target.dtype)
    steps = st.integers(1, G.SGD_STEPS)
    cases = E.mlp_cases(scales=E.LEARNING_SCALES, optimizers=E.sgds(), steps=steps)
    explore(cases, lambda case: _check("mlp_sgd_trajectory", impl, case, target))


def test_explore_mlp_adam_trajectory(impl, target, explore):
    require(impl, Cap.MLP_TRAIN_ADAM, target.dtype)
    steps = st.integers(1, G.ADAM_STEPS)
    cases = E.mlp_cases(scales=E.LEARNING_SCALES, optimizers=E.adams(), steps=steps)
    explore(cases, lambda case: _check("mlp_adam_trajectory", impl, case, target))


def test_explore_logistic_gradient_descent_trajectory(impl, target, explore):
    require(impl, Cap.LOGISTIC_TRAIN, target.dtype)
    cases = E.logistic_cases(steps=st.integers(1, G.LOGISTIC_STEPS))
    explore(cases, lambda case: _check("logistic_gradient_descent_trajectory", impl, case, target))


# ----------------------------------------------------------------------------- metamorphic


def test_explore_rows_permuted_or_duplicated(impl, target, explore):
    cases = _either(impl, target.dtype, Cap.MLP_LOSS_GRADS, Cap.LOGISTIC_LOSS_GRAD, LEARNABLE, E.logistic_cases())
    explore(cases, lambda case: _check("rows_permuted_or_duplicated", impl, case, target))


def test_explore_hidden_units_permuted(impl, target, explore):
    require(impl, Cap.MLP_LOSS_GRADS, target.dtype)
    explore(LEARNABLE, lambda case: _check("hidden_units_permuted", impl, case, target))


def test_explore_steps_equal_single_steps_chained(impl, target, explore):
    cases = _either(impl, target.dtype, Cap.MLP_TRAIN_SGD, Cap.LOGISTIC_TRAIN, LEARNABLE, E.logistic_cases())
    explore(cases, lambda case: _check("steps_equal_single_steps_chained", impl, case, target))
