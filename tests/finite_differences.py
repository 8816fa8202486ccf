"""Central differences in float64: the third, independent way of computing a gradient."""

from collections.abc import Callable

import numpy as np

from gatespec.conformance.tolerances import finite_difference_step


def central_gradient(f: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """∂f/∂θ_i ≈ (f(θ + h_i e_i) − f(θ − h_i e_i)) / 2h_i, error O(h²) + O(ε/h)."""
    h = finite_difference_step(theta)
    grad = np.empty_like(theta)
    for i in np.ndindex(theta.shape):
        up, down = theta.copy(), theta.copy()
        up[i] += h[i]
        down[i] -= h[i]
        # The step actually taken, not the one asked for: θ + h is rounded.
        grad[i] = (f(up) - f(down)) / (up[i] - down[i])
    return grad
