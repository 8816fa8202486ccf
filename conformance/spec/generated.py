"""Generated conformance cases: the factors implementations get wrong, varied by a covering design.

The notebook's cases (``cases.py``) hold fixed exactly what realistic slips depend on: two
weight layers, η = 0.5, one Adam step at default β, |z| below 62.  The cases here vary

- depth, 1–4 weight layers, and widths 1–8 with fan-in ≠ fan-out in some layer of every net;
- the gate, from the catalogue, with 1–6 inputs (2–64 rows);
- the parameter scale: ``tiny`` (N(0, 10⁻⁶)), ``unit`` (N(0, 1)), ``large`` (N(0, 9)) and
  ``saturating`` (hidden layers ×40, the last layer scaled until every |z| ≥ 1000, with some
  rows confidently right and some confidently wrong);
- SGD step sizes that are not powers of two (so a float32-rounded η shows in a float64 run),
  from 10⁻³ to 1.7;
- Adam's lr, β₁, β₂ and ε, each varied, beside the framework defaults (torch/optax
  ε = 1e-8, Keras ε = 1e-7);
- the logistic η and the perceptron η (dyadic, so perceptron runs stay exact).

Every pair of factor levels appears in some case (:func:`pairwise`, a greedy covering design,
deterministic), so the matrix grows by dozens of cases, not by the product of the levels.
Parameters come from ``numpy.random.default_rng(seed)`` with a seed per case, so every case is
the same in every process, and each is a frozen dataclass whose id names its factors
(``majority-5-d3-5x7x2x1-saturating``, ``xor-2x3x1-adam-lr0.05-b0.5-0.99-e1e-08``).

A case is a function of its levels and its seed: :func:`mlp_case` and :func:`logistic_case`
build one (the design's cases are built by them too), so ``--gatespec-explore N``
(``explore.py``) can search beyond the design and print what it finds as a call to paste into
:data:`REGRESSIONS`, whose cases join the design's (``STRUCTURE``, ``TRAINING``, ``LOGISTIC``).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gatespec.conformance.spec.cases import ROWS, XOR_221, LogisticCase, MLPCase
from gatespec.reference import gates, mlp
from gatespec.reference.gates import Gate
from gatespec.reference.mlp import SGD, Adam, Params

SEED = 20261202

# ----------------------------------------------------------------------------- covering design


def pairwise(
    factors: Mapping[str, Sequence[Any]],
    seed: int,
    allowed: Callable[[dict[str, Any]], bool] = lambda row: True,
    candidates: int = 24,
) -> list[dict[str, Any]]:
    """Rows (factor → level) in which every allowed pair of levels of two factors appears at least once.

    Greedy, in the manner of AETG (Cohen et al., IEEE TSE 1997): each row starts from the first
    uncovered pair in a fixed order, fills the other factors one at a time with the level that
    covers most new pairs, and the best of ``candidates`` such rows is kept.  A pair that no
    allowed row can hold is dropped up front.  Deterministic: the seed orders the factors of each
    candidate and nothing depends on hashing.
    """
    names = list(factors)
    rng = np.random.default_rng(seed)

    def pairs_of(row: dict[str, Any]) -> set[tuple[str, int, str, int]]:
        idx = {f: list(factors[f]).index(row[f]) for f in row}
        return {(a, idx[a], b, idx[b]) for a, b in itertools.combinations(names, 2) if a in row and b in row}

    def completable(partial: dict[str, Any]) -> bool:
        rest = [f for f in names if f not in partial]
        levels = itertools.product(*(factors[f] for f in rest))
        return any(allowed({**partial, **dict(zip(rest, choice))}) for choice in levels)

    uncovered = sorted(
        (a, i, b, j)
        for a, b in itertools.combinations(names, 2)
        for i, j in itertools.product(range(len(factors[a])), range(len(factors[b])))
        if completable({a: factors[a][i], b: factors[b][j]})
    )
    rows: list[dict[str, Any]] = []
    while uncovered:
        todo = set(uncovered)
        best, best_new = None, -1
        a, i, b, j = uncovered[0]
        for _ in range(candidates):
            row = {a: factors[a][i], b: factors[b][j]}
            for f in (names[k] for k in rng.permutation(len(names))):
                if f in row:
                    continue
                scored = []
                for level in factors[f]:
                    trial = {**row, f: level}
                    if completable(trial):
                        scored.append((len(pairs_of(trial) & todo), -list(factors[f]).index(level), level))
                row[f] = max(scored)[2]
            new = len(pairs_of(row) & todo)
            if allowed(row) and new > best_new:
                best, best_new = row, new
        rows.append({f: best[f] for f in names})
        uncovered = [p for p in uncovered if p not in pairs_of(best)]
    return rows


def covered_pairs(factors: Mapping[str, Sequence[Any]], rows: Sequence[Mapping[str, Any]]) -> set:
    """The (factor, level, factor, level) pairs the rows hold: what :func:`pairwise` promises to cover."""
    return {
        (a, list(factors[a]).index(r[a]), b, list(factors[b]).index(r[b]))
        for r in rows
        for a, b in itertools.combinations(list(factors), 2)
    }


# ----------------------------------------------------------------------------- factor levels

# A catalogue gate for each input count, taken in turn: several kinds per width where the
# catalogue has them (parity is the hardest, majority needs every input, and/or are nearly constant).
GATES_BY_INPUTS: dict[int, tuple[str, ...]] = {
    1: ("not",),
    2: ("xor", "nand", "x1-and-not-x2", "or"),
    3: ("majority-3", "parity-3", "and-3"),
    4: ("parity-4", "or-4", "majority-4"),
    5: ("majority-5", "and-5"),
    6: ("parity-6", "or-6"),
}
DEPTHS = (1, 2, 3, 4)
INPUTS = (1, 2, 3, 4, 5, 6)
SCALES = ("tiny", "unit", "large", "saturating")
STD = {"tiny": 1e-3, "unit": 1.0, "large": 3.0}
# The saturating nets: hidden layers from N(0, 1) × HIDDEN_SATURATION, then the last layer scaled so
# that the smallest |z| is SATURATED_LOGIT: e^{−1000} underflows in both dtypes, e^{1000} overflows in both.
HIDDEN_SATURATION = 40.0
SATURATED_LOGIT = 1000.0
MAX_WIDTH = 8
# Step sizes: none is a power of two, so each rounds differently in float32 and float64, from 1e-3 to 1.7.
SGD_RATES = (0.001, 0.07, 0.3, 1.7)
LOGISTIC_RATES = (0.03, 0.3, 1.3)
# Dyadic: the perceptron's weights stay on the 1/8 grid, exact in both dtypes.
PERCEPTRON_RATES = (0.25, 0.375, 1.0, 1.5)


# Adam's hyperparameters as four factors of the design, each level moved far enough from the defaults
# to change a run: β₁ = 0 (no first moment), a short β₂ memory, an ε that dominates √v̂.
ADAM_LRS = (0.003, 0.05, 0.2)
ADAM_BETA1S = (0.0, 0.5, 0.9)
ADAM_BETA2S = (0.9, 0.99, 0.999)
ADAM_EPSILONS = (1e-8, 1e-6, 1e-3)
# Every framework's defaults, as named cases on the notebook's XOR net (cases.XOR_221's parameters).
ADAM_DEFAULTS = {
    "torch-defaults": Adam(1e-3, 0.9, 0.999, 1e-8),  # torch.optim.Adam, optax.adam
    "keras-defaults": Adam(1e-3, 0.9, 0.999, 1e-7),  # keras.optimizers.Adam
}
# β₁ and β₂ near 1, beyond the design's levels (which stop at the defaults): slow moments whose bias
# corrections 1 − βᵗ cancel (1 − β₂ = 1e-4), where β rounded to float32 weighs ten times more than at 0.999,
# and where an optimizer that takes the default for a ceiling shows.
ADAM_NEAR_ONE = {"beta-near-one": Adam(0.05, 0.99, 0.9999, 1e-8)}
# The input counts a trained net of each depth takes, alternately: every count 1–6 appears, and few
# enough (inputs, depth) pairs that the styles running CORE compile few shapes (see _core).
TRAINING_INPUTS = {1: (2, 5), 2: (1, 6), 3: (3, 2), 4: (4, 5)}
SGD_STEPS = 40
ADAM_STEPS = 25
LOGISTIC_STEPS = 30


def optimizer_id(optimizer: SGD | Adam) -> str:
    """``sgd-0.07``, ``adam-lr0.05-b0.5-0.99-e1e-08``: every hyperparameter that is set, for case ids."""
    if isinstance(optimizer, SGD):
        return optimizer.id
    return f"adam-lr{optimizer.lr:g}-b{optimizer.beta1:g}-{optimizer.beta2:g}-e{optimizer.eps:g}"


# ----------------------------------------------------------------------------- cases


def _frozen(arrays) -> tuple[np.ndarray, ...]:
    out = tuple(np.array(a, dtype=np.float64) for a in arrays)
    for a in out:
        a.setflags(write=False)
    return out


def valid_sizes(sizes: tuple[int, ...]) -> bool:
    """At least one hidden layer ≥ 2 wide (so hidden units can be permuted), every hidden width in 1…8, and
    some layer with fan-in ≠ fan-out (so a transposed weight cannot pass as square)."""
    hidden = sizes[1:-1]
    square_everywhere = all(a == b for a, b in itertools.pairwise(sizes))
    return not square_everywhere and all(1 <= h <= MAX_WIDTH for h in hidden) and (not hidden or max(hidden) >= 2)


def _widths(rng: np.random.Generator, n_inputs: int, depth: int, tied: bool = False) -> tuple[int, ...]:
    """(n_inputs, h₁, …, 1), hidden widths drawn in 1…8 until :func:`valid_sizes` holds; ``tied``: h_last = h₁."""
    while True:
        hidden = [int(w) for w in rng.integers(1, MAX_WIDTH + 1, size=depth - 1)]
        if tied:
            hidden[-1] = hidden[0]
        sizes = (n_inputs, *hidden, 1)
        if valid_sizes(sizes):
            return sizes


def shape(n_inputs: int, depth: int) -> tuple[int, ...]:
    """The design's net for ``n_inputs`` and ``depth``: layer sizes drawn once per pair from its own seed.

    One shape per (inputs, depth), so every case of that pair, whatever its scale, step size or
    optimizer, has the same layer sizes.  A style that compiles per shape (jit, tf.function, XLA, or
    JAX's eager per-op dispatch) then compiles a shape once and reuses it across cases and checks
    (the main job compiled 17 shapes per style and dtype before, 8 now).  The widths still span 1…8
    across the 23 pairs (tests/test_generated.py), and exploration draws any widths.

    Half the nets of depth ≥ 3 (inputs + depth even) have their first and last hidden layers
    equally wide, so a forward or backward pass that skips or repeats a middle layer still fits
    the shapes and computes a wrong value, instead of failing on a shape mismatch.
    """
    tied = depth >= 3 and (n_inputs + depth) % 2 == 0
    return _widths(np.random.default_rng((SEED, n_inputs, depth)), n_inputs, depth, tied)


def _draw(rng: np.random.Generator, sizes: tuple[int, ...], scale: str) -> list[np.ndarray]:
    std = STD.get(scale, 1.0)
    out = []
    for i, o in itertools.pairwise(sizes):
        out += [std * rng.standard_normal((i, o)), std * rng.standard_normal(o)]
    return out


def _saturate(rng: np.random.Generator, sizes: tuple[int, ...], g: Gate) -> list[np.ndarray] | None:
    """Saturating parameters, or None when this draw cannot give both right and wrong rows at |z| ≥ 1000."""
    params = _draw(rng, sizes, "unit")
    for k in range(len(params) - 2):
        params[k] = HIDDEN_SATURATION * params[k]
    z = mlp.forward(tuple(params), g.X)[0]
    smallest = np.min(np.abs(z))
    # Rows whose logits nearly cancel would need a huge rescale; those draws are rejected.
    if smallest < 1e-2 * np.max(np.abs(z)):
        return None
    c = SATURATED_LOGIT / smallest
    params[-2], params[-1] = c * params[-2], c * params[-1]
    right = (z > 0) == (g.y == 1)
    return params if right.any() and (~right).any() else None


def _params(seed: int, sizes: tuple[int, ...], gate_name: str, scale: str) -> Params:
    rng = np.random.default_rng(seed)
    g = gates.gate(gate_name)
    for _ in range(_SATURATION_DRAWS):
        params = _saturate(rng, sizes, g) if scale == "saturating" else _draw(rng, sizes, scale)
        if params is not None:
            return _frozen(params)
    raise ValueError(f"no saturating parameters for {gate_name} on {_sizes_id(sizes)} in {_SATURATION_DRAWS} draws")


# A saturating draw is rejected when its logits nearly cancel or every row falls on one side; no
# shape of the design needs more than a few draws, so this many means the shape cannot saturate so.
_SATURATION_DRAWS = 1000


def _gate_for(n_inputs: int, k: int) -> str:
    names = GATES_BY_INPUTS[n_inputs]
    return names[k % len(names)]


def _sizes_id(sizes: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in sizes)


def _feasible(row: dict[str, Any]) -> bool:
    """A one-layer net on one input is 1 → 1: square everywhere, so that pair is left out."""
    return not (row.get("depth") == 1 and row.get("inputs") == 1)


# ----------------------------------------------------------------------------- builders
#
# A case as a function of its levels and a seed.  The design below builds its cases with these,
# and exploration (explore.py) draws the same arguments, so a case it finds is one line to paste
# into REGRESSIONS.  Cases compare (and hash) by id and note, never by their arrays, and the suite
# caches bounds and runs per case: so the note of a built case is the call that rebuilds it, which
# keeps apart two cases whose ids agree (another seed with the same widths, a step size that
# prints alike).  The design's cases keep the empty note they always had: their seeds are SEED
# plus their row, and their ids are unique.


def mlp_case(
    gate_name: str,
    depth: int,
    scale: str,
    seed: int,
    optimizer: SGD | Adam | None = None,
    steps: int = 0,
    *,
    widths: Sequence[int] | None = None,
    note: str | None = None,
) -> MLPCase:
    """A net of ``depth`` weight layers on a catalogue gate, its parameters from ``default_rng(seed)``.

    ``scale`` is one of :data:`SCALES`; ``optimizer`` (default ``SGD()``) trains it for ``steps``
    (0: a case for values, gradients and single steps).  ``widths``: the ``depth − 1`` hidden
    widths, each in 1…8 (default: the design's :func:`shape` for the gate's inputs and depth).  Ids as the design's:
    ``{gate}-d{depth}-{sizes}-{scale}`` when ``steps == 0``, else ``{gate}-{sizes}-{scale}-{optimizer}``.
    ``note`` defaults to the call that rebuilds the case (:func:`recipe`).
    """
    g = gates.gate(gate_name)
    if g.n_inputs not in INPUTS:
        raise ValueError(f"gate_name: expected a gate with {INPUTS[0]}–{INPUTS[-1]} inputs, got {gate_name!r}")
    if depth not in DEPTHS:
        raise ValueError(f"depth: expected one of {DEPTHS}, got {depth!r}")
    if not _feasible({"depth": depth, "inputs": g.n_inputs}):
        raise ValueError(f"depth 1 on the one-input gate {gate_name!r} is 1 → 1, square everywhere")
    if scale not in SCALES:
        raise ValueError(f"scale: expected one of {SCALES}, got {scale!r}")
    if not (isinstance(seed, int) and seed >= 0):
        raise ValueError(f"seed: expected an int ≥ 0, got {seed!r}")
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps: expected an int ≥ 0, got {steps!r}")
    if steps and scale == "saturating":
        raise ValueError("steps: saturating nets are for values and gradients; trajectories start where a run learns")
    optimizer = SGD() if optimizer is None else optimizer
    if not isinstance(optimizer, (SGD, Adam)):
        raise ValueError(f"optimizer: expected SGD or Adam, got {optimizer!r}")
    if widths is None:
        sizes = shape(g.n_inputs, depth)
    else:
        sizes = (g.n_inputs, *(int(w) for w in widths), 1)
        if len(sizes) != depth + 1 or not valid_sizes(sizes):
            raise ValueError(
                f"widths: expected {depth - 1} hidden widths in 1…{MAX_WIDTH}, one ≥ 2 if any, not square "
                f"everywhere, got {tuple(widths)!r} (sizes {sizes})"
            )
    params = _params(seed, sizes, gate_name, scale)
    if steps:
        name = f"{gate_name}-{_sizes_id(sizes)}-{scale}-{optimizer_id(optimizer)}"
    else:
        name = f"{gate_name}-d{depth}-{_sizes_id(sizes)}-{scale}"
    if note is None:
        note = _mlp_recipe(gate_name, depth, scale, seed, optimizer, steps, widths)
    return MLPCase(name, gate_name, params, optimizer, steps, note, scale, origin="generated")


def logistic_case(
    gate_name: str, scale: str, eta: float, seed: int, steps: int = LOGISTIC_STEPS, *, note: str | None = None
) -> LogisticCase:
    """Logistic regression on a catalogue gate from w ~ N(0, STD[scale]²) by ``default_rng(seed)``, bias last.

    ``scale``: tiny, unit or large; ``steps`` of gradient descent with step ``eta``.  Id as the
    design's, ``{gate}-{scale}-eta{eta}``; ``note`` defaults to the call that rebuilds the case.
    """
    g = gates.gate(gate_name)
    if g.n_inputs not in INPUTS:
        raise ValueError(f"gate_name: expected a gate with {INPUTS[0]}–{INPUTS[-1]} inputs, got {gate_name!r}")
    if scale not in STD:
        raise ValueError(f"scale: expected one of {tuple(STD)}, got {scale!r}")
    if not (isinstance(seed, int) and seed >= 0):
        raise ValueError(f"seed: expected an int ≥ 0, got {seed!r}")
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps: expected an int ≥ 1, got {steps!r}")
    if not eta >= 0:
        raise ValueError(f"eta: expected a number ≥ 0, got {eta!r}")
    rng = np.random.default_rng(seed)
    w = STD[scale] * rng.standard_normal(g.n_inputs + 1)
    if note is None:
        note = _logistic_recipe(gate_name, scale, eta, seed, steps)
    w, name = _frozen([w])[0], f"{gate_name}-{scale}-eta{eta:g}"
    return LogisticCase(name, gate_name, w, eta, steps, note, origin="generated")


def recipe(case: MLPCase | LogisticCase) -> str:
    """The Python expression that rebuilds a case built by :func:`mlp_case` or :func:`logistic_case`.

    ``generated.mlp_case("majority-5", depth=3, scale="large", seed=17)``: evaluated where
    ``generated`` is this module (it is, in :data:`REGRESSIONS`), it gives an equal case with the
    same arrays, bit for bit.
    """
    if not case.note.startswith(f"{_MODULE}."):
        raise ValueError(f"{case.id}: not built by mlp_case or logistic_case (its note is {case.note!r})")
    return case.note


_MODULE = "generated"


def _number(x: float) -> str:
    return repr(float(x))  # round-trips exactly; never numpy's np.float64(...)


def _optimizer_recipe(optimizer: SGD | Adam) -> str:
    if isinstance(optimizer, SGD):
        return f"{_MODULE}.SGD(lr={_number(optimizer.lr)})"
    fields = ", ".join(f"{k}={_number(getattr(optimizer, k))}" for k in ("lr", "beta1", "beta2", "eps"))
    return f"{_MODULE}.Adam({fields})"


def _mlp_recipe(
    gate_name: str, depth: int, scale: str, seed: int, optimizer: SGD | Adam, steps: int, widths: Sequence[int] | None
) -> str:
    args = [json.dumps(gate_name), f"depth={depth}", f"scale={json.dumps(scale)}", f"seed={seed}"]
    if optimizer != SGD():
        args.append(f"optimizer={_optimizer_recipe(optimizer)}")
    if steps:
        args.append(f"steps={steps}")
    if widths is not None:
        args.append(f"widths={tuple(int(w) for w in widths)!r}")
    return f"{_MODULE}.mlp_case({', '.join(args)})"


def _logistic_recipe(gate_name: str, scale: str, eta: float, seed: int, steps: int) -> str:
    args = [json.dumps(gate_name), f"scale={json.dumps(scale)}", f"eta={_number(eta)}", f"seed={seed}"]
    if steps != LOGISTIC_STEPS:
        args.append(f"steps={steps}")
    return f"{_MODULE}.logistic_case({', '.join(args)})"


# ----------------------------------------------------------------------------- the design


def _structure_cases() -> tuple[MLPCase, ...]:
    factors = {"depth": DEPTHS, "inputs": INPUTS, "scale": SCALES}
    rows = pairwise(factors, SEED, _feasible)
    out = []
    for k, row in enumerate(rows):
        gate_name = _gate_for(row["inputs"], k)
        sgd = SGD(SGD_RATES[k % len(SGD_RATES)])
        out.append(mlp_case(gate_name, row["depth"], row["scale"], SEED + k, sgd, note=""))
    return tuple(out)


def _training_cases() -> tuple[MLPCase, ...]:
    # Trajectories are compared step by step, so the scales are those a run learns from; saturation
    # is the value checks' business.  SGD and Adam are two designs: SGD has one hyperparameter.
    scales = ("tiny", "unit", "large")
    sgd_rows = pairwise({"lr": SGD_RATES, "depth": DEPTHS, "scale": scales}, SEED + 1)
    adam_factors = {
        "lr": ADAM_LRS,
        "beta1": ADAM_BETA1S,
        "beta2": ADAM_BETA2S,
        "eps": ADAM_EPSILONS,
        "depth": DEPTHS,
        "scale": scales,
    }
    adam_rows = pairwise(adam_factors, SEED + 2)
    out = []
    for k, row in enumerate(sgd_rows + adam_rows):
        inputs = TRAINING_INPUTS[row["depth"]][k % 2]
        gate_name = _gate_for(inputs, k)
        if "beta1" in row:
            opt: SGD | Adam = Adam(row["lr"], row["beta1"], row["beta2"], row["eps"])
            steps = ADAM_STEPS
        else:
            opt, steps = SGD(row["lr"]), SGD_STEPS
        out.append(mlp_case(gate_name, row["depth"], row["scale"], SEED + 1000 + k, opt, steps, note=""))
    return tuple(out)


def _defaults_cases() -> tuple[MLPCase, ...]:
    # The notebook's net, so each default is checked where the notebook trains.
    return tuple(
        MLPCase(f"xor-2-2-1-adam-{label}", "xor", XOR_221.params, opt, ADAM_STEPS, origin="generated")
        for label, opt in (ADAM_DEFAULTS | ADAM_NEAR_ONE).items()
    )


def _logistic_cases() -> tuple[LogisticCase, ...]:
    factors = {"eta": LOGISTIC_RATES, "inputs": INPUTS, "scale": ("tiny", "unit", "large")}
    out = []
    for k, row in enumerate(pairwise(factors, SEED + 3)):
        gate_name = _gate_for(row["inputs"], k)
        out.append(logistic_case(gate_name, row["scale"], row["eta"], SEED + 2000 + k, note=""))
    return tuple(out)


# ----------------------------------------------------------------------------- regressions
#
# The suite's own cases found by exploration (pytest --pyargs gatespec.conformance --gatespec-explore N),
# pasted as printed (a user keeps theirs in a --gatespec-regressions file instead, regressions.py).  Each
# joins the design's cases of its kind: steps == 0 nets STRUCTURE (values, gradients, single
# steps, saturation; the metamorphic checks take the learnable ones of depth ≥ 2), trained nets
# TRAINING, logistic cases LOGISTIC.

generated = sys.modules[__name__]  # the printed lines name this module as `generated`: they paste here as they are

REGRESSIONS: tuple = ()


# What kind of case joins which list: the lists below take the suite's REGRESSIONS by these, and each
# check's gatespec_cases marker names its own (joins=), by which a --gatespec-regressions file's cases
# join it at collection.
def _designed(case) -> bool:
    """A net of the design or of a regressions file (not one of the notebook's, which the checks name)."""
    return isinstance(case, MLPCase) and case.origin != "notebook"


def is_structure(case) -> bool:
    """A net for values, gradients and single steps (``steps == 0``)."""
    return _designed(case) and not case.steps


def is_saturating(case) -> bool:
    return is_structure(case) and case.saturating


def is_sgd_training(case) -> bool:
    return _designed(case) and bool(case.steps) and isinstance(case.optimizer, SGD)


def is_adam_training(case) -> bool:
    return _designed(case) and bool(case.steps) and isinstance(case.optimizer, Adam)


def is_logistic(case) -> bool:
    return isinstance(case, LogisticCase) and case.origin != "notebook"


def _other_rows(cases: Sequence[Any], n: int) -> tuple[Any, ...]:
    """The first ``n`` cases again, on inputs that are not 0/1 (cases.ROWS: scaled, then real, alternately):
    the same nets and shapes, so a style that compiles per shape compiles nothing new."""
    levels = [r for r in ROWS if r != "table"]
    out = []
    for k, case in enumerate(cases[:n]):
        rows = levels[k % len(levels)]
        out.append(dataclasses.replace(case, name=f"{case.name}-x-{rows}", rows=rows, note=""))
    return tuple(out)


STRUCTURE = _structure_cases() + tuple(filter(is_structure, REGRESSIONS))
TRAINING = _training_cases() + _defaults_cases() + tuple(c for c in REGRESSIONS if _designed(c) and c.steps)
SGD_TRAINING = tuple(filter(is_sgd_training, TRAINING))
ADAM_TRAINING = tuple(filter(is_adam_training, TRAINING))
LOGISTIC = _logistic_cases() + tuple(filter(is_logistic, REGRESSIONS))
SATURATING = tuple(filter(is_saturating, STRUCTURE))


# ----------------------------------------------------------------------------- the core subset
#
# A style that compiles per net shape (jit, tf.function, XLA) or dispatches eagerly op by op
# pays seconds for every new shape and dtype: the whole design costs such a style minutes (the
# main job measured 13 min with every style on every case).  Those styles run CORE, a subset
# that still takes every level of every factor at least once (an "each-choice" cover: depth,
# input count, scale, step size, each Adam hyperparameter); the pairwise design runs in full on
# the styles that pay microseconds a shape (numpy, autograd, torch) and on third-party
# implementations unless they declare ``compiled``.


def _factors_of(case) -> dict[str, Any]:
    if isinstance(case, LogisticCase):
        scale = case.id.split("-eta")[0].rsplit("-", 1)[-1]
        return {"inputs": case.gate.n_inputs, "scale": scale, "eta": case.eta}
    out: dict[str, Any] = {"depth": len(case.params) // 2, "inputs": case.gate.n_inputs, "scale": case.scale}
    opt = case.optimizer
    if case.steps and isinstance(opt, SGD):
        out["lr"] = opt.lr
    elif case.steps:
        out |= {"lr": opt.lr, "beta1": opt.beta1, "beta2": opt.beta2, "eps": opt.eps}
    return out


def _shape_of(case) -> tuple[int, ...] | None:
    return case.sizes if isinstance(case, MLPCase) else None


def each_choice(cases: Sequence[Any], shapes: frozenset = frozenset()) -> tuple[Any, ...]:
    """The fewest cases, picked greedily in order, in which every level of every factor appears at least once.

    Between cases that cover as many new levels, one whose net shape is in ``shapes`` or already
    picked wins: the fewer shapes, the fewer compilations for the styles that run only this subset.
    """
    wanted = {(f, v) for c in cases for f, v in _factors_of(c).items()}
    chosen: list[Any] = []
    seen = set(shapes)
    while wanted:
        best = max(cases, key=lambda c: (len(wanted & set(_factors_of(c).items())), _shape_of(c) in seen))
        chosen.append(best)
        seen.add(_shape_of(best))
        wanted -= set(_factors_of(best).items())
    return tuple(sorted(chosen, key=cases.index))


# The named Adam runs (every framework's defaults, β near 1): each a level of its own, run by every style.
_NAMED = frozenset(_defaults_cases())


def _core() -> frozenset:
    # Training first: its nets take few shapes (TRAINING_INPUTS), which the structure cases then reuse.
    sets = (
        SGD_TRAINING,
        tuple(c for c in ADAM_TRAINING if c not in _NAMED),
        STRUCTURE,
        LOGISTIC,
    )
    chosen: list[Any] = []
    for cases in sets:
        chosen += each_choice(cases, frozenset(_shape_of(c) for c in chosen))
    return frozenset(chosen + list(_NAMED) + list(REGRESSIONS))


CORE = _core()


# Inputs that are not 0/1: the first CORE cases of each kind again on scaled and real-valued rows (two of each,
# four nets for values and gradients).  Twins of CORE cases, on the same shapes: a style that compiles per
# shape compiles nothing new for them, and every style runs them (they join CORE).
def _twins(cases: Sequence[Any], n: int) -> tuple[Any, ...]:
    return _other_rows([c for c in cases if c in CORE], n)


OTHER_ROWS = (
    _twins([c for c in STRUCTURE if not c.saturating and len(c.params) >= 4], 4)
    + _twins(SGD_TRAINING, 2)
    + _twins([c for c in ADAM_TRAINING if c not in _NAMED], 2)
    + _twins(LOGISTIC, 2)
)
STRUCTURE += tuple(filter(is_structure, OTHER_ROWS))
SGD_TRAINING += tuple(filter(is_sgd_training, OTHER_ROWS))
ADAM_TRAINING += tuple(filter(is_adam_training, OTHER_ROWS))
TRAINING += tuple(c for c in OTHER_ROWS if c.steps and isinstance(c, MLPCase))
LOGISTIC += tuple(filter(is_logistic, OTHER_ROWS))
CORE = CORE | frozenset(OTHER_ROWS)
