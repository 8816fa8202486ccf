"""Initialisers (reference/init.py) as distributions: support, moments, determinism."""

import numpy as np
import pytest

from gatespec.reference import convergence, init

SIZES = (3, 5, 1)


def _pooled(name, draws=4000):
    """Every parameter of ``draws`` independent nets, per position; (draws, …) arrays."""
    rng = np.random.default_rng(1234)
    nets = [init.by_name(name, SIZES, rng) for _ in range(draws)]
    return [np.stack([n[k] for n in nets]) for k in range(len(nets[0]))]


def _assert_moments(samples, mean, var, label):
    # The sample mean of n iid draws has standard error √(var/n); 5 standard errors put a
    # false alarm below 1e-6 per check, while a wrong bound (×2) shifts var by 300%.  ≤, not <:
    # a zero law (biases) has zero standard error and its draws must be exactly 0.
    n = samples.size
    assert abs(samples.mean() - mean) <= 5 * np.sqrt(var / n), f"{label}: mean {samples.mean()}"
    var_se = (
        np.sqrt(2 * var**2 / n) if var else 0.0
    )  # normal approximation to var's standard error, conservative for uniform
    assert abs(samples.var() - var) <= 5 * var_se, f"{label}: variance {samples.var()} vs {var}"


def test_standard_normal():
    for k, s in enumerate(_pooled("standard-normal")):
        _assert_moments(s, 0.0, 1.0, f"param {k}")


def test_torch_linear_default_is_uniform_with_bound_one_over_sqrt_fan_in():
    params = _pooled("torch-linear")
    for k, s in enumerate(params):
        fan_in = SIZES[k // 2]
        bound = 1 / np.sqrt(fan_in)
        assert np.all(np.abs(s) <= bound), f"param {k} outside ±{bound}"
        _assert_moments(s, 0.0, bound**2 / 3, f"param {k}")  # Var U(−a, a) = a²/3


def test_keras_glorot_uniform_with_zero_bias():
    params = _pooled("keras-glorot")
    for k, s in enumerate(params):
        if k % 2:
            assert np.all(s == 0.0), "Keras Dense bias starts at zero"
            continue
        fan_in, fan_out = SIZES[k // 2], SIZES[k // 2 + 1]
        limit = np.sqrt(6 / (fan_in + fan_out))
        assert np.all(np.abs(s) <= limit)
        _assert_moments(s, 0.0, limit**2 / 3, f"kernel {k}")  # = 2/(fan_in + fan_out), Glorot's variance


@pytest.mark.parametrize("name", init.INITIALISERS)
def test_same_generator_state_gives_the_same_parameters(name):
    a = init.by_name(name, SIZES, np.random.default_rng(7))
    b = init.by_name(name, SIZES, np.random.default_rng(7))
    c = init.by_name(name, SIZES, np.random.default_rng(8))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert [p.shape for p in a] == [(3, 5), (5,), (5, 1), (1,)]
    assert all(p.dtype == np.float64 for p in a)
    if convergence.initial_law(name, 3, 5, bias=True).kind != "zero":  # zero biases are equal by law
        assert not np.array_equal(a[1], c[1])
    assert not np.array_equal(a[0], c[0])
