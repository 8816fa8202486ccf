"""Threshold unit and Rosenblatt learning (reference/perceptron.py) against the notebook and Novikoff."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gatespec.reference import gates, golden, perceptron

EPS = np.finfo(np.float64).eps


def test_tlu_predicts_with_g_of_zero_equal_zero():
    # "Using numpy", In [27]: x′ = (0, 1, 1), w = (1, 1, 1) → 1.0; and w = 0 predicts 0 everywhere.
    assert perceptron.predict(np.array([[0.0, 1.0, 1.0]]), np.array([1.0, 1.0, 1.0]))[0] == 1.0
    assert_array_equal(perceptron.predict(gates.gate("nand").Xb, np.zeros(3)), [0, 0, 0, 0])


def test_full_batch_trace_reproduces_the_notebook():
    """Single-layer perceptron with mini-batch, In [57]: every printed w and Ypred, then w = (−1, −1, 2)."""
    g = gates.gate("nand")
    run = perceptron.train_batch(g.Xb, g.y, np.zeros(3), 1.0, len(golden.BATCH_TRACE.values))
    for t, (w, y_pred) in enumerate(golden.BATCH_TRACE.values):
        assert_array_equal(run.weights[t], w, err_msg=f"{golden.BATCH_TRACE.cell} line #{t}: w")
        assert_array_equal(perceptron.predict(g.Xb, run.weights[t]), y_pred, err_msg=f"line #{t}: Ypred")
    assert_array_equal(run.final, golden.BATCH_FINAL_W.values)
    assert_array_equal(perceptron.predict(g.Xb, run.final), g.y)  # NAND realised
    assert run.converged_at == 5  # line #5 is the first whose Ypred equals Y


def test_online_trace_reproduces_the_notebook_on_and_labels():
    """Training a NAND gate, In [56]: the cell's labels are AND's; replay its printed instance order."""
    g = gates.gate("and")
    assert_array_equal(g.y, golden.ONLINE_LABELS)  # the slip: "NAND" data with AND labels
    trace = golden.ONLINE_TRACE.values
    order = np.array([i for i, _, _ in trace])
    run = perceptron.train_online(g.Xb, g.y, np.zeros(3), golden.ONLINE_ETA, order)
    for t, (i, w, y_pred) in enumerate(trace):
        assert_array_equal(run.weights[t], w, err_msg=f"{golden.ONLINE_TRACE.cell} line #{t}: w")
        if y_pred is not None:
            assert perceptron.predict(g.Xb[i : i + 1], run.weights[t])[0] == y_pred, f"line #{t}: y_pred"
    # In [43]/In [44]: the weights it ended with realise AND (not NAND).
    final = np.array(golden.ONLINE_FINAL_W.values)
    assert_array_equal(perceptron.predict(g.Xb, final), golden.ONLINE_FINAL_PRED.values)
    assert_array_equal(perceptron.predict(g.Xb, final), g.y)


SEPARABLE_TWO_INPUT = [n for n in gates.two_input_gate_names() if n not in ("xor", "xnor")]


@pytest.mark.parametrize("eta", [1.0, 0.5, 0.01])
@pytest.mark.parametrize("name", SEPARABLE_TWO_INPUT + ["not", "majority-3", "and-4"])
def test_online_perceptron_converges_within_novikoffs_bound(name, eta):
    g = gates.gate(name)
    bound = perceptron.novikoff_bound(g.Xb, g.y, g.separability.w)
    epochs = int(np.ceil(bound)) + 1  # each epoch before convergence makes at least one mistake
    orders = [perceptron.cyclic_order(len(g.y), epochs)]
    orders += [perceptron.random_order(np.random.default_rng(seed), len(g.y), 50 * epochs) for seed in range(5)]
    for order in orders:
        run = perceptron.train_online(g.Xb, g.y, np.zeros(g.Xb.shape[1]), eta, order)
        assert run.mistakes.sum() <= bound, f"{name}: {run.mistakes.sum()} mistakes > Novikoff bound {bound:.1f}"
        if order is orders[0]:
            assert run.converged, f"{name}: cyclic order did not converge in {epochs} epochs"
            assert_array_equal(perceptron.predict(g.Xb, run.final), g.y)


@pytest.mark.parametrize("name", ["xor", "xnor", "parity-3"])
def test_perceptron_never_converges_on_non_separable_gates(name):
    g = gates.gate(name)
    run = perceptron.train_online(g.Xb, g.y, np.zeros(g.Xb.shape[1]), 1.0, perceptron.cyclic_order(len(g.y), 100))
    assert not run.converged
    # Not a bookkeeping accident: every weight vector it visited misclassifies some row.
    predictions = (run.weights @ g.Xb.T > 0).astype(float)
    assert np.all(np.any(predictions != g.y, axis=1))
    batch = perceptron.train_batch(g.Xb, g.y, np.zeros(g.Xb.shape[1]), 1.0, 200)
    assert not batch.converged


def test_margin_and_bound_closed_form():
    # AND with w = (1, 1, −1.5): s·(w·x′) = 1.5, 0.5, 0.5, 0.5; ‖w‖ = √4.25; R = √3.
    g = gates.gate("and")
    w = np.array([1.0, 1.0, -1.5])
    # Products and sums of these halves are exact, so √ and ÷ are the only roundings (≤ ½ ulp each, IEEE): each side
    # is within ε of γ, 2ε apart.  (abs=0 throughout: approx's default abs=1e-12 would otherwise swamp these bounds.)
    assert perceptron.margin(g.Xb, g.y, w) == pytest.approx(0.5 / np.sqrt(4.25), rel=2 * EPS, abs=0)
    # (R/γ)² = 51 exactly; γ (≤ 2 half-ulps), R = √3 (1) and R/γ (1) make 4, squaring doubles them and pow adds ≤ 1 ulp:
    # ≤ 10 half-ulps = 5ε.
    assert perceptron.novikoff_bound(g.Xb, g.y, w) == pytest.approx(3 * 4.25 / 0.25, rel=5 * EPS, abs=0)
    with pytest.raises(ValueError, match="w: expected a separating"):
        perceptron.margin(g.Xb, g.y, np.array([1.0, 1.0, -0.5]))
