"""Every conformance check catches a deliberately wrong implementation (the mutants of ``tests/mutants.py``).

Each row runs ONE check of the conformance suite, in-process through pytester, against one
mutant and demands that it fails, with a message naming the mutant and the quantity the bug
spoils; the control (the numpy implementation unchanged, under another name) must pass every
check, so the failures come from the bugs.  A check added to the suite without a row here
fails :func:`test_every_check_has_a_planted_bug`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import pytest

from gatespec.conformance.adapters.numpy_impl.handwritten import NUMPY1_DEVIATIONS
from gatespec.conformance.spec.checks import CHECKS
from gatespec.reference import mlp

from . import mutants

pytest_plugins = ["pytester"]

# The suite as installed, for reading its check names; the runs below collect this module alone
# (``--pyargs gatespec.conformance`` would also collect the benchmarks beside it).
SUITE_MODULE = "gatespec.conformance.suite.test_conformance"


@dataclass(frozen=True)
class Row:
    """``mutant`` ("tests.mutants:Class") must fail ``check`` (a test function of the suite) on ``quantity``."""

    id: str
    mutant: str
    check: str
    quantity: str

    @property
    def name(self) -> str:
        return getattr(mutants, self.mutant.partition(":")[2]).name


def _adam_run(id: str, mutant: str, quantity: str = "adam-lr* over 25 steps W1") -> Row:
    """A row for test_mlp_adam_trajectory, whose failures name the run (``adam-lr0.05-b0-0.9-e1e-08 over 25 steps``)."""
    return Row(id, f"tests.mutants:{mutant}", "test_mlp_adam_trajectory", quantity)


ROWS = [
    Row("g0-is-1", "tests.mutants:HeavisideOneAtZero", "test_threshold_predictions_are_exact", "predictions g(X′w)"),
    Row(
        "eta-ignored",
        "tests.mutants:PerceptronIgnoresEta",
        "test_perceptron_batch_step_is_exact",
        "perceptron batch step",
    ),
    Row(
        "online-skips-last",
        "tests.mutants:OnlineSkipsLast",
        "test_perceptron_online_trajectory_is_exact",
        "online perceptron weights",
    ),
    Row(
        "perceptron-always-updates",
        "tests.mutants:PerceptronAlwaysUpdates",
        "test_perceptron_learns_exactly_the_separable_gates",
        "weights over * cyclic epochs",
    ),
    Row("sigmoid-tanh", "tests.mutants:SigmoidTanh", "test_mlp_forward_matches_reference", "probabilities"),
    Row("weight-transposed", "tests.mutants:WeightTransposed", "test_mlp_forward_matches_reference", "logits"),
    Row(
        "bias-grad-dropped",
        "tests.mutants:BiasGradDropped",
        "test_mlp_loss_and_gradients_match_reference",
        "gradient b1",
    ),
    Row(
        "float16-accumulation",
        "tests.mutants:Float16Accumulation",
        "test_mlp_loss_and_gradients_match_reference",
        "loss",
    ),
    Row("mean-loss", "tests.mutants:LogisticMeanLoss", "test_logistic_loss_and_gradient_match_reference", "loss"),
    Row("label-flipped", "tests.mutants:LabelFlipped", "test_logistic_loss_and_gradient_match_reference", "loss"),
    Row(
        "no-sigmoid-prime",
        "tests.mutants:MLPNoSigmoidPrime",
        "test_mlp_autodiff_matches_finite_differences_of_its_own_loss",
        "gradient vs FD W1",
    ),
    Row(
        "grad-sign",
        "tests.mutants:LogisticGradSign",
        "test_logistic_autodiff_matches_finite_differences_of_its_own_loss",
        "gradient vs FD",
    ),
    Row("gd-mean-step", "tests.mutants:GDMeanStep", "test_logistic_one_gradient_descent_step", "w₀, w₁"),
    Row("sgd-mean-step", "tests.mutants:SGDMeanStep", "test_mlp_one_sgd_step", "SGD(0.5) θ₀, θ₁ W1"),
    Row("history-initial", "tests.mutants:HistoryInitial", "test_mlp_one_sgd_step", "SGD(0.5) θ₀, θ₁ W1"),
    Row("adam-no-bias-corr", "tests.mutants:AdamNoBiasCorrection", "test_mlp_one_adam_step", "Adam θ₁ W1"),
    Row(
        "gd-hoisted-grad",
        "tests.mutants:GDHoistedGradient",
        "test_logistic_gradient_descent_trajectory",
        "weights over * steps",
    ),
    Row(
        "grad-not-zeroed",
        "tests.mutants:GradNotZeroed",
        "test_logistic_gradient_descent_trajectory",
        "weights over * steps",
    ),
    Row("sgd-momentum", "tests.mutants:SGDMomentum", "test_mlp_sgd_trajectory", "SGD(0.5) over * steps W1"),
    Row(
        "stale-activations",
        "tests.mutants:StaleActivations",
        "test_mlp_sgd_trajectory",
        "SGD(0.5) over * steps W1",
    ),
    Row(
        "gd-frozen-bias",
        "tests.mutants:GDFrozenBias",
        "test_logistic_regression_learns_separable_gates",
        "truth table after * GD steps",
    ),
    Row("frozen-hidden", "tests.mutants:MLPFrozenHidden", "test_mlp_learns_its_gate", "truth table after * SGD steps"),
    Row(
        "logistic-naive-bce",
        "tests.mutants:LogisticNaiveBCE",
        "test_logistic_loss_and_gradient_survive_saturation",
        "loss: non-finite values*",
    ),
    Row(
        "mlp-naive-bce",
        "tests.mutants:MLPNaiveBCE",
        "test_mlp_loss_and_gradients_survive_saturation",
        "loss: non-finite values*",
    ),
    Row(
        "single-example-tanh",
        "tests.mutants:SingleExampleTanh",
        "test_single_example_loss_matches_reference",
        "single-example loss",
    ),
    # The generated cases' mutants (single-net path: none declares batched training).
    # Deeper nets: right for two weight layers, wrong from three on.
    Row("hidden-loop-once", "tests.mutants:HiddenLoopOnce", "test_mlp_forward_matches_reference", "logits"),
    Row("deep-linear-hidden", "tests.mutants:LinearDeepHidden", "test_mlp_forward_matches_reference", "logits"),
    Row(
        "backprop-two-layers",
        "tests.mutants:BackpropTwoLayers",
        "test_mlp_loss_and_gradients_match_reference",
        "gradient W1",
    ),
    Row(
        "backprop-reshaped-weight",
        "tests.mutants:BackpropReshapedWeight",
        "test_hidden_units_permuted",
        "gradient W1, units of hidden layer 1 permuted",
    ),
    Row(
        "grad-weight-reshaped",
        "tests.mutants:GradWeightReshaped",
        "test_hidden_units_permuted",
        "gradient W1, units of hidden layer 1 permuted",
    ),
    # Hyperparameters ignored, rounded or taken for "not given" at 0.
    Row("sgd-lr-ignored", "tests.mutants:SGDLrIgnored", "test_mlp_one_sgd_step", "SGD(0.07) θ₀, θ₁ W1"),
    Row("sgd-lr-float32", "tests.mutants:SGDLrFloat32", "test_mlp_one_sgd_step", "SGD(0.07) θ₀, θ₁ W1"),
    Row(
        "logistic-eta-ignored",
        "tests.mutants:LogisticEtaIgnored",
        "test_logistic_one_gradient_descent_step",
        "w₀, w₁, η = 0.03",
    ),
    # The run's id names the hyperparameter a case sets apart from the default: β₁ = 0, β₂ = 0.9, ε = 1e-3.
    _adam_run("adam-beta1-default", "AdamBeta1Default", "adam-lr*-b0-* over 25 steps W1"),
    _adam_run("adam-beta2-default", "AdamBeta2Default", "adam-lr*-0.9-e* over 25 steps W1"),
    _adam_run("adam-eps-default", "AdamEpsDefault", "adam-lr*-e0.001 over 25 steps W1"),
    Row(
        "sgd-zero-lr-default",
        "tests.mutants:SGDZeroLrDefault",
        "test_zero_step_size_leaves_parameters_unchanged",
        "sgd-0: θ_t W1 for t ≤ 4",
    ),
    Row(
        "logistic-zero-eta-default",
        "tests.mutants:LogisticZeroEtaDefault",
        "test_zero_step_size_leaves_parameters_unchanged",
        "weights after η = 0 steps",
    ),
    # Optimiser state across steps and calls.
    _adam_run("adam-step-frozen", "AdamStepFrozen"),
    _adam_run("adam-recreated", "AdamRecreatedEachStep"),
    _adam_run("adam-m-not-decayed", "AdamMNotDecayed"),
    _adam_run("adam-v-not-decayed", "AdamVNotDecayed"),
    Row(
        "mlp-grad-not-zeroed",
        "tests.mutants:MLPGradNotZeroed",
        "test_steps_equal_single_steps_chained",
        "SGD(0.3) θ_t W1, 4 steps in one run vs one at a time",
    ),
    Row(
        "model-built-once",
        "tests.mutants:ModelBuiltOnce",
        "test_steps_equal_single_steps_chained",
        "SGD(0.3) θ_t W1, 4 steps in one run vs one at a time",
    ),
    # Row order and data size.
    Row(
        "mlp-mean-reduction",
        "tests.mutants:MLPMeanReduction",
        "test_rows_permuted_or_duplicated",
        "loss, data duplicated",
    ),
    Row(
        "mlp-skips-last-row",
        "tests.mutants:MLPSkipsLastRow",
        "test_rows_permuted_or_duplicated",
        "loss, rows permuted",
    ),
    # Overflow beyond |z| = 88, which the notebook's saturating case (|z| ≤ 62) never reaches.
    Row(
        "sigmoid-exp-ratio",
        "tests.mutants:SigmoidExpRatio",
        "test_mlp_loss_and_gradients_survive_saturation",
        "gradient W1: non-finite values*",
    ),
    Row(
        "softplus-log-1-plus-exp",
        "tests.mutants:SoftplusLogOnePlusExp",
        "test_mlp_loss_and_gradients_survive_saturation",
        "loss: non-finite values*",
    ),
    Row(
        "softplus-clipped-88",
        "tests.mutants:SoftplusClipped",
        "test_mlp_loss_and_gradients_survive_saturation",
        "saturated loss",
    ),
    # Global state: the plugin's state check (conformance/plugin/isolation.py) fails the first test that trains.
    Row(
        "adam-state-kept",
        "tests.mutants:AdamStateKeptWithModel",
        "test_repeated_run_repeats_the_trajectory",
        "adam-lr0.05-b0.5-0.99-e1e-06, second of two identical runs: θ_t W1",
    ),
    Row(
        "reseeds-global-rng",
        "tests.mutants:ReseedsGlobalGenerator",
        "test_mlp_one_sgd_step",
        "global state changed: numpy global generator",
    ),
    Row(
        "prepared-adam-state-carried",
        "tests.mutants:PreparedAdamStateCarried",
        "test_native_op_repeats_its_first_run",
        "native mlp_train (adam-*), run 2 against run 1, array *",
    ),
    Row(
        "float64-in-float32",
        "tests.mutants:Float64InFloat32",
        "test_float32_run_is_float32_arithmetic",
        "float32 run against the float64 run rounded",
    ),
    Row(
        "inputs-rounded-to-float32",
        "tests.mutants:InputsRoundedToFloat32",
        "test_mlp_forward_matches_reference",
        "logits",
    ),
    _adam_run("adam-beta2-clamped", "AdamBeta2Clamped"),
]

# Realistic mutants that no check catches yet: mutant class → what the checks miss.  Each must pass
# the whole suite (test_uncaught_mutants_pass_the_suite, a strict xfail): when a new check catches
# one, that test fails, and the mutant moves into ROWS with the check that caught it.
# (Empty today: AdamStateKeptWithModel passed every check until test_repeated_run_repeats_the_trajectory.)
UNCAUGHT: dict[str, str] = {}

# Checks of the reference alone (no ``impl``): their planted bug is patched into the reference.
REFERENCE_ONLY = {"test_reference_gradients_match_finite_differences"}


def _run(pytester: pytest.Pytester, mutant: str, name: str, *args: str) -> pytest.RunResult:
    # Each mutant inherits the numpy implementation's known deviations (its naive single-example loss).
    return pytester.runpytest_inprocess(
        "--pyargs",
        SUITE_MODULE,
        "--gatespec-impl",
        mutant,
        "-p",
        "no:cacheprovider",
        "-rf",
        *args,
    )


@pytest.fixture(autouse=True)
def _numpy_global_generator():
    """The suite runs in this process: numpy's global generator is put back after each test.

    Each run starts from a generator seeded apart from 0, so that a mutant's reseed to 0 is a change.
    """
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(1)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_check_catches_planted_bug(pytester, row: Row):
    result = _run(pytester, row.mutant, row.name, "-k", row.check, "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1, result.stdout.str()
    assert "error" not in outcomes and "errors" not in outcomes, result.stdout.str()
    # Every failing test is of the targeted check, and a failure names the mutant and the spoiled quantity.
    failed = [line for line in result.outlines if line.startswith("FAILED ")]
    assert failed and all(f"::{row.check}[{row.name}-" in line for line in failed), "\n".join(failed)
    result.stdout.fnmatch_lines([f"*{row.name} / * / {row.quantity}*"])


def test_control_passes_every_check(pytester):
    result = _run(pytester, "tests.mutants:Control", mutants.Control.name, "-q")
    outcomes = result.parseoutcomes()
    assert "failed" not in outcomes and "error" not in outcomes and "errors" not in outcomes, result.stdout.str()
    # The single-example deviation in 2 dtypes, and under numpy 1.x its float32 upcasts (NUMPY1_DEVIATIONS).
    upcasts = sum(key.startswith("test_single_example") for key in NUMPY1_DEVIATIONS)
    assert outcomes["passed"] > 0 and outcomes["xfailed"] == 2 + upcasts, outcomes


@pytest.mark.xfail(reason="a known gap: no check catches the mutant (UNCAUGHT)", raises=AssertionError, strict=True)
@pytest.mark.parametrize("mutant", sorted(UNCAUGHT))
def test_uncaught_mutants_pass_the_suite(pytester, mutant: str):
    name = getattr(mutants, mutant).name
    result = _run(pytester, f"tests.mutants:{mutant}", name, "-q")
    outcomes = result.parseoutcomes()
    if "error" in outcomes or "errors" in outcomes or not outcomes.get("passed"):
        pytest.fail(f"{mutant}: the suite did not run cleanly\n{result.stdout.str()}")  # a real failure, not the xfail
    assert outcomes.get("failed", 0) >= 1, f"{mutant}: {UNCAUGHT[mutant]}"


def test_reference_fd_check_catches_a_wrong_reference_backprop(pytester, monkeypatch):
    # The suite runs in this process, so patching the reference's backprop here is what it sees.
    monkeypatch.setattr(mlp, "_loss_and_grads", mutants.reference_backprop_without_sigmoid_prime)
    result = _run(pytester, "tests.mutants:Control", mutants.Control.name, "-k", *REFERENCE_ONLY, "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1 and outcomes.get("passed", 0) >= 1, outcomes  # MLP cases fail, logistic pass
    result.stdout.fnmatch_lines(["*reference / xor-2-2-1 / gradient vs FD W1: not within*"])


def _suite_checks() -> dict[str, bool]:
    """Every test of the conformance suite (the registry's checks it collects) → whether it takes an implementation."""
    return {c.test: c.takes_impl for c in CHECKS.values() if c.module == "test_conformance.py"}


def test_every_check_has_a_planted_bug():
    checks = _suite_checks()
    covered = {row.check for row in ROWS}
    assert covered <= set(checks), f"rows name checks the suite does not have: {covered - set(checks)}"
    without = {c for c, takes_impl in checks.items() if takes_impl} - covered
    assert not without, f"conformance checks with no planted bug in tests/test_planted_bugs.py: {sorted(without)}"
    assert {c for c, takes_impl in checks.items() if not takes_impl} == REFERENCE_ONLY


def test_every_mutant_is_used_once_and_named_apart():
    classes = [
        c
        for _, c in inspect.getmembers(mutants, inspect.isclass)
        if issubclass(c, mutants.Numpy) and c is not mutants.Numpy
    ]
    names = [c.name for c in classes]
    assert len(set(names)) == len(names) and "numpy" not in names
    used = {row.mutant.partition(":")[2] for row in ROWS}
    assert not used & set(UNCAUGHT), "a mutant in ROWS is caught: take it out of UNCAUGHT"
    assert used | set(UNCAUGHT) | {"Control"} == {c.__name__ for c in classes}
