"""Training dynamics as a statistic: how often full-batch training of many nets learns a gate, and how it fails.

Many nets, one dataset.  ``params`` hold B nets with the net as *leading* axis (W₁ (B, in, out),
b₁ (B, out), …, the layout of :class:`gatespec.conformance.spec.interface.BatchedRun`).  Every net
trains exactly as :func:`gatespec.reference.mlp.train` would train it alone; the B runs are
one vectorised computation (einsum over a trailing net axis), so 1000 nets cost about what a
few single runs cost in a Python loop.

**Success.**  With p_i = σ(z_i) the output on row i and q_i = p_i if y_i = 1 else 1 − p_i the
probability given to the right label, the loss is l = Σ_i −ln q_i, and a net has *learned*
the gate after t steps when

    l(θ_t) < ln(4/3)                                                     (LEARNED_LOSS)

which forces every q_i > ¾ (each term is ≥ 0, so each −ln q_i < ln(4/3)): the truth table is
right on every row with margin ¼.  Being a condition on the loss alone, it can be read off a
run's per-step losses, which gives the success rate against steps.

**Failures**, classified at the end (t = T) by r = #{i : q_i > ¾}, the rows learned, and by
Δ = l(θ_{T−100}) − l(θ_T), the loss shed over the last 100 steps:

- ``unconverged`` — Δ ≥ 0.1 or r ≥ 3: still descending (a net at one of the minima below
  creeps by ~10⁻³ per 100 steps; at ≥ 0.1 it reaches the next level, ≥ 0.5 lower, within
  500 steps), or all but one row learned.
- ``stuck`` — r = 0: no row learned, every output within ¼ of ½; the plateau around the
  symmetric point, l → 4 ln 2 ≈ 2.77 (the notebook's nn.Sequential cell ends at
  σ = (0.4998, 0.4999, 0.5001, 0.5001)).
- ``one-wrong`` — r = 1: one row learned and three tied at p ≈ ⅔, one of those on the
  wrong side of ½ (a hidden unit computes OR or NAND and the output cannot split its three
  rows), l → 3 ln 3 − 2 ln 2 ≈ 1.91.
- ``two-at-half`` — r = 2: two rows learned and two at p ≈ ½, l → 2 ln 2 ≈ 1.39 (the
  notebook's custom-class cell ends at σ = (0.5039, 0.4938, 0.9922, 0.0101)).

The four classes and ``learned`` partition the nets.  Rates get a Wilson score interval, and
two rates are compared by the pooled two-proportion z-test; quantiles come from
``statistics.NormalDist``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from . import _validate, init, mlp
from .activations import bce_with_logits, sigmoid
from .mlp import SGD, Adam, Params
from .runs import BatchedRun

LEARNED_LOSS = math.log(4.0 / 3.0)
# Failure classification: the loss shed over the last WINDOW steps that counts as "still descending".
WINDOW = 100
DESCENDING = 0.1
LEARNED = "learned"
FAILURES = ("stuck", "one-wrong", "two-at-half", "unconverged")
OUTCOMES = (LEARNED, *FAILURES)


# ----------------------------------------------------------------------------- many nets


def check_many(params: Params, n_inputs: int | None = None) -> Params:
    """Validate B nets in the canonical layout with the net as leading axis; return them as a tuple."""
    if not isinstance(params, (tuple, list)) or len(params) < 2 or len(params) % 2:
        raise ValueError("params: expected a non-empty sequence (W₁, b₁, …, W_L, b_L), each with a leading net axis")
    width, nets = n_inputs, None
    for layer in range(len(params) // 2):
        W = _validate.float_array(f"params[W{layer + 1}]", params[2 * layer], 3, (nets, width, None))
        nets, width = W.shape[0], W.shape[2]
        _validate.float_array(f"params[b{layer + 1}]", params[2 * layer + 1], 2, (nets, width))
    if width != 1:
        raise ValueError(f"params: expected one output unit in the last layer, got {width}")
    if nets == 0:
        raise ValueError("params: expected at least one net, got 0")
    return tuple(params)


def init_many(initialiser: str, sizes: Sequence[int], n: int, rng: np.random.Generator) -> Params:
    """n nets drawn one after another by :func:`gatespec.reference.init.by_name`, stacked on a leading axis."""
    n = _validate.count("n", n)
    nets = [init.by_name(initialiser, sizes, rng) for _ in range(n)]
    return tuple(np.stack(column) for column in zip(*nets))


def net(params: Params, b: int) -> Params:
    """Net b of a stack, in the canonical single-net layout."""
    return tuple(p[b] for p in check_many(params))


def _last(params: Params) -> Params:
    # The net axis moved last: every elementwise op and einsum then runs over B contiguous
    # values, ~4× faster than net-first for B = 1000 (a transpose: exact).
    return tuple(np.ascontiguousarray(np.moveaxis(p, 0, -1)) for p in params)


def _first(params: Params) -> Params:
    return tuple(np.ascontiguousarray(np.moveaxis(p, -1, 0)) for p in params)


def _activations(params: Params, X: np.ndarray) -> list[np.ndarray]:
    """[h₀, h₁, …, h_{L−1}, z] as :func:`mlp.forward` computes them, net axis last: h_l (N, width, B), z (N, B)."""
    B = params[0].shape[-1]
    hs = [np.broadcast_to(X[:, :, None], (*X.shape, B))]
    n_layers = len(params) // 2
    for layer in range(n_layers):
        a = np.einsum("nib,ijb->njb", hs[-1], params[2 * layer]) + params[2 * layer + 1][None]
        hs.append(sigmoid(a) if layer < n_layers - 1 else a[:, 0])
    return hs


def _losses_and_grads(params: Params, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Params]:
    """Per-net loss (B,) and gradients (net axis last) by the backprop of :mod:`gatespec.reference.mlp`:

    δ_L = σ(z) − y;  ∂l/∂W_l = h_{l−1}ᵀ δ_l, ∂l/∂b_l = Σ_rows δ_l;  δ_{l−1} = (δ_l W_lᵀ) ⊙ h_{l−1}(1 − h_{l−1}).
    """
    hs = _activations(params, X)
    z = hs[-1]
    delta = (sigmoid(z) - y[:, None])[:, None, :]  # (N, 1, B)
    grads: list[np.ndarray] = []
    for layer in range(len(params) // 2 - 1, -1, -1):
        h = hs[layer]
        grads += [delta.sum(axis=0), np.einsum("nib,njb->ijb", h, delta)]  # reversed below
        if layer:
            delta = np.einsum("njb,ijb->nib", delta, params[2 * layer]) * h * (1.0 - h)
    return np.sum(bce_with_logits(z, y[:, None]), axis=0), tuple(reversed(grads))


def logits_many(params: Params, X: np.ndarray) -> np.ndarray:
    """z for every net and row, (B, N)."""
    params = check_many(params, _validate.float_array("X", X, 2).shape[1])
    return _activations(_last(params), X)[-1].T.copy()


def losses_many(params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """l = Σ_i softplus(z_i) − y_i z_i for every net, (B,)."""
    z = logits_many(params, X)
    y = _validate.labels("y", y, X.shape[0])
    return np.sum(bce_with_logits(z, y[None, :]), axis=1)


def train_many(params: Params, X: np.ndarray, y: np.ndarray, optimizer: SGD | Adam, steps: int) -> BatchedRun:
    """``steps`` full-batch updates of every net, each exactly :func:`mlp.train`'s (same update functions)."""
    X = _validate.float_array("X", X, 2)
    params = check_many(params, X.shape[1])
    y = _validate.labels("y", y, X.shape[0])
    steps = _validate.count("steps", steps)
    if not isinstance(optimizer, (SGD, Adam)):
        raise ValueError(f"optimizer: expected reference.mlp.SGD or Adam, got {optimizer!r}")
    theta = _last(params)
    state = mlp.adam_init(theta)
    losses = np.empty((steps, params[0].shape[0]))
    for t in range(steps):
        losses[t], grads = _losses_and_grads(theta, X, y)
        # The single-net update functions are elementwise, so they update every net at once.
        if isinstance(optimizer, SGD):
            theta = mlp.sgd_update(theta, grads, optimizer)
        else:
            theta, state = mlp.adam_update(theta, grads, state, optimizer)
    return BatchedRun(_first(theta), losses)


# ----------------------------------------------------------------------------- outcomes


def learned_curve(losses: np.ndarray, final_losses: np.ndarray) -> np.ndarray:
    """The fraction of nets learned after t = 0 … T steps: mean over nets of [l(θ_t) < ln(4/3)], (T + 1,)."""
    losses = _validate.float_array("losses", losses, 2)
    final_losses = _validate.float_array("final_losses", final_losses, 1, (losses.shape[1],))
    return np.mean(np.vstack([losses, final_losses[None]]) < LEARNED_LOSS, axis=1)


def classify(final_logits: np.ndarray, y: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """Each net's outcome (module docstring), an array of names from :data:`OUTCOMES`, (B,).

    ``final_logits`` (B, N) at θ_T; ``losses`` (T, B) at θ_0 … θ_{T−1} (a run's losses), T ≥ WINDOW.
    """
    final_logits = _validate.float_array("final_logits", final_logits, 2)
    y = _validate.labels("y", y, final_logits.shape[1])
    losses = _validate.float_array("losses", losses, 2, (None, final_logits.shape[0]))
    if losses.shape[0] < WINDOW:
        raise ValueError(f"losses: expected at least {WINDOW} steps to judge descent, got {losses.shape[0]}")
    final = np.sum(bce_with_logits(final_logits, y[None, :]), axis=1)
    q = np.where(y[None, :] == 1.0, sigmoid(final_logits), sigmoid(-final_logits))
    rows_learned = np.sum(q > 0.75, axis=1)
    descending = losses[-WINDOW] - final >= DESCENDING
    return np.select(
        [final < LEARNED_LOSS, descending | (rows_learned >= 3), rows_learned == 0, rows_learned == 1],
        [LEARNED, "unconverged", "stuck", "one-wrong"],
        default="two-at-half",
    )


@dataclass(frozen=True, eq=False)
class Convergence:
    """The outcome of training n nets: ``counts[o]`` nets per outcome o of :data:`OUTCOMES`; ``curve[t]``
    the fraction learned after t steps."""

    counts: dict[str, int]
    curve: np.ndarray

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def learned(self) -> int:
        return self.counts[LEARNED]

    @property
    def rate(self) -> float:
        return self.learned / self.n

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        return wilson_interval(self.learned, self.n, confidence)


def summarise(final_params: Params, losses: np.ndarray, X: np.ndarray, y: np.ndarray) -> Convergence:
    """Outcomes and learned curve of a run of many nets: its final parameters and per-step losses (T, B).

    The final logits and loss are recomputed here in float64 from ``final_params``; the curve
    uses the run's own losses for t < T.
    """
    z = logits_many(final_params, X)
    final = np.sum(bce_with_logits(z, _validate.labels("y", y, X.shape[0])[None, :]), axis=1)
    outcomes = classify(z, y, losses)
    return Convergence({o: int(np.sum(outcomes == o)) for o in OUTCOMES}, learned_curve(losses, final))


def convergence(
    initialiser: str,
    sizes: Sequence[int],
    X: np.ndarray,
    y: np.ndarray,
    optimizer: SGD | Adam,
    steps: int,
    n: int,
    rng: np.random.Generator,
) -> Convergence:
    """The reference's statistic: n nets from ``initialiser`` drawn with ``rng``, trained ``steps`` steps."""
    run = train_many(init_many(initialiser, sizes, n, rng), X, y, optimizer, steps)
    return summarise(run.params, run.losses, X, y)


# ----------------------------------------------------------------------------- initial distributions


@dataclass(frozen=True)
class Law:
    """One parameter's initial distribution: N(0, a²) ("normal"), U(−a, a) ("uniform"), 0 ("zero"), or
    a·T with T ~ N(0, 1) truncated to [−c, c], c = init.TRUNCATION ("truncated-normal"), a = ``scale``.

    Moments about 0 (the mean is 0 for all four):  σ² = a², a²/3, 0, a²·m₂;  μ₄ = 3a⁴, a⁴/5, 0, a⁴·m₄,
    with the truncated normal's m₂ = 1 − 2cφ(c)/Z and m₄ = 3 − 2(c³ + 3c)φ(c)/Z, Z = 2Φ(c) − 1.
    """

    kind: str
    scale: float = 0.0

    @property
    def variance(self) -> float:
        return _standard_moments(self.kind)[0] * self.scale**2

    @property
    def fourth_moment(self) -> float:
        return _standard_moments(self.kind)[1] * self.scale**4

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """F(x) = Φ(x/a), clip((x + a)/2a, 0, 1), [x ≥ 0], or clip((Φ(x/a) − Φ(−c))/Z, 0, 1)."""
        if self.kind in ("normal", "truncated-normal"):
            F = np.vectorize(NormalDist(0.0, self.scale).cdf, otypes=[float])(x)
            if self.kind == "normal":
                return F
            c = init.TRUNCATION
            return np.clip((F - NormalDist().cdf(-c)) / (2 * NormalDist().cdf(c) - 1), 0.0, 1.0)
        if self.kind == "uniform":
            return np.clip((x + self.scale) / (2 * self.scale), 0.0, 1.0)
        return (x >= 0).astype(float)


def _standard_moments(kind: str) -> tuple[float, float]:
    """(E x², E x⁴) of the law with scale 1."""
    if kind == "truncated-normal":
        c = init.TRUNCATION
        Z, phi = 2 * NormalDist().cdf(c) - 1, math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
        return 1 - 2 * c * phi / Z, 3 - 2 * (c**3 + 3 * c) * phi / Z
    return {"normal": (1.0, 3.0), "uniform": (1.0 / 3.0, 1.0 / 5.0), "zero": (0.0, 0.0)}[kind]


def initial_law(initialiser: str, fan_in: int, fan_out: int, bias: bool) -> Law:
    """The law :mod:`gatespec.reference.init` draws a layer's weight (``bias`` False) or bias from:

    standard-normal N(0, 1);  torch-linear U(±1/√fan_in) for both (also eqx.nn.Linear's default);
    keras-glorot U(±√(6/(fan_in + fan_out))) for the weight and 0 for the bias;  flax-lecun-normal
    N(0, 1) truncated to ±2, scaled to variance 1/fan_in, for the weight and 0 for the bias.
    """
    if initialiser == "standard-normal":
        return Law("normal", 1.0)
    if initialiser == "torch-linear":
        return Law("uniform", 1.0 / math.sqrt(fan_in))
    if initialiser == "keras-glorot":
        return Law("zero") if bias else Law("uniform", math.sqrt(6.0 / (fan_in + fan_out)))
    if initialiser == "flax-lecun-normal":
        return Law("zero") if bias else Law("truncated-normal", math.sqrt(1.0 / fan_in) / init.TRUNCATED_STD)
    raise ValueError(f"initialiser: unknown {initialiser!r}; expected one of {', '.join(init.INITIALISERS)}")


def laws(initialiser: str, sizes: Sequence[int]) -> tuple[Law, ...]:
    """:func:`initial_law` of every parameter (W₁, b₁, …) of a net of ``sizes``."""
    return tuple(
        initial_law(initialiser, fan_in, fan_out, bias)
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
        for bias in (False, True)
    )


def mean_test(sample: np.ndarray, law: Law) -> tuple[float, float]:
    """(z, two-sided p) for H₀: E x = 0, from m iid draws:  z = x̄ / √(σ²/m)."""
    x = _sample(sample)
    z = float(np.mean(x)) / math.sqrt(law.variance / x.size)
    return z, 2.0 * NormalDist().cdf(-abs(z))


def variance_test(sample: np.ndarray, law: Law) -> tuple[float, float]:
    """(z, two-sided p) for H₀: E x² = σ², from m iid draws of a mean-0 law:

        z = (m₂ − σ²) / √((μ₄ − σ⁴)/m),   m₂ = Σ x²/m

    (Var x² = μ₄ − σ⁴ exactly, as the mean is known; by the CLT z is asymptotically N(0, 1).)
    """
    x = _sample(sample)
    z = (float(np.mean(x * x)) - law.variance) / math.sqrt((law.fourth_moment - law.variance**2) / x.size)
    return z, 2.0 * NormalDist().cdf(-abs(z))


def ks_test(sample: np.ndarray, law: Law) -> tuple[float, float]:
    """(D, p) of the one-sample Kolmogorov–Smirnov test against the law's F, m iid draws:

    D = sup_x |F_m(x) − F(x)| = max_i max(i/m − F(x₍ᵢ₎), F(x₍ᵢ₎) − (i − 1)/m)
    p ≈ Q(√m D),   Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}      (Kolmogorov's limit law)
    """
    x = np.sort(_sample(sample))
    m = x.size
    F = law.cdf(x)
    i = np.arange(1, m + 1)
    D = float(max(np.max(i / m - F), np.max(F - (i - 1) / m)))
    lam = math.sqrt(m) * D
    if lam < 0.2:  # Q(0.2) = 1 − 5e-13 (the dual series √(2π)/λ Σ e^{−(2k−1)²π²/8λ²}); this one converges slowly
        return D, 1.0
    q = 2.0 * sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 101))
    return D, min(1.0, max(0.0, q))


def _sample(sample: np.ndarray) -> np.ndarray:
    x = np.asarray(sample, dtype=np.float64).ravel()
    if x.size < 2 or not np.all(np.isfinite(x)):
        raise ValueError(
            f"sample: expected at least two finite values, got {x.size} (all finite: {np.isfinite(x).all()})"
        )
    return x


# ----------------------------------------------------------------------------- statistics


def _quantile(p: float) -> float:
    return NormalDist().inv_cdf(p)


def _probability(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ValueError(f"{name}: expected a number in (0, 1), got {_validate.shown(value)!r}")
    return float(value)


def _counts(k: int, n: int, suffix: str = "") -> tuple[int, int]:
    n = _validate.count(f"n{suffix}", n)
    k = _validate.count(f"k{suffix}", k, minimum=0)
    if k > n:
        raise ValueError(f"k{suffix}: expected at most n{suffix} = {n} successes, got {k}")
    return k, n


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a proportion, k successes of n, z = Φ⁻¹((1 + confidence)/2):

        (p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n),   p̂ = k/n

    the set of p whose score test |p̂ − p| / √(p(1 − p)/n) ≤ z does not reject; inside [0, 1]
    and never empty, even at k = 0 or k = n (where the Wald interval collapses).
    """
    k, n = _counts(k, n)
    z = _quantile((1.0 + _probability("confidence", confidence)) / 2.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At k = 0 (k = n) the lower (upper) end is 0 (1) exactly; rounding must not move it.
    return (0.0 if k == 0 else centre - half, 1.0 if k == n else centre + half)


def two_proportion_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """(z, two-sided p-value) of the pooled z-test of H₀: p₁ = p₂, from k₁ of n₁ and k₂ of n₂:

        z = (p̂₁ − p̂₂) / √(p̄(1 − p̄)(1/n₁ + 1/n₂)),   p̄ = (k₁ + k₂)/(n₁ + n₂),   p = 2Φ(−|z|)

    Under H₀, z is asymptotically N(0, 1) (the normal approximation holds when n·p̄ and
    n·(1 − p̄) are ≳ 5 for both samples).  When p̄ ∈ {0, 1} both samples agree exactly: z = 0, p = 1.
    """
    k1, n1 = _counts(k1, n1, "1")
    k2, n2 = _counts(k2, n2, "2")
    pooled = (k1 + k2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 0.0, 1.0
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z, 2.0 * NormalDist().cdf(-abs(z))  # the upper tail as Φ(−|z|): no cancellation for large |z|


__all__ = [
    "DESCENDING",
    "FAILURES",
    "LEARNED",
    "LEARNED_LOSS",
    "OUTCOMES",
    "WINDOW",
    "Convergence",
    "Law",
    "check_many",
    "classify",
    "convergence",
    "init_many",
    "initial_law",
    "ks_test",
    "laws",
    "learned_curve",
    "logits_many",
    "losses_many",
    "mean_test",
    "net",
    "summarise",
    "train_many",
    "two_proportion_test",
    "variance_test",
    "wilson_interval",
]
