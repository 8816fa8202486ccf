"""Every implementation runs every operation it declares and returns the right shapes and dtypes.

The operations' numbers are the conformance suite's business; here a result only has to have
the contract's form.  An undeclared operation is skipped with the implementation's reason; a
declared one that raises NotSupported fails.  The native path (what the benchmarks time) is
conformance-checked only where the numpy-facing operations run through it, so its results (and
the numpy path's beside them) are held to the reference's values here, with the budgets the
conformance checks give the same quantities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from gatespec.conformance.plugin.collect import require
from gatespec.conformance.spec import cases as C
from gatespec.conformance.spec import checks as S
from gatespec.conformance.spec.interface import Capability, MLPTrajectory, NotSupported, Trajectory
from gatespec.conformance.spec.operations import OPERATIONS, named_results
from gatespec.reference import gates, init, mlp

NAND = gates.gate("nand")
XOR = gates.gate("xor")
PARITY3 = gates.gate("parity-3")
P221 = init.standard_normal((2, 2, 1), np.random.default_rng(0))
P3881 = init.torch_linear_default((3, 8, 8, 1), np.random.default_rng(1))
STEPS = 3


@dataclass(frozen=True)
class Op:
    id: str
    capability: Capability
    call: Callable  # (impl, target) -> result
    shapes: Callable  # result -> list of (array, expected shape)


def _arrays(result):
    if isinstance(result, Trajectory):
        return [result.weights, result.losses]
    if isinstance(result, MLPTrajectory):
        return [*result.params, result.losses]
    if isinstance(result, tuple):
        return [a for r in result for a in _arrays(r)]
    return [result]


def _traj_shapes(params, steps):
    return lambda r: list(zip(r.params, [(steps + 1, *p.shape) for p in params])) + [(r.losses, (steps,))]


OPS = [
    Op(
        "tlu-predict",
        Capability.TLU_PREDICT,
        lambda i, t: i.tlu_predict(NAND.Xb, np.zeros(3), t),
        lambda r: [(r, (4,))],
    ),
    Op(
        "perceptron-step",
        Capability.PERCEPTRON_STEP,
        lambda i, t: i.perceptron_step(NAND.Xb, NAND.y, np.zeros(3), 1.0, t),
        lambda r: [(r, (3,))],
    ),
    Op(
        "perceptron-online",
        Capability.PERCEPTRON_ONLINE,
        lambda i, t: i.perceptron_online(NAND.Xb, NAND.y, np.zeros(3), 0.5, np.array([1, 2, 3, 0, 3]), t),
        lambda r: [(r, (6, 3))],
    ),
    Op(
        "logistic-loss-grad",
        Capability.LOGISTIC_LOSS_GRAD,
        lambda i, t: i.logistic_loss_and_grad(NAND.Xb, NAND.y, np.array([0.1, -0.2, 0.3]), t),
        lambda r: [(r[0], ()), (r[1], (3,))],
    ),
    Op(
        "single-example-loss-grad",
        Capability.SINGLE_EXAMPLE_LOSS_GRAD,
        lambda i, t: i.single_example_loss_and_grad(np.ones(3), np.array([1.0, 1.0, -1.5]), t),
        lambda r: [(r[0], ()), (r[1], (3,))],
    ),
    Op(
        "logistic-train",
        Capability.LOGISTIC_TRAIN,
        lambda i, t: i.logistic_train(NAND.Xb, NAND.y, np.zeros(3), 1.0, STEPS, t),
        lambda r: [(r.weights, (STEPS + 1, 3)), (r.losses, (STEPS,))],
    ),
    Op(
        "mlp-forward",
        Capability.MLP_FORWARD,
        lambda i, t: i.mlp_forward(P221, XOR.X, t),
        lambda r: [(r[0], (4,)), (r[1], (4,))],
    ),
    Op(
        "mlp-loss-grads-3-8-8-1",
        Capability.MLP_LOSS_GRADS,
        lambda i, t: i.mlp_loss_and_grads(P3881, PARITY3.X, PARITY3.y, t),
        lambda r: [(r[0], ())] + [(g, p.shape) for g, p in zip(r[1], P3881)],
    ),
    Op(
        "mlp-train-sgd",
        Capability.MLP_TRAIN_SGD,
        lambda i, t: i.mlp_train(P221, XOR.X, XOR.y, mlp.SGD(0.5), STEPS, t),
        _traj_shapes(P221, STEPS),
    ),
    Op(
        "mlp-train-adam",
        Capability.MLP_TRAIN_ADAM,
        lambda i, t: i.mlp_train(P3881, PARITY3.X, PARITY3.y, mlp.Adam(0.01), STEPS, t),
        _traj_shapes(P3881, STEPS),
    ),
]


@pytest.mark.gatespec_cases(OPS)
def test_declared_operation_returns_the_contracts_shapes_and_dtype(impl, case, target):
    require(impl, case.capability)
    inputs_before = [a.copy() for a in (NAND.Xb, XOR.X, *P221, *P3881)]
    try:
        result = case.call(impl, target)
    except NotSupported as exc:
        pytest.fail(f"{impl.name} declares {case.capability.value} but raised NotSupported({exc})")
    for array, shape in case.shapes(result):
        assert isinstance(array, np.ndarray), f"{impl.name} {case.id}: {type(array).__name__}, not numpy"
        assert array.shape == shape, f"{impl.name} {case.id}: shape {array.shape}, expected {shape}"
    for array in _arrays(result):
        assert array.dtype == target.np_dtype, f"{impl.name} {case.id}: dtype {array.dtype}, expected {target.dtype}"
        assert np.all(np.isfinite(array)), f"{impl.name} {case.id}: non-finite values"
    for before, after in zip(inputs_before, (NAND.Xb, XOR.X, *P221, *P3881)):
        assert np.array_equal(before, after), f"{impl.name} {case.id} mutated its inputs"


# The notebook's XOR net and STEPS of SGD(0.5), as a conformance case: the native paths are held to the same
# checks as the numpy paths (spec.checks's builders, their budgets).
SMOKE = C.MLPCase("xor-smoke", "xor", P221, mlp.SGD(0.5), STEPS)


@dataclass(frozen=True)
class NativeCase:
    id: str
    op: str
    build: Callable  # (impl, case, dtype) -> Vector: the conformance check of the op

    @property
    def inputs(self) -> dict:
        return dict(zip(OPERATIONS[self.op].args, self.build(ANY, SMOKE, "float64").args.values()))


ANY = S.stand_in()
NATIVE = [
    NativeCase("mlp-forward", "mlp_forward", S.mlp_forward),
    NativeCase("mlp-loss-and-grads", "mlp_loss_and_grads", S.mlp_loss_and_gradients),
    NativeCase("mlp-train", "mlp_train", S.mlp_sgd_trajectory),
]


@pytest.mark.gatespec_cases(NATIVE)
def test_native_path_runs_repeatably_and_matches_the_numpy_path(impl, case, target):
    require(impl, Capability.NATIVE)
    native = impl.native(case.op, target, **case.inputs)
    first = _arrays(native.to_numpy(native.run()))
    again = native.to_numpy(native.run())
    second = _arrays(again)
    assert len(first) == len(second), f"{impl.name} native {case.op}: {len(first)} arrays, then {len(second)}"
    for a, b in zip(first, second):
        # Same work every call: a native op that mutates its prepared state would drift.
        np.testing.assert_array_equal(a, b, err_msg=f"{impl.name} native {case.op}: second run differs")
    # Both paths against the reference, with the conformance check's budgets: a native path that computes another
    # function (or the numpy path's wrapping of it) fails here, not just on shape.
    vector = case.build(impl, SMOKE, target.dtype)
    direct = getattr(impl, case.op)(**case.inputs, target=target)
    for path, result in (("native", again), ("numpy", direct)):
        named = named_results(case.op, result, f"{impl.name} {path}")
        S.compare(impl, f"{path} {case.op}", target, vector, named)
