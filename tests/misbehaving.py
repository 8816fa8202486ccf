"""Implementations that misbehave rather than compute wrongly: the suite must fail each one's test alone.

Each is the numpy implementation with ONE operation, ``mlp_forward``, broken the way real code
breaks: it raises, returns the wrong shape, returns the wrong dtype, returns NaN, or never
returns.  ``tests/test_misbehaving.py`` runs the conformance suite on them and demands a clear
failure of that operation's tests, every other test of the run still passing, and the report.
"""

from __future__ import annotations

import numpy as np

from gatespec.conformance.adapters.numpy_impl import handwritten as base

Numpy = base.NumpyImplementation


class Raises(Numpy):
    name = "misbehaving-raises"

    def mlp_forward(self, params, X, target):
        # As a framework reports a layout mix-up: an exception from inside the operation.
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (4x2 and 1x2)")


class WrongShape(Numpy):
    name = "misbehaving-wrong-shape"

    def mlp_forward(self, params, X, target):
        z, p = super().mlp_forward(params, X, target)
        return z[:, None], p[:, None]  # the output layer's (N, 1), never flattened to (N,)


class WrongDtype(Numpy):
    name = "misbehaving-wrong-dtype"

    def mlp_forward(self, params, X, target):
        # The target's cast forgotten: float64 in, float64 out, whatever the target dtype.
        return base._mlp_forward(params, X)


class ReturnsNaN(Numpy):
    name = "misbehaving-nan"

    def mlp_forward(self, params, X, target):
        z, p = super().mlp_forward(params, X, target)
        out = np.full_like(p, np.nan)  # NaN-initialised so that an unfilled row shows...
        for i in range(len(p) - 1):  # ...and the row loop stops one short
            out[i] = p[i]
        return z, out


class Hangs(Numpy):
    name = "misbehaving-hangs"

    def mlp_forward(self, params, X, target):
        z, p = super().mlp_forward(params, X, target)
        # A loop "until the output settles" whose condition never becomes false.
        while np.any(p >= 0):
            p = np.maximum(p, 0)
        return z, p
