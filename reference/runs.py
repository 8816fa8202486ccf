"""What a training run returns: one type per kind of run, shared by the reference and every implementation.

A run of ``steps`` updates keeps the parameters at t = 0 … steps (``steps + 1`` rows: the start,
then one row per update) and the loss at t = 0 … steps − 1 (``steps`` entries: each step's
loss is computed at the parameters it starts from, as a loop that logs before it updates
reports it).  ``final`` is the parameters after the last step and ``at(t)`` those after t steps.

- :class:`Trajectory`: one weight vector (logistic regression, w with its bias last).
- :class:`MLPTrajectory`: one net in the canonical layout (W₁, b₁, …, W_L, b_L).
- :class:`BatchedRun`: B nets trained side by side; only the final parameters are kept (the
  point of batched training is B nets × steps without storing every step), so ``at(t)`` exists
  for t = steps alone, and ``net(b)`` picks one net.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Params = tuple[np.ndarray, ...]


def _step(t: int, steps: int) -> int:
    """t as an index into steps + 1 rows (negative t counts from the end, as for a sequence)."""
    if not -(steps + 1) <= t <= steps:
        raise IndexError(f"t: a run of {steps} steps has parameters at t = 0 … {steps}, got {t}")
    return t


@dataclass(frozen=True, eq=False)
class Trajectory:
    """``weights[t]``: w after t steps, (steps + 1, d); ``losses[t]``: l(``weights[t]``), (steps,)."""

    weights: np.ndarray
    losses: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.weights) - 1

    @property
    def final(self) -> np.ndarray:
        return self.weights[-1]

    def at(self, t: int) -> np.ndarray:
        return self.weights[_step(t, self.steps)]


@dataclass(frozen=True, eq=False)
class MLPTrajectory:
    """``params[k][t]``: parameter k (canonical layout) after t steps, (steps + 1, *shape); ``losses[t]``, (steps,)."""

    params: Params
    losses: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.params[0]) - 1

    @property
    def final(self) -> Params:
        return tuple(p[-1] for p in self.params)

    def at(self, t: int) -> Params:
        t = _step(t, self.steps)
        return tuple(p[t] for p in self.params)


@dataclass(frozen=True, eq=False)
class BatchedRun:
    """B nets trained side by side on the same data.

    ``params[k]``: parameter k (canonical layout) of every net after the last step, the net as
    leading axis, e.g. W₁ (B, in, out) and b₁ (B, out); ``losses[t, b]``: net b's loss at the
    start of step t, (steps, B).
    """

    params: Params
    losses: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.losses)

    @property
    def final(self) -> Params:
        return self.params

    def at(self, t: int) -> Params:
        """The parameters after t steps: kept for t = steps only (see the module docstring)."""
        if _step(t, self.steps) not in (self.steps, -1):
            raise IndexError(f"t: a batched run keeps only its final parameters (t = {self.steps}), got {t}")
        return self.params

    def net(self, b: int) -> Params:
        """Net b's final parameters, in the single-net layout."""
        return tuple(p[b] for p in self.params)


__all__ = ["BatchedRun", "MLPTrajectory", "Params", "Trajectory"]
