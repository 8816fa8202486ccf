"""Truth tables and linear separability (reference/gates.py, reference/separability.py)."""

from itertools import product

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gatespec.reference import gates
from gatespec.reference.separability import separability

# The notebook's opening table (rows (0,0), (0,1), (1,0), (1,1)).
NOTEBOOK_TABLE = {"and": (0, 0, 0, 1), "or": (0, 1, 1, 1), "nand": (1, 1, 1, 0), "xor": (0, 1, 1, 0)}


@pytest.mark.parametrize("name", sorted(NOTEBOOK_TABLE))
def test_two_input_gates_match_the_notebook_table(name):
    g = gates.gate(name)
    assert_array_equal(g.X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert_array_equal(g.y, NOTEBOOK_TABLE[name])


def test_the_sixteen_two_input_functions_are_all_distinct_and_complete():
    columns = {tuple(gates.gate(n).y) for n in gates.two_input_gate_names()}
    assert columns == set(product((0.0, 1.0), repeat=4))


def test_not_gate():
    g = gates.gate("not")
    assert_array_equal(g.X, [[0], [1]])
    assert_array_equal(g.y, [1, 0])


@pytest.mark.parametrize("n", [1, 3, 7, 16])
@pytest.mark.parametrize("kind", ["and", "or", "parity", "majority"])
def test_n_input_gates_follow_their_definition(kind, n):
    g = gates.gate(f"{kind}-{n}")
    assert g.X.shape == (2**n, n) and g.y.shape == (2**n,)
    ones = g.X.sum(axis=1)
    expected = {"and": ones == n, "or": ones > 0, "parity": ones % 2 == 1, "majority": ones > n / 2}[kind]
    assert_array_equal(g.y, expected.astype(float))
    # Row i is i in binary with x1 the most significant digit.
    assert_array_equal(g.X @ (2.0 ** np.arange(n - 1, -1, -1)), np.arange(2**n))


def test_gate_data_is_read_only():
    g = gates.gate("and")
    with pytest.raises(ValueError, match="read-only"):
        g.y[0] = 1.0


def test_with_bias_appends_a_column_of_ones():
    assert_array_equal(gates.with_bias(gates.gate("nand").X), [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])


def test_two_input_separability_is_all_but_xor_and_xnor():
    # Minsky & Papert: of the 16 two-input functions exactly XOR and XNOR are not threshold functions.
    verdicts = {n: gates.gate(n).linearly_separable for n in gates.two_input_gate_names()}
    assert {n for n, v in verdicts.items() if not v} == {"xor", "xnor"}


@pytest.mark.parametrize("n, expected", [(1, 4), (2, 14), (3, 104)])
def test_number_of_threshold_functions_matches_the_known_count(n, expected):
    # The number of linearly separable Boolean functions of n inputs is 4, 14, 104, 1882, …
    # (OEIS A000609; Muroga 1971).  Enumerating every function checks the decision procedure
    # far beyond the named gates.
    Xb = gates.with_bias(gates.all_inputs(n))
    count = sum(separability(Xb, np.array(y, dtype=float)).separable for y in product((0, 1), repeat=2**n))
    assert count == expected


@pytest.mark.parametrize("n", [2, 5, 16])
def test_n_input_separability(n):
    for kind in ("and", "or", "majority"):
        assert gates.gate(f"{kind}-{n}").linearly_separable, kind
    # Parity of n ≥ 2 inputs is not a threshold function: uniform weights on all rows are a
    # Gordan certificate (both classes have centroid (½, …, ½, 1)).
    assert not gates.gate(f"parity-{n}").linearly_separable


@pytest.mark.parametrize("name", ["and", "nor", "x1-and-not-x2", "majority-3", "xor", "parity-4"])
def test_certificates_certify(name):
    g = gates.gate(name)
    s = 2 * g.y - 1
    cert = g.separability
    if cert.separable:
        # w = w₀/min(A w₀) with A = s·Xb: the smallest margin is 1 up to the two d-term dot products' rounding
        # (γ_d Σ|terms| each, d = columns) and w₀/m's (½ ulp a weight): (d + 1)·ε·max_i Σ_j |A_ij w_j| bounds it.
        d = g.Xb.shape[1]
        slack = (d + 1) * np.finfo(np.float64).eps * np.max(np.abs(g.Xb) @ np.abs(cert.w))
        assert np.all(s * (g.Xb @ cert.w) >= 1 - slack)
    else:
        # λ is a vertex of the Gordan LP reached in a few dozen pivots on a 0/±1 tableau (here ¼, ⅛ and ⅜, exact);
        # 1e-12 ≈ 4500ε allows a rounding per pivot and is 1000× tighter than separability's own check (1e-9).
        assert np.all(cert.lam >= 0) and np.isclose(cert.lam.sum(), 1, rtol=0, atol=1e-12)
        assert np.allclose((s * cert.lam) @ g.Xb, 0, atol=1e-12)


@pytest.mark.parametrize("bad", ["xand", "parity-0", "parity-17", "and-x", ""])
def test_unknown_gate_names_are_refused_with_the_list(bad):
    with pytest.raises(ValueError, match="name:"):
        gates.gate(bad)
