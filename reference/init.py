"""Initial parameters as distributions, drawn from a caller's ``numpy.random.Generator``.

Each returns the canonical MLP layout (W₁, b₁, …) for ``sizes = (n_inputs, hidden…, 1)``.
A framework's own generator draws different numbers from the same distribution; the
conformance suite compares statistics (issue 7), not draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .mlp import Params, check_params


def standard_normal(sizes: Sequence[int], rng: np.random.Generator) -> Params:
    """W_l, b_l ~ N(0, 1) elementwise — the notebook's ``torch.randn`` for w1, w2 and b2."""
    return _layers(sizes, rng, lambda fi, fo, shape: rng.standard_normal(shape))


def torch_linear_default(sizes: Sequence[int], rng: np.random.Generator) -> Params:
    """W_l, b_l ~ U(−1/√fan_in, 1/√fan_in) — torch.nn.Linear's reset_parameters.

    (Its weight uses kaiming_uniform_ with a = √5: bound = gain·√(3/fan_in), gain = √(2/(1+a²))
    = √(1/3), so bound = 1/√fan_in, the same as the bias's.)
    """
    return _layers(sizes, rng, lambda fi, fo, shape: rng.uniform(-1 / np.sqrt(fi), 1 / np.sqrt(fi), shape))


def keras_glorot_uniform(sizes: Sequence[int], rng: np.random.Generator) -> Params:
    """W_l ~ U(−√(6/(fan_in+fan_out)), +√(6/(fan_in+fan_out))), b_l = 0 — keras.layers.Dense's default."""

    def draw(fi: int, fo: int, shape: tuple[int, ...]) -> np.ndarray:
        if len(shape) == 1:
            return np.zeros(shape)
        limit = np.sqrt(6.0 / (fi + fo))
        return rng.uniform(-limit, limit, shape)

    return _layers(sizes, rng, draw)


# jax.nn.initializers.truncated_normal draws from N(0, 1) truncated to [−2, 2]; variance_scaling
# divides its standard deviation by this constant, the truncated law's own, so that the scaled
# draw has exactly the variance asked for:  √(1 − 2·2·φ(2)/(2Φ(2) − 1)) = 0.8796256610342398.
TRUNCATION = 2.0
TRUNCATED_STD = 0.87962566103423978


def flax_lecun_normal(sizes: Sequence[int], rng: np.random.Generator) -> Params:
    """W_l = s·T, T ~ N(0, 1) truncated to [−2, 2], s = √(1/fan_in)/0.8796…, so Var W_l = 1/fan_in; b_l = 0 —
    flax.nnx.Linear's default (``lecun_normal()``: variance_scaling(1, "fan_in", "truncated_normal"), zero bias)."""

    def draw(fi: int, fo: int, shape: tuple[int, ...]) -> np.ndarray:
        if len(shape) == 1:
            return np.zeros(shape)
        # Rejection from N(0, 1): the truncated law exactly, whatever the generator's normal sampler.
        out = np.empty(int(np.prod(shape)))
        filled = 0
        while filled < out.size:
            z = rng.standard_normal(out.size - filled)
            z = z[np.abs(z) <= TRUNCATION]
            out[filled : filled + z.size] = z
            filled += z.size
        return out.reshape(shape) * (np.sqrt(1.0 / fi) / TRUNCATED_STD)

    return _layers(sizes, rng, draw)


INITIALISERS = ("standard-normal", "torch-linear", "keras-glorot", "flax-lecun-normal")


def by_name(name: str, sizes: Sequence[int], rng: np.random.Generator) -> Params:
    """Dispatch on one of :data:`INITIALISERS`."""
    table = {
        "standard-normal": standard_normal,
        "torch-linear": torch_linear_default,
        "keras-glorot": keras_glorot_uniform,
        "flax-lecun-normal": flax_lecun_normal,
    }
    if name not in table:
        raise ValueError(f"name: unknown initialiser {name!r}; expected one of {', '.join(INITIALISERS)}")
    return table[name](sizes, rng)


def _layers(sizes: Sequence[int], rng: np.random.Generator, draw) -> Params:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    sizes = tuple(sizes)
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
        raise ValueError(f"sizes: expected at least two positive integers (n_inputs, …, 1), got {sizes!r}")
    params: list[np.ndarray] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        # Weight before bias, layer by layer: the order torch.nn.Linear draws them in.
        params.append(np.asarray(draw(fan_in, fan_out, (fan_in, fan_out)), dtype=np.float64))
        params.append(np.asarray(draw(fan_in, fan_out, (fan_out,)), dtype=np.float64))
    return check_params(tuple(params), sizes[0])
