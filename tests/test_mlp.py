"""Sigmoid MLP (reference/mlp.py): layouts, the notebook's trained nets, backprop, SGD, Adam."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from gatespec.conformance.spec.tolerances import FINITE_DIFFERENCE, LIBM_ULPS
from gatespec.reference import activations, gates, golden, init, mlp
from tests.finite_differences import central_gradient

SIZES = [(2, 1), (2, 2, 1), (3, 4, 1), (2, 8, 8, 1), (4, 3, 2, 1)]
# The closed forms below use pytest.approx with abs=0: its default abs=1e-12 would otherwise swamp these ε bounds.
EPS = np.finfo(np.float64).eps


def _params(sizes, seed=0):
    return init.standard_normal(sizes, np.random.default_rng(seed))


@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "-".join(map(str, s)))
def test_layout_conversions_round_trip_exactly(sizes):
    params = _params(sizes)
    for to, back in [
        (mlp.to_folded, mlp.from_folded),
        (mlp.to_notebook_raw, mlp.from_notebook_raw),
        (mlp.to_torch, mlp.from_torch),
    ]:
        again = back(to(params))
        assert len(again) == len(params)
        for a, b in zip(again, params):
            assert_array_equal(a, b)  # bit for bit: conversions only slice, stack and transpose
    assert mlp.layer_sizes(params) == sizes


def test_layouts_have_the_documented_shapes():
    W1, b1, W2, b2 = _params((2, 2, 1))
    w1, w2, b2_raw = mlp.to_notebook_raw((W1, b1, W2, b2))
    assert w1.shape == (3, 2) and w2.shape == (2, 1) and b2_raw.shape == (1, 1)  # randn(3,2), (2,1), (1,1)
    assert_array_equal(w1[:2], W1) and assert_array_equal(w1[2], b1)
    tw1, _, tw2, _ = mlp.to_torch((W1, b1, W2, b2))
    assert tw1.shape == (2, 2) and tw2.shape == (1, 2)  # torch.nn.Linear: (out, in)
    assert_array_equal(tw1, W1.T)


def test_folded_forward_equals_canonical_forward():
    # The notebook's raw cell: σ(σ(x′ w1) w2 + b2) with x′ = (x, 1).
    params = _params((2, 2, 1), seed=3)
    g = gates.gate("xor")
    w1, w2, b2 = mlp.to_notebook_raw(params)
    raw = activations.sigmoid(activations.sigmoid(g.Xb @ w1) @ w2 + b2)[:, 0]
    assert_allclose(mlp.forward(params, g.X)[1], raw, rtol=4 * np.finfo(float).eps, atol=0)


def _from_cell(net):
    if net.layout == "raw":
        return mlp.from_notebook_raw(tuple(np.array(a, dtype=float) for a in net.params))
    return mlp.from_torch(tuple(np.array(a, dtype=float) for a in net.params))


@pytest.mark.parametrize("net", golden.TRAINED_NETS, ids=lambda n: f"{n.gate}-{n.layout}-{n.cell.split(',')[0][:40]}")
def test_trained_nets_of_the_notebook_reproduce_their_printed_outputs(net):
    """Forward passes of the printed parameters give the printed σ outputs, through every layout.

    The parameters were printed rounded to 4 decimals (error ≤ 5e-5 each) and so were the
    outputs; first-order propagation bounds the output error by 5e-5 + 5e-5·Σ_θ |∂p/∂θ|
    (the Jacobian from central differences), doubled for the second-order term.
    """
    params = _from_cell(net)
    X = gates.gate(net.gate).X
    half_ulp = 0.5 * 10.0**-net.decimals
    flat = np.concatenate([p.ravel() for p in params])
    shapes = [p.shape for p in params]

    def unflatten(v):
        out, i = [], 0
        for s in shapes:
            n = int(np.prod(s))
            out.append(v[i : i + n].reshape(s))
            i += n
        return tuple(out)

    for row in range(len(X)):
        p = mlp.forward(params, X)[1][row]
        jac = central_gradient(lambda v, row=row: mlp.forward(unflatten(v), X)[1][row], flat)
        bound = 2 * (half_ulp + half_ulp * np.abs(jac).sum())
        assert abs(p - net.outputs[row]) <= bound, (
            f"{net.cell} row {row}: {p} vs printed {net.outputs[row]} (±{bound:.2g})"
        )
    # Every layout computes the same function from the same numbers.
    for to, back in [(mlp.to_folded, mlp.from_folded), (mlp.to_notebook_raw, mlp.from_notebook_raw)]:
        assert_array_equal(mlp.forward(back(to(params)), X)[1], mlp.forward(params, X)[1])


@settings(max_examples=40)
@given(sizes=st.sampled_from(SIZES), seed=st.integers(0, 2**32 - 1), scale=st.floats(0.1, 2.0))
def test_backprop_matches_central_differences(sizes, seed, scale):
    rng = np.random.default_rng(seed)
    params = tuple(scale * p for p in init.standard_normal(sizes, rng))
    X = rng.uniform(0, 1, (8, sizes[0]))
    y = rng.integers(0, 2, 8).astype(float)
    _, grads = mlp.loss_and_grads(params, X, y)
    for k, p in enumerate(params):

        def loss_of(v, k=k):
            trial = list(params)
            trial[k] = v
            return mlp.loss(tuple(trial), X, y)

        assert_allclose(
            grads[k],
            central_gradient(loss_of, p),
            rtol=FINITE_DIFFERENCE.rtol,
            atol=FINITE_DIFFERENCE.atol,
            err_msg=f"parameter {k} of {sizes}",
        )


def test_loss_is_summed_bce_with_logits():
    params = _params((2, 2, 1), seed=1)
    g = gates.gate("xor")
    z, p = mlp.forward(params, g.X)
    naive = -np.sum(g.y * np.log(p) + (1 - g.y) * np.log(1 - p))  # the notebook's −Σ log(yŷ + (1−y)(1−ŷ))
    # With every p in [0.4, 0.6] neither form cancels: σ, 1 − p and log cost each row a few ε of its O(1) term (with
    # exp, log, log1p within 1 ulp), and l ≈ 2.8 sums four rows: ≲ 12ε relative between the two; 32ε, times
    # LIBM_ULPS (4), the ulps the suite allows numpy's SIMD exp and log on other CPUs.
    assert np.all(np.abs(p - 0.5) <= 0.1)
    assert mlp.loss(params, g.X, g.y) == pytest.approx(naive, rel=32 * LIBM_ULPS * EPS, abs=0)
    assert_allclose(p, activations.sigmoid(z), rtol=0, atol=0)


def test_sgd_training_is_plain_gradient_descent():
    params = _params((2, 2, 1), seed=2)
    g = gates.gate("xor")
    run = mlp.train(params, g.X, g.y, mlp.SGD(0.5), 3)
    for t in range(3):
        loss, grads = mlp.loss_and_grads(run.at(t), g.X, g.y)
        assert run.losses[t] == loss
        for a, p, d in zip(run.at(t + 1), run.at(t), grads):
            assert_array_equal(a, p - 0.5 * d)


def test_adam_closed_form_first_steps():
    # Step 1: m = (1−β₁)g, v = (1−β₂)g², m̂ = g, v̂ = g² ⇒ θ₁ = θ₀ − η g/(|g| + ε).
    opt = mlp.Adam(lr=0.1, eps=1e-8)
    theta = (np.array([[1.0]]), np.array([0.0]))
    g1 = (np.array([[0.5]]), np.array([-2.0]))
    new, state = mlp.adam_update(theta, g1, mlp.adam_init(theta), opt)
    # 1 − β₁ and 1 − β₂ are exact (Sterbenz), g² and √v̂ = |g| exact (powers of 2), and both sides round |g| + ε
    # alike: the reference's η/(1 − β₁), its products with m and the quotient, against the closed form's quotient
    # and, for W, θ − … on each side: ≤ 4 half-ulps apart, 2ε.
    assert new[0][0, 0] == pytest.approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8), rel=2 * EPS, abs=0)
    assert new[1][0] == pytest.approx(0.0 + 0.1 * 2.0 / (2.0 + 1e-8), rel=2 * EPS, abs=0)
    # Step 2 with g₂: m̂ = (β₁(1−β₁)g₁ + (1−β₁)g₂)/(1−β₁²), likewise v̂; ε outside √v̂.
    g2 = (np.array([[0.25]]), np.array([1.0]))
    new2, _ = mlp.adam_update(new, g2, state, opt)
    b1, b2 = 0.9, 0.999
    for k in range(2):
        ga, gb = g1[k].ravel()[0], g2[k].ravel()[0]
        m_hat = (b1 * (1 - b1) * ga + (1 - b1) * gb) / (1 - b1**2)
        v_hat = (b2 * (1 - b2) * ga**2 + (1 - b2) * gb**2) / (1 - b2**2)
        # Each side rounds m̂ (×3.5 for the bias: −0.18 + 0.1 cancels), v̂, √, + ε, ÷ and × about a dozen times on an
        # update ≤ 0.21 of θ₂, plus θ₁ − …: ≲ 5ε apart; 16ε.
        expected = new[k].ravel()[0] - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
        assert new2[k].ravel()[0] == pytest.approx(expected, rel=16 * EPS, abs=0)


def test_adam_eps_is_added_after_bias_correction():
    # With a gradient of the order of ε the placement matters: torch's θ − η m̂/(√v̂ + ε)
    # gives η/2 at step 1 for g = ε; Keras's ε-before-correction would give η·g/(g + ε√(1−β₂)).
    opt = mlp.Adam(lr=1.0, eps=1e-8)
    theta = (np.array([[0.0]]), np.array([0.0]))
    g = (np.array([[1e-8]]), np.array([1e-8]))
    new, _ = mlp.adam_update(theta, g, mlp.adam_init(theta), opt)
    # −η·m̂/(√v̂ + ε) = −½ exactly in reals; m̂ (3 roundings), √v̂ (5, √ halving two) + ε (1, on a sum of two equal
    # terms: halved) and ÷: ≤ 7 half-ulps, 4ε.
    assert new[0][0, 0] == pytest.approx(-0.5, rel=4 * EPS, abs=0)


def test_training_from_the_notebooks_xor_solution_keeps_it_a_solution():
    g = gates.gate("xor")
    # The notebook's raw-autograd XOR net (In [26]) is a solution; training from it keeps it one.
    solved = _from_cell(golden.TRAINED_NETS[1])
    run = mlp.train(solved, g.X, g.y, mlp.SGD(0.5), 100)
    assert_array_equal((mlp.forward(run.final, g.X)[1] > 0.5).astype(float), g.y)
    assert run.losses[-1] < run.losses[0]
