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


# ----------------------------------------------------------------------------- conformance table
#
# Both sides of a conformance comparison round: the implementation in the target dtype, the
# reference in float64 (negligible next to float32, comparable in float64).  The factors
# below are error *bounds* from operation counts, never fitted to measured errors; the
# measured ratio |a − d| / (atol + rtol·|d|) is recorded by ``checks.RECORDER`` so that the
# headroom of every factor is visible in the report.
#
# The generated cases are small: every sum has at most n = 16 terms (16 truth-table rows,
# or 8 hidden units + bias), the deepest net has two weight layers, and inputs are in {0, 1}.

# "value": logits, probabilities, losses.  A length-n dot product or sum has relative
# error ≤ γ_n ≈ n·ε with respect to Σ|terms| (Higham, Accuracy and Stability, §3.1) and a
# framework may order it differently (BLAS blocking, pairwise sums), so the two sides
# together contribute 2·16ε; exp/log1p/sigmoid from a different libm add ≤ 4 ulp per
# evaluation on each side, and a 2-layer net chains two such stages: 2·(16 + 4)ε ≈ 40ε,
# rounded up to 64ε.  atol = rtol: the outputs are O(1) (probabilities, losses of ≤ 16 rows,
# logits of the non-saturating cases) so an exact zero (a logit cancelling to 0) gets the
# same O(1)-scaled budget.
VALUE_FACTOR = 64

# "gradient": backprop runs the forward chain and then the same length of chain backwards
# (δ_l = δ_{l+1}W_{l+1}ᵀ ⊙ σ', then hᵀδ sums ≤ 16 rows), doubling the op count; σ(z) − y
# cancels when p ≈ y, so its error is absolute (ε relative to 1), which atol covers.
# 2 × 64ε, with another factor 2 for the cancelling subtraction and the product with σ':
# 256ε.
GRADIENT_FACTOR = 256

# "step": θ' = θ − η g with η ≤ 1 adds one rounding (ε|θ'|) to η·(the gradient's error),
# and Adam's m/(√v/√(1−β₂ᵗ) + ε) adds a division, a square root and a few products (each
# ≤ 1 ulp; √v halves v's relative error): 256ε + ~8ε, within the same 256ε order; kept
# equal to the gradient budget so that a step is never judged stricter than its gradient.
STEP_FACTOR = 256


def _table() -> dict[tuple[str, str], Tolerance]:
    rows: dict[tuple[str, str], Tolerance] = {}
    for dtype in EPS:
        rows["value", dtype] = _eps_times(dtype, VALUE_FACTOR, "≤ 16-term sums on both sides + libm, 2 layers")
        rows["gradient", dtype] = _eps_times(dtype, GRADIENT_FACTOR, "forward + backward chain, cancelling σ(z) − y")
        rows["step", dtype] = _eps_times(dtype, STEP_FACTOR, "one rounding on top of η·(gradient error), η ≤ 1")
        rows["trajectory", dtype] = trajectory_tolerance(dtype, 1)
    return rows


def trajectory_tolerance(dtype: str, steps: int, amplification: float = 1.0) -> Tolerance:
    """The budget for a ``steps``-step trajectory whose dynamics amplify a perturbation at most ``amplification``×.

    Growth model: step t commits a fresh error ≤ δ = STEP_FACTOR·ε (the "step" budget); the
    dynamics carry it to any later step multiplied by at most A, the largest factor by which
    the reference's own trajectory amplifies a relative 1e-9 perturbation of its start
    (measured per case and stated in the case).  The step errors are roundings of different
    numbers, uncorrelated in sign, so their sum grows like √steps (a random walk), not
    linearly: tol = A·δ·√steps.  A systematic bias (the same rounding every step) would grow
    linearly and overrun this budget, which is the behaviour the check is meant to expose.
    """
    if steps < 1:
        raise ValueError(f"steps: expected a positive count, got {steps}")
    factor = STEP_FACTOR * amplification * float(np.sqrt(steps))
    return _eps_times(dtype, factor, f"{STEP_FACTOR}ε per step × amplification {amplification:g} × √{steps} steps")


TOLERANCES: dict[tuple[str, str], Tolerance] = _table()

# Implementation-specific widenings, each with the reason it is needed; keyed by
# (implementation name, quantity, dtype).  Empty: no implementation needs one.  (tf-keras's
# Adam adds ε to √v before the bias correction, not after; that is a different algorithm,
# reported by the Adam step check as a deviation, not hidden behind a wider tolerance.)
OVERRIDES: dict[tuple[str, str, str], Tolerance] = {}


def tolerance(impl_name: str, quantity: str, dtype: str) -> Tolerance:
    """The tolerance for ``quantity`` in ``dtype``, an implementation's override first."""
    if (impl_name, quantity, dtype) in OVERRIDES:
        return OVERRIDES[impl_name, quantity, dtype]
    try:
        return TOLERANCES[quantity, dtype]
    except KeyError:
        known = sorted({q for q, _ in TOLERANCES})
        raise ValueError(f"quantity/dtype: no tolerance for ({quantity!r}, {dtype!r}); quantities: {known}") from None
