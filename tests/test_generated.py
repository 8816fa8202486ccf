"""The generated cases are what generated.py promises: a pairwise cover, the stated factor ranges, stable ids."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from gatespec.conformance.spec import cases as C
from gatespec.conformance.spec import generated as G
from gatespec.reference import mlp


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairwise_covers_every_allowed_pair(seed):
    factors = {"a": (1, 2, 3), "b": ("x", "y"), "c": (0.1, 0.2, 0.3, 0.4), "d": (True, False)}

    def allowed(row):
        return not (row.get("a") == 1 and row.get("b") == "x")

    rows = G.pairwise(factors, seed, allowed)
    assert all(allowed(r) for r in rows)
    every = {
        (f, i, g, j)
        for f, g in itertools.combinations(factors, 2)
        for i, j in itertools.product(range(len(factors[f])), range(len(factors[g])))
        if not (f == "a" and g == "b" and i == 0 and j == 0)
    }
    assert every <= G.covered_pairs(factors, rows)
    # At least 12: a row holds one pair of levels of a and c, and there are 3·4 of them.  At most one row per allowed
    # pair (43 of them; each row starts from one not yet covered), so fewer than the cross product's 3·2·4·2 = 48.
    assert 3 * 4 <= len(rows) <= len(every) < 48
    assert rows == G.pairwise(factors, seed, allowed)  # deterministic


def _factor_pairs(cases, keys):
    return {
        (a, va, b, vb)
        for c in cases
        for (a, va), (b, vb) in itertools.combinations([(k, G._factors_of(c)[k]) for k in keys], 2)
    }


def test_value_cases_cover_depth_inputs_and_scale_pairwise():
    got = _factor_pairs(G.STRUCTURE, ("depth", "inputs", "scale"))
    for (a, la), (b, lb) in itertools.combinations([("depth", G.DEPTHS), ("inputs", G.INPUTS), ("scale", G.SCALES)], 2):
        for va, vb in itertools.product(la, lb):
            if {a: va, b: vb} == {"depth": 1, "inputs": 1}:
                continue  # 1 → 1 is square everywhere: left out on purpose
            assert (a, va, b, vb) in got, (a, va, b, vb)


def test_adam_runs_cover_each_hyperparameter_against_depth():
    cases = [c for c in G.ADAM_TRAINING if not c.id.endswith("-defaults")]
    got = _factor_pairs(cases, ("depth", "lr", "beta1", "beta2", "eps"))
    hyper = (("lr", G.ADAM_LRS), ("beta1", G.ADAM_BETA1S), ("beta2", G.ADAM_BETA2S), ("eps", G.ADAM_EPSILONS))
    for name, levels in hyper:
        for depth, level in itertools.product(G.DEPTHS, levels):
            assert ("depth", depth, name, level) in got


def test_ids_are_unique_and_name_their_factors():
    everything = G.STRUCTURE + G.TRAINING + G.LOGISTIC
    ids = [c.id for c in everything]
    assert len(set(ids)) == len(ids)
    for c in G.STRUCTURE:
        rows = "" if c.rows == "table" else f"-x-{c.rows}"  # inputs that are not 0/1 name their kind last
        assert c.id.startswith(c.gate_name) and c.id.endswith(c.scale + rows)
        assert "x".join(map(str, mlp.layer_sizes(c.params))) in c.id


def test_every_net_tells_fan_in_from_fan_out():
    for c in G.STRUCTURE + G.TRAINING:
        sizes = mlp.layer_sizes(c.params)
        assert any(a != b for a, b in itertools.pairwise(sizes)), c.id
        assert 1 <= len(sizes) - 1 <= 4 and max(sizes[1:-1], default=2) <= 8, c.id
        if len(sizes) > 2:
            assert max(sizes[1:-1]) >= 2, c.id  # a hidden layer whose units can be permuted


def test_gates_span_one_to_six_inputs():
    assert {c.gate.n_inputs for c in G.STRUCTURE} == set(range(1, 7))
    assert {c.gate.n_inputs for c in G.LOGISTIC} == set(range(1, 7))


def test_saturating_cases_reach_a_thousand_on_right_and_wrong_rows():
    assert G.SATURATING
    for c in G.SATURATING:
        z = mlp.forward(c.params, c.gate.X)[0]
        assert np.min(np.abs(z)) >= 1000 * (1 - 1e-12), c.id
        right = (z > 0) == (c.gate.y == 1)
        assert right.any() and (~right).any(), c.id


def test_step_sizes_are_not_powers_of_two_and_span_the_range():
    rates = {c.optimizer.lr for c in G.SGD_TRAINING} | {c.eta for c in G.LOGISTIC}
    assert all(not math.log2(r).is_integer() for r in rates)
    assert min(rates) <= 1e-3 and max(rates) >= 1.5
    # Each rounds in float32: a float64 run that rounds it is visible.
    assert all(float(np.float32(r)) != r for r in rates)


def test_core_takes_every_level_of_every_factor():
    for group in (G.STRUCTURE, G.SGD_TRAINING, G.LOGISTIC):
        levels = {kv for c in group for kv in G._factors_of(c).items()}
        core = {kv for c in group if c in G.CORE for kv in G._factors_of(c).items()}
        assert levels == core
    assert all(c in G.CORE for c in G.ADAM_TRAINING if c.id.endswith("-defaults"))


def test_inputs_that_are_not_zero_or_one_reach_every_kind_of_check_on_shapes_already_compiled():
    """Each list holds cases on scaled and on real-valued rows, in CORE, each on a shape a table case of CORE has."""
    for cases in (G.STRUCTURE, G.SGD_TRAINING, G.ADAM_TRAINING, G.LOGISTIC):
        assert {c.rows for c in cases} == set(C.ROWS), [c.id for c in cases]
    core_shapes = {G._shape_of(c) for c in G.CORE if c.rows == "table"}
    for c in G.OTHER_ROWS:
        assert c in G.CORE and G._shape_of(c) in core_shapes, c.id


def test_rows_that_are_not_zero_or_one_are_not_float32_numbers():
    """The point of them: X rounded to float32 moves (a table's 0 and 1 would not), labels stay the gate's."""
    for name in ("xor", "majority-3", "parity-6"):
        for rows in ("scaled", "real"):
            data = C.rows_of(name, rows)
            assert np.all(data.X.astype(np.float32).astype(np.float64) != data.X), (name, rows)
            np.testing.assert_array_equal(data.y, C.rows_of(name).y)
