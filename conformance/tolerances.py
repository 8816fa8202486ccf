"""Every tolerance gatespec uses, in one table keyed by quantity and dtype, each with its derivation.

A comparison passes when |actual − desired| ≤ atol + rtol·|desired| elementwise (numpy's
``assert_allclose`` rule).  Both are always given: rtol alone fails an exact zero (a saturated
gradient) on any rounding, and atol alone ignores scale.

ε is the dtype's machine epsilon: ε₃₂ = 2⁻²³ ≈ 1.19e-7, ε₆₄ = 2⁻⁵² ≈ 2.22e-16.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = {"float32": float(np.finfo(np.float32).eps), "float64": float(np.finfo(np.float64).eps)}


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    why: str

    def __str__(self) -> str:
        return f"rtol={self.rtol:.3g}, atol={self.atol:.3g}"


def _eps_times(dtype: str, factor: float, why: str) -> Tolerance:
    e = EPS[dtype]
    return Tolerance(factor * e, factor * e, f"{factor:g}·ε({dtype}): {why}")


# Central differences of a float64 loss with step h = ε₆₄^{1/3}·max(1, |θ|) ≈ 6.1e-6 err by
# h²·|l'''|/6 (truncation) + ε₆₄·|l|/h (rounding).  For the generated cases (|θ| ≤ 4, inputs
# in [0, 1], ≤ 16 rows, ≤ 3 layers) |l'''| stays below 10³, so truncation ≤ 6.2e-9 and
# rounding ≤ 3.7e-11·|l|: 1e-7 absolute and relative leaves a factor 10 of headroom over the
# worst case, while a wrong gradient (sign, missing factor, stale activation) is off by O(1).
FINITE_DIFFERENCE = Tolerance(1e-7, 1e-7, "central differences, h = ε^{1/3}: truncation h²|l'''|/6 ≤ 6e-9")


def finite_difference_step(theta: np.ndarray) -> np.ndarray:
    """h = ε^{1/3}·max(1, |θ|): balances truncation (∝ h²) against rounding (∝ ε/h)."""
    return np.cbrt(EPS["float64"]) * np.maximum(1.0, np.abs(theta))


# Reproducing a number the notebook printed with k decimals: it is the true value rounded to
# k places, so the reference may differ by at most half a unit in the last place, plus the
# reference's own float64 rounding (negligible at ≥ 1e-10).
def printed(decimals: int) -> Tolerance:
    return Tolerance(
        0.0 + 1e-12, 0.5 * 10.0**-decimals + 1e-12, f"printed to {decimals} decimals: ½ unit in the last place"
    )


# Numbers the notebook computed in float32 and printed in full (repr of a float32): each is
# the float32 computation's result, whose error against the float64 reference is what float32
# arithmetic accumulates along the way.  A 14-step gradient-descent trace with four rows does
# a few dozen roundings per step, each ≤ ε₃₂/2 relative and not amplified (the loss is
# well-conditioned there); 128·ε₃₂ ≈ 1.5e-5 bounds that sum with room, and the weights
# themselves were printed as float32 (½ ulp, inside the same budget).
FLOAT32_TRACE = _eps_times("float32", 128, "a short float32 trace recomputed in float64")
