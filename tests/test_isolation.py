"""One implementation's framework settings never leak into another or into the reference.

Two ways.  Directly: every built-in runs each operation it declares, in both dtypes, and the
process-wide switches that change numbers (JAX x64 and matmul precision, torch's default dtype,
threads and grad mode, TensorFlow's device policy, threading, TF32 and Keras's floatx, numpy's
error and print state, every global generator: :func:`gatespec.conformance.plugin.isolation.global_settings`,
which the plugin also checks around every test of every implementation) and the reference's
own values must be exactly as before.  By their effect: the suite runs a style of each
framework in one order and in the reverse order, each in a process of its own, and the two
reports must match bit for bit.
Frameworks that are not installed are skipped.
"""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from gatespec.conformance.plugin import registry
from gatespec.conformance.plugin.isolation import changed, global_settings
from gatespec.conformance.spec.interface import Capability, NotSupported, Target
from gatespec.reference import gates, init, logistic, mlp

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
Cap = Capability
NAND = gates.gate("nand")
XOR = gates.gate("xor")
P221 = init.standard_normal((2, 2, 1), np.random.default_rng(0))
W = np.array([0.5, -0.25, 0.125])
STEPS = 3


def reference_values() -> list[np.ndarray]:
    """The reference's float64 numbers on the XOR net: forward, gradients, 50 SGD steps, a logistic run."""
    run = mlp.train(P221, XOR.X, XOR.y, mlp.SGD(0.5), 50)
    gd = logistic.gradient_descent(NAND.Xb, NAND.y, W, 1.0, 10)
    return [*mlp.forward(P221, XOR.X), *mlp.loss_and_grads(P221, XOR.X, XOR.y)[1], *run.params, gd.weights]


def _run_every_declared_operation(impl, target: Target) -> None:
    two = tuple(np.stack([p, 2 * p]) for p in P221)  # two nets on a leading axis
    calls = {
        Cap.TLU_PREDICT: lambda: impl.tlu_predict(NAND.Xb, W, target),
        Cap.PERCEPTRON_STEP: lambda: impl.perceptron_step(NAND.Xb, NAND.y, W, 0.5, target),
        Cap.PERCEPTRON_ONLINE: lambda: impl.perceptron_online(NAND.Xb, NAND.y, W, 0.5, np.array([0, 3, 1]), target),
        Cap.LOGISTIC_LOSS_GRAD: lambda: impl.logistic_loss_and_grad(NAND.Xb, NAND.y, W, target),
        Cap.SINGLE_EXAMPLE_LOSS_GRAD: lambda: impl.single_example_loss_and_grad(np.ones(3), W, target),
        Cap.LOGISTIC_TRAIN: lambda: impl.logistic_train(NAND.Xb, NAND.y, W, 1.0, STEPS, target),
        Cap.MLP_FORWARD: lambda: impl.mlp_forward(P221, XOR.X, target),
        Cap.MLP_LOSS_GRADS: lambda: impl.mlp_loss_and_grads(P221, XOR.X, XOR.y, target),
        Cap.MLP_TRAIN_SGD: lambda: impl.mlp_train(P221, XOR.X, XOR.y, mlp.SGD(0.5), STEPS, target),
        Cap.MLP_TRAIN_ADAM: lambda: impl.mlp_train(P221, XOR.X, XOR.y, mlp.Adam(0.1), STEPS, target),
        Cap.MLP_INIT: lambda: [impl.mlp_init(i, (2, 2, 1), 2, 0, target) for i in impl.initialisers],
        Cap.MLP_TRAIN_BATCHED: lambda: impl.mlp_train_batched(two, XOR.X, XOR.y, mlp.SGD(0.5), STEPS, target),
        Cap.NATIVE: lambda: impl.native("mlp_forward", target, params=P221, X=XOR.X).once(),
    }
    for capability, call in calls.items():
        if impl.supports(capability):
            try:
                call()
            except NotSupported as exc:
                pytest.fail(f"{impl.name} declares {capability.value} but raised NotSupported({exc})")


@pytest.mark.slow  # compiling every operation of the compiled styles in two dtypes: ~50 s for all 13
@pytest.mark.parametrize("name", list(registry.BUILTINS))
def test_an_implementation_leaves_global_settings_and_the_reference_as_it_found_them(name):
    framework = registry.BUILTINS[name][0]
    if not find_spec(framework):
        pytest.skip(f"{framework} is not installed")
    entry = registry.builtin(name)
    if not entry.available:
        pytest.skip(f"{name} unavailable: {entry.reason}")
    before, reference = global_settings(), reference_values()
    for dtype in entry.impl.dtypes:
        _run_every_declared_operation(entry.impl, Target(dtype))
    changes = changed(before, global_settings())
    assert not changes, f"{name} changed process-wide settings (before, after): {changes}"
    for a, b in zip(reference_values(), reference):
        np.testing.assert_array_equal(a, b, err_msg=f"the reference's values changed after {name} ran")


# One style of each framework, with the settings it could leak: jitted JAX (x64 scoped per
# call), torch.nn (default dtype, threads), Keras on TensorFlow (floatx, layer dtypes).
ORDER = [name for name in ("numpy", "torch-nn", "jax-jit", "tf-keras") if find_spec(registry.BUILTINS[name][0])]
# Single operations on the XOR net and one logistic step, both dtypes: a leak moves their ratios.
ORDER_CHECKS = (
    "(mlp_forward or mlp_loss_and_gradients_match or mlp_one_sgd_step or logistic_one_gradient_descent) "
    "and (xor-2-2-1-float or nand-random)"
)


def _results(pytester: pytest.Pytester, names: list[str]) -> dict:
    out = pytester.path / "-".join(names)
    # module:attr, in this order: a registered name would make each run import every framework.
    impls = [arg for name in names for arg in ("--gatespec-impl", registry.BUILTINS[name][1])]
    result = pytester.runpytest_subprocess(
        "--pyargs",
        "gatespec.conformance.suite.test_conformance",
        *impls,
        "-k",
        ORDER_CHECKS,
        "--gatespec-report",
        str(out),
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    return json.loads((out / "conformance.json").read_text())


@pytest.mark.slow  # two processes that import torch, TensorFlow and JAX: ~40 s
def test_implementations_give_the_same_results_in_either_order(pytester):
    if len(ORDER) < 3:
        pytest.skip(f"needs at least two frameworks beside numpy; installed: {', '.join(ORDER)}")
    forward, backward = _results(pytester, ORDER), _results(pytester, ORDER[::-1])
    assert sorted(forward["implementations"]) == sorted(ORDER)
    assert sum(r["worst_ratio"] is not None for r in forward["results"]) > 0
    # The markdown's columns follow the --gatespec-impl order; the numbers must not.
    assert forward["results"] == backward["results"]
    assert forward["matrix"] == backward["matrix"]
