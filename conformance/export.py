"""``gatespec export DIR``: every conformance case as versioned JSON test vectors, for runners in any language.

A vector is one parametrization of a conformance test with the implementation left out: the
operation (an :class:`~gatespec.conformance.interface.Implementation` method, named and laid out
as in the exec protocol, ``adapters/exec_impl/protocol.py``), its arguments, and what the test
compares the result with — the reference's float64 values, each with the rtol and atol the suite
applies to that quantity in that dtype and the tolerance's derivation.  Its id is the pytest node
id with the implementation's name replaced by ``*``: ``test_mlp_forward_matches_reference[*-xor-2-2-1-float32]``.

Layout (``conformance/export_schema.json`` describes every file; README's "Test vectors" section
says how to run them)::

    DIR/index.json          format, version, the files, the operations, the comparison rules, what is not exported
    DIR/cases/TEST.json     one file per exported test function, its vectors in pytest's order
    DIR/golden.json         every number the notebook printed, with its cell (reference/golden.py)
    DIR/schema.json         a copy of conformance/export_schema.json

The numbers are the suite's: each expected value comes from the reference call its test makes and
each tolerance from the test's own helper (``test_conformance._bounds``, ``_budget``, …).  What a
test compares, and with which budget, is written once more here, one small builder per test; so
tests/test_export.py runs every exported test on an implementation answering with the exported
values, which must pass within 0.8 of each exported tolerance and fail beyond 1.25 of it.  The
output is deterministic (fixed order, sorted keys, no timestamps): two exports are byte-identical.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

from gatespec.reference import golden, logistic, mlp, perceptron
from gatespec.reference.mlp import SGD, Adam

from . import cases as C
from . import generated as G
from . import parametrize, registry
from . import test_conformance as S
from . import test_convergence as V
from . import tolerances as T
from .adapters.exec_impl.protocol import encode  # numbers as the exec protocol writes them: shortest repr, "NaN"…
from .checks import param_name
from .interface import DTYPES, Capability, Target

FORMAT = "gatespec-vectors"
FORMAT_VERSION = 1
SCHEMA = Path(__file__).with_name("export_schema.json")
HERE = Path(__file__).parent

# Tolerances are looked up for an implementation named "*": one without an entry in
# tolerances.OVERRIDES, i.e. the suite's own budget (the index lists any overrides).
ANY = SimpleNamespace(name="*")


# ----------------------------------------------------------------------------- what a vector holds


@dataclass(frozen=True, eq=False)
class Check:
    """One comparison of the test: the result at ``path`` against ``expected`` (``compare``: see the three below)."""

    path: tuple[str | int, ...]
    quantity: str
    expected: Any
    tol: T.Tolerance | None
    compare: str


@dataclass(frozen=True, eq=False)
class Vector:
    """An operation's arguments and the checks of its result."""

    args: dict[str, Any]
    checks: tuple[Check, ...]


def close(path: tuple, quantity: str, expected, tol: T.Tolerance) -> Check:
    """|actual − expected| ≤ atol + rtol·|expected| elementwise (checks.assert_close)."""
    return Check(path, quantity, expected, tol, "close")


def exact(path: tuple, quantity: str, expected) -> Check:
    """actual == expected elementwise (checks.assert_equal_exact)."""
    return Check(path, quantity, expected, None, "exact")


def classes(path: tuple, quantity: str, labels) -> Check:
    """(X′w > 0) of the weights w at ``path``, in float64, == the labels: the truth table a run ends with."""
    return Check(path, quantity, labels, None, "classes")


def _paragraph(obj, k: int) -> str:
    """Paragraph k of ``obj``'s docstring, on one line."""
    return " ".join(inspect.getdoc(obj).split("\n\n")[k].split())


# Why exact comparisons are fair: the dyadic grid of cases.GateCase, in its own words.
EXACT_WHY = "exact: " + _paragraph(C.GateCase, 1)
# Why a learned truth table is: cases.LEARN_STEPS's comment, and the test's.
CLASSES_WHY = (
    "exact: from w = 0 with η = 1 the reference's final margins are ≥ 2.6 on every separable gate (cases.LEARN_STEPS), "
    "so no rounding can move a row across X′w = 0"
)


def _optimizer(opt: SGD | Adam) -> dict[str, Any]:
    """The exec protocol's optimizer object."""
    if isinstance(opt, SGD):
        return {"kind": "sgd", "lr": opt.lr}
    return {"kind": "adam", "lr": opt.lr, "beta1": opt.beta1, "beta2": opt.beta2, "eps": opt.eps}


# ----------------------------------------------------------------------------- the tests' vectors
#
# One function per exported test: the arguments the test passes its implementation and the
# comparisons it makes, in its order, each expected value from the same reference call and each
# tolerance from the same helper as the test (test_conformance's _bounds, _budget, _logistic_budget,
# _mlp_reference, _tol; test_convergence's _alone).  ``target`` is the test's (dtype, cpu).


def threshold_predictions(case, target: Target) -> Vector:
    """ŷ = g(X′w), Heaviside with g(0) = 0."""
    g = case.gate
    return Vector({"Xb": g.Xb, "w": case.w}, (exact(("y",), "predictions g(X′w)", perceptron.predict(g.Xb, case.w)),))


def perceptron_batch_step(case, target: Target) -> Vector:
    """w + η (y − g(X′w))ᵀ X′ with η = ½."""
    g, eta = case.gate, C.PERCEPTRON_ETA
    desired = perceptron.batch_step(g.Xb, g.y, case.w, eta)
    return Vector({"Xb": g.Xb, "y": g.y, "w": case.w, "eta": eta}, (exact(("w",), "perceptron batch step", desired),))


def _online(g, w0: np.ndarray, order: np.ndarray, quantity: str) -> Vector:
    eta = C.PERCEPTRON_ETA
    desired = perceptron.train_online(g.Xb, g.y, w0, eta, order).weights
    args = {"Xb": g.Xb, "y": g.y, "w0": w0, "eta": eta, "order": order}
    return Vector(args, (exact(("w",), quantity, desired),))


def perceptron_online_trajectory(case, target: Target) -> Vector:
    """Rosenblatt's updates in the case's random order from its w."""
    return _online(case.gate, case.w, case.order, "online perceptron weights")


def perceptron_learns(case, target: Target) -> Vector:
    """From w = 0 in cyclic order: the run equals the reference's, so it realises exactly the separable gates."""
    g = case.gate
    order, epochs = S._perceptron_learning_order(case)
    return _online(g, np.zeros(g.Xb.shape[1]), order, f"weights over {epochs} cyclic epochs")


def logistic_learns(case, target: Target) -> Vector:
    """From w = 0, η = 1, the notebook's 100 steps: the final weights classify every row of the separable gate."""
    g = case.gate
    args = {"Xb": g.Xb, "y": g.y, "w0": np.zeros(g.Xb.shape[1]), "eta": 1.0, "steps": C.LEARN_STEPS}
    return Vector(args, (classes(("weights", C.LEARN_STEPS), f"truth table after {C.LEARN_STEPS} GD steps", g.y),))


def mlp_forward(case, target: Target) -> Vector:
    """(z, σ(z)), each within the running error bound of the case."""
    X, dt = case.gate.X, target.dtype
    z, p = mlp.forward(case.params, X)
    E = S._bounds(case)
    return Vector(
        {"params": case.params, "X": X},
        (
            close(("z",), "logits", z, T.tolerance(ANY.name, "value", dt, bound=E.z)),
            close(("p",), "probabilities", p, T.tolerance(ANY.name, "value", dt, bound=E.p)),
        ),
    )


def _mlp_loss_and_grads(case, target: Target, loss_name: str, grad_name: str) -> Vector:
    g, dt = case.gate, target.dtype
    loss, grads = mlp.loss_and_grads(case.params, g.X, g.y)
    E = S._bounds(case)
    checks = [close(("loss",), loss_name, loss, T.tolerance(ANY.name, "value", dt, bound=E.loss))]
    for k, (d, e) in enumerate(zip(grads, E.grads)):
        tol = T.tolerance(ANY.name, "gradient", dt, bound=e)
        checks.append(close(("grads", k), f"{grad_name} {param_name(k)}", d, tol))
    return Vector({"params": case.params, "X": g.X, "y": g.y}, tuple(checks))


def mlp_loss_and_gradients(case, target: Target) -> Vector:
    """Summed BCE-with-logits and backprop, within the running error bound."""
    return _mlp_loss_and_grads(case, target, "loss", "gradient")


def mlp_saturated(case, target: Target) -> Vector:
    """The same at |z| ≥ 1000: finite, and correct (a non-finite result is never close)."""
    return _mlp_loss_and_grads(case, target, "saturated loss", "saturated grad")


def _logistic_loss_and_grad(case, target: Target, loss_name: str, grad_name: str) -> Vector:
    g, dt = case.gate, target.dtype
    loss, grad = logistic.loss_and_grad(g.Xb, g.y, case.w)
    tol_loss = T.tolerance(ANY.name, "value", dt, bound=S._bounds(case).loss)
    tol_grad = T.tolerance(ANY.name, "gradient", dt, bound=S._logistic_grad_bound(case))
    checks = (close(("loss",), loss_name, loss, tol_loss), close(("grad",), grad_name, grad, tol_grad))
    return Vector({"Xb": g.Xb, "y": g.y, "w": case.w}, checks)


def logistic_loss_and_gradient(case, target: Target) -> Vector:
    """Σ softplus(z) − yz and X′ᵀ(σ(z) − y), within the bound of the unit as a one-layer net."""
    return _logistic_loss_and_grad(case, target, "loss", "gradient")


def logistic_saturated(case, target: Target) -> Vector:
    """The same at |z| ∈ {200, 600}: finite, and correct."""
    return _logistic_loss_and_grad(case, target, "saturated loss", "saturated grad")


def single_example(case, target: Target) -> Vector:
    """The notebook's −log σ(w·x): fixed-table budgets (the naive form fails at saturation, as intended)."""
    loss, grad = logistic.single_example_loss_and_grad(case.x, case.w)
    checks = (
        close(("loss",), "single-example loss", loss, S._tol(ANY, "value", target)),
        close(("grad",), "single-ex. grad", grad, S._tol(ANY, "gradient", target)),
    )
    return Vector({"x": case.x, "w": case.w}, checks)


def _logistic_run(case, steps: int, target: Target):
    """The arguments, the reference's run and the (weights, losses) budgets of ``steps`` gradient-descent steps."""
    g = case.gate
    ref = logistic.gradient_descent(g.Xb, g.y, case.w, case.eta, steps)
    tol_w, tol_loss = S._logistic_budget(ANY, case, steps, target)
    return {"Xb": g.Xb, "y": g.y, "w0": case.w, "eta": case.eta, "steps": steps}, ref, tol_w, tol_loss


def logistic_one_step(case, target: Target) -> Vector:
    """w₀, w₁ and l(w₀) of one gradient-descent step, within the step's spread."""
    args, ref, tol_w, tol_loss = _logistic_run(case, 1, target)
    what = f"η = {case.eta:g}"
    checks = (
        close(("losses",), f"loss at w₀, {what}", ref.losses, tol_loss),
        close(("weights",), f"w₀, w₁, {what}", ref.weights, tol_w),
    )
    return Vector(args, checks)


def logistic_trajectory(case, target: Target) -> Vector:
    """Every w_t and l(w_t) of the case's run, within the run's spread."""
    args, ref, tol_w, tol_loss = _logistic_run(case, case.steps, target)
    what = f"over {case.steps} steps of η = {case.eta:g}"
    checks = (
        close(("weights",), f"weights {what}", ref.weights, tol_w),
        close(("losses",), f"losses {what}", ref.losses, tol_loss),
    )
    return Vector(args, checks)


def _mlp_args(case, optimizer: SGD | Adam, steps: int) -> dict[str, Any]:
    g = case.gate
    return {"params": case.params, "X": g.X, "y": g.y, "optimizer": _optimizer(optimizer), "steps": steps}


def mlp_one_sgd_step(case, target: Target) -> Vector:
    """θ₀, θ₁ and l(θ₀) of one SGD step with the case's η, within the step's spread."""
    g, sgd = case.gate, S._sgd(case)
    ref = mlp.train(case.params, g.X, g.y, sgd, 1)
    tols, tol_loss = S._budget(ANY, case, sgd, 1, target)
    what = f"SGD({sgd.lr:g})"
    checks = [close(("losses",), f"loss at θ₀, {what}", ref.losses, tol_loss)]
    for k, (d, tol) in enumerate(zip(ref.params, tols)):
        checks.append(close(("params", k), f"{what} θ₀, θ₁ {param_name(k)}", d, tol))
    return Vector(_mlp_args(case, sgd, 1), tuple(checks))


def mlp_one_adam_step(case, target: Target) -> Vector:
    """θ₁ of one Adam(0.1) step (row 1 of each parameter; row 0 is not compared)."""
    g = case.gate
    desired = C.reference_adam_step(case.params, g.X, g.y, C.ADAM)
    tols, _ = S._budget(ANY, case, C.ADAM, 1, target)
    checks = tuple(
        close(("params", k, 1), f"Adam θ₁ {param_name(k)}", d, tol.at(1))
        for k, (d, tol) in enumerate(zip(desired, tols))
    )
    return Vector(_mlp_args(case, C.ADAM, 1), checks)


def _mlp_trajectory(case, optimizer: SGD | Adam, name: str, target: Target) -> Vector:
    # The whole run: a style of cases.EAGER_STYLES runs a prefix of it, whose budget is this one's prefix.
    steps = case.steps
    ref = S._mlp_reference(case, optimizer, steps)
    tols, tol_loss = S._budget(ANY, case, optimizer, steps, target, steps)
    quantity = f"{name} over {steps} steps"
    checks = [
        close(("params", k), f"{quantity} {param_name(k)}", d, tol) for k, (d, tol) in enumerate(zip(ref.params, tols))
    ]
    checks.append(close(("losses",), f"losses, {quantity}", ref.losses, tol_loss))
    return Vector(_mlp_args(case, optimizer, steps), tuple(checks))


def mlp_sgd_trajectory(case, target: Target) -> Vector:
    """Every θ_t and l(θ_t) of the case's SGD run, within the run's spread."""
    sgd = S._sgd(case)
    return _mlp_trajectory(case, sgd, f"SGD({sgd.lr:g})", target)


def mlp_adam_trajectory(case, target: Target) -> Vector:
    """Every θ_t and l(θ_t) of the case's Adam run, within the run's spread."""
    return _mlp_trajectory(case, case.optimizer, G.optimizer_id(case.optimizer), target)


def mlp_batched(case, target: Target) -> Vector:
    """Each net's final parameters and losses as the reference trains it alone, within that run's spread.

    The test compares net by net; stacked on the net axis (the result's layout) the comparison is the
    same elementwise, with each net's own atol.
    """
    nets = range(case.params[0].shape[0])
    runs = [V._alone(case, b, target.dtype) for b in nets]
    budgets = [spread.budget(ANY.name) for _, spread in runs]
    what = f"{case.optimizer.id} over {case.steps} steps"
    checks = []
    for k in range(len(case.params)):
        per_net = [net_tols[k].at(-1) for net_tols, _ in budgets]  # the final step's atol
        expected = np.stack([run.final[k] for run, _ in runs])
        checks.append(
            close(("params", k), f"final {param_name(k)} of every net, {what}", expected, _stacked(per_net, 0))
        )
    losses = np.stack([run.losses for run, _ in runs], axis=1)
    checks.append(close(("losses",), f"losses of every net, {what}", losses, _stacked([t for _, t in budgets], 1)))
    return Vector(_mlp_args(case, case.optimizer, case.steps), tuple(checks))


def _stacked(tols: list[T.Tolerance], axis: int) -> T.Tolerance:
    """Per-net tolerances as one: their atols stacked on the net axis (rtol and derivation are the nets' own)."""
    if len({t.rtol for t in tols}) != 1 or len({t.why for t in tols}) != 1:
        raise ValueError("export: the nets of a batched case have different rtol or derivations")
    atol = np.stack([np.asarray(t.atol, dtype=np.float64) for t in tols], axis=axis)
    return T.Tolerance(tols[0].rtol, atol, tols[0].why)


# ----------------------------------------------------------------------------- the one table
#
# Test function → (its module, the operation, the vector builder, what it checks).  The cases come
# from the test's own @gatespec_cases marker, the dtypes from interface.DTYPES, as the plugin
# parametrizes them.  Every test function of the conformance modules is here or in NOT_EXPORTED.


@dataclass(frozen=True)
class Exported:
    module: ModuleType
    operation: str
    build: Callable[[Any, Target], Vector]

    @property
    def about(self) -> str:
        return _paragraph(self.build, 0)


EXPORTED: dict[str, Exported] = {
    "test_threshold_predictions_are_exact": Exported(S, "tlu_predict", threshold_predictions),
    "test_perceptron_batch_step_is_exact": Exported(S, "perceptron_step", perceptron_batch_step),
    "test_perceptron_online_trajectory_is_exact": Exported(S, "perceptron_online", perceptron_online_trajectory),
    "test_mlp_forward_matches_reference": Exported(S, "mlp_forward", mlp_forward),
    "test_mlp_loss_and_gradients_match_reference": Exported(S, "mlp_loss_and_grads", mlp_loss_and_gradients),
    "test_logistic_loss_and_gradient_match_reference": Exported(
        S, "logistic_loss_and_grad", logistic_loss_and_gradient
    ),
    "test_logistic_one_gradient_descent_step": Exported(S, "logistic_train", logistic_one_step),
    "test_mlp_one_sgd_step": Exported(S, "mlp_train", mlp_one_sgd_step),
    "test_mlp_one_adam_step": Exported(S, "mlp_train", mlp_one_adam_step),
    "test_logistic_gradient_descent_trajectory": Exported(S, "logistic_train", logistic_trajectory),
    "test_mlp_sgd_trajectory": Exported(S, "mlp_train", mlp_sgd_trajectory),
    "test_mlp_adam_trajectory": Exported(S, "mlp_train", mlp_adam_trajectory),
    "test_logistic_regression_learns_separable_gates": Exported(S, "logistic_train", logistic_learns),
    "test_perceptron_learns_exactly_the_separable_gates": Exported(S, "perceptron_online", perceptron_learns),
    "test_logistic_loss_and_gradient_survive_saturation": Exported(S, "logistic_loss_and_grad", logistic_saturated),
    "test_mlp_loss_and_gradients_survive_saturation": Exported(S, "mlp_loss_and_grads", mlp_saturated),
    "test_single_example_loss_matches_reference": Exported(S, "single_example_loss_and_grad", single_example),
    "test_mlp_batched_training_matches_each_net_alone": Exported(V, "mlp_train_batched", mlp_batched),
}

_ITSELF = "compares the implementation with itself ({}), so there is no reference value to export"
_OWN_FD = (
    "compares the implementation's gradient with central differences of its own loss (2 calls per parameter at "
    "perturbed θ, float64 only): no reference values; the reference's gradients are exported by {}"
)
NOT_EXPORTED: dict[str, str] = {
    "test_reference_gradients_match_finite_differences": (
        "checks the reference against central differences; it takes no implementation"
    ),
    "test_mlp_autodiff_matches_finite_differences_of_its_own_loss": _OWN_FD.format(
        "test_mlp_loss_and_gradients_match_reference"
    ),
    "test_logistic_autodiff_matches_finite_differences_of_its_own_loss": _OWN_FD.format(
        "test_logistic_loss_and_gradient_match_reference"
    ),
    "test_mlp_learns_its_gate": (
        "checks the truth table of the reference's forward pass at the implementation's final parameters (z > 0), "
        "which needs a float64 MLP forward pass beside the operations; its runs are exported whole, every step "
        "within tolerance, by test_mlp_sgd_trajectory (the same cases)"
    ),
    "test_zero_step_size_leaves_parameters_unchanged": _ITSELF.format("θ after steps of η = 0 against θ itself"),
    "test_rows_permuted_or_duplicated": _ITSELF.format("losses and gradients on permuted and duplicated rows"),
    "test_hidden_units_permuted": _ITSELF.format("gradients of a net with hidden units permuted"),
    "test_steps_equal_single_steps_chained": _ITSELF.format("k steps in one run against k one-step runs"),
    "test_repeated_run_repeats_the_trajectory": _ITSELF.format("a second identical run against the first"),
    "test_mlp_init_draws_from_its_distribution": (
        "statistical tests (moments, Kolmogorov–Smirnov) of the implementation's own random draws (mlp_init): "
        "there are no expected values, only laws"
    ),
    "test_xor_convergence_rate_matches_reference": (
        "convergence statistics: 1000 nets from the implementation's own initialisation and generator, their "
        "learned rate against the reference's by a two-proportion z-test"
    ),
}
# Whole modules, each test for the same reason.
NOT_EXPORTED_MODULES: dict[str, str] = {
    "test_explore.py": (
        "explore: hypothesis draws new cases on every run (--gatespec-explore N); what it finds is pasted into "
        "generated.REGRESSIONS, whose cases are exported with the tests they join"
    ),
    "benchmarks/test_benchmarks.py": (
        "benchmarks: timings; their result checks repeat the conformance checks on the benchmark tasks"
    ),
}
CONFORMANCE_MODULES = ("test_conformance.py", "test_convergence.py", "test_explore.py", "benchmarks/test_benchmarks.py")

# The operations, as the exec protocol names and lays them out: capability, arguments, results.
OPERATIONS: dict[str, dict[str, Any]] = {
    "tlu_predict": {
        "capability": (Capability.TLU_PREDICT,),
        "args": {"Xb": "(N, d)", "w": "(d)"},
        "results": {"y": "(N): g(Xb·w), Heaviside with g(0) = 0"},
    },
    "perceptron_step": {
        "capability": (Capability.PERCEPTRON_STEP,),
        "args": {"Xb": "(N, d)", "y": "(N)", "w": "(d)", "eta": "number"},
        "results": {"w": "(d): w + η (y − g(Xb·w))ᵀ Xb"},
    },
    "perceptron_online": {
        "capability": (Capability.PERCEPTRON_ONLINE,),
        "args": {"Xb": "(N, d)", "y": "(N)", "w0": "(d)", "eta": "number", "order": "(K) integers"},
        "results": {"w": "(K+1, d): row 0 = w0, then one per i in order"},
    },
    "logistic_loss_and_grad": {
        "capability": (Capability.LOGISTIC_LOSS_GRAD,),
        "args": {"Xb": "(N, d)", "y": "(N)", "w": "(d)"},
        "results": {"loss": "number: Σ softplus(z) − y·z at z = Xb·w", "grad": "(d): Xbᵀ(σ(z) − y)"},
    },
    "single_example_loss_and_grad": {
        "capability": (Capability.SINGLE_EXAMPLE_LOSS_GRAD,),
        "args": {"x": "(d)", "w": "(d)"},
        "results": {"loss": "number: −log σ(w·x)", "grad": "(d)"},
    },
    "logistic_train": {
        "capability": (Capability.LOGISTIC_TRAIN,),
        "args": {"Xb": "(N, d)", "y": "(N)", "w0": "(d)", "eta": "number", "steps": "integer"},
        "results": {"weights": "(steps+1, d): w_t, w ← w − η∇l(w)", "losses": "(steps): l(w_t)"},
    },
    "mlp_forward": {
        "capability": (Capability.MLP_FORWARD,),
        "args": {"params": "[W1, b1, …, WL, bL]", "X": "(N, n)"},
        "results": {"z": "(N): logits", "p": "(N): σ(z)"},
    },
    "mlp_loss_and_grads": {
        "capability": (Capability.MLP_LOSS_GRADS,),
        "args": {"params": "[W1, b1, …, WL, bL]", "X": "(N, n)", "y": "(N)"},
        "results": {"loss": "number: Σ softplus(z) − y·z", "grads": "like params"},
    },
    "mlp_train": {
        "capability": (Capability.MLP_TRAIN_SGD, Capability.MLP_TRAIN_ADAM),
        "args": {"params": "[W1, b1, …]", "X": "(N, n)", "y": "(N)", "optimizer": "sgd or adam", "steps": "integer"},
        "results": {"params": "per parameter (steps+1, *shape): θ_t", "losses": "(steps): l(θ_t)"},
    },
    "mlp_train_batched": {
        "capability": (Capability.MLP_TRAIN_BATCHED,),
        "args": {
            "params": "[W1, b1, …], net axis first",
            "X": "(N, n)",
            "y": "(N)",
            "optimizer": "sgd or adam",
            "steps": "integer",
        },
        "results": {"params": "net axis first, final only", "losses": "(steps, B)"},
    },
}


def capability(operation: str, vector: Vector) -> str:
    """The capability a vector needs: mlp_train's depends on its optimizer (SGD's first, Adam's second)."""
    caps = OPERATIONS[operation]["capability"]
    return caps[len(caps) > 1 and vector.args["optimizer"]["kind"] == "adam"].value


# ----------------------------------------------------------------------------- ids, cases and coverage


def cases_of(test: str) -> list:
    """The cases the plugin crosses the test with: its @pytest.mark.gatespec_cases marker (parametrize.generate)."""
    fn = getattr(EXPORTED[test].module, test)
    marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "gatespec_cases"]
    return list(marks[0].args[0])


# An implementation that is not there, named "*": parametrize builds its parameters' ids as for any other.
_STAND_IN = registry.Entry(name="*", framework="*", source="export", reason="the export leaves the implementation out")


def vector_id(test: str, case, dtype: str) -> str:
    """The pytest node id's name part, ``test[IMPL-case-dtype]``, with IMPL = ``*`` (CPU ids)."""
    return f"{test}[{parametrize._param(_STAND_IN, case, dtype, 'cpu').id}]"


def module_tests(module_file: str) -> list[str]:
    """The test functions a conformance module defines, in source order (read, not imported: hypothesis may lack)."""
    tree = ast.parse((HERE / module_file).read_text(encoding="utf-8"))
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def not_exported() -> list[dict[str, str]]:
    """Every conformance test the export leaves out, with the reason; an error for a test in neither list."""
    out = []
    for module_file in CONFORMANCE_MODULES:
        for test in module_tests(module_file):
            if test in EXPORTED:
                continue
            reason = NOT_EXPORTED.get(test) or NOT_EXPORTED_MODULES.get(module_file)
            if reason is None:
                raise ValueError(
                    f"export: {module_file}::{test} is neither exported (export.EXPORTED) nor listed with a reason "
                    "(export.NOT_EXPORTED)"
                )
            out.append({"test": test, "source": f"conformance/{module_file}", "reason": reason})
    return out


# ----------------------------------------------------------------------------- JSON


def dumps(doc: dict) -> bytes:
    """Sorted keys, UTF-8; the top level and its lists one entry a line (diffable), everything deeper compact."""

    def one(v: Any) -> str:
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    lines = []
    for key in sorted(doc):
        value = doc[key]
        if isinstance(value, list) and value:
            body = ",\n".join(f"  {one(v)}" for v in value)
            lines.append(f"{one(key)}: [\n{body}\n ]")
        else:
            lines.append(f"{one(key)}: {one(value)}")
    return ("{\n " + ",\n ".join(lines) + "\n}\n").encode("utf-8")


def _check_json(check: Check) -> dict[str, Any]:
    expected = np.asarray(check.expected, dtype=np.float64)
    if check.tol is None:
        rtol, atol, why = 0.0, 0.0, CLASSES_WHY if check.compare == "classes" else EXACT_WHY
    else:
        rtol, why = check.tol.rtol, check.tol.why
        atol = np.asarray(check.tol.atol, dtype=np.float64)
        if atol.ndim and atol.shape != expected.shape:
            raise ValueError(f"export: {check.quantity}: atol of shape {atol.shape} for a value of {expected.shape}")
    return {
        "path": list(check.path),
        "quantity": check.quantity,
        "compare": check.compare,
        "expected": encode(expected),
        "rtol": encode(rtol),
        "atol": encode(atol),
        "derivation": why,
    }


def _vector_json(test: str, case, dtype: str, vector: Vector) -> dict[str, Any]:
    out = {
        "id": vector_id(test, case, dtype),
        "case": case.id,
        "dtype": dtype,
        "capability": capability(EXPORTED[test].operation, vector),
        "args": encode(vector.args),
        "checks": [_check_json(c) for c in vector.checks],
    }
    if getattr(case, "note", ""):
        out["note"] = case.note
    return out


def cases_file(test: str) -> dict[str, Any]:
    """One test function's vectors, every case in both dtypes, in pytest's order."""
    entry = EXPORTED[test]
    vectors = [
        _vector_json(test, case, dtype, entry.build(case, Target(dtype))) for case in cases_of(test) for dtype in DTYPES
    ]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "cases",
        "test": test,
        "source": f"conformance/{Path(inspect.getfile(entry.module)).name}",
        "operation": entry.operation,
        "about": entry.about,
        "vectors": vectors,
    }


def golden_file() -> dict[str, Any]:
    """Every number the notebook printed (reference/golden.py), in the module's order, each with its cell."""
    entries = []
    for name, value in vars(golden).items():
        if isinstance(value, golden.Printed):
            tol = None if value.decimals is None else T.printed(value.decimals)
            entries.append(
                {
                    "name": name,
                    "kind": "printed",
                    "cell": value.cell,
                    "decimals": value.decimals,
                    "values": encode(value.values),
                    "tolerance": None if tol is None else {"rtol": tol.rtol, "atol": tol.atol, "derivation": tol.why},
                }
            )
        elif name == "TRAINED_NETS":
            for k, net in enumerate(value):
                entries.append(
                    {
                        "name": f"TRAINED_NETS[{k}]",
                        "kind": "trained-net",
                        "cell": net.cell,
                        "gate": net.gate,
                        "layout": net.layout,
                        "params": encode(net.params),
                        "outputs": encode(net.outputs),
                        "decimals": net.decimals,
                    }
                )
        elif name.isupper() and isinstance(value, (int, float, tuple)):
            # The cells' inputs (x and w of In [59], the online cell's labels and η, …): golden.py says which.
            entries.append({"name": name, "kind": "input", "value": encode(value)})
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "golden",
        "source": inspect.getdoc(golden),
        "entries": entries,
    }


def _gatespec_version() -> str:
    from importlib.metadata import version

    return version("gatespec")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def index_file(files: list[dict[str, Any]], golden_sha: str, schema_sha: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "index",
        "gatespec_version": _gatespec_version(),
        "files": files,
        "golden": {"path": "golden.json", "sha256": golden_sha},
        "schema": {"path": "schema.json", "sha256": schema_sha},
        "not_exported": not_exported(),
        "operations": {
            op: {"capability": [c.value for c in spec["capability"]], "args": spec["args"], "results": spec["results"]}
            for op, spec in OPERATIONS.items()
        },
        "rules": {
            "close": (
                "|actual − expected| ≤ atol + rtol·|expected| elementwise (numpy's assert_allclose rule), atol a "
                "number or an array of expected's shape; NaN or ±infinity where a finite value is expected is never "
                "close; the result must have expected's shape"
            ),
            "exact": "actual == expected elementwise, bit for bit in value; the result must have expected's shape",
            "classes": (
                "the truth table of the weight vector w at path: 1.0 where Xb·w > 0, else 0.0 (Xb the vector's "
                "argument, computed in float64 from w read as float64), equal to expected elementwise"
            ),
            "path": (
                "where the compared value sits in the operation's result: a result name, then list indices "
                "(the parameter k of params or grads) and array indices on the leading axis (a step t)"
            ),
            "tolerance": " ".join(inspect.getdoc(T.tolerance).split()),
            "dtype": (
                "float32: round the inputs to float32 and compute and answer in float32; float64: in float64. "
                "Expected values are the float64 reference's in either case"
            ),
            "numbers": (
                "floats as the shortest decimal that reads back to the same double; NaN and ±infinity as the "
                'strings "NaN", "Infinity", "-Infinity"; steps and order are integers'
            ),
            "ids": (
                "the pytest node id of the conformance test with the implementation's name replaced by *, CPU "
                "only (a CUDA run's ids end in -cuda)"
            ),
        },
        "overrides": [
            {
                "impl": impl,
                "quantity": q,
                "dtype": dt,
                "rtol": tol.rtol,
                "atol": encode(tol.atol),
                "derivation": tol.why,
            }
            for (impl, q, dt), tol in sorted(T.OVERRIDES.items())
        ],
    }


# ----------------------------------------------------------------------------- writing


def _prepare(directory: Path) -> None:
    """An empty or new folder, or one holding an earlier export (whose files are replaced); never anything else."""
    if not directory.exists():
        directory.mkdir(parents=True)
        return
    if not any(directory.iterdir()):
        return
    index = directory / "index.json"
    try:
        ours = json.loads(index.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError):
        ours = False
    if not ours:
        raise ValueError(f"DIR: {directory} is neither empty nor an earlier gatespec export; choose another folder")
    shutil.rmtree(directory / "cases", ignore_errors=True)
    for name in ("index.json", "golden.json", "schema.json"):
        (directory / name).unlink(missing_ok=True)


def export(directory: Path) -> dict[str, Any]:
    """Write the export into ``directory`` (see the module docstring); returns the index."""
    directory = Path(directory)
    if not SCHEMA.is_file():
        raise ValueError(f"{SCHEMA}: missing (gatespec installed without its package data?)")
    not_exported()  # fail before writing anything if a test is unaccounted for
    _prepare(directory)
    (directory / "cases").mkdir()
    files = []
    for test, entry in EXPORTED.items():
        doc = cases_file(test)
        data = dumps(doc)
        path = f"cases/{test}.json"
        (directory / path).write_bytes(data)
        files.append(
            {
                "path": path,
                "test": test,
                "operation": entry.operation,
                "vectors": len(doc["vectors"]),
                "sha256": _sha256(data),
            }
        )
    golden_data = dumps(golden_file())
    (directory / "golden.json").write_bytes(golden_data)
    schema_data = SCHEMA.read_bytes()  # copied byte for byte
    (directory / "schema.json").write_bytes(schema_data)
    index = index_file(files, _sha256(golden_data), _sha256(schema_data))
    (directory / "index.json").write_bytes(dumps(index))
    return index
