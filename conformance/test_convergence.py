"""Many nets at once (issue 7): batched training, each framework's own initialisers, XOR's convergence statistics.

- ``test_mlp_batched_training_matches_each_net_alone``: a few nets trained side by side by
  ``mlp_train_batched`` end where :func:`gatespec.reference.mlp.train` takes each alone, within
  the trajectory tolerance.
- ``test_mlp_init_draws_from_its_distribution``: ``mlp_init`` is deterministic in its seed, has
  the law's support exactly (zero biases, |w| within the bound) and its moments and
  distribution function (mean, second moment and Kolmogorov–Smirnov tests at
  ``cases.INIT_ALPHA``).
- ``test_xor_convergence_rate_matches_reference`` (marker ``convergence``; skip with
  ``-m "not convergence"``): N = 1000 nets from the implementation's own initialisation and
  generator learn XOR in 1000 steps as often as the reference's N nets from the same law, by
  the pooled two-proportion z-test at ``cases.CONVERGENCE_ALPHA``; rate, Wilson interval,
  failure classes, learned curve and run time go to the report (``--gatespec-report``).

Run: ``pytest --pyargs gatespec.conformance.test_convergence [--gatespec-impl NAME …] [-m convergence]``.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pytest

from gatespec.conformance import cases as C
from gatespec.conformance import tolerances as T
from gatespec.conformance.checks import assert_close, assert_equal_exact, param_name, require, zip_params
from gatespec.conformance.interface import Capability, MLPTrajectory, Target
from gatespec.conformance.report.convergence import CURVE_EVERY
from gatespec.reference import convergence, mlp
from gatespec.reference.mlp import SGD, Adam, Params

Cap = Capability


def _require_optimizer(impl, optimizer: SGD | Adam, dtype: str) -> None:
    require(impl, Cap.MLP_TRAIN_SGD if isinstance(optimizer, SGD) else Cap.MLP_TRAIN_ADAM, dtype)


def _require_initialiser(impl, initialiser: str, dtype: str) -> None:
    require(impl, Cap.MLP_INIT, dtype)
    if initialiser not in impl.initialisers:
        pytest.skip(f"{impl.name} draws {', '.join(impl.initialisers)} (its users' own), not {initialiser}")


def _float64(params: Params) -> Params:
    return tuple(np.asarray(p, dtype=np.float64) for p in params)


# ----------------------------------------------------------------------------- batched = each net alone


@functools.lru_cache(maxsize=16)
def _alone(case: C.BatchedCase, b: int, dtype: str) -> tuple[MLPTrajectory, T.TrajectorySpread]:
    """Net b trained alone by the reference, and the spread of that run in ``dtype`` (its budget)."""
    g = case.gate
    run = mlp.train(case.net(b), g.X, g.y, case.optimizer, case.steps)
    return run, T.trajectory_spread(case.net(b), g.X, g.y, case.optimizer, case.steps, dtype)


@pytest.mark.gatespec_cases(C.BATCHED_CASES)
def test_mlp_batched_training_matches_each_net_alone(impl, case, target):
    require(impl, Cap.MLP_TRAIN_BATCHED, target.dtype)
    _require_optimizer(impl, case.optimizer, target.dtype)
    g = case.gate
    run = impl.mlp_train_batched(case.params, g.X, g.y, case.optimizer, case.steps, target)
    n_nets = case.params[0].shape[0]
    assert_equal_exact(np.shape(run.losses), (case.steps, n_nets), impl=impl, case=case, quantity="losses shape")
    what = f"{case.optimizer.id} over {case.steps} steps"
    for b in range(n_nets):
        alone, spread = _alone(case, b, target.dtype)
        tols, tol_loss = spread.budget(impl.name)
        pairs = zip_params(impl, case, "final parameters", run.params, alone.final, tols)
        for k, (actual, desired, tol) in enumerate(pairs):
            quantity = f"net {b} of {n_nets}, final {param_name(k)}, {what}"
            tol = tol.at(-1)
            assert_close(actual[b], desired, tol=tol, impl=impl, case=case, quantity=quantity, dtype=target.dtype)
        losses = run.losses[:, b]
        quantity = f"net {b} losses, {what}"
        assert_close(losses, alone.losses, tol=tol_loss, impl=impl, case=case, quantity=quantity, dtype=target.dtype)


# ----------------------------------------------------------------------------- initialisers


@functools.lru_cache(maxsize=32)
def _drawn(impl, initialiser: str, sizes: tuple[int, ...], n: int, seed: int, target: Target) -> tuple[Params, float]:
    """``impl.mlp_init`` and the seconds it took the first time (the statistics reuse the draw)."""
    start = time.perf_counter()
    params = impl.mlp_init(initialiser, sizes, n, seed, target)
    return params, time.perf_counter() - start


def _check_shapes(params: Params, sizes: tuple[int, ...], n: int, impl, case, target: Target) -> None:
    expected = [((n, i, o), (n, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    expected = [s for pair in expected for s in pair]
    actual = [np.shape(p) for p in params]
    if actual != expected or any(np.asarray(p).dtype != target.np_dtype for p in params):
        dtypes = [str(np.asarray(p).dtype) for p in params]
        raise AssertionError(
            f"{impl.name} / {case.id} / initial parameters: shapes {actual}, dtypes {dtypes}; "
            f"expected shapes {expected}, dtype {target.dtype}"
        )


def _check_law(sample: np.ndarray, law: convergence.Law, target: Target, impl, case, quantity: str) -> None:
    """Support exactly, then mean, second moment and distribution function at INIT_ALPHA."""
    if law.kind == "zero":
        assert_equal_exact(sample, np.zeros(sample.shape), impl=impl, case=case, quantity=f"{quantity} (zeros)")
        return
    if law.kind == "uniform":
        # Rounding to the target dtype is monotone, so a draw from [−a, a] lies within ±fl(a).
        bound = float(np.asarray(law.scale, dtype=target.np_dtype))
        outside = np.abs(np.asarray(sample, dtype=np.float64)) > bound
        if outside.any():
            raise AssertionError(
                f"{impl.name} / {case.id} / {quantity}: {int(outside.sum())} of {sample.size} draws outside "
                f"±{bound!r} (U(±{law.scale:.6g}))\nACTUAL (largest |draw|): {float(np.max(np.abs(sample)))!r}\n"
                f"DESIRED: ≤ {bound!r}"
            )
    for test, statistic in (
        (convergence.mean_test, "mean (z)"),
        (convergence.variance_test, "second moment (z)"),
        (convergence.ks_test, "Kolmogorov–Smirnov D"),
    ):
        value, p = test(sample, law)
        if p < C.INIT_ALPHA:
            x = np.asarray(sample, dtype=np.float64)
            raise AssertionError(
                f"{impl.name} / {case.id} / {quantity}: {statistic} = {value:.4g}, p = {p:.3g} < α = {C.INIT_ALPHA:g} "
                f"(H₀: {law.kind} with scale {law.scale:.6g}, {x.size} draws)\n"
                f"ACTUAL: mean {x.mean():.6g}, mean square {np.mean(x * x):.6g}, range [{x.min():.6g}, {x.max():.6g}]\n"
                f"DESIRED: mean 0, mean square {law.variance:.6g}"
            )


@pytest.mark.gatespec_cases(C.INIT_CASES)
def test_mlp_init_draws_from_its_distribution(impl, case, target):
    _require_initialiser(impl, case.initialiser, target.dtype)
    params, _ = _drawn(impl, case.initialiser, case.sizes, case.n, case.seed, target)
    _check_shapes(params, case.sizes, case.n, impl, case, target)
    again = impl.mlp_init(case.initialiser, case.sizes, case.n, case.seed, target)
    for k, (a, p) in enumerate(zip(again, params)):
        quantity = f"parameter {k} drawn again with seed {case.seed}"
        assert_equal_exact(a, p, impl=impl, case=case, quantity=quantity, dtype=target.dtype)
    other = impl.mlp_init(case.initialiser, case.sizes, case.n, case.seed + 1, target)
    if all(np.array_equal(a, p) for a, p in zip(other, params)):
        raise AssertionError(f"{impl.name} / {case.id} / seed: seeds {case.seed} and {case.seed + 1} draw equal nets")
    for k, (p, law) in enumerate(zip(params, convergence.laws(case.initialiser, case.sizes))):
        _check_law(np.asarray(p), law, target, impl, case, f"{param_name(k)} of {case.n} nets")


# ----------------------------------------------------------------------------- convergence statistics


@functools.lru_cache(maxsize=16)
def _reference(case: C.ConvergenceCase) -> tuple[convergence.Convergence, float]:
    """The reference's statistic for ``case`` (float64, nets from default_rng(REFERENCE_SEED)) and its seconds."""
    start = time.perf_counter()
    g = case.gate
    rng = np.random.default_rng(C.REFERENCE_SEED)
    stats = convergence.convergence(case.initialiser, case.sizes, g.X, g.y, case.optimizer, case.steps, case.n, rng)
    return stats, time.perf_counter() - start


def _summary(stats: convergence.Convergence) -> dict:
    lo, hi = stats.interval()
    return {
        "n": stats.n,
        "learned": stats.learned,
        "rate": stats.rate,
        "interval": [lo, hi],
        "counts": dict(stats.counts),
        "curve": [float(x) for x in stats.curve[::CURVE_EVERY]],
    }


def _described(stats: convergence.Convergence) -> str:
    lo, hi = stats.interval()
    failures = ", ".join(f"{o} {stats.counts[o]}" for o in convergence.FAILURES)
    return f"{stats.learned}/{stats.n} = {stats.rate:.3f} (95% Wilson [{lo:.3f}, {hi:.3f}]); failures: {failures}"


@pytest.mark.convergence
@pytest.mark.gatespec_cases(C.CONVERGENCE_CASES)
def test_xor_convergence_rate_matches_reference(impl, case, target, record_convergence):
    require(impl, Cap.MLP_TRAIN_BATCHED, target.dtype)
    _require_optimizer(impl, case.optimizer, target.dtype)
    _require_initialiser(impl, case.initialiser, target.dtype)
    if target.dtype != C.CONVERGENCE_DTYPE:
        pytest.skip(f"the statistics run in {C.CONVERGENCE_DTYPE}, the frameworks' default (and the notebook's)")
    g = case.gate
    params, init_seconds = _drawn(impl, case.initialiser, case.sizes, case.n, C.IMPLEMENTATION_SEED, target)
    start = time.perf_counter()
    run = impl.mlp_train_batched(_float64(params), g.X, g.y, case.optimizer, case.steps, target)
    train_seconds = time.perf_counter() - start
    stats = convergence.summarise(_float64(run.params), np.asarray(run.losses, dtype=np.float64), g.X, g.y)
    reference, reference_seconds = _reference(case)
    z, p = convergence.two_proportion_test(stats.learned, stats.n, reference.learned, reference.n)
    record_convergence(
        {
            "impl": impl.name,
            "framework": impl.framework,
            "case": case.id,
            "initialiser": case.initialiser,
            "optimizer": case.optimizer.id,
            "dtype": target.dtype,
            "steps": case.steps,
            "alpha": C.CONVERGENCE_ALPHA,
            "z": z,
            "p_value": p,
            "seconds": {"init": init_seconds, "train": train_seconds},
            **_summary(stats),
            "reference": {**_summary(reference), "seconds": reference_seconds},
        },
    )
    if p < C.CONVERGENCE_ALPHA:
        raise AssertionError(
            f"{impl.name} / {case.id} / rate of nets learned after {case.steps} steps: the pooled two-proportion "
            f"z-test rejects equal rates at α = {C.CONVERGENCE_ALPHA:g} (z = {z:.3f}, p = {p:.3g})\n"
            f"ACTUAL ({target.dtype}, {impl.name}'s own {case.initialiser} draws): {_described(stats)}\n"
            f"DESIRED (float64 reference, same law, other seeds): {_described(reference)}"
        )
