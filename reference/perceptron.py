"""The threshold logic unit and Rosenblatt's perceptron learning rule.

Inputs ``Xb`` carry the bias column (see :func:`gates.with_bias`), so the weight vector
w = (w₁, …, w_d, b) and a prediction is ŷ = g(w·x′) with the Heaviside g(0) = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate
from .activations import heaviside


@dataclass(frozen=True, eq=False)
class PerceptronRun:
    """A training run.

    ``weights[t]`` is w after t updates (``weights[0]`` the start), ``mistakes[t]`` the number
    of misclassified instances that step t looked at (0 or 1 online, 0…N full-batch), and
    ``converged_at`` the first t at which ``weights[t]`` classifies every instance correctly
    (the rule never moves w after that), or ``None``.
    """

    weights: np.ndarray
    mistakes: np.ndarray
    converged_at: int | None

    @property
    def converged(self) -> bool:
        return self.converged_at is not None

    @property
    def final(self) -> np.ndarray:
        return self.weights[-1]

    def at(self, t: int) -> np.ndarray:
        """w after t updates."""
        return self.weights[t]


def predict(Xb: np.ndarray, w: np.ndarray) -> np.ndarray:
    """ŷ = g(X′w), g the Heaviside step with g(0) = 0."""
    Xb, w = _validate.inputs_and_weights(Xb, w)
    return heaviside(Xb @ w)


def batch_step(Xb: np.ndarray, y: np.ndarray, w: np.ndarray, eta: float) -> np.ndarray:
    """w ← w + η (y − g(X′w))ᵀ X′  — one full-batch update (the notebook's cell 57, η = 1)."""
    Xb, w = _validate.inputs_and_weights(Xb, w)
    y = _validate.labels("y", y, Xb.shape[0])
    eta = _validate.positive("eta", eta)
    return w + eta * ((y - heaviside(Xb @ w)) @ Xb)


def train_batch(Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int) -> PerceptronRun:
    """``steps`` full-batch updates from ``w0``; see :func:`batch_step`."""
    Xb, w0 = _validate.inputs_and_weights(Xb, w0, "w0")
    y = _validate.labels("y", y, Xb.shape[0])
    eta = _validate.positive("eta", eta)
    steps = _validate.count("steps", steps)
    weights = np.empty((steps + 1, w0.shape[0]))
    mistakes = np.empty(steps, dtype=np.int64)
    weights[0] = w0
    for t in range(steps):
        err = y - heaviside(Xb @ weights[t])
        mistakes[t] = np.count_nonzero(err)
        weights[t + 1] = weights[t] + eta * (err @ Xb)
    return _run(Xb, y, weights, mistakes)


def train_online(Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, order: np.ndarray) -> PerceptronRun:
    """One Rosenblatt update per entry of ``order`` (instance indices), from ``w0``.

    ``order`` is explicit so that a run is reproducible; :func:`random_order` draws one.
    """
    Xb, w0 = _validate.inputs_and_weights(Xb, w0, "w0")
    y = _validate.labels("y", y, Xb.shape[0])
    eta = _validate.positive("eta", eta)
    order = _check_order(order, Xb.shape[0])
    weights = np.empty((order.shape[0] + 1, w0.shape[0]))
    mistakes = np.empty(order.shape[0], dtype=np.int64)
    weights[0] = w0
    for t, i in enumerate(order):
        err = y[i] - heaviside(Xb[i] @ weights[t])
        mistakes[t] = err != 0
        weights[t + 1] = weights[t] + eta * err * Xb[i]
    return _run(Xb, y, weights, mistakes)


def random_order(rng: np.random.Generator, n_rows: int, steps: int) -> np.ndarray:
    """``steps`` instance indices drawn uniformly with replacement, as the notebook's random.choice."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    return rng.integers(0, _validate.count("n_rows", n_rows), size=_validate.count("steps", steps))


def cyclic_order(n_rows: int, epochs: int) -> np.ndarray:
    """0, 1, …, N−1 repeated ``epochs`` times: the deterministic order of the textbook proof."""
    return np.tile(np.arange(_validate.count("n_rows", n_rows)), _validate.count("epochs", epochs))


def margin(Xb: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """γ(w) = min_i s_i (w·x′_i) / ‖w‖ with s_i = 2y_i − 1; positive iff w separates the data."""
    Xb, w = _validate.inputs_and_weights(Xb, w)
    y = _validate.labels("y", y, Xb.shape[0])
    norm = np.linalg.norm(w)
    if norm == 0:
        raise ValueError("w: expected a nonzero weight vector, got all zeros")
    gamma = float(np.min((2 * y - 1) * (Xb @ w)) / norm)
    if gamma <= 0:
        raise ValueError(f"w: expected a separating weight vector, but its margin is {gamma}")
    return gamma


def novikoff_bound(Xb: np.ndarray, y: np.ndarray, w_separating: np.ndarray) -> float:
    """(R/γ)², R = max_i ‖x′_i‖, γ = :func:`margin` of ``w_separating``.

    Novikoff (1962): from w = 0, with any η > 0 and any instance order, the perceptron makes
    at most (R/γ)² updates.  With g(0) = 0 a point on the boundary counts as a mistake for
    label 1 and as correct for label 0; in both mistake cases s·(w·x′) ≤ 0, which is all the
    proof uses.
    """
    gamma = margin(Xb, y, w_separating)
    R = float(np.max(np.linalg.norm(Xb, axis=1)))
    return (R / gamma) ** 2


def _check_order(order: np.ndarray, n_rows: int) -> np.ndarray:
    if not isinstance(order, np.ndarray) or order.ndim != 1 or not np.issubdtype(order.dtype, np.integer):
        raise ValueError(f"order: expected a 1-D integer numpy array of instance indices, got {order!r}")
    if order.size == 0:
        raise ValueError("order: expected at least one index, got none")
    if np.any(order < 0) or np.any(order >= n_rows):
        raise ValueError(f"order: expected indices in [0, {n_rows}), got {order.min()}…{order.max()}")
    return order


def _run(Xb: np.ndarray, y: np.ndarray, weights: np.ndarray, mistakes: np.ndarray) -> PerceptronRun:
    correct = np.all(heaviside(weights @ Xb.T) == y, axis=1)
    hits = np.flatnonzero(correct)
    return PerceptronRun(weights, mistakes, int(hits[0]) if hits.size else None)
