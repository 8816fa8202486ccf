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


@dataclass(frozen=True, eq=False)
class Tolerance:
    """rtol and atol; atol may be an array of the compared quantity's shape (a bound per element)."""

    rtol: float
    atol: float | np.ndarray
    why: str

    def at(self, t: int) -> Tolerance:
        """Step t of a trajectory's budget (atol indexed by step first); a scalar atol serves every step."""
        atol = np.asarray(self.atol)
        return Tolerance(self.rtol, atol[t] if atol.ndim else self.atol, self.why)

    def __str__(self) -> str:
        atol = np.asarray(self.atol)
        if atol.ndim == 0:
            return f"rtol={self.rtol:.3g}, atol={float(atol):.3g}"
        return f"rtol={self.rtol:.3g}, atol elementwise in [{atol.min():.3g}, {atol.max():.3g}]"


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
# measured ratio |a − d| / (atol + rtol·|d|) is recorded for the report (``checks.recording``) so that the
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
    return rows


TOLERANCES: dict[tuple[str, str], Tolerance] = _table()

# Implementation-specific widenings, each with the reason it is needed; keyed by
# (implementation name, quantity, dtype).  Empty: no implementation needs one.  (tf-keras's
# Adam adds ε to √v before the bias correction, not after; that is a different algorithm,
# reported by the Adam step check as a deviation, not hidden behind a wider tolerance.)
OVERRIDES: dict[tuple[str, str, str], Tolerance] = {}


def tolerance(
    impl_name: str,
    quantity: str,
    dtype: str,
    *,
    bound: float | np.ndarray | None = None,
    spread: np.ndarray | None = None,
) -> Tolerance:
    """The one door to every conformance budget: ``quantity`` ("value", "gradient", "step",
    "trajectory") in ``dtype`` for ``impl_name``.

    In order: the implementation's entry in :data:`OVERRIDES`; else, given ``bound`` (E in units
    of ε, from :func:`mlp_error_bounds`), the budget SIDES·ε·E with rtol LIBM_ULPS·ε; else, given
    ``spread`` (σ_t of :func:`trajectory_spread`), SIGMAS·√2·σ_t with the same rtol; else the
    fixed table.  A trajectory has no fixed entry: its budget needs its spread.
    """
    if (impl_name, quantity, dtype) in OVERRIDES:
        return OVERRIDES[impl_name, quantity, dtype]
    if bound is not None and spread is not None:
        raise ValueError("tolerance: give a bound or a spread, not both")
    rtol = LIBM_ULPS * EPS[dtype]
    if bound is not None:
        atol = SIDES * EPS[dtype] * np.asarray(bound, dtype=np.float64)
        return Tolerance(rtol, atol, f"{SIDES:g}·ε({dtype})·E, E from a running error analysis of the case")
    if spread is not None:
        why = f"{SIGMAS:g}·√2·σ_t, σ_t the spread of {SAMPLES} reference runs perturbed by ε({dtype}) roundings"
        return Tolerance(rtol, SIGMAS * SIDES_RMS * np.asarray(spread, dtype=np.float64), why)
    try:
        return TOLERANCES[quantity, dtype]
    except KeyError:
        known = sorted({q for q, _ in TOLERANCES})
        raise ValueError(
            f"quantity/dtype: no fixed tolerance for ({quantity!r}, {dtype!r}); quantities: {known} "
            "(a trajectory's budget takes its spread)"
        ) from None


# ----------------------------------------------------------------------------- derived, per case
#
# The fixed factors above assume O(1) values in ≤ 2-layer nets.  The generated cases reach four
# layers, eight units, 64 rows and logits beyond |z| = 1000, where a sum of large terms can cancel
# to a small result and a fixed atol would fail a correct implementation.  So the MLP and
# logistic checks take their budgets from a running error analysis of the case itself
# (Higham, Accuracy and Stability of Numerical Algorithms, §3.1 and §3.3): every quantity gets
# a first-order bound E, in units of the working precision's ε, on how far a correct
# implementation's value may lie from the exact one, built from the reference's own float64
# values.  Rules, each an upper bound:
#
#   - a sum or dot product of n terms: |fl(s) − s| ≤ γ_n Σ|terms| ≈ n ε Σ|terms| (any order,
#     any blocking); a layer a = hW + b sums fan_in products and the bias, and the float32
#     cast of W and b adds ½ ε|W| per term: n = fan_in + 2;
#   - an input error propagates by the derivative: E(a) ⊇ E(h)|W|, E(σ(a)) ⊇ σ'(a)E(a);
#   - σ, exp, log1p from any libm or any formula (1/(1+e^{−z}), ½(1+tanh(z/2)), autodiff of
#     either): ≤ LIBM_ULPS absolute (σ ≤ 1, and the tanh form's cancellation is absolute);
#   - the loss ℓ = softplus(z) − yz: ≤ LIBM_ULPS·(softplus(z) + |yz|) for any stable form, plus
#     |σ(z) − y| E(z) from its input, and the N-row sum;
#   - backprop δ_{l−1} = (δ_l W_lᵀ) ⊙ σ'(a): the product's sum (fan_out + 1 terms), δ's own
#     error through |W|, and σ' evaluated from h or from a: E(σ') ≤ E(h) + |σ''(a)|E(a) + 4.
#
# Both sides round, the implementation in its dtype and the reference in float64: the budget is
# SIDES · ε · E, with SIDES = 2 (in float32 the reference's share is ε₆₄/ε₃₂ ≈ 1e-9 of it, in
# float64 as large as the implementation's).  rtol = LIBM_ULPS · ε on top covers the final
# rounding of each result.  These are worst-case bounds (γ_n = nε where √n ε is typical), so a
# correct implementation lands far inside them; a wrong formula, a dropped term or a
# transposed weight is off by O(|value|) and far outside.

LIBM_ULPS = 4.0
SIDES = 2.0


@dataclass(frozen=True, eq=False)
class ErrorBounds:
    """First-order bounds, in units of ε, on the error of every MLP quantity at one point θ.

    ``z``, ``p``: (N,); ``loss``: a float; ``grads``: the canonical layout (W₁, b₁, …).
    """

    z: np.ndarray
    p: np.ndarray
    loss: float
    grads: tuple[np.ndarray, ...]


def _sigma(a: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def mlp_error_bounds(params, X: np.ndarray, y: np.ndarray) -> ErrorBounds:
    """The running error analysis above for the sigmoid MLP ``params`` on (X, y), in units of ε."""
    n_layers = len(params) // 2
    h, E_h = X, np.zeros_like(X)
    hs, E_hs, slopes, E_as, curvatures = [], [], [], [], []
    for layer in range(n_layers):
        W, b = params[2 * layer], params[2 * layer + 1]
        aW = np.abs(W)
        a = h @ W + b
        E_a = (W.shape[0] + 2) * (np.abs(h) @ aW + np.abs(b)) + E_h @ aW
        hs.append(h)
        E_hs.append(E_h)
        if layer == n_layers - 1:
            z, E_z = a[:, 0], E_a[:, 0]
            break
        s = _sigma(a)
        slope = s * _sigma(-a)  # σ'(a)
        slopes.append(slope)
        E_as.append(E_a)
        curvatures.append(slope * np.abs(1.0 - 2.0 * s))  # |σ''(a)|
        h, E_h = s, slope * E_a + LIBM_ULPS
    p = _sigma(z)
    slope_z = p * _sigma(-z)
    E_p = slope_z * E_z + LIBM_ULPS
    terms = np.logaddexp(0.0, z) - y * z
    E_rows = np.abs(p - y) * E_z + LIBM_ULPS * (np.logaddexp(0.0, z) + np.abs(y * z))
    E_loss = float(np.sum(E_rows) + len(y) * np.sum(np.abs(terms)))
    delta = (p - y)[:, None]
    E_delta = (slope_z * E_z + LIBM_ULPS)[:, None]
    grads: list[np.ndarray] = []
    N = X.shape[0]
    for layer in range(n_layers - 1, -1, -1):
        h, E_h = hs[layer], E_hs[layer]
        ad = np.abs(delta)
        E_gW = N * (np.abs(h).T @ ad) + np.abs(h).T @ E_delta + E_h.T @ ad
        E_gb = N * ad.sum(axis=0) + E_delta.sum(axis=0)
        grads[:0] = [E_gW, E_gb]
        if layer:
            W = params[2 * layer]
            aW = np.abs(W)
            back = ad @ aW.T
            E_back = (W.shape[1] + 1) * back + E_delta @ aW.T
            slope, E_a = slopes[layer - 1], E_as[layer - 1]
            E_slope = E_h + curvatures[layer - 1] * E_a + LIBM_ULPS
            delta = (delta @ W.T) * slope
            E_delta = E_back * slope + back * E_slope + back * slope
    return ErrorBounds(E_z, E_p, E_loss, tuple(grads))


# ----------------------------------------------------------------------------- trajectories
#
# A trajectory's error is every step's rounding carried forward by the training dynamics, which
# may damp it (a converging run) or amplify it (leaving a plateau, Adam dividing by a small √v).
# The budget propagates the per-step bounds through the reference's own dynamics: SAMPLES
# copies of the float64 reference run are perturbed at every step by independent uniform noise
# of ε(dtype)·(that step's bound) — on θ₀ (the cast), on each gradient (mlp_error_bounds at θ_t),
# on the update's own roundings (θ', and Adam's m, v and quotient), and once per copy on lr, β₁,
# β₂ and ε (the dtype may round them: a *systematic* change that accumulates linearly, which the
# per-copy draw reproduces).  The noise has the size of the dtype's real rounding, so whatever
# the dynamics do with it — damp it, amplify it, saturate it (Adam's m/(√v + ε) when g is far
# below ε) — the copies do too.  Their root mean square deviation from the unperturbed run is the
# spread σ_t of a correct implementation's error at every step and parameter, and the budget is
#
#     SIGMAS · SIDES_RMS · max_{t' ≤ t} σ_{t'}        (atol, elementwise; rtol = LIBM_ULPS·ε)
#
# with SIGMAS = 6 (the per-step noise is drawn up to its worst-case bound, itself several
# times the typical rounding, so six of its standard deviations leave a correct run no
# realistic way out), SIDES_RMS = √2 (two runs' independent errors: the implementation's and,
# in float64, the reference's), and the running maximum over t so that a component whose
# sensitivity crosses zero is not held to zero there.  A systematic change of an update rule
# (a dropped bias correction, a decay not applied, a step size rounded in a float64 run) moves
# the run by O(η|g|) per step, far beyond the spread of rounding.

SAMPLES = 16
SIGMAS = 6.0
SIDES_RMS = float(np.sqrt(2.0))
TRAJECTORY_SEED = 20261202
# Roundings of one update beyond the gradient's: SGD θ − η·g (the product, the difference);
# Adam m (2), v (3), the bias-corrected quotient m̂/(√v̂ + ε) (8: two corrections, √, +, ÷, ×η).
ADAM_M_ULPS, ADAM_V_ULPS, ADAM_STEP_ULPS = 2.0, 3.0, 8.0


@dataclass(frozen=True, eq=False)
class TrajectorySpread:
    """σ_t for ``dtype``: ``params[k]`` of shape (steps + 1, *θ_k.shape), ``losses`` (steps,); running maxima over t."""

    dtype: str
    params: tuple[np.ndarray, ...]
    losses: np.ndarray

    def budget(self, impl_name: str, steps: int | None = None) -> tuple[tuple[Tolerance, ...], Tolerance]:
        """(per-parameter tolerances over steps 0…steps, the losses' tolerance), through :func:`tolerance`."""
        n = len(self.losses) if steps is None else steps
        params = tuple(tolerance(impl_name, "trajectory", self.dtype, spread=p[: n + 1]) for p in self.params)
        return params, tolerance(impl_name, "trajectory", self.dtype, spread=self.losses[:n])


def trajectory_spread(params, X: np.ndarray, y: np.ndarray, optimizer, steps: int, dtype: str) -> TrajectorySpread:
    """σ_t of ``steps`` full-batch steps of ``optimizer`` (reference.mlp.SGD or Adam) from ``params``: see above."""
    from gatespec.reference import convergence, mlp  # the reference's batched backprop serves the copies

    rng = np.random.default_rng(TRAJECTORY_SEED)
    K, e = SAMPLES, EPS[dtype]

    def noise(shape) -> np.ndarray:
        return e * rng.uniform(-1.0, 1.0, shape)

    reference = mlp.train(tuple(params), X, y, optimizer, steps)
    theta = tuple(p[..., None] * (1.0 + noise((*p.shape, K))) for p in params)  # the cast of θ₀
    adam = isinstance(optimizer, mlp.Adam)
    lr = optimizer.lr * (1.0 + noise(K))
    if adam:
        b1 = optimizer.beta1 * (1.0 + noise(K))
        b2 = optimizer.beta2 * (1.0 + noise(K))
        eps = optimizer.eps * (1.0 + noise(K))
        m = tuple(np.zeros_like(p) for p in theta)
        v = tuple(np.zeros_like(p) for p in theta)
    deviations = [[p - r[0][..., None]] for p, r in zip(theta, reference.params)]
    loss_dev = []
    for t in range(steps):
        bounds = mlp_error_bounds(reference.at(t), X, y)
        losses, grads = convergence._losses_and_grads(theta, X, y)
        loss_dev.append(losses + noise(K) * bounds.loss - reference.losses[t])
        grads = tuple(g + noise(g.shape) * E[..., None] for g, E in zip(grads, bounds.grads))
        if adam:
            m = tuple(b1 * mi + (1 - b1) * g for mi, g in zip(m, grads))
            v = tuple(b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads))
            m = tuple(mi * (1.0 + ADAM_M_ULPS * noise(mi.shape)) for mi in m)
            v = tuple(vi * (1.0 + ADAM_V_ULPS * noise(vi.shape)) for vi in v)
            k = t + 1
            updates = tuple((lr / (1 - b1**k)) * mi / (np.sqrt(vi) / np.sqrt(1 - b2**k) + eps) for mi, vi in zip(m, v))
            updates = tuple(u * (1.0 + ADAM_STEP_ULPS * noise(u.shape)) for u in updates)
        else:
            updates = tuple(lr * g * (1.0 + noise(g.shape)) for g in grads)
        theta = tuple(p - u for p, u in zip(theta, updates))
        theta = tuple(p + noise(p.shape) * np.abs(p) for p in theta)
        for k_, (p, r) in enumerate(zip(theta, reference.params)):
            deviations[k_].append(p - r[t + 1][..., None])

    def spread(dev: list[np.ndarray]) -> np.ndarray:
        rms = np.sqrt(np.mean(np.square(np.stack(dev)), axis=-1))
        return np.maximum.accumulate(rms, axis=0)

    return TrajectorySpread(dtype, tuple(spread(d) for d in deviations), spread(loss_dev) if steps else np.zeros(0))
