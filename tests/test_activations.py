"""Nonlinearities (reference/activations.py): closed forms, symmetry, no overflow."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gatespec.reference import activations as act

EPS = np.finfo(np.float64).eps
Z = np.array([-1000.0, -745.0, -40.0, -3.0, -1e-8, 0.0, 1e-8, 3.0, 40.0, 745.0, 1000.0])


def test_heaviside_is_zero_at_zero():
    assert_array_equal(act.heaviside(np.array([-1.0, -0.0, 0.0, 1e-300, 2.0])), [0, 0, 0, 1, 1])


def test_sigmoid_closed_forms():
    # σ(0) = ½, σ(log 3) = ¾, σ(−log 3) = ¼: exact rationals, so a few ulps at most.
    assert_allclose(act.sigmoid(np.array([0.0, np.log(3.0), -np.log(3.0)])), [0.5, 0.75, 0.25], rtol=4 * EPS, atol=0)


def test_sigmoid_symmetry_and_range():
    s, s_neg = act.sigmoid(Z), act.sigmoid(-Z)
    assert_allclose(s_neg, 1 - s, rtol=0, atol=2 * EPS)
    assert np.all((s >= 0) & (s <= 1))
    # σ'(z) = σ(z)σ(−z) keeps relative precision in the tail where 1 − σ(z) rounds to 0.
    assert act.sigmoid_grad(np.array([40.0]))[0] == pytest.approx(np.exp(-40.0), rel=1e-12)


def test_no_overflow_and_no_warning_at_large_magnitude():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = [f(Z) for f in (act.sigmoid, act.sigmoid_grad, act.softplus, act.log_sigmoid)]
        values.append(act.bce_with_logits(Z, np.ones_like(Z)))
    for v in values:
        assert np.all(np.isfinite(v))
    # Asymptotes: softplus(z) → z, log σ(−z) → −z for z → ∞.
    assert act.softplus(np.array([1000.0]))[0] == 1000.0
    assert act.log_sigmoid(np.array([-1000.0]))[0] == -1000.0


def test_log_sigmoid_and_softplus_identities():
    z = np.linspace(-30, 30, 61)
    assert_allclose(act.log_sigmoid(z), np.log(act.sigmoid(z)), rtol=1e-14, atol=1e-14)
    assert_allclose(act.softplus(z) - act.softplus(-z), z, rtol=1e-14, atol=1e-13)


def test_bce_with_logits_is_the_cross_entropy_of_sigma():
    z = np.linspace(-20, 20, 41)
    for y in (0.0, 1.0):
        p = act.sigmoid(z)
        naive = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        assert_allclose(act.bce_with_logits(z, np.full_like(z, y)), naive, rtol=1e-8, atol=1e-12)
