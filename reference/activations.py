"""Scalar nonlinearities, each written so that no |z| overflows or warns.

All functions are elementwise on float64 arrays and pure.
"""

from __future__ import annotations

import numpy as np


def heaviside(z: np.ndarray) -> np.ndarray:
    """g(z) = 1 if z > 0 else 0  (so g(0) = 0, the notebook's convention); g' = 0 almost everywhere.

    Written as ``np.heaviside(z, 0.0)``, exactly as the notebook calls it.
    """
    return np.heaviside(z, 0.0)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1/(1+e^{-z});  σ'(z) = σ(z)(1−σ(z)).

    Evaluated through e = e^{-|z|} ∈ (0, 1]: σ = 1/(1+e) for z ≥ 0 and e/(1+e) for z < 0,
    so exp never sees a positive argument and σ(−z) = 1 − σ(z) holds to rounding.
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(z: np.ndarray) -> np.ndarray:
    """σ'(z) = σ(z)(1−σ(z)) = σ(z)σ(−z); the second form keeps full relative precision in both tails."""
    return sigmoid(z) * sigmoid(-z)


def softplus(z: np.ndarray) -> np.ndarray:
    """softplus(z) = log(1+e^{z});  softplus'(z) = σ(z).

    ``np.logaddexp(0, z)`` = max(0, z) + log1p(e^{-|z|}): exact for large |z|, no overflow.
    """
    return np.logaddexp(0.0, z)


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """log σ(z) = −softplus(−z);  (log σ)'(z) = 1 − σ(z) = σ(−z)."""
    return -softplus(-z)


def bce_with_logits(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ℓ(z, y) = −[y log σ(z) + (1−y) log σ(−z)] = softplus(z) − y·z;  ∂ℓ/∂z = σ(z) − y.

    The form torch.nn.BCEWithLogitsLoss and tf.nn.sigmoid_cross_entropy_with_logits compute;
    elementwise, unreduced.
    """
    return softplus(z) - y * z
