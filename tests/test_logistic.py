"""Logistic regression (reference/logistic.py) against the notebook's printed numbers and finite differences."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from gatespec.conformance.spec.tolerances import FINITE_DIFFERENCE, FLOAT32_TRACE, LIBM_ULPS, printed
from gatespec.reference import gates, golden, logistic
from tests.finite_differences import central_gradient


def test_single_example_loss_reproduces_autograd_cell():
    """Using autograd, In [59]: l = 0.47407698418010663 (repr) and ∇l = −0.37754067 each."""
    loss, grad = logistic.single_example_loss_and_grad(
        np.array(golden.SINGLE_EXAMPLE_X), np.array(golden.SINGLE_EXAMPLE_W)
    )
    # Printed by repr of the float64 result of the naive formula; the stable one agrees to a few ulps.  (abs=0
    # throughout: approx's default abs=1e-12 would otherwise swamp these bounds.)
    assert loss == pytest.approx(golden.SINGLE_EXAMPLE_LOSS.values[0], rel=4 * np.finfo(float).eps, abs=0)
    tol = printed(golden.SINGLE_EXAMPLE_GRAD.decimals)
    assert_allclose(grad, golden.SINGLE_EXAMPLE_GRAD.values, rtol=tol.rtol, atol=tol.atol)
    # Closed form: l = softplus(−0.5) = log(1 + e^{−0.5}); ∇l = −σ(−0.5)·x.  w·x = 0.5 exactly.  With exp and log1p
    # within 1 ulp (numpy's own, on this machine) l: exp's ε carried by log1p's condition number 0.8 at e^{−½}, plus
    # log1p's ε, per side: ≤ 3.6ε apart; ∇l: exp's ε × 0.62 (the condition of e/(1 + e)) plus + and ÷: ≤ 3.3ε.
    # numpy's SIMD builds on other CPUs promise only LIBM_ULPS (4) ulp, the suite's libm assumption: 4·LIBM_ULPS·ε.
    eps = np.finfo(np.float64).eps
    assert loss == pytest.approx(np.log1p(np.exp(-0.5)), rel=4 * LIBM_ULPS * eps, abs=0)
    assert_allclose(grad, -np.full(3, 1 / (1 + np.exp(0.5))), rtol=4 * LIBM_ULPS * eps, atol=0)


def test_gradient_descent_reproduces_cell_58():
    """SGD with mini-batch, In [58]: printed trace, then w and σ(Xw) after 100 steps of step 1."""
    g = gates.gate("nand")
    run = logistic.gradient_descent(g.Xb, g.y, np.zeros(3), 1.0, golden.LOGISTIC_STEPS)
    tol = printed(golden.LOGISTIC_TRACE.decimals)
    for t, (w, p) in enumerate(golden.LOGISTIC_TRACE.values):
        assert_allclose(run.weights[t], w, rtol=tol.rtol, atol=tol.atol, err_msg=f"line #{t}: w")
        got = logistic.predict_proba(g.Xb, run.weights[t])[: len(p)]  # line #5 was cut mid-print
        assert_allclose(got, p, rtol=tol.rtol, atol=tol.atol, err_msg=f"line #{t}: Ypred")
    tol = printed(golden.LOGISTIC_FINAL_W.decimals)
    assert_allclose(run.final, golden.LOGISTIC_FINAL_W.values, rtol=tol.rtol, atol=tol.atol)
    assert_allclose(
        logistic.predict_proba(g.Xb, run.final), golden.LOGISTIC_FINAL_P.values, rtol=tol.rtol, atol=tol.atol
    )


def test_eta_matters_so_the_notebooks_unused_eta_is_a_real_slip():
    g = gates.gate("nand")
    half = logistic.gradient_descent(g.Xb, g.y, np.zeros(3), 0.5, golden.LOGISTIC_STEPS)
    assert np.max(np.abs(half.final - np.array(golden.LOGISTIC_FINAL_W.values))) > 0.5


def test_raw_torch_nand_trace_reproduces_cell_23():
    """Single-layer NN using automatic differentiation, In [23]: float32 losses and weights of 15 steps, η = 0.5.

    The cell's loss −Σ log(yŷ + (1−y)(1−ŷ)) is the summed cross-entropy, so the reference's
    BCE-with-logits must give the same numbers; they were computed in float32, hence FLOAT32_TRACE.
    """
    g = gates.gate("nand")
    trace = golden.TORCH_RAW_NAND_TRACE.values
    w0 = np.array(trace[0][0])
    run = logistic.gradient_descent(g.Xb, g.y, w0, golden.TORCH_RAW_NAND_ETA, len(trace))
    tol = FLOAT32_TRACE
    for t, (w, loss) in enumerate(trace):
        assert_allclose(run.weights[t], w, rtol=tol.rtol, atol=tol.atol, err_msg=f"line #{t}: w")
        assert_allclose(run.losses[t], loss, rtol=tol.rtol, atol=tol.atol, err_msg=f"line #{t}: loss")


def test_losses_are_logged_before_each_update():
    g = gates.gate("or")
    run = logistic.gradient_descent(g.Xb, g.y, np.array([0.3, -0.2, 0.1]), 0.7, 5)
    for t in range(5):
        assert run.losses[t] == logistic.loss(g.Xb, g.y, run.weights[t])


finite = st.floats(-4, 4, allow_nan=False)


@given(
    w=arrays(np.float64, 3, elements=finite),
    X=arrays(np.float64, (6, 2), elements=st.floats(0, 1)),
    y=arrays(np.float64, 6, elements=st.sampled_from([0.0, 1.0])),
)
def test_gradient_matches_central_differences(w, X, y):
    Xb = gates.with_bias(X)
    _, grad = logistic.loss_and_grad(Xb, y, w)
    fd = central_gradient(lambda v: logistic.loss(Xb, y, v), w)
    assert_allclose(grad, fd, rtol=FINITE_DIFFERENCE.rtol, atol=FINITE_DIFFERENCE.atol)


@given(w=arrays(np.float64, 4, elements=finite), x=arrays(np.float64, 4, elements=st.floats(-1, 1)))
def test_single_example_gradient_matches_central_differences(w, x):
    _, grad = logistic.single_example_loss_and_grad(x, w)
    fd = central_gradient(lambda v: logistic.single_example_loss_and_grad(x, v)[0], w)
    assert_allclose(grad, fd, rtol=FINITE_DIFFERENCE.rtol, atol=FINITE_DIFFERENCE.atol)


def test_loss_is_finite_and_exact_when_saturated():
    # z = ±1000 on the wrong side: l = Σ softplus(±1000) = 1000 per row, gradient ±x exactly.
    Xb = np.array([[1.0, 1.0]])
    loss, grad = logistic.loss_and_grad(Xb, np.array([0.0]), np.array([500.0, 500.0]))
    assert loss == 1000.0 and np.array_equal(grad, [1.0, 1.0])
    loss, grad = logistic.loss_and_grad(Xb, np.array([1.0]), np.array([500.0, 500.0]))
    assert loss == 0.0 and np.array_equal(grad, [0.0, 0.0])
