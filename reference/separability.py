"""Linear separability of a labelled point set, decided exactly by Gordan's alternative.

For rows a_i = s_i·x'_i (x' with its bias column, s_i = +1 for label 1 and −1 for label 0)
exactly one of these holds (Gordan, 1873):

    (P)  there is w with A w > 0                       — the set is linearly separable;
    (D)  there is λ ≥ 0, Σλ = 1, with Aᵀλ = 0           — a convex combination of the
                                                          positives equals one of the negatives.

Phase 1 of the simplex method on (D) decides which: the least total infeasibility is 0
iff (D) holds.  When it is positive, the optimal dual vector u = (u_w, u_1) of phase 1
satisfies A(−u_w) ≥ u_1 > 0, so w = −u_w is a separating weight vector: the answer comes
with a certificate either way, and both certificates are checked before returning.

Data here are 0/±1 integers of at most 2^16 rows and 17 columns, so the tableau stays
well conditioned; pivots follow Dantzig's rule, handing over to Bland's (which cannot cycle)
when a run of degenerate pivots makes no progress.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate

# Reduced costs and ratios below this are zero: entries are small integers and their ratios,
# so anything smaller than this is rounding, never structure.
_ZERO = 1e-9
# Dantzig's steepest-cost rule is fast but can cycle on degenerate pivots (this LP is highly
# degenerate: its right-hand side is almost all zeros); after this many pivots in a row
# that make no progress, Bland's rule takes over, which cannot cycle.
_BLAND_AFTER = 50


@dataclass(frozen=True)
class Separability:
    """The verdict with its certificate: a separating ``w`` or the convex weights ``lam``."""

    separable: bool
    w: np.ndarray | None
    lam: np.ndarray | None


def separability(Xb: np.ndarray, y: np.ndarray) -> Separability:
    """Decide whether g(Xb·w) = y is solvable for some w, where Xb carries the bias column.

    Returns a separating w (with s_i·(x'_i·w) ≥ 1 after scaling) or convex weights λ over the
    rows with Σ_i λ_i s_i x'_i = 0.
    """
    Xb = _validate.float_array("Xb", Xb, 2)
    y = _validate.labels("y", y, Xb.shape[0])
    s = 2.0 * y - 1.0
    A = s[:, None] * Xb  # (m, d)
    m, d = A.shape
    if np.all(y == y[0]):
        # One class only: the bias alone separates it.
        w = np.zeros(d)
        w[-1] = s[0]
        return _checked(A, Separability(True, w, None))

    # Standard-form phase 1: variables (λ ∈ R^m, artificials a ∈ R^{d+1}), constraints
    # [Aᵀ; 1ᵀ] λ + a = (0, …, 0, 1), minimise Σ a.
    M = np.vstack([A.T, np.ones((1, m))])  # (d+1, m)
    rhs = np.zeros(d + 1)
    rhs[-1] = 1.0
    n_rows = d + 1
    T = np.hstack([M, np.eye(n_rows)])  # columns: λ then artificials
    cost = np.concatenate([np.zeros(m), np.ones(n_rows)])
    basis = np.arange(m, m + n_rows)
    Binv = np.eye(n_rows)
    x_B = rhs.copy()
    stalled = 0
    for _ in range(50 * (m + n_rows)):
        u = cost[basis] @ Binv  # simplex multipliers
        reduced = cost - u @ T
        candidates = np.flatnonzero(reduced < -_ZERO)
        if candidates.size == 0:
            break
        if stalled < _BLAND_AFTER:
            enter = candidates[np.argmin(reduced[candidates])]  # Dantzig: steepest reduced cost
        else:
            enter = candidates[0]  # Bland: lowest index; cannot cycle
        col = Binv @ T[:, enter]
        positive = col > _ZERO
        if not np.any(positive):  # cannot happen: phase 1 is bounded below by 0
            raise RuntimeError("phase-1 simplex unbounded; Gordan LP is malformed")
        ratios = np.full(n_rows, np.inf)
        ratios[positive] = x_B[positive] / col[positive]
        best = ratios.min()
        ties = np.flatnonzero(ratios <= best + _ZERO)
        leave = ties[np.argmin(basis[ties])]  # lowest basic index among ties (Bland)
        stalled = stalled + 1 if best <= _ZERO else 0
        pivot = col[leave]
        x_B = x_B - best * col
        x_B[leave] = best
        E = -col[:, None] / pivot
        E[leave] = 0.0
        Binv = Binv + E @ Binv[leave][None, :]
        Binv[leave] /= pivot
        basis[leave] = enter
    else:  # pragma: no cover - Bland's rule terminates
        raise RuntimeError("phase-1 simplex did not terminate")

    infeasibility = float(cost[basis] @ x_B)
    if infeasibility <= _ZERO:
        lam = np.zeros(m)
        in_lambda = basis < m
        lam[basis[in_lambda]] = x_B[in_lambda]
        return _checked(A, Separability(False, None, lam))
    u = cost[basis] @ Binv
    w = -u[:d]
    return _checked(A, Separability(True, w / np.min(A @ w), None))


def _checked(A: np.ndarray, result: Separability) -> Separability:
    """Refuse to return a certificate that does not certify."""
    if result.separable:
        if not np.all(A @ result.w > 0):
            raise RuntimeError("separating certificate fails A w > 0")
    else:
        lam = result.lam
        if np.any(lam < -_ZERO) or abs(lam.sum() - 1.0) > 1e-9 or np.max(np.abs(A.T @ lam)) > 1e-9:
            raise RuntimeError("Gordan certificate fails λ ≥ 0, Σλ = 1, Aᵀλ = 0")
    return result
