"""Logistic regression: one sigmoid unit on x′ = (x, 1), trained by gradient descent.

Loss is the summed negative log-likelihood in its stable BCE-with-logits form.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .activations import bce_with_logits, sigmoid, softplus
from .runs import Trajectory


def predict_proba(Xb: np.ndarray, w: np.ndarray) -> np.ndarray:
    """p = σ(X′w)."""
    Xb, w = _validate.inputs_and_weights(Xb, w)
    return sigmoid(Xb @ w)


def loss(Xb: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """l(w) = Σ_i softplus(z_i) − y_i z_i,  z = X′w  (= −Σ log p(y_i | x_i))."""
    return loss_and_grad(Xb, y, w)[0]


def loss_and_grad(Xb: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """l(w) = Σ softplus(z) − y·z;  ∇l(w) = X′ᵀ (σ(z) − y),  z = X′w."""
    Xb, w = _validate.inputs_and_weights(Xb, w)
    y = _validate.labels("y", y, Xb.shape[0])
    z = Xb @ w
    return float(np.sum(bce_with_logits(z, y))), Xb.T @ (sigmoid(z) - y)


def single_example_loss_and_grad(x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """l_x(w) = −log σ(w·x) = softplus(−w·x);  ∇l_x(w) = −σ(−w·x) x.

    The notebook's "Automatic differentiation" section: at x = (1, 1, 1), w = (1, 1, −1.5)
    it prints 0.47407698418010663 and −0.37754067 in each component.
    """
    x = _validate.float_array("x", x, 1)
    w = _validate.float_array("w", w, 1, (x.shape[0],))
    z = x @ w
    return float(softplus(-z)), -sigmoid(-z) * x


def gradient_descent(Xb: np.ndarray, y: np.ndarray, w0: np.ndarray, eta: float, steps: int) -> Trajectory:
    """w ← w − η ∇l(w), ``steps`` times from ``w0``.

    The notebook's cell 58 runs this on NAND from w = 0 for 100 steps with η = 1: it defines
    ``eta = 0.5`` but its update ``w -= np.dot((y_pred - y), x)`` never uses it.
    """
    Xb, w0 = _validate.inputs_and_weights(Xb, w0, "w0")
    y = _validate.labels("y", y, Xb.shape[0])
    eta = _validate.positive("eta", eta)
    steps = _validate.count("steps", steps)
    weights = np.empty((steps + 1, w0.shape[0]))
    losses = np.empty(steps)
    weights[0] = w0
    for t in range(steps):
        z = Xb @ weights[t]
        losses[t] = np.sum(bce_with_logits(z, y))
        weights[t + 1] = weights[t] - eta * (Xb.T @ (sigmoid(z) - y))
    return Trajectory(weights, losses)


def as_mlp(Xb: np.ndarray, w: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """The unit as the one-layer net it is: W = w[:−1] (d−1, 1), b = w[−1:] on X = X′ without its bias column.

    σ(X′w) = σ(XW + b) exactly (slicing, no arithmetic), so the net's loss, gradients and
    training are the unit's; for layers that carry their own bias (nn.Linear, Dense) and for
    the error analysis of :mod:`gatespec.conformance.spec.tolerances`.  ValueError unless the last
    column of ``Xb`` is the bias column of ones.
    """
    if np.ndim(Xb) != 2 or not np.all(Xb[:, -1] == 1.0):
        raise ValueError("Xb: expected a 2-d array whose last column is the bias column of ones")
    return (np.ascontiguousarray(w[:-1, None]), w[-1:].copy()), np.ascontiguousarray(Xb[:, :-1])


def from_mlp(W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Inverse of :func:`as_mlp` on the last axes: W (…, d, 1) and b (…, 1) joined as w (…, d + 1)."""
    return np.concatenate([W[..., 0], b], axis=-1)
